/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_gateway_shard.c - libheadcount's shard layer (hc_gw_shard.h)
 * against two loopback sockets playing two appliances: the map's parser
 * and its refusals, JOIN/LEAVE/PLACE routed by pool (checked on the
 * wire: each appliance receives exactly its pools' events), a user
 * changing pools across appliances, a pool moved by a newer map (the new
 * home receives a JOIN per user into the same room, the old one a LEAVE
 * per user, nothing else), stale maps, the merged timeout and the fds;
 * a map applied all or nothing when a new appliance's session fails.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gw_lab.h"
#include "hc_gw_shard.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_unit.h"

static void test_map_parse(void)
{
	struct hc_gw_shard_map m;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m,
		"# two boxes\nversion 7\nappliance east 198.18.0.1:7100\n"
		"appliance west 198.18.0.4,198.18.0.5  # one box, two addresses\n"
		"pool 1 east 1-99999\n\npool 2 west 100000-199999\n", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.version, 7);
	CU_ASSERT_EQUAL(m.n_appliances, 2);
	CU_ASSERT_STRING_EQUAL(m.appliance[1].addr, "198.18.0.4,198.18.0.5");
	CU_ASSERT_EQUAL(m.n_pools, 2);
	CU_ASSERT_EQUAL(m.pool[1].pool, 2);
	CU_ASSERT_EQUAL(m.pool[1].appliance, 1);
	CU_ASSERT_EQUAL(m.pool[1].room_first, 100000);
	CU_ASSERT_EQUAL(m.pool[1].room_last, 199999);
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"appliance a 1.2.3.4\npool 1 a 1-9\n", "line 2: no 'version N'"},
		{"version 1\nversion 2\n", "line 2: expected one 'version N'"},
		{"version 0\n", "line 1: expected one 'version N'"},
		{"version 1\npool 1 a 1-9\n", "line 2: pool on an appliance not listed"},
		{"version 1\nappliance a x\nappliance a y\n", "line 3: appliance named twice"},
		{"version 1\nappliance a x\nappliance b x\n", "line 3: addresses given twice"},
		{"version 1\nappliance a x\npool 1 a 1-9\npool 2 a 9-12\n",
		 "line 4: room range overlaps"},
		{"version 1\nappliance a x\npool 1 a 1-9\npool 1 a 10-12\n",
		 "line 4: pool listed twice"},
		{"version 1\nappliance a x\npool 1 a 9-1\n", "line 3: expected 'pool ID"},
		{"version 1\nappliance a x\npool 70000 a 1-2\n", "line 3: expected 'pool ID"},
		{"version 1\nshard a\n", "line 2: unknown statement"},
		{"version 1\nappliance a\x01 x\n", "line 2: byte 0x01 at column 12 is not text"},
		{"version 1\n\x7f\n", "line 2: byte 0x7f at column 1 is not text"},
		{"version 1\nappliance \xc3\xa9 x\n",
		 "line 2: byte 0xc3 at column 11 is not text (non-ASCII only in a comment)"},
		{"version 1\r\nappliance a x\r\r\n", "line 2: byte 0x0d at column 14 is not text"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(hc_gw_shard_map_parse(&m, bad[i].text, err, sizeof(err)), -1);
		const char *hit = strstr(err, bad[i].says);
		if (hit == NULL)
			fprintf(stderr, "\nbad map %zu said: %s\n", i, err);
		CU_ASSERT_PTR_NOT_NULL(hit);
	}	/* CRLF line ends and UTF-8 in a comment are text */
	CU_ASSERT_EQUAL(hc_gw_shard_map_parse(&m, "version 3\r\n# caf\xc3\xa9\r\n"
					      "appliance a x # \xc3\xa9\r\n", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.version, 3);
	CU_ASSERT_STRING_EQUAL(m.appliance[0].addr, "x");

	/* a file: a NUL byte is an error with the file and line, not the end
	 * of the map (the statements after it would be lost silently) */
	char path[] = "/tmp/hc-unit-shardmap-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	static const char nul_map[] = "version 4\nappliance a x\npool 1 a 1-9\0\npool 2 a 10-19\n";
	CU_ASSERT_EQUAL(write(fd, nul_map, sizeof(nul_map) - 1), (ssize_t)sizeof(nul_map) - 1);
	close(fd);
	err[0] = '\0';
	CU_ASSERT_EQUAL(hc_gw_shard_map_load(&m, path, err, sizeof(err)), -1);
	char want[256];
	snprintf(want, sizeof(want), "%s: shard map line 3: byte 0x00 at column 13 is not text",
		 path);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* the same file without the NUL loads whole */
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT_FATAL(fd >= 0);
	static const char good_map[] = "version 4\nappliance a x\npool 1 a 1-9\npool 2 a 10-19\n";
	CU_ASSERT_EQUAL(write(fd, good_map, sizeof(good_map) - 1), (ssize_t)sizeof(good_map) - 1);
	close(fd);
	CU_ASSERT_EQUAL(hc_gw_shard_map_load(&m, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.n_pools, 2);
	unlink(path);
}

/* What one fake appliance received: JOIN and LEAVE records by user. */
struct seen {
	unsigned joins, leaves, places, other;
	unsigned datagrams, sealed; /* of them, under the lab's key, slot 0 */
	uint64_t last_user;
	uint32_t last_room;
	uint16_t last_pool;
	uint64_t join_session[64]; /* the session stamp of user u's last JOIN
	                              (u < 64) */
};

/* Poll the shard set and read every datagram waiting on fd for 200 ms
 * after the last one (bounded: 2 s in all). */
static void drain(struct hc_gw_shard *s, int fd, struct seen *v)
{
	uint8_t p[9000];
	for (int rounds = 0; rounds < 20; rounds++) {
		hc_gw_shard_poll(s, 0);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, p, sizeof(p), 0);
		if (n < (ssize_t)sizeof(struct hc_hdr))
			continue;
		unsigned cnt = get16(p + 10);
		if (p[5] == HC_MSG_PLACE) {
			v->places += cnt;
		} else if (p[5] == HC_MSG_EVENTS) {
			for (unsigned i = 0; i < cnt; i++) {
				struct hc_event e;
				memcpy(&e, p + sizeof(struct hc_hdr) + i * sizeof(e), sizeof(e));
				if (e.op == HC_OP_JOIN) {
					v->joins++;
					if (be64toh(e.user_id) < 64)
						v->join_session[be64toh(e.user_id)] =
							be64toh(e.session);
				} else
					v->leaves++;
				v->last_user = be64toh(e.user_id);
				v->last_room = ntohl(e.room_id);
				v->last_pool = ntohs(e.pool_id);
			}
		} else {
			v->other++;
		}
		v->datagrams++;
		v->sealed += sealed_in(p, (size_t)n, 0); /* (last: it zeroes the tag) */
		rounds = 17; /* something came: 300 ms more for the rest */
	}
}

struct shard_lab {
	int a, b;                   /* the two appliances' sockets */
	struct sockaddr_in aa, ba;
	struct hc_gw_shard *s;
	unsigned states;
	unsigned state_shard_mask;
	/* what on_assign does (test_callbacks_close_and_map) */
	enum { ACT_NONE, ACT_APPLY_MAP, ACT_CLOSE, ACT_NESTED_POLL, ACT_CLOSE_SESSION } act;
	const struct hc_gw_shard_map *act_map;
	unsigned assigns;
	uint64_t timed_out[8];      /* the users of PLACEs answered TIMEOUT */
	unsigned n_timed_out;
	int map_rc, map_errno, join_rc, join_errno, place_rc, place_errno;
	char map_err[256];
};

static void on_assign(void *arg, unsigned shard, const struct hc_gw_assign *a)
{
	struct shard_lab *l = arg;
	(void)shard;
	l->assigns++;
	if (a->status == HC_GW_TIMEOUT && l->n_timed_out < 8)
		l->timed_out[l->n_timed_out++] = a->user_id;
	if (l->act == ACT_APPLY_MAP) {
		l->map_rc = hc_gw_shard_apply_map(l->s, l->act_map, l->map_err,
						  sizeof(l->map_err));
		l->map_errno = errno;
	} else if (l->act == ACT_NESTED_POLL) {
		l->map_rc = hc_gw_shard_poll(l->s, 0);
		l->map_errno = errno;
	} else if (l->act == ACT_CLOSE_SESSION) { /* what the API forbids */
		hc_gw_close(hc_gw_shard_session(l->s, shard), 0);
	} else if (l->act == ACT_CLOSE) {
		hc_gw_shard_close(l->s, 1);
		uint32_t req;
		unsigned where;
		l->join_rc = hc_gw_shard_join(l->s, 77, 5, 1);
		l->join_errno = errno;
		l->place_rc = hc_gw_shard_place(l->s, 78, 1, &req, &where);
		l->place_errno = errno;
	}
}

static void on_state(void *arg, unsigned shard, const struct hc_gw_state_change *c)
{
	struct shard_lab *l = arg;
	(void)c;
	l->states++;
	l->state_shard_mask |= 1u << shard;
}

static const char *map_text(const struct shard_lab *l, unsigned version, const char *pool2_on,
			    char *buf, size_t cap)
{
	snprintf(buf, cap, "version %u\nappliance a 127.0.0.1:%u\nappliance b 127.0.0.1:%u\n"
		 "pool 1 a 1-99\npool 2 %s 100-199\npool 3 b 200-299\n", version,
		 ntohs(l->aa.sin_port), ntohs(l->ba.sin_port), pool2_on);
	return buf;
}

static int shard_lab_open(struct shard_lab *l)
{
	memset(l, 0, sizeof(*l));
	l->a = udp_socket(&l->aa);
	l->b = udp_socket(&l->ba);
	if (l->a < 0 || l->b < 0)
		return -1;
	char text[512], err[256];
	struct hc_gw_shard_map m;
	if (hc_gw_shard_map_parse(&m, map_text(l, 1, "a", text, sizeof(text)), err,
				  sizeof(err)) != 0)
		return -1;
	struct hc_gw_config c;
	hc_gw_config_init(&c);
	c.gateway_id = GW_ID;
	c.bind = "127.0.0.1";
	c.insecure_no_auth = 1;
	c.incarnation = GW_INC;
	c.heartbeat_ms = 100000;
	c.lost_ms = 100000;
	struct hc_gw_shard_callbacks cb = {.on_state = on_state, .on_assign = on_assign,
					   .arg = l};
	l->s = hc_gw_shard_open(&m, &c, &cb, err, sizeof(err));
	return l->s == NULL ? -1 : 0;
}

/* shard_lab_open, its sessions' opening datagrams read (and dropped) */
static void shard_lab_open_drained(struct shard_lab *l)
{
	CU_ASSERT_EQUAL_FATAL(shard_lab_open(l), 0);
	struct seen va = {0}, vb = {0};
	drain(l->s, l->a, &va);
	drain(l->s, l->b, &vb);
}

static void shard_lab_close(struct shard_lab *l)
{
	hc_gw_shard_close(l->s, 0);
	close(l->a);
	close(l->b);
}

/* Appliance a's ASSIGN NEW_TOPIC, its reply counter seq, to session g:
 * user out of refused, into room of pool. */
static void new_topic_from_a(struct shard_lab *l, struct hc_gw *g, uint64_t user,
			     uint32_t refused, uint32_t room, uint16_t pool, uint32_t seq)
{
	uint8_t p[256];
	hc_proto_fill_hdr(p, HC_MSG_ASSIGN, GW_ID, 1, GW_INC, 1000, seq);
	hc_proto_hdr_add_flags(p, HC_HDR_F_A2G);
	struct hc_assign as = {.user_id = htobe64(user), .room_id = htonl(room),
			       .refused_room = htonl(refused), .pool_id = htons(pool),
			       .status = HC_ASSIGN_NEW_TOPIC};
	memcpy(p + sizeof(struct hc_hdr), &as, sizeof(as));
	struct sockaddr_in gwa;
	socklen_t gl = sizeof(gwa);
	CU_ASSERT_EQUAL_FATAL(getsockname(hc_gw_fd(g), (struct sockaddr *)&gwa, &gl), 0);
	CU_ASSERT_EQUAL(sendto(l->a, p, sizeof(struct hc_hdr) + sizeof(as), 0,
			       (const struct sockaddr *)&gwa, sizeof(gwa)),
			(ssize_t)(sizeof(struct hc_hdr) + sizeof(as)));
}

/* Map version 3 without pool 3 (a on pools 1, b on 2): refused, EBUSY,
 * for `users` users in pool 3. */
static void refused_dropping_pool_3(struct shard_lab *l, unsigned users)
{
	char text[512], err[256], want[64];
	struct hc_gw_shard_map m;
	snprintf(text, sizeof(text), "version 3\nappliance a 127.0.0.1:%u\n"
		 "appliance b 127.0.0.1:%u\npool 1 a 1-99\npool 2 b 100-199\n",
		 ntohs(l->aa.sin_port), ntohs(l->ba.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m, text, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l->s, &m, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(errno, EBUSY);
	snprintf(want, sizeof(want), "%u users are in pools the new map drops", users);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_routing_and_move(void)
{
	struct shard_lab l;
	CU_ASSERT_EQUAL_FATAL(shard_lab_open(&l), 0);
	struct seen va = {0}, vb = {0};
	drain(l.s, l.a, &va); /* the opening snapshots and heartbeats */
	drain(l.s, l.b, &vb);
	CU_ASSERT_EQUAL(hc_gw_shard_count(l.s), 2);
	CU_ASSERT_STRING_EQUAL(hc_gw_shard_name(l.s, 1), "b");
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 2), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 3), 1);
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 4), -1);
	int fds[4];
	CU_ASSERT_EQUAL(hc_gw_shard_fds(l.s, fds, 4), 2);
	CU_ASSERT_EQUAL(fds[0], hc_gw_fd(hc_gw_shard_session(l.s, 0)));
	CU_ASSERT_EQUAL(fds[1], hc_gw_fd(hc_gw_shard_session(l.s, 1)));
	/* the merged timeout is the smaller session timeout: read between
	 * two readings of both (remaining times only shrink meanwhile) */
	int ta = hc_gw_timeout_ms(hc_gw_shard_session(l.s, 0));
	int tb = hc_gw_timeout_ms(hc_gw_shard_session(l.s, 1));
	int t = hc_gw_shard_timeout_ms(l.s);
	int ta2 = hc_gw_timeout_ms(hc_gw_shard_session(l.s, 0));
	int tb2 = hc_gw_timeout_ms(hc_gw_shard_session(l.s, 1));
	CU_ASSERT(ta >= 0 && tb >= 0);
	CU_ASSERT(t <= (ta < tb ? ta : tb));
	CU_ASSERT(t >= (ta2 < tb2 ? ta2 : tb2));

	/* 10 users in pool 1 and 5 in pool 2 (on a), 7 in pool 3 (on b) */
	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	for (uint64_t u = 1; u <= 10; u++)
		CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, u, 1 + (uint32_t)(u % 3), 1), 0);
	for (uint64_t u = 11; u <= 15; u++)
		CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, u, 150, 2), 0);
	for (uint64_t u = 16; u <= 22; u++)
		CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, u, 250, 3), 0);
	/* refusals: a pool not in the map, a room outside the pool's ids */
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 99, 5, 4), -1);
	CU_ASSERT_EQUAL(errno, ENXIO);
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 99, 150, 1), -1);
	CU_ASSERT_EQUAL(errno, ERANGE);
	uint32_t req;
	unsigned where = 9;
	CU_ASSERT_EQUAL(hc_gw_shard_place(l.s, 500, 4, &req, &where), -1);
	CU_ASSERT_EQUAL(errno, ENXIO);
	CU_ASSERT_EQUAL(hc_gw_shard_place(l.s, 500, 3, &req, &where), 0);
	CU_ASSERT_EQUAL(where, 1);
	CU_ASSERT_EQUAL(hc_gw_shard_leave(l.s, 99), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	/* the users' session stamps, as their first JOINs carried them */
	uint64_t first_session[64] = {0};
	for (unsigned u = 1; u <= 22; u++)
		first_session[u] = u <= 15 ? va.join_session[u] : vb.join_session[u];
	for (unsigned u = 1; u <= 22; u++)
		CU_ASSERT(first_session[u] != 0);
	CU_ASSERT_EQUAL(va.joins, 15);
	CU_ASSERT_EQUAL(va.leaves, 0);
	CU_ASSERT_EQUAL(va.places, 0);
	CU_ASSERT_EQUAL(vb.joins, 7);
	CU_ASSERT(vb.places >= 1); /* resent every 250 ms meanwhile */
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 0)), 15);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 1)), 7);
	struct hc_gw_shard_stats st;
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.unrouted, 2);
	CU_ASSERT_EQUAL(st.out_of_range, 1);

	/* user 16 changes from pool 3 (b) to pool 1 (a): a JOIN on a, a
	 * LEAVE on b; then user 1 leaves (a) */
	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 16, 9, 1), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_leave(l.s, 1), 0);
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	CU_ASSERT_EQUAL(va.joins, 1);
	CU_ASSERT_EQUAL(va.leaves, 1);
	CU_ASSERT_EQUAL(vb.joins, 0);
	CU_ASSERT_EQUAL(vb.leaves, 1);
	CU_ASSERT_EQUAL(vb.last_user, 16);
	/* the same user, the same session: its stamp went with it (a new one
	 * would take the user from a gateway it reconnected through since) */
	CU_ASSERT_EQUAL(va.join_session[16], first_session[16]);
	CU_ASSERT_EQUAL(hc_gw_room_of(hc_gw_shard_session(l.s, 1), 16), 0);
	CU_ASSERT_EQUAL(hc_gw_room_of(hc_gw_shard_session(l.s, 0), 16), 9);

	/* pool 2 moves to b (map 2): 5 JOINs into room 150 on b, 5 LEAVEs on a */
	char text[512], err[256];
	struct hc_gw_shard_map m2;
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m2, map_text(&l, 2, "b", text, sizeof(text)),
						    err, sizeof(err)), 0);
	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m2, err, sizeof(err)), 0);
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	CU_ASSERT_EQUAL(vb.joins, 5);
	CU_ASSERT_EQUAL(vb.leaves, 0);
	for (unsigned u = 11; u <= 15; u++) /* restated on b: their own stamps */
		CU_ASSERT_EQUAL(vb.join_session[u], first_session[u]);
	CU_ASSERT_EQUAL(vb.last_room, 150);
	CU_ASSERT_EQUAL(vb.last_pool, 2);
	CU_ASSERT_EQUAL(va.joins, 0);
	CU_ASSERT_EQUAL(va.leaves, 5);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 0)), 10); /* 9 of pool 1 + 16 */
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 1)), 11); /* 6 of pool 3 + 5 */
	for (uint64_t u = 11; u <= 15; u++)
		CU_ASSERT_EQUAL(hc_gw_room_of(hc_gw_shard_session(l.s, 1), u), 150);
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 2), 1);
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.map_version, 2);
	CU_ASSERT_EQUAL(st.maps_applied, 1);
	CU_ASSERT_EQUAL(st.pools_moved, 1);
	CU_ASSERT_EQUAL(st.users_moved, 5);
	CU_ASSERT_EQUAL(st.strays, 0);
	/* later calls for pool 2 go to b */
	memset(&vb, 0, sizeof(vb));
	CU_ASSERT_EQUAL(hc_gw_shard_leave(l.s, 12), 0);
	drain(l.s, l.b, &vb);
	CU_ASSERT_EQUAL(vb.leaves, 1);
	CU_ASSERT_EQUAL(vb.last_user, 12);

	/* a stray: user 11 (pool 2, now on b) put on a's session behind the
	 * shard set's back, then a's ASSIGN NEW_TOPIC re-joins it there (room
	 * 151): the next poll moves it to b, into room 151 */
	CU_ASSERT_EQUAL(hc_gw_join(hc_gw_shard_session(l.s, 0), 11, 150, 2), 0);
	new_topic_from_a(&l, hc_gw_shard_session(l.s, 0), 11, 150, 151, 2, 1);
	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.strays, 1);
	CU_ASSERT_EQUAL(hc_gw_room_of(hc_gw_shard_session(l.s, 0), 11), 0);
	CU_ASSERT_EQUAL(hc_gw_room_of(hc_gw_shard_session(l.s, 1), 11), 151);
	CU_ASSERT_EQUAL(vb.joins, 1);
	CU_ASSERT_EQUAL(vb.last_room, 151);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 0)), 10);

	/* the same version again, or an older one: refused, nothing moves */
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m2, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(errno, ESTALE);
	/* a map that drops pool 3 while users are in it: refused */
	refused_dropping_pool_3(&l, 6);
	struct hc_gw_shard_map m3;
	/* an appliance whose address changed: refused */
	snprintf(text, sizeof(text), "version 3\nappliance a 127.0.0.1:1\n"
		 "appliance b 127.0.0.1:%u\npool 1 a 1-99\npool 2 b 100-199\npool 3 b 200-299\n",
		 ntohs(l.ba.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m3, text, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m3, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.maps_refused, 3);
	CU_ASSERT_EQUAL(st.map_version, 2);
	CU_ASSERT_EQUAL(hc_gw_shard_users(l.s), 20);

	/* everything to b, a leaves the map: its 10 users move, its session
	 * closes cleanly (a SHUTDOWN heartbeat reaches a), but only once the
	 * PLACE it waits for timed out (closed at once, the PLACE got no
	 * answer at all: the gateway waited for its user for ever) */
	snprintf(text, sizeof(text), "version 9\nappliance b 127.0.0.1:%u\n"
		 "pool 1 b 1-99\npool 2 b 100-199\npool 3 b 200-299\n", ntohs(l.ba.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m3, text, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_place(l.s, 40, 1, &req, &where), 0);
	CU_ASSERT_EQUAL(where, 0);
	struct hc_gw_stats a_before, closed;
	hc_gw_get_stats(hc_gw_shard_session(l.s, 0), &a_before);
	hc_gw_shard_closed_stats(l.s, &closed);
	CU_ASSERT_EQUAL(closed.joins + closed.leaves + closed.places, 0); /* none closed yet */
	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m3, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hc_gw_shard_session(l.s, 0)); /* its PLACE waits */
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 0)), 0);
	/* a's addresses under a new name while a is still open: refused
	 * (two sessions of one gateway id to one appliance) */
	struct hc_gw_shard_map m10;
	snprintf(text, sizeof(text), "version 10\nappliance b 127.0.0.1:%u\n"
		 "appliance a2 127.0.0.1:%u\npool 1 a2 1-99\npool 2 b 100-199\n"
		 "pool 3 b 200-299\n", ntohs(l.ba.sin_port), ntohs(l.aa.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m10, text, err, sizeof(err)), 0);
	errno = 0;
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m10, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "appliance a2: the addresses of appliance a, still open: "
			       "name it a");
	CU_ASSERT_EQUAL(hc_gw_shard_count(l.s), 2);
	for (int i = 0; i < 100 && hc_gw_shard_session(l.s, 0) != NULL; i++)
		hc_gw_shard_poll(l.s, 100); /* (its timeout: 9 sends 250 ms apart) */
	int told = 0; /* the PLACE's TIMEOUT, told (and b's of user 500, maybe) */
	for (unsigned i = 0; i < l.n_timed_out; i++)
		told += l.timed_out[i] == 40;
	CU_ASSERT_EQUAL(told, 1);
	CU_ASSERT_PTR_NULL(hc_gw_shard_session(l.s, 0));
	/* a's counters outlive it: its 10 users' LEAVEs and its PLACE's
	 * TIMEOUT since, nothing else of them changed (a review: a closed
	 * session's counters vanished from the set's totals) */
	hc_gw_shard_closed_stats(l.s, &closed);
	CU_ASSERT_EQUAL(closed.joins, a_before.joins);
	CU_ASSERT_EQUAL(closed.leaves, a_before.leaves + 10);
	CU_ASSERT_EQUAL(closed.places, a_before.places);
	CU_ASSERT_EQUAL(closed.place_timeouts, a_before.place_timeouts + 1);
	CU_ASSERT_EQUAL(closed.refusals, a_before.refusals);
	CU_ASSERT(closed.place_resends > a_before.place_resends); /* (until its timeout) */
	CU_ASSERT_EQUAL(closed.sequence, 0); /* gauges: 0 */
	CU_ASSERT_EQUAL(closed.appliance_users, 0);
	CU_ASSERT_EQUAL(hc_gw_shard_fds(l.s, fds, 4), 2);
	CU_ASSERT_EQUAL(fds[0], -1);
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	CU_ASSERT_EQUAL(va.leaves, 10);
	CU_ASSERT(va.other >= 1); /* the SHUTDOWN heartbeat */
	CU_ASSERT_EQUAL(vb.joins, 10);
	CU_ASSERT_EQUAL(hc_gw_shard_users(l.s), 20);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 1)), 20);
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.users_moved, 15);
	CU_ASSERT_EQUAL(st.pools_moved, 2);
	shard_lab_close(&l);
}


/* A map naming two new appliances, the second of which cannot open (a
 * bad port): refused whole.  Nothing of the set changed (slots, routing,
 * map version, users, no event on the wire); the first new appliance's
 * session, opened before the failure, closed again cleanly: it sent its
 * empty opening snapshot, a heartbeat and the SHUTDOWN heartbeat, and no
 * event.  The same map without the bad appliance then applies, and the
 * new appliance takes the next slot. */
/* A map filled in by hand (the struct is public) is checked as the parser
 * checks text: open and apply_map refuse an inconsistent one (EINVAL, the
 * reason in err) and change nothing; before, a pool's appliance index
 * past the list read and wrote past the set's arrays. */
static void test_map_by_hand_checked(void)
{
	struct shard_lab l;
	CU_ASSERT_EQUAL_FATAL(shard_lab_open(&l), 0);
	char text[512], err[256];
	struct hc_gw_shard_map good, m;
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&good, map_text(&l, 2, "a", text,
								  sizeof(text)), err, sizeof(err)), 0);
	struct hc_gw_config c;
	hc_gw_config_init(&c);
	c.gateway_id = GW_ID;
	c.bind = "127.0.0.1";
	c.insecure_no_auth = 1;
	static const char *want[] = {
		"shard map: pool on an appliance not listed",
		"shard map: more than 256 pools",
		"shard map: appliance named twice",
		"shard map: pool rooms not 1 <= FIRST <= LAST",
		"shard map: room range overlaps another pool's",
		"shard map: pool listed twice",
		"shard map: more than 16 appliances",
		"shard map: addresses given twice (two names, one appliance)",
	};
	for (unsigned k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		m = good;
		CU_ASSERT_FATAL(m.n_pools >= 2 && m.n_appliances >= 2);
		switch (k) {
		case 0: m.pool[0].appliance = 200; break;
		case 1: m.n_pools = 300; break;
		case 2: memcpy(m.appliance[1].name, m.appliance[0].name, HC_GW_SHARD_NAME_LEN); break;
		case 3: m.pool[1].room_first = m.pool[1].room_last + 1; break;
		case 4: m.pool[1].room_first = m.pool[0].room_last; break;
		case 5: m.pool[1].pool = m.pool[0].pool; break;
		case 6: m.n_appliances = 17; break;
		default: memcpy(m.appliance[1].addr, m.appliance[0].addr, HC_GW_SHARD_ADDR_LEN); break;
		}
		err[0] = '\0';
		errno = 0;
		CU_ASSERT_PTR_NULL(hc_gw_shard_open(&m, &c, NULL, err, sizeof(err)));
		CU_ASSERT_EQUAL(errno, EINVAL);
		CU_ASSERT_STRING_EQUAL(err, want[k]);
		err[0] = '\0';
		errno = 0;
		CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m, err, sizeof(err)), -1);
		CU_ASSERT_EQUAL(errno, EINVAL);
		CU_ASSERT_STRING_EQUAL(err, want[k]);
	}
	CU_ASSERT_EQUAL(hc_gw_shard_count(l.s), 2); /* unchanged */
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &good, err, sizeof(err)), 0);
	shard_lab_close(&l);
}

static void test_apply_map_all_or_nothing(void)
{
	struct shard_lab l;
	CU_ASSERT_EQUAL_FATAL(shard_lab_open(&l), 0);
	struct sockaddr_in ca;
	int c = udp_socket(&ca);
	CU_ASSERT_FATAL(c >= 0);
	struct seen va = {0}, vb = {0}, vc = {0};
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	for (uint64_t u = 1; u <= 4; u++)
		CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, u, 150, 2), 0);
	for (uint64_t u = 5; u <= 6; u++)
		CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, u, 250, 3), 0);
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	CU_ASSERT_EQUAL(va.joins, 4);
	CU_ASSERT_EQUAL(vb.joins, 2);

	char text[512], err[256];
	struct hc_gw_shard_map m;
	snprintf(text, sizeof(text), "version 2\nappliance a 127.0.0.1:%u\n"
		 "appliance b 127.0.0.1:%u\nappliance c 127.0.0.1:%u\n"
		 "appliance d 127.0.0.1:99999\npool 1 a 1-99\npool 2 c 100-199\n"
		 "pool 3 d 200-299\n", ntohs(l.aa.sin_port), ntohs(l.ba.sin_port),
		 ntohs(ca.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m, text, err, sizeof(err)), 0);
	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	err[0] = '\0';
	errno = 0;
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m, err, sizeof(err)), -1);
	CU_ASSERT_NOT_EQUAL(errno, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "appliance d (127.0.0.1:99999): address "
					   "'127.0.0.1:99999': bad port"));
	CU_ASSERT_EQUAL(hc_gw_shard_count(l.s), 2);
	CU_ASSERT_PTR_NULL(hc_gw_shard_session(l.s, 2));
	CU_ASSERT_PTR_NULL(hc_gw_shard_name(l.s, 2));
	int fds[4];
	CU_ASSERT_EQUAL(hc_gw_shard_fds(l.s, fds, 4), 2);
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 2), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 3), 1);
	struct hc_gw_shard_stats st;
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.map_version, 1);
	CU_ASSERT_EQUAL(st.maps_applied, 0);
	CU_ASSERT_EQUAL(st.maps_refused, 1);
	CU_ASSERT_EQUAL(st.pools_moved, 0);
	CU_ASSERT_EQUAL(st.users_moved, 0);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 0)), 4);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 1)), 2);
	drain(l.s, l.a, &va);
	drain(l.s, l.b, &vb);
	drain(l.s, c, &vc);
	CU_ASSERT_EQUAL(va.joins + va.leaves + va.places, 0);
	CU_ASSERT_EQUAL(vb.joins + vb.leaves + vb.places, 0);
	CU_ASSERT_EQUAL(vc.joins + vc.leaves + vc.places, 0);
	CU_ASSERT_EQUAL(vc.other, 3); /* snapshot, heartbeat, SHUTDOWN */
	/* a JOIN still goes where map 1 says */
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 7, 160, 2), 0);
	CU_ASSERT_EQUAL(hc_gw_room_of(hc_gw_shard_session(l.s, 0), 7), 160);

	/* without d (pool 3 stays on b): applied, c takes slot 2, pool 2's
	 * five users move from a to c */
	snprintf(text, sizeof(text), "version 2\nappliance a 127.0.0.1:%u\n"
		 "appliance b 127.0.0.1:%u\nappliance c 127.0.0.1:%u\n"
		 "pool 1 a 1-99\npool 2 c 100-199\npool 3 b 200-299\n",
		 ntohs(l.aa.sin_port), ntohs(l.ba.sin_port), ntohs(ca.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m, text, err, sizeof(err)), 0);
	memset(&va, 0, sizeof(va));
	memset(&vc, 0, sizeof(vc));
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_count(l.s), 3);
	CU_ASSERT_STRING_EQUAL(hc_gw_shard_name(l.s, 2), "c");
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 2), 2);
	drain(l.s, l.a, &va);
	drain(l.s, c, &vc);
	CU_ASSERT_EQUAL(va.leaves, 5);
	CU_ASSERT_EQUAL(vc.joins, 5);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 2)), 5);
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.map_version, 2);
	CU_ASSERT_EQUAL(st.maps_applied, 1);
	CU_ASSERT_EQUAL(st.users_moved, 5);
	shard_lab_close(&l);
	close(c);
}

/* The lab opened, the opening datagrams read, users 1..n joined into
 * room 2 of pool 1 (on a) and their JOINs read. */
static void lab_with_users(struct shard_lab *l, uint64_t n)
{
	shard_lab_open_drained(l);
	struct seen va = {0};
	for (uint64_t u = 1; u <= n; u++)
		CU_ASSERT_EQUAL(hc_gw_shard_join(l->s, u, 2, 1), 0);
	drain(l->s, l->a, &va);
	CU_ASSERT_EQUAL(va.joins, n);
}

/* An ASSIGN NEW_TOPIC for user (held by session 0, pool 1, room 2:
 * to room 3) from appliance a, sequence seq. */
static void send_new_topic(struct shard_lab *l, uint64_t user, uint32_t seq)
{
	new_topic_from_a(l, hc_gw_shard_session(l->s, 0), user, 2, 3, 1, seq);
}

/* Poll until on_assign ran (2 s at the most): hc_gw_shard_poll's last
 * return and errno. */
static int poll_for_assign(struct shard_lab *l, unsigned before, int *err)
{
	int rc = 0;
	*err = 0;
	for (int i = 0; i < 200 && l->assigns == before; i++) {
		rc = hc_gw_shard_poll(l->s, 10);
		*err = errno;
		if (rc < 0)
			break;
	}
	return rc;
}

/* What a callback may do to the shard set: a map applied from it is
 * refused (EDEADLK; the set routes by the old map, nothing moved), a
 * nested poll is refused (EBUSY); a close from it is deferred: join and
 * place refuse at once (ESHUTDOWN), no callback runs after it, the poll
 * returns -1 ESHUTDOWN and the set is gone (under AddressSanitizer a use
 * of a freed session would fail this), the appliance sees a clean
 * SHUTDOWN. */
static void test_callbacks_close_and_map(void)
{
	struct shard_lab l;
	struct seen va = {0};
	lab_with_users(&l, 3);

	/* a map moving pool 1 to b, applied from the callback: refused */
	char text[512], err[256];
	struct hc_gw_shard_map m2;
	snprintf(text, sizeof(text), "version 2\nappliance a 127.0.0.1:%u\n"
		 "appliance b 127.0.0.1:%u\npool 1 b 1-99\npool 2 a 100-199\n"
		 "pool 3 b 200-299\n", ntohs(l.aa.sin_port), ntohs(l.ba.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m2, text, err, sizeof(err)), 0);
	l.act = ACT_APPLY_MAP;
	l.act_map = &m2;
	send_new_topic(&l, 1, 1);
	int perr;
	CU_ASSERT(poll_for_assign(&l, 0, &perr) >= 0);
	CU_ASSERT_EQUAL(l.assigns, 1);
	CU_ASSERT_EQUAL(l.map_rc, -1);
	CU_ASSERT_EQUAL(l.map_errno, EDEADLK);
	CU_ASSERT_PTR_NOT_NULL(strstr(l.map_err, "from a callback"));
	struct hc_gw_shard_stats st;
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.map_version, 1);
	CU_ASSERT_EQUAL(st.maps_refused, 1);
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 1), 0);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 0)), 3);
	/* after the poll the same map applies */
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_of_pool(l.s, 1), 1);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 1)), 3);
	/* back to a, for the close below */
	snprintf(text, sizeof(text), "version 3\nappliance a 127.0.0.1:%u\n"
		 "appliance b 127.0.0.1:%u\npool 1 a 1-99\npool 2 a 100-199\n"
		 "pool 3 b 200-299\n", ntohs(l.aa.sin_port), ntohs(l.ba.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m2, text, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_gw_users(hc_gw_shard_session(l.s, 0)), 3);
	memset(&va, 0, sizeof(va));
	drain(l.s, l.a, &va);

	/* closed from the callback: two ASSIGNs wait, the first closes */
	l.act = ACT_CLOSE;
	send_new_topic(&l, 2, 2);
	send_new_topic(&l, 3, 3);
	usleep(20000); /* both in the socket before the poll (loopback) */
	unsigned before = l.assigns;
	int rc = poll_for_assign(&l, before, &perr);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(perr, ESHUTDOWN);
	CU_ASSERT_EQUAL(l.assigns, before + 1); /* none after the close */
	CU_ASSERT_EQUAL(l.join_rc, -1);
	CU_ASSERT_EQUAL(l.join_errno, ESHUTDOWN);
	CU_ASSERT_EQUAL(l.place_rc, -1);
	CU_ASSERT_EQUAL(l.place_errno, ESHUTDOWN);
	/* the clean close said SHUTDOWN: a heartbeat reached a; no record
	 * names user 77 (the JOIN after the close); the NEW_TOPIC's re-join
	 * of user 2, made before the callback, was sent */
	uint8_t p[9000];
	unsigned hb = 0, user77 = 0, user2 = 0;
	for (int i = 0; i < 20; i++) {
		struct pollfd pfd = {.fd = l.a, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			break;
		ssize_t n = recv(l.a, p, sizeof(p), 0);
		if (n >= (ssize_t)sizeof(struct hc_hdr)) {
			hb += p[5] == HC_MSG_HEARTBEAT;
			for (unsigned r = 0; p[5] == HC_MSG_EVENTS && r < get16(p + 10); r++) {
				struct hc_event e;
				memcpy(&e, p + sizeof(struct hc_hdr) + r * sizeof(e), sizeof(e));
				user77 += be64toh(e.user_id) == 77;
				user2 += be64toh(e.user_id) == 2 && ntohl(e.room_id) == 3;
			}
		}
	}
	CU_ASSERT(hb >= 1);
	CU_ASSERT_EQUAL(user77, 0);
	CU_ASSERT_EQUAL(user2, 1);
	close(l.a);
	close(l.b);
}

/* A nested poll from a callback is refused (EBUSY); a session closed
 * directly from its callback (forbidden) leaves its slot closed: the poll
 * says ENOTCONN, calls for its pools fail with ENOTCONN, the other
 * appliance's pools work, and the set closes whole (under
 * AddressSanitizer a use of the freed session would fail this). */
static void test_callbacks_nested_and_direct_close(void)
{
	struct shard_lab l;
	lab_with_users(&l, 2);
	l.act = ACT_NESTED_POLL;
	send_new_topic(&l, 1, 1);
	int perr;
	CU_ASSERT(poll_for_assign(&l, 0, &perr) >= 0);
	CU_ASSERT_EQUAL(l.assigns, 1);
	CU_ASSERT_EQUAL(l.map_rc, -1);
	CU_ASSERT_EQUAL(l.map_errno, EBUSY);

	l.act = ACT_CLOSE_SESSION;
	send_new_topic(&l, 2, 2);
	CU_ASSERT_EQUAL(poll_for_assign(&l, 1, &perr), -1);
	CU_ASSERT_EQUAL(perr, ENOTCONN);
	CU_ASSERT_EQUAL(l.assigns, 2);
	CU_ASSERT_PTR_NULL(hc_gw_shard_session(l.s, 0));
	CU_ASSERT_PTR_NOT_NULL(hc_gw_shard_session(l.s, 1));
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 7, 5, 1), -1);
	CU_ASSERT_EQUAL(errno, ENOTCONN);
	uint32_t req;
	unsigned where;
	CU_ASSERT_EQUAL(hc_gw_shard_place(l.s, 8, 2, &req, &where), -1);
	CU_ASSERT_EQUAL(errno, ENOTCONN);
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 9, 250, 3), 0); /* on b */
	CU_ASSERT_EQUAL(hc_gw_shard_users(l.s), 1);
	int fds[4];
	CU_ASSERT_EQUAL(hc_gw_shard_fds(l.s, fds, 4), 2);
	CU_ASSERT_EQUAL(fds[0], -1);
	CU_ASSERT(hc_gw_shard_poll(l.s, 0) >= 0); /* the set lives on */
	shard_lab_close(&l);
}

/* The set keeps its own copies of base's key and bind address: a caller
 * that wipes and frees its key, and reuses its bind buffer, after
 * hc_gw_shard_open still gets an appliance a later map adds opened with
 * them (before, the set read the caller's pointers again then: freed
 * memory, or a zeroed key, whose datagrams the appliance drops). */
static void test_key_and_bind_copied(void)
{
	struct sockaddr_in aa, ca;
	int a = udp_socket(&aa), c = udp_socket(&ca);
	CU_ASSERT_FATAL(a >= 0 && c >= 0);
	char text[512], err[256];
	struct hc_gw_shard_map m;
	snprintf(text, sizeof(text), "version 1\nappliance a 127.0.0.1:%u\npool 1 a 1-99\n",
		 ntohs(aa.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m, text, err, sizeof(err)), 0);
	uint8_t *key = malloc(HC_GW_KEY_LEN);
	CU_ASSERT_FATAL(key != NULL);
	memcpy(key, gw_lab_key, HC_GW_KEY_LEN);
	char bind[32] = "127.0.0.1";
	struct hc_gw_config cfg;
	hc_gw_config_init(&cfg);
	cfg.gateway_id = GW_ID;
	cfg.bind = bind;
	cfg.key = key;
	cfg.key_len = HC_GW_KEY_LEN;
	cfg.heartbeat_ms = 100000;
	cfg.lost_ms = 100000;
	struct hc_gw_shard *s = hc_gw_shard_open(&m, &cfg, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(key, 0, HC_GW_KEY_LEN);
	free(key);
	snprintf(bind, sizeof(bind), "no such address");
	snprintf(text, sizeof(text), "version 2\nappliance a 127.0.0.1:%u\n"
		 "appliance c 127.0.0.1:%u\npool 1 a 1-99\npool 2 c 100-199\n",
		 ntohs(aa.sin_port), ntohs(ca.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m, text, err, sizeof(err)), 0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(s, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(err[0], '\0');
	CU_ASSERT_EQUAL(hc_gw_shard_count(s), 2);
	CU_ASSERT_EQUAL(hc_gw_shard_join(s, 5, 150, 2), 0);
	/* c's datagrams (its hello, the JOIN): every one under the key */
	struct seen vc = {0};
	for (int tries = 0; tries < 5 && vc.joins == 0; tries++)
		drain(s, c, &vc);
	CU_ASSERT(vc.datagrams >= 2);
	CU_ASSERT_EQUAL(vc.sealed, vc.datagrams);
	hc_gw_shard_close(s, 0);
	close(a);
	close(c);
}

/* A user the set cannot move (on an appliance the map dropped, in a pool
 * the new map has no home for, as that appliance's NEW_TOPIC can put it) is
 * tried again after a backoff, not at every poll.  Polled with a 50 ms
 * timeout for 1.5 s, the set tries at most 9 times (10 ms doubling: at
 * 0, 10, 30, 70, 150, 310, 630 and 1270 ms after the first, and the
 * first): fewer on a slow host, never more.  Before, the set's timeout
 * stayed 0 and every poll tried again (thousands here).  The appliance
 * stays open while the user is there; once the user leaves it closes
 * (when its PLACE has timed out). */
static void test_unmovable_user_backs_off(void)
{
	struct shard_lab l;
	shard_lab_open_drained(&l);
	uint32_t req;
	unsigned where = 9;
	CU_ASSERT_EQUAL(hc_gw_shard_place(l.s, 40, 1, &req, &where), 0); /* keeps a open */
	CU_ASSERT_EQUAL(where, 0);
	char text[512], err[256];
	struct hc_gw_shard_map m;
	snprintf(text, sizeof(text), "version 2\nappliance b 127.0.0.1:%u\n"
		 "pool 1 b 1-99\npool 2 b 100-199\npool 3 b 200-299\n", ntohs(l.ba.sin_port));
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m, text, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_apply_map(l.s, &m, err, sizeof(err)), 0);
	struct hc_gw *ga = hc_gw_shard_session(l.s, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ga); /* its PLACE waits */
	CU_ASSERT_EQUAL_FATAL(hc_gw_join(ga, 41, 450, 4), 0); /* pool 4: no home */
	uint64_t began = lab_now_ms();
	unsigned polls = 0;
	while ((lab_now_ms() - began < 1500 || polls < 3) && polls < 1000000) {
		hc_gw_shard_poll(l.s, 50);
		polls++;
	}
	struct hc_gw_shard_stats st;
	hc_gw_shard_get_stats(l.s, &st);
	if (st.move_errors < 1 || st.move_errors > 9)
		fprintf(stderr, "\nunmovable user: %llu tries in %u polls\n",
			(unsigned long long)st.move_errors, polls);
	CU_ASSERT(st.move_errors >= 1);
	CU_ASSERT(st.move_errors <= 9);
	CU_ASSERT_EQUAL(st.strays, 0);
	CU_ASSERT_PTR_EQUAL(hc_gw_shard_session(l.s, 0), ga);
	CU_ASSERT_EQUAL(hc_gw_room_of(ga, 41), 450);
	/* a's NEW_TOPIC puts the user in pool 1 (room 5), homed on b: a
	 * stray, moved in the poll that took it, not after the backoff the
	 * stuck user left (up to 1 s) */
	new_topic_from_a(&l, ga, 41, 450, 5, 1, 1);
	for (int i = 0; i < 200 && hc_gw_room_of(ga, 41) == 450; i++)
		hc_gw_shard_poll(l.s, 10);
	CU_ASSERT_EQUAL(hc_gw_room_of(ga, 41), 0);
	CU_ASSERT_EQUAL(hc_gw_room_of(hc_gw_shard_session(l.s, 1), 41), 5);
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT_EQUAL(st.strays, 1);
	/* a second stuck user; it leaves: nobody is left behind, a closes
	 * (its PLACE timed out) */
	CU_ASSERT_EQUAL_FATAL(hc_gw_join(ga, 42, 450, 4), 0);
	CU_ASSERT_EQUAL(hc_gw_leave(ga, 42), 0);
	for (int i = 0; i < 100 && hc_gw_shard_session(l.s, 0) != NULL; i++)
		hc_gw_shard_poll(l.s, 100);
	CU_ASSERT_PTR_NULL(hc_gw_shard_session(l.s, 0));
	hc_gw_shard_get_stats(l.s, &st);
	CU_ASSERT(st.move_errors <= 11);
	shard_lab_close(&l);
}

/* A pool in neither the map nor the next (an appliance's NEW_TOPIC named
 * it: the user stays where it is, unroutable) blocks no map; it blocked
 * every one (EBUSY, "users are in pools the new map drops") until the
 * user left.  A pool the next map drops still does. */
static void test_unmapped_pool_blocks_no_map(void)
{
	struct shard_lab l;
	shard_lab_open_drained(&l);
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 3, 1, 1), 0);   /* on a */
	CU_ASSERT_EQUAL(hc_gw_shard_join(l.s, 16, 250, 3), 0); /* on b */
	struct hc_gw *ga = hc_gw_shard_session(l.s, 0);
	new_topic_from_a(&l, ga, 3, 1, 900, 9, 1);
	for (int i = 0; i < 200 && hc_gw_room_of(ga, 3) == 1; i++)
		hc_gw_shard_poll(l.s, 10);
	CU_ASSERT_EQUAL(hc_gw_room_of(ga, 3), 900); /* pool 9: stays on a */
	char text[512], err[256];
	struct hc_gw_shard_map m;
	CU_ASSERT_EQUAL_FATAL(hc_gw_shard_map_parse(&m, map_text(&l, 2, "b", text, sizeof(text)),
						    err, sizeof(err)), 0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(hc_gw_shard_apply_map(l.s, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(err[0], '\0');
	refused_dropping_pool_3(&l, 1);
	CU_ASSERT_EQUAL(hc_gw_room_of(ga, 3), 900);
	shard_lab_close(&l);
}

static CU_TestInfo tests[] = {
	{"the shard map: parsed, refused with the line", test_map_parse},
	{"routing by pool, a pool moved by a newer map", test_routing_and_move},
	{"a map filled in by hand is checked", test_map_by_hand_checked},
	{"a map whose new appliance cannot open: refused whole", test_apply_map_all_or_nothing},
	{"from a callback: a map refused, a close deferred to the poll's end",
	 test_callbacks_close_and_map},
	{"from a callback: a nested poll refused, a session closed directly",
	 test_callbacks_nested_and_direct_close},
	{"the set keeps its own copies of the key and bind address", test_key_and_bind_copied},
	{"a pool in neither map blocks no map", test_unmapped_pool_blocks_no_map},
	{"a user that cannot move is tried again after a backoff, not at every poll",
	 test_unmovable_user_backs_off},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_gateway_shard = {"gateway_shard", NULL, NULL, NULL, NULL, tests};
