// SPDX-License-Identifier: MIT
/*
 * Output files that are either complete or absent (see output.h).
 *
 * The file is written unnamed (O_TMPFILE) in the destination directory, or
 * under a dot-temp name from mkostemp() where the filesystem cannot do
 * O_TMPFILE, and only output_commit() gives it its name: linkat() straight
 * to the destination when nothing is there, else a temp name and rename(),
 * which replaces the destination atomically and never follows a symlink
 * there.  Writing in the destination directory keeps the rename on one
 * filesystem, so it cannot degrade into a copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

/* Reports are for people to read: rw-r--r--, minus what the umask removes. */
#define OUTPUT_MODE 0644

/* ".BASENAME.XXXXXX": what a temp name adds to the base name. */
#define TEMP_EXTRA (sizeof(".") - 1 + sizeof(".XXXXXX") - 1)

/* How often a write stuck on a FIFO's reader looks for a pending signal. */
#define OUTPUT_STALL_POLL_MS 100

struct output {
	FILE *file;
	int fd;			/* the file's descriptor, owned by @file */
	bool is_stdout;
	bool in_place;		/* stdout, a device or a FIFO: written as is, no rename */
	bool unnamed;		/* opened with O_TMPFILE: no name until commit */
	int write_err;		/* first write(2) error, as a positive errno */
	char path[PATH_MAX];	/* as given to output_open() */
	char dir[PATH_MAX];	/* directory of @path: "." for a bare name */
	char tmp[PATH_MAX];	/* temp name in @dir when one exists, else "" */
};

/*
 * A FIFO or device is written through a non-blocking descriptor: the
 * caller keeps SIGINT, SIGTERM and SIGHUP blocked (session.c reads them
 * from a signalfd), so a reader that stops reading would otherwise hold
 * ukcov in write(2) where no Ctrl-C reaches it.  Waits until @o->fd takes
 * bytes again; one of those signals waiting to be delivered gives up.
 * Returns 0, or a negative errno (-EINTR for such a signal).
 */
static int output_wait_writable(const struct output *o)
{
	for (;;) {
		struct pollfd p = { .fd = o->fd, .events = POLLOUT };
		sigset_t pending;
		int n = poll(&p, 1, OUTPUT_STALL_POLL_MS);

		/* POLLERR or POLLHUP too: the next write(2) says what happened. */
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (sigpending(&pending) == 0 &&
		    (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
		     sigismember(&pending, SIGHUP) == 1))
			return -EINTR;
	}
}

/*
 * stdio forgets why a write failed: after the error it drops its buffer,
 * and a later fflush() succeeds with errno untouched.  Writing through this
 * cookie keeps the first errno, so commit can say -ENOSPC rather than -EIO.
 */
static ssize_t output_cookie_write(void *cookie, const char *buf, size_t size)
{
	struct output *o = cookie;
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(o->fd, buf + done, size - done);

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if (err == EAGAIN) {
				err = -output_wait_writable(o);
				if (!err)
					continue;
			}
			if (!o->write_err)
				o->write_err = err;
			/* For a caller that reads errno after a failed fprintf(). */
			errno = err;
			break;
		}
		done += n;
	}
	/* A short count marks the stream in error (fopencookie(3)). */
	return done;
}

static int output_cookie_close(void *cookie)
{
	struct output *o = cookie;
	int err = close(o->fd);

	o->fd = -1;
	return err;
}

/* Splits @path into o->dir and the returned base name (inside @path). */
static const char *output_split(struct output *o, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len;

	if (!slash) {
		strcpy(o->dir, ".");
		return path;
	}
	/* "/name": the directory is "/", not "". */
	len = slash == path ? 1 : (size_t)(slash - path);
	memcpy(o->dir, path, len);
	o->dir[len] = '\0';
	return slash + 1;
}

/*
 * Writes "DIR/.BASE." to @buf (of PATH_MAX bytes) and returns its length;
 * the caller appends six characters.  @base is cut so that the temp name
 * stays within NAME_MAX; output_open() checked that it fits PATH_MAX.
 */
static size_t output_temp_prefix(const struct output *o, char *buf)
{
	const char *base = strrchr(o->path, '/');
	size_t baselen;

	base = base ? base + 1 : o->path;
	baselen = strlen(base);
	if (baselen > NAME_MAX - TEMP_EXTRA)
		baselen = NAME_MAX - TEMP_EXTRA;
	return snprintf(buf, PATH_MAX, "%s%s.%.*s.", o->dir,
			strcmp(o->dir, "/") ? "/" : "", (int)baselen, base);
}

/*
 * Whether @st, found at the output path, was planted by someone else: the
 * rule of the kernel's protected_fifos and protected_regular (at level 2),
 * which guard only O_CREAT opens and so not ukcov's.  In a sticky
 * directory that others may write (/tmp), a FIFO or file that belongs
 * neither to ukcov's user nor to the directory's owner was put there by
 * another user, to be written into, or to race ukcov.
 */
static bool output_planted(const struct output *o, const struct stat *st)
{
	struct stat dir;

	if (st->st_uid == geteuid() || stat(o->dir, &dir))
		return false;
	return (dir.st_mode & S_ISVTX) && (dir.st_mode & (S_IWOTH | S_IWGRP)) &&
	       st->st_uid != dir.st_uid;
}

static const char why_symlink[] = "refusing to follow a symlink";
static const char why_planted[] =
	"another user's file in a sticky directory others can write; refused like the kernel's protected_regular";

/*
 * Refuses what output.h promises never to replace.  Returns 0 when o->path
 * is missing or a regular file ukcov may replace, else a negative errno and
 * a reason in *@why (may be NULL).
 */
static int output_check_dest(const struct output *o, const char **why)
{
	const char *unused;
	struct stat st;

	why = why ? why : &unused;
	if (lstat(o->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		*why = why_symlink;
		return -ELOOP;
	}
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file, FIFO or character device";
		return -EINVAL;
	}
	if (output_planted(o, &st)) {
		*why = why_planted;
		return -EACCES;
	}
	return 0;
}

/* The named-temp fallback for filesystems without O_TMPFILE. */
static int output_open_named(struct output *o)
{
	size_t len = output_temp_prefix(o, o->tmp);
	mode_t mask;
	int fd;

	memcpy(o->tmp + len, "XXXXXX", sizeof("XXXXXX"));
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		o->tmp[0] = '\0';
		return err;
	}
	/*
	 * mkostemp() creates 0600; give the report the mode O_TMPFILE would.
	 * umask() can only be read by setting it; ukcov opens its outputs
	 * before it starts threads or children, so the window is harmless.
	 */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, OUTPUT_MODE & ~mask) < 0) {
		int err = -errno;

		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return err;
	}
	return fd;
}

/*
 * An unnamed file in the destination directory (O_TMPFILE), or a named
 * temp file where the filesystem lacks O_TMPFILE.  Returns the fd or a
 * negative errno, with a reason in *@why for the unusual ones.
 */
static int output_open_unnamed(struct output *o, const char **why)
{
	int fd;

	fd = open(o->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, OUTPUT_MODE);
	if (fd >= 0) {
		o->unnamed = true;
		return fd;
	}
	/* No O_TMPFILE here: EISDIR/EINVAL from kernels or filesystems that
	 * do not know the flag. */
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	fd = output_open_named(o);
	/*
	 * The directory exists (a missing one fails O_TMPFILE with ENOENT
	 * first), yet creating in it says ENOENT: a pseudo-filesystem such
	 * as /proc, where `-o /proc/version` must not read "No such file".
	 */
	if (fd == -ENOENT) {
		*why = "its filesystem cannot hold new files, like /proc";
		return -EOPNOTSUPP;
	}
	return fd;
}

/*
 * Opens the existing FIFO or character device at o->path, described by
 * @st, to be written in place.  Returns the fd or a negative errno, with a
 * reason in *@why.
 */
static int output_open_in_place(struct output *o, const struct stat *st, const char **why)
{
	struct stat now;
	int fd, err;

	if (S_ISFIFO(st->st_mode) && output_planted(o, st)) {
		*why = "another user's FIFO in a sticky directory others can write; "
		       "refused like the kernel's protected_fifos";
		return -EACCES;
	}
	/*
	 * O_NONBLOCK: opening a FIFO for writing would wait for a reader, and
	 * a serial line for its carrier, with ukcov's signals blocked.  The
	 * descriptor stays non-blocking (output_wait_writable()).
	 */
	fd = open(o->path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENXIO && S_ISFIFO(st->st_mode))
			*why = "a FIFO no process has open for reading: start its reader first";
		else if (err == -ELOOP)
			*why = why_symlink;
		return err;
	}
	/* What lstat() saw, still: not a file swapped in since, written in place. */
	if (fstat(fd, &now) || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		close(fd);
		*why = "it was replaced while being opened";
		return -EAGAIN;
	}
	return fd;
}

struct output *output_open(const char *path, const char **why)
{
	cookie_io_functions_t io = {
		.write = output_cookie_write,
		.close = output_cookie_close,
	};
	struct output *o = NULL;
	const char *base, *unused;
	struct stat st;
	int err = 0, fd = -1;

	why = why ? why : &unused;
	*why = NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->fd = -1;

	if (strcmp(path, "-") == 0) {
		o->is_stdout = true;
		o->in_place = true;
		o->file = stdout;
		o->fd = STDOUT_FILENO;
		strcpy(o->path, path);
		return o;
	}

	/* Room for the path, and for the temp name next to it. */
	if (strlen(path) + sizeof("./") + TEMP_EXTRA > PATH_MAX) {
		err = -ENAMETOOLONG;
		goto out;
	}
	strcpy(o->path, path);
	base = output_split(o, o->path);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		err = -EISDIR;
		goto out;
	}

	/*
	 * A device or a FIFO (-o /dev/null, a named pipe to a consumer) cannot
	 * be replaced atomically and holds nothing to protect: it is written
	 * in place, like stdout.
	 */
	if (lstat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		fd = output_open_in_place(o, &st, why);
		if (fd < 0) {
			err = fd;
			goto out;
		}
		o->in_place = true;
	} else {
		err = output_check_dest(o, why);
		if (err)
			goto out;
		fd = output_open_unnamed(o, why);
		if (fd < 0) {
			err = fd;
			goto out;
		}
	}
	o->fd = fd;

	o->file = fopencookie(o, "w", io);
	if (!o->file) {
		err = -errno;
		goto out;
	}
	return o;

out:
	if (fd >= 0)
		close(fd);
	if (o->tmp[0])
		unlink(o->tmp);
	free(o);
	errno = -err;
	return NULL;
}


FILE *output_file(struct output *o)
{
	return o->file;
}

const char *output_path(const struct output *o)
{
	return o->path;
}

bool output_is_tty(const struct output *o)
{
	return o->in_place && isatty(o->fd);
}

/* Gives the unnamed file (o->fd) the name @to.  Returns 0 or a negative errno. */
static int output_linkat(const struct output *o, const char *to)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	/* No /proc: AT_EMPTY_PATH does the same with CAP_DAC_READ_SEARCH. */
	if (errno == ENOENT && linkat(o->fd, "", AT_FDCWD, to, AT_EMPTY_PATH) == 0)
		return 0;
	return -errno;
}

/*
 * Names the unnamed file.  When nothing is at o->path, linkat() gives it
 * that name in one step: whenever ukcov dies, SIGKILL included, either the
 * complete file is there or nothing is.  linkat() refuses an existing
 * destination, so replacing a file takes a temp name in the directory
 * (o->tmp) that rename() then puts in place: a SIGKILL between the two
 * leaves that complete temp file behind.  Returns 0 (o->tmp is "" when
 * the file is already at o->path) or a negative errno.
 */
static int output_link_unnamed(struct output *o)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t len;
	int err = output_linkat(o, o->path);

	if (err != -EEXIST)
		return err;
	len = output_temp_prefix(o, o->tmp);
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		size_t i;

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			o->tmp[0] = '\0';
			return -EIO;
		}
		for (i = 0; i < sizeof(rnd); i++)
			o->tmp[len + i] = chars[rnd[i] % (sizeof(chars) - 1)];
		o->tmp[len + i] = '\0';
		err = output_linkat(o, o->tmp);
		if (err != -EEXIST) {
			if (err)
				o->tmp[0] = '\0';
			return err;
		}
	}
	o->tmp[0] = '\0';
	return -EEXIST;
}

int output_commit(struct output *o)
{
	bool named_in_place = false;
	struct stat st;
	int err = 0;

	if (o->is_stdout) {
		if (fflush(stdout) == EOF)
			err = -errno;
		else if (ferror(stdout))
			err = -EIO;
		free(o);
		return err;
	}
	if (o->in_place) {
		if (fflush(o->file) == EOF || ferror(o->file))
			err = o->write_err ? -o->write_err : -EIO;
		goto out;
	}

	if (fflush(o->file) == EOF || ferror(o->file)) {
		err = o->write_err ? -o->write_err : -EIO;
		goto out;
	}
	/* Delayed allocation can still fail here (ENOSPC, EDQUOT, EIO). */
	if (fsync(o->fd) < 0 || fstat(o->fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	/*
	 * Refuse a symlink, directory or planted file that appeared since
	 * output_open().  This is not what keeps a racing symlink from being
	 * followed: linkat() and rename() never write through one.  It keeps
	 * ukcov from silently clobbering something just put there.
	 */
	err = output_check_dest(o, NULL);
	if (err)
		goto out;
	if (o->unnamed) {
		err = output_link_unnamed(o);
		if (err)
			goto out;
		named_in_place = !o->tmp[0];
	}
	/* NFS reports some write errors only at close. */
	if (fclose(o->file) == EOF) {
		struct stat now;

		o->file = NULL;
		err = o->write_err ? -o->write_err : -errno;
		/* Named already: take back the name, if it is still this file's. */
		if (named_in_place && !lstat(o->path, &now) &&
		    now.st_dev == st.st_dev && now.st_ino == st.st_ino)
			unlink(o->path);
		goto out;
	}
	o->file = NULL;
	if (o->tmp[0]) {
		if (rename(o->tmp, o->path) < 0) {
			err = -errno;
			goto out;
		}
		o->tmp[0] = '\0';
	}

out:
	output_abort(o);
	return err;
}

void output_abort(struct output *o)
{
	if (!o)
		return;
	if (!o->is_stdout && o->file)
		fclose(o->file);
	if (o->tmp[0])
		unlink(o->tmp);
	free(o);
}
