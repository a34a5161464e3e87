// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "log.h"
#include "output.h"
#include "probe.h"
#include "session.h"
#include "sites.h"

/* Attaching this many sites takes long enough to deserve a word on a TTY. */
#define ATTACH_PROGRESS_SITES 20000

int session_init(struct session *s, const struct collect_opts *o)
{
	const char *missing = NULL;
	sigset_t mask;

	memset(s, 0, sizeof(*s));
	s->opts = o;
	s->sigfd = -1;

	if (probe_check_privileges(&missing))
		return error("not permitted to load BPF programs: needs %s, or root", missing);

	/*
	 * Signals are taken through a signalfd, so the loop sees them between
	 * drains instead of in a handler.  SIGPIPE is blocked too: a closed
	 * stdout then fails the write with EPIPE, which is reported like any
	 * other write error.  Blocked signals are inherited across fork and
	 * exec, so the target restores saved_mask before exec.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &mask, &s->saved_mask))
		return error("blocking signals: %s", strerror(errno));
	sigdelset(&mask, SIGPIPE);
	s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return error("signalfd: %s", strerror(errno));
	return 0;
}

int session_open_outputs(struct session *s)
{
	const struct collect_opts *o = s->opts;

	for (size_t i = 0; i < o->noutputs; i++) {
		const struct output_spec *spec = &o->outputs[i];
		struct output *out = output_open(spec->path);

		if (!out)
			return error("cannot write %s: %s%s", spec->path, strerror(errno),
				     errno == ELOOP ? " (refusing to follow a symlink)" : "");
		s->outputs[s->noutputs] = out;
		s->sinks[s->noutputs].ops = spec->format;
		s->sinks[s->noutputs].out = output_file(out);
		s->noutputs++;
		if (spec->format->binary && output_is_tty(out))
			return error("refusing to write %s data to a terminal: use -o FILE",
				     spec->format->name);
	}
	return 0;
}

int session_load_sites(struct session *s, const char *open_path, const char *display,
		       int *errp)
{
	const char *why = NULL;
	int err;

	s->table = site_table_new();
	if (!s->table)
		return error("out of memory");
	err = site_table_add_elf(s->table, open_path, display, &s->opts->sites, &why);
	if (errp)
		*errp = -err;
	if (err == -ENODATA)
		return error("%s: no function symbols to probe", display);
	if (err == -ENOEXEC)
		return error("%s: %s", display, why ? why : "not an ELF file ukcov can probe");
	if (err)
		return error("%s: %s%s%s", display, strerror(-err), why ? ": " : "",
			     why ? why : "");
	site_table_finish(s->table);
	info("%s: %zu sites", display, s->table->nsites);
	return 0;
}

int session_load_probe(struct session *s)
{
	s->probe = probe_open(s->table);
	if (!s->probe) {
		if (errno == EPERM)
			return error("loading BPF program: %s (needs CAP_BPF and CAP_PERFMON, or root)",
				     strerror(errno));
		if (errno == EOPNOTSUPP)
			return error("this kernel cannot load uprobe.multi programs (needs Linux >= 6.6 with BTF)");
		return error("loading BPF program: %s", strerror(errno));
	}
	if (drain_init(&s->drain, probe_counters(s->probe), s->table->nsites,
		       s->table->pc_base))
		return error("out of memory");
	s->drain_ready = true;
	return 0;
}

int session_attach(struct session *s, const char *path_override, pid_t pid)
{
	bool progress = isatty(STDERR_FILENO) && s->table->nsites >= ATTACH_PROGRESS_SITES;

	for (size_t i = 0; i < s->table->nmodules; i++) {
		const struct site_module *m = &s->table->modules[i];
		int err;

		if (progress)
			fprintf(stderr, "ukcov: attaching %zu sites in %s...", m->nsites, m->path);
		err = probe_attach_module(s->probe, i, path_override, pid);
		if (progress)
			fprintf(stderr, "\r\033[K");
		if (err == -EOPNOTSUPP || err == -ENOSYS)
			return error("attaching to %s: this kernel has no uprobe_multi links (needs Linux >= 6.6)",
				     m->path);
		if (err == -ESRCH)
			return error("attaching to %s: process %d is gone", m->path, pid);
		if (err)
			return error("attaching to %s: %s", m->path, strerror(-err));
		info("attached %zu sites in %s", m->nsites, m->path);
	}
	return 0;
}

/* One drain; streaming formats get its PCs now. */
static int drain_to_sinks(struct session *s)
{
	size_t n = drain_once(&s->drain);

	if (!n)
		return 0;
	for (size_t i = 0; i < s->noutputs; i++) {
		int err = sink_drain(&s->sinks[i], s->drain.pcs, n);

		if (err)
			return error("writing %s: %s", output_path(s->outputs[i]), strerror(-err));
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int session_collect(struct session *s, int pidfd, uint64_t duration_ms,
		    enum session_end *end, int *signo)
{
	uint64_t iv = s->opts->interval_ms, deadline = 0;
	struct itimerspec its = {
		.it_interval = { iv / 1000, (iv % 1000) * 1000000 },
		.it_value = { iv / 1000, (iv % 1000) * 1000000 },
	};
	int tfd, ret = -1;

	*signo = 0;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL))
		return error("timerfd: %s", strerror(errno));
	if (duration_ms)
		deadline = now_ms() + duration_ms;

	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = s->sigfd, .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = tfd, .events = POLLIN },
		};
		int timeout = -1;

		if (deadline) {
			uint64_t now = now_ms();

			if (now >= deadline) {
				*end = SESSION_TIMED_OUT;
				break;
			}
			timeout = deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
		}
		if (poll(fds, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			error("poll: %s", strerror(errno));
			goto out;
		}
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
				*signo = si.ssi_signo;
				*end = SESSION_SIGNALED;
				break;
			}
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			*end = SESSION_EXITED;
			break;
		}
		if (fds[2].revents & POLLIN) {
			uint64_t expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN) {
				error("timerfd: %s", strerror(errno));
				goto out;
			}
			if (drain_to_sinks(s))
				goto out;
		}
	}
	ret = 0;
out:
	close(tfd);
	return ret;
}

int session_finish(struct session *s, const struct run_info *info)
{
	struct run_info ri = *info;
	int ret = 0;

	/*
	 * Detach before the final drain: the target stops paying for traps
	 * as early as possible, and whatever was counted before the links
	 * went away is still in the (still mapped) counters.
	 */
	probe_detach(s->probe);
	if (drain_to_sinks(s))
		return -1;
	ri.drains = s->drain.ndrains;
	ri.drains_with_hits = s->drain.ndrains_hit;
	for (size_t i = 0; i < s->noutputs; i++) {
		int err = sink_finish(&s->sinks[i], s->table, s->drain.totals, &ri);

		if (err)
			return error("writing %s: %s", output_path(s->outputs[i]), strerror(-err));
	}
	for (size_t i = 0; i < s->noutputs; i++) {
		struct output *out = s->outputs[i];
		const char *path = output_path(out);
		char *copy = strdup(path ? path : "?");
		int err;

		s->outputs[i] = NULL;	/* commit frees it whatever happens */
		err = output_commit(out);
		if (err)
			ret = error("writing %s: %s", copy ? copy : "output", strerror(-err));
		free(copy);
	}
	return ret;
}

void session_close(struct session *s)
{
	for (size_t i = 0; i < s->noutputs; i++)
		output_abort(s->outputs[i]);
	probe_close(s->probe);
	if (s->drain_ready)
		drain_fini(&s->drain);
	site_table_free(s->table);
	/*
	 * The signal mask stays as it is: ukcov is about to exit, and a second
	 * Ctrl-C pending now must not kill it before it returns its status.
	 */
	if (s->sigfd >= 0)
		close(s->sigfd);
	memset(s, 0, sizeof(*s));
	s->sigfd = -1;
}
