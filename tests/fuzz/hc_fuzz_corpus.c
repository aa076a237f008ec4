/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_fuzz_corpus.c - hc-fuzz-corpus DIR: write the seed corpus of the fuzz
 * harness (tests/fuzz/corpus/): a few dozen short, valid scripts in the
 * format of hc_fuzz.h, each a scenario the fuzzer then mutates: ordinary
 * traffic, loss and NACK repair, reordering, snapshots (whole, lost in
 * part, each kind of damage), heartbeats naming a lost tail, shutdowns,
 * reboots, stale incarnations, dead gateways, given-up gaps, admission
 * (answers, refusals, picks, stray answers), payload and frame damage,
 * forged tags, foreign gateways, crowds, both worker counts, with and
 * without sealing.  Deterministic: the same files every time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hc_fuzz.h"

static uint8_t buf[4096];
static size_t len;
static const char *dir;
static unsigned written;

static void b(unsigned v)
{
	if (len < sizeof(buf))
		buf[len++] = (uint8_t)v;
}

static void start(uint8_t cfg)
{
	len = 0;
	b(cfg);
}

static int finish(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "hc-fuzz-corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	written++;
	return 0;
}

static void op(unsigned o, unsigned gw) { b(FZ_OP_GW(o, gw)); }
static void op_burst(unsigned o, unsigned gw) { b(FZ_OP_GW(o, gw) | FZ_OP_BURST); }

/* EVENTS of gateway gw: n events, each (kind, user, room byte) */
static void events(unsigned o, unsigned gw, unsigned n, unsigned seed)
{
	op(o, gw);
	b(n - 1);
	for (unsigned i = 0; i < n; i++) {
		unsigned kind = (seed + i) % 5 == 4 ? 1 : 0; /* mostly JOINs */
		unsigned user = (gw * 16 + seed * 3 + i) % FZ_USERS;
		b(kind | user << 2);
		b(seed * 7 + i * 5);
	}
}

static void time_ms(unsigned ms) { op(FZ_TIME, 0); b(ms < 200 ? ms : 200 + ms / 250); }
static void resyncs(void) { op(FZ_RESYNCS, 0); b(7); }
static void heartbeat(unsigned gw, unsigned what, unsigned v) { op(FZ_HEARTBEAT, gw); b(what); b(v); }
static void snapshot(unsigned gw, unsigned size, unsigned lose) { op(FZ_SNAPSHOT, gw); b(size); b(lose); }
static void answer(unsigned n, unsigned refuse) { op(FZ_ANSWER, 0); b(n); b(refuse); }

/* some traffic from every model gateway */
static void traffic(unsigned rounds)
{
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned gw = 0; gw < FZ_MODEL_GWS; gw++)
			events(FZ_EVENTS, gw, 3 + (r + gw) % 4, r * 4 + gw);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hc-fuzz-corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	char name[64];
	int rc = 0;

	/* ordinary traffic, every configuration */
	static const uint8_t cfgs[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0f,
				       0x10, 0x17};
	for (unsigned i = 0; i < sizeof(cfgs); i++) {
		start(cfgs[i]);
		for (unsigned gw = 0; gw < FZ_MODEL_GWS; gw++)
			snapshot(gw, 0x80, 0); /* the empty snapshot a gateway starts with */
		traffic(3);
		for (unsigned gw = 0; gw < FZ_MODEL_GWS; gw++)
			heartbeat(gw, 0, 0);
		if (cfgs[i] & FZ_CFG_ADMISSION)
			answer(255, 0);
		snprintf(name, sizeof(name), "traffic-cfg%02x", cfgs[i]);
		rc |= finish(name);
	}

	/* loss: NACKed after the gap timeout, resent from the history (and
	 * with a sweep budget) */
	static const uint8_t loss_cfgs[] = {0x00, 0x01, 0x11};
	for (unsigned cfg = 0; cfg < sizeof(loss_cfgs); cfg++) {
		start(loss_cfgs[cfg]);
		traffic(1);
		events(FZ_LOSE, 1, 4, 9);
		events(FZ_EVENTS, 1, 2, 10);
		events(FZ_EVENTS, 1, 2, 11);
		time_ms(40);
		resyncs();
		traffic(1);
		snprintf(name, sizeof(name), "loss-nack-resend-%u", cfg);
		rc |= finish(name);
	}

	/* reordering inside one burst, and duplicates */
	start(0x01);
	events(FZ_LOSE, 2, 3, 1);
	events(FZ_LOSE, 2, 3, 2);
	events(FZ_LOSE, 2, 3, 3);
	op_burst(FZ_RESEND, 2); b(0);
	op_burst(FZ_RESEND, 2); b(2);
	op_burst(FZ_RESEND, 2); b(1);
	op(FZ_RESEND, 2); b(1);
	rc |= finish("reorder-duplicates");

	/* a gap never repaired: NACKed 3 times, then given up */
	start(0x00);
	events(FZ_EVENTS, 0, 2, 1);
	events(FZ_LOSE, 0, 2, 2);
	events(FZ_EVENTS, 0, 2, 3);
	for (int i = 0; i < 5; i++)
		time_ms(45);
	rc |= finish("gap-given-up");

	/* a lost tail named by a heartbeat; a heartbeat far ahead */
	start(0x00);
	events(FZ_EVENTS, 3, 2, 1);
	events(FZ_LOSE, 3, 2, 2);
	heartbeat(3, 0, 0);
	time_ms(40);
	resyncs();
	heartbeat(3, 1, 200); /* last_sequence ours + 200: never sent */
	time_ms(40);
	resyncs();
	rc |= finish("heartbeat-tail");

	/* snapshots in chunks, some lost, reversed; then the repair */
	for (unsigned k = 0; k < 3; k++) {
		start((uint8_t)(k == 2 ? 0x01 : 0x00));
		traffic(4);
		snapshot(1, 2 + k, k == 0 ? 0x02 : (k == 1 ? 0x80 : 0x85));
		time_ms(40);
		resyncs();
		traffic(1);
		snprintf(name, sizeof(name), "snapshot-chunks-%u", k);
		rc |= finish(name);
	}

	/* every kind of damaged snapshot */
	for (unsigned f = 0; f < FZ_SF_N; f++) {
		start((uint8_t)(f & 1));
		traffic(3);
		op(FZ_SNAP_BAD, 0);
		b(3);     /* 4 members a chunk */
		b(f % 3); /* which chunk */
		b(f);
		b(f * 13);
		traffic(1);
		snapshot(0, 0x80, 0);
		snprintf(name, sizeof(name), "snapshot-bad-%02u", f);
		rc |= finish(name);
	}

	/* shutdown, reboot (with and without the empty snapshot), stale */
	start(0x00);
	traffic(2);
	heartbeat(0, 0x10, 0);
	events(FZ_EVENTS, 0, 3, 5);
	op(FZ_REBOOT, 1); b(0); b(1);
	events(FZ_EVENTS, 1, 3, 6);
	op(FZ_REBOOT, 2); b(5); b(0);
	events(FZ_EVENTS, 2, 3, 7);
	op(FZ_STALE, 3); b(0); b(1);
	rc |= finish("shutdown-reboot-stale");

	/* a silent gateway is declared dead */
	start(0x01);
	traffic(2);
	heartbeat(0, 0, 0);
	time_ms(3500);
	events(FZ_EVENTS, 1, 2, 3);
	rc |= finish("dead-gateway");

	/* admission: answers in part, refusals, picks, stray answers */
	for (unsigned k = 0; k < 2; k++) {
		start((uint8_t)(FZ_CFG_ADMISSION | k));
		traffic(2);
		answer(3, 0x05);
		traffic(1);
		op(FZ_PICK, 0); b(5); b(0x13); b(9);
		op(FZ_STRAY, 0); b(1);
		snapshot(2, 0x80, 0);
		answer(255, 0);
		snprintf(name, sizeof(name), "admission-%u", k);
		rc |= finish(name);
	}

	/* payload damage on every base, every mutation, every seal */
	for (unsigned m = 0; m < FZ_M_N; m++) {
		start((uint8_t)(m & 1 ? FZ_CFG_AUTH : 0));
		traffic(1);
		op(FZ_MUTATE, m % 4);
		b(m % FZ_BASE_N); /* base */
		if (m % FZ_BASE_N == FZ_BASE_HISTORY)
			b(0);
		else if (m % FZ_BASE_N == FZ_BASE_EVENTS)
			{ b(0); b(4); b(5); }
		else if (m % FZ_BASE_N == FZ_BASE_PLACE)
			{ b(0); b(3); b(0); }
		b(0);            /* one mutation */
		b(m);            /* kind */
		b(0); b(20 + m); /* offset */
		b(0); b(0); b(m); b(0x31);
		b(m % FZ_SEAL_N);
		traffic(1);
		snprintf(name, sizeof(name), "mutate-%u", m);
		rc |= finish(name);
	}

	/* frame damage, every kind */
	for (unsigned f = 0; f < FZ_F_N; f++) {
		start(0x00);
		traffic(1);
		op(FZ_FRAME, f % 4);
		b(FZ_BASE_HEARTBEAT);
		b(f);
		b(0x11 * (f + 1));
		snprintf(name, sizeof(name), "frame-%02u", f);
		rc |= finish(name);
	}

	/* ARP on both ports */
	start(0x01);
	for (unsigned k = 0; k < 4; k++) {
		op(FZ_ARP, 0); b(k);
	}
	op(FZ_RX, 0); b(0x11);
	op(FZ_ARP, 0); b(0);
	rc |= finish("arp");

	/* forged tags */
	for (unsigned k = 0; k < FZ_FG_N; k++) {
		start(FZ_CFG_AUTH | (k & 1));
		traffic(1);
		op(FZ_FORGE, k % 4); b(k); b(1); b(5); b(7); b(9); b(11);
		snprintf(name, sizeof(name), "forge-%u", k);
		rc |= finish(name);
	}

	/* foreign gateways, crowds, the stop path, another receiving worker */
	start(0x03);
	traffic(1);
	for (unsigned k = 0; k < 8; k++) {
		op(FZ_FOREIGN, 0); b(k); b(1); b(k * 2 + 1); b(k);
	}
	op(FZ_CROWD, 1); b(60); b(3);
	op(FZ_CROWD, 2); b(88); b(9);
	answer(8, 0x02);
	op(FZ_RX, 0); b(1);
	traffic(1);
	events(FZ_LOSE, 0, 2, 9);
	events(FZ_EVENTS, 0, 2, 10);
	op(FZ_FLUSH_ALL, 0);
	rc |= finish("foreign-crowd-flush");

	/* v2: a silent gateway forgotten, then back in the same incarnation
	 * (its floor; asked to restate); replayed control counters; an older
	 * incarnation long after a takeover (an id conflict); source ports
	 * that move */
	for (unsigned k = 0; k < 2; k++) {
		start((uint8_t)(FZ_CFG_AUTH | k));
		traffic(2);
		heartbeat(1, 0, 0);
		heartbeat(1, 0x80, 0); /* the same heartbeat again */
		op(FZ_PLACE, 1); b(1); b(5); b(0); b(6); b(1);
		op(FZ_PLACE, 1); b(0x80); /* the same PLACE again */
		time_ms(3500);
		events(FZ_EVENTS, 1, 2, 7);
		resyncs();
		op(FZ_REBOOT, 2); b(0); b(1);
		time_ms(199);
		time_ms(199);
		time_ms(199);
		op(FZ_STALE, 2); b(0); b(1);
		op(FZ_RX, 0); b(0x20);
		traffic(1);
		op(FZ_RX, 0); b(0x21);
		traffic(1);
		snprintf(name, sizeof(name), "v2-floor-replay-conflict-%u", k);
		rc |= finish(name);
	}

	/* snapshots beyond the staging caps; the control core's frames */
	start(0x00);
	traffic(1);
	op(FZ_SNAP_CROWD, 0); b(100); b(0);  /* 201 extra: staged, applied */
	op(FZ_SNAP_CROWD, 1); b(200); b(0);  /* 401: above the per-gateway cap */
	op(FZ_SNAP_CROWD, 2); b(140); b(1);  /* left open ... */
	op(FZ_SNAP_CROWD, 3); b(140); b(1);
	op(FZ_SNAP_CROWD, 0); b(140); b(1);
	op(FZ_SNAP_CROWD, 1); b(140); b(1);  /* ... beyond the worker's cap */
	resyncs();
	op(FZ_CTL_TX, 0); b(0);
	op(FZ_CTL_TX, 1); b(1);
	rc |= finish("snapshot-caps-ctl-tx");

	/* sequences across 2^32 */
	start(0x00);
	traffic(1);
	op(FZ_WRAP, 2);
	traffic(1);
	rc |= finish("wrap");

	printf("hc-fuzz-corpus: %u scripts in %s\n", written, dir);
	return rc == 0 ? 0 : 1;
}
