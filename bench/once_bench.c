// SPDX-License-Identifier: MIT
/*
 * The repeated workload of the once-mode benchmark (bench/once_bench.sh):
 * the same "input" run again and again, in one process or one exec each.
 *
 *   once_bench [-x] ROUNDS N
 *
 * A round calls each of the work functions below N times.  Without -x the
 * rounds run in this process (a persistent target: a fuzzer's persistent
 * mode, a server); with -x each round is a child that execs this binary
 * afresh (-c N), so every round maps the text anew, as a fork-exec fuzzer
 * or a test suite running one program many times does.
 *
 * Prints one line per round, "round I NS" (wall time of the round; with -x
 * from fork to exit), then "calls C" (calls per round).
 *
 * The functions cover the entry instructions a uprobe treats differently
 * on x86-64 (see bench/hot.c): plain -O2 C, push (emulated), a 5-byte NOP
 * (patched into a call of the kernel's trampoline), mov and endbr64
 * (single-stepped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

long w_push(long x);
long w_nop5(long x);
long w_mov(long x);
long w_endbr(long x);

asm(".text\n"
    ".globl w_push\n.type w_push,@function\n"
    "w_push:\n"
    "	push %rbp\n"
    "	mov %rsp,%rbp\n"
    "	lea 1(%rdi),%rax\n"
    "	pop %rbp\n"
    "	ret\n"
    ".size w_push,.-w_push\n"
    ".globl w_nop5\n.type w_nop5,@function\n"
    "w_nop5:\n"
    "	.byte 0x0f,0x1f,0x44,0x00,0x00\n"
    "	lea 1(%rdi),%rax\n"
    "	ret\n"
    ".size w_nop5,.-w_nop5\n"
    ".globl w_mov\n.type w_mov,@function\n"
    "w_mov:\n"
    "	mov %rdi,%rax\n"
    "	add $1,%rax\n"
    "	ret\n"
    ".size w_mov,.-w_mov\n"
    ".globl w_endbr\n.type w_endbr,@function\n"
    "w_endbr:\n"
    "	endbr64\n"
    "	lea 1(%rdi),%rax\n"
    "	ret\n"
    ".size w_endbr,.-w_endbr\n");

#define C_FN(i)								\
	__attribute__((noinline)) long w_c##i(long x)			\
	{								\
		asm volatile("" : "+r"(x));				\
		return x * (i + 3) + i;					\
	}
C_FN(0) C_FN(1) C_FN(2) C_FN(3)

static long (*const work[])(long) = {
	w_c0, w_c1, w_c2, w_c3, w_push, w_nop5, w_mov, w_endbr,
};
#define NWORK (sizeof(work) / sizeof(work[0]))

static volatile long sink;

__attribute__((noinline)) static void round_once(long n)
{
	long acc = 0;

	for (long k = 0; k < n; k++)
		for (size_t i = 0; i < NWORK; i++)
			acc = work[i](acc);
	sink = acc;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 0) {
		fprintf(stderr, "once_bench: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	int exec_rounds = 0;
	long rounds, n;

	if (argc == 3 && !strcmp(argv[1], "-c")) {
		round_once(number(argv[2]));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "-x")) {
		exec_rounds = 1;
		argv++;
	} else if (argc != 3) {
		fprintf(stderr, "usage: once_bench [-x] ROUNDS N\n");
		return 2;
	}
	rounds = number(argv[1]);
	n = number(argv[2]);
	for (long r = 0; r < rounds; r++) {
		long long t0 = now_ns();

		if (exec_rounds) {
			pid_t pid = fork();
			int status;

			if (pid < 0)
				return 1;
			if (pid == 0) {
				execl("/proc/self/exe", "once_bench", "-c", argv[2], (char *)NULL);
				_exit(127);
			}
			if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				return 1;
		} else {
			round_once(n);
		}
		printf("round %ld %lld\n", r, now_ns() - t0);
	}
	printf("calls %ld\n", (long)(n * NWORK));
	return 0;
}
