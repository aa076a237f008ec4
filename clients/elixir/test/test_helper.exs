# SPDX-License-Identifier: BSD-3-Clause
# The lab tests (tag :lab) need the real appliance in the namespace lab:
# tests/integration/elixir_client.sh runs them with `mix test --include lab`.
ExUnit.start(exclude: [:lab])
