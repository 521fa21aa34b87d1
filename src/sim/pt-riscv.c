/* SPDX-License-Identifier: MIT */
/*
 * Guest-side builder of RISC-V IOMMU directories and page tables (see
 * pt-riscv.h).  Written from the RISC-V IOMMU 1.0 and privileged
 * specifications, independently of src/lib/walk-riscv.c.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pt-riscv.h"

#define PG		4096ULL
#define PPN_MASK	((1ULL << 44) - 1)
#define LEAF_RWX	(PT_RISCV_R | PT_RISCV_W | PT_RISCV_X)

void pt_riscv_init(struct pt_riscv_builder *b, void *base, uint64_t gpa_base,
		   uint64_t size)
{
	memset(b, 0, sizeof(*b));
	b->base = base;
	b->gpa_base = gpa_base;
	b->size = size;
}

void pt_riscv_fini(struct pt_riscv_builder *b)
{
	free(b->rec);
	b->rec = NULL;
	b->nrec = b->rec_alloc = 0;
}

static bool in_buf(const struct pt_riscv_builder *b, uint64_t gpa,
		   uint64_t len)
{
	return gpa >= b->gpa_base && len <= b->size &&
	       gpa - b->gpa_base <= b->size - len;
}

int pt_riscv_alloc(struct pt_riscv_builder *b, uint64_t bytes, uint64_t align,
		   uint64_t *gpa)
{
	uint64_t at;

	if (!align || (align & (align - 1)) || !bytes)
		return -EINVAL;
	at = (b->gpa_base + b->next + align - 1) & ~(align - 1);
	if (!in_buf(b, at, bytes))
		return -ENOMEM;
	memset(b->base + (at - b->gpa_base), 0, bytes);
	b->next = at + bytes - b->gpa_base;
	*gpa = at;
	return 0;
}

int pt_riscv_write64(struct pt_riscv_builder *b, uint64_t gpa, uint64_t val,
		     bool be)
{
	if (!in_buf(b, gpa, 8))
		return -EFAULT;
	val = be ? htobe64(val) : htole64(val);
	memcpy(b->base + (gpa - b->gpa_base), &val, 8);
	return 0;
}

int pt_riscv_read64(const struct pt_riscv_builder *b, uint64_t gpa,
		    uint64_t *val, bool be)
{
	uint64_t v;

	if (!in_buf(b, gpa, 8))
		return -EFAULT;
	memcpy(&v, b->base + (gpa - b->gpa_base), 8);
	*val = be ? be64toh(v) : le64toh(v);
	return 0;
}

/* --- page tables ----------------------------------------------------- */

int pt_riscv_pt_new(struct pt_riscv_builder *b, struct pt_riscv_pt *pt,
		    unsigned int stage, unsigned int mode, int64_t view,
		    bool be)
{
	uint64_t root_size;
	int r;

	if (mode < 8 || mode > 10 || (stage != 1 && stage != 2))
		return -EINVAL;
	/* G-stage tables are addressed by (our) physical address only. */
	if (stage == 2 && view)
		return -EINVAL;
	/* The x4 root is four pages, aligned to its size. */
	root_size = stage == 2 ? 4 * PG : PG;
	memset(pt, 0, sizeof(*pt));
	r = pt_riscv_alloc(b, root_size, root_size, &pt->root);
	if (r)
		return r;
	pt->stage = stage;
	pt->levels = mode - 8 + 3;
	pt->view = view;
	pt->be = be;
	return 0;
}

uint64_t pt_riscv_atp(const struct pt_riscv_pt *pt)
{
	uint64_t mode = pt->levels - 3 + 8;

	return (mode << 60) | (((pt->root + (uint64_t)pt->view) >> 12) &
			       PPN_MASK);
}

/* Index into the table at level (1-based) for address a. */
static uint64_t pt_index(const struct pt_riscv_pt *pt, uint64_t a,
			 unsigned int level)
{
	uint64_t idx = a >> (12 + 9 * (level - 1));

	if (pt->stage == 2 && level == pt->levels)
		return idx & 2047;
	return idx & 511;
}

static uint64_t pt_table_of(const struct pt_riscv_pt *pt, uint64_t e)
{
	return (((e >> PT_RISCV_PPN_SHIFT) & PPN_MASK) << 12) -
	       (uint64_t)pt->view;
}

/* Is a (the input address) one the table can translate? */
static bool pt_addr_ok(const struct pt_riscv_pt *pt, uint64_t a)
{
	unsigned int bits = 12 + 9 * pt->levels;
	uint64_t top;

	if (pt->stage == 2)
		return (a >> (bits + 2)) == 0;
	top = a >> (bits - 1);
	return top == 0 || top == (UINT64_MAX >> (bits - 1));
}

static int size_level(const struct pt_riscv_pt *pt, uint64_t size,
		      unsigned int *level, bool *napot)
{
	*napot = false;
	switch (size) {
	case PG:
		*level = 1;
		break;
	case 16 * PG:
		*level = 1;
		*napot = true;
		break;
	case 1ULL << 21:
		*level = 2;
		break;
	case 1ULL << 30:
		*level = 3;
		break;
	case 1ULL << 39:
		*level = 4;
		break;
	case 1ULL << 48:
		*level = 5;
		break;
	default:
		return -EINVAL;
	}
	return *level <= pt->levels ? 0 : -EINVAL;
}

/*
 * Find the table at level for a, creating missing tables when create
 * is set.  -EEXIST if a leaf sits above, -ENOENT if a table is missing.
 */
static int pt_descend(struct pt_riscv_builder *b, const struct pt_riscv_pt *pt,
		      uint64_t a, unsigned int level, bool create,
		      uint64_t *table)
{
	uint64_t t = pt->root;
	unsigned int l;
	int r;

	for (l = pt->levels; l > level; l--) {
		uint64_t ea = t + pt_index(pt, a, l) * 8, e, n;

		r = pt_riscv_read64(b, ea, &e, pt->be);
		if (r)
			return r;
		if (!(e & PT_RISCV_V)) {
			if (!create)
				return -ENOENT;
			r = pt_riscv_alloc(b, PG, PG, &n);
			if (r)
				return r;
			e = PT_RISCV_V | ((((n + (uint64_t)pt->view) >> 12) &
					   PPN_MASK) << PT_RISCV_PPN_SHIFT);
			r = pt_riscv_write64(b, ea, e, pt->be);
			if (r)
				return r;
		} else if (e & LEAF_RWX) {
			return -EEXIST;
		}
		t = pt_table_of(pt, e);
	}
	*table = t;
	return 0;
}

static void rec_drop(struct pt_riscv_builder *b, uint64_t root, uint64_t iova,
		     uint64_t size)
{
	unsigned int i = 0;

	while (i < b->nrec) {
		struct pt_riscv_rec *r = &b->rec[i];

		if (r->root == root && r->iova <= iova + (size - 1) &&
		    iova <= r->iova + (r->size - 1)) {
			b->rec[i] = b->rec[--b->nrec];
			continue;
		}
		i++;
	}
}

static int rec_add(struct pt_riscv_builder *b, const struct pt_riscv_rec *rec)
{
	if (b->nrec == b->rec_alloc) {
		unsigned int n = b->rec_alloc ? 2 * b->rec_alloc : 64;
		struct pt_riscv_rec *p = realloc(b->rec, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		b->rec = p;
		b->rec_alloc = n;
	}
	b->rec[b->nrec++] = *rec;
	return 0;
}

static int pt_write_leaf(struct pt_riscv_builder *b,
			 const struct pt_riscv_pt *pt, uint64_t iova,
			 uint64_t size, uint64_t pa, uint64_t bits,
			 bool must_exist)
{
	unsigned int level, n, i;
	uint64_t table, first, e;
	bool napot;
	int r;

	r = size_level(pt, size, &level, &napot);
	if (r)
		return r;
	if ((iova & (size - 1)) || (pa & (size - 1)) || !pt_addr_ok(pt, iova))
		return -EINVAL;
	r = pt_descend(b, pt, iova, level, !must_exist, &table);
	if (r)
		return r;
	first = pt_index(pt, iova, level);
	n = napot ? 16 : 1;
	for (i = 0; i < n; i++) {
		uint64_t ea = table + (first + i) * 8;

		r = pt_riscv_read64(b, ea, &e, pt->be);
		if (r)
			return r;
		/*
		 * map never overwrites (unmap first), protect only rewrites
		 * leaves: the record and the tables stay in step.
		 */
		if (!must_exist && (e & PT_RISCV_V))
			return -EEXIST;
		if (must_exist && (!(e & PT_RISCV_V) || !(e & LEAF_RWX)))
			return -ENOENT;
	}
	/* Svnapot: 64 KiB is ppn[0][3:0] = 1000 with N set. */
	e = PT_RISCV_V | bits;
	if (napot)
		e |= PT_RISCV_N | (((pa >> 12) & PPN_MASK & ~0xfULL) | 8)
				  << PT_RISCV_PPN_SHIFT;
	else
		e |= ((pa >> 12) & PPN_MASK) << PT_RISCV_PPN_SHIFT;
	for (i = 0; i < n; i++) {
		r = pt_riscv_write64(b, table + (first + i) * 8, e, pt->be);
		if (r)
			return r;
	}
	return 0;
}

int pt_riscv_map(struct pt_riscv_builder *b, const struct pt_riscv_pt *pt,
		 uint64_t iova, uint64_t pa, uint64_t size, uint64_t bits)
{
	struct pt_riscv_rec rec = { pt->root, iova, pa, size, bits };
	int r;

	r = pt_write_leaf(b, pt, iova, size, pa, bits, false);
	if (r)
		return r;
	rec_drop(b, pt->root, iova, size);
	return rec_add(b, &rec);
}

int pt_riscv_unmap(struct pt_riscv_builder *b, const struct pt_riscv_pt *pt,
		   uint64_t iova, uint64_t size)
{
	unsigned int level, i, n;
	uint64_t table, first;
	bool napot;
	int r;

	r = size_level(pt, size, &level, &napot);
	if (r)
		return r;
	r = pt_descend(b, pt, iova, level, false, &table);
	if (r)
		return r;
	first = pt_index(pt, iova, level);
	n = napot ? 16 : 1;
	for (i = 0; i < n; i++) {
		r = pt_riscv_write64(b, table + (first + i) * 8, 0, pt->be);
		if (r)
			return r;
	}
	rec_drop(b, pt->root, iova, size);
	return 0;
}

int pt_riscv_protect(struct pt_riscv_builder *b, const struct pt_riscv_pt *pt,
		     uint64_t iova, uint64_t size, uint64_t bits)
{
	struct pt_riscv_rec cur;
	int r;

	r = pt_riscv_lookup(b, pt, iova, &cur);
	if (r)
		return r;
	if (cur.iova != iova || cur.size != size)
		return -EINVAL;
	r = pt_write_leaf(b, pt, iova, size, cur.pa, bits, true);
	if (r)
		return r;
	cur.bits = bits;
	rec_drop(b, pt->root, iova, size);
	return rec_add(b, &cur);
}

int pt_riscv_entry(struct pt_riscv_builder *b,
		   const struct pt_riscv_pt *pt, uint64_t iova,
		   unsigned int level, uint64_t *gpa)
{
	uint64_t table;
	int r;

	if (!level || level > pt->levels)
		return -EINVAL;
	r = pt_descend(b, pt, iova, level, false, &table);
	if (r)
		return r;
	*gpa = table + pt_index(pt, iova, level) * 8;
	return 0;
}

int pt_riscv_lookup(const struct pt_riscv_builder *b,
		    const struct pt_riscv_pt *pt, uint64_t iova,
		    struct pt_riscv_rec *out)
{
	unsigned int i;

	for (i = 0; i < b->nrec; i++) {
		const struct pt_riscv_rec *r = &b->rec[i];

		if (r->root == pt->root && iova >= r->iova &&
		    iova - r->iova < r->size) {
			*out = *r;
			return 0;
		}
	}
	return -ENOENT;
}

/* --- device directory -------------------------------------------------- */

/* DDI[] per device_id partitioning (IOMMU spec 2, "device_id partitioning") */
static void ddt_split(uint32_t id, bool ext, uint32_t ddi[3])
{
	unsigned int w0 = ext ? 6 : 7;

	ddi[0] = id & ((1U << w0) - 1);
	ddi[1] = (id >> w0) & 511;
	ddi[2] = id >> (w0 + 9);
}

int pt_riscv_ddt_new(struct pt_riscv_builder *b, unsigned int levels,
		     uint64_t *ddtp)
{
	uint64_t root;
	int r;

	if (levels < 1 || levels > 3)
		return -EINVAL;
	r = pt_riscv_alloc(b, PG, PG, &root);
	if (r)
		return r;
	/* iommu_mode: 1LVL = 2, 2LVL = 3, 3LVL = 4; PPN at bit 10. */
	*ddtp = (uint64_t)(levels + 1) | (((root >> 12) & PPN_MASK) << 10);
	return 0;
}

static int ddt_find(struct pt_riscv_builder *b, uint64_t ddtp, bool ext,
		    bool be, uint32_t device_id, unsigned int level,
		    bool create, uint64_t *gpa)
{
	unsigned int levels = (unsigned int)(ddtp & 0xf) - 1, l;
	uint64_t t = ((ddtp >> 10) & PPN_MASK) << 12;
	uint32_t ddi[3];
	int r;

	if (levels < 1 || levels > 3 || !level || level > levels)
		return -EINVAL;
	ddt_split(device_id, ext, ddi);
	if ((levels < 3 && ddi[2]) || (levels < 2 && ddi[1]))
		return -EINVAL;
	for (l = levels; l > level; l--) {
		uint64_t ea = t + ddi[l - 1] * 8ULL, e, n;

		r = pt_riscv_read64(b, ea, &e, be);
		if (r)
			return r;
		if (!(e & 1)) {
			if (!create)
				return -ENOENT;
			r = pt_riscv_alloc(b, PG, PG, &n);
			if (r)
				return r;
			e = 1 | (((n >> 12) & PPN_MASK) << 10);
			r = pt_riscv_write64(b, ea, e, be);
			if (r)
				return r;
		}
		t = ((e >> 10) & PPN_MASK) << 12;
	}
	*gpa = level == 1 ? t + ddi[0] * (ext ? 64ULL : 32ULL)
			  : t + ddi[level - 1] * 8ULL;
	return 0;
}

int pt_riscv_ddt_set(struct pt_riscv_builder *b, uint64_t ddtp, bool ext,
		     bool be, uint32_t device_id, const uint64_t *dc,
		     uint64_t *dc_gpa)
{
	unsigned int i, n = ext ? 8 : 4;
	uint64_t a;
	int r;

	r = ddt_find(b, ddtp, ext, be, device_id, 1, true, &a);
	if (r)
		return r;
	for (i = 0; i < n; i++) {
		r = pt_riscv_write64(b, a + i * 8, dc[i], be);
		if (r)
			return r;
	}
	if (dc_gpa)
		*dc_gpa = a;
	return 0;
}

int pt_riscv_ddt_entry(struct pt_riscv_builder *b, uint64_t ddtp,
		       bool ext, bool be, uint32_t device_id,
		       unsigned int level, uint64_t *gpa)
{
	return ddt_find(b, ddtp, ext, be, device_id, level, false, gpa);
}

/* --- process directory ------------------------------------------------- */

int pt_riscv_pdt_new(struct pt_riscv_builder *b, unsigned int mode,
		     int64_t view, uint64_t *pdtp)
{
	uint64_t root;
	int r;

	if (mode < 1 || mode > 3)
		return -EINVAL;
	r = pt_riscv_alloc(b, PG, PG, &root);
	if (r)
		return r;
	*pdtp = ((uint64_t)mode << 60) |
		(((root + (uint64_t)view) >> 12) & PPN_MASK);
	return 0;
}

int pt_riscv_pdt_set(struct pt_riscv_builder *b, uint64_t pdtp, int64_t view,
		     bool be, uint32_t process_id, uint64_t ta, uint64_t fsc,
		     uint64_t *pc_gpa)
{
	unsigned int levels = (unsigned int)(pdtp >> 60), l;
	uint64_t t = ((pdtp & PPN_MASK) << 12) - (uint64_t)view;
	/* PDI[0] 8 bits, PDI[1] 9 bits, PDI[2] 3 bits */
	uint32_t pdi[3] = { process_id & 255, (process_id >> 8) & 511,
			    (process_id >> 17) & 7 };
	int r;

	if (levels < 1 || levels > 3)
		return -EINVAL;
	if (process_id >> (levels == 1 ? 8 : levels == 2 ? 17 : 20))
		return -EINVAL;
	for (l = levels; l > 1; l--) {
		uint64_t ea = t + pdi[l - 1] * 8ULL, e, n;

		r = pt_riscv_read64(b, ea, &e, be);
		if (r)
			return r;
		if (!(e & 1)) {
			r = pt_riscv_alloc(b, PG, PG, &n);
			if (r)
				return r;
			e = 1 | ((((n + (uint64_t)view) >> 12) & PPN_MASK)
				 << 10);
			r = pt_riscv_write64(b, ea, e, be);
			if (r)
				return r;
		}
		t = (((e >> 10) & PPN_MASK) << 12) - (uint64_t)view;
	}
	t += pdi[0] * 16ULL;
	r = pt_riscv_write64(b, t, ta, be);
	if (!r)
		r = pt_riscv_write64(b, t + 8, fsc, be);
	if (!r && pc_gpa)
		*pc_gpa = t;
	return r;
}
