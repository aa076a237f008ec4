# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount.Agent do
  @moduledoc """
  The conformance agent (contract v1, docs/elixir.md and the project's
  agent contract): one HeadCount.Session driven by lines on stdin, its
  events as lines on stdout.  Run by `clients/elixir/agent`.

  One process reads stdin and hands each line to the agent process, which
  owns every user it joins (so MOVEs and admission answers come to it) and
  also receives the session's messages: commands and events are handled in
  the order they arrive, one line out per event.
  """
  alias HeadCount.{Proto, Session}

  @usage "usage: agent --appliance HOST:PORT [--appliance ...] --gateway-id N " <>
           "(--key HEX32 [--key-slot S] | --no-auth) [--incarnation N] [--flush-us N] [--heartbeat-ms N] " <>
           "[--max-rooms N]"

  def main(argv) do
    case parse(argv, %{appliances: [], no_auth: false}) do
      {:ok, o} -> run(o)
      {:error, msg} -> die(2, msg <> "\n" <> @usage)
    end
  end

  defp die(code, msg) do
    IO.puts(:stderr, "agent: " <> msg)
    stop(code)
  end

  defp stop(code) do
    # init:stop flushes stdout before the VM exits
    :init.stop(code)
    Process.sleep(:infinity)
  end

  @ints %{
    "--gateway-id" => :gateway_id,
    "--key-slot" => :key_slot,
    "--incarnation" => :incarnation,
    "--flush-us" => :flush_us,
    "--heartbeat-ms" => :heartbeat_ms,
    "--max-rooms" => :max_rooms
  }

  # the appliance's --max-rooms: the session's :max_room is one less
  defp parse([], %{max_rooms: n}) when n < 2 or n > 4_294_967_295,
    do: {:error, "--max-rooms: a number 2..4294967295"}

  defp parse([], o), do: {:ok, o}
  defp parse(["--appliance", a | rest], o), do: parse(rest, %{o | appliances: o.appliances ++ [a]})
  defp parse(["--key", k | rest], o), do: parse(rest, Map.put(o, :key, k))
  defp parse(["--no-auth" | rest], o), do: parse(rest, %{o | no_auth: true})

  defp parse([opt, v | rest], o) when is_map_key(@ints, opt) do
    case Integer.parse(v) do
      {n, ""} when n >= 0 -> parse(rest, Map.put(o, @ints[opt], n))
      _ -> {:error, "#{opt} takes a number, not #{inspect(v)}"}
    end
  end

  defp parse([opt | _], _), do: {:error, "unknown option or missing value: #{opt}"}

  defp run(o) do
    opts =
      [
        appliances: o.appliances,
        gateway_id: Map.get(o, :gateway_id),
        no_auth: o.no_auth,
        subscriber: self()
      ] ++
        Enum.flat_map([:key, :key_slot, :incarnation, :flush_us, :heartbeat_ms], fn k ->
          if Map.has_key?(o, k), do: [{k, Map.fetch!(o, k)}], else: []
        end) ++
        if(Map.has_key?(o, :max_rooms), do: [max_room: o.max_rooms - 1], else: [])

    Process.flag(:trap_exit, true)

    case Session.start_link(opts) do
      {:ok, s} ->
        {:ok, port} = Session.local_port(s)
        out("ready #{port}")
        me = self()
        spawn_link(fn -> read_lines(me) end)
        loop(s)

      {:error, why} ->
        out("fatal #{if is_binary(why), do: why, else: inspect(why)}")
        stop(1)
    end
  end

  defp out(line), do: IO.write(:stdio, [line, ?\n])

  defp read_lines(to) do
    case IO.read(:stdio, :line) do
      line when is_binary(line) ->
        send(to, {:line, String.trim_trailing(line, "\n")})
        read_lines(to)

      _eof_or_error ->
        send(to, :eof)
    end
  end

  defp loop(s) do
    receive do
      {:line, line} ->
        command(s, String.split(line, " ", trim: true), line)
        loop(s)

      :eof ->
        close(s, "clean")

      {:headcount_assign, ^s, a} ->
        out("assign #{a.user} #{a.request} #{a.status} #{a.room} #{a.refused} #{a.pool}")
        loop(s)

      {:headcount_move, ^s, m} ->
        out("move #{m.user} #{m.from} #{m.to} #{m.directive} #{m.pool} #{m.attempt}")
        loop(s)

      {:headcount_state, ^s, st} ->
        out("state #{st}")
        loop(s)

      {:EXIT, ^s, why} ->
        out("fatal the session stopped: #{inspect(why)}")
        stop(1)

      _ ->
        loop(s)
    end
  end

  defp command(s, ["join", u, r, p], line) do
    with {:ok, [u, r, p]} <- nums([u, r, p]), :ok <- Session.join(s, u, r, p) do
      :ok
    else
      _ -> out("error #{line} bad user, room (1..max_room, at most 2^32-1) or pool (0..65535)")
    end
  end

  defp command(s, ["leave", u], line) do
    with {:ok, [u]} <- nums([u]), :ok <- Session.leave(s, u) do
      :ok
    else
      {:error, :not_here} -> out("error #{line} not here")
      _ -> out("error #{line} bad user")
    end
  end

  defp command(s, ["place", u, p], line) do
    with {:ok, [u, p]} <- nums([u, p]),
         true <- p <= 0xFFFF and u <= 0xFFFFFFFFFFFFFFFF,
         {:ok, _id} <- Session.place(s, u, p) do
      :ok
    else
      {:error, why} -> out("error #{line} #{why}")
      _ -> out("error #{line} bad user or pool")
    end
  end

  defp command(s, ["dump"], _line) do
    {members, digest} = Session.dump(s)
    Enum.each(members, fn {u, r, p} -> out("member #{u} #{r} #{p}") end)
    out("dumped #{length(members)} #{digest}")
  end

  defp command(s, ["status"], _line) do
    st = Session.stats(s)

    keys = [
      :users,
      :sequence,
      :acked,
      :appliance_users,
      :appliance_digest,
      :appliance_incarnation,
      :state,
      :snapshots,
      :retransmits,
      :rx_bad_auth
    ]

    dropped = st.rx_bad + st.rx_bad_auth + st.rx_wrong_source + st.rx_stale + st.rx_replayed

    more = [
      :incarnation,
      :joins,
      :leaves,
      :event_datagrams,
      :nacks,
      :resync_requests,
      :appliance_restarts,
      :places,
      :place_resends,
      :place_timeouts,
      :assigns,
      :new_topics,
      :moves,
      :moves_ignored,
      :heartbeats_sent,
      :heartbeats_received,
      :rx_bad,
      :rx_wrong_source,
      :rx_stale,
      :rx_replayed,
      :id_conflicts,
      :refusals,
      :superseded,
      :digest_mismatches,
      :digest_snapshots,
      :send_errors,
      :owner_exits,
      :digest
    ]

    kv =
      Enum.map(keys, &"#{&1}=#{Map.fetch!(st, &1)}") ++
        ["rx_dropped=#{dropped}"] ++
        Enum.map(more, &"#{&1}=#{Map.fetch!(st, &1)}")

    out("status " <> Enum.join(kv, " "))
  end

  defp command(s, ["close", how], _line) when how in ["clean", "crash"], do: close(s, how)
  defp command(_s, [], _line), do: :ok
  defp command(_s, _, line), do: out("error #{line} unknown command")

  defp close(s, how) do
    :ok = Session.close(s, String.to_existing_atom(how))
    out("closed")
    stop(0)
  end

  defp nums(l) do
    parsed = Enum.map(l, &Integer.parse/1)

    if Enum.all?(parsed, &match?({n, ""} when n >= 0, &1)),
      do: {:ok, Enum.map(parsed, &elem(&1, 0))},
      else: :error
  end

  @doc false
  # the membership digest of a dump, for checks: sum of member digests
  def digest(members),
    do:
      Enum.reduce(members, 0, fn {u, r, _}, d -> Proto.digest_add(d, Proto.member_digest(u, r)) end)
end
