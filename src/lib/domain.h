/* SPDX-License-Identifier: MIT */
/* Domain internals shared by domain.c and the per-format glue. */
#ifndef IOTLB_DOMAIN_H
#define IOTLB_DOMAIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "iotlb.h"
#include "walk.h"

struct iotlb__viommu_ctx;

enum iotlb__domain_kind {
	IOTLB__DOMAIN_MAP = 1,	/* VMM-pushed map table */
	IOTLB__DOMAIN_PGTABLE,	/* a guest page-table format + root */
	IOTLB__DOMAIN_VIOMMU,	/* vIOMMU root + device id (+ PASID) */
};

struct iotlb__map_iv {
	uint64_t start, last, gpa;
	uint32_t perm;
};

struct iotlb_domain {
	atomic_int refcount;
	pthread_mutex_t lock;
	struct iotlb_mem *mem;
	enum iotlb__domain_kind kind;
	uint64_t answer_limit;		/* coalescing window, power of two */
	uint32_t scan_budget;		/* neighbour walks per answer */
	struct iotlb_domain_stats st;

	/* IOTLB__DOMAIN_MAP */
	struct iotlb__map_iv *iv;
	size_t niv, aiv;

	/* IOTLB__DOMAIN_VIOMMU */
	struct iotlb_viommu iommu;
	uint32_t device_id;
	uint32_t pasid;
	struct iotlb__viommu_ctx *ctx;	/* cached context + walk cache */
};

struct iotlb__viommu_ctx;
int iotlb__domain_pgtable_init(struct iotlb_domain *d,
			       const struct iotlb_pgtable *pt);
int iotlb__domain_viommu_init(struct iotlb_domain *d,
			      const struct iotlb_viommu *iommu,
			      uint32_t device_id, uint32_t pasid);
void iotlb__domain_context_invalidate(struct iotlb_domain *d);
void iotlb__domain_cache_invalidate(struct iotlb_domain *d, uint64_t iova,
				    uint64_t size);

/* Walk a page-table or vIOMMU domain (domain lock held). */
int iotlb__domain_walk_pgtable(struct iotlb_domain *d, uint64_t iova,
			       unsigned int access,
			       struct iotlb_walk_result *res,
			       struct iotlb_walk_faultinfo *fault,
			       struct iotlb_walk_trace *trace);
void iotlb__domain_cache_free(struct iotlb_domain *d);
void iotlb__domain_cache_stats(const struct iotlb_domain *d,
			       struct iotlb_domain_stats *out);

#endif /* IOTLB_DOMAIN_H */
