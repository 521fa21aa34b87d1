/* SPDX-License-Identifier: MIT */
/*
 * libiotlb: userspace service for the Linux vhost device IOTLB.
 *
 * The API contract lives in the man pages (libiotlb(7) and one page per
 * function); this header only groups the declarations.
 */
#ifndef IOTLB_H
#define IOTLB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOTLB_VERSION_MAJOR 0
#define IOTLB_VERSION_MINOR 1
#define IOTLB_VERSION_MICRO 0

/* True when the headers are at least version major.minor. */
#define IOTLB_CHECK_VERSION(major, minor) \
	(IOTLB_VERSION_MAJOR > (major) || \
	 (IOTLB_VERSION_MAJOR == (major) && IOTLB_VERSION_MINOR >= (minor)))

/*
 * version — what the running library is
 */
const char *iotlb_version(void);
int iotlb_check_version(unsigned int major, unsigned int minor);

/*
 * logging — process-wide log sink and priority (syslog levels)
 */
typedef void (*iotlb_log_fn)(void *data, int priority, const char *file,
			     int line, const char *fn, const char *format,
			     va_list args);

void iotlb_set_log_fn(iotlb_log_fn fn, void *data);
int iotlb_set_log_priority(int priority);
int iotlb_get_log_priority(void);

/*
 * iotlb_mem — the VMM's guest RAM layout
 */
struct iotlb_mem;

enum iotlb_mem_flags {
	IOTLB_MEM_READONLY = 1U << 0,	/* guest may not DMA-write it */
	IOTLB_MEM_WRITABLE = 1U << 1,	/* the local mapping may be written */
	_IOTLB_MEM_FLAGS_PAD = 1U << 31,
};

struct iotlb_mem_region {
	uint64_t gpa;		/* guest physical address of the first byte */
	uint64_t size;		/* length in bytes, > 0 */
	void *local;		/* where this process reads it (may be NULL) */
	uint64_t owner_addr;	/* where the vhost owner (the VMM) maps it */
	uint32_t flags;		/* enum iotlb_mem_flags */
};

/* Positive return of the lookups: the range was cut at a region end. */
#define IOTLB_MEM_CLAMPED 1

int iotlb_mem_new(struct iotlb_mem **out);
struct iotlb_mem *iotlb_mem_ref(struct iotlb_mem *mem);
struct iotlb_mem *iotlb_mem_unref(struct iotlb_mem *mem);
int iotlb_mem_add_region(struct iotlb_mem *mem,
			 const struct iotlb_mem_region *region);
int iotlb_mem_remove_region(struct iotlb_mem *mem, uint64_t gpa);
int iotlb_mem_get_region_count(const struct iotlb_mem *mem);
int iotlb_mem_get_region(const struct iotlb_mem *mem, unsigned int index,
			 struct iotlb_mem_region *out);
int iotlb_mem_lookup(const struct iotlb_mem *mem, uint64_t gpa,
		     struct iotlb_mem_region *out);
int iotlb_mem_gpa_to_local(const struct iotlb_mem *mem, uint64_t gpa,
			   uint64_t *len, void **local);
int iotlb_mem_gpa_to_owner(const struct iotlb_mem *mem, uint64_t gpa,
			   uint64_t *len, uint64_t *owner_addr,
			   uint32_t *flags);

#ifdef __cplusplus
}
#endif

#endif /* IOTLB_H */
