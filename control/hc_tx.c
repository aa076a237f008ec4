/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tx.c - datagrams from the control core to gateways (see hc_tx.h).
 * Control lcore only.  Headers and frames are written by the protocol
 * toolkit (proto/hc_proto_hdr.c, proto/hc_frame.c).
 */
#include "hc_tx.h"

#include <errno.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "hc_auth.h"
#include "hc_frame.h"
#include "hc_proto.h"
#include "hc_proto_check.h"
#include "hc_proto_hdr.h"

static int type_index(uint8_t type)
{
	return type == HC_MSG_ASSIGN ? 0 : 1;
}

int hc_tx_init(struct hc_tx *tx, struct hc_dataplane *dp, uint32_t incarnation)
{
	uint32_t g = dp->cfg->max_gateways;
	memset(tx, 0, sizeof(*tx));
	tx->dp = dp;
	tx->incarnation = incarnation;
	for (int t = 0; t < HC_TX_TYPES; t++) {
		tx->open[t] = rte_zmalloc("hc_tx_open", sizeof(struct hc_tx_open) * g, 64);
		if (tx->open[t] == NULL)
			goto fail;
	}
	tx->open_list = rte_malloc("hc_tx_list", sizeof(uint32_t) * g * HC_TX_TYPES, 64);
	tx->reply_ctr = rte_zmalloc("hc_tx_ctr", sizeof(uint32_t) * g, 64);
	if (tx->open_list == NULL || tx->reply_ctr == NULL)
		goto fail;
	return 0;
fail:
	hc_tx_free(tx);
	return -ENOMEM;
}

void hc_tx_free(struct hc_tx *tx)
{
	for (int t = 0; t < HC_TX_TYPES; t++) {
		if (tx->open[t] == NULL)
			continue;
		for (uint32_t g = 0; g < tx->dp->cfg->max_gateways; g++)
			rte_pktmbuf_free(tx->open[t][g].m);
		rte_free(tx->open[t]);
	}
	rte_free(tx->open_list);
	rte_free(tx->reply_ctr);
	memset(tx, 0, sizeof(*tx));
}

/* Finish the headers of o's datagram and hand it to a worker. */
static void send_open_inc(struct hc_tx *tx, uint8_t type, uint16_t gw, struct hc_tx_open *o,
			  uint32_t gw_incarnation)
{
	struct rte_mbuf *m = o->m;
	const struct hc_config *cfg = tx->dp->cfg;
	size_t rec = hc_proto_record_size(type);
	uint16_t payload = (uint16_t)(sizeof(struct hc_hdr) + o->count * rec);

	o->m = NULL;
	if (tx->dp->ha && !__atomic_load_n(&tx->dp->ha_serving, __ATOMIC_RELAXED)) {
		tx->st.ha_fenced++; /* an HA backup (demoted) sends nothing */
		rte_pktmbuf_free(m);
		o->count = 0;
		return;
	}
	if (o->to.port_id >= RTE_MAX_ETHPORTS) {
		tx->st.no_txq++;
		rte_pktmbuf_free(m);
		o->count = 0;
		return;
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct hc_frame_addr a = {.src_ip = rte_be_to_cpu_32(cfg->ip_be),
		.dst_ip = rte_be_to_cpu_32(o->to.ip_be), .src_port = (uint16_t)cfg->udp_port,
		.dst_port = rte_be_to_cpu_16(o->to.udp_be)};

	memcpy(a.dst_mac, o->to.mac, RTE_ETHER_ADDR_LEN);
	memcpy(a.src_mac, &tx->dp->port_mac[o->to.port_id], RTE_ETHER_ADDR_LEN);
	const struct hc_auth_gw_keys *k = NULL;
	if (tx->dp->auth) {
		k = hc_dp_keys_of(tx->dp, gw);
		if (k == NULL || !k->have[o->to.key_slot]) {
			tx->st.no_key++;
			rte_pktmbuf_free(m);
			o->count = 0;
			return;
		}
	}
	uint32_t ctr = ++tx->reply_ctr[gw];
	if (ctr == 0)
		ctr = tx->reply_ctr[gw] = 1;
	if (gw_incarnation == 0) /* ASSIGN, MOVE: the gateway as we know it now */
		gw_incarnation = hc_dp_gateway_incarnation(tx->dp, gw);
	hc_proto_fill_hdr(f + HC_FRAME_HDR_LEN, type, gw, o->count, gw_incarnation,
			  tx->incarnation, ctr);
	hc_proto_hdr_add_flags(f + HC_FRAME_HDR_LEN, HC_HDR_F_A2G);
	if (k != NULL)
		hc_auth_seal(f + HC_FRAME_HDR_LEN, payload, k->key[o->to.key_slot], o->to.key_slot);
	hc_frame_put_headers(f, &a, 0, payload);
	m->data_len = m->pkt_len = (uint32_t)(HC_FRAME_HDR_LEN + payload);
	m->port = o->to.port_id;

	int rc = hc_chan_give_frame(tx->dp, gw, m);
	if (rc != 0) {
		if (rc == -ENODEV)
			tx->st.no_txq++;
		else
			tx->st.ring_full++;
		rte_pktmbuf_free(m);
	} else {
		tx->st.datagrams++;
		tx->st.records += o->count;
	}
	o->count = 0;
}

static void send_open(struct hc_tx *tx, uint8_t type, uint16_t gw, struct hc_tx_open *o)
{
	send_open_inc(tx, type, gw, o, 0);
}

int hc_tx_single(struct hc_tx *tx, uint8_t type, uint16_t gw, uint32_t gw_incarnation,
		 const struct hc_peer *to, const void *rec, size_t len)
{
	struct hc_tx_open o = {.to = *to, .count = 1};
	o.m = rte_pktmbuf_alloc(hc_dp_ctl_pool(tx->dp));
	if (o.m == NULL) {
		tx->st.no_mbuf++;
		return -1;
	}
	memcpy(rte_pktmbuf_mtod_offset(o.m, uint8_t *, HC_FRAME_HDR_LEN + sizeof(struct hc_hdr)), rec, len);
	send_open_inc(tx, type, gw, &o, gw_incarnation);
	return 0;
}

int hc_tx_add(struct hc_tx *tx, uint8_t type, uint16_t gw, const struct hc_peer *to,
	      const void *rec, size_t len)
{
	int t = type_index(type);
	struct hc_tx_open *o = &tx->open[t][gw];
	uint16_t per = (uint16_t)((HC_MAX_PAYLOAD_MTU1500 - sizeof(struct hc_hdr)) / len);

	if (o->m != NULL && (!hc_peer_same(&o->to, to) || o->count == per))
		send_open(tx, type, gw, o);
	if (o->m == NULL) {
		o->m = rte_pktmbuf_alloc(hc_dp_ctl_pool(tx->dp));
		if (o->m == NULL) {
			tx->st.no_mbuf++;
			return -1;
		}
		o->to = *to;
		o->count = 0;
		if (!o->listed) {
			o->listed = 1;
			tx->open_list[tx->n_open++] = (uint32_t)t << 16 | gw;
		}
	}
	uint8_t *dst = rte_pktmbuf_mtod_offset(o->m, uint8_t *,
					       HC_FRAME_HDR_LEN + sizeof(struct hc_hdr) + o->count * len);
	memcpy(dst, rec, len);
	o->count++;
	return 0;
}

void hc_tx_flush(struct hc_tx *tx)
{
	for (uint32_t i = 0; i < tx->n_open; i++) {
		int t = (int)(tx->open_list[i] >> 16);
		uint16_t gw = (uint16_t)tx->open_list[i];
		struct hc_tx_open *o = &tx->open[t][gw];
		if (o->m != NULL && o->count > 0)
			send_open(tx, t == 0 ? HC_MSG_ASSIGN : HC_MSG_MOVE, gw, o);
		o->listed = 0;
	}
	tx->n_open = 0;
}
