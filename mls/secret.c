/* SPDX-License-Identifier: Apache-2.0 */
#include "mls/secret.h"

#include <string.h>
#include <sodium.h>

int
mls_secret_new(size_t len, struct mls_secret **ret_s)
{
        struct mls_secret *s;

        s = malloc(sizeof(*s));
        if (!s)
                return MLS_E_NOMEM;
        /* sodium_malloc(0) is legal but we want a real guarded page. */
        s->data = sodium_malloc(len ? len : 1);
        if (!s->data) {
                free(s);
                return MLS_E_NOMEM;
        }
        sodium_memzero(s->data, len ? len : 1);
        s->len = len;
        *ret_s = s;
        return 0;
}

int
mls_secret_from(const uint8_t *p, size_t len, struct mls_secret **ret_s)
{
        struct mls_secret *s;

        MLS_TRY(mls_secret_new(len, &s));
        if (len)
                memcpy(s->data, p, len);
        *ret_s = s;
        return 0;
}

int
mls_secret_dup(const struct mls_secret *src, struct mls_secret **ret_s)
{
        return mls_secret_from(src->data, src->len, ret_s);
}

void
mls_secret_free(struct mls_secret *s)
{
        if (!s)
                return;
        sodium_free(s->data); /* wipes */
        free(s);
}

void
mls_secret_freep(struct mls_secret **s)
{
        mls_secret_free(*s);
        *s = NULL;
}

bool
mls_secret_eq(const struct mls_secret *a, const struct mls_secret *b)
{
        if (a->len != b->len)
                return false;
        return mls_ct_eq(a->data, b->data, a->len);
}

bool
mls_ct_eq(const uint8_t *a, const uint8_t *b, size_t len)
{
        if (len == 0)
                return true;
        return sodium_memcmp(a, b, len) == 0;
}

void
mls_wipe(void *p, size_t len)
{
        if (p && len)
                sodium_memzero(p, len);
}

/* ---- guarded block pool ---- */

#define GPOOL_CLASSES 13 /* 64 << 0 .. 64 << 12 = 256 KiB */

struct mls_gpool {
        void *blocks[GPOOL_CLASSES][MLS_GPOOL_PER_CLASS];
        uint8_t n[GPOOL_CLASSES];
        uint64_t allocs;
};

/* The class of a capacity that is exactly a cached size, or -1. */
static int
gpool_class_of_cap(size_t cap)
{
        for (int c = 0; c < GPOOL_CLASSES; c++)
                if (cap == ((size_t)MLS_GPOOL_MIN << c))
                        return c;
        return -1;
}

int
mls_gpool_new(struct mls_gpool **ret_pool)
{
        struct mls_gpool *p = calloc(1, sizeof(*p));

        if (!p)
                return MLS_E_NOMEM;
        *ret_pool = p;
        return 0;
}

void
mls_gpool_free(struct mls_gpool *pool)
{
        if (!pool)
                return;
        for (int c = 0; c < GPOOL_CLASSES; c++)
                for (unsigned i = 0; i < pool->n[c]; i++)
                        sodium_free(pool->blocks[c][i]);
        free(pool);
}

void
mls_gpool_freep(struct mls_gpool **pool)
{
        mls_gpool_free(*pool);
        *pool = NULL;
}

void *
mls_gpool_alloc(struct mls_gpool *pool, size_t len, size_t *ret_cap)
{
        size_t cap = MLS_GPOOL_MIN;
        int c = 0;
        void *b;

        if (!pool || len > MLS_GPOOL_MAX) {
                b = sodium_malloc(len ? len : 1);
                if (b)
                        *ret_cap = len ? len : 1;
                if (b && pool)
                        pool->allocs++;
                return b;
        }
        while (cap < len) {
                cap <<= 1;
                c++;
        }
        if (pool->n[c] > 0) {
                *ret_cap = cap;
                return pool->blocks[c][--pool->n[c]];
        }
        b = sodium_malloc(cap);
        if (b) {
                pool->allocs++;
                *ret_cap = cap;
        }
        return b;
}

void
mls_gpool_release(struct mls_gpool *pool, void *buf, size_t cap)
{
        int c;

        if (!buf)
                return;
        c = pool ? gpool_class_of_cap(cap) : -1;
        if (c < 0 || pool->n[c] == MLS_GPOOL_PER_CLASS) {
                sodium_free(buf); /* wipes */
                return;
        }
        sodium_memzero(buf, cap);
        pool->blocks[c][pool->n[c]++] = buf;
}

void
mls_gpool_stats(const struct mls_gpool *pool, size_t *ret_cached, uint64_t *ret_allocs)
{
        size_t n = 0;

        if (pool)
                for (int c = 0; c < GPOOL_CLASSES; c++)
                        n += pool->n[c];
        *ret_cached = n;
        *ret_allocs = pool ? pool->allocs : 0;
}
