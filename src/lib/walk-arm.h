/* SPDX-License-Identifier: MIT */
/*
 * Arm SMMUv3 (IHI 0070) stream table / context descriptor resolution and
 * VMSAv8-64 (Arm ARM D8) stage 1, stage 2 and nested table walks.
 *
 * What the walker models, and what it deliberately does not:
 * - Non-secure stream table only, StreamWorld NS-EL1 (STRW must be 0,
 *   as for an SMMU with SMMU_IDR0.Hyp == 0); AArch64 tables only
 *   (SMMU_IDR0.TTF == 0b10), little-endian only (TTENDIAN == 0b10);
 *   4K, 16K and 64K granules; 16-bit ASIDs and VMIDs.
 * - Input addresses up to 48 bits (no 52-bit VAs, SMMU_IDR5.VAX == 0).
 * - No FEAT_LPA2 (CD.DS / STE.S2DS), no VMSAv9-128, no permission
 *   indirection or overlays, no E0PD, no HAFT: those fields are RES0 for
 *   this SMMU and a CD/STE that sets them is ILLEGAL here.
 * - 52-bit output addresses with the 64K granule (FEAT_LPA) when the
 *   SMMU's OAS is 52.
 * - Access flag hardware update (HTTU == 0b01) when IOTLB_WALK_ARM_F_HA
 *   is set; dirty-state update (HD) is not modelled, so HD/S2HD are
 *   ILLEGAL as on an SMMU with HTTU < 0b10.
 * - Privilege: device transactions carry no PRIV attribute (PCIe without
 *   a PASID privilege bit), so they are unprivileged unless the STE's
 *   PRIVCFG overrides it to privileged.  Execute permission is not
 *   reported (vhost only reads and writes).
 *
 * Levels: a walker level is 4 - (Arm lookup level), so Arm level 3 (the
 * last-level table) is 1 and Arm level 0 is 4; 0 means the stream table
 * or context descriptor.  A fault in a nested walk reports stage 1 or 2
 * and, for stage 2, the IPA in fault->addr; single-stage walks report
 * stage 0 as walk.h asks.  A bypassed stream (or S1DSS bypass without
 * stage 2) reports an identity 1 GiB leaf at level 0 granting RW.  In a
 * nested walk the leaf is the smaller of the stage-1 and stage-2 leaves
 * (its level is that stage's) and the grant is their AND.
 */
#ifndef IOTLB_WALK_ARM_H
#define IOTLB_WALK_ARM_H

#include <stdint.h>

#include "iotlb.h"
#include "walk.h"

/* Features of the SMMU the VMM presents to the guest. */
#define IOTLB_WALK_ARM_F_S1P (1U << 0)	/* SMMU_IDR0.S1P */
#define IOTLB_WALK_ARM_F_S2P (1U << 1)	/* SMMU_IDR0.S2P */
#define IOTLB_WALK_ARM_F_HA  (1U << 2)	/* SMMU_IDR0.HTTU == 0b01 */
#define IOTLB_WALK_ARM_F_STT (1U << 3)	/* SMMU_IDR3.STT: TxSZ up to 48 */
#define IOTLB_WALK_ARM_F_ALL (IOTLB_WALK_ARM_F_S1P | IOTLB_WALK_ARM_F_S2P | \
			      IOTLB_WALK_ARM_F_HA | IOTLB_WALK_ARM_F_STT)

/* The SMMU's stream table registers and ID values. */
struct iotlb_walk_arm_smmu {
	uint64_t strtab_base;		/* SMMU_STRTAB_BASE as written */
	uint32_t strtab_base_cfg;	/* SMMU_STRTAB_BASE_CFG as written */
	uint32_t features;		/* IOTLB_WALK_ARM_F_* */
	uint8_t oas;			/* SMMU_IDR5.OAS in bits: 32..48, 52 */
	uint8_t sidsize;		/* SMMU_IDR1.SIDSIZE, 0..32 */
	uint8_t ssidsize;		/* SMMU_IDR1.SSIDSIZE, 0..20 */
};

/* A transaction without a SubstreamID (PASID). */
#define IOTLB_WALK_ARM_NO_SSID UINT32_MAX

enum iotlb_walk_arm_mode {
	IOTLB_WALK_ARM_BYPASS = 0,	/* STE.Config 0b100 (or S1DSS bypass) */
	IOTLB_WALK_ARM_S1 = 1,		/* stage 1 only */
	IOTLB_WALK_ARM_S2 = 2,		/* stage 2 only */
	IOTLB_WALK_ARM_NESTED = 3,	/* stage 1 then stage 2 */
};

/* One stage-1 VA region (TTB0 or TTB1). */
struct iotlb_walk_arm_tt {
	uint64_t ttb;		/* initial table, aligned; an IPA when nested */
	uint8_t tsz;		/* TxSZ */
	uint8_t granule;	/* log2 of the granule: 12, 14 or 16 */
	uint8_t epd;		/* walks disabled: every miss faults */
	uint8_t tbi;		/* top byte ignored */
	uint8_t had;		/* APTable ignored (CD.HADx) */
};

struct iotlb_walk_arm_s1 {
	struct iotlb_walk_arm_tt tt[2];
	uint8_t ips;		/* effective output (IPA) size in bits */
	uint8_t ha;		/* set AF in hardware */
	uint8_t affd;		/* AF == 0 never faults */
	uint8_t pan;
	uint16_t asid;
};

struct iotlb_walk_arm_s2 {
	uint64_t ttb;		/* initial (possibly concatenated) table */
	uint8_t tsz;		/* S2T0SZ */
	uint8_t granule;	/* 12, 14 or 16 */
	uint8_t sl;		/* Arm initial lookup level, 0..3 */
	uint8_t ps;		/* effective output size in bits */
	uint8_t ha;
	uint8_t affd;
	uint16_t vmid;
};

/* A device's resolved translation: what the STE and CD say. */
struct iotlb_walk_arm_cfg {
	uint32_t mode;		/* enum iotlb_walk_arm_mode */
	uint32_t features;	/* copied from the SMMU */
	uint8_t oas;		/* SMMU OAS, bounds bypass output */
	uint8_t privileged;	/* STE.PRIVCFG == 0b11 */
	struct iotlb_walk_arm_s1 s1;
	struct iotlb_walk_arm_s2 s2;
};

/*
 * Resolve StreamID sid (and SubstreamID ssid, or IOTLB_WALK_ARM_NO_SSID)
 * through the stream table and, when stage 1 translates, the CD table.
 * CD fetches in a nested configuration go through stage 2.  Returns 0
 * with *cfg filled, IOTLB_WALK_FAULTED (IOTLB_WALK_BLOCKED for an
 * aborting stream, IOTLB_WALK_CONTEXT_INVALID for invalid or ILLEGAL
 * structures, or the fault of a table fetch), or -EINVAL.  *mem_reads,
 * when not NULL, is increased by the reads taken.
 */
int iotlb__walk_arm_ste(const struct iotlb_mem *mem,
			const struct iotlb_walk_arm_smmu *smmu, uint32_t sid,
			uint32_t ssid, struct iotlb_walk_arm_cfg *cfg,
			uint32_t *mem_reads,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace);

/* Translate iova for access (IOTLB_WALK_READ/WRITE) under cfg. */
int iotlb__walk_arm(const struct iotlb_mem *mem,
		    const struct iotlb_walk_arm_cfg *cfg, uint64_t iova,
		    unsigned int access, struct iotlb_walk_result *res,
		    struct iotlb_walk_faultinfo *fault,
		    struct iotlb_walk_trace *trace);

/* Both of the above; res->mem_reads counts the context reads too. */
int iotlb__walk_arm_smmu(const struct iotlb_mem *mem,
			 const struct iotlb_walk_arm_smmu *smmu, uint32_t sid,
			 uint32_t ssid, uint64_t iova, unsigned int access,
			 struct iotlb_walk_result *res,
			 struct iotlb_walk_faultinfo *fault,
			 struct iotlb_walk_trace *trace);

/* 0 when cfg is a configuration the walker accepts, else -EINVAL. */
int iotlb__walk_arm_check(const struct iotlb_walk_arm_cfg *cfg);

/* iotlb__walk_arm() with a paging-structure cache (walk.h); may be NULL. */
int iotlb__walk_arm_pwc(const struct iotlb_mem *mem,
			const struct iotlb_walk_arm_cfg *cfg,
			const struct iotlb_walk_pwc *pwc, uint64_t iova,
			unsigned int access, struct iotlb_walk_result *res,
			struct iotlb_walk_faultinfo *fault,
			struct iotlb_walk_trace *trace);

#endif /* IOTLB_WALK_ARM_H */
