/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the RISC-V IOMMU walker: a header picks registers,
 * the device/process and the IOVA, sparse records fill one or two guest
 * RAM regions (format in fuzz_walk_riscv.h).  Checks that every answer is
 * a well-formed leaf, every fault a known reason, and that a second walk
 * (after any A/D updates) gives the same answer.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "walk.h"
#include "walk-riscv.h"
#include "fuzz_walk_riscv.h"

static uint64_t ld(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_walk_riscv: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static void check_result(int r, const struct iotlb_walk_result *res,
			 const struct iotlb_walk_faultinfo *f, uint64_t iova,
			 unsigned int access)
{
	CHECK(r == 0 || r == IOTLB_WALK_FAULTED);
	if (r) {
		CHECK(f->reason > IOTLB_WALK_OK &&
		      f->reason < IOTLB_WALK_FAULT_MAX);
		CHECK(f->stage <= 2);
		CHECK(f->level <= 5);
		/* 5 first-stage reads behind 5 G-stage reads each, and a
		 * final G-stage walk, redone at most 8 times for A/D races */
		CHECK(res->mem_reads <= 9 * (5 * 6 + 5));
		return;
	}
	CHECK(res->size >= 4096 && !(res->size & (res->size - 1)));
	CHECK(!(res->iova & (res->size - 1)));
	CHECK(!(res->gpa & (res->size - 1)));
	CHECK(iova - res->iova < res->size);
	CHECK((res->perm & access) == access);
	CHECK(!(res->perm & ~(uint32_t)(IOTLB_WALK_READ | IOTLB_WALK_WRITE)));
	CHECK(res->level <= 5);
	CHECK(res->mem_reads <= 9 * (5 * 6 + 5));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An ATP MODE nibble, folded onto Bare/Sv39/Sv48/Sv57 when not one. */
static uint8_t fold_mode(uint64_t atp)
{
	static const uint8_t modes[4] = { 0, 8, 9, 10 };
	unsigned int m = (unsigned int)(atp >> 60);

	return m >= 8 && m <= 10 ? (uint8_t)m : modes[m & 3];
}

/* FUZZ_WALK_RISCV_VERBOSE=1: say what each input did (corpus upkeep). */
static void report(const char *what, int r,
		   const struct iotlb_walk_faultinfo *f,
		   const struct iotlb_walk_result *res)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("FUZZ_WALK_RISCV_VERBOSE") != NULL;
	if (!verbose)
		return;
	if (r)
		fprintf(stderr, "%s: fault %s stage %u level %u\n", what,
			iotlb__walk_fault_name(f->reason), f->stage, f->level);
	else if (res)
		fprintf(stderr, "%s: iova %#llx size %#llx gpa %#llx perm %u level %u reads %u\n",
			what, (unsigned long long)res->iova,
			(unsigned long long)res->size,
			(unsigned long long)res->gpa, res->perm, res->level,
			res->mem_reads);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iotlb_walk_riscv_iommu iommu = { 0 };
	struct iotlb_walk_riscv_cfg cfg = { 0 };
	struct iotlb_walk_result res, res2;
	struct iotlb_walk_faultinfo f, f2;
	struct iotlb_walk_trace trace;
	struct iotlb_mem_region reg;
	struct iotlb_mem *mem = NULL;
	unsigned int flags, access, req;
	uint32_t r0_size, r1_size;
	uint8_t *ram = NULL;
	uint64_t iova;
	size_t off;
	int r, r2;

	if (size < FWR_HDR)
		return 0;
	flags = data[FWR_O_FLAGS];
	access = data[FWR_O_ACCESS] & 3;
	if (!access)
		access = IOTLB_WALK_READ;
	req = data[FWR_O_REQ] & 3;
	iova = ld(data + FWR_O_IOVA, 8);
	r0_size = (uint32_t)ld(data + FWR_O_R0_SIZE, 4) % FWR_R0_MAX + 8;
	r1_size = flags & FWR_F_R1 ?
		  (uint32_t)ld(data + FWR_O_R1_SIZE, 4) % FWR_R1_MAX + 8 : 0;

	ram = calloc(1, (size_t)r0_size + r1_size);
	if (!ram || iotlb_mem_new(&mem))
		goto out;
	for (off = FWR_HDR; off + FWR_REC <= size; off += FWR_REC) {
		uint64_t at = ld(data + off, 4) & ~7ULL;
		uint64_t v = ld(data + off + 4, 8);

		if (at + 8 <= (uint64_t)r0_size + r1_size)
			for (unsigned int i = 0; i < 8; i++)
				ram[at + i] = (uint8_t)(v >> (8 * i));
	}
	reg.gpa = FWR_R0_GPA;
	reg.size = r0_size;
	reg.local = ram;
	reg.owner_addr = 0;
	reg.flags = flags & FWR_F_WRITABLE ? IOTLB_MEM_WRITABLE : 0;
	if (iotlb_mem_add_region(mem, &reg))
		goto out;
	if (r1_size) {
		reg.gpa = ld(data + FWR_O_R1_GPA, 8) & ~0xfffULL;
		reg.size = r1_size;
		reg.local = ram + r0_size;
		/* overlapping or wrapping: just one region */
		iotlb_mem_add_region(mem, &reg);
	}

	if (flags & FWR_F_DC) {
		iommu.caps = ld(data + FWR_O_CAPS, 8);
		iommu.ddtp = ld(data + FWR_O_DDTP, 8);
		/* iommu_mode is WARL: keep it legal */
		iommu.ddtp = (iommu.ddtp & ~0xfULL) | ((iommu.ddtp & 0xf) % 5);
		iommu.fctl = data[FWR_O_FCTL] & 7;
		iommu.fctl_writable = (data[FWR_O_FCTL] >> 4) & 7;
		r = iotlb__walk_riscv_dc(mem, &iommu,
					 (uint32_t)ld(data + FWR_O_DEVICE, 4) &
					 0xffffff,
					 (uint32_t)ld(data + FWR_O_PROCESS, 4) &
					 0xfffff, req & 1 ? req : 0, &cfg, &f,
					 &trace);
		CHECK(r == 0 || r == IOTLB_WALK_FAULTED);
		if (r) {
			report("dc", r, &f, NULL);
			CHECK(f.reason > IOTLB_WALK_OK &&
			      f.reason < IOTLB_WALK_FAULT_MAX);
			goto out;
		}
	} else {
		uint64_t satp = ld(data + FWR_O_DDTP, 8);
		uint64_t hgatp = ld(data + FWR_O_IOHGATP, 8);

		cfg.fs_mode = fold_mode(satp);
		cfg.fs_root = (satp & ((1ULL << 44) - 1)) << 12;
		cfg.gs_mode = fold_mode(hgatp);
		cfg.gs_root = (hgatp & ((1ULL << 44) - 4)) << 12;
		cfg.flags = (uint32_t)ld(data + FWR_O_CFLAGS, 4) &
			    IOTLB_WALK_RISCV_FLAGS_ALL;
		cfg.msi_mask = hgatp >> 44;
		cfg.msi_pattern = satp >> 44;
		cfg.pas = (uint8_t)(ld(data + FWR_O_CAPS, 8) >> 32) & 0x3f;
	}

	trace.n = 0;
	r = iotlb__walk_riscv(mem, &cfg, iova, access, &res, &f, &trace);
	report("walk", r, &f, &res);
	check_result(r, &res, &f, iova, access);
	/*
	 * Without writable memory a walk is a pure function: the same walk
	 * gives the same answer.  With it, A/D updates may legitimately feed
	 * a later walk when hostile tables alias, so only the shape is
	 * checked.
	 */
	r2 = iotlb__walk_riscv(mem, &cfg, iova, access, &res2, &f2, NULL);
	check_result(r2, &res2, &f2, iova, access);
	if (!(flags & FWR_F_WRITABLE)) {
		CHECK(r2 == r);
		if (r)
			CHECK(f2.reason == f.reason && f2.stage == f.stage &&
			      f2.level == f.level && f2.addr == f.addr);
		else
			CHECK(res2.iova == res.iova && res2.size == res.size &&
			      res2.gpa == res.gpa && res2.perm == res.perm &&
			      res2.level == res.level &&
			      res2.mem_reads == res.mem_reads);
	}
out:
	iotlb_mem_unref(mem);
	free(ram);
	return 0;
}
