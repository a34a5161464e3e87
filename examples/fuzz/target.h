/* SPDX-License-Identifier: MIT */
/*
 * The fuzzing target of examples/fuzz: one function that takes an input and
 * crashes (abort) on the magic prefix "UKCV!".  target.c has it and a
 * one-shot main (input on stdin); persistent_target.c serves many inputs
 * from one process.
 */
#ifndef FUZZ_TARGET_H
#define FUZZ_TARGET_H

#include <stddef.h>

/* Largest input the targets accept, in bytes. */
#define TARGET_MAX_INPUT 4096

/* Runs one input of @len bytes.  Returns how deep it got; aborts on the magic. */
int target_input(const unsigned char *buf, size_t len);

#endif /* FUZZ_TARGET_H */
