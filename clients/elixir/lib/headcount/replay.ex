# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount.Replay do
  @moduledoc """
  The 64-wide sliding window over the appliance's reply counters
  (docs/protocol.md, "Replay protection"; hc_replay in proto/hc_auth.h):
  a counter is accepted once, if newer than the highest seen or one of
  the 63 below it not seen yet; 0 never.  `{top, seen}`: bit i of `seen`
  says `top - i` was accepted.
  """
  import Bitwise
  alias HeadCount.Proto

  def new, do: {0, 0}

  @doc "Would `ctr` be accepted?  (Check before acting, commit after.)"
  def fresh?(_, 0), do: false
  def fresh?({0, _}, _), do: true

  def fresh?({top, seen}, ctr) do
    if Proto.seq_after(ctr, top) do
      true
    else
      back = top - ctr &&& 0xFFFFFFFF
      back < 64 and (seen >>> back &&& 1) == 0
    end
  end

  @doc "Record `ctr` as accepted."
  def commit({top, seen}, ctr) do
    if top == 0 or Proto.seq_after(ctr, top) do
      shift = if top == 0, do: 64, else: ctr - top &&& 0xFFFFFFFF
      seen = if shift >= 64, do: 1, else: (seen <<< shift ||| 1) &&& 0xFFFFFFFFFFFFFFFF
      {ctr, seen}
    else
      {top, seen ||| 1 <<< (top - ctr &&& 0xFFFFFFFF)}
    end
  end
end
