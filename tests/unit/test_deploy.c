/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_deploy.c - the deploy kit's decisions, exactly: --ip on physical
 * ports (hc_port_ip_ok), the lock identities of ports and the lock itself
 * (a second taker refused with the holder's pid, the file gone after
 * release; the prefix found as EAL finds it, however spelt), the packet
 * pool's default size and the hand-off rings it counts (their sizes, one
 * filled to its last slot), the control pool, the ICMP reply bucket, and
 * ICMP echo through the receive path
 * to a net_ring port's TX ring: the reply byte for byte, bad checksums,
 * other types and unanswerable sources counted, a burst cut at the bucket.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_ring.h>

#include "hc_bigmem.h"
#include "hc_dataplane.h"
#include "hc_frame.h"
#include "hc_mbuf_meta.h"
#include "hc_icmp.h"
#include "hc_lock.h"
#include "hc_options.h"
#include "hc_port.h"
#include "hc_proto.h"
#include "hc_proto_check.h"
#include "hc_proto_hdr.h"
#include "hc_rx.h"
#include "hc_tx.h"
#include "hc_unit.h"
#include "hc_worker_state.h"

static void test_ip_decision(void)
{
	CU_ASSERT_EQUAL(hc_port_ip_ok("vdev", 0), 1);  /* af_packet, pcap, ring: the lab */
	CU_ASSERT_EQUAL(hc_port_ip_ok("vdev", 1), 1);
	CU_ASSERT_EQUAL(hc_port_ip_ok("pci", 0), 0);   /* a NIC: --ip required */
	CU_ASSERT_EQUAL(hc_port_ip_ok("pci", 1), 1);
	CU_ASSERT_EQUAL(hc_port_ip_ok("auxiliary", 0), 0);
	CU_ASSERT_EQUAL(hc_port_ip_ok("vmbus", 0), 0);
	CU_ASSERT_EQUAL(hc_port_ip_ok(NULL, 0), 0);    /* unknown: not the lab */
	CU_ASSERT_EQUAL(hc_port_ip_ok(NULL, 1), 1);
	/* the option sets ip_explicit; the default does not */
	struct hc_config c;
	char *lab[] = {"t", "--no-auth", NULL};
	char *given[] = {"t", "--no-auth", "--ip", "192.0.2.7", NULL};
	CU_ASSERT_EQUAL_FATAL(hc_config_parse(&c, 2, lab), 0);
	CU_ASSERT_EQUAL(c.ip_explicit, 0);
	CU_ASSERT_EQUAL(c.ip_be, htonl(0xC6120001)); /* 198.18.0.1 */
	CU_ASSERT_EQUAL_FATAL(hc_config_parse(&c, 4, given), 0);
	CU_ASSERT_EQUAL(c.ip_explicit, 1);
	CU_ASSERT_EQUAL(c.ip_be, htonl(0xC0000207));
}

/* The packet pool's size when --mbufs is not given: the option's default
 * while it covers what the appliance may hold (1 worker), else that (2
 * or more); an explicit --mbufs, from the command line or the config
 * file, is taken as given (hc_port.c), and a change of that is a
 * restart's even at the same figure. */
static void test_default_mbufs(void)
{
	/* 1 worker, 2 lcores: 8192 held, 352 in hand, 768 in caches, 8192
	 * for the descriptors: below the default */
	CU_ASSERT_EQUAL(hc_port_mbufs_held(1, 2, 256), 8192 + 352 + 2 * 384);
	CU_ASSERT_EQUAL(hc_port_default_mbufs(1, 2, 256, 1536, 32767), 32767);
	/* 2 workers: 16384 + 704 in hand + 8192 (two rings of 4096) + 1152
	 * = 26432, + 8192 = 34624 */
	CU_ASSERT_EQUAL(hc_port_mbufs_held(2, 3, 256), 16384 + 2 * 352 + 2 * 4096 + 3 * 384);
	CU_ASSERT_EQUAL(hc_port_default_mbufs(2, 3, 256, 0, 32767), 34815); /* 34 Ki - 1 */
	/* descriptors past the allowance count whole: 26432 + 12288 */
	CU_ASSERT_EQUAL(hc_port_default_mbufs(2, 3, 256, 12288, 32767), 38911);
	/* exactly a multiple of 1024 rounds up to the next, less one;
	 * exactly the default stays */
	CU_ASSERT_EQUAL(hc_port_default_mbufs(2, 3, 256, 40960 - 26432, 32767), 41983);
	CU_ASSERT_EQUAL(hc_port_default_mbufs(1, 2, 256, 32767 - 9312, 32767), 32767);
	CU_ASSERT_EQUAL(hc_port_default_mbufs(1, 2, 256, 32768 - 9312, 32767), 33791);
	/* 4 workers: 32768 + 1408 + 24576 (12 rings of 2048) + 1920 + 8192
	 * = 68864 (92,159 while every ring held 4096) */
	CU_ASSERT_EQUAL(hc_port_mbufs_held(4, 5, 256), 32768 + 4 * 352 + 12 * 2048 + 5 * 384);
	CU_ASSERT_EQUAL(hc_port_default_mbufs(4, 5, 256, 0, 32767), 69631); /* 68 Ki - 1 */
	/* 8 workers: 65536 + 2816 + 57344 (56 rings of 1024) + 3456 + 8192
	 * = 137344 (about 300 k before) */
	CU_ASSERT_EQUAL(hc_port_default_mbufs(8, 9, 256, 0, 32767), 138239);
	/* HC_MAX_WORKERS (16): 131072 + 5632 + 122880 (240 rings of 512) +
	 * 6528 + 8192 = 274304 (1.1 M before): the rings' share grows with
	 * the workers, 8192 each at most, not with their square */
	CU_ASSERT_EQUAL(hc_port_default_mbufs(16, 17, 256, 0, 32767), 274431);
	for (unsigned w = 2; w <= HC_MAX_WORKERS; w++)
		CU_ASSERT(hc_port_mbufs_held(w, w + 1, 0) <=
			  (uint64_t)w * (HC_SEQ_MAX_HELD + HC_WORKER_HANDS + HC_DGRAM_IN_PER_WORKER));
	/* past --mbufs's bound (descriptors no port has): the bound */
	CU_ASSERT_EQUAL(hc_port_default_mbufs(2, 3, 256, 1u << 24, 32767), 1u << 24);

	/* the control pool: each worker's control TX ring (4095), the TX
	 * queues' descriptors (512 a worker a port), the caches (48 each),
	 * an ASSIGN and a MOVE batch a gateway (2 x 1023 at the default
	 * 1024), 16 frames in the making, a multiple of 1024 less one */
	CU_ASSERT_EQUAL(hc_port_ctl_mbufs(1, 2, 32, 512, 1024), 7167);       /* 6765 */
	CU_ASSERT_EQUAL(hc_port_ctl_mbufs(2, 3, 32, 1024, 1024), 12287);     /* 11420 */
	CU_ASSERT_EQUAL(hc_port_ctl_mbufs(2, 3, 32, 2 * 1024, 1024), 13311); /* 12444: two ports */
	CU_ASSERT_EQUAL(hc_port_ctl_mbufs(8, 9, 32, 4096, 1024), 39935);     /* 39350 */
	/* the batches grow with the gateways: 65,536 of them */
	CU_ASSERT_EQUAL(hc_port_ctl_mbufs(1, 2, 32, 512, 65536), 136191);    /* 135789 */
	CU_ASSERT_EQUAL(hc_port_ctl_mbufs(1, 2, 32, 512, 8), 5119);          /* 4733 */
	CU_ASSERT_EQUAL(hc_port_ctl_mbufs(64, 65, 32, 1ull << 30, 1024), 1u << 24);

	struct hc_config c;
	char *unset[] = {"t", "--no-auth", NULL};
	char *given[] = {"t", "--no-auth", "--mbufs", "4095", NULL};
	CU_ASSERT_EQUAL_FATAL(hc_config_parse(&c, 2, unset), 0);
	CU_ASSERT_EQUAL(c.mbufs_explicit, 0);
	CU_ASSERT_EQUAL(c.mbufs, 32767);
	CU_ASSERT_EQUAL_FATAL(hc_config_parse(&c, 4, given), 0);
	CU_ASSERT_EQUAL(c.mbufs_explicit, 1);
	CU_ASSERT_EQUAL(c.mbufs, 4095);

	/* --mbufs given at its default figure: a restart's change all the
	 * same (the running pool may have been sized to the workers) */
	struct hc_config running;
	char *same[] = {"t", "--no-auth", "--mbufs", "32767", NULL};
	CU_ASSERT_EQUAL_FATAL(hc_config_parse(&running, 2, unset), 0);
	CU_ASSERT_EQUAL_FATAL(hc_config_parse(&c, 4, same), 0);
	const char *names[8];
	CU_ASSERT_EQUAL_FATAL(hc_config_restart_changes(&running, &c, names, 8), 1);
	CU_ASSERT_STRING_EQUAL(names[0], "mbufs");
	CU_ASSERT_EQUAL(hc_config_restart_changes(&running, &running, names, 8), 0);
}

static void test_lock_identities(void)
{
	char ids[4][HC_LOCK_ID_LEN], cwd[512];
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "net_af_packet0", "iface=eth1,qpairs=2",
						77, ids, 4), 1);
	CU_ASSERT_STRING_EQUAL(ids[0], "net77-if-eth1");
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "net_af_packet0",
						"qpairs=2,framesz=9216,iface=hca1", 5, ids, 4), 1);
	CU_ASSERT_STRING_EQUAL(ids[0], "net5-if-hca1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "net_pcap0",
						"rx_pcap=/a/b.pcap,tx_pcap=out.pcap", 1, ids, 4), 2);
	CU_ASSERT_STRING_EQUAL(ids[0], "file-/a/b.pcap");
	char want[600];
	snprintf(want, sizeof(want), "file-%s/out.pcap", cwd);
	CU_ASSERT_STRING_EQUAL(ids[1], want);
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "net_pcap0", "rx_iface=x,tx_iface=y", 3,
						ids, 4), 2);
	CU_ASSERT_STRING_EQUAL(ids[0], "net3-if-x");
	CU_ASSERT_STRING_EQUAL(ids[1], "net3-if-y");
	/* a physical device: its bus address, whatever its devargs */
	CU_ASSERT_EQUAL(hc_lock_port_identities("pci", "0000:01:00.0", "rxq_desc=1024", 3, ids, 4), 1);
	CU_ASSERT_STRING_EQUAL(ids[0], "pci-0000:01:00.0");
	/* nothing outside the process: no lock */
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "net_ring0", NULL, 3, ids, 4), 0);
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "net_null0", "size=64", 3, ids, 4), 0);
	/* keys match whole: "xiface", "iface_x" are not "iface" */
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "v", "xiface=a,iface_x=b", 3, ids, 4), 0);
	/* no room: -1, never a silent cut */
	CU_ASSERT_EQUAL(hc_lock_port_identities("vdev", "v", "iface=a", 3, ids, 0), -1);
	CU_ASSERT_EQUAL(hc_lock_port_identities("pci", "0000:01:00.0", NULL, 3, ids, 0), -1);
}

/* In a child process: hc_lock_prefix on prefix; its stderr into err;
 * returns its exit status (the lock call's result). */
static int child_lock(const char *prefix, char *err, size_t len)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		char *argv[] = {"headcount", "--no-huge", "--file-prefix", (char *)prefix, "--",
				"--file-prefix", "not-this", NULL};
		_exit(hc_lock_prefix(7, argv));
	}
	close(fds[1]);
	ssize_t n = 0, r;
	while ((r = read(fds[0], err + n, len - 1 - (size_t)n)) > 0)
		n += r;
	err[n] = '\0';
	close(fds[0]);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_lock_refuses_second(void)
{
	char dir[] = "/tmp/hc-unit-lock.XXXXXX", path[256], err[1024], want[128];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	setenv("HEADCOUNT_LOCK_DIR", dir, 1);
	char *argv[] = {"headcount", "--file-prefix=unit/x", "--", NULL};
	CU_ASSERT_EQUAL_FATAL(hc_lock_prefix(3, argv), 0);
	snprintf(path, sizeof(path), "%s/prefix-unit_x.lock", dir);
	struct stat st;
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	/* another process: refused, 2, naming our pid and the prefix */
	CU_ASSERT_EQUAL(child_lock("unit/x", err, sizeof(err)), 2);
	snprintf(want, sizeof(want), "EAL file prefix 'unit/x' is in use by another appliance, "
		 "pid %ld ", (long)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	/* another prefix is free; the one after "--" is not EAL's */
	CU_ASSERT_EQUAL(child_lock("unit-y", err, sizeof(err)), 0);
	/* released: the file is gone and the next taker gets it */
	hc_lock_release();
	CU_ASSERT_EQUAL(stat(path, &st), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_EQUAL(child_lock("unit/x", err, sizeof(err)), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/prefix-unit-y.lock", dir);
	unlink(path);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
	unsetenv("HEADCOUNT_LOCK_DIR");
}


/* The one lock file in dir: its name into out (1), or 0 / 2+ files. */
static int only_lock_file(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n++ == 0)
			snprintf(out, len, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

/* The prefix locked is the one EAL will use, however it is spelt (EAL
 * parses with getopt_long: abbreviations, "=" or a separate value, the
 * last one, never another option's value, nothing after "--"), and the
 * check against EAL's runtime directory. */
static void test_lock_prefix_spellings(void)
{
	char dir[] = "/tmp/hc-unit-lockp.XXXXXX", name[256], want[256];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	setenv("HEADCOUNT_LOCK_DIR", dir, 1);
	static const struct {
		const char *args[6];
		const char *prefix;
	} cases[] = {
		{{"--file-prefix", "sp1", "--"}, "sp1"},
		{{"--file-prefix=eq1", "-l", "0"}, "eq1"},
		{{"--file-pre", "ab1"}, "ab1"},                   /* getopt_long abbreviation */
		{{"--fi=ab2", "-l", "0"}, "ab2"},
		{{"-a", "--file-prefix=nv", "-l", "0"}, "rte"},   /* -a's value, not an option */
		{{"--vdev", "--file-prefix=nv"}, "rte"},
		{{"--file-prefix=one", "--file-prefix", "two"}, "two"}, /* the last one */
		{{"--no-huge", "--", "--file-prefix=after"}, "rte"},    /* the application's */
		{{"--huge-unlink", "--file-prefix=hu"}, "hu"},  /* optional value: "=" only */
		{{"stray", "--file-prefix=perm"}, "perm"},      /* getopt permutes */
		{{"-l", "0"}, "rte"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = {"headcount"};
		int argc = 1;
		while (argc < 7 && cases[i].args[argc - 1] != NULL) {
			argv[argc] = (char *)(uintptr_t)cases[i].args[argc - 1];
			argc++;
		}
		char *before[8];
		memcpy(before, argv, sizeof(before));
		CU_ASSERT_EQUAL(hc_lock_prefix(argc, argv), 0);
		CU_ASSERT_EQUAL(memcmp(before, argv, sizeof(before)), 0); /* argv as given */
		snprintf(want, sizeof(want), "prefix-%s.lock", cases[i].prefix);
		name[0] = '\0';
		CU_ASSERT_EQUAL(only_lock_file(dir, name, sizeof(name)), 1);
		CU_ASSERT_STRING_EQUAL(name, want);
		if (strcmp(name, want) != 0)
			fprintf(stderr, "\n  case %zu locked %s, EAL uses %s\n", i, name, want);
		char got[64];
		CU_ASSERT_EQUAL(hc_lock_eal_prefix(argc, argv, got, sizeof(got)), 0);
		CU_ASSERT_STRING_EQUAL(got, cases[i].prefix);
		hc_lock_release();
	}
	/* --help, however spelt: EAL prints and exits, nothing locked */
	char *help[] = {"headcount", "--he", NULL};
	CU_ASSERT_EQUAL(hc_lock_prefix(2, help), 0);
	CU_ASSERT_EQUAL(only_lock_file(dir, name, sizeof(name)), 0);
	char got[8];
	CU_ASSERT_EQUAL(hc_lock_eal_prefix(2, help, got, sizeof(got)), 1);
	char *longp[] = {"headcount", "--file-prefix=longer-than-8", NULL};
	CU_ASSERT_EQUAL(hc_lock_eal_prefix(2, longp, got, sizeof(got)), -1);

	/* EAL's runtime directory must be the locked prefix's */
	CU_ASSERT_EQUAL(hc_lock_prefix_check("/var/run/dpdk/rte"), 0); /* nothing locked */
	char *chk[] = {"headcount", "--file-prefix=chk", NULL};
	CU_ASSERT_EQUAL_FATAL(hc_lock_prefix(2, chk), 0);
	CU_ASSERT_EQUAL(hc_lock_prefix_check("/var/run/dpdk/chk"), 0);
	CU_ASSERT_EQUAL(hc_lock_prefix_check("/run/headcount/dpdk/chk"), 0);
	CU_ASSERT_EQUAL(hc_lock_prefix_check(""), 0); /* no directory made (--no-shconf) */
	CU_ASSERT_EQUAL(hc_lock_prefix_check("/var/run/dpdk/rte"), 1);
	CU_ASSERT_EQUAL(hc_lock_prefix_check("/var/run/dpdk/xchk"), 1);
	hc_lock_release();
	CU_ASSERT_EQUAL(only_lock_file(dir, name, sizeof(name)), 0);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
	unsetenv("HEADCOUNT_LOCK_DIR");
}

static void test_icmp_bucket(void)
{
	/* a worker id of its own, far in TSC time */
	const unsigned id = HC_MAX_WORKERS - 1;
	uint64_t interval = rte_get_tsc_hz() / HC_ICMP_RATE;
	uint64_t t = 1ull << 50;
	unsigned ok = 0;
	for (unsigned i = 0; i < 3 * HC_ICMP_BURST; i++)
		ok += (unsigned)hc_icmp_bucket_take(id, t);
	CU_ASSERT_EQUAL(ok, HC_ICMP_BURST); /* a burst at one instant */
	CU_ASSERT_EQUAL(hc_icmp_bucket_take(id, t + interval - 1), 0);
	CU_ASSERT_EQUAL(hc_icmp_bucket_take(id, t + interval), 1); /* one more per interval */
	CU_ASSERT_EQUAL(hc_icmp_bucket_take(id, t + interval), 0);
	/* one second at a steady flood: HC_ICMP_RATE more, not one beyond */
	ok = 0;
	for (uint64_t k = 0; k < 4 * HC_ICMP_RATE; k++)
		ok += (unsigned)hc_icmp_bucket_take(id, t + interval + k * (interval / 4));
	CU_ASSERT(ok >= HC_ICMP_RATE - 2 && ok <= HC_ICMP_RATE); /* in debt at the start */
	/* after a quiet spell: a full burst again, never more */
	t += 1000 * rte_get_tsc_hz();
	ok = 0;
	for (unsigned i = 0; i < 3 * HC_ICMP_BURST; i++)
		ok += (unsigned)hc_icmp_bucket_take(id, t);
	CU_ASSERT_EQUAL(ok, HC_ICMP_BURST);
}

/* The hand-off rings: a worker's incoming rings hold at most 8,192
 * datagrams together, each ring a power of 2 from 512 to 4,096 (at
 * HC_MAX_WORKERS, 16, the floor), and at most 65,536 ops, 16,384 to 4,096
 * a ring; a dataplane of four workers creates its 12 datagram rings at
 * 2,048 (a ring holds one less) and its op rings at 16,384, one of ten
 * its 90 of each at 512 and 4,096; the packet pool's default
 * counts exactly those, and the 2,048th datagram for one home finds its
 * ring full: back-pressure (handoff_waits), or while stopping a drop
 * (handoff_full), never an overwrite. */
static void test_handoff_ring_sizes(void)
{
	/* each count of workers: its datagram and op rings' sizes */
	static const unsigned want[HC_MAX_WORKERS + 1][2] = {
		{0, 0}, {0, 0}, {4096, 16384}, {4096, 16384}, {2048, 16384}, {2048, 16384},
		{1024, 8192}, {1024, 8192}, {1024, 8192}, {1024, 8192}, {512, 4096},
		{512, 4096}, {512, 4096}, {512, 4096}, {512, 4096}, {512, 4096}, {512, 4096}};
	for (unsigned w = 0; w <= HC_MAX_WORKERS; w++) {
		unsigned dg = hc_handoff_dgram_ring_size(w), op = hc_handoff_op_ring_size(w);
		CU_ASSERT(dg == want[w][0] && op == want[w][1]);
		if (w >= 2)
			CU_ASSERT((w - 1) * dg <= HC_DGRAM_IN_PER_WORKER &&
				  (w - 1) * op <= HC_OP_IN_PER_WORKER);
	}
	CU_ASSERT_EQUAL(hc_handoff_dgram_ring_size(HC_MAX_WORKERS), HC_DGRAM_RING_MIN);
	CU_ASSERT_EQUAL(hc_handoff_op_ring_size(HC_MAX_WORKERS), HC_OP_RING_MIN);

	struct hc_config c;
	struct hc_dataplane d;
	char *argv[] = {"t", "--max-users", "4096", "--max-rooms", "64", "--max-gateways", "8",
			"--no-auth", NULL};
	CU_ASSERT_EQUAL_FATAL(hc_config_parse(&c, 8, argv), 0);
	unsigned lc[HC_MAX_WORKERS]; /* (every worker on this lcore: none runs) */
	for (unsigned i = 0; i < HC_MAX_WORKERS; i++)
		lc[i] = rte_lcore_id();
	CU_ASSERT_EQUAL_FATAL(hc_dataplane_init(&d, &c, 4, lc, 0), 0);
	uint64_t ring_slots = 0;
	for (unsigned s = 0; s < 4; s++)
		for (unsigned t = 0; t < 4; t++) {
			struct rte_ring *r = d.workers[s]->ho.dgram_out[t];
			if (s == t) {
				CU_ASSERT_PTR_NULL(r);
				continue;
			}
			CU_ASSERT_PTR_EQUAL(r, d.workers[t]->ho.dgram_in[s]);
			if (r == NULL)
				continue;
			CU_ASSERT_EQUAL(rte_ring_get_capacity(r), 2047);
			CU_ASSERT_EQUAL(rte_ring_get_capacity(d.workers[s]->ho.op_out[t]), 16383);
			ring_slots += rte_ring_get_size(r);
		}
	CU_ASSERT_EQUAL(ring_slots, 12 * 2048);
	CU_ASSERT_EQUAL(hc_port_mbufs_held(4, 5, 0),
			4 * (HC_SEQ_MAX_HELD + HC_WORKER_HANDS) + ring_slots);

	/* worker 0 receives gateway 5's datagrams (home 5 % 4 = 1): 2,047
	 * are handed off; the next waits for room, and, the appliance
	 * stopping, is dropped instead (no worker 1 runs here) */
	static const struct hc_frame_addr a = {
		.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 2},
		.src_ip = 0xC6120002, .dst_ip = 0xC6120001, .src_port = 40000, .dst_port = 7100};
	struct hc_worker *w0 = d.workers[0];
	struct rte_ring *to1 = w0->ho.dgram_out[1];
	uint8_t p[sizeof(struct hc_hdr) + sizeof(struct hc_event)], f[256];
	unsigned free0 = rte_mempool_avail_count(hc_test_pool);
	for (uint32_t i = 1; i <= 2048; i++) {
		struct hc_event ev = {.user_id = htobe64(1000 + i), .room_id = htonl(1),
				      .op = HC_OP_JOIN};
		hc_proto_fill_hdr(p, HC_MSG_EVENTS, 5, 1, 1, 0, i);
		memcpy(p + sizeof(struct hc_hdr), &ev, sizeof(ev));
		size_t n = hc_frame_build(f, &a, 1, p, sizeof(p));
		struct rte_mbuf *m = hc_test_mbuf(f, n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		if (i == 2048)
			hc_dp_set_state(&d, HC_STOP);
		hc_rx_burst(w0, 0, &m, 1, 0);
	}
	CU_ASSERT_EQUAL(w0->st.datagrams, 2048);
	CU_ASSERT_EQUAL(w0->st.handoff_dgrams, 2047);
	CU_ASSERT_EQUAL(w0->st.handoff_waits, 1);
	CU_ASSERT_EQUAL(w0->st.drops[HC_DROP_HANDOFF_FULL], 1);
	CU_ASSERT_EQUAL(rte_ring_count(to1), 2047);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_pool), free0 - 2047);
	/* in order, none overwritten: sequences 1 to 2047 */
	uint32_t in_order = 0;
	for (struct rte_mbuf *m; rte_ring_dequeue(to1, (void **)&m) == 0; rte_pktmbuf_free(m)) {
		struct hc_hdr h;
		memcpy(&h, hc_mbuf_payload(m), sizeof(h));
		in_order += ntohl(h.sequence) == in_order + 1;
	}
	CU_ASSERT_EQUAL(in_order, 2047);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_pool), free0);
	hc_dataplane_free(&d);

	/* ten workers: 90 rings of each kind, 512 datagrams and 4,096 ops */
	CU_ASSERT_EQUAL_FATAL(hc_dataplane_init(&d, &c, 10, lc, 0), 0);
	unsigned rings = 0;
	for (unsigned s = 0; s < 10; s++)
		for (unsigned t = 0; t < 10; t++)
			if (s != t && d.workers[s]->ho.dgram_out[t] != NULL &&
			    d.workers[s]->ho.op_out[t] != NULL)
				rings += rte_ring_get_capacity(d.workers[s]->ho.dgram_out[t]) == 511 &&
					 rte_ring_get_capacity(d.workers[s]->ho.op_out[t]) == 4095;
	CU_ASSERT_EQUAL(rings, 90);
	hc_dataplane_free(&d);
}

/* the echo path: a worker with a TX queue on a net_ring port */
static struct hc_config cfg;
static struct hc_dataplane dp;
static struct rte_ring *rxr, *txr;
static uint16_t port;

static int icmp_setup(void)
{
	char *argv[] = {"t", "--max-users", "4096", "--max-rooms", "64", "--max-gateways", "8",
			"--no-auth", NULL};
	if (hc_config_parse(&cfg, 8, argv) != 0)
		return -1;
	unsigned lcore = rte_lcore_id();
	if (hc_dataplane_init(&dp, &cfg, 1, &lcore, 0) != 0)
		return -1;
	int p = hc_test_ring_port("hc_unit_icmp", 64, &rxr, &txr);
	if (p < 0)
		return -1;
	port = (uint16_t)p;
	dp.workers[0]->txq[port] = 0;
	dp.port_mac[port] = (struct rte_ether_addr){{2, 0, 0, 0, 0, 1}};
	return 0;
}

static int icmp_teardown(void)
{
	hc_test_ring_port_free(port, rxr, txr);
	hc_dataplane_free(&dp);
	return 0;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An Ethernet/IPv4/ICMP frame from 198.18.0.2 (src_ip given) to
 * 198.18.0.1: type, data of dlen bytes, pad bytes of Ethernet padding
 * after it; the ICMP checksum right unless bad.  Returns its length. */
static size_t icmp_frame(uint8_t *f, uint8_t type, uint32_t src_ip, size_t dlen, size_t pad,
			 int bad)
{
	static const uint8_t dst_mac[6] = {2, 0, 0, 0, 0, 1}, src_mac[6] = {2, 0, 0, 0, 0, 2};
	size_t total = 20 + 8 + dlen;
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total;
	ip[4] = 0x12, ip[5] = 0x34, ip[6] = 0x40; /* DF */
	ip[8] = 61, ip[9] = 1;
	uint32_t s = htonl(src_ip), d = htonl(0xC6120001);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	uint16_t c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	uint8_t *icmp = ip + 20;
	icmp[0] = type, icmp[1] = 0, icmp[2] = icmp[3] = 0;
	icmp[4] = 0xbe, icmp[5] = 0xef, icmp[6] = 0, icmp[7] = 9; /* id, sequence */
	for (size_t i = 0; i < dlen; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + 3);
	c = csum(icmp, 8 + dlen);
	if (bad)
		c ^= 0x0101;
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	memset(f + 14 + total, 0, pad);
	return 14 + total + pad;
}

static void rx(const uint8_t *f, size_t len, uint64_t now)
{
	struct rte_mbuf *m = hc_test_mbuf(f, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(dp.workers[0], port, &m, 1, now);
}

static void test_icmp_echo(void)
{
	struct hc_worker *w = dp.workers[0];
	uint8_t f[2048], want[2048];
	uint64_t now = 1ull << 52; /* a fresh bucket */

	/* a 1,472-byte echo: answered in place, data echoed, no padding */
	size_t len = icmp_frame(f, 8, 0xC6120002, 1472, 0, 0);
	rx(f, len, now);
	CU_ASSERT_EQUAL(w->st.icmp_echo_replies, 1);
	struct rte_mbuf *r = NULL;
	CU_ASSERT_EQUAL_FATAL(rte_ring_dequeue(txr, (void **)&r), 0);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_pkt_len(r), len);
	const uint8_t *g = rte_pktmbuf_mtod(r, const uint8_t *);
	/* what the reply must be, built here */
	memcpy(want, f, len);
	memcpy(want, f + 6, 6);     /* to the requester's MAC */
	memcpy(want + 6, f, 6);     /* from the port's */
	memcpy(want + 14 + 12, f + 14 + 16, 4);
	memcpy(want + 14 + 16, f + 14 + 12, 4);
	want[14 + 6] = 0;           /* fragment field cleared */
	want[14 + 8] = 64;          /* TTL */
	want[14 + 10] = want[14 + 11] = 0;
	uint16_t c = csum(want + 14, 20);
	want[14 + 10] = (uint8_t)(c >> 8), want[14 + 11] = (uint8_t)c;
	want[34] = 0;               /* echo reply */
	want[36] = want[37] = 0;
	c = csum(want + 34, len - 34);
	want[36] = (uint8_t)(c >> 8), want[37] = (uint8_t)c;
	CU_ASSERT_EQUAL(memcmp(g, want, len), 0);
	CU_ASSERT_EQUAL(csum(g + 14, 20), 0);        /* both checksums verify */
	CU_ASSERT_EQUAL(csum(g + 34, len - 34), 0);
	rte_pktmbuf_free(r);

	/* Ethernet padding after a small echo is not echoed */
	len = icmp_frame(f, 8, 0xC6120002, 4, 14, 0);
	rx(f, len, now);
	CU_ASSERT_EQUAL_FATAL(rte_ring_dequeue(txr, (void **)&r), 0);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(r), len - 14);
	rte_pktmbuf_free(r);
	CU_ASSERT_EQUAL(w->st.icmp_echo_replies, 2);

	/* counted drops, no reply */
	rx(f, icmp_frame(f, 8, 0xC6120002, 56, 0, 1), now);  /* wrong ICMP checksum */
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_ICMP_BAD_CSUM], 1);
	rx(f, icmp_frame(f, 13, 0xC6120002, 12, 0, 0), now); /* timestamp request */
	rx(f, icmp_frame(f, 0, 0xC6120002, 56, 0, 0), now);  /* an echo reply */
	rx(f, icmp_frame(f, 8, 0xFFFFFFFF, 56, 0, 0), now);  /* from broadcast */
	rx(f, icmp_frame(f, 8, 0xE0000001, 56, 0, 0), now);  /* from multicast */
	rx(f, icmp_frame(f, 8, 0, 56, 0, 0), now);           /* from 0.0.0.0 */
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_ICMP_IGNORED], 5);
	len = icmp_frame(f, 8, 0xC6120002, 56, 0, 0);
	f[14 + 9] = 6; /* TCP: not ICMP, still not_udp */
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t ipc = csum(f + 14, 20);
	f[14 + 10] = (uint8_t)(ipc >> 8), f[14 + 11] = (uint8_t)ipc;
	rx(f, len, now);
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_NOT_UDP], 1);
	CU_ASSERT_EQUAL(rte_ring_count(txr), 0);
	CU_ASSERT_EQUAL(w->st.icmp_echo_replies, 2);

	/* a flood at one instant: the rest of the burst answered, then
	 * counted drops; one interval later, one more reply */
	for (unsigned i = 0; i < 300; i++)
		rx(f, icmp_frame(f, 8, 0xC6120002, 56, 0, 0), now);
	CU_ASSERT_EQUAL(w->st.icmp_echo_replies, HC_ICMP_BURST);
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_ICMP_RATE_LIMITED], 300 - (HC_ICMP_BURST - 2));
	CU_ASSERT_EQUAL(rte_ring_count(txr), HC_ICMP_BURST - 2);
	rx(f, icmp_frame(f, 8, 0xC6120002, 56, 0, 0), now + rte_get_tsc_hz() / HC_ICMP_RATE);
	CU_ASSERT_EQUAL(w->st.icmp_echo_replies, HC_ICMP_BURST + 1);
	while (rte_ring_dequeue(txr, (void **)&r) == 0)
		rte_pktmbuf_free(r);

	/* no TX queue on the port: a counted drop */
	w->txq[port] = HC_NO_TXQ;
	rx(f, icmp_frame(f, 8, 0xC6120002, 56, 0, 0), now + 10 * rte_get_tsc_hz());
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_ICMP_NO_TXQ], 1);
	w->txq[port] = 0;
}

/* An ARP request from 198.18.0.2 for 198.18.0.1, padded to 60 bytes. */
static size_t arp_request(uint8_t *f)
{
	static const uint8_t head[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 1,             /* Ethernet, IPv4, request */
		2, 0, 0, 0, 0, 2, 198, 18, 0, 2,       /* sender */
		0, 0, 0, 0, 0, 0, 198, 18, 0, 1};      /* target */
	memset(f, 0, 60);
	memcpy(f, head, sizeof(head));
	return 60;
}

/* ARP and ICMP in a gathered mbuf (larger than a packet mbuf: a frame in
 * segments, copied whole) are not answered, whatever their length: a
 * reply parked in a TX ring would hold a gather mbuf.  When packet mbufs
 * are as large (af_packet with a large framesz), the gather pool is the
 * packet pool, nothing is gathered, and both are answered. */
static void test_gathered_not_answered(void)
{
	struct hc_worker *w = dp.workers[0];
	uint8_t f[2048];
	uint64_t now = 1ull << 53; /* a fresh bucket */
	struct rte_mbuf *r = NULL, *m;
	uint64_t echo0 = w->st.icmp_echo_replies, arp0 = w->st.arp_replies;
	uint64_t icmp_ign0 = w->st.drops[HC_DROP_ICMP_IGNORED];
	uint64_t arp_ign0 = w->st.drops[HC_DROP_ARP_IGNORED];

	/* one pool for both: answered */
	dp.pool = dp.gather_pool = hc_test_pool;
	rx(f, icmp_frame(f, 8, 0xC6120002, 56, 0, 0), now);
	rx(f, arp_request(f), now);
	CU_ASSERT_EQUAL(w->st.icmp_echo_replies, echo0 + 1);
	CU_ASSERT_EQUAL(w->st.arp_replies, arp0 + 1);
	CU_ASSERT_EQUAL(rte_ring_count(txr), 2);
	while (rte_ring_dequeue(txr, (void **)&r) == 0)
		rte_pktmbuf_free(r);

	/* a gather pool of its own: its mbufs are not answered */
	dp.gather_pool = hc_test_big_pool;
	m = hc_test_big_mbuf(f, icmp_frame(f, 8, 0xC6120002, 56, 0, 0));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(w, port, &m, 1, now);
	m = hc_test_big_mbuf(f, arp_request(f));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(w, port, &m, 1, now);
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_ICMP_IGNORED], icmp_ign0 + 1);
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_ARP_IGNORED], arp_ign0 + 1);
	CU_ASSERT_EQUAL(rte_ring_count(txr), 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_big_pool), 255); /* both freed */
	/* the packet pool's still are */
	rx(f, arp_request(f), now);
	CU_ASSERT_EQUAL(w->st.arp_replies, arp0 + 2);
	while (rte_ring_dequeue(txr, (void **)&r) == 0)
		rte_pktmbuf_free(r);
	dp.pool = dp.gather_pool = NULL;
}

/*
 * The control pool at its size for 4,096 gateways: with the worker's
 * control ring full (nobody drains it here), every gateway's ASSIGN and
 * MOVE batch still gets an mbuf, and one frame more is refused by the
 * ring, not by the pool.  (With room for 1,024 batches, as before,
 * 2,048 batches got none.)
 */
#define CTL_POOL_GATEWAYS 4096u
static struct hc_config ctl_cfg;
static struct hc_dataplane ctl_dp;
static struct rte_ring *ctl_rxr, *ctl_txr;
static uint16_t ctl_port;

static int ctl_pool_setup(void)
{
	char *argv[] = {"t", "--max-users", "4096", "--max-rooms", "64", "--max-gateways", "4096",
			"--no-auth", NULL};
	if (hc_config_parse(&ctl_cfg, 8, argv) != 0 || ctl_cfg.max_gateways != CTL_POOL_GATEWAYS)
		return -1;
	unsigned lcore = rte_lcore_id();
	if (hc_dataplane_init(&ctl_dp, &ctl_cfg, 1, &lcore, 1) != 0) /* with control rings */
		return -1;
	int p = hc_test_ring_port("hc_unit_ctlpool", 64, &ctl_rxr, &ctl_txr);
	if (p < 0)
		return -1;
	ctl_port = (uint16_t)p;
	ctl_dp.workers[0]->txq[ctl_port] = 0;
	/* as hc_ports_init makes it: no TX descriptors here (no worker sends) */
	ctl_dp.ctl_pool = rte_pktmbuf_pool_create(
		"hc_unit_ctl_pool",
		hc_port_ctl_mbufs(1, rte_lcore_count(), HC_PORT_CTL_POOL_CACHE, 0, CTL_POOL_GATEWAYS),
		HC_PORT_CTL_POOL_CACHE, 0, HC_PORT_CTL_FRAME_ROOM + RTE_PKTMBUF_HEADROOM,
		(int)rte_socket_id());
	return ctl_dp.ctl_pool != NULL ? 0 : -1;
}

static int ctl_pool_teardown(void)
{
	struct rte_mbuf *m;
	while (rte_ring_dequeue(ctl_dp.workers[0]->from_ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	hc_test_ring_port_free(ctl_port, ctl_rxr, ctl_txr);
	struct rte_mempool *pool = ctl_dp.ctl_pool;
	hc_dataplane_free(&ctl_dp);
	rte_mempool_free(pool);
	return 0;
}

static void test_ctl_pool_batches(void)
{
	struct hc_tx tx;
	struct rte_mempool *pool = ctl_dp.ctl_pool;
	struct rte_ring *ring = ctl_dp.workers[0]->from_ctl_tx;
	struct hc_peer to = {.ip_be = htonl(0xC6120002), .udp_be = htons(7000), .port_id = ctl_port,
			     .mac = {2, 0, 0, 0, 0, 2}};
	uint8_t rec[24] = {0};
	CU_ASSERT_EQUAL(sizeof(rec), hc_proto_record_size(HC_MSG_ASSIGN));
	CU_ASSERT_EQUAL(sizeof(rec), hc_proto_record_size(HC_MSG_MOVE));
	CU_ASSERT_EQUAL(sizeof(rec), hc_proto_record_size(HC_MSG_HEARTBEAT));
	CU_ASSERT_EQUAL_FATAL(hc_tx_init(&tx, &ctl_dp, 1), 0);

	/* the worker's ring filled with heartbeats, one a gateway in turn */
	unsigned queued = 0;
	for (uint32_t i = 0; i < HC_CTL_TX_RING_SIZE - 1; i++)
		queued += hc_tx_single(&tx, HC_MSG_HEARTBEAT, (uint16_t)(1 + i % (CTL_POOL_GATEWAYS - 1)),
				       1, &to, rec, sizeof(rec)) == 0;
	CU_ASSERT_EQUAL(queued, HC_CTL_TX_RING_SIZE - 1);
	CU_ASSERT_EQUAL(rte_ring_count(ring), HC_CTL_TX_RING_SIZE - 1);

	/* a batch of each kind for every gateway: none short of an mbuf */
	unsigned added = 0;
	for (uint32_t gw = 1; gw < CTL_POOL_GATEWAYS; gw++) {
		added += hc_tx_add(&tx, HC_MSG_ASSIGN, (uint16_t)gw, &to, rec, sizeof(rec)) == 0;
		added += hc_tx_add(&tx, HC_MSG_MOVE, (uint16_t)gw, &to, rec, sizeof(rec)) == 0;
	}
	CU_ASSERT_EQUAL(added, 2 * (CTL_POOL_GATEWAYS - 1));
	CU_ASSERT_EQUAL(tx.st.no_mbuf, 0);
	CU_ASSERT_EQUAL(tx.n_open, 2 * (CTL_POOL_GATEWAYS - 1));
	/* one frame in the making more: the ring refuses it, the pool does not */
	CU_ASSERT_EQUAL(hc_tx_single(&tx, HC_MSG_HEARTBEAT, 1, 1, &to, rec, sizeof(rec)), 0);
	CU_ASSERT_EQUAL(tx.st.no_mbuf, 0);
	CU_ASSERT_EQUAL(tx.st.ring_full, 1);

	/* flushed into the full ring: every batch refused there, counted,
	 * and its mbuf back in the pool */
	hc_tx_flush(&tx);
	CU_ASSERT_EQUAL(tx.st.ring_full, 1 + 2 * (CTL_POOL_GATEWAYS - 1));
	CU_ASSERT_EQUAL(tx.st.datagrams, HC_CTL_TX_RING_SIZE - 1);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), pool->size - (HC_CTL_TX_RING_SIZE - 1));
	hc_tx_free(&tx);
}

/* Where a pool's objects lie: the lowest and the highest address, and
 * how many are in an external memory list of 2 MiB pages (a heap of its
 * own, hc_bigmem_heap) or in EAL's 4 KiB pages. */
struct pool_span {
	uintptr_t lo, hi;
	unsigned heap_objs, eal_objs;
};

static void pool_span_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct pool_span *sp = arg;
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(obj);
	(void)mp;
	(void)idx;
	sp->lo = sp->lo == 0 || (uintptr_t)obj < sp->lo ? (uintptr_t)obj : sp->lo;
	sp->hi = (uintptr_t)obj > sp->hi ? (uintptr_t)obj : sp->hi;
	if (msl != NULL && msl->external && msl->page_sz == HC_BIGMEM_HUGE_PAGE)
		sp->heap_objs++;
	else if (msl != NULL && !msl->external && msl->page_sz == 4096)
		sp->eal_objs++;
}

/*
 * Without hugepages (as hc-unit runs) the pools are made in a heap of
 * their own in 2 MiB pages (hc_port_pool_create, hc_bigmem_heap): for the
 * packet pool's, the control pool's and the gather pool's default sizes
 * and af_packet's 9 KiB frames, every object is there and they are
 * packed (the span of their addresses within the heap's estimate, not a
 * 4 KiB page an mbuf), every mbuf can be taken at once, and freeing the
 * pool gives the heap back (hc_bigmem_heap_bytes as before; the name
 * free for the next pool).  A heap that cannot be made (its name taken)
 * leaves the pool in EAL's 4 KiB pages, as before, and so does a port
 * driver that may map EAL's memory (own_heap 0).
 */
static void test_pool_heap(void)
{
	static const struct { uint32_t n; unsigned cache; uint32_t room; } pools[] = {
		{32767, 256, 2048}, {7167, HC_PORT_CTL_POOL_CACHE, HC_PORT_CTL_FRAME_ROOM},
		{1023, 0, HC_MAX_FRAME}, {4095, 256, 9184},
	};
	CU_ASSERT_FATAL(!rte_eal_has_hugepages());
	size_t heaps_before = hc_bigmem_heap_bytes();
	for (unsigned i = 0; i < RTE_DIM(pools); i++) {
		for (unsigned again = 0; again < 2; again++) {
			struct rte_mempool *mp = hc_port_pool_create("hc_t_heap", "test pool",
					pools[i].n, pools[i].cache, pools[i].room, NULL, 1);
			CU_ASSERT_FATAL(mp != NULL);
			struct pool_span sp = {0};
			CU_ASSERT_EQUAL(rte_mempool_obj_iter(mp, pool_span_obj, &sp), pools[i].n);
			CU_ASSERT_EQUAL(sp.heap_objs, pools[i].n);
			size_t estimate = hc_port_pool_heap_bytes(pools[i].n, pools[i].cache,
								  pools[i].room);
			CU_ASSERT(sp.hi - sp.lo < estimate);
			CU_ASSERT(hc_bigmem_heap_bytes() - heaps_before >= estimate);
			/* packed: not a 4 KiB page each (2 KiB mbufs), nor 3 (9 KiB) */
			size_t spacing = (sp.hi - sp.lo) / (pools[i].n - 1);
			CU_ASSERT(spacing < (pools[i].room <= 2048 ? 4096u : 3 * 4096u));
			struct rte_mbuf **all = calloc(pools[i].n, sizeof(*all));
			CU_ASSERT_FATAL(all != NULL);
			CU_ASSERT_EQUAL(rte_pktmbuf_alloc_bulk(mp, all, pools[i].n), 0);
			rte_pktmbuf_free_bulk(all, pools[i].n);
			free(all);
			hc_port_pool_free(mp);
			CU_ASSERT_EQUAL(hc_bigmem_heap_bytes(), heaps_before);
		}
	}
	/* the heap's name taken: the pool in EAL's pages, freed as before */
	CU_ASSERT_EQUAL_FATAL(rte_malloc_heap_create("hc_t_taken"), 0);
	struct rte_mempool *mp = hc_port_pool_create("hc_t_taken", "test pool", 1023, 0, 2048,
						     NULL, 1);
	CU_ASSERT_FATAL(mp != NULL);
	struct pool_span sp = {0};
	CU_ASSERT_EQUAL(rte_mempool_obj_iter(mp, pool_span_obj, &sp), 1023);
	CU_ASSERT_EQUAL(sp.eal_objs, 1023);
	CU_ASSERT_EQUAL(hc_bigmem_heap_bytes(), heaps_before);
	hc_port_pool_free(mp);
	CU_ASSERT_EQUAL(rte_malloc_heap_destroy("hc_t_taken"), 0);
	/* a port whose driver may map EAL's memory or DMA into it (own_heap
	 * 0, hc_ports_init's decision): EAL's pages */
	mp = hc_port_pool_create("hc_t_eal", "test pool", 1023, 0, 2048, NULL, 0);
	CU_ASSERT_FATAL(mp != NULL);
	sp = (struct pool_span){0};
	CU_ASSERT_EQUAL(rte_mempool_obj_iter(mp, pool_span_obj, &sp), 1023);
	CU_ASSERT_EQUAL(sp.eal_objs, 1023);
	CU_ASSERT_EQUAL(hc_bigmem_heap_bytes(), heaps_before);
	hc_port_pool_free(mp);
	/* its heap more than the kernel has available: no pool (not EAL's
	 * pages instead, 1.7 times the memory, every page written) */
	hc_bigmem_tell_mem_available((uint64_t)16 << 20);
	CU_ASSERT_PTR_NULL(hc_port_pool_create("hc_t_past", "test pool", 32767, 256, 2048, NULL,
					       1));
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("hc_t_past"));
	CU_ASSERT_EQUAL(hc_bigmem_heap_bytes(), heaps_before);
	mp = hc_port_pool_create("hc_t_within", "test pool", 1023, 0, 2048, NULL, 1);
	CU_ASSERT_FATAL(mp != NULL); /* (a 4 MiB heap: within) */
	sp = (struct pool_span){0};
	CU_ASSERT_EQUAL(rte_mempool_obj_iter(mp, pool_span_obj, &sp), 1023);
	CU_ASSERT_EQUAL(sp.heap_objs, 1023);
	hc_port_pool_free(mp);
	hc_bigmem_tell_mem_available(0);
	CU_ASSERT_EQUAL(hc_bigmem_heap_bytes(), heaps_before);
}

static CU_TestInfo tests[] = {
	{"--ip required on physical ports", test_ip_decision},
	{"the packet pool sized to the workers unless --mbufs is given", test_default_mbufs},
	{"hand-off rings hold at most 8,192 datagrams and 65,536 ops into a worker",
	 test_handoff_ring_sizes},
	{"port lock identities", test_lock_identities},
	{"a second lock holder is refused", test_lock_refuses_second},
	{"the prefix locked is the one EAL uses, however spelt", test_lock_prefix_spellings},
	{"ICMP reply bucket", test_icmp_bucket},
	{"without hugepages the pools packed in heaps of their own; none past MemAvailable",
	 test_pool_heap},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo ctl_pool_tests[] = {
	{"the control pool holds a batch of each kind for every gateway", test_ctl_pool_batches},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo icmp_tests[] = {
	{"ICMP echo answered, bad ones counted", test_icmp_echo},
	{"ARP and ICMP in gathered mbufs not answered", test_gathered_not_answered},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_deploy = {"deploy", NULL, NULL, NULL, NULL, tests};
const CU_SuiteInfo hc_suite_deploy_ctl_pool = {"deploy-ctl-pool", ctl_pool_setup,
					       ctl_pool_teardown, NULL, NULL, ctl_pool_tests};
const CU_SuiteInfo hc_suite_deploy_icmp = {"deploy-icmp", icmp_setup, icmp_teardown, NULL,
					   NULL, icmp_tests};
