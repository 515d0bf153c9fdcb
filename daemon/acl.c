/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon/acl.h"

enum mkd_access
mkd_acl_check(const struct mkd_acl *acl, const struct mkd_cred *c)
{
        if (c->uid == acl->owner)
                return MKD_ACCESS_OWNER;
        for (size_t i = 0; i < acl->n_uids; i++)
                if (acl->uids[i] == c->uid)
                        return MKD_ACCESS_SHARED;
        for (size_t i = 0; i < acl->n_gids; i++)
                for (size_t j = 0; j < c->n_gids; j++)
                        if (acl->gids[i] == c->gids[j])
                                return MKD_ACCESS_SHARED;
        return MKD_ACCESS_NONE;
}

static int
u32_cmp(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return (x > y) - (x < y);
}

void
mkd_acl_normalize(uint32_t *v, size_t *n)
{
        size_t out = 0;

        if (*n == 0)
                return;
        qsort(v, *n, sizeof(*v), u32_cmp);
        for (size_t i = 0; i < *n; i++)
                if (out == 0 || v[out - 1] != v[i])
                        v[out++] = v[i];
        *n = out;
}
