// SPDX-License-Identifier: MIT
/*
 * libukcov: the consumer side of a ukcov ring (include/ukcov/ring.h).
 *
 * Everything here is async-signal-tolerant plumbing around one shared
 * mapping: after ukcov_ring_open() no call allocates, locks or starts a
 * thread, so a fork server may use it from the parent and its children.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ukcov/ring.h"

#define LIB_VERSION_STR(a, b) #a "." #b
#define LIB_VERSION_XSTR(a, b) LIB_VERSION_STR(a, b)

/* How often a waiting consumer looks for a dead or finished collector. */
#define COLLECT_SLICE_MS 20
/* How long ukcov_ring_reset() waits for a timed-out collect's drain. */
#define RESET_WAIT_MS 1000

struct ukcov_ring {
	struct ukcov_ring_header *hdr;
	uint64_t *area;
	size_t map_size;	/* bytes mapped: the whole file */
	uint64_t area_words;	/* as checked at open: the header is writable by others */
	int fd;			/* for the collector's lock (collector_gone()) */
	uint32_t pending;	/* a request that timed out, not served yet */
	bool has_pending;
};

const char *ukcov_lib_version(void)
{
	return LIB_VERSION_XSTR(UKCOV_LIB_VERSION_MAJOR, UKCOV_LIB_VERSION_MINOR);
}

/*
 * Checks @h, a private copy of the header (whoever else can write the file
 * must not change a field between its check and its use), against the
 * file size.  Returns 0 or a negative errno.
 */
static int check_header(const struct ukcov_ring_header *h, uint64_t file_size)
{
	uint64_t area_bytes;

	if (h->magic == 0)
		return -EAGAIN;	/* sized, but the header is not published yet */
	if (h->magic != UKCOV_RING_MAGIC || h->version != UKCOV_RING_VERSION)
		return -EPROTO;
	/* The area must follow a header it does not overlap, 8-byte aligned. */
	if (h->page_size < sizeof(*h) || h->page_size % sizeof(uint64_t) ||
	    h->page_size > file_size)
		return -EINVAL;
	/* area[0] plus at least one PC, and exactly the rest of the file. */
	if (h->area_words < 2 || h->area_words > (file_size - h->page_size) / sizeof(uint64_t))
		return -EINVAL;
	area_bytes = h->area_words * sizeof(uint64_t);
	if (h->page_size + area_bytes != file_size)
		return -EINVAL;
	return 0;
}

struct ukcov_ring *ukcov_ring_open(const char *path)
{
	struct ukcov_ring_header copy;
	struct ukcov_ring *r = NULL;
	void *map = MAP_FAILED;
	struct stat st;
	int fd, err;

	/* O_NONBLOCK: a fifo at @path must fail the checks, not hang open(). */
	fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EPROTO;
		goto out;
	}
	if (st.st_size == 0) {
		err = -EAGAIN;	/* created, not sized yet */
		goto out;
	}
	if ((uint64_t)st.st_size < sizeof(struct ukcov_ring_header) ||
	    (uint64_t)st.st_size > SIZE_MAX) {
		err = -EPROTO;
		goto out;
	}
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	/* Acquire: the magic is stored last, so the copy has every field. */
	copy.magic = __atomic_load_n(&((struct ukcov_ring_header *)map)->magic, __ATOMIC_ACQUIRE);
	memcpy((char *)&copy + sizeof(copy.magic), (char *)map + sizeof(copy.magic),
	       sizeof(copy) - sizeof(copy.magic));
	err = check_header(&copy, st.st_size);
	if (err)
		goto out;
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	r->hdr = map;
	r->area = (uint64_t *)((char *)map + copy.page_size);
	r->map_size = st.st_size;
	r->area_words = copy.area_words;
	r->fd = fd;
	fd = -1;
	map = MAP_FAILED;	/* owned by r now */
out:
	if (map != MAP_FAILED)
		munmap(map, st.st_size);
	if (fd >= 0)
		close(fd);
	if (!r)
		errno = -err;
	return r;
}

uint64_t *ukcov_ring_area(struct ukcov_ring *r)
{
	return r->area;
}

const struct ukcov_ring_header *ukcov_ring_header(struct ukcov_ring *r)
{
	return r->hdr;
}

uint64_t ukcov_ring_dropped(const struct ukcov_ring *r)
{
	return __atomic_load_n(&r->hdr->dropped, __ATOMIC_RELAXED);
}

/*
 * area[0], never beyond the area: whoever else can write the file must not
 * make the caller read past the mapping.
 */
static long area_count(const struct ukcov_ring *r)
{
	uint64_t n = __atomic_load_n(&r->area[0], __ATOMIC_ACQUIRE);

	return n < r->area_words ? (long)n : (long)(r->area_words - 1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * True when nobody will serve another request.  The collector holds a
 * read lock on the ring's first byte (an OFD lock: it goes away with the
 * collector, however it dies, and a reused pid cannot fake it); kill() on
 * collector_pid is the fallback where the lock cannot be queried.
 */
static int collector_gone(const struct ukcov_ring *r)
{
	const struct ukcov_ring_header *h = r->hdr;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	pid_t pid;

	if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == UKCOV_RING_CLOSED)
		return 1;
	if (!fcntl(r->fd, F_OFD_GETLK, &fl))
		return fl.l_type == F_UNLCK;
	pid = __atomic_load_n(&h->collector_pid, __ATOMIC_RELAXED);
	/* EPERM means it exists but belongs to someone else: still alive. */
	return pid > 0 && kill(pid, 0) && errno == ESRCH;
}

/*
 * Waits until request @req is served, the collector is gone, or the
 * monotonic clock reaches @deadline (ns).  Returns 0 (served), -EPIPE or
 * -ETIMEDOUT.  Liveness is looked at only when a wait slice passes with
 * nothing done: a collector that answers costs no system call for it.
 */
static int wait_done(struct ukcov_ring *r, uint32_t req, int64_t deadline)
{
	struct ukcov_ring_header *h = r->hdr;
	uint32_t done;

	for (;;) {
		struct timespec slice = { 0, COLLECT_SLICE_MS * 1000000L };
		int64_t left;

		done = __atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE);
		if ((int32_t)(done - req) >= 0)
			return 0;
		left = deadline - now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		if (left < slice.tv_nsec)
			slice.tv_nsec = left;
		/* Returns at once if done_seq moved since we read it. */
		if (syscall(SYS_futex, &h->done_seq, FUTEX_WAIT, done, &slice, NULL, 0) &&
		    errno == ETIMEDOUT && collector_gone(r)) {
			/* A last drain may have served us just before closing. */
			done = __atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE);
			return (int32_t)(done - req) >= 0 ? 0 : -EPIPE;
		}
	}
}

long ukcov_ring_collect(struct ukcov_ring *r, int timeout_ms)
{
	struct ukcov_ring_header *h = r->hdr;
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ns() + (int64_t)timeout_ms * 1000000;
	int saved_errno = errno;
	uint32_t req;
	int err;

	/* Seq-cst: the request is visible before we look at done_seq. */
	req = __atomic_add_fetch(&h->request_seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &h->request_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	err = wait_done(r, req, deadline);
	if (err == -ETIMEDOUT) {
		r->pending = req;
		r->has_pending = true;
	}
	errno = saved_errno;	/* futex and lock results are ours, not the caller's */
	return err ? err : area_count(r);
}

void ukcov_ring_reset(struct ukcov_ring *r)
{
	/*
	 * A collect that timed out is still to be served: its drain holds
	 * the previous input's PCs and must land before the reset, not in
	 * the next input's area.
	 */
	if (r->has_pending)
		wait_done(r, r->pending, now_ns() + (int64_t)RESET_WAIT_MS * 1000000);
	r->has_pending = false;
	/*
	 * Release: whatever the caller did with the old PCs is done before
	 * the collector can reuse their slots.
	 */
	__atomic_store_n(&r->area[0], 0, __ATOMIC_RELEASE);
}

void ukcov_ring_close(struct ukcov_ring *r)
{
	if (!r)
		return;
	munmap(r->hdr, r->map_size);
	close(r->fd);
	free(r);
}
