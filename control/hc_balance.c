/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_balance.c - the balancer's plan for one pool (see hc_balance.h for
 * the problem it solves exactly).
 *
 * HOW IT WORKS
 * A room is pinned if it has reserved seats r; its bounds are
 * lo = max(min, r) and hi = max(max, r).  Kept, a room has a cheapest
 * state: above hi it sheds o - hi (summed: E, users that must move),
 * below lo it takes lo - o (D, the deficits), otherwise it stays.  From
 * that state it can still give G_i users (down to lo, one move each) and
 * take C_i (up to hi, costing no move of its own):
 *     o > hi: G_i = hi - lo, C_i = 0;   o < lo: G_i = 0, C_i = hi - lo;
 *     otherwise G_i = o - lo, C_i = hi - o.
 * An unpinned room may instead be dissolved: its o users all move (P).
 * For one choice of dissolved rooms, W = P + E - D is what the users that
 * must move leave over once every deficit is filled; the fewest moves are
 * D + g (G, C: sums over kept rooms):
 *     W <= 0:          g = 0    donors give -W (feasible iff -W <= G);
 *     0 < W <= C:      g = W    kept rooms take the W;
 *     W >= min, W > C: g = W    new rooms take max(min, W - C), kept
 *                               rooms the rest;
 *     C < W < min:     g = min  donors give min - W, which with the W make
 *                               one new room of min (iff min - W <= G).
 * Which rooms to dissolve (the arguments: docs/architecture.md):
 *   - of the unpinned rooms below min, the j smallest, for some j;
 *   - rooms of min or more only once every small one is, only as many as
 *     feasibility needs (each dissolution adds exactly min to W + G; one
 *     more never lowers the cost), smallest first.
 * So the candidates are j = 0 .. all small rooms, then k = 1 .. the first
 * feasible k: O(n) after counting sorts, O(n + max).  Ties: fewer new
 * rooms, then more rooms dissolved.
 * If no candidate is feasible (see hc_balance.h), the least shortfall has
 * one forced layout (plan_short).  A pool of fewer than min seats is
 * gathered into the room with the most users (gather).
 * The plan matches a queue of sources (the users that must move, then
 * donors, fullest first, down to target before down to lo) with the
 * destinations in order: deficits (fullest first), kept rooms toward
 * target, then up to max, then new rooms of about target.  Every transfer
 * is clipped to the move budget.  All memory is the struct hc_balance's,
 * made once.
 */
#include "hc_balance.h"

#include <stdlib.h>
#include <string.h>

struct hc_bal_src {
	uint32_t idx;  /* into rooms[] */
	uint32_t left; /* users still to move out */
};

/* The aggregates of one choice of dissolved rooms. */
struct cand {
	uint64_t p;    /* users of the dissolved rooms */
	uint64_t e;    /* kept rooms' excess above hi */
	uint64_t d;    /* kept rooms' deficit below lo */
	uint64_t g;    /* kept rooms' users they can still give */
	uint64_t c;    /* kept rooms' seats they can still take */
	uint32_t j, k; /* small[0, j) and other[0, k) dissolved */
};

/* A candidate judged: moves, and how the movers end up. */
struct verdict {
	int ok;             /* feasible */
	uint64_t moves;
	uint64_t donate;    /* users donors give */
	uint64_t absorb;    /* users kept rooms take beyond their deficits */
	uint64_t fresh;     /* users for new rooms */
	uint64_t new_rooms;
};

/* One plan in the making. */
struct ctx {
	struct hc_balance *b;
	const struct hc_bal_room *rooms;
	uint32_t n, min, target, max;
	uint32_t *occ;            /* working occupancy per room index */
	uint32_t *small;          /* unpinned, 0 < o < min, by occupancy */
	uint32_t *other;          /* unpinned, o >= min, by min(o, max) */
	uint32_t *pinned;         /* reserved > 0, by min(o, max) */
	uint32_t ns, no, np;
	uint64_t total;
	struct hc_bal_plan *plan;
	uint64_t budget;
	struct hc_bal_src *src;   /* sources, in order */
	uint32_t n_src, pos;
	int stop;                 /* budget or plan capacity exhausted */
};

int hc_balance_init(struct hc_balance *b, uint32_t max_rooms)
{
	size_t n = max_rooms ? max_rooms : 1;
	memset(b, 0, sizeof(*b));
	b->max_rooms = max_rooms;
	b->occ = malloc(sizeof(uint32_t) * n);
	b->small = malloc(sizeof(uint32_t) * n);
	b->other = malloc(sizeof(uint32_t) * n);
	b->pinned = malloc(sizeof(uint32_t) * n);
	b->donor = malloc(sizeof(uint32_t) * n);
	b->sorted = malloc(sizeof(uint32_t) * n);
	b->count = malloc(sizeof(uint32_t) * (HC_BAL_MAX_SIZE + 2));
	b->src = malloc(sizeof(struct hc_bal_src) * (3 * n + 1));
	if (!b->occ || !b->small || !b->other || !b->pinned || !b->donor ||
	    !b->sorted || !b->count || !b->src) {
		hc_balance_free(b);
		return -1;
	}
	return 0;
}

void hc_balance_free(struct hc_balance *b)
{
	free(b->occ);
	free(b->small);
	free(b->other);
	free(b->pinned);
	free(b->donor);
	free(b->sorted);
	free(b->count);
	free(b->src);
	memset(b, 0, sizeof(*b));
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* A kept room's bounds: lo = max(min, reserved), hi = max(max, reserved). */
static uint32_t lo_of(const struct ctx *x, uint32_t i)
{
	return x->rooms[i].reserved > x->min ? x->rooms[i].reserved : x->min;
}

static uint32_t hi_of(const struct ctx *x, uint32_t i)
{
	return x->rooms[i].reserved > x->max ? x->rooms[i].reserved : x->max;
}

/* Add (sign 1) or remove (sign -1) room i, kept, to the aggregates. */
static void kept(const struct ctx *x, uint32_t i, struct cand *k, int sign)
{
	uint64_t o = x->occ[i], lo = lo_of(x, i), hi = hi_of(x, i);
	uint64_t e = 0, d = 0, g, c;
	if (o > hi) {
		e = o - hi;
		g = hi - lo;
		c = 0;
	} else if (o < lo) {
		d = lo - o;
		g = 0;
		c = hi - lo;
	} else {
		g = o - lo;
		c = hi - o;
	}
	if (sign > 0) {
		k->e += e, k->d += d, k->g += g, k->c += c;
	} else {
		k->e -= e, k->d -= d, k->g -= g, k->c -= c;
	}
}

/* New rooms for n users: about n / target, each within [min, max]. */
static uint64_t rooms_for(const struct ctx *x, uint64_t n)
{
	uint64_t k = (n + x->target / 2) / x->target;
	uint64_t least = (n + x->max - 1) / x->max, most = n / x->min;
	if (k < least)
		k = least;
	if (k > most)
		k = most;
	return k;
}

static struct verdict judge(const struct ctx *x, const struct cand *k)
{
	struct verdict v = {0};
	int64_t w = (int64_t)(k->p + k->e) - (int64_t)k->d;
	uint64_t g;
	if (w <= 0) {
		g = 0;
	} else if ((uint64_t)w <= k->c) {
		g = (uint64_t)w;
	} else if ((uint64_t)w >= x->min) {
		g = (uint64_t)w;
		v.fresh = (uint64_t)w - k->c > x->min ? (uint64_t)w - k->c : x->min;
	} else {
		g = x->min;
		v.fresh = x->min;
	}
	v.donate = (uint64_t)((int64_t)g - w);
	v.ok = v.donate <= k->g;
	v.moves = k->d + g;
	v.absorb = g - v.fresh;
	v.new_rooms = v.fresh ? rooms_for(x, v.fresh) : 0;
	return v;
}

/* Is a better than b: fewer moves, then fewer new rooms (ties go to the
 * candidate judged later: more rooms dissolved). */
static int better(const struct verdict *a, const struct verdict *b)
{
	if (!a->ok)
		return 0;
	if (!b->ok)
		return 1;
	if (a->moves != b->moves)
		return a->moves < b->moves;
	return a->new_rooms <= b->new_rooms;
}

/* Record k users from rooms[from_idx] to rooms[to] (or new room `to`).
 * Returns -1 when the plan has no room for another transfer. */
static int emit(struct ctx *x, uint32_t from_idx, uint32_t to, int to_is_new, uint32_t k)
{
	struct hc_bal_plan *p = x->plan;
	uint32_t from = x->rooms[from_idx].room;
	uint32_t to_id = to_is_new ? (HC_BAL_NEW | to) : x->rooms[to].room;

	if (p->n > 0 && p->t[p->n - 1].from == from && p->t[p->n - 1].to == to_id) {
		p->t[p->n - 1].count += k;
	} else {
		if (p->n == p->cap) {
			x->stop = 1;
			return -1;
		}
		p->t[p->n++] = (struct hc_bal_transfer){.from = from, .to = to_id, .count = k};
	}
	p->moves += k;
	x->occ[from_idx] -= k;
	if (!to_is_new)
		x->occ[to] += k;
	else if (to + 1 > p->new_rooms)
		p->new_rooms = to + 1;
	return 0;
}

/* Move up to want users from the sources into `to`; returns how many. */
static uint64_t pull(struct ctx *x, uint32_t to, int to_is_new, uint64_t want)
{
	uint64_t got = 0;
	while (got < want && x->pos < x->n_src && !x->stop) {
		struct hc_bal_src *s = &x->src[x->pos];
		if (s->left == 0) {
			x->pos++;
			continue;
		}
		uint64_t k = min64(want - got, s->left);
		if (k >= x->budget) {
			k = x->budget;
			x->stop = 1;
		}
		if (k == 0 || emit(x, s->idx, to, to_is_new, (uint32_t)k) != 0)
			break;
		x->budget -= k;
		s->left -= (uint32_t)k;
		got += k;
	}
	return got;
}

/* Queue `left` users of rooms[idx] to move, after the sources queued. */
static void add_source(struct ctx *x, uint32_t idx, uint64_t left)
{
	if (left > 0)
		x->src[x->n_src++] = (struct hc_bal_src){.idx = idx, .left = (uint32_t)left};
}

/* Counting sort of idx[] by min(occupancy, max), ascending, so "fullest
 * first" and "smallest first" cost O(n + max). */
static void sort_by_occ(struct ctx *x, uint32_t *idx, uint32_t n)
{
	uint32_t *count = x->b->count, *out = x->b->sorted, levels = x->max + 1;
	memset(count, 0, sizeof(uint32_t) * (levels + 1));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t o = x->occ[idx[i]];
		count[(o < x->max ? o : x->max) + 1]++;
	}
	for (uint32_t l = 0; l < levels; l++)
		count[l + 1] += count[l];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t o = x->occ[idx[i]];
		out[count[o < x->max ? o : x->max]++] = idx[i];
	}
	memcpy(idx, out, sizeof(uint32_t) * n);
}

/* Occupancies, and each non-empty room's class, each sorted. */
static void classify(struct ctx *x)
{
	for (uint32_t i = 0; i < x->n; i++) {
		uint64_t o = (uint64_t)x->rooms[i].users + x->rooms[i].reserved;
		x->occ[i] = (uint32_t)o;
		x->total += o;
		if (o == 0)
			continue;
		if (x->rooms[i].reserved > 0)
			x->pinned[x->np++] = i;
		else if (o < x->min)
			x->small[x->ns++] = i;
		else
			x->other[x->no++] = i;
	}
	sort_by_occ(x, x->small, x->ns);
	sort_by_occ(x, x->other, x->no);
	sort_by_occ(x, x->pinned, x->np);
}

/* The cheapest feasible choice of dissolved rooms (c, v); v.ok = 0 if
 * there is none. */
static void choose(const struct ctx *x, struct cand *best_c, struct verdict *best_v)
{
	struct cand k = {0};
	for (uint32_t i = 0; i < x->ns; i++)
		kept(x, x->small[i], &k, 1);
	for (uint32_t i = 0; i < x->no; i++)
		kept(x, x->other[i], &k, 1);
	for (uint32_t i = 0; i < x->np; i++)
		kept(x, x->pinned[i], &k, 1);
	best_v->ok = 0;
	for (;; k.j++) { /* dissolve the j smallest small rooms */
		struct verdict v = judge(x, &k);
		if (better(&v, best_v)) {
			*best_c = k;
			*best_v = v;
		}
		if (k.j == x->ns)
			break;
		kept(x, x->small[k.j], &k, -1);
		k.p += x->occ[x->small[k.j]];
	}
	struct verdict v = judge(x, &k);
	while (!v.ok && k.k < x->no) { /* then the fewest others, smallest */
		kept(x, x->other[k.k], &k, -1);
		k.p += x->occ[x->other[k.k]];
		k.k++;
		v = judge(x, &k);
		if (better(&v, best_v)) {
			*best_c = k;
			*best_v = v;
		}
	}
}

/* Pull into rooms idx[from, to) up to cap each (never above their hi),
 * at most *left users in all. */
static void fill(struct ctx *x, const uint32_t *idx, uint32_t from, uint32_t to, uint32_t cap,
		 uint64_t *left)
{
	for (uint32_t i = from; i < to && *left > 0 && !x->stop; i++) {
		uint32_t r = idx[i];
		uint32_t top = cap < hi_of(x, r) ? cap : hi_of(x, r);
		if (x->occ[r] < top)
			*left -= pull(x, r, 0, min64(top - x->occ[r], *left));
	}
}

/* Fill the deficits of small[j, ns) and of pinned rooms, fullest first,
 * each up to its lo. */
static void fill_deficits(struct ctx *x, uint32_t j)
{
	uint32_t a = x->ns, p = x->np;
	while (!x->stop) {
		while (p > 0 && x->occ[x->pinned[p - 1]] >= lo_of(x, x->pinned[p - 1]))
			p--;
		uint32_t r;
		if (a > j && (p == 0 || x->occ[x->small[a - 1]] >= x->occ[x->pinned[p - 1]]))
			r = x->small[--a];
		else if (p > 0)
			r = x->pinned[--p];
		else
			break;
		uint64_t want = lo_of(x, r) - x->occ[r];
		if (pull(x, r, 0, want) < want)
			break; /* sources exhausted (or the budget) */
	}
}

/* New rooms: `fresh` users in `count` rooms of as equal size as can be. */
static void open_rooms(struct ctx *x, uint64_t fresh, uint64_t count)
{
	for (uint64_t r = 0; r < count && !x->stop; r++) {
		uint64_t size = fresh / count + (r < fresh % count);
		pull(x, (uint32_t)r, 1, size);
	}
}

/* Donors: kept rooms that can give (other[k, no) and pinned rooms above
 * lo), fullest first, first down to target, then down to lo. */
static void queue_donors(struct ctx *x, uint32_t k, uint64_t want)
{
	uint32_t nd = 0, *donor = x->b->donor;
	for (uint32_t i = k; i < x->no; i++)
		donor[nd++] = x->other[i];
	for (uint32_t i = 0; i < x->np; i++)
		if (x->occ[x->pinned[i]] > lo_of(x, x->pinned[i]))
			donor[nd++] = x->pinned[i];
	sort_by_occ(x, donor, nd); /* a room above max counts as at max */
	for (int pass = 0; pass < 2 && want > 0; pass++) {
		for (uint32_t i = nd; i-- > 0 && want > 0;) {
			uint32_t d = donor[i], lo = lo_of(x, d), hi = hi_of(x, d);
			uint32_t floor = lo > x->target ? lo : x->target;
			uint32_t has = x->occ[d] < hi ? x->occ[d] : hi; /* after shedding */
			if (pass == 1) {
				has = has < floor ? has : floor;
				floor = lo;
			}
			if (has > floor) {
				uint64_t give = min64(has - floor, want);
				add_source(x, d, give);
				want -= give;
			}
		}
	}
}

/* The plan for a feasible choice. */
static void plan_moves(struct ctx *x, const struct cand *c, const struct verdict *v)
{
	/* sources: kept rooms' excess, the dissolved rooms, donors */
	for (uint32_t i = c->k; i < x->no; i++)
		if (x->occ[x->other[i]] > x->max)
			add_source(x, x->other[i], x->occ[x->other[i]] - x->max);
	for (uint32_t i = 0; i < x->np; i++) {
		uint32_t r = x->pinned[i];
		if (x->occ[r] > hi_of(x, r))
			add_source(x, r, x->occ[r] - hi_of(x, r));
	}
	for (uint32_t i = 0; i < c->j; i++)
		add_source(x, x->small[i], x->rooms[x->small[i]].users);
	for (uint32_t i = 0; i < c->k; i++)
		add_source(x, x->other[i], x->rooms[x->other[i]].users);
	queue_donors(x, c->k, v->donate);

	/* destinations: deficits, kept rooms toward target, to max, new rooms */
	fill_deficits(x, c->j);
	uint64_t left = v->absorb;
	for (int pass = 0; pass < 2; pass++) {
		uint32_t cap = pass == 0 ? x->target : x->max;
		fill(x, x->small, c->j, x->ns, cap, &left);
		fill(x, x->pinned, 0, x->np, cap, &left);
		fill(x, x->other, c->k, x->no, cap, &left);
	}
	open_rooms(x, v->fresh, v->new_rooms);
}

/*
 * No choice makes every room valid: reach the least total shortfall,
 * whose layout is forced.
 *   - More seats pinned than users (T < sum of pinned lo): every unpinned
 *     user and every pinned room's users above lo fill the pinned deficits,
 *     fullest first; shortfall sum(lo) - T.
 *   - Otherwise pinned rooms are full and the R = T - sum(lo) < min users
 *     left over cannot make a room: every pinned room goes to lo, the
 *     others gather into the unpinned room with the most users (or a new
 *     room); shortfall min - R.
 */
static void plan_short(struct ctx *x)
{
	uint64_t lo_sum = 0;
	for (uint32_t i = 0; i < x->np; i++) {
		uint32_t r = x->pinned[i];
		lo_sum += lo_of(x, r);
		if (x->occ[r] > lo_of(x, r))
			add_source(x, r, x->occ[r] - lo_of(x, r));
	}
	if (x->total < lo_sum) {
		for (uint32_t i = 0; i < x->ns; i++)
			add_source(x, x->small[i], x->rooms[x->small[i]].users);
		for (uint32_t i = 0; i < x->no; i++)
			add_source(x, x->other[i], x->rooms[x->other[i]].users);
		fill_deficits(x, x->ns);
		return;
	}
	uint64_t rest = x->total - lo_sum;
	uint32_t keep = UINT32_MAX; /* the unpinned room with the most users */
	for (uint32_t i = 0; i < x->n; i++)
		if (x->occ[i] > 0 && x->rooms[i].reserved == 0 &&
		    (keep == UINT32_MAX || x->occ[i] > x->occ[keep]))
			keep = i;
	for (uint32_t i = 0; i < x->ns; i++)
		if (x->small[i] != keep)
			add_source(x, x->small[i], x->rooms[x->small[i]].users);
	for (uint32_t i = 0; i < x->no; i++)
		if (x->other[i] != keep)
			add_source(x, x->other[i], x->rooms[x->other[i]].users);
	if (keep != UINT32_MAX && x->occ[keep] > rest)
		add_source(x, keep, x->occ[keep] - rest);
	fill_deficits(x, x->ns);
	if (keep == UINT32_MAX)
		pull(x, 0, 1, rest);
	else if (x->occ[keep] < rest)
		pull(x, keep, 0, rest - x->occ[keep]);
}

/* A pool of fewer than min seats: every user into the room with the most
 * users (the fullest on a tie). */
static void gather(struct ctx *x)
{
	uint32_t g = UINT32_MAX;
	for (uint32_t i = 0; i < x->n; i++)
		if (x->occ[i] > 0 &&
		    (g == UINT32_MAX || x->rooms[i].users > x->rooms[g].users ||
		     (x->rooms[i].users == x->rooms[g].users && x->occ[i] > x->occ[g])))
			g = i;
	for (uint32_t i = 0; i < x->n; i++)
		if (i != g)
			add_source(x, i, x->rooms[i].users);
	pull(x, g, 0, x->total);
}

int hc_balance_pool(struct hc_balance *b, const struct hc_pool_cfg *c,
		    const struct hc_bal_room *rooms, uint32_t n, uint64_t max_moves,
		    struct hc_bal_plan *plan)
{
	plan->n = 0;
	plan->new_rooms = 0;
	plan->moves = 0;
	plan->truncated = 0;
	if (n > b->max_rooms || c->max > HC_BAL_MAX_SIZE)
		return -1;
	if (n == 0)
		return 0;

	struct ctx x = {.b = b, .rooms = rooms, .n = n, .min = c->min, .target = c->target,
			.max = c->max, .occ = b->occ, .small = b->small,
			.other = b->other, .pinned = b->pinned, .plan = plan,
			.budget = max_moves, .src = b->src};
	classify(&x);
	if (x.total == 0)
		return 0;
	if (x.total < x.min) {
		gather(&x);
	} else {
		struct cand best = {0};
		struct verdict v = {0};
		choose(&x, &best, &v);
		if (v.ok)
			plan_moves(&x, &best, &v);
		else
			plan_short(&x);
	}
	/* sources not drained: the budget or the plan's capacity cut it */
	for (uint32_t i = x.pos; i < x.n_src; i++)
		if (x.src[i].left > 0)
			plan->truncated = 1;
	return 0;
}
