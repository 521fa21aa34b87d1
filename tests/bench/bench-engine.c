/* SPDX-License-Identifier: MIT */
/*
 * Description: miss services against the simulator, which runs in a
 * second process.  For each workload (static, churn) and device count
 * (1, 64, 1024) and each service in services[] (the same seed for all),
 * this process forks the simulator: it builds the guest's VT-d tables in
 * a shared memfd, owns the simulated vhost devices and runs the
 * workload, and sends the devices' vhost fds back over a control
 * socketpair (SCM_RIGHTS).  This process is the service process: it runs
 * the service on those fds, forwards the guest's unmaps to it and
 * reports each completed fence, and measures its own CPU with
 * getrusage(RUSAGE_SELF) between START and STOP, so the figures hold
 * nothing of the simulator.  They do hold this process's share of the
 * control channel (one recv per guest unmap, one send per fence), the
 * same for every service, as a VMM pays a vCPU exit per invalidation.
 *
 * Control protocol (SOCK_SEQPACKET, one struct ctl_msg per message):
 *   sim -> svc  SETUP (root table address), FDS (a batch of vhost fds)
 *   svc -> sim  READY (service initialised, its ring pre-maps written)
 *   sim -> svc  START, then UNMAP (domain, range, cookie) per guest unmap
 *   svc -> sim  DONE (cookie) once the service's fence completed
 *   sim -> svc  STOP (the simulator's counters), svc -> sim BYE
 *
 * Environment: BENCH_SCALE (ios multiplier, default 1), BENCH_SEED,
 * BENCH_WORKLOADS (static,churn), BENCH_DEVICES (1,64,1024),
 * BENCH_SERVICES (names from services[]).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iotlb.h"
#include "service.h"
#include "sim.h"
#include "vhost-msg.h"
#include "workload.h"

/* Every service bench-engine compares; issue 5 adds &bench_svc_engine ("ours"). */
static const struct bench_service_ops *const services[] = {
	&bench_svc_qemu,
	&bench_svc_engine,
};

#define OURS "ours"
#define THEIRS "qemu"

/*
 * Default run sizes: ios in all, at BENCH_SCALE=1 (one io = one
 * descriptor chain).  Static runs give each device (at 1 and 64 devices)
 * 20000 ios or more, enough for its 16384-page working set to reach
 * steady state behind a 2048-entry IOTLB; at 1024 devices they measure
 * scaling, mostly cold.  The whole default run of one service takes
 * about a minute on two cores.
 */
static const struct run_size {
	enum bench_wl_kind kind;
	unsigned int devices;
	uint64_t ios;
} run_sizes[] = {
	{ BENCH_WL_STATIC, 1, 400000 },
	{ BENCH_WL_STATIC, 64, 1280000 },
	{ BENCH_WL_STATIC, 1024, 524288 },
	{ BENCH_WL_CHURN, 1, 200000 },
	{ BENCH_WL_CHURN, 64, 256000 },
	{ BENCH_WL_CHURN, 1024, 262144 },
};
/* Chains queued per ring: a full-ish ring; a few mapped buffers in strict mode. */
#define STATIC_DEPTH 128
#define CHURN_DEPTH 8
#define FD_BATCH 200		/* below SCM_MAX_FD (253) */
#define STUCK_SECONDS 20.0

enum ctl_type {
	CTL_SETUP = 1,
	CTL_FDS = 2,
	CTL_READY = 3,
	CTL_START = 4,
	CTL_UNMAP = 5,
	CTL_DONE = 6,
	CTL_STOP = 7,
	CTL_BYE = 8,
	CTL_FAIL = 9,
};

/* What the simulator saw, sent with STOP. */
struct sim_result {
	uint64_t ios;		/* descriptor chains completed */
	uint64_t misses;	/* MISS messages the kernel model raised */
	uint64_t misses_dup;	/* ... for an iova already queued or pending */
	uint64_t updates;	/* UPDATEs applied */
	uint64_t invalidates;	/* INVALIDATEs applied */
	uint64_t entries_removed;
	uint64_t evictions;	/* FIFO evictions at max_iotlb_entries */
	uint64_t stale;		/* accesses through a translation the guest removed */
	uint64_t write_errors;	/* writes the kernel would have failed */
	uint64_t unmaps;	/* guest unmaps (fences) */
	uint64_t fence_p50, fence_p99;	/* ns, UNMAP sent -> DONE received */
	uint32_t stuck;		/* no progress for STUCK_SECONDS */
	uint32_t pad;
};

struct ctl_msg {
	uint32_t type;
	uint32_t n;		/* FDS: fds attached; UNMAP: domain id; FAIL: errno */
	uint64_t a;		/* SETUP: rta; FDS: first device; UNMAP: iova */
	uint64_t b;		/* UNMAP: size */
	uint64_t c;		/* UNMAP, DONE: cookie */
	struct sim_result res;	/* STOP */
};

struct opts {
	double scale;
	uint64_t seed;
	bool kinds[3];
	unsigned int devices[8];
	unsigned int ndevices;
	const struct bench_service_ops *svcs[8];
	unsigned int nsvcs;
};

struct run_result {
	const char *svc;
	enum bench_wl_kind kind;
	unsigned int devices;
	bool ran;
	const char *problem;
	struct bench_service_stats st;	/* START..STOP */
	uint64_t lat_p50, lat_p99;	/* ns */
	double cpu, wall;		/* seconds */
	struct sim_result sim;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- control channel ---------------------------------------------------- */

static int ctl_send(int fd, const struct ctl_msg *m, const int *fds,
		    unsigned int nfds, int flags)
{
	union {
		char buf[CMSG_SPACE(FD_BATCH * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(*m) ? 0 : -EPROTO;
}

/* 1 with a message (and its fds), 0 at EOF, -errno. */
static int ctl_recv(int fd, struct ctl_msg *m, int *fds, unsigned int maxfds,
		    unsigned int *nfds, int flags)
{
	union {
		char buf[CMSG_SPACE(FD_BATCH * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	if (nfds)
		*nfds = 0;
	do
		n = recvmsg(fd, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		unsigned int k, got;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		got = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < got; k++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (nfds && *nfds < maxfds)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	if (n != sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -EPROTO;
	return 1;
}

/* Receive one message of type want: 0, or -errno (FAIL carries the peer's). */
static int ctl_expect(int fd, uint32_t want, struct ctl_msg *m, int *fds,
		      unsigned int maxfds, unsigned int *nfds)
{
	int r = ctl_recv(fd, m, fds, maxfds, nfds, 0);

	if (r < 0)
		return r;
	if (r == 0)
		return -EPIPE;
	if (m->type == want)
		return 0;
	if (nfds)
		while (*nfds)
			close(fds[--*nfds]);
	return m->type == CTL_FAIL && m->n ? -(int)m->n : -EPROTO;
}

/* ---- the simulator process ---------------------------------------------- */

struct s_ring {
	uint64_t to_issue;	/* chains not yet queued */
	uint64_t done_seen;	/* the ring's chains_done we have handled */
	unsigned int inflight;	/* queued, not completed */
	unsigned int fencing;	/* completed, unmapped, fence outstanding */
	struct bench_io *q;	/* in-flight chains, oldest first */
	unsigned int qhead;
};

struct s_dev {
	struct iotlb_sim *sim;
	bool kicked;
	struct s_ring ring[BENCH_RINGS_PER_DEV];
};

struct s_fence {
	unsigned int dev, ring;
	uint64_t t0;
	struct bench_io io;
	uint32_t next_free;
};

struct s_run {
	struct bench_wl_config cfg;
	const char *label;
	struct bench_guest *guest;
	struct s_dev *dev;
	int ctl, ep;
	bool ctl_out;		/* EPOLLOUT armed on ctl */
	struct s_fence *fences;
	uint32_t nfences, free_fence;
	uint64_t ios_total, ios_done, unmaps, fences_out;
	struct bench_hist fence_lat;
	struct ctl_msg *outq;	/* control messages the socket had no room for */
	size_t oq_head, oq_len, oq_alloc;
	int err;
};

static void s_fail(struct s_run *s, int err, const char *what)
{
	if (!s->err) {
		fprintf(stderr, "bench-engine: simulator: %s: %s\n", what, strerror(-err));
		s->err = err;
	}
}

static void s_flush_ctl(struct s_run *s)
{
	bool want;

	while (s->oq_len) {
		int r = ctl_send(s->ctl, &s->outq[s->oq_head], NULL, 0, MSG_DONTWAIT);

		if (r == -EAGAIN)
			break;
		if (r) {
			s_fail(s, r, "control socket");
			return;
		}
		s->oq_head = (s->oq_head + 1) % s->oq_alloc;
		s->oq_len--;
	}
	want = s->oq_len != 0;
	if (want != s->ctl_out) {
		struct epoll_event ev = {
			.events = EPOLLIN | (want ? EPOLLOUT : 0),
			.data.u32 = UINT32_MAX,
		};

		epoll_ctl(s->ep, EPOLL_CTL_MOD, s->ctl, &ev);
		s->ctl_out = want;
	}
}

static void s_send_ctl(struct s_run *s, const struct ctl_msg *m)
{
	if (!s->oq_len) {
		int r = ctl_send(s->ctl, m, NULL, 0, MSG_DONTWAIT);

		if (!r)
			return;
		if (r != -EAGAIN) {
			s_fail(s, r, "control socket");
			return;
		}
	}
	if (s->oq_len == s->oq_alloc) {
		s_fail(s, -ENOBUFS, "control queue");
		return;
	}
	s->outq[(s->oq_head + s->oq_len++) % s->oq_alloc] = *m;
	s_flush_ctl(s);
}

/* Queue chains while the ring has room (static: refill in batches). */
static void s_refill(struct s_run *s, unsigned int d, unsigned int r)
{
	struct s_dev *dv = &s->dev[d];
	struct s_ring *rg = &dv->ring[r];
	unsigned int pushed = 0;

	if (s->cfg.kind == BENCH_WL_STATIC && rg->inflight > s->cfg.depth / 2)
		return;
	while (rg->inflight + rg->fencing < s->cfg.depth && rg->to_issue) {
		struct bench_io *io = &rg->q[(rg->qhead + rg->inflight) % s->cfg.depth];
		int err = bench_guest_io_begin(s->guest, d, r, io);

		if (!err)
			err = iotlb_sim_ring_push(dv->sim, r, io->buf, io->nbufs);
		if (err) {
			s_fail(s, err, "queueing a chain");
			return;
		}
		rg->inflight++;
		rg->to_issue--;
		pushed++;
	}
	if (pushed) {
		iotlb_sim_kick(dv->sim, r);
		dv->kicked = true;
	}
}

/* Chains the device finished: count them; churn unmaps and fences each. */
static void s_completions(struct s_run *s, unsigned int d, unsigned int r)
{
	struct s_dev *dv = &s->dev[d];
	struct s_ring *rg = &dv->ring[r];
	struct iotlb_sim_ring_stats rs;

	iotlb_sim_ring_stats(dv->sim, r, &rs);
	while (rg->done_seen < rs.chains_done && rg->inflight) {
		struct bench_io *io = &rg->q[rg->qhead];

		rg->done_seen++;
		rg->qhead = (rg->qhead + 1) % s->cfg.depth;
		rg->inflight--;
		s->ios_done++;
		if (s->cfg.kind == BENCH_WL_CHURN) {
			struct ctl_msg m = { .type = CTL_UNMAP };
			uint32_t f = s->free_fence;
			int err;

			if (f == UINT32_MAX) {
				s_fail(s, -ENOBUFS, "fence slots");
				return;
			}
			s->free_fence = s->fences[f].next_free;
			s->fences[f].dev = d;
			s->fences[f].ring = r;
			s->fences[f].io = *io;
			err = bench_guest_io_end(s->guest, d, io);
			if (err) {
				s_fail(s, err, "guest unmap");
				return;
			}
			m.n = bench_wl_did(&s->cfg, d);
			m.a = io->inv_iova;
			m.b = io->inv_size;
			m.c = f;
			rg->fencing++;
			s->fences_out++;
			s->unmaps++;
			s->fences[f].t0 = now_ns();
			s_send_ctl(s, &m);
		}
	}
	s_refill(s, d, r);
}

/* Apply the service's writes, run the device's rings, until it settles. */
static void s_service(struct s_run *s, unsigned int d)
{
	struct s_dev *dv = &s->dev[d];
	unsigned int r;

	do {
		int err;

		dv->kicked = false;
		err = iotlb_sim_process(dv->sim);
		if (err < 0) {
			s_fail(s, err, "iotlb_sim_process");
			return;
		}
		for (r = 0; r < BENCH_RINGS_PER_DEV; r++)
			s_completions(s, d, r);
	} while (dv->kicked && !s->err);
}

static void s_handle_ctl(struct s_run *s)
{
	for (;;) {
		struct ctl_msg m;
		struct s_fence *f;
		int r = ctl_recv(s->ctl, &m, NULL, 0, NULL, MSG_DONTWAIT);

		if (r == -EAGAIN)
			return;
		if (r <= 0) {
			s_fail(s, r ? r : -EPIPE, "service went away");
			return;
		}
		if (m.type != CTL_DONE || m.c >= s->nfences) {
			s_fail(s, -EPROTO, "unexpected control message");
			return;
		}
		/*
		 * The service wrote its INVALIDATEs before DONE, so they are
		 * in the device's socket; iotlb_sim_process() applies them
		 * before it runs a ring, so reusing the IOVA now is safe.
		 */
		f = &s->fences[m.c];
		bench_hist_add(&s->fence_lat, now_ns() - f->t0);
		bench_guest_io_release(s->guest, f->dev, f->ring, &f->io);
		s->dev[f->dev].ring[f->ring].fencing--;
		s->fences_out--;
		f->next_free = s->free_fence;
		s->free_fence = (uint32_t)m.c;
		s_refill(s, f->dev, f->ring);
		s_service(s, f->dev);
	}
}

static void s_collect(struct s_run *s, struct sim_result *res)
{
	unsigned int d;

	memset(res, 0, sizeof(*res));
	for (d = 0; d < s->cfg.devices; d++) {
		struct iotlb_sim_stats st;

		iotlb_sim_get_stats(s->dev[d].sim, &st);
		res->ios += st.chains_done;
		res->misses += st.misses;
		res->misses_dup += st.misses_dup;
		res->updates += st.updates;
		res->invalidates += st.invalidates;
		res->entries_removed += st.entries_removed;
		res->evictions += st.evictions;
		res->stale += st.stale_accesses;
		res->write_errors += st.write_einval + st.write_efault;
	}
	res->unmaps = s->unmaps;
	res->fence_p50 = bench_hist_pct(&s->fence_lat, 50);
	res->fence_p99 = bench_hist_pct(&s->fence_lat, 99);
}

/* Which rings wait for what: enough to tell a lost wakeup from a lost answer. */
static void s_report_stuck(struct s_run *s)
{
	unsigned int d, r, shown = 0;

	fprintf(stderr, "bench-engine: %s: no progress for %.0f s, %llu of %llu ios done, "
		"%llu fences outstanding\n", s->label, STUCK_SECONDS,
		(unsigned long long)s->ios_done, (unsigned long long)s->ios_total,
		(unsigned long long)s->fences_out);
	for (d = 0; d < s->cfg.devices && shown < 4; d++) {
		for (r = 0; r < BENCH_RINGS_PER_DEV; r++) {
			struct iotlb_sim_ring_stats rs;
			struct iotlb_sim_stats st;
			uint64_t start = 0, last = 0;

			iotlb_sim_ring_stats(s->dev[d].sim, r, &rs);
			if (rs.stall == IOTLB_SIM_RUNNING)
				continue;
			iotlb_sim_get_stats(s->dev[d].sim, &st);
			fprintf(stderr, "  device %u ring %u stalled (%s) at iova %#llx: ", d, r,
				rs.stall == IOTLB_SIM_STALL_MISS ? "miss" : "permission",
				(unsigned long long)rs.stall_iova);
			if (iotlb_sim_iotlb_lookup(s->dev[d].sim, rs.stall_iova, &start, &last,
						   NULL, NULL) == 0)
				fprintf(stderr, "IOTLB has %#llx-%#llx; ", (unsigned long long)start,
					(unsigned long long)last);
			fprintf(stderr, "misses unread %u pending %u, %u entries\n",
				st.misses_unread, st.misses_pending, st.entries);
			shown++;
		}
	}
}

static int s_setup(struct s_run *s, void *ram)
{
	struct iotlb_sim_config sc;
	int peers[FD_BATCH];
	unsigned int d, r, batch = 0, first = 0;
	struct ctl_msg m = { .type = CTL_SETUP };
	int err;

	err = bench_guest_new(&s->guest, &s->cfg, ram);
	if (err)
		return err;
	m.a = bench_guest_rta(s->guest);
	err = ctl_send(s->ctl, &m, NULL, 0, 0);
	if (err)
		return err;
	iotlb_sim_config_init(&sc, IOTLB_SIM_KERNEL_MAINLINE);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0)
		return -errno;
	for (d = 0; d < s->cfg.devices; d++) {
		struct iotlb_sim_oracle o;
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = d };
		struct s_dev *dv = &s->dev[d];

		bench_guest_oracle(s->guest, d, &o);
		err = iotlb_sim_new(&dv->sim, &sc, &o, &peers[batch]);
		if (err)
			goto out;
		batch++;
		for (r = 0; r < BENCH_RINGS_PER_DEV; r++) {
			struct iotlb_sim_ring_config rc;

			bench_wl_ring(&s->cfg, d, r, &rc);
			if (iotlb_sim_add_ring(dv->sim, &rc) < 0) {
				err = -ENOMEM;
				goto out;
			}
			dv->ring[r].to_issue = s->cfg.ios_per_ring;
			dv->ring[r].q = calloc(s->cfg.depth, sizeof(struct bench_io));
			if (!dv->ring[r].q) {
				err = -ENOMEM;
				goto out;
			}
		}
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, iotlb_sim_get_fd(dv->sim), &ev)) {
			err = -errno;
			goto out;
		}
		if (batch == FD_BATCH || d + 1 == s->cfg.devices) {
			struct ctl_msg fm = { .type = CTL_FDS, .n = batch, .a = first };

			err = ctl_send(s->ctl, &fm, peers, batch, 0);
			if (err)
				goto out;
			while (batch)
				close(peers[--batch]);
			first = d + 1;
		}
	}
	return 0;
out:
	while (batch)
		close(peers[--batch]);
	return err;
}

static int sim_main(const struct bench_wl_config *cfg, const char *label,
		    void *ram, int ctl)
{
	struct s_run s = { .cfg = *cfg, .label = label, .ctl = ctl, .ep = -1 };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
	struct ctl_msg m;
	double t0, last_progress, last_activity;
	uint64_t seen_ios = 0, seen_fences = 0;
	unsigned int d, r;
	uint32_t i;
	int err;

	s.dev = calloc(cfg->devices, sizeof(*s.dev));
	s.nfences = cfg->devices * BENCH_RINGS_PER_DEV * cfg->depth;
	s.fences = calloc(s.nfences, sizeof(*s.fences));
	s.oq_alloc = s.nfences + 16;
	s.outq = calloc(s.oq_alloc, sizeof(*s.outq));
	if (!s.dev || !s.fences || !s.outq) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s.nfences; i++)
		s.fences[i].next_free = i + 1 < s.nfences ? i + 1 : UINT32_MAX;
	s.ios_total = (uint64_t)cfg->devices * BENCH_RINGS_PER_DEV * cfg->ios_per_ring;

	err = s_setup(&s, ram);
	if (err)
		goto out;
	if (epoll_ctl(s.ep, EPOLL_CTL_ADD, ctl, &ev)) {
		err = -errno;
		goto out;
	}
	err = ctl_expect(ctl, CTL_READY, &m, NULL, 0, NULL);
	if (err) {
		err = -EPIPE;	/* the service reports why */
		goto out;
	}
	/* The service's ring pre-maps, then the guest starts its devices. */
	for (d = 0; d < cfg->devices; d++)
		iotlb_sim_process(s.dev[d].sim);
	m = (struct ctl_msg){ .type = CTL_START };
	err = ctl_send(ctl, &m, NULL, 0, 0);
	if (err)
		goto out;

	t0 = last_progress = last_activity = now();
	for (d = 0; d < cfg->devices && !s.err; d++) {
		for (r = 0; r < BENCH_RINGS_PER_DEV; r++)
			s_refill(&s, d, r);
		s_service(&s, d);
	}
	while (!s.err && (s.ios_done < s.ios_total || s.fences_out)) {
		struct epoll_event evs[256];
		int n = epoll_wait(s.ep, evs, 256, 50), k;
		double t;

		if (n < 0 && errno != EINTR) {
			s_fail(&s, -errno, "epoll_wait");
			break;
		}
		for (k = 0; k < n && !s.err; k++) {
			if (evs[k].data.u32 == UINT32_MAX) {
				if (evs[k].events & EPOLLOUT)
					s_flush_ctl(&s);
				if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					s_handle_ctl(&s);
			} else {
				s_service(&s, evs[k].data.u32);
			}
		}
		/* Idle: catch misses a full socket held back. */
		if (n == 0)
			for (d = 0; d < cfg->devices && !s.err; d++)
				s_service(&s, d);
		t = now();
		if (s.ios_done != seen_ios || s.unmaps - s.fences_out != seen_fences) {
			seen_ios = s.ios_done;
			seen_fences = s.unmaps - s.fences_out;
			last_activity = t;
		} else if (t - last_activity > STUCK_SECONDS) {
			s_report_stuck(&s);
			break;
		}
		if (t - last_progress >= 5.0) {
			last_progress = t;
			fprintf(stderr, "#   %s: %.0f%% of %llu ios, %.0f s\n", label,
				100.0 * (double)s.ios_done / (double)s.ios_total,
				(unsigned long long)s.ios_total, t - t0);
		}
	}
	if (s.err) {
		err = s.err;
		goto out;
	}
	/* Apply whatever the service wrote last, then report. */
	for (d = 0; d < cfg->devices; d++)
		iotlb_sim_process(s.dev[d].sim);
	m = (struct ctl_msg){ .type = CTL_STOP };
	s_collect(&s, &m.res);
	m.res.stuck = s.ios_done < s.ios_total || s.fences_out;
	err = ctl_send(ctl, &m, NULL, 0, 0);
	while (!err && ctl_recv(ctl, &m, NULL, 0, NULL, 0) > 0 && m.type != CTL_BYE)
		;
out:
	if (err && err != -EPIPE) {
		struct ctl_msg f = { .type = CTL_FAIL, .n = (uint32_t)-err };

		fprintf(stderr, "bench-engine: simulator: %s: %s\n", label, strerror(-err));
		ctl_send(ctl, &f, NULL, 0, MSG_DONTWAIT);
	}
	if (s.dev) {
		for (d = 0; d < cfg->devices; d++) {
			iotlb_sim_free(s.dev[d].sim);
			for (r = 0; r < BENCH_RINGS_PER_DEV; r++)
				free(s.dev[d].ring[r].q);
		}
	}
	bench_guest_free(s.guest);
	if (s.ep >= 0)
		close(s.ep);
	free(s.dev);
	free(s.fences);
	free(s.outq);
	return err ? 1 : 0;
}

/* ---- the service process -------------------------------------------------- */

static int svc_ctl = -1;
static int svc_done_err;

static void svc_unmap_done(void *arg)
{
	struct ctl_msg m = { .type = CTL_DONE, .c = (uintptr_t)arg };
	int r = ctl_send(svc_ctl, &m, NULL, 0, 0);

	if (r && !svc_done_err)
		svc_done_err = r;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void stats_sub(struct bench_service_stats *a,
		      const struct bench_service_stats *b)
{
	a->misses -= b->misses;
	a->misses_dup -= b->misses_dup;
	a->faults -= b->faults;
	a->reads -= b->reads;
	a->updates -= b->updates;
	a->update_bytes -= b->update_bytes;
	a->invalidates -= b->invalidates;
	a->unmaps -= b->unmaps;
	a->write_errors -= b->write_errors;
}

/* Receive the devices' fds and describe the machine to the service. */
static int svc_setup(int ctl, const struct bench_wl_config *cfg, void *ram,
		     struct iotlb_mem **mem, struct bench_device *devs,
		     struct bench_setup *setup)
{
	struct ctl_msg m;
	unsigned int got = 0, i, r;
	int err;

	err = ctl_expect(ctl, CTL_SETUP, &m, NULL, 0, NULL);
	if (err)
		return err;
	memset(setup, 0, sizeof(*setup));
	setup->viommu.arch = IOTLB_ARCH_VTD;
	setup->viommu.u.vtd.rta = m.a;
	setup->viommu.u.vtd.haw = BENCH_VTD_HAW;
	setup->viommu.u.vtd.sagaw = IOTLB_VTD_SAGAW_39 | IOTLB_VTD_SAGAW_48;
	setup->viommu.u.vtd.caps = IOTLB_VTD_CAP_DT | IOTLB_VTD_CAP_SL2M |
				   IOTLB_VTD_CAP_SL1G;
	while (got < cfg->devices) {
		int fds[FD_BATCH];
		unsigned int nfds;

		err = ctl_expect(ctl, CTL_FDS, &m, fds, FD_BATCH, &nfds);
		if (err)
			return err;
		if (m.a != got || nfds != m.n || got + nfds > cfg->devices) {
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			return -EPROTO;
		}
		for (i = 0; i < nfds; i++)
			devs[got + i].fd = fds[i];
		got += nfds;
	}
	for (i = 0; i < cfg->devices; i++) {
		devs[i].sid = bench_wl_sid(i);
		devs[i].did = bench_wl_did(cfg, i);
		devs[i].nrings = BENCH_RINGS_PER_DEV;
		for (r = 0; r < BENCH_RINGS_PER_DEV; r++) {
			struct iotlb_sim_ring_config rc;

			bench_wl_ring(cfg, i, r, &rc);
			devs[i].rings[r] = (struct bench_ring){ rc.desc, rc.avail, rc.used, rc.num };
		}
	}
	err = iotlb_mem_new(mem);
	for (i = 0; !err && i < BENCH_RAM_REGIONS; i++) {
		struct iotlb_mem_region rg = {
			.gpa = bench_ram[i].gpa,
			.size = bench_ram[i].size,
			.local = (uint8_t *)ram + bench_ram[i].offset,
			.owner_addr = BENCH_OWNER_BASE + bench_ram[i].offset,
		};

		err = iotlb_mem_add_region(*mem, &rg);
	}
	setup->mem = *mem;
	setup->ndevices = cfg->devices;
	setup->devices = devs;
	setup->max_iotlb_entries = 2048;
	return err;
}

/* Serve until STOP; fills the service-side figures. */
static int svc_loop(int ctl, const struct bench_service_ops *ops, void *ctx,
		    const struct bench_device *devs, unsigned int ndev,
		    pid_t child, struct run_result *res)
{
	int pfd = ops->get_poll_fd(ctx);
	unsigned int npfd = 1 + (pfd >= 0 ? 1 : ndev), i;
	struct pollfd *pfds = calloc(npfd, sizeof(*pfds));
	struct bench_service_stats st0, st1;
	struct ctl_msg m;
	double c0, t0;
	int err = 0;

	if (!pfds)
		return -ENOMEM;
	pfds[0] = (struct pollfd){ ctl, POLLIN, 0 };
	if (pfd >= 0)
		pfds[1] = (struct pollfd){ pfd, POLLIN, 0 };
	else
		for (i = 0; i < ndev; i++)
			pfds[1 + i] = (struct pollfd){ devs[i].fd, POLLIN, 0 };

	err = ctl_expect(ctl, CTL_START, &m, NULL, 0, NULL);
	if (err)
		goto out;
	ops->stats(ctx, &st0);
	c0 = cpu_seconds();
	t0 = now();
	for (;;) {
		int n = poll(pfds, npfd, 1000);
		bool stop = false;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0) {
			if (waitpid(child, NULL, WNOHANG) == child) {
				err = -ECHILD;
				break;
			}
			continue;
		}
		if (pfds[0].revents) {
			n--;
			for (;;) {
				int r = ctl_recv(ctl, &m, NULL, 0, NULL, MSG_DONTWAIT);

				if (r == -EAGAIN)
					break;
				if (r <= 0) {
					err = r ? r : -EPIPE;
					break;
				}
				if (m.type == CTL_UNMAP) {
					r = ops->unmap(ctx, (uint16_t)m.n, m.a, m.b,
						       svc_unmap_done, (void *)(uintptr_t)m.c);
					if (r)
						err = r;
				} else if (m.type == CTL_STOP) {
					stop = true;
					break;
				} else {
					err = m.type == CTL_FAIL ? -(int)m.n : -EPROTO;
				}
				if (err)
					break;
			}
		}
		if (err || svc_done_err || stop) {
			if (!err)
				err = svc_done_err;
			break;
		}
		if (n > 0) {
			err = ops->process(ctx, pfd >= 0 ? NULL : pfds + 1);
			if (err)
				break;
			/* A simulated device that went away; vhost never does this. */
			for (i = 1; i < npfd; i++)
				if (pfds[i].revents & (POLLHUP | POLLERR | POLLNVAL))
					pfds[i].fd = -1;
		}
	}
	res->cpu = cpu_seconds() - c0;
	res->wall = now() - t0;
	if (!err) {
		ops->stats(ctx, &st1);
		res->lat_p50 = bench_hist_pct(st1.miss_latency, 50);
		res->lat_p99 = bench_hist_pct(st1.miss_latency, 99);
		stats_sub(&st1, &st0);
		res->st = st1;
		res->sim = m.res;
	}
out:
	free(pfds);
	return err;
}

static int run_one(const struct opts *o, const struct bench_service_ops *ops,
		   enum bench_wl_kind kind, unsigned int devices, uint64_t ios,
		   struct run_result *res)
{
	struct bench_wl_config cfg = {
		.kind = kind,
		.devices = devices,
		.depth = kind == BENCH_WL_STATIC ? STATIC_DEPTH : CHURN_DEPTH,
		.seed = o->seed,
	};
	struct bench_device *devs;
	struct bench_setup setup;
	struct iotlb_mem *mem = NULL;
	void *ctx = NULL, *ram = MAP_FAILED;
	char label[64];
	int sv[2] = { -1, -1 }, memfd, err;
	unsigned int i;
	pid_t pid = -1;

	cfg.ios_per_ring = (uint64_t)((double)ios * o->scale /
				      (devices * BENCH_RINGS_PER_DEV) + 0.5);
	if (!cfg.ios_per_ring)
		cfg.ios_per_ring = 1;
	snprintf(label, sizeof(label), "%s %s %udev", ops->name, bench_wl_name(kind),
		 devices);
	memset(res, 0, sizeof(*res));
	res->svc = ops->name;
	res->kind = kind;
	res->devices = devices;

	devs = calloc(devices, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	for (i = 0; i < devices; i++)
		devs[i].fd = -1;
	memfd = memfd_create("bench-guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)BENCH_RAM_FILE_SIZE)) {
		err = -errno;
		goto out;
	}
	ram = mmap(NULL, BENCH_RAM_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	if (ram == MAP_FAILED || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (pid == 0) {
		/* The simulator owns nothing of the service's (and LSan agrees). */
		close(sv[0]);
		close(memfd);
		free(devs);
		exit(sim_main(&cfg, label, ram, sv[1]));
	}
	close(sv[1]);
	sv[1] = -1;
	svc_ctl = sv[0];
	svc_done_err = 0;

	err = svc_setup(sv[0], &cfg, ram, &mem, devs, &setup);
	if (!err)
		err = ops->init(&ctx, &setup);
	if (!err) {
		struct ctl_msg m = { .type = CTL_READY };

		err = ctl_send(sv[0], &m, NULL, 0, 0);
	}
	if (!err)
		err = svc_loop(sv[0], ops, ctx, devs, devices, pid, res);
	if (!err) {
		struct ctl_msg m = { .type = CTL_BYE };

		ctl_send(sv[0], &m, NULL, 0, 0);
		res->ran = true;
	}
out:
	if (ctx)
		ops->fini(ctx);
	for (i = 0; i < devices; i++)
		if (devs[i].fd >= 0)
			close(devs[i].fd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (pid > 0) {
		int status;

		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "bench-engine: %s: the simulator %s %d\n", label,
				WIFEXITED(status) ? "exited with status" : "died of signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			if (!err)
				err = -ECHILD;
		}
	}
	iotlb_mem_unref(mem);
	if (ram != MAP_FAILED)
		munmap(ram, BENCH_RAM_FILE_SIZE);
	if (memfd >= 0)
		close(memfd);
	free(devs);
	if (err)
		fprintf(stderr, "bench-engine: %s: %s\n", label, strerror(-err));
	return err;
}

/* ---- reporting -------------------------------------------------------------- */

static double per(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void print_header(void)
{
	printf("%-7s %5s %-5s %8s %8s %7s %6s %8s %7s %6s %8s %7s %8s %7s %7s %8s %7s %6s\n",
	       "# work", "devs", "svc", "ios", "misses", "dup", "fault", "UPD", "INV",
	       "wr/io", "B/upd", "cpu/io", "cpu/miss", "p50", "p99", "fence99",
	       "evict", "wall");
	printf("%-7s %5s %-5s %8s %8s %7s %6s %8s %7s %6s %8s %7s %8s %7s %7s %8s %7s %6s\n",
	       "#", "", "", "", "(read)", "(kern)", "", "", "", "", "", "us", "us",
	       "us", "us", "us", "", "s");
}

static void print_row(const struct run_result *r)
{
	double ios = (double)r->sim.ios;

	printf("%-7s %5u %-5s %8llu %8llu %7llu %6llu %8llu %7llu %6.3f %8.0f %7.2f %8.2f %7.1f %7.1f %8.1f %7llu %6.1f\n",
	       bench_wl_name(r->kind), r->devices, r->svc,
	       (unsigned long long)r->sim.ios, (unsigned long long)r->st.misses,
	       (unsigned long long)r->sim.misses_dup, (unsigned long long)r->st.faults,
	       (unsigned long long)r->st.updates, (unsigned long long)r->st.invalidates,
	       per((double)(r->st.updates + r->st.invalidates), ios),
	       per((double)r->st.update_bytes, (double)r->st.updates),
	       per(r->cpu * 1e6, ios), per(r->cpu * 1e6, (double)r->st.misses),
	       (double)r->lat_p50 / 1e3, (double)r->lat_p99 / 1e3,
	       (double)r->sim.fence_p99 / 1e3, (unsigned long long)r->sim.evictions,
	       r->wall);
}

static const struct run_result *find(const struct run_result *rs, unsigned int n,
				     const char *svc, enum bench_wl_kind kind,
				     unsigned int devices)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (rs[i].ran && !rs[i].problem && !strcmp(rs[i].svc, svc) &&
		    rs[i].kind == kind && rs[i].devices == devices)
			return &rs[i];
	return NULL;
}

enum metric { M_WRITES_PER_IO, M_BYTES_PER_UPDATE, M_CPU_PER_IO, M_CPU_PER_MISS, M_P99 };

static double metric(const struct run_result *r, enum metric m)
{
	switch (m) {
	case M_WRITES_PER_IO:
		return per((double)(r->st.updates + r->st.invalidates), (double)r->sim.ios);
	case M_BYTES_PER_UPDATE:
		return per((double)r->st.update_bytes, (double)r->st.updates);
	case M_CPU_PER_IO:
		return per(r->cpu, (double)r->sim.ios);
	case M_CPU_PER_MISS:
		return per(r->cpu, (double)r->st.misses);
	case M_P99:
	default:
		return (double)r->lat_p99;
	}
}

/*
 * One closing ratio, oriented so that higher is better: num's metric
 * over den's, each (service, workload, devices).
 */
static void print_ratio(const struct run_result *rs, unsigned int n,
			const char *name, enum metric m,
			const char *num_svc, enum bench_wl_kind num_kind, unsigned int num_dev,
			const char *den_svc, enum bench_wl_kind den_kind, unsigned int den_dev)
{
	const struct run_result *a = find(rs, n, num_svc, num_kind, num_dev);
	const struct run_result *b = find(rs, n, den_svc, den_kind, den_dev);

	if (!a || !b || metric(b, m) <= 0) {
		printf("ratio %s n/a\n", name);
		return;
	}
	printf("ratio %s %.2f\n", name, metric(a, m) / metric(b, m));
}

static void print_ratios(const struct run_result *rs, unsigned int n)
{
	const enum bench_wl_kind S = BENCH_WL_STATIC, C = BENCH_WL_CHURN;

	print_ratio(rs, n, "writes_per_io_static", M_WRITES_PER_IO, THEIRS, S, 64, OURS, S, 64);
	print_ratio(rs, n, "writes_per_io_churn", M_WRITES_PER_IO, THEIRS, C, 64, OURS, C, 64);
	print_ratio(rs, n, "bytes_per_update", M_BYTES_PER_UPDATE, OURS, S, 64, THEIRS, S, 64);
	print_ratio(rs, n, "cpu_per_io_64dev", M_CPU_PER_IO, THEIRS, S, 64, OURS, S, 64);
	print_ratio(rs, n, "cpu_per_miss_1dev", M_CPU_PER_MISS, THEIRS, C, 1, OURS, C, 1);
	/* Per-miss CPU must not grow with devices: 1 device over 1024, static. */
	print_ratio(rs, n, "scale_1024dev", M_CPU_PER_MISS, OURS, S, 1, OURS, S, 1024);
	print_ratio(rs, n, "p99_miss_latency_64dev", M_P99, THEIRS, S, 64, OURS, S, 64);
}

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"Usage: bench-engine [-h]\n"
		"Compare vhost device-IOTLB miss services on seeded workloads, with\n"
		"the simulated vhost devices in a separate process.\n\n"
		"Environment:\n"
		"  BENCH_SCALE=F      multiply every run's io count (default 1; 0.1 is quick)\n"
		"  BENCH_SEED=N       workload seed (default 1)\n"
		"  BENCH_WORKLOADS=L  static,churn (default both)\n"
		"  BENCH_DEVICES=L    device counts, from 1,64,1024 (default all)\n"
		"  BENCH_SERVICES=L   services (default all):");
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		fprintf(f, " %s", services[i]->name);
	fprintf(f, "\n\nExits 1 when a run fails or shows a PROBLEM (stuck devices, stale\n"
		"accesses, rejected writes), 2 on bad options.\n");
}

static int parse_env(struct opts *o)
{
	const char *v;
	char buf[256], *tok, *save = NULL;
	unsigned int i;

	o->scale = 1.0;
	o->seed = 1;
	if ((v = getenv("BENCH_SCALE"))) {
		char *end;

		o->scale = strtod(v, &end);
		if (*end || !(o->scale > 0) || o->scale > 100) {
			fprintf(stderr, "bench-engine: BENCH_SCALE='%s': want a number in (0, 100]\n", v);
			return -1;
		}
	}
	if ((v = getenv("BENCH_SEED"))) {
		char *end;

		o->seed = strtoull(v, &end, 0);
		if (*end || !*v) {
			fprintf(stderr, "bench-engine: BENCH_SEED='%s': want an integer\n", v);
			return -1;
		}
	}

	v = getenv("BENCH_WORKLOADS");
	snprintf(buf, sizeof(buf), "%s", v ? v : "static,churn");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "static"))
			o->kinds[BENCH_WL_STATIC] = true;
		else if (!strcmp(tok, "churn"))
			o->kinds[BENCH_WL_CHURN] = true;
		else {
			fprintf(stderr, "bench-engine: BENCH_WORKLOADS: unknown '%s'\n", tok);
			return -1;
		}
	}

	v = getenv("BENCH_DEVICES");
	snprintf(buf, sizeof(buf), "%s", v ? v : "1,64,1024");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long d = strtoul(tok, NULL, 10);

		if ((d != 1 && d != 64 && d != 1024) || o->ndevices == 8) {
			fprintf(stderr, "bench-engine: BENCH_DEVICES: '%s' is not one of 1, 64, 1024\n", tok);
			return -1;
		}
		o->devices[o->ndevices++] = (unsigned int)d;
	}

	v = getenv("BENCH_SERVICES");
	if (!v) {
		for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
			o->svcs[o->nsvcs++] = services[i];
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
			if (!strcmp(tok, services[i]->name))
				break;
		if (i == sizeof(services) / sizeof(services[0]) || o->nsvcs == 8) {
			fprintf(stderr, "bench-engine: BENCH_SERVICES: no service '%s' is built\n", tok);
			return -1;
		}
		o->svcs[o->nsvcs++] = services[i];
	}
	if (!o->nsvcs) {
		fprintf(stderr, "bench-engine: BENCH_SERVICES is empty\n");
		return -1;
	}
	return 0;
}

/* 1024 devices need about two descriptors each across the two processes. */
static int ensure_nofile(unsigned int devices)
{
	rlim_t need = (rlim_t)devices + FD_BATCH + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		rl.rlim_max = need;	/* needs CAP_SYS_RESOURCE */
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		int e = errno;

		getrlimit(RLIMIT_NOFILE, &rl);
		fprintf(stderr, "bench-engine: %u devices need RLIMIT_NOFILE >= %llu, "
			"but the hard limit is %llu and cannot be raised (%s); "
			"raise it (ulimit -Hn) or set BENCH_DEVICES\n",
			devices, (unsigned long long)need,
			(unsigned long long)rl.rlim_max, strerror(e));
		return -e;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct run_result *rs;
	unsigned int nrs = 0, i, k, s, failed = 0;
	bool have_ours = false;

	if (argc > 1) {
		bool help = !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help");

		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (parse_env(&o))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	rs = calloc(2 * 8 * 8, sizeof(*rs));
	if (!rs)
		return 1;

	printf("# bench-engine: simulated vhost-net devices (kernel model: 2048-entry FIFO IOTLB)\n"
	       "# in a separate process; guest VT-d legacy mode, 4-level second-level tables,\n"
	       "# 4 KiB IOMMU pages; 2 rings per device, chains of a 12-byte header + <=1500 bytes.\n"
	       "# seed %llu, scale %g; cpu = the service process's getrusage(RUSAGE_SELF)\n"
	       "# START..STOP; latency = miss read -> UPDATE written; fence = guest unmap\n"
	       "# -> invalidation complete, seen by the guest; dup = duplicate misses raised\n",
	       (unsigned long long)o.seed, o.scale);
	print_header();
	fflush(stdout);
	for (k = BENCH_WL_STATIC; k <= BENCH_WL_CHURN; k++) {
		if (!o.kinds[k])
			continue;
		for (i = 0; i < o.ndevices; i++) {
			uint64_t ios = 0;

			for (s = 0; s < sizeof(run_sizes) / sizeof(run_sizes[0]); s++)
				if (run_sizes[s].kind == (enum bench_wl_kind)k &&
				    run_sizes[s].devices == o.devices[i])
					ios = run_sizes[s].ios;
			if (ensure_nofile(o.devices[i])) {
				failed++;
				continue;
			}
			for (s = 0; s < o.nsvcs; s++) {
				struct run_result *r = &rs[nrs++];

				if (run_one(&o, o.svcs[s], (enum bench_wl_kind)k, o.devices[i], ios, r)) {
					r->problem = "run failed";
					failed++;
					continue;
				}
				if (r->sim.stuck)
					r->problem = "devices stopped making progress";
				else if (r->sim.stale)
					r->problem = "stale accesses (an invalidation came too late)";
				else if (r->sim.write_errors || r->st.write_errors)
					r->problem = "writes rejected";
				else if (r->st.faults && k == BENCH_WL_STATIC)
					/* churn: a duplicate can outlive its buffer's mapping */
					r->problem = "misses the service could not translate";
				print_row(r);
				fflush(stdout);
			}
		}
	}
	for (i = 0; i < nrs; i++) {
		if (rs[i].problem && rs[i].ran) {
			printf("PROBLEM: %s %s %udev: %s\n", rs[i].svc,
			       bench_wl_name(rs[i].kind), rs[i].devices, rs[i].problem);
			failed++;
		}
		if (!strcmp(rs[i].svc, OURS))
			have_ours = true;
	}
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (!strcmp(services[i]->name, OURS))
			have_ours = true;
	if (!have_ours)
		printf("# engine service not built yet: ratios need issue 5's engine\n");
	else
		print_ratios(rs, nrs);
	free(rs);
	return failed ? 1 : 0;
}
