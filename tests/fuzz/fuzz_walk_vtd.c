/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the VT-d walker.  Input (little-endian):
 *
 *   0     mode: bit 0 scalable, 1 request with PASID, 2 walk a config
 *         built from bytes 33..35 instead of resolving a context,
 *         3 NO_AD, 4 guest memory read-only, 5 keep a trace
 *   1..2  capability bits (IOTLB_VTD_CAP_*)
 *   3     host address width = 32 + byte % 21
 *   4     SAGAW
 *   5     access (bits 1:0)
 *   6..7  requester ID
 *   8..11 PASID (bits 19:0)
 *   12..19 iova
 *   20..27 root table address / page-table root (made 4 KiB aligned)
 *   28..31 page number of guest region 2
 *   32    pages of guest region 1 (at gpa 0): 1 + byte % 64
 *   33    direct config: format = 1 + (bits 1:0) % 3, depth from bits 7:2
 *   34..35 direct config flags (IOTLB_VTD_PGT_*)
 *   then records of 10 bytes: qword index (u16, 15 bits) and value (u64)
 *   written into a zeroed 256 KiB guest RAM image; the pages after
 *   region 1 become region 2.
 *
 * Invariants: no -EINVAL for arguments we made valid, a resolved config
 * is always accepted by the walker, a translation is an aligned
 * power-of-two block containing iova, inside HAW, granting what was
 * asked, and a second walk gives the same answer.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "walk-vtd.h"

#define HDR		36
#define REC		10
#define RAM_PAGES	64
#define RAM_SIZE	(RAM_PAGES * 4096UL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_walk_vtd: %s:%d: %s\n",         \
				__FILE__, __LINE__, #c);                      \
			abort();                                              \
		}                                                             \
	} while (0)

static void check_result(const struct iotlb_vtd_pgtable *cfg, uint64_t iova,
			 unsigned int access, const struct iotlb_walk_result *r)
{
	CHECK(r->size >= 4096 && (r->size & (r->size - 1)) == 0);
	CHECK((r->iova & (r->size - 1)) == 0 && (r->gpa & (r->size - 1)) == 0);
	CHECK(iova - r->iova < r->size);
	CHECK(r->gpa + (r->size - 1) >= r->gpa);
	CHECK(((r->gpa + (r->size - 1)) >> cfg->haw) == 0);
	CHECK(r->perm && !(r->perm & ~(unsigned int)(IOTLB_WALK_READ | IOTLB_WALK_WRITE)));
	CHECK((access & r->perm) == access);
	CHECK(r->level <= cfg->levels && r->mem_reads <= cfg->levels);
	/* Never into the interrupt address range. */
	CHECK(r->gpa > 0xfeefffffULL || r->gpa + (r->size - 1) < 0xfee00000ULL);
}

static void run(const struct iotlb_mem *mem, const struct iotlb_vtd_pgtable *cfg,
		uint64_t iova, unsigned int access, int verbose,
		struct iotlb_walk_trace *trace)
{
	struct iotlb_walk_faultinfo f, f2;
	struct iotlb_walk_result res, res2;
	int r, r2;

	memset(&f, 0, sizeof(f));
	r = iotlb__walk_vtd(mem, cfg, iova, access, &res, &f, trace);
	CHECK(r == 0 || r == IOTLB_WALK_FAULTED);
	if (verbose)
		fprintf(stderr, "walk fmt %d levels %u iova %#llx: %s size %#llx gpa %#llx perm %u\n",
			cfg->format, cfg->levels, (unsigned long long)iova,
			r ? iotlb__walk_fault_name(f.reason) : "ok",
			(unsigned long long)res.size, (unsigned long long)res.gpa, res.perm);
	if (r == 0)
		check_result(cfg, iova, access, &res);
	else
		CHECK(f.reason > IOTLB_WALK_OK && f.reason < IOTLB_WALK_FAULT_MAX);
	if (trace)
		CHECK(trace->n <= IOTLB_WALK_TRACE_MAX);

	/* A/D bits are set now; the answer must not change. */
	memset(&f2, 0, sizeof(f2));
	r2 = iotlb__walk_vtd(mem, cfg, iova, access, &res2, &f2, NULL);
	CHECK(r2 == r);
	if (r == 0)
		CHECK(res2.iova == res.iova && res2.size == res.size &&
		      res2.gpa == res.gpa && res2.perm == res.perm &&
		      res2.level == res.level);
	else
		CHECK(f2.reason == f.reason && f2.level == f.level);
}

static void direct_cfg(const uint8_t *h, unsigned int haw, uint64_t root,
		       struct iotlb_vtd_pgtable *cfg)
{
	unsigned int d = h[33] >> 2;

	memset(cfg, 0, sizeof(*cfg));
	cfg->haw = (uint8_t)haw;
	cfg->flags = (uint32_t)get(h + 34, 2) & ((IOTLB_VTD_PGT_NO_AD << 1) - 1);
	cfg->format = (enum iotlb_vtd_format)(1 + (h[33] & 3) % 3);
	switch (cfg->format) {
	case IOTLB_VTD_FMT_SL:
		cfg->levels = (uint8_t)(3 + d % 3);
		break;
	case IOTLB_VTD_FMT_FL:
		cfg->levels = (uint8_t)(4 + d % 2);
		break;
	default:
		cfg->aw = (uint8_t)(39 + 9 * (d % 3));
		return;
	}
	cfg->aw = (uint8_t)(12 + 9 * cfg->levels);
	cfg->root = root;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct iotlb_mem_region reg;
	struct iotlb_walk_faultinfo f;
	struct iotlb_vtd_pgtable cfg;
	struct iotlb_vtd_iommu iommu;
	struct iotlb_walk_trace trace, *tp;
	struct iotlb_mem *mem = NULL;
	uint64_t iova, root, r2;
	unsigned int mode, access, pages, haw;
	uint32_t pasid, flags;
	uint16_t sid;
	int verbose = getenv("FUZZ_WALK_VTD_VERBOSE") != NULL;
	size_t off;
	int r;

	if (size < HDR)
		return 0;
	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		if (!ram)
			abort();
	}
	memset(ram, 0, RAM_SIZE);
	for (off = HDR; off + REC <= size; off += REC) {
		uint64_t v = htole64(get(data + off + 2, 8));
		unsigned int idx = (unsigned int)get(data + off, 2) & 0x7fff;

		memcpy(ram + 8 * idx, &v, 8);
	}

	mode = data[0];
	haw = 32 + data[3] % 21;
	access = data[5] & 3;
	sid = (uint16_t)get(data + 6, 2);
	pasid = (uint32_t)get(data + 8, 4) & IOTLB_VTD_PASID_MAX;
	iova = get(data + 12, 8);
	root = get(data + 20, 8) & ~0xfffULL & ((1ULL << haw) - 1);
	r2 = get(data + 28, 4) << 12;
	pages = 1 + data[32] % RAM_PAGES;
	flags = (mode & 0x10) ? 0 : IOTLB_MEM_WRITABLE;
	tp = (mode & 0x20) ? &trace : NULL;
	memset(&trace, 0, sizeof(trace));

	if (iotlb_mem_new(&mem))
		abort();
	reg.gpa = 0;
	reg.size = pages * 4096ULL;
	reg.local = ram;
	reg.owner_addr = 0x100000000ULL;
	reg.flags = flags;
	CHECK(iotlb_mem_add_region(mem, &reg) == 0);
	if (pages < RAM_PAGES && r2 >= reg.size) {
		reg.gpa = r2;
		reg.local = ram + pages * 4096UL;
		reg.size = (RAM_PAGES - pages) * 4096ULL;
		r = iotlb_mem_add_region(mem, &reg);
		CHECK(r == 0 || r == -EOVERFLOW);
	}

	if (mode & 4) {
		direct_cfg(data, haw, root, &cfg);
		if (mode & 8)
			cfg.flags |= IOTLB_VTD_PGT_NO_AD;
		run(mem, &cfg, iova, access, verbose, tp);
		iotlb_mem_unref(mem);
		return 0;
	}

	memset(&iommu, 0, sizeof(iommu));
	iommu.rta = root;
	iommu.caps = (uint32_t)get(data + 1, 2) & 0xfff;
	iommu.scalable = mode & 1;
	iommu.haw = (uint8_t)haw;
	iommu.sagaw = data[4];
	if (!(mode & 1) || !(mode & 2))
		pasid = IOTLB_VTD_NO_PASID;
	memset(&f, 0, sizeof(f));
	r = iotlb__walk_vtd_context(mem, &iommu, sid, pasid, &cfg, &f, tp);
	if (verbose)
		fprintf(stderr, "context sid %#x pasid %#x: %s\n", sid, pasid,
			r ? iotlb__walk_fault_name(f.reason) : "ok");
	CHECK(r == 0 || r == IOTLB_WALK_FAULTED);
	if (r == 0) {
		if (mode & 8)
			cfg.flags |= IOTLB_VTD_PGT_NO_AD;
		run(mem, &cfg, iova, access, verbose, tp);
	} else {
		CHECK(f.reason > IOTLB_WALK_OK && f.reason < IOTLB_WALK_FAULT_MAX);
	}
	iotlb_mem_unref(mem);
	return 0;
}
