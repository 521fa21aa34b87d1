/* SPDX-License-Identifier: MIT */
/*
 * Arm SMMUv3 stream table / CD resolution and VMSAv8-64 walks.  Section
 * numbers are those of the SMMU architecture specification (IHI 0070,
 * "SMMU") and the Arm ARM (DDI 0487, "ARM").  walk-arm.h lists what is
 * modelled.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iotlb-internal.h"
#include "walk.h"
#include "walk-arm.h"

#define BIT(n) (1ULL << (n))
#define GENMASK(h, l) ((~0ULL >> (63 - (h))) & ~((1ULL << (l)) - 1))

static inline uint64_t field(uint64_t v, unsigned int h, unsigned int l)
{
	return (v & GENMASK(h, l)) >> l;
}

/* Low n bits set; n may be 64. */
static inline uint64_t lowmask(unsigned int n)
{
	return n >= 64 ? ~0ULL : BIT(n) - 1;
}

/* VMSAv8-64 descriptor bits (ARM D8.3.1). */
#define D_VALID		BIT(0)
#define D_TABLE		BIT(1)		/* table (levels 0-2) or page (3) */
#define D_AP1		BIT(6)		/* stage 1: unprivileged access */
#define D_AP2		BIT(7)		/* stage 1: read-only */
#define D_S2AP_R	BIT(6)
#define D_S2AP_W	BIT(7)
#define D_AF		BIT(10)
#define D_APTABLE0	BIT(61)		/* no unprivileged access below */
#define D_APTABLE1	BIT(62)		/* no write access below */

/* Levels walked plus Access-flag update retries before giving up. */
#define ARM_MAX_STEPS 12

/* --- SMMU structure fields (SMMU 5.1 - 5.4), as dword, bit --- */
#define L1STD_SPAN(d)		field(d, 4, 0)
#define L1STD_RES0		(BIT(5) | GENMASK(63, 56))
#define L1STD_L2PTR		GENMASK(55, 6)

#define STE0_V			BIT(0)
#define STE0_CONFIG(d)		field(d, 3, 1)
#define STE0_S1FMT(d)		field(d, 5, 4)
#define STE0_S1CTXPTR		GENMASK(55, 6)
#define STE0_RES0		GENMASK(58, 56)
#define STE0_S1CDMAX(d)		field(d, 63, 59)
#define STE1_S1DSS(d)		field(d, 1, 0)
#define STE1_S1PIE		BIT(88 - 64)
#define STE1_STRW(d)		field(d, 95 - 64, 94 - 64)
#define STE1_PRIVCFG(d)		field(d, 113 - 64, 112 - 64)
#define STE2_S2VMID(d)		field(d, 15, 0)
#define STE2_S2T0SZ(d)		field(d, 37, 32)
#define STE2_S2SL0(d)		field(d, 39, 38)
#define STE2_S2TG(d)		field(d, 47, 46)
#define STE2_S2PS(d)		field(d, 50, 48)
#define STE2_S2AA64		BIT(51)
#define STE2_S2ENDI		BIT(52)
#define STE2_S2AFFD		BIT(53)
#define STE2_S2HD		BIT(55)
#define STE2_S2HA		BIT(56)
/* S2HAFT, S2PIE, S2POE, DPT_VMATCH: features this SMMU lacks. */
#define STE2_UNSUPPORTED	GENMASK(63, 59)
#define STE3_S2TTB		GENMASK(51, 4)
/* S2SL0_2, S2DS (no LPA2), RES0 [252:244], S2SKL (no D128), bit 255. */
#define STE3_RES0		(BIT(2) | BIT(3) | GENMASK(63, 52))

#define L1CD_V			BIT(0)
#define L1CD_RES0		(GENMASK(11, 1) | GENMASK(63, 56))
#define L1CD_L2PTR		GENMASK(55, 12)

#define CD0_T0SZ(d)		field(d, 5, 0)
#define CD0_TG0(d)		field(d, 7, 6)
#define CD0_EPD0		BIT(14)
#define CD0_ENDI		BIT(15)
#define CD0_T1SZ(d)		field(d, 21, 16)
#define CD0_TG1(d)		field(d, 23, 22)
#define CD0_EPD1		BIT(30)
#define CD0_V			BIT(31)
#define CD0_IPS(d)		field(d, 34, 32)
#define CD0_AFFD		BIT(35)
#define CD0_TBI0		BIT(38)
#define CD0_TBI1		BIT(39)
#define CD0_PAN			BIT(40)
#define CD0_AA64		BIT(41)
#define CD0_HD			BIT(42)
#define CD0_HA			BIT(43)
#define CD0_ASID(d)		field(d, 63, 48)
#define CDX_HAD			BIT(1)		/* HAD0 / HAD1 */
#define CDX_TTB			GENMASK(51, 4)
/* E0PDx and HAFT (CD1) / AIE kept; RES0 [121:116] / [185:180]. */
#define CD1_RES0		(BIT(2) | BIT(3) | GENMASK(57, 52))
/* E0PD1, RES0 [185:180], DS (no LPA2), PIE (no indirection). */
#define CD2_RES0		(BIT(2) | GENMASK(59, 52))

/* One translation stage, as the walk loop needs it. */
struct arm_stage {
	uint64_t ttb;
	unsigned int gs;	/* log2 granule */
	unsigned int ia;	/* input address bits */
	unsigned int oa;	/* output address bits */
	int sl;			/* Arm initial lookup level */
	unsigned int stage;	/* 1 or 2 */
	bool ha, affd, had;
	bool lpa;		/* FEAT_LPA: the SMMU's OAS is 52 bits */
	uint64_t tagbase;	/* VA bits above ia (TTB1), for cache tags */
};

struct arm_leaf {
	uint64_t oa;		/* output address of the input address */
	unsigned int shift;	/* log2 of the leaf size */
	uint32_t perm;
	int level;		/* Arm lookup level */
	uint64_t desc_pa;	/* where the leaf descriptor is */
	uint64_t desc;		/* its value as the walk left it */
};

struct arm_walk {
	const struct iotlb_mem *mem;
	const struct iotlb_walk_arm_cfg *cfg;
	struct iotlb_walk_faultinfo *fault;
	struct iotlb_walk_trace *trace;
	struct arm_stage s2;	/* valid when nested */
	const struct iotlb_walk_pwc *pwc;	/* may be NULL */
	uint32_t reads;
	bool nested;		/* stage 1 addresses go through stage 2 */
};

/* Walker level from an Arm lookup level; -1 is the context. */
static uint32_t arm_level(int level)
{
	return level < 0 ? 0 : (uint32_t)(4 - level);
}

static int arm_fault(struct arm_walk *w, enum iotlb_walk_fault reason,
		     unsigned int stage, int level, uint64_t entry_gpa,
		     uint64_t entry, uint64_t addr)
{
	w->fault->reason = reason;
	w->fault->level = arm_level(level);
	w->fault->stage = w->nested ? stage : 0;
	w->fault->entry_gpa = entry_gpa;
	w->fault->entry = entry;
	w->fault->addr = addr;
	return IOTLB_WALK_FAULTED;
}

static int ctx_fault(struct arm_walk *w, enum iotlb_walk_fault reason,
		     uint64_t entry_gpa, uint64_t entry, uint64_t addr)
{
	w->fault->reason = reason;
	w->fault->level = 0;
	w->fault->stage = 0;
	w->fault->entry_gpa = entry_gpa;
	w->fault->entry = entry;
	w->fault->addr = addr;
	return IOTLB_WALK_FAULTED;
}

/* Output size in bits of an IPS / S2PS encoding, capped to the OAS. */
static unsigned int arm_pa_bits(unsigned int enc, unsigned int oas)
{
	static const unsigned int bits[8] = { 32, 36, 40, 42, 44, 48, 52, 52 };
	unsigned int b = bits[enc & 7];

	/* SMMU 5.4 CD.IPS, 5.2 STE.S2PS: eff = MIN(field, OAS). */
	return b < oas ? b : oas;
}

static bool arm_oas_valid(unsigned int oas)
{
	return oas == 32 || oas == 36 || oas == 40 || oas == 42 ||
	       oas == 44 || oas == 48 || oas == 52;
}

/* Initial lookup level of a stage-1 region (ARM D8.2.8.1 and kin). */
static int arm_s1_start(unsigned int ia, unsigned int gs)
{
	unsigned int stride = gs - 3;
	unsigned int levels = (ia - gs + stride - 1) / stride;

	return 4 - (int)levels;
}

/* Input bits resolved below the initial lookup: its index shift. */
static unsigned int arm_shift(unsigned int gs, int level)
{
	return gs + (gs - 3) * (unsigned int)(3 - level);
}

/*
 * Align an initial table base: SMMU 5.2 S2TTB / 5.4 TTBx treat the bits
 * below the table's (or concatenated tables') size as zero, and at
 * least bits [5:0] when the output size is 52 bits.
 */
static uint64_t arm_align_ttb(uint64_t ttb, unsigned int ia, unsigned int gs,
			      int sl, unsigned int oa)
{
	unsigned int x = ia - arm_shift(gs, sl) + 3;

	if (oa == 52 && x < 6)
		x = 6;
	return ttb & ~lowmask(x);
}

static int arm_walk_stage(struct arm_walk *w, const struct arm_stage *st,
			  uint64_t ia, unsigned int access,
			  struct arm_leaf *leaf);

/*
 * Fetch one descriptor at addr (an IPA for stage 1 when nested, ARM
 * D8.15.4 step 4), returning the PA it was read from in *pa.
 */
static int arm_read_desc(struct arm_walk *w, const struct arm_stage *st,
			 int level, uint64_t addr, uint64_t ia, uint64_t *pa,
			 uint64_t *val)
{
	int r;

	*pa = addr;
	if (st->stage == 1 && w->nested) {
		struct arm_leaf l2;

		r = arm_walk_stage(w, &w->s2, addr, IOTLB_WALK_READ, &l2);
		if (r)
			return r;
		*pa = l2.oa;
	}
	w->reads++;
	r = iotlb__mem_read_u64(w->mem, *pa, val);
	if (r)
		return arm_fault(w, IOTLB_WALK_TABLE_OUTSIDE, st->stage, level,
				 *pa, 0, ia);
	*val = le64toh(*val);
	return 0;
}

/* Bits of a valid descriptor that must be zero here (ARM D8.3.1). */
static uint64_t arm_res0(const struct arm_stage *st, int level, bool table)
{
	uint64_t m = GENMASK(49, 48);	/* no FEAT_LPA2 (DS == 0) */
	/* With 64K, bits [15:12] are OA[51:48] (FEAT_LPA, ARM R WDZFC). */
	uint64_t lpa = st->gs == 16 ? GENMASK(15, 12) : 0;

	if (table) {
		m |= BIT(50);
		if (st->gs > 12)
			m |= GENMASK(st->gs - 1, 12) & ~lpa;
		if (st->stage == 2)
			m |= GENMASK(63, 59);
		else
			m |= BIT(63);	/* NSTable: Non-secure only */
		return m;
	}
	if (st->stage == 2)
		m |= BIT(50);
	if (level == 3) {
		if (st->gs > 12)
			m |= GENMASK(st->gs - 1, 12) & ~lpa;
		return m;
	}
	/* Block: OA bits below the block size; bit 16 is nT (BBML1). */
	m |= GENMASK(arm_shift(st->gs, level) - 1, 17);
	m |= GENMASK(15, 12) & ~lpa;
	return m;
}

/* May a block descriptor appear at this level (ARM D8.2.8-10)? */
static bool arm_block_ok(const struct arm_stage *st, int level)
{
	if (level == 2)
		return true;
	if (level == 1)
		/* 1G with 4K; 4TB with 64K only given 52-bit PAs (FEAT_LPA). */
		return st->gs == 12 || (st->gs == 16 && st->lpa);
	return false;	/* level 0 blocks need FEAT_LPA2 */
}

/* Output address held by a descriptor, granule aligned. */
static uint64_t arm_desc_oa(const struct arm_stage *st, uint64_t d)
{
	uint64_t oa = d & GENMASK(47, st->gs);

	if (st->gs == 16)
		oa |= field(d, 15, 12) << 48;
	return oa;
}

static uint32_t arm_s1_perm(const struct arm_walk *w, uint64_t d,
			    bool no_el0, bool ro)
{
	bool el0 = (d & D_AP1) && !no_el0;
	uint32_t p = IOTLB_WALK_READ;

	/* ARM D8.4.1.2: AP[2] makes it read-only, AP[1] opens it to EL0. */
	if (!(d & D_AP2) && !ro)
		p |= IOTLB_WALK_WRITE;
	if (!w->cfg->privileged)
		return el0 ? p : 0;
	if (w->cfg->s1.pan && el0)
		return 0;
	return p;
}

/*
 * Set AF with an atomic update (SMMU 3.13 HTTU).  Returns 0 when the
 * descriptor now has AF set in *d, -EAGAIN when it changed under us (*d
 * is the new value; walk it again), or a fault.
 */
static int arm_set_af(struct arm_walk *w, const struct arm_stage *st,
		      int level, uint64_t addr, uint64_t pa, uint64_t ia,
		      uint64_t *d)
{
	uint64_t expected = htole64(*d);
	int r;

	if (st->stage == 1 && w->nested) {
		struct arm_leaf l2;

		/* The update is a write through stage 2 (SMMU 3.13.2). */
		r = arm_walk_stage(w, &w->s2, addr, IOTLB_WALK_WRITE, &l2);
		if (r)
			return r;
		pa = l2.oa;
	}
	r = iotlb__mem_cmpxchg_u64(w->mem, pa, &expected,
				   htole64(*d | D_AF));
	if (r < 0)
		return arm_fault(w, IOTLB_WALK_AD_UPDATE, st->stage, level, pa,
				 *d, ia);
	if (r == 1) {
		*d = le64toh(expected);
		return -EAGAIN;
	}
	*d |= D_AF;
	return 0;
}

/* One VMSAv8-64 stage: ARM D8.15.4 fault-checking sequence. */
static int arm_walk_stage(struct arm_walk *w, const struct arm_stage *st,
			  uint64_t ia, unsigned int access,
			  struct arm_leaf *leaf)
{
	const char *what = st->stage == 1 ? "s1" : "s2";
	unsigned int stride = st->gs - 3;
	uint64_t table = st->ttb;
	bool no_el0 = false, ro = false;
	int level = st->sl;
	unsigned int step;

	if (st->ia < 64 && (ia >> st->ia))
		return arm_fault(w, IOTLB_WALK_ADDR_WIDTH, st->stage, 0, 0, 0,
				 ia);
	/* ARM D8.2.3: a base beyond the output size faults at level 0. */
	if (st->oa < 64 && (table >> st->oa))
		return arm_fault(w, IOTLB_WALK_ADDR_WIDTH, st->stage, 0, 0,
				 table, ia);

	/*
	 * Resume at the deepest cached table on the path (walk.h).  The
	 * cached value carries the APTable restrictions met above it.
	 */
	if (w->pwc) {
		int l;

		for (l = 3; l > st->sl; l--) {
			uint64_t span = BIT(arm_shift(st->gs, l) + stride), t;
			uint32_t p;

			if (w->pwc->lookup(w->pwc->ctx, st->stage, arm_level(l),
					   st->tagbase | (ia & ~(span - 1)),
					   &t, &p)) {
				table = t;
				level = l;
				no_el0 = p & 1;
				ro = p & 2;
				break;
			}
		}
	}
	for (step = 0; step < ARM_MAX_STEPS; step++) {
		unsigned int shift = arm_shift(st->gs, level);
		unsigned int top = level == st->sl ? st->ia : shift + stride;
		uint64_t idx = (ia >> shift) & lowmask(top - shift);
		uint64_t addr = table + idx * 8, pa, d, oa, size;
		bool is_table;
		int r;

		r = arm_read_desc(w, st, level, addr, ia, &pa, &d);
		if (r)
			return r;
		iotlb__walk_trace_add(w->trace, arm_level(level),
				      w->nested ? st->stage : 0, pa, d, what);
		if (!(d & D_VALID))
			return arm_fault(w, IOTLB_WALK_NOT_PRESENT, st->stage,
					 level, pa, d, ia);
		is_table = level < 3 && (d & D_TABLE);
		/* ARM Table D8-48: level 3 0b01 and unsupported blocks. */
		if ((level == 3 && !(d & D_TABLE)) ||
		    (!is_table && level < 3 && !arm_block_ok(st, level)))
			return arm_fault(w, IOTLB_WALK_RESERVED, st->stage,
					 level, pa, d, ia);
		if (d & arm_res0(st, level, is_table))
			return arm_fault(w, IOTLB_WALK_RESERVED, st->stage,
					 level, pa, d, ia);
		oa = arm_desc_oa(st, d);
		if (st->oa < 64 && (oa >> st->oa))
			return arm_fault(w, IOTLB_WALK_ADDR_WIDTH, st->stage,
					 level, pa, d, ia);
		if (is_table) {
			/* ARM D8.4.2: APTable limits every later level. */
			if (st->stage == 1 && !st->had) {
				no_el0 |= !!(d & D_APTABLE0);
				ro |= !!(d & D_APTABLE1);
			}
			table = oa;
			level++;
			if (w->pwc) {
				uint64_t span = BIT(arm_shift(st->gs, level) + stride);

				w->pwc->insert(w->pwc->ctx, st->stage,
					       arm_level(level),
					       st->tagbase | (ia & ~(span - 1)),
					       span, table,
					       (no_el0 ? 1U : 0) | (ro ? 2U : 0));
			}
			continue;
		}
		if (!(d & D_AF)) {
			if (st->ha) {
				r = arm_set_af(w, st, level, addr, pa, ia, &d);
				if (r == -EAGAIN)
					continue;	/* re-check the new value */
				if (r)
					return r;
			} else if (!st->affd) {
				return arm_fault(w, IOTLB_WALK_ACCESS_FLAG,
						 st->stage, level, pa, d, ia);
			}
		}
		if (st->stage == 1)
			leaf->perm = arm_s1_perm(w, d, no_el0, ro);
		else
			leaf->perm = ((d & D_S2AP_R) ? IOTLB_WALK_READ : 0) |
				     ((d & D_S2AP_W) ? IOTLB_WALK_WRITE : 0);
		if (access & ~leaf->perm)
			return arm_fault(w, IOTLB_WALK_PERMISSION, st->stage,
					 level, pa, d, ia);
		size = BIT(shift);
		leaf->oa = (oa & ~(size - 1)) | (ia & (size - 1));
		leaf->shift = shift;
		leaf->level = level;
		leaf->desc_pa = pa;
		leaf->desc = d;
		return 0;
	}
	return arm_fault(w, IOTLB_WALK_LOOP, st->stage, level, 0, 0, ia);
}

static void arm_stage_s2(struct arm_stage *st,
			 const struct iotlb_walk_arm_s2 *s2, unsigned int oas)
{
	st->lpa = oas == 52;
	st->ttb = s2->ttb;
	st->gs = s2->granule;
	st->ia = 64U - s2->tsz;
	st->oa = s2->ps;
	st->sl = s2->sl;
	st->stage = 2;
	st->ha = s2->ha;
	st->affd = s2->affd;
	st->had = true;
	st->tagbase = 0;
}

static bool arm_granule_ok(unsigned int gs)
{
	return gs == 12 || gs == 14 || gs == 16;
}

/*
 * Is the stage-2 initial level consistent with S2T0SZ (ARM D8.2.8.2 and
 * kin): the level resolves at least one bit and at most a full table
 * plus four bits of concatenation (16 tables, ARM D8.2.2).
 */
static bool arm_s2_sl_ok(unsigned int tsz, unsigned int gs, int sl)
{
	unsigned int ia = 64 - tsz, shift;

	if (sl < 0 || sl > 3)
		return false;
	shift = arm_shift(gs, sl);
	return ia > shift && ia - shift <= gs - 3 + 4;
}

/* TxSZ limits (SMMU 5.2 S2T0SZ, 5.4 T0SZ): 16 .. 39, or 48/47 with STT. */
static unsigned int arm_tsz_max(uint32_t features, unsigned int gs)
{
	if (!(features & IOTLB_WALK_ARM_F_STT))
		return 39;
	return gs == 16 ? 47 : 48;
}

/* Caller-built configurations must be ones the SMMU could produce. */
static bool arm_cfg_ok(const struct iotlb_walk_arm_cfg *cfg)
{
	unsigned int i;

	if (cfg->mode > IOTLB_WALK_ARM_NESTED || !arm_oas_valid(cfg->oas))
		return false;
	if (cfg->mode & IOTLB_WALK_ARM_S1) {
		const struct iotlb_walk_arm_s1 *s1 = &cfg->s1;

		if (s1->ips < 32 || s1->ips > cfg->oas)
			return false;
		for (i = 0; i < 2; i++) {
			const struct iotlb_walk_arm_tt *tt = &s1->tt[i];

			if (tt->epd)
				continue;
			if (!arm_granule_ok(tt->granule) || tt->tsz < 16 ||
			    tt->tsz > 48 || 64U - tt->tsz <= tt->granule)
				return false;
		}
	}
	if (cfg->mode & IOTLB_WALK_ARM_S2) {
		const struct iotlb_walk_arm_s2 *s2 = &cfg->s2;

		if (!arm_granule_ok(s2->granule) || s2->tsz < 16 ||
		    s2->tsz > 48 || !arm_s2_sl_ok(s2->tsz, s2->granule, s2->sl) ||
		    s2->ps < 32 || s2->ps > cfg->oas)
			return false;
	}
	return true;
}

int iotlb__walk_arm_check(const struct iotlb_walk_arm_cfg *cfg)
{
	return cfg && arm_cfg_ok(cfg) ? 0 : -EINVAL;
}

/* Stage 1 region selection (ARM D8.2.4) and its walk. */
static int arm_walk_s1(struct arm_walk *w, uint64_t iova, unsigned int access,
		       struct arm_leaf *leaf)
{
	const struct iotlb_walk_arm_s1 *s1 = &w->cfg->s1;
	unsigned int upper = (unsigned int)((iova >> 55) & 1);
	const struct iotlb_walk_arm_tt *tt = &s1->tt[upper];
	struct arm_stage st;
	unsigned int ia = 64U - tt->tsz;
	uint64_t hi, in;
	int r;

	/*
	 * ARM I ZFSYQ: EPDx means no walk, a level 0 Translation fault; the
	 * region's TxSZ is IGNORED then (SMMU 5.4), so check that first.
	 */
	if (tt->epd)
		return arm_fault(w, IOTLB_WALK_NOT_PRESENT, 1, 0, 0, 0, iova);
	hi = GENMASK(tt->tbi ? 55 : 63, ia);
	/* Neither range: a level 0 Translation fault (the VA hole). */
	if ((iova & hi) != (upper ? hi : 0))
		return arm_fault(w, IOTLB_WALK_NON_CANONICAL, 1, 0, 0, 0, iova);
	st.ttb = tt->ttb;
	st.gs = tt->granule;
	st.ia = ia;
	st.oa = s1->ips;
	st.sl = arm_s1_start(ia, tt->granule);
	st.stage = 1;
	st.ha = s1->ha;
	st.affd = s1->affd;
	st.had = tt->had;
	st.lpa = w->cfg->oas == 52;
	st.tagbase = iova & ~lowmask(ia);
	in = iova & lowmask(ia);
	r = arm_walk_stage(w, &st, in, access, leaf);
	if (r && w->fault->stage != 2)
		w->fault->addr = iova;	/* report the VA as the device sent it */
	return r;
}

int iotlb__walk_arm(const struct iotlb_mem *mem,
		    const struct iotlb_walk_arm_cfg *cfg, uint64_t iova,
		    unsigned int access, struct iotlb_walk_result *res,
		    struct iotlb_walk_faultinfo *fault,
		    struct iotlb_walk_trace *trace)
{
	return iotlb__walk_arm_pwc(mem, cfg, NULL, iova, access, res, fault,
				   trace);
}

int iotlb__walk_arm_pwc(const struct iotlb_mem *mem,
			const struct iotlb_walk_arm_cfg *cfg,
			const struct iotlb_walk_pwc *pwc, uint64_t iova,
			unsigned int access, struct iotlb_walk_result *res,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace)
{
	struct iotlb_walk_faultinfo dummy;
	struct arm_walk w = {
		.mem = mem, .cfg = cfg, .fault = fault ? fault : &dummy,
		.trace = trace, .pwc = pwc,
	};
	struct arm_leaf l1 = { 0 }, l2 = { 0 };
	unsigned int shift;
	uint64_t gpa;
	int r;

	if (!mem || !cfg || !res ||
	    (access & ~(IOTLB_WALK_READ | IOTLB_WALK_WRITE)))
		return -EINVAL;
	if (!arm_cfg_ok(cfg))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	memset(w.fault, 0, sizeof(*w.fault));
	w.nested = cfg->mode == IOTLB_WALK_ARM_NESTED;
	if (cfg->mode & IOTLB_WALK_ARM_S2)
		arm_stage_s2(&w.s2, &cfg->s2, cfg->oas);

	switch (cfg->mode) {
	case IOTLB_WALK_ARM_BYPASS:
		/* SMMU 3.4: an input beyond the IAS (== OAS) faults. */
		if (iova >> cfg->oas)
			return arm_fault(&w, IOTLB_WALK_ADDR_WIDTH, 0, -1, 0,
					 0, iova);
		/* Identity: report a 1 GiB leaf, the caller clamps to RAM. */
		res->size = BIT(30);
		res->iova = iova & ~(res->size - 1);
		res->gpa = res->iova;
		res->perm = IOTLB_WALK_READ | IOTLB_WALK_WRITE;
		res->level = 0;
		return 0;
	case IOTLB_WALK_ARM_S1:
		r = arm_walk_s1(&w, iova, access, &l1);
		if (r)
			goto out;
		shift = l1.shift;
		gpa = l1.oa;
		res->perm = l1.perm;
		res->level = arm_level(l1.level);
		break;
	case IOTLB_WALK_ARM_S2:
		if (iova >> cfg->oas) {
			r = arm_fault(&w, IOTLB_WALK_ADDR_WIDTH, 2, -1, 0, 0,
				      iova);
			goto out;
		}
		r = arm_walk_stage(&w, &w.s2, iova, access, &l2);
		if (r)
			goto out;
		shift = l2.shift;
		gpa = l2.oa;
		res->perm = l2.perm;
		res->level = arm_level(l2.level);
		break;
	default:
		r = arm_walk_s1(&w, iova, access, &l1);
		if (r)
			goto out;
		r = arm_walk_stage(&w, &w.s2, l1.oa, access, &l2);
		if (r)
			goto out;
		/* The leaf is the smaller of the two mappings. */
		shift = l1.shift < l2.shift ? l1.shift : l2.shift;
		gpa = l2.oa;
		res->perm = l1.perm & l2.perm;
		res->level = arm_level(l1.shift <= l2.shift ? l1.level :
				       l2.level);
		break;
	}
	res->size = BIT(shift);
	res->iova = iova & ~(res->size - 1);
	res->gpa = gpa & ~(res->size - 1);
	/* One stage, little-endian descriptors: neighbours may be scanned. */
	if (cfg->mode == IOTLB_WALK_ARM_S1 || cfg->mode == IOTLB_WALK_ARM_S2) {
		const struct arm_leaf *l = cfg->mode == IOTLB_WALK_ARM_S1 ? &l1 : &l2;

		res->leaf_entry_gpa = l->desc_pa;
		res->leaf_entry = htole64(l->desc);
		res->leaf_step = BIT(shift);
	}
	r = 0;
out:
	res->mem_reads = w.reads;
	return r;
}

/* --- stream table and context descriptors --- */

/* Read a 64-byte STE or CD at pa (SMMU 3.21.3: 64-bit atomic dwords). */
static int arm_read_struct(struct arm_walk *w, uint64_t pa, uint64_t d[8])
{
	unsigned int i;

	w->reads++;
	if (iotlb__mem_read(w->mem, pa, d, 8 * sizeof(*d)))
		return ctx_fault(w, IOTLB_WALK_TABLE_OUTSIDE, pa, 0, 0);
	for (i = 0; i < 8; i++)
		d[i] = le64toh(d[i]);
	return 0;
}

/* Locate the STE of sid (SMMU 3.3.2, 6.3.24-25, 5.1). */
static int arm_find_ste(struct arm_walk *w, const struct iotlb_walk_arm_smmu *smmu,
			uint32_t sid, uint64_t *ste_pa)
{
	uint32_t reg = smmu->strtab_base_cfg;
	unsigned int raw = (unsigned int)field(reg, 5, 0);
	unsigned int log2size = raw < smmu->sidsize ? raw : smmu->sidsize;
	unsigned int split = (unsigned int)field(reg, 10, 6);
	uint64_t base = smmu->strtab_base & GENMASK(55, 6);
	uint64_t l1, d, l2ptr, l2idx;
	unsigned int span, align;

	/* Out of range: C_BAD_STREAMID. */
	if ((uint64_t)sid >> log2size)
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, 0, 0, sid);
	if (base >> smmu->oas)	/* F_STE_FETCH beyond the OAS */
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, base, 0, sid);
	if (field(reg, 17, 16) != 1) {	/* reserved FMT behaves as linear */
		base &= ~lowmask(raw + 6);
		*ste_pa = base + (uint64_t)sid * 64;
		return 0;
	}
	if (split != 6 && split != 8 && split != 10)
		split = 6;	/* reserved values behave as 6 */
	align = raw > split ? raw - split + 2 : 0;
	base &= ~lowmask(align > 5 ? align + 1 : 6);
	l1 = base + ((uint64_t)sid >> split) * 8;
	w->reads++;
	if (iotlb__mem_read_u64(w->mem, l1, &d))
		return ctx_fault(w, IOTLB_WALK_TABLE_OUTSIDE, l1, 0, sid);
	d = le64toh(d);
	iotlb__walk_trace_add(w->trace, 0, 0, l1, d, "l1std");
	span = (unsigned int)L1STD_SPAN(d);
	l2idx = sid & lowmask(split);
	/* SMMU 5.1.1: Span 0, reserved, beyond SPLIT+1 or index past it. */
	if (span == 0 || span > 11 || span > split + 1 ||
	    (d & L1STD_RES0) || l2idx >> (span - 1))
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, l1, d, sid);
	l2ptr = d & L1STD_L2PTR & ~lowmask(5 + span);
	if (l2ptr >> smmu->oas)
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, l1, d, sid);
	*ste_pa = l2ptr + l2idx * 64;
	return 0;
}

/* Decode and check the stage-2 half of an STE (SMMU 5.2). */
static int arm_ste_s2(struct arm_walk *w, const struct iotlb_walk_arm_smmu *smmu,
		      const uint64_t *ste, uint64_t ste_pa,
		      struct iotlb_walk_arm_cfg *cfg)
{
	static const unsigned int tg[4] = { 12, 16, 14, 0 };
	struct iotlb_walk_arm_s2 *s2 = &cfg->s2;
	uint64_t d2 = ste[2], d3 = ste[3], ttb;
	unsigned int gs = tg[STE2_S2TG(d2)];
	unsigned int tsz = (unsigned int)STE2_S2T0SZ(d2);
	unsigned int sl0 = (unsigned int)STE2_S2SL0(d2);
	unsigned int min = 64 - smmu->oas > 16 ? 64 - smmu->oas : 16;
	int sl;

	/* ILLEGAL: AArch32 or big-endian tables, HD, HA without HTTU. */
	if (!(d2 & STE2_S2AA64) || (d2 & STE2_S2ENDI) || (d2 & STE2_S2HD) ||
	    ((d2 & STE2_S2HA) && !(smmu->features & IOTLB_WALK_ARM_F_HA)) ||
	    (d2 & STE2_UNSUPPORTED) || (d3 & STE3_RES0) || !gs)
		goto bad;
	if (tsz < min || tsz > arm_tsz_max(smmu->features, gs))
		goto bad;
	/* ARM Table D8-19 and kin: SL0 3 is level 3 (4K, needs STT). */
	if (gs == 12)
		sl = sl0 == 3 ? 3 : 2 - (int)sl0;
	else
		sl = sl0 == 3 ? -1 : 3 - (int)sl0;
	if (gs == 12 && sl0 == 3 && !(smmu->features & IOTLB_WALK_ARM_F_STT))
		goto bad;
	if (!arm_s2_sl_ok(tsz, gs, sl))
		goto bad;
	s2->granule = (uint8_t)gs;
	s2->tsz = (uint8_t)tsz;
	s2->sl = (uint8_t)sl;
	s2->ps = (uint8_t)arm_pa_bits((unsigned int)STE2_S2PS(d2), smmu->oas);
	ttb = d3 & STE3_S2TTB;
	/* ILLEGAL: S2TTB beyond S2PS, or beyond 48 bits below 64K. */
	if ((ttb >> s2->ps) || (gs < 16 && (ttb >> 48)))
		goto bad;
	s2->ttb = arm_align_ttb(ttb, 64 - tsz, gs, sl, s2->ps);
	s2->ha = !!(d2 & STE2_S2HA);
	s2->affd = !!(d2 & STE2_S2AFFD);
	return 0;
bad:
	return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, ste_pa, ste[0], 0);
}

/* Translate a CD-table IPA through stage 2 (nested), else identity. */
static int arm_ctx_addr(struct arm_walk *w, uint64_t addr, uint64_t *pa)
{
	struct arm_leaf l2;
	int r;

	*pa = addr;
	if (!w->nested)
		return 0;
	r = arm_walk_stage(w, &w->s2, addr, IOTLB_WALK_READ, &l2);
	if (r)
		return r;
	*pa = l2.oa;
	return 0;
}

/* Locate and fetch the CD for ssid (SMMU 5.2 S1Fmt, 5.3). */
static int arm_fetch_cd(struct arm_walk *w, const uint64_t *ste,
			uint32_t ssid, uint64_t *cd_pa, uint64_t cd[8])
{
	unsigned int fmt = (unsigned int)STE0_S1FMT(ste[0]);
	unsigned int cdmax = (unsigned int)STE0_S1CDMAX(ste[0]);
	uint64_t ptr = ste[0] & STE0_S1CTXPTR, addr, pa, d;
	unsigned int split;
	int r;

	if (cdmax == 0) {
		addr = ptr;
	} else if (fmt == 1 || fmt == 2) {
		split = fmt == 1 ? 6 : 10;
		/* RES0 pointer bits are treated as zero. */
		if (cdmax > split)
			ptr &= ~lowmask(cdmax - split + 3);
		addr = ptr + (cdmax > split ? (uint64_t)(ssid >> split) * 8 : 0);
		r = arm_ctx_addr(w, addr, &pa);
		if (r)
			return r;
		w->reads++;
		if (iotlb__mem_read_u64(w->mem, pa, &d))
			return ctx_fault(w, IOTLB_WALK_TABLE_OUTSIDE, pa, 0, 0);
		d = le64toh(d);
		iotlb__walk_trace_add(w->trace, 0, 0, pa, d, "l1cd");
		/* V == 0: C_BAD_SUBSTREAMID; 64K leaves: L2Ptr[15:12] RES0. */
		if (!(d & L1CD_V) || (d & L1CD_RES0) ||
		    (fmt == 2 && (d & GENMASK(15, 12))))
			return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, pa, d, 0);
		addr = (d & L1CD_L2PTR) + (uint64_t)(ssid & lowmask(split)) * 64;
		if (addr >> w->cfg->oas)
			return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, pa, d, 0);
	} else {
		ptr &= ~lowmask(cdmax + 6);
		addr = ptr + (uint64_t)ssid * 64;
	}
	r = arm_ctx_addr(w, addr, cd_pa);
	if (r)
		return r;
	r = arm_read_struct(w, *cd_pa, cd);
	if (r)
		return r;
	iotlb__walk_trace_add(w->trace, 0, 0, *cd_pa, cd[0], "cd");
	return 0;
}

/* Decode one CD region (SMMU 5.4 TxSZ, TGx, EPDx, TTBx, HADx). */
static bool arm_cd_tt(const struct iotlb_walk_arm_smmu *smmu,
		      struct iotlb_walk_arm_tt *tt, unsigned int tsz,
		      unsigned int gs, bool epd, bool tbi, uint64_t dx,
		      unsigned int ips)
{
	uint64_t ttb = dx & CDX_TTB;
	unsigned int ia = 64 - tsz;

	memset(tt, 0, sizeof(*tt));
	tt->tbi = tbi;
	tt->epd = epd;
	if (epd)
		return true;
	if (!gs || tsz < 16 || tsz > arm_tsz_max(smmu->features, gs))
		return false;
	/* ILLEGAL: TTBx beyond IPS, or beyond 48 bits below 64K. */
	if ((ttb >> ips) || (gs < 16 && (ttb >> 48)))
		return false;
	tt->tsz = (uint8_t)tsz;
	tt->granule = (uint8_t)gs;
	tt->had = !!(dx & CDX_HAD);
	tt->ttb = arm_align_ttb(ttb, ia, gs, arm_s1_start(ia, gs), ips);
	return true;
}

static int arm_cd_decode(struct arm_walk *w, const struct iotlb_walk_arm_smmu *smmu,
			 const uint64_t *cd, uint64_t cd_pa,
			 struct iotlb_walk_arm_cfg *cfg)
{
	static const unsigned int tg0[4] = { 12, 16, 14, 0 };
	static const unsigned int tg1[4] = { 0, 14, 12, 16 };
	struct iotlb_walk_arm_s1 *s1 = &cfg->s1;
	uint64_t d0 = cd[0];
	unsigned int ips;

	/* C_BAD_CD: invalid, AArch32, big-endian, HD, HA without HTTU. */
	if (!(d0 & CD0_V) || !(d0 & CD0_AA64) || (d0 & CD0_ENDI) ||
	    (d0 & CD0_HD) ||
	    ((d0 & CD0_HA) && !(smmu->features & IOTLB_WALK_ARM_F_HA)) ||
	    (cd[1] & CD1_RES0) || (cd[2] & CD2_RES0))
		goto bad;
	ips = arm_pa_bits((unsigned int)CD0_IPS(d0), smmu->oas);
	if (!arm_cd_tt(smmu, &s1->tt[0], (unsigned int)CD0_T0SZ(d0),
		       tg0[CD0_TG0(d0)], d0 & CD0_EPD0, d0 & CD0_TBI0, cd[1],
		       ips) ||
	    !arm_cd_tt(smmu, &s1->tt[1], (unsigned int)CD0_T1SZ(d0),
		       tg1[CD0_TG1(d0)], d0 & CD0_EPD1, d0 & CD0_TBI1, cd[2],
		       ips))
		goto bad;
	s1->ips = (uint8_t)ips;
	s1->ha = !!(d0 & CD0_HA);
	s1->affd = !!(d0 & CD0_AFFD);
	s1->pan = !!(d0 & CD0_PAN);
	s1->asid = (uint16_t)CD0_ASID(d0);
	return 0;
bad:
	return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, cd_pa, d0, 0);
}

static int arm_ste_resolve(struct arm_walk *w,
			   const struct iotlb_walk_arm_smmu *smmu, uint32_t sid,
			   uint32_t ssid, struct iotlb_walk_arm_cfg *cfg)
{
	bool has_ssid = ssid != IOTLB_WALK_ARM_NO_SSID;
	uint64_t ste[8], ste_pa, cd[8], cd_pa, d0, d1;
	unsigned int config, cdmax;
	int r;

	r = arm_find_ste(w, smmu, sid, &ste_pa);
	if (r)
		return r;
	r = arm_read_struct(w, ste_pa, ste);
	if (r)
		return r;
	iotlb__walk_trace_add(w->trace, 0, 0, ste_pa, ste[0], "ste");
	d0 = ste[0];
	d1 = ste[1];
	if (!(d0 & STE0_V) || (d0 & STE0_RES0))	/* C_BAD_STE */
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, ste_pa, d0, 0);
	config = (unsigned int)STE0_CONFIG(d0);
	if (!(config & 4))	/* 0b0xx: abort, no event */
		return ctx_fault(w, IOTLB_WALK_BLOCKED, ste_pa, d0, 0);
	if (((config & 1) && !(smmu->features & IOTLB_WALK_ARM_F_S1P)) ||
	    ((config & 2) && !(smmu->features & IOTLB_WALK_ARM_F_S2P)))
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, ste_pa, d0, 0);

	cfg->mode = config & 3;
	cfg->features = smmu->features;
	cfg->oas = smmu->oas;
	cfg->privileged = STE1_PRIVCFG(d1) == 3;
	cfg->s2.vmid = (uint16_t)STE2_S2VMID(ste[2]);
	if (config & 2) {
		r = arm_ste_s2(w, smmu, ste, ste_pa, cfg);
		if (r)
			return r;
		arm_stage_s2(&w->s2, &cfg->s2, smmu->oas);
		w->nested = config == 7;
	}
	if (!(config & 1)) {
		/* Stage 1 bypassed: a SubstreamID is C_BAD_SUBSTREAMID. */
		if (has_ssid)
			return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, ste_pa,
					 d0, 0);
		return 0;
	}

	cdmax = smmu->ssidsize ? (unsigned int)STE0_S1CDMAX(d0) : 0;
	/* ILLEGAL: CDMax beyond SSIDSIZE, non-EL1 StreamWorld, S1PIE. */
	if (cdmax > smmu->ssidsize || (d1 & STE1_S1PIE) ||
	    (config == 5 && STE1_STRW(d1)) ||
	    (config == 5 && ((d0 & STE0_S1CTXPTR) >> smmu->oas)))
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, ste_pa, d0, 0);
	if (cdmax == 0) {
		if (has_ssid)
			return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, ste_pa,
					 d0, 0);
		ssid = 0;
	} else if (!has_ssid) {
		switch (STE1_S1DSS(d1)) {
		case 1:		/* bypass stage 1 */
			cfg->mode &= ~(uint32_t)IOTLB_WALK_ARM_S1;
			w->nested = false;
			return 0;
		case 2:		/* use substream 0 */
			ssid = 0;
			break;
		default:	/* terminate: F_STREAM_DISABLED */
			return ctx_fault(w, IOTLB_WALK_BLOCKED, ste_pa, d0, 0);
		}
	} else if (ssid >> cdmax) {
		return ctx_fault(w, IOTLB_WALK_CONTEXT_INVALID, ste_pa, d0,
				 ssid);
	} else if (ssid == 0 && STE1_S1DSS(d1) == 2) {
		return ctx_fault(w, IOTLB_WALK_BLOCKED, ste_pa, d0, 0);
	}
	r = arm_fetch_cd(w, ste, ssid, &cd_pa, cd);
	if (r)
		return r;
	return arm_cd_decode(w, smmu, cd, cd_pa, cfg);
}

int iotlb__walk_arm_ste(const struct iotlb_mem *mem,
			const struct iotlb_walk_arm_smmu *smmu, uint32_t sid,
			uint32_t ssid, struct iotlb_walk_arm_cfg *cfg,
			uint32_t *mem_reads,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace)
{
	struct iotlb_walk_faultinfo dummy;
	struct arm_walk w = {
		.mem = mem, .cfg = cfg, .fault = fault ? fault : &dummy,
		.trace = trace,
	};
	int r;

	if (!mem || !smmu || !cfg || !arm_oas_valid(smmu->oas) ||
	    smmu->sidsize > 32 || smmu->ssidsize > 20)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	memset(w.fault, 0, sizeof(*w.fault));
	cfg->oas = smmu->oas;	/* bounds CD addresses before the STE is read */
	r = arm_ste_resolve(&w, smmu, sid, ssid, cfg);
	if (mem_reads)
		*mem_reads += w.reads;
	return r;
}

int iotlb__walk_arm_smmu(const struct iotlb_mem *mem,
			 const struct iotlb_walk_arm_smmu *smmu, uint32_t sid,
			 uint32_t ssid, uint64_t iova, unsigned int access,
			 struct iotlb_walk_result *res,
			 struct iotlb_walk_faultinfo *fault,
			 struct iotlb_walk_trace *trace)
{
	struct iotlb_walk_arm_cfg cfg;
	uint32_t reads = 0;
	int r;

	if (!res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	r = iotlb__walk_arm_ste(mem, smmu, sid, ssid, &cfg, &reads, fault,
				trace);
	if (r) {
		res->mem_reads = reads;
		return r;
	}
	r = iotlb__walk_arm(mem, &cfg, iova, access, res, fault, trace);
	res->mem_reads += reads;
	return r;
}
