#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# build.sh - configure (once) and build headcount into ./build;
# --sanitize: into ./build-asan with AddressSanitizer and
# UndefinedBehaviorSanitizer (the tests' second pass), without the
# benchmarks and the man pages.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "${1:-}" = --sanitize ]; then
	# only what the sanitizer pass runs: no benchmarks (bench/) and no man
	# pages (their tests, bench-peers-smoke, bench-smoke and tools-family,
	# are suite 'system', which that pass leaves out: tools/run-tests.sh)
	asan_opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dbench=false -Dman=disabled)
	if [ ! -f build-asan/build.ninja ]; then
		meson setup build-asan --buildtype=debugoptimized "${asan_opts[@]}"
	elif [ -d build-asan/bench ]; then # (configured before these options)
		meson configure build-asan "${asan_opts[@]}"
	fi
	ninja -C build-asan
	exit 0
fi
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release
fi
ninja -C build
