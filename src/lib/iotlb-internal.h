/* SPDX-License-Identifier: MIT */
/* Declarations shared by the library's files, tests and debug tools. */
#ifndef IOTLB_INTERNAL_H
#define IOTLB_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "iotlb.h"

#define IOTLB_EXPORT __attribute__((visibility("default")))

#define IOTLB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define iotlb_likely(x) __builtin_expect(!!(x), 1)
#define iotlb_unlikely(x) __builtin_expect(!!(x), 0)

/* --- logging (log.c) --- */

void iotlb__log(int priority, const char *file, int line, const char *fn,
		const char *format, ...) __attribute__((format(printf, 5, 6)));
int iotlb__log_priority(void);
int iotlb__log_parse_priority(const char *s);

#ifdef ENABLE_LOGGING
#define iotlb__log_cond(prio, ...)                                          \
	do {                                                                 \
		if (iotlb_unlikely(iotlb__log_priority() >= (prio)))         \
			iotlb__log((prio), __FILE__, __LINE__, __func__,     \
				   __VA_ARGS__);                             \
	} while (0)
#else
static inline __attribute__((format(printf, 2, 3))) void
iotlb__log_null(int prio, const char *format, ...)
{
}
#define iotlb__log_cond(prio, ...) iotlb__log_null((prio), __VA_ARGS__)
#endif

#ifdef ENABLE_DEBUG
#define DBG(...) iotlb__log_cond(LOG_DEBUG, __VA_ARGS__)
#else
#define DBG(...) do { } while (0)
#endif
#define INFO(...) iotlb__log_cond(LOG_INFO, __VA_ARGS__)
#define NOTICE(...) iotlb__log_cond(LOG_NOTICE, __VA_ARGS__)
#define WARN(...) iotlb__log_cond(LOG_WARNING, __VA_ARGS__)
#define ERR(...) iotlb__log_cond(LOG_ERR, __VA_ARGS__)

/* --- guest memory internals (mem.c) --- */

/*
 * Copy len bytes of guest memory at gpa into buf.  The range may run on
 * into an adjacent region (guest physical memory is contiguous to the
 * guest); any byte outside every region gives -EFAULT, a region without a
 * local mapping -ENXIO.  Walkers use this for every table read, so hostile
 * table pointers can never reach memory outside a region.
 */
int iotlb__mem_read(const struct iotlb_mem *mem, uint64_t gpa, void *buf,
		    size_t len);
int iotlb__mem_read_u64(const struct iotlb_mem *mem, uint64_t gpa,
			uint64_t *val);
/*
 * The only way the library writes guest memory: an atomic 64-bit
 * compare-and-exchange (for first-level A/D bits).  Needs a region
 * registered with IOTLB_MEM_WRITABLE and an 8-byte aligned gpa.
 * Returns 0 when *expected matched and was replaced, 1 when it did not
 * (and *expected now holds the current value), or -errno.
 */
int iotlb__mem_cmpxchg_u64(const struct iotlb_mem *mem, uint64_t gpa,
			   uint64_t *expected, uint64_t desired);

/* --- engine test hooks (engine.c) --- */

#define IOTLB__INJECT_READ 1
#define IOTLB__INJECT_WRITE 2
int iotlb__device_inject(struct iotlb_device *dev, unsigned int op, int res);

#endif /* IOTLB_INTERNAL_H */
