# SPDX-License-Identifier: BSD-3-Clause
# bench.exs - how fast one HeadCount.Session takes events (JOIN, move,
# LEAVE) on one core: run with one scheduler (+S 1, bench/run-lab.sh does),
# so the caller, the session and the VM share one CPU.  Fills --users
# users, then sends --events events (moves between rooms, and leave +
# join again, in turn) through the API named by --api:
#   many    join_many/2 and leave_many/2, --batch events per call (the fast
#           path: one message per batch)
#   single  join/4 and leave/2, one call per event
# then waits (bounded) until the appliance has applied everything and
# counts what we count (acked == sequence, appliance_users == users).
# Prints key=value lines: events_per_s, us_per_event, cpu, schedulers, api.
#
#   elixir --erl "+S 1" -pa _build/dev/lib/headcount/ebin bench/bench.exs \
#     --appliance 198.18.0.1:7100 --gateway-id 1 --key HEX32 --users 100000 --events 1000000
alias HeadCount.Session

{o, _, bad} =
  OptionParser.parse(System.argv(),
    strict: [
      appliance: :string,
      gateway_id: :integer,
      key: :string,
      no_auth: :boolean,
      users: :integer,
      events: :integer,
      batch: :integer,
      api: :string,
      rooms: :integer,
      settle_s: :integer
    ]
  )

bad == [] || raise "unknown options #{inspect(bad)}"
users = Keyword.get(o, :users, 100_000)
nev = Keyword.get(o, :events, 1_000_000)
batch = Keyword.get(o, :batch, 1000)
api = Keyword.get(o, :api, "many")
rooms = Keyword.get(o, :rooms, div(users + 49, 50))
auth = if o[:no_auth], do: [no_auth: true], else: [key: Keyword.fetch!(o, :key)]

{:ok, s} =
  Session.start_link(
    [
      appliances: [Keyword.get(o, :appliance, "198.18.0.1:7100")],
      gateway_id: Keyword.get(o, :gateway_id, 1)
    ] ++ auth
  )

# room of user u in "generation" g: 50 a room at the start (the pool's
# target), then spread over the same rooms differently
room = fn u, g -> rem(u + g * 7919, rooms) + 1 end

run = fn list, kind ->
  case {api, kind} do
    {"many", :join} ->
      list |> Enum.chunk_every(batch) |> Enum.each(&(:ok = Session.join_many(s, &1)))

    {"many", :leave} ->
      list |> Enum.chunk_every(batch) |> Enum.each(&(:ok = Session.leave_many(s, &1)))

    {"single", :join} ->
      Enum.each(list, fn {u, r, p} -> :ok = Session.join(s, u, r, p) end)

    {"single", :leave} ->
      Enum.each(list, &(:ok = Session.leave(s, &1)))
  end
end

{fill_us, _} = :timer.tc(fn -> run.(for(u <- 1..users, do: {u, room.(u, 0), 0}), :join) end)

# the events: rounds over all users, alternately a move (JOIN elsewhere)
# and a LEAVE followed by a JOIN (a new session); counted one per event
{ev_us, done} =
  :timer.tc(fn ->
    Stream.iterate(1, &(&1 + 1))
    |> Enum.reduce_while(0, fn g, done ->
      if done >= nev do
        {:halt, done}
      else
        n = min(users, nev - done)
        us = 1..n

        if rem(g, 2) == 1 do
          run.(for(u <- us, do: {u, room.(u, g), 0}), :join)
          {:cont, done + n}
        else
          half = max(1, div(n, 2))
          part = Enum.take(us, half)
          run.(part, :leave)
          run.(for(u <- part, do: {u, room.(u, g), 0}), :join)
          {:cont, done + 2 * half}
        end
      end
    end)
  end)

:ok = Session.flush(s)

settle = Keyword.get(o, :settle_s, 30) * 10

settled =
  Enum.reduce_while(1..settle, false, fn _, _ ->
    st = Session.stats(s)

    if st.acked == st.sequence and st.appliance_users == st.users,
      do: {:halt, true},
      else:
        (
          Process.sleep(100)
          {:cont, false}
        )
  end)

st = Session.stats(s)

cpu =
  case File.read("/proc/cpuinfo") do
    {:ok, t} -> Regex.run(~r/model name\s*:\s*(.*)/, t, capture: :all_but_first) |> List.first()
    _ -> "unknown"
  end

IO.puts("""
api=#{api}#{if api == "many", do: " batch=#{batch}", else: ""}
schedulers=#{:erlang.system_info(:schedulers_online)}
cpu=#{cpu}
users=#{users}
fill_s=#{Float.round(fill_us / 1.0e6, 3)}
fill_joins_per_s=#{round(users / (fill_us / 1.0e6))}
events=#{done}
events_s=#{Float.round(ev_us / 1.0e6, 3)}
events_per_s=#{round(done / (ev_us / 1.0e6))}
us_per_event=#{Float.round(ev_us / done, 3)}
event_datagrams=#{st.event_datagrams}
session_users=#{st.users}
appliance_users=#{st.appliance_users}
sequence=#{st.sequence}
acked=#{st.acked}
retransmits=#{st.retransmits}
snapshots=#{st.snapshots}
send_errors=#{st.send_errors}
settled=#{settled}\
""")

:ok = Session.close(s, :clean)
System.halt(if settled, do: 0, else: 1)
