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

#endif /* IOTLB_WALK_H */
