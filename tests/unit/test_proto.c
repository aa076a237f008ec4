/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_proto.c - the payload validator: every verdict, the boundaries;
 * datagram authentication (proto/hc_auth.c): seal and verify, slots, any
 * flipped byte, the replay window, the keys file, and fixed test vectors
 * (the ones docs/protocol.md prints, and the SipHash reference's).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hc_auth.h"
#include "hc_proto.h"
#include "hc_proto_check.h"
#include "hc_proto_hdr.h"
#include "hc_unit.h"

#define MAXR 1000u

static uint8_t buf[2048];

/* A valid EVENTS payload of n events; returns its length. */
static size_t events(uint16_t n)
{
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_EVENTS, 7, n, 3, 0, 42);
	for (uint16_t i = 0; i < n; i++) {
		struct hc_event ev = {.user_id = htobe64(1000 + i), .room_id = htonl(1 + i),
				      .op = i % 2 ? HC_OP_LEAVE : HC_OP_JOIN};
		memcpy(buf + sizeof(struct hc_hdr) + i * sizeof(ev), &ev, sizeof(ev));
	}
	return sizeof(struct hc_hdr) + n * sizeof(struct hc_event);
}

static enum hc_proto_verdict check(size_t len)
{
	return hc_proto_check_inbound(buf, len, MAXR);
}

static void test_valid(void)
{
	CU_ASSERT_EQUAL(check(events(1)), HC_PV_OK);
	CU_ASSERT_EQUAL(check(events(64)), HC_PV_OK);
	CU_ASSERT_EQUAL(check(events(HC_MAX_EVENTS_MTU1500)), HC_PV_OK);
	CU_ASSERT_EQUAL(HC_MAX_EVENTS_MTU1500, 59);
	CU_ASSERT_EQUAL(HC_MAX_EVENTS, 372);
}

/* The dataplane's inline check says OK exactly when the full check says
 * OK for an EVENTS payload: every byte of a valid one (header and two
 * records) set to each of a few values, and every length around it. */
static void test_events_fast_path(void)
{
	static const uint8_t vals[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x08, 0x80, 0xff};
	unsigned agree = 0, ok = 0;
	size_t len = events(2);
	CU_ASSERT_EQUAL(hc_proto_events_ok(buf, len, MAXR), 1);
	for (size_t at = 0; at < len; at++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			len = events(2);
			buf[at] = vals[v];
			int full = hc_proto_check_full(buf, len, MAXR) == HC_PV_OK &&
				   buf[5] == HC_MSG_EVENTS;
			agree += hc_proto_events_ok(buf, len, MAXR) == full;
			ok += full;
		}
	}
	CU_ASSERT_EQUAL(agree, events(2) * sizeof(vals));
	CU_ASSERT(ok > 0 && ok < agree); /* both verdicts were seen */
	for (size_t l = 0; l <= events(3) + 1; l++) {
		events(3);
		int full = hc_proto_check_full(buf, l, MAXR) == HC_PV_OK;
		CU_ASSERT_EQUAL(hc_proto_events_ok(buf, l, MAXR), full);
	}
	/* the room bound, at max_rooms */
	len = events(1);
	uint32_t room = htonl(MAXR - 1);
	memcpy(buf + sizeof(struct hc_hdr) + offsetof(struct hc_event, room_id), &room, 4);
	CU_ASSERT_EQUAL(hc_proto_events_ok(buf, len, MAXR), 1);
	room = htonl(MAXR);
	memcpy(buf + sizeof(struct hc_hdr) + offsetof(struct hc_event, room_id), &room, 4);
	CU_ASSERT_EQUAL(hc_proto_events_ok(buf, len, MAXR), 0);
	CU_ASSERT_EQUAL(hc_proto_check_full(buf, len, MAXR), HC_PV_BAD_RECORD);
}

static void test_header_faults(void)
{
	size_t len = events(4);
	CU_ASSERT_EQUAL(check(0), HC_PV_TRUNCATED);
	CU_ASSERT_EQUAL(check(sizeof(struct hc_hdr) - 1), HC_PV_TRUNCATED);
	buf[0] ^= 1;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_MAGIC);
	CU_ASSERT_EQUAL(HC_PROTO_VERSION, 3);
	len = events(4); buf[4] = 1; /* v1 had no authentication */
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_VERSION);
	len = events(4); buf[4] = 2; /* v2 had no sessions */
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_VERSION);
	len = events(4); buf[4] = 4;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_VERSION);
	len = events(4); buf[5] = 0;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_TYPE);
	len = events(4); buf[5] = HC_MSG_TYPE_MAX;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_TYPE);
	len = events(4); buf[5] = HC_MSG_MOVE;
	CU_ASSERT_EQUAL(check(len), HC_PV_WRONG_DIRECTION);
	len = events(4); buf[5] = HC_MSG_ASSIGN;
	CU_ASSERT_EQUAL(check(len), HC_PV_WRONG_DIRECTION);
	len = events(4); buf[5] = HC_MSG_RESYNC;
	CU_ASSERT_EQUAL(check(len), HC_PV_WRONG_DIRECTION);
	len = events(4); buf[7] = 0x04; /* A2G: the appliance's own, reflected */
	CU_ASSERT_EQUAL(check(len), HC_PV_WRONG_DIRECTION);
	len = events(4); buf[7] = 0x08;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_FLAGS);
	len = events(4); buf[12] = buf[13] = buf[14] = buf[15] = 0; /* incarnation 0 */
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_INCARNATION);
	len = events(4); buf[6] = 0x80;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_FLAGS);
	len = events(4); buf[7] = 0x01; /* AUTH is a known flag */
	CU_ASSERT_EQUAL(check(len), HC_PV_OK);
	len = events(4); buf[7] = 0x03; /* and KEY_SLOT */
	CU_ASSERT_EQUAL(check(len), HC_PV_OK);
	len = events(4); buf[8] = 0; buf[9] = 0;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_GATEWAY);
}

static void test_length_faults(void)
{
	size_t len = events(4);
	CU_ASSERT_EQUAL(check(len - 1), HC_PV_BAD_LENGTH);   /* count beyond data */
	CU_ASSERT_EQUAL(check(len - sizeof(struct hc_event)), HC_PV_BAD_LENGTH);
	CU_ASSERT_EQUAL(check(len + 1), HC_PV_BAD_LENGTH);   /* trailing byte */
	buf[10] = 0xff; buf[11] = 0xff;                      /* count 65535 */
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_LENGTH);
	len = events(4);
	buf[11] = 0;                                         /* count 0, 96 bytes left */
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_LENGTH);
	CU_ASSERT_EQUAL(check(sizeof(struct hc_hdr)), HC_PV_BAD_RECORD); /* empty */
}

static void test_record_faults(void)
{
	size_t len = events(4);
	uint8_t *ev2 = buf + sizeof(struct hc_hdr) + 2 * sizeof(struct hc_event);
	ev2[12] = 3;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_RECORD);
	len = events(4); ev2[12] = 0;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_RECORD);
	len = events(4); ev2[13] = 1;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_RECORD);
	len = events(4); memset(ev2 + 8, 0, 4);
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_RECORD);
	uint32_t r = htonl(MAXR);
	len = events(4); memcpy(ev2 + 8, &r, 4);
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_RECORD);
	r = htonl(MAXR - 1);
	len = events(4); memcpy(ev2 + 8, &r, 4);
	CU_ASSERT_EQUAL(check(len), HC_PV_OK);
	len = events(4); memset(buf + 20, 0, 4);
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_SEQUENCE);
}

static void test_other_types(void)
{
	struct hc_heartbeat hb = {0};
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_HEARTBEAT, 9, 1, 5, 0, 0);
	memcpy(buf + 40, &hb, sizeof(hb));
	CU_ASSERT_EQUAL(check(64), HC_PV_OK);
	CU_ASSERT_EQUAL(check(56), HC_PV_BAD_LENGTH);
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_HEARTBEAT, 9, 2, 5, 0, 0);
	memcpy(buf + 64, &hb, sizeof(hb));
	CU_ASSERT_EQUAL(check(88), HC_PV_BAD_RECORD);
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_PLACE, 9, 1, 5, 0, 0);
	memset(buf + 40, 0, 16);
	CU_ASSERT_EQUAL(check(56), HC_PV_OK);
	buf[40 + 15] = 1; /* PLACE flags */
	CU_ASSERT_EQUAL(check(56), HC_PV_BAD_RECORD);
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_PLACE, 9, 0, 5, 0, 0);
	CU_ASSERT_EQUAL(check(40), HC_PV_BAD_RECORD); /* empty */
	/* SNAPSHOT: prefix, members with valid rooms, a sequence */
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_SNAPSHOT, 9, 2, 5, 0, 7);
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(3), .chunk_index = htonl(0),
					.chunk_count = htonl(1), .total_users = htonl(2)};
	struct hc_member mb[2] = {{.user_id = 1, .room_id = htonl(4)},
				  {.user_id = 2, .room_id = htonl(5)}};
	memcpy(buf + 40, &pf, sizeof(pf));
	memcpy(buf + 56, mb, sizeof(mb));
	CU_ASSERT_EQUAL(check(40 + 16 + 48), HC_PV_OK);
	CU_ASSERT_EQUAL(check(40 + 48), HC_PV_BAD_LENGTH); /* prefix missing */
	mb[1].flags = htons(1);
	memcpy(buf + 56, mb, sizeof(mb));
	CU_ASSERT_EQUAL(check(40 + 16 + 48), HC_PV_BAD_RECORD); /* member flags */
	mb[1].flags = 0;
	mb[1].room_id = 0;
	memcpy(buf + 56, mb, sizeof(mb));
	CU_ASSERT_EQUAL(check(40 + 16 + 48), HC_PV_BAD_RECORD); /* room 0 */
	mb[1].room_id = htonl(5);
	memcpy(buf + 56, mb, sizeof(mb));
	pf.chunk_index = htonl(1); /* index >= count */
	memcpy(buf + 40, &pf, sizeof(pf));
	CU_ASSERT_EQUAL(check(40 + 16 + 48), HC_PV_BAD_RECORD);
	pf.chunk_index = 0;
	pf.chunk_count = 0;
	memcpy(buf + 40, &pf, sizeof(pf));
	CU_ASSERT_EQUAL(check(40 + 16 + 48), HC_PV_BAD_RECORD);
	pf.chunk_count = htonl(1);
	memcpy(buf + 40, &pf, sizeof(pf));
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_SNAPSHOT, 9, 2, 5, 0, 0);
	CU_ASSERT_EQUAL(check(40 + 16 + 48), HC_PV_BAD_SEQUENCE);
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_SNAPSHOT, 9, 0, 5, 0, 8);
	pf.total_users = 0;
	memcpy(buf + 40, &pf, sizeof(pf));
	CU_ASSERT_EQUAL(check(40 + 16), HC_PV_OK); /* an empty snapshot */
	CU_ASSERT_EQUAL(hc_proto_record_size(HC_MSG_ASSIGN), 24);
	CU_ASSERT_EQUAL(hc_proto_record_size(HC_MSG_MOVE), 24);
	CU_ASSERT_EQUAL(hc_proto_record_size(0), 0);
}

static void test_serial(void)
{
	CU_ASSERT_TRUE(hc_seq_after(2, 1));
	CU_ASSERT_FALSE(hc_seq_after(1, 1));
	CU_ASSERT_FALSE(hc_seq_after(1, 2));
	CU_ASSERT_TRUE(hc_seq_after(3, 0xfffffff0u)); /* wrapped */
	CU_ASSERT_FALSE(hc_seq_after(0xfffffff0u, 3));
}

/* --------------------------------------------------- authentication -- */

static const uint8_t key0[HC_AUTH_KEY_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					      0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t key1[HC_AUTH_KEY_LEN] = {0xf0, 0xe0, 0xd0, 0xc0, 0xb0, 0xa0, 0x90, 0x80,
					      0x70, 0x60, 0x50, 0x40, 0x30, 0x20, 0x10, 0x00};

static struct hc_auth_gw_keys keys(const uint8_t *k0, const uint8_t *k1)
{
	struct hc_auth_gw_keys k;
	memset(&k, 0, sizeof(k));
	if (k0 != NULL) {
		memcpy(k.key[0], k0, HC_AUTH_KEY_LEN);
		k.have[0] = 1;
	}
	if (k1 != NULL) {
		memcpy(k.key[1], k1, HC_AUTH_KEY_LEN);
		k.have[1] = 1;
	}
	return k;
}

static uint16_t flags_of(const uint8_t *p)
{
	return (uint16_t)(p[6] << 8 | p[7]);
}

static void test_auth_seal_verify(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_auth_init(), 0);
	struct hc_auth_gw_keys both = keys(key0, key1), only0 = keys(key0, NULL),
			       only1 = keys(NULL, key1), swapped = keys(key1, key0);
	size_t len = events(5);
	uint8_t plain[2048];
	memcpy(plain, buf, len);

	/* slot 0: AUTH set, KEY_SLOT clear, the tag in bytes 24..39 */
	hc_auth_seal(buf, len, key0, 0);
	CU_ASSERT_EQUAL(flags_of(buf), HC_HDR_F_AUTH);
	uint8_t want[HC_AUTH_TAG_LEN], zeroed[2048];
	memcpy(zeroed, buf, len);
	memset(zeroed + 24, 0, HC_AUTH_TAG_LEN);
	hc_auth_tag(want, zeroed, len, key0);
	CU_ASSERT_EQUAL(memcmp(buf + 24, want, HC_AUTH_TAG_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 40, plain + 40, len - 40), 0); /* body untouched */
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &both), 0);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &only0), 0);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &only1), -1);   /* no key in slot 0 */
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &swapped), -1); /* another key */
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, NULL), -1);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, 39, &both), -1);     /* shorter than a header */
	CU_ASSERT_EQUAL(check(len), HC_PV_OK);                   /* still well formed */
	uint8_t sealed[2048];
	memcpy(sealed, buf, len);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &both), 0);
	CU_ASSERT_EQUAL(memcmp(buf, sealed, len), 0);             /* verify restores the tag */

	/* slot 1: KEY_SLOT set, checked only under slot 1's key */
	memcpy(buf, plain, len);
	hc_auth_seal(buf, len, key1, 1);
	CU_ASSERT_EQUAL(flags_of(buf), HC_HDR_F_AUTH | HC_HDR_F_KEY_SLOT);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &both), 1);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &only1), 1);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &only0), -1);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &swapped), -1);
	/* resealing in slot 0 clears KEY_SLOT */
	hc_auth_seal(buf, len, key0, 0);
	CU_ASSERT_EQUAL(flags_of(buf), HC_HDR_F_AUTH);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &both), 0);

	/* the right tag without the AUTH flag is refused */
	memcpy(buf, plain, len);
	hc_auth_seal(buf, len, key0, 0);
	buf[7] &= (uint8_t)~HC_HDR_F_AUTH;
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &both), -1);
	/* and an unsealed datagram */
	memcpy(buf, plain, len);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &both), -1);

	/* one byte more or less */
	memcpy(buf, plain, len);
	hc_auth_seal(buf, len, key0, 0);
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len - 1, &both), -1);
	buf[len] = 0;
	CU_ASSERT_EQUAL(hc_auth_verify(buf, len + 1, &both), -1);
}

/* Any bit flipped anywhere (header, flags, tag, records) fails. */
static void test_auth_flips(void)
{
	struct hc_auth_gw_keys both = keys(key0, key1);
	for (unsigned slot = 0; slot < 2; slot++) {
		size_t len = events(3);
		hc_auth_seal(buf, len, slot ? key1 : key0, slot);
		CU_ASSERT_EQUAL_FATAL(hc_auth_verify(buf, len, &both), (int)slot);
		unsigned accepted = 0;
		for (size_t i = 0; i < len; i++)
			for (unsigned b = 0; b < 8; b++) {
				buf[i] ^= (uint8_t)(1u << b);
				accepted += hc_auth_verify(buf, len, &both) >= 0;
				buf[i] ^= (uint8_t)(1u << b);
			}
		CU_ASSERT_EQUAL(accepted, 0);
		CU_ASSERT_EQUAL(hc_auth_verify(buf, len, &both), (int)slot);
	}
}

static void test_replay_window(void)
{
	struct hc_replay r;
	hc_replay_reset(&r);
	CU_ASSERT_FALSE(hc_replay_accept(&r, 0));   /* 0: never */
	CU_ASSERT_TRUE(hc_replay_accept(&r, 5));    /* fresh: any first counter */
	CU_ASSERT_FALSE(hc_replay_accept(&r, 5));   /* duplicate */
	CU_ASSERT_TRUE(hc_replay_accept(&r, 3));    /* below, not seen */
	CU_ASSERT_FALSE(hc_replay_accept(&r, 3));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 6));
	CU_ASSERT_FALSE(hc_replay_accept(&r, 0));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 100));  /* jump ahead */
	CU_ASSERT_EQUAL(r.top, 100);
	CU_ASSERT_FALSE(hc_replay_fresh(&r, 100));
	CU_ASSERT_TRUE(hc_replay_fresh(&r, 37));    /* 63 back: in the window */
	CU_ASSERT_FALSE(hc_replay_fresh(&r, 36));   /* 64 back: too old */
	CU_ASSERT_TRUE(hc_replay_accept(&r, 37));
	CU_ASSERT_FALSE(hc_replay_accept(&r, 37));
	CU_ASSERT_FALSE(hc_replay_accept(&r, 36));
	CU_ASSERT_FALSE(hc_replay_accept(&r, 6));   /* seen, and too old by now */
	CU_ASSERT_TRUE(hc_replay_accept(&r, 99));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 101));  /* the window moves by one */
	CU_ASSERT_FALSE(hc_replay_accept(&r, 37));  /* now 64 back */
	CU_ASSERT_FALSE(hc_replay_accept(&r, 99));  /* still remembered */
	CU_ASSERT_FALSE(hc_replay_accept(&r, 100));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 38));   /* 63 back, never seen */
	CU_ASSERT_TRUE(hc_replay_accept(&r, 101 + 64)); /* a jump of exactly 64 */
	CU_ASSERT_FALSE(hc_replay_accept(&r, 101)); /* 64 back */
	CU_ASSERT_TRUE(hc_replay_accept(&r, 102));  /* 63 back, never seen */
	CU_ASSERT_TRUE(hc_replay_accept(&r, 1000000)); /* far ahead forgets all */
	CU_ASSERT_FALSE(hc_replay_accept(&r, 1000000));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 1000000 - 63));
	/* serial-number order across the wrap (0 stays refused) */
	hc_replay_reset(&r);
	CU_ASSERT_TRUE(hc_replay_accept(&r, 0xfffffffeu));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 2));
	CU_ASSERT_FALSE(hc_replay_accept(&r, 0));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 0xffffffffu));
	CU_ASSERT_FALSE(hc_replay_accept(&r, 0xfffffffeu));
	CU_ASSERT_TRUE(hc_replay_accept(&r, 1));
	/* a reset forgets */
	hc_replay_reset(&r);
	CU_ASSERT_TRUE(hc_replay_accept(&r, 1));
}

/* A keys file in a temp dir, with this mode; its path in path. */
static int write_keys(const char *dir, const char *name, const char *text, mode_t mode,
		      char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int rc = fchmod(fd, mode);
	close(fd);
	return n == (ssize_t)strlen(text) && rc == 0 ? 0 : -1;
}

/* NULL expected; err names the line (":N:") or contains `what`. */
static void refused(const char *dir, const char *text, mode_t mode, const char *what)
{
	char path[512], err[512] = "";
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "bad.keys", text, mode, path, sizeof(path)), 0);
	struct hc_auth_keyring *ring = hc_auth_keys_load(path, err, sizeof(err));
	CU_ASSERT_PTR_NULL(ring);
	free(ring);
	if (strstr(err, what) == NULL) {
		fprintf(stderr, "keys file error \"%s\" lacks \"%s\"\n", err, what);
		CU_FAIL("error message");
	}
	unlink(path);
}

static void test_keys_file(void)
{
	char tmpl[] = "/tmp/hc-unit-keys.XXXXXX", path[512], err[512] = "";
	char *dir = mkdtemp(tmpl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);

	static const char good[] =
		"# gateway slot key\n"
		"\n"
		"3 0 000102030405060708090a0b0c0d0e0f\n"
		"3 1 F0E0D0C0B0A090807060504030201000   # upper case, comment\n"
		"   65535 1 ffffffffffffffffffffffffffffffff\n"
		"1 0 00000000000000000000000000000001";   /* no newline at the end */
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "good.keys", good, 0600, path, sizeof(path)), 0);
	struct hc_auth_keyring *ring = hc_auth_keys_load(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(ring->n_gateways, 3);
	CU_ASSERT_EQUAL(ring->n_keys, 4);
	CU_ASSERT_TRUE(ring->gw[3].have[0] && ring->gw[3].have[1]);
	CU_ASSERT_EQUAL(memcmp(ring->gw[3].key[0], key0, 16), 0);
	CU_ASSERT_EQUAL(memcmp(ring->gw[3].key[1], key1, 16), 0);
	CU_ASSERT_TRUE(!ring->gw[65535].have[0] && ring->gw[65535].have[1]);
	CU_ASSERT_EQUAL(ring->gw[65535].key[1][15], 0xff);
	CU_ASSERT_TRUE(ring->gw[1].have[0] && !ring->gw[1].have[1]);
	CU_ASSERT_EQUAL(ring->gw[1].key[0][15], 1);
	CU_ASSERT_FALSE(ring->gw[2].have[0] || ring->gw[2].have[1] || ring->gw[0].have[0]);
	free(ring);
	/* 0400 is private too */
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "good.keys", good, 0400, path, sizeof(path)), 0);
	ring = hc_auth_keys_load(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(ring);
	free(ring);
	unlink(path);
	/* an empty file is a keyring without keys */
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "empty.keys", "# none yet\n", 0600, path,
					 sizeof(path)), 0);
	ring = hc_auth_keys_load(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(ring);
	if (ring != NULL)
		CU_ASSERT_EQUAL(ring->n_keys, 0);
	free(ring);
	unlink(path);

	static const char line1[] = "3 0 000102030405060708090a0b0c0d0e0f\n";
	char text[512];
	/* bad hex: a non-digit, 31 and 33 digits */
	snprintf(text, sizeof(text), "%s3 1 g00102030405060708090a0b0c0d0e0f\n", line1);
	refused(dir, text, 0600, ":2:");
	snprintf(text, sizeof(text), "%s3 1 00102030405060708090a0b0c0d0e0f\n", line1);
	refused(dir, text, 0600, ":2:");
	snprintf(text, sizeof(text), "%s3 1 000102030405060708090a0b0c0d0e0f0\n", line1);
	refused(dir, text, 0600, ":2:");
	/* slot 2, slot -1 */
	snprintf(text, sizeof(text), "%s3 2 000102030405060708090a0b0c0d0e0f\n", line1);
	refused(dir, text, 0600, "slot");
	refused(dir, "3 -1 000102030405060708090a0b0c0d0e0f\n", 0600, ":1:");
	/* gateway 0, 65536, not a number */
	snprintf(text, sizeof(text), "%s0 0 000102030405060708090a0b0c0d0e0f\n", line1);
	refused(dir, text, 0600, ":2:");
	refused(dir, "65536 0 000102030405060708090a0b0c0d0e0f\n", 0600, "gateway");
	refused(dir, "x3 0 000102030405060708090a0b0c0d0e0f\n", 0600, "gateway");
	/* a slot given twice (same key or not) */
	snprintf(text, sizeof(text), "%s%s", line1, line1);
	refused(dir, text, 0600, "twice");
	/* too few or too many fields; a field longer than sscanf's %31s
	 * took is one field (it split it in two: this loaded as gateway 1,
	 * slot 1) */
	refused(dir, "00000000000000000000000000000011 000102030405060708090a0b0c0d0e0f\n", 0600,
		":1:");
	refused(dir, "3 0\n", 0600, ":1:");
	refused(dir, "3 0 000102030405060708090a0b0c0d0e0f extra\n", 0600, ":1:");
	/* group or others may read or write it */
	refused(dir, line1, 0644, "mode");
	refused(dir, line1, 0640, "mode");
	refused(dir, line1, 0602, "mode");
	/* no such file */
	snprintf(path, sizeof(path), "%s/missing.keys", dir);
	CU_ASSERT_PTR_NULL(hc_auth_keys_load(path, err, sizeof(err)));
	/* a directory */
	CU_ASSERT_PTR_NULL(hc_auth_keys_load(dir, err, sizeof(err)));
	CU_ASSERT_EQUAL(rmdir(dir), 0);

	uint8_t k[HC_AUTH_KEY_LEN];
	CU_ASSERT_EQUAL(hc_auth_key_parse("000102030405060708090a0b0c0d0e0f", k), 0);
	CU_ASSERT_EQUAL(memcmp(k, key0, sizeof(k)), 0);
	CU_ASSERT_EQUAL(hc_auth_key_parse("000102030405060708090a0b0c0d0e0", k), -1);
	CU_ASSERT_EQUAL(hc_auth_key_parse("000102030405060708090a0b0c0d0e0z", k), -1);
	CU_ASSERT_EQUAL(hc_auth_key_parse("", k), -1);
}

/* The pair's file key (--state-key): one line of 64 hex digits, comments
 * and blanks around it; refused with the file's name and line when it is
 * short, long, not hex, given twice, absent, or open to group or others.
 * Its MAC: a changed byte fails. */
static void test_file_key(void)
{
	char tmpl[] = "/tmp/hc-unit-fkey.XXXXXX", path[512], err[512] = "";
	char *dir = mkdtemp(tmpl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	static const char hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	char text[256];
	snprintf(text, sizeof(text), "# the pair's key\n\n  %s  # made by hand\n\n", hex);
	uint8_t keys[HC_AUTH_FILE_KEYS_MAX][HC_AUTH_FILE_KEY_LEN];
	unsigned nk = 9;
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "state.key", text, 0600, path, sizeof(path)), 0);
	CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(nk, 1);
	for (unsigned i = 0; i < HC_AUTH_FILE_KEY_LEN; i++)
		CU_ASSERT_EQUAL(keys[0][i], i);
	/* two while the key is rotated: the first signs, in file order */
	snprintf(text, sizeof(text), "# new\n%s\n# old\n%.62sff\n", hex, hex);
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "two.key", text, 0600, path, sizeof(path)), 0);
	CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(nk, 2);
	CU_ASSERT_EQUAL(keys[0][31], 31);
	CU_ASSERT_EQUAL(keys[1][30], 30);
	CU_ASSERT_EQUAL(keys[1][31], 0xff);
	unlink(path);
	static const struct {
		const char *text;
		mode_t mode;
		const char *what;
	} bad[] = {
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n", 0600, ":1:"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0\n", 0600, ":1:"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1z\n", 0600, ":1:"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f x\n", 0600, ":1:"},
		{"# none\n", 0600, "no key"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
		 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1e\n"
		 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1d\n", 0600,
		 ":3: a third key"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0640, "mode"},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0604, "mode"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		memset(keys, 0xaa, sizeof(keys));
		nk = 9;
		CU_ASSERT_EQUAL_FATAL(write_keys(dir, "bad.key", bad[i].text, bad[i].mode, path,
						 sizeof(path)), 0);
		CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), -1);
		for (unsigned k = 0; k < sizeof(keys); k++)
			CU_ASSERT_EQUAL(keys[k / HC_AUTH_FILE_KEY_LEN][k % HC_AUTH_FILE_KEY_LEN], 0);
		CU_ASSERT_EQUAL(nk, 0); /* zeroed, not half loaded */
		if (strstr(err, bad[i].what) == NULL || strstr(err, "bad.key") == NULL) {
			fprintf(stderr, "file key error \"%s\" lacks \"%s\"\n", err, bad[i].what);
			CU_FAIL("error message");
		}
		unlink(path);
	}
	/* a long comment after the key (a 255-byte line read once split it
	 * into a second "key"); a key commented out past 200 bytes is none;
	 * a NUL ends nothing quietly */
	char lng[1024], cs[601];
	memset(cs, 'c', sizeof(cs) - 1);
	cs[sizeof(cs) - 1] = '\0';
	snprintf(lng, sizeof(lng), "%s # %s\n", hex, cs);
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "long.key", lng, 0600, path, sizeof(path)), 0);
	CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(keys[0][31], 31);
	snprintf(lng, sizeof(lng), "# %.200s%s\n", cs, hex);
	CU_ASSERT_EQUAL_FATAL(write_keys(dir, "long.key", lng, 0600, path, sizeof(path)), 0);
	CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no key"));
	int fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, hex, 64), 64);
	CU_ASSERT_EQUAL(write(fd, "\0x\n", 3), 3);
	close(fd);
	CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/state.key", dir);
	CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), 0);
	unlink(path);
	CU_ASSERT_EQUAL(hc_auth_file_key_load(path, keys, &nk, err, sizeof(err)), -1); /* gone */
	CU_ASSERT_EQUAL(rmdir(dir), 0);

	uint8_t key[HC_AUTH_FILE_KEY_LEN];
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	uint8_t body[40] = "5\n7\n", mac[HC_AUTH_FILE_MAC_LEN];
	hc_auth_file_mac(mac, body, 4, key);
	CU_ASSERT_EQUAL(hc_auth_file_check(mac, body, 4, key), 0);
	body[2] = '6';
	CU_ASSERT_EQUAL(hc_auth_file_check(mac, body, 4, key), -1);
	body[2] = '7';
	key[31] ^= 1;
	CU_ASSERT_EQUAL(hc_auth_file_check(mac, body, 4, key), -1);
}

static int unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	if (strlen(hex) % 2 != 0 || n > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)n;
}

/*
 * Test vectors (docs/protocol.md, "Test vectors"): datagrams written out
 * byte by byte, key 000102..0f, the exact tags; checked independently
 * against a from-the-paper SipHash-2-4-128.  And the SipHash reference
 * implementation's own 128-bit vectors (vectors.h, vectors_sip128: key
 * 00..0f, message 00 01 .. n-1), which pin the MAC itself.
 */
static void test_auth_vectors(void)
{
	/* HEARTBEAT, gateway 3, gateway incarnation 0x01020304, appliance
	 * incarnation 0x0a0b0c0d, control counter 1; last_sequence 5, 2
	 * users, interval 100 ms, no hb_flags, digest 0x0123456789abcdef */
	static const uint8_t hb[64] = {
		0x48, 0x43, 0x4e, 0x54, 0x03, 0x05, 0x00, 0x00, /* magic, v3, HEARTBEAT, flags */
		0x00, 0x03, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, /* gateway 3, 1 record, g. inc. */
		0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00, 0x01, /* a. incarnation, counter 1 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* tag (zero while computed) */
		0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x02, /* last_sequence, user_count */
		0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, /* interval_ms, hb_flags */
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* digest */
	};
	static const uint8_t hb_tag[16] = {0x26, 0x22, 0x1c, 0xde, 0xd9, 0x9b, 0xe2, 0x3e,
					   0x05, 0xaa, 0x17, 0xa2, 0x31, 0x8e, 0x58, 0x03};
	/* EVENTS, gateway 3, same incarnations, sequence 7, one JOIN of user
	 * 0x1122334455667788 into room 42, session 0x0006123456789abc;
	 * sealed in slot 1 (same key) */
	static const uint8_t ev[64] = {
		0x48, 0x43, 0x4e, 0x54, 0x03, 0x01, 0x00, 0x00,
		0x00, 0x03, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
		0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00, 0x07,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* user */
		0x00, 0x00, 0x00, 0x2a, 0x01, 0x00, 0x00, 0x00, /* room 42, JOIN, flags, pool */
		0x00, 0x06, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, /* session */
	};
	static const uint8_t ev_tag[16] = {0x12, 0x28, 0xc1, 0x9d, 0x81, 0xdb, 0x69, 0xcd,
					   0xfa, 0xfb, 0xda, 0xc9, 0x38, 0x15, 0xee, 0xf8};
	uint8_t p[64];

	/* the HEARTBEAT: sealed in slot 0 (flags 0x0001), as printed */
	memcpy(p, hb, sizeof(hb));
	hc_auth_seal(p, sizeof(hb), key0, 0);
	CU_ASSERT_EQUAL(p[6], 0x00);
	CU_ASSERT_EQUAL(p[7], 0x01);
	CU_ASSERT_EQUAL(memcmp(p + 24, hb_tag, 16), 0);
	CU_ASSERT_EQUAL(memcmp(p + 40, hb + 40, 24), 0);
	uint8_t printed[64];
	CU_ASSERT_EQUAL(unhex("48434e540305000100030001010203040a0b0c0d00000001"
			      "26221cded99be23e05aa17a2318e5803"
			      "000000050000000200000064000000000123456789abcdef",
			      printed, sizeof(printed)), 64);
	CU_ASSERT_EQUAL(memcmp(p, printed, 64), 0);
	struct hc_auth_gw_keys k = keys(key0, key0);
	CU_ASSERT_EQUAL(hc_auth_verify(p, 64, &k), 0);
	CU_ASSERT_EQUAL(hc_proto_check_inbound(p, 64, MAXR), HC_PV_OK);
	/* the tag is SipHash-2-4-128 of the datagram with flags set and the
	 * tag field zero */
	uint8_t t[16];
	memcpy(p, hb, sizeof(hb));
	p[7] = 0x01;
	hc_auth_tag(t, p, 64, key0);
	CU_ASSERT_EQUAL(memcmp(t, hb_tag, 16), 0);

	/* the EVENTS datagram in slot 1 (flags 0x0003) */
	memcpy(p, ev, sizeof(ev));
	hc_auth_seal(p, sizeof(ev), key0, 1);
	CU_ASSERT_EQUAL(p[7], 0x03);
	CU_ASSERT_EQUAL(memcmp(p + 24, ev_tag, 16), 0);
	CU_ASSERT_EQUAL(unhex("48434e540301000300030001010203040a0b0c0d00000007"
			      "1228c19d81db69cdfafbdac93815eef8"
			      "11223344556677880000002a010000000006123456789abc",
			      printed, sizeof(printed)), 64);
	CU_ASSERT_EQUAL(memcmp(p, printed, 64), 0);
	CU_ASSERT_EQUAL(hc_auth_verify(p, 64, &k), 1);
	CU_ASSERT_EQUAL(hc_proto_check_inbound(p, 64, MAXR), HC_PV_OK);

	/* the reference implementation's vectors_sip128[0], [1], [15], [63] */
	static const struct { unsigned n; const char *tag; } ref[] = {
		{0, "a3817f04ba25a8e66df67214c7550293"},
		{1, "da87c1d86b99af44347659119b22fc45"},
		{15, "5493e99933b0a8117e08ec0f97cfc3d9"},
		{63, "5150d1772f50834a503e069a973fbd7c"},
	};
	uint8_t msg[64], want[16];
	for (unsigned i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		CU_ASSERT_EQUAL(unhex(ref[i].tag, want, sizeof(want)), 16);
		hc_auth_tag(t, msg, ref[i].n, key0);
		CU_ASSERT_EQUAL(memcmp(t, want, 16), 0);
	}
}

/*
 * One vector per message type (docs/protocol.md, "Vectors for every
 * message type"), written here by the encoder (hc_proto_fill_hdr, the
 * record structs, hc_auth_seal with key 00..0f in slot 0): gateway 3,
 * gateway incarnation 0x01020304, appliance incarnation 0x0a0b0c0d, user
 * 0x1122334455667788, room 42, session 0x0006123456789abc.  The test
 * compares each with the document's hex, so the two cannot drift.
 */
static size_t vector_of(const char *name, uint8_t *p)
{
	static const uint8_t k[HC_AUTH_KEY_LEN] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
						   14, 15};
	const uint64_t user = htobe64(0x1122334455667788ull), session = htobe64(0x0006123456789abcull);
	const uint32_t gi = 0x01020304, ai = 0x0a0b0c0d;
	size_t len = 0;
	int a2g = 0;
	memset(p, 0, 256);
	if (strcmp(name, "EVENTS") == 0) {
		hc_proto_fill_hdr(p, HC_MSG_EVENTS, 3, 2, gi, ai, 7);
		struct hc_event e[2] = {
			{.user_id = user, .room_id = htonl(42), .op = HC_OP_JOIN, .session = session},
			{.user_id = htobe64(99), .room_id = htonl(7), .op = HC_OP_LEAVE,
			 .pool_id = htons(1), .session = htobe64(0x0006123400000001ull)}};
		memcpy(p + 40, e, sizeof(e));
		len = 40 + sizeof(e);
	} else if (strcmp(name, "PLACE") == 0) {
		hc_proto_fill_hdr(p, HC_MSG_PLACE, 3, 1, gi, ai, 2);
		struct hc_place pl = {.user_id = user, .request_id = htonl(5)};
		memcpy(p + 40, &pl, sizeof(pl));
		len = 40 + sizeof(pl);
	} else if (strcmp(name, "ASSIGN") == 0) {
		hc_proto_fill_hdr(p, HC_MSG_ASSIGN, 3, 1, gi, ai, 1);
		struct hc_assign as = {.user_id = user, .request_id = htonl(5), .room_id = htonl(42),
				       .status = HC_ASSIGN_PLACED};
		memcpy(p + 40, &as, sizeof(as));
		len = 40 + sizeof(as);
		a2g = 1;
	} else if (strcmp(name, "MOVE") == 0) {
		hc_proto_fill_hdr(p, HC_MSG_MOVE, 3, 1, gi, ai, 2);
		struct hc_move mv = {.user_id = user, .from_room = htonl(42), .to_room = htonl(43),
				     .directive_id = htonl(9)};
		memcpy(p + 40, &mv, sizeof(mv));
		len = 40 + sizeof(mv);
		a2g = 1;
	} else if (strcmp(name, "HEARTBEAT") == 0) { /* A->G */
		hc_proto_fill_hdr(p, HC_MSG_HEARTBEAT, 3, 1, gi, ai, 3);
		struct hc_heartbeat hb = {.last_sequence = htonl(7), .user_count = htonl(1),
					  .interval_ms = htonl(100),
					  .digest = htobe64(hc_member_digest(0x1122334455667788ull, 42))};
		memcpy(p + 40, &hb, sizeof(hb));
		len = 40 + sizeof(hb);
		a2g = 1;
	} else if (strcmp(name, "SNAPSHOT") == 0) {
		hc_proto_fill_hdr(p, HC_MSG_SNAPSHOT, 3, 1, gi, ai, 8);
		struct hc_snapshot_prefix pf = {.snapshot_id = htonl(1), .chunk_index = 0,
						.chunk_count = htonl(1), .total_users = htonl(1)};
		struct hc_member mb = {.user_id = user, .room_id = htonl(42), .session = session};
		memcpy(p + 40, &pf, sizeof(pf));
		memcpy(p + 56, &mb, sizeof(mb));
		len = 56 + sizeof(mb);
	} else if (strcmp(name, "RESYNC") == 0) {
		hc_proto_fill_hdr(p, HC_MSG_RESYNC, 3, 1, gi, ai, 4);
		struct hc_resync rs = {.reason = htonl(HC_RESYNC_GAP), .first_sequence = htonl(5),
				       .last_sequence = htonl(6)};
		memcpy(p + 40, &rs, sizeof(rs));
		len = 40 + sizeof(rs);
		a2g = 1;
	} else {
		return 0;
	}
	if (a2g)
		hc_proto_hdr_add_flags(p, HC_HDR_F_A2G);
	hc_auth_seal(p, len, k, 0);
	return len;
}

static int vector_is_a2g(const char *name)
{
	return strcmp(name, "ASSIGN") == 0 || strcmp(name, "MOVE") == 0 ||
	       strcmp(name, "HEARTBEAT") == 0 || strcmp(name, "RESYNC") == 0;
}

/* hc_member_digest(0x1122334455667788, 42), as docs/protocol.md states */
#define HC_DOC_DIGEST 0xc323525d4118d702ull

static void test_doc_vectors(void)
{
	static const char *names[] = {"EVENTS", "PLACE", "ASSIGN", "MOVE", "HEARTBEAT",
				      "SNAPSHOT", "RESYNC"};
	char path[512];
	snprintf(path, sizeof(path), "%s/docs/protocol.md", HC_SOURCE_ROOT);
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	char line[1024];
	unsigned found = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "    vector NAME HEX..." lines, one datagram each */
		char name[32], hex[600];
		if (sscanf(line, " vector %31s %599s", name, hex) != 2)
			continue;
		uint8_t want[300], got[256];
		int n = unhex(hex, want, sizeof(want));
		size_t len = vector_of(name, got);
		CU_ASSERT_NOT_EQUAL(len, 0);
		CU_ASSERT_EQUAL(n, (int)len);
		if (n != (int)len || memcmp(want, got, len) != 0) {
			fprintf(stderr, "protocol.md vector %s differs; the encoder writes:\n    vector %s ",
				name, name);
			for (size_t i = 0; i < len; i++)
				fprintf(stderr, "%02x", got[i]);
			fprintf(stderr, "\n");
			CU_FAIL("a vector in docs/protocol.md differs from the encoder");
		}
		CU_ASSERT_EQUAL(hc_proto_check_inbound(got, len, MAXR),
				vector_is_a2g(name) ? HC_PV_WRONG_DIRECTION : HC_PV_OK);
		found++;
	}
	fclose(f);
	CU_ASSERT_EQUAL(found, sizeof(names) / sizeof(names[0]));
	if (getenv("HC_PRINT_VECTORS") != NULL) { /* to write the document */
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			uint8_t got[256];
			size_t len = vector_of(names[i], got);
			printf("    vector %s ", names[i]);
			for (size_t b = 0; b < len; b++)
				printf("%02x", got[b]);
			printf("\n");
		}
		printf("digest %016llx\n",
		       (unsigned long long)hc_member_digest(0x1122334455667788ull, 42));
	}
	/* the digest formula's vector */
	CU_ASSERT_EQUAL(hc_member_digest(0x1122334455667788ull, 42), HC_DOC_DIGEST);
}

static CU_TestInfo tests[] = {
	{"valid payloads", test_valid},
	{"header faults", test_header_faults},
	{"the inline EVENTS check agrees with the full one", test_events_fast_path},
	{"length faults", test_length_faults},
	{"record faults", test_record_faults},
	{"other types", test_other_types},
	{"serial numbers", test_serial},
	{"auth: seal and verify, slots, keys, flags, lengths", test_auth_seal_verify},
	{"auth: any flipped bit fails", test_auth_flips},
	{"auth: replay window", test_replay_window},
	{"auth: keys file", test_keys_file},
	{"auth: the pair's file key (--state-key) and its MAC", test_file_key},
	{"auth: test vectors (protocol.md, SipHash reference)", test_auth_vectors},
	{"protocol.md: a vector for every message type, from the encoder", test_doc_vectors},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_proto = {"proto", NULL, NULL, NULL, NULL, tests};
