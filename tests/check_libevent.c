/* SPDX-License-Identifier: MIT */
/*
 * Description: threading model "the caller's libevent loop": the shipped
 * contrib/iotlb-libevent glue serves simulated devices from
 * event_base_dispatch(), and many engines on many threads share a domain.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "iotlb.h"
#include "iotlb-internal.h"
#include "iotlb-libevent.h"
#include "sim.h"

#define OWNER 0x7f0000000000ULL
#define DMA 0x10000000ULL
#define WS (64ULL << 20)

struct t_dev {
	struct iotlb_sim *sim;
	int peer;
	struct event *ev;
	struct event_base *base;
	unsigned int want;
};

static void on_sim(evutil_socket_t fd, short what, void *arg)
{
	struct t_dev *d = arg;
	struct iotlb_sim_ring_stats rs;

	iotlb_sim_process(d->sim);
	iotlb_sim_ring_stats(d->sim, 0, &rs);
	if (rs.chains_done == d->want)
		event_base_loopbreak(d->base);
}

static void t_setup(struct iotlb_mem **mem, struct iotlb_domain **dom,
		    struct iotlb_sim_map **truth)
{
	struct iotlb_mem_region r = { 0, 1ULL << 32, NULL, OWNER, 0 };

	ck_assert_int_eq(iotlb_mem_new(mem), 0);
	ck_assert_int_eq(iotlb_mem_add_region(*mem, &r), 0);
	ck_assert_int_eq(iotlb_domain_new_map(dom, *mem), 0);
	ck_assert_int_eq(iotlb_sim_map_new(truth), 0);
	/* Rings and DMA memory, in 2 MiB intervals so misses keep coming. */
	for (uint64_t a = 0; a < DMA + WS; a += 2ULL << 20) {
		ck_assert_int_eq(iotlb_domain_map(*dom, a, 2ULL << 20, a, IOTLB_PERM_RW), 0);
		ck_assert_int_eq(iotlb_sim_map_set(*truth, a, 2ULL << 20, OWNER + a, IOTLB_PERM_RW), 0);
	}
}

static void t_device(struct t_dev *d, struct iotlb_sim_map *truth, unsigned int idx,
		     unsigned int chains, uint64_t seed)
{
	struct iotlb_sim_config cfg;
	struct iotlb_sim_oracle o;
	struct iotlb_sim_ring_config rc = { 0x100000ULL * (idx + 1), 0x100000ULL * (idx + 1) + 0x10000,
					    0x100000ULL * (idx + 1) + 0x20000, 256 };

	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	iotlb_sim_oracle_from_map(&o, truth);
	ck_assert_int_eq(iotlb_sim_new(&d->sim, &cfg, &o, &d->peer), 0);
	ck_assert_int_eq(iotlb_sim_add_ring(d->sim, &rc), 0);
	for (unsigned int c = 0; c < chains; c++) {
		struct iotlb_sim_buf b = { DMA + (iotlb_sim_rand(&seed) % (WS - 4096)), 1500,
					   IOTLB_VMSG_PERM_WO };

		ck_assert_int_eq(iotlb_sim_ring_push(d->sim, 0, &b, 1), 0);
	}
	d->want = chains;
	iotlb_sim_kick(d->sim, 0);
}

START_TEST(libevent_glue_serves)
{
	struct iotlb_mem *mem;
	struct iotlb_domain *dom;
	struct iotlb_sim_map *truth;
	struct iotlb_engine *e;
	struct iotlb_event *iev;
	struct event_base *base = event_base_new();
	struct t_dev d = { 0 };
	struct iotlb_sim_ring_stats rs;
	struct iotlb_sim_stats ss;

	ck_assert_ptr_nonnull(base);
	t_setup(&mem, &dom, &truth);
	ck_assert_int_eq(iotlb_engine_new(&e, 0), 0);
	t_device(&d, truth, 0, 5000, 1);
	ck_assert_int_eq(iotlb_engine_add_device(e, d.peer, dom, 0, NULL), 0);
	ck_assert_int_eq(iotlb_event_new(&iev, base, e), 0);
	d.base = base;
	d.ev = event_new(base, iotlb_sim_get_fd(d.sim), EV_READ | EV_PERSIST, on_sim, &d);
	ck_assert_int_eq(event_add(d.ev, NULL), 0);
	iotlb_sim_process(d.sim);	/* send the first misses */
	ck_assert_int_eq(event_base_dispatch(base), 0);
	iotlb_sim_ring_stats(d.sim, 0, &rs);
	ck_assert_uint_eq(rs.chains_done, 5000);
	iotlb_sim_get_stats(d.sim, &ss);
	ck_assert_uint_eq(ss.stale_accesses, 0);
	ck_assert_int_eq(iotlb_event_get_error(iev), 0);
	iotlb_event_free(iev);
	event_free(d.ev);
	event_base_free(base);
	iotlb_engine_free(e);
	iotlb_sim_free(d.sim);
	close(d.peer);
	iotlb_domain_unref(dom);
	iotlb_mem_unref(mem);
	iotlb_sim_map_free(truth);
}
END_TEST

/* Threading model 4: one engine per thread, devices sharded, one domain. */
struct t_shard {
	struct iotlb_domain *dom;
	struct iotlb_sim_map *truth;
	unsigned int idx;
	uint64_t done, stale;
};

static void *t_shard_main(void *arg)
{
	struct t_shard *s = arg;
	struct iotlb_engine *e;
	struct t_dev d[2];
	struct iotlb_sim_ring_stats rs;
	struct iotlb_sim_stats ss;

	/* The ring is created on the thread that runs it. */
	if (iotlb_engine_new(&e, 0))
		return NULL;
	for (unsigned int i = 0; i < 2; i++) {
		t_device(&d[i], s->truth, s->idx * 2 + i, 3000, s->idx * 10 + i);
		iotlb_engine_add_device(e, d[i].peer, s->dom, 0, NULL);
	}
	for (int round = 0; round < 200000; round++) {
		uint64_t done = 0;

		for (unsigned int i = 0; i < 2; i++) {
			iotlb_sim_process(d[i].sim);
			iotlb_sim_ring_stats(d[i].sim, 0, &rs);
			done += rs.chains_done;
		}
		iotlb_engine_process(e);
		if (done == 6000)
			break;
	}
	for (unsigned int i = 0; i < 2; i++) {
		iotlb_sim_ring_stats(d[i].sim, 0, &rs);
		iotlb_sim_get_stats(d[i].sim, &ss);
		s->done += rs.chains_done;
		s->stale += ss.stale_accesses;
	}
	iotlb_engine_free(e);
	for (unsigned int i = 0; i < 2; i++) {
		iotlb_sim_free(d[i].sim);
		close(d[i].peer);
	}
	return NULL;
}

START_TEST(engines_on_threads_share_a_domain)
{
	struct iotlb_mem *mem;
	struct iotlb_domain *dom;
	struct iotlb_sim_map *truth;
	struct t_shard s[4];
	pthread_t th[4];
	struct iotlb_domain_stats st;

	t_setup(&mem, &dom, &truth);
	for (unsigned int i = 0; i < 4; i++) {
		s[i] = (struct t_shard){ dom, truth, i, 0, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, t_shard_main, &s[i]), 0);
	}
	for (unsigned int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(s[i].done == 6000, "shard %u: %llu of 6000 chains", i,
			      (unsigned long long)s[i].done);
		ck_assert_uint_eq(s[i].stale, 0);
	}
	ck_assert_int_eq(iotlb_domain_get_stats(dom, &st), 0);
	ck_assert_uint_gt(st.translations, 0);
	iotlb_domain_unref(dom);
	iotlb_mem_unref(mem);
	iotlb_sim_map_free(truth);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libevent");
	TCase *tc = tcase_create("models");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, libevent_glue_serves);
	tcase_add_test(tc, engines_on_threads_share_a_domain);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
