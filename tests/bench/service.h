/* SPDX-License-Identifier: MIT */
/*
 * The miss-service interface of bench-engine.  A service answers the
 * VHOST_IOTLB_MISS messages of a set of (simulated) vhost fds and turns
 * the guest's unmaps into VHOST_IOTLB_INVALIDATE writes.  bench-engine
 * runs every service in the table of bench-engine.c on the same seeded
 * workloads, with the simulator in another process, so the service
 * process's getrusage(RUSAGE_SELF) is the service's CPU.
 *
 * Adding a service is one file with a `const struct bench_service_ops`
 * and one line in that table.  The name "ours" is the io_uring engine:
 * the closing ratio lines compare it with "qemu".
 */
#ifndef BENCH_SERVICE_H
#define BENCH_SERVICE_H

#include <poll.h>
#include <stdint.h>

#include "iotlb.h"

#define BENCH_MAX_RINGS 2

/* One virtqueue, as the VMM knows it (guest I/O virtual addresses). */
struct bench_ring {
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	uint16_t num;
};

/* One vhost device. */
struct bench_device {
	int fd;			/* the vhost fd: O_NONBLOCK, owned by the harness */
	uint16_t sid;		/* PCI requester ID, bus << 8 | devfn */
	/*
	 * The domain id the guest put in the device's context entry.  A
	 * vIOMMU model knows it; QEMU's algorithm re-reads it from guest
	 * memory instead, and svc-qemu does the same.
	 */
	uint16_t did;
	unsigned int nrings;
	struct bench_ring rings[BENCH_MAX_RINGS];
};

struct bench_setup {
	/*
	 * Guest RAM: regions over a MAP_SHARED memfd that the simulator
	 * process (the guest) writes its tables into.  owner_addr is where
	 * the VMM maps it: what UPDATE.uaddr must carry.
	 */
	struct iotlb_mem *mem;
	/* VT-d, legacy root/context tables, 4-level second-level tables. */
	struct iotlb_viommu viommu;
	unsigned int ndevices;
	const struct bench_device *devices;
	uint32_t max_iotlb_entries;	/* the kernel's per-device IOTLB limit */
};

/*
 * Latency histogram: log-linear, 2^BENCH_HIST_SUB_BITS buckets per power
 * of two (about 3 % resolution), any uint64_t value.
 */
#define BENCH_HIST_SUB_BITS 5
#define BENCH_HIST_BUCKETS ((64 - BENCH_HIST_SUB_BITS + 1) << BENCH_HIST_SUB_BITS)

struct bench_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint32_t bucket[BENCH_HIST_BUCKETS];
};

static inline unsigned int bench_hist_index(uint64_t v)
{
	unsigned int shift;

	if (v < (1U << BENCH_HIST_SUB_BITS))
		return (unsigned int)v;
	shift = 63U - (unsigned int)__builtin_clzll(v) - BENCH_HIST_SUB_BITS;
	return ((shift + 1) << BENCH_HIST_SUB_BITS) +
	       (unsigned int)((v >> shift) & ((1U << BENCH_HIST_SUB_BITS) - 1));
}

static inline void bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->bucket[bench_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

/* The value below which pct percent of the samples lie (bucket middle). */
static inline uint64_t bench_hist_pct(const struct bench_hist *h, double pct)
{
	uint64_t rank, seen = 0;
	unsigned int i;

	if (!h->count)
		return 0;
	rank = (uint64_t)(pct / 100.0 * (double)h->count + 0.999999);
	if (!rank)
		rank = 1;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		unsigned int shift;
		uint64_t lo;

		seen += h->bucket[i];
		if (seen < rank)
			continue;
		if (i < (1U << BENCH_HIST_SUB_BITS))
			return i;
		shift = (i >> BENCH_HIST_SUB_BITS) - 1;
		lo = (uint64_t)((i & ((1U << BENCH_HIST_SUB_BITS) - 1)) |
				(1U << BENCH_HIST_SUB_BITS)) << shift;
		lo += ((1ULL << shift) - 1) / 2;
		return lo < h->max ? lo : h->max;
	}
	return h->max;
}

/* Counters since init; the harness subtracts its snapshot taken at START. */
struct bench_service_stats {
	uint64_t misses;	/* MISS messages read */
	uint64_t misses_dup;	/* ... already covered by an answer (service's own count) */
	uint64_t faults;	/* ... left unanswered: the guest's tables fault */
	uint64_t reads;		/* read() calls on vhost fds (EAGAIN included) */
	uint64_t updates;	/* UPDATE writes completed */
	uint64_t update_bytes;	/* sum of their sizes */
	uint64_t invalidates;	/* INVALIDATE writes completed */
	uint64_t unmaps;	/* unmap() calls */
	uint64_t write_errors;	/* writes that failed */
	/* Miss read -> its UPDATE written, ns; owned by the service. */
	const struct bench_hist *miss_latency;
};

struct bench_service_ops {
	const char *name;
	/* 0 or -errno.  May write UPDATEs already (ring pre-mapping). */
	int (*init)(void **ctx, const struct bench_setup *s);
	/*
	 * One fd the harness polls for POLLIN before calling process() (an
	 * engine's eventfd), or -1: the harness polls every device fd, as
	 * QEMU's main loop does, and hands process() the results.
	 */
	int (*get_poll_fd)(void *ctx);
	/*
	 * Handle all ready work; never blocks.  dev_pfds[i] is device i's
	 * pollfd when get_poll_fd() returned -1, else NULL.  Returns 0 or
	 * -errno (the run is then abandoned).
	 */
	int (*process)(void *ctx, const struct pollfd *dev_pfds);
	/*
	 * The guest unmapped [iova, iova + size) of domain did and asks for
	 * the invalidation to complete: write INVALIDATE to every affected
	 * device and call done(arg) once each of those writes completed
	 * (possibly before unmap() returns).  0 or -errno.
	 */
	int (*unmap)(void *ctx, uint16_t did, uint64_t iova, uint64_t size,
		     void (*done)(void *arg), void *arg);
	void (*stats)(void *ctx, struct bench_service_stats *out);
	/* Frees everything; the device fds stay open (the harness owns them). */
	void (*fini)(void *ctx);
};

extern const struct bench_service_ops bench_svc_qemu;
extern const struct bench_service_ops bench_svc_engine;

#endif /* BENCH_SERVICE_H */
