/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_auth.h - datagram authentication (protocol v2): the tag, the keys,
 * the replay window.
 *
 * Owns the one way every datagram is sealed and checked, both directions:
 * a 16-byte SipHash-2-4-128 tag (libsodium's crypto_shorthash_siphashx24,
 * chosen by measurement: docs/protocol.md "Authentication") under the
 * sending gateway's key, computed over the whole datagram with its
 * auth_tag field zero.  Each gateway has two key slots (rotation without
 * downtime); the header's KEY_SLOT flag names the slot that sealed it.
 * Keys come from a root-only keys file (hc_auth_keys_load).  Plain C and
 * libsodium, no DPDK: the appliance, libheadcount, the tools and the tests
 * share it.
 */
#ifndef HC_AUTH_H
#define HC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "hc_proto.h"

#define HC_AUTH_KEY_LEN 16
#define HC_AUTH_SLOTS   2

/* One gateway's keys: have[s] says slot s holds a key. */
struct hc_auth_gw_keys {
	uint8_t key[HC_AUTH_SLOTS][HC_AUTH_KEY_LEN];
	uint8_t have[HC_AUTH_SLOTS];
};

/* All gateways' keys, indexed by gateway id (0 unused). */
struct hc_auth_keyring {
	uint32_t n_gateways;          /* gateways with at least one key */
	uint32_t n_keys;              /* keys in all                    */
	struct hc_auth_gw_keys gw[65536];
};

/* Call once before any other function here (libsodium's init); 0 or -1. */
int hc_auth_init(void);

/* SipHash-2-4-128 of buf[0..len) under key: the tag of a datagram whose
 * auth_tag field is zero (the test vectors use it directly). */
void hc_auth_tag(uint8_t tag[HC_AUTH_TAG_LEN], const void *buf, size_t len,
		 const uint8_t key[HC_AUTH_KEY_LEN]);

/* Seal a complete datagram in place: set AUTH and the slot flag, then the
 * tag.  The caller has written everything else (len >= header). */
void hc_auth_seal(void *buf, size_t len, const uint8_t key[HC_AUTH_KEY_LEN], unsigned slot);

/* Check a datagram's tag against keys k (constant-time compare); returns
 * the slot that sealed it (0 or 1), or -1: no AUTH flag, no key in the
 * named slot, or a wrong tag.  The tag field is zeroed while the tag is
 * computed and restored before return (no copy on the fast path). */
int hc_auth_verify(void *buf, size_t len, const struct hc_auth_gw_keys *k);

/*
 * The keys file: one key per line, "GATEWAY SLOT HEX32" (gateway 1..65535,
 * slot 0 or 1, 16 bytes as 32 hex digits); '#' starts a comment; blank
 * lines are ignored.  The file must be a regular file that neither group
 * nor others may read or write, owned by the user loading it or by root.
 * Returns a new keyring (free()) or NULL with a message naming the file
 * and line in err.
 */
struct hc_auth_keyring *hc_auth_keys_load(const char *path, char *err, size_t err_len);

/* Parse one gateway's key from 32 hex digits; 0 or -1. */
int hc_auth_key_parse(const char *hex, uint8_t key[HC_AUTH_KEY_LEN]);

/*
 * Files a pair of appliances exchange (the restart hold's state file,
 * control/hc_restart.h) are authenticated with a key of their own, not a
 * gateway's: HMAC-SHA-512-256 (libsodium's crypto_auth), a 32-byte key,
 * a 32-byte MAC.
 */
#define HC_AUTH_FILE_KEY_LEN 32
#define HC_AUTH_FILE_MAC_LEN 32

/*
 * A file key's file: one line of 64 hex digits, or two while the key is
 * rotated (the first signs, either verifies), '#' comment lines and
 * blank lines allowed around them; private as the keys file must be.
 * 0 and the keys in key[0 .. *n - 1], or -1 with a message naming the
 * file in err (every key then zeroed, *n 0).
 */
#define HC_AUTH_FILE_KEYS_MAX 2
int hc_auth_file_key_load(const char *path,
			  uint8_t key[HC_AUTH_FILE_KEYS_MAX][HC_AUTH_FILE_KEY_LEN], unsigned *n,
			  char *err, size_t err_len);

/* The MAC of len bytes at buf under key. */
void hc_auth_file_mac(uint8_t mac[HC_AUTH_FILE_MAC_LEN], const void *buf, size_t len,
		      const uint8_t key[HC_AUTH_FILE_KEY_LEN]);

/* 0 if mac is buf's under key (compared in constant time), else -1. */
int hc_auth_file_check(const uint8_t mac[HC_AUTH_FILE_MAC_LEN], const void *buf, size_t len,
		       const uint8_t key[HC_AUTH_FILE_KEY_LEN]);

/* The same, the MAC as text: 2 * HC_AUTH_FILE_MAC_LEN hex digits (and a
 * NUL, written); checked: exactly that many at hex, either case. */
#define HC_AUTH_FILE_MAC_HEX (2 * HC_AUTH_FILE_MAC_LEN)
void hc_auth_file_mac_hex(char hex[HC_AUTH_FILE_MAC_HEX + 1], const void *buf, size_t len,
			  const uint8_t key[HC_AUTH_FILE_KEY_LEN]);
int hc_auth_file_check_hex(const char *hex, const void *buf, size_t len,
			   const uint8_t key[HC_AUTH_FILE_KEY_LEN]);

/*
 * Replay window for counters (RFC 4303 style, 64 wide): a counter is
 * accepted once, if it is newer than the highest seen or one of the 63
 * below it not yet seen.  Counter 0 is never accepted.
 */
struct hc_replay {
	uint32_t top;  /* highest counter accepted, 0: none */
	uint64_t seen; /* bit i: top - i was accepted      */
};

static inline void hc_replay_reset(struct hc_replay *r)
{
	r->top = 0;
	r->seen = 0;
}

/* Would ctr be accepted?  (Check before acting, commit after.) */
static inline int hc_replay_fresh(const struct hc_replay *r, uint32_t ctr)
{
	if (ctr == 0)
		return 0;
	if (r->top == 0 || hc_seq_after(ctr, r->top))
		return 1;
	uint32_t back = r->top - ctr;
	return back < 64 && !(r->seen >> back & 1);
}

static inline void hc_replay_commit(struct hc_replay *r, uint32_t ctr)
{
	if (r->top == 0 || hc_seq_after(ctr, r->top)) {
		uint32_t shift = r->top == 0 ? 64 : ctr - r->top;
		r->seen = shift >= 64 ? 1 : (r->seen << shift) | 1;
		r->top = ctr;
	} else {
		r->seen |= 1ull << (r->top - ctr);
	}
}

/* Check and commit: 1 if fresh (now recorded), 0 if a replay or too old. */
static inline int hc_replay_accept(struct hc_replay *r, uint32_t ctr)
{
	if (!hc_replay_fresh(r, ctr))
		return 0;
	hc_replay_commit(r, ctr);
	return 1;
}

#endif /* HC_AUTH_H */
