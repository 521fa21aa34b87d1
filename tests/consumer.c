/* SPDX-License-Identifier: MIT */
/* A VMM-side consumer built only against the installed header and .pc. */
#include <iotlb.h>
#include <stdio.h>

int main(void)
{
	static unsigned char ram[4096];
	struct iotlb_mem_region r = { 0x1000, sizeof(ram), ram, 0x7f0000001000ULL, 0 };
	struct iotlb_mem *m;
	uint64_t len = 16, owner;

	if (!iotlb_check_version(IOTLB_VERSION_MAJOR, IOTLB_VERSION_MINOR))
		return 1;
	if (iotlb_mem_new(&m) < 0 || iotlb_mem_add_region(m, &r) < 0)
		return 1;
	if (iotlb_mem_gpa_to_owner(m, 0x1008, &len, &owner, NULL) != 0 ||
	    owner != 0x7f0000001008ULL)
		return 1;
	iotlb_mem_unref(m);
	printf("consumer ok, libiotlb %s\n", iotlb_version());
	return 0;
}
