/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_options.c - the appliance's options: one table row each (name, kind,
 * field, range, default, help), from which the usage text, the parser and
 * the defaults all come, so they cannot disagree.
 *
 * Every value, the defaults included, goes through the same bounded
 * parser (errno, end pointer, range); every error names the option.
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

#include "hc_proto.h"

enum opt_kind {
	OPT_U32,     /* unsigned integer in [lo, hi]                  */
	OPT_SECONDS, /* seconds, a real number in [0, 1e7]            */
	OPT_IPV4,    /* dotted IPv4 address, stored in network order  */
	OPT_TEXT,    /* a string (a file name)                        */
	OPT_FLAG,    /* no argument: sets an int to 1                 */
	OPT_LIST,    /* a string, repeatable (--pool)                 */
	OPT_HELP,
};

struct opt_row {
	const char *name;
	enum opt_kind kind;
	size_t field;        /* offsetof(struct hc_config, ...)            */
	uint32_t lo, hi;     /* OPT_U32                                    */
	const char *deflt;   /* parsed like an argument; NULL: zero / none */
	const char *arg;     /* what the argument is, in the usage text    */
	const char *help;    /* one or more lines, '\n' between them       */
};

#define F(field) offsetof(struct hc_config, field)
_Static_assert(HC_PROTO_DEFAULT_PORT == 7100, "--udp-port's default is the protocol's port");

static const struct opt_row rows[] = {
	{"ip", OPT_IPV4, F(ip_be), 0, 0, "198.18.0.1", "A.B.C.D",
	 "our IPv4 address (answered for ARP)"},
	{"udp-port", OPT_U32, F(udp_port), 1, 65535, "7100", "N",
	 "UDP port of the protocol"},
	{"max-users", OPT_U32, F(max_users), 1024, 1u << 30, "1048576", "N",
	 "users the appliance holds"},
	{"max-rooms", OPT_U32, F(max_rooms), 2, 1u << 26, "262144", "N",
	 "room ids are 1 .. N-1"},
	{"max-gateways", OPT_U32, F(max_gateways), 2, 65536, "1024", "N",
	 "gateway ids are 1 .. N-1"},
	{"burst", OPT_U32, F(burst), 1, 256, "64", "N", "rx burst size"},
	{"rx-desc", OPT_U32, F(rx_desc), 64, 32768, "1024", "N", "rx descriptors per queue"},
	{"mbufs", OPT_U32, F(mbufs), 1023, 1u << 24, "32767", "N",
	 "mbufs in the packet pool (2 KiB of frame\neach; more for af_packet's framesz)"},
	{"gather-mbufs", OPT_U32, F(gather_mbufs), 64, 1u << 20, "1023", "N",
	 "9 KiB mbufs that frames in several\nsegments (pcap, NIC scatter) are gathered\n"
	 "into; none if packet mbufs are as large"},
	{"merge-interval-ms", OPT_U32, F(merge_interval_ms), 1, 60000, "100", "N",
	 "RCU room-view merge period"},
	{"gap-timeout-ms", OPT_U32, F(gap_timeout_ms), 0, 600000, "30", "N",
	 "wait this long for a missing sequence,\nthen ask the gateway again (NACK)"},
	{"gap-nacks", OPT_U32, F(gap_nacks), 0, 1000000, "16", "N",
	 "NACK rounds before a gap is given up\nand counted lost"},
	{"gateway-timeout-ms", OPT_U32, F(gateway_timeout_ms), 0, 3600000, "3000", "N",
	 "a gateway silent this long is dead: its\nusers are removed; 0 = never"},
	{"heartbeat-ms", OPT_U32, F(heartbeat_ms), 1, 60000, "100", "N",
	 "heartbeat period towards gateways"},
	{"stats-interval", OPT_SECONDS, F(stats_interval_s), 0, 0, "1", "S",
	 "seconds between stats lines, 0 = none"},
	{"idle-exit", OPT_SECONDS, F(idle_exit_s), 0, 0, NULL, "S",
	 "stop S seconds after traffic stops, once\nevery port is read dry; 0 = never"},
	{"duration", OPT_SECONDS, F(duration_s), 0, 0, NULL, "S",
	 "stop after S seconds, 0 = never"},
	{"config", OPT_TEXT, F(policy_file), 0, 0, NULL, "FILE",
	 "pools and control timers (INI, see docs)"},
	{"pool", OPT_LIST, F(pool_specs), 0, 0, NULL, "ID:NAME:MIN:MAX[:TARGET[:FILL]]",
	 "add or replace a pool (repeatable); TARGET\ndefaults to MAX / 2; FILL is target\n"
	 "(placement fills a room up to TARGET, then\nopens another; joins may go on to MAX)\n"
	 "or max (placement fills rooms to MAX)\n[0:default:15:100:50:target]"},
	{"max-reservations", OPT_U32, F(max_reservations), 1024, 1u << 28, "1048576", "N",
	 "seats reserved at once"},
	{"no-admission", OPT_FLAG, F(no_admission), 0, 0, NULL, NULL,
	 "apply every JOIN at once, never refuse one\n(faster; rooms may then exceed max)"},
	{"keys", OPT_TEXT, F(keys_file), 0, 0, NULL, "FILE",
	 "per-gateway keys: every datagram must carry\na tag under its gateway's key (see\ndocs/protocol.md); SIGHUP reloads it"},
	{"no-auth", OPT_FLAG, F(no_auth), 0, 0, NULL, NULL,
	 "run without keys: tags are neither needed\nnor checked (one of --keys, --no-auth)"},
	{"max-places-per-gateway", OPT_U32, F(max_places_per_gw), 1, 1u << 28, "16384", "N",
	 "seats one gateway may hold reserved\n(unanswered PLACEs beyond: NO_ROOM)"},
	{"max-snapshot-users", OPT_U32, F(max_snapshot_users), 1, 1u << 28, "262144", "N",
	 "members one gateway's snapshot may stage;\nall snapshots of a worker together:\n--max-users"},
	{"state-file", OPT_TEXT, F(state_file), 0, 0, "/var/lib/headcount/gateways", "FILE",
	 "the gateways holding users, kept for the\nnext start: it holds placements until\nthey restated ('none': no file)"},
	{"ha", OPT_TEXT, F(ha_mode), 0, 0, NULL, "backup",
	 "one of an active/standby pair: start as the\nbackup (no ARP for --ip, nothing taken or\n"
	 "sent); keepalived's notify scripts switch\nthe role (/headcount/ha, docs/scaling.md)"},
	{"dump-rooms", OPT_TEXT, F(dump_rooms), 0, 0, NULL, "FILE",
	 "write the final room table (CSV) at exit"},
	{"dump-stats", OPT_TEXT, F(dump_stats), 0, 0, NULL, "FILE",
	 "write the final counters (key=value) at exit"},
	{"help", OPT_HELP, 0, 0, 0, NULL, NULL, "this text"},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))
#define OPT_VAL0 256 /* getopt_long's value for row i: above any character */

void hc_config_usage(const char *prog)
{
	printf("usage: %s [EAL options] -- [options]\n", prog);
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

static int parse_u32(const struct opt_row *r, const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < r->lo || v > r->hi) {
		fprintf(stderr, "headcount: --%s: '%s' is not a number in [%u, %u]\n",
			r->name, s, r->lo, r->hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_seconds(const struct opt_row *r, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0) || v > 1e7) {
		fprintf(stderr, "headcount: --%s: '%s' is not a number of seconds >= 0\n",
			r->name, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Store one value of row r into c.  0, or -1 after saying why. */
static int apply_row(struct hc_config *c, const struct opt_row *r, const char *val)
{
	char *field = (char *)c + r->field;
	switch (r->kind) {
	case OPT_U32:
		return parse_u32(r, val, (uint32_t *)(void *)field);
	case OPT_SECONDS:
		return parse_seconds(r, val, (double *)(void *)field);
	case OPT_IPV4:
		if (inet_pton(AF_INET, val, field) != 1) {
			fprintf(stderr, "headcount: --%s: '%s' is not an IPv4 address\n",
				r->name, val);
			return -1;
		}
		return 0;
	case OPT_TEXT:
		*(const char **)(void *)field = val;
		return 0;
	case OPT_FLAG:
		*(int *)(void *)field = 1;
		return 0;
	case OPT_LIST:
		if (c->n_pool_specs == HC_CONFIG_MAX_POOL_SPECS) {
			fprintf(stderr, "headcount: at most %d --%s options\n",
				HC_CONFIG_MAX_POOL_SPECS, r->name);
			return -1;
		}
		c->pool_specs[c->n_pool_specs++] = val;
		return 0;
	case OPT_HELP:
		break;
	}
	return 0;
}

int hc_config_parse(struct hc_config *c, int argc, char **argv)
{
	struct option long_opts[N_ROWS + 1];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_ROWS; i++) {
		if (rows[i].deflt != NULL && apply_row(c, &rows[i], rows[i].deflt) != 0)
			return -1; /* a bad table: caught by the unit tests */
		int has_arg = rows[i].kind == OPT_FLAG || rows[i].kind == OPT_HELP ?
			no_argument : required_argument;
		long_opts[i] = (struct option){rows[i].name, has_arg, NULL, OPT_VAL0 + (int)i};
	}
	long_opts[N_ROWS] = (struct option){NULL, 0, NULL, 0};

	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt < OPT_VAL0 || (size_t)(opt - OPT_VAL0) >= N_ROWS) {
			const char *name = optind > 1 ? argv[optind - 1] : "?";
			fprintf(stderr, "headcount: unknown or incomplete option '%s' (see --help)\n",
				name);
			return -1;
		}
		const struct opt_row *r = &rows[opt - OPT_VAL0];
		if (r->kind == OPT_HELP) {
			hc_config_usage(argv[0]);
			return 1;
		}
		if (apply_row(c, r, optarg) != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "headcount: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if ((c->keys_file != NULL) == (c->no_auth != 0)) {
		fprintf(stderr, "headcount: give exactly one of --keys FILE (datagrams are "
			"authenticated) and --no-auth (they are not)\n");
		return -1;
	}
	return 0;
}
