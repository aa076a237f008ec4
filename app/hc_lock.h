/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_lock.h - one appliance per port, per EAL file prefix and per state
 * file (hc_lock.c).
 *
 * Two appliances on one interface both answer its gateways, each with its
 * own incarnation, and the gateways see endless restarts; two with one
 * file prefix share DPDK's runtime files.  EAL refuses the second only
 * when shared config is on (not with --no-shconf), so the appliance takes
 * its own locks: flock(2) on a file per identity in the lock directory,
 * held for the process's life (released by the kernel however it ends).
 */
#ifndef HC_LOCK_H
#define HC_LOCK_H

#include <stddef.h>

/* The lock directory: $HEADCOUNT_LOCK_DIR, else this (systemd's
 * RuntimeDirectory=headcount makes it). */
#define HC_LOCK_DIR_DEFAULT "/run/headcount"

/* Lock the EAL file prefix EAL will use for the EAL arguments argv:
 * found as EAL finds it (hc_lock_eal_prefix).  Call before rte_eal_init.
 * Returns 0, or 2 after printing which process holds it, or 1 after
 * printing why no lock could be taken. */
int hc_lock_prefix(int argc, char **argv);

/* The file prefix EAL (DPDK 22.11) takes from argv, by getopt_long over
 * EAL's own option table: "--file-prefix=x", "--file-prefix x" or any
 * abbreviation getopt_long accepts ("--file-pre x"), the last one; not
 * the value of another option ("-a --file-prefix=x": the allow list's);
 * nothing after "--"; "rte" when none.  argv is left as given.  0 with
 * the prefix in out, 1 if argv asks for --help (-h), -1 if it does not
 * fit.  Exposed for the unit tests. */
int hc_lock_eal_prefix(int argc, char **argv, char *out, size_t len);

/* Lock the state file at path (--state-file; NULL or "none": nothing;
 * nor after hc_lock_prefix found EAL's --help): its directory (device
 * and inode, or its absolute path while it does not exist) and its name
 * are the identity.
 * Two appliances writing one file would each restore the other's
 * gateways after a restart, and hold for gateways that never restate to
 * them, or not for their own (the restart hold's list).  Returns 0, 2 or
 * 1 as hc_lock_prefix. */
int hc_lock_state_file(const char *path);

/* 0 if EAL's runtime directory (rte_eal_get_runtime_dir) is the locked
 * prefix's (".../dpdk/<prefix>"), or nothing was locked or made; else 1
 * after printing both: EAL took another prefix than the lock. */
int hc_lock_prefix_check(const char *runtime_dir);

/* Check the prefix lock against EAL's runtime directory, then lock every
 * ethdev port's identity (an interface in this network namespace, a
 * capture file, a bus address).  Call after rte_eal_init, before any port
 * starts.  Returns 0, 2 or 1 as above. */
int hc_lock_ports(void);

/* Unlock and remove our lock files (at a clean exit; the kernel releases
 * the locks anyway when the process ends). */
void hc_lock_release(void);

/*
 * The lock identities of a port, from its device's bus, its device name
 * and its devargs ("iface=eth1,qpairs=2"): "net<ns>-if-<iface>" for each
 * interface it opens (af_packet's iface; pcap's iface, rx_iface,
 * rx_iface_in, tx_iface), "file-<path>" for each capture file (pcap's
 * rx_pcap, tx_pcap; a relative path made absolute), "<bus>-<device name>"
 * for a device not on the vdev bus (a PCI address); none for a virtual
 * device with nothing outside the process (net_ring, net_null).  netns
 * names this network namespace (its inode): an interface name means
 * nothing outside it.  Fills up to max identities of HC_LOCK_ID_LEN
 * bytes; returns how many, or -1 if one does not fit.  Exposed for the
 * unit tests.
 */
#define HC_LOCK_ID_LEN 512
int hc_lock_port_identities(const char *bus, const char *dev_name, const char *devargs,
			    unsigned long netns, char (*out)[HC_LOCK_ID_LEN], int max);

#endif /* HC_LOCK_H */
