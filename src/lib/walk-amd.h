/* SPDX-License-Identifier: MIT */
/*
 * AMD-Vi walker: device table lookup and host (v1) I/O page tables, after
 * the AMD I/O Virtualization Technology (IOMMU) Specification, 48882,
 * rev 3.x, section 2.2.2 (device table) and 2.2.3 (I/O page tables for
 * host translations).  Guest (v2) page tables are not walked.
 */
#ifndef IOTLB_WALK_AMD_H
#define IOTLB_WALK_AMD_H

#include <stdint.h>

#include "iotlb.h"
#include "walk.h"

/* Deepest host page table: Mode/Next Level 6 covers a 64-bit IOVA. */
#define IOTLB_WALK_AMD_MAX_LEVELS 6

/* What the device table lookup needs from the (virtual) IOMMU. */
struct iotlb_walk_amd_iommu {
	/*
	 * Device Table Base Address register (MMIO 0000h) as the guest
	 * wrote it: DevTabBase in bits 51:12, Size in bits 8:0.  Reserved
	 * bits are ignored, as the register does not hold them.
	 */
	uint64_t dev_table_base;
	/*
	 * Host page-table levels the IOMMU advertises (EFR HATS: 4, 5 or
	 * 6); a DTE asking for more is invalid.  0 means 6.
	 */
	uint32_t max_levels;
};

/* cfg.flags */
#define IOTLB_WALK_AMD_F_DTE_VALID (1U << 0)	/* from a DTE with V = 1 */

/* One device's host translation, from its DTE or given by the VMM. */
struct iotlb_walk_amd_cfg {
	uint64_t root;		/* Host Page Table Root Pointer (bits 51:12) */
	uint32_t levels;	/* DTE Mode: 0 = no translation, 1..6 levels */
	uint32_t perm;		/* DTE IR/IW as IOTLB_WALK_READ|WRITE */
	uint16_t domain_id;	/* DTE DomainID (0 when DTE V = 0) */
	uint16_t flags;		/* IOTLB_WALK_AMD_F_* */
};

/*
 * Resolve DeviceID (bus << 8 | devfn) through the device table into *cfg.
 * Returns 0, IOTLB_WALK_FAULTED (*fault says why) or -EINVAL.  A DTE with
 * V = 0 yields levels = 0 and perm = read|write: untranslated pass-through.
 */
int iotlb__walk_amd_dte(const struct iotlb_mem *mem,
			const struct iotlb_walk_amd_iommu *iommu,
			uint16_t devid, struct iotlb_walk_amd_cfg *cfg,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace);

/*
 * Translate iova for an access (IOTLB_WALK_READ|WRITE, 0 = look up only).
 * With cfg->levels == 0 the answer is the identity: a 4 KiB leaf at level 0
 * carrying the DTE permissions.
 */
int iotlb__walk_amd(const struct iotlb_mem *mem,
		    const struct iotlb_walk_amd_cfg *cfg, uint64_t iova,
		    unsigned int access, struct iotlb_walk_result *res,
		    struct iotlb_walk_faultinfo *fault,
		    struct iotlb_walk_trace *trace);

/* Both steps: device table, then page tables; mem_reads counts both. */
int iotlb__walk_amd_device(const struct iotlb_mem *mem,
			   const struct iotlb_walk_amd_iommu *iommu,
			   uint16_t devid, uint64_t iova, unsigned int access,
			   struct iotlb_walk_result *res,
			   struct iotlb_walk_faultinfo *fault,
			   struct iotlb_walk_trace *trace);

/* iotlb__walk_amd() with a paging-structure cache (walk.h); may be NULL. */
int iotlb__walk_amd_pwc(const struct iotlb_mem *mem,
			const struct iotlb_walk_amd_cfg *cfg,
			const struct iotlb_walk_pwc *pwc, uint64_t iova,
			unsigned int access, struct iotlb_walk_result *res,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace);

#endif /* IOTLB_WALK_AMD_H */
