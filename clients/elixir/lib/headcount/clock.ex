# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount.Clock do
  @moduledoc """
  The two numbers a gateway takes from the wall clock, kept increasing
  within this OS process (every session of the VM) even if the clock steps
  back, as libheadcount does:

    * `session_stamp/0`: a user's session stamp, microseconds since the
      Unix epoch (protocol v3: orders one user's connections across
      gateways), strictly increasing;
    * `incarnation/0`: a gateway incarnation, the clock in eighths of a
      second, serially after any picked before (never 0).

  Both live in one :atomics array (compare-and-swap, no process).
  """
  import Bitwise

  @key {__MODULE__, :atomics}

  def init do
    case :persistent_term.get(@key, nil) do
      nil -> :persistent_term.put(@key, :atomics.new(2, signed: false))
      _ -> :ok
    end
  end

  defp ref do
    case :persistent_term.get(@key, nil) do
      nil ->
        init()
        :persistent_term.get(@key)

      r ->
        r
    end
  end

  def session_stamp do
    r = ref()
    bump(r, 1, System.os_time(:microsecond), :atomics.get(r, 1))
  end

  defp bump(r, i, want, prev) do
    us = if want <= prev, do: prev + 1, else: want

    case :atomics.compare_exchange(r, i, prev, us) do
      :ok -> us
      now -> bump(r, i, want, now)
    end
  end

  def incarnation do
    r = ref()
    eighths = div(System.os_time(:microsecond), 125_000) &&& 0xFFFFFFFF
    pick_inc(r, eighths, :atomics.get(r, 2))
  end

  defp pick_inc(r, want, last) do
    inc =
      if last != 0 and not HeadCount.Proto.seq_after(want, last),
        do: last + 1 &&& 0xFFFFFFFF,
        else: want

    inc = if inc == 0, do: 1, else: inc

    case :atomics.compare_exchange(r, 2, last, inc) do
      :ok -> inc
      now -> pick_inc(r, want, now)
    end
  end
end
