/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_balance.c - the balancer's plan for one pool (see hc_balance.h).
 *
 * HOW IT WORKS
 * 1. Rooms are split by occupancy o: small (0 < o < min), big (o > max),
 *    normal (the rest); empty rooms are the retirer's business.
 * 2. If the whole pool holds fewer than min users, everyone goes to the
 *    fullest room.
 * 3. Small rooms are counting-sorted by occupancy.  Dissolving the j
 *    smallest makes P(j) users move; keeping the others needs
 *    D(j) = sum(min - o) users to arrive.  Big rooms must shed
 *    E = sum(o - max).  Mandatory movers M = P(j) + E fill the deficits
 *    first; if they fall short, normal rooms donate the rest (X users,
 *    largest rooms first, never below min).  Moves = M + X = max(M, D).
 *    The j with the fewest moves wins; on a tie the larger j (fewer
 *    rooms, closer to target).
 * 4. Movers left after the deficits go to kept rooms up to target, normal
 *    rooms up to target, any of them up to max, then new rooms of target.
 * Every transfer is clipped to the move budget.  O(n + max) time; all
 * memory is the struct hc_balance's, made once.
 */
#include "hc_balance.h"

#include <stdlib.h>
#include <string.h>

struct hc_bal_src {
	uint32_t idx;  /* into rooms[] */
	uint32_t left; /* users still to move out */
};

/* One plan in the making: the pool's rules, its rooms by class, the
 * movers and the budget. */
struct ctx {
	struct hc_balance *b;
	const struct hc_bal_room *rooms;
	uint32_t n, min, target, max;
	uint32_t *occ;            /* working occupancy per room index */
	uint32_t *movable;        /* users that can still be moved out */
	uint32_t *small, *normal, *big;
	uint32_t ns, nn, nb;
	uint32_t best;            /* small[0, best) dissolve, the rest stay */
	uint32_t fullest;         /* UINT32_MAX: every room is empty */
	uint64_t total, excess;   /* users in the pool; big rooms' excess */
	struct hc_bal_plan *plan;
	uint64_t budget;
	struct hc_bal_src *src;   /* movers, in order */
	uint32_t n_src, pos;
	int stop;                 /* budget or plan capacity exhausted */
};

/* Where donated users go: the kept small rooms from `next` on, each up to
 * min, or (kept NULL) the plan's new room `room`. */
struct sink {
	const uint32_t *kept;
	uint32_t n_kept, next;
	uint32_t room;
	uint64_t short_by;        /* users still missing */
};

int hc_balance_init(struct hc_balance *b, uint32_t max_rooms)
{
	size_t n = max_rooms ? max_rooms : 1;
	memset(b, 0, sizeof(*b));
	b->max_rooms = max_rooms;
	b->occ = malloc(sizeof(uint32_t) * n);
	b->movable = malloc(sizeof(uint32_t) * n);
	b->small = malloc(sizeof(uint32_t) * n);
	b->normal = malloc(sizeof(uint32_t) * n);
	b->big = malloc(sizeof(uint32_t) * n);
	b->donor = malloc(sizeof(uint32_t) * n);
	b->sorted = malloc(sizeof(uint32_t) * n);
	b->count = malloc(sizeof(uint32_t) * (HC_BAL_MAX_SIZE + 2));
	b->prefix = malloc(sizeof(uint64_t) * (n + 1));
	b->deficit = malloc(sizeof(uint64_t) * (n + 1));
	b->src = malloc(sizeof(struct hc_bal_src) * (2 * n + 2));
	if (!b->occ || !b->movable || !b->small || !b->normal || !b->big || !b->donor ||
	    !b->sorted || !b->count || !b->prefix || !b->deficit || !b->src) {
		hc_balance_free(b);
		return -1;
	}
	return 0;
}

void hc_balance_free(struct hc_balance *b)
{
	free(b->occ);
	free(b->movable);
	free(b->small);
	free(b->normal);
	free(b->big);
	free(b->donor);
	free(b->sorted);
	free(b->count);
	free(b->prefix);
	free(b->deficit);
	free(b->src);
	memset(b, 0, sizeof(*b));
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
			p->truncated = 1;
			x->stop = 1;
			return -1;
		}
		p->t[p->n++] = (struct hc_bal_transfer){.from = from, .to = to_id, .count = k};
	}
	p->moves += k;
	x->occ[from_idx] -= k;
	x->movable[from_idx] -= k;
	if (!to_is_new)
		x->occ[to] += k;
	return 0;
}

/* Move up to want users from the movers into `to`; returns how many. */
static uint32_t pull(struct ctx *x, uint32_t to, int to_is_new, uint32_t want)
{
	uint32_t got = 0;
	while (got < want && x->pos < x->n_src && !x->stop) {
		struct hc_bal_src *s = &x->src[x->pos];
		if (s->left == 0) {
			x->pos++;
			continue;
		}
		uint64_t k = want - got < s->left ? want - got : s->left;
		if (k >= x->budget) {
			if (k > x->budget)
				x->plan->truncated = 1;
			k = x->budget;
			x->stop = 1;
		}
		if (k == 0 || emit(x, s->idx, to, to_is_new, (uint32_t)k) != 0)
			break;
		x->budget -= k;
		s->left -= (uint32_t)k;
		got += (uint32_t)k;
	}
	return got;
}

/* Users the movers still have to place. */
static uint32_t movers_left(const struct ctx *x)
{
	uint32_t t = 0;
	for (uint32_t i = x->pos; i < x->n_src; i++)
		t += x->src[i].left;
	return t;
}

/* Queue `left` users of rooms[idx] to move, after the movers queued. */
static void add_mover(struct ctx *x, uint32_t idx, uint32_t left)
{
	x->src[x->n_src++] = (struct hc_bal_src){.idx = idx, .left = left};
}

/* Counting sort of idx[] by occupancy, ascending (occupancies in
 * [0, levels)), so "fullest first" and "smallest first" cost O(n + max). */
static void sort_by_occ(struct ctx *x, uint32_t *idx, uint32_t n, uint32_t levels)
{
	uint32_t *count = x->b->count, *out = x->b->sorted;
	memset(count, 0, sizeof(uint32_t) * (levels + 1));
	for (uint32_t i = 0; i < n; i++)
		count[x->occ[idx[i]] + 1]++;
	for (uint32_t l = 0; l < levels; l++)
		count[l + 1] += count[l];
	for (uint32_t i = 0; i < n; i++)
		out[count[x->occ[idx[i]]]++] = idx[i];
	memcpy(idx, out, sizeof(uint32_t) * n);
}

/* Step 1: occupancies, and each room's class (small, normal, big). */
static void classify(struct ctx *x)
{
	for (uint32_t i = 0; i < x->n; i++) {
		uint32_t o = x->rooms[i].users + x->rooms[i].reserved;
		x->occ[i] = o;
		x->movable[i] = x->rooms[i].users;
		x->total += o;
		if (o == 0)
			continue;
		if (x->fullest == UINT32_MAX || o > x->occ[x->fullest])
			x->fullest = i;
		if (o < x->min)
			x->small[x->ns++] = i;
		else if (o > x->max) {
			x->big[x->nb++] = i;
			x->excess += o - x->max;
		} else
			x->normal[x->nn++] = i;
	}
}

/* Step 2: a pool too small for min becomes one room, its fullest. */
static void gather(struct ctx *x)
{
	for (uint32_t i = 0; i < x->n; i++)
		if (i != x->fullest && x->rooms[i].users > 0)
			add_mover(x, i, x->rooms[i].users);
	pull(x, x->fullest, 0, UINT32_MAX);
}

/* What normal and big rooms can give without going below min: bounds
 * how many kept small rooms donors can save. */
static uint64_t spare(const struct ctx *x)
{
	uint64_t donors = 0;
	for (uint32_t i = 0; i < x->nn; i++) {
		uint32_t r = x->normal[i];
		uint32_t d = x->occ[r] - x->min;
		donors += d < x->rooms[r].users ? d : x->rooms[r].users;
	}
	for (uint32_t i = 0; i < x->nb; i++) {
		uint32_t r = x->big[i];
		uint32_t after = x->rooms[r].users - (x->occ[r] - x->max);
		donors += (x->max - x->min) < after ? (x->max - x->min) : after;
	}
	return donors;
}

/* Step 3: how many of the smallest rooms to dissolve (x->best): the
 * feasible j with the fewest moves, the larger j on a tie. */
static void choose_dissolved(struct ctx *x)
{
	uint64_t *prefix = x->b->prefix, *deficit = x->b->deficit;
	uint32_t ns = x->ns;

	sort_by_occ(x, x->small, ns, x->min);
	prefix[0] = 0;
	for (uint32_t j = 0; j < ns; j++)
		prefix[j + 1] = prefix[j] + x->rooms[x->small[j]].users;
	deficit[ns] = 0;
	for (uint32_t j = ns; j-- > 0;)
		deficit[j] = deficit[j + 1] + (x->min - x->occ[x->small[j]]);
	uint64_t donors = spare(x);

	uint64_t best_cost = UINT64_MAX;
	x->best = ns;
	for (uint32_t j = 0; j <= ns; j++) {
		uint64_t m = prefix[j] + x->excess, d = deficit[j];
		uint64_t extra = d > m ? d - m : 0;
		if (extra > donors)
			continue;
		uint64_t cost = m + extra;
		if (cost <= best_cost) { /* ties: the larger j, fewer rooms */
			best_cost = cost;
			x->best = j;
		}
	}
}

/* The users that must move whatever else happens: big rooms' excess,
 * then every user of the dissolved rooms. */
static void queue_mandatory(struct ctx *x)
{
	for (uint32_t i = 0; i < x->nb; i++)
		add_mover(x, x->big[i], x->occ[x->big[i]] - x->max);
	for (uint32_t j = 0; j < x->best; j++)
		if (x->rooms[x->small[j]].users > 0)
			add_mover(x, x->small[j], x->rooms[x->small[j]].users);
}

/* Give the sink what one donor (the only mover for the moment) has;
 * returns how many users it took. */
static uint32_t fill_sink(struct ctx *x, struct sink *s)
{
	if (s->kept == NULL)
		return pull(x, s->room, 1, (uint32_t)s->short_by);
	uint32_t got = 0;
	for (; s->next < s->n_kept && !x->stop; s->next++) {
		uint32_t k = s->kept[s->next];
		if (x->occ[k] < x->min)
			got += pull(x, k, 0, x->min - x->occ[k]);
		if (x->occ[k] < x->min)
			break; /* donor exhausted: next donor, same room */
	}
	return got;
}

/* The one donor loop: donor[] (sorted by occupancy) gives to the sink,
 * fullest first, never below floor, until the sink has what it needs. */
static void donate(struct ctx *x, const uint32_t *donor, uint32_t nd, uint32_t floor,
		   struct sink *s)
{
	for (uint32_t di = nd; di-- > 0 && s->short_by > 0 && !x->stop;) {
		uint32_t d = donor[di];
		if (x->occ[d] <= floor || x->movable[d] == 0)
			continue;
		uint32_t give = x->occ[d] - floor;
		if (give > x->movable[d])
			give = x->movable[d];
		/* this donor is the only mover for a moment */
		uint32_t save_pos = x->pos, save_n = x->n_src;
		add_mover(x, d, give);
		x->pos = save_n;
		s->short_by -= fill_sink(x, s);
		x->pos = save_pos;
		x->n_src = save_n;
	}
}

/* The rooms that may donate, sorted by occupancy: normal and big rooms
 * (at max by now), and the kept small rooms when with_kept. */
static uint32_t collect_donors(struct ctx *x, int with_kept)
{
	uint32_t nd = 0;
	for (uint32_t i = 0; i < x->nn; i++)
		x->b->donor[nd++] = x->normal[i];
	for (uint32_t i = 0; i < x->nb; i++)
		x->b->donor[nd++] = x->big[i];
	for (uint32_t i = x->best; with_kept && i < x->ns; i++)
		x->b->donor[nd++] = x->small[i]; /* at min or more by then */
	sort_by_occ(x, x->b->donor, nd, x->max + 1);
	return nd;
}

/* Plan step 1: fill the kept small rooms to min from the movers, then
 * from donors (down to target, then down to min) if they were not enough. */
static void fill_kept(struct ctx *x)
{
	struct sink s = {.kept = x->small, .n_kept = x->ns, .next = x->best};
	for (uint32_t j = x->best; j < x->ns && !x->stop; j++) {
		uint32_t k = x->small[j];
		uint32_t need = x->min - x->occ[k];
		need -= pull(x, k, 0, need);
		s.short_by += need;
	}
	if (s.short_by == 0 || x->stop)
		return;
	uint32_t nd = collect_donors(x, 0);
	donate(x, x->b->donor, nd, x->target, &s);
	donate(x, x->b->donor, nd, x->min, &s);
}

/* Pull movers into rooms idx[0, n) while they are below cap. */
static void fill_to(struct ctx *x, const uint32_t *idx, uint32_t n, uint32_t cap)
{
	for (uint32_t i = 0; i < n && !x->stop; i++)
		if (x->occ[idx[i]] < cap)
			pull(x, idx[i], 0, cap - x->occ[idx[i]]);
}

/* Plan step 2: movers left go to kept and normal rooms toward target,
 * then up to max. */
static void spread(struct ctx *x)
{
	for (uint32_t pass = 0; pass < 2 && movers_left(x) > 0 && !x->stop; pass++) {
		uint32_t cap = pass == 0 ? x->target : x->max;
		fill_to(x, x->small + x->best, x->ns - x->best, cap);
		fill_to(x, x->normal, x->nn, cap);
	}
}

/* Plan step 3: new rooms of about target; a last one below min is topped
 * up from the fullest rooms (never below min themselves). */
static void open_rooms(struct ctx *x)
{
	uint32_t left;
	while ((left = movers_left(x)) > 0 && !x->stop) {
		uint32_t take = left < x->target ? left : x->target;
		if (left - take > 0 && left - take < x->min && left <= x->max)
			take = left; /* no new room below min when one can hold all */
		uint32_t room = x->plan->new_rooms++;
		uint32_t got = pull(x, room, 1, take);
		if (got < x->min && movers_left(x) == 0 && !x->stop) {
			struct sink s = {.room = room, .short_by = x->min - got};
			uint32_t nd = collect_donors(x, 1);
			donate(x, x->b->donor, nd, x->min, &s);
		}
	}
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
			.max = c->max, .occ = b->occ, .movable = b->movable, .small = b->small,
			.normal = b->normal, .big = b->big, .fullest = UINT32_MAX,
			.plan = plan, .budget = max_moves, .src = b->src};
	classify(&x);
	if (x.fullest == UINT32_MAX)
		return 0;
	if (x.total < x.min) {
		gather(&x);
		return 0;
	}
	choose_dissolved(&x);
	queue_mandatory(&x);
	fill_kept(&x);
	spread(&x);
	open_rooms(&x);
	return 0;
}
