/* SPDX-License-Identifier: MIT */
/*
 * Guest-side builder of Intel VT-d translation structures, written from
 * the specification independently of the walker: root and context tables
 * (legacy and scalable mode), PASID directories and tables, and first- or
 * second-level page tables with 4 KiB, 2 MiB and 1 GiB pages.  Memory
 * comes from a bump allocator over one buffer that the test registers as
 * guest memory at gpa_base.  Every table is 4 KiB, zeroed, 4 KiB aligned.
 */
#ifndef PT_VTD_H
#define PT_VTD_H

#include <stddef.h>
#include <stdint.h>

struct pt_vtd_builder {
	uint8_t *base;		/* local view of the buffer */
	uint64_t gpa_base;	/* its guest physical address, 4 KiB aligned */
	uint64_t size;
	uint64_t next;		/* bump allocator offset */
	unsigned int haw;	/* host address width used for pointer checks */
};

/* Page-table flavours. */
enum pt_vtd_kind {
	PT_VTD_SECOND_LEVEL = 1,
	PT_VTD_FIRST_LEVEL = 2,
};

#define PT_VTD_R	(1U << 0)
#define PT_VTD_W	(1U << 1)

/* One range mapped by pt_vtd_map(), as the builder remembers it. */
struct pt_vtd_mapping {
	uint64_t iova;
	uint64_t gpa;
	uint64_t size;
	uint64_t page_size;
	unsigned int perm;	/* PT_VTD_R | PT_VTD_W */
};

struct pt_vtd_table {
	enum pt_vtd_kind kind;
	unsigned int levels;	/* 3..5 (second level), 4..5 (first level) */
	uint64_t root;		/* gpa of the top table */
	struct pt_vtd_mapping *rec;
	size_t nr_rec;
	size_t alloc_rec;
};

int pt_vtd_init(struct pt_vtd_builder *b, void *base, uint64_t gpa_base,
		uint64_t size, unsigned int haw);
/* A zeroed, 4 KiB aligned page; -ENOMEM when the buffer is exhausted. */
int pt_vtd_alloc(struct pt_vtd_builder *b, uint64_t *gpa);
/* Raw little-endian access to builder memory, for hostile tests. */
int pt_vtd_write64(struct pt_vtd_builder *b, uint64_t gpa, uint64_t val);
int pt_vtd_read64(const struct pt_vtd_builder *b, uint64_t gpa, uint64_t *val);

/* --- root and context structures --- */

int pt_vtd_root_new(struct pt_vtd_builder *b, uint64_t *rta);

/* Legacy context entry (9.3). */
struct pt_vtd_context {
	unsigned int tt;	/* 0 SL, 1 SL + device TLB, 2 pass-through */
	unsigned int aw;	/* 1 = 39 bits, 2 = 48, 3 = 57 */
	uint16_t did;
	uint64_t slptptr;
};
int pt_vtd_legacy_context(struct pt_vtd_builder *b, uint64_t rta,
			  uint8_t bus, uint8_t devfn,
			  const struct pt_vtd_context *c);

/* Scalable-mode context entry (9.4); pasid_dir 0 allocates one. */
struct pt_vtd_sm_context {
	unsigned int pdts;	/* directory holds 2^(pdts + 7) entries */
	uint64_t pasid_dir;
	uint32_t rid_pasid;
	int pasid_enable;
	int rid_priv;
	int dte;
};
int pt_vtd_sm_context(struct pt_vtd_builder *b, uint64_t rta, uint8_t bus,
		      uint8_t devfn, const struct pt_vtd_sm_context *c,
		      uint64_t *pasid_dir);

/* Scalable-mode PASID table entry (9.6). */
struct pt_vtd_pasid {
	unsigned int pgtt;	/* 1 FL, 2 SL, 3 nested, 4 pass-through */
	unsigned int aw;	/* SL / PT: 1..3 */
	uint64_t slptptr;
	uint64_t flptptr;
	unsigned int flpm;	/* 0 = 4-level, 1 = 5-level */
	uint16_t did;
	int sre, wpe, slade, eafe;
};
int pt_vtd_sm_pasid(struct pt_vtd_builder *b, uint64_t pasid_dir,
		    uint32_t pasid, const struct pt_vtd_pasid *p);

/* Where the entries live, for raw rewrites. */
uint64_t pt_vtd_root_entry_gpa(uint64_t rta, uint8_t bus);
int pt_vtd_context_entry_gpa(const struct pt_vtd_builder *b, uint64_t rta,
			     uint8_t bus, uint8_t devfn, int scalable,
			     uint64_t *gpa);
int pt_vtd_pasid_entry_gpa(const struct pt_vtd_builder *b, uint64_t pasid_dir,
			   uint32_t pasid, uint64_t *gpa);

/* --- page tables --- */

int pt_vtd_table_new(struct pt_vtd_builder *b, struct pt_vtd_table *t,
		     enum pt_vtd_kind kind, unsigned int levels);
void pt_vtd_table_free(struct pt_vtd_table *t);
/*
 * Map [iova, iova + size) to gpa with pages of page_size (4 KiB, 2 MiB or
 * 1 GiB) and perm.  First-level pages are user pages (U/S=1) and always
 * readable, so perm must include PT_VTD_R.  -EEXIST when the range
 * collides with a mapping of another page size.
 */
int pt_vtd_map(struct pt_vtd_builder *b, struct pt_vtd_table *t, uint64_t iova,
	       uint64_t gpa, uint64_t size, uint64_t page_size,
	       unsigned int perm);
/* Clear / re-permission whole leaves in [iova, iova + size). */
int pt_vtd_unmap(struct pt_vtd_builder *b, struct pt_vtd_table *t,
		 uint64_t iova, uint64_t size);
int pt_vtd_protect(struct pt_vtd_builder *b, struct pt_vtd_table *t,
		   uint64_t iova, uint64_t size, unsigned int perm);
/* Gpa of the entry for iova at level (levels..1), walking our own tables. */
int pt_vtd_entry_gpa(const struct pt_vtd_builder *b,
		     const struct pt_vtd_table *t, uint64_t iova,
		     unsigned int level, uint64_t *gpa);
/* What the builder's record says about iova: 0 or -ENOENT. */
int pt_vtd_lookup(const struct pt_vtd_table *t, uint64_t iova,
		  struct pt_vtd_mapping *out);

#endif /* PT_VTD_H */
