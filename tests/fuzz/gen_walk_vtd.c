/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_walk_vtd.c with the VT-d builder: one
 * file per translation kind and per fault.  Not built by make; from a
 * configured build tree:
 *
 *   cc -I. -Iinclude -Isrc/lib -Isrc/sim tests/fuzz/gen_walk_vtd.c \
 *      src/sim/pt-vtd.c -o gen-walk-vtd && ./gen-walk-vtd tests/fuzz/corpus/walk-vtd
 *
 * FUZZ_WALK_VTD_VERBOSE=1 tests/fuzz/replay-walk-vtd shows what each does.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt-vtd.h"

#define RAM_SIZE	(64 * 4096UL)
#define K4		0x1000ULL
#define M2		0x200000ULL
#define G1		0x40000000ULL
#define NO_PASID	0xffffffffU

struct seed {
	uint8_t mode, haw, sagaw, access, pages, direct;
	uint16_t caps, sid, dflags;
	uint32_t pasid, r2page;
	uint64_t iova, root;
};

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static const char *outdir;

static void put(uint8_t *p, uint64_t v, unsigned int n)
{
	while (n--) {
		*p++ = (uint8_t)v;
		v >>= 8;
	}
}

static void emit(const char *name, const struct seed *s)
{
	uint8_t h[36] = { 0 }, rec[10];
	char path[4096];
	unsigned int i;
	FILE *f;

	h[0] = s->mode;
	put(h + 1, s->caps, 2);
	h[3] = (uint8_t)(s->haw - 32);
	h[4] = s->sagaw;
	h[5] = s->access;
	put(h + 6, s->sid, 2);
	put(h + 8, s->pasid, 4);
	put(h + 12, s->iova, 8);
	put(h + 20, s->root, 8);
	put(h + 28, s->r2page, 4);
	h[32] = (uint8_t)(s->pages - 1);
	h[33] = s->direct;
	put(h + 34, s->dflags, 2);
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(h, sizeof(h), 1, f) != 1) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < RAM_SIZE / 8; i++) {
		uint64_t v;

		memcpy(&v, ram + 8 * i, 8);
		if (!v)
			continue;
		put(rec, i, 2);
		put(rec + 2, v, 8);	/* ram holds little-endian qwords */
		if (fwrite(rec, sizeof(rec), 1, f) != 1) {
			perror(path);
			exit(1);
		}
	}
	fclose(f);
}

static void must(int r, const char *what)
{
	if (r) {
		fprintf(stderr, "gen-walk-vtd: %s: %d\n", what, r);
		exit(1);
	}
}

static struct pt_vtd_builder b;

static void reset(void)
{
	memset(ram, 0, sizeof(ram));
	must(pt_vtd_init(&b, ram, 0, RAM_SIZE, 48), "init");
}

static struct seed base_seed(int scalable)
{
	struct seed s;

	memset(&s, 0, sizeof(s));
	s.mode = (uint8_t)scalable;
	s.caps = 0xfff;
	s.haw = 48;
	s.sagaw = 0xe;
	s.access = 1;
	s.pages = 64;
	s.pasid = NO_PASID;
	return s;
}

/* Legacy device 00:01.0 with an SL table of aw + 2 levels. */
static struct seed legacy(struct pt_vtd_table *t, unsigned int aw, unsigned int tt)
{
	struct pt_vtd_context c = { 0 };
	struct seed s = base_seed(0);

	reset();
	must(pt_vtd_root_new(&b, &s.root), "root");
	must(pt_vtd_table_new(&b, t, PT_VTD_SECOND_LEVEL, aw + 2), "table");
	c.tt = tt;
	c.aw = aw;
	c.did = 5;
	c.slptptr = t->root;
	must(pt_vtd_legacy_context(&b, s.root, 0, 8, &c), "context");
	s.sid = 8;
	return s;
}

/* Scalable device 00:devfn, RID_PASID 1, PASID pasid -> pgtt on table t. */
static struct seed scalable(struct pt_vtd_table *t, enum pt_vtd_kind kind,
			    unsigned int levels, uint8_t devfn, uint32_t pasid,
			    unsigned int pgtt, int paside, int priv)
{
	struct pt_vtd_sm_context c = { 0 };
	struct pt_vtd_pasid p = { 0 };
	struct seed s = base_seed(1);
	uint64_t dir;

	reset();
	must(pt_vtd_root_new(&b, &s.root), "root");
	if (kind)
		must(pt_vtd_table_new(&b, t, kind, levels), "table");
	c.pdts = 0;
	c.rid_pasid = 1;
	c.pasid_enable = paside;
	c.rid_priv = priv;
	must(pt_vtd_sm_context(&b, s.root, 0, devfn, &c, &dir), "sm context");
	p.pgtt = pgtt;
	p.did = 9;
	p.aw = kind == PT_VTD_SECOND_LEVEL ? levels - 2 : 2;
	if (kind == PT_VTD_SECOND_LEVEL)
		p.slptptr = t->root;
	if (kind == PT_VTD_FIRST_LEVEL) {
		p.flptptr = t->root;
		p.flpm = levels - 4;
	}
	must(pt_vtd_sm_pasid(&b, dir, pasid, &p), "pasid");
	s.sid = devfn;
	if (pasid != 1) {
		s.mode |= 2;
		s.pasid = pasid;
	}
	return s;
}

static void wr(uint64_t gpa, uint64_t v)
{
	must(pt_vtd_write64(&b, gpa, v), "write");
}

static uint64_t rd(uint64_t gpa)
{
	uint64_t v = 0;

	must(pt_vtd_read64(&b, gpa, &v), "read");
	return v;
}

static uint64_t entry(const struct pt_vtd_table *t, uint64_t iova, unsigned int level)
{
	uint64_t g = 0;

	must(pt_vtd_entry_gpa(&b, t, iova, level, &g), "entry");
	return g;
}

int main(int argc, char **argv)
{
	struct pt_vtd_table t;
	struct seed s;
	uint64_t g;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	outdir = argv[1];

	/* Legacy mode. */
	s = legacy(&t, 1, 0);
	must(pt_vtd_map(&b, &t, 0x5000, 0x123000, K4, K4, PT_VTD_R), "map");
	s.iova = 0x5008;
	emit("legacy-sl3-4k", &s);
	s.access = 2;
	emit("legacy-sl3-permission", &s);
	s.access = 1;
	s.iova = 0x6000;
	emit("legacy-sl3-not-present", &s);
	s.iova = 1ULL << 39;
	emit("legacy-sl3-addr-width", &s);
	wr(entry(&t, 0x5000, 1), rd(entry(&t, 0x5000, 1)) | (1ULL << 62));
	s.iova = 0x5000;
	emit("legacy-sl3-reserved", &s);
	pt_vtd_table_free(&t);

	s = legacy(&t, 2, 0);
	must(pt_vtd_map(&b, &t, 3 * M2, 5 * M2, M2, M2, PT_VTD_R | PT_VTD_W), "map");
	s.iova = 3 * M2 + 0x777;
	s.access = 3;
	emit("legacy-sl4-2m", &s);
	s.sid = 9;
	emit("legacy-context-not-present", &s);
	s.sid = 0x108;
	emit("legacy-root-not-present", &s);
	s.sid = 8;
	wr(entry(&t, 3 * M2, 3), 0x4000000000ULL | 3);
	emit("legacy-table-outside", &s);
	g = entry(&t, 0, 4);
	wr(g, (g & ~0xfffULL) | 3);	/* PML4E 0 points at its own table */
	s.iova = 0x123;
	emit("legacy-self-reference", &s);
	pt_vtd_table_free(&t);

	s = legacy(&t, 3, 0);
	must(pt_vtd_map(&b, &t, 3 * G1, 3 * G1, G1, G1, PT_VTD_R | PT_VTD_W), "map");
	s.iova = 3 * G1 + 0x1234;
	emit("legacy-sl5-1g-irq-trim", &s);
	s.iova = 0xfee00000ULL;
	emit("legacy-sl5-irq-blocked", &s);
	pt_vtd_table_free(&t);

	s = legacy(&t, 2, 2);
	s.iova = 0x123456789ULL;
	emit("legacy-pass-through", &s);
	pt_vtd_table_free(&t);
	s = legacy(&t, 2, 3);
	emit("legacy-tt-reserved", &s);
	pt_vtd_table_free(&t);

	/* Scalable mode. */
	s = scalable(&t, PT_VTD_SECOND_LEVEL, 4, 0x10, 1, 2, 1, 0);
	must(pt_vtd_map(&b, &t, 0x7000, 0x9000, K4, K4, PT_VTD_W), "map");
	s.iova = 0x7000;
	s.access = 2;
	emit("sm-sl4-rid-pasid", &s);
	pt_vtd_table_free(&t);

	s = scalable(&t, PT_VTD_SECOND_LEVEL, 3, 0x90, 1, 2, 1, 0);
	must(pt_vtd_map(&b, &t, 0x7000, 0x9000, K4, K4, PT_VTD_R | PT_VTD_W), "map");
	g = 0;
	{
		uint64_t ce;

		must(pt_vtd_context_entry_gpa(&b, s.root, 0, 0x90, 1, &ce), "ce");
		must(pt_vtd_pasid_entry_gpa(&b, rd(ce) & ~0xfffULL, 1, &g), "pe");
	}
	wr(g, rd(g) | (1ULL << 9));	/* SLADE */
	s.iova = 0x7000;
	s.access = 2;
	emit("sm-sl3-upper-slade", &s);
	pt_vtd_table_free(&t);

	s = scalable(&t, PT_VTD_FIRST_LEVEL, 4, 0x20, 0x55, 1, 1, 0);
	must(pt_vtd_map(&b, &t, 0x7000, 0x9000, K4, K4, PT_VTD_R | PT_VTD_W), "map");
	s.iova = 0x7abc;
	s.access = 2;
	emit("sm-fl4-4k-pasid", &s);
	s.iova = 0x0000800000000000ULL;
	emit("sm-fl4-non-canonical", &s);
	s.iova = 0x7000;
	s.mode |= 0x10;
	emit("sm-fl4-ad-readonly", &s);
	s.mode &= ~0x10;
	g = entry(&t, 0x7000, 2);
	wr(g, rd(g) & ~4ULL);
	emit("sm-fl4-user-permission", &s);
	s.pasid = 0x56;
	emit("sm-pasid-not-present", &s);
	s.pasid = 0x2000;
	emit("sm-pasid-beyond-pdts", &s);
	pt_vtd_table_free(&t);

	s = scalable(&t, PT_VTD_FIRST_LEVEL, 5, 0x20, 1, 1, 0, 0);
	must(pt_vtd_map(&b, &t, 0xffffffffffe00000ULL, 0x400000, M2, M2, PT_VTD_R), "map");
	must(pt_vtd_map(&b, &t, G1, 2 * G1, G1, G1, PT_VTD_R | PT_VTD_W), "map");
	s.iova = 0xffffffffffe12345ULL;
	emit("sm-fl5-2m-high", &s);
	s.iova = G1 + 0x4321;
	s.access = 3;
	emit("sm-fl5-1g", &s);
	s.mode |= 2;
	s.pasid = 1;
	emit("sm-paside-blocked", &s);
	pt_vtd_table_free(&t);

	s = scalable(&t, PT_VTD_FIRST_LEVEL, 4, 0x30, 1, 1, 1, 1);
	must(pt_vtd_map(&b, &t, 0x7000, 0x9000, K4, K4, PT_VTD_R), "map");
	s.iova = 0x7000;
	emit("sm-fl4-supervisor-no-sre", &s);
	s.caps = 0xfff;
	{
		uint64_t ce, pe;

		must(pt_vtd_context_entry_gpa(&b, s.root, 0, 0x30, 1, &ce), "ce");
		must(pt_vtd_pasid_entry_gpa(&b, rd(ce) & ~0xfffULL, 1, &pe), "pe");
		wr(pe + 16, rd(pe + 16) | 1 | (1ULL << 4));	/* SRE, WPE */
	}
	s.access = 2;
	emit("sm-fl4-supervisor-wpe", &s);
	pt_vtd_table_free(&t);

	s = scalable(&t, 0, 0, 0x40, 1, 4, 1, 0);
	s.iova = 0xfee00000ULL - 1;
	s.access = 3;
	emit("sm-pass-through", &s);
	s = scalable(&t, 0, 0, 0x40, 1, 3, 1, 0);
	emit("sm-nested-unsupported", &s);

	/* Direct configurations (page-table domains). */
	reset();
	must(pt_vtd_table_new(&b, &t, PT_VTD_FIRST_LEVEL, 5), "table");
	must(pt_vtd_map(&b, &t, 0x200000, 0x600000, M2, M2, PT_VTD_R | PT_VTD_W), "map");
	s = base_seed(0);
	s.mode = 4 | 0x20;
	s.direct = 1 | (1 << 2);	/* FL, 5 levels */
	s.dflags = 1U << 5;		/* EAFE */
	s.root = t.root;
	s.iova = 0x212345;
	emit("direct-fl5-eafe-trace", &s);
	s.direct = 0;			/* SL, 3 levels: FL entries read as SL */
	emit("direct-sl3-foreign", &s);
	s.direct = 2;
	s.iova = 0xabcdef012ULL;
	emit("direct-pass-through", &s);
	pt_vtd_table_free(&t);

	/* Tables in region 2 (16 pages in region 1). */
	memset(ram, 0, sizeof(ram));
	must(pt_vtd_init(&b, ram + 16 * 4096, 0x12345000ULL, RAM_SIZE - 16 * 4096, 48),
	     "init region 2");
	must(pt_vtd_table_new(&b, &t, PT_VTD_SECOND_LEVEL, 4), "table");
	must(pt_vtd_map(&b, &t, 0x3000, 0x5000, K4, K4, PT_VTD_R), "map");
	s = base_seed(0);
	s.mode = 4;
	s.direct = 1 << 2;		/* SL, 4 levels */
	s.dflags = 3;
	s.pages = 16;
	s.r2page = 0x12345;
	s.root = t.root;
	s.iova = 0x3000;
	emit("direct-sl4-region2", &s);
	pt_vtd_table_free(&t);
	return 0;
}
