/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_example.c - the smallest useful gateway (docs/gateway.md): place
 * ten users through the appliance, join them where it says (waiting for
 * that as long as it takes, within bounds), obey its directives for a
 * second, then leave cleanly.  Built with the tree so the
 * documented example always compiles:
 *   build/gateway/hc-gw-example 198.18.0.1 7 000102030405060708090a0b0c0d0e0f
 * The third argument is the gateway's key (32 hex digits, the appliance's
 * key for this gateway id in slot 0); without it the session runs
 * unauthenticated (the appliance must run with --no-auth).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* installed: include/headcount/headcount.h, found through pkg-config's
 * -I${includedir}/headcount */
#include <headcount.h>

static struct hc_gw *gw;

/* 32 hex digits, nothing else -> 16 bytes; 0 or -1.  (Every character
 * checked first: sscanf's %2x also takes a sign, spaces and "0x", and
 * read past the end of a short string.) */
static int parse_key(const char *hex, uint8_t key[HC_GW_KEY_LEN])
{
	if (strlen(hex) != 2 * HC_GW_KEY_LEN)
		return -1;
	for (int i = 0; i < 2 * HC_GW_KEY_LEN; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return -1;
	for (int i = 0; i < HC_GW_KEY_LEN; i++) {
		char two[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
		key[i] = (uint8_t)strtoul(two, NULL, 16);
	}
	return 0;
}

static void on_assign(void *arg, const struct hc_gw_assign *a)
{
	(void)arg;
	if (a->status == HC_GW_PLACED)
		hc_gw_join(gw, a->user_id, a->room_id, a->pool_id); /* user enters the room */
	else if (a->status != HC_GW_NEW_TOPIC) /* NEW_TOPIC: moved already */
		fprintf(stderr, "user %llu: no room (status %d)\n",
			(unsigned long long)a->user_id, a->status);
}

int main(int argc, char **argv)
{
	struct hc_gw_config cfg;
	uint8_t key[HC_GW_KEY_LEN];
	char err[256];

	hc_gw_config_init(&cfg);
	cfg.appliance = argc > 1 ? argv[1] : "198.18.0.1";
	cfg.gateway_id = (uint16_t)(argc > 2 ? atoi(argv[2]) : 1);
	if (argc > 3) {
		if (parse_key(argv[3], key) != 0) {
			fprintf(stderr, "the key is 32 hex digits\n");
			return 2;
		}
		cfg.key = key;              /* the appliance's key for us ... */
		cfg.key_len = sizeof(key);
		cfg.key_slot = 0;           /* ... in its slot 0 */
	} else {
		cfg.insecure_no_auth = 1;   /* explicit: no tags either way */
	}
	cfg.on_assign = on_assign;  /* on_move NULL: MOVEs are obeyed at once */
	gw = hc_gw_open(&cfg, err, sizeof(err));
	if (gw == NULL) {
		fprintf(stderr, "hc_gw_open: %s\n", err);
		return 1;
	}
	for (uint64_t user = 1; user <= 10; user++)
		hc_gw_place(gw, user, 0 /* default pool */, NULL);
	/* I/O and timers until the ten are placed and joined (a busy appliance
	 * or host may take seconds: 1,000 waits of up to 10 ms at most), then
	 * ~1 s more, obeying MOVEs */
	for (int i = 0; i < 1000 && hc_gw_users(gw) < 10; i++)
		hc_gw_poll(gw, 10);
	for (int i = 0; i < 100; i++)
		hc_gw_poll(gw, 10);
	printf("%llu users placed\n", (unsigned long long)hc_gw_users(gw));
	for (uint64_t user = 1; user <= 10; user++)
		hc_gw_leave(gw, user);
	hc_gw_close(gw, 1);                     /* flush, SHUTDOWN */
	return 0;
}
