// SPDX-License-Identifier: MIT
/*
 * Privileges: which capabilities committing an output needs (judged from
 * mode bits the test sets itself), the names, resolving the command's user,
 * and dropping and switching in forked children (so this process keeps its
 * own).  Tests that need root skip without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "privs.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/ukcov-privs.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	chmod(dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs @fn in a child; returns its exit status (0: every check held). */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_output_needs_stdout(void **state)
{
	(void)state;
	assert_int_equal(privs_output_needs("-"), 0);
	assert_int_equal(privs_output_needs(NULL), 0);
}

/* Our own directory, writable by its owner bits: nothing to keep. */
static void test_output_needs_own_dir(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	assert_int_equal(privs_output_needs(path), 0);
}

/* The owner bits lack write (even root's): only DAC_OVERRIDE can commit. */
static void test_output_needs_readonly_dir(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	assert_int_equal(chmod(dir, 0500), 0);
	assert_int_equal(privs_output_needs(path), PRIVS_CAP(CAP_DAC_OVERRIDE));
}

/* A directory on the way that cannot be searched counts as well. */
static void test_output_needs_unsearchable_parent(void **state)
{
	char sub[128], path[160];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(path, sizeof(path), "%s/out.txt", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(privs_output_needs(path), 0);
	assert_int_equal(chmod(dir, 0600), 0);
	assert_int_equal(privs_output_needs(path), PRIVS_CAP(CAP_DAC_OVERRIDE));
}

/* A relative path is walked from the working directory, not from "/". */
static void test_output_needs_relative(void **state)
{
	char cwd[4096];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(privs_output_needs("out.txt"), 0);
	assert_int_equal(chmod(dir, 0500), 0);
	assert_int_equal(privs_output_needs("out.txt"), PRIVS_CAP(CAP_DAC_OVERRIDE));
	assert_int_equal(chdir(cwd), 0);
}

static void test_names(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(privs_names(0, buf, sizeof(buf)), "none");
	assert_string_equal(privs_names(PRIVS_CAP(CAP_BPF) | PRIVS_CAP(CAP_PERFMON), buf,
					sizeof(buf)), "CAP_PERFMON,CAP_BPF");
	assert_string_equal(privs_names(PRIVS_CAP(CAP_CHOWN) | PRIVS_CAP(62), buf, sizeof(buf)),
			    "CAP_CHOWN,cap_62");
	/* Truncated, still terminated. */
	privs_names(PRIVS_KEEP_GROWING, buf, 8);
	assert_int_equal(strlen(buf), 7);
}

static void test_user_resolve(void **state)
{
	struct privs_user u;

	(void)state;
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	assert_int_equal(privs_user_resolve(NULL, &u), 0);
	assert_false(u.set);
	privs_user_free(&u);

	assert_int_equal(privs_user_resolve("root", &u), 0);
	assert_true(u.set);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.name, "root");
	assert_true(u.ngroups >= 1);
	privs_user_free(&u);

	assert_int_equal(privs_user_resolve("0", &u), 0);
	assert_true(u.set);
	assert_string_equal(u.name, "root");
	privs_user_free(&u);

	assert_int_equal(privs_user_resolve("ukcov-no-such-user", &u), -ENOENT);
	assert_false(u.set);
	assert_int_equal(privs_user_resolve("", &u), -ENOENT);
}

/* SUDO_UID only counts for root; a malformed one is an error, sudo to root none. */
static void test_user_resolve_sudo(void **state)
{
	struct privs_user u;

	(void)state;
	if (getuid() != 0)
		skip();
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65533", 1);
	assert_int_equal(privs_user_resolve(NULL, &u), 0);
	assert_true(u.set);
	assert_int_equal(u.uid, 65534);
	assert_int_equal(u.gid, 65533);
	assert_true(u.ngroups >= 1);
	privs_user_free(&u);

	setenv("SUDO_UID", "0", 1);
	assert_int_equal(privs_user_resolve(NULL, &u), 0);
	assert_false(u.set);

	setenv("SUDO_UID", "12x", 1);
	assert_int_equal(privs_user_resolve(NULL, &u), -EINVAL);
	setenv("SUDO_UID", "-1", 1);
	assert_int_equal(privs_user_resolve(NULL, &u), -EINVAL);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
}

static int drop_all(void)
{
	uint64_t kept = 1, eff = 1;

	if (privs_drop(0, &kept) || kept)
		return 1;
	if (privs_effective(&eff) || eff)
		return 2;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 3;
	/* Root without capabilities may not look into init's memory. */
	if (getuid() == 0) {
		int fd = open("/proc/1/environ", O_RDONLY);

		if (fd >= 0) {
			close(fd);
			return 4;
		}
	}
	return 0;
}

static void test_drop_all(void **state)
{
	(void)state;
	assert_int_equal(in_child(drop_all), 0);
}

static int drop_keep(void)
{
	uint64_t kept, eff, want = PRIVS_CAP(CAP_SYS_PTRACE) | PRIVS_CAP(CAP_DAC_OVERRIDE);

	if (privs_drop(want, &kept) || kept != want)
		return 1;
	if (privs_effective(&eff) || eff != want)
		return 2;
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
		return 3;	/* gone from the bounding set too */
	if (prctl(PR_CAPBSET_READ, CAP_SYS_PTRACE, 0, 0, 0) != 1)
		return 4;
	/* What was given up cannot be taken back. */
	if (privs_drop(want | PRIVS_CAP(CAP_SYS_ADMIN), &kept) || kept != want)
		return 5;
	return 0;
}

static void test_drop_keeps_only_what_is_asked(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(drop_keep), 0);
}

/* The value of FIELD ("CapEff", "Uid", ...) in /proc/self/status, into @buf. */
static int status_field(const char *field, char *buf, size_t size)
{
	char line[256];
	size_t len = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, len) || line[len] != ':')
			continue;
		/* "Uid:\t0\t0\t0\t0\n" -> "0 0 0 0" */
		size_t o = 0;
		for (char *p = line + len + 1; *p && *p != '\n' && o + 1 < size; p++) {
			if (*p == '\t' || *p == ' ') {
				if (o && buf[o - 1] != ' ')
					buf[o++] = ' ';
			} else {
				buf[o++] = *p;
			}
		}
		while (o && buf[o - 1] == ' ')
			o--;
		buf[o] = '\0';
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/*
 * After the drop, as the kernel reports it: the sets are exactly what was
 * kept, inheritable and ambient empty, no_new_privs set - and the ids
 * untouched: ukcov stays uid 0 (see privs.h for why).
 */
static int drop_status(void)
{
	uint64_t want = PRIVS_CAP(CAP_SYS_PTRACE);
	char hex[32], got[64], ids_before[64], gids_before[64];

	if (status_field("Uid", ids_before, sizeof(ids_before)) ||
	    status_field("Gid", gids_before, sizeof(gids_before)))
		return 1;
	if (privs_drop(want, NULL))
		return 2;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)want);
	if (status_field("CapEff", got, sizeof(got)) || strcmp(got, hex))
		return 3;
	if (status_field("CapPrm", got, sizeof(got)) || strcmp(got, hex))
		return 4;
	if (status_field("CapBnd", got, sizeof(got)) || strcmp(got, hex))
		return 5;
	if (status_field("CapInh", got, sizeof(got)) || strcmp(got, "0000000000000000"))
		return 6;
	if (status_field("CapAmb", got, sizeof(got)) || strcmp(got, "0000000000000000"))
		return 7;
	if (status_field("NoNewPrivs", got, sizeof(got)) || strcmp(got, "1"))
		return 8;
	if (status_field("Uid", got, sizeof(got)) || strcmp(got, ids_before) ||
	    strcmp(got, "0 0 0 0"))
		return 9;
	if (status_field("Gid", got, sizeof(got)) || strcmp(got, gids_before))
		return 10;
	return 0;
}

static void test_drop_status(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(drop_status), 0);
}

/*
 * What uid 0 without capabilities can still do, as privs.h and the README
 * say: write a file root owns by its owner bits; not a file closed to it.
 */
static char owned_path[128], foreign_path[128];

static int drop_then_write(void)
{
	int fd;

	if (privs_drop(0, NULL))
		return 1;
	fd = open(owned_path, O_WRONLY);
	if (fd < 0)
		return 2;
	close(fd);
	fd = open(foreign_path, O_WRONLY);
	if (fd >= 0 || errno != EACCES)
		return 3;
	return 0;
}

static void test_drop_keeps_owner_access(void **state)
{
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(owned_path, sizeof(owned_path), "%s/roots", dir);
	snprintf(foreign_path, sizeof(foreign_path), "%s/nobodys", dir);
	fd = open(owned_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	fd = open(foreign_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chown(foreign_path, 65534, 65534), 0);
	assert_int_equal(in_child(drop_then_write), 0);
}

static int become_nobody(void)
{
	struct privs_user u;
	gid_t groups[8];
	int err;

	if (privs_user_resolve("nobody", &u))
		return 1;
	err = privs_become(&u);
	if (err)
		return 2;
	if (getuid() != u.uid || geteuid() != u.uid || getgid() != u.gid)
		return 3;
	if (getgroups(8, groups) != u.ngroups)
		return 4;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 5;
	/* Once someone else, switching again fails closed. */
	u.uid = 0;
	if (privs_become(&u) == 0)
		return 6;
	privs_user_free(&u);
	return 0;
}

static void test_become(void **state)
{
	struct privs_user none = {};

	(void)state;
	assert_int_equal(privs_become(&none), 0);
	if (geteuid() != 0 || !getpwnam("nobody"))
		skip();
	assert_int_equal(in_child(become_nobody), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_output_needs_stdout),
		T(test_output_needs_own_dir),
		T(test_output_needs_readonly_dir),
		T(test_output_needs_unsearchable_parent),
		T(test_output_needs_relative),
		T(test_names),
		T(test_user_resolve),
		T(test_user_resolve_sudo),
		T(test_drop_all),
		T(test_drop_keeps_only_what_is_asked),
		T(test_drop_status),
		T(test_drop_keeps_owner_access),
		T(test_become),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
