# SPDX-License-Identifier: BSD-3-Clause
# mix.exs - the Elixir client of headcount (app :headcount): OTP and
# Elixir's standard library only (no Hex, no deps, no NIFs).  See
# docs/elixir.md.
defmodule HeadCount.MixProject do
  use Mix.Project

  def project do
    [
      app: :headcount,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      elixirc_paths: ["lib"],
      test_paths: ["test"]
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {HeadCount.Application, []}]
  end
end
