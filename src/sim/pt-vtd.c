/* SPDX-License-Identifier: MIT */
/*
 * Guest-side VT-d structure builder.  Written from the entry formats of
 * the VT-d specification chapter 9, deliberately sharing nothing with
 * src/lib/walk-vtd.c so that tests compare two readings of the spec.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pt-vtd.h"

#define PG_SIZE		4096ULL
#define PG_MASK		(~(PG_SIZE - 1))
#define PS_BIT		(1ULL << 7)

/* Second-level: R, W; first-level: P, R/W, U/S. */
#define SLE_R		(1ULL << 0)
#define SLE_W		(1ULL << 1)
#define FLE_P		(1ULL << 0)
#define FLE_RW		(1ULL << 1)
#define FLE_US		(1ULL << 2)

int pt_vtd_init(struct pt_vtd_builder *b, void *base, uint64_t gpa_base,
		uint64_t size, unsigned int haw)
{
	if (!b || !base || (gpa_base & ~PG_MASK) || size < PG_SIZE ||
	    haw < 32 || haw > 52)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->base = base;
	b->gpa_base = gpa_base;
	b->size = size;
	b->haw = haw;
	return 0;
}

static void *pt_ptr(const struct pt_vtd_builder *b, uint64_t gpa, uint64_t len)
{
	if (gpa < b->gpa_base || gpa - b->gpa_base > b->size ||
	    len > b->size - (gpa - b->gpa_base))
		return NULL;
	return b->base + (gpa - b->gpa_base);
}

int pt_vtd_alloc(struct pt_vtd_builder *b, uint64_t *gpa)
{
	uint64_t off = (b->next + PG_SIZE - 1) & PG_MASK;

	if (off > b->size || b->size - off < PG_SIZE)
		return -ENOMEM;
	memset(b->base + off, 0, PG_SIZE);
	b->next = off + PG_SIZE;
	*gpa = b->gpa_base + off;
	return 0;
}

int pt_vtd_write64(struct pt_vtd_builder *b, uint64_t gpa, uint64_t val)
{
	void *p = pt_ptr(b, gpa, 8);

	if (!p)
		return -EFAULT;
	val = htole64(val);
	memcpy(p, &val, 8);
	return 0;
}

int pt_vtd_read64(const struct pt_vtd_builder *b, uint64_t gpa, uint64_t *val)
{
	const void *p = pt_ptr(b, gpa, 8);

	if (!p)
		return -EFAULT;
	memcpy(val, p, 8);
	*val = le64toh(*val);
	return 0;
}

int pt_vtd_root_new(struct pt_vtd_builder *b, uint64_t *rta)
{
	return pt_vtd_alloc(b, rta);
}

uint64_t pt_vtd_root_entry_gpa(uint64_t rta, uint8_t bus)
{
	return rta + 16ULL * bus;
}

/* The present table pointer at gpa, or a fresh table stored there. */
static int pt_get_or_make(struct pt_vtd_builder *b, uint64_t gpa, uint64_t *out)
{
	uint64_t v;
	int r;

	r = pt_vtd_read64(b, gpa, &v);
	if (r)
		return r;
	if (v & 1) {
		*out = v & PG_MASK & ((1ULL << b->haw) - 1);
		return 0;
	}
	r = pt_vtd_alloc(b, out);
	if (r)
		return r;
	return pt_vtd_write64(b, gpa, *out | 1);
}

int pt_vtd_legacy_context(struct pt_vtd_builder *b, uint64_t rta,
			  uint8_t bus, uint8_t devfn,
			  const struct pt_vtd_context *c)
{
	uint64_t ctp, gpa;
	int r;

	r = pt_get_or_make(b, pt_vtd_root_entry_gpa(rta, bus), &ctp);
	if (r)
		return r;
	gpa = ctp + 16ULL * devfn;
	/* Low: SLPTPTR | TT << 2 | P.  High: DID << 8 | AW. */
	r = pt_vtd_write64(b, gpa, (c->slptptr & PG_MASK) |
			   ((uint64_t)(c->tt & 3) << 2) | 1);
	if (r)
		return r;
	return pt_vtd_write64(b, gpa + 8, ((uint64_t)c->did << 8) | (c->aw & 7));
}

int pt_vtd_context_entry_gpa(const struct pt_vtd_builder *b, uint64_t rta,
			     uint8_t bus, uint8_t devfn, int scalable,
			     uint64_t *gpa)
{
	uint64_t re;
	int r;

	if (!scalable) {
		r = pt_vtd_read64(b, pt_vtd_root_entry_gpa(rta, bus), &re);
		if (r)
			return r;
		*gpa = (re & PG_MASK & ((1ULL << b->haw) - 1)) + 16ULL * devfn;
		return 0;
	}
	r = pt_vtd_read64(b, pt_vtd_root_entry_gpa(rta, bus) + (devfn >= 128 ? 8 : 0),
			  &re);
	if (r)
		return r;
	*gpa = (re & PG_MASK & ((1ULL << b->haw) - 1)) + 32ULL * (devfn & 127);
	return 0;
}

int pt_vtd_sm_context(struct pt_vtd_builder *b, uint64_t rta, uint8_t bus,
		      uint8_t devfn, const struct pt_vtd_sm_context *c,
		      uint64_t *pasid_dir)
{
	uint64_t ctp, dir = c->pasid_dir, gpa;
	int r;

	/* Lower half of the root entry for devfn 0..127, upper for the rest. */
	r = pt_get_or_make(b, pt_vtd_root_entry_gpa(rta, bus) + (devfn >= 128 ? 8 : 0),
			   &ctp);
	if (r)
		return r;
	if (!dir) {
		/* 2^(pdts+7) entries of 8 bytes: one page up to pdts = 2. */
		uint64_t pages = (8ULL << (c->pdts + 7)) / PG_SIZE, i, p;

		if (!pages)
			pages = 1;
		for (i = 0; i < pages; i++) {
			r = pt_vtd_alloc(b, &p);
			if (r)
				return r;
			if (i == 0)
				dir = p;
			else if (p != dir + i * PG_SIZE)
				return -ENOMEM;
		}
	}
	gpa = ctp + 32ULL * (devfn & 127);
	r = pt_vtd_write64(b, gpa, dir | ((uint64_t)(c->pdts & 7) << 9) |
			   (c->pasid_enable ? 1ULL << 3 : 0) |
			   (c->dte ? 1ULL << 2 : 0) | 1);
	if (!r)
		r = pt_vtd_write64(b, gpa + 8, (c->rid_pasid & 0xfffff) |
				   (c->rid_priv ? 1ULL << 20 : 0));
	if (!r)
		r = pt_vtd_write64(b, gpa + 16, 0);
	if (!r)
		r = pt_vtd_write64(b, gpa + 24, 0);
	if (!r && pasid_dir)
		*pasid_dir = dir;
	return r;
}

int pt_vtd_pasid_entry_gpa(const struct pt_vtd_builder *b, uint64_t pasid_dir,
			   uint32_t pasid, uint64_t *gpa)
{
	uint64_t de;
	int r;

	r = pt_vtd_read64(b, pasid_dir + 8ULL * (pasid >> 6), &de);
	if (r)
		return r;
	if (!(de & 1))
		return -ENOENT;
	*gpa = (de & PG_MASK & ((1ULL << b->haw) - 1)) + 64ULL * (pasid & 63);
	return 0;
}

int pt_vtd_sm_pasid(struct pt_vtd_builder *b, uint64_t pasid_dir,
		    uint32_t pasid, const struct pt_vtd_pasid *p)
{
	uint64_t tbl, gpa, q[8] = { 0 };
	unsigned int i;
	int r;

	if (pasid > 0xfffff)
		return -EINVAL;
	r = pt_get_or_make(b, pasid_dir + 8ULL * (pasid >> 6), &tbl);
	if (r)
		return r;
	gpa = tbl + 64ULL * (pasid & 63);
	q[0] = (p->slptptr & PG_MASK) | (p->slade ? 1ULL << 9 : 0) |
	       ((uint64_t)(p->pgtt & 7) << 6) | ((uint64_t)(p->aw & 7) << 2) | 1;
	q[1] = p->did;
	q[2] = (p->flptptr & PG_MASK) | (p->eafe ? 1ULL << 7 : 0) |
	       (p->wpe ? 1ULL << 4 : 0) | ((uint64_t)(p->flpm & 3) << 2) |
	       (p->sre ? 1 : 0);
	for (i = 0; i < 8; i++) {
		r = pt_vtd_write64(b, gpa + 8ULL * i, q[i]);
		if (r)
			return r;
	}
	return 0;
}

/* --- page tables --- */

static unsigned int pt_shift(unsigned int level)
{
	return 12 + 9 * (level - 1);
}

static int pt_present(const struct pt_vtd_table *t, uint64_t e)
{
	if (t->kind == PT_VTD_SECOND_LEVEL)
		return (e & (SLE_R | SLE_W)) != 0;
	return (e & FLE_P) != 0;
}

static uint64_t pt_next(const struct pt_vtd_builder *b, uint64_t e)
{
	return e & PG_MASK & ((1ULL << b->haw) - 1);
}

static uint64_t pt_leaf_bits(const struct pt_vtd_table *t, unsigned int perm)
{
	if (t->kind == PT_VTD_SECOND_LEVEL)
		return ((perm & PT_VTD_R) ? SLE_R : 0) |
		       ((perm & PT_VTD_W) ? SLE_W : 0);
	return FLE_P | FLE_US | ((perm & PT_VTD_W) ? FLE_RW : 0);
}

static uint64_t pt_table_bits(const struct pt_vtd_table *t)
{
	if (t->kind == PT_VTD_SECOND_LEVEL)
		return SLE_R | SLE_W;
	return FLE_P | FLE_RW | FLE_US;
}

int pt_vtd_table_new(struct pt_vtd_builder *b, struct pt_vtd_table *t,
		     enum pt_vtd_kind kind, unsigned int levels)
{
	if (!b || !t)
		return -EINVAL;
	if (kind == PT_VTD_SECOND_LEVEL ? (levels < 3 || levels > 5) :
	    kind == PT_VTD_FIRST_LEVEL ? (levels < 4 || levels > 5) : 1)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->levels = levels;
	return pt_vtd_alloc(b, &t->root);
}

void pt_vtd_table_free(struct pt_vtd_table *t)
{
	if (!t)
		return;
	free(t->rec);
	t->rec = NULL;
	t->nr_rec = t->alloc_rec = 0;
}

static int rec_add(struct pt_vtd_table *t, const struct pt_vtd_mapping *m)
{
	if (t->nr_rec == t->alloc_rec) {
		size_t n = t->alloc_rec ? 2 * t->alloc_rec : 16;
		struct pt_vtd_mapping *p = realloc(t->rec, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->rec = p;
		t->alloc_rec = n;
	}
	t->rec[t->nr_rec++] = *m;
	return 0;
}

/*
 * Cut [iova, last] out of every record; with perm >= 0 the cut part is
 * kept with that permission.  Records never wrap: last is inclusive.
 */
static int rec_cut(struct pt_vtd_table *t, uint64_t iova, uint64_t last,
		   int perm)
{
	size_t i, n = t->nr_rec, w;
	int r;

	for (i = 0; i < n; i++) {
		struct pt_vtd_mapping m = t->rec[i], piece;
		uint64_t mlast = m.iova + (m.size - 1), lo, hi;

		if (m.size == 0 || mlast < iova || m.iova > last)
			continue;
		lo = m.iova > iova ? m.iova : iova;
		hi = mlast < last ? mlast : last;
		t->rec[i].size = 0;
		if (lo > m.iova) {
			piece = m;
			piece.size = lo - m.iova;
			r = rec_add(t, &piece);
			if (r)
				return r;
		}
		if (hi < mlast) {
			piece = m;
			piece.iova = hi + 1;
			piece.gpa = m.gpa + (hi + 1 - m.iova);
			piece.size = mlast - hi;
			r = rec_add(t, &piece);
			if (r)
				return r;
		}
		if (perm >= 0) {
			piece = m;
			piece.iova = lo;
			piece.gpa = m.gpa + (lo - m.iova);
			piece.size = hi - lo + 1;
			piece.perm = (unsigned int)perm;
			r = rec_add(t, &piece);
			if (r)
				return r;
		}
	}
	for (i = 0, w = 0; i < t->nr_rec; i++)
		if (t->rec[i].size)
			t->rec[w++] = t->rec[i];
	t->nr_rec = w;
	return 0;
}

int pt_vtd_lookup(const struct pt_vtd_table *t, uint64_t iova,
		  struct pt_vtd_mapping *out)
{
	size_t i;

	for (i = 0; i < t->nr_rec; i++) {
		const struct pt_vtd_mapping *m = &t->rec[i];

		if (iova >= m->iova && iova - m->iova < m->size) {
			*out = *m;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Find the entry mapping iova: 0 with the leaf's gpa and level, or
 * -ENOENT with the level of the first non-present entry.
 */
static int pt_find(const struct pt_vtd_builder *b, const struct pt_vtd_table *t,
		   uint64_t iova, uint64_t *egpa, unsigned int *level)
{
	uint64_t table = t->root, e;
	unsigned int l;
	int r;

	for (l = t->levels; l >= 1; l--) {
		*egpa = table + 8 * ((iova >> pt_shift(l)) & 511);
		*level = l;
		r = pt_vtd_read64(b, *egpa, &e);
		if (r)
			return r;
		if (!pt_present(t, e))
			return -ENOENT;
		if (l == 1 || ((l == 2 || l == 3) && (e & PS_BIT)))
			return 0;
		table = pt_next(b, e);
	}
	return -ENOENT;
}

int pt_vtd_entry_gpa(const struct pt_vtd_builder *b,
		     const struct pt_vtd_table *t, uint64_t iova,
		     unsigned int level, uint64_t *gpa)
{
	uint64_t table = t->root, e;
	unsigned int l;
	int r;

	if (level < 1 || level > t->levels)
		return -EINVAL;
	for (l = t->levels; ; l--) {
		*gpa = table + 8 * ((iova >> pt_shift(l)) & 511);
		if (l == level)
			return 0;
		r = pt_vtd_read64(b, *gpa, &e);
		if (r)
			return r;
		if (!pt_present(t, e) || (l <= 3 && (e & PS_BIT)))
			return -ENOENT;
		table = pt_next(b, e);
	}
}

/* With dry set, only say whether the page could be mapped. */
static int pt_map_one(struct pt_vtd_builder *b, struct pt_vtd_table *t,
		      uint64_t iova, uint64_t gpa, unsigned int target,
		      unsigned int perm, int dry)
{
	uint64_t table = t->root, egpa, e;
	unsigned int l;
	int r;

	for (l = t->levels; l > target; l--) {
		egpa = table + 8 * ((iova >> pt_shift(l)) & 511);
		r = pt_vtd_read64(b, egpa, &e);
		if (r)
			return r;
		if (!pt_present(t, e)) {
			uint64_t nt;

			if (dry)
				return 0;

			r = pt_vtd_alloc(b, &nt);
			if (!r)
				r = pt_vtd_write64(b, egpa, nt | pt_table_bits(t));
			if (r)
				return r;
			table = nt;
			continue;
		}
		if (l <= 3 && (e & PS_BIT))
			return -EEXIST;	/* a bigger page is in the way */
		table = pt_next(b, e);
	}
	egpa = table + 8 * ((iova >> pt_shift(target)) & 511);
	r = pt_vtd_read64(b, egpa, &e);
	if (r)
		return r;
	if (target > 1 && pt_present(t, e) && !(e & PS_BIT))
		return -EEXIST;	/* smaller pages are in the way */
	if (dry)
		return 0;
	return pt_vtd_write64(b, egpa, gpa | pt_leaf_bits(t, perm) |
			      (target > 1 ? PS_BIT : 0));
}

static int pt_level_of(uint64_t page_size)
{
	switch (page_size) {
	case 1ULL << 12:
		return 1;
	case 1ULL << 21:
		return 2;
	case 1ULL << 30:
		return 3;
	default:
		return -EINVAL;
	}
}

int pt_vtd_map(struct pt_vtd_builder *b, struct pt_vtd_table *t, uint64_t iova,
	       uint64_t gpa, uint64_t size, uint64_t page_size,
	       unsigned int perm)
{
	struct pt_vtd_mapping m = { iova, gpa, size, page_size, perm };
	int level = pt_level_of(page_size);
	uint64_t off;
	int r;

	if (!b || !t || level < 0 || !size || (size % page_size) ||
	    ((iova | gpa) & (page_size - 1)) ||
	    !perm || (perm & ~(PT_VTD_R | PT_VTD_W)) ||
	    (size - 1 > ~0ULL - iova) || (gpa + (size - 1)) >> b->haw)
		return -EINVAL;
	if (t->kind == PT_VTD_FIRST_LEVEL && !(perm & PT_VTD_R))
		return -EINVAL;
	/* Check every page first so that a refused map changes nothing. */
	for (off = 0; off < size; off += page_size) {
		r = pt_map_one(b, t, iova + off, gpa + off, (unsigned int)level,
			       perm, 1);
		if (r)
			return r;
	}
	for (off = 0; off < size; off += page_size) {
		r = pt_map_one(b, t, iova + off, gpa + off, (unsigned int)level,
			       perm, 0);
		if (r)
			return r;
	}
	r = rec_cut(t, iova, iova + (size - 1), -1);
	if (r)
		return r;
	return rec_add(t, &m);
}

/*
 * Clear (perm < 0) or re-permission every leaf in [iova, iova + size);
 * each leaf must lie wholly inside the range.
 */
static int pt_each_leaf(struct pt_vtd_builder *b, struct pt_vtd_table *t,
			uint64_t iova, uint64_t size, int perm)
{
	uint64_t last = iova + (size - 1), a = iova;

	for (;;) {
		uint64_t egpa = 0, e, step, base;
		unsigned int level = 1;
		int r = pt_find(b, t, a, &egpa, &level);

		if (r && r != -ENOENT)
			return r;
		step = 1ULL << pt_shift(level);
		base = a & ~(step - 1);
		if (!r) {
			if (base < iova || base + (step - 1) > last)
				return -EINVAL;
			r = pt_vtd_read64(b, egpa, &e);
			if (r)
				return r;
			if (perm < 0) {
				e = 0;
			} else {
				e &= ~(t->kind == PT_VTD_SECOND_LEVEL ?
				       (SLE_R | SLE_W) : (FLE_RW | FLE_US | FLE_P));
				e |= pt_leaf_bits(t, (unsigned int)perm);
			}
			r = pt_vtd_write64(b, egpa, e);
			if (r)
				return r;
		}
		if (last - base < step || base + step == 0)
			return 0;
		a = base + step;
	}
}

int pt_vtd_unmap(struct pt_vtd_builder *b, struct pt_vtd_table *t,
		 uint64_t iova, uint64_t size)
{
	int r;

	if (!b || !t || !size || size - 1 > ~0ULL - iova)
		return -EINVAL;
	r = pt_each_leaf(b, t, iova, size, -1);
	if (r)
		return r;
	return rec_cut(t, iova, iova + (size - 1), -1);
}

int pt_vtd_protect(struct pt_vtd_builder *b, struct pt_vtd_table *t,
		   uint64_t iova, uint64_t size, unsigned int perm)
{
	int r;

	if (!b || !t || !size || size - 1 > ~0ULL - iova || !perm ||
	    (perm & ~(PT_VTD_R | PT_VTD_W)) ||
	    (t->kind == PT_VTD_FIRST_LEVEL && !(perm & PT_VTD_R)))
		return -EINVAL;
	r = pt_each_leaf(b, t, iova, size, (int)perm);
	if (r)
		return r;
	return rec_cut(t, iova, iova + (size - 1), (int)perm);
}
