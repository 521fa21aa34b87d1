/* SPDX-License-Identifier: MIT */
/*
 * Intel VT-d walker: requester ID (+ PASID) to page table through the
 * legacy or scalable-mode context structures, then first- or second-level
 * page-table walks.  The model and what a result means are in walk-vtd.h.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "iotlb-internal.h"
#include "walk-vtd.h"

#define VTD_BIT(n)		(1ULL << (n))
#define VTD_GENMASK(h, l)	((~0ULL >> (63 - (h))) & ~((1ULL << (l)) - 1))
#define VTD_PTR_MASK		VTD_GENMASK(63, 12)

#define VTD_PAGE_SHIFT		12
#define VTD_LEVEL_BITS		9
#define VTD_AD_RETRIES		8

/* "Handling Requests to Interrupt Address Range": 0xFEE0_0000..0xFEEF_FFFF */
#define VTD_IRQ_BASE		0xfee00000ULL
#define VTD_IRQ_SIZE		0x100000ULL
#define VTD_IRQ_LAST		(VTD_IRQ_BASE + VTD_IRQ_SIZE - 1)

/* Pass-through results are reported as this naturally aligned block. */
#define VTD_PT_BLOCK_SHIFT	30

/* 9.1 Root Entry, 9.2 Scalable-Mode Root Entry (each 64-bit half) */
#define RE_P			VTD_BIT(0)
#define RE_RSVD			VTD_GENMASK(11, 1)

/* 9.3 Context Entry */
#define CE0_P			VTD_BIT(0)
#define CE0_TT_SHIFT		2
#define CE0_RSVD		VTD_GENMASK(11, 4)
#define CE1_AW_MASK		7ULL
#define CE1_RSVD		(VTD_BIT(7) | VTD_GENMASK(63, 24))
#define CE1_DID_SHIFT		8
#define CE_TT_SL		0
#define CE_TT_SL_DEVTLB		1
#define CE_TT_PT		2

/* 9.4 Scalable-Mode Context Entry (256 bits) */
#define SCE0_P			VTD_BIT(0)
#define SCE0_DTE		VTD_BIT(2)
#define SCE0_PASIDE		VTD_BIT(3)
#define SCE0_RSVD		VTD_GENMASK(8, 5)
#define SCE0_PDTS_SHIFT		9
#define SCE1_RID_PASID		VTD_GENMASK(19, 0)
#define SCE1_RID_PRIV		VTD_BIT(20)
#define SCE1_RSVD		VTD_GENMASK(63, 21)

/* 9.5 Scalable-Mode PASID Directory Entry */
#define PDE_P			VTD_BIT(0)
#define PDE_RSVD		VTD_GENMASK(11, 2)

/* 9.6 Scalable-Mode PASID Table Entry (512 bits) */
#define PE0_P			VTD_BIT(0)
#define PE0_AW_SHIFT		2
#define PE0_PGTT_SHIFT		6
#define PE0_SLADE		VTD_BIT(9)
#define PE0_RSVD		VTD_GENMASK(11, 10)
#define PE1_DID			VTD_GENMASK(15, 0)
#define PE1_RSVD		VTD_GENMASK(22, 16)
#define PE2_SRE			VTD_BIT(0)
#define PE2_FLPM_SHIFT		2
#define PE2_WPE			VTD_BIT(4)
#define PE2_EAFE		VTD_BIT(7)
#define PE2_RSVD		VTD_GENMASK(11, 8)
#define PGTT_FL			1
#define PGTT_SL			2
#define PGTT_NESTED		3
#define PGTT_PT			4

/* 9.7 First-Level Paging Entries */
#define FL_P			VTD_BIT(0)
#define FL_RW			VTD_BIT(1)
#define FL_US			VTD_BIT(2)
#define FL_A			VTD_BIT(5)
#define FL_D			VTD_BIT(6)
#define FL_PS			VTD_BIT(7)
#define FL_EA			VTD_BIT(10)

/* 9.8 Second-Level Paging Entries */
#define SL_R			VTD_BIT(0)
#define SL_W			VTD_BIT(1)
#define SL_PS			VTD_BIT(7)
#define SL_A			VTD_BIT(8)
#define SL_D			VTD_BIT(9)
#define SL_SNP			VTD_BIT(11)
#define SL_RSVD62		VTD_BIT(62)	/* TM until rev 3.2, now reserved */

#define VTD_PGT_ALL_FLAGS	((IOTLB_VTD_PGT_NO_AD << 1) - 1)

static int vtd_fault(struct iotlb_walk_faultinfo *f, enum iotlb_walk_fault why,
		     uint32_t level, uint64_t gpa, uint64_t entry, uint64_t addr)
{
	if (f) {
		f->reason = why;
		f->level = level;
		f->stage = 0;
		f->entry_gpa = gpa;
		f->entry = entry;
		f->addr = addr;
	}
	return IOTLB_WALK_FAULTED;
}

/* Guest structures are little-endian; one read per entry, any size. */
static int vtd_read(const struct iotlb_mem *mem, uint64_t gpa, uint64_t *q,
		    unsigned int n)
{
	unsigned int i;
	int r;

	if (n == 1)
		r = iotlb__mem_read_u64(mem, gpa, q);
	else
		r = iotlb__mem_read(mem, gpa, q, n * sizeof(*q));
	if (r)
		return r;
	for (i = 0; i < n; i++)
		q[i] = le64toh(q[i]);
	return 0;
}

static bool vtd_aw_supported(const struct iotlb_vtd_iommu *iommu,
			     unsigned int aw)
{
	/* AW 001b..011b = 39/48/57 bits; 000b and 1xxb are reserved. */
	return aw >= 1 && aw <= 3 && (iommu->sagaw & (1U << aw));
}

static void vtd_cfg_sl(const struct iotlb_vtd_iommu *iommu, unsigned int aw,
		       struct iotlb_vtd_pgtable *cfg)
{
	cfg->levels = (uint8_t)(aw + 2);
	cfg->aw = (uint8_t)(30 + 9 * aw);
	if (iommu->caps & IOTLB_VTD_CAP_SL2M)
		cfg->flags |= IOTLB_VTD_PGT_SL2M;
	if (iommu->caps & IOTLB_VTD_CAP_SL1G)
		cfg->flags |= IOTLB_VTD_PGT_SL1G;
	/* 9.8: SNP is reserved only in legacy mode without ECAP.SC. */
	if (iommu->scalable || (iommu->caps & IOTLB_VTD_CAP_SC))
		cfg->flags |= IOTLB_VTD_PGT_SNP;
}

static int vtd_context_legacy(const struct iotlb_mem *mem,
			      const struct iotlb_vtd_iommu *iommu, uint16_t sid,
			      struct iotlb_vtd_pgtable *cfg,
			      struct iotlb_walk_faultinfo *fault,
			      struct iotlb_walk_trace *trace)
{
	uint64_t ptr_rsvd = VTD_GENMASK(63, iommu->haw);
	uint64_t re[2], ce[2], gpa;
	unsigned int tt, aw;

	gpa = iommu->rta + (uint64_t)(sid >> 8) * 16;
	if (vtd_read(mem, gpa, re, 2))
		return vtd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa, 0, 0);
	iotlb__walk_trace_add(trace, 0, 0, gpa, re[0], "root");
	if (!(re[0] & RE_P))
		return vtd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, re[0], 0);
	/* 9.1: bits 127:64 of a legacy root entry are all reserved. */
	if ((re[0] & (RE_RSVD | ptr_rsvd)) || re[1])
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, re[0], 0);

	gpa = (re[0] & VTD_PTR_MASK) + (uint64_t)(sid & 0xff) * 16;
	if (vtd_read(mem, gpa, ce, 2))
		return vtd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa, 0, 0);
	iotlb__walk_trace_add(trace, 0, 0, gpa, ce[0], "context");
	if (!(ce[0] & CE0_P))
		return vtd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, ce[0], 0);
	if ((ce[0] & (CE0_RSVD | ptr_rsvd)) || (ce[1] & CE1_RSVD))
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, ce[0], 0);

	tt = (unsigned int)(ce[0] >> CE0_TT_SHIFT) & 3;
	aw = (unsigned int)(ce[1] & CE1_AW_MASK);
	/*
	 * TT=01b only adds device-TLB support, which changes nothing for
	 * untranslated requests; it and TT=10b are reserved without the
	 * capability, TT=11b always is.  For TT=10b, AW still bounds the
	 * input address.
	 */
	if ((tt == CE_TT_SL_DEVTLB && !(iommu->caps & IOTLB_VTD_CAP_DT)) ||
	    (tt == CE_TT_PT && !(iommu->caps & IOTLB_VTD_CAP_PT)) || tt > CE_TT_PT ||
	    !vtd_aw_supported(iommu, aw))
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, ce[0], 0);

	cfg->did = (uint16_t)(ce[1] >> CE1_DID_SHIFT);
	cfg->pasid = IOTLB_VTD_NO_PASID;
	if (tt == CE_TT_PT) {
		cfg->format = IOTLB_VTD_FMT_PT;
		cfg->aw = (uint8_t)(30 + 9 * aw);
		return 0;
	}
	cfg->format = IOTLB_VTD_FMT_SL;
	cfg->root = ce[0] & VTD_PTR_MASK;
	vtd_cfg_sl(iommu, aw, cfg);
	return 0;
}

/* 9.6: fill cfg from a present, reserved-clean PASID table entry. */
static int vtd_pasid_entry(const struct iotlb_vtd_iommu *iommu,
			   const uint64_t *pe, bool priv, uint64_t gpa,
			   struct iotlb_vtd_pgtable *cfg,
			   struct iotlb_walk_faultinfo *fault)
{
	uint64_t ptr_rsvd = VTD_GENMASK(63, iommu->haw);
	unsigned int pgtt = (unsigned int)(pe[0] >> PE0_PGTT_SHIFT) & 7;
	unsigned int aw = (unsigned int)(pe[0] >> PE0_AW_SHIFT) & 7;
	unsigned int flpm = (unsigned int)(pe[2] >> PE2_FLPM_SHIFT) & 3;
	uint32_t caps = iommu->caps;

	if (((pe[0] & PE0_SLADE) && !(caps & IOTLB_VTD_CAP_SLADS)) ||
	    ((pe[2] & PE2_SRE) && !(caps & IOTLB_VTD_CAP_SRS)) ||
	    ((pe[2] & PE2_EAFE) && !(caps & IOTLB_VTD_CAP_EAFS)))
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, pe[0], 0);

	cfg->did = (uint16_t)(pe[1] & PE1_DID);
	switch (pgtt) {
	case PGTT_FL:
		/* FLPM 00b = 4-level, 01b = 5-level (CAP.FL5LP). */
		if (!(caps & IOTLB_VTD_CAP_FLTS) || flpm > 1 ||
		    (flpm == 1 && !(caps & IOTLB_VTD_CAP_FL5L)) ||
		    (pe[2] & ptr_rsvd))
			return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa,
					 pe[0], 0);
		/* Supervisor requests are blocked unless SRE=1. */
		if (priv && !(pe[2] & PE2_SRE))
			return vtd_fault(fault, IOTLB_WALK_BLOCKED, 0, gpa,
					 pe[0], 0);
		cfg->format = IOTLB_VTD_FMT_FL;
		cfg->root = pe[2] & VTD_PTR_MASK;
		cfg->levels = (uint8_t)(4 + flpm);
		cfg->aw = flpm ? 57 : 48;
		if (caps & IOTLB_VTD_CAP_FL1G)
			cfg->flags |= IOTLB_VTD_PGT_FL1G;
		if (pe[2] & PE2_EAFE)
			cfg->flags |= IOTLB_VTD_PGT_EAFE;
		if (priv)
			cfg->flags |= IOTLB_VTD_PGT_SUPERVISOR;
		if (priv && (pe[2] & PE2_WPE))
			cfg->flags |= IOTLB_VTD_PGT_WPE;
		return 0;
	case PGTT_SL:
		if (!(caps & IOTLB_VTD_CAP_SLTS) || !vtd_aw_supported(iommu, aw) ||
		    (pe[0] & ptr_rsvd))
			return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa,
					 pe[0], 0);
		cfg->format = IOTLB_VTD_FMT_SL;
		cfg->root = pe[0] & VTD_PTR_MASK;
		vtd_cfg_sl(iommu, aw, cfg);
		if (pe[0] & PE0_SLADE)
			cfg->flags |= IOTLB_VTD_PGT_SLADE;
		return 0;
	case PGTT_NESTED:
		/* Needs a second stage walk of every first-stage pointer. */
		return vtd_fault(fault, IOTLB_WALK_UNSUPPORTED, 0, gpa, pe[0], 0);
	case PGTT_PT:
		/* As in legacy mode, AW bounds pass-through addresses. */
		if (!(caps & IOTLB_VTD_CAP_PT) || !vtd_aw_supported(iommu, aw))
			return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa,
					 pe[0], 0);
		cfg->format = IOTLB_VTD_FMT_PT;
		cfg->aw = (uint8_t)(30 + 9 * aw);
		return 0;
	default:
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, pe[0], 0);
	}
}

static int vtd_context_scalable(const struct iotlb_mem *mem,
				const struct iotlb_vtd_iommu *iommu,
				uint16_t sid, uint32_t pasid,
				struct iotlb_vtd_pgtable *cfg,
				struct iotlb_walk_faultinfo *fault,
				struct iotlb_walk_trace *trace)
{
	uint64_t ptr_rsvd = VTD_GENMASK(63, iommu->haw);
	unsigned int devfn = sid & 0xff;
	uint64_t re[2], ce[4], pde, pe[8], half, gpa;
	unsigned int pdts, i;
	bool priv = false;

	gpa = iommu->rta + (uint64_t)(sid >> 8) * 16;
	if (vtd_read(mem, gpa, re, 2))
		return vtd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa, 0, 0);
	/* 9.2: the upper half serves devfn 128..255. */
	half = re[devfn >= 128];
	iotlb__walk_trace_add(trace, 0, 0, gpa, half, "root");
	if (!(half & RE_P))
		return vtd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, half, 0);
	if (half & (RE_RSVD | ptr_rsvd))
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, half, 0);

	/* 256-bit entries: one 4 KiB context table covers 128 functions. */
	gpa = (half & VTD_PTR_MASK) + (uint64_t)(devfn & 0x7f) * 32;
	if (vtd_read(mem, gpa, ce, 4))
		return vtd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa, 0, 0);
	iotlb__walk_trace_add(trace, 0, 0, gpa, ce[0], "context");
	if (!(ce[0] & SCE0_P))
		return vtd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, ce[0], 0);
	if ((ce[0] & (SCE0_RSVD | ptr_rsvd)) || (ce[1] & SCE1_RSVD) ||
	    ce[2] || ce[3] ||
	    ((ce[0] & SCE0_DTE) && !(iommu->caps & IOTLB_VTD_CAP_DT)))
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, ce[0], 0);

	if (pasid == IOTLB_VTD_NO_PASID) {
		/* Requests without PASID use RID_PASID and RID_PRIV. */
		cfg->pasid = (uint32_t)(ce[1] & SCE1_RID_PASID);
		priv = ce[1] & SCE1_RID_PRIV;
	} else {
		if (!(ce[0] & SCE0_PASIDE))
			return vtd_fault(fault, IOTLB_WALK_BLOCKED, 0, gpa, ce[0], 0);
		cfg->pasid = pasid;
		cfg->flags |= IOTLB_VTD_PGT_WITH_PASID;
	}

	/* PDTS = X: the PASID directory has 2^(X+7) entries. */
	pdts = (unsigned int)(ce[0] >> SCE0_PDTS_SHIFT) & 7;
	if ((cfg->pasid >> 6) >= (1U << (pdts + 7)))
		return vtd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, ce[0], 0);

	gpa = (ce[0] & VTD_PTR_MASK) + (uint64_t)(cfg->pasid >> 6) * 8;
	if (vtd_read(mem, gpa, &pde, 1))
		return vtd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa, 0, 0);
	iotlb__walk_trace_add(trace, 0, 0, gpa, pde, "pasid-dir");
	if (!(pde & PDE_P))
		return vtd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, pde, 0);
	if (pde & (PDE_RSVD | ptr_rsvd))
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, pde, 0);

	gpa = (pde & VTD_PTR_MASK) + (uint64_t)(cfg->pasid & 63) * 64;
	if (vtd_read(mem, gpa, pe, 8))
		return vtd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, 0, gpa, 0, 0);
	iotlb__walk_trace_add(trace, 0, 0, gpa, pe[0], "pasid");
	if (!(pe[0] & PE0_P))
		return vtd_fault(fault, IOTLB_WALK_CONTEXT_INVALID, 0, gpa, pe[0], 0);
	if ((pe[0] & PE0_RSVD) || (pe[1] & PE1_RSVD) || (pe[2] & PE2_RSVD))
		return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa, pe[0], 0);
	for (i = 3; i < 8; i++)
		if (pe[i])
			return vtd_fault(fault, IOTLB_WALK_RESERVED, 0, gpa,
					 pe[0], 0);
	return vtd_pasid_entry(iommu, pe, priv, gpa, cfg, fault);
}

int iotlb__walk_vtd_context(const struct iotlb_mem *mem,
			    const struct iotlb_vtd_iommu *iommu, uint16_t sid,
			    uint32_t pasid, struct iotlb_vtd_pgtable *cfg,
			    struct iotlb_walk_faultinfo *fault,
			    struct iotlb_walk_trace *trace)
{
	if (!mem || !iommu || !cfg)
		return -EINVAL;
	if (iommu->haw < 32 || iommu->haw > 52 || iommu->scalable > 1 ||
	    (iommu->rta & ~VTD_PTR_MASK) || (iommu->rta >> iommu->haw))
		return -EINVAL;
	if (pasid != IOTLB_VTD_NO_PASID &&
	    (!iommu->scalable || pasid > IOTLB_VTD_PASID_MAX))
		return -EINVAL;

	memset(cfg, 0, sizeof(*cfg));
	cfg->haw = iommu->haw;
	if (!iommu->scalable)
		return vtd_context_legacy(mem, iommu, sid, cfg, fault, trace);
	return vtd_context_scalable(mem, iommu, sid, pasid, cfg, fault, trace);
}

static int vtd_check_cfg(const struct iotlb_vtd_pgtable *cfg);

int iotlb__walk_vtd_check(const struct iotlb_vtd_pgtable *cfg)
{
	return cfg ? vtd_check_cfg(cfg) : -EINVAL;
}

static int vtd_check_cfg(const struct iotlb_vtd_pgtable *cfg)
{
	if (cfg->haw < 32 || cfg->haw > 52 || (cfg->flags & ~VTD_PGT_ALL_FLAGS))
		return -EINVAL;
	if (cfg->aw != 39 && cfg->aw != 48 && cfg->aw != 57)
		return -EINVAL;
	switch (cfg->format) {
	case IOTLB_VTD_FMT_PT:
		return 0;
	case IOTLB_VTD_FMT_SL:
		if (cfg->levels < 3 || cfg->levels > 5)
			return -EINVAL;
		break;
	case IOTLB_VTD_FMT_FL:
		if (cfg->levels < 4 || cfg->levels > 5)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (cfg->aw != VTD_PAGE_SHIFT + VTD_LEVEL_BITS * cfg->levels)
		return -EINVAL;
	if ((cfg->root & ~VTD_PTR_MASK) || (cfg->root >> cfg->haw))
		return -EINVAL;
	return 0;
}

/* Reserved bits of a paging entry, by format, level and leaf-ness. */
static uint64_t vtd_rsvd_mask(const struct iotlb_vtd_pgtable *cfg,
			      unsigned int level, bool leaf)
{
	uint64_t m = cfg->haw < 52 ? VTD_GENMASK(51, cfg->haw) : 0;

	if (cfg->format == IOTLB_VTD_FMT_SL) {
		/* 9.8: bit 62 everywhere, bit 11 in non-leaf entries, PS in
		 * SL-PML5E/SL-PML4E, the low address bits of super pages. */
		m |= SL_RSVD62;
		if (!leaf)
			return m | SL_SNP | (level >= 4 ? SL_PS : 0);
		if (!(cfg->flags & IOTLB_VTD_PGT_SNP))
			m |= SL_SNP;
		if (level == 2)
			m |= VTD_GENMASK(20, 12);
		else if (level == 3)
			m |= VTD_GENMASK(29, 12);
		return m;
	}
	/* 9.7: as x86-64 paging; bit 12 of a super page is PAT. */
	if (!leaf)
		return m | (level >= 4 ? FL_PS : 0);
	if (level == 2)
		m |= VTD_GENMASK(20, 13);
	else if (level == 3)
		m |= VTD_GENMASK(29, 13);
	return m;
}

/* What one entry grants; FL rules from "Access Rights" of first-level. */
static unsigned int vtd_entry_perm(const struct iotlb_vtd_pgtable *cfg,
				   uint64_t e)
{
	unsigned int perm = IOTLB_WALK_READ | IOTLB_WALK_WRITE;

	if (cfg->format == IOTLB_VTD_FMT_SL)
		return ((e & SL_R) ? IOTLB_WALK_READ : 0) |
		       ((e & SL_W) ? IOTLB_WALK_WRITE : 0);
	if (!(cfg->flags & IOTLB_VTD_PGT_SUPERVISOR)) {
		/* User requests need U/S=1 at every level. */
		if (!(e & FL_US))
			return 0;
		if (!(e & FL_RW))
			perm &= ~IOTLB_WALK_WRITE;
		return perm;
	}
	/* Supervisor writes ignore R/W unless WPE=1 (like CR0.WP). */
	if (!(e & FL_RW) && (cfg->flags & IOTLB_VTD_PGT_WPE))
		perm &= ~IOTLB_WALK_WRITE;
	return perm;
}

/*
 * Set bits in the entry at gpa whose last known value is *e.  0 when
 * done, 1 when the entry changed under us (*e is the new value), or
 * -errno (read-only region, ...).
 */
static int vtd_set_bits(const struct iotlb_mem *mem, uint64_t gpa, uint64_t *e,
			uint64_t bits)
{
	uint64_t expected = htole64(*e);
	int r;

	r = iotlb__mem_cmpxchg_u64(mem, gpa, &expected, htole64(*e | bits));
	if (r == 0)
		*e |= bits;
	else if (r == 1)
		*e = le64toh(expected);
	return r;
}

static bool vtd_hits_irq(uint64_t base, uint64_t size)
{
	return base <= VTD_IRQ_LAST && base + (size - 1) >= VTD_IRQ_BASE;
}

/*
 * Cut the leaf [base, base + size) -> gpa to the largest aligned block
 * around iova that neither reads from (requests without PASID) nor
 * translates into the interrupt address range; fault if iova itself does.
 */
static int vtd_finish(const struct iotlb_vtd_pgtable *cfg, uint64_t iova,
		      uint64_t base, uint64_t size, uint64_t gpa,
		      unsigned int perm, unsigned int level, uint64_t egpa,
		      uint64_t e, struct iotlb_walk_result *res,
		      struct iotlb_walk_faultinfo *fault)
{
	bool no_pasid = !(cfg->flags & IOTLB_VTD_PGT_WITH_PASID);

	while (vtd_hits_irq(gpa, size) || (no_pasid && vtd_hits_irq(base, size))) {
		uint64_t nb;

		/* The range is 1 MiB aligned: a block this small is inside. */
		if (size <= VTD_IRQ_SIZE)
			return vtd_fault(fault, IOTLB_WALK_BLOCKED, level, egpa,
					 e, iova);
		size >>= 1;
		nb = iova & ~(size - 1);
		gpa += nb - base;
		base = nb;
	}
	res->iova = base;
	res->size = size;
	res->gpa = gpa;
	res->perm = perm;
	res->level = level;
	return 0;
}

static int vtd_walk_pt(const struct iotlb_vtd_pgtable *cfg, uint64_t iova,
		       struct iotlb_walk_result *res,
		       struct iotlb_walk_faultinfo *fault)
{
	unsigned int width = cfg->aw < cfg->haw ? cfg->aw : cfg->haw;
	uint64_t size = 1ULL << VTD_PT_BLOCK_SHIFT;
	uint64_t base = iova & ~(size - 1);

	if (iova >> width)
		return vtd_fault(fault, IOTLB_WALK_ADDR_WIDTH, 0, 0, 0, iova);
	return vtd_finish(cfg, iova, base, size, base,
			  IOTLB_WALK_READ | IOTLB_WALK_WRITE, 0, 0, 0, res, fault);
}

int iotlb__walk_vtd(const struct iotlb_mem *mem,
		    const struct iotlb_vtd_pgtable *cfg, uint64_t iova,
		    unsigned int access, struct iotlb_walk_result *res,
		    struct iotlb_walk_faultinfo *fault,
		    struct iotlb_walk_trace *trace)
{
	return iotlb__walk_vtd_pwc(mem, cfg, NULL, iova, access, res, fault,
				   trace);
}

/* Bytes one table of this level translates (level 1 = 4 KiB pages). */
static uint64_t vtd_table_span(unsigned int level)
{
	unsigned int shift = VTD_PAGE_SHIFT + VTD_LEVEL_BITS * level;

	return shift >= 64 ? 0 : 1ULL << shift;
}

int iotlb__walk_vtd_pwc(const struct iotlb_mem *mem,
			const struct iotlb_vtd_pgtable *cfg,
			const struct iotlb_walk_pwc *pwc, uint64_t iova,
			unsigned int access, struct iotlb_walk_result *res,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace)
{
	unsigned int perm = IOTLB_WALK_READ | IOTLB_WALK_WRITE;
	unsigned int start = 0;
	bool sl, ad;
	uint64_t table, a_bits, d_bit, base, size;
	const char *what;
	unsigned int level;
	int r;

	if (!mem || !cfg || !res)
		return -EINVAL;
	if (access & ~(IOTLB_WALK_READ | IOTLB_WALK_WRITE))
		return -EINVAL;
	r = vtd_check_cfg(cfg);
	if (r)
		return r;
	memset(res, 0, sizeof(*res));
	if (cfg->format == IOTLB_VTD_FMT_PT)
		return vtd_walk_pt(cfg, iova, res, fault);

	sl = cfg->format == IOTLB_VTD_FMT_SL;
	if (sl) {
		if (iova >> cfg->aw)
			return vtd_fault(fault, IOTLB_WALK_ADDR_WIDTH,
					 cfg->levels, 0, 0, iova);
		ad = cfg->flags & IOTLB_VTD_PGT_SLADE;
		a_bits = SL_A;
		d_bit = SL_D;
		what = "sl-pte";
	} else {
		/* Bits 63:aw-1 must all equal bit aw-1. */
		uint64_t top = iova >> (cfg->aw - 1);

		if (top != 0 && top != (~0ULL >> (cfg->aw - 1)))
			return vtd_fault(fault, IOTLB_WALK_NON_CANONICAL,
					 cfg->levels, 0, 0, iova);
		ad = true;
		a_bits = FL_A | ((cfg->flags & IOTLB_VTD_PGT_EAFE) ? FL_EA : 0);
		d_bit = FL_D;
		what = "fl-pte";
	}
	if (cfg->flags & IOTLB_VTD_PGT_NO_AD)
		ad = false;

	/*
	 * Resume at the deepest cached table on iova's path.  Entries above
	 * it were present, checked and had A set when it was cached.
	 */
	table = cfg->root;
	start = cfg->levels;
	if (pwc) {
		for (level = 1; level < cfg->levels; level++) {
			uint64_t span = vtd_table_span(level), t;
			uint32_t p;

			if (pwc->lookup(pwc->ctx, 1, level, iova & ~(span - 1),
					&t, &p)) {
				table = t;
				perm = p;
				start = level;
				break;
			}
		}
	}
	/* At most cfg->levels reads: a table pointing at itself ends at 1. */
	for (level = start; level >= 1; level--) {
		unsigned int shift = VTD_PAGE_SHIFT + VTD_LEVEL_BITS * (level - 1);
		uint64_t egpa = table + ((iova >> shift) & 511) * 8;
		unsigned int tries = 0, lperm;
		uint64_t e, want;
		bool leaf;

		if (vtd_read(mem, egpa, &e, 1))
			return vtd_fault(fault, IOTLB_WALK_TABLE_OUTSIDE, level,
					 egpa, 0, iova);
		res->mem_reads++;
		iotlb__walk_trace_add(trace, level, 0, egpa, e, what);
again:
		if (!(e & (sl ? (SL_R | SL_W) : FL_P)))
			return vtd_fault(fault, IOTLB_WALK_NOT_PRESENT, level,
					 egpa, e, iova);
		leaf = level == 1;
		if ((level == 2 || level == 3) && (e & VTD_BIT(7))) {
			uint32_t need = sl ? (level == 2 ? IOTLB_VTD_PGT_SL2M :
						IOTLB_VTD_PGT_SL1G) :
					     (level == 2 ? 0 : IOTLB_VTD_PGT_FL1G);

			/* PS=1 for a size the unit lacks is a reserved bit. */
			if ((cfg->flags & need) != need)
				return vtd_fault(fault, IOTLB_WALK_RESERVED,
						 level, egpa, e, iova);
			leaf = true;
		}
		if (e & vtd_rsvd_mask(cfg, level, leaf))
			return vtd_fault(fault, IOTLB_WALK_RESERVED, level,
					 egpa, e, iova);
		lperm = perm & vtd_entry_perm(cfg, e);
		/* No grant at all is a fault even when asking for none. */
		if (leaf && (!lperm || (access & lperm) != access))
			return vtd_fault(fault, IOTLB_WALK_PERMISSION, level,
					 egpa, e, iova);

		/*
		 * A on every entry used, D on the leaf whenever the grant we
		 * return includes write (see walk-vtd.h); a racing update
		 * makes us decide again on the new value.
		 */
		want = a_bits | ((leaf && (lperm & IOTLB_WALK_WRITE)) ? d_bit : 0);
		if (ad && (e & want) != want) {
			r = vtd_set_bits(mem, egpa, &e, want);
			if (r == 1 && ++tries < VTD_AD_RETRIES)
				goto again;
			if (r)
				return vtd_fault(fault, IOTLB_WALK_AD_UPDATE,
						 level, egpa, e, iova);
		}
		perm = lperm;
		if (!leaf) {
			table = e & VTD_GENMASK(51, VTD_PAGE_SHIFT);
			if (pwc) {
				uint64_t span = vtd_table_span(level - 1);

				pwc->insert(pwc->ctx, 1, level - 1,
					    iova & ~(span - 1), span, table,
					    perm);
			}
			continue;
		}
		size = 1ULL << shift;
		base = iova & ~(size - 1);
		r = vtd_finish(cfg, iova, base, size, e & VTD_GENMASK(51, shift),
			       perm, level, egpa, e, res, fault);
		/*
		 * Neighbours may be read straight from this table unless the
		 * result was cut or the 512 entries' span holds the interrupt
		 * window, which blocks requests without PASID (see walk.h).
		 */
		if (r == 0 && res->size == size &&
		    ((cfg->flags & IOTLB_VTD_PGT_WITH_PASID) ||
		     !vtd_hits_irq(iova & ~((size << 9) - 1), size << 9))) {
			res->leaf_entry_gpa = egpa;
			res->leaf_entry = e;
			res->leaf_step = size;
		}
		return r;
	}
	/* Not reached: level 1 is always a leaf. */
	return vtd_fault(fault, IOTLB_WALK_LOOP, 0, 0, 0, iova);
}
