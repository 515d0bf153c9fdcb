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

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secret_new_is_zeroed),
                cmocka_unit_test(test_secret_copy_dup_eq),
                cmocka_unit_test(test_secret_cleanup_and_take),
                cmocka_unit_test(test_ct_eq),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
