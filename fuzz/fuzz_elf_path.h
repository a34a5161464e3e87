/* SPDX-License-Identifier: MIT */
/*
 * The input of fuzz_elf_path, shared with gen_seeds (which writes seeds
 * in it):
 *
 *   [mode: 1 byte][A's length: 4 bytes, little-endian][A][B]
 *
 * A is the binary, written to DIR/bin/prog and opened by path; B, the rest
 * of the input, is its would-be separate debug file.  The mode says where
 * B goes (bits 0-1), what is put there (bits 2-3; anything but a file is
 * a trap the lookup must step around without hanging) and which sites
 * are asked for (bits 4-5).  A length past the end gives all to A.
 */
#ifndef UKCOV_FUZZ_ELF_PATH_H
#define UKCOV_FUZZ_ELF_PATH_H

#include <stdint.h>

#define ELF_PAIR_HEADER 5

enum elf_pair_where {
	PAIR_DEBUGLINK,		/* DIR/bin/NAME, NAME from A's .gnu_debuglink */
	PAIR_DEBUGLINK_SUBDIR,	/* DIR/bin/.debug/NAME */
	PAIR_BUILD_ID,		/* ROOT/.build-id/XX/REST.debug, ROOT = $UKCOV_DEBUG_ROOT */
	PAIR_DEBUG_FILE,	/* DIR/debug, named by --debug-file */
};

enum elf_pair_what {
	PAIR_FILE,		/* a regular file holding B */
	PAIR_FIFO,		/* a FIFO nobody writes */
	PAIR_DIRECTORY,
	PAIR_LINK_TO_BINARY,	/* a symlink to DIR/bin/prog itself */
};

enum elf_pair_kind {
	PAIR_FUNC,
	PAIR_LINE,
	PAIR_BB,
	PAIR_FUNC_NO_DWARF,
};

static inline uint8_t elf_pair_mode(enum elf_pair_where where, enum elf_pair_what what,
				    enum elf_pair_kind kind)
{
	return (uint8_t)(where | what << 2 | kind << 4);
}

#endif /* UKCOV_FUZZ_ELF_PATH_H */
