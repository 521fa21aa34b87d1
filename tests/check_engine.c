/* SPDX-License-Identifier: MIT */
/*
 * Description: the io_uring engine against simulated vhost devices:
 * misses answered, faults reported, invalidation fences, the caller's
 * own poll loop, a dedicated thread, blocking fds refused, a device
 * going away while others keep being served.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "sim.h"

#define MIB (1ULL << 20)
#define OWNER 0x7f0000000000ULL
#define RING 0x100000ULL	/* ring areas at 1 MiB */
#define DMA 0x10000000ULL	/* guest DMA memory: iova == gpa */
#define WS (64 * MIB)

struct t_env {
	struct iotlb_mem *mem;
	struct iotlb_domain *dom;
	struct iotlb_sim_map *truth;
	struct iotlb_engine *e;
	struct iotlb_sim *sim[4];
	int peer[4];
	struct iotlb_device *dev[4];
	unsigned int nsim;
	unsigned int faults;
	uint64_t fault_iova;
	int fences, fence_status;
};

/* Guest mapping: the VMM pushes it to a map-table domain and the truth. */
static void t_guest_map(struct t_env *t, uint64_t iova, uint64_t size, uint32_t perm)
{
	ck_assert_int_eq(iotlb_domain_map(t->dom, iova, size, iova, perm), 0);
	ck_assert_int_eq(iotlb_sim_map_set(t->truth, iova, size, OWNER + iova, perm), 0);
}

static void t_guest_unmap(struct t_env *t, uint64_t iova, uint64_t size)
{
	ck_assert_int_eq(iotlb_domain_unmap(t->dom, iova, size), 0);
	ck_assert_int_eq(iotlb_sim_map_clear(t->truth, iova, size), 0);
}

static void t_fault(void *data, struct iotlb_device *dev, uint64_t iova,
		    uint32_t access, const struct iotlb_translation *f)
{
	struct t_env *t = data;

	t->faults++;
	t->fault_iova = iova;
	ck_assert_uint_eq(f->fault, IOTLB_FAULT_NOT_PRESENT);
}

static unsigned int t_engine_flags;

static void t_env(struct t_env *t, unsigned int nsim)
{
	struct iotlb_mem_region r = { 0, 1ULL << 32, NULL, OWNER, 0 };
	struct iotlb_sim_oracle o;
	struct iotlb_sim_config cfg;

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(iotlb_mem_new(&t->mem), 0);
	ck_assert_int_eq(iotlb_mem_add_region(t->mem, &r), 0);
	ck_assert_int_eq(iotlb_domain_new_map(&t->dom, t->mem), 0);
	ck_assert_int_eq(iotlb_sim_map_new(&t->truth), 0);
	ck_assert_int_eq(iotlb_engine_new(&t->e, t_engine_flags), 0);
	iotlb_engine_set_fault_fn(t->e, t_fault, t);
	iotlb_sim_oracle_from_map(&o, t->truth);
	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	t_guest_map(t, RING, 0x100000 * 4, IOTLB_PERM_RW);
	t_guest_map(t, DMA, WS, IOTLB_PERM_RW);
	for (unsigned int i = 0; i < nsim; i++) {
		struct iotlb_sim_ring_config rc = { RING + i * 0x100000, RING + i * 0x100000 + 0x10000,
						    RING + i * 0x100000 + 0x20000, 256 };

		ck_assert_int_eq(iotlb_sim_new(&t->sim[i], &cfg, &o, &t->peer[i]), 0);
		ck_assert_int_eq(iotlb_sim_add_ring(t->sim[i], &rc), 0);
		ck_assert_int_eq(iotlb_engine_add_device(t->e, t->peer[i], t->dom, 0, &t->dev[i]), 0);
	}
	t->nsim = nsim;
}

static void t_env_free(struct t_env *t)
{
	iotlb_engine_free(t->e);
	for (unsigned int i = 0; i < t->nsim; i++) {
		if (t->sim[i])
			iotlb_sim_free(t->sim[i]);
		if (t->peer[i] >= 0)
			close(t->peer[i]);
	}
	iotlb_domain_unref(t->dom);
	iotlb_mem_unref(t->mem);
	iotlb_sim_map_free(t->truth);
}

static void t_push_random(struct t_env *t, unsigned int s, unsigned int n, uint64_t seed)
{
	for (unsigned int c = 0; c < n; c++) {
		uint64_t off = iotlb_sim_rand(&seed) % (WS - 4096);
		struct iotlb_sim_buf b[2] = {
			{ DMA + off, 12, c & 1 ? IOTLB_VMSG_PERM_WO : IOTLB_VMSG_PERM_RO },
			{ DMA + ((off + 4096) % (WS - 2048)), 1500, IOTLB_VMSG_PERM_RO },
		};

		ck_assert_int_eq(iotlb_sim_ring_push(t->sim[s], 0, b, 2), 0);
	}
	iotlb_sim_kick(t->sim[s], 0);
}

static uint64_t t_done(struct t_env *t, unsigned int s)
{
	struct iotlb_sim_ring_stats rs;

	ck_assert_int_eq(iotlb_sim_ring_stats(t->sim[s], 0, &rs), 0);
	return rs.chains_done;
}

/* Drive simulators and engine in lockstep until cond or a round limit. */
static void t_spin(struct t_env *t, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		for (unsigned int s = 0; s < t->nsim; s++)
			if (t->sim[s])
				iotlb_sim_process(t->sim[s]);
		ck_assert_int_ge(iotlb_engine_process(t->e), 0);
	}
}

static void t_no_stale(struct t_env *t)
{
	for (unsigned int s = 0; s < t->nsim; s++) {
		struct iotlb_sim_stats st;

		if (!t->sim[s])
			continue;
		iotlb_sim_get_stats(t->sim[s], &st);
		ck_assert_msg(st.stale_accesses == 0, "device %u: %llu stale accesses", s,
			      (unsigned long long)st.stale_accesses);
		ck_assert_msg(st.write_einval + st.write_efault == 0,
			      "device %u: kernel would have refused %llu writes", s,
			      (unsigned long long)(st.write_einval + st.write_efault));
	}
}

/*
 * Every miss read is answered; coalesced answers; devices all progress.
 * Run with the probed read mode (multishot where the kernel has it) and
 * with re-armed single reads.
 */
START_TEST(engine_serves_misses)
{
	struct t_env t;
	struct iotlb_device_stats ds;
	struct iotlb_sim_stats ss;
	struct iotlb_engine_stats es;

	t_engine_flags = _i ? IOTLB_ENGINE_SINGLE_READS : 0;
	t_env(&t, 3);
	t_engine_flags = 0;
	ck_assert_int_eq(iotlb_engine_get_stats(t.e, &es), 0);
	if (_i)
		ck_assert_uint_eq(es.read_mode, 1);
	else
		ck_assert(es.read_mode == 1 || es.read_mode == 2);
	fprintf(stderr, "engine_serves_misses: read mode %u\n", es.read_mode);
	for (unsigned int s = 0; s < 3; s++)
		t_push_random(&t, s, 3000, 100 + s);
	for (int i = 0; i < 20000; i++) {
		t_spin(&t, 1);
		if (t_done(&t, 0) == 3000 && t_done(&t, 1) == 3000 && t_done(&t, 2) == 3000)
			break;
	}
	for (unsigned int s = 0; s < 3; s++) {
		ck_assert_msg(t_done(&t, s) == 3000, "device %u: %llu of 3000 chains", s,
			      (unsigned long long)t_done(&t, s));
		iotlb_sim_get_stats(t.sim[s], &ss);
		ck_assert_int_eq(iotlb_device_get_stats(t.dev[s], &ds), 0);
		ck_assert_uint_eq(ds.misses, ss.misses_read);
		ck_assert_uint_eq(ds.misses_faulted, 0);
		ck_assert_uint_eq(ds.updates + ds.misses_dup, ds.misses);
		/*
		 * A map-table domain answers with whole intervals: the ring
		 * area and the 64 MiB of DMA memory, one UPDATE each (more
		 * only when a duplicate miss raced a write).
		 */
		ck_assert_msg(ds.updates >= 2 && ds.updates < 10, "device %u: %llu updates", s,
			      (unsigned long long)ds.updates);
		ck_assert_uint_ge(ds.update_bytes / ds.updates, 2 * MIB);
		ck_assert_uint_gt(ds.latency_ns_max, 0);
	}
	t_no_stale(&t);
	ck_assert_int_eq(iotlb_engine_get_stats(t.e, &es), 0);
	ck_assert_uint_eq(es.devices, 3);
	ck_assert_uint_gt(es.rounds, 0);
	t_env_free(&t);
}
END_TEST

/* A miss the guest's tables refuse goes to the fault callback, counted. */
START_TEST(engine_reports_faults)
{
	struct t_env t;
	struct iotlb_device_stats ds;
	struct iotlb_sim_buf b = { 0x80000000ULL, 64, IOTLB_VMSG_PERM_RO };

	t_env(&t, 1);
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 50);
	ck_assert_uint_eq(t.faults, 1);
	ck_assert_uint_eq(t.fault_iova, 0x80000000ULL);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[0], &ds), 0);
	ck_assert_uint_eq(ds.misses_faulted, 1);
	/* The guest maps it and kicks again: the new miss is answered. */
	t_guest_map(&t, 0x80000000ULL, 0x1000, IOTLB_PERM_READ);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 50);
	ck_assert_uint_eq(t_done(&t, 0), 1);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

static void t_fence(void *data, int status)
{
	struct t_env *t = data;

	t->fences++;
	t->fence_status = status;
}

/* After the fence no device can reach the invalidated translation. */
START_TEST(engine_invalidate_fence)
{
	struct t_env t;
	struct iotlb_sim_buf b = { DMA + 0x5000, 64, IOTLB_VMSG_PERM_RO };

	t_env(&t, 2);
	for (unsigned int s = 0; s < 2; s++) {
		ck_assert_int_eq(iotlb_sim_ring_push(t.sim[s], 0, &b, 1), 0);
		iotlb_sim_kick(t.sim[s], 0);
	}
	t_spin(&t, 50);
	ck_assert_uint_eq(t_done(&t, 0) + t_done(&t, 1), 2);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], DMA + 0x5000, NULL, NULL, NULL, NULL), 0);
	/* Guest unmaps one page: VMM updates the domain, then invalidates. */
	t_guest_unmap(&t, DMA + 0x5000, 0x1000);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA + 0x5000, 0x1000, t_fence, &t), 0);
	for (int i = 0; i < 100 && !t.fences; i++)
		t_spin(&t, 1);
	ck_assert_int_eq(t.fences, 1);
	ck_assert_int_eq(t.fence_status, 0);
	{
		struct iotlb_engine_stats es;
		uint64_t n = 0;

		ck_assert_int_eq(iotlb_engine_get_stats(t.e, &es), 0);
		for (unsigned int k = 0; k < 64; k++)
			n += es.fence_hist[k];
		ck_assert_uint_eq(n, es.fences);
		ck_assert_uint_eq(es.fences, 1);
		ck_assert_uint_gt(es.fence_ns_max, 0);
		ck_assert_uint_ge(es.fence_ns_sum, es.fence_ns_max);
	}
	for (unsigned int s = 0; s < 2; s++) {
		iotlb_sim_process(t.sim[s]);
		ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[s], DMA + 0x5000, NULL, NULL,
							NULL, NULL), -ENOENT);
		/* The device touches it again: a miss, refused, never stale. */
		ck_assert_int_eq(iotlb_sim_ring_push(t.sim[s], 0, &b, 1), 0);
		iotlb_sim_kick(t.sim[s], 0);
	}
	t_spin(&t, 50);
	ck_assert_uint_eq(t.faults, 2);
	t_no_stale(&t);
	/* No device on the domain: the fence completes at once. */
	{
		struct iotlb_domain *other;

		ck_assert_int_eq(iotlb_domain_new_map(&other, t.mem), 0);
		ck_assert_int_eq(iotlb_engine_invalidate(t.e, other, 0, 0x1000, t_fence, &t), 0);
		ck_assert_int_eq(t.fences, 2);
		iotlb_domain_unref(other);
	}
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, 0, 0, t_fence, &t), -EINVAL);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, 0, 1, NULL, &t), -EINVAL);
	t_env_free(&t);
}
END_TEST

/* Threading model 1: the caller's own poll() loop on the engine's fd. */
START_TEST(engine_caller_poll_loop)
{
	struct t_env t;

	t_env(&t, 1);
	t_push_random(&t, 0, 2000, 7);
	for (int i = 0; i < 20000 && t_done(&t, 0) < 2000; i++) {
		struct pollfd p[2] = {
			{ iotlb_engine_get_fd(t.e), POLLIN, 0 },
			{ iotlb_sim_get_fd(t.sim[0]), POLLIN, 0 },
		};

		ck_assert_int_ge(poll(p, 2, 1000), 0);
		if (p[0].revents & POLLIN)
			ck_assert_int_ge(iotlb_engine_process(t.e), 0);
		iotlb_sim_process(t.sim[0]);
	}
	ck_assert_uint_eq(t_done(&t, 0), 2000);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

static void *t_runner(void *arg)
{
	struct iotlb_engine *e = arg;

	return (void *)(intptr_t)iotlb_engine_run(e);
}

/* Threading model 2: iotlb_engine_run() on a dedicated thread. */
START_TEST(engine_dedicated_thread)
{
	struct t_env t;
	pthread_t th;
	void *ret;

	t_env(&t, 1);
	t_push_random(&t, 0, 2000, 9);
	ck_assert_int_eq(pthread_create(&th, NULL, t_runner, t.e), 0);
	for (int i = 0; i < 200000 && t_done(&t, 0) < 2000; i++) {
		struct pollfd p = { iotlb_sim_get_fd(t.sim[0]), POLLIN, 0 };

		poll(&p, 1, 10);
		iotlb_sim_process(t.sim[0]);
	}
	ck_assert_int_eq(iotlb_engine_stop(t.e), 0);
	ck_assert_int_eq(pthread_join(th, &ret), 0);
	ck_assert_int_eq((int)(intptr_t)ret, 0);
	ck_assert_uint_eq(t_done(&t, 0), 2000);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

/* io_uring writes on a blocking fd never complete: refused unless fixed. */
START_TEST(engine_blocking_fd_refused)
{
	struct t_env t;
	int sv[2], fd;
	struct iotlb_device *d;

	t_env(&t, 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(iotlb_engine_add_device(t.e, sv[0], t.dom, 0, &d), -EAGAIN);
	ck_assert_int_eq(iotlb_engine_add_device(t.e, sv[0], t.dom, IOTLB_DEVICE_SET_NONBLOCK, &d), 0);
	ck_assert(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(iotlb_device_remove(d), 0);
	ck_assert_int_eq(iotlb_engine_add_device(t.e, -1, t.dom, 0, &d), -EINVAL);
	ck_assert_int_eq(iotlb_engine_add_device(t.e, 999, t.dom, 0, &d), -EBADF);
	fd = open("/dev/null", O_RDWR | O_NONBLOCK);
	ck_assert_int_eq(iotlb_engine_add_device(t.e, fd, t.dom, 0, &d), 0);	/* a char device */
	ck_assert_int_eq(iotlb_device_remove(d), 0);
	close(fd);
	fd = open("/etc/hostname", O_RDONLY | O_NONBLOCK);
	if (fd >= 0) {
		ck_assert_int_eq(iotlb_engine_add_device(t.e, fd, t.dom, 0, &d), -ENOTTY);
		close(fd);
	}
	t_spin(&t, 5);
	close(sv[0]);
	close(sv[1]);
	t_env_free(&t);
}
END_TEST

/* One device disappears; the others keep being served. */
START_TEST(engine_device_gone)
{
	struct t_env t;
	struct iotlb_device_stats ds;

	t_env(&t, 2);
	iotlb_sim_free(t.sim[0]);	/* closes the simulator's end */
	t.sim[0] = NULL;
	t_push_random(&t, 1, 500, 3);
	for (int i = 0; i < 5000 && t_done(&t, 1) < 500; i++)
		t_spin(&t, 1);
	ck_assert_uint_eq(t_done(&t, 1), 500);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[0], &ds), 0);
	ck_assert_int_eq(ds.state_errno, -EPIPE);
	ck_assert_int_eq(iotlb_device_map(t.dev[0], DMA, 0x1000), -EPIPE);
	/* After remove the handle is gone: it must not be used again. */
	ck_assert_int_eq(iotlb_device_remove(t.dev[0]), 0);
	ck_assert_int_eq(iotlb_device_remove(NULL), -EINVAL);
	t_spin(&t, 5);
	t_env_free(&t);
}
END_TEST

/* Ring pre-mapping: each ring area as one entry before any miss. */
START_TEST(engine_premap_rings)
{
	struct t_env t;
	struct iotlb_sim_stats ss;
	uint64_t start, last;

	t_env(&t, 1);
	ck_assert_int_eq(iotlb_device_map(t.dev[0], RING, IOTLB_SIM_DESC_SIZE(256)), 1);
	ck_assert_int_eq(iotlb_device_map(t.dev[0], RING + 0x10000, IOTLB_SIM_AVAIL_SIZE(256)), 1);
	ck_assert_int_eq(iotlb_device_map(t.dev[0], RING + 0x20000, IOTLB_SIM_USED_SIZE(256)), 1);
	ck_assert_int_eq(iotlb_device_map(t.dev[0], 0x90000000ULL, 0x1000), -EFAULT);
	t_spin(&t, 10);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], RING + 0x20000, &start, &last, NULL, NULL), 0);
	ck_assert(start <= RING + 0x20000 && last >= RING + 0x20000 + IOTLB_SIM_USED_SIZE(256) - 1);
	/* The kick finds every ring area mapped: no miss at all. */
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 5);
	iotlb_sim_get_stats(t.sim[0], &ss);
	ck_assert_uint_eq(ss.misses, 0);
	t_env_free(&t);
}
END_TEST

/* A guest of scattered 4 KiB mappings: every page its own entry. */
static void t_scatter_env(struct t_env *t, unsigned int max_entries, uint64_t pages)
{
	struct iotlb_mem_region r = { 0, 1ULL << 32, NULL, OWNER, 0 };
	struct iotlb_sim_ring_config rc = { RING, RING + 0x10000, RING + 0x20000, 256 };
	struct iotlb_sim_oracle o;
	struct iotlb_sim_config cfg;

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(iotlb_mem_new(&t->mem), 0);
	ck_assert_int_eq(iotlb_mem_add_region(t->mem, &r), 0);
	ck_assert_int_eq(iotlb_domain_new_map(&t->dom, t->mem), 0);
	ck_assert_int_eq(iotlb_sim_map_new(&t->truth), 0);
	ck_assert_int_eq(iotlb_engine_new(&t->e, 0), 0);
	iotlb_engine_set_fault_fn(t->e, t_fault, t);
	t_guest_map(t, RING, 0x100000, IOTLB_PERM_RW);
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t gpa = DMA + ((i * 7919) % pages) * 0x2000;	/* never adjacent */

		ck_assert_int_eq(iotlb_domain_map(t->dom, DMA + i * 0x1000, 0x1000, gpa,
						  IOTLB_PERM_RW), 0);
		ck_assert_int_eq(iotlb_sim_map_set(t->truth, DMA + i * 0x1000, 0x1000,
						   OWNER + gpa, IOTLB_PERM_RW), 0);
	}
	iotlb_sim_oracle_from_map(&o, t->truth);
	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	cfg.max_iotlb_entries = max_entries;
	ck_assert_int_eq(iotlb_sim_new(&t->sim[0], &cfg, &o, &t->peer[0]), 0);
	ck_assert_int_eq(iotlb_sim_add_ring(t->sim[0], &rc), 0);
	ck_assert_int_eq(iotlb_engine_add_device(t->e, t->peer[0], t->dom, 0, &t->dev[0]), 0);
	ck_assert_int_eq(iotlb_device_set_max_entries(t->dev[0], max_entries), 0);
	t->nsim = 1;
}

/*
 * The shadow mirrors the kernel's FIFO: evictions agree one for one, and
 * pinned ring mappings are re-sent before eviction, so the rings never
 * miss after the pre-map (§4.3, §9.6, §9.7).
 */
START_TEST(engine_shadow_fifo_and_pinned_rings)
{
	struct t_env t;
	struct iotlb_device_stats ds;
	struct iotlb_sim_stats ss;
	uint64_t seed = 5;

	t_scatter_env(&t, 64, 1024);
	ck_assert_int_eq(iotlb_device_map(t.dev[0], RING, 0x30000), 1);
	t_spin(&t, 5);
	for (unsigned int c = 0; c < 3000; c++) {
		struct iotlb_sim_buf b = { DMA + (iotlb_sim_rand(&seed) % 1024) * 0x1000 + 64,
					   256, IOTLB_VMSG_PERM_RO };

		ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	}
	iotlb_sim_kick(t.sim[0], 0);
	for (int i = 0; i < 50000 && t_done(&t, 0) < 3000; i++)
		t_spin(&t, 1);
	ck_assert_uint_eq(t_done(&t, 0), 3000);
	iotlb_sim_get_stats(t.sim[0], &ss);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[0], &ds), 0);
	ck_assert_uint_gt(ss.evictions, 1000);
	ck_assert_msg(ds.shadow_evictions == ss.evictions,
		      "shadow evicted %llu, kernel %llu",
		      (unsigned long long)ds.shadow_evictions,
		      (unsigned long long)ss.evictions);
	ck_assert_uint_gt(ds.pinned_remaps, 10);
	/* Every miss was a data page: the ring mapping never fell out. */
	ck_assert_uint_eq(ss.misses, ds.misses);
	ck_assert_uint_eq(ds.misses, ds.updates + ds.misses_dup - 1 - ds.pinned_remaps);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

/*
 * Invalidation: devices that never mapped the range get no write, and a
 * partially hit entry has its still-valid remainder mapped again.
 */
START_TEST(engine_invalidate_precise)
{
	struct t_env t;
	struct iotlb_device_stats ds;
	struct iotlb_sim_stats ss;
	struct iotlb_sim_buf b = { DMA + 0x5000, 64, IOTLB_VMSG_PERM_RO };

	t_env(&t, 2);
	/* Device 0 gets the 64 MiB entry; device 1 maps nothing. */
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 20);
	ck_assert_uint_eq(t_done(&t, 0), 1);
	t_guest_unmap(&t, DMA + 0x100000, 0x2000);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA + 0x100000, 0x2000, t_fence, &t), 0);
	for (int i = 0; i < 100 && t.fences < 1; i++)
		t_spin(&t, 1);
	ck_assert_int_eq(t.fences, 1);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[0], &ds), 0);
	ck_assert_uint_eq(ds.invalidates, 1);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[1], &ds), 0);
	ck_assert_uint_eq(ds.invalidates, 0);
	ck_assert_uint_eq(ds.invalidates_skipped, 1);
	/* The 64 MiB entry is gone, its two still-valid parts are back. */
	t_spin(&t, 5);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], DMA + 0x100000, NULL, NULL, NULL, NULL), -ENOENT);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], DMA + 0x101fff, NULL, NULL, NULL, NULL), -ENOENT);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], DMA + 0xfffff, NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], DMA + 0x102000, NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], DMA + WS - 1, NULL, NULL, NULL, NULL), 0);
	/* ... so a buffer next to the hole needs no miss. */
	b.iova = DMA + 0x102000;
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 10);
	iotlb_sim_get_stats(t.sim[0], &ss);
	ck_assert_uint_eq(t_done(&t, 0), 2);
	ck_assert_uint_eq(ss.misses, 2);	/* the ring area and the first buffer */
	t_no_stale(&t);
	/* Restart: the kernel IOTLB is new; the shadow is forgotten. */
	iotlb_sim_restart(t.sim[0]);
	ck_assert_int_eq(iotlb_device_restarted(t.dev[0]), 0);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA, 0x1000, t_fence, &t), 0);
	ck_assert_int_eq(t.fences, 2);	/* nothing mapped anywhere: at once */
	t_env_free(&t);
}
END_TEST

/* Invalidations of one round that touch merge into one INVALIDATE. */
START_TEST(engine_invalidate_merged)
{
	struct t_env t;
	struct iotlb_device_stats ds;

	t_scatter_env(&t, 2048, 64);
	for (uint64_t p = 10; p < 13; p++) {
		struct iotlb_sim_buf b = { DMA + p * 0x1000, 64, IOTLB_VMSG_PERM_RO };

		ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	}
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 50);
	ck_assert_uint_eq(t_done(&t, 0), 3);
	for (uint64_t p = 10; p < 13; p++) {
		t_guest_unmap(&t, DMA + p * 0x1000, 0x1000);
		ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA + p * 0x1000, 0x1000,
							 t_fence, &t), 0);
	}
	for (int i = 0; i < 100 && t.fences < 3; i++)
		t_spin(&t, 1);
	ck_assert_int_eq(t.fences, 3);
	ck_assert_int_eq(t.fence_status, 0);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[0], &ds), 0);
	ck_assert_uint_eq(ds.invalidates, 1);
	ck_assert_uint_eq(ds.invalidates_merged, 2);
	/* A socket write completes when queued: let the simulator apply it. */
	iotlb_sim_process(t.sim[0]);
	for (uint64_t p = 10; p < 13; p++)
		ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], DMA + p * 0x1000, NULL, NULL,
							NULL, NULL), -ENOENT);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

/* Injected kernel errors: counted, repaired, other devices unaffected. */
START_TEST(engine_injected_errors)
{
	struct t_env t;
	struct iotlb_device_stats ds;
	struct iotlb_sim_buf b = { DMA + 0x1000, 64, IOTLB_VMSG_PERM_RO };

	t_env(&t, 2);
	/* EFAULT on device 0's first UPDATE (the ring area). */
	ck_assert_int_eq(iotlb__device_inject(t.dev[0], IOTLB__INJECT_WRITE, -EFAULT), 0);
	ck_assert_int_eq(iotlb__device_inject(t.dev[0], 7, -EFAULT), -EINVAL);
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 20);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[0], &ds), 0);
	ck_assert_uint_eq(ds.write_errors, 1);
	ck_assert_int_eq(ds.state_errno, 0);	/* still served */
	/* EBADFD on device 1's read: the IOTLB is gone, the device stops. */
	ck_assert_int_eq(iotlb__device_inject(t.dev[1], IOTLB__INJECT_READ, -EBADFD), 0);
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[1], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[1], 0);
	t_spin(&t, 20);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[1], &ds), 0);
	ck_assert_int_eq(ds.state_errno, -EBADFD);
	ck_assert_uint_eq(ds.read_errors, 1);
	/* Device 0 keeps going: a kick re-runs it and its miss is answered. */
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 20);
	ck_assert_uint_eq(t_done(&t, 0), 1);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

/*
 * Regression (found by bench-engine churn at 1024 devices): a second
 * invalidation inside an entry the first one had cut, in the same round,
 * found nothing in the shadow and fenced at once, while the first
 * INVALIDATE had not even been written: the device could still use the
 * old entry after the guest was told it could not.
 */
START_TEST(engine_fence_waits_for_cut_entry)
{
	struct t_env t;
	struct iotlb_sim_buf b = { DMA + 0x5000, 64, IOTLB_VMSG_PERM_RO };

	t_env(&t, 1);
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 20);
	ck_assert_uint_eq(t_done(&t, 0), 1);	/* the 64 MiB entry is in */
	t_guest_unmap(&t, DMA + 0x100000, 0x1000);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA + 0x100000, 0x1000, t_fence, &t), 0);
	t_guest_unmap(&t, DMA + 0x200000, 0x1000);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA + 0x200000, 0x1000, t_fence, &t), 0);
	ck_assert_msg(t.fences == 0, "a fence completed before any INVALIDATE was written");
	for (int i = 0; i < 100 && t.fences < 2; i++)
		t_spin(&t, 1);
	ck_assert_int_eq(t.fences, 2);
	b.iova = DMA + 0x200000;
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 20);
	ck_assert_uint_eq(t.faults, 1);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

/* Push mapping: mapped ahead on every device, the access never misses. */
START_TEST(engine_push_mapping)
{
	struct t_env t;
	struct iotlb_sim_stats ss;
	struct iotlb_sim_buf b = { 0x90000000ULL + 0x800, 64, IOTLB_VMSG_PERM_WO };

	t_env(&t, 2);
	for (unsigned int s = 0; s < 2; s++) {
		ck_assert_int_eq(iotlb_device_map(t.dev[s], RING + s * 0x100000, 0x30000), 1);
	}
	t_spin(&t, 5);
	t_guest_map(&t, 0x90000000ULL, 0x4000, IOTLB_PERM_RW);
	ck_assert_int_eq(iotlb_engine_map(t.e, t.dom, 0x90000000ULL, 0x4000), 2);
	ck_assert_int_eq(iotlb_engine_map(t.e, t.dom, 0xa0000000ULL, 0x1000), -EFAULT);
	ck_assert_int_eq(iotlb_engine_map(t.e, t.dom, UINT64_MAX, 2), -EOVERFLOW);
	ck_assert_int_eq(iotlb_engine_map(t.e, t.dom, 0, 0), -EINVAL);
	t_spin(&t, 5);
	for (unsigned int s = 0; s < 2; s++) {
		ck_assert_int_eq(iotlb_sim_ring_push(t.sim[s], 0, &b, 1), 0);
		iotlb_sim_kick(t.sim[s], 0);
	}
	t_spin(&t, 5);
	for (unsigned int s = 0; s < 2; s++) {
		iotlb_sim_get_stats(t.sim[s], &ss);
		ck_assert_uint_eq(t_done(&t, s), 1);
		ck_assert_uint_eq(ss.misses, 0);
	}
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

/* Regression: a device added from a thread that then exits keeps working. */
static void *t_add_from_thread(void *arg)
{
	struct t_env *t = arg;

	ck_assert_int_eq(iotlb_engine_add_device(t->e, t->peer[1], t->dom, 0, &t->dev[1]), 0);
	return NULL;
}

START_TEST(engine_submitter_thread_exits)
{
	struct t_env t;
	struct iotlb_sim_config cfg;
	struct iotlb_sim_oracle o;
	struct iotlb_sim_ring_config rc = { RING + 0x100000, RING + 0x110000, RING + 0x120000, 256 };
	struct iotlb_device_stats ds;
	pthread_t th;

	t_env(&t, 1);
	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	iotlb_sim_oracle_from_map(&o, t.truth);
	ck_assert_int_eq(iotlb_sim_new(&t.sim[1], &cfg, &o, &t.peer[1]), 0);
	ck_assert_int_eq(iotlb_sim_add_ring(t.sim[1], &rc), 0);
	t.nsim = 2;
	ck_assert_int_eq(pthread_create(&th, NULL, t_add_from_thread, &t), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	t_push_random(&t, 1, 200, 11);
	for (int i = 0; i < 5000 && t_done(&t, 1) < 200; i++)
		t_spin(&t, 1);
	ck_assert_uint_eq(t_done(&t, 1), 200);
	ck_assert_int_eq(iotlb_device_get_stats(t.dev[1], &ds), 0);
	ck_assert_int_eq(ds.state_errno, 0);
	t_no_stale(&t);
	t_env_free(&t);
}
END_TEST

/* Regression: callbacks may remove devices, the faulting one included. */
static struct iotlb_device *t_victim;

static void t_fault_remove(void *data, struct iotlb_device *dev, uint64_t iova,
			   uint32_t access, const struct iotlb_translation *f)
{
	struct t_env *t = data;

	t->faults++;
	ck_assert_int_eq(iotlb_device_remove(dev), 0);
}

static void t_fence_remove(void *data, int status)
{
	struct t_env *t = data;

	t->fences++;
	t->fence_status = status;
	if (t_victim) {
		ck_assert_int_eq(iotlb_device_remove(t_victim), 0);
		t_victim = NULL;
	}
}

START_TEST(engine_remove_from_callbacks)
{
	struct t_env t;
	struct iotlb_sim_buf bad = { 0x80000000ULL, 64, IOTLB_VMSG_PERM_RO };
	struct iotlb_sim_buf good = { DMA + 0x3000, 64, IOTLB_VMSG_PERM_RO };

	t_env(&t, 2);
	iotlb_engine_set_fault_fn(t.e, t_fault_remove, &t);
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &bad, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 20);
	ck_assert_uint_eq(t.faults, 1);
	/* Device 1: mapped, then invalidated; its fence removes it. */
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[1], 0, &good, 1), 0);
	iotlb_sim_kick(t.sim[1], 0);
	t_spin(&t, 20);
	ck_assert_uint_eq(t_done(&t, 1), 1);
	t_victim = t.dev[1];
	t_guest_unmap(&t, DMA + 0x3000, 0x1000);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA + 0x3000, 0x1000,
						 t_fence_remove, &t), 0);
	for (int i = 0; i < 50 && !t.fences; i++)
		t_spin(&t, 1);
	ck_assert_int_eq(t.fences, 1);
	ck_assert_int_eq(t.fence_status, 0);
	ck_assert_ptr_null(t_victim);
	t_spin(&t, 5);
	t_env_free(&t);
}
END_TEST

/* Regression: fences still waiting at free are called, with -ECANCELED. */
START_TEST(engine_free_fails_waiting_fences)
{
	struct t_env t;
	struct iotlb_sim_buf b = { DMA + 0x3000, 64, IOTLB_VMSG_PERM_RO };

	t_env(&t, 1);
	ck_assert_int_eq(iotlb_sim_ring_push(t.sim[0], 0, &b, 1), 0);
	iotlb_sim_kick(t.sim[0], 0);
	t_spin(&t, 20);
	t_guest_unmap(&t, DMA + 0x3000, 0x1000);
	ck_assert_int_eq(iotlb_engine_invalidate(t.e, t.dom, DMA + 0x3000, 0x1000, t_fence, &t), 0);
	ck_assert_int_eq(t.fences, 0);	/* queued for the next round */
	iotlb_engine_free(t.e);
	t.e = NULL;
	ck_assert_int_eq(t.fences, 1);
	ck_assert_int_eq(t.fence_status, -ECANCELED);
	t_env_free(&t);
}
END_TEST

/* Regression: a write-only area can be mapped ahead too. */
START_TEST(engine_map_write_only)
{
	struct t_env t;
	uint32_t perm;

	t_env(&t, 1);
	t_guest_map(&t, 0x90000000ULL, 0x1000, IOTLB_PERM_WRITE);
	ck_assert_int_eq(iotlb_device_map(t.dev[0], 0x90000000ULL, 0x1000), 1);
	t_spin(&t, 5);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(t.sim[0], 0x90000000ULL, NULL, NULL, NULL, &perm), 0);
	ck_assert_uint_eq(perm, IOTLB_VMSG_PERM_WO);
	t_env_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("sim");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, engine_serves_misses, 0, 2);
	tcase_add_test(tc, engine_reports_faults);
	tcase_add_test(tc, engine_invalidate_fence);
	tcase_add_test(tc, engine_caller_poll_loop);
	tcase_add_test(tc, engine_dedicated_thread);
	tcase_add_test(tc, engine_blocking_fd_refused);
	tcase_add_test(tc, engine_device_gone);
	tcase_add_test(tc, engine_premap_rings);
	tcase_add_test(tc, engine_shadow_fifo_and_pinned_rings);
	tcase_add_test(tc, engine_invalidate_precise);
	tcase_add_test(tc, engine_invalidate_merged);
	tcase_add_test(tc, engine_injected_errors);
	tcase_add_test(tc, engine_submitter_thread_exits);
	tcase_add_test(tc, engine_fence_waits_for_cut_entry);
	tcase_add_test(tc, engine_push_mapping);
	tcase_add_test(tc, engine_remove_from_callbacks);
	tcase_add_test(tc, engine_free_fails_waiting_fences);
	tcase_add_test(tc, engine_map_write_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
