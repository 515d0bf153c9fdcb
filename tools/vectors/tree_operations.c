/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tree-operations.json: one Add, Update or Remove applied to a public tree,
 * with extension and truncation, tree hashes before and after, and the
 * serialized result (FORMATS.md "tree-operations.json").
 *
 * R-7.7-1 (extend), R-7.7-2 (truncate), R-7.8-4 (hash over the padded
 * tree), R-12.4.3.3-2 (no trailing blanks), R-12.4.3.3-3 (padding).
 * Leaf validation is skipped: no group_id is given (FORMATS.md).
 */
#include <stdlib.h>
#include <string.h>

#include "mls/tree.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

struct to_case {
        struct mls_bytes before, proposal, after;
        struct mls_proposal prop;
        struct mls_tree *t;
        struct mls_bytes out;
};

static void
to_case_clear(struct to_case *x)
{
        mls_bytes_clear(&x->before);
        mls_bytes_clear(&x->proposal);
        mls_bytes_clear(&x->after);
        mls_bytes_clear(&x->out);
        mls_proposal_clear(&x->prop);
        mls_tree_free(x->t);
}

enum vec_result
vec_tree_operations(struct vec_case *c)
{
        _mls_cleanup_(to_case_clear) struct to_case x = { 0 };
        const struct mls_suite *s;
        uint8_t h[MLS_MAX_HASH_LEN];
        uint64_t suite, sender;
        uint32_t li;
        int e;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) ||
            !vec_u64(c, c->obj, "proposal_sender", &sender) ||
            !vec_hex(c, c->obj, "tree_before", &x.before) ||
            !vec_hex(c, c->obj, "proposal", &x.proposal) ||
            !vec_hex(c, c->obj, "tree_after", &x.after))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)suite);
        if (sender > UINT32_MAX)
                return vec_fail(c, "proposal_sender out of range");

        /* 1. the tree hash before */
        e = mls_tree_from_bytes(s, x.before.data, x.before.len, &x.t);
        if (e < 0)
                return vec_fail(c, "tree_before: %s", mls_err_name(e));
        e = mls_tree_hash(x.t, h);
        if (e < 0)
                return vec_fail(c, "tree hash: %s", mls_err_name(e));
        if (!vec_expect_hex(c, c->obj, "tree_hash_before", h, s->hash_len))
                return VEC_FAIL;

        /* 2. apply */
        e = mls_proposal_from_bytes(x.proposal.data, x.proposal.len, &x.prop);
        if (e < 0)
                return vec_fail(c, "proposal: %s", mls_err_name(e));
        switch (x.prop.proposal_type) {
        case MLS_PROPOSAL_ADD:
                /* R-12.1.1-3, R-12.1.1-4: the whole tree_after compared below
                 * proves the new leaf's leaf_node and the unmerged_leaves of
                 * every non-blank parent on its direct path. */
                e = mls_tree_add(x.t, &x.prop.add.key_package.leaf_node, &li);
                break;
        case MLS_PROPOSAL_UPDATE:
                e = mls_tree_update(x.t, (uint32_t)sender, &x.prop.update.leaf_node);
                break;
        case MLS_PROPOSAL_REMOVE:
                e = mls_tree_remove(x.t, x.prop.remove.removed);
                break;
        default:
                return vec_fail(c, "unexpected proposal type %u", x.prop.proposal_type);
        }
        if (e < 0)
                return vec_fail(c, "apply: %s", mls_err_name(e));
        e = mls_tree_check_consistency(x.t);
        if (e < 0)
                return vec_fail(c, "tree inconsistent after the change: %s", mls_err_name(e));

        /* 3. serialized form */
        e = mls_tree_to_bytes(x.t, &x.out);
        if (e < 0)
                return vec_fail(c, "serialize: %s", mls_err_name(e));
        if (!mls_bytes_eq(&x.out, &x.after))
                return vec_fail(c, "tree_after differs (%zu vs %zu bytes)", x.out.len,
                                x.after.len);
        /* 4. the tree hash after */
        e = mls_tree_hash(x.t, h);
        if (e < 0)
                return vec_fail(c, "tree hash: %s", mls_err_name(e));
        if (!vec_expect_hex(c, c->obj, "tree_hash_after", h, s->hash_len))
                return VEC_FAIL;
        return VEC_PASS;
}
