/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_fuzz_env.c - what the harness runs in: EAL without hugepages, a
 * packet pool that ASan can see into, and the dataplane's allocations
 * made visible to ASan.
 *
 * DPDK's memory is neither ASan's heap nor poisoned, so by default an
 * overflow of a dataplane table (rte_zmalloc) or a use of a freed mbuf
 * goes unseen.  Two remedies, both local to the harness:
 *   - the dataplane's sources are compiled here with rte_malloc & co.
 *     renamed to hc_fz_* (tests/fuzz/meson.build), which are malloc,
 *     calloc and free: ASan's redzones, use-after-free and leak checks
 *     then cover every table the dataplane allocates (DPDK's own
 *     allocations, e.g. inside rte_hash, stay DPDK's);
 *   - the packet pool uses mempool ops of our own ("hc_fz_stack"): a
 *     plain stack that poisons an mbuf (header and data) when it is
 *     freed and unpoisons it when it is allocated, so the dataplane
 *     touching an mbuf it already freed (or freeing it twice) is an ASan
 *     report.  The stack's depth is also the exact count of free mbufs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "hc_fuzz_int.h"

/* ------------------------------------------------ rte_malloc renamed -- */

static size_t fz_align(unsigned align)
{
	size_t a = align < 64 ? 64 : align; /* DPDK aligns to a cache line at least */
	while (a & (a - 1))
		a &= a - 1;
	return a < align ? a << 1 : a;
}

/*
 * Large blocks (the per-gateway arrays, the pending table, ...) are kept
 * when freed and given again to the next request of the same size: a
 * dataplane is built and freed around every input, and fresh pages for
 * megabytes of tables would cost far more than the input itself.  A kept
 * block is poisoned while nobody owns it (a use after free is still an
 * ASan report); blocks never freed are still leaks.
 */
#define FZ_KEEP_MIN (16u << 10)
#define FZ_KEEP_MAX 512
static struct fz_kept {
	void *p;
	size_t size, align;
	int owned;
} fz_kept[FZ_KEEP_MAX];
static unsigned fz_n_kept;

/* Memory from rte_malloc is not zeroed: fill it with garbage, so that a
 * read of what was never written behaves the same in every run (and
 * unlike zeros, which DPDK's own heap happens to give).  Blocks above
 * FZ_GARBAGE_MAX (scratch arrays of megabytes: the pending table's nodes,
 * change buffers) only at their first allocation: filling them for every
 * input would cost a tenth of the run. */
#define FZ_GARBAGE 0xa5
#define FZ_GARBAGE_MAX (256u << 10)

static void *fz_malloc(size_t size, unsigned align, int *fresh);

void *hc_fz_malloc_socket(const char *type, size_t size, unsigned align, int socket)
{
	(void)type;
	(void)socket;
	int fresh = 0;
	void *p = fz_malloc(size, align, &fresh);
	if (p != NULL && (fresh || size <= FZ_GARBAGE_MAX))
		memset(p, FZ_GARBAGE, size);
	return p;
}

static void *fz_malloc(size_t size, unsigned align, int *fresh)
{
	size_t a = fz_align(align);
	if (size == 0)
		size = 1;
	if (size >= FZ_KEEP_MIN) {
		for (unsigned i = 0; i < fz_n_kept; i++) {
			struct fz_kept *k = &fz_kept[i];
			if (!k->owned && k->size == size && k->align == a) {
				k->owned = 1;
				ASAN_UNPOISON_MEMORY_REGION(k->p, size);
				return k->p;
			}
		}
	}
	void *p = NULL;
	if (posix_memalign(&p, a, size) != 0)
		return NULL;
	*fresh = 1;
	if (size >= FZ_KEEP_MIN && fz_n_kept < FZ_KEEP_MAX)
		fz_kept[fz_n_kept++] = (struct fz_kept){.p = p, .size = size, .align = a, .owned = 1};
	return p;
}

void *hc_fz_zmalloc_socket(const char *type, size_t size, unsigned align, int socket)
{
	(void)type;
	(void)socket;
	int fresh;
	void *p = fz_malloc(size, align, &fresh);
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void *hc_fz_calloc_socket(const char *type, size_t num, size_t size, unsigned align, int socket)
{
	if (size != 0 && num > SIZE_MAX / size)
		return NULL;
	return hc_fz_zmalloc_socket(type, num * size, align, socket);
}

void *hc_fz_malloc(const char *type, size_t size, unsigned align)
{
	return hc_fz_malloc_socket(type, size, align, SOCKET_ID_ANY);
}

void *hc_fz_zmalloc(const char *type, size_t size, unsigned align)
{
	return hc_fz_zmalloc_socket(type, size, align, SOCKET_ID_ANY);
}

void *hc_fz_calloc(const char *type, size_t num, size_t size, unsigned align)
{
	return hc_fz_calloc_socket(type, num, size, align, SOCKET_ID_ANY);
}

void hc_fz_free(void *ptr)
{
	if (ptr == NULL)
		return;
	for (unsigned i = 0; i < fz_n_kept; i++) {
		struct fz_kept *k = &fz_kept[i];
		if (k->p == ptr) {
			if (!k->owned) {
				fprintf(stderr, "hc-fuzz: rte_free of %p twice\n", ptr);
				abort();
			}
			k->owned = 0;
			ASAN_POISON_MEMORY_REGION(ptr, k->size);
			return;
		}
	}
	free(ptr);
}

void *hc_fz_realloc_socket(void *ptr, size_t size, unsigned align, int socket)
{
	(void)align;
	(void)socket;
	for (unsigned i = 0; i < fz_n_kept; i++)
		if (ptr != NULL && fz_kept[i].p == ptr) {
			/* not used by the dataplane; keep it simple: copy */
			void *q = hc_fz_malloc_socket(NULL, size, align, socket);
			if (q != NULL)
				memcpy(q, ptr, size < fz_kept[i].size ? size : fz_kept[i].size);
			hc_fz_free(ptr);
			return q;
		}
	return realloc(ptr, size);
}

void *hc_fz_realloc(void *ptr, size_t size, unsigned align)
{
	return hc_fz_realloc_socket(ptr, size, align, SOCKET_ID_ANY);
}

/* ------------------------------------------- the poisoning mbuf pool -- */

struct fz_stack {
	unsigned n, cap;
	int poison; /* on once the pool is built (rte_pktmbuf_init writes the
	               free objects while it is populated) */
	void *obj[];
};

static struct fz_stack *fz_stack_ref;

static int fz_stack_alloc(struct rte_mempool *mp)
{
	struct fz_stack *s = calloc(1, sizeof(*s) + sizeof(void *) * (mp->size + 1));
	if (s == NULL)
		return -ENOMEM;
	s->cap = mp->size + 1;
	mp->pool_data = s;
	fz_stack_ref = s; /* DPDK's memory is no root for LeakSanitizer */
	return 0;
}

static void fz_stack_free(struct rte_mempool *mp)
{
	free(mp->pool_data);
	mp->pool_data = NULL;
	fz_stack_ref = NULL;
}

static int fz_stack_enqueue(struct rte_mempool *mp, void *const *objs, unsigned n)
{
	struct fz_stack *s = mp->pool_data;
	if (s->n + n > s->cap) {
		/* more frees than mbufs: one was freed twice */
		fprintf(stderr, "hc-fuzz: mbuf pool overflow (%u + %u > %u): an mbuf freed twice\n",
			s->n, n, s->cap);
		abort();
	}
	for (unsigned i = 0; i < n; i++) {
		s->obj[s->n++] = objs[i];
		if (s->poison)
			ASAN_POISON_MEMORY_REGION(objs[i], mp->elt_size);
	}
	return 0;
}

static int fz_stack_dequeue(struct rte_mempool *mp, void **objs, unsigned n)
{
	struct fz_stack *s = mp->pool_data;
	if (s->n < n)
		return -ENOBUFS;
	for (unsigned i = 0; i < n; i++) {
		objs[i] = s->obj[--s->n];
		ASAN_UNPOISON_MEMORY_REGION(objs[i], mp->elt_size);
	}
	return 0;
}

static unsigned fz_stack_count(const struct rte_mempool *mp)
{
	const struct fz_stack *s = mp->pool_data;
	return s->n;
}

static struct rte_mempool_ops fz_stack_ops = {
	.name = "hc_fz_stack",
	.alloc = fz_stack_alloc,
	.free = fz_stack_free,
	.enqueue = fz_stack_enqueue,
	.dequeue = fz_stack_dequeue,
	.get_count = fz_stack_count,
};
RTE_MEMPOOL_REGISTER_OPS(fz_stack_ops);

/* ASan: the kept blocks are poisoned and unpoisoned around every input;
 * releasing their shadow pages each time would cost more than the input
 * (ASAN_OPTIONS in the environment still wins). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "clear_shadow_mmap_threshold=4294967296";
}

/* ------------------------------------------------------------- EAL -- */

struct rte_mempool *hc_fz_pool;

unsigned hc_fz_pool_free_count(void)
{
	return fz_stack_count(hc_fz_pool);
}

int hc_fz_env_init(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=hcfuzz%d", (int)getpid());
	char *eal_argv[] = {"hc-fuzz", "-l", "0", "--no-huge", "-m", "256", "--no-pci",
			    "--no-shconf", "--no-telemetry", prefix,
			    "--log-level=*:error", NULL};
	int eal_argc = (int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "hc-fuzz: EAL init failed\n");
		return -1;
	}
	/* no per-lcore cache: every free reaches the stack (and is poisoned) */
	hc_fz_pool = rte_pktmbuf_pool_create_by_ops("hc_fz", HC_FZ_MBUFS, 0, 0,
						    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY,
						    "hc_fz_stack");
	if (hc_fz_pool == NULL) {
		fprintf(stderr, "hc-fuzz: cannot create the mbuf pool\n");
		return -1;
	}
	struct fz_stack *s = hc_fz_pool->pool_data;
	s->poison = 1;
	for (unsigned i = 0; i < s->n; i++)
		ASAN_POISON_MEMORY_REGION(s->obj[i], hc_fz_pool->elt_size);
	return 0;
}
