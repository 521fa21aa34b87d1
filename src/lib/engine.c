/* SPDX-License-Identifier: MIT */
/*
 * The miss-handling engine: one io_uring reads MISS messages from every
 * attached vhost fd, answers each through its device's domain and writes
 * the UPDATEs back, all writes of a round in one submission.
 *
 * Rules from shared/reference/vhost-iotlb-kernel.md this file lives by:
 *  - one 72-byte message per read and per write (§3.1, §4.1);
 *  - read first, write after: an UPDATE only wakes a miss already read
 *    (§3.4, §9.4), so a miss is answered by an UPDATE submitted after
 *    its read completed, never deduplicated against one already in
 *    flight;
 *  - at most one write in flight per fd: io-wq does not order writes to
 *    one file (DESIGN.md "Engine traps"), so an INVALIDATE can never
 *    overtake an earlier UPDATE of the same device;
 *  - writes to a character device go out with IOSQE_ASYNC: vhost takes
 *    the device and every vq mutex, which must not block the caller's
 *    thread (§4.2, §6); socket writes (the simulator) complete inline.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "vhost-msg.h"

/*
 * IORING_OP_READ_MULTISHOT arrived in Linux 6.7 and liburing 2.5; with an
 * older liburing the opcode comes from the kernel's uapi numbering and
 * the SQE is filled by hand.  The run-time probe decides either way.
 */
#ifndef IORING_OP_READ_MULTISHOT
#define IORING_OP_READ_MULTISHOT 49
#endif
#define ENGINE_BGID 7		/* our provided-buffer group */
#define ENGINE_NBUFS 4096	/* buffers of READ_BUF bytes in the ring */

/* Longest a ready answer waits for the rest of its round. */
#define ENGINE_SUBMIT_NS 20000

#define ENGINE_SQ_ENTRIES 1024
#define ENGINE_CQ_ENTRIES 8192
#define ENGINE_MAX_DEVICES 4096
#define READ_BUF 128		/* >= 72: a shorter vhost read returns 0 */

enum op {
	OP_READ = 1,
	OP_WRITE = 2,
	OP_WAKE = 3,		/* the stop/wake eventfd */
};

struct fence {
	unsigned int pending;
	int status;
	uint64_t t_start;	/* iotlb_engine_invalidate() was called */
	iotlb_fence_fn fn;
	void *data;
};

#define WMSG_FENCES 4		/* fences one merged INVALIDATE may carry */

struct wmsg {
	struct iotlb_vmsg msg;	/* encoded into the device's wbuf when sent */
	uint64_t t_read;	/* when the miss it answers was read, or 0 */
	struct fence *fence[WMSG_FENCES];
	uint64_t ticket;	/* INVALIDATE: its number on this device */
	uint8_t nfence;
};

/*
 * A kernel entry an INVALIDATE is on its way to remove.  Until that write
 * completes the device can still reach anything in the entry, so a later
 * invalidation of any part of it must wait for that write (it queues an
 * INVALIDATE behind it) even though the shadow no longer holds the entry.
 */
struct cutspan {
	uint64_t iova, last, ticket;
};

/*
 * What we believe is in one device's kernel IOTLB, in insertion order:
 * the kernel evicts the oldest entry once it holds max_iotlb_entries
 * (§4.3), so a FIFO of our own writes mirrors it.  Entries are added when
 * the UPDATE is queued, so an invalidation also sees writes not yet made.
 */
struct shadow_ent {
	uint64_t iova, last;
	bool pinned;		/* iotlb_device_map(): keep it resident */
};

#define SHADOW_DEFAULT_BUDGET 2048
#define SHADOW_PIN_MARGIN 16	/* re-insert pinned entries this close to eviction */

struct iotlb_device {
	struct iotlb_engine *e;
	struct iotlb_domain *dom;
	int fd;				/* our own duplicate */
	unsigned int idx;
	bool sock;			/* a socket (simulator): no IOSQE_ASYNC */
	bool read_inflight, write_inflight, cancel_sent;
	bool removed, dead;
	unsigned char rbuf[READ_BUF];
	/*
	 * The message in flight, encoded: one buffer per device, since an
	 * IOSQE_ASYNC write reads it later while the queue may be regrown.
	 */
	unsigned char wbuf[IOTLB_VMSG_SIZE];
	struct wmsg *wq;		/* ring of queued writes */
	uint32_t wq_head, wq_len, wq_alloc;
	uint32_t wq_submitted;		/* queued messages already handed out */
	struct shadow_ent *sh;		/* FIFO ring, budget entries */
	uint32_t sh_head, sh_len, sh_budget;
	struct shadow_ent *remap;	/* still-valid parts cut by INVALIDATEs */
	uint32_t nremap, aremap;
	struct cutspan *cuts;		/* entries being invalidated */
	uint32_t ncuts, acuts;
	uint64_t inv_ticket;		/* INVALIDATEs queued so far */
	int inject[3];			/* fault injection, by enum op; 0 = off */
	struct iotlb_device_stats st;
};

struct iotlb_engine {
	struct io_uring ring;
	int efd;			/* CQE notification eventfd */
	int wake_fd;			/* iotlb_engine_stop() */
	uint64_t wake_buf;
	bool wake_armed;
	atomic_bool stop;
	unsigned int flags;
	struct iotlb_device **devs;
	unsigned int ndevs, adevs;
	unsigned int pending_sqes;
	unsigned int inflight;		/* READ/WRITE/WAKE requests out */
	bool dispatching;		/* inside handle_cqe(): frees wait */
	bool multishot;			/* reads are READ_MULTISHOT */
	uint64_t last_submit;		/* CLOCK_MONOTONIC ns */
	struct io_uring_buf_ring *br;	/* provided buffers for them */
	unsigned char *bufs;
	iotlb_fault_fn fault_fn;
	void *fault_data;
	struct iotlb_engine_stats st;
	int answered;			/* misses answered in this process() */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t ud(void *p, enum op op)
{
	return (uint64_t)(uintptr_t)p | op;
}

static unsigned int lat_bucket(uint64_t ns);

static void engine_submit(struct iotlb_engine *e)
{
	io_uring_submit(&e->ring);
	e->st.submits++;
	e->pending_sqes = 0;
	e->last_submit = now_ns();
}

static struct io_uring_sqe *engine_sqe(struct iotlb_engine *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	if (!sqe) {
		/* SQ full: hand what we have to the kernel and try again. */
		engine_submit(e);
		sqe = io_uring_get_sqe(&e->ring);
	}
	if (sqe)
		e->pending_sqes++;
	return sqe;
}

static void setup_multishot(struct iotlb_engine *e);

static void arm_wake(struct iotlb_engine *e)
{
	struct io_uring_sqe *sqe;

	if (e->wake_armed)
		return;
	sqe = engine_sqe(e);
	if (!sqe)
		return;
	io_uring_prep_read(sqe, e->wake_fd, &e->wake_buf, sizeof(e->wake_buf), 0);
	io_uring_sqe_set_data64(sqe, ud(e, OP_WAKE));
	e->wake_armed = true;
	e->inflight++;
}

/*
 * Reads on an O_NONBLOCK file wait for poll readiness inside io_uring
 * since 5.15 (commit 5d329e1286b0); before that they complete with
 * -EAGAIN and the engine would spin re-arming them.
 */
static bool kernel_ok(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return true;	/* cannot tell: assume a current kernel */
	if (major > 5 || (major == 5 && minor >= 15))
		return true;
	ERR("Linux %s is too old: io_uring waits on non-blocking reads only "
	    "since 5.15", u.release);
	return false;
}

IOTLB_EXPORT int iotlb_engine_new(struct iotlb_engine **out, unsigned int flags)
{
	struct io_uring_params p;
	struct iotlb_engine *e;
	int r;

	if (!out || (flags & ~(IOTLB_ENGINE_NO_ASYNC_WRITES |
			       IOTLB_ENGINE_SINGLE_READS)))
		return -EINVAL;
	if (!kernel_ok())
		return -ENOTSUP;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->flags = flags;
	e->efd = e->wake_fd = -1;
	memset(&p, 0, sizeof(p));
	/* Room for a read and a write of every device, and then some. */
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = ENGINE_CQ_ENTRIES;
	r = io_uring_queue_init_params(ENGINE_SQ_ENTRIES, &e->ring, &p);
	if (r < 0) {
		ERR("io_uring_queue_init: %s", strerror(-r));
		free(e);
		return r;
	}
	e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->efd < 0 || e->wake_fd < 0) {
		r = -errno;
		goto err;
	}
	r = io_uring_register_eventfd(&e->ring, e->efd);
	if (r < 0)
		goto err;
	if (!(flags & IOTLB_ENGINE_SINGLE_READS))
		setup_multishot(e);
	e->st.read_mode = e->multishot ? 2 : 1;
	arm_wake(e);
	engine_submit(e);
	*out = e;
	return 0;
err:
	iotlb_engine_free(e);
	return r;
}

static void device_gone(struct iotlb_device *d, int err);

static void device_free(struct iotlb_device *d)
{
	struct iotlb_engine *e = d->e;

	e->devs[d->idx] = e->devs[--e->ndevs];
	e->devs[d->idx]->idx = d->idx;
	close(d->fd);
	iotlb_domain_unref(d->dom);
	free(d->wq);
	free(d->sh);
	free(d->remap);
	free(d->cuts);
	free(d);
	e->st.devices = e->ndevs;
}

/*
 * Cancel everything in flight and wait (bounded) for the completions, so
 * no io-wq worker still reads a buffer we are about to free.
 */
static void engine_drain(struct iotlb_engine *e)
{
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int tries = 20;

	atomic_store(&e->stop, true);
	while (e->inflight && tries--) {
		sqe = io_uring_get_sqe(&e->ring);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			io_uring_sqe_set_data64(sqe, 0);
		}
		io_uring_submit(&e->ring);
		if (io_uring_wait_cqe_timeout(&e->ring, &cqe, &ts))
			continue;
		do {
			uint64_t op = io_uring_cqe_get_data64(cqe) & 3;

			if (op && !(op == OP_READ && (cqe->flags & IORING_CQE_F_MORE)))
				e->inflight--;
			io_uring_cqe_seen(&e->ring, cqe);
		} while (io_uring_peek_cqe(&e->ring, &cqe) == 0);
	}
}

IOTLB_EXPORT void iotlb_engine_free(struct iotlb_engine *e)
{
	if (!e)
		return;
	if (e->ring.ring_fd >= 0) {
		unsigned int i;

		engine_drain(e);
		io_uring_queue_exit(&e->ring);
		/* Nothing is in flight now: fail every fence still waiting. */
		for (i = 0; i < e->ndevs; i++) {
			e->devs[i]->write_inflight = false;
			device_gone(e->devs[i], -ECANCELED);
		}
	}
	while (e->ndevs)
		device_free(e->devs[0]);
	free(e->devs);
	free(e->bufs);
	free(e->br);
	if (e->efd >= 0)
		close(e->efd);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	free(e);
}

IOTLB_EXPORT int iotlb_engine_get_fd(struct iotlb_engine *e)
{
	if (!e)
		return -EINVAL;
	return e->efd;
}

IOTLB_EXPORT void iotlb_engine_set_fault_fn(struct iotlb_engine *e,
					    iotlb_fault_fn fn, void *data)
{
	if (!e)
		return;
	e->fault_fn = fn;
	e->fault_data = data;
}

/* Give a provided buffer back to the kernel. */
static void recycle_buf(struct iotlb_engine *e, int bid)
{
	if (bid < 0 || !e->br || bid >= ENGINE_NBUFS)
		return;
	io_uring_buf_ring_add(e->br, e->bufs + (size_t)bid * READ_BUF, READ_BUF,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(ENGINE_NBUFS), 0);
	io_uring_buf_ring_advance(e->br, 1);
}

/*
 * Multishot reads when the kernel has them (6.7+): probe the opcode and
 * register a ring of provided buffers; otherwise re-armed single reads.
 */
static void setup_multishot(struct iotlb_engine *e)
{
	struct io_uring_buf_reg reg = { 0 };
	struct io_uring_probe *probe;
	bool ok;
	int i;

	probe = io_uring_get_probe_ring(&e->ring);
	ok = probe && probe->last_op >= IORING_OP_READ_MULTISHOT &&
	     (probe->ops[IORING_OP_READ_MULTISHOT].flags & IO_URING_OP_SUPPORTED);
	io_uring_free_probe(probe);
	if (!ok)
		return;
	if (posix_memalign((void **)&e->br, 4096,
			   ENGINE_NBUFS * sizeof(struct io_uring_buf)))
		return;
	e->bufs = malloc((size_t)ENGINE_NBUFS * READ_BUF);
	if (!e->bufs)
		goto err;
	io_uring_buf_ring_init(e->br);
	reg.ring_addr = (uintptr_t)e->br;
	reg.ring_entries = ENGINE_NBUFS;
	reg.bgid = ENGINE_BGID;
	if (io_uring_register_buf_ring(&e->ring, &reg, 0))
		goto err;
	for (i = 0; i < ENGINE_NBUFS; i++)
		io_uring_buf_ring_add(e->br, e->bufs + (size_t)i * READ_BUF,
				      READ_BUF, (unsigned short)i,
				      io_uring_buf_ring_mask(ENGINE_NBUFS), i);
	io_uring_buf_ring_advance(e->br, ENGINE_NBUFS);
	e->multishot = true;
	return;
err:
	free(e->bufs);
	free(e->br);
	e->bufs = NULL;
	e->br = NULL;
}

static void arm_read(struct iotlb_device *d)
{
	struct io_uring_sqe *sqe;

	if (d->read_inflight || d->dead || d->removed)
		return;
	sqe = engine_sqe(d->e);
	if (!sqe)
		return;	/* retried at the end of the next round */
	if (d->e->multishot) {
		/* One SQE serves every later message, one CQE and buffer each. */
		io_uring_prep_rw(IORING_OP_READ_MULTISHOT, sqe, d->fd, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = ENGINE_BGID;
	} else {
		io_uring_prep_read(sqe, d->fd, d->rbuf, sizeof(d->rbuf), 0);
	}
	io_uring_sqe_set_data64(sqe, ud(d, OP_READ));
	d->read_inflight = true;
	d->e->inflight++;
}

/* Hand the device's next queued write to the kernel, one at a time. */
static void kick_write(struct iotlb_device *d)
{
	struct io_uring_sqe *sqe;
	struct wmsg *m;

	if (d->write_inflight || !d->wq_len || d->dead)
		return;
	sqe = engine_sqe(d->e);
	if (!sqe)
		return;
	m = &d->wq[d->wq_head];
	iotlb__vmsg_encode(&m->msg, d->wbuf, sizeof(d->wbuf));
	io_uring_prep_write(sqe, d->fd, d->wbuf, sizeof(d->wbuf), 0);
	if (!d->sock && !(d->e->flags & IOTLB_ENGINE_NO_ASYNC_WRITES))
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data64(sqe, ud(d, OP_WRITE));
	d->write_inflight = true;
	d->e->inflight++;
	d->wq_submitted = 1;
}

static int queue_write(struct iotlb_device *d, const struct iotlb_vmsg *v,
		       uint64_t t_read, struct fence *f)
{
	struct wmsg *m;

	if (d->wq_len == d->wq_alloc) {
		uint32_t na = d->wq_alloc ? d->wq_alloc * 2 : 16, k;
		struct wmsg *q = malloc(na * sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (k = 0; k < d->wq_len; k++)
			q[k] = d->wq[(d->wq_head + k) % d->wq_alloc];
		free(d->wq);
		d->wq = q;
		d->wq_head = 0;
		d->wq_alloc = na;
	}
	m = &d->wq[(d->wq_head + d->wq_len) % d->wq_alloc];
	m->msg = *v;
	m->t_read = t_read;
	m->fence[0] = f;
	m->nfence = f ? 1 : 0;
	m->ticket = v->type == IOTLB_VMSG_INVALIDATE ? ++d->inv_ticket : 0;
	d->wq_len++;
	return 0;
}

/* ---- shadow of the kernel IOTLB ---- */

static struct shadow_ent *sh_at(struct iotlb_device *d, uint32_t k)
{
	return &d->sh[(d->sh_head + k) % d->sh_budget];
}

static int queue_update(struct iotlb_device *d,
			const struct iotlb_translation *t, uint64_t t_read,
			bool pinned);

/*
 * Map [iova, last] from the domain, one UPDATE per answer.  strict: a
 * piece the guest does not map fails the call (-EFAULT); otherwise it is
 * skipped a page at a time (it was unmapped since we mapped it).
 */
static int map_range(struct iotlb_device *d, uint64_t iova, uint64_t last,
		     bool pinned, bool strict)
{
	uint64_t at = iova;
	int n = 0, r, tries = 1024;

	/* Bounded: whatever is left over is mapped again by its next miss. */
	while (tries--) {
		struct iotlb_translation t;

		r = iotlb_domain_translate(d->dom, at, IOTLB_PERM_READ, &t);
		/* A write-only grant: ask for what the guest gives. */
		if (r == IOTLB_TRANSLATE_FAULT && t.fault == IOTLB_FAULT_PERMISSION)
			r = iotlb_domain_translate(d->dom, at, IOTLB_PERM_WRITE, &t);
		if (r < 0)
			return r;
		if (r && strict)
			return -EFAULT;
		if (r == 0) {
			r = queue_update(d, &t, 0, pinned);
			if (r)
				return r;
			n++;
			if (t.iova + (t.size - 1) >= last)
				break;
			at = t.iova + t.size;
			continue;
		}
		/*
		 * Not mapped here: the guest changed this part, and its next
		 * miss maps whatever is there now.  Scanning on page by page
		 * would cost a walk per unmapped page.
		 */
		break;
	}
	return n;
}

static void sh_add(struct iotlb_device *d, uint64_t iova, uint64_t last,
		   bool pinned)
{
	uint32_t k;

	if (!d->sh)
		return;
	if (d->sh_len == d->sh_budget) {
		/* The kernel drops its oldest entry now (FIFO). */
		d->sh_head = (d->sh_head + 1) % d->sh_budget;
		d->sh_len--;
		d->st.shadow_evictions++;
	}
	sh_at(d, d->sh_len)->iova = iova;
	sh_at(d, d->sh_len)->last = last;
	sh_at(d, d->sh_len)->pinned = pinned;
	d->sh_len++;
	/* Pinned mappings about to be evicted go to the back of the line. */
	for (k = 0; k < SHADOW_PIN_MARGIN && k + SHADOW_PIN_MARGIN < d->sh_len; k++) {
		struct shadow_ent *e = sh_at(d, k);

		if (e->pinned) {
			e->pinned = false;
			d->st.pinned_remaps++;
			map_range(d, e->iova, e->last, true, false);
		}
	}
}

static bool sh_covers(struct iotlb_device *d, uint64_t iova)
{
	uint32_t k;

	for (k = 0; k < d->sh_len; k++) {
		const struct shadow_ent *e = sh_at(d, k);

		if (e->iova <= iova && iova <= e->last)
			return true;
	}
	return false;
}

static int queue_update(struct iotlb_device *d,
			const struct iotlb_translation *t, uint64_t t_read,
			bool pinned)
{
	struct iotlb_vmsg up = {
		.envelope = IOTLB_VMSG_V2,
		.type = IOTLB_VMSG_UPDATE,
		.iova = t->iova,
		.size = t->size,
		.uaddr = t->owner_addr,
		.perm = (uint8_t)t->perm,
	};
	int r = queue_write(d, &up, t_read, NULL);

	if (!r)
		sh_add(d, t->iova, t->iova + (t->size - 1), pinned);
	return r;
}

/* An UPDATE queued but not yet handed to the kernel that covers iova. */
static bool queued_covers(const struct iotlb_device *d, uint64_t iova,
			  uint8_t perm)
{
	uint32_t k;

	for (k = d->wq_submitted; k < d->wq_len; k++) {
		const struct iotlb_vmsg *v =
			&d->wq[(d->wq_head + k) % d->wq_alloc].msg;

		if (v->type == IOTLB_VMSG_UPDATE && v->iova <= iova &&
		    iova - v->iova < v->size && (v->perm & perm) == perm)
			return true;
	}
	return false;
}

static void answer_miss(struct iotlb_device *d, const struct iotlb_vmsg *miss,
			uint64_t t_read)
{
	struct iotlb_engine *e = d->e;
	struct iotlb_translation t;
	uint32_t access = miss->perm & IOTLB_PERM_RW;
	int r;

	d->st.misses++;
	e->st.misses++;
	if (!access)
		access = IOTLB_PERM_READ;
	if (queued_covers(d, miss->iova, (uint8_t)access)) {
		d->st.misses_dup++;
		return;
	}
	r = iotlb_domain_translate(d->dom, miss->iova, access, &t);
	if (r) {
		/* No negative reply exists: the vq stalls; tell the VMM. */
		d->st.misses_faulted++;
		if (r < 0)
			memset(&t, 0, sizeof(t));
		if (e->fault_fn)
			e->fault_fn(e->fault_data, d, miss->iova, access, &t);
		return;
	}
	/* The kernel lost it (eviction, restart) or a copy raced: re-send. */
	if (sh_covers(d, miss->iova))
		d->st.shadow_remisses++;
	if (queue_update(d, &t, t_read, false)) {
		d->st.misses_lost++;
		ERR("device %d: no memory to answer the miss at %#llx", d->fd,
		    (unsigned long long)miss->iova);
		return;
	}
	e->answered++;
	/*
	 * Latency first: a round can hold many misses, each answer a walk of
	 * up to the whole window.  Hand this one to the kernel now when the
	 * round has already been busy a while, instead of at its end.
	 */
	kick_write(d);
	if (e->pending_sqes && now_ns() - e->last_submit > ENGINE_SUBMIT_NS)
		engine_submit(e);
}

static void fence_done(struct iotlb_engine *e, struct fence *f, int status);
static void flush_remaps(struct iotlb_device *d);

static void device_gone(struct iotlb_device *d, int err)
{
	struct wmsg *m;

	d->dead = true;
	d->ncuts = 0;
	if (!d->st.state_errno)
		d->st.state_errno = err;
	/* Fail the fences of writes that will never be made. */
	while (d->wq_len > (d->write_inflight ? 1U : 0U)) {
		unsigned int k;

		m = &d->wq[(d->wq_head + d->wq_len - 1) % d->wq_alloc];
		for (k = 0; k < m->nfence; k++)
			fence_done(d->e, m->fence[k], err);
		d->wq_len--;
	}
}

/*
 * Test hook: the next completion of op on dev reports res instead (a
 * socket cannot fail the way a vhost fd does).  Internal, not exported.
 */
int iotlb__device_inject(struct iotlb_device *dev, unsigned int op, int res)
{
	if (!dev || (op != OP_READ && op != OP_WRITE))
		return -EINVAL;
	dev->inject[op] = res;
	return 0;
}

static int injected(struct iotlb_device *d, enum op op, int res)
{
	int r = d->inject[op];

	if (!r)
		return res;
	d->inject[op] = 0;
	return r;
}

/* Drop the shadow entry of an UPDATE the kernel refused. */
static void sh_forget(struct iotlb_device *d, const struct wmsg *m)
{
	const struct iotlb_vmsg *v = &m->msg;
	uint32_t j;

	for (j = d->sh_len; j-- > 0;) {
		struct shadow_ent *e = sh_at(d, j);

		if (e->iova == v->iova && e->last == v->iova + (v->size - 1)) {
			for (; j + 1 < d->sh_len; j++)
				*sh_at(d, j) = *sh_at(d, j + 1);
			d->sh_len--;
			return;
		}
	}
}

static void on_read(struct iotlb_device *d, int res, unsigned int flags)
{
	struct iotlb_engine *e = d->e;
	const unsigned char *buf = d->rbuf;
	struct iotlb_vmsg m;
	int bid = -1;

	/* A multishot read stays armed while the kernel sets F_MORE. */
	if (!(flags & IORING_CQE_F_MORE)) {
		d->read_inflight = false;
		e->inflight--;
	}
	if (flags & IORING_CQE_F_BUFFER) {
		bid = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
		buf = e->bufs + (size_t)bid * READ_BUF;
	}
	if (d->removed) {
		recycle_buf(e, bid);
		return;
	}
	res = injected(d, OP_READ, res);
	/*
	 * -ECANCELED without a remove: the thread that submitted the read
	 * exited and took its io-wq/poll state with it.  Read again from
	 * this thread; the message, if any, is still queued in the kernel.
	 */
	/* -ENOBUFS: the shared buffers ran out; re-arm when some return. */
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED ||
	    res == -ENOBUFS) {
		if (res == -ENOBUFS)
			d->st.read_nobufs++;
		recycle_buf(e, bid);
		arm_read(d);
		return;
	}
	if (res == 0) {
		/* vhost never returns 0 to a 128-byte read: the peer is gone */
		device_gone(d, -EPIPE);
		return;
	}
	if (res < 0) {
		d->st.read_errors++;
		WARN("device %d: read: %s", d->fd, strerror(-res));
		device_gone(d, res);
		return;
	}
	if (iotlb__vmsg_decode(buf, (size_t)res, 0, &m) < 0 ||
	    m.type != IOTLB_VMSG_MISS)
		d->st.bad_messages++;
	else
		answer_miss(d, &m, now_ns());
	recycle_buf(e, bid);
	arm_read(d);
}

static void fence_done(struct iotlb_engine *e, struct fence *f, int status)
{
	if (status && !f->status)
		f->status = status;
	if (--f->pending)
		return;
	{
		uint64_t lat = now_ns() - f->t_start;

		e->st.fence_ns_sum += lat;
		if (lat > e->st.fence_ns_max)
			e->st.fence_ns_max = lat;
		e->st.fence_hist[lat_bucket(lat)]++;
	}
	f->fn(f->data, f->status);
	e->st.fences++;
	free(f);
}

/* [0] < 1 us; then 4 buckets per octave of us; [63] the rest. */
static unsigned int lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int o, sub, b;

	if (!us)
		return 0;
	o = 63U - (unsigned int)__builtin_clzll(us);
	sub = (unsigned int)((ns << 2) / (1000ULL << o)) - 4;
	if (sub > 3)
		sub = 3;
	b = 1 + 4 * o + sub;
	return b > 63 ? 63 : b;
}

/* The INVALIDATE numbered ticket (and every earlier one) completed. */
static void cuts_done(struct iotlb_device *d, uint64_t ticket)
{
	uint32_t k, w = 0;

	for (k = 0; k < d->ncuts; k++)
		if (d->cuts[k].ticket > ticket)
			d->cuts[w++] = d->cuts[k];
	d->ncuts = w;
}

static void on_write(struct iotlb_device *d, int res)
{
	struct wmsg m = d->wq[d->wq_head];
	unsigned int k;

	d->write_inflight = false;
	d->wq_submitted = 0;
	res = injected(d, OP_WRITE, res);
	if (res == -ECANCELED && !d->removed && !d->dead) {
		/* Its submitter exited (see on_read): write it again. */
		kick_write(d);
		return;
	}
	/* Off the queue before any callback can touch the device. */
	d->wq_head = (d->wq_head + 1) % d->wq_alloc;
	d->wq_len--;
	if (m.msg.type == IOTLB_VMSG_INVALIDATE)
		cuts_done(d, m.ticket);
	if (res == IOTLB_VMSG_SIZE) {
		if (m.msg.type == IOTLB_VMSG_UPDATE) {
			d->st.updates++;
			d->e->st.updates++;
			d->st.update_bytes += m.msg.size;
			if (m.t_read) {
				uint64_t lat = now_ns() - m.t_read;

				d->st.latency_ns_sum += lat;
				if (lat > d->st.latency_ns_max)
					d->st.latency_ns_max = lat;
				d->st.latency_hist[lat_bucket(lat)]++;
			}
		} else {
			d->st.invalidates++;
			d->e->st.invalidates++;
		}
	} else {
		/* EINVAL / EFAULT from vhost, or a dead socket. */
		d->st.write_errors++;
		WARN("device %d: %s write: %s", d->fd,
		     iotlb__vmsg_type_name(m.msg.type),
		     res < 0 ? strerror(-res) : "short write");
		if (m.msg.type == IOTLB_VMSG_UPDATE)
			sh_forget(d, &m);
	}
	if (res == -EPIPE || res == -EBADF || res == -ECONNRESET)
		device_gone(d, res);
	for (k = 0; k < m.nfence; k++)
		fence_done(d->e, m.fence[k], res == IOTLB_VMSG_SIZE ? 0 :
			   res < 0 ? res : -EIO);
	if (!d->removed)
		kick_write(d);
}

static void maybe_free(struct iotlb_device *d)
{
	/* Never under a completion handler: a callback may have removed it. */
	if (d->removed && !d->read_inflight && !d->write_inflight &&
	    !d->e->dispatching)
		device_free(d);
}

static void handle_cqe(struct iotlb_engine *e, struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	enum op op = (enum op)(data & 3);
	void *p = (void *)(uintptr_t)(data & ~3ULL);

	e->st.completions++;
	if (op && op != OP_READ)
		e->inflight--;
	e->dispatching = true;
	switch (op) {
	case OP_READ:
		on_read(p, cqe->res, cqe->flags);
		break;
	case OP_WRITE:
		on_write(p, cqe->res);
		break;
	case OP_WAKE:
		e->wake_armed = false;
		arm_wake(e);
		break;
	default:
		break;	/* cancel requests */
	}
	e->dispatching = false;
	if (op == OP_READ || op == OP_WRITE)
		maybe_free(p);
}

IOTLB_EXPORT int iotlb_engine_process(struct iotlb_engine *e)
{
	struct io_uring_cqe *cqe;
	uint64_t junk;
	unsigned int i, n;
	bool work = false, first = true;

	if (!e)
		return -EINVAL;
	/*
	 * The eventfd is only a hint: one read resets its counter (whatever
	 * it was), then the CQ is drained.  While we drain, completions need
	 * not signal it; that is switched back on before returning, and the
	 * CQ is checked once more after, so none is missed.
	 */
	if (read(e->efd, &junk, sizeof(junk)) < 0 && errno != EAGAIN)
		return -errno;
	io_uring_cq_eventfd_toggle(&e->ring, false);
	e->answered = 0;
	do {
		n = 0;
		while (io_uring_peek_cqe(&e->ring, &cqe) == 0) {
			handle_cqe(e, cqe);
			io_uring_cqe_seen(&e->ring, cqe);
			n++;
		}
		/* Re-arm anything an SQ-full moment left behind. */
		for (i = 0; i < e->ndevs; i++) {
			if (e->devs[i]->nremap && !e->devs[i]->dead)
				flush_remaps(e->devs[i]);
			arm_read(e->devs[i]);
			kick_write(e->devs[i]);
		}
		if (e->pending_sqes)
			engine_submit(e);
		work |= n > 0;
		/* One pass always, to send what iotlb_engine_invalidate() queued. */
		if (first) {
			first = false;
			continue;
		}
	} while (n);
	io_uring_cq_eventfd_toggle(&e->ring, true);
	/* A completion posted while signalling was off: signal it ourselves. */
	if (io_uring_cq_ready(&e->ring)) {
		uint64_t one = 1;

		if (write(e->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			WARN("eventfd: %s", strerror(errno));
	}
	if (work)
		e->st.rounds++;
	return e->answered;
}

IOTLB_EXPORT int iotlb_engine_run(struct iotlb_engine *e)
{
	struct io_uring_cqe *cqe;
	int r;

	if (!e)
		return -EINVAL;
	while (!atomic_load(&e->stop)) {
		r = iotlb_engine_process(e);
		if (r < 0)
			return r;
		if (atomic_load(&e->stop))
			break;
		r = io_uring_wait_cqe(&e->ring, &cqe);
		if (r < 0 && r != -EINTR && r != -EAGAIN)
			return r;
	}
	atomic_store(&e->stop, false);
	return 0;
}

/* Safe from any thread and from a signal handler. */
IOTLB_EXPORT int iotlb_engine_stop(struct iotlb_engine *e)
{
	uint64_t one = 1;

	if (!e)
		return -EINVAL;
	atomic_store(&e->stop, true);
	if (write(e->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

IOTLB_EXPORT int iotlb_engine_add_device(struct iotlb_engine *e, int fd,
					 struct iotlb_domain *dom,
					 unsigned int flags,
					 struct iotlb_device **out)
{
	struct iotlb_device *d;
	struct stat st;
	int fl;

	if (!e || !dom || fd < 0 ||
	    (flags & ~(IOTLB_DEVICE_SET_NONBLOCK | IOTLB_DEVICE_NO_PREMAP)))
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode) && !S_ISSOCK(st.st_mode))
		return -ENOTTY;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	/*
	 * io_uring writes to a blocking vhost fd wait for POLLOUT, which
	 * vhost never signals (§6): they would never complete.
	 */
	if (!(fl & O_NONBLOCK)) {
		if (!(flags & IOTLB_DEVICE_SET_NONBLOCK))
			return -EAGAIN;
		if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -errno;
	}
	if (e->ndevs >= ENGINE_MAX_DEVICES)
		return -ENOSPC;
	if (e->ndevs == e->adevs) {
		unsigned int na = e->adevs ? e->adevs * 2 : 16;
		struct iotlb_device **p = realloc(e->devs, na * sizeof(*p));

		if (!p)
			return -ENOMEM;
		e->devs = p;
		e->adevs = na;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d->fd < 0) {
		int r = -errno;

		free(d);
		if (r == -EMFILE)
			ERR("out of file descriptors (RLIMIT_NOFILE) adding a device");
		return r;
	}
	d->sh_budget = SHADOW_DEFAULT_BUDGET;
	d->sh = calloc(d->sh_budget, sizeof(*d->sh));
	if (!d->sh) {
		close(d->fd);
		free(d);
		return -ENOMEM;
	}
	d->e = e;
	d->dom = iotlb_domain_ref(dom);
	d->sock = S_ISSOCK(st.st_mode);
	d->idx = e->ndevs;
	e->devs[e->ndevs++] = d;
	e->st.devices = e->ndevs;
	arm_read(d);
	engine_submit(e);
	if (out)
		*out = d;
	return 0;
}

/*
 * Detach: cancel the outstanding read; the device's memory and its fd
 * duplicate go once the ring has returned everything in flight.
 */
IOTLB_EXPORT int iotlb_device_remove(struct iotlb_device *dev)
{
	struct iotlb_engine *e;
	struct io_uring_sqe *sqe;

	if (!dev || dev->removed)
		return -EINVAL;
	e = dev->e;
	dev->removed = true;
	device_gone(dev, -ENODEV);
	if (dev->read_inflight) {
		sqe = engine_sqe(e);
		if (sqe) {
			io_uring_prep_cancel64(sqe, ud(dev, OP_READ), 0);
			io_uring_sqe_set_data64(sqe, 0);
			engine_submit(e);
		}
	}
	maybe_free(dev);
	return 0;
}

/*
 * Map [iova, iova+size) ahead of any miss (ring areas before the VMM
 * attaches the backend): one UPDATE per host-contiguous piece.
 */
IOTLB_EXPORT int iotlb_device_map(struct iotlb_device *dev, uint64_t iova,
				  uint64_t size)
{
	int n;

	if (!dev || !size || size - 1 > UINT64_MAX - iova)
		return -EINVAL;
	if (dev->dead)
		return dev->st.state_errno ? dev->st.state_errno : -ENODEV;
	n = map_range(dev, iova, iova + size - 1, true, true);
	if (n < 0)
		return n;
	kick_write(dev);
	engine_submit(dev->e);
	return n;
}

static int remap_later(struct iotlb_device *d, uint64_t iova, uint64_t last,
		       bool pinned)
{
	if (d->nremap == d->aremap) {
		uint32_t na = d->aremap ? d->aremap * 2 : 16;
		struct shadow_ent *p;

		if (na > 4096)
			return -ENOSPC;
		p = realloc(d->remap, na * sizeof(*p));
		if (!p)
			return -ENOMEM;
		d->remap = p;
		d->aremap = na;
	}
	d->remap[d->nremap].iova = iova;
	d->remap[d->nremap].last = last;
	d->remap[d->nremap].pinned = pinned;
	d->nremap++;
	return 0;
}

static void flush_remaps(struct iotlb_device *d)
{
	uint32_t k, n = d->nremap;

	d->nremap = 0;
	for (k = 0; k < n; k++)
		map_range(d, d->remap[k].iova, d->remap[k].last,
			  d->remap[k].pinned, false);
}

/*
 * Merge into the last queued INVALIDATE when it is not handed out yet
 * and the ranges overlap or touch: the union is exactly what both need.
 */
static bool merge_invalidate(struct iotlb_device *d, uint64_t iova,
			     uint64_t last, struct fence *f, uint64_t *ticket)
{
	struct iotlb_vmsg *v;
	struct wmsg *m;
	uint64_t vlast, lo;

	if (d->wq_len <= d->wq_submitted)
		return false;
	m = &d->wq[(d->wq_head + d->wq_len - 1) % d->wq_alloc];
	v = &m->msg;
	if (v->type != IOTLB_VMSG_INVALIDATE || m->nfence >= WMSG_FENCES)
		return false;
	vlast = v->iova + (v->size - 1);
	if ((vlast != UINT64_MAX && vlast + 1 < iova) ||
	    (last != UINT64_MAX && last + 1 < v->iova))
		return false;
	lo = v->iova < iova ? v->iova : iova;
	vlast = vlast > last ? vlast : last;
	if (vlast - lo == UINT64_MAX)
		return false;
	v->iova = lo;
	v->size = vlast - lo + 1;
	m->fence[m->nfence++] = f;
	*ticket = m->ticket;
	d->st.invalidates_merged++;
	return true;
}

/*
 * One device's part of an invalidation.  Devices whose shadow holds
 * nothing in the range need no write.  INVALIDATE drops every overlapping
 * entry whole (§4.3, §9.8), so the still-valid parts of those entries are
 * mapped again right after it, in order on the same fd.
 */
static int cut_add(struct iotlb_device *d, uint64_t iova, uint64_t last,
		   uint64_t ticket)
{
	if (d->ncuts == d->acuts) {
		uint32_t na = d->acuts ? d->acuts * 2 : 16;
		struct cutspan *p = realloc(d->cuts, na * sizeof(*p));

		if (!p)
			return -ENOMEM;
		d->cuts = p;
		d->acuts = na;
	}
	d->cuts[d->ncuts].iova = iova;
	d->cuts[d->ncuts].last = last;
	d->cuts[d->ncuts].ticket = ticket;
	d->ncuts++;
	return 0;
}

static int invalidate_device(struct iotlb_device *d,
			     const struct iotlb_vmsg *inv, struct fence *f)
{
	uint64_t last = inv->iova + (inv->size - 1), ticket = 0;
	uint32_t j, w = 0;
	bool hit = false, overflow = false;

	/* Entries still on their way out count as mapped (see cutspan). */
	for (j = 0; j < d->ncuts; j++)
		if (d->cuts[j].iova <= last && d->cuts[j].last >= inv->iova)
			hit = true;
	for (j = 0; j < d->sh_len; j++) {
		struct shadow_ent *s = sh_at(d, j);

		if (s->iova <= last && s->last >= inv->iova) {
			hit = true;
			/*
			 * Re-mapped at the end of the round, after every
			 * INVALIDATE of the round is queued (and merged),
			 * from the domain as it is then.
			 */
			if (s->iova < inv->iova &&
			    remap_later(d, s->iova, inv->iova - 1, s->pinned))
				overflow = true;
			if (s->last > last &&
			    remap_later(d, last + 1, s->last, s->pinned))
				overflow = true;
			if (cut_add(d, s->iova, s->last, 0))
				return -ENOMEM;
			continue;
		}
		*sh_at(d, w++) = *s;
	}
	d->sh_len = w;
	if (!hit) {
		d->st.invalidates_skipped++;
		return 0;
	}
	if (!merge_invalidate(d, inv->iova, last, f, &ticket)) {
		if (queue_write(d, inv, 0, f))
			return -ENOMEM;
		ticket = d->inv_ticket;
	}
	f->pending++;
	/* The entries just cut go with this INVALIDATE, and so does its range. */
	for (j = 0; j < d->ncuts; j++)
		if (!d->cuts[j].ticket)
			d->cuts[j].ticket = ticket;
	if (cut_add(d, inv->iova, last, ticket))
		return -ENOMEM;
	/* More cut pieces than we re-map at once: their next misses map them. */
	if (overflow)
		d->st.remap_overflows++;
	return 1;
}

/*
 * Push mapping: the VMM learnt of a new guest mapping before any device
 * touched it (VT-d caching mode, virtio-iommu MAP, a map-table domain).
 * Every device of the domain gets the UPDATE ahead of its first access.
 */
IOTLB_EXPORT int iotlb_engine_map(struct iotlb_engine *e,
				  struct iotlb_domain *dom, uint64_t iova,
				  uint64_t size)
{
	unsigned int i;
	int n = 0, r;

	if (!e || !dom || !size)
		return -EINVAL;
	if (size - 1 > UINT64_MAX - iova)
		return -EOVERFLOW;
	for (i = 0; i < e->ndevs; i++) {
		struct iotlb_device *d = e->devs[i];

		if (d->dom != dom || d->dead || d->removed)
			continue;
		r = map_range(d, iova, iova + size - 1, false, true);
		if (r < 0)
			return r;
		n += r;
		kick_write(d);
	}
	if (e->pending_sqes)
		engine_submit(e);
	return n;
}

IOTLB_EXPORT int iotlb_engine_invalidate(struct iotlb_engine *e,
					 struct iotlb_domain *dom,
					 uint64_t iova, uint64_t size,
					 iotlb_fence_fn fn, void *data)
{
	struct iotlb_vmsg inv = { .envelope = IOTLB_VMSG_V2,
				  .type = IOTLB_VMSG_INVALIDATE,
				  .iova = iova, .size = size };
	struct fence *f;
	unsigned int i;
	int r;

	if (!e || !dom || !fn || !size || size - 1 > UINT64_MAX - iova)
		return -EINVAL;
	r = iotlb_domain_invalidate_range(dom, iova, size);
	if (r)
		return r;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fn = fn;
	f->t_start = now_ns();
	f->data = data;
	/* Hold a reference while queueing so no completion fires early. */
	f->pending = 1;
	for (i = 0; i < e->ndevs; i++) {
		struct iotlb_device *d = e->devs[i];

		if (d->dom != dom || d->dead || d->removed)
			continue;
		r = invalidate_device(d, &inv, f);
		if (r < 0 && !f->status)
			f->status = r;
	}
	/*
	 * The writes go out in the next iotlb_engine_process(), so that all
	 * invalidations of a round merge; wake whoever waits on the engine.
	 */
	if (f->pending > 1) {
		uint64_t one = 1;

		if (write(e->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			WARN("wake: %s", strerror(errno));
	}
	fence_done(e, f, 0);
	return 0;
}

/*
 * The VMM saw the device restart (VHOST_SET_FEATURES with
 * ACCESS_PLATFORM makes a new, empty kernel IOTLB, §2.3): forget the
 * shadow and map the pinned areas again.
 */
IOTLB_EXPORT int iotlb_device_restarted(struct iotlb_device *dev)
{
	struct shadow_ent pins[64];
	unsigned int n = 0, k;
	uint32_t j;

	if (!dev || dev->removed)
		return -EINVAL;
	if (dev->dead)
		return dev->st.state_errno ? dev->st.state_errno : -ENODEV;
	for (j = 0; j < dev->sh_len && n < IOTLB_ARRAY_SIZE(pins); j++)
		if (sh_at(dev, j)->pinned)
			pins[n++] = *sh_at(dev, j);
	dev->sh_len = 0;
	dev->sh_head = 0;
	for (k = 0; k < n; k++)
		map_range(dev, pins[k].iova, pins[k].last, true, false);
	kick_write(dev);
	engine_submit(dev->e);
	return (int)n;
}

/* The kernel's max_iotlb_entries for this device (module parameter). */
IOTLB_EXPORT int iotlb_device_set_max_entries(struct iotlb_device *dev,
					      unsigned int entries)
{
	struct shadow_ent *n;
	uint32_t keep, k;

	if (!dev || entries < 1 || entries > (1U << 24))
		return -EINVAL;
	n = calloc(entries, sizeof(*n));
	if (!n)
		return -ENOMEM;
	/* Keep the newest ones: the kernel would have evicted the rest. */
	keep = dev->sh_len < entries ? dev->sh_len : entries;
	for (k = 0; k < keep; k++)
		n[k] = *sh_at(dev, dev->sh_len - keep + k);
	free(dev->sh);
	dev->sh = n;
	dev->sh_head = 0;
	dev->sh_len = keep;
	dev->sh_budget = entries;
	return 0;
}

IOTLB_EXPORT int iotlb_engine_get_stats(struct iotlb_engine *e,
					struct iotlb_engine_stats *out)
{
	if (!e || !out)
		return -EINVAL;
	*out = e->st;
	return 0;
}

IOTLB_EXPORT int iotlb_device_get_stats(struct iotlb_device *dev,
					struct iotlb_device_stats *out)
{
	if (!dev || !out)
		return -EINVAL;
	*out = dev->st;
	out->queued = dev->wq_len;
	return 0;
}
