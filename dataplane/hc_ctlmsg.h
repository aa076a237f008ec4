/*
 * hc_ctlmsg.h - what workers and the control core pass each other.
 *
 * Worker -> control, over one SP/SC ring per worker and kind:
 *   struct hc_change    (hc_members.h) applied changes, seat requests of
 *                       JOINs, and gateways' addresses as their home
 *                       workers learn them;
 *   struct hc_place_req one PLACE record, with the address to answer.
 * Control -> worker:
 *   struct hc_decision  the answer to each seat request, in order;
 *   ready-made frames (mbufs, m->port set) for the worker to transmit on
 *   its own TX queue of that port, since workers own the TX queues.
 */
#ifndef HC_CTLMSG_H
#define HC_CTLMSG_H

#include <stdint.h>

/* Where a gateway's datagram came from: where to answer. 16 bytes. */
struct hc_peer {
	uint32_t ip_be;      /* source IPv4 address, network order */
	uint16_t udp_be;     /* source UDP port, network order     */
	uint16_t port_id;    /* ethdev it arrived on               */
	uint8_t mac[6];      /* source MAC                         */
	uint16_t pad;
};

/*
 * Control -> worker, 16 bytes, one of:
 *   an answer to a seat request (HC_CHG_REQUEST): user_id, room_id asked
 *     for, `admitted` bit 0 (1 apply the JOIN, 0 refused), bits 16..31 the
 *     gateway of the JOIN (the user's owner from now on);
 *   a pick request (bit 1 set): pick up to HC_PICK_COUNT(user_id) users of
 *     room_id not picked in the last HC_PICK_COOLDOWN(user_id) seconds,
 *     to move to HC_PICK_TO(user_id); answered by HC_CHG_PICK changes.
 */
struct hc_decision {
	uint64_t user_id;
	uint32_t room_id;
	uint32_t admitted;
};
#define HC_DEC_PICK 2u
#define HC_PICK_ARG(to, count, cooldown_s) \
	((uint64_t)(to) | (uint64_t)(count) << 32 | (uint64_t)(cooldown_s) << 48)
#define HC_PICK_TO(a) ((uint32_t)(a))
#define HC_PICK_COUNT(a) ((uint32_t)((a) >> 32) & 0xffff)
#define HC_PICK_COOLDOWN(a) ((uint32_t)((a) >> 48))
_Static_assert(sizeof(struct hc_decision) == 16, "hc_decision is 16 bytes");

/* One PLACE request. 32 bytes. */
struct hc_place_req {
	uint64_t user_id;
	uint32_t request_id;
	uint16_t pool_id;
	uint16_t gateway_id;
	struct hc_peer from;
};
_Static_assert(sizeof(struct hc_place_req) == 32, "hc_place_req is 32 bytes");

#endif /* HC_CTLMSG_H */
