/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_dissect_gen.c - captures for the Wireshark dissector's test
 * (tools/wireshark/headcount.lua, tests/integration/tshark_dissect.sh).
 *
 * hc-dissect-gen PREFIX SEED writes PREFIX.pcap (libpcap) with random
 * datagrams of every message type in both directions, built by proto/
 * (hc_proto_fill_hdr, the record structs, hc_auth_seal, hc_frame), and
 * PREFIX.truth: one JSON object per frame naming each dissector field
 * (tshark's -e names) and the list of values it must show, in order, plus
 * "malformed": true for the frames built to be dropped (a length that
 * is not header + count * record, unknown header flags).  Every field the
 * test asks tshark for and the truth does not name must be absent.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_auth.h"
#include "hc_frame.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t rnd32(uint32_t below) { return (uint32_t)(rnd() % below); }

static pcap_dumper_t *dump;
static FILE *truth;
static unsigned frames;

/* The truth of one frame, built field by field. */
static char line[65536];
static size_t line_len;

static void t_begin(void)
{
	line_len = 0;
	line[0] = '\0';
}

static void t_add(const char *field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append value to the list of field (fields are added in tshark's order
 * of occurrence; a field's values are collected under one key). */
static char keys[64][48];
static char vals[64][32768];
static unsigned n_keys;

static void t_add(const char *field, const char *fmt, ...)
{
	unsigned k;
	for (k = 0; k < n_keys && strcmp(keys[k], field) != 0; k++)
		;
	if (k == n_keys) {
		snprintf(keys[k], sizeof(keys[k]), "%s", field);
		vals[k][0] = '\0';
		n_keys++;
	}
	char v[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	size_t l = strlen(vals[k]);
	snprintf(vals[k] + l, sizeof(vals[k]) - l, "%s\"%s\"", l ? ", " : "", v);
}

static void t_end(int malformed)
{
	line_len = (size_t)snprintf(line, sizeof(line), "{\"frame\": %u, \"malformed\": %s", frames,
				    malformed ? "true" : "false");
	for (unsigned k = 0; k < n_keys; k++)
		line_len += (size_t)snprintf(line + line_len, sizeof(line) - line_len,
					     ", \"%s\": [%s]", keys[k], vals[k]);
	fprintf(truth, "%s}\n", line);
	n_keys = 0;
}

static const uint8_t key[HC_AUTH_KEY_LEN] = {7, 6, 5, 4, 3, 2, 1, 0, 9, 9, 9, 9, 1, 2, 3, 4};

/* Frame the payload (to or from the appliance) and write it. */
static void emit(uint8_t *payload, size_t len, int a2g)
{
	static uint8_t frame[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	struct hc_frame_addr a = {.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 2},
		.src_ip = 0xc6120002, .dst_ip = 0xc6120001, .src_port = 40000,
		.dst_port = HC_PROTO_DEFAULT_PORT};
	if (a2g) {
		a = (struct hc_frame_addr){.dst_mac = {2, 0, 0, 0, 0, 2}, .src_mac = {2, 0, 0, 0, 0, 1},
			.src_ip = 0xc6120001, .dst_ip = 0xc6120002, .src_port = HC_PROTO_DEFAULT_PORT,
			.dst_port = 40000};
	}
	size_t n = hc_frame_build(frame, &a, (uint16_t)frames, payload, len);
	struct pcap_pkthdr h = {.ts = {.tv_sec = 1700000000 + frames, .tv_usec = 0},
				.caplen = (bpf_u_int32)n, .len = (bpf_u_int32)n};
	pcap_dump((u_char *)dump, &h, frame);
	frames++;
}

/* The header's truth and bytes; sealed (slot 0/1) unless slot < 0. */
static void header(uint8_t *p, uint8_t type, uint16_t count, int a2g)
{
	uint16_t gw = (uint16_t)(1 + rnd32(65535));
	uint32_t ginc = (uint32_t)rnd(), ainc = (uint32_t)rnd(), seq = (uint32_t)rnd();
	hc_proto_fill_hdr(p, type, gw, count, ginc, ainc, seq);
	if (a2g)
		hc_proto_hdr_add_flags(p, HC_HDR_F_A2G);
	t_add("hc.type", "%u", type);
	t_add("hc.gateway_id", "%u", gw);
	t_add("hc.record_count", "%u", count);
	t_add("hc.gateway_incarnation", "%u", ginc);
	t_add("hc.appliance_incarnation", "%u", ainc);
	t_add("hc.sequence", "%u", seq);
}

static void seal_and_flags(uint8_t *p, size_t len, int a2g)
{
	int slot = (int)rnd32(3) - 1; /* -1: no tag */
	if (slot >= 0)
		hc_auth_seal(p, len, key, (unsigned)slot);
	uint16_t fl;
	memcpy(&fl, p + 6, 2);
	fl = ntohs(fl);
	t_add("hc.flags", "%u", fl);
	t_add("hc.flags.auth", "%u", slot >= 0);
	t_add("hc.flags.key_slot", "%u", slot == 1);
	t_add("hc.flags.a2g", "%u", a2g);
}

static void one(uint8_t type)
{
	static uint8_t p[HC_MAX_PAYLOAD];
	int a2g = type == HC_MSG_ASSIGN || type == HC_MSG_MOVE || type == HC_MSG_RESYNC ||
		  (type == HC_MSG_HEARTBEAT && rnd32(2));
	uint16_t count = type == HC_MSG_HEARTBEAT || type == HC_MSG_RESYNC ? 1 :
			 (uint16_t)rnd32(59 + 1);
	t_begin();
	header(p, type, count, a2g);
	uint8_t *r = p + sizeof(struct hc_hdr);
	if (type == HC_MSG_SNAPSHOT) {
		struct hc_snapshot_prefix sp = {.snapshot_id = htonl((uint32_t)rnd()),
			.chunk_index = htonl(rnd32(10)), .chunk_count = htonl(10 + rnd32(10)),
			.total_users = htonl((uint32_t)rnd())};
		memcpy(r, &sp, sizeof(sp));
		r += sizeof(sp);
		t_add("hc.snap.snapshot_id", "%u", ntohl(sp.snapshot_id));
		t_add("hc.snap.chunk_index", "%u", ntohl(sp.chunk_index));
		t_add("hc.snap.chunk_count", "%u", ntohl(sp.chunk_count));
		t_add("hc.snap.total_users", "%u", ntohl(sp.total_users));
	}
	for (unsigned i = 0; i < count; i++) {
		uint64_t user = rnd(), session = rnd() >> 8;
		uint32_t room = 1 + rnd32(1u << 20), other = rnd32(1u << 20), id = (uint32_t)rnd();
		uint16_t pool = (uint16_t)rnd32(65536), small = (uint16_t)rnd32(100);
		switch (type) {
		case HC_MSG_EVENTS: {
			struct hc_event e = {.user_id = htobe64(user), .room_id = htonl(room),
				.op = (uint8_t)(1 + rnd32(2)), .pool_id = htons(pool),
				.session = htobe64(session)};
			memcpy(r, &e, sizeof(e));
			r += sizeof(e);
			t_add("hc.user", "%" PRIu64, user);
			t_add("hc.room", "%u", room);
			t_add("hc.event.op", "%u", e.op);
			t_add("hc.pool", "%u", pool);
			t_add("hc.session", "%" PRIu64, session);
			break;
		}
		case HC_MSG_PLACE: {
			struct hc_place pl = {.user_id = htobe64(user), .request_id = htonl(id),
					      .pool_id = htons(pool)};
			memcpy(r, &pl, sizeof(pl));
			r += sizeof(pl);
			t_add("hc.user", "%" PRIu64, user);
			t_add("hc.request_id", "%u", id);
			t_add("hc.pool", "%u", pool);
			break;
		}
		case HC_MSG_ASSIGN: {
			static const uint8_t st[] = {1, 2, 3, 5, 6};
			struct hc_assign a = {.user_id = htobe64(user), .request_id = htonl(id),
				.room_id = htonl(room), .refused_room = htonl(other),
				.pool_id = htons(pool), .status = st[rnd32(5)]};
			memcpy(r, &a, sizeof(a));
			r += sizeof(a);
			t_add("hc.user", "%" PRIu64, user);
			t_add("hc.request_id", "%u", id);
			t_add("hc.room", "%u", room);
			t_add("hc.assign.refused_room", "%u", other);
			t_add("hc.pool", "%u", pool);
			t_add("hc.assign.status", "%u", a.status);
			break;
		}
		case HC_MSG_MOVE: {
			struct hc_move m = {.user_id = htobe64(user), .from_room = htonl(room),
				.to_room = htonl(other), .directive_id = htonl(id),
				.pool_id = htons(pool), .attempt = htons(small)};
			memcpy(r, &m, sizeof(m));
			r += sizeof(m);
			t_add("hc.user", "%" PRIu64, user);
			t_add("hc.move.from_room", "%u", room);
			t_add("hc.move.to_room", "%u", other);
			t_add("hc.move.directive_id", "%u", id);
			t_add("hc.pool", "%u", pool);
			t_add("hc.move.attempt", "%u", small);
			break;
		}
		case HC_MSG_HEARTBEAT: {
			uint32_t flags = rnd32(16);
			struct hc_heartbeat hb = {.last_sequence = htonl(id),
				.user_count = htonl(room), .interval_ms = htonl(small),
				.hb_flags = htonl(flags), .digest = htobe64(user)};
			memcpy(r, &hb, sizeof(hb));
			r += sizeof(hb);
			t_add("hc.hb.last_sequence", "%u", id);
			t_add("hc.hb.user_count", "%u", room);
			t_add("hc.hb.interval_ms", "%u", small);
			t_add("hc.hb.flags", "%u", flags);
			t_add("hc.hb.flags.resync_needed", "%u", !!(flags & HC_HB_F_RESYNC_NEEDED));
			t_add("hc.hb.flags.shutdown", "%u", !!(flags & HC_HB_F_SHUTDOWN));
			t_add("hc.hb.flags.id_conflict", "%u", !!(flags & HC_HB_F_ID_CONFLICT));
			t_add("hc.hb.flags.settling", "%u", !!(flags & HC_HB_F_SETTLING));
			t_add("hc.hb.digest", "%" PRIu64, user);
			break;
		}
		case HC_MSG_SNAPSHOT: {
			struct hc_member m = {.user_id = htobe64(user), .room_id = htonl(room),
					      .pool_id = htons(pool), .session = htobe64(session)};
			memcpy(r, &m, sizeof(m));
			r += sizeof(m);
			t_add("hc.user", "%" PRIu64, user);
			t_add("hc.room", "%u", room);
			t_add("hc.pool", "%u", pool);
			t_add("hc.session", "%" PRIu64, session);
			break;
		}
		default: {
			uint32_t reason = 1 + rnd32(3);
			struct hc_resync rs = {.reason = htonl(reason), .first_sequence = htonl(id),
					       .last_sequence = htonl(id + small)};
			memcpy(r, &rs, sizeof(rs));
			r += sizeof(rs);
			t_add("hc.resync.reason", "%u", reason);
			t_add("hc.resync.first_sequence", "%u", id);
			t_add("hc.resync.last_sequence", "%u", id + small);
			t_add("hc.resync.snapshot_id", "%u", 0);
			break;
		}
		}
	}
	size_t len = (size_t)(r - p);
	seal_and_flags(p, len, a2g);
	t_end(0);
	emit(p, len, a2g);
}

/* Datagrams the appliance drops: one byte more than the records, and an
 * unknown header flag; the dissector shows the header and says so. */
static void malformed(int kind)
{
	static uint8_t p[HC_MAX_PAYLOAD];
	t_begin();
	header(p, HC_MSG_PLACE, 0, 0);
	size_t len = sizeof(struct hc_hdr);
	uint16_t flags = 0;
	if (kind == 0) {
		p[len++] = 0xee; /* 41 bytes: not 40 + 0 x 16 */
	} else {
		flags = 0x0100;
		hc_proto_hdr_add_flags(p, flags);
	}
	t_add("hc.flags", "%u", flags);
	t_add("hc.flags.auth", "0");
	t_add("hc.flags.key_slot", "0");
	t_add("hc.flags.a2g", "0");
	t_end(1);
	emit(p, len, 0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: hc-dissect-gen PREFIX SEED\n");
		return 2;
	}
	rng = strtoull(argv[2], NULL, 0) | 1;
	if (hc_auth_init() != 0)
		return 1;
	char path[4096];
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	snprintf(path, sizeof(path), "%s.pcap", argv[1]);
	dump = pcap_dump_open(dead, path);
	snprintf(path, sizeof(path), "%s.truth", argv[1]);
	truth = fopen(path, "w");
	if (dump == NULL || truth == NULL) {
		fprintf(stderr, "hc-dissect-gen: cannot write %s.*\n", argv[1]);
		return 1;
	}
	for (int round = 0; round < 20; round++)
		for (uint8_t t = HC_MSG_EVENTS; t < HC_MSG_TYPE_MAX; t++)
			one(t);
	malformed(0);
	malformed(1);
	pcap_dump_close(dump);
	pcap_close(dead);
	fclose(truth);
	printf("hc-dissect-gen: %u frames\n", frames);
	return 0;
}
