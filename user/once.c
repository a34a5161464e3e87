// SPDX-License-Identifier: MIT
/*
 * --mode once: report each site once, then retire it (see once.h for the
 * why of the three parts).  The measurements behind the choices are in
 * BENCHMARKS.md ("once mode").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "once.h"
#include "probe.h"
#include "procfs.h"
#include "sites.h"

#define X86_INT3 0xcc
/* /proc/PID/mem is read a page at a time (plus a site's tail past its end). */
#define MEM_PAGE 4096
/* After a failed replacement, wait at least this long before the next try. */
#define REPLACE_BACKOFF_NS (1000ull * 1000 * 1000)

/* A module's file, mapped read-only: its bytes ARE the original instructions. */
struct once_file {
	bool tried;
	bool want_replace;	/* restoring cannot retire some of its sites */
	const uint8_t *bytes;	/* NULL: could not be read (no restoring in it) */
	size_t size;
	dev_t dev;
	ino_t ino;
};

struct once {
	const struct site_table *t;
	struct probe *p;
	/*
	 * Guards the bitmaps and counters below: once_filter() runs on
	 * whichever thread drains, the rest on the session's thread.
	 */
	pthread_mutex_t lock;
	uint64_t *seen;		/* reported: never emitted again */
	uint64_t *pending;	/* hit since the last once_retire() */
	uint64_t *unlinked;	/* out of every link (implies seen) */
	size_t nwords;		/* of each bitmap */
	size_t npending;	/* bits set in pending */
	size_t ndirty;		/* seen and not unlinked: links to replace */
	struct once_stats st;
	/* Session thread only. */
	bool restore;		/* there are tracked processes to restore in */
	/*
	 * Sites handed to restore_all(): by the pass before the last one
	 * (older) and by any pass so far (recent).  A hit of a site in
	 * `older` happened after its bytes were restored everywhere: some
	 * process has its breakpoint again (a new exec of the file).  A hit
	 * of one only in `recent` may be one that raced its restoration.
	 */
	uint64_t *older, *recent;
	size_t npass_words;
	struct once_file *files;	/* by module index */
	size_t nfiles;
	pid_t *pids;
	size_t cap_pids;
	uint64_t next_replace_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool bit_get(const uint64_t *map, size_t nwords, size_t i)
{
	return i / 64 < nwords && (map[i / 64] >> (i % 64) & 1);
}

static void bit_set(uint64_t *map, size_t i)
{
	map[i / 64] |= UINT64_C(1) << (i % 64);
}

/* ---- pure parts ------------------------------------------------------------- */

enum once_fix once_classify(const uint8_t *file, const uint8_t *mem, size_t len)
{
	if (!len)
		return ONCE_FIX_UNSAFE;
	if (mem[0] == file[0])
		return ONCE_FIX_DONE;
	/*
	 * Exactly the uprobe's work: its one-byte int3 over the first byte,
	 * the rest untouched.  Putting the byte back is one atomic store.  A
	 * 5-byte NOP the kernel optimised reads e8 + rel32 (a call of its
	 * trampoline): restoring that would take a cross-modification the
	 * kernel does with IPIs between steps, so it is left to the link
	 * replacement, where the kernel itself undoes it.
	 */
	if (mem[0] != X86_INT3 || file[0] == X86_INT3)
		return ONCE_FIX_UNSAFE;
	return memcmp(file + 1, mem + 1, len - 1) ? ONCE_FIX_UNSAFE : ONCE_FIX_RESTORE;
}

uint64_t once_next_replace_ns(uint64_t end_ns, uint64_t cost_ns)
{
	return end_ns + (ONCE_REPLACE_DUTY - 1) * cost_ns;
}

/* ---- filter ----------------------------------------------------------------- */

/* Bitmaps cover site index @index.  Under o->lock. */
static int grow_bitmaps(struct once *o, size_t index)
{
	size_t want = index / 64 + 1, n = o->nwords ? o->nwords : 64;
	uint64_t **maps[] = { &o->seen, &o->pending, &o->unlinked };

	if (want <= o->nwords)
		return 0;
	while (n < want)
		n *= 2;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		uint64_t *m = reallocarray(*maps[i], n, sizeof(**maps));

		if (!m)
			return -ENOMEM;	/* the grown ones are fine, nwords is not */
		memset(m + o->nwords, 0, (n - o->nwords) * sizeof(*m));
		*maps[i] = m;
	}
	o->nwords = n;
	return 0;
}

int once_filter(struct once *o, uint64_t pc_base, uint64_t *pcs, size_t *n)
{
	size_t kept = 0;
	int err = 0;

	pthread_mutex_lock(&o->lock);
	/* Ascending: the last PC is the largest index. */
	if (*n)
		err = grow_bitmaps(o, pcs[*n - 1] - pc_base);
	if (err)
		goto out;
	for (size_t i = 0; i < *n; i++) {
		size_t index = pcs[i] - pc_base;

		if (!bit_get(o->pending, o->nwords, index)) {
			bit_set(o->pending, index);
			o->npending++;
		}
		if (bit_get(o->seen, o->nwords, index))
			continue;
		bit_set(o->seen, index);
		o->ndirty++;
		o->st.reported++;
		pcs[kept++] = pcs[i];
	}
	*n = kept;
out:
	pthread_mutex_unlock(&o->lock);
	return err;
}

/* ---- restore ---------------------------------------------------------------- */

static void open_file(struct once_file *f, const char *path)
{
	struct stat st;
	void *map;
	int fd;

	f->tried = true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		/*
		 * MAP_SHARED, not MAP_PRIVATE: the kernel puts a uprobe's int3
		 * into every private, non-writable mapping of the file (links
		 * without a pid filter), ours too; a shared mapping it leaves
		 * alone, so this one shows the page cache: the original bytes.
		 */
		map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (map != MAP_FAILED) {
			f->bytes = map;
			f->size = st.st_size;
			f->dev = st.st_dev;
			f->ino = st.st_ino;
		}
	}
	close(fd);
}

/* Module @m's file, opened on first use.  NULL when it cannot be read. */
static struct once_file *module_file(struct once *o, size_t m)
{
	if (m >= o->nfiles) {
		size_t n = o->t->nmodules > m ? o->t->nmodules : m + 1;
		struct once_file *f = reallocarray(o->files, n, sizeof(*f));

		if (!f)
			return NULL;
		memset(f + o->nfiles, 0, (n - o->nfiles) * sizeof(*f));
		o->files = f;
		o->nfiles = n;
	}
	if (!o->files[m].tried)
		open_file(&o->files[m], o->t->modules[m].open_path);
	return o->files[m].bytes ? &o->files[m] : NULL;
}

/* The last page read from /proc/PID/mem. */
struct mem_cache {
	uint64_t base;		/* vaddr of buf[0] */
	size_t len;		/* 0: empty */
	uint8_t buf[MEM_PAGE + ONCE_CHECK_BYTES];
};

/* Copies @len bytes at vaddr @addr (below @limit, the mapping's end) to @out. */
static int mem_read(struct mem_cache *c, int fd, uint64_t addr, uint64_t limit,
		    uint8_t *out, size_t len)
{
	ssize_t n;

	if (!c->len || addr < c->base || addr + len > c->base + c->len) {
		uint64_t base = addr & ~(uint64_t)(MEM_PAGE - 1);
		size_t want = sizeof(c->buf);

		if (base + want > limit)
			want = limit - base;
		c->len = 0;
		n = pread(fd, c->buf, want, base);
		if (n < 0)
			return -errno;
		c->base = base;
		c->len = n;
		if (addr + len > base + n)
			return -EIO;
	}
	memcpy(out, c->buf + (addr - c->base), len);
	return 0;
}

/*
 * Site @index, mapped at vaddr @addr of mapping @mp in the process behind
 * @fd.  Returns false when the byte could not be restored.
 */
static bool fix_site(struct once *o, const struct once_file *f, int fd, struct mem_cache *c,
		     const struct procfs_mapping *mp, size_t index, uint64_t addr)
{
	uint64_t off = site_probe_offset(o->t, index);
	uint8_t mem[ONCE_CHECK_BYTES];
	size_t len = ONCE_CHECK_BYTES;

	if (off >= f->size)
		return false;
	if (len > f->size - off)
		len = f->size - off;
	if (len > mp->end - addr)
		len = mp->end - addr;
	if (mem_read(c, fd, addr, mp->end, mem, len)) {
		o->st.unsafe++;
		return false;
	}
	switch (once_classify(f->bytes + off, mem, len)) {
	case ONCE_FIX_DONE:
		o->st.already++;
		return true;
	case ONCE_FIX_UNSAFE:
		o->st.unsafe++;
		return false;
	case ONCE_FIX_RESTORE:
		break;
	}
	/*
	 * One byte, one store: a thread of the target sees int3 (and traps
	 * into the still registered uprobe, which handles it as before) or
	 * the original instruction, never a mix.
	 */
	if (pwrite(fd, f->bytes + off, 1, addr) != 1) {
		o->st.unsafe++;
		return false;
	}
	o->st.restored++;
	if (addr >= c->base && addr < c->base + c->len)
		c->buf[addr - c->base] = f->bytes[off];
	return true;
}

/* Asks for module @m's link to be replaced: restoring alone will not do. */
static void want_replace(struct once *o, size_t m)
{
	struct once_file *f = module_file(o, m);

	if (f)
		f->want_replace = true;
	else if (m < o->nfiles)
		o->files[m].want_replace = true;	/* unreadable: never restored */
}

/* want_replace() for the module of every site of @idx. */
static void want_replace_all(struct once *o, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (i == 0 || site_module_of(o->t, idx[i]) != site_module_of(o->t, idx[i - 1]))
			want_replace(o, site_module_of(o->t, idx[i]));
}

/* Whether mapping @mp of process @pid is the file @f, as stat() names files. */
static bool mapping_is(pid_t pid, const struct procfs_mapping *mp, const struct once_file *f)
{
	char link[96];
	struct stat st;

	if (mp->ino != (uint64_t)f->ino)
		return false;
	/* /proc/PID/maps may print another dev than stat() (btrfs, overlayfs). */
	snprintf(link, sizeof(link), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid,
		 mp->start, mp->end);
	if (!stat(link, &st))
		return st.st_dev == f->dev && st.st_ino == f->ino;
	return makedev(mp->major, mp->minor) == f->dev;
}

/* The private, read-only file mappings of @pid (where uprobes live). */
static int read_maps(pid_t pid, struct procfs_mapping **out, size_t *nout)
{
	struct procfs_mapping *v = NULL, mp;
	size_t n = 0, cap = 0;
	char path[64], line[4352];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (procfs_parse_maps_line(line, &mp) || !mp.private_ro || !mp.ino)
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct procfs_mapping *nv = reallocarray(v, c, sizeof(*v));

			if (!nv) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
			cap = c;
		}
		v[n++] = mp;
	}
	fclose(f);
	*out = v;
	*nout = n;
	return 0;
}

/* Restores sites @idx (ascending site indexes, @n of them) in process @pid. */
static int restore_process(struct once *o, pid_t pid, const size_t *idx, size_t n)
{
	struct procfs_mapping *maps = NULL;
	struct mem_cache *cache = NULL;
	size_t nmaps = 0, lo = 0;
	char path[64];
	int fd = -1, err;

	err = read_maps(pid, &maps, &nmaps);
	if (err)
		return err == -ENOMEM ? err : 0;	/* gone: nothing to restore */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* Without ptrace rights: the link replacement alone retires. */
		if (errno != ENOENT && errno != ESRCH) {
			o->st.no_access++;
			want_replace_all(o, idx, n);
		}
		goto out;
	}
	cache = malloc(sizeof(*cache));
	if (!cache) {
		err = -ENOMEM;
		goto out;
	}
	/* Modules are contiguous ranges of indexes: walk @idx module by module. */
	while (lo < n) {
		size_t m = site_module_of(o->t, idx[lo]), hi = lo;
		const struct once_file *f;

		while (hi < n && site_module_of(o->t, idx[hi]) == m)
			hi++;
		f = module_file(o, m);
		if (!f)
			want_replace(o, m);
		for (size_t k = 0; f && k < nmaps; k++) {
			const struct procfs_mapping *mp = &maps[k];

			if (!mapping_is(pid, mp, f))
				continue;
			cache->len = 0;
			for (size_t i = lo; i < hi; i++) {
				uint64_t off = site_probe_offset(o->t, idx[i]);

				if (off < mp->offset || off - mp->offset >= mp->end - mp->start)
					continue;
				if (!fix_site(o, f, fd, cache, mp, idx[i],
					      mp->start + (off - mp->offset)))
					o->files[m].want_replace = true;
			}
		}
		lo = hi;
	}
out:
	if (fd >= 0)
		close(fd);
	free(cache);
	free(maps);
	return err;
}

/* The tracked processes (probe.h), into o->pids.  Returns how many, or -errno. */
static long tracked_pids(struct once *o)
{
	for (;;) {
		long n = probe_tracked(o->p, o->pids, o->cap_pids);
		pid_t *p;

		if (n < 0 || (size_t)n <= o->cap_pids)
			return n;
		p = reallocarray(o->pids, n + 16, sizeof(*p));
		if (!p)
			return -ENOMEM;
		o->pids = p;
		o->cap_pids = n + 16;
	}
}

/* Grows `older` and `recent` to cover site index @index. */
static int grow_pass_maps(struct once *o, size_t index)
{
	size_t want = index / 64 + 1, n = o->npass_words ? o->npass_words : 64;
	uint64_t *m;

	if (want <= o->npass_words)
		return 0;
	while (n < want)
		n *= 2;
	m = reallocarray(o->older, n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m + o->npass_words, 0, (n - o->npass_words) * sizeof(*m));
	o->older = m;
	m = reallocarray(o->recent, n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m + o->npass_words, 0, (n - o->npass_words) * sizeof(*m));
	o->recent = m;
	o->npass_words = n;
	return 0;
}

static int restore_all(struct once *o, const size_t *idx, size_t n)
{
	uint64_t t0 = now_ns();
	long np;
	int err;

	/* @idx is ascending: its last index is the largest. */
	err = grow_pass_maps(o, idx[n - 1]);
	if (err)
		return err;
	/* Hit again although restored everywhere a pass ago: re-armed. */
	for (size_t i = 0; i < n; i++)
		if (bit_get(o->older, o->npass_words, idx[i]))
			want_replace(o, site_module_of(o->t, idx[i]));
	memcpy(o->older, o->recent, o->npass_words * sizeof(*o->older));
	for (size_t i = 0; i < n; i++)
		bit_set(o->recent, idx[i]);

	if (!o->restore) {
		/* attach --all tracks nothing: the replacement retires alone. */
		want_replace_all(o, idx, n);
		return 0;
	}
	np = tracked_pids(o);
	if (np < 0)
		return np == -ENOMEM ? np : 0;
	for (long i = 0; i < np && !err; i++)
		err = restore_process(o, o->pids[i], idx, n);
	o->st.restore_ns += now_ns() - t0;
	return err;
}

/* ---- replace ---------------------------------------------------------------- */

/*
 * New link over module @m's sites never seen, then the old one goes.  The
 * sites that were dirty when the new link's sites were chosen are out of
 * every link then; a site seen meanwhile is in the new link and stays dirty.
 */
static int replace_module(struct once *o, size_t m, size_t *keep, size_t *gone)
{
	const struct site_module *mod = &o->t->modules[m];
	size_t nkeep = 0, ngone = 0;
	int err;

	if (m >= o->nfiles || !o->files[m].want_replace)
		return 0;
	pthread_mutex_lock(&o->lock);
	for (size_t i = mod->first_site; i < mod->first_site + mod->nsites; i++) {
		if (!bit_get(o->seen, o->nwords, i))
			keep[nkeep++] = i;
		else if (!bit_get(o->unlinked, o->nwords, i))
			gone[ngone++] = i;
	}
	pthread_mutex_unlock(&o->lock);
	if (!ngone) {
		o->files[m].want_replace = false;
		return 0;
	}
	err = probe_replace_module(o->p, m, keep, nkeep);
	if (err && err != -ENOENT)
		return err;
	/* -ENOENT: never attached (or emptied already): nothing holds them. */
	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < ngone; i++)
		bit_set(o->unlinked, gone[i]);
	o->ndirty -= ngone;
	pthread_mutex_unlock(&o->lock);
	o->files[m].want_replace = false;
	if (!err)
		o->st.replacements++;
	return 0;
}

static int replace_links(struct once *o)
{
	uint64_t t0 = now_ns(), end;
	size_t *keep = NULL, *gone = NULL, max = 0;
	bool failed = false;
	int err = 0;

	for (size_t m = 0; m < o->t->nmodules; m++)
		if (o->t->modules[m].nsites > max)
			max = o->t->modules[m].nsites;
	keep = malloc((max ? max : 1) * sizeof(*keep));
	gone = malloc((max ? max : 1) * sizeof(*gone));
	if (!keep || !gone) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t m = 0; m < o->t->nmodules; m++) {
		int e = replace_module(o, m, keep, gone);

		if (e == -ENOMEM) {
			err = e;
			goto out;
		}
		if (e) {
			if (!o->st.replace_failed)
				info("once: replacing the link of %s: %s (sites stay armed for now)",
				     o->t->modules[m].path, strerror(-e));
			o->st.replace_failed++;
			failed = true;
		}
	}
out:
	end = now_ns();
	o->st.replace_ns += end - t0;
	o->next_replace_ns = once_next_replace_ns(end, end - t0);
	if (failed && o->next_replace_ns < end + REPLACE_BACKOFF_NS)
		o->next_replace_ns = end + REPLACE_BACKOFF_NS;
	free(keep);
	free(gone);
	return err;
}

/* ---- the session's side ----------------------------------------------------- */

struct once *once_new(const struct site_table *t, struct probe *p, bool restore)
{
	struct once *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->t = t;
	o->p = p;
	o->restore = restore;
	pthread_mutex_init(&o->lock, NULL);
	if (grow_bitmaps(o, t->nsites ? t->nsites - 1 : 0)) {
		once_free(o);
		errno = ENOMEM;
		return NULL;
	}
	/*
	 * Now, while the paths name what is attached: attach -p reads
	 * /proc/PID/exe, which is gone when that process exits before its
	 * children do.
	 */
	for (size_t m = 0; m < t->nmodules; m++)
		module_file(o, m);
	return o;
}

void once_free(struct once *o)
{
	if (!o)
		return;
	for (size_t m = 0; m < o->nfiles; m++)
		if (o->files[m].bytes)
			munmap((void *)o->files[m].bytes, o->files[m].size);
	free(o->files);
	free(o->older);
	free(o->recent);
	free(o->pids);
	free(o->seen);
	free(o->pending);
	free(o->unlinked);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

static bool replace_wanted(const struct once *o)
{
	for (size_t m = 0; m < o->nfiles; m++)
		if (o->files[m].want_replace)
			return true;
	return false;
}

int once_retire(struct once *o)
{
	size_t *batch = NULL, nbatch = 0, ndirty;
	int err = 0;

	pthread_mutex_lock(&o->lock);
	if (o->npending) {
		batch = malloc(o->npending * sizeof(*batch));
		if (!batch) {
			pthread_mutex_unlock(&o->lock);
			return -ENOMEM;
		}
		for (size_t w = 0; w < o->nwords; w++) {
			uint64_t bits = o->pending[w];

			while (bits) {
				batch[nbatch++] = w * 64 + __builtin_ctzll(bits);
				bits &= bits - 1;
			}
			o->pending[w] = 0;
		}
		o->npending = 0;
	}
	ndirty = o->ndirty;
	pthread_mutex_unlock(&o->lock);

	/* Restoring first: it is immediate; the replacement may wait for its budget. */
	if (nbatch)
		err = restore_all(o, batch, nbatch);
	free(batch);
	if (!err && ndirty && replace_wanted(o) && now_ns() >= o->next_replace_ns)
		err = replace_links(o);
	return err;
}

void once_get_stats(const struct once *o, struct once_stats *st)
{
	pthread_mutex_lock((pthread_mutex_t *)&o->lock);
	*st = o->st;
	pthread_mutex_unlock((pthread_mutex_t *)&o->lock);
}

uint64_t once_first_wait_us(uint64_t max_us)
{
	return ONCE_FIRST_WAIT_US < max_us ? ONCE_FIRST_WAIT_US : max_us;
}

uint64_t once_next_wait_us(uint64_t wait_us, uint64_t max_us, bool found, uint64_t took_us)
{
	uint64_t floor = took_us > UINT64_MAX / ONCE_COST_RATIO ? UINT64_MAX : took_us * ONCE_COST_RATIO;

	if (found)
		wait_us = ONCE_FIRST_WAIT_US;
	else
		wait_us = wait_us > UINT64_MAX / 2 ? UINT64_MAX : wait_us * 2;
	if (wait_us < floor)
		wait_us = floor;
	return wait_us < max_us ? wait_us : max_us;
}
