/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_proto.c - the payload validator: every verdict, the boundaries.
 */
#include <arpa/inet.h>
#include <string.h>

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
	CU_ASSERT_EQUAL(HC_MAX_EVENTS_MTU1500, 89);
	CU_ASSERT_EQUAL(HC_MAX_EVENTS, 558);
}

static void test_header_faults(void)
{
	size_t len = events(4);
	CU_ASSERT_EQUAL(check(0), HC_PV_TRUNCATED);
	CU_ASSERT_EQUAL(check(sizeof(struct hc_hdr) - 1), HC_PV_TRUNCATED);
	buf[0] ^= 1;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_MAGIC);
	len = events(4); buf[4] = 1; /* version 1: no longer spoken */
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
	len = events(4); buf[7] = 0x04;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_FLAGS);
	len = events(4); buf[7] = 0x01; /* AUTH is a known flag */
	CU_ASSERT_EQUAL(check(len), HC_PV_OK);
	len = events(4); buf[8] = 0; buf[9] = 0;
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_GATEWAY);
}

static void test_length_faults(void)
{
	size_t len = events(4);
	CU_ASSERT_EQUAL(check(len - 1), HC_PV_BAD_LENGTH);   /* count beyond data */
	CU_ASSERT_EQUAL(check(len - 16), HC_PV_BAD_LENGTH);
	CU_ASSERT_EQUAL(check(len + 1), HC_PV_BAD_LENGTH);   /* trailing byte */
	buf[10] = 0xff; buf[11] = 0xff;                      /* count 65535 */
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_LENGTH);
	len = events(4);
	buf[11] = 0;                                         /* count 0, 64 bytes left */
	CU_ASSERT_EQUAL(check(len), HC_PV_BAD_LENGTH);
	CU_ASSERT_EQUAL(check(sizeof(struct hc_hdr)), HC_PV_BAD_RECORD); /* empty */
}

static void test_record_faults(void)
{
	size_t len = events(4);
	uint8_t *ev2 = buf + sizeof(struct hc_hdr) + 2 * 16;
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
	CU_ASSERT_EQUAL(check(40 + 16 + 32), HC_PV_OK);
	CU_ASSERT_EQUAL(check(40 + 32), HC_PV_BAD_LENGTH); /* prefix missing */
	mb[1].flags = htons(1);
	memcpy(buf + 56, mb, sizeof(mb));
	CU_ASSERT_EQUAL(check(40 + 16 + 32), HC_PV_BAD_RECORD); /* member flags */
	mb[1].flags = 0;
	mb[1].room_id = 0;
	memcpy(buf + 56, mb, sizeof(mb));
	CU_ASSERT_EQUAL(check(40 + 16 + 32), HC_PV_BAD_RECORD); /* room 0 */
	mb[1].room_id = htonl(5);
	memcpy(buf + 56, mb, sizeof(mb));
	pf.chunk_index = htonl(1); /* index >= count */
	memcpy(buf + 40, &pf, sizeof(pf));
	CU_ASSERT_EQUAL(check(40 + 16 + 32), HC_PV_BAD_RECORD);
	pf.chunk_index = 0;
	pf.chunk_count = 0;
	memcpy(buf + 40, &pf, sizeof(pf));
	CU_ASSERT_EQUAL(check(40 + 16 + 32), HC_PV_BAD_RECORD);
	pf.chunk_count = htonl(1);
	memcpy(buf + 40, &pf, sizeof(pf));
	hc_proto_fill_hdr((struct hc_hdr *)buf, HC_MSG_SNAPSHOT, 9, 2, 5, 0, 0);
	CU_ASSERT_EQUAL(check(40 + 16 + 32), HC_PV_BAD_SEQUENCE);
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

static CU_TestInfo tests[] = {
	{"valid payloads", test_valid},
	{"header faults", test_header_faults},
	{"length faults", test_length_faults},
	{"record faults", test_record_faults},
	{"other types", test_other_types},
	{"serial numbers", test_serial},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_proto = {"proto", NULL, NULL, NULL, NULL, tests};
