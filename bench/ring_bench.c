// SPDX-License-Identifier: MIT
/*
 * ring_bench - what the ring costs a fuzzer (needs root, like ukcov).
 *
 *   ring_bench -u UKCOV -t PERSISTENT_TARGET [-n INPUTS] [-c COLLECTS]
 *
 * 1. Collect round trip: ukcov_ring_collect() on an idle target, timed one
 *    by one: median and p99.  This is the futex wake, ukcov's drain of
 *    every counter, the append and the futex wake back.
 * 2. Inputs per second of examples/fuzz/persistent_target (one input =
 *    write a frame, read the answer), three ways: the target alone; under
 *    `ukcov run --ring` without collecting (the probes' cost); and the
 *    kcov-style loop a fuzzer runs (reset, input, collect).
 * Prints one line per measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "ukcov/ring.h"

struct target {
	pid_t pid;
	int to, from;
	struct ukcov_ring *ring;
	char ring_path[64];
	long pcs;	/* PCs of one input: the first input's, then every one's */
};

static long pcs_per_input;	/* for the report: what the last run saw */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int io_full(ssize_t (*fn)(), int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = fn(fd, (char *)buf + done, len - done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* Starts @target, under `@ukcov run --ring` when @ukcov is not NULL. */
static int start(struct target *t, const char *ukcov, const char *target)
{
	int in[2], out[2];
	char c;

	memset(t, 0, sizeof(*t));
	snprintf(t->ring_path, sizeof(t->ring_path), "/tmp/ring_bench.%d", (int)getpid());
	unlink(t->ring_path);
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	t->pid = fork();
	if (t->pid == 0) {
		char *cov[] = { (char *)ukcov, "run", "--ring", t->ring_path, "--interval", "1h",
				"--", (char *)target, NULL };
		char *bare[] = { (char *)target, NULL };

		dup2(in[0], 0);
		dup2(out[1], 1);
		execv(ukcov ? cov[0] : bare[0], ukcov ? cov : bare);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->to = in[1];
	t->from = out[0];
	if (io_full(read, t->from, &c, 1) || c != 'R') {
		fprintf(stderr, "ring_bench: %s did not start\n", target);
		return -1;
	}
	if (!ukcov)
		return 0;
	t->ring = ukcov_ring_open(t->ring_path);
	if (!t->ring) {
		fprintf(stderr, "ring_bench: open %s: %s\n", t->ring_path, strerror(errno));
		return -1;
	}
	return ukcov_ring_collect(t->ring, 2000) < 0 ? -1 : 0;
}

static void stop(struct target *t)
{
	int st;

	ukcov_ring_close(t->ring);
	close(t->to);
	close(t->from);
	waitpid(t->pid, &st, 0);
	unlink(t->ring_path);
}

/*
 * One input, three bytes of the magic right: the same function entries
 * every time (target_input, check_0 .. check_3 and the helpers they call),
 * so every collect must find as many PCs as the first.
 */
static int one_input(struct target *t, int collect)
{
	static const char input[8] = "UKCxxxxx";
	uint32_t len = sizeof(input);
	long got;
	char c;

	if (collect)
		ukcov_ring_reset(t->ring);
	if (io_full(write, t->to, &len, sizeof(len)) ||
	    io_full(write, t->to, (void *)input, len) || io_full(read, t->from, &c, 1))
		return -1;
	if (!collect)
		return 0;
	got = ukcov_ring_collect(t->ring, 2000);
	if (got <= 0 || (t->pcs && got != t->pcs)) {
		fprintf(stderr, "ring_bench: an input gave %ld PCs, the first %ld\n", got, t->pcs);
		return -1;
	}
	t->pcs = pcs_per_input = got;
	return 0;
}

static double inputs_per_s(const char *ukcov, const char *target, long n, int collect)
{
	struct target t;
	double t0, dt;

	if (start(&t, ukcov, target))
		return -1;
	for (long i = 0; i < n / 10; i++)	/* warm up */
		if (one_input(&t, collect))
			goto fail;
	t0 = now_s();
	for (long i = 0; i < n; i++)
		if (one_input(&t, collect))
			goto fail;
	dt = now_s() - t0;
	stop(&t);
	return n / dt;
fail:
	fprintf(stderr, "ring_bench: an input failed\n");
	stop(&t);
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *ukcov = NULL, *target = NULL;
	long n = 20000, ncollect = 5000;
	double *lat, native, probed, guided;
	struct target t;
	int opt;

	while ((opt = getopt(argc, argv, "u:t:n:c:")) != -1) {
		switch (opt) {
		case 'u': ukcov = optarg; break;
		case 't': target = optarg; break;
		case 'n': n = strtol(optarg, NULL, 0); break;
		case 'c': ncollect = strtol(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (!ukcov || !target || n <= 0 || ncollect <= 0) {
		fprintf(stderr, "usage: ring_bench -u UKCOV -t PERSISTENT_TARGET [-n INPUTS] [-c COLLECTS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	lat = calloc(ncollect, sizeof(*lat));
	if (!lat || start(&t, ukcov, target))
		return 1;
	for (long i = 0; i < ncollect / 10; i++)
		ukcov_ring_collect(t.ring, 2000);
	for (long i = 0; i < ncollect; i++) {
		double t0 = now_s();

		if (ukcov_ring_collect(t.ring, 2000) < 0) {
			fprintf(stderr, "ring_bench: collect failed\n");
			return 1;
		}
		lat[i] = (now_s() - t0) * 1e6;
	}
	stop(&t);
	qsort(lat, ncollect, sizeof(*lat), cmp_double);
	printf("ring_bench: collect round trip: median %.1f us, p99 %.1f us, max %.1f us (%ld collects, %s)\n",
	       lat[ncollect / 2], lat[ncollect * 99 / 100], lat[ncollect - 1], ncollect,
	       "idle target");
	free(lat);

	native = inputs_per_s(NULL, target, n, 0);
	probed = inputs_per_s(ukcov, target, n, 0);
	guided = inputs_per_s(ukcov, target, n, 1);
	if (native < 0 || probed < 0 || guided < 0)
		return 1;
	printf("ring_bench: persistent_target, %ld inputs of %ld function entries each:\n", n,
	       pcs_per_input);
	printf("ring_bench:   native                          %8.0f inputs/s\n", native);
	printf("ring_bench:   under ukcov, no collect         %8.0f inputs/s (%.1fx slower)\n",
	       probed, native / probed);
	printf("ring_bench:   under ukcov, reset+collect each %8.0f inputs/s (%.1fx slower)\n",
	       guided, native / guided);
	return 0;
}
