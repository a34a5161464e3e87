// SPDX-License-Identifier: MIT
/* ukcov attach: coverage of a process that is already running. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "cmd.h"
#include "log.h"
#include "options.h"
#include "procfs.h"
#include "session.h"
#include "sites.h"
#include "target.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ukcov attach -p PID [OPTIONS]\n"
"       ukcov attach --all [OPTIONS] BINARY\n"
"\n"
"Probes every function of the executable that process PID runs and counts\n"
"what that process (all its threads) and its descendants (those running and\n"
"those it forks from now on; not with --no-follow) execute from now on.\n"
"Ends at Ctrl-C (SIGINT) or SIGTERM, after --duration, or when the process\n"
"and its followed descendants have exited; then the probes are removed and\n"
"the coverage is written.  The process is not stopped or restarted; once\n"
"ukcov is gone it runs at native speed again.\n"
"\n"
"With --all, counts every process on the system that runs BINARY (or maps\n"
"it), now or later, until Ctrl-C or --duration.\n"
"\n"
"Options:\n"
"  -p, --pid PID         the process to cover\n"
"      --all             cover every process running BINARY, system-wide\n"
"  -d, --duration DUR    stop after DUR (e.g. 500ms, 5s, 2m)\n"
COLLECT_OPTIONS_HELP
"\n"
"Exit status: 0 when coverage was written, 1 on failure, 2 on a bad command line.\n"
"\n"
"Examples:\n"
"  ukcov attach -p $(pidof mydaemon) -o cov.txt      until Ctrl-C\n"
"  ukcov attach -p 1234 --duration 10s -o cov.kcov\n"
"  ukcov attach -p 1234 --libs --include '*libssl*' -o cov.txt   one library\n"
"  ukcov attach -p 1234 --ring /tmp/cov.ring        per-request PCs (libukcov)\n"
"  ukcov attach --all --duration 1m -o cov.txt /usr/sbin/mydaemon\n");
}

/*
 * attach --all: every process mapping @binary, system-wide, with no pid
 * filter anywhere; ends at a signal or after @duration only.
 */
static int attach_all(const struct collect_opts *o, const char *binary, uint64_t duration)
{
	struct session s = { .sigfd = -1 };
	struct run_info ri = { .mode = "count", .exit_status = -1 };
	char target[PATH_MAX + 64], name[PATH_MAX];
	enum session_end end;
	char *path;
	int signo, ret = EXIT_FAIL;

	path = realpath(binary, NULL);
	if (!path) {
		error("%s: %s", binary, strerror(errno));
		return EXIT_FAIL;
	}
	escape_str(name, sizeof(name), path);
	snprintf(target, sizeof(target), "all processes (%s)", name);
	ri.target = target;
	ri.site_kind = site_kind_name(o->sites.kind);
	if (session_init(&s, o))
		goto out;
	s.procs_mode = PROCS_ALL;
	if (session_open_outputs(&s) || session_load_sites(&s, path, path, NULL) ||
	    session_load_probe(&s) || session_attach(&s, NULL, -1) ||
	    session_drop_privileges(&s))
		goto out;
	fprintf(stderr, "ukcov: attached to every process running %s (%zu sites); Ctrl-C to stop\n",
		path, s.table->nsites);
	if (session_collect(&s, -1, duration, &end, &signo))
		goto out;
	info("stopping: %s", end == SESSION_TIMED_OUT ? "duration elapsed" : strsignal(signo));
	if (session_finish(&s, &ri))
		goto out;
	ret = EXIT_OK;
out:
	session_close(&s);
	free(path);
	return ret;
}

int cmd_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'A' },
		COLLECT_LONG_OPTIONS, {}
	};
	struct session s = { .sigfd = -1 };
	struct run_info ri = { .mode = "count", .exit_status = -1 };
	struct collect_opts o;
	enum session_end end;
	char target[PATH_MAX + 64], exe_link[64], name[PATH_MAX];
	char *exe = NULL;
	bool all = false;
	uint64_t duration = 0;
	int opt, err, signo, pid = 0, pidfd = -1, ret = EXIT_FAIL;

	collect_opts_init(&o);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, COLLECT_SHORT_OPTIONS "p:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'p':
			if (pid) {
				error("attach: -p given twice: one process per ukcov (-p PID)");
				return EXIT_USAGE;
			}
			if (parse_pid(optarg, &pid)) {
				error("attach: bad pid '%s'", optarg);
				return EXIT_USAGE;
			}
			continue;
		case 'A':
			all = true;
			continue;
		case 'd':
			if (parse_duration_ms(optarg, &duration) || !duration) {
				error("attach: bad duration '%s': want e.g. 500ms, 5s or 2m", optarg);
				return EXIT_USAGE;
			}
			continue;
		}
		err = collect_opts_parse(&o, opt, optarg);
		if (err > 0)
			option_error("attach", opt, argv);
		if (err)
			return EXIT_USAGE;
	}
	if (all) {
		if (pid) {
			error("attach: give either -p PID or --all BINARY, not both");
			return EXIT_USAGE;
		}
		if (optind + 1 != argc) {
			error("attach: --all needs exactly one BINARY (see ukcov attach --help)");
			return EXIT_USAGE;
		}
		/* Nothing is tracked: there is no process to follow from. */
		if (o.no_follow || o.follow_exec || o.dlopen) {
			error("attach: --all covers one binary in every process; "
			      "--no-follow, --follow-exec and --dlopen need -p PID");
			return EXIT_USAGE;
		}
		/*
		 * Without a process set, a library's hits would count in every
		 * process on the system that maps it, not in BINARY's.
		 */
		if (o.modules.all_libs || o.modules.nlibs) {
			error("attach: --all counts every process mapping BINARY; with --lib/--libs "
			      "it would count unrelated processes' library calls: give the library "
			      "itself as BINARY, or use -p PID");
			return EXIT_USAGE;
		}
		if (collect_opts_finish(&o))
			return EXIT_USAGE;
		return attach_all(&o, argv[optind], duration);
	}
	if (optind != argc) {
		error("attach: unexpected argument '%s' (see ukcov attach --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (!pid) {
		error("attach: which process? give -p PID (see ukcov attach --help)");
		return EXIT_USAGE;
	}
	if (collect_opts_finish(&o))
		return EXIT_USAGE;

	ri.site_kind = site_kind_name(o.sites.kind);
	if (session_init(&s, &o))
		goto out;
	s.procs_mode = PROCS_ATTACH;
	/* The pidfd first: from here on, pid reuse cannot make us probe another process. */
	pidfd = target_pidfd(pid);
	if (pidfd == -ESRCH) {
		error("no process with pid %d", pid);
		goto out;
	} else if (pidfd == -EINVAL) {
		error("%d is not a process id (a thread id?)", pid);
		goto out;
	} else if (pidfd < 0) {
		error("pidfd_open %d: %s", pid, strerror(-pidfd));
		goto out;
	}
	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", pid);
	exe = procfs_readlink(exe_link);
	if (!exe) {
		if (errno == ENOENT)
			error("pid %d has no executable (a kernel thread, or exiting)", pid);
		else if (errno == EACCES || errno == EPERM)
			error("pid %d: reading /proc/%d/exe: %s (needs CAP_SYS_PTRACE for a process of "
			      "another user, or one that is not dumpable)", pid, pid, strerror(errno));
		else
			error("pid %d: reading /proc/%d/exe: %s", pid, pid, strerror(errno));
		goto out;
	}
	/*
	 * Sites are read from, and probes attached to, /proc/PID/exe: it names
	 * the inode the process maps even after the file was replaced on disk.
	 */
	escape_str(name, sizeof(name), exe);
	snprintf(target, sizeof(target), "pid %d (%s)", pid, name);
	ri.target = target;

	/*
	 * --libs: the files the process maps, each read and probed through
	 * /proc/PID/map_files/...; so every module has its own open_path and
	 * none needs the override.
	 */
	s.libs_pid = pid;
	if (session_open_outputs(&s) || session_load_sites(&s, exe_link, exe, NULL) ||
	    session_load_probe(&s) || session_attach(&s, NULL, pid) ||
	    session_drop_privileges(&s))
		goto out;
	fprintf(stderr, "ukcov: attached to pid %d (%zu sites); Ctrl-C to stop\n", pid,
		s.table->nsites);

	if (session_collect(&s, pidfd, duration, &end, &signo))
		goto out;
	info("stopping: %s", end == SESSION_EXITED ? "process exited" :
	     end == SESSION_TIMED_OUT ? "duration elapsed" : strsignal(signo));
	if (session_finish(&s, &ri))
		goto out;
	ret = EXIT_OK;
out:
	if (pidfd >= 0)
		close(pidfd);
	session_close(&s);
	free(exe);
	return ret;
}
