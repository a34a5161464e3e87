// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "privs.h"
#include "target.h"

/* 0 if @path is an executable regular file, else -ENOENT or -EACCES. */
static int check_executable(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EACCES;
	if (!S_ISREG(st.st_mode) || access(path, X_OK))
		return -EACCES;
	return 0;
}

char *target_resolve(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	int err = -ENOENT;

	if (!*cmd) {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(cmd, '/')) {
		err = check_executable(cmd);
		if (err) {
			errno = -err;
			return NULL;
		}
		return strdup(cmd);
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		int e;

		/* An empty PATH entry means the current directory. */
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)len, len ? path : ".",
			     "/", cmd) < (int)sizeof(buf)) {
			e = check_executable(buf);
			if (!e)
				return strdup(buf);
			if (e == -EACCES)
				err = -EACCES;	/* like execvp: remember, keep looking */
		}
		path += len;
		if (*path == ':')
			path++;
	}
	errno = -err;
	return NULL;
}

/* What a child that could not exec writes on the exec pipe. */
struct target_failure {
	int creds;	/* 1: switching credentials failed, 0: execve did */
	int err;	/* positive errno */
};

int target_spawn(const char *path, char *const argv[], const sigset_t *mask,
		 const struct privs_user *user, struct target_child *c)
{
	int go[2] = { -1, -1 }, ex[2] = { -1, -1 };
	pid_t pid;
	int err;

	c->pid = -1;
	c->go_fd = c->exec_fd = -1;
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
		err = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto fail;
	}
	if (pid == 0) {
		struct target_failure f = {};
		char byte;

		close(go[1]);
		close(ex[0]);
		/* EOF instead of a byte: ukcov gave up (or died); do not run. */
		if (read(go[0], &byte, 1) != 1)
			_exit(125);
		sigprocmask(SIG_SETMASK, mask, NULL);
		if (c->stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(125);
		/* Last thing before exec: until here ukcov may still kill us as root. */
		err = user ? privs_become(user) : 0;
		if (err) {
			f.creds = 1;
			f.err = -err;
		} else {
			execv(path, argv);
			f.err = errno;
		}
		if (write(ex[1], &f, sizeof(f)) < 0)
			_exit(127);
		_exit(f.creds ? 125 : f.err == ENOENT ? 127 : 126);
	}
	close(go[0]);
	close(ex[1]);
	c->pid = pid;
	c->go_fd = go[1];
	c->exec_fd = ex[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (ex[i] >= 0)
			close(ex[i]);
	}
	return err;
}

int target_release(struct target_child *c)
{
	struct target_failure f = {};
	ssize_t n;

	c->creds_failed = false;
	if (write(c->go_fd, "g", 1) != 1) {
		/* No reader left: it died waiting (SIGPIPE is blocked in ukcov). */
		int err = errno == EPIPE ? -ESRCH : -errno;

		close(c->go_fd);
		c->go_fd = -1;
		return err;
	}
	close(c->go_fd);
	c->go_fd = -1;
	/* The pipe is close-on-exec: EOF means the exec went through. */
	do
		n = read(c->exec_fd, &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(c->exec_fd);
	c->exec_fd = -1;
	if (n == sizeof(f)) {
		c->creds_failed = f.creds;
		return -f.err;
	}
	return 0;
}

void target_discard(struct target_child *c)
{
	if (c->go_fd >= 0)
		close(c->go_fd);
	if (c->exec_fd >= 0)
		close(c->exec_fd);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = -1;
	c->go_fd = c->exec_fd = -1;
}

int target_pidfd(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int target_wait(pid_t pid, int block)
{
	int status;
	pid_t r;

	do
		r = waitpid(pid, &status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
