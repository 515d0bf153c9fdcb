/* SPDX-License-Identifier: Apache-2.0 */
/* Secret buffers: guarded allocation, copies, constant-time compare,
 * cleanup attribute frees on every path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/codec.h"
#include "mls/secret.h"

static void
test_secret_new_is_zeroed(void **state)
{
        struct mls_secret *s = NULL;

        (void)state;
        assert_int_equal(mls_secret_new(48, &s), 0);
        assert_int_equal(s->len, 48);
        for (size_t i = 0; i < 48; i++)
                assert_int_equal(s->data[i], 0);
        mls_secret_free(s);
        mls_secret_free(NULL); /* NULL is a no-op */
}

static void
test_secret_copy_dup_eq(void **state)
{
        static const uint8_t k[] = { 1, 2, 3, 4, 5 };
        struct mls_secret *a = NULL, *b = NULL, *c = NULL, *e = NULL;

        (void)state;
        assert_int_equal(mls_secret_from(k, sizeof(k), &a), 0);
        assert_int_equal(mls_secret_dup(a, &b), 0);
        assert_ptr_not_equal(a->data, b->data);
        assert_true(mls_secret_eq(a, b));
        assert_int_equal(mls_secret_from(k, 4, &c), 0);
        assert_false(mls_secret_eq(a, c));
        b->data[4] ^= 1;
        assert_false(mls_secret_eq(a, b));
        assert_int_equal(mls_secret_new(0, &e), 0);
        assert_int_equal(e->len, 0);
        mls_secret_free(a);
        mls_secret_free(b);
        mls_secret_free(c);
        mls_secret_free(e);
}

static int
take_helper(struct mls_secret **ret)
{
        _mls_secret_ struct mls_secret *s = NULL;

        MLS_TRY(mls_secret_new(16, &s));
        s->data[0] = 0x5a;
        *ret = MLS_TAKE(s);
        return 0;
}

static void
test_secret_cleanup_and_take(void **state)
{
        struct mls_secret *s = NULL;

        (void)state;
        assert_int_equal(take_helper(&s), 0);
        assert_non_null(s);
        assert_int_equal(s->data[0], 0x5a);
        mls_secret_freep(&s);
        assert_null(s);
}

static void
test_ct_eq(void **state)
{
        uint8_t a[32], b[32];

        (void)state;
        memset(a, 7, sizeof(a));
        memcpy(b, a, sizeof(b));
        assert_true(mls_ct_eq(a, b, sizeof(a)));
        b[31] ^= 0x80;
        assert_false(mls_ct_eq(a, b, sizeof(a)));
        assert_true(mls_ct_eq(a, b, 0));
        mls_wipe(a, sizeof(a));
        for (size_t i = 0; i < sizeof(a); i++)
                assert_int_equal(a[i], 0);
}

/* The guarded pool: warm blocks are reused (no new sodium_malloc), every
 * released block is wiped whole, classes are bounded, oversized requests
 * bypass the cache, a writer on a pool works like a secure writer. */
static void
test_gpool_reuse_wipe_and_bounds(void **state)
{
        struct mls_gpool *p = NULL;
        uint8_t *b[MLS_GPOOL_PER_CLASS + 2];
        size_t cap, cached;
        uint64_t allocs;

        (void)state;
        assert_int_equal(mls_gpool_new(&p), 0);
        b[0] = mls_gpool_alloc(p, 100, &cap);
        assert_non_null(b[0]);
        assert_int_equal(cap, 128); /* the power-of-two class */
        memset(b[0], 0xa5, cap);
        mls_gpool_release(p, b[0], cap);
        mls_gpool_stats(p, &cached, &allocs);
        assert_int_equal(cached, 1);
        assert_int_equal(allocs, 1);
        /* The same block again, wiped. */
        assert_ptr_equal(mls_gpool_alloc(p, 128, &cap), b[0]);
        for (size_t i = 0; i < cap; i++)
                assert_int_equal(b[0][i], 0);
        mls_gpool_stats(p, &cached, &allocs);
        assert_int_equal(cached, 0);
        assert_int_equal(allocs, 1);
        /* At most MLS_GPOOL_PER_CLASS blocks of a class stay cached. */
        for (size_t i = 1; i < MLS_ARRAY_SIZE(b); i++)
                assert_non_null(b[i] = mls_gpool_alloc(p, 128, &cap));
        for (size_t i = 0; i < MLS_ARRAY_SIZE(b); i++)
                mls_gpool_release(p, b[i], 128);
        mls_gpool_stats(p, &cached, &allocs);
        assert_int_equal(cached, MLS_GPOOL_PER_CLASS);
        assert_int_equal(allocs, MLS_ARRAY_SIZE(b));
        /* Oversized: straight sodium_malloc, never cached. */
        b[0] = mls_gpool_alloc(p, MLS_GPOOL_MAX + 1, &cap);
        assert_non_null(b[0]);
        assert_int_equal(cap, MLS_GPOOL_MAX + 1);
        mls_gpool_release(p, b[0], cap);
        mls_gpool_stats(p, &cached, &allocs);
        assert_int_equal(cached, MLS_GPOOL_PER_CLASS);
        /* A NULL pool is sodium_malloc/sodium_free. */
        b[0] = mls_gpool_alloc(NULL, 10, &cap);
        assert_non_null(b[0]);
        assert_int_equal(cap, 10);
        mls_gpool_release(NULL, b[0], cap);
        mls_gpool_free(p);
}

static void
test_gpool_writer_warm_allocates_nothing(void **state)
{
        struct mls_gpool *p = NULL;
        size_t cached;
        uint64_t allocs, before;
        uint8_t chunk[300];

        (void)state;
        memset(chunk, 0x3c, sizeof(chunk));
        assert_int_equal(mls_gpool_new(&p), 0);
        for (int round = 0; round < 3; round++) {
                _mls_writer_ struct mls_writer w = { 0 };

                mls_gpool_stats(p, &cached, &before);
                mls_writer_init_pool(&w, p);
                assert_true(w.secure);
                for (int i = 0; i < 10; i++) /* grows 64 .. 4096 */
                        assert_int_equal(mls_writer_raw(&w, chunk, sizeof(chunk)), 0);
                assert_int_equal(w.len, 3000);
                assert_memory_equal(w.buf + 2700, chunk, sizeof(chunk));
                mls_writer_clear(&w);
                assert_true(w.secure);
                assert_ptr_equal(w.pool, p);
                mls_gpool_stats(p, &cached, &allocs);
                if (round > 0) /* warm: every growth step came from the pool */
                        assert_int_equal(allocs, before);
        }
        mls_gpool_free(p);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secret_new_is_zeroed),
                cmocka_unit_test(test_secret_copy_dup_eq),
                cmocka_unit_test(test_secret_cleanup_and_take),
                cmocka_unit_test(test_ct_eq),
                cmocka_unit_test(test_gpool_reuse_wipe_and_bounds),
                cmocka_unit_test(test_gpool_writer_warm_allocates_nothing),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
