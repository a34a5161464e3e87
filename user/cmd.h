/* SPDX-License-Identifier: MIT */
/* The subcommands, dispatched by main.c.  Each returns its exit code. */
#ifndef UKCOV_CMD_H
#define UKCOV_CMD_H

/* Exit codes of sites/attach; run uses the target's status and 125-127. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* bad input, no privileges, attach or write failed */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_RUN_FAIL = 125,	/* run: ukcov itself failed (as timeout(1), env(1)) */
	EXIT_RUN_NOEXEC = 126,	/* run: command found but not executable */
	EXIT_RUN_NOENT = 127,	/* run: command not found */
};

int cmd_sites(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif /* UKCOV_CMD_H */
