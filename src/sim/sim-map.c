/* SPDX-License-Identifier: MIT */
/*
 * The plain map-table guest oracle: non-overlapping intervals
 * iova -> owner address with a grant, sorted by iova.  Setting a range
 * replaces what was there; clearing splits intervals it cuts.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct map_ent {
	uint64_t start, last, uaddr;
	uint32_t perm;
};

struct iotlb_sim_map {
	struct map_ent *e;
	size_t n, alloc;
};

int iotlb_sim_map_new(struct iotlb_sim_map **out)
{
	struct iotlb_sim_map *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*out = m;
	return 0;
}

void iotlb_sim_map_free(struct iotlb_sim_map *map)
{
	if (!map)
		return;
	free(map->e);
	free(map);
}

size_t iotlb_sim_map_count(const struct iotlb_sim_map *map)
{
	return map->n;
}

/* First index whose interval ends at or after addr. */
static size_t map_first(const struct iotlb_sim_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->e[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int map_reserve(struct iotlb_sim_map *m, size_t extra)
{
	if (m->n + extra > m->alloc) {
		size_t na = m->alloc ? m->alloc * 2 : 64;
		struct map_ent *p;

		while (na < m->n + extra)
			na *= 2;
		p = realloc(m->e, na * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->e = p;
		m->alloc = na;
	}
	return 0;
}

int iotlb_sim_map_clear(struct iotlb_sim_map *map, uint64_t iova,
			uint64_t size)
{
	uint64_t last;
	size_t i, j;

	if (!size || size - 1 > UINT64_MAX - iova)
		return -EINVAL;
	last = iova + size - 1;
	if (map_reserve(map, 1))
		return -ENOMEM;
	i = map_first(map, iova);
	if (i < map->n && map->e[i].start < iova && map->e[i].last > last) {
		/* Cut a hole in the middle of one interval: split it. */
		struct map_ent tail = map->e[i];

		tail.uaddr += last + 1 - tail.start;
		tail.start = last + 1;
		map->e[i].last = iova - 1;
		memmove(&map->e[i + 2], &map->e[i + 1],
			(map->n - i - 1) * sizeof(*map->e));
		map->e[i + 1] = tail;
		map->n++;
		return 0;
	}
	if (i < map->n && map->e[i].start < iova) {
		map->e[i].last = iova - 1;
		i++;
	}
	for (j = i; j < map->n && map->e[j].last <= last; j++)
		;
	/* [i, j) are wholly inside; j may start inside. */
	if (j < map->n && map->e[j].start <= last) {
		map->e[j].uaddr += last + 1 - map->e[j].start;
		map->e[j].start = last + 1;
	}
	memmove(&map->e[i], &map->e[j], (map->n - j) * sizeof(*map->e));
	map->n -= j - i;
	return 0;
}

int iotlb_sim_map_set(struct iotlb_sim_map *map, uint64_t iova, uint64_t size,
		      uint64_t uaddr, uint32_t perm)
{
	size_t i;
	int r;

	r = iotlb_sim_map_clear(map, iova, size);
	if (r)
		return r;
	if (map_reserve(map, 1))
		return -ENOMEM;
	i = map_first(map, iova);
	memmove(&map->e[i + 1], &map->e[i], (map->n - i) * sizeof(*map->e));
	map->e[i].start = iova;
	map->e[i].last = iova + size - 1;
	map->e[i].uaddr = uaddr;
	map->e[i].perm = perm;
	map->n++;
	return 0;
}

int iotlb_sim_map_lookup(void *ctx, uint64_t iova, uint64_t *uaddr,
			 uint32_t *perm, uint64_t *len)
{
	struct iotlb_sim_map *m = ctx;
	size_t i = map_first(m, iova);

	if (i >= m->n || m->e[i].start > iova)
		return -ENOENT;
	*uaddr = m->e[i].uaddr + (iova - m->e[i].start);
	*perm = m->e[i].perm;
	/* Saturates at 2^64 - 1 for an interval reaching the top. */
	*len = m->e[i].last - iova + 1 ? m->e[i].last - iova + 1 : UINT64_MAX;
	return 0;
}

void iotlb_sim_oracle_from_map(struct iotlb_sim_oracle *o,
			       struct iotlb_sim_map *map)
{
	o->lookup = iotlb_sim_map_lookup;
	o->ctx = map;
}
