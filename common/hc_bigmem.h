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

/* size bytes, zeroed, 64-byte aligned at least (2 MiB when outside DPDK's
 * heap), every page faulted in (not at the fast path's first touch);
 * name names a DPDK allocation, socket its NUMA socket.  NULL when out of
 * memory or size is 0. */
void *hc_bigmem_zalloc(const char *name, size_t size, int socket);

/* Free p (NULL: nothing), allocated with this very size. */
void hc_bigmem_free(void *p, size_t size);

/* Would an allocation of size bytes be made outside DPDK's heap (EAL
 * without hugepages, size at least one huge page)? */
int hc_bigmem_outside(size_t size);

/* Bytes allocated outside DPDK's heap now (all threads). */
size_t hc_bigmem_bytes(void);

#endif /* HC_BIGMEM_H */
