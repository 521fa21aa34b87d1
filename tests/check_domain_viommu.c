/* SPDX-License-Identifier: MIT */
/*
 * Description: vIOMMU domains over guest tables built by the page-table
 * builders: context resolution and its cache, coalescing of 4 KiB leaves
 * into one answer, the permission rule, the paging-structure cache (hits,
 * bounded reads, invalidation) and randomized agreement with the
 * builders' own records.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "pt-amd.h"
#include "pt-arm.h"
#include "pt-riscv.h"
#include "pt-vtd.h"

#define MIB (1ULL << 20)
#define RAM_SIZE (256 * MIB)	/* guest RAM at gpa 0 */
#define TABLES (32 * MIB)	/* builders allocate in [0, TABLES) */
#define OWNER 0x7f0000000000ULL
#define R IOTLB_PERM_READ
#define W IOTLB_PERM_WRITE
#define RW IOTLB_PERM_RW

static uint8_t *ram;
static struct iotlb_mem *mem;

static void setup(void)
{
	struct iotlb_mem_region r = { 0, RAM_SIZE, NULL, OWNER, IOTLB_MEM_WRITABLE };

	ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	r.local = ram;
	ck_assert_int_eq(iotlb_mem_new(&mem), 0);
	ck_assert_int_eq(iotlb_mem_add_region(mem, &r), 0);
}

static void teardown(void)
{
	iotlb_mem_unref(mem);
	free(ram);
}

/* --- VT-d, legacy mode, 4-level second-level tables --- */

struct vtd_env {
	struct pt_vtd_builder b;
	struct pt_vtd_table t;
	struct iotlb_viommu v;
	struct iotlb_domain *d;
};

static void vtd_env(struct vtd_env *e, uint16_t sid, uint32_t caps)
{
	struct pt_vtd_context c = { .tt = 0, .aw = 2, .did = 7 };

	memset(e, 0, sizeof(*e));
	ck_assert_int_eq(pt_vtd_init(&e->b, ram, 0, TABLES, 46), 0);
	e->v.arch = IOTLB_ARCH_VTD;
	e->v.u.vtd.caps = caps;
	e->v.u.vtd.haw = 46;
	e->v.u.vtd.sagaw = IOTLB_VTD_SAGAW_39 | IOTLB_VTD_SAGAW_48;
	ck_assert_int_eq(pt_vtd_root_new(&e->b, &e->v.u.vtd.rta), 0);
	ck_assert_int_eq(pt_vtd_table_new(&e->b, &e->t, PT_VTD_SECOND_LEVEL, 4), 0);
	c.slptptr = e->t.root;
	ck_assert_int_eq(pt_vtd_legacy_context(&e->b, e->v.u.vtd.rta, sid >> 8,
					       sid & 0xff, &c), 0);
	ck_assert_int_eq(iotlb_domain_new_viommu(&e->d, mem, &e->v, sid,
						 IOTLB_NO_PASID), 0);
}

static void vtd_env_free(struct vtd_env *e)
{
	ck_assert_ptr_null(iotlb_domain_unref(e->d));
	pt_vtd_table_free(&e->t);
}

static struct iotlb_translation t_xlate(struct iotlb_domain *d, uint64_t iova,
					uint32_t access, int want)
{
	struct iotlb_translation t;
	int r = iotlb_domain_translate(d, iova, access, &t);

	ck_assert_msg(r == want, "translate %#llx/%u: got %d want %d (fault %s)",
		      (unsigned long long)iova, access, r, want,
		      iotlb_fault_name(t.fault));
	return t;
}

START_TEST(viommu_arguments)
{
	struct iotlb_viommu v = { .arch = 99 };
	struct iotlb_domain *d;

	ck_assert_int_eq(iotlb_domain_new_viommu(&d, mem, &v, 0, IOTLB_NO_PASID),
			 -EPROTONOSUPPORT);
	v.arch = IOTLB_ARCH_VTD;
	ck_assert_int_eq(iotlb_domain_new_viommu(&d, mem, &v, 0x10000, IOTLB_NO_PASID),
			 -EINVAL);
	/* A PASID needs scalable mode. */
	ck_assert_int_eq(iotlb_domain_new_viommu(&d, mem, &v, 8, 5), -EINVAL);
	v.arch = IOTLB_ARCH_AMD;
	ck_assert_int_eq(iotlb_domain_new_viommu(&d, mem, &v, 8, 5), -EINVAL);
	ck_assert_int_eq(iotlb_domain_new_viommu(NULL, mem, &v, 8, IOTLB_NO_PASID), -EINVAL);
	ck_assert_int_eq(iotlb_domain_new_viommu(&d, NULL, &v, 8, IOTLB_NO_PASID), -EINVAL);
	/* Map-table calls on a vIOMMU domain are refused. */
	ck_assert_int_eq(iotlb_domain_new_viommu(&d, mem, &v, 8, IOTLB_NO_PASID), 0);
	ck_assert_int_eq(iotlb_domain_map(d, 0, 4096, 0, RW), -EOPNOTSUPP);
	ck_assert_int_eq(iotlb_domain_unmap(d, 0, 4096), -EOPNOTSUPP);
	ck_assert_int_eq(iotlb_domain_invalidate_range(d, 0, 0), -EINVAL);
	iotlb_domain_unref(d);
}
END_TEST

/* 512 contiguous 4 KiB leaves over host-contiguous memory: one 2 MiB answer. */
START_TEST(vtd_coalesce_4k_run)
{
	struct vtd_env e;
	struct iotlb_translation t;
	struct iotlb_domain_stats st;

	vtd_env(&e, 0x0010, 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x40000000, 64 * MIB, 8 * MIB,
				    0x1000, PT_VTD_R | PT_VTD_W), 0);
	t = t_xlate(e.d, 0x40123456, R, 0);
	ck_assert_msg(t.iova == 0x40000000 && t.size == 2 * MIB,
		      "got [%#llx +%#llx] want one 2 MiB answer",
		      (unsigned long long)t.iova, (unsigned long long)t.size);
	ck_assert_uint_eq(t.gpa, 64 * MIB);
	ck_assert_uint_eq(t.owner_addr, OWNER + 64 * MIB);
	ck_assert_uint_eq(t.perm, RW);
	ck_assert_int_eq(iotlb_domain_get_stats(e.d, &st), 0);
	/* One context resolve; neighbours cost ~one leaf read each. */
	ck_assert_uint_eq(st.context_resolves, 1);
	ck_assert_uint_eq(st.tag_domain, 7);	/* the context entry's DID */
	ck_assert_uint_eq(st.tag_space, UINT32_MAX);
	/* Neighbours come straight from the leaf table: one walk, 511 reads. */
	ck_assert_uint_eq(st.walks + st.scan_hits, 512);
	ck_assert_uint_eq(st.scan_hits, 511);
	ck_assert_msg(st.mem_reads <= 512 + 8,
		      "2 MiB answer took %llu guest reads, want ~512",
		      (unsigned long long)st.mem_reads);
	/* A larger window grows the answer to the whole run. */
	ck_assert_int_eq(iotlb_domain_set_answer_limit(e.d, 8 * MIB), 0);
	t = t_xlate(e.d, 0x40623456, W, 0);
	ck_assert_uint_eq(t.iova, 0x40000000);
	ck_assert_uint_eq(t.size, 8 * MIB);
	vtd_env_free(&e);
}
END_TEST

/* A 2 MiB super page comes back whole from a single walk. */
START_TEST(vtd_superpage)
{
	struct vtd_env e;
	struct iotlb_translation t;
	struct iotlb_domain_stats st;

	vtd_env(&e, 0x0010, IOTLB_VTD_CAP_SL2M);
	/* the builder only writes PS=1 where the walker was told SLLPS */
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x80000000ULL, 64 * MIB, 4 * MIB,
				    2 * MIB, PT_VTD_R), 0);
	t = t_xlate(e.d, 0x80200010ULL, R, 0);
	ck_assert_uint_eq(t.iova, 0x80200000ULL);
	ck_assert_uint_eq(t.size, 2 * MIB);
	ck_assert_uint_eq(t.gpa, 66 * MIB);
	ck_assert_uint_eq(t.perm, R);	/* RO grant stays RO */
	t = t_xlate(e.d, 0x80200010ULL, W, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_PERMISSION);
	ck_assert_int_eq(iotlb_domain_get_stats(e.d, &st), 0);
	ck_assert_uint_eq(st.faults_by_reason[IOTLB_FAULT_PERMISSION], 1);
	vtd_env_free(&e);
}
END_TEST

/* Coalescing stops at a different grant and at a gpa discontinuity. */
START_TEST(vtd_coalesce_boundaries)
{
	struct vtd_env e;
	struct iotlb_translation t;

	vtd_env(&e, 0x0010, 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x40000000, 64 * MIB, 0x100000,
				    0x1000, PT_VTD_R | PT_VTD_W), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x40100000, 64 * MIB + 0x100000,
				    0x80000, 0x1000, PT_VTD_R), 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x40180000, 100 * MIB, 0x80000,
				    0x1000, PT_VTD_R), 0);
	t = t_xlate(e.d, 0x40080000, R, 0);
	ck_assert_uint_eq(t.iova, 0x40000000);
	ck_assert_uint_eq(t.size, 0x100000);
	ck_assert_uint_eq(t.perm, RW);
	t = t_xlate(e.d, 0x40100000, R, 0);
	ck_assert_uint_eq(t.iova, 0x40100000);
	ck_assert_uint_eq(t.size, 0x80000);
	ck_assert_uint_eq(t.perm, R);
	t = t_xlate(e.d, 0x401fffff, R, 0);
	ck_assert_uint_eq(t.iova, 0x40180000);
	ck_assert_uint_eq(t.gpa, 100 * MIB);
	/* An unmapped hole in the middle of a run. */
	t = t_xlate(e.d, 0x40200000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(t.fault_level, 2);	/* no leaf table there at all */
	ck_assert_uint_eq(t.fault_entry, 0);
	vtd_env_free(&e);
}
END_TEST

/* Leaves are never cached: an unmap is seen at once, even uninvalidated. */
START_TEST(vtd_cache_leaf_changes_visible)
{
	struct vtd_env e;
	struct iotlb_translation t;

	vtd_env(&e, 0x0010, 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x40000000, 64 * MIB, 2 * MIB,
				    0x1000, PT_VTD_R | PT_VTD_W), 0);
	t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_int_eq(pt_vtd_unmap(&e.b, &e.t, 0x40001000, 0x1000), 0);
	t = t_xlate(e.d, 0x40001000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_NOT_PRESENT);
	t = t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_uint_eq(t.size, 0x1000);
	vtd_env_free(&e);
}
END_TEST

/* Upper tables are cached until invalidated, like the hardware's PWC. */
START_TEST(vtd_cache_invalidation)
{
	struct vtd_env e;
	struct iotlb_translation t;
	struct iotlb_domain_stats st;
	uint64_t pde_gpa, pde;

	vtd_env(&e, 0x0010, 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x40000000, 64 * MIB, 2 * MIB,
				    0x1000, PT_VTD_R | PT_VTD_W), 0);
	t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_int_eq(iotlb_domain_get_stats(e.d, &st), 0);
	ck_assert_uint_gt(st.cache_entries, 0);
	/* The guest clears the level-2 entry (the whole 2 MiB table). */
	ck_assert_int_eq(pt_vtd_entry_gpa(&e.b, &e.t, 0x40000000, 2, &pde_gpa), 0);
	ck_assert_int_eq(pt_vtd_read64(&e.b, pde_gpa, &pde), 0);
	ck_assert_int_eq(pt_vtd_write64(&e.b, pde_gpa, 0), 0);
	/* Without its invalidation the cached table is still used... */
	t_xlate(e.d, 0x40000000, R, 0);
	/* ... a range invalidation drops it, and the walk sees the change. */
	ck_assert_int_eq(iotlb_domain_invalidate_range(e.d, 0x40000000, 0x1000), 0);
	t = t_xlate(e.d, 0x40000000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(t.fault_level, 2);
	ck_assert_int_eq(pt_vtd_write64(&e.b, pde_gpa, pde), 0);
	t = t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_uint_eq(t.size, 2 * MIB);
	ck_assert_int_eq(iotlb_domain_get_stats(e.d, &st), 0);
	ck_assert_uint_eq(st.invalidations, 1);
	vtd_env_free(&e);
}
END_TEST

/* The context entry is cached until a context invalidation. */
START_TEST(vtd_context_cache)
{
	struct vtd_env e;
	struct iotlb_translation t;
	struct iotlb_domain_stats st;
	uint64_t ce_gpa, ce;

	vtd_env(&e, 0x0010, 0);
	ck_assert_int_eq(pt_vtd_map(&e.b, &e.t, 0x40000000, 64 * MIB, 0x1000,
				    0x1000, PT_VTD_R), 0);
	t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_int_eq(pt_vtd_context_entry_gpa(&e.b, e.v.u.vtd.rta, 0, 0x10, 0, &ce_gpa), 0);
	ck_assert_int_eq(pt_vtd_read64(&e.b, ce_gpa, &ce), 0);
	ck_assert_int_eq(pt_vtd_write64(&e.b, ce_gpa, ce & ~1ULL), 0);	/* P = 0 */
	t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_int_eq(iotlb_domain_invalidate_context(e.d), 0);
	t = t_xlate(e.d, 0x40000000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_CONTEXT_INVALID);
	ck_assert_uint_eq(t.fault_level, 0);
	/* A failed resolve is not cached (hardware caches only present
	 * entries): once the guest fixes the entry the next walk sees it. */
	ck_assert_int_eq(pt_vtd_write64(&e.b, ce_gpa, ce), 0);
	t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_int_eq(iotlb_domain_invalidate_all(e.d), 0);
	t_xlate(e.d, 0x40000000, R, 0);
	ck_assert_int_eq(iotlb_domain_get_stats(e.d, &st), 0);
	ck_assert_uint_eq(st.context_resolves, 4);
	vtd_env_free(&e);
}
END_TEST

/* Random mappings: every answer agrees with the builder's record. */
START_TEST(vtd_random_agreement)
{
	struct vtd_env e;
	uint64_t s = 99;

	vtd_env(&e, 0x0123, IOTLB_VTD_CAP_SL2M);
	for (int i = 0; i < 200; i++) {
		uint64_t slot, iova, gpa;
		unsigned int perm;
		bool big;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		slot = (s >> 33) % 64;
		big = (s >> 20) & 1;
		perm = 1 + ((s >> 24) % 3);
		iova = 0x100000000ULL + slot * 2 * MIB;
		/* gpa contiguous with iova for half the slots, scattered otherwise */
		gpa = (s & 0x100) ? 64 * MIB + slot * 2 * MIB : 64 * MIB + ((slot * 7) % 64) * 2 * MIB;
		if (!pt_vtd_lookup(&e.t, iova, &(struct pt_vtd_mapping){ 0 }))
			continue;
		if (big)
			pt_vtd_map(&e.b, &e.t, iova, gpa, 2 * MIB, 2 * MIB, perm | PT_VTD_R);
		else
			pt_vtd_map(&e.b, &e.t, iova, gpa, 2 * MIB, 0x1000, perm | PT_VTD_R);
	}
	for (int i = 0; i < 3000; i++) {
		struct pt_vtd_mapping m;
		struct iotlb_translation t;
		uint64_t iova, probe;
		int r;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		iova = 0x100000000ULL + (s >> 24) % (128 * MIB);
		r = iotlb_domain_translate(e.d, iova, R, &t);
		if (pt_vtd_lookup(&e.t, iova, &m)) {
			ck_assert_int_eq(r, IOTLB_TRANSLATE_FAULT);
			continue;
		}
		ck_assert_int_eq(r, 0);
		ck_assert(t.iova <= iova && iova - t.iova < t.size);
		ck_assert_uint_eq(t.perm, m.perm);
		/* Sample the answer: each probe must map where the answer says. */
		for (probe = t.iova; probe < t.iova + t.size; probe += 0x3000 + (s & 0xfff)) {
			ck_assert_int_eq(pt_vtd_lookup(&e.t, probe, &m), 0);
			ck_assert_uint_eq(m.perm, t.perm);
			ck_assert_uint_eq(m.gpa + (probe - m.iova), t.gpa + (probe - t.iova));
		}
	}
	vtd_env_free(&e);
}
END_TEST

/* --- AMD-Vi: level skipping under the cache --- */

START_TEST(amd_level_skip_cached)
{
	struct pt_amd_builder b;
	struct pt_amd_dte dte = { .v = true, .tv = true, .mode = 4,
				  .perm = PT_AMD_R | PT_AMD_W, .domain_id = 3 };
	struct iotlb_viommu v = { .arch = IOTLB_ARCH_AMD };
	struct iotlb_domain *d;
	struct iotlb_translation t;
	struct iotlb_domain_stats st;

	ck_assert_int_eq(pt_amd_init(&b, ram, 0, TABLES), 0);
	ck_assert_int_eq(pt_amd_pt_create(&b, 4), 0);
	ck_assert_int_eq(pt_amd_devtab_create(&b, 0, &v.u.amd.dev_table_base), 0);
	dte.root = b.root;
	ck_assert_int_eq(pt_amd_dte_set(&b, v.u.amd.dev_table_base, 0x20, &dte), 0);
	/* Low iovas let the builder skip levels; 4 KiB pages, contiguous. */
	for (uint64_t i = 0; i < 512; i++)
		ck_assert_int_eq(pt_amd_map(&b, 0x200000 + i * 0x1000, 64 * MIB + i * 0x1000,
					    0x1000, PT_AMD_R | PT_AMD_W, PT_AMD_MAP_SKIP), 0);
	ck_assert_int_eq(iotlb_domain_new_viommu(&d, mem, &v, 0x20, IOTLB_NO_PASID), 0);
	t = t_xlate(d, 0x2abcde, W, 0);
	ck_assert_uint_eq(t.iova, 0x200000);
	ck_assert_uint_eq(t.size, 2 * MIB);
	ck_assert_uint_eq(t.gpa, 64 * MIB);
	ck_assert_uint_eq(t.perm, RW);
	ck_assert_int_eq(iotlb_domain_get_stats(d, &st), 0);
	ck_assert_msg(st.mem_reads <= 512 + 8, "took %llu reads",
		      (unsigned long long)st.mem_reads);
	/* A skipped level's bits set: the cached table must not be reused. */
	t = t_xlate(d, 0x8000000000ULL + 0x200000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert(t.fault == IOTLB_FAULT_ADDR_WIDTH || t.fault == IOTLB_FAULT_NOT_PRESENT);
	/* A Next Level 7 sized page of 64 KiB. */
	ck_assert_int_eq(pt_amd_map(&b, 0x10000000, 80 * MIB, 0x10000, PT_AMD_R, 0), 0);
	ck_assert_int_eq(iotlb_domain_invalidate_range(d, 0x10000000, 0x10000), 0);
	t = t_xlate(d, 0x10004000, R, 0);
	ck_assert_uint_eq(t.iova, 0x10000000);
	ck_assert_uint_eq(t.size, 0x10000);
	ck_assert_uint_eq(t.perm, R);
	iotlb_domain_unref(d);
	pt_amd_fini(&b);
}
END_TEST

/* --- page-table domains: format + root, one per architecture --- */

/* Checks that 512 contiguous 4 KiB leaves come back as one 2 MiB answer. */
static void t_pgtable_2m(const struct iotlb_pgtable *pt, uint64_t iova,
			 uint64_t gpa, uint32_t perm, const char *what)
{
	struct iotlb_domain *d;
	struct iotlb_translation t;
	struct iotlb_domain_stats st;
	int r;

	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, pt), 0);
	r = iotlb_domain_translate(d, iova + 0x12345, R, &t);
	ck_assert_msg(r == 0, "%s: translate got %d (%s)", what, r, iotlb_fault_name(t.fault));
	ck_assert_msg(t.iova == iova && t.size == 2 * MIB && t.gpa == gpa && t.perm == perm,
		      "%s: got [%#llx +%#llx] gpa %#llx perm %u, want [%#llx +2MiB] gpa %#llx perm %u",
		      what, (unsigned long long)t.iova, (unsigned long long)t.size,
		      (unsigned long long)t.gpa, t.perm, (unsigned long long)iova,
		      (unsigned long long)gpa, perm);
	ck_assert_int_eq(iotlb_domain_get_stats(d, &st), 0);
	/* Every walk after the first resumes from the cached leaf table. */
	ck_assert_msg(st.walks + st.scan_hits > 1 && st.cache_hits + 1 >= st.walks,
		      "%s: %llu cache hits for %llu walks", what,
		      (unsigned long long)st.cache_hits,
		      (unsigned long long)st.walks);
	ck_assert_msg(st.mem_reads <= st.walks + st.scan_hits + 8,
		      "%s: %llu guest reads for %llu walks", what,
		      (unsigned long long)st.mem_reads,
		      (unsigned long long)(st.walks + st.scan_hits));
	/* A page-table domain has no context: invalidating it is harmless. */
	ck_assert_int_eq(iotlb_domain_invalidate_context(d), 0);
	ck_assert_int_eq(iotlb_domain_translate(d, iova, R, &t), 0);
	ck_assert_int_eq(iotlb_domain_get_stats(d, &st), 0);
	ck_assert_uint_eq(st.context_resolves, 0);
	iotlb_domain_unref(d);
}

START_TEST(pgtable_arguments)
{
	struct iotlb_pgtable pt = { .format = IOTLB_PGTABLE_VTD_SL, .levels = 2 };
	struct iotlb_domain *d;

	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, &pt), -EINVAL);
	pt.levels = 4;
	pt.flags = 1U << 9;
	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, &pt), -EINVAL);
	pt.flags = 0;
	pt.reserved[2] = 1;
	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, &pt), -EINVAL);
	pt.reserved[2] = 0;
	pt.format = 42;
	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, &pt), -EPROTONOSUPPORT);
	pt.format = IOTLB_PGTABLE_AMD_V1;
	pt.levels = 7;
	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, &pt), -EINVAL);
	pt.format = IOTLB_PGTABLE_ARM_S1;
	pt.input_bits = 60;
	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, &pt), -EINVAL);
	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, NULL), -EINVAL);
}
END_TEST

START_TEST(pgtable_vtd_sl)
{
	struct pt_vtd_builder b;
	struct pt_vtd_table t;
	struct iotlb_pgtable pt = { .format = IOTLB_PGTABLE_VTD_SL, .levels = 4,
				    .output_bits = 46 };

	ck_assert_int_eq(pt_vtd_init(&b, ram, 0, TABLES, 46), 0);
	ck_assert_int_eq(pt_vtd_table_new(&b, &t, PT_VTD_SECOND_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&b, &t, 0x40000000, 64 * MIB, 2 * MIB, 0x1000,
				    PT_VTD_R | PT_VTD_W), 0);
	pt.root = t.root;
	t_pgtable_2m(&pt, 0x40000000, 64 * MIB, RW, "VT-d SL");
	pt_vtd_table_free(&t);
}
END_TEST

/*
 * The neighbour scan must not skip what a walk does: first-level leaves
 * without A/D get a walk each, which sets A (and D, the grant being
 * writable) on every page the answer covers; once set, they scan.
 */
START_TEST(pgtable_vtd_fl_ad_not_skipped)
{
	struct pt_vtd_builder b;
	struct pt_vtd_table t;
	struct iotlb_pgtable pt = { .format = IOTLB_PGTABLE_VTD_FL, .levels = 4,
				    .output_bits = 46, .flags = IOTLB_PGTABLE_F_AD };
	struct iotlb_domain *d;
	struct iotlb_translation tr;
	struct iotlb_domain_stats st;

	ck_assert_int_eq(pt_vtd_init(&b, ram, 0, TABLES, 46), 0);
	ck_assert_int_eq(pt_vtd_table_new(&b, &t, PT_VTD_FIRST_LEVEL, 4), 0);
	ck_assert_int_eq(pt_vtd_map(&b, &t, 0x40000000, 64 * MIB, 2 * MIB, 0x1000,
				    PT_VTD_R | PT_VTD_W), 0);
	pt.root = t.root;
	ck_assert_int_eq(iotlb_domain_new_pgtable(&d, mem, &pt), 0);
	ck_assert_int_eq(iotlb_domain_translate(d, 0x40000000, R, &tr), 0);
	ck_assert_uint_eq(tr.size, 2 * MIB);
	ck_assert_int_eq(iotlb_domain_get_stats(d, &st), 0);
	ck_assert_uint_eq(st.scan_hits, 0);	/* every PTE differed (no A/D yet) */
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t egpa, e;

		ck_assert_int_eq(pt_vtd_entry_gpa(&b, &t, 0x40000000 + i * 0x1000, 1, &egpa), 0);
		ck_assert_int_eq(pt_vtd_read64(&b, egpa, &e), 0);
		ck_assert_msg((e & 0x60) == 0x60, "page %llu: pte %#llx lacks A/D",
			      (unsigned long long)i, (unsigned long long)e);
	}
	/* Now identical flags: the second answer scans. */
	ck_assert_int_eq(iotlb_domain_invalidate_all(d), 0);
	ck_assert_int_eq(iotlb_domain_translate(d, 0x40100000, R, &tr), 0);
	ck_assert_int_eq(iotlb_domain_get_stats(d, &st), 0);
	ck_assert_uint_eq(st.scan_hits, 511);
	iotlb_domain_unref(d);
	pt_vtd_table_free(&t);
}
END_TEST

START_TEST(pgtable_amd)
{
	struct pt_amd_builder b;
	struct iotlb_pgtable pt = { .format = IOTLB_PGTABLE_AMD_V1, .levels = 3,
				    .perm = R };

	ck_assert_int_eq(pt_amd_init(&b, ram, 0, TABLES), 0);
	ck_assert_int_eq(pt_amd_pt_create(&b, 3), 0);
	for (uint64_t i = 0; i < 512; i++)
		ck_assert_int_eq(pt_amd_map(&b, 0x40000000 + i * 0x1000, 64 * MIB + i * 0x1000,
					    0x1000, PT_AMD_R | PT_AMD_W, 0), 0);
	pt.root = b.root;
	/* The DTE grants read only: the answer is never more. */
	t_pgtable_2m(&pt, 0x40000000, 64 * MIB, R, "AMD v1, DTE IR only");
	pt_amd_fini(&b);
}
END_TEST

START_TEST(pgtable_arm)
{
	const unsigned int granules[2] = { 12, 16 };

	for (int g = 0; g < 2; g++) {
		struct pt_arm_builder b;
		struct pt_arm_tt tt;
		struct iotlb_pgtable pt = { .format = IOTLB_PGTABLE_ARM_S1, .input_bits = 48,
					    .granule_shift = (uint8_t)granules[g] };

		memset(ram, 0, TABLES);
		pt_arm_init(&b, ram, 0, TABLES);
		ck_assert_int_eq(pt_arm_tt_new(&b, &tt, 1, granules[g], 48, -1), 0);
		ck_assert_int_eq(pt_arm_map(&b, &tt, 0x40000000, 64 * MIB, 2 * MIB,
					    granules[g], PT_ARM_AF | PT_ARM_S1_EL0), 0);
		pt.root = tt.root;
		t_pgtable_2m(&pt, 0x40000000, 64 * MIB, RW,
			     g ? "Arm S1 64K granule" : "Arm S1 4K granule");
		/* Stage 2 over the same memory. */
		memset(ram, 0, TABLES);
		pt_arm_init(&b, ram, 0, TABLES);
		ck_assert_int_eq(pt_arm_tt_new(&b, &tt, 2, granules[g], 40, granules[g] == 12 ? 1 : 2), 0);
		ck_assert_int_eq(pt_arm_map(&b, &tt, 0x40000000, 64 * MIB, 2 * MIB,
					    granules[g], PT_ARM_AF | PT_ARM_S2_R), 0);
		pt.format = IOTLB_PGTABLE_ARM_S2;
		pt.input_bits = 40;
		pt.start_level = (uint8_t)(granules[g] == 12 ? 1 : 2);
		pt.root = tt.root;
		t_pgtable_2m(&pt, 0x40000000, 64 * MIB, R,
			     g ? "Arm S2 64K granule" : "Arm S2 4K granule");
	}
}
END_TEST

START_TEST(pgtable_riscv)
{
	struct pt_riscv_builder b;
	struct pt_riscv_pt p;
	struct iotlb_pgtable pt = { .format = IOTLB_PGTABLE_RISCV, .levels = 3 };

	pt_riscv_init(&b, ram, 0, TABLES);
	ck_assert_int_eq(pt_riscv_pt_new(&b, &p, 1, 8, 0, false), 0);
	ck_assert_int_eq(pt_riscv_map(&b, &p, 0x40000000, 64 * MIB, 0x1000,
				      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U |
				      PT_RISCV_A | PT_RISCV_D), 0);
	for (uint64_t i = 1; i < 512; i++)
		ck_assert_int_eq(pt_riscv_map(&b, &p, 0x40000000 + i * 0x1000,
					      64 * MIB + i * 0x1000, 0x1000,
					      PT_RISCV_R | PT_RISCV_W | PT_RISCV_U |
					      PT_RISCV_A | PT_RISCV_D), 0);
	pt.root = p.root;
	t_pgtable_2m(&pt, 0x40000000, 64 * MIB, RW, "RISC-V Sv39");
	pt_riscv_fini(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("domain-viommu");
	TCase *tc = tcase_create("viommu");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, viommu_arguments);
	tcase_add_test(tc, vtd_coalesce_4k_run);
	tcase_add_test(tc, vtd_superpage);
	tcase_add_test(tc, vtd_coalesce_boundaries);
	tcase_add_test(tc, vtd_cache_leaf_changes_visible);
	tcase_add_test(tc, vtd_cache_invalidation);
	tcase_add_test(tc, vtd_context_cache);
	tcase_add_test(tc, vtd_random_agreement);
	tcase_add_test(tc, amd_level_skip_cached);
	tcase_add_test(tc, pgtable_arguments);
	tcase_add_test(tc, pgtable_vtd_sl);
	tcase_add_test(tc, pgtable_vtd_fl_ad_not_skipped);
	tcase_add_test(tc, pgtable_amd);
	tcase_add_test(tc, pgtable_arm);
	tcase_add_test(tc, pgtable_riscv);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
