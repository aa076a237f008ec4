# SPDX-License-Identifier: BSD-3-Clause
# clock_replay_test.exs - the process-wide clocks (session stamps strictly
# increasing across processes, incarnations serially increasing) and the
# replay window over reply counters, alone.
defmodule HeadCount.ClockReplayTest do
  use ExUnit.Case, async: true
  alias HeadCount.{Clock, Replay}

  test "session stamps: wall-clock us, strictly increasing across processes" do
    me = self()

    for _ <- 1..4,
        do: spawn_link(fn -> send(me, {:stamps, for(_ <- 1..2000, do: Clock.session_stamp())}) end)

    all = for _ <- 1..4, do: receive(do: ({:stamps, l} -> l))
    for l <- all, do: assert(l == Enum.sort(l) and length(Enum.uniq(l)) == 2000)
    flat = List.flatten(all)
    assert length(Enum.uniq(flat)) == 8000
    assert abs(Enum.max(flat) - System.os_time(:microsecond)) < 10_000_000
  end

  test "incarnations: eighths of a second (mod 2^32, as libheadcount), each after the last" do
    a = Clock.incarnation()
    b = Clock.incarnation()
    assert HeadCount.Proto.seq_after(b, a)
    assert abs(a - Bitwise.band(div(System.os_time(:microsecond), 125_000), 0xFFFFFFFF)) < 1000
  end

  test "replay window: fresh once, 63 below the top, never 0, wraps" do
    r = Replay.new()
    refute Replay.fresh?(r, 0)
    assert Replay.fresh?(r, 5)
    r = Replay.commit(r, 5)
    refute Replay.fresh?(r, 5)
    assert Replay.fresh?(r, 4)
    r = Replay.commit(r, 100)
    # 100 - 63 = 37 is the oldest kept
    assert Replay.fresh?(r, 37)
    refute Replay.fresh?(r, 36)
    refute Replay.fresh?(r, 100)
    r = Replay.commit(r, 37)
    refute Replay.fresh?(r, 37)
    assert Replay.fresh?(r, 99)
    # a jump of 64 or more forgets everything below
    r = Replay.commit(r, 164)
    refute Replay.fresh?(r, 100)
    assert Replay.fresh?(r, 101)
    # serial order: after 2^32-1 comes 1
    r = Replay.commit(Replay.commit(Replay.new(), 0xFFFFFFFF), 1)
    refute Replay.fresh?(r, 0xFFFFFFFF)
    assert Replay.fresh?(r, 0xFFFFFFFE)
    refute Replay.fresh?(r, 1)
  end
end
