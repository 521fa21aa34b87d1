/* SPDX-License-Identifier: MIT */
/*
 * AMD-Vi walker (AMD IOMMU specification 48882 rev 3.x).
 *
 * Host page tables (2.2.3) are 4 KiB tables of 512 entries; a table of
 * level n is indexed by iova bits 12 + 9n - 1 .. 12 + 9(n - 1).  Unlike
 * x86 paging each entry names the level of what it points to (Next
 * Level), so a PDE may skip levels, Next Level 0 makes any entry below
 * level 6 a leaf of its level's default size, and Next Level 7 makes a
 * leaf whose size is encoded in its address field.  The DTE (2.2.2)
 * gives the root level (Mode), root pointer and the first IR/IW bits.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "iotlb-internal.h"
#include "walk.h"
#include "walk-amd.h"

#define AMD_RW (IOTLB_WALK_READ | IOTLB_WALK_WRITE)

/* I/O page table entries (2.2.3, PDE and PTE formats). */
#define AMD_PR		(1ULL << 0)
#define AMD_NL_SHIFT	9
#define AMD_NL_MASK	7U
#define AMD_ADDR_MASK	0x000ffffffffff000ULL	/* bits 51:12 */
#define AMD_IR		(1ULL << 61)
#define AMD_IW		(1ULL << 62)
#define AMD_PDE_RSVD	0x1ff0000000000000ULL	/* PDE bits 60:52 */
#define AMD_PTE_RSVD	0x07f0000000000000ULL	/* PTE bits 58:52 */
#define AMD_NL_DEFAULT	0U	/* leaf of the level's default size */
#define AMD_NL_SIZED	7U	/* leaf, size encoded in the address */

/* Device table entry, first two quadwords (2.2.2). */
#define DTE_BYTES	32U
#define DTE_V		(1ULL << 0)
#define DTE_TV		(1ULL << 1)
#define DTE_MODE_SHIFT	9
#define DTE_GIOV	(1ULL << 54)
#define DTE_GV		(1ULL << 55)
#define DTE_Q0_RSVD	(0x7cULL | (1ULL << 63))	/* bits 6:2 and 63 */
#define DTE_Q1_RSVD	(1ULL << 42)			/* bit 106 */
#define DTE_DOMAIN_MASK	0xffffULL

/* Device Table Base Address register (3.4, MMIO 0000h): Size in 8:0. */
#define DEVTAB_SIZE_MASK 0x1ffULL

/* Lowest iova bit a table of this level indexes. */
static unsigned int amd_shift(unsigned int level)
{
	return 12 + 9 * (level - 1);
}

static int amd_fault(struct iotlb_walk_faultinfo *fault,
		     enum iotlb_walk_fault reason, unsigned int level,
		     uint64_t entry_gpa, uint64_t entry)
{
	fault->reason = reason;
	fault->level = level;
	fault->stage = 0;
	fault->entry_gpa = entry_gpa;
	fault->entry = entry;
	return IOTLB_WALK_FAULTED;
}

static unsigned int amd_entry_perm(uint64_t e)
{
	return ((e & AMD_IR) ? IOTLB_WALK_READ : 0) |
	       ((e & AMD_IW) ? IOTLB_WALK_WRITE : 0);
}

/*
 * log2 of the size of a Next Level 7 leaf (2.2.3, "Example Page Size
 * Encodings"): address bits from 12 upwards are 1 up to the first 0; a 0
 * at bit z means 2^(z + 1) bytes.  Bits 63:52 count as zero, so z <= 52.
 */
static unsigned int amd_sized_lg2(uint64_t e)
{
	uint64_t ones = (e & AMD_ADDR_MASK) >> 12;	/* < 2^40 */

	return (unsigned int)__builtin_ctzll(~ones) + 12 + 1;
}

int iotlb__walk_amd(const struct iotlb_mem *mem,
		    const struct iotlb_walk_amd_cfg *cfg, uint64_t iova,
		    unsigned int access, struct iotlb_walk_result *res,
		    struct iotlb_walk_faultinfo *fault,
		    struct iotlb_walk_trace *trace)
{
	return iotlb__walk_amd_pwc(mem, cfg, NULL, iova, access, res, fault,
				   trace);
}

/* Bytes one table of this level translates; 0 means all 2^64. */
static uint64_t amd_table_span(unsigned int level)
{
	unsigned int shift = amd_shift(level + 1);

	return shift >= 64 ? 0 : 1ULL << shift;
}

int iotlb__walk_amd_pwc(const struct iotlb_mem *mem,
			const struct iotlb_walk_amd_cfg *cfg,
			const struct iotlb_walk_pwc *pwc, uint64_t iova,
			unsigned int access, struct iotlb_walk_result *res,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace)
{
	uint64_t table, e = 0, e_gpa = 0, size;
	unsigned int level, nl = 0, perm, lg2, depth;
	bool leaf = false;

	if (!mem || !cfg || !res || !fault)
		return -EINVAL;
	if ((access & ~AMD_RW) || (cfg->perm & ~AMD_RW) ||
	    cfg->levels > IOTLB_WALK_AMD_MAX_LEVELS ||
	    (cfg->root & ~AMD_ADDR_MASK))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	memset(fault, 0, sizeof(*fault));
	fault->addr = iova;

	/* The DTE's IR/IW are the first term of the AND (2.2.3). */
	perm = cfg->perm;
	if (access & ~perm)
		return amd_fault(fault, IOTLB_WALK_PERMISSION, 0, 0, 0);

	if (cfg->levels == 0) {
		/*
		 * Mode 0 (or DTE V = 0): translation disabled, the address
		 * goes out untranslated with the DTE's permissions (2.2.2,
		 * "Feature Enablement for Address Translation").
		 */
		res->iova = iova & ~0xfffULL;
		res->size = 0x1000;
		res->gpa = res->iova;
		res->perm = perm;
		return 0;
	}

	/* Address bits above what the root level translates must be 0. */
	level = cfg->levels;
	if (level < IOTLB_WALK_AMD_MAX_LEVELS && (iova >> amd_shift(level + 1)))
		return amd_fault(fault, IOTLB_WALK_ADDR_WIDTH, level, 0, 0);

	table = cfg->root;
	/*
	 * Resume at the deepest cached table on iova's path.  Its tag holds
	 * every iova bit above it, skipped-level bits included, so the
	 * checks made when it was cached hold for this iova too.
	 */
	if (pwc) {
		unsigned int l;

		for (l = 1; l < cfg->levels; l++) {
			uint64_t span = amd_table_span(l), t;
			uint32_t p;

			if (pwc->lookup(pwc->ctx, 1, l, iova & ~(span - 1), &t, &p)) {
				table = t;
				perm = p;
				level = l;
				break;
			}
		}
	}
	for (depth = 0;; depth++) {
		unsigned int shift = amd_shift(level);

		/* Levels strictly decrease, so this never triggers. */
		if (depth >= IOTLB_WALK_AMD_MAX_LEVELS)
			return amd_fault(fault, IOTLB_WALK_LOOP, level, e_gpa, e);

		e_gpa = table + (((iova >> shift) & 0x1ff) << 3);
		if (iotlb__mem_read_u64(mem, e_gpa, &e))
			return amd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, level,
					 e_gpa, 0);
		res->mem_reads++;
		nl = (unsigned int)(e >> AMD_NL_SHIFT) & AMD_NL_MASK;
		leaf = nl == AMD_NL_DEFAULT || nl == AMD_NL_SIZED;
		iotlb__walk_trace_add(trace, level, 0, e_gpa, e,
				      leaf ? "pte" : "pde");

		if (!(e & AMD_PR))
			return amd_fault(fault, IOTLB_WALK_NOT_PRESENT, level,
					 e_gpa, e);
		if (e & (leaf ? AMD_PTE_RSVD : AMD_PDE_RSVD))
			return amd_fault(fault, IOTLB_WALK_RESERVED, level,
					 e_gpa, e);
		if (leaf)
			break;
		/* A PDE must point at a lower level than its own. */
		if (nl >= level)
			return amd_fault(fault, IOTLB_WALK_RESERVED, level,
					 e_gpa, e);
		/*
		 * Level skipping (2.2.3): the iova bits that would have
		 * indexed the skipped tables must be zero, else the access
		 * faults like one beyond the address width.
		 */
		if (nl < level - 1) {
			uint64_t skipped = ((1ULL << shift) - 1) &
					   ~((1ULL << amd_shift(nl + 1)) - 1);

			if (iova & skipped)
				return amd_fault(fault, IOTLB_WALK_ADDR_WIDTH,
						 level, e_gpa, e);
		}
		/* Fault where the grant is lost: no later entry restores it. */
		perm &= amd_entry_perm(e);
		if (access & ~perm)
			return amd_fault(fault, IOTLB_WALK_PERMISSION, level,
					 e_gpa, e);
		table = e & AMD_ADDR_MASK;
		level = nl;
		if (pwc) {
			uint64_t span = amd_table_span(level);

			pwc->insert(pwc->ctx, 1, level, iova & ~(span - 1), span,
				    table, perm);
		}
	}

	/* The top level maps 2^57 bytes per entry and holds no leaves
	 * ("Page Table Level Parameters"). */
	if (level == IOTLB_WALK_AMD_MAX_LEVELS)
		return amd_fault(fault, IOTLB_WALK_RESERVED, level, e_gpa, e);
	lg2 = amd_shift(level);
	if (nl == AMD_NL_SIZED) {
		/*
		 * The encoded size must lie strictly between this level's
		 * default size and the next level's: the default size is
		 * written with Next Level 0, and the replicated entries
		 * must fit in this table.
		 */
		unsigned int s = amd_sized_lg2(e);

		if (s <= lg2 || s >= lg2 + 9)
			return amd_fault(fault, IOTLB_WALK_RESERVED, level,
					 e_gpa, e);
		lg2 = s;
	}
	perm &= amd_entry_perm(e);
	if (access & ~perm)
		return amd_fault(fault, IOTLB_WALK_PERMISSION, level, e_gpa, e);

	size = 1ULL << lg2;
	res->iova = iova & ~(size - 1);
	res->size = size;
	/* Address bits below the page size are size code or ignored. */
	res->gpa = e & AMD_ADDR_MASK & ~(size - 1);
	res->perm = perm;
	res->level = level;
	/* Replicated Next Level 7 entries do not step: no neighbour scan. */
	if (nl != AMD_NL_SIZED) {
		res->leaf_entry_gpa = e_gpa;
		res->leaf_entry = e;
		res->leaf_step = size;
	}
	return 0;
}

static int amd_dte_resolve(const struct iotlb_mem *mem,
			   const struct iotlb_walk_amd_iommu *iommu,
			   uint16_t devid, struct iotlb_walk_amd_cfg *cfg,
			   struct iotlb_walk_faultinfo *fault,
			   struct iotlb_walk_trace *trace, uint32_t *reads)
{
	uint64_t base, bytes, off, gpa, q0 = 0, q1 = 0;
	unsigned int max, mode;

	if (!mem || !iommu || !cfg || !fault)
		return -EINVAL;
	max = iommu->max_levels ? iommu->max_levels : IOTLB_WALK_AMD_MAX_LEVELS;
	if (max > IOTLB_WALK_AMD_MAX_LEVELS)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	memset(fault, 0, sizeof(*fault));

	/* Size is the table length in 4 KiB pages minus one (3.4). */
	base = iommu->dev_table_base & AMD_ADDR_MASK;
	bytes = ((iommu->dev_table_base & DEVTAB_SIZE_MASK) + 1) << 12;
	off = (uint64_t)devid * DTE_BYTES;
	gpa = base + off;
	if (off >= bytes)
		return amd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, 0);

	if (iotlb__mem_read_u64(mem, gpa, &q0))
		return amd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa, 0);
	(*reads)++;
	iotlb__walk_trace_add(trace, 0, 0, gpa, q0, "dte");
	if (!(q0 & DTE_V)) {
		/*
		 * V = 0: the rest of the entry is invalid and the device's
		 * DMA is passed through untranslated (2.2.2, "Feature
		 * Enablement for Address Translation").
		 */
		cfg->perm = AMD_RW;
		return 0;
	}
	if (iotlb__mem_read_u64(mem, gpa + 8, &q1))
		return amd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa + 8, q0);
	(*reads)++;
	iotlb__walk_trace_add(trace, 0, 0, gpa + 8, q1, "dte.q1");

	/* With V = 1, bits 127:0 are checked: a set reserved bit makes
	 * the entry illegal (ILLEGAL_DEV_TABLE_ENTRY). */
	if ((q0 & DTE_Q0_RSVD) || (q1 & DTE_Q1_RSVD))
		return amd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, q0);
	/*
	 * TV = 0 (2.2.2, DTE field TV): the translation fields are not
	 * valid, the page walk is terminated and nothing is translated;
	 * drivers write V = 1, TV = 0 to block a device's DMA.
	 */
	if (!(q0 & DTE_TV))
		return amd_fault(fault, IOTLB_WALK_BLOCKED, 0, gpa, q0);
	mode = (unsigned int)(q0 >> DTE_MODE_SHIFT) & 7;
	if (mode == 7)	/* Mode 111b is reserved */
		return amd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, q0);
	if (mode > max)	/* beyond the IOMMU's HATS */
		return amd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, q0);
	/* GIoV sends requests without PASID through the guest (v2)
	 * tables, which this walker does not implement. */
	if ((q0 & DTE_GV) && (q0 & DTE_GIOV))
		return amd_fault(fault, IOTLB_WALK_UNSUPPORTED, 0, gpa, q0);

	cfg->root = mode ? q0 & AMD_ADDR_MASK : 0;
	cfg->levels = mode;
	cfg->perm = amd_entry_perm(q0);
	cfg->domain_id = (uint16_t)(q1 & DTE_DOMAIN_MASK);
	cfg->flags = IOTLB_WALK_AMD_F_DTE_VALID;
	return 0;
}

int iotlb__walk_amd_dte(const struct iotlb_mem *mem,
			const struct iotlb_walk_amd_iommu *iommu,
			uint16_t devid, struct iotlb_walk_amd_cfg *cfg,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace)
{
	uint32_t reads = 0;

	return amd_dte_resolve(mem, iommu, devid, cfg, fault, trace, &reads);
}

int iotlb__walk_amd_device(const struct iotlb_mem *mem,
			   const struct iotlb_walk_amd_iommu *iommu,
			   uint16_t devid, uint64_t iova, unsigned int access,
			   struct iotlb_walk_result *res,
			   struct iotlb_walk_faultinfo *fault,
			   struct iotlb_walk_trace *trace)
{
	struct iotlb_walk_amd_cfg cfg;
	uint32_t reads = 0;
	int r;

	if (!res || (access & ~AMD_RW))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	r = amd_dte_resolve(mem, iommu, devid, &cfg, fault, trace, &reads);
	if (r) {
		if (r == IOTLB_WALK_FAULTED) {
			fault->addr = iova;
			res->mem_reads = reads;
		}
		return r;
	}
	r = iotlb__walk_amd(mem, &cfg, iova, access, res, fault, trace);
	res->mem_reads += reads;
	return r;
}
