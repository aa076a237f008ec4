/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_sendmmsg_fault.h - what a loopback UDP socket on this machine never
 * does, on demand: sendmmsg(2) taking only part of a batch, refusing one
 * as a full socket's (EAGAIN), or failing with another error.  The unit
 * test executable defines sendmmsg itself (gw_sendmmsg_fault.c), so
 * libheadcount's calls come here; with no step armed, or on another
 * socket, each goes to the kernel unchanged.
 */
#ifndef GW_SENDMMSG_FAULT_H
#define GW_SENDMMSG_FAULT_H

#define GW_FAULT_MAX_STEPS 8

/* The next calls on socket fd, one step each, in order (n at most
 * GW_FAULT_MAX_STEPS); then the kernel's again.  A step is one call's
 * fate: >= 0, at most that many of the batch go (the kernel sends them
 * and says how many); < 0, none go and the call fails with errno -step.
 * Replaces any steps left; fd -1 disarms. */
void gw_sendmmsg_fault_arm(int fd, const int *steps, unsigned n);
/* Steps not taken yet (0: all were). */
unsigned gw_sendmmsg_fault_left(void);
/* sendmmsg calls on the armed socket since the last arm. */
unsigned gw_sendmmsg_fault_calls(void);

#endif /* GW_SENDMMSG_FAULT_H */
