/* SPDX-License-Identifier: MIT */
/* Description: guest-memory lookup cost against the number of regions. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "iotlb.h"
#include "iotlb-internal.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	static const unsigned int counts[] = { 1, 8, 64, 512, 4096, 32768 };
	const unsigned int lookups = 4000000;
	uint64_t seed = 1;

	printf("%-10s %14s %14s\n", "regions", "ns/lookup", "ns/read_u64");
	for (size_t c = 0; c < IOTLB_ARRAY_SIZE(counts); c++) {
		static uint64_t backing[512];
		struct iotlb_mem *m;
		uint64_t *addrs, sink = 0;
		double t0, t1, t2;

		if (iotlb_mem_new(&m))
			return 1;
		/* Regions of 1 MiB with 1 MiB holes, all backed by one page. */
		for (unsigned int i = 0; i < counts[c]; i++) {
			struct iotlb_mem_region r = {
				(uint64_t)i << 21, 1 << 20, NULL, 0x7f0000000000ULL + ((uint64_t)i << 20), 0
			};

			if (iotlb_mem_add_region(m, &r))
				return 1;
		}
		/* read_u64 needs local memory: one extra small region at the top. */
		{
			struct iotlb_mem_region r = { 1ULL << 40, sizeof(backing), backing, 0, 0 };

			iotlb_mem_add_region(m, &r);
		}
		addrs = malloc(lookups * sizeof(*addrs));
		for (unsigned int i = 0; i < lookups; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			addrs[i] = ((seed >> 33) % counts[c]) << 21 | ((seed >> 20) & 0xfffff);
		}
		t0 = now_ns();
		for (unsigned int i = 0; i < lookups; i++) {
			uint64_t len = 4096, owner = 0;

			iotlb_mem_gpa_to_owner(m, addrs[i], &len, &owner, NULL);
			sink += owner;
		}
		t1 = now_ns();
		for (unsigned int i = 0; i < lookups; i++) {
			uint64_t v = 0;

			iotlb__mem_read_u64(m, (1ULL << 40) + ((addrs[i] & 511) << 3), &v);
			sink += v;
		}
		t2 = now_ns();
		printf("%-10u %14.1f %14.1f\n", counts[c], (t1 - t0) / lookups,
		       (t2 - t1) / lookups);
		free(addrs);
		iotlb_mem_unref(m);
		if (sink == 42)
			printf(" ");
	}
	return 0;
}
