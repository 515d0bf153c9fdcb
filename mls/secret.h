/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret byte strings. The bytes live only in libsodium guarded memory
 * (sodium_malloc: guard pages, canary, mlock'd where possible) and are wiped
 * by sodium_free. The small header holding the length is ordinary memory:
 * lengths are not secret.
 *
 * sodium_init() must have succeeded before any of these is called (the
 * daemon and every test call it once at start; it is not a global of the
 * engine, it is libsodium's).
 */
#ifndef MLS_SECRET_H
#define MLS_SECRET_H

#include "mls/common.h"

struct mls_secret {
        size_t len;
        uint8_t *data; /* sodium_malloc'd, at least 1 byte */
};

/* A new zero-filled secret of len bytes. */
MLS_MUST_CHECK int mls_secret_new(size_t len, struct mls_secret **ret_s);
/* A new secret holding a copy of p[0..len). */
MLS_MUST_CHECK int mls_secret_from(const uint8_t *p, size_t len, struct mls_secret **ret_s);
MLS_MUST_CHECK int mls_secret_dup(const struct mls_secret *s, struct mls_secret **ret_s);
/* Wipes and frees; NULL is a no-op. */
void mls_secret_free(struct mls_secret *s);
void mls_secret_freep(struct mls_secret **s);
#define _mls_secret_ _mls_cleanup_(mls_secret_freep)

/* Constant-time equality of two secrets (false if lengths differ). */
bool mls_secret_eq(const struct mls_secret *a, const struct mls_secret *b);

/* Constant-time comparison of equal-length public buffers, e.g. MACs/tags.
 * Returns true when equal. */
bool mls_ct_eq(const uint8_t *a, const uint8_t *b, size_t len);

/* Wipes a stack or heap temporary. */
void mls_wipe(void *p, size_t len);

/*
 * A cache of guarded blocks for hot paths. sodium_malloc costs an mmap,
 * three mprotects and an mlock (15-20 us here) and sodium_free as much
 * again, which dominates a request that otherwise takes a few dozen
 * microseconds. A pool keeps released blocks of power-of-two sizes from
 * MLS_GPOOL_MIN to MLS_GPOOL_MAX bytes (at most MLS_GPOOL_PER_CLASS of each)
 * and hands them out again; a block is wiped (sodium_memzero, whole
 * capacity) when it is released, so a cached block holds no secret. Larger
 * requests, and every request to a NULL pool, go straight to
 * sodium_malloc/sodium_free. Owned by one context (a process loop, a
 * group); not thread-safe. The engine keeps no pool of its own: callers
 * create one and pass it in.
 */
#define MLS_GPOOL_MIN 64
#define MLS_GPOOL_MAX (256 * 1024)
#define MLS_GPOOL_PER_CLASS 4

struct mls_gpool;

MLS_MUST_CHECK int mls_gpool_new(struct mls_gpool **ret_pool);
/* Frees every cached block; NULL is a no-op. Blocks still handed out must
 * be released before (or with a NULL pool: see mls_gpool_release). */
void mls_gpool_free(struct mls_gpool *pool);
void mls_gpool_freep(struct mls_gpool **pool);
#define _mls_gpool_ _mls_cleanup_(mls_gpool_freep)
/* A guarded block of at least len bytes (contents unspecified); its
 * capacity in *ret_cap (pass it back to mls_gpool_release). NULL when out
 * of memory. */
void *mls_gpool_alloc(struct mls_gpool *pool, size_t len, size_t *ret_cap);
/* Wipes the whole block and caches it, or sodium_frees it (pool NULL, cap
 * not a cached class, or the class full). NULL buf is a no-op. */
void mls_gpool_release(struct mls_gpool *pool, void *buf, size_t cap);
/* Blocks the pool holds now, and sodium_malloc calls it made (tests). */
void mls_gpool_stats(const struct mls_gpool *pool, size_t *ret_cached, uint64_t *ret_allocs);

#endif
