/* SPDX-License-Identifier: MIT */
/*
 * Description: how fast the simulator produces misses and applies
 * writes, so benchmarks can show it is not their bottleneck.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#include "vhost-msg.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	struct iotlb_sim_config cfg;
	struct iotlb_sim *sim;
	int peer;
	const unsigned int rings = 256, rounds = 2000;
	unsigned char buf[128];
	uint64_t got = 0, writes = 0;
	double t0, t1;

	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);
	if (iotlb_sim_new(&sim, &cfg, NULL, &peer))
		return 1;
	for (unsigned int r = 0; r < rings; r++) {
		struct iotlb_sim_ring_config rc = { 0x100000ULL * (r + 1), 0x100000ULL * (r + 1) + 0x10000,
						    0x100000ULL * (r + 1) + 0x20000, 256 };

		iotlb_sim_add_ring(sim, &rc);
	}
	/* 1: misses generated and handed to a reader that never answers. */
	t0 = now();
	for (unsigned int i = 0; i < rounds; i++) {
		for (unsigned int r = 0; r < rings; r++)
			iotlb_sim_kick(sim, r);
		iotlb_sim_process(sim);
		while (recv(peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			got++;
		iotlb_sim_process(sim);
		iotlb_sim_clear_msgs(sim);	/* keep the pending list short */
	}
	while (recv(peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	t1 = now();
	printf("sim misses generated and read: %llu in %.3f s = %.0f misses/s\n",
	       (unsigned long long)got, t1 - t0, (double)got / (t1 - t0));

	/* 2: UPDATE + INVALIDATE writes applied (2048-entry FIFO full). */
	t0 = now();
	for (uint64_t i = 0; i < 1000000; i++) {
		struct iotlb_vmsg m = { IOTLB_VMSG_V2, 0, (i % 100000) << 12, 0x1000,
					0x7f0000000000ULL + (i << 12) % (1ULL << 40), 3,
					(i % 8) ? IOTLB_VMSG_UPDATE : IOTLB_VMSG_INVALIDATE };

		iotlb__vmsg_encode(&m, buf, IOTLB_VMSG_SIZE);
		if (send(peer, buf, IOTLB_VMSG_SIZE, MSG_DONTWAIT) == IOTLB_VMSG_SIZE)
			writes++;
		if (i % 128 == 127)
			iotlb_sim_process(sim);
	}
	iotlb_sim_process(sim);
	t1 = now();
	printf("sim writes applied: %llu in %.3f s = %.0f writes/s (incl. the send)\n",
	       (unsigned long long)writes, t1 - t0, (double)writes / (t1 - t0));
	close(peer);
	iotlb_sim_free(sim);
	return 0;
}
