/*
 * hc_config.c - parse and check the appliance's command line.
 *
 * Every number goes through one bounded parser (errno, end pointer, range)
 * and every error names the option.  Defaults are the embedded lab's.
 */
#include "hc_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_proto.h"

void hc_config_usage(const char *prog)
{
	printf("usage: %s [EAL options] -- [options]\n"
	       "  --ip A.B.C.D            our IPv4 address (answered for ARP)   [198.18.0.1]\n"
	       "  --udp-port N            UDP port of the protocol              [%u]\n"
	       "  --max-users N           users the appliance holds             [1048576]\n"
	       "  --max-rooms N           room ids are 1 .. N-1                 [262144]\n"
	       "  --max-gateways N        gateway ids are 1 .. N-1              [1024]\n"
	       "  --burst N               rx burst size, 1..256                 [64]\n"
	       "  --rx-desc N             rx descriptors per queue              [1024]\n"
	       "  --mbufs N               mbufs in the packet pool              [32767]\n"
	       "  --merge-interval-ms N   RCU room-view merge period            [100]\n"
	       "  --gap-timeout-ms N      wait this long for a missing sequence,\n"
	       "                          then ask the gateway again (NACK)     [30]\n"
	       "  --gap-nacks N           NACK rounds before a gap is given up\n"
	       "                          and counted lost                      [16]\n"
	       "  --gateway-timeout-ms N  a gateway silent this long is dead: its\n"
	       "                          users are removed; 0 = never          [3000]\n"
	       "  --heartbeat-ms N        heartbeat period towards gateways     [100]\n"
	       "  --stats-interval S      seconds between stats lines, 0 = none [1]\n"
	       "  --idle-exit S           stop S seconds after traffic stops    [0 = never]\n"
	       "  --duration S            stop after S seconds                  [0 = never]\n"
	       "  --config FILE           pools and control timers (INI, see docs)\n"
	       "  --pool ID:NAME:MIN:MAX[:TARGET]  add or replace a pool (repeatable)\n"
	       "                          [pool 0 'default' 15:100:50]\n"
	       "  --max-reservations N    seats reserved at once               [1048576]\n"
	       "  --no-admission          apply every JOIN at once, never refuse one\n"
	       "                          (faster; rooms may then exceed max)\n"
	       "  --dump-rooms FILE       write the final room table (CSV) at exit\n"
	       "  --dump-stats FILE       write the final counters (key=value) at exit\n"
	       "  --help                  this text\n",
	       prog, HC_PROTO_DEFAULT_PORT);
}

static int parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi,
		     uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "headcount: %s: '%s' is not a number in [%u, %u]\n",
			opt, s, lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_seconds(const char *opt, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0) || v > 1e7) {
		fprintf(stderr, "headcount: %s: '%s' is not a number of seconds >= 0\n",
			opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	OPT_IP = 256, OPT_PORT, OPT_MAX_USERS, OPT_MAX_ROOMS, OPT_MAX_GW,
	OPT_BURST, OPT_RX_DESC, OPT_MBUFS, OPT_MERGE, OPT_GAP, OPT_STATS,
	OPT_IDLE, OPT_DURATION, OPT_DUMP_ROOMS, OPT_DUMP_STATS, OPT_HELP,
	OPT_CONFIG, OPT_POOL, OPT_MAX_RESV, OPT_NO_ADMISSION, OPT_GAP_NACKS,
	OPT_GW_TIMEOUT, OPT_HEARTBEAT,
};

static const struct option long_opts[] = {
	{"ip", required_argument, NULL, OPT_IP},
	{"udp-port", required_argument, NULL, OPT_PORT},
	{"max-users", required_argument, NULL, OPT_MAX_USERS},
	{"max-rooms", required_argument, NULL, OPT_MAX_ROOMS},
	{"max-gateways", required_argument, NULL, OPT_MAX_GW},
	{"burst", required_argument, NULL, OPT_BURST},
	{"rx-desc", required_argument, NULL, OPT_RX_DESC},
	{"mbufs", required_argument, NULL, OPT_MBUFS},
	{"merge-interval-ms", required_argument, NULL, OPT_MERGE},
	{"gap-timeout-ms", required_argument, NULL, OPT_GAP},
	{"stats-interval", required_argument, NULL, OPT_STATS},
	{"idle-exit", required_argument, NULL, OPT_IDLE},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"dump-rooms", required_argument, NULL, OPT_DUMP_ROOMS},
	{"dump-stats", required_argument, NULL, OPT_DUMP_STATS},
	{"help", no_argument, NULL, OPT_HELP},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"pool", required_argument, NULL, OPT_POOL},
	{"max-reservations", required_argument, NULL, OPT_MAX_RESV},
	{"no-admission", no_argument, NULL, OPT_NO_ADMISSION},
	{"gap-nacks", required_argument, NULL, OPT_GAP_NACKS},
	{"gateway-timeout-ms", required_argument, NULL, OPT_GW_TIMEOUT},
	{"heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT},
	{NULL, 0, NULL, 0},
};

int hc_config_parse(struct hc_config *c, int argc, char **argv)
{
	uint32_t v;
	int opt;

	*c = (struct hc_config){
		.udp_port = HC_PROTO_DEFAULT_PORT,
		.max_users = 1u << 20,
		.max_rooms = 1u << 18,
		.max_gateways = 1024,
		.burst = 64,
		.rx_desc = 1024,
		.mbufs = 32767,
		.merge_interval_ms = 100,
		.gap_timeout_ms = 30,
		.gap_nacks = 16,
		.gateway_timeout_ms = 3000,
		.heartbeat_ms = 100,
		.stats_interval_s = 1.0,
		.max_reservations = 1u << 20,
	};
	inet_pton(AF_INET, "198.18.0.1", &c->ip_be);

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		const char *name = optind > 1 ? argv[optind - 1] : "?";
		switch (opt) {
		case OPT_IP:
			if (inet_pton(AF_INET, optarg, &c->ip_be) != 1) {
				fprintf(stderr, "headcount: --ip: '%s' is not an IPv4 address\n", optarg);
				return -1;
			}
			break;
		case OPT_PORT:
			if (parse_u32("--udp-port", optarg, 1, 65535, &v)) return -1;
			c->udp_port = (uint16_t)v;
			break;
		case OPT_MAX_USERS:
			if (parse_u32("--max-users", optarg, 1024, 1u << 30, &c->max_users)) return -1;
			break;
		case OPT_MAX_ROOMS:
			if (parse_u32("--max-rooms", optarg, 2, 1u << 26, &c->max_rooms)) return -1;
			break;
		case OPT_MAX_GW:
			if (parse_u32("--max-gateways", optarg, 2, 65536, &c->max_gateways)) return -1;
			break;
		case OPT_BURST:
			if (parse_u32("--burst", optarg, 1, 256, &c->burst)) return -1;
			break;
		case OPT_RX_DESC:
			if (parse_u32("--rx-desc", optarg, 64, 32768, &c->rx_desc)) return -1;
			break;
		case OPT_MBUFS:
			if (parse_u32("--mbufs", optarg, 1023, 1u << 24, &c->mbufs)) return -1;
			break;
		case OPT_MERGE:
			if (parse_u32("--merge-interval-ms", optarg, 1, 60000, &c->merge_interval_ms)) return -1;
			break;
		case OPT_GAP:
			if (parse_u32("--gap-timeout-ms", optarg, 0, 600000, &c->gap_timeout_ms)) return -1;
			break;
		case OPT_GAP_NACKS:
			if (parse_u32("--gap-nacks", optarg, 0, 1000000, &c->gap_nacks)) return -1;
			break;
		case OPT_GW_TIMEOUT:
			if (parse_u32("--gateway-timeout-ms", optarg, 0, 3600000,
				      &c->gateway_timeout_ms)) return -1;
			break;
		case OPT_HEARTBEAT:
			if (parse_u32("--heartbeat-ms", optarg, 1, 60000, &c->heartbeat_ms)) return -1;
			break;
		case OPT_STATS:
			if (parse_seconds("--stats-interval", optarg, &c->stats_interval_s)) return -1;
			break;
		case OPT_IDLE:
			if (parse_seconds("--idle-exit", optarg, &c->idle_exit_s)) return -1;
			break;
		case OPT_DURATION:
			if (parse_seconds("--duration", optarg, &c->duration_s)) return -1;
			break;
		case OPT_DUMP_ROOMS:
			c->dump_rooms = optarg;
			break;
		case OPT_DUMP_STATS:
			c->dump_stats = optarg;
			break;
		case OPT_CONFIG:
			c->policy_file = optarg;
			break;
		case OPT_POOL:
			if (c->n_pool_specs == 64) {
				fprintf(stderr, "headcount: at most 64 --pool options\n");
				return -1;
			}
			c->pool_specs[c->n_pool_specs++] = optarg;
			break;
		case OPT_MAX_RESV:
			if (parse_u32("--max-reservations", optarg, 1024, 1u << 28,
				      &c->max_reservations)) return -1;
			break;
		case OPT_NO_ADMISSION:
			c->no_admission = 1;
			break;
		case OPT_HELP:
			hc_config_usage(argv[0]);
			return 1;
		default:
			fprintf(stderr, "headcount: unknown or incomplete option '%s' (see --help)\n",
				name);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "headcount: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}
