/* SPDX-License-Identifier: MIT */
/*
 * The VMM of the real-kernel conformance suite.  It runs inside a QEMU
 * guest booted by run-kernel.sh, owns a real /dev/vhost-net, and plays the
 * virtual machine: a buffer of its own memory is the guest RAM (rings,
 * packet buffers and the guest's VT-d tables, built with the pt-vtd
 * builder), the transmit virtqueue's addresses are IOVAs, and the backend
 * is a tap device whose host side is watched with an AF_PACKET socket.
 * Misses are served through the public libiotlb API, as a VMM would.
 *
 * Output: "KPLAN name..." first, then one "KRESULT name PASS|FAIL|SKIP
 * reason" per scenario, "KINFO ..." details and "SIMDIFF ..." for every
 * place where the kernel and src/sim/sim.c disagree.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "iotlb.h"
#include "pt-vtd.h"
#include "sim.h"

/* Guest physical layout: one region, 2 MiB aligned in our memory. */
#define GPA_BASE	0x40000000ULL
#define RAM_SIZE	(36ULL << 20)
#define OFF_PT		0ULL			/* VT-d structures */
#define PT_SIZE		(2ULL << 20)
#define OFF_RING	(2ULL << 20)		/* the TX virtqueue */
#define RING_AREA	0x10000ULL
#define OFF_DATA	(4ULL << 20)		/* packet buffers, 4 KiB pages */
#define DATA_PAGES	8192U

/* The guest's I/O virtual addresses. */
#define IOVA_RING	0x10000000ULL
#define IOVA_DATA	0x80000000ULL
#define IOVA_RXBUF	0xa0000000ULL
#define RX_PAGE0	6144U			/* first RX buffer page */
#define RING_TX		0x0000ULL		/* in the ring area, per vq */
#define RING_RX		0x8000ULL
#define RING_VQ_AREA	0x8000ULL
#define RING_DESC	0x0000ULL		/* in a vq's area */
#define RING_AVAIL	0x1000ULL
#define RING_USED	0x2000ULL

#define QNUM		256U
#define RXQ		0U			/* vhost-net's virtqueues */
#define TXQ		1U
#define VNET_HDR	12U			/* virtio_net_hdr_v1 */
#define FRAME_LEN	60U
#define ETH_TYPE	0x88b5			/* IEEE local experimental */
#define PAGE		4096ULL
#define WINDOW		(2ULL << 20)		/* default answer window */
#define SEQ_MAX		65536U

#define VTD_DEVFN	0x18			/* 00:03.0 */

enum result { R_PASS, R_FAIL, R_SKIP };
static const char *const result_name[] = { "PASS", "FAIL", "SKIP" };

static char reason[1024];
static uint8_t *ram;
static int tap_fd = -1, pkt_fd = -1, tap_ifindex;
static unsigned int kmajor, kminor;

/* Frames seen on the tap's host side, by sequence number. */
static uint8_t seen[SEQ_MAX];
static unsigned long rx_total, rx_bad;

static int failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return -1;
}

static void info(const char *fmt, ...)
{
	va_list ap;

	printf("KINFO ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool kernel_at_least(unsigned int major, unsigned int minor)
{
	return kmajor > major || (kmajor == major && kminor >= minor);
}

/* ---- guest memory ---- */

static uint8_t *gpa_local(uint64_t gpa)
{
	return ram + (gpa - GPA_BASE);
}

static uint64_t data_gpa(unsigned int page)
{
	return GPA_BASE + OFF_DATA + (uint64_t)page * PAGE;
}

/* A 60-byte broadcast frame behind a zero virtio-net header. */
static void frame_write(unsigned int page, uint32_t seq)
{
	uint8_t *p = gpa_local(data_gpa(page));
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(p, 0, VNET_HDR + FRAME_LEN);
	p += VNET_HDR;
	memset(p, 0xff, 6);
	memcpy(p + 6, src, 6);
	p[12] = ETH_TYPE >> 8;
	p[13] = ETH_TYPE & 0xff;
	memcpy(p + 14, "IOTL", 4);
	memcpy(p + 18, &seq, sizeof(seq));
}

/* ---- the tap and its host side ---- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int tap_setup(void)
{
	struct sockaddr_ll ll;
	struct ifreq ifr;
	int hdr = VNET_HDR, s, buf = 32 << 20;

	/* Else the tap's MLD report is the first thing it sends. */
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap_fd < 0)
		return failf("open /dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "iotlb0");
	if (ioctl(tap_fd, TUNSETIFF, &ifr))
		return failf("TUNSETIFF: %s", strerror(errno));
	if (ioctl(tap_fd, TUNSETVNETHDRSZ, &hdr))
		return failf("TUNSETVNETHDRSZ: %s", strerror(errno));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return failf("socket: %s", strerror(errno));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr)) {
			close(s);
			return failf("SIOCSIFFLAGS: %s", strerror(errno));
		}
	}
	if (ioctl(s, SIOCGIFINDEX, &ifr)) {
		close(s);
		return failf("SIOCGIFINDEX: %s", strerror(errno));
	}
	close(s);
	tap_ifindex = ifr.ifr_ifindex;
	/* Frames the TX ring sends arrive in the host stack, not on the fd. */
	pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			htons(ETH_TYPE));
	if (pkt_fd < 0)
		return failf("AF_PACKET socket: %s", strerror(errno));
	if (setsockopt(pkt_fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(pkt_fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	memset(&ll, 0, sizeof(ll));
	ll.sll_family = AF_PACKET;
	ll.sll_protocol = htons(ETH_TYPE);
	ll.sll_ifindex = tap_ifindex;
	if (bind(pkt_fd, (struct sockaddr *)&ll, sizeof(ll)))
		return failf("bind AF_PACKET: %s", strerror(errno));
	return 0;
}

static void rx_reset(void)
{
	uint8_t b[256];

	while (recv(pkt_fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
	memset(seen, 0, sizeof(seen));
	rx_total = rx_bad = 0;
}

static void rx_drain(void)
{
	uint8_t b[256];
	ssize_t n;

	while ((n = recv(pkt_fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		uint32_t seq;

		if (n < 22 || memcmp(b + 14, "IOTL", 4)) {
			rx_bad++;
			continue;
		}
		memcpy(&seq, b + 18, sizeof(seq));
		rx_total++;
		if (seq < SEQ_MAX && seen[seq] < 255)
			seen[seq]++;
	}
}

/* ---- the vhost-net device, as a VMM sets it up ---- */

/* One split virtqueue as the guest driver sees it. */
struct vq {
	uint64_t iova;			/* of its ring area (desc, avail, used) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	int kick, call, err;
	bool enabled, backend;
};

struct vdev {
	int fd;
	uint64_t features, backend_features;
	struct vq q[2];			/* RXQ, TXQ */
};

static void vdev_init(struct vdev *v)
{
	unsigned int i;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	for (i = 0; i < 2; i++)
		v->q[i].kick = v->q[i].call = v->q[i].err = -1;
}

static void vdev_close(struct vdev *v)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct vq *q = &v->q[i];

		if (q->backend) {
			struct vhost_vring_file f = { i, -1 };

			ioctl(v->fd, VHOST_NET_SET_BACKEND, &f);
		}
		if (q->kick >= 0)
			close(q->kick);
		if (q->call >= 0)
			close(q->call);
		if (q->err >= 0)
			close(q->err);
	}
	if (v->fd >= 0)
		close(v->fd);
	vdev_init(v);
}

#define VIOCTL(fd, req, arg) \
	do { \
		if (ioctl((fd), (req), (arg))) \
			return failf(#req ": %s", strerror(errno)); \
	} while (0)

/* Ring addresses as IOVAs, kick, call and error eventfds. */
static int vq_open(struct vdev *v, unsigned int idx)
{
	struct vq *q = &v->q[idx];
	uint64_t off = idx == TXQ ? RING_TX : RING_RX;
	uint8_t *base = ram + OFF_RING + off;
	struct vhost_vring_state st;
	struct vhost_vring_addr a;
	struct vhost_vring_file f;

	memset(base, 0, RING_VQ_AREA);
	q->iova = IOVA_RING + off;
	q->desc = (void *)(base + RING_DESC);
	q->avail = (void *)(base + RING_AVAIL);
	q->used = (void *)(base + RING_USED);
	st.index = idx;
	st.num = QNUM;
	VIOCTL(v->fd, VHOST_SET_VRING_NUM, &st);
	st.num = 0;
	VIOCTL(v->fd, VHOST_SET_VRING_BASE, &st);
	memset(&a, 0, sizeof(a));
	a.index = idx;
	a.desc_user_addr = q->iova + RING_DESC;
	a.avail_user_addr = q->iova + RING_AVAIL;
	a.used_user_addr = q->iova + RING_USED;
	VIOCTL(v->fd, VHOST_SET_VRING_ADDR, &a);
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick < 0 || q->call < 0 || q->err < 0)
		return failf("eventfd: %s", strerror(errno));
	f.index = idx;
	f.fd = q->kick;
	VIOCTL(v->fd, VHOST_SET_VRING_KICK, &f);
	f.fd = q->call;
	VIOCTL(v->fd, VHOST_SET_VRING_CALL, &f);
	f.fd = q->err;
	VIOCTL(v->fd, VHOST_SET_VRING_ERR, &f);
	q->enabled = true;
	return 0;
}

/*
 * Owner, features, memory table, the TX virtqueue (and the RX one with
 * rx) at IOVAs; no backend yet.
 */
static int vdev_open(struct vdev *v, bool rx)
{
	uint64_t need = (1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t v2 = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r;
	} mt;

	vdev_init(v);
	v->fd = open("/dev/vhost-net", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (v->fd < 0)
		return failf("open /dev/vhost-net: %s", strerror(errno));
	VIOCTL(v->fd, VHOST_SET_OWNER, NULL);
	VIOCTL(v->fd, VHOST_GET_FEATURES, &v->features);
	if ((v->features & need) != need)
		return failf("features %#" PRIx64 " lack VERSION_1|ACCESS_PLATFORM",
			     v->features);
	VIOCTL(v->fd, VHOST_GET_BACKEND_FEATURES, &v->backend_features);
	if (!(v->backend_features & v2))
		return failf("backend features %#" PRIx64 " lack IOTLB_MSG_V2",
			     v->backend_features);
	VIOCTL(v->fd, VHOST_SET_BACKEND_FEATURES, &v2);
	/* ACCESS_PLATFORM: the kernel makes a new, empty IOTLB here. */
	VIOCTL(v->fd, VHOST_SET_FEATURES, &need);
	memset(&mt, 0, sizeof(mt));
	mt.m.nregions = 1;
	mt.r.guest_phys_addr = GPA_BASE;
	mt.r.memory_size = RAM_SIZE;
	mt.r.userspace_addr = (uintptr_t)ram;
	VIOCTL(v->fd, VHOST_SET_MEM_TABLE, &mt.m);
	if (vq_open(v, TXQ))
		return -1;
	return rx ? vq_open(v, RXQ) : 0;
}

/*
 * Attaching the tap starts vhost-net's poll on the socket, which is
 * writable: that alone queues one run of the TX handler.  A frame posted
 * before that run happens is seen by it and by the kick's run, and each
 * raises its own MISS.  The raw scenarios, which count misses, let that
 * first run happen first.
 */
static void backend_settle(void)
{
	/* conformance_nosettle=1 on the kernel command line: see the race */
	if (!getenv("conformance_nosettle"))
		usleep(200 * 1000);
}

/* 0, or -errno of VHOST_NET_SET_BACKEND. */
static int vdev_attach(struct vdev *v, unsigned int idx)
{
	struct vhost_vring_file f = { idx, tap_fd };

	if (ioctl(v->fd, VHOST_NET_SET_BACKEND, &f))
		return -errno;
	v->q[idx].backend = true;
	return 0;
}

static int vdev_set_backend(struct vdev *v)
{
	return vdev_attach(v, TXQ);
}

static uint16_t vq_used(const struct vq *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

static uint16_t used_idx(const struct vdev *v)
{
	return vq_used(&v->q[TXQ]);
}

static uint16_t in_flight(const struct vdev *v)
{
	return (uint16_t)(v->q[TXQ].avail_idx - used_idx(v));
}

/* Make one buffer available: device-readable, or writable with write. */
static void vq_post(struct vq *q, uint64_t iova, uint32_t len, bool write)
{
	uint16_t slot = q->avail_idx % QNUM;

	q->desc[slot].addr = iova;
	q->desc[slot].len = len;
	q->desc[slot].flags = write ? VRING_DESC_F_WRITE : 0;
	q->desc[slot].next = 0;
	q->avail->ring[slot] = slot;
	__atomic_store_n(&q->avail->idx, ++q->avail_idx, __ATOMIC_RELEASE);
}

static void vq_kick(struct vq *q)
{
	uint64_t one = 1;

	if (write(q->kick, &one, sizeof(one)) < 0)
		info("kick: %s", strerror(errno));
}

static void tx_post(struct vdev *v, uint64_t iova)
{
	vq_post(&v->q[TXQ], iova, VNET_HDR + FRAME_LEN, false);
}

static void tx_kick(struct vdev *v)
{
	vq_kick(&v->q[TXQ]);
}

/* How often vq_err() fired on the enabled virtqueues. */
static uint64_t vq_errors(struct vdev *v)
{
	uint64_t n, sum = 0;
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (v->q[i].enabled &&
		    read(v->q[i].err, &n, sizeof(n)) == sizeof(n))
			sum += n;
	return sum;
}

/* ---- raw device IOTLB messages, through the kernel's own uapi ---- */

static ssize_t raw_write(int fd, uint8_t type, uint64_t iova, uint64_t size,
			 uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = uaddr;
	m.iotlb.perm = perm;
	m.iotlb.type = type;
	n = write(fd, &m, sizeof(m));
	return n < 0 ? -errno : n;
}

/* Bytes read, -ETIMEDOUT, or -errno. */
static ssize_t raw_read(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = read(fd, buf, len);
	return n < 0 ? -errno : n;
}

/* Waits without a miss service: 0 when used reaches target. */
static int wait_used_raw(struct vdev *v, uint16_t target, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		rx_drain();
		if (used_idx(v) == target)
			return 0;
		if (now_ms() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

static int wait_rx(unsigned long count, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		rx_drain();
		if (rx_total >= count)
			return 0;
		if (now_ms() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

/* ---- the library side ---- */

struct faults {
	unsigned long n;
	uint64_t last_iova;
	uint32_t last_access, last_fault;
};
static struct faults faults;

static void on_fault(void *data, struct iotlb_device *dev, uint64_t iova,
		     uint32_t access, const struct iotlb_translation *f)
{
	faults.n++;
	faults.last_iova = iova;
	faults.last_access = access;
	faults.last_fault = f ? f->fault : 0;
}

struct fence_state {
	bool done;
	int status;
};

static void on_fence(void *data, int status)
{
	struct fence_state *fs = data;

	fs->done = true;
	fs->status = status;
}

enum domain_kind { DOM_PGTABLE, DOM_VIOMMU };

/* Everything one scenario needs, torn down by rig_free(). */
struct rig {
	struct vdev v;
	struct pt_vtd_builder b;
	struct pt_vtd_table t;
	bool have_table;
	struct iotlb_mem *mem;
	struct iotlb_domain *dom;
	struct iotlb_engine *e;
	struct iotlb_device *dev;
	int ring_updates;
};

static void rig_free(struct rig *r)
{
	vdev_close(&r->v);
	iotlb_engine_free(r->e);
	iotlb_domain_unref(r->dom);
	iotlb_mem_unref(r->mem);
	if (r->have_table)
		pt_vtd_table_free(&r->t);
	memset(r, 0, sizeof(*r));
	vdev_init(&r->v);
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	vdev_init(&r->v);
}

/*
 * The guest's VT-d second-level table (4 levels), as Linux's intel-iommu
 * would map: the ring area RW; data_pages 4 KiB pages from IOVA_DATA
 * read-only (TX buffers, DMA_TO_DEVICE) and rx_pages from IOVA_RXBUF
 * write-only (RX buffers, DMA_FROM_DEVICE), contiguous in guest memory.
 */
static int guest_tables(struct rig *r, unsigned int data_pages,
			unsigned int rx_pages)
{
	int e;

	e = pt_vtd_init(&r->b, gpa_local(GPA_BASE + OFF_PT), GPA_BASE + OFF_PT,
			PT_SIZE, 48);
	if (!e)
		e = pt_vtd_table_new(&r->b, &r->t, PT_VTD_SECOND_LEVEL, 4);
	if (e)
		return failf("pt_vtd table: %s", strerror(-e));
	r->have_table = true;
	e = pt_vtd_map(&r->b, &r->t, IOVA_RING, GPA_BASE + OFF_RING, RING_AREA,
		       PAGE, PT_VTD_R | PT_VTD_W);
	if (!e && data_pages)
		e = pt_vtd_map(&r->b, &r->t, IOVA_DATA, data_gpa(0),
			       data_pages * PAGE, PAGE, PT_VTD_R);
	if (!e && rx_pages)
		e = pt_vtd_map(&r->b, &r->t, IOVA_RXBUF, data_gpa(RX_PAGE0),
			       rx_pages * PAGE, PAGE, PT_VTD_W);
	if (e)
		return failf("pt_vtd_map: %s", strerror(-e));
	return 0;
}

static void serve(struct iotlb_engine *e, int ms)
{
	struct pollfd p = { iotlb_engine_get_fd(e), POLLIN, 0 };

	poll(&p, 1, ms);
	iotlb_engine_process(e);
}

/* Serve until every queued write of the device has completed. */
static int serve_quiet(struct rig *r, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	struct iotlb_device_stats ds;

	for (;;) {
		serve(r->e, 1);
		if (iotlb_device_get_stats(r->dev, &ds))
			return failf("iotlb_device_get_stats failed");
		if (!ds.queued)
			return 0;
		if (now_ms() > end)
			return failf("%u writes still queued after %d ms",
				     ds.queued, timeout_ms);
	}
}

static int wait_vq(struct rig *r, const struct vq *q, uint16_t target,
		   int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		rx_drain();
		if (vq_used(q) == target)
			return 0;
		if (now_ms() > end)
			return -ETIMEDOUT;
		serve(r->e, 2);
	}
}

static int wait_used(struct rig *r, uint16_t target, int timeout_ms)
{
	return wait_vq(r, &r->v.q[TXQ], target, timeout_ms);
}

/* The kernel's vhost.max_iotlb_entries, told to each new device (h). */
static unsigned int rig_max_entries;

/*
 * The probe of scenario j: linked with --wrap=iotlb_domain_translate, so
 * every translation the engine asks for (one per miss answer or pinned
 * re-map UPDATE) is counted when it starts inside the ring area.
 */
int __real_iotlb_domain_translate(struct iotlb_domain *dom, uint64_t iova,
				  uint32_t access, struct iotlb_translation *out);
int __wrap_iotlb_domain_translate(struct iotlb_domain *dom, uint64_t iova,
				  uint32_t access, struct iotlb_translation *out);
static unsigned long ring_translations;

int __wrap_iotlb_domain_translate(struct iotlb_domain *dom, uint64_t iova,
				  uint32_t access, struct iotlb_translation *out)
{
	if (iova >= IOVA_RING && iova - IOVA_RING < RING_AREA)
		ring_translations++;
	return __real_iotlb_domain_translate(dom, iova, access, out);
}

/*
 * A device with the engine: open, tables, domain, engine, device, and
 * the three rings of each virtqueue mapped before the backend is
 * attached.  With rx_pages, the RX virtqueue too, and that many
 * write-only pages from IOVA_RXBUF.
 */
static int rig_setup(struct rig *r, enum domain_kind kind,
		     unsigned int engine_flags, unsigned int data_pages,
		     unsigned int rx_pages)
{
	struct iotlb_mem_region region = {
		.gpa = GPA_BASE,
		.size = RAM_SIZE,
		.local = ram,
		.owner_addr = (uintptr_t)ram,	/* we are the vhost owner */
		.flags = 0,
	};
	static const struct { uint64_t off, size; } rings[] = {
		{ RING_DESC, 16ULL * QNUM },
		{ RING_AVAIL, 6ULL + 2ULL * QNUM },
		{ RING_USED, 6ULL + 8ULL * QNUM },
	};
	unsigned int k, i;
	int e;

	if (vdev_open(&r->v, rx_pages > 0) ||
	    guest_tables(r, data_pages, rx_pages))
		return -1;
	e = iotlb_mem_new(&r->mem);
	if (!e)
		e = iotlb_mem_add_region(r->mem, &region);
	if (e)
		return failf("iotlb_mem: %s", strerror(-e));
	if (kind == DOM_VIOMMU) {
		struct pt_vtd_context c = { 0, 2, 1, r->t.root };
		struct iotlb_viommu vi;
		uint64_t rta;

		e = pt_vtd_root_new(&r->b, &rta);
		if (!e)
			e = pt_vtd_legacy_context(&r->b, rta, 0, VTD_DEVFN, &c);
		if (e)
			return failf("pt_vtd root/context: %s", strerror(-e));
		memset(&vi, 0, sizeof(vi));
		vi.arch = IOTLB_ARCH_VTD;
		vi.u.vtd.rta = rta;
		vi.u.vtd.haw = 48;
		vi.u.vtd.sagaw = IOTLB_VTD_SAGAW_48;
		e = iotlb_domain_new_viommu(&r->dom, r->mem, &vi, VTD_DEVFN,
					    IOTLB_NO_PASID);
	} else {
		struct iotlb_pgtable pt;

		memset(&pt, 0, sizeof(pt));
		pt.format = IOTLB_PGTABLE_VTD_SL;
		pt.levels = 4;
		pt.root = r->t.root;
		pt.output_bits = 48;
		e = iotlb_domain_new_pgtable(&r->dom, r->mem, &pt);
	}
	if (e)
		return failf("iotlb_domain_new: %s", strerror(-e));
	e = iotlb_engine_new(&r->e, engine_flags);
	if (e)
		return failf("iotlb_engine_new: %s", strerror(-e));
	iotlb_engine_set_fault_fn(r->e, on_fault, NULL);
	e = iotlb_engine_add_device(r->e, r->v.fd, r->dom, 0, &r->dev);
	if (e)
		return failf("iotlb_engine_add_device: %s", strerror(-e));
	if (rig_max_entries) {
		e = iotlb_device_set_max_entries(r->dev, rig_max_entries);
		if (e)
			return failf("iotlb_device_set_max_entries(%u): %s",
				     rig_max_entries, strerror(-e));
	}
	for (i = 0; i < 2; i++) {
		if (!r->v.q[i].enabled)
			continue;
		for (k = 0; k < 3; k++) {
			e = iotlb_device_map(r->dev, r->v.q[i].iova + rings[k].off,
					     rings[k].size);
			if (e < 0)
				return failf("iotlb_device_map vq %u ring %u: %s",
					     i, k, strerror(-e));
			r->ring_updates += e;
		}
	}
	return serve_quiet(r, 3000);
}

/* Engine and device counters must tell one consistent story. */
static int check_counters(struct rig *r, struct iotlb_device_stats *ds,
			  struct iotlb_engine_stats *es)
{
	uint64_t answered, verr, end = now_ms() + 100;

	/*
	 * A duplicate miss (the kernel raises one per handler run) may come
	 * after the last frame went out; let its answer complete first.
	 */
	while (now_ms() < end)
		serve(r->e, 5);
	if (serve_quiet(r, 3000))
		return -1;
	if (iotlb_device_get_stats(r->dev, ds) || iotlb_engine_get_stats(r->e, es))
		return failf("stats calls failed");
	/* vq_err(): a translation failure other than a miss, e.g. -EPERM. */
	if ((verr = vq_errors(&r->v)))
		return failf("the vring error eventfd fired %" PRIu64 " times", verr);
	answered = ds->misses - ds->misses_dup - ds->misses_faulted - ds->misses_lost;
	if (es->misses != ds->misses || es->updates != ds->updates)
		return failf("engine misses/updates %" PRIu64 "/%" PRIu64
			     " != device %" PRIu64 "/%" PRIu64, es->misses,
			     es->updates, ds->misses, ds->updates);
	if (ds->updates != (uint64_t)r->ring_updates + answered + ds->pinned_remaps)
		return failf("updates %" PRIu64 " != ring maps %d + answered "
			     "misses %" PRIu64 " + pinned remaps %" PRIu64,
			     ds->updates, r->ring_updates, answered,
			     ds->pinned_remaps);
	if (ds->write_errors || ds->read_errors || ds->bad_messages ||
	    ds->misses_lost || ds->state_errno || ds->queued)
		return failf("device errors: write %" PRIu64 " read %" PRIu64
			     " bad %" PRIu64 " lost %" PRIu64 " state %d queued %u",
			     ds->write_errors, ds->read_errors, ds->bad_messages,
			     ds->misses_lost, ds->state_errno, ds->queued);
	return 0;
}

/* ---- (a) raw kernel facts, no engine ---- */

static const char *errname(ssize_t r)
{
	static char b[32];

	if (r == 72)
		return "72";
	if (r >= 0) {
		snprintf(b, sizeof(b), "%zd", r);
		return b;
	}
	return r == -EINVAL ? "EINVAL" : r == -EFAULT ? "EFAULT" :
	       r == -ETIMEDOUT ? "timeout" : r == -EAGAIN ? "EAGAIN" :
	       strerror((int)-r);
}

static enum result scenario_raw(void)
{
	struct vdev v;
	struct vhost_msg_v2 m;
	uint8_t buf[128];
	ssize_t n, n2;
	enum result res = R_FAIL;

	rx_reset();
	if (vdev_open(&v, false))
		goto out;
	info("a: features %#" PRIx64 " backend features %#" PRIx64,
	     v.features, v.backend_features);
	/* The rings, as one raw UPDATE of the whole area. */
	n = raw_write(v.fd, VHOST_IOTLB_UPDATE, IOVA_RING, RING_AREA,
		      (uintptr_t)(ram + OFF_RING), VHOST_ACCESS_RW);
	if (n != 72) {
		failf("ring UPDATE: %s", errname(n));
		goto out;
	}
	if ((n = vdev_set_backend(&v))) {
		failf("VHOST_NET_SET_BACKEND with rings mapped: %s", strerror((int)-n));
		goto out;
	}
	backend_settle();
	frame_write(0, 1);
	tx_post(&v, IOVA_DATA);
	tx_kick(&v);
	n = raw_read(v.fd, buf, sizeof(buf), 3000);
	if (n != 72) {
		failf("TX to an unmapped IOVA: read %s, want one 72-byte MISS",
		      errname(n));
		goto out;
	}
	memcpy(&m, buf, sizeof(m));
	if (m.type != VHOST_IOTLB_MSG_V2 || m.asid != 0 ||
	    m.iotlb.type != VHOST_IOTLB_MISS || m.iotlb.iova != IOVA_DATA ||
	    m.iotlb.size != 0 || m.iotlb.uaddr != 0 ||
	    m.iotlb.perm != VHOST_ACCESS_RO) {
		failf("MISS: envelope %u asid %u type %u iova %#llx size %llu "
		      "uaddr %#llx perm %u; want 2 0 1 %#llx 0 0 1", m.type,
		      m.asid, m.iotlb.type, (unsigned long long)m.iotlb.iova,
		      (unsigned long long)m.iotlb.size,
		      (unsigned long long)m.iotlb.uaddr, m.iotlb.perm,
		      (unsigned long long)IOVA_DATA);
		goto out;
	}
	n2 = raw_read(v.fd, buf, sizeof(buf), 300);
	rx_drain();
	if (n2 != -ETIMEDOUT || used_idx(&v) != 0 || rx_total) {
		failf("after the MISS: second read %s, used %u, frames %lu; "
		      "want nothing", errname(n2), used_idx(&v), rx_total);
		goto out;
	}
	n = raw_write(v.fd, VHOST_IOTLB_UPDATE, IOVA_DATA, PAGE,
		      (uintptr_t)gpa_local(data_gpa(0)), VHOST_ACCESS_RO);
	if (n != 72) {
		failf("data UPDATE: %s", errname(n));
		goto out;
	}
	if (wait_used_raw(&v, 1, 3000) || wait_rx(1, 2000) || !seen[1]) {
		failf("after the UPDATE: used %u, frames %lu (seq 1 %s)",
		      used_idx(&v), rx_total, seen[1] ? "seen" : "missing");
		goto out;
	}
	snprintf(reason, sizeof(reason), "backend features %#" PRIx64
		 " (MSG_V2), one 72-byte V2 MISS iova=%#llx size=0 uaddr=0 "
		 "perm=RO, frame held until the UPDATE, then sent",
		 v.backend_features, (unsigned long long)IOVA_DATA);
	res = R_PASS;
out:
	vdev_close(&v);
	return res;
}

/* The simulator's profile for the booted kernel (sim.h). */
static enum iotlb_sim_profile sim_profile(void)
{
	return kernel_at_least(6, 6) ? IOTLB_SIM_KERNEL_MAINLINE :
	       IOTLB_SIM_KERNEL_6_1;
}

static const char *sim_profile_name(void)
{
	return kernel_at_least(6, 6) ? "MAINLINE" : "6_1";
}

/*
 * (a2) write errors: what the kernel answers to size-0 messages, next to
 * what the simulator's profile for this kernel predicts.
 */
static enum result scenario_raw_errors(void)
{
	struct iotlb_sim_config cfg;
	struct vdev v;
	ssize_t up0, inv0, bad;
	const char *want_inv0;
	enum result res = R_FAIL;

	if (vdev_open(&v, false))
		goto out;
	up0 = raw_write(v.fd, VHOST_IOTLB_UPDATE, IOVA_DATA, 0,
			(uintptr_t)gpa_local(data_gpa(0)), VHOST_ACCESS_RO);
	/* iova != 0: only an entry straddling it could be hit; none exists. */
	inv0 = raw_write(v.fd, VHOST_IOTLB_INVALIDATE, 0x7f0000000000ULL, 0, 0, 0);
	bad = raw_write(v.fd, VHOST_IOTLB_MISS, IOVA_DATA, PAGE, 0, 0);
	iotlb_sim_config_init(&cfg, sim_profile());
	want_inv0 = !cfg.reject_inval_size0 ? "72" :
		    cfg.inval_size0_errno == EINVAL ? "EINVAL" : "EFAULT";
	if (strcmp(errname(inv0), want_inv0))
		printf("SIMDIFF size-0 INVALIDATE: kernel %s, simulator profile "
		       "%s predicts %s\n", errname(inv0), sim_profile_name(),
		       want_inv0);
	if (up0 != -EINVAL || bad != -EFAULT) {
		failf("UPDATE size 0: %s (want EINVAL); MISS written: %s "
		      "(want EFAULT)", errname(up0), errname(bad));
		goto out;
	}
	if (strcmp(errname(inv0), want_inv0)) {
		failf("size-0 INVALIDATE: kernel %s, simulator profile %s says %s",
		      errname(inv0), sim_profile_name(), want_inv0);
		goto out;
	}
	snprintf(reason, sizeof(reason), "UPDATE size 0 EINVAL, MISS written "
		 "EFAULT, INVALIDATE size 0 %s (simulator profile %s agrees)",
		 errname(inv0), sim_profile_name());
	res = R_PASS;
out:
	vdev_close(&v);
	return res;
}

/*
 * (a3) an UPDATE written while its MISS is still unread wakes nothing
 * (reference §3.4); the simulator models exactly that.
 */
static enum result scenario_raw_unread(void)
{
	struct vdev v;
	struct vhost_msg_v2 m;
	uint8_t buf[128];
	struct pollfd p;
	ssize_t n;
	uint16_t early, after_read;
	unsigned int extra = 0;
	enum result res = R_FAIL;

	rx_reset();
	if (vdev_open(&v, false))
		goto out;
	n = raw_write(v.fd, VHOST_IOTLB_UPDATE, IOVA_RING, RING_AREA,
		      (uintptr_t)(ram + OFF_RING), VHOST_ACCESS_RW);
	if (n != 72 || vdev_set_backend(&v)) {
		failf("ring setup: %s", errname(n));
		goto out;
	}
	backend_settle();
	frame_write(1, 2);
	tx_post(&v, IOVA_DATA + PAGE);
	tx_kick(&v);
	p.fd = v.fd;
	p.events = POLLIN;
	if (poll(&p, 1, 3000) != 1) {
		failf("no MISS queued for an unmapped TX buffer");
		goto out;
	}
	n = raw_write(v.fd, VHOST_IOTLB_UPDATE, IOVA_DATA + PAGE, PAGE,
		      (uintptr_t)gpa_local(data_gpa(1)), VHOST_ACCESS_RO);
	if (n != 72) {
		failf("UPDATE: %s", errname(n));
		goto out;
	}
	wait_used_raw(&v, 1, 500);
	early = used_idx(&v);
	n = raw_read(v.fd, buf, sizeof(buf), 1000);
	memcpy(&m, buf, sizeof(m));
	if (n != 72 || m.iotlb.iova != IOVA_DATA + PAGE) {
		failf("reading the MISS: %s", errname(n));
		goto out;
	}
	wait_used_raw(&v, 1, 500);
	after_read = used_idx(&v);
	while (raw_read(v.fd, buf, sizeof(buf), 100) == 72)
		extra++;
	tx_kick(&v);
	if (wait_used_raw(&v, 1, 3000)) {
		failf("a kick after the UPDATE did not send the frame");
		goto out;
	}
	if (extra)
		info("a3: %u more MISS for the same buffer", extra);
	if (early || after_read) {
		printf("SIMDIFF update-before-read: kernel sent the frame %s; the "
		       "simulator waits for a kick\n",
		       early ? "before the MISS was read" : "once the MISS was read");
		failf("frame sent %s, without a kick",
		      early ? "before the MISS was read" : "once the MISS was read");
		goto out;
	}
	snprintf(reason, sizeof(reason), "UPDATE before the MISS was read woke "
		 "nothing, nor did reading it; the next kick sent the frame "
		 "(simulator agrees)");
	res = R_PASS;
out:
	vdev_close(&v);
	return res;
}

/* ---- (b) TX through vhost-net, misses served by the engine ---- */

#define B_FRAMES 64U
#define B_WINDOWS 4U

static enum result scenario_tx(void)
{
	struct iotlb_device_stats ds;
	struct iotlb_engine_stats es;
	struct rig r;
	unsigned int i, missing = 0;
	uint64_t t0;	/* start, then elapsed ms */
	int e;
	enum result res = R_FAIL;

	rx_reset();
	rig_init(&r);
	faults.n = 0;
	if (rig_setup(&r, DOM_VIOMMU, 0, B_WINDOWS * (WINDOW / PAGE), 0))
		goto out;
	if ((e = vdev_set_backend(&r.v))) {
		failf("VHOST_NET_SET_BACKEND after ring maps: %s", strerror(-e));
		goto out;
	}
	/* Distinct pages, spread over four 2 MiB windows. */
	for (i = 0; i < B_FRAMES; i++) {
		unsigned int page = (i % B_WINDOWS) * (WINDOW / PAGE) +
				    (i / B_WINDOWS) * 7;

		frame_write(page, i + 1);
		tx_post(&r.v, IOVA_DATA + page * PAGE);
	}
	t0 = now_ms();
	tx_kick(&r.v);
	if (wait_used(&r, B_FRAMES, 20000)) {
		iotlb_device_get_stats(r.dev, &ds);
		failf("used %u of %u after 20 s (misses %" PRIu64 ", updates %"
		      PRIu64 ", faults %lu)", used_idx(&r.v), B_FRAMES,
		      ds.misses, ds.updates, faults.n);
		goto out;
	}
	t0 = now_ms() - t0;
	wait_rx(B_FRAMES, 2000);
	for (i = 1; i <= B_FRAMES; i++)
		missing += !seen[i];
	if (missing || rx_total != B_FRAMES) {
		failf("%u frames missing, %lu received of %u", missing, rx_total,
		      B_FRAMES);
		goto out;
	}
	if (check_counters(&r, &ds, &es))
		goto out;
	if (ds.misses < B_WINDOWS || ds.misses_faulted || faults.n) {
		failf("misses %" PRIu64 " (want >= %u, one per window), faulted %"
		      PRIu64, ds.misses, B_WINDOWS, ds.misses_faulted);
		goto out;
	}
	snprintf(reason, sizeof(reason), "VT-d vIOMMU 4-level: %u frames in %"
		 PRIu64 " ms, used %u; kernel misses %" PRIu64 " (dup %" PRIu64
		 ", re-misses %" PRIu64 ") for %u windows, updates %" PRIu64
		 " = %d ring + %" PRIu64 " answers, read_mode %u", B_FRAMES,
		 t0, used_idx(&r.v), ds.misses, ds.misses_dup,
		 ds.shadow_remisses, B_WINDOWS, ds.updates,
		 r.ring_updates, ds.updates - (uint64_t)r.ring_updates,
		 es.read_mode);
	res = R_PASS;
out:
	rig_free(&r);
	return res;
}

/* ---- (c) rings must be mapped before VHOST_NET_SET_BACKEND ---- */

static enum result scenario_premap(void)
{
	struct vhost_msg_v2 m;
	uint8_t buf[128];
	struct vdev v;
	struct rig r;
	char without[256];
	ssize_t n;
	int e;
	enum result res = R_FAIL;

	rx_reset();
	rig_init(&r);
	if (vdev_open(&v, false))
		goto out;
	e = vdev_set_backend(&v);
	if (e != -EFAULT) {
		failf("SET_BACKEND without ring maps: %s, want EFAULT",
		      e ? strerror(-e) : "success");
		goto out;
	}
	n = raw_read(v.fd, buf, sizeof(buf), 500);
	memcpy(&m, buf, sizeof(m));
	if (n == 72)
		snprintf(without, sizeof(without), "EFAULT and a MISS iova=%#llx perm=%u",
			 (unsigned long long)m.iotlb.iova, m.iotlb.perm);
	else
		snprintf(without, sizeof(without), "EFAULT, no MISS (%s)",
			 errname(n));
	vdev_close(&v);
	info("c: without ring maps: %s (used ring at %#llx)", without,
	     (unsigned long long)(IOVA_RING + RING_USED));

	if (rig_setup(&r, DOM_PGTABLE, 0, WINDOW / PAGE, 0))
		goto out;
	if ((e = vdev_set_backend(&r.v))) {
		failf("SET_BACKEND after iotlb_device_map of the rings: %s",
		      strerror(-e));
		goto out;
	}
	frame_write(3, 3);
	tx_post(&r.v, IOVA_DATA + 3 * PAGE);
	tx_kick(&r.v);
	if (wait_used(&r, 1, 5000) || wait_rx(1, 2000) || !seen[3]) {
		failf("premapped device: frame not sent (used %u)", used_idx(&r.v));
		goto out;
	}
	snprintf(reason, sizeof(reason), "without: %s; with %d ring UPDATEs: "
		 "attached, frame sent", without, r.ring_updates);
	res = R_PASS;
out:
	vdev_close(&v);
	rig_free(&r);
	return res;
}

/* ---- (d) coalescing: thousands of pages, a handful of UPDATEs ---- */

#define D_PAGES 4096U
#define D_MAX_DATA_UPDATES 16U

static enum result scenario_coalesce(void)
{
	struct iotlb_device_stats ds;
	struct iotlb_engine_stats es;
	struct iotlb_domain_stats dst;
	struct rig r;
	unsigned int sent = 0, i, missing = 0;
	uint64_t t0, end, data_updates;	/* t0: start, then elapsed ms */
	enum result res = R_FAIL;
	int e;

	rx_reset();
	rig_init(&r);
	faults.n = 0;
	if (rig_setup(&r, DOM_PGTABLE, 0, D_PAGES, 0))
		goto out;
	if ((e = vdev_set_backend(&r.v))) {
		failf("SET_BACKEND: %s", strerror(-e));
		goto out;
	}
	t0 = now_ms();
	end = t0 + 120000;
	while (used_idx(&r.v) != (uint16_t)D_PAGES || sent < D_PAGES) {
		bool posted = false;

		while (sent < D_PAGES && in_flight(&r.v) < QNUM) {
			frame_write(sent, sent + 1);
			tx_post(&r.v, IOVA_DATA + (uint64_t)sent * PAGE);
			sent++;
			posted = true;
		}
		if (posted)
			tx_kick(&r.v);
		serve(r.e, 1);
		rx_drain();
		if (now_ms() > end) {
			failf("%u of %u frames sent after 120 s", sent, D_PAGES);
			goto out;
		}
	}
	t0 = now_ms() - t0;
	wait_rx(D_PAGES, 3000);
	for (i = 1; i <= D_PAGES; i++)
		missing += !seen[i];
	if (missing || rx_total != D_PAGES) {
		failf("%u frames missing, %lu received of %u", missing, rx_total,
		      D_PAGES);
		goto out;
	}
	if (check_counters(&r, &ds, &es))
		goto out;
	iotlb_domain_get_stats(r.dom, &dst);
	data_updates = ds.updates - (uint64_t)r.ring_updates;
	info("d: %u pages: kernel misses %" PRIu64 " (dup %" PRIu64 ", re-misses %"
	     PRIu64 "), data UPDATEs %" PRIu64 ", all UPDATEs cover %" PRIu64
	     " KiB, walks %" PRIu64 ", %" PRIu64 " ms", D_PAGES, ds.misses,
	     ds.misses_dup, ds.shadow_remisses, data_updates,
	     ds.update_bytes / 1024, dst.walks, t0);
	if (data_updates > D_MAX_DATA_UPDATES) {
		failf("%" PRIu64 " data UPDATEs for %u pages (want <= %u)",
		      data_updates, D_PAGES, D_MAX_DATA_UPDATES);
		goto out;
	}
	snprintf(reason, sizeof(reason), "%u distinct 4 KiB IOMMU pages over "
		 "%llu MiB: %" PRIu64 " data UPDATEs, kernel misses %" PRIu64
		 " (dup %" PRIu64 "), %" PRIu64 " ms", D_PAGES,
		 (unsigned long long)(D_PAGES * PAGE >> 20), data_updates,
		 ds.misses, ds.misses_dup, t0);
	res = R_PASS;
out:
	rig_free(&r);
	return res;
}

/* ---- (e) invalidation and its fence ---- */

static enum result scenario_invalidate(void)
{
	const unsigned int old_page = 5, new_page = 600;
	const uint64_t x = IOVA_DATA + old_page * PAGE;
	struct iotlb_device_stats ds0, ds1, ds2;
	struct fence_state fs = { false, 0 };
	struct rig r;
	uint64_t end;
	int e;
	enum result res = R_FAIL;

	rx_reset();
	rig_init(&r);
	faults.n = 0;
	if (rig_setup(&r, DOM_PGTABLE, 0, WINDOW / PAGE, 0))
		goto out;
	if ((e = vdev_set_backend(&r.v))) {
		failf("SET_BACKEND: %s", strerror(-e));
		goto out;
	}
	/* 1. x is mapped and used. */
	frame_write(old_page, 0xe1);
	tx_post(&r.v, x);
	tx_kick(&r.v);
	if (wait_used(&r, 1, 5000) || wait_rx(1, 2000) || !seen[0xe1]) {
		failf("first frame at x not sent");
		goto out;
	}
	/* 2. The guest unmaps x and invalidates; wait for the fence. */
	e = pt_vtd_unmap(&r.b, &r.t, x, PAGE);
	if (e) {
		failf("pt_vtd_unmap: %s", strerror(-e));
		goto out;
	}
	e = iotlb_engine_invalidate(r.e, r.dom, x, PAGE, on_fence, &fs);
	if (e) {
		failf("iotlb_engine_invalidate: %s", strerror(-e));
		goto out;
	}
	end = now_ms() + 3000;
	while (!fs.done && now_ms() < end)
		serve(r.e, 2);
	if (!fs.done || fs.status) {
		failf("fence %s (status %d)", fs.done ? "failed" : "never came",
		      fs.status);
		goto out;
	}
	if (serve_quiet(&r, 3000))
		goto out;
	iotlb_device_get_stats(r.dev, &ds0);
	if (!ds0.invalidates) {
		failf("no INVALIDATE was written");
		goto out;
	}
	/* 3. The rest of the old entry was mapped again: no miss there. */
	frame_write(old_page + 1, 0xe3);
	tx_post(&r.v, x + PAGE);
	tx_kick(&r.v);
	if (wait_used(&r, 2, 5000) || wait_rx(2, 2000) || !seen[0xe3]) {
		failf("neighbour frame not sent after the invalidation");
		goto out;
	}
	iotlb_device_get_stats(r.dev, &ds1);
	/* 4. x again: a new MISS, the guest refuses it, the frame waits. */
	frame_write(old_page, 0xe4);
	tx_post(&r.v, x);
	tx_kick(&r.v);
	end = now_ms() + 3000;
	while (!faults.n && now_ms() < end)
		serve(r.e, 2);
	wait_used(&r, 3, 500);
	rx_drain();
	iotlb_device_get_stats(r.dev, &ds2);
	if (!faults.n || faults.last_iova != x || used_idx(&r.v) != 2 ||
	    seen[0xe4]) {
		failf("after the fence, x: faults %lu (iova %#llx), misses %"
		      PRIu64 "->%" PRIu64 ", used %u, old memory sent: %s",
		      faults.n, (unsigned long long)faults.last_iova, ds1.misses,
		      ds2.misses, used_idx(&r.v), seen[0xe4] ? "yes" : "no");
		goto out;
	}
	/* 5. The guest maps x to another page; the VMM maps it in. */
	frame_write(new_page, 0xe5);
	e = pt_vtd_map(&r.b, &r.t, x, data_gpa(new_page), PAGE, PAGE, PT_VTD_R);
	if (e) {
		failf("pt_vtd_map: %s", strerror(-e));
		goto out;
	}
	e = iotlb_device_map(r.dev, x, PAGE);
	if (e < 1) {
		failf("iotlb_device_map(x): %d", e);
		goto out;
	}
	if (wait_used(&r, 3, 5000) || wait_rx(3, 2000) || !seen[0xe5] ||
	    seen[0xe4]) {
		failf("re-mapped x: used %u, new page %s, old page %s",
		      used_idx(&r.v), seen[0xe5] ? "sent" : "not sent",
		      seen[0xe4] ? "sent" : "not sent");
		goto out;
	}
	snprintf(reason, sizeof(reason), "fence ok (%" PRIu64 " INVALIDATE), "
		 "neighbour page %s, x: new MISS refused by the guest and held "
		 "(misses %" PRIu64 "->%" PRIu64 "), re-mapped to a new page: "
		 "sent from the new page only",
		 ds0.invalidates,
		 ds1.misses == ds0.misses ? "re-mapped (no miss)" : "missed again",
		 ds1.misses, ds2.misses);
	if (ds1.misses != ds0.misses) {
		failf("the rest of the invalidated entry was not re-mapped: the "
		      "neighbour page missed again (misses %" PRIu64 "->%" PRIu64
		      ")", ds0.misses, ds1.misses);
		goto out;
	}
	res = R_PASS;
out:
	rig_free(&r);
	return res;
}

/* ---- (f) the read mode the engine probed, and the write modes ---- */

static enum result scenario_modes(void)
{
	static const struct {
		unsigned int flags;
		const char *name;
	} modes[] = {
		{ 0, "default" },
		{ IOTLB_ENGINE_SINGLE_READS, "single-reads" },
		{ IOTLB_ENGINE_NO_ASYNC_WRITES, "no-async-writes" },
	};
	unsigned int want_default = kernel_at_least(6, 7) ? 2 : 1, k, i;
	char out[512] = "";
	size_t len = 0;

	for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		struct iotlb_device_stats ds;
		struct iotlb_engine_stats es;
		struct rig r;
		unsigned int want = modes[k].flags & IOTLB_ENGINE_SINGLE_READS ?
				    1 : want_default;
		int e;

		rx_reset();
		rig_init(&r);
		if (rig_setup(&r, DOM_PGTABLE, modes[k].flags, 2 * (WINDOW / PAGE), 0)) {
			rig_free(&r);
			return R_FAIL;
		}
		if ((e = vdev_set_backend(&r.v))) {
			failf("%s: SET_BACKEND: %s", modes[k].name, strerror(-e));
			rig_free(&r);
			return R_FAIL;
		}
		for (i = 0; i < 8; i++) {
			unsigned int page = (i % 2) * (WINDOW / PAGE) + i * 3;

			frame_write(page, i + 1);
			tx_post(&r.v, IOVA_DATA + page * PAGE);
		}
		tx_kick(&r.v);
		if (wait_used(&r, 8, 10000) || wait_rx(8, 2000) ||
		    check_counters(&r, &ds, &es)) {
			if (!reason[0] || used_idx(&r.v) != 8)
				failf("%s: used %u of 8", modes[k].name,
				      used_idx(&r.v));
			rig_free(&r);
			return R_FAIL;
		}
		rig_free(&r);
		if (es.read_mode != want) {
			failf("%s: read_mode %u, want %u on Linux %u.%u",
			      modes[k].name, es.read_mode, want, kmajor, kminor);
			return R_FAIL;
		}
		len += (size_t)snprintf(out + len, sizeof(out) - len,
					"%s%s: read_mode %u (%s), 8 frames in 2 "
					"windows, %" PRIu64 " misses, %" PRIu64
					" updates", k ? "; " : "",
					modes[k].name, es.read_mode,
					es.read_mode == 2 ? "multishot" : "single reads",
					ds.misses, ds.updates);
		if (len >= sizeof(out))
			len = sizeof(out) - 1;
	}
	snprintf(reason, sizeof(reason), "%s", out);
	return R_PASS;
}

/* ---- (g) RX: write-only guest buffers, misses with perm WO ---- */

#define G_FRAMES 16U

static unsigned int rx_page(unsigned int i)
{
	return RX_PAGE0 + (i % 2) * (unsigned int)(WINDOW / PAGE) + (i / 2) * 5;
}

/* The host stack sends a frame out of the tap: vhost-net's RX path. */
static int host_send(uint32_t seq)
{
	uint8_t f[FRAME_LEN];
	struct sockaddr_ll ll;

	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	f[6] = 0x02;
	f[11] = 0x02;
	f[12] = ETH_TYPE >> 8;
	f[13] = ETH_TYPE & 0xff;
	memcpy(f + 14, "IOTL", 4);
	memcpy(f + 18, &seq, sizeof(seq));
	memset(&ll, 0, sizeof(ll));
	ll.sll_family = AF_PACKET;
	ll.sll_protocol = htons(ETH_TYPE);
	ll.sll_ifindex = tap_ifindex;
	ll.sll_halen = 6;
	memset(ll.sll_addr, 0xff, 6);
	if (sendto(pkt_fd, f, sizeof(f), 0, (struct sockaddr *)&ll,
		   sizeof(ll)) != (ssize_t)sizeof(f))
		return failf("sendto tap: %s", strerror(errno));
	return 0;
}

static enum result scenario_rx(void)
{
	struct iotlb_device_stats ds;
	struct iotlb_engine_stats es;
	struct rig r;
	struct vq *q;
	unsigned int i, bad = 0;
	int e;
	enum result res = R_FAIL;

	rx_reset();
	rig_init(&r);
	faults.n = 0;
	if (rig_setup(&r, DOM_VIOMMU, 0, 0, 2 * (WINDOW / PAGE)))
		goto out;
	q = &r.v.q[RXQ];
	/* Empty receive buffers, in two windows of write-only pages. */
	for (i = 0; i < G_FRAMES; i++) {
		memset(gpa_local(data_gpa(rx_page(i))), 0, PAGE);
		vq_post(q, IOVA_RXBUF + (uint64_t)(rx_page(i) - RX_PAGE0) * PAGE,
			2048, true);
	}
	if ((e = vdev_attach(&r.v, RXQ))) {
		failf("SET_BACKEND on the RX queue: %s", strerror(-e));
		goto out;
	}
	vq_kick(q);
	for (i = 0; i < G_FRAMES; i++)
		if (host_send(0x100 + i))
			goto out;
	if (wait_vq(&r, q, G_FRAMES, 20000)) {
		iotlb_device_get_stats(r.dev, &ds);
		failf("RX used %u of %u after 20 s (misses %" PRIu64 ", updates %"
		      PRIu64 ", faults %lu, last fault iova %#llx access %u)",
		      vq_used(q), G_FRAMES, ds.misses, ds.updates, faults.n,
		      (unsigned long long)faults.last_iova, faults.last_access);
		goto out;
	}
	for (i = 0; i < G_FRAMES; i++) {
		const struct vring_used_elem *u = &q->used->ring[i];
		const uint8_t *b = gpa_local(data_gpa(rx_page(i)));
		uint32_t seq;

		memcpy(&seq, b + VNET_HDR + 18, sizeof(seq));
		if (u->id != i || u->len != VNET_HDR + FRAME_LEN ||
		    memcmp(b + VNET_HDR + 14, "IOTL", 4) || seq != 0x100 + i)
			bad++;
	}
	if (bad) {
		failf("%u of %u receive buffers wrong (first used: id %u len %u)",
		      bad, G_FRAMES, q->used->ring[0].id, q->used->ring[0].len);
		goto out;
	}
	if (check_counters(&r, &ds, &es))
		goto out;
	if (ds.misses < 2 || ds.misses_faulted || faults.n) {
		failf("misses %" PRIu64 " (want >= 2, one per window), faulted %"
		      PRIu64, ds.misses, ds.misses_faulted);
		goto out;
	}
	snprintf(reason, sizeof(reason), "VT-d vIOMMU, write-only guest pages: "
		 "%u frames received into the right buffers (len %u); kernel "
		 "misses %" PRIu64 " (dup %" PRIu64 ", re-misses %" PRIu64
		 ") for 2 windows, updates %" PRIu64 " = %d ring + %" PRIu64
		 " answers", G_FRAMES, VNET_HDR + FRAME_LEN, ds.misses,
		 ds.misses_dup, ds.shadow_remisses, ds.updates, r.ring_updates,
		 ds.updates - (uint64_t)r.ring_updates);
	res = R_PASS;
out:
	rig_free(&r);
	return res;
}

/* ---- (h) device restart: SET_FEATURES again wipes the kernel IOTLB ---- */

#define H_FRAMES 16U
#define H_WINDOWS 2U

/* H_FRAMES frames over H_WINDOWS windows, seq from seq0; 0 or -1. */
static int h_burst(struct rig *r, uint32_t seq0, uint16_t used0)
{
	unsigned int i;

	for (i = 0; i < H_FRAMES; i++) {
		unsigned int page = (i % H_WINDOWS) * (unsigned int)(WINDOW / PAGE) +
				    (i / H_WINDOWS) * 3;

		frame_write(page, seq0 + i);
		tx_post(&r->v, IOVA_DATA + page * PAGE);
	}
	tx_kick(&r->v);
	if (wait_used(r, (uint16_t)(used0 + H_FRAMES), 10000) ||
	    wait_rx(used0 + H_FRAMES, 2000))
		return failf("used %u of %u, frames %lu", used_idx(&r->v),
			     used0 + H_FRAMES, rx_total);
	for (i = 0; i < H_FRAMES; i++)
		if (!seen[seq0 + i])
			return failf("frame %u not seen", seq0 + i);
	return 0;
}

static enum result scenario_restart(void)
{
	uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	struct iotlb_device_stats ds0, ds1, ds;
	struct iotlb_engine_stats es;
	struct vhost_vring_file f = { TXQ, -1 };
	struct pollfd p;
	struct rig r;
	int e, pins;
	enum result res = R_FAIL;

	rx_reset();
	rig_init(&r);
	faults.n = 0;
	if (rig_setup(&r, DOM_PGTABLE, 0, H_WINDOWS * (WINDOW / PAGE), 0))
		goto out;
	if ((e = vdev_set_backend(&r.v))) {
		failf("SET_BACKEND: %s", strerror(-e));
		goto out;
	}
	if (h_burst(&r, 1, 0))
		goto out;
	if (serve_quiet(&r, 3000))
		goto out;
	iotlb_device_get_stats(r.dev, &ds0);
	/* The guest driver restarts: QEMU stops the backend, sets features. */
	if (ioctl(r.v.fd, VHOST_NET_SET_BACKEND, &f)) {
		failf("detach: %s", strerror(errno));
		goto out;
	}
	r.v.q[TXQ].backend = false;
	if (ioctl(r.v.fd, VHOST_SET_FEATURES, &feat)) {
		failf("VHOST_SET_FEATURES again: %s", strerror(errno));
		goto out;
	}
	pins = iotlb_device_restarted(r.dev);
	if (pins < 3) {
		failf("iotlb_device_restarted: %d, want the 3 ring areas", pins);
		goto out;
	}
	if (serve_quiet(&r, 3000))
		goto out;
	iotlb_device_get_stats(r.dev, &ds1);
	/* Those re-sent ring maps are UPDATEs the counters must account. */
	r.ring_updates += (int)(ds1.updates - ds0.updates);
	if ((e = vdev_set_backend(&r.v))) {
		failf("SET_BACKEND after the restart (rings re-sent: %d): %s",
		      pins, strerror(-e));
		goto out;
	}
	/* The same pages again: the kernel's new IOTLB holds only the rings. */
	if (h_burst(&r, 0x101, H_FRAMES))
		goto out;
	if (check_counters(&r, &ds, &es))
		goto out;
	p.fd = r.v.fd;
	p.events = POLLIN;
	/*
	 * Every window misses once: the engine knew the IOTLB was empty.
	 * The kernel may also repeat a miss (a second handler run, e.g. when
	 * the tap becomes writable); a copy read after its answer went out
	 * counts as a re-miss, so re-misses may not exceed the misses beyond
	 * one per window.
	 */
	if (ds.misses - ds1.misses < H_WINDOWS ||
	    ds.shadow_remisses - ds1.shadow_remisses >
	    ds.misses - ds1.misses - H_WINDOWS ||
	    ds.misses_faulted || poll(&p, 1, 0) != 0) {
		failf("after the restart: misses %" PRIu64 " (want >= %u), "
		      "re-misses %" PRIu64 ", faulted %" PRIu64 ", unread MISS %s",
		      ds.misses - ds1.misses, H_WINDOWS,
		      ds.shadow_remisses - ds1.shadow_remisses, ds.misses_faulted, (p.revents & POLLIN) ? "yes" : "no");
		goto out;
	}
	snprintf(reason, sizeof(reason), "%u frames, SET_BACKEND -1, "
		 "SET_FEATURES(ACCESS_PLATFORM), iotlb_device_restarted re-sent "
		 "%d ring areas (%" PRIu64 " UPDATEs), re-attached, %u frames on "
		 "the same pages: misses before %" PRIu64 " (dup %" PRIu64
		 ", re-misses %" PRIu64 "), after %" PRIu64 " (dup %" PRIu64
		 "), re-misses after %" PRIu64 " (duplicate copies only)",
		 H_FRAMES, pins, ds1.updates - ds0.updates, H_FRAMES,
		 ds0.misses, ds0.misses_dup, ds0.shadow_remisses,
		 ds.misses - ds1.misses,
		 ds.misses_dup - ds1.misses_dup,
		 ds.shadow_remisses - ds1.shadow_remisses);
	res = R_PASS;
out:
	rig_free(&r);
	return res;
}

/* ---- (i) duplicate misses while the engine holds, then served ---- */

#define I_KICKS 100U

static enum result scenario_dups(void)
{
	struct iotlb_device_stats ds, ds2;
	struct iotlb_engine_stats es;
	struct pollfd p;
	struct rig r;
	unsigned int i;
	uint64_t answered;
	int e, unread;
	enum result res = R_FAIL;

	rx_reset();
	rig_init(&r);
	faults.n = 0;
	if (rig_setup(&r, DOM_PGTABLE, 0, 2 * (WINDOW / PAGE), 0))
		goto out;
	if ((e = vdev_set_backend(&r.v))) {
		failf("SET_BACKEND: %s", strerror(-e));
		goto out;
	}
	backend_settle();
	/* One frame to an unmapped page; kick it 100 times, no service. */
	frame_write(9, 1);
	tx_post(&r.v, IOVA_DATA + 9 * PAGE);
	for (i = 0; i < I_KICKS; i++) {
		tx_kick(&r.v);
		usleep(2000);
	}
	/* Three more, in the other window, still held. */
	for (i = 0; i < 3; i++) {
		unsigned int page = (unsigned int)(WINDOW / PAGE) + 11 * i;

		frame_write(page, 2 + i);
		tx_post(&r.v, IOVA_DATA + page * PAGE);
		tx_kick(&r.v);
		usleep(2000);
	}
	usleep(100 * 1000);
	rx_drain();
	if (used_idx(&r.v) || rx_total) {
		failf("frames went out without an answer: used %u", used_idx(&r.v));
		goto out;
	}
	if (wait_used(&r, 4, 10000) || wait_rx(4, 2000) || !seen[1] ||
	    !seen[2] || !seen[3] || !seen[4]) {
		failf("after serving: used %u of 4, frames %lu", used_idx(&r.v),
		      rx_total);
		goto out;
	}
	if (check_counters(&r, &ds, &es))
		goto out;
	/* Nothing left unread, nothing new without kicks, nothing queued. */
	usleep(300 * 1000);
	serve(r.e, 5);
	p.fd = r.v.fd;
	p.events = POLLIN;
	unread = poll(&p, 1, 0);
	iotlb_device_get_stats(r.dev, &ds2);
	answered = ds.misses - ds.misses_dup - ds.misses_faulted;
	/* The simulator raises one MISS per handler run (sim.c, run_handler). */
	info("i: %u kicks and 3 frames while held: %" PRIu64 " MISS (%.2f per "
	     "kick)", I_KICKS, ds.misses, (double)ds.misses / (I_KICKS + 3));
	if (unread || ds2.misses != ds.misses || ds2.queued ||
	    es.misses != ds.misses || ds.misses > 2 * (I_KICKS + 3) + 8 ||
	    ds.misses_faulted || faults.n) {
		failf("misses %" PRIu64 " (engine %" PRIu64 ") -> %" PRIu64
		      " idle, unread %d, queued %u, faulted %" PRIu64, ds.misses,
		      es.misses, ds2.misses, unread, ds2.queued, ds.misses_faulted);
		goto out;
	}
	snprintf(reason, sizeof(reason), "%u kicks + 3 frames held: kernel "
		 "misses %" PRIu64 " (bound 2 per kick) = engine %" PRIu64 ": %" PRIu64 " answered "
		 "(%" PRIu64 " re-sent for raced copies), %" PRIu64 " dup, 0 "
		 "faulted; 4 frames sent, fd drained, queued 0, no new misses "
		 "when idle, read_nobufs %" PRIu64, I_KICKS, ds.misses,
		 es.misses, answered, ds.shadow_remisses, ds.misses_dup,
		 ds.read_nobufs);
	res = R_PASS;
out:
	rig_free(&r);
	return res;
}

/* ---- (j) FIFO eviction with a small vhost.max_iotlb_entries ---- */

#define J_MAX 32U
#define J_PAGES 512U

static int sh(const char *cmd)
{
	int r = system(cmd);

	return r == 0 ? 0 : failf("'%s' failed (%d)", cmd, r);
}

/* Reload vhost and vhost_net with max_iotlb_entries=n; read it back. */
static int vhost_reload(unsigned int n)
{
	char cmd[160], buf[32] = "";
	FILE *f;

	if (sh("rmmod vhost_net") || sh("rmmod vhost"))
		return -1;
	snprintf(cmd, sizeof(cmd), "insmod /lib/modules/vhost.ko "
		 "max_iotlb_entries=%u", n);
	if (sh(cmd) || sh("insmod /lib/modules/vhost_net.ko"))
		return -1;
	f = fopen("/sys/module/vhost/parameters/max_iotlb_entries", "r");
	if (!f || !fgets(buf, sizeof(buf), f) || strtoul(buf, NULL, 10) != n) {
		if (f)
			fclose(f);
		return failf("max_iotlb_entries reads '%s', want %u", buf, n);
	}
	fclose(f);
	return 0;
}

static enum result scenario_evict(void)
{
	struct iotlb_device_stats ds;
	struct iotlb_engine_stats es;
	struct rig r;
	unsigned int sent = 0, i, missing = 0;
	unsigned long ring_misses, ring_before;
	uint64_t t0, end;
	int e;
	enum result res = R_FAIL;

	if (access("/lib/modules/vhost.ko", R_OK) ||
	    access("/sys/module/vhost_net", F_OK)) {
		snprintf(reason, sizeof(reason), "not in the rig's guest "
			 "(no /lib/modules/vhost.ko to reload)");
		return R_SKIP;
	}
	if (vhost_reload(J_MAX))
		return R_FAIL;
	rx_reset();
	rig_init(&r);
	faults.n = 0;
	rig_max_entries = J_MAX;
	/* Rings only; the data pages come next, scattered. */
	e = rig_setup(&r, DOM_PGTABLE, 0, 0, 0);
	rig_max_entries = 0;
	if (e)
		goto out;
	/* IOVA page i -> guest page J_PAGES-1-i: no two answers coalesce. */
	for (i = 0; i < J_PAGES; i++) {
		e = pt_vtd_map(&r.b, &r.t, IOVA_DATA + (uint64_t)i * PAGE,
			       data_gpa(J_PAGES - 1 - i), PAGE, PAGE, PT_VTD_R);
		if (e) {
			failf("pt_vtd_map page %u: %s", i, strerror(-e));
			goto out;
		}
	}
	if ((e = vdev_set_backend(&r.v))) {
		failf("SET_BACKEND: %s", strerror(-e));
		goto out;
	}
	ring_before = ring_translations;
	t0 = now_ms();
	end = t0 + 60000;
	while (used_idx(&r.v) != (uint16_t)J_PAGES || sent < J_PAGES) {
		bool posted = false;

		while (sent < J_PAGES && in_flight(&r.v) < 32) {
			frame_write(J_PAGES - 1 - sent, sent + 1);
			tx_post(&r.v, IOVA_DATA + (uint64_t)sent * PAGE);
			sent++;
			posted = true;
		}
		if (posted)
			tx_kick(&r.v);
		serve(r.e, 1);
		rx_drain();
		if (now_ms() > end) {
			iotlb_device_get_stats(r.dev, &ds);
			failf("%u of %u frames sent after 60 s (used %u, misses %"
			      PRIu64 ", evictions %" PRIu64 ", pinned remaps %"
			      PRIu64 ")", sent, J_PAGES, used_idx(&r.v),
			      ds.misses, ds.shadow_evictions, ds.pinned_remaps);
			goto out;
		}
	}
	t0 = now_ms() - t0;
	wait_rx(J_PAGES, 3000);
	for (i = 1; i <= J_PAGES; i++)
		missing += !seen[i];
	if (missing || rx_total != J_PAGES) {
		failf("%u frames missing, %lu received of %u", missing, rx_total,
		      J_PAGES);
		goto out;
	}
	if (check_counters(&r, &ds, &es))
		goto out;
	/* Every ring translation since attach is a pinned re-map or a miss. */
	ring_misses = ring_translations - ring_before - ds.pinned_remaps;
	info("j: max_iotlb_entries %u, %u pages: misses %" PRIu64 " (dup %"
	     PRIu64 ", re-misses %" PRIu64 "), evictions %" PRIu64
	     ", pinned remaps %" PRIu64 ", ring translations %lu, %" PRIu64
	     " ms", J_MAX, J_PAGES, ds.misses, ds.misses_dup,
	     ds.shadow_remisses, ds.shadow_evictions, ds.pinned_remaps,
	     ring_translations - ring_before, t0);
	if (!ds.pinned_remaps || !ds.shadow_evictions || ring_misses ||
	    ds.misses < J_PAGES) {
		failf("pinned remaps %" PRIu64 ", evictions %" PRIu64
		      ", ring misses %lu, misses %" PRIu64 " (want >0, >0, 0, >= %u)",
		      ds.pinned_remaps, ds.shadow_evictions, ring_misses,
		      ds.misses, J_PAGES);
		goto out;
	}
	snprintf(reason, sizeof(reason), "vhost.max_iotlb_entries=%u, %u "
		 "scattered 4 KiB pages: all sent in %" PRIu64 " ms; misses %"
		 PRIu64 " (dup %" PRIu64 ", re-misses %" PRIu64 "), shadow "
		 "evictions %" PRIu64 ", pinned ring re-maps %" PRIu64
		 ", ring misses 0", J_MAX, J_PAGES, t0, ds.misses,
		 ds.misses_dup, ds.shadow_remisses, ds.shadow_evictions,
		 ds.pinned_remaps);
	res = R_PASS;
out:
	rig_free(&r);
	return res;
}

/* ---- main ---- */

static const struct {
	const char *name;
	enum result (*fn)(void);
} scenarios[] = {
	{ "a-raw-miss", scenario_raw },
	{ "a-raw-errors", scenario_raw_errors },
	{ "a-raw-unread-update", scenario_raw_unread },
	{ "b-tx-engine-vtd", scenario_tx },
	{ "c-ring-premap", scenario_premap },
	{ "d-coalesce", scenario_coalesce },
	{ "e-invalidate", scenario_invalidate },
	{ "f-io-modes", scenario_modes },
	{ "g-rx-engine-vtd", scenario_rx },
	{ "h-restart", scenario_restart },
	{ "i-dup-misses", scenario_dups },
	/* last: it reloads vhost with a small max_iotlb_entries */
	{ "j-fifo-evict", scenario_evict },
};

#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

static void print_result(const char *name, enum result r)
{
	printf("KRESULT %s %s %s\n", name, result_name[r], reason);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	/* One scenario: an argument, or conformance_only=NAME at boot. */
	const char *only = argc > 1 ? argv[1] : getenv("conformance_only");
	struct utsname u;
	unsigned int k;
	int failed = 0;
	void *m;

	setvbuf(stdout, NULL, _IOLBF, 0);
	iotlb_set_log_priority(LOG_WARNING);
	if (uname(&u) == 0)
		sscanf(u.release, "%u.%u", &kmajor, &kminor);
	printf("KPLAN");
	for (k = 0; k < NSCEN; k++)
		if (!only || !strcmp(only, scenarios[k].name))
			printf(" %s", scenarios[k].name);
	printf("\n");
	info("Linux %s, libiotlb %s, simulator profile %s", u.release,
	     iotlb_version(), sim_profile_name());

	/* Guest RAM: 2 MiB aligned, huge pages where the kernel gives them. */
	m = mmap(NULL, RAM_SIZE + WINDOW, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		failf("mmap: %s", strerror(errno));
	else {
		ram = (uint8_t *)(((uintptr_t)m + WINDOW - 1) & ~(uintptr_t)(WINDOW - 1));
		madvise(ram, RAM_SIZE, MADV_HUGEPAGE);
		memset(ram, 0, RAM_SIZE);
	}
	if (!ram || tap_setup()) {
		for (k = 0; k < NSCEN; k++)
			if (!only || !strcmp(only, scenarios[k].name))
				print_result(scenarios[k].name, R_FAIL);
		return 1;
	}
	for (k = 0; k < NSCEN; k++) {
		enum result r;

		if (only && strcmp(only, scenarios[k].name))
			continue;
		reason[0] = '\0';
		r = scenarios[k].fn();
		failed += r == R_FAIL;
		print_result(scenarios[k].name, r);
	}
	return failed ? 1 : 0;
}
