/* SPDX-License-Identifier: MIT */
/*
 * AMD-Vi guest-side structure builder.  Entry layouts follow the AMD IOMMU
 * specification 48882 rev 3.x: DTE (2.2.2), PDE/PTE (2.2.3).  Nothing here
 * is shared with walk-amd.c on purpose.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pt-amd.h"

#define B_PAGE		4096ULL
#define B_PRESENT	0x1ULL
#define B_LVL(n)	((uint64_t)(n) << 9)
#define B_LVL_OF(e)	((unsigned int)((e) >> 9) & 7U)
#define B_FRAME		0x000ffffffffff000ULL
#define B_READ		(1ULL << 61)
#define B_WRITE		(1ULL << 62)
#define B_LEAF_SIZED	7U	/* Next Level 7: size in the address field */
#define B_MAX_LEVELS	6U
#define B_MAX_LG2	53U	/* largest size the address field encodes */

#define B_DTE_BYTES	32ULL

/* log2 of the bytes one entry of a level-`level` table maps. */
static unsigned int b_entry_lg2(unsigned int level)
{
	return 9 * level + 3;
}

static unsigned int b_index(uint64_t iova, unsigned int level)
{
	return (unsigned int)(iova >> b_entry_lg2(level)) & 511U;
}

static uint64_t b_perm_bits(unsigned int perm)
{
	return ((perm & PT_AMD_R) ? B_READ : 0) | ((perm & PT_AMD_W) ? B_WRITE : 0);
}

static uint8_t *b_ptr(const struct pt_amd_builder *b, uint64_t gpa)
{
	if (gpa < b->gpa_base || gpa - b->gpa_base > b->size - 8 || (gpa & 7))
		return NULL;
	return b->base + (gpa - b->gpa_base);
}

int pt_amd_write_u64(struct pt_amd_builder *b, uint64_t gpa, uint64_t val)
{
	uint8_t *p = b_ptr(b, gpa);

	if (!p)
		return -EFAULT;
	memcpy(p, &val, sizeof(val));
	return 0;
}

int pt_amd_read_u64(const struct pt_amd_builder *b, uint64_t gpa,
		    uint64_t *val)
{
	const uint8_t *p = b_ptr(b, gpa);

	if (!p)
		return -EFAULT;
	memcpy(val, p, sizeof(*val));
	return 0;
}

int pt_amd_init(struct pt_amd_builder *b, void *base, uint64_t gpa_base,
		uint64_t size)
{
	if (!b || !base || (gpa_base & (B_PAGE - 1)) || size < B_PAGE)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->base = base;
	b->gpa_base = gpa_base;
	b->size = size;
	b->pde_perm = PT_AMD_R | PT_AMD_W;
	return 0;
}

void pt_amd_fini(struct pt_amd_builder *b)
{
	if (!b)
		return;
	free(b->map);
	b->map = NULL;
	b->nmap = b->map_alloc = 0;
}

static int b_alloc(struct pt_amd_builder *b, uint64_t pages, uint64_t *gpa)
{
	uint64_t off = (b->next + B_PAGE - 1) & ~(B_PAGE - 1);

	if (off > b->size || pages > (b->size - off) / B_PAGE)
		return -ENOMEM;
	memset(b->base + off, 0, pages * B_PAGE);
	b->next = off + pages * B_PAGE;
	*gpa = b->gpa_base + off;
	return 0;
}

int pt_amd_alloc_page(struct pt_amd_builder *b, uint64_t *gpa)
{
	return b_alloc(b, 1, gpa);
}

int pt_amd_devtab_create(struct pt_amd_builder *b, unsigned int size_field,
			 uint64_t *reg)
{
	uint64_t gpa;
	int r;

	/* The Size field is 9 bits: 1 to 512 pages (3.4, MMIO 0000h). */
	if (size_field > 511)
		return -EINVAL;
	r = b_alloc(b, size_field + 1ULL, &gpa);
	if (r)
		return r;
	*reg = gpa | size_field;
	return 0;
}

uint64_t pt_amd_dte_gpa(uint64_t reg, uint16_t devid)
{
	return (reg & B_FRAME) + devid * B_DTE_BYTES;
}

int pt_amd_dte_write_raw(struct pt_amd_builder *b, uint64_t reg,
			 uint16_t devid, const uint64_t q[4])
{
	uint64_t gpa = pt_amd_dte_gpa(reg, devid);
	int i, r;

	if (devid * B_DTE_BYTES >= ((reg & 0x1ff) + 1) * B_PAGE)
		return -ERANGE;
	/* Quadword 0 (V, TV) last, as a driver would. */
	for (i = 3; i >= 0; i--) {
		r = pt_amd_write_u64(b, gpa + 8 * (unsigned int)i, q[i]);
		if (r)
			return r;
	}
	return 0;
}

int pt_amd_dte_set(struct pt_amd_builder *b, uint64_t reg, uint16_t devid,
		   const struct pt_amd_dte *dte)
{
	uint64_t q[4] = { 0, 0, 0, 0 };

	if (dte->mode > 7 || (dte->perm & ~(PT_AMD_R | PT_AMD_W)))
		return -EINVAL;
	q[0] = (dte->v ? 1ULL : 0) | (dte->tv ? 2ULL : 0) |
	       ((uint64_t)dte->mode << 9) | (dte->root & B_FRAME) |
	       b_perm_bits(dte->perm);
	q[1] = dte->domain_id;
	return pt_amd_dte_write_raw(b, reg, devid, q);
}

int pt_amd_pt_create(struct pt_amd_builder *b, unsigned int levels)
{
	int r;

	if (levels < 1 || levels > B_MAX_LEVELS)
		return -EINVAL;
	if (b->levels)
		return -EBUSY;
	r = b_alloc(b, 1, &b->root);
	if (r)
		return r;
	b->levels = levels;
	return 0;
}

static int b_read(const struct pt_amd_builder *b, uint64_t gpa, uint64_t *e)
{
	return pt_amd_read_u64(b, gpa, e);
}

/*
 * Make the path for iova down to a table of level `target`, creating
 * tables, or splitting a level-skipping PDE that does not fit this iova.
 */
static int b_descend(struct pt_amd_builder *b, uint64_t iova,
		     unsigned int target, unsigned int flags, uint64_t *table)
{
	uint64_t t = b->root, e, eg, nt;
	unsigned int lvl = b->levels, next, k, guard, split;
	int r;

	for (guard = 0; lvl > target; guard++) {
		if (guard > 2 * B_MAX_LEVELS)
			return -ELOOP;
		eg = t + 8ULL * b_index(iova, lvl);
		r = b_read(b, eg, &e);
		if (r)
			return r;
		if (!(e & B_PRESENT)) {
			next = lvl - 1;
			/* Skip every level whose index is 0 for this iova. */
			if (flags & PT_AMD_MAP_SKIP)
				while (next > target && b_index(iova, next) == 0)
					next--;
			r = b_alloc(b, 1, &nt);
			if (r)
				return r;
			r = pt_amd_write_u64(b, eg, B_PRESENT | B_LVL(next) | nt |
					     b_perm_bits(b->pde_perm));
			if (r)
				return r;
			t = nt;
			lvl = next;
			continue;
		}
		next = B_LVL_OF(e);
		if (next == 0 || next == B_LEAF_SIZED)
			return -EEXIST;	/* a larger page is in the way */
		if (next >= lvl)
			return -EIO;	/* not something we built */
		if (next >= target) {
			bool fits = true;

			for (k = next + 1; k < lvl; k++)
				if (b_index(iova, k))
					fits = false;
			if (fits) {
				t = e & B_FRAME;
				lvl = next;
				continue;
			}
		}
		/*
		 * Un-skip: put a new table between this PDE and the old
		 * subtree, which takes the old pointer at index 0 (the old
		 * subtree had index 0 at every level it skipped).  With
		 * MAP_SKIP the new table sits at the highest level where
		 * this iova has a non-zero index, so both keep skipping.
		 */
		split = lvl - 1;
		if (flags & PT_AMD_MAP_SKIP) {
			unsigned int low = next + 1 > target ? next + 1 : target;

			split = low;
			for (k = lvl - 1; k >= low; k--) {
				if (b_index(iova, k)) {
					split = k;
					break;
				}
			}
		}
		r = b_alloc(b, 1, &nt);
		if (r)
			return r;
		r = pt_amd_write_u64(b, nt, e);
		if (r)
			return r;
		r = pt_amd_write_u64(b, eg, (e & ~(B_FRAME | B_LVL(7))) |
				     B_LVL(split) | nt);
		if (r)
			return r;
		t = nt;
		lvl = split;
	}
	*table = t;
	return 0;
}

static int b_record(struct pt_amd_builder *b, const struct pt_amd_mapping *m)
{
	if (b->nmap == b->map_alloc) {
		size_t na = b->map_alloc ? b->map_alloc * 2 : 64;
		struct pt_amd_mapping *p = realloc(b->map, na * sizeof(*p));

		if (!p)
			return -ENOMEM;
		b->map = p;
		b->map_alloc = na;
	}
	b->map[b->nmap++] = *m;
	return 0;
}

int pt_amd_map(struct pt_amd_builder *b, uint64_t iova, uint64_t gpa,
	       uint64_t size, unsigned int perm, unsigned int flags)
{
	struct pt_amd_mapping m;
	uint64_t table, entry, count, i, e;
	unsigned int lg2, level, first;
	int r;

	if (!b->levels || !size || (size & (size - 1)) || size < B_PAGE)
		return -EINVAL;
	lg2 = (unsigned int)__builtin_ctzll(size);
	if (lg2 > B_MAX_LG2 || (iova & (size - 1)) || (gpa & (size - 1)) ||
	    (gpa & ~B_FRAME) || (perm & ~(PT_AMD_R | PT_AMD_W)))
		return -EINVAL;
	/* The leaf lives in the table whose entries are <= size. */
	level = (lg2 - 3) / 9;
	if (level > b->levels)
		return -EINVAL;
	if (b->levels < B_MAX_LEVELS &&
	    ((iova + (size - 1)) >> b_entry_lg2(b->levels + 1)))
		return -ERANGE;

	r = b_descend(b, iova, level, flags, &table);
	if (r)
		return r;
	count = 1ULL << (lg2 - b_entry_lg2(level));
	first = b_index(iova, level);
	for (i = 0; i < count; i++) {
		r = b_read(b, table + 8 * (first + i), &e);
		if (r)
			return r;
		if (e & B_PRESENT)
			return -EEXIST;
	}
	entry = B_PRESENT | gpa | b_perm_bits(perm);
	if (count == 1) {
		entry |= B_LVL(0);
	} else {
		/*
		 * Next Level 7: address bits 12 .. lg2-2 set, bit lg2-1
		 * clear (gpa is aligned), e.g. 16 KiB = ...01b in bits 13:12.
		 */
		entry |= B_LVL(B_LEAF_SIZED) |
			 (((size >> 1) - 1) & B_FRAME & ~(B_PAGE - 1));
	}
	for (i = 0; i < count; i++) {
		r = pt_amd_write_u64(b, table + 8 * (first + i), entry);
		if (r)
			return r;
	}
	m.iova = iova;
	m.gpa = gpa;
	m.size = size;
	m.perm = perm;
	m.level = level;
	return b_record(b, &m);
}

int pt_amd_entry_gpa(const struct pt_amd_builder *b, uint64_t iova,
		     unsigned int level, uint64_t *gpa)
{
	uint64_t t = b->root, e;
	unsigned int lvl = b->levels, next;

	if (!lvl || level < 1 || level > lvl)
		return -EINVAL;
	while (lvl > level) {
		if (b_read(b, t + 8ULL * b_index(iova, lvl), &e))
			return -EFAULT;
		next = B_LVL_OF(e);
		if (!(e & B_PRESENT) || next == 0 || next == B_LEAF_SIZED ||
		    next >= lvl || next < level)
			return -ENOENT;
		t = e & B_FRAME;
		lvl = next;
	}
	*gpa = t + 8ULL * b_index(iova, level);
	return 0;
}

static struct pt_amd_mapping *b_find_exact(struct pt_amd_builder *b,
					   uint64_t iova, uint64_t size)
{
	size_t i;

	for (i = 0; i < b->nmap; i++)
		if (b->map[i].iova == iova && b->map[i].size == size)
			return &b->map[i];
	return NULL;
}

/* Rewrite every replicated entry of m: clear it, or set new IR/IW. */
static int b_rewrite(struct pt_amd_builder *b, const struct pt_amd_mapping *m,
		     bool clear, unsigned int perm)
{
	uint64_t eg, e, count, i;
	int r;

	r = pt_amd_entry_gpa(b, m->iova, m->level, &eg);
	if (r)
		return r;
	count = m->size >> b_entry_lg2(m->level);
	for (i = 0; i < count; i++) {
		r = b_read(b, eg + 8 * i, &e);
		if (r)
			return r;
		e = clear ? 0 : (e & ~(B_READ | B_WRITE)) | b_perm_bits(perm);
		r = pt_amd_write_u64(b, eg + 8 * i, e);
		if (r)
			return r;
	}
	return 0;
}

int pt_amd_unmap(struct pt_amd_builder *b, uint64_t iova, uint64_t size)
{
	struct pt_amd_mapping *m = b_find_exact(b, iova, size);
	int r;

	if (!m)
		return -ENOENT;
	r = b_rewrite(b, m, true, 0);
	if (r)
		return r;
	*m = b->map[--b->nmap];
	return 0;
}

int pt_amd_protect(struct pt_amd_builder *b, uint64_t iova, uint64_t size,
		   unsigned int perm)
{
	struct pt_amd_mapping *m = b_find_exact(b, iova, size);
	int r;

	if (!m)
		return -ENOENT;
	if (perm & ~(PT_AMD_R | PT_AMD_W))
		return -EINVAL;
	r = b_rewrite(b, m, false, perm);
	if (r)
		return r;
	m->perm = perm;
	return 0;
}

const struct pt_amd_mapping *pt_amd_lookup(const struct pt_amd_builder *b,
					   uint64_t iova)
{
	size_t i;

	for (i = 0; i < b->nmap; i++)
		if (iova >= b->map[i].iova &&
		    iova - b->map[i].iova < b->map[i].size)
			return &b->map[i];
	return NULL;
}
