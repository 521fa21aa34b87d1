/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: Arm SMMUv3 stream table + VMSAv8-64 walk over a guest
 * memory image taken from the input.
 *
 * Input: a 40-byte header, then guest RAM.
 *   0  u32 StreamID            4  u32 SubstreamID (bit 31: none)
 *   8  u64 iova               16  u8 access (bits 1:0)
 *  17  u8 OAS index (0-6)     18  u8 features (IOTLB_WALK_ARM_F_*)
 *  19  u8 SIDSIZE             20  u8 SSIDSIZE
 *  21  u8 flags: bit 0 RAM writable (HTTU), bit 1 split RAM in two,
 *      bit 2 walk a configuration made from bytes 22-39 instead
 *  22  u16 unused
 *  24  u32 SMMU_STRTAB_BASE_CFG
 *  28  u32 unused
 *  32  u64 SMMU_STRTAB_BASE
 * RAM sits at FUZZ_RAM_GPA; with flag bit 1 its second half sits at
 * FUZZ_RAM2_GPA instead (a hole in between).  With flag bit 2, see
 * fuzz_cfg(): the walker must refuse (-EINVAL) or survive any config.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "walk.h"
#include "walk-arm.h"

#define FUZZ_HDR 40
#define FUZZ_RAM_GPA 0x80000000ULL
#define FUZZ_RAM2_GPA 0x90000000ULL
#define FUZZ_RAM_MAX (1U << 20)

static uint64_t get(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

/* A caller-built configuration from header bytes 22-39. */
static void fuzz_cfg(const uint8_t *h, uint8_t oas, uint32_t features,
		     struct iotlb_walk_arm_cfg *cfg)
{
	static const uint8_t gs[4] = { 12, 14, 16, 13 };
	static const uint8_t bits[8] = { 32, 36, 40, 42, 44, 48, 52, 33 };
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = h[22] & 7;
	cfg->oas = oas;
	cfg->features = features;
	cfg->privileged = h[23] & 1;
	for (i = 0; i < 2; i++) {
		struct iotlb_walk_arm_tt *tt = &cfg->s1.tt[i];

		tt->ttb = FUZZ_RAM_GPA + (get(h + 24 + 2 * i, 2) << 4);
		tt->tsz = h[28 + i] & 63;
		tt->granule = gs[(h[30] >> (2 * i)) & 3];
		tt->epd = (h[30] >> (4 + i)) & 1;
		tt->tbi = (h[31] >> i) & 1;
		tt->had = (h[31] >> (2 + i)) & 1;
	}
	cfg->s1.ips = bits[(h[23] >> 1) & 7];
	cfg->s1.ha = (h[23] >> 4) & 1;
	cfg->s1.affd = (h[23] >> 5) & 1;
	cfg->s1.pan = (h[23] >> 6) & 1;
	cfg->s2.ttb = FUZZ_RAM_GPA + (get(h + 32, 2) << 4);
	cfg->s2.tsz = h[34] & 63;
	cfg->s2.granule = gs[h[35] & 3];
	cfg->s2.sl = (h[35] >> 2) & 7;
	cfg->s2.ps = bits[(h[35] >> 5) & 7];
	cfg->s2.ha = h[36] & 1;
	cfg->s2.affd = (h[36] >> 1) & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t oas[7] = { 32, 36, 40, 42, 44, 48, 52 };
	struct iotlb_walk_arm_smmu smmu;
	struct iotlb_walk_arm_cfg cfg;
	struct iotlb_walk_result res, res2;
	struct iotlb_walk_faultinfo f;
	struct iotlb_walk_trace tr;
	struct iotlb_mem *mem = NULL;
	struct iotlb_mem_region r;
	uint8_t *ram;
	size_t len;
	uint32_t sid, ssid, flags;
	uint64_t iova;
	unsigned int access;
	int ret, ret2;

	if (size < FUZZ_HDR + 8)
		return 0;
	len = size - FUZZ_HDR;
	if (len > FUZZ_RAM_MAX)
		len = FUZZ_RAM_MAX;
	sid = (uint32_t)get(data, 4);
	ssid = (uint32_t)get(data + 4, 4);
	if (ssid & (1U << 31))
		ssid = IOTLB_WALK_ARM_NO_SSID;
	iova = get(data + 8, 8);
	access = data[16] & 3;
	memset(&smmu, 0, sizeof(smmu));
	smmu.oas = oas[data[17] % 7];
	smmu.features = data[18] & IOTLB_WALK_ARM_F_ALL;
	smmu.sidsize = data[19] % 33;
	smmu.ssidsize = data[20] % 21;
	flags = data[21];
	smmu.strtab_base_cfg = (uint32_t)get(data + 24, 4);
	smmu.strtab_base = get(data + 32, 8);

	/* 8-byte aligned local copy, as a VMM's RAM mapping would be. */
	ram = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
	if (!ram)
		return 0;
	memcpy(ram, data + FUZZ_HDR, len);
	if (iotlb_mem_new(&mem))
		goto out;
	if ((flags & 2) && len >= 16) {
		size_t half = (len / 2) & ~(size_t)7;

		r = (struct iotlb_mem_region){ FUZZ_RAM_GPA, half, ram, 0,
					       (flags & 1) ? IOTLB_MEM_WRITABLE : 0 };
		if (iotlb_mem_add_region(mem, &r))
			goto out;
		r = (struct iotlb_mem_region){ FUZZ_RAM2_GPA, len - half, ram + half,
					       0, (flags & 1) ? IOTLB_MEM_WRITABLE : 0 };
	} else {
		r = (struct iotlb_mem_region){ FUZZ_RAM_GPA, len, ram, 0,
					       (flags & 1) ? IOTLB_MEM_WRITABLE : 0 };
	}
	if (iotlb_mem_add_region(mem, &r))
		goto out;

	memset(&tr, 0, sizeof(tr));
	if (flags & 4) {
		fuzz_cfg(data, smmu.oas, smmu.features, &cfg);
		ret = iotlb__walk_arm(mem, &cfg, iova, access, &res, &f, &tr);
		if (ret == -EINVAL)
			goto out;
	} else {
		ret = iotlb__walk_arm_smmu(mem, &smmu, sid, ssid, iova, access,
					   &res, &f, &tr);
	}
	check(ret == 0 || ret == IOTLB_WALK_FAULTED);
	check(tr.n <= IOTLB_WALK_TRACE_MAX);
	/* STE/CD (2-level each, CD fetch through stage 2), 4 x 5 + 4. */
	check(res.mem_reads <= 48);
	if (ret == 0) {
		check(res.size && !(res.size & (res.size - 1)));
		check(iova - res.iova < res.size);
		check(!(res.iova & (res.size - 1)));
		check(!(res.gpa & (res.size - 1)));
		check(res.gpa + (res.size - 1) >= res.gpa);
		check(smmu.oas == 64 || !((res.gpa + res.size - 1) >> smmu.oas));
		check(!(res.perm & ~(uint32_t)(IOTLB_WALK_READ | IOTLB_WALK_WRITE)));
		check((res.perm & access) == access);
	} else {
		check(f.reason > IOTLB_WALK_OK && f.reason < IOTLB_WALK_FAULT_MAX);
		check(f.level <= 4 && f.stage <= 2);
	}
	/* Without hardware updates a walk is a pure function of memory. */
	if (!(flags & 1)) {
		if (flags & 4)
			ret2 = iotlb__walk_arm(mem, &cfg, iova, access, &res2, &f,
					       NULL);
		else
			ret2 = iotlb__walk_arm_smmu(mem, &smmu, sid, ssid, iova,
						    access, &res2, &f, NULL);
		check(ret2 == ret);
		check(ret || (res2.gpa == res.gpa && res2.size == res.size &&
			      res2.perm == res.perm));
	}
out:
	iotlb_mem_unref(mem);
	free(ram);
	return 0;
}
