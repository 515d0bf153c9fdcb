/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the ratchet tree (mls/tree.h): byte 0 picks the cipher
 * suite, the rest is a ratchet_tree encoding. What decodes must re-encode
 * to the same bytes; then every tree-level routine that a joiner runs on
 * an untrusted tree (tree hash, unmerged-leaves check, parent-hash
 * verification, resolutions, filtered direct paths) runs on it, the derived
 * structures must be consistent, and a transaction of changes (remove,
 * add, path merge) rolled back must give the input back exactly.
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/tree.h"

static bool
tree_error_ok(int e)
{
        switch (e) {
        case MLS_E_TRUNCATED:
        case MLS_E_TRAILING:
        case MLS_E_NONMINIMAL:
        case MLS_E_BAD_VARINT:
        case MLS_E_TOO_LARGE:
        case MLS_E_BAD_OPTIONAL:
        case MLS_E_BAD_ENUM:
        case MLS_E_INVALID_MESSAGE:
        case MLS_E_DUPLICATE_EXTENSION:
        case MLS_E_INVALID_TREE:
        case MLS_E_DUPLICATE_KEY:
        case MLS_E_WRONG_VERSION:
                return true;
        default:
                return false;
        }
}

static void
check_same_tree(struct mls_tree *t, const uint8_t *p, size_t len, const uint8_t *h, size_t nh)
{
        struct mls_bytes out = { 0 };
        uint8_t h2[MLS_MAX_HASH_LEN];

        FUZZ_ASSERT(mls_tree_to_bytes(t, &out) == 0);
        FUZZ_ASSERT(out.len == len && memcmp(out.data, p, len) == 0);
        mls_bytes_clear(&out);
        FUZZ_ASSERT(mls_tree_hash(t, h2) == 0);
        FUZZ_ASSERT(memcmp(h, h2, nh) == 0);
        FUZZ_ASSERT(mls_tree_check_consistency(t) == 0);
}

/* Changes inside a transaction, then rollback. */
static void
mutate_and_roll_back(struct mls_tree *t)
{
        uint32_t w = mls_tree_width(t), li, nodes[MLS_TM_MAX_DEPTH], cop[MLS_TM_MAX_DEPTH];
        const struct mls_leaf_node *first = NULL;
        struct mls_bytes keys[MLS_TM_MAX_DEPTH], phs[MLS_TM_MAX_DEPTH], lph = { 0 };
        uint8_t h[MLS_MAX_HASH_LEN];
        size_t n;
        int e;

        for (uint32_t i = 0; i < w && !first; i++)
                first = mls_tree_leaf(t, i);
        FUZZ_ASSERT(mls_tree_begin(t) == 0);
        if (first) {
                struct mls_leaf_node l = *first;
                uint8_t ek[32], sk[32];

                /* a copy of the first leaf with fresh keys */
                memset(ek, 0xe1, sizeof(ek));
                memset(sk, 0x51, sizeof(sk));
                l.encryption_key = (struct mls_bytes){ .data = ek, .len = sizeof(ek) };
                l.signature_key = (struct mls_bytes){ .data = sk, .len = sizeof(sk) };
                e = mls_tree_add(t, &l, &li);
                FUZZ_ASSERT(e == 0 || e == MLS_E_DUPLICATE_KEY || e == MLS_E_INVALID_TREE);
                FUZZ_ASSERT(mls_tree_hash(t, h) == 0);
                if (mls_tree_filtered_direct_path(t, 0, nodes, cop, &n) == 0) {
                        for (size_t i = 0; i < n; i++) {
                                ek[0] = (uint8_t)(0x80 + i);
                                FUZZ_ASSERT(mls_bytes_copy(&keys[i], ek, sizeof(ek)) == 0);
                        }
                        if (mls_tree_path_parent_hashes(t, cop, keys, n, phs, &lph) == 0) {
                                ek[0] = 0x7f;
                                sk[0] = 0x7f;
                                e = mls_tree_merge_path(t, 0, &l, nodes, keys, phs, n);
                                FUZZ_ASSERT(e == 0 || e == MLS_E_DUPLICATE_KEY);
                                for (size_t i = 0; i < n; i++)
                                        mls_bytes_clear(&phs[i]);
                                mls_bytes_clear(&lph);
                        }
                        for (size_t i = 0; i < n; i++)
                                mls_bytes_clear(&keys[i]);
                }
                FUZZ_ASSERT(mls_tree_hash(t, h) == 0);
        }
        for (uint32_t i = 0; i < mls_tree_width(t); i++)
                if (mls_tree_leaf(t, i) && mls_tree_member_count(t) > 1)
                        FUZZ_ASSERT(mls_tree_remove(t, i) == 0);
        FUZZ_ASSERT(mls_tree_hash(t, h) == 0);
        FUZZ_ASSERT(mls_tree_check_consistency(t) == 0);
        mls_tree_rollback(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct mls_suite *s;
        struct mls_tree *t = NULL;
        uint8_t h[MLS_MAX_HASH_LEN];
        uint32_t nodes[MLS_TM_MAX_DEPTH], cop[MLS_TM_MAX_DEPTH];
        size_t n;
        int e;

        if (sodium_init() < 0)
                abort();
        if (size < 1)
                return 0;
        s = mls_suite_get((uint16_t)(1 + data[0] % 7));
        FUZZ_ASSERT(s);
        e = mls_tree_from_bytes(s, data + 1, size - 1, &t);
        if (e < 0) {
                FUZZ_ASSERT(tree_error_ok(e));
                return 0;
        }
        FUZZ_ASSERT(mls_tree_hash(t, h) == 0);
        check_same_tree(t, data + 1, size - 1, h, s->hash_len);
        e = mls_tree_check_unmerged(t);
        FUZZ_ASSERT(e == 0 || e == MLS_E_INVALID_TREE);
        e = mls_tree_verify_parent_hashes(t);
        FUZZ_ASSERT(e == 0 || e == MLS_E_BAD_PARENT_HASH);
        for (uint32_t x = 0; x < mls_tree_node_count(t); x++) {
                struct mls_u32_list l = { 0 };
                size_t k;

                FUZZ_ASSERT(mls_tree_resolution(t, x, NULL, 0, &l) == 0);
                FUZZ_ASSERT(mls_tree_resolution_size(t, x, NULL, 0, &k) == 0 && k == l.n);
                if (!mls_tree_node_is_blank(t, x))
                        FUZZ_ASSERT(l.n >= 1 && l.v[0] == x);
                else if (!(x & 1u))
                        FUZZ_ASSERT(l.n == 0);
                mls_tree_list_clear(&l);
        }
        for (uint32_t i = 0; i < mls_tree_width(t); i++)
                FUZZ_ASSERT(mls_tree_filtered_direct_path(t, i, nodes, cop, &n) == 0);
        mutate_and_roll_back(t);
        check_same_tree(t, data + 1, size - 1, h, s->hash_len);
        mls_tree_free(t);
        return 0;
}
