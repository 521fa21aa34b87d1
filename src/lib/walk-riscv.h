/* SPDX-License-Identifier: MIT */
/*
 * RISC-V IOMMU walker (RISC-V IOMMU Architecture Specification 1.0, with
 * the Sv39/Sv48/Sv57 and Sv39x4/Sv48x4/Sv57x4 page tables of the RISC-V
 * privileged specification).
 *
 * Two entry points:
 *  - iotlb__walk_riscv_dc() resolves a device (and optionally a process)
 *    through the device directory and process directory tables into a
 *    struct iotlb_walk_riscv_cfg (IOMMU spec 2.3, 2.3.1, 2.3.2);
 *  - iotlb__walk_riscv() translates one IOVA with such a config, doing the
 *    nested first-stage / G-stage walk of the privileged spec.
 * A VMM that knows the page tables itself (page-table domain) may fill the
 * config by hand and call iotlb__walk_riscv() directly.
 */
#ifndef IOTLB_WALK_RISCV_H
#define IOTLB_WALK_RISCV_H

#include <stdint.h>

#include "walk.h"

/* capabilities register (IOMMU spec 5.3) */
#define IOTLB_RISCV_CAP_SV32		(1ULL << 8)
#define IOTLB_RISCV_CAP_SV39		(1ULL << 9)
#define IOTLB_RISCV_CAP_SV48		(1ULL << 10)
#define IOTLB_RISCV_CAP_SV57		(1ULL << 11)
#define IOTLB_RISCV_CAP_SVPBMT		(1ULL << 15)
#define IOTLB_RISCV_CAP_SV32X4		(1ULL << 16)
#define IOTLB_RISCV_CAP_SV39X4		(1ULL << 17)
#define IOTLB_RISCV_CAP_SV48X4		(1ULL << 18)
#define IOTLB_RISCV_CAP_SV57X4		(1ULL << 19)
#define IOTLB_RISCV_CAP_MSI_FLAT	(1ULL << 22)
#define IOTLB_RISCV_CAP_AMO_HWAD	(1ULL << 24)
#define IOTLB_RISCV_CAP_ATS		(1ULL << 25)
#define IOTLB_RISCV_CAP_T2GPA		(1ULL << 26)
#define IOTLB_RISCV_CAP_END		(1ULL << 27)
#define IOTLB_RISCV_CAP_PAS_SHIFT	32	/* 6-bit physical address size */
#define IOTLB_RISCV_CAP_PD8		(1ULL << 38)
#define IOTLB_RISCV_CAP_PD17		(1ULL << 39)
#define IOTLB_RISCV_CAP_PD20		(1ULL << 40)

/* fctl register (IOMMU spec 5.4) */
#define IOTLB_RISCV_FCTL_BE		(1U << 0)
#define IOTLB_RISCV_FCTL_WSI		(1U << 1)
#define IOTLB_RISCV_FCTL_GXL		(1U << 2)

/* ddtp.iommu_mode (IOMMU spec 5.5) */
#define IOTLB_RISCV_DDTP_OFF		0
#define IOTLB_RISCV_DDTP_BARE		1
#define IOTLB_RISCV_DDTP_1LVL		2
#define IOTLB_RISCV_DDTP_2LVL		3
#define IOTLB_RISCV_DDTP_3LVL		4

/* iosatp.MODE / iohgatp.MODE with SXL = GXL = 0 (IOMMU spec 2.1.3) */
#define IOTLB_RISCV_MODE_BARE		0
#define IOTLB_RISCV_MODE_SV39		8	/* Sv39x4 in iohgatp */
#define IOTLB_RISCV_MODE_SV48		9	/* Sv48x4 in iohgatp */
#define IOTLB_RISCV_MODE_SV57		10	/* Sv57x4 in iohgatp */

/* The IOMMU registers a VMM's vIOMMU model exposes to its guest. */
struct iotlb_walk_riscv_iommu {
	uint64_t caps;		/* capabilities */
	uint64_t ddtp;		/* device-directory-table pointer */
	uint32_t fctl;		/* features-control */
	uint32_t fctl_writable;	/* IOTLB_RISCV_FCTL_* bits that are WARL-writable */
};

/* Attributes of the request being translated (iotlb__walk_riscv_dc req). */
#define IOTLB_WALK_RISCV_REQ_PID	(1U << 0)	/* process_id is valid */
#define IOTLB_WALK_RISCV_REQ_PRIV_S	(1U << 1)	/* supervisor privilege */

/* iotlb_walk_riscv_cfg.flags */
#define IOTLB_WALK_RISCV_SADE		(1U << 0)	/* HW sets first-stage A/D */
#define IOTLB_WALK_RISCV_GADE		(1U << 1)	/* HW sets G-stage A/D */
#define IOTLB_WALK_RISCV_PRIV_S		(1U << 2)	/* S-mode request */
#define IOTLB_WALK_RISCV_SUM		(1U << 3)	/* S may touch U pages */
#define IOTLB_WALK_RISCV_SBE		(1U << 4)	/* first stage big-endian */
#define IOTLB_WALK_RISCV_GBE		(1U << 5)	/* G-stage big-endian */
#define IOTLB_WALK_RISCV_SVPBMT		(1U << 6)	/* PBMT field defined */
#define IOTLB_WALK_RISCV_MSI_FLAT	(1U << 7)	/* msi_mask/pattern live */
#define IOTLB_WALK_RISCV_DTF		(1U << 8)	/* guest muted fault reports */
#define IOTLB_WALK_RISCV_SXL		(1U << 9)	/* DC.tc.SXL: 34-bit GPAs */
#define IOTLB_WALK_RISCV_FLAGS_ALL	0x3ffU

/*
 * One device's (or process's) translation setup.  fs_root is an input of
 * the G-stage (a guest physical address) when gs_mode is not Bare; all
 * other addresses are iotlb_mem addresses.  First-stage requests are
 * U-mode unless PRIV_S is set (only a request carrying a process_id with
 * supervisor privilege, allowed by PC.ta.ENS, is S-mode).
 */
struct iotlb_walk_riscv_cfg {
	uint8_t fs_mode;	/* IOTLB_RISCV_MODE_*: iosatp.MODE */
	uint8_t gs_mode;	/* IOTLB_RISCV_MODE_*: iohgatp.MODE (x4) */
	uint8_t pas;		/* physical address bits, 0 = unchecked */
	uint32_t flags;		/* IOTLB_WALK_RISCV_* */
	uint64_t fs_root;	/* iosatp.PPN << 12 */
	uint64_t gs_root;	/* iohgatp.PPN << 12, 16 KiB aligned */
	uint32_t pscid;		/* informational: cache tags */
	uint32_t gscid;
	uint64_t msi_mask;	/* DC.msi_addr_mask (page numbers) */
	uint64_t msi_pattern;	/* DC.msi_addr_pattern */
};

/*
 * Resolve device_id (24 bits) and, with IOTLB_WALK_RISCV_REQ_PID,
 * process_id (20 bits) into *cfg.  Returns 0, IOTLB_WALK_FAULTED (*fault,
 * stage 0 for directory faults, 2 for G-stage faults while reading the
 * process directory) or -EINVAL.
 */
int iotlb__walk_riscv_dc(const struct iotlb_mem *mem,
			 const struct iotlb_walk_riscv_iommu *iommu,
			 uint32_t device_id, uint32_t process_id,
			 unsigned int req, struct iotlb_walk_riscv_cfg *cfg,
			 struct iotlb_walk_faultinfo *fault,
			 struct iotlb_walk_trace *trace);

/*
 * Translate iova for access (IOTLB_WALK_READ and/or IOTLB_WALK_WRITE, not
 * 0).  res->size is the smaller of the first-stage and G-stage leaves
 * (1 GiB when both stages are Bare), res->level the first-stage leaf
 * level (the G-stage one when the first stage is Bare, 0 when both are).
 * Faults report stage 1 (first stage) or 2 (G-stage, including G-stage
 * faults while reading first-stage tables).
 */
int iotlb__walk_riscv(const struct iotlb_mem *mem,
		      const struct iotlb_walk_riscv_cfg *cfg, uint64_t iova,
		      unsigned int access, struct iotlb_walk_result *res,
		      struct iotlb_walk_faultinfo *fault,
		      struct iotlb_walk_trace *trace);

/* 0 when cfg is a configuration the walker accepts, else -EINVAL. */
int iotlb__walk_riscv_check(const struct iotlb_walk_riscv_cfg *cfg);

/* iotlb__walk_riscv() with a paging-structure cache (walk.h); may be NULL. */
int iotlb__walk_riscv_pwc(const struct iotlb_mem *mem,
			  const struct iotlb_walk_riscv_cfg *cfg,
			  const struct iotlb_walk_pwc *pwc, uint64_t iova,
			  unsigned int access, struct iotlb_walk_result *res,
			  struct iotlb_walk_faultinfo *fault,
			  struct iotlb_walk_trace *trace);

#endif /* IOTLB_WALK_RISCV_H */
