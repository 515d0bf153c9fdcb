/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/tree: decoding and padding, resolution and filtered
 * direct path on the RFC's example trees, add/update/remove/truncate,
 * tree-hash caching, parent-hash and tree validation, LeafNode validation
 * (one negative test per check), key lookups and uniqueness, transactions
 * and atomicity, and memory per member.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer's runtime (gcc's and clang's); gcc ships no header. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif
#include <cmocka.h>
#include <sodium.h>

#include "mls/tree.h"
#include "mls/tree-internal.h"
#include "mls/labeled.h"
#include "tests/lib/testutil.h"
#include "tests/unit/tree_fixture.h"

static const struct mls_suite *
suite1(void)
{
        const struct mls_suite *s = mls_suite_get(1);

        assert_non_null(s);
        return s;
}

static const struct mls_leaf_policy policy_default = {
        .version = MLS_VERSION_MLS10,
        .enforce_lifetime = true,
        .now = 1700000000,
};

/* ---- building trees by hand ---- */

static struct mls_node *
fake_leaf_node(uint32_t id)
{
        struct mls_node *n = calloc(1, sizeof(*n));

        assert_non_null(n);
        n->node_type = MLS_NODE_LEAF;
        assert_int_equal(tf_fake_leaf(id, 16, &n->leaf_node), 0);
        return n;
}

static struct mls_node *
fake_parent_node(uint32_t id, const uint32_t *unmerged, size_t nu)
{
        struct mls_node *n = calloc(1, sizeof(*n));
        uint8_t key[32], ph[32];

        assert_non_null(n);
        memset(key, 0, sizeof(key));
        memcpy(key, "parent", 6);
        key[28] = (uint8_t)(id >> 24);
        key[29] = (uint8_t)(id >> 16);
        key[30] = (uint8_t)(id >> 8);
        key[31] = (uint8_t)id;
        memset(ph, 0x33, sizeof(ph));
        n->node_type = MLS_NODE_PARENT;
        assert_int_equal(mls_bytes_copy(&n->parent_node.encryption_key, key, 32), 0);
        assert_int_equal(mls_bytes_copy(&n->parent_node.parent_hash, ph, 32), 0);
        if (nu) {
                n->parent_node.unmerged_leaves.v = malloc(nu * sizeof(uint32_t));
                assert_non_null(n->parent_node.unmerged_leaves.v);
                memcpy(n->parent_node.unmerged_leaves.v, unmerged, nu * sizeof(uint32_t));
                n->parent_node.unmerged_leaves.n = nu;
        }
        return n;
}

/* A ratchet_tree of n entries with the listed nodes non-blank (fake). */
static void
rt_init(struct mls_ratchet_tree *rt, size_t n, const uint32_t *nonblank, size_t k)
{
        memset(rt, 0, sizeof(*rt));
        rt->nodes = calloc(n, sizeof(*rt->nodes));
        assert_non_null(rt->nodes);
        rt->n_nodes = n;
        for (size_t i = 0; i < k; i++) {
                uint32_t x = nonblank[i];

                assert_true(x < n);
                rt->nodes[x] = (x & 1u) ? fake_parent_node(x, NULL, 0) : fake_leaf_node(x / 2);
        }
}

static void
rt_set_unmerged(struct mls_ratchet_tree *rt, uint32_t x, const uint32_t *u, size_t nu)
{
        mls_node_clear(rt->nodes[x]);
        free(rt->nodes[x]);
        rt->nodes[x] = fake_parent_node(x, u, nu);
}

static struct mls_tree *
tree_from_rt(const struct mls_ratchet_tree *rt)
{
        struct mls_tree *t = NULL;

        assert_int_equal(mls_tree_from_ratchet_tree(suite1(), rt, &t), 0);
        return t;
}

static void
assert_list(const struct mls_u32_list *l, const uint32_t *want, size_t n)
{
        assert_int_equal(l->n, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(l->v[i], want[i]);
}

static void
tree_bytes(const struct mls_tree *t, struct mls_bytes *ret)
{
        assert_int_equal(mls_tree_to_bytes(t, ret), 0);
}

/* ---- decoding (R-12.4.3.3-x) ---- */

/* R-12.4.3.3-3: padding with blanks to 2^(d+1)-1 nodes. */
static void
test_tree_decode_pads_to_full_width(void **state)
{
        static const uint32_t nb[] = { 0, 2, 4 };
        struct mls_ratchet_tree rt;
        struct mls_tree *t;
        struct mls_bytes b = { 0 }, enc = { 0 };

        (void)state;
        rt_init(&rt, 5, nb, 3);
        t = tree_from_rt(&rt);
        assert_int_equal(mls_tree_width(t), 4);
        assert_int_equal(mls_tree_node_count(t), 7);
        assert_int_equal(mls_tree_member_count(t), 3);
        assert_null(mls_tree_leaf(t, 3));
        /* R-12.4.3.3-2: re-encoding strips the padding again */
        tree_bytes(t, &b);
        assert_int_equal(mls_ratchet_tree_to_bytes(&rt, &enc), 0);
        assert_true(mls_bytes_eq(&b, &enc));
        assert_int_equal(mls_tree_check_consistency(t), 0);
        mls_bytes_clear(&b);
        mls_bytes_clear(&enc);
        mls_tree_free(t);
        mls_ratchet_tree_clear(&rt);
}

/* A node count that cannot be a truncated tree: the last node a parent. */
static void
test_tree_decode_rejects_even_node_count(void **state)
{
        static const uint32_t nb[] = { 0, 1 };
        struct mls_ratchet_tree rt;
        struct mls_tree *t = NULL;

        (void)state;
        rt_init(&rt, 2, nb, 2);
        assert_int_equal(mls_tree_from_ratchet_tree(suite1(), &rt, &t), MLS_E_INVALID_TREE);
        assert_null(t);
        mls_ratchet_tree_clear(&rt);
}

/* R-12.4.3.3-3: a trailing blank node in the encoding is rejected; so are an
 * empty vector and a leaf at an odd position (R-12.4.3.3-4). */
static void
test_tree_decode_rejects_trailing_blank(void **state)
{
        static const uint32_t nb[] = { 0, 2 };
        struct mls_ratchet_tree rt;
        struct mls_bytes enc = { 0 };
        struct mls_tree *t = NULL;
        uint8_t *buf;
        struct mls_writer w;

        (void)state;
        rt_init(&rt, 3, nb, 2);
        assert_int_equal(mls_ratchet_tree_to_bytes(&rt, &enc), 0);
        /* body + one more absent optional, re-prefixed */
        {
                struct mls_reader r, v;

                mls_reader_init(&r, enc.data, enc.len);
                assert_int_equal(mls_reader_vec(&r, &v), 0);
                mls_writer_init(&w);
                size_t m;

                assert_int_equal(mls_writer_vec_begin(&w, &m), 0);
                assert_int_equal(mls_writer_raw(&w, v.p, v.left), 0);
                assert_int_equal(mls_writer_u8(&w, 0), 0);
                assert_int_equal(mls_writer_vec_end(&w, m), 0);
        }
        buf = tu_guarded_copy(w.buf, w.len);
        assert_int_equal(mls_tree_from_bytes(suite1(), buf, w.len, &t), MLS_E_INVALID_TREE);
        assert_null(t);
        tu_guarded_free(buf);
        mls_writer_clear(&w);
        /* the empty vector */
        {
                static const uint8_t empty[] = { 0x00 };

                assert_int_equal(mls_tree_from_bytes(suite1(), empty, 1, &t), MLS_E_INVALID_TREE);
        }
        /* truncation at every offset fails cleanly */
        for (size_t i = 0; i < enc.len; i++) {
                buf = tu_guarded_copy(enc.data, i);
                assert_true(mls_tree_from_bytes(suite1(), buf, i, &t) < 0);
                tu_guarded_free(buf);
        }
        mls_bytes_clear(&enc);
        mls_ratchet_tree_clear(&rt);
}

/* A tree wider than 2^20 leaves is refused before anything is allocated
 * for it (mostly blank entries cost one byte of input each). */
static void
test_tree_decode_rejects_too_wide(void **state)
{
        static const uint32_t nb[] = { 0 };
        struct mls_ratchet_tree rt;
        struct mls_bytes leaf = { 0 };
        struct mls_writer w;
        struct mls_tree *t = NULL;
        size_t m, blanks = ((size_t)1 << 21) - 1; /* last leaf at index 2^21 */

        (void)state;
        rt_init(&rt, 1, nb, 1);
        assert_int_equal(mls_node_to_bytes(rt.nodes[0], &leaf), 0);
        mls_writer_init(&w);
        assert_int_equal(mls_writer_vec_begin(&w, &m), 0);
        assert_int_equal(mls_writer_u8(&w, 1), 0);
        assert_int_equal(mls_writer_raw(&w, leaf.data, leaf.len), 0);
        for (size_t i = 0; i < blanks; i++)
                assert_int_equal(mls_writer_u8(&w, 0), 0);
        assert_int_equal(mls_writer_u8(&w, 1), 0);
        /* another leaf: fresh keys */
        leaf.data[5] ^= 0xff;
        assert_int_equal(mls_writer_raw(&w, leaf.data, leaf.len), 0);
        assert_int_equal(mls_writer_vec_end(&w, m), 0);
        assert_int_equal(mls_tree_from_bytes(suite1(), w.buf, w.len, &t), MLS_E_TOO_LARGE);
        assert_null(t);
        mls_writer_clear(&w);
        mls_bytes_clear(&leaf);
        mls_ratchet_tree_clear(&rt);
}

/* ---- resolution and filtered direct path (R-4.1.1-2, R-4.1.2-2) ---- */

/* The tree of RFC 9420 section 4.1.1 (figure "A Tree with Blanks and
 * Unmerged Leaves"), as the subtree under node 7 of an 8-leaf tree:
 * X = node 3 with unmerged [B = leaf 1], Y = node 9; leaves A B _ D E F _ H. */
static void
test_tree_resolution_rfc_example(void **state)
{
        static const uint32_t nb[] = { 0, 2, 3, 6, 8, 9, 10, 14 };
        static const uint32_t ub[] = { 1 };
        struct mls_ratchet_tree rt;
        struct mls_tree *t;
        struct mls_u32_list l = { 0 };
        size_t n;

        (void)state;
        rt_init(&rt, 15, nb, 8);
        rt_set_unmerged(&rt, 3, ub, 1);
        t = tree_from_rt(&rt);
        /* R-4.1.1-2: "The resolution of node X is the list [X, B]." */
        assert_int_equal(mls_tree_resolution(t, 3, NULL, 0, &l), 0);
        assert_list(&l, (const uint32_t[]){ 3, 2 }, 2);
        mls_tree_list_clear(&l);
        /* "The resolution of leaf 2 or leaf 6 is the empty list []." */
        assert_int_equal(mls_tree_resolution(t, 4, NULL, 0, &l), 0);
        assert_int_equal(l.n, 0);
        mls_tree_list_clear(&l);
        assert_int_equal(mls_tree_resolution(t, 12, NULL, 0, &l), 0);
        assert_int_equal(l.n, 0);
        mls_tree_list_clear(&l);
        /* "The resolution of top node is the list [X, B, Y, H]." */
        assert_int_equal(mls_tree_resolution(t, 7, NULL, 0, &l), 0);
        assert_list(&l, (const uint32_t[]){ 3, 2, 9, 14 }, 4);
        mls_tree_list_clear(&l);
        /* R-7.6-2: new members of the Commit are left out, as a leaf and as an
         * unmerged entry; a non-blank parent never is. */
        assert_int_equal(mls_tree_resolution(t, 7, (const uint32_t[]){ 7 }, 1, &l), 0);
        assert_list(&l, (const uint32_t[]){ 3, 2, 9 }, 3);
        mls_tree_list_clear(&l);
        assert_int_equal(mls_tree_resolution(t, 7, (const uint32_t[]){ 1, 7 }, 2, &l), 0);
        assert_list(&l, (const uint32_t[]){ 3, 9 }, 2);
        mls_tree_list_clear(&l);
        assert_int_equal(mls_tree_resolution_size(t, 7, (const uint32_t[]){ 1 }, 1, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(mls_tree_resolution(t, 15, NULL, 0, &l), MLS_E_TREE_INDEX);
        mls_tree_free(t);
        mls_ratchet_tree_clear(&rt);
}

/* The tree of RFC 9420 section 4.1.2 (figure "A Complete Tree with Five
 * Members"): A B _ _ E F G _, T = 1, X = 9, Y = 11, W = 7; U, V, Z blank. */
static void
test_tree_filtered_direct_path_rfc_example(void **state)
{
        static const uint32_t nb[] = { 0, 1, 2, 7, 8, 9, 10, 11, 12 };
        struct mls_ratchet_tree rt;
        struct mls_tree *t;
        uint32_t nodes[MLS_TM_MAX_DEPTH], cop[MLS_TM_MAX_DEPTH];
        size_t n;

        (void)state;
        rt_init(&rt, 13, nb, 9);
        t = tree_from_rt(&rt);
        /* R-4.1.2-2: A -> T, W */
        assert_int_equal(mls_tree_filtered_direct_path(t, 0, nodes, cop, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(nodes[0], 1);
        assert_int_equal(cop[0], 0 + 2);
        assert_int_equal(nodes[1], 7);
        assert_int_equal(cop[1], 11);
        /* B -> T, W */
        assert_int_equal(mls_tree_filtered_direct_path(t, 1, nodes, cop, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(cop[0], 0);
        /* E -> X, Y, W */
        assert_int_equal(mls_tree_filtered_direct_path(t, 4, nodes, cop, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(nodes[0], 9);
        assert_int_equal(nodes[1], 11);
        assert_int_equal(nodes[2], 7);
        assert_int_equal(cop[1], 13);
        /* G -> Y, W */
        assert_int_equal(mls_tree_filtered_direct_path(t, 6, nodes, cop, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(nodes[0], 11);
        assert_int_equal(cop[0], 9);
        assert_int_equal(nodes[1], 7);
        assert_int_equal(mls_tree_filtered_direct_path(t, 8, nodes, cop, &n), MLS_E_TREE_INDEX);
        mls_tree_free(t);
        mls_ratchet_tree_clear(&rt);
}

/* ---- add / update / remove / truncate (R-7.7-1, R-7.7-2) ---- */

static struct mls_tree *
fake_tree(uint32_t n)
{
        struct mls_tree *t = NULL;
        struct mls_leaf_node l = { 0 };
        uint32_t li;

        assert_int_equal(tf_fake_leaf(0, 16, &l), 0);
        assert_int_equal(mls_tree_new(suite1(), &l, &t), 0);
        mls_leaf_node_clear(&l);
        for (uint32_t i = 1; i < n; i++) {
                assert_int_equal(tf_fake_leaf(i, 16, &l), 0);
                assert_int_equal(mls_tree_add(t, &l, &li), 0);
                assert_int_equal(li, i);
                mls_leaf_node_clear(&l);
        }
        return t;
}

static void
test_tree_add_extends_and_remove_truncates(void **state)
{
        struct mls_tree *t = fake_tree(4);
        struct mls_leaf_node l = { 0 };
        uint32_t li;

        (void)state;
        assert_int_equal(mls_tree_width(t), 4);
        /* R-7.7-1: a fifth member doubles the width */
        assert_int_equal(tf_fake_leaf(100, 16, &l), 0);
        assert_int_equal(mls_tree_add(t, &l, &li), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(li, 4);
        assert_int_equal(mls_tree_width(t), 8);
        assert_int_equal(mls_tree_check_consistency(t), 0);
        /* a removed leaf in the middle is reused first (leftmost blank) */
        assert_int_equal(mls_tree_remove(t, 1), 0);
        assert_int_equal(mls_tree_width(t), 8);
        assert_int_equal(mls_tree_leftmost_blank_leaf(t, &li), 0);
        assert_int_equal(li, 1);
        assert_int_equal(tf_fake_leaf(101, 16, &l), 0);
        assert_int_equal(mls_tree_add(t, &l, &li), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(li, 1);
        /* R-7.7-2: removing the only member of the right half truncates */
        assert_int_equal(mls_tree_remove(t, 4), 0);
        assert_int_equal(mls_tree_width(t), 4);
        assert_int_equal(mls_tree_remove(t, 3), 0);
        assert_int_equal(mls_tree_width(t), 4);
        assert_int_equal(mls_tree_remove(t, 2), 0);
        assert_int_equal(mls_tree_width(t), 2);
        assert_int_equal(mls_tree_remove(t, 1), 0);
        assert_int_equal(mls_tree_width(t), 1);
        assert_int_equal(mls_tree_member_count(t), 1);
        assert_int_equal(mls_tree_check_consistency(t), 0);
        /* errors */
        assert_int_equal(mls_tree_remove(t, 1), MLS_E_TREE_INDEX);
        assert_int_equal(mls_tree_remove(t, 0), 0);
        assert_int_equal(mls_tree_remove(t, 0), MLS_E_BLANK_LEAF);
        mls_tree_free(t);
}

/* After a mass removal the tree gives memory back; it still grows and
 * hashes correctly afterwards. */
static void
test_tree_shrinks_after_mass_removal(void **state)
{
        struct mls_tree *t = fake_tree(300);
        struct mls_leaf_node l = { 0 };
        uint8_t h1[32], h2[32];
        uint32_t li;

        (void)state;
        assert_int_equal(mls_tree_width(t), 512);
        assert_int_equal(mls_tree_hash(t, h1), 0);
        for (uint32_t i = 299; i >= 2; i--)
                assert_int_equal(mls_tree_remove(t, i), 0);
        assert_int_equal(mls_tree_width(t), 2);
        assert_true(t->cap < 64); /* was 512 */
        assert_int_equal(mls_tree_check_consistency(t), 0);
        for (uint32_t i = 2; i < 40; i++) {
                assert_int_equal(tf_fake_leaf(i, 16, &l), 0);
                assert_int_equal(mls_tree_add(t, &l, &li), 0);
                mls_leaf_node_clear(&l);
                assert_int_equal(li, i);
        }
        assert_int_equal(mls_tree_hash(t, h2), 0);
        assert_int_equal(tree_hash_fresh(t, mls_tree_width(t) - 1, h1), 0);
        assert_memory_equal(h1, h2, 32);
        assert_int_equal(mls_tree_check_consistency(t), 0);
        mls_tree_free(t);
}

/* Add inserts the new leaf, sorted, into every non-blank parent's
 * unmerged_leaves on its path (section 12.1.1, R-7.1-1, R-12.1.1-3) and the
 * new leaf holds exactly the KeyPackage's leaf_node (R-12.1.1-4). */
static void
test_tree_add_unmerged_bookkeeping(void **state)
{
        static const uint32_t nb[] = { 0, 2, 3, 6, 8, 10 };
        struct mls_ratchet_tree rt;
        struct mls_tree *t;
        struct mls_leaf_node l = { 0 };
        const struct mls_parent_node *p;
        struct mls_bytes want = { 0 }, got = { 0 };
        uint32_t li;

        (void)state;
        /* leaves 0, 1, 3, 4, 5; root 3 non-blank with unmerged [3]; leaf 2 blank */
        rt_init(&rt, 11, nb, 6);
        rt_set_unmerged(&rt, 3, (const uint32_t[]){ 3 }, 1);
        t = tree_from_rt(&rt);
        assert_int_equal(mls_tree_width(t), 8);
        assert_int_equal(tf_fake_leaf(200, 16, &l), 0);
        assert_int_equal(mls_tree_add(t, &l, &li), 0);
        assert_int_equal(li, 2);
        /* R-12.1.1-4: the leaf slot holds the added leaf_node, byte for byte */
        assert_non_null(mls_tree_leaf(t, 2));
        assert_int_equal(mls_leaf_node_to_bytes(&l, &want), 0);
        assert_int_equal(mls_leaf_node_to_bytes(mls_tree_leaf(t, 2), &got), 0);
        assert_true(mls_bytes_eq(&want, &got));
        mls_bytes_clear(&want);
        mls_bytes_clear(&got);
        mls_leaf_node_clear(&l);
        /* R-12.1.1-3: non-blank parent 3 on leaf 2's path gains 2, sorted */
        p = mls_tree_parent(t, 3);
        assert_non_null(p);
        assert_list(&p->unmerged_leaves, (const uint32_t[]){ 2, 3 }, 2);
        assert_null(mls_tree_parent(t, 7)); /* blank parents stay blank */
        assert_int_equal(mls_tree_check_unmerged(t), 0);
        assert_int_equal(mls_tree_check_consistency(t), 0);
        mls_tree_free(t);
        mls_ratchet_tree_clear(&rt);
}

/* ---- tree hash caching ---- */

/* A 16384-leaf tree built by adds, then one leaf changed: only the leaf and
 * its ancestors are rehashed (R-7.8-4 over the padded tree). */
static void
test_tree_hash_rehashes_only_changed_path(void **state)
{
        struct mls_tree *t = fake_tree(16384);
        struct mls_leaf_node l = { 0 };
        uint8_t h1[MLS_MAX_HASH_LEN], h2[MLS_MAX_HASH_LEN], h3[MLS_MAX_HASH_LEN];
        uint64_t c0, c1;
        uint32_t li;

        (void)state;
        assert_int_equal(mls_tree_width(t), 16384);
        assert_int_equal(mls_tree_hash(t, h1), 0);
        c0 = mls_tree_hash_calls(t);
        assert_int_equal(c0, 2 * 16384 - 1);
        /* nothing changed: nothing rehashed */
        assert_int_equal(mls_tree_hash(t, h2), 0);
        assert_int_equal(mls_tree_hash_calls(t), c0);
        assert_memory_equal(h1, h2, 32);
        /* one leaf replaced: leaf + 14 ancestors */
        assert_int_equal(tf_fake_leaf(99999, 16, &l), 0);
        assert_int_equal(mls_tree_update(t, 5000, &l), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(mls_tree_hash(t, h2), 0);
        c1 = mls_tree_hash_calls(t);
        assert_true(c1 - c0 <= 15);
        assert_memory_not_equal(h1, h2, 32);
        /* the cache agrees with a fresh computation */
        assert_int_equal(tree_hash_fresh(t, mls_tree_width(t) - 1, h3), 0);
        assert_memory_equal(h2, h3, 32);
        /* a remove that truncates and an add that extends again reuse the
         * blank right half's hashes: O(log n), not O(n) */
        assert_int_equal(tf_fake_leaf(100000, 16, &l), 0);
        assert_int_equal(mls_tree_add(t, &l, &li), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(mls_tree_width(t), 32768);
        assert_int_equal(mls_tree_hash(t, h2), 0);
        assert_int_equal(mls_tree_remove(t, li), 0);
        assert_int_equal(mls_tree_width(t), 16384);
        assert_int_equal(mls_tree_hash(t, h3), 0);
        c0 = mls_tree_hash_calls(t);
        assert_int_equal(tf_fake_leaf(100001, 16, &l), 0);
        assert_int_equal(mls_tree_add(t, &l, &li), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(mls_tree_hash(t, h2), 0);
        c1 = mls_tree_hash_calls(t);
        assert_true(c1 - c0 <= 2 * 16);
        assert_int_equal(tree_hash_fresh(t, mls_tree_width(t) - 1, h3), 0);
        assert_memory_equal(h2, h3, 32);
        mls_tree_free(t);
}

/* R-7.8-1, R-7.8-3: the all-blank subtrees (the right half of a doubled
 * tree) are hashed by a separate fixed-input loop; every node's cached
 * hash equals the writer-based computation, for subtrees of every level,
 * and the loop hashes each blank node once. */
static void
test_tree_hash_blank_subtrees_match_fresh(void **state)
{
        static const uint32_t sizes[] = { 2, 3, 5, 9, 17, 33, 129 };

        (void)state;
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                struct mls_tree *t = fake_tree(sizes[k]);
                uint32_t w = mls_tree_width(t);
                uint8_t h1[32], h2[32];
                uint64_t c0;

                assert_int_equal(w, 2 * (sizes[k] - 1));
                c0 = mls_tree_hash_calls(t);
                assert_int_equal(mls_tree_hash(t, h1), 0);
                /* one hash per node: 2w - 1 */
                assert_int_equal(mls_tree_hash_calls(t) - c0, 2 * (uint64_t)w - 1);
                for (uint32_t x = 0; x < 2 * w - 1; x++) {
                        assert_int_equal(mls_tree_node_hash(t, x, h1), 0);
                        assert_int_equal(tree_hash_fresh(t, x, h2), 0);
                        assert_memory_equal(h1, h2, 32);
                }
                mls_tree_free(t);
        }
}

/* ---- key lookups and uniqueness ---- */

static uint64_t
xorshift(uint64_t *s)
{
        uint64_t x = *s;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *s = x;
        return x;
}

static void
check_lookups(const struct mls_tree *t, const bool *present, const uint32_t *id_at, uint32_t w)
{
        for (uint32_t i = 0; i < w && i < mls_tree_width(t); i++) {
                const struct mls_leaf_node *l = mls_tree_leaf(t, i);
                uint32_t got;

                assert_int_equal(l != NULL, present[i]);
                if (!l)
                        continue;
                assert_int_equal(mls_tree_find_leaf_by_signature_key(t, l->signature_key.data,
                                                                     l->signature_key.len, &got),
                                 0);
                assert_int_equal(got, i);
                assert_int_equal(mls_tree_find_leaf_by_encryption_key(t, l->encryption_key.data,
                                                                      l->encryption_key.len, &got),
                                 0);
                assert_int_equal(got, i);
                (void)id_at;
        }
}

/* Random add/update/remove sequences on trees up to 1024 leaves, some in
 * transactions that are rolled back: lookups (R-7.3-16, R-7.3-17) and every
 * derived structure stay consistent. */
static void
test_tree_random_ops_keep_lookups_consistent(void **state)
{
        struct mls_tree *t = fake_tree(1);
        bool present[2048] = { true };
        uint32_t id_at[2048] = { 0 };
        uint32_t next_id = 1;
        uint64_t rng = 0x9e3779b97f4a7c15ULL;

        (void)state;
        for (int round = 0; round < 3000; round++) {
                uint64_t r = xorshift(&rng);
                uint32_t w = mls_tree_width(t), members = mls_tree_member_count(t);
                struct mls_leaf_node l = { 0 };
                uint32_t li;

                if ((r % 8) < 5 && members < 1024) {
                        assert_int_equal(tf_fake_leaf(next_id, 16, &l), 0);
                        assert_int_equal(mls_tree_add(t, &l, &li), 0);
                        mls_leaf_node_clear(&l);
                        present[li] = true;
                        id_at[li] = next_id++;
                } else if ((r % 8) < 7 && members > 1) {
                        li = (uint32_t)((r >> 8) % w);
                        if (!present[li])
                                continue;
                        assert_int_equal(mls_tree_remove(t, li), 0);
                        present[li] = false;
                } else if (members > 0) {
                        li = (uint32_t)((r >> 8) % w);
                        if (!present[li])
                                continue;
                        assert_int_equal(tf_fake_leaf(next_id, 16, &l), 0);
                        assert_int_equal(mls_tree_update(t, li, &l), 0);
                        mls_leaf_node_clear(&l);
                        id_at[li] = next_id++;
                }
                /* The removed leaf's old key is gone from the tables: a
                 * fresh leaf with a present key must be refused. */
                if (round % 97 == 0) {
                        assert_int_equal(mls_tree_check_consistency(t), 0);
                        check_lookups(t, present, id_at, 2048);
                }
                if (round % 211 == 0) {
                        struct mls_bytes before = { 0 }, after = { 0 };
                        uint8_t h1[32], h2[32];

                        assert_int_equal(mls_tree_hash(t, h1), 0);
                        tree_bytes(t, &before);
                        assert_int_equal(mls_tree_begin(t), 0);
                        for (int k = 0; k < 20; k++) {
                                uint64_t q = xorshift(&rng);
                                uint32_t ww = mls_tree_width(t), x;

                                if (q % 2) {
                                        assert_int_equal(tf_fake_leaf(500000 + (uint32_t)k, 16, &l), 0);
                                        assert_int_equal(mls_tree_add(t, &l, &x), 0);
                                        mls_leaf_node_clear(&l);
                                } else {
                                        x = (uint32_t)((q >> 8) % ww);
                                        if (mls_tree_leaf(t, x) && mls_tree_member_count(t) > 1)
                                                assert_int_equal(mls_tree_remove(t, x), 0);
                                }
                                assert_int_equal(mls_tree_hash(t, h2), 0);
                        }
                        mls_tree_rollback(t);
                        tree_bytes(t, &after);
                        assert_true(mls_bytes_eq(&before, &after));
                        assert_int_equal(mls_tree_hash(t, h2), 0);
                        assert_memory_equal(h1, h2, 32);
                        assert_int_equal(mls_tree_check_consistency(t), 0);
                        check_lookups(t, present, id_at, 2048);
                        mls_bytes_clear(&before);
                        mls_bytes_clear(&after);
                }
        }
        assert_int_equal(mls_tree_check_consistency(t), 0);
        check_lookups(t, present, id_at, 2048);
        mls_tree_free(t);
}

/* R-7.3-16, R-7.3-17, R-12.4.3.1-16, R-16.7-1: no key twice. */
static void
test_tree_duplicate_keys_rejected(void **state)
{
        static const uint32_t nb[] = { 0, 1, 2 };
        struct mls_ratchet_tree rt;
        struct mls_tree *t = NULL;
        struct mls_leaf_node l = { 0 };
        struct mls_bytes before = { 0 }, after = { 0 };
        uint32_t li;

        (void)state;
        /* decoding: two leaves with one encryption key */
        rt_init(&rt, 3, nb, 3);
        mls_bytes_clear(&rt.nodes[2]->leaf_node.encryption_key);
        assert_int_equal(mls_bytes_dup(&rt.nodes[2]->leaf_node.encryption_key,
                                       &rt.nodes[0]->leaf_node.encryption_key),
                         0);
        assert_int_equal(mls_tree_from_ratchet_tree(suite1(), &rt, &t), MLS_E_DUPLICATE_KEY);
        mls_ratchet_tree_clear(&rt);
        /* one signature key */
        rt_init(&rt, 3, nb, 3);
        mls_bytes_clear(&rt.nodes[2]->leaf_node.signature_key);
        assert_int_equal(mls_bytes_dup(&rt.nodes[2]->leaf_node.signature_key,
                                       &rt.nodes[0]->leaf_node.signature_key),
                         0);
        assert_int_equal(mls_tree_from_ratchet_tree(suite1(), &rt, &t), MLS_E_DUPLICATE_KEY);
        mls_ratchet_tree_clear(&rt);
        /* a parent with a leaf's encryption key (R-12.4.3.1-16) */
        rt_init(&rt, 3, nb, 3);
        mls_bytes_clear(&rt.nodes[1]->parent_node.encryption_key);
        assert_int_equal(mls_bytes_dup(&rt.nodes[1]->parent_node.encryption_key,
                                       &rt.nodes[0]->leaf_node.encryption_key),
                         0);
        assert_int_equal(mls_tree_from_ratchet_tree(suite1(), &rt, &t), MLS_E_DUPLICATE_KEY);
        mls_ratchet_tree_clear(&rt);
        assert_null(t);

        /* add: a full tree would have to extend; the failure undoes that */
        t = fake_tree(4);
        tree_bytes(t, &before);
        assert_int_equal(tf_fake_leaf(100, 16, &l), 0);
        mls_bytes_clear(&l.signature_key);
        assert_int_equal(mls_bytes_dup(&l.signature_key, &mls_tree_leaf(t, 2)->signature_key), 0);
        assert_int_equal(mls_tree_add(t, &l, &li), MLS_E_DUPLICATE_KEY);
        assert_int_equal(mls_tree_width(t), 4);
        tree_bytes(t, &after);
        assert_true(mls_bytes_eq(&before, &after));
        assert_int_equal(mls_tree_check_consistency(t), 0);
        mls_leaf_node_clear(&l);
        /* update with another member's encryption key */
        assert_int_equal(tf_fake_leaf(101, 16, &l), 0);
        mls_bytes_clear(&l.encryption_key);
        assert_int_equal(mls_bytes_dup(&l.encryption_key, &mls_tree_leaf(t, 3)->encryption_key), 0);
        assert_int_equal(mls_tree_update(t, 1, &l), MLS_E_DUPLICATE_KEY);
        mls_leaf_node_clear(&l);
        /* R-7.3-14: an update keeping its own encryption key */
        assert_int_equal(tf_fake_leaf(102, 16, &l), 0);
        mls_bytes_clear(&l.encryption_key);
        assert_int_equal(mls_bytes_dup(&l.encryption_key, &mls_tree_leaf(t, 1)->encryption_key), 0);
        assert_int_equal(mls_tree_update(t, 1, &l), MLS_E_DUPLICATE_KEY);
        mls_leaf_node_clear(&l);
        /* an update keeping its own signature key is fine */
        assert_int_equal(tf_fake_leaf(103, 16, &l), 0);
        mls_bytes_clear(&l.signature_key);
        assert_int_equal(mls_bytes_dup(&l.signature_key, &mls_tree_leaf(t, 1)->signature_key), 0);
        assert_int_equal(mls_tree_update(t, 1, &l), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(mls_tree_check_consistency(t), 0);
        mls_bytes_clear(&before);
        mls_bytes_clear(&after);
        mls_tree_free(t);
}

/* ---- transactions ---- */

/* A failed path merge inside a transaction, after adds (extending), an
 * update and removes (truncating): rollback restores a byte-identical
 * serialization and tree hash (R-12.4.2-18). */
static void
test_tree_rollback_restores_after_failed_merge(void **state)
{
        struct tf_group g;
        struct mls_bytes before = { 0 }, after = { 0 }, keys[MLS_TM_MAX_DEPTH] = { { 0 } };
        struct mls_bytes phs[MLS_TM_MAX_DEPTH] = { { 0 } };
        uint32_t nodes[MLS_TM_MAX_DEPTH], cop[MLS_TM_MAX_DEPTH];
        uint8_t h1[32], h2[32];
        struct mls_leaf_node l = { 0 };
        size_t n;
        uint32_t li;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 4, &g), 0);
        assert_int_equal(tf_group_commit(&g, 0), 0);
        assert_int_equal(tf_group_commit(&g, 3), 0);
        assert_int_equal(mls_tree_hash(g.t, h1), 0);
        tree_bytes(g.t, &before);

        assert_int_equal(mls_tree_begin(g.t), 0);
        assert_int_equal(mls_tree_begin(g.t), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(tf_fake_leaf(40, 16, &l), 0);
        assert_int_equal(mls_tree_add(g.t, &l, &li), 0); /* extends to 8 */
        mls_leaf_node_clear(&l);
        assert_int_equal(mls_tree_width(g.t), 8);
        assert_int_equal(tf_fake_leaf(41, 16, &l), 0);
        assert_int_equal(mls_tree_update(g.t, 1, &l), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(mls_tree_remove(g.t, 4), 0); /* truncates to 4 */
        assert_int_equal(mls_tree_width(g.t), 4);
        assert_int_equal(mls_tree_remove(g.t, 2), 0);
        assert_int_equal(mls_tree_hash(g.t, h2), 0);
        /* a path for leaf 0 reusing leaf 3's encryption key: refused */
        assert_int_equal(mls_tree_filtered_direct_path(g.t, 0, nodes, cop, &n), 0);
        assert_true(n >= 1);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(mls_bytes_dup(&keys[i], &mls_tree_leaf(g.t, 3)->encryption_key), 0);
                assert_int_equal(mls_bytes_copy(&phs[i], h2, 32), 0);
        }
        assert_int_equal(tf_fake_leaf(42, 16, &l), 0);
        assert_int_equal(mls_tree_merge_path(g.t, 0, &l, nodes, keys, phs, n),
                         MLS_E_DUPLICATE_KEY);
        mls_leaf_node_clear(&l);
        assert_int_equal(mls_tree_check_consistency(g.t), 0);
        mls_tree_rollback(g.t);
        assert_false(mls_tree_in_transaction(g.t));
        tree_bytes(g.t, &after);
        assert_true(mls_bytes_eq(&before, &after));
        assert_int_equal(mls_tree_hash(g.t, h2), 0);
        assert_memory_equal(h1, h2, 32);
        assert_int_equal(mls_tree_check_consistency(g.t), 0);
        assert_int_equal(mls_tree_verify_parent_hashes(g.t), 0);
        for (size_t i = 0; i < n; i++) {
                mls_bytes_clear(&keys[i]);
                mls_bytes_clear(&phs[i]);
        }
        mls_bytes_clear(&before);
        mls_bytes_clear(&after);
        tf_group_clear(&g);
}

/* Commit keeps the changes; a dup is an independent, equal tree. */
static void
test_tree_commit_keeps_and_dup_copies(void **state)
{
        struct mls_tree *t = fake_tree(6), *d = NULL;
        struct mls_bytes a = { 0 }, b = { 0 };
        uint8_t h1[32], h2[32];
        struct mls_leaf_node l = { 0 };
        uint32_t li;

        (void)state;
        assert_int_equal(mls_tree_begin(t), 0);
        assert_int_equal(mls_tree_remove(t, 5), 0);
        assert_int_equal(tf_fake_leaf(77, 16, &l), 0);
        assert_int_equal(mls_tree_add(t, &l, &li), 0);
        mls_leaf_node_clear(&l);
        assert_int_equal(li, 5);
        mls_tree_commit(t);
        assert_false(mls_tree_in_transaction(t));
        mls_tree_rollback(t); /* no-op now */
        assert_int_equal(mls_tree_member_count(t), 6);
        assert_int_equal(mls_tree_dup(t, &d), 0);
        tree_bytes(t, &a);
        tree_bytes(d, &b);
        assert_true(mls_bytes_eq(&a, &b));
        assert_int_equal(mls_tree_hash(t, h1), 0);
        assert_int_equal(mls_tree_hash(d, h2), 0);
        assert_memory_equal(h1, h2, 32);
        assert_int_equal(mls_tree_remove(d, 2), 0);
        assert_int_equal(mls_tree_member_count(t), 6);
        assert_int_equal(mls_tree_check_consistency(d), 0);
        assert_int_equal(mls_tree_check_consistency(t), 0);
        mls_bytes_clear(&a);
        mls_bytes_clear(&b);
        mls_tree_free(d);
        mls_tree_free(t);
}

/* ---- parent hashes and tree validation ---- */

static void
group_with_history(struct tf_group *g)
{
        uint32_t li;

        assert_int_equal(tf_group_new(suite1(), 5, g), 0);
        assert_int_equal(tf_group_commit(g, 0), 0);
        assert_int_equal(tf_group_commit(g, 4), 0);
        assert_int_equal(tf_group_commit(g, 2), 0);
        /* two adds after the last path: unmerged leaves */
        for (uint32_t i = 5; i < 7; i++) {
                assert_int_equal(tf_member_new(g->s, i, &g->m[i]), 0);
                assert_int_equal(mls_tree_add(g->t, &g->m[i].leaf, &li), 0);
                g->leaf_of[i] = li;
                g->n_members = i + 1;
                assert_int_equal(mls_treekem_priv_new(g->s, li, g->m[i].enc_priv, &g->priv[li]), 0);
        }
}

/* Trees built by real commits and adds (with unmerged leaves, so the
 * original sibling hash differs from the current one) are valid
 * (R-7.9.2-4, R-7.9-2, R-12.4.3.1-12..15). */
static void
test_tree_validate_accepts_real_tree(void **state)
{
        struct tf_group g;
        struct mls_tree *t2 = NULL;
        struct mls_bytes b = { 0 };
        uint8_t h[32];

        (void)state;
        group_with_history(&g);
        assert_non_null(mls_tree_parent(g.t, 7));
        assert_true(mls_tree_parent(g.t, 7)->unmerged_leaves.n > 0);
        assert_int_equal(mls_tree_hash(g.t, h), 0);
        assert_int_equal(mls_tree_validate(g.t, h, 32, &g.group_id, &policy_default), 0);
        /* the same after a round trip through the encoding */
        tree_bytes(g.t, &b);
        assert_int_equal(mls_tree_from_bytes(suite1(), b.data, b.len, &t2), 0);
        assert_int_equal(mls_tree_validate(t2, h, 32, &g.group_id, &policy_default), 0);
        mls_tree_free(t2);
        mls_bytes_clear(&b);
        tf_group_clear(&g);
}

/* Re-encodes the group's tree with one change applied to the decoded form. */
static struct mls_tree *
tampered_tree(struct tf_group *g, void (*tamper)(struct mls_ratchet_tree *rt))
{
        struct mls_bytes b = { 0 };
        struct mls_ratchet_tree rt = { 0 };
        struct mls_tree *t;

        tree_bytes(g->t, &b);
        assert_int_equal(mls_ratchet_tree_from_bytes(b.data, b.len, &rt), 0);
        tamper(&rt);
        t = tree_from_rt(&rt);
        mls_ratchet_tree_clear(&rt);
        mls_bytes_clear(&b);
        return t;
}

static void
flip_root_parent_hash(struct mls_ratchet_tree *rt)
{
        /* node 3 (the parent of leaves 0..1 and 2..3) carries ph(root) */
        assert_non_null(rt->nodes[3]);
        assert_true(rt->nodes[3]->parent_node.parent_hash.len > 0);
        rt->nodes[3]->parent_node.parent_hash.data[0] ^= 1;
}

static void
flip_root_key(struct mls_ratchet_tree *rt)
{
        rt->nodes[7]->parent_node.encryption_key.data[5] ^= 0x10;
}

/* Leaf 5 was added after the last path: it only appears, blanked, in the
 * root's original sibling hash, so only its signature check can notice. */
static void
flip_leaf_signature(struct mls_ratchet_tree *rt)
{
        rt->nodes[10]->leaf_node.signature.data[10] ^= 0x01;
}

static void
drop_unmerged(struct mls_ratchet_tree *rt)
{
        rt->nodes[7]->parent_node.unmerged_leaves.n--;
}

/* R-7.9.2-2, R-7.9.2-4, R-12.4.3.1-12: one flipped byte in a parent hash
 * (or in the key it hashes) breaks the chain; R-7.9.2-1: only descendants
 * are candidates, so no other node can stand in for the broken link. */
static void
test_tree_bad_parent_hash_rejected(void **state)
{
        struct tf_group g;
        struct mls_tree *t;
        uint8_t h[32];

        (void)state;
        group_with_history(&g);
        t = tampered_tree(&g, flip_root_parent_hash);
        assert_int_equal(mls_tree_verify_parent_hashes(t), MLS_E_BAD_PARENT_HASH);
        assert_int_equal(mls_tree_hash(t, h), 0);
        assert_int_equal(mls_tree_validate(t, h, 32, &g.group_id, &policy_default),
                         MLS_E_BAD_PARENT_HASH);
        mls_tree_free(t);
        t = tampered_tree(&g, flip_root_key);
        assert_int_equal(mls_tree_verify_parent_hashes(t), MLS_E_BAD_PARENT_HASH);
        mls_tree_free(t);
        tf_group_clear(&g);
}

/* R-7.9.2-3: P's unmerged leaves under C must equal resolution(C) minus D;
 * dropping an unmerged entry breaks that (and R-12.4.3.1-15). */
static void
test_tree_unmerged_mismatch_rejected(void **state)
{
        struct tf_group g;
        struct mls_tree *t;

        (void)state;
        group_with_history(&g);
        t = tampered_tree(&g, drop_unmerged);
        assert_int_equal(mls_tree_check_unmerged(t), 0); /* still self-consistent */
        assert_int_equal(mls_tree_verify_parent_hashes(t), MLS_E_BAD_PARENT_HASH);
        mls_tree_free(t);
        tf_group_clear(&g);
}

/* R-12.4.3.1-11, R-12.4.3.3-6: the tree hash must match the GroupContext. */
static void
test_tree_hash_mismatch_rejected(void **state)
{
        struct tf_group g;
        uint8_t h[32];

        (void)state;
        group_with_history(&g);
        assert_int_equal(mls_tree_hash(g.t, h), 0);
        h[31] ^= 0x80;
        assert_int_equal(mls_tree_validate(g.t, h, 32, &g.group_id, &policy_default),
                         MLS_E_TREE_HASH_MISMATCH);
        h[31] ^= 0x80;
        assert_int_equal(mls_tree_validate(g.t, h, 31, &g.group_id, &policy_default),
                         MLS_E_TREE_HASH_MISMATCH);
        tf_group_clear(&g);
}

/* R-12.4.3.1-13, R-7.3-3, R-7.3-5: a leaf with a bad signature fails the
 * join-time validation. */
static void
test_tree_validate_rejects_bad_leaf_signature(void **state)
{
        struct tf_group g;
        struct mls_tree *t;
        uint8_t h[32];

        (void)state;
        group_with_history(&g);
        t = tampered_tree(&g, flip_leaf_signature);
        assert_int_equal(mls_tree_hash(t, h), 0);
        assert_int_equal(mls_tree_validate(t, h, 32, &g.group_id, &policy_default),
                         MLS_E_BAD_SIGNATURE);
        assert_int_equal(mls_tree_leaf_verify_signature(t, mls_tree_leaf(t, 5), &g.group_id, 5),
                         MLS_E_BAD_SIGNATURE);
        assert_int_equal(mls_tree_leaf_verify_signature(t, mls_tree_leaf(t, 4), &g.group_id, 4),
                         0);
        mls_tree_free(t);
        tf_group_clear(&g);
}

/* R-12.4.3.1-14, R-12.4.3.1-15: unmerged_leaves consistency. */
static void
test_tree_check_unmerged_rejects_inconsistent(void **state)
{
        static const uint32_t nb[] = { 0, 1, 2, 3, 4, 6 };
        struct mls_ratchet_tree rt;
        struct mls_tree *t;

        (void)state;
        /* consistent: root 3 lists leaf 3, which node 5 (blank) does not */
        rt_init(&rt, 7, nb, 6);
        rt_set_unmerged(&rt, 3, (const uint32_t[]){ 3 }, 1);
        t = tree_from_rt(&rt);
        assert_int_equal(mls_tree_check_unmerged(t), 0);
        mls_tree_free(t);
        /* a blank leaf listed */
        rt_set_unmerged(&rt, 3, (const uint32_t[]){ 3 }, 1);
        mls_node_clear(rt.nodes[6]);
        free(rt.nodes[6]);
        rt.nodes[6] = NULL;
        rt.n_nodes = 5;
        t = tree_from_rt(&rt);
        assert_int_equal(mls_tree_check_unmerged(t), MLS_E_INVALID_TREE);
        mls_tree_free(t);
        mls_ratchet_tree_clear(&rt);
        /* a leaf outside the parent's subtree */
        rt_init(&rt, 7, nb, 6);
        rt_set_unmerged(&rt, 1, (const uint32_t[]){ 2 }, 1);
        t = tree_from_rt(&rt);
        assert_int_equal(mls_tree_check_unmerged(t), MLS_E_INVALID_TREE);
        mls_tree_free(t);
        mls_ratchet_tree_clear(&rt);
        /* listed by the root, not by the non-blank node in between */
        rt_init(&rt, 7, (const uint32_t[]){ 0, 1, 2, 3, 4, 5, 6 }, 7);
        rt_set_unmerged(&rt, 3, (const uint32_t[]){ 3 }, 1);
        t = tree_from_rt(&rt);
        assert_int_equal(mls_tree_check_unmerged(t), MLS_E_INVALID_TREE);
        mls_tree_free(t);
        mls_ratchet_tree_clear(&rt);
}

/* ---- LeafNode validation (section 7.3) ---- */

struct lv {
        struct tf_group g;
        struct tf_member m; /* a joiner, not in the tree */
};

static void
lv_setup(struct lv *v)
{
        assert_int_equal(tf_group_new(suite1(), 3, &v->g), 0);
        assert_int_equal(tf_member_new(suite1(), 50, &v->m), 0);
}

static void
lv_clear(struct lv *v)
{
        tf_group_clear(&v->g);
        tf_member_clear(&v->m);
}

static int
lv_check(struct lv *v, const struct mls_leaf_policy *p)
{
        return mls_tree_leaf_validate(v->g.t, &v->m.leaf, MLS_LEAF_KEY_PACKAGE, 0, NULL, p);
}

static void
lv_resign(struct lv *v)
{
        assert_int_equal(tf_leaf_sign(suite1(), &v->m.leaf, v->m.sig_priv, NULL, 0), 0);
}

/* R-7.3-1, R-7.3-5: a good KeyPackage leaf passes; a flipped signature bit
 * fails. */
static void
test_leaf_validate_signature(void **state)
{
        struct lv v;

        (void)state;
        lv_setup(&v);
        assert_int_equal(lv_check(&v, &policy_default), 0);
        v.m.leaf.signature.data[0] ^= 1;
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_BAD_SIGNATURE);
        v.m.leaf.signature.data[0] ^= 1;
        v.m.leaf.signature.len--;
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_BAD_SIGNATURE);
        v.m.leaf.signature.len++;
        /* a changed field invalidates the signature (R-7.2-11) */
        v.m.leaf.credential.identity.data[0] ^= 1;
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_BAD_SIGNATURE);
        lv_clear(&v);
}

/* The group's version and suite must be in the capabilities; R-7.2-4: the
 * own credential type too. */
static void
test_leaf_validate_capabilities_suite_version(void **state)
{
        struct lv v;

        (void)state;
        lv_setup(&v);
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.cipher_suites,
                                         (const uint16_t[]){ 2, 3 }, 2),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_UNSUPPORTED_CAPABILITY);
        {
                struct mls_leaf_policy p = policy_default;

                p.skip_version_suite_check = true;
                assert_int_equal(lv_check(&v, &p), 0);
        }
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.cipher_suites,
                                         (const uint16_t[]){ 0x0a0a, 1 }, 2),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), 0); /* R-7.2-5: GREASE ignored */
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.versions,
                                         (const uint16_t[]){ 2 }, 1),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_UNSUPPORTED_CAPABILITY);
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.versions,
                                         (const uint16_t[]){ 1 }, 1),
                         0);
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.credentials,
                                         (const uint16_t[]){ 2 }, 1),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_UNSUPPORTED_CAPABILITY);
        lv_clear(&v);
}

/* R-7.3-6: required_capabilities of the GroupContext. */
static void
test_leaf_validate_required_capabilities(void **state)
{
        struct lv v;
        struct mls_required_capabilities req = { 0 };
        struct mls_leaf_policy p = policy_default;

        (void)state;
        lv_setup(&v);
        p.required = &req;
        assert_int_equal(tf_set_u16_list(&req.extension_types, (const uint16_t[]){ 0x0a0a }, 1), 0);
        assert_int_equal(lv_check(&v, &p), MLS_E_UNSUPPORTED_CAPABILITY);
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.extensions,
                                         (const uint16_t[]){ 0x0a0a }, 1),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &p), 0);
        /* default types need not be listed */
        assert_int_equal(tf_set_u16_list(&req.extension_types, (const uint16_t[]){ 3 }, 1), 0);
        assert_int_equal(tf_set_u16_list(&req.proposal_types, (const uint16_t[]){ 7 }, 1), 0);
        assert_int_equal(lv_check(&v, &p), 0);
        assert_int_equal(tf_set_u16_list(&req.proposal_types, (const uint16_t[]){ 0x0b0b }, 1), 0);
        assert_int_equal(lv_check(&v, &p), MLS_E_UNSUPPORTED_CAPABILITY);
        assert_int_equal(tf_set_u16_list(&req.proposal_types, NULL, 0), 0);
        assert_int_equal(tf_set_u16_list(&req.credential_types, (const uint16_t[]){ 2 }, 1), 0);
        assert_int_equal(lv_check(&v, &p), MLS_E_UNSUPPORTED_CAPABILITY);
        free(req.extension_types.v);
        free(req.proposal_types.v);
        free(req.credential_types.v);
        lv_clear(&v);
}

/* R-7.2-3, R-7.3-11: the leaf's own non-default extensions are listed. */
static void
test_leaf_validate_extensions_listed(void **state)
{
        struct lv v;

        (void)state;
        lv_setup(&v);
        assert_int_equal(mls_extension_list_add(&v.m.leaf.extensions, 0x0a0a,
                                                (const uint8_t *)"x", 1),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_UNSUPPORTED_CAPABILITY);
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.extensions,
                                         (const uint16_t[]){ 0x0a0a }, 1),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), 0);
        /* application_id is a default extension */
        assert_int_equal(mls_extension_list_add(&v.m.leaf.extensions, MLS_EXT_APPLICATION_ID,
                                                (const uint8_t *)"\x01" "a", 2),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), 0);
        lv_clear(&v);
}

static void
make_x509(struct mls_credential *c)
{
        mls_credential_clear(c);
        c->credential_type = MLS_CREDENTIAL_X509;
        c->certificates = calloc(1, sizeof(*c->certificates));
        assert_non_null(c->certificates);
        assert_int_equal(mls_bytes_copy(&c->certificates[0], (const uint8_t *)"cert", 4), 0);
        c->n_certificates = 1;
}

/* R-7.3-7: the new leaf's credential type is supported by every member;
 * R-7.3-8: the new leaf supports every type in use. */
static void
test_leaf_validate_credential_types(void **state)
{
        struct lv v;

        (void)state;
        lv_setup(&v);
        /* R-7.3-7: an x509 joiner, members support basic only */
        make_x509(&v.m.leaf.credential);
        assert_int_equal(tf_set_u16_list(&v.m.leaf.capabilities.credentials,
                                         (const uint16_t[]){ 1, 2 }, 2),
                         0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_UNSUPPORTED_CAPABILITY);
        lv_clear(&v);

        /* R-7.3-8: a member uses x509, the joiner supports basic only */
        {
                struct tf_member a = { 0 }, b = { 0 };
                struct mls_tree *t = NULL;

                assert_int_equal(tf_member_new(suite1(), 60, &a), 0);
                assert_int_equal(tf_member_new(suite1(), 61, &b), 0);
                make_x509(&a.leaf.credential);
                assert_int_equal(tf_set_u16_list(&a.leaf.capabilities.credentials,
                                                 (const uint16_t[]){ 1, 2 }, 2),
                                 0);
                assert_int_equal(tf_leaf_sign(suite1(), &a.leaf, a.sig_priv, NULL, 0), 0);
                assert_int_equal(mls_tree_new(suite1(), &a.leaf, &t), 0);
                assert_int_equal(mls_tree_leaf_validate(t, &b.leaf, MLS_LEAF_KEY_PACKAGE, 0, NULL,
                                                        &policy_default),
                                 MLS_E_UNSUPPORTED_CAPABILITY);
                assert_int_equal(tf_set_u16_list(&b.leaf.capabilities.credentials,
                                                 (const uint16_t[]){ 1, 2 }, 2),
                                 0);
                assert_int_equal(tf_leaf_sign(suite1(), &b.leaf, b.sig_priv, NULL, 0), 0);
                assert_int_equal(mls_tree_leaf_validate(t, &b.leaf, MLS_LEAF_KEY_PACKAGE, 0, NULL,
                                                        &policy_default),
                                 0);
                mls_tree_free(t);
                tf_member_clear(&a);
                tf_member_clear(&b);
        }
}

/* R-7.3-9, R-7.3-10: lifetime with enforcement on; off for the vectors;
 * R-7.2-8: a maximum total lifetime. */
static void
test_leaf_validate_lifetime(void **state)
{
        struct lv v;
        struct mls_leaf_policy p = policy_default;

        (void)state;
        lv_setup(&v);
        v.m.leaf.lifetime.not_before = 1000;
        v.m.leaf.lifetime.not_after = p.now - 1;
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &p), MLS_E_LIFETIME);
        p.enforce_lifetime = false;
        assert_int_equal(lv_check(&v, &p), 0);
        p.enforce_lifetime = true;
        v.m.leaf.lifetime.not_before = p.now + 1;
        v.m.leaf.lifetime.not_after = p.now + 100;
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &p), MLS_E_LIFETIME);
        v.m.leaf.lifetime.not_before = p.now - 10;
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &p), 0);
        p.max_lifetime = 50;
        assert_int_equal(lv_check(&v, &p), MLS_E_LIFETIME);
        p.max_lifetime = 110;
        assert_int_equal(lv_check(&v, &p), 0);
        lv_clear(&v);
}

/* R-7.3-12, R-7.3-13, R-7.3-15: leaf_node_source fits the context. */
static void
test_leaf_validate_source(void **state)
{
        struct lv v;

        (void)state;
        lv_setup(&v);
        /* a key_package leaf offered as an Update / a Commit leaf */
        assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_UPDATE, 1,
                                                &v.g.group_id, &policy_default),
                         MLS_E_INVALID_LEAF);
        assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_COMMIT, 1,
                                                &v.g.group_id, &policy_default),
                         MLS_E_INVALID_LEAF);
        /* an update leaf as a KeyPackage leaf */
        v.m.leaf.leaf_node_source = MLS_LEAF_SOURCE_UPDATE;
        assert_int_equal(tf_leaf_sign(suite1(), &v.m.leaf, v.m.sig_priv, &v.g.group_id, 1), 0);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_INVALID_LEAF);
        /* R-7.2-10: update leaves are signed over group_id and leaf index */
        assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_UPDATE, 1,
                                                &v.g.group_id, &policy_default),
                         0);
        assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_UPDATE, 2,
                                                &v.g.group_id, &policy_default),
                         MLS_E_BAD_SIGNATURE);
        assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_UPDATE, 1, NULL,
                                                &policy_default),
                         MLS_E_INVALID_ARGUMENT);
        lv_clear(&v);
}

/* R-7.3-16, R-7.3-17, R-7.3-14 in leaf validation. */
static void
test_leaf_validate_unique_keys(void **state)
{
        struct lv v;
        const struct mls_leaf_node *l1;

        (void)state;
        lv_setup(&v);
        l1 = mls_tree_leaf(v.g.t, 1);
        /* R-7.3-17: another member's encryption key */
        mls_bytes_clear(&v.m.leaf.encryption_key);
        assert_int_equal(mls_bytes_dup(&v.m.leaf.encryption_key, &l1->encryption_key), 0);
        lv_resign(&v);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_DUPLICATE_KEY);
        tf_member_clear(&v.m);
        /* R-7.3-16: another member's signature key (validly signed with it) */
        assert_int_equal(tf_member_new(suite1(), 51, &v.m), 0);
        mls_bytes_clear(&v.m.leaf.signature_key);
        assert_int_equal(mls_bytes_dup(&v.m.leaf.signature_key, &l1->signature_key), 0);
        assert_int_equal(tf_leaf_sign(suite1(), &v.m.leaf, v.g.m[1].sig_priv, NULL, 0), 0);
        assert_int_equal(lv_check(&v, &policy_default), MLS_E_DUPLICATE_KEY);
        /* R-7.3-14: an Update for leaf 1 keeping leaf 1's encryption key */
        tf_member_clear(&v.m);
        {
                const struct tf_member *m1 = &v.g.m[1];

                assert_int_equal(tf_member_new(suite1(), 52, &v.m), 0);
                /* same signature key as leaf 1 (allowed), same encryption key (not) */
                mls_bytes_clear(&v.m.leaf.signature_key);
                assert_int_equal(mls_bytes_dup(&v.m.leaf.signature_key, &l1->signature_key), 0);
                mls_bytes_clear(&v.m.leaf.encryption_key);
                assert_int_equal(mls_bytes_dup(&v.m.leaf.encryption_key, &l1->encryption_key), 0);
                v.m.leaf.leaf_node_source = MLS_LEAF_SOURCE_UPDATE;
                assert_int_equal(tf_leaf_sign(suite1(), &v.m.leaf, m1->sig_priv, &v.g.group_id, 1),
                                 0);
                assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_UPDATE, 1,
                                                        &v.g.group_id, &policy_default),
                                 MLS_E_DUPLICATE_KEY);
                /* a fresh encryption key: fine */
                mls_bytes_clear(&v.m.leaf.encryption_key);
                assert_int_equal(mls_bytes_copy(&v.m.leaf.encryption_key,
                                                (const uint8_t *)"0123456789abcdef0123456789abcdef",
                                                32),
                                 0);
                assert_int_equal(tf_leaf_sign(suite1(), &v.m.leaf, m1->sig_priv, &v.g.group_id, 1),
                                 0);
                assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_UPDATE, 1,
                                                        &v.g.group_id, &policy_default),
                                 0);
                /* but not for leaf 2 (leaf 1 holds that signature key) */
                assert_int_equal(tf_leaf_sign(suite1(), &v.m.leaf, m1->sig_priv, &v.g.group_id, 2),
                                 0);
                assert_int_equal(mls_tree_leaf_validate(v.g.t, &v.m.leaf, MLS_LEAF_UPDATE, 2,
                                                        &v.g.group_id, &policy_default),
                                 MLS_E_DUPLICATE_KEY);
        }
        lv_clear(&v);
}

/* ---- memory ---- */

/* Heap bytes in use: glibc's count, or AddressSanitizer's when its
 * allocator replaces glibc's (mallinfo2 then reports nothing). */
static size_t
heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
        return __sanitizer_get_current_allocated_bytes();
#else
        return mallinfo2().uordblks;
#endif
}

/* Bytes of heap per member of a 4096-leaf suite-1 tree with every parent
 * filled (the steady state after commits), including the hash cache and the
 * lookup tables. Budget: 4 KiB per member. */
static void
test_tree_memory_per_member(void **state)
{
        enum { N = 4096 };
        struct mls_ratchet_tree rt;
        struct mls_bytes enc = { 0 };
        struct mls_tree *t = NULL;
        size_t a, b;
        uint32_t *all = malloc((2 * N - 1) * sizeof(uint32_t));
        uint8_t h[32];
        size_t per;

        (void)state;
        assert_non_null(all);
        for (uint32_t i = 0; i < 2 * N - 1; i++)
                all[i] = i;
        rt_init(&rt, 2 * N - 1, all, 2 * N - 1);
        /* realistic sizes: 40-byte identities */
        for (uint32_t i = 0; i < N; i++) {
                mls_node_clear(rt.nodes[2 * i]);
                rt.nodes[2 * i]->node_type = MLS_NODE_LEAF;
                assert_int_equal(tf_fake_leaf(i, 40, &rt.nodes[2 * i]->leaf_node), 0);
        }
        assert_int_equal(mls_ratchet_tree_to_bytes(&rt, &enc), 0);
        mls_ratchet_tree_clear(&rt);
        free(all);
        a = heap_in_use();
        assert_int_equal(mls_tree_from_bytes(suite1(), enc.data, enc.len, &t), 0);
        assert_int_equal(mls_tree_hash(t, h), 0);
        b = heap_in_use();
        assert_true(b > a); /* the measurement must see the tree */
        per = (b - a) / N;
        print_message("tree memory: %zu bytes per member (4096 suite-1 leaves, all parents "
                      "filled; encoded tree %zu bytes per member)\n",
                      per, enc.len / N);
        assert_true(per < 4096);
        mls_tree_free(t);
        mls_bytes_clear(&enc);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tree_decode_pads_to_full_width),
                cmocka_unit_test(test_tree_decode_rejects_even_node_count),
                cmocka_unit_test(test_tree_decode_rejects_trailing_blank),
                cmocka_unit_test(test_tree_decode_rejects_too_wide),
                cmocka_unit_test(test_tree_resolution_rfc_example),
                cmocka_unit_test(test_tree_filtered_direct_path_rfc_example),
                cmocka_unit_test(test_tree_add_extends_and_remove_truncates),
                cmocka_unit_test(test_tree_shrinks_after_mass_removal),
                cmocka_unit_test(test_tree_add_unmerged_bookkeeping),
                cmocka_unit_test(test_tree_hash_rehashes_only_changed_path),
                cmocka_unit_test(test_tree_random_ops_keep_lookups_consistent),
                cmocka_unit_test(test_tree_duplicate_keys_rejected),
                cmocka_unit_test(test_tree_rollback_restores_after_failed_merge),
                cmocka_unit_test(test_tree_commit_keeps_and_dup_copies),
                cmocka_unit_test(test_tree_validate_accepts_real_tree),
                cmocka_unit_test(test_tree_bad_parent_hash_rejected),
                cmocka_unit_test(test_tree_unmerged_mismatch_rejected),
                cmocka_unit_test(test_tree_hash_mismatch_rejected),
                cmocka_unit_test(test_tree_validate_rejects_bad_leaf_signature),
                cmocka_unit_test(test_tree_check_unmerged_rejects_inconsistent),
                cmocka_unit_test(test_leaf_validate_signature),
                cmocka_unit_test(test_leaf_validate_capabilities_suite_version),
                cmocka_unit_test(test_leaf_validate_required_capabilities),
                cmocka_unit_test(test_leaf_validate_extensions_listed),
                cmocka_unit_test(test_leaf_validate_credential_types),
                cmocka_unit_test(test_leaf_validate_lifetime),
                cmocka_unit_test(test_leaf_validate_source),
                cmocka_unit_test(test_leaf_validate_unique_keys),
                cmocka_unit_test(test_tree_memory_per_member),
                cmocka_unit_test(test_tree_hash_blank_subtrees_match_fresh),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
