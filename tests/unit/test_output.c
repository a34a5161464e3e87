// SPDX-License-Identifier: MIT
/*
 * Output files: complete at commit, absent otherwise, and never written
 * through a symlink.  Each test works in a fresh mkdtemp() directory and
 * checks the directory listing, not just return values.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "output.h"

/*
 * The named-temp fallback only runs on filesystems without O_TMPFILE.  To
 * test it anywhere, this definition of open() takes the place of libc's
 * for output.c (the executable's symbol wins) and, when asked, fails
 * O_TMPFILE as such a filesystem would.
 */
static bool no_tmpfile;

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (no_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* ---- helpers ------------------------------------------------------------- */

struct fixture {
	char dir[64];
	char path[PATH_MAX];	/* dir/out.txt */
	char mnt[128];		/* a tmpfs mount point, when mounted */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/ukcov-test-output.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/out.txt", fx->dir);
	no_tmpfile = false;
	*state = fx;
	return 0;
}

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];
	struct stat st;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			chmod(p, 0700);
			rm_rf(p);
		} else {
			unlink(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->mnt[0]) {
		umount(fx->mnt);
		rmdir(fx->mnt);
	}
	chmod(fx->dir, 0700);
	rm_rf(fx->dir);
	free(fx);
	no_tmpfile = false;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in @dir joined with '\n' ("" when empty).  Caller frees. */
static char *listing(const char *dir)
{
	char *names[64], *out;
	size_t n = 0, len = 1, i;
	struct dirent *e;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		assert_true(n < 64);
		names[n] = strdup(e->d_name);
		assert_non_null(names[n]);
		len += strlen(names[n]) + 1;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	out = calloc(1, len);
	assert_non_null(out);
	for (i = 0; i < n; i++) {
		strcat(out, names[i]);
		strcat(out, "\n");
		free(names[i]);
	}
	return out;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The whole file as a string.  Caller frees. */
static char *read_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	assert_non_null(m);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

static void assert_listing(const char *dir, const char *expect)
{
	char *got = listing(dir);

	assert_string_equal(got, expect);
	free(got);
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* ---- writing and committing ---------------------------------------------- */

static void test_commit_creates_file(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	struct stat st;
	char *got;

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	assert_string_equal(output_path(o), fx->path);
	assert_false(output_is_tty(o));
	fprintf(output_file(o), "hello %d\n", 42);
	assert_int_equal(output_commit(o), 0);

	assert_listing(fx->dir, "out.txt\n");
	got = read_file(fx->path);
	assert_string_equal(got, "hello 42\n");
	free(got);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644 & ~current_umask());
}

/* Honour the umask: a restrictive one makes a restrictive file. */
static void test_commit_honours_umask(void **state)
{
	struct fixture *fx = *state;
	mode_t old = umask(077);
	struct output *o;
	struct stat st;

	o = output_open(fx->path, NULL);
	umask(old);
	assert_non_null(o);
	assert_int_equal(output_commit(o), 0);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* Writing more than stdio buffers still ends up whole. */
static void test_commit_large(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	struct stat st;
	int i;

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	for (i = 0; i < 100000; i++)
		fprintf(output_file(o), "%08d\n", i);
	assert_int_equal(output_commit(o), 0);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_size, 100000 * 9);
}

static void test_nothing_visible_before_commit(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char *got;

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("data\n", output_file(o));
	assert_int_equal(fflush(output_file(o)), 0);
	/* O_TMPFILE: no entry at all; the fallback: only its dot-temp. */
	got = listing(fx->dir);
	if (got[0]) {
		assert_int_equal(strlen(got), strlen(".out.txt.XXXXXX\n"));
		assert_int_equal(strncmp(got, ".out.txt.", 9), 0);
	}
	assert_int_equal(access(fx->path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	free(got);
	assert_int_equal(output_commit(o), 0);
	assert_listing(fx->dir, "out.txt\n");
}

/* tmpfs and ext4 both do O_TMPFILE: prove it is the path taken. */
static void test_unnamed_before_commit(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	int fd;

	fd = open(fx->dir, O_TMPFILE | O_WRONLY, 0600);
	if (fd < 0)
		skip();
	close(fd);

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("data\n", output_file(o));
	assert_int_equal(fflush(output_file(o)), 0);
	assert_listing(fx->dir, "");
	output_abort(o);
}

static void test_abort_leaves_dir_unchanged(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char other[PATH_MAX], *before;

	snprintf(other, sizeof(other), "%s/other.kcov", fx->dir);
	write_file(other, "x");
	before = listing(fx->dir);

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("discard me\n", output_file(o));
	output_abort(o);

	assert_listing(fx->dir, before);
	free(before);
	output_abort(NULL);
}

static void test_replace_is_atomic(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	struct stat st;
	char *got;

	write_file(fx->path, "old\n");
	chmod(fx->path, 0600);
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("new content\n", output_file(o));
	assert_int_equal(fflush(output_file(o)), 0);

	got = read_file(fx->path);
	assert_string_equal(got, "old\n");
	free(got);

	assert_int_equal(output_commit(o), 0);
	got = read_file(fx->path);
	assert_string_equal(got, "new content\n");
	free(got);
	assert_listing(fx->dir, "out.txt\n");
	/* A fresh file: the report's mode, not the replaced file's. */
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644 & ~current_umask());
}

static void test_abort_keeps_existing(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char *got;

	write_file(fx->path, "old\n");
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("new\n", output_file(o));
	output_abort(o);
	got = read_file(fx->path);
	assert_string_equal(got, "old\n");
	free(got);
	assert_listing(fx->dir, "out.txt\n");
}

/* A bare file name lands in the current directory. */
static void test_bare_name(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char cwd[PATH_MAX], *got;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(fx->dir), 0);
	o = output_open("bare.txt", NULL);
	if (o) {
		fputs("bare\n", output_file(o));
		assert_int_equal(output_commit(o), 0);
	}
	assert_int_equal(chdir(cwd), 0);
	assert_non_null(o);
	assert_listing(fx->dir, "bare.txt\n");
	snprintf(fx->path, sizeof(fx->path), "%s/bare.txt", fx->dir);
	got = read_file(fx->path);
	assert_string_equal(got, "bare\n");
	free(got);
}

static void test_stdout(void **state)
{
	struct output *o;

	(void)state;
	o = output_open("-", NULL);
	assert_non_null(o);
	assert_ptr_equal(output_file(o), stdout);
	assert_string_equal(output_path(o), "-");
	assert_int_equal(output_is_tty(o), isatty(STDOUT_FILENO) == 1);
	assert_int_equal(output_commit(o), 0);
	/* Still usable: commit flushes stdout, it does not close it. */
	assert_int_not_equal(fcntl(STDOUT_FILENO, F_GETFD), -1);
	output_abort(output_open("-", NULL));
}

/* ---- the named-temp fallback --------------------------------------------- */

static void test_fallback_commit(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	struct stat st;
	char *got;

	no_tmpfile = true;
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("fallback\n", output_file(o));
	assert_int_equal(fflush(output_file(o)), 0);

	got = listing(fx->dir);
	/* ".out.txt.XXXXXX\n" and nothing else */
	assert_int_equal(strlen(got), strlen(".out.txt.XXXXXX\n"));
	assert_int_equal(strncmp(got, ".out.txt.", 9), 0);
	free(got);

	assert_int_equal(output_commit(o), 0);
	assert_listing(fx->dir, "out.txt\n");
	got = read_file(fx->path);
	assert_string_equal(got, "fallback\n");
	free(got);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644 & ~current_umask());
}

static void test_fallback_abort(void **state)
{
	struct fixture *fx = *state;
	struct output *o;

	no_tmpfile = true;
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("fallback\n", output_file(o));
	output_abort(o);
	assert_listing(fx->dir, "");
}

/* ---- refused destinations ------------------------------------------------ */

static void test_symlink_refused(void **state)
{
	struct fixture *fx = *state;
	char target[PATH_MAX], *got;
	struct stat st;

	snprintf(target, sizeof(target), "%s/target", fx->dir);
	write_file(target, "precious\n");
	assert_int_equal(symlink(target, fx->path), 0);

	errno = 0;
	assert_null(output_open(fx->path, NULL));
	assert_int_equal(errno, ELOOP);

	got = read_file(target);
	assert_string_equal(got, "precious\n");
	free(got);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_listing(fx->dir, "out.txt\ntarget\n");
}

static void test_dangling_symlink_refused(void **state)
{
	struct fixture *fx = *state;
	char target[PATH_MAX];

	snprintf(target, sizeof(target), "%s/would-be-created", fx->dir);
	assert_int_equal(symlink(target, fx->path), 0);
	errno = 0;
	assert_null(output_open(fx->path, NULL));
	assert_int_equal(errno, ELOOP);
	assert_listing(fx->dir, "out.txt\n");
}

/* A symlink planted between open and commit is not replaced either. */
static void test_symlink_at_commit_refused(void **state)
{
	struct fixture *fx = *state;
	char target[PATH_MAX], *got;
	struct output *o;
	struct stat st;

	snprintf(target, sizeof(target), "%s/target", fx->dir);
	write_file(target, "precious\n");
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("data\n", output_file(o));
	assert_int_equal(symlink(target, fx->path), 0);

	assert_int_equal(output_commit(o), -ELOOP);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	got = read_file(target);
	assert_string_equal(got, "precious\n");
	free(got);
	assert_listing(fx->dir, "out.txt\ntarget\n");
}

static void test_directory_refused(void **state)
{
	struct fixture *fx = *state;
	char sub[PATH_MAX];

	assert_int_equal(mkdir(fx->path, 0700), 0);
	errno = 0;
	assert_null(output_open(fx->path, NULL));
	assert_int_equal(errno, EISDIR);

	snprintf(sub, sizeof(sub), "%s/", fx->dir);
	errno = 0;
	assert_null(output_open(sub, NULL));
	assert_int_equal(errno, EISDIR);
	assert_listing(fx->dir, "out.txt\n");
}

static void test_directory_at_commit_refused(void **state)
{
	struct fixture *fx = *state;
	struct output *o;

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	assert_int_equal(mkdir(fx->path, 0700), 0);
	assert_int_equal(output_commit(o), -EISDIR);
	assert_listing(fx->dir, "out.txt\n");
}

/* A FIFO is written in place, like stdout: its reader gets the bytes. */
static void test_fifo_written_in_place(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char buf[16] = "";
	int rfd;

	assert_int_equal(mkfifo(fx->path, 0600), 0);
	/* A reader first, or opening for writing would wait for one. */
	rfd = open(fx->path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("kcov", output_file(o));
	assert_int_equal(output_commit(o), 0);
	assert_int_equal(read(rfd, buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "kcov");
	close(rfd);
	assert_listing(fx->dir, "out.txt\n");	/* still the FIFO, nothing beside it */
}

/*
 * A FIFO nobody reads is refused at once, with a reason: opening it for
 * writing would wait for a reader, and ukcov waits with its signals
 * blocked.  The alarm turns the old hang into a failure.
 */
static void test_fifo_without_reader_refused(void **state)
{
	struct fixture *fx = *state;
	const char *why = NULL;

	assert_int_equal(mkfifo(fx->path, 0600), 0);
	alarm(10);
	errno = 0;
	assert_null(output_open(fx->path, &why));
	alarm(0);
	assert_int_equal(errno, ENXIO);
	assert_non_null(why);
	assert_non_null(strstr(why, "reader"));
	assert_listing(fx->dir, "out.txt\n");
}

/*
 * A reader that stops reading: with SIGINT blocked and pending, as in
 * ukcov's collection loop, the write gives up instead of waiting forever.
 */
static void test_fifo_stalled_reader_gives_up_on_signal(void **state)
{
	struct fixture *fx = *state;
	struct timespec zero = { 0, 0 };
	sigset_t intr, old;
	struct output *o;
	char block[4096];
	int rfd;

	assert_int_equal(mkfifo(fx->path, 0600), 0);
	rfd = open(fx->path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	sigemptyset(&intr);
	sigaddset(&intr, SIGINT);
	assert_int_equal(sigprocmask(SIG_BLOCK, &intr, &old), 0);
	assert_int_equal(raise(SIGINT), 0);
	alarm(10);
	memset(block, 'k', sizeof(block));
	/* 1 MiB into a 64 KiB pipe nobody drains. */
	for (int i = 0; i < 256; i++)
		fwrite(block, 1, sizeof(block), output_file(o));
	assert_int_equal(output_commit(o), -EINTR);
	alarm(0);
	assert_int_equal(sigtimedwait(&intr, NULL, &zero), SIGINT);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	close(rfd);
}

/* Makes fx->dir a sticky, world-writable directory owned by @uid. */
static void sticky_dir(struct fixture *fx, uid_t uid)
{
	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(fx->dir, 01777), 0);
	assert_int_equal(chown(fx->dir, uid, uid), 0);
}

/*
 * In a sticky directory others can write, a FIFO or file that belongs to
 * another user (neither ukcov's nor the directory owner's) was planted:
 * refused, like the kernel's protected_fifos and protected_regular.
 */
static void test_planted_in_sticky_dir_refused(void **state)
{
	struct fixture *fx = *state;
	const char *why = NULL;
	char *got;
	int rfd;

	sticky_dir(fx, 0);
	assert_int_equal(mkfifo(fx->path, 0622), 0);
	assert_int_equal(chown(fx->path, 65534, 65534), 0);
	rfd = open(fx->path, O_RDONLY | O_NONBLOCK);	/* a reader is no excuse */
	assert_true(rfd >= 0);
	errno = 0;
	assert_null(output_open(fx->path, &why));
	assert_int_equal(errno, EACCES);
	assert_non_null(why);
	assert_non_null(strstr(why, "protected_fifos"));
	close(rfd);
	assert_int_equal(unlink(fx->path), 0);

	write_file(fx->path, "planted\n");
	assert_int_equal(chown(fx->path, 65534, 65534), 0);
	why = NULL;
	errno = 0;
	assert_null(output_open(fx->path, &why));
	assert_int_equal(errno, EACCES);
	assert_non_null(why);
	got = read_file(fx->path);
	assert_string_equal(got, "planted\n");
	free(got);
	assert_listing(fx->dir, "out.txt\n");
}

/* Planted between open and commit: refused at commit, the file untouched. */
static void test_planted_at_commit_refused(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char *got;

	sticky_dir(fx, 0);
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("report\n", output_file(o));
	write_file(fx->path, "planted\n");
	assert_int_equal(chown(fx->path, 65534, 65534), 0);
	assert_int_equal(output_commit(o), -EACCES);
	got = read_file(fx->path);
	assert_string_equal(got, "planted\n");
	free(got);
	assert_listing(fx->dir, "out.txt\n");
}

/* The directory's owner's file is theirs to offer: replaced, as before. */
static void test_dir_owners_file_in_sticky_dir_replaced(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char *got;

	sticky_dir(fx, 65534);
	write_file(fx->path, "old\n");
	assert_int_equal(chown(fx->path, 65534, 65534), 0);
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("new\n", output_file(o));
	assert_int_equal(output_commit(o), 0);
	got = read_file(fx->path);
	assert_string_equal(got, "new\n");
	free(got);
	assert_listing(fx->dir, "out.txt\n");
}

/* -o /proc/version: one clear reason, not "No such file or directory". */
static void test_pseudo_filesystem_refused_clearly(void **state)
{
	const char *why = NULL;

	(void)state;
	if (access("/proc/version", F_OK))
		skip();
	errno = 0;
	assert_null(output_open("/proc/version", &why));
	assert_int_equal(errno, EOPNOTSUPP);
	assert_non_null(why);
	assert_non_null(strstr(why, "cannot hold new files"));
}

/*
 * The names that appear in @dir while @o is committed, as "EVENT NAME\n"
 * lines (create, from, to, delete).  Caller frees.
 */
static char *commit_events(const char *dir, struct output *o, int *ret)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	assert_non_null(m);
	assert_true(inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO |
				      IN_DELETE) >= 0);
	*ret = output_commit(o);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			fprintf(m, "%s %s\n",
				e->mask & IN_CREATE ? "create" : e->mask & IN_MOVED_FROM ? "from" :
				e->mask & IN_MOVED_TO ? "to" : "delete",
				e->len ? e->name : "");
			p += sizeof(*e) + e->len;
		}
	}
	close(fd);
	fclose(m);
	return out;
}

/*
 * A new output gets its name in one step: no other name ever appears in
 * the directory, so no SIGKILL can leave one.
 */
static void test_new_file_named_in_one_step(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char *events;
	int ret;

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("report\n", output_file(o));
	events = commit_events(fx->dir, o, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(events, "create out.txt\n");
	free(events);
	assert_listing(fx->dir, "out.txt\n");
}

/*
 * Replacing a file takes one temp name, renamed over it (the instant a
 * SIGKILL could leave it behind, as the README says).
 */
static void test_replace_goes_through_one_temp_name(void **state)
{
	struct fixture *fx = *state;
	struct output *o;
	char *events, tmp[NAME_MAX + 1], want[3 * (NAME_MAX + 16)];
	int ret;

	write_file(fx->path, "old\n");
	o = output_open(fx->path, NULL);
	assert_non_null(o);
	fputs("new\n", output_file(o));
	events = commit_events(fx->dir, o, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(sscanf(events, "create %255s", tmp), 1);
	assert_int_equal(strncmp(tmp, ".out.txt.", 9), 0);
	assert_int_equal(strlen(tmp), strlen(".out.txt.XXXXXX"));
	snprintf(want, sizeof(want), "create %s\nfrom %s\nto out.txt\n", tmp, tmp);
	assert_string_equal(events, want);
	free(events);
	assert_listing(fx->dir, "out.txt\n");
}

/* -o /dev/null works and leaves /dev/null a device. */
static void test_dev_null_written_in_place(void **state)
{
	struct output *o;
	struct stat st;

	(void)state;
	o = output_open("/dev/null", NULL);
	assert_non_null(o);
	assert_false(output_is_tty(o));
	fputs("discarded", output_file(o));
	assert_int_equal(output_commit(o), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

static void test_missing_directory(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/no/such/out.txt", fx->dir);
	errno = 0;
	assert_null(output_open(path, NULL));
	assert_int_equal(errno, ENOENT);
	assert_listing(fx->dir, "");
}

static void test_name_too_long(void **state)
{
	struct fixture *fx = *state;
	char *path = malloc(PATH_MAX + 16);

	assert_non_null(path);
	memset(path, 'a', PATH_MAX + 15);
	path[PATH_MAX + 15] = '\0';
	memcpy(path, fx->dir, strlen(fx->dir));
	path[strlen(fx->dir)] = '/';
	errno = 0;
	assert_null(output_open(path, NULL));
	assert_int_equal(errno, ENAMETOOLONG);
	free(path);
	assert_listing(fx->dir, "");
}

/* Root ignores permissions, so only an unprivileged run can check this. */
static void test_readonly_directory(void **state)
{
	struct fixture *fx = *state;

	if (geteuid() == 0)
		skip();
	assert_int_equal(chmod(fx->dir, 0500), 0);
	errno = 0;
	assert_null(output_open(fx->path, NULL));
	assert_int_equal(errno, EACCES);
	chmod(fx->dir, 0700);
	assert_listing(fx->dir, "");
}

/* ---- a full filesystem --------------------------------------------------- */

/* Mounts a 64 KiB tmpfs for the test, or skips when that is not allowed. */
static void mount_tiny_tmpfs(struct fixture *fx)
{
	if (geteuid() != 0)
		skip();
	snprintf(fx->mnt, sizeof(fx->mnt), "%s/mnt", fx->dir);
	assert_int_equal(mkdir(fx->mnt, 0700), 0);
	if (mount("ukcov-test", fx->mnt, "tmpfs", MS_NOSUID | MS_NODEV,
		  "size=64k") < 0) {
		rmdir(fx->mnt);
		fx->mnt[0] = '\0';
		skip();
	}
	snprintf(fx->path, sizeof(fx->path), "%s/out.txt", fx->mnt);
}

static void fill_and_commit_enospc(struct fixture *fx)
{
	struct output *o;
	char block[4096];
	int i;

	o = output_open(fx->path, NULL);
	assert_non_null(o);
	memset(block, 'x', sizeof(block));
	/* 256 KiB into 64 KiB; stdio reports the failure, or commit does. */
	for (i = 0; i < 64; i++)
		fwrite(block, 1, sizeof(block), output_file(o));
	assert_int_equal(output_commit(o), -ENOSPC);
	assert_listing(fx->mnt, "");
}

static void test_full_filesystem(void **state)
{
	struct fixture *fx = *state;

	mount_tiny_tmpfs(fx);
	fill_and_commit_enospc(fx);
}

static void test_full_filesystem_fallback(void **state)
{
	struct fixture *fx = *state;

	mount_tiny_tmpfs(fx);
	no_tmpfile = true;
	fill_and_commit_enospc(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_commit_creates_file),
		T(test_commit_honours_umask),
		T(test_commit_large),
		T(test_nothing_visible_before_commit),
		T(test_unnamed_before_commit),
		T(test_abort_leaves_dir_unchanged),
		T(test_replace_is_atomic),
		T(test_abort_keeps_existing),
		T(test_bare_name),
		T(test_stdout),
		T(test_fallback_commit),
		T(test_fallback_abort),
		T(test_symlink_refused),
		T(test_dangling_symlink_refused),
		T(test_symlink_at_commit_refused),
		T(test_directory_refused),
		T(test_directory_at_commit_refused),
		T(test_fifo_written_in_place),
		T(test_fifo_without_reader_refused),
		T(test_fifo_stalled_reader_gives_up_on_signal),
		T(test_planted_in_sticky_dir_refused),
		T(test_planted_at_commit_refused),
		T(test_dir_owners_file_in_sticky_dir_replaced),
		T(test_pseudo_filesystem_refused_clearly),
		T(test_new_file_named_in_one_step),
		T(test_replace_goes_through_one_temp_name),
		T(test_dev_null_written_in_place),
		T(test_missing_directory),
		T(test_name_too_long),
		T(test_readonly_directory),
		T(test_full_filesystem),
		T(test_full_filesystem_fallback),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
