/* SPDX-License-Identifier: MIT */
/*
 * vIOMMU domains: the glue between a domain and the per-architecture
 * walkers.  The device's context (VT-d root/context/PASID entries, AMD
 * DTE, SMMUv3 STE+CD, RISC-V device context) is resolved once and cached
 * until the VMM forwards a context invalidation, as the hardware's
 * context cache does.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb-internal.h"
#include "domain.h"
#include "walk-amd.h"
#include "walk-arm.h"
#include "walk-riscv.h"
#include "walk-vtd.h"

_Static_assert(IOTLB_SMMUV3_F_S1P == IOTLB_WALK_ARM_F_S1P, "arm features");
_Static_assert(IOTLB_SMMUV3_F_S2P == IOTLB_WALK_ARM_F_S2P, "arm features");
_Static_assert(IOTLB_SMMUV3_F_HA == IOTLB_WALK_ARM_F_HA, "arm features");
_Static_assert(IOTLB_SMMUV3_F_STT == IOTLB_WALK_ARM_F_STT, "arm features");
_Static_assert(IOTLB_NO_PASID == IOTLB_VTD_NO_PASID, "no pasid");
_Static_assert(IOTLB_NO_PASID == IOTLB_WALK_ARM_NO_SSID, "no ssid");

/* Bound of the paging-structure cache of one domain. */
#define DOMAIN_PWC_ENTRIES 1024

struct iotlb__viommu_ctx {
	struct iotlb__walk_cache *pwc_cache;
	struct iotlb_walk_pwc pwc;
	bool valid;
	bool fixed;		/* page-table domain: nothing to resolve */
	union {
		struct iotlb_vtd_pgtable vtd;
		struct iotlb_walk_amd_cfg amd;
		struct iotlb_walk_arm_cfg arm;
		struct iotlb_walk_riscv_cfg riscv;
	} cfg;
};

static int viommu_check(const struct iotlb_viommu *v, uint32_t device_id,
			uint32_t pasid)
{
	switch (v->arch) {
	case IOTLB_ARCH_VTD:
		/* requester id is bus:devfn */
		if (device_id > 0xffff ||
		    (pasid != IOTLB_NO_PASID && pasid > IOTLB_VTD_PASID_MAX))
			return -EINVAL;
		if (pasid != IOTLB_NO_PASID && !v->u.vtd.scalable)
			return -EINVAL;	/* no PASIDs in legacy mode */
		return 0;
	case IOTLB_ARCH_AMD:
		if (device_id > 0xffff || pasid != IOTLB_NO_PASID)
			return -EINVAL;	/* guest (v2) tables are not supported */
		return 0;
	case IOTLB_ARCH_SMMUV3:
		if (pasid != IOTLB_NO_PASID && pasid >= (1U << 20))
			return -EINVAL;
		return 0;
	case IOTLB_ARCH_RISCV:
		if (device_id >= (1U << 24) ||
		    (pasid != IOTLB_NO_PASID && pasid >= (1U << 20)))
			return -EINVAL;
		return 0;
	default:
		return -EPROTONOSUPPORT;
	}
}

static int viommu_resolve(struct iotlb_domain *d,
			  struct iotlb_walk_faultinfo *fault,
			  struct iotlb_walk_trace *trace, uint32_t *reads);

int iotlb__domain_viommu_init(struct iotlb_domain *d,
			      const struct iotlb_viommu *iommu,
			      uint32_t device_id, uint32_t pasid)
{
	int r = viommu_check(iommu, device_id, pasid);

	if (r)
		return r;
	d->ctx = calloc(1, sizeof(*d->ctx));
	if (!d->ctx)
		return -ENOMEM;
	r = iotlb__walk_cache_new(&d->ctx->pwc_cache, DOMAIN_PWC_ENTRIES);
	if (r)
		return r;
	iotlb__walk_cache_pwc(d->ctx->pwc_cache, &d->ctx->pwc);
	d->iommu = *iommu;
	d->device_id = device_id;
	d->pasid = pasid;
	/*
	 * Resolve once now: a description the walker cannot use at all is
	 * refused here (-EINVAL); a context the guest has not set up yet
	 * (a fault) is fine and is looked at again on the first miss.
	 */
	{
		struct iotlb_walk_faultinfo f;
		uint32_t reads = 0;

		r = viommu_resolve(d, &f, NULL, &reads);
		d->st.mem_reads += reads;
	}
	return r < 0 ? r : 0;
}

/* A page-table domain: the configuration the context would have given. */
int iotlb__domain_pgtable_init(struct iotlb_domain *d,
			       const struct iotlb_pgtable *pt)
{
	struct iotlb__viommu_ctx *c;
	bool ad = pt->flags & IOTLB_PGTABLE_F_AD;
	unsigned int i;
	int r;

	if (pt->flags & ~(uint32_t)(IOTLB_PGTABLE_F_AD | IOTLB_PGTABLE_F_2M |
				    IOTLB_PGTABLE_F_1G))
		return -EINVAL;
	for (i = 0; i < IOTLB_ARRAY_SIZE(pt->reserved); i++)
		if (pt->reserved[i])
			return -EINVAL;
	if (pt->perm & ~IOTLB_PERM_RW)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	d->ctx = c;
	r = iotlb__walk_cache_new(&c->pwc_cache, DOMAIN_PWC_ENTRIES);
	if (r)
		return r;
	iotlb__walk_cache_pwc(c->pwc_cache, &c->pwc);
	switch (pt->format) {
	case IOTLB_PGTABLE_VTD_SL:
	case IOTLB_PGTABLE_VTD_FL: {
		struct iotlb_vtd_pgtable *v = &c->cfg.vtd;
		bool sl = pt->format == IOTLB_PGTABLE_VTD_SL;

		if (sl ? pt->levels < 3 || pt->levels > 5 :
			 pt->levels < 4 || pt->levels > 5)
			return -EINVAL;
		d->iommu.arch = IOTLB_ARCH_VTD;
		v->format = sl ? IOTLB_VTD_FMT_SL : IOTLB_VTD_FMT_FL;
		v->root = pt->root;
		v->levels = (uint8_t)pt->levels;
		v->aw = (uint8_t)(12 + 9 * pt->levels);
		v->haw = pt->output_bits ? pt->output_bits : 52;
		v->pasid = IOTLB_VTD_NO_PASID;
		if (sl) {
			v->flags |= (pt->flags & IOTLB_PGTABLE_F_2M) ? IOTLB_VTD_PGT_SL2M : 0;
			v->flags |= (pt->flags & IOTLB_PGTABLE_F_1G) ? IOTLB_VTD_PGT_SL1G : 0;
			v->flags |= ad ? IOTLB_VTD_PGT_SLADE : 0;
		} else {
			v->flags |= (pt->flags & IOTLB_PGTABLE_F_1G) ? IOTLB_VTD_PGT_FL1G : 0;
			v->flags |= ad ? 0 : IOTLB_VTD_PGT_NO_AD;
			v->flags |= IOTLB_VTD_PGT_WITH_PASID;
		}
		break;
	}
	case IOTLB_PGTABLE_AMD_V1:
		if (pt->levels < 1 || pt->levels > IOTLB_WALK_AMD_MAX_LEVELS)
			return -EINVAL;
		d->iommu.arch = IOTLB_ARCH_AMD;
		c->cfg.amd.root = pt->root;
		c->cfg.amd.levels = pt->levels;
		c->cfg.amd.perm = pt->perm ? pt->perm : IOTLB_PERM_RW;
		c->cfg.amd.flags = IOTLB_WALK_AMD_F_DTE_VALID;
		break;
	case IOTLB_PGTABLE_ARM_S1:
	case IOTLB_PGTABLE_ARM_S2: {
		struct iotlb_walk_arm_cfg *a = &c->cfg.arm;
		uint8_t oas = pt->output_bits ? pt->output_bits : 48;

		if (pt->input_bits < 25 || pt->input_bits > 48)
			return -EINVAL;
		d->iommu.arch = IOTLB_ARCH_SMMUV3;
		a->oas = oas;
		a->features = IOTLB_WALK_ARM_F_ALL;
		if (pt->format == IOTLB_PGTABLE_ARM_S1) {
			a->mode = IOTLB_WALK_ARM_S1;
			a->s1.tt[0].ttb = pt->root;
			a->s1.tt[0].tsz = (uint8_t)(64 - pt->input_bits);
			a->s1.tt[0].granule = pt->granule_shift;
			a->s1.tt[1] = a->s1.tt[0];
			a->s1.tt[1].epd = 1;
			a->s1.ips = oas;
			a->s1.ha = ad;
		} else {
			a->mode = IOTLB_WALK_ARM_S2;
			a->s2.ttb = pt->root;
			a->s2.tsz = (uint8_t)(64 - pt->input_bits);
			a->s2.granule = pt->granule_shift;
			a->s2.sl = pt->start_level;
			a->s2.ps = oas;
			a->s2.ha = ad;
		}
		break;
	}
	case IOTLB_PGTABLE_RISCV:
	case IOTLB_PGTABLE_RISCV_X4: {
		struct iotlb_walk_riscv_cfg *v = &c->cfg.riscv;
		uint8_t mode;

		if (pt->levels < 3 || pt->levels > 5)
			return -EINVAL;
		mode = (uint8_t)(IOTLB_RISCV_MODE_SV39 + (pt->levels - 3));
		d->iommu.arch = IOTLB_ARCH_RISCV;
		v->pas = pt->output_bits;
		if (pt->format == IOTLB_PGTABLE_RISCV) {
			v->fs_mode = mode;
			v->fs_root = pt->root;
			v->flags = ad ? IOTLB_WALK_RISCV_SADE : 0;
		} else {
			v->gs_mode = mode;
			v->gs_root = pt->root;
			v->flags = ad ? IOTLB_WALK_RISCV_GADE : 0;
		}
		break;
	}
	default:
		return -EPROTONOSUPPORT;
	}
	/* Refuse now what every translate would refuse later. */
	switch (d->iommu.arch) {
	case IOTLB_ARCH_VTD:
		r = iotlb__walk_vtd_check(&c->cfg.vtd);
		break;
	case IOTLB_ARCH_AMD:
		r = (pt->root & 0xfff) || (pt->root >> 52) ? -EINVAL : 0;
		break;
	case IOTLB_ARCH_SMMUV3:
		r = iotlb__walk_arm_check(&c->cfg.arm);
		/* The initial table must be aligned to the granule at least. */
		if (!r && (pt->root & ((1ULL << pt->granule_shift) - 1)))
			r = -EINVAL;
		break;
	default:
		r = iotlb__walk_riscv_check(&c->cfg.riscv);
		break;
	}
	if (r)
		return r;
	c->valid = true;
	c->fixed = true;
	return 0;
}

/* Resolve the device's context into its walker configuration. */
static int viommu_resolve(struct iotlb_domain *d,
			  struct iotlb_walk_faultinfo *fault,
			  struct iotlb_walk_trace *trace, uint32_t *reads)
{
	struct iotlb__viommu_ctx *c = d->ctx;
	const struct iotlb_viommu *v = &d->iommu;
	int r = -EINVAL;

	d->st.context_resolves++;
	switch (v->arch) {
	case IOTLB_ARCH_VTD: {
		struct iotlb_vtd_iommu u = {
			.rta = v->u.vtd.rta,
			.caps = v->u.vtd.caps,
			.scalable = v->u.vtd.scalable,
			.haw = v->u.vtd.haw,
			.sagaw = v->u.vtd.sagaw,
		};

		r = iotlb__walk_vtd_context(d->mem, &u, (uint16_t)d->device_id,
					    d->pasid, &c->cfg.vtd, fault, trace);
		break;
	}
	case IOTLB_ARCH_AMD: {
		struct iotlb_walk_amd_iommu u = {
			.dev_table_base = v->u.amd.dev_table_base,
			.max_levels = v->u.amd.max_levels,
		};

		r = iotlb__walk_amd_dte(d->mem, &u, (uint16_t)d->device_id,
					&c->cfg.amd, fault, trace);
		break;
	}
	case IOTLB_ARCH_SMMUV3: {
		struct iotlb_walk_arm_smmu u = {
			.strtab_base = v->u.smmuv3.strtab_base,
			.strtab_base_cfg = v->u.smmuv3.strtab_base_cfg,
			.features = v->u.smmuv3.features,
			.oas = v->u.smmuv3.oas,
			.sidsize = v->u.smmuv3.sidsize,
			.ssidsize = v->u.smmuv3.ssidsize,
		};

		r = iotlb__walk_arm_ste(d->mem, &u, d->device_id, d->pasid,
					&c->cfg.arm, reads, fault, trace);
		break;
	}
	case IOTLB_ARCH_RISCV: {
		struct iotlb_walk_riscv_iommu u = {
			.caps = v->u.riscv.caps,
			.ddtp = v->u.riscv.ddtp,
			.fctl = v->u.riscv.fctl,
			.fctl_writable = v->u.riscv.fctl_writable,
		};

		r = iotlb__walk_riscv_dc(d->mem, &u, d->device_id,
					 d->pasid == IOTLB_NO_PASID ? 0 : d->pasid,
					 d->pasid == IOTLB_NO_PASID ? 0 :
					 IOTLB_WALK_RISCV_REQ_PID,
					 &c->cfg.riscv, fault, trace);
		break;
	}
	default:
		break;
	}
	c->valid = r == 0;
	return r;
}

int iotlb__domain_walk_pgtable(struct iotlb_domain *d, uint64_t iova,
			       unsigned int access,
			       struct iotlb_walk_result *res,
			       struct iotlb_walk_faultinfo *fault,
			       struct iotlb_walk_trace *trace)
{
	struct iotlb__viommu_ctx *c = d->ctx;
	uint32_t ctx_reads = 0;
	int r;

	if (!c)
		return -EOPNOTSUPP;
	if (!c->valid) {
		r = viommu_resolve(d, fault, trace, &ctx_reads);
		if (r)
			return r;
	}
	switch (d->iommu.arch) {
	case IOTLB_ARCH_VTD:
		r = iotlb__walk_vtd_pwc(d->mem, &c->cfg.vtd, &c->pwc, iova,
					access, res, fault, trace);
		break;
	case IOTLB_ARCH_AMD:
		r = iotlb__walk_amd_pwc(d->mem, &c->cfg.amd, &c->pwc, iova,
					access, res, fault, trace);
		break;
	case IOTLB_ARCH_SMMUV3:
		r = iotlb__walk_arm_pwc(d->mem, &c->cfg.arm, &c->pwc, iova,
					access, res, fault, trace);
		break;
	case IOTLB_ARCH_RISCV:
		r = iotlb__walk_riscv_pwc(d->mem, &c->cfg.riscv, &c->pwc, iova,
					  access, res, fault, trace);
		break;
	default:
		r = -EOPNOTSUPP;
		break;
	}
	if (r == 0)
		res->mem_reads += ctx_reads;
	return r;
}

void iotlb__domain_context_invalidate(struct iotlb_domain *d)
{
	if (d->ctx && !d->ctx->fixed)
		d->ctx->valid = false;
}

/* size 0: everything (context changes drop every table below it). */
void iotlb__domain_cache_invalidate(struct iotlb_domain *d, uint64_t iova,
				    uint64_t size)
{
	if (!d->ctx)
		return;
	if (size)
		iotlb__walk_cache_invalidate(d->ctx->pwc_cache, iova, size);
	else
		iotlb__walk_cache_flush(d->ctx->pwc_cache);
}

void iotlb__domain_cache_free(struct iotlb_domain *d)
{
	if (!d->ctx)
		return;
	iotlb__walk_cache_free(d->ctx->pwc_cache);
	free(d->ctx);
	d->ctx = NULL;
}

void iotlb__domain_cache_stats(const struct iotlb_domain *d,
			       struct iotlb_domain_stats *out)
{
	struct iotlb__walk_cache_stats st;
	unsigned int i;

	out->tag_domain = out->tag_space = UINT32_MAX;
	if (!d->ctx)
		return;
	if (d->ctx->valid && !d->ctx->fixed) {
		const struct iotlb__viommu_ctx *c = d->ctx;

		switch (d->iommu.arch) {
		case IOTLB_ARCH_VTD:
			out->tag_domain = c->cfg.vtd.did;
			out->tag_space = c->cfg.vtd.pasid;
			break;
		case IOTLB_ARCH_AMD:
			out->tag_domain = c->cfg.amd.domain_id;
			break;
		case IOTLB_ARCH_SMMUV3:
			if (c->cfg.arm.mode & IOTLB_WALK_ARM_S2)
				out->tag_domain = c->cfg.arm.s2.vmid;
			if (c->cfg.arm.mode & IOTLB_WALK_ARM_S1)
				out->tag_space = c->cfg.arm.s1.asid;
			break;
		case IOTLB_ARCH_RISCV:
			out->tag_domain = c->cfg.riscv.gscid;
			out->tag_space = c->cfg.riscv.pscid;
			break;
		default:
			break;
		}
	}
	iotlb__walk_cache_stats(d->ctx->pwc_cache, &st);
	for (i = 0; i < IOTLB_WALK_TRACE_MAX; i++) {
		out->cache_hits += st.hits[i];
		if (i < IOTLB_ARRAY_SIZE(out->cache_hits_by_level))
			out->cache_hits_by_level[i] += st.hits[i];
	}
	out->cache_misses = st.misses;
	out->cache_entries = st.entries;
}
