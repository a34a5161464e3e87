// SPDX-License-Identifier: MIT
/*
 * ukcov run: start a command with every site of its executable probed from
 * the first instruction, and collect until it exits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "cmd.h"
#include "log.h"
#include "options.h"
#include "privs.h"
#include "session.h"
#include "sites.h"
#include "target.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ukcov run [OPTIONS] -- COMMAND [ARGS...]\n"
"\n"
"Runs COMMAND with a uprobe on every function of its executable and counts\n"
"the hits of COMMAND's process (all its threads) and of every process it\n"
"forks, down the tree (--no-follow: COMMAND's process only).  The probes are\n"
"in place before COMMAND's first instruction.  COMMAND's stdin, stdout and\n"
"stderr are its own; coverage goes where -o says, written when COMMAND and\n"
"every process it started have exited (kcov records stream out at every\n"
"drain).  Processes that exec another binary are listed in the report\n"
"(# exec: PID PATH); --follow-exec covers that binary too, --dlopen the\n"
"libraries they load while running.\n"
"\n"
"Options:\n"
"      --user USER       run COMMAND as USER (a name or uid) with its groups;\n"
"                        default: the invoking user under sudo (SUDO_UID,\n"
"                        SUDO_GID), else ukcov's own credentials\n"
COLLECT_OPTIONS_HELP
"\n"
"Formats:\n"
"  text   one line per site that ran: PC COUNT FUNCTION FILE:LINE MODULE+0xOFFSET\n"
"  kcov   a record per drain: u64 n, then n ascending u64 PCs (little-endian)\n"
"  lcov   an lcov tracefile for genhtml (per source line; best with --sites line)\n"
"  cobertura  Cobertura XML for CI systems (GitLab, Codecov)\n"
"  drcov  DynamoRIO drcov v2 for Lighthouse (needs --sites bb or func)\n"
"\n"
"Exit status: COMMAND's own (128+N if signal N killed it); 125 if ukcov\n"
"failed, 126 if COMMAND is not executable, 127 if it was not found.\n"
"SIGINT/SIGTERM stop the collection: ukcov drains, writes and detaches.\n"
"Once the probes are attached ukcov drops its capabilities but those it\n"
"still needs (ukcov run -v names them).\n"
"\n"
"Examples:\n"
"  ukcov run -o cov.txt -- ./prog --flag input\n"
"  sudo ukcov run -o cov.txt -- ./prog           ./prog runs as the sudo user\n"
"  ukcov run -o cov.kcov -o cov.txt -- ./prog    two formats from one run\n"
"  ukcov run -f kcov -o - -- ./prog | consumer   kcov records on a pipe\n"
"  ukcov run --libs --exclude '*libc.so*' -o cov.txt -- ./prog\n"
"                                 the program and its libraries but libc\n"
"  ukcov run --ring /tmp/cov.ring -- ./server    a live consumer (libukcov)\n"
"                                               asks for each input's PCs\n"
"  ukcov run --follow-exec -o cov.txt -- make test   what the tests exec, too\n");
}

/* "a b c" for the report header; truncated, never fails. */
/* The command line for the report header: one line, an argument per field. */
static void join_args(char *buf, size_t size, char *const argv[])
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && used + 1 < size; i++) {
		if (i)
			buf[used++] = ' ';
		used += escape_str(buf + used, size - used, argv[i]);
	}
	if (used >= size)
		buf[size - 1] = '\0';
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, OPT_USER },
		COLLECT_LONG_OPTIONS, {}
	};
	struct target_child child = { .pid = -1, .go_fd = -1, .exec_fd = -1 };
	struct collect_opts o;
	struct privs_user user = {};
	const char *user_spec = NULL;
	struct session s = { .sigfd = -1 };
	struct run_info ri = { .mode = "count", .exit_status = -1 };
	enum session_end end;
	char cmdline[1024];
	char *path = NULL, *module = NULL;
	int opt, err, signo, pidfd = -1, ret = EXIT_RUN_FAIL;

	collect_opts_init(&o);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, COLLECT_SHORT_OPTIONS, longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (opt == OPT_USER) {
			user_spec = optarg;
			continue;
		}
		err = collect_opts_parse(&o, opt, optarg);
		if (err > 0)
			option_error("run", opt, argv);
		if (err)
			return EXIT_RUN_FAIL;
	}
	if (optind == argc) {
		error("run: no command given (see ukcov run --help)");
		return EXIT_RUN_FAIL;
	}
	if (collect_opts_finish(&o))
		return EXIT_RUN_FAIL;
	argv += optind;

	/* Looked up before anything runs: a wrong --user changes nothing. */
	err = privs_user_resolve(user_spec, &user);
	if (err) {
		if (user_spec)
			error("--user %s: %s", user_spec,
			      err == -ENOENT ? "no such user" : strerror(-err));
		else
			error("SUDO_UID/SUDO_GID: %s", err == -EINVAL ? "not a uid/gid" : strerror(-err));
		return EXIT_RUN_FAIL;
	}
	if (user.set)
		info("running the command as %s (uid %u, gid %u)", user.name,
		     (unsigned int)user.uid, (unsigned int)user.gid);

	path = target_resolve(argv[0]);
	if (!path) {
		err = errno;
		error("%s: %s", argv[0], err == ENOENT ? "command not found" : strerror(err));
		privs_user_free(&user);
		return err == ENOENT ? EXIT_RUN_NOENT : EXIT_RUN_NOEXEC;
	}
	module = realpath(path, NULL);
	if (!module) {
		error("%s: %s", path, strerror(errno));
		goto out;
	}
	join_args(cmdline, sizeof(cmdline), argv);
	ri.target = cmdline;

	ri.site_kind = site_kind_name(o.sites.kind);
	if (session_init(&s, &o))
		goto out;
	s.procs_mode = PROCS_RUN;
	if (session_open_outputs(&s) || session_load_sites(&s, path, module, NULL) ||
	    session_load_probe(&s))
		goto out;

	/* A kcov or drcov stream on stdout must not get the command's output mixed in. */
	for (size_t i = 0; i < o.noutputs; i++)
		if (!strcmp(o.outputs[i].path, "-") && o.outputs[i].format->binary)
			child.stdout_to_stderr = true;
	err = target_spawn(path, argv, &s.saved_mask, &user, &child);
	if (err) {
		error("fork: %s", strerror(-err));
		goto out;
	}
	/* Before the command runs a single instruction with ukcov's privileges around. */
	if (session_attach(&s, NULL, child.pid) || session_drop_privileges(&s))
		goto out;
	pidfd = target_pidfd(child.pid);
	if (pidfd < 0) {
		error("pidfd_open: %s", strerror(-pidfd));
		goto out;
	}
	err = target_release(&child);
	if (err == -ESRCH) {
		/* Killed while the probes were being attached: its status is all there is. */
		ret = target_wait(child.pid, 1);
		child.pid = -1;
		error("%s: died before it could start (%s %d)", argv[0],
		      ret > 128 ? "signal" : "exit status", ret > 128 ? ret - 128 : ret);
		if (ret < 0)
			ret = EXIT_RUN_FAIL;
		goto out;
	}
	if (err) {
		if (child.creds_failed)
			error("running %s as %s: %s", argv[0], user.name, strerror(-err));
		else
			error("%s: %s", argv[0], strerror(-err));
		target_wait(child.pid, 1);
		child.pid = -1;
		ret = child.creds_failed ? EXIT_RUN_FAIL :
		      err == -ENOENT ? EXIT_RUN_NOENT : EXIT_RUN_NOEXEC;
		goto out;
	}
	info("running %s (pid %d)", cmdline, child.pid);

	if (session_collect(&s, pidfd, 0, &end, &signo))
		goto out_running;

	ri.exit_status = target_wait(child.pid, end == SESSION_EXITED);
	if (session_finish(&s, &ri))
		goto out_running;
	if (ri.exit_status < 0) {
		/* Stopped by a signal while the command still runs: it carries on. */
		info("%s (pid %d) keeps running", argv[0], child.pid);
		ret = 128 + signo;
	} else {
		ret = ri.exit_status;
	}
	child.pid = -1;
	goto out;

out_running:
	/* ukcov failed after the command started: leave it alone, it is not ours to kill. */
	child.pid = -1;
out:
	target_discard(&child);
	if (pidfd >= 0)
		close(pidfd);
	session_close(&s);
	privs_user_free(&user);
	free(module);
	free(path);
	return ret;
}
