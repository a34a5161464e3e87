// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/libbpf.h>
#include <linux/types.h>

/* Before the skeleton: its read-only data has a struct ukcov_kernel_offsets. */
#include "../bpf/counter.h"
#include "counter.skel.h"
#include "kernel_btf.h"
#include "log.h"
#include "probe.h"
#include "sites.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct probe {
	struct counter_bpf *skel;
	const struct site_table *table;
	uint64_t *counters;
	size_t counters_len;	/* bytes mapped */
	size_t max_sites;	/* counters in the map: site indexes 0..max_sites-1 */
	struct bpf_link **links;	/* by module index; NULL: not attached */
	/* What each module's link was attached with, for probe_replace_module(). */
	char **link_paths;		/* path_override copies; NULL: the module's open_path */
	pid_t *link_pids;
	size_t cap_links;
	size_t nlinks;
	struct ring_buffer *events;
	probe_event_fn event_fn;
	void *event_ctx;
};

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int probe_check_privileges(const char **missing)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};
	bool bpf, perfmon;

	if (syscall(SYS_capget, &hdr, data))
		return 0;	/* cannot tell: let the kernel decide */
	if (has_cap(data, CAP_SYS_ADMIN))
		return 0;
	bpf = has_cap(data, CAP_BPF);
	perfmon = has_cap(data, CAP_PERFMON);
	if (bpf && perfmon)
		return 0;
	*missing = !bpf && !perfmon ? "CAP_BPF and CAP_PERFMON" :
		   !bpf ? "CAP_BPF" : "CAP_PERFMON";
	return -EPERM;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_verbosity < 2 && level != LIBBPF_WARN)
		return 0;
	if (log_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* uprobe.multi came with Linux 6.6; the kernel offsets come from the kernel's BTF. */
static bool kernel_has_uprobe_multi(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (access("/sys/kernel/btf/vmlinux", R_OK) || uname(&u) ||
	    sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 6);
}

struct probe *probe_open(const struct site_table *t)
{
	return probe_open_config(t, NULL);
}

/*
 * The inode of our pid namespace, 0 for the initial one (PROC_PID_INIT_INO):
 * in a container the BPF side must translate pids to the ones we see.
 */
static __u32 own_pidns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) || st.st_ino == 0xEFFFFFFCU)
		return 0;
	return st.st_ino;
}

/*
 * Finds the kernel fields the BPF side reads (struct ukcov_kernel_offsets)
 * in the running kernel's BTF, each with the size the BPF side reads it
 * with.  Returns 0, -EOPNOTSUPP when the kernel has no BTF or lacks one of
 * them (-v names it), or another negative errno.
 */
static int find_kernel_offsets(struct ukcov_kernel_offsets *ko)
{
	const unsigned int ptr = KERNEL_BTF_PTR_SIZE;
	const struct kernel_btf_field fields[] = {
		{ "task_struct", "tgid", 0, 4, &ko->task_tgid, NULL },
		{ "task_struct", "pid", 0, 4, &ko->task_pid, NULL },
		{ "task_struct", "group_leader", 0, ptr, &ko->task_group_leader, NULL },
		{ "task_struct", "thread_pid", 0, ptr, &ko->task_thread_pid, NULL },
		{ "task_struct", "signal", 0, ptr, &ko->task_signal, NULL },
		{ "signal_struct", "live.counter", 0, 4, &ko->signal_live, NULL },
		{ "pid", "level", 0, 4, &ko->pid_level, NULL },
		{ "pid", "numbers", 0, 0, &ko->pid_numbers, &ko->upid_size },
		{ "upid", "nr", 0, 4, &ko->upid_nr, NULL },
		{ "upid", "ns", 0, ptr, &ko->upid_ns, NULL },
		{ "pid_namespace", "ns.inum", 0, 4, &ko->pidns_inum, NULL },
		{ "linux_binprm", "file", 0, ptr, &ko->bprm_file, NULL },
		{ "linux_binprm", "filename", 0, ptr, &ko->bprm_filename, NULL },
		{ "file", "f_inode", 0, ptr, &ko->file_inode, NULL },
		{ "file", "f_path.dentry", 0, ptr, &ko->file_dentry, NULL },
		{ "inode", "i_sb", 0, ptr, &ko->inode_sb, NULL },
		{ "inode", "i_ino", 0, 8, &ko->inode_ino, NULL },
		{ "super_block", "s_dev", 0, 4, &ko->sb_dev, NULL },
		{ "dentry", "d_name.name", 0, ptr, &ko->dentry_name, NULL },
		{ "vm_area_struct", "vm_file", 0, ptr, &ko->vma_file, NULL },
		{ "vm_area_struct", "vm_flags", 0, 8, &ko->vma_flags, NULL },
		{ "vm_area_struct", "vm_pgoff", 0, 8, &ko->vma_pgoff, NULL },
#if defined(__x86_64__)
		{ "pt_regs", "orig_ax", 0, 8, &ko->regs_nr, NULL },
		{ "pt_regs", "si", 0, 8, &ko->regs_arg1, NULL },
		{ "pt_regs", "dx", 0, 8, &ko->regs_arg2, NULL },
#elif defined(__aarch64__)
		{ "pt_regs", "syscallno", 0, 4, &ko->regs_nr, NULL },
		{ "pt_regs", "regs", 1, 8, &ko->regs_arg1, NULL },
		{ "pt_regs", "regs", 2, 8, &ko->regs_arg2, NULL },
#endif
		/* Elsewhere watch_mmap stops before it reads pt_regs. */
	};
	size_t n = sizeof(fields) / sizeof(fields[0]), failed = n;
	int err;

	err = kernel_btf_resolve_file(KERNEL_BTF_VMLINUX, 0, fields, n, &failed);
	if (err == -ENOENT && failed == n)
		return -EOPNOTSUPP;	/* no BTF file */
	if (err && failed < n) {
		info("kernel BTF: struct %s member %s: %s", fields[failed].type,
		     fields[failed].path, err == -ENOENT ? "not found" : "not as expected");
		return -EOPNOTSUPP;
	}
	if (err)
		return err;
	/* The BPF side steps through pid.numbers[] by this; it reads nr and ns from each. */
	if (ko->upid_size < ko->upid_nr + 4 || ko->upid_size < ko->upid_ns + ptr) {
		info("kernel BTF: struct upid: %u bytes, smaller than its members", ko->upid_size);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Leaves out the programs @cfg does not need: a tracepoint nobody reads
 * still runs on every fork, and watch_mmap on every syscall exit in the system.
 */
static void select_programs(struct counter_bpf *skel, const struct probe_config *cfg)
{
	bool tracking = cfg->filter_pids || cfg->follow_forks || cfg->watch_exec ||
			cfg->watch_mmap;

	skel->rodata->filter_pids = cfg->filter_pids;
	skel->rodata->follow_forks = cfg->follow_forks;
	skel->rodata->hold_exec = cfg->hold_exec;
	skel->rodata->mark_running = cfg->watch_mmap;
	skel->rodata->pidns_ino = own_pidns_ino();
	bpf_program__set_autoload(skel->progs.track_fork, cfg->follow_forks);
	bpf_program__set_autoload(skel->progs.track_exit, tracking);
	bpf_program__set_autoload(skel->progs.watch_exec, cfg->watch_exec);
	bpf_program__set_autoload(skel->progs.watch_mmap, cfg->watch_mmap);
}

struct probe *probe_open_config(const struct site_table *t, const struct probe_config *cfg)
{
	static const struct probe_config defaults;
	struct probe *p;
	size_t page = sysconf(_SC_PAGESIZE);
	int err;

	if (!cfg)
		cfg = &defaults;
	if (t->nsites == 0 || t->nsites > UINT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	libbpf_set_print(libbpf_print);

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->table = t;
	p->max_sites = cfg->max_sites > t->nsites ? cfg->max_sites : t->nsites;
	if (p->max_sites > UINT32_MAX)
		p->max_sites = UINT32_MAX;
	p->cap_links = t->nmodules;
	p->links = calloc(p->cap_links ? p->cap_links : 1, sizeof(*p->links));
	p->link_paths = calloc(p->cap_links ? p->cap_links : 1, sizeof(*p->link_paths));
	p->link_pids = calloc(p->cap_links ? p->cap_links : 1, sizeof(*p->link_pids));
	if (!p->links || !p->link_paths || !p->link_pids) {
		err = -errno;
		goto err;
	}

	p->skel = counter_bpf__open();
	if (!p->skel) {
		err = -errno;
		goto err;
	}
	select_programs(p->skel, cfg);
	err = find_kernel_offsets(&p->skel->rodata->koff);
	if (err)
		goto err;
	err = bpf_map__set_max_entries(p->skel->maps.counters, p->max_sites);
	if (err)
		goto err;
	err = counter_bpf__load(p->skel);
	if (err) {
		/*
		 * A kernel that does not know the attach type rejects the
		 * load, but so does a verifier that rejects a program: only
		 * the first is "this kernel cannot".
		 */
		if ((err == -EINVAL || err == -ENOTSUP || err == -ESRCH) && !kernel_has_uprobe_multi())
			err = -EOPNOTSUPP;
		goto err;
	}
	/*
	 * The tracepoints now (skeleton links, destroyed with
	 * it); uprobes are attached per module.
	 */
	{
		struct { struct bpf_program *prog; struct bpf_link **link; } progs[] = {
			{ p->skel->progs.track_fork, &p->skel->links.track_fork },
			{ p->skel->progs.track_exit, &p->skel->links.track_exit },
			{ p->skel->progs.watch_exec, &p->skel->links.watch_exec },
			{ p->skel->progs.watch_mmap, &p->skel->links.watch_mmap },
		};

		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
			if (!bpf_program__autoload(progs[i].prog))
				continue;
			*progs[i].link = bpf_program__attach(progs[i].prog);
			if (!*progs[i].link) {
				err = -errno;
				goto err;
			}
		}
	}

	p->counters_len = (p->max_sites * sizeof(uint64_t) + page - 1) / page * page;
	p->counters = mmap(NULL, p->counters_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   bpf_map__fd(p->skel->maps.counters), 0);
	if (p->counters == MAP_FAILED) {
		err = -errno;
		p->counters = NULL;
		goto err;
	}
	return p;
err:
	probe_close(p);
	errno = -err;
	return NULL;
}

size_t probe_capacity(const struct probe *p)
{
	return p->max_sites;
}

/* Room in p->links for module index @module. */
static int links_reserve(struct probe *p, size_t module)
{
	size_t cap = p->cap_links ? p->cap_links : 4;
	struct bpf_link **links;
	char **paths;
	pid_t *pids;

	if (module < p->cap_links)
		return 0;
	while (cap <= module)
		cap *= 2;
	links = reallocarray(p->links, cap, sizeof(*links));
	if (!links)
		return -ENOMEM;
	p->links = links;
	paths = reallocarray(p->link_paths, cap, sizeof(*paths));
	if (!paths)
		return -ENOMEM;
	p->link_paths = paths;
	pids = reallocarray(p->link_pids, cap, sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	p->link_pids = pids;
	memset(links + p->cap_links, 0, (cap - p->cap_links) * sizeof(*links));
	memset(paths + p->cap_links, 0, (cap - p->cap_links) * sizeof(*paths));
	memset(pids + p->cap_links, 0, (cap - p->cap_links) * sizeof(*pids));
	p->cap_links = cap;
	return 0;
}

int probe_attach_module(struct probe *p, size_t module, const char *path_override,
			pid_t pid)
{
	const struct site_table *t = p->table;
	const struct site_module *m = &t->modules[module];
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	struct bpf_link *link;
	int err = 0;

	if (m->nsites == 0)
		return 0;
	if (m->first_site + m->nsites > p->max_sites)
		return -ENOSPC;
	if (module < p->cap_links && p->links[module])
		return -EEXIST;
	err = links_reserve(p, module);
	if (err)
		return err;
	offsets = calloc(m->nsites, sizeof(*offsets));
	cookies = calloc(m->nsites, sizeof(*cookies));
	if (!offsets || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->nsites; i++) {
		size_t index = m->first_site + i;

		offsets[i] = site_probe_offset(t, index);
		cookies[i] = index;
	}
	opts.offsets = offsets;
	opts.cookies = cookies;
	opts.cnt = m->nsites;

	link = bpf_program__attach_uprobe_multi(p->skel->progs.count_hit, pid,
						path_override ? path_override : m->open_path,
						NULL, &opts);
	if (!link) {
		err = -errno;
		goto out;
	}
	p->links[module] = link;
	p->nlinks++;
	free(p->link_paths[module]);
	p->link_paths[module] = path_override ? strdup(path_override) : NULL;
	p->link_pids[module] = pid;
out:
	free(offsets);
	free(cookies);
	return err;
}

int probe_replace_module(struct probe *p, size_t module, const size_t *sites, size_t n)
{
	const struct site_table *t = p->table;
	const struct site_module *m = &t->modules[module];
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	struct bpf_link *link = NULL;
	int err = 0;

	if (module >= p->cap_links || !p->links[module])
		return -ENOENT;
	if (n) {
		offsets = calloc(n, sizeof(*offsets));
		cookies = calloc(n, sizeof(*cookies));
		if (!offsets || !cookies) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (sites[i] < m->first_site || sites[i] >= m->first_site + m->nsites) {
				err = -EINVAL;
				goto out;
			}
			offsets[i] = site_probe_offset(t, sites[i]);
			cookies[i] = sites[i];
		}
		opts.offsets = offsets;
		opts.cookies = cookies;
		opts.cnt = n;
		link = bpf_program__attach_uprobe_multi(p->skel->progs.count_hit,
							p->link_pids[module],
							p->link_paths[module] ? p->link_paths[module] :
							m->open_path, NULL, &opts);
		if (!link) {
			err = -errno;
			goto out;
		}
	}
	/*
	 * Only now the old one: the kept sites had both links for a moment
	 * (a hit then counts twice), never none.  Destroying waits for an RCU
	 * grace period; the sites left out lose their breakpoints here.
	 */
	bpf_link__destroy(p->links[module]);
	p->links[module] = link;
	if (!link)
		p->nlinks--;
out:
	free(offsets);
	free(cookies);
	return err;
}

/* Threads that destroy links at once, besides the caller. */
#define DETACH_THREADS 15

/* The links probe_detach() hands out, one at a time, to whichever thread is free. */
struct detach_job {
	struct bpf_link **links;
	size_t n;
	size_t next;	/* atomic: the next index to take */
};

static void *detach_worker(void *arg)
{
	struct detach_job *job = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->n) {
		bpf_link__destroy(job->links[i]);
		job->links[i] = NULL;
	}
	return NULL;
}

/*
 * Destroying a uprobe.multi link returns only after an RCU tasks-trace
 * grace period (uprobe_unregister_sync(): 16-80 ms here), whatever its
 * size, and grace periods that callers wait for at the same time are
 * shared: one link per thread takes one grace period for all of them
 * instead of one each (BENCHMARKS.md section 7).
 */
void probe_detach(struct probe *p)
{
	struct detach_job job = {};
	pthread_t threads[DETACH_THREADS];
	size_t nthreads = 0, live = 0;

	if (!p || !p->links)
		return;
	job.links = p->links;
	job.n = p->cap_links;	/* empty slots are passed over at no cost */
	for (size_t i = 0; i < p->cap_links; i++)
		live += p->links[i] != NULL;
	while (nthreads + 1 < live && nthreads < DETACH_THREADS &&
	       !pthread_create(&threads[nthreads], NULL, detach_worker, &job))
		nthreads++;
	/* Without threads (none could start) the caller destroys them all, one by one. */
	detach_worker(&job);
	while (nthreads)
		pthread_join(threads[--nthreads], NULL);
	p->nlinks = 0;
}

uint64_t *probe_counters(struct probe *p)
{
	return p->counters;
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	probe_detach(p);
	ring_buffer__free(p->events);
	if (p->counters)
		munmap(p->counters, p->counters_len);
	counter_bpf__destroy(p->skel);
	if (p->link_paths)
		for (size_t i = 0; i < p->cap_links; i++)
			free(p->link_paths[i]);
	free(p->link_paths);
	free(p->link_pids);
	free(p->links);
	free(p);
}

int probe_track(struct probe *p, pid_t pid)
{
	__u32 key = pid;
	__u8 running = 2;	/* TRACK_RUNNING: an exec makes it STARTING */

	if (bpf_map__update_elem(p->skel->maps.tracked, &key, sizeof(key), &running,
				 sizeof(running), BPF_ANY))
		return -errno;
	return 0;
}

int probe_untrack(struct probe *p, pid_t pid)
{
	__u32 key = pid;

	if (bpf_map__delete_elem(p->skel->maps.tracked, &key, sizeof(key), 0))
		return -errno;
	return 0;
}

long probe_tracked(struct probe *p, pid_t *pids, size_t cap)
{
	__u32 key, next;
	const __u32 *prev = NULL;
	long n = 0;

	/* The BPF side may add and delete meanwhile: a snapshot, not an atomic one. */
	while (!bpf_map__get_next_key(p->skel->maps.tracked, prev, &next, sizeof(next))) {
		if ((size_t)n < cap)
			pids[n] = next;
		n++;
		key = next;
		prev = &key;
	}
	if (errno != ENOENT)
		return -errno;
	return n;
}

uint64_t probe_kdev(dev_t st_dev)
{
	return ((uint64_t)major(st_dev) << 20) | minor(st_dev);
}

int probe_mark_known(struct probe *p, uint64_t dev, uint64_t ino)
{
	struct ukcov_file_id id = { .dev = dev, .ino = ino };
	__u8 one = 1;

	if (bpf_map__update_elem(p->skel->maps.known, &id, sizeof(id), &one,
				 sizeof(one), BPF_ANY))
		return -errno;
	return 0;
}

static int on_ring_event(void *ctx, void *data, size_t size)
{
	struct probe *p = ctx;
	const struct ukcov_event *raw = data;
	char name[UKCOV_EV_PATH_MAX];
	struct probe_event ev;

	if (size < sizeof(*raw))
		return 0;
	memcpy(name, raw->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	ev = (struct probe_event){
		.type = raw->type,
		.pid = raw->pid,
		.held = raw->held,
		.dev = raw->file.dev,
		.ino = raw->file.ino,
		.addr = raw->addr,
		.len = raw->len,
		.pgoff = raw->pgoff,
		.name = name,
	};
	return p->event_fn(p->event_ctx, &ev);
}

int probe_events_open(struct probe *p, probe_event_fn fn, void *ctx)
{
	if (p->events)
		return -EBUSY;
	p->event_fn = fn;
	p->event_ctx = ctx;
	p->events = ring_buffer__new(bpf_map__fd(p->skel->maps.events), on_ring_event, p, NULL);
	return p->events ? 0 : -errno;
}

int probe_events_fd(const struct probe *p)
{
	return p->events ? ring_buffer__epoll_fd(p->events) : -1;
}

int probe_events_consume(struct probe *p)
{
	return p->events ? ring_buffer__consume(p->events) : 0;
}

uint64_t probe_lost_events(const struct probe *p)
{
	return __atomic_load_n(&p->skel->bss->lost_events, __ATOMIC_RELAXED);
}

uint64_t probe_lost_forks(const struct probe *p)
{
	return __atomic_load_n(&p->skel->bss->lost_forks, __ATOMIC_RELAXED);
}
