/* SPDX-License-Identifier: MIT */
/*
 * Description: AMD-Vi walker (spec 48882 rev 3.x, 2.2.2 device table,
 * 2.2.3 host page tables) against the independent builder in pt-amd.c:
 * every level count and page size, level skipping, permissions, reserved
 * bits, address width, hostile tables, randomized cross-check.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "pt-amd.h"
#include "walk.h"
#include "walk-amd.h"

#define RAM_GPA		0x10000000ULL
#define RAM_SIZE	(16ULL << 20)
#define RW		(IOTLB_WALK_READ | IOTLB_WALK_WRITE)
#define NL(e)		((unsigned int)((e) >> 9) & 7U)
#define ADDR(e)		((e) & 0x000ffffffffff000ULL)

typedef unsigned long long ull;

struct env {
	struct iotlb_mem *mem;
	uint8_t *ram;
	struct pt_amd_builder b;
};

static void env_init(struct env *t, unsigned int levels)
{
	struct iotlb_mem_region r;

	t->ram = aligned_alloc(4096, RAM_SIZE);
	ck_assert_ptr_nonnull(t->ram);
	memset(t->ram, 0, RAM_SIZE);
	ck_assert_int_eq(iotlb_mem_new(&t->mem), 0);
	r.gpa = RAM_GPA;
	r.size = RAM_SIZE;
	r.local = t->ram;
	r.owner_addr = 0x7f0000000000ULL;
	r.flags = 0;
	ck_assert_int_eq(iotlb_mem_add_region(t->mem, &r), 0);
	ck_assert_int_eq(pt_amd_init(&t->b, t->ram, RAM_GPA, RAM_SIZE), 0);
	if (levels)
		ck_assert_int_eq(pt_amd_pt_create(&t->b, levels), 0);
}

/* Start over with an empty buffer (same region, new builder). */
static void env_reset(struct env *t, unsigned int levels)
{
	pt_amd_fini(&t->b);
	memset(t->ram, 0, t->b.next);
	ck_assert_int_eq(pt_amd_init(&t->b, t->ram, RAM_GPA, RAM_SIZE), 0);
	if (levels)
		ck_assert_int_eq(pt_amd_pt_create(&t->b, levels), 0);
}

static void env_fini(struct env *t)
{
	pt_amd_fini(&t->b);
	iotlb_mem_unref(t->mem);
	free(t->ram);
}

static struct iotlb_walk_amd_cfg env_cfg(const struct env *t, unsigned int perm)
{
	struct iotlb_walk_amd_cfg c;

	memset(&c, 0, sizeof(c));
	c.root = t->b.root;
	c.levels = t->b.levels;
	c.perm = perm;
	return c;
}

static uint64_t rd(const struct env *t, uint64_t gpa)
{
	uint64_t v = 0;

	ck_assert_int_eq(pt_amd_read_u64(&t->b, gpa, &v), 0);
	return v;
}

static void wr(struct env *t, uint64_t gpa, uint64_t v)
{
	ck_assert_int_eq(pt_amd_write_u64(&t->b, gpa, v), 0);
}

static uint64_t entry_gpa(const struct env *t, uint64_t iova, unsigned int level)
{
	uint64_t g = 0;
	int r = pt_amd_entry_gpa(&t->b, iova, level, &g);

	ck_assert_msg(r == 0, "entry_gpa iova %#llx level %u: got %d",
		      (ull)iova, level, r);
	return g;
}

static const char *fname(enum iotlb_walk_fault f)
{
	return iotlb__walk_fault_name(f);
}

/* Walk and require success with exactly this leaf. */
static void expect_ok(const struct env *t, const struct iotlb_walk_amd_cfg *c,
		      uint64_t iova, unsigned int access, uint64_t base,
		      uint64_t size, uint64_t gpa, unsigned int perm,
		      unsigned int level, const char *rule)
{
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r = iotlb__walk_amd(t->mem, c, iova, access, &res, &f, NULL);

	ck_assert_msg(r == 0, "%s: walk iova %#llx: got %d (%s at level %u) "
		      "want success", rule, (ull)iova, r, fname(f.reason),
		      f.level);
	ck_assert_msg(res.iova == base && res.size == size && res.gpa == gpa,
		      "%s: walk iova %#llx: got leaf %#llx+%#llx -> %#llx, "
		      "want %#llx+%#llx -> %#llx", rule, (ull)iova,
		      (ull)res.iova, (ull)res.size, (ull)res.gpa, (ull)base,
		      (ull)size, (ull)gpa);
	ck_assert_msg(res.perm == perm && res.level == level,
		      "%s: walk iova %#llx: got perm %u level %u, want perm "
		      "%u level %u", rule, (ull)iova, res.perm, res.level,
		      perm, level);
}

static void expect_fault(const struct env *t,
			 const struct iotlb_walk_amd_cfg *c, uint64_t iova,
			 unsigned int access, enum iotlb_walk_fault want,
			 unsigned int level, const char *rule)
{
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r = iotlb__walk_amd(t->mem, c, iova, access, &res, &f, NULL);

	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == want,
		      "%s: walk iova %#llx: got %d (%s) want %s", rule,
		      (ull)iova, r, r == IOTLB_WALK_FAULTED ?
		      fname(f.reason) : "-", fname(want));
	ck_assert_msg(f.level == level && f.addr == iova,
		      "%s: walk iova %#llx: fault at level %u addr %#llx, "
		      "want level %u", rule, (ull)iova, f.level, (ull)f.addr,
		      level);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* 2.2.3: Mode 1..6 levels; each level indexes 9 iova bits above 12. */
START_TEST(test_every_level_count_4k)
{
	struct env t;

	env_init(&t, 0);
	for (unsigned int levels = 1; levels <= 6; levels++) {
		uint64_t reach = levels == 6 ? 0 : 1ULL << (12 + 9 * levels);
		uint64_t iova = (0xfedcba9876543000ULL & (reach - 1)) | 0x3000;
		uint64_t gpa = 0x000abcdef0123000ULL;
		struct iotlb_walk_amd_cfg c;
		struct iotlb_walk_result res;
		struct iotlb_walk_faultinfo f;

		env_reset(&t, levels);
		ck_assert_int_eq(pt_amd_map(&t.b, iova, gpa, 4096, PT_AMD_R | PT_AMD_W, 0), 0);
		c = env_cfg(&t, RW);
		expect_ok(&t, &c, iova + 0x123, IOTLB_WALK_WRITE, iova, 4096,
			  gpa, RW, 1, "4 KiB leaf at level 1");
		ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, iova, 0, &res, &f, NULL), 0);
		ck_assert_msg(res.mem_reads == levels,
			      "levels %u: got %u reads want %u", levels,
			      res.mem_reads, levels);
		expect_fault(&t, &c, iova + 4096, IOTLB_WALK_READ,
			     IOTLB_WALK_NOT_PRESENT, 1, "PR = 0 in the PTE");
		if (levels > 1)
			expect_fault(&t, &c, iova ^ (1ULL << (12 + 9 * (levels - 1))),
				     IOTLB_WALK_READ, IOTLB_WALK_NOT_PRESENT,
				     levels, "PR = 0 in the root PDE");
	}
	env_fini(&t);
}
END_TEST

/*
 * Every page size the format has: the default size of levels 1-5 (Next
 * Level 0) and every other power of two from 8 KiB to 2^53 (Next Level 7,
 * "Example Page Size Encodings"), under every level count that reaches it.
 */
START_TEST(test_every_page_size)
{
	struct env t;

	env_init(&t, 0);
	for (unsigned int lg2 = 12; lg2 <= 53; lg2++) {
		uint64_t size = 1ULL << lg2;
		unsigned int leaf_level = (lg2 - 3) / 9;

		for (unsigned int levels = leaf_level; levels <= 6; levels++) {
			uint64_t reach = levels == 6 ? ~0ULL :
					 (1ULL << (12 + 9 * levels)) - 1;
			uint64_t iova = 0x5a5a5a5a5a5a5a5aULL & reach & ~(size - 1);
			uint64_t gpa = 0x000c3c3c3c3c3000ULL & ~(size - 1);
			bool dflt = lg2 == 9 * leaf_level + 3;
			uint64_t e, probe[3];
			struct iotlb_walk_amd_cfg c;
			char rule[96];

			env_reset(&t, levels);
			ck_assert_int_eq(pt_amd_map(&t.b, iova, gpa, size, PT_AMD_R, 0), 0);
			e = rd(&t, entry_gpa(&t, iova, leaf_level));
			ck_assert_msg(NL(e) == (dflt ? 0U : 7U),
				      "size 2^%u: Next Level %u", lg2, NL(e));
			c = env_cfg(&t, RW);
			snprintf(rule, sizeof(rule), "2^%u page, %u levels, NL %u",
				 lg2, levels, NL(e));
			probe[0] = iova;
			probe[1] = iova + size / 2 + 0x10;
			probe[2] = iova + size - 1;
			for (int i = 0; i < 3; i++)
				expect_ok(&t, &c, probe[i], IOTLB_WALK_READ, iova,
					  size, gpa, IOTLB_WALK_READ,
					  leaf_level, rule);
			expect_fault(&t, &c, iova, IOTLB_WALK_WRITE,
				     IOTLB_WALK_PERMISSION, leaf_level, rule);
		}
	}
	/* 2^54..2^56 would need address bits above 51 (zero-extended). */
	env_reset(&t, 6);
	for (unsigned int lg2 = 54; lg2 <= 57; lg2++)
		ck_assert_int_eq(pt_amd_map(&t.b, 0, 0, 1ULL << lg2, PT_AMD_R, 0),
				 -EINVAL);
	env_fini(&t);
}
END_TEST

/* A Next Level 7 PTE is replicated over its run; any copy translates. */
START_TEST(test_sized_page_replicas)
{
	struct env t;
	struct iotlb_walk_amd_cfg c;
	const uint64_t iova = 0x40000000ULL + 0x100000, size = 0x40000;	/* 256 KiB */

	env_init(&t, 3);
	ck_assert_int_eq(pt_amd_map(&t.b, iova, 0x7780000ULL - 0x40000, size,
				    PT_AMD_R | PT_AMD_W, 0), 0);
	c = env_cfg(&t, RW);
	for (uint64_t off = 0; off < size; off += 4096)
		expect_ok(&t, &c, iova + off, 0, iova, size, 0x7740000ULL, RW,
			  1, "every replica of a 256 KiB page");
	/* Only the copy the iova indexes is read: a lone sized PTE works. */
	wr(&t, entry_gpa(&t, iova, 1), 0);
	expect_fault(&t, &c, iova, 0, IOTLB_WALK_NOT_PRESENT, 1,
		     "cleared replica");
	expect_ok(&t, &c, iova + 4096, 0, iova, size, 0x7740000ULL, RW, 1,
		  "remaining replica");
	env_fini(&t);
}
END_TEST

/*
 * 2.2.3 level skipping: a PDE whose Next Level is below level - 1 skips
 * tables; the iova bits those tables would have indexed must be zero.
 */
START_TEST(test_level_skipping)
{
	struct env t;
	struct iotlb_walk_amd_cfg c;
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	uint64_t root_e, iova2;

	env_init(&t, 6);
	c = env_cfg(&t, RW);
	/* 6 -> 1 directly: two reads for a 4 KiB page. */
	ck_assert_int_eq(pt_amd_map(&t.b, 0x5000, 0x99000, 4096, PT_AMD_R, PT_AMD_MAP_SKIP), 0);
	root_e = rd(&t, t.b.root);
	ck_assert_msg(NL(root_e) == 1, "root PDE Next Level %u want 1", NL(root_e));
	expect_ok(&t, &c, 0x5abc, IOTLB_WALK_READ, 0x5000, 4096, 0x99000,
		  IOTLB_WALK_READ, 1, "PDE 6 -> table 1");
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0x5000, 0, &res, &f, NULL), 0);
	ck_assert_uint_eq(res.mem_reads, 2);
	/* Each skipped level's index bits, one at a time, fault. */
	for (unsigned int lvl = 2; lvl <= 5; lvl++) {
		uint64_t bad = 0x5000 | (1ULL << (12 + 9 * (lvl - 1) + 4));

		expect_fault(&t, &c, bad, IOTLB_WALK_READ, IOTLB_WALK_ADDR_WIDTH,
			     6, "non-zero iova bits of a skipped level");
	}
	/* The builder un-skips to map beside it; both still translate. */
	iova2 = 0x5000 | (1ULL << 30);
	ck_assert_int_eq(pt_amd_map(&t.b, iova2, 0xaa000, 4096, PT_AMD_W, PT_AMD_MAP_SKIP), 0);
	expect_ok(&t, &c, 0x5000, 0, 0x5000, 4096, 0x99000, IOTLB_WALK_READ,
		  1, "old path after split");
	expect_ok(&t, &c, iova2, 0, iova2, 4096, 0xaa000, IOTLB_WALK_WRITE,
		  1, "new path after split");
	/* The split table went in at level 3, the highest index that
	 * differs: 6 -> 3 -> 1 for both. */
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, iova2, 0, &res, &f, NULL), 0);
	ck_assert_msg(res.mem_reads == 3, "split path reads %u want 3", res.mem_reads);
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0x5000, 0, &res, &f, NULL), 0);
	ck_assert_msg(res.mem_reads == 3, "old path reads %u want 3", res.mem_reads);

	/* Skip into a large page: 4 -> 2 for a 2 MiB leaf. */
	env_reset(&t, 4);
	c = env_cfg(&t, RW);
	ck_assert_int_eq(pt_amd_map(&t.b, 0x600000, 0x40000000, 0x200000,
				    PT_AMD_R | PT_AMD_W, PT_AMD_MAP_SKIP), 0);
	ck_assert_uint_eq(NL(rd(&t, t.b.root)), 2);
	expect_ok(&t, &c, 0x7fffff, IOTLB_WALK_WRITE, 0x600000, 0x200000,
		  0x40000000, RW, 2, "PDE 4 -> table 2, 2 MiB leaf");
	expect_fault(&t, &c, 0x600000 | (1ULL << 30), 0,
		     IOTLB_WALK_ADDR_WIDTH, 4, "skipped level 3 bits");

	/* Hand-made: level 5 PDE skipping to 2 inside a 6-level table. */
	env_reset(&t, 6);
	c = env_cfg(&t, RW);
	{
		uint64_t t5, t2, iova = 0x0123000000000000ULL | 0x3fe00000ULL;

		ck_assert_int_eq(pt_amd_alloc_page(&t.b, &t5), 0);
		ck_assert_int_eq(pt_amd_alloc_page(&t.b, &t2), 0);
		wr(&t, t.b.root + 8 * ((iova >> 57) & 511),
		   1 | (5ULL << 9) | t5 | (3ULL << 61));
		wr(&t, t5 + 8 * ((iova >> 48) & 511), 1 | (2ULL << 9) | t2 | (3ULL << 61));
		wr(&t, t2 + 8 * ((iova >> 21) & 511), 1 | 0x80000000ULL | (1ULL << 61));
		/* bits 47:30 are zero: fine */
		expect_ok(&t, &c, iova, IOTLB_WALK_READ, iova & ~0x1fffffULL,
			  0x200000, 0x80000000ULL, IOTLB_WALK_READ, 2,
			  "hand-made 5 -> 2 skip");
		expect_fault(&t, &c, iova | (1ULL << 39), IOTLB_WALK_READ,
			     IOTLB_WALK_ADDR_WIDTH, 5, "bit 39 (level 4 index)");
		expect_fault(&t, &c, iova | (1ULL << 30), IOTLB_WALK_READ,
			     IOTLB_WALK_ADDR_WIDTH, 5, "bit 30 (level 3 index)");
	}
	env_fini(&t);
}
END_TEST

/*
 * 2.2.3: IR/IW of the DTE, every PDE and the PTE are ANDed; the result is
 * the whole grant, and an access outside it faults.
 */
START_TEST(test_permission_and)
{
	struct env t;
	const uint64_t iova = 0x12345678000ULL;
	uint64_t g4, g2, g1, e4, e2, e1;

	env_init(&t, 4);
	ck_assert_int_eq(pt_amd_map(&t.b, iova, 0x1000, 4096, PT_AMD_R | PT_AMD_W, 0), 0);
	g4 = entry_gpa(&t, iova, 4);
	g2 = entry_gpa(&t, iova, 2);
	g1 = entry_gpa(&t, iova, 1);
	e4 = rd(&t, g4) & ~(3ULL << 61);
	e2 = rd(&t, g2) & ~(3ULL << 61);
	e1 = rd(&t, g1) & ~(3ULL << 61);
	for (unsigned int k = 0; k < 256; k++) {
		unsigned int pd = k & 3, p4 = (k >> 2) & 3, p2 = (k >> 4) & 3,
			     p1 = (k >> 6) & 3, all = pd & p4 & p2 & p1;
		struct iotlb_walk_amd_cfg c = env_cfg(&t, pd);
		char rule[80];

		wr(&t, g4, e4 | ((uint64_t)p4 << 61));
		wr(&t, g2, e2 | ((uint64_t)p2 << 61));
		wr(&t, g1, e1 | ((uint64_t)p1 << 61));
		snprintf(rule, sizeof(rule), "DTE %u & L4 %u & L2 %u & PTE %u",
			 pd, p4, p2, p1);
		/* access 0 looks the leaf up and reports the full grant */
		expect_ok(&t, &c, iova, 0, iova, 4096, 0x1000, all, 1, rule);
		for (unsigned int acc = 1; acc <= 3; acc++) {
			unsigned int lvl, cum = pd;

			if ((acc & all) == acc) {
				expect_ok(&t, &c, iova, acc, iova, 4096, 0x1000,
					  all, 1, rule);
				continue;
			}
			/* the walk stops at the first entry that denies */
			if ((acc & cum) != acc)
				lvl = 0;
			else if ((acc & (cum &= p4)) != acc)
				lvl = 4;
			else if ((acc & (cum &= p2)) != acc)
				lvl = 2;
			else
				lvl = 1;
			expect_fault(&t, &c, iova, acc, IOTLB_WALK_PERMISSION,
				     lvl, rule);
		}
	}
	env_fini(&t);
}
END_TEST

/* 2.2.3: PTE bits 58:52 and PDE bits 60:52 are reserved. */
START_TEST(test_reserved_bits)
{
	struct env t;
	struct iotlb_walk_amd_cfg c;
	const uint64_t iova = 0x7654321000ULL;
	uint64_t g3, g1, e3, e1;

	env_init(&t, 3);
	ck_assert_int_eq(pt_amd_map(&t.b, iova, 0x2000, 4096, PT_AMD_R, 0), 0);
	c = env_cfg(&t, RW);
	g3 = entry_gpa(&t, iova, 3);
	g1 = entry_gpa(&t, iova, 1);
	e3 = rd(&t, g3);
	e1 = rd(&t, g1);
	for (unsigned int bit = 52; bit <= 60; bit++) {
		char rule[64];

		snprintf(rule, sizeof(rule), "PDE reserved bit %u", bit);
		wr(&t, g3, e3 | (1ULL << bit));
		expect_fault(&t, &c, iova, IOTLB_WALK_READ, IOTLB_WALK_RESERVED, 3, rule);
		wr(&t, g3, e3);
		snprintf(rule, sizeof(rule), "PTE bit %u", bit);
		wr(&t, g1, e1 | (1ULL << bit));
		if (bit <= 58)
			expect_fault(&t, &c, iova, IOTLB_WALK_READ,
				     IOTLB_WALK_RESERVED, 1, rule);
		else	/* U (59) and FC (60) are not reserved in a PTE */
			expect_ok(&t, &c, iova, IOTLB_WALK_READ, iova, 4096,
				  0x2000, IOTLB_WALK_READ, 1, rule);
		wr(&t, g1, e1);
	}
	/* Bits 8:1 and 63 are ignored / A / D in both. */
	wr(&t, g3, e3 | 0x1feULL | (1ULL << 63));
	wr(&t, g1, e1 | 0x1feULL | (1ULL << 63));
	expect_ok(&t, &c, iova, IOTLB_WALK_READ, iova, 4096, 0x2000,
		  IOTLB_WALK_READ, 1, "ignored bits 8:1, 63");
	wr(&t, g3, e3);
	wr(&t, g1, e1);

	/* A PDE's Next Level must be below its own level. */
	for (unsigned int nl = 3; nl <= 6; nl++) {
		wr(&t, g3, (e3 & ~(7ULL << 9)) | ((uint64_t)nl << 9));
		expect_fault(&t, &c, iova, IOTLB_WALK_READ, IOTLB_WALK_RESERVED,
			     3, "PDE Next Level >= its level");
	}
	wr(&t, g3, e3);

	/* Next Level 7 encodings outside (default size, next level size). */
	/* bits 18:12 set, 19 clear: 1 MiB; bits 19:12 set: 2 MiB */
	wr(&t, g1, 1 | (7ULL << 9) | (1ULL << 61) | 0x300000ULL | 0x7f000ULL);
	expect_ok(&t, &c, iova, IOTLB_WALK_READ, iova & ~0xfffffULL, 0x100000,
		  0x300000, IOTLB_WALK_READ, 1, "NL 7 at level 1: 1 MiB");
	wr(&t, g1, 1 | (7ULL << 9) | (1ULL << 61) | 0x5000ULL);
	expect_ok(&t, &c, iova, IOTLB_WALK_READ, iova & ~0x3fffULL, 0x4000,
		  0x4000, IOTLB_WALK_READ, 1, "NL 7 at level 1: 16 KiB");
	wr(&t, g1, 1 | (7ULL << 9) | (1ULL << 61) | 0xff000ULL);
	expect_fault(&t, &c, iova, IOTLB_WALK_READ, IOTLB_WALK_RESERVED, 1,
		     "NL 7 at level 1 encoding 2 MiB");
	wr(&t, g1, 1 | (7ULL << 9) | (1ULL << 61) | 0x1ff000ULL);
	expect_fault(&t, &c, iova, IOTLB_WALK_READ, IOTLB_WALK_RESERVED, 1,
		     "NL 7 at level 1 encoding 4 MiB");
	wr(&t, g1, 1 | (7ULL << 9) | (1ULL << 61) | 0x000ffffffffff000ULL);
	expect_fault(&t, &c, iova, IOTLB_WALK_READ, IOTLB_WALK_RESERVED, 1,
		     "NL 7 at level 1 encoding 2^53");
	env_reset(&t, 3);
	c = env_cfg(&t, RW);
	ck_assert_int_eq(pt_amd_map(&t.b, iova & ~0x1fffffULL, 0x200000, 0x200000, PT_AMD_R, 0), 0);
	g3 = entry_gpa(&t, iova, 2);
	/* bits 19:12 set, 20 clear: encodes 2 MiB = the level 2 default */
	wr(&t, g3, 1 | (7ULL << 9) | (1ULL << 61) | 0x2ff000ULL);
	expect_fault(&t, &c, iova, IOTLB_WALK_READ, IOTLB_WALK_RESERVED, 2,
		     "NL 7 encoding its level's default size");
	wr(&t, g3, 1 | (7ULL << 9) | (1ULL << 61) | 0x5ff000ULL);
	expect_ok(&t, &c, iova, IOTLB_WALK_READ, iova & ~0x3fffffULL, 0x400000,
		  0x400000, IOTLB_WALK_READ, 2, "NL 7 at level 2: 4 MiB");
	env_fini(&t);
}
END_TEST

/* "Page Table Level Parameters": level 6 holds PDEs only. */
START_TEST(test_no_leaf_at_level_6)
{
	struct env t;
	struct iotlb_walk_amd_cfg c;

	env_init(&t, 6);
	c = env_cfg(&t, RW);
	wr(&t, t.b.root, 1 | (3ULL << 61));
	expect_fault(&t, &c, 0x1000, 0, IOTLB_WALK_RESERVED, 6, "NL 0 at level 6");
	wr(&t, t.b.root, 1 | (7ULL << 9) | (3ULL << 61) | 0xfffffffff000ULL);
	expect_fault(&t, &c, 0x1000, 0, IOTLB_WALK_RESERVED, 6, "NL 7 at level 6");
	env_fini(&t);
}
END_TEST

/* Mode n translates 12 + 9n bits; higher iova bits must be zero. */
START_TEST(test_address_width)
{
	struct env t;

	env_init(&t, 0);
	for (unsigned int levels = 1; levels <= 5; levels++) {
		uint64_t top = (1ULL << (12 + 9 * levels)) - 4096;
		struct iotlb_walk_amd_cfg c;

		env_reset(&t, levels);
		c = env_cfg(&t, RW);
		ck_assert_int_eq(pt_amd_map(&t.b, top, 0x3000, 4096, PT_AMD_W, 0), 0);
		ck_assert_int_eq(pt_amd_map(&t.b, top + 4096, 0, 4096, PT_AMD_W, 0), -ERANGE);
		expect_ok(&t, &c, top + 4095, IOTLB_WALK_WRITE, top, 4096,
			  0x3000, IOTLB_WALK_WRITE, 1, "last page in reach");
		for (unsigned int bit = 12 + 9 * levels; bit < 64; bit += 7)
			expect_fault(&t, &c, top | (1ULL << bit), 0,
				     IOTLB_WALK_ADDR_WIDTH, levels,
				     "iova above the Mode's reach");
		expect_fault(&t, &c, ~0ULL, 0, IOTLB_WALK_ADDR_WIDTH, levels,
			     "all-ones iova");
	}
	/* Six levels reach all 64 bits. */
	env_reset(&t, 6);
	{
		struct iotlb_walk_amd_cfg c = env_cfg(&t, RW);

		ck_assert_int_eq(pt_amd_map(&t.b, 0xfffffffffffff000ULL, 0x4000,
					    4096, PT_AMD_R, 0), 0);
		expect_ok(&t, &c, ~0ULL, IOTLB_WALK_READ, 0xfffffffffffff000ULL,
			  4096, 0x4000, IOTLB_WALK_READ, 1, "top page of 2^64");
		expect_fault(&t, &c, 0x8000000000000000ULL, 0,
			     IOTLB_WALK_NOT_PRESENT, 6, "bit 63 set, unmapped");
	}
	env_fini(&t);
}
END_TEST

/* Table pointers outside guest memory never read outside a region. */
START_TEST(test_table_outside)
{
	struct env t;
	struct iotlb_walk_amd_cfg c;
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	const uint64_t iova = 0x3000;
	uint64_t g;
	static uint8_t side[2][4096] __attribute__((aligned(4096)));
	struct iotlb_mem_region r;

	env_init(&t, 4);
	ck_assert_int_eq(pt_amd_map(&t.b, iova, 0x5000, 4096, PT_AMD_R, 0), 0);
	c = env_cfg(&t, RW);
	c.root = 0x1000;	/* below the region */
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, iova, 0, &res, &f, NULL),
			 IOTLB_WALK_FAULTED);
	ck_assert_msg(f.reason == IOTLB_WALK_TABLE_OUTSIDE && f.level == 4 &&
		      f.entry_gpa == 0x1000, "root outside: got %s level %u "
		      "gpa %#llx", fname(f.reason), f.level, (ull)f.entry_gpa);
	c.root = 0x000ffffffffff000ULL;	/* top of the 52-bit space */
	expect_fault(&t, &c, ~0ULL & 0xfffffffff000ULL, 0,
		     IOTLB_WALK_TABLE_OUTSIDE, 4, "root at 2^52 - 4 KiB");

	c = env_cfg(&t, RW);
	g = entry_gpa(&t, iova, 3);
	wr(&t, g, (rd(&t, g) & ~0x000ffffffffff000ULL) | (RAM_GPA + RAM_SIZE));
	expect_fault(&t, &c, iova, 0, IOTLB_WALK_TABLE_OUTSIDE, 2,
		     "PDE pointing just past the region");
	wr(&t, g, (rd(&t, g) & ~0x000ffffffffff000ULL) | (RAM_GPA + RAM_SIZE - 4096));
	/* The last page of the region as a level 2 table: entry 0 is zero. */
	expect_fault(&t, &c, iova, 0, IOTLB_WALK_NOT_PRESENT, 2,
		     "table in the region's last page");
	/* Its last entry is the region's last 8 bytes. */
	wr(&t, RAM_GPA + RAM_SIZE - 8, 1 | 0x600000ULL | (1ULL << 61));
	expect_ok(&t, &c, iova | (511ULL << 21), IOTLB_WALK_READ,
		  511ULL << 21, 0x200000, 0x600000, IOTLB_WALK_READ, 2,
		  "entry in the last 8 bytes of a region");

	/* A region whose size is not a multiple of 8: the last entry
	 * straddles its end and faults; the one before does not. */
	memset(side, 0, sizeof(side));
	r.gpa = 0x4000000;
	r.size = 4092;
	r.local = side[0];
	r.owner_addr = 0;
	r.flags = 0;
	ck_assert_int_eq(iotlb_mem_add_region(t.mem, &r), 0);
	{
		uint64_t e = 1 | 0x800000ULL | (1ULL << 61);

		memcpy(&side[0][4080], &e, 8);
		memcpy(&side[0][4088], &e, 4);	/* the 4 bytes that exist */
		memcpy(&side[1][0], (uint8_t *)&e + 4, 4);
	}
	c.root = 0x4000000;
	c.levels = 2;
	expect_ok(&t, &c, 510ULL << 21, 0, 510ULL << 21, 0x200000, 0x800000,
		  IOTLB_WALK_READ, 2, "entry ending 4 bytes before the end");
	expect_fault(&t, &c, 511ULL << 21, 0, IOTLB_WALK_TABLE_OUTSIDE, 2,
		     "entry straddling the end of a region");
	/* Guest memory is contiguous across adjacent regions. */
	r.gpa = 0x4000000 + 4092;
	r.size = 4096;
	r.local = side[1];
	ck_assert_int_eq(iotlb_mem_add_region(t.mem, &r), 0);
	expect_ok(&t, &c, 511ULL << 21, 0, 511ULL << 21, 0x200000, 0x800000,
		  IOTLB_WALK_READ, 2, "entry split over adjacent regions");
	/* A region without a local mapping cannot be read either. */
	r.gpa = 0x8000000;
	r.size = 0x1000;
	r.local = NULL;
	ck_assert_int_eq(iotlb_mem_add_region(t.mem, &r), 0);
	c.root = 0x8000000;
	expect_fault(&t, &c, 0, 0, IOTLB_WALK_TABLE_OUTSIDE, 2,
		     "table in a region with no local view");
	env_fini(&t);
}
END_TEST

/* Self-referencing and cyclic tables end within the depth bound. */
START_TEST(test_hostile_loops)
{
	struct env t;
	struct iotlb_walk_amd_cfg c;

	env_init(&t, 6);
	c = env_cfg(&t, RW);
	/* Every root entry points back at the root, with assorted levels. */
	for (unsigned int i = 0; i < 512; i++)
		wr(&t, t.b.root + 8 * i, 1 | ((uint64_t)(i % 8) << 9) |
		   t.b.root | (3ULL << 61));
	for (int n = 0; n < 20000; n++) {
		struct iotlb_walk_result res;
		struct iotlb_walk_faultinfo f;
		uint64_t iova = rnd();
		int r = iotlb__walk_amd(t.mem, &c, iova, rnd() & 3, &res, &f, NULL);

		ck_assert_msg(r == 0 || r == IOTLB_WALK_FAULTED,
			      "self-ref iova %#llx: got %d", (ull)iova, r);
		ck_assert_msg(res.mem_reads <= 6, "self-ref iova %#llx: %u reads",
			      (ull)iova, res.mem_reads);
		if (r == 0)
			ck_assert_msg(res.size >= 4096 &&
				      !(res.size & (res.size - 1)) &&
				      iova - res.iova < res.size,
				      "self-ref iova %#llx: bad leaf %#llx+%#llx",
				      (ull)iova, (ull)res.iova, (ull)res.size);
		else
			ck_assert_msg(f.reason != IOTLB_WALK_LOOP,
				      "self-ref iova %#llx: loop bound hit", (ull)iova);
	}
	/* The all-zero path: root[0] -> root as level 5 -> NL 5 at level 5. */
	wr(&t, t.b.root, 1 | (5ULL << 9) | t.b.root | (3ULL << 61));
	expect_fault(&t, &c, 0, 0, IOTLB_WALK_RESERVED, 5,
		     "table reused as its own child");
	/* Two tables pointing at each other. */
	{
		uint64_t a;

		ck_assert_int_eq(pt_amd_alloc_page(&t.b, &a), 0);
		wr(&t, t.b.root, 1 | (5ULL << 9) | a | (3ULL << 61));
		wr(&t, a, 1 | (4ULL << 9) | t.b.root | (3ULL << 61));
		expect_fault(&t, &c, 0, 0, IOTLB_WALK_RESERVED, 4,
			     "A -> B -> A");
	}
	env_fini(&t);
}
END_TEST

/* 2.2.2: device table lookup, DTE validity and fields. */
START_TEST(test_device_table)
{
	struct env t;
	struct iotlb_walk_amd_iommu io = { 0, 0 };
	struct iotlb_walk_amd_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_result res;
	struct pt_amd_dte d;
	uint64_t reg, q[4];
	int r;

	env_init(&t, 3);
	ck_assert_int_eq(pt_amd_map(&t.b, 0x200000, 0x600000, 0x200000, PT_AMD_R | PT_AMD_W, 0), 0);
	ck_assert_int_eq(pt_amd_devtab_create(&t.b, 1, &reg), 0);	/* 256 DTEs */
	io.dev_table_base = reg;
	memset(&d, 0, sizeof(d));
	d.v = d.tv = true;
	d.mode = 3;
	d.root = t.b.root;
	d.perm = PT_AMD_R | PT_AMD_W;
	d.domain_id = 0xbeef;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 0x00f8, &d), 0);

	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 0x00f8, &cfg, &f, NULL), 0);
	ck_assert_msg(cfg.root == t.b.root && cfg.levels == 3 && cfg.perm == RW &&
		      cfg.domain_id == 0xbeef &&
		      cfg.flags == IOTLB_WALK_AMD_F_DTE_VALID,
		      "DTE decode: root %#llx levels %u perm %u domain %#x",
		      (ull)cfg.root, cfg.levels, cfg.perm, cfg.domain_id);
	r = iotlb__walk_amd_device(t.mem, &io, 0x00f8, 0x234567, IOTLB_WALK_WRITE,
				   &res, &f, NULL);
	ck_assert_msg(r == 0 && res.gpa == 0x600000 && res.size == 0x200000 &&
		      res.mem_reads == 2 + 2, "device walk: got %d gpa %#llx "
		      "reads %u", r, (ull)res.gpa, res.mem_reads);

	/* Entries beyond Size: (1 + 1) pages hold DeviceIDs 0..255. */
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 255, &cfg, &f, NULL), 0);
	r = iotlb__walk_amd_dte(t.mem, &io, 256, &cfg, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_CONTEXT_INVALID,
		      "DeviceID 256 in a 2-page table: got %d %s", r, fname(f.reason));
	/* Reserved bits of the base register are not part of it. */
	io.dev_table_base = reg | (7ULL << 9) | (0xfffULL << 52);
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 0x00f8, &cfg, &f, NULL), 0);
	io.dev_table_base = reg;

	/* V = 0: untranslated, unchecked ("Feature Enablement ..."). */
	r = iotlb__walk_amd_dte(t.mem, &io, 7, &cfg, &f, NULL);
	ck_assert_msg(r == 0 && cfg.levels == 0 && cfg.perm == RW && cfg.flags == 0,
		      "V = 0: got %d levels %u perm %u", r, cfg.levels, cfg.perm);
	r = iotlb__walk_amd_device(t.mem, &io, 7, 0xdead1234567ULL, IOTLB_WALK_WRITE,
				   &res, &f, NULL);
	ck_assert_msg(r == 0 && res.iova == 0xdead1234000ULL &&
		      res.gpa == res.iova && res.size == 4096 && res.perm == RW &&
		      res.level == 0 && res.mem_reads == 1,
		      "V = 0 identity: got %d %#llx -> %#llx perm %u reads %u",
		      r, (ull)res.iova, (ull)res.gpa, res.perm, res.mem_reads);
	/* V = 0 with garbage in the rest: still pass-through. */
	q[0] = 0xfffffffffffffffeULL;
	q[1] = q[2] = q[3] = ~0ULL;
	ck_assert_int_eq(pt_amd_dte_write_raw(&t.b, reg, 8, q), 0);
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 8, &cfg, &f, NULL), 0);
	ck_assert_uint_eq(cfg.levels, 0);

	/* V = 1, TV = 0: translation information invalid, walk ends. */
	d.tv = false;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 9, &d), 0);
	r = iotlb__walk_amd_device(t.mem, &io, 9, 0x200000, 0, &res, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_BLOCKED &&
		      f.level == 0 && f.addr == 0x200000 &&
		      f.entry_gpa == pt_amd_dte_gpa(reg, 9),
		      "TV = 0: got %d %s", r, fname(f.reason));
	d.tv = true;

	/* Mode 0: no translation, DTE IR/IW still checked. */
	d.mode = 0;
	d.perm = PT_AMD_R;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 10, &d), 0);
	r = iotlb__walk_amd_device(t.mem, &io, 10, 0x777000, IOTLB_WALK_READ, &res, &f, NULL);
	ck_assert_msg(r == 0 && res.gpa == 0x777000 && res.perm == IOTLB_WALK_READ &&
		      res.mem_reads == 2, "Mode 0 read: got %d perm %u", r, res.perm);
	r = iotlb__walk_amd_device(t.mem, &io, 10, 0x777000, IOTLB_WALK_WRITE, &res, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_PERMISSION &&
		      f.level == 0, "Mode 0 write with IW = 0: got %d %s", r,
		      fname(f.reason));
	d.perm = 0;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 10, &d), 0);
	r = iotlb__walk_amd_device(t.mem, &io, 10, 0x777000, IOTLB_WALK_READ, &res, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_PERMISSION,
		      "Mode 0, IR = IW = 0 blocks: got %d", r);

	/* Mode 7 is reserved; Mode above HATS is invalid. */
	d.mode = 7;
	d.perm = PT_AMD_R | PT_AMD_W;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 11, &d), 0);
	r = iotlb__walk_amd_dte(t.mem, &io, 11, &cfg, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_RESERVED,
		      "Mode 7: got %d %s", r, fname(f.reason));
	d.mode = 5;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 11, &d), 0);
	io.max_levels = 4;
	r = iotlb__walk_amd_dte(t.mem, &io, 11, &cfg, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_CONTEXT_INVALID,
		      "Mode 5 with HATS 4 levels: got %d %s", r, fname(f.reason));
	io.max_levels = 5;
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 11, &cfg, &f, NULL), 0);
	io.max_levels = 0;

	/* Reserved DTE bits 6:2, 63 and 106 (V = 1). */
	d.mode = 3;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 12, &d), 0);
	for (unsigned int bit = 0; bit < 128; bit++) {
		bool rsvd = (bit >= 2 && bit <= 6) || bit == 63 || bit == 106;
		uint64_t gq = pt_amd_dte_gpa(reg, 12) + (bit / 64) * 8;
		uint64_t old = rd(&t, gq);

		if (bit == 0 || bit == 1 || (bit >= 9 && bit <= 11) ||
		    bit == 54 || bit == 55)
			continue;	/* V, TV, Mode, GIoV/GV: tested apart */
		wr(&t, gq, old ^ (1ULL << (bit % 64)));
		r = iotlb__walk_amd_dte(t.mem, &io, 12, &cfg, &f, NULL);
		if (rsvd)
			ck_assert_msg(r == IOTLB_WALK_FAULTED &&
				      f.reason == IOTLB_WALK_RESERVED,
				      "DTE reserved bit %u: got %d %s", bit, r,
				      fname(f.reason));
		else
			ck_assert_msg(r == 0, "DTE bit %u is not reserved: got %d %s",
				      bit, r, fname(f.reason));
		wr(&t, gq, old);
	}
	/* Quadwords 2 and 3 (interrupt remapping) are not read. */
	q[0] = rd(&t, pt_amd_dte_gpa(reg, 12));
	q[1] = rd(&t, pt_amd_dte_gpa(reg, 12) + 8);
	q[2] = q[3] = ~0ULL;
	ck_assert_int_eq(pt_amd_dte_write_raw(&t.b, reg, 12, q), 0);
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 12, &cfg, &f, NULL), 0);

	/* GV + GIoV: non-PASID requests use guest tables: unsupported. */
	q[0] |= 3ULL << 54;
	ck_assert_int_eq(pt_amd_dte_write_raw(&t.b, reg, 12, q), 0);
	r = iotlb__walk_amd_dte(t.mem, &io, 12, &cfg, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_UNSUPPORTED,
		      "GV + GIoV: got %d %s", r, fname(f.reason));
	q[0] &= ~(1ULL << 54);	/* GV alone: host tables still apply */
	ck_assert_int_eq(pt_amd_dte_write_raw(&t.b, reg, 12, q), 0);
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 12, &cfg, &f, NULL), 0);

	/* A DTE whose second quadword lies past the end of guest memory. */
	{
		static uint64_t tiny[5];
		struct iotlb_mem_region mr = { 0x6000000, 40, tiny, 0, 0 };

		tiny[4] = 3 | (3ULL << 9) | (3ULL << 61);
		ck_assert_int_eq(iotlb_mem_add_region(t.mem, &mr), 0);
		io.dev_table_base = 0x6000000;
		r = iotlb__walk_amd_dte(t.mem, &io, 1, &cfg, &f, NULL);
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_TABLE_OUTSIDE &&
			      f.entry_gpa == 0x6000028,
			      "DTE quadword 1 outside memory: got %d %s gpa %#llx",
			      r, fname(f.reason), (ull)f.entry_gpa);
	}

	/* Device table outside memory. */
	io.dev_table_base = 0x1000 | 511;
	r = iotlb__walk_amd_device(t.mem, &io, 0xffff, 0, 0, &res, &f, NULL);
	ck_assert_msg(r == IOTLB_WALK_FAULTED && f.reason == IOTLB_WALK_TABLE_OUTSIDE &&
		      f.entry_gpa == 0x1000 + 0xffffULL * 32,
		      "device table outside memory: got %d %s", r, fname(f.reason));
	env_fini(&t);
}
END_TEST

/* The largest device table: 512 pages, every DeviceID valid. */
START_TEST(test_device_table_full)
{
	struct env t;
	struct iotlb_walk_amd_iommu io = { 0, 0 };
	struct iotlb_walk_amd_cfg cfg;
	struct iotlb_walk_faultinfo f;
	struct pt_amd_dte d;
	uint64_t reg;

	env_init(&t, 0);
	ck_assert_int_eq(pt_amd_devtab_create(&t.b, 511, &reg), 0);
	io.dev_table_base = reg;
	memset(&d, 0, sizeof(d));
	d.v = d.tv = true;
	d.mode = 4;
	d.root = 0xabc000;
	d.perm = PT_AMD_W;
	for (unsigned int id = 0; id <= 0xffff; id += 0x101) {
		d.domain_id = (uint16_t)(id ^ 0x5555);
		ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, (uint16_t)id, &d), 0);
		ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, (uint16_t)id, &cfg, &f, NULL), 0);
		ck_assert_msg(cfg.domain_id == (uint16_t)(id ^ 0x5555) &&
			      cfg.root == 0xabc000 && cfg.levels == 4 &&
			      cfg.perm == IOTLB_WALK_WRITE,
			      "DeviceID %#x: domain %#x", id, cfg.domain_id);
	}
	env_fini(&t);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct env t;
	struct iotlb_walk_amd_cfg c;
	struct iotlb_walk_amd_iommu io = { RAM_GPA, 7 };
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;

	env_init(&t, 2);
	c = env_cfg(&t, RW);
	ck_assert_int_eq(iotlb__walk_amd(NULL, &c, 0, 0, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_amd(t.mem, NULL, 0, 0, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0, 0, NULL, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0, 0, &res, NULL, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0, 4, &res, &f, NULL), -EINVAL);
	c.levels = 7;
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0, 0, &res, &f, NULL), -EINVAL);
	c = env_cfg(&t, 4);
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0, 0, &res, &f, NULL), -EINVAL);
	c = env_cfg(&t, RW);
	c.root |= 8;
	ck_assert_int_eq(iotlb__walk_amd(t.mem, &c, 0, 0, &res, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 0, &c, &f, NULL), -EINVAL);
	io.max_levels = 0;
	ck_assert_int_eq(iotlb__walk_amd_dte(t.mem, &io, 0, NULL, &f, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__walk_amd_device(t.mem, &io, 0, 0, 8, &res, &f, NULL), -EINVAL);
	/* builder argument checks */
	ck_assert_int_eq(pt_amd_map(&t.b, 0x1000, 0, 0x3000, PT_AMD_R, 0), -EINVAL);
	ck_assert_int_eq(pt_amd_map(&t.b, 0x1000, 0, 0x2000, PT_AMD_R, 0), -EINVAL);
	ck_assert_int_eq(pt_amd_map(&t.b, 0, 0, 1ULL << 30, PT_AMD_R, 0), -EINVAL);
	env_fini(&t);
}
END_TEST

/* The trace names every entry read, in order. */
START_TEST(test_trace)
{
	struct env t;
	struct iotlb_walk_amd_iommu io = { 0, 0 };
	struct iotlb_walk_trace tr;
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	struct pt_amd_dte d;
	uint64_t reg;

	env_init(&t, 4);
	ck_assert_int_eq(pt_amd_map(&t.b, 0x40000000, 0x40000000, 0x40000000, PT_AMD_R, 0), 0);
	ck_assert_int_eq(pt_amd_devtab_create(&t.b, 0, &reg), 0);
	io.dev_table_base = reg;
	memset(&d, 0, sizeof(d));
	d.v = d.tv = true;
	d.mode = 4;
	d.root = t.b.root;
	d.perm = PT_AMD_R;
	ck_assert_int_eq(pt_amd_dte_set(&t.b, reg, 3, &d), 0);
	memset(&tr, 0, sizeof(tr));
	ck_assert_int_eq(iotlb__walk_amd_device(t.mem, &io, 3, 0x40000000, 1, &res, &f, &tr), 0);
	ck_assert_uint_eq(tr.n, 4);
	ck_assert_str_eq(tr.step[0].what, "dte");
	ck_assert_str_eq(tr.step[1].what, "dte.q1");
	ck_assert_str_eq(tr.step[2].what, "pde");
	ck_assert_uint_eq(tr.step[2].level, 4);
	ck_assert_str_eq(tr.step[3].what, "pte");
	ck_assert_uint_eq(tr.step[3].level, 3);
	ck_assert_uint_eq(res.size, 0x40000000);
	ck_assert_uint_eq(res.mem_reads, 4);
	env_fini(&t);
}
END_TEST

/* Random size: mostly small, sometimes large, both NL 0 and NL 7. */
static unsigned int rnd_lg2(unsigned int levels)
{
	static const unsigned int lg2s[] = {
		12, 12, 12, 12, 13, 14, 16, 20, 21, 21, 22, 25, 29, 30, 31,
	};
	unsigned int lg2 = lg2s[rnd() % IOTLB_ARRAY_SIZE(lg2s)];

	while ((lg2 - 3) / 9 > levels)
		lg2 -= 9;
	return lg2;
}

static void crosscheck(const struct env *t, const struct iotlb_walk_amd_cfg *c,
		       uint64_t iova, unsigned int access)
{
	const struct pt_amd_mapping *m = pt_amd_lookup(&t->b, iova);
	struct iotlb_walk_result res;
	struct iotlb_walk_faultinfo f;
	int r = iotlb__walk_amd(t->mem, c, iova, access, &res, &f, NULL);

	if (!m) {
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      (f.reason == IOTLB_WALK_NOT_PRESENT ||
			       f.reason == IOTLB_WALK_ADDR_WIDTH),
			      "unmapped iova %#llx: got %d (%s) want "
			      "IOTLB_WALK_NOT_PRESENT", (ull)iova, r,
			      r == IOTLB_WALK_FAULTED ? fname(f.reason) : "ok");
		return;
	}
	if ((m->perm & access) != access) {
		ck_assert_msg(r == IOTLB_WALK_FAULTED &&
			      f.reason == IOTLB_WALK_PERMISSION && f.level == m->level,
			      "iova %#llx perm %u access %u: got %d (%s) want "
			      "IOTLB_WALK_PERMISSION", (ull)iova, m->perm, access,
			      r, r == IOTLB_WALK_FAULTED ? fname(f.reason) : "ok");
		return;
	}
	ck_assert_msg(r == 0, "iova %#llx (mapped %#llx+%#llx): got %d (%s at "
		      "level %u) want success", (ull)iova, (ull)m->iova,
		      (ull)m->size, r, fname(f.reason), f.level);
	ck_assert_msg(res.iova == m->iova && res.size == m->size &&
		      res.gpa == m->gpa && res.perm == m->perm &&
		      res.level == m->level,
		      "iova %#llx: walker %#llx+%#llx -> %#llx perm %u level %u, "
		      "builder %#llx+%#llx -> %#llx perm %u level %u", (ull)iova,
		      (ull)res.iova, (ull)res.size, (ull)res.gpa, res.perm,
		      res.level, (ull)m->iova, (ull)m->size, (ull)m->gpa,
		      m->perm, m->level);
}

/* Thousands of random iovas: the walker agrees with the builder's record. */
START_TEST(test_random_crosscheck)
{
	struct env t;
	unsigned long checks = 0;

	env_init(&t, 0);
	rng_state = 0x1234567890abcdefULL;
	for (unsigned int round = 0; round < 12; round++) {
		unsigned int levels = 2 + round % 5;
		uint64_t reach = levels == 6 ? ~0ULL : (1ULL << (12 + 9 * levels)) - 1;
		/* a few "hot" windows so tables are shared and split */
		uint64_t windows[4];
		struct iotlb_walk_amd_cfg c;

		env_reset(&t, levels);
		c = env_cfg(&t, RW);
		for (int w = 0; w < 4; w++)
			windows[w] = rnd() & reach & ~((1ULL << 32) - 1) & (w ? ~0ULL : 0);
		for (int n = 0; n < 300; n++) {
			unsigned int lg2 = rnd_lg2(levels);
			uint64_t size = 1ULL << lg2;
			uint64_t iova = (windows[rnd() % 4] | (rnd() & 0xffffffffULL)) &
					reach & ~(size - 1);
			uint64_t gpa = rnd() & 0x000ffffffffff000ULL & ~(size - 1);
			int r = pt_amd_map(&t.b, iova, gpa, size, rnd() % 4,
					   (rnd() & 1) ? PT_AMD_MAP_SKIP : 0);

			ck_assert_msg(r == 0 || r == -EEXIST,
				      "map %#llx+%#llx: got %d", (ull)iova, (ull)size, r);
		}
		for (int phase = 0; phase < 2; phase++) {
			for (int n = 0; n < 3000; n++) {
				uint64_t iova;

				if (rnd() % 4 && t.b.nmap) {
					const struct pt_amd_mapping *m =
						&t.b.map[rnd() % t.b.nmap];

					iova = m->iova + (rnd() & (m->size - 1));
				} else if (rnd() & 1) {
					iova = windows[rnd() % 4] | (rnd() & 0xffffffffULL);
					iova &= reach;
				} else {
					iova = rnd();
				}
				crosscheck(&t, &c, iova, rnd() % 4);
				checks++;
			}
			/* unmap a third, re-permission a third */
			for (size_t i = 0; i < t.b.nmap; i++) {
				struct pt_amd_mapping m = t.b.map[i];

				if (i % 3 == 0)
					ck_assert_int_eq(pt_amd_unmap(&t.b, m.iova, m.size), 0);
				else if (i % 3 == 1)
					ck_assert_int_eq(pt_amd_protect(&t.b, m.iova, m.size,
									(m.perm + 1) % 4), 0);
			}
		}
	}
	ck_assert_uint_ge(checks, 50000);
	env_fini(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walk-amd");
	TCase *tc = tcase_create("amd-vi");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_every_level_count_4k);
	tcase_add_test(tc, test_every_page_size);
	tcase_add_test(tc, test_sized_page_replicas);
	tcase_add_test(tc, test_level_skipping);
	tcase_add_test(tc, test_permission_and);
	tcase_add_test(tc, test_reserved_bits);
	tcase_add_test(tc, test_no_leaf_at_level_6);
	tcase_add_test(tc, test_address_width);
	tcase_add_test(tc, test_table_outside);
	tcase_add_test(tc, test_hostile_loops);
	tcase_add_test(tc, test_device_table);
	tcase_add_test(tc, test_device_table_full);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_trace);
	tcase_add_test(tc, test_random_crosscheck);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
