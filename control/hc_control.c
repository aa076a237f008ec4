/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_control.c - the control lcore's loop (see hc_control.h).
 *
 * Slow path, clarity first.  The control thread is a registered QSBR
 * thread that stays offline except while it publishes a view, so its
 * sleeps never hold up a grace period.
 */
#include "hc_control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <urcu-qsbr.h>

#include "hc_dump.h"
#include "hc_log.h"
#include "hc_port.h"
#include "hc_stats.h"
#include "hc_view.h"

volatile sig_atomic_t hc_quit_signal;
volatile sig_atomic_t hc_keys_reload_signal;
volatile sig_atomic_t hc_config_reload_signal;

static hc_reload_fn reload_fn;
static void *reload_ctx;
void (*hc_control_pass_hook)(const struct hc_dataplane *dp, uint64_t now);
void (*hc_control_stop_hook)(void);

void hc_control_set_reload(hc_reload_fn fn, void *ctx)
{
	reload_fn = fn;
	reload_ctx = ctx;
}

#define IDLE_US 50 /* sleep when a poll found nothing to do */
/* A drain takes microseconds; the bound is for a worker stuck or stopped
 * (a debugger; netns-faults-worker-stall's ptrace-frozen thread on a
 * busy host), well within systemd's TimeoutStopSec (90 s) */
#define DRAIN_TIMEOUT_S 30

static uint64_t generation;

/* Rooms summed into the next view a control-loop pass.  A whole merge in
 * one pass held the control core from seat requests, revokes and
 * directives for its length, every merge interval: 56-68 ms at
 * --max-rooms 16777216, 7-9 ms at 4194304, 0.5 ms at the default 262144
 * (2026-12-07, AMD host, one worker: docs/benchmarks.md, "The room view's
 * merge"). 65,536 rooms take about 0.1-0.2 ms a worker. */
#define VIEW_SLICE 65536u

/* The view being merged (NULL: none under way) and its next room. */
static struct hc_room_view *merging;
static uint32_t merging_at;

/* One slice of the merge, begun if none is under way; the view published
 * once every room is summed.  Returns 1 while a merge is under way. */
static int merge_step(struct hc_dataplane *dp, struct hc_decide *d)
{
	uint32_t max_rooms = dp->cfg->max_rooms;
	if (merging == NULL) {
		merging = hc_view_alloc(max_rooms, ++generation);
		if (merging == NULL) {
			HC_LOG(WARNING, "room view merge: out of memory, keeping the old view");
			return 0;
		}
		merging_at = 1;
	}
	const uint32_t *counters[HC_MAX_WORKERS];
	unsigned n = hc_view_counters(dp, counters);
	uint32_t to = max_rooms - merging_at > VIEW_SLICE ? merging_at + VIEW_SLICE : max_rooms;
	uint64_t t0 = rte_rdtsc();
	hc_view_sum_range(merging, counters, n, merging_at, to);
	uint64_t took = rte_rdtsc() - t0;
	d->st.view_merge_cycles += took;
	if (took > d->st.view_slice_max_cycles)
		d->st.view_slice_max_cycles = took;
	merging_at = to;
	if (to < max_rooms)
		return 1;
	rcu_thread_online();
	hc_view_publish(merging);
	rcu_thread_offline();
	merging = NULL;
	d->st.view_merges++;
	return 0;
}

/* Read the keys file again and install it; a bad file keeps the keys in
 * use.  The control lcore is the only thread that installs keys, and it
 * reads the keyring (sealing answers) only between installs, so it needs
 * no read-side protection of its own; it goes online for call_rcu. */
/* Install a loaded keyring (the workers see it after a grace period):
 * 0 and a log line naming its size, or -1 with the ring freed. */
static int install_keys(struct hc_dataplane *dp, struct hc_decide *d,
			struct hc_auth_keyring *ring, const char *from)
{
	uint32_t gws = ring->n_gateways, keys = ring->n_keys;
	rcu_thread_online();
	int rc = hc_dp_keys_install(dp, ring);
	rcu_thread_offline();
	if (rc != 0) {
		free(ring);
		return -1;
	}
	d->st.keys_reloads++;
	HC_LOG(INFO, "keys reloaded%s%s: %u gateways, %u keys", from ? " from " : "",
	       from ? from : "", gws, keys);
	return 0;
}

/* The key files' paths now: --keys and --state-key as started, or the
 * ones a config reload named since (malloc'd then).  The control lcore's
 * alone: it is the only thread that reads the key files again. */
static struct {
	const char *keys, *state_key;
	char *keys_owned, *state_key_owned;
} key_paths;

static const char *keys_path(const struct hc_dataplane *dp)
{
	return key_paths.keys != NULL ? key_paths.keys : dp->cfg->keys_file;
}

static const char *state_key_path(const struct hc_dataplane *dp)
{
	return key_paths.state_key != NULL ? key_paths.state_key : dp->cfg->state_key_file;
}

/* A config reload named another key file and its keys are in use: the
 * path from now on (for the next reloads, the telemetry command). */
static void follow_path(const char **path, char **owned, char *now)
{
	free(*owned);
	*owned = now;
	*path = now;
}

/* A --state-key file read, not yet in use: its keys in sk (0), or -1
 * with the reason in err. */
struct state_key_read {
	uint8_t keys[HC_AUTH_FILE_KEYS_MAX][HC_AUTH_FILE_KEY_LEN];
	unsigned n;
};

static int read_state_key(const char *path, struct state_key_read *sk, char *err, size_t errlen)
{
	sk->n = 0;
	return hc_auth_file_key_load(path, sk->keys, &sk->n, err, errlen);
}

/* sk put in use (and wiped). */
static void use_state_key(struct hc_decide *d, const char *path, struct state_key_read *sk)
{
	_Static_assert(sizeof(sk->keys) == sizeof(d->state_key), "state key size");
	hc_decide_state_keys(d, sk->keys, sk->n);
	explicit_bzero(sk->keys, sizeof(sk->keys));
	d->st.state_key_reloads++;
	HC_LOG(INFO, "state key reloaded from %s: %u key%s (the first signs)", path, sk->n,
	       sk->n == 1 ? "" : "s, while it is rotated");
}

/* The state key read again from path (with the gateways' keys: the keys
 * reload, the telemetry command): two keys while it is rotated, the first
 * signing.  A file that fails keeps the keys in use (logged, counted):
 * returns -1 then, else 0.  (A config reload reads it first and refuses
 * the whole file if it fails: reload_config.) */
static int reload_state_key(struct hc_decide *d, const char *path)
{
	if (path == NULL)
		return 0;
	struct state_key_read sk;
	char err[512];
	if (read_state_key(path, &sk, err, sizeof(err)) != 0) {
		explicit_bzero(&sk, sizeof(sk));
		HC_LOG(ERR, "state key reload refused, keeping the key in use: %s", err);
		d->st.state_key_reload_failures++;
		return -1;
	}
	use_state_key(d, path, &sk);
	return 0;
}

/* A keys file read again that holds no key while the keys in use hold
 * some: a file truncated, or caught half written, that would drop every
 * gateway within its timeout.  Refused (err says why): 1; else 0.  To
 * take every key away, stop the appliance (or keep one key). */
static int keys_emptied(const struct hc_dataplane *dp, const struct hc_auth_keyring *ring,
			const char *path, char *err, size_t errlen)
{
	const struct hc_auth_keyring *now = dp->keys; /* (this lcore's to write) */
	if (ring->n_keys != 0 || now == NULL || now->n_keys == 0)
		return 0;
	snprintf(err, errlen, "%s holds no key, and the %u in use would all go (every gateway "
		 "dropped at its timeout): truncated, or caught half written? (write a new file "
		 "and rename it into place)", path, now->n_keys);
	return 1;
}

static void reload_keys(struct hc_dataplane *dp, struct hc_decide *d)
{
	reload_state_key(d, state_key_path(dp));
	const char *path = keys_path(dp);
	char err[256];
	if (path == NULL) {
		HC_LOG(WARNING, "keys reload asked for, but running with --no-auth");
		d->st.keys_reload_failures++;
		return;
	}
	struct hc_auth_keyring *ring = hc_auth_keys_load(path, err, sizeof(err));
	if (ring == NULL || keys_emptied(dp, ring, path, err, sizeof(err))) {
		HC_LOG(ERR, "keys reload refused, keeping the keys in use: %s", err);
		d->st.keys_reload_failures++;
		free(ring);
		return;
	}
	if (install_keys(dp, d, ring, path) != 0) {
		HC_LOG(ERR, "keys reload: out of memory, keeping the keys in use");
		d->st.keys_reload_failures++;
	}
}

/* The two policy buffers a reload alternates between, and whether each
 * may be written: a buffer the running policy just left may still be
 * read by telemetry (it took the pointer before the reload) until a grace
 * period has passed (call_rcu: the control core never waits for one,
 * the workers may be waiting for it). */
static struct {
	struct hc_policy pol;
	struct rcu_head rcu;
	int free; /* 0: retired, grace period not over yet */
} pol_buf[2] = {{.free = 1}, {.free = 1}};

static void pol_buf_free(struct rcu_head *h)
{
	__atomic_store_n(&caa_container_of(h, __typeof__(pol_buf[0]), rcu)->free, 1,
			 __ATOMIC_RELEASE);
}

/* Read the config file again and apply its policy and keys, both or
 * neither.  The new policy goes to the buffer the running one is not in,
 * once no telemetry reader can still hold it (else the reload is refused:
 * "try again"; a grace period takes microseconds). */
static void reload_config(struct hc_dataplane *dp, struct hc_decide *d)
{
	static struct hc_rooms_repool x;
	unsigned b = d->pol == &pol_buf[0].pol ? 1 : 0;
	struct hc_policy *np = &pol_buf[b].pol;
	struct hc_reload_keys keys = {.keys_file = keys_path(dp),
				      .state_key_file = state_key_path(dp)};
	char err[512];

	if (!__atomic_load_n(&pol_buf[b].free, __ATOMIC_ACQUIRE)) {
		HC_LOG(ERR, "config reload refused, the running config stays: the reload "
		       "before is too recent (telemetry may still read its policy): try again");
		d->st.config_reload_errors++;
		return;
	}
	if (reload_fn == NULL) {
		HC_LOG(ERR, "config reload refused, the running config stays: no config file");
		d->st.config_reload_errors++;
		return;
	}
	if (reload_fn(reload_ctx, np, &keys, err, sizeof(err)) != 0)
		goto refused;
	/* the state key read before anything is applied: a file that
	 * --check-config refuses is refused whole here too */
	static struct state_key_read sk;
	const char *sk_path = keys.new_state_key_file != NULL ? keys.new_state_key_file
							     : state_key_path(dp);
	if (sk_path != NULL && read_state_key(sk_path, &sk, err, sizeof(err)) != 0) {
		explicit_bzero(&sk, sizeof(sk));
		free(keys.ring);
		goto refused;
	}
	if (keys.ring != NULL &&
	    keys_emptied(dp, keys.ring, keys.new_keys_file != NULL ? keys.new_keys_file :
			 keys_path(dp), err, sizeof(err))) {
		explicit_bzero(&sk, sizeof(sk));
		free(keys.ring);
		goto refused;
	}
	if (hc_decide_reload_prepare(d, np, &x, err, sizeof(err)) != 0) {
		explicit_bzero(&sk, sizeof(sk));
		free(keys.ring);
		goto refused;
	}
	if (keys.ring != NULL && install_keys(dp, d, keys.ring, keys.new_keys_file) != 0) {
		explicit_bzero(&sk, sizeof(sk));
		hc_rooms_repool_abort(&x);
		snprintf(err, sizeof(err), "no memory for the keys");
		goto refused;
	}
	if (keys.new_keys_file != NULL)
		follow_path(&key_paths.keys, &key_paths.keys_owned, keys.new_keys_file);
	/* (a new path is followed once its keys are in use) */
	if (sk_path != NULL)
		use_state_key(d, sk_path, &sk);
	if (keys.new_state_key_file != NULL)
		follow_path(&key_paths.state_key, &key_paths.state_key_owned,
			    keys.new_state_key_file);
	const struct hc_policy *old = d->pol;
	hc_decide_reload_commit(d, np, &x, rte_rdtsc());
	/* the running policy from now on (pol_buf_free, on liburcu's
	 * thread, writes the same flag) */
	__atomic_store_n(&pol_buf[b].free, 0, __ATOMIC_RELAXED);
	if (old == &pol_buf[1 - b].pol) { /* (not the start's policy) */
		rcu_thread_online();
		call_rcu(&pol_buf[1 - b].rcu, pol_buf_free);
		rcu_thread_offline();
	}
	__atomic_store_n(&d->st.config_reloads, d->st.config_reloads + 1, __ATOMIC_RELEASE);
	HC_LOG(INFO, "config reloaded: %u pools, balance every %u ms", np->n_pools,
	       np->balance_interval_ms);
	return;
refused:
	free(keys.new_keys_file);
	free(keys.new_state_key_file);
	HC_LOG(ERR, "config reload refused, the running config stays: %s", err);
	d->st.config_reload_errors++;
}

static uint32_t current_rooms(void)
{
	uint32_t rooms = 0;
	rcu_thread_online();
	rcu_read_lock();
	struct hc_room_view *v = hc_view_get();
	if (v != NULL)
		rooms = v->rooms;
	rcu_read_unlock();
	rcu_thread_offline();
	return rooms;
}

/* Everything in flight is done: all flushed, all op rings empty, no seat
 * request unanswered, and what the control core built for the gateways
 * taken off the workers' TX rings (an answer made in the drain was left
 * there at the stop, unsent). */
static int drained(const struct hc_dataplane *dp, const struct hc_decide *d)
{
	if (d != NULL && !hc_decide_idle(d))
		return 0;
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (!hc_chan_tx_empty(dp, i))
			return 0;
	return hc_dp_drained(dp);
}

int hc_control_stop_workers(struct hc_dataplane *dp, struct hc_decide *d)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t deadline = rte_rdtsc() + DRAIN_TIMEOUT_S * hz;
	int rc = 0;

	if (hc_control_stop_hook != NULL)
		hc_control_stop_hook(); /* (a signal's stop said so already) */
	hc_dp_set_state(dp, HC_DRAIN);
	HC_LOG(INFO, "draining: the workers read no more input, finish what they hold");
	if (d != NULL)
		hc_decide_draining(d, rte_rdtsc()); /* (a restart hold ends) */
	while (!drained(dp, d)) {
		if (rte_rdtsc() > deadline) {
			HC_LOG(ERR, "workers did not drain within %d s: stopping anyway",
			       DRAIN_TIMEOUT_S);
			rc = -1;
			break;
		}
		if (d == NULL || hc_decide_poll(d, rte_rdtsc()) == 0)
			rte_delay_us_sleep(IDLE_US);
	}
	if (d != NULL)
		hc_decide_stopped(d); /* (the state file, as the tables are now) */
	hc_dp_set_state(dp, HC_STOP);
	return rc;
}

int hc_control_run(struct hc_dataplane *dp, struct hc_decide *d)
{
	const struct hc_config *cfg = dp->cfg;
	uint64_t hz = rte_get_tsc_hz();
	uint64_t start = rte_rdtsc();
	uint64_t merge_every = hz / 1000 * cfg->merge_interval_ms;
	uint64_t stats_every = (uint64_t)(cfg->stats_interval_s * (double)hz);
	uint64_t idle_after = (uint64_t)(cfg->idle_exit_s * (double)hz);
	uint64_t end = cfg->duration_s > 0 ? start + (uint64_t)(cfg->duration_s * (double)hz) : 0;
	uint64_t next_merge = start, next_stats = start + stats_every;
	uint64_t last_rx = 0, last_rx_change = start;
	struct hc_dp_totals prev, now;

	rcu_register_thread();
	rcu_thread_offline();
	hc_dp_collect(dp, &prev);

	while (!hc_quit_signal) {
		uint64_t t = rte_rdtsc();
		if (hc_control_pass_hook != NULL)
			hc_control_pass_hook(dp, t); /* systemd's watchdog */
		if (hc_keys_reload_signal) {
			hc_keys_reload_signal = 0;
			reload_keys(dp, d);
		}
		if (hc_config_reload_signal) {
			hc_config_reload_signal = 0;
			reload_config(dp, d);
			/* its deadlines were clamped to a later clock: this
			 * pass's directives must not expire before them */
			t = rte_rdtsc();
		}
		if (merging != NULL || t >= next_merge) {
			if (merging == NULL) /* (a merge longer than the interval: the next at its end) */
				next_merge = t + merge_every;
			merge_step(dp, d);
		}
		if (stats_every > 0 && t >= next_stats) {
			hc_dp_collect(dp, &now);
			hc_stats_print_line(stdout, &now, &prev, current_rooms());
			prev = now;
			next_stats = t + stats_every;
		}
		if (idle_after > 0) {
			/* idle: no frame for idle_after, and every worker has
			 * read its ports dry (however slowly a busy machine
			 * let it run: a capture is read to its end) */
			uint64_t rx = hc_dp_rx_frames(dp);
			if (rx != last_rx) {
				last_rx = rx;
				last_rx_change = t;
			} else if (rx > 0 && t - last_rx_change >= idle_after &&
				   hc_dp_ports_read_dry(dp)) {
				HC_LOG(INFO, "no traffic for %.1f s: stopping", cfg->idle_exit_s);
				break;
			}
		}
		if (end != 0 && t >= end) {
			HC_LOG(INFO, "duration of %.1f s reached: stopping", cfg->duration_s);
			break;
		}
		if (hc_decide_poll(d, t) == 0)
			rte_delay_us_sleep(IDLE_US);
	}
	if (hc_quit_signal)
		HC_LOG(INFO, "signal received: stopping");
	int rc = hc_control_stop_workers(dp, d);
	rcu_thread_online();
	return rc;
}

/* The control core's counters and the final checks, for --dump-stats:
 * "ctl_<name>=N", seat_book_mismatches (0: the seat book equals the room
 * table), tables_consistent (1: the rooms hold as many users as the
 * membership tables). */
static int write_control_kv(FILE *f, const struct hc_decide *d, uint32_t mismatches,
			    int consistent)
{
#define CTL_KV(name, field) fprintf(f, "ctl_" #name "=%" PRIu64 "\n", (uint64_t)d->field);
	HC_DECIDE_COUNTERS(CTL_KV)
#undef CTL_KV
	fprintf(f, "seat_book_mismatches=%u\ntables_consistent=%d\n", mismatches, consistent);
	return ferror(f) ? -1 : 0;
}

int hc_control_finish(struct hc_dataplane *dp, struct hc_decide *d)
{
	const struct hc_config *cfg = dp->cfg;
	struct hc_dp_totals t;
	int rc = 0;

	while (hc_decide_poll(d, rte_rdtsc()) > 0)
		; /* what the workers reported last */
	/* the frames that came after the workers' last poll: unread, not
	 * dropped by a ring (port_ring_drops) */
	uint64_t unread = hc_ports_drain_at_exit(dp);
	if (unread != 0)
		HC_LOG(INFO, "%" PRIu64 " frames unread at exit (port_unread_at_exit)", unread);

	/* workers have returned: this merge is exact */
	struct hc_room_view *v = hc_view_merge(dp, ++generation);
	if (v == NULL) {
		HC_LOG(ERR, "final merge: out of memory");
		return -1;
	}
	hc_dp_collect(dp, &t);
	if (v->users != t.users) {
		HC_LOG(ERR, "inconsistent: rooms hold %" PRIu64 " users, tables %" PRIu64,
		       v->users, t.users);
		rc = -1;
	}
	uint32_t bad = hc_decide_mismatches(d, v);
	if (bad != 0) {
		HC_LOG(ERR, "inconsistent: the seat book differs from the rooms in %u rooms", bad);
		rc = -1;
	}
	printf("headcount: balancer: %" PRIu64 " moves planned, %" PRIu64 " users picked, %"
	       PRIu64 " directives sent, %" PRIu64 " resent, %" PRIu64 " done, %" PRIu64
	       " given up\n", d->st.planned, d->st.picked, d->dirs.st.sent, d->dirs.st.resent,
	       d->dirs.st.done, d->dirs.st.given_up);
	printf("headcount: seat book: %" PRIu64 " changes, %" PRIu64 " placements, %" PRIu64
	       " refusals, %" PRIu64 " JOINs above max (without admission), %" PRIu64
	       " rooms retired, %s\n",
	       d->st.changes, d->book.st.placements, d->book.st.refusals, d->book.st.over_max,
	       d->book.st.retired, bad == 0 ? "equal to the room table" : "INCONSISTENT");
	double secs = (double)(t.tsc - dp->start_tsc) / (double)rte_get_tsc_hz();
	printf("headcount: final after %.1f s: frames=%" PRIu64 " datagrams=%" PRIu64
	       " events=%" PRIu64 " users=%" PRIu64 " rooms=%u largest_room=%u"
	       " joins=%" PRIu64 " moves=%" PRIu64 " leaves=%" PRIu64 " noops=%" PRIu64
	       " duplicates=%" PRIu64 " lost=%" PRIu64 " drops=%" PRIu64 "\n",
	       secs, t.w.rx_frames, t.w.datagrams, t.w.events, t.users, v->rooms,
	       v->largest_room, t.m.joins, t.m.moves, t.m.leaves, t.m.noops,
	       t.s.duplicates, t.s.lost, hc_stats_drops(&t));
	for (int r = 0; r < HC_DROP_COUNT; r++)
		if (t.w.drops[r] != 0)
			printf("headcount: final drop %s=%" PRIu64 "\n", hc_drop_names[r],
			       t.w.drops[r]);
	if (cfg->dump_rooms != NULL && hc_dump_rooms_csv(cfg->dump_rooms, v) != 0)
		rc = -1;
	if (cfg->dump_stats != NULL) {
		FILE *f = fopen(cfg->dump_stats, "w");
		int bad_write = f == NULL || hc_stats_write_kv(f, &t, v->rooms) != 0 ||
				write_control_kv(f, d, bad, v->users == t.users) != 0;
		/* (the last buffer is written at fclose: a full disk shows there) */
		if (f != NULL && fclose(f) != 0)
			bad_write = 1;
		if (bad_write) {
			HC_LOG(ERR, "cannot write %s: %s", cfg->dump_stats, strerror(errno));
			rc = -1;
		}
	}
	hc_view_publish(v);
	hc_view_publish(NULL);
	free(merging); /* (a merge the stop cut short) */
	merging = NULL;
	rcu_barrier();
	hc_view_release_spare();
	rcu_unregister_thread();
	return rc;
}
