/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tool_keys.c - --keys / --key-slot / --no-auth for the gateway tools
 * (see hc_tool_keys.h).
 */
#include "hc_tool_keys.h"

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

int hc_tool_auth_option(struct hc_tool_auth *a, int c, const char *arg)
{
	switch (c) {
	case 'k':
		a->keys_path = arg;
		return 1;
	case 'N': { /* checked in hc_tool_auth_load: -2 is "not 0 or 1" */
		char *end;
		long v = strtol(arg, &end, 10);
		a->key_slot = *end != '\0' || end == arg || v < 0 || v > 1 ? -2 : (int)v;
		return 1;
	}
	case 'A':
		a->no_auth = 1;
		return 1;
	default:
		return 0;
	}
}

int hc_tool_auth_load(struct hc_tool_auth *a, const char *tool)
{
	if ((a->keys_path != NULL) == (a->no_auth != 0)) {
		fprintf(stderr, "%s: say how datagrams are authenticated: --keys FILE (the "
			"appliance's keys file) or --no-auth (exactly one of them)\n", tool);
		return -1;
	}
	if (a->key_slot != -1 && (a->keys_path == NULL || a->key_slot < 0 || a->key_slot > 1)) {
		fprintf(stderr, "%s: --key-slot takes 0 or 1, with --keys\n", tool);
		return -1;
	}
	if (a->keys_path == NULL)
		return 0;
	char err[512];
	a->ring = hc_auth_keys_load(a->keys_path, err, sizeof(err));
	if (a->ring == NULL) {
		fprintf(stderr, "%s: --keys %s\n", tool, err);
		return -1;
	}
	return 0;
}

const uint8_t *hc_tool_auth_key(const struct hc_tool_auth *a, uint16_t id, uint8_t *slot,
				const char *tool)
{
	if (a->ring == NULL)
		return NULL;
	const struct hc_auth_gw_keys *k = &a->ring->gw[id];
	int s = a->key_slot >= 0 ? a->key_slot : k->have[1] ? 1 : 0;
	if (!k->have[s]) {
		if (a->key_slot >= 0)
			fprintf(stderr, "%s: %s has no key for gateway %u in slot %d\n", tool,
				a->keys_path, id, s);
		else
			fprintf(stderr, "%s: %s has no key for gateway %u\n", tool, a->keys_path, id);
		exit(2);
	}
	*slot = (uint8_t)s;
	return k->key[s];
}

void hc_tool_auth_free(struct hc_tool_auth *a)
{
	if (a->ring != NULL) {
		sodium_memzero(a->ring, sizeof(*a->ring));
		free(a->ring);
		a->ring = NULL;
	}
}
