/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_proto.h - the headcount wire protocol, version 3: the single definition.
 *
 * Owns every byte that crosses the wire between gateways and the appliance.
 * The appliance, the gateway library (libheadcount, which installs this
 * header), the tools and the tests all include this file and nothing else
 * for the format; the rest of proto/ writes headers (hc_proto_hdr.h),
 * frames (hc_frame.h) and checks payloads (hc_proto_check.h) by it.
 * docs/protocol.md describes the same bytes in prose.  All multi-byte fields
 * are in network byte order.  Structures are packed and their sizes are
 * checked at compile time, so a layout change breaks the build, not the wire.
 *
 * Every datagram is one UDP payload:
 *
 *     struct hc_hdr                       40 bytes
 *     [type prefix]                       16 bytes (SNAPSHOT only)
 *     record_count fixed-size records     (size given by the type)
 *
 * and its length must be exactly header + prefix + count * record size.
 */
#ifndef HC_PROTO_H
#define HC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define HC_PROTO_MAGIC   0x48434E54u /* "HCNT" */
#define HC_PROTO_VERSION 3
#define HC_PROTO_DEFAULT_PORT 7100u

/* Message types (hc_hdr.type). Direction: G = gateway, A = appliance. */
enum hc_msg_type {
	HC_MSG_EVENTS    = 1, /* G->A: JOIN/LEAVE events, sequenced          */
	HC_MSG_PLACE     = 2, /* G->A: placement requests for new users      */
	HC_MSG_ASSIGN    = 3, /* A->G: placement answers / admission refusals */
	HC_MSG_MOVE      = 4, /* A->G: per-user move directives               */
	HC_MSG_HEARTBEAT = 5, /* G->A and A->G: liveness and incarnations     */
	HC_MSG_SNAPSHOT  = 6, /* G->A: one chunk of a membership snapshot     */
	HC_MSG_RESYNC    = 7, /* A->G: NACK / request for a snapshot          */
	HC_MSG_TYPE_MAX  = 8  /* first invalid value */
};

/* hc_hdr.flags */
#define HC_HDR_F_AUTH     0x0001u /* auth_tag holds a tag (hc_auth.h)         */
#define HC_HDR_F_KEY_SLOT 0x0002u /* the tag is under key slot 1 (else 0)    */
#define HC_HDR_F_A2G      0x0004u /* sent by the appliance: under the tag, so
                                     neither side takes its own datagrams
                                     reflected back for the other's        */
#define HC_HDR_F_KNOWN    0x0007u /* mask of flags version 3 defines          */

/* Event operations (hc_event.op). */
enum hc_event_op {
	HC_OP_JOIN  = 1,
	HC_OP_LEAVE = 2,
};

/* Room id 0 means "no room" and is never valid in an event. */
#define HC_ROOM_NONE 0u
/* Gateway id 0 is reserved and never valid. */
#define HC_GATEWAY_NONE 0u

#define HC_AUTH_TAG_LEN 16

/* The datagram header: 40 bytes. */
struct hc_hdr {
	uint32_t magic;                 /*  0: HC_PROTO_MAGIC                      */
	uint8_t  version;               /*  4: HC_PROTO_VERSION                    */
	uint8_t  type;                  /*  5: enum hc_msg_type                    */
	uint16_t flags;                 /*  6: HC_HDR_F_*; unknown bits rejected   */
	uint16_t gateway_id;            /*  8: sending or addressed gateway, != 0  */
	uint16_t record_count;          /* 10: records that follow                 */
	uint32_t gateway_incarnation;   /* 12: the gateway's incarnation           */
	uint32_t appliance_incarnation; /* 16: appliance incarnation (0: unknown)  */
	uint32_t sequence;              /* 20: EVENTS, SNAPSHOT: the gateway's
	                                       sequence; HEARTBEAT, PLACE (G->A):
	                                       its control counter; A->G: the
	                                       appliance's counter for the gateway */
	uint8_t  auth_tag[HC_AUTH_TAG_LEN]; /* 24: SipHash-2-4-128 tag (hc_auth.h),
	                                       zero unless HC_HDR_F_AUTH          */
} __attribute__((packed));

/* HC_MSG_EVENTS record: one JOIN or LEAVE, 24 bytes. */
struct hc_event {
	uint64_t user_id;  /*  0: the user, any value                          */
	uint32_t room_id;  /*  8: room joined or left, 1 .. max_rooms-1         */
	uint8_t  op;       /* 12: enum hc_event_op                             */
	uint8_t  flags;    /* 13: must be 0                                    */
	uint16_t pool_id;  /* 14: the room's pool (lobby), 0 = default pool     */
	uint64_t session;  /* 16: when the user's connection to this gateway
	                          began: microseconds since the Unix epoch on
	                          the gateway's (NTP-disciplined) clock, the
	                          same in every event of that connection.
	                          Orders one user's connections across
	                          gateways: an older session's JOIN never takes
	                          the user from a newer one.  0: none (arrival
	                          order decides, as between equal sessions)  */
} __attribute__((packed));

/* A session stamp more than this far ahead of the appliance's clock is
 * taken as the appliance's clock + this (counted): a gateway with a fast
 * clock, or a hostile one, cannot pin a user for longer. */
#define HC_SESSION_AHEAD_US 10000000ull /* 10 s */

/* HC_MSG_PLACE record: "where should this new user go?", 16 bytes. */
struct hc_place {
	uint64_t user_id;    /*  0 */
	uint32_t request_id; /*  8: echoed in the ASSIGN                        */
	uint16_t pool_id;    /* 12 */
	uint16_t flags;      /* 14: must be 0                                  */
} __attribute__((packed));

/* hc_assign.status */
enum hc_assign_status {
	HC_ASSIGN_PLACED    = 1, /* answer to a PLACE: seat reserved in room_id  */
	HC_ASSIGN_NEW_TOPIC = 2, /* a JOIN into refused_room was refused: go to room_id */
	HC_ASSIGN_NO_ROOM   = 3, /* no room can be had in the pool (or no such
	                            pool); with refused_room: the JOIN into it
	                            was refused and the user is in no room    */
	/* 4 is never sent (libheadcount's HC_GW_TIMEOUT) */
	HC_ASSIGN_FULL      = 5, /* the JOIN into refused_room was refused: the
	                            appliance's user table is full; the user is
	                            in no room (retry later)                  */
	HC_ASSIGN_SUPERSEDED = 6, /* the JOIN (or snapshot member) into
	                            refused_room was ignored: the user has a
	                            newer session through another gateway    */
};

/* HC_MSG_ASSIGN record, 24 bytes. */
struct hc_assign {
	uint64_t user_id;      /*  0 */
	uint32_t request_id;   /*  8: from the PLACE, 0 for an admission refusal */
	uint32_t room_id;      /* 12: the room to join                          */
	uint32_t refused_room; /* 16: a JOIN's refusal: the room it named, else 0 */
	uint16_t pool_id;      /* 20 */
	uint8_t  status;       /* 22: enum hc_assign_status                     */
	uint8_t  flags;        /* 23: 0 */
} __attribute__((packed));

/* HC_MSG_MOVE record: move one user, 24 bytes. */
struct hc_move {
	uint64_t user_id;      /*  0 */
	uint32_t from_room;    /*  8 */
	uint32_t to_room;      /* 12 */
	uint32_t directive_id; /* 16: unique per appliance incarnation          */
	uint16_t pool_id;      /* 20 */
	uint16_t attempt;      /* 22: 0 first send, 1.. resends                 */
} __attribute__((packed));

/* hc_heartbeat.hb_flags */
#define HC_HB_F_RESYNC_NEEDED 0x0001u /* A->G: send a snapshot              */
#define HC_HB_F_SHUTDOWN      0x0002u /* sender is stopping cleanly         */
#define HC_HB_F_ID_CONFLICT   0x0004u /* A->G: another live source uses this
                                         gateway id (copied config, attacker
                                         with the key): see protocol.md     */
#define HC_HB_F_SETTLING      0x0008u /* A->G: seat requests of this
                                         gateway's users are being decided:
                                         users and digest may not show all
                                         it sent yet (do not judge them)    */

/* HC_MSG_HEARTBEAT record (exactly one per datagram), 24 bytes. */
struct hc_heartbeat {
	uint32_t last_sequence; /* 0: G->A: last sequence sent;
	                               A->G: last sequence applied in order      */
	uint32_t user_count;    /* 4: users the sender holds for this gateway   */
	uint32_t interval_ms;   /* 8: sender's heartbeat interval               */
	uint32_t hb_flags;      /* 12: HC_HB_F_*                                 */
	uint64_t digest;        /* 16: membership digest of those users:
	                               sum of hc_member_digest(user, room)      */
} __attribute__((packed));

/*
 * One member's share of a membership digest (the heartbeat's `digest` is
 * the sum, mod 2^64, over the gateway's users): both sides keep it
 * incrementally, so a gateway sees in any heartbeat whether the appliance
 * holds exactly its membership.
 */
static inline uint64_t hc_member_digest(uint64_t user, uint32_t room)
{
	uint64_t h = user * 0x9E3779B97F4A7C15ull ^ (uint64_t)room * 0xC2B2AE3D27D4EB4Full;
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 29;
	return h;
}

/* HC_MSG_SNAPSHOT prefix (once per chunk), 16 bytes. */
struct hc_snapshot_prefix {
	uint32_t snapshot_id; /*  0: chosen by the gateway, names one snapshot  */
	uint32_t chunk_index; /*  4: 0 .. chunk_count-1                         */
	uint32_t chunk_count; /*  8 */
	uint32_t total_users; /* 12: users in the whole snapshot                */
} __attribute__((packed));

/* HC_MSG_SNAPSHOT record: one member, 24 bytes. */
struct hc_member {
	uint64_t user_id;  /*  0 */
	uint32_t room_id;  /*  8 */
	uint16_t pool_id;  /* 12 */
	uint16_t flags;    /* 14: 0 */
	uint64_t session;  /* 16: as in hc_event                               */
} __attribute__((packed));

/* hc_resync.reason */
enum hc_resync_reason {
	HC_RESYNC_GAP         = 1, /* sequences first..last were never received */
	HC_RESYNC_INCARNATION = 2, /* new gateway incarnation seen              */
	HC_RESYNC_RESTART     = 3, /* the appliance restarted                   */
	HC_RESYNC_CHUNK       = 4, /* reserved: never sent (a missing chunk is a
	                              gap like any other sequence)           */
};

/* HC_MSG_RESYNC record (exactly one per datagram), 16 bytes. */
struct hc_resync {
	uint32_t reason;         /*  0: enum hc_resync_reason                   */
	uint32_t first_sequence; /*  4: first missing sequence (GAP)            */
	uint32_t last_sequence;  /*  8: last missing sequence (GAP)             */
	uint32_t snapshot_id;    /* 12: 0 (reserved)                            */
} __attribute__((packed));

_Static_assert(sizeof(struct hc_hdr) == 40, "hc_hdr is 40 bytes");
_Static_assert(sizeof(struct hc_event) == 24, "hc_event is 24 bytes");
_Static_assert(sizeof(struct hc_place) == 16, "hc_place is 16 bytes");
_Static_assert(sizeof(struct hc_assign) == 24, "hc_assign is 24 bytes");
_Static_assert(sizeof(struct hc_move) == 24, "hc_move is 24 bytes");
_Static_assert(sizeof(struct hc_heartbeat) == 24, "hc_heartbeat is 24 bytes");
_Static_assert(sizeof(struct hc_snapshot_prefix) == 16, "prefix is 16 bytes");
_Static_assert(sizeof(struct hc_member) == 24, "hc_member is 24 bytes");
_Static_assert(sizeof(struct hc_resync) == 16, "hc_resync is 16 bytes");

/* Largest UDP payload that fits a 1500-byte IPv4 MTU without options. */
#define HC_MAX_PAYLOAD_MTU1500 1472u
/* Largest UDP payload any datagram may have (jumbo frames). */
#define HC_MAX_PAYLOAD 8972u
/* Events that fit one 1500-MTU datagram: (1472 - 40) / 24 = 59. */
#define HC_MAX_EVENTS_MTU1500 ((HC_MAX_PAYLOAD_MTU1500 - sizeof(struct hc_hdr)) / sizeof(struct hc_event))
/* Events that fit the largest datagram: (8972 - 40) / 24 = 372. */
#define HC_MAX_EVENTS ((HC_MAX_PAYLOAD - sizeof(struct hc_hdr)) / sizeof(struct hc_event))
/* PLACE records (16 bytes: more than events) that fit one 1500-MTU
 * datagram, (1472 - 40) / 16 = 89, and the largest, (8972 - 40) / 16 = 558. */
#define HC_MAX_PLACES_MTU1500 ((HC_MAX_PAYLOAD_MTU1500 - sizeof(struct hc_hdr)) / sizeof(struct hc_place))
#define HC_MAX_PLACES ((HC_MAX_PAYLOAD - sizeof(struct hc_hdr)) / sizeof(struct hc_place))

/*
 * Sequence numbers are 32-bit serial numbers (RFC 1982): a is after b when
 * the signed difference is positive.  Sequences start at 1 in every gateway
 * incarnation; 0 means "none yet".
 */
static inline int hc_seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

#endif /* HC_PROTO_H */
