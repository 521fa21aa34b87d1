/* SPDX-License-Identifier: MIT */
/* Description: guest memory regions: layout rules, clamped lookups, hostile input. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"

static struct iotlb_mem *t_mem(void)
{
	struct iotlb_mem *m = NULL;

	ck_assert_int_eq(iotlb_mem_new(&m), 0);
	ck_assert_ptr_nonnull(m);
	return m;
}

static int t_add(struct iotlb_mem *m, uint64_t gpa, uint64_t size, void *local,
		 uint64_t owner, uint32_t flags)
{
	struct iotlb_mem_region r = { gpa, size, local, owner, flags };

	return iotlb_mem_add_region(m, &r);
}

START_TEST(test_add_remove)
{
	struct iotlb_mem *m = t_mem();
	struct iotlb_mem_region r;

	ck_assert_int_eq(t_add(m, 0x100000, 0x100000, NULL, 0x7f0000100000ULL, 0), 0);
	ck_assert_int_eq(t_add(m, 0, 0x1000, NULL, 0x7f0000000000ULL, 0), 0);
	ck_assert_int_eq(t_add(m, 0x300000, 0x1000, NULL, 0x10000, IOTLB_MEM_READONLY), 0);
	ck_assert_int_eq(iotlb_mem_get_region_count(m), 3);
	/* Regions come back sorted by gpa. */
	ck_assert_int_eq(iotlb_mem_get_region(m, 0, &r), 0);
	ck_assert_uint_eq(r.gpa, 0);
	ck_assert_int_eq(iotlb_mem_get_region(m, 1, &r), 0);
	ck_assert_uint_eq(r.gpa, 0x100000);
	ck_assert_uint_eq(r.size, 0x100000);
	ck_assert_int_eq(iotlb_mem_get_region(m, 2, &r), 0);
	ck_assert_uint_eq(r.flags, IOTLB_MEM_READONLY);
	ck_assert_int_eq(iotlb_mem_get_region(m, 3, &r), -ENOENT);

	ck_assert_int_eq(iotlb_mem_remove_region(m, 0x100001), -ENOENT);
	ck_assert_int_eq(iotlb_mem_remove_region(m, 0x100000), 0);
	ck_assert_int_eq(iotlb_mem_remove_region(m, 0x100000), -ENOENT);
	ck_assert_int_eq(iotlb_mem_get_region_count(m), 2);
	ck_assert_int_eq(iotlb_mem_lookup(m, 0x100000, &r), -EFAULT);
	ck_assert_ptr_null(iotlb_mem_unref(m));
}
END_TEST

START_TEST(test_reject_bad_regions)
{
	struct iotlb_mem *m = t_mem();
	int r;

	ck_assert_int_eq(t_add(m, 0x1000, 0, NULL, 0, 0), -EINVAL);
	/* Wrap-around at 2^64 in gpa and in the owner's address space. */
	ck_assert_int_eq(t_add(m, UINT64_MAX - 0xfff, 0x2000, NULL, 0, 0), -EOVERFLOW);
	ck_assert_int_eq(t_add(m, 0, 0x2000, NULL, UINT64_MAX - 0xfff, 0), -EOVERFLOW);
	ck_assert_int_eq(t_add(m, 2, UINT64_MAX, NULL, 0, 0), -EOVERFLOW);
	ck_assert_int_eq(t_add(m, 0x1000, 0x1000, NULL, 0, 1U << 7), -EINVAL);
	/* A writable region needs a local mapping to write through. */
	ck_assert_int_eq(t_add(m, 0x1000, 0x1000, NULL, 0, IOTLB_MEM_WRITABLE), -EINVAL);
	ck_assert_int_eq(iotlb_mem_add_region(m, NULL), -EINVAL);
	ck_assert_int_eq(iotlb_mem_add_region(NULL, NULL), -EINVAL);

	/* Overlaps, from each side and nested, are refused. */
	ck_assert_int_eq(t_add(m, 0x10000, 0x10000, NULL, 0, 0), 0);
	r = t_add(m, 0xf000, 0x2000, NULL, 0, 0);
	ck_assert_msg(r == -EEXIST, "overlap below: got %d want -EEXIST", r);
	r = t_add(m, 0x1f000, 0x2000, NULL, 0, 0);
	ck_assert_msg(r == -EEXIST, "overlap above: got %d want -EEXIST", r);
	r = t_add(m, 0x12000, 0x1000, NULL, 0, 0);
	ck_assert_msg(r == -EEXIST, "nested: got %d want -EEXIST", r);
	r = t_add(m, 0, 0x100000, NULL, 0, 0);
	ck_assert_msg(r == -EEXIST, "enclosing: got %d want -EEXIST", r);
	r = t_add(m, 0x10000, 0x10000, NULL, 0, 0);
	ck_assert_msg(r == -EEXIST, "duplicate: got %d want -EEXIST", r);
	/* Adjacent on both sides is fine. */
	ck_assert_int_eq(t_add(m, 0xf000, 0x1000, NULL, 0, 0), 0);
	ck_assert_int_eq(t_add(m, 0x20000, 0x1000, NULL, 0, 0), 0);
	ck_assert_int_eq(iotlb_mem_get_region_count(m), 3);
	iotlb_mem_unref(m);
}
END_TEST

START_TEST(test_top_of_address_space)
{
	struct iotlb_mem *m = t_mem();
	struct iotlb_mem_region r;
	uint64_t len, owner;

	/* The last byte may be 2^64 - 1: it does not wrap. */
	ck_assert_int_eq(t_add(m, UINT64_MAX - 0xfff, 0x1000, NULL, 0x5000, 0), 0);
	ck_assert_int_eq(iotlb_mem_lookup(m, UINT64_MAX, &r), 0);
	ck_assert_uint_eq(r.size, 0x1000);
	len = UINT64_MAX;	/* a request that would wrap is clamped */
	ck_assert_int_eq(iotlb_mem_gpa_to_owner(m, UINT64_MAX - 1, &len, &owner, NULL),
			 IOTLB_MEM_CLAMPED);
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(owner, 0x5000 + 0xffe);
	ck_assert_int_eq(t_add(m, 0, 1, NULL, 0, 0), 0);
	ck_assert_int_eq(iotlb_mem_lookup(m, 0, &r), 0);
	ck_assert_int_eq(iotlb_mem_lookup(m, 1, &r), -EFAULT);
	iotlb_mem_unref(m);
}
END_TEST

/* Every boundary of every region: first byte, last byte, one either side. */
START_TEST(test_boundaries)
{
	struct iotlb_mem *m = t_mem();
	static unsigned char ram[3][0x2000];
	const uint64_t base[3] = { 0x0, 0x2000, 0x100000 };	/* 0,1 adjacent */

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(t_add(m, base[i], sizeof(ram[i]), ram[i],
				       0x7f0000000000ULL + base[i] * 2, 0), 0);
	for (int i = 0; i < 3; i++) {
		const uint64_t first = base[i], last = base[i] + sizeof(ram[i]) - 1;
		uint64_t len;
		void *p;
		int r;

		len = 1;
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, first, &len, &p), 0);
		ck_assert_ptr_eq(p, ram[i]);
		len = 1;
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, last, &len, &p), 0);
		ck_assert_ptr_eq(p, &ram[i][sizeof(ram[i]) - 1]);
		/* A request crossing the end is cut at the end, and says so. */
		len = 2;
		r = iotlb_mem_gpa_to_local(m, last, &len, &p);
		ck_assert_msg(r == IOTLB_MEM_CLAMPED && len == 1,
			      "region %d last+1: got %d len %llu", i, r,
			      (unsigned long long)len);
		len = sizeof(ram[i]);
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, first, &len, &p), 0);
		ck_assert_uint_eq(len, sizeof(ram[i]));
		len = sizeof(ram[i]) + 1;
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, first, &len, &p),
				 IOTLB_MEM_CLAMPED);
		ck_assert_uint_eq(len, sizeof(ram[i]));
	}
	/* Holes. */
	{
		uint64_t len = 1, owner;
		void *p;

		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, 0x4000, &len, &p), -EFAULT);
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, 0xfffff, &len, &p), -EFAULT);
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, 0x102000, &len, &p), -EFAULT);
		ck_assert_int_eq(iotlb_mem_gpa_to_owner(m, UINT64_MAX, &len, &owner, NULL), -EFAULT);
		len = 0;
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, 0, &len, &p), -EINVAL);
		ck_assert_int_eq(iotlb_mem_gpa_to_owner(m, 0, &len, &owner, NULL), -EINVAL);
	}
	iotlb_mem_unref(m);
}
END_TEST

START_TEST(test_owner_translation)
{
	struct iotlb_mem *m = t_mem();
	uint64_t len = 0x10000, owner = 0;
	uint32_t flags = 0;

	ck_assert_int_eq(t_add(m, 0x40000000, 0x40000000, NULL, 0x7f1200000000ULL,
			       IOTLB_MEM_READONLY), 0);
	ck_assert_int_eq(iotlb_mem_gpa_to_owner(m, 0x40001234, &len, &owner, &flags), 0);
	ck_assert_uint_eq(owner, 0x7f1200001234ULL);
	ck_assert_uint_eq(len, 0x10000);
	ck_assert_uint_eq(flags, IOTLB_MEM_READONLY);
	/* No local pointer registered: a local lookup says so distinctly. */
	{
		void *p;

		len = 8;
		ck_assert_int_eq(iotlb_mem_gpa_to_local(m, 0x40000000, &len, &p), -ENXIO);
	}
	iotlb_mem_unref(m);
}
END_TEST

START_TEST(test_internal_read)
{
	struct iotlb_mem *m = t_mem();
	static unsigned char a[0x1000], b[0x1000];
	unsigned char buf[16];
	uint64_t v;

	for (int i = 0; i < 0x1000; i++) {
		a[i] = (unsigned char)i;
		b[i] = (unsigned char)(0x80 + i);
	}
	/* Two adjacent regions backed by unrelated local buffers. */
	ck_assert_int_eq(t_add(m, 0x10000, sizeof(a), a, 0, 0), 0);
	ck_assert_int_eq(t_add(m, 0x11000, sizeof(b), b, 0, 0), 0);
	ck_assert_int_eq(iotlb__mem_read(m, 0x10ff8, buf, 16), 0);
	ck_assert_int_eq(buf[0], a[0xff8]);
	ck_assert_int_eq(buf[8], b[0]);
	ck_assert_int_eq(buf[15], b[7]);
	ck_assert_int_eq(iotlb__mem_read_u64(m, 0x10ffc, &v), 0);
	ck_assert_uint_eq(v & 0xff, a[0xffc]);
	ck_assert_uint_eq(v >> 56, b[3]);
	/* Past the end, before the start, wrapping: -EFAULT, nothing read. */
	ck_assert_int_eq(iotlb__mem_read(m, 0x11ff9, buf, 8), -EFAULT);
	ck_assert_int_eq(iotlb__mem_read(m, 0xfff8, buf, 16), -EFAULT);
	ck_assert_int_eq(iotlb__mem_read(m, UINT64_MAX - 3, buf, 8), -EFAULT);
	ck_assert_int_eq(iotlb__mem_read_u64(m, 0x11ffc, &v), -EFAULT);
	ck_assert_int_eq(iotlb__mem_read(m, 0x10000, buf, 0), 0);
	iotlb_mem_unref(m);
}
END_TEST

START_TEST(test_cmpxchg)
{
	struct iotlb_mem *m = t_mem();
	static uint64_t rw[512], ro[512];
	uint64_t exp;

	ck_assert_int_eq(t_add(m, 0x0, sizeof(rw), rw, 0, IOTLB_MEM_WRITABLE), 0);
	ck_assert_int_eq(t_add(m, 0x1000, sizeof(ro), ro, 0, 0), 0);
	rw[3] = 0x1001;
	exp = 0x1001;
	ck_assert_int_eq(iotlb__mem_cmpxchg_u64(m, 24, &exp, 0x1021), 0);
	ck_assert_uint_eq(rw[3], 0x1021);
	exp = 0x1001;
	ck_assert_int_eq(iotlb__mem_cmpxchg_u64(m, 24, &exp, 0x1061), 1);
	ck_assert_uint_eq(exp, 0x1021);
	ck_assert_uint_eq(rw[3], 0x1021);
	exp = 0;
	ck_assert_int_eq(iotlb__mem_cmpxchg_u64(m, 0x1000, &exp, 1), -EROFS);
	ck_assert_uint_eq(ro[0], 0);
	ck_assert_int_eq(iotlb__mem_cmpxchg_u64(m, 4, &exp, 1), -EINVAL);
	ck_assert_int_eq(iotlb__mem_cmpxchg_u64(m, 0x9000, &exp, 1), -EFAULT);
	iotlb_mem_unref(m);
}
END_TEST

START_TEST(test_refcount)
{
	struct iotlb_mem *m = t_mem();

	ck_assert_ptr_eq(iotlb_mem_ref(m), m);
	ck_assert_ptr_eq(iotlb_mem_unref(m), m);
	ck_assert_ptr_null(iotlb_mem_unref(m));
	ck_assert_ptr_null(iotlb_mem_ref(NULL));
	ck_assert_ptr_null(iotlb_mem_unref(NULL));
	ck_assert_int_eq(iotlb_mem_new(NULL), -EINVAL);
	ck_assert_int_eq(iotlb_mem_get_region_count(NULL), -EINVAL);
}
END_TEST

/* Against a brute-force model: many random regions and lookups. */
START_TEST(test_random_model)
{
	struct iotlb_mem *m = t_mem();
	struct { uint64_t gpa, size; } model[256];
	unsigned int n = 0;
	uint64_t x = 12345;

#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	for (int i = 0; i < 2000; i++) {
		uint64_t gpa = (RND() % 4096) << 12, size = ((RND() % 8) + 1) << 12;
		int overlap = 0, r;

		for (unsigned int k = 0; k < n; k++)
			if (gpa < model[k].gpa + model[k].size &&
			    model[k].gpa < gpa + size)
				overlap = 1;
		r = t_add(m, gpa, size, NULL, gpa ^ 0x7f0000000000ULL, 0);
		ck_assert_msg(r == (overlap ? -EEXIST : 0),
			      "add %#llx+%#llx: got %d overlap %d",
			      (unsigned long long)gpa, (unsigned long long)size,
			      r, overlap);
		if (!r) {
			model[n].gpa = gpa;
			model[n].size = size;
			n++;
		}
		if (n == IOTLB_ARRAY_SIZE(model))
			break;
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t a = RND() % (4200ULL << 12), len = 1 + RND() % 0x10000;
		uint64_t want_len = 0, olen = len, owner;
		int found = -1, r;

		for (unsigned int k = 0; k < n; k++)
			if (a >= model[k].gpa && a < model[k].gpa + model[k].size)
				found = (int)k;
		r = iotlb_mem_gpa_to_owner(m, a, &olen, &owner, NULL);
		if (found < 0) {
			ck_assert_int_eq(r, -EFAULT);
			continue;
		}
		want_len = model[found].gpa + model[found].size - a;
		if (want_len > len)
			want_len = len;
		ck_assert_int_eq(r, want_len < len ? IOTLB_MEM_CLAMPED : 0);
		ck_assert_uint_eq(olen, want_len);
		ck_assert_uint_eq(owner, (a - model[found].gpa) +
				  (model[found].gpa ^ 0x7f0000000000ULL));
	}
#undef RND
	iotlb_mem_unref(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("regions");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_reject_bad_regions);
	tcase_add_test(tc, test_top_of_address_space);
	tcase_add_test(tc, test_boundaries);
	tcase_add_test(tc, test_owner_translation);
	tcase_add_test(tc, test_internal_read);
	tcase_add_test(tc, test_cmpxchg);
	tcase_add_test(tc, test_refcount);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
