/* SPDX-License-Identifier: Apache-2.0 */
#include "mls/rng.h"

#include <sodium.h>

static int
system_fill(void *ctx, uint8_t *buf, size_t len)
{
        (void)ctx;
        randombytes_buf(buf, len);
        return 0;
}

/* A const object, not mutable global state. */
static const struct mls_rng system_rng = { .fill = system_fill, .ctx = NULL };

const struct mls_rng *
mls_rng_system(void)
{
        return &system_rng;
}
