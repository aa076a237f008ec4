/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_agent.c - hc-agent: libheadcount behind the conformance agent
 * contract (docs/conformance.md), so that the language-neutral driver
 * (tests/conformance/hc_conform.py) can test the C client exactly as it
 * tests every other client.
 *
 * One session (gateway/headcount.h, the public API only; hc_proto.h for
 * the documented membership digest, hc_auth.h to read a hex key), driven
 * the way docs/gateway.md says an event loop should: epoll over stdin
 * and hc_gw_fd(), with hc_gw_timeout_ms() as the wait, hc_gw_poll(g, 0)
 * after every wake.
 * Commands come one per line on stdin (join, leave, place, dump, status,
 * close); the session's callbacks become event lines on stdout (assign,
 * move, state), each flushed at once.  The agent never acts on a MOVE
 * itself: the driver answers it with a join.  stderr is free-form log.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc_auth.h" /* hc_auth_key_parse */
#include "hc_cli.h"
#include "headcount.h"
#include "hc_proto.h"

static struct hc_gw *gw;

/* One line on stdout, flushed (the driver reads events as they come). */
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}


static const char *assign_name(uint8_t status)
{
	switch (status) {
	case HC_GW_PLACED: return "placed";
	case HC_GW_NEW_TOPIC: return "new_topic";
	case HC_GW_NO_ROOM: return "no_room";
	case HC_GW_TIMEOUT: return "timeout";
	case HC_GW_FULL: return "full";
	case HC_GW_SUPERSEDED: return "superseded";
	default: return "unknown";
	}
}

static void on_assign(void *arg, const struct hc_gw_assign *a)
{
	(void)arg;
	out("assign %" PRIu64 " %u %s %u %u %u", a->user_id, a->request_id,
	    assign_name(a->status), a->room_id, a->refused_room, a->pool_id);
}

static void on_move(void *arg, const struct hc_gw_move *m)
{
	(void)arg;
	out("move %" PRIu64 " %u %u %u %u %u", m->user_id, m->from_room, m->to_room,
	    m->directive_id, m->pool_id, m->attempt);
}

/* The contract's names: the state (connecting, connected, lost,
 * id_conflict, as hc_gw_state_name says them), or appliance_restarted
 * and switched for those reasons. */
static void on_state(void *arg, const struct hc_gw_state_change *c)
{
	(void)arg;
	if (c->reason == HC_GW_REASON_RESTARTED)
		out("state appliance_restarted");
	else if (c->reason == HC_GW_REASON_SWITCHED)
		out("state switched %s", c->appliance);
	else
		out("state %s", hc_gw_state_name(c->state));
}

/* ------------------------------------------------------------ commands -- */

struct dump_acc {
	uint64_t count, digest;
};

static void dump_one(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct dump_acc *d = arg;
	out("member %" PRIu64 " %u %u", user, room, pool);
	d->count++;
	d->digest += hc_member_digest(user, room);
}

static void status(void)
{
	struct hc_gw_stats s;
	hc_gw_get_stats(gw, &s);
	uint64_t dropped = s.rx_bad + s.rx_bad_auth + s.rx_wrong_source + s.rx_stale +
			   s.rx_replayed;
	out("status users=%" PRIu64 " sequence=%u acked=%u appliance_users=%u"
	    " appliance_incarnation=%u state=%s snapshots=%" PRIu64 " retransmits=%" PRIu64
	    " rx_bad_auth=%" PRIu64 " rx_dropped=%" PRIu64 " rx_bad=%" PRIu64
	    " rx_wrong_source=%" PRIu64 " rx_stale=%" PRIu64 " rx_replayed=%" PRIu64
	    " joins=%" PRIu64 " leaves=%" PRIu64 " places=%" PRIu64 " place_resends=%" PRIu64
	    " place_timeouts=%" PRIu64 " assigns=%" PRIu64 " new_topics=%" PRIu64
	    " moves=%" PRIu64 " moves_ignored=%" PRIu64 " nacks=%" PRIu64
	    " resync_requests=%" PRIu64 " appliance_restarts=%" PRIu64
	    " heartbeats_sent=%" PRIu64 " heartbeats_received=%" PRIu64
	    " digest_mismatches=%" PRIu64 " digest_snapshots=%" PRIu64
	    " id_conflicts=%" PRIu64 " refusals=%" PRIu64 " superseded=%" PRIu64
	    " send_errors=%" PRIu64 " lost=%" PRIu64 " appliance_switches=%" PRIu64
	    " appliance_index=%u appliance_digest=%" PRIu64,
	    hc_gw_users(gw), s.sequence, s.acked, s.appliance_users, s.appliance_incarnation,
	    hc_gw_state_name(hc_gw_state(gw)), s.snapshots, s.retransmits,
	    s.rx_bad_auth, dropped, s.rx_bad, s.rx_wrong_source, s.rx_stale, s.rx_replayed,
	    s.joins, s.leaves, s.places, s.place_resends, s.place_timeouts, s.assigns,
	    s.new_topics, s.moves, s.moves_ignored, s.nacks, s.resync_requests,
	    s.appliance_restarts, s.heartbeats_sent, s.heartbeats_received,
	    s.digest_mismatches, s.digest_snapshots, s.id_conflicts, s.refusals, s.superseded,
	    s.send_errors, s.lost, s.appliance_switches, hc_gw_appliance(gw, NULL),
	    s.appliance_digest);
}

/* A decimal number that fits in max; 0 or -1. */
static int num(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *v <= max ? 0 : -1;
}

static void close_session(int clean)
{
	hc_gw_close(gw, clean);
	gw = NULL;
	out("closed");
	exit(0);
}

/* One command line (no newline).  Errors are reported, never fatal. */
static void command(char *line)
{
	char *tok[5];
	int n = 0;
	for (char *save, *t = strtok_r(line, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save)) {
		if (n == 5) {
			n = 6;
			break;
		}
		tok[n++] = t;
	}
	if (n == 0)
		return;
	const char *cmd = tok[0];
	uint64_t user, room, pool;
	if (strcmp(cmd, "join") == 0) {
		if (n != 4 || num(tok[1], UINT64_MAX, &user) || num(tok[2], UINT32_MAX, &room) ||
		    num(tok[3], UINT16_MAX, &pool))
			out("error join usage: join USER ROOM POOL");
		else if (hc_gw_join(gw, user, (uint32_t)room, (uint16_t)pool) != 0)
			out("error join %s", strerror(errno));
	} else if (strcmp(cmd, "leave") == 0) {
		if (n != 2 || num(tok[1], UINT64_MAX, &user))
			out("error leave usage: leave USER");
		else if (hc_gw_leave(gw, user) != 0)
			out("error leave %s", errno == ENOENT ? "not here" : strerror(errno));
	} else if (strcmp(cmd, "place") == 0) {
		uint32_t req;
		if (n != 3 || num(tok[1], UINT64_MAX, &user) || num(tok[2], UINT16_MAX, &pool))
			out("error place usage: place USER POOL");
		else if (hc_gw_place(gw, user, (uint16_t)pool, &req) != 0)
			out("error place %s", strerror(errno));
	} else if (strcmp(cmd, "dump") == 0 && n == 1) {
		struct dump_acc d = {0, 0};
		hc_gw_foreach(gw, dump_one, &d);
		out("dumped %" PRIu64 " %" PRIu64, d.count, d.digest);
	} else if (strcmp(cmd, "status") == 0 && n == 1) {
		status();
	} else if (strcmp(cmd, "close") == 0 && n == 2 &&
		   (strcmp(tok[1], "clean") == 0 || strcmp(tok[1], "crash") == 0)) {
		close_session(strcmp(tok[1], "clean") == 0);
	} else if (strcmp(cmd, "dump") == 0 || strcmp(cmd, "status") == 0 ||
		   strcmp(cmd, "close") == 0) {
		out("error %s bad arguments", cmd);
	} else {
		out("error %s unknown command", cmd);
	}
}

/* ---------------------------------------------------------------- main -- */

static void help(FILE *f)
{
	fprintf(f,
		"Usage: hc-agent --appliance HOST[:PORT] [--appliance HOST[:PORT] ...] --gateway-id N\n"
		"                (--key HEX32 [--key-slot S] | --no-auth) [--incarnation N]\n"
		"                [--flush-us N] [--heartbeat-ms N] [--max-rooms N]\n"
		"One libheadcount session behind the conformance agent contract\n"
		"(docs/conformance.md): commands on stdin, events on stdout.\n"
		"  --appliance HOST[:PORT] the appliance; several: the list of\n"
		"                          hc_gw_config.appliance (port 7100 unless given)\n"
		"  --gateway-id N          this gateway's id (1..65535)\n"
		"  --key HEX32             this gateway's key, 32 hex digits\n"
		"  --key-slot S            the key's slot (0 or 1)               [0]\n"
		"  --no-auth               no key: nothing sealed or checked\n"
		"  --incarnation N         the session's first incarnation\n"
		"  --flush-us N            hc_gw_config.flush_us\n"
		"  --heartbeat-ms N        hc_gw_config.heartbeat_ms (1..60000)\n"
		"  --max-rooms N           the appliance's --max-rooms (2..2^32-1):\n"
		"                          hc_gw_config.max_room = N - 1     [no bound]\n"
		"  --help                  this text\n"
		"  --version               the program's version\n");
}

static void usage(const char *why)
{
	fprintf(stderr, "hc-agent: %s (see --help)\n", why);
	exit(2);
}

static uint64_t opt_num(const char *name, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;
	if (num(arg, max, &v) || v < min) {
		char why[128];
		snprintf(why, sizeof(why), "--%s: a number %" PRIu64 "..%" PRIu64, name, min, max);
		usage(why);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"appliance", 1, 0, 'a'}, {"gateway-id", 1, 0, 'g'}, {"key", 1, 0, 'k'},
		{"key-slot", 1, 0, 's'}, {"no-auth", 0, 0, 'n'}, {"incarnation", 1, 0, 'i'},
		{"flush-us", 1, 0, 'f'}, {"heartbeat-ms", 1, 0, 'h'}, {"max-rooms", 1, 0, 'm'}, {"help", 0, 0, 'H'},
		{"version", 0, 0, 'V'}, {0, 0, 0, 0}};
	struct hc_gw_config cfg;
	static char appliances[1024];
	uint8_t key[HC_GW_KEY_LEN];
	int have_key = 0, c;
	hc_gw_config_init(&cfg);
	cfg.appliance = NULL;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': { /* one more address of the list */
			size_t used = strlen(appliances);
			if (snprintf(appliances + used, sizeof(appliances) - used, "%s%s",
				     used ? "," : "", optarg) >= (int)(sizeof(appliances) - used))
				usage("--appliance: too many addresses");
			cfg.appliance = appliances;
			break;
		}
		case 'g': cfg.gateway_id = (uint16_t)opt_num("gateway-id", optarg, 1, 65535); break;
		case 'k':
			if (hc_auth_key_parse(optarg, key) != 0)
				usage("--key: 32 hex digits");
			have_key = 1;
			break;
		case 's': cfg.key_slot = (uint8_t)opt_num("key-slot", optarg, 0, 1); break;
		case 'n': cfg.insecure_no_auth = 1; break;
		case 'i': cfg.incarnation = (uint32_t)opt_num("incarnation", optarg, 1, UINT32_MAX); break;
		case 'f': cfg.flush_us = (uint32_t)opt_num("flush-us", optarg, 1, UINT32_MAX); break;
		case 'h': cfg.heartbeat_ms = (uint32_t)opt_num("heartbeat-ms", optarg, 1, 60000); break;
		case 'm': cfg.max_room = (uint32_t)opt_num("max-rooms", optarg, 2, UINT32_MAX) - 1; break;
		case 'H': help(stdout); return 0;
		case 'V': hc_cli_version("hc-agent"); return 0;
		default: {
			char why[160];
			snprintf(why, sizeof(why), "unknown or incomplete option %s",
				 argv[optind - 1]);
			usage(why);
		}
		}
	}
	if (optind != argc) {
		char why[160];
		snprintf(why, sizeof(why), "unexpected argument '%s'", argv[optind]);
		usage(why);
	}
	if (cfg.appliance == NULL || cfg.gateway_id == 0)
		usage("--appliance and --gateway-id are required");
	if (have_key == cfg.insecure_no_auth)
		usage("exactly one of --key and --no-auth");
	if (have_key) {
		cfg.key = key;
		cfg.key_len = sizeof(key);
	}
	cfg.on_assign = on_assign;
	cfg.on_move = on_move; /* the driver moves the user (join) */
	cfg.on_state = on_state;

	setvbuf(stdout, NULL, _IOLBF, 0);
	char err[256];
	gw = hc_gw_open(&cfg, err, sizeof(err));
	if (gw == NULL) {
		out("fatal %s", err);
		return 1;
	}
	struct sockaddr_in local;
	socklen_t sl = sizeof(local);
	if (getsockname(hc_gw_fd(gw), (struct sockaddr *)&local, &sl) != 0) {
		out("fatal getsockname: %s", strerror(errno));
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = hc_gw_fd(gw)};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, hc_gw_fd(gw), &ev) != 0) {
		out("fatal epoll: %s", strerror(errno));
		return 1;
	}
	/* stdin: a pipe or terminal is watched; a regular file (epoll says
	 * EPERM) never blocks, so it is read on every turn */
	int stdin_always = 0;
	ev.data.fd = 0;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) != 0) {
		if (errno != EPERM) {
			out("fatal epoll stdin: %s", strerror(errno));
			return 1;
		}
		stdin_always = 1;
	}
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	out("ready %u", ntohs(local.sin_port));

	static char buf[64 * 1024];
	size_t have = 0;
	uint64_t poll_errors = 0;
	for (;;) {
		struct epoll_event evs[2];
		int timeout = stdin_always ? 0 : hc_gw_timeout_ms(gw);
		int n = epoll_wait(ep, evs, 2, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "hc-agent: epoll_wait: %s\n", strerror(errno));
			close_session(0);
		}
		int input = stdin_always;
		for (int i = 0; i < n; i++)
			input |= evs[i].data.fd == 0;
		if (input) {
			ssize_t r = read(0, buf + have, sizeof(buf) - 1 - have);
			if (r == 0) {
				/* EOF: a last unterminated line, then close clean */
				if (have > 0) {
					buf[have] = '\0';
					command(buf);
				}
				close_session(1);
			}
			if (r > 0) {
				have += (size_t)r;
				char *start = buf, *nl;
				while ((nl = memchr(start, '\n', have - (size_t)(start - buf))) != NULL) {
					*nl = '\0';
					if (nl > start && nl[-1] == '\r')
						nl[-1] = '\0';
					command(start);
					start = nl + 1;
				}
				have -= (size_t)(start - buf);
				memmove(buf, start, have);
				if (have == sizeof(buf) - 1) {
					out("error - line too long");
					have = 0;
				}
			} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "hc-agent: stdin: %s\n", strerror(errno));
				close_session(1);
			}
		}
		if (hc_gw_poll(gw, 0) < 0 && poll_errors++ == 0)
			fprintf(stderr, "hc-agent: hc_gw_poll: socket error (said once)\n");
	}
}
