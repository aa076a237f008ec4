/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_main.c - the headcount appliance: arguments, ports, lcores.
 *
 * Only wiring lives here, above both layers: the config file and our
 * options (hc_conffile.c, before EAL), EAL init, the workers' state
 * (dataplane), the ports (hc_port.c), the control core and its telemetry
 * (and its reload hook), signal handling; then the workers' loop on
 * every worker lcore and the control loop on the main lcore.  Exits
 * non-zero on any setup failure, with a message saying which.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "hc_bigmem.h"
#include "hc_conffile.h"
#include "hc_control.h"
#include "hc_dataplane.h"
#include "hc_decide.h"
#include "hc_policy.h"
#include "hc_lock.h"
#include "hc_log.h"
#include "hc_notify.h"
#include "hc_options.h"
#include "hc_links.h"
#include "hc_port.h"
#include "hc_stats.h"
#include "hc_version.h"

static int have_config; /* SIGHUP: reload the config file, else the keys */

static void on_signal(int sig)
{
	if (sig == SIGHUP && have_config)
		hc_config_reload_signal = 1;
	else if (sig == SIGHUP)
		hc_keys_reload_signal = 1;
	else {
		hc_notify_stopping(); /* (before the control core sees the flag) */
		hc_quit_signal = 1;
	}
}

static void usage_hook(const char *prog)
{
	hc_config_usage(prog);
}

int main(int argc, char **argv)
{
	static struct hc_boot boot;
	static struct hc_config cfg;
	static struct hc_dataplane dp;
	unsigned lcores[HC_MAX_WORKERS];
	unsigned n = 0, lcore;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0); /* lines reach pipes and logs at once */
	rc = hc_boot(&boot, argc, argv); /* file and flags, all checked */
	if (rc >= 0)
		return rc;
	cfg = boot.cfg;
	have_config = cfg.policy_file != NULL;
	signal(SIGHUP, SIG_IGN); /* a reload asked for while starting: not a kill */
	rte_set_application_usage_hook(usage_hook);
	hc_notify_open();
	/* systemd's RuntimeDirectory= (the unit's, for the locks) exports
	 * RUNTIME_DIRECTORY, which DPDK's EAL takes for its runtime
	 * directory before /var/run: the telemetry socket would be in
	 * /run/headcount/dpdk/PREFIX, where headcountctl, the exporter and
	 * keepalived's scripts do not look.  EAL's own rule, as for any root
	 * process: /var/run/dpdk/PREFIX */
	unsetenv("RUNTIME_DIRECTORY");
	rc = hc_lock_prefix(boot.eal_argc, boot.eal_argv); /* before EAL touches its files */
	if (rc == 0)
		rc = hc_lock_state_file(cfg.state_file);
	if (rc != 0)
		return rc;
	int eal = rte_eal_init(boot.eal_argc, boot.eal_argv);
	if (eal < 0) {
		/* EINVAL: an option EAL does not know or a bad value (EAL named it) */
		int bad_args = rte_errno == EINVAL;
		fprintf(stderr, "headcount: EAL initialisation failed (see above%s)\n",
			bad_args ? "; options: headcount --help" : "");
		return bad_args ? 2 : 1;
	}
	if (eal != boot.eal_argc - 1) { /* EAL took all but argv[0], or some are stray */
		fprintf(stderr, "headcount: unexpected EAL argument '%s' (options after '--')\n",
			boot.eal_argv[eal + 1]);
		rte_eal_cleanup();
		return 2;
	}
	HC_LOG(INFO, "headcount %s starting", HC_VERSION);

	rc = hc_lock_ports(); /* before any port starts */
	if (rc != 0) {
		rte_eal_cleanup();
		return rc;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n == HC_MAX_WORKERS) {
			HC_LOG(ERR, "at most %d worker lcores", HC_MAX_WORKERS);
			return 2;
		}
		lcores[n++] = lcore;
	}
	if (n == 0) {
		HC_LOG(ERR, "need a worker lcore besides the main (control) lcore, e.g. -l 0,1");
		rte_eal_cleanup();
		return 2;
	}
	struct rte_malloc_socket_stats before, after;
	rte_malloc_get_socket_stats((int)rte_socket_id(), &before);
	size_t big_before = hc_bigmem_bytes();
	rc = hc_dataplane_init(&dp, &cfg, n, lcores, 1);
	if (rc != 0) {
		HC_LOG(ERR, "cannot build worker state for %u users / %u rooms: %s%s",
		       cfg.max_users, cfg.max_rooms, strerror(-rc),
		       rc != -ENOMEM ? "" : rte_eal_has_hugepages() ? " (raise EAL -m?)" :
		       " (raise EAL -m, or free memory: without hugepages the big tables are "
		       "outside -m)");
		rte_eal_cleanup();
		return 1;
	}
	rte_malloc_get_socket_stats((int)rte_socket_id(), &after);
	/* without hugepages the big tables are outside DPDK's heap
	 * (hc_bigmem.h): counted here, not part of -m */
	size_t big = hc_bigmem_bytes() - big_before;
	size_t state = after.heap_allocsz_bytes - before.heap_allocsz_bytes + big;
	/* a room id costs each worker its user count, list head and leased seats */
	size_t per_room = 2 * sizeof(uint32_t) + sizeof(uint16_t);
	HC_LOG(INFO, "state: %.1f MiB for %u users and %u rooms (%.1f bytes/user with "
	       "rooms at %zu bytes each per worker)", (double)state / (1 << 20),
	       cfg.max_users, cfg.max_rooms,
	       (double)(state - (size_t)n * cfg.max_rooms * per_room) / cfg.max_users, per_room);
	if (big != 0)
		HC_LOG(INFO, "state: %.1f MiB of it outside EAL's memory, advised for transparent "
		       "huge pages (EAL runs without hugepages)", (double)big / (1 << 20));
	if (!rte_eal_has_hugepages() && !hc_bigmem_thp_enabled())
		HC_LOG(WARNING, "no hugepages and transparent huge pages are off "
		       "(/sys/kernel/mm/transparent_hugepage/enabled: never): the big tables "
		       "and the packet pools are in 4 KiB pages, a TLB miss a random read "
		       "(docs/architecture.md, \"Where the big tables live\")");
	rc = hc_ports_init(&dp);
	if (rc != 0) {
		hc_dataplane_free(&dp);
		hc_ports_close(&dp);
		rte_eal_cleanup();
		return 1;
	}
	/* the data links, read off the lcores (/headcount/ha, the state
	 * file while a link is lost) */
	if ((rc = hc_links_start()) != 0)
		HC_LOG(WARNING, "no thread to watch the data links (%s): /headcount/ha says "
		       "0 ports, and keepalived's check cannot see a cut link", strerror(-rc));
	if (cfg.keys_file != NULL) {
		if (hc_auth_init() != 0) {
			HC_LOG(ERR, "libsodium cannot be initialised");
			return 1;
		}
		struct hc_auth_keyring *ring = boot.ring; /* loaded by hc_boot */
		HC_LOG(INFO, "authentication on: keys for %u gateways (%u keys) from %s",
		       ring->n_gateways, ring->n_keys, cfg.keys_file);
		if (hc_dp_keys_install(&dp, ring) != 0) {
			free(ring);
			return 1;
		}
	} else {
		HC_LOG(WARNING, "--no-auth: datagrams are not authenticated; anyone who can "
		       "reach udp %u can change the counts", cfg.udp_port);
	}
	static struct hc_decide decide;
	hc_control_set_reload(hc_conffile_reload, &boot);
	/* a new, larger value at every start (gateways compare in serial
	 * order): the wall clock in eighths of a second, so two starts 8.5
	 * years apart still compare right; a clock stepped back is handled
	 * by the gateways (an "older" incarnation after 3 s of silence from
	 * the current one is a restart).  Never 0. */
	struct timespec now_ts;
	clock_gettime(CLOCK_REALTIME, &now_ts);
	uint32_t incarnation = (uint32_t)((uint64_t)now_ts.tv_sec * 8 +
					  (uint64_t)now_ts.tv_nsec / 125000000u);
	if (incarnation == 0)
		incarnation = 1;
	rc = hc_decide_init(&decide, &dp, &boot.pol, cfg.max_reservations, incarnation);
	if (rc != 0) {
		HC_LOG(ERR, "cannot build the seat book for %u rooms: %s", cfg.max_rooms,
		       strerror(-rc));
		return 1;
	}
	if (cfg.ha_mode != NULL) { /* "backup": checked with the config */
		hc_decide_ha_init(&decide, HC_HA_BACKUP);
		if (cfg.peer_state_file == NULL || strcmp(cfg.peer_state_file, "none") == 0)
			HC_LOG(WARNING, "--ha without --peer-state-file: a takeover's restart hold "
			       "knows only this box's own state file, which is as old as the "
			       "last time it served (docs/scaling.md)");
		else if (!cfg.have_state_key)
			HC_LOG(WARNING, "--ha without --state-key: the peer's state file is "
			       "believed as it arrives (a forged or cut copy can shorten a "
			       "takeover's restart hold; docs/scaling.md)");
		if (cfg.ha_box == NULL)
			HC_LOG(WARNING, "--ha without --ha-box: two promotions in the same 1/8 s "
			       "(both boxes masters at once) can take the same epoch, which "
			       "gateways cannot tell apart; give one box --ha-box 0, the other "
			       "--ha-box 1 (docs/scaling.md)");
	}
	/* signals first: once telemetry answers, a script may stop us */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	hc_telemetry_set_decide(&decide);
	hc_telemetry_set_ha(&decide.ha);
	if (hc_telemetry_register(&dp) != 0)
		HC_LOG(WARNING, "telemetry commands not registered");
	char ip[16];
	unsigned char *b = (unsigned char *)&cfg.ip_be;
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	HC_LOG(INFO, "listening on %s udp %u: %u worker(s), %u users, %u rooms, %u gateways",
	       ip, cfg.udp_port, n, cfg.max_users, cfg.max_rooms, cfg.max_gateways);

	if (hc_dp_launch_workers(&dp) != 0) {
		HC_LOG(ERR, "cannot launch the worker lcores");
		hc_dp_set_state(&dp, HC_STOP); /* the ones started return */
		rte_eal_mp_wait_lcore();
		return 1;
	}
	char status[128];
	snprintf(status, sizeof(status), "READY=1\nSTATUS=listening on %s udp %u, %u worker(s)",
		 ip, cfg.udp_port, n);
	hc_notify_send(status); /* ports up, workers running, telemetry answering */
	int run_rc = hc_control_run(&dp, &decide);
	hc_notify_stopping(); /* (said already, by the stop hook) */
	rte_eal_mp_wait_lcore();
	int fin_rc = hc_control_finish(&dp, &decide);
	hc_telemetry_close(); /* no command reads what is freed below */
	hc_decide_free(&decide);

	hc_dataplane_free(&dp); /* (its rings' mbufs back to the pools first) */
	hc_links_stop();
	hc_ports_close(&dp);
	rte_eal_cleanup();
	hc_lock_release();
	return (run_rc != 0 || fin_rc != 0) ? 1 : 0;
}
