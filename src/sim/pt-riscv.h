/* SPDX-License-Identifier: MIT */
/*
 * Guest-side builder of RISC-V IOMMU structures: device directory (1/2/3
 * levels, base or extended device contexts), process directory (PD8,
 * PD17, PD20) and Sv39/Sv48/Sv57 first-stage or Sv39x4/Sv48x4/Sv57x4
 * G-stage page tables, written from the specifications for tests, fuzz
 * seeds and the simulator.  It shares nothing with the walker on purpose.
 *
 * Memory comes from a bump allocator over one buffer that the caller also
 * registers as guest memory at gpa_base.  Tables a guest would address by
 * guest-physical address behind a G-stage (first-stage tables, the PDT)
 * carry a "view" offset: their pointers are written as gpa + view, and
 * the caller maps [gpa_base + view, ...) onto the buffer in its G-stage.
 */
#ifndef PT_RISCV_H
#define PT_RISCV_H

#include <stdbool.h>
#include <stdint.h>

/* PTE bits (RISC-V privileged spec, Sv39 page table entry) */
#define PT_RISCV_V	(1ULL << 0)
#define PT_RISCV_R	(1ULL << 1)
#define PT_RISCV_W	(1ULL << 2)
#define PT_RISCV_X	(1ULL << 3)
#define PT_RISCV_U	(1ULL << 4)
#define PT_RISCV_G	(1ULL << 5)
#define PT_RISCV_A	(1ULL << 6)
#define PT_RISCV_D	(1ULL << 7)
#define PT_RISCV_PBMT(x) ((uint64_t)(x) << 61)
#define PT_RISCV_N	(1ULL << 63)
#define PT_RISCV_PPN_SHIFT 10

/* Device context, tc field */
#define PT_RISCV_TC_V		(1ULL << 0)
#define PT_RISCV_TC_EN_ATS	(1ULL << 1)
#define PT_RISCV_TC_EN_PRI	(1ULL << 2)
#define PT_RISCV_TC_T2GPA	(1ULL << 3)
#define PT_RISCV_TC_DTF		(1ULL << 4)
#define PT_RISCV_TC_PDTV	(1ULL << 5)
#define PT_RISCV_TC_PRPR	(1ULL << 6)
#define PT_RISCV_TC_GADE	(1ULL << 7)
#define PT_RISCV_TC_SADE	(1ULL << 8)
#define PT_RISCV_TC_DPE		(1ULL << 9)
#define PT_RISCV_TC_SBE		(1ULL << 10)
#define PT_RISCV_TC_SXL		(1ULL << 11)
/* Process context, ta field */
#define PT_RISCV_PC_V		(1ULL << 0)
#define PT_RISCV_PC_ENS		(1ULL << 1)
#define PT_RISCV_PC_SUM		(1ULL << 2)

/* Word indexes of a device context */
enum { PT_RISCV_DC_TC, PT_RISCV_DC_IOHGATP, PT_RISCV_DC_TA, PT_RISCV_DC_FSC,
       PT_RISCV_DC_MSIPTP, PT_RISCV_DC_MSI_MASK, PT_RISCV_DC_MSI_PATTERN,
       PT_RISCV_DC_RSVD, PT_RISCV_DC_WORDS };

/* What the builder mapped, so tests can check a walker against it. */
struct pt_riscv_rec {
	uint64_t root;		/* table the mapping lives in */
	uint64_t iova;
	uint64_t pa;
	uint64_t size;
	uint64_t bits;		/* leaf PTE bits other than the PPN */
};

struct pt_riscv_builder {
	uint8_t *base;
	uint64_t gpa_base;
	uint64_t size;
	uint64_t next;		/* bump allocator offset */
	struct pt_riscv_rec *rec;
	unsigned int nrec;
	unsigned int rec_alloc;
};

/* One page table: first stage (stage 1) or G-stage (stage 2). */
struct pt_riscv_pt {
	unsigned int stage;
	unsigned int levels;	/* 3 Sv39(x4), 4 Sv48(x4), 5 Sv57(x4) */
	uint64_t root;		/* gpa of the root in the builder's buffer */
	int64_t view;		/* added to table addresses written in PTEs */
	bool be;		/* big-endian entries */
};

void pt_riscv_init(struct pt_riscv_builder *b, void *base, uint64_t gpa_base,
		   uint64_t size);
void pt_riscv_fini(struct pt_riscv_builder *b);
int pt_riscv_alloc(struct pt_riscv_builder *b, uint64_t bytes, uint64_t align,
		   uint64_t *gpa);
int pt_riscv_write64(struct pt_riscv_builder *b, uint64_t gpa, uint64_t val,
		     bool be);
int pt_riscv_read64(const struct pt_riscv_builder *b, uint64_t gpa,
		    uint64_t *val, bool be);

/* Page tables.  mode is 8 (Sv39[x4]), 9 (Sv48[x4]) or 10 (Sv57[x4]). */
int pt_riscv_pt_new(struct pt_riscv_builder *b, struct pt_riscv_pt *pt,
		    unsigned int stage, unsigned int mode, int64_t view,
		    bool be);
/* iosatp / iohgatp value (MODE and PPN) pointing at the table. */
uint64_t pt_riscv_atp(const struct pt_riscv_pt *pt);
/*
 * Map [iova, iova + size) to pa.  size: 4 KiB, 64 KiB (Svnapot, 16 PTEs
 * with N=1), 2 MiB, 1 GiB, 512 GiB, 256 TiB (as the mode allows).  bits
 * are the leaf bits (V is added); the PPN comes from pa.  -EEXIST when
 * any entry is already valid there or a leaf is in the way of the tables
 * the mapping needs (unmap first).
 */
int pt_riscv_map(struct pt_riscv_builder *b, const struct pt_riscv_pt *pt,
		 uint64_t iova, uint64_t pa, uint64_t size, uint64_t bits);
int pt_riscv_unmap(struct pt_riscv_builder *b, const struct pt_riscv_pt *pt,
		   uint64_t iova, uint64_t size);
int pt_riscv_protect(struct pt_riscv_builder *b, const struct pt_riscv_pt *pt,
		     uint64_t iova, uint64_t size, uint64_t bits);
/* gpa of the entry for iova at level (1 = last-level table), if present. */
int pt_riscv_entry(struct pt_riscv_builder *b,
		   const struct pt_riscv_pt *pt, uint64_t iova,
		   unsigned int level, uint64_t *gpa);
/* The builder's own record: what should iova translate to? */
int pt_riscv_lookup(const struct pt_riscv_builder *b,
		    const struct pt_riscv_pt *pt, uint64_t iova,
		    struct pt_riscv_rec *out);

/* Device directory: levels 1-3, ext = 64-byte device contexts. */
int pt_riscv_ddt_new(struct pt_riscv_builder *b, unsigned int levels,
		     uint64_t *ddtp);
int pt_riscv_ddt_set(struct pt_riscv_builder *b, uint64_t ddtp, bool ext,
		     bool be, uint32_t device_id, const uint64_t *dc,
		     uint64_t *dc_gpa);
/* gpa of the directory entry for device_id at level (1 = the DC). */
int pt_riscv_ddt_entry(struct pt_riscv_builder *b, uint64_t ddtp,
		       bool ext, bool be, uint32_t device_id,
		       unsigned int level, uint64_t *gpa);

/* Process directory: mode 1 PD8, 2 PD17, 3 PD20. */
int pt_riscv_pdt_new(struct pt_riscv_builder *b, unsigned int mode,
		     int64_t view, uint64_t *pdtp);
int pt_riscv_pdt_set(struct pt_riscv_builder *b, uint64_t pdtp, int64_t view,
		     bool be, uint32_t process_id, uint64_t ta, uint64_t fsc,
		     uint64_t *pc_gpa);

#endif /* PT_RISCV_H */
