/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_usertab.c - the compact user table (hc_usertab.h): hc_keyidx over the
 * caller's records, positions handed out from a free list threaded
 * through the freed records' key fields.
 */
#include "hc_usertab.h"

#include <errno.h>
#include <string.h>

#include <rte_prefetch.h>

int hc_usertab_init(struct hc_usertab *t, uint32_t capacity, void *records, size_t stride,
		    uint64_t seed, int socket)
{
	memset(t, 0, sizeof(*t));
	int rc = hc_keyidx_init(&t->ix, "hc_usertab", capacity, records, stride,
				HC_KEYIDX_DENSE, seed, socket);
	if (rc != 0)
		return rc;
	t->capacity = capacity;
	return 0;
}

void hc_usertab_free(struct hc_usertab *t)
{
	hc_keyidx_free(&t->ix);
	memset(t, 0, sizeof(*t));
}

static inline uint8_t *ut_record(const struct hc_usertab *t, uint32_t pos)
{
	return t->ix.records + (size_t)pos * t->ix.stride;
}

int32_t hc_usertab_add(struct hc_usertab *t, uint64_t key)
{
	int32_t found = hc_keyidx_lookup(&t->ix, key);
	return found >= 0 ? found : hc_usertab_add_absent(t, key);
}

int32_t hc_usertab_add_absent(struct hc_usertab *t, uint64_t key)
{
	/* the position the key gets: the free list's head, or a fresh one */
	uint32_t pos = t->free1 != 0 ? t->free1 - 1 : t->fresh;
	if (pos >= t->capacity || hc_keyidx_insert(&t->ix, key, pos) != 0)
		return -ENOSPC;
	if (t->free1 != 0) {
		t->free1 = (uint32_t)hc_usertab_key_at(t, pos); /* the next link */
		/* the next add's record and link, freed long ago perhaps: in
		 * cache by then rather than a miss nothing overlaps */
		if (t->free1 != 0)
			rte_prefetch0(ut_record(t, t->free1 - 1));
	} else {
		t->fresh++;
	}
	memcpy(ut_record(t, pos), &key, sizeof(key));
	return (int32_t)pos;
}

/* The position found's key deleted from the index: free it. */
static int32_t ut_free(struct hc_usertab *t, int32_t found)
{
	if (found < 0)
		return found;
	uint32_t pos = (uint32_t)found;
	uint64_t link = t->free1;
	memcpy(ut_record(t, pos), &link, sizeof(link));
	t->free1 = pos + 1;
	return (int32_t)pos;
}

int32_t hc_usertab_del(struct hc_usertab *t, uint64_t key)
{
	return ut_free(t, hc_keyidx_del(&t->ix, key));
}

int32_t hc_usertab_del_at(struct hc_usertab *t, uint64_t key, uint32_t pos, uint32_t hint)
{
	return ut_free(t, hc_keyidx_del_at(&t->ix, key, pos, hint));
}

int32_t hc_usertab_next(const struct hc_usertab *t, uint32_t *next)
{
	return hc_keyidx_next(&t->ix, next);
}

size_t hc_usertab_bytes(const struct hc_usertab *t)
{
	return hc_keyidx_bytes(&t->ix);
}
