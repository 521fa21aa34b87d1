/* SPDX-License-Identifier: MIT */
/*
 * Builder of Arm SMMUv3 structures and VMSAv8-64 translation tables
 * (SMMU IHI 0070 ch. 5, Arm ARM D8.2 / D8.3), independent of the walker.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pt-arm.h"

/* Bits [47:12] of an address field, as every descriptor holds them. */
#define ADDR_47_12 0x0000fffffffff000ULL

static uint64_t lo_bits(unsigned int n)
{
	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

void pt_arm_init(struct pt_arm_builder *b, void *base, uint64_t gpa_base,
		 uint64_t size)
{
	b->base = base;
	b->gpa_base = gpa_base;
	b->size = size;
	b->next = 0;
}

int pt_arm_alloc(struct pt_arm_builder *b, uint64_t size, uint64_t align,
		 uint64_t *addr)
{
	uint64_t a, off;

	if (!size || !align || (align & (align - 1)))
		return -EINVAL;
	/* Align the address the tables see, not the pool offset. */
	a = (b->gpa_base + b->next + align - 1) & ~(align - 1);
	off = a - b->gpa_base;
	if (off > b->size || size > b->size - off)
		return -ENOMEM;
	memset(b->base + off, 0, size);
	b->next = off + size;
	*addr = a;
	return 0;
}

static uint8_t *pt_local(const struct pt_arm_builder *b, uint64_t addr,
			 uint64_t len)
{
	uint64_t off = addr - b->gpa_base;

	if (addr < b->gpa_base || off > b->size || len > b->size - off)
		return NULL;
	return b->base + off;
}

int pt_arm_read64(const struct pt_arm_builder *b, uint64_t addr, uint64_t *val)
{
	const uint8_t *p = pt_local(b, addr, 8);
	uint64_t v = 0;
	int i;

	if (!p)
		return -EFAULT;
	for (i = 7; i >= 0; i--)	/* tables are little-endian */
		v = (v << 8) | p[i];
	*val = v;
	return 0;
}

int pt_arm_write64(struct pt_arm_builder *b, uint64_t addr, uint64_t val)
{
	uint8_t *p = pt_local(b, addr, 8);
	int i;

	if (!p)
		return -EFAULT;
	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(val >> (8 * i));
	return 0;
}

int pt_arm_write_struct(struct pt_arm_builder *b, uint64_t addr,
			const uint64_t v[8])
{
	int i, r;

	for (i = 0; i < 8; i++) {
		r = pt_arm_write64(b, addr + 8 * (uint64_t)i, v[i]);
		if (r)
			return r;
	}
	return 0;
}

/* --- translation tables --- */

/* Log2 of the region one entry at `level` maps. */
static unsigned int entry_shift(unsigned int granule, int level)
{
	return granule + (granule - 3) * (unsigned int)(3 - level);
}

/* Next-level table or output address as a descriptor holds it. */
static uint64_t addr_enc(unsigned int granule, uint64_t a)
{
	uint64_t v = a & ADDR_47_12 & ~lo_bits(granule);

	if (granule == 16)	/* 52-bit addresses: OA[51:48] in [15:12] */
		v |= ((a >> 48) & 0xf) << 12;
	return v;
}

static uint64_t addr_dec(unsigned int granule, uint64_t d)
{
	uint64_t a = d & ADDR_47_12 & ~lo_bits(granule);

	if (granule == 16)
		a |= ((d >> 12) & 0xf) << 48;
	return a;
}

int pt_arm_tt_new(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		  unsigned int stage, unsigned int granule, unsigned int ia,
		  int sl)
{
	uint64_t bytes;
	unsigned int bits;

	if ((granule != 12 && granule != 14 && granule != 16) ||
	    (stage != 1 && stage != 2) || ia <= granule || ia > 52)
		return -EINVAL;
	if (stage == 1) {
		/* The first level, from the bottom, whose table covers ia. */
		sl = 3;
		while (sl > 0 && ia > entry_shift(granule, sl) + granule - 3)
			sl--;
	}
	if (sl < 0 || sl > 3 || ia <= entry_shift(granule, sl))
		return -EINVAL;
	bits = ia - entry_shift(granule, sl);
	/* Stage 2 may concatenate up to 16 initial tables (ARM D8.2.2). */
	if (bits > granule - 3 + (stage == 2 ? 4 : 0))
		return -EINVAL;
	bytes = 8ULL << bits;
	memset(tt, 0, sizeof(*tt));
	tt->granule = granule;
	tt->ia = ia;
	tt->sl = sl;
	tt->stage = stage;
	return pt_arm_alloc(b, bytes, bytes < 64 ? 64 : bytes, &tt->root);
}

int pt_arm_entry(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		 uint64_t iova, int level, bool create, uint64_t *addr)
{
	uint64_t table = tt->root, a, d;
	unsigned int g = tt->granule, n;
	int l, r;

	if (tt->upper) {
		/* ARM D8.2.4: the upper range has every bit above ia set. */
		if (~iova >> tt->ia)
			return -EINVAL;
		iova &= lo_bits(tt->ia);
	}
	if (level < tt->sl || level > 3 || (iova >> tt->ia))
		return -EINVAL;
	for (l = tt->sl;; l++) {
		n = l == tt->sl ? tt->ia - entry_shift(g, l) : g - 3;
		a = table + ((iova >> entry_shift(g, l)) & lo_bits(n)) * 8;
		if (l == level) {
			*addr = a;
			return 0;
		}
		r = pt_arm_read64(b, a, &d);
		if (r)
			return r;
		if (!(d & 1)) {
			if (!create)
				return -ENOENT;
			r = pt_arm_alloc(b, 1ULL << g, 1ULL << g, &table);
			if (r)
				return r;
			r = pt_arm_write64(b, a, addr_enc(g, table) | 3);
			if (r)
				return r;
			continue;
		}
		if (!(d & 2))	/* a block is in the way */
			return -EEXIST;
		table = addr_dec(g, d);
	}
}

static int leaf_level(const struct pt_arm_tt *tt, unsigned int shift)
{
	int l;

	for (l = 3; l >= tt->sl && l >= 1; l--)
		if (entry_shift(tt->granule, l) == shift)
			return l;
	return -1;
}

static struct pt_arm_rec *rec_find(struct pt_arm_tt *tt, uint64_t iova,
				   uint64_t size)
{
	unsigned int i;

	for (i = 0; i < tt->nrec; i++)
		if (tt->rec[i].iova == iova && tt->rec[i].size == size)
			return &tt->rec[i];
	return NULL;
}

int pt_arm_map(struct pt_arm_builder *b, struct pt_arm_tt *tt, uint64_t iova,
	       uint64_t oa, uint64_t size, unsigned int shift, uint64_t attr)
{
	int level = leaf_level(tt, shift);
	uint64_t leaf = 1ULL << shift, off, a, d;
	int r;

	if (level < 0 || !size || ((iova | oa | size) & (leaf - 1)) ||
	    (attr & ~(0x7ffULL << 53 | 0x3ffULL << 2)))
		return -EINVAL;
	if (tt->rec && tt->nrec >= tt->maxrec)
		return -ENOSPC;
	for (off = 0; off < size; off += leaf) {
		r = pt_arm_entry(b, tt, iova + off, level, true, &a);
		if (r)
			return r;
		r = pt_arm_read64(b, a, &d);
		if (r)
			return r;
		if (d & 1)
			return -EEXIST;
		d = addr_enc(tt->granule, oa + off) | attr | 1;
		if (level == 3)
			d |= 2;		/* page descriptor */
		r = pt_arm_write64(b, a, d);
		if (r)
			return r;
	}
	if (tt->rec)
		tt->rec[tt->nrec++] = (struct pt_arm_rec){
			.iova = iova, .size = size, .oa = oa, .attr = attr,
			.shift = shift,
		};
	return 0;
}

/* Rewrite (or clear, when clear is set) every leaf of one record. */
static int leaves_update(struct pt_arm_builder *b, struct pt_arm_tt *tt,
			 struct pt_arm_rec *rec, bool clear, uint64_t attr)
{
	uint64_t off, a, d;
	int level = leaf_level(tt, rec->shift), r;

	for (off = 0; off < rec->size; off += 1ULL << rec->shift) {
		r = pt_arm_entry(b, tt, rec->iova + off, level, false, &a);
		if (r)
			return r;
		r = pt_arm_read64(b, a, &d);
		if (r)
			return r;
		d = clear ? 0 : (d & ~(0x7ffULL << 53 | 0x3ffULL << 2)) | attr;
		r = pt_arm_write64(b, a, d);
		if (r)
			return r;
	}
	return 0;
}

int pt_arm_unmap(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		 uint64_t iova, uint64_t size)
{
	struct pt_arm_rec *rec;
	int r;

	if (!tt->rec)
		return -EINVAL;
	rec = rec_find(tt, iova, size);
	if (!rec)
		return -ENOENT;
	r = leaves_update(b, tt, rec, true, 0);
	if (r)
		return r;
	*rec = tt->rec[--tt->nrec];
	return 0;
}

int pt_arm_protect(struct pt_arm_builder *b, struct pt_arm_tt *tt,
		   uint64_t iova, uint64_t size, uint64_t attr)
{
	struct pt_arm_rec *rec;
	int r;

	if (!tt->rec || (attr & ~(0x7ffULL << 53 | 0x3ffULL << 2)))
		return -EINVAL;
	rec = rec_find(tt, iova, size);
	if (!rec)
		return -ENOENT;
	r = leaves_update(b, tt, rec, false, attr);
	if (r)
		return r;
	rec->attr = attr;
	return 0;
}

const struct pt_arm_rec *pt_arm_lookup(const struct pt_arm_tt *tt,
				       uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < tt->nrec; i++)
		if (iova - tt->rec[i].iova < tt->rec[i].size)
			return &tt->rec[i];
	return NULL;
}

/* --- stream table --- */

int pt_arm_strtab_new(struct pt_arm_builder *b, struct pt_arm_strtab *st,
		      unsigned int log2size, bool two_level, unsigned int split)
{
	uint64_t bytes, addr;
	int r;

	if (log2size > 32 || (two_level && split != 6 && split != 8 &&
			      split != 10))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->log2size = log2size;
	st->two_level = two_level;
	if (two_level) {
		st->split = split;
		bytes = 8ULL << (log2size > split ? log2size - split : 0);
	} else {
		bytes = 64ULL << log2size;
	}
	r = pt_arm_alloc(b, bytes, bytes < 64 ? 64 : bytes, &addr);
	if (r)
		return r;
	st->base = addr;
	/* SMMU_STRTAB_BASE_CFG: LOG2SIZE [5:0], SPLIT [10:6], FMT [17:16]. */
	st->cfg = log2size | (two_level ? (split << 6) | (1U << 16) : 0);
	return 0;
}

int pt_arm_ste_addr(struct pt_arm_builder *b, const struct pt_arm_strtab *st,
		    uint32_t sid, uint64_t *addr)
{
	uint64_t l1, d, l2, bytes;
	int r;

	if (st->log2size < 32 && (sid >> st->log2size))
		return -EINVAL;
	if (!st->two_level) {
		*addr = st->base + (uint64_t)sid * 64;
		return 0;
	}
	l1 = st->base + (uint64_t)(sid >> st->split) * 8;
	r = pt_arm_read64(b, l1, &d);
	if (r)
		return r;
	if (!(d & 0x1f)) {
		/* A full level-2 table: Span = SPLIT + 1 (SMMU 5.1). */
		bytes = 64ULL << st->split;
		r = pt_arm_alloc(b, bytes, bytes, &l2);
		if (r)
			return r;
		d = l2 | (st->split + 1);
		r = pt_arm_write64(b, l1, d);
		if (r)
			return r;
	}
	l2 = d & 0x00ffffffffffffc0ULL;
	*addr = l2 + (uint64_t)(sid & lo_bits(st->split)) * 64;
	return 0;
}

/* Granule size to STE.S2TG / CD.TG0 encoding: 4K 0, 64K 1, 16K 2. */
static uint64_t tg0_enc(unsigned int granule)
{
	return granule == 16 ? 1 : granule == 14 ? 2 : 0;
}

void pt_arm_ste_encode(const struct pt_arm_ste *s, uint64_t out[8])
{
	memset(out, 0, 8 * sizeof(*out));
	out[0] = (s->valid ? 1 : 0) | (uint64_t)(s->config & 7) << 1 |
		 (uint64_t)(s->s1fmt & 3) << 4 |
		 (s->s1ctxptr & 0x00ffffffffffffc0ULL) |
		 (uint64_t)(s->s1cdmax & 0x1f) << 59;
	out[1] = (uint64_t)(s->s1dss & 3) | (uint64_t)(s->privcfg & 3) << 48;
	out[2] = s->vmid | (uint64_t)(s->s2t0sz & 0x3f) << 32 |
		 (uint64_t)(s->s2sl0 & 3) << 38 |
		 tg0_enc(s->s2tg_granule) << 46 | (uint64_t)(s->s2ps & 7) << 48 |
		 (s->s2aa64 ? 1ULL << 51 : 0) | (s->s2affd ? 1ULL << 53 : 0) |
		 (s->s2ha ? 1ULL << 56 : 0);
	out[3] = s->s2ttb & 0x000ffffffffffff0ULL;
}

void pt_arm_ste_set_s2(struct pt_arm_ste *s, const struct pt_arm_tt *tt,
		       unsigned int ps_enc)
{
	/* VTCR_EL2.SL0 encodings (ARM D8.2.8.2, D8.2.9.2, D8.2.10.2). */
	static const unsigned int sl0_4k[4] = { 2, 1, 0, 3 };
	static const unsigned int sl0_big[4] = { 3, 2, 1, 0 };

	s->s2t0sz = 64 - tt->ia;
	s->s2sl0 = tt->granule == 12 ? sl0_4k[tt->sl] : sl0_big[tt->sl];
	s->s2tg_granule = tt->granule;
	s->s2ps = ps_enc;
	s->s2aa64 = true;
	s->s2ttb = tt->root;
}

/* --- context descriptors --- */

int pt_arm_cdtab_new(struct pt_arm_builder *b, struct pt_arm_cdtab *ct,
		     unsigned int fmt, unsigned int cdmax)
{
	unsigned int split = fmt == 2 ? 10 : 6;
	uint64_t bytes;

	if (fmt > 2 || cdmax > 20)
		return -EINVAL;
	ct->fmt = cdmax ? fmt : 0;
	ct->cdmax = cdmax;
	if (ct->fmt == 0)
		bytes = 64ULL << cdmax;
	else
		bytes = 8ULL << (cdmax > split ? cdmax - split : 0);
	return pt_arm_alloc(b, bytes, bytes < 64 ? 64 : bytes, &ct->ptr);
}

int pt_arm_cd_addr(struct pt_arm_builder *b, const struct pt_arm_cdtab *ct,
		   uint32_t ssid, uint64_t *addr)
{
	unsigned int split = ct->fmt == 2 ? 10 : 6;
	uint64_t l1, d, l2, bytes;
	int r;

	if (ct->cdmax < 32 && (ssid >> ct->cdmax))
		return -EINVAL;
	if (ct->fmt == 0) {
		*addr = ct->ptr + (uint64_t)ssid * 64;
		return 0;
	}
	l1 = ct->ptr + (ct->cdmax > split ? (uint64_t)(ssid >> split) * 8 : 0);
	r = pt_arm_read64(b, l1, &d);
	if (r)
		return r;
	if (!(d & 1)) {
		bytes = 64ULL << split;		/* 4K or 64K of CDs */
		r = pt_arm_alloc(b, bytes, bytes, &l2);
		if (r)
			return r;
		d = l2 | 1;
		r = pt_arm_write64(b, l1, d);
		if (r)
			return r;
	}
	l2 = d & 0x00fffffffffff000ULL;
	*addr = l2 + (uint64_t)(ssid & lo_bits(split)) * 64;
	return 0;
}

void pt_arm_cd_encode(const struct pt_arm_cd *c, uint64_t out[8])
{
	/* CD.TG1 uses its own encoding: 16K 1, 4K 2, 64K 3. */
	uint64_t tg1 = c->tg1_granule == 14 ? 1 : c->tg1_granule == 16 ? 3 : 2;

	memset(out, 0, 8 * sizeof(*out));
	out[0] = (uint64_t)(c->t0sz & 0x3f) | tg0_enc(c->tg0_granule) << 6 |
		 (c->epd0 ? 1ULL << 14 : 0) |
		 (uint64_t)(c->t1sz & 0x3f) << 16 | tg1 << 22 |
		 (c->epd1 ? 1ULL << 30 : 0) | (c->valid ? 1ULL << 31 : 0) |
		 (uint64_t)(c->ips & 7) << 32 | (c->affd ? 1ULL << 35 : 0) |
		 (c->tbi0 ? 1ULL << 38 : 0) | (c->tbi1 ? 1ULL << 39 : 0) |
		 (c->pan ? 1ULL << 40 : 0) | 1ULL << 41 /* AA64 */ |
		 (c->ha ? 1ULL << 43 : 0) | (uint64_t)c->asid << 48;
	out[1] = (c->ttb0 & 0x000ffffffffffff0ULL) | (c->had0 ? 2 : 0);
	out[2] = (c->ttb1 & 0x000ffffffffffff0ULL) | (c->had1 ? 2 : 0);
}

void pt_arm_cd_set_tt(struct pt_arm_cd *c, unsigned int region,
		      const struct pt_arm_tt *tt)
{
	if (region == 0) {
		c->t0sz = 64 - tt->ia;
		c->tg0_granule = tt->granule;
		c->ttb0 = tt->root;
		c->epd0 = false;
	} else {
		c->t1sz = 64 - tt->ia;
		c->tg1_granule = tt->granule;
		c->ttb1 = tt->root;
		c->epd1 = false;
	}
}
