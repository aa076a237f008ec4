/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_gateway_embed.c - libheadcount as a program embeds it: driven by
 * someone else's event loop (epoll, libuv) from readability and
 * hc_gw_timeout_ms() only; the session's states (connecting, connected,
 * lost, restarted, the next appliance address); appliance addresses
 * (IPv6, names, lists, bad ones); what callbacks may do; the sized
 * config and the version calls.  Over loopback, against sockets playing
 * the appliance (gw_lab.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "gw_lab.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_unit.h"
#include "headcount.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PLACE records the appliance's socket got (resends included). */
static unsigned places_received(int fd, unsigned *events_datagrams)
{
	uint8_t p[HC_MAX_PAYLOAD];
	unsigned places = 0;
	ssize_t n;
	while ((n = recv(fd, p, sizeof(p), MSG_DONTWAIT)) > 0) {
		if (p[5] == HC_MSG_PLACE)
			places += get16(p + 10);
		if (p[5] == HC_MSG_EVENTS && events_datagrams != NULL)
			(*events_datagrams)++;
	}
	return places;
}

/* What both event-loop tests check once the loop has ended: the PLACE
 * was sent 1 + place_retries times and timed out once, the JOIN's batch
 * went out, and the loop woke for deadlines, not in a spin. */
static void check_loop_outcome(struct lab *l, int wakeups)
{
	struct hc_gw_stats st = stats(l);
	CU_ASSERT_EQUAL(st.place_timeouts, 1);
	CU_ASSERT_EQUAL(st.place_resends, 8); /* place_retries' default */
	CU_ASSERT_EQUAL(st.event_datagrams, 1);
	unsigned events = 0;
	CU_ASSERT_EQUAL(places_received(l->app, &events), 9);
	CU_ASSERT_EQUAL(events, 1);
	CU_ASSERT(wakeups < 1000);
}

/* A JOIN starts a batch: the deadline is the flush timer (1 ms), not
 * the next heartbeat. */
static void join_and_check_deadline(struct lab *l)
{
	CU_ASSERT_EQUAL(hc_gw_join(l->g, 5, 10, 0), 0);
	int wait = hc_gw_timeout_ms(l->g);
	CU_ASSERT(wait >= 0 && wait <= 1);
}

/* An event loop that wakes only when the socket is readable or
 * hc_gw_timeout_ms() has passed (epoll, never a fixed tick) still drives
 * every timer: with the appliance silent, the PLACE is resent
 * place_retries times and then times out, as with hc_gw_poll(g, 10). */
static void test_epoll_loop(void)
{
	struct lab l;
	CU_ASSERT_EQUAL_FATAL(lab_open(&l, 1, 0, 30), 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	CU_ASSERT_EQUAL_FATAL(epoll_ctl(ep, EPOLL_CTL_ADD, hc_gw_fd(l.g), &ev), 0);
	uint32_t id;
	CU_ASSERT_EQUAL(hc_gw_place(l.g, 77, 0, &id), 0);
	join_and_check_deadline(&l);
	double t0 = now_s();
	int wakeups = 0;
	for (int i = 0; i < 10000 && stats(&l).place_timeouts == 0; i++) {
		int wait = hc_gw_timeout_ms(l.g);
		CU_ASSERT(wait >= 0 && wait <= 100000);
		struct epoll_event out;
		if (epoll_wait(ep, &out, 1, wait) < 0 && errno != EINTR)
			break;
		hc_gw_poll(l.g, 0);
		wakeups++;
		if (now_s() - t0 > 20)
			break; /* a broken build: the checks say so */
	}
	check_loop_outcome(&l, wakeups);
	close(ep);
	lab_close(&l);
}

/* The same from libuv, as docs/gateway.md shows it: a uv_poll_t on the
 * session's socket and a one-shot uv_timer_t re-armed at
 * hc_gw_timeout_ms() after every call into the session. */
struct uv_gw {
	struct lab *l;
	uv_poll_t readable;
	uv_timer_t deadline, give_up;
	int wakeups;
};

static void uv_gw_drive(struct uv_gw *u);

static void uv_gw_on_readable(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	uv_gw_drive(h->data);
}

static void uv_gw_on_deadline(uv_timer_t *t)
{
	uv_gw_drive(t->data);
}

static void uv_gw_stop(struct uv_gw *u)
{
	uv_poll_stop(&u->readable);
	uv_timer_stop(&u->deadline);
	uv_timer_stop(&u->give_up);
}

static void uv_gw_on_give_up(uv_timer_t *t)
{
	uv_gw_stop(t->data); /* a broken build: the checks say so */
}

static void uv_gw_drive(struct uv_gw *u)
{
	hc_gw_poll(u->l->g, 0);
	u->wakeups++;
	if (stats(u->l).place_timeouts > 0 || u->wakeups >= 10000) {
		uv_gw_stop(u);
		return;
	}
	uv_timer_start(&u->deadline, uv_gw_on_deadline, (uint64_t)hc_gw_timeout_ms(u->l->g), 0);
}

static void test_libuv_loop(void)
{
	struct lab l;
	CU_ASSERT_EQUAL_FATAL(lab_open(&l, 1, 0, 30), 0);
	uv_loop_t loop;
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	struct uv_gw u = {.l = &l};
	CU_ASSERT_EQUAL_FATAL(uv_poll_init(&loop, &u.readable, hc_gw_fd(l.g)), 0);
	uv_timer_init(&loop, &u.deadline);
	uv_timer_init(&loop, &u.give_up);
	u.readable.data = u.deadline.data = u.give_up.data = &u;
	uint32_t id;
	CU_ASSERT_EQUAL(hc_gw_place(l.g, 77, 0, &id), 0);
	join_and_check_deadline(&l);
	uv_poll_start(&u.readable, UV_READABLE, uv_gw_on_readable);
	uv_timer_start(&u.deadline, uv_gw_on_deadline, (uint64_t)hc_gw_timeout_ms(l.g), 0);
	uv_timer_start(&u.give_up, uv_gw_on_give_up, 20000, 0);
	uv_run(&loop, UV_RUN_DEFAULT); /* returns when the handles stop */
	check_loop_outcome(&l, u.wakeups);
	uv_close((uv_handle_t *)&u.readable, NULL);
	uv_close((uv_handle_t *)&u.deadline, NULL);
	uv_close((uv_handle_t *)&u.give_up, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
	lab_close(&l);
}

/* Drive the session (hc_gw_poll(g, 5)) until the lab has seen n state
 * changes; 0, or -1 after 20 s. */
static int wait_states(struct lab *l, int n)
{
	double t0 = now_s();
	while (l->n_states < n) {
		if (now_s() - t0 > 20)
			return -1;
		hc_gw_poll(l->g, 5);
	}
	return 0;
}

/* A sealed A->G heartbeat from fd (appliance incarnation inc) to the
 * session; the session handles it on its next poll. */
static void send_heartbeat_from(struct lab *l, int fd, uint32_t inc, uint32_t ctr)
{
	uint8_t p[HC_MAX_PAYLOAD];
	size_t len = a2g_heartbeat(p, inc, ctr, 0, 0);
	CU_ASSERT_EQUAL(sendto(fd, p, len, 0, (const struct sockaddr *)&l->gw, sizeof(l->gw)),
			(ssize_t)len);
}

/* Drain fd; how many datagrams of `type` were there. */
static unsigned count_type(int fd, uint8_t type)
{
	uint8_t p[HC_MAX_PAYLOAD];
	unsigned n = 0;
	ssize_t r;
	while ((r = recv(fd, p, sizeof(p), MSG_DONTWAIT)) > 0)
		n += r >= 6 && p[5] == type;
	return n;
}

/* CONNECTING -> CONNECTED when the appliance answers; LOST after lost_ms
 * without a word; with a second address, the session moves there
 * (SWITCHED) and says hello; the answer from there is a new appliance
 * (RESTARTED: a snapshot); the first address is now a wrong source. */
static void test_states_and_switch(void)
{
	struct lab l;
	struct sockaddr_in a_addr, b_addr;
	CU_ASSERT_EQUAL_FATAL(lab_sockets(&l, &a_addr, &b_addr), 0);
	int b = l.other; /* the second appliance */
	char list[128];
	snprintf(list, sizeof(list), "127.0.0.1:%u,127.0.0.1:%u", ntohs(a_addr.sin_port),
		 ntohs(b_addr.sin_port));
	struct hc_gw_config c;
	hc_gw_config_init(&c);
	c.appliance = list;
	c.lost_ms = 300;
	c.heartbeat_ms = 50;
	CU_ASSERT_EQUAL_FATAL(lab_start(&l, &c), 0);
	CU_ASSERT_EQUAL(hc_gw_state(l.g), HC_GW_STATE_CONNECTING);
	const char *text;
	CU_ASSERT_EQUAL(hc_gw_appliance(l.g, &text), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(list, text));

	uint8_t a_first[HC_MAX_PAYLOAD]; /* kept: replayed below */
	size_t a_first_len = a2g_heartbeat(a_first, 1000, 1, 0, 0);
	CU_ASSERT_EQUAL(sendto(l.app, a_first, a_first_len, 0, (const struct sockaddr *)&l.gw,
			       sizeof(l.gw)), (ssize_t)a_first_len);
	CU_ASSERT_EQUAL_FATAL(wait_states(&l, 1), 0);
	CU_ASSERT_EQUAL(l.states[0], HC_GW_STATE_CONNECTED);
	CU_ASSERT_EQUAL(l.reasons[0], HC_GW_REASON_HEARD);
	CU_ASSERT_EQUAL(l.index[0], 0);

	/* silence: LOST, then the next address */
	CU_ASSERT_EQUAL_FATAL(wait_states(&l, 3), 0);
	CU_ASSERT_EQUAL(l.states[1], HC_GW_STATE_LOST);
	CU_ASSERT_EQUAL(l.reasons[1], HC_GW_REASON_SILENT);
	CU_ASSERT_EQUAL(l.states[2], HC_GW_STATE_LOST);
	CU_ASSERT_EQUAL(l.reasons[2], HC_GW_REASON_SWITCHED);
	CU_ASSERT_EQUAL(l.index[2], 1);
	struct hc_gw_stats st = stats(&l);
	CU_ASSERT_EQUAL(st.lost, 1);
	CU_ASSERT(st.appliance_switches >= 1);

	/* B answers while the session talks to it (it may have moved on
	 * meanwhile on a busy machine: then try again when it is back) */
	int answered = 0;
	for (uint32_t ctr = 1; ctr < 50 && !answered; ctr++) {
		double t0 = now_s();
		while (hc_gw_appliance(l.g, NULL) != 1 && now_s() - t0 < 10)
			hc_gw_poll(l.g, 5);
		CU_ASSERT_EQUAL(count_type(b, HC_MSG_HEARTBEAT) > 0 || ctr > 1, 1);
		send_heartbeat_from(&l, b, 5, ctr);
		for (int i = 0; i < 100 && hc_gw_state(l.g) != HC_GW_STATE_CONNECTED; i++)
			hc_gw_poll(l.g, 5);
		answered = hc_gw_state(l.g) == HC_GW_STATE_CONNECTED && hc_gw_appliance(l.g, NULL) == 1;
	}
	CU_ASSERT_TRUE_FATAL(answered);
	int last = (l.n_states - 1) & 15;
	CU_ASSERT_EQUAL(l.states[last], HC_GW_STATE_CONNECTED);
	CU_ASSERT_EQUAL(l.reasons[last], HC_GW_REASON_RESTARTED);
	CU_ASSERT_EQUAL(l.index[last], 1);
	st = stats(&l);
	CU_ASSERT_EQUAL(st.appliance_incarnation, 5);
	CU_ASSERT_EQUAL(st.appliance_restarts, 1);
	/* everything stated again to B: a snapshot (waited for, bounded) */
	int snaps = 0;
	for (double t0 = now_s(); snaps == 0 && now_s() - t0 < 10;) {
		hc_gw_poll(l.g, 5);
		snaps += count_type(b, HC_MSG_SNAPSHOT);
	}
	CU_ASSERT(snaps >= 1);
	/* A, the address left behind, is a wrong source now, while the
	 * session talks to B (B answers first: a busy machine may have let
	 * the session fall silent on B and move on; then again) */
	int judged = 0;
	for (uint32_t k = 0; k < 20 && !judged; k++) {
		send_heartbeat_from(&l, b, 5, 100 + k);
		for (int i = 0; i < 100 && !(hc_gw_state(l.g) == HC_GW_STATE_CONNECTED &&
					     hc_gw_appliance(l.g, NULL) == 1); i++)
			hc_gw_poll(l.g, 5);
		uint64_t wrong = stats(&l).rx_wrong_source;
		send_heartbeat_from(&l, l.app, 1000, 2);
		struct pollfd pfd = {.fd = hc_gw_fd(l.g), .events = POLLIN};
		CU_ASSERT_EQUAL(poll(&pfd, 1, 2000), 1);
		hc_gw_poll(l.g, 0);
		if (hc_gw_appliance(l.g, NULL) != 1 || hc_gw_state(l.g) != HC_GW_STATE_CONNECTED)
			continue; /* it moved on before A's datagram was read */
		CU_ASSERT_EQUAL(stats(&l).rx_wrong_source, wrong + 1);
		judged = 1;
	}
	CU_ASSERT_TRUE(judged);

	/* B falls silent: back to A, whose replay window the session kept:
	 * A's recorded first datagram is a replay, not a new appliance; A's
	 * next one is HEARD (the same incarnation: no restart), and the
	 * session states everything to A again all the same */
	uint64_t replayed = stats(&l).rx_replayed;
	int back = 0;
	for (uint32_t ctr = 3; ctr < 50 && !back; ctr++) {
		double t0 = now_s();
		while (!(hc_gw_appliance(l.g, NULL) == 0 && hc_gw_state(l.g) == HC_GW_STATE_LOST) &&
		       now_s() - t0 < 10)
			hc_gw_poll(l.g, 5);
		count_type(l.app, HC_MSG_SNAPSHOT); /* drain */
		CU_ASSERT_EQUAL(sendto(l.app, a_first, a_first_len, 0,
				       (const struct sockaddr *)&l.gw, sizeof(l.gw)),
				(ssize_t)a_first_len);
		send_heartbeat_from(&l, l.app, 1000, ctr);
		for (int i = 0; i < 100 && hc_gw_state(l.g) != HC_GW_STATE_CONNECTED; i++)
			hc_gw_poll(l.g, 5);
		back = hc_gw_state(l.g) == HC_GW_STATE_CONNECTED && hc_gw_appliance(l.g, NULL) == 0;
	}
	CU_ASSERT_TRUE_FATAL(back);
	st = stats(&l);
	CU_ASSERT(st.rx_replayed > replayed);
	CU_ASSERT_EQUAL(st.appliance_restarts, 1);
	CU_ASSERT_EQUAL(st.appliance_incarnation, 1000);
	last = (l.n_states - 1) & 15;
	CU_ASSERT_EQUAL(l.reasons[last], HC_GW_REASON_HEARD);
	CU_ASSERT_EQUAL(l.index[last], 0);
	snaps = 0;
	for (double t0 = now_s(); snaps == 0 && now_s() - t0 < 10;) {
		hc_gw_poll(l.g, 5);
		snaps += count_type(l.app, HC_MSG_SNAPSHOT);
	}
	CU_ASSERT(snaps >= 1);
	close(b);
	lab_close(&l);
}

/* LOST is judged after the socket is read: a loop that stalled longer
 * than lost_ms while the appliance's datagrams waited in the socket is
 * not LOST.  And an event loop waiting only for readability and
 * hc_gw_timeout_ms() wakes for LOST when the appliance does fall silent. */
static void test_lost_judged_after_reading(void)
{
	struct lab l;
	struct sockaddr_in a, o;
	CU_ASSERT_EQUAL_FATAL(lab_sockets(&l, &a, &o), 0);
	struct hc_gw_config c;
	hc_gw_config_init(&c);
	c.lost_ms = 200;
	c.heartbeat_ms = 100000;
	CU_ASSERT_EQUAL_FATAL(lab_start(&l, &c), 0);
	send_heartbeat_from(&l, l.app, 1000, 1);
	CU_ASSERT_EQUAL_FATAL(wait_states(&l, 1), 0);
	CU_ASSERT_EQUAL(hc_gw_state(l.g), HC_GW_STATE_CONNECTED);
	usleep(300 * 1000); /* the application's loop stalls past lost_ms */
	send_heartbeat_from(&l, l.app, 1000, 2);
	struct pollfd pfd = {.fd = hc_gw_fd(l.g), .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&pfd, 1, 2000), 1);
	CU_ASSERT_EQUAL(hc_gw_poll(l.g, 0), 1);
	CU_ASSERT_EQUAL(hc_gw_state(l.g), HC_GW_STATE_CONNECTED);
	CU_ASSERT_EQUAL(stats(&l).lost, 0);
	CU_ASSERT_EQUAL(l.n_states, 1);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	CU_ASSERT_EQUAL_FATAL(epoll_ctl(ep, EPOLL_CTL_ADD, hc_gw_fd(l.g), &ev), 0);
	int wakeups = 0;
	double t0 = now_s();
	while (hc_gw_state(l.g) != HC_GW_STATE_LOST && wakeups < 10000 && now_s() - t0 < 20) {
		struct epoll_event out;
		epoll_wait(ep, &out, 1, hc_gw_timeout_ms(l.g));
		hc_gw_poll(l.g, 0);
		wakeups++;
	}
	CU_ASSERT_EQUAL(hc_gw_state(l.g), HC_GW_STATE_LOST);
	CU_ASSERT_EQUAL(stats(&l).lost, 1);
	CU_ASSERT(wakeups < 50);
	close(ep);
	lab_close(&l);
}

/* A UDP socket bound to IPv6 address `ip` (any port); -1 if this host
 * has no IPv6 there. */
static int udp6_socket(const char *ip, int v6only, uint16_t *port)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	socklen_t len = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin6_port);
	return fd;
}

/* Open a session to `appliance` (keyed, gateway GW_ID); NULL with err. */
static struct hc_gw *open_to(const char *appliance, const char *bind_to, char *err, size_t n)
{
	struct hc_gw_config c;
	hc_gw_config_init(&c);
	c.appliance = appliance;
	c.bind = bind_to;
	c.gateway_id = GW_ID;
	c.key = gw_lab_key;
	c.key_len = HC_GW_KEY_LEN;
	return hc_gw_open(&c, err, n);
}

/* The session's first datagrams (a snapshot, a heartbeat) reach fd. */
static int reached(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, 2000) == 1 && count_type(fd, HC_MSG_HEARTBEAT) == 1;
}

/* IPv6 literals, names, mixed lists (one dual-stack socket: the IPv4
 * appliance answers through it and is recognised), and the addresses
 * hc_gw_open refuses with a reason. */
static void test_addresses(void)
{
	char list[256], err[256];
	struct hc_gw *g;
	uint16_t port6;
	int six = udp6_socket("::1", 1, &port6);
	if (six < 0) {
		printf("\n    (no IPv6 on this host: the IPv6 cases are skipped) ");
	} else {
		snprintf(list, sizeof(list), "[::1]:%u", port6);
		g = open_to(list, NULL, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(g);
		CU_ASSERT_TRUE(reached(six));
		hc_gw_close(g, 0);
		/* an IPv4 appliance first, an IPv6 second: one IPv6 socket,
		 * the IPv4 one mapped; its answer is accepted */
		struct lab l;
		struct sockaddr_in a, o;
		CU_ASSERT_EQUAL_FATAL(lab_sockets(&l, &a, &o), 0);
		snprintf(list, sizeof(list), "127.0.0.1:%u,[::1]:%u", ntohs(a.sin_port), port6);
		struct hc_gw_config c;
		hc_gw_config_init(&c);
		c.appliance = list;
		c.bind = "::";
		c.lost_ms = 100000;
		CU_ASSERT_EQUAL_FATAL(lab_start(&l, &c), 0);
		CU_ASSERT_TRUE(reached(l.app));
		struct sockaddr_in6 me;
		socklen_t mlen = sizeof(me);
		getsockname(hc_gw_fd(l.g), (struct sockaddr *)&me, &mlen);
		CU_ASSERT_EQUAL(me.sin6_family, AF_INET6);
		l.gw = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = me.sin6_port,
					    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		send_heartbeat_from(&l, l.app, 1000, 1);
		struct pollfd pfd = {.fd = hc_gw_fd(l.g), .events = POLLIN};
		CU_ASSERT_EQUAL(poll(&pfd, 1, 2000), 1);
		hc_gw_poll(l.g, 0);
		CU_ASSERT_EQUAL(hc_gw_state(l.g), HC_GW_STATE_CONNECTED);
		CU_ASSERT_EQUAL(stats(&l).rx_wrong_source, 0);
		lab_close(&l);
		close(six);
	}
	/* a name: "localhost" has 127.0.0.1 (and often ::1 first): the IPv4
	 * address is taken (the appliance listens on IPv4); a list written
	 * with spaces ("a, b") is read as meant.  (A minimal root filesystem
	 * has no /etc/hosts: there "localhost" is no name, and this is
	 * skipped, loudly.) */
	struct sockaddr_in a4, b4;
	int v4 = udp_socket(&a4), w4 = udp_socket(&b4);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
	if (getaddrinfo("localhost", NULL, &hints, &res) != 0) {
		printf("\n    (no \"localhost\" on this host: the name case is skipped) ");
	} else {
		freeaddrinfo(res);
		snprintf(list, sizeof(list), " localhost:%u , 127.0.0.1:%u", ntohs(a4.sin_port),
			 ntohs(b4.sin_port));
		g = open_to(list, NULL, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(g);
		CU_ASSERT_TRUE(reached(v4));
		const char *text;
		hc_gw_appliance(g, &text);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, "localhost"));
		hc_gw_close(g, 0);
	}
	/* spaces around the addresses of a list */
	snprintf(list, sizeof(list), " 127.0.0.1:%u , 127.0.0.1:%u ", ntohs(a4.sin_port),
		 ntohs(b4.sin_port));
	g = open_to(list, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_TRUE(reached(v4));
	hc_gw_close(g, 0);
	close(v4);
	close(w4);
	/* refused, with the reason */
	static const struct {
		const char *appliance, *says, *bind;
	} bad[] = {
		{"127.0.0.1:7100", "cannot reach", "::1"},
		{"[::1]:7100", "cannot reach", "127.0.0.1"},
		{"no-such-host.invalid", "no-such-host.invalid", NULL},
		{"[::1", "[IPV6]", NULL},
		{"[::1]x", "[IPV6]", NULL},
		{"127.0.0.1:70000", "bad port", NULL},
		{"127.0.0.1:", "bad port", NULL},
		{"127.0.0.1:12x", "bad port", NULL},
		{"127.0.0.1:0", "port 0", NULL},
		{"", "empty", NULL},
		{"127.0.0.1,", "empty", NULL},
		{"1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9", "at most 8", NULL},
		{NULL, "need an appliance", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		g = open_to(bad[i].appliance, bad[i].bind, err, sizeof(err));
		CU_ASSERT_PTR_NULL(g);
		hc_gw_close(g, 0);
		if (strstr(err, bad[i].says) == NULL) {
			printf("\n    '%s': '%s' does not say '%s' ", bad[i].appliance, err,
			       bad[i].says);
			CU_FAIL("the reason");
		}
	}
}

/* What callbacks may do.  on_assign: a PLACED user is joined at once
 * (join inside a callback), and a callback that closes the session stops
 * it at once (the datagram's next records are not handled) and the close
 * happens when hc_gw_poll returns (ASan: nothing used after free).  A
 * nested hc_gw_poll is refused (EBUSY), so are joins and leaves inside
 * hc_gw_foreach. */
struct cb_lab {
	struct lab *l;
	int assigns, close_on, nested_poll, nested_errno;
};

static void cb_on_assign(void *arg, const struct hc_gw_assign *a)
{
	struct cb_lab *c = arg;
	c->assigns++;
	CU_ASSERT_EQUAL(hc_gw_join(c->l->g, a->user_id, a->room_id, a->pool_id), 0);
	c->nested_poll = hc_gw_poll(c->l->g, 0);
	c->nested_errno = errno;
	if (c->assigns == c->close_on)
		hc_gw_close(c->l->g, 1);
}

static void cb_try_leave(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct lab *l = arg;
	(void)room;
	(void)pool;
	errno = 0;
	CU_ASSERT_EQUAL(hc_gw_leave(l->g, user), -1);
	CU_ASSERT_EQUAL(errno, EBUSY);
	errno = 0;
	CU_ASSERT_EQUAL(hc_gw_join(l->g, user + 1000, 3, 0), -1);
	CU_ASSERT_EQUAL(errno, EBUSY);
}

static int *foreach_closer_visits;

static void cb_close_in_foreach(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct hc_gw *g = arg;
	(void)user;
	(void)room;
	(void)pool;
	(*foreach_closer_visits)++;
	errno = 0;
	CU_ASSERT_EQUAL(hc_gw_poll(g, 0), -1); /* no poll inside foreach */
	CU_ASSERT_EQUAL(errno, EBUSY);
	hc_gw_close(g, 1);
}

/* An ASSIGN datagram answering requests 1..n (user 100 + i, room 7). */
static size_t a2g_assigns(uint8_t *p, unsigned n, uint32_t ctr)
{
	hc_proto_fill_hdr(p, HC_MSG_ASSIGN, GW_ID, (uint16_t)n, GW_INC, 1000, ctr);
	hc_proto_hdr_add_flags(p, HC_HDR_F_A2G);
	for (unsigned i = 0; i < n; i++) {
		struct hc_assign a = {.user_id = htobe64(101 + i), .request_id = htonl(1 + i),
				      .room_id = htonl(7), .status = HC_ASSIGN_PLACED};
		memcpy(p + sizeof(struct hc_hdr) + i * sizeof(a), &a, sizeof(a));
	}
	size_t len = sizeof(struct hc_hdr) + n * sizeof(struct hc_assign);
	hc_auth_seal(p, len, gw_lab_key, 0);
	return len;
}

static void test_callback_rules(void)
{
	for (int round = 0; round < 2; round++) {
		struct lab l;
		struct cb_lab cb = {.l = &l, .close_on = round == 0 ? 0 : 2};
		struct hc_gw_config c;
		hc_gw_config_init(&c);
		c.lost_ms = 100000;
		c.on_assign = cb_on_assign;
		c.arg = &cb;
		struct sockaddr_in a, o;
		CU_ASSERT_EQUAL_FATAL(lab_sockets(&l, &a, &o), 0);
		CU_ASSERT_EQUAL_FATAL(lab_start(&l, &c), 0);
		for (uint64_t u = 101; u <= 103; u++)
			CU_ASSERT_EQUAL(hc_gw_place(l.g, u, 0, NULL), 0);
		uint8_t p[HC_MAX_PAYLOAD];
		size_t len = a2g_assigns(p, 3, 1);
		CU_ASSERT_EQUAL(sendto(l.app, p, len, 0, (const struct sockaddr *)&l.gw,
				       sizeof(l.gw)), (ssize_t)len);
		struct pollfd pfd = {.fd = hc_gw_fd(l.g), .events = POLLIN};
		CU_ASSERT_EQUAL(poll(&pfd, 1, 2000), 1);
		errno = 0;
		int got = hc_gw_poll(l.g, 0);
		CU_ASSERT_EQUAL(cb.nested_poll, -1);
		CU_ASSERT_EQUAL(cb.nested_errno, EBUSY);
		if (round == 1) {
			/* closed by the second callback: the third record was
			 * not handled, l.g is gone, and hc_gw_poll says so */
			CU_ASSERT_EQUAL(got, -1);
			CU_ASSERT_EQUAL(errno, ESHUTDOWN);
			CU_ASSERT_EQUAL(cb.assigns, 2);
			close(l.app);
			close(l.other);
			continue;
		}
		CU_ASSERT_EQUAL(got, 1);
		CU_ASSERT_EQUAL(cb.assigns, 3);
		CU_ASSERT_EQUAL(hc_gw_users(l.g), 3);
		CU_ASSERT_EQUAL(hc_gw_room_of(l.g, 102), 7);
		hc_gw_foreach(l.g, cb_try_leave, &l);
		CU_ASSERT_EQUAL(hc_gw_users(l.g), 3);
		CU_ASSERT_EQUAL(hc_gw_leave(l.g, 102), 0); /* outside: fine */
		CU_ASSERT_EQUAL(hc_gw_users(l.g), 2);
		/* a close inside foreach: the walk stops, the session is
		 * closed when it returns (ASan: nothing used after) */
		int visits = 0;
		foreach_closer_visits = &visits;
		hc_gw_foreach(l.g, cb_close_in_foreach, l.g);
		CU_ASSERT_EQUAL(visits, 1);
		close(l.app);
		close(l.other);
	}
}

/* The config is a sized struct: a program built against an older,
 * shorter header gets the defaults for what it lacks; one built against
 * a newer header works if it leaves the fields we do not know unset and
 * is refused if it sets them; an uninitialised one is refused. */
static void test_config_abi(void)
{
	struct newer {
		struct hc_gw_config c;
		uint64_t future_field;
	} n;
	char err[256];
	struct sockaddr_in a;
	int fd = udp_socket(&a);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(a.sin_port));

	hc_gw_config_init_sized(&n.c, sizeof(n));
	CU_ASSERT_EQUAL(n.c.size, sizeof(n));
	CU_ASSERT_EQUAL(n.c.lost_ms, 1000);
	CU_ASSERT_EQUAL(n.future_field, 0);
	n.c.appliance = addr;
	n.c.gateway_id = GW_ID;
	n.c.insecure_no_auth = 1;
	struct hc_gw *g = hc_gw_open(&n.c, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(g);
	hc_gw_close(g, 0);
	n.future_field = 1;
	CU_ASSERT_PTR_NULL(hc_gw_open(&n.c, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not know"));

	/* API 4 is the first sized one: anything shorter was not set up by
	 * hc_gw_config_init (and init writes no byte beyond the size) */
	struct hc_gw_config c;
	memset(&c, 0xa5, sizeof(c));
	hc_gw_config_init_sized(&c, offsetof(struct hc_gw_config, lost_ms));
	CU_ASSERT_EQUAL(c.lost_ms, 0xa5a5a5a5u);
	CU_ASSERT_EQUAL(c.history, 16384);
	c.appliance = addr;
	c.gateway_id = GW_ID;
	c.insecure_no_auth = 1;
	CU_ASSERT_PTR_NULL(hc_gw_open(&c, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "hc_gw_config_init"));
	/* not set up by hc_gw_config_init */
	memset(&c, 0, sizeof(c));
	c.appliance = addr;
	c.gateway_id = GW_ID;
	c.insecure_no_auth = 1;
	CU_ASSERT_PTR_NULL(hc_gw_open(&c, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "hc_gw_config_init"));

	/* the stats too: a shorter struct gets its own bytes, no more */
	struct {
		struct hc_gw_stats st;
		uint64_t canary;
	} s;
	memset(&s, 0xa5, sizeof(s));
	n.future_field = 0;
	g = hc_gw_open(&n.c, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	hc_gw_get_stats_sized(g, &s.st, offsetof(struct hc_gw_stats, lost));
	CU_ASSERT_EQUAL(s.st.snapshots, 1);
	CU_ASSERT_EQUAL(s.st.lost, 0xa5a5a5a5a5a5a5a5u);
	hc_gw_get_stats(g, &s.st);
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.canary, 0xa5a5a5a5a5a5a5a5u);
	/* a newer caller's struct: counters this library lacks read 0 */
	hc_gw_get_stats_sized(g, &s.st, sizeof(s));
	CU_ASSERT_EQUAL(s.canary, 0);
	CU_ASSERT_EQUAL(s.st.snapshots, 1);
	hc_gw_close(g, 0);

	CU_ASSERT_STRING_EQUAL(hc_gw_version(), "4.5.0");
	CU_ASSERT_EQUAL(hc_gw_api_version(), HC_GW_API_VERSION);
	CU_ASSERT_STRING_EQUAL(hc_gw_state_name(HC_GW_STATE_LOST), "lost");
	CU_ASSERT_STRING_EQUAL(hc_gw_reason_name(HC_GW_REASON_RESTARTED), "restarted");
	CU_ASSERT_STRING_EQUAL(hc_gw_state_name(99), "?");
	close(fd);
}

static CU_TestInfo tests[] = {
	{"an epoll loop driven by readability and hc_gw_timeout_ms", test_epoll_loop},
	{"a libuv loop: uv_poll readability and a uv_timer at hc_gw_timeout_ms", test_libuv_loop},
	{"states: connected, lost, the next address, a new appliance there",
	 test_states_and_switch},
	{"LOST is judged after reading; an event loop wakes for it", test_lost_judged_after_reading},
	{"addresses: IPv6, names, mixed lists, refusals with a reason", test_addresses},
	{"callbacks may join and close; nested poll and joins in foreach refused",
	 test_callback_rules},
	{"config: a sized struct (older and newer callers), versions", test_config_abi},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_gateway_embed = {"gateway library embedded", NULL, NULL, NULL, NULL,
					    tests};
