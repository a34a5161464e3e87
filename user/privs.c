// SPDX-License-Identifier: MIT
/*
 * Dropping capabilities after attach, and the credentials of `run`'s
 * command (see privs.h for what is kept and why).
 *
 * No libcap: capget/capset and prctl are all it takes, and the capability
 * numbers ukcov cares about are defined below where old headers lack them.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "privs.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* Highest capability number any kernel could know: the masks are 64 bits. */
#define PRIVS_MAX_CAP 63

static int caps_get(uint64_t *eff, uint64_t *perm)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (eff)
		*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	if (perm)
		*perm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	return 0;
}

int privs_effective(uint64_t *caps)
{
	return caps_get(caps, NULL);
}

int privs_drop(uint64_t keep, uint64_t *kept)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t eff, perm;
	int err;

	err = caps_get(&eff, &perm);
	if (err)
		return err;
	keep &= perm;

	/* Before anything else: from here on no exec can gain privileges. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	/*
	 * The bounding set caps what an exec could ever gain; changing it
	 * needs CAP_SETPCAP (root has it; a binary with only file capabilities
	 * does not, and NO_NEW_PRIVS covers that case).
	 */
	if (eff & PRIVS_CAP(CAP_SETPCAP)) {
		for (int cap = 0; cap <= PRIVS_MAX_CAP; cap++) {
			if (keep & PRIVS_CAP(cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
				if (errno == EINVAL)
					break;	/* past the kernel's last capability */
				return -errno;
			}
		}
	}
	/* EINVAL: a kernel without ambient capabilities has none to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;

	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;

	/* Trust, but verify: a silent partial drop must not pass. */
	err = caps_get(&eff, &perm);
	if (err)
		return err;
	if (eff != keep || perm != keep)
		return -EPERM;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	if (kept)
		*kept = eff;
	return 0;
}

/* Whether the mode bits of @st let the caller (uid, gids) do all of @want (07 bits). */
static bool mode_allows(const struct stat *st, unsigned int want, uid_t uid, gid_t gid,
			const gid_t *groups, int ngroups)
{
	unsigned int bits;
	bool member = st->st_gid == gid;

	for (int i = 0; i < ngroups && !member; i++)
		member = groups[i] == st->st_gid;
	/* Like the kernel: the owner gets the owner bits only, a member the group bits. */
	if (st->st_uid == uid)
		bits = (st->st_mode >> 6) & 7;
	else if (member)
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & want) == want;
}

uint64_t privs_output_needs(const char *path)
{
	const uint64_t all = PRIVS_CAP(CAP_DAC_OVERRIDE) | PRIVS_CAP(CAP_FOWNER);
	char dir[PATH_MAX];
	const char *slash, *start;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	gid_t *groups = NULL;
	uint64_t needs = 0;
	struct stat st;
	int ngroups;
	size_t len, i;

	if (!path || !strcmp(path, "-"))
		return 0;
	slash = strrchr(path, '/');
	if (!slash)
		len = snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		len = snprintf(dir, sizeof(dir), "/");
	else
		len = snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (len >= sizeof(dir))
		return all;	/* cannot tell: keep what the commit might need */

	ngroups = getgroups(0, NULL);
	if (ngroups > 0) {
		groups = calloc(ngroups, sizeof(*groups));
		if (!groups || (ngroups = getgroups(ngroups, groups)) < 0) {
			free(groups);
			return all;
		}
	} else {
		ngroups = 0;
	}

	/*
	 * Every directory the kernel walks to reach @path needs search
	 * permission, the last one write permission too.  A relative path is
	 * walked from the working directory, whose ancestors do not matter.
	 */
	start = dir[0] == '/' ? "/" : ".";
	if (strcmp(dir, start) &&
	    (stat(start, &st) || !mode_allows(&st, 1, uid, gid, groups, ngroups)))
		needs |= PRIVS_CAP(CAP_DAC_OVERRIDE);
	for (i = 1; i <= len; i++) {
		bool last = i == len;
		char saved = dir[i];

		if (!last && (dir[i] != '/' || dir[i - 1] == '/'))
			continue;
		dir[i] = '\0';
		if (stat(dir, &st) || !mode_allows(&st, last ? 3 : 1, uid, gid, groups, ngroups))
			needs |= PRIVS_CAP(CAP_DAC_OVERRIDE);
		dir[i] = saved;
	}
	/*
	 * In a sticky directory owned by someone else, replacing a file that
	 * is not ours (rename over it) takes CAP_FOWNER.
	 */
	if (!stat(dir, &st) && (st.st_mode & S_ISVTX) && st.st_uid != uid) {
		struct stat dest;

		if (!lstat(path, &dest) && dest.st_uid != uid)
			needs |= PRIVS_CAP(CAP_FOWNER);
	}
	free(groups);
	return needs;
}

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

const char *privs_names(uint64_t caps, char *buf, size_t size)
{
	size_t used = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!caps) {
		snprintf(buf, size, "none");
		return buf;
	}
	for (int cap = 0; cap <= PRIVS_MAX_CAP && used < size; cap++) {
		size_t n = sizeof(cap_names) / sizeof(cap_names[0]);

		if (!(caps & PRIVS_CAP(cap)))
			continue;
		if (cap < (int)n)
			used += snprintf(buf + used, size - used, "%s%s", used ? "," : "",
					 cap_names[cap]);
		else
			used += snprintf(buf + used, size - used, "%scap_%d", used ? "," : "", cap);
	}
	return buf;
}

/* A decimal id in 0..UINT_MAX-1 (-1 is "no change" to the set*id calls). */
static int parse_id(const char *s, unsigned int *id)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= UINT_MAX)
		return -EINVAL;
	*id = v;
	return 0;
}

/* The supplementary groups of @name with primary group @gid, as initgroups(3) sets them. */
static int user_groups(const char *name, gid_t gid, struct privs_user *u)
{
	int n = 16;

	for (int tries = 0; tries < 8; tries++) {
		gid_t *g = reallocarray(u->groups, n, sizeof(*g));
		int got = n;

		if (!g)
			return -ENOMEM;
		u->groups = g;
		if (getgrouplist(name, gid, g, &got) >= 0) {
			u->ngroups = got;
			return 0;
		}
		/* Too small: got is the number needed now (it can still grow). */
		n = got > n ? got : n * 2;
	}
	return -E2BIG;
}

int privs_user_resolve(const char *spec, struct privs_user *u)
{
	struct passwd *pw = NULL;
	unsigned int uid, gid;
	char num[32];
	int err;

	memset(u, 0, sizeof(*u));
	if (spec) {
		errno = 0;
		if (!parse_id(spec, &uid))
			pw = getpwuid(uid);
		else if (*spec)
			pw = getpwnam(spec);
		if (!pw)
			return errno && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");

		/* Only root started by sudo gives the command back to its user. */
		if (getuid() != 0 || !su || !sg)
			return 0;
		if (parse_id(su, &uid) || parse_id(sg, &gid))
			return -EINVAL;
		if (uid == 0)
			return 0;
		pw = getpwuid(uid);
	}

	u->uid = uid;
	u->gid = gid;
	if (pw) {
		err = user_groups(pw->pw_name, gid, u);
		u->name = strdup(pw->pw_name);
	} else {
		/* Not in the passwd database: the primary group is all it has. */
		u->groups = malloc(sizeof(*u->groups));
		err = u->groups ? 0 : -ENOMEM;
		if (u->groups) {
			u->groups[0] = gid;
			u->ngroups = 1;
		}
		snprintf(num, sizeof(num), "%u", uid);
		u->name = strdup(num);
	}
	if (!err && !u->name)
		err = -ENOMEM;
	if (err) {
		privs_user_free(u);
		return err;
	}
	u->set = true;
	return 0;
}

void privs_user_free(struct privs_user *u)
{
	if (!u)
		return;
	free(u->groups);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

int privs_become(const struct privs_user *u)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (!u->set)
		return 0;
	/* Groups first: once the uid is not 0 any more, they cannot change. */
	if (setgroups(u->ngroups, u->groups))
		return -errno;
	if (setresgid(u->gid, u->gid, u->gid))
		return -errno;
	if (setresuid(u->uid, u->uid, u->uid))
		return -errno;
	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		return -errno;
	if (r != u->uid || e != u->uid || s != u->uid ||
	    rg != u->gid || eg != u->gid || sg != u->gid)
		return -EPERM;
	/* Fail closed: a way back to root means the switch did not hold. */
	if (u->uid != 0 && setresuid(0, 0, 0) == 0)
		return -EPERM;
	return 0;
}
