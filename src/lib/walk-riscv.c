/* SPDX-License-Identifier: MIT */
/*
 * RISC-V IOMMU: device directory, process directory and the two-stage
 * Sv39/Sv48/Sv57 (+ x4) page-table walk.
 *
 * References: "RISC-V IOMMU Architecture Specification" 1.0 (section
 * numbers below), and the RISC-V privileged specification: "Virtual
 * Address Translation Process" (sv32algorithm, shared by Sv39/48/57),
 * "Two-Stage Address Translation" (H extension), Svnapot and Svpbmt.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "iotlb-internal.h"
#include "walk.h"
#include "walk-riscv.h"

#define RV_PAGE_SHIFT	12
#define RV_PN_MASK	((1ULL << 52) - 1)	/* page number of a 64-bit address */
#define RV_PPN44(x)	((x) & ((1ULL << 44) - 1))

/* PTE bits (privileged spec, Sv39 "page table entry") */
#define RV_PTE_V	(1ULL << 0)
#define RV_PTE_R	(1ULL << 1)
#define RV_PTE_W	(1ULL << 2)
#define RV_PTE_X	(1ULL << 3)
#define RV_PTE_U	(1ULL << 4)
#define RV_PTE_A	(1ULL << 6)
#define RV_PTE_D	(1ULL << 7)
#define RV_PTE_RSVD	(0x7fULL << 54)		/* bits 60:54 */
#define RV_PTE_PBMT_SHIFT 61
#define RV_PTE_PBMT	(3ULL << RV_PTE_PBMT_SHIFT)
#define RV_PTE_N	(1ULL << 63)
#define RV_PTE_PPN(p)	RV_PPN44((p) >> 10)

/* Non-leaf DDT and PDT entries (2.1.1, 2.2.1): V, PPN[53:10], rest reserved */
#define RV_DIR_V	(1ULL << 0)
#define RV_DIR_RSVD	((0x1ffULL << 1) | (0x3ffULL << 54))

/* Device context (2.1.3) */
#define RV_TC_V		(1ULL << 0)
#define RV_TC_EN_ATS	(1ULL << 1)
#define RV_TC_EN_PRI	(1ULL << 2)
#define RV_TC_T2GPA	(1ULL << 3)
#define RV_TC_DTF	(1ULL << 4)
#define RV_TC_PDTV	(1ULL << 5)
#define RV_TC_PRPR	(1ULL << 6)
#define RV_TC_GADE	(1ULL << 7)
#define RV_TC_SADE	(1ULL << 8)
#define RV_TC_DPE	(1ULL << 9)
#define RV_TC_SBE	(1ULL << 10)
#define RV_TC_SXL	(1ULL << 11)
#define RV_TC_RSVD	((0xfffULL << 12) | (0xffffffffULL << 32)) /* 31:24 custom */
#define RV_TA_RSVD	(0xfffULL | (0xffffffffULL << 32))
#define RV_TA_PSCID(x)	(((x) >> 12) & 0xfffff)
#define RV_ATP_MODE(x)	((unsigned int)((x) >> 60))
#define RV_ATP_RSVD	(0xffffULL << 44)	/* iosatp, pdtp, msiptp 59:44 */
#define RV_GATP_GSCID(x) (((x) >> 44) & 0xffff)
#define RV_MSI_RSVD	(0xfffULL << 52)	/* msi_addr_mask/pattern 63:52 */
#define RV_PDTP_PD8	1
#define RV_PDTP_PD17	2
#define RV_PDTP_PD20	3
#define RV_MSIPTP_OFF	0
#define RV_MSIPTP_FLAT	1

/* Process context (2.2.3) */
#define RV_PCTA_V	(1ULL << 0)
#define RV_PCTA_ENS	(1ULL << 1)
#define RV_PCTA_SUM	(1ULL << 2)
#define RV_PCTA_RSVD	((0x1ffULL << 3) | (0xffffffffULL << 32))

/* Compare-and-swap retries before an A/D update gives up. */
#define RV_AD_RETRIES	8
/* Leaf size reported when neither stage translates: 1 GiB, aligned. */
#define RV_BARE_SHIFT	30
#define RV_SHIFT_NONE	64

struct rv_walk {
	const struct iotlb_mem *mem;
	const struct iotlb_walk_riscv_cfg *cfg;
	struct iotlb_walk_faultinfo *fault;
	struct iotlb_walk_trace *trace;
	const struct iotlb_walk_pwc *pwc;	/* may be NULL */
	uint32_t reads;
	unsigned int ad_retries;
};

/* Bytes one table at index level i translates (i = 0: 4 KiB leaves). */
static uint64_t rv_span(unsigned int i)
{
	return 1ULL << (RV_PAGE_SHIFT + 9 * (i + 1));
}

/*
 * Deepest cached table on the path of addr below the root (walk.h);
 * updates *a and returns its index level, or top when nothing is cached.
 */
static unsigned int rv_pwc_resume(struct rv_walk *w, uint32_t stage,
				  unsigned int top, uint64_t addr, uint64_t *a)
{
	unsigned int i;

	if (!w->pwc)
		return top;
	for (i = 0; i < top; i++) {
		uint64_t t;
		uint32_t p;

		if (w->pwc->lookup(w->pwc->ctx, stage, i + 1,
				   addr & ~(rv_span(i) - 1), &t, &p)) {
			*a = t;
			return i;
		}
	}
	return top;
}

static void rv_pwc_insert(struct rv_walk *w, uint32_t stage, unsigned int i,
			  uint64_t addr, uint64_t table)
{
	if (w->pwc)
		w->pwc->insert(w->pwc->ctx, stage, i + 1,
			       addr & ~(rv_span(i) - 1), rv_span(i), table, 0);
}

/* One stage's leaf, seen from the input address that was translated. */
struct rv_leaf {
	uint64_t out;		/* output address of the input address */
	unsigned int shift;	/* log2 of the leaf size, 64 = Bare */
	uint32_t perm;
	uint32_t level;
	uint64_t pte_addr;	/* where the leaf PTE is */
	uint64_t pte;		/* its value as the walk left it */
};

static int rv_fault(struct rv_walk *w, enum iotlb_walk_fault reason,
		    uint32_t stage, uint32_t level, uint64_t entry_gpa,
		    uint64_t entry, uint64_t addr)
{
	w->fault->reason = reason;
	w->fault->stage = stage;
	w->fault->level = level;
	w->fault->entry_gpa = entry_gpa;
	w->fault->entry = entry;
	w->fault->addr = addr;
	return IOTLB_WALK_FAULTED;
}

static unsigned int rv_levels(unsigned int mode)
{
	switch (mode) {
	case IOTLB_RISCV_MODE_SV39:
		return 3;
	case IOTLB_RISCV_MODE_SV48:
		return 4;
	case IOTLB_RISCV_MODE_SV57:
		return 5;
	}
	return 0;
}

/*
 * Read one 64-bit structure entry.  Addresses beyond capabilities.PAS are
 * an access fault like any other address outside memory.
 */
static int rv_read(struct rv_walk *w, uint64_t addr, bool be, uint64_t *val)
{
	uint64_t raw;

	w->reads++;
	if (w->cfg->pas && w->cfg->pas < 64 && (addr >> w->cfg->pas))
		return -EFAULT;
	if (iotlb__mem_read_u64(w->mem, addr, &raw))
		return -EFAULT;
	*val = be ? be64toh(raw) : le64toh(raw);
	return 0;
}

/* 0 swapped, 1 entry changed (*cur holds it), -errno could not write. */
static int rv_cmpxchg(struct rv_walk *w, uint64_t addr, bool be,
		      uint64_t old, uint64_t new, uint64_t *cur)
{
	uint64_t exp = be ? htobe64(old) : htole64(old);
	uint64_t des = be ? htobe64(new) : htole64(new);
	int r;

	r = iotlb__mem_cmpxchg_u64(w->mem, addr, &exp, des);
	if (r == 1)
		*cur = be ? be64toh(exp) : le64toh(exp);
	return r;
}

/*
 * Step 3 of the privileged translation process: "if pte.r = 0 and
 * pte.w = 1, or if any bits or encodings that are reserved for future
 * standard use are set within pte" (V is checked by the caller).  i is
 * the 0-based level.
 */
static bool rv_pte_reserved(const struct iotlb_walk_riscv_cfg *cfg,
			    uint64_t pte, unsigned int i)
{
	unsigned int pbmt = (unsigned int)((pte & RV_PTE_PBMT) >>
					   RV_PTE_PBMT_SHIFT);

	if (pte & RV_PTE_RSVD)
		return true;
	if (!(pte & RV_PTE_R) && (pte & RV_PTE_W))
		return true;
	/* Svpbmt: without it bits 62:61 are reserved; with it 3 is. */
	if (pbmt && !(cfg->flags & IOTLB_WALK_RISCV_SVPBMT))
		return true;
	if (pbmt == 3)
		return true;
	if (!(pte & (RV_PTE_R | RV_PTE_X))) {
		/* Non-leaf: D, A, U, N and PBMT are reserved. */
		return (pte & (RV_PTE_D | RV_PTE_A | RV_PTE_U | RV_PTE_N)) ||
		       pbmt;
	}
	/* Svnapot (mandatory for the IOMMU, spec 5.3): only 64 KiB at i=0. */
	if (pte & RV_PTE_N)
		return i != 0 || (RV_PTE_PPN(pte) & 0xf) != 0x8;
	return false;
}

static uint32_t rv_pte_grant(uint64_t pte)
{
	uint32_t perm = 0;

	if (pte & RV_PTE_R)
		perm |= IOTLB_WALK_READ;
	if (pte & RV_PTE_W)
		perm |= IOTLB_WALK_WRITE;
	return perm;
}

/* Leaf geometry: NAPOT and superpage output address, log2 size. */
static void rv_leaf_fill(struct rv_leaf *leaf, uint64_t pte, unsigned int i,
			 uint64_t in, uint32_t perm)
{
	unsigned int shift = RV_PAGE_SHIFT + 9 * i;
	uint64_t mask;

	if (pte & RV_PTE_N)
		shift = 16;
	mask = (1ULL << shift) - 1;
	leaf->out = ((RV_PTE_PPN(pte) << RV_PAGE_SHIFT) & ~mask) | (in & mask);
	leaf->shift = shift;
	leaf->perm = perm;
	leaf->level = i + 1;
}

/*
 * G-stage translation of gpa (H extension "Guest Physical Address
 * Translation").  access is the access the G-stage checks: the original
 * one for the final GPA, an implicit load (or store, for a first-stage
 * A/D update) for first-stage and PDT structure accesses.  Every G-stage
 * access is a U-mode access, so leaves need U=1 (IOMMU spec 2.3: "When
 * checking the U bit in a second-stage PTE, the transaction is treated as
 * not requesting supervisor privilege").
 */
static int rv_gstage(struct rv_walk *w, uint64_t gpa, unsigned int access,
		     struct rv_leaf *leaf)
{
	const struct iotlb_walk_riscv_cfg *cfg = w->cfg;
	unsigned int levels = rv_levels(cfg->gs_mode);
	bool be = cfg->flags & IOTLB_WALK_RISCV_GBE;
	uint64_t a = cfg->gs_root;
	unsigned int i;

	if (!levels) {
		leaf->out = gpa;
		leaf->shift = RV_SHIFT_NONE;
		leaf->perm = IOTLB_WALK_READ | IOTLB_WALK_WRITE;
		leaf->level = 0;
		return 0;
	}
	/*
	 * SvNNx4: the GPA is 2 bits wider and its upper bits must be zero;
	 * with DC.tc.SXL = 1 only 34 bits are allowed (IOMMU spec 2.1.3.1).
	 */
	if (gpa >> (RV_PAGE_SHIFT + 9 * levels + 2) ||
	    ((cfg->flags & IOTLB_WALK_RISCV_SXL) && gpa >> 34))
		return rv_fault(w, IOTLB_WALK_ADDR_WIDTH, 2, levels, 0, 0, gpa);

	for (i = rv_pwc_resume(w, 2, levels - 1, gpa, &a);; i--) {
		unsigned int shift = RV_PAGE_SHIFT + 9 * i;
		/* The 16 KiB root table takes the 2 extra bits. */
		uint64_t idx = (gpa >> shift) &
			       (i == levels - 1 ? 0x7ff : 0x1ff);
		uint64_t ea = a + idx * 8, pte;
		uint32_t perm;
		bool need_ad, dirty;
		int r;

retry:
		if (rv_read(w, ea, be, &pte))
			return rv_fault(w, IOTLB_WALK_TABLE_OUTSIDE, 2, i + 1,
					ea, 0, gpa);
		iotlb__walk_trace_add(w->trace, i + 1, 2, ea, pte, "gpte");
		if (!(pte & RV_PTE_V))
			return rv_fault(w, IOTLB_WALK_NOT_PRESENT, 2, i + 1,
					ea, pte, gpa);
		if (rv_pte_reserved(cfg, pte, i))
			return rv_fault(w, IOTLB_WALK_RESERVED, 2, i + 1, ea,
					pte, gpa);
		if (!(pte & (RV_PTE_R | RV_PTE_X))) {
			/* A pointer where only a leaf may be: page fault. */
			if (i == 0)
				return rv_fault(w, IOTLB_WALK_RESERVED, 2, 1,
						ea, pte, gpa);
			a = RV_PTE_PPN(pte) << RV_PAGE_SHIFT;
			rv_pwc_insert(w, 2, i - 1, gpa, a);
			continue;
		}
		if (i && (RV_PTE_PPN(pte) & ((1ULL << (9 * i)) - 1)))
			return rv_fault(w, IOTLB_WALK_RESERVED, 2, i + 1, ea,
					pte, gpa);
		perm = (pte & RV_PTE_U) ? rv_pte_grant(pte) : 0;
		if (access & ~perm)
			return rv_fault(w, IOTLB_WALK_PERMISSION, 2, i + 1, ea,
					pte, gpa);
		/* See rv_fstage() on dirtying every writable grant. */
		dirty = (access & IOTLB_WALK_WRITE) ||
			((cfg->flags & IOTLB_WALK_RISCV_GADE) &&
			 (perm & IOTLB_WALK_WRITE));
		need_ad = !(pte & RV_PTE_A) || (dirty && !(pte & RV_PTE_D));
		if (need_ad) {
			uint64_t upd = pte | RV_PTE_A;

			if (!(cfg->flags & IOTLB_WALK_RISCV_GADE))
				return rv_fault(w, IOTLB_WALK_ACCESS_FLAG, 2,
						i + 1, ea, pte, gpa);
			if (dirty)
				upd |= RV_PTE_D;
			r = rv_cmpxchg(w, ea, be, pte, upd, &pte);
			if (r == 1 && ++w->ad_retries <= RV_AD_RETRIES)
				goto retry;
			if (r)
				return rv_fault(w, IOTLB_WALK_AD_UPDATE, 2,
						i + 1, ea, pte, gpa);
			pte = upd;
		}
		/* A clean page is not writable until a write walk dirties it. */
		if (!(pte & RV_PTE_D))
			perm &= ~IOTLB_WALK_WRITE;
		rv_leaf_fill(leaf, pte, i, gpa, perm);
		leaf->pte_addr = ea;
		leaf->pte = pte;
		return 0;
	}
}

/* Is the page of gpa a virtual interrupt file (IOMMU spec 2.1.3.6)? */
static bool rv_msi_match(const struct iotlb_walk_riscv_cfg *cfg,
			 uint64_t pn, uint64_t ignore)
{
	return !((pn ^ cfg->msi_pattern) & ~cfg->msi_mask & ~ignore &
		 RV_PN_MASK);
}

/*
 * First stage (privileged spec "Virtual Address Translation Process",
 * with every PTE address a GPA that goes through the G-stage).
 */
static int rv_fstage(struct rv_walk *w, uint64_t iova, unsigned int access,
		     struct rv_leaf *leaf)
{
	const struct iotlb_walk_riscv_cfg *cfg = w->cfg;
	unsigned int levels = rv_levels(cfg->fs_mode);
	bool be = cfg->flags & IOTLB_WALK_RISCV_SBE;
	uint64_t a = cfg->fs_root;
	unsigned int vabits, i;

	if (!levels) {
		leaf->out = iova;
		leaf->shift = RV_SHIFT_NONE;
		leaf->perm = IOTLB_WALK_READ | IOTLB_WALK_WRITE;
		leaf->level = 0;
		return 0;
	}
	/* Bits 63:VABITS must all equal bit VABITS-1. */
	vabits = RV_PAGE_SHIFT + 9 * levels;
	if ((uint64_t)((int64_t)(iova << (64 - vabits)) >> (64 - vabits)) !=
	    iova)
		return rv_fault(w, IOTLB_WALK_NON_CANONICAL, 1, levels, 0, 0,
				iova);

	for (i = rv_pwc_resume(w, 1, levels - 1, iova, &a);; i--) {
		uint64_t pte_gpa = a + ((iova >> (RV_PAGE_SHIFT + 9 * i)) &
					0x1ff) * 8;
		struct rv_leaf gl;
		uint64_t pte;
		uint32_t perm;
		bool need_ad, dirty;
		int r;

retry:
		/* An implicit load, for the G-stage. */
		r = rv_gstage(w, pte_gpa, IOTLB_WALK_READ, &gl);
		if (r)
			return r;
		if (rv_read(w, gl.out, be, &pte))
			return rv_fault(w, IOTLB_WALK_TABLE_OUTSIDE, 1, i + 1,
					gl.out, 0, iova);
		iotlb__walk_trace_add(w->trace, i + 1, 1, gl.out, pte, "pte");
		if (!(pte & RV_PTE_V))
			return rv_fault(w, IOTLB_WALK_NOT_PRESENT, 1, i + 1,
					gl.out, pte, iova);
		if (rv_pte_reserved(cfg, pte, i))
			return rv_fault(w, IOTLB_WALK_RESERVED, 1, i + 1,
					gl.out, pte, iova);
		if (!(pte & (RV_PTE_R | RV_PTE_X))) {
			if (i == 0)
				return rv_fault(w, IOTLB_WALK_RESERVED, 1, 1,
						gl.out, pte, iova);
			a = RV_PTE_PPN(pte) << RV_PAGE_SHIFT;
			rv_pwc_insert(w, 1, i - 1, iova, a);
			continue;
		}
		if (i && (RV_PTE_PPN(pte) & ((1ULL << (9 * i)) - 1)))
			return rv_fault(w, IOTLB_WALK_RESERVED, 1, i + 1,
					gl.out, pte, iova);
		/* U-mode needs U=1; S-mode may use U pages only with SUM. */
		perm = rv_pte_grant(pte);
		if (cfg->flags & IOTLB_WALK_RISCV_PRIV_S) {
			if ((pte & RV_PTE_U) &&
			    !(cfg->flags & IOTLB_WALK_RISCV_SUM))
				perm = 0;
		} else if (!(pte & RV_PTE_U)) {
			perm = 0;
		}
		if (access & ~perm)
			return rv_fault(w, IOTLB_WALK_PERMISSION, 1, i + 1,
					gl.out, pte, iova);
		/*
		 * The vhost IOTLB keeps the whole grant and writes through it
		 * without asking again, like an ATS translation requested
		 * with no-write = 0; a grant without W would make a later
		 * device write stall silently (vhost-iotlb-kernel.md §3.5).
		 * So with hardware A/D updating on, a writable grant is
		 * dirtied now; with it off, a clean page is granted read-only.
		 */
		dirty = (access & IOTLB_WALK_WRITE) ||
			((cfg->flags & IOTLB_WALK_RISCV_SADE) &&
			 (perm & IOTLB_WALK_WRITE));
		need_ad = !(pte & RV_PTE_A) || (dirty && !(pte & RV_PTE_D));
		if (need_ad) {
			uint64_t upd = pte | RV_PTE_A;

			if (!(cfg->flags & IOTLB_WALK_RISCV_SADE))
				return rv_fault(w, IOTLB_WALK_ACCESS_FLAG, 1,
						i + 1, gl.out, pte, iova);
			if (dirty)
				upd |= RV_PTE_D;
			/* The update is an implicit store for the G-stage. */
			r = rv_gstage(w, pte_gpa, IOTLB_WALK_WRITE, &gl);
			if (r)
				return r;
			r = rv_cmpxchg(w, gl.out, be, pte, upd, &pte);
			if (r == 1 && ++w->ad_retries <= RV_AD_RETRIES)
				goto retry;
			if (r)
				return rv_fault(w, IOTLB_WALK_AD_UPDATE, 1,
						i + 1, gl.out, pte, iova);
			pte = upd;
		}
		if (!(pte & RV_PTE_D))
			perm &= ~IOTLB_WALK_WRITE;
		rv_leaf_fill(leaf, pte, i, iova, perm);
		leaf->pte_addr = gl.out;
		leaf->pte = pte;
		return 0;
	}
}

static int rv_check_cfg(const struct iotlb_walk_riscv_cfg *cfg);

int iotlb__walk_riscv_check(const struct iotlb_walk_riscv_cfg *cfg)
{
	return cfg ? rv_check_cfg(cfg) : -EINVAL;
}

static int rv_check_cfg(const struct iotlb_walk_riscv_cfg *cfg)
{
	if (cfg->fs_mode != IOTLB_RISCV_MODE_BARE && !rv_levels(cfg->fs_mode))
		return -EINVAL;
	if (cfg->gs_mode != IOTLB_RISCV_MODE_BARE && !rv_levels(cfg->gs_mode))
		return -EINVAL;
	if (cfg->flags & ~IOTLB_WALK_RISCV_FLAGS_ALL)
		return -EINVAL;
	if (rv_levels(cfg->fs_mode) && (cfg->fs_root & 0xfff))
		return -EINVAL;
	if (rv_levels(cfg->gs_mode) && (cfg->gs_root & 0x3fff))
		return -EINVAL;
	return 0;
}

int iotlb__walk_riscv(const struct iotlb_mem *mem,
		      const struct iotlb_walk_riscv_cfg *cfg, uint64_t iova,
		      unsigned int access, struct iotlb_walk_result *res,
		      struct iotlb_walk_faultinfo *fault,
		      struct iotlb_walk_trace *trace)
{
	return iotlb__walk_riscv_pwc(mem, cfg, NULL, iova, access, res, fault,
				     trace);
}

int iotlb__walk_riscv_pwc(const struct iotlb_mem *mem,
			  const struct iotlb_walk_riscv_cfg *cfg,
			  const struct iotlb_walk_pwc *pwc, uint64_t iova,
			  unsigned int access, struct iotlb_walk_result *res,
			  struct iotlb_walk_faultinfo *fault,
			  struct iotlb_walk_trace *trace)
{
	struct rv_walk w = {
		.mem = mem, .cfg = cfg, .fault = fault, .trace = trace,
		.pwc = pwc,
	};
	struct rv_leaf fl, gl;
	unsigned int shift;
	int r;

	if (!mem || !cfg || !res || !fault)
		return -EINVAL;
	if (!access || (access & ~(IOTLB_WALK_READ | IOTLB_WALK_WRITE)))
		return -EINVAL;
	r = rv_check_cfg(cfg);
	if (r)
		return r;
	memset(res, 0, sizeof(*res));
	memset(fault, 0, sizeof(*fault));

	r = rv_fstage(&w, iova, access, &fl);
	if (r)
		goto out;
	/*
	 * Step 18 of IOMMU spec 2.3: a GPA in a virtual interrupt file is an
	 * MSI, translated by the MSI page table, not memory we can hand to
	 * vhost.
	 */
	if ((cfg->flags & IOTLB_WALK_RISCV_MSI_FLAT) &&
	    rv_msi_match(cfg, fl.out >> RV_PAGE_SHIFT, 0)) {
		r = rv_fault(&w, IOTLB_WALK_UNSUPPORTED, 1, fl.level, 0, 0,
			     iova);
		goto out;
	}
	r = rv_gstage(&w, fl.out, access, &gl);
	if (r)
		goto out;
	if (cfg->pas && cfg->pas < 64 && (gl.out >> cfg->pas)) {
		r = rv_fault(&w, IOTLB_WALK_ADDR_WIDTH, 2, gl.level, 0, 0,
			     fl.out);
		goto out;
	}

	shift = fl.shift < gl.shift ? fl.shift : gl.shift;
	if (shift == RV_SHIFT_NONE)
		shift = RV_BARE_SHIFT;
	/* A leaf that merely contains an interrupt file is cut to 4 KiB. */
	if ((cfg->flags & IOTLB_WALK_RISCV_MSI_FLAT) &&
	    shift > RV_PAGE_SHIFT &&
	    rv_msi_match(cfg, fl.out >> RV_PAGE_SHIFT,
			 (1ULL << (shift - RV_PAGE_SHIFT)) - 1))
		shift = RV_PAGE_SHIFT;
	res->size = 1ULL << shift;
	res->iova = iova & ~(res->size - 1);
	res->gpa = gl.out & ~(res->size - 1);
	res->perm = fl.perm & gl.perm;
	res->level = fl.level ? fl.level : gl.level;
	/*
	 * Exactly one stage translating, little-endian PTEs, not NAPOT, not
	 * cut: neighbours may be scanned; the PPN sits at bit 10, so the
	 * next page's PTE is larger by size >> 2 (see walk.h).
	 */
	{
		const struct rv_leaf *l = NULL;

		if (fl.shift != RV_SHIFT_NONE && gl.shift == RV_SHIFT_NONE &&
		    !(cfg->flags & IOTLB_WALK_RISCV_SBE))
			l = &fl;
		else if (fl.shift == RV_SHIFT_NONE && gl.shift != RV_SHIFT_NONE &&
			 !(cfg->flags & IOTLB_WALK_RISCV_GBE))
			l = &gl;
		if (l && l->shift == shift && !(l->pte & RV_PTE_N)) {
			res->leaf_entry_gpa = l->pte_addr;
			res->leaf_entry = l->pte;
			res->leaf_step = res->size >> 2;
		}
	}
out:
	res->mem_reads = w.reads;
	return r;
}

/* --- device and process directories ------------------------------------ */

/*
 * Is an iosatp/PC.fsc MODE valid and supported (IOMMU spec 2.1.4 rules
 * 9-11, 2.2.4 rules 2-4)?  SXL selects the Sv32 encodings.
 */
static bool rv_fs_mode_ok(uint64_t caps, bool sxl, unsigned int mode)
{
	uint64_t need;

	if (mode == IOTLB_RISCV_MODE_BARE)
		return true;
	if (sxl)
		need = mode == 8 ? IOTLB_RISCV_CAP_SV32 : 0;
	else if (mode == IOTLB_RISCV_MODE_SV39)
		need = IOTLB_RISCV_CAP_SV39;
	else if (mode == IOTLB_RISCV_MODE_SV48)
		need = IOTLB_RISCV_CAP_SV48;
	else if (mode == IOTLB_RISCV_MODE_SV57)
		need = IOTLB_RISCV_CAP_SV57;
	else
		need = 0;
	return need && (caps & need);
}

/* IOMMU spec 2.1.4 "Device-context configuration checks". */
static bool rv_dc_misconfigured(const struct iotlb_walk_riscv_iommu *iommu,
				const uint64_t *dc, bool ext)
{
	uint64_t caps = iommu->caps, tc = dc[0], iohgatp = dc[1];
	uint64_t ta = dc[2], fsc = dc[3];
	unsigned int gmode = RV_ATP_MODE(iohgatp), fmode = RV_ATP_MODE(fsc);
	bool gxl = iommu->fctl & IOTLB_RISCV_FCTL_GXL;
	bool be = iommu->fctl & IOTLB_RISCV_FCTL_BE;
	bool sxl = tc & RV_TC_SXL, sbe = tc & RV_TC_SBE;

	/* 1: reserved bits and fields */
	if ((tc & RV_TC_RSVD) || (ta & RV_TA_RSVD) || (fsc & RV_ATP_RSVD))
		return true;
	if (ext && ((dc[4] & RV_ATP_RSVD) || (dc[5] & RV_MSI_RSVD) ||
		    (dc[6] & RV_MSI_RSVD) || dc[7]))
		return true;
	/* 2-7: ATS, PRI, T2GPA */
	if (!(caps & IOTLB_RISCV_CAP_ATS) &&
	    (tc & (RV_TC_EN_ATS | RV_TC_EN_PRI | RV_TC_PRPR)))
		return true;
	if (!(tc & RV_TC_EN_ATS) && (tc & (RV_TC_T2GPA | RV_TC_EN_PRI)))
		return true;
	if (!(tc & RV_TC_EN_PRI) && (tc & RV_TC_PRPR))
		return true;
	if (!(caps & IOTLB_RISCV_CAP_T2GPA) && (tc & RV_TC_T2GPA))
		return true;
	if ((tc & RV_TC_T2GPA) && gmode == IOTLB_RISCV_MODE_BARE)
		return true;
	/* 8: pdtp.MODE, 9-11: iosatp.MODE */
	if (tc & RV_TC_PDTV) {
		switch (fmode) {
		case IOTLB_RISCV_MODE_BARE:
			break;
		case RV_PDTP_PD8:
			if (!(caps & IOTLB_RISCV_CAP_PD8))
				return true;
			break;
		case RV_PDTP_PD17:
			if (!(caps & IOTLB_RISCV_CAP_PD17))
				return true;
			break;
		case RV_PDTP_PD20:
			if (!(caps & IOTLB_RISCV_CAP_PD20))
				return true;
			break;
		default:
			return true;
		}
	} else {
		if (!rv_fs_mode_ok(caps, sxl, fmode))
			return true;
		/* 12: DPE is reserved without a PDT */
		if (tc & RV_TC_DPE)
			return true;
	}
	/* 13-15: iohgatp.MODE */
	if (gmode != IOTLB_RISCV_MODE_BARE) {
		uint64_t need;

		if (gxl)
			need = gmode == 8 ? IOTLB_RISCV_CAP_SV32X4 : 0;
		else if (gmode == IOTLB_RISCV_MODE_SV39)
			need = IOTLB_RISCV_CAP_SV39X4;
		else if (gmode == IOTLB_RISCV_MODE_SV48)
			need = IOTLB_RISCV_CAP_SV48X4;
		else if (gmode == IOTLB_RISCV_MODE_SV57)
			need = IOTLB_RISCV_CAP_SV57X4;
		else
			need = 0;
		if (!need || !(caps & need))
			return true;
		/* 17: 16 KiB aligned root */
		if (iohgatp & 3)
			return true;
	}
	/* 16: msiptp.MODE */
	if (ext && RV_ATP_MODE(dc[4]) != RV_MSIPTP_OFF &&
	    RV_ATP_MODE(dc[4]) != RV_MSIPTP_FLAT)
		return true;
	/* 18: hardware A/D needs AMO_HWAD */
	if (!(caps & IOTLB_RISCV_CAP_AMO_HWAD) &&
	    (tc & (RV_TC_SADE | RV_TC_GADE)))
		return true;
	/* 19, 21: SBE legal values */
	if (!(caps & IOTLB_RISCV_CAP_END) && be != sbe)
		return true;
	if (!(iommu->fctl_writable & IOTLB_RISCV_FCTL_BE) && be != sbe)
		return true;
	/* 20: SXL legal values */
	if (gxl && !sxl)
		return true;
	if (!gxl && !(iommu->fctl_writable & IOTLB_RISCV_FCTL_GXL) && sxl)
		return true;
	return false;
}

/* IOMMU spec 2.2.4 "Process-context configuration checks". */
static bool rv_pc_misconfigured(const struct iotlb_walk_riscv_iommu *iommu,
				uint64_t ta, uint64_t fsc, bool sxl)
{
	if ((ta & RV_PCTA_RSVD) || (fsc & RV_ATP_RSVD))
		return true;
	return !rv_fs_mode_ok(iommu->caps, sxl, RV_ATP_MODE(fsc));
}

/*
 * IOMMU spec 2.3.2: walk the PDT.  Its addresses are GPAs when the
 * G-stage is active, each access an implicit load through the G-stage.
 */
static int rv_locate_pc(struct rv_walk *w,
			const struct iotlb_walk_riscv_iommu *iommu,
			uint64_t pdtp, uint32_t pid, bool sxl,
			uint64_t *pc_ta, uint64_t *pc_fsc)
{
	bool be = w->cfg->flags & IOTLB_WALK_RISCV_SBE;
	unsigned int levels = RV_ATP_MODE(pdtp);	/* PD8 1, PD17 2, PD20 3 */
	uint32_t pdi[3] = { pid & 0xff, (pid >> 8) & 0x1ff, (pid >> 17) & 7 };
	uint64_t a = RV_PPN44(pdtp) << RV_PAGE_SHIFT, e;
	struct rv_leaf gl;
	unsigned int i;
	int r;

	for (i = levels - 1; i > 0; i--) {
		r = rv_gstage(w, a + pdi[i] * 8, IOTLB_WALK_READ, &gl);
		if (r)
			return r;
		if (rv_read(w, gl.out, be, &e))
			return rv_fault(w, IOTLB_WALK_TABLE_OUTSIDE, 0, 0,
					gl.out, 0, pid);
		iotlb__walk_trace_add(w->trace, 0, 0, gl.out, e, "pdte");
		if (!(e & RV_DIR_V) || (e & RV_DIR_RSVD))
			return rv_fault(w, IOTLB_WALK_CONTEXT_INVALID, 0, 0,
					gl.out, e, pid);
		a = RV_PTE_PPN(e) << RV_PAGE_SHIFT;
	}
	/* The 16-byte PC is aligned, so both halves share one G-stage page. */
	r = rv_gstage(w, a + pdi[0] * 16, IOTLB_WALK_READ, &gl);
	if (r)
		return r;
	if (rv_read(w, gl.out, be, pc_ta) || rv_read(w, gl.out + 8, be, pc_fsc))
		return rv_fault(w, IOTLB_WALK_TABLE_OUTSIDE, 0, 0, gl.out, 0,
				pid);
	iotlb__walk_trace_add(w->trace, 0, 0, gl.out, *pc_ta, "pc");
	if (!(*pc_ta & RV_PCTA_V) ||
	    rv_pc_misconfigured(iommu, *pc_ta, *pc_fsc, sxl))
		return rv_fault(w, IOTLB_WALK_CONTEXT_INVALID, 0, 0, gl.out,
				*pc_ta, pid);
	return 0;
}

/*
 * IOMMU spec 2.3.1: walk the DDT to the device context.  Fault mapping:
 * "All inbound transactions disallowed" and "Transaction type disallowed"
 * are IOTLB_WALK_BLOCKED, "DDT entry load access fault" TABLE_OUTSIDE,
 * "DDT entry not valid" and "misconfigured" CONTEXT_INVALID.
 */
static int rv_locate_dc(struct rv_walk *w,
			const struct iotlb_walk_riscv_iommu *iommu,
			uint32_t device_id, uint64_t *dc, bool *ext)
{
	unsigned int mode = iommu->ddtp & 0xf, levels, i, n;
	bool be = iommu->fctl & IOTLB_RISCV_FCTL_BE;
	uint64_t a = RV_PPN44(iommu->ddtp >> 10) << RV_PAGE_SHIFT, e;
	uint32_t ddi[3];

	levels = mode - IOTLB_RISCV_DDTP_1LVL + 1;
	*ext = iommu->caps & IOTLB_RISCV_CAP_MSI_FLAT;
	if (*ext) {
		ddi[0] = device_id & 0x3f;
		ddi[1] = (device_id >> 6) & 0x1ff;
		ddi[2] = (device_id >> 15) & 0x1ff;
	} else {
		ddi[0] = device_id & 0x7f;
		ddi[1] = (device_id >> 7) & 0x1ff;
		ddi[2] = (device_id >> 16) & 0xff;
	}
	/* 2.3 step 5: device_id wider than the DDT */
	if ((levels < 3 && ddi[2]) || (levels < 2 && ddi[1]))
		return rv_fault(w, IOTLB_WALK_BLOCKED, 0, 0, 0, 0, device_id);

	for (i = levels - 1; i > 0; i--) {
		uint64_t ea = a + ddi[i] * 8;

		if (rv_read(w, ea, be, &e))
			return rv_fault(w, IOTLB_WALK_TABLE_OUTSIDE, 0, 0, ea,
					0, device_id);
		iotlb__walk_trace_add(w->trace, 0, 0, ea, e, "ddte");
		if (!(e & RV_DIR_V) || (e & RV_DIR_RSVD))
			return rv_fault(w, IOTLB_WALK_CONTEXT_INVALID, 0, 0,
					ea, e, device_id);
		a = RV_PTE_PPN(e) << RV_PAGE_SHIFT;
	}
	n = *ext ? 8 : 4;
	a += ddi[0] * n * 8;
	for (i = 0; i < n; i++)
		if (rv_read(w, a + i * 8, be, &dc[i]))
			return rv_fault(w, IOTLB_WALK_TABLE_OUTSIDE, 0, 0,
					a + i * 8, 0, device_id);
	iotlb__walk_trace_add(w->trace, 0, 0, a, dc[0], "dc");
	if (!(dc[0] & RV_TC_V) || rv_dc_misconfigured(iommu, dc, *ext))
		return rv_fault(w, IOTLB_WALK_CONTEXT_INVALID, 0, 0, a, dc[0],
				device_id);
	return 0;
}

int iotlb__walk_riscv_dc(const struct iotlb_mem *mem,
			 const struct iotlb_walk_riscv_iommu *iommu,
			 uint32_t device_id, uint32_t process_id,
			 unsigned int req, struct iotlb_walk_riscv_cfg *cfg,
			 struct iotlb_walk_faultinfo *fault,
			 struct iotlb_walk_trace *trace)
{
	struct rv_walk w = {
		.mem = mem, .cfg = cfg, .fault = fault, .trace = trace,
	};
	unsigned int mode, pdtp_mode;
	uint64_t dc[8], tc, pc_ta, pc_fsc;
	bool ext, have_pid = req & IOTLB_WALK_RISCV_REQ_PID;
	int r;

	if (!mem || !iommu || !cfg || !fault)
		return -EINVAL;
	if (req & ~(IOTLB_WALK_RISCV_REQ_PID | IOTLB_WALK_RISCV_REQ_PRIV_S))
		return -EINVAL;
	/* PCIe carries the privilege in the PASID prefix: no PID, no S. */
	if ((req & IOTLB_WALK_RISCV_REQ_PRIV_S) && !have_pid)
		return -EINVAL;
	if (device_id >> 24 || (have_pid && process_id >> 20))
		return -EINVAL;
	mode = iommu->ddtp & 0xf;
	/* iommu_mode is WARL: the VMM's model never holds a reserved value. */
	if (mode > IOTLB_RISCV_DDTP_3LVL)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	memset(fault, 0, sizeof(*fault));
	cfg->pas = (iommu->caps >> IOTLB_RISCV_CAP_PAS_SHIFT) & 0x3f;

	if (mode == IOTLB_RISCV_DDTP_OFF)
		return rv_fault(&w, IOTLB_WALK_BLOCKED, 0, 0, 0, 0, device_id);
	if (mode == IOTLB_RISCV_DDTP_BARE)
		return 0;
	r = rv_locate_dc(&w, iommu, device_id, dc, &ext);
	if (r)
		return r;
	tc = dc[0];

	/* 2.3 step 7: a process_id needs a PDT. */
	if (have_pid && !(tc & RV_TC_PDTV))
		return rv_fault(&w, IOTLB_WALK_BLOCKED, 0, 0, 0, tc, process_id);

	if (iommu->caps & IOTLB_RISCV_CAP_SVPBMT)
		cfg->flags |= IOTLB_WALK_RISCV_SVPBMT;
	if (tc & RV_TC_SADE)
		cfg->flags |= IOTLB_WALK_RISCV_SADE;
	if (tc & RV_TC_GADE)
		cfg->flags |= IOTLB_WALK_RISCV_GADE;
	if (tc & RV_TC_SBE)
		cfg->flags |= IOTLB_WALK_RISCV_SBE;
	if (iommu->fctl & IOTLB_RISCV_FCTL_BE)
		cfg->flags |= IOTLB_WALK_RISCV_GBE;
	if (tc & RV_TC_DTF)
		cfg->flags |= IOTLB_WALK_RISCV_DTF;
	if (tc & RV_TC_SXL)
		cfg->flags |= IOTLB_WALK_RISCV_SXL;
	if (ext && RV_ATP_MODE(dc[4]) == RV_MSIPTP_FLAT) {
		cfg->flags |= IOTLB_WALK_RISCV_MSI_FLAT;
		cfg->msi_mask = dc[5] & RV_PN_MASK;
		cfg->msi_pattern = dc[6] & RV_PN_MASK;
	}
	/* Sv32x4 (GXL=1) and Sv32 (SXL=1) use 32-bit PTEs: not implemented. */
	if ((iommu->fctl & IOTLB_RISCV_FCTL_GXL) &&
	    RV_ATP_MODE(dc[1]) != IOTLB_RISCV_MODE_BARE)
		return rv_fault(&w, IOTLB_WALK_UNSUPPORTED, 0, 0, 0, dc[1],
				device_id);
	cfg->gs_mode = RV_ATP_MODE(dc[1]);
	cfg->gs_root = RV_PPN44(dc[1]) << RV_PAGE_SHIFT;
	cfg->gscid = RV_GATP_GSCID(dc[1]);

	if (!(tc & RV_TC_PDTV)) {
		/* 2.3 step 10: first stage from the DC itself */
		if ((tc & RV_TC_SXL) && RV_ATP_MODE(dc[3]))
			return rv_fault(&w, IOTLB_WALK_UNSUPPORTED, 0, 0, 0,
					dc[3], device_id);
		cfg->fs_mode = RV_ATP_MODE(dc[3]);
		cfg->fs_root = RV_PPN44(dc[3]) << RV_PAGE_SHIFT;
		cfg->pscid = RV_TA_PSCID(dc[2]);
		return 0;
	}

	/* 2.3 steps 11-12: requests without a process_id */
	if (!have_pid) {
		if (!(tc & RV_TC_DPE))
			return 0;	/* first stage Bare */
		process_id = 0;
	}
	pdtp_mode = RV_ATP_MODE(dc[3]);
	/* 2.3 step 7: process_id wider than pdtp.MODE allows */
	if ((pdtp_mode == RV_PDTP_PD8 && process_id >> 8) ||
	    (pdtp_mode == RV_PDTP_PD17 && process_id >> 17))
		return rv_fault(&w, IOTLB_WALK_BLOCKED, 0, 0, 0, dc[3],
				process_id);
	if (pdtp_mode == IOTLB_RISCV_MODE_BARE)
		return 0;	/* 2.3 step 13 */
	r = rv_locate_pc(&w, iommu, dc[3], process_id, tc & RV_TC_SXL,
			 &pc_ta, &pc_fsc);
	if (r)
		return r;
	/* 2.3 step 15: supervisor requests need PC.ta.ENS */
	if (req & IOTLB_WALK_RISCV_REQ_PRIV_S) {
		if (!(pc_ta & RV_PCTA_ENS))
			return rv_fault(&w, IOTLB_WALK_BLOCKED, 0, 0, 0, pc_ta,
					process_id);
		cfg->flags |= IOTLB_WALK_RISCV_PRIV_S;
		if (pc_ta & RV_PCTA_SUM)
			cfg->flags |= IOTLB_WALK_RISCV_SUM;
	}
	if ((tc & RV_TC_SXL) && RV_ATP_MODE(pc_fsc))
		return rv_fault(&w, IOTLB_WALK_UNSUPPORTED, 0, 0, 0, pc_fsc,
				process_id);
	cfg->fs_mode = RV_ATP_MODE(pc_fsc);
	cfg->fs_root = RV_PPN44(pc_fsc) << RV_PAGE_SHIFT;
	cfg->pscid = RV_TA_PSCID(pc_ta);
	return 0;
}
