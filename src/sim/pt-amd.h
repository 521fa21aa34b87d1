/* SPDX-License-Identifier: MIT */
/*
 * Guest-side builder of AMD-Vi structures (spec 48882 rev 3.x): device
 * table and DTEs (2.2.2), host I/O page tables (2.2.3) with any level
 * count, level skipping and every page size.  Written from the
 * specification, independently of the walker, so the two check each
 * other.  Tables come from a bump allocator over one guest-memory buffer.
 */
#ifndef IOTLB_PT_AMD_H
#define IOTLB_PT_AMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_AMD_R 1U	/* IR, same value as IOTLB_WALK_READ */
#define PT_AMD_W 2U	/* IW, same value as IOTLB_WALK_WRITE */

/* pt_amd_map() flags */
#define PT_AMD_MAP_SKIP (1U << 0)	/* skip levels where the iova allows */

/* One mapping as the builder made it (its own record, for cross-checks). */
struct pt_amd_mapping {
	uint64_t iova;
	uint64_t gpa;
	uint64_t size;
	unsigned int perm;
	unsigned int level;	/* table level holding the leaf entries */
};

struct pt_amd_builder {
	uint8_t *base;		/* local view of the guest buffer */
	uint64_t gpa_base;	/* its guest physical address, 4 KiB aligned */
	uint64_t size;		/* bytes */
	uint64_t next;		/* bump allocator: next free offset */
	unsigned int levels;	/* page table depth (DTE Mode), 0 = none */
	uint64_t root;		/* gpa of the root table */
	unsigned int pde_perm;	/* IR/IW put in new PDEs (default R|W) */
	struct pt_amd_mapping *map;	/* record, malloc'd */
	size_t nmap, map_alloc;
};

/* DTE fields the builder knows how to encode. */
struct pt_amd_dte {
	bool v, tv;
	unsigned int mode;	/* 0..7, written as is */
	uint64_t root;
	unsigned int perm;	/* PT_AMD_R|PT_AMD_W */
	uint16_t domain_id;
};

int pt_amd_init(struct pt_amd_builder *b, void *base, uint64_t gpa_base,
		uint64_t size);
void pt_amd_fini(struct pt_amd_builder *b);

/* A zeroed, 4 KiB aligned page of guest memory; returns its gpa. */
int pt_amd_alloc_page(struct pt_amd_builder *b, uint64_t *gpa);
/* Raw guest memory access (hostile tests). */
int pt_amd_write_u64(struct pt_amd_builder *b, uint64_t gpa, uint64_t val);
int pt_amd_read_u64(const struct pt_amd_builder *b, uint64_t gpa,
		    uint64_t *val);

/* Device table of size_field + 1 pages; *reg is the base register value. */
int pt_amd_devtab_create(struct pt_amd_builder *b, unsigned int size_field,
			 uint64_t *reg);
int pt_amd_dte_set(struct pt_amd_builder *b, uint64_t reg, uint16_t devid,
		   const struct pt_amd_dte *dte);
int pt_amd_dte_write_raw(struct pt_amd_builder *b, uint64_t reg,
			 uint16_t devid, const uint64_t q[4]);
/* Gpa of DeviceID's entry in the table described by reg. */
uint64_t pt_amd_dte_gpa(uint64_t reg, uint16_t devid);

/* Start a page table of 1..6 levels (at most one per builder). */
int pt_amd_pt_create(struct pt_amd_builder *b, unsigned int levels);
/*
 * Map [iova, iova + size) to gpa: size a power of two from 4 KiB to
 * 2^53 bytes, iova and gpa aligned to it.  The default size of a level is
 * written with Next Level 0, other sizes with Next Level 7 replicated over
 * their naturally aligned run of entries.  -EEXIST if anything is mapped
 * there already.
 */
int pt_amd_map(struct pt_amd_builder *b, uint64_t iova, uint64_t gpa,
	       uint64_t size, unsigned int perm, unsigned int flags);
/* Remove / re-permission a mapping made by pt_amd_map() (same iova, size). */
int pt_amd_unmap(struct pt_amd_builder *b, uint64_t iova, uint64_t size);
int pt_amd_protect(struct pt_amd_builder *b, uint64_t iova, uint64_t size,
		   unsigned int perm);
/* The recorded mapping covering iova, or NULL. */
const struct pt_amd_mapping *pt_amd_lookup(const struct pt_amd_builder *b,
					   uint64_t iova);
/*
 * Gpa of the entry at table level `level` that the builder's own tables
 * use for iova: -ENOENT if no such table exists on the path.
 */
int pt_amd_entry_gpa(const struct pt_amd_builder *b, uint64_t iova,
		     unsigned int level, uint64_t *gpa);

#endif /* IOTLB_PT_AMD_H */
