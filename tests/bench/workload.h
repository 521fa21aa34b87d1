/* SPDX-License-Identifier: MIT */
/*
 * Seeded guest workloads for bench-engine.  The guest side lives in the
 * simulator process: its RAM layout, its VT-d root, context and
 * second-level tables (built with pt-vtd over the shared memfd), the
 * guest-truth oracle of each device, and the DMA buffers of two
 * virtio-net-like rings per device (RX: the device writes, TX: it
 * reads; each chain a 12-byte header plus a buffer of at most 1500
 * bytes).
 *
 *  static  DPDK-like: the guest maps its DMA memory once, identity
 *          (IOVA = GPA), with 4 KiB IOMMU pages over one hugepage-backed
 *          pool, host-contiguous, and keeps it.  One domain shared by all
 *          devices (one VFIO container); each device touches the whole
 *          64 MiB pool at random, like mbufs of a shared mempool.
 *  churn   Linux strict mode: one domain per device; each buffer is
 *          mapped (page-granular, device-only grant: RX write-only, TX
 *          read-only) just before it is queued and unmapped right after
 *          the device used it; the IOVA is reused only after the
 *          invalidation completed (a per-ring LIFO, like the IOVA rcache).
 *
 * The layout functions are pure, so the service process derives the
 * same memory map, requester IDs and rings without asking.  Every choice
 * comes from the seed and the ring's own sequence: the same buffers are
 * used whichever service runs.
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <stdint.h>

#include "sim.h"

enum bench_wl_kind {
	BENCH_WL_STATIC = 1,
	BENCH_WL_CHURN = 2,
};

/*
 * Guest RAM: one memfd split like a PC guest's vhost memory table (low
 * RAM, RAM below the PCI hole, RAM above 4 GiB).  The VMM (the vhost
 * owner) maps the whole file at BENCH_OWNER_BASE.  Sparse: only the pages
 * the guest writes (its tables) take memory.
 */
#define BENCH_RAM_REGIONS 3
struct bench_ram_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t offset;	/* in the memfd */
};
extern const struct bench_ram_region bench_ram[BENCH_RAM_REGIONS];
#define BENCH_RAM_FILE_SIZE (4ULL << 30)
#define BENCH_OWNER_BASE 0x7f0000000000ULL

#define BENCH_RINGS_PER_DEV 2	/* ring 0 RX (device writes), ring 1 TX (reads) */
#define BENCH_RING_NUM 256
#define BENCH_MAX_DEVICES 1024
#define BENCH_POOL_SIZE (64ULL << 20)	/* each device's working set */

/* VT-d unit the guest programs (QEMU intel-iommu, aw-bits=48, device-iotlb). */
#define BENCH_VTD_HAW 48

struct bench_wl_config {
	enum bench_wl_kind kind;
	unsigned int devices;	/* 1..BENCH_MAX_DEVICES */
	uint64_t ios_per_ring;	/* descriptor chains each ring completes */
	unsigned int depth;	/* chains queued (and, churn, mapped) per ring */
	uint64_t seed;
};

const char *bench_wl_name(enum bench_wl_kind kind);
uint16_t bench_wl_sid(unsigned int dev);
uint16_t bench_wl_did(const struct bench_wl_config *c, unsigned int dev);
void bench_wl_ring(const struct bench_wl_config *c, unsigned int dev,
		   unsigned int ring, struct iotlb_sim_ring_config *out);
/* gpa -> the VMM's address, 0 outside guest RAM. */
uint64_t bench_wl_owner_addr(uint64_t gpa);

struct bench_guest;

/* Builds the guest's tables in ram (the memfd mapping, file offset 0). */
int bench_guest_new(struct bench_guest **out, const struct bench_wl_config *c,
		    void *ram);
void bench_guest_free(struct bench_guest *g);
uint64_t bench_guest_rta(const struct bench_guest *g);
/* The guest's truth for device dev, for the stale-access detector. */
void bench_guest_oracle(struct bench_guest *g, unsigned int dev,
			struct iotlb_sim_oracle *out);

/* One I/O: a descriptor chain and, in churn, the mapping made for it. */
struct bench_io {
	struct iotlb_sim_buf buf[2];
	unsigned int nbufs;
	uint64_t map_iova;	/* churn: page-aligned mapping holding the chain */
	uint64_t map_size;
	uint64_t inv_iova;	/* churn: what the guest's invalidation names: */
	uint64_t inv_size;	/*   the aligned power of two covering the map */
};

/* Next I/O of a ring; churn maps its buffer in the guest tables first. */
int bench_guest_io_begin(struct bench_guest *g, unsigned int dev,
			 unsigned int ring, struct bench_io *io);
/* The device used it; churn clears the mapping (the caller invalidates). */
int bench_guest_io_end(struct bench_guest *g, unsigned int dev,
		       const struct bench_io *io);
/* The invalidation completed: churn may reuse the IOVA. */
void bench_guest_io_release(struct bench_guest *g, unsigned int dev,
			    unsigned int ring, const struct bench_io *io);

#endif /* BENCH_WORKLOAD_H */
