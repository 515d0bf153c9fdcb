/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the broker's access check (daemon/acl.h). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/acl.h"

static void
test_acl_owner_only(void **state)
{
        struct mkd_acl acl = { .owner = 1000 };
        struct mkd_cred owner = { .uid = 1000 }, other = { .uid = 1001 }, root = { .uid = 0 };

        (void)state;
        assert_int_equal(mkd_acl_check(&acl, &owner), MKD_ACCESS_OWNER);
        assert_int_equal(mkd_acl_check(&acl, &other), MKD_ACCESS_NONE);
        /* root has no special access */
        assert_int_equal(mkd_acl_check(&acl, &root), MKD_ACCESS_NONE);
}

static void
test_acl_shared_by_uid_and_gid(void **state)
{
        const uint32_t uids[] = { 1002, 1003 }, gids[] = { 50, 60 };
        const uint32_t g60[] = { 10, 60 }, g70[] = { 70 };
        struct mkd_acl acl = { .owner = 1000, .uids = uids, .n_uids = 2, .gids = gids, .n_gids = 2 };
        struct mkd_cred byuid = { .uid = 1003 }, bygid = { .uid = 1500, .gids = g60, .n_gids = 2 };
        struct mkd_cred none = { .uid = 1500, .gids = g70, .n_gids = 1 };
        struct mkd_cred owner_in_group = { .uid = 1000, .gids = g60, .n_gids = 2 };

        (void)state;
        assert_int_equal(mkd_acl_check(&acl, &byuid), MKD_ACCESS_SHARED);
        assert_int_equal(mkd_acl_check(&acl, &bygid), MKD_ACCESS_SHARED);
        assert_int_equal(mkd_acl_check(&acl, &none), MKD_ACCESS_NONE);
        assert_int_equal(mkd_acl_check(&acl, &owner_in_group), MKD_ACCESS_OWNER);
}

static void
test_acl_normalize_sorts_and_dedups(void **state)
{
        uint32_t v[] = { 5, 1, 5, 3, 1, 9 };
        size_t n = 6;

        (void)state;
        mkd_acl_normalize(v, &n);
        assert_int_equal(n, 4);
        assert_int_equal(v[0], 1);
        assert_int_equal(v[1], 3);
        assert_int_equal(v[2], 5);
        assert_int_equal(v[3], 9);
        n = 0;
        mkd_acl_normalize(v, &n);
        assert_int_equal(n, 0);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_acl_owner_only),
                cmocka_unit_test(test_acl_shared_by_uid_and_gid),
                cmocka_unit_test(test_acl_normalize_sorts_and_dedups),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
