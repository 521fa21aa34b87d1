/* SPDX-License-Identifier: MIT */
/*
 * Common types of the guest IOMMU page-table walkers (walk-*.c).  A
 * walker is a pure function over guest memory: (config, iova, access) ->
 * leaf translation or a precise fault.  No allocation, no I/O, bounded
 * depth; every table read goes through iotlb__mem_read_u64() (or
 * iotlb__mem_read()), the only write is iotlb__mem_cmpxchg_u64() for
 * hardware-managed A/D bits.
 */
#ifndef IOTLB_WALK_H
#define IOTLB_WALK_H

#include <stdint.h>

#include "iotlb.h"

/* Access requested by the device, and permission granted by the guest. */
#define IOTLB_WALK_READ  (1U << 0)	/* == VHOST_ACCESS_RO */
#define IOTLB_WALK_WRITE (1U << 1)	/* == VHOST_ACCESS_WO */

/* Why a walk failed.  Values are stable: they reach users in stats. */
enum iotlb_walk_fault {
	IOTLB_WALK_OK = 0,
	IOTLB_WALK_NOT_PRESENT = 1,	/* leaf or table entry not present/valid */
	IOTLB_WALK_PERMISSION = 2,	/* present but the access is not granted */
	IOTLB_WALK_RESERVED = 3,	/* a reserved bit is set (or bad encoding) */
	IOTLB_WALK_ADDR_WIDTH = 4,	/* iova (or output) beyond the address width */
	IOTLB_WALK_TABLE_OUTSIDE = 5,	/* a table lies outside guest memory */
	IOTLB_WALK_NON_CANONICAL = 6,	/* non-canonical input address */
	IOTLB_WALK_CONTEXT_INVALID = 7,	/* root/context/DTE/STE/CD/DC invalid */
	IOTLB_WALK_BLOCKED = 8,		/* translation disabled / aborting config */
	IOTLB_WALK_ACCESS_FLAG = 9,	/* ARM access flag clear (no HTTU) */
	IOTLB_WALK_UNSUPPORTED = 10,	/* valid config we do not implement */
	IOTLB_WALK_LOOP = 11,		/* depth bound exceeded */
	IOTLB_WALK_AD_UPDATE = 12,	/* could not set A/D bits (memory RO) */
	IOTLB_WALK_FAULT_MAX
};

const char *iotlb__walk_fault_name(enum iotlb_walk_fault f);

/* Returned by a walker when the guest's tables fault. */
#define IOTLB_WALK_FAULTED 1

/* One leaf translation: naturally aligned, power-of-two sized. */
struct iotlb_walk_result {
	uint64_t iova;		/* base of the leaf mapping */
	uint64_t size;		/* bytes, a power of two */
	uint64_t gpa;		/* guest physical address of iova */
	uint32_t perm;		/* IOTLB_WALK_READ|WRITE granted (all of it) */
	uint32_t level;		/* level of the leaf, 1 = last-level table */
	uint32_t mem_reads;	/* guest-memory reads this walk took */
	/*
	 * Neighbour scan (domain.c coalescing): when leaf_step is not 0, an
	 * 8-byte entry next to leaf_entry_gpa in the same 4 KiB of table
	 * whose value is leaf_entry +/- leaf_step maps the next/previous
	 * `size` bytes of iova to the next/previous `size` bytes of gpa with
	 * the same grant, and needs no walk: same upper levels, same flag
	 * bits (A/D already as this walk left them).  A walker leaves it 0
	 * whenever that does not hold (two stages, big-endian tables, a cut
	 * result, special address windows).
	 */
	uint64_t leaf_entry_gpa;
	uint64_t leaf_entry;
	uint64_t leaf_step;
};

struct iotlb_walk_faultinfo {
	enum iotlb_walk_fault reason;
	uint32_t level;		/* table level where it happened, 0 = context */
	uint32_t stage;		/* 1 or 2 for nested walks, else 0 */
	uint64_t entry_gpa;	/* address of the offending entry, if any */
	uint64_t entry;		/* its value (first 64 bits) */
	uint64_t addr;		/* the faulting input address (iova or ipa) */
};

/* Optional per-level trace (iotlbctl walk, debugging, tests). */
#define IOTLB_WALK_TRACE_MAX 16
struct iotlb_walk_trace {
	unsigned int n;
	struct {
		uint32_t level;
		uint32_t stage;
		uint64_t entry_gpa;
		uint64_t entry;
		const char *what;	/* "root", "context", "pte", "dte", ... */
	} step[IOTLB_WALK_TRACE_MAX];
};

void iotlb__walk_trace_add(struct iotlb_walk_trace *t, uint32_t level,
			   uint32_t stage, uint64_t entry_gpa, uint64_t entry,
			   const char *what);

/*
 * Paging-structure cache, optional for every walker (NULL = uncached).
 * Before descending, a walker asks for the deepest cached table on the
 * path of iova: lookup(stage, level, tag) with tag = iova rounded down to
 * the span one table of that level translates.  A hit gives the table's
 * address and the permission accumulated above it, and the walk resumes
 * there.  After following a valid non-leaf entry into a table of a given
 * level, the walker inserts it.  Only present, valid, fully checked
 * entries are ever inserted, so a cached walk faults exactly where an
 * uncached one would.  Stage 2 entries (nested walks) use stage = 2 and
 * intermediate addresses as tags.
 */
struct iotlb_walk_pwc {
	int (*lookup)(void *ctx, uint32_t stage, uint32_t level, uint64_t tag,
		      uint64_t *table, uint32_t *perm);
	void (*insert)(void *ctx, uint32_t stage, uint32_t level, uint64_t tag,
		       uint64_t span, uint64_t table, uint32_t perm);
	void *ctx;
};

/* The cache behind iotlb_walk_pwc (walk-cache.c): set-associative, CLOCK. */
struct iotlb__walk_cache;
int iotlb__walk_cache_new(struct iotlb__walk_cache **out, uint32_t entries);
void iotlb__walk_cache_free(struct iotlb__walk_cache *c);
void iotlb__walk_cache_pwc(struct iotlb__walk_cache *c,
			   struct iotlb_walk_pwc *pwc);
/* Drop stage-1 entries overlapping [iova, iova+size) and all stage-2 ones. */
void iotlb__walk_cache_invalidate(struct iotlb__walk_cache *c, uint64_t iova,
				  uint64_t size);
void iotlb__walk_cache_flush(struct iotlb__walk_cache *c);
struct iotlb__walk_cache_stats {
	uint64_t hits[IOTLB_WALK_TRACE_MAX];	/* by level */
	uint64_t misses;
	uint64_t inserts;
	uint64_t evictions;
	uint32_t entries;
	uint32_t capacity;
};
void iotlb__walk_cache_stats(const struct iotlb__walk_cache *c,
			     struct iotlb__walk_cache_stats *out);

#endif /* IOTLB_WALK_H */
