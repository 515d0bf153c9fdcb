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
