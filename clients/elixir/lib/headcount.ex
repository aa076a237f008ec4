# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount do
  @moduledoc """
  The Elixir client of headcount (docs/elixir.md): the gateway side of
  protocol v3, one supervised process per session (HeadCount.Session).
  This module only forwards the calls a gateway makes.
  """
  alias HeadCount.Session

  defdelegate child_spec(opts), to: Session
  defdelegate start_link(opts), to: Session
  defdelegate join(s, user, room, pool \\ 0), to: Session
  defdelegate join_many(s, list), to: Session
  defdelegate leave(s, user), to: Session
  defdelegate leave_many(s, users), to: Session
  defdelegate move(s, user, from, to, pool \\ 0), to: Session
  defdelegate place(s, user, pool \\ 0), to: Session
  defdelegate flush(s), to: Session
  defdelegate room_of(s, user), to: Session
  defdelegate dump(s), to: Session
  defdelegate stats(s), to: Session
  defdelegate local_port(s), to: Session
  defdelegate close(s, how \\ :clean), to: Session
end
