/* SPDX-License-Identifier: MIT */
/*
 * A simulated vhost device with a device IOTLB, on one end of a
 * SOCK_SEQPACKET socketpair.  The other end behaves like a vhost fd: read
 * one 72-byte MISS per recv, write one UPDATE/INVALIDATE per send.  The
 * rules it reproduces, and the sections of
 * shared/reference/vhost-iotlb-kernel.md they come from, are listed in
 * sim.c.  Internal (noinst), used by tests, the demo, the daemon's
 * --simulate and the benchmarks.
 */
#ifndef IOTLB_SIM_H
#define IOTLB_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost-msg.h"

struct iotlb_sim;
struct iotlb_sim_map;

/* Kernel behaviour variants (reference §0, §4.1, §7). */
enum iotlb_sim_profile {
	/* v6.6..v6.17: UPDATE size 0 -> EINVAL, INVALIDATE size 0 accepted. */
	IOTLB_SIM_KERNEL_MAINLINE = 0,
	/*
	 * Debian 12's 6.1 (6.1.y stable): as mainline.  The 6.6 change that
	 * allows a size-0 INVALIDATE again (ca50ec377c2e) is in 6.1.y:
	 * measured by tests/kernel on 6.1.0-56-amd64.
	 */
	IOTLB_SIM_KERNEL_6_1 = 1,
	/* [7.x?]: INVALIDATE size 0 -> EFAULT, one outstanding miss per vq. */
	IOTLB_SIM_KERNEL_7X = 2,
	/* Upstream e2ae38cf3d91..ca50ec377c2e (5.18..6.5): size 0 -> EINVAL. */
	IOTLB_SIM_KERNEL_5_18 = 3,
};

struct iotlb_sim_config {
	uint32_t max_iotlb_entries;	/* 0 = unlimited (<= 6.17 semantics) */
	bool reject_inval_size0;	/* size-0 INVALIDATE refused ... */
	int inval_size0_errno;		/* ... with this errno (EINVAL/EFAULT) */
	bool one_miss_per_vq;		/* [7.x?] drop a vq's new miss while one is queued */
	bool msg_v2;			/* VHOST_BACKEND_F_IOTLB_MSG_V2 acked */
	bool backend_asid;		/* VHOST_BACKEND_F_IOTLB_ASID acked (never on net) */
	uint32_t run_budget;		/* descriptor chains per ring run (net: 256) */
	uint64_t user_limit;		/* first address above user space (x86-64 TASK_SIZE) */
};

void iotlb_sim_config_init(struct iotlb_sim_config *cfg,
			   enum iotlb_sim_profile profile);

/*
 * The guest's truth, for the stale-access detector: is iova mapped right
 * now, to which owner address, with which grant?  Returns 0 and fills
 * *uaddr, *perm and *len (bytes from iova with the same translation), or
 * -ENOENT.
 */
struct iotlb_sim_oracle {
	int (*lookup)(void *ctx, uint64_t iova, uint64_t *uaddr,
		      uint32_t *perm, uint64_t *len);
	void *ctx;
};

/* --- the plain map-table oracle --- */
int iotlb_sim_map_new(struct iotlb_sim_map **out);
void iotlb_sim_map_free(struct iotlb_sim_map *map);
/* Replace whatever is mapped in [iova, iova+size) by uaddr..; perm R/W bits. */
int iotlb_sim_map_set(struct iotlb_sim_map *map, uint64_t iova, uint64_t size,
		      uint64_t uaddr, uint32_t perm);
int iotlb_sim_map_clear(struct iotlb_sim_map *map, uint64_t iova,
			uint64_t size);
int iotlb_sim_map_lookup(void *map, uint64_t iova, uint64_t *uaddr,
			 uint32_t *perm, uint64_t *len);
size_t iotlb_sim_map_count(const struct iotlb_sim_map *map);
void iotlb_sim_oracle_from_map(struct iotlb_sim_oracle *o,
			       struct iotlb_sim_map *map);

/* --- the device --- */

/*
 * Creates the device and its socketpair.  *peer_fd is the service's end
 * ("the vhost fd"), O_NONBLOCK and owned by the caller (close it to
 * simulate the service going away).
 */
int iotlb_sim_new(struct iotlb_sim **out, const struct iotlb_sim_config *cfg,
		  const struct iotlb_sim_oracle *oracle, int *peer_fd);
void iotlb_sim_free(struct iotlb_sim *sim);
/* The simulator's own end: poll it for POLLIN (service writes arrived). */
int iotlb_sim_get_fd(const struct iotlb_sim *sim);
/* Measured kernel memory per queued message (SIOCOUTQ), for reports. */
unsigned int iotlb_sim_outq_per_msg(void);

struct iotlb_sim_ring_config {
	uint64_t desc;		/* iova of the descriptor table */
	uint64_t avail;		/* iova of the available ring */
	uint64_t used;		/* iova of the used ring */
	uint16_t num;		/* queue size */
};
/* Bytes the vhost prefetch checks (with VIRTIO_RING_F_EVENT_IDX). */
#define IOTLB_SIM_DESC_SIZE(num) (16ULL * (num))
#define IOTLB_SIM_AVAIL_SIZE(num) (6ULL + 2ULL * (num))
#define IOTLB_SIM_USED_SIZE(num) (6ULL + 8ULL * (num))

/* Returns the ring index or -errno. */
int iotlb_sim_add_ring(struct iotlb_sim *sim,
		       const struct iotlb_sim_ring_config *rc);

/* One guest buffer of a descriptor chain. */
struct iotlb_sim_buf {
	uint64_t iova;
	uint32_t len;
	uint8_t access;		/* IOTLB_VMSG_PERM_RO (device reads) or _WO */
};
#define IOTLB_SIM_MAX_BUFS 8

/* Queue one descriptor chain on a ring (the guest made it available). */
int iotlb_sim_ring_push(struct iotlb_sim *sim, unsigned int ring,
			const struct iotlb_sim_buf *bufs, unsigned int n);
/*
 * VHOST_NET_SET_BACKEND on this ring (§2.4): vhost_vq_init_access()
 * touches used->flags and used->idx through the IOTLB, asking for read
 * access (measured on 6.1 and 6.12 by tests/kernel).  Unmapped: a RO
 * miss is queued and the attach fails with -EFAULT.
 */
int iotlb_sim_attach(struct iotlb_sim *sim, unsigned int ring);
/* The guest kicked the ring: run it at the next iotlb_sim_process(). */
int iotlb_sim_kick(struct iotlb_sim *sim, unsigned int ring);

/*
 * Do everything that is ready: account misses the peer has read, apply
 * every message the peer wrote (in order), run woken and kicked rings,
 * send new misses.  Never blocks.  Returns the number of messages applied
 * plus ring runs, or -errno.
 */
int iotlb_sim_process(struct iotlb_sim *sim);

/* VHOST_SET_FEATURES with ACCESS_PLATFORM: fresh, empty IOTLB (§2.3). */
void iotlb_sim_restart(struct iotlb_sim *sim);
/* VHOST_NET_SET_BACKEND -1 / reset: drop queued and pending misses (§2.4). */
void iotlb_sim_clear_msgs(struct iotlb_sim *sim);

enum iotlb_sim_stall {
	IOTLB_SIM_RUNNING = 0,	/* not stalled (idle or has work) */
	IOTLB_SIM_STALL_MISS,	/* waiting for an UPDATE covering its miss */
	IOTLB_SIM_STALL_PERM,	/* entry exists but lacks the permission */
};

struct iotlb_sim_ring_stats {
	uint64_t runs;
	uint64_t chains_done;
	uint32_t chains_pending;
	uint64_t misses;
	uint64_t perm_stalls;
	enum iotlb_sim_stall stall;
	uint64_t stall_iova;	/* first untranslated byte when stalled */
};
int iotlb_sim_ring_stats(const struct iotlb_sim *sim, unsigned int ring,
			 struct iotlb_sim_ring_stats *out);

struct iotlb_sim_stats {
	uint64_t misses;		/* MISS messages generated */
	uint64_t misses_dup;		/* ... for an iova already queued/pending */
	uint64_t misses_dropped;	/* [7.x?] suppressed, vq had one */
	uint64_t misses_read;		/* read by the peer (left the socket) */
	uint32_t misses_unread;		/* on the read list now */
	uint32_t misses_pending;	/* on the pending list now */
	uint64_t wakeups;		/* pending misses woken by an UPDATE */
	uint64_t writes;		/* messages received from the peer */
	uint64_t updates;		/* UPDATEs applied */
	uint64_t invalidates;		/* INVALIDATEs applied */
	uint64_t write_einval;		/* writes the kernel fails with EINVAL */
	uint64_t write_efault;		/* ... with EFAULT */
	uint64_t asid_ignored;		/* V2 asid != 0 skipped (ASID not acked) */
	uint64_t entries_removed;	/* entries dropped by INVALIDATE */
	uint64_t evictions;		/* FIFO evictions at max_iotlb_entries */
	uint32_t entries;		/* entries in the IOTLB now */
	uint64_t restarts;
	uint64_t accesses;		/* translated guest accesses (pieces) */
	uint64_t access_bytes;
	uint64_t stale_accesses;	/* used a translation the guest no longer has */
	uint64_t ring_runs;
	uint64_t chains_done;
	bool peer_closed;
};
void iotlb_sim_get_stats(const struct iotlb_sim *sim,
			 struct iotlb_sim_stats *out);

/* Error events: writes the kernel would have failed (newest last). */
struct iotlb_sim_error {
	uint64_t seq;		/* index of the write among all writes */
	int err;		/* EINVAL or EFAULT, as write(2) would report */
	struct iotlb_vmsg msg;	/* decoded as far as possible */
	const char *why;
};
#define IOTLB_SIM_ERROR_LOG 64
/* Copies up to max newest errors, oldest first; returns how many. */
unsigned int iotlb_sim_get_errors(const struct iotlb_sim *sim,
				  struct iotlb_sim_error *out,
				  unsigned int max);

/* Kernel IOTLB introspection for tests: the entry used for iova. */
int iotlb_sim_iotlb_lookup(const struct iotlb_sim *sim, uint64_t iova,
			   uint64_t *start, uint64_t *last, uint64_t *uaddr,
			   uint32_t *perm);

/* Deterministic generator for workloads (splitmix64). */
uint64_t iotlb_sim_rand(uint64_t *state);

#endif /* IOTLB_SIM_H */
