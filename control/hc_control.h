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
/* Set by SIGHUP or /headcount/keys_reload: read the keys file again. */
extern volatile sig_atomic_t hc_keys_reload_signal;

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
