/* SPDX-License-Identifier: MIT */
/*
 * Domains: one guest I/O address space each.  A domain owns how an iova
 * is walked (a map table pushed by the VMM, or a guest page-table format
 * reached through the vIOMMU's context structures), and turns one miss
 * into the largest answer the rules allow (coalescing, below).
 *
 * Locking: every entry point takes the domain's mutex, so engines on
 * several threads may share a domain; walks of one domain serialise.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "domain.h"
#include "walk.h"

_Static_assert((int)IOTLB_FAULT_NOT_PRESENT == (int)IOTLB_WALK_NOT_PRESENT, "fault");
_Static_assert((int)IOTLB_FAULT_PERMISSION == (int)IOTLB_WALK_PERMISSION, "fault");
_Static_assert((int)IOTLB_FAULT_RESERVED == (int)IOTLB_WALK_RESERVED, "fault");
_Static_assert((int)IOTLB_FAULT_ADDR_WIDTH == (int)IOTLB_WALK_ADDR_WIDTH, "fault");
_Static_assert((int)IOTLB_FAULT_TABLE_OUTSIDE == (int)IOTLB_WALK_TABLE_OUTSIDE, "fault");
_Static_assert((int)IOTLB_FAULT_NON_CANONICAL == (int)IOTLB_WALK_NON_CANONICAL, "fault");
_Static_assert((int)IOTLB_FAULT_CONTEXT_INVALID == (int)IOTLB_WALK_CONTEXT_INVALID, "fault");
_Static_assert((int)IOTLB_FAULT_BLOCKED == (int)IOTLB_WALK_BLOCKED, "fault");
_Static_assert((int)IOTLB_FAULT_ACCESS_FLAG == (int)IOTLB_WALK_ACCESS_FLAG, "fault");
_Static_assert((int)IOTLB_FAULT_UNSUPPORTED == (int)IOTLB_WALK_UNSUPPORTED, "fault");
_Static_assert((int)IOTLB_FAULT_LOOP == (int)IOTLB_WALK_LOOP, "fault");
_Static_assert((int)IOTLB_FAULT_AD_UPDATE == (int)IOTLB_WALK_AD_UPDATE, "fault");
_Static_assert(_IOTLB_FAULT_MAX <= 16, "faults_by_reason is too small");
_Static_assert(IOTLB_PERM_READ == IOTLB_WALK_READ, "perm");
_Static_assert(IOTLB_PERM_WRITE == IOTLB_WALK_WRITE, "perm");

/* Default coalescing window and the walks one answer may spend on it. */
#define DOMAIN_DEFAULT_LIMIT (2ULL << 20)
#define DOMAIN_SCAN_BUDGET 1024
#define DOMAIN_SCAN_BUDGET_MAX 16384

IOTLB_EXPORT const char *iotlb_fault_name(unsigned int fault)
{
	if (fault == IOTLB_FAULT_NOT_IN_MEMORY)
		return "not-in-memory";
	if (fault >= IOTLB_WALK_FAULT_MAX)
		return "unknown";
	return iotlb__walk_fault_name((enum iotlb_walk_fault)fault);
}

static struct iotlb_domain *domain_alloc(struct iotlb_mem *mem,
					 enum iotlb__domain_kind kind)
{
	struct iotlb_domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	atomic_init(&d->refcount, 1);
	pthread_mutex_init(&d->lock, NULL);
	d->mem = iotlb_mem_ref(mem);
	d->kind = kind;
	d->answer_limit = DOMAIN_DEFAULT_LIMIT;
	d->scan_budget = DOMAIN_SCAN_BUDGET;
	return d;
}

IOTLB_EXPORT int iotlb_domain_new_map(struct iotlb_domain **out,
				      struct iotlb_mem *mem)
{
	struct iotlb_domain *d;

	if (!out || !mem)
		return -EINVAL;
	d = domain_alloc(mem, IOTLB__DOMAIN_MAP);
	if (!d)
		return -ENOMEM;
	*out = d;
	return 0;
}

IOTLB_EXPORT int iotlb_domain_new_viommu(struct iotlb_domain **out,
					 struct iotlb_mem *mem,
					 const struct iotlb_viommu *iommu,
					 uint32_t device_id, uint32_t pasid)
{
	struct iotlb_domain *d;
	int r;

	if (!out || !mem || !iommu)
		return -EINVAL;
	d = domain_alloc(mem, IOTLB__DOMAIN_VIOMMU);
	if (!d)
		return -ENOMEM;
	r = iotlb__domain_viommu_init(d, iommu, device_id, pasid);
	if (r) {
		iotlb_domain_unref(d);
		return r;
	}
	*out = d;
	return 0;
}

IOTLB_EXPORT int iotlb_domain_new_pgtable(struct iotlb_domain **out,
					  struct iotlb_mem *mem,
					  const struct iotlb_pgtable *pt)
{
	struct iotlb_domain *d;
	int r;

	if (!out || !mem || !pt)
		return -EINVAL;
	d = domain_alloc(mem, IOTLB__DOMAIN_PGTABLE);
	if (!d)
		return -ENOMEM;
	r = iotlb__domain_pgtable_init(d, pt);
	if (r) {
		iotlb_domain_unref(d);
		return r;
	}
	*out = d;
	return 0;
}

/* The guest changed context/device/stream table entries: re-resolve. */
IOTLB_EXPORT int iotlb_domain_invalidate_context(struct iotlb_domain *dom)
{
	if (!dom)
		return -EINVAL;
	pthread_mutex_lock(&dom->lock);
	dom->st.invalidations++;
	iotlb__domain_context_invalidate(dom);
	iotlb__domain_cache_invalidate(dom, 0, 0);
	pthread_mutex_unlock(&dom->lock);
	return 0;
}

IOTLB_EXPORT int iotlb_domain_invalidate_range(struct iotlb_domain *dom,
					       uint64_t iova, uint64_t size)
{
	if (!dom || !size)
		return -EINVAL;
	if (size - 1 > UINT64_MAX - iova)
		return -EOVERFLOW;
	pthread_mutex_lock(&dom->lock);
	dom->st.invalidations++;
	iotlb__domain_cache_invalidate(dom, iova, size);
	pthread_mutex_unlock(&dom->lock);
	return 0;
}

IOTLB_EXPORT int iotlb_domain_invalidate_all(struct iotlb_domain *dom)
{
	return iotlb_domain_invalidate_context(dom);
}

IOTLB_EXPORT struct iotlb_domain *iotlb_domain_ref(struct iotlb_domain *dom)
{
	if (dom)
		atomic_fetch_add(&dom->refcount, 1);
	return dom;
}

IOTLB_EXPORT struct iotlb_domain *iotlb_domain_unref(struct iotlb_domain *dom)
{
	if (!dom)
		return NULL;
	if (atomic_fetch_sub(&dom->refcount, 1) > 1)
		return dom;
	iotlb__domain_cache_free(dom);
	free(dom->iv);
	iotlb_mem_unref(dom->mem);
	pthread_mutex_destroy(&dom->lock);
	free(dom);
	return NULL;
}

/* ---- map tables (virtio-iommu style) ---- */

/* First interval ending at or after addr. */
static size_t map_first(const struct iotlb_domain *d, uint64_t addr)
{
	size_t lo = 0, hi = d->niv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->iv[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

IOTLB_EXPORT int iotlb_domain_map(struct iotlb_domain *dom, uint64_t iova,
				  uint64_t size, uint64_t gpa, uint32_t perm)
{
	uint64_t last;
	size_t i;
	int ret = 0;

	if (!dom || !size || !perm || (perm & ~IOTLB_PERM_RW))
		return -EINVAL;
	if (dom->kind != IOTLB__DOMAIN_MAP)
		return -EOPNOTSUPP;
	if (size - 1 > UINT64_MAX - iova || size - 1 > UINT64_MAX - gpa)
		return -EOVERFLOW;
	last = iova + size - 1;
	pthread_mutex_lock(&dom->lock);
	i = map_first(dom, iova);
	/* virtio-iommu: a MAP overlapping a mapping is refused (spec 5.13.6.6). */
	if (i < dom->niv && dom->iv[i].start <= last) {
		ret = -EEXIST;
		goto out;
	}
	if (dom->niv == dom->aiv) {
		size_t na = dom->aiv ? dom->aiv * 2 : 64;
		struct iotlb__map_iv *p = realloc(dom->iv, na * sizeof(*p));

		if (!p) {
			ret = -ENOMEM;
			goto out;
		}
		dom->iv = p;
		dom->aiv = na;
	}
	memmove(&dom->iv[i + 1], &dom->iv[i], (dom->niv - i) * sizeof(*dom->iv));
	dom->iv[i].start = iova;
	dom->iv[i].last = last;
	dom->iv[i].gpa = gpa;
	dom->iv[i].perm = perm;
	dom->niv++;
out:
	pthread_mutex_unlock(&dom->lock);
	return ret;
}

/* Removes every byte of [iova, iova+size) from the map, splitting cut intervals. */
IOTLB_EXPORT int iotlb_domain_unmap(struct iotlb_domain *dom, uint64_t iova,
				    uint64_t size)
{
	uint64_t last;
	size_t i, j;
	int ret = 0;

	if (!dom || !size)
		return -EINVAL;
	if (dom->kind != IOTLB__DOMAIN_MAP)
		return -EOPNOTSUPP;
	if (size - 1 > UINT64_MAX - iova)
		return -EOVERFLOW;
	last = iova + size - 1;
	pthread_mutex_lock(&dom->lock);
	i = map_first(dom, iova);
	if (i < dom->niv && dom->iv[i].start < iova && dom->iv[i].last > last) {
		struct iotlb__map_iv tail = dom->iv[i];

		if (dom->niv == dom->aiv) {
			struct iotlb__map_iv *p = realloc(dom->iv, dom->aiv * 2 * sizeof(*p));

			if (!p) {
				ret = -ENOMEM;
				goto out;
			}
			dom->iv = p;
			dom->aiv *= 2;
		}
		tail.gpa += last + 1 - tail.start;
		tail.start = last + 1;
		dom->iv[i].last = iova - 1;
		memmove(&dom->iv[i + 2], &dom->iv[i + 1],
			(dom->niv - i - 1) * sizeof(*dom->iv));
		dom->iv[i + 1] = tail;
		dom->niv++;
		goto out;
	}
	if (i < dom->niv && dom->iv[i].start < iova) {
		dom->iv[i].last = iova - 1;
		i++;
	}
	for (j = i; j < dom->niv && dom->iv[j].last <= last; j++)
		;
	if (j < dom->niv && dom->iv[j].start <= last) {
		dom->iv[j].gpa += last + 1 - dom->iv[j].start;
		dom->iv[j].start = last + 1;
	}
	memmove(&dom->iv[i], &dom->iv[j], (dom->niv - j) * sizeof(*dom->iv));
	dom->niv -= j - i;
out:
	pthread_mutex_unlock(&dom->lock);
	return ret;
}

static int map_walk(struct iotlb_domain *d, uint64_t iova, unsigned int access,
		    struct iotlb_walk_result *res,
		    struct iotlb_walk_faultinfo *fault)
{
	size_t i = map_first(d, iova);
	const struct iotlb__map_iv *v;

	if (i >= d->niv || d->iv[i].start > iova) {
		fault->reason = IOTLB_WALK_NOT_PRESENT;
		fault->addr = iova;
		return IOTLB_WALK_FAULTED;
	}
	v = &d->iv[i];
	if ((v->perm & access) != access) {
		fault->reason = IOTLB_WALK_PERMISSION;
		fault->addr = iova;
		return IOTLB_WALK_FAULTED;
	}
	res->iova = v->start;
	/* A full 2^64 interval cannot be mapped: size - 1 fits. */
	res->size = v->last - v->start + 1;
	res->gpa = v->gpa;
	res->perm = v->perm;
	res->level = 1;
	res->mem_reads = 0;
	return 0;
}

/* ---- translation and coalescing ---- */

static int domain_walk(struct iotlb_domain *d, uint64_t iova,
		       unsigned int access, struct iotlb_walk_result *res,
		       struct iotlb_walk_faultinfo *fault)
{
	int r;

	memset(fault, 0, sizeof(*fault));
	memset(res, 0, sizeof(*res));
	d->st.walks++;
	if (d->kind == IOTLB__DOMAIN_MAP)
		r = map_walk(d, iova, access, res, fault);
	else
		r = iotlb__domain_walk_pgtable(d, iova, access, res, fault, NULL);
	/* Faulted walks read guest memory too. */
	if (r >= 0)
		d->st.mem_reads += res->mem_reads;
	return r;
}

static int domain_fault(struct iotlb_domain *d, struct iotlb_translation *out,
			uint32_t reason, const struct iotlb_walk_faultinfo *f)
{
	memset(out, 0, sizeof(*out));
	out->fault = reason;
	if (f) {
		out->fault_level = f->level;
		out->fault_stage = f->stage;
		out->fault_entry_gpa = f->entry_gpa;
		out->fault_entry = f->entry;
	}
	d->st.faults++;
	if (reason < IOTLB_ARRAY_SIZE(d->st.faults_by_reason))
		d->st.faults_by_reason[reason]++;
	return IOTLB_TRANSLATE_FAULT;
}

/*
 * Take the next (dir > 0) or previous leaf straight from the table next to
 * cur's entry when its value is exactly what a contiguous neighbour with
 * the same flags would hold (walk.h, leaf_step): one guest read instead of
 * a walk.  cur moves to that leaf.
 */
static bool scan_neighbour(struct iotlb_domain *d,
			   struct iotlb_walk_result *cur, int dir)
{
	uint64_t egpa, v, want;

	if (!cur->leaf_step)
		return false;
	if (dir > 0) {
		egpa = cur->leaf_entry_gpa + 8;
		if (!(egpa & 0xfff))
			return false;	/* next 4 KiB of table: walk */
		want = cur->leaf_entry + cur->leaf_step;
	} else {
		if (!(cur->leaf_entry_gpa & 0xfff))
			return false;
		egpa = cur->leaf_entry_gpa - 8;
		want = cur->leaf_entry - cur->leaf_step;
	}
	if (iotlb__mem_read_u64(d->mem, egpa, &v) || v != want)
		return false;
	d->st.mem_reads++;
	d->st.scan_hits++;
	cur->leaf_entry_gpa = egpa;
	cur->leaf_entry = v;
	if (dir > 0) {
		cur->iova += cur->size;
		cur->gpa += cur->size;
	} else {
		cur->iova -= cur->size;
		cur->gpa -= cur->size;
	}
	return true;
}

/*
 * The answer starts as the leaf that maps iova, cut to the guest-memory
 * region holding it (one UPDATE must be host-contiguous), then grows over
 * neighbouring leaves while they continue the same guest-physical run
 * with exactly the same grant, inside the naturally aligned window of
 * answer_limit bytes around iova (DESIGN.md "Permission of an answer").
 */
IOTLB_EXPORT int iotlb_domain_translate(struct iotlb_domain *dom,
					uint64_t iova, uint32_t access,
					struct iotlb_translation *out)
{
	struct iotlb_walk_result res, n, cur;
	struct iotlb_walk_faultinfo f;
	struct iotlb_mem_region reg;
	uint64_t lo, hi, gpa_lo, g, reg_last, wlo, whi;
	uint32_t perm, budget;
	int r;

	if (!dom || !out || !access || (access & ~IOTLB_PERM_RW))
		return -EINVAL;
	pthread_mutex_lock(&dom->lock);
	r = domain_walk(dom, iova, access, &res, &f);
	if (r < 0)
		goto out;
	if (r == IOTLB_WALK_FAULTED) {
		r = domain_fault(dom, out, f.reason, &f);
		goto out;
	}
	g = res.gpa + (iova - res.iova);
	if (iotlb_mem_lookup(dom->mem, g, &reg)) {
		r = domain_fault(dom, out, IOTLB_FAULT_NOT_IN_MEMORY, NULL);
		out->fault_entry_gpa = g;
		goto out;
	}
	perm = res.perm;
	if (reg.flags & IOTLB_MEM_READONLY)
		perm &= ~IOTLB_PERM_WRITE;	/* never let a device write ROM */
	if ((perm & access) != access) {
		r = domain_fault(dom, out, IOTLB_FAULT_PERMISSION, NULL);
		goto out;
	}
	reg_last = reg.gpa + (reg.size - 1);
	lo = res.iova;
	hi = res.iova + (res.size - 1);
	if (g - reg.gpa < iova - lo)
		lo = iova - (g - reg.gpa);
	if (reg_last - g < hi - iova)
		hi = iova + (reg_last - g);
	gpa_lo = g - (iova - lo);

	wlo = iova & ~(dom->answer_limit - 1);
	whi = wlo + (dom->answer_limit - 1);
	if (whi < wlo)
		whi = UINT64_MAX;
	budget = dom->scan_budget;
	cur = res;
	/* Forward: next leaf must continue the gpa run with the same grant. */
	while (hi < whi && budget) {
		uint64_t next = hi + 1, want, nhi;

		budget--;
		/* Stop at the region's end (no wrap at the top of gpa space). */
		if (next - lo > reg_last - gpa_lo)
			break;
		want = gpa_lo + (next - lo);
		if (cur.iova + cur.size == next && scan_neighbour(dom, &cur, 1)) {
			n = cur;
		} else {
			if (domain_walk(dom, next, res.perm, &n, &f))
				break;
			cur = n;
		}
		if (n.perm != res.perm || n.gpa + (next - n.iova) != want)
			break;
		nhi = n.iova + (n.size - 1);
		if (nhi > whi)
			nhi = whi;
		if (nhi - next > reg_last - want)
			nhi = next + (reg_last - want);
		hi = nhi;
	}
	/* Backward, symmetrically. */
	cur = res;
	while (lo > wlo && budget) {
		uint64_t prev = lo - 1, nlo;

		budget--;
		if (gpa_lo == reg.gpa)
			break;
		if (cur.iova == lo && scan_neighbour(dom, &cur, -1)) {
			n = cur;
		} else {
			if (domain_walk(dom, prev, res.perm, &n, &f))
				break;
			cur = n;
		}
		if (n.perm != res.perm || n.gpa + (prev - n.iova) != gpa_lo - 1)
			break;
		nlo = n.iova < wlo ? wlo : n.iova;
		if (prev - nlo > gpa_lo - 1 - reg.gpa)
			nlo = prev - (gpa_lo - 1 - reg.gpa);
		gpa_lo -= lo - nlo;
		lo = nlo;
	}
	if (hi - lo == UINT64_MAX)
		hi--;	/* an UPDATE cannot say 2^64 bytes */
	memset(out, 0, sizeof(*out));
	out->iova = lo;
	out->size = hi - lo + 1;
	out->gpa = gpa_lo;
	out->owner_addr = reg.owner_addr + (gpa_lo - reg.gpa);
	out->perm = perm;
	dom->st.translations++;
	dom->st.bytes_answered += out->size;
	r = 0;
out:
	pthread_mutex_unlock(&dom->lock);
	return r;
}

IOTLB_EXPORT int iotlb_domain_set_answer_limit(struct iotlb_domain *dom,
					       uint64_t bytes)
{
	if (!dom || bytes < 4096 || (bytes & (bytes - 1)))
		return -EINVAL;
	pthread_mutex_lock(&dom->lock);
	dom->answer_limit = bytes;
	/* Enough neighbour walks to fill the window with 4 KiB leaves. */
	dom->scan_budget = bytes / 4096 > DOMAIN_SCAN_BUDGET_MAX ?
			   DOMAIN_SCAN_BUDGET_MAX :
			   bytes / 4096 < DOMAIN_SCAN_BUDGET ?
			   DOMAIN_SCAN_BUDGET : (uint32_t)(bytes / 4096);
	pthread_mutex_unlock(&dom->lock);
	return 0;
}

IOTLB_EXPORT int iotlb_domain_get_stats(struct iotlb_domain *dom,
					struct iotlb_domain_stats *out)
{
	if (!dom || !out)
		return -EINVAL;
	pthread_mutex_lock(&dom->lock);
	*out = dom->st;
	out->tag_domain = out->tag_space = UINT32_MAX;
	iotlb__domain_cache_stats(dom, out);
	pthread_mutex_unlock(&dom->lock);
	return 0;
}
