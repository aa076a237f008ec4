/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_links.c - the data ports' links (hc_links.h), watched by a control
 * thread of their own, hc-links, four times a second: a NIC's link as its
 * PMD reads it (rte_eth_link_get_nowait), an af_packet port's interface
 * up and running (hc_port_if_link: its PMD says up from its start on,
 * whatever the wire does).  A thread, not the control core: a netlink
 * request waits on the kernel's rtnl lock while another process holds
 * it, and some PMDs read a link through the kernel or the firmware; the
 * control core and telemetry read what the thread published (relaxed
 * atomics), never wait for a read.
 *
 * A port is "lost" when it was seen up since the start and is down now:
 * the state file keeps its gateways then (hc_restart_links).  A port
 * down from the start (an unplugged spare, a NIC still negotiating) is
 * down for keepalived's check (links_down), not lost.  The thread logs a
 * port lost and found again, and once a port down since the start that
 * is still down 10 s after it.
 */
#include "hc_links.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "hc_log.h"
#include "hc_port.h"

#define ROUND_MS 250
#define NEVER_UP_LOG_MS 10000

static struct {
	pthread_t tid;
	int running;
	int stop;          /* relaxed: the thread polls it */
	uint32_t ports;    /* published: relaxed atomics */
	uint32_t down;
	uint64_t lost;
} links;

/* Port's link: 1 up, 0 down (one that cannot be read is up). */
static int port_up(uint16_t port)
{
	int up = 1;
	if (hc_port_if_link(port, &up) == 0)
		return up;
	struct rte_eth_link link;
	if (rte_eth_link_get_nowait(port, &link) == 0)
		return link.link_status != RTE_ETH_LINK_DOWN;
	return 1;
}

static void *links_main(void *arg)
{
	(void)arg;
	uint64_t seen_up = 0, lost_was = 0;
	const uint64_t never_up_log_at = rte_get_timer_cycles() +
		rte_get_timer_hz() / 1000 * NEVER_UP_LOG_MS;
	int never_up_logged = 0;
	while (!__atomic_load_n(&links.stop, __ATOMIC_RELAXED)) {
		uint16_t port;
		uint32_t n = 0, down = 0;
		uint64_t lost = 0, down_mask = 0;
		RTE_ETH_FOREACH_DEV(port) {
			n++;
			uint64_t bit = port < 64 ? 1ull << port : 0;
			if (port_up(port)) {
				seen_up |= bit;
			} else {
				down++;
				down_mask |= bit;
				lost |= seen_up & bit;
			}
		}
		if (lost != lost_was) {
			if (lost & ~lost_was)
				HC_LOG(WARNING, "data port link lost (ports 0x%llx): %u of %u "
				       "without a link", (unsigned long long)(lost & ~lost_was),
				       down, n);
			if (lost_was & ~lost)
				HC_LOG(INFO, "data port link back (ports 0x%llx): %u of %u "
				       "without a link", (unsigned long long)(lost_was & ~lost),
				       down, n);
			lost_was = lost;
		}
		if (!never_up_logged && (down_mask & ~seen_up) != 0 &&
		    rte_get_timer_cycles() >= never_up_log_at) {
			HC_LOG(WARNING, "data ports 0x%llx have had no link since the start",
			       (unsigned long long)(down_mask & ~seen_up));
			never_up_logged = 1;
		}
		__atomic_store_n(&links.ports, n, __ATOMIC_RELAXED);
		__atomic_store_n(&links.down, down, __ATOMIC_RELAXED);
		__atomic_store_n(&links.lost, lost, __ATOMIC_RELAXED);
		for (int i = 0; i < ROUND_MS / 50 && !__atomic_load_n(&links.stop, __ATOMIC_RELAXED);
		     i++) {
			struct timespec ts = {0, 50 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int hc_links_start(void)
{
	if (links.running)
		return 0;
	links.stop = 0;
	/* a control thread: on the CPUs no lcore polls */
	int rc = rte_ctrl_thread_create(&links.tid, "hc-links", NULL, links_main, NULL);
	if (rc != 0)
		return rc < 0 ? rc : -rc;
	links.running = 1;
	return 0;
}

void hc_links_stop(void)
{
	if (!links.running)
		return;
	__atomic_store_n(&links.stop, 1, __ATOMIC_RELAXED);
	pthread_join(links.tid, NULL);
	links.running = 0;
}

void hc_links_read(uint32_t *ports, uint32_t *down)
{
	*ports = __atomic_load_n(&links.ports, __ATOMIC_RELAXED);
	*down = __atomic_load_n(&links.down, __ATOMIC_RELAXED);
}

uint64_t hc_links_lost(void)
{
	return __atomic_load_n(&links.lost, __ATOMIC_RELAXED);
}
