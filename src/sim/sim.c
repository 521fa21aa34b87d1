/* SPDX-License-Identifier: MIT */
/*
 * Simulated vhost device IOTLB.  Every rule below is the kernel's, from
 * shared/reference/vhost-iotlb-kernel.md (section numbers in brackets):
 *
 *  - one 72-byte message per read and per write [§3.1, §4.1];
 *  - misses go on a read list; once read they move to a pending list
 *    [§3.2]; an UPDATE wakes only pending misses it covers, matching
 *    on iova alone [§3.4]; a miss still unread is never woken by an
 *    earlier UPDATE;
 *  - write parsing: short header or unknown envelope -> EINVAL, size-0
 *    UPDATE -> EINVAL, any handler failure -> EFAULT [§4.1, §4.2];
 *    the V2 asid is skipped unless IOTLB_ASID was acked [§4.1 step 2];
 *  - IOTLB: no merging, duplicates coexist, oldest-inserted evicted at
 *    max_iotlb_entries, INVALIDATE drops every overlapping entry whole,
 *    lookups use the overlapping entry with the lowest start [§4.3];
 *  - a ring stops at its first untranslatable access and raises one
 *    miss; it re-runs on a covering UPDATE of a read miss or a kick; a
 *    permission mismatch stalls silently [§3.5];
 *  - SET_FEATURES makes a new empty IOTLB, queued misses survive [§2.3].
 *
 * Which misses the peer has read is learnt from SIOCOUTQ on our end of
 * the socketpair (DESIGN.md "Simulator mechanics"), again before each
 * write is applied, since the peer may run in another process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iotlb-internal.h"
#include "sim.h"
#include "vhost-msg.h"

/* ---- kernel IOTLB model (drivers/vhost/iotlb.c) ---- */

/*
 * An interval treap keyed by (start, insertion seq) and augmented with the
 * subtree's largest last byte, like the kernel's interval tree: lookups
 * find the overlapping entry with the lowest start in O(log n), and no
 * operation is linear in the number of entries (the benchmarks need the
 * simulator to be cheap next to the service).
 */
struct sim_entry {
	uint64_t start, last, uaddr, seq, maxlast;
	uint32_t perm, prio;
	struct sim_entry *l, *r;
};

struct sim_iotlb {
	struct sim_entry *root;
	size_t n;
	uint32_t limit;
	uint64_t next_seq;
	uint64_t prio_state;
	/* insertion order, for FIFO eviction: (start, seq), may hold dead keys */
	struct { uint64_t start, seq; } *fifo;
	size_t fhead, flen, falloc;
};

static void node_fix(struct sim_entry *t)
{
	t->maxlast = t->last;
	if (t->l && t->l->maxlast > t->maxlast)
		t->maxlast = t->l->maxlast;
	if (t->r && t->r->maxlast > t->maxlast)
		t->maxlast = t->r->maxlast;
}

static bool key_less(uint64_t s1, uint64_t q1, uint64_t s2, uint64_t q2)
{
	return s1 < s2 || (s1 == s2 && q1 < q2);
}

/* Split t into keys < (start, seq) and keys >= it. */
static void treap_split(struct sim_entry *t, uint64_t start, uint64_t seq,
			struct sim_entry **lo, struct sim_entry **hi)
{
	if (!t) {
		*lo = *hi = NULL;
		return;
	}
	if (key_less(t->start, t->seq, start, seq)) {
		treap_split(t->r, start, seq, &t->r, hi);
		*lo = t;
	} else {
		treap_split(t->l, start, seq, lo, &t->l);
		*hi = t;
	}
	node_fix(t);
}

static struct sim_entry *treap_merge(struct sim_entry *a, struct sim_entry *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->prio > b->prio) {
		a->r = treap_merge(a->r, b);
		node_fix(a);
		return a;
	}
	b->l = treap_merge(a, b->l);
	node_fix(b);
	return b;
}

/* Lowest-start entry containing addr (vhost_iotlb_itree_first). */
static const struct sim_entry *treap_find(const struct sim_entry *t,
					  uint64_t addr)
{
	while (t && t->maxlast >= addr) {
		const struct sim_entry *hit;

		if (t->l && t->l->maxlast >= addr) {
			hit = treap_find(t->l, addr);
			if (hit)
				return hit;
		}
		if (t->start > addr)
			return NULL;
		if (t->last >= addr)
			return t;
		t = t->r;
	}
	return NULL;
}

static const struct sim_entry *iotlb_find(const struct sim_iotlb *t,
					  uint64_t addr)
{
	return treap_find(t->root, addr);
}

/* Remove the live entry with this key; false when it is already gone. */
static bool iotlb_delete_key(struct sim_iotlb *t, uint64_t start, uint64_t seq)
{
	struct sim_entry *lo, *mid, *hi;
	bool found;

	treap_split(t->root, start, seq, &lo, &hi);
	treap_split(hi, start, seq + 1, &mid, &hi);
	found = mid != NULL;
	if (mid) {
		free(mid);	/* keys are unique: mid is one node */
		t->n--;
	}
	t->root = treap_merge(lo, hi);
	return found;
}

static void iotlb_evict_oldest(struct sim_iotlb *t)
{
	while (t->flen) {
		uint64_t start = t->fifo[t->fhead].start;
		uint64_t seq = t->fifo[t->fhead].seq;

		t->fhead = (t->fhead + 1) % t->falloc;
		t->flen--;
		if (iotlb_delete_key(t, start, seq))
			return;
	}
}

static bool treap_has(const struct sim_entry *t, uint64_t start, uint64_t seq)
{
	while (t) {
		if (t->start == start && t->seq == seq)
			return true;
		t = key_less(start, seq, t->start, t->seq) ? t->l : t->r;
	}
	return false;
}

static void iotlb_fifo_compact(struct sim_iotlb *t)
{
	size_t i, k = 0;

	/* Drop keys of entries INVALIDATE already removed. */
	for (i = 0; i < t->flen; i++) {
		size_t at = (t->fhead + i) % t->falloc;

		if (treap_has(t->root, t->fifo[at].start, t->fifo[at].seq))
			t->fifo[(t->fhead + k++) % t->falloc] = t->fifo[at];
	}
	t->flen = k;
}

static int iotlb_add(struct sim_iotlb *t, uint64_t start, uint64_t last,
		     uint64_t uaddr, uint32_t perm, uint64_t *evicted)
{
	struct sim_entry *e, *lo, *hi;

	if (t->limit && t->n >= t->limit) {
		iotlb_evict_oldest(t);
		(*evicted)++;
	}
	if (t->flen > 2 * t->n + 64)
		iotlb_fifo_compact(t);
	if (t->flen == t->falloc) {
		size_t na = t->falloc ? t->falloc * 2 : 256, k;
		void *f = malloc(na * sizeof(*t->fifo));

		if (!f)
			return -ENOMEM;
		for (k = 0; k < t->flen; k++)
			memcpy((char *)f + k * sizeof(*t->fifo),
			       &t->fifo[(t->fhead + k) % t->falloc],
			       sizeof(*t->fifo));
		free(t->fifo);
		t->fifo = f;
		t->fhead = 0;
		t->falloc = na;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->start = start;
	e->last = last;
	e->uaddr = uaddr;
	e->perm = perm;
	e->seq = t->next_seq++;
	e->prio = (uint32_t)iotlb_sim_rand(&t->prio_state);
	node_fix(e);
	treap_split(t->root, start, e->seq, &lo, &hi);
	t->root = treap_merge(treap_merge(lo, e), hi);
	t->n++;
	t->fifo[(t->fhead + t->flen) % t->falloc].start = start;
	t->fifo[(t->fhead + t->flen) % t->falloc].seq = e->seq;
	t->flen++;
	return 0;
}

/* Detach every node overlapping [start, last] onto *out (pruned walk). */
static struct sim_entry *treap_cut(struct sim_entry *t, uint64_t start,
				   uint64_t last, struct sim_entry **out,
				   uint64_t *removed)
{
	if (!t || t->maxlast < start)
		return t;
	t->l = treap_cut(t->l, start, last, out, removed);
	if (t->start <= last)
		t->r = treap_cut(t->r, start, last, out, removed);
	if (t->start <= last && t->last >= start) {
		struct sim_entry *m = treap_merge(t->l, t->r);

		t->l = *out;
		*out = t;
		(*removed)++;
		return m;
	}
	node_fix(t);
	return t;
}

/*
 * vhost_iotlb_del_range(): every entry with start <= last && end >= start,
 * which for an inverted range (size-0 INVALIDATE, last = iova - 1) hits
 * only entries straddling iova [§4.3].
 */
static uint64_t iotlb_del_range(struct sim_iotlb *t, uint64_t start,
				uint64_t last)
{
	struct sim_entry *dead = NULL;
	uint64_t removed = 0;

	t->root = treap_cut(t->root, start, last, &dead, &removed);
	while (dead) {
		struct sim_entry *next = dead->l;

		free(dead);
		dead = next;
	}
	t->n -= removed;
	return removed;
}

static void treap_free(struct sim_entry *t)
{
	while (t) {
		struct sim_entry *r = t->r;

		treap_free(t->l);
		free(t);
		t = r;
	}
}

static void iotlb_reset(struct sim_iotlb *t)
{
	treap_free(t->root);
	t->root = NULL;
	t->n = 0;
	t->flen = 0;
	t->fhead = 0;
}

/* ---- misses ---- */

struct sim_miss {
	uint64_t iova;
	uint32_t ring;
	uint8_t perm;
};

struct sim_ring {
	struct iotlb_sim_ring_config cfg;
	struct iotlb_sim_buf *chains;	/* ring buffer of chains */
	uint8_t *nbufs;
	size_t head, len, alloc;
	bool queued;			/* will run at the next process() */
	uint32_t outstanding;		/* its misses on read/pending lists */
	struct iotlb_sim_ring_stats st;
};

struct iotlb_sim {
	struct iotlb_sim_config cfg;
	struct iotlb_sim_oracle oracle;
	int fd;				/* our end */
	struct sim_iotlb tlb;

	/* read list: FIFO; the first `sent` entries are in the socket. */
	struct sim_miss *rl;
	size_t rl_head, rl_len, rl_alloc, rl_sent;
	/* pending list: read, waiting for a covering UPDATE */
	struct sim_miss *pl;
	size_t pl_len, pl_alloc;

	struct sim_ring *rings;
	unsigned int nrings;

	struct iotlb_sim_stats st;
	uint64_t nwrites;
	struct iotlb_sim_error errs[IOTLB_SIM_ERROR_LOG];
	unsigned int err_next, err_count;
};

static unsigned int outq_per_msg;
static pthread_once_t outq_once = PTHREAD_ONCE_INIT;

/*
 * The kernel charges each queued AF_UNIX message's skb truesize to the
 * sender (about 768 bytes for 72 bytes of payload); measure it rather
 * than assume it, with two messages to check it is linear.
 */
static void outq_measure(void)
{
	unsigned char msg[IOTLB_VMSG_SIZE] = { 0 };
	int sv[2], one = 0, two = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return;
	if (send(sv[0], msg, sizeof(msg), MSG_DONTWAIT) == sizeof(msg) &&
	    ioctl(sv[0], SIOCOUTQ, &one) == 0 &&
	    send(sv[0], msg, sizeof(msg), MSG_DONTWAIT) == sizeof(msg) &&
	    ioctl(sv[0], SIOCOUTQ, &two) == 0 && one > 0 && two == 2 * one)
		outq_per_msg = (unsigned int)one;
	close(sv[0]);
	close(sv[1]);
}

unsigned int iotlb_sim_outq_per_msg(void)
{
	pthread_once(&outq_once, outq_measure);
	return outq_per_msg;
}

uint64_t iotlb_sim_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void iotlb_sim_config_init(struct iotlb_sim_config *cfg,
			   enum iotlb_sim_profile profile)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_iotlb_entries = 2048;
	cfg->msg_v2 = true;
	cfg->run_budget = 256;
	cfg->user_limit = 0x00007ffffffff000ULL;	/* x86-64 TASK_SIZE_MAX */
	switch (profile) {
	case IOTLB_SIM_KERNEL_5_18:
		cfg->reject_inval_size0 = true;
		cfg->inval_size0_errno = EINVAL;
		break;
	case IOTLB_SIM_KERNEL_7X:
		cfg->reject_inval_size0 = true;
		cfg->inval_size0_errno = EFAULT;
		cfg->one_miss_per_vq = true;
		break;
	case IOTLB_SIM_KERNEL_MAINLINE:
	default:
		break;
	}
}

int iotlb_sim_new(struct iotlb_sim **out, const struct iotlb_sim_config *cfg,
		  const struct iotlb_sim_oracle *oracle, int *peer_fd)
{
	struct iotlb_sim *s;
	int sv[2];

	if (!out || !cfg || !peer_fd)
		return -EINVAL;
	if (!iotlb_sim_outq_per_msg())
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.run_budget)
		s->cfg.run_budget = 256;
	if (oracle)
		s->oracle = *oracle;
	s->tlb.limit = cfg->max_iotlb_entries;
	s->tlb.prio_state = 0x5eed;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0, sv)) {
		int e = -errno;

		free(s);
		return e;
	}
	s->fd = sv[0];
	*peer_fd = sv[1];
	*out = s;
	return 0;
}

void iotlb_sim_free(struct iotlb_sim *sim)
{
	unsigned int i;

	if (!sim)
		return;
	close(sim->fd);
	for (i = 0; i < sim->nrings; i++) {
		free(sim->rings[i].chains);
		free(sim->rings[i].nbufs);
	}
	free(sim->rings);
	free(sim->rl);
	free(sim->pl);
	iotlb_reset(&sim->tlb);
	free(sim->tlb.fifo);
	free(sim);
}

int iotlb_sim_get_fd(const struct iotlb_sim *sim)
{
	return sim->fd;
}

int iotlb_sim_add_ring(struct iotlb_sim *sim,
		       const struct iotlb_sim_ring_config *rc)
{
	struct sim_ring *r;

	if (!rc || !rc->num || (rc->num & (rc->num - 1)))
		return -EINVAL;
	if (sim->nrings >= 1024)
		return -ENOSPC;
	r = realloc(sim->rings, (sim->nrings + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	sim->rings = r;
	r = &sim->rings[sim->nrings];
	memset(r, 0, sizeof(*r));
	r->cfg = *rc;
	return (int)sim->nrings++;
}

int iotlb_sim_ring_push(struct iotlb_sim *sim, unsigned int ring,
			const struct iotlb_sim_buf *bufs, unsigned int n)
{
	struct sim_ring *r;
	size_t at;

	if (ring >= sim->nrings || !n || n > IOTLB_SIM_MAX_BUFS || !bufs)
		return -EINVAL;
	r = &sim->rings[ring];
	if (r->len == r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 64, k;
		struct iotlb_sim_buf *c = malloc(na * IOTLB_SIM_MAX_BUFS * sizeof(*c));
		uint8_t *nb = malloc(na);

		if (!c || !nb) {
			free(c);
			free(nb);
			return -ENOMEM;
		}
		for (k = 0; k < r->len; k++) {
			size_t from = (r->head + k) % r->alloc;

			memcpy(&c[k * IOTLB_SIM_MAX_BUFS],
			       &r->chains[from * IOTLB_SIM_MAX_BUFS],
			       IOTLB_SIM_MAX_BUFS * sizeof(*c));
			nb[k] = r->nbufs[from];
		}
		free(r->chains);
		free(r->nbufs);
		r->chains = c;
		r->nbufs = nb;
		r->head = 0;
		r->alloc = na;
	}
	at = (r->head + r->len) % r->alloc;
	memcpy(&r->chains[at * IOTLB_SIM_MAX_BUFS], bufs, n * sizeof(*bufs));
	r->nbufs[at] = (uint8_t)n;
	r->len++;
	r->st.chains_pending = (uint32_t)r->len;
	return 0;
}

enum xlate { XLATE_OK, XLATE_MISS, XLATE_PERM };
static enum xlate translate(struct iotlb_sim *s, uint64_t iova, uint64_t len,
			    uint8_t access, uint64_t *miss_at);
static void raise_miss(struct iotlb_sim *s, unsigned int ring, uint64_t iova,
		       uint8_t perm);
static void send_misses(struct iotlb_sim *s);

int iotlb_sim_attach(struct iotlb_sim *sim, unsigned int ring)
{
	struct sim_ring *r;
	uint64_t miss_at = 0;

	if (ring >= sim->nrings)
		return -EINVAL;
	r = &sim->rings[ring];
	switch (translate(sim, r->cfg.used, 4, IOTLB_VMSG_PERM_RO, &miss_at)) {
	case XLATE_OK:
		return 0;
	case XLATE_MISS:
		raise_miss(sim, ring, miss_at, IOTLB_VMSG_PERM_RO);
		send_misses(sim);
		return -EFAULT;
	default:
		return -EFAULT;
	}
}

int iotlb_sim_kick(struct iotlb_sim *sim, unsigned int ring)
{
	if (ring >= sim->nrings)
		return -EINVAL;
	sim->rings[ring].queued = true;
	return 0;
}

static int rl_push(struct iotlb_sim *s, const struct sim_miss *m)
{
	if (s->rl_len == s->rl_alloc) {
		size_t na = s->rl_alloc ? s->rl_alloc * 2 : 256, k;
		struct sim_miss *q = malloc(na * sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (k = 0; k < s->rl_len; k++)
			q[k] = s->rl[(s->rl_head + k) % s->rl_alloc];
		free(s->rl);
		s->rl = q;
		s->rl_head = 0;
		s->rl_alloc = na;
	}
	s->rl[(s->rl_head + s->rl_len) % s->rl_alloc] = *m;
	s->rl_len++;
	return 0;
}

static int pl_push(struct iotlb_sim *s, const struct sim_miss *m)
{
	if (s->pl_len == s->pl_alloc) {
		size_t na = s->pl_alloc ? s->pl_alloc * 2 : 256;
		struct sim_miss *q = realloc(s->pl, na * sizeof(*q));

		if (!q)
			return -ENOMEM;
		s->pl = q;
		s->pl_alloc = na;
	}
	s->pl[s->pl_len++] = *m;
	return 0;
}

static bool miss_listed(const struct iotlb_sim *s, uint64_t iova)
{
	size_t k;

	for (k = 0; k < s->rl_len; k++)
		if (s->rl[(s->rl_head + k) % s->rl_alloc].iova == iova)
			return true;
	for (k = 0; k < s->pl_len; k++)
		if (s->pl[k].iova == iova)
			return true;
	return false;
}

/* vhost_iotlb_miss(): queue a MISS for the first untranslated byte. */
static void raise_miss(struct iotlb_sim *s, unsigned int ring, uint64_t iova,
		       uint8_t perm)
{
	struct sim_ring *r = &s->rings[ring];
	struct sim_miss m = { iova, ring, perm };

	if (s->cfg.one_miss_per_vq && r->outstanding) {
		s->st.misses_dropped++;
		return;
	}
	/* Duplicate accounting costs a scan; lists stay short in practice. */
	if (s->rl_len + s->pl_len < 4096 && miss_listed(s, iova))
		s->st.misses_dup++;
	if (rl_push(s, &m))
		return;	/* the kernel drops a miss it cannot allocate, too */
	s->st.misses++;
	r->st.misses++;
	r->outstanding++;
}

/* Push unsent read-list entries into the socket while it has room. */
static void send_misses(struct iotlb_sim *s)
{
	while (s->rl_sent < s->rl_len && !s->st.peer_closed) {
		const struct sim_miss *m =
			&s->rl[(s->rl_head + s->rl_sent) % s->rl_alloc];
		struct iotlb_vmsg v = {
			.envelope = s->cfg.msg_v2 ? IOTLB_VMSG_V2 : IOTLB_VMSG_V1,
			.iova = m->iova,
			.perm = m->perm,
			.type = IOTLB_VMSG_MISS,
		};
		unsigned char buf[IOTLB_VMSG_SIZE];
		ssize_t n;

		iotlb__vmsg_encode(&v, buf, sizeof(buf));
		n = send(s->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EPIPE || errno == ECONNRESET)
				s->st.peer_closed = true;
			return;
		}
		s->rl_sent++;
	}
}

/* Move misses the peer has received from the read list to pending [§3.1]. */
static void sync_reads(struct iotlb_sim *s)
{
	int outq = 0;
	size_t unread, nread;

	if (!s->rl_sent)
		return;
	if (ioctl(s->fd, SIOCOUTQ, &outq) < 0)
		return;
	unread = (size_t)outq / outq_per_msg;
	if (unread > s->rl_sent)
		unread = s->rl_sent;
	nread = s->rl_sent - unread;
	while (nread--) {
		struct sim_miss m = s->rl[s->rl_head];

		s->rl_head = (s->rl_head + 1) % s->rl_alloc;
		s->rl_len--;
		s->rl_sent--;
		s->st.misses_read++;
		if (pl_push(s, &m)) {
			/* No memory: the kernel would have lost it, so do we. */
			if (s->rings[m.ring].outstanding)
				s->rings[m.ring].outstanding--;
		}
	}
}

/* vhost_iotlb_notify_vq(): wake pending misses inside the update [§3.4]. */
static void notify_pending(struct iotlb_sim *s, uint64_t start, uint64_t last)
{
	size_t k = 0;

	while (k < s->pl_len) {
		struct sim_miss *m = &s->pl[k];

		if (m->iova >= start && m->iova <= last) {
			struct sim_ring *r = &s->rings[m->ring];

			r->queued = true;
			if (r->outstanding)
				r->outstanding--;
			s->st.wakeups++;
			*m = s->pl[--s->pl_len];
			continue;
		}
		k++;
	}
}

static void record_error(struct iotlb_sim *s, int err,
			 const struct iotlb_vmsg *msg, const char *why)
{
	struct iotlb_sim_error *e = &s->errs[s->err_next];

	e->seq = s->nwrites;
	e->err = err;
	e->msg = *msg;
	e->why = why;
	s->err_next = (s->err_next + 1) % IOTLB_SIM_ERROR_LOG;
	if (s->err_count < IOTLB_SIM_ERROR_LOG)
		s->err_count++;
	if (err == EINVAL)
		s->st.write_einval++;
	else
		s->st.write_efault++;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* vhost_chr_write_iter() + vhost_process_iotlb_msg() for one message. */
static void apply_write(struct iotlb_sim *s, const unsigned char *buf,
			size_t len)
{
	struct iotlb_vmsg m = { 0 };
	uint32_t env;
	uint64_t last;
	int err;

	s->st.writes++;
	s->nwrites++;
	/* Parse the way the kernel does, not with our strict decoder [§4.1]. */
	if (len < 4) {
		record_error(s, EINVAL, &m, "short header");
		return;
	}
	memcpy(&env, buf, 4);
	m.envelope = env;
	if (env != IOTLB_VMSG_V1 && env != IOTLB_VMSG_V2) {
		record_error(s, EINVAL, &m, "unknown envelope type");
		return;
	}
	if (len < IOTLB_VMSG_MIN_WRITE) {
		record_error(s, EINVAL, &m, "short iotlb message");
		return;
	}
	if (env == IOTLB_VMSG_V2) {
		uint32_t asid;

		memcpy(&asid, buf + 4, 4);
		if (s->cfg.backend_asid)
			m.asid = asid;
		else if (asid)
			s->st.asid_ignored++;
	}
	m.iova = get_u64(buf + 8);
	m.size = get_u64(buf + 16);
	m.uaddr = get_u64(buf + 24);
	m.perm = buf[32];
	m.type = buf[33];

	if (m.type == IOTLB_VMSG_UPDATE && m.size == 0) {
		record_error(s, EINVAL, &m, "UPDATE with size 0");
		return;
	}
	if (m.type == IOTLB_VMSG_INVALIDATE && m.size == 0 &&
	    s->cfg.reject_inval_size0) {
		record_error(s, s->cfg.inval_size0_errno, &m,
			     "INVALIDATE with size 0");
		return;
	}
	/* From here on every failure is returned to the writer as EFAULT. */
	if (m.asid != 0) {
		record_error(s, EFAULT, &m, "asid != 0");
		return;
	}
	switch (m.type) {
	case IOTLB_VMSG_UPDATE:
		/* umem_access_ok(): overflow and access_ok() range only */
		if (m.size - 1 > UINT64_MAX - m.uaddr ||
		    m.uaddr + (m.size - 1) >= s->cfg.user_limit) {
			record_error(s, EFAULT, &m, "uaddr range not in user space");
			return;
		}
		if (m.size - 1 > UINT64_MAX - m.iova) {
			record_error(s, EFAULT, &m, "iova range wraps");
			return;
		}
		last = m.iova + m.size - 1;
		err = iotlb_add(&s->tlb, m.iova, last, m.uaddr,
				m.perm & IOTLB_VMSG_PERM_RW, &s->st.evictions);
		if (err) {
			record_error(s, EFAULT, &m, "no memory for entry");
			return;
		}
		s->st.updates++;
		notify_pending(s, m.iova, last);
		break;
	case IOTLB_VMSG_INVALIDATE:
		s->st.entries_removed +=
			iotlb_del_range(&s->tlb, m.iova, m.iova + m.size - 1);
		s->st.invalidates++;
		break;
	default:
		record_error(s, EFAULT, &m, "message type not accepted by vhost-net");
		return;
	}
}

static void drain_writes(struct iotlb_sim *s, int *work)
{
	unsigned char buf[256];

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0)
			return;
		if (n == 0) {
			s->st.peer_closed = true;
			return;
		}
		/*
		 * Whatever the peer read before writing this has left our
		 * queue by now: account it first, so an UPDATE finds its miss
		 * pending, as the kernel's does.  A peer in another process
		 * can read and answer while we run.
		 */
		sync_reads(s);
		/* Trailing bytes past one message are ignored, like vhost. */
		apply_write(s, buf, (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n);
		(*work)++;
	}
}

/* Check one access against the guest's truth (the stale detector). */
static void check_stale(struct iotlb_sim *s, uint64_t iova, uint64_t len,
			uint64_t uaddr, uint8_t access)
{
	uint64_t done = 0;

	if (!s->oracle.lookup)
		return;
	while (done < len) {
		uint64_t ua, l;
		uint32_t perm;

		if (s->oracle.lookup(s->oracle.ctx, iova + done, &ua, &perm, &l) ||
		    ua != uaddr + done || (perm & access) != access) {
			s->st.stale_accesses++;
			return;
		}
		if (l >= len - done)
			return;
		done += l;
	}
}

/*
 * translate_desc() / iotlb_access_ok(): walk [iova, iova+len) through the
 * IOTLB piece by piece; the first byte without an entry is the miss.
 */
static enum xlate translate(struct iotlb_sim *s, uint64_t iova, uint64_t len,
			    uint8_t access, uint64_t *miss_at)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t a = iova + done, piece;
		const struct sim_entry *e = iotlb_find(&s->tlb, a);

		if (!e) {
			*miss_at = a;
			return XLATE_MISS;
		}
		if ((e->perm & access) != access)
			return XLATE_PERM;
		piece = e->last - a + 1;
		if (!piece || piece > len - done)
			piece = len - done;
		check_stale(s, a, piece, e->uaddr + (a - e->start), access);
		s->st.accesses++;
		s->st.access_bytes += piece;
		done += piece;
	}
	return XLATE_OK;
}

static bool ring_access(struct iotlb_sim *s, unsigned int idx, uint64_t iova,
			uint64_t len, uint8_t access)
{
	struct sim_ring *r = &s->rings[idx];
	uint64_t miss_at = 0;

	switch (translate(s, iova, len, access, &miss_at)) {
	case XLATE_OK:
		return true;
	case XLATE_MISS:
		r->st.stall = IOTLB_SIM_STALL_MISS;
		r->st.stall_iova = miss_at;
		raise_miss(s, idx, miss_at, access);
		return false;
	case XLATE_PERM:
	default:
		/* No miss, no error: the vq just stops [§3.5]. */
		r->st.stall = IOTLB_SIM_STALL_PERM;
		r->st.stall_iova = iova;
		r->st.perm_stalls++;
		return false;
	}
}

/* One handler run: vq_meta_prefetch(), then descriptor chains. */
static void run_ring(struct iotlb_sim *s, unsigned int idx)
{
	struct sim_ring *r = &s->rings[idx];
	const struct iotlb_sim_ring_config *c = &r->cfg;
	uint32_t budget = s->cfg.run_budget;

	r->st.runs++;
	s->st.ring_runs++;
	r->st.stall = IOTLB_SIM_RUNNING;
	if (!ring_access(s, idx, c->desc, IOTLB_SIM_DESC_SIZE(c->num), IOTLB_VMSG_PERM_RO) ||
	    !ring_access(s, idx, c->avail, IOTLB_SIM_AVAIL_SIZE(c->num), IOTLB_VMSG_PERM_RO) ||
	    !ring_access(s, idx, c->used, IOTLB_SIM_USED_SIZE(c->num), IOTLB_VMSG_PERM_WO))
		return;
	while (r->len) {
		const struct iotlb_sim_buf *b = &r->chains[r->head * IOTLB_SIM_MAX_BUFS];
		unsigned int k, n = r->nbufs[r->head];

		if (!budget--) {
			/* vhost_exceeds_weight(): requeue, let others run */
			r->queued = true;
			return;
		}
		for (k = 0; k < n; k++)
			if (!ring_access(s, idx, b[k].iova, b[k].len, b[k].access))
				return;
		r->head = (r->head + 1) % r->alloc;
		r->len--;
		r->st.chains_done++;
		r->st.chains_pending = (uint32_t)r->len;
		s->st.chains_done++;
	}
}

int iotlb_sim_process(struct iotlb_sim *sim)
{
	int work = 0;
	unsigned int i;
	bool again;

	do {
		again = false;
		sync_reads(sim);
		drain_writes(sim, &work);
		for (i = 0; i < sim->nrings; i++) {
			if (!sim->rings[i].queued)
				continue;
			sim->rings[i].queued = false;
			run_ring(sim, i);
			work++;
			/* A ring that exceeded its budget asked to run again. */
			if (sim->rings[i].queued)
				again = true;
		}
		send_misses(sim);
	} while (again);
	return work;
}

void iotlb_sim_restart(struct iotlb_sim *sim)
{
	iotlb_reset(&sim->tlb);
	sim->st.restarts++;
}

void iotlb_sim_clear_msgs(struct iotlb_sim *sim)
{
	unsigned int i;

	/*
	 * Misses already in the socket cannot be recalled; a real device
	 * frees them before they are read.  Forget only what we still hold.
	 */
	sim->rl_len = sim->rl_sent;
	sim->pl_len = 0;
	for (i = 0; i < sim->nrings; i++)
		sim->rings[i].outstanding = 0;
}

int iotlb_sim_ring_stats(const struct iotlb_sim *sim, unsigned int ring,
			 struct iotlb_sim_ring_stats *out)
{
	if (ring >= sim->nrings || !out)
		return -EINVAL;
	*out = sim->rings[ring].st;
	return 0;
}

void iotlb_sim_get_stats(const struct iotlb_sim *sim,
			 struct iotlb_sim_stats *out)
{
	*out = sim->st;
	out->misses_unread = (uint32_t)sim->rl_len;
	out->misses_pending = (uint32_t)sim->pl_len;
	out->entries = (uint32_t)sim->tlb.n;
}

unsigned int iotlb_sim_get_errors(const struct iotlb_sim *sim,
				  struct iotlb_sim_error *out,
				  unsigned int max)
{
	unsigned int n = sim->err_count < max ? sim->err_count : max, k;
	unsigned int first = (sim->err_next + IOTLB_SIM_ERROR_LOG - n) %
			     IOTLB_SIM_ERROR_LOG;

	for (k = 0; k < n; k++)
		out[k] = sim->errs[(first + k) % IOTLB_SIM_ERROR_LOG];
	return n;
}

int iotlb_sim_iotlb_lookup(const struct iotlb_sim *sim, uint64_t iova,
			   uint64_t *start, uint64_t *last, uint64_t *uaddr,
			   uint32_t *perm)
{
	const struct sim_entry *e = iotlb_find(&sim->tlb, iova);

	if (!e)
		return -ENOENT;
	if (start)
		*start = e->start;
	if (last)
		*last = e->last;
	if (uaddr)
		*uaddr = e->uaddr;
	if (perm)
		*perm = e->perm;
	return 0;
}
