/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_options.c - the appliance's options: one table row each (name, kind,
 * field, range, default, help, where, reloadable), from which the usage
 * text, the command-line parser, the config file's [appliance] keys
 * (hc_config_apply_ini), the defaults and docs/configuration.md
 * (hc_config_doc) all come, so they cannot disagree.
 *
 * Every value, the defaults included, goes through the same bounded
 * parser (errno, end pointer, range); every error names the option (on
 * the command line) or file:line: [appliance] key (in the file).
 * Defaults are the embedded lab's.
 */
#include "hc_options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_decimal.h"
#include "hc_keyidx.h" /* the reservation index's most slots */
#include "hc_policy.h"
#include "hc_proto.h"
#include "hc_version.h"

enum opt_kind {
	OPT_U32,     /* unsigned integer in [lo, hi]                  */
	OPT_SECONDS, /* seconds, a real number in [0, 1e7]            */
	OPT_IPV4,    /* dotted IPv4 address, stored in network order  */
	OPT_TEXT,    /* a string (a file name)                        */
	OPT_FLAG,    /* no argument: sets an int to 1                 */
	OPT_LIST,    /* a string, repeatable (--pool)                 */
	OPT_HELP,
	OPT_DOC,     /* --config-doc                                  */
	OPT_VERSION, /* --version                                     */
};

/* Where a row may be given. */
enum opt_where {
	W_BOTH = 0,  /* a flag and an [appliance] key                  */
	W_CLI,       /* the command line only                         */
};

struct opt_row {
	const char *name;
	enum opt_kind kind;
	size_t field;        /* offsetof(struct hc_config, ...)            */
	uint32_t lo, hi;     /* OPT_U32                                    */
	const char *deflt;   /* parsed like an argument; NULL: zero / none */
	const char *arg;     /* what the argument is, in the usage text    */
	const char *help;    /* one or more lines, '\n' between them       */
	enum opt_where where;
	int reload;          /* a SIGHUP applies a change (else: restart)  */
};

#define F(field) offsetof(struct hc_config, field)
_Static_assert(HC_PROTO_DEFAULT_PORT == 7100, "--udp-port's default is the protocol's port");

static const struct opt_row rows[] = {
	{"ip", OPT_IPV4, F(ip_be), 0, 0, "198.18.0.1", "A.B.C.D",
	 "our IPv4 address (answered for ARP and\nping); required on a physical port", W_BOTH, 0},
	{"udp-port", OPT_U32, F(udp_port), 1, 65535, "7100", "N",
	 "UDP port of the protocol", W_BOTH, 0},
	{"max-users", OPT_U32, F(max_users), 1024, 1u << 30, "1048576", "N",
	 "users the appliance holds", W_BOTH, 0},
	{"max-rooms", OPT_U32, F(max_rooms), 2, 1u << 26, "262144", "N",
	 "room ids are 1 .. N-1", W_BOTH, 0},
	{"max-gateways", OPT_U32, F(max_gateways), 2, 65536, "1024", "N",
	 "gateway ids are 1 .. N-1; the control pool holds two frames for each", W_BOTH, 0},
	{"burst", OPT_U32, F(burst), 1, 256, "128", "N", "rx burst: frames a worker loop takes from each queue", W_BOTH, 0},
	{"rx-desc", OPT_U32, F(rx_desc), 64, 32768, "1024", "N", "rx descriptors per queue", W_BOTH, 0},
	{"mbufs", OPT_U32, F(mbufs), 1023, 1u << 24, "32767", "N",
	 "mbufs in the packet pool (2 KiB of frame\neach; more for af_packet's framesz); not\n"
	 "given: 32767, or more for 2 or more\nworkers (what their sequencers and\n"
	 "hand-offs may hold)", W_BOTH, 0},
	{"gather-mbufs", OPT_U32, F(gather_mbufs), 64, 1u << 20, "1023", "N",
	 "9 KiB mbufs that frames in several\nsegments (pcap, NIC scatter) are gathered\n"
	 "into; none if packet mbufs are as large", W_BOTH, 0},
	{"merge-interval-ms", OPT_U32, F(merge_interval_ms), 1, 60000, "100", "N",
	 "RCU room-view merge period", W_BOTH, 0},
	{"gap-timeout-ms", OPT_U32, F(gap_timeout_ms), 1, 600000, "30", "N",
	 "wait this long for a missing sequence,\nthen ask the gateway again (NACK)", W_BOTH, 0},
	{"gap-nacks", OPT_U32, F(gap_nacks), 1, 1000000, "16", "N",
	 "NACK rounds without progress before a\ngap is given up and counted lost", W_BOTH, 0},
	{"gateway-timeout-ms", OPT_U32, F(gateway_timeout_ms), 0, 3600000, "3000", "N",
	 "a gateway silent this long is dead: its\nusers are removed; 0 = never", W_BOTH, 0},
	{"heartbeat-ms", OPT_U32, F(heartbeat_ms), 1, 60000, "100", "N",
	 "heartbeat period towards gateways", W_BOTH, 0},
	{"stats-interval", OPT_SECONDS, F(stats_interval_s), 0, 0, "1", "S",
	 "seconds between stats lines, 0 = none", W_BOTH, 0},
	{"idle-exit", OPT_SECONDS, F(idle_exit_s), 0, 0, NULL, "S",
	 "stop S seconds after traffic stops, once\nevery port is read dry; 0 = never", W_BOTH, 0},
	{"duration", OPT_SECONDS, F(duration_s), 0, 0, NULL, "S",
	 "stop after S seconds, 0 = never", W_BOTH, 0},
	{"config", OPT_TEXT, F(policy_file), 0, 0, NULL, "FILE",
	 "the config file (docs/configuration.md):\n[eal], [appliance], [control], [pool.NAME];\n"
	 "flags given here override it; SIGHUP\nreloads its pools, timers and keys", W_CLI, 0},
	{"check-config", OPT_FLAG, F(check_config), 0, 0, NULL, NULL,
	 "check the whole config (file, flags, pools,\nkeys), print 'config OK: FILE' or the\n"
	 "errors, exit 0 or 2; starts nothing", W_CLI, 0},
	{"config-doc", OPT_DOC, 0, 0, 0, NULL, NULL,
	 "print docs/configuration.md (every key)", W_CLI, 0},
	{"pool", OPT_LIST, F(pool_specs), 0, 0, NULL, "ID:NAME:MIN:MAX[:TARGET[:FILL]]",
	 "add or replace a pool (repeatable); NAME is\nletters, digits, '.', '_' and '-'; TARGET\ndefaults to MAX / 2; FILL is target\n"
	 "(placement fills a room up to TARGET, then\nopens another; joins may go on to MAX)\n"
	 "or max (placement fills rooms to MAX)\n[0:default:15:100:50:target]", W_CLI, 1},
	{"max-reservations", OPT_U32, F(max_reservations), 1024, HC_KEYIDX_MAX_CAPACITY, "1048576", "N",
	 "seats reserved at once", W_BOTH, 0},
	{"no-admission", OPT_FLAG, F(no_admission), 0, 0, NULL, NULL,
	 "apply every JOIN at once, never refuse one\n(faster; rooms may then exceed max)", W_BOTH, 0},
	{"keys", OPT_TEXT, F(keys_file), 0, 0, NULL, "FILE",
	 "per-gateway keys: every datagram must carry\na tag under its gateway's key (see\ndocs/protocol.md); SIGHUP reloads it", W_BOTH, 2},
	{"no-auth", OPT_FLAG, F(no_auth), 0, 0, NULL, NULL,
	 "run without keys: tags are neither needed\nnor checked (one of --keys, --no-auth)", W_BOTH, 0},
	{"max-places-per-gateway", OPT_U32, F(max_places_per_gw), 1, 1u << 28, "16384", "N",
	 "seats one gateway may hold reserved\n(PLACEs and refused JOINs' seats\nelsewhere; beyond: NO_ROOM)", W_BOTH, 0},
	{"max-users-per-gateway", OPT_U32, F(max_users_per_gw), 0, 1u << 30, "0", "N",
	 "users one gateway may add: while it holds\nN, its JOINs and snapshot members of\n"
	 "users new to the table hear FULL (each of\nW workers: N/W rounded up, of the users\n"
	 "it holds by id; users taken over from\nanother gateway are not refused); 0: no cap",
	 W_BOTH, 0},
	{"gateway-sweeps", OPT_U32, F(gateway_sweeps), 0, 1000000, "4", "N",
	 "sweeps of its users one gateway may cause\na second, 2N at once (a snapshot's end, a\n"
	 "newer incarnation, a SHUTDOWN: each scans\nevery worker's user table); beyond, the\n"
	 "sweep waits for the budget; nothing is\nlost (sweeps_deferred); 0: no limit", W_BOTH, 0},
	{"max-snapshot-users", OPT_U32, F(max_snapshot_users), 1, 1u << 28, "262144", "N",
	 "members one gateway's snapshot may stage;\nall snapshots of a worker together:\n--max-users", W_BOTH, 0},
	{"state-file", OPT_TEXT, F(state_file), 0, 0, "/var/lib/headcount/gateways", "FILE",
	 "the gateways holding users, kept for the\nnext start: it holds placements until\nthey restated ('none': no file)", W_BOTH, 0},
	{"peer-state-file", OPT_TEXT, F(peer_state_file), 0, 0, "none", "FILE",
	 "an HA peer's state file as hc-state-sync\ncopies it here: a takeover also waits for\n"
	 "the gateways it names (docs/scaling.md)", W_BOTH, 0},
	{"state-key", OPT_TEXT, F(state_key_file), 0, 0, NULL, "FILE",
	 "the HA pair's key for the state files (64\nhex digits, private as --keys): the file\n"
	 "written carries its MAC, and a state file\nwithout a good one is not believed: the\n"
	 "hold then lasts its whole time.  Two keys\nwhile it is rotated (the first signs,\n"
	 "either is believed); SIGHUP reloads it\n(docs/scaling.md)", W_BOTH, 2},
	{"ha", OPT_TEXT, F(ha_mode), 0, 0, NULL, "backup",
	 "one of an active/standby pair: start as the\nbackup (no ARP for --ip, nothing taken or\n"
	 "sent); keepalived's notify scripts switch\nthe role (/headcount/ha, docs/scaling.md);\n"
	 "needs keys and a state-file (not none: a\ntakeover's restart hold is built from the\n"
	 "state files)", W_BOTH, 0},
	{"ha-box", OPT_TEXT, F(ha_box), 0, 0, NULL, "0/1",
	 "which box of the pair this is (the other\nbox the other value): its epochs are even\n"
	 "(0) or odd (1), so the two boxes never\ntake the same epoch, not even promoted in\n"
	 "the same 1/8 s (docs/scaling.md)", W_BOTH, 0},
	{"dump-rooms", OPT_TEXT, F(dump_rooms), 0, 0, NULL, "FILE",
	 "write the final room table (CSV) at exit", W_BOTH, 0},
	{"dump-stats", OPT_TEXT, F(dump_stats), 0, 0, NULL, "FILE",
	 "write the final counters (key=value) at exit", W_BOTH, 0},
	{"help", OPT_HELP, 0, 0, 0, NULL, NULL, "this text", W_CLI, 0},
	{"version", OPT_VERSION, 0, 0, 0, NULL, NULL, "the program's version", W_CLI, 0},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))
#define OPT_VAL0 256 /* getopt_long's value for row i: above any character */
_Static_assert(N_ROWS <= 64, "hc_config's cli_set is a 64-bit mask of rows");

void hc_config_usage(const char *prog)
{
	printf("Usage: %s [EAL options --] [options]\n"
	       "       %s --config FILE [options]   (EAL options from the file's [eal])\n",
	       prog, prog);
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct opt_row *r = &rows[i];
		char head[64];
		snprintf(head, sizeof(head), "--%s%s%s", r->name, r->arg ? " " : "",
			 r->arg ? r->arg : "");
		/* help lines in a column; the default after the last one */
		const char *line = r->help;
		int first = 1;
		if (strlen(head) >= 24) { /* a long head gets a line of its own */
			printf("  %s\n", head);
			first = 0;
		}
		while (line != NULL) {
			const char *nl = strchr(line, '\n');
			int len = nl ? (int)(nl - line) : (int)strlen(line);
			printf("  %-24s%.*s", first ? head : "", len, line);
			if (nl == NULL && r->deflt != NULL)
				printf(" [%s]", r->deflt);
			if (nl == NULL && r->kind == OPT_U32)
				printf(" (%u..%u)", r->lo, r->hi);
			printf("\n");
			line = nl ? nl + 1 : NULL;
			first = 0;
		}
	}
}

/* Row r was given (on the command line or in the config file), not
 * left at its default: the rows whose default means more than a figure
 * say so (--ip: the lab's address, hc_port.c; --mbufs: sized to the
 * workers, hc_port_default_mbufs). */
static void note_given(struct hc_config *c, const struct opt_row *r)
{
	if (r->field == F(ip_be) && r->kind == OPT_IPV4)
		c->ip_explicit = 1;
	if (r->field == F(mbufs))
		c->mbufs_explicit = 1;
}

/* Parse val for row r into c; 0, or -1 with the reason in why. */
static int apply_value(struct hc_config *c, const struct opt_row *r, const char *val,
		       char *why, size_t whylen)
{
	char *field = (char *)c + r->field, *end;
	switch (r->kind) {
	case OPT_U32: {
		/* decimal only: "07100" is 7100 (base 0 would read it as
		 * octal 3648), and "0x10" is refused, not 16 */
		uint64_t v;
		if (hc_decimal_u64(val, r->lo, r->hi, &v) != 0) {
			snprintf(why, whylen, "'%s' is not a number in [%u, %u]", val, r->lo, r->hi);
			return -1;
		}
		*(uint32_t *)(void *)field = (uint32_t)v;
		return 0;
	}
	case OPT_SECONDS: {
		/* decimal digits and a point only: strtod would also take
		 * "0x10" (16), "1e3", "+5", "inf" */
		errno = 0;
		double v = strtod(val, &end);
		if (errno != 0 || end == val || *end != '\0' || val[strspn(val, "0123456789.")] != '\0' ||
		    !(v >= 0.0) || v > 1e7) {
			snprintf(why, whylen, "'%s' is not a number of seconds in [0, 1e7]", val);
			return -1;
		}
		*(double *)(void *)field = v;
		return 0;
	}
	case OPT_IPV4:
		if (inet_pton(AF_INET, val, field) != 1) {
			snprintf(why, whylen, "'%s' is not an IPv4 address", val);
			return -1;
		}
		return 0;
	case OPT_TEXT:
		*(const char **)(void *)field = val;
		return 0;
	case OPT_FLAG:
		if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
			*(int *)(void *)field = 1;
		} else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 ||
			   strcmp(val, "0") == 0) {
			*(int *)(void *)field = 0;
		} else {
			snprintf(why, whylen, "'%s' is none of yes, no, true, false, 1, 0", val);
			return -1;
		}
		return 0;
	case OPT_LIST:
		if (c->n_pool_specs == HC_CONFIG_MAX_POOL_SPECS) {
			snprintf(why, whylen, "given more than %d times", HC_CONFIG_MAX_POOL_SPECS);
			return -1;
		}
		c->pool_specs[c->n_pool_specs++] = val;
		return 0;
	case OPT_HELP:
	case OPT_DOC:
	case OPT_VERSION:
		break;
	}
	return 0;
}

void hc_config_defaults(struct hc_config *c)
{
	char why[160];
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_ROWS; i++)
		if (rows[i].deflt != NULL && apply_value(c, &rows[i], rows[i].deflt, why,
							 sizeof(why)) != 0)
			fprintf(stderr, "headcount: BUG: --%s's default: %s\n", rows[i].name, why);
}

int hc_config_parse_args(struct hc_config *c, int argc, char **argv)
{
	struct option long_opts[N_ROWS + 1];
	char why[160];

	for (size_t i = 0; i < N_ROWS; i++) {
		int has_arg = rows[i].kind == OPT_FLAG || rows[i].kind == OPT_HELP ||
			rows[i].kind == OPT_VERSION ||
			rows[i].kind == OPT_DOC ? no_argument : required_argument;
		long_opts[i] = (struct option){rows[i].name, has_arg, NULL, OPT_VAL0 + (int)i};
	}
	long_opts[N_ROWS] = (struct option){NULL, 0, NULL, 0};

	optind = 1;
	opterr = 0;
	int opt;
	c->cli_set = 0;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt < OPT_VAL0 || (size_t)(opt - OPT_VAL0) >= N_ROWS) {
			const char *name = optind > 1 ? argv[optind - 1] : "?";
			fprintf(stderr, "headcount: unknown or incomplete option '%s' (see --help; "
				"EAL options go before '--')\n", name);
			return -1;
		}
		const struct opt_row *r = &rows[opt - OPT_VAL0];
		if (r->kind == OPT_HELP) {
			hc_config_usage(argv[0]);
			return 1;
		}
		if (r->kind == OPT_DOC) {
			hc_config_doc(stdout);
			return 1;
		}
		if (r->kind == OPT_VERSION) {
			hc_version_print("headcount");
			return 1;
		}
		if (apply_value(c, r, r->kind == OPT_FLAG ? "1" : optarg, why, sizeof(why)) != 0) {
			fprintf(stderr, "headcount: --%s: %s\n", r->name, why);
			return -1;
		}
		c->cli_set |= 1ull << (opt - OPT_VAL0);
		note_given(c, r);
	}
	if (optind < argc) {
		fprintf(stderr, "headcount: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	/* --keys and --no-auth are one choice: the command line's wins over
	 * the file's */
	uint64_t keys = 0, no_auth = 0;
	for (size_t i = 0; i < N_ROWS; i++) {
		if (rows[i].field == F(keys_file) && rows[i].kind == OPT_TEXT)
			keys = 1ull << i;
		if (rows[i].field == F(no_auth) && rows[i].kind == OPT_FLAG)
			no_auth = 1ull << i;
	}
	if ((c->cli_set & keys) && !(c->cli_set & no_auth))
		c->no_auth = 0;
	if ((c->cli_set & no_auth) && !(c->cli_set & keys))
		c->keys_file = NULL;
	return 0;
}

int hc_config_check(const struct hc_config *c, char *err, size_t errlen)
{
	if ((c->keys_file != NULL) == (c->no_auth != 0)) {
		snprintf(err, errlen, "give exactly one of --keys FILE (datagrams are "
			 "authenticated) and --no-auth (they are not), as flags or "
			 "[appliance] keys");
		return -1;
	}
	if (c->ha_mode != NULL && strcmp(c->ha_mode, "backup") != 0) {
		snprintf(err, errlen, "--ha '%s': the only start is backup (keepalived makes "
			 "a master)", c->ha_mode);
		return -1;
	}
	if (c->peer_state_file != NULL && strcmp(c->peer_state_file, "none") != 0 &&
	    (c->state_file == NULL || strcmp(c->state_file, "none") == 0)) {
		snprintf(err, errlen, "--peer-state-file needs a --state-file: without one no "
			 "restart hold is kept, and the peer's file would be ignored");
		return -1;
	}
	if (c->ha_mode != NULL && (c->state_file == NULL || strcmp(c->state_file, "none") == 0)) {
		snprintf(err, errlen, "--ha needs a --state-file: without one a takeover keeps "
			 "no restart hold, and decides every JOIN and PLACE at once while the "
			 "gateways restate what the other box held");
		return -1;
	}
	if (c->ha_box != NULL && c->ha_mode == NULL) {
		snprintf(err, errlen, "--ha-box needs --ha: it names one box of an HA pair");
		return -1;
	}
	if (c->ha_box != NULL && strcmp(c->ha_box, "0") != 0 && strcmp(c->ha_box, "1") != 0) {
		snprintf(err, errlen, "--ha-box '%s': 0 or 1, one for each box of an --ha pair",
			 c->ha_box);
		return -1;
	}
	if (c->ha_mode != NULL && c->no_auth) {
		snprintf(err, errlen, "--ha needs --keys: a pair takes the epochs gateways name "
			 "only from authenticated datagrams (with --no-auth anyone could force "
			 "new epochs)");
		return -1;
	}
	return 0;
}

int hc_config_parse(struct hc_config *c, int argc, char **argv)
{
	char err[256];
	hc_config_defaults(c);
	int rc = hc_config_parse_args(c, argc, argv);
	if (rc != 0)
		return rc;
	if (hc_config_check(c, err, sizeof(err)) != 0) {
		fprintf(stderr, "headcount: %s\n", err);
		return -1;
	}
	return 0;
}

static const struct opt_row *file_row(const char *key)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (rows[i].where == W_BOTH && strcmp(rows[i].name, key) == 0)
			return &rows[i];
	return NULL;
}

int hc_config_apply_ini(struct hc_config *c, const struct hc_ini *ini, char *err,
			size_t errlen)
{
	char why[200];
	for (unsigned i = 0; i < ini->n; i++) {
		const struct hc_ini_entry *e = &ini->e[i];
		if (strcmp(e->section, "appliance") != 0)
			continue;
		const struct opt_row *r = file_row(e->key);
		unsigned first = hc_ini_earlier(ini, i);
		if (r == NULL) {
			size_t k = 0;
			while (k < N_ROWS && strcmp(rows[k].name, e->key) != 0)
				k++;
			if (k == N_ROWS)
				snprintf(why, sizeof(why), "unknown key (see docs/configuration.md)");
			else
				snprintf(why, sizeof(why), "a command-line option only%s",
					 strcmp(e->key, "pool") == 0 ?
					 " (pools are [pool.NAME] sections)" : "");
		} else if (first != 0) {
			snprintf(why, sizeof(why), "given twice (first on line %u)", first);
		} else if (apply_value(c, r, e->value, why, sizeof(why)) == 0) {
			note_given(c, r); /* (the file's values are given too) */
			continue;
		}
		snprintf(err, errlen, "%s:%u: [appliance] %s: %s", ini->path, e->line, e->key, why);
		return -1;
	}
	return 0;
}

static int row_differs(const struct opt_row *r, const struct hc_config *a,
		       const struct hc_config *b)
{
	const char *x = (const char *)a + r->field, *y = (const char *)b + r->field;
	switch (r->kind) {
	case OPT_U32:
	case OPT_IPV4:
		return *(const uint32_t *)(const void *)x != *(const uint32_t *)(const void *)y;
	case OPT_SECONDS:
		return *(const double *)(const void *)x != *(const double *)(const void *)y;
	case OPT_FLAG:
		return *(const int *)(const void *)x != *(const int *)(const void *)y;
	case OPT_TEXT: {
		const char *s = *(const char *const *)(const void *)x;
		const char *t = *(const char *const *)(const void *)y;
		return (s == NULL) != (t == NULL) || (s != NULL && strcmp(s, t) != 0);
	}
	default:
		return 0;
	}
}

/* A key file's row (reload 2) set in both: a new path is followed. */
static int both_set(const struct opt_row *r, const struct hc_config *a,
		    const struct hc_config *b)
{
	return *(const char *const *)(const void *)((const char *)a + r->field) != NULL &&
	       *(const char *const *)(const void *)((const char *)b + r->field) != NULL;
}

unsigned hc_config_restart_changes(const struct hc_config *running,
				   const struct hc_config *next, const char **names,
				   unsigned cap)
{
	unsigned n = 0;
	for (size_t i = 0; i < N_ROWS; i++)
		if (rows[i].where == W_BOTH && rows[i].reload != 1 &&
		    (row_differs(&rows[i], running, next) ||
		     /* given now, or no more: the next start's pool differs
		      * even at the same figure (hc_port_default_mbufs) */
		     (rows[i].field == F(mbufs) &&
		      running->mbufs_explicit != next->mbufs_explicit)) && n < cap &&
		    !(rows[i].reload == 2 && both_set(&rows[i], running, next)))
			names[n++] = rows[i].name;
	return n;
}

static const char *kind_text(const struct opt_row *r, char *buf, size_t len)
{
	switch (r->kind) {
	case OPT_U32:
		snprintf(buf, len, "%u..%u", r->lo, r->hi);
		return buf;
	case OPT_SECONDS:
		return "seconds, 0..1e7";
	case OPT_IPV4:
		return "IPv4 address";
	case OPT_TEXT: /* (a file, or the values it takes) */
		return strcmp(r->arg, "FILE") == 0 ? "file name" : r->arg;
	case OPT_FLAG:
		return "yes / no";
	case OPT_LIST:
		return "ID:NAME:MIN:MAX[:TARGET[:FILL]]";
	default:
		return "";
	}
}

/* One table cell: the help on one line, '|' escaped. */
static void cell(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputc(' ', f);
		else if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
	}
}

void hc_config_doc(FILE *f)
{
	char buf[64];
	fputs("<!-- generated by `headcount --config-doc` from the option tables "
	      "(app/hc_options.c,\n     app/hc_conffile.c, control/hc_policy.c): "
	      "do not edit; the unit test\n     config/doc_is_generated fails if it differs. -->\n", f);
	fputs(hc_config_doc_intro, f);
	fputs("\n## Every key\n\n"
	      "| section | key | flag | type / range | default | reload | help |\n"
	      "|---|---|---|---|---|---|---|\n", f);
	hc_conffile_eal_doc(f);
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct opt_row *r = &rows[i];
		fprintf(f, "| %s | %s%s%s | `--%s` | %s | %s | %s | ",
			r->where == W_BOTH ? "`[appliance]`" : "(command line)",
			r->where == W_BOTH ? "`" : "", r->where == W_BOTH ? r->name : "",
			r->where == W_BOTH ? "`" : "", r->name, kind_text(r, buf, sizeof(buf)),
			r->deflt != NULL ? r->deflt : r->kind == OPT_FLAG ? "no" : "none",
			r->where == W_CLI && r->reload == 0 ? "-" : r->reload == 1 ? "yes" : r->reload == 2 ? "yes (the file read "
			"again, a new path followed; on or off: restart)" : "restart");
		cell(f, r->help);
		fputs(" |\n", f);
	}
	hc_policy_doc(f);
}
