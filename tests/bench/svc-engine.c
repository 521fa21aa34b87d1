/* SPDX-License-Identifier: MIT */
/*
 * svc-engine: "ours" in the benchmark — the libiotlb engine as a VMM
 * would embed it: one vIOMMU domain per device (the library resolves the
 * VT-d context itself and caches it), one io_uring engine for all
 * devices, the rings mapped ahead, invalidations through the engine with
 * a fence per guest unmap.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "service.h"

struct e_dev {
	struct iotlb_domain *dom;
	struct iotlb_device *dev;
	uint16_t did;
};

struct e_svc {
	struct iotlb_engine *e;
	struct e_dev *devs;
	unsigned int ndevs;		/* attached to the engine */
	unsigned int ndoms;		/* domains created */
	uint64_t unmaps;
	struct bench_hist lat;
};

struct e_unmap {
	unsigned int pending;
	void (*done)(void *arg);
	void *arg;
};

static void e_fini(void *ctx);

static int e_init(void **ctx, const struct bench_setup *s)
{
	struct e_svc *v = calloc(1, sizeof(*v));
	unsigned int i, k;
	int r;

	if (!v)
		return -ENOMEM;
	v->devs = calloc(s->ndevices, sizeof(*v->devs));
	if (!v->devs) {
		free(v);
		return -ENOMEM;
	}
	r = iotlb_engine_new(&v->e, 0);
	if (r)
		goto err;
	for (i = 0; i < s->ndevices; i++) {
		const struct bench_device *bd = &s->devices[i];
		struct e_dev *d = &v->devs[i];

		d->did = bd->did;
		r = iotlb_domain_new_viommu(&d->dom, s->mem, &s->viommu, bd->sid,
					    IOTLB_NO_PASID);
		if (r)
			goto err;
		v->ndoms++;
		if (getenv("BENCH_ANSWER_LIMIT"))
			iotlb_domain_set_answer_limit(d->dom,
				strtoull(getenv("BENCH_ANSWER_LIMIT"), NULL, 0));
		r = iotlb_engine_add_device(v->e, bd->fd, d->dom, 0, &d->dev);
		if (r)
			goto err;
		v->ndevs++;
		if (s->max_iotlb_entries)
			iotlb_device_set_max_entries(d->dev, s->max_iotlb_entries);
		/* Each ring area as one entry, before any miss (§9.6). */
		for (k = 0; k < bd->nrings; k++) {
			const struct bench_ring *rg = &bd->rings[k];

			if (iotlb_device_map(d->dev, rg->desc, 16ULL * rg->num) < 0 ||
			    iotlb_device_map(d->dev, rg->avail, 6ULL + 2ULL * rg->num) < 0 ||
			    iotlb_device_map(d->dev, rg->used, 6ULL + 8ULL * rg->num) < 0) {
				r = -EFAULT;
				goto err;
			}
		}
	}
	*ctx = v;
	return 0;
err:
	e_fini(v);
	return r;
}

static int e_get_poll_fd(void *ctx)
{
	struct e_svc *v = ctx;

	return iotlb_engine_get_fd(v->e);
}

static int e_process(void *ctx, const struct pollfd *pfds)
{
	struct e_svc *v = ctx;
	int r = iotlb_engine_process(v->e);

	return r < 0 ? r : 0;
}

static void e_fence(void *data, int status)
{
	struct e_unmap *u = data;

	if (--u->pending)
		return;
	u->done(u->arg);
	free(u);
}

static int e_unmap(void *ctx, uint16_t did, uint64_t iova, uint64_t size,
		   void (*done)(void *arg), void *arg)
{
	struct e_svc *v = ctx;
	struct e_unmap *u = calloc(1, sizeof(*u));
	unsigned int i;
	int r = 0;

	if (!u)
		return -ENOMEM;
	u->done = done;
	u->arg = arg;
	u->pending = 1;	/* held while the invalidations are issued */
	v->unmaps++;
	for (i = 0; i < v->ndevs; i++) {
		if (v->devs[i].did != did)
			continue;
		u->pending++;
		r = iotlb_engine_invalidate(v->e, v->devs[i].dom, iova, size,
					    e_fence, u);
		if (r) {
			u->pending--;
			break;
		}
	}
	e_fence(u, 0);
	return r;
}

/* Feed the engine's histogram into the harness's, at bucket midpoints. */
static void e_hist(struct bench_hist *h, const struct iotlb_device_stats *ds)
{
	unsigned int b;

	for (b = 0; b < 64; b++) {
		uint64_t n = ds->latency_hist[b], mid;
		unsigned int o, sub;

		if (!n)
			continue;
		if (b == 0) {
			mid = 500;
		} else {
			o = (b - 1) / 4;
			sub = (b - 1) % 4;
			/* [2^o (1 + sub/4), 2^o (1 + (sub+1)/4)) us */
			mid = (1000ULL << o) * (8 + 2 * sub + 1) / 8;
		}
		h->bucket[bench_hist_index(mid)] += (uint32_t)n;
		h->count += n;
	}
	h->sum += ds->latency_ns_sum;
	if (ds->latency_ns_max > h->max)
		h->max = ds->latency_ns_max;
}

static void e_stats(void *ctx, struct bench_service_stats *out)
{
	struct e_svc *v = ctx;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	memset(&v->lat, 0, sizeof(v->lat));
	for (i = 0; i < v->ndevs; i++) {
		struct iotlb_device_stats ds;

		if (iotlb_device_get_stats(v->devs[i].dev, &ds))
			continue;
		out->misses += ds.misses;
		out->misses_dup += ds.misses_dup;
		out->faults += ds.misses_faulted + ds.misses_lost;
		out->reads += ds.misses;	/* one completion per message */
		out->updates += ds.updates;
		out->update_bytes += ds.update_bytes;
		out->invalidates += ds.invalidates;
		out->write_errors += ds.write_errors;
		e_hist(&v->lat, &ds);
	}
	out->unmaps = v->unmaps;
	out->miss_latency = &v->lat;
}

static void e_fini(void *ctx)
{
	struct e_svc *v = ctx;
	unsigned int i;

	if (!v)
		return;
	iotlb_engine_free(v->e);
	for (i = 0; i < v->ndoms; i++)
		iotlb_domain_unref(v->devs[i].dom);
	free(v->devs);
	free(v);
}

const struct bench_service_ops bench_svc_engine = {
	.name = "ours",
	.init = e_init,
	.get_poll_fd = e_get_poll_fd,
	.process = e_process,
	.unmap = e_unmap,
	.stats = e_stats,
	.fini = e_fini,
};
