/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_policy.c - pools and timers from defaults, the config file's
 * [control] and [pool.NAME] sections (common/hc_ini.h) and the command
 * line (see hc_policy.h).  Slow path; every number is bounded and every
 * error names where it came from (file:line: [section] key: reason).
 */
#include "hc_policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_decimal.h"

#include "hc_ini.h"

void hc_policy_defaults(struct hc_policy *p)
{
	memset(p, 0, sizeof(*p));
	memset(p->index_of, HC_NO_POOL, sizeof(p->index_of));
	p->n_pools = 1;
	p->pool[0] = (struct hc_pool_cfg){.id = 0, .name = "default",
					  .min = 15, .target = 50, .max = 100,
					  .fill = HC_FILL_TARGET};
	p->index_of[0] = 0;
	p->balance_interval_ms = 1000;
	p->reservation_ttl_ms = 5000;
	p->cooldown_ms = 30000;
	p->directive_timeout_ms = 2000;
	p->directive_retries = 3;
	p->retire_grace_ms = 10000;
	p->max_moves_per_tick = 100000;
	p->lease_seats = 16;
}

static int num(const char *s, uint64_t lo, uint64_t hi, uint32_t *out)
{
	char digits[32]; /* (blanks after the number are allowed: dropped) */
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= sizeof(digits))
		return -1;
	memcpy(digits, s, n);
	digits[n] = '\0';
	uint64_t v;
	if (hc_decimal_u64(digits, lo, hi, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int hc_policy_parse_fill(const char *s, enum hc_fill *out)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 6 && strncmp(s, "target", 6) == 0)
		*out = HC_FILL_TARGET;
	else if (n == 3 && strncmp(s, "max", 3) == 0)
		*out = HC_FILL_MAX;
	else
		return -1;
	return 0;
}

static int check_pool(const struct hc_pool_cfg *c, char *err, size_t errlen)
{
	if (c->min < 1 || c->max > 65535 || c->min > c->target || c->target > c->max ||
	    2 * c->min > c->max) {
		snprintf(err, errlen, "pool %u (%s): need 1 <= min <= target <= max <= 65535 "
			 "and 2 * min <= max (got min %u, target %u, max %u)", c->id, c->name,
			 c->min, c->target, c->max);
		return -1;
	}
	return 0;
}

static int put_pool(struct hc_policy *p, const struct hc_pool_cfg *c, char *err,
		    size_t errlen)
{
	if (check_pool(c, err, errlen) != 0)
		return -1;
	uint8_t i = p->index_of[c->id];
	if (i == HC_NO_POOL) {
		if (p->n_pools == HC_MAX_POOLS) {
			snprintf(err, errlen, "more than %d pools", HC_MAX_POOLS);
			return -1;
		}
		i = (uint8_t)p->n_pools++;
		p->index_of[c->id] = i;
	}
	p->pool[i] = *c;
	return 0;
}

static int check_room_ranges(const struct hc_policy *p, char *err, size_t errlen);

int hc_policy_add_spec(struct hc_policy *p, const char *spec, char *err, size_t errlen)
{
	char buf[128], *f[7], *save = NULL;
	int n = 0;
	struct hc_pool_cfg c;
	uint32_t id;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--pool '%s': too long", spec);
		return -1;
	}
	strcpy(buf, spec);
	for (char *t = strtok_r(buf, ":", &save); t != NULL && n < 7;
	     t = strtok_r(NULL, ":", &save))
		f[n++] = t;
	memset(&c, 0, sizeof(c));
	if (n < 4 || n > 6 || num(f[0], 0, 65535, &id) != 0 ||
	    strlen(f[1]) >= HC_POOL_NAME_LEN || num(f[2], 1, 65535, &c.min) != 0 ||
	    num(f[3], 1, 65535, &c.max) != 0 ||
	    (n >= 5 && num(f[4], 1, 65535, &c.target) != 0)) {
		snprintf(err, errlen, "--pool '%s': expected ID:NAME:MIN:MAX[:TARGET[:FILL]] "
			 "(numbers, a name of at most %d characters)", spec, HC_POOL_NAME_LEN - 1);
		return -1;
	}
	if (!hc_ini_name_ok(f[1])) {
		snprintf(err, errlen, "--pool '%s': a name is letters, digits, '.', '_' and '-' "
			 "(as a file's [pool.NAME])", spec);
		return -1;
	}
	if (n == 6 && hc_policy_parse_fill(f[5], &c.fill) != 0) {
		snprintf(err, errlen, "--pool '%s': FILL '%s' is neither 'target' nor 'max'",
			 spec, f[5]);
		return -1;
	}
	c.id = (uint16_t)id;
	snprintf(c.name, sizeof(c.name), "%s", f[1]);
	if (n == 4)
		c.target = c.max / 2;
	if (put_pool(p, &c, err, errlen) != 0)
		return -1;
	char m[160];
	if (check_room_ranges(p, m, sizeof(m)) != 0) { /* the file's pools had ranges */
		snprintf(err, errlen, "--pool '%s': %s (--pool gives none)", spec, m);
		return -1;
	}
	return 0;
}

/* "FIRST-LAST" -> c->room_first, c->room_last: two decimal numbers, digits
 * only (no sign, no space: strtoul took "+5-+10" and "5- 10"). */
static int parse_room_range(const char *v, struct hc_pool_cfg *c)
{
	const char *dash = strchr(v, '-');
	char first[24];
	size_t n = dash != NULL ? (size_t)(dash - v) : 0;
	if (n == 0 || n >= sizeof(first))
		return -1;
	memcpy(first, v, n);
	first[n] = '\0';
	uint64_t a, b;
	if (hc_decimal_u64(first, 1, UINT32_MAX - 1, &a) != 0 ||
	    hc_decimal_u64(dash + 1, a, UINT32_MAX - 1, &b) != 0)
		return -1;
	c->room_first = (uint32_t)a;
	c->room_last = (uint32_t)b;
	return 0;
}

/* Pools with id ranges: every pool has one (a pool without would take
 * ids from the others' ranges) and no two overlap. */
static int check_room_ranges(const struct hc_policy *p, char *err, size_t errlen)
{
	unsigned ranged = 0;
	for (unsigned i = 0; i < p->n_pools; i++)
		ranged += p->pool[i].room_last != 0;
	if (ranged == 0)
		return 0;
	for (unsigned i = 0; i < p->n_pools; i++) {
		const struct hc_pool_cfg *a = &p->pool[i];
		if (a->room_last == 0) {
			snprintf(err, errlen, "pool %u has no rooms = FIRST-LAST while others "
				 "have: every pool needs one", a->id);
			return -1;
		}
		for (unsigned j = i + 1; j < p->n_pools; j++) {
			const struct hc_pool_cfg *b = &p->pool[j];
			if (a->room_first <= b->room_last && b->room_first <= a->room_last) {
				snprintf(err, errlen, "pools %u and %u: room ranges %u-%u and "
					 "%u-%u overlap", a->id, b->id, a->room_first,
					 a->room_last, b->room_first, b->room_last);
				return -1;
			}
		}
	}
	return 0;
}

/* [control]: one row per timer, which the parser and the generated
 * docs/configuration.md both read. */
static const struct {
	const char *key;
	size_t off;
	uint32_t lo, hi;
	const char *help;
} timer_keys[] = {
	{"balance_interval_ms", offsetof(struct hc_policy, balance_interval_ms), 1, 3600000,
	 "the control core plans every pool this often"},
	{"reservation_ttl_ms", offsetof(struct hc_policy, reservation_ttl_ms), 1, 3600000,
	 "a placement's reserved seat waits this long for the JOIN"},
	{"cooldown_ms", offsetof(struct hc_policy, cooldown_ms), 0, 65534000,
	 "a moved user is not moved again for at least this long (the workers count whole seconds: up to 2 s more), even when its gateway "
	 "obeys the MOVE as LEAVE + JOIN (the pick memo, docs/architecture.md)"},
	{"directive_timeout_ms", offsetof(struct hc_policy, directive_timeout_ms), 1, 3600000,
	 "a MOVE not followed by the JOIN is sent again after this"},
	{"directive_retries", offsetof(struct hc_policy, directive_retries), 0, 100,
	 "resends of a MOVE before it is given up"},
	{"retire_grace_ms", offsetof(struct hc_policy, retire_grace_ms), 0, 86400000,
	 "a retired room id is not reused for this long"},
	{"max_moves_per_tick", offsetof(struct hc_policy, max_moves_per_tick), 1, 100000000,
	 "moves one pool's plan may hold (the rest waits a tick)"},
	{"lease_seats", offsetof(struct hc_policy, lease_seats), 0, 4096,
	 "seats of a room far from full leased to a worker that asked for one, so its next "
	 "JOINs there apply without asking (0: every JOIN asks; docs/architecture.md)"},
};
#define N_TIMERS (sizeof(timer_keys) / sizeof(timer_keys[0]))

/* [pool.NAME]: the keys a pool section knows. */
static const struct {
	const char *key, *range, *deflt, *help;
} pool_keys[] = {
	{"id", "0..65535", "(needed)", "the pool_id on the wire; pool 0 (the default pool) "
	 "must exist"},
	{"min", "1..65535", "(needed)", "fewest users of a room the balancer keeps"},
	{"max", "1..65535", "(needed)", "most users of a room: admission refuses beyond; "
	 "2 * min <= max"},
	{"target", "min..max", "max / 2", "placement fills a room up to this, then opens another"},
	{"fill", "target, max", "target", "how full placement makes a room (target: up to "
	 "target; max: up to max)"},
	{"rooms", "FIRST-LAST", "(any)", "the pool places its new rooms only in these ids "
	 "(pools spread over appliances, docs/scaling-shards.md): every pool has a range or "
	 "none has, ranges disjoint"},
};
#define N_POOL_KEYS (sizeof(pool_keys) / sizeof(pool_keys[0]))

static int ini_fail(const struct hc_ini *ini, unsigned line, const char *sec,
		    const char *key, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static int ini_fail(const struct hc_ini *ini, unsigned line, const char *sec,
		    const char *key, char *err, size_t errlen, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: [%s]%s%s: %s", ini->path, line, sec, key ? " " : "",
		 key ? key : "", why);
	return -1;
}

int hc_policy_owns_section(const char *name)
{
	return strcmp(name, "control") == 0 || strncmp(name, "pool.", 5) == 0;
}

/* Entries of section sec, key key: the value, its line in *line; NULL. */
static const char *entry(const struct hc_ini *ini, const char *sec, const char *key,
			 unsigned *line)
{
	for (unsigned i = 0; i < ini->n; i++) {
		if (ini->e[i].section == sec && strcmp(ini->e[i].key, key) == 0) {
			*line = ini->e[i].line;
			return ini->e[i].value;
		}
	}
	return NULL;
}

static int pool_section(struct hc_policy *np, const struct hc_ini *ini,
			const struct hc_ini_section *s, char *err, size_t errlen)
{
	const char *sec = s->name, *name = sec + 5;
	struct hc_pool_cfg c;
	unsigned lid = s->line, lmin = s->line, lmax = s->line, ltarget = s->line;
	unsigned lfill = s->line, lrooms = s->line;
	uint32_t id;

	if (*name == '\0' || strlen(name) >= HC_POOL_NAME_LEN)
		return ini_fail(ini, s->line, sec, NULL, err, errlen, "a pool's name is 1 to %d "
				"characters after 'pool.'", HC_POOL_NAME_LEN - 1);
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	const char *vid = entry(ini, sec, "id", &lid);
	const char *vmin = entry(ini, sec, "min", &lmin);
	const char *vmax = entry(ini, sec, "max", &lmax);
	const char *vtarget = entry(ini, sec, "target", &ltarget);
	const char *vfill = entry(ini, sec, "fill", &lfill);
	const char *vrooms = entry(ini, sec, "rooms", &lrooms);
	if (vid == NULL)
		return ini_fail(ini, s->line, sec, "id", err, errlen, "missing (id, min and max "
				"are needed)");
	if (num(vid, 0, 65535, &id) != 0)
		return ini_fail(ini, lid, sec, "id", err, errlen, "'%s' is not a number in "
				"[0, 65535]", vid);
	if (vmin == NULL)
		return ini_fail(ini, s->line, sec, "min", err, errlen, "missing (id, min and max "
				"are needed)");
	if (num(vmin, 1, 65535, &c.min) != 0)
		return ini_fail(ini, lmin, sec, "min", err, errlen, "'%s' is not a number in "
				"[1, 65535]", vmin);
	if (vmax == NULL)
		return ini_fail(ini, s->line, sec, "max", err, errlen, "missing (id, min and max "
				"are needed)");
	if (num(vmax, 1, 65535, &c.max) != 0)
		return ini_fail(ini, lmax, sec, "max", err, errlen, "'%s' is not a number in "
				"[1, 65535]", vmax);
	if (vtarget != NULL && num(vtarget, 1, 65535, &c.target) != 0)
		return ini_fail(ini, ltarget, sec, "target", err, errlen, "'%s' is not a number "
				"in [1, 65535]", vtarget);
	if (vtarget == NULL)
		c.target = c.max / 2;
	if (vfill != NULL && hc_policy_parse_fill(vfill, &c.fill) != 0)
		return ini_fail(ini, lfill, sec, "fill", err, errlen, "'%s': neither 'target' nor "
				"'max'", vfill);
	if (vrooms != NULL && parse_room_range(vrooms, &c) != 0)
		return ini_fail(ini, lrooms, sec, "rooms", err, errlen, "'%s': expected FIRST-LAST, "
				"1 <= FIRST <= LAST", vrooms);
	if (np->index_of[id] != HC_NO_POOL)
		return ini_fail(ini, lid, sec, "id", err, errlen, "pool id %u used twice "
				"(also [pool.%s])", id, np->pool[np->index_of[id]].name);
	c.id = (uint16_t)id;
	char perr[200];
	if (put_pool(np, &c, perr, sizeof(perr)) != 0)
		return ini_fail(ini, vtarget != NULL ? ltarget : lmax, sec,
				vtarget != NULL ? "target" : "max", err, errlen, "%s", perr);
	return 0;
}

int hc_policy_from_ini(struct hc_policy *p, const struct hc_ini *ini, char *err,
		       size_t errlen)
{
	static struct hc_policy np; /* 64 KiB of index: not on the stack */
	np = *p;
	int pools = 0;

	/* every key of ours is known and given once */
	for (unsigned i = 0; i < ini->n; i++) {
		const struct hc_ini_entry *e = &ini->e[i];
		if (!hc_policy_owns_section(e->section))
			continue;
		int known = 0;
		if (strcmp(e->section, "control") == 0) {
			for (size_t k = 0; k < N_TIMERS; k++)
				known |= strcmp(e->key, timer_keys[k].key) == 0;
		} else {
			for (size_t k = 0; k < N_POOL_KEYS; k++)
				known |= strcmp(e->key, pool_keys[k].key) == 0;
		}
		if (!known)
			return ini_fail(ini, e->line, e->section, e->key, err, errlen,
					"unknown key (see docs/configuration.md)");
		unsigned first = hc_ini_earlier(ini, i);
		if (first != 0)
			return ini_fail(ini, e->line, e->section, e->key, err, errlen,
					"given twice (first on line %u)", first);
		if (strcmp(e->section, "control") == 0) {
			for (size_t k = 0; k < N_TIMERS; k++) {
				if (strcmp(e->key, timer_keys[k].key) != 0)
					continue;
				uint32_t *dst = (uint32_t *)(void *)((char *)&np + timer_keys[k].off);
				if (num(e->value, timer_keys[k].lo, timer_keys[k].hi, dst) != 0)
					return ini_fail(ini, e->line, e->section, e->key, err, errlen,
							"'%s' is not a number in [%u, %u]", e->value,
							timer_keys[k].lo, timer_keys[k].hi);
			}
		}
	}
	for (unsigned i = 0; i < ini->n_sec; i++) {
		const struct hc_ini_section *s = &ini->sec[i];
		if (strncmp(s->name, "pool.", 5) != 0)
			continue;
		if (pools++ == 0) { /* the file's pools replace the default */
			np.n_pools = 0;
			memset(np.index_of, HC_NO_POOL, sizeof(np.index_of));
		}
		if (pool_section(&np, ini, s, err, errlen) != 0)
			return -1;
	}
	if (check_room_ranges(&np, err, errlen) != 0) {
		char m[200];
		snprintf(m, sizeof(m), "%s", err);
		snprintf(err, errlen, "%s: %s", ini->path, m);
		return -1;
	}
	*p = np;
	return 0;
}

int hc_policy_load(struct hc_policy *p, const char *path, char *err, size_t errlen)
{
	struct hc_ini ini;
	if (hc_ini_read(&ini, path, err, errlen) != 0)
		return -1;
	int rc = 0;
	for (unsigned i = 0; i < ini.n_sec && rc == 0; i++)
		if (!hc_policy_owns_section(ini.sec[i].name))
			rc = ini_fail(&ini, ini.sec[i].line, ini.sec[i].name, NULL, err, errlen,
				      "unknown section ([control], [pool.NAME])");
	if (rc == 0)
		rc = hc_policy_from_ini(p, &ini, err, errlen);
	hc_ini_free(&ini);
	return rc;
}

void hc_policy_doc(FILE *f)
{
	static struct hc_policy d;
	hc_policy_defaults(&d);
	for (size_t k = 0; k < N_TIMERS; k++) {
		const uint32_t *v = (const uint32_t *)(const void *)((const char *)&d +
								      timer_keys[k].off);
		fprintf(f, "| `[control]` | `%s` | | %u..%u | %u | yes | %s |\n", timer_keys[k].key,
			timer_keys[k].lo, timer_keys[k].hi, *v, timer_keys[k].help);
	}
	for (size_t k = 0; k < N_POOL_KEYS; k++)
		fprintf(f, "| `[pool.NAME]` | `%s` | `--pool` | %s | %s | yes | %s |\n",
			pool_keys[k].key, pool_keys[k].range, pool_keys[k].deflt, pool_keys[k].help);
}
