#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# build.sh - configure (once) and build headcount into ./build;
# --sanitize: into ./build-asan with AddressSanitizer and
# UndefinedBehaviorSanitizer (the tests' second pass).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "${1:-}" = --sanitize ]; then
	if [ ! -f build-asan/build.ninja ]; then
		meson setup build-asan --buildtype=debugoptimized \
			-Db_sanitize=address,undefined -Db_lundef=false
	fi
	ninja -C build-asan
	exit 0
fi
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release
fi
ninja -C build
