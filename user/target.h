/* SPDX-License-Identifier: MIT */
/*
 * The process being covered: finding the command, starting it stopped
 * until the probes are in place, watching it, and its exit status.
 */
#ifndef UKCOV_TARGET_H
#define UKCOV_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * Finds @cmd the way execvp() does (a name with a '/' is used as is,
 * otherwise each $PATH entry is tried).  Returns a malloc'd path, or NULL
 * with errno ENOENT (nothing by that name) or EACCES (found, but not an
 * executable regular file).
 */
char *target_resolve(const char *cmd);

struct privs_user;

struct target_child {
	pid_t pid;
	int go_fd;	/* write end: one byte lets the child exec */
	int exec_fd;	/* read end: EOF when exec succeeded, else what failed */
	bool creds_failed;	/* target_release() failed switching to the user */
	bool stdout_to_stderr;	/* set before target_spawn(): ukcov's stdout carries data */
};

/*
 * Forks a child that waits for target_release() and then restores @mask,
 * becomes @user (privs_become(); NULL or unset: keeps ukcov's credentials)
 * and execs @path with @argv.  The child is created before the probes so
 * that they can filter on its pid; it execs only after they are attached,
 * so not a single instruction of @path runs unobserved.  It does not run
 * at all if the credentials cannot be switched (fail closed).
 * Returns 0 or a negative errno.
 */
int target_spawn(const char *path, char *const argv[], const sigset_t *mask,
		 const struct privs_user *user, struct target_child *c);

/*
 * Lets the child exec and waits until it has (or failed to).  Returns 0;
 * the negative errno of the failed execve, or with c->creds_failed of the
 * failed switch to the user (the child has then exited); or -ESRCH when
 * the child was already gone (killed before it could be released: reap it
 * with target_wait()).
 */
int target_release(struct target_child *c);

/* Kills and reaps a child that was never released.  Accepts pid <= 0. */
void target_discard(struct target_child *c);

/*
 * A pidfd for @pid: readable once the process exits.  Returns the fd or a
 * negative errno (-ESRCH: no such process; -EINVAL: not a thread-group
 * leader, i.e. a thread id).
 */
int target_pidfd(pid_t pid);

/*
 * Reaps child @pid if it has exited (blocking when @block) and returns its
 * status the way a shell reports it: the exit code, or 128 + the signal
 * that killed it.  Returns -1 when it has not exited (only if !@block).
 */
int target_wait(pid_t pid, int block);

#endif /* UKCOV_TARGET_H */
