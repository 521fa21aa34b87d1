/* SPDX-License-Identifier: MIT */
/*
 * Description: RISC-V IOMMU walker: device/process directories, Sv39/48/57
 * first stage, Sv39x4/48x4/57x4 G-stage, nested walks, hostile tables.
 *
 * "IOMMU n.n" cites the RISC-V IOMMU Architecture Specification 1.0;
 * "priv" the RISC-V privileged specification (Sv39 PTE format, "Virtual
 * Address Translation Process", H extension "Two-Stage Address
 * Translation", Svnapot, Svpbmt).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "pt-riscv.h"
#include "walk.h"
#include "walk-riscv.h"

#define KiB		(1ULL << 10)
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define RAM_GPA		0x80000000ULL
#define RAM_SIZE	(16 * MiB)
/* Where a G-stage shows RAM to the first stage (tables have a "view"). */
#define VIEW_GPA	0x100000000ULL
#define VIEW		((int64_t)(VIEW_GPA - RAM_GPA))

#define RW		(IOTLB_WALK_READ | IOTLB_WALK_WRITE)
#define RD		IOTLB_WALK_READ
#define WR		IOTLB_WALK_WRITE
#define LEAF_RW		(PT_RISCV_R | PT_RISCV_W | PT_RISCV_U | PT_RISCV_A | PT_RISCV_D)
#define LEAF_RO		(PT_RISCV_R | PT_RISCV_U | PT_RISCV_A)

#define CAPS_ALL (IOTLB_RISCV_CAP_SV39 | IOTLB_RISCV_CAP_SV48 |		\
		  IOTLB_RISCV_CAP_SV57 | IOTLB_RISCV_CAP_SV39X4 |		\
		  IOTLB_RISCV_CAP_SV48X4 | IOTLB_RISCV_CAP_SV57X4 |		\
		  IOTLB_RISCV_CAP_SVPBMT | IOTLB_RISCV_CAP_AMO_HWAD |		\
		  IOTLB_RISCV_CAP_PD8 | IOTLB_RISCV_CAP_PD17 |			\
		  IOTLB_RISCV_CAP_PD20 | IOTLB_RISCV_CAP_END | 0x10 |		\
		  (56ULL << IOTLB_RISCV_CAP_PAS_SHIFT))

struct t_env {
	struct iotlb_mem *mem;
	uint8_t *ram;
	struct pt_riscv_builder b;
};

static void t_env_init(struct t_env *e, uint32_t flags)
{
	struct iotlb_mem_region r = { RAM_GPA, RAM_SIZE, NULL, 0, flags };

	e->ram = aligned_alloc(16 * KiB, RAM_SIZE);
	ck_assert_ptr_nonnull(e->ram);
	memset(e->ram, 0, RAM_SIZE);
	r.local = e->ram;
	ck_assert_int_eq(iotlb_mem_new(&e->mem), 0);
	ck_assert_int_eq(iotlb_mem_add_region(e->mem, &r), 0);
	pt_riscv_init(&e->b, e->ram, RAM_GPA, RAM_SIZE);
}

static void t_env_fini(struct t_env *e)
{
	pt_riscv_fini(&e->b);
	iotlb_mem_unref(e->mem);
	free(e->ram);
}

static const char *fname(int r, const struct iotlb_walk_faultinfo *f)
{
	return r == IOTLB_WALK_FAULTED ? iotlb__walk_fault_name(f->reason) : "-";
}

static void walk_ok_at(int line, const struct t_env *e,
		       const struct iotlb_walk_riscv_cfg *cfg, uint64_t iova,
		       unsigned int access, uint64_t w_iova, uint64_t w_size,
		       uint64_t w_gpa, uint32_t w_perm,
		       struct iotlb_walk_result *out)
{
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r;

	r = iotlb__walk_riscv(e->mem, cfg, iova, access, &res, &f, NULL);
	ck_assert_msg(r == 0,
		      "line %d: walk iova %#" PRIx64 " access %u: got %d (%s, stage %u level %u) want success",
		      line, iova, access, r, fname(r, &f), f.stage, f.level);
	ck_assert_msg(res.iova == w_iova && res.size == w_size &&
		      res.gpa == w_gpa && res.perm == w_perm,
		      "line %d: walk iova %#" PRIx64 ": got iova %#" PRIx64 " size %#" PRIx64
		      " gpa %#" PRIx64 " perm %u want %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %u",
		      line, iova, res.iova, res.size, res.gpa, res.perm,
		      w_iova, w_size, w_gpa, w_perm);
	if (out)
		*out = res;
}
#define WALK_OK(...) walk_ok_at(__LINE__, __VA_ARGS__)

static void walk_fault_at(int line, const struct t_env *e,
			  const struct iotlb_walk_riscv_cfg *cfg, uint64_t iova,
			  unsigned int access, enum iotlb_walk_fault want,
			  uint32_t w_stage, struct iotlb_walk_faultinfo *out)
{
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r;

	r = iotlb__walk_riscv(e->mem, cfg, iova, access, &res, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == want &&
		      f.stage == w_stage,
		      "line %d: walk iova %#" PRIx64 " access %u: got %d (%s, stage %u) want %s stage %u",
		      line, iova, access, r, fname(r, &f), f.stage,
		      iotlb__walk_fault_name(want), w_stage);
	if (out)
		*out = f;
}
#define WALK_FAULT(...) walk_fault_at(__LINE__, __VA_ARGS__)

/* A first-stage-only config of the given mode over a new table. */
static void fs_cfg(struct t_env *e, struct pt_riscv_pt *pt, unsigned int mode,
		   struct iotlb_walk_riscv_cfg *cfg)
{
	ck_assert_int_eq(pt_riscv_pt_new(&e->b, pt, 1, mode, 0, false), 0);
	memset(cfg, 0, sizeof(*cfg));
	cfg->fs_mode = (uint8_t)mode;
	cfg->fs_root = pt->root;
}

/*
 * A G-stage of mode gmode that maps the whole RAM region at VIEW_GPA (2 MiB
 * leaves, RW) so first-stage tables built with VIEW are reachable.
 */
static void gs_new(struct t_env *e, struct pt_riscv_pt *gpt, unsigned int gmode)
{
	uint64_t off;

	ck_assert_int_eq(pt_riscv_pt_new(&e->b, gpt, 2, gmode, 0, false), 0);
	for (off = 0; off < RAM_SIZE; off += 2 * MiB)
		ck_assert_int_eq(pt_riscv_map(&e->b, gpt, VIEW_GPA + off,
					      RAM_GPA + off, 2 * MiB, LEAF_RW), 0);
}

/* --- pass-through and Off ----------------------------------------------- */

/* IOMMU 5.5 iommu_mode: Off blocks everything, Bare passes through. */
START_TEST(test_bare_and_off)
{
	struct iotlb_walk_riscv_iommu iommu = { .caps = CAPS_ALL };
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct t_env e;
	int r;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	iommu.ddtp = IOTLB_RISCV_DDTP_OFF;
	r = iotlb__walk_riscv_dc(e.mem, &iommu, 5, 0, 0, &cfg, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_BLOCKED,
		      "ddtp Off: got %d (%s) want IOTLB_WALK_BLOCKED", r,
		      fname(r, &f));

	iommu.ddtp = IOTLB_RISCV_DDTP_BARE | (0x12345ULL << 10);
	r = iotlb__walk_riscv_dc(e.mem, &iommu, 0xffffff, 7,
				 IOTLB_WALK_RISCV_REQ_PID, &cfg, &f, NULL);
	ck_assert_msg(r == 0, "ddtp Bare: got %d want 0", r);
	ck_assert_uint_eq(cfg.fs_mode, IOTLB_RISCV_MODE_BARE);
	ck_assert_uint_eq(cfg.gs_mode, IOTLB_RISCV_MODE_BARE);
	/* Identity, reported as an aligned 1 GiB block. */
	WALK_OK(&e, &cfg, 0x123456789ULL, RW, 0x100000000ULL, GiB,
		0x100000000ULL, RW, &res);
	ck_assert_uint_eq(res.level, 0);
	ck_assert_uint_eq(res.mem_reads, 0);
	WALK_OK(&e, &cfg, (1ULL << 56) - 1, WR, (1ULL << 56) - GiB, GiB,
		(1ULL << 56) - GiB, RW, NULL);
	/* Beyond capabilities.PAS (56 here) is no memory at all. */
	WALK_FAULT(&e, &cfg, UINT64_MAX, WR, IOTLB_WALK_ADDR_WIDTH, 2, NULL);
	cfg.pas = 0;
	WALK_OK(&e, &cfg, UINT64_MAX, WR, UINT64_MAX & ~(GiB - 1), GiB,
		UINT64_MAX & ~(GiB - 1), RW, NULL);

	/* Reserved iommu_mode values are WARL: the model never holds them. */
	iommu.ddtp = 5;
	ck_assert_int_eq(iotlb__walk_riscv_dc(e.mem, &iommu, 0, 0, 0, &cfg, &f,
					      NULL), -EINVAL);
	t_env_fini(&e);
}
END_TEST

/* --- device directory ----------------------------------------------------- */

static void dc_words(uint64_t *dc, uint64_t tc, uint64_t iohgatp, uint64_t ta,
		     uint64_t fsc)
{
	memset(dc, 0, PT_RISCV_DC_WORDS * sizeof(*dc));
	dc[PT_RISCV_DC_TC] = tc;
	dc[PT_RISCV_DC_IOHGATP] = iohgatp;
	dc[PT_RISCV_DC_TA] = ta;
	dc[PT_RISCV_DC_FSC] = fsc;
}

static int dc_resolve(const struct t_env *e,
		      const struct iotlb_walk_riscv_iommu *iommu, uint32_t dev,
		      uint32_t pid, unsigned int req,
		      struct iotlb_walk_riscv_cfg *cfg,
		      struct iotlb_walk_faultinfo *f)
{
	return iotlb__walk_riscv_dc(e->mem, iommu, dev, pid, req, cfg, f, NULL);
}

/*
 * IOMMU 2 "device_id partitioning" and 2.3.1: 1, 2 and 3-level DDTs in
 * base (DDI 7/9/8 bits) and extended (6/9/9 bits) format.
 */
START_TEST(test_ddt_levels)
{
	for (unsigned int ext = 0; ext < 2; ext++) {
		for (unsigned int levels = 1; levels <= 3; levels++) {
			unsigned int w0 = ext ? 6 : 7;
			unsigned int width = levels == 1 ? w0 : levels == 2 ? w0 + 9 : 24;
			uint32_t ids[4] = { 0, 1, (1U << width) - 1,
					    0x5a5a5a & ((1U << width) - 1) };
			struct iotlb_walk_riscv_iommu iommu = {
				.caps = CAPS_ALL |
					(ext ? IOTLB_RISCV_CAP_MSI_FLAT : 0),
			};
			struct iotlb_walk_riscv_cfg cfg;
			struct iotlb_walk_faultinfo f;
			struct pt_riscv_pt pt;
			uint64_t dc[8];
			struct t_env e;
			int r;

			t_env_init(&e, IOTLB_MEM_WRITABLE);
			ck_assert_int_eq(pt_riscv_ddt_new(&e.b, levels,
							  &iommu.ddtp), 0);
			ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, 8, 0,
							 false), 0);
			ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x40000000,
						      0x1234000, 4 * KiB,
						      LEAF_RW), 0);
			for (unsigned int i = 0; i < 4; i++) {
				dc_words(dc, PT_RISCV_TC_V, 0,
					 (uint64_t)(0x100 + i) << 12,
					 pt_riscv_atp(&pt));
				ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp,
								  ext, false,
								  ids[i], dc,
								  NULL), 0);
			}
			for (unsigned int i = 0; i < 4; i++) {
				r = dc_resolve(&e, &iommu, ids[i], 0, 0, &cfg, &f);
				ck_assert_msg(r == 0,
					      "ext %u levels %u device %#x: got %d (%s) want 0",
					      ext, levels, ids[i], r, fname(r, &f));
				ck_assert_uint_eq(cfg.fs_mode, 8);
				ck_assert_uint_eq(cfg.fs_root, pt.root);
				ck_assert_uint_eq(cfg.pscid, 0x100 + i);
				WALK_OK(&e, &cfg, 0x40000123, RW, 0x40000000,
					4 * KiB, 0x1234000, RW, NULL);
			}
			/* IOMMU 2.3 step 5: device_id wider than the DDT */
			if (levels < 3) {
				r = dc_resolve(&e, &iommu, 1U << width, 0, 0,
					       &cfg, &f);
				ck_assert_msg(r == IOTLB_WALK_FAULTED &&
					      f.reason == IOTLB_WALK_BLOCKED,
					      "ext %u levels %u device %#x: got %d (%s) want IOTLB_WALK_BLOCKED",
					      ext, levels, 1U << width, r,
					      fname(r, &f));
			}
			/* 2.3.1 step 9: DC.tc.V = 0 */
			r = dc_resolve(&e, &iommu, 2, 0, 0, &cfg, &f);
			ck_assert_msg(r == IOTLB_WALK_FAULTED &&
				      f.reason == IOTLB_WALK_CONTEXT_INVALID,
				      "unset device: got %d (%s) want IOTLB_WALK_CONTEXT_INVALID",
				      r, fname(r, &f));
			/* 2.3.1 step 5: ddte.V = 0 on the way */
			if (levels > 1) {
				uint32_t far = 3U << w0;

				r = dc_resolve(&e, &iommu, far, 0, 0, &cfg, &f);
				ck_assert_msg(r == IOTLB_WALK_FAULTED &&
					      f.reason == IOTLB_WALK_CONTEXT_INVALID &&
					      f.stage == 0,
					      "no ddte: got %d (%s) want IOTLB_WALK_CONTEXT_INVALID",
					      r, fname(r, &f));
			}
			t_env_fini(&e);
		}
	}
}
END_TEST

/* IOMMU 2.1.1 / 2.3.1 steps 3-6: non-leaf DDT entries from a hostile guest. */
START_TEST(test_ddt_hostile)
{
	struct iotlb_walk_riscv_iommu iommu = { .caps = CAPS_ALL };
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	uint64_t dc[8], ea, good, root;
	struct t_env e;
	int r;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 3, &iommu.ddtp), 0);
	dc_words(dc, PT_RISCV_TC_V, 0, 0, 0);
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false,
					  0x010203, dc, NULL), 0);
	ck_assert_int_eq(dc_resolve(&e, &iommu, 0x010203, 0, 0, &cfg, &f), 0);
	ck_assert_int_eq(pt_riscv_ddt_entry(&e.b, iommu.ddtp, false, false,
					    0x010203, 2, &ea), 0);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &good, false), 0);

	/* Every reserved bit: 9:1 and 63:54. */
	for (unsigned int bit = 1; bit < 64; bit++) {
		if (bit >= 10 && bit <= 53)
			continue;
		pt_riscv_write64(&e.b, ea, good | (1ULL << bit), false);
		r = dc_resolve(&e, &iommu, 0x010203, 0, 0, &cfg, &f);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_CONTEXT_INVALID &&
			      f.entry_gpa == ea,
			      "ddte bit %u: got %d (%s) want IOTLB_WALK_CONTEXT_INVALID",
			      bit, r, fname(r, &f));
	}
	/* Pointer outside guest memory: load access fault. */
	pt_riscv_write64(&e.b, ea, 1 | ((0x7fff0000ULL >> 12) << 10), false);
	r = dc_resolve(&e, &iommu, 0x010203, 0, 0, &cfg, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED &&
		      f.reason == IOTLB_WALK_TABLE_OUTSIDE,
		      "ddte outside: got %d (%s) want IOTLB_WALK_TABLE_OUTSIDE",
		      r, fname(r, &f));
	/* Pointer to the last page: the DC is in the last 32 bytes. */
	pt_riscv_write64(&e.b, ea, 1 | (((RAM_GPA + RAM_SIZE - 4 * KiB) >> 12)
					 << 10), false);
	dc_words(dc, PT_RISCV_TC_V, 0, 0x5000, 0);
	for (unsigned int i = 0; i < 4; i++)
		pt_riscv_write64(&e.b, RAM_GPA + RAM_SIZE - 32 + i * 8, dc[i],
				 false);
	r = dc_resolve(&e, &iommu, 0x01027f, 0, 0, &cfg, &f);
	ck_assert_msg(r == 0 && cfg.pscid == 5,
		      "DC at end of region: got %d (%s) pscid %u want 0, 5", r,
		      fname(r, &f), cfg.pscid);
	/* ... and a base one page past the end. */
	pt_riscv_write64(&e.b, ea, 1 | (((RAM_GPA + RAM_SIZE) >> 12) << 10),
			 false);
	r = dc_resolve(&e, &iommu, 0x01027f, 0, 0, &cfg, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED &&
		      f.reason == IOTLB_WALK_TABLE_OUTSIDE,
		      "DC past end: got %d (%s) want IOTLB_WALK_TABLE_OUTSIDE",
		      r, fname(r, &f));
	/* ddtp outside memory */
	root = iommu.ddtp;
	iommu.ddtp = IOTLB_RISCV_DDTP_3LVL | ((0x10000000ULL >> 12) << 10);
	r = dc_resolve(&e, &iommu, 0, 0, 0, &cfg, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED &&
		      f.reason == IOTLB_WALK_TABLE_OUTSIDE,
		      "ddtp outside: got %d (%s) want IOTLB_WALK_TABLE_OUTSIDE",
		      r, fname(r, &f));
	/* Self reference: every level points back at the root. */
	iommu.ddtp = root;
	ck_assert_int_eq(pt_riscv_ddt_entry(&e.b, iommu.ddtp, false, false, 0,
					    3, &ea), 0);
	pt_riscv_write64(&e.b, ea, 1 | (((ea & ~0xfffULL) >> 12) << 10), false);
	r = dc_resolve(&e, &iommu, 0, 0, 0, &cfg, &f);
	ck_assert_msg(r == 0 || r == IOTLB_WALK_FAULTED,
		      "self-referencing DDT: got %d", r);
	t_env_fini(&e);
}
END_TEST

struct dc_case {
	const char *rule;
	uint64_t caps_clear;
	uint64_t caps_set;
	uint32_t fctl;
	uint32_t fctl_writable;
	uint64_t dc[8];
	int want;	/* 0 or an enum iotlb_walk_fault */
};

#define GATP(m)	((uint64_t)(m) << 60 | (0x100000ULL >> 12))
#define ATP(m)	((uint64_t)(m) << 60)

/* IOMMU 2.1.4 "Device-context configuration checks", one case per rule. */
static const struct dc_case dc_cases[] = {
	{ "baseline", 0, 0, 0, 0, { 1, 0, 0, 0 }, 0 },
	{ "1: tc reserved bit 12", 0, 0, 0, 0, { 1 | 1ULL << 12 }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: tc reserved bit 63", 0, 0, 0, 0, { 1 | 1ULL << 63 }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: tc custom bits 31:24 are not reserved", 0, 0, 0, 0, { 1 | 0xffULL << 24 }, 0 },
	{ "1: ta reserved bit 0", 0, 0, 0, 0, { 1, 0, 1 }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: ta reserved bit 32", 0, 0, 0, 0, { 1, 0, 1ULL << 32 }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: fsc reserved bit 44", 0, 0, 0, 0, { 1, 0, 0, 1ULL << 44 }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: iosatp mode 1 reserved", 0, 0, 0, 0, { 1, 0, 0, ATP(1) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: iosatp mode 11 reserved", 0, 0, 0, 0, { 1, 0, 0, ATP(11) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: iosatp custom mode 14 unsupported", 0, 0, 0, 0, { 1, 0, 0, ATP(14) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: iohgatp mode 7 reserved", 0, 0, 0, 0, { 1, GATP(7) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "1: iohgatp mode 11 reserved", 0, 0, 0, 0, { 1, GATP(11) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "2: EN_ATS without capabilities.ATS", 0, 0, 0, 0, { 1 | PT_RISCV_TC_EN_ATS }, IOTLB_WALK_CONTEXT_INVALID },
	{ "2: EN_ATS with capabilities.ATS", 0, IOTLB_RISCV_CAP_ATS, 0, 0, { 1 | PT_RISCV_TC_EN_ATS }, 0 },
	{ "3: T2GPA without EN_ATS", 0, IOTLB_RISCV_CAP_ATS | IOTLB_RISCV_CAP_T2GPA, 0, 0, { 1 | PT_RISCV_TC_T2GPA, GATP(8) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "4: EN_PRI without EN_ATS", 0, IOTLB_RISCV_CAP_ATS, 0, 0, { 1 | PT_RISCV_TC_EN_PRI }, IOTLB_WALK_CONTEXT_INVALID },
	{ "5: PRPR without EN_PRI", 0, IOTLB_RISCV_CAP_ATS, 0, 0, { 1 | PT_RISCV_TC_EN_ATS | PT_RISCV_TC_PRPR }, IOTLB_WALK_CONTEXT_INVALID },
	{ "5: PRPR with EN_PRI", 0, IOTLB_RISCV_CAP_ATS, 0, 0, { 1 | PT_RISCV_TC_EN_ATS | PT_RISCV_TC_EN_PRI | PT_RISCV_TC_PRPR }, 0 },
	{ "6: T2GPA without capabilities.T2GPA", 0, IOTLB_RISCV_CAP_ATS, 0, 0, { 1 | PT_RISCV_TC_EN_ATS | PT_RISCV_TC_T2GPA, GATP(8) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "7: T2GPA with iohgatp Bare", 0, IOTLB_RISCV_CAP_ATS | IOTLB_RISCV_CAP_T2GPA, 0, 0, { 1 | PT_RISCV_TC_EN_ATS | PT_RISCV_TC_T2GPA }, IOTLB_WALK_CONTEXT_INVALID },
	{ "7: T2GPA with iohgatp Sv39x4", 0, IOTLB_RISCV_CAP_ATS | IOTLB_RISCV_CAP_T2GPA, 0, 0, { 1 | PT_RISCV_TC_EN_ATS | PT_RISCV_TC_T2GPA, GATP(8) }, 0 },
	{ "8: PD20 without capabilities.PD20", IOTLB_RISCV_CAP_PD20, 0, 0, 0, { 1 | PT_RISCV_TC_PDTV, 0, 0, ATP(3) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "8: PD17 without capabilities.PD17", IOTLB_RISCV_CAP_PD17, 0, 0, 0, { 1 | PT_RISCV_TC_PDTV, 0, 0, ATP(2) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "8: PD8 without capabilities.PD8", IOTLB_RISCV_CAP_PD8, 0, 0, 0, { 1 | PT_RISCV_TC_PDTV, 0, 0, ATP(1) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "8: pdtp mode 4 reserved", 0, 0, 0, 0, { 1 | PT_RISCV_TC_PDTV, 0, 0, ATP(4) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "8: pdtp reserved bit 59", 0, 0, 0, 0, { 1 | PT_RISCV_TC_PDTV, 0, 0, ATP(1) | 1ULL << 59 }, IOTLB_WALK_CONTEXT_INVALID },
	{ "10: Sv39 without capabilities.Sv39", IOTLB_RISCV_CAP_SV39, 0, 0, 0, { 1, 0, 0, ATP(8) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "10: Sv48 without capabilities.Sv48", IOTLB_RISCV_CAP_SV48, 0, 0, 0, { 1, 0, 0, ATP(9) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "10: Sv57 without capabilities.Sv57", IOTLB_RISCV_CAP_SV57, 0, 0, 0, { 1, 0, 0, ATP(10) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "11: Sv32 (SXL=1) without capabilities.Sv32", 0, 0, 0, IOTLB_RISCV_FCTL_GXL, { 1 | PT_RISCV_TC_SXL, 0, 0, ATP(8) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "11: SXL=1 mode 9 is reserved", 0, IOTLB_RISCV_CAP_SV32, 0, IOTLB_RISCV_FCTL_GXL, { 1 | PT_RISCV_TC_SXL, 0, 0, ATP(9) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "11: Sv32 is valid but not implemented", 0, IOTLB_RISCV_CAP_SV32, 0, IOTLB_RISCV_FCTL_GXL, { 1 | PT_RISCV_TC_SXL, 0, 0, ATP(8) }, IOTLB_WALK_UNSUPPORTED },
	{ "12: DPE without PDTV", 0, 0, 0, 0, { 1 | PT_RISCV_TC_DPE }, IOTLB_WALK_CONTEXT_INVALID },
	{ "14: Sv39x4 without capabilities.Sv39x4", IOTLB_RISCV_CAP_SV39X4, 0, 0, 0, { 1, GATP(8) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "14: Sv48x4 without capabilities.Sv48x4", IOTLB_RISCV_CAP_SV48X4, 0, 0, 0, { 1, GATP(9) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "14: Sv57x4 without capabilities.Sv57x4", IOTLB_RISCV_CAP_SV57X4, 0, 0, 0, { 1, GATP(10) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "15: Sv32x4 (GXL=1) without capabilities.Sv32x4", 0, 0, IOTLB_RISCV_FCTL_GXL, 0, { 1 | PT_RISCV_TC_SXL, GATP(8) }, IOTLB_WALK_CONTEXT_INVALID },
	{ "15: Sv32x4 is valid but not implemented", 0, IOTLB_RISCV_CAP_SV32X4, IOTLB_RISCV_FCTL_GXL, 0, { 1 | PT_RISCV_TC_SXL, GATP(8) }, IOTLB_WALK_UNSUPPORTED },
	{ "17: iohgatp root not 16 KiB aligned", 0, 0, 0, 0, { 1, GATP(8) | 1 }, IOTLB_WALK_CONTEXT_INVALID },
	{ "17: iohgatp root 16 KiB aligned", 0, 0, 0, 0, { 1, GATP(8) | 4 }, 0 },
	{ "18: SADE without capabilities.AMO_HWAD", IOTLB_RISCV_CAP_AMO_HWAD, 0, 0, 0, { 1 | PT_RISCV_TC_SADE }, IOTLB_WALK_CONTEXT_INVALID },
	{ "18: GADE without capabilities.AMO_HWAD", IOTLB_RISCV_CAP_AMO_HWAD, 0, 0, 0, { 1 | PT_RISCV_TC_GADE }, IOTLB_WALK_CONTEXT_INVALID },
	{ "19: SBE != fctl.BE without capabilities.END", IOTLB_RISCV_CAP_END, 0, 0, IOTLB_RISCV_FCTL_BE, { 1 | PT_RISCV_TC_SBE }, IOTLB_WALK_CONTEXT_INVALID },
	{ "21: SBE may differ from a writable fctl.BE", 0, 0, 0, IOTLB_RISCV_FCTL_BE, { 1 | PT_RISCV_TC_SBE }, 0 },
	{ "21: SBE must match a read-only fctl.BE", 0, 0, 0, 0, { 1 | PT_RISCV_TC_SBE }, IOTLB_WALK_CONTEXT_INVALID },
	{ "20: SXL=1 with read-only fctl.GXL=0", 0, 0, 0, 0, { 1 | PT_RISCV_TC_SXL }, IOTLB_WALK_CONTEXT_INVALID },
	{ "20: SXL=1 with writable fctl.GXL=0", 0, 0, 0, IOTLB_RISCV_FCTL_GXL, { 1 | PT_RISCV_TC_SXL }, 0 },
	{ "20: SXL=0 with fctl.GXL=1", 0, 0, IOTLB_RISCV_FCTL_GXL, 0, { 1 }, IOTLB_WALK_CONTEXT_INVALID },
};

START_TEST(test_dc_misconfig)
{
	for (unsigned int i = 0; i < IOTLB_ARRAY_SIZE(dc_cases); i++) {
		const struct dc_case *c = &dc_cases[i];
		struct iotlb_walk_riscv_iommu iommu = {
			.caps = (CAPS_ALL & ~c->caps_clear) | c->caps_set,
			.fctl = c->fctl, .fctl_writable = c->fctl_writable,
		};
		struct iotlb_walk_riscv_cfg cfg;
		struct iotlb_walk_faultinfo f;
		struct t_env e;
		int r;

		t_env_init(&e, IOTLB_MEM_WRITABLE);
		ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 1, &iommu.ddtp), 0);
		ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false,
						  9, c->dc, NULL), 0);
		r = dc_resolve(&e, &iommu, 9, 0, 0, &cfg, &f);
		if (c->want)
			ck_assert_msg(r == IOTLB_WALK_FAULTED &&
				      f.reason == (enum iotlb_walk_fault)c->want,
				      "rule %s: got %d (%s) want %s", c->rule, r,
				      fname(r, &f),
				      iotlb__walk_fault_name(c->want));
		else
			ck_assert_msg(r == 0, "rule %s: got %d (%s) want 0",
				      c->rule, r, fname(r, &f));
		t_env_fini(&e);
	}
}
END_TEST

/* IOMMU 2.1.3.5/6 and 2.1.4 rule 16: extended-format DC fields. */
START_TEST(test_dc_extended)
{
	struct iotlb_walk_riscv_iommu iommu = {
		.caps = CAPS_ALL | IOTLB_RISCV_CAP_MSI_FLAT,
	};
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_riscv_pt pt;
	uint64_t dc[8];
	struct t_env e;
	int r;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 2, &iommu.ddtp), 0);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, 8, 0, false), 0);
	dc_words(dc, PT_RISCV_TC_V, 0, 0, pt_riscv_atp(&pt));
	dc[PT_RISCV_DC_MSIPTP] = 1ULL << 60 | 0x999;
	dc[PT_RISCV_DC_MSI_MASK] = 0x7;		/* 8 interrupt files */
	dc[PT_RISCV_DC_MSI_PATTERN] = 0x28000;	/* at GPA 0x28000000 */
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, true, false, 0x4321,
					  dc, NULL), 0);
	r = dc_resolve(&e, &iommu, 0x4321, 0, 0, &cfg, &f);
	ck_assert_msg(r == 0 && (cfg.flags & IOTLB_WALK_RISCV_MSI_FLAT) &&
		      cfg.msi_mask == 7 && cfg.msi_pattern == 0x28000,
		      "extended DC: got %d (%s) flags %#x", r, fname(r, &f),
		      cfg.flags);

	/* 2.3 step 18: an IOVA landing on an interrupt file is an MSI. */
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x200000, 0x28000000, 2 * MiB,
				      LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x400000, 0x28200000, 2 * MiB,
				      LEAF_RW), 0);
	WALK_FAULT(&e, &cfg, 0x203000, WR, IOTLB_WALK_UNSUPPORTED, 1, NULL);
	/* The rest of a superpage holding interrupt files shrinks to 4 KiB. */
	WALK_OK(&e, &cfg, 0x208010, WR, 0x208000, 4 * KiB, 0x28008000, RW, NULL);
	/* A superpage with none keeps its size. */
	WALK_OK(&e, &cfg, 0x400010, RD, 0x400000, 2 * MiB, 0x28200000, RW, NULL);

	/* msiptp.MODE 2 is reserved; reserved bits in every extra word. */
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t bad[8];

		memcpy(bad, dc, sizeof(bad));
		switch (i) {
		case 0: bad[PT_RISCV_DC_MSIPTP] = 2ULL << 60; break;
		case 1: bad[PT_RISCV_DC_MSI_MASK] |= 1ULL << 52; break;
		case 2: bad[PT_RISCV_DC_MSI_PATTERN] |= 1ULL << 63; break;
		case 3: bad[PT_RISCV_DC_RSVD] = 1; break;
		}
		ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, true, false,
						  0x4321, bad, NULL), 0);
		r = dc_resolve(&e, &iommu, 0x4321, 0, 0, &cfg, &f);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_CONTEXT_INVALID,
			      "extended DC case %u: got %d (%s) want IOTLB_WALK_CONTEXT_INVALID",
			      i, r, fname(r, &f));
	}
	t_env_fini(&e);
}
END_TEST

/* --- process directory ---------------------------------------------------- */

/*
 * IOMMU 2.2 and 2.3.2: PD8/PD17/PD20 directories, read through the
 * G-stage when it is active (gmode != 0).
 */
static void pdt_case(unsigned int pdmode, unsigned int gmode)
{
	struct iotlb_walk_riscv_iommu iommu = { .caps = CAPS_ALL };
	unsigned int pidbits = pdmode == 1 ? 8 : pdmode == 2 ? 17 : 20;
	int64_t view = gmode ? VIEW : 0;
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_riscv_pt gpt, pt;
	uint64_t dc[8], pdtp, pc;
	uint32_t maxpid = (1U << pidbits) - 1;
	struct t_env e;
	int r;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	if (gmode)
		gs_new(&e, &gpt, gmode);
	ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 1, &iommu.ddtp), 0);
	ck_assert_int_eq(pt_riscv_pdt_new(&e.b, pdmode, view, &pdtp), 0);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, 9, view, false), 0);
	dc_words(dc, PT_RISCV_TC_V | PT_RISCV_TC_PDTV,
		 gmode ? pt_riscv_atp(&gpt) : 0, 0, pdtp);
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false, 3, dc,
					  NULL), 0);
	ck_assert_int_eq(pt_riscv_pdt_set(&e.b, pdtp, view, false, maxpid,
					  PT_RISCV_PC_V | 0xabcdeULL << 12,
					  pt_riscv_atp(&pt), &pc), 0);
	ck_assert_int_eq(pt_riscv_pdt_set(&e.b, pdtp, view, false, 0,
					  PT_RISCV_PC_V | PT_RISCV_PC_ENS |
					  1ULL << 12, pt_riscv_atp(&pt), NULL), 0);
	if (gmode)
		ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 0x40000000, 0x40000000,
					      GiB, LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x7000, 0x40005000, 4 * KiB,
				      LEAF_RW), 0);

	r = dc_resolve(&e, &iommu, 3, maxpid, IOTLB_WALK_RISCV_REQ_PID, &cfg, &f);
	ck_assert_msg(r == 0 && cfg.fs_mode == 9 && cfg.pscid == 0xabcde &&
		      cfg.gs_mode == gmode,
		      "PD mode %u gmode %u pid %#x: got %d (%s, stage %u) mode %u pscid %#x",
		      pdmode, gmode, maxpid, r, fname(r, &f), f.stage,
		      cfg.fs_mode, cfg.pscid);
	WALK_OK(&e, &cfg, 0x7abc, RW, 0x7000, 4 * KiB, 0x40005000, RW, NULL);

	/* 2.3 step 7: process_id wider than pdtp.MODE supports */
	if (pidbits < 20) {
		r = dc_resolve(&e, &iommu, 3, maxpid + 1,
			       IOTLB_WALK_RISCV_REQ_PID, &cfg, &f);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_BLOCKED,
			      "PD mode %u pid %#x: got %d (%s) want IOTLB_WALK_BLOCKED",
			      pdmode, maxpid + 1, r, fname(r, &f));
	}
	/* 2.3.2 step 10: PC.ta.V = 0 */
	r = dc_resolve(&e, &iommu, 3, 1, IOTLB_WALK_RISCV_REQ_PID, &cfg, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED &&
		      f.reason == IOTLB_WALK_CONTEXT_INVALID,
		      "PD mode %u invalid PC: got %d (%s) want IOTLB_WALK_CONTEXT_INVALID",
		      pdmode, r, fname(r, &f));
	/* 2.3 step 15: supervisor request without PC.ta.ENS */
	r = dc_resolve(&e, &iommu, 3, maxpid,
		       IOTLB_WALK_RISCV_REQ_PID | IOTLB_WALK_RISCV_REQ_PRIV_S,
		       &cfg, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_BLOCKED,
		      "PD mode %u S without ENS: got %d (%s) want IOTLB_WALK_BLOCKED",
		      pdmode, r, fname(r, &f));
	/* ... with ENS, an S-mode request with SUM from the PC */
	r = dc_resolve(&e, &iommu, 3, 0,
		       IOTLB_WALK_RISCV_REQ_PID | IOTLB_WALK_RISCV_REQ_PRIV_S,
		       &cfg, &f);
	ck_assert_msg(r == 0 && (cfg.flags & IOTLB_WALK_RISCV_PRIV_S) &&
		      !(cfg.flags & IOTLB_WALK_RISCV_SUM),
		      "PD mode %u S with ENS: got %d (%s) flags %#x", pdmode, r,
		      fname(r, &f), cfg.flags);
	/* U page, S request, SUM = 0 */
	WALK_FAULT(&e, &cfg, 0x7000, RD, IOTLB_WALK_PERMISSION, 1, NULL);
	/* 2.3 step 12: no process_id and DPE = 0: first stage Bare */
	r = dc_resolve(&e, &iommu, 3, 0, 0, &cfg, &f);
	ck_assert_msg(r == 0 && cfg.fs_mode == 0,
		      "PD mode %u no pid: got %d (%s) fs_mode %u", pdmode, r,
		      fname(r, &f), cfg.fs_mode);
	/* 2.3 step 11: DPE = 1 uses process_id 0 */
	dc[PT_RISCV_DC_TC] |= PT_RISCV_TC_DPE;
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false, 3, dc,
					  NULL), 0);
	r = dc_resolve(&e, &iommu, 3, 0, 0, &cfg, &f);
	ck_assert_msg(r == 0 && cfg.fs_mode == 9 && cfg.pscid == 1,
		      "PD mode %u DPE: got %d (%s) pscid %#x", pdmode, r,
		      fname(r, &f), cfg.pscid);
	/* 2.2.4: reserved bits of the PC, unsupported mode */
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t ta = PT_RISCV_PC_V, fsc = pt_riscv_atp(&pt);

		switch (i) {
		case 0: ta |= 1ULL << 3; break;
		case 1: ta |= 1ULL << 40; break;
		case 2: fsc |= 1ULL << 50; break;
		case 3: fsc = (fsc & ~(0xfULL << 60)) | 7ULL << 60; break;
		}
		ck_assert_int_eq(pt_riscv_pdt_set(&e.b, pdtp, view, false,
						  maxpid, ta, fsc, NULL), 0);
		r = dc_resolve(&e, &iommu, 3, maxpid, IOTLB_WALK_RISCV_REQ_PID,
			       &cfg, &f);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_CONTEXT_INVALID,
			      "PD mode %u PC case %u: got %d (%s) want IOTLB_WALK_CONTEXT_INVALID",
			      pdmode, i, r, fname(r, &f));
	}
	ck_assert_int_eq(pt_riscv_pdt_set(&e.b, pdtp, view, false, maxpid,
					  PT_RISCV_PC_V, pt_riscv_atp(&pt),
					  NULL), 0);
	ck_assert_int_eq(dc_resolve(&e, &iommu, 3, maxpid,
				    IOTLB_WALK_RISCV_REQ_PID, &cfg, &f), 0);
	/* 2.2.1: reserved bits in a non-leaf PDT entry */
	if (pdmode > 1) {
		uint64_t root = (((pdtp & ((1ULL << 44) - 1)) << 12) -
				 (uint64_t)view), ea, v;

		ea = root + ((maxpid >> (pdmode == 2 ? 8 : 17)) &
			     (pdmode == 2 ? 511 : 7)) * 8;
		ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
		pt_riscv_write64(&e.b, ea, v | 1ULL << 5, false);
		r = dc_resolve(&e, &iommu, 3, maxpid, IOTLB_WALK_RISCV_REQ_PID,
			       &cfg, &f);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_CONTEXT_INVALID,
			      "PD mode %u pdte reserved: got %d (%s)", pdmode, r,
			      fname(r, &f));
		pt_riscv_write64(&e.b, ea, v, false);
	}
	/* The G-stage must map the PDT: a guest-page fault otherwise. */
	if (gmode) {
		uint64_t root = ((pdtp & ((1ULL << 44) - 1)) << 12);

		ck_assert_int_eq(pt_riscv_unmap(&e.b, &gpt, root & ~(2 * MiB - 1),
						2 * MiB), 0);
		r = dc_resolve(&e, &iommu, 3, maxpid, IOTLB_WALK_RISCV_REQ_PID,
			       &cfg, &f);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_NOT_PRESENT && f.stage == 2,
			      "PD mode %u PDT unmapped in G-stage: got %d (%s, stage %u) want not-present stage 2",
			      pdmode, r, fname(r, &f), f.stage);
	}
	t_env_fini(&e);
}

START_TEST(test_pdt)
{
	for (unsigned int pd = 1; pd <= 3; pd++) {
		pdt_case(pd, 0);
		pdt_case(pd, IOTLB_RISCV_MODE_SV48);
	}
}
END_TEST

/* IOMMU 2.2.4 rules 2-4: PC.fsc.MODE against DC.tc.SXL and capabilities. */
START_TEST(test_pc_modes)
{
	static const struct {
		uint64_t caps_clear, caps_set;
		bool sxl;
		unsigned int mode;
		int want;
	} cases[] = {
		{ 0, 0, false, 10, 0 },
		{ IOTLB_RISCV_CAP_SV57, 0, false, 10, IOTLB_WALK_CONTEXT_INVALID },
		{ IOTLB_RISCV_CAP_SV48, 0, false, 9, IOTLB_WALK_CONTEXT_INVALID },
		{ IOTLB_RISCV_CAP_SV39, 0, false, 8, IOTLB_WALK_CONTEXT_INVALID },
		{ 0, 0, false, 14, IOTLB_WALK_CONTEXT_INVALID },
		{ 0, 0, true, 8, IOTLB_WALK_CONTEXT_INVALID },	/* no Sv32 */
		{ 0, IOTLB_RISCV_CAP_SV32, true, 9, IOTLB_WALK_CONTEXT_INVALID },
		{ 0, IOTLB_RISCV_CAP_SV32, true, 8, IOTLB_WALK_UNSUPPORTED },
		{ 0, 0, true, 0, 0 },
	};

	for (unsigned int i = 0; i < IOTLB_ARRAY_SIZE(cases); i++) {
		struct iotlb_walk_riscv_iommu iommu = {
			.caps = (CAPS_ALL & ~cases[i].caps_clear) |
				cases[i].caps_set,
			.fctl_writable = IOTLB_RISCV_FCTL_GXL,
		};
		struct iotlb_walk_riscv_cfg cfg;
		struct iotlb_walk_faultinfo f;
		uint64_t dc[8], pdtp;
		struct t_env e;
		int r;

		t_env_init(&e, IOTLB_MEM_WRITABLE);
		ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 1, &iommu.ddtp), 0);
		ck_assert_int_eq(pt_riscv_pdt_new(&e.b, 1, 0, &pdtp), 0);
		ck_assert_int_eq(pt_riscv_pdt_set(&e.b, pdtp, 0, false, 4,
						  PT_RISCV_PC_V,
						  (uint64_t)cases[i].mode << 60 |
						  0x123, NULL), 0);
		dc_words(dc, PT_RISCV_TC_V | PT_RISCV_TC_PDTV |
			 (cases[i].sxl ? PT_RISCV_TC_SXL : 0), 0, 0, pdtp);
		ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false,
						  1, dc, NULL), 0);
		r = dc_resolve(&e, &iommu, 1, 4, IOTLB_WALK_RISCV_REQ_PID, &cfg,
			       &f);
		if (cases[i].want)
			ck_assert_msg(r == IOTLB_WALK_FAULTED &&
				      f.reason == (enum iotlb_walk_fault)cases[i].want,
				      "PC case %u: got %d (%s) want %s", i, r,
				      fname(r, &f),
				      iotlb__walk_fault_name(cases[i].want));
		else
			ck_assert_msg(r == 0, "PC case %u: got %d (%s) want 0", i,
				      r, fname(r, &f));
		t_env_fini(&e);
	}
}
END_TEST

/* IOMMU 2.1.3.1: with SXL = 1 a non-Bare G-stage takes 34-bit GPAs only. */
START_TEST(test_sxl_gpa_width)
{
	struct iotlb_walk_riscv_iommu iommu = {
		.caps = CAPS_ALL, .fctl_writable = IOTLB_RISCV_FCTL_GXL,
	};
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_riscv_pt gpt;
	uint64_t dc[8];
	struct t_env e;
	int r;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &gpt, 2, 8, 0, false), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, (1ULL << 34) - 4 * KiB,
				      0x5000, 4 * KiB, LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 1ULL << 34, 0x6000, 4 * KiB,
				      LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 1, &iommu.ddtp), 0);
	dc_words(dc, PT_RISCV_TC_V | PT_RISCV_TC_SXL, pt_riscv_atp(&gpt), 0, 0);
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false, 2, dc,
					  NULL), 0);
	r = dc_resolve(&e, &iommu, 2, 0, 0, &cfg, &f);
	ck_assert_msg(r == 0 && (cfg.flags & IOTLB_WALK_RISCV_SXL),
		      "SXL DC: got %d (%s) flags %#x", r, fname(r, &f), cfg.flags);
	WALK_OK(&e, &cfg, (1ULL << 34) - 1, RD, (1ULL << 34) - 4 * KiB,
		4 * KiB, 0x5000, RW, NULL);
	WALK_FAULT(&e, &cfg, 1ULL << 34, RD, IOTLB_WALK_ADDR_WIDTH, 2, NULL);
	cfg.flags &= ~IOTLB_WALK_RISCV_SXL;
	WALK_OK(&e, &cfg, 1ULL << 34, RD, 1ULL << 34, 4 * KiB, 0x6000, RW, NULL);
	t_env_fini(&e);
}
END_TEST

/* IOMMU 2.3 step 7: a process_id with PDTV = 0; pdtp.MODE Bare. */
START_TEST(test_pid_without_pdt)
{
	struct iotlb_walk_riscv_iommu iommu = { .caps = CAPS_ALL };
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	uint64_t dc[8];
	struct t_env e;
	int r;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 1, &iommu.ddtp), 0);
	dc_words(dc, PT_RISCV_TC_V, 0, 0, 0);
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false, 1, dc,
					  NULL), 0);
	r = dc_resolve(&e, &iommu, 1, 5, IOTLB_WALK_RISCV_REQ_PID, &cfg, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_BLOCKED,
		      "pid without PDTV: got %d (%s) want IOTLB_WALK_BLOCKED", r,
		      fname(r, &f));
	dc_words(dc, PT_RISCV_TC_V | PT_RISCV_TC_PDTV, 0, 0, 0);
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false, 1, dc,
					  NULL), 0);
	r = dc_resolve(&e, &iommu, 1, 0xfffff, IOTLB_WALK_RISCV_REQ_PID, &cfg,
		       &f);
	ck_assert_msg(r == 0 && cfg.fs_mode == 0,
		      "pdtp Bare: got %d (%s) fs_mode %u want 0, Bare", r,
		      fname(r, &f), cfg.fs_mode);
	t_env_fini(&e);
}
END_TEST

/* --- first stage ------------------------------------------------------------ */

static unsigned int mode_levels(unsigned int mode)
{
	return mode - 8 + 3;
}

/* priv Sv39/48/57: every leaf level, Svnapot 64 KiB, both address halves. */
START_TEST(test_fs_page_sizes)
{
	static const uint64_t sizes[] = { 4 * KiB, 64 * KiB, 2 * MiB, GiB,
					  512 * GiB, 256ULL << 40 };
	static const uint32_t levels_of[] = { 1, 1, 2, 3, 4, 5 };

	for (unsigned int mode = 8; mode <= 10; mode++) {
		unsigned int levels = mode_levels(mode);
		uint64_t half = 1ULL << (12 + 9 * levels - 1);
		struct iotlb_walk_riscv_cfg cfg;
		struct iotlb_walk_result res;
		struct pt_riscv_pt pt;
		struct t_env e;

		t_env_init(&e, IOTLB_MEM_WRITABLE);
		fs_cfg(&e, &pt, mode, &cfg);
		for (unsigned int s = 0; s < IOTLB_ARRAY_SIZE(sizes); s++) {
			uint64_t size = sizes[s], iova, pa, off;

			if (levels_of[s] > levels)
				continue;
			/* One in the low half, one in the high half. */
			for (unsigned int h = 0; h < 2; h++) {
				iova = (h ? (0 - half) : 0) + size * (2 * s + 1);
				/* level-5 index 128 (+256): clear of the rest */
				if (size == 256ULL << 40)
					iova = (h ? 0 - half : 0) + (128ULL << 48);
				pa = 0x10000000000ULL * (s + 1) + size * 3;
				pa &= ~(size - 1);
				pa &= (1ULL << 56) - 1;
				ck_assert_msg(pt_riscv_map(&e.b, &pt, iova, pa, size,
							   LEAF_RW) == 0,
					      "mode %u map size %#" PRIx64 " at %#" PRIx64,
					      mode, size, iova);
				off = (size / 2 + 0x123) & ~7ULL;
				WALK_OK(&e, &cfg, iova + off, RD, iova, size, pa, RW,
					&res);
				ck_assert_msg(res.level == levels_of[s] &&
					      res.mem_reads == levels - levels_of[s] + 1,
					      "mode %u size %#" PRIx64 ": level %u reads %u want %u %u",
					      mode, size, res.level, res.mem_reads,
					      levels_of[s], levels - levels_of[s] + 1);
			}
		}
		t_env_fini(&e);
	}
}
END_TEST

/*
 * priv "Virtual Address Translation Process" steps 3-8 for every R/W/X/U
 * combination on a 4 KiB leaf, U-mode request: R=0 W=1 is reserved, a
 * leaf is any R or X, the grant is R/W when U=1, nothing when U=0.
 */
START_TEST(test_fs_perm_encodings)
{
	static const unsigned int accesses[] = { RD, WR, RW };
	struct iotlb_walk_riscv_cfg cfg;
	struct pt_riscv_pt pt;
	uint64_t ea;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	fs_cfg(&e, &pt, 8, &cfg);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x5000, 0x9000, 4 * KiB,
				      LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x5000, 1, &ea), 0);
	for (unsigned int bits = 0; bits < 16; bits++) {
		bool r = bits & 1, w = bits & 2, x = bits & 4, u = bits & 8;
		uint64_t pte = PT_RISCV_V | PT_RISCV_A | PT_RISCV_D |
			       (0x9ULL << 10);
		uint32_t grant = u ? (r ? RD : 0) | (w ? WR : 0) : 0;

		pte |= (r ? PT_RISCV_R : 0) | (w ? PT_RISCV_W : 0) |
		       (x ? PT_RISCV_X : 0) | (u ? PT_RISCV_U : 0);
		pt_riscv_write64(&e.b, ea, pte, false);
		for (unsigned int a = 0; a < 3; a++) {
			unsigned int acc = accesses[a];

			if (!r && w)		/* reserved encoding */
				WALK_FAULT(&e, &cfg, 0x5010, acc,
					   IOTLB_WALK_RESERVED, 1, NULL);
			else if (!r && !x)	/* pointer at level 1; U reserved */
				WALK_FAULT(&e, &cfg, 0x5010, acc,
					   IOTLB_WALK_RESERVED, 1, NULL);
			else if (acc & ~grant)
				WALK_FAULT(&e, &cfg, 0x5010, acc,
					   IOTLB_WALK_PERMISSION, 1, NULL);
			else
				WALK_OK(&e, &cfg, 0x5010, acc, 0x5000, 4 * KiB,
					0x9000, grant, NULL);
		}
	}
	t_env_fini(&e);
}
END_TEST

/* IOMMU 2.2.3 ENS/SUM and priv "SUM": S-mode requests and the U bit. */
START_TEST(test_fs_priv_s)
{
	struct iotlb_walk_riscv_cfg cfg;
	struct pt_riscv_pt pt;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	fs_cfg(&e, &pt, 8, &cfg);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x1000, 4 * KiB,
				      LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x2000, 0x2000, 4 * KiB,
				      LEAF_RW & ~PT_RISCV_U), 0);
	/* U-mode (the default): only U pages. */
	WALK_OK(&e, &cfg, 0x1000, RW, 0x1000, 4 * KiB, 0x1000, RW, NULL);
	WALK_FAULT(&e, &cfg, 0x2000, RD, IOTLB_WALK_PERMISSION, 1, NULL);
	/* S-mode without SUM: only non-U pages. */
	cfg.flags = IOTLB_WALK_RISCV_PRIV_S;
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_PERMISSION, 1, NULL);
	WALK_OK(&e, &cfg, 0x2000, RW, 0x2000, 4 * KiB, 0x2000, RW, NULL);
	/* S-mode with SUM: both. */
	cfg.flags |= IOTLB_WALK_RISCV_SUM;
	WALK_OK(&e, &cfg, 0x1000, WR, 0x1000, 4 * KiB, 0x1000, RW, NULL);
	WALK_OK(&e, &cfg, 0x2000, RD, 0x2000, 4 * KiB, 0x2000, RW, NULL);
	t_env_fini(&e);
}
END_TEST

/* IOMMU 2.1.3.1 SADE=0 (priv Svade): A=0, or D=0 on a write, faults. */
START_TEST(test_fs_ad_fault)
{
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_riscv_pt pt;
	uint64_t ea, v;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	fs_cfg(&e, &pt, 9, &cfg);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x1000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x2000, 0x2000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U |
				      PT_RISCV_A), 0);
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_ACCESS_FLAG, 1, &f);
	ck_assert_uint_eq(f.level, 1);
	WALK_FAULT(&e, &cfg, 0x1000, WR, IOTLB_WALK_ACCESS_FLAG, 1, NULL);
	/* A clean page: readable, but the write is not granted yet. */
	WALK_OK(&e, &cfg, 0x2000, RD, 0x2000, 4 * KiB, 0x2000, RD, NULL);
	WALK_FAULT(&e, &cfg, 0x2000, WR, IOTLB_WALK_ACCESS_FLAG, 1, NULL);
	/* Nothing was written. */
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x1000, 1, &ea), 0);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
	ck_assert_uint_eq(v & (PT_RISCV_A | PT_RISCV_D), 0);
	t_env_fini(&e);
}
END_TEST

/* IOMMU 2.4 with SADE=1 (priv Svadu): atomic A/D updates. */
START_TEST(test_fs_ad_update)
{
	struct iotlb_walk_riscv_cfg cfg;
	struct pt_riscv_pt pt;
	uint64_t ea, v;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	fs_cfg(&e, &pt, 10, &cfg);
	cfg.flags = IOTLB_WALK_RISCV_SADE;
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x7000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x1000, 1, &ea), 0);
	/*
	 * A read of a writable page sets A and D and grants RW: the answer
	 * goes to the vhost IOTLB, which writes through it later without
	 * another walk (see rv_fstage()).
	 */
	WALK_OK(&e, &cfg, 0x1000, RD, 0x1000, 4 * KiB, 0x7000, RW, NULL);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
	ck_assert_msg((v & (PT_RISCV_A | PT_RISCV_D)) ==
		      (PT_RISCV_A | PT_RISCV_D),
		      "after read: pte %#" PRIx64 " want A and D set", v);
	/* A read-only page gets A only. */
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x3000, 0x9000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_U), 0);
	WALK_OK(&e, &cfg, 0x3000, RD, 0x3000, 4 * KiB, 0x9000, RD, NULL);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x3000, 1, &ea), 0);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
	ck_assert_msg((v & (PT_RISCV_A | PT_RISCV_D)) == PT_RISCV_A,
		      "RO page after read: pte %#" PRIx64 " want A only", v);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x1000, 1, &ea), 0);
	/* A write keeps D. */
	WALK_OK(&e, &cfg, 0x1000, WR, 0x1000, 4 * KiB, 0x7000, RW, NULL);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
	ck_assert_msg((v & (PT_RISCV_A | PT_RISCV_D)) ==
		      (PT_RISCV_A | PT_RISCV_D),
		      "after write: pte %#" PRIx64 " want A and D set", v);
	/* Permission is checked before any update: no D on a RO page. */
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x2000, 0x8000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_U), 0);
	WALK_FAULT(&e, &cfg, 0x2000, WR, IOTLB_WALK_PERMISSION, 1, NULL);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x2000, 1, &ea), 0);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
	ck_assert_uint_eq(v & PT_RISCV_A, 0);
	t_env_fini(&e);

	/* Tables in read-only guest memory: the update cannot be made. */
	t_env_init(&e, 0);
	fs_cfg(&e, &pt, 8, &cfg);
	cfg.flags = IOTLB_WALK_RISCV_SADE;
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x7000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_U), 0);
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_AD_UPDATE, 1, NULL);
	ck_assert_int_eq(pt_riscv_protect(&e.b, &pt, 0x1000, 4 * KiB,
					  LEAF_RO), 0);
	WALK_OK(&e, &cfg, 0x1000, RD, 0x1000, 4 * KiB, 0x7000, RD, NULL);
	t_env_fini(&e);
}
END_TEST

/* priv Sv39 PTE format, Svpbmt, Svnapot: reserved bits and encodings. */
START_TEST(test_fs_reserved)
{
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_riscv_pt pt;
	uint64_t leaf, nl, vleaf, vnl, ea;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	fs_cfg(&e, &pt, 8, &cfg);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x3000, 0x4000, 4 * KiB,
				      LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x3000, 1, &leaf), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x3000, 2, &nl), 0);
	pt_riscv_read64(&e.b, leaf, &vleaf, false);
	pt_riscv_read64(&e.b, nl, &vnl, false);

	/* Bits 60:54 are reserved in every PTE. */
	for (unsigned int bit = 54; bit <= 60; bit++) {
		pt_riscv_write64(&e.b, leaf, vleaf | 1ULL << bit, false);
		WALK_FAULT(&e, &cfg, 0x3000, RD, IOTLB_WALK_RESERVED, 1, &f);
		ck_assert_msg(f.level == 1 && f.entry_gpa == leaf,
			      "leaf bit %u: level %u entry %#" PRIx64, bit,
			      f.level, f.entry_gpa);
		pt_riscv_write64(&e.b, leaf, vleaf, false);
		pt_riscv_write64(&e.b, nl, vnl | 1ULL << bit, false);
		WALK_FAULT(&e, &cfg, 0x3000, RD, IOTLB_WALK_RESERVED, 1, &f);
		ck_assert_uint_eq(f.level, 2);
		pt_riscv_write64(&e.b, nl, vnl, false);
	}
	/* Non-leaf: D, A, U reserved; N and PBMT too. */
	{
		static const uint64_t nlbits[] = {
			PT_RISCV_D, PT_RISCV_A, PT_RISCV_U, PT_RISCV_N,
			PT_RISCV_PBMT(1), PT_RISCV_PBMT(2),
		};

		cfg.flags = IOTLB_WALK_RISCV_SVPBMT;
		for (unsigned int i = 0; i < IOTLB_ARRAY_SIZE(nlbits); i++) {
			pt_riscv_write64(&e.b, nl, vnl | nlbits[i], false);
			WALK_FAULT(&e, &cfg, 0x3000, RD, IOTLB_WALK_RESERVED, 1,
				   NULL);
		}
		pt_riscv_write64(&e.b, nl, vnl, false);
		/* G and the RSW bits are ignored. */
		pt_riscv_write64(&e.b, nl, vnl | PT_RISCV_G | 3ULL << 8, false);
		pt_riscv_write64(&e.b, leaf, vleaf | PT_RISCV_G | 3ULL << 8,
				 false);
		WALK_OK(&e, &cfg, 0x3000, RD, 0x3000, 4 * KiB, 0x4000, RW, NULL);
		pt_riscv_write64(&e.b, nl, vnl, false);
	}
	/* Svpbmt: PBMT reserved when not implemented, value 3 always. */
	for (unsigned int pbmt = 0; pbmt < 4; pbmt++) {
		pt_riscv_write64(&e.b, leaf, vleaf | PT_RISCV_PBMT(pbmt), false);
		cfg.flags = 0;
		if (pbmt)
			WALK_FAULT(&e, &cfg, 0x3000, RD, IOTLB_WALK_RESERVED, 1,
				   NULL);
		cfg.flags = IOTLB_WALK_RISCV_SVPBMT;
		if (pbmt == 3)
			WALK_FAULT(&e, &cfg, 0x3000, RD, IOTLB_WALK_RESERVED, 1,
				   NULL);
		else
			WALK_OK(&e, &cfg, 0x3000, RD, 0x3000, 4 * KiB, 0x4000,
				RW, NULL);
	}
	pt_riscv_write64(&e.b, leaf, vleaf, false);
	cfg.flags = 0;
	/* Svnapot: only ppn[3:0] = 1000 at level 0 is defined. */
	for (unsigned int low = 0; low < 16; low++) {
		uint64_t pte = (vleaf & ~(0xfULL << 10)) | PT_RISCV_N |
			       (uint64_t)low << 10;

		pt_riscv_write64(&e.b, leaf, pte, false);
		if (low == 8)
			WALK_OK(&e, &cfg, 0x3000, RD, 0, 64 * KiB, 0, RW, NULL);
		else
			WALK_FAULT(&e, &cfg, 0x3000, RD, IOTLB_WALK_RESERVED, 1,
				   NULL);
	}
	pt_riscv_write64(&e.b, leaf, vleaf, false);
	/* N on a superpage leaf */
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x40000000, 0x40000000,
				      2 * MiB, LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x40000000, 2, &ea), 0);
	pt_riscv_read64(&e.b, ea, &vnl, false);
	pt_riscv_write64(&e.b, ea, vnl | PT_RISCV_N | 8ULL << 10, false);
	WALK_FAULT(&e, &cfg, 0x40000000, RD, IOTLB_WALK_RESERVED, 1, NULL);
	/* Misaligned superpages: any low PPN bit set. */
	for (unsigned int bit = 0; bit < 9; bit++) {
		pt_riscv_write64(&e.b, ea, vnl | (1ULL << (10 + bit)), false);
		WALK_FAULT(&e, &cfg, 0x40000000, RD, IOTLB_WALK_RESERVED, 1, &f);
		ck_assert_uint_eq(f.level, 2);
	}
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x80000000, 0x80000000, GiB,
				      LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x80000000, 3, &ea), 0);
	pt_riscv_read64(&e.b, ea, &vnl, false);
	pt_riscv_write64(&e.b, ea, vnl | 1ULL << (10 + 9 + 8), false);
	WALK_FAULT(&e, &cfg, 0x80000000, RD, IOTLB_WALK_RESERVED, 1, &f);
	ck_assert_uint_eq(f.level, 3);
	/* X-only is a leaf that grants no read or write. */
	pt_riscv_write64(&e.b, ea, (vnl & ~(PT_RISCV_R | PT_RISCV_W)) |
			 PT_RISCV_X, false);
	WALK_FAULT(&e, &cfg, 0x80000000, RD, IOTLB_WALK_PERMISSION, 1, NULL);
	t_env_fini(&e);
}
END_TEST

/* priv Sv39/48/57: bits 63:VA must equal bit VA-1. */
START_TEST(test_fs_canonical)
{
	for (unsigned int mode = 8; mode <= 10; mode++) {
		unsigned int va = 12 + 9 * mode_levels(mode);
		struct iotlb_walk_riscv_cfg cfg;
		struct iotlb_walk_faultinfo f;
		struct pt_riscv_pt pt;
		struct t_env e;

		t_env_init(&e, IOTLB_MEM_WRITABLE);
		fs_cfg(&e, &pt, mode, &cfg);
		ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0 - 4 * KiB, 0x5000,
					      4 * KiB, LEAF_RW), 0);
		ck_assert_int_eq(pt_riscv_map(&e.b, &pt, (1ULL << (va - 1)) -
					      4 * KiB, 0x6000, 4 * KiB,
					      LEAF_RW), 0);
		WALK_OK(&e, &cfg, UINT64_MAX, RD, 0 - 4 * KiB, 4 * KiB, 0x5000,
			RW, NULL);
		WALK_OK(&e, &cfg, (1ULL << (va - 1)) - 1, RD,
			(1ULL << (va - 1)) - 4 * KiB, 4 * KiB, 0x6000, RW, NULL);
		WALK_FAULT(&e, &cfg, 1ULL << (va - 1), RD,
			   IOTLB_WALK_NON_CANONICAL, 1, &f);
		ck_assert_uint_eq(f.addr, 1ULL << (va - 1));
		ck_assert_uint_eq(f.entry_gpa, 0);
		WALK_FAULT(&e, &cfg, 1ULL << 63, RD, IOTLB_WALK_NON_CANONICAL,
			   1, NULL);
		WALK_FAULT(&e, &cfg, (0 - (1ULL << (va - 1))) - 1, RD,
			   IOTLB_WALK_NON_CANONICAL, 1, NULL);
		/* The first address of the high half is canonical. */
		WALK_FAULT(&e, &cfg, 0 - (1ULL << (va - 1)), RD,
			   IOTLB_WALK_NOT_PRESENT, 1, NULL);
		t_env_fini(&e);
	}
}
END_TEST

/* --- G-stage and nesting -------------------------------------------------- */

/*
 * H extension "Guest Physical Address Translation": SvNNx4 widens the GPA
 * by 2 bits through a 16 KiB root; bits above must be zero; every leaf
 * needs U=1.
 */
START_TEST(test_gs_x4)
{
	for (unsigned int mode = 8; mode <= 10; mode++) {
		unsigned int levels = mode_levels(mode);
		unsigned int width = 12 + 9 * levels + 2;
		uint64_t top = (1ULL << width) - 4 * KiB;
		struct iotlb_walk_riscv_cfg cfg = { 0 };
		struct iotlb_walk_faultinfo f;
		struct iotlb_walk_result res;
		struct pt_riscv_pt gpt;
		struct t_env e;

		t_env_init(&e, IOTLB_MEM_WRITABLE);
		ck_assert_int_eq(pt_riscv_pt_new(&e.b, &gpt, 2, mode, 0, false),
				 0);
		cfg.gs_mode = (uint8_t)mode;
		cfg.gs_root = gpt.root;
		/* Root index 2047: the last 8 bytes of the 16 KiB root. */
		ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, top, 0x123000,
					      4 * KiB, LEAF_RW), 0);
		WALK_OK(&e, &cfg, top + 0x10, RW, top, 4 * KiB, 0x123000, RW,
			&res);
		ck_assert_uint_eq(res.level, 1);
		ck_assert_uint_eq(res.mem_reads, levels);
		WALK_FAULT(&e, &cfg, 1ULL << width, RD, IOTLB_WALK_ADDR_WIDTH,
			   2, NULL);
		WALK_FAULT(&e, &cfg, UINT64_MAX, RD, IOTLB_WALK_ADDR_WIDTH, 2,
			   NULL);
		/* No U: a guest-page fault whatever the access. */
		ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 0x200000, 0x200000,
					      2 * MiB, LEAF_RW & ~PT_RISCV_U), 0);
		WALK_FAULT(&e, &cfg, 0x200000, RD, IOTLB_WALK_PERMISSION, 2, &f);
		ck_assert_uint_eq(f.level, 2);
		/* Superpages */
		ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, GiB, 5 * GiB, GiB,
					      LEAF_RO), 0);
		WALK_OK(&e, &cfg, GiB + 0x1234, RD, GiB, GiB, 5 * GiB, RD, NULL);
		WALK_FAULT(&e, &cfg, GiB, WR, IOTLB_WALK_PERMISSION, 2, NULL);
		if (levels >= 4) {
			ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 512 * GiB,
						      1024 * GiB, 512 * GiB,
						      LEAF_RW), 0);
			WALK_OK(&e, &cfg, 513 * GiB, WR, 512 * GiB, 512 * GiB,
				1024 * GiB, RW, NULL);
		}
		/* GADE = 0: A clear faults at stage 2. */
		ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 0x5000, 0x5000,
					      4 * KiB, PT_RISCV_R | PT_RISCV_U),
				 0);
		WALK_FAULT(&e, &cfg, 0x5000, RD, IOTLB_WALK_ACCESS_FLAG, 2, NULL);
		cfg.flags = IOTLB_WALK_RISCV_GADE;
		WALK_OK(&e, &cfg, 0x5000, RD, 0x5000, 4 * KiB, 0x5000, RD, NULL);
		/* A misaligned 16 KiB root is a caller error. */
		cfg.gs_root += 4 * KiB;
		ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, RD, &res, &f,
						   NULL), -EINVAL);
		t_env_fini(&e);
	}
}
END_TEST

/*
 * H extension "Two-Stage Address Translation" (IOMMU 2.3 step 17): the
 * first-stage tables are GPAs, every PTE read an implicit G-stage load;
 * the result is the smaller leaf with the ANDed permission.
 */
START_TEST(test_nested)
{
	struct iotlb_walk_riscv_cfg cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_riscv_pt gpt, pt;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	gs_new(&e, &gpt, 8);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, 8, VIEW, false), 0);
	cfg.fs_mode = 8;
	cfg.fs_root = pt.root + (uint64_t)VIEW;
	cfg.gs_mode = 8;
	cfg.gs_root = gpt.root;

	/* fs: 2 MiB RW at 0x40000000 -> GPA 0x20000000 */
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x40000000, 0x20000000,
				      2 * MiB, LEAF_RW), 0);
	/* gs: 4 KiB RO pieces of it */
	ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 0x20003000, 0x9000000,
				      4 * KiB, LEAF_RO), 0);
	WALK_OK(&e, &cfg, 0x40003456, RD, 0x40003000, 4 * KiB, 0x9000000, RD,
		&res);
	ck_assert_uint_eq(res.level, 2);
	/*
	 * 2 first-stage reads (2 MiB leaf), each behind a G-stage walk that
	 * ends on a 2 MiB leaf (2 reads), then 3 for the final GPA.
	 */
	ck_assert_msg(res.mem_reads == 2 * (2 + 1) + 3,
		      "nested reads: got %u want %u", res.mem_reads, 2 * 3 + 3);
	WALK_FAULT(&e, &cfg, 0x40003456, WR, IOTLB_WALK_PERMISSION, 2, &f);
	ck_assert_uint_eq(f.addr, 0x20003456);
	/* Final GPA not mapped by the G-stage. */
	WALK_FAULT(&e, &cfg, 0x40004000, RD, IOTLB_WALK_NOT_PRESENT, 2, &f);
	ck_assert_uint_eq(f.addr, 0x20004000);
	/* A G-stage superpage larger than the fs leaf: the fs leaf wins. */
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x40000000, 4 * KiB,
				      LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 0x40000000, 0x40000000, GiB,
				      LEAF_RW), 0);
	WALK_OK(&e, &cfg, 0x1000, RW, 0x1000, 4 * KiB, 0x40000000, RW, &res);
	ck_assert_uint_eq(res.level, 1);
	/* First-stage faults stay stage 1. */
	WALK_FAULT(&e, &cfg, 0x2000, RD, IOTLB_WALK_NOT_PRESENT, 1, NULL);
	/* A first-stage table the G-stage does not map: guest-page fault on
	 * the implicit access, reported with the PTE's GPA. */
	ck_assert_int_eq(pt_riscv_unmap(&e.b, &gpt, VIEW_GPA, 2 * MiB), 0);
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_NOT_PRESENT, 2, &f);
	ck_assert_uint_eq(f.addr, cfg.fs_root + 0);
	t_env_fini(&e);
}
END_TEST

/*
 * priv "Svadu" in two stages: with GADE the implicit read of a first-stage
 * PTE sets A in the G-stage leaf mapping its table; a first-stage A/D
 * update is an implicit store needing G-stage write permission.
 */
START_TEST(test_nested_ad)
{
	struct iotlb_walk_riscv_cfg cfg = { 0 };
	struct pt_riscv_pt gpt, pt;
	uint64_t ea, v;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &gpt, 2, 9, 0, false), 0);
	/* Table area mapped without A/D in the G-stage. */
	for (uint64_t off = 0; off < RAM_SIZE; off += 2 * MiB)
		ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, VIEW_GPA + off,
					      RAM_GPA + off, 2 * MiB,
					      PT_RISCV_R | PT_RISCV_W |
					      PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, 9, VIEW, false), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x10000000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 0x10000000, 0x10000000,
				      4 * KiB, LEAF_RW), 0);
	cfg.fs_mode = 9;
	cfg.fs_root = pt.root + (uint64_t)VIEW;
	cfg.gs_mode = 9;
	cfg.gs_root = gpt.root;
	/* GADE = 0: the implicit access finds A = 0 in the G-stage. */
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_ACCESS_FLAG, 2, NULL);
	cfg.flags = IOTLB_WALK_RISCV_GADE;
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_ACCESS_FLAG, 1, NULL);
	cfg.flags = IOTLB_WALK_RISCV_GADE | IOTLB_WALK_RISCV_SADE;
	WALK_OK(&e, &cfg, 0x1000, WR, 0x1000, 4 * KiB, 0x10000000, RW, NULL);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x1000, 1, &ea), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &gpt, ea - RAM_GPA + VIEW_GPA, 2,
					 &ea), 0);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
	ck_assert_msg((v & (PT_RISCV_A | PT_RISCV_D)) ==
		      (PT_RISCV_A | PT_RISCV_D),
		      "G-stage leaf of the table page: %#" PRIx64 " want A|D", v);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x1000, 1, &ea), 0);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, false), 0);
	ck_assert_msg((v & (PT_RISCV_A | PT_RISCV_D)) ==
		      (PT_RISCV_A | PT_RISCV_D),
		      "first-stage leaf: %#" PRIx64 " want A|D", v);

	/* Table page read-only in the G-stage: the A update faults there. */
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x2000, 0x10000000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x2000, 1, &ea), 0);
	v = (ea - RAM_GPA) & ~(2 * MiB - 1);
	ck_assert_int_eq(pt_riscv_protect(&e.b, &gpt, VIEW_GPA + v, 2 * MiB,
					  LEAF_RO), 0);
	WALK_FAULT(&e, &cfg, 0x2000, RD, IOTLB_WALK_PERMISSION, 2, NULL);
	t_env_fini(&e);
}
END_TEST

/*
 * priv "Svadu": the A/D update is a compare-and-swap that goes back to
 * re-reading the PTE when a guest vCPU changed it meanwhile.  This test
 * is linked with --wrap=iotlb__mem_cmpxchg_u64: the wrapper plays that
 * vCPU, flipping an ignored RSW bit of the entry just before the swap.
 */
int __real_iotlb__mem_cmpxchg_u64(const struct iotlb_mem *mem, uint64_t gpa,
				  uint64_t *expected, uint64_t desired);
int __wrap_iotlb__mem_cmpxchg_u64(const struct iotlb_mem *mem, uint64_t gpa,
				  uint64_t *expected, uint64_t desired);

static struct {
	uint64_t gpa;
	uint8_t *local;		/* byte of the entry holding RSW bit 8 */
	unsigned int inject;	/* racing writes still to make */
	unsigned int calls;
} race;

int __wrap_iotlb__mem_cmpxchg_u64(const struct iotlb_mem *mem, uint64_t gpa,
				  uint64_t *expected, uint64_t desired)
{
	race.calls++;
	if (race.inject && gpa == race.gpa) {
		race.inject--;
		*race.local ^= 1;
	}
	return __real_iotlb__mem_cmpxchg_u64(mem, gpa, expected, desired);
}

static void ad_race_case(bool gstage, bool be)
{
	struct iotlb_walk_riscv_cfg cfg = { 0 };
	struct pt_riscv_pt pt;
	uint64_t ea, v;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, gstage ? 2 : 1, 8, 0, be),
			 0);
	if (gstage) {
		cfg.gs_mode = 8;
		cfg.gs_root = pt.root;
		cfg.flags = IOTLB_WALK_RISCV_GADE;
	} else {
		cfg.fs_mode = 8;
		cfg.fs_root = pt.root;
		cfg.flags = IOTLB_WALK_RISCV_SADE;
	}
	if (be)
		cfg.flags |= gstage ? IOTLB_WALK_RISCV_GBE : IOTLB_WALK_RISCV_SBE;
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x7000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x1000, 1, &ea), 0);
	race.gpa = ea;
	race.local = e.ram + (ea - RAM_GPA) + (be ? 6 : 1);

	/* Three racing writes: the walk re-reads and still sets A and D. */
	race.inject = 3;
	race.calls = 0;
	WALK_OK(&e, &cfg, 0x1000, WR, 0x1000, 4 * KiB, 0x7000, RW, NULL);
	ck_assert_uint_eq(race.calls, 4);
	ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, be), 0);
	ck_assert_msg((v & (PT_RISCV_A | PT_RISCV_D | 1ULL << 8)) ==
		      (PT_RISCV_A | PT_RISCV_D | 1ULL << 8),
		      "after racing update: pte %#" PRIx64 " want A, D and the vCPU's RSW bit",
		      v);
	/* A vCPU that never stops: the walk gives up. */
	ck_assert_int_eq(pt_riscv_write64(&e.b, ea, v & ~(PT_RISCV_A |
							  PT_RISCV_D), be), 0);
	race.inject = 1000;
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_AD_UPDATE,
		   gstage ? 2 : 1, NULL);
	race.inject = 0;
	t_env_fini(&e);
}

START_TEST(test_ad_race)
{
	ad_race_case(false, false);
	ad_race_case(false, true);
	ad_race_case(true, false);
	ad_race_case(true, true);
}
END_TEST

/* --- hostile tables --------------------------------------------------------- */

/* priv step 2 access fault: tables outside guest memory, at its very end. */
START_TEST(test_table_outside)
{
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_riscv_pt pt;
	uint64_t last = RAM_GPA + RAM_SIZE - 4 * KiB;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	fs_cfg(&e, &pt, 8, &cfg);
	/* Root outside every region. */
	cfg.fs_root = 0x1000;
	WALK_FAULT(&e, &cfg, 0, RD, IOTLB_WALK_TABLE_OUTSIDE, 1, &f);
	ck_assert_uint_eq(f.entry_gpa, 0x1000);
	ck_assert_uint_eq(f.level, 3);
	/* Root is the last page; index 511 reads the last 8 bytes. */
	cfg.fs_root = last;
	pt_riscv_write64(&e.b, last + 511 * 8, PT_RISCV_V | PT_RISCV_R |
			 PT_RISCV_U | PT_RISCV_A | (0x400000ULL << 10), false);
	WALK_OK(&e, &cfg, 0xffffffffc0001234ULL, RD, 0xffffffffc0000000ULL,
		GiB, 0x400000ULL << 12, RD, NULL);
	/* A non-leaf pointing one page past the end. */
	pt_riscv_write64(&e.b, last + 510 * 8, PT_RISCV_V |
			 (((RAM_GPA + RAM_SIZE) >> 12) << 10), false);
	WALK_FAULT(&e, &cfg, 0xffffffff80000000ULL, RD, IOTLB_WALK_TABLE_OUTSIDE, 1,
		   &f);
	ck_assert_uint_eq(f.level, 2);
	ck_assert_uint_eq(f.entry_gpa, RAM_GPA + RAM_SIZE);
	/* ... or at the top of the PPN space. */
	pt_riscv_write64(&e.b, last + 510 * 8, PT_RISCV_V |
			 (((1ULL << 44) - 1) << 10), false);
	WALK_FAULT(&e, &cfg, 0xffffffff80000000ULL, RD, IOTLB_WALK_TABLE_OUTSIDE, 1,
		   NULL);
	/* G-stage root outside memory. */
	cfg.gs_mode = 8;
	cfg.gs_root = 0x4000;
	WALK_FAULT(&e, &cfg, 0xffffffffc0000000ULL, RD, IOTLB_WALK_TABLE_OUTSIDE, 2,
		   NULL);
	/* capabilities.PAS: tables and outputs beyond it. */
	cfg.gs_mode = 0;
	cfg.pas = 34;
	WALK_FAULT(&e, &cfg, 0xffffffffc0000000ULL, RD, IOTLB_WALK_ADDR_WIDTH, 2,
		   NULL);
	cfg.pas = 31;
	WALK_FAULT(&e, &cfg, 0xffffffffc0000000ULL, RD, IOTLB_WALK_TABLE_OUTSIDE, 1,
		   NULL);
	t_env_fini(&e);
}
END_TEST

/*
 * A table that points at itself must end within the level bound: at
 * level 1 a pointer is a page fault (priv step 4, "If i < 0").
 */
START_TEST(test_self_reference)
{
	for (unsigned int mode = 8; mode <= 10; mode++) {
		unsigned int levels = mode_levels(mode);
		struct iotlb_walk_riscv_cfg cfg;
		struct iotlb_walk_faultinfo f;
		struct iotlb_walk_result res;
		struct pt_riscv_pt pt;
		struct t_env e;
		int r;

		t_env_init(&e, IOTLB_MEM_WRITABLE);
		fs_cfg(&e, &pt, mode, &cfg);
		for (unsigned int i = 0; i < 512; i++)
			pt_riscv_write64(&e.b, pt.root + i * 8, PT_RISCV_V |
					 ((pt.root >> 12) << 10), false);
		r = iotlb__walk_riscv(e.mem, &cfg, 0x123456789ULL & 0x7fffffffff,
				      RD, &res, &f, NULL);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_RESERVED && f.level == 1 &&
			      res.mem_reads == levels,
			      "mode %u self-reference: got %d (%s) level %u reads %u",
			      mode, r, fname(r, &f), f.level, res.mem_reads);

		/* Same in a G-stage root, nested under that first stage. */
		{
			struct pt_riscv_pt gpt;

			ck_assert_int_eq(pt_riscv_pt_new(&e.b, &gpt, 2, mode, 0,
							 false), 0);
			for (unsigned int i = 0; i < 2048; i++)
				pt_riscv_write64(&e.b, gpt.root + i * 8,
						 PT_RISCV_V |
						 ((gpt.root >> 12) << 10), false);
			cfg.gs_mode = (uint8_t)mode;
			cfg.gs_root = gpt.root;
			cfg.fs_root = 0;
			r = iotlb__walk_riscv(e.mem, &cfg, 0, RD, &res, &f, NULL);
			ck_assert_msg(r == IOTLB_WALK_FAULTED &&
				      f.reason == IOTLB_WALK_RESERVED &&
				      f.stage == 2 && res.mem_reads == levels,
				      "mode %u G-stage self-reference: got %d (%s) stage %u reads %u",
				      mode, r, fname(r, &f), f.stage,
				      res.mem_reads);
		}
		t_env_fini(&e);
	}
}
END_TEST

/* The widest PPN and addresses. */
START_TEST(test_huge_addresses)
{
	struct iotlb_walk_riscv_cfg cfg;
	struct pt_riscv_pt pt;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	fs_cfg(&e, &pt, 10, &cfg);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0 - 4 * KiB,
				      ((1ULL << 44) - 1) << 12, 4 * KiB,
				      LEAF_RW), 0);
	WALK_OK(&e, &cfg, UINT64_MAX, RW, 0 - 4 * KiB, 4 * KiB,
		((1ULL << 44) - 1) << 12, RW, NULL);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0, 0xff000000000000ULL,
				      256ULL << 40, LEAF_RW), 0);
	WALK_OK(&e, &cfg, 0xffffffffffffULL, RD, 0, 256ULL << 40,
		0xff000000000000ULL, RW, NULL);
	/* A PAS of 48 bits rejects that output. */
	cfg.pas = 48;
	WALK_FAULT(&e, &cfg, 0x1000, RD, IOTLB_WALK_ADDR_WIDTH, 2, NULL);
	t_env_fini(&e);
}
END_TEST

/* IOMMU 2.1.3.1 SBE / 5.4 fctl.BE: big-endian structures. */
START_TEST(test_big_endian)
{
	struct iotlb_walk_riscv_iommu iommu = {
		.caps = CAPS_ALL, .fctl = IOTLB_RISCV_FCTL_BE,
	};
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_riscv_pt gpt, pt;
	uint64_t dc[8], pdtp;
	struct t_env e;
	int r;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	/* DDT and G-stage follow fctl.BE, PDT and first stage DC.tc.SBE. */
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &gpt, 2, 8, 0, true), 0);
	for (uint64_t off = 0; off < RAM_SIZE; off += 2 * MiB)
		ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, VIEW_GPA + off,
					      RAM_GPA + off, 2 * MiB,
					      PT_RISCV_R | PT_RISCV_W |
					      PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &gpt, 0x30000000, 0x50000000,
				      2 * MiB, LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, 8, VIEW, true), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x30001000, 4 * KiB,
				      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U), 0);
	ck_assert_int_eq(pt_riscv_pdt_new(&e.b, 2, VIEW, &pdtp), 0);
	ck_assert_int_eq(pt_riscv_pdt_set(&e.b, pdtp, VIEW, true, 0x1abcd,
					  PT_RISCV_PC_V, pt_riscv_atp(&pt),
					  NULL), 0);
	ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 2, &iommu.ddtp), 0);
	dc_words(dc, PT_RISCV_TC_V | PT_RISCV_TC_PDTV | PT_RISCV_TC_SBE |
		 PT_RISCV_TC_SADE | PT_RISCV_TC_GADE, pt_riscv_atp(&gpt), 0,
		 pdtp);
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, true, 0x9999,
					  dc, NULL), 0);
	r = dc_resolve(&e, &iommu, 0x9999, 0x1abcd, IOTLB_WALK_RISCV_REQ_PID,
		       &cfg, &f);
	ck_assert_msg(r == 0 && (cfg.flags & IOTLB_WALK_RISCV_SBE) &&
		      (cfg.flags & IOTLB_WALK_RISCV_GBE),
		      "big-endian DC: got %d (%s, stage %u) flags %#x", r,
		      fname(r, &f), f.stage, cfg.flags);
	WALK_OK(&e, &cfg, 0x1010, WR, 0x1000, 4 * KiB, 0x50001000, RW, NULL);
	/* The A/D updates were written back big-endian too. */
	{
		uint64_t ea, v;

		ck_assert_int_eq(pt_riscv_entry(&e.b, &pt, 0x1000, 1, &ea), 0);
		ck_assert_int_eq(pt_riscv_read64(&e.b, ea, &v, true), 0);
		ck_assert_uint_eq(v & (PT_RISCV_A | PT_RISCV_D),
				  PT_RISCV_A | PT_RISCV_D);
	}
	/* Read little-endian, the same bytes make no sense. */
	iommu.fctl = 0;
	r = dc_resolve(&e, &iommu, 0x9999, 0x1abcd, IOTLB_WALK_RISCV_REQ_PID,
		       &cfg, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED, "little-endian view: got %d", r);
	t_env_fini(&e);
}
END_TEST

/* The trace names each structure read, in order. */
START_TEST(test_trace)
{
	struct iotlb_walk_riscv_iommu iommu = { .caps = CAPS_ALL };
	struct iotlb_walk_riscv_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_walk_trace t = { 0 };
	struct pt_riscv_pt pt;
	uint64_t dc[8];
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(pt_riscv_ddt_new(&e.b, 2, &iommu.ddtp), 0);
	ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, 8, 0, false), 0);
	ck_assert_int_eq(pt_riscv_map(&e.b, &pt, 0x1000, 0x2000, 4 * KiB,
				      LEAF_RW), 0);
	dc_words(dc, PT_RISCV_TC_V, 0, 0, pt_riscv_atp(&pt));
	ck_assert_int_eq(pt_riscv_ddt_set(&e.b, iommu.ddtp, false, false, 0x345,
					  dc, NULL), 0);
	ck_assert_int_eq(iotlb__walk_riscv_dc(e.mem, &iommu, 0x345, 0, 0, &cfg,
					      &f, &t), 0);
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0x1000, RD, &res, &f,
					   &t), 0);
	ck_assert_uint_eq(t.n, 5);
	ck_assert_str_eq(t.step[0].what, "ddte");
	ck_assert_str_eq(t.step[1].what, "dc");
	for (unsigned int i = 2; i < 5; i++) {
		ck_assert_str_eq(t.step[i].what, "pte");
		ck_assert_uint_eq(t.step[i].level, 5 - i);
		ck_assert_uint_eq(t.step[i].stage, 1);
	}
	ck_assert_uint_eq(t.step[4].entry >> 10, 2);
	t_env_fini(&e);
}
END_TEST

START_TEST(test_einval)
{
	struct iotlb_walk_riscv_iommu iommu = { .caps = CAPS_ALL,
						.ddtp = IOTLB_RISCV_DDTP_BARE };
	struct iotlb_walk_riscv_cfg cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	ck_assert_int_eq(iotlb__walk_riscv(NULL, &cfg, 0, RD, &res, &f, NULL),
			 -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, NULL, 0, RD, &res, &f, NULL),
			 -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, RD, NULL, &f, NULL),
			 -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, RD, &res, NULL, NULL),
			 -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, 0, &res, &f, NULL),
			 -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, 4, &res, &f, NULL),
			 -EINVAL);
	cfg.fs_mode = 7;
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, RD, &res, &f, NULL),
			 -EINVAL);
	cfg.fs_mode = 8;
	cfg.fs_root = 0x800;
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, RD, &res, &f, NULL),
			 -EINVAL);
	cfg.fs_mode = 0;
	cfg.gs_mode = 11;
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, RD, &res, &f, NULL),
			 -EINVAL);
	cfg.gs_mode = 0;
	cfg.flags = 1U << 31;
	ck_assert_int_eq(iotlb__walk_riscv(e.mem, &cfg, 0, RD, &res, &f, NULL),
			 -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv_dc(e.mem, &iommu, 1U << 24, 0, 0,
					      &cfg, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv_dc(e.mem, &iommu, 0, 1U << 20,
					      IOTLB_WALK_RISCV_REQ_PID, &cfg, &f,
					      NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv_dc(e.mem, &iommu, 0, 0,
					      IOTLB_WALK_RISCV_REQ_PRIV_S, &cfg,
					      &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv_dc(e.mem, &iommu, 0, 0, 1U << 5,
					      &cfg, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_riscv_dc(e.mem, NULL, 0, 0, 0, &cfg, &f,
					      NULL), -EINVAL);
	t_env_fini(&e);
}
END_TEST

/* The builder refuses what would make its record and tables disagree. */
START_TEST(test_builder_contract)
{
	struct pt_riscv_builder b;
	struct pt_riscv_pt pt, gpt;
	struct pt_riscv_rec rec;
	static uint8_t buf[64 * 1024] __attribute__((aligned(16384)));
	uint64_t gpa, ddtp;

	pt_riscv_init(&b, buf, RAM_GPA, sizeof(buf));
	ck_assert_int_eq(pt_riscv_pt_new(&b, &pt, 3, 8, 0, false), -EINVAL);
	ck_assert_int_eq(pt_riscv_pt_new(&b, &pt, 1, 11, 0, false), -EINVAL);
	ck_assert_int_eq(pt_riscv_pt_new(&b, &gpt, 2, 8, VIEW, false), -EINVAL);
	ck_assert_int_eq(pt_riscv_pt_new(&b, &pt, 1, 8, 0, false), 0);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0x1000, 0x1000, 8 * KiB,
				      LEAF_RW), -EINVAL);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0x1800, 0x1000, 4 * KiB,
				      LEAF_RW), -EINVAL);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0, 0, 512 * GiB, LEAF_RW),
			 -EINVAL);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 1ULL << 38, 0, 4 * KiB,
				      LEAF_RW), -EINVAL);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0x200000, 0, 2 * MiB, LEAF_RW),
			 0);
	/* Overlaps: same level, a leaf above, a table below. */
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0x200000, 0, 2 * MiB, LEAF_RW),
			 -EEXIST);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0x201000, 0, 4 * KiB, LEAF_RW),
			 -EEXIST);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0x1000, 0, 4 * KiB, LEAF_RW), 0);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0, 0, 2 * MiB, LEAF_RW),
			 -EEXIST);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0, 0, 64 * KiB, LEAF_RW),
			 -EEXIST);
	ck_assert_int_eq(pt_riscv_lookup(&b, &pt, 0x200123, &rec), 0);
	ck_assert_uint_eq(rec.size, 2 * MiB);
	ck_assert_int_eq(pt_riscv_unmap(&b, &pt, 0x200000, 2 * MiB), 0);
	ck_assert_int_eq(pt_riscv_lookup(&b, &pt, 0x200123, &rec), -ENOENT);
	ck_assert_int_eq(pt_riscv_protect(&b, &pt, 0x200000, 2 * MiB, LEAF_RO),
			 -ENOENT);
	ck_assert_int_eq(pt_riscv_protect(&b, &pt, 0x1000, 2 * MiB, LEAF_RO),
			 -EINVAL);
	ck_assert_int_eq(pt_riscv_unmap(&b, &pt, 1ULL << 30, GiB), 0);
	ck_assert_int_eq(pt_riscv_unmap(&b, &pt, 0x40000000, 4 * KiB), -ENOENT);
	ck_assert_int_eq(pt_riscv_entry(&b, &pt, 0, 4, &gpa), -EINVAL);
	ck_assert_int_eq(pt_riscv_ddt_new(&b, 4, &ddtp), -EINVAL);
	ck_assert_int_eq(pt_riscv_ddt_new(&b, 1, &ddtp), 0);
	ck_assert_int_eq(pt_riscv_ddt_set(&b, ddtp, false, false, 0x80, NULL,
					  NULL), -EINVAL);
	ck_assert_int_eq(pt_riscv_pdt_new(&b, 4, 0, &gpa), -EINVAL);
	ck_assert_int_eq(pt_riscv_pdt_new(&b, 1, 0, &gpa), 0);
	ck_assert_int_eq(pt_riscv_pdt_set(&b, gpa, 0, false, 256, 1, 0, NULL),
			 -EINVAL);
	/* The buffer runs out; nothing is written outside it. */
	while (pt_riscv_alloc(&b, 4 * KiB, 4 * KiB, &gpa) == 0)
		;
	ck_assert_int_eq(pt_riscv_alloc(&b, 4 * KiB, 4 * KiB, &gpa), -ENOMEM);
	ck_assert_int_eq(pt_riscv_alloc(&b, 8, 3, &gpa), -EINVAL);
	ck_assert_int_eq(pt_riscv_map(&b, &pt, 0x4000000000ULL - GiB, 0,
				      4 * KiB, LEAF_RW), -ENOMEM);
	ck_assert_int_eq(pt_riscv_write64(&b, RAM_GPA + sizeof(buf) - 4, 0,
					  false), -EFAULT);
	ck_assert_int_eq(pt_riscv_read64(&b, RAM_GPA - 8, &gpa, false), -EFAULT);
	pt_riscv_fini(&b);
}
END_TEST

/* --- randomized cross-check against the builder's record ------------------ */

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across libcs */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

static const uint64_t rnd_sizes[] = { 4 * KiB, 64 * KiB, 2 * MiB, GiB,
				      512 * GiB };

static uint64_t rnd_bits(bool gstage)
{
	static const uint64_t perms[] = {
		PT_RISCV_R, PT_RISCV_R | PT_RISCV_W,
		PT_RISCV_R | PT_RISCV_W | PT_RISCV_D,
		PT_RISCV_R | PT_RISCV_X, PT_RISCV_X,
		PT_RISCV_R | PT_RISCV_W | PT_RISCV_X | PT_RISCV_D,
	};
	uint64_t bits = perms[rnd() % IOTLB_ARRAY_SIZE(perms)] | PT_RISCV_A;

	/* Mostly U pages; G-stage ones occasionally without (a fault). */
	if (!gstage || rnd() % 8)
		bits |= PT_RISCV_U;
	else if (rnd() % 2 == 0)
		bits |= PT_RISCV_U;
	if (rnd() % 4 == 0)
		bits |= PT_RISCV_G;
	return bits;
}

/* What a leaf grants a U-mode access, and the fault when it does not. */
static enum iotlb_walk_fault leaf_expect(uint64_t bits, unsigned int access,
					 uint32_t *grant)
{
	bool r = bits & PT_RISCV_R, w = bits & PT_RISCV_W;

	*grant = 0;
	if (!(bits & PT_RISCV_U))
		return IOTLB_WALK_PERMISSION;
	if (((access & RD) && !r) || ((access & WR) && !w))
		return IOTLB_WALK_PERMISSION;
	if ((access & WR) && !(bits & PT_RISCV_D))
		return IOTLB_WALK_ACCESS_FLAG;
	*grant = (r ? RD : 0) | (w && (bits & PT_RISCV_D) ? WR : 0);
	return IOTLB_WALK_OK;
}

static void cross_check(unsigned int fmode, unsigned int gmode,
			unsigned int probes)
{
	unsigned int flevels = fmode ? mode_levels(fmode) : 0;
	unsigned int glevels = gmode ? mode_levels(gmode) : 0;
	unsigned int gwidth = 12 + 9 * glevels + 2;
	struct iotlb_walk_riscv_cfg cfg = { 0 };
	struct pt_riscv_pt gpt, pt;
	unsigned int ngt = 0, nfs = 0, nok = 0, nfault = 0;
	struct t_env e;

	t_env_init(&e, IOTLB_MEM_WRITABLE);
	if (gmode) {
		gs_new(&e, &gpt, gmode);
		cfg.gs_mode = (uint8_t)gmode;
		cfg.gs_root = gpt.root;
		/* Random G-stage leaves below VIEW_GPA. */
		for (unsigned int i = 0; i < 200 && ngt < 64; i++) {
			uint64_t size = rnd_sizes[rnd() % 4];
			uint64_t gpa = (rnd() % (VIEW_GPA / size)) * size;
			uint64_t pa = (rnd() & ((1ULL << 50) - 1)) & ~(size - 1);

			if (pt_riscv_map(&e.b, &gpt, gpa, pa, size,
					 rnd_bits(true)) == 0)
				ngt++;
		}
	}
	if (fmode) {
		ck_assert_int_eq(pt_riscv_pt_new(&e.b, &pt, 1, fmode,
						 gmode ? VIEW : 0, false), 0);
		cfg.fs_mode = (uint8_t)fmode;
		cfg.fs_root = pt.root + (uint64_t)(gmode ? VIEW : 0);
		for (unsigned int i = 0; i < 400; i++) {
			unsigned int maxs = flevels >= 4 ? 5 : 4;
			uint64_t size = rnd_sizes[rnd() % maxs];
			unsigned int vabits = 12 + 9 * flevels;
			uint64_t iova = rnd() & ~(size - 1);
			uint64_t pa;

			/* canonical: sign-extend bit vabits-1 */
			iova = (uint64_t)((int64_t)(iova << (64 - vabits)) >>
					  (64 - vabits));
			iova &= ~(size - 1);
			if (gmode && rnd() % 8) {
				/* mostly onto something the G-stage maps */
				struct pt_riscv_rec g;

				/* preferably one at least as large as the leaf */
				for (unsigned int t = 0; t < 16; t++) {
					do {
						g = e.b.rec[rnd() % e.b.nrec];
					} while (g.root != gpt.root);
					if (g.size >= size)
						break;
				}
				pa = (g.iova + rnd() % g.size) & ~(size - 1);
			} else
				pa = rnd() & ((1ULL << (gmode ? gwidth : 56)) - 1) &
				     ~(size - 1);
			if (pt_riscv_map(&e.b, &pt, iova, pa, size,
					 rnd_bits(false)) == 0)
				nfs++;
		}
		ck_assert_uint_gt(nfs, 50);
	}

	for (unsigned int n = 0; n < probes; n++) {
		unsigned int access = (unsigned int)(rnd() % 3) + 1;
		uint64_t iova, gpa, size = UINT64_MAX, want_gpa;
		uint32_t fgrant = RW, ggrant = RW;
		enum iotlb_walk_fault want = IOTLB_WALK_OK;
		unsigned int want_stage = 0;
		struct iotlb_walk_faultinfo f;
		struct iotlb_walk_result res;
		struct pt_riscv_rec rec;
		int r;

		if (rnd() % 4) {
			/* inside a mapping of the probed stage (builder record) */
			uint64_t root = fmode ? pt.root : gpt.root;

			do {
				rec = e.b.rec[rnd() % e.b.nrec];
			} while (rec.root != root);
			iova = rec.iova + ((rnd() % rec.size) & ~7ULL);
		} else {
			iova = rnd();
			if (fmode) {
				unsigned int vabits = 12 + 9 * flevels;

				iova = (uint64_t)((int64_t)(iova << (64 - vabits))
						  >> (64 - vabits));
			} else {
				iova &= (1ULL << gwidth) - 1;
			}
		}

		gpa = iova;
		if (fmode) {
			if (pt_riscv_lookup(&e.b, &pt, iova, &rec)) {
				want = IOTLB_WALK_NOT_PRESENT;
				want_stage = 1;
			} else {
				want = leaf_expect(rec.bits, access, &fgrant);
				want_stage = 1;
				gpa = rec.pa + (iova - rec.iova);
				size = rec.size;
			}
		}
		if (want == IOTLB_WALK_OK && gmode) {
			if (gpa >> gwidth) {
				want = IOTLB_WALK_ADDR_WIDTH;
			} else if (pt_riscv_lookup(&e.b, &gpt, gpa, &rec)) {
				want = IOTLB_WALK_NOT_PRESENT;
			} else {
				want = leaf_expect(rec.bits, access, &ggrant);
				gpa = rec.pa + (gpa - rec.iova);
				if (rec.size < size)
					size = rec.size;
			}
			want_stage = 2;
		}
		if (size == UINT64_MAX)
			size = GiB;
		want_gpa = gpa & ~(size - 1);

		r = iotlb__walk_riscv(e.mem, &cfg, iova, access, &res, &f, NULL);
		if (want != IOTLB_WALK_OK) {
			nfault++;
			ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == want &&
				      f.stage == want_stage,
				      "fs %u gs %u: walk iova %#" PRIx64 " access %u: got %d (%s stage %u) want %s stage %u",
				      fmode, gmode, iova, access, r, fname(r, &f),
				      f.stage, iotlb__walk_fault_name(want),
				      want_stage);
			continue;
		}
		ck_assert_msg(r == 0 && res.size == size &&
			      res.iova == (iova & ~(size - 1)) &&
			      res.gpa == want_gpa &&
			      res.perm == (fgrant & ggrant),
			      "fs %u gs %u: walk iova %#" PRIx64 " access %u: got %d (%s) iova %#" PRIx64
			      " size %#" PRIx64 " gpa %#" PRIx64 " perm %u want size %#" PRIx64
			      " gpa %#" PRIx64 " perm %u",
			      fmode, gmode, iova, access, r, fname(r, &f), res.iova,
			      res.size, res.gpa, res.perm, size, want_gpa,
			      fgrant & ggrant);
		nok++;
	}
	/* Both outcomes must be well represented, or the check is vacuous. */
	ck_assert_msg(nok > probes / 10 && nfault > probes / 10,
		      "fs %u gs %u: %u translations, %u faults of %u probes",
		      fmode, gmode, nok, nfault, probes);
	if (getenv("WALK_RISCV_VERBOSE"))
		fprintf(stderr, "fs %u gs %u: %u ok %u faults\n", fmode, gmode,
			nok, nfault);
	t_env_fini(&e);
}

START_TEST(test_random_cross_check)
{
	static const unsigned int combos[][2] = {
		{ 8, 0 }, { 9, 0 }, { 10, 0 }, { 0, 8 }, { 0, 10 },
		{ 8, 8 }, { 9, 9 }, { 10, 9 }, { 8, 10 },
	};

	for (unsigned int i = 0; i < IOTLB_ARRAY_SIZE(combos); i++) {
		rnd_state = 0x9e3779b97f4a7c15ULL + i;
		cross_check(combos[i][0], combos[i][1], 4000);
	}
}
END_TEST

static Suite *walk_riscv_suite(void)
{
	Suite *s = suite_create("walk-riscv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bare_and_off);
	tcase_add_test(tc, test_ddt_levels);
	tcase_add_test(tc, test_ddt_hostile);
	tcase_add_test(tc, test_dc_misconfig);
	tcase_add_test(tc, test_dc_extended);
	tcase_add_test(tc, test_pdt);
	tcase_add_test(tc, test_pc_modes);
	tcase_add_test(tc, test_sxl_gpa_width);
	tcase_add_test(tc, test_pid_without_pdt);
	tcase_add_test(tc, test_fs_page_sizes);
	tcase_add_test(tc, test_fs_perm_encodings);
	tcase_add_test(tc, test_fs_priv_s);
	tcase_add_test(tc, test_fs_ad_fault);
	tcase_add_test(tc, test_fs_ad_update);
	tcase_add_test(tc, test_fs_reserved);
	tcase_add_test(tc, test_fs_canonical);
	tcase_add_test(tc, test_gs_x4);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_nested_ad);
	tcase_add_test(tc, test_ad_race);
	tcase_add_test(tc, test_table_outside);
	tcase_add_test(tc, test_self_reference);
	tcase_add_test(tc, test_huge_addresses);
	tcase_add_test(tc, test_big_endian);
	tcase_add_test(tc, test_trace);
	tcase_add_test(tc, test_einval);
	tcase_add_test(tc, test_builder_contract);
	tcase_add_test(tc, test_random_cross_check);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(walk_riscv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
