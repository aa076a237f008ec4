/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_lab.c - the loopback lab of gw_lab.h: a libheadcount session and
 * the sockets a test plays the appliance with.
 */
#include "gw_lab.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_unit.h"

const uint8_t gw_lab_key[HC_AUTH_KEY_LEN] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
					     0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};


void lab_on_state(void *arg, const struct hc_gw_state_change *c)
{
	struct lab *l = arg;
	if (l->n_states < 16) {
		l->states[l->n_states] = c->state;
		l->reasons[l->n_states] = c->reason;
		l->index[l->n_states] = (int)c->appliance_index;
	}
	l->n_states++;
}

int udp_socket(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(*a);
	if (bind(fd, (struct sockaddr *)a, sizeof(*a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)a, &len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A session for gateway GW_ID talking to l->app; keyed: the key in `slot`. */
int lab_open(struct lab *l, int keyed, unsigned slot, uint32_t place_timeout_ms)
{
	struct hc_gw_config c;
	hc_gw_config_init(&c);
	c.heartbeat_ms = 100000; /* only the first heartbeat, unless asked */
	c.lost_ms = 100000;      /* never LOST, unless a test wants it */
	c.place_timeout_ms = place_timeout_ms;
	if (keyed) {
		c.key = gw_lab_key;
		c.key_len = sizeof(gw_lab_key);
		c.key_slot = (uint8_t)slot;
	} else {
		c.insecure_no_auth = 1;
	}
	struct sockaddr_in app, other;
	if (lab_sockets(l, &app, &other) != 0)
		return -1;
	return lab_start(l, &c);
}

int lab_sockets(struct lab *l, struct sockaddr_in *app, struct sockaddr_in *other)
{
	memset(l, 0, sizeof(*l));
	l->app = udp_socket(app);
	l->other = udp_socket(other);
	return l->app < 0 || l->other < 0 ? -1 : 0;
}

int lab_start(struct lab *l, struct hc_gw_config *c)
{
	struct sockaddr_in app;
	socklen_t alen = sizeof(app);
	char appliance[64], err[256];
	if (getsockname(l->app, (struct sockaddr *)&app, &alen) != 0)
		return -1;
	snprintf(appliance, sizeof(appliance), "127.0.0.1:%u", ntohs(app.sin_port));
	if (c->appliance == NULL)
		c->appliance = appliance;
	if (c->bind == NULL)
		c->bind = "127.0.0.1:0";
	c->gateway_id = GW_ID;
	c->incarnation = GW_INC;
	if (c->key == NULL && !c->insecure_no_auth) {
		c->key = gw_lab_key;
		c->key_len = sizeof(gw_lab_key);
	}
	if (c->on_state == NULL && c->arg == NULL)
		c->on_state = lab_on_state; /* it takes arg as the lab */
	if (c->arg == NULL)
		c->arg = l;
	l->g = hc_gw_open(c, err, sizeof(err));
	if (c->appliance == appliance)
		c->appliance = NULL;
	if (l->g == NULL) {
		fprintf(stderr, "hc_gw_open: %s\n", err);
		return -1;
	}
	socklen_t len = sizeof(l->gw);
	return getsockname(hc_gw_fd(l->g), (struct sockaddr *)&l->gw, &len);
}

void lab_close(struct lab *l)
{
	hc_gw_close(l->g, 0);
	close(l->app);
	close(l->other);
}

/* The next datagram the session sent, driving it meanwhile; its length,
 * 0 if none within 2 s. */
size_t lab_recv(struct lab *l, uint8_t *buf, size_t cap)
{
	for (int i = 0; i < 200; i++) {
		ssize_t n = recv(l->app, buf, cap, MSG_DONTWAIT);
		if (n > 0)
			return (size_t)n;
		struct pollfd pfd = {.fd = l->app, .events = POLLIN};
		hc_gw_poll(l->g, 0);
		poll(&pfd, 1, 10);
	}
	return 0;
}

/* Send p from fd to the session and let it handle what arrives. */
void lab_deliver(struct lab *l, int fd, const uint8_t *p, size_t len)
{
	CU_ASSERT_EQUAL(sendto(fd, p, len, 0, (const struct sockaddr *)&l->gw, sizeof(l->gw)),
			(ssize_t)len);
	struct pollfd pfd = {.fd = hc_gw_fd(l->g), .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&pfd, 1, 2000), 1);
	CU_ASSERT_EQUAL(hc_gw_poll(l->g, 0), 1);
}

/* An A->G HEARTBEAT for GW_ID; sealed in `slot` unless slot < 0. */
size_t a2g_heartbeat(uint8_t *p, uint32_t appl_inc, uint32_t ctr, uint32_t hb_flags,
			    int slot)
{
	struct hc_heartbeat hb = {.last_sequence = htonl(1), .user_count = 0,
				  .interval_ms = htonl(100), .hb_flags = htonl(hb_flags)};
	hc_proto_fill_hdr(p, HC_MSG_HEARTBEAT, GW_ID, 1, GW_INC, appl_inc, ctr);
	hc_proto_hdr_add_flags(p, HC_HDR_F_A2G);
	memcpy(p + sizeof(struct hc_hdr), &hb, sizeof(hb));
	size_t len = sizeof(struct hc_hdr) + sizeof(hb);
	if (slot >= 0)
		hc_auth_seal(p, len, gw_lab_key, (unsigned)slot);
	return len;
}

struct hc_gw_stats stats(const struct lab *l)
{
	struct hc_gw_stats st;
	hc_gw_get_stats(l->g, &st);
	return st;
}

uint64_t lab_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return ntohl(v); }
uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return ntohs(v); }

/* Under our key in slot `slot` (and only there). */
int sealed_in(uint8_t *p, size_t len, unsigned slot)
{
	struct hc_auth_gw_keys k = {0};
	memcpy(k.key[slot], gw_lab_key, sizeof(gw_lab_key));
	k.have[slot] = 1;
	return hc_auth_verify(p, len, &k) == (int)slot;
}

