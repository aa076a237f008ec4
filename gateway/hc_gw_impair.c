/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_impair.c - delay and reordering for tests (see .h).  A FIFO of
 * held datagrams: all are held equally long, so the head is always the
 * first due.  When it is full, a datagram passes undelayed.
 */
#include "hc_gw_impair.h"

#include <stdlib.h>
#include <string.h>

#include "hc_proto.h"

#define HELD 4096u

struct held {
	uint64_t due_us;
	uint16_t len;
	uint8_t dir;
	uint8_t data[HC_MAX_PAYLOAD_MTU1500];
};

struct hc_gw_impair {
	uint32_t threshold;  /* of 2^32 */
	uint32_t delay_us;
	uint64_t rng;
	uint32_t head, tail;
	struct held q[HELD];
};

struct hc_gw_impair *hc_gw_impair_new(double fraction, uint32_t delay_ms, uint32_t seed)
{
	struct hc_gw_impair *im = calloc(1, sizeof(*im));
	if (im == NULL)
		return NULL;
	im->threshold = fraction >= 1.0 ? UINT32_MAX : (uint32_t)(fraction * 4294967296.0);
	im->delay_us = delay_ms * 1000u;
	im->rng = 0x9E3779B97F4A7C15ull ^ seed;
	return im;
}

void hc_gw_impair_free(struct hc_gw_impair *im)
{
	free(im);
}

static uint32_t next_rand(struct hc_gw_impair *im)
{
	im->rng ^= im->rng << 13;
	im->rng ^= im->rng >> 7;
	im->rng ^= im->rng << 17;
	return (uint32_t)(im->rng >> 16);
}

int hc_gw_impair_hold(struct hc_gw_impair *im, int dir, const uint8_t *p, uint16_t len,
		      uint64_t now_us)
{
	if (next_rand(im) >= im->threshold || im->tail - im->head == HELD ||
	    len > HC_MAX_PAYLOAD_MTU1500)
		return 0;
	struct held *h = &im->q[im->tail++ % HELD];
	h->due_us = now_us + im->delay_us;
	h->len = len;
	h->dir = (uint8_t)dir;
	memcpy(h->data, p, len);
	return 1;
}

int hc_gw_impair_due(struct hc_gw_impair *im, uint64_t now_us, uint8_t *p, uint16_t *len)
{
	if (im->head == im->tail || im->q[im->head % HELD].due_us > now_us)
		return -1;
	struct held *h = &im->q[im->head++ % HELD];
	memcpy(p, h->data, h->len);
	*len = h->len;
	return h->dir;
}
