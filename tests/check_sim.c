/* SPDX-License-Identifier: MIT */
/*
 * Description: the simulated vhost device reproduces each kernel rule of
 * shared/reference/vhost-iotlb-kernel.md; one named test per rule, with
 * the section it comes from.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iotlb-internal.h"
#include "sim.h"
#include "vhost-msg.h"

#define RO IOTLB_VMSG_PERM_RO
#define WO IOTLB_VMSG_PERM_WO
#define RW IOTLB_VMSG_PERM_RW

/* Guest layout used by most tests: rings at 0x10000, data above 1 MiB. */
#define T_DESC 0x10000ULL
#define T_AVAIL 0x11000ULL
#define T_USED 0x12000ULL
#define T_NUM 256
#define T_UADDR(iova) (0x7f0000000000ULL + (iova))

struct t_dev {
	struct iotlb_sim *sim;
	struct iotlb_sim_map *map;
	int peer;
};

static void t_open(struct t_dev *d, const struct iotlb_sim_config *cfg)
{
	struct iotlb_sim_oracle o;

	ck_assert_int_eq(iotlb_sim_map_new(&d->map), 0);
	iotlb_sim_oracle_from_map(&o, d->map);
	ck_assert_int_eq(iotlb_sim_new(&d->sim, cfg, &o, &d->peer), 0);
	/* The guest maps all of its first 64 MiB identity-like, RW. */
	ck_assert_int_eq(iotlb_sim_map_set(d->map, 0, 64 << 20, T_UADDR(0), RW), 0);
}

static void t_open_profile(struct t_dev *d, enum iotlb_sim_profile p)
{
	struct iotlb_sim_config cfg;

	iotlb_sim_config_init(&cfg, p);
	t_open(d, &cfg);
}

static void t_close(struct t_dev *d)
{
	if (d->peer >= 0)
		close(d->peer);
	iotlb_sim_free(d->sim);
	iotlb_sim_map_free(d->map);
}

static unsigned int t_ring(struct t_dev *d)
{
	struct iotlb_sim_ring_config rc = { T_DESC, T_AVAIL, T_USED, T_NUM };
	int r = iotlb_sim_add_ring(d->sim, &rc);

	ck_assert_int_ge(r, 0);
	return (unsigned int)r;
}

/* Write one message from the service side, as a vhost write would. */
static void t_write(struct t_dev *d, uint32_t env, uint8_t type, uint64_t iova,
		    uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct iotlb_vmsg m = { env, 0, iova, size, uaddr, perm, type };
	unsigned char buf[IOTLB_VMSG_SIZE];

	ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), 72);
	ck_assert_int_eq(send(d->peer, buf, sizeof(buf), 0), 72);
}

static void t_update(struct t_dev *d, uint64_t iova, uint64_t size, uint8_t perm)
{
	t_write(d, IOTLB_VMSG_V2, IOTLB_VMSG_UPDATE, iova, size, T_UADDR(iova), perm);
}

static void t_invalidate(struct t_dev *d, uint64_t iova, uint64_t size)
{
	t_write(d, IOTLB_VMSG_V2, IOTLB_VMSG_INVALIDATE, iova, size, 0, 0);
}

/* Map the three ring areas, each as one entry (reference §9.6). */
static void t_map_rings(struct t_dev *d)
{
	t_update(d, T_DESC, IOTLB_SIM_DESC_SIZE(T_NUM), RO);
	t_update(d, T_AVAIL, IOTLB_SIM_AVAIL_SIZE(T_NUM), RO);
	t_update(d, T_USED, IOTLB_SIM_USED_SIZE(T_NUM), RW);
}

/* Read one message from the service side; returns 0 when none. */
static int t_read(struct t_dev *d, struct iotlb_vmsg *m)
{
	unsigned char buf[256];
	ssize_t n = recv(d->peer, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		return 0;
	}
	ck_assert_int_eq(n, IOTLB_VMSG_SIZE);
	ck_assert_int_eq(iotlb__vmsg_decode(buf, (size_t)n, 0, m), 72);
	return 1;
}

static struct iotlb_sim_stats t_stats(struct t_dev *d)
{
	struct iotlb_sim_stats st;

	iotlb_sim_get_stats(d->sim, &st);
	return st;
}

static struct iotlb_sim_ring_stats t_rstats(struct t_dev *d, unsigned int r)
{
	struct iotlb_sim_ring_stats st;

	ck_assert_int_eq(iotlb_sim_ring_stats(d->sim, r, &st), 0);
	return st;
}

static void t_push1(struct t_dev *d, unsigned int ring, uint64_t iova,
		    uint32_t len, uint8_t access)
{
	struct iotlb_sim_buf b = { iova, len, access };

	ck_assert_int_eq(iotlb_sim_ring_push(d->sim, ring, &b, 1), 0);
}

static int t_last_error(struct t_dev *d, const char **why)
{
	struct iotlb_sim_error e[IOTLB_SIM_ERROR_LOG];
	unsigned int n = iotlb_sim_get_errors(d->sim, e, IOTLB_SIM_ERROR_LOG);

	if (!n)
		return 0;
	if (why)
		*why = e[n - 1].why;
	return e[n - 1].err;
}

/* §3.1 / §1.3: one 72-byte V2 MISS per read; iova exact, size 0, perm of the access. */
START_TEST(rule_one_message_per_read)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;
	unsigned char big[4096];

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x100123, 1500, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	/* A large buffer still gets exactly one message. */
	ck_assert_int_eq(recv(d.peer, big, sizeof(big), MSG_DONTWAIT), 72);
	ck_assert_int_eq(iotlb__vmsg_decode(big, 72, 0, &m), 72);
	ck_assert_uint_eq(m.envelope, IOTLB_VMSG_V2);
	ck_assert_uint_eq(m.type, IOTLB_VMSG_MISS);
	ck_assert_msg(m.iova == 0x100123, "miss iova %#llx want 0x100123 (exact byte)",
		      (unsigned long long)m.iova);
	ck_assert_uint_eq(m.size, 0);
	ck_assert_uint_eq(m.uaddr, 0);
	ck_assert_uint_eq(m.perm, RO);
	ck_assert_int_eq(t_read(&d, &m), 0);	/* non-blocking: EAGAIN */
	t_close(&d);
}
END_TEST

/* §1.3: without MSG_V2 acked the kernel queues V1 envelopes. */
START_TEST(rule_v1_envelope_without_msg_v2)
{
	struct iotlb_sim_config cfg;
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	cfg.msg_v2 = false;
	t_open(&d, &cfg);
	r = t_ring(&d);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_uint_eq(m.envelope, IOTLB_VMSG_V1);
	ck_assert_uint_eq(m.iova, T_DESC);	/* prefetch checks desc first */
	/* V1 writes are accepted too (§4.1: parsed by the header type). */
	t_write(&d, IOTLB_VMSG_V1, IOTLB_VMSG_UPDATE, T_DESC, 0x1000, T_UADDR(T_DESC), RO);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).updates, 1);
	t_close(&d);
}
END_TEST

/* §3.4: an UPDATE wakes a miss that was already read and that it covers. */
START_TEST(rule_update_wakes_read_miss)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x200000, 4096, WO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_uint_eq(m.perm, WO);
	ck_assert_int_eq(t_rstats(&d, r).stall, IOTLB_SIM_STALL_MISS);
	t_update(&d, 0x200000, 0x1000, RW);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).wakeups, 1);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 1);
	ck_assert_uint_eq(t_rstats(&d, r).runs, 2);
	ck_assert_uint_eq(t_stats(&d).misses_pending, 0);
	t_close(&d);
}
END_TEST

/* §3.4: an UPDATE written before the miss is read wakes nothing, ever. */
START_TEST(rule_preemptive_update_does_not_wake)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x300000, 512, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	/* Service answers before reading: the miss is on the read list. */
	t_update(&d, 0x300000, 0x1000, RO);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).wakeups, 0);
	ck_assert_uint_eq(t_rstats(&d, r).runs, 1);
	/* Reading it later does not wake the ring either. */
	ck_assert_int_eq(t_read(&d, &m), 1);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_rstats(&d, r).runs, 1);
	ck_assert_int_eq(t_rstats(&d, r).stall, IOTLB_SIM_STALL_MISS);
	ck_assert_uint_eq(t_stats(&d).misses_pending, 1);
	/* Only an UPDATE written after the read wakes it (§9.3). */
	t_update(&d, 0x300000, 0x1000, RO);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 1);
	t_close(&d);
}
END_TEST

/* §3.4: matching is on iova only: not covering -> no wake; perm ignored. */
START_TEST(rule_wake_matches_iova_only)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x400800, 64, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_read(&d, &m), 1);
	t_update(&d, 0x400000, 0x800, RO);	/* ends right before the miss */
	t_update(&d, 0x400801, 0x1000, RO);	/* starts right after it */
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).wakeups, 0);
	/* A write-only entry covering the read miss still wakes the ring... */
	t_update(&d, 0x400800, 0x1, WO);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).wakeups, 1);
	/* ... which then stalls silently on the permission (§3.5). */
	ck_assert_int_eq(t_rstats(&d, r).stall, IOTLB_SIM_STALL_PERM);
	ck_assert_int_eq(t_read(&d, &m), 0);
	t_close(&d);
}
END_TEST

/* §4.3: max_iotlb_entries, oldest-inserted evicted first (FIFO, not LRU). */
START_TEST(rule_fifo_eviction)
{
	struct iotlb_sim_config cfg;
	struct t_dev d;
	uint64_t start;

	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	cfg.max_iotlb_entries = 4;
	t_open(&d, &cfg);
	for (uint64_t i = 0; i < 5; i++)
		t_update(&d, 0x100000 + i * 0x1000, 0x1000, RW);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 4);
	ck_assert_uint_eq(t_stats(&d).evictions, 1);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x100000, NULL, NULL, NULL, NULL),
			 -ENOENT);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x101000, &start, NULL, NULL, NULL), 0);
	/* Re-inserting the oldest does not refresh it: 0x101000 goes next. */
	t_update(&d, 0x101000, 0x1000, RW);
	t_update(&d, 0x200000, 0x1000, RW);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).evictions, 3);
	/* The re-inserted copy of 0x101000 survives; the first copy is gone. */
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x101000, NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x102000, NULL, NULL, NULL, NULL),
			 -ENOENT);
	ck_assert_uint_eq(t_stats(&d).entries, 4);
	t_close(&d);
}
END_TEST

/* §4.3: no merge, no split: duplicates and overlaps each take a slot. */
START_TEST(rule_no_merge_lowest_start_wins)
{
	struct t_dev d;
	uint64_t start, last;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	t_update(&d, 0x100000, 0x1000, RW);
	t_update(&d, 0x100000, 0x1000, RW);
	t_update(&d, 0x101000, 0x1000, RW);	/* adjacent: not merged */
	t_update(&d, 0x0ff000, 0x3000, RO);	/* overlaps both, lower start */
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 4);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x100800, &start, &last, NULL, NULL), 0);
	ck_assert_msg(start == 0x0ff000 && last == 0x101fff,
		      "lookup used [%#llx,%#llx], want the lowest start 0xff000",
		      (unsigned long long)start, (unsigned long long)last);
	t_close(&d);
}
END_TEST

/* §4.3: INVALIDATE removes every overlapping entry whole. */
START_TEST(rule_invalidate_removes_overlapping_whole)
{
	struct t_dev d;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	t_update(&d, 0x200000, 0x200000, RW);	/* 2 MiB */
	t_update(&d, 0x1ff000, 0x1000, RW);	/* just below */
	t_update(&d, 0x400000, 0x1000, RW);	/* just above */
	iotlb_sim_process(d.sim);
	t_invalidate(&d, 0x300000, 0x1000);	/* 4 KiB in the middle */
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 2);
	ck_assert_uint_eq(t_stats(&d).entries_removed, 1);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x200000, NULL, NULL, NULL, NULL), -ENOENT);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x3ff000, NULL, NULL, NULL, NULL), -ENOENT);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x1ff000, NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, 0x400000, NULL, NULL, NULL, NULL), 0);
	/* A range touching two entries by one byte each removes both. */
	t_invalidate(&d, 0x1fffff, 0x200002);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 0);
	t_close(&d);
}
END_TEST

/* §4.3 (6.6-6.17): size-0 INVALIDATE at iova 0 flushes all; elsewhere only straddlers. */
START_TEST(rule_invalidate_size0_mainline)
{
	struct t_dev d;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	t_update(&d, 0x100000, 0x2000, RW);
	t_update(&d, 0x200000, 0x1000, RW);
	t_update(&d, 0x300000, 0x1000, RW);
	iotlb_sim_process(d.sim);
	t_invalidate(&d, 0x101000, 0);	/* straddled by the first entry */
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 2);
	t_invalidate(&d, 0x200000, 0);	/* starts there: not straddling */
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 2);
	t_invalidate(&d, 0, 0);		/* flush everything */
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 0);
	ck_assert_uint_eq(t_stats(&d).write_einval + t_stats(&d).write_efault, 0);
	t_close(&d);
}
END_TEST

/*
 * §4.1/§7: size-0 INVALIDATE rejected: EINVAL (upstream 5.18-6.5), EFAULT
 * ([7.x?]); accepted by Debian's 6.1.y, which carries the 6.6 change
 * (measured by tests/kernel).
 */
START_TEST(rule_invalidate_size0_rejected_variants)
{
	const enum iotlb_sim_profile p[2] = { IOTLB_SIM_KERNEL_5_18, IOTLB_SIM_KERNEL_7X };
	const int want[2] = { EINVAL, EFAULT };

	for (int i = 0; i < 2; i++) {
		struct t_dev d;

		t_open_profile(&d, p[i]);
		t_update(&d, 0x100000, 0x1000, RW);
		t_invalidate(&d, 0, 0);
		iotlb_sim_process(d.sim);
		ck_assert_uint_eq(t_stats(&d).entries, 1);
		ck_assert_msg(t_last_error(&d, NULL) == want[i],
			      "profile %d: errno %d want %d", p[i],
			      t_last_error(&d, NULL), want[i]);
		t_close(&d);
	}
	/* Debian 6.1: accepted, and at iova 0 it flushes everything. */
	{
		struct t_dev d;

		t_open_profile(&d, IOTLB_SIM_KERNEL_6_1);
		t_update(&d, 0x100000, 0x1000, RW);
		t_invalidate(&d, 0, 0);
		iotlb_sim_process(d.sim);
		ck_assert_uint_eq(t_stats(&d).entries, 0);
		ck_assert_int_eq(t_last_error(&d, NULL), 0);
		t_close(&d);
	}
}
END_TEST

/* §4.1 step 4: UPDATE with size 0 -> EINVAL, nothing inserted. */
START_TEST(rule_update_size0_einval)
{
	struct t_dev d;
	const char *why = NULL;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	t_update(&d, 0x100000, 0, RW);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 0);
	ck_assert_int_eq(t_last_error(&d, &why), EINVAL);
	ck_assert_str_eq(why, "UPDATE with size 0");
	t_close(&d);
}
END_TEST

/* §4.1/§4.2: framing errors are EINVAL, everything the handler refuses EFAULT. */
START_TEST(rule_bad_messages_errno)
{
	struct t_dev d;
	unsigned char buf[IOTLB_VMSG_SIZE] = { 0 };
	uint32_t env = 7;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	memcpy(buf, &env, 4);
	ck_assert_int_eq(send(d.peer, buf, 72, 0), 72);	/* unknown envelope */
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_last_error(&d, NULL), EINVAL);
	ck_assert_int_eq(send(d.peer, buf, 3, 0), 3);	/* short header */
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_last_error(&d, NULL), EINVAL);
	env = 2;
	memcpy(buf, &env, 4);
	ck_assert_int_eq(send(d.peer, buf, 39, 0), 39);	/* short iotlb part */
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_last_error(&d, NULL), EINVAL);
	buf[33] = 9;					/* unknown iotlb type */
	ck_assert_int_eq(send(d.peer, buf, 72, 0), 72);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_last_error(&d, NULL), EFAULT);
	t_write(&d, 2, IOTLB_VMSG_MISS, 0x1000, 0x1000, 0, RO);	/* kernel-only type */
	t_write(&d, 2, IOTLB_VMSG_BATCH_BEGIN, 0, 0, 0, 0);	/* vdpa-only */
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).write_einval, 3);
	ck_assert_uint_eq(t_stats(&d).write_efault, 3);
	/* A 40-byte write is the shortest the kernel accepts (§4.1). */
	t_update(&d, 0x1000, 0x1000, RW);
	{
		unsigned char up[IOTLB_VMSG_SIZE];
		struct iotlb_vmsg m = { 2, 0, 0x5000, 0x1000, T_UADDR(0x5000), RW, 2 };

		iotlb__vmsg_encode(&m, up, sizeof(up));
		ck_assert_int_eq(send(d.peer, up, 40, 0), 40);
	}
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).updates, 2);
	t_close(&d);
}
END_TEST

/* §4.1 step 2 / §4.2: V2 asid skipped unless IOTLB_ASID acked; then != 0 -> EFAULT. */
START_TEST(rule_asid)
{
	struct iotlb_sim_config cfg;
	struct t_dev d;
	unsigned char buf[IOTLB_VMSG_SIZE];
	struct iotlb_vmsg m = { 2, 5, 0x1000, 0x1000, T_UADDR(0x1000), RW, 2 };

	for (int acked = 0; acked < 2; acked++) {
		iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
		cfg.backend_asid = acked;
		t_open(&d, &cfg);
		ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), 72);
		ck_assert_int_eq(send(d.peer, buf, 72, 0), 72);
		iotlb_sim_process(d.sim);
		if (!acked) {
			ck_assert_uint_eq(t_stats(&d).entries, 1);
			ck_assert_uint_eq(t_stats(&d).asid_ignored, 1);
		} else {
			ck_assert_uint_eq(t_stats(&d).entries, 0);
			ck_assert_int_eq(t_last_error(&d, NULL), EFAULT);
		}
		t_close(&d);
	}
}
END_TEST

/* §4.3 / §4.2: a wrapping iova range or a uaddr outside user space -> EFAULT. */
START_TEST(rule_wrapping_range_efault)
{
	struct t_dev d;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	t_write(&d, 2, IOTLB_VMSG_UPDATE, UINT64_MAX - 0xfff, 0x2000, 0x10000, RW);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_last_error(&d, NULL), EFAULT);
	t_write(&d, 2, IOTLB_VMSG_UPDATE, 0x1000, 0x2000, UINT64_MAX - 0xfff, RW);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_last_error(&d, NULL), EFAULT);
	t_write(&d, 2, IOTLB_VMSG_UPDATE, 0x1000, 0x2000, 0xffff800000000000ULL, RW);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).write_efault, 3);
	ck_assert_uint_eq(t_stats(&d).entries, 0);
	/* The last page below 2^64 maps fine: it does not wrap. */
	t_write(&d, 2, IOTLB_VMSG_UPDATE, UINT64_MAX - 0xfff, 0x1000, 0x10000, RW);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 1);
	t_close(&d);
}
END_TEST

/* §3.5: a ring stops at its first untranslatable access, one miss. */
START_TEST(rule_ring_stops_at_first_miss)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;
	struct iotlb_sim_buf chain[3] = {
		{ 0x100000, 256, RO }, { 0x180010, 1024, RO }, { 0x1c0000, 64, WO },
	};

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_update(&d, 0x100000, 0x1000, RO);
	/* 0x180010.. is half mapped: the miss is at the first missing byte. */
	t_update(&d, 0x180000, 0x200, RO);
	ck_assert_int_eq(iotlb_sim_ring_push(d.sim, r, chain, 3), 0);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_msg(m.iova == 0x180200, "miss at %#llx want 0x180200",
		      (unsigned long long)m.iova);
	ck_assert_int_eq(t_read(&d, &m), 0);
	ck_assert_uint_eq(t_stats(&d).misses, 1);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 0);
	t_close(&d);
}
END_TEST

/* §2.4 (measured by tests/kernel): attach reads the used ring, RO; unmapped fails. */
START_TEST(rule_attach_needs_used_ring)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	ck_assert_int_eq(iotlb_sim_attach(d.sim, r), -EFAULT);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_uint_eq(m.iova, T_USED);
	ck_assert_uint_eq(m.perm, RO);
	t_update(&d, T_USED, 0x1000, RW);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(iotlb_sim_attach(d.sim, r), 0);
	ck_assert_int_eq(iotlb_sim_attach(d.sim, 99), -EINVAL);
	t_close(&d);
}
END_TEST

/* §3.5 / §9.6: the prefetch checks desc, avail (RO) and used (WO) first. */
START_TEST(rule_prefetch_ring_metadata)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;
	const uint64_t want[3] = { T_DESC, T_AVAIL, T_USED };
	const uint8_t perm[3] = { RO, RO, WO };

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(t_read(&d, &m), 1);
		ck_assert_msg(m.iova == want[i] && m.perm == perm[i],
			      "prefetch miss %d: %#llx/%u want %#llx/%u", i,
			      (unsigned long long)m.iova, m.perm,
			      (unsigned long long)want[i], perm[i]);
		t_update(&d, want[i], 0x1000, perm[i] == WO ? RW : RO);
		iotlb_sim_process(d.sim);
	}
	ck_assert_int_eq(t_read(&d, &m), 0);
	ck_assert_int_eq(t_rstats(&d, r).stall, IOTLB_SIM_RUNNING);
	t_close(&d);
}
END_TEST

/* §3.5 (<= 6.17): every re-run repeats an unanswered miss. */
START_TEST(rule_duplicate_misses_on_rerun)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x500000, 100, RO);
	for (int i = 0; i < 3; i++) {
		iotlb_sim_kick(d.sim, r);
		iotlb_sim_process(d.sim);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(t_read(&d, &m), 1);
		ck_assert_uint_eq(m.iova, 0x500000);
	}
	ck_assert_uint_eq(t_stats(&d).misses, 3);
	ck_assert_uint_eq(t_stats(&d).misses_dup, 2);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).misses_pending, 3);
	/* One covering UPDATE wakes (and frees) all three. */
	t_update(&d, 0x500000, 0x1000, RO);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).wakeups, 3);
	ck_assert_uint_eq(t_stats(&d).misses_pending, 0);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 1);
	t_close(&d);
}
END_TEST

/* §0 item 1 [7.x?]: at most one outstanding miss per vq. */
START_TEST(rule_one_miss_per_vq_7x)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_7X);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x500000, 100, RO);
	for (int i = 0; i < 3; i++) {
		iotlb_sim_kick(d.sim, r);
		iotlb_sim_process(d.sim);
	}
	ck_assert_uint_eq(t_stats(&d).misses, 1);
	ck_assert_uint_eq(t_stats(&d).misses_dropped, 2);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_int_eq(t_read(&d, &m), 0);
	iotlb_sim_process(d.sim);
	t_update(&d, 0x500000, 0x1000, RO);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 1);
	/* Released by the wake: the next unmapped buffer raises a new miss. */
	t_push1(&d, r, 0x600000, 100, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).misses, 2);
	t_close(&d);
}
END_TEST

/* §3.5: entry present but lacking the permission: no miss, the vq stalls. */
START_TEST(rule_perm_mismatch_stalls_silently)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_update(&d, 0x700000, 0x1000, RO);
	t_push1(&d, r, 0x700000, 1500, WO);	/* device writes: needs WO */
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_read(&d, &m), 0);
	ck_assert_uint_eq(t_stats(&d).misses, 0);
	ck_assert_int_eq(t_rstats(&d, r).stall, IOTLB_SIM_STALL_PERM);
	ck_assert_uint_eq(t_rstats(&d, r).perm_stalls, 1);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 0);
	t_close(&d);
}
END_TEST

/* §2.3: SET_FEATURES wipes the IOTLB; queued misses are not cleared. */
START_TEST(rule_restart_wipes_iotlb_keeps_misses)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x800000, 100, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 3);
	iotlb_sim_restart(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 0);
	ck_assert_uint_eq(t_stats(&d).misses_unread, 1);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_uint_eq(m.iova, 0x800000);
	/* After the restart the rings themselves miss again. */
	t_update(&d, 0x800000, 0x1000, RO);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_uint_eq(m.iova, T_DESC);
	t_close(&d);
}
END_TEST

/* DESIGN.md: the stale-access detector flags use of a translation the guest dropped. */
START_TEST(rule_stale_access_detector)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_update(&d, 0x900000, 0x2000, RW);
	t_push1(&d, r, 0x900000, 100, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).stale_accesses, 0);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 1);
	/* Guest unmaps the page but no INVALIDATE is sent: a stale access. */
	ck_assert_int_eq(iotlb_sim_map_clear(d.map, 0x901000, 0x1000), 0);
	t_push1(&d, r, 0x901000, 100, WO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).stale_accesses, 1);
	/* Guest remaps elsewhere; INVALIDATE first: new miss, no stale use. */
	ck_assert_int_eq(iotlb_sim_map_set(d.map, 0x900000, 0x1000, 0x7f5500000000ULL, RO), 0);
	t_invalidate(&d, 0x900000, 0x1000);
	t_push1(&d, r, 0x900000, 100, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_read(&d, &m), 1);
	ck_assert_uint_eq(m.iova, 0x900000);
	t_write(&d, 2, IOTLB_VMSG_UPDATE, 0x900000, 0x1000, 0x7f5500000000ULL, RO);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).stale_accesses, 1);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 3);
	/* A grant narrower than the access is stale as well. */
	t_write(&d, 2, IOTLB_VMSG_UPDATE, 0x900000, 0x1000, 0x7f5500000000ULL, RW);
	iotlb_sim_restart(d.sim);
	t_map_rings(&d);
	t_write(&d, 2, IOTLB_VMSG_UPDATE, 0x900000, 0x1000, 0x7f5500000000ULL, RW);
	t_push1(&d, r, 0x900000, 100, WO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).stale_accesses, 2);
	t_close(&d);
}
END_TEST

/* More misses than the socket holds: nothing blocks, nothing is lost. */
START_TEST(rule_nonblocking_overflow)
{
	struct t_dev d;
	struct iotlb_vmsg m;
	const unsigned int nr = 1000;
	unsigned int got = 0;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	for (unsigned int i = 0; i < nr; i++) {
		struct iotlb_sim_ring_config rc = { 0x1000000ULL * (i + 1), 0x1000000ULL * (i + 1) + 0x1000,
						    0x1000000ULL * (i + 1) + 0x2000, 64 };

		ck_assert_int_eq(iotlb_sim_add_ring(d.sim, &rc), (int)i);
		iotlb_sim_kick(d.sim, i);
	}
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).misses, nr);
	for (int rounds = 0; rounds < 100 && got < nr; rounds++) {
		while (t_read(&d, &m))
			got++;
		iotlb_sim_process(d.sim);
	}
	ck_assert_uint_eq(got, nr);
	ck_assert_uint_eq(t_stats(&d).misses_read, nr);
	ck_assert_uint_eq(t_stats(&d).misses_pending, nr);
	t_close(&d);
}
END_TEST

/* The read list is learnt from SIOCOUTQ: measured, linear, > payload. */
START_TEST(rule_outq_measured)
{
	unsigned int per = iotlb_sim_outq_per_msg();

	ck_assert_msg(per > IOTLB_VMSG_SIZE, "SIOCOUTQ per message %u", per);
}
END_TEST

/* vhost_exceeds_weight(): a ring yields after its budget and runs again. */
START_TEST(rule_run_budget)
{
	struct t_dev d;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_update(&d, 0x100000, 0x100000, RW);
	for (int i = 0; i < 300; i++)
		t_push1(&d, r, 0x100000 + (uint64_t)i * 64, 64, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_rstats(&d, r).chains_done, 300);
	ck_assert_uint_eq(t_rstats(&d, r).runs, 2);
	t_close(&d);
}
END_TEST

/* max_iotlb_entries = 0 means unlimited in <= 6.17 (§4.3). */
START_TEST(rule_unlimited_entries)
{
	struct iotlb_sim_config cfg;
	struct t_dev d;

	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	cfg.max_iotlb_entries = 0;
	t_open(&d, &cfg);
	for (uint64_t i = 0; i < 3000; i++) {
		t_update(&d, i * 0x1000, 0x1000, RW);
		if (i % 100 == 99)
			iotlb_sim_process(d.sim);
	}
	iotlb_sim_process(d.sim);
	ck_assert_uint_eq(t_stats(&d).entries, 3000);
	ck_assert_uint_eq(t_stats(&d).evictions, 0);
	t_close(&d);
}
END_TEST

/* Peer close: EOF seen, nothing crashes, state still readable. */
START_TEST(rule_peer_close)
{
	struct t_dev d;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	close(d.peer);
	d.peer = -1;
	iotlb_sim_kick(d.sim, r);
	ck_assert_int_ge(iotlb_sim_process(d.sim), 0);
	iotlb_sim_process(d.sim);
	ck_assert(t_stats(&d).peer_closed);
	t_close(&d);
}
END_TEST

/* The IOTLB model against a brute-force list, with random updates/invalidates. */
START_TEST(rule_iotlb_model_random)
{
	struct iotlb_sim_config cfg;
	struct t_dev d;
	struct { uint64_t start, last, seq; } ref[64];
	unsigned int n = 0;
	uint64_t seed = 42, seq = 0;

	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	cfg.max_iotlb_entries = 64;
	t_open(&d, &cfg);
	for (int step = 0; step < 3000; step++) {
		uint64_t a = (iotlb_sim_rand(&seed) % 512) << 12;
		uint64_t sz = ((iotlb_sim_rand(&seed) % 16) + 1) << 12;

		if (iotlb_sim_rand(&seed) % 4) {
			t_update(&d, a, sz, RW);
			if (n == 64) {	/* FIFO: drop the oldest seq */
				unsigned int o = 0;

				for (unsigned int k = 1; k < n; k++)
					if (ref[k].seq < ref[o].seq)
						o = k;
				ref[o] = ref[--n];
			}
			ref[n].start = a;
			ref[n].last = a + sz - 1;
			ref[n].seq = seq++;
			n++;
		} else {
			t_invalidate(&d, a, sz);
			for (unsigned int k = 0; k < n;)
				if (ref[k].start <= a + sz - 1 && ref[k].last >= a)
					ref[k] = ref[--n];
				else
					k++;
		}
		iotlb_sim_process(d.sim);
		ck_assert_uint_eq(t_stats(&d).entries, n);
		for (int probe = 0; probe < 8; probe++) {
			uint64_t x = iotlb_sim_rand(&seed) % (530ULL << 12), s, l;
			int want = -ENOENT;
			uint64_t best = UINT64_MAX;

			for (unsigned int k = 0; k < n; k++)
				if (ref[k].start <= x && ref[k].last >= x && ref[k].start < best) {
					best = ref[k].start;
					want = 0;
				}
			ck_assert_int_eq(iotlb_sim_iotlb_lookup(d.sim, x, &s, &l, NULL, NULL), want);
			if (!want)
				ck_assert_uint_eq(s, best);
		}
	}
	t_close(&d);
}
END_TEST

START_TEST(map_oracle_set_clear)
{
	struct iotlb_sim_map *m;
	uint64_t ua, len;
	uint32_t perm;

	ck_assert_int_eq(iotlb_sim_map_new(&m), 0);
	ck_assert_int_eq(iotlb_sim_map_set(m, 0x1000, 0x10000, 0x50000, RW), 0);
	ck_assert_int_eq(iotlb_sim_map_clear(m, 0x4000, 0x1000), 0);	/* split */
	ck_assert_uint_eq(iotlb_sim_map_count(m), 2);
	ck_assert_int_eq(iotlb_sim_map_lookup(m, 0x4800, &ua, &perm, &len), -ENOENT);
	ck_assert_int_eq(iotlb_sim_map_lookup(m, 0x5000, &ua, &perm, &len), 0);
	ck_assert_uint_eq(ua, 0x54000);
	ck_assert_uint_eq(len, 0xc000);
	ck_assert_int_eq(iotlb_sim_map_set(m, 0x3000, 0x3000, 0x90000, RO), 0);
	ck_assert_uint_eq(iotlb_sim_map_count(m), 3);
	ck_assert_int_eq(iotlb_sim_map_lookup(m, 0x2fff, &ua, &perm, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(iotlb_sim_map_lookup(m, 0x5fff, &ua, &perm, &len), 0);
	ck_assert_uint_eq(ua, 0x92fff);
	ck_assert_uint_eq(perm, RO);
	ck_assert_int_eq(iotlb_sim_map_clear(m, 0, 0x100000), 0);
	ck_assert_uint_eq(iotlb_sim_map_count(m), 0);
	ck_assert_int_eq(iotlb_sim_map_set(m, 0, 0, 0, RW), -EINVAL);
	iotlb_sim_map_free(m);
}
END_TEST

START_TEST(rand_is_deterministic)
{
	uint64_t a = 7, b = 7;

	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(iotlb_sim_rand(&a), iotlb_sim_rand(&b));
	b = 8;
	ck_assert_uint_ne(iotlb_sim_rand(&a), iotlb_sim_rand(&b));
}
END_TEST

/*
 * Regression: a peer in another process reads a miss and writes its
 * UPDATE while iotlb_sim_process() runs, after the process sampled
 * SIOCOUTQ.  The UPDATE found the miss still "unread", woke nothing, and
 * the ring stalled for good, where the kernel (which moves a miss to the
 * pending list as it is read) wakes it.  The peer's move is played inside
 * the simulator's SIOCOUTQ call: the test links with --wrap=ioctl.
 */
static struct t_dev *race_peer;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = __real_ioctl(fd, req, arg);
	if (race_peer && req == SIOCOUTQ) {
		struct t_dev *d = race_peer;
		struct iotlb_vmsg m;

		race_peer = NULL;
		ck_assert_int_eq(t_read(d, &m), 1);
		t_update(d, m.iova & ~0xfffULL, 0x1000, RO);
	}
	return r;
}

START_TEST(regress_answer_during_process_wakes)
{
	struct t_dev d;
	unsigned int r;

	t_open_profile(&d, IOTLB_SIM_KERNEL_MAINLINE);
	r = t_ring(&d);
	t_map_rings(&d);
	t_push1(&d, r, 0x300000, 512, RO);
	iotlb_sim_kick(d.sim, r);
	iotlb_sim_process(d.sim);
	ck_assert_int_eq(t_rstats(&d, r).stall, IOTLB_SIM_STALL_MISS);
	race_peer = &d;
	iotlb_sim_process(d.sim);
	ck_assert_msg(race_peer == NULL, "the peer's read and answer did not run");
	iotlb_sim_process(d.sim);
	ck_assert_msg(t_rstats(&d, r).chains_done == 1,
		      "chains done %llu want 1: an UPDATE of a read miss must wake its ring",
		      (unsigned long long)t_rstats(&d, r).chains_done);
	ck_assert_uint_eq(t_stats(&d).wakeups, 1);
	t_close(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("kernel-rules");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rule_one_message_per_read);
	tcase_add_test(tc, rule_v1_envelope_without_msg_v2);
	tcase_add_test(tc, rule_update_wakes_read_miss);
	tcase_add_test(tc, rule_preemptive_update_does_not_wake);
	tcase_add_test(tc, rule_wake_matches_iova_only);
	tcase_add_test(tc, rule_fifo_eviction);
	tcase_add_test(tc, rule_no_merge_lowest_start_wins);
	tcase_add_test(tc, rule_invalidate_removes_overlapping_whole);
	tcase_add_test(tc, rule_invalidate_size0_mainline);
	tcase_add_test(tc, rule_invalidate_size0_rejected_variants);
	tcase_add_test(tc, rule_update_size0_einval);
	tcase_add_test(tc, rule_bad_messages_errno);
	tcase_add_test(tc, rule_asid);
	tcase_add_test(tc, rule_wrapping_range_efault);
	tcase_add_test(tc, rule_ring_stops_at_first_miss);
	tcase_add_test(tc, rule_prefetch_ring_metadata);
	tcase_add_test(tc, rule_attach_needs_used_ring);
	tcase_add_test(tc, rule_duplicate_misses_on_rerun);
	tcase_add_test(tc, rule_one_miss_per_vq_7x);
	tcase_add_test(tc, rule_perm_mismatch_stalls_silently);
	tcase_add_test(tc, rule_restart_wipes_iotlb_keeps_misses);
	tcase_add_test(tc, rule_stale_access_detector);
	tcase_add_test(tc, rule_nonblocking_overflow);
	tcase_add_test(tc, rule_outq_measured);
	tcase_add_test(tc, rule_run_budget);
	tcase_add_test(tc, rule_unlimited_entries);
	tcase_add_test(tc, rule_peer_close);
	tcase_add_test(tc, rule_iotlb_model_random);
	tcase_add_test(tc, map_oracle_set_clear);
	tcase_add_test(tc, rand_is_deterministic);
	tcase_add_test(tc, regress_answer_during_process_wakes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
