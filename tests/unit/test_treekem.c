/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/treekem: commits round-trip between members (every
 * suite), the tree invariant of the private states, and one negative test
 * per check of a received UpdatePath (node count, ciphertext count,
 * tampered ciphertext, derived key mismatch, leaf parent hash, leaf source
 * and signature, reused keys), new members left out of the encryption and
 * keyed by Welcome, private-state rules and saving.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/labeled.h"
#include "mls/tree.h"
#include "mls/treekem.h"
#include "tests/lib/testutil.h"
#include "tests/unit/tree_fixture.h"

static uint16_t suite_tbl[] = { 1, 2, 3, 4, 5, 6, 7 };

static const struct mls_suite *
suite_of(void **state)
{
        const struct mls_suite *s = mls_suite_get(*(uint16_t *)*state);

        assert_non_null(s);
        return s;
}

static const struct mls_suite *
suite1(void)
{
        return mls_suite_get(1);
}

/* A commit by `committer` computed on g->t and rolled back: g->t is again
 * the receivers' tree. */
struct pending {
        struct mls_update_path up;
        struct mls_bytes gc;
        struct mls_secret *cs;
        uint8_t tree_hash_after[MLS_MAX_HASH_LEN];
};

static void
pending_clear(struct pending *p)
{
        mls_update_path_clear(&p->up);
        mls_bytes_clear(&p->gc);
        mls_secret_free(p->cs);
        memset(p, 0, sizeof(*p));
}

static struct tf_member *
member_at(struct tf_group *g, uint32_t leaf)
{
        size_t i = 0;

        while (i < g->n_members && g->leaf_of[i] != leaf)
                i++;
        assert_true(i < g->n_members);
        return &g->m[i];
}

static void
make_pending(struct tf_group *g, uint32_t committer, const uint32_t *new_leaves, size_t n_new,
             struct pending *p)
{
        struct tf_member *m = member_at(g, committer);
        struct mls_key_signer ks = { .suite = g->s, .priv = m->sig_priv };
        struct mls_signer signer = { .sign = tf_key_sign, .ctx = &ks };
        struct mls_treekem_commit *c = NULL;

        memset(p, 0, sizeof(*p));
        assert_int_equal(mls_tree_begin(g->t), 0);
        assert_int_equal(mls_treekem_commit_begin(g->t, committer, mls_tree_leaf(g->t, committer),
                                                  &g->group_id, &signer, mls_rng_system(), &c),
                         0);
        assert_int_equal(mls_tree_hash(g->t, p->tree_hash_after), 0);
        assert_int_equal(tf_group_context(g, &p->gc), 0);
        assert_int_equal(mls_treekem_commit_encrypt(c, g->t, p->gc.data, p->gc.len, new_leaves,
                                                    n_new, mls_rng_system(), &p->up),
                         0);
        assert_int_equal(mls_treekem_commit_secret(c, &p->cs), 0);
        mls_treekem_commit_free(c);
        mls_tree_rollback(g->t);
}

static void
tree_bytes(const struct mls_tree *t, struct mls_bytes *ret)
{
        assert_int_equal(mls_tree_to_bytes(t, ret), 0);
}

/* Merge must fail with `want` and leave the tree byte-identical
 * (R-12.4.2-18). */
static void
assert_merge_fails(struct tf_group *g, uint32_t sender, const struct mls_update_path *up,
                   const uint32_t *new_leaves, size_t n_new, int want)
{
        struct mls_bytes a = { 0 }, b = { 0 };

        tree_bytes(g->t, &a);
        assert_int_equal(mls_treekem_path_merge(g->t, sender, up, &g->group_id, new_leaves, n_new,
                                                NULL),
                         want);
        tree_bytes(g->t, &b);
        assert_true(mls_bytes_eq(&a, &b));
        assert_int_equal(mls_tree_check_consistency(g->t), 0);
        mls_bytes_clear(&a);
        mls_bytes_clear(&b);
}

/* R-4.2-1 and the tree invariant: every member holds the key of each
 * non-blank node on its direct path where it is not unmerged, and no other. */
static void
assert_tree_invariant(struct tf_group *g)
{
        for (uint32_t j = 0; j < mls_tree_width(g->t); j++) {
                uint32_t x = 2 * j, root = mls_tree_width(g->t) - 1;

                if (!mls_tree_leaf(g->t, j))
                        continue;
                assert_non_null(g->priv[j]);
                assert_int_equal(mls_treekem_priv_check_leaf(g->priv[j], g->t), 0);
                while (x != root) {
                        const struct mls_parent_node *p;
                        bool unmerged = false;

                        assert_int_equal(mls_tm_parent(x, mls_tree_width(g->t), &x), 0);
                        p = mls_tree_parent(g->t, x);
                        if (!p)
                                continue;
                        for (size_t k = 0; k < p->unmerged_leaves.n; k++)
                                if (p->unmerged_leaves.v[k] == j)
                                        unmerged = true;
                        assert_int_equal(mls_treekem_priv_has_node(g->priv[j], g->t, x), !unmerged);
                }
        }
}

/* R-7.4-1..4, R-7.5-1..10, R-7.6-1, R-7.6-4, R-12.4.1-4, R-12.4.2-13,
 * R-12.4.2-14: several commits by different members of a 6-member group;
 * every member reaches the same tree and commit secret (tf_group_commit
 * checks), the trees stay valid and the private states keep the invariant. */
static void
test_treekem_commit_round_trip(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct tf_group g;
        const struct mls_leaf_policy pol = { .version = MLS_VERSION_MLS10 };
        uint8_t h[MLS_MAX_HASH_LEN];
        static const uint32_t order[] = { 0, 5, 2, 3, 0, 1 };

        assert_int_equal(tf_group_new(s, 6, &g), 0);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(order); i++) {
                assert_int_equal(tf_group_commit(&g, order[i]), 0);
                assert_tree_invariant(&g);
                assert_int_equal(mls_tree_hash(g.t, h), 0);
                assert_int_equal(mls_tree_validate(g.t, h, s->hash_len, &g.group_id, &pol), 0);
        }
        /* a removal blanks the path; the remaining members still agree */
        assert_int_equal(mls_tree_remove(g.t, 3), 0);
        for (uint32_t j = 0; j < 6; j++)
                if (g.priv[j])
                        mls_treekem_priv_prune(g.priv[j], g.t);
        mls_treekem_priv_free(g.priv[3]);
        g.priv[3] = NULL;
        assert_tree_invariant(&g);
        assert_int_equal(tf_group_commit(&g, 4), 0);
        assert_tree_invariant(&g);
        tf_group_clear(&g);
}

/* A single member: empty filtered path, empty parent_hash, commit secret
 * from the leaf secret chain. R-7.4-2: every commit brings a fresh leaf key
 * pair (and fresh secrets). */
static void
test_treekem_commit_alone(void **state)
{
        struct tf_group g;
        struct pending p, q;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 1, &g), 0);
        make_pending(&g, 0, NULL, 0, &p);
        make_pending(&g, 0, NULL, 0, &q);
        assert_int_equal(p.up.n_nodes, 0);
        assert_int_equal(p.up.leaf_node.parent_hash.len, 0);
        assert_int_equal(p.up.leaf_node.leaf_node_source, MLS_LEAF_SOURCE_COMMIT);
        assert_int_equal(p.cs->len, 32);
        assert_false(mls_bytes_eq(&p.up.leaf_node.encryption_key,
                                  &mls_tree_leaf(g.t, 0)->encryption_key));
        assert_false(mls_bytes_eq(&p.up.leaf_node.encryption_key, &q.up.leaf_node.encryption_key));
        assert_false(mls_secret_eq(p.cs, q.cs));
        assert_int_equal(mls_treekem_path_merge(g.t, 0, &p.up, &g.group_id, NULL, 0, NULL), 0);
        pending_clear(&p);
        pending_clear(&q);
        tf_group_clear(&g);
}

/* R-7.6-1: the UpdatePath must have one node per filtered-direct-path node. */
static void
test_treekem_path_wrong_node_count(void **state)
{
        struct tf_group g;
        struct pending p;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 5, &g), 0);
        assert_int_equal(tf_group_commit(&g, 0), 0);
        make_pending(&g, 3, NULL, 0, &p);
        assert_true(p.up.n_nodes >= 2);
        p.up.n_nodes--;
        assert_merge_fails(&g, 3, &p.up, NULL, 0, MLS_E_INVALID_MESSAGE);
        p.up.n_nodes++;
        /* and it merges fine untouched */
        assert_int_equal(mls_tree_begin(g.t), 0);
        assert_int_equal(mls_treekem_path_merge(g.t, 3, &p.up, &g.group_id, NULL, 0, NULL), 0);
        mls_tree_rollback(g.t);
        /* the path of another sender does not fit */
        assert_merge_fails(&g, 4, &p.up, NULL, 0, MLS_E_INVALID_MESSAGE);
        pending_clear(&p);
        tf_group_clear(&g);
}

/* R-7.6-3: one ciphertext per resolution node, no more, no less. */
static void
test_treekem_path_wrong_ciphertext_count(void **state)
{
        struct tf_group g;
        struct pending p;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 5, &g), 0);
        make_pending(&g, 0, NULL, 0, &p);
        assert_true(p.up.nodes[0].n_encrypted_path_secret >= 1);
        p.up.nodes[0].n_encrypted_path_secret--;
        assert_merge_fails(&g, 0, &p.up, NULL, 0, MLS_E_INVALID_MESSAGE);
        p.up.nodes[0].n_encrypted_path_secret++;
        /* declaring a leaf as new while the committer encrypted to it */
        assert_merge_fails(&g, 0, &p.up, (const uint32_t[]){ 1 }, 1, MLS_E_INVALID_MESSAGE);
        pending_clear(&p);
        tf_group_clear(&g);
}

/* Merges p into g->t (inside a transaction the caller rolls back) and
 * returns what receiver j's decryption gives. */
static int
merge_and_decrypt(struct tf_group *g, uint32_t sender, struct pending *p, uint32_t j)
{
        struct mls_treekem_priv *np = NULL;
        struct mls_secret *cs = NULL;
        int r;

        assert_int_equal(mls_tree_begin(g->t), 0);
        assert_int_equal(mls_treekem_path_merge(g->t, sender, &p->up, &g->group_id, NULL, 0, NULL),
                         0);
        r = mls_treekem_path_decrypt(g->t, g->priv[j], sender, &p->up, p->gc.data, p->gc.len, NULL,
                                     0, &np, &cs);
        if (r == 0 && !mls_secret_eq(cs, p->cs))
                r = MLS_E_INTERNAL;
        mls_treekem_priv_free(np);
        mls_secret_free(cs);
        mls_tree_rollback(g->t);
        return r;
}

/* R-7.5-7: a flipped bit in the encrypted path secret, its KEM output, or a
 * different GroupContext fails decryption. */
static void
test_treekem_tampered_path_secret(void **state)
{
        struct tf_group g;
        struct pending p;
        struct mls_hpke_ciphertext *ct;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 2, &g), 0);
        make_pending(&g, 0, NULL, 0, &p);
        assert_int_equal(p.up.n_nodes, 1);
        assert_int_equal(p.up.nodes[0].n_encrypted_path_secret, 1);
        assert_int_equal(merge_and_decrypt(&g, 0, &p, 1), 0);
        ct = &p.up.nodes[0].encrypted_path_secret[0];
        ct->ciphertext.data[3] ^= 0x04;
        assert_int_equal(merge_and_decrypt(&g, 0, &p, 1), MLS_E_DECRYPT);
        ct->ciphertext.data[3] ^= 0x04;
        ct->ciphertext.data[ct->ciphertext.len - 1] ^= 0x80; /* the tag */
        assert_int_equal(merge_and_decrypt(&g, 0, &p, 1), MLS_E_DECRYPT);
        ct->ciphertext.data[ct->ciphertext.len - 1] ^= 0x80;
        ct->kem_output.data[0] ^= 0x01;
        assert_true(merge_and_decrypt(&g, 0, &p, 1) < 0);
        ct->kem_output.data[0] ^= 0x01;
        p.gc.data[p.gc.len - 1] ^= 0x01; /* another provisional GroupContext */
        assert_int_equal(merge_and_decrypt(&g, 0, &p, 1), MLS_E_DECRYPT);
        p.gc.data[p.gc.len - 1] ^= 0x01;
        assert_int_equal(merge_and_decrypt(&g, 0, &p, 1), 0);
        pending_clear(&p);
        tf_group_clear(&g);
}

/* R-7.5-9: a path secret that decrypts but does not derive the public key
 * in the UpdatePath is rejected. */
static void
test_treekem_derived_key_mismatch(void **state)
{
        struct tf_group g;
        struct pending p;
        struct mls_hpke_ciphertext *ct;
        const struct mls_leaf_node *l1;
        uint8_t wrong[32];

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 2, &g), 0);
        make_pending(&g, 0, NULL, 0, &p);
        l1 = mls_tree_leaf(g.t, 1);
        ct = &p.up.nodes[0].encrypted_path_secret[0];
        mls_bytes_clear(&ct->kem_output);
        mls_bytes_clear(&ct->ciphertext);
        randombytes_buf(wrong, sizeof(wrong));
        assert_int_equal(mls_encrypt_with_label(g.s, mls_rng_system(), l1->encryption_key.data,
                                                l1->encryption_key.len, "UpdatePathNode",
                                                p.gc.data, p.gc.len, wrong, sizeof(wrong),
                                                &ct->kem_output, &ct->ciphertext),
                         0);
        assert_int_equal(merge_and_decrypt(&g, 0, &p, 1), MLS_E_BAD_KEY);
        /* a path secret of the wrong length */
        mls_bytes_clear(&ct->kem_output);
        mls_bytes_clear(&ct->ciphertext);
        assert_int_equal(mls_encrypt_with_label(g.s, mls_rng_system(), l1->encryption_key.data,
                                                l1->encryption_key.len, "UpdatePathNode",
                                                p.gc.data, p.gc.len, wrong, 16, &ct->kem_output,
                                                &ct->ciphertext),
                         0);
        assert_int_equal(merge_and_decrypt(&g, 0, &p, 1), MLS_E_INVALID_MESSAGE);
        pending_clear(&p);
        tf_group_clear(&g);
}

static void
resign(struct tf_group *g, uint32_t committer, struct mls_leaf_node *l)
{
        assert_int_equal(tf_leaf_sign(g->s, l, member_at(g, committer)->sig_priv, &g->group_id,
                                      committer),
                         0);
}

/* R-7.5-6, R-7.9.2-5: the leaf's signed parent_hash must be the one
 * computed for the lowest filtered node. */
static void
test_treekem_leaf_parent_hash_mismatch(void **state)
{
        struct tf_group g;
        struct pending p;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 4, &g), 0);
        assert_int_equal(tf_group_commit(&g, 3), 0);
        make_pending(&g, 1, NULL, 0, &p);
        p.up.leaf_node.parent_hash.data[0] ^= 0x01;
        resign(&g, 1, &p.up.leaf_node);
        assert_merge_fails(&g, 1, &p.up, NULL, 0, MLS_E_BAD_PARENT_HASH);
        p.up.leaf_node.parent_hash.data[0] ^= 0x01;
        /* a path key changed after signing also breaks the chain */
        p.up.nodes[1].encryption_key.data[2] ^= 0x40;
        resign(&g, 1, &p.up.leaf_node);
        assert_merge_fails(&g, 1, &p.up, NULL, 0, MLS_E_BAD_PARENT_HASH);
        pending_clear(&p);
        tf_group_clear(&g);
}

/* R-7.3-15, R-12.4.2-10: source commit; R-7.3-5: signature over group_id and
 * the sender's index. */
static void
test_treekem_leaf_source_and_signature(void **state)
{
        struct tf_group g;
        struct pending p;
        struct mls_leaf_policy pol = { .version = MLS_VERSION_MLS10 };

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 3, &g), 0);
        make_pending(&g, 2, NULL, 0, &p);
        p.up.leaf_node.signature.data[5] ^= 0x01;
        assert_merge_fails(&g, 2, &p.up, NULL, 0, MLS_E_BAD_SIGNATURE);
        p.up.leaf_node.signature.data[5] ^= 0x01;
        /* signed for another group, or as another leaf (R-7.2-10) */
        {
                struct mls_bytes other = { .data = (uint8_t *)"another group", .len = 13 };

                assert_int_equal(tf_leaf_sign(g.s, &p.up.leaf_node, g.m[2].sig_priv, &other, 2), 0);
                assert_merge_fails(&g, 2, &p.up, NULL, 0, MLS_E_BAD_SIGNATURE);
                assert_int_equal(tf_leaf_sign(g.s, &p.up.leaf_node, g.m[2].sig_priv, &g.group_id, 1),
                                 0);
                assert_merge_fails(&g, 2, &p.up, NULL, 0, MLS_E_BAD_SIGNATURE);
        }
        /* an update-source leaf in a path */
        p.up.leaf_node.leaf_node_source = MLS_LEAF_SOURCE_UPDATE;
        resign(&g, 2, &p.up.leaf_node);
        assert_merge_fails(&g, 2, &p.up, NULL, 0, MLS_E_INVALID_LEAF);
        p.up.leaf_node.leaf_node_source = MLS_LEAF_SOURCE_COMMIT;
        resign(&g, 2, &p.up.leaf_node);
        /* R-12.4.2-9: with a policy, full leaf validation (here: the group's
         * suite missing from the capabilities) */
        assert_int_equal(tf_set_u16_list(&p.up.leaf_node.capabilities.cipher_suites,
                                         (const uint16_t[]){ 3 }, 1),
                         0);
        resign(&g, 2, &p.up.leaf_node);
        assert_int_equal(mls_treekem_path_merge(g.t, 2, &p.up, &g.group_id, NULL, 0, &pol),
                         MLS_E_UNSUPPORTED_CAPABILITY);
        assert_int_equal(mls_tree_begin(g.t), 0);
        assert_int_equal(mls_treekem_path_merge(g.t, 2, &p.up, &g.group_id, NULL, 0, NULL), 0);
        mls_tree_rollback(g.t);
        pending_clear(&p);
        tf_group_clear(&g);
}

/* R-12.4.2-11: a new leaf encryption key; R-12.4.2-12: no key of the path
 * already in the tree; every key a valid KEM key. */
static void
test_treekem_path_reused_keys(void **state)
{
        struct tf_group g;
        struct pending p;
        struct mls_bytes keys[MLS_TM_MAX_DEPTH], phs[MLS_TM_MAX_DEPTH], lph = { 0 };
        uint32_t nodes[MLS_TM_MAX_DEPTH], cop[MLS_TM_MAX_DEPTH];
        size_t n;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 4, &g), 0);
        make_pending(&g, 0, NULL, 0, &p);
        /* the committer's current leaf key */
        mls_bytes_clear(&p.up.leaf_node.encryption_key);
        assert_int_equal(mls_bytes_dup(&p.up.leaf_node.encryption_key,
                                       &mls_tree_leaf(g.t, 0)->encryption_key),
                         0);
        resign(&g, 0, &p.up.leaf_node);
        assert_merge_fails(&g, 0, &p.up, NULL, 0, MLS_E_DUPLICATE_KEY);
        pending_clear(&p);

        /* a path node carrying leaf 3's key, with consistent parent hashes */
        make_pending(&g, 0, NULL, 0, &p);
        assert_int_equal(mls_tree_filtered_direct_path(g.t, 0, nodes, cop, &n), 0);
        assert_int_equal(n, p.up.n_nodes);
        mls_bytes_clear(&p.up.nodes[n - 1].encryption_key);
        assert_int_equal(mls_bytes_dup(&p.up.nodes[n - 1].encryption_key,
                                       &mls_tree_leaf(g.t, 3)->encryption_key),
                         0);
        for (size_t i = 0; i < n; i++)
                keys[i] = p.up.nodes[i].encryption_key;
        assert_int_equal(mls_tree_path_parent_hashes(g.t, cop, keys, n, phs, &lph), 0);
        mls_bytes_clear(&p.up.leaf_node.parent_hash);
        p.up.leaf_node.parent_hash = lph;
        resign(&g, 0, &p.up.leaf_node);
        assert_merge_fails(&g, 0, &p.up, NULL, 0, MLS_E_DUPLICATE_KEY);
        for (size_t i = 0; i < n; i++)
                mls_bytes_clear(&phs[i]);
        /* a key of the wrong length */
        p.up.nodes[0].encryption_key.len--;
        assert_merge_fails(&g, 0, &p.up, NULL, 0, MLS_E_BAD_KEY);
        p.up.nodes[0].encryption_key.len++;
        pending_clear(&p);
        tf_group_clear(&g);
}

/* R-7.5-4, R-7.6-2: members added by the Commit are left out of the
 * resolutions; R-12.4.1-10, R-12.4.3.1-19: each gets the path secret of
 * its lowest common ancestor with the committer and keys its path. */
static void
test_treekem_new_members_excluded(void **state)
{
        struct tf_group g;
        struct tf_member nm[2] = { { 0 } };
        struct mls_key_signer ks;
        struct mls_signer signer = { .sign = tf_key_sign };
        struct mls_treekem_commit *c = NULL;
        struct mls_update_path up = { 0 };
        struct mls_bytes gc = { 0 }, a = { 0 }, b = { 0 };
        struct mls_tree *rt = NULL;
        uint32_t added[2];
        size_t total = 0, want = 0;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 3, &g), 0);
        assert_int_equal(tf_group_commit(&g, 0), 0);
        assert_int_equal(tf_group_commit(&g, 2), 0);
        /* committer 1 adds two members, then commits with a path */
        ks = (struct mls_key_signer){ .suite = g.s, .priv = g.m[1].sig_priv };
        signer.ctx = &ks;
        assert_int_equal(mls_tree_dup(g.t, &rt), 0);
        assert_int_equal(mls_tree_begin(g.t), 0);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(tf_member_new(g.s, 10 + (uint32_t)i, &nm[i]), 0);
                assert_int_equal(mls_tree_add(g.t, &nm[i].leaf, &added[i]), 0);
        }
        assert_int_equal(added[0], 3);
        assert_int_equal(added[1], 4);
        assert_int_equal(mls_treekem_commit_begin(g.t, 1, mls_tree_leaf(g.t, 1), &g.group_id,
                                                  &signer, mls_rng_system(), &c),
                         0);
        assert_int_equal(tf_group_context(&g, &gc), 0);
        assert_int_equal(mls_treekem_commit_encrypt(c, g.t, gc.data, gc.len, added, 2,
                                                    mls_rng_system(), &up),
                         0);
        for (size_t i = 0; i < up.n_nodes; i++)
                total += up.nodes[i].n_encrypted_path_secret;
        /* resolutions without the new leaves: leaf 0 and (leaf 2 under the
         * root's copath child 11) -> with them there would be more */
        for (size_t i = 0; i < up.n_nodes; i++) {
                uint32_t nodes[MLS_TM_MAX_DEPTH], cop[MLS_TM_MAX_DEPTH];
                size_t n, k;

                assert_int_equal(mls_tree_filtered_direct_path(g.t, 1, nodes, cop, &n), 0);
                assert_int_equal(mls_tree_resolution_size(g.t, cop[i], added, 2, &k), 0);
                want += k;
        }
        assert_int_equal(total, want);
        assert_int_equal(total, 2);
        /* a receiver applies the adds, then merges with the same exclusions */
        for (int i = 0; i < 2; i++) {
                uint32_t li;

                assert_int_equal(mls_tree_add(rt, &nm[i].leaf, &li), 0);
                assert_int_equal(li, added[i]);
        }
        assert_int_equal(mls_treekem_path_merge(rt, 1, &up, &g.group_id, NULL, 0, NULL),
                         MLS_E_INVALID_MESSAGE);
        assert_int_equal(mls_treekem_path_merge(rt, 1, &up, &g.group_id, added, 2, NULL), 0);
        tree_bytes(g.t, &a);
        tree_bytes(rt, &b);
        assert_true(mls_bytes_eq(&a, &b));
        {
                struct mls_treekem_priv *np = NULL;
                struct mls_secret *cs = NULL, *ccs = NULL;

                assert_int_equal(mls_treekem_path_decrypt(rt, g.priv[0], 1, &up, gc.data, gc.len,
                                                          added, 2, &np, &cs),
                                 0);
                assert_int_equal(mls_treekem_commit_secret(c, &ccs), 0);
                assert_true(mls_secret_eq(cs, ccs));
                /* a new member cannot decrypt the path */
                assert_int_equal(mls_treekem_path_decrypt(rt, g.priv[0], 1, &up, gc.data, gc.len,
                                                          (const uint32_t[]){ 0 }, 1, &np, &cs),
                                 MLS_E_INVALID_ARGUMENT);
                mls_treekem_priv_free(np);
                mls_secret_free(cs);
                mls_secret_free(ccs);
        }
        /* the new members join with the path secret from their GroupSecrets */
        for (int i = 0; i < 2; i++) {
                struct mls_secret *ps = NULL;
                struct mls_treekem_priv *jp = NULL;

                assert_int_equal(mls_treekem_commit_path_secret_for(c, added[i], &ps), 0);
                assert_int_equal(mls_treekem_priv_join(rt, added[i], nm[i].enc_priv, 1, ps, &jp), 0);
                /* it holds the root's key now, and its LCA's */
                assert_true(mls_treekem_priv_has_node(jp, rt, mls_tree_width(rt) - 1));
                assert_true(mls_treekem_priv_node_count(jp) >= 1);
                mls_treekem_priv_free(jp);
                /* R-12.4.3.1-20: a wrong path secret fails */
                ps->data[0] ^= 1;
                assert_int_equal(mls_treekem_priv_join(rt, added[i], nm[i].enc_priv, 1, ps, &jp),
                                 MLS_E_BAD_KEY);
                mls_secret_free(ps);
        }
        /* R-12.4.3.1-18: a wrong leaf key fails */
        {
                struct mls_treekem_priv *jp = NULL;

                assert_int_equal(mls_treekem_priv_join(rt, added[0], nm[1].enc_priv, 1, NULL, &jp),
                                 MLS_E_BAD_KEY);
                assert_int_equal(mls_treekem_priv_join(rt, added[0], nm[0].enc_priv, 1, NULL, &jp),
                                 0);
                mls_treekem_priv_free(jp);
        }
        mls_tree_rollback(g.t);
        mls_treekem_commit_free(c);
        mls_update_path_clear(&up);
        mls_bytes_clear(&gc);
        mls_bytes_clear(&a);
        mls_bytes_clear(&b);
        mls_tree_free(rt);
        tf_member_clear(&nm[0]);
        tf_member_clear(&nm[1]);
        tf_group_clear(&g);
}

/* R-4.2-1: a key only for a parent on the own direct path; R-7.5-12: keys
 * of blanked nodes are dropped. */
static void
test_treekem_priv_direct_path_only(void **state)
{
        struct tf_group g;
        uint8_t ps[32] = { 0 };
        uint32_t root;
        size_t before;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 4, &g), 0);
        assert_int_equal(tf_group_commit(&g, 0), 0);
        root = mls_tree_width(g.t) - 1;
        /* node 5 is above leaves 2 and 3, not leaf 0 */
        assert_int_equal(mls_treekem_priv_add_path_secret(g.priv[0], g.t, 5, ps, 32),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_treekem_priv_add_path_secret(g.priv[0], g.t, 2, ps, 32),
                         MLS_E_INVALID_ARGUMENT);
        /* a wrong path secret for the root */
        assert_int_equal(mls_treekem_priv_add_path_secret(g.priv[0], g.t, root, ps, 32),
                         MLS_E_BAD_KEY);
        assert_true(mls_treekem_priv_has_node(g.priv[3], g.t, root));
        before = mls_treekem_priv_node_count(g.priv[3]);
        assert_int_equal(mls_tree_remove(g.t, 1), 0);
        mls_treekem_priv_prune(g.priv[3], g.t);
        assert_false(mls_treekem_priv_has_node(g.priv[3], g.t, root));
        assert_true(mls_treekem_priv_node_count(g.priv[3]) < before);
        tf_group_clear(&g);
}

/* Decryption preconditions: not the sender, not removed. */
static void
test_treekem_decrypt_preconditions(void **state)
{
        struct tf_group g;
        struct pending p;
        struct mls_treekem_priv *np = NULL;
        struct mls_secret *cs = NULL;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 4, &g), 0);
        make_pending(&g, 0, NULL, 0, &p);
        assert_int_equal(mls_tree_begin(g.t), 0);
        assert_int_equal(mls_treekem_path_merge(g.t, 0, &p.up, &g.group_id, NULL, 0, NULL), 0);
        assert_int_equal(mls_treekem_path_decrypt(g.t, g.priv[0], 0, &p.up, p.gc.data, p.gc.len,
                                                  NULL, 0, &np, &cs),
                         MLS_E_INVALID_ARGUMENT);
        mls_tree_rollback(g.t);
        assert_int_equal(mls_tree_remove(g.t, 2), 0);
        assert_int_equal(mls_treekem_path_decrypt(g.t, g.priv[2], 0, &p.up, p.gc.data, p.gc.len,
                                                  NULL, 0, &np, &cs),
                         MLS_E_REMOVED);
        pending_clear(&p);
        tf_group_clear(&g);
}

/* Saved private state round-trips; truncations and foreign suites fail. */
static void
test_treekem_priv_encode_round_trip(void **state)
{
        struct tf_group g;
        struct mls_writer w;
        struct mls_reader r;
        struct mls_treekem_priv *p2 = NULL;
        struct mls_secret *enc = NULL;

        (void)state;
        assert_int_equal(tf_group_new(suite1(), 4, &g), 0);
        assert_int_equal(tf_group_commit(&g, 2), 0);
        mls_writer_init_secure(&w);
        assert_int_equal(mls_treekem_priv_encode(g.priv[0], &w), 0);
        assert_int_equal(mls_writer_finish_secret(&w, &enc), 0);
        mls_reader_init(&r, enc->data, enc->len);
        assert_int_equal(mls_treekem_priv_decode(&r, &p2), 0);
        assert_int_equal(mls_reader_done(&r), 0);
        assert_int_equal(mls_treekem_priv_leaf(p2), 0);
        assert_int_equal(mls_treekem_priv_node_count(p2), mls_treekem_priv_node_count(g.priv[0]));
        assert_int_equal(mls_treekem_priv_check_leaf(p2, g.t), 0);
        assert_true(mls_treekem_priv_has_node(p2, g.t, 3));
        mls_treekem_priv_free(p2);
        for (size_t i = 0; i < enc->len; i++) {
                uint8_t *buf = tu_guarded_copy(enc->data, i);

                p2 = NULL;
                mls_reader_init(&r, buf, i);
                assert_true(mls_treekem_priv_decode(&r, &p2) < 0);
                assert_null(p2);
                tu_guarded_free(buf);
        }
        enc->data[1] = 99; /* unknown suite */
        mls_reader_init(&r, enc->data, enc->len);
        assert_int_equal(mls_treekem_priv_decode(&r, &p2), MLS_E_BAD_STATE);
        mls_secret_free(enc);
        mls_writer_clear(&w);
        tf_group_clear(&g);
}

#define PER_SUITE(f)                                            \
        cmocka_unit_test_prestate(f, &suite_tbl[0]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[1]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[2]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[3]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[4]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[5]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[6])

int
main(void)
{
        const struct CMUnitTest tests[] = {
                PER_SUITE(test_treekem_commit_round_trip),
                cmocka_unit_test(test_treekem_commit_alone),
                cmocka_unit_test(test_treekem_path_wrong_node_count),
                cmocka_unit_test(test_treekem_path_wrong_ciphertext_count),
                cmocka_unit_test(test_treekem_tampered_path_secret),
                cmocka_unit_test(test_treekem_derived_key_mismatch),
                cmocka_unit_test(test_treekem_leaf_parent_hash_mismatch),
                cmocka_unit_test(test_treekem_leaf_source_and_signature),
                cmocka_unit_test(test_treekem_path_reused_keys),
                cmocka_unit_test(test_treekem_new_members_excluded),
                cmocka_unit_test(test_treekem_priv_direct_path_only),
                cmocka_unit_test(test_treekem_decrypt_preconditions),
                cmocka_unit_test(test_treekem_priv_encode_round_trip),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
