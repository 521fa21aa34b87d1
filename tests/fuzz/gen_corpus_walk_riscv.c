/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_walk_riscv (format: fuzz_walk_riscv.h)
 * with the guest-side builder: one valid translation per page size and
 * structure kind, one input per fault.  Usage:
 *   tests/fuzz/gen-corpus-walk-riscv tests/fuzz/corpus/walk-riscv
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt-riscv.h"
#include "fuzz_walk_riscv.h"

#define KiB		(1ULL << 10)
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define RAM		(192 * KiB)
#define R1_GPA		0x40000000ULL
#define R1_SIZE		(16 * KiB)
#define VIEW_GPA	0x10000000ULL
#define VIEW		((int64_t)(VIEW_GPA - FWR_R0_GPA))

#define LEAF_RW	(PT_RISCV_R | PT_RISCV_W | PT_RISCV_U | PT_RISCV_A | PT_RISCV_D)
#define LEAF_RO	(PT_RISCV_R | PT_RISCV_U | PT_RISCV_A)

/* capabilities: Sv39/48/57 and x4, Svpbmt, AMO_HWAD, END, PD*, PAS 56 */
#define CAPS	((1ULL << 9) | (1ULL << 10) | (1ULL << 11) | (1ULL << 15) | \
		 (1ULL << 17) | (1ULL << 18) | (1ULL << 19) | (1ULL << 24) | \
		 (1ULL << 27) | (56ULL << 32) | (1ULL << 38) | (1ULL << 39) | \
		 (1ULL << 40) | 0x10)
#define CAP_MSI_FLAT	(1ULL << 22)

struct seed {
	uint8_t hdr[FWR_HDR];
	uint8_t ram[RAM + R1_SIZE];
	uint32_t r0_size;
	struct pt_riscv_builder b;	/* region 0 */
	struct pt_riscv_builder b1;	/* region 1, when used */
};

static const char *outdir;
static unsigned int nwritten;

static void put(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void die(const char *what, int r)
{
	fprintf(stderr, "gen-corpus-walk-riscv: %s: %d\n", what, r);
	exit(1);
}

#define OK(x)	do { int _r = (x); if (_r) die(#x, _r); } while (0)

static void begin(struct seed *s, unsigned int flags, unsigned int access,
		  uint64_t iova)
{
	memset(s, 0, sizeof(*s));
	s->r0_size = RAM;
	s->hdr[FWR_O_FLAGS] = (uint8_t)flags;
	s->hdr[FWR_O_ACCESS] = (uint8_t)access;
	put(s->hdr + FWR_O_CAPS, CAPS, 8);
	put(s->hdr + FWR_O_IOVA, iova, 8);
	pt_riscv_init(&s->b, s->ram, FWR_R0_GPA, RAM);
	pt_riscv_init(&s->b1, s->ram + RAM, R1_GPA, R1_SIZE);
}

static void emit(struct seed *s, const char *name)
{
	uint32_t total = s->r0_size;
	char path[4096];
	FILE *f;

	put(s->hdr + FWR_O_R0_SIZE, s->r0_size - 8, 4);
	if (s->hdr[FWR_O_FLAGS] & FWR_F_R1) {
		put(s->hdr + FWR_O_R1_SIZE, R1_SIZE - 8, 4);
		put(s->hdr + FWR_O_R1_GPA, R1_GPA, 8);
		total += R1_SIZE;
		/* region 1 follows region 0 in record offsets */
		memmove(s->ram + s->r0_size, s->ram + RAM, R1_SIZE);
	}
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f)
		die(path, -errno);
	fwrite(s->hdr, 1, FWR_HDR, f);
	for (uint32_t at = 0; at + 8 <= total; at += 8) {
		uint64_t v = 0;
		uint8_t rec[FWR_REC];

		for (unsigned int i = 0; i < 8; i++)
			v |= (uint64_t)s->ram[at + i] << (8 * i);
		if (!v)
			continue;
		put(rec, at, 4);
		put(rec + 4, v, 8);
		fwrite(rec, 1, FWR_REC, f);
	}
	fclose(f);
	pt_riscv_fini(&s->b);
	pt_riscv_fini(&s->b1);
	nwritten++;
}

/* A 1/2/3-level DDT with device 0x12 using dc[]. */
static void ddt(struct seed *s, unsigned int levels, bool ext,
		const uint64_t *dc, uint32_t dev)
{
	uint64_t ddtp;

	OK(pt_riscv_ddt_new(&s->b, levels, &ddtp));
	OK(pt_riscv_ddt_set(&s->b, ddtp, ext, false, dev, dc, NULL));
	put(s->hdr + FWR_O_DDTP, ddtp, 8);
	put(s->hdr + FWR_O_DEVICE, dev, 4);
}

/* Device with a first stage of mode over a new table, mapped as asked. */
static void fs_seed(const char *name, unsigned int levels, unsigned int mode,
		    uint64_t iova, uint64_t pa, uint64_t size, uint64_t bits,
		    unsigned int access, uint64_t tc)
{
	static struct seed s;
	struct pt_riscv_pt pt;
	uint64_t dc[8] = { 0 };

	begin(&s, FWR_F_DC | FWR_F_WRITABLE, access, iova + size / 2);
	OK(pt_riscv_pt_new(&s.b, &pt, 1, mode, 0, false));
	OK(pt_riscv_map(&s.b, &pt, iova, pa, size, bits));
	dc[0] = PT_RISCV_TC_V | tc;
	dc[3] = pt_riscv_atp(&pt);
	ddt(&s, levels, false, dc, 0x12 + levels);
	emit(&s, name);
}

/* Nested: first stage (or Bare) under a G-stage mapping RAM at VIEW_GPA. */
static void nested_seed(const char *name, unsigned int fmode,
			unsigned int gmode, bool pdt, unsigned int flags)
{
	static struct seed s;
	struct pt_riscv_pt gpt, pt;
	uint64_t dc[8] = { 0 }, pdtp;

	begin(&s, FWR_F_DC | flags, 3, 0x5123);
	OK(pt_riscv_pt_new(&s.b, &gpt, 2, gmode, 0, false));
	OK(pt_riscv_map(&s.b, &gpt, VIEW_GPA, FWR_R0_GPA, 2 * MiB, LEAF_RW));
	OK(pt_riscv_map(&s.b, &gpt, 0x20000000, 0x90000000, 2 * MiB, LEAF_RW));
	dc[0] = PT_RISCV_TC_V;
	dc[1] = pt_riscv_atp(&gpt);
	if (fmode) {
		OK(pt_riscv_pt_new(&s.b, &pt, 1, fmode, VIEW, false));
		OK(pt_riscv_map(&s.b, &pt, 0x5000, 0x20003000, 4 * KiB,
				LEAF_RW));
		dc[3] = pt_riscv_atp(&pt);
	} else {
		put(s.hdr + FWR_O_IOVA, 0x20003123, 8);
	}
	if (pdt) {
		OK(pt_riscv_pdt_new(&s.b, 2, VIEW, &pdtp));
		OK(pt_riscv_pdt_set(&s.b, pdtp, VIEW, false, 0x12345,
				    PT_RISCV_PC_V | PT_RISCV_PC_ENS |
				    PT_RISCV_PC_SUM | 7ULL << 12, dc[3], NULL));
		dc[0] |= PT_RISCV_TC_PDTV;
		dc[3] = pdtp;
		put(s.hdr + FWR_O_PROCESS, 0x12345, 4);
		s.hdr[FWR_O_REQ] = 3;	/* process_id, supervisor */
	}
	ddt(&s, 2, false, dc, 0x777);
	emit(&s, name);
}

/* A config given directly (no DDT): iosatp and iohgatp in the header. */
static void direct_seed(const char *name, unsigned int mode, uint64_t iova,
			uint64_t size, uint64_t bits, uint32_t cflags,
			unsigned int flags, uint64_t walk_iova)
{
	static struct seed s;
	struct pt_riscv_pt pt;

	begin(&s, flags, 1, walk_iova ? walk_iova : iova + size / 2);
	OK(pt_riscv_pt_new(&s.b, &pt, 1, mode, 0, false));
	OK(pt_riscv_map(&s.b, &pt, iova, 0x123ULL * size, size, bits));
	put(s.hdr + FWR_O_DDTP, pt_riscv_atp(&pt), 8);
	put(s.hdr + FWR_O_CFLAGS, cflags, 4);
	emit(&s, name);
}

static void hostile_seeds(void)
{
	static struct seed s;
	struct pt_riscv_pt pt;
	uint64_t dc[8] = { 0 }, ea, v;

	/* A leaf with reserved bit 55 */
	begin(&s, FWR_F_DC, 1, 0x3000);
	OK(pt_riscv_pt_new(&s.b, &pt, 1, 8, 0, false));
	OK(pt_riscv_map(&s.b, &pt, 0x3000, 0x3000, 4 * KiB, LEAF_RW));
	OK(pt_riscv_entry(&s.b, &pt, 0x3000, 1, &ea));
	OK(pt_riscv_read64(&s.b, ea, &v, false));
	OK(pt_riscv_write64(&s.b, ea, v | 1ULL << 55, false));
	dc[0] = PT_RISCV_TC_V;
	dc[3] = pt_riscv_atp(&pt);
	ddt(&s, 1, false, dc, 5);
	emit(&s, "fault-reserved-bit");

	/* A root whose every entry points back at itself */
	begin(&s, 0, 1, 0x123456789ULL);
	OK(pt_riscv_pt_new(&s.b, &pt, 1, 10, 0, false));
	for (unsigned int i = 0; i < 512; i++)
		OK(pt_riscv_write64(&s.b, pt.root + i * 8, PT_RISCV_V |
				    ((pt.root >> 12) << 10), false));
	put(s.hdr + FWR_O_DDTP, pt_riscv_atp(&pt), 8);
	emit(&s, "hostile-self-reference");

	/* Root in the last page of a region cut just after entry 511 */
	begin(&s, 0, 1, 0xffffffffc0000000ULL);
	s.r0_size = 8 * KiB;
	OK(pt_riscv_write64(&s.b, FWR_R0_GPA + 4 * KiB + 511 * 8,
			    PT_RISCV_V | LEAF_RO | (0x40000ULL << 10), false));
	put(s.hdr + FWR_O_DDTP, 8ULL << 60 | ((FWR_R0_GPA >> 12) + 1), 8);
	emit(&s, "hostile-end-of-region");

	/* A non-leaf pointing past the end of memory */
	begin(&s, 0, 1, 0);
	s.r0_size = 4 * KiB;
	OK(pt_riscv_write64(&s.b, FWR_R0_GPA, PT_RISCV_V |
			    (((FWR_R0_GPA + 4 * KiB) >> 12) << 10), false));
	put(s.hdr + FWR_O_DDTP, 8ULL << 60 | (FWR_R0_GPA >> 12), 8);
	emit(&s, "fault-table-outside");

	/* G-stage only (direct): a GPA beyond Sv39x4, a leaf without U */
	{
		struct pt_riscv_pt gpt;

		begin(&s, 0, 1, 1ULL << 41);
		OK(pt_riscv_pt_new(&s.b, &gpt, 2, 8, 0, false));
		put(s.hdr + FWR_O_IOHGATP, pt_riscv_atp(&gpt), 8);
		emit(&s, "fault-gstage-width");

		begin(&s, 0, 1, 0x200000);
		OK(pt_riscv_pt_new(&s.b, &gpt, 2, 8, 0, false));
		OK(pt_riscv_map(&s.b, &gpt, 0x200000, 0x200000, 2 * MiB,
				LEAF_RW & ~PT_RISCV_U));
		put(s.hdr + FWR_O_IOHGATP, pt_riscv_atp(&gpt), 8);
		emit(&s, "fault-gstage-user-bit");
	}

	/* Tables split across two regions */
	begin(&s, FWR_F_DC | FWR_F_R1, 1, 0x7000);
	{
		struct pt_riscv_pt pt1;

		OK(pt_riscv_pt_new(&s.b1, &pt1, 1, 8, 0, false));
		OK(pt_riscv_map(&s.b1, &pt1, 0x7000, 0x9000, 4 * KiB,
				LEAF_RW));
		dc[3] = pt_riscv_atp(&pt1);
	}
	ddt(&s, 1, false, dc, 9);
	emit(&s, "two-regions");
}

static void dc_fault_seeds(void)
{
	static struct seed s;
	uint64_t dc[8] = { 0 };

	begin(&s, FWR_F_DC, 1, 0x1000);
	put(s.hdr + FWR_O_DDTP, 0, 8);		/* iommu_mode Off */
	emit(&s, "fault-blocked-off");

	begin(&s, FWR_F_DC, 3, 0x1000);
	put(s.hdr + FWR_O_DDTP, 1, 8);		/* Bare */
	emit(&s, "bare-pass-through");

	begin(&s, FWR_F_DC, 1, 0x1000);
	dc[0] = 0;				/* V = 0 */
	ddt(&s, 2, false, dc, 0x1234);
	emit(&s, "fault-dc-invalid");

	begin(&s, FWR_F_DC, 1, 0x1000);
	dc[0] = PT_RISCV_TC_V | 1ULL << 20;	/* reserved tc bit */
	ddt(&s, 3, false, dc, 0xabcdef);
	emit(&s, "fault-dc-misconfigured");

	begin(&s, FWR_F_DC, 1, 0x1000);
	dc[0] = PT_RISCV_TC_V;
	ddt(&s, 1, false, dc, 0x12);
	put(s.hdr + FWR_O_DEVICE, 0x80, 4);	/* wider than 1LVL */
	emit(&s, "fault-device-too-wide");
}

static void msi_seed(void)
{
	static struct seed s;
	struct pt_riscv_pt pt;
	uint64_t dc[8] = { 0 };

	begin(&s, FWR_F_DC, 2, 0x201000);
	put(s.hdr + FWR_O_CAPS, CAPS | CAP_MSI_FLAT, 8);
	OK(pt_riscv_pt_new(&s.b, &pt, 1, 8, 0, false));
	OK(pt_riscv_map(&s.b, &pt, 0x200000, 0x28000000, 2 * MiB, LEAF_RW));
	dc[0] = PT_RISCV_TC_V;
	dc[3] = pt_riscv_atp(&pt);
	dc[4] = 1ULL << 60;			/* msiptp Flat */
	dc[5] = 7;
	dc[6] = 0x28000;
	ddt(&s, 2, true, dc, 0x4321);
	emit(&s, "msi-interrupt-file");
}

static void big_endian_seed(void)
{
	static struct seed s;
	struct pt_riscv_pt pt;
	uint64_t dc[8] = { 0 }, ddtp;

	begin(&s, FWR_F_DC | FWR_F_WRITABLE, 2, 0x1000);
	s.hdr[FWR_O_FCTL] = 1;			/* fctl.BE, read-only */
	OK(pt_riscv_pt_new(&s.b, &pt, 1, 8, 0, true));
	OK(pt_riscv_map(&s.b, &pt, 0x1000, 0x8000, 4 * KiB,
			PT_RISCV_R | PT_RISCV_W | PT_RISCV_U));
	dc[0] = PT_RISCV_TC_V | PT_RISCV_TC_SBE | PT_RISCV_TC_SADE;
	dc[3] = pt_riscv_atp(&pt);
	OK(pt_riscv_ddt_new(&s.b, 1, &ddtp));
	OK(pt_riscv_ddt_set(&s.b, ddtp, false, true, 3, dc, NULL));
	put(s.hdr + FWR_O_DDTP, ddtp, 8);
	put(s.hdr + FWR_O_DEVICE, 3, 4);
	emit(&s, "big-endian-ad-update");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
		return 2;
	}
	outdir = argv[1];

	/* Valid translations: every page size, every DDT depth. */
	fs_seed("sv39-4k-ddt1", 1, 8, 0x40000000, 0x1234000, 4 * KiB, LEAF_RW,
		1, 0);
	fs_seed("sv39-64k-napot", 1, 8, 0x50000, 0x70000, 64 * KiB, LEAF_RW,
		3, 0);
	fs_seed("sv48-2m-ddt2", 2, 9, 0x7fe00000, 0x3fe00000, 2 * MiB,
		LEAF_RW, 2, 0);
	fs_seed("sv57-1g-ddt3", 3, 10, 3 * GiB, 5 * GiB, GiB, LEAF_RO, 1, 0);
	fs_seed("sv48-512g", 2, 9, 512 * GiB, 1024 * GiB, 512 * GiB, LEAF_RW,
		3, 0);
	fs_seed("sv57-256t", 3, 10, 0xff00000000000000ULL, 256ULL << 40,
		256ULL << 40, LEAF_RW, 1, 0);
	/* Faults of the first stage. */
	fs_seed("fault-permission", 1, 8, 0x1000, 0x2000, 4 * KiB, LEAF_RO, 2,
		0);
	fs_seed("fault-access-flag", 1, 8, 0x1000, 0x2000, 4 * KiB,
		PT_RISCV_R | PT_RISCV_W | PT_RISCV_U, 2, 0);
	fs_seed("ad-update-sade", 1, 9, 0x1000, 0x2000, 4 * KiB,
		PT_RISCV_R | PT_RISCV_W | PT_RISCV_U, 2, PT_RISCV_TC_SADE);
	fs_seed("fault-user-bit", 1, 8, 0x1000, 0x2000, 4 * KiB,
		LEAF_RW & ~PT_RISCV_U, 1, 0);
	direct_seed("fault-non-canonical", 8, 1ULL << 37, 4 * KiB, LEAF_RW, 0,
		    0, 1ULL << 38);
	direct_seed("fault-not-present", 8, 1ULL << 37, 4 * KiB, LEAF_RW, 0,
		    0, (1ULL << 37) + 4 * KiB);
	direct_seed("direct-sv48-2m", 9, 0x40000000, 2 * MiB, LEAF_RW, 0, 0,
		    0);
	direct_seed("fault-ad-update-readonly", 8, 0x1000, 4 * KiB,
		    PT_RISCV_R | PT_RISCV_U, 1, 0, 0);
	direct_seed("direct-pbmt", 10, 0x1000, 4 * KiB,
		    LEAF_RW | PT_RISCV_PBMT(1), 1U << 6, 0, 0);
	/* Two stages. */
	nested_seed("nested-sv39-sv39x4", 8, 8, false, FWR_F_WRITABLE);
	nested_seed("nested-sv48-sv57x4", 9, 10, false, 0);
	nested_seed("gstage-only-sv48x4", 0, 9, false, 0);
	nested_seed("pdt-pd17-nested-priv-s", 9, 9, true, FWR_F_WRITABLE);
	hostile_seeds();
	dc_fault_seeds();
	msi_seed();
	big_endian_seed();
	printf("wrote %u seeds to %s\n", nwritten, outdir);
	return 0;
}
