/* SPDX-License-Identifier: MIT */
/*
 * Description: domains: map-table domains, answers clamped to one memory
 * region, coalescing over neighbours with the same grant, faults, stats.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"

#define OWNER 0x7f0000000000ULL
#define R IOTLB_PERM_READ
#define W IOTLB_PERM_WRITE
#define RW IOTLB_PERM_RW

static struct iotlb_mem *t_mem;
static struct iotlb_domain *t_dom;

/* Guest RAM: [0, 1 GiB) and [4 GiB, 5 GiB), plus a read-only ROM. */
static void setup(void)
{
	struct iotlb_mem_region r0 = { 0, 1ULL << 30, NULL, OWNER, 0 };
	struct iotlb_mem_region r1 = { 4ULL << 30, 1ULL << 30, NULL, OWNER + (2ULL << 30), 0 };
	struct iotlb_mem_region rom = { 0xfff00000ULL, 1 << 20, NULL, OWNER + (8ULL << 30),
					IOTLB_MEM_READONLY };

	ck_assert_int_eq(iotlb_mem_new(&t_mem), 0);
	ck_assert_int_eq(iotlb_mem_add_region(t_mem, &r0), 0);
	ck_assert_int_eq(iotlb_mem_add_region(t_mem, &r1), 0);
	ck_assert_int_eq(iotlb_mem_add_region(t_mem, &rom), 0);
	ck_assert_int_eq(iotlb_domain_new_map(&t_dom, t_mem), 0);
}

static void teardown(void)
{
	ck_assert_ptr_null(iotlb_domain_unref(t_dom));
	ck_assert_ptr_null(iotlb_mem_unref(t_mem));
}

static struct iotlb_translation t_xlate(uint64_t iova, uint32_t access, int want)
{
	struct iotlb_translation t;
	int r = iotlb_domain_translate(t_dom, iova, access, &t);

	ck_assert_msg(r == want, "translate %#llx/%u: got %d want %d",
		      (unsigned long long)iova, access, r, want);
	return t;
}

START_TEST(map_arguments)
{
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x1000, 0, 0, RW), -EINVAL);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x1000, 0x1000, 0, 0), -EINVAL);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x1000, 0x1000, 0, 4), -EINVAL);
	ck_assert_int_eq(iotlb_domain_map(t_dom, UINT64_MAX, 2, 0, RW), -EOVERFLOW);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0, 2, UINT64_MAX, RW), -EOVERFLOW);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x10000, 0x10000, 0, RW), 0);
	/* virtio-iommu: an overlapping MAP is refused. */
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x1f000, 0x2000, 0, RW), -EEXIST);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0xf000, 0x2000, 0, RW), -EEXIST);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x20000, 0x1000, 0, RW), 0);
	ck_assert_int_eq(iotlb_domain_unmap(t_dom, 0, 0), -EINVAL);
	ck_assert_int_eq(iotlb_domain_translate(t_dom, 0x10000, 0, NULL), -EINVAL);
	{
		struct iotlb_translation t;

		ck_assert_int_eq(iotlb_domain_translate(t_dom, 0x10000, 0, &t), -EINVAL);
		ck_assert_int_eq(iotlb_domain_translate(t_dom, 0x10000, 8, &t), -EINVAL);
	}
	ck_assert_int_eq(iotlb_domain_set_answer_limit(t_dom, 3000), -EINVAL);
	ck_assert_int_eq(iotlb_domain_set_answer_limit(t_dom, 0x3000), -EINVAL);
}
END_TEST

/* A miss is answered with the whole mapped interval, never one granule. */
START_TEST(map_whole_interval)
{
	struct iotlb_translation t;

	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x100000, 0x300000, 0x40000000 - 0x300000 - 0x1000, RW), 0);
	t = t_xlate(0x2abcde, R, 0);
	ck_assert_uint_eq(t.iova, 0x100000);
	ck_assert_uint_eq(t.size, 0x300000);
	ck_assert_uint_eq(t.gpa, 0x40000000 - 0x300000 - 0x1000);
	ck_assert_uint_eq(t.owner_addr, OWNER + t.gpa);
	ck_assert_uint_eq(t.perm, RW);	/* the whole grant, not just R */
}
END_TEST

/* One UPDATE must be host-contiguous: clamp to the region holding the miss. */
START_TEST(map_clamped_to_region)
{
	struct iotlb_translation t;

	/* 2 MiB ending 1 MiB past the end of region 0 (into a hole). */
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x1000000, 0x200000, (1ULL << 30) - 0x100000, RW), 0);
	t = t_xlate(0x1000000, W, 0);
	ck_assert_uint_eq(t.size, 0x100000);
	/* Past the region: the gpa is in no memory. */
	t = t_xlate(0x1100000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_NOT_IN_MEMORY);
	/* A mapping spanning two regions that are not host-contiguous. */
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x8000000, 0x200000, (4ULL << 30) - 0x100000, RW), 0);
	t = t_xlate(0x8180000, R, 0);
	ck_assert_uint_eq(t.iova, 0x8100000);
	ck_assert_uint_eq(t.size, 0x100000);
	ck_assert_uint_eq(t.gpa, 4ULL << 30);
	ck_assert_uint_eq(t.owner_addr, OWNER + (2ULL << 30));
}
END_TEST

/* Neighbours join only with the same grant and a contiguous gpa run. */
START_TEST(map_coalesce_same_grant_only)
{
	struct iotlb_translation t;

	/* 512 x 4 KiB, gpa-contiguous, RW, inside one 2 MiB window */
	for (uint64_t i = 0; i < 512; i++)
		ck_assert_int_eq(iotlb_domain_map(t_dom, 0x200000 + i * 0x1000, 0x1000,
						  0x600000 + i * 0x1000, RW), 0);
	t = t_xlate(0x2ff123, R, 0);
	ck_assert_msg(t.iova == 0x200000 && t.size == 0x200000,
		      "512 contiguous pages: got [%#llx +%#llx] want one 2 MiB answer",
		      (unsigned long long)t.iova, (unsigned long long)t.size);
	ck_assert_uint_eq(t.gpa, 0x600000);
	ck_assert_uint_eq(t.perm, RW);

	/* A read-only page in the middle splits the answer around it. */
	ck_assert_int_eq(iotlb_domain_unmap(t_dom, 0x280000, 0x1000), 0);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x280000, 0x1000, 0x680000, R), 0);
	t = t_xlate(0x200000, W, 0);
	ck_assert_uint_eq(t.iova, 0x200000);
	ck_assert_uint_eq(t.size, 0x80000);
	t = t_xlate(0x280000, R, 0);
	ck_assert_msg(t.size == 0x1000 && t.perm == R,
		      "RO page: got size %#llx perm %u, want 0x1000 and R only",
		      (unsigned long long)t.size, t.perm);
	t = t_xlate(0x281000, R, 0);
	ck_assert_uint_eq(t.iova, 0x281000);
	ck_assert_uint_eq(t.size, 0x400000 - 0x281000);

	/* A gpa discontinuity splits too. */
	ck_assert_int_eq(iotlb_domain_unmap(t_dom, 0x300000, 0x1000), 0);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x300000, 0x1000, 0x900000, RW), 0);
	t = t_xlate(0x2fffff, R, 0);
	ck_assert_uint_eq(t.iova + t.size, 0x300000);
	t = t_xlate(0x300000, R, 0);
	ck_assert_uint_eq(t.size, 0x1000);
	ck_assert_uint_eq(t.gpa, 0x900000);
}
END_TEST

/* Coalescing stays inside the aligned window of answer_limit bytes. */
START_TEST(map_coalesce_window)
{
	struct iotlb_translation t;

	for (uint64_t i = 0; i < 1024; i++)
		ck_assert_int_eq(iotlb_domain_map(t_dom, 0x400000 + i * 0x1000, 0x1000,
						  0x400000 + i * 0x1000, RW), 0);
	t = t_xlate(0x500000, R, 0);
	ck_assert_uint_eq(t.iova, 0x400000);
	ck_assert_uint_eq(t.size, 0x200000);
	ck_assert_int_eq(iotlb_domain_set_answer_limit(t_dom, 0x10000), 0);
	t = t_xlate(0x512345, R, 0);
	ck_assert_uint_eq(t.iova, 0x510000);
	ck_assert_uint_eq(t.size, 0x10000);
	ck_assert_int_eq(iotlb_domain_set_answer_limit(t_dom, 0x400000), 0);
	t = t_xlate(0x512345, R, 0);
	ck_assert_uint_eq(t.iova, 0x400000);
	ck_assert_uint_eq(t.size, 0x400000);
}
END_TEST

/* Never more than the guest grants, never write to read-only memory. */
START_TEST(map_permissions)
{
	struct iotlb_translation t;

	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x10000, 0x1000, 0x10000, R), 0);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x20000, 0x1000, 0x20000, W), 0);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x30000, 0x1000, 0xfff00000ULL, RW), 0);
	t = t_xlate(0x10000, R, 0);
	ck_assert_uint_eq(t.perm, R);
	t = t_xlate(0x10000, W, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_PERMISSION);
	t = t_xlate(0x20000, W, 0);
	ck_assert_uint_eq(t.perm, W);
	t = t_xlate(0x20000, RW, IOTLB_TRANSLATE_FAULT);
	/* Guest grants RW over VMM read-only memory: the answer is R. */
	t = t_xlate(0x30000, R, 0);
	ck_assert_uint_eq(t.perm, R);
	t = t_xlate(0x30000, W, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_PERMISSION);
}
END_TEST

START_TEST(map_unmap_and_faults)
{
	struct iotlb_translation t;
	struct iotlb_domain_stats st;

	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x100000, 0x100000, 0x100000, RW), 0);
	ck_assert_int_eq(iotlb_domain_unmap(t_dom, 0x140000, 0x10000), 0);
	t = t_xlate(0x145000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert_uint_eq(t.fault, IOTLB_FAULT_NOT_PRESENT);
	t = t_xlate(0x100000, R, 0);
	ck_assert_uint_eq(t.size, 0x40000);
	t = t_xlate(0x150000, R, 0);
	ck_assert_uint_eq(t.iova, 0x150000);
	ck_assert_uint_eq(t.gpa, 0x150000);
	ck_assert_uint_eq(t.size, 0xb0000);
	/* Unmapping across both halves and beyond removes what is there. */
	ck_assert_int_eq(iotlb_domain_unmap(t_dom, 0, 1ULL << 40), 0);
	t = t_xlate(0x100000, R, IOTLB_TRANSLATE_FAULT);
	ck_assert_int_eq(iotlb_domain_get_stats(t_dom, &st), 0);
	ck_assert_uint_eq(st.translations, 2);
	ck_assert_uint_eq(st.faults, 2);
	ck_assert_uint_eq(st.faults_by_reason[IOTLB_FAULT_NOT_PRESENT], 2);
	ck_assert_uint_eq(st.bytes_answered, 0x40000 + 0xb0000);
	ck_assert_str_eq(iotlb_fault_name(IOTLB_FAULT_NOT_PRESENT), "not-present");
	ck_assert_str_eq(iotlb_fault_name(IOTLB_FAULT_NOT_IN_MEMORY), "not-in-memory");
	ck_assert_str_eq(iotlb_fault_name(999), "unknown");
}
END_TEST

/* The top of the address space: no wrap, no 2^64-byte answer. */
START_TEST(map_top_of_iova_space)
{
	struct iotlb_translation t;
	struct iotlb_mem_region big = { 1ULL << 40, 1ULL << 30, NULL, OWNER + (16ULL << 30), 0 };

	ck_assert_int_eq(iotlb_mem_add_region(t_mem, &big), 0);
	ck_assert_int_eq(iotlb_domain_map(t_dom, UINT64_MAX - 0xfff, 0x1000, 1ULL << 40, RW), 0);
	t = t_xlate(UINT64_MAX, R, 0);
	ck_assert_uint_eq(t.iova, UINT64_MAX - 0xfff);
	ck_assert_uint_eq(t.size, 0x1000);
}
END_TEST

/* Regression: growing past a region that ends at 2^64 wrapped to gpa 0. */
START_TEST(map_no_wrap_at_top_of_gpa)
{
	struct iotlb_mem_region top = { UINT64_MAX - 0xfff, 0x1000, NULL, OWNER + (32ULL << 30), 0 };
	struct iotlb_translation t;

	ck_assert_int_eq(iotlb_mem_add_region(t_mem, &top), 0);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x10000, 0x1000, UINT64_MAX - 0xfff, RW), 0);
	ck_assert_int_eq(iotlb_domain_map(t_dom, 0x11000, 0x1000, 0, RW), 0);
	t = t_xlate(0x10000, R, 0);
	ck_assert_msg(t.size == 0x1000, "answer of %#llx bytes runs past the region",
		      (unsigned long long)t.size);
}
END_TEST

static void *t_reader(void *arg)
{
	struct iotlb_translation t;
	uint64_t s = (uintptr_t)arg;

	for (int i = 0; i < 20000; i++) {
		s = s * 6364136223846793005ULL + 1;
		iotlb_domain_translate(t_dom, (s >> 20) % 0x4000000, R, &t);
	}
	return NULL;
}

/* Engines on several threads share one domain. */
START_TEST(map_shared_across_threads)
{
	pthread_t th[3];

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, t_reader, (void *)(uintptr_t)(i + 1)), 0);
	for (int i = 0; i < 5000; i++) {
		uint64_t a = ((uint64_t)i * 0x1000 * 7) % 0x4000000;

		iotlb_domain_map(t_dom, a, 0x1000, a, RW);
		if (i % 3 == 0)
			iotlb_domain_unmap(t_dom, a, 0x1000);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("domain");
	TCase *tc = tcase_create("map");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, map_arguments);
	tcase_add_test(tc, map_whole_interval);
	tcase_add_test(tc, map_clamped_to_region);
	tcase_add_test(tc, map_coalesce_same_grant_only);
	tcase_add_test(tc, map_coalesce_window);
	tcase_add_test(tc, map_permissions);
	tcase_add_test(tc, map_unmap_and_faults);
	tcase_add_test(tc, map_top_of_iova_space);
	tcase_add_test(tc, map_no_wrap_at_top_of_gpa);
	tcase_add_test(tc, map_shared_across_threads);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
