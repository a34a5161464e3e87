// SPDX-License-Identifier: MIT
/*
 * Shared libraries of a program: the ld.so cache, DT_NEEDED resolution as
 * glibc's dl-load.c does it, and the mappings of a running process.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ldso.h"
#include "procfs.h"

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#define CACHE_FLAGS_HOST 0x0303		/* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 */
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#define CACHE_FLAGS_HOST 0x0a03		/* FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64 */
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#define CACHE_FLAGS_HOST 0x1003		/* FLAG_ELF_LIBC6 | lp64d */
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CACHE_ENDIAN_HOST 2
#else
#define CACHE_ENDIAN_HOST 3
#endif

/* ---- /etc/ld.so.cache ---------------------------------------------------- */

/*
 * The layouts, from glibc's sysdeps/generic/dl-cache.h.  Read with memcpy
 * from byte offsets, never through casts: the buffer may be unaligned.
 */
#define OLD_MAGIC "ld.so-1.7.0"
#define OLD_HEADER 16			/* magic[11], pad, u32 nlibs */
#define OLD_ENTRY 12			/* i32 flags, u32 key, u32 value */
#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define NEW_HEADER 48			/* magic[20], u32 nlibs, u32 len_strings,
					 * u8 flags, pad[3], u32 ext_offset, u32[3] */
#define NEW_ENTRY 24			/* i32 flags, u32 key, u32 value,
					 * u32 osversion, u64 hwcap */

struct cache_entry {
	const char *key, *value;
};

struct ldso_cache {
	char *data;			/* copy of the new-format part */
	struct cache_entry *v;
	size_t n;
};

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The string at offset @off of @data (@len bytes), if it ends inside. */
static const char *cache_string(const char *data, size_t len, uint32_t off)
{
	if (off >= len || !memchr(data + off, '\0', len - off))
		return NULL;
	return data + off;
}

struct ldso_cache *ldso_cache_parse(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct ldso_cache *c = NULL;
	size_t start = 0, nlibs, i;
	int err = -EINVAL;

	if (len >= OLD_HEADER && !memcmp(p, OLD_MAGIC, strlen(OLD_MAGIC))) {
		/* Old entries first; the new format follows, 8-byte aligned. */
		uint64_t end = OLD_HEADER + (uint64_t)get_u32(p + 12) * OLD_ENTRY;

		start = (end + 7) & ~(uint64_t)7;
		if (end > len || start > len)
			goto fail;
	}
	if (len - start < NEW_HEADER || memcmp(p + start, NEW_MAGIC, strlen(NEW_MAGIC)))
		goto fail;
	p += start;
	len -= start;
	if (p[28] != 0 && p[28] != CACHE_ENDIAN_HOST)
		goto fail;	/* written for the other byte order */
	nlibs = get_u32(p + 20);
	if (nlibs > (len - NEW_HEADER) / NEW_ENTRY)
		goto fail;

	err = -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->data = malloc(len);
	c->v = calloc(nlibs ? nlibs : 1, sizeof(*c->v));
	if (!c->data || !c->v)
		goto fail;
	memcpy(c->data, p, len);
	for (i = 0; i < nlibs; i++) {
		const uint8_t *e = p + NEW_HEADER + i * NEW_ENTRY;
		const char *key, *value;

		/* Entries of another ABI or for a hwcap subdirectory: not ours. */
		if (get_u32(e) != CACHE_FLAGS_HOST || get_u64(e + 16))
			continue;
		key = cache_string(c->data, len, get_u32(e + 4));
		value = cache_string(c->data, len, get_u32(e + 8));
		if (!key || !value || !*key || value[0] != '/')
			continue;
		c->v[c->n++] = (struct cache_entry){ key, value };
	}
	return c;
fail:
	ldso_cache_free(c);
	errno = -err;
	return NULL;
}

struct ldso_cache *ldso_cache_load(const char *path)
{
	struct ldso_cache *c = NULL;
	char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		err = errno;
		goto out;
	}
	err = EFBIG;
	if (!S_ISREG(st.st_mode) || st.st_size > LDSO_CACHE_MAX)
		goto out;
	err = ENOMEM;
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* shrank under us: parse what is there */
		got += n;
	}
	c = ldso_cache_parse(buf, got);
	err = c ? 0 : errno;
out:
	free(buf);
	close(fd);
	errno = err;
	return c;
}

const char *ldso_cache_lookup(const struct ldso_cache *c, const char *soname)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, soname))
			return c->v[i].value;
	return NULL;
}

size_t ldso_cache_count(const struct ldso_cache *c)
{
	return c ? c->n : 0;
}

void ldso_cache_free(struct ldso_cache *c)
{
	if (!c)
		return;
	free(c->data);
	free(c->v);
	free(c);
}

/* ---- dynamic sections ---------------------------------------------------- */

/* What resolution needs from one object's dynamic section. */
struct dyn_info {
	char **needed;
	size_t nneeded;
	char *rpath, *runpath, *soname, *interp;
	bool nodeflib;
	dev_t dev;
	ino_t ino;
};

static void dyn_info_free(struct dyn_info *d)
{
	for (size_t i = 0; i < d->nneeded; i++)
		free(d->needed[i]);
	free(d->needed);
	free(d->rpath);
	free(d->runpath);
	free(d->soname);
	free(d->interp);
	memset(d, 0, sizeof(*d));
}

/* A copy of the NUL-terminated string at @off of @strs (@len bytes), or NULL. */
static char *dyn_string(const char *strs, size_t len, uint64_t off)
{
	const char *end;

	if (!strs || off >= len)
		return NULL;
	end = memchr(strs + off, '\0', len - off);
	if (!end)
		return NULL;
	return strndup(strs + off, end - (strs + off));
}

/* File offset of vaddr @va through any PT_LOAD that backs it with file data. */
static int load_offset(Elf *elf, size_t nph, uint64_t va, uint64_t fsize, uint64_t *off)
{
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (va < ph.p_vaddr || va - ph.p_vaddr >= ph.p_filesz)
			continue;
		*off = ph.p_offset + (va - ph.p_vaddr);
		return *off < fsize ? 0 : -ENOEXEC;
	}
	return -ENOEXEC;
}

/*
 * Reads @path's PT_INTERP and dynamic section.  Returns 0, -ENOEXEC when
 * it is not a 64-bit ELF executable or shared object for this machine (or
 * its dynamic section is unreadable), -ENOMEM, or the errno of open.
 * Program headers only: they are what ld.so reads, and survive sstrip.
 */
static int read_dyn_info(const char *path, bool want_exec, struct dyn_info *d)
{
	uint64_t strtab = 0, strsz = 0, stroff;
	size_t nph, ndyn = 0, i;
	GElf_Ehdr eh;
	struct stat st;
	Elf_Data *dyn = NULL;
	Elf *elf = NULL;
	const char *strs = NULL;
	int fd, err = -ENOEXEC;

	memset(d, 0, sizeof(*d));
	/* O_NONBLOCK: a FIFO in a DT_RUNPATH directory must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		goto out;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	if (elf_version(EV_CURRENT) == EV_NONE)
		goto out;
	elf = elf_begin(fd, ELF_C_READ, NULL);	/* not mmap: see elf_file_open() */
	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64 ||
	    !gelf_getehdr(elf, &eh) || eh.e_machine != HOST_MACHINE ||
	    (eh.e_type != ET_DYN && !(want_exec && eh.e_type == ET_EXEC)) ||
	    elf_getphdrnum(elf, &nph))
		goto out;

	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph))
			goto out;
		if (ph.p_offset > (uint64_t)st.st_size ||
		    ph.p_filesz > (uint64_t)st.st_size - ph.p_offset)
			continue;
		if (ph.p_type == PT_DYNAMIC && !dyn && ph.p_filesz)
			dyn = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_DYN);
		if (ph.p_type == PT_INTERP && !d->interp && ph.p_filesz) {
			Elf_Data *in = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_BYTE);

			if (in)
				d->interp = dyn_string(in->d_buf, in->d_size, 0);
		}
	}
	err = 0;
	if (!dyn)
		goto out;	/* static: no dependencies */
	ndyn = dyn->d_size / gelf_fsize(elf, ELF_T_DYN, 1, EV_CURRENT);
	for (i = 0; i < ndyn; i++) {
		GElf_Dyn de;

		if (!gelf_getdyn(dyn, i, &de) || de.d_tag == DT_NULL)
			break;
		if (de.d_tag == DT_STRTAB)
			strtab = de.d_un.d_ptr;
		else if (de.d_tag == DT_STRSZ)
			strsz = de.d_un.d_val;
		else if (de.d_tag == DT_FLAGS_1 && (de.d_un.d_val & DF_1_NODEFLIB))
			d->nodeflib = true;
	}
	if (!strtab || !strsz || load_offset(elf, nph, strtab, st.st_size, &stroff))
		goto out;
	if (strsz > (uint64_t)st.st_size - stroff)
		strsz = st.st_size - stroff;
	{
		Elf_Data *sd = elf_getdata_rawchunk(elf, stroff, strsz, ELF_T_BYTE);

		if (!sd)
			goto out;
		strs = sd->d_buf;
		strsz = sd->d_size;
	}
	for (i = 0; i < ndyn; i++) {
		GElf_Dyn de;
		char **slot = NULL;

		if (!gelf_getdyn(dyn, i, &de) || de.d_tag == DT_NULL)
			break;
		switch (de.d_tag) {
		case DT_NEEDED: {
			char *s = dyn_string(strs, strsz, de.d_un.d_val);
			void *np;

			if (!s || !*s) {
				free(s);
				continue;
			}
			np = reallocarray(d->needed, d->nneeded + 1, sizeof(*d->needed));
			if (!np) {
				free(s);
				err = -ENOMEM;
				goto out;
			}
			d->needed = np;
			d->needed[d->nneeded++] = s;
			continue;
		}
		case DT_RPATH:
			slot = &d->rpath;
			break;
		case DT_RUNPATH:
			slot = &d->runpath;
			break;
		case DT_SONAME:
			slot = &d->soname;
			break;
		default:
			continue;
		}
		if (!*slot)
			*slot = dyn_string(strs, strsz, de.d_un.d_val);
	}
	/* glibc's get-dynamic-info.h: with both, DT_RPATH is ignored. */
	if (d->runpath) {
		free(d->rpath);
		d->rpath = NULL;
	}
out:
	elf_end(elf);
	close(fd);
	if (err)
		dyn_info_free(d);
	return err;
}

/* ---- resolution ------------------------------------------------------------ */

struct resolver {
	const struct ldso_config *cfg;
	struct ldso_closure *out;
	struct dyn_info *info;		/* parallel to out->objs */
	char **origin;			/* parallel: $ORIGIN of each object */
	size_t cap;
};

/* Directory part of @path, made absolute against the cwd; NULL on ENOMEM. */
static char *origin_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *ret;

	if (path[0] == '/')
		return strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, ".");
	if (!slash)
		return strdup(cwd);
	if (asprintf(&ret, "%s/%.*s", cwd, (int)(slash - path), path) < 0)
		return NULL;
	return ret;
}

/*
 * @s with $ORIGIN, $LIB and $PLATFORM (also as ${...}) expanded; any
 * other '$' stays as it is, like in ld.so.  NULL with errno EINVAL when
 * $ORIGIN is unknown or the result too long (ld.so drops such an
 * element), ENOMEM.
 */
static char *expand_dst(const char *s, const char *origin)
{
	static const struct { const char *name, *value; } dsts[] = {
		{ "ORIGIN", NULL }, { "LIB", "lib/" LDSO_MULTIARCH }, { "PLATFORM", LDSO_PLATFORM },
	};
	char buf[PATH_MAX];
	size_t used = 0;

	while (*s) {
		const char *value = NULL;
		size_t skip = 0;

		if (*s != '$') {
			if (used + 1 >= sizeof(buf))
				goto inval;
			buf[used++] = *s++;
			continue;
		}
		for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
			size_t n = strlen(dsts[i].name);

			if (!strncmp(s + 1, dsts[i].name, n) &&
			    !(s[1 + n] == '_' || (s[1 + n] >= 'A' && s[1 + n] <= 'Z') ||
			      (s[1 + n] >= 'a' && s[1 + n] <= 'z') ||
			      (s[1 + n] >= '0' && s[1 + n] <= '9')))
				skip = 1 + n;
			else if (s[1] == '{' && !strncmp(s + 2, dsts[i].name, n) && s[2 + n] == '}')
				skip = 3 + n;
			if (skip) {
				value = dsts[i].value ? dsts[i].value : origin;
				break;
			}
		}
		if (!skip) {
			if (used + 1 >= sizeof(buf))
				goto inval;
			buf[used++] = *s++;
			continue;
		}
		if (!value)
			goto inval;
		if (used + strlen(value) >= sizeof(buf))
			goto inval;
		memcpy(buf + used, value, strlen(value));
		used += strlen(value);
		s += skip;
	}
	buf[used] = '\0';
	return strdup(buf);
inval:
	errno = EINVAL;
	return NULL;
}

static bool same_file(const struct ldso_closure *c, dev_t dev, ino_t ino, size_t *index)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->objs[i].dev == dev && c->objs[i].ino == ino) {
			*index = i;
			return true;
		}
	}
	return false;
}

/* Loaded already under this name (DT_NEEDED string or DT_SONAME)? */
static bool name_loaded(const struct ldso_closure *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct ldso_object *o = &c->objs[i];

		if ((o->needed && !strcmp(o->needed, name)) || (o->soname && !strcmp(o->soname, name)))
			return true;
	}
	return false;
}

/*
 * Tries @path for NEEDED entry @name: 0 with *@d filled when it is a
 * usable shared object, 1 when ld.so would pass it over, or -ENOMEM.
 */
static int try_path(const char *path, struct dyn_info *d)
{
	int err = read_dyn_info(path, false, d);

	if (err == -ENOMEM)
		return err;
	return err ? 1 : 0;
}

/* Tries DIR/NAME for each element of the ':'-separated @list. */
static int search_list(const char *list, const char *name, const char *origin,
		       char **found, struct dyn_info *d)
{
	while (list && *list) {
		size_t len = strcspn(list, ":;");
		char *elem = strndup(list, len), *dir, *path;
		int ret;

		if (!elem)
			return -ENOMEM;
		/* An empty element is the current directory, as for ld.so. */
		dir = expand_dst(*elem ? elem : ".", origin);
		free(elem);
		if (dir) {
			if (asprintf(&path, "%s/%s", dir, name) < 0) {
				free(dir);
				return -ENOMEM;
			}
			free(dir);
			ret = try_path(path, d);
			if (ret <= 0) {
				if (ret)
					free(path);
				else
					*found = path;
				return ret;
			}
			free(path);
		} else if (errno == ENOMEM) {
			return -ENOMEM;
		}
		list += len;
		if (*list)
			list++;
	}
	return 1;
}

/* Finds NEEDED entry @name of object @req.  0, 1 (not found) or -ENOMEM. */
static int resolve_name(struct resolver *r, size_t req, const char *name,
			char **found, struct dyn_info *d)
{
	const struct dyn_info *ri = &r->info[req];
	const struct ldso_config *cfg = r->cfg;
	static const char *const defaults[] = LDSO_DEFAULT_DIRS_INIT;
	const char *const *dirs = cfg->default_dirs ? cfg->default_dirs : defaults;
	const char *cached;
	int ret;

	if (strchr(name, '/')) {
		char *path = expand_dst(name, r->origin[req]);

		if (!path)
			return errno == ENOMEM ? -ENOMEM : 1;
		ret = try_path(path, d);
		if (ret)
			free(path);
		else
			*found = path;
		return ret;
	}
	if (!ri->runpath) {
		/* The needing object, its loader, ... up to the executable (index 0). */
		size_t i = req;

		for (;;) {
			if (r->info[i].rpath) {
				ret = search_list(r->info[i].rpath, name, r->origin[i], found, d);
				if (ret <= 0)
					return ret;
			}
			if (i == 0)
				break;
			i = r->out->objs[i].loader;
		}
	}
	/* ld.so expands LD_LIBRARY_PATH's $ORIGIN for the executable. */
	ret = search_list(cfg->ld_library_path, name, r->origin[0], found, d);
	if (ret <= 0)
		return ret;
	if (ri->runpath) {
		ret = search_list(ri->runpath, name, r->origin[req], found, d);
		if (ret <= 0)
			return ret;
	}
	if (ri->nodeflib)
		return 1;
	cached = ldso_cache_lookup(cfg->cache, name);
	if (cached) {
		ret = try_path(cached, d);
		if (ret < 0)
			return ret;
		if (!ret) {
			*found = strdup(cached);
			if (!*found) {
				dyn_info_free(d);
				return -ENOMEM;
			}
			return 0;
		}
	}
	for (; *dirs; dirs++) {
		char *path;

		if (asprintf(&path, "%s/%s", *dirs, name) < 0)
			return -ENOMEM;
		ret = try_path(path, d);
		if (ret <= 0) {
			if (ret)
				free(path);
			else
				*found = path;
			return ret;
		}
		free(path);
	}
	return 1;
}

/* Appends an object taking ownership of @path, @needed and @d. */
static int add_object(struct resolver *r, char *path, char *needed, size_t loader,
		      bool interp, struct dyn_info *d)
{
	struct ldso_closure *c = r->out;
	struct ldso_object *o;

	if (c->n == LDSO_MAX_OBJECTS)
		return -E2BIG;
	if (c->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		void *a = reallocarray(c->objs, cap, sizeof(*c->objs));

		if (!a)
			return -ENOMEM;
		c->objs = a;
		a = reallocarray(r->info, cap, sizeof(*r->info));
		if (!a)
			return -ENOMEM;
		r->info = a;
		a = reallocarray(r->origin, cap, sizeof(*r->origin));
		if (!a)
			return -ENOMEM;
		r->origin = a;
		r->cap = cap;
	}
	r->origin[c->n] = NULL;
	if (c->n) {
		r->origin[c->n] = origin_of(path);
		if (!r->origin[c->n])
			return -ENOMEM;
	}
	o = &c->objs[c->n];
	*o = (struct ldso_object){
		.path = path, .needed = needed, .loader = loader, .interp = interp,
		.dev = d->dev, .ino = d->ino,
	};
	if (d->soname) {
		o->soname = strdup(d->soname);
		if (!o->soname) {
			free(r->origin[c->n]);
			return -ENOMEM;
		}
	}
	r->info[c->n] = *d;
	memset(d, 0, sizeof(*d));
	c->n++;
	return 0;
}

static int add_missing(struct ldso_closure *c, const char *name, const char *by)
{
	void *np = reallocarray(c->missing, c->nmissing + 1, sizeof(*c->missing));
	char *s;

	if (!np)
		return -ENOMEM;
	c->missing = np;
	if (asprintf(&s, "%s (needed by %s)", name, by) < 0)
		return -ENOMEM;
	c->missing[c->nmissing++] = s;
	return 0;
}

/* Enters the executable's interpreter, so DT_NEEDED of it finds it loaded. */
static int add_interp(struct resolver *r)
{
	const char *interp = r->info[0].interp;
	struct dyn_info d;
	char *path;
	size_t dup;
	int err;

	if (!interp || read_dyn_info(interp, false, &d))
		return 0;	/* ld.so would refuse to start; nothing to cover */
	if (same_file(r->out, d.dev, d.ino, &dup)) {
		dyn_info_free(&d);
		return 0;
	}
	/* Its own dependencies are none of ours: ld.so is self-contained. */
	for (size_t i = 0; i < d.nneeded; i++)
		free(d.needed[i]);
	free(d.needed);
	d.needed = NULL;
	d.nneeded = 0;
	path = strdup(interp);
	if (!path) {
		dyn_info_free(&d);
		return -ENOMEM;
	}
	err = add_object(r, path, NULL, 0, true, &d);
	if (err) {
		free(path);
		dyn_info_free(&d);
	}
	return err;
}

int ldso_closure(const char *exe, const struct ldso_config *cfg, struct ldso_closure *out)
{
	struct resolver r = { .cfg = cfg, .out = out };
	struct dyn_info d;
	char *path = NULL, real[PATH_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	err = read_dyn_info(exe, true, &d);
	if (err)
		return err;
	path = strdup(exe);
	if (!path) {
		dyn_info_free(&d);
		return -ENOMEM;
	}
	err = add_object(&r, path, NULL, 0, false, &d);
	if (err) {
		free(path);
		dyn_info_free(&d);
		goto out;
	}
	/* ld.so takes the executable's $ORIGIN from /proc/self/exe: symlinks resolved. */
	r.origin[0] = origin_of(realpath(exe, real) ? real : exe);
	if (!r.origin[0]) {
		err = -ENOMEM;
		goto out;
	}
	err = add_interp(&r);
	if (err)
		goto out;

	/* Breadth first: each object's DT_NEEDED in order, as ld.so maps them. */
	for (size_t i = 0; i < out->n; i++) {
		for (size_t k = 0; k < r.info[i].nneeded; k++) {
			const char *name = r.info[i].needed[k];
			char *found = NULL, *needed;
			size_t dup;
			int ret;

			if (name_loaded(out, name))
				continue;
			ret = resolve_name(&r, i, name, &found, &d);
			if (ret < 0) {
				err = ret;
				goto out;
			}
			if (ret) {
				err = add_missing(out, name, out->objs[i].path);
				if (err)
					goto out;
				continue;
			}
			if (same_file(out, d.dev, d.ino, &dup)) {
				free(found);
				dyn_info_free(&d);
				continue;
			}
			needed = strdup(name);
			err = needed ? add_object(&r, found, needed, i, false, &d) : -ENOMEM;
			if (err) {
				free(found);
				free(needed);
				dyn_info_free(&d);
				goto out;
			}
		}
	}
	err = 0;
out:
	for (size_t i = 0; i < out->n; i++) {
		dyn_info_free(&r.info[i]);
		free(r.origin[i]);
	}
	free(r.info);
	free(r.origin);
	if (err)
		ldso_closure_free(out);
	return err;
}

void ldso_closure_free(struct ldso_closure *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->objs[i].path);
		free(c->objs[i].needed);
		free(c->objs[i].soname);
	}
	free(c->objs);
	for (size_t i = 0; i < c->nmissing; i++)
		free(c->missing[i]);
	free(c->missing);
	memset(c, 0, sizeof(*c));
}

char *ldso_interp(const char *path)
{
	struct dyn_info d;
	char *ret;
	int err = read_dyn_info(path, true, &d);

	if (err) {
		errno = -err;
		return NULL;
	}
	ret = d.interp;
	d.interp = NULL;
	dyn_info_free(&d);
	if (!ret)
		errno = ENOENT;
	return ret;
}

/* ---- /proc/PID/maps -------------------------------------------------------- */

static int parse_maps_line(const char *line, pid_t pid, struct ldso_mapping *m)
{
	unsigned long start, end, off, ino;
	unsigned int maj, min;
	char perms[5];
	const char *path;
	int pos = 0;

	if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, perms, &off,
		   &maj, &min, &ino, &pos) < 7 || !pos)
		return 1;
	path = line + pos;
	if (strlen(perms) != 4 || perms[2] != 'x' || !ino || path[0] != '/')
		return 1;
	memset(m, 0, sizeof(*m));
	m->path = strdup(path);
	if (m->path)
		m->deleted = procfs_strip_deleted(m->path);
	if (!m->path || asprintf(&m->open_path, "/proc/%d/map_files/%lx-%lx", (int)pid,
				 start, end) < 0) {
		free(m->path);
		return -ENOMEM;
	}
	m->start = start;
	m->dev = makedev(maj, min);
	m->ino = ino;
	return 0;
}

int ldso_parse_maps(const char *text, size_t len, pid_t pid,
		    struct ldso_mapping **out, size_t *n)
{
	struct ldso_mapping *v = NULL;
	size_t nv = 0, cap = 0;
	const char *p = text, *end = text + len;
	char line[PATH_MAX + 256];
	int err = 0;

	*out = NULL;
	*n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t ll = (nl ? nl : end) - p;
		struct ldso_mapping m;
		bool dup = false;
		int ret;

		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = '\0';
			/* A NUL inside would cut the path short: skip such a line. */
			ret = strlen(line) == ll ? parse_maps_line(line, pid, &m) : 1;
		} else {
			ret = 1;
		}
		p += ll + (nl ? 1 : 0);
		if (ret < 0) {
			err = ret;
			goto fail;
		}
		if (ret)
			continue;
		for (size_t i = 0; i < nv && !dup; i++)
			dup = v[i].dev == m.dev && v[i].ino == m.ino;
		if (dup) {
			free(m.path);
			free(m.open_path);
			continue;
		}
		if (nv == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			void *np;

			if (nv >= LDSO_MAX_OBJECTS) {
				free(m.path);
				free(m.open_path);
				err = -E2BIG;
				goto fail;
			}
			np = reallocarray(v, ncap, sizeof(*v));
			if (!np) {
				free(m.path);
				free(m.open_path);
				err = -ENOMEM;
				goto fail;
			}
			v = np;
			cap = ncap;
		}
		v[nv++] = m;
	}
	*out = v;
	*n = nv;
	return 0;
fail:
	ldso_mappings_free(v, nv);
	return err;
}

int ldso_pid_mappings(pid_t pid, struct ldso_mapping **out, size_t *n)
{
	char path[64], *text = NULL;
	size_t len = 0, cap = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			void *np;

			if (ncap > (256u << 20)) {
				err = -E2BIG;
				goto out;
			}
			np = realloc(text, ncap);
			if (!np) {
				err = -ENOMEM;
				goto out;
			}
			text = np;
			cap = ncap;
		}
		got = read(fd, text + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			goto out;
		}
		if (!got)
			break;
		len += got;
	}
	err = ldso_parse_maps(text ? text : "", len, pid, out, n);
out:
	free(text);
	close(fd);
	return err;
}

void ldso_mappings_free(struct ldso_mapping *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].path);
		free(m[i].open_path);
	}
	free(m);
}
