/* SPDX-License-Identifier: MIT */
/*
 * vhost IOTLB wire format.  We lay the bytes out by hand at fixed offsets
 * (so decoding never depends on the host's struct layout) and, where the
 * kernel's uapi header exists, prove at compile time that our offsets are
 * the kernel's.  Layout history: V2 exists because V1's union moves with
 * the ABI's alignment of a u64 (commit 429711aec282).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "iotlb-internal.h"
#include "vhost-msg.h"

#ifdef HAVE_LINUX_VHOST_TYPES_H
#include <linux/vhost_types.h>

_Static_assert(sizeof(struct vhost_iotlb_msg) == 32, "vhost_iotlb_msg size");
_Static_assert(offsetof(struct vhost_iotlb_msg, iova) == 0, "iova");
_Static_assert(offsetof(struct vhost_iotlb_msg, size) == 8, "size");
_Static_assert(offsetof(struct vhost_iotlb_msg, uaddr) == 16, "uaddr");
_Static_assert(offsetof(struct vhost_iotlb_msg, perm) == 24, "perm");
_Static_assert(offsetof(struct vhost_iotlb_msg, type) == 25, "type");
_Static_assert(sizeof(struct vhost_msg_v2) == IOTLB_VMSG_SIZE, "v2 size");
_Static_assert(offsetof(struct vhost_msg_v2, iotlb) == IOTLB_VMSG_IOTLB_OFFSET,
	       "v2 iotlb offset");
#if defined(__x86_64__) || defined(__aarch64__) || defined(__riscv)
_Static_assert(sizeof(struct vhost_msg) == IOTLB_VMSG_SIZE, "v1 size");
_Static_assert(offsetof(struct vhost_msg, iotlb) == IOTLB_VMSG_IOTLB_OFFSET,
	       "v1 iotlb offset");
#endif
_Static_assert(VHOST_IOTLB_MSG == IOTLB_VMSG_V1, "envelope v1");
_Static_assert(VHOST_IOTLB_MSG_V2 == IOTLB_VMSG_V2, "envelope v2");
_Static_assert(VHOST_IOTLB_MISS == IOTLB_VMSG_MISS, "miss");
_Static_assert(VHOST_IOTLB_UPDATE == IOTLB_VMSG_UPDATE, "update");
_Static_assert(VHOST_IOTLB_INVALIDATE == IOTLB_VMSG_INVALIDATE, "invalidate");
_Static_assert(VHOST_IOTLB_ACCESS_FAIL == IOTLB_VMSG_ACCESS_FAIL, "access fail");
_Static_assert(VHOST_IOTLB_BATCH_BEGIN == IOTLB_VMSG_BATCH_BEGIN, "batch begin");
_Static_assert(VHOST_IOTLB_BATCH_END == IOTLB_VMSG_BATCH_END, "batch end");
_Static_assert(VHOST_ACCESS_RO == IOTLB_VMSG_PERM_RO, "ro");
_Static_assert(VHOST_ACCESS_WO == IOTLB_VMSG_PERM_WO, "wo");
_Static_assert(VHOST_ACCESS_RW == IOTLB_VMSG_PERM_RW, "rw");
#endif

/* Offsets inside the 72-byte record. */
#define OFF_TYPE 0
#define OFF_ASID 4
#define OFF_IOVA (IOTLB_VMSG_IOTLB_OFFSET + 0)
#define OFF_SIZE (IOTLB_VMSG_IOTLB_OFFSET + 8)
#define OFF_UADDR (IOTLB_VMSG_IOTLB_OFFSET + 16)
#define OFF_PERM (IOTLB_VMSG_IOTLB_OFFSET + 24)
#define OFF_ITYPE (IOTLB_VMSG_IOTLB_OFFSET + 25)

/* The vhost ABI is native-endian; memcpy keeps unaligned buffers legal. */
static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int type_valid(unsigned int t)
{
	return t >= IOTLB_VMSG_MISS && t <= IOTLB_VMSG_BATCH_END;
}

int iotlb__vmsg_decode(const void *buf, size_t len, unsigned int flags,
		       struct iotlb_vmsg *out)
{
	const unsigned char *p = buf;
	uint32_t env;

	if (!buf || !out)
		return -EINVAL;
	if (len < IOTLB_VMSG_SIZE)
		return -EMSGSIZE;
	env = get32(p + OFF_TYPE);
	if (env != IOTLB_VMSG_V1 && env != IOTLB_VMSG_V2)
		return -EPROTO;
	if (!type_valid(p[OFF_ITYPE]))
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->envelope = env;
	/* In V1 bytes 4..7 are the ABI hole, not an ASID: ignore them. */
	if (env == IOTLB_VMSG_V2) {
		out->asid = get32(p + OFF_ASID);
		if (out->asid && !(flags & IOTLB_VMSG_F_ASID))
			return -EPROTONOSUPPORT;
	}
	out->iova = get64(p + OFF_IOVA);
	out->size = get64(p + OFF_SIZE);
	out->uaddr = get64(p + OFF_UADDR);
	out->perm = p[OFF_PERM];
	out->type = p[OFF_ITYPE];
	return IOTLB_VMSG_SIZE;
}

int iotlb__vmsg_encode(const struct iotlb_vmsg *msg, void *buf, size_t len)
{
	unsigned char *p = buf;

	if (!msg || !buf)
		return -EINVAL;
	if (len < IOTLB_VMSG_SIZE)
		return -EMSGSIZE;
	if (msg->envelope != IOTLB_VMSG_V1 && msg->envelope != IOTLB_VMSG_V2)
		return -EPROTO;
	if (!type_valid(msg->type))
		return -EBADMSG;
	if (msg->envelope == IOTLB_VMSG_V1 && msg->asid)
		return -EPROTONOSUPPORT;
	memset(p, 0, IOTLB_VMSG_SIZE);
	put32(p + OFF_TYPE, msg->envelope);
	put32(p + OFF_ASID, msg->asid);
	put64(p + OFF_IOVA, msg->iova);
	put64(p + OFF_SIZE, msg->size);
	put64(p + OFF_UADDR, msg->uaddr);
	p[OFF_PERM] = msg->perm;
	p[OFF_ITYPE] = msg->type;
	return IOTLB_VMSG_SIZE;
}

const char *iotlb__vmsg_type_name(unsigned int type)
{
	static const char *const names[] = {
		[IOTLB_VMSG_MISS] = "MISS",
		[IOTLB_VMSG_UPDATE] = "UPDATE",
		[IOTLB_VMSG_INVALIDATE] = "INVALIDATE",
		[IOTLB_VMSG_ACCESS_FAIL] = "ACCESS_FAIL",
		[IOTLB_VMSG_BATCH_BEGIN] = "BATCH_BEGIN",
		[IOTLB_VMSG_BATCH_END] = "BATCH_END",
	};

	if (!type_valid(type))
		return "UNKNOWN";
	return names[type];
}
