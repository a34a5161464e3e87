/* SPDX-License-Identifier: MIT */
/*
 * User-facing messages.  Only the command layer (main.c, cmd_*.c) prints;
 * everything below it returns a negative errno and lets the command say
 * what failed.  Every message is one line: "ukcov: <what failed>: <why>".
 */
#ifndef UKCOV_LOG_H
#define UKCOV_LOG_H

#include <stdbool.h>

/* Set by -v; 0 = quiet, 1 = progress, 2 = libbpf's own messages too. */
extern int log_verbosity;

/* Prints "ukcov: MESSAGE" to stderr.  Returns -1, git-style: return error(...). */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ukcov: warning: MESSAGE" to stderr. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ukcov: MESSAGE" when -v was given. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* UKCOV_LOG_H */
