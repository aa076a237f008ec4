/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config.c - the one config file (app/hc_conffile.c, common/hc_ini.c,
 * the option table, control/hc_policy.c): every error class with its exact
 * "file:line: [section] key: reason", precedence default < file < flag,
 * the [eal] arguments, the example etc/headcount.conf, the generated
 * docs/configuration.md, and a reload's new policy in the seat book.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "hc_auth.h"
#include "hc_conffile.h"
#include "hc_control.h"
#include "hc_ini.h"
#include "hc_options.h"
#include "hc_policy.h"
#include "hc_rooms.h"
#include "hc_unit.h"

static struct hc_boot boot;
static char path[64];
static char err[512];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/hc_config_XXXXXX");
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* hc_boot_load on "headcount --config FILE extra...": its return, err */
static int load(const char *text, const char *extra1, const char *extra2)
{
	char *argv[8] = {"headcount", "--config", path, NULL};
	int argc = 3;
	if (extra1 != NULL)
		argv[argc++] = (char *)(uintptr_t)extra1;
	if (extra2 != NULL)
		argv[argc++] = (char *)(uintptr_t)extra2;
	write_file(text);
	int rc = hc_boot_load(&boot, argc, argv, err, sizeof(err));
	return rc;
}

/* The file text must fail with exactly "PATH" + want. */
static void expect_error(const char *text, const char *want)
{
	char full[600];
	CU_ASSERT_EQUAL(load(text, NULL, NULL), -1);
	snprintf(full, sizeof(full), "%s%s", path, want);
	CU_ASSERT_STRING_EQUAL(err, full);
	if (strcmp(err, full) != 0)
		fprintf(stderr, "\n  got  '%s'\n  want '%s'\n", err, full);
	hc_boot_free(&boot);
	unlink(path);
}

#define OK_AUTH "[appliance]\nno-auth = yes\n"

static void test_ini_errors(void)
{
	expect_error("", ":1: no [section] in the file (an empty file, or not an INI file?)");
	expect_error("; only a comment\n\n",
		     ":3: no [section] in the file (an empty file, or not an INI file?)");
	expect_error("{\n  \"appliance\": {\"ip\": \"1.2.3.4\"}\n}\n",
		     ":1: this looks like JSON; the config file is INI: [section] and key = value "
		     "lines (docs/configuration.md)");
	expect_error("ip = 1.2.3.4\n[appliance]\n",
		     ":1: ip: a key before any [section] (every key belongs to one)");
	expect_error(OK_AUTH "[appliance]\n", ":3: [appliance]: section given twice (first on line 1)");
	expect_error(OK_AUTH "just words\n", ":3: neither '[section]' nor 'key = value'");
	expect_error(OK_AUTH "ip =\n", ":3: [appliance] ip: no value");
	expect_error(OK_AUTH "[pool default]\n", ":3: a section name is letters, digits, '.', '_' and '-'");
}

static void test_appliance_errors(void)
{
	expect_error(OK_AUTH "max-user = 5000\n",
		     ":3: [appliance] max-user: unknown key (see docs/configuration.md)");
	expect_error(OK_AUTH "max-users = 5000\nmax-users = 6000\n",
		     ":4: [appliance] max-users: given twice (first on line 3)");
	expect_error(OK_AUTH "max-users = 10\n",
		     ":3: [appliance] max-users: '10' is not a number in [1024, 1073741824]");
	/* numbers are decimal: a hexadecimal one is refused, not read; so
	 * are a sign, an exponent, a hexadecimal float of seconds */
	expect_error(OK_AUTH "duration = 0x10\n",
		     ":3: [appliance] duration: '0x10' is not a number of seconds in [0, 1e7]");
	expect_error(OK_AUTH "duration = 1e3\n",
		     ":3: [appliance] duration: '1e3' is not a number of seconds in [0, 1e7]");
	expect_error(OK_AUTH "max-users = 0x10000\n",
		     ":3: [appliance] max-users: '0x10000' is not a number in [1024, 1073741824]");
	expect_error(OK_AUTH "max-users = +5000\n",
		     ":3: [appliance] max-users: '+5000' is not a number in [1024, 1073741824]");
	expect_error(OK_AUTH "ip = 1.2.3\n", ":3: [appliance] ip: '1.2.3' is not an IPv4 address");
	expect_error(OK_AUTH "duration = soon\n",
		     ":3: [appliance] duration: 'soon' is not a number of seconds in [0, 1e7]");
	expect_error("[appliance]\nno-auth = maybe\n",
		     ":2: [appliance] no-auth: 'maybe' is none of yes, no, true, false, 1, 0");
	expect_error(OK_AUTH "config = other.conf\n",
		     ":3: [appliance] config: a command-line option only");
	expect_error(OK_AUTH "pool = 0:x:2:10\n",
		     ":3: [appliance] pool: a command-line option only (pools are [pool.NAME] sections)");
	expect_error(OK_AUTH "[network]\nip = 1.2.3.4\n",
		     ":3: [network]: unknown section (eal, appliance, control, pool.NAME)");
}

static void test_policy_errors(void)
{
	expect_error(OK_AUTH "[control]\ncooldown_ms = soon\n",
		     ":4: [control] cooldown_ms: 'soon' is not a number in [0, 65534000]");
	expect_error(OK_AUTH "[control]\ncooldown_ms = +5\n",
		     ":4: [control] cooldown_ms: '+5' is not a number in [0, 65534000]");
	expect_error(OK_AUTH "[control]\ncooldown = 5\n",
		     ":4: [control] cooldown: unknown key (see docs/configuration.md)");
	expect_error(OK_AUTH "[control]\ncooldown_ms = 5\ncooldown_ms = 6\n",
		     ":5: [control] cooldown_ms: given twice (first on line 4)");
	/* no pool 0: named at the first pool section */
	expect_error(OK_AUTH "[pool.lobby]\nid = 3\nmin = 15\nmax = 100\n[pool.duel]\nid = 8\n"
		     "min = 2\nmax = 4\n",
		     ":3: [pool.lobby] id: no pool has id 0, the default pool (PLACEs naming no "
		     "pool go there)");
	/* ... except on one appliance of a sharded system: pools with room
	 * ranges, pool 0 on another appliance */
	CU_ASSERT_EQUAL(load(OK_AUTH "[pool.lobby]\nid = 3\nmin = 15\nmax = 100\nrooms = 1-99\n"
			     "[pool.duel]\nid = 8\nmin = 2\nmax = 4\nrooms = 100-199\n", NULL, NULL), 0);
	hc_boot_free(&boot);
	unlink(path);
	expect_error(OK_AUTH "[pool.lobby]\nid = 3\nmin = 15\nmax = 100\nrooms = 1-99\n"
		     "[pool.duel]\nid = 8\nmin = 2\nmax = 4\nrooms = 99-199\n",
		     ": pools 3 and 8: room ranges 1-99 and 99-199 overlap");
	/* a range's numbers are digits only, as every number here (strtoul
	 * took a sign and spaces) */
	expect_error(OK_AUTH "[pool.a]\nid = 0\nmin = 1\nmax = 4\nrooms = +5-+10\n",
		     ":7: [pool.a] rooms: '+5-+10': expected FIRST-LAST, 1 <= FIRST <= LAST");
	expect_error(OK_AUTH "[pool.a]\nid = 0\nmin = 1\nmax = 4\nrooms = 5- 10\n",
		     ":7: [pool.a] rooms: '5- 10': expected FIRST-LAST, 1 <= FIRST <= LAST");
	expect_error(OK_AUTH "[pool.a]\nid = 0\nmin = 1\nmax = 4\nrooms = 10-5\n",
		     ":7: [pool.a] rooms: '10-5': expected FIRST-LAST, 1 <= FIRST <= LAST");
	/* a range past the room ids: refused before the seat book is built */
	CU_ASSERT_EQUAL(load(OK_AUTH "max-rooms = 1000\n[pool.a]\nid = 0\nmin = 1\nmax = 4\n"
			     "rooms = 1-2000\n", NULL, NULL), -1);
	CU_ASSERT_STRING_EQUAL(err, "pool 0 (a): rooms 1-2000 reach past --max-rooms 1000 "
			       "(room ids are 1 .. max-rooms - 1)");
	hc_boot_free(&boot);
	unlink(path);
	/* an HA pair: backup is the only start, and only with keys */
	CU_ASSERT_EQUAL(load(OK_AUTH "ha = backup\n", NULL, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--ha needs --keys"));
	hc_boot_free(&boot);
	unlink(path);
	/* a peer's state file needs one of our own (else it was ignored) */
	CU_ASSERT_EQUAL(load(OK_AUTH "state-file = none\npeer-state-file = /tmp/peer\n", NULL,
			     NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--peer-state-file needs a --state-file"));
	hc_boot_free(&boot);
	unlink(path);
	/* a pair's takeover holds from the state files: one is needed (none
	 * gave no hold at all, and a warning spoke of one; a review) */
	CU_ASSERT_EQUAL(load(OK_AUTH "ha = backup\nstate-file = none\n", NULL, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--ha needs a --state-file"));
	hc_boot_free(&boot);
	unlink(path);
	/* the pair's tie-breaker: 0 or 1, and only in a pair */
	CU_ASSERT_EQUAL(load(OK_AUTH "ha-box = 1\n", NULL, NULL), -1);
	CU_ASSERT_STRING_EQUAL(err, "--ha-box needs --ha: it names one box of an HA pair");
	hc_boot_free(&boot);
	unlink(path);
	CU_ASSERT_EQUAL(load(OK_AUTH "ha = backup\nha-box = 2\n", NULL, NULL), -1);
	CU_ASSERT_STRING_EQUAL(err, "--ha-box '2': 0 or 1, one for each box of an --ha pair");
	hc_boot_free(&boot);
	unlink(path);
	CU_ASSERT_EQUAL(load(OK_AUTH "ha = master\n", NULL, NULL), -1);
	CU_ASSERT_STRING_EQUAL(err, "--ha 'master': the only start is backup (keepalived makes "
			       "a master)");
	hc_boot_free(&boot);
	unlink(path);
	expect_error(OK_AUTH "[pool.lobby]\nid = 0\nmin = 60\nmax = 100\n",
		     ":6: [pool.lobby] max: pool 0 (lobby): need 1 <= min <= target <= max <= 65535 "
		     "and 2 * min <= max (got min 60, target 50, max 100)");
	expect_error(OK_AUTH "[pool.lobby]\nid = 0\nmin = 15\n",
		     ":3: [pool.lobby] max: missing (id, min and max are needed)");
	expect_error(OK_AUTH "[pool.a]\nid = 0\nmin = 1\nmax = 4\n[pool.b]\nid = 0\nmin = 1\nmax = 4\n",
		     ":8: [pool.b] id: pool id 0 used twice (also [pool.a])");
	expect_error(OK_AUTH "[pool.a]\nid = 0\nmin = 1\nmax = 4\nfil = max\n",
		     ":7: [pool.a] fil: unknown key (see docs/configuration.md)");
	expect_error(OK_AUTH "[pool.a]\nid = 0\nmin = 1\nmax = 4\nfill = most\n",
		     ":7: [pool.a] fill: 'most': neither 'target' nor 'max'");
	expect_error(OK_AUTH "[pool.a]\nid = 70000\nmin = 1\nmax = 4\n",
		     ":4: [pool.a] id: '70000' is not a number in [0, 65535]");
}

static void test_eal(void)
{
	expect_error(OK_AUTH "[eal]\nlcore = 0,1\n",
		     ":4: [eal] lcore: unknown key (see docs/configuration.md; 'args' takes any EAL "
		     "argument)");
	expect_error(OK_AUTH "[eal]\nno-huge = sometimes\n",
		     ":4: [eal] no-huge: 'sometimes' is none of yes, no, true, false, 1, 0");
	expect_error(OK_AUTH "[eal]\nmemory = lots\n", ":4: [eal] memory: 'lots' is not a number in "
		     "[1, 1048576]");
	expect_error(OK_AUTH "[eal]\nmemory = +64\n", ":4: [eal] memory: '+64' is not a number in "
		     "[1, 1048576]");
	expect_error(OK_AUTH "[eal]\nlcores = 0,1\nlcores = 0-3\n",
		     ":5: [eal] lcores: given twice (first on line 4)");

	/* the arguments, in file order; vdev repeats; no = nothing */
	CU_ASSERT_EQUAL(load(OK_AUTH "[eal]\nlcores = 0@0,1@1\nmemory = 512\nno-huge = yes\n"
			     "no-pci = no\nvdev = net_ring0\nvdev = net_ring1\n"
			     "args = --no-telemetry  -d x\n", NULL, NULL), 0);
	const char *want[] = {"headcount", "--lcores", "0@0,1@1", "-m", "512", "--no-huge",
			      "--vdev", "net_ring0", "--vdev", "net_ring1", "--no-telemetry",
			      "-d", "x"};
	CU_ASSERT_EQUAL(boot.eal_argc, 13);
	for (int i = 0; i < 13 && i < boot.eal_argc; i++)
		CU_ASSERT_STRING_EQUAL(boot.eal_argv[i], want[i]);
	CU_ASSERT_PTR_NULL(boot.eal_argv[boot.eal_argc]);
	CU_ASSERT_EQUAL(boot.eal_from_file, 1);
	hc_boot_free(&boot);

	/* EAL arguments on the command line replace [eal] whole */
	write_file(OK_AUTH "[eal]\nlcores = 0@0,1@1\n");
	char *argv[] = {"headcount", "-l", "0,1", "--", "--config", path};
	CU_ASSERT_EQUAL(hc_boot_load(&boot, 6, argv, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(boot.eal_argc, 3);
	CU_ASSERT_STRING_EQUAL(boot.eal_argv[1], "-l");
	CU_ASSERT_STRING_EQUAL(boot.eal_argv[2], "0,1");
	CU_ASSERT_EQUAL(boot.eal_from_file, 0);
	hc_boot_free(&boot);
	unlink(path);
}

static void test_precedence(void)
{
	const char *text = "[appliance]\nno-auth = yes\nmax-users = 4096\nudp-port = 7200\n"
			   "[control]\ncooldown_ms = 5000\n"
			   "[pool.lobby]\nid = 0\nmin = 5\nmax = 20\n";
	/* file over default */
	CU_ASSERT_EQUAL_FATAL(load(text, NULL, NULL), 0);
	CU_ASSERT_EQUAL(boot.cfg.max_users, 4096);
	CU_ASSERT_EQUAL(boot.cfg.udp_port, 7200);
	CU_ASSERT_EQUAL(boot.cfg.max_rooms, 262144);     /* the default */
	CU_ASSERT_EQUAL(boot.pol.cooldown_ms, 5000);
	CU_ASSERT_EQUAL(boot.pol.balance_interval_ms, 1000); /* the default */
	CU_ASSERT_EQUAL(boot.pol.n_pools, 1);
	CU_ASSERT_EQUAL(hc_policy_pool(&boot.pol, 0)->max, 20);
	CU_ASSERT_EQUAL(hc_policy_pool(&boot.pol, 0)->target, 10);
	CU_ASSERT_EQUAL(boot.eal_argc, 1);               /* no [eal]: none */
	CU_ASSERT_EQUAL(boot.cfg.mbufs_explicit, 0);     /* sized to the workers */
	hc_boot_free(&boot);
	unlink(path);
	/* mbufs from the file is as given, as --mbufs is */
	CU_ASSERT_EQUAL_FATAL(load("[appliance]\nno-auth = yes\nmbufs = 8191\n", NULL, NULL), 0);
	CU_ASSERT_EQUAL(boot.cfg.mbufs, 8191);
	CU_ASSERT_EQUAL(boot.cfg.mbufs_explicit, 1);
	hc_boot_free(&boot);
	unlink(path);
	/* a leading zero is decimal still, in the file and on the command
	 * line (not octal: 07100 would be 3648) */
	CU_ASSERT_EQUAL_FATAL(load("[appliance]\nno-auth = yes\nudp-port = 07100\n",
				   "--max-users=010000", NULL), 0);
	CU_ASSERT_EQUAL(boot.cfg.udp_port, 7100);
	CU_ASSERT_EQUAL(boot.cfg.max_users, 10000);
	hc_boot_free(&boot);
	unlink(path);
	/* flag over file; --pool after the file's pools */
	CU_ASSERT_EQUAL_FATAL(load(text, "--max-users=8192", "--pool=0:big:10:40"), 0);
	CU_ASSERT_EQUAL(boot.cfg.max_users, 8192);
	CU_ASSERT_EQUAL(boot.cfg.udp_port, 7200);
	CU_ASSERT_STRING_EQUAL(hc_policy_pool(&boot.pol, 0)->name, "big");
	CU_ASSERT_EQUAL(hc_policy_pool(&boot.pol, 0)->max, 40);
	hc_boot_free(&boot);
	unlink(path);
	/* --keys on the command line wins over the file's no-auth */
	char keys[] = "/tmp/hc_config_keys_XXXXXX";
	int fd = mkstemp(keys); /* mode 600 */
	CU_ASSERT_FATAL(fd >= 0);
	const char *line = "1 0 000102030405060708090a0b0c0d0e0f\n";
	CU_ASSERT(write(fd, line, strlen(line)) == (ssize_t)strlen(line));
	close(fd);
	char opt[64];
	snprintf(opt, sizeof(opt), "--keys=%s", keys);
	CU_ASSERT_EQUAL(load(text, opt, NULL), 0);
	CU_ASSERT_EQUAL(boot.cfg.no_auth, 0);
	CU_ASSERT_PTR_NOT_NULL(boot.ring);
	CU_ASSERT_EQUAL(boot.ring != NULL ? boot.ring->n_keys : 0, 1);
	hc_boot_free(&boot);
	unlink(path);
	/* a keys file others may read: refused, at the file's keys line */
	chmod(keys, 0644);
	char text2[256], want[300];
	snprintf(text2, sizeof(text2), "[appliance]\nkeys = %s\n", keys);
	snprintf(want, sizeof(want), ":2: [appliance] keys: %s: mode 0644 lets group or others "
		 "at the keys; chmod 600 it", keys);
	expect_error(text2, want);
	unlink(keys);
}

static void test_no_auth_choice(void)
{
	/* that one has no file:line (it is the absence of two keys) */
	CU_ASSERT_EQUAL(load("[appliance]\nmax-users = 4096\n", NULL, NULL), -1);
	CU_ASSERT_STRING_EQUAL(err, "give exactly one of --keys FILE (datagrams are authenticated) "
			       "and --no-auth (they are not), as flags or [appliance] keys");
	hc_boot_free(&boot);
	unlink(path);
	CU_ASSERT_EQUAL(load("[appliance]\nmax-users = 4096\n", "--no-auth", NULL), 0);
	hc_boot_free(&boot);
	unlink(path);
}

/* A private file (mode 600) holding text, its name in name[32]. */
static void private_file(char name[32], const char *text)
{
	strcpy(name, "/tmp/hc_config_key_XXXXXX");
	int fd = mkstemp(name); /* mode 600 */
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* The config file (path) rewritten in place, as an operator edits it. */
static void rewrite(const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* A reload with these running key files reads the gateways' keys there
 * (gateways of them) and names no new path. */
static void reload_reads_running(const char *keys_file, const char *state_key_file,
				 uint32_t gateways)
{
	static struct hc_policy np;
	struct hc_reload_keys k = {.keys_file = keys_file, .state_key_file = state_key_file};
	CU_ASSERT_EQUAL(hc_conffile_reload(&boot, &np, &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.ring != NULL ? k.ring->n_gateways : 0, gateways);
	CU_ASSERT_PTR_NULL(k.new_keys_file);
	CU_ASSERT_PTR_NULL(k.new_state_key_file);
	free(k.ring);
}

/* A reload reads the keys from the path the file names now, and hands
 * the new paths back (the control core follows them once the keys are in
 * use); the same path gives none; a bad new file refuses the reload with
 * its file:line and nothing allocated; turning keys off is a restart's
 * (the running file read again). */
static void test_reload_key_paths(void)
{
	static const char *gw1 = "1 0 000102030405060708090a0b0c0d0e0f\n";
	static const char *gw2 = "2 0 101112131415161718191a1b1c1d1e1f\n";
	static const char *sk1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	char keys_a[32], keys_b[32], sk_a[32], sk_b[32], both[128], text[256];
	static struct hc_policy np;
	struct hc_reload_keys k;

	private_file(keys_a, gw1);
	snprintf(both, sizeof(both), "%s%s", gw1, gw2);
	private_file(keys_b, both);
	private_file(sk_a, sk1);
	private_file(sk_b, sk1);
	snprintf(text, sizeof(text), "[appliance]\nkeys = %s\nstate-key = %s\n", keys_a, sk_a);
	CU_ASSERT_EQUAL_FATAL(load(text, NULL, NULL), 0);
	CU_ASSERT_EQUAL(boot.ring != NULL ? boot.ring->n_gateways : 0, 1);

	/* both paths changed: the keys read from the new one */
	snprintf(text, sizeof(text), "[appliance]\nkeys = %s\nstate-key = %s\n", keys_b, sk_b);
	rewrite(text);
	k = (struct hc_reload_keys){.keys_file = keys_a, .state_key_file = sk_a};
	CU_ASSERT_EQUAL(hc_conffile_reload(&boot, &np, &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.ring != NULL ? k.ring->n_gateways : 0, 2);
	CU_ASSERT(k.new_keys_file != NULL && strcmp(k.new_keys_file, keys_b) == 0);
	CU_ASSERT(k.new_state_key_file != NULL && strcmp(k.new_state_key_file, sk_b) == 0);
	free(k.ring);
	free(k.new_keys_file);
	free(k.new_state_key_file);

	/* followed: the same paths again give no new one */
	reload_reads_running(keys_b, sk_b, 2);

	/* a new path others may read: refused at its line, nothing kept */
	chmod(keys_a, 0644);
	snprintf(text, sizeof(text), "[appliance]\nkeys = %s\nstate-key = %s\n", keys_a, sk_a);
	rewrite(text);
	k = (struct hc_reload_keys){.keys_file = keys_b, .state_key_file = sk_b};
	CU_ASSERT_EQUAL(hc_conffile_reload(&boot, &np, &k, err, sizeof(err)), -1);
	char want[300];
	snprintf(want, sizeof(want), "%s:2: [appliance] keys: %s: mode 0644 lets group or "
		 "others at the keys; chmod 600 it", path, keys_a);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_PTR_NULL(k.ring);
	CU_ASSERT_PTR_NULL(k.new_keys_file);
	CU_ASSERT_PTR_NULL(k.new_state_key_file);

	/* keys turned off: a restart's; the running file is read again, and
	 * the warnings name the keys removed without a line (none holds them) */
	rewrite("[appliance]\nno-auth = yes\n");
	hc_test_log_begin();
	reload_reads_running(keys_b, sk_b, 2);
	char *logged = hc_test_log_end();
	char line[300];
	snprintf(line, sizeof(line), "%s: [appliance] keys: removed, needs a restart (ignored)",
		 path);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged, line));
	snprintf(line, sizeof(line), "%s:2: [appliance] no-auth: changed, needs a restart "
		 "(ignored)", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged, line));
	CU_ASSERT_PTR_NULL(strstr(logged, ":0: "));
	free(logged);

	hc_boot_free(&boot);
	unlink(path);
	unlink(keys_a);
	unlink(keys_b);
	unlink(sk_a);
	unlink(sk_b);
}

static void test_example_file(void)
{
	char *argv[] = {"headcount", "--config", HC_SOURCE_ROOT "/etc/headcount.conf",
			"--check-config"};
	CU_ASSERT_EQUAL(hc_boot_load(&boot, 4, argv, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(boot.cfg.check_config, 1);
	CU_ASSERT_EQUAL(boot.pol.n_pools, 2);
	CU_ASSERT_PTR_NOT_NULL(hc_policy_pool(&boot.pol, 0));
	CU_ASSERT_EQUAL(boot.eal_from_file, 1);
	hc_boot_free(&boot);
}

/* docs/configuration.md is exactly what the tables generate. */
static void test_doc_is_generated(void)
{
	char *gen = NULL;
	size_t gen_len = 0;
	FILE *m = open_memstream(&gen, &gen_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_config_doc(m);
	fclose(m);
	FILE *f = fopen(HC_SOURCE_ROOT "/docs/configuration.md", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	char *doc = malloc(gen_len + 2);
	size_t n = fread(doc, 1, gen_len + 1, f);
	fclose(f);
	CU_ASSERT_EQUAL(n, gen_len);
	CU_ASSERT(n == gen_len && memcmp(doc, gen, n) == 0);
	if (n != gen_len || memcmp(doc, gen, n) != 0)
		fprintf(stderr, "\n  docs/configuration.md differs from `headcount --config-doc`: "
			"regenerate it\n");
	free(doc);
	free(gen);
}

/* A reload's policy in the seat book: a lowered max, an added pool, a
 * removed pool (refused while it holds users). */
static void test_repool(void)
{
	static struct hc_policy p0, p1, p2;
	static struct hc_rooms r;
	static struct hc_rooms_repool x;
	char e[256];
	uint64_t hz = rte_get_tsc_hz(), now = rte_rdtsc();

	hc_policy_defaults(&p0);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&p0, "0:default:5:40:30", e, sizeof(e)), 0);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&p0, "7:duel:2:4", e, sizeof(e)), 0);
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&r, "hc_cfg_book", &p0, 64, 1024, hz), 0);
	uint32_t a = hc_rooms_open(&r, 0), b = hc_rooms_open(&r, 0), d = hc_rooms_open(&r, 1);
	for (uint64_t u = 1; u <= 30; u++)
		CU_ASSERT_EQUAL(hc_rooms_record_join(&r, a, 0, u, now), 1);
	for (uint64_t u = 31; u <= 42; u++)
		CU_ASSERT_EQUAL(hc_rooms_record_join(&r, b, 0, u, now), 1);
	CU_ASSERT_EQUAL(hc_rooms_record_join(&r, d, 1, 100, now), 1);

	/* removing the duel pool while it holds a user: refused, nothing changed */
	p1 = p0;
	hc_policy_defaults(&p1);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&p1, "0:default:5:25:20", e, sizeof(e)), 0);
	CU_ASSERT_EQUAL(hc_rooms_repool_prepare(&r, &p1, &x, e, sizeof(e)), -1);
	CU_ASSERT_STRING_EQUAL(e, "pool 7 (duel) is gone from the file but holds 1 users and 0 "
			       "reserved seats in 1 rooms: a pool is removed only once it is empty");
	CU_ASSERT_PTR_EQUAL(r.pol, &p0);

	/* a room range for the default pool that leaves out its live room b:
	 * refused, nothing changed; one around both rooms is taken (checked
	 * by prepare only: aborted) */
	p1 = p0;
	p1.pool[0].room_first = a < b ? a : b;
	p1.pool[0].room_last = a < b ? a : b;
	p1.pool[1].room_first = 60;
	p1.pool[1].room_last = 63;
	uint32_t left_out = a < b ? b : a;
	CU_ASSERT_EQUAL(hc_rooms_repool_prepare(&r, &p1, &x, e, sizeof(e)), -1);
	char want[256];
	snprintf(want, sizeof(want), "pool 0 (default): room %u (%u users, 0 reserved seats) lies "
		 "outside its new room ids %u-%u: a range may change only around the pool's "
		 "live rooms (try again once they are empty and retired)", left_out,
		 left_out == a ? 30 : 12, p1.pool[0].room_first, p1.pool[0].room_first);
	CU_ASSERT_STRING_EQUAL(e, want);
	CU_ASSERT_PTR_EQUAL(r.pol, &p0);
	p1.pool[0].room_first = 1;
	p1.pool[0].room_last = 59;
	CU_ASSERT_EQUAL(hc_rooms_repool_prepare(&r, &p1, &x, e, sizeof(e)), -1); /* duel's d */
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "pool 7 (duel): room "));
	p1.pool[1].room_first = d;
	p1.pool[1].room_last = 63;
	p1.pool[0].room_last = d - 1;
	CU_ASSERT_FATAL(a < d && b < d); /* ids open in order */
	CU_ASSERT_EQUAL(hc_rooms_repool_prepare(&r, &p1, &x, e, sizeof(e)), 0);
	hc_rooms_repool_abort(&x);

	/* max 40 -> 25, a new pool 9 before duel in the file: indices follow ids */
	hc_policy_defaults(&p2);
	p2.n_pools = 0;
	memset(p2.index_of, HC_NO_POOL, sizeof(p2.index_of));
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&p2, "9:raid:10:40", e, sizeof(e)), 0);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&p2, "0:default:5:25:20", e, sizeof(e)), 0);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&p2, "7:duel:2:6", e, sizeof(e)), 0);
	p2.reservation_ttl_ms = 1000;
	CU_ASSERT_EQUAL_FATAL(hc_rooms_repool_prepare(&r, &p2, &x, e, sizeof(e)), 0);
	hc_rooms_repool_commit(&r, &p2, &x, hz, now);
	CU_ASSERT_PTR_EQUAL(r.pol, &p2);
	CU_ASSERT_EQUAL(r.ttl_tsc, hz / 1000 * 1000);
	unsigned def = p2.index_of[0], duel = p2.index_of[7];
	CU_ASSERT_EQUAL(def, 1);
	CU_ASSERT_EQUAL(r.room[a].pool, def);
	CU_ASSERT_EQUAL(r.room[d].pool, duel);
	CU_ASSERT_EQUAL(r.pool[def].levels, 26);
	CU_ASSERT_EQUAL(r.pool[def].rooms, 2);
	CU_ASSERT_EQUAL(r.pool[def].users, 42);
	CU_ASSERT_EQUAL(r.pool[duel].users, 1);
	CU_ASSERT_EQUAL(r.pool[p2.index_of[9]].rooms, 0);
	CU_ASSERT_EQUAL(r.room[a].level, 25); /* 30 users: in the top bucket */
	CU_ASSERT_EQUAL(r.room[b].level, 12);
	CU_ASSERT_EQUAL(r.pool[def].head[25], a);
	/* admission now refuses the room of 30 (above the new max) */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, a, def, 500, now), 0);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, b, def, 501, now), 1);
	/* the new pool places */
	CU_ASSERT_NOT_EQUAL(hc_rooms_place(&r, p2.index_of[9], 600, now), 0);
	hc_rooms_free(&r);
}


/* Repeats found in linear time: 20,000 keys over two sections (the same
 * names in both are no repeat), three keys given again; every entry's
 * first line exact, and names compared only on a hash match (a pairwise
 * search would compare about 10^8 pairs). */
static void test_ini_repeats_linear(void)
{
	enum { KEYS = 10000 };
	size_t cap = 64 + 2 * KEYS * 24;
	char *text = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	size_t n = 0;
	for (unsigned s = 0; s < 2; s++) {
		n += (size_t)snprintf(text + n, cap - n, "[sec%u]\n", s);
		for (unsigned k = 0; k < KEYS; k++)
			n += (size_t)snprintf(text + n, cap - n, "key%u = %u\n", k, k);
	}
	/* in [sec1] (open): key7, key9999 and key7 again */
	n += (size_t)snprintf(text + n, cap - n, "key7 = a\nkey9999 = b\nkey7 = c\n");
	struct hc_ini ini;
	char e[256];
	CU_ASSERT_EQUAL_FATAL(hc_ini_parse(&ini, "mem", text, e, sizeof(e)), 0);
	CU_ASSERT_EQUAL(ini.n, 2 * KEYS + 3);
	unsigned wrong = 0;
	for (unsigned i = 0; i < 2 * KEYS; i++)
		wrong += hc_ini_earlier(&ini, i) != 0;
	CU_ASSERT_EQUAL(wrong, 0);
	/* [sec1] opens on line KEYS + 2; its key k is on line KEYS + 3 + k */
	CU_ASSERT_EQUAL(hc_ini_earlier(&ini, 2 * KEYS), KEYS + 3 + 7);
	CU_ASSERT_EQUAL(hc_ini_earlier(&ini, 2 * KEYS + 1), KEYS + 3 + 9999);
	CU_ASSERT_EQUAL(hc_ini_earlier(&ini, 2 * KEYS + 2), KEYS + 3 + 7);
	CU_ASSERT_EQUAL(ini.e[2 * KEYS + 2].line, 2 * KEYS + 5);
	CU_ASSERT(ini.compares >= 3 && ini.compares <= 16);
	if (ini.compares > 16)
		fprintf(stderr, "\n  %lu name comparisons\n", ini.compares);
	hc_ini_free(&ini);
	/* a section again: still named with its first line */
	CU_ASSERT_EQUAL(hc_ini_parse(&ini, "mem", "[a]\nx = 1\n[b]\nx = 2\n[a]\n", e,
				     sizeof(e)), -1);
	CU_ASSERT_STRING_EQUAL(e, "mem:5: [a]: section given twice (first on line 1)");
	free(text);
}

/* Which reader of a FIFO at the path is run in a child (the open of a
 * FIFO with no writer blocks): 0 the config file, 1 the keys file, 2 a
 * file key's file. */
static int read_fifo_in_child(int which, const char *path)
{
	char err[256];
	switch (which) {
	case 0: {
		struct hc_ini ini;
		int rc = hc_ini_read(&ini, path, err, sizeof(err));
		return rc == -1 && strstr(err, "not a regular file") != NULL ? 0 : 1;
	}
	case 1:
		return hc_auth_keys_load(path, err, sizeof(err)) == NULL &&
				       strstr(err, "not a regular file") != NULL ? 0 : 1;
	default: {
		uint8_t key[HC_AUTH_FILE_KEYS_MAX][HC_AUTH_FILE_KEY_LEN];
		unsigned n;
		return hc_auth_file_key_load(path, key, &n, err, sizeof(err)) == -1 &&
				       strstr(err, "not a regular file") != NULL ? 0 : 1;
	}
	}
}

/* A FIFO put where the config, the keys or the state key file is read (a
 * reload reads them on the control lcore) is refused at once, "not a
 * regular file", never waited on: the open blocked for a writer before
 * the check could run, and the control core with it.  Each reader runs
 * in a child, given 10 s (a blocked one is killed: the test fails). */
static void test_fifo_refused(void)
{
	char dir[] = "/tmp/hc-fifo-XXXXXX", path[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	for (int which = 0; which < 3; which++) {
		pid_t pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0)
			_exit(read_fifo_in_child(which, path));
		int status = -1;
		pid_t got = 0;
		for (int i = 0; i < 1000 && got == 0; i++) {
			got = waitpid(pid, &status, WNOHANG);
			if (got == 0)
				usleep(10000);
		}
		if (got == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		CU_ASSERT_EQUAL(got, pid);
		CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	unlink(path);
	rmdir(dir);
}

static CU_TestInfo tests[] = {
	{"ini: no section, JSON, key outside a section, bad lines", test_ini_errors},
	{"ini: repeated keys and sections found in linear time", test_ini_repeats_linear},
	{"[appliance]: unknown, repeated, bad values, command-line only", test_appliance_errors},
	{"[control], [pool.NAME]: errors, pool 0 missing", test_policy_errors},
	{"[eal]: errors and the EAL arguments", test_eal},
	{"precedence: default < file < flag; keys", test_precedence},
	{"exactly one of keys and no-auth", test_no_auth_choice},
	{"reload: key files read from the paths the file names now", test_reload_key_paths},
	{"etc/headcount.conf passes --check-config", test_example_file},
	{"docs/configuration.md is generated", test_doc_is_generated},
	{"reload: the seat book takes a new policy", test_repool},
	{"a FIFO at the config's or a key file's path: refused, not waited on", test_fifo_refused},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_config = {"config", NULL, NULL, NULL, NULL, tests};
