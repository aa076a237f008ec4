/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_sendmmsg_fault.c - sendmmsg(2) for the unit test executable: the
 * kernel's, unless a test armed a step for the socket (gw_sendmmsg_fault.h).
 * The kernel is called by number (syscall(2)), not through libc, so this
 * definition can stand in for libc's for the whole executable and
 * libheadcount.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gw_sendmmsg_fault.h"

static int fault_fd = -1;
static int fault_steps[GW_FAULT_MAX_STEPS];
static unsigned fault_n, fault_next, fault_calls;

void gw_sendmmsg_fault_arm(int fd, const int *steps, unsigned n)
{
	if (n > GW_FAULT_MAX_STEPS)
		n = GW_FAULT_MAX_STEPS;
	for (unsigned k = 0; k < n; k++)
		fault_steps[k] = steps[k];
	fault_fd = fd;
	fault_n = n;
	fault_next = 0;
	fault_calls = 0;
}

unsigned gw_sendmmsg_fault_left(void)
{
	return fault_n - fault_next;
}

unsigned gw_sendmmsg_fault_calls(void)
{
	return fault_calls;
}

int sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags)
{
	if (fd == fault_fd) {
		fault_calls++;
		if (fault_next < fault_n) {
			int step = fault_steps[fault_next++];
			if (step < 0) {
				errno = -step;
				return -1;
			}
			if ((unsigned)step < vlen)
				vlen = (unsigned)step;
		}
	}
	return (int)syscall(SYS_sendmmsg, fd, msgvec, vlen, flags);
}
