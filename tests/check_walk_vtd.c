/* SPDX-License-Identifier: MIT */
/*
 * Description: Intel VT-d walker against the guest-side builder: legacy and
 * scalable-mode context resolution, first- and second-level tables of every
 * depth and page size, reserved bits, faults, A/D bits, hostile tables and
 * a randomized cross-check.  Spec sections are those of the VT-d
 * architecture specification (chapter 9 entry formats).
 */
#include "config.h"

#include <check.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "pt-vtd.h"
#include "walk-vtd.h"

#define T_GPA		0x40000000ULL	/* guest buffer: 1 GiB .. 1 GiB + 16 MiB */
#define T_SIZE		(16ULL << 20)
#define T_HAW		48

#define K4		(1ULL << 12)
#define M2		(1ULL << 21)
#define G1		(1ULL << 30)
#define RD		IOTLB_WALK_READ
#define WR		IOTLB_WALK_WRITE
#define RW		(RD | WR)

#define CAPS_ALL	0xfffU
#define SAGAW_ALL	(IOTLB_VTD_SAGAW_39 | IOTLB_VTD_SAGAW_48 | IOTLB_VTD_SAGAW_57)

struct t_env {
	void *buf;
	struct iotlb_mem *mem;
	struct pt_vtd_builder b;
	struct iotlb_vtd_iommu iommu;
};

static void t_setup_flags(struct t_env *e, uint32_t flags, int scalable)
{
	struct iotlb_mem_region r;

	memset(e, 0, sizeof(*e));
	e->buf = aligned_alloc(4096, T_SIZE);
	ck_assert_ptr_nonnull(e->buf);
	memset(e->buf, 0, T_SIZE);
	ck_assert_int_eq(iotlb_mem_new(&e->mem), 0);
	r.gpa = T_GPA;
	r.size = T_SIZE;
	r.local = e->buf;
	r.owner_addr = 0x7f0000000000ULL;
	r.flags = flags;
	ck_assert_int_eq(iotlb_mem_add_region(e->mem, &r), 0);
	ck_assert_int_eq(pt_vtd_init(&e->b, e->buf, T_GPA, T_SIZE, T_HAW), 0);
	e->iommu.caps = CAPS_ALL;
	e->iommu.haw = T_HAW;
	e->iommu.sagaw = SAGAW_ALL;
	e->iommu.scalable = (uint8_t)scalable;
	ck_assert_int_eq(pt_vtd_root_new(&e->b, &e->iommu.rta), 0);
}

static void t_setup(struct t_env *e, int scalable)
{
	t_setup_flags(e, IOTLB_MEM_WRITABLE, scalable);
}

static void t_teardown(struct t_env *e)
{
	iotlb_mem_unref(e->mem);
	free(e->buf);
}

static const char *t_name(int r, const struct iotlb_walk_faultinfo *f)
{
	if (r == IOTLB_WALK_FAULTED)
		return iotlb__walk_fault_name(f->reason);
	return r == 0 ? "ok" : "error";
}

#define T_FAULT(r, f, want, fmt, ...)                                        \
	ck_assert_msg((r) == IOTLB_WALK_FAULTED && (f).reason == (want),      \
		      fmt ": got %d (%s) want " #want, __VA_ARGS__, (r),     \
		      t_name((r), &(f)))

#define T_OK(r, f, fmt, ...)                                                  \
	ck_assert_msg((r) == 0, fmt ": got %d (%s) want 0", __VA_ARGS__, (r), \
		      t_name((r), &(f)))

static void t_check_res(const struct iotlb_walk_result *res, uint64_t iova,
			uint64_t size, uint64_t gpa, unsigned int perm,
			unsigned int level)
{
	ck_assert_msg(res->iova == iova && res->size == size && res->gpa == gpa,
		      "leaf: got iova %#" PRIx64 " size %#" PRIx64 " gpa %#" PRIx64
		      " want %#" PRIx64 " %#" PRIx64 " %#" PRIx64,
		      res->iova, res->size, res->gpa, iova, size, gpa);
	ck_assert_msg(res->perm == perm, "leaf %#" PRIx64 ": got perm %u want %u",
		      iova, res->perm, perm);
	ck_assert_msg(res->level == level, "leaf %#" PRIx64 ": got level %u want %u",
		      iova, res->level, level);
}

/* Legacy device sid with a fresh second-level table of aw + 2 levels. */
static void t_legacy_dev(struct t_env *e, uint16_t sid, unsigned int aw,
			 uint16_t did, struct pt_vtd_table *t)
{
	struct pt_vtd_context c = { 0 };

	ck_assert_int_eq(pt_vtd_table_new(&e->b, t, PT_VTD_SECOND_LEVEL, aw + 2), 0);
	c.tt = 0;
	c.aw = aw;
	c.did = did;
	c.slptptr = t->root;
	ck_assert_int_eq(pt_vtd_legacy_context(&e->b, e->iommu.rta, sid >> 8,
					       sid & 0xff, &c), 0);
}

/* Scalable-mode device: context entry with a PASID directory (PDTS=7). */
static uint64_t t_sm_dev(struct t_env *e, uint16_t sid, uint32_t rid_pasid,
			 int paside, int priv)
{
	struct pt_vtd_sm_context c = { 0 };
	uint64_t dir;

	c.pdts = 7;
	c.rid_pasid = rid_pasid;
	c.pasid_enable = paside;
	c.rid_priv = priv;
	ck_assert_int_eq(pt_vtd_sm_context(&e->b, e->iommu.rta, sid >> 8,
					   sid & 0xff, &c, &dir), 0);
	return dir;
}

static void t_sm_pasid(struct t_env *e, uint64_t dir, uint32_t pasid,
		       unsigned int pgtt, const struct pt_vtd_table *t,
		       uint16_t did)
{
	struct pt_vtd_pasid p = { 0 };

	p.pgtt = pgtt;
	p.did = did;
	if (pgtt == 1) {
		p.flptptr = t->root;
		p.flpm = t->levels - 4;
	} else if (pgtt == 2) {
		p.slptptr = t->root;
		p.aw = t->levels - 2;
	} else {
		p.aw = 2;
	}
	ck_assert_int_eq(pt_vtd_sm_pasid(&e->b, dir, pasid, &p), 0);
}

static int t_ctx(struct t_env *e, uint16_t sid, uint32_t pasid,
		 struct iotlb_vtd_pgtable *cfg, struct iotlb_walk_faultinfo *f)
{
	memset(f, 0, sizeof(*f));
	return iotlb__walk_vtd_context(e->mem, &e->iommu, sid, pasid, cfg, f, NULL);
}

static int t_walk(struct t_env *e, uint16_t sid, uint32_t pasid, uint64_t iova,
		  unsigned int access, struct iotlb_walk_result *res,
		  struct iotlb_walk_faultinfo *f)
{
	struct iotlb_vtd_pgtable cfg;
	int r = t_ctx(e, sid, pasid, &cfg, f);

	if (r)
		return r;
	return iotlb__walk_vtd(e->mem, &cfg, iova, access, res, f, NULL);
}

static uint64_t t_rd(struct t_env *e, uint64_t gpa)
{
	uint64_t v;

	ck_assert_int_eq(pt_vtd_read64(&e->b, gpa, &v), 0);
	return v;
}

static void t_wr(struct t_env *e, uint64_t gpa, uint64_t v)
{
	ck_assert_int_eq(pt_vtd_write64(&e->b, gpa, v), 0);
}

static uint64_t t_entry(struct t_env *e, const struct pt_vtd_table *t,
			uint64_t iova, unsigned int level)
{
	uint64_t gpa;

	ck_assert_int_eq(pt_vtd_entry_gpa(&e->b, t, iova, level, &gpa), 0);
	return gpa;
}

/* 3.4.2 / 9.1 / 9.3 / 9.8: legacy mode, every depth and page size. */
START_TEST(test_legacy_sl_levels)
{
	static const uint64_t page[] = { K4, M2, G1 };
	unsigned int aw = (unsigned int)_i + 1, i;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table t;
	struct t_env e;
	int r;

	t_setup(&e, 0);
	t_legacy_dev(&e, 0x0310, aw, 42, &t);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pt_vtd_map(&e.b, &t, (i + 1) * 4 * G1,
					    (i + 2) * 4 * G1, 2 * page[i],
					    page[i], PT_VTD_R | PT_VTD_W), 0);

	r = t_ctx(&e, 0x0310, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_OK(r, f, "context of 03:02.0 aw %u", aw);
	ck_assert_int_eq(cfg.format, IOTLB_VTD_FMT_SL);
	ck_assert_uint_eq(cfg.levels, aw + 2);
	ck_assert_uint_eq(cfg.aw, 30 + 9 * aw);
	ck_assert_uint_eq(cfg.did, 42);
	ck_assert_uint_eq(cfg.root, t.root);
	ck_assert_uint_eq(cfg.pasid, IOTLB_VTD_NO_PASID);

	for (i = 0; i < 3; i++) {
		uint64_t iova = (i + 1) * 4 * G1 + page[i] + 0x123;

		r = iotlb__walk_vtd(e.mem, &cfg, iova, RD, &res, &f, NULL);
		T_OK(r, f, "walk iova %#" PRIx64, iova);
		t_check_res(&res, iova & ~(page[i] - 1), page[i],
			    (i + 2) * 4 * G1 + page[i], RW, i + 1);
		ck_assert_uint_eq(res.mem_reads, aw + 2 - i);
	}
	/* Next to a 1 GiB page there is nothing. */
	r = iotlb__walk_vtd(e.mem, &cfg, 14 * G1, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_NOT_PRESENT, "walk iova %#llx", 14 * G1);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* 9.3: TT encodings, AW against SAGAW, pass-through results. */
START_TEST(test_legacy_tt_aw)
{
	struct pt_vtd_context c = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table t;
	struct t_env e;
	int r;

	t_setup(&e, 0);
	t_legacy_dev(&e, 0x0008, 2, 7, &t);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x200000, 0x300000, K4, K4,
				    PT_VTD_R), 0);
	c.aw = 2;
	c.did = 7;
	c.slptptr = t.root;

	/* TT=01b behaves as 00b for untranslated requests, needs ECAP.DT. */
	c.tt = 1;
	ck_assert_int_eq(pt_vtd_legacy_context(&e.b, e.iommu.rta, 0, 8, &c), 0);
	r = t_walk(&e, 0x0008, IOTLB_VTD_NO_PASID, 0x200010, RD, &res, &f);
	T_OK(r, f, "TT=01b walk %#x", 0x200010);
	t_check_res(&res, 0x200000, K4, 0x300000, RD, 1);
	e.iommu.caps &= ~IOTLB_VTD_CAP_DT;
	r = t_ctx(&e, 0x0008, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "TT=01b without DT%s", "");
	e.iommu.caps = CAPS_ALL;

	/* TT=10b: pass-through, 1 GiB identity blocks bounded by AW. */
	c.tt = 2;
	ck_assert_int_eq(pt_vtd_legacy_context(&e.b, e.iommu.rta, 0, 8, &c), 0);
	r = t_walk(&e, 0x0008, IOTLB_VTD_NO_PASID, 0x1234567890ULL, WR, &res, &f);
	T_OK(r, f, "PT walk %#llx", 0x1234567890ULL);
	t_check_res(&res, 0x1200000000ULL, G1, 0x1200000000ULL, RW, 0);
	ck_assert_uint_eq(res.mem_reads, 0);
	r = t_walk(&e, 0x0008, IOTLB_VTD_NO_PASID, 1ULL << 48, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_ADDR_WIDTH, "PT iova %#llx beyond AW 48", 1ULL << 48);
	e.iommu.caps &= ~IOTLB_VTD_CAP_PT;
	r = t_ctx(&e, 0x0008, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "TT=10b without ECAP.PT%s", "");
	e.iommu.caps = CAPS_ALL;

	/* TT=11b is reserved. */
	c.tt = 3;
	ck_assert_int_eq(pt_vtd_legacy_context(&e.b, e.iommu.rta, 0, 8, &c), 0);
	r = t_ctx(&e, 0x0008, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "TT=11b%s", "");

	/* AW 000b, 100b..111b reserved; 010b reserved when SAGAW lacks it. */
	c.tt = 0;
	c.aw = 0;
	ck_assert_int_eq(pt_vtd_legacy_context(&e.b, e.iommu.rta, 0, 8, &c), 0);
	r = t_ctx(&e, 0x0008, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "AW=%u", c.aw);
	c.aw = 4;
	ck_assert_int_eq(pt_vtd_legacy_context(&e.b, e.iommu.rta, 0, 8, &c), 0);
	r = t_ctx(&e, 0x0008, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "AW=%u", c.aw);
	c.aw = 2;
	ck_assert_int_eq(pt_vtd_legacy_context(&e.b, e.iommu.rta, 0, 8, &c), 0);
	e.iommu.sagaw = IOTLB_VTD_SAGAW_39;
	r = t_ctx(&e, 0x0008, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "AW=2 with SAGAW %#x", e.iommu.sagaw);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* 9.1 / 9.3: root and context entry presence and reserved bits. */
START_TEST(test_legacy_context_faults)
{
	static const struct {
		unsigned int qword;
		unsigned int bit;
	} ce_rsvd[] = { { 0, 4 }, { 0, 11 }, { 0, T_HAW }, { 0, 63 },
			{ 1, 7 }, { 1, 24 }, { 1, 63 } };
	struct iotlb_walk_faultinfo f;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table t;
	uint64_t re, ce, v;
	struct t_env e;
	unsigned int i;
	int r;

	t_setup(&e, 0);
	/* Nothing programmed for bus 5: root entry not present. */
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_CONTEXT_INVALID, "empty root entry bus %d", 5);
	ck_assert_uint_eq(f.level, 0);
	ck_assert_uint_eq(f.entry_gpa, e.iommu.rta + 5 * 16);

	t_legacy_dev(&e, 0x0500, 2, 1, &t);
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_OK(r, f, "context 05:00.0%s", "");
	/* Another function on the same bus: context entry not present. */
	r = t_ctx(&e, 0x0501, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_CONTEXT_INVALID, "empty context 05:00.%d", 1);

	/* Root entry: bits 11:1, 63:HAW and all of 127:64 are reserved. */
	re = pt_vtd_root_entry_gpa(e.iommu.rta, 5);
	v = t_rd(&e, re);
	t_wr(&e, re, v | 2);
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "root entry bit %d", 1);
	t_wr(&e, re, v | (1ULL << T_HAW));
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "root entry bit %d", T_HAW);
	t_wr(&e, re, v);
	t_wr(&e, re + 8, 1ULL << 40);
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "root entry bit %d", 104);
	t_wr(&e, re + 8, 0);

	ck_assert_int_eq(pt_vtd_context_entry_gpa(&e.b, e.iommu.rta, 5, 0, 0, &ce), 0);
	for (i = 0; i < sizeof(ce_rsvd) / sizeof(ce_rsvd[0]); i++) {
		uint64_t q = ce + 8 * ce_rsvd[i].qword;

		v = t_rd(&e, q);
		t_wr(&e, q, v | (1ULL << ce_rsvd[i].bit));
		r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
		T_FAULT(r, f, IOTLB_WALK_RESERVED, "context qword %u bit %u",
			ce_rsvd[i].qword, ce_rsvd[i].bit);
		t_wr(&e, q, v);
	}
	/* FPD (bit 1) and the ignored bits 70:67 change nothing. */
	v = t_rd(&e, ce);
	t_wr(&e, ce, v | 2);
	t_wr(&e, ce + 8, t_rd(&e, ce + 8) | 0x78);
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_OK(r, f, "context with FPD and ignored bits%s", "");
	ck_assert_uint_eq(cfg.did, 1);

	/* Context table pointer outside guest memory. */
	t_wr(&e, re, 0x7000000000ULL | 1);
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_TABLE_OUTSIDE, "context table at %#llx", 0x7000000000ULL);
	ck_assert_uint_eq(f.entry_gpa, 0x7000000000ULL);
	/* Root table outside guest memory. */
	e.iommu.rta = 0x1000;
	r = t_ctx(&e, 0x0500, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_TABLE_OUTSIDE, "root table at %#x", 0x1000);

	/* Caller errors. */
	r = iotlb__walk_vtd_context(e.mem, &e.iommu, 0, 5, &cfg, &f, NULL);
	ck_assert_msg(r == -EINVAL, "PASID in legacy mode: got %d want -EINVAL", r);
	e.iommu.rta = 0x1008;
	r = iotlb__walk_vtd_context(e.mem, &e.iommu, 0, IOTLB_VTD_NO_PASID, &cfg, &f, NULL);
	ck_assert_msg(r == -EINVAL, "unaligned RTA: got %d want -EINVAL", r);
	e.iommu.rta = 0x1000;
	e.iommu.haw = 60;
	r = iotlb__walk_vtd_context(e.mem, &e.iommu, 0, IOTLB_VTD_NO_PASID, &cfg, &f, NULL);
	ck_assert_msg(r == -EINVAL, "HAW 60: got %d want -EINVAL", r);
	ck_assert_int_eq(iotlb__walk_vtd_context(NULL, &e.iommu, 0, 0, &cfg, &f, NULL),
			 -EINVAL);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* 3.4.3 / 9.2 / 9.4 / 9.5 / 9.6: scalable mode, every PGTT we translate. */
START_TEST(test_scalable_modes)
{
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table sl, fl;
	uint64_t dir_lo, dir_hi;
	struct t_env e;
	int r;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &sl, PT_VTD_SECOND_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &fl, PT_VTD_FIRST_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &sl, 0x10000, 0x7770000, K4, K4,
				    PT_VTD_W), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &fl, 0x10000, 0x8880000, K4, K4,
				    PT_VTD_R), 0);

	/* devfn 0x10 uses the lower context table, 0x90 the upper one. */
	dir_lo = t_sm_dev(&e, 0x0210, 0, 1, 0);
	dir_hi = t_sm_dev(&e, 0x0290, 5, 0, 0);
	t_sm_pasid(&e, dir_lo, 0, 2, &sl, 11);		/* RID_PASID: SL */
	t_sm_pasid(&e, dir_lo, 0x4321, 1, &fl, 12);	/* PASID 0x4321: FL */
	t_sm_pasid(&e, dir_lo, 77, 4, NULL, 13);	/* PASID 77: PT */
	t_sm_pasid(&e, dir_hi, 5, 1, &fl, 14);		/* RID_PASID 5: FL */

	r = t_walk(&e, 0x0210, IOTLB_VTD_NO_PASID, 0x10008, WR, &res, &f);
	T_OK(r, f, "SL via RID_PASID %d", 0);
	t_check_res(&res, 0x10000, K4, 0x7770000, WR, 1);
	ck_assert_int_eq(t_ctx(&e, 0x0210, IOTLB_VTD_NO_PASID, &cfg, &f), 0);
	ck_assert_uint_eq(cfg.did, 11);
	ck_assert_uint_eq(cfg.pasid, 0);
	ck_assert_uint_eq(cfg.flags & IOTLB_VTD_PGT_WITH_PASID, 0);

	r = t_walk(&e, 0x0210, 0x4321, 0x10008, RD, &res, &f);
	T_OK(r, f, "FL via PASID %#x", 0x4321);
	t_check_res(&res, 0x10000, K4, 0x8880000, RD, 1);
	ck_assert_int_eq(t_ctx(&e, 0x0210, 0x4321, &cfg, &f), 0);
	ck_assert_int_eq(cfg.format, IOTLB_VTD_FMT_FL);
	ck_assert_uint_eq(cfg.did, 12);
	ck_assert_uint_eq(cfg.levels, 4);
	ck_assert_uint_eq(cfg.aw, 48);
	ck_assert_uint_ne(cfg.flags & IOTLB_VTD_PGT_WITH_PASID, 0);

	r = t_walk(&e, 0x0210, 77, 0x87654321ULL, RW, &res, &f);
	T_OK(r, f, "PT via PASID %d", 77);
	t_check_res(&res, 0x80000000ULL, G1, 0x80000000ULL, RW, 0);

	r = t_walk(&e, 0x0290, IOTLB_VTD_NO_PASID, 0x10000, RD, &res, &f);
	T_OK(r, f, "upper context table, RID_PASID %d", 5);
	t_check_res(&res, 0x10000, K4, 0x8880000, RD, 1);
	ck_assert_int_eq(t_ctx(&e, 0x0290, IOTLB_VTD_NO_PASID, &cfg, &f), 0);
	ck_assert_uint_eq(cfg.did, 14);
	ck_assert_uint_eq(cfg.pasid, 5);

	/* PASIDE=0 blocks requests with PASID. */
	r = t_walk(&e, 0x0290, 5, 0x10000, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_BLOCKED, "PASID request with PASIDE=0 %d", 5);
	/* A PASID whose directory entry or table entry is empty. */
	r = t_walk(&e, 0x0210, 0x8000, 0x10000, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_CONTEXT_INVALID, "PASID %#x: empty dir entry", 0x8000);
	r = t_walk(&e, 0x0210, 0x4322, 0x10000, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_CONTEXT_INVALID, "PASID %#x: empty table entry", 0x4322);
	/* Caller errors: PASID beyond 20 bits. */
	r = iotlb__walk_vtd_context(e.mem, &e.iommu, 0x210, 1U << 20, &cfg, &f, NULL);
	ck_assert_msg(r == -EINVAL, "PASID 2^20: got %d want -EINVAL", r);
	pt_vtd_table_free(&sl);
	pt_vtd_table_free(&fl);
	t_teardown(&e);
}
END_TEST

/* 9.4 PDTS, 9.2 / 9.4 / 9.5 / 9.6 reserved fields and PGTT encodings. */
START_TEST(test_scalable_faults)
{
	struct pt_vtd_sm_context c = { 0 };
	struct pt_vtd_pasid p = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table sl;
	uint64_t dir, ce, pe, re, v;
	struct t_env e;
	unsigned int i;
	int r;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &sl, PT_VTD_SECOND_LEVEL, 4), 0);
	/* PDTS=0: 128 directory entries, PASIDs up to 8191. */
	c.pdts = 0;
	c.pasid_enable = 1;
	ck_assert_int_eq(pt_vtd_sm_context(&e.b, e.iommu.rta, 1, 0, &c, &dir), 0);
	t_sm_pasid(&e, dir, 8191, 2, &sl, 3);
	t_sm_pasid(&e, dir, 0, 2, &sl, 3);
	r = t_ctx(&e, 0x0100, 8191, &cfg, &f);
	T_OK(r, f, "PASID %d with PDTS=0", 8191);
	/* Entry 128 exists in memory and is valid: only PDTS stops it. */
	t_wr(&e, dir + 128 * 8, t_rd(&e, dir + 127 * 8));
	r = t_ctx(&e, 0x0100, 8192 + 63, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_CONTEXT_INVALID, "PASID %d beyond PDTS=0", 8192 + 63);
	t_wr(&e, dir + 128 * 8, 0);

	/* Root entry: only the half in use, bits 11:1 and 63:HAW. */
	re = pt_vtd_root_entry_gpa(e.iommu.rta, 1);
	v = t_rd(&e, re);
	t_wr(&e, re, v | 0x800);
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "SM root entry bit %d", 11);
	t_wr(&e, re, v);
	r = t_ctx(&e, 0x0180, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_CONTEXT_INVALID, "upper half not present %d", 0);

	/* Context entry (256 bits): 8:5, 63:HAW, 127:85, 255:128; DTE w/o DT. */
	ck_assert_int_eq(pt_vtd_context_entry_gpa(&e.b, e.iommu.rta, 1, 0, 1, &ce), 0);
	{
		static const unsigned int bits[] = { 5, 8, T_HAW, 85, 127, 128, 200, 255 };

		for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
			uint64_t q = ce + 8 * (bits[i] / 64);

			v = t_rd(&e, q);
			t_wr(&e, q, v | (1ULL << (bits[i] % 64)));
			r = t_ctx(&e, 0x0100, 0, &cfg, &f);
			T_FAULT(r, f, IOTLB_WALK_RESERVED, "SM context bit %u", bits[i]);
			t_wr(&e, q, v);
		}
	}
	v = t_rd(&e, ce);
	t_wr(&e, ce, v | 4);
	e.iommu.caps &= ~IOTLB_VTD_CAP_DT;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "DTE without ECAP.DT%s", "");
	e.iommu.caps = CAPS_ALL;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_OK(r, f, "DTE with ECAP.DT%s", "");
	t_wr(&e, ce, v);

	/* PASID directory entry: 11:2 and 63:HAW. */
	v = t_rd(&e, dir);
	t_wr(&e, dir, v | 4);
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "PASID dir entry bit %d", 2);
	t_wr(&e, dir, v | (1ULL << 60));
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "PASID dir entry bit %d", 60);
	t_wr(&e, dir, v);

	/* PASID table entry: 11:10, 86:80, 139:136, 511:192. */
	ck_assert_int_eq(pt_vtd_pasid_entry_gpa(&e.b, dir, 0, &pe), 0);
	{
		static const unsigned int bits[] = { 10, 11, 80, 86, 136, 139, 192, 300, 511 };

		for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
			uint64_t q = pe + 8 * (bits[i] / 64);

			v = t_rd(&e, q);
			t_wr(&e, q, v | (1ULL << (bits[i] % 64)));
			r = t_ctx(&e, 0x0100, 0, &cfg, &f);
			T_FAULT(r, f, IOTLB_WALK_RESERVED, "PASID entry bit %u", bits[i]);
			t_wr(&e, q, v);
		}
	}
	/* SLPTPTR above HAW. */
	v = t_rd(&e, pe);
	t_wr(&e, pe, v | (1ULL << 50));
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "SLPTPTR bit %d", 50);
	t_wr(&e, pe, v);

	/* PGTT: 011b nested is unsupported, 000b and 101b..111b reserved. */
	p.aw = 2;
	p.slptptr = sl.root;
	for (i = 0; i < 8; i++) {
		p.pgtt = i;
		ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
		r = t_ctx(&e, 0x0100, 0, &cfg, &f);
		if (i == 3)
			T_FAULT(r, f, IOTLB_WALK_UNSUPPORTED, "PGTT %u", i);
		else if (i == 0 || i > 4)
			T_FAULT(r, f, IOTLB_WALK_RESERVED, "PGTT %u", i);
		else
			T_OK(r, f, "PGTT %u", i);
	}
	/* PGTTs the unit does not report are reserved. */
	p.pgtt = 2;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	e.iommu.caps &= ~IOTLB_VTD_CAP_SLTS;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "PGTT=010b without SLTS%s", "");
	e.iommu.caps = CAPS_ALL;
	p.aw = 0;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "SL with AW=%u", p.aw);
	p.aw = 2;
	p.slade = 1;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	e.iommu.caps &= ~IOTLB_VTD_CAP_SLADS;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "SLADE without SLADS%s", "");
	e.iommu.caps = CAPS_ALL;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_OK(r, f, "SLADE with SLADS%s", "");
	ck_assert_uint_ne(cfg.flags & IOTLB_VTD_PGT_SLADE, 0);

	/* FL: FLPM 10b/11b reserved, 01b needs FL5LP; SRE, EAFE need caps. */
	memset(&p, 0, sizeof(p));
	p.pgtt = 1;
	p.flptptr = sl.root;
	p.flpm = 2;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "FLPM %u", p.flpm);
	p.flpm = 1;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	e.iommu.caps &= ~IOTLB_VTD_CAP_FL5L;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "FLPM 1 without FL5LP%s", "");
	e.iommu.caps = CAPS_ALL;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_OK(r, f, "FLPM 1 with FL5LP%s", "");
	ck_assert_uint_eq(cfg.levels, 5);
	ck_assert_uint_eq(cfg.aw, 57);
	p.sre = 1;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	e.iommu.caps &= ~IOTLB_VTD_CAP_SRS;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "SRE without SRS%s", "");
	e.iommu.caps = CAPS_ALL;
	p.sre = 0;
	p.eafe = 1;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	e.iommu.caps &= ~IOTLB_VTD_CAP_EAFS;
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "EAFE without EAFS%s", "");
	e.iommu.caps = CAPS_ALL;
	/* FLPTPTR above HAW. */
	p.eafe = 0;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	v = t_rd(&e, pe + 16);
	t_wr(&e, pe + 16, v | (1ULL << 63));
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "FLPTPTR bit %d", 63);

	/* The PASID table entry outside guest memory. */
	t_wr(&e, dir, 0x7000000000ULL | 1);
	r = t_ctx(&e, 0x0100, 0, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_TABLE_OUTSIDE, "PASID table at %#llx", 0x7000000000ULL);
	pt_vtd_table_free(&sl);
	t_teardown(&e);
}
END_TEST

/* 3.7.1 / 9.8: R and W ANDed across levels; the full grant returned. */
START_TEST(test_sl_permissions)
{
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table t;
	struct t_env e;
	uint64_t pde, v;
	int r;

	t_setup(&e, 0);
	t_legacy_dev(&e, 0x0100, 2, 1, &t);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x1000, 0x101000, K4, K4, PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x2000, 0x102000, K4, K4, PT_VTD_W), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x3000, 0x103000, K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	ck_assert_int_eq(t_ctx(&e, 0x0100, IOTLB_VTD_NO_PASID, &cfg, &f), 0);

	/* A read of a RW page reports RW, not just R. */
	r = iotlb__walk_vtd(e.mem, &cfg, 0x3000, RD, &res, &f, NULL);
	T_OK(r, f, "read RW page %#x", 0x3000);
	ck_assert_uint_eq(res.perm, RW);
	/* Asking for nothing still reports the grant. */
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, 0, &res, &f, NULL);
	T_OK(r, f, "grant query %#x", 0x1000);
	ck_assert_uint_eq(res.perm, RD);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, WR, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "write to R page %#x", 0x1000);
	ck_assert_uint_eq(f.level, 1);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x2000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "read of W page %#x", 0x2000);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x2000, WR, &res, &f, NULL);
	T_OK(r, f, "write to W page %#x", 0x2000);
	ck_assert_uint_eq(res.perm, WR);

	/* A read-only PDE takes W away from every page below it. */
	pde = t_entry(&e, &t, 0x3000, 2);
	v = t_rd(&e, pde);
	t_wr(&e, pde, v & ~2ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x3000, RD, &res, &f, NULL);
	T_OK(r, f, "RW page under R PDE %#x", 0x3000);
	ck_assert_uint_eq(res.perm, RD);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x3000, WR, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "write under R PDE %#x", 0x3000);
	/* R-only PDE above a W-only page: no access at all. */
	r = iotlb__walk_vtd(e.mem, &cfg, 0x2000, 0, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "W page under R PDE %#x", 0x2000);
	/* Neither R nor W: not present (9.8), at a non-leaf level too. */
	t_wr(&e, pde, v & ~3ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x3000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_NOT_PRESENT, "PDE without R/W %#x", 0x3000);
	ck_assert_uint_eq(f.level, 2);
	ck_assert_uint_eq(f.entry_gpa, pde);
	ck_assert_uint_eq(f.entry, v & ~3ULL);
	ck_assert_uint_eq(f.addr, 0x3000);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* 9.8: PS=1 only where CAP.SLLPS says; never in SL-PML4E/PML5E. */
START_TEST(test_sl_superpage_caps)
{
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table t;
	struct t_env e;
	uint64_t pml4;
	int r;

	t_setup(&e, 0);
	t_legacy_dev(&e, 0x0100, 2, 1, &t);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, M2, 4 * M2, M2, M2, PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, G1, 4 * G1, G1, G1, PT_VTD_R), 0);

	e.iommu.caps &= ~IOTLB_VTD_CAP_SL2M;
	r = t_walk(&e, 0x0100, IOTLB_VTD_NO_PASID, M2, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "2 MiB page without SLLPS bit 0 %d", 0);
	ck_assert_uint_eq(f.level, 2);
	r = t_walk(&e, 0x0100, IOTLB_VTD_NO_PASID, G1, RD, &res, &f);
	T_OK(r, f, "1 GiB page with SLLPS bit 1 %d", 1);
	e.iommu.caps = CAPS_ALL & ~IOTLB_VTD_CAP_SL1G;
	r = t_walk(&e, 0x0100, IOTLB_VTD_NO_PASID, G1, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "1 GiB page without SLLPS bit 1 %d", 1);
	ck_assert_uint_eq(f.level, 3);
	e.iommu.caps = CAPS_ALL;

	/* PS in the SL-PML4E: reserved, whatever SLLPS says. */
	ck_assert_int_eq(t_ctx(&e, 0x0100, IOTLB_VTD_NO_PASID, &cfg, &f), 0);
	pml4 = t_entry(&e, &t, G1, 4);
	t_wr(&e, pml4, t_rd(&e, pml4) | 0x80);
	r = iotlb__walk_vtd(e.mem, &cfg, G1, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "PS in SL-PML4E %d", 4);
	ck_assert_uint_eq(f.level, 4);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/*
 * Every bit of every entry kind, against the spec's formats (9.7, 9.8):
 * reserved bits fault, ignored bits change nothing, address bits of a
 * leaf move the result.  Bits 1:0 (SL) and 2:0 (FL) are the access bits.
 */
enum t_bit { T_IGN, T_RSVD, T_ADDR, T_SKIP };

static enum t_bit t_sl_bit(unsigned int level, int leaf, unsigned int bit,
			   int snp)
{
	unsigned int lo = leaf ? 12 + 9 * (level - 1) : 12;

	if (bit <= 1 || (bit == 7 && !leaf && level <= 3) || (bit == 7 && leaf && level > 1))
		return T_SKIP;
	if (bit >= 12 && bit < lo)
		return T_RSVD;		/* super page offset bits */
	if (bit >= lo && bit < T_HAW)
		return leaf ? T_ADDR : T_SKIP;
	if (bit >= T_HAW && bit <= 51)
		return T_RSVD;
	if (bit == 62)
		return T_RSVD;		/* TM, removed in rev 3.2 */
	if (bit == 11)
		return leaf && snp ? T_IGN : T_RSVD;
	if (bit == 7)
		return leaf ? T_IGN : T_RSVD;	/* PS in SL-PML4E / SL-PML5E */
	return T_IGN;
}

static enum t_bit t_fl_bit(unsigned int level, int leaf, unsigned int bit)
{
	unsigned int lo = leaf ? 12 + 9 * (level - 1) : 12;

	if (bit <= 2 || (bit == 7 && (level == 2 || level == 3)))
		return T_SKIP;
	if (bit == 7)
		return level == 1 ? T_IGN : T_RSVD;	/* PAT / PS in PML4E, PML5E */
	if (bit == 12 && leaf && level > 1)
		return T_IGN;		/* PAT of a super page */
	if (bit >= 13 && bit < lo)
		return T_RSVD;
	if (bit >= lo && bit < T_HAW)
		return leaf ? T_ADDR : T_SKIP;
	if (bit >= T_HAW && bit <= 51)
		return T_RSVD;
	return T_IGN;			/* incl. 62:52 and XD */
}

static void t_bits_one(struct t_env *e, const struct iotlb_vtd_pgtable *cfg,
		       const struct pt_vtd_table *t, uint64_t iova,
		       unsigned int level, int leaf, uint64_t page, uint64_t gpa,
		       int snp)
{
	uint64_t egpa = t_entry(e, t, iova, level), orig = t_rd(e, egpa);
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		enum t_bit k = cfg->format == IOTLB_VTD_FMT_SL ?
			t_sl_bit(level, leaf, bit, snp) : t_fl_bit(level, leaf, bit);
		int r;

		if (k == T_SKIP)
			continue;
		t_wr(e, egpa, orig ^ (1ULL << bit));
		r = iotlb__walk_vtd(e->mem, cfg, iova, RD, &res, &f, NULL);
		if (k == T_RSVD) {
			T_FAULT(r, f, IOTLB_WALK_RESERVED,
				"fmt %d level %u leaf %d bit %u", cfg->format,
				level, leaf, bit);
			ck_assert_uint_eq(f.level, level);
		} else {
			T_OK(r, f, "fmt %d level %u leaf %d bit %u", cfg->format,
			     level, leaf, bit);
			ck_assert_msg(res.size == page &&
				      res.gpa == (k == T_ADDR ? gpa ^ (1ULL << bit) : gpa),
				      "fmt %d level %u bit %u: got gpa %#" PRIx64
				      " size %#" PRIx64, cfg->format, level, bit,
				      res.gpa, res.size);
		}
		t_wr(e, egpa, orig);
	}
}

START_TEST(test_reserved_bits)
{
	int fl = _i & 1, snp = (_i >> 1) & 1;
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct pt_vtd_table t;
	struct t_env e;
	unsigned int l;

	t_setup(&e, 0);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, fl ? PT_VTD_FIRST_LEVEL :
					  PT_VTD_SECOND_LEVEL, 5), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x5000, 0x100000000ULL, K4, K4,
				    PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 5 * M2, 0x200000000ULL, M2, M2,
				    PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 5 * G1, 0x300000000ULL, G1, G1,
				    PT_VTD_R), 0);
	cfg.format = fl ? IOTLB_VTD_FMT_FL : IOTLB_VTD_FMT_SL;
	cfg.root = t.root;
	cfg.levels = 5;
	cfg.aw = 57;
	cfg.haw = T_HAW;
	cfg.flags = IOTLB_VTD_PGT_SL2M | IOTLB_VTD_PGT_SL1G | IOTLB_VTD_PGT_FL1G |
		    (snp ? IOTLB_VTD_PGT_SNP : 0);

	for (l = 5; l >= 2; l--)
		t_bits_one(&e, &cfg, &t, 0x5000, l, 0, K4, 0x100000000ULL, snp);
	t_bits_one(&e, &cfg, &t, 0x5000, 1, 1, K4, 0x100000000ULL, snp);
	t_bits_one(&e, &cfg, &t, 5 * M2, 2, 1, M2, 0x200000000ULL, snp);
	t_bits_one(&e, &cfg, &t, 5 * G1, 3, 1, G1, 0x300000000ULL, snp);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* 9.7 and first-level "Access Rights": 4/5 levels, all sizes, U/S, R/W. */
START_TEST(test_fl_levels_and_rights)
{
	unsigned int levels = 4 + (unsigned int)_i;
	struct pt_vtd_pasid p = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_vtd_pgtable cfg;
	struct pt_vtd_table t;
	uint64_t dir, e3, v, hi;
	struct t_env e;
	int r;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_FIRST_LEVEL, levels), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x7000, 0x1007000, K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 3 * M2, 7 * M2, M2, M2, PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 5 * G1, 7 * G1, G1, G1,
				    PT_VTD_R | PT_VTD_W), 0);
	/* The top of the upper canonical half. */
	hi = 0xffffffffffe00000ULL;
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, hi, 9 * M2, M2, M2, PT_VTD_R), 0);
	dir = t_sm_dev(&e, 0x0300, 1, 1, 0);
	t_sm_pasid(&e, dir, 1, 1, &t, 9);

	r = t_walk(&e, 0x0300, IOTLB_VTD_NO_PASID, 0x7fff, WR, &res, &f);
	T_OK(r, f, "FL %u-level 4 KiB", levels);
	t_check_res(&res, 0x7000, K4, 0x1007000, RW, 1);
	ck_assert_uint_eq(res.mem_reads, levels);
	r = t_walk(&e, 0x0300, IOTLB_VTD_NO_PASID, 3 * M2 + 5, RD, &res, &f);
	T_OK(r, f, "FL %u-level 2 MiB", levels);
	t_check_res(&res, 3 * M2, M2, 7 * M2, RD, 2);
	r = t_walk(&e, 0x0300, IOTLB_VTD_NO_PASID, 3 * M2, WR, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "FL write to R/W=0 page %#llx", 3 * M2);
	r = t_walk(&e, 0x0300, IOTLB_VTD_NO_PASID, 5 * G1 + 5, WR, &res, &f);
	T_OK(r, f, "FL %u-level 1 GiB", levels);
	t_check_res(&res, 5 * G1, G1, 7 * G1, RW, 3);
	r = t_walk(&e, 0x0300, IOTLB_VTD_NO_PASID, hi + 0x1234, RD, &res, &f);
	T_OK(r, f, "FL high canonical %#" PRIx64, hi);
	t_check_res(&res, hi, M2, 9 * M2, RD, 2);

	/* 1 GiB pages only with CAP.FL1GP. */
	e.iommu.caps &= ~IOTLB_VTD_CAP_FL1G;
	r = t_walk(&e, 0x0300, IOTLB_VTD_NO_PASID, 5 * G1, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "FL 1 GiB without FL1GP %d", 0);
	e.iommu.caps = CAPS_ALL;

	/* U/S=0 anywhere: no access for a user request, not even read. */
	ck_assert_int_eq(t_ctx(&e, 0x0300, IOTLB_VTD_NO_PASID, &cfg, &f), 0);
	e3 = t_entry(&e, &t, 0x7000, 3);
	v = t_rd(&e, e3);
	t_wr(&e, e3, v & ~4ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x7000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "U/S=0 in level 3 %d", 3);
	ck_assert_uint_eq(f.level, 1);
	/* R/W=0 in a non-leaf entry: read-only below it. */
	t_wr(&e, e3, v & ~2ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x7000, RD, &res, &f, NULL);
	T_OK(r, f, "R/W=0 in level %d", 3);
	ck_assert_uint_eq(res.perm, RD);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x7000, WR, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "write under R/W=0 level %d", 3);
	/* XD is ignored for DMA reads and writes. */
	t_wr(&e, e3, v | (1ULL << 63));
	r = iotlb__walk_vtd(e.mem, &cfg, 0x7000, WR, &res, &f, NULL);
	T_OK(r, f, "XD set in level %d", 3);
	/* P=0 in a non-leaf entry. */
	t_wr(&e, e3, v & ~1ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x7000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_NOT_PRESENT, "P=0 in level %d", 3);
	ck_assert_uint_eq(f.level, 3);
	t_wr(&e, e3, v);

	/* Supervisor requests (RID_PRIV=1): SRE=0 blocks them. */
	(void)t_sm_dev(&e, 0x0301, 1, 1, 1);
	ck_assert_int_eq(pt_vtd_context_entry_gpa(&e.b, e.iommu.rta, 3, 1, 1, &v), 0);
	/* Point 03:00.1 at the same PASID directory. */
	t_wr(&e, v, (dir & ~0xfffULL) | (7ULL << 9) | (1ULL << 3) | 1);
	r = t_walk(&e, 0x0301, IOTLB_VTD_NO_PASID, 0x7000, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_BLOCKED, "privileged request with SRE=0 %d", 0);
	p.pgtt = 1;
	p.flptptr = t.root;
	p.flpm = levels - 4;
	p.sre = 1;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 1, &p), 0);
	t_wr(&e, e3, v = (t_rd(&e, e3) & ~6ULL));	/* U/S=0, R/W=0 */
	r = t_walk(&e, 0x0301, IOTLB_VTD_NO_PASID, 0x7000, WR, &res, &f);
	T_OK(r, f, "supervisor write, WPE=0, R/W=0 U/S=0 level %d", 3);
	ck_assert_uint_eq(res.perm, RW);
	p.wpe = 1;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 1, &p), 0);
	r = t_walk(&e, 0x0301, IOTLB_VTD_NO_PASID, 0x7000, WR, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "supervisor write with WPE=1 %d", 1);
	r = t_walk(&e, 0x0301, IOTLB_VTD_NO_PASID, 0x7000, RD, &res, &f);
	T_OK(r, f, "supervisor read of U/S=0 page %d", 0);
	ck_assert_uint_eq(res.perm, RD);
	/* The user function still cannot touch it. */
	r = t_walk(&e, 0x0300, IOTLB_VTD_NO_PASID, 0x7000, RD, &res, &f);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "user read of U/S=0 page %d", 0);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* 9.7: first-level input addresses must be canonical for 48 / 57 bits. */
START_TEST(test_fl_canonical)
{
	static const struct {
		unsigned int levels;
		uint64_t iova;
		int canonical;
	} c[] = {
		{ 4, 0x00007fffffffffffULL, 1 },
		{ 4, 0x0000800000000000ULL, 0 },
		{ 4, 0xffff7fffffffffffULL, 0 },
		{ 4, 0xffff800000000000ULL, 1 },
		{ 4, 0x8000000000000000ULL, 0 },
		{ 4, 0xffffffffffffffffULL, 1 },
		{ 5, 0x00ffffffffffffffULL, 1 },
		{ 5, 0x0100000000000000ULL, 0 },
		{ 5, 0x0000800000000000ULL, 1 },
		{ 5, 0xff00000000000000ULL, 1 },
		{ 5, 0xfeffffffffffffffULL, 0 },
	};
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_table t4, t5;
	struct t_env e;
	unsigned int i;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t4, PT_VTD_FIRST_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t5, PT_VTD_FIRST_LEVEL, 5), 0);
	cfg.format = IOTLB_VTD_FMT_FL;
	cfg.haw = T_HAW;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r;

		cfg.levels = (uint8_t)c[i].levels;
		cfg.aw = c[i].levels == 4 ? 48 : 57;
		cfg.root = c[i].levels == 4 ? t4.root : t5.root;
		r = iotlb__walk_vtd(e.mem, &cfg, c[i].iova, RD, &res, &f, NULL);
		if (c[i].canonical)
			T_FAULT(r, f, IOTLB_WALK_NOT_PRESENT, "%u-level iova %#" PRIx64,
				c[i].levels, c[i].iova);
		else
			T_FAULT(r, f, IOTLB_WALK_NON_CANONICAL, "%u-level iova %#" PRIx64,
				c[i].levels, c[i].iova);
		if (!c[i].canonical)
			ck_assert_uint_eq(res.mem_reads, 0);
	}
	pt_vtd_table_free(&t4);
	pt_vtd_table_free(&t5);
	t_teardown(&e);
}
END_TEST

/* Second-level input beyond the AGAW faults before any read. */
START_TEST(test_sl_addr_width)
{
	static const uint64_t iovas[] = { 1ULL << 39, 1ULL << 48, 1ULL << 57,
					  ~0ULL, 0x8000000000000000ULL };
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_table t;
	unsigned int levels, i;
	struct t_env e;
	int r;

	t_setup(&e, 0);
	for (levels = 3; levels <= 5; levels++) {
		uint64_t top = (1ULL << (12 + 9 * levels)) - K4;

		ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_SECOND_LEVEL,
						  levels), 0);
		ck_assert_int_eq(pt_vtd_map(&e.b, &t, top, 0x5000, K4, K4,
					    PT_VTD_R), 0);
		cfg.format = IOTLB_VTD_FMT_SL;
		cfg.root = t.root;
		cfg.levels = (uint8_t)levels;
		cfg.aw = (uint8_t)(12 + 9 * levels);
		cfg.haw = T_HAW;
		r = iotlb__walk_vtd(e.mem, &cfg, top + K4 - 1, RD, &res, &f, NULL);
		T_OK(r, f, "last page below AW %u", cfg.aw);
		t_check_res(&res, top, K4, 0x5000, RD, 1);
		for (i = 0; i < sizeof(iovas) / sizeof(iovas[0]); i++) {
			if (!(iovas[i] >> cfg.aw))
				continue;
			r = iotlb__walk_vtd(e.mem, &cfg, iovas[i], RD, &res, &f, NULL);
			T_FAULT(r, f, IOTLB_WALK_ADDR_WIDTH, "iova %#" PRIx64 " AW %u",
				iovas[i], cfg.aw);
			ck_assert_uint_eq(f.addr, iovas[i]);
			ck_assert_uint_eq(res.mem_reads, 0);
		}
		pt_vtd_table_free(&t);
	}
	t_teardown(&e);
}
END_TEST

/* First-level "Accessed, Extended Accessed and Dirty Flags". */
START_TEST(test_fl_accessed_dirty)
{
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_table t;
	uint64_t pte, pde;
	struct t_env e;
	unsigned int l;
	int r;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_FIRST_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x1000, 0x11000, K4, K4, PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x2000, 0x12000, K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x3000, 0x13000, K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	cfg.format = IOTLB_VTD_FMT_FL;
	cfg.root = t.root;
	cfg.levels = 4;
	cfg.aw = 48;
	cfg.haw = T_HAW;

	/* A read of a read-only page: A everywhere, no D. */
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, NULL);
	T_OK(r, f, "read %#x", 0x1000);
	for (l = 4; l >= 1; l--) {
		uint64_t v = t_rd(&e, t_entry(&e, &t, 0x1000, l));

		ck_assert_msg((v & 0x60) == 0x20, "level %u entry %#" PRIx64
			      ": want A set, D clear", l, v);
	}
	/* A read that returns a writable grant sets D (NW=0 semantics). */
	pte = t_entry(&e, &t, 0x2000, 1);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x2000, RD, &res, &f, NULL);
	T_OK(r, f, "read %#x", 0x2000);
	ck_assert_uint_eq(res.perm, RW);
	ck_assert_uint_eq(t_rd(&e, pte) & 0x60, 0x60);
	/* A write to an RW page sets D too; the PDE gets no D. */
	pte = t_entry(&e, &t, 0x3000, 1);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x3000, WR, &res, &f, NULL);
	T_OK(r, f, "write %#x", 0x3000);
	ck_assert_uint_eq(t_rd(&e, pte) & 0x60, 0x60);
	pde = t_entry(&e, &t, 0x3000, 2);
	ck_assert_uint_eq(t_rd(&e, pde) & 0x60, 0x20);
	/* A faulting write leaves the leaf alone. */
	pte = t_entry(&e, &t, 0x1000, 1);
	t_wr(&e, pte, t_rd(&e, pte) & ~0x20ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, WR, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "write %#x", 0x1000);
	ck_assert_uint_eq(t_rd(&e, pte) & 0x20, 0);

	/* EAFE: EA (bit 10) is set together with A. */
	cfg.flags = IOTLB_VTD_PGT_EAFE;
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, NULL);
	T_OK(r, f, "read with EAFE %#x", 0x1000);
	ck_assert_uint_eq(t_rd(&e, pte) & 0x420, 0x420);
	ck_assert_uint_eq(t_rd(&e, pde) & 0x400, 0x400);

	/* NO_AD: nothing is written. */
	cfg.flags = IOTLB_VTD_PGT_NO_AD;
	t_wr(&e, pte, t_rd(&e, pte) & ~0x420ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, NULL);
	T_OK(r, f, "read with NO_AD %#x", 0x1000);
	ck_assert_uint_eq(t_rd(&e, pte) & 0x420, 0);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* A/D updates into memory the VMM registered read-only. */
START_TEST(test_ad_readonly_memory)
{
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_table t;
	struct t_env e;
	unsigned int l;
	int r;

	t_setup_flags(&e, 0, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_FIRST_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x1000, 0x11000, K4, K4, PT_VTD_R), 0);
	cfg.format = IOTLB_VTD_FMT_FL;
	cfg.root = t.root;
	cfg.levels = 4;
	cfg.aw = 48;
	cfg.haw = T_HAW;
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_AD_UPDATE, "A update in read-only memory %d", 0);
	ck_assert_uint_eq(f.level, 4);
	/* With every A already set, the walk needs no write. */
	for (l = 4; l >= 1; l--) {
		uint64_t g = t_entry(&e, &t, 0x1000, l);

		t_wr(&e, g, t_rd(&e, g) | 0x20);
	}
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, NULL);
	T_OK(r, f, "A already set, read-only memory %d", 0);
	cfg.flags = IOTLB_VTD_PGT_NO_AD;
	t_wr(&e, t_entry(&e, &t, 0x1000, 1), t_rd(&e, t_entry(&e, &t, 0x1000, 1)) & ~0x20ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, NULL);
	T_OK(r, f, "NO_AD, read-only memory %d", 0);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* Second-level A/D with SLADE (PASID entry bit 9): A bit 8, D bit 9. */
START_TEST(test_sl_accessed_dirty)
{
	struct pt_vtd_pasid p = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_table t;
	uint64_t dir, pte;
	struct t_env e;
	unsigned int l;
	int r;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_SECOND_LEVEL, 3), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x1000, 0x11000, K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	dir = t_sm_dev(&e, 0x0000, 0, 0, 0);
	p.pgtt = 2;
	p.aw = 1;
	p.slptptr = t.root;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	pte = t_entry(&e, &t, 0x1000, 1);

	/* Without SLADE nothing is written. */
	r = t_walk(&e, 0, IOTLB_VTD_NO_PASID, 0x1000, WR, &res, &f);
	T_OK(r, f, "SL write without SLADE %d", 0);
	ck_assert_uint_eq(t_rd(&e, pte) & 0x300, 0);
	p.slade = 1;
	ck_assert_int_eq(pt_vtd_sm_pasid(&e.b, dir, 0, &p), 0);
	r = t_walk(&e, 0, IOTLB_VTD_NO_PASID, 0x1000, WR, &res, &f);
	T_OK(r, f, "SL write with SLADE %d", 1);
	for (l = 3; l >= 2; l--)
		ck_assert_uint_eq(t_rd(&e, t_entry(&e, &t, 0x1000, l)) & 0x300, 0x100);
	ck_assert_uint_eq(t_rd(&e, pte) & 0x300, 0x300);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* A guest vCPU flipping an ignored bit of the leaf while we set A. */
struct t_racer {
	uint64_t *entry;
	int stop;
	unsigned long flips;
};

static void *t_race_fn(void *arg)
{
	struct t_racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_xor(r->entry, htole64(1ULL << 9), __ATOMIC_SEQ_CST);
		r->flips++;
	}
	return NULL;
}

/* A/D updates are atomic: a concurrent guest write is never lost. */
START_TEST(test_ad_race)
{
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct t_racer racer = { 0 };
	struct pt_vtd_table t;
	unsigned int i, ok = 0;
	pthread_t th;
	uint64_t pte, v;
	struct t_env e;
	int r;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_FIRST_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x1000, 0x11000, K4, K4, PT_VTD_R), 0);
	cfg.format = IOTLB_VTD_FMT_FL;
	cfg.root = t.root;
	cfg.levels = 4;
	cfg.aw = 48;
	cfg.haw = T_HAW;
	pte = t_entry(&e, &t, 0x1000, 1);
	racer.entry = (uint64_t *)(void *)((uint8_t *)e.buf + (pte - T_GPA));
	ck_assert_int_eq(pthread_create(&th, NULL, t_race_fn, &racer), 0);
	for (i = 0; i < 20000; i++) {
		__atomic_fetch_and(racer.entry, htole64(~0x20ULL), __ATOMIC_SEQ_CST);
		r = iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, NULL);
		/* Only a race lost VTD_AD_RETRIES times in a row may fail. */
		ck_assert_msg(r == 0 || (r == IOTLB_WALK_FAULTED &&
					 f.reason == IOTLB_WALK_AD_UPDATE),
			      "racing walk %u: got %d (%s)", i, r, t_name(r, &f));
		if (r == 0) {
			ok++;
			ck_assert_uint_eq(res.gpa, 0x11000);
		}
	}
	__atomic_store_n(&racer.stop, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_gt(ok, 19000);
	v = t_rd(&e, pte);
	ck_assert_msg(((v >> 9) & 1) == (racer.flips & 1),
		      "after %lu guest flips bit 9 is %u: an A update lost one",
		      racer.flips, (unsigned int)((v >> 9) & 1));
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* "Handling Requests to Interrupt Address Range". */
START_TEST(test_interrupt_range)
{
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_table t, t2;
	struct t_env e;
	int r;

	t_setup(&e, 0);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_SECOND_LEVEL, 4), 0);
	/* Identity 1 GiB at 3 GiB, and small pages around 0xfee00000. */
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 3 * G1, 3 * G1, G1, G1,
				    PT_VTD_R | PT_VTD_W), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x5000, 0xfee00000ULL, K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x6000, 0xfef00000ULL, K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	cfg.format = IOTLB_VTD_FMT_SL;
	cfg.root = t.root;
	cfg.levels = 4;
	cfg.aw = 48;
	cfg.haw = T_HAW;
	cfg.flags = IOTLB_VTD_PGT_SL1G;

	r = iotlb__walk_vtd(e.mem, &cfg, 3 * G1 + 5, RD, &res, &f, NULL);
	T_OK(r, f, "iova %#llx", 3 * G1 + 5);
	t_check_res(&res, 3 * G1, G1 / 2, 3 * G1, RW, 3);
	r = iotlb__walk_vtd(e.mem, &cfg, 0xfed00000ULL, RD, &res, &f, NULL);
	T_OK(r, f, "iova %#llx", 0xfed00000ULL);
	t_check_res(&res, 0xfec00000ULL, M2, 0xfec00000ULL, RW, 3);
	r = iotlb__walk_vtd(e.mem, &cfg, 0xfef00000ULL, RD, &res, &f, NULL);
	T_OK(r, f, "iova %#llx", 0xfef00000ULL);
	t_check_res(&res, 0xfef00000ULL, 1ULL << 20, 0xfef00000ULL, RW, 3);
	r = iotlb__walk_vtd(e.mem, &cfg, 0xfee00abcULL, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_BLOCKED, "iova %#llx", 0xfee00abcULL);
	/* Output into the range is blocked, input with PASID is not. */
	r = iotlb__walk_vtd(e.mem, &cfg, 0x5000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_BLOCKED, "iova %#x to gpa 0xfee00000", 0x5000);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x6000, RD, &res, &f, NULL);
	T_OK(r, f, "iova %#x to gpa 0xfef00000", 0x6000);
	/* Identity: the output is in the range too, PASID or not. */
	cfg.flags = IOTLB_VTD_PGT_SL1G | IOTLB_VTD_PGT_WITH_PASID;
	r = iotlb__walk_vtd(e.mem, &cfg, 0xfee00abcULL, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_BLOCKED, "PASID request, identity %#llx", 0xfee00abcULL);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t2, PT_VTD_SECOND_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t2, 0xfee00000ULL, 0x7000, K4, K4,
				    PT_VTD_R), 0);
	cfg.root = t2.root;
	r = iotlb__walk_vtd(e.mem, &cfg, 0xfee00abcULL, RD, &res, &f, NULL);
	T_OK(r, f, "PASID request to iova %#llx", 0xfee00abcULL);
	t_check_res(&res, 0xfee00000ULL, K4, 0x7000, RD, 1);
	cfg.flags = IOTLB_VTD_PGT_SL1G;
	r = iotlb__walk_vtd(e.mem, &cfg, 0xfee00abcULL, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_BLOCKED, "request without PASID to iova %#llx",
		0xfee00abcULL);
	pt_vtd_table_free(&t2);
	/* Pass-through: both rules apply to the identity. */
	cfg.format = IOTLB_VTD_FMT_PT;
	cfg.flags = 0;
	r = iotlb__walk_vtd(e.mem, &cfg, 0xfee00000ULL, WR, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_BLOCKED, "PT iova %#llx", 0xfee00000ULL);
	r = iotlb__walk_vtd(e.mem, &cfg, 0xc0001000ULL, WR, &res, &f, NULL);
	T_OK(r, f, "PT iova %#llx", 0xc0001000ULL);
	t_check_res(&res, 0xc0000000ULL, G1 / 2, 0xc0000000ULL, RW, 0);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* Tables outside guest memory, at its very end, and a region without a
 * local mapping: no read ever leaves a region. */
START_TEST(test_table_outside)
{
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_mem_region reg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_table t;
	uint64_t last_page, pde;
	struct t_env e;
	int r;

	t_setup(&e, 0);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_SECOND_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x1ff000, 0x5000, K4, K4, PT_VTD_R), 0);
	cfg.format = IOTLB_VTD_FMT_SL;
	cfg.root = t.root;
	cfg.levels = 4;
	cfg.aw = 48;
	cfg.haw = T_HAW;

	/* Move the last-level table to the last page of the region: entry
	 * 511 is its last 8 bytes. */
	last_page = T_GPA + T_SIZE - K4;
	pde = t_entry(&e, &t, 0x1ff000, 2);
	memcpy((uint8_t *)e.buf + (last_page - T_GPA),
	       (uint8_t *)e.buf + ((t_rd(&e, pde) & ~0xfffULL) - T_GPA), K4);
	t_wr(&e, pde, last_page | 3);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1ff000, RD, &res, &f, NULL);
	T_OK(r, f, "entry in the last 8 bytes of the region %d", 0);
	t_check_res(&res, 0x1ff000, K4, 0x5000, RD, 1);

	/* One page further: outside. */
	t_wr(&e, pde, (last_page + K4) | 3);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1ff000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_TABLE_OUTSIDE, "table at %#" PRIx64, (uint64_t)(last_page + K4));
	ck_assert_uint_eq(f.level, 1);
	ck_assert_uint_eq(f.entry_gpa, last_page + K4 + 511 * 8);
	/* At the top of the host address width. */
	t_wr(&e, pde, ((1ULL << T_HAW) - K4) | 3);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1ff000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_TABLE_OUTSIDE, "table at %#llx", (1ULL << T_HAW) - K4);
	/* A root outside memory. */
	cfg.root = 0x2000;
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1ff000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_TABLE_OUTSIDE, "root at %#x", 0x2000);
	ck_assert_uint_eq(f.level, 4);

	/* A region the library cannot read (no local mapping). */
	reg.gpa = 0x10000000;
	reg.size = 0x100000;
	reg.owner_addr = 0x10000000;
	ck_assert_int_eq(iotlb_mem_add_region(e.mem, &reg), 0);
	cfg.root = 0x10000000;
	r = iotlb__walk_vtd(e.mem, &cfg, 0x1ff000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_TABLE_OUTSIDE, "root in unmapped region %#x", 0x10000000);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* Hostile tables: entries pointing at their own table, context loops. */
START_TEST(test_self_reference)
{
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_walk_trace tr;
	unsigned int levels, fl;
	uint64_t root, re;
	struct t_env e;
	int r;

	t_setup(&e, 0);
	for (fl = 0; fl < 2; fl++) {
		for (levels = 3 + fl; levels <= 5; levels++) {
			ck_assert_int_eq(pt_vtd_alloc(&e.b, &root), 0);
			/* Entry 0 of the table points at the table: R/W/U/P. */
			t_wr(&e, root, root | 7);
			cfg.format = fl ? IOTLB_VTD_FMT_FL : IOTLB_VTD_FMT_SL;
			cfg.root = root;
			cfg.levels = (uint8_t)levels;
			cfg.aw = (uint8_t)(12 + 9 * levels);
			cfg.haw = T_HAW;
			memset(&tr, 0, sizeof(tr));
			r = iotlb__walk_vtd(e.mem, &cfg, 0x123, RW, &res, &f, &tr);
			/* It ends at level 1 as a 4 KiB page of the table. */
			T_OK(r, f, "self-referencing %s %u-level", fl ? "FL" : "SL", levels);
			t_check_res(&res, 0, K4, root, RW, 1);
			ck_assert_uint_eq(res.mem_reads, levels);
			ck_assert_uint_eq(tr.n, levels);
			ck_assert_str_eq(tr.step[0].what, fl ? "fl-pte" : "sl-pte");
			/* Same with PS set: a 2 MiB page or reserved. */
			t_wr(&e, root, root | 0x87);
			cfg.flags = IOTLB_VTD_PGT_SL2M;
			r = iotlb__walk_vtd(e.mem, &cfg, 0x123, RD, &res, &f, NULL);
			ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_RESERVED,
				      "PS in level %u: got %d (%s) want RESERVED",
				      levels, r, t_name(r, &f));
			cfg.flags = 0;
		}
	}
	/* Root entry whose context table is the root table itself. */
	re = pt_vtd_root_entry_gpa(e.iommu.rta, 0);
	t_wr(&e, re, e.iommu.rta | 1);
	r = t_ctx(&e, 0x0000, IOTLB_VTD_NO_PASID, &cfg, &f);
	T_FAULT(r, f, IOTLB_WALK_RESERVED, "context = root entry %d", 0);
	t_teardown(&e);
}
END_TEST

/* Builder unmap / protect, and the walker following them. */
START_TEST(test_unmap_protect)
{
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_vtd_mapping m;
	struct pt_vtd_table t;
	struct t_env e;
	int r;

	t_setup(&e, 0);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_SECOND_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x100000, 0x900000, 16 * K4, K4,
				    PT_VTD_R | PT_VTD_W), 0);
	cfg.format = IOTLB_VTD_FMT_SL;
	cfg.root = t.root;
	cfg.levels = 4;
	cfg.aw = 48;
	cfg.haw = T_HAW;
	ck_assert_int_eq(pt_vtd_unmap(&e.b, &t, 0x104000, 2 * K4), 0);
	ck_assert_int_eq(pt_vtd_protect(&e.b, &t, 0x10a000, K4, PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_lookup(&t, 0x104000, &m), -ENOENT);
	ck_assert_int_eq(pt_vtd_lookup(&t, 0x10a000, &m), 0);
	ck_assert_uint_eq(m.perm, PT_VTD_R);
	ck_assert_uint_eq(m.gpa, 0x90a000);

	r = iotlb__walk_vtd(e.mem, &cfg, 0x104000, RD, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_NOT_PRESENT, "unmapped %#x", 0x104000);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x106000, RD, &res, &f, NULL);
	T_OK(r, f, "still mapped %#x", 0x106000);
	t_check_res(&res, 0x106000, K4, 0x906000, RW, 1);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x10a000, WR, &res, &f, NULL);
	T_FAULT(r, f, IOTLB_WALK_PERMISSION, "write-protected %#x", 0x10a000);
	/* Mapping a 2 MiB page over 4 KiB pages is refused, nothing changes. */
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0, 0x1000000, M2, M2, PT_VTD_R), -EEXIST);
	r = iotlb__walk_vtd(e.mem, &cfg, 0x106000, RD, &res, &f, NULL);
	T_OK(r, f, "after refused map %#x", 0x106000);
	/* A partial leaf cannot be unmapped. */
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, G1, 0x1000000, M2, M2, PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_unmap(&e.b, &t, G1, K4), -EINVAL);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* Walker arguments that no guest can cause. */
START_TEST(test_bad_config)
{
	struct iotlb_vtd_pgtable good = { 0 }, cfg;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct t_env e;

	t_setup(&e, 0);
	good.format = IOTLB_VTD_FMT_SL;
	good.root = T_GPA;
	good.levels = 4;
	good.aw = 48;
	good.haw = T_HAW;
	cfg = good;
	ck_assert_int_ne(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_vtd(NULL, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, NULL, 0, RD, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, NULL, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, 4, &res, &f, NULL), -EINVAL);
	cfg.format = 0;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	cfg = good;
	cfg.levels = 3;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	cfg = good;
	cfg.root |= 8;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	cfg = good;
	cfg.root = 1ULL << T_HAW;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	cfg = good;
	cfg.haw = 53;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	cfg = good;
	cfg.flags = 1U << 20;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	cfg = good;
	cfg.format = IOTLB_VTD_FMT_FL;
	cfg.levels = 3;
	cfg.aw = 39;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	cfg = good;
	cfg.format = IOTLB_VTD_FMT_PT;
	cfg.aw = 64;
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0, RD, &res, &f, NULL), -EINVAL);
	t_teardown(&e);
}
END_TEST

/* The trace of a full scalable-mode resolution and walk. */
START_TEST(test_trace)
{
	static const char *const want[] = { "root", "context", "pasid-dir", "pasid",
					    "sl-pte", "sl-pte", "sl-pte" };
	struct iotlb_vtd_pgtable cfg;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct iotlb_walk_trace tr = { 0 };
	struct pt_vtd_table t;
	struct t_env e;
	uint64_t dir;
	unsigned int i;

	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, PT_VTD_SECOND_LEVEL, 3), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &t, 0x1000, 0x2000, K4, K4, PT_VTD_R), 0);
	dir = t_sm_dev(&e, 0x0a0b, 0, 0, 0);
	t_sm_pasid(&e, dir, 0, 2, &t, 1);
	ck_assert_int_eq(iotlb__walk_vtd_context(e.mem, &e.iommu, 0x0a0b,
						 IOTLB_VTD_NO_PASID, &cfg, &f, &tr), 0);
	ck_assert_int_eq(iotlb__walk_vtd(e.mem, &cfg, 0x1000, RD, &res, &f, &tr), 0);
	ck_assert_uint_eq(tr.n, 7);
	for (i = 0; i < 7; i++)
		ck_assert_msg(!strcmp(tr.step[i].what, want[i]),
			      "trace step %u: got %s want %s", i, tr.step[i].what, want[i]);
	ck_assert_uint_eq(tr.step[4].level, 3);
	ck_assert_uint_eq(tr.step[6].level, 1);
	ck_assert_uint_eq(tr.step[4].entry_gpa, t.root);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

/* --- randomized cross-check against the builder's record --- */

static uint64_t t_rng_state;

static uint64_t t_rand(void)
{
	uint64_t x = t_rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t_rng_state = x;
	return x;
}

/* A random iova for a table, canonical for first-level ones. */
static uint64_t t_rand_iova(unsigned int aw, int fl, uint64_t align)
{
	uint64_t v = t_rand() & ((1ULL << aw) - 1) & ~(align - 1);

	if (v < (4ULL << 30))
		v += 4ULL << 30;
	if (fl && (v >> (aw - 1)))
		v |= ~0ULL << aw;	/* upper canonical half */
	return v;
}

START_TEST(test_random_cross_check)
{
	static const uint64_t sizes[] = { K4, M2, G1 };
	int fl = _i >= 3;
	unsigned int levels = fl ? 4 + (unsigned int)(_i - 3) : 3 + (unsigned int)_i;
	unsigned int aw = 12 + 9 * levels, i, mapped = 0, checked = 0;
	struct iotlb_vtd_pgtable cfg = { 0 };
	struct pt_vtd_table t;
	struct t_env e;

	t_rng_state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(_i + 1) * 0x100000001b3ULL;
	t_setup(&e, 1);
	ck_assert_int_eq(pt_vtd_table_new(&e.b, &t, fl ? PT_VTD_FIRST_LEVEL :
					  PT_VTD_SECOND_LEVEL, levels), 0);
	for (i = 0; i < 120; i++) {
		uint64_t ps = sizes[t_rand() % 3], n = 1 + t_rand() % 4;
		uint64_t iova = t_rand_iova(aw, fl, ps);
		uint64_t gpa = ((t_rand() & ((1ULL << T_HAW) - 1)) | (4ULL << 30)) & ~(ps - 1);
		unsigned int perm = fl ? (t_rand() & 1 ? PT_VTD_R : PT_VTD_R | PT_VTD_W) :
				    1 + (unsigned int)(t_rand() % 3);
		int r;

		/* Stay inside HAW, inside AW and inside one canonical half. */
		if (gpa + n * ps > (1ULL << T_HAW) || iova + n * ps < iova ||
		    (!(iova >> 63) && iova + n * ps > (1ULL << (aw - fl))))
			continue;
		r = pt_vtd_map(&e.b, &t, iova, gpa, n * ps, ps, perm);
		ck_assert_msg(r == 0 || r == -EEXIST, "map %#" PRIx64 ": got %d", iova, r);
		mapped += r == 0;
	}
	ck_assert_uint_gt(mapped, 20);
	/* Punch holes and change permissions in some of it. */
	for (i = 0; i < 30 && t.nr_rec; i++) {
		struct pt_vtd_mapping m = t.rec[t_rand() % t.nr_rec];
		uint64_t page = m.iova + (t_rand() % (m.size / m.page_size)) * m.page_size;

		if (i & 1)
			ck_assert_int_eq(pt_vtd_unmap(&e.b, &t, page, m.page_size), 0);
		else
			ck_assert_int_eq(pt_vtd_protect(&e.b, &t, page, m.page_size,
							fl ? PT_VTD_R : PT_VTD_W), 0);
	}

	cfg.format = fl ? IOTLB_VTD_FMT_FL : IOTLB_VTD_FMT_SL;
	cfg.root = t.root;
	cfg.levels = (uint8_t)levels;
	cfg.aw = (uint8_t)aw;
	cfg.haw = T_HAW;
	cfg.flags = IOTLB_VTD_PGT_SL2M | IOTLB_VTD_PGT_SL1G | IOTLB_VTD_PGT_FL1G;
	for (i = 0; i < 5000; i++) {
		struct iotlb_walk_faultinfo f;
		struct iotlb_walk_result res;
		struct pt_vtd_mapping m;
		unsigned int access = (unsigned int)(t_rand() % 4), want_perm;
		uint64_t iova;
		int r, found;

		if (t_rand() % 10 < 7 && t.nr_rec) {
			m = t.rec[t_rand() % t.nr_rec];
			iova = m.iova + t_rand() % m.size;
		} else {
			iova = t_rand_iova(aw, fl, 1);
		}
		found = pt_vtd_lookup(&t, iova, &m) == 0;
		r = iotlb__walk_vtd(e.mem, &cfg, iova, access, &res, &f, NULL);
		if (!found) {
			T_FAULT(r, f, IOTLB_WALK_NOT_PRESENT, "seed %d walk iova %#" PRIx64,
				_i, iova);
			continue;
		}
		want_perm = (m.perm & PT_VTD_R ? RD : 0) | (m.perm & PT_VTD_W ? WR : 0);
		if ((access & want_perm) != access) {
			T_FAULT(r, f, IOTLB_WALK_PERMISSION, "seed %d walk iova %#" PRIx64
				" access %u", _i, iova, access);
			continue;
		}
		T_OK(r, f, "seed %d walk iova %#" PRIx64, _i, iova);
		ck_assert_msg(res.size == m.page_size && res.iova == (iova & ~(m.page_size - 1)) &&
			      res.gpa + (iova - res.iova) == m.gpa + (iova - m.iova) &&
			      res.perm == want_perm,
			      "iova %#" PRIx64 ": got [%#" PRIx64 " +%#" PRIx64 "] -> %#" PRIx64
			      " perm %u, builder says page %#" PRIx64 " gpa %#" PRIx64 " perm %u",
			      iova, res.iova, res.size, res.gpa, res.perm, m.page_size,
			      m.gpa + (iova - m.iova), want_perm);
		checked++;
	}
	ck_assert_uint_gt(checked, 1000);
	pt_vtd_table_free(&t);
	t_teardown(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walk-vtd");
	TCase *ctx = tcase_create("context");
	TCase *pt = tcase_create("paging");
	TCase *host = tcase_create("hostile");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(ctx, test_legacy_sl_levels, 0, 3);
	tcase_add_test(ctx, test_legacy_tt_aw);
	tcase_add_test(ctx, test_legacy_context_faults);
	tcase_add_test(ctx, test_scalable_modes);
	tcase_add_test(ctx, test_scalable_faults);
	tcase_add_test(ctx, test_trace);
	suite_add_tcase(s, ctx);

	tcase_add_test(pt, test_sl_permissions);
	tcase_add_test(pt, test_sl_superpage_caps);
	tcase_add_loop_test(pt, test_reserved_bits, 0, 4);
	tcase_add_loop_test(pt, test_fl_levels_and_rights, 0, 2);
	tcase_add_test(pt, test_fl_canonical);
	tcase_add_test(pt, test_sl_addr_width);
	tcase_add_test(pt, test_fl_accessed_dirty);
	tcase_add_test(pt, test_ad_readonly_memory);
	tcase_add_test(pt, test_sl_accessed_dirty);
	tcase_add_test(pt, test_ad_race);
	tcase_add_test(pt, test_interrupt_range);
	tcase_add_test(pt, test_unmap_protect);
	tcase_add_test(pt, test_bad_config);
	suite_add_tcase(s, pt);

	tcase_add_test(host, test_table_outside);
	tcase_add_test(host, test_self_reference);
	tcase_add_loop_test(host, test_random_cross_check, 0, 5);
	suite_add_tcase(s, host);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
