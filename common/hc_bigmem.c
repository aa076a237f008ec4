/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bigmem.c - the big tables' memory (hc_bigmem.h): DPDK's heap with
 * hugepages, else 2 MiB-aligned anonymous memory advised for transparent
 * huge pages; and, without hugepages, a DPDK heap of its own in such
 * memory for a mempool (hc_bigmem_heap).
 */
#include "hc_bigmem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>


static size_t bigmem_mapped; /* bytes outside DPDK's heap (atomics) */
static size_t heap_mapped;   /* bytes of hc_bigmem_heap's heaps (atomics) */

static size_t huge_round(size_t size)
{
	return (size + HC_BIGMEM_HUGE_PAGE - 1) & ~(HC_BIGMEM_HUGE_PAGE - 1);
}

int hc_bigmem_outside(size_t size)
{
	return size >= HC_BIGMEM_HUGE_PAGE && !rte_eal_has_hugepages();
}

/* Every page of [p, p + size), zeroed memory, faulted in: a write of 0 a
 * 4 KiB step, and one at the last byte (p need not be page aligned: its
 * last page may begin after the last step). */
static void fault_in(uint8_t *p, size_t size)
{
	for (size_t off = 0; off < size; off += 4096)
		((volatile uint8_t *)p)[off] = 0;
	((volatile uint8_t *)p)[size - 1] = 0;
}

static uint64_t mem_available_told; /* hc_bigmem_tell_mem_available's */

void hc_bigmem_tell_mem_available(uint64_t bytes)
{
	mem_available_told = bytes;
}

/* The kernel's MemAvailable in bytes (or what a test told), or 0 when it
 * cannot be read. */
static uint64_t mem_available(void)
{
	if (mem_available_told != 0)
		return mem_available_told;
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long long kib = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib * 1024;
}

/* len = huge_round(size) bytes of anonymous memory, 2 MiB-aligned,
 * advised MADV_HUGEPAGE, zeroed and faulted in; NULL when out of memory,
 * or when len is more than the kernel says it has available: all of it is
 * faulted in now, and more than that would end in the OOM killer (this
 * process or another one), not in an error the caller reports. */
static uint8_t *map_huge(size_t size, size_t len)
{
	if (len < size || len + HC_BIGMEM_HUGE_PAGE < len)
		return NULL; /* (a size near SIZE_MAX) */
	uint64_t avail = mem_available();
	if (avail != 0 && len > avail)
		return NULL;
	/* map one huge page more, then unmap what lies outside the aligned
	 * part: only the aligned part stays mapped (so free needs no base) */
	uint8_t *raw = mmap(NULL, len + HC_BIGMEM_HUGE_PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uint8_t *p = (uint8_t *)(((uintptr_t)raw + HC_BIGMEM_HUGE_PAGE - 1) & ~(uintptr_t)(HC_BIGMEM_HUGE_PAGE - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (p + len < raw + len + HC_BIGMEM_HUGE_PAGE)
		munmap(p + len, (size_t)(raw + len + HC_BIGMEM_HUGE_PAGE - (p + len)));
	/* advice only: without THP the memory works as 4 KiB pages */
	(void)madvise(p, len, MADV_HUGEPAGE);
	/* fault it all in now, not on the fast path's first touch (a huge
	 * page faults in whole at its first write) */
	fault_in(p, len);
	return p;
}

void *hc_bigmem_zalloc(const char *name, size_t size, int socket)
{
	if (size == 0)
		return NULL;
	if (!hc_bigmem_outside(size)) {
		uint8_t *p = rte_zmalloc_socket(name, size, 64, socket);
		/* without hugepages DPDK's heap is anonymous memory whose fresh
		 * pages its zmalloc knows to be zero and leaves untouched: each
		 * would fault in at the fast path's first touch of it (the pick
		 * memo's first compaction took 96 k cycles instead of 23 k,
		 * docs/benchmarks.md).  Faulted in now.  (EAL faults
		 * hugepages in when it maps them, as its heap grows: never at
		 * the fast path's first touch) */
		if (p != NULL && !rte_eal_has_hugepages())
			fault_in(p, size);
		return p;
	}
	size_t len = huge_round(size);
	uint8_t *p = map_huge(size, len);
	if (p == NULL)
		return NULL;
	__atomic_add_fetch(&bigmem_mapped, len, __ATOMIC_RELAXED);
	return p;
}

void hc_bigmem_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (!hc_bigmem_outside(size)) {
		rte_free(p);
		return;
	}
	size_t len = huge_round(size);
	munmap(p, len);
	__atomic_sub_fetch(&bigmem_mapped, len, __ATOMIC_RELAXED);
}

size_t hc_bigmem_bytes(void)
{
	return __atomic_load_n(&bigmem_mapped, __ATOMIC_RELAXED);
}

int hc_bigmem_heap_create(struct hc_bigmem_heap *h, const char *name, size_t size, int socket)
{
	memset(h, 0, sizeof(*h));
	h->socket = socket;
	if (rte_eal_has_hugepages() || size == 0)
		return 0;
	if (strlen(name) >= sizeof(h->name))
		return -ENAMETOOLONG;
	size_t len = huge_round(size);
	uint8_t *p = map_huge(size, len); /* (NULL past MemAvailable too) */
	if (p == NULL)
		return -ENOMEM;
	int rc;
	snprintf(h->name, sizeof(h->name), "%s", name);
	if (rte_malloc_heap_create(h->name) != 0) {
		rc = -rte_errno;
		goto unmap;
	}
	/* no IOVA table and no file descriptor: a mempool takes each chunk's
	 * IOVA from rte_mem_virt2iova (the address, in IOVA-as-VA mode),
	 * which drivers that copy frames never use; a NIC's DMA would need
	 * memory mapped for it, vhost-user or memif zero-copy a file to share
	 * (hc_port.c makes such heaps only for ports of the former) */
	if (rte_malloc_heap_memory_add(h->name, p, len, NULL,
				       (unsigned)(len / HC_BIGMEM_HUGE_PAGE),
				       HC_BIGMEM_HUGE_PAGE) != 0) {
		rc = -rte_errno;
		rte_malloc_heap_destroy(h->name);
		goto unmap;
	}
	h->va = p;
	h->len = len;
	h->socket = rte_malloc_heap_get_socket(h->name);
	__atomic_add_fetch(&heap_mapped, len, __ATOMIC_RELAXED);
	return 0;
unmap: /* (no heap: h->va stays NULL, h->socket the one asked for) */
	munmap(p, len);
	h->name[0] = '\0';
	return rc;
}

int hc_bigmem_heap_destroy(struct hc_bigmem_heap *h)
{
	if (h->va == NULL)
		return 0;
	/* (refused while anything is allocated in the heap: it all stays) */
	if (rte_malloc_heap_memory_remove(h->name, h->va, h->len) != 0)
		return -rte_errno;
	munmap(h->va, h->len);
	__atomic_sub_fetch(&heap_mapped, h->len, __ATOMIC_RELAXED);
	h->va = NULL;
	h->len = 0;
	/* (an empty heap: only its name stays if this fails) */
	return rte_malloc_heap_destroy(h->name) != 0 ? -rte_errno : 0;
}

size_t hc_bigmem_heap_bytes(void)
{
	return __atomic_load_n(&heap_mapped, __ATOMIC_RELAXED);
}

int hc_bigmem_thp_enabled(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char line[128];
	int on = 1;
	if (f == NULL)
		return 1; /* (not known: as the advice would have it) */
	if (fgets(line, sizeof(line), f) != NULL && strstr(line, "[never]") != NULL)
		on = 0;
	fclose(f);
	return on;
}
