# SPDX-License-Identifier: BSD-3-Clause
# lab_test.exs - the client against the REAL appliance in the namespace lab
# (tag :lab; run by tests/integration/elixir_client.sh inside the gateway
# namespace with HC_APPLIANCE, HC_KEYS, HC_TEL and HC_TEL_PREFIX set).
# Every test uses its own gateway id and rooms, closes its session cleanly
# (the appliance drops its users at once) and decides on conditions: the
# appliance's room table (telemetry) equal to the client's membership, the
# appliance's counters, the messages the owning processes got.
defmodule HeadCount.LabTest do
  use ExUnit.Case, async: false
  alias HeadCount.Session

  @moduletag :lab
  @moduletag timeout: 300_000

  # ------------------------------------------------------------ helpers --

  defp env(k), do: System.get_env(k) || flunk("#{k} is not set (run by elixir_client.sh)")

  defp key(gw) do
    env("HC_KEYS")
    |> File.read!()
    |> String.split("\n", trim: true)
    |> Enum.find_value(fn line ->
      case String.split(line) do
        [g, "0", hex] -> if String.to_integer(g) == gw, do: hex
        _ -> nil
      end
    end)
  end

  defp start(gw, opts \\ []) do
    {:ok, s} =
      Session.start_link(
        [appliances: [env("HC_APPLIANCE")], gateway_id: gw, key: key(gw), subscriber: self()] ++
          opts
      )

    s
  end

  # the appliance's room table: %{room => users} (tools/hc-tel.py rooms)
  defp rooms do
    {csv, 0} = System.cmd("python3", [env("HC_TEL"), env("HC_TEL_PREFIX"), "rooms"])
    [_ | lines] = String.split(csv, "\n", trim: true)

    for l <- lines, into: %{} do
      [r, n] = String.split(l, ",")
      {String.to_integer(r), String.to_integer(n)}
    end
  end

  defp tel(cmd, key) do
    {out, 0} = System.cmd("python3", [env("HC_TEL"), env("HC_TEL_PREFIX"), "kv", cmd])
    [v] = for l <- String.split(out, "\n"), [^key, v] <- [String.split(l, "=", parts: 2)], do: v
    String.to_integer(v)
  end

  # the client's membership as a room table
  defp ours(sessions) do
    sessions
    |> Enum.flat_map(fn s -> elem(Session.dump(s), 0) end)
    |> Enum.frequencies_by(fn {_u, r, _p} -> r end)
  end

  # wait for a condition, at most `ms` (only a broken build takes that long)
  defp wait(what, ms \\ 60_000, f) do
    deadline = System.monotonic_time(:millisecond) + ms
    wait_loop(what, deadline, f)
  end

  defp wait_loop(what, deadline, f) do
    if f.() do
      :ok
    else
      if System.monotonic_time(:millisecond) > deadline, do: flunk("never: #{what}")
      Process.sleep(100)
      wait_loop(what, deadline, f)
    end
  end

  defp equal?(sessions), do: rooms() == ours(sessions)

  defp settled?(s) do
    st = Session.stats(s)
    st.acked == st.sequence and st.appliance_users == st.users
  end

  # close cleanly: SHUTDOWN drops the users at once
  defp close(s, rooms_left) do
    :ok = Session.close(s, :clean)
    wait("the closed session's users gone", fn -> rooms() == rooms_left end)
  end

  setup do
    # no other gateway holds users: each test starts from an empty table
    wait("an empty room table", fn -> rooms() == %{} end)
    :ok
  end

  # -------------------------------------------------------------- tests --

  test "2000 users joined, moved, left: the appliance's room table equals ours" do
    s = start(11)
    assert_receive {:headcount_state, ^s, :connected}, 5000
    # 40 rooms of 50 (the target; max 100: no refusal)
    :ok = Session.join_many(s, for(u <- 1..2000, do: {u, 1000 + rem(u, 40) + 1, 0}))
    # 300 move to 10 other rooms (30 each), 500 leave
    :ok = Session.join_many(s, for(u <- 1..300, do: {u, 1100 + rem(u, 10) + 1, 0}))
    :ok = Session.leave_many(s, Enum.to_list(1501..2000))
    wait("the table equals the client's 1500 users", fn -> equal?([s]) and settled?(s) end)
    st = Session.stats(s)
    assert {st.users, st.appliance_users, st.joins, st.leaves} == {1500, 1500, 2300, 500}

    assert {st.rx_bad, st.rx_bad_auth, st.rx_stale, st.rx_replayed, st.rx_wrong_source} ==
             {0, 0, 0, 0, 0}

    assert st.refusals == 0 and st.snapshots == 1 and st.digest_snapshots == 0
    assert map_size(rooms()) == 50
    close(s, %{})
  end

  test "placement: every user placed, joined where placed, no room above max" do
    # (no PLACE given up while a busy host pauses the appliance or the BEAM)
    s = start(12, place_timeout_ms: 2000, place_retries: 15)
    again0 = answered_again()

    ids =
      for u <- 1..300,
          into: %{},
          do:
            (
              {:ok, id} = Session.place(s, 50_000 + u, 0)
              {id, 50_000 + u}
            )

    placed =
      for _ <- 1..300 do
        assert_receive {:headcount_assign, ^s, %{status: :placed, request: id, user: u, room: r}},
                       10_000

        assert ids[id] == u
        :ok = Session.join(s, u, r, 0)
        r
      end

    wait("the table equals the placed users", fn -> equal?([s]) and settled?(s) end)
    table = rooms()
    assert Enum.sum(Map.values(table)) == 300
    assert Enum.all?(Map.values(table), &(&1 <= 100))
    assert Enum.frequencies(placed) == table
    # a PLACE resent before its answer came (place_timeout_ms passed: a
    # loaded host) is answered again (the appliance's placements_repeated
    # or placements_late): each answer counts in assigns, only the first
    # is told to the caller
    wait("every PLACE answered, resends answered again included", fn ->
      Session.stats(s).assigns == 300 + answered_again() - again0
    end)

    st = Session.stats(s)
    assert {st.places, st.place_timeouts, st.pending_places} == {300, 0, 0}
    assert st.assigns - 300 <= st.place_resends
    close(s, %{})
  end

  # PLACEs the appliance answered again (resent: the same request id)
  defp answered_again,
    do:
      tel("/headcount/control", "placements_repeated") +
        tel("/headcount/control", "placements_late")

  test "admission: JOINs into a full room are refused and the users moved (NEW_TOPIC)" do
    s = start(13)
    :ok = Session.join_many(s, for(u <- 1..110, do: {70_000 + u, 2001, 0}))

    for _ <- 1..10,
        do: assert_receive({:headcount_assign, ^s, %{status: :new_topic, refused: 2001}}, 10_000)

    wait("the table equals ours, 100 in the full room", fn -> equal?([s]) and settled?(s) end)
    table = rooms()
    assert table[2001] == 100 and Enum.sum(Map.values(table)) == 110
    st = Session.stats(s)
    assert {st.new_topics, st.users} == {10, 110}
    close(s, %{})
  end

  test "MOVE directives reach the process that owns the user; obeyed, the table follows" do
    s = start(14, heartbeat_ms: 100)
    me = self()
    done0 = tel("/headcount/control", "directives_done")

    # three owners with rooms of 4, 6 and 40 users (the balancer's min is 15)
    owners =
      for {room, n, base} <- [{3001, 4, 80_000}, {3002, 6, 81_000}, {3003, 40, 82_000}] do
        users = for u <- 1..n, do: base + u

        pid =
          spawn_link(fn ->
            :ok = Session.join_many(s, for(u <- users, do: {u, room, 0}))
            send(me, {:joined, self()})
            obey(s, me, MapSet.new(users))
          end)

        assert_receive {:joined, ^pid}
        {pid, MapSet.new(users)}
      end

    wait("a MOVE obeyed", fn -> Session.stats(s).moves > 0 end)

    wait("every directive done, the table equal to ours", fn ->
      Process.sleep(300)

      obeyed =
        Enum.sum(
          for {pid, _} <- owners,
              do:
                (
                  send(pid, {:count, me})
                  receive(do: ({:obeyed, ^pid, n} -> n))
                )
        )

      equal?([s]) and settled?(s) and tel("/headcount/control", "directives_done") - done0 == obeyed
    end)

    for {pid, users} <- owners do
      send(pid, {:moves, me})
      assert_receive {:moves, ^pid, moves}
      # each owner got MOVEs only for its own users
      assert Enum.all?(moves, &MapSet.member?(users, &1.user))
    end

    assert Enum.sum(Map.values(rooms())) == 50
    close(s, %{})
    for {pid, _} <- owners, do: send(pid, :stop)
  end

  # an owner: obeys MOVEs for its users (join the new room), reports them
  defp obey(s, test, users, moves \\ []) do
    receive do
      {:headcount_move, ^s, m} ->
        true = MapSet.member?(users, m.user)
        # (a resent MOVE queued behind the first finds the user moved)
        true = Session.move(s, m.user, m.from, m.to, m.pool) in [:ok, {:error, :stale}]
        obey(s, test, users, [m | moves])

      {:count, ^test} ->
        send(test, {:obeyed, self(), length(moves)})
        obey(s, test, users, moves)

      {:moves, ^test} ->
        send(test, {:moves, self(), moves})
        obey(s, test, users, moves)

      :stop ->
        :ok
    end
  end

  test "an owner that exits takes its users off the appliance" do
    s = start(15)
    me = self()

    pid =
      spawn(fn ->
        :ok = Session.join_many(s, for(u <- 1..50, do: {90_000 + u, 4001, 0}))
        send(me, :joined)
        receive do: (:stop -> :ok)
      end)

    :ok = Session.join_many(s, for(u <- 1..20, do: {91_000 + u, 4002, 0}))
    assert_receive :joined
    wait("both rooms counted", fn -> rooms() == %{4001 => 50, 4002 => 20} end)
    send(pid, :stop)
    wait("only the live owner's room is left", fn -> rooms() == %{4002 => 20} and settled?(s) end)
    assert Session.stats(s).owner_exits == 50
    close(s, %{})
  end

  test "the guide's channel calls (docs/elixir.md), a GenServer standing in for each channel" do
    s = start(16)
    hc = :"headcount_lab_#{System.unique_integer([:positive])}"
    Process.register(s, hc)

    channels =
      for u <- 1..40 do
        {:ok, pid} = HeadCount.LabTest.Channel.start_link({hc, 100_000 + u, 0, self()})
        pid
      end

    for _ <- 1..40, do: assert_receive({:push, _user, "room", %{room: _}}, 10_000)
    wait("the table equals the channels' rooms", fn -> equal?([s]) and settled?(s) end)
    assert Enum.sum(Map.values(rooms())) == 40
    # 15 channels end (terminate/2: leave)
    for pid <- Enum.take(channels, 15), do: GenServer.stop(pid)
    wait("the table equals the 25 left", fn -> equal?([s]) and settled?(s) end)
    assert Enum.sum(Map.values(rooms())) == 25
    assert Session.stats(s).leaves == 15
    close(s, %{})
  end
end

defmodule HeadCount.LabTest.Channel do
  @moduledoc false
  # what a Phoenix channel does (docs/elixir.md, "A Phoenix channel"):
  # join/3 places the user and joins the room the appliance names;
  # handle_info of a MOVE pushes the new room and joins it; terminate/2
  # leaves.  `push` is a message to the test here.
  use GenServer

  def start_link(arg), do: GenServer.start_link(__MODULE__, arg)

  @impl true
  def init({hc, user, pool, client}) do
    # join/3
    {:ok, req} = HeadCount.place(hc, user, pool)

    receive do
      {:headcount_assign, _, %{request: ^req, status: :placed, room: room}} ->
        :ok = HeadCount.join(hc, user, room, pool)
        send(client, {:push, user, "room", %{room: room}})
        {:ok, %{hc: hc, user: user, pool: pool, room: room, client: client}}

      {:headcount_assign, _, %{request: ^req, status: status}} ->
        {:stop, {:no_room, status}}
    after
      5000 -> {:stop, :no_answer}
    end
  end

  @impl true
  def handle_info({:headcount_move, _, %{user: u, from: from, to: to, pool: pool}}, st) do
    case HeadCount.move(st.hc, u, from, to, pool) do
      :ok ->
        send(st.client, {:push, u, "room", %{room: to}})
        {:noreply, %{st | room: to}}

      {:error, :stale} ->
        {:noreply, st}
    end
  end

  def handle_info({:headcount_assign, _, %{status: :new_topic, room: room}}, st) do
    send(st.client, {:push, st.user, "room", %{room: room}})
    {:noreply, %{st | room: room}}
  end

  def handle_info({:headcount_assign, _, %{status: status}}, st)
      when status in [:no_room, :full, :superseded],
      do: {:stop, {:shutdown, status}, st}

  @impl true
  def terminate(_reason, st) do
    HeadCount.leave(st.hc, st.user)
    :ok
  end
end
