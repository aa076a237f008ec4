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
 * Every transfer is clipped to the move budget.  O(n + max) time.
 */
#include "hc_balance.h"

#include <stdlib.h>
#include <string.h>

struct src {
	uint32_t idx;  /* into rooms[] */
	uint32_t left; /* users still to move out */
};

struct ctx {
	const struct hc_bal_room *rooms;
	uint32_t *occ;            /* working occupancy per room index */
	uint32_t *movable;        /* users that can still be moved out */
	struct hc_bal_plan *plan;
	uint64_t budget;
	struct src *src;          /* movers, in order */
	uint32_t n_src, pos;
	int stop;                 /* budget or plan capacity exhausted */
};

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
		struct src *s = &x->src[x->pos];
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

static uint32_t movers_left(const struct ctx *x)
{
	uint32_t t = 0;
	for (uint32_t i = x->pos; i < x->n_src; i++)
		t += x->src[i].left;
	return t;
}

/* Counting sort of idx[] by occ, ascending (occ values in [0, levels)). */
static int sort_by_occ(uint32_t *idx, uint32_t n, const uint32_t *occ, uint32_t levels)
{
	uint32_t *count = calloc(levels + 1, sizeof(uint32_t));
	uint32_t *out = malloc(sizeof(uint32_t) * (n ? n : 1));
	if (count == NULL || out == NULL) {
		free(count);
		free(out);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		count[occ[idx[i]] + 1]++;
	for (uint32_t l = 0; l < levels; l++)
		count[l + 1] += count[l];
	for (uint32_t i = 0; i < n; i++)
		out[count[occ[idx[i]]]++] = idx[i];
	memcpy(idx, out, sizeof(uint32_t) * n);
	free(count);
	free(out);
	return 0;
}

int hc_balance_pool(const struct hc_pool_cfg *c, const struct hc_bal_room *rooms,
		    uint32_t n, uint64_t max_moves, struct hc_bal_plan *plan)
{
	const uint32_t min = c->min, max = c->max, target = c->target;
	int rc = -1;

	plan->n = 0;
	plan->new_rooms = 0;
	plan->moves = 0;
	plan->truncated = 0;
	if (n == 0)
		return 0;

	uint32_t *occ = malloc(sizeof(uint32_t) * n);
	uint32_t *small = malloc(sizeof(uint32_t) * n);
	uint32_t *normal = malloc(sizeof(uint32_t) * n);
	uint32_t *big = malloc(sizeof(uint32_t) * n);
	struct src *src = malloc(sizeof(struct src) * (2 * (size_t)n + 2));
	uint64_t *prefix = malloc(sizeof(uint64_t) * (n + 1));
	uint64_t *deficit = malloc(sizeof(uint64_t) * (n + 1));
	uint32_t *movable = malloc(sizeof(uint32_t) * n);
	if (!occ || !small || !normal || !big || !src || !prefix || !deficit || !movable)
		goto out;

	struct ctx x = {.rooms = rooms, .occ = occ, .movable = movable, .plan = plan,
			.budget = max_moves, .src = src};
	uint32_t ns = 0, nn = 0, nb = 0, fullest = UINT32_MAX;
	uint64_t total = 0, excess = 0;
	for (uint32_t i = 0; i < n; i++) {
		occ[i] = rooms[i].users + rooms[i].reserved;
		movable[i] = rooms[i].users;
		total += occ[i];
		if (occ[i] == 0)
			continue;
		if (fullest == UINT32_MAX || occ[i] > occ[fullest])
			fullest = i;
		if (occ[i] < min)
			small[ns++] = i;
		else if (occ[i] > max) {
			big[nb++] = i;
			excess += occ[i] - max;
		} else
			normal[nn++] = i;
	}
	if (fullest == UINT32_MAX) {
		rc = 0;
		goto out;
	}

	/* a pool too small for min: one room */
	if (total < min) {
		for (uint32_t i = 0; i < n; i++)
			if (i != fullest && rooms[i].users > 0)
				src[x.n_src++] = (struct src){.idx = i, .left = rooms[i].users};
		pull(&x, fullest, 0, UINT32_MAX);
		rc = 0;
		goto out;
	}

	if (sort_by_occ(small, ns, occ, min) != 0)
		goto out;
	prefix[0] = 0;
	for (uint32_t j = 0; j < ns; j++)
		prefix[j + 1] = prefix[j] + rooms[small[j]].users;
	deficit[ns] = 0;
	for (uint32_t j = ns; j-- > 0;)
		deficit[j] = deficit[j + 1] + (min - occ[small[j]]);
	/* what normal and big rooms can give without going below min */
	uint64_t donors = 0;
	for (uint32_t i = 0; i < nn; i++) {
		uint32_t d = occ[normal[i]] - min;
		donors += d < rooms[normal[i]].users ? d : rooms[normal[i]].users;
	}
	for (uint32_t i = 0; i < nb; i++) {
		uint32_t after = rooms[big[i]].users - (occ[big[i]] - max);
		donors += (max - min) < after ? (max - min) : after;
	}

	uint32_t best = ns;
	uint64_t best_cost = UINT64_MAX;
	for (uint32_t j = 0; j <= ns; j++) {
		uint64_t m = prefix[j] + excess, d = deficit[j];
		uint64_t extra = d > m ? d - m : 0;
		if (extra > donors)
			continue;
		uint64_t cost = m + extra;
		if (cost <= best_cost) { /* ties: the larger j, fewer rooms */
			best_cost = cost;
			best = j;
		}
	}

	/* mandatory movers: big rooms' excess, then the dissolved rooms */
	for (uint32_t i = 0; i < nb; i++)
		src[x.n_src++] = (struct src){.idx = big[i], .left = occ[big[i]] - max};
	for (uint32_t j = 0; j < best; j++)
		if (rooms[small[j]].users > 0)
			src[x.n_src++] = (struct src){.idx = small[j], .left = rooms[small[j]].users};

	/* 1. fill kept small rooms to min */
	uint64_t short_by = 0;
	for (uint32_t j = best; j < ns && !x.stop; j++) {
		uint32_t k = small[j];
		uint32_t need = min - occ[k];
		need -= pull(&x, k, 0, need);
		short_by += need;
	}
	/* ... from donors when the movers were not enough: the fullest rooms
	 * first, down to target, then down to min */
	if (short_by > 0 && !x.stop) {
		uint32_t nd = 0;
		for (uint32_t i = 0; i < nn; i++)
			normal[nd++] = normal[i];
		for (uint32_t i = 0; i < nb; i++)
			normal[nd++] = big[i]; /* at max by now */
		if (sort_by_occ(normal, nd, occ, max + 1) != 0)
			goto out;
		uint32_t j = best;
		for (uint32_t pass = 0; pass < 2 && short_by > 0 && !x.stop; pass++) {
			uint32_t floor = pass == 0 ? target : min;
			for (uint32_t di = nd; di-- > 0 && short_by > 0 && !x.stop;) {
				uint32_t d = normal[di];
				if (occ[d] <= floor || x.movable[d] == 0)
					continue;
				uint32_t give = occ[d] - floor;
				if (give > x.movable[d])
					give = x.movable[d];
				/* this donor is the only mover for a moment */
				uint32_t save_pos = x.pos, save_n = x.n_src;
				x.src[save_n] = (struct src){.idx = d, .left = give};
				x.pos = save_n;
				x.n_src = save_n + 1;
				for (; j < ns && !x.stop; j++) {
					uint32_t k = small[j];
					if (occ[k] < min)
						short_by -= pull(&x, k, 0, min - occ[k]);
					if (occ[k] < min)
						break; /* donor exhausted: next donor, same room */
				}
				x.pos = save_pos;
				x.n_src = save_n;
			}
		}
	}

	/* 2. movers left: kept rooms and normal rooms toward target, then max */
	for (uint32_t pass = 0; pass < 2 && movers_left(&x) > 0 && !x.stop; pass++) {
		uint32_t cap = pass == 0 ? target : max;
		for (uint32_t j = best; j < ns && !x.stop; j++)
			if (occ[small[j]] < cap)
				pull(&x, small[j], 0, cap - occ[small[j]]);
		for (uint32_t i = 0; i < nn && !x.stop; i++)
			if (occ[normal[i]] < cap)
				pull(&x, normal[i], 0, cap - occ[normal[i]]);
	}
	/* 3. new rooms of about target; a last one below min is topped up
	 * from the fullest rooms (never below min themselves) */
	uint32_t left;
	while ((left = movers_left(&x)) > 0 && !x.stop) {
		uint32_t take = left < target ? left : target;
		if (left - take > 0 && left - take < min && left <= max)
			take = left; /* no new room below min when one can hold all */
		uint32_t room = plan->new_rooms++;
		uint32_t got = pull(&x, room, 1, take);
		if (got < min && movers_left(&x) == 0 && !x.stop) {
			uint32_t nd = 0;
			for (uint32_t i = 0; i < nn; i++)
				normal[nd++] = normal[i];
			for (uint32_t i = 0; i < nb; i++)
				normal[nd++] = big[i];
			for (uint32_t i = best; i < ns; i++)
				normal[nd++] = small[i]; /* kept rooms are at min or more now */
			if (sort_by_occ(normal, nd, occ, max + 1) != 0)
				goto out;
			for (uint32_t di = nd; di-- > 0 && got < min && !x.stop;) {
				uint32_t d = normal[di];
				if (occ[d] <= min || x.movable[d] == 0)
					continue;
				uint32_t give = occ[d] - min;
				if (give > x.movable[d])
					give = x.movable[d];
				if (give > min - got)
					give = min - got;
				x.src[x.n_src] = (struct src){.idx = d, .left = give};
				x.pos = x.n_src++;
				got += pull(&x, room, 1, give);
			}
		}
	}
	rc = 0;
out:
	free(occ);
	free(small);
	free(normal);
	free(big);
	free(src);
	free(prefix);
	free(deficit);
	free(movable);
	return rc;
}
