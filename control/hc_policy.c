/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_policy.c - pools and timers from defaults, an INI file and the
 * command line (see hc_policy.h).  Slow path; every number is bounded and
 * every error names where it came from.
 */
#include "hc_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

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
}

static int num(const char *s, uint64_t lo, uint64_t hi, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
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

/* "FIRST-LAST" -> c->room_first, c->room_last. */
static int parse_room_range(const char *v, struct hc_pool_cfg *c)
{
	char *end;
	errno = 0;
	unsigned long a = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '-' || a == 0 || a > UINT32_MAX - 1)
		return -1;
	const char *w = end + 1;
	unsigned long b = strtoul(w, &end, 10);
	if (errno != 0 || end == w || *end != '\0' || b < a || b > UINT32_MAX - 1)
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

static const struct {
	const char *key;
	size_t off;
	uint32_t lo, hi;
} timer_keys[] = {
	{"balance_interval_ms", offsetof(struct hc_policy, balance_interval_ms), 1, 3600000},
	{"reservation_ttl_ms", offsetof(struct hc_policy, reservation_ttl_ms), 1, 3600000},
	{"cooldown_ms", offsetof(struct hc_policy, cooldown_ms), 0, 86400000},
	{"directive_timeout_ms", offsetof(struct hc_policy, directive_timeout_ms), 1, 3600000},
	{"directive_retries", offsetof(struct hc_policy, directive_retries), 0, 100},
	{"retire_grace_ms", offsetof(struct hc_policy, retire_grace_ms), 0, 86400000},
	{"max_moves_per_tick", offsetof(struct hc_policy, max_moves_per_tick), 1, 100000000},
};

/* A pool section knows id, min, max, target and fill: anything else is a
 * typo that would otherwise be ignored silently. */
static int check_pool_keys(struct rte_cfgfile *f, const char *path, const char *sec,
			   char *err, size_t errlen)
{
	static const char *const known[] = {"id", "min", "max", "target", "fill", "rooms"};
	struct rte_cfgfile_entry e[16];
	int n = rte_cfgfile_section_num_entries(f, sec);
	if (n < 0 || n > 16 || rte_cfgfile_section_entries(f, sec, e, 16) != n) {
		snprintf(err, errlen, "%s: [%s]: cannot read its keys (at most 16)", path, sec);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(e[i].name, known[k]) != 0)
			k++;
		if (k == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "%s: [%s]: unknown key '%s' (id, min, max, target, "
				 "fill)", path, sec, e[i].name);
			return -1;
		}
	}
	return 0;
}

int hc_policy_load(struct hc_policy *p, const char *path, char *err, size_t errlen)
{
	struct rte_cfgfile *f = rte_cfgfile_load(path, 0);
	struct hc_policy np = *p;
	int rc = -1;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read or parse", path);
		return -1;
	}
	int n = rte_cfgfile_num_sections(f, NULL, 0);
	char (*names)[CFG_NAME_LEN] = calloc(n > 0 ? (size_t)n : 1, CFG_NAME_LEN);
	char **sections = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
	if (names == NULL || sections == NULL)
		goto out;
	for (int i = 0; i < n; i++)
		sections[i] = names[i];
	rte_cfgfile_sections(f, sections, n);

	int pools = 0;
	for (int i = 0; i < n; i++) {
		const char *sec = sections[i];
		if (strcmp(sec, "control") == 0) {
			for (size_t k = 0; k < sizeof(timer_keys) / sizeof(timer_keys[0]); k++) {
				const char *v = rte_cfgfile_get_entry(f, sec, timer_keys[k].key);
				if (v == NULL)
					continue;
				uint32_t *dst = (uint32_t *)((char *)&np + timer_keys[k].off);
				if (num(v, timer_keys[k].lo, timer_keys[k].hi, dst) != 0) {
					snprintf(err, errlen, "%s: [control] %s = '%s': not in [%u, %u]",
						 path, timer_keys[k].key, v, timer_keys[k].lo,
						 timer_keys[k].hi);
					goto out;
				}
			}
			continue;
		}
		if (strncmp(sec, "pool.", 5) != 0) {
			snprintf(err, errlen, "%s: unknown section [%s]", path, sec);
			goto out;
		}
		if (pools++ == 0) { /* the file's pools replace the default */
			np.n_pools = 0;
			memset(np.index_of, HC_NO_POOL, sizeof(np.index_of));
		}
		if (check_pool_keys(f, path, sec, err, errlen) != 0)
			goto out;
		struct hc_pool_cfg c;
		uint32_t id;
		memset(&c, 0, sizeof(c));
		const char *vid = rte_cfgfile_get_entry(f, sec, "id");
		const char *vmin = rte_cfgfile_get_entry(f, sec, "min");
		const char *vmax = rte_cfgfile_get_entry(f, sec, "max");
		const char *vtarget = rte_cfgfile_get_entry(f, sec, "target");
		const char *vfill = rte_cfgfile_get_entry(f, sec, "fill");
		if (vid == NULL || num(vid, 0, 65535, &id) != 0 || vmin == NULL ||
		    num(vmin, 1, 65535, &c.min) != 0 || vmax == NULL ||
		    num(vmax, 1, 65535, &c.max) != 0 ||
		    (vtarget != NULL && num(vtarget, 1, 65535, &c.target) != 0)) {
			snprintf(err, errlen, "%s: [%s] needs id (0..65535), min and max "
				 "(1..65535), optional target (and fill)", path, sec);
			goto out;
		}
		if (vfill != NULL && hc_policy_parse_fill(vfill, &c.fill) != 0) {
			snprintf(err, errlen, "%s: [%s] fill = '%s': neither 'target' nor 'max'",
				 path, sec, vfill);
			goto out;
		}
		const char *vrooms = rte_cfgfile_get_entry(f, sec, "rooms");
		if (vrooms != NULL && parse_room_range(vrooms, &c) != 0) {
			snprintf(err, errlen, "%s: [%s] rooms = '%s': expected FIRST-LAST, "
				 "1 <= FIRST <= LAST", path, sec, vrooms);
			goto out;
		}
		if (np.index_of[id] != HC_NO_POOL) {
			snprintf(err, errlen, "%s: [%s]: pool id %u used twice", path, sec, id);
			goto out;
		}
		c.id = (uint16_t)id;
		snprintf(c.name, sizeof(c.name), "%s", sec + 5);
		if (vtarget == NULL)
			c.target = c.max / 2;
		char perr[200];
		if (put_pool(&np, &c, perr, sizeof(perr)) != 0) {
			snprintf(err, errlen, "%s: [%s]: %s", path, sec, perr);
			goto out;
		}
	}
	if (check_room_ranges(&np, err, errlen) != 0) {
		char m[200];
		snprintf(m, sizeof(m), "%s", err);
		snprintf(err, errlen, "%s: %s", path, m);
		goto out;
	}
	*p = np;
	rc = 0;
out:
	free(names);
	free(sections);
	rte_cfgfile_close(f);
	return rc;
}
