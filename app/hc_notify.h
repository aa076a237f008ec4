/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_notify.h - telling systemd (Type=notify) how the appliance is doing
 * (hc_notify.c).  Without $NOTIFY_SOCKET every call does nothing.
 */
#ifndef HC_NOTIFY_H
#define HC_NOTIFY_H

/* Open the socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace) and forget the variable, so that no child inherits
 * it.  0, or -1 after logging why (the appliance runs on regardless). */
int hc_notify_open(void);

/* Send one message, e.g. "READY=1\nSTATUS=listening ...".  0 or -1. */
int hc_notify_send(const char *msg);

/* "STOPPING=1", once: async-signal-safe (a send on the socket opened
 * before, nothing else), so the signal handler tells systemd at once. */
void hc_notify_stopping(void);

#endif /* HC_NOTIFY_H */
