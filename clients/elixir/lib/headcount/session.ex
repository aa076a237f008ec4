# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount.Session do
  @moduledoc """
  One gateway's session with a headcount appliance: a GenServer owning a
  `:gen_udp` socket (binary, `{active, N}`), the gateway's truth (its users,
  in ETS), the batches being filled (EVENTS, PLACE), the sequence counter
  and the history of sent sequenced datagrams (resent byte for byte on a
  NACK), pending PLACEs, snapshots, heartbeats both ways, the membership
  digest, and its side of authentication (its key, the control counter,
  the replay window over the appliance's reply counters).  It is
  libheadcount (gateway/hc_gw_session.c) in one BEAM process; see
  docs/elixir.md.

  Users belong to processes: the process that called `join/4` (or
  `join_many/2`) for a user owns that user, is monitored, and gets the
  user's MOVE directives and admission answers as messages:

    * `{:headcount_move, session, %{user:, from:, to:, directive:, pool:, attempt:}}`
    * `{:headcount_assign, session, %{user:, request:, status:, room:, refused:, pool:}}`
      (`status`: `:placed | :new_topic | :no_room | :timeout | :full | :superseded`;
      PLACE answers go to the process that called `place/3`)

  If the owner exits, its users leave (a Phoenix channel process ending).
  The subscriber (option `:subscriber`) gets
  `{:headcount_state, session, state}` with `state` one of `:connected`,
  `:lost`, `:appliance_restarted`, `:id_conflict`.

  A datagram received is acted on only after, in this order: it came from
  the appliance's address and port (`rx_wrong_source`), it is a
  well-formed A->G datagram for us (`rx_bad`), its tag is good
  (`rx_bad_auth`), its appliance incarnation is not older than the one we
  know (`rx_stale`; with `:fence_appliance`, not older than the newest ever
  heard; ASSIGN and MOVE records of a refused datagram are also counted in
  `stale_directives`), and its reply counter is fresh (`rx_replayed`).
  Each failure is counted, never raised.
  """
  use GenServer
  import Bitwise
  alias HeadCount.{Clock, Proto, Replay}
  require Logger

  @type session :: GenServer.server()
  @mask32 0xFFFFFFFF
  @mask64 0xFFFFFFFFFFFFFFFF
  @events_per Proto.events_per()
  # appliance incarnations replaced: their windows kept
  @appl_past 16

  # --------------------------------------------------------------- API --

  @doc """
  Options:
    * `:appliances` - `["host:port", ...]` (IPv4, `[IPv6]:port`, or a host
      name; port 7100 if absent).  The first is used; the others are
      accepted for a standby appliance later (not used yet).
    * `:gateway_id` - 1..65535, unique per appliance.
    * `:key` - 16 bytes (binary, or 32 hex digits) and `:key_slot` (0/1);
      or `:no_auth` `true` (explicit, as libheadcount's insecure_no_auth).
    * `:incarnation` - 0/absent: from the clock, larger than any before.
    * `:flush_us` (1000), `:heartbeat_ms` (100), `:place_timeout_ms`
      (250), `:place_retries` (8), `:history` (16384), `:lost_ms` (1000:
      no datagram accepted for this long is `:lost`).
    * `:fence_appliance` (false) - an HA pair behind one address (the
      service address keepalived moves, docs/scaling.md): never accept an
      appliance incarnation older than the newest heard, however long that
      one is silent, so a demoted master's ASSIGNs and MOVEs are never
      obeyed (counted in `stale_directives`).  Without it an older
      incarnation is taken as a restart once the current one has been
      silent for 3 s (an appliance whose clock stepped back).  As
      libheadcount's `fence_appliance` (API 5); refused with two or more
      `:appliances`.
    * `:max_room` (none) - the highest room id the appliance takes: its
      `--max-rooms` less one, 262143 on its default.  A join above it is
      `{:error, {:bad_room, ...}}`: the appliance drops a datagram holding
      one whole, every resend and every snapshot naming the user.  As
      libheadcount's `max_room` (API 7).
    * `:subscriber` - a pid told the session's state changes.
    * `:name` - registered name (GenServer option).
  """
  def start_link(opts) do
    {gen, opts} = Keyword.split(opts, [:name])
    GenServer.start_link(__MODULE__, opts, gen)
  end

  def child_spec(opts) do
    %{
      id: Keyword.get(opts, :id, __MODULE__),
      start: {__MODULE__, :start_link, [opts]},
      shutdown: 5000
    }
  end

  # Calls wait as long as the session takes (it may be sending a snapshot
  # of millions of users): a timeout would exit the caller while the
  # session still carries the request out (a channel told its join failed
  # with the user joined).  A session that dies ends the call all the same.
  @call :infinity

  # join_many / leave_many hand the session their list in slices of this
  # many: between two slices it handles its mailbox (heartbeats, answers).
  # One call of millions of users that change nothing (joins where they
  # are, leaves of users not here) sent no datagram for seconds, and the
  # appliance declared the gateway dead and dropped all its users.
  @slice 4096

  @doc "The user is in `room` of `pool` now (a move if elsewhere); the caller owns the user."
  def join(s, user, room, pool \\ 0), do: GenServer.call(s, {:join, [{user, room, pool}]}, @call)

  @doc """
  Many joins (`[{user, room, pool}]`), owned by the caller: the fast path.
  `:ok`, or `{:error, {:bad_room, bad}}` with every entry refused, in order.
  Beyond 4,096 entries not one step: the session handles its mailbox
  between slices (an exit of the users' former owner among them: its
  users not yet taken over leave, and the later slices join them anew).
  """
  def join_many(s, list) when is_list(list) do
    sliced(s, :join, list, [], fn
      :ok, bad -> bad
      {:error, {:bad_room, more}}, bad -> Enum.reverse(more, bad)
    end)
    |> case do
      [] -> :ok
      bad -> {:error, {:bad_room, Enum.reverse(bad)}}
    end
  end

  def join_many(_s, _), do: {:error, :badarg}

  @doc """
  The user left: a LEAVE if the caller owns the user (another process's
  user stays: a channel that ended after the user reconnected through a
  newer one). `:ok`, `{:error, :not_here}` or `{:error, :not_owner}`.
  """
  def leave(s, user), do: GenServer.call(s, {:leave, [user]}, @call) |> single()

  @doc "Many leaves of the caller's users: `:ok` or `{:error, missing}` (`{:not_owner, user}` for another's)."
  def leave_many(s, users) when is_list(users) do
    sliced(s, :leave, users, [], fn
      :ok, missing -> missing
      {:error, more}, missing -> Enum.reverse(more, missing)
    end)
    |> case do
      [] -> :ok
      missing -> {:error, Enum.reverse(missing)}
    end
  end

  def leave_many(_s, _), do: {:error, :badarg}

  # list to the session @slice entries a call, each answer folded into acc
  # (an improper list's tail goes with the last slice: the session says
  # it is bad, as it says of any entry)
  defp sliced(s, what, list, acc, fold) do
    {part, rest} = take_slice(list, @slice, [])
    acc = fold.(GenServer.call(s, {what, part}, @call), acc)
    if rest == [], do: acc, else: sliced(s, what, rest, acc, fold)
  end

  defp take_slice([x | rest], n, part) when n > 0, do: take_slice(rest, n - 1, [x | part])
  defp take_slice(rest, _n, part) when is_list(rest), do: {Enum.reverse(part), rest}
  defp take_slice(tail, _n, part), do: {:lists.reverse(part, tail), []}

  @doc """
  Obey a MOVE directive: the user joins `to` if the caller still owns
  the user and the user is still in `from` (libheadcount checks that
  as the MOVE arrives; here the owner acts later, when the user may
  have moved on, or been forgotten: a join would move them back, or
  begin a new session that takes them from another gateway). The user
  keeps its own pool (`pool` is not used: a MOVE never crosses pools).
  `:ok`, `{:error, :stale}`, or `{:error, {:bad_room, ...}}` for a `to`
  beyond `:max_room`.
  """
  def move(s, user, from, to, pool \\ 0),
    do: GenServer.call(s, {:move, user, from, to, pool}, @call)

  @doc "Ask where a new user should go: `{:ok, request_id}`; the answer comes as a message."
  def place(s, user, pool \\ 0)
      when is_integer(user) and user in 0..0xFFFFFFFFFFFFFFFF and is_integer(pool) and
             pool in 0..0xFFFF,
      do: GenServer.call(s, {:place, user, pool}, @call)

  @doc "Send what is batched now."
  def flush(s), do: GenServer.call(s, :flush, @call)

  @doc "The user's `{room, pool}` here, or nil."
  def room_of(s, user), do: GenServer.call(s, {:room_of, user}, @call)

  @doc "Every user here `[{user, room, pool}]` (sorted) and the membership digest."
  def dump(s) do
    # (sorted here, in the caller: the session only gathers them)
    {members, digest} = GenServer.call(s, :dump, @call)
    {Enum.sort(members), digest}
  end

  @doc "Counters and state (a map)."
  def stats(s), do: GenServer.call(s, :stats, @call)

  @doc "The local UDP port."
  def local_port(s), do: GenServer.call(s, :local_port, @call)

  @doc "`:clean`: flush and say SHUTDOWN (users dropped at once); `:crash`: just stop."
  def close(s, how \\ :clean) when how in [:clean, :crash],
    do: GenServer.call(s, {:close, how}, @call)

  defp single(:ok), do: :ok
  defp single({:error, [{:not_owner, _} | _]}), do: {:error, :not_owner}
  defp single({:error, [_ | _]}), do: {:error, :not_here}

  # ------------------------------------------------------------- state --

  defstruct [
    :sock,
    :ip,
    :port,
    :standby,
    :gw,
    :ginc,
    :key,
    :slot,
    :keys,
    :subscriber,
    :flush_ms,
    :hb_ms,
    :place_timeout_ms,
    :place_retries,
    :lost_ms,
    :fence,
    :max_room,
    :users,
    :owned,
    :ev_timer,
    :place_timer,
    :lost_timer,
    owners: %{},
    ainc: 0,
    anewest: 0,
    # appliance incarnations replaced by another (the last @appl_past),
    # each {inc, replay}: the window it had then
    apast: [],
    aheard: 0,
    replay: {0, 0},
    seq: 0,
    ctl: 0,
    digest: 0,
    nusers: 0,
    ev: [],
    n_ev: 0,
    pl: [],
    n_pl: 0,
    hist: %{},
    hist_cap: 16384,
    pending: %{},
    next_req: 0,
    snap_last_seq: 0,
    snap_sent_at: nil,
    snap_owed: false,
    snap_id: 0,
    mismatches: 0,
    digest_snap_at: nil,
    settling_run: 0,
    acked: 0,
    appliance_users: 0,
    appliance_digest: 0,
    state: :connecting,
    joins: 0,
    leaves: 0,
    st: %{}
  ]

  @stats ~w(event_datagrams retransmits nacks snapshots snapshot_members resync_requests
            appliance_restarts places place_resends place_timeouts assigns new_topics
            moves moves_ignored heartbeats_sent heartbeats_received rx_bad send_errors
            digest_mismatches digest_snapshots rx_bad_auth rx_wrong_source rx_stale
            rx_replayed id_conflicts refusals superseded owner_exits stale_directives
            acks_ahead)a

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)

    with {:ok, [first | rest]} <- appliances(opts),
         {:ok, ip, port} <- resolve(first),
         {:ok, gw} <- gateway_id(opts),
         {:ok, key, slot} <- key(opts),
         {:ok, hist} <- history(opts),
         {:ok, fence} <- fence(opts, length(rest) + 1),
         {:ok, max_room} <- max_room(opts),
         {:ok, inc} <- incarnation(opts),
         {:ok, sock} <- open(ip) do
      inc = if inc == 0, do: Clock.incarnation(), else: inc

      s = %__MODULE__{
        sock: sock,
        ip: ip,
        port: port,
        standby: rest,
        gw: gw,
        ginc: inc,
        key: key,
        slot: slot,
        keys: if(key, do: %{slot => key}, else: %{}),
        subscriber: Keyword.get(opts, :subscriber),
        flush_ms: div(Keyword.get(opts, :flush_us, 1000) + 999, 1000),
        hb_ms: max(1, Keyword.get(opts, :heartbeat_ms, 100)),
        place_timeout_ms: max(1, Keyword.get(opts, :place_timeout_ms, 250)),
        place_retries: Keyword.get(opts, :place_retries, 8),
        lost_ms: Keyword.get(opts, :lost_ms, 1000),
        fence: fence,
        max_room: max_room,
        hist_cap: hist,
        # a balanced tree, not a hash table: ETS hashes a key with the
        # VM's unsalted internal hash, so user ids chosen to collide (users
        # pick their ids in some services) would make every lookup walk
        # one bucket; a tree's cost is O(log n) whatever the ids
        users: :ets.new(:hc_users, [:ordered_set, :protected]),
        owned: :ets.new(:hc_owned, [:ordered_set, :protected]),
        st: Map.new(@stats, &{&1, 0}),
        aheard: now()
      }

      # every incarnation starts by stating its (empty) membership:
      # sequence 1 is a snapshot, the appliance's reset point
      s = s |> send_snapshot() |> send_heartbeat(0)
      Process.send_after(self(), :heartbeat, s.hb_ms)
      {:ok, lost_check_before_tick(s)}
    else
      {:error, why} -> {:stop, why}
    end
  end

  defp appliances(opts) do
    case Keyword.get(opts, :appliances, List.wrap(Keyword.get(opts, :appliance))) do
      [_ | _] = l -> {:ok, l}
      _ -> {:error, "need an appliance address (:appliances)"}
    end
  end

  # (one newest incarnation for every address: a standby started before
  # the first would be refused as older, for good)
  defp fence(opts, n_appliances) do
    case Keyword.get(opts, :fence_appliance, false) do
      true when n_appliances > 1 ->
        {:error, "fence_appliance is for an HA pair behind one address: give one appliance address"}

      f when is_boolean(f) ->
        {:ok, f}

      _ ->
        {:error, "fence_appliance must be true or false"}
    end
  end

  # (0 or none: from the clock; a value past 32 bits is refused, not cut
  # to its low bits: 2^32 would be 0, which the appliance drops)
  defp incarnation(opts) do
    case Keyword.get(opts, :incarnation, 0) do
      nil -> {:ok, 0}
      i when is_integer(i) and i >= 0 and i <= @mask32 -> {:ok, i}
      _ -> {:error, "incarnation must be 0..2^32-1 (0: from the clock)"}
    end
  end

  defp max_room(opts) do
    case Keyword.get(opts, :max_room, @mask32) do
      m when is_integer(m) and m >= 1 and m <= @mask32 -> {:ok, m}
      _ -> {:error, "max_room must be 1..2^32-1"}
    end
  end

  defp gateway_id(opts) do
    case Keyword.get(opts, :gateway_id) do
      g when is_integer(g) and g in 1..65535 -> {:ok, g}
      _ -> {:error, "need a gateway id (1..65535)"}
    end
  end

  defp key(opts) do
    slot = Keyword.get(opts, :key_slot, 0)

    case {Keyword.get(opts, :key), Keyword.get(opts, :no_auth, false)} do
      {_, _} when slot not in [0, 1] ->
        {:error, "key_slot must be 0 or 1"}

      {nil, true} ->
        {:ok, nil, 0}

      {nil, false} ->
        {:error, "no key: give :key (16 bytes) or :no_auth true"}

      {_, true} ->
        {:error, "a key and no_auth: set one or the other"}

      {<<_::128>> = k, false} ->
        {:ok, k, slot}

      {hex, false} when is_binary(hex) and byte_size(hex) == 32 ->
        case Base.decode16(hex, case: :mixed) do
          {:ok, k} -> {:ok, k, slot}
          :error -> {:error, "the key must be 16 bytes or 32 hex digits"}
        end

      _ ->
        {:error, "the key must be 16 bytes or 32 hex digits"}
    end
  end

  defp history(opts) do
    h = Keyword.get(opts, :history, 16384)
    if is_integer(h) and h >= 64, do: {:ok, h}, else: {:error, "history must be >= 64"}
  end

  defp open(ip) do
    family = if tuple_size(ip) == 8, do: :inet6, else: :inet

    :gen_udp.open(0, [family, :binary, active: 100, recbuf: 8 <<< 20, sndbuf: 8 <<< 20])
  end

  @doc false
  # "host", "host:port", "[v6]:port", "v6" -> {:ok, ip, port}
  def resolve(addr) when is_binary(addr) do
    {host, port} =
      case Regex.run(~r/^\[(.+)\](?::(\d+))?$/, addr) do
        [_, h] ->
          {h, "7100"}

        [_, h, p] ->
          {h, p}

        nil ->
          case String.split(addr, ":") do
            [h] -> {h, "7100"}
            [h, p] -> {h, p}
            # a bare IPv6 address
            _ -> {addr, "7100"}
          end
      end

    with {p, ""} when p in 0..65535 <- Integer.parse(port),
         {:ok, ip} <- getaddr(String.to_charlist(host)) do
      {:ok, ip, p}
    else
      _ -> {:error, "cannot resolve the appliance address #{inspect(addr)}"}
    end
  end

  defp getaddr(h) do
    case :inet.getaddr(h, :inet) do
      {:ok, ip} -> {:ok, ip}
      _ -> :inet.getaddr(h, :inet6)
    end
  end

  defp now, do: System.monotonic_time(:millisecond)

  defp count(s, k, n \\ 1), do: %{s | st: Map.update!(s.st, k, &(&1 + n))}

  # ------------------------------------------------------------ calls --

  @impl true
  def handle_call({:join, list}, {pid, _}, s) do
    case join_all(list, pid, s) do
      {s, []} -> {:reply, :ok, s}
      {s, bad} -> {:reply, {:error, {:bad_room, Enum.reverse(bad)}}, s}
    end
  end

  def handle_call({:leave, users}, {pid, _}, s) do
    {s, missing} = leave_all(users, pid, s)
    {:reply, if(missing == [], do: :ok, else: {:error, Enum.reverse(missing)}), s}
  end

  def handle_call({:move, user, from, to, _pool}, {pid, _}, s) do
    case :ets.lookup(s.users, user) do
      # in the user's own pool (a MOVE never crosses pools; the pool it
      # names is the room's as the appliance knows it: its first pool's
      # for one it does not know), as libheadcount and Node obey one
      [{_, ^from, own_pool, _, ^pid}] ->
        case join_all([{user, to, own_pool}], pid, s) do
          {s, []} -> {:reply, :ok, s}
          {s, bad} -> {:reply, {:error, {:bad_room, bad}}, s}
        end

      _ ->
        # (the MOVE was counted in moves when it came)
        {:reply, {:error, :stale}, s}
    end
  end

  def handle_call({:place, user, pool}, {pid, _}, s) do
    if map_size(s.pending) >= 65536 do
      {:reply, {:error, :busy}, s}
    else
      id = s.next_req + 1 &&& @mask32
      id = if id == 0, do: 1, else: id
      p = {user, pool, 0, now() + s.place_timeout_ms, pid}
      s = %{s | next_req: id, pending: Map.put(s.pending, id, p)} |> count(:places)
      s = s |> place_record(user, id, pool) |> arm_place_timer()
      {:reply, {:ok, id}, s}
    end
  end

  def handle_call(:flush, _from, s), do: {:reply, :ok, s |> flush_events() |> flush_places()}

  # (integers only: the ordered set takes 1.0 for 1)
  def handle_call({:room_of, user}, _from, s) when not is_integer(user), do: {:reply, nil, s}

  def handle_call({:room_of, user}, _from, s) do
    case :ets.lookup(s.users, user) do
      [{_, room, pool, _, _}] -> {:reply, {room, pool}, s}
      [] -> {:reply, nil, s}
    end
  end

  def handle_call(:dump, _from, s) do
    members = :ets.foldl(fn {u, r, p, _, _}, acc -> [{u, r, p} | acc] end, [], s.users)
    {:reply, {members, s.digest}, s}
  end

  def handle_call(:stats, _from, s) do
    st =
      Map.merge(s.st, %{
        joins: s.joins,
        leaves: s.leaves,
        users: s.nusers,
        sequence: s.seq,
        acked: s.acked,
        appliance_users: s.appliance_users,
        appliance_digest: s.appliance_digest,
        appliance_incarnation: s.ainc,
        fence_appliance: s.fence,
        incarnation: s.ginc,
        state: s.state,
        digest: s.digest,
        pending_places: map_size(s.pending)
      })

    {:reply, st, s}
  end

  def handle_call(:local_port, _from, s), do: {:reply, :inet.port(s.sock), s}

  def handle_call({:close, how}, _from, s) do
    s = goodbye(s, how)
    {:stop, :normal, :ok, %{s | sock: nil}}
  end

  defp goodbye(%{sock: nil} = s, _), do: s

  defp goodbye(s, :clean) do
    s = s |> flush_events() |> flush_places() |> send_heartbeat(Proto.hb_shutdown())
    :gen_udp.close(s.sock)
    s
  end

  defp goodbye(s, :crash) do
    :gen_udp.close(s.sock)
    s
  end

  @impl true
  def terminate(_reason, s) do
    # stopped by its supervisor (or anything else): a clean goodbye, so
    # the appliance drops our users at once rather than after its timeout
    goodbye(s, :clean)
    :ok
  end

  # ---------------------------------------------------------- members --

  # The fast path (join_many, leave_many): what every event changes (the
  # batch, its count, the digest, the counters) rides in arguments and is
  # written back into the state when a datagram fills and at the end (a
  # struct update per event would copy the whole state each time).
  defp join_all([], _pid, s), do: {s, []}

  defp join_all(list, pid, s) do
    s =
      if Map.has_key?(s.owners, pid),
        do: s,
        else: %{s | owners: Map.put(s.owners, pid, Process.monitor(pid))}

    jl(list, pid, s.users, s.owned, s, s.ev, s.n_ev, s.digest, 0, 0, [])
  end

  defp jl([], _pid, _t, _o, s, ev, n, d, j, nu, bad),
    do: {arm_if(%{s | ev: ev, n_ev: n, digest: d, joins: s.joins + j, nusers: s.nusers + nu}), bad}

  defp jl([{user, room, pool} | rest], pid, t, o, s, ev, n, d, j, nu, bad)
       when is_integer(user) and user >= 0 and user <= @mask64 and is_integer(room) and
              room > 0 and room <= :erlang.map_get(:max_room, s) and is_integer(pool) and
              pool >= 0 and pool <= 0xFFFF do
    case :ets.lookup(t, user) do
      [{_, ^room, _, _, ^pid}] ->
        jl(rest, pid, t, o, s, ev, n, d, j, nu, bad)

      [{_, ^room, p, session, old}] ->
        # where they are: only the owner changes
        :ets.insert(t, {user, room, p, session, pid})
        jl(rest, pid, t, o, reown(s, user, old, pid), ev, n, d, j, nu, bad)

      [{_, was, _, session, old}] ->
        # a move keeps the session
        :ets.insert(t, {user, room, pool, session, pid})
        s = if old == pid, do: s, else: reown(s, user, old, pid)
        d = d - Proto.member_digest(user, was) + Proto.member_digest(user, room) &&& @mask64
        ev = [Proto.event(user, room, 1, pool, session) | ev]
        jl_emit(rest, pid, t, o, s, ev, n + 1, d, j + 1, nu, bad)

      [] ->
        # a user new here begins a session
        session = Clock.session_stamp()
        :ets.insert(t, {user, room, pool, session, pid})
        :ets.insert(o, {{pid, user}})
        d = d + Proto.member_digest(user, room) &&& @mask64
        ev = [Proto.event(user, room, 1, pool, session) | ev]
        jl_emit(rest, pid, t, o, s, ev, n + 1, d, j + 1, nu + 1, bad)
    end
  end

  defp jl([x | rest], pid, t, o, s, ev, n, d, j, nu, bad),
    do: jl(rest, pid, t, o, s, ev, n, d, j, nu, [x | bad])

  # (an improper list's tail: bad too, not a crash of the session)
  defp jl(tail, pid, t, o, s, ev, n, d, j, nu, bad),
    do: jl([], pid, t, o, s, ev, n, d, j, nu, [tail | bad])

  defp jl_emit(rest, pid, t, o, s, ev, @events_per, d, j, nu, bad) do
    s =
      flush_events(%{
        s
        | ev: ev,
          n_ev: @events_per,
          digest: d,
          joins: s.joins + j,
          nusers: s.nusers + nu
      })

    jl(rest, pid, t, o, s, [], 0, d, 0, 0, bad)
  end

  defp jl_emit(rest, pid, t, o, s, ev, n, d, j, nu, bad),
    do: jl(rest, pid, t, o, s, ev, n, d, j, nu, bad)

  # pid: the caller, whose users alone leave; :any for an owner's exit
  defp leave_all(users, pid, s),
    do: ll(users, pid, s.users, s.owned, s, s.ev, s.n_ev, s.digest, 0, [], [])

  defp ll([], _pid, _t, _o, s, ev, n, d, l, miss, touched) do
    s = %{s | ev: ev, n_ev: n, digest: d, leaves: s.leaves + l, nusers: s.nusers - l}
    {Enum.reduce(Enum.uniq(touched), s, &release/2) |> arm_if(), miss}
  end

  # (integers only: the ordered set takes 1.0 for 1, and a float id would
  # reach the digest's integer arithmetic)
  defp ll([u | rest], pid, t, o, s, ev, n, d, l, miss, touched) when not is_integer(u),
    do: ll(rest, pid, t, o, s, ev, n, d, l, [u | miss], touched)

  defp ll([u | rest], pid, t, o, s, ev, n, d, l, miss, touched) do
    case :ets.lookup(t, u) do
      [{_, _, _, _, owner}] when pid != :any and owner != pid ->
        ll(rest, pid, t, o, s, ev, n, d, l, [{:not_owner, u} | miss], touched)

      [{_, room, pool, session, owner}] ->
        :ets.delete(t, u)
        :ets.delete(o, {owner, u})
        touched = if match?([^owner | _], touched), do: touched, else: [owner | touched]
        d = d - Proto.member_digest(u, room) &&& @mask64
        ev = [Proto.event(u, room, 2, pool, session) | ev]

        if n + 1 == @events_per do
          s =
            flush_events(%{
              s
              | ev: ev,
                n_ev: @events_per,
                digest: d,
                leaves: s.leaves + l + 1,
                nusers: s.nusers - l - 1
            })

          ll(rest, pid, t, o, s, [], 0, d, 0, miss, touched)
        else
          ll(rest, pid, t, o, s, ev, n + 1, d, l + 1, miss, touched)
        end

      [] ->
        ll(rest, pid, t, o, s, ev, n, d, l, [u | miss], touched)
    end
  end

  # (an improper list's tail: missing, not a crash of the session)
  defp ll(tail, pid, t, o, s, ev, n, d, l, miss, touched),
    do: ll([], pid, t, o, s, ev, n, d, l, [tail | miss], touched)

  # pid owns no user any more: stop watching it
  defp release(pid, s) do
    case :ets.next(s.owned, {pid, -1}) do
      {^pid, _} ->
        s

      _ ->
        {ref, owners} = Map.pop(s.owners, pid)
        if ref, do: Process.demonitor(ref, [:flush])
        %{s | owners: owners}
    end
  end

  defp arm_if(%{n_ev: 0} = s), do: s
  defp arm_if(s), do: arm_flush(s)

  # remove the user from our table (no event)
  defp forget(s, user, room, owner) do
    :ets.delete(s.users, user)
    s = disown(s, user, owner)
    %{s | nusers: s.nusers - 1, digest: Proto.digest_sub(s.digest, Proto.member_digest(user, room))}
  end

  defp own(s, user, pid) do
    :ets.insert(s.owned, {{pid, user}})

    if Map.has_key?(s.owners, pid),
      do: s,
      else: %{s | owners: Map.put(s.owners, pid, Process.monitor(pid))}
  end

  defp disown(s, user, pid) do
    :ets.delete(s.owned, {pid, user})
    release(pid, s)
  end

  defp reown(s, user, old, new), do: s |> disown(user, old) |> own(user, new)

  # --------------------------------------------------------- batching --

  defp arm_flush(%{ev_timer: nil} = s) do
    if s.flush_ms == 0 do
      send(self(), :flush_timer)
      %{s | ev_timer: :now}
    else
      %{s | ev_timer: Process.send_after(self(), :flush_timer, s.flush_ms)}
    end
  end

  defp arm_flush(s), do: s

  defp flush_events(%{n_ev: 0} = s), do: s

  defp flush_events(s) do
    s = send_sequenced(s, Proto.events(), s.n_ev, Enum.reverse(s.ev))
    count(%{s | ev: [], n_ev: 0}, :event_datagrams)
  end

  defp place_record(s, user, id, pool) do
    s = if s.n_pl == Proto.places_per(), do: flush_places(s), else: s
    s = if s.n_pl == 0, do: arm_flush(s), else: s
    %{s | pl: [Proto.place_rec(user, id, pool) | s.pl], n_pl: s.n_pl + 1}
  end

  defp flush_places(%{n_pl: 0} = s), do: s

  defp flush_places(s) do
    {s, ctl} = next_ctl(s)

    d =
      Proto.datagram(
        Proto.place(),
        0,
        s.gw,
        s.n_pl,
        s.ginc,
        s.ainc,
        ctl,
        Enum.reverse(s.pl),
        s.key,
        s.slot
      )

    %{wire(s, d) | pl: [], n_pl: 0}
  end

  defp next_ctl(s) do
    c = s.ctl + 1 &&& @mask32
    c = if c == 0, do: 1, else: c
    {%{s | ctl: c}, c}
  end

  # ---------------------------------------------------------- sending --

  defp wire(%{sock: nil} = s, _d), do: s

  defp wire(s, d) do
    case :gen_udp.send(s.sock, s.ip, s.port, d) do
      :ok -> s
      # the appliance away, buffers full: NACKs and timers repair
      {:error, _} -> count(s, :send_errors)
    end
  end

  # number a sequenced datagram, keep it sealed in the history, send it
  defp send_sequenced(s, type, n, body) do
    seq = s.seq + 1 &&& @mask32
    seq = if seq == 0, do: 1, else: seq
    d = Proto.datagram_bin(type, 0, s.gw, n, s.ginc, s.ainc, seq, body, s.key, s.slot)
    old = seq - s.hist_cap &&& @mask32
    hist = s.hist |> Map.delete(old) |> Map.put(seq, d)
    wire(%{s | seq: seq, hist: hist}, d)
  end

  defp send_heartbeat(s, flags) do
    {s, ctl} = next_ctl(s)
    rec = Proto.heartbeat_rec(s.seq, s.nusers &&& @mask32, s.hb_ms, flags, s.digest)
    d = Proto.datagram(Proto.heartbeat(), 0, s.gw, 1, s.ginc, s.ainc, ctl, [rec], s.key, s.slot)
    wire(s, d) |> count(:heartbeats_sent)
  end

  # ---------------------------------------------------------- snapshot --

  # state the whole membership, after everything sent so far
  defp send_snapshot(s) do
    s = flush_events(s)
    per = Proto.members_per()
    total = s.nusers
    chunks = max(1, div(total + per - 1, per))
    # the history must hold the whole snapshot and what follows it
    s = %{s | hist_cap: max(s.hist_cap, 2 * chunks + 1024)}
    id = s.snap_id + 1 &&& @mask32

    members =
      :ets.foldl(fn {u, r, p, ses, _}, acc -> [Proto.member(u, r, p, ses) | acc] end, [], s.users)

    groups = if members == [], do: [[]], else: Enum.chunk_every(members, per)

    {s, _} =
      Enum.reduce(groups, {s, 0}, fn g, {s, i} ->
        body = [Proto.snapshot_prefix(id, i, chunks, total) | g]
        {send_sequenced(s, Proto.snapshot(), length(g), body), i + 1}
      end)

    %{s | snap_id: id, snap_last_seq: s.seq, snap_sent_at: now(), snap_owed: false}
    |> count(:snapshots)
    |> count(:snapshot_members, total)
  end

  # the newest snapshot is still on its way (sent recently, not acked).
  # (An acknowledgement of 0: none yet, as after a restart; in serial
  # order 0 comes after a last chunk past 2^31.)
  defp snapshot_in_flight?(s) do
    s.snap_sent_at != nil and (s.acked == 0 or Proto.seq_after(s.snap_last_seq, s.acked)) and
      now() - s.snap_sent_at < snapshot_young_ms(s)
  end

  defp snapshot_young_ms(s), do: 200 + 2 * s.hb_ms

  # send one unless the newest is still on its way
  defp want_snapshot(s), do: if(snapshot_in_flight?(s), do: s, else: send_snapshot(s))

  # A snapshot that must follow the newest even while it is on its way:
  # a new appliance incarnation's, and one the appliance asks for (RESYNC
  # other than GAP: it abandoned the one it was taking).  Not a second
  # time while the newest is on its way (in_flight; a new incarnation's
  # judged as before it changed): without keys anyone can name a new
  # incarnation, or ask, in every datagram, each costing the whole
  # membership.  Then it is owed, one at most, and sent once the newest
  # settles: acknowledged (a datagram handled) or old (a timer), as
  # libheadcount's want_snapshot_or_owe.
  defp want_snapshot_or_owe(s, false), do: send_snapshot(s)

  # (one timer while owed: its time depends on snap_sent_at alone, which
  # stays until the owed snapshot is sent; a flood of new incarnations
  # must not arm one each)
  defp want_snapshot_or_owe(%{snap_owed: true} = s, true), do: s

  defp want_snapshot_or_owe(s, true) do
    left = s.snap_sent_at + snapshot_young_ms(s) - now()
    Process.send_after(self(), :snapshot_owed, max(left, 0) + 1)
    %{s | snap_owed: true}
  end

  defp send_owed_snapshot(%{snap_owed: true} = s),
    do: if(snapshot_in_flight?(s), do: s, else: send_snapshot(s))

  defp send_owed_snapshot(s), do: s

  # ----------------------------------------------------------- timers --

  # Nothing accepted for lost_ms: :lost (never heard since the start:
  # aheard is the start; a wrong key or address is :lost after lost_ms,
  # as in libheadcount).
  defp judge_lost(s) do
    if s.state in [:connecting, :connected, :id_conflict] and now() - s.aheard > s.lost_ms,
      do: notify(%{s | state: :lost}, :lost),
      else: s
  end

  # A deadline that falls before the next heartbeat tick (lost_ms shorter
  # than heartbeat_ms, or the last datagram heard long ago) is judged at
  # the deadline, not up to a tick late.  Judged again then, and armed
  # again for the deadline a datagram heard meanwhile moved; one such
  # timer at a time.
  defp lost_check_before_tick(%{lost_timer: nil} = s) do
    left = s.aheard + s.lost_ms + 1 - now()

    if s.state in [:connecting, :connected, :id_conflict] and left < s.hb_ms,
      do: %{s | lost_timer: Process.send_after(self(), :lost_check, max(left, 0))},
      else: s
  end

  defp lost_check_before_tick(s), do: s

  @impl true
  def handle_info(:flush_timer, s),
    do: {:noreply, %{s | ev_timer: nil} |> flush_events() |> flush_places()}

  def handle_info(:heartbeat, s) do
    Process.send_after(self(), :heartbeat, s.hb_ms)
    s = send_heartbeat(s, 0)

    {:noreply, s |> judge_lost() |> lost_check_before_tick()}
  end

  def handle_info(:lost_check, s),
    do: {:noreply, %{s | lost_timer: nil} |> judge_lost() |> lost_check_before_tick()}

  def handle_info(:place_scan, s) do
    t = now()

    s =
      Enum.reduce(s.pending, %{s | place_timer: nil}, fn
        {id, {user, pool, tries, deadline, pid}}, s when t >= deadline ->
          if tries >= s.place_retries do
            # sent 1 + retries times: give up
            send(
              pid,
              {:headcount_assign, self(),
               %{user: user, request: id, status: :timeout, room: 0, refused: 0, pool: pool}}
            )

            %{s | pending: Map.delete(s.pending, id)} |> count(:place_timeouts)
          else
            p = {user, pool, tries + 1, t + s.place_timeout_ms, pid}

            %{s | pending: Map.put(s.pending, id, p)}
            |> place_record(user, id, pool)
            |> count(:place_resends)
          end

        _, s ->
          s
      end)

    {:noreply, arm_place_timer(s)}
  end

  def handle_info({:udp, sock, ip, port, data}, %{sock: sock} = s) do
    s = if ip == s.ip and port == s.port, do: handle(s, data), else: count(s, :rx_wrong_source)
    # (an owed snapshot whose newest one this datagram acknowledged)
    {:noreply, send_owed_snapshot(s)}
  end

  def handle_info(:snapshot_owed, s), do: {:noreply, send_owed_snapshot(s)}

  def handle_info({:udp_passive, sock}, %{sock: sock} = s) do
    :inet.setopts(sock, active: 100)
    {:noreply, s}
  end

  def handle_info({:DOWN, ref, :process, pid, _why}, s) do
    case Map.get(s.owners, pid) do
      ^ref ->
        users = :ets.select(s.owned, [{{{pid, :"$1"}}, [], [:"$1"]}])
        {s, []} = leave_all(users, :any, s)
        {:noreply, %{s | owners: Map.delete(s.owners, pid)} |> count(:owner_exits, length(users))}

      _ ->
        {:noreply, s}
    end
  end

  # exits are trapped so that terminate/2 says goodbye when the
  # supervisor stops us (gen_server handles the parent's exit itself);
  # the socket's port closing is the only other link
  def handle_info({:EXIT, port, reason}, %{sock: port} = s), do: {:stop, {:socket, reason}, s}

  def handle_info(_other, s), do: {:noreply, s}

  defp arm_place_timer(%{place_timer: nil} = s) when map_size(s.pending) > 0,
    do: %{
      s
      | place_timer: Process.send_after(self(), :place_scan, max(1, div(s.place_timeout_ms, 2)))
    }

  defp arm_place_timer(s), do: s

  defp notify(s, state) do
    if s.subscriber, do: send(s.subscriber, {:headcount_state, self(), state})
    s
  end

  # ----------------------------------------------------------- receive --

  @doc false
  def handle(s, data) do
    with {:ok, h} <- Proto.parse_a2g(data, s.gw, s.ginc),
         :ok <- check_tag(s, data) do
      accept(s, h)
    else
      {:error, why} -> count(s, why)
    end
  end

  defp check_tag(%{key: nil}, _), do: :ok

  defp check_tag(s, data) do
    case Proto.verify(data, s.keys) do
      {:ok, _} -> :ok
      :error -> {:error, :rx_bad_auth}
    end
  end

  # the appliance's incarnation: an older one is dropped, a newer one (or
  # the first) starts a new window of reply counters; "older" after the
  # current one has been silent for 3 s is a restart too.  Fenced (an HA
  # pair, :fence_appliance): older than the newest ever heard is never
  # taken, however long the newest is silent.  A newer one taken before
  # (and replaced) starts from the window it had then, not an empty one: a
  # recording of it, replayed once the current one is silent, is old (or
  # it would obey its MOVEs a second time and keep the session connected
  # to an appliance that is gone); what it sends anew is taken
  defp accept(s, %{ainc: appl, ctr: ctr} = h) do
    known = s.ainc
    t = now()
    fenced = s.fence and s.anewest != 0 and Proto.seq_after(s.anewest, appl)

    newer =
      not fenced and
        (known == 0 or Proto.seq_after(appl, known) or (appl != known and t - s.aheard > 3000))

    next = if newer, do: past_window(s.apast, appl), else: s.replay

    cond do
      fenced or (not newer and appl != known) ->
        s = count(s, :rx_stale)

        # ASSIGN (3) and MOVE (4) records refused: a demoted master's
        if h.type in [3, 4], do: count(s, :stale_directives, h.count), else: s

      not Replay.fresh?(next, ctr) ->
        count(s, :rx_replayed)

      true ->
        s =
          if newer do
            anewest =
              if s.anewest == 0 or Proto.seq_after(appl, s.anewest), do: appl, else: s.anewest

            apast = if known != 0, do: past_keep(s.apast, known, s.replay), else: s.apast
            %{s | replay: next, ainc: appl, anewest: anewest, apast: apast}
          else
            s
          end

        s =
          if newer and known != 0 do
            # the appliance restarted and lost everything: state it all
            # again (an id conflict it saw is its old self's: cleared, as
            # libheadcount's CONNECTED after RESTARTED)
            in_flight = snapshot_in_flight?(s)

            %{s | acked: 0, state: if(s.state == :id_conflict, do: :connected, else: s.state)}
            |> count(:appliance_restarts)
            |> notify(:appliance_restarted)
            |> want_snapshot_or_owe(in_flight)
          else
            s
          end

        s = %{s | replay: Replay.commit(s.replay, ctr), aheard: t}

        s =
          if s.state in [:connecting, :lost],
            do: notify(%{s | state: :connected}, :connected),
            else: s

        # (connected again: the next deadline armed, if none is)
        s = lost_check_before_tick(s)

        Enum.reduce(Proto.records(h), s, &record(h.type, &1, &2))
    end
  end

  # the window incarnation appl had when another replaced it, else empty
  defp past_window(apast, appl) do
    case List.keyfind(apast, appl, 0) do
      {_, replay} -> replay
      nil -> Replay.new()
    end
  end

  # incarnation inc, with its window, replaced: kept in its own entry if
  # it has one (its age kept, as libheadcount's and Node's), else as the
  # newest, the oldest forgotten past @appl_past
  defp past_keep(apast, inc, replay) do
    if List.keymember?(apast, inc, 0),
      do: List.keyreplace(apast, inc, 0, {inc, replay}),
      else: Enum.take([{inc, replay} | apast], @appl_past)
  end

  # The appliance acknowledges a sequence (not 0) past the last we
  # numbered (a datagram forged in our name reset it there, or an earlier
  # process of this incarnation numbered further): everything below it is
  # a duplicate there, for good.  Number on from it and state everything
  # again; a snapshot on its way is judged as before the acknowledgement
  # (one more owed however many such heartbeats come), and what was
  # acknowledged is none (0) until the appliance acknowledges in the new
  # numbering (as ack_ahead in libheadcount).  The history keeps
  # only what is within its size of the new sequence (the entries are
  # dropped by sequence as new ones come: those far below would stay).
  defp ack_ahead(s, acked) do
    in_flight = snapshot_in_flight?(s)
    floor = acked - s.hist_cap &&& @mask32
    hist = for {q, d} <- s.hist, Proto.seq_after(q, floor), into: %{}, do: {q, d}
    %{s | seq: acked, acked: 0, hist: hist}
    |> count(:acks_ahead)
    |> want_snapshot_or_owe(in_flight)
  end

  # ASSIGN
  defp record(3, a, s) do
    s = count(s, :assigns)
    a = %{a | status: Proto.status_name(a.status)}

    cond do
      a.status in [:new_topic, :placed] and (a.room == 0 or a.room > s.max_room) ->
        # a room to go to (a NEW_TOPIC's) or to join (a PLACED one's)
        # that is none (never sent), or beyond max_room (the appliance's
        # --max-rooms larger than configured here): the join it asks for
        # would be refused.  A PLACE stays pending: sent again, and
        # answered :timeout at its end
        count(s, :rx_bad)

      a.status == :new_topic ->
        # our JOIN was refused: move the user to the offered room
        s = count(s, :new_topics)

        case :ets.lookup(s.users, a.user) do
          [{_, room, _, _, owner}] when room == a.refused ->
            {s, []} = join_all([{a.user, a.room, a.pool}], owner, s)
            tell(owner, :headcount_assign, a)
            s

          _ ->
            s
        end

      a.request == 0 and a.refused != 0 and a.status not in [:no_room, :full, :superseded] ->
        # a refusal's drop with another status: never sent
        count(s, :rx_bad)

      a.request == 0 and a.refused != 0 ->
        # refused with nowhere to go (NO_ROOM, FULL) or superseded: the
        # appliance holds the user in no room of ours, neither do we
        case :ets.lookup(s.users, a.user) do
          [{_, room, _, _, owner}] when room == a.refused ->
            s = forget(s, a.user, room, owner)
            tell(owner, :headcount_assign, a)
            count(s, if(a.status == :superseded, do: :superseded, else: :refusals))

          _ ->
            s
        end

      true ->
        case Map.get(s.pending, a.request) do
          {user, _pool, _, _, pid} when user == a.user ->
            tell(pid, :headcount_assign, a)
            %{s | pending: Map.delete(s.pending, a.request)}

          _ ->
            s
        end
    end
  end

  # MOVE: to the user's owner, if we have the user in from_room
  defp record(4, m, s) do
    case :ets.lookup(s.users, m.user) do
      [{_, room, _, _, owner}] when room == m.from and m.to != 0 and m.to <= s.max_room ->
        tell(owner, :headcount_move, m)
        count(s, :moves)

      _ ->
        count(s, :moves_ignored)
    end
  end

  # HEARTBEAT
  defp record(5, hb, s) do
    s = count(s, :heartbeats_received)
    acked = hb.last_sequence
    # (0: nothing applied yet)
    s =
      if acked != 0 and Proto.seq_after(acked, s.seq),
        do: ack_ahead(s, acked),
        else: %{s | acked: acked}

    s = %{s | appliance_users: hb.users, appliance_digest: hb.digest}
    s = if (hb.flags &&& Proto.hb_resync_needed()) != 0, do: want_snapshot(s), else: s
    s = conflict(s, (hb.flags &&& Proto.hb_id_conflict()) != 0)
    check_digest(s, acked, hb.users, hb.digest, hb.flags)
  end

  # RESYNC
  defp record(7, r, s) do
    if r.reason != Proto.resync_gap() do
      # asked while the newest is on its way: owed, not dropped (an
      # abandoned snapshot is asked for again at once)
      s = count(s, :resync_requests)
      want_snapshot_or_owe(s, snapshot_in_flight?(s))
    else
      s = count(s, :nacks)
      %{first: first, last: last} = r
      span = last - first &&& @mask32

      cond do
        Proto.seq_after(first, last) or Proto.seq_after(last, s.seq) or span >= s.hist_cap ->
          want_snapshot(s)

        not Enum.all?(0..span, &Map.has_key?(s.hist, first + &1 &&& @mask32)) ->
          # gone from the history
          want_snapshot(s)

        true ->
          Enum.reduce(0..span, s, fn i, s ->
            wire(s, Map.fetch!(s.hist, first + i &&& @mask32)) |> count(:retransmits)
          end)
      end
    end
  end

  defp tell(pid, tag, msg), do: send(pid, {tag, self(), msg})

  defp conflict(s, on) do
    s = if on, do: count(s, :id_conflicts), else: s

    cond do
      on and s.state != :id_conflict -> notify(%{s | state: :id_conflict}, :id_conflict)
      not on and s.state == :id_conflict -> notify(%{s | state: :connected}, :connected)
      true -> s
    end
  end

  # anti-entropy (libheadcount's check_digest): settled, three heartbeats
  # in a row that disagree with us -> a snapshot, at most once a second;
  # SETTLING waited out for at most 10 heartbeats in a row
  @settling_patience 10
  defp check_digest(s, acked, users, digest, flags) do
    settling = (flags &&& Proto.hb_settling()) != 0

    cond do
      acked != s.seq or s.n_ev != 0 ->
        %{s | mismatches: 0, settling_run: 0}

      settling and s.settling_run + 1 < @settling_patience ->
        %{s | mismatches: 0, settling_run: s.settling_run + 1}

      true ->
        s = if settling, do: %{s | settling_run: s.settling_run + 1}, else: %{s | settling_run: 0}

        if users == (s.nusers &&& @mask32) and digest == s.digest do
          %{s | mismatches: 0}
        else
          s = count(s, :digest_mismatches)
          t = now()

          if s.mismatches + 1 >= 3 and (s.digest_snap_at == nil or t - s.digest_snap_at >= 1000) do
            %{s | mismatches: 0, digest_snap_at: t} |> count(:digest_snapshots) |> send_snapshot()
          else
            %{s | mismatches: s.mismatches + 1}
          end
        end
    end
  end
end
