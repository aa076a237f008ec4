/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_shard.c - pools spread over appliances, the gateway's side
 * (hc_gw_shard.h): the shard map parsed and checked, one hc_gw session
 * per appliance, calls routed by pool, a new map applied by restating the
 * moved pools' users on their new home.
 *
 * HOW IT WORKS
 * The map gives each pool a home (a slot: one appliance's session, kept
 * for the life of the shard set, so callbacks' shard indexes stay true
 * across maps) and its room ids.  A user is in at most one session: a
 * JOIN routed to a pool's home first leaves the user on any other
 * session (a user moving to a pool held elsewhere).  Applying a map
 * "reconciles": every session's users whose pool is homed elsewhere are
 * JOINed into the same room and pool on the home, then LEFT where they
 * were, so the old appliance's table loses exactly them and the new one
 * gains exactly them (rooms keep their ids: a pool's room range is the
 * same on every appliance, docs/scaling-shards.md).  Late answers of the
 * old home are harmless: hc_gw ignores a NEW_TOPIC or MOVE for a user it
 * no longer holds.  As a safety net, a NEW_TOPIC that did re-join a user
 * on a session not holding the user's pool marks the set, and the next
 * poll reconciles again (counted as strays).  All of it is the slow
 * path: a map change, never an event.  A user that cannot move (hc_gw
 * refused its restatement, or it sits on an appliance the map dropped in
 * a pool the map has no home for) is retried with a backoff, 10 ms
 * doubling to 1 s, not at every poll: the poll's timeout stays that of
 * the sessions' timers, and a gateway never spins on it (a review: the
 * timeout was 0 for as long as the user stayed).
 *
 * Callbacks run inside hc_gw_shard_poll (in_poll), as hc_gw's inside
 * hc_gw_poll: a hc_gw_shard_close there is deferred to the poll's end (no
 * callback, join, leave or place after it), a map applied there or a
 * nested poll is refused.  A session whose hc_gw_poll says it was closed
 * (ESHUTDOWN: closed directly from a callback, which the API forbids)
 * leaves its slot closed, not pointing at freed memory, and the poll says
 * ENOTCONN; calls for its pools then fail with ENOTCONN.  (A session
 * closed directly outside its own poll cannot be seen: its slot points at
 * freed memory.  Never close a session of the set.)
 */
#include "hc_gw_shard.h"
#include "hc_gw_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define NO_POOL (-1)
#define STRAY_BACKOFF_FIRST_MS 10
#define STRAY_BACKOFF_MAX_MS 1000

struct slot {
	char name[HC_GW_SHARD_NAME_LEN];
	char addr[HC_GW_SHARD_ADDR_LEN];
	struct hc_gw *g;          /* NULL: closed                        */
	int in_map;               /* named by the current map            */
	struct hc_gw_shard *s;    /* for the callbacks' trampolines       */
	unsigned index;
};

struct hc_gw_shard {
	struct hc_gw_config base; /* its key and bind point at the copies
	                             below: an appliance added by a later
	                             map opens a session with them, after
	                             the caller's may be gone (hc_gw_open
	                             copies the key; so does the set)     */
	uint8_t key[HC_GW_KEY_LEN];
	char *bind;
	struct hc_gw_shard_callbacks cb;
	struct hc_gw_shard_map map;
	struct slot slot[HC_GW_SHARD_MAX_APPLIANCES];
	unsigned n_slots;
	int16_t pidx[65536];      /* pool id -> index in map.pool, NO_POOL */
	uint8_t home[HC_GW_SHARD_MAX_POOLS]; /* map.pool index -> slot   */
	int dropped_waiting;      /* a session the map dropped waits for its
	                             PLACEs' answers before it closes     */
	int stray;                /* a session may hold a user of a pool
	                             homed elsewhere: reconcile          */
	uint64_t stray_due_ms;    /* ... not before this (monotonic ms)  */
	unsigned stray_backoff_ms;/* 0 after a reconcile that left nobody
	                             behind; else 10, doubling to 1000   */
	int in_poll;              /* inside hc_gw_shard_poll: callbacks run */
	int closing;              /* 1 + clean: closed from a callback    */
	struct hc_gw_shard_stats st;
	struct hc_gw_stats closed; /* closed sessions' counters, summed */
};

/* ------------------------------------------------------------ the map -- */

static int map_error(char *err, size_t n, unsigned line, const char *what)
{
	snprintf(err, n, "shard map line %u: %s", line, what);
	return -1;
}

static int find_appliance(const struct hc_gw_shard_map *m, const char *name)
{
	for (unsigned i = 0; i < m->n_appliances; i++)
		if (strcmp(m->appliance[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The first appliance of m with these addresses (spelt the same), or -1.
 * Two names for one appliance would be two sessions of one gateway id
 * there, each incarnation dropping the other's users. */
static int find_address(const struct hc_gw_shard_map *m, const char *addr)
{
	for (unsigned i = 0; i < m->n_appliances; i++)
		if (strcmp(m->appliance[i].addr, addr) == 0)
			return (int)i;
	return -1;
}

static int parse_u32(const char *t, uint32_t lo, uint32_t hi, uint32_t *v)
{
	char *end;
	if (t == NULL || *t < '0' || *t > '9')
		return -1;
	errno = 0;
	unsigned long x = strtoul(t, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* A line is text: printable ASCII and tabs (a CR before the newline is
 * allowed); bytes from 0x80 only in a comment (UTF-8 there is fine).  A
 * NUL, another control byte or DEL anywhere is an error naming its
 * column, never the silent end of the map.  0, or -1 with the message. */
static int check_text(const char *buf, size_t len, unsigned line, char *err, size_t err_len)
{
	int comment = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)buf[i];
		comment |= b == '#';
		if ((b >= 0x20 && b < 0x7f) || b == '\t' || (b == '\r' && i + 1 == len) ||
		    (b >= 0x80 && comment))
			continue;
		char what[96];
		snprintf(what, sizeof(what), "byte 0x%02x at column %zu is not text%s", b, i + 1,
			 b >= 0x80 ? " (non-ASCII only in a comment)" : "");
		return map_error(err, err_len, line, what);
	}
	return 0;
}

/* The parser over len bytes of text (NUL bytes included: they are
 * errors, not the end). */
static int map_parse(struct hc_gw_shard_map *m, const char *text, size_t text_len, char *err,
		     size_t err_len)
{
	memset(m, 0, sizeof(*m));
	unsigned line = 0;
	int have_version = 0;
	const char *p = text, *end = text + text_len;
	while (p < end) {
		char buf[512];
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		line++;
		if (len >= sizeof(buf))
			return map_error(err, err_len, line, "longer than 511 characters");
		if (check_text(p, len, line, err, err_len) != 0)
			return -1;
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl != NULL);
		char *hash = strchr(buf, '#');
		if (hash != NULL)
			*hash = '\0';
		char *save = NULL, *w[5];
		unsigned n = 0;
		for (char *t = strtok_r(buf, " \t\r", &save); t != NULL;
		     t = strtok_r(NULL, " \t\r", &save)) {
			if (n == 5)
				return map_error(err, err_len, line, "too many words");
			w[n++] = t;
		}
		if (n == 0)
			continue;
		if (strcmp(w[0], "version") == 0) {
			if (n != 2 || have_version ||
			    parse_u32(w[1], 1, UINT32_MAX, &m->version) != 0)
				return map_error(err, err_len, line,
						 "expected one 'version N' (1..4294967295)");
			have_version = 1;
		} else if (strcmp(w[0], "appliance") == 0) {
			if (n != 3 || strlen(w[1]) >= HC_GW_SHARD_NAME_LEN ||
			    strlen(w[2]) >= HC_GW_SHARD_ADDR_LEN)
				return map_error(err, err_len, line,
						 "expected 'appliance NAME ADDRESSES' (name < 32, "
						 "addresses < 256 characters)");
			if (find_appliance(m, w[1]) >= 0)
				return map_error(err, err_len, line, "appliance named twice");
			if (find_address(m, w[2]) >= 0)
				return map_error(err, err_len, line,
						 "addresses given twice (two names, one appliance)");
			if (m->n_appliances == HC_GW_SHARD_MAX_APPLIANCES)
				return map_error(err, err_len, line, "more than 16 appliances");
			snprintf(m->appliance[m->n_appliances].name, HC_GW_SHARD_NAME_LEN, "%s", w[1]);
			snprintf(m->appliance[m->n_appliances].addr, HC_GW_SHARD_ADDR_LEN, "%s", w[2]);
			m->n_appliances++;
		} else if (strcmp(w[0], "pool") == 0) {
			uint32_t id, first, last;
			char *dash = n == 4 ? strchr(w[3], '-') : NULL;
			if (dash != NULL)
				*dash = '\0';
			if (n != 4 || dash == NULL || parse_u32(w[1], 0, 65535, &id) != 0 ||
			    parse_u32(w[3], 1, UINT32_MAX - 1, &first) != 0 ||
			    parse_u32(dash + 1, first, UINT32_MAX - 1, &last) != 0)
				return map_error(err, err_len, line,
						 "expected 'pool ID APPLIANCE FIRST-LAST' (1 <= "
						 "FIRST <= LAST)");
			int a = find_appliance(m, w[2]);
			if (a < 0)
				return map_error(err, err_len, line,
						 "pool on an appliance not listed above");
			for (unsigned i = 0; i < m->n_pools; i++) {
				if (m->pool[i].pool == id)
					return map_error(err, err_len, line, "pool listed twice");
				if (first <= m->pool[i].room_last && m->pool[i].room_first <= last)
					return map_error(err, err_len, line,
							 "room range overlaps another pool's");
			}
			if (m->n_pools == HC_GW_SHARD_MAX_POOLS)
				return map_error(err, err_len, line, "more than 256 pools");
			m->pool[m->n_pools].pool = (uint16_t)id;
			m->pool[m->n_pools].appliance = (uint8_t)a;
			m->pool[m->n_pools].room_first = first;
			m->pool[m->n_pools].room_last = last;
			m->n_pools++;
		} else {
			return map_error(err, err_len, line,
					 "unknown statement (version, appliance, pool)");
		}
	}
	if (!have_version)
		return map_error(err, err_len, line, "no 'version N'");
	return 0;
}

int hc_gw_shard_map_parse(struct hc_gw_shard_map *m, const char *text, char *err,
			  size_t err_len)
{
	return map_parse(m, text, strlen(text), err, err_len);
}

int hc_gw_shard_map_load(struct hc_gw_shard_map *m, const char *path, char *err,
			 size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *text = calloc(1, 1 << 20);
	size_t n = text != NULL ? fread(text, 1, (1 << 20) - 1, f) : 0; /* NULs too */
	int bad = text == NULL || ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		free(text);
		snprintf(err, err_len, "%s: cannot read it whole (at most 1 MiB)", path);
		return -1;
	}
	text[n] = '\0';
	char e[200];
	int rc = map_parse(m, text, n, e, sizeof(e));
	if (rc != 0)
		snprintf(err, err_len, "%s: %s", path, e);
	free(text);
	return rc;
}

static uint64_t now_ms(void)
{
	return hc_gw_now_us() / 1000u;
}

/* --------------------------------------------------------- callbacks -- */

static int pool_home(const struct hc_gw_shard *s, uint16_t pool)
{
	int i = s->pidx[pool];
	return i == NO_POOL ? -1 : s->home[i];
}

static void tramp_assign(void *arg, const struct hc_gw_assign *a)
{
	struct slot *sl = arg;
	struct hc_gw_shard *s = sl->s;
	if (s->closing)
		return;
	/* NEW_TOPIC re-joined the user on this session: wrong if the pool
	 * lives elsewhere now */
	if (a->status == HC_GW_NEW_TOPIC && pool_home(s, a->pool_id) != (int)sl->index) {
		s->stray = 1;
		s->stray_due_ms = 0; /* at once, whoever waits for a backoff */
	}
	if (s->cb.on_assign != NULL)
		s->cb.on_assign(s->cb.arg, sl->index, a);
}

static void tramp_move(void *arg, const struct hc_gw_move *mv)
{
	struct slot *sl = arg;
	if (!sl->s->closing)
		sl->s->cb.on_move(sl->s->cb.arg, sl->index, mv);
}

static void tramp_state(void *arg, const struct hc_gw_state_change *c)
{
	struct slot *sl = arg;
	if (sl->s->cb.on_state != NULL && !sl->s->closing)
		sl->s->cb.on_state(sl->s->cb.arg, sl->index, c);
}

/* ----------------------------------------------------------- sessions -- */

/* Open a session into slot idx (>= n_slots: the caller counts it in by
 * raising n_slots once every session it needs is open).  0, or -1 with
 * errno and err, the slot left empty. */
static int open_slot(struct hc_gw_shard *s, unsigned idx, const char *name, const char *addr,
		     char *err, size_t err_len)
{
	if (idx >= HC_GW_SHARD_MAX_APPLIANCES) {
		snprintf(err, err_len, "more than %d appliances over the shard set's life",
			 HC_GW_SHARD_MAX_APPLIANCES);
		errno = EINVAL;
		return -1;
	}
	struct slot *sl = &s->slot[idx];
	memset(sl, 0, sizeof(*sl));
	snprintf(sl->name, sizeof(sl->name), "%s", name);
	snprintf(sl->addr, sizeof(sl->addr), "%s", addr);
	sl->s = s;
	sl->index = idx;
	struct hc_gw_config c = s->base;
	c.appliance = sl->addr;
	c.on_assign = tramp_assign;
	c.on_move = s->cb.on_move != NULL ? tramp_move : NULL;
	c.on_state = tramp_state;
	c.arg = sl;
	char e[200];
	sl->g = hc_gw_open(&c, e, sizeof(e));
	if (sl->g == NULL) {
		int saved = errno;
		snprintf(err, err_len, "appliance %s (%s): %s", name, addr, e);
		memset(sl, 0, sizeof(*sl));
		errno = saved != 0 ? saved : EINVAL;
		return -1;
	}
	sl->in_map = 1;
	return 0;
}

static int find_slot(const struct hc_gw_shard *s, const char *name)
{
	for (unsigned i = 0; i < s->n_slots; i++)
		if (strcmp(s->slot[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Route by m: pool ids -> map entries -> slots (every appliance of m has
 * a slot by now). */
static void route(struct hc_gw_shard *s, const struct hc_gw_shard_map *m)
{
	for (unsigned i = 0; i < s->map.n_pools; i++)
		s->pidx[s->map.pool[i].pool] = NO_POOL;
	s->map = *m;
	for (unsigned i = 0; i < s->n_slots; i++)
		s->slot[i].in_map = find_appliance(m, s->slot[i].name) >= 0;
	for (unsigned i = 0; i < m->n_pools; i++) {
		s->pidx[m->pool[i].pool] = (int16_t)i;
		s->home[i] = (uint8_t)find_slot(s, m->appliance[m->pool[i].appliance].name);
	}
	s->st.map_version = m->version;
}

/* A map the caller filled in itself (the struct is public) holds what the
 * parser would have accepted: at most 16 appliances, named (NUL-ended,
 * unique), with addresses; at most 256 pools, each once, on a listed
 * appliance, rooms FIRST <= LAST, ranges disjoint.  0, or -1 with err. */
static int map_check(const struct hc_gw_shard_map *m, char *err, size_t err_len)
{
	const char *why = NULL;
	if (m->version == 0)
		why = "version 0 (maps are numbered from 1)";
	else if (m->n_appliances > HC_GW_SHARD_MAX_APPLIANCES)
		why = "more than 16 appliances";
	else if (m->n_pools > HC_GW_SHARD_MAX_POOLS)
		why = "more than 256 pools";
	for (unsigned i = 0; why == NULL && i < m->n_appliances; i++) {
		const char *name = m->appliance[i].name, *addr = m->appliance[i].addr;
		if (memchr(name, '\0', HC_GW_SHARD_NAME_LEN) == NULL || name[0] == '\0' ||
		    memchr(addr, '\0', HC_GW_SHARD_ADDR_LEN) == NULL || addr[0] == '\0')
			why = "an appliance without a name or an address (or one too long)";
		else if (find_appliance(m, name) != (int)i)
			why = "appliance named twice";
		else if (find_address(m, addr) != (int)i)
			why = "addresses given twice (two names, one appliance)";
	}
	for (unsigned i = 0; why == NULL && i < m->n_pools; i++) {
		if (m->pool[i].appliance >= m->n_appliances)
			why = "pool on an appliance not listed";
		else if (m->pool[i].room_first == 0 || m->pool[i].room_first > m->pool[i].room_last)
			why = "pool rooms not 1 <= FIRST <= LAST";
		for (unsigned k = 0; why == NULL && k < i; k++) {
			if (m->pool[k].pool == m->pool[i].pool)
				why = "pool listed twice";
			else if (m->pool[i].room_first <= m->pool[k].room_last &&
				 m->pool[k].room_first <= m->pool[i].room_last)
				why = "room range overlaps another pool's";
		}
	}
	if (why == NULL)
		return 0;
	snprintf(err, err_len, "shard map: %s", why);
	errno = EINVAL;
	return -1;
}

struct hc_gw_shard *hc_gw_shard_open(const struct hc_gw_shard_map *map,
				     const struct hc_gw_config *base,
				     const struct hc_gw_shard_callbacks *cb, char *err,
				     size_t err_len)
{
	if (base == NULL || base->size != sizeof(*base)) {
		snprintf(err, err_len, "base: set it up with hc_gw_config_init");
		errno = EINVAL;
		return NULL;
	}
	if (map_check(map, err, err_len) != 0)
		return NULL;
	struct hc_gw_shard *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	s->base = *base;
	if (base->key != NULL && base->key_len == sizeof(s->key)) {
		memcpy(s->key, base->key, sizeof(s->key));
		s->base.key = s->key;
	} /* (any other length: hc_gw_open refuses it, with its message) */
	if (base->bind != NULL) {
		s->bind = strdup(base->bind);
		if (s->bind == NULL) {
			free(s);
			snprintf(err, err_len, "out of memory");
			errno = ENOMEM;
			return NULL;
		}
		s->base.bind = s->bind;
	}
	if (cb != NULL)
		s->cb = *cb;
	for (unsigned i = 0; i < 65536; i++)
		s->pidx[i] = NO_POOL;
	for (unsigned i = 0; i < map->n_appliances; i++) {
		if (open_slot(s, s->n_slots, map->appliance[i].name, map->appliance[i].addr, err,
			      err_len) != 0) {
			int saved = errno;
			hc_gw_shard_close(s, 0);
			errno = saved;
			return NULL;
		}
		s->n_slots++;
	}
	route(s, map);
	return s;
}

void hc_gw_shard_close(struct hc_gw_shard *s, int clean)
{
	if (s == NULL)
		return;
	if (s->in_poll) { /* from a callback: at the end of hc_gw_shard_poll */
		if (!s->closing)
			s->closing = 1 + (clean != 0);
		return;
	}
	for (unsigned i = 0; i < s->n_slots; i++)
		if (s->slot[i].g != NULL)
			hc_gw_close(s->slot[i].g, clean);
	sodium_memzero(s->key, sizeof(s->key));
	free(s->bind);
	free(s);
}

/* ------------------------------------------------------------ routing -- */

/* A set closed from a callback (ESHUTDOWN), or a home slot whose session
 * was closed directly (ENOTCONN, hc_gw_shard_poll): 1, errno set. */
static int refuse_closed(const struct hc_gw_shard *s)
{
	if (!s->closing)
		return 0;
	errno = ESHUTDOWN;
	return 1;
}

static int refuse_no_session(const struct hc_gw_shard *s, unsigned h)
{
	if (s->slot[h].g != NULL)
		return 0;
	errno = ENOTCONN;
	return 1;
}

int hc_gw_shard_join(struct hc_gw_shard *s, uint64_t user, uint32_t room, uint16_t pool)
{
	if (refuse_closed(s))
		return -1;
	int i = s->pidx[pool];
	if (i == NO_POOL) {
		s->st.unrouted++;
		errno = ENXIO;
		return -1;
	}
	if (room < s->map.pool[i].room_first || room > s->map.pool[i].room_last) {
		s->st.out_of_range++;
		errno = ERANGE;
		return -1;
	}
	unsigned h = s->home[i];
	if (refuse_no_session(s, h))
		return -1;
	/* a user held through another of our sessions (another pool's
	 * appliance) moves, and keeps its session stamp there: the sessions
	 * holding it looked at once (a stamp is never 0 for a user held) */
	uint64_t session = 0;
	uint32_t holders = 0;
	for (unsigned k = 0; k < s->n_slots; k++) {
		uint64_t there = k != h && s->slot[k].g != NULL ?
			hc_gw_session_of(s->slot[k].g, user) : 0;
		if (there != 0) {
			holders |= 1u << k;
			session = session != 0 ? session : there;
		}
	}
	if (hc_gw_join_session(s->slot[h].g, user, room, pool, session) != 0)
		return -1;
	for (unsigned k = 0; k < s->n_slots; k++) /* the user's other pool's home */
		if (holders >> k & 1)
			hc_gw_leave(s->slot[k].g, user);
	return 0;
}

int hc_gw_shard_leave(struct hc_gw_shard *s, uint64_t user)
{
	if (refuse_closed(s))
		return -1;
	for (unsigned k = 0; k < s->n_slots; k++)
		if (s->slot[k].g != NULL && hc_gw_room_of(s->slot[k].g, user) != 0)
			return hc_gw_leave(s->slot[k].g, user);
	errno = ENOENT;
	return -1;
}

int hc_gw_shard_place(struct hc_gw_shard *s, uint64_t user, uint16_t pool,
		      uint32_t *request_id, unsigned *shard)
{
	if (refuse_closed(s))
		return -1;
	int h = pool_home(s, pool);
	if (h < 0) {
		s->st.unrouted++;
		errno = ENXIO;
		return -1;
	}
	if (refuse_no_session(s, h))
		return -1;
	if (shard != NULL)
		*shard = (unsigned)h;
	return hc_gw_place(s->slot[h].g, user, pool, request_id);
}

/* ------------------------------------------------------ moving pools -- */

struct member {
	uint64_t user;
	uint32_t room;
	uint16_t pool;
};

struct collect {
	const struct hc_gw_shard *s;
	unsigned slot;
	struct member *m;
	size_t n, cap;
	int oom;
	uint64_t unmapped;        /* users of pools not in the map */
	const struct hc_gw_shard_map *next; /* count against this map */
};

static void collect_one(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct collect *c = arg;
	if (c->next != NULL) {
		int found = 0;
		for (unsigned i = 0; i < c->next->n_pools && !found; i++)
			found = c->next->pool[i].pool == pool;
		/* a pool leaving the map: in this one, not in the next (one in
		 * neither, which an appliance's NEW_TOPIC named, blocks no map:
		 * it blocked every map until the user left; a carried note) */
		c->unmapped += !found && pool_home(c->s, pool) >= 0;
		return;
	}
	if (pool_home(c->s, pool) == (int)c->slot)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct member *m = realloc(c->m, cap * sizeof(*m));
		if (m == NULL) {
			c->oom = 1;
			return;
		}
		c->m = m;
		c->cap = cap;
	}
	c->m[c->n++] = (struct member){user, room, pool};
}

/* The counters of g, about to close, into the closed sessions' sums
 * (every field but the five gauges: a field added to hc_gw_stats must be
 * summed here if it counts) */
_Static_assert(sizeof(struct hc_gw_stats) == 36 * sizeof(uint64_t) + 4 * sizeof(uint32_t),
	       "hc_gw_stats changed: sum its new counters in keep_counters");
static void keep_counters(struct hc_gw_shard *s, const struct hc_gw *g)
{
	struct hc_gw_stats x;
	hc_gw_get_stats(g, &x);
	struct hc_gw_stats *c = &s->closed;
#define SUM(f) c->f += x.f;
	SUM(joins) SUM(leaves) SUM(event_datagrams) SUM(retransmits) SUM(nacks)
	SUM(snapshots) SUM(snapshot_members) SUM(resync_requests) SUM(appliance_restarts)
	SUM(places) SUM(place_resends) SUM(place_timeouts) SUM(assigns) SUM(new_topics)
	SUM(moves) SUM(moves_ignored) SUM(heartbeats_sent) SUM(heartbeats_received)
	SUM(rx_bad) SUM(send_errors) SUM(digest_mismatches) SUM(digest_snapshots)
	SUM(rx_bad_auth) SUM(rx_wrong_source) SUM(rx_stale) SUM(rx_replayed) SUM(id_conflicts)
	SUM(refusals) SUM(superseded) SUM(lost) SUM(appliance_switches) SUM(stale_directives)
	SUM(send_skipped) SUM(history_grow_failed) SUM(acks_ahead)
#undef SUM
}

/* Appliances gone from the map close once empty (clean: SHUTDOWN) and
 * their PLACEs answered or timed out (closed with them, a PLACE would get
 * neither: the gateway would wait for its user for ever; a review).  One
 * with users left makes the next poll reconcile again (stray); one with
 * PLACEs only is looked at again at each poll (dropped_waiting), which
 * its own timers wake. */
static void close_dropped(struct hc_gw_shard *s)
{
	s->dropped_waiting = 0;
	for (unsigned k = 0; k < s->n_slots; k++) {
		struct slot *sl = &s->slot[k];
		if (sl->g == NULL || sl->in_map)
			continue;
		hc_gw_flush(sl->g);
		if (hc_gw_users(sl->g) != 0) {
			s->stray = 1;
		} else if (hc_gw_places_pending(sl->g) != 0) {
			s->dropped_waiting = 1;
		} else {
			keep_counters(s, sl->g);
			hc_gw_close(sl->g, 1);
			sl->g = NULL;
		}
	}
}

/* Every session's users whose pool is homed elsewhere: JOIN on the home,
 * LEAVE here.  Returns users moved; counts them as moved or strays. */
static uint64_t reconcile(struct hc_gw_shard *s, int strays)
{
	uint64_t moved = 0;
	s->stray = 0;
	for (unsigned k = 0; k < s->n_slots; k++) {
		struct slot *sl = &s->slot[k];
		if (sl->g == NULL)
			continue;
		struct collect c = {.s = s, .slot = k};
		hc_gw_foreach(sl->g, collect_one, &c);
		if (c.oom)
			s->stray = 1; /* the rest after a backoff */
		for (size_t i = 0; i < c.n; i++) {
			int h = pool_home(s, c.m[i].pool);
			if (h < 0 && sl->in_map)
				continue; /* not routable: stays (apply_map refuses this) */
			if (h < 0) { /* on a dropped appliance, in a pool without
			                a home (its NEW_TOPIC named one): it stays, the
			                appliance open; retried after a backoff */
				s->st.move_errors++;
				continue;
			}
			if (s->slot[h].g == NULL) { /* the home closed directly */
				s->st.move_errors++;
				continue;
			}
			/* the user's session stamp goes with them: a new one
			 * would make this restatement newer than a reconnect
			 * through another gateway since, and take the user
			 * from it (a review) */
			uint64_t session = hc_gw_session_of(sl->g, c.m[i].user);
			if (hc_gw_join_session(s->slot[h].g, c.m[i].user, c.m[i].room, c.m[i].pool,
					       session) != 0) {
				s->st.move_errors++;
				s->stray = 1;
				continue;
			}
			hc_gw_leave(sl->g, c.m[i].user);
			moved++;
		}
		free(c.m);
	}
	if (strays)
		s->st.strays += moved;
	else
		s->st.users_moved += moved;
	close_dropped(s);
	/* someone left behind (refused, out of memory, or on a dropped
	 * appliance): again later, not at the next poll */
	if (s->stray) {
		s->stray_backoff_ms = s->stray_backoff_ms == 0 ? STRAY_BACKOFF_FIRST_MS
				      : s->stray_backoff_ms >= STRAY_BACKOFF_MAX_MS / 2
				      ? STRAY_BACKOFF_MAX_MS : 2 * s->stray_backoff_ms;
		s->stray_due_ms = now_ms() + s->stray_backoff_ms;
	} else {
		s->stray_backoff_ms = 0;
		s->stray_due_ms = 0;
	}
	return moved;
}

int hc_gw_shard_apply_map(struct hc_gw_shard *s, const struct hc_gw_shard_map *next,
			  char *err, size_t err_len)
{
	if (s->in_poll) {
		snprintf(err, err_len, "a map applied from a callback: apply it after "
			 "hc_gw_shard_poll returns");
		s->st.maps_refused++;
		errno = EDEADLK;
		return -1;
	}
	if (map_check(next, err, err_len) != 0) {
		s->st.maps_refused++;
		return -1;
	}
	if (next->version <= s->map.version) {
		snprintf(err, err_len, "map version %u is not newer than %u", next->version,
			 s->map.version);
		s->st.maps_refused++;
		errno = ESTALE;
		return -1;
	}
	unsigned fresh = 0;
	for (unsigned i = 0; i < next->n_appliances; i++) {
		int k = find_slot(s, next->appliance[i].name);
		if (k < 0) {
			/* a new name for an appliance still open under another
			 * (a dropped one waiting for its PLACEs): two sessions */
			for (unsigned j = 0; j < s->n_slots; j++) {
				if (s->slot[j].g == NULL ||
				    strcmp(s->slot[j].addr, next->appliance[i].addr) != 0)
					continue;
				snprintf(err, err_len, "appliance %s: the addresses of appliance %s, "
					 "still open: name it %s", next->appliance[i].name,
					 s->slot[j].name, s->slot[j].name);
				s->st.maps_refused++;
				errno = EINVAL;
				return -1;
			}
			fresh++;
		} else if (strcmp(s->slot[k].addr, next->appliance[i].addr) != 0 ||
			   s->slot[k].g == NULL) {
			snprintf(err, err_len, "appliance %s: %s", next->appliance[i].name,
				 s->slot[k].g == NULL ? "closed by an earlier map: give it a new name"
						      : "its address changed: give it a new name");
			s->st.maps_refused++;
			errno = EINVAL;
			return -1;
		}
	}
	if (s->n_slots + fresh > HC_GW_SHARD_MAX_APPLIANCES) {
		snprintf(err, err_len, "more than %d appliances over the shard set's life",
			 HC_GW_SHARD_MAX_APPLIANCES);
		s->st.maps_refused++;
		errno = EINVAL;
		return -1;
	}
	/* a pool may leave the map only once nobody here is in it */
	struct collect c = {.s = s, .next = next};
	for (unsigned k = 0; k < s->n_slots; k++)
		if (s->slot[k].g != NULL)
			hc_gw_foreach(s->slot[k].g, collect_one, &c);
	if (c.unmapped != 0) {
		snprintf(err, err_len, "%llu users are in pools the new map drops",
			 (unsigned long long)c.unmapped);
		s->st.maps_refused++;
		errno = EBUSY;
		return -1;
	}
	/* all or nothing: the new appliances' sessions open into the slots
	 * past n_slots; if one fails, those opened close again (cleanly: the
	 * appliance saw an empty snapshot, then a SHUTDOWN) and nothing of the
	 * set changed; only when all are open do they count and routing moves */
	unsigned opened = 0;
	for (unsigned i = 0; i < next->n_appliances; i++) {
		if (find_slot(s, next->appliance[i].name) >= 0)
			continue;
		if (open_slot(s, s->n_slots + opened, next->appliance[i].name,
			      next->appliance[i].addr, err, err_len) != 0) {
			int saved = errno;
			for (unsigned j = 0; j < opened; j++) {
				struct slot *sl = &s->slot[s->n_slots + j];
				hc_gw_close(sl->g, 1);
				memset(sl, 0, sizeof(*sl));
			}
			s->st.maps_refused++;
			errno = saved;
			return -1;
		}
		opened++;
	}
	s->n_slots += opened;
	for (unsigned i = 0; i < next->n_pools; i++) {
		int was = s->pidx[next->pool[i].pool];
		if (was != NO_POOL &&
		    strcmp(s->map.appliance[s->map.pool[was].appliance].name,
			   next->appliance[next->pool[i].appliance].name) != 0)
			s->st.pools_moved++;
	}
	route(s, next);
	reconcile(s, 0);
	s->st.maps_applied++;
	return 0;
}

/* ------------------------------------------------------------ polling -- */

int hc_gw_shard_timeout_ms(const struct hc_gw_shard *s)
{
	int t = -1;
	for (unsigned k = 0; k < s->n_slots; k++) {
		if (s->slot[k].g == NULL)
			continue;
		int x = hc_gw_timeout_ms(s->slot[k].g);
		if (x >= 0 && (t < 0 || x < t))
			t = x;
	}
	if (s->stray) { /* a reconcile due now, or after its backoff */
		uint64_t now = now_ms();
		int left = s->stray_due_ms <= now ? 0 : (int)(s->stray_due_ms - now);
		if (t < 0 || left < t)
			t = left;
	}
	return t;
}

int hc_gw_shard_poll(struct hc_gw_shard *s, int timeout_ms)
{
	if (s->in_poll) {
		errno = EBUSY;
		return -1;
	}
	struct pollfd pfd[HC_GW_SHARD_MAX_APPLIANCES];
	unsigned n = 0;
	for (unsigned k = 0; k < s->n_slots; k++)
		if (s->slot[k].g != NULL)
			pfd[n++] = (struct pollfd){.fd = hc_gw_fd(s->slot[k].g), .events = POLLIN};
	int t = hc_gw_shard_timeout_ms(s);
	if (t < 0 || (timeout_ms >= 0 && timeout_ms < t))
		t = timeout_ms;
	if (n > 0 && t != 0 && poll(pfd, n, t) < 0 && errno != EINTR)
		return -1;
	int total = 0, failed = 0;
	s->in_poll = 1;
	for (unsigned k = 0; k < s->n_slots && !s->closing; k++) {
		if (s->slot[k].g == NULL)
			continue;
		int r = hc_gw_poll(s->slot[k].g, 0);
		if (r < 0) {
			failed = errno;
			if (failed == ESHUTDOWN) { /* closed directly: gone, the set not */
				s->slot[k].g = NULL;
				failed = ENOTCONN;
			}
			break;
		}
		total += r;
	}
	if (failed == 0 && !s->closing && s->stray && s->stray_due_ms <= now_ms())
		reconcile(s, 1);
	else if (failed == 0 && !s->closing && s->dropped_waiting)
		close_dropped(s);
	s->in_poll = 0;
	if (s->closing) { /* a callback closed the set: it is gone */
		hc_gw_shard_close(s, s->closing - 1);
		errno = ESHUTDOWN;
		return -1;
	}
	if (failed != 0) {
		errno = failed;
		return -1;
	}
	return total;
}

unsigned hc_gw_shard_fds(const struct hc_gw_shard *s, int *fds, unsigned max)
{
	for (unsigned k = 0; k < s->n_slots && k < max; k++)
		fds[k] = s->slot[k].g != NULL ? hc_gw_fd(s->slot[k].g) : -1;
	return s->n_slots;
}

/* ------------------------------------------------------------ reading -- */

unsigned hc_gw_shard_count(const struct hc_gw_shard *s)
{
	return s->n_slots;
}

struct hc_gw *hc_gw_shard_session(const struct hc_gw_shard *s, unsigned shard)
{
	return shard < s->n_slots ? s->slot[shard].g : NULL;
}

const char *hc_gw_shard_name(const struct hc_gw_shard *s, unsigned shard)
{
	return shard < s->n_slots ? s->slot[shard].name : NULL;
}

int hc_gw_shard_of_pool(const struct hc_gw_shard *s, uint16_t pool)
{
	return pool_home(s, pool);
}

uint64_t hc_gw_shard_users(const struct hc_gw_shard *s)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < s->n_slots; k++)
		if (s->slot[k].g != NULL)
			n += hc_gw_users(s->slot[k].g);
	return n;
}

void hc_gw_shard_get_stats(const struct hc_gw_shard *s, struct hc_gw_shard_stats *st)
{
	*st = s->st;
}

void hc_gw_shard_closed_stats(const struct hc_gw_shard *s, struct hc_gw_stats *st)
{
	*st = s->closed;
}
