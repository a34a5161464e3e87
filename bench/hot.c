// SPDX-License-Identifier: MIT
/*
 * The per-hit workload: calls one tiny function N times and prints how long
 * the loop took, so every tool (native, ukcov, bpftrace, gcov, callgrind)
 * is compared on the loop alone, without its start-up cost.
 *
 *   hot KIND N      prints "hot KIND N NS" on stdout
 *
 * KIND picks the function, i.e. the first instruction a uprobe at its entry
 * replaces, because that decides what a hit costs on x86:
 *   c      hot_c, plain C as the compiler emits it at the build's -O level
 *   push   push %rbp            (-O0 frame: emulated by the kernel)
 *   nop5   nopl 0x0(%rax,%rax)  (5-byte nop: emulated, optimizable)
 *   mov    mov %rdi,%rax        (copied out of line and single-stepped)
 *   endbr  endbr64              (single-stepped as well)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long hot_c(long x);
long hot_push(long x);
long hot_nop5(long x);
long hot_mov(long x);
long hot_endbr(long x);

__attribute__((noinline)) long hot_c(long x)
{
	/* Keeps the call and its body from being folded away. */
	asm volatile("" : "+r"(x));
	return x + 1;
}

/*
 * The asm kinds are whole functions with a symbol type and size, so that
 * they are function sites like any other; each returns x + 1.
 */
asm(".text\n"
    ".globl hot_push\n.type hot_push,@function\n"
    "hot_push:\n"
    "	push %rbp\n"
    "	mov %rsp,%rbp\n"
    "	lea 1(%rdi),%rax\n"
    "	pop %rbp\n"
    "	ret\n"
    ".size hot_push,.-hot_push\n"
    ".globl hot_nop5\n.type hot_nop5,@function\n"
    "hot_nop5:\n"
    "	.byte 0x0f,0x1f,0x44,0x00,0x00\n"
    "	lea 1(%rdi),%rax\n"
    "	ret\n"
    ".size hot_nop5,.-hot_nop5\n"
    ".globl hot_mov\n.type hot_mov,@function\n"
    "hot_mov:\n"
    "	mov %rdi,%rax\n"
    "	add $1,%rax\n"
    "	ret\n"
    ".size hot_mov,.-hot_mov\n"
    ".globl hot_endbr\n.type hot_endbr,@function\n"
    "hot_endbr:\n"
    "	.byte 0xf3,0x0f,0x1e,0xfa\n"
    "	lea 1(%rdi),%rax\n"
    "	ret\n"
    ".size hot_endbr,.-hot_endbr\n");

static const struct {
	const char *name;
	long (*fn)(long);
} kinds[] = {
	{ "c", hot_c },
	{ "push", hot_push },
	{ "nop5", hot_nop5 },
	{ "mov", hot_mov },
	{ "endbr", hot_endbr },
};

int main(int argc, char **argv)
{
	/* volatile: the call stays an indirect call the compiler cannot inline. */
	long (*volatile fn)(long) = NULL;
	struct timespec a, b;
	long n, x = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: hot c|push|nop5|mov|endbr N\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(argv[1], kinds[i].name))
			fn = kinds[i].fn;
	n = strtol(argv[2], NULL, 10);
	if (!fn || n <= 0) {
		fprintf(stderr, "hot: bad kind or count\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		x = fn(x);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("hot %s %ld %lld\n", argv[1], n,
	       (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	return x == n ? 0 : 1;
}
