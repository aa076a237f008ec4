/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_notify.h - telling systemd (Type=notify) how the appliance is doing
 * and that it is alive (hc_notify.c).  Without $NOTIFY_SOCKET every call
 * does nothing.
 */
#ifndef HC_NOTIFY_H
#define HC_NOTIFY_H

#include <stdint.h>

/* Open the socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace) and forget the variable, so that no child inherits
 * it.  0, or -1 after logging why (the appliance runs on regardless). */
int hc_notify_open(void);

/* Send one message, e.g. "READY=1\nSTATUS=listening ...".  0 or -1. */
int hc_notify_send(const char *msg);

/* "STOPPING=1", once: async-signal-safe (a send on the socket opened
 * before, nothing else), so the signal handler tells systemd at once. */
void hc_notify_stopping(void);

struct hc_dataplane;

/*
 * systemd's watchdog (WatchdogSec= in the unit: $WATCHDOG_USEC, read and
 * forgotten by hc_notify_open, which then hooks this function into the
 * control loop: hc_control_pass_hook).  Called on every pass of the
 * control loop with its TSC; every half of WATCHDOG_USEC it sends
 * "WATCHDOG=1" if every worker made progress (its loop count rose) since
 * the last check, else it withholds the ping and says why
 * ("STATUS=watchdog: worker N ... made no progress ...", and the log), so
 * systemd restarts an appliance whose control core or a worker is stuck.
 * The status line before comes back when every worker runs again.
 */
void hc_notify_watchdog(const struct hc_dataplane *dp, uint64_t now_tsc);

#endif /* HC_NOTIFY_H */
