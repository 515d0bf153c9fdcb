/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mls/treemath at the edges: 1 leaf, 2 leaves, 2^31 leaves,
 * out-of-range indices. R-4.1.1-1, R-4.1.2-1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mls/treemath.h"

static void
test_treemath_one_leaf(void **state)
{
        uint32_t root, x, path[MLS_TM_MAX_DEPTH];
        size_t n;

        (void)state;
        assert_int_equal(mls_tm_node_width(1), 1);
        assert_int_equal(mls_tm_root(1, &root), 0);
        assert_int_equal(root, 0);
        assert_int_equal(mls_tm_parent(0, 1, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_sibling(0, 1, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_left(0, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_right(0, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_direct_path(0, 1, path, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(mls_tm_copath(0, 1, path, &n), 0);
        assert_int_equal(n, 0);
        /* node 1 is outside a one-leaf tree */
        assert_int_equal(mls_tm_direct_path(1, 1, path, &n), MLS_E_TREE_INDEX);
}

static void
test_treemath_two_leaves(void **state)
{
        uint32_t root, x, path[MLS_TM_MAX_DEPTH];
        size_t n;

        (void)state;
        assert_int_equal(mls_tm_node_width(2), 3);
        assert_int_equal(mls_tm_root(2, &root), 0);
        assert_int_equal(root, 1);
        assert_int_equal(mls_tm_parent(0, 2, &x), 0);
        assert_int_equal(x, 1);
        assert_int_equal(mls_tm_parent(2, 2, &x), 0);
        assert_int_equal(x, 1);
        assert_int_equal(mls_tm_sibling(0, 2, &x), 0);
        assert_int_equal(x, 2);
        assert_int_equal(mls_tm_sibling(2, 2, &x), 0);
        assert_int_equal(x, 0);
        assert_int_equal(mls_tm_parent(1, 2, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_parent(3, 2, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_direct_path(2, 2, path, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(path[0], 1);
        assert_int_equal(mls_tm_copath(2, 2, path, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(path[0], 0);
}

static void
test_treemath_zero_and_too_many_leaves(void **state)
{
        uint32_t root;

        (void)state;
        assert_int_equal(mls_tm_node_width(0), 0);
        assert_int_equal(mls_tm_root(0, &root), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_root(MLS_TM_MAX_LEAVES + 1, &root), MLS_E_TREE_INDEX);
}

/* The largest tree: 2^31 leaves, 2^32 - 1 nodes, 31 levels. */
static void
test_treemath_max_leaves(void **state)
{
        const uint32_t n = MLS_TM_MAX_LEAVES;
        const uint32_t last_leaf = (n - 1) * 2; /* node 2^32 - 2 */
        uint32_t root, x, path[MLS_TM_MAX_DEPTH], co[MLS_TM_MAX_DEPTH];
        size_t len, clen;

        (void)state;
        assert_int_equal(mls_tm_node_width(n), UINT32_MAX);
        assert_int_equal(mls_tm_root(n, &root), 0);
        assert_int_equal(root, 0x7fffffffu);
        assert_int_equal(mls_tm_level(root), 31);
        assert_int_equal(mls_tm_left(root, &x), 0);
        assert_int_equal(x, 0x3fffffffu);
        assert_int_equal(mls_tm_right(root, &x), 0);
        assert_int_equal(x, 0xbfffffffu);

        assert_int_equal(mls_tm_direct_path(last_leaf, n, path, &len), 0);
        assert_int_equal(len, 31);
        assert_int_equal(path[len - 1], root);
        assert_int_equal(path[0], last_leaf - 1);
        assert_int_equal(mls_tm_copath(last_leaf, n, co, &clen), 0);
        assert_int_equal(clen, 31);
        assert_int_equal(co[0], last_leaf - 2);
        assert_int_equal(co[clen - 1], 0x3fffffffu);
        for (size_t i = 1; i < len; i++)
                assert_int_equal(mls_tm_level(path[i]), i + 1);

        assert_int_equal(mls_tm_direct_path(0, n, path, &len), 0);
        assert_int_equal(len, 31);
        assert_int_equal(mls_tm_parent(root, n, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_parent(UINT32_MAX, n, &x), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tm_common_ancestor(0, last_leaf), root);
        assert_true(mls_tm_in_subtree(last_leaf, root));
        assert_true(mls_tm_in_subtree(0, root));
}

/* Properties over every node of trees up to 2^10 leaves: children's parent
 * is the node; the sibling's sibling is the node; direct paths end at the
 * root; the leaf span matches the subtree test. */
static void
test_treemath_properties(void **state)
{
        (void)state;
        for (uint32_t n = 1; n <= 1024; n *= 2) {
                uint32_t w = mls_tm_node_width(n), root;

                assert_int_equal(mls_tm_root(n, &root), 0);
                for (uint32_t x = 0; x < w; x++) {
                        uint32_t l, r, p, s, s2, path[MLS_TM_MAX_DEPTH], first, end;
                        size_t len;

                        if (!mls_tm_is_leaf(x)) {
                                assert_int_equal(mls_tm_left(x, &l), 0);
                                assert_int_equal(mls_tm_right(x, &r), 0);
                                assert_int_equal(mls_tm_parent(l, n, &p), 0);
                                assert_int_equal(p, x);
                                assert_int_equal(mls_tm_parent(r, n, &p), 0);
                                assert_int_equal(p, x);
                                assert_int_equal(mls_tm_common_ancestor(l, r), x);
                        }
                        if (x != root) {
                                assert_int_equal(mls_tm_sibling(x, n, &s), 0);
                                assert_int_equal(mls_tm_sibling(s, n, &s2), 0);
                                assert_int_equal(s2, x);
                        }
                        assert_int_equal(mls_tm_direct_path(x, n, path, &len), 0);
                        if (len)
                                assert_int_equal(path[len - 1], root);
                        mls_tm_leaf_span(x, &first, &end);
                        assert_int_equal(end - first, 1u << mls_tm_level(x));
                        for (uint32_t leaf = 0; leaf < n; leaf++)
                                assert_int_equal(mls_tm_in_subtree(mls_tm_leaf_to_node(leaf), x),
                                                 leaf >= first && leaf < end);
                        if (n > 64)
                                break; /* the O(n^2) span check only on small trees */
                }
        }
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_treemath_one_leaf),
                cmocka_unit_test(test_treemath_two_leaves),
                cmocka_unit_test(test_treemath_zero_and_too_many_leaves),
                cmocka_unit_test(test_treemath_max_leaves),
                cmocka_unit_test(test_treemath_properties),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
