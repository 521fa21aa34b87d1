/* SPDX-License-Identifier: MIT */
/*
 * libiotlb: userspace service for the Linux vhost device IOTLB.
 *
 * The API contract lives in the man pages (libiotlb(7) and one page per
 * function); this header only groups the declarations.
 */
#ifndef IOTLB_H
#define IOTLB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOTLB_VERSION_MAJOR 0
#define IOTLB_VERSION_MINOR 1
#define IOTLB_VERSION_MICRO 0

/* True when the headers are at least version major.minor. */
#define IOTLB_CHECK_VERSION(major, minor) \
	(IOTLB_VERSION_MAJOR > (major) || \
	 (IOTLB_VERSION_MAJOR == (major) && IOTLB_VERSION_MINOR >= (minor)))

/*
 * version — what the running library is
 */
const char *iotlb_version(void);
int iotlb_check_version(unsigned int major, unsigned int minor);

/*
 * logging — process-wide log sink and priority (syslog levels)
 */
typedef void (*iotlb_log_fn)(void *data, int priority, const char *file,
			     int line, const char *fn, const char *format,
			     va_list args);

void iotlb_set_log_fn(iotlb_log_fn fn, void *data);
int iotlb_set_log_priority(int priority);
int iotlb_get_log_priority(void);

/*
 * iotlb_mem — the VMM's guest RAM layout
 */
struct iotlb_mem;

enum iotlb_mem_flags {
	IOTLB_MEM_READONLY = 1U << 0,	/* guest may not DMA-write it */
	IOTLB_MEM_WRITABLE = 1U << 1,	/* the local mapping may be written */
	_IOTLB_MEM_FLAGS_PAD = 0x7fffffff,
};

struct iotlb_mem_region {
	uint64_t gpa;		/* guest physical address of the first byte */
	uint64_t size;		/* length in bytes, > 0 */
	void *local;		/* where this process reads it (may be NULL) */
	uint64_t owner_addr;	/* where the vhost owner (the VMM) maps it */
	uint32_t flags;		/* enum iotlb_mem_flags */
};

/* Positive return of the lookups: the range was cut at a region end. */
#define IOTLB_MEM_CLAMPED 1

int iotlb_mem_new(struct iotlb_mem **out);
struct iotlb_mem *iotlb_mem_ref(struct iotlb_mem *mem);
struct iotlb_mem *iotlb_mem_unref(struct iotlb_mem *mem);
int iotlb_mem_add_region(struct iotlb_mem *mem,
			 const struct iotlb_mem_region *region);
int iotlb_mem_remove_region(struct iotlb_mem *mem, uint64_t gpa);
int iotlb_mem_get_region_count(const struct iotlb_mem *mem);
int iotlb_mem_get_region(const struct iotlb_mem *mem, unsigned int index,
			 struct iotlb_mem_region *out);
int iotlb_mem_lookup(const struct iotlb_mem *mem, uint64_t gpa,
		     struct iotlb_mem_region *out);
int iotlb_mem_gpa_to_local(const struct iotlb_mem *mem, uint64_t gpa,
			   uint64_t *len, void **local);
int iotlb_mem_gpa_to_owner(const struct iotlb_mem *mem, uint64_t gpa,
			   uint64_t *len, uint64_t *owner_addr,
			   uint32_t *flags);

/*
 * iotlb_domain — one guest I/O address space, shared by the vhost devices
 * attached to it
 */
struct iotlb_domain;

#define IOTLB_PERM_READ  (1U << 0)	/* device may read: VHOST_ACCESS_RO */
#define IOTLB_PERM_WRITE (1U << 1)	/* device may write: VHOST_ACCESS_WO */
#define IOTLB_PERM_RW (IOTLB_PERM_READ | IOTLB_PERM_WRITE)

/* Why a translation failed.  Stable values (statistics, the daemon). */
enum iotlb_fault {
	IOTLB_FAULT_NONE = 0,
	IOTLB_FAULT_NOT_PRESENT = 1,	/* entry not present / not mapped */
	IOTLB_FAULT_PERMISSION = 2,	/* mapped, but the access is not granted */
	IOTLB_FAULT_RESERVED = 3,	/* reserved bit or encoding in an entry */
	IOTLB_FAULT_ADDR_WIDTH = 4,	/* address beyond the configured width */
	IOTLB_FAULT_TABLE_OUTSIDE = 5,	/* a table lies outside guest memory */
	IOTLB_FAULT_NON_CANONICAL = 6,	/* non-canonical input address */
	IOTLB_FAULT_CONTEXT_INVALID = 7, /* context/device/stream entry invalid */
	IOTLB_FAULT_BLOCKED = 8,	/* translation blocked by configuration */
	IOTLB_FAULT_ACCESS_FLAG = 9,	/* Arm access flag clear */
	IOTLB_FAULT_UNSUPPORTED = 10,	/* valid configuration not implemented */
	IOTLB_FAULT_LOOP = 11,		/* walk depth bound exceeded */
	IOTLB_FAULT_AD_UPDATE = 12,	/* accessed/dirty bits could not be set */
	IOTLB_FAULT_NOT_IN_MEMORY = 13,	/* result outside every memory region */
	_IOTLB_FAULT_MAX,
	_IOTLB_FAULT_PAD = 0x7fffffff,
};

const char *iotlb_fault_name(unsigned int fault);

/* The answer to one miss: what an UPDATE would carry. */
struct iotlb_translation {
	uint64_t iova;		/* first byte of the answer (<= the miss) */
	uint64_t size;		/* bytes, > 0 */
	uint64_t gpa;		/* guest physical address of iova */
	uint64_t owner_addr;	/* the VMM's address of iova: UPDATE uaddr */
	uint32_t perm;		/* IOTLB_PERM_*: the guest's whole grant */
	uint32_t fault;		/* enum iotlb_fault, when translate returned 1 */
	uint32_t fault_level;	/* table level of the fault, 0 = context */
	uint32_t fault_stage;	/* 1/2: stage (Arm nested, RISC-V), else 0 */
	uint64_t fault_entry_gpa; /* guest address of the offending entry */
	uint64_t fault_entry;	/* its value */
};

/* Positive return of iotlb_domain_translate(): the guest faulted. */
#define IOTLB_TRANSLATE_FAULT 1

struct iotlb_domain_stats {
	uint64_t translations;	/* translate calls answered */
	uint64_t faults;	/* translate calls that faulted */
	uint64_t faults_by_reason[16];	/* indexed by enum iotlb_fault */
	uint64_t walks;		/* walker invocations (coalescing included) */
	uint64_t scan_hits;	/* neighbours read straight from a leaf table */
	uint64_t mem_reads;	/* guest memory reads by walkers */
	uint64_t bytes_answered;	/* sum of translation sizes */
	uint64_t context_resolves;	/* context/device entry walks */
	uint64_t cache_hits;	/* paging-structure cache hits */
	uint64_t cache_hits_by_level[8]; /* by level of the cached table */
	uint64_t cache_misses;
	uint64_t cache_entries;	/* now */
	uint64_t invalidations;	/* cache invalidation calls */
	/*
	 * Tags of the resolved context, to route the guest's tag-selective
	 * invalidations (DID, ASID, VMID, ...) to the domains they hit;
	 * UINT32_MAX while no context is resolved or the format has none.
	 */
	uint32_t tag_domain;	/* VT-d DID, AMD DomainID, SMMUv3 VMID, RISC-V GSCID */
	uint32_t tag_space;	/* SMMUv3 ASID, RISC-V PSCID, VT-d PASID */
};

/* The vIOMMU as the guest programmed it, for iotlb_domain_new_viommu(). */
enum iotlb_arch {
	IOTLB_ARCH_VTD = 1,		/* Intel VT-d */
	IOTLB_ARCH_AMD = 2,		/* AMD-Vi */
	IOTLB_ARCH_SMMUV3 = 3,		/* Arm SMMUv3 */
	IOTLB_ARCH_RISCV = 4,		/* RISC-V IOMMU */
	_IOTLB_ARCH_PAD = 0x7fffffff,
};

/* struct iotlb_vtd_unit.caps: CAP_REG / ECAP_REG features */
#define IOTLB_VTD_CAP_PT	(1U << 0)	/* ECAP.PT: pass-through */
#define IOTLB_VTD_CAP_SC	(1U << 1)	/* ECAP.SC: SNP bit in legacy mode */
#define IOTLB_VTD_CAP_DT	(1U << 2)	/* ECAP.DT: device TLB (TT=01b) */
#define IOTLB_VTD_CAP_SL2M	(1U << 3)	/* CAP.SLLPS bit 0: 2 MiB SL pages */
#define IOTLB_VTD_CAP_SL1G	(1U << 4)	/* CAP.SLLPS bit 1: 1 GiB SL pages */
#define IOTLB_VTD_CAP_FL1G	(1U << 5)	/* CAP.FL1GP: 1 GiB FL pages */
#define IOTLB_VTD_CAP_FL5L	(1U << 6)	/* CAP.FL5LP: 5-level FL tables */
#define IOTLB_VTD_CAP_SLADS	(1U << 7)	/* ECAP.SLADS: SL A/D bits */
#define IOTLB_VTD_CAP_SRS	(1U << 8)	/* ECAP.SRS: supervisor requests */
#define IOTLB_VTD_CAP_EAFS	(1U << 9)	/* ECAP.EAFS: extended accessed */
#define IOTLB_VTD_CAP_FLTS	(1U << 10)	/* ECAP.FLTS: PGTT=001b */
#define IOTLB_VTD_CAP_SLTS	(1U << 11)	/* ECAP.SLTS: PGTT=010b */
/* struct iotlb_vtd_unit.sagaw: CAP_REG.SAGAW */
#define IOTLB_VTD_SAGAW_39	(1U << 1)	/* 3-level second-level tables */
#define IOTLB_VTD_SAGAW_48	(1U << 2)	/* 4-level */
#define IOTLB_VTD_SAGAW_57	(1U << 3)	/* 5-level */

struct iotlb_vtd_unit {
	uint64_t rta;		/* RTADDR_REG.RTA (root table address) */
	uint32_t caps;		/* IOTLB_VTD_CAP_* */
	uint8_t scalable;	/* RTADDR_REG.TTM: 0 legacy, 1 scalable mode */
	uint8_t haw;		/* host address width (DMAR), 32..52 */
	uint8_t sagaw;		/* IOTLB_VTD_SAGAW_* */
	uint8_t reserved;
};

struct iotlb_amd_unit {
	uint64_t dev_table_base; /* Device Table Base Address register */
	uint32_t max_levels;	/* EFR.HATS levels (4, 5, 6); 0 = 6 */
	uint32_t reserved;
};

/* struct iotlb_smmuv3_unit.features */
#define IOTLB_SMMUV3_F_S1P	(1U << 0)	/* SMMU_IDR0.S1P */
#define IOTLB_SMMUV3_F_S2P	(1U << 1)	/* SMMU_IDR0.S2P */
#define IOTLB_SMMUV3_F_HA	(1U << 2)	/* SMMU_IDR0.HTTU: access flag */
#define IOTLB_SMMUV3_F_STT	(1U << 3)	/* SMMU_IDR3.STT: small TxSZ */

struct iotlb_smmuv3_unit {
	uint64_t strtab_base;	/* SMMU_STRTAB_BASE */
	uint32_t strtab_base_cfg; /* SMMU_STRTAB_BASE_CFG */
	uint32_t features;	/* IOTLB_SMMUV3_F_* */
	uint8_t oas;		/* SMMU_IDR5.OAS, in bits */
	uint8_t sidsize;	/* SMMU_IDR1.SIDSIZE */
	uint8_t ssidsize;	/* SMMU_IDR1.SSIDSIZE */
	uint8_t reserved[5];
};

struct iotlb_riscv_unit {
	uint64_t caps;		/* capabilities register */
	uint64_t ddtp;		/* device-directory-table pointer register */
	uint32_t fctl;		/* features-control register */
	uint32_t fctl_writable;	/* fctl bits the model lets the guest change */
};

struct iotlb_viommu {
	uint32_t arch;		/* enum iotlb_arch */
	uint32_t reserved;
	union {
		struct iotlb_vtd_unit vtd;
		struct iotlb_amd_unit amd;
		struct iotlb_smmuv3_unit smmuv3;
		struct iotlb_riscv_unit riscv;
		uint64_t pad[8];
	} u;
};

/* A request without PASID / SubstreamID / process_id. */
#define IOTLB_NO_PASID UINT32_MAX

/* A guest page table given directly, for iotlb_domain_new_pgtable(). */
enum iotlb_pgtable_format {
	IOTLB_PGTABLE_VTD_SL = 1,	/* VT-d second-level, 3..5 levels */
	IOTLB_PGTABLE_VTD_FL = 2,	/* VT-d first-level (x86-64), 4..5 levels */
	IOTLB_PGTABLE_AMD_V1 = 3,	/* AMD-Vi host page table, 1..6 levels */
	IOTLB_PGTABLE_ARM_S1 = 4,	/* VMSAv8-64 stage 1, TTB0 region */
	IOTLB_PGTABLE_ARM_S2 = 5,	/* VMSAv8-64 stage 2 */
	IOTLB_PGTABLE_RISCV = 6,	/* RISC-V Sv39/Sv48/Sv57 */
	IOTLB_PGTABLE_RISCV_X4 = 7,	/* RISC-V Sv39x4/Sv48x4/Sv57x4 */
	_IOTLB_PGTABLE_PAD = 0x7fffffff,
};

/* struct iotlb_pgtable.flags */
#define IOTLB_PGTABLE_F_AD	(1U << 0)	/* hardware-managed A/D (or AF) */
#define IOTLB_PGTABLE_F_2M	(1U << 1)	/* VT-d: 2 MiB pages allowed */
#define IOTLB_PGTABLE_F_1G	(1U << 2)	/* VT-d: 1 GiB pages allowed */

struct iotlb_pgtable {
	uint32_t format;	/* enum iotlb_pgtable_format */
	uint32_t levels;	/* VT-d, AMD, RISC-V: table depth */
	uint64_t root;		/* guest physical address of the top table */
	uint32_t flags;		/* IOTLB_PGTABLE_F_* */
	uint32_t perm;		/* AMD: DTE IR/IW as IOTLB_PERM_*, 0 = RW */
	uint8_t input_bits;	/* Arm: 64 - TxSZ (or S2T0SZ) */
	uint8_t output_bits;	/* VT-d/Arm: 0 = 52/48; RISC-V: 0 = unchecked */
	uint8_t granule_shift;	/* Arm: 12, 14 or 16 */
	uint8_t start_level;	/* Arm stage 2: initial lookup level, 0..3 */
	uint32_t reserved[5];	/* zero */
};

int iotlb_domain_new_map(struct iotlb_domain **out, struct iotlb_mem *mem);
int iotlb_domain_new_pgtable(struct iotlb_domain **out, struct iotlb_mem *mem,
			     const struct iotlb_pgtable *pt);
int iotlb_domain_new_viommu(struct iotlb_domain **out, struct iotlb_mem *mem,
			    const struct iotlb_viommu *iommu,
			    uint32_t device_id, uint32_t pasid);
int iotlb_domain_invalidate_context(struct iotlb_domain *dom);
int iotlb_domain_invalidate_range(struct iotlb_domain *dom, uint64_t iova,
				  uint64_t size);
int iotlb_domain_invalidate_all(struct iotlb_domain *dom);
struct iotlb_domain *iotlb_domain_ref(struct iotlb_domain *dom);
struct iotlb_domain *iotlb_domain_unref(struct iotlb_domain *dom);
int iotlb_domain_map(struct iotlb_domain *dom, uint64_t iova, uint64_t size,
		     uint64_t gpa, uint32_t perm);
int iotlb_domain_unmap(struct iotlb_domain *dom, uint64_t iova, uint64_t size);
int iotlb_domain_translate(struct iotlb_domain *dom, uint64_t iova,
			   uint32_t access, struct iotlb_translation *out);
int iotlb_domain_set_answer_limit(struct iotlb_domain *dom, uint64_t bytes);
int iotlb_domain_get_stats(struct iotlb_domain *dom,
			   struct iotlb_domain_stats *out);

/*
 * iotlb_engine — one io_uring serving the misses of many vhost devices;
 * iotlb_device — one vhost fd attached to a domain
 */
struct iotlb_engine;
struct iotlb_device;

/* iotlb_engine_new() flags */
#define IOTLB_ENGINE_NO_ASYNC_WRITES (1U << 0)	/* never IOSQE_ASYNC */
#define IOTLB_ENGINE_SINGLE_READS (1U << 1)	/* never multishot reads */

/* iotlb_engine_add_device() flags */
#define IOTLB_DEVICE_SET_NONBLOCK (1U << 0)	/* set O_NONBLOCK on the fd */
#define IOTLB_DEVICE_NO_PREMAP (1U << 1)	/* reserved: no ring re-mapping */

/* Called for every miss the guest's tables refuse (vIOMMU fault). */
typedef void (*iotlb_fault_fn)(void *data, struct iotlb_device *dev,
			       uint64_t iova, uint32_t access,
			       const struct iotlb_translation *fault);
/* Called once every INVALIDATE of an iotlb_engine_invalidate() completed. */
typedef void (*iotlb_fence_fn)(void *data, int status);

struct iotlb_device_stats {
	uint64_t misses;		/* MISS messages read */
	uint64_t misses_dup;		/* answered by an UPDATE already queued */
	uint64_t misses_faulted;	/* the guest's tables refused them */
	uint64_t misses_lost;		/* no memory to queue the answer */
	uint64_t updates;		/* UPDATE writes completed */
	uint64_t update_bytes;		/* bytes those UPDATEs covered */
	uint64_t invalidates;		/* INVALIDATE writes completed */
	uint64_t invalidates_merged;	/* folded into a queued INVALIDATE */
	uint64_t invalidates_skipped;	/* nothing of the range was mapped */
	uint64_t shadow_evictions;	/* entries the kernel dropped (FIFO) */
	uint64_t shadow_remisses;	/* misses for iovas we had mapped */
	uint64_t pinned_remaps;		/* pinned mappings re-sent before eviction */
	uint64_t remap_overflows;	/* invalidations that cut too many entries */
	uint64_t write_errors;		/* writes the kernel refused */
	uint64_t read_errors;		/* reads that failed */
	uint64_t read_nobufs;		/* multishot reads out of buffers */
	uint64_t bad_messages;		/* unreadable or unexpected messages */
	uint64_t latency_ns_max;	/* miss read -> UPDATE written */
	uint64_t latency_ns_sum;
	uint64_t latency_hist[64];	/* [0] < 1 us, then 4 buckets per octave */
	int32_t state_errno;		/* 0, or why the device stopped (-errno) */
	uint32_t queued;		/* writes waiting now */
};

struct iotlb_engine_stats {
	uint64_t rounds;		/* iotlb_engine_process() calls that did work */
	uint64_t completions;		/* io_uring completions handled */
	uint64_t submits;		/* io_uring_submit() calls */
	uint64_t misses;
	uint64_t updates;
	uint64_t invalidates;
	uint64_t fences;		/* fence callbacks made */
	uint64_t fence_ns_max;		/* invalidate call -> fence callback */
	uint64_t fence_ns_sum;
	uint64_t fence_hist[64];	/* buckets as latency_hist */
	uint32_t devices;
	uint32_t read_mode;		/* 1: re-armed single reads, 2: multishot */
};

int iotlb_engine_new(struct iotlb_engine **out, unsigned int flags);
void iotlb_engine_free(struct iotlb_engine *e);
int iotlb_engine_get_fd(struct iotlb_engine *e);
int iotlb_engine_process(struct iotlb_engine *e);
int iotlb_engine_run(struct iotlb_engine *e);
int iotlb_engine_stop(struct iotlb_engine *e);
void iotlb_engine_set_fault_fn(struct iotlb_engine *e, iotlb_fault_fn fn,
			       void *data);
int iotlb_engine_map(struct iotlb_engine *e, struct iotlb_domain *dom,
		     uint64_t iova, uint64_t size);
int iotlb_engine_invalidate(struct iotlb_engine *e, struct iotlb_domain *dom,
			    uint64_t iova, uint64_t size, iotlb_fence_fn fn,
			    void *data);
int iotlb_engine_get_stats(struct iotlb_engine *e,
			   struct iotlb_engine_stats *out);

int iotlb_engine_add_device(struct iotlb_engine *e, int fd,
			    struct iotlb_domain *dom, unsigned int flags,
			    struct iotlb_device **out);
int iotlb_device_remove(struct iotlb_device *dev);
int iotlb_device_map(struct iotlb_device *dev, uint64_t iova, uint64_t size);
int iotlb_device_restarted(struct iotlb_device *dev);
int iotlb_device_set_max_entries(struct iotlb_device *dev,
				 unsigned int entries);
int iotlb_device_get_stats(struct iotlb_device *dev,
			   struct iotlb_device_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* IOTLB_H */
