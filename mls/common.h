/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Common helpers of the MLS engine: cleanup attributes, ownership transfer,
 * the one guard macro. The engine does no I/O, keeps no globals, never exits:
 * every fallible function returns 0 or a negative MLS_E_* code (mls/error.h).
 */
#ifndef MLS_COMMON_H
#define MLS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>

#include "mls/error.h"

#define MLS_MUST_CHECK __attribute__((warn_unused_result))
#define _mls_cleanup_(f) __attribute__((cleanup(f)))
#define MLS_UNUSED __attribute__((unused))

/* The only guard macro: propagate a negative code. */
#define MLS_TRY(x)                              \
        do {                                    \
                int r_ = (x);                   \
                if (r_ < 0)                     \
                        return r_;              \
        } while (0)

/* Hand ownership of a pointer out of a cleanup-managed local. */
#define MLS_TAKE(p)                             \
        ({                                      \
                __typeof__(p) t_ = (p);         \
                (p) = NULL;                     \
                t_;                             \
        })

#define MLS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void
mls_freep(void *p)
{
        free(*(void **)p);
}
#define _mls_free_ _mls_cleanup_(mls_freep)

/* Overflow-checked size arithmetic. */
static inline MLS_MUST_CHECK int
mls_size_add(size_t a, size_t b, size_t *ret)
{
        if (a > SIZE_MAX - b)
                return MLS_E_TOO_LARGE;
        *ret = a + b;
        return 0;
}

static inline MLS_MUST_CHECK int
mls_size_mul(size_t a, size_t b, size_t *ret)
{
        if (b != 0 && a > SIZE_MAX / b)
                return MLS_E_TOO_LARGE;
        *ret = a * b;
        return 0;
}

#endif
