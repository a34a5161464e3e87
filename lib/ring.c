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

struct ukcov_ring {
	struct ukcov_ring_header *hdr;
	uint64_t *area;
	size_t map_size;	/* bytes mapped: the whole file */
	uint64_t area_words;	/* as checked at open: the header is writable by others */
};

const char *ukcov_lib_version(void)
{
	return LIB_VERSION_XSTR(UKCOV_LIB_VERSION_MAJOR, UKCOV_LIB_VERSION_MINOR);
}

/* Checks a header against the file size.  Returns 0 or a negative errno. */
static int check_header(const struct ukcov_ring_header *h, uint64_t file_size)
{
	uint64_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	uint64_t area_bytes;

	if (magic == 0)
		return -EAGAIN;	/* sized, but the header is not published yet */
	if (magic != UKCOV_RING_MAGIC || h->version != UKCOV_RING_VERSION)
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
	err = check_header(map, st.st_size);
	if (err)
		goto out;
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	r->hdr = map;
	r->area = (uint64_t *)((char *)map + r->hdr->page_size);
	r->map_size = st.st_size;
	r->area_words = r->hdr->area_words;
	map = MAP_FAILED;	/* owned by r now */
out:
	if (map != MAP_FAILED)
		munmap(map, st.st_size);
	close(fd);	/* the mapping keeps the file */
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

void ukcov_ring_reset(struct ukcov_ring *r)
{
	/*
	 * Release: whatever the caller did with the old PCs is done before
	 * the collector can reuse their slots.
	 */
	__atomic_store_n(&r->area[0], 0, __ATOMIC_RELEASE);
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

/* True when nobody will serve another request. */
static int collector_gone(const struct ukcov_ring_header *h)
{
	pid_t pid = __atomic_load_n(&h->collector_pid, __ATOMIC_RELAXED);

	if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == UKCOV_RING_CLOSED)
		return 1;
	/* EPERM means it exists but belongs to someone else: still alive. */
	return pid > 0 && kill(pid, 0) && errno == ESRCH;
}

long ukcov_ring_collect(struct ukcov_ring *r, int timeout_ms)
{
	struct ukcov_ring_header *h = r->hdr;
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ns() + (int64_t)timeout_ms * 1000000;
	int saved_errno = errno;
	uint32_t req, done;
	long ret;

	/* Seq-cst: the request is visible before we look at done_seq. */
	req = __atomic_add_fetch(&h->request_seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &h->request_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	for (;;) {
		struct timespec slice = { 0, COLLECT_SLICE_MS * 1000000L };
		int64_t left;

		done = __atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE);
		if ((int32_t)(done - req) >= 0) {
			ret = area_count(r);
			break;
		}
		if (collector_gone(h)) {
			/* A last drain may have served us just before closing. */
			done = __atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE);
			ret = (int32_t)(done - req) >= 0 ? area_count(r) : -EPIPE;
			break;
		}
		left = deadline - now_ns();
		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (left < slice.tv_nsec)
			slice.tv_nsec = left;
		/* Returns at once if done_seq moved since we read it. */
		syscall(SYS_futex, &h->done_seq, FUTEX_WAIT, done, &slice, NULL, 0);
	}
	errno = saved_errno;	/* futex and kill results are ours, not the caller's */
	return ret;
}

void ukcov_ring_close(struct ukcov_ring *r)
{
	if (!r)
		return;
	munmap(r->hdr, r->map_size);
	free(r);
}
