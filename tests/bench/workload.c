/* SPDX-License-Identifier: MIT */
/*
 * Guest side of the bench-engine workloads (see workload.h): memory
 * layout, VT-d tables, oracles and buffer generators.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pt-vtd.h"
#include "sim.h"
#include "vhost-msg.h"
#include "workload.h"

#define PAGE 4096ULL
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

const struct bench_ram_region bench_ram[BENCH_RAM_REGIONS] = {
	{ 0, 0xa0000, 0 },			/* low RAM, below the VGA hole */
	{ 1 * MIB, 2 * GIB - 1 * MIB, 1 * MIB },	/* RAM below the PCI hole */
	{ 4 * GIB, 2 * GIB, 2 * GIB },		/* RAM above 4 GiB */
};

/* Region 1: the guest's IOMMU tables, then its vrings. */
#define TABLES_GPA (16 * MIB)
#define TABLES_SIZE (96 * MIB)
#define RINGS_GPA (128 * MIB)
#define RING_BYTES (3 * PAGE)		/* desc, avail, used: a page each */
#define DEV_RING_BYTES (BENCH_RINGS_PER_DEV * RING_BYTES)
/* Region 2: DMA memory. */
#define STATIC_POOL_GPA (4 * GIB)
#define CHURN_POOL_GPA (4 * GIB + 256 * MIB)

/* static: mbufs of a DPDK mempool; header in the headroom before data */
#define MBUF_STRIDE 2304ULL
#define MBUF_HDR_OFF 116ULL
#define MBUF_DATA_OFF 128ULL
#define NET_HDR 12U
#define MIN_FRAME 64U
#define MAX_FRAME 1500U

/* churn: each device's domain, Linux-like IOVAs below 4 GiB */
#define CHURN_RING_IOVA 0xfff00000ULL
#define CHURN_IOVA_TOP 0xe0000000ULL
#define CHURN_IOVA_RING_GAP 0x10000000ULL

struct iova_lifo {
	uint64_t *v;
	size_t n, alloc;
};

/* A ring's IOVA allocator: top-down, size-aligned, freed IOVAs reused LIFO. */
struct iova_alloc {
	uint64_t top;
	struct iova_lifo free[2];	/* one page, two pages */
};

struct gdev {
	struct pt_vtd_table *table;
	struct iotlb_sim_map *map;
	uint64_t rng[BENCH_RINGS_PER_DEV];
	struct iova_alloc ia[BENCH_RINGS_PER_DEV];
};

struct bench_guest {
	struct bench_wl_config cfg;
	struct pt_vtd_builder b;
	uint64_t rta;
	struct pt_vtd_table *tables;	/* static: one; churn: one per device */
	struct iotlb_sim_map **maps;
	unsigned int ntables;
	struct gdev *dev;
};

const char *bench_wl_name(enum bench_wl_kind kind)
{
	return kind == BENCH_WL_STATIC ? "static" :
	       kind == BENCH_WL_CHURN ? "churn" : "?";
}

uint16_t bench_wl_sid(unsigned int dev)
{
	/* Bus 1 upwards, every devfn used. */
	return (uint16_t)(((1 + dev / 256) << 8) | (dev % 256));
}

uint16_t bench_wl_did(const struct bench_wl_config *c, unsigned int dev)
{
	return c->kind == BENCH_WL_STATIC ? 1 : (uint16_t)(dev + 1);
}

static uint64_t ring_gpa(unsigned int dev, unsigned int ring)
{
	return RINGS_GPA + dev * DEV_RING_BYTES + ring * RING_BYTES;
}

void bench_wl_ring(const struct bench_wl_config *c, unsigned int dev,
		   unsigned int ring, struct iotlb_sim_ring_config *out)
{
	uint64_t base = c->kind == BENCH_WL_STATIC ? ring_gpa(dev, ring) :
			CHURN_RING_IOVA + ring * RING_BYTES;

	out->desc = base;
	out->avail = base + PAGE;
	out->used = base + 2 * PAGE;
	out->num = BENCH_RING_NUM;
}

uint64_t bench_wl_owner_addr(uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < BENCH_RAM_REGIONS; i++)
		if (gpa >= bench_ram[i].gpa && gpa - bench_ram[i].gpa < bench_ram[i].size)
			return BENCH_OWNER_BASE + bench_ram[i].offset +
			       (gpa - bench_ram[i].gpa);
	return 0;
}

static int lifo_push(struct iova_lifo *l, uint64_t v)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? 2 * l->alloc : 16;
		uint64_t *p = realloc(l->v, na * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->alloc = na;
	}
	l->v[l->n++] = v;
	return 0;
}

static uint64_t iova_get(struct iova_alloc *ia, unsigned int pages)
{
	struct iova_lifo *l = &ia->free[pages - 1];
	uint64_t size = pages * PAGE;

	if (l->n)
		return l->v[--l->n];
	ia->top = (ia->top - size) & ~(size - 1);
	return ia->top;
}

/* Smallest naturally aligned power of two covering [start, last]. */
static void psi_range(uint64_t start, uint64_t last, uint64_t *iova,
		      uint64_t *size)
{
	unsigned int shift = 12;

	while (shift < 63 && (start >> shift) != (last >> shift))
		shift++;
	*size = 1ULL << shift;
	*iova = start & ~(*size - 1);
}

static int context_for(struct bench_guest *g, unsigned int dev,
		       const struct pt_vtd_table *t)
{
	uint16_t sid = bench_wl_sid(dev);
	struct pt_vtd_context ce = {
		.tt = 1,	/* second-level translation, device TLB (ATS) */
		.aw = 2,	/* 48 bits, 4 levels */
		.did = bench_wl_did(&g->cfg, dev),
		.slptptr = t->root,
	};

	return pt_vtd_legacy_context(&g->b, g->rta, (uint8_t)(sid >> 8),
				     (uint8_t)sid, &ce);
}

int bench_guest_new(struct bench_guest **out, const struct bench_wl_config *c,
		    void *ram)
{
	struct bench_guest *g;
	unsigned int d, r, i;
	int err;

	if (!c->devices || c->devices > BENCH_MAX_DEVICES || !c->depth)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->cfg = *c;
	g->ntables = c->kind == BENCH_WL_STATIC ? 1 : c->devices;
	g->tables = calloc(g->ntables, sizeof(*g->tables));
	g->maps = calloc(g->ntables, sizeof(*g->maps));
	g->dev = calloc(c->devices, sizeof(*g->dev));
	err = -ENOMEM;
	if (!g->tables || !g->maps || !g->dev)
		goto err;
	/* Region 1 starts at file offset == gpa, so ram + gpa is its view. */
	err = pt_vtd_init(&g->b, (uint8_t *)ram + TABLES_GPA, TABLES_GPA,
			  TABLES_SIZE, BENCH_VTD_HAW);
	if (!err)
		err = pt_vtd_root_new(&g->b, &g->rta);
	for (i = 0; !err && i < g->ntables; i++) {
		err = pt_vtd_table_new(&g->b, &g->tables[i], PT_VTD_SECOND_LEVEL, 4);
		if (!err)
			err = iotlb_sim_map_new(&g->maps[i]);
	}
	if (err)
		goto err;

	if (c->kind == BENCH_WL_STATIC) {
		/* Everything once, identity, 4 KiB pages, read-write. */
		uint64_t rings = c->devices * DEV_RING_BYTES;

		err = pt_vtd_map(&g->b, &g->tables[0], STATIC_POOL_GPA, STATIC_POOL_GPA,
				 BENCH_POOL_SIZE, PAGE, PT_VTD_R | PT_VTD_W);
		if (!err)
			err = pt_vtd_map(&g->b, &g->tables[0], RINGS_GPA, RINGS_GPA,
					 rings, PAGE, PT_VTD_R | PT_VTD_W);
		if (!err)
			err = iotlb_sim_map_set(g->maps[0], STATIC_POOL_GPA, BENCH_POOL_SIZE,
						bench_wl_owner_addr(STATIC_POOL_GPA),
						IOTLB_VMSG_PERM_RW);
		if (!err)
			err = iotlb_sim_map_set(g->maps[0], RINGS_GPA, rings,
						bench_wl_owner_addr(RINGS_GPA),
						IOTLB_VMSG_PERM_RW);
		if (err)
			goto err;
	}

	for (d = 0; d < c->devices; d++) {
		struct gdev *gd = &g->dev[d];
		unsigned int t = c->kind == BENCH_WL_STATIC ? 0 : d;

		gd->table = &g->tables[t];
		gd->map = g->maps[t];
		for (r = 0; r < BENCH_RINGS_PER_DEV; r++) {
			gd->rng[r] = c->seed ^ (0x9e3779b97f4a7c15ULL *
						(d * BENCH_RINGS_PER_DEV + r + 1));
			iotlb_sim_rand(&gd->rng[r]);
			gd->ia[r].top = CHURN_IOVA_TOP - r * CHURN_IOVA_RING_GAP;
		}
		if (c->kind == BENCH_WL_CHURN) {
			/* The vrings: coherent memory, mapped for the device's life. */
			err = pt_vtd_map(&g->b, gd->table, CHURN_RING_IOVA, ring_gpa(d, 0),
					 DEV_RING_BYTES, PAGE, PT_VTD_R | PT_VTD_W);
			if (!err)
				err = iotlb_sim_map_set(gd->map, CHURN_RING_IOVA, DEV_RING_BYTES,
							bench_wl_owner_addr(ring_gpa(d, 0)),
							IOTLB_VMSG_PERM_RW);
		}
		if (!err)
			err = context_for(g, d, gd->table);
		if (err)
			goto err;
	}
	*out = g;
	return 0;
err:
	bench_guest_free(g);
	return err;
}

void bench_guest_free(struct bench_guest *g)
{
	unsigned int i, r;

	if (!g)
		return;
	for (i = 0; g->dev && i < g->cfg.devices; i++)
		for (r = 0; r < BENCH_RINGS_PER_DEV; r++) {
			free(g->dev[i].ia[r].free[0].v);
			free(g->dev[i].ia[r].free[1].v);
		}
	for (i = 0; i < g->ntables; i++) {
		if (g->tables)
			pt_vtd_table_free(&g->tables[i]);
		if (g->maps)
			iotlb_sim_map_free(g->maps[i]);
	}
	free(g->tables);
	free(g->maps);
	free(g->dev);
	free(g);
}

uint64_t bench_guest_rta(const struct bench_guest *g)
{
	return g->rta;
}

void bench_guest_oracle(struct bench_guest *g, unsigned int dev,
			struct iotlb_sim_oracle *out)
{
	iotlb_sim_oracle_from_map(out, g->dev[dev].map);
}

static uint64_t rnd(uint64_t *state, uint64_t n)
{
	return iotlb_sim_rand(state) % n;
}

int bench_guest_io_begin(struct bench_guest *g, unsigned int dev,
			 unsigned int ring, struct bench_io *io)
{
	struct gdev *gd = &g->dev[dev];
	uint64_t *rng = &gd->rng[ring];
	uint8_t acc = ring == 0 ? IOTLB_VMSG_PERM_WO : IOTLB_VMSG_PERM_RO;
	uint32_t len;
	uint64_t gpa, first, last, iova;
	unsigned int pages;
	int err;

	memset(io, 0, sizeof(*io));
	io->nbufs = 2;
	if (g->cfg.kind == BENCH_WL_STATIC) {
		uint64_t mbuf = STATIC_POOL_GPA +
				rnd(rng, BENCH_POOL_SIZE / MBUF_STRIDE) * MBUF_STRIDE;

		len = MIN_FRAME + (uint32_t)rnd(rng, MAX_FRAME - MIN_FRAME + 1);
		io->buf[0] = (struct iotlb_sim_buf){ mbuf + MBUF_HDR_OFF, NET_HDR, acc };
		io->buf[1] = (struct iotlb_sim_buf){ mbuf + MBUF_DATA_OFF, len, acc };
		return 0;
	}

	/* churn: a fresh buffer, mapped page-granular for this one use */
	gpa = CHURN_POOL_GPA + (rnd(rng, BENCH_POOL_SIZE - 2 * PAGE) & ~63ULL);
	len = MIN_FRAME + (uint32_t)rnd(rng, MAX_FRAME - MIN_FRAME + 1);
	first = gpa & ~(PAGE - 1);
	last = (gpa + NET_HDR + len - 1) & ~(PAGE - 1);
	pages = (unsigned int)((last - first) / PAGE) + 1;
	io->map_iova = iova_get(&gd->ia[ring], pages);
	io->map_size = pages * PAGE;
	psi_range(io->map_iova, io->map_iova + io->map_size - 1,
		  &io->inv_iova, &io->inv_size);
	/* DMA_FROM_DEVICE grants write only, DMA_TO_DEVICE read only. */
	err = pt_vtd_map(&g->b, gd->table, io->map_iova, first, io->map_size, PAGE,
			 ring == 0 ? PT_VTD_W : PT_VTD_R);
	if (!err)
		err = iotlb_sim_map_set(gd->map, io->map_iova, io->map_size,
					bench_wl_owner_addr(first), acc);
	if (err)
		return err;
	iova = io->map_iova + (gpa & (PAGE - 1));
	io->buf[0] = (struct iotlb_sim_buf){ iova, NET_HDR, acc };
	io->buf[1] = (struct iotlb_sim_buf){ iova + NET_HDR, len, acc };
	return 0;
}

int bench_guest_io_end(struct bench_guest *g, unsigned int dev,
		       const struct bench_io *io)
{
	struct gdev *gd = &g->dev[dev];
	int err;

	if (g->cfg.kind == BENCH_WL_STATIC)
		return 0;
	err = pt_vtd_unmap(&g->b, gd->table, io->map_iova, io->map_size);
	if (!err)
		err = iotlb_sim_map_clear(gd->map, io->map_iova, io->map_size);
	return err;
}

void bench_guest_io_release(struct bench_guest *g, unsigned int dev,
			    unsigned int ring, const struct bench_io *io)
{
	struct iova_alloc *ia = &g->dev[dev].ia[ring];

	if (g->cfg.kind == BENCH_WL_STATIC)
		return;
	/* On allocation failure the IOVA leaks; the allocator moves down. */
	lifo_push(&ia->free[io->map_size / PAGE - 1], io->map_iova);
}
