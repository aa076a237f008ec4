/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_fuzz.h - the fuzz input format: a script of operations over a model
 * of a few gateways (tests/fuzz/README.md).  Shared by the harness
 * (hc_fuzz.c) and the seed corpus writer (hc_fuzz_corpus.c); no DPDK here.
 *
 * An input is
 *
 *     config byte     FZ_CFG_* bits: workers, admission, authentication
 *     op, op, ...     until the input ends
 *
 * and every op is one opcode byte followed by its argument bytes (an
 * input that ends inside an op reads zeros for the rest):
 *
 *     bits 0-4  the operation, enum fz_op (taken modulo FZ_N_OPS)
 *     bits 5-6  the model gateway it concerns: ids 1..4
 *     bit  7    keep its frames for the next burst (sent with the first
 *               op without the bit, or when the burst is full)
 *
 * Arguments (each one byte unless said otherwise; "user" is an index
 * into the 64-user universe, taken modulo 64; "room" is 1 + b % 31):
 *
 *   EVENTS      n (1 + n % 8 events), then per event: kind|user<<2, room
 *               kind 0 JOIN room, 1 LEAVE the user's room (or room when
 *               the gateway does not hold the user), 2 LEAVE room,
 *               3 JOIN the user's room again (idempotent)
 *   LOSE        as EVENTS, but the datagram is lost on the way (it stays
 *               in the gateway's history and is sent again when NACKed)
 *   RESEND      back: resend the datagram `1 + back % 64` sequences back
 *               (byte for byte, from the gateway's history)
 *   SNAPSHOT    size (members per chunk: 1 + size % 16, or 59 when
 *               bit 7), lose (bit i: chunk i is lost; bit 7: send the
 *               chunks in reverse order)
 *   SNAP_BAD    size, chunk (which chunk), what (enum fz_snap_fault), value
 *   HEARTBEAT   what (bits 0-2: last_sequence: 0 ours, 1 ours + value,
 *               2 zero, 3 value<<24|..., 4 ours - value; bit 3 RESYNC_NEEDED;
 *               bit 4 SHUTDOWN; bit 5 an undefined hb flag; bit 6 wrong
 *               user count and digest), value
 *   PLACE       n (1 + n % 4 records), then per record: user, pool
 *   REBOOT      delta (new incarnation = old + 1 + delta), flags (bit 0:
 *               start with the empty snapshot at sequence 1, as
 *               libheadcount does)
 *   STALE       back (incarnation old - 1 - back), seq
 *   MUTATE      base (enum fz_base), n (1 + n % 4 mutations), then per
 *               mutation: kind, offset (2 bytes), value (4 bytes); then
 *               seal (enum fz_seal)
 *   FRAME       base, kind (enum fz_frame_fault), value
 *   ARP         kind (0 request for us, 1 for another address, 2 a
 *               reply, 3 truncated)
 *   TIME        ms (< 200: that many ms; else (ms - 200) * 250 ms), then
 *               every worker's sequencer timers run (hc_seq_poll), and
 *               its gone users' keys above the keep limit are trimmed
 *               (hc_members_gone_trim, 64 entries for each of
 *               min(1 + 10 ms, 16) ticks)
 *   ANSWER      n (answer 1 + n % 16 seat requests per worker, or all
 *               when 255), refuse (bit i: refuse the i-th); with the burst
 *               bit the answers are given before the queued frames are
 *               sent, so they interleave with those frames' ops
 *   RESYNCS     the gateways answer the RESYNCs asked of them (history
 *               resends, or snapshots), at most 1 + n % 8: n
 *   PICK        room, count, to_room (a move pick request, worker by bit 0
 *               of count)
 *   STRAY       admit (a decision for a user nobody asked for)
 *   FLUSH_ALL   (none) every sequencer delivers what it holds, skipping
 *               gaps (the stop path, DRAIN): the script ends here
 *   FORGE       kind (enum fz_forge): a datagram sealed wrongly
 *   FOREIGN     gw (ids 5..7, 0 or >= max gateways), then as EVENTS
 *   RX          worker | port << 4: where the next frames arrive
 *   WRAP        (none) the gateway's sequence jumps to just before 2^32
 *               with two snapshots (reset points), then sends EVENTS
 *               across the wrap, skipping 0 as libheadcount does: they
 *               must all be applied
 *   CROWD       n (1 + n % 59 users), room: JOINs of users outside the
 *               model's universe (fresh ids; the gateway's snapshots do
 *               not name them), to fill the tables and the seat requests
 *   SNAP_CROWD  n, flags: a snapshot of the gateway's members and
 *               1 + 2n users outside the universe, chunks of 59; the last
 *               flags % 4 chunks are never sent (the stage stays open):
 *               the staging caps
 *   CTL_TX      port: the control core hands a frame for the gateway to
 *               the workers to transmit (hc_chan_give_frame; port 1 has no
 *               TX queue)
 *   LEASE       room, q: worker (q >> 4) % workers gets q % 16 seats of the
 *               room (HC_DEC_LEASE), or with q's bit 7 gives its seats
 *               back (HC_DEC_REVOKE); every HC_CHG_LEASED must spend a
 *               seat leased to that worker, and a give-back must return
 *               exactly what is left; a seat request may say the lease
 *               ran dry (HC_CHGF_LEASE_DRY) only after a leased JOIN of
 *               that worker into that room since it last said so
 * HEARTBEAT's what bit 7 and PLACE's first byte's bit 7 send the last
 * HEARTBEAT / PLACE again byte for byte (a replayed control counter); RX's
 * bit 5 moves every gateway's source port (a NAT rebinding).
 */
#ifndef HC_FUZZ_H
#define HC_FUZZ_H

#include <stdint.h>

/* config byte */
#define FZ_CFG_TWO_WORKERS 0x01 /* two workers (hand-off rings), else one */
#define FZ_CFG_ADMISSION   0x02 /* admission on: JOINs ask the (emulated)
                                   control core for a seat               */
#define FZ_CFG_AUTH        0x04 /* datagrams are sealed with the gateways'
                                   known keys (hc_auth_seal); else not     */
#define FZ_CFG_SLOT1       0x08 /* ... under key slot 1                  */
#define FZ_CFG_BUDGET      0x10 /* a sweep budget per gateway
                                   (--gateway-sweeps 4), else none; the
                                   end's restatements wait for it to fill */

enum fz_op {
	FZ_EVENTS = 0,
	FZ_LOSE,
	FZ_RESEND,
	FZ_SNAPSHOT,
	FZ_SNAP_BAD,
	FZ_HEARTBEAT,
	FZ_PLACE,
	FZ_REBOOT,
	FZ_STALE,
	FZ_MUTATE,
	FZ_FRAME,
	FZ_ARP,
	FZ_TIME,
	FZ_ANSWER,
	FZ_RESYNCS,
	FZ_PICK,
	FZ_STRAY,
	FZ_FLUSH_ALL,
	FZ_FORGE,
	FZ_FOREIGN,
	FZ_RX,
	FZ_WRAP,
	FZ_CROWD,
	FZ_SNAP_CROWD,
	FZ_CTL_TX,
	FZ_LEASE,
	FZ_N_OPS
};

#define FZ_OP_GW(op, g) ((uint8_t)((op) | ((g) & 3) << 5)) /* g: 0..3 = ids 1..4 */
#define FZ_OP_BURST 0x80

/* SNAP_BAD: what is wrong with one chunk of an otherwise good snapshot */
enum fz_snap_fault {
	FZ_SF_COUNT_UP = 0,  /* chunk_count + 1 + value % 4                */
	FZ_SF_COUNT_DOWN,    /* chunk_count - 1 (at least 1)              */
	FZ_SF_TOTAL_UP,      /* total_users + 1 + value                   */
	FZ_SF_TOTAL_DOWN,    /* total_users - 1                           */
	FZ_SF_ID,            /* snapshot_id ^ (1 + value)                 */
	FZ_SF_INDEX,         /* chunk_index + 1 (out of place)            */
	FZ_SF_DUP,           /* the chunk sent twice (two sequences)      */
	FZ_SF_LESS,          /* one member fewer                          */
	FZ_SF_MORE,          /* one member more (a user of another gw)    */
	FZ_SF_HUGE,          /* total_users = value << 16 | 0xffff        */
	FZ_SF_RESTART,       /* chunk_index 0 in the middle               */
	FZ_SF_STOP,          /* the rest of the snapshot is never sent    */
	FZ_SF_N
};

/* MUTATE / FRAME: the valid datagram that is damaged */
enum fz_base {
	FZ_BASE_EVENTS = 0, /* the gateway's next EVENTS (lost as sent)     */
	FZ_BASE_HISTORY,    /* a copy of one the gateway sent before         */
	FZ_BASE_HEARTBEAT,
	FZ_BASE_PLACE,
	FZ_BASE_SNAPSHOT,   /* a one-chunk snapshot (lost as sent)           */
	FZ_BASE_N
};

/* MUTATE: one change of the payload */
enum fz_mut {
	FZ_M_XOR = 0,   /* byte at offset ^= value (not 0)                */
	FZ_M_SET8,      /* byte = value                                   */
	FZ_M_SET16,     /* big-endian 16 bits = an interesting value      */
	FZ_M_SET32,     /* big-endian 32 bits = an interesting value      */
	FZ_M_FIELD,     /* a header or prefix field = an interesting value */
	FZ_M_TRUNC,     /* length = offset                                */
	FZ_M_EXTEND,    /* 1 + value % 40 bytes more (record_count too
	                   when value bit 8 is set)                       */
	FZ_M_RECORD,    /* one record's field (op, room, flags, pool, user) */
	FZ_M_N
};

/* MUTATE: how the damaged payload is sealed */
enum fz_seal {
	FZ_SEAL_HDR_GW = 0, /* under the key of the gateway its header names */
	FZ_SEAL_ORIG,       /* under the original gateway's key              */
	FZ_SEAL_STALE,      /* not again: the old tag stays                  */
	FZ_SEAL_NONE,       /* tag zero, AUTH flag clear                     */
	FZ_SEAL_N
};

/* FRAME: what is wrong below the payload */
enum fz_frame_fault {
	FZ_F_L234_XOR = 0, /* a byte of the Ethernet/IPv4/UDP headers ^= value */
	FZ_F_L234_XOR_FIX, /* ... and the checksums fixed                   */
	FZ_F_TRUNC,        /* the frame cut to value bytes                  */
	FZ_F_IHL,          /* IPv4 options (ihl 6..15), checksums fixed      */
	FZ_F_FRAGMENT,     /* MF or an offset                               */
	FZ_F_DST_IP,
	FZ_F_DST_PORT,
	FZ_F_UDP_CSUM,     /* a wrong UDP checksum, or none (0: valid)      */
	FZ_F_SEGMENTS,     /* two mbuf segments                             */
	FZ_F_OFFLOAD,      /* the NIC's checksum flags: good or bad         */
	FZ_F_ETHERTYPE,    /* IPv6, VLAN, ...                               */
	FZ_F_UDP_LEN,      /* UDP length != IPv4 payload                    */
	FZ_F_IP_LEN,       /* IPv4 total length shorter or longer           */
	FZ_F_N
};

/* FORGE */
enum fz_forge {
	FZ_FG_WRONG_KEY = 0, /* another gateway's key                      */
	FZ_FG_NO_KEY_SLOT,   /* a slot that has no key (gateway 4: slot 1)  */
	FZ_FG_BAD_TAG,       /* a tag with one bit flipped                  */
	FZ_FG_UNSEALED,      /* no tag at all                               */
	FZ_FG_OTHER_SLOT,    /* right gateway, the other slot's key, flag
	                        naming the first slot                       */
	FZ_FG_N
};

#define FZ_MODEL_GWS 4   /* model gateways: ids 1..4           */
#define FZ_USERS 64      /* the model's user universe           */
#define FZ_ROOMS 32      /* --max-rooms: room ids 1..31          */
#define FZ_MAX_GWS 8     /* --max-gateways: ids 1..7             */

#endif /* HC_FUZZ_H */
