/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_walk_amd: one input per page size,
 * level count, skip and fault the walker knows, built with pt-amd.
 * Usage: gen-corpus-walk-amd DIR
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt-amd.h"
#include "fuzz-walk-amd.h"

static uint8_t ram[FZA_RAM0_SIZE] __attribute__((aligned(4096)));
static const char *outdir;
static unsigned int seq;

struct seed {
	unsigned int flags, levels, access, perm;
	uint16_t devid;
	uint16_t r1_size;
	uint64_t iova, root;
	/* extra region 1 bytes: offset, 8-byte value */
	int r1_at;
	uint64_t r1_val;
};

static void put(FILE *f, uint64_t v, unsigned int n)
{
	while (n--) {
		fputc((int)(v & 0xff), f);
		v >>= 8;
	}
}

static void emit(const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;
	uint64_t v;

	snprintf(path, sizeof(path), "%s/%02u-%s", outdir, seq++, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	put(f, s->flags, 1);
	put(f, s->levels, 1);
	put(f, s->access, 1);
	put(f, s->perm, 1);
	put(f, s->devid, 2);
	put(f, s->r1_size, 2);
	put(f, s->iova, 8);
	/* rebased by the target: give the offset into region 0 */
	put(f, s->root, 8);
	for (uint32_t off = 0; off < FZA_RAM0_SIZE; off += 8) {
		memcpy(&v, ram + off, 8);
		if (v) {
			put(f, off, 4);
			put(f, v, 8);
		}
	}
	if (s->r1_size) {
		put(f, FZA_REC_REGION1 | (uint32_t)s->r1_at, 4);
		put(f, s->r1_val, 8);
	}
	fclose(f);
}

static void fresh(struct pt_amd_builder *b, unsigned int levels)
{
	memset(ram, 0, sizeof(ram));
	if (pt_amd_init(b, ram, FZA_RAM0_GPA, sizeof(ram)) ||
	    (levels && pt_amd_pt_create(b, levels))) {
		fprintf(stderr, "builder init failed\n");
		exit(1);
	}
}

static void must(int r, const char *what)
{
	if (r) {
		fprintf(stderr, "%s: %d\n", what, r);
		exit(1);
	}
}

/* A page table seed in direct mode. */
static void pt_seed(const char *name, struct pt_amd_builder *b, uint64_t iova,
		    unsigned int access, unsigned int dte_perm)
{
	struct seed s;

	memset(&s, 0, sizeof(s));
	s.levels = b->levels;
	s.access = access;
	s.perm = dte_perm;
	s.iova = iova;
	s.root = b->root;
	emit(name, &s);
	pt_amd_fini(b);
}

int main(int argc, char **argv)
{
	struct pt_amd_builder b;
	struct pt_amd_dte d;
	struct seed s;
	uint64_t reg, g, e;
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];

	/* 4 KiB pages under every level count */
	for (unsigned int lv = 1; lv <= 6; lv++) {
		uint64_t iova = lv == 1 ? 0x1a000 : (0x123456789abcd000ULL &
			((lv == 6 ? 0 : 1ULL << (12 + 9 * lv)) - 1));

		fresh(&b, lv);
		must(pt_amd_map(&b, iova, 0x77000, 4096, PT_AMD_R | PT_AMD_W, 0), "map 4k");
		snprintf(name, sizeof(name), "4k-%u-levels", lv);
		pt_seed(name, &b, iova + 0x10, 2, 3);
	}
	/* sizes: NL 7 at level 1, NL 0 at 2, NL 7 at 2, NL 0 at 3, NL 7 at 4 */
	{
		static const unsigned int lg2s[] = { 13, 16, 20, 21, 22, 29, 30, 35, 40, 44 };

		for (unsigned int i = 0; i < sizeof(lg2s) / sizeof(lg2s[0]); i++) {
			uint64_t sz = 1ULL << lg2s[i];

			fresh(&b, 5);
			must(pt_amd_map(&b, 3 * sz, 5 * sz & 0xfffffffffffffULL, sz,
					PT_AMD_R, 0), "map size");
			snprintf(name, sizeof(name), "size-lg2-%u", lg2s[i]);
			pt_seed(name, &b, 3 * sz + sz / 3, 1, 3);
		}
	}
	/* level skipping: 6 -> 1 and 4 -> 2 */
	fresh(&b, 6);
	must(pt_amd_map(&b, 0x5000, 0x99000, 4096, PT_AMD_R, PT_AMD_MAP_SKIP), "skip");
	pt_seed("skip-6-to-1", &b, 0x5000, 1, 3);
	fresh(&b, 6);
	must(pt_amd_map(&b, 0x5000, 0x99000, 4096, PT_AMD_R, PT_AMD_MAP_SKIP), "skip");
	pt_seed("skip-bits-nonzero", &b, 0x5000 | (1ULL << 33), 1, 3);
	fresh(&b, 4);
	must(pt_amd_map(&b, 0x600000, 0x200000, 0x200000, PT_AMD_W, PT_AMD_MAP_SKIP), "skip2");
	must(pt_amd_map(&b, 0x40000000, 0x800000, 0x200000, PT_AMD_W, PT_AMD_MAP_SKIP), "skip3");
	pt_seed("skip-split", &b, 0x40000123, 2, 3);
	/* faults */
	fresh(&b, 3);
	must(pt_amd_map(&b, 0x1000, 0x2000, 4096, PT_AMD_R, 0), "map");
	pt_seed("not-present", &b, 0x2000, 1, 3);
	fresh(&b, 3);
	must(pt_amd_map(&b, 0x1000, 0x2000, 4096, PT_AMD_R, 0), "map");
	pt_seed("permission-pte", &b, 0x1000, 2, 3);
	fresh(&b, 3);
	must(pt_amd_map(&b, 0x1000, 0x2000, 4096, PT_AMD_R | PT_AMD_W, 0), "map");
	pt_seed("permission-dte", &b, 0x1000, 2, 1);
	fresh(&b, 3);
	must(pt_amd_map(&b, 0x1000, 0x2000, 4096, PT_AMD_R, 0), "map");
	must(pt_amd_entry_gpa(&b, 0x1000, 1, &g), "entry");
	must(pt_amd_read_u64(&b, g, &e), "read");
	must(pt_amd_write_u64(&b, g, e | (1ULL << 55)), "write");
	pt_seed("reserved-pte", &b, 0x1000, 1, 3);
	fresh(&b, 3);
	must(pt_amd_map(&b, 0x1000, 0x2000, 4096, PT_AMD_R, 0), "map");
	pt_seed("addr-width", &b, 1ULL << 40, 1, 3);
	fresh(&b, 2);
	must(pt_amd_write_u64(&b, b.root, 1 | (7ULL << 9) | (1ULL << 61) | 0x2ff000ULL), "w");
	pt_seed("nl7-default-size", &b, 0x1000, 1, 3);
	fresh(&b, 6);
	must(pt_amd_write_u64(&b, b.root, 1 | (5ULL << 9) | b.root | (3ULL << 61)), "w");
	pt_seed("self-reference", &b, 0, 0, 3);
	fresh(&b, 0);
	memset(&s, 0, sizeof(s));
	s.levels = 0;
	s.perm = 1;
	s.access = 1;
	s.iova = 0xabcdef123ULL;
	emit("mode0-identity", &s);
	s.levels = 7;
	emit("levels-7-invalid", &s);
	/* a table outside memory, and one whose last entry straddles region 1 */
	s.levels = 3;
	s.flags = FZA_F_RAW_ROOT;
	s.root = 0x7000;
	emit("root-outside", &s);
	s.flags = FZA_F_RAW_ROOT | FZA_F_ADJACENT;
	s.levels = 1;
	s.root = FZA_RAM0_GPA + FZA_RAM0_SIZE;
	s.r1_size = 4092;
	s.iova = 511ULL << 12;
	s.r1_at = 4088;
	s.r1_val = 1 | 0x5000ULL | (3ULL << 61);
	emit("straddle-region-end", &s);
	s.flags = FZA_F_RAW_ROOT;
	s.root = FZA_RAM1_FAR;
	s.iova = 510ULL << 12;
	s.r1_at = 4080;
	emit("far-region1", &s);

	/* device table seeds */
	{
		static const struct {
			const char *name;
			bool v, tv;
			unsigned int mode;
			uint64_t extra;
			uint16_t devid;
		} dt[] = {
			{ "dte-translate", true, true, 3, 0, 0x10 },
			{ "dte-v0", false, false, 0, 0, 0x11 },
			{ "dte-tv0", true, false, 3, 0, 0x12 },
			{ "dte-mode0", true, true, 0, 0, 0x13 },
			{ "dte-mode7", true, true, 7, 0, 0x14 },
			{ "dte-reserved", true, true, 3, 1ULL << 63, 0x15 },
			{ "dte-guest", true, true, 3, 3ULL << 54, 0x16 },
			{ "dte-beyond-table", true, true, 3, 0, 0x90 },
		};

		for (unsigned int i = 0; i < sizeof(dt) / sizeof(dt[0]); i++) {
			uint64_t q[4] = { 0, 0, 0, 0 };

			fresh(&b, 3);
			must(pt_amd_map(&b, 0x200000, 0x400000, 0x200000,
					PT_AMD_R | PT_AMD_W, 0), "map");
			must(pt_amd_devtab_create(&b, 0, &reg), "devtab");
			memset(&d, 0, sizeof(d));
			d.v = dt[i].v;
			d.tv = dt[i].tv;
			d.mode = dt[i].mode;
			d.root = b.root;
			d.perm = PT_AMD_R | PT_AMD_W;
			d.domain_id = (uint16_t)(0x100 + i);
			if (dt[i].devid < 128) {
				must(pt_amd_dte_set(&b, reg, dt[i].devid, &d), "dte");
				if (dt[i].extra) {
					g = pt_amd_dte_gpa(reg, dt[i].devid);
					must(pt_amd_read_u64(&b, g, &q[0]), "r");
					must(pt_amd_write_u64(&b, g, q[0] | dt[i].extra), "w");
				}
			}
			memset(&s, 0, sizeof(s));
			s.flags = FZA_F_DTE;
			s.access = 3;
			s.devid = dt[i].devid;
			s.iova = 0x2abcde;
			s.root = reg;
			emit(dt[i].name, &s);
			pt_amd_fini(&b);
		}
	}
	printf("wrote %u seeds to %s\n", seq, outdir);
	return 0;
}
