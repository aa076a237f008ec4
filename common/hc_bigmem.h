/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bigmem.h - memory for the big tables that are read at random, one
 * line per access: a worker's user slots and user index, the control
 * core's reservation and directive rings and their indexes.
 *
 * With hugepages (production) they come from DPDK's heap like everything
 * else.  Without (EAL --no-huge: containers, test machines, this lab)
 * DPDK's heap is in 4 KiB pages, and a random access to a table of
 * hundreds of MiB misses the TLB nearly every time: a page walk on top of
 * the cache miss.  There a table of 2 MiB or more is anonymous memory
 * aligned to 2 MiB and advised MADV_HUGEPAGE, which the kernel backs with
 * transparent huge pages where they are enabled ("always" or "madvise");
 * where they are not, it is ordinary memory, as DPDK's would be.  Such
 * memory is not part of EAL's -m: hc_bigmem_bytes counts it.  Its pages
 * lie on the NUMA node of the lcore that allocates it (they are written
 * there, at allocation), not necessarily the socket asked for: the
 * machines that run without hugepages here have one node.
 * docs/benchmarks.md, "Huge pages for the big tables".
 */
#ifndef HC_BIGMEM_H
#define HC_BIGMEM_H

#include <stddef.h>
#include <stdint.h>

/* The huge page the memory outside DPDK's heap is aligned to, advised
 * for and, for a heap of its own (hc_bigmem_heap), declared to DPDK in. */
#define HC_BIGMEM_HUGE_PAGE ((size_t)2 << 20)

/* size bytes, zeroed, 64-byte aligned at least (2 MiB when outside DPDK's
 * heap), every page faulted in (not at the fast path's first touch);
 * name names a DPDK allocation, socket its NUMA socket.  NULL when out of
 * memory or size is 0. */
void *hc_bigmem_zalloc(const char *name, size_t size, int socket);

/* Outside DPDK's heap (hc_bigmem_zalloc's and hc_bigmem_heap_create's
 * memory), more than the kernel's MemAvailable is refused: it is all
 * faulted in at once, and more than that would end in the OOM killer, not
 * in an error.  For tests: take bytes as MemAvailable (0: read the
 * kernel's again). */
void hc_bigmem_tell_mem_available(uint64_t bytes);

/* Free p (NULL: nothing), allocated with this very size. */
void hc_bigmem_free(void *p, size_t size);

/* Would an allocation of size bytes be made outside DPDK's heap (EAL
 * without hugepages, size at least one huge page)? */
int hc_bigmem_outside(size_t size);

/* Bytes allocated outside DPDK's heap now (all threads). */
size_t hc_bigmem_bytes(void);

/*
 * A DPDK malloc heap of its own, for a mempool that is read at random by
 * the fast path: the packet pools.  Without hugepages (EAL --no-huge)
 * EAL's memory is 4 KiB pages of a shared memory file, which the kernel
 * backs with 4 KiB pages only, and a mempool there puts each object on
 * pages of its own (an mbuf never spans a page): a 2 KiB mbuf takes a
 * whole page, so every mbuf is a TLB miss and every mbuf's header falls
 * in the same few cache sets.  hc_bigmem_heap_create makes a heap named
 * name of size bytes (rounded up to 2 MiB) in anonymous memory advised
 * MADV_HUGEPAGE (as hc_bigmem_zalloc's), declared to DPDK as 2 MiB pages,
 * so that a mempool packs its objects as on hugepages; docs/benchmarks.md,
 * "The packet pools in huge pages".  With hugepages it makes nothing.
 * Either way h->socket is the socket to allocate from (the heap's, or
 * socket); returns 0, or a negative errno with h->socket = socket and no
 * heap: -ENOMEM when there is not the memory (past MemAvailable, or the
 * mapping refused), else the caller may allocate from EAL's memory as
 * before.  Not part of EAL's -m: hc_bigmem_heap_bytes counts it.
 */
#define HC_BIGMEM_HEAP_NAME 32 /* a heap's name, its NUL too (DPDK's limit) */
struct hc_bigmem_heap {
	char name[HC_BIGMEM_HEAP_NAME];
	void *va;   /* the heap's memory; NULL: no heap of its own */
	size_t len; /* its bytes, a multiple of 2 MiB */
	int socket; /* where to allocate: the heap's socket id, or socket */
};
int hc_bigmem_heap_create(struct hc_bigmem_heap *h, const char *name, size_t size, int socket);

/* Give h's heap back (none: nothing), once everything allocated in it
 * has been freed: 0, or a negative errno (something is still allocated:
 * the heap stays). */
int hc_bigmem_heap_destroy(struct hc_bigmem_heap *h);

/* Bytes of the heaps hc_bigmem_heap_create made, now (all threads). */
size_t hc_bigmem_heap_bytes(void);

/* 0 when the kernel gives no transparent huge pages at all
 * (/sys/kernel/mm/transparent_hugepage/enabled is "never": the advice is
 * then ignored, and the big tables and the pools' heaps are 4 KiB pages,
 * the pools still packed); 1 otherwise, or when it cannot be read. */
int hc_bigmem_thp_enabled(void);

#endif /* HC_BIGMEM_H */
