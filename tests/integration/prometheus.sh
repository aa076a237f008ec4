#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# prometheus.sh - tools/headcount-exporter (as meson installs it, from the
# build directory) scraped by a real Prometheus server (Debian's
# prometheus), both on the gateway namespace's own loopback (no outside
# address, no port shared with anything else), against a live appliance
# in the namespace lab whose room table is known:
#   pool 3  (min 101, target 600, max 1001: histogram buckets 3 users
#           wide) one hc-gateway places 1500 users (PLACE -> ASSIGN ->
#           JOIN, rooms filled to target: 600, 600, 300; unanswered
#           placements are retried until they are answered, however slow
#           the machine; --truth)
#   pool 7  (min 4, target 8, max 12: one bucket per size) another
#           hc-gateway seeds rooms of known sizes (--seed-rooms, --truth)
#   pool 0  configured, empty
# hc-gateway exits only when the appliance has applied all of its users;
# it sends no SHUTDOWN and the appliance has no gateway timeout here, so
# the table stays until the checks end.
# Then prometheus_check.py: the exporter's arithmetic against brute force
# (bucket bounds at widths 1..7), its exposition through promtool, and
# Prometheus's /api/v1/query answers for headcount_room_size_bucket,
# _count, _sum and the per-pool gauges equal to the histogram computed
# from the appliance's room table (/headcount/room_pools) exactly; the
# Grafana dashboard's every PromQL expression names only metrics the
# exporter exposes, and Prometheus answers each with data.  Last, with
# the appliance stopped, a scrape answers 200 with headcount_up 0, and
# Prometheus records headcount_up 0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/lib.sh"
build=${HC_BUILD:?}
out=$(mktemp -d /tmp/hc-prom.XXXXXX)
exporter_pid="" prom_pid=""
cleanup() {
	[ -z "$prom_pid" ] || kill "$prom_pid" 2>/dev/null || true
	[ -z "$exporter_pid" ] || kill "$exporter_pid" 2>/dev/null || true
	[ -z "$prom_pid" ] || wait "$prom_pid" 2>/dev/null || true
	[ -z "$exporter_pid" ] || wait "$exporter_pid" 2>/dev/null || true
	hc_lab_down
	[ -n "${HC_KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT
exporter="$build/tools/headcount-exporter"
[ -x "$exporter" ] || { echo "FAIL: $exporter not built"; exit 1; }
command -v prometheus > /dev/null || { echo "FAIL: no prometheus (tools/install-deps.sh)"; exit 1; }
command -v promtool > /dev/null || { echo "FAIL: no promtool (tools/install-deps.sh)"; exit 1; }

# the exporter's bucket arithmetic, before any namespace
python3 "$here/prometheus_check.py" selftest "$exporter" || exit 1

printf '%s\n' '[control]' 'balance_interval_ms = 3600000' 'reservation_ttl_ms = 3600000' \
	'[pool.lobby]' 'id = 0' 'min = 5' 'max = 20' 'target = 10' \
	'[pool.hall]' 'id = 3' 'min = 101' 'max = 1001' 'target = 600' \
	'[pool.duel]' 'id = 7' 'min = 4' 'max = 12' 'target = 8' > "$out/policy.ini"
hc_lab_up $$
prefix="hclab$HC_TAG"
hc_appliance_start "$build" "$out" 1 --stats-interval 0 --gateway-timeout-ms 0 \
	--config "$out/policy.ini" --dump-rooms "$out/rooms.csv" > /dev/null
hc_arp_check > /dev/null || { echo "FAIL: no ARP answer"; exit 1; }
# the pools read before any user: empty (the telemetry keeps the figures
# of one scan until the view changes: the exporter's exact figures below
# say they were scanned again)
hc_tel_has /headcount/pool,3 users=0 rooms=0 || { echo "FAIL: pool 3 not empty at start"; hc_tel_kv /headcount/pool,3; exit 1; }
hc_tel_has /headcount/pools no_pool_rooms=0 || { echo "FAIL: /headcount/pools at start"; exit 1; }

# pool 3: 1500 users through placement (--shared: rooms filled to target,
# not to max, so no fewest-rooms check)
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateway-id 1 \
	--users 1500 --pool 3 --max 1001 --shared --rounds 0 --truth "$out/pool3.csv" \
	--result "$out/gw1.kv" --timeout 300 > "$out/gw1.log" 2>&1 ||
	{ echo "FAIL: hc-gateway (pool 3)"; cat "$out/gw1.log"; exit 1; }
need "pool 3 users (hc-gateway truth)" "$(awk -F, 'NR > 1 { s += $2 } END { print s + 0 }' "$out/pool3.csv")" -eq 1500

# pool 7: rooms 1001.. of these sizes (85 users)
ip netns exec "$HC_NSG" "$build/tools/hc-gateway" --appliance $HC_APP_IP --keys "$HC_KEYS" --gateway-id 200 \
	--users 85 --pool 7 --max 12 --seed-rooms 1,2,3,3,4,5,7,8,8,9,11,12,12 --rounds 0 \
	--truth "$out/pool7.csv" --result "$out/gw200.kv" --timeout 120 > "$out/gw200.log" 2>&1 ||
	{ echo "FAIL: hc-gateway"; cat "$out/gw200.log"; exit 1; }
{ echo room,users; tail -n +2 -q "$out/pool3.csv" "$out/pool7.csv" | sort -t, -k1,1n; } > "$out/truth.csv"
hc_wait 60 "the room table equals both pools' truth" hc_rooms_equal "$out/truth.csv" ||
	{ diff "$out/truth.csv" <("$HC_TEL" "$prefix" rooms) | head; exit 1; }
echo "  room table settled: $(($(wc -l < "$out/truth.csv") - 1)) rooms"
date +%s > "$out/settled.at"

# the exporter and Prometheus on the gateway namespace's loopback
port=9610 pport=9090
ip netns exec "$HC_NSG" "$exporter" --listen 127.0.0.1:$port --prefix "$prefix" --quiet \
	> "$out/exporter.log" 2>&1 &
exporter_pid=$!
cat > "$out/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: headcount
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
promtool check config "$out/prometheus.yml" > /dev/null || { echo "FAIL: promtool check config"; exit 1; }
ip netns exec "$HC_NSG" prometheus --config.file "$out/prometheus.yml" \
	--storage.tsdb.path "$out/tsdb" --web.listen-address 127.0.0.1:$pport \
	--log.level warn > "$out/prometheus.log" 2>&1 &
prom_pid=$!
prom_ready() {
	kill -0 "$prom_pid" || return 0
	ip netns exec "$HC_NSG" python3 -c "import urllib.request,sys; \
sys.exit(urllib.request.urlopen('http://127.0.0.1:$pport/-/ready', timeout=2).status != 200)"
}
hc_wait 120 "Prometheus is ready" prom_ready || { cat "$out/prometheus.log"; exit 1; }
kill -0 "$prom_pid" 2>/dev/null || { echo "FAIL: prometheus exited"; cat "$out/prometheus.log"; exit 1; }
echo "  $(prometheus --version 2>&1 | head -1) on 127.0.0.1:$pport in $HC_NSG"

ip netns exec "$HC_NSG" python3 "$here/prometheus_check.py" live "$exporter" "$build/tools/headcountctl" \
	"$prefix" "http://127.0.0.1:$port" "http://127.0.0.1:$pport" "$(cat "$out/settled.at")" \
	"$here/../../deploy/grafana/headcount.json" "$out" || exit 1

# the appliance down: the scrape still answers, headcount_up 0
hc_appliance_stop || { echo "FAIL: appliance exit status"; exit 1; }
compare_rooms "$out/truth.csv" "$out/rooms.csv"
ip netns exec "$HC_NSG" python3 "$here/prometheus_check.py" down \
	"http://127.0.0.1:$port" "http://127.0.0.1:$pport" "$(date +%s)" || exit 1
echo "PASS: prometheus"
