/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay driver: links with one libFuzzer target and feeds it every
 * file of its corpus, so `make check` exercises every target with gcc and
 * no clang.  Usage: replay-<target> [file-or-dir...]; with no argument the
 * corpus directory compiled in as CORPUS_DIR is used.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, unsigned long *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	(*n)++;
	return 0;
}

static int replay_path(const char *path, unsigned long *n)
{
	struct stat st;
	struct dirent **ents;
	int nents, i, ret = 0;

	if (stat(path, &st)) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, n);
	nents = scandir(path, &ents, NULL, alphasort);
	if (nents < 0)
		return -1;
	for (i = 0; i < nents; i++) {
		char p[4096];

		if (ents[i]->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
			if (replay_path(p, n))
				ret = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int i, ret = 0;

	if (argc < 2) {
		ret = replay_path(CORPUS_DIR, &n);
	} else {
		for (i = 1; i < argc; i++)
			if (replay_path(argv[i], &n))
				ret = -1;
	}
	printf("replayed %lu inputs\n", n);
	if (n == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		return 1;
	}
	return ret ? 1 : 0;
}
