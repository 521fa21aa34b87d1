/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iotlb.h>

/*
 * Two blocks of guest RAM, adjacent in guest physical memory.  The VMM
 * (the vhost owner) maps them elsewhere than this process does.
 */
static uint64_t low_ram[0x10000 / 8];
static uint64_t high_ram[0x10000 / 8];

int main(void)
{
	const struct iotlb_mem_region regions[] = {
		{ .gpa = 0x0, .size = sizeof(low_ram), .local = low_ram,
		  .owner_addr = 0x7f0000000000, .flags = 0 },
		{ .gpa = 0x10000, .size = sizeof(high_ram), .local = high_ram,
		  .owner_addr = 0x7f4000000000, .flags = IOTLB_MEM_READONLY },
	};
	struct iotlb_mem *mem;
	uint64_t gpa, end, len, owner, pte;
	uint32_t flags;
	void *local;
	int ret;

	if (!iotlb_check_version(IOTLB_VERSION_MAJOR, IOTLB_VERSION_MINOR)) {
		fprintf(stderr, "libiotlb %s is too old\n", iotlb_version());
		return EXIT_FAILURE;
	}
	ret = iotlb_mem_new(&mem);
	if (ret < 0) {
		fprintf(stderr, "iotlb_mem_new: %s\n", strerror(-ret));
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		ret = iotlb_mem_add_region(mem, &regions[i]);
		if (ret < 0)
			goto err;
	}

	/* Read a guest page-table entry the way a walker does. */
	low_ram[0x1008 / 8] = 0x12345003;
	len = sizeof(pte);
	ret = iotlb_mem_gpa_to_local(mem, 0x1008, &len, &local);
	if (ret < 0)
		goto err;
	memcpy(&pte, local, sizeof(pte));
	printf("pte at gpa 0x1008: %#" PRIx64 "\n", pte);

	/* Split a guest range into owner ranges, one per UPDATE uaddr. */
	end = 0x12000;
	for (gpa = 0xf000; gpa < end; gpa += len) {
		len = end - gpa;
		ret = iotlb_mem_gpa_to_owner(mem, gpa, &len, &owner, &flags);
		if (ret < 0)
			goto err;
		printf("gpa %#" PRIx64 " len %#" PRIx64 " -> uaddr %#" PRIx64
		       "%s%s\n", gpa, len, owner,
		       flags & IOTLB_MEM_READONLY ? " read-only" : "",
		       ret == IOTLB_MEM_CLAMPED ? " (clamped)" : "");
	}

	/* An address outside every region is refused, never guessed. */
	len = 1;
	ret = iotlb_mem_gpa_to_owner(mem, 0x20000, &len, &owner, NULL);
	if (ret != -EFAULT) {
		fprintf(stderr, "gpa 0x20000: got %d want -EFAULT\n", ret);
		iotlb_mem_unref(mem);
		return EXIT_FAILURE;
	}

	iotlb_mem_unref(mem);
	return EXIT_SUCCESS;
err:
	fprintf(stderr, "libiotlb: %s\n", strerror(-ret));
	iotlb_mem_unref(mem);
	return EXIT_FAILURE;
}
