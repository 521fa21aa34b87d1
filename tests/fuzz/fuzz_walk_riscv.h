/* SPDX-License-Identifier: MIT */
/*
 * Input format shared by fuzz_walk_riscv.c and the seed generator
 * gen_corpus_walk_riscv.c.  All fields little-endian.
 *
 *   header (FWR_HDR bytes), then records of FWR_REC bytes:
 *   { u32 offset; u64 value; } written into guest RAM, region 0 first,
 *   region 1 after it (offsets are rounded down to 8 bytes).
 */
#ifndef FUZZ_WALK_RISCV_H
#define FUZZ_WALK_RISCV_H

#define FWR_HDR		64
#define FWR_REC		12
#define FWR_R0_GPA	0x80000000ULL
#define FWR_R0_MAX	(1U << 20)
#define FWR_R1_MAX	(256U << 10)

/* header.flags */
#define FWR_F_DC	(1U << 0)	/* resolve through iotlb__walk_riscv_dc */
#define FWR_F_WRITABLE	(1U << 1)	/* regions allow A/D updates */
#define FWR_F_R1	(1U << 2)	/* a second region at r1_gpa */

/* Byte offsets in the header. */
#define FWR_O_FLAGS	0	/* u8 */
#define FWR_O_ACCESS	1	/* u8: IOTLB_WALK_READ/WRITE, 0 -> READ */
#define FWR_O_REQ	2	/* u8: IOTLB_WALK_RISCV_REQ_* */
#define FWR_O_FCTL	3	/* u8: fctl (and fctl_writable in bits 7:4) */
#define FWR_O_DEVICE	4	/* u32 */
#define FWR_O_PROCESS	8	/* u32 */
#define FWR_O_R0_SIZE	12	/* u32 */
#define FWR_O_CAPS	16	/* u64 */
#define FWR_O_DDTP	24	/* u64: ddtp, or iosatp for a direct config */
#define FWR_O_IOVA	32	/* u64 */
#define FWR_O_IOHGATP	40	/* u64: direct config only */
#define FWR_O_CFLAGS	48	/* u32: direct config IOTLB_WALK_RISCV_* */
#define FWR_O_R1_SIZE	52	/* u32 */
#define FWR_O_R1_GPA	56	/* u64 */

#endif /* FUZZ_WALK_RISCV_H */
