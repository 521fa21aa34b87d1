/* SPDX-License-Identifier: MIT */
/*
 * The vhost IOTLB message format (include/uapi/linux/vhost_types.h):
 * struct vhost_msg (V1) and struct vhost_msg_v2, both 72 bytes on
 * x86-64 with the 32-byte struct vhost_iotlb_msg at offset 8.  Internal
 * to the library; no I/O here.
 */
#ifndef IOTLB_VHOST_MSG_H
#define IOTLB_VHOST_MSG_H

#include <stddef.h>
#include <stdint.h>

/* Envelope types (struct vhost_msg{,_v2}.type). */
#define IOTLB_VMSG_V1 1		/* VHOST_IOTLB_MSG */
#define IOTLB_VMSG_V2 2		/* VHOST_IOTLB_MSG_V2 */

/* struct vhost_iotlb_msg.type */
enum iotlb_vmsg_type {
	IOTLB_VMSG_MISS = 1,
	IOTLB_VMSG_UPDATE = 2,
	IOTLB_VMSG_INVALIDATE = 3,
	IOTLB_VMSG_ACCESS_FAIL = 4,
	IOTLB_VMSG_BATCH_BEGIN = 5,
	IOTLB_VMSG_BATCH_END = 6,
};

/* struct vhost_iotlb_msg.perm (VHOST_ACCESS_*) */
#define IOTLB_VMSG_PERM_RO 1
#define IOTLB_VMSG_PERM_WO 2
#define IOTLB_VMSG_PERM_RW 3

/* Bytes of one message on the wire; the only size we read or write. */
#define IOTLB_VMSG_SIZE 72
/* Offset of struct vhost_iotlb_msg inside both envelopes on LP64. */
#define IOTLB_VMSG_IOTLB_OFFSET 8
/* The kernel accepts a write once it has the header and the iotlb part. */
#define IOTLB_VMSG_MIN_WRITE (IOTLB_VMSG_IOTLB_OFFSET + 32)

struct iotlb_vmsg {
	uint32_t envelope;	/* IOTLB_VMSG_V1 or IOTLB_VMSG_V2 */
	uint32_t asid;		/* V2 only; 0 in V1 */
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;		/* enum iotlb_vmsg_type */
};

/* Decode flags */
#define IOTLB_VMSG_F_ASID (1U << 0)	/* VHOST_BACKEND_F_IOTLB_ASID acked */

/*
 * Decode one message.  Returns the bytes consumed (72), or:
 *   -EMSGSIZE         buffer shorter than one message
 *   -EPROTO           envelope type neither V1 nor V2
 *   -EBADMSG          unknown iotlb message type
 *   -EPROTONOSUPPORT  non-zero ASID without IOTLB_VMSG_F_ASID
 *   -EINVAL           NULL arguments
 * The padding bytes are not interpreted (the kernel ignores them too).
 */
int iotlb__vmsg_decode(const void *buf, size_t len, unsigned int flags,
		       struct iotlb_vmsg *out);

/*
 * Encode into buf (at least 72 bytes; padding zeroed).  Returns 72 or
 * -EMSGSIZE (short buffer), -EPROTO (bad envelope), -EBADMSG (bad type),
 * -EPROTONOSUPPORT (asid in a V1 envelope), -EINVAL (NULL arguments).
 */
int iotlb__vmsg_encode(const struct iotlb_vmsg *msg, void *buf, size_t len);

const char *iotlb__vmsg_type_name(unsigned int type);

#endif /* IOTLB_VHOST_MSG_H */
