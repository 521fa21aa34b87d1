/* SPDX-License-Identifier: MIT */
/*
 * Input layout of the walk-amd fuzz target, shared with the seed corpus
 * generator.  All integers little-endian.
 *
 *   0  u8  flags     FZA_F_*
 *   1  u8  levels    direct mode: cfg.levels (7 = invalid, expect -EINVAL)
 *   2  u8  access    low 2 bits
 *   3  u8  perm      direct mode: cfg.perm (low 2 bits);
 *                    DTE mode: iommu.max_levels (% 7)
 *   4  u16 devid
 *   6  u16 r1_size   bytes of region 1 (0 = no region 1)
 *   8  u64 iova
 *  16  u64 root      direct mode: page table root; DTE mode: device
 *                    table base register.  Rebased into region 0 unless
 *                    FZA_F_RAW_ROOT.
 *  24  records of 12 bytes: u32 offset, u64 value, written into region 0
 *      (or region 1 if offset bit 31 is set) at offset % size; region 0
 *      writes are 8-byte aligned, region 1 writes are clipped bytewise.
 */
#ifndef FUZZ_WALK_AMD_H
#define FUZZ_WALK_AMD_H

#define FZA_HDR		24
#define FZA_REC		12
#define FZA_RAM0_GPA	0x100000ULL
#define FZA_RAM0_SIZE	(32 * 4096ULL)
#define FZA_RAM1_FAR	0x4000000ULL	/* region 1 when not adjacent */

#define FZA_F_DTE	(1U << 0)	/* resolve devid through the device table */
#define FZA_F_ADJACENT	(1U << 1)	/* region 1 right after region 0 */
#define FZA_F_RAW_ROOT	(1U << 2)	/* use root as given */
#define FZA_REC_REGION1	(1U << 31)	/* record offset: region 1 */

#endif /* FUZZ_WALK_AMD_H */
