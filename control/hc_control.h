/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_control.h - the control lcore's loop.
 *
 * The main lcore runs it while the workers poll: it merges the workers'
 * room counters into the RCU view every merge interval, prints the stats
 * line, watches --duration, --idle-exit and the stop signal, and drives
 * the orderly stop (RUN -> DRAIN -> STOP, see hc_dataplane.h).  The
 * decision loop (placement, admission, balancing: hc_decide.h) runs in it.
 */
#ifndef HC_CONTROL_H
#define HC_CONTROL_H

#include <signal.h>

#include "hc_dataplane.h"
#include "hc_decide.h"

/* Set by the signal handler; read by hc_control_run. */
extern volatile sig_atomic_t hc_quit_signal;
/* Set by SIGHUP (without --config) or /headcount/keys_reload: read the
 * keys file again. */
extern volatile sig_atomic_t hc_keys_reload_signal;
/* Set by SIGHUP with --config: reload the config file (the hook below). */
extern volatile sig_atomic_t hc_config_reload_signal;

/*
 * The key files of a config reload.  In: the paths the running keys came
 * from (NULL: none).  Out: the gateways' keys read (NULL: --no-auth), and
 * the path of each key file when the file now names another one than the
 * running (malloc'd, the caller's to free; NULL: the same path).  The
 * gateways' keys are read from the path the file names; the state key is
 * the caller's to read (its failure is its own, not the reload's).
 * Turning either key on or off needs a restart.
 */
struct hc_reload_keys {
	const char *keys_file;      /* in */
	const char *state_key_file; /* in */
	struct hc_auth_keyring *ring;
	char *new_keys_file;
	char *new_state_key_file;
};

/*
 * How the control core gets a reloaded config (app/hc_conffile.c): the
 * new policy into np, the key files as above; 0, or -1 with the reason in
 * err and nothing allocated.  It runs on the control lcore, between two
 * iterations of its loop; the control core then applies both, or neither
 * (hc_decide_reload_prepare / _commit).
 */
typedef int (*hc_reload_fn)(void *ctx, struct hc_policy *np, struct hc_reload_keys *keys,
			    char *err, size_t errlen);
void hc_control_set_reload(hc_reload_fn fn, void *ctx);

/* Called on every pass of the control loop with its TSC, NULL: nothing
 * (app/hc_notify.c sets it: systemd's watchdog). */
extern void (*hc_control_pass_hook)(const struct hc_dataplane *dp, uint64_t now);

/* Called once a stop begins, before the workers drain, NULL: nothing
 * (app/hc_notify.c sets it: STOPPING=1, so that systemd no longer holds
 * the drain, up to 30 s without a pass, to WatchdogSec). */
extern void (*hc_control_stop_hook)(void);

/*
 * Run until a signal, --duration or --idle-exit, then stop the workers
 * orderly.  Returns 0, or -1 if the drain timed out (workers were stopped
 * anyway; counts may then be short of in-flight work).
 */
int hc_control_run(struct hc_dataplane *dp, struct hc_decide *d);

/*
 * RUN -> DRAIN -> STOP: wait (at most 5 s) until the workers have finished
 * everything in flight, serving d (may be NULL) meanwhile.  Returns 0, or
 * -1 on timeout.
 */
int hc_control_stop_workers(struct hc_dataplane *dp, struct hc_decide *d);

/*
 * After the workers have returned: final exact merge, final stats,
 * --dump-rooms and --dump-stats.  Returns 0 or -1 if a file failed or the
 * table is inconsistent.
 */
int hc_control_finish(struct hc_dataplane *dp, struct hc_decide *d);

#endif /* HC_CONTROL_H */
