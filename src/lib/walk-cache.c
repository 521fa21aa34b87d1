/* SPDX-License-Identifier: MIT */
/*
 * Paging-structure cache: set-associative (8 ways), second-chance (CLOCK)
 * replacement inside a set, bounded at creation.  Never flushed wholesale
 * when full, unlike QEMU's vtd IOTLB (prior-art.md §A.3): a full set just
 * gives up its least recently referenced way.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb-internal.h"
#include "walk.h"

#define WAYS 8

struct cache_ent {
	uint64_t tag, span, table;
	uint32_t perm;
	uint8_t stage, level;
	bool valid, ref;
};

struct iotlb__walk_cache {
	struct cache_ent *e;
	uint32_t nsets;
	uint8_t *hand;		/* CLOCK hand per set */
	struct iotlb__walk_cache_stats st;
};

static uint32_t cache_set(const struct iotlb__walk_cache *c, uint32_t stage,
			  uint32_t level, uint64_t tag)
{
	uint64_t h = tag ^ ((uint64_t)level << 56) ^ ((uint64_t)stage << 62);

	h *= 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(h >> 32) & (c->nsets - 1);
}

int iotlb__walk_cache_new(struct iotlb__walk_cache **out, uint32_t entries)
{
	struct iotlb__walk_cache *c;
	uint32_t sets = 1;

	if (!out || entries < WAYS || entries > (1U << 24))
		return -EINVAL;
	while (sets * WAYS * 2 <= entries)
		sets *= 2;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->e = calloc((size_t)sets * WAYS, sizeof(*c->e));
	c->hand = calloc(sets, 1);
	if (!c->e || !c->hand) {
		iotlb__walk_cache_free(c);
		return -ENOMEM;
	}
	c->nsets = sets;
	c->st.capacity = sets * WAYS;
	*out = c;
	return 0;
}

void iotlb__walk_cache_free(struct iotlb__walk_cache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->hand);
	free(c);
}

static int cache_lookup(void *ctx, uint32_t stage, uint32_t level,
			uint64_t tag, uint64_t *table, uint32_t *perm)
{
	struct iotlb__walk_cache *c = ctx;
	struct cache_ent *set = &c->e[(size_t)cache_set(c, stage, level, tag) * WAYS];
	unsigned int w;

	for (w = 0; w < WAYS; w++) {
		struct cache_ent *e = &set[w];

		if (e->valid && e->tag == tag && e->level == level &&
		    e->stage == stage) {
			e->ref = true;
			*table = e->table;
			*perm = e->perm;
			if (level < IOTLB_WALK_TRACE_MAX)
				c->st.hits[level]++;
			return 1;
		}
	}
	c->st.misses++;
	return 0;
}

static void cache_insert(void *ctx, uint32_t stage, uint32_t level,
			 uint64_t tag, uint64_t span, uint64_t table,
			 uint32_t perm)
{
	struct iotlb__walk_cache *c = ctx;
	uint32_t si = cache_set(c, stage, level, tag);
	struct cache_ent *set = &c->e[(size_t)si * WAYS], *victim = NULL;
	unsigned int w;

	for (w = 0; w < WAYS; w++) {
		if (set[w].valid && set[w].tag == tag && set[w].level == level &&
		    set[w].stage == stage) {
			victim = &set[w];	/* refresh in place */
			break;
		}
		if (!set[w].valid && !victim)
			victim = &set[w];
	}
	if (!victim) {
		/* Second chance: clear ref bits until one way has none. */
		for (;;) {
			struct cache_ent *e = &set[c->hand[si]];

			c->hand[si] = (uint8_t)((c->hand[si] + 1) % WAYS);
			if (!e->ref) {
				victim = e;
				break;
			}
			e->ref = false;
		}
		c->st.evictions++;
		c->st.entries--;
	}
	if (!victim->valid || victim->tag != tag || victim->level != level ||
	    victim->stage != stage)
		c->st.entries++;
	victim->valid = true;
	victim->ref = true;
	victim->tag = tag;
	victim->span = span;
	victim->table = table;
	victim->perm = perm;
	victim->stage = (uint8_t)stage;
	victim->level = (uint8_t)level;
	c->st.inserts++;
}

void iotlb__walk_cache_pwc(struct iotlb__walk_cache *c,
			   struct iotlb_walk_pwc *pwc)
{
	pwc->lookup = cache_lookup;
	pwc->insert = cache_insert;
	pwc->ctx = c;
}

void iotlb__walk_cache_invalidate(struct iotlb__walk_cache *c, uint64_t iova,
				  uint64_t size)
{
	uint64_t last = iova + (size - 1);
	size_t i, n = (size_t)c->nsets * WAYS;

	if (!size || !c->st.entries)
		return;
	for (i = 0; i < n; i++) {
		struct cache_ent *e = &c->e[i];

		if (!e->valid)
			continue;
		if (e->stage == 2 ||
		    (e->tag <= last && e->tag + (e->span - 1) >= iova)) {
			e->valid = false;
			c->st.entries--;
		}
	}
}

void iotlb__walk_cache_flush(struct iotlb__walk_cache *c)
{
	memset(c->e, 0, (size_t)c->nsets * WAYS * sizeof(*c->e));
	c->st.entries = 0;
}

void iotlb__walk_cache_stats(const struct iotlb__walk_cache *c,
			     struct iotlb__walk_cache_stats *out)
{
	*out = c->st;
}
