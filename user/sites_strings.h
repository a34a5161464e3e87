/* SPDX-License-Identifier: MIT */
/*
 * The site table's string pool: every name and path the table holds,
 * stored once each, in chunks that never move, so a string's address is
 * good for the pool's life.  Private to user/sites*.c.
 *
 * The compact site records (sites_store.h) name a string by a 32-bit id
 * rather than an 8-byte pointer: the chunk's number in the upper 16 bits,
 * the offset in the chunk in the lower 16 (chunks hold 64 KiB, and a
 * longer string gets a chunk of its own at offset 0).  Id 0 is NULL.
 *
 * Finding a string already stored takes a hash index of 4 bytes a slot,
 * at most half full: 8-16 bytes a distinct string while a table is built.
 * site_strings_seal() gives it back once the table stops growing; the
 * next intern rebuilds it from the chunks (a table that grows later,
 * --dlopen or --libs, pays that once a module).
 */
#ifndef UKCOV_SITES_STRINGS_H
#define UKCOV_SITES_STRINGS_H

#include <stddef.h>
#include <stdint.h>

struct site_strings;

/* An empty pool; NULL and errno set on allocation failure. */
struct site_strings *site_strings_new(void);

/* Frees the pool and every string and block it handed out.  Accepts NULL. */
void site_strings_free(struct site_strings *s);

/*
 * The stored copy of @str, storing it on first use; *@id (when non-NULL)
 * receives its id.  Returns NULL and sets errno: ENOMEM, or E2BIG when the
 * pool holds 4 GiB of strings.
 */
char *site_strings_intern_id(struct site_strings *s, const char *str, uint32_t *id);

/* site_strings_intern_id() without the id. */
char *site_strings_intern(struct site_strings *s, const char *str);

/*
 * The id of @p when it is a string this pool stored (an intern's return
 * value), else 0: a binary search over the chunks, no hashing.
 */
uint32_t site_strings_id(const struct site_strings *s, const char *p);

/* The string with id @id (which this pool gave out), NULL for 0. */
const char *site_strings_at(const struct site_strings *s, uint32_t id);

/* Frees the hash index until the next intern (see the top). */
void site_strings_seal(struct site_strings *s);

/*
 * @size bytes of zeroed storage that live as long as @s, aligned for any
 * of the table's structs (the rows of bb sites).  Kept apart from the
 * strings, which the index rebuild walks.  Returns NULL and sets errno on
 * allocation failure.
 */
void *site_strings_alloc(struct site_strings *s, size_t size);

/*
 * The id of the block site_strings_alloc() returned as @p (ids as for
 * strings), else 0; and the block with id @id, NULL for 0.
 */
uint32_t site_strings_block_id(const struct site_strings *s, const void *p);
const void *site_strings_block_at(const struct site_strings *s, uint32_t id);

/* Heap bytes the pool holds: chunks, blocks and index. */
size_t site_strings_bytes(const struct site_strings *s);

#endif /* UKCOV_SITES_STRINGS_H */
