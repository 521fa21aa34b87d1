/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: a sorted array of non-overlapping regions, searched by
 * binary search.  Everything a guest hands us (table pointers, buffer
 * addresses) is checked against it, and every answer is clamped to one
 * region, so a hostile address can never make us touch memory outside
 * what the VMM registered.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"

/* Fixed by the region layout checks; the cap bounds a hostile client. */
#define MEM_MAX_REGIONS 65536

struct mem_region {
	uint64_t gpa;
	uint64_t last;		/* gpa + size - 1, never wraps */
	uint64_t owner_addr;
	unsigned char *local;
	uint32_t flags;
};

struct iotlb_mem {
	atomic_int refcount;
	unsigned int nr;
	unsigned int alloc;
	struct mem_region *r;
};

IOTLB_EXPORT int iotlb_mem_new(struct iotlb_mem **out)
{
	struct iotlb_mem *m;

	if (!out)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	atomic_init(&m->refcount, 1);
	*out = m;
	return 0;
}

IOTLB_EXPORT struct iotlb_mem *iotlb_mem_ref(struct iotlb_mem *mem)
{
	if (mem)
		atomic_fetch_add(&mem->refcount, 1);
	return mem;
}

IOTLB_EXPORT struct iotlb_mem *iotlb_mem_unref(struct iotlb_mem *mem)
{
	if (!mem)
		return NULL;
	if (atomic_fetch_sub(&mem->refcount, 1) > 1)
		return mem;
	free(mem->r);
	free(mem);
	return NULL;
}

/* Index of the last region with gpa <= addr, or -1. */
static int mem_find_floor(const struct iotlb_mem *m, uint64_t addr)
{
	unsigned int lo = 0, hi = m->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (m->r[mid].gpa <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo - 1;
}

static const struct mem_region *mem_find(const struct iotlb_mem *m,
					 uint64_t addr)
{
	int i;

	if (!m || !m->nr)
		return NULL;
	i = mem_find_floor(m, addr);
	if (i < 0 || addr > m->r[i].last)
		return NULL;
	return &m->r[i];
}

IOTLB_EXPORT int iotlb_mem_add_region(struct iotlb_mem *mem,
				      const struct iotlb_mem_region *region)
{
	struct mem_region nr;
	int i;

	if (!mem || !region)
		return -EINVAL;
	if (region->size == 0)
		return -EINVAL;
	if (region->flags & ~(uint32_t)(IOTLB_MEM_READONLY |
					IOTLB_MEM_WRITABLE))
		return -EINVAL;
	/* No range may wrap past 2^64, in any of the three address spaces. */
	if (region->size - 1 > UINT64_MAX - region->gpa ||
	    region->size - 1 > UINT64_MAX - region->owner_addr)
		return -EOVERFLOW;
	if (region->local &&
	    region->size - 1 > UINTPTR_MAX - (uintptr_t)region->local)
		return -EOVERFLOW;
	if ((region->flags & IOTLB_MEM_WRITABLE) && !region->local)
		return -EINVAL;

	nr.gpa = region->gpa;
	nr.last = region->gpa + (region->size - 1);
	nr.owner_addr = region->owner_addr;
	nr.local = region->local;
	nr.flags = region->flags;

	i = mem_find_floor(mem, nr.gpa);
	if (i >= 0 && mem->r[i].last >= nr.gpa)
		return -EEXIST;
	if ((unsigned int)(i + 1) < mem->nr && mem->r[i + 1].gpa <= nr.last)
		return -EEXIST;
	if (mem->nr >= MEM_MAX_REGIONS)
		return -ENOSPC;
	if (mem->nr == mem->alloc) {
		unsigned int na = mem->alloc ? mem->alloc * 2 : 8;
		struct mem_region *p = realloc(mem->r, na * sizeof(*p));

		if (!p)
			return -ENOMEM;
		mem->r = p;
		mem->alloc = na;
	}
	i++;
	memmove(&mem->r[i + 1], &mem->r[i],
		(mem->nr - (unsigned int)i) * sizeof(*mem->r));
	mem->r[i] = nr;
	mem->nr++;
	DBG("region %#llx+%#llx at index %d",
	    (unsigned long long)region->gpa, (unsigned long long)region->size, i);
	return 0;
}

IOTLB_EXPORT int iotlb_mem_remove_region(struct iotlb_mem *mem, uint64_t gpa)
{
	int i;

	if (!mem)
		return -EINVAL;
	i = mem_find_floor(mem, gpa);
	if (i < 0 || mem->r[i].gpa != gpa)
		return -ENOENT;
	memmove(&mem->r[i], &mem->r[i + 1],
		(mem->nr - (unsigned int)i - 1) * sizeof(*mem->r));
	mem->nr--;
	return 0;
}

IOTLB_EXPORT int iotlb_mem_get_region_count(const struct iotlb_mem *mem)
{
	if (!mem)
		return -EINVAL;
	return (int)mem->nr;
}

static void mem_export(const struct mem_region *r, struct iotlb_mem_region *out)
{
	out->gpa = r->gpa;
	out->size = r->last - r->gpa + 1;
	out->local = r->local;
	out->owner_addr = r->owner_addr;
	out->flags = r->flags;
}

IOTLB_EXPORT int iotlb_mem_get_region(const struct iotlb_mem *mem,
				      unsigned int index,
				      struct iotlb_mem_region *out)
{
	if (!mem || !out)
		return -EINVAL;
	if (index >= mem->nr)
		return -ENOENT;
	mem_export(&mem->r[index], out);
	return 0;
}

IOTLB_EXPORT int iotlb_mem_lookup(const struct iotlb_mem *mem, uint64_t gpa,
				  struct iotlb_mem_region *out)
{
	const struct mem_region *r;

	if (!mem || !out)
		return -EINVAL;
	r = mem_find(mem, gpa);
	if (!r)
		return -EFAULT;
	mem_export(r, out);
	return 0;
}

/* Clamp *len to what is left of region r from gpa; say whether we cut. */
static int mem_clamp(const struct mem_region *r, uint64_t gpa, uint64_t *len)
{
	uint64_t avail = r->last - gpa;	/* bytes after gpa, minus one */

	if (*len - 1 > avail) {
		*len = avail + 1;
		return IOTLB_MEM_CLAMPED;
	}
	return 0;
}

IOTLB_EXPORT int iotlb_mem_gpa_to_local(const struct iotlb_mem *mem,
					uint64_t gpa, uint64_t *len,
					void **local)
{
	const struct mem_region *r;

	if (!mem || !len || !local || *len == 0)
		return -EINVAL;
	r = mem_find(mem, gpa);
	if (!r)
		return -EFAULT;
	if (!r->local)
		return -ENXIO;
	*local = r->local + (gpa - r->gpa);
	return mem_clamp(r, gpa, len);
}

IOTLB_EXPORT int iotlb_mem_gpa_to_owner(const struct iotlb_mem *mem,
					uint64_t gpa, uint64_t *len,
					uint64_t *owner_addr, uint32_t *flags)
{
	const struct mem_region *r;

	if (!mem || !len || !owner_addr || *len == 0)
		return -EINVAL;
	r = mem_find(mem, gpa);
	if (!r)
		return -EFAULT;
	*owner_addr = r->owner_addr + (gpa - r->gpa);
	if (flags)
		*flags = r->flags;
	return mem_clamp(r, gpa, len);
}

/*
 * Guest physical memory is contiguous to the guest even where the VMM
 * splits it into regions, so a read may continue into the next region
 * when it starts exactly where this one ends.
 */
int iotlb__mem_read(const struct iotlb_mem *mem, uint64_t gpa, void *buf,
		    size_t len)
{
	unsigned char *dst = buf;

	if (!mem || (!buf && len))
		return -EINVAL;
	if (len && len - 1 > UINT64_MAX - gpa)
		return -EFAULT;
	while (len) {
		const struct mem_region *r = mem_find(mem, gpa);
		uint64_t chunk = len;

		if (!r)
			return -EFAULT;
		if (!r->local)
			return -ENXIO;
		mem_clamp(r, gpa, &chunk);
		memcpy(dst, r->local + (gpa - r->gpa), chunk);
		dst += chunk;
		len -= chunk;
		gpa += chunk;
	}
	return 0;
}

/*
 * IOMMUs read each table entry with one single-copy-atomic 64-bit access
 * (e.g. VT-d spec 6.2.11 / x86 SDM "paging-structure accesses"); an
 * aligned relaxed atomic load gives us the same against a guest vCPU
 * rewriting the entry.
 */
int iotlb__mem_read_u64(const struct iotlb_mem *mem, uint64_t gpa,
			uint64_t *val)
{
	const struct mem_region *r;

	if (!mem || !val)
		return -EINVAL;
	r = mem_find(mem, gpa);
	if (!r || r->last - gpa < 7)
		return iotlb__mem_read(mem, gpa, val, sizeof(*val));
	if (!r->local)
		return -ENXIO;
	if (((uintptr_t)(r->local + (gpa - r->gpa)) & 7) == 0) {
		*val = __atomic_load_n((const uint64_t *)(const void *)
				       (r->local + (gpa - r->gpa)),
				       __ATOMIC_RELAXED);
		return 0;
	}
	memcpy(val, r->local + (gpa - r->gpa), sizeof(*val));
	return 0;
}

int iotlb__mem_cmpxchg_u64(const struct iotlb_mem *mem, uint64_t gpa,
			   uint64_t *expected, uint64_t desired)
{
	const struct mem_region *r;
	uint64_t *p;

	if (!mem || !expected)
		return -EINVAL;
	if (gpa & 7)
		return -EINVAL;
	r = mem_find(mem, gpa);
	if (!r || r->last - gpa < 7)
		return -EFAULT;
	if (!(r->flags & IOTLB_MEM_WRITABLE))
		return -EROFS;
	p = (uint64_t *)(void *)(r->local + (gpa - r->gpa));
	if ((uintptr_t)p & 7)
		return -EINVAL;
	if (__atomic_compare_exchange_n(p, expected, desired, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return 0;
	return 1;
}
