/* SPDX-License-Identifier: MIT */
/*
 * Intel VT-d DMA remapping walker (Intel Virtualization Technology for
 * Directed I/O, Architecture Specification rev 3.x-5.x).  Entry formats
 * are cited by their chapter 9 section ("9.3 Context Entry"), other rules
 * by section title, which is stabler across revisions than numbers.
 *
 * Two steps, both pure functions over guest memory:
 *
 *  1. iotlb__walk_vtd_context() resolves a requester ID (+ PASID) through
 *     the root table, the context table and, in scalable mode, the PASID
 *     directory and PASID table into a struct iotlb_vtd_pgtable;
 *  2. iotlb__walk_vtd() walks that page table for one iova.
 *
 * A VMM that knows the page table itself (a page-table domain) fills a
 * struct iotlb_vtd_pgtable by hand and skips step 1.
 *
 * What a result means (see walk.h for the common rules):
 *  - second-level (SL): res->perm is R/W ANDed over every level;
 *  - first-level (FL): a device request is a user request (PR=0) unless
 *    IOTLB_VTD_PGT_SUPERVISOR is set, so every level must have U/S=1;
 *    R/W ANDed over every level; XD is ignored (no execute requests);
 *  - pass-through (PT): identity, READ|WRITE, reported as the naturally
 *    aligned 1 GiB block around iova (level 0: no table was read), bounded
 *    by the address width;
 *  - a result never covers the interrupt address range 0xFEEx_xxxx
 *    ("Handling Requests to Interrupt Address Range"):
 *    the leaf is cut to the largest aligned power-of-two block around iova
 *    that avoids it, and an iova that translates into it faults BLOCKED.
 *
 * Accessed/dirty bits: for FL tables, and for SL tables with
 * IOTLB_VTD_PGT_SLADE, the walker sets A on every entry it uses and D on
 * the leaf, with iotlb__mem_cmpxchg_u64() (bounded retries).  The vhost
 * IOTLB caches the whole grant like a device TLB and later writes through
 * it without asking again, so D is set whenever the returned grant
 * includes WRITE (as for a device-TLB translation request that asks for
 * write access), not only on write accesses; otherwise the guest could
 * miss a dirty page.  IOTLB_VTD_PGT_NO_AD turns all of it off;
 * a needed update in a region that is not IOTLB_MEM_WRITABLE faults with
 * IOTLB_WALK_AD_UPDATE.
 */
#ifndef IOTLB_WALK_VTD_H
#define IOTLB_WALK_VTD_H

#include <stdint.h>

#include "iotlb.h"
#include "walk.h"

/* Capabilities (IOTLB_VTD_CAP_*) and SAGAW bits are public: iotlb.h. */

/* A request without PASID (scalable mode then uses the RID_PASID). */
#define IOTLB_VTD_NO_PASID	UINT32_MAX
#define IOTLB_VTD_PASID_MAX	((1U << 20) - 1)

/* One remapping unit, as the guest programmed it. */
struct iotlb_vtd_iommu {
	uint64_t rta;		/* RTADDR_REG.RTA, 4 KiB aligned */
	uint32_t caps;		/* IOTLB_VTD_CAP_* */
	uint8_t scalable;	/* RTADDR_REG.TTM: 0 legacy, 1 scalable */
	uint8_t haw;		/* host address width, 32..52 */
	uint8_t sagaw;		/* IOTLB_VTD_SAGAW_* */
};

enum iotlb_vtd_format {
	IOTLB_VTD_FMT_SL = 1,	/* second-level table (legacy or PGTT=010b) */
	IOTLB_VTD_FMT_FL = 2,	/* first-level table (PGTT=001b) */
	IOTLB_VTD_FMT_PT = 3,	/* pass-through (TT=10b or PGTT=100b) */
};

/* struct iotlb_vtd_pgtable.flags */
#define IOTLB_VTD_PGT_SL2M	(1U << 0)	/* SL PS=1 allowed at level 2 */
#define IOTLB_VTD_PGT_SL1G	(1U << 1)	/* SL PS=1 allowed at level 3 */
#define IOTLB_VTD_PGT_FL1G	(1U << 2)	/* FL PS=1 allowed at level 3 */
#define IOTLB_VTD_PGT_SNP	(1U << 3)	/* SL leaf bit 11 (SNP) allowed */
#define IOTLB_VTD_PGT_SLADE	(1U << 4)	/* SL A/D bits in use (SSADE) */
#define IOTLB_VTD_PGT_EAFE	(1U << 5)	/* FL: set EA together with A */
#define IOTLB_VTD_PGT_SUPERVISOR (1U << 6)	/* FL: supervisor request (SRE) */
#define IOTLB_VTD_PGT_WPE	(1U << 7)	/* FL: supervisor writes need R/W */
#define IOTLB_VTD_PGT_WITH_PASID (1U << 8)	/* request carries a PASID */
#define IOTLB_VTD_PGT_NO_AD	(1U << 9)	/* never write A/D bits */

/* One I/O address space: what the walker needs to translate. */
struct iotlb_vtd_pgtable {
	enum iotlb_vtd_format format;
	uint64_t root;		/* SLPTPTR / FLPTPTR, 4 KiB aligned; 0 for PT */
	uint8_t levels;		/* SL 3..5, FL 4..5, PT 0 */
	uint8_t aw;		/* input address width: 39/48/57 */
	uint8_t haw;		/* host address width, 32..52 */
	uint16_t did;		/* domain id of the context / PASID entry */
	uint32_t pasid;		/* PASID used, IOTLB_VTD_NO_PASID in legacy mode */
	uint32_t flags;		/* IOTLB_VTD_PGT_* */
};

/*
 * Resolve requester ID sid (bus << 8 | devfn) and pasid (or
 * IOTLB_VTD_NO_PASID) into *cfg.  Faults (level 0) for entries that are
 * not present (CONTEXT_INVALID), have reserved bits or encodings set
 * (RESERVED), lie outside guest memory (TABLE_OUTSIDE), block the request
 * (BLOCKED) or ask for nested translation (UNSUPPORTED).  -EINVAL for a
 * bad iommu description or a PASID in legacy mode.
 */
int iotlb__walk_vtd_context(const struct iotlb_mem *mem,
			    const struct iotlb_vtd_iommu *iommu, uint16_t sid,
			    uint32_t pasid, struct iotlb_vtd_pgtable *cfg,
			    struct iotlb_walk_faultinfo *fault,
			    struct iotlb_walk_trace *trace);

/*
 * Translate iova for access (IOTLB_WALK_READ / IOTLB_WALK_WRITE, or 0 to
 * ask for the grant only).  0 with *res, IOTLB_WALK_FAULTED with *fault,
 * or -EINVAL for an impossible cfg.
 */
int iotlb__walk_vtd(const struct iotlb_mem *mem,
		    const struct iotlb_vtd_pgtable *cfg, uint64_t iova,
		    unsigned int access, struct iotlb_walk_result *res,
		    struct iotlb_walk_faultinfo *fault,
		    struct iotlb_walk_trace *trace);

/* 0 when cfg is a configuration the walker accepts, else -EINVAL. */
int iotlb__walk_vtd_check(const struct iotlb_vtd_pgtable *cfg);

/* The same with a paging-structure cache (walk.h); pwc may be NULL. */
int iotlb__walk_vtd_pwc(const struct iotlb_mem *mem,
			const struct iotlb_vtd_pgtable *cfg,
			const struct iotlb_walk_pwc *pwc, uint64_t iova,
			unsigned int access, struct iotlb_walk_result *res,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace);

#endif /* IOTLB_WALK_VTD_H */
