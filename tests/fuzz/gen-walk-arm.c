/* SPDX-License-Identifier: MIT */
/*
 * Seed corpus generator for fuzz_walk_arm.c, built by hand:
 *   cc -Iinclude -Isrc/lib -Isrc/sim -I. tests/fuzz/gen-walk-arm.c \
 *      src/sim/pt-arm.c -o gen-walk-arm && ./gen-walk-arm DIR
 * Each seed is a small guest image made with the pt-arm builder: one
 * translation of every page and block size, and one of each fault.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt-arm.h"

#define RAM_GPA 0x80000000ULL
#define NO_SSID 0x80000000U

struct seed {
	uint8_t hdr[40];
	uint8_t ram[132 << 10];
	size_t len;
	struct pt_arm_builder b, nb;	/* PA pool, IPA pool (nested) */
	struct pt_arm_strtab st;
};

static void put(uint8_t *p, uint64_t v, unsigned int n)
{
	while (n--) {
		*p++ = (uint8_t)v;
		v >>= 8;
	}
}

static void die(const char *what, int r)
{
	if (r) {
		fprintf(stderr, "gen-walk-arm: %s: %d\n", what, r);
		exit(1);
	}
}

/* A seed with len bytes of RAM; the stream table at the bottom. */
static void seed_init(struct seed *s, size_t len, bool two_level)
{
	memset(s, 0, sizeof(*s));
	s->len = len;
	pt_arm_init(&s->b, s->ram, RAM_GPA, len);
	die("strtab", pt_arm_strtab_new(&s->b, &s->st, 4, two_level, 6));
	put(s->hdr + 17, 5, 1);		/* OAS 48 */
	put(s->hdr + 18, 0xf, 1);	/* all features */
	put(s->hdr + 19, 16, 1);
	put(s->hdr + 20, 8, 1);
	put(s->hdr + 24, s->st.cfg, 4);
	put(s->hdr + 32, s->st.base, 8);
	put(s->hdr + 4, NO_SSID, 4);
}

static void seed_walk(struct seed *s, uint32_t sid, uint64_t iova,
		      unsigned int access)
{
	put(s->hdr, sid, 4);
	put(s->hdr + 8, iova, 8);
	put(s->hdr + 16, access, 1);
}

static void seed_write(const struct seed *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->hdr, 1, 40, f) != 40 ||
	    fwrite(s->ram, 1, s->len, f) != s->len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void ste_put(struct seed *s, uint32_t sid, const struct pt_arm_ste *e)
{
	uint64_t v[8], a;

	pt_arm_ste_encode(e, v);
	die("ste addr", pt_arm_ste_addr(&s->b, &s->st, sid, &a));
	die("ste", pt_arm_write_struct(&s->b, a, v));
}

/* Stage-1-only stream 1 with one CD over tt. */
static uint64_t s1_stream(struct seed *s, const struct pt_arm_tt *tt,
			  const struct pt_arm_cd *base)
{
	struct pt_arm_cdtab ct;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct pt_arm_ste e = { .valid = true, .config = 5 };
	uint64_t v[8], a;

	if (base)
		cd = *base;
	die("cdtab", pt_arm_cdtab_new(&s->b, &ct, 0, 0));
	pt_arm_cd_set_tt(&cd, 0, tt);
	pt_arm_cd_encode(&cd, v);
	die("cd addr", pt_arm_cd_addr(&s->b, &ct, 0, &a));
	die("cd", pt_arm_write_struct(&s->b, a, v));
	e.s1ctxptr = ct.ptr;
	ste_put(s, 1, &e);
	return a;
}

static void s1_case(const char *dir, const char *name, unsigned int g,
		    unsigned int ia, unsigned int shift, uint64_t attr,
		    unsigned int access, int breakit)
{
	static struct seed s;
	struct pt_arm_tt tt;
	uint64_t iova = 3ULL << shift, a;

	if (iova >> ia)
		iova = 1ULL << shift;
	if (iova >> ia)
		iova = 0;
	seed_init(&s, 40 << 10, false);
	die("tt", pt_arm_tt_new(&s.b, &tt, 1, g, ia, -1));
	s1_stream(&s, &tt, NULL);
	die("map", pt_arm_map(&s.b, &tt, iova, 0x40000000ULL << 4 & ~((1ULL << shift) - 1),
			      1ULL << shift, shift, attr));
	if (breakit == 1) {	/* level-3 descriptor with bit[1] clear */
		die("entry", pt_arm_entry(&s.b, &tt, iova, 3, false, &a));
		die("w", pt_arm_write64(&s.b, a, 0x5000 | (1ULL << 10) | 1));
	}
	seed_walk(&s, 1, iova + 0x18, access);
	seed_write(&s, dir, name);
}

static void s2_case(const char *dir, const char *name, unsigned int g,
		    unsigned int ia, int sl, unsigned int shift, size_t len)
{
	static struct seed s;
	struct pt_arm_tt tt;
	struct pt_arm_ste e = { .valid = true, .config = 6, .vmid = 3 };
	uint64_t iova = (1ULL << ia) - (1ULL << shift);

	seed_init(&s, len, false);
	die("tt", pt_arm_tt_new(&s.b, &tt, 2, g, ia, sl));
	pt_arm_ste_set_s2(&e, &tt, 5);
	ste_put(&s, 1, &e);
	die("map", pt_arm_map(&s.b, &tt, iova, 0x123400000000ULL & ~((1ULL << shift) - 1),
			      1ULL << shift, shift,
			      PT_ARM_AF | PT_ARM_S2_R | PT_ARM_S2_W));
	seed_walk(&s, 1, iova + 0x40, 3);
	seed_write(&s, dir, name);
}

/* Nested: S1 4K tables and CD at IPA 0x40000000 = RAM + 48K. */
static void nested_case(const char *dir, const char *name, bool s2_deny)
{
	static struct seed s;
	struct pt_arm_tt s1, s2;
	struct pt_arm_cdtab ct;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct pt_arm_ste e = { .valid = true, .config = 7 };
	uint64_t v[8], a;

	seed_init(&s, 80 << 10, false);
	s.b.size = 48 << 10;
	pt_arm_init(&s.nb, s.ram + (48 << 10), 0x40000000, 32 << 10);
	die("s2", pt_arm_tt_new(&s.b, &s2, 2, 12, 32, 2));
	die("s2 map", pt_arm_map(&s.b, &s2, 0x40000000, RAM_GPA + (48 << 10),
				 32 << 10, 12,
				 PT_ARM_AF | PT_ARM_S2_R | (s2_deny ? 0 : PT_ARM_S2_W)));
	die("s1", pt_arm_tt_new(&s.nb, &s1, 1, 12, 39, -1));
	die("cdtab", pt_arm_cdtab_new(&s.nb, &ct, 0, 0));
	pt_arm_cd_set_tt(&cd, 0, &s1);
	pt_arm_cd_encode(&cd, v);
	die("cd addr", pt_arm_cd_addr(&s.nb, &ct, 0, &a));
	die("cd", pt_arm_write_struct(&s.nb, a, v));
	die("s1 map", pt_arm_map(&s.nb, &s1, 0x200000, 0x10000000, 0x200000, 21,
				 PT_ARM_AF | PT_ARM_S1_EL0));
	die("s2 map2", pt_arm_map(&s.b, &s2, 0x10000000, 0x7000000000ULL, 0x1000, 12,
				  PT_ARM_AF | PT_ARM_S2_R | (s2_deny ? 0 : PT_ARM_S2_W)));
	e.s1ctxptr = ct.ptr;
	pt_arm_ste_set_s2(&e, &s2, 2);
	e.config = 7;
	ste_put(&s, 1, &e);
	seed_walk(&s, 1, 0x200123, s2_deny ? 2 : 3);
	seed_write(&s, dir, name);
}

/* Substreams: a 2-level CD table (4K leaves), SSID 70. */
static void ssid_case(const char *dir, const char *name)
{
	static struct seed s;
	struct pt_arm_tt tt;
	struct pt_arm_cdtab ct;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true };
	struct pt_arm_ste e = { .valid = true, .config = 5, .s1fmt = 1,
				.s1cdmax = 8, .s1dss = 2 };
	uint64_t v[8], a;

	seed_init(&s, 40 << 10, true);
	die("tt", pt_arm_tt_new(&s.b, &tt, 1, 12, 30, -1));
	die("cdtab", pt_arm_cdtab_new(&s.b, &ct, 1, 8));
	pt_arm_cd_set_tt(&cd, 0, &tt);
	pt_arm_cd_encode(&cd, v);
	die("cd addr", pt_arm_cd_addr(&s.b, &ct, 70, &a));
	die("cd", pt_arm_write_struct(&s.b, a, v));
	die("map", pt_arm_map(&s.b, &tt, 0x3000, 0x9000, 0x1000, 12,
			      PT_ARM_AF | PT_ARM_S1_EL0));
	e.s1ctxptr = ct.ptr;
	ste_put(&s, 1, &e);
	seed_walk(&s, 1, 0x3000, 1);
	put(s.hdr + 4, 70, 4);
	seed_write(&s, dir, name);
}

/* Two VA ranges: TTB1 with 64K pages at the top of the VA space. */
static void ttb1_case(const char *dir, const char *name, uint64_t iova)
{
	static struct seed s;
	struct pt_arm_tt t0, t1;
	struct pt_arm_cd cd = { .valid = true, .ips = 5 };

	seed_init(&s, 40 << 10, false);
	die("t0", pt_arm_tt_new(&s.b, &t0, 1, 12, 30, -1));
	die("t1", pt_arm_tt_new(&s.b, &t1, 1, 16, 17, -1));
	t1.upper = true;
	pt_arm_cd_set_tt(&cd, 1, &t1);
	s1_stream(&s, &t0, &cd);
	die("map", pt_arm_map(&s.b, &t1, ~0ULL - 0xffff, 0x70000, 0x10000, 16,
			      PT_ARM_AF | PT_ARM_S1_EL0));
	put(s.hdr + 18, 0xf, 1);
	seed_walk(&s, 1, iova, 1);
	seed_write(&s, dir, name);
}

static void misc_cases(const char *dir)
{
	static struct seed s;
	struct pt_arm_ste e = { .valid = true, .config = 4 };
	struct pt_arm_tt tt;
	struct pt_arm_cd cd = { .valid = true, .ips = 5, .epd1 = true, .ha = true };
	uint64_t a;

	seed_init(&s, 4 << 10, false);
	ste_put(&s, 2, &e);
	seed_walk(&s, 2, 0x123456789ULL, 3);
	seed_write(&s, dir, "bypass");
	e.config = 0;
	ste_put(&s, 2, &e);
	seed_write(&s, dir, "abort");
	e.valid = false;
	ste_put(&s, 2, &e);
	seed_write(&s, dir, "ste-invalid");
	seed_walk(&s, 200, 0, 1);
	seed_write(&s, dir, "sid-range");

	seed_init(&s, 8 << 10, true);
	e = (struct pt_arm_ste){ .valid = true, .config = 4 };
	ste_put(&s, 9, &e);
	seed_walk(&s, 9, 0x5000, 1);
	seed_write(&s, dir, "strtab-2level");

	/* HTTU: AF clear, HA set, RAM writable. */
	seed_init(&s, 24 << 10, false);
	die("tt", pt_arm_tt_new(&s.b, &tt, 1, 12, 30, -1));
	s1_stream(&s, &tt, &cd);
	die("map", pt_arm_map(&s.b, &tt, 0x1000, 0x8000, 0x1000, 12, PT_ARM_S1_EL0));
	seed_walk(&s, 1, 0x1000, 1);
	put(s.hdr + 21, 1, 1);
	seed_write(&s, dir, "httu-af");
	put(s.hdr + 21, 0, 1);	/* read-only RAM: the update fails */
	seed_write(&s, dir, "httu-rofs");
	put(s.hdr + 21, 2, 1);	/* RAM split in two: tables go missing */
	seed_write(&s, dir, "ram-split");

	/* CD with TTB0 outside memory, and an invalid CD. */
	seed_init(&s, 8 << 10, false);
	cd = (struct pt_arm_cd){ .valid = true, .ips = 5, .epd1 = true,
				 .t0sz = 34, .tg0_granule = 12,
				 .ttb0 = 0x10000000 };
	tt.root = 0x10000000;
	tt.ia = 30;
	tt.granule = 12;
	a = s1_stream(&s, &tt, &cd);
	seed_walk(&s, 1, 0x1000, 1);
	seed_write(&s, dir, "ttb-outside");
	die("cd", pt_arm_write64(&s.b, a, 0));
	seed_write(&s, dir, "cd-invalid");
}

/* Caller-built configurations (fuzz flag bit 2). */
static void cfg_cases(const char *dir)
{
	static struct seed s;
	struct pt_arm_tt tt;

	seed_init(&s, 24 << 10, false);
	die("tt", pt_arm_tt_new(&s.b, &tt, 1, 12, 39, -1));
	die("map", pt_arm_map(&s.b, &tt, 0x5000, 0x6000, 0x1000, 12,
			      PT_ARM_AF | PT_ARM_S1_EL0));
	seed_walk(&s, 0, 0x5000, 3);
	put(s.hdr + 21, 4, 1);
	put(s.hdr + 22, 1, 1);			/* stage 1 */
	put(s.hdr + 23, 5 << 1, 1);		/* IPS 48 */
	put(s.hdr + 24, (tt.root - RAM_GPA) >> 4, 2);
	put(s.hdr + 28, 64 - 39, 1);
	put(s.hdr + 30, 1 << 5, 1);		/* 4K, EPD1 */
	put(s.hdr + 31, 0, 1);
	seed_write(&s, dir, "cfg-s1");

	seed_init(&s, 24 << 10, false);
	die("tt", pt_arm_tt_new(&s.b, &tt, 2, 12, 40, 1));
	die("map", pt_arm_map(&s.b, &tt, 0x5000, 0x6000, 0x1000, 12,
			      PT_ARM_AF | PT_ARM_S2_R));
	seed_walk(&s, 0, 0x5000, 1);
	put(s.hdr + 21, 4, 1);
	put(s.hdr + 22, 2, 1);			/* stage 2 */
	put(s.hdr + 32, (tt.root - RAM_GPA) >> 4, 2);
	put(s.hdr + 34, 64 - 40, 1);
	put(s.hdr + 35, 1 << 2 | 5 << 5, 1);	/* 4K, level 1, PS 48 */
	seed_write(&s, dir, "cfg-s2");
}

int main(int argc, char **argv)
{
	const uint64_t af = PT_ARM_AF | PT_ARM_S1_EL0;
	const char *dir = argc > 1 ? argv[1] : ".";

	s1_case(dir, "s1-4k-page", 12, 39, 12, af, 3, 0);
	s1_case(dir, "s1-4k-2m", 12, 39, 21, af, 1, 0);
	s1_case(dir, "s1-4k-1g", 12, 39, 30, af, 1, 0);
	s1_case(dir, "s1-4k-48bit", 12, 48, 12, af, 1, 0);
	s1_case(dir, "s1-16k-page", 14, 16, 14, af, 1, 0);
	s1_case(dir, "s1-16k-32m", 14, 26, 25, af, 1, 0);
	s1_case(dir, "s1-64k-page", 16, 17, 16, af, 1, 0);
	s1_case(dir, "s1-64k-512m", 16, 30, 29, af, 1, 0);
	s1_case(dir, "s1-perm-ro", 12, 30, 12, af | PT_ARM_S1_RO, 2, 0);
	s1_case(dir, "s1-perm-priv", 12, 30, 12, PT_ARM_AF, 1, 0);
	s1_case(dir, "s1-af-clear", 12, 30, 12, PT_ARM_S1_EL0, 1, 0);
	s1_case(dir, "s1-reserved-l3", 12, 30, 12, af, 1, 1);
	s2_case(dir, "s2-4k-concat2", 12, 40, 1, 12, 32 << 10);
	s2_case(dir, "s2-4k-concat4", 12, 32, 2, 12, 40 << 10);
	s2_case(dir, "s2-4k-1g", 12, 36, 1, 30, 4 << 10);
	s2_case(dir, "s2-16k-page", 14, 29, 2, 14, 40 << 10);
	s2_case(dir, "s2-16k-concat", 14, 22, 3, 14, 24 << 10);
	s2_case(dir, "s2-64k-page", 16, 30, 2, 16, 132 << 10);
	s2_case(dir, "s2-64k-512m", 16, 36, 2, 29, 4 << 10);
	nested_case(dir, "nested-4k", false);
	nested_case(dir, "nested-s2-deny-write", true);
	ssid_case(dir, "ssid-2level-cd");
	ttb1_case(dir, "ttb1-64k", ~0ULL - 0x1234);
	ttb1_case(dir, "va-hole", 1ULL << 50);
	misc_cases(dir);
	cfg_cases(dir);
	return 0;
}
