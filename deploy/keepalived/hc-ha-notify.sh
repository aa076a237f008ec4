#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# hc-ha-notify.sh TEL PREFIX LOG - keepalived's notify script for a
# headcount appliance of an active/standby pair (docs/scaling.md, "High
# availability").  keepalived appends: TYPE NAME STATE PRIORITY.
#   MASTER                -> /headcount/ha,master (a new epoch, ARP for
#                            the service address, gratuitous ARPs)
#   BACKUP, FAULT, STOP   -> /headcount/ha,backup (release the address,
#                            place, balance and send nothing)
# TEL: a telemetry client taking "PREFIX kv CMD" (tools/hc-tel.py);
# PREFIX: the appliance's EAL --file-prefix.  The telemetry socket is
# root-only: being able to reach it is the authentication.  LOG ("-":
# none) gets one line per call: wall clock (ms), state, the reply.
set -u
[ $# -ge 6 ] || exit 0
tel=$1 prefix=$2 log=$3
[ "$log" != - ] || log=""
state=$6
case "$state" in
MASTER) role=master ;;
BACKUP | FAULT | STOP) role=backup ;;
*) exit 0 ;;
esac
reply=$("$tel" "$prefix" kv "/headcount/ha,$role" 2>&1 | tr '\n' ' ')
[ -z "$log" ] || echo "$(date +%s%3N) $state $reply" >> "$log"
