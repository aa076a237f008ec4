#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# install-deps.sh - install what headcount needs to build, test and run on
# Debian 12 (as root): Debian's DPDK 22.11 (dpdk-dev ships dpdk-telemetry.py,
# which the README and the tests use), liburcu, CUnit, meson, and the tools
# the namespace lab uses (iproute2, ethtool; python3 reads telemetry in the
# tests; clang and libbpf-dev build the tc-bpf loss/duplication program of
# the fault tests, and with libclang-rt-14-dev (libFuzzer, only recommended
# by clang) the fuzz harness; libsodium-dev gives the datagram MAC;
# gnuplot-nox draws the lab's room-size picture, a PNG; libuv1-dev: the
# unit test that drives libheadcount from a libuv loop; tshark and
# libpcap-dev: the Wireshark dissector's test and its capture generator;
# elixir with erlang-base builds and tests the Elixir client,
# clients/elixir: Mix, ExUnit and OTP only; nodejs and npm: the Node
# client and the chat example (npm ci installs its packages from
# examples/chat/package-lock.json), chromium: the chat's browser test;
# redis-server and libhiredis-dev: the Redis peer, bench/peers/;
# prometheus (the server and promtool): the exporter's test scrapes
# tools/headcount-exporter with a real Prometheus);
# libjansson-dev: hc-gwsim's and hc-send's JSON (telemetry replies);
# help2man: the man pages, from each program's --help; dpkg-dev,
# debhelper and fakeroot: the Debian packages (dpkg-buildpackage, the
# test debian-packages), binutils for its objdump;
# systemd (systemd-analyze verifies the unit) and iputils-ping: the deploy
# kit's tests, deploy-unit and netns-icmp;
# lua5.3 runs the Pktgen scenario scripts against a stand-in for Pktgen's
# API (the pktgen-lua test);
# keepalived: VRRP for the active/standby pair and its failover test;
# logrotate: debian-packages checks the HA log's rotation file with it;
# rsync: hc-state-sync.py copies a pair's state file with it, and the
# failover test runs its daemon on each box;
# git: debian-packages copies the tree it builds from (git ls-files);
# build-essential: dpkg-checkbuilddeps and dpkg-buildpackage require it).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-deps: run as root" >&2; exit 2; }
pkgs=(gcc pkg-config meson ninja-build libdpdk-dev dpdk dpdk-dev liburcu-dev libcunit1-dev
      iproute2 ethtool procps clang libclang-rt-14-dev libbpf-dev python3 libsodium-dev
      gnuplot-nox libuv1-dev tshark libpcap-dev elixir erlang-base chromium nodejs
      redis-server libhiredis-dev prometheus libjansson-dev help2man dpkg-dev debhelper
      fakeroot binutils systemd iputils-ping lua5.3
      keepalived logrotate rsync git build-essential)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: Debian's package, unless npm is there already (a nodejs package of
# another origin may carry npm itself and conflict with Debian's npm)
command -v npm > /dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
