# SPDX-License-Identifier: BSD-3-Clause
# agent_test.exs - the conformance agent (clients/elixir/agent, contract
# v1) as the driver runs it: a program fed lines on stdin, read line by
# line on stdout, here against a stand-in appliance on the loopback (the
# lab test drives it against the real one).
defmodule HeadCount.AgentTest do
  use ExUnit.Case, async: true
  alias HeadCount.Proto

  @agent Path.expand("../agent", __DIR__)

  defp start(args) do
    Port.open(
      {:spawn_executable, @agent},
      [:binary, :exit_status, :use_stdio, {:line, 4096}, args: args, env: [{~c"MIX_ENV", ~c"dev"}]]
    )
  end

  defp line(port, timeout \\ 60_000) do
    receive do
      {^port, {:data, {:eol, l}}} -> l
      {^port, {:exit_status, n}} -> flunk("the agent exited #{n}")
    after
      timeout -> flunk("no line from the agent")
    end
  end

  defp cmd(port, l), do: Port.command(port, l <> "\n")

  test "unknown options: exit 2; no key: fatal, exit 1" do
    port = start(["--what"])
    assert_receive {^port, {:exit_status, 2}}, 60_000
    port = start(["--appliance", "127.0.0.1:9", "--gateway-id", "3"])
    assert line(port) =~ ~r/^fatal no key/
    assert_receive {^port, {:exit_status, 1}}, 60_000
  end

  test "--max-rooms: out of 2..2^32-1 exit 2; a join from it up refused" do
    for bad <- ["1", "4294967296", "x"] do
      port =
        start(["--appliance", "127.0.0.1:9", "--gateway-id", "3", "--no-auth", "--max-rooms", bad])

      assert_receive {^port, {:exit_status, 2}}, 60_000
    end

    port =
      start(["--appliance", "127.0.0.1:9", "--gateway-id", "3", "--no-auth", "--max-rooms", "100"])

    "ready " <> _ = line(port)
    cmd(port, "join 7 100 0")
    assert line(port) =~ ~r/^error join 7 100 0 /
    cmd(port, "join 7 99 0")
    cmd(port, "dump")
    assert line(port) == "member 7 99 0"
    assert line(port) == "dumped 1 #{Proto.member_digest(7, 99)}"
    cmd(port, "close crash")
    assert line(port) == "closed"
  end

  test "ready, commands, events, close" do
    {:ok, app} = :gen_udp.open(0, [:binary, active: false, ip: {127, 0, 0, 1}])
    {:ok, aport} = :inet.port(app)

    port =
      start([
        "--appliance",
        "127.0.0.1:#{aport}",
        "--appliance",
        "127.0.0.1:9",
        "--gateway-id",
        "5",
        "--no-auth",
        "--flush-us",
        "0",
        "--heartbeat-ms",
        "50000"
      ])

    "ready " <> lport = line(port)
    {:ok, {_, src, first}} = :gen_udp.recv(app, 0, 5000)
    assert src == String.to_integer(lport)
    <<_::binary-12, ginc::32, _::binary>> = first
    cmd(port, "join 7 3 1")
    cmd(port, "join 8 4 0")
    cmd(port, "join 9 0 0")

    assert line(port) ==
             "error join 9 0 0 bad user, room (1..max_room, at most 2^32-1) or pool (0..65535)"

    cmd(port, "leave 10")
    assert line(port) == "error leave 10 not here"
    cmd(port, "frobnicate")
    assert line(port) == "error frobnicate unknown command"
    cmd(port, "dump")
    assert line(port) == "member 7 3 1"
    assert line(port) == "member 8 4 0"
    d = Proto.digest_add(Proto.member_digest(7, 3), Proto.member_digest(8, 4))
    assert line(port) == "dumped 2 #{d}"
    cmd(port, "place 11 2")
    # the stand-in appliance answers: a MOVE, the placement, an id conflict
    a2g = fn type, ctr, recs ->
      Proto.datagram_bin(type, Proto.f_a2g(), 5, length(recs), ginc, 99, ctr, recs, nil, 0)
    end

    send_a = fn d -> :ok = :gen_udp.send(app, {127, 0, 0, 1}, src, d) end
    send_a.(a2g.(4, 1, [Proto.move_rec(7, 3, 6, 12, 1, 2)]))
    assert line(port) == "state connected"
    assert line(port) == "move 7 3 6 12 1 2"
    send_a.(a2g.(3, 2, [Proto.assign_rec(11, 1, 40, 0, 2, 1)]))
    assert line(port) == "assign 11 1 placed 40 0 2"
    send_a.(a2g.(5, 3, [Proto.heartbeat_rec(0, 0, 100, 4, 0)]))
    assert line(port) == "state id_conflict"
    # the same reply counter again: a replay, dropped (rx_dropped 1): the
    # conflict stays
    send_a.(a2g.(5, 3, [Proto.heartbeat_rec(0, 0, 100, 0, 0)]))
    cmd(port, "status")
    "status " <> kv = line(port)
    kv = Map.new(String.split(kv), &List.to_tuple(String.split(&1, "=", parts: 2)))

    for k <- ~w(users sequence acked appliance_users appliance_incarnation state snapshots
                retransmits rx_bad_auth rx_dropped),
        do: assert(Map.has_key?(kv, k), k)

    assert {kv["users"], kv["appliance_incarnation"], kv["state"], kv["rx_dropped"]} ==
             {"2", "99", "id_conflict", "1"}

    # EOF on stdin is `close clean`: the events flushed, then SHUTDOWN
    Port.close(port)

    types =
      Stream.repeatedly(fn -> :gen_udp.recv(app, 0, 5000) end)
      |> Enum.take_while(&match?({:ok, _}, &1))
      |> Enum.map(fn {:ok, {_, _, <<_::binary-5, t, _::binary>> = d}} -> {t, d} end)

    {5, last} = List.last(types)
    <<_::binary-52, flags::32, _::64>> = last
    assert flags == Proto.hb_shutdown()
  end
end
