// SPDX-License-Identifier: MIT
/*
 * The ring without BPF: the collector side (user/ring.c) on a plain
 * temporary file, and libukcov (lib/ring.c) against it and against files
 * that are not rings.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ring.h"
#include "ukcov/ring.h"

#define BASE 0xffffffff80000000ULL

static char dir[PATH_MAX];
static char path[PATH_MAX + 16];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/ukcov-ring.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/ring", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static struct ring *new_ring(uint64_t words, uint64_t nsites)
{
	struct ring *r = ring_create(path, 0600, words);

	assert_non_null(r);
	ring_publish(r, nsites, BASE);
	return r;
}

/* ---- collector: appending ---------------------------------------------------- */

static void test_append_in_order_and_counts_drains(void **state)
{
	uint64_t d1[] = { BASE + 1, BASE + 4 }, d2[] = { BASE + 0, BASE + 2, BASE + 3 };
	struct ring *r = new_ring(16, 8);
	uint64_t *a = ring_area(r);

	(void)state;
	ring_append(r, d1, 2);
	ring_append(r, NULL, 0);	/* an idle drain: counted, writes nothing */
	ring_append(r, d2, 3);
	assert_int_equal(a[0], 5);
	assert_int_equal(a[1], BASE + 1);
	assert_int_equal(a[2], BASE + 4);
	assert_int_equal(a[3], BASE + 0);
	assert_int_equal(a[4], BASE + 2);
	assert_int_equal(a[5], BASE + 3);
	assert_int_equal(a[6], 0);	/* nothing past the count */
	assert_int_equal(ring_header(r)->drains, 3);
	assert_int_equal(ring_header(r)->dropped, 0);
	ring_free(r, false);
}

static void test_full_area_drops_exactly_the_rest(void **state)
{
	uint64_t pcs[5] = { BASE + 0, BASE + 1, BASE + 2, BASE + 3, BASE + 4 };
	struct ring *r = new_ring(4, 8);	/* 3 PC slots */
	uint64_t *a = ring_area(r);

	(void)state;
	ring_append(r, pcs, 2);
	ring_append(r, pcs + 2, 3);	/* 1 fits, 2 dropped */
	assert_int_equal(a[0], 3);
	assert_int_equal(a[3], BASE + 2);
	assert_int_equal(ring_header(r)->dropped, 2);
	ring_append(r, pcs, 5);		/* none fit */
	assert_int_equal(a[0], 3);
	assert_int_equal(ring_header(r)->dropped, 7);
	/* After a reset the slots are free again; the count is not rewound. */
	a[0] = 0;
	ring_append(r, pcs + 1, 4);
	assert_int_equal(a[0], 3);
	assert_int_equal(a[1], BASE + 1);
	assert_int_equal(a[3], BASE + 3);
	assert_int_equal(ring_header(r)->dropped, 8);
	ring_free(r, false);
}

static void test_garbage_count_is_not_trusted(void **state)
{
	uint64_t pc = BASE;
	struct ring *r = new_ring(4, 8);
	uint64_t *a = ring_area(r);

	(void)state;
	a[0] = UINT64_MAX;	/* a consumer wrote nonsense: no write past the end */
	ring_append(r, &pc, 1);
	assert_int_equal(a[0], 3);
	assert_int_equal(ring_header(r)->dropped, 1);
	ring_free(r, false);
}

/*
 * A consumer resetting area[0] while drains append: no PC of a drain that
 * had finished before the reset may show up after it.  Drain j appends the
 * 4 PCs BASE + 4j .. BASE + 4j + 3, so a PC names its drain; the consumer
 * notes how many drains had finished before it reset, and every PC it then
 * reads must come from a later drain.  An append that published with a
 * plain store (n + k, not a CAS from n) would bring back PCs of earlier
 * drains in area[1..n].
 */
struct racer {
	struct ring *r;
	uint64_t finished;	/* atomic: drains whose ring_append() returned */
	int stop;
};

static void *append_loop(void *arg)
{
	struct racer *x = arg;
	uint64_t pcs[4];

	for (uint64_t j = 0; !__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE); j++) {
		for (int i = 0; i < 4; i++)
			pcs[i] = BASE + 4 * j + i;
		ring_append(x->r, pcs, 4);
		__atomic_store_n(&x->finished, j + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_reset_during_append_never_resurrects(void **state)
{
	struct racer x = { .r = new_ring(1 << 12, 1 << 20) };
	uint64_t *a = ring_area(x.r);
	unsigned long stale = 0, disorder = 0, nonempty = 0;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, append_loop, &x), 0);
	for (int round = 0; round < 20000; round++) {
		uint64_t before = __atomic_load_n(&x.finished, __ATOMIC_ACQUIRE), n;

		__atomic_store_n(&a[0], 0, __ATOMIC_RELEASE);
		/* Let a drain or two land after the reset (bounded: never hang). */
		for (int spin = 0; spin < 100000; spin++)
			if (__atomic_load_n(&x.finished, __ATOMIC_ACQUIRE) >= before + 2)
				break;
		n = __atomic_load_n(&a[0], __ATOMIC_ACQUIRE);
		nonempty += n > 0;
		for (uint64_t k = 1; k <= n; k++) {
			if ((a[k] - BASE) / 4 < before)
				stale++;
			if (k > 1 && a[k] <= a[k - 1])
				disorder++;
		}
	}
	__atomic_store_n(&x.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(stale, 0);
	assert_int_equal(disorder, 0);
	assert_true(nonempty > 0);	/* the race was actually run */
	ring_free(x.r, false);
}

/* ---- collector: the file ------------------------------------------------------- */

static void test_create_refuses_existing_file_and_symlinks(void **state)
{
	char target[PATH_MAX + 32];
	struct stat st;
	int fd;

	(void)state;
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	errno = 0;
	assert_null(ring_create(path, 0600, 16));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);	/* untouched */
	unlink(path);

	/* A dangling symlink: refused, and its target not created. */
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(symlink(target, path), 0);
	errno = 0;
	assert_null(ring_create(path, 0600, 16));
	assert_int_equal(errno, ELOOP);
	assert_int_equal(lstat(target, &st), -1);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(path);

	/* Bad sizes and modes: refused before anything is created. */
	assert_null(ring_create(path, 0600, 1));
	assert_int_equal(errno, EINVAL);
	assert_null(ring_create(path, 04755, 16));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(lstat(path, &st), -1);
}

static void test_create_mode_is_exact_whatever_the_umask(void **state)
{
	static const struct { mode_t umask, mode; } cases[] = {
		{ 077, 0644 }, { 0, 0600 }, { 022, 0660 }, { 0777, 0640 },
	};
	mode_t old = umask(0);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stat st;
		struct ring *r;

		umask(cases[i].umask);
		r = ring_create(path, cases[i].mode, 16);
		assert_non_null(r);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, cases[i].mode);
		/* One header page, then the area. */
		assert_int_equal(st.st_size, sysconf(_SC_PAGESIZE) + 16 * 8);
		ring_free(r, false);
		assert_int_equal(lstat(path, &st), -1);	/* removed */
	}
	umask(old);
}

static void test_free_keeps_the_file_only_when_asked(void **state)
{
	struct ring *r = new_ring(16, 4);
	uint64_t pc = BASE + 3;
	struct ukcov_ring *c;

	(void)state;
	ring_append(r, &pc, 1);
	ring_free(r, true);
	c = ukcov_ring_open(path);
	assert_non_null(c);
	assert_int_equal(ukcov_ring_header(c)->state, UKCOV_RING_CLOSED);
	assert_int_equal(ukcov_ring_area(c)[0], 1);
	assert_int_equal(ukcov_ring_area(c)[1], BASE + 3);
	ukcov_ring_close(c);
	unlink(path);

	/* A file put in the ring's place is not the ring's to remove. */
	r = new_ring(16, 4);
	unlink(path);
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	ring_free(r, false);
	assert_int_equal(access(path, F_OK), 0);
}

/* ---- libukcov: opening ----------------------------------------------------------- */

static void write_file(const void *buf, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* A valid ring file with @edit applied to its header. */
static void write_ring(void (*edit)(struct ukcov_ring_header *h, size_t *size))
{
	size_t page = sysconf(_SC_PAGESIZE), size = page + 8 * 8;
	char *buf = calloc(1, size);
	struct ukcov_ring_header *h = (void *)buf;

	h->magic = UKCOV_RING_MAGIC;
	h->version = UKCOV_RING_VERSION;
	h->page_size = page;
	h->area_words = 8;
	h->nsites = 4;
	h->pc_base = BASE;
	h->collector_pid = getpid();
	h->state = UKCOV_RING_LIVE;
	if (edit)
		edit(h, &size);
	write_file(buf, size);
	free(buf);
}

static void edit_version(struct ukcov_ring_header *h, size_t *size) { (void)size; h->version = 2; }
static void edit_magic(struct ukcov_ring_header *h, size_t *size) { (void)size; h->magic ^= 1; }
static void edit_nomagic(struct ukcov_ring_header *h, size_t *size) { (void)size; h->magic = 0; }
static void edit_words(struct ukcov_ring_header *h, size_t *size) { (void)size; h->area_words = 9; }
static void edit_huge(struct ukcov_ring_header *h, size_t *size) { (void)size; h->area_words = UINT64_MAX / 4; }
static void edit_one_word(struct ukcov_ring_header *h, size_t *size) { h->area_words = 1; *size -= 7 * 8; }
static void edit_page(struct ukcov_ring_header *h, size_t *size) { (void)size; h->page_size = 4; }
static void edit_page_big(struct ukcov_ring_header *h, size_t *size) { (void)size; h->page_size = 1u << 30; }
static void edit_short(struct ukcov_ring_header *h, size_t *size) { (void)h; *size -= 8; }

static void expect_open_error(int err)
{
	errno = 0;
	assert_null(ukcov_ring_open(path));
	assert_int_equal(errno, err);
}

static void test_open_accepts_a_well_formed_file(void **state)
{
	struct ukcov_ring *c;

	(void)state;
	write_ring(NULL);
	c = ukcov_ring_open(path);
	assert_non_null(c);
	assert_int_equal(ukcov_ring_header(c)->nsites, 4);
	assert_ptr_equal((char *)ukcov_ring_area(c),
			 (char *)ukcov_ring_header(c) + sysconf(_SC_PAGESIZE));
	ukcov_ring_close(c);
	ukcov_ring_close(NULL);
}

static void test_open_rejects_garbage(void **state)
{
	char junk[8192];

	(void)state;
	expect_open_error(ENOENT);
	write_file("", 0);
	expect_open_error(EAGAIN);	/* created, not sized yet */
	write_ring(edit_nomagic);
	expect_open_error(EAGAIN);	/* sized, not published yet */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);
	write_file(junk, sizeof(junk));
	expect_open_error(EPROTO);
	write_file(junk, 12);		/* shorter than a header */
	expect_open_error(EPROTO);
	write_ring(edit_magic);
	expect_open_error(EPROTO);
	write_ring(edit_version);
	expect_open_error(EPROTO);
	write_ring(edit_words);		/* area_words says more than the file holds */
	expect_open_error(EINVAL);
	write_ring(edit_huge);		/* and would overflow a size computation */
	expect_open_error(EINVAL);
	write_ring(edit_one_word);	/* no room for a single PC */
	expect_open_error(EINVAL);
	write_ring(edit_page);		/* area inside the header */
	expect_open_error(EINVAL);
	write_ring(edit_page_big);
	expect_open_error(EINVAL);
	write_ring(edit_short);		/* file shorter than page + area */
	expect_open_error(EINVAL);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_open_error(EPROTO);	/* and it did not block on the fifo */
	unlink(path);
}

/* ---- libukcov: collect --------------------------------------------------------------- */

/* What a live collector holds (ukcov/ring.h); an fd of its own. */
static int hold_collector_lock(void)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	return fd;
}

static void test_collect_times_out_without_a_collector(void **state)
{
	struct timespec t0;
	struct ukcov_ring *c;
	long ms;
	int lock;

	(void)state;
	write_ring(NULL);	/* LIVE, locked: alive, never answers */
	lock = hold_collector_lock();
	c = ukcov_ring_open(path);
	assert_non_null(c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ukcov_ring_collect(c, 150), -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 140 && ms < 1000);
	assert_int_equal(ukcov_ring_header(c)->request_seq, 1);
	ukcov_ring_close(c);
	close(lock);
}

struct late_drain {
	struct ukcov_ring_header *h;
	uint64_t *area;
};

/* Serves request 1 after 150 ms, appending one PC: a slow collector. */
static void *serve_late(void *arg)
{
	struct late_drain *l = arg;

	usleep(150 * 1000);
	l->area[1] = BASE + 2;
	__atomic_store_n(&l->area[0], 1, __ATOMIC_RELEASE);
	__atomic_store_n(&l->h->done_seq, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &l->h->done_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return NULL;
}

/*
 * A collect that timed out is served later; its PCs belong to the input
 * before the reset, so the reset waits for them instead of letting them
 * land in the next input's area.
 */
static void test_reset_waits_for_a_timed_out_collect(void **state)
{
	struct late_drain l;
	struct timespec t0;
	struct ukcov_ring *c;
	pthread_t th;
	int lock;

	(void)state;
	write_ring(NULL);
	lock = hold_collector_lock();
	c = ukcov_ring_open(path);
	assert_non_null(c);
	assert_int_equal(ukcov_ring_collect(c, 30), -ETIMEDOUT);
	l.h = (struct ukcov_ring_header *)ukcov_ring_header(c);
	l.area = ukcov_ring_area(c);
	assert_int_equal(pthread_create(&th, NULL, serve_late, &l), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ukcov_ring_reset(c);
	assert_true(elapsed_ms(&t0) >= 100);
	assert_int_equal(__atomic_load_n(&l.area[0], __ATOMIC_ACQUIRE), 0);
	pthread_join(th, NULL);
	/* Nothing pending any more: a reset is a store again. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ukcov_ring_reset(c);
	assert_true(elapsed_ms(&t0) < 50);
	ukcov_ring_close(c);
	close(lock);
}

static void test_collect_epipe_when_closed(void **state)
{
	struct timespec t0;
	struct ukcov_ring *c;

	(void)state;
	write_ring(NULL);
	c = ukcov_ring_open(path);
	assert_non_null(c);
	((struct ukcov_ring_header *)ukcov_ring_header(c))->state = UKCOV_RING_CLOSED;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ukcov_ring_collect(c, 5000), -EPIPE);
	assert_true(elapsed_ms(&t0) < 100);
	ukcov_ring_close(c);
}

static void test_collect_epipe_when_collector_died(void **state)
{
	struct timespec t0;
	struct ukcov_ring *c;
	pid_t pid;

	(void)state;
	write_ring(NULL);
	c = ukcov_ring_open(path);
	assert_non_null(c);
	/* A collector that took the lock and died without a word. */
	pid = fork();
	if (!pid) {
		hold_collector_lock();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* collector_pid names a live process (a reused pid): the lock tells. */
	((struct ukcov_ring_header *)ukcov_ring_header(c))->collector_pid = getpid();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Still LIVE: only the lock tells; within one 20 ms slice or so. */
	assert_int_equal(ukcov_ring_collect(c, 5000), -EPIPE);
	assert_true(elapsed_ms(&t0) < 200);
	ukcov_ring_close(c);
}

/* ---- collector and consumer together --------------------------------------------------- */

struct fake_collector {
	struct ring *r;
	uint64_t next;		/* the PC the next drain reports */
	int drains;
};

static void fake_drain(void *arg)
{
	struct fake_collector *f = arg;
	uint64_t pcs[2] = { BASE + f->next, BASE + f->next + 1 };

	f->next += 2;
	f->drains++;
	ring_append(f->r, pcs, 2);
}

static void test_request_is_served_by_the_thread(void **state)
{
	struct fake_collector f = { .r = new_ring(64, 64) };
	struct ukcov_ring *c = ukcov_ring_open(path);
	uint64_t *a;

	(void)state;
	assert_non_null(c);
	a = ukcov_ring_area(c);
	assert_int_equal(ring_serve_start(f.r, fake_drain, &f), 0);
	assert_int_equal(ukcov_ring_collect(c, 2000), 2);
	assert_int_equal(a[1], BASE + 0);
	assert_int_equal(a[2], BASE + 1);
	ukcov_ring_reset(c);
	assert_int_equal(ukcov_ring_collect(c, 2000), 2);
	assert_int_equal(a[1], BASE + 2);	/* only the second drain's */
	assert_int_equal(ukcov_ring_collect(c, 2000), 4);	/* appended */
	assert_int_equal(ukcov_ring_header(c)->done_seq, 3);
	ring_serve_stop(f.r);
	assert_int_equal(f.drains, 3);	/* one drain per request, none spare */

	/* Closing answers a request nobody served, then refuses new ones. */
	__atomic_add_fetch(&ring_header(f.r)->request_seq, 1, __ATOMIC_SEQ_CST);
	ring_close(f.r);
	assert_int_equal(ukcov_ring_header(c)->done_seq, 4);
	assert_int_equal(ukcov_ring_header(c)->state, UKCOV_RING_CLOSED);
	assert_int_equal(ukcov_ring_collect(c, 2000), -EPIPE);
	ukcov_ring_close(c);
	ring_free(f.r, false);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_sequence_numbers_wrap(void **state)
{
	struct fake_collector f = { .r = new_ring(64, 64) };
	struct ukcov_ring *c = ukcov_ring_open(path);

	(void)state;
	assert_non_null(c);
	ring_header(f.r)->request_seq = UINT32_MAX - 1;
	ring_header(f.r)->done_seq = UINT32_MAX - 1;
	assert_int_equal(ring_serve_start(f.r, fake_drain, &f), 0);
	for (int i = 0; i < 4; i++)
		assert_true(ukcov_ring_collect(c, 2000) > 0);
	assert_int_equal(ukcov_ring_header(c)->done_seq, 2);
	ring_serve_stop(f.r);
	ukcov_ring_close(c);
	ring_free(f.r, false);
}

static void test_lib_version(void **state)
{
	char want[32];

	(void)state;
	snprintf(want, sizeof(want), "%d.%d", UKCOV_LIB_VERSION_MAJOR, UKCOV_LIB_VERSION_MINOR);
	assert_string_equal(ukcov_lib_version(), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_in_order_and_counts_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_area_drops_exactly_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_count_is_not_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_during_append_never_resurrects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_existing_file_and_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_mode_is_exact_whatever_the_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_keeps_the_file_only_when_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_accepts_a_well_formed_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_rejects_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect_times_out_without_a_collector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_waits_for_a_timed_out_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect_epipe_when_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect_epipe_when_collector_died, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_is_served_by_the_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_numbers_wrap, setup, teardown),
		cmocka_unit_test(test_lib_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
