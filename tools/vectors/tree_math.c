/* SPDX-License-Identifier: Apache-2.0 */
/* tree-math.json: array-tree index arithmetic (RFC 9420 appendix C).
 * R-4.1.1-1, R-4.1.2-1. */
#include "tools/vectors/vectors.h"
#include "mls/treemath.h"

/* Compares one array (left/right/parent/sibling) with what fn computes;
 * null in the file means fn must fail. */
static enum vec_result
check_array(struct vec_case *c, const char *key, uint32_t n_nodes, uint32_t n_leaves,
            int (*fn)(uint32_t x, uint32_t n, uint32_t *ret))
{
        json_object *arr;

        if (!vec_get(c, c->obj, key, &arr))
                return VEC_FAIL;
        if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != n_nodes)
                return vec_fail(c, "%s: not an array of n_nodes entries", key);
        for (uint32_t x = 0; x < n_nodes; x++) {
                json_object *e = json_object_array_get_idx(arr, x);
                uint32_t got = 0;
                int r = fn(x, n_leaves, &got);

                if (e == NULL || json_object_is_type(e, json_type_null)) {
                        if (r == 0)
                                return vec_fail(c, "%s[%u]: expected none, got %u", key, x, got);
                        continue;
                }
                if (r < 0)
                        return vec_fail(c, "%s[%u]: expected %lld, got error %d", key, x,
                                        (long long)json_object_get_int64(e), r);
                if ((int64_t)got != json_object_get_int64(e))
                        return vec_fail(c, "%s[%u]: expected %lld, got %u", key, x,
                                        (long long)json_object_get_int64(e), got);
        }
        return VEC_PASS;
}

static int
left_n(uint32_t x, uint32_t n, uint32_t *ret)
{
        (void)n;
        return mls_tm_left(x, ret);
}

static int
right_n(uint32_t x, uint32_t n, uint32_t *ret)
{
        (void)n;
        return mls_tm_right(x, ret);
}

enum vec_result
vec_tree_math(struct vec_case *c)
{
        uint64_t n_leaves, n_nodes, root;
        uint32_t got_root;
        enum vec_result r;

        if (!vec_u64(c, c->obj, "n_leaves", &n_leaves) || !vec_u64(c, c->obj, "n_nodes", &n_nodes) ||
            !vec_u64(c, c->obj, "root", &root))
                return VEC_FAIL;
        if (n_leaves == 0 || n_leaves > MLS_TM_MAX_LEAVES)
                return vec_fail(c, "n_leaves out of range");
        if (mls_tm_node_width((uint32_t)n_leaves) != n_nodes)
                return vec_fail(c, "node_width %u != n_nodes %llu",
                                mls_tm_node_width((uint32_t)n_leaves), (unsigned long long)n_nodes);
        if (mls_tm_root((uint32_t)n_leaves, &got_root) < 0 || got_root != root)
                return vec_fail(c, "root mismatch");
        if ((r = check_array(c, "left", (uint32_t)n_nodes, (uint32_t)n_leaves, left_n)) != VEC_PASS)
                return r;
        if ((r = check_array(c, "right", (uint32_t)n_nodes, (uint32_t)n_leaves, right_n)) != VEC_PASS)
                return r;
        if ((r = check_array(c, "parent", (uint32_t)n_nodes, (uint32_t)n_leaves, mls_tm_parent)) !=
            VEC_PASS)
                return r;
        return check_array(c, "sibling", (uint32_t)n_nodes, (uint32_t)n_leaves, mls_tm_sibling);
}
