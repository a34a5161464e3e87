/* SPDX-License-Identifier: MIT */
/*
 * ukcov/kcov.h - the kcov stream that `ukcov run --format kcov` writes.
 *
 * A consumer needs nothing but this header to read the stream.
 *
 * Synthetic PCs
 *   ukcov gives every site (a probed code location) a synthetic PC:
 *   UKCOV_PC_BASE + site index, where sites are numbered densely in a fixed
 *   order (module path, then address within the module).  The base lies in
 *   the x86-64 kernel text range, so tools written for Linux kcov (syzkaller
 *   and friends drop PCs outside that range) accept the PCs unchanged.
 *   `ukcov sites` prints the table that maps each PC back to its module,
 *   file offset, function and file:line.
 *
 * Stream layout
 *   A kcov stream is a sequence of records and nothing else: no header, no
 *   trailer.  Each record is the coverage of one drain (one collection
 *   interval) that found at least one hit:
 *
 *       u64 n;          number of PCs in the record, n >= 1
 *       u64 pc[n];      synthetic PCs, strictly ascending (so unique)
 *
 *   All words are little-endian.  This is Linux kcov's area layout (area[0]
 *   is the count, area[1..n] the PCs), repeated once per drain, so a record
 *   can be handed to code that parses a kcov area.  The union of all records
 *   is the set of sites that ran at least once.
 *
 * Table-id record
 *   When the run saved its site table (`ukcov run --save-sites FILE`), the
 *   stream starts with one extra record that names that table (written with
 *   the first coverage record: a stream with no coverage stays empty), so a
 *   later `ukcov report --sites-file FILE` can tell a stream of another
 *   binary:
 *
 *       u64 n = 2;
 *       u64 UKCOV_KCOV_TABLE_MAGIC;     bytes "ukcovid\0" in the file
 *       u64 id;                         the sites file's "table-id"
 *
 *   The id is a 62-bit hash with its top two bits 01, so it lies in
 *   [UKCOV_KCOV_TABLE_ID_MIN, UKCOV_KCOV_TABLE_ID_MAX]: the two words are
 *   strictly ascending (the magic is below 2^56) and both are below
 *   UKCOV_PC_BASE.  The record is therefore well-formed kcov, and tools that
 *   keep only kernel-text PCs (syzkaller) drop it like any foreign PC.  A
 *   record is a table-id record exactly when n == 2 and its first word is
 *   the magic; no site PC can be either word.  Concatenated streams
 *   (`cat a.kcov b.kcov`) may carry one such record per part, each before
 *   the coverage records it describes.  Streams of runs without
 *   --save-sites have none.
 */
#ifndef UKCOV_KCOV_H
#define UKCOV_KCOV_H

#include <stdint.h>

/* First synthetic PC: site 0.  Site i is UKCOV_PC_BASE + i. */
#define UKCOV_PC_BASE 0xffffffff80000000ULL

/* Size in bytes of one word of the stream (the count or one PC). */
#define UKCOV_KCOV_WORD 8

/*
 * Largest n a well-formed record may carry: synthetic PCs are unique within
 * a record and start at UKCOV_PC_BASE, so no record can name more sites than
 * the PC space above the base holds.  Readers should also bound n by the
 * number of sites in the matching site table and by the bytes left in the
 * stream before allocating anything.
 */
#define UKCOV_KCOV_MAX_PCS (UINT64_MAX - UKCOV_PC_BASE + 1)

/* First word of a table-id record: the bytes "ukcovid\0" read as u64 LE. */
#define UKCOV_KCOV_TABLE_MAGIC 0x006469766f636b75ULL

/* Range of a table id (second word of a table-id record): bits 63..62 = 01. */
#define UKCOV_KCOV_TABLE_ID_MIN (1ULL << 62)
#define UKCOV_KCOV_TABLE_ID_MAX ((1ULL << 63) - 1)

#endif /* UKCOV_KCOV_H */
