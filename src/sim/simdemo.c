/* SPDX-License-Identifier: MIT */
/*
 * iotlb-simdemo: the simulator end to end, without the engine.  Simulated
 * vhost devices run a virtio-net-like workload over a guest whose IOMMU
 * maps its DMA memory identically; a trivial service answers each miss
 * it reads.  Run once answering one 4 KiB page per miss (what QEMU does)
 * and once answering the whole 2 MiB around it, and compare.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#include "vhost-msg.h"

#define GUEST_DMA_BASE 0x40000000ULL
#define OWNER_BASE 0x7f0000000000ULL

struct opts {
	unsigned int devices;
	unsigned int rings;
	unsigned int chains;
	unsigned int working_set_mib;
	uint64_t seed;
	bool quiet;
};

struct run_result {
	const char *name;
	uint64_t answer;
	uint64_t chains, misses, dups, reads, updates, evictions, stale, errors;
	uint64_t bytes_updated;
	double secs;
	bool stuck;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int answer(int fd, const struct iotlb_vmsg *miss, uint64_t size,
		  struct run_result *res)
{
	struct iotlb_vmsg up = {
		.envelope = IOTLB_VMSG_V2,
		.type = IOTLB_VMSG_UPDATE,
		.iova = miss->iova & ~(size - 1),
		.size = size,
		.perm = IOTLB_VMSG_PERM_RW,	/* the guest grants RW everywhere */
	};
	unsigned char buf[IOTLB_VMSG_SIZE];

	up.uaddr = OWNER_BASE + up.iova;	/* identity guest: iova == gpa */
	iotlb__vmsg_encode(&up, buf, sizeof(buf));
	if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) != sizeof(buf))
		return -errno;
	res->updates++;
	res->bytes_updated += size;
	return 0;
}

static int run(const struct opts *o, struct run_result *res)
{
	struct iotlb_sim **sims;
	struct iotlb_sim_map *map;
	struct iotlb_sim_oracle oracle;
	struct iotlb_sim_config cfg;
	int *fds, ret = 0;
	uint64_t seed = o->seed, ws = (uint64_t)o->working_set_mib << 20;
	uint64_t total = (uint64_t)o->devices * o->rings * o->chains, done = 0;
	unsigned int d, r, idle = 0;
	double t0, last_progress;

	sims = calloc(o->devices, sizeof(*sims));
	fds = calloc(o->devices, sizeof(*fds));
	if (!sims || !fds || iotlb_sim_map_new(&map))
		return -ENOMEM;
	/* The guest's IOMMU: rings and DMA memory mapped RW, identity. */
	iotlb_sim_map_set(map, 0, GUEST_DMA_BASE + ws, OWNER_BASE, IOTLB_VMSG_PERM_RW);
	iotlb_sim_oracle_from_map(&oracle, map);
	iotlb_sim_config_init(&cfg, IOTLB_SIM_KERNEL_MAINLINE);

	for (d = 0; d < o->devices; d++) {
		ret = iotlb_sim_new(&sims[d], &cfg, &oracle, &fds[d]);
		if (ret)
			goto out;
		for (r = 0; r < o->rings; r++) {
			uint64_t base = 0x100000ULL * (d * o->rings + r + 1);
			struct iotlb_sim_ring_config rc = {
				base, base + 0x10000, base + 0x20000, 256
			};
			unsigned int c;

			if (iotlb_sim_add_ring(sims[d], &rc) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			for (c = 0; c < o->chains; c++) {
				/* virtio-net: a header plus one packet buffer */
				uint64_t off = iotlb_sim_rand(&seed) % ws & ~63ULL;
				uint8_t acc = (r & 1) ? IOTLB_VMSG_PERM_WO : IOTLB_VMSG_PERM_RO;
				struct iotlb_sim_buf b[2] = {
					{ GUEST_DMA_BASE + off, 12, acc },
					{ GUEST_DMA_BASE + (off + 64) % (ws - 2048), 1500, acc },
				};

				iotlb_sim_ring_push(sims[d], r, b, 2);
			}
			iotlb_sim_kick(sims[d], r);
		}
	}

	t0 = last_progress = now();
	while (done < total) {
		uint64_t before = done;

		done = 0;
		for (d = 0; d < o->devices; d++) {
			struct iotlb_sim_stats st;
			unsigned char buf[128];
			struct iotlb_vmsg m;

			iotlb_sim_process(sims[d]);
			while (recv(fds[d], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
				res->reads++;
				if (iotlb__vmsg_decode(buf, IOTLB_VMSG_SIZE, 0, &m) < 0 ||
				    m.type != IOTLB_VMSG_MISS)
					continue;
				ret = answer(fds[d], &m, res->answer, res);
				if (ret)
					goto out;
			}
			iotlb_sim_process(sims[d]);
			iotlb_sim_get_stats(sims[d], &st);
			done += st.chains_done;
		}
		idle = done == before ? idle + 1 : 0;
		if (idle > 1000) {
			res->stuck = true;
			break;
		}
		if (!o->quiet && isatty(STDERR_FILENO) && now() - last_progress > 0.5) {
			last_progress = now();
			fprintf(stderr, "\r  %-18s %5.1f%% of %llu chains", res->name,
				100.0 * (double)done / (double)total,
				(unsigned long long)total);
		}
	}
	res->secs = now() - t0;
	if (!o->quiet && isatty(STDERR_FILENO))
		fprintf(stderr, "\r%60s\r", "");
	for (d = 0; d < o->devices; d++) {
		struct iotlb_sim_stats st;

		iotlb_sim_get_stats(sims[d], &st);
		res->chains += st.chains_done;
		res->misses += st.misses;
		res->dups += st.misses_dup;
		res->evictions += st.evictions;
		res->stale += st.stale_accesses;
		res->errors += st.write_einval + st.write_efault;
	}
out:
	for (d = 0; d < o->devices; d++) {
		if (sims[d]) {
			close(fds[d]);
			iotlb_sim_free(sims[d]);
		}
	}
	iotlb_sim_map_free(map);
	free(sims);
	free(fds);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iotlb-simdemo [OPTIONS]\n"
		"Run simulated vhost devices against a trivial miss service and\n"
		"compare one 4 KiB page per miss with 2 MiB per miss.\n\n"
		"  -d, --devices N      simulated vhost devices (default 4)\n"
		"  -r, --rings N        rings per device (default 2)\n"
		"  -c, --chains N       descriptor chains per ring (default 20000)\n"
		"  -w, --working-set M  guest DMA memory touched, MiB (default 64)\n"
		"  -s, --seed N         workload seed (default 1)\n"
		"  -q, --quiet          no progress line\n"
		"  -h, --help           this text\n");
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || *end || !*s || *v > max)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "devices", required_argument, NULL, 'd' },
		{ "rings", required_argument, NULL, 'r' },
		{ "chains", required_argument, NULL, 'c' },
		{ "working-set", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 4, 2, 20000, 64, 1, false };
	struct run_result res[2] = {
		{ .name = "4 KiB per miss", .answer = 0x1000 },
		{ .name = "2 MiB per miss", .answer = 0x200000 },
	};
	unsigned long long v;
	int c, i;

	while ((c = getopt_long(argc, argv, "d:r:c:w:s:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'r':
		case 'c':
		case 'w':
		case 's':
			if (parse_uint(optarg, c == 's' ? ~0ULL : 1000000, &v) ||
			    (c != 's' && !v)) {
				fprintf(stderr, "iotlb-simdemo: bad value for -%c: '%s'\n", c, optarg);
				return 2;
			}
			if (c == 'd')
				o.devices = (unsigned int)v;
			else if (c == 'r')
				o.rings = (unsigned int)v;
			else if (c == 'c')
				o.chains = (unsigned int)v;
			else if (c == 'w')
				o.working_set_mib = (unsigned int)v;
			else
				o.seed = v;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.devices > 1000 || (uint64_t)o.devices * o.rings > 4000) {
		fprintf(stderr, "iotlb-simdemo: at most 1000 devices and 4000 rings in all\n");
		return 2;
	}

	printf("iotlb-simdemo: %u devices x %u rings x %u chains, %u MiB working set,\n"
	       "kernel IOTLB of 2048 entries (FIFO), identity guest IOMMU, seed %llu\n\n",
	       o.devices, o.rings, o.chains, o.working_set_mib,
	       (unsigned long long)o.seed);
	for (i = 0; i < 2; i++) {
		int r = run(&o, &res[i]);

		if (r) {
			fprintf(stderr, "iotlb-simdemo: %s: %s\n", res[i].name, strerror(-r));
			return 1;
		}
	}
	printf("%-22s %16s %16s\n", "", res[0].name, res[1].name);
	printf("%-22s %16llu %16llu\n", "chains completed",
	       (unsigned long long)res[0].chains, (unsigned long long)res[1].chains);
	printf("%-22s %16llu %16llu\n", "misses raised",
	       (unsigned long long)res[0].misses, (unsigned long long)res[1].misses);
	printf("%-22s %16llu %16llu\n", "  of which duplicates",
	       (unsigned long long)res[0].dups, (unsigned long long)res[1].dups);
	printf("%-22s %16llu %16llu\n", "UPDATE writes",
	       (unsigned long long)res[0].updates, (unsigned long long)res[1].updates);
	printf("%-22s %16.3f %16.3f\n", "writes per chain",
	       (double)res[0].updates / (double)(res[0].chains ? res[0].chains : 1),
	       (double)res[1].updates / (double)(res[1].chains ? res[1].chains : 1));
	printf("%-22s %16llu %16llu\n", "IOTLB evictions",
	       (unsigned long long)res[0].evictions, (unsigned long long)res[1].evictions);
	printf("%-22s %16llu %16llu\n", "stale accesses",
	       (unsigned long long)res[0].stale, (unsigned long long)res[1].stale);
	printf("%-22s %16llu %16llu\n", "rejected writes",
	       (unsigned long long)res[0].errors, (unsigned long long)res[1].errors);
	printf("%-22s %16.3f %16.3f\n", "seconds", res[0].secs, res[1].secs);
	printf("%-22s %16.0f %16.0f\n", "misses per second",
	       (double)res[0].misses / res[0].secs, (double)res[1].misses / res[1].secs);
	printf("\nAnswering 2 MiB per miss needed %.1fx fewer UPDATE writes.\n",
	       (double)res[0].updates / (double)(res[1].updates ? res[1].updates : 1));
	for (i = 0; i < 2; i++) {
		if (res[i].stuck || res[i].stale || res[i].errors) {
			printf("PROBLEM: %s: %s\n", res[i].name,
			       res[i].stuck ? "devices stopped making progress" :
			       res[i].stale ? "stale accesses" : "writes rejected");
			return 1;
		}
	}
	return 0;
}
