/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the AMD-Vi walker: builds up to two regions of
 * guest RAM from the input (see fuzz-walk-amd.h), walks, and checks the
 * invariants every answer must meet whatever the tables hold.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "walk.h"
#include "walk-amd.h"
#include "fuzz-walk-amd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LEVELS_ANY 99U	/* DTE mode: the level count comes from the DTE */

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static void fail(const char *what, uint64_t iova)
{
	fprintf(stderr, "fuzz_walk_amd: %s (iova %#llx)\n", what,
		(unsigned long long)iova);
	abort();
}

static void check_result(int r, const struct iotlb_walk_result *res,
			 const struct iotlb_walk_faultinfo *f, uint64_t iova,
			 unsigned int access, unsigned int levels,
			 unsigned int max_reads)
{
	if (r == IOTLB_WALK_FAULTED) {
		if (f->reason <= IOTLB_WALK_OK || f->reason >= IOTLB_WALK_FAULT_MAX)
			fail("fault reason out of range", iova);
		if (f->reason == IOTLB_WALK_LOOP)
			fail("depth bound reached", iova);
		if (f->addr != iova)
			fail("fault addr is not the iova", iova);
		if (res->mem_reads > max_reads)
			fail("too many reads on a fault", iova);
		return;
	}
	if (r != 0)
		fail("unexpected return value", iova);
	if (res->size < 4096 || (res->size & (res->size - 1)))
		fail("size not a power of two >= 4 KiB", iova);
	if ((res->iova & (res->size - 1)) || (res->gpa & (res->size - 1)))
		fail("leaf not naturally aligned", iova);
	if (iova - res->iova >= res->size)
		fail("iova outside the leaf", iova);
	if ((res->perm & ~3U) || (res->perm & access) != access)
		fail("permission does not cover the access", iova);
	if (res->mem_reads > max_reads)
		fail("too many reads", iova);
	if (res->level == 0) {
		if ((levels != 0 && levels != LEVELS_ANY) ||
		    res->size != 4096 || res->gpa != res->iova)
			fail("identity leaf is wrong", iova);
		return;
	}
	if (res->level > levels || res->level > 5)
		fail("leaf level out of range", iova);
	if (res->size < (1ULL << (12 + 9 * (res->level - 1))) ||
	    res->size >= (1ULL << (12 + 9 * res->level)) ||
	    res->size > (1ULL << 53))
		fail("leaf size does not fit its level", iova);
	if (res->gpa >> 52)
		fail("gpa beyond 52 bits", iova);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram0[FZA_RAM0_SIZE] __attribute__((aligned(4096)));
	static uint8_t ram1[65536] __attribute__((aligned(4096)));
	struct iotlb_walk_result res, res2;
	struct iotlb_walk_faultinfo f, f2;
	struct iotlb_walk_trace tr;
	struct iotlb_mem_region reg;
	struct iotlb_mem *mem = NULL;
	unsigned int flags, access, r1_size;
	uint64_t iova, root;
	size_t off;
	int r, r2;

	if (size < FZA_HDR)
		return 0;
	flags = data[0];
	access = data[2] & 3;
	r1_size = (unsigned int)le(data + 6, 2);
	iova = le(data + 8, 8);
	root = le(data + 16, 8);

	memset(ram0, 0, sizeof(ram0));
	memset(ram1, 0, sizeof(ram1));
	for (off = FZA_HDR; off + FZA_REC <= size; off += FZA_REC) {
		uint32_t o = (uint32_t)le(data + off, 4);
		uint64_t v = le(data + off + 4, 8);

		if ((o & FZA_REC_REGION1) && r1_size) {
			uint32_t at = (o & ~FZA_REC_REGION1) % r1_size;
			uint32_t n = r1_size - at < 8 ? r1_size - at : 8;

			memcpy(ram1 + at, &v, n);
		} else {
			memcpy(ram0 + ((o % FZA_RAM0_SIZE) & ~7U), &v, 8);
		}
	}

	if (iotlb_mem_new(&mem))
		return 0;
	memset(&reg, 0, sizeof(reg));
	reg.gpa = FZA_RAM0_GPA;
	reg.size = FZA_RAM0_SIZE;
	reg.local = ram0;
	if (iotlb_mem_add_region(mem, &reg))
		abort();
	if (r1_size) {
		reg.gpa = (flags & FZA_F_ADJACENT) ?
			  FZA_RAM0_GPA + FZA_RAM0_SIZE : FZA_RAM1_FAR;
		reg.size = r1_size;
		reg.local = ram1;
		if (iotlb_mem_add_region(mem, &reg))
			abort();
	}
	if (!(flags & FZA_F_RAW_ROOT))
		root = FZA_RAM0_GPA + (((root >> 12) % (FZA_RAM0_SIZE >> 12)) << 12) +
		       (root & 0xfff);

	memset(&tr, 0, sizeof(tr));
	if (flags & FZA_F_DTE) {
		struct iotlb_walk_amd_iommu io;
		struct iotlb_walk_amd_cfg cfg;
		uint16_t devid = (uint16_t)le(data + 4, 2);

		io.dev_table_base = root;
		io.max_levels = data[3] % 7;
		r = iotlb__walk_amd_device(mem, &io, devid, iova, access, &res,
					   &f, &tr);
		if (r < 0)
			fail("device walk returned an error", iova);
		check_result(r, &res, &f, iova, access, LEVELS_ANY, 2 + 6);
		if (tr.n != res.mem_reads)
			fail("trace does not match reads", iova);
		/* The two steps give the same answer as the combined call. */
		r2 = iotlb__walk_amd_dte(mem, &io, devid, &cfg, &f2, NULL);
		if (r2 == 0)
			r2 = iotlb__walk_amd(mem, &cfg, iova, access, &res2, &f2, NULL);
		if (r2 != r || (r == 0 && (res.iova != res2.iova ||
					   res.gpa != res2.gpa ||
					   res.size != res2.size ||
					   res.perm != res2.perm)) ||
		    (r == IOTLB_WALK_FAULTED && f.reason != f2.reason))
			fail("split walk differs from the device walk", iova);
	} else {
		struct iotlb_walk_amd_cfg cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.levels = data[1] & 7;
		cfg.perm = data[3] & 3;
		cfg.root = root & 0x000ffffffffff000ULL;
		r = iotlb__walk_amd(mem, &cfg, iova, access, &res, &f, &tr);
		if (cfg.levels > IOTLB_WALK_AMD_MAX_LEVELS) {
			if (r != -22)
				fail("levels 7 not rejected", iova);
		} else {
			check_result(r, &res, &f, iova, access, cfg.levels,
				     cfg.levels);
			if (tr.n != res.mem_reads)
				fail("trace does not match reads", iova);
			/* Pure: the same walk gives the same answer. */
			r2 = iotlb__walk_amd(mem, &cfg, iova, access, &res2,
					     &f2, NULL);
			if (r2 != r || memcmp(&res, &res2, sizeof(res)) ||
			    (r && memcmp(&f, &f2, sizeof(f))))
				fail("walk is not deterministic", iova);
		}
	}
	iotlb_mem_unref(mem);
	return 0;
}
