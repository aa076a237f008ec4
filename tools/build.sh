#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# build.sh - configure (once) and build headcount into ./build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release
fi
ninja -C build
