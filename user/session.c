// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>

#include "log.h"
#include "once.h"
#include "output.h"
#include "privs.h"
#include "probe.h"
#include "procfs.h"
#include "ring.h"
#include "session.h"
#include "sites.h"
#include "sites_libs.h"
#include "sites_file.h"

/* Attaching this many sites takes long enough to deserve a word on a TTY. */
#define ATTACH_PROGRESS_SITES 20000

int session_init(struct session *s, const struct collect_opts *o)
{
	const char *missing = NULL;
	sigset_t mask;

	memset(s, 0, sizeof(*s));
	s->opts = o;
	s->sigfd = -1;
	/* A default mutex owns no resources: session_close() need not destroy it. */
	pthread_mutex_init(&s->drain_lock, NULL);

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

struct output *session_open_output(const char *path)
{
	const char *why = NULL;
	struct output *out = output_open(path, &why);

	if (!out)
		error("cannot write %s: %s%s%s%s", path, strerror(errno),
		      why ? " (" : "", why ? why : "", why ? ")" : "");
	return out;
}

int session_open_outputs(struct session *s)
{
	const struct collect_opts *o = s->opts;

	for (size_t i = 0; i < o->noutputs; i++) {
		const struct output_spec *spec = &o->outputs[i];
		struct output *out = session_open_output(spec->path);

		if (!out)
			return -1;
		s->outputs[s->noutputs] = out;
		s->sinks[s->noutputs].ops = spec->format;
		s->sinks[s->noutputs].out = output_file(out);
		s->noutputs++;
		if (spec->format->binary && output_is_tty(out))
			return error("refusing to write %s data to a terminal: use -o FILE",
				     spec->format->name);
	}
	if (o->save_sites) {
		/* Opened with the outputs, so a bad path fails before any probe. */
		s->sites_out = session_open_output(o->save_sites);
		if (!s->sites_out)
			return -1;
	}
	if (o->ring_path) {
		s->ring = ring_create(o->ring_path, o->ring_mode, o->ring_words);
		if (!s->ring)
			return error("cannot create ring %s: %s", o->ring_path,
				     errno == EEXIST ? "file exists (remove it, or pick another path)" :
				     errno == ELOOP ? "is a symlink (refusing to follow it)" :
				     strerror(errno));
	}
	return 0;
}

/*
 * --save-sites: the kcov outputs learn the table's id, so their streams
 * start with a table-id record, and name each table it grows into
 * (session_sites_grew()).  The file itself is written at the end, when the
 * table holds every module the run added.
 */
static void announce_table(struct session *s)
{
	uint64_t id;

	if (!s->sites_out)
		return;
	id = site_table_id(s->table);
	for (size_t i = 0; i < s->noutputs; i++) {
		s->sinks[i].table_id = id;
		s->sinks[i].emit_table_id = true;
	}
}

void session_sites_grew(struct session *s)
{
	pthread_mutex_lock(&s->drain_lock);
	announce_table(s);
	if (s->ring)
		ring_grew(s->ring, s->table->nsites);
	pthread_mutex_unlock(&s->drain_lock);
}

static int save_sites(struct session *s)
{
	int err = sites_file_write(s->table, output_file(s->sites_out));

	if (err == -E2BIG)
		return error("writing %s: a name in the site table is too long to save",
			     output_path(s->sites_out));
	if (err)
		return error("writing %s: %s", output_path(s->sites_out), strerror(-err));
	return 0;
}

int session_load_sites(struct session *s, const char *open_path, const char *display,
		       int *errp)
{
	struct module_source src = {
		.exe_open = open_path, .exe_display = display, .pid = s->libs_pid,
	};

	s->table = site_table_new();
	if (!s->table)
		return error("out of memory");
	s->table->kind = s->opts->sites.kind;
	if (sites_libs_load(s->table, &s->opts->modules, &s->opts->sites, &src, errp))
		return -1;
	info("%zu sites in %zu modules", s->table->nsites, s->table->nmodules);
	announce_table(s);
	return 0;
}

/* A consumer's request, on the ring's thread. */
static void serve_request(void *arg)
{
	struct session *s = arg;

	if (session_drain(s))
		__atomic_store_n(&s->drain_failed, 1, __ATOMIC_RELEASE);
}

int session_load_probe(struct session *s)
{
	struct probe_config cfg;

	procs_probe_config(s->opts, s->procs_mode, s->table->nsites, &cfg);
	s->probe = probe_open_config(s->table, &cfg);
	if (!s->probe) {
		if (errno == EPERM)
			return error("loading BPF program: %s (needs CAP_BPF and CAP_PERFMON, or root)",
				     strerror(errno));
		if (errno == EOPNOTSUPP)
			return error("this kernel cannot load uprobe.multi programs (needs Linux >= 6.6 with BTF)");
		return error("loading BPF program: %s (ukcov -vv shows the kernel's log)",
			     strerror(errno));
	}
	if (drain_init(&s->drain, probe_counters(s->probe), s->table->nsites,
		       s->table->pc_base))
		return error("out of memory");
	s->drain_ready = true;
	if (s->opts->mode == COLLECT_ONCE) {
		/* attach --all tracks no process: links are replaced instead. */
		s->once = once_new(s->table, s->probe,
				   s->procs_mode == PROCS_RUN || s->procs_mode == PROCS_ATTACH);
		if (!s->once)
			return error("out of memory");
	}
	s->procs = procs_new(s, s->procs_mode);
	if (!s->procs)
		return error("following processes: %s", strerror(errno));
	return 0;
}

/*
 * LIVE once every probe is in: a consumer that collects as soon as it
 * sees the ring must get the coverage of what ran since, not an empty
 * drain of probes not attached yet.  `run` has not let the target exec
 * yet, so no hit precedes it either way.
 */
static int serve_ring(struct session *s)
{
	int err;

	if (!s->ring)
		return 0;
	ring_publish(s->ring, s->table->nsites, s->table->pc_base);
	err = ring_serve_start(s->ring, serve_request, s);
	if (err)
		return error("starting the ring thread: %s", strerror(-err));
	return 0;
}

/*
 * Following a process tree means links without a kernel pid filter: every
 * process that maps the file traps on the probes, counted or not.  For the
 * program's own binary that is rarely anyone else, but a library such as
 * libc is mapped by most of the machine, and each of those processes pays
 * a trap per probed call while ukcov runs.  Says so for the libraries the
 * user asked for (-> BENCHMARKS.md: a trap costs 0.4-23 us).
 */
static void warn_bystanders(struct session *s, const struct site_module *m)
{
	pid_t *tracked = NULL, some[3];
	char path[64], comm[64];
	long ntracked, cap = 0, n;
	struct stat st;
	FILE *f;

	if (stat(m->open_path, &st))
		return;
	ntracked = probe_tracked(s->probe, NULL, 0);
	if (ntracked > 0) {
		cap = ntracked;
		tracked = calloc(cap, sizeof(*tracked));
		if (!tracked)
			return;
		/* The set may grow meanwhile: only the first @cap were stored. */
		ntracked = probe_tracked(s->probe, tracked, cap);
	}
	n = procfs_file_mappers(major(st.st_dev), minor(st.st_dev), st.st_ino, tracked,
				ntracked > 0 ? (size_t)(ntracked < cap ? ntracked : cap) : 0, some, 3);
	free(tracked);
	if (n <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)some[0]);
	f = fopen(path, "re");
	if (!f || !fgets(comm, sizeof(comm), f))
		strcpy(comm, "?");
	if (f)
		fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	/* Any process names itself: nothing it chose may forge a line. */
	for (char *c = comm; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	warning("%ld other process%s map %s (pid %d %s%s): %s on its %zu probes while ukcov "
		"runs, uncounted (--no-follow filters by pid in the kernel instead)",
		n, n == 1 ? "" : "es", m->path, (int)some[0], comm, n > 1 ? ", ..." : "",
		n == 1 ? "it traps" : "each traps", m->nsites);
}

int session_attach(struct session *s, const char *path_override, pid_t pid)
{
	bool progress = isatty(STDERR_FILENO) && s->table->nsites >= ATTACH_PROGRESS_SITES;
	pid_t link_pid = procs_link_pid(s->procs, pid);
	int err;

	/* Tracked before the links exist: no hit of @pid goes uncounted. */
	if (pid > 0) {
		err = procs_seed(s->procs, pid, s->procs_mode == PROCS_ATTACH);
		if (err)
			return error("following pid %d: %s", pid, strerror(-err));
	}
	for (size_t i = 0; i < s->table->nmodules; i++) {
		const struct site_module *m = &s->table->modules[i];

		if (link_pid < 0 && s->procs_mode != PROCS_ALL &&
		    (s->opts->modules.all_libs || s->opts->modules.nlibs))
			warn_bystanders(s, m);
		if (progress)
			fprintf(stderr, "ukcov: attaching %zu sites in %s...", m->nsites, m->path);
		err = probe_attach_module(s->probe, i, path_override, link_pid);
		if (progress)
			fprintf(stderr, "\r\033[K");
		if (err == -EOPNOTSUPP || err == -ENOSYS)
			return error("attaching to %s: this kernel has no uprobe_multi links (needs Linux >= 6.6)",
				     m->path);
		/*
		 * attach -p opens each module through /proc/PID/: a process that
		 * died meanwhile makes that path vanish (ENOENT), not ESRCH.
		 */
		if (err == -ESRCH || (err == -ENOENT && pid > 0 && kill(pid, 0) && errno == ESRCH))
			return error("attaching to %s: process %d is gone", m->path, pid);
		if (err == -524)	/* the kernel's internal ENOTSUPP */
			return error("attaching to %s: the kernel cannot probe the instruction at one of its sites",
				     m->path);
		if (err)
			return error("attaching to %s: %s", m->path, strerror(-err));
		info("attached %zu sites in %s", m->nsites, m->path);
	}
	return serve_ring(s);
}

int session_drop_privileges(struct session *s)
{
	const struct collect_opts *o = s->opts;
	uint64_t keep = 0, kept;
	char names[512];
	int err;

	if (s->procs_mode == PROCS_RUN || s->procs_mode == PROCS_ATTACH)
		keep |= PRIVS_KEEP_FOLLOW;
	if (o->follow_exec || o->dlopen || o->modules.all_libs || o->modules.nlibs ||
	    o->mode == COLLECT_ONCE)
		keep |= PRIVS_KEEP_GROWING;
	/* Outputs are committed, a failed ring removed, in their directories. */
	for (size_t i = 0; i < o->noutputs; i++)
		keep |= privs_output_needs(o->outputs[i].path);
	keep |= privs_output_needs(o->save_sites);
	keep |= privs_output_needs(o->ring_path);
	err = privs_drop(keep, &kept);
	if (err)
		return error("dropping privileges after attach: %s", strerror(-err));
	info("capabilities kept: %s", privs_names(kept, names, sizeof(names)));
	return 0;
}

int session_emit(struct session *s, const uint64_t *pcs, size_t n)
{
	for (size_t i = 0; i < s->noutputs; i++) {
		int err = sink_drain(&s->sinks[i], pcs, n);

		if (err)
			return error("writing %s: %s", output_path(s->outputs[i]), strerror(-err));
	}
	return 0;
}

/* Once mode keeps what was never reported, even if it ran again. */
static int once_keep(void *ctx, uint64_t *pcs, size_t *n)
{
	struct session *s = ctx;

	return once_filter(s->once, s->drain.pc_base, pcs, n);
}

/*
 * One drain's PCs on their way out, a part at a time.  A failing output
 * stops getting parts; the others and the ring get them all.
 */
struct emit_ctx {
	struct session *s;
	int err;		/* the first output's error */
	size_t failed;		/* and which output it was */
};

static void emit_note(struct emit_ctx *e, size_t i, int err)
{
	if (err && !e->err) {
		e->err = err;
		e->failed = i;
	}
}

static int emit_part(void *ctx, const uint64_t *pcs, size_t n)
{
	struct emit_ctx *e = ctx;

	if (e->s->ring)
		ring_append_pcs(e->s->ring, pcs, n);
	for (size_t i = 0; i < e->s->noutputs; i++)
		if (!e->err || e->failed != i)
			emit_note(e, i, sink_drain_pcs(&e->s->sinks[i], pcs, n));
	return 0;
}

/* One drain; the ring and streaming formats get its PCs now. */
static int drain_to_sinks(struct session *s)
{
	struct emit_ctx e = { .s = s };
	size_t n = drain_once(&s->drain), i;

	if (s->once && n && drain_filter(&s->drain, once_keep, s, &n))
		return error("out of memory");
	for (i = 0; n && i < s->noutputs; i++)
		emit_note(&e, i, sink_drain_begin(&s->sinks[i], n));
	drain_emit(&s->drain, emit_part, &e);
	for (i = 0; n && i < s->noutputs; i++)
		if (!e.err || e.failed != i)
			emit_note(&e, i, sink_drain_end(&s->sinks[i]));
	if (s->ring)
		ring_drain_done(s->ring);
	if (e.err)
		return error("writing %s: %s", output_path(s->outputs[e.failed]), strerror(-e.err));
	return 0;
}

int session_drain(struct session *s)
{
	int ret;

	pthread_mutex_lock(&s->drain_lock);
	ret = drain_to_sinks(s);
	pthread_mutex_unlock(&s->drain_lock);
	return ret;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * CPU time of the calling thread, in us: what pacing once mode's drains
 * is about.  A link replacement mostly sleeps in the kernel's grace
 * periods (tens of ms that cost no CPU), and wall time would count them.
 */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Arms @tfd to fire every @us, or once after @us when @oneshot. */
static int arm_timer(int tfd, uint64_t us, bool oneshot)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	struct itimerspec its = { .it_value = ts };

	if (!oneshot)
		its.it_interval = ts;
	return timerfd_settime(tfd, 0, &its, NULL);
}

static uint64_t once_reported(const struct once *o)
{
	struct once_stats st;

	once_get_stats(o, &st);
	return st.reported;
}

int session_collect(struct session *s, int pidfd, uint64_t duration_ms,
		    enum session_end *end, int *signo)
{
	uint64_t max_us = s->opts->interval_ms * 1000, wait_us, deadline = 0;
	int tfd, ret = -1;
	bool first_gone = false;	/* @pidfd fired, followed processes remain */

	*signo = 0;
	wait_us = s->once ? once_first_wait_us(max_us) : max_us;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd < 0 || arm_timer(tfd, wait_us, s->once))
		return error("timerfd: %s", strerror(errno));
	if (duration_ms)
		deadline = now_ms() + duration_ms;

	for (;;) {
		struct pollfd fds[4] = {
			{ .fd = s->sigfd, .events = POLLIN },
			{ .fd = first_gone ? -1 : pidfd, .events = POLLIN },
			{ .fd = tfd, .events = POLLIN },
			{ .fd = procs_events_fd(s->procs), .events = POLLIN },
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
		if (poll(fds, 4, timeout) < 0) {
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
		/* Before anything ends: a held process must be continued. */
		if ((fds[3].revents & POLLIN) && procs_handle_events(s->procs))
			goto out;
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (!procs_following(s->procs)) {
				*end = SESSION_EXITED;
				break;
			}
			/* Its children may live on: wait for the last one. */
			first_gone = true;
		}
		if (first_gone && procs_done(s->procs)) {
			*end = SESSION_EXITED;
			break;
		}
		if (fds[2].revents & POLLIN) {
			uint64_t expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN) {
				error("timerfd: %s", strerror(errno));
				goto out;
			}
			uint64_t t0 = thread_cpu_us(), reported = s->once ? once_reported(s->once) : 0;

			if (session_drain(s) || __atomic_load_n(&s->drain_failed, __ATOMIC_ACQUIRE))
				goto out;
			if (!s->once)
				continue;
			/* Outside drain_lock: replacing a link takes tens of ms. */
			if (once_retire(s->once)) {
				error("out of memory");
				goto out;
			}
			wait_us = once_next_wait_us(wait_us, max_us,
						    once_reported(s->once) != reported,
						    thread_cpu_us() - t0);
			if (arm_timer(tfd, wait_us, true)) {
				error("timerfd: %s", strerror(errno));
				goto out;
			}
		}
	}
	ret = 0;
out:
	close(tfd);
	return ret;
}

/* Commits *@slot and clears it.  Returns 0, or -1 after printing. */
static int session_commit(struct output **slot)
{
	struct output *out = *slot;
	const char *path = output_path(out);
	char *copy = strdup(path ? path : "?");
	int err;

	*slot = NULL;	/* commit frees it whatever happens */
	err = output_commit(out);
	if (err)
		error("writing %s: %s", copy ? copy : "output", strerror(-err));
	free(copy);
	return err ? -1 : 0;
}

int session_write_outputs(struct session *s, const uint64_t *totals,
			  const struct run_info *ri)
{
	int ret = 0;

	for (size_t i = 0; i < s->noutputs; i++) {
		int err = sink_finish(&s->sinks[i], s->table, totals, ri);

		if (err)
			return error("writing %s: %s", output_path(s->outputs[i]), strerror(-err));
	}
	for (size_t i = 0; i < s->noutputs; i++)
		if (session_commit(&s->outputs[i]))
			ret = -1;
	if (s->sites_out && (save_sites(s) || session_commit(&s->sites_out)))
		ret = -1;
	return ret;
}

void session_init_offline(struct session *s, const struct collect_opts *o,
			  struct site_table *t)
{
	memset(s, 0, sizeof(*s));
	s->opts = o;
	s->table = t;
	s->sigfd = -1;
}

/* Once mode reports hit or not: every hit site counts 1. */
static void once_finish(struct session *s, struct run_info *ri)
{
	struct once_stats st;

	ri->mode = "once";
	s->drain.hits = 0;
	for (size_t i = 0; i < s->drain.nsites; i++) {
		s->drain.totals[i] = s->drain.totals[i] != 0;
		s->drain.hits += s->drain.totals[i];
	}
	once_get_stats(s->once, &st);
	info("once: %" PRIu64 " sites reported; %" PRIu64 " breakpoints restored in place "
	     "(%" PRIu64 " found restored, %" PRIu64 " left to the kernel) in %.1f ms; "
	     "%" PRIu64 " link replacements (%" PRIu64 " failed) in %.1f ms",
	     st.reported, st.restored, st.already, st.unsafe, st.restore_ns / 1e6,
	     st.replacements, st.replace_failed, st.replace_ns / 1e6);
	if (st.no_access)
		info("once: %" PRIu64 " processes could not be written (no ptrace rights): "
		     "their sites were retired by link replacement only", st.no_access);
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
	if (procs_handle_events(s->procs))
		return -1;
	probe_detach(s->probe);
	procs_finish(s->procs);
	ri.execs = procs_execs(s->procs, &ri.nexecs);
	ring_serve_stop(s->ring);
	if (__atomic_load_n(&s->drain_failed, __ATOMIC_ACQUIRE) || session_drain(s))
		return -1;
	/* Requests still waiting are answered by that last drain. */
	ring_close(s->ring);
	ri.drains = s->drain.ndrains;
	ri.drains_with_hits = s->drain.ndrains_hit;
	if (s->once)
		once_finish(s, &ri);
	ret = session_write_outputs(s, s->drain.totals, &ri);
	/* Like a committed output, the ring of a complete collection stays. */
	s->ring_keep = ret == 0;
	return ret;
}

void session_close(struct session *s)
{
	/* First: its thread drains, so it must be gone before the drain and probe. */
	ring_free(s->ring, s->ring_keep);
	for (size_t i = 0; i < s->noutputs; i++)
		output_abort(s->outputs[i]);
	output_abort(s->sites_out);
	procs_free(s->procs);
	once_free(s->once);
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
