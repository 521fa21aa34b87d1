/* SPDX-License-Identifier: MIT */
/*
 * Guest-side builder of Arm SMMUv3 structures (stream tables, STEs, CD
 * tables, CDs) and VMSAv8-64 stage 1 / stage 2 translation tables, for
 * tests, fuzz seeds and the simulator.  Written from the specifications
 * independently of walk-arm.c, so the two check each other.
 *
 * Everything is carved from one pool by a bump allocator.  The pool sits
 * at gpa_base in the address space the tables point into: a PA for
 * stream tables and stage-2 or stage-1-only tables, an IPA for stage-1
 * tables and CD tables of a nested stream (map that IPA range to the
 * pool's real PA with a stage-2 table).
 */
#ifndef IOTLB_PT_ARM_H
#define IOTLB_PT_ARM_H

#include <stdbool.h>
#include <stdint.h>

struct pt_arm_builder {
	uint8_t *base;		/* local view of the pool */
	uint64_t gpa_base;	/* address of the pool in table pointers */
	uint64_t size;
	uint64_t next;		/* bump offset */
};

void pt_arm_init(struct pt_arm_builder *b, void *base, uint64_t gpa_base,
		 uint64_t size);
/* Zeroed, align-aligned block: its address in *addr. */
int pt_arm_alloc(struct pt_arm_builder *b, uint64_t size, uint64_t align,
		 uint64_t *addr);
int pt_arm_read64(const struct pt_arm_builder *b, uint64_t addr,
		  uint64_t *val);
int pt_arm_write64(struct pt_arm_builder *b, uint64_t addr, uint64_t val);
int pt_arm_write_struct(struct pt_arm_builder *b, uint64_t addr,
			const uint64_t v[8]);

/* --- translation tables --- */

/* What the builder mapped, for cross-checks. */
struct pt_arm_rec {
	uint64_t iova;
	uint64_t size;
	uint64_t oa;
	uint64_t attr;		/* leaf attribute bits as written */
	unsigned int shift;	/* log2 of each leaf */
};

struct pt_arm_tt {
	uint64_t root;		/* initial (concatenated) table */
	unsigned int granule;	/* 12, 14, 16 */
	unsigned int ia;	/* input bits */
	int sl;			/* Arm initial lookup level */
	unsigned int stage;	/* 1 or 2 */
	bool upper;		/* TTB1 region: iovas sign-extended from ia */
	struct pt_arm_rec *rec;	/* caller's array, may be NULL */
	unsigned int nrec, maxrec;
};

/*
 * A new empty table set.  Stage 1: the initial level follows from ia;
 * pass sl = -1.  Stage 2: sl is the initial lookup level and the root is
 * as many concatenated tables as ia needs there.
 */
int pt_arm_tt_new(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		  unsigned int stage, unsigned int granule, unsigned int ia,
		  int sl);

/* Leaf attributes (ARM D8.3.1.2). */
#define PT_ARM_AF	(1ULL << 10)
#define PT_ARM_S1_RO	(1ULL << 7)	/* AP[2] */
#define PT_ARM_S1_EL0	(1ULL << 6)	/* AP[1] */
#define PT_ARM_S2_R	(1ULL << 6)	/* S2AP[0] */
#define PT_ARM_S2_W	(1ULL << 7)	/* S2AP[1] */
#define PT_ARM_ATTR_MASK ((1ULL << 12) - 4)	/* bits [11:2] */
/* Table attributes. */
#define PT_ARM_APTABLE_NO_EL0 (1ULL << 61)
#define PT_ARM_APTABLE_RO     (1ULL << 62)

/*
 * Map [iova, iova + size) to oa with leaves of 2^shift bytes (a page or
 * a block size of the granule) and leaf attributes attr.  -EEXIST if a
 * leaf is already there or a block would replace a table.
 */
int pt_arm_map(struct pt_arm_builder *b, struct pt_arm_tt *tt, uint64_t iova,
	       uint64_t oa, uint64_t size, unsigned int shift, uint64_t attr);
/* Clear the leaves of a range mapped by one earlier pt_arm_map(). */
int pt_arm_unmap(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		 uint64_t iova, uint64_t size);
/* Replace the attribute bits of every leaf in the range. */
int pt_arm_protect(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		   uint64_t iova, uint64_t size, uint64_t attr);
/*
 * Address of the descriptor for iova at Arm level `level` (creating
 * tables down to it when create is set), for raw writes.
 */
int pt_arm_entry(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		 uint64_t iova, int level, bool create, uint64_t *addr);
/* The builder's record covering iova, or NULL. */
const struct pt_arm_rec *pt_arm_lookup(const struct pt_arm_tt *tt,
				       uint64_t iova);

/* --- SMMU structures (SMMU 5.1 - 5.4, 6.3.24 - 6.3.25) --- */

struct pt_arm_strtab {
	uint64_t base;		/* SMMU_STRTAB_BASE value */
	uint32_t cfg;		/* SMMU_STRTAB_BASE_CFG value */
	unsigned int log2size, split;
	bool two_level;
};

int pt_arm_strtab_new(struct pt_arm_builder *b, struct pt_arm_strtab *st,
		      unsigned int log2size, bool two_level, unsigned int split);
/* Address of sid's STE, allocating its level-2 table if needed. */
int pt_arm_ste_addr(struct pt_arm_builder *b, const struct pt_arm_strtab *st,
		    uint32_t sid, uint64_t *addr);

struct pt_arm_ste {
	bool valid;
	unsigned int config;	/* 0b100 bypass, 0b101 S1, 0b110 S2, 0b111 */
	uint64_t s1ctxptr;
	unsigned int s1fmt, s1cdmax, s1dss;
	unsigned int privcfg;
	uint16_t vmid;
	/* stage 2 */
	unsigned int s2t0sz, s2sl0, s2tg_granule, s2ps;
	bool s2aa64, s2affd, s2ha;
	uint64_t s2ttb;
};
void pt_arm_ste_encode(const struct pt_arm_ste *s, uint64_t out[8]);
/* Fill the stage-2 fields from a table set (S2SL0 from its level). */
void pt_arm_ste_set_s2(struct pt_arm_ste *s, const struct pt_arm_tt *tt,
		       unsigned int ps_enc);

/* A CD table: linear (fmt 0) or 2-level (fmt 1: 4K, 2: 64K leaves). */
struct pt_arm_cdtab {
	uint64_t ptr;		/* STE.S1ContextPtr */
	unsigned int fmt, cdmax;
};
int pt_arm_cdtab_new(struct pt_arm_builder *b, struct pt_arm_cdtab *ct,
		     unsigned int fmt, unsigned int cdmax);
int pt_arm_cd_addr(struct pt_arm_builder *b, const struct pt_arm_cdtab *ct,
		   uint32_t ssid, uint64_t *addr);

struct pt_arm_cd {
	bool valid;
	unsigned int t0sz, t1sz, tg0_granule, tg1_granule, ips;
	bool epd0, epd1, tbi0, tbi1, affd, ha, pan, had0, had1;
	uint16_t asid;
	uint64_t ttb0, ttb1;
};
void pt_arm_cd_encode(const struct pt_arm_cd *c, uint64_t out[8]);
/* Fill T0SZ/TG0/TTB0 (region 0) or T1SZ/TG1/TTB1 (region 1). */
void pt_arm_cd_set_tt(struct pt_arm_cd *c, unsigned int region,
		      const struct pt_arm_tt *tt);

#endif /* IOTLB_PT_ARM_H */
