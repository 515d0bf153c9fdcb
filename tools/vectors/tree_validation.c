/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tree-validation.json: resolution and tree hash of every node, parent-hash
 * validity of every non-blank parent, and every leaf's signature
 * (FORMATS.md "tree-validation.json"). Lifetimes are expired in this file,
 * so the lifetime check is off.
 *
 * R-4.1.1-2 (resolution), R-7.8-1, R-7.8-2, R-7.8-3 (tree hashes), R-7.9-1,
 * R-7.9-2, R-7.9.2-1, R-7.9.2-2, R-7.9.2-3, R-7.9.2-4 (parent hashes), R-7.2-10, R-7.3-5 (leaf signatures),
 * R-12.4.3.3-3 (padding).
 */
#include <stdlib.h>
#include <string.h>

#include "mls/tree.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

struct tv_case {
        struct mls_bytes tree, group_id;
        struct mls_tree *t;
        struct mls_u32_list res;
};

static void
tv_case_clear(struct tv_case *x)
{
        mls_bytes_clear(&x->tree);
        mls_bytes_clear(&x->group_id);
        mls_tree_list_clear(&x->res);
        mls_tree_free(x->t);
}

static enum vec_result
check_resolutions(struct vec_case *c, struct tv_case *x)
{
        json_object *arr;
        uint32_t n = mls_tree_node_count(x->t);

        if (!vec_get(c, c->obj, "resolutions", &arr))
                return VEC_FAIL;
        if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != n)
                return vec_fail(c, "resolutions: expected %u entries", n);
        for (uint32_t i = 0; i < n; i++) {
                json_object *want = json_object_array_get_idx(arr, i);
                int e;

                mls_tree_list_clear(&x->res);
                e = mls_tree_resolution(x->t, i, NULL, 0, &x->res);
                if (e < 0)
                        return vec_fail(c, "resolution(%u): %s", i, mls_err_name(e));
                if (!json_object_is_type(want, json_type_array) ||
                    json_object_array_length(want) != x->res.n)
                        return vec_fail(c, "resolution(%u): %zu entries, want %zu", i, x->res.n,
                                        json_object_is_type(want, json_type_array)
                                                ? json_object_array_length(want)
                                                : 0);
                for (size_t k = 0; k < x->res.n; k++) {
                        json_object *v = json_object_array_get_idx(want, k);

                        if (!json_object_is_type(v, json_type_int) ||
                            json_object_get_int64(v) != (int64_t)x->res.v[k])
                                return vec_fail(c, "resolution(%u)[%zu] = %u differs", i, k,
                                                x->res.v[k]);
                }
        }
        return VEC_PASS;
}

static enum vec_result
check_tree_hashes(struct vec_case *c, struct tv_case *x, const struct mls_suite *s)
{
        json_object *arr;
        uint32_t n = mls_tree_node_count(x->t);
        uint8_t h[MLS_MAX_HASH_LEN];

        if (!vec_get(c, c->obj, "tree_hashes", &arr))
                return VEC_FAIL;
        if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != n)
                return vec_fail(c, "tree_hashes: expected %u entries", n);
        for (uint32_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(arr, i);
                struct mls_bytes want = { 0 };
                bool ok;
                int e;

                e = mls_tree_node_hash(x->t, i, h);
                if (e < 0)
                        return vec_fail(c, "tree hash(%u): %s", i, mls_err_name(e));
                if (!json_object_is_type(v, json_type_string) ||
                    !tu_hex_decode(json_object_get_string(v), &want))
                        return vec_fail(c, "tree_hashes[%u] is not hex", i);
                ok = want.len == s->hash_len && memcmp(want.data, h, s->hash_len) == 0;
                mls_bytes_clear(&want);
                if (!ok)
                        return vec_fail(c, "tree hash of node %u differs", i);
        }
        return VEC_PASS;
}

enum vec_result
vec_tree_validation(struct vec_case *c)
{
        _mls_cleanup_(tv_case_clear) struct tv_case x = { 0 };
        const struct mls_leaf_policy pol = { .version = MLS_VERSION_MLS10,
                                             .enforce_lifetime = false };
        const struct mls_suite *s;
        uint8_t root[MLS_MAX_HASH_LEN];
        enum vec_result r;
        uint64_t suite;
        int e;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) ||
            !vec_hex(c, c->obj, "tree", &x.tree) || !vec_hex(c, c->obj, "group_id", &x.group_id))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)suite);
        e = mls_tree_from_bytes(s, x.tree.data, x.tree.len, &x.t);
        if (e < 0)
                return vec_fail(c, "tree: %s", mls_err_name(e));
        /* 1. resolutions, 2. tree hashes */
        if ((r = check_resolutions(c, &x)) != VEC_PASS)
                return r;
        if ((r = check_tree_hashes(c, &x, s)) != VEC_PASS)
                return r;
        /* 3. parent hashes */
        e = mls_tree_verify_parent_hashes(x.t);
        if (e < 0)
                return vec_fail(c, "parent hashes: %s", mls_err_name(e));
        /* 4. every leaf's signature (and the rest of leaf validation, with
         * lifetimes off) */
        for (uint32_t i = 0; i < mls_tree_width(x.t); i++) {
                const struct mls_leaf_node *l = mls_tree_leaf(x.t, i);

                if (!l)
                        continue;
                e = mls_tree_leaf_verify_signature(x.t, l, &x.group_id, i);
                if (e < 0)
                        return vec_fail(c, "leaf %u signature: %s", i, mls_err_name(e));
        }
        /* The whole join-time validation agrees. */
        e = mls_tree_hash(x.t, root);
        if (e == 0)
                e = mls_tree_validate(x.t, root, s->hash_len, &x.group_id, &pol);
        if (e < 0)
                return vec_fail(c, "tree validation: %s", mls_err_name(e));
        return VEC_PASS;
}
