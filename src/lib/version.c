/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "iotlb.h"
#include "iotlb-internal.h"

IOTLB_EXPORT const char *iotlb_version(void)
{
	return PACKAGE_VERSION;
}

/* 1 when the running library is at least major.minor, else 0. */
IOTLB_EXPORT int iotlb_check_version(unsigned int major, unsigned int minor)
{
	const unsigned int have_major = IOTLB_VERSION_MAJOR;
	const unsigned int have_minor = IOTLB_VERSION_MINOR;

	if (have_major != major)
		return have_major > major;
	return have_minor >= minor;
}
