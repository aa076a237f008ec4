# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount.Application do
  @moduledoc """
  The :headcount application: no processes of its own (sessions run under
  the caller's supervisor, HeadCount.Session.child_spec/1); it only makes
  the process-wide clocks of HeadCount.Clock before any session starts.
  """
  use Application

  @impl true
  def start(_type, _args) do
    HeadCount.Clock.init()
    Supervisor.start_link([], strategy: :one_for_one, name: HeadCount.Supervisor)
  end
end
