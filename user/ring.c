// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ring.h"

/*
 * How long the serving thread sleeps between looks at its stop flag: a
 * FUTEX_WAKE from ring_serve_stop() normally ends the sleep at once, this
 * only bounds the window where the wake comes before the wait.
 */
#define SERVE_SLICE_MS 100

struct ring {
	char *path;
	int fd;
	dev_t dev;		/* of the file we created: unlink only that one */
	ino_t ino;
	struct ukcov_ring_header *hdr;
	uint64_t *area;
	size_t map_size;
	uint64_t area_words;
	bool published;
	/* the serving thread */
	pthread_t thread;
	bool serving;
	int stop;		/* atomic: ring_serve_stop() asks the thread to end */
	void (*drain)(void *arg);
	void *drain_arg;
};

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	/* Shared futexes: the consumer is another process. */
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

struct ring *ring_create(const char *path, unsigned int mode, uint64_t area_words)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ring *r = NULL;
	bool created = false;
	struct stat st;
	int err;

	if (mode > 0777 || area_words < RING_MIN_WORDS || area_words > RING_MAX_WORDS ||
	    page < (long)sizeof(struct ukcov_ring_header)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = -1;
	r->hdr = MAP_FAILED;
	r->path = strdup(path);
	if (!r->path) {
		err = -ENOMEM;
		goto out;
	}
	/*
	 * O_EXCL|O_NOFOLLOW: an existing file, or a symlink to anywhere
	 * (dangling included), fails here; ukcov runs as root and must not be
	 * talked into clobbering or creating a file elsewhere.  Created 0600,
	 * whatever the umask, until fchmod() gives it exactly @mode.
	 */
	r->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		err = -errno;
		/* A symlink at @path reports EEXIST under O_EXCL: say which. */
		if (err == -EEXIST && !lstat(path, &st) && S_ISLNK(st.st_mode))
			err = -ELOOP;
		goto out;
	}
	created = true;
	if (fstat(r->fd, &st)) {
		err = -errno;
		goto out;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	if (fchmod(r->fd, mode)) {
		err = -errno;
		goto out;
	}
	r->area_words = area_words;
	r->map_size = (size_t)page + area_words * sizeof(uint64_t);
	if (ftruncate(r->fd, r->map_size)) {
		err = -errno;
		goto out;
	}
	/*
	 * Held while this process lives: consumers see a dead collector by
	 * the lock's absence (ukcov/ring.h), which a reused pid cannot fake.
	 * An OFD lock belongs to this open file, not to a pid; the fd is
	 * close-on-exec, so a target forked from us drops it at exec.
	 */
	if (fcntl(r->fd, F_OFD_SETLK, &(struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET,
						       .l_start = 0, .l_len = 1 })) {
		err = -errno;
		goto out;
	}
	r->hdr = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->hdr == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	r->hdr->page_size = page;	/* the rest is published by ring_publish() */
	r->area = (uint64_t *)((char *)r->hdr + page);
	return r;
out:
	if (created)
		unlink(path);
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
	errno = -err;
	return NULL;
}

void ring_publish(struct ring *r, uint64_t nsites, uint64_t pc_base)
{
	struct ukcov_ring_header *h = r->hdr;

	h->version = UKCOV_RING_VERSION;
	h->area_words = r->area_words;
	h->nsites = nsites;
	h->pc_base = pc_base;
	h->collector_pid = getpid();
	h->state = UKCOV_RING_LIVE;
	/* Release: a consumer that sees the magic sees every field above. */
	__atomic_store_n(&h->magic, UKCOV_RING_MAGIC, __ATOMIC_RELEASE);
	r->published = true;
}

void ring_grew(struct ring *r, uint64_t nsites)
{
	/* Before the new sites are attached: no PC of theirs precedes it. */
	__atomic_store_n(&r->hdr->nsites, nsites, __ATOMIC_RELEASE);
}

void ring_append_pcs(struct ring *r, const uint64_t *pcs, size_t n)
{
	uint64_t *count = &r->area[0];
	uint64_t cap = r->area_words - 1;	/* PC slots */
	uint64_t have, k;

	if (n) {
		have = __atomic_load_n(count, __ATOMIC_ACQUIRE);
		for (;;) {
			/* A consumer may have stored anything: never trust it past the end. */
			uint64_t at = have < cap ? have : cap;

			k = n < cap - at ? n : cap - at;
			for (uint64_t i = 0; i < k; i++)
				__atomic_store_n(&r->area[at + 1 + i], pcs[i], __ATOMIC_RELAXED);
			/*
			 * Release publishes the PCs with the count.  If the
			 * consumer reset area[0] since we read it, the CAS fails,
			 * @have becomes the new count and we write again from
			 * there: storing at + k regardless would bring back the
			 * PCs the consumer just threw away.  Even k == 0 goes
			 * through the CAS, so a full area that was reset
			 * meanwhile takes this drain's PCs.
			 */
			if (__atomic_compare_exchange_n(count, &have, at + k, false,
							__ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
				break;
		}
		if (n > k)
			__atomic_add_fetch(&r->hdr->dropped, n - k, __ATOMIC_RELAXED);
	}
}

void ring_drain_done(struct ring *r)
{
	__atomic_add_fetch(&r->hdr->drains, 1, __ATOMIC_RELAXED);
}

void ring_append(struct ring *r, const uint64_t *pcs, size_t n)
{
	ring_append_pcs(r, pcs, n);
	ring_drain_done(r);
}

static void *serve(void *arg)
{
	struct ring *r = arg;
	struct ukcov_ring_header *h = r->hdr;
	uint32_t served = __atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE);

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct timespec slice = { 0, SERVE_SLICE_MS * 1000000L };
		uint32_t req = __atomic_load_n(&h->request_seq, __ATOMIC_ACQUIRE);

		if (req == served) {
			/* Returns at once if request_seq is no longer @served. */
			futex(&h->request_seq, FUTEX_WAIT, served, &slice);
			continue;
		}
		/*
		 * The drain starts after we read @req, so it sees every hit
		 * the consumer caused before making request @req (and any
		 * earlier one: requests that came in meanwhile are served by
		 * this same drain).
		 */
		r->drain(r->drain_arg);
		__atomic_store_n(&h->done_seq, req, __ATOMIC_RELEASE);
		futex(&h->done_seq, FUTEX_WAKE, INT_MAX, NULL);
		served = req;
	}
	return NULL;
}

int ring_serve_start(struct ring *r, void (*drain)(void *arg), void *arg)
{
	int err;

	if (r->serving)
		return -EBUSY;
	r->drain = drain;
	r->drain_arg = arg;
	__atomic_store_n(&r->stop, 0, __ATOMIC_RELAXED);
	err = pthread_create(&r->thread, NULL, serve, r);
	if (err)
		return -err;
	r->serving = true;
	return 0;
}

void ring_serve_stop(struct ring *r)
{
	if (!r || !r->serving)
		return;
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	futex(&r->hdr->request_seq, FUTEX_WAKE, INT_MAX, NULL);
	pthread_join(r->thread, NULL);
	r->serving = false;
}

void ring_close(struct ring *r)
{
	struct ukcov_ring_header *h;

	if (!r || !r->published)
		return;
	h = r->hdr;
	/*
	 * done_seq first: a request made before this point was made before
	 * the last drain's caller stopped the probes (or is for hits that
	 * can no longer happen), so it is answered.  One made after it sees
	 * CLOSED and gets -EPIPE.
	 */
	__atomic_store_n(&h->done_seq, __atomic_load_n(&h->request_seq, __ATOMIC_SEQ_CST),
			 __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->state, UKCOV_RING_CLOSED, __ATOMIC_SEQ_CST);
	futex(&h->done_seq, FUTEX_WAKE, INT_MAX, NULL);
}

void ring_free(struct ring *r, bool keep)
{
	struct stat st;

	if (!r)
		return;
	ring_serve_stop(r);
	ring_close(r);
	munmap(r->hdr, r->map_size);
	/* Only our own file: someone may have put another in its place. */
	if (!keep && !lstat(r->path, &st) && st.st_dev == r->dev && st.st_ino == r->ino)
		unlink(r->path);
	close(r->fd);
	free(r->path);
	free(r);
}

struct ukcov_ring_header *ring_header(struct ring *r)
{
	return r->hdr;
}

uint64_t *ring_area(struct ring *r)
{
	return r->area;
}
