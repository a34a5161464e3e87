/* SPDX-License-Identifier: MIT */
/*
 * Privileges: what ukcov gives up once its probes are attached, and whose
 * credentials the command of `ukcov run` gets.
 *
 * Attaching needs CAP_BPF and CAP_PERFMON (or root); afterwards ukcov
 * mostly works on descriptors it already holds: the links, the mmapped
 * counters, the output files.  privs_drop() then empties the capability
 * sets (effective, permitted, inheritable, ambient, and the bounding set
 * when CAP_SETPCAP allows) down to the few that later steps still need,
 * and sets PR_SET_NO_NEW_PRIVS, so that a bug in the collection loop or a
 * sink cannot be turned into root's full power.  What is kept, and why:
 *
 *   committing an output / removing a failed ring (rename, unlink in its
 *   directory): CAP_DAC_OVERRIDE when the directory or one above it does
 *   not let ukcov's uid in by its mode bits (e.g. `sudo ukcov run -o x` in
 *   a user's 0755 home); CAP_FOWNER when the directory is sticky, owned by
 *   someone else, and the output replaces someone else's file.
 *   privs_output_needs() decides, from stat(), before the drop.
 *
 *   naming what followed processes exec (`# exec:` lines of run and
 *   attach -p): CAP_SYS_PTRACE, to read /proc/PID/exe of a process with
 *   other credentials (the kernel's ptrace access check).
 *
 *   growing the collection while running (--follow-exec, --dlopen, --libs,
 *   --lib: new modules are read and attached mid-run) or shrinking it
 *   (--mode once: links replaced, bytes restored through /proc/PID/mem):
 *   CAP_BPF,
 *   CAP_PERFMON, CAP_SYS_PTRACE (/proc/PID/maps, /exe), CAP_CHECKPOINT_RESTORE
 *   (/proc/PID/map_files), CAP_DAC_READ_SEARCH (the new files themselves)
 *   and CAP_KILL (continuing a held process outside ukcov's session).
 *
 * What is not dropped: the ids.  ukcov stays uid 0 and gid 0 (real,
 * effective, saved, filesystem) with its supplementary groups.  Its outputs
 * are O_TMPFILEs root created, linked and renamed into their directories
 * only at the end: under another uid, linking a file that uid neither owns
 * nor may write is refused by fs.protected_hardlinks unless CAP_FOWNER is
 * kept, and root-owned directories would need CAP_DAC_OVERRIDE, so the
 * capabilities kept would grow while the outputs stayed root's; doing it
 * right means handing the outputs to the new uid first, which the session
 * does not do.  The cost, for the record: uid 0 without capabilities still
 * passes owner-bit checks on root's own files (a 0644 file root owns stays
 * writable to it), though nothing that takes a capability (another user's
 * file closed to it, signals to other users' processes outside its
 * session, ptrace beyond what is kept, mounts, modules, raw I/O).
 * tests/unit/test_privs.c checks both halves.
 *
 * Capability sets are passed as 64-bit masks, bit N = capability N
 * (PRIVS_CAP(CAP_BPF)).
 */
#ifndef UKCOV_PRIVS_H
#define UKCOV_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/capability.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define PRIVS_CAP(cap) (UINT64_C(1) << (cap))

/* Kept while following processes: naming what they exec (/proc/PID/exe). */
#define PRIVS_KEEP_FOLLOW PRIVS_CAP(CAP_SYS_PTRACE)

/*
 * Kept while probes may still be attached, replaced or patched mid-run
 * (--follow-exec, --dlopen, --libs, --lib, --mode once).
 */
#define PRIVS_KEEP_GROWING (PRIVS_CAP(CAP_BPF) | PRIVS_CAP(CAP_PERFMON) |		\
			    PRIVS_CAP(CAP_SYS_PTRACE) | PRIVS_CAP(CAP_CHECKPOINT_RESTORE) |	\
			    PRIVS_CAP(CAP_DAC_READ_SEARCH) | PRIVS_CAP(CAP_KILL))

/*
 * Drops every capability not in @keep from the effective, permitted,
 * inheritable and ambient sets, from the bounding set too when this
 * process has CAP_SETPCAP, and sets PR_SET_NO_NEW_PRIVS.  Capabilities in
 * @keep that the process does not have stay absent.  Stores what remains
 * effective in *@kept (may be NULL).  Returns 0, or a negative errno when
 * any step failed; the process must then not go on (fail closed).
 */
int privs_drop(uint64_t keep, uint64_t *kept);

/* The effective set now, in *@caps.  Returns 0 or a negative errno. */
int privs_effective(uint64_t *caps);

/*
 * The capabilities that replacing, or removing, the file @path at the end
 * of the collection needs once the others are gone: none, CAP_DAC_OVERRIDE
 * and/or CAP_FOWNER (see above), judged by the mode bits and owners of its
 * directory and the directories above it against this process's effective
 * uid and groups.  ACLs are not read: an ACL that grants access only makes
 * ukcov keep a capability it did not need.  "-" (stdout) needs none.
 */
uint64_t privs_output_needs(const char *path);

/*
 * "CAP_BPF,CAP_PERFMON" (or "none") for messages, into @buf of @size bytes.
 * Returns @buf.
 */
const char *privs_names(uint64_t caps, char *buf, size_t size);

/* Credentials for the command of `ukcov run`. */
struct privs_user {
	bool set;		/* false: the command keeps ukcov's credentials */
	uid_t uid;
	gid_t gid;		/* primary group */
	gid_t *groups;		/* supplementary groups (malloc'd), ngroups of them */
	int ngroups;
	char *name;		/* user name (or the uid) for messages, malloc'd */
};

/*
 * Resolves whose credentials the command runs with.  @spec is --user's
 * argument (a user name, or a decimal uid that has a passwd entry), or
 * NULL: then, when ukcov's real uid is 0 and it was started through sudo
 * (SUDO_UID and SUDO_GID set, SUDO_UID not 0), the invoking user's: uid
 * SUDO_UID, primary group SUDO_GID, supplementary groups of that user as
 * initgroups(3) would set them.  Otherwise *@u is left unset.  Everything
 * is looked up here, in the parent, so that the child between fork and
 * exec only makes system calls (privs_become()).
 * Returns 0, -ENOENT (no such user), -EINVAL (malformed SUDO_UID/SUDO_GID)
 * or another negative errno.  Free with privs_user_free().
 */
int privs_user_resolve(const char *spec, struct privs_user *u);

void privs_user_free(struct privs_user *u);

/*
 * Becomes @u for good: setgroups(), setgid(), setuid(), in that order, then
 * checks that every uid and gid took and that uid 0 cannot be regained.
 * For the child between fork and exec: async-signal-safe, no allocation.
 * Does nothing when !@u->set.  Returns 0 or a negative errno.
 */
int privs_become(const struct privs_user *u);

#endif /* UKCOV_PRIVS_H */
