/* SPDX-License-Identifier: MIT */
/* Helpers shared by every walker. */
#include "config.h"

#include <stddef.h>

#include "iotlb-internal.h"
#include "walk.h"

const char *iotlb__walk_fault_name(enum iotlb_walk_fault f)
{
	static const char *const names[IOTLB_WALK_FAULT_MAX] = {
		[IOTLB_WALK_OK] = "ok",
		[IOTLB_WALK_NOT_PRESENT] = "not-present",
		[IOTLB_WALK_PERMISSION] = "permission",
		[IOTLB_WALK_RESERVED] = "reserved-bit",
		[IOTLB_WALK_ADDR_WIDTH] = "address-width",
		[IOTLB_WALK_TABLE_OUTSIDE] = "table-outside-memory",
		[IOTLB_WALK_NON_CANONICAL] = "non-canonical",
		[IOTLB_WALK_CONTEXT_INVALID] = "context-invalid",
		[IOTLB_WALK_BLOCKED] = "blocked",
		[IOTLB_WALK_ACCESS_FLAG] = "access-flag",
		[IOTLB_WALK_UNSUPPORTED] = "unsupported",
		[IOTLB_WALK_LOOP] = "loop",
		[IOTLB_WALK_AD_UPDATE] = "ad-update",
	};

	if ((unsigned int)f >= IOTLB_WALK_FAULT_MAX)
		return "unknown";
	return names[f];
}

void iotlb__walk_trace_add(struct iotlb_walk_trace *t, uint32_t level,
			   uint32_t stage, uint64_t entry_gpa, uint64_t entry,
			   const char *what)
{
	if (!t || t->n >= IOTLB_WALK_TRACE_MAX)
		return;
	t->step[t->n].level = level;
	t->step[t->n].stage = stage;
	t->step[t->n].entry_gpa = entry_gpa;
	t->step[t->n].entry = entry;
	t->step[t->n].what = what;
	t->n++;
}
