// SPDX-License-Identifier: MIT
/*
 * fuzzer - a minimal coverage-guided fuzzer on ukcov's ring.
 *
 *   fuzzer [-s SEED] [-n INPUTS] [-m guided|blind|both] [-d DEPTH] [-x|-a]
 *          [-u UKCOV] [-r RING] [-c CRASH_FILE] [-v] TARGET
 *
 * Mutates inputs (1 or 2 random bytes of an 8-byte input, the first one
 * "AAAAAAAA") taken from a corpus, runs TARGET on each and stops at the
 * first crash or after INPUTS inputs.  Both modes run the same loop - pick
 * a corpus entry (the newest half the time), mutate, run, maybe keep - and
 * differ only in what decides "keep":
 *
 *   guided  runs TARGET under `ukcov run --ring RING`, asks for each
 *           input's coverage the way a Linux kcov user does (reset area[0],
 *           run the input, collect, read area[1..area[0]]) and keeps every
 *           input that reached a PC no earlier input reached.
 *   blind   runs TARGET alone and, with no feedback to go by, keeps every
 *           input (a random walk from the first one; the corpus wraps).
 *   both    guided, then blind, and a verdict line (the default).
 *
 * -d DEPTH sets $UKCOV_MAGIC_DEPTH for TARGET: how many bytes of the magic
 * crash it (1-5, default 5).  At depth 1 feedback cannot help; at 2 blind
 * needs millions of inputs, guided thousands.
 *
 * -a (persistent targets): starts TARGET alone and attaches to it with
 * `ukcov attach -p PID --ring RING`, as one would a server already
 * running; the ring goes live once the probes are in.
 *
 * By default TARGET is persistent (persistent_target: one process, inputs
 * over a pipe, see there for why its per-input coverage is exact).  With -x
 * TARGET is a one-shot program (target: the input on stdin) run once per
 * input - for guided, under its own `ukcov run --ring` each time, reading
 * the area after ukcov exits.  It works, but costs an exec and an attach per
 * input: use it to check a target, not to fuzz.
 *
 * Output, one line per mode:
 *   guided: crash after N inputs (C kept, P PCs), T s, R inputs/s
 *   blind: no crash in N inputs, T s, R inputs/s
 * Exit status: 0 when the (first) mode found the crash, 1 when it did not,
 * 2 on errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "ukcov/ring.h"

#define INPUT_LEN 8
#define MAX_CORPUS 4096
#define COLLECT_TIMEOUT_MS 2000
#define START_TIMEOUT_MS 20000

struct exec {
	bool covered;		/* under ukcov, with the ring */
	bool oneshot;		/* -x: one process per input */
	bool attach;		/* -a: ukcov attach -p to the running target */
	pid_t ukcov_pid;	/* -a: the attached ukcov */
	const char *ukcov, *target, *ring_path;
	pid_t pid;
	int to, from;		/* persistent: its stdin, its stdout */
	struct ukcov_ring *ring;
	uint64_t *scratch;	/* oneshot: the PCs read from the ring */
	size_t scratch_len;
	uint64_t nsites, pc_base;	/* from the ring's header */
};

static int verbose;

static uint64_t rng_state;

/* splitmix64: small, fast, and the same sequence everywhere for a seed. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Starts argv with stdin/stdout on new pipes (either may be NULL: /dev/null). */
static pid_t spawn(char *const argv[], int *to, int *from)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t pid;

	if ((to && pipe2(in, O_CLOEXEC)) || (from && pipe2(out, O_CLOEXEC)))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(to ? in[0] : null, STDIN_FILENO);
		dup2(from ? out[1] : null, STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "fuzzer: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (to) {
		close(in[0]);
		*to = in[1];
	}
	if (from) {
		close(out[1]);
		*from = out[0];
	}
	return pid;
}

/* Reads one byte within @ms.  Returns 1, 0 at EOF, -1 on error or timeout. */
static int read_byte(int fd, char *c, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (ms >= 0 && poll(&p, 1, ms) != 1)
		return -1;
	n = read(fd, c, 1);
	return n < 0 ? -1 : (int)n;
}

static int write_full(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* Waits for @pid and returns its status shell-style: code, or 128 + signal. */
static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int exec_start(struct exec *e)
{
	char *cov_argv[] = { (char *)e->ukcov, "run", "--ring", (char *)e->ring_path,
			     "--interval", "10s", "--", (char *)e->target, NULL };
	char *bare_argv[] = { (char *)e->target, NULL };
	char pid_arg[16];
	char *attach_argv[] = { (char *)e->ukcov, "attach", "-p", pid_arg, "--ring",
				(char *)e->ring_path, "--interval", "10s", "-o", "/dev/null", NULL };
	bool run_under = e->covered && !e->attach;
	double give_up;
	char c;

	e->pid = e->ukcov_pid = -1;
	if (e->oneshot)
		return 0;
	if (e->covered)
		unlink(e->ring_path);
	e->pid = spawn(run_under ? cov_argv : bare_argv, &e->to, &e->from);
	if (e->pid < 0)
		return -1;
	/* 'R': the target runs, so ukcov run has published the ring already. */
	if (read_byte(e->from, &c, START_TIMEOUT_MS) != 1 || c != 'R') {
		fprintf(stderr, "fuzzer: %s did not start\n", e->target);
		return -1;
	}
	if (!e->covered)
		return 0;
	if (e->attach) {
		snprintf(pid_arg, sizeof(pid_arg), "%d", (int)e->pid);
		e->ukcov_pid = spawn(attach_argv, NULL, NULL);
		if (e->ukcov_pid < 0)
			return -1;
	}
	give_up = now_s() + START_TIMEOUT_MS / 1000;
	while (!(e->ring = ukcov_ring_open(e->ring_path))) {
		if ((errno != EAGAIN && errno != ENOENT) || now_s() > give_up) {
			fprintf(stderr, "fuzzer: opening ring %s: %s\n", e->ring_path,
				strerror(errno));
			return -1;
		}
		usleep(1000);
	}
	e->nsites = ukcov_ring_header(e->ring)->nsites;
	e->pc_base = ukcov_ring_header(e->ring)->pc_base;
	/* Flush the start-up's sites: they belong to no input. */
	if (ukcov_ring_collect(e->ring, COLLECT_TIMEOUT_MS) < 0)
		return -1;
	return 0;
}

/*
 * Runs one input.  Returns 1 when it crashed the target, 0 when it did
 * not, -1 on errors.  Covered runs leave the input's PCs in *@pcs, their count in *@npcs.
 */
static int exec_persistent(struct exec *e, const uint8_t *buf, uint32_t len,
			   const uint64_t **pcs, long *npcs)
{
	long n;
	char c;

	if (e->covered)
		ukcov_ring_reset(e->ring);	/* kcov: area[0] = 0 before the input */
	if (write_full(e->to, &len, sizeof(len)) || write_full(e->to, buf, len))
		return 1;	/* EPIPE: it died on an earlier input's heels */
	if (read_byte(e->from, &c, -1) != 1)
		return 1;	/* EOF without an answer: this input killed it */
	if (!e->covered)
		return 0;
	n = ukcov_ring_collect(e->ring, COLLECT_TIMEOUT_MS);
	if (n < 0) {
		fprintf(stderr, "fuzzer: collect: %s\n", strerror(-n));
		return -1;
	}
	*pcs = ukcov_ring_area(e->ring) + 1;
	*npcs = n;
	return 0;
}

static int exec_oneshot(struct exec *e, const uint8_t *buf, uint32_t len,
			const uint64_t **pcs, long *npcs)
{
	char *cov_argv[] = { (char *)e->ukcov, "run", "--ring", (char *)e->ring_path,
			     "--", (char *)e->target, NULL };
	char *bare_argv[] = { (char *)e->target, NULL };
	struct ukcov_ring *r;
	uint64_t *area;
	int to, status;
	pid_t pid;
	long n;

	if (e->covered)
		unlink(e->ring_path);
	pid = spawn(e->covered ? cov_argv : bare_argv, &to, NULL);
	if (pid < 0)
		return -1;
	write_full(to, buf, len);
	close(to);
	status = reap(pid);
	/* ukcov run returns the target's status; 125-127 are its own failures. */
	if (status < 0 || (status >= 125 && status <= 127) || (status && status < 128)) {
		fprintf(stderr, "fuzzer: %s exited %d\n", e->covered ? e->ukcov : e->target, status);
		return -1;
	}
	if (!e->covered)
		return status >= 128;
	/* ukcov has exited: the ring is CLOSED and holds the whole run. */
	r = ukcov_ring_open(e->ring_path);
	if (!r) {
		fprintf(stderr, "fuzzer: opening ring %s: %s\n", e->ring_path, strerror(errno));
		return -1;
	}
	e->nsites = ukcov_ring_header(r)->nsites;
	e->pc_base = ukcov_ring_header(r)->pc_base;
	area = ukcov_ring_area(r);
	n = (long)area[0];
	if (n >= (long)ukcov_ring_header(r)->area_words)
		n = ukcov_ring_header(r)->area_words - 1;
	if ((size_t)n > e->scratch_len) {
		free(e->scratch);
		e->scratch = malloc(n * sizeof(uint64_t));
		e->scratch_len = e->scratch ? n : 0;
	}
	if (e->scratch)
		memcpy(e->scratch, area + 1, n * sizeof(uint64_t));
	ukcov_ring_close(r);
	unlink(e->ring_path);
	*pcs = e->scratch;
	*npcs = e->scratch ? n : 0;
	return status >= 128;
}

static void exec_stop(struct exec *e)
{
	ukcov_ring_close(e->ring);
	e->ring = NULL;
	if (e->pid > 0) {
		close(e->to);
		close(e->from);
		reap(e->pid);	/* the target ends at EOF (or has crashed); ukcov follows */
	}
	if (e->ukcov_pid > 0)
		reap(e->ukcov_pid);	/* attach ends when its process does */
	if (e->covered)
		unlink(e->ring_path);
	free(e->scratch);
	e->scratch = NULL;
	e->scratch_len = 0;
}

struct corpus {
	uint8_t in[MAX_CORPUS][INPUT_LEN];
	size_t n;	/* entries in use */
	size_t next;	/* where the next one goes (blind wraps around) */
};

/*
 * Whether the input just run reached a PC no earlier one did, marking it
 * seen.  Returns 1 (new), 0 (not), -1 (out of memory).
 */
static int new_coverage(struct exec *e, uint8_t **seen, uint64_t *npc_seen,
			const uint64_t *pcs, long npcs)
{
	int added = 0;

	/* The ring's header says how many sites there are. */
	if (!*seen && !(*seen = calloc(e->nsites ? e->nsites : 1, 1)))
		return -1;
	for (long k = 0; k < npcs; k++) {
		uint64_t idx = pcs[k] - e->pc_base;

		if (idx < e->nsites && !(*seen)[idx]) {
			(*seen)[idx] = 1;
			(*npc_seen)++;
			added = 1;
		}
	}
	return added;
}

/*
 * One campaign.  Returns the number of inputs run up to and including the
 * crash, 0 when none crashed, -1 on errors.
 */
static long fuzz(struct exec *e, uint64_t seed, long budget, const char *crash_file,
		 const char *name)
{
	static struct corpus c;
	uint8_t *seen = NULL;
	uint64_t npc_seen = 0;
	uint8_t input[INPUT_LEN];
	double t0 = now_s(), dt;
	long i, found = 0, kept = 1;

	rng_state = seed;
	c.n = 1;
	c.next = 1;
	memset(c.in[0], 'A', INPUT_LEN);
	if (exec_start(e))
		goto fail;
	for (i = 1; i <= budget; i++) {
		const uint64_t *pcs = NULL;
		long npcs = 0;
		size_t parent, newest = (c.next + MAX_CORPUS - 1) % MAX_CORPUS;
		int crashed, nmut, keep;

		/* Half the time the newest entry, else any. */
		parent = (rnd() & 1) ? newest : rnd() % c.n;
		memcpy(input, c.in[parent], INPUT_LEN);
		nmut = 1 + (int)(rnd() & 1);
		for (int m = 0; m < nmut; m++)
			input[rnd() % INPUT_LEN] = (uint8_t)rnd();

		crashed = e->oneshot ? exec_oneshot(e, input, INPUT_LEN, &pcs, &npcs) :
				       exec_persistent(e, input, INPUT_LEN, &pcs, &npcs);
		if (crashed < 0)
			goto fail;
		if (crashed) {
			found = i;
			break;
		}
		/* The only difference between the modes: what is kept. */
		keep = e->covered ? new_coverage(e, &seen, &npc_seen, pcs, npcs) : 1;
		if (keep < 0)
			goto fail;
		if (!keep)
			continue;
		if (!e->covered) {
			/* Every input: the corpus wraps around. */
			memcpy(c.in[c.next], input, INPUT_LEN);
			c.next = (c.next + 1) % MAX_CORPUS;
			if (c.n < MAX_CORPUS)
				c.n++;
			kept++;
		} else if (c.n < MAX_CORPUS) {
			memcpy(c.in[c.n++], input, INPUT_LEN);
			c.next = c.n % MAX_CORPUS;
			kept++;
			if (verbose)
				fprintf(stderr, "%s: input %ld: new coverage (%llu PCs): %.8s\n", name,
					i, (unsigned long long)npc_seen, (const char *)input);
		}
	}
	exec_stop(e);
	dt = now_s() - t0;
	if (found) {
		printf("%s: crash after %ld inputs (%ld kept, %llu PCs), %.3f s, %.0f inputs/s\n",
		       name, found, kept, (unsigned long long)npc_seen, dt, found / dt);
		if (crash_file) {
			FILE *f = fopen(crash_file, "w");

			if (f) {
				fwrite(input, 1, INPUT_LEN, f);
				fclose(f);
			}
		}
	} else {
		printf("%s: no crash in %ld inputs (%ld kept, %llu PCs), %.3f s, %.0f inputs/s\n",
		       name, budget, kept, (unsigned long long)npc_seen, dt, budget / dt);
	}
	fflush(stdout);
	free(seen);
	return found;
fail:
	exec_stop(e);
	free(seen);
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: fuzzer [-s SEED] [-n INPUTS] [-m guided|blind|both] [-d DEPTH] [-x|-a]\n"
"              [-u UKCOV] [-r RING] [-c CRASH_FILE] [-v] TARGET\n"
"\n"
"  -s SEED   random seed (default 1)\n"
"  -n N      at most N inputs per mode (default 200000)\n"
"  -m MODE   guided (coverage from ukcov's ring), blind (none), both (default)\n"
"  -d DEPTH  bytes of the magic that crash the target (1-5, default 5)\n"
"  -x        TARGET is one-shot (input on stdin), run once per input\n"
"  -a        start TARGET alone, then `ukcov attach -p` to it (persistent)\n"
"  -u UKCOV  the ukcov binary (default: ukcov in $PATH)\n"
"  -r RING   the ring file (default /tmp/fuzzer-ring.PID; must not exist)\n"
"  -c FILE   write the crashing input to FILE\n"
"  -v        print every input that found new coverage\n"
"\n"
"Example (as root):\n"
"  fuzzer -s 7 -u .output/ukcov .output/examples/fuzz/persistent_target\n");
}

int main(int argc, char **argv)
{
	struct exec e = { .ukcov = "ukcov", .to = -1, .from = -1, .ukcov_pid = -1 };
	const char *mode = "both", *crash_file = NULL;
	char ring_default[64];
	uint64_t seed = 1;
	long budget = 200000, guided = 0, blind = 0;
	int opt;

	snprintf(ring_default, sizeof(ring_default), "/tmp/fuzzer-ring.%d", (int)getpid());
	e.ring_path = ring_default;
	while ((opt = getopt(argc, argv, "s:n:m:d:xau:r:c:vh")) != -1) {
		switch (opt) {
		case 'd':
			if (optarg[0] < '1' || optarg[0] > '5' || optarg[1]) {
				usage(stderr);
				return 2;
			}
			setenv("UKCOV_MAGIC_DEPTH", optarg, 1);
			break;
		case 'a': e.attach = true; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': budget = strtol(optarg, NULL, 0); break;
		case 'm': mode = optarg; break;
		case 'x': e.oneshot = true; break;
		case 'u': e.ukcov = optarg; break;
		case 'r': e.ring_path = optarg; break;
		case 'c': crash_file = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || budget <= 0 || (e.attach && e.oneshot) ||
	    (strcmp(mode, "guided") && strcmp(mode, "blind") && strcmp(mode, "both"))) {
		usage(stderr);
		return 2;
	}
	e.target = argv[optind];
	/* A target that dies makes our next write fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(mode, "blind")) {
		e.covered = true;
		guided = fuzz(&e, seed, budget, crash_file, "guided");
		if (guided < 0)
			return 2;
	}
	if (strcmp(mode, "guided")) {
		e.covered = false;
		blind = fuzz(&e, seed, budget, strcmp(mode, "blind") ? NULL : crash_file, "blind");
		if (blind < 0)
			return 2;
	}
	if (!strcmp(mode, "both")) {
		if (guided && (!blind || guided < blind))
			printf("verdict: coverage-guided found it in %ld inputs, blind %s%ld\n", guided,
			       blind ? "in " : "not in ", blind ? blind : budget);
		else
			printf("verdict: coverage did not help (guided %ld, blind %ld, budget %ld)\n",
			       guided, blind, budget);
	}
	return (strcmp(mode, "blind") ? guided : blind) ? 0 : 1;
}
