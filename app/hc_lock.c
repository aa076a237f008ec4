/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_lock.c - refusing a second appliance on the same port, file prefix
 * or state file.
 *
 * One lock file per identity in the lock directory (hc_lock.h):
 * prefix-<file prefix>.lock and state-<its directory and name>.lock
 * before EAL starts, port-<identity>.lock per port before any port
 * starts.  Each is taken with flock(LOCK_EX|LOCK_NB) and holds the
 * holder's pid as text; a second appliance finds it locked,
 * reads the pid and exits 2 naming it.  A lock file is removed at a clean
 * exit (atexit) while still locked; a taker that locked a file already removed
 * (its inode no longer the path's) tries again, so a removal never lets
 * two holders in.  The prefix is found as EAL finds it (getopt_long over
 * EAL's option table, hc_lock_eal_prefix) and checked against EAL's
 * runtime directory once EAL runs.  Slow path, before anything runs.
 */
#include "hc_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#define MAX_LOCKS (RTE_MAX_ETHPORTS * 2 + 2) /* ports, the prefix, the state file */
#define TAKE_TRIES 16 /* a file removed under us again and again: give up */

static struct {
	int fd;
	char path[PATH_MAX];
} held[MAX_LOCKS];
static int n_held;
static int eal_help; /* EAL's arguments ask for its --help: nothing locked */

static const char *lock_dir(void)
{
	const char *d = getenv("HEADCOUNT_LOCK_DIR");
	return d != NULL && d[0] != '\0' ? d : HC_LOCK_DIR_DEFAULT;
}

/* FNV-1a of s */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* A file name from an identity: [A-Za-z0-9._-] kept, anything else '_';
 * a long one becomes its tail and a hash of the whole. */
static void file_name(const char *kind, const char *id, char *out, size_t len)
{
	char clean[160];
	size_t n = strlen(id), from = 0;
	if (n >= sizeof(clean)) {
		from = n - 100;
		snprintf(out, len, "%s-%016llx-", kind, (unsigned long long)fnv1a(id));
	} else {
		snprintf(out, len, "%s-", kind);
	}
	size_t j = 0;
	for (size_t i = from; id[i] != '\0' && j + 1 < sizeof(clean); i++) {
		char c = id[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
		clean[j++] = ok ? c : '_';
	}
	clean[j] = '\0';
	size_t used = strlen(out);
	snprintf(out + used, len - used, "%s.lock", clean);
}

/* The pid a lock file holds, 0 if unreadable. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	return strtol(buf, NULL, 10);
}

/* Take the lock on what (e.g. "port net_af_packet0 (interface eth1)"),
 * file kind-id.lock.  0, 2 (held by another), 1 (cannot lock). */
static int take(const char *kind, const char *id, const char *what)
{
	const char *dir = lock_dir();
	char name[256];

	if (n_held == MAX_LOCKS) {
		fprintf(stderr, "headcount: more than %d locks\n", MAX_LOCKS);
		return 1;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "headcount: cannot make the lock directory %s: %s (run as root, "
			"or set HEADCOUNT_LOCK_DIR)\n", dir, strerror(errno));
		return 1;
	}
	file_name(kind, id, name, sizeof(name));
	char *path = held[n_held].path;
	if ((size_t)snprintf(path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		fprintf(stderr, "headcount: lock path too long: %s/%s\n", dir, name);
		return 1;
	}
	for (int t = 0; t < TAKE_TRIES; t++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "headcount: cannot open the lock file %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			long pid = holder_pid(fd);
			close(fd);
			if (e != EWOULDBLOCK) {
				fprintf(stderr, "headcount: cannot lock %s: %s\n", path, strerror(e));
				return 1;
			}
			if (pid > 0)
				fprintf(stderr, "headcount: %s is in use by another appliance, pid "
					"%ld (lock %s): refusing to start\n", what, pid, path);
			else
				fprintf(stderr, "headcount: %s is in use by another appliance, pid "
					"unknown (lock %s): refusing to start\n", what, path);
			return 2;
		}
		struct stat a, b;
		if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev) {
			close(fd); /* removed by its last holder as we locked it */
			continue;
		}
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
			fprintf(stderr, "headcount: cannot write %s: %s\n", path, strerror(errno));
			close(fd);
			return 1;
		}
		held[n_held++].fd = fd;
		if (n_held == 1)
			atexit(hc_lock_release); /* every way out of main removes ours */
		return 0;
	}
	fprintf(stderr, "headcount: cannot lock %s: removed %d times in a row\n", path,
		TAKE_TRIES);
	return 1;
}

/*
 * EAL's options as DPDK 22.11 parses them (lib/eal/common/
 * eal_common_options.c: eal_short_options, eal_long_options): the same
 * getopt_long over the same table sees what EAL will see, so the prefix
 * is the one EAL uses however it is spelt ("--file-prefix=x",
 * "--file-prefix x", an abbreviation such as "--file-pre x" or "--fi=x",
 * the last one given; never the value of another option, as in
 * "-a --file-prefix=x"; nothing after "--").  Only whether an option
 * takes a value matters here.  hc_lock_ports checks the guess against
 * the runtime directory EAL made, so a DPDK whose table differs is caught
 * at start, not trusted.
 */
static const char eal_short[] = "a:b:c:s:d:hl:S:m:n:r:v";
#define EAL_FILE_PREFIX 256
#define EAL_HELP 'h'
static const struct option eal_long[] = {
	{"base-virtaddr", 1, NULL, 1},  {"create-uio-dev", 0, NULL, 1},
	{"file-prefix", 1, NULL, EAL_FILE_PREFIX}, {"help", 0, NULL, EAL_HELP},
	{"huge-dir", 1, NULL, 1},       {"huge-unlink", 2, NULL, 1},
	{"iova-mode", 1, NULL, 1},      {"lcores", 1, NULL, 1},
	{"log-level", 1, NULL, 1},      {"trace", 1, NULL, 1},
	{"trace-dir", 1, NULL, 1},      {"trace-bufsz", 1, NULL, 1},
	{"trace-mode", 1, NULL, 1},     {"main-lcore", 1, NULL, 1},
	{"mbuf-pool-ops-name", 1, NULL, 1}, {"no-hpet", 0, NULL, 1},
	{"no-huge", 0, NULL, 1},        {"no-pci", 0, NULL, 1},
	{"no-shconf", 0, NULL, 1},      {"in-memory", 0, NULL, 1},
	{"block", 1, NULL, 1},          {"allow", 1, NULL, 1},
	{"proc-type", 1, NULL, 1},      {"socket-mem", 1, NULL, 1},
	{"socket-limit", 1, NULL, 1},   {"syslog", 1, NULL, 1},
	{"vdev", 1, NULL, 1},           {"vfio-intr", 1, NULL, 1},
	{"vfio-vf-token", 1, NULL, 1},  {"vmware-tsc-map", 0, NULL, 1},
	{"legacy-mem", 0, NULL, 1},     {"single-file-segments", 0, NULL, 1},
	{"match-allocations", 0, NULL, 1}, {"telemetry", 0, NULL, 1},
	{"no-telemetry", 0, NULL, 1},   {"force-max-simd-bitwidth", 1, NULL, 1},
	{"huge-worker-stack", 2, NULL, 1},
	{NULL, 0, NULL, 0},
};

static char locked_prefix[256]; /* the prefix hc_lock_prefix locked */

int hc_lock_eal_prefix(int argc, char **argv, char *out, size_t len)
{
	if (argc < 1)
		return -1;
	/* getopt_long permutes: on a copy, argv stays as given */
	char **copy = calloc((size_t)argc + 1, sizeof(*copy));
	if (copy == NULL)
		return -1;
	memcpy(copy, argv, sizeof(*copy) * (size_t)argc);
	const char *prefix = "rte"; /* EAL's default */
	int help = 0, saved_opterr = opterr, saved_optind = optind, saved_optopt = optopt;
	char *saved_optarg = optarg;
	opterr = 0;  /* EAL names a bad option itself */
	optind = 0;  /* glibc: start afresh */
	int opt;
	while ((opt = getopt_long(argc, copy, eal_short, eal_long, NULL)) != -1) {
		if (opt == '?')
			break; /* EAL stops here too, and fails */
		if (opt == EAL_FILE_PREFIX)
			prefix = optarg;
		else if (opt == EAL_HELP)
			help = 1;
	}
	opterr = saved_opterr;
	optind = saved_optind;
	optopt = saved_optopt;
	optarg = saved_optarg;
	int rc = help ? 1 : (size_t)snprintf(out, len, "%s", prefix) >= len ? -1 : 0;
	free(copy); /* prefix pointed into an argv string, not into copy */
	return rc;
}

int hc_lock_prefix(int argc, char **argv)
{
	char prefix[sizeof(locked_prefix)];
	int rc = hc_lock_eal_prefix(argc, argv, prefix, sizeof(prefix));
	if (rc == 1) {
		eal_help = 1;
		return 0; /* --help: EAL prints and exits, nothing to guard */
	}
	if (rc != 0) {
		fprintf(stderr, "headcount: the EAL file prefix is too long to lock (or no "
			"memory)\n");
		return 1;
	}
	char what[300];
	snprintf(what, sizeof(what), "EAL file prefix '%.200s'", prefix);
	rc = take("prefix", prefix, what);
	if (rc == 0)
		snprintf(locked_prefix, sizeof(locked_prefix), "%s", prefix);
	return rc;
}

/* path made absolute, its directory's symbolic links resolved when it
 * exists (two spellings of one file are one identity): 0, or -1 if it
 * does not fit. */
static int absolute_path(const char *path, char *out, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -1;
	if (realpath(dir, real) == NULL) {
		/* (no such directory yet: the path as given, made absolute) */
		if (path[0] == '/') {
			snprintf(real, sizeof(real), "%s", dir);
		} else {
			char cwd[PATH_MAX];
			if (getcwd(cwd, sizeof(cwd)) == NULL ||
			    (size_t)snprintf(real, sizeof(real), "%s/%s", cwd, dir) >= sizeof(real))
				return -1;
		}
	}
	const char *sep = strcmp(real, "/") == 0 ? "" : "/";
	return (size_t)snprintf(out, len, "%s%s%s", real, sep, base) < len ? 0 : -1;
}

int hc_lock_state_file(const char *path)
{
	if (eal_help || path == NULL || path[0] == '\0' || strcmp(path, "none") == 0)
		return 0; /* (EAL's --help: it prints and exits) */
	char abs[PATH_MAX], what[PATH_MAX + 32], id[PATH_MAX + 64];
	if (absolute_path(path, abs, sizeof(abs)) != 0) {
		fprintf(stderr, "headcount: the state file's path is too long to lock: %s\n", path);
		return 1;
	}
	/* the identity: the directory's device and inode (one directory
	 * under any name, a bind mount too) and the file's name, hashed
	 * whole (the lock file's name keeps [A-Za-z0-9._-] only: two
	 * names would share it); the absolute path where the directory
	 * does not exist yet */
	const char *base = strrchr(abs, '/') + 1; /* (absolute: a '/' in it) */
	char dir[PATH_MAX];
	struct stat st;
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - abs), abs);
	if (stat(dir, &st) == 0)
		snprintf(id, sizeof(id), "%llx-%llx-%016llx-%s", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (unsigned long long)fnv1a(base), base);
	else
		snprintf(id, sizeof(id), "%016llx-%s", (unsigned long long)fnv1a(abs), abs);
	snprintf(what, sizeof(what), "the state file %s", abs);
	return take("state", id, what);
}

int hc_lock_prefix_check(const char *runtime_dir)
{
	if (locked_prefix[0] == '\0' || runtime_dir == NULL || runtime_dir[0] == '\0')
		return 0; /* no prefix locked, or EAL made no runtime directory */
	char want[sizeof(locked_prefix) + 8];
	snprintf(want, sizeof(want), "/dpdk/%s", locked_prefix);
	size_t n = strlen(runtime_dir), w = strlen(want);
	if (n >= w && strcmp(runtime_dir + n - w, want) == 0)
		return 0;
	fprintf(stderr, "headcount: EAL's runtime directory %s is not that of the locked file "
		"prefix '%s' (this DPDK parses its options differently): refusing to start\n",
		runtime_dir, locked_prefix);
	return 1;
}

/* The value of key in devargs "a=1,key=v,b=2" into out; 1 if found. */
static int devarg(const char *devargs, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = devargs;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t v = n - klen - 1;
			if (v >= len)
				v = len - 1;
			memcpy(out, p + klen + 1, v);
			out[v] = '\0';
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int hc_lock_port_identities(const char *bus, const char *dev_name, const char *devargs,
			    unsigned long netns, char (*out)[HC_LOCK_ID_LEN], int max)
{
	static const char *const ifaces[] = {"iface", "rx_iface", "rx_iface_in", "tx_iface"};
	static const char *const files[] = {"rx_pcap", "tx_pcap"};
	char v[HC_LOCK_ID_LEN];
	int n = 0;

	if (strcmp(bus, "vdev") != 0) {
		if (n == max || (size_t)snprintf(out[n], HC_LOCK_ID_LEN, "%s-%s", bus,
						 dev_name) >= HC_LOCK_ID_LEN)
			return -1;
		return 1;
	}
	if (devargs == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(ifaces) / sizeof(ifaces[0]); i++) {
		if (!devarg(devargs, ifaces[i], v, sizeof(v)))
			continue;
		if (n == max || (size_t)snprintf(out[n], HC_LOCK_ID_LEN, "net%lu-if-%s", netns,
						 v) >= HC_LOCK_ID_LEN)
			return -1;
		n++;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!devarg(devargs, files[i], v, sizeof(v)))
			continue;
		char abs[PATH_MAX] = "";
		if (v[0] != '/' && getcwd(abs, sizeof(abs)) == NULL)
			return -1;
		if (n == max || (size_t)snprintf(out[n], HC_LOCK_ID_LEN, "file-%s%s%s", abs,
						 v[0] != '/' ? "/" : "", v) >= HC_LOCK_ID_LEN)
			return -1;
		n++;
	}
	return n;
}

int hc_lock_ports(void)
{
	if (hc_lock_prefix_check(rte_eal_get_runtime_dir()) != 0)
		return 1;
	struct stat ns;
	unsigned long netns = stat("/proc/self/ns/net", &ns) == 0 ? (unsigned long)ns.st_ino : 0;
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		char ids[4][HC_LOCK_ID_LEN];
		if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
			continue; /* port setup says what is wrong with it */
		const struct rte_devargs *da = rte_dev_devargs(info.device);
		const char *name = rte_dev_name(info.device);
		int n = hc_lock_port_identities(rte_bus_name(rte_dev_bus(info.device)), name,
						da != NULL ? da->args : NULL, netns, ids, 4);
		if (n < 0) {
			fprintf(stderr, "headcount: port %u (%s): its identity is too long to "
				"lock\n", port, name);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			char what[HC_LOCK_ID_LEN + 64];
			snprintf(what, sizeof(what), "port %u (%.64s: %.440s)", port, name, ids[i]);
			int rc = take("port", ids[i], what);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

void hc_lock_release(void)
{
	locked_prefix[0] = '\0';
	while (n_held > 0) {
		n_held--;
		unlink(held[n_held].path); /* still locked: nobody holds it after us */
		close(held[n_held].fd);
	}
}
