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

#endif
