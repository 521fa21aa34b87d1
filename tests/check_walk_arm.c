/* SPDX-License-Identifier: MIT */
/* Description: Arm SMMUv3 stream table / CD resolution and VMSAv8-64 walks. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "pt-arm.h"
#include "walk.h"
#include "walk-arm.h"

#define R IOTLB_WALK_READ
#define W IOTLB_WALK_WRITE
#define RW (R | W)
#define NOSSID IOTLB_WALK_ARM_NO_SSID

#define RAM_GPA 0x80000000ULL
#define RAM_SIZE (48ULL << 20)
/* Stage-1 pool of nested tests: seen at NEST_IPA, held at RAM + 32M. */
#define NEST_OFF (32ULL << 20)
#define NEST_SIZE (8ULL << 20)
#define NEST_IPA 0x40000000ULL
#define NREC 512

struct env {
	struct iotlb_mem *mem;
	uint8_t *ram;
	struct pt_arm_builder b;	/* PA pool: stream table, S2, S1 */
	struct pt_arm_builder nb;	/* IPA pool for nested stage 1 */
	struct pt_arm_strtab st;
	struct iotlb_walk_arm_smmu smmu;
	struct pt_arm_rec rec[2][NREC];
};

static struct env *env_new(uint32_t flags)
{
	struct env *e = calloc(1, sizeof(*e));
	struct iotlb_mem_region r;

	ck_assert_ptr_nonnull(e);
	e->ram = aligned_alloc(1 << 16, RAM_SIZE);
	ck_assert_ptr_nonnull(e->ram);
	memset(e->ram, 0, RAM_SIZE);
	ck_assert_int_eq(iotlb_mem_new(&e->mem), 0);
	r = (struct iotlb_mem_region){ RAM_GPA, RAM_SIZE, e->ram, 0x7f0000000000ULL,
				       flags };
	ck_assert_int_eq(iotlb_mem_add_region(e->mem, &r), 0);
	pt_arm_init(&e->b, e->ram, RAM_GPA, NEST_OFF);
	pt_arm_init(&e->nb, e->ram + NEST_OFF, NEST_IPA, NEST_SIZE);
	ck_assert_int_eq(pt_arm_strtab_new(&e->b, &e->st, 8, false, 0), 0);
	e->smmu.strtab_base = e->st.base;
	e->smmu.strtab_base_cfg = e->st.cfg;
	e->smmu.oas = 48;
	e->smmu.sidsize = 16;
	e->smmu.ssidsize = 8;
	e->smmu.features = IOTLB_WALK_ARM_F_ALL;
	return e;
}

static void env_free(struct env *e)
{
	iotlb_mem_unref(e->mem);
	free(e->ram);
	free(e);
}

static void tt_new(struct env *e, struct pt_arm_builder *b, struct pt_arm_tt *tt,
		   unsigned int stage, unsigned int g, unsigned int ia, int sl,
		   unsigned int recslot)
{
	int r = pt_arm_tt_new(b, tt, stage, g, ia, sl);

	ck_assert_msg(r == 0, "tt_new stage %u granule %u ia %u sl %d: %d",
		      stage, g, ia, sl, r);
	tt->rec = e->rec[recslot];
	tt->maxrec = NREC;
}

static void map(struct env *e, struct pt_arm_builder *b, struct pt_arm_tt *tt,
		uint64_t iova, uint64_t oa, uint64_t size, unsigned int shift,
		uint64_t attr)
{
	int r = pt_arm_map(b, tt, iova, oa, size, shift, attr);

	(void)e;
	ck_assert_msg(r == 0, "map %#llx -> %#llx size %#llx shift %u: %d",
		      (unsigned long long)iova, (unsigned long long)oa,
		      (unsigned long long)size, shift, r);
}

static void put_ste(struct env *e, uint32_t sid, const struct pt_arm_ste *s)
{
	uint64_t v[8], a;

	pt_arm_ste_encode(s, v);
	ck_assert_int_eq(pt_arm_ste_addr(&e->b, &e->st, sid, &a), 0);
	ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
}

static uint64_t ste_addr(struct env *e, uint32_t sid)
{
	uint64_t a;

	ck_assert_int_eq(pt_arm_ste_addr(&e->b, &e->st, sid, &a), 0);
	return a;
}

/* A stage-1-only stream with one CD (S1CDMax 0) whose TTB0 is tt. */
static uint64_t setup_s1(struct env *e, uint32_t sid, const struct pt_arm_tt *tt,
			 struct pt_arm_cd *cdout)
{
	struct pt_arm_cdtab ct;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct pt_arm_ste ste = { .valid = true, .config = 5 };
	uint64_t v[8], a;

	ck_assert_int_eq(pt_arm_cdtab_new(&e->b, &ct, 0, 0), 0);
	pt_arm_cd_set_tt(&cd, 0, tt);
	if (cdout)
		cd = *cdout, pt_arm_cd_set_tt(&cd, 0, tt);
	pt_arm_cd_encode(&cd, v);
	ck_assert_int_eq(pt_arm_cd_addr(&e->b, &ct, 0, &a), 0);
	ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
	ste.s1ctxptr = ct.ptr;
	put_ste(e, sid, &ste);
	return a;
}

static int walk(struct env *e, uint32_t sid, uint32_t ssid, uint64_t iova,
		unsigned int acc, struct iotlb_walk_result *res,
		struct iotlb_walk_faultinfo *f)
{
	return iotlb__walk_arm_smmu(e->mem, &e->smmu, sid, ssid, iova, acc, res,
				    f, NULL);
}

static void expect_ok_(struct env *e, uint32_t sid, uint32_t ssid, uint64_t iova,
		       unsigned int acc, uint64_t gpa, uint64_t size, uint32_t perm,
		       int line)
{
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r = walk(e, sid, ssid, iova, acc, &res, &f);

	ck_assert_msg(r == 0, "line %d: walk iova %#llx: got %d (%s level %u stage %u) want ok",
		      line, (unsigned long long)iova, r,
		      iotlb__walk_fault_name(f.reason), f.level, f.stage);
	ck_assert_msg(res.gpa == gpa && res.size == size && res.perm == perm,
		      "line %d: walk iova %#llx: got gpa %#llx size %#llx perm %u want %#llx %#llx %u",
		      line, (unsigned long long)iova, (unsigned long long)res.gpa,
		      (unsigned long long)res.size, res.perm,
		      (unsigned long long)gpa, (unsigned long long)size, perm);
	ck_assert_msg(iova - res.iova < res.size && !(res.iova & (res.size - 1)),
		      "line %d: iova %#llx outside leaf %#llx", line,
		      (unsigned long long)iova, (unsigned long long)res.iova);
}

static void expect_fault_(struct env *e, uint32_t sid, uint32_t ssid,
			  uint64_t iova, unsigned int acc,
			  enum iotlb_walk_fault why, int line)
{
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r = walk(e, sid, ssid, iova, acc, &res, &f);

	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == why,
		      "line %d: walk iova %#llx: got %d (%s) want %s", line,
		      (unsigned long long)iova, r,
		      r == IOTLB_WALK_FAULTED ? iotlb__walk_fault_name(f.reason) : "-",
		      iotlb__walk_fault_name(why));
}

#define expect_ok(...) expect_ok_(__VA_ARGS__, __LINE__)
#define expect_fault(...) expect_fault_(__VA_ARGS__, __LINE__)

static struct iotlb_walk_faultinfo fault_of(struct env *e, uint32_t sid,
					    uint32_t ssid, uint64_t iova,
					    unsigned int acc)
{
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r = walk(e, sid, ssid, iova, acc, &res, &f);

	ck_assert_msg(r == IOTLB_WALK_FAULTED, "walk iova %#llx: got %d want a fault",
		      (unsigned long long)iova, r);
	return f;
}

static const unsigned int granules[3] = { 12, 14, 16 };

/*
 * ARM D8.2.8.1 / D8.2.9.1 / D8.2.10.1: the initial lookup level follows
 * from TxSZ; every level count of every granule, pages at level 3.
 */
START_TEST(test_s1_pages_every_level)
{
	/* IA sizes giving 1..4 levels for each granule (STT for the small). */
	static const unsigned int ias[3][5] = {
		{ 48, 39, 30, 21, 0 }, { 48, 47, 36, 25, 16 }, { 48, 42, 29, 17, 0 },
	};

	for (int gi = 0; gi < 3; gi++) {
		for (int k = 0; k < 5 && ias[gi][k]; k++) {
			struct env *e = env_new(0);
			struct pt_arm_tt tt;
			unsigned int g = granules[gi], ia = ias[gi][k];
			uint64_t page = 1ULL << g, hi = (1ULL << ia) - page;
			struct iotlb_walk_result res;
			struct iotlb_walk_faultinfo f;
			int r;

			tt_new(e, &e->b, &tt, 1, g, ia, -1, 0);
			setup_s1(e, 1, &tt, NULL);
			map(e, &e->b, &tt, 0, 0x123450000ULL & ~(page - 1), page, g,
			    PT_ARM_AF | PT_ARM_S1_EL0);
			map(e, &e->b, &tt, hi, 0x200000000ULL, page, g,
			    PT_ARM_AF | PT_ARM_S1_EL0 | PT_ARM_S1_RO);
			expect_ok(e, 1, NOSSID, 0x10, R, 0x123450000ULL & ~(page - 1),
				  page, RW);
			expect_ok(e, 1, NOSSID, hi + 8, R, 0x200000000ULL, page, R);
			r = iotlb__walk_arm_smmu(e->mem, &e->smmu, 1, NOSSID, hi, R,
						 &res, &f, NULL);
			ck_assert_int_eq(r, 0);
			ck_assert_msg(res.level == 1,
				      "granule %u ia %u: level %u want 1", g, ia,
				      res.level);
			/* STE + CD reads, then one per level. */
			ck_assert_msg(res.mem_reads == 2 + (uint32_t)(4 - tt.sl),
				      "granule %u ia %u: %u reads want %d", g, ia,
				      res.mem_reads, 2 + 4 - tt.sl);
			if (hi != page)
				expect_fault(e, 1, NOSSID, page, R,
					     IOTLB_WALK_NOT_PRESENT);
			/* Beyond TxSZ in the lower range: the VA hole. */
			expect_fault(e, 1, NOSSID, 1ULL << ia, R,
				     IOTLB_WALK_NON_CANONICAL);
			env_free(e);
		}
	}
}
END_TEST

/* ARM Table D8-17 and kin: 1G/2M (4K), 32M (16K), 512M (64K) blocks. */
START_TEST(test_s1_blocks)
{
	static const struct { unsigned int g, shift, level; } blk[] = {
		{ 12, 30, 3 }, { 12, 21, 2 }, { 14, 25, 2 }, { 16, 29, 2 },
	};

	for (unsigned int i = 0; i < sizeof(blk) / sizeof(blk[0]); i++) {
		struct env *e = env_new(0);
		struct pt_arm_tt tt;
		uint64_t sz = 1ULL << blk[i].shift, iova = 5 * sz,
			 oa = 0x4000000000ULL;
		struct iotlb_walk_result res;
		struct iotlb_walk_faultinfo f;

		tt_new(e, &e->b, &tt, 1, blk[i].g, 48, -1, 0);
		setup_s1(e, 1, &tt, NULL);
		map(e, &e->b, &tt, iova, oa, sz, blk[i].shift,
		    PT_ARM_AF | PT_ARM_S1_EL0);
		expect_ok(e, 1, NOSSID, iova + sz - 1, W, oa, sz, RW);
		ck_assert_int_eq(walk(e, 1, NOSSID, iova + 12345, R, &res, &f), 0);
		ck_assert_msg(res.level == blk[i].level && res.iova == iova,
			      "block %u: level %u iova %#llx", i, res.level,
			      (unsigned long long)res.iova);
		env_free(e);
	}
}
END_TEST

/*
 * ARM Table D8-48: level-3 descriptors with bit[1] == 0 are reserved;
 * blocks where the granule has none (4K level 0, 16K level 1, 64K level
 * 1 without 52-bit PAs) too.
 */
START_TEST(test_s1_reserved_encodings)
{
	struct env *e = env_new(0);
	struct pt_arm_tt tt4, tt16, tt64;
	uint64_t a;
	struct iotlb_walk_faultinfo f;

	tt_new(e, &e->b, &tt4, 1, 12, 48, -1, 0);
	setup_s1(e, 1, &tt4, NULL);
	map(e, &e->b, &tt4, 0x1000, 0x5000, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt4, 0x1000, 3, false, &a), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, 0x5000 | PT_ARM_AF | 1), 0);
	f = fault_of(e, 1, NOSSID, 0x1000, R);
	ck_assert_msg(f.reason == IOTLB_WALK_RESERVED && f.level == 1 &&
		      f.entry_gpa == a,
		      "level-3 block: got %s level %u want reserved-bit level 1",
		      iotlb__walk_fault_name(f.reason), f.level);
	/* A level-0 block with the 4K granule. */
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt4, 1ULL << 40, 0, false, &a), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, PT_ARM_AF | 1), 0);
	f = fault_of(e, 1, NOSSID, 1ULL << 40, R);
	ck_assert_msg(f.reason == IOTLB_WALK_RESERVED && f.level == 4,
		      "4K level-0 block: got %s level %u",
		      iotlb__walk_fault_name(f.reason), f.level);

	tt_new(e, &e->b, &tt16, 1, 14, 47, -1, 1);
	setup_s1(e, 2, &tt16, NULL);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt16, 0, 1, false, &a), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, PT_ARM_AF | 1), 0);
	expect_fault(e, 2, NOSSID, 0, R, IOTLB_WALK_RESERVED);

	/* 64K level-1 (4TB) blocks need FEAT_LPA, i.e. a 52-bit OAS. */
	tt_new(e, &e->b, &tt64, 1, 16, 48, -1, 1);
	setup_s1(e, 3, &tt64, NULL);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt64, 0, 1, false, &a), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, PT_ARM_AF | PT_ARM_S1_EL0 | 1),
			 0);
	expect_fault(e, 3, NOSSID, 0x1234, R, IOTLB_WALK_RESERVED);
	e->smmu.oas = 52;
	expect_ok(e, 3, NOSSID, 0x1234, R, 0, 1ULL << 42, RW);
	env_free(e);
}
END_TEST

/* ARM D8.3.1: RES0 descriptor bits (no LPA2, no indirection). */
START_TEST(test_res0_bits)
{
	struct env *e = env_new(0);
	struct pt_arm_tt tt, tt16;
	uint64_t a, d;

	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	setup_s1(e, 1, &tt, NULL);
	map(e, &e->b, &tt, 0x200000, 0x40000000, 0x200000, 21,
	    PT_ARM_AF | PT_ARM_S1_EL0);
	expect_ok(e, 1, NOSSID, 0x200000, R, 0x40000000, 0x200000, RW);
	/* Block: OA bits below the block size, [20:17]. */
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x200000, 2, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 18)), 0);
	expect_fault(e, 1, NOSSID, 0x200000, R, IOTLB_WALK_RESERVED);
	/* nT (bit 16, FEAT_BBML1) is not reserved. */
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 16)), 0);
	expect_ok(e, 1, NOSSID, 0x200000, R, 0x40000000, 0x200000, RW);
	/* Bits [49:48] without FEAT_LPA2. */
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 48)), 0);
	expect_fault(e, 1, NOSSID, 0x200000, R, IOTLB_WALK_RESERVED);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d), 0);
	/* Table descriptor bit 50 and, for stage 1 Non-secure, bit 63. */
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x200000, 1, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 50)), 0);
	expect_fault(e, 1, NOSSID, 0x200000, R, IOTLB_WALK_RESERVED);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 63)), 0);
	expect_fault(e, 1, NOSSID, 0x200000, R, IOTLB_WALK_RESERVED);
	/* Ignored bits [58:51] and [11:2] of a table are not checked. */
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (0xffULL << 51) | 0xffc),
			 0);
	expect_ok(e, 1, NOSSID, 0x200000, R, 0x40000000, 0x200000, RW);

	/* 16K page: bits [13:12] are RES0. */
	tt_new(e, &e->b, &tt16, 1, 14, 36, -1, 1);
	setup_s1(e, 2, &tt16, NULL);
	map(e, &e->b, &tt16, 0x4000, 0x8000, 0x4000, 14, PT_ARM_AF | PT_ARM_S1_EL0);
	expect_ok(e, 2, NOSSID, 0x4000, R, 0x8000, 0x4000, RW);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt16, 0x4000, 3, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 13)), 0);
	expect_fault(e, 2, NOSSID, 0x4000, R, IOTLB_WALK_RESERVED);
	env_free(e);
}
END_TEST

/* ARM D8.15.1 R CVSBH / SMMU 5.4 IPS: output beyond eff_IPS faults. */
START_TEST(test_output_address_size)
{
	struct env *e = env_new(0);
	struct pt_arm_tt tt, tt64;
	struct pt_arm_cd cd = { .valid = true, .ips = 2 /* 40 bits */, .epd1 = true };
	struct iotlb_walk_faultinfo f;
	uint64_t a, d;

	tt_new(e, &e->b, &tt, 1, 12, 39, -1, 0);
	setup_s1(e, 1, &tt, &cd);
	map(e, &e->b, &tt, 0x1000, (1ULL << 40) - 0x1000, 0x1000, 12,
	    PT_ARM_AF | PT_ARM_S1_EL0);
	map(e, &e->b, &tt, 0x2000, 1ULL << 40, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);
	expect_ok(e, 1, NOSSID, 0x1000, R, (1ULL << 40) - 0x1000, 0x1000, RW);
	f = fault_of(e, 1, NOSSID, 0x2000, R);
	ck_assert_msg(f.reason == IOTLB_WALK_ADDR_WIDTH && f.level == 1,
		      "OA 2^40 with IPS 40: got %s level %u",
		      iotlb__walk_fault_name(f.reason), f.level);
	/* A next-level table address beyond the IPS faults at its level. */
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x1000, 2, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 41)), 0);
	f = fault_of(e, 1, NOSSID, 0x1000, R);
	ck_assert_msg(f.reason == IOTLB_WALK_ADDR_WIDTH && f.level == 2,
		      "table beyond IPS: got %s level %u",
		      iotlb__walk_fault_name(f.reason), f.level);

	/* 64K: descriptor bits [15:12] are OA[51:48] (ARM R WDZFC). */
	tt_new(e, &e->b, &tt64, 1, 16, 42, -1, 1);
	setup_s1(e, 2, &tt64, NULL);
	map(e, &e->b, &tt64, 0x10000, 0xabcd00000000ULL | (0x3ULL << 48), 0x10000,
	    16, PT_ARM_AF | PT_ARM_S1_EL0);
	expect_fault(e, 2, NOSSID, 0x10000, R, IOTLB_WALK_ADDR_WIDTH);
	e->smmu.oas = 52;
	/* IPS 0b101 (48 bits) still caps it... */
	expect_fault(e, 2, NOSSID, 0x10000, R, IOTLB_WALK_ADDR_WIDTH);
	/* ...IPS 0b110 gives 52 bits. */
	cd = (struct pt_arm_cd){ .valid = true, .ips = 6, .epd1 = true };
	setup_s1(e, 2, &tt64, &cd);
	expect_ok(e, 2, NOSSID, 0x10000 + 5, R, 0xabcd00000000ULL | (0x3ULL << 48),
		  0x10000, RW);
	env_free(e);
}
END_TEST

/* ARM D8.2.4: TTB0/TTB1 by VA[55], the hole, TBI, EPDx. */
START_TEST(test_ttb1_region)
{
	struct env *e = env_new(0);
	struct pt_arm_tt t0, t1;
	struct pt_arm_cd cd = { .valid = true, .ips = 5 };
	const uint64_t up = 0xffffff8000000000ULL;	/* T1SZ 25: 39 bits */
	struct iotlb_walk_faultinfo f;

	tt_new(e, &e->b, &t0, 1, 12, 48, -1, 0);
	tt_new(e, &e->b, &t1, 1, 16, 39, -1, 1);
	t1.upper = true;
	pt_arm_cd_set_tt(&cd, 1, &t1);
	setup_s1(e, 1, &t0, &cd);
	map(e, &e->b, &t0, 0x7000, 0x9000, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);
	map(e, &e->b, &t1, up, 0x30000, 0x10000, 16, PT_ARM_AF | PT_ARM_S1_EL0);
	map(e, &e->b, &t1, ~0ULL - 0xffff, 0x50000, 0x10000, 16,
	    PT_ARM_AF | PT_ARM_S1_EL0 | PT_ARM_S1_RO);
	expect_ok(e, 1, NOSSID, 0x7008, R, 0x9000, 0x1000, RW);
	expect_ok(e, 1, NOSSID, up + 0x10, W, 0x30000, 0x10000, RW);
	expect_ok(e, 1, NOSSID, ~0ULL, R, 0x50000, 0x10000, R);
	/* The hole between 2^48 and the TTB1 range. */
	f = fault_of(e, 1, NOSSID, 1ULL << 48, R);
	ck_assert_msg(f.reason == IOTLB_WALK_NON_CANONICAL && f.level == 4 &&
		      f.addr == 1ULL << 48,
		      "hole: got %s level %u", iotlb__walk_fault_name(f.reason),
		      f.level);
	expect_fault(e, 1, NOSSID, up - 0x1000, R, IOTLB_WALK_NON_CANONICAL);
	expect_fault(e, 1, NOSSID, 0x8000000000007000ULL, R,
		     IOTLB_WALK_NON_CANONICAL);
	/* TBI0: the top byte is ignored, VA[55] still selects. */
	cd.tbi0 = true;
	setup_s1(e, 1, &t0, &cd);
	expect_ok(e, 1, NOSSID, 0x5a00000000007000ULL, R, 0x9000, 0x1000, RW);
	expect_fault(e, 1, NOSSID, 0x5a80000000007000ULL, R,
		     IOTLB_WALK_NON_CANONICAL);
	/* EPD1: no walk, level 0 Translation fault. */
	cd.epd1 = true;
	setup_s1(e, 1, &t0, &cd);
	f = fault_of(e, 1, NOSSID, up, R);
	ck_assert_msg(f.reason == IOTLB_WALK_NOT_PRESENT && f.level == 4,
		      "EPD1: got %s level %u", iotlb__walk_fault_name(f.reason),
		      f.level);
	env_free(e);
}
END_TEST

/* ARM D8.4.1.2 AP[2:1], D8.4.2 APTable, PAN, SMMU 5.2 PRIVCFG. */
START_TEST(test_s1_permissions)
{
	struct env *e = env_new(0);
	struct pt_arm_tt tt;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct pt_arm_ste ste;
	uint64_t cdptr, a, d, stea = ste_addr(e, 1);
	/* AP[2:1] = 00, 01, 10, 11: unprivileged / privileged grants. */
	static const uint32_t unpriv[4] = { 0, RW, 0, R };
	static const uint32_t priv[4] = { RW, RW, R, R };

	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	setup_s1(e, 1, &tt, NULL);
	for (unsigned int ap = 0; ap < 4; ap++)
		map(e, &e->b, &tt, 0x100000 + ap * 0x1000, 0x1000000 + ap * 0x1000,
		    0x1000, 12, PT_ARM_AF | (uint64_t)ap << 6);
	for (unsigned int ap = 0; ap < 4; ap++) {
		uint64_t iova = 0x100000 + ap * 0x1000;

		if (unpriv[ap])
			expect_ok(e, 1, NOSSID, iova, R, 0x1000000 + ap * 0x1000,
				  0x1000, unpriv[ap]);
		else
			expect_fault(e, 1, NOSSID, iova, R, IOTLB_WALK_PERMISSION);
		if (!(unpriv[ap] & W))
			expect_fault(e, 1, NOSSID, iova, W, IOTLB_WALK_PERMISSION);
	}
	/* PRIVCFG = 0b11: privileged transactions. */
	ck_assert_int_eq(pt_arm_read64(&e->b, stea, &d), 0);
	cdptr = d & 0x00ffffffffffffc0ULL;
	ste = (struct pt_arm_ste){ .valid = true, .config = 5, .s1ctxptr = cdptr,
				   .privcfg = 3 };
	put_ste(e, 1, &ste);
	for (unsigned int ap = 0; ap < 4; ap++)
		expect_ok(e, 1, NOSSID, 0x100000 + ap * 0x1000, R,
			  0x1000000 + ap * 0x1000, 0x1000, priv[ap]);
	/* PAN: privileged access to EL0-accessible pages is refused. */
	cd.pan = true;
	pt_arm_cd_set_tt(&cd, 0, &tt);
	{
		uint64_t v[8];

		pt_arm_cd_encode(&cd, v);
		ck_assert_int_eq(pt_arm_write_struct(&e->b, cdptr, v), 0);
	}
	expect_ok(e, 1, NOSSID, 0x100000, R, 0x1000000, 0x1000, RW);
	expect_fault(e, 1, NOSSID, 0x101000, R, IOTLB_WALK_PERMISSION);
	expect_fault(e, 1, NOSSID, 0x103000, R, IOTLB_WALK_PERMISSION);
	/* Back to unprivileged: APTable at level 1 and 2 ANDs down. */
	ste.privcfg = 0;
	put_ste(e, 1, &ste);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x101000, 1, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | PT_ARM_APTABLE_RO), 0);
	expect_ok(e, 1, NOSSID, 0x101000, R, 0x1001000, 0x1000, R);
	expect_fault(e, 1, NOSSID, 0x101000, W, IOTLB_WALK_PERMISSION);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x101000, 2, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | PT_ARM_APTABLE_NO_EL0), 0);
	expect_fault(e, 1, NOSSID, 0x101000, R, IOTLB_WALK_PERMISSION);
	/* HAD0 turns APTable off (SMMU 5.4 HAD0). */
	cd.pan = false;
	cd.had0 = true;
	{
		uint64_t v[8];

		pt_arm_cd_encode(&cd, v);
		ck_assert_int_eq(pt_arm_write_struct(&e->b, cdptr, v), 0);
	}
	expect_ok(e, 1, NOSSID, 0x101000, W, 0x1001000, 0x1000, RW);
	/* pt_arm_protect changes the grant. */
	ck_assert_int_eq(pt_arm_protect(&e->b, &tt, 0x101000, 0x1000,
					PT_ARM_AF | PT_ARM_S1_EL0 | PT_ARM_S1_RO), 0);
	expect_ok(e, 1, NOSSID, 0x101000, R, 0x1001000, 0x1000, R);
	ck_assert_int_eq(pt_arm_unmap(&e->b, &tt, 0x101000, 0x1000), 0);
	expect_fault(e, 1, NOSSID, 0x101000, R, IOTLB_WALK_NOT_PRESENT);
	env_free(e);
}
END_TEST

/* SMMU 5.4 AFFD / HA, 3.13 HTTU; ARM D8.15.1.4 Access flag fault. */
START_TEST(test_access_flag)
{
	struct env *e = env_new(IOTLB_MEM_WRITABLE);
	struct pt_arm_tt tt;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct iotlb_walk_faultinfo f;
	uint64_t a, d;

	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	setup_s1(e, 1, &tt, NULL);
	map(e, &e->b, &tt, 0x1000, 0x2000, 0x1000, 12, PT_ARM_S1_EL0);
	f = fault_of(e, 1, NOSSID, 0x1000, R);
	ck_assert_msg(f.reason == IOTLB_WALK_ACCESS_FLAG && f.level == 1,
		      "AF=0: got %s level %u", iotlb__walk_fault_name(f.reason),
		      f.level);
	cd.affd = true;
	setup_s1(e, 1, &tt, &cd);
	expect_ok(e, 1, NOSSID, 0x1000, R, 0x2000, 0x1000, RW);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x1000, 3, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_msg(!(d & PT_ARM_AF), "AFFD must not write the descriptor");
	cd.affd = false;
	cd.ha = true;
	setup_s1(e, 1, &tt, &cd);
	expect_ok(e, 1, NOSSID, 0x1000, R, 0x2000, 0x1000, RW);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_msg(d & PT_ARM_AF, "HA: AF not set in %#llx",
		      (unsigned long long)d);
	/* HA without HTTU in the SMMU: the CD is ILLEGAL. */
	e->smmu.features &= ~IOTLB_WALK_ARM_F_HA;
	expect_fault(e, 1, NOSSID, 0x1000, R, IOTLB_WALK_CONTEXT_INVALID);
	env_free(e);

	/* HA on memory the library may not write. */
	e = env_new(0);
	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	cd = (struct pt_arm_cd){ .valid = true, .ips = 5, .epd1 = true, .ha = true };
	setup_s1(e, 1, &tt, &cd);
	map(e, &e->b, &tt, 0x1000, 0x2000, 0x1000, 12, PT_ARM_S1_EL0);
	expect_fault(e, 1, NOSSID, 0x1000, R, IOTLB_WALK_AD_UPDATE);
	env_free(e);
}
END_TEST

/* A stage-2-only stream over tt. */
static void setup_s2(struct env *e, uint32_t sid, const struct pt_arm_tt *tt,
		     unsigned int ps)
{
	struct pt_arm_ste ste = { .valid = true, .config = 6, .vmid = 7 };

	pt_arm_ste_set_s2(&ste, tt, ps);
	put_ste(e, sid, &ste);
}

/*
 * ARM D8.2.8.2 and kin: stage-2 initial level from SL0 and granule, and
 * up to 16 concatenated initial tables (ARM D8.2.2).
 */
START_TEST(test_s2_levels_concatenation)
{
	static const struct { unsigned int g, ia; int sl; } c[] = {
		{ 12, 48, 0 }, { 12, 40, 0 }, { 12, 40, 1 }, { 12, 43, 1 },
		{ 12, 31, 1 }, { 12, 34, 2 }, { 12, 25, 2 }, { 12, 24, 3 },
		{ 14, 48, 1 }, { 14, 40, 2 }, { 14, 29, 3 }, { 16, 48, 1 },
		{ 16, 46, 2 }, { 16, 33, 3 }, { 16, 30, 2 },
	};

	for (unsigned int i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct env *e = env_new(0);
		struct pt_arm_tt tt;
		uint64_t page = 1ULL << c[i].g, top = (1ULL << c[i].ia) - page;
		struct iotlb_walk_result res;
		struct iotlb_walk_faultinfo f;

		e->smmu.oas = 48;
		tt_new(e, &e->b, &tt, 2, c[i].g, c[i].ia, c[i].sl, 0);
		setup_s2(e, 1, &tt, 5);
		map(e, &e->b, &tt, top, 0x7770000ULL << 4, page, c[i].g,
		    PT_ARM_AF | PT_ARM_S2_R);
		map(e, &e->b, &tt, 0, 0x10000, page, c[i].g,
		    PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W);
		expect_ok(e, 1, NOSSID, top + 3, R, 0x7770000ULL << 4, page, R);
		expect_ok(e, 1, NOSSID, 0, W, 0x10000, page, RW);
		ck_assert_int_eq(walk(e, 1, NOSSID, top, R, &res, &f), 0);
		ck_assert_msg(res.mem_reads == 1 + (uint32_t)(4 - c[i].sl),
			      "case %u: %u reads", i, res.mem_reads);
		expect_fault(e, 1, NOSSID, top, W, IOTLB_WALK_PERMISSION);
		if (c[i].ia < 48)
			expect_fault(e, 1, NOSSID, 1ULL << c[i].ia, R,
				     IOTLB_WALK_ADDR_WIDTH);
		if (top > page)
			expect_fault(e, 1, NOSSID, top - page, R,
				     IOTLB_WALK_NOT_PRESENT);
		env_free(e);
	}
}
END_TEST

/* ARM D8.4.3 S2AP; stage-2 blocks; S2AFFD / S2HA. */
START_TEST(test_s2_permissions_blocks)
{
	struct env *e = env_new(IOTLB_MEM_WRITABLE);
	struct pt_arm_tt tt;
	struct pt_arm_ste ste = { .valid = true, .config = 6 };
	uint64_t a, d;

	tt_new(e, &e->b, &tt, 2, 12, 40, 1, 0);
	setup_s2(e, 1, &tt, 2);
	for (unsigned int ap = 0; ap < 4; ap++)
		map(e, &e->b, &tt, ap * 0x1000ULL, 0x100000 + ap * 0x1000ULL, 0x1000,
		    12, PT_ARM_AF | (uint64_t)ap << 6);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_PERMISSION);
	expect_ok(e, 1, NOSSID, 0x1000, R, 0x101000, 0x1000, R);
	expect_ok(e, 1, NOSSID, 0x2000, W, 0x102000, 0x1000, W);
	expect_fault(e, 1, NOSSID, 0x2000, R, IOTLB_WALK_PERMISSION);
	expect_ok(e, 1, NOSSID, 0x3000, 0, 0x103000, 0x1000, RW);
	map(e, &e->b, &tt, 1ULL << 30, 3ULL << 30, 1ULL << 30, 30,
	    PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W);
	map(e, &e->b, &tt, 1ULL << 31, 1ULL << 39, 1ULL << 21, 21,
	    PT_ARM_S2_R | PT_ARM_S2_W);
	expect_ok(e, 1, NOSSID, (1ULL << 30) + 0x12345, R, 3ULL << 30, 1ULL << 30, RW);
	expect_fault(e, 1, NOSSID, 1ULL << 31, R, IOTLB_WALK_ACCESS_FLAG);
	/* S2PS 40 bits: an OA of 2^39 is fine, 2^40 is not. */
	expect_fault(e, 1, NOSSID, 1ULL << 31, R, IOTLB_WALK_ACCESS_FLAG);
	pt_arm_ste_set_s2(&ste, &tt, 2);
	ste.s2affd = true;
	put_ste(e, 1, &ste);
	expect_ok(e, 1, NOSSID, 1ULL << 31, R, 1ULL << 39, 1ULL << 21, RW);
	ste.s2affd = false;
	ste.s2ha = true;
	put_ste(e, 1, &ste);
	expect_ok(e, 1, NOSSID, 1ULL << 31, R, 1ULL << 39, 1ULL << 21, RW);
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 1ULL << 31, 2, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_msg(d & PT_ARM_AF, "S2HA: AF not set");
	map(e, &e->b, &tt, 1ULL << 32, 1ULL << 40, 1ULL << 21, 21,
	    PT_ARM_AF | PT_ARM_S2_R);
	expect_fault(e, 1, NOSSID, 1ULL << 32, R, IOTLB_WALK_ADDR_WIDTH);
	/* Stage 2 table descriptor bits [63:59] are RES0. */
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x1000, 2, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, d | (1ULL << 61)), 0);
	expect_fault(e, 1, NOSSID, 0x1000, R, IOTLB_WALK_RESERVED);
	env_free(e);
}
END_TEST

/* SMMU 5.2: ILLEGAL stage-2 STE fields give C_BAD_STE. */
START_TEST(test_s2_ste_illegal)
{
	struct env *e = env_new(0);
	struct pt_arm_tt tt, t3;
	struct pt_arm_ste ste = { .valid = true, .config = 6 }, s;
	uint64_t v[8], a = ste_addr(e, 1);

	tt_new(e, &e->b, &tt, 2, 12, 40, 1, 0);
	pt_arm_ste_set_s2(&ste, &tt, 5);
	put_ste(e, 1, &ste);
	map(e, &e->b, &tt, 0, 0, 0x1000, 12, PT_ARM_AF | PT_ARM_S2_R);
	expect_ok(e, 1, NOSSID, 0, R, 0, 0x1000, R);
	/* SL0 inconsistent with T0SZ: level 0 with a 40-bit IPA is fine... */
	s = ste, s.s2t0sz = 64 - 39, put_ste(e, 1, &s);	/* level 1: 1 table */
	expect_ok(e, 1, NOSSID, 0, R, 0, 0x1000, R);
	s = ste, s.s2t0sz = 64 - 44, put_ste(e, 1, &s);	/* 32 tables */
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	s = ste, s.s2sl0 = 0, s.s2t0sz = 64 - 35, put_ste(e, 1, &s);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	s = ste, s.s2sl0 = 2, s.s2t0sz = 64 - 39, put_ste(e, 1, &s);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	/* T0SZ below 64 - OAS, above 39 without STT. */
	e->smmu.oas = 36;
	s = ste, s.s2ps = 1, put_ste(e, 1, &s);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	e->smmu.oas = 48;
	s = ste, s.s2sl0 = 0, s.s2t0sz = 40, put_ste(e, 1, &s);
	e->smmu.features &= ~IOTLB_WALK_ARM_F_STT;
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	e->smmu.features |= IOTLB_WALK_ARM_F_STT;
	/* SL0 0b11 with 4K is level 3, only with STT. */
	tt_new(e, &e->b, &t3, 2, 12, 20, 3, 1);
	map(e, &e->b, &t3, 0x5000, 0x6000, 0x1000, 12, PT_ARM_AF | PT_ARM_S2_R);
	s = ste, pt_arm_ste_set_s2(&s, &t3, 5), put_ste(e, 1, &s);
	ck_assert_uint_eq(s.s2sl0, 3);
	expect_ok(e, 1, NOSSID, 0x5000, R, 0x6000, 0x1000, R);
	e->smmu.features &= ~IOTLB_WALK_ARM_F_STT;
	expect_fault(e, 1, NOSSID, 0x5000, R, IOTLB_WALK_CONTEXT_INVALID);
	e->smmu.features |= IOTLB_WALK_ARM_F_STT;
	/* AArch32 tables, reserved TG, S2TTB beyond S2PS, big-endian, HD. */
	s = ste, s.s2aa64 = false, put_ste(e, 1, &s);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	s = ste, s.s2ttb = 1ULL << 44, s.s2ps = 4, put_ste(e, 1, &s);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	pt_arm_ste_encode(&ste, v);
	v[2] |= 3ULL << 46;
	ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	pt_arm_ste_encode(&ste, v);
	v[2] |= 1ULL << 52;
	ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	pt_arm_ste_encode(&ste, v);
	v[2] |= 1ULL << 55;
	ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	/* S2DS (FEAT_LPA2) is RES0 here. */
	pt_arm_ste_encode(&ste, v);
	v[3] |= 1ULL << 3;
	ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	/* No stage 2 in this SMMU: Config 0b11x is ILLEGAL. */
	put_ste(e, 1, &ste);
	e->smmu.features &= ~IOTLB_WALK_ARM_F_S2P;
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	env_free(e);
}
END_TEST

/*
 * Nested (STE.Config 0b111): every stage-1 table and the CD are IPAs
 * translated by stage 2 (ARM D8.15.4 step 4, SMMU 5.2 S1ContextPtr).
 */
struct nested {
	struct pt_arm_tt s1, s2;
	struct pt_arm_cdtab ct;
	uint64_t cd_ipa;
};

static void setup_nested(struct env *e, struct nested *n, unsigned int g1,
			 unsigned int g2, bool s2_pages)
{
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct pt_arm_ste ste = { .valid = true, .config = 7 };
	uint64_t v[8];

	tt_new(e, &e->b, &n->s2, 2, g2, 40, g2 == 12 ? 1 : 2, 1);
	/* The stage-1 pool, IPA NEST_IPA -> PA RAM_GPA + NEST_OFF. */
	if (s2_pages)
		map(e, &e->b, &n->s2, NEST_IPA, RAM_GPA + NEST_OFF, NEST_SIZE, g2,
		    PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W);
	else
		map(e, &e->b, &n->s2, NEST_IPA, RAM_GPA + NEST_OFF, NEST_SIZE,
		    g2 == 12 ? 21 : g2 == 14 ? 25 : 29,
		    PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W);
	tt_new(e, &e->nb, &n->s1, 1, g1, 48, -1, 0);
	ck_assert_int_eq(pt_arm_cdtab_new(&e->nb, &n->ct, 0, 0), 0);
	ck_assert_int_eq(pt_arm_cd_addr(&e->nb, &n->ct, 0, &n->cd_ipa), 0);
	pt_arm_cd_set_tt(&cd, 0, &n->s1);
	pt_arm_cd_encode(&cd, v);
	ck_assert_int_eq(pt_arm_write_struct(&e->nb, n->cd_ipa, v), 0);
	ste.s1ctxptr = n->ct.ptr;
	pt_arm_ste_set_s2(&ste, &n->s2, 2);
	ste.config = 7;
	put_ste(e, 1, &ste);
}

START_TEST(test_nested)
{
	struct env *e = env_new(0);
	struct nested n;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	uint64_t a, tbl_ipa, d;

	setup_nested(e, &n, 12, 12, true);
	/* iova 0x1000 -> IPA 0x10000000 (S1 4K page) -> PA 2M block. */
	map(e, &e->nb, &n.s1, 0x1000, 0x10000000, 0x1000, 12,
	    PT_ARM_AF | PT_ARM_S1_EL0);
	map(e, &e->b, &n.s2, 0x10000000, 0x3000000000ULL, 0x200000, 21,
	    PT_ARM_AF | PT_ARM_S2_R);
	expect_ok(e, 1, NOSSID, 0x1008, R, 0x3000000000ULL, 0x1000, R);
	ck_assert_int_eq(walk(e, 1, NOSSID, 0x1008, R, &res, &f), 0);
	/* STE, CD (3 S2 reads + 1), 4 S1 levels of 3 + 1, S2 block (2). */
	ck_assert_msg(res.mem_reads == 1 + 4 + 4 * 4 + 2,
		      "nested reads %u", res.mem_reads);
	/* Final stage-2 permission: write refused at stage 2. */
	f = fault_of(e, 1, NOSSID, 0x1008, W);
	ck_assert_msg(f.reason == IOTLB_WALK_PERMISSION && f.stage == 2 &&
		      f.addr == 0x10000008,
		      "S2 write: got %s stage %u addr %#llx",
		      iotlb__walk_fault_name(f.reason), f.stage,
		      (unsigned long long)f.addr);
	/* Stage-1 permission fault reports stage 1 and the VA. */
	ck_assert_int_eq(pt_arm_protect(&e->nb, &n.s1, 0x1000, 0x1000,
					PT_ARM_AF | PT_ARM_S1_EL0 | PT_ARM_S1_RO), 0);
	f = fault_of(e, 1, NOSSID, 0x1008, W);
	ck_assert_msg(f.reason == IOTLB_WALK_PERMISSION && f.stage == 1 &&
		      f.addr == 0x1008, "S1 write: got %s stage %u",
		      iotlb__walk_fault_name(f.reason), f.stage);
	/* IPA outside the stage-2 input range (40 bits). */
	map(e, &e->nb, &n.s1, 0x2000, 1ULL << 41, 0x1000, 12,
	    PT_ARM_AF | PT_ARM_S1_EL0);
	f = fault_of(e, 1, NOSSID, 0x2000, R);
	ck_assert_msg(f.reason == IOTLB_WALK_ADDR_WIDTH && f.stage == 2,
		      "IPA 2^41: got %s stage %u", iotlb__walk_fault_name(f.reason),
		      f.stage);
	/* Stage-2 fault on a stage-1 table fetch: unmap the level-3 table's page. */
	ck_assert_int_eq(pt_arm_entry(&e->nb, &n.s1, 0x1000, 2, false, &a), 0);
	ck_assert_int_eq(pt_arm_read64(&e->nb, a, &d), 0);
	tbl_ipa = d & 0x0000fffffffff000ULL;
	ck_assert_int_eq(pt_arm_entry(&e->b, &n.s2, tbl_ipa, 3, false, &a), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, 0), 0);
	f = fault_of(e, 1, NOSSID, 0x1008, R);
	ck_assert_msg(f.reason == IOTLB_WALK_NOT_PRESENT && f.stage == 2 &&
		      f.level == 1 && f.addr == tbl_ipa + 8,
		      "S2 fault on S1 table: got %s stage %u level %u addr %#llx want %#llx",
		      iotlb__walk_fault_name(f.reason), f.stage, f.level,
		      (unsigned long long)f.addr, (unsigned long long)tbl_ipa + 8);
	/* The same page readable-only-by-nobody: stage-2 permission. */
	ck_assert_int_eq(pt_arm_write64(&e->b, a, (RAM_GPA + NEST_OFF +
						  (tbl_ipa - NEST_IPA)) |
					PT_ARM_AF | PT_ARM_S2_W | 3), 0);
	f = fault_of(e, 1, NOSSID, 0x1008, R);
	ck_assert_msg(f.reason == IOTLB_WALK_PERMISSION && f.stage == 2,
		      "S2 no-read table: got %s stage %u",
		      iotlb__walk_fault_name(f.reason), f.stage);
	/* CD fetch through stage 2 faults at stage 2 too. */
	ck_assert_int_eq(pt_arm_entry(&e->b, &n.s2, n.cd_ipa, 3, false, &a), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, 0), 0);
	f = fault_of(e, 1, NOSSID, 0x1008, R);
	ck_assert_msg(f.reason == IOTLB_WALK_NOT_PRESENT && f.stage == 2 &&
		      f.addr == n.cd_ipa, "CD fetch: got %s stage %u",
		      iotlb__walk_fault_name(f.reason), f.stage);
	env_free(e);

	/* Leaf = the smaller mapping: S1 2M block over S2 4K pages & 64K. */
	e = env_new(0);
	setup_nested(e, &n, 12, 16, true);
	map(e, &e->nb, &n.s1, 0x40000000, 0x20000000, 0x200000, 21,
	    PT_ARM_AF | PT_ARM_S1_EL0);
	map(e, &e->b, &n.s2, 0x20000000, 0x5000000000ULL, 0x200000, 16,
	    PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W);
	expect_ok(e, 1, NOSSID, 0x40012345, W, 0x5000010000ULL, 0x10000, RW);
	env_free(e);
}
END_TEST

/*
 * SMMU 5.4 TTB0 and 6.3.24 STRTAB_BASE: bits below the table alignment
 * are treated as zero; huge inputs; HTTU through stage 2; 52-bit S2 OA.
 */
START_TEST(test_alignment_and_wide_inputs)
{
	struct env *e = env_new(IOTLB_MEM_WRITABLE);
	struct pt_arm_tt tt, t2;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct pt_arm_ste ste = { .valid = true, .config = 6 };
	struct iotlb_walk_faultinfo f;
	struct nested n;
	uint64_t v[8], cda, a, d;

	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	cda = setup_s1(e, 1, &tt, NULL);
	map(e, &e->b, &tt, 0x3000, 0x4000, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);
	pt_arm_cd_set_tt(&cd, 0, &tt);
	cd.ttb0 |= 0xff0;	/* a 4K root: bits [11:4] are ignored */
	pt_arm_cd_encode(&cd, v);
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_ok(e, 1, NOSSID, 0x3000, R, 0x4000, 0x1000, RW);
	/* Huge inputs: the VA hole, EPD1, and bypass beyond the OAS. */
	expect_fault(e, 1, NOSSID, 0x0123456789abcdefULL, R,
		     IOTLB_WALK_NON_CANONICAL);
	expect_fault(e, 1, NOSSID, ~0ULL, R, IOTLB_WALK_NOT_PRESENT);
	/* The linear stream table base is aligned to its size (16K). */
	e->smmu.strtab_base |= 0x3fc0;
	expect_ok(e, 1, NOSSID, 0x3000, R, 0x4000, 0x1000, RW);
	e->smmu.strtab_base &= ~0x3fc0ULL;

	/* Stage 2 only: IPA beyond the IAS, beyond S2T0SZ, 52-bit output. */
	e->smmu.oas = 52;
	tt_new(e, &e->b, &t2, 2, 16, 42, 2, 1);
	pt_arm_ste_set_s2(&ste, &t2, 6);
	put_ste(e, 2, &ste);
	map(e, &e->b, &t2, 0x10000, 0xf000000000000ULL, 0x10000, 16,
	    PT_ARM_AF | PT_ARM_S2_R);
	expect_ok(e, 2, NOSSID, 0x10004, R, 0xf000000000000ULL, 0x10000, R);
	f = fault_of(e, 2, NOSSID, 1ULL << 52, R);
	ck_assert_msg(f.reason == IOTLB_WALK_ADDR_WIDTH && f.level == 0,
		      "IPA 2^52: got %s level %u", iotlb__walk_fault_name(f.reason),
		      f.level);
	expect_fault(e, 2, NOSSID, 1ULL << 42, R, IOTLB_WALK_ADDR_WIDTH);
	expect_fault(e, 2, NOSSID, ~0ULL, R, IOTLB_WALK_ADDR_WIDTH);
	/* S2PS 48 with a 52-bit OAS: the 52-bit output faults. */
	ste.s2ps = 5;
	put_ste(e, 2, &ste);
	expect_fault(e, 2, NOSSID, 0x10004, R, IOTLB_WALK_ADDR_WIDTH);
	env_free(e);

	/* HA on a nested stage-1 leaf writes through stage 2. */
	e = env_new(IOTLB_MEM_WRITABLE);
	setup_nested(e, &n, 12, 12, true);
	cd = (struct pt_arm_cd){ .valid = true, .ips = 5, .epd1 = true, .ha = true };
	pt_arm_cd_set_tt(&cd, 0, &n.s1);
	pt_arm_cd_encode(&cd, v);
	ck_assert_int_eq(pt_arm_write_struct(&e->nb, n.cd_ipa, v), 0);
	map(e, &e->nb, &n.s1, 0x1000, 0x10000000, 0x1000, 12, PT_ARM_S1_EL0);
	map(e, &e->b, &n.s2, 0x10000000, 0x3000000000ULL, 0x1000, 12,
	    PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W);
	/* The page holding the stage-1 leaf table: make it read-only. */
	ck_assert_int_eq(pt_arm_entry(&e->nb, &n.s1, 0x1000, 3, false, &a), 0);
	ck_assert_int_eq(pt_arm_protect(&e->b, &n.s2, NEST_IPA, NEST_SIZE,
					PT_ARM_AF | PT_ARM_S2_R), 0);
	f = fault_of(e, 1, NOSSID, 0x1000, R);
	ck_assert_msg(f.reason == IOTLB_WALK_PERMISSION && f.stage == 2 &&
		      f.addr == a,
		      "HA through read-only S2: got %s stage %u addr %#llx want %#llx",
		      iotlb__walk_fault_name(f.reason), f.stage,
		      (unsigned long long)f.addr, (unsigned long long)a);
	ck_assert_int_eq(pt_arm_protect(&e->b, &n.s2, NEST_IPA, NEST_SIZE,
					PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W), 0);
	expect_ok(e, 1, NOSSID, 0x1000, R, 0x3000000000ULL, 0x1000, RW);
	ck_assert_int_eq(pt_arm_read64(&e->nb, a, &d), 0);
	ck_assert_msg(d & PT_ARM_AF, "nested HA: AF not set in %#llx",
		      (unsigned long long)d);
	env_free(e);
}
END_TEST

/* SMMU 6.3.25 / 5.1: linear and 2-level stream tables, StreamID range. */
START_TEST(test_stream_table)
{
	struct env *e = env_new(0);
	struct pt_arm_ste byp = { .valid = true, .config = 4 };
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	uint64_t a, d;
	static const unsigned int splits[3] = { 6, 8, 10 };

	put_ste(e, 3, &byp);
	expect_ok(e, 3, NOSSID, 0x12345678, RW, 0x0, 1ULL << 30, RW);
	ck_assert_int_eq(walk(e, 3, NOSSID, 0x12345678, R, &res, &f), 0);
	ck_assert_uint_eq(res.iova, 0);
	ck_assert_uint_eq(res.mem_reads, 1);
	/* Bypass still bounds the input by the IAS (== OAS). */
	expect_fault(e, 3, NOSSID, 1ULL << 48, R, IOTLB_WALK_ADDR_WIDTH);
	/* A SubstreamID with stage 1 bypassed: C_BAD_SUBSTREAMID. */
	expect_fault(e, 3, 1, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	/* StreamID beyond LOG2SIZE (8), and beyond SIDSIZE. */
	expect_fault(e, 256, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	e->smmu.sidsize = 1;
	expect_fault(e, 3, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	e->smmu.sidsize = 16;
	/* V == 0; Config 0b000 and reserved 0b0xx abort. */
	byp.valid = false;
	put_ste(e, 3, &byp);
	expect_fault(e, 3, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	for (unsigned int c = 0; c < 4; c++) {
		byp = (struct pt_arm_ste){ .valid = true, .config = c };
		put_ste(e, 3, &byp);
		expect_fault(e, 3, NOSSID, 0, R, IOTLB_WALK_BLOCKED);
	}
	/* STE dword 0 bits [58:56] are RES0. */
	byp = (struct pt_arm_ste){ .valid = true, .config = 4 };
	put_ste(e, 3, &byp);
	ck_assert_int_eq(pt_arm_read64(&e->b, ste_addr(e, 3), &d), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, ste_addr(e, 3), d | (1ULL << 57)), 0);
	expect_fault(e, 3, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	/* Stream table outside guest memory. */
	e->smmu.strtab_base = 0x1000;
	f = fault_of(e, 3, NOSSID, 0, R);
	ck_assert_msg(f.reason == IOTLB_WALK_TABLE_OUTSIDE && f.level == 0,
		      "strtab outside: got %s", iotlb__walk_fault_name(f.reason));
	env_free(e);

	for (unsigned int i = 0; i < 3; i++) {
		uint32_t sid = (5U << splits[i]) | 3;

		e = env_new(0);
		ck_assert_int_eq(pt_arm_strtab_new(&e->b, &e->st, 16, true,
						   splits[i]), 0);
		e->smmu.strtab_base = e->st.base;
		e->smmu.strtab_base_cfg = e->st.cfg;
		byp = (struct pt_arm_ste){ .valid = true, .config = 4 };
		put_ste(e, sid, &byp);
		expect_ok(e, sid, NOSSID, 0x1000, R, 0, 1ULL << 30, RW);
		ck_assert_int_eq(walk(e, sid, NOSSID, 0, R, &res, &f), 0);
		ck_assert_uint_eq(res.mem_reads, 2);
		/* Another L1STD (Span 0): invalid. */
		expect_fault(e, sid + (1U << splits[i]), NOSSID, 0, R,
			     IOTLB_WALK_CONTEXT_INVALID);
		a = e->st.base + 5 * 8;
		ck_assert_int_eq(pt_arm_read64(&e->b, a, &d), 0);
		/* Span 1: only index 0 of the level-2 table. */
		ck_assert_int_eq(pt_arm_write64(&e->b, a, (d & ~0x1fULL) | 1), 0);
		expect_fault(e, sid, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
		/* Span 3 covers index 3. */
		ck_assert_int_eq(pt_arm_write64(&e->b, a, (d & ~0x1fULL) | 3), 0);
		expect_ok(e, sid, NOSSID, 0, R, 0, 1ULL << 30, RW);
		/* Span beyond SPLIT + 1, reserved Span, RES0 bit 5. */
		ck_assert_int_eq(pt_arm_write64(&e->b, a, (d & ~0x1fULL) |
						(splits[i] + 2)), 0);
		expect_fault(e, sid, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
		ck_assert_int_eq(pt_arm_write64(&e->b, a, d | 0x20), 0);
		expect_fault(e, sid, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
		/* L2Ptr beyond guest memory. */
		ck_assert_int_eq(pt_arm_write64(&e->b, a, (splits[i] + 1) |
						0x7000000000ULL), 0);
		expect_fault(e, sid, NOSSID, 0, R, IOTLB_WALK_TABLE_OUTSIDE);
		env_free(e);
	}
}
END_TEST

/* SMMU 5.2 S1CDMax / S1DSS / S1Fmt, 5.3 L1CD, 5.4 CD validity. */
START_TEST(test_cd_tables)
{
	struct env *e = env_new(0);
	struct pt_arm_tt tt, tt2;
	struct pt_arm_cdtab ct;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true }, c;
	struct pt_arm_ste ste = { .valid = true, .config = 5 };
	uint64_t v[8], a, cda;
	unsigned int fmt;

	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	tt_new(e, &e->b, &tt2, 1, 12, 48, -1, 1);
	map(e, &e->b, &tt, 0, 0x1000000, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);
	map(e, &e->b, &tt2, 0, 0x2000000, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);

	/* One CD: no SubstreamID allowed. */
	cda = setup_s1(e, 1, &tt, NULL);
	expect_ok(e, 1, NOSSID, 0, R, 0x1000000, 0x1000, RW);
	expect_fault(e, 1, 0, 0, R, IOTLB_WALK_CONTEXT_INVALID);

	/* ILLEGAL CDs. */
	c = cd, pt_arm_cd_set_tt(&c, 0, &tt);
	c.valid = false, pt_arm_cd_encode(&c, v);
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	c.valid = true, c.t0sz = 15, pt_arm_cd_encode(&c, v);
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	c.t0sz = 16, c.ips = 2, pt_arm_cd_encode(&c, v);	/* TTB0 < 2^40 */
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_ok(e, 1, NOSSID, 0, R, 0x1000000, 0x1000, RW);
	c.ips = 0, pt_arm_cd_encode(&c, v);	/* TTB0 = 2^31+ > 32 bits? */
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_ok(e, 1, NOSSID, 0, R, 0x1000000, 0x1000, RW);
	c.ttb0 = 1ULL << 32, pt_arm_cd_encode(&c, v);
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	c = cd, pt_arm_cd_set_tt(&c, 0, &tt), pt_arm_cd_encode(&c, v);
	v[0] &= ~(1ULL << 41);	/* AArch32 tables */
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	pt_arm_cd_encode(&c, v);
	v[0] |= 3ULL << 6;	/* reserved TG0 */
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	pt_arm_cd_encode(&c, v);
	v[0] &= ~(1ULL << 30);	/* EPD1 = 0 with TG1 = 0b00 (reserved) */
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	pt_arm_cd_encode(&c, v);
	v[2] |= 1ULL << 58;	/* CD.DS: FEAT_LPA2 not here */
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	c.t0sz = 40, pt_arm_cd_encode(&c, v);	/* only with STT */
	ck_assert_int_eq(pt_arm_write_struct(&e->b, cda, v), 0);
	e->smmu.features &= ~IOTLB_WALK_ARM_F_STT;
	expect_fault(e, 1, NOSSID, 0, R, IOTLB_WALK_CONTEXT_INVALID);
	e->smmu.features |= IOTLB_WALK_ARM_F_STT;

	/* Substreams, linear and 2-level CD tables. */
	for (fmt = 0; fmt < 3; fmt++) {
		uint32_t ssid = fmt == 2 ? 1029 : 77;

		ck_assert_int_eq(pt_arm_cdtab_new(&e->b, &ct, fmt, 11), 0);
		e->smmu.ssidsize = 11;
		c = cd, pt_arm_cd_set_tt(&c, 0, &tt), pt_arm_cd_encode(&c, v);
		ck_assert_int_eq(pt_arm_cd_addr(&e->b, &ct, 0, &a), 0);
		ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
		pt_arm_cd_set_tt(&c, 0, &tt2), pt_arm_cd_encode(&c, v);
		ck_assert_int_eq(pt_arm_cd_addr(&e->b, &ct, ssid, &a), 0);
		ck_assert_int_eq(pt_arm_write_struct(&e->b, a, v), 0);
		ste = (struct pt_arm_ste){ .valid = true, .config = 5,
					   .s1ctxptr = ct.ptr, .s1fmt = fmt,
					   .s1cdmax = 11, .s1dss = 2 };
		put_ste(e, 2, &ste);
		expect_ok(e, 2, ssid, 0, R, 0x2000000, 0x1000, RW);
		/* No SubstreamID: S1DSS 0b10 uses CD 0, and SSID 0 is refused. */
		expect_ok(e, 2, NOSSID, 0, R, 0x1000000, 0x1000, RW);
		expect_fault(e, 2, 0, 0, R, IOTLB_WALK_BLOCKED);
		expect_fault(e, 2, 1U << 11, 0, R, IOTLB_WALK_CONTEXT_INVALID);
		ste.s1dss = 0, put_ste(e, 2, &ste);
		expect_fault(e, 2, NOSSID, 0, R, IOTLB_WALK_BLOCKED);
		ste.s1dss = 1, put_ste(e, 2, &ste);
		expect_ok(e, 2, NOSSID, 0x1000, R, 0, 1ULL << 30, RW);
		/* S1CDMax beyond SSIDSIZE. */
		e->smmu.ssidsize = 10;
		expect_fault(e, 2, ssid & 0x3ff, 0, R, IOTLB_WALK_CONTEXT_INVALID);
		e->smmu.ssidsize = 11;
		/* An SSID whose L1CD is invalid: C_BAD_SUBSTREAMID. */
		if (fmt)
			expect_fault(e, 2, ssid + (fmt == 1 ? 64 : 1024), 0, R,
				     IOTLB_WALK_CONTEXT_INVALID);
	}
	env_free(e);
}
END_TEST

/* Hostile tables: outside memory, at the very end, loops. */
START_TEST(test_hostile_tables)
{
	struct env *e = env_new(0);
	struct pt_arm_tt tt;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	uint64_t a, end = RAM_GPA + RAM_SIZE;
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r;

	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	setup_s1(e, 1, &tt, NULL);
	map(e, &e->b, &tt, 0x1000, 0x2000, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);
	/* A level-3 table that is the last page of RAM; use its last entry. */
	ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0x1ff000, 2, false, &a), 0);
	ck_assert_int_eq(pt_arm_write64(&e->b, a, (end - 0x1000) | 3), 0);
	*(uint64_t *)(void *)(e->ram + RAM_SIZE - 8) = 0x9000 | PT_ARM_AF |
						      PT_ARM_S1_EL0 | 3;
	expect_ok(e, 1, NOSSID, 0x1ff000, R, 0x9000, 0x1000, RW);
	expect_fault(e, 1, NOSSID, 0x1fe000, R, IOTLB_WALK_NOT_PRESENT);
	/* One page past the end: outside every region. */
	ck_assert_int_eq(pt_arm_write64(&e->b, a, end | 3), 0);
	f = fault_of(e, 1, NOSSID, 0x1ff000, R);
	ck_assert_msg(f.reason == IOTLB_WALK_TABLE_OUTSIDE && f.level == 1 &&
		      f.entry_gpa == end + 0xff8,
		      "past the end: got %s level %u gpa %#llx",
		      iotlb__walk_fault_name(f.reason), f.level,
		      (unsigned long long)f.entry_gpa);
	/* TTB0 outside memory. */
	cd.ttb0 = 0x10000000;
	cd.t0sz = 16;
	cd.tg0_granule = 12;
	{
		uint64_t v[8], cdp, d;

		ck_assert_int_eq(pt_arm_read64(&e->b, ste_addr(e, 1), &d), 0);
		cdp = d & 0x00ffffffffffffc0ULL;
		pt_arm_cd_encode(&cd, v);
		ck_assert_int_eq(pt_arm_write_struct(&e->b, cdp, v), 0);
	}
	expect_fault(e, 1, NOSSID, 0x1000, R, IOTLB_WALK_TABLE_OUTSIDE);
	setup_s1(e, 1, &tt, NULL);
	/* Every level's entry pointing back at the root table. */
	for (int l = 0; l < 3; l++) {
		ck_assert_int_eq(pt_arm_entry(&e->b, &tt, 0, 0, false, &a), 0);
		ck_assert_int_eq(pt_arm_write64(&e->b, a, tt.root | 3), 0);
	}
	r = walk(e, 1, NOSSID, 0, R, &res, &f);
	ck_assert_msg(r == IOTLB_WALK_FAULTED || (r == 0 && res.mem_reads <= 8),
		      "self loop: got %d", r);
	/* The root entry as a page: a level-3 "page" of the root table. */
	ck_assert_msg(r == 0 || f.reason == IOTLB_WALK_ACCESS_FLAG,
		      "self loop: %s", iotlb__walk_fault_name(f.reason));
	env_free(e);
}
END_TEST

/* Thousands of random iovas against the builder's record. */
static void crosscheck(struct env *e, struct pt_arm_tt *tt, uint32_t sid,
		       unsigned int stage, unsigned int seed)
{
	unsigned int g = tt->granule, i;
	uint64_t span = 1ULL << (tt->ia < 40 ? tt->ia : 40);

	srandom(seed);
	for (i = 0; i < 200; i++) {
		unsigned int k = (unsigned int)random() % 3;
		unsigned int shift = k == 0 ? g : k == 1 ? g + g - 3 : g;
		uint64_t size = 1ULL << shift;
		uint64_t iova = ((uint64_t)random() << 20 ^ (uint64_t)random()) %
				span & ~(size - 1);
		uint64_t oa = ((uint64_t)random() << 16) & ((1ULL << 44) - 1) &
			      ~(size - 1);
		uint64_t perm = (uint64_t)random() & 3;
		uint64_t attr = PT_ARM_AF | (stage == 1 ?
			(PT_ARM_S1_EL0 | (perm & 1 ? PT_ARM_S1_RO : 0)) : perm << 6);

		if (shift > 30 || pt_arm_lookup(tt, iova) ||
		    pt_arm_lookup(tt, iova + size - 1))
			continue;
		/* -EEXIST when a block would sit over a table, or vice versa. */
		(void)pt_arm_map(&e->b, tt, iova, oa, size, shift, attr);
	}
	ck_assert_uint_gt(tt->nrec, 50);
	for (i = 0; i < 5000; i++) {
		uint64_t iova;
		const struct pt_arm_rec *rec;
		struct iotlb_walk_result res;
		struct iotlb_walk_faultinfo f;
		uint32_t want;
		int r;

		if (i & 1) {
			rec = &tt->rec[(unsigned int)random() % tt->nrec];
			iova = rec->iova + ((uint64_t)random() % rec->size);
		} else {
			iova = (((uint64_t)random() << 24) ^ (uint64_t)random()) % span;
		}
		rec = pt_arm_lookup(tt, iova);
		r = walk(e, sid, NOSSID, iova, 0, &res, &f);
		if (!rec) {
			ck_assert_msg(r == IOTLB_WALK_FAULTED &&
				      f.reason == IOTLB_WALK_NOT_PRESENT,
				      "walk iova %#llx: got %d want IOTLB_WALK_NOT_PRESENT",
				      (unsigned long long)iova, r);
			continue;
		}
		if (stage == 1)
			want = rec->attr & PT_ARM_S1_RO ? R : RW;
		else
			want = (uint32_t)(rec->attr >> 6) & 3;
		if (stage == 1 || want) {
			ck_assert_msg(r == 0, "walk iova %#llx: got %d (%s) want ok",
				      (unsigned long long)iova, r,
				      iotlb__walk_fault_name(f.reason));
			ck_assert_msg(res.gpa == rec->oa + (res.iova - rec->iova) &&
				      res.size == 1ULL << rec->shift &&
				      res.perm == want &&
				      iova - res.iova < res.size,
				      "walk iova %#llx: got gpa %#llx size %#llx perm %u want oa %#llx shift %u perm %u",
				      (unsigned long long)iova,
				      (unsigned long long)res.gpa,
				      (unsigned long long)res.size, res.perm,
				      (unsigned long long)rec->oa, rec->shift, want);
		}
		r = walk(e, sid, NOSSID, iova, W, &res, &f);
		ck_assert_msg((r == 0) == !!(want & W),
			      "write iova %#llx: got %d want %s",
			      (unsigned long long)iova, r,
			      want & W ? "ok" : "permission fault");
	}
}

START_TEST(test_random_crosscheck)
{
	for (int gi = 0; gi < 3; gi++) {
		struct env *e = env_new(0);
		struct pt_arm_tt t1, t2;

		tt_new(e, &e->b, &t1, 1, granules[gi], 48, -1, 0);
		setup_s1(e, 1, &t1, NULL);
		crosscheck(e, &t1, 1, 1, 1000 + (unsigned int)gi);
		tt_new(e, &e->b, &t2, 2, granules[gi], 40,
		       granules[gi] == 12 ? 1 : 2, 1);
		setup_s2(e, 2, &t2, 5);
		crosscheck(e, &t2, 2, 2, 2000 + (unsigned int)gi);
		env_free(e);
	}
}
END_TEST

START_TEST(test_bad_arguments_and_trace)
{
	struct env *e = env_new(0);
	struct iotlb_walk_arm_cfg cfg;
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_trace tr = { 0 };
	struct pt_arm_tt tt;
	uint32_t reads = 0;

	tt_new(e, &e->b, &tt, 1, 12, 48, -1, 0);
	setup_s1(e, 1, &tt, NULL);
	map(e, &e->b, &tt, 0, 0x5000, 0x1000, 12, PT_ARM_AF | PT_ARM_S1_EL0);
	ck_assert_int_eq(iotlb__walk_arm_ste(e->mem, &e->smmu, 1, NOSSID, &cfg,
					     &reads, &f, &tr), 0);
	ck_assert_uint_eq(cfg.mode, IOTLB_WALK_ARM_S1);
	ck_assert_uint_eq(reads, 2);
	ck_assert_int_eq(iotlb__walk_arm(e->mem, &cfg, 0, R, &res, &f, &tr), 0);
	ck_assert_uint_eq(tr.n, 6);
	ck_assert_str_eq(tr.step[0].what, "ste");
	ck_assert_str_eq(tr.step[1].what, "cd");
	ck_assert_uint_eq(tr.step[2].level, 4);
	ck_assert_uint_eq(tr.step[5].level, 1);
	ck_assert_int_eq(iotlb__walk_arm(NULL, &cfg, 0, R, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_arm(e->mem, &cfg, 0, 4, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_arm(e->mem, &cfg, 0, R, NULL, &f, NULL), -EINVAL);
	cfg.s1.tt[0].granule = 13;
	ck_assert_int_eq(iotlb__walk_arm(e->mem, &cfg, 0, R, &res, &f, NULL), -EINVAL);
	cfg.s1.tt[0].granule = 12;
	cfg.mode = 9;
	ck_assert_int_eq(iotlb__walk_arm(e->mem, &cfg, 0, R, &res, &f, NULL), -EINVAL);
	e->smmu.oas = 47;
	ck_assert_int_eq(walk(e, 1, NOSSID, 0, R, &res, &f), -EINVAL);
	e->smmu.oas = 48;
	/* fault may be NULL. */
	ck_assert_int_eq(iotlb__walk_arm_smmu(e->mem, &e->smmu, 1, NOSSID, 0x9000,
					      R, &res, NULL, NULL), IOTLB_WALK_FAULTED);
	env_free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walk-arm");
	TCase *tc = tcase_create("smmuv3");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_s1_pages_every_level);
	tcase_add_test(tc, test_s1_blocks);
	tcase_add_test(tc, test_s1_reserved_encodings);
	tcase_add_test(tc, test_res0_bits);
	tcase_add_test(tc, test_output_address_size);
	tcase_add_test(tc, test_ttb1_region);
	tcase_add_test(tc, test_s1_permissions);
	tcase_add_test(tc, test_access_flag);
	tcase_add_test(tc, test_s2_levels_concatenation);
	tcase_add_test(tc, test_s2_permissions_blocks);
	tcase_add_test(tc, test_s2_ste_illegal);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_alignment_and_wide_inputs);
	tcase_add_test(tc, test_stream_table);
	tcase_add_test(tc, test_cd_tables);
	tcase_add_test(tc, test_hostile_tables);
	tcase_add_test(tc, test_random_crosscheck);
	tcase_add_test(tc, test_bad_arguments_and_trace);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
