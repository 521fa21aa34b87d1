/* SPDX-License-Identifier: MIT */
/*
 * Description: walker and domain cost per format.  For each IOMMU format
 * and three guests — (a) 4 KiB IOMMU pages over host-contiguous memory,
 * (b) 2 MiB IOMMU pages, (c) 4 KiB pages over scattered guest pages —
 * prints guest-memory reads per walk and ns per walk with a cold and a
 * warm walk cache, and the bytes one answer covers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "pt-amd.h"
#include "pt-arm.h"
#include "pt-riscv.h"
#include "pt-vtd.h"

#define MIB (1ULL << 20)
#define RAM (256 * MIB)
#define TABLES (32 * MIB)
#define DATA (64 * MIB)		/* gpa of the DMA memory */
#define SPAN (64 * MIB)		/* iova range mapped */
#define IOVA 0x40000000ULL
#define PAGES (SPAN / 4096)

static uint8_t *ram;
static struct iotlb_mem *mem;
static uint64_t *perm_tab;	/* page permutation for the scattered guest */

enum guest { G_4K = 0, G_2M = 1, G_SCATTER = 2 };
static const char *const guest_name[] = { "4k-contig", "2m-pages", "4k-scatter" };

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t page_gpa(enum guest g, uint64_t i)
{
	return DATA + (g == G_SCATTER ? perm_tab[i] : i) * 4096;
}

/* Build the guest's tables for format f; returns the page-table description. */
static int build(int f, enum guest g, struct iotlb_pgtable *pt)
{
	memset(ram, 0, TABLES);
	memset(pt, 0, sizeof(*pt));
	switch (f) {
	case 0: {
		static struct pt_vtd_table t;
		struct pt_vtd_builder b;

		pt_vtd_init(&b, ram, 0, TABLES, 46);
		if (pt_vtd_table_new(&b, &t, PT_VTD_SECOND_LEVEL, 4))
			return -1;
		if (g == G_2M) {
			if (pt_vtd_map(&b, &t, IOVA, DATA, SPAN, 2 * MIB, PT_VTD_R | PT_VTD_W))
				return -1;
		} else {
			for (uint64_t i = 0; i < PAGES; i++)
				if (pt_vtd_map(&b, &t, IOVA + i * 4096, page_gpa(g, i), 4096, 4096,
					       PT_VTD_R | PT_VTD_W))
					return -1;
		}
		pt->format = IOTLB_PGTABLE_VTD_SL;
		pt->levels = 4;
		pt->output_bits = 46;
		pt->flags = IOTLB_PGTABLE_F_2M;
		pt->root = t.root;
		pt_vtd_table_free(&t);
		return 0;
	}
	case 1: {
		struct pt_amd_builder b;

		pt_amd_init(&b, ram, 0, TABLES);
		if (pt_amd_pt_create(&b, 4))
			return -1;
		if (g == G_2M) {
			for (uint64_t i = 0; i < SPAN / (2 * MIB); i++)
				if (pt_amd_map(&b, IOVA + i * 2 * MIB, DATA + i * 2 * MIB, 2 * MIB,
					       PT_AMD_R | PT_AMD_W, 0))
					return -1;
		} else {
			for (uint64_t i = 0; i < PAGES; i++)
				if (pt_amd_map(&b, IOVA + i * 4096, page_gpa(g, i), 4096,
					       PT_AMD_R | PT_AMD_W, 0))
					return -1;
		}
		pt->format = IOTLB_PGTABLE_AMD_V1;
		pt->levels = 4;
		pt->root = b.root;
		pt_amd_fini(&b);
		return 0;
	}
	case 2: {
		struct pt_arm_builder b;
		struct pt_arm_tt tt;
		uint64_t attr = PT_ARM_AF | PT_ARM_S1_EL0;

		pt_arm_init(&b, ram, 0, TABLES);
		if (pt_arm_tt_new(&b, &tt, 1, 12, 48, -1))
			return -1;
		if (g == G_2M) {
			if (pt_arm_map(&b, &tt, IOVA, DATA, SPAN, 21, attr))
				return -1;
		} else {
			for (uint64_t i = 0; i < PAGES; i++)
				if (pt_arm_map(&b, &tt, IOVA + i * 4096, page_gpa(g, i), 4096, 12, attr))
					return -1;
		}
		pt->format = IOTLB_PGTABLE_ARM_S1;
		pt->input_bits = 48;
		pt->granule_shift = 12;
		pt->root = tt.root;
		return 0;
	}
	default: {
		struct pt_riscv_builder b;
		struct pt_riscv_pt p;
		uint64_t bits = PT_RISCV_R | PT_RISCV_W | PT_RISCV_U | PT_RISCV_A | PT_RISCV_D;

		pt_riscv_init(&b, ram, 0, TABLES);
		if (pt_riscv_pt_new(&b, &p, 1, 9, 0, false))
			return -1;
		if (g == G_2M) {
			for (uint64_t i = 0; i < SPAN / (2 * MIB); i++)
				if (pt_riscv_map(&b, &p, IOVA + i * 2 * MIB, DATA + i * 2 * MIB,
						 2 * MIB, bits))
					return -1;
		} else {
			for (uint64_t i = 0; i < PAGES; i++)
				if (pt_riscv_map(&b, &p, IOVA + i * 4096, page_gpa(g, i), 4096, bits))
					return -1;
		}
		pt->format = IOTLB_PGTABLE_RISCV;
		pt->levels = 4;
		pt->root = p.root;
		pt_riscv_fini(&b);
		return 0;
	}
	}
}

struct result {
	double reads_per_walk, ns_per_walk, ns_per_answer, bytes_per_answer;
};

/*
 * cold: walk cache flushed before every answer; limit: answer window
 * (4 KiB makes every answer exactly one walk).
 */
static int measure(const struct iotlb_pgtable *pt, bool cold, uint64_t limit,
		   unsigned int n, uint64_t seed, struct result *out)
{
	struct iotlb_domain *d;
	struct iotlb_domain_stats a, b;
	struct iotlb_translation t;
	uint64_t bytes = 0;
	double t0, t1, flush_ns = 0;

	if (iotlb_domain_new_pgtable(&d, mem, pt) ||
	    iotlb_domain_set_answer_limit(d, limit))
		return -1;
	/* Warm: touch everything once first. */
	if (!cold)
		for (uint64_t x = 0; x < SPAN; x += 2 * MIB)
			iotlb_domain_translate(d, IOVA + x, IOTLB_PERM_READ, &t);
	iotlb_domain_get_stats(d, &a);
	t0 = now_ns();
	for (unsigned int i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if (cold) {
			double f0 = now_ns();

			iotlb_domain_invalidate_all(d);
			flush_ns += now_ns() - f0;
		}
		if (iotlb_domain_translate(d, IOVA + (seed >> 20) % SPAN, IOTLB_PERM_READ, &t))
			return -1;
		bytes += t.size;
	}
	t1 = now_ns();
	iotlb_domain_get_stats(d, &b);
	out->reads_per_walk = (double)(b.mem_reads - a.mem_reads) / (double)(b.walks - a.walks);
	out->ns_per_walk = (t1 - t0 - flush_ns) / (double)(b.walks - a.walks);
	out->ns_per_answer = (t1 - t0 - flush_ns) / n;
	out->bytes_per_answer = (double)bytes / n;
	iotlb_domain_unref(d);
	return 0;
}

int main(void)
{
	static const char *const fmt_name[] = { "vtd-sl-4lvl", "amd-v1-4lvl", "arm-s1-4k", "riscv-sv48" };
	struct iotlb_mem_region r = { 0, RAM, NULL, 0x7f0000000000ULL, IOTLB_MEM_WRITABLE };
	uint64_t s = 12345;

	ram = calloc(1, RAM);
	perm_tab = malloc(PAGES * sizeof(*perm_tab));
	if (!ram || !perm_tab || iotlb_mem_new(&mem))
		return 1;
	r.local = ram;
	if (iotlb_mem_add_region(mem, &r))
		return 1;
	for (uint64_t i = 0; i < PAGES; i++)
		perm_tab[i] = i;
	for (uint64_t i = PAGES - 1; i > 0; i--) {
		uint64_t j, tmp;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (s >> 24) % (i + 1);
		tmp = perm_tab[i];
		perm_tab[i] = perm_tab[j];
		perm_tab[j] = tmp;
	}

	printf("One walk (answer window 4 KiB), then whole answers (2 MiB window, warm):\n");
	printf("%-13s %-11s %10s %10s %9s %9s %11s %13s\n", "format", "guest",
	       "reads/walk", "reads/walk", "ns/walk", "ns/walk", "ns/answer", "bytes/answer");
	printf("%-13s %-11s %10s %10s %9s %9s %11s %13s\n", "", "",
	       "cold", "warm", "cold", "warm", "", "");
	for (int f = 0; f < 4; f++) {
		for (int g = 0; g < 3; g++) {
			struct iotlb_pgtable pt;
			struct result cold, warm, ans;

			if (build(f, (enum guest)g, &pt) ||
			    measure(&pt, true, 4096, 20000, 7, &cold) ||
			    measure(&pt, false, 4096, 20000, 7, &warm) ||
			    measure(&pt, false, 2 * MIB, 2000, 9, &ans)) {
				fprintf(stderr, "bench-walk: %s %s failed\n", fmt_name[f], guest_name[g]);
				return 1;
			}
			printf("%-13s %-11s %10.2f %10.2f %9.1f %9.1f %11.0f %13.0f\n",
			       fmt_name[f], guest_name[g], cold.reads_per_walk, warm.reads_per_walk,
			       cold.ns_per_walk, warm.ns_per_walk, ans.ns_per_answer,
			       ans.bytes_per_answer);
		}
	}
	iotlb_mem_unref(mem);
	free(ram);
	free(perm_tab);
	return 0;
}
