/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tool_keys.h - the gateway tools' (hc-gwsim, hc-gateway) choice of
 * authentication: --keys FILE (the appliance's keys file, read with
 * hc_auth_keys_load), --key-slot N, --no-auth; exactly one of --keys and
 * --no-auth.  Each gateway uses its own gateway id's key, in the highest
 * slot that holds one unless a slot is forced.
 */
#ifndef HC_TOOL_KEYS_H
#define HC_TOOL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "hc_auth.h"

struct hc_tool_auth {
	const char *keys_path;          /* --keys, NULL: none             */
	int key_slot;                   /* --key-slot, -1: highest held    */
	int no_auth;                    /* --no-auth                       */
	struct hc_auth_keyring *ring;   /* loaded by hc_tool_auth_load     */
};

/* The three options, for getopt_long's table (values 'k', 'N', 'A'). */
#define HC_TOOL_AUTH_LONG_OPTIONS \
	{"keys", 1, 0, 'k'}, {"key-slot", 1, 0, 'N'}, {"no-auth", 0, 0, 'A'}

/* getopt_long returned c (with arg): take it if it is one of the three;
 * 1 if taken, 0 if not ours. */
int hc_tool_auth_option(struct hc_tool_auth *a, int c, const char *arg);

/* Check the options and load the keys file: 0, or -1 with a message on
 * stderr naming `tool` (the caller exits 2). */
int hc_tool_auth_load(struct hc_tool_auth *a, const char *tool);

/* Gateway `id`'s key and slot; NULL with *slot untouched under --no-auth.
 * Exits 2 with a message naming `tool` if the file holds no key for it
 * (in the forced slot). */
const uint8_t *hc_tool_auth_key(const struct hc_tool_auth *a, uint16_t id, uint8_t *slot,
				const char *tool);

/* Frees the keyring (wiped). */
void hc_tool_auth_free(struct hc_tool_auth *a);

#endif /* HC_TOOL_KEYS_H */
