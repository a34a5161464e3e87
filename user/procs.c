// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "array.h"
#include "drain.h"
#include "log.h"
#include "options.h"
#include "probe.h"
#include "procfs.h"
#include "procs.h"
#include "session.h"
#include "sinks/sink.h"
#include "sites.h"
#include "sites_libs.h"

/* Notes kept for the report; more execs than this are counted, not listed. */
#define MAX_EXEC_NOTES 4096
/* Tracked pids looked at per procs_done() (the BPF map holds at most 65536). */
#define MAX_TRACKED 65536

/* A file as stat() sees it: how procs tells whether it is a module already. */
struct file_key {
	dev_t dev;
	ino_t ino;
	uint64_t kdev;	/* dev in the kernel's encoding, as BPF events carry it */
};

struct procs {
	struct session *s;
	enum procs_mode mode;
	pid_t root;			/* the first process seeded; 0: none */
	struct file_key *initial;	/* the modules the collection started with */
	size_t ninitial;
	struct file_key *modules;	/* every module, by module index */
	size_t nmodules, cap_modules;
	struct run_exec *execs;
	size_t nexecs;
	uint64_t execs_dropped;
	pid_t *held;			/* stopped by BPF, not continued yet */
	size_t nheld, cap_held;
	pid_t *scratch;			/* MAX_TRACKED pids for procs_done() */
	size_t refused;			/* modules that did not fit (--max-sites) */
	bool closing;			/* events only release held processes */
};

/* Libraries mapped while running are wanted: --dlopen, --libs or --lib. */
static bool watch_libraries(const struct collect_opts *o)
{
	return o->dlopen || o->modules.all_libs || o->modules.nlibs;
}

void procs_probe_config(const struct collect_opts *o, enum procs_mode mode, size_t nsites,
			struct probe_config *cfg)
{
	bool growing = o->follow_exec || watch_libraries(o);

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_sites = nsites;
	if (mode == PROCS_NONE || mode == PROCS_ALL)
		return;
	/*
	 * --no-follow leaves the choice to the kernel's pid filter, but the
	 * first process is still tracked so that its exec and its mmaps are
	 * reported.
	 */
	cfg->filter_pids = !o->no_follow;
	cfg->follow_forks = !o->no_follow;
	cfg->watch_exec = true;
	cfg->hold_exec = o->follow_exec;
	cfg->watch_mmap = watch_libraries(o);
	if (o->max_sites)
		cfg->max_sites = o->max_sites;
	else if (growing)
		cfg->max_sites = nsites > PROCS_MIN_RESERVE_SITES / 4 ? nsites * 4 :
				 PROCS_MIN_RESERVE_SITES;
}

/* Kernel and stat() identities of every module in the table. */
static int note_modules(struct procs *pr)
{
	const struct site_table *t = pr->s->table;

	for (size_t i = pr->nmodules; i < t->nmodules; i++) {
		struct file_key key = {};
		struct stat st;

		if (ARRAY_GROW(pr->modules, pr->cap_modules, pr->nmodules + 1, 8))
			return -ENOMEM;
		if (!stat(t->modules[i].open_path, &st)) {
			key.dev = st.st_dev;
			key.ino = st.st_ino;
			key.kdev = probe_kdev(st.st_dev);
			/*
			 * Best effort: a file the kernel names differently
			 * (overlayfs, btrfs subvolumes) costs one event, after
			 * which the event's own identity is marked known.
			 */
			probe_mark_known(pr->s->probe, probe_kdev(st.st_dev), st.st_ino);
		}
		pr->modules[pr->nmodules++] = key;
	}
	return 0;
}

static bool key_in(const struct file_key *keys, size_t n, const struct stat *st)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].ino == st->st_ino && keys[i].dev == st->st_dev && keys[i].ino)
			return true;
	return false;
}

/* The same match by the kernel's names, for a process that is gone already. */
static bool kernel_key_in(const struct file_key *keys, size_t n, uint64_t kdev, uint64_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].ino == ino && keys[i].kdev == kdev && keys[i].ino)
			return true;
	return false;
}

static int on_event(void *ctx, const struct probe_event *ev);
static void release_all(struct procs *pr);

struct procs *procs_new(struct session *s, enum procs_mode mode)
{
	struct procs *pr = calloc(1, sizeof(*pr));
	int err;

	if (!pr)
		return NULL;
	pr->s = s;
	pr->mode = mode;
	if (mode == PROCS_NONE || mode == PROCS_ALL)
		return pr;
	pr->scratch = calloc(MAX_TRACKED, sizeof(*pr->scratch));
	if (!pr->scratch) {
		err = -ENOMEM;
		goto err;
	}
	err = note_modules(pr);
	if (err)
		goto err;
	pr->initial = calloc(pr->nmodules ? pr->nmodules : 1, sizeof(*pr->initial));
	if (!pr->initial) {
		err = -ENOMEM;
		goto err;
	}
	memcpy(pr->initial, pr->modules, pr->nmodules * sizeof(*pr->modules));
	pr->ninitial = pr->nmodules;
	err = probe_events_open(s->probe, on_event, pr);
	if (err)
		goto err;
	return pr;
err:
	procs_free(pr);
	errno = -err;
	return NULL;
}

void procs_free(struct procs *pr)
{
	if (!pr)
		return;
	/*
	 * A collection that failed never read its last events: a process
	 * they held would stay stopped for good.
	 */
	if (pr->mode == PROCS_RUN || pr->mode == PROCS_ATTACH) {
		pr->closing = true;
		probe_events_consume(pr->s->probe);
		release_all(pr);
	}
	for (size_t i = 0; i < pr->nexecs; i++)
		free((char *)pr->execs[i].path);
	free(pr->execs);
	free(pr->initial);
	free(pr->modules);
	free(pr->held);
	free(pr->scratch);
	free(pr);
}

/*
 * State and parent of process @pid from /proc/PID/stat.  The command name
 * may hold spaces and parentheses: the fields start after the last ')'.
 */
static int read_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", state, ppid) != 2)
		return -EINVAL;
	return 0;
}

static bool alive(pid_t pid)
{
	char state;
	pid_t ppid;

	return !read_stat(pid, &state, &ppid) && state != 'Z' && state != 'X';
}

/*
 * Tracks every live process whose parent is tracked, from one scan of
 * /proc (processes only: /proc lists thread groups, not threads).  Repeats
 * until a scan adds nothing, so grandchildren listed before their parent
 * are found too.  Best effort: a fork racing with the scan may be missed,
 * but any fork after its parent is tracked is caught by the BPF side.
 */
static int seed_descendants(struct procs *pr)
{
	bool added;

	do {
		long n = probe_tracked(pr->s->probe, pr->scratch, MAX_TRACKED);
		struct dirent *de;
		DIR *dir;

		if (n < 0)
			return n;
		if (n > MAX_TRACKED)
			n = MAX_TRACKED;
		added = false;
		dir = opendir("/proc");
		if (!dir)
			return -errno;
		while ((de = readdir(dir))) {
			pid_t pid, ppid;
			char state;
			bool parent = false, self = false;

			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = atoi(de->d_name);
			if (read_stat(pid, &state, &ppid) || state == 'Z' || state == 'X')
				continue;
			for (long i = 0; i < n; i++) {
				parent |= pr->scratch[i] == ppid;
				self |= pr->scratch[i] == pid;
			}
			if (!parent || self)
				continue;
			if (!probe_track(pr->s->probe, pid)) {
				info("following pid %d (child of %d)", pid, ppid);
				added = true;
			}
		}
		closedir(dir);
	} while (added);
	return 0;
}

int procs_seed(struct procs *pr, pid_t pid, bool descendants)
{
	int err;

	if (pr->mode == PROCS_NONE || pr->mode == PROCS_ALL)
		return 0;
	err = probe_track(pr->s->probe, pid);
	if (err)
		return err;
	if (!pr->root)
		pr->root = pid;
	if (descendants && !pr->s->opts->no_follow)
		return seed_descendants(pr);
	return 0;
}

pid_t procs_link_pid(const struct procs *pr, pid_t pid)
{
	if (!pr || pr->mode == PROCS_NONE)
		return pid;
	if (pr->mode == PROCS_ALL || !pr->s->opts->no_follow)
		return -1;
	return pid;
}

int procs_events_fd(const struct procs *pr)
{
	return pr ? probe_events_fd(pr->s->probe) : -1;
}

bool procs_following(const struct procs *pr)
{
	return pr && (pr->mode == PROCS_RUN || pr->mode == PROCS_ATTACH) &&
	       !pr->s->opts->no_follow;
}

bool procs_done(struct procs *pr)
{
	long n = probe_tracked(pr->s->probe, pr->scratch, MAX_TRACKED);
	long left = n;

	if (n < 0)
		return false;	/* cannot tell: keep collecting */
	if (n > MAX_TRACKED)
		return false;
	/*
	 * Exits remove their process in BPF; this catches what was seeded
	 * from /proc and died before it was in the map.
	 */
	for (long i = 0; i < n; i++) {
		if (!alive(pr->scratch[i])) {
			probe_untrack(pr->s->probe, pr->scratch[i]);
			left--;
		}
	}
	return left == 0;
}

/* ---- events ---------------------------------------------------------------- */

static int hold(struct procs *pr, pid_t pid)
{
	if (ARRAY_GROW(pr->held, pr->cap_held, pr->nheld + 1, 8))
		return -ENOMEM;
	pr->held[pr->nheld++] = pid;
	return 0;
}

static void release_all(struct procs *pr)
{
	for (size_t i = 0; i < pr->nheld; i++)
		if (kill(pr->held[i], SIGCONT) && errno != ESRCH)
			warning("cannot continue pid %d: %s", pr->held[i], strerror(errno));
	pr->nheld = 0;
}

/*
 * Where to read a new module from: its path when that still names the
 * mapped file, else the /proc magic link (@proc_link), which always does
 * while the process lives.  Stores a malloc'd path in *@open_path.
 */
static int pick_open_path(const char *path, const char *proc_link, const struct stat *mapped,
			  char **open_path)
{
	struct stat st;

	if (path && path[0] == '/' && !stat(path, &st) && st.st_dev == mapped->st_dev &&
	    st.st_ino == mapped->st_ino)
		*open_path = strdup(path);
	else
		*open_path = strdup(proc_link);
	return *open_path ? 0 : -ENOMEM;
}

/*
 * Makes room in the drain for the table's new sites.  Under drain_lock:
 * the ring's thread may be draining.  Totals carry over; the new sites
 * start at zero.
 */
static int grow_drain(struct session *s)
{
	struct drain d;
	int err;

	pthread_mutex_lock(&s->drain_lock);
	err = drain_init(&d, s->drain.counters, s->table->nsites, s->drain.pc_base);
	if (!err) {
		memcpy(d.totals, s->drain.totals, s->drain.nsites * sizeof(*d.totals));
		d.ndrains = s->drain.ndrains;
		d.ndrains_hit = s->drain.ndrains_hit;
		d.hits = s->drain.hits;
		drain_fini(&s->drain);
		s->drain = d;
	}
	pthread_mutex_unlock(&s->drain_lock);
	return err;
}

/*
 * Appends the file @open_path (reported as @display) as a new module and
 * attaches it.  Failures are warnings: the collection goes on without it.
 */
static int add_module(struct procs *pr, const char *open_path, const char *display,
		      const char *what)
{
	struct session *s = pr->s;
	struct site_options so = s->opts->sites;
	size_t module = s->table->nmodules;
	const char *why = NULL;
	int err;

	so.debug_file = NULL;	/* --debug-file is the main module's */
	/* Appended: the sites already there keep their indexes and PCs. */
	err = sites_libs_add_module(s->table, &s->opts->modules, &so, open_path, display, &why);
	if (!err && s->table->nsites > probe_capacity(s->probe)) {
		site_table_truncate(s->table, module);
		err = -ENOSPC;
	}
	if (err == -ENOSPC) {
		pr->refused++;
		warning("%s %s: its sites do not fit (--max-sites %zu): not covered", what,
			display, probe_capacity(s->probe));
		return 0;
	}
	if (err) {
		info("%s %s: not covered: %s%s%s", what, display, strerror(-err),
		     why ? ": " : "", why ? why : "");
		return 0;
	}
	err = note_modules(pr);
	if (!err)
		err = grow_drain(s);
	if (err)
		return error("out of memory");
	session_sites_grew(s);
	err = probe_attach_module(s->probe, module, open_path, procs_link_pid(pr, pr->root));
	if (err) {
		warning("%s %s: attaching: %s: not covered", what, display, strerror(-err));
		return 0;
	}
	info("%s %s: attached %zu sites (module %zu)", what, display,
	     s->table->modules[module].nsites, module);
	return 0;
}

static int note_exec(struct procs *pr, pid_t pid, const char *path)
{
	void *p;

	if (pr->nexecs == MAX_EXEC_NOTES) {
		pr->execs_dropped++;
		return 0;
	}
	p = reallocarray(pr->execs, pr->nexecs + 1, sizeof(*pr->execs));
	if (!p)
		return -ENOMEM;
	pr->execs = p;
	pr->execs[pr->nexecs].pid = pid;
	pr->execs[pr->nexecs].path = strdup(path);
	if (!pr->execs[pr->nexecs].path)
		return -ENOMEM;
	pr->nexecs++;
	return 0;
}

static int on_exec(struct procs *pr, const struct probe_event *ev)
{
	char link[64], *exe, *open_path = NULL;
	struct stat st;
	int err = 0;

	if (kernel_key_in(pr->initial, pr->ninitial, ev->dev, ev->ino))
		return 0;	/* the covered binary again: its probes are there */
	snprintf(link, sizeof(link), "/proc/%d/exe", ev->pid);
	/* Gone already (not held): the name it exec'd is all there is. */
	if (stat(link, &st))
		return ev->held ? 0 : note_exec(pr, ev->pid, ev->name);
	exe = procfs_readlink(link);
	if (!exe)
		return -ENOMEM;
	if (key_in(pr->initial, pr->ninitial, &st))
		goto out;	/* the covered binary again: its probes are there */
	err = note_exec(pr, ev->pid, exe);
	if (err || !pr->s->opts->follow_exec)
		goto out;
	if (key_in(pr->modules, pr->nmodules, &st)) {
		/* A module already; only the kernel's name for it was unknown. */
		probe_mark_known(pr->s->probe, ev->dev, ev->ino);
		goto out;
	}
	err = pick_open_path(exe, link, &st, &open_path);
	if (!err)
		err = add_module(pr, open_path, exe, "exec");
	/* Covered or not, decided: no more holds for this file. */
	probe_mark_known(pr->s->probe, ev->dev, ev->ino);
out:
	free(open_path);
	free(exe);
	return err;
}

/*
 * Whether a library mapped while running should be covered: with --dlopen
 * every one, else as --libs and --lib say.  --include/--exclude apply
 * either way, when its sites are read (sites_libs_add_module()).
 */
static bool want_library(const struct procs *pr, const char *path)
{
	const struct collect_opts *o = pr->s->opts;

	return o->dlopen || module_selection_covers(&o->modules, path);
}

/*
 * The mapping that contains @addr in process @pid, from /proc/PID/maps:
 * its "START-END" (for /proc/PID/map_files) and its path.
 */
static int find_mapping(pid_t pid, uint64_t addr, char *range, size_t range_size,
			char *path, size_t path_size)
{
	char file[64], line[PATH_MAX + 128];
	int err = -ENOENT;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		int pathpos = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &start, &end, &pathpos) < 2 ||
		    !pathpos || addr < start || addr >= end)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(range, range_size, "%llx-%llx", start, end);
		snprintf(path, path_size, "%s", line + pathpos);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

static int on_mmap(struct procs *pr, const struct probe_event *ev)
{
	char range[64], link[128], path[PATH_MAX], *open_path = NULL;
	struct stat st;
	int err;

	if (find_mapping(ev->pid, ev->addr, range, sizeof(range), path, sizeof(path)))
		return 0;	/* unmapped again, or the process is gone */
	snprintf(link, sizeof(link), "/proc/%d/map_files/%s", ev->pid, range);
	if (stat(link, &st))
		return 0;
	procfs_strip_deleted(path);
	if (key_in(pr->modules, pr->nmodules, &st) || !want_library(pr, path)) {
		probe_mark_known(pr->s->probe, ev->dev, ev->ino);
		return 0;
	}
	err = pick_open_path(path, link, &st, &open_path);
	if (!err)
		err = add_module(pr, open_path, path[0] ? path : link, "library");
	probe_mark_known(pr->s->probe, ev->dev, ev->ino);
	free(open_path);
	return err;
}

static int on_event(void *ctx, const struct probe_event *ev)
{
	struct procs *pr = ctx;
	int err = 0;

	if (ev->held)
		err = hold(pr, ev->pid);
	if (err || pr->closing)
		goto out;
	switch (ev->type) {
	case PROBE_EV_EXIT:
		break;
	case PROBE_EV_EXEC:
		err = on_exec(pr, ev);
		break;
	case PROBE_EV_MMAP:
		err = on_mmap(pr, ev);
		break;
	}
out:
	/* Whatever happened, a held process must not stay stopped. */
	release_all(pr);
	return err;
}

int procs_handle_events(struct procs *pr)
{
	int n;

	if (!pr)
		return 0;
	n = probe_events_consume(pr->s->probe);
	if (n == -ENOMEM)
		return error("out of memory");
	if (n < 0)
		return error("reading process events: %s", strerror(-n));
	return 0;
}

void procs_finish(struct procs *pr)
{
	uint64_t lost;

	if (!pr || pr->mode == PROCS_NONE || pr->mode == PROCS_ALL)
		return;
	release_all(pr);
	lost = probe_lost_events(pr->s->probe);
	if (lost)
		warning("%" PRIu64 " process events were lost (ring buffer full): "
			"execs or libraries may be missing", lost);
	lost = probe_lost_forks(pr->s->probe);
	if (lost)
		warning("%" PRIu64 " child processes were not followed (too many processes)",
			lost);
	if (pr->execs_dropped)
		warning("%" PRIu64 " more execs were not listed in the report",
			pr->execs_dropped);
}

const struct run_exec *procs_execs(const struct procs *pr, size_t *n)
{
	*n = pr ? pr->nexecs : 0;
	return pr ? pr->execs : NULL;
}
