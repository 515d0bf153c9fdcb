/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The randomness source handed to every engine operation that needs it.
 * The engine keeps no global RNG: callers pass one in. mls_rng_system()
 * fills from libsodium (getrandom); the daemon substitutes its entropy pool
 * (mls/entropy, RFC 8937 hedging), tests a deterministic source.
 */
#ifndef MLS_RNG_H
#define MLS_RNG_H

#include "mls/common.h"

struct mls_rng {
        /* Fills buf[0..len) with random bytes; 0 or MLS_E_ENTROPY. */
        int (*fill)(void *ctx, uint8_t *buf, size_t len);
        void *ctx;
};

/* libsodium's randombytes_buf (getrandom on Linux). */
const struct mls_rng *mls_rng_system(void);

static inline MLS_MUST_CHECK int
mls_rng_fill(const struct mls_rng *rng, uint8_t *buf, size_t len)
{
        if (!rng || !rng->fill)
                return MLS_E_INVALID_ARGUMENT;
        return rng->fill(rng->ctx, buf, len);
}

#endif
