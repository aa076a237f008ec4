#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run-lab.sh - the README's first command: install, build, and run the
# appliance on its embedded default, the network-namespace lab fed by
# gateway traffic through kernel UDP sockets (tools/hc-lab.sh). Extra
# arguments go to hc-lab.sh (see tools/hc-lab.sh --help).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
for a in "$@"; do # help needs no root, no install, no build
	case $a in -h|--help) exec "$top/tools/hc-lab.sh" --help ;; esac
done
"$top/tools/install-deps.sh"
"$top/tools/build.sh"
exec "$top/tools/hc-lab.sh" --build "$top/build" "$@"
