/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tx.h - datagrams from the control core to gateways.
 *
 * Owned by the control core.  Records (ASSIGN now, MOVE next) for one
 * gateway are gathered into one open datagram per gateway and message
 * type, so many answers share a datagram (59 ASSIGN or MOVE records fit a
 * 1500-byte MTU); a datagram leaves when full or at hc_tx_flush (end of
 * each control poll).  Frames are complete Ethernet/IPv4/UDP with
 * checksums, addressed to where the gateway's request came from, and are
 * handed to the gateway's home worker (or any worker with a TX queue on
 * that port): workers own the TX queues.  With keys installed each
 * datagram is sealed under the gateway's key in the slot its own last
 * datagram used (hc_peer.key_slot), and every datagram carries the
 * appliance's reply counter for that gateway (protocol.md, "Replay
 * protection"); a gateway without a key gets nothing, nor does any
 * gateway while an HA appliance is not the master (hc_ha.h).
 */
#ifndef HC_TX_H
#define HC_TX_H

#include <stddef.h>
#include <stdint.h>

#include "hc_ctlmsg.h"
#include "hc_dataplane.h"

struct rte_mbuf;

struct hc_tx_open {
	struct rte_mbuf *m;     /* NULL: none open */
	struct hc_peer to;
	uint16_t count;
	uint16_t listed;        /* in the open list */
};

struct hc_tx_stats {
	uint64_t datagrams, records;
	uint64_t no_mbuf, ring_full, no_txq;
	uint64_t no_key;        /* not sent: keys installed, none for it */
	uint64_t ha_fenced;     /* not sent: --ha and not the master now */
};

#define HC_TX_TYPES 2 /* ASSIGN, MOVE */

struct hc_tx {
	struct hc_dataplane *dp;
	uint32_t incarnation;   /* the appliance's, in every header */
	struct hc_tx_open *open[HC_TX_TYPES]; /* [type][gateway] */
	uint32_t *open_list;    /* (type << 16 | gateway) entries */
	uint32_t n_open;
	uint32_t *reply_ctr;    /* [gateway]: last reply counter used */
	struct hc_tx_stats st;
};

int hc_tx_init(struct hc_tx *tx, struct hc_dataplane *dp, uint32_t incarnation);
void hc_tx_free(struct hc_tx *tx);

/*
 * Add one record of `type` (HC_MSG_ASSIGN or HC_MSG_MOVE) for gateway gw
 * at `to`.  Returns 0, or -1 if no mbuf could be had (counted).
 */
int hc_tx_add(struct hc_tx *tx, uint8_t type, uint16_t gw, const struct hc_peer *to,
	      const void *rec, size_t len);

/*
 * Send one datagram of one record now (HEARTBEAT, RESYNC), its header
 * naming the gateway's incarnation.  Returns 0, or -1 (counted) when no
 * mbuf was free.
 */
int hc_tx_single(struct hc_tx *tx, uint8_t type, uint16_t gw, uint32_t gw_incarnation,
		 const struct hc_peer *to, const void *rec, size_t len);

/* Send every open datagram. */
void hc_tx_flush(struct hc_tx *tx);

#endif /* HC_TX_H */
