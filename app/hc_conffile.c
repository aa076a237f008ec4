/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_conffile.c - the one config file (see hc_conffile.h): its sections
 * dispatched to their owners ([eal] here, [appliance] to the option table
 * in hc_options.c, [control] and [pool.NAME] to control/hc_policy.c), the
 * command line applied on top, the checks across them (pool 0, keys), the
 * EAL argument list, --check-config and the SIGHUP reload.
 *
 * The file is read by common/hc_ini.c, a strict reader with line numbers
 * (rte_cfgfile has none).  Slow path: it runs before EAL and, on a
 * reload, on the control lcore between two iterations of its loop.
 */
#include "hc_conffile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_control.h"
#include "hc_decimal.h"
#include "hc_log.h"
#include "hc_options.h"

/* [eal]: one row per key, the EAL option it becomes. */
enum eal_kind {
	EAL_VALUE,  /* "--flag value"                     */
	EAL_NUMBER, /* the same, a number in [1, 1<<20]   */
	EAL_BOOL,   /* yes: "--flag"                      */
	EAL_LIST,   /* repeatable "--flag value"          */
	EAL_ARGS,   /* raw arguments split at white space */
};

static const struct {
	const char *key, *flag;
	enum eal_kind kind;
	const char *help;
} eal_keys[] = {
	{"lcores", "--lcores", EAL_VALUE, "lcores and their CPUs (the first is the control "
	 "core; at least one worker more), e.g. 0@0,1@1"},
	{"main-lcore", "--main-lcore", EAL_VALUE, "the control core's lcore id"},
	{"memory", "-m", EAL_NUMBER, "MiB of memory to reserve"},
	{"file-prefix", "--file-prefix", EAL_VALUE, "names the run's shared files and its "
	 "telemetry socket"},
	{"huge-dir", "--huge-dir", EAL_VALUE, "hugetlbfs mount to use"},
	{"no-huge", "--no-huge", EAL_BOOL, "use anonymous memory, no hugepages"},
	{"no-pci", "--no-pci", EAL_BOOL, "no PCI bus (virtual devices only)"},
	{"no-shconf", "--no-shconf", EAL_BOOL, "no shared config file"},
	{"in-memory", "--in-memory", EAL_BOOL, "no files at all in hugetlbfs"},
	{"iova-mode", "--iova-mode", EAL_VALUE, "pa or va"},
	{"allow", "-a", EAL_LIST, "a PCI device to use (repeatable)"},
	{"vdev", "--vdev", EAL_LIST, "a virtual device, e.g. net_af_packet0,iface=eth1 "
	 "(repeatable)"},
	{"log-level", "--log-level", EAL_LIST, "a log level, e.g. lib.eal:warning "
	 "(repeatable)"},
	{"args", NULL, EAL_ARGS, "any other EAL arguments, split at white space (no "
	 "quoting): the escape hatch"},
};
#define N_EAL (sizeof(eal_keys) / sizeof(eal_keys[0]))

const char hc_config_doc_intro[] =
"# Configuration\n"
"\n"
"headcount reads its whole configuration from one INI file, `--config FILE`,\n"
"and from flags; a flag wins over the file, the file over the built-in\n"
"default.  `headcount --config FILE` alone starts the appliance: the EAL\n"
"arguments come from the file's `[eal]` section, unless the command line\n"
"has EAL arguments of its own (`headcount EAL-ARGS -- OPTIONS`), which then\n"
"replace the whole `[eal]` section.  An example: `etc/headcount.conf`.\n"
"\n"
"## Sections\n"
"\n"
"- `[eal]`: the DPDK EAL arguments (lcores, memory, devices, `args` for any\n"
"  other).\n"
"- `[appliance]`: the appliance's options, one key per flag of the option\n"
"  table (`app/hc_options.c`), the same name without `--`.\n"
"- `[control]`: the control core's timers.\n"
"- `[pool.NAME]`: one per pool (NAME: its name, 1 to 31 characters).  The\n"
"  file's pools replace the built-in pool; `--pool` flags add or replace\n"
"  pools after them.  Pool 0 (the default pool: PLACEs that name no pool)\n"
"  must exist, except when the pools have room ranges (`rooms`: pools\n"
"  spread over appliances, docs/scaling-shards.md), where pool 0 may live\n"
"  on another appliance.\n"
"\n"
"Syntax: `[section]`, `key = value`, blank lines, comments from `;` or `#`\n"
"(at the start of a line or after white space) to the end of the line.\n"
"Yes/no keys take `yes`, `no`, `true`, `false`, `1`, `0`.  Numbers are\n"
"decimal digits (`07100` is 7100; `0x1000`, `+5` and `1e3` are refused;\n"
"seconds may have a point: `0.3`), here and on the command line.  File\n"
"names are taken as written (a relative one from the working directory).\n"
"\n"
"## Strict\n"
"\n"
"Every error is one line, `FILE:LINE: [section] key: reason`, and exits\n"
"with status 2 before EAL starts (so before any port opens): an unknown\n"
"section or key, a key given twice (only `[eal]` `vdev`, `allow` and\n"
"`log-level` repeat), a bad value (type or range), a key before any\n"
"section, a file without sections, a JSON file, a pool breaking\n"
"1 <= min <= target <= max and 2 * min <= max, two pools with one id, no\n"
"pool 0 (unless the pools have room ranges), a keys file that cannot be read or that group or others may read,\n"
"a config file that is not a regular file (a FIFO, a pipe, `/dev/stdin`: its\n"
"open could wait for a writer, on the control core at a reload).\n"
"The reader is `common/hc_ini.c`, not DPDK's rte_cfgfile: rte_cfgfile keeps\n"
"no line numbers, takes keys before any section and the last of two equal\n"
"keys silently.\n"
"\n"
"`headcount --config FILE --check-config` checks all of it (the file, the\n"
"flags, the pools, the keys file) without starting EAL or touching the\n"
"network, prints `config OK: FILE` and exits 0, or prints the error and\n"
"exits 2.\n"
"\n"
"## Keys\n"
"\n"
"Gateway keys (docs/protocol.md) stay in their own file, named by the\n"
"`[appliance]` key `keys` (or `--keys`); the config file holds no secret, so\n"
"it may be readable by anyone and kept in version control.  The keys file\n"
"must be a regular file that neither group nor others may read or write,\n"
"owned by us or root: otherwise headcount refuses to start (and a reload\n"
"is refused).\n"
"\n"
"## Reload (SIGHUP)\n"
"\n"
"With `--config`, SIGHUP makes the control core read the file again (with\n"
"the same flags) between two iterations of its loop and apply, all or\n"
"nothing: the pools (`[pool.NAME]`, `--pool`), the `[control]` timers and\n"
"the keys (the keys file the file names, read again: a new path is\n"
"followed, and the state key's likewise; turning keys on or off needs a\n"
"restart).  Users, rooms, reservations and gateway sessions stay.  A pool\n"
"may be added, or its min / target / max / fill changed: rooms above a\n"
"lowered max are balanced down to it by the control core's next plans\n"
"(admission refuses new joins above it at once: every seat lease is asked\n"
"back at the reload, and a seat kept before it, a placement's or a\n"
"move's, is taken only while the room's users and leased seats leave\n"
"room below the new max, else refused, `ctl_kept_seats_refused`; JOINs\n"
"a worker applied on a lease before it read the revoke are seated and\n"
"counted, `ctl_leased_over_max`).  A pool may be removed\n"
"once it holds no user and no reserved seat (its empty rooms are retired);\n"
"one that still does makes the reload refused, as does a pool's `rooms`\n"
"range changed so that a live room of the pool falls outside it.  A\n"
"changed timer applies to what starts after the reload; a shortened one\n"
"also cuts what is in flight to its new length from the reload\n"
"(reservations, directives, and a lowered `directive_retries` their\n"
"resends), a lengthened one does not extend it.\n"
"Any error refuses the whole reload, logs it and keeps the running config:\n"
"`config_reload_errors` counts these, `config_reloads` the reloads applied\n"
"(`/headcount/stats`, `/headcount/control`, `--dump-stats` `ctl_*`).  Keys\n"
"marked `restart` below (sizes, addresses, files, the whole `[eal]`\n"
"section) are not applied by a reload: a changed one is logged at its line\n"
"as `changed, needs a restart (ignored)`, a removed one as `removed, needs\n"
"a restart (ignored)`.  Without `--config`, SIGHUP reloads only the key\n"
"files (`--keys`, `--state-key`), from their paths now.\n";

static void eal_fail(char *err, size_t errlen, const struct hc_ini *ini, unsigned line,
		     const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void eal_fail(char *err, size_t errlen, const struct hc_ini *ini, unsigned line,
		     const char *key, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: [eal] %s: %s", ini->path, line, key, why);
}

/* Check [eal]; with argv != NULL also append its arguments (pointing
 * into ini; args split into *copy).  0, or -1 with the error in err. */
static int eal_section(const struct hc_ini *ini, char **argv, int *argc, char **copy,
		       char *err, size_t errlen)
{
	for (unsigned i = 0; i < ini->n; i++) {
		const struct hc_ini_entry *e = &ini->e[i];
		if (strcmp(e->section, "eal") != 0)
			continue;
		size_t k = 0;
		while (k < N_EAL && strcmp(eal_keys[k].key, e->key) != 0)
			k++;
		if (k == N_EAL) {
			eal_fail(err, errlen, ini, e->line, e->key, "unknown key (see "
				 "docs/configuration.md; 'args' takes any EAL argument)");
			return -1;
		}
		unsigned first = hc_ini_earlier(ini, i);
		if (first != 0 && eal_keys[k].kind != EAL_LIST) {
			eal_fail(err, errlen, ini, e->line, e->key, "given twice (first on line %u)",
				 first);
			return -1;
		}
		int on = 1;
		if (eal_keys[k].kind == EAL_BOOL) {
			if (strcmp(e->value, "yes") == 0 || strcmp(e->value, "true") == 0 ||
			    strcmp(e->value, "1") == 0) {
				on = 1;
			} else if (strcmp(e->value, "no") == 0 || strcmp(e->value, "false") == 0 ||
				   strcmp(e->value, "0") == 0) {
				on = 0;
			} else {
				eal_fail(err, errlen, ini, e->line, e->key, "'%s' is none of yes, no, "
					 "true, false, 1, 0", e->value);
				return -1;
			}
		}
		if (eal_keys[k].kind == EAL_NUMBER) {
			uint64_t v;
			if (hc_decimal_u64(e->value, 1, 1u << 20, &v) != 0) {
				eal_fail(err, errlen, ini, e->line, e->key, "'%s' is not a number in "
					 "[1, 1048576]", e->value);
				return -1;
			}
		}
		if (argv == NULL || !on)
			continue;
		if (eal_keys[k].kind == EAL_ARGS) {
			*copy = strdup(e->value);
			if (*copy == NULL) {
				eal_fail(err, errlen, ini, e->line, e->key, "out of memory");
				return -1;
			}
			char *save = NULL;
			for (char *t = strtok_r(*copy, " \t", &save); t != NULL;
			     t = strtok_r(NULL, " \t", &save)) {
				if (*argc >= HC_EAL_MAX_ARGS) {
					eal_fail(err, errlen, ini, e->line, e->key, "more than %d EAL "
						 "arguments", HC_EAL_MAX_ARGS);
					return -1;
				}
				argv[(*argc)++] = t;
			}
			continue;
		}
		if (*argc + 2 > HC_EAL_MAX_ARGS) {
			eal_fail(err, errlen, ini, e->line, e->key, "more than %d EAL arguments",
				 HC_EAL_MAX_ARGS);
			return -1;
		}
		argv[(*argc)++] = (char *)(uintptr_t)eal_keys[k].flag;
		if (eal_keys[k].kind != EAL_BOOL)
			argv[(*argc)++] = (char *)(uintptr_t)e->value;
	}
	return 0;
}

void hc_conffile_eal_doc(FILE *f)
{
	static const char *const kind[] = {"text", "1..1048576 (MiB)", "yes / no",
					   "text, repeatable", "text"};
	for (size_t k = 0; k < N_EAL; k++)
		fprintf(f, "| `[eal]` | `%s` | %s%s%s | %s | none | restart | %s |\n",
			eal_keys[k].key, eal_keys[k].flag ? "`" : "(as given)",
			eal_keys[k].flag ? eal_keys[k].flag : "", eal_keys[k].flag ? "`" : "",
			kind[eal_keys[k].kind], eal_keys[k].help);
}

/* The line of the first [pool.NAME] section, 0 if none. */
static unsigned first_pool_line(const struct hc_ini *ini, const char **name)
{
	for (unsigned i = 0; i < ini->n_sec; i++) {
		if (strncmp(ini->sec[i].name, "pool.", 5) == 0) {
			*name = ini->sec[i].name;
			return ini->sec[i].line;
		}
	}
	return 0;
}

/* A key file that did not load (why: msg), named as it was given: the
 * file's `[appliance] key` line (value is that entry's very string), or
 * the flag --key. */
static void key_file_error(const struct hc_ini *ini, const char *value, const char *key,
			   const char *msg, char *err, size_t errlen)
{
	unsigned line = 0;
	for (unsigned i = 0; ini != NULL && i < ini->n; i++)
		if (ini->e[i].value == value)
			line = ini->e[i].line;
	if (line != 0)
		snprintf(err, errlen, "%s:%u: [appliance] %s: %s", ini->path, line, key, msg);
	else
		snprintf(err, errlen, "--%s: %s", key, msg);
}

/*
 * defaults < file (ini, already read; NULL: none) < the command line
 * (b's app_argv): c, p, and the keys (*ring, NULL: not asked for).
 */
static int build(const struct hc_boot *b, const struct hc_ini *ini, struct hc_config *c,
		 struct hc_policy *p, struct hc_auth_keyring **ring, char *err, size_t errlen)
{
	hc_config_defaults(c);
	hc_policy_defaults(p);
	if (ini != NULL) {
		for (unsigned i = 0; i < ini->n_sec; i++) {
			const char *s = ini->sec[i].name;
			if (strcmp(s, "eal") != 0 && strcmp(s, "appliance") != 0 &&
			    !hc_policy_owns_section(s)) {
				snprintf(err, errlen, "%s:%u: [%s]: unknown section (eal, appliance, "
					 "control, pool.NAME)", ini->path, ini->sec[i].line, s);
				return -1;
			}
		}
		int n = 0;
		if (eal_section(ini, NULL, &n, NULL, err, errlen) != 0 ||
		    hc_config_apply_ini(c, ini, err, errlen) != 0 ||
		    hc_policy_from_ini(p, ini, err, errlen) != 0)
			return -1;
	}
	if (hc_config_parse_args(c, b->app_argc, b->app_argv) != 0) {
		snprintf(err, errlen, "the command line (see above)");
		return -1;
	}
	for (uint32_t i = 0; i < c->n_pool_specs; i++)
		if (hc_policy_add_spec(p, c->pool_specs[i], err, errlen) != 0)
			return -1;
	const char *pool_sec = NULL;
	unsigned pool_line = ini != NULL ? first_pool_line(ini, &pool_sec) : 0;
	/* pool 0 is needed, except on an appliance of a sharded system (its
	 * pools have room ranges): pool 0 then lives on another appliance */
	unsigned ranged = 0;
	for (unsigned i = 0; i < p->n_pools; i++)
		ranged += p->pool[i].room_last != 0;
	if (hc_policy_pool(p, 0) == NULL && ranged == 0) {
		snprintf(err, errlen, "%s:%u: [%s] id: no pool has id 0, the default pool "
			 "(PLACEs naming no pool go there)", ini != NULL ? ini->path : "-",
			 pool_line, pool_sec != NULL ? pool_sec : "pool.NAME");
		return -1;
	}
	if (hc_config_check(c, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < p->n_pools; i++) {
		if (p->pool[i].room_last >= c->max_rooms) {
			snprintf(err, errlen, "pool %u (%s): rooms %u-%u reach past --max-rooms %u "
				 "(room ids are 1 .. max-rooms - 1)", p->pool[i].id, p->pool[i].name,
				 p->pool[i].room_first, p->pool[i].room_last, c->max_rooms);
			return -1;
		}
	}
	if (ring != NULL && c->keys_file != NULL) {
		char kerr[256];
		*ring = hc_auth_keys_load(c->keys_file, kerr, sizeof(kerr));
		if (*ring == NULL) {
			key_file_error(ini, c->keys_file, "keys", kerr, err, errlen);
			return -1;
		}
	}
	if (ring != NULL && c->state_key_file != NULL) { /* (a reload: hc_control.c) */
		char kerr[256];
		_Static_assert(sizeof(c->state_key) == HC_AUTH_FILE_KEYS_MAX * HC_AUTH_FILE_KEY_LEN,
			       "state key size");
		if (hc_auth_file_key_load(c->state_key_file, c->state_key, &c->have_state_key,
					  kerr, sizeof(kerr)) != 0) {
			key_file_error(ini, c->state_key_file, "state-key", kerr, err, errlen);
			return -1;
		}
	}
	return 0;
}

int hc_boot_load(struct hc_boot *b, int argc, char **argv, char *err, size_t errlen)
{
	int dd = 0; /* the "--" between EAL's arguments and ours */

	memset(b, 0, sizeof(*b));
	err[0] = '\0';
	for (int i = 1; i < argc && dd == 0; i++)
		if (strcmp(argv[i], "--") == 0)
			dd = i;
	b->app_argv = calloc((size_t)argc + 1, sizeof(char *));
	if (b->app_argv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	b->app_argv[b->app_argc++] = argv[0];
	for (int i = dd == 0 ? 1 : dd + 1; i < argc; i++)
		b->app_argv[b->app_argc++] = argv[i];

	/* a first pass for --help, --config-doc and the file's name */
	struct hc_config *c = &b->cfg;
	hc_config_defaults(c);
	int rc = hc_config_parse_args(c, b->app_argc, b->app_argv);
	if (rc != 0)
		return rc; /* printed */
	const char *path = c->policy_file;
	if (c->check_config && path == NULL) {
		snprintf(err, errlen, "headcount: --check-config needs --config FILE");
		return -1;
	}
	if (path != NULL) {
		if (hc_ini_read(&b->ini, path, err, errlen) != 0)
			return -1;
		b->have_ini = 1;
	}
	if (build(b, b->have_ini ? &b->ini : NULL, c, &b->pol, &b->ring, err, errlen) != 0)
		return -1;
	b->eal_argv[b->eal_argc++] = argv[0];
	if (dd > 1) {
		if (dd > HC_EAL_MAX_ARGS) {
			snprintf(err, errlen, "headcount: more than %d EAL arguments",
				 HC_EAL_MAX_ARGS);
			return -1;
		}
		for (int i = 1; i < dd; i++)
			b->eal_argv[b->eal_argc++] = argv[i];
	} else if (b->have_ini) {
		if (eal_section(&b->ini, b->eal_argv, &b->eal_argc, &b->eal_args_copy, err,
				errlen) != 0)
			return -1;
		b->eal_from_file = 1;
	}
	b->eal_argv[b->eal_argc] = NULL;
	return 0;
}

void hc_boot_free(struct hc_boot *b)
{
	hc_ini_free(&b->ini);
	free(b->ring);
	free(b->app_argv);
	free(b->eal_args_copy);
	memset(b, 0, sizeof(*b));
}

int hc_boot(struct hc_boot *b, int argc, char **argv)
{
	char err[512];
	int rc = hc_boot_load(b, argc, argv, err, sizeof(err));
	if (rc < 0 && err[0] != '\0')
		fprintf(stderr, "%s\n", err);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (b->cfg.check_config) {
		printf("config OK: %s\n", b->cfg.policy_file);
		return 0;
	}
	if (!b->eal_from_file && b->have_ini)
		for (unsigned i = 0; i < b->ini.n_sec; i++)
			if (strcmp(b->ini.sec[i].name, "eal") == 0)
				printf("headcount: EAL arguments from the command line; [eal] of "
				       "%s not used\n", b->cfg.policy_file);
	return -1;
}

/* The [eal] key's values in ini, joined (changes need a restart). */
static void eal_values(const struct hc_ini *ini, const char *key, char *buf, size_t len,
		       unsigned *line)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < ini->n; i++) {
		if (strcmp(ini->e[i].section, "eal") != 0 || strcmp(ini->e[i].key, key) != 0)
			continue;
		*line = ini->e[i].line;
		int w = snprintf(buf + n, len - n, "%s\n", ini->e[i].value);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
}

/* path, which the file names instead of the running one (both set):
 * a copy for the caller, in *copy; 0, or -1 with err. */
static int new_path(const char *running, const char *named, char **copy, char *err,
		    size_t errlen)
{
	*copy = NULL;
	if (running == NULL || named == NULL || strcmp(running, named) == 0)
		return 0;
	*copy = strdup(named);
	if (*copy == NULL) {
		snprintf(err, errlen, "no memory");
		return -1;
	}
	return 0;
}

/* A setting a reload cannot apply: at its line, or removed (no line). */
static void restart_warning(const char *path, unsigned line, const char *section,
			    const char *key)
{
	if (line == 0)
		HC_LOG(WARNING, "%s: [%s] %s: removed, needs a restart (ignored)", path,
		       section, key);
	else
		HC_LOG(WARNING, "%s:%u: [%s] %s: changed, needs a restart (ignored)", path,
		       line, section, key);
}

int hc_conffile_reload(void *ctx, struct hc_policy *np, struct hc_reload_keys *keys,
		       char *err, size_t errlen)
{
	struct hc_boot *b = ctx;
	static struct hc_config c;
	struct hc_ini ini;

	keys->ring = NULL;
	keys->new_keys_file = keys->new_state_key_file = NULL;
	if (!b->have_ini) {
		snprintf(err, errlen, "no config file to reload");
		return -1;
	}
	if (hc_ini_read(&ini, b->ini.path, err, errlen) != 0)
		return -1;
	if (build(b, &ini, &c, np, NULL, err, errlen) != 0) {
		hc_ini_free(&ini);
		return -1;
	}
	const char *names[64];
	unsigned n = hc_config_restart_changes(&b->cfg, &c, names, 64);
	for (unsigned i = 0; i < n; i++) {
		unsigned line = 0;
		for (unsigned k = 0; k < ini.n; k++)
			if (strcmp(ini.e[k].section, "appliance") == 0 &&
			    strcmp(ini.e[k].key, names[i]) == 0)
				line = ini.e[k].line;
		restart_warning(ini.path, line, "appliance", names[i]);
	}
	for (size_t k = 0; k < N_EAL && b->eal_from_file; k++) {
		char was[1024], now[1024];
		unsigned l0 = 0, l1 = 0;
		eal_values(&b->ini, eal_keys[k].key, was, sizeof(was), &l0);
		eal_values(&ini, eal_keys[k].key, now, sizeof(now), &l1);
		if (strcmp(was, now) != 0)
			restart_warning(ini.path, l1, "eal", eal_keys[k].key);
	}
	/* a key file the file names instead of the running one is read
	 * there (turning a key on or off: a restart, above) */
	int rc = new_path(keys->keys_file, c.keys_file, &keys->new_keys_file, err, errlen);
	if (rc == 0)
		rc = new_path(keys->state_key_file, c.state_key_file, &keys->new_state_key_file,
			      err, errlen);
	const char *from = keys->new_keys_file != NULL ? keys->new_keys_file : keys->keys_file;
	if (rc == 0 && from != NULL) {
		char kerr[256];
		keys->ring = hc_auth_keys_load(from, kerr, sizeof(kerr));
		if (keys->ring == NULL) {
			if (keys->new_keys_file != NULL)
				key_file_error(&ini, c.keys_file, "keys", kerr, err, errlen);
			else
				snprintf(err, errlen, "keys: %s", kerr);
			rc = -1;
		}
	}
	hc_ini_free(&ini);
	if (rc != 0) {
		free(keys->new_keys_file);
		free(keys->new_state_key_file);
		keys->new_keys_file = keys->new_state_key_file = NULL;
	}
	return rc;
}
