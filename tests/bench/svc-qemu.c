/* SPDX-License-Identifier: MIT */
/*
 * svc-qemu: QEMU's device-IOTLB miss service, re-implemented for the
 * benchmark from the description in shared/reference/prior-art.md §A.1
 * and §A.3 (hw/virtio/vhost.c vhost_device_iotlb_miss, vhost-backend.c
 * vhost_kernel_iotlb_read, hw/i386/intel_iommu.c), with the cost model
 * issue 5 pins:
 *
 *  - the main loop poll()s every vhost fd; a readable fd is drained with
 *    one read() per 72-byte message until EAGAIN;
 *  - each MISS is translated by a full walk of the VT-d second-level
 *    tables, no translation cache: every table entry is copied through a
 *    bounds-checked guest-memory read helper that finds its memory
 *    region by a linear scan (dma_memory_read);
 *  - the answer is exactly the vIOMMU page (4 KiB, or 2 MiB / 1 GiB when
 *    the PTE is a super page), clipped to the memory region found by a
 *    second linear scan (vhost_memory_region_lookup), written with one
 *    synchronous write();
 *  - a guest unmap is one synchronous INVALIDATE write() per device of
 *    the domain.
 *
 * Caches: QEMU keeps each address space's context entry, validated by a
 * global generation counter (context_cache_gen), and so do we: a miss
 * reads root and context entries only the first time (and after a
 * context-cache invalidation, which these workloads never issue).  QEMU
 * also has a 1024-entry IOTLB (flushed whole when full); the pinned cost
 * model leaves it out.  On these workloads it would rarely hit: the
 * static working set is 16384 pages per device, and every churn miss is
 * for a page mapped since the last invalidation.
 *
 * Two QEMU behaviours kept on purpose: the UPDATE grants read-write
 * whatever the guest's PTEs grant (address_space_get_iotlb_entry()
 * returns IOMMU_RW: "IOTLBs are for DMAs"), and a translation fault gets
 * no answer at all (the queue stays stalled).  Neither changes the cost.
 *
 * Invalidation: a page-selective invalidation makes QEMU walk every
 * address space with a notifier, re-read its context entry from guest
 * memory (not the cache) and compare the domain id
 * (vtd_iotlb_page_invalidate_notify); each matching device's
 * device-IOTLB invalidation then becomes one INVALIDATE write
 * (vhost_iommu_unmap_notify).  unmap() does both steps.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iotlb.h"
#include "service.h"
#include "vhost-msg.h"

#define PG_SHIFT 12
#define SL_R (1ULL << 0)
#define SL_W (1ULL << 1)
#define SL_PS (1ULL << 7)

/* One row of the vhost memory table (struct vhost_memory_region). */
struct q_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	const uint8_t *local;
};

struct q_dev {
	int fd;
	uint16_t sid;
	bool dead;
	uint32_t cc_gen;	/* context_cache_entry.context_cache_gen */
	uint64_t ce[2];
	uint64_t last_iova, last_size;	/* for the duplicate statistic only */
};

struct q_svc {
	struct q_region *regions;
	unsigned int nregions;
	uint64_t rta;
	unsigned int haw;
	uint8_t sagaw;
	uint32_t caps;
	uint32_t context_cache_gen;	/* starts at 1: 0 means never cached */
	struct q_dev *devs;
	unsigned int ndevs;
	struct bench_service_stats st;
	struct bench_hist lat;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* dma_memory_read(): the region by linear scan, then a bounded copy. */
static int q_dma_read(const struct q_svc *q, uint64_t gpa, void *buf,
		      size_t len)
{
	unsigned int i;

	for (i = 0; i < q->nregions; i++) {
		const struct q_region *r = &q->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (!r->local || len > r->size - (gpa - r->gpa))
			return -EFAULT;
		memcpy(buf, r->local + (gpa - r->gpa), len);
		return 0;
	}
	return -EFAULT;
}

static int q_read_u64(const struct q_svc *q, uint64_t gpa, uint64_t *v)
{
	uint64_t raw;

	if (q_dma_read(q, gpa, &raw, sizeof(raw)))
		return -EFAULT;
	*v = le64toh(raw);
	return 0;
}

static uint64_t q_haw_rsvd(const struct q_svc *q)
{
	/* Address bits 51:HAW of any pointer; 63:52 are ignored. */
	return ((1ULL << 52) - 1) & ~((1ULL << q->haw) - 1);
}

/*
 * vtd_dev_to_context_entry(): legacy root entry, then context entry,
 * each read from guest memory and checked.  0, or -EFAULT for any fault.
 */
static int q_context(const struct q_svc *q, uint16_t sid, uint64_t ce[2])
{
	uint64_t re[2], ctp;
	unsigned int aw;

	if (q_read_u64(q, q->rta + 16ULL * (sid >> 8), &re[0]) ||
	    q_read_u64(q, q->rta + 16ULL * (sid >> 8) + 8, &re[1]))
		return -EFAULT;
	if (!(re[0] & 1) || re[1] || (re[0] & (0xffeULL | q_haw_rsvd(q))))
		return -EFAULT;
	ctp = re[0] & ~0xfffULL & ((1ULL << q->haw) - 1);
	if (q_read_u64(q, ctp + 16ULL * (sid & 0xff), &ce[0]) ||
	    q_read_u64(q, ctp + 16ULL * (sid & 0xff) + 8, &ce[1]))
		return -EFAULT;
	if (!(ce[0] & 1) || (ce[0] & (0xff0ULL | q_haw_rsvd(q))) ||
	    (ce[1] & ((1ULL << 7) | ~((1ULL << 24) - 1))))
		return -EFAULT;
	/* TT: 00b second level, 01b with device TLB (needs ECAP.DT). */
	switch ((ce[0] >> 2) & 3) {
	case 0:
		break;
	case 1:
		if (!(q->caps & IOTLB_VTD_CAP_DT))
			return -EFAULT;
		break;
	default:	/* pass-through and reserved: not in these guests */
		return -EFAULT;
	}
	aw = ce[1] & 7;
	if (aw < 1 || aw > 3 || !(q->sagaw & (1U << aw)))
		return -EFAULT;
	return 0;
}

static uint16_t q_ce_did(const uint64_t ce[2])
{
	return (uint16_t)(ce[1] >> 8);
}

/* Reserved bits of a second-level entry at level (4..1). */
static uint64_t q_sl_rsvd(const struct q_svc *q, unsigned int level,
			  uint64_t pte)
{
	uint64_t m = q_haw_rsvd(q) | (1ULL << 62);

	if (level == 4 || level == 5)
		m |= SL_PS;
	if ((level == 2 || level == 3) && (pte & SL_PS))
		m |= ((1ULL << (PG_SHIFT + 9 * (level - 1))) - 1) & ~0xfffULL;
	return m;
}

/*
 * vtd_iova_to_slpte(): one 8-byte read per level from the top, the
 * access checked and R/W ANDed at every level, reserved bits checked,
 * stop at level 1 or a PS entry.  0 with the leaf, or -EFAULT.
 */
static int q_walk(const struct q_svc *q, const uint64_t ce[2], uint64_t iova,
		  bool is_write, uint64_t *leaf, unsigned int *leaf_level,
		  bool *reads, bool *writes)
{
	unsigned int level = (unsigned int)(ce[1] & 7) + 2;
	uint64_t table = ce[0] & ~0xfffULL & ((1ULL << q->haw) - 1);
	uint64_t need = is_write ? SL_W : SL_R;

	if (iova >> (PG_SHIFT + 9 * level))
		return -EFAULT;
	*reads = *writes = true;
	for (;;) {
		uint64_t pte;
		unsigned int shift = PG_SHIFT + 9 * (level - 1);

		if (q_read_u64(q, table + 8 * ((iova >> shift) & 511), &pte))
			return -EFAULT;
		*reads = *reads && (pte & SL_R);
		*writes = *writes && (pte & SL_W);
		if (!(pte & need))
			return -EFAULT;	/* not present or no access */
		if (pte & q_sl_rsvd(q, level, pte))
			return -EFAULT;
		if ((level == 2 && (pte & SL_PS) && !(q->caps & IOTLB_VTD_CAP_SL2M)) ||
		    (level == 3 && (pte & SL_PS) && !(q->caps & IOTLB_VTD_CAP_SL1G)))
			return -EFAULT;
		if (level == 1 || (pte & SL_PS)) {
			*leaf = pte;
			*leaf_level = level;
			return 0;
		}
		table = pte & ~0xfffULL & ((1ULL << q->haw) - 1);
		level--;
	}
}

/* vhost_memory_region_lookup(): linear scan of the vhost memory table. */
static int q_region_lookup(const struct q_svc *q, uint64_t gpa,
			   uint64_t *uaddr, uint64_t *len)
{
	unsigned int i;

	for (i = 0; i < q->nregions; i++) {
		const struct q_region *r = &q->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*uaddr = r->uaddr + (gpa - r->gpa);
			*len = r->size - (gpa - r->gpa);
			return 0;
		}
	}
	return -EFAULT;
}

/* A synchronous write of one message; waits out a full socket buffer. */
static int q_write(struct q_svc *q, struct q_dev *d, const struct iotlb_vmsg *m)
{
	unsigned char buf[IOTLB_VMSG_SIZE];

	iotlb__vmsg_encode(m, buf, sizeof(buf));
	for (;;) {
		ssize_t n = write(d->fd, buf, sizeof(buf));

		if (n == (ssize_t)sizeof(buf))
			return 0;
		if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
			q->st.write_errors++;
			return n < 0 ? -errno : -EIO;
		}
		/* A vhost write never returns EAGAIN; the simulator's socket can. */
		if (errno == EAGAIN) {
			struct pollfd p = { d->fd, POLLOUT, 0 };

			poll(&p, 1, 1000);
		}
	}
}

/*
 * vhost_device_iotlb_miss(): translate through the vIOMMU, look the
 * result up in the memory table, write one UPDATE for the vIOMMU page.
 */
static int q_miss(struct q_svc *q, struct q_dev *d, uint64_t iova, bool write)
{
	uint64_t leaf, page, gpa_page, gpa, uaddr, len, dummy;
	unsigned int level;
	bool reads, writes;
	struct iotlb_vmsg up = {
		.envelope = IOTLB_VMSG_V2,
		.type = IOTLB_VMSG_UPDATE,
	};
	int r;

	/* vtd_do_iommu_translate(): the interrupt range is never DMA. */
	if ((iova & ~0xfffffULL) == 0xfee00000ULL)
		return -EFAULT;
	if (d->cc_gen != q->context_cache_gen) {
		if (q_context(q, d->sid, d->ce))
			return -EFAULT;
		d->cc_gen = q->context_cache_gen;
	}
	if (q_walk(q, d->ce, iova, write, &leaf, &level, &reads, &writes))
		return -EFAULT;
	page = 1ULL << (PG_SHIFT + 9 * (level - 1));
	gpa_page = leaf & ~(page - 1) & ((1ULL << q->haw) - 1);
	gpa = gpa_page | (iova & (page - 1));
	/* address_space_translate_iommu(): the access, then RAM behind it. */
	if (!(write ? writes : reads) || q_region_lookup(q, gpa, &dummy, &len))
		return -EFAULT;
	if (q_region_lookup(q, gpa_page, &uaddr, &len))
		return -EFAULT;
	up.iova = iova & ~(page - 1);
	up.size = len < page ? len : page;
	up.uaddr = uaddr;
	up.perm = IOTLB_VMSG_PERM_RW;
	r = q_write(q, d, &up);
	if (r)
		return r;
	q->st.updates++;
	q->st.update_bytes += up.size;
	d->last_iova = up.iova;
	d->last_size = up.size;
	return 0;
}

/* vhost_kernel_iotlb_read(): drain one fd. */
static void q_drain(struct q_svc *q, struct q_dev *d)
{
	unsigned char buf[IOTLB_VMSG_SIZE];

	for (;;) {
		struct iotlb_vmsg m;
		uint64_t t0;
		ssize_t n = read(d->fd, buf, sizeof(buf));

		q->st.reads++;
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				d->dead = true;
			return;
		}
		t0 = now_ns();
		if (iotlb__vmsg_decode(buf, (size_t)n, 0, &m) < 0 ||
		    m.type != IOTLB_VMSG_MISS)
			continue;
		q->st.misses++;
		if (m.iova - d->last_iova < d->last_size)
			q->st.misses_dup++;
		if (q_miss(q, d, m.iova, m.perm != IOTLB_VMSG_PERM_RO)) {
			q->st.faults++;
			continue;
		}
		bench_hist_add(&q->lat, now_ns() - t0);
	}
}

static int q_init(void **ctx, const struct bench_setup *s)
{
	struct q_svc *q;
	unsigned int i, k;
	int n;

	if (s->viommu.arch != IOTLB_ARCH_VTD || s->viommu.u.vtd.scalable)
		return -ENOTSUP;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	n = iotlb_mem_get_region_count(s->mem);
	q->regions = calloc(n > 0 ? (size_t)n : 1, sizeof(*q->regions));
	q->devs = calloc(s->ndevices ? s->ndevices : 1, sizeof(*q->devs));
	if (n < 0 || !q->regions || !q->devs)
		goto err;
	for (i = 0; i < (unsigned int)n; i++) {
		struct iotlb_mem_region r;

		if (iotlb_mem_get_region(s->mem, i, &r))
			goto err;
		q->regions[i] = (struct q_region){ r.gpa, r.size, r.owner_addr, r.local };
	}
	q->nregions = (unsigned int)n;
	q->rta = s->viommu.u.vtd.rta;
	q->haw = s->viommu.u.vtd.haw;
	q->sagaw = s->viommu.u.vtd.sagaw;
	q->caps = s->viommu.u.vtd.caps;
	q->context_cache_gen = 1;
	q->ndevs = s->ndevices;
	q->st.miss_latency = &q->lat;
	for (i = 0; i < s->ndevices; i++) {
		q->devs[i].fd = s->devices[i].fd;
		q->devs[i].sid = s->devices[i].sid;
	}
	/*
	 * vhost_dev_start(): "vhost-kernel code requires" the used rings,
	 * so translate each one as if it had missed.
	 */
	for (i = 0; i < s->ndevices; i++)
		for (k = 0; k < s->devices[i].nrings; k++)
			q_miss(q, &q->devs[i], s->devices[i].rings[k].used, true);
	*ctx = q;
	return 0;
err:
	free(q->regions);
	free(q->devs);
	free(q);
	return -ENOMEM;
}

static int q_get_poll_fd(void *ctx)
{
	return -1;
}

static int q_process(void *ctx, const struct pollfd *pfds)
{
	struct q_svc *q = ctx;
	unsigned int i;

	for (i = 0; i < q->ndevs; i++)
		if ((pfds[i].revents & POLLIN) && !q->devs[i].dead)
			q_drain(q, &q->devs[i]);
	return 0;
}

static int q_unmap(void *ctx, uint16_t did, uint64_t iova, uint64_t size,
		   void (*done)(void *arg), void *arg)
{
	struct q_svc *q = ctx;
	struct iotlb_vmsg inv = {
		.envelope = IOTLB_VMSG_V2,
		.type = IOTLB_VMSG_INVALIDATE,
		.iova = iova,
		.size = size,
	};
	unsigned int i;

	q->st.unmaps++;
	for (i = 0; i < q->ndevs; i++) {
		struct q_dev *d = &q->devs[i];
		uint64_t ce[2];

		if (d->dead || q_context(q, d->sid, ce) || q_ce_did(ce) != did)
			continue;
		if (q_write(q, d, &inv) == 0)
			q->st.invalidates++;
		if (iova < d->last_iova + d->last_size && d->last_iova < iova + size)
			d->last_size = 0;
	}
	done(arg);
	return 0;
}

static void q_stats(void *ctx, struct bench_service_stats *out)
{
	struct q_svc *q = ctx;

	*out = q->st;
}

static void q_fini(void *ctx)
{
	struct q_svc *q = ctx;

	if (!q)
		return;
	free(q->regions);
	free(q->devs);
	free(q);
}

const struct bench_service_ops bench_svc_qemu = {
	.name = "qemu",
	.init = q_init,
	.get_poll_fd = q_get_poll_fd,
	.process = q_process,
	.unmap = q_unmap,
	.stats = q_stats,
	.fini = q_fini,
};
