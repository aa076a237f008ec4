/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * headcount.h - libheadcount: the gateway side of the headcount protocol.
 *
 * A gateway (a WebSocket front end, a game server) owns its users; this
 * library tells a headcount appliance about them and answers for them:
 *
 *   - report JOIN/LEAVE: batched into few sequenced EVENTS datagrams,
 *     flushed when full or after a short timer (flush_us);
 *   - ask for placement (PLACE) and get the answer by callback (ASSIGN);
 *   - receive MOVE directives by callback;
 *   - keep the session reliable: heartbeats both ways, retransmission of
 *     sequences the appliance NACKs (from a history of sent datagrams),
 *     and a snapshot of the current membership whenever the appliance
 *     asks for one, restarts (new appliance incarnation), NACKs
 *     something no longer in the history, or reports (in its heartbeats)
 *     a membership digest different from ours once all is applied;
 *   - authenticate both ways (protocol v2): every datagram sent is sealed
 *     with a tag under the gateway's key; a datagram received is acted on
 *     only if it comes from the appliance's address and port, carries a
 *     good tag, belongs to the current appliance incarnation and has a
 *     reply counter not seen before; the appliance's heartbeats say when
 *     another source uses our gateway id;
 *   - say how the session stands (connecting, connected, lost, id
 *     conflict) and when the appliance restarted (hc_gw_state, on_state);
 *     with several appliance addresses, move to the next one when the
 *     current one stays silent.
 *
 * Kernel UDP (sendmmsg/recvmmsg), one socket per session, no threads:
 * the caller drives the session with hc_gw_poll() (or, in its own event
 * loop, waits for hc_gw_fd() to be readable for at most hc_gw_timeout_ms()
 * and then calls hc_gw_poll(g, 0)).  A session is not thread-safe; use
 * one per thread.  Callbacks run inside hc_gw_poll and may join, leave,
 * place, flush and close (a close there takes effect when hc_gw_poll
 * returns); see docs/gateway.md for the rules.
 *
 * ABI: the configuration is a sized struct (hc_gw_config_init records
 * the size the caller was compiled with), so fields can be added at its
 * end without breaking programs built against an older header.
 */
#ifndef HEADCOUNT_H
#define HEADCOUNT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 4: sized config, appliance lists (names, IPv6), the state callback's
 * struct, hc_gw_version(); test impairment out of the public config.
 * 5: fence_appliance, stale_directives (HA pairs).
 * 6: send_skipped (the local send queues' drops counted).
 * 7: max_room (a JOIN beyond the appliance's room ids refused here).
 * 8: history_grow_failed (a history that could not grow, counted);
 *    acks_ahead (an appliance ahead of our sequence: numbered on from
 *    its, everything stated again).
 * 9: hc_gw_shard_closed_stats (hc_gw_shard.h: the counters of the
 *    sessions a shard set closed). */
#define HC_GW_API_VERSION 9

/* The highest room id an appliance takes on its default --max-rooms
 * (262144) less one: hc_gw_config.max_room for such an appliance. */
#define HC_GW_APPLIANCE_DEFAULT_MAX_ROOM 262143u

/* A gateway's key: 16 bytes (protocol v2, SipHash-2-4-128 tags). */
#define HC_GW_KEY_LEN 16

struct hc_gw;

/* hc_gw_assign.status */
enum hc_gw_assign_status {
	HC_GW_PLACED = 1,    /* a seat is reserved in room_id: JOIN it            */
	HC_GW_NEW_TOPIC = 2, /* the JOIN into refused_room was refused; the
	                        library has already joined the user to room_id  */
	HC_GW_NO_ROOM = 3,   /* no room can be had in the pool                    */
	HC_GW_TIMEOUT = 4,   /* the appliance never answered the PLACE            */
	HC_GW_FULL = 5,      /* the JOIN into refused_room was refused: the
	                        appliance's user table is full                  */
	HC_GW_SUPERSEDED = 6,/* the user has a newer session (a reconnect)
	                        through another gateway: the JOIN into
	                        refused_room was ignored                        */
};

struct hc_gw_assign {
	uint64_t user_id;
	uint32_t request_id;   /* hc_gw_place's, 0 for NEW_TOPIC              */
	uint32_t room_id;
	uint32_t refused_room; /* NEW_TOPIC; NO_ROOM, FULL and SUPERSEDED
	                          answering a JOIN (request_id 0): the
	                          library has dropped the user, who is in no
	                          room of this gateway (no LEAVE is sent)   */
	uint16_t pool_id;
	uint8_t status;        /* enum hc_gw_assign_status                   */
};

struct hc_gw_move {
	uint64_t user_id;
	uint32_t from_room;
	uint32_t to_room;
	uint32_t directive_id;
	uint16_t pool_id;
	uint16_t attempt;      /* 0 first send, then resends                  */
};

typedef void (*hc_gw_assign_cb)(void *arg, const struct hc_gw_assign *a);
/* Called for a MOVE of a user this gateway has in from_room; the gateway
 * moves the user with hc_gw_join(g, user, to_room, pool) when it wants
 * (a NULL callback: the library moves the user at once). */
typedef void (*hc_gw_move_cb)(void *arg, const struct hc_gw_move *mv);

/* hc_gw_state(): how the session stands, from what the appliance's
 * authenticated datagrams say and when they last came. */
enum hc_gw_state {
	HC_GW_STATE_CONNECTING = 0,  /* nothing heard from the appliance yet  */
	HC_GW_STATE_CONNECTED = 1,   /* its datagrams arrive                  */
	HC_GW_STATE_LOST = 2,        /* nothing from it for lost_ms: down or
	                                unreachable; the session keeps trying
	                                (with several addresses, each in turn
	                                for lost_ms) and repairs everything
	                                when one answers                      */
	HC_GW_STATE_ID_CONFLICT = 3, /* another live source uses our gateway
	                                id (a copied configuration, or someone
	                                with our key): fix it, it will not fix
	                                itself                                */
};

/* Why on_state was called. */
enum hc_gw_reason {
	HC_GW_REASON_HEARD = 1,        /* -> CONNECTED: the appliance answers  */
	HC_GW_REASON_SILENT = 2,       /* -> LOST: nothing for lost_ms         */
	HC_GW_REASON_RESTARTED = 3,    /* -> CONNECTED: the appliance has a new
	                                  incarnation (it restarted, or another
	                                  one answers): the library states the
	                                  whole membership again (a snapshot) */
	HC_GW_REASON_ID_CONFLICT = 4,  /* -> ID_CONFLICT                       */
	HC_GW_REASON_CONFLICT_OVER = 5,/* ID_CONFLICT -> CONNECTED             */
	HC_GW_REASON_SWITCHED = 6,     /* LOST: now talking to the next
	                                  appliance address                   */
};

/* The structs the library hands to callbacks (hc_gw_assign, hc_gw_move,
 * hc_gw_state_change) may grow at their end: a field added in API N is
 * there only if hc_gw_api_version() >= N. */
struct hc_gw_state_change {
	int state;                     /* enum hc_gw_state, now               */
	int previous;                  /* enum hc_gw_state, before            */
	int reason;                    /* enum hc_gw_reason                   */
	unsigned appliance_index;      /* which address of cfg.appliance (0..) */
	const char *appliance;         /* that address, as configured          */
	uint32_t appliance_incarnation;/* 0: none heard from it yet           */
};
/* Called from hc_gw_poll when the state changes, and on RESTARTED (the
 * state may stay CONNECTED) and SWITCHED (it stays LOST).  c is valid
 * during the call only. */
typedef void (*hc_gw_state_cb)(void *arg, const struct hc_gw_state_change *c);

/* Set up with hc_gw_config_init() (which records its size), then set
 * fields: never zero it or copy it from a program built elsewhere. */
struct hc_gw_config {
	size_t size;               /* sizeof as the caller was compiled: set
	                              by hc_gw_config_init                   */
	const char *appliance;     /* one or several (up to HC_GW_MAX_APPLIANCES)
	                              addresses, comma-separated: HOST,
	                              HOST:PORT, [IPV6]:PORT or a bare IPV6;
	                              HOST an IPv4/IPv6 literal or a name
	                              (resolved once, in hc_gw_open); port
	                              7100 unless given.  The session talks
	                              to the first and moves to the next when
	                              it is LOST                             */
	const char *bind;          /* local address, same forms, NULL: any   */
	uint16_t gateway_id;       /* 1 .. 65535, unique per appliance       */
	uint32_t incarnation;      /* 0: from the clock (larger at every start) */
	const uint8_t *key;        /* this gateway's key, HC_GW_KEY_LEN bytes
	                              (copied by hc_gw_open): every datagram
	                              sent is sealed with it, every datagram
	                              received must carry its tag          */
	size_t key_len;            /* HC_GW_KEY_LEN                          */
	uint8_t key_slot;          /* the appliance's key slot (0 or 1) that
	                              holds key (key rotation)            [0] */
	int insecure_no_auth;      /* no key: must be set to run without
	                              authentication (neither tags sent nor
	                              checked; the appliance must run with
	                              --no-auth)                          [0] */
	uint32_t flush_us;         /* batch timer                     [1000] */
	uint32_t heartbeat_ms;     /* heartbeat period                 [100] */
	uint32_t place_timeout_ms; /* resend an unanswered PLACE after [250] */
	uint32_t place_retries;    /* ... this many times, then TIMEOUT  [8] */
	uint32_t history;          /* datagrams kept for retransmission,
	                              power of 2                      [16384] */
	uint32_t lost_ms;          /* LOST after this long without a good
	                              datagram from the appliance (which
	                              sends heartbeats every 100 ms)   [1000] */
	hc_gw_assign_cb on_assign;
	hc_gw_move_cb on_move;
	hc_gw_state_cb on_state;   /* NULL: poll hc_gw_state() instead     */
	void *arg;
	/* API version 5 */
	int fence_appliance;       /* an HA pair behind one address (the
	                              service address keepalived moves,
	                              docs/scaling.md): never accept an
	                              appliance incarnation older than the
	                              newest heard, however long that one is
	                              silent, so a demoted master's ASSIGNs
	                              and MOVEs are never obeyed (counted in
	                              stale_directives).  Without it an older
	                              incarnation is taken as a restart once
	                              the current one has been silent for
	                              3 s (an appliance whose clock stepped
	                              back)                               [0] */
	/* API version 7 */
	uint32_t max_room;         /* the highest room id the appliance takes:
	                              its --max-rooms less one
	                              (HC_GW_APPLIANCE_DEFAULT_MAX_ROOM on its
	                              default).  A JOIN into a room above it
	                              is refused here (EINVAL), and a
	                              NEW_TOPIC or MOVE beyond it is counted,
	                              not obeyed: the appliance drops a
	                              datagram holding such a room whole
	                              (bad_record), every resend of it and
	                              every snapshot naming the user, so the
	                              other events in it would be lost for
	                              good.  0: no bound (API 6 and before,
	                              whose appliances may have any number
	                              of rooms)                         [0] */
	/* new fields go here, at the end */
};

#define HC_GW_MAX_APPLIANCES 8

struct hc_gw_stats {
	uint64_t joins, leaves;        /* events reported                    */
	uint64_t event_datagrams;      /* EVENTS datagrams sent (first time) */
	uint64_t retransmits;          /* datagrams resent on NACK           */
	uint64_t nacks;                /* RESYNC GAP records received        */
	uint64_t snapshots;            /* snapshots sent                     */
	uint64_t snapshot_members;
	uint64_t resync_requests;      /* RESYNC RESTART/INCARNATION received */
	uint64_t appliance_restarts;   /* new appliance incarnations seen    */
	uint64_t places, place_resends, place_timeouts;
	uint64_t assigns, new_topics;
	uint64_t moves, moves_ignored; /* MOVEs for users not in from_room   */
	uint64_t heartbeats_sent, heartbeats_received;
	uint64_t rx_bad;               /* datagrams not for us / malformed   */
	uint64_t send_errors;          /* sendmmsg errors other than EAGAIN  */
	uint64_t digest_mismatches;    /* settled heartbeats whose users or
	                                  digest differed from ours          */
	uint64_t digest_snapshots;     /* snapshots those caused             */
	uint32_t sequence;             /* last sequence sent                 */
	uint32_t acked;                /* last sequence the appliance applied */
	uint32_t appliance_incarnation;
	uint32_t appliance_users;      /* users it counts for us (heartbeat) */
	/* API version 2: datagrams received and dropped (none is acted on) */
	uint64_t rx_bad_auth;          /* tag missing or wrong               */
	uint64_t rx_wrong_source;      /* not from the appliance's address
	                                  and port                           */
	uint64_t rx_stale;             /* of an older appliance incarnation  */
	uint64_t rx_replayed;          /* reply counter seen before, too old
	                                  or 0                               */
	uint64_t id_conflicts;         /* heartbeats with ID_CONFLICT        */
	/* API version 3 */
	uint64_t refusals;             /* JOINs refused with no room to go to
	                                  (NO_ROOM, FULL): users dropped     */
	uint64_t superseded;           /* users dropped: a newer session of
	                                  theirs through another gateway   */
	/* API version 4 */
	uint64_t lost;                 /* times the session became LOST      */
	uint64_t appliance_switches;   /* moves to the next appliance address */
	uint64_t appliance_digest;     /* the membership digest of what the
	                                  appliance holds for us (its last
	                                  heartbeat; compare with the digest
	                                  of hc_gw_foreach's users)        */
	/* API version 5 */
	uint64_t stale_directives;     /* ASSIGN and MOVE records in datagrams
	                                  of an older appliance incarnation,
	                                  refused (rx_stale): a demoted HA
	                                  master's, fenced               */
	/* API version 6 */
	uint64_t send_skipped;         /* datagrams dropped from the local
	                                  send queues, the socket taking
	                                  none: the oldest sequenced ones
	                                  when more than a history's worth
	                                  wait (out of the history too: a
	                                  NACK of them is answered with a
	                                  snapshot), the oldest HEARTBEAT or
	                                  PLACE when 64 wait (their timers
	                                  send them again), a NACK's resend
	                                  whose history slot a newer
	                                  datagram took while it waited   */
	/* API version 8 */
	uint64_t history_grow_failed;  /* snapshots whose history could not
	                                  grow to hold them and what follows
	                                  (out of memory): a NACK inside one
	                                  is answered by another snapshot  */
	uint64_t acks_ahead;           /* heartbeats acknowledging a sequence
	                                  past our last: numbered on from it,
	                                  everything stated again (a snapshot,
	                                  or one owed)                      */
};

/* Fill cfg with the defaults above (appliance, gateway_id and key unset:
 * set key and key_len, or insecure_no_auth), recording sizeof(*cfg). */
#define hc_gw_config_init(cfg) hc_gw_config_init_sized((cfg), sizeof(*(cfg)))
void hc_gw_config_init_sized(struct hc_gw_config *cfg, size_t size);

/* The library's version ("4.5.0") and API version (HC_GW_API_VERSION of
 * the library actually loaded, which may be newer than the header the
 * program was compiled with). */
const char *hc_gw_version(void);
int hc_gw_api_version(void);

/* Open a session; NULL on error with a message in err (among them: no
 * key and insecure_no_auth not set; a key not HC_GW_KEY_LEN bytes). */
struct hc_gw *hc_gw_open(const struct hc_gw_config *cfg, char *err, size_t err_len);

/* Close: clean != 0 flushes and says SHUTDOWN (the appliance drops this
 * gateway's users at once); 0 just stops (a crash, as far as the
 * appliance can tell: it drops the users after its gateway timeout).
 * From a callback: the session stops handling anything at once and is
 * closed when hc_gw_poll returns (g must not be used after that). */
void hc_gw_close(struct hc_gw *g, int clean);

/* The user is in room (of pool) now: JOIN (moves the user if elsewhere).
 * Returns 0, or -1 with errno (ENOMEM, EINVAL for room 0 or above
 * cfg.max_room, EBUSY inside hc_gw_foreach). */
int hc_gw_join(struct hc_gw *g, uint64_t user_id, uint32_t room_id, uint16_t pool_id);

/* The user left: LEAVE of their room.  Returns 0, or -1 (ENOENT: not here). */
int hc_gw_leave(struct hc_gw *g, uint64_t user_id);

/* Ask where a new user should go; the answer comes to on_assign with
 * the returned request id.  Returns 0 or -1 (EBUSY: too many pending). */
int hc_gw_place(struct hc_gw *g, uint64_t user_id, uint16_t pool_id, uint32_t *request_id);

/* Send what is batched now. */
void hc_gw_flush(struct hc_gw *g);

/* Receive, run timers, send; waits up to timeout_ms (0: do not wait) for
 * something to do.  Returns datagrams received, or -1 with errno: a
 * socket error; EBUSY: called from a callback (of any session of this
 * thread) or inside hc_gw_foreach;
 * ESHUTDOWN: a callback closed the session (g is gone). */
int hc_gw_poll(struct hc_gw *g, int timeout_ms);

/* enum hc_gw_state, now. */
int hc_gw_state(const struct hc_gw *g);

/* Names of enum hc_gw_state and enum hc_gw_reason values ("connected",
 * "restarted", ...; "?" for others), for logs. */
const char *hc_gw_state_name(int state);
const char *hc_gw_reason_name(int reason);

/* The appliance address talked to now: its index in cfg.appliance and
 * its text as configured. */
unsigned hc_gw_appliance(const struct hc_gw *g, const char **text);

/* The socket, for the caller's own poll/epoll loop. */
int hc_gw_fd(const struct hc_gw *g);

/* Milliseconds until the session's next timer (a batch to flush, a
 * heartbeat, a PLACE to resend or give up, datagrams waiting to be sent,
 * LOST or the move to the next appliance address):
 * an event loop calls hc_gw_poll(g, 0) when hc_gw_fd() is readable or
 * this much time has passed, whichever comes first (as libcurl's
 * curl_multi_timeout).  0: call it now.  Ask again after every call into
 * the session (a JOIN may start a batch). */
int hc_gw_timeout_ms(const struct hc_gw *g);

/* The user's room here, 0 if absent; the number of users here. */
uint32_t hc_gw_room_of(const struct hc_gw *g, uint64_t user_id);
uint64_t hc_gw_users(const struct hc_gw *g);

/* Call fn for every user here (the gateway's truth); fn must not join,
 * leave or poll (they fail with EBUSY meanwhile); a close in fn ends the
 * walk and takes effect when hc_gw_foreach returns. */
void hc_gw_foreach(const struct hc_gw *g,
		   void (*fn)(void *arg, uint64_t user, uint32_t room, uint16_t pool),
		   void *arg);

/* The session's counters.  Sized like the config: the library fills as
 * many bytes as the caller's struct has (new counters go at its end). */
#define hc_gw_get_stats(g, st) hc_gw_get_stats_sized((g), (st), sizeof(*(st)))
void hc_gw_get_stats_sized(const struct hc_gw *g, struct hc_gw_stats *st, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* HEADCOUNT_H */
