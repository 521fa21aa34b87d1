/* SPDX-License-Identifier: MIT */
/* Description: vhost IOTLB wire format: golden images and hostile input. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotlb-internal.h"
#include "vhost-msg.h"

/*
 * Golden images, written out byte by byte from the uapi layout (little
 * endian x86-64): u32 type, u32 asid/hole, then iova, size, uaddr (u64),
 * perm (u8), type (u8), zero padding to 72.
 */
struct golden {
	const char *name;
	struct iotlb_vmsg msg;
	unsigned char bytes[IOTLB_VMSG_SIZE];
};

#define HDR(env) env, 0, 0, 0, 0, 0, 0, 0
#define U64(a, b, c, d, e, f, g, h) a, b, c, d, e, f, g, h

static const struct golden goldens[] = {
	{ "v2 miss ro", { 2, 0, 0x12345678abcULL, 0, 0, 1, 1 },
	  { HDR(2), U64(0xbc, 0x8a, 0x67, 0x45, 0x23, 0x01, 0, 0),
	    U64(0, 0, 0, 0, 0, 0, 0, 0), U64(0, 0, 0, 0, 0, 0, 0, 0),
	    1, 1 } },
	{ "v2 update rw", { 2, 0, 0x200000, 0x200000, 0x7f0012340000ULL, 3, 2 },
	  { HDR(2), U64(0, 0, 0x20, 0, 0, 0, 0, 0),
	    U64(0, 0, 0x20, 0, 0, 0, 0, 0),
	    U64(0, 0, 0x34, 0x12, 0, 0x7f, 0, 0), 3, 2 } },
	{ "v2 invalidate", { 2, 0, 0xfffff000ULL, 0x1000, 0, 0, 3 },
	  { HDR(2), U64(0, 0xf0, 0xff, 0xff, 0, 0, 0, 0),
	    U64(0, 0x10, 0, 0, 0, 0, 0, 0), U64(0, 0, 0, 0, 0, 0, 0, 0),
	    0, 3 } },
	{ "v2 access fail wo", { 2, 0, 0x1000, 0, 0, 2, 4 },
	  { HDR(2), U64(0, 0x10, 0, 0, 0, 0, 0, 0),
	    U64(0, 0, 0, 0, 0, 0, 0, 0), U64(0, 0, 0, 0, 0, 0, 0, 0),
	    2, 4 } },
	{ "v2 batch begin", { 2, 0, 0, 0, 0, 0, 5 },
	  { HDR(2), U64(0, 0, 0, 0, 0, 0, 0, 0), U64(0, 0, 0, 0, 0, 0, 0, 0),
	    U64(0, 0, 0, 0, 0, 0, 0, 0), 0, 5 } },
	{ "v2 batch end", { 2, 0, 0, 0, 0, 0, 6 },
	  { HDR(2), U64(0, 0, 0, 0, 0, 0, 0, 0), U64(0, 0, 0, 0, 0, 0, 0, 0),
	    U64(0, 0, 0, 0, 0, 0, 0, 0), 0, 6 } },
	{ "v1 miss wo", { 1, 0, 0xdead000ULL, 0, 0, 2, 1 },
	  { HDR(1), U64(0, 0xd0, 0xea, 0x0d, 0, 0, 0, 0),
	    U64(0, 0, 0, 0, 0, 0, 0, 0), U64(0, 0, 0, 0, 0, 0, 0, 0),
	    2, 1 } },
	{ "v1 update ro", { 1, 0, 0x1000, 0x3000, 0x400000, 1, 2 },
	  { HDR(1), U64(0, 0x10, 0, 0, 0, 0, 0, 0),
	    U64(0, 0x30, 0, 0, 0, 0, 0, 0), U64(0, 0, 0x40, 0, 0, 0, 0, 0),
	    1, 2 } },
	{ "v1 invalidate all", { 1, 0, 0, UINT64_MAX, 0, 0, 3 },
	  { HDR(1), U64(0, 0, 0, 0, 0, 0, 0, 0),
	    U64(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	    U64(0, 0, 0, 0, 0, 0, 0, 0), 0, 3 } },
};

START_TEST(test_golden_encode)
{
	const struct golden *g = &goldens[_i];
	unsigned char buf[IOTLB_VMSG_SIZE + 8];
	int r;

	memset(buf, 0xa5, sizeof(buf));
	r = iotlb__vmsg_encode(&g->msg, buf, sizeof(buf));
	ck_assert_msg(r == IOTLB_VMSG_SIZE, "%s: encode got %d want 72", g->name, r);
	for (unsigned int i = 0; i < IOTLB_VMSG_SIZE; i++)
		ck_assert_msg(buf[i] == g->bytes[i],
			      "%s: byte %u got %#x want %#x", g->name, i,
			      buf[i], g->bytes[i]);
	ck_assert_msg(buf[IOTLB_VMSG_SIZE] == 0xa5,
		      "%s: encode wrote past 72 bytes", g->name);
}
END_TEST

START_TEST(test_golden_decode)
{
	const struct golden *g = &goldens[_i];
	struct iotlb_vmsg m;
	int r;

	r = iotlb__vmsg_decode(g->bytes, sizeof(g->bytes), 0, &m);
	ck_assert_msg(r == IOTLB_VMSG_SIZE, "%s: decode got %d want 72", g->name, r);
	ck_assert_msg(m.envelope == g->msg.envelope, "%s: envelope", g->name);
	ck_assert_msg(m.iova == g->msg.iova, "%s: iova %#llx", g->name,
		      (unsigned long long)m.iova);
	ck_assert_msg(m.size == g->msg.size, "%s: size", g->name);
	ck_assert_msg(m.uaddr == g->msg.uaddr, "%s: uaddr", g->name);
	ck_assert_msg(m.perm == g->msg.perm, "%s: perm", g->name);
	ck_assert_msg(m.type == g->msg.type, "%s: type", g->name);
	ck_assert_msg(m.asid == 0, "%s: asid", g->name);
}
END_TEST

START_TEST(test_short_buffer)
{
	unsigned char buf[IOTLB_VMSG_SIZE];
	struct iotlb_vmsg m = { 2, 0, 1, 1, 1, 3, 2 };

	ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), 72);
	for (size_t len = 0; len < IOTLB_VMSG_SIZE; len++) {
		int r = iotlb__vmsg_decode(buf, len, 0, &m);

		ck_assert_msg(r == -EMSGSIZE, "decode len %zu: got %d want -EMSGSIZE",
			      len, r);
		r = iotlb__vmsg_encode(&m, buf, len);
		ck_assert_msg(r == -EMSGSIZE, "encode len %zu: got %d want -EMSGSIZE",
			      len, r);
	}
	/* A larger buffer still yields exactly one message. */
	{
		unsigned char big[200] = { 0 };

		memcpy(big, goldens[0].bytes, IOTLB_VMSG_SIZE);
		ck_assert_int_eq(iotlb__vmsg_decode(big, sizeof(big), 0, &m), 72);
	}
}
END_TEST

START_TEST(test_unknown_envelope)
{
	unsigned char buf[IOTLB_VMSG_SIZE];
	struct iotlb_vmsg m;
	const uint32_t bad[] = { 0, 3, 0x100, 0xffffffffU, 0x02000000U };

	for (size_t i = 0; i < IOTLB_ARRAY_SIZE(bad); i++) {
		int r;

		memcpy(buf, goldens[1].bytes, sizeof(buf));
		memcpy(buf, &bad[i], 4);
		r = iotlb__vmsg_decode(buf, sizeof(buf), 0, &m);
		ck_assert_msg(r == -EPROTO, "envelope %#x: got %d want -EPROTO",
			      bad[i], r);
	}
	m = goldens[1].msg;
	m.envelope = 3;
	ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), -EPROTO);
}
END_TEST

START_TEST(test_unknown_type)
{
	unsigned char buf[IOTLB_VMSG_SIZE];
	struct iotlb_vmsg m;

	for (unsigned int t = 0; t < 256; t++) {
		int r, want = (t >= 1 && t <= 6) ? IOTLB_VMSG_SIZE : -EBADMSG;

		memcpy(buf, goldens[1].bytes, sizeof(buf));
		buf[IOTLB_VMSG_IOTLB_OFFSET + 25] = (unsigned char)t;
		r = iotlb__vmsg_decode(buf, sizeof(buf), 0, &m);
		ck_assert_msg(r == want, "type %u: got %d want %d", t, r, want);
	}
	m = goldens[1].msg;
	m.type = 7;
	ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), -EBADMSG);
	m.type = 0;
	ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), -EBADMSG);
}
END_TEST

START_TEST(test_asid)
{
	unsigned char buf[IOTLB_VMSG_SIZE];
	struct iotlb_vmsg m;
	uint32_t asid = 7;
	int r;

	/* V2 with a non-zero ASID: refused unless ASID was negotiated. */
	memcpy(buf, goldens[1].bytes, sizeof(buf));
	memcpy(buf + 4, &asid, 4);
	r = iotlb__vmsg_decode(buf, sizeof(buf), 0, &m);
	ck_assert_msg(r == -EPROTONOSUPPORT, "v2 asid 7: got %d want -EPROTONOSUPPORT", r);
	r = iotlb__vmsg_decode(buf, sizeof(buf), IOTLB_VMSG_F_ASID, &m);
	ck_assert_msg(r == 72 && m.asid == 7, "v2 asid 7 negotiated: got %d asid %u", r, m.asid);

	/* V1 bytes 4..7 are the x86-64 alignment hole, not an ASID. */
	memcpy(buf, goldens[7].bytes, sizeof(buf));
	memcpy(buf + 4, &asid, 4);
	r = iotlb__vmsg_decode(buf, sizeof(buf), 0, &m);
	ck_assert_msg(r == 72 && m.asid == 0, "v1 hole: got %d asid %u", r, m.asid);

	/* Encoding an ASID into V1 is impossible. */
	m = goldens[7].msg;
	m.asid = 1;
	ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), -EPROTONOSUPPORT);
	m.envelope = 2;
	ck_assert_int_eq(iotlb__vmsg_encode(&m, buf, sizeof(buf)), 72);
	ck_assert_int_eq(buf[4], 1);
}
END_TEST

START_TEST(test_null_args)
{
	unsigned char buf[IOTLB_VMSG_SIZE] = { 0 };
	struct iotlb_vmsg m = goldens[0].msg;

	ck_assert_int_eq(iotlb__vmsg_decode(NULL, 72, 0, &m), -EINVAL);
	ck_assert_int_eq(iotlb__vmsg_decode(buf, 72, 0, NULL), -EINVAL);
	ck_assert_int_eq(iotlb__vmsg_encode(NULL, buf, 72), -EINVAL);
	ck_assert_int_eq(iotlb__vmsg_encode(&m, NULL, 72), -EINVAL);
}
END_TEST

/* Random bytes must decode to a message or a defined error, nothing else. */
START_TEST(test_random_bytes)
{
	unsigned char buf[IOTLB_VMSG_SIZE];
	struct iotlb_vmsg m;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned int ok = 0;

	for (int n = 0; n < 200000; n++) {
		int r;

		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (unsigned char)x;
		}
		/* Bias toward valid envelopes so later checks are reached. */
		if (n & 1) {
			buf[0] = (unsigned char)(1 + (n & 2) / 2);
			buf[1] = buf[2] = buf[3] = 0;
			buf[IOTLB_VMSG_IOTLB_OFFSET + 25] = (unsigned char)(1 + n % 6);
		}
		if (n & 4)
			buf[4] = buf[5] = buf[6] = buf[7] = 0;
		r = iotlb__vmsg_decode(buf, (n & 8) ? (size_t)(x % 80) : 72, x & 1, &m);
		ck_assert_msg(r == 72 || r == -EMSGSIZE || r == -EPROTO ||
			      r == -EBADMSG || r == -EPROTONOSUPPORT,
			      "random input %d: unexpected %d", n, r);
		if (r == 72) {
			unsigned char out[IOTLB_VMSG_SIZE];

			ok++;
			ck_assert_int_eq(iotlb__vmsg_encode(&m, out, sizeof(out)), 72);
			/* Round trip keeps the envelope, ASID and iotlb fields. */
			ck_assert_int_eq(memcmp(out, buf, 4), 0);
			if (m.envelope == IOTLB_VMSG_V2)
				ck_assert_int_eq(memcmp(out + 4, buf + 4, 4), 0);
			ck_assert_int_eq(memcmp(out + 8, buf + 8, 26), 0);
		}
	}
	ck_assert_msg(ok > 1000, "only %u random messages decoded", ok);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(iotlb__vmsg_type_name(1), "MISS");
	ck_assert_str_eq(iotlb__vmsg_type_name(2), "UPDATE");
	ck_assert_str_eq(iotlb__vmsg_type_name(3), "INVALIDATE");
	ck_assert_str_eq(iotlb__vmsg_type_name(6), "BATCH_END");
	ck_assert_str_eq(iotlb__vmsg_type_name(0), "UNKNOWN");
	ck_assert_str_eq(iotlb__vmsg_type_name(99), "UNKNOWN");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vhost-msg");
	TCase *tc = tcase_create("wire");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_golden_encode, 0, (int)IOTLB_ARRAY_SIZE(goldens));
	tcase_add_loop_test(tc, test_golden_decode, 0, (int)IOTLB_ARRAY_SIZE(goldens));
	tcase_add_test(tc, test_short_buffer);
	tcase_add_test(tc, test_unknown_envelope);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_test(tc, test_asid);
	tcase_add_test(tc, test_null_args);
	tcase_add_test(tc, test_random_bytes);
	tcase_add_test(tc, test_type_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
