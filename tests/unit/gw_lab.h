/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_lab.h - a libheadcount session over loopback against sockets the
 * test plays the appliance with (and another source): shared by the
 * gateway library's unit tests.
 */
#ifndef GW_LAB_H
#define GW_LAB_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "hc_auth.h"
#include "headcount.h"

#define GW_ID 9
#define GW_INC 77u

extern const uint8_t gw_lab_key[HC_AUTH_KEY_LEN];

struct lab {
	int app;                  /* the appliance's socket */
	int other;                /* another source */
	struct sockaddr_in gw;    /* the session's address */
	struct hc_gw *g;
	int states[16], reasons[16], index[16], n_states; /* on_state calls */
};

/* Any loopback UDP socket; its address in *a.  -1 on error. */
int udp_socket(struct sockaddr_in *a);
/* on_state for cfg.arg = struct lab *: records the calls. */
void lab_on_state(void *arg, const struct hc_gw_state_change *c);
/* A session for gateway GW_ID talking to l->app; keyed: key in `slot`. */
int lab_open(struct lab *l, int keyed, unsigned slot, uint32_t place_timeout_ms);
/* The lab's sockets only (no session yet); their addresses.  0 or -1. */
int lab_sockets(struct lab *l, struct sockaddr_in *app, struct sockaddr_in *other);
/* After lab_sockets: a session from a config the test set up
 * (hc_gw_config_init and its own fields); unset there: appliance (l->app), bind (loopback), key
 * (gw_lab_key, slot 0), on_state and arg (the lab's, both unset only).  Gateway GW_ID,
 * incarnation GW_INC. */
int lab_start(struct lab *l, struct hc_gw_config *c);
void lab_close(struct lab *l);
/* The next datagram the session sent, driving it meanwhile; its length,
 * 0 if none within 2 s. */
size_t lab_recv(struct lab *l, uint8_t *buf, size_t cap);
/* Send p from fd to the session and let it handle what arrives. */
void lab_deliver(struct lab *l, int fd, const uint8_t *p, size_t len);
/* An A->G HEARTBEAT for GW_ID; sealed in `slot` unless slot < 0. */
size_t a2g_heartbeat(uint8_t *p, uint32_t appl_inc, uint32_t ctr, uint32_t hb_flags, int slot);
struct hc_gw_stats stats(const struct lab *l);
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t lab_now_ms(void);
uint32_t get32(const uint8_t *p);
uint16_t get16(const uint8_t *p);
/* Under our key in slot `slot` (and only there). */
int sealed_in(uint8_t *p, size_t len, unsigned slot);

#endif /* GW_LAB_H */
