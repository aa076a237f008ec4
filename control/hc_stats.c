/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_stats.c - sum and render the appliance's counters (see hc_stats.h).
 *
 * The list of counters lives once, in KV_FIELDS, and drives both the
 * key=value file and the telemetry dictionary.
 */
#include "hc_stats.h"

#include <inttypes.h>
#include <string.h>

#include <rte_cycles.h>

uint64_t hc_stats_drops(const struct hc_dp_totals *t)
{
	uint64_t d = 0;
	for (int r = 0; r < HC_DROP_COUNT; r++)
		d += t->w.drops[r];
	return d;
}

static double rate(uint64_t now, uint64_t prev, double secs)
{
	return secs > 0 ? (double)(now - prev) / secs : 0.0;
}

void hc_stats_print_line(FILE *f, const struct hc_dp_totals *now,
			 const struct hc_dp_totals *prev, uint32_t rooms)
{
	double secs = (double)(now->tsc - prev->tsc) / (double)rte_get_tsc_hz();
	fprintf(f, "headcount: rx=%.0f/s datagrams=%.0f/s events=%.0f/s users=%" PRIu64
		" rooms=%u gateways=%" PRIu64 " held=%" PRIu64 " lost=%" PRIu64
		" duplicates=%" PRIu64 " drops=%" PRIu64,
		rate(now->w.rx_frames, prev->w.rx_frames, secs),
		rate(now->w.datagrams, prev->w.datagrams, secs),
		rate(now->w.events, prev->w.events, secs),
		now->users, rooms, now->gateways_seen, now->s.held_now, now->s.lost,
		now->s.duplicates, hc_stats_drops(now));
	int first = 1;
	for (int r = 0; r < HC_DROP_COUNT; r++) {
		if (now->w.drops[r] == 0)
			continue;
		fprintf(f, "%s%s=%" PRIu64, first ? " (" : " ", hc_drop_names[r],
			now->w.drops[r]);
		first = 0;
	}
	fprintf(f, "%s\n", first ? "" : ")");
	fflush(f);
}

int hc_stats_write_kv(FILE *f, const struct hc_dp_totals *t, uint32_t rooms)
{
#define KV_PRINT(name, expr) fprintf(f, #name "=%" PRIu64 "\n", (uint64_t)(expr));
	KV_FIELDS(KV_PRINT)
#undef KV_PRINT
	fprintf(f, "rooms=%u\n", rooms);
	fprintf(f, "drops=%" PRIu64 "\n", hc_stats_drops(t));
	for (int r = 0; r < HC_DROP_COUNT; r++)
		fprintf(f, "drop_%s=%" PRIu64 "\n", hc_drop_names[r], t->w.drops[r]);
	return ferror(f) ? -1 : 0;
}

