/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the group module's building blocks: the signer (mls/signer.h),
 * KeyPackages and their saved private half, group creation, saved group
 * state (round trips and strict decoding), options, exporter, members,
 * GroupInfo.
 *
 * With MLS_GROUP_CORPUS_DIR set, the saved states made here are written
 * there as the seed corpus of the fuzz target group_state.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/unit/group_test_util.h"
#include "mls/group-internal.h"

static void
corpus_write(const char *name, const uint8_t *p, size_t len)
{
        const char *dir = getenv("MLS_GROUP_CORPUS_DIR");
        char path[512];
        FILE *f;

        if (!dir)
                return;
        (void)mkdir(dir, 0755);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(p, 1, len, f), len);
        fclose(f);
}

/* ---- signer ---- */

/* R-17.6-1: only the RFC's four labels are signed. */
static void
test_signer_label_allowlist(void **state)
{
        const struct mls_suite *s = mls_suite_get(1);
        struct mls_signer_key *k = NULL;
        struct mls_bytes sig = { 0 };
        static const uint8_t msg[] = "content";

        (void)state;
        assert_true(mls_signer_label_allowed("FramedContentTBS"));
        assert_true(mls_signer_label_allowed("LeafNodeTBS"));
        assert_true(mls_signer_label_allowed("KeyPackageTBS"));
        assert_true(mls_signer_label_allowed("GroupInfoTBS"));
        assert_false(mls_signer_label_allowed("MLS 1.0 GroupInfoTBS"));
        assert_false(mls_signer_label_allowed("Anything"));
        assert_false(mls_signer_label_allowed(NULL));
        assert_int_equal(mls_signer_key_generate(s, mls_rng_system(), &k), 0);
        assert_int_equal(mls_signer_sign(&k->signer, "Anything", msg, sizeof(msg), &sig),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_key_signer_sign(&k->ks, "Raw", msg, sizeof(msg), &sig),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_signer_sign(&k->signer, "LeafNodeTBS", msg, sizeof(msg), &sig), 0);
        /* SignWithLabel: verifies with the label, not without it */
        assert_int_equal(mls_verify_with_label(s, k->pub.data, k->pub.len, "LeafNodeTBS", msg,
                                               sizeof(msg), sig.data, sig.len),
                         0);
        assert_int_equal(mls_verify_with_label(s, k->pub.data, k->pub.len, "GroupInfoTBS", msg,
                                               sizeof(msg), sig.data, sig.len),
                         MLS_E_BAD_SIGNATURE);
        mls_bytes_clear(&sig);
        /* a signer from an existing key has the same public key */
        {
                struct mls_signer_key *k2 = NULL;

                assert_int_equal(mls_signer_key_new(s, k->priv, &k2), 0);
                assert_true(mls_bytes_eq(&k->pub, &k2->pub));
                assert_ptr_equal(k2->signer.pub, k2->pub.data);
                mls_signer_key_free(k2);
        }
        {
                struct mls_secret *bad = NULL;
                struct mls_signer_key *k3 = NULL;

                assert_int_equal(mls_secret_new(7, &bad), 0);
                assert_int_equal(mls_signer_key_new(s, bad, &k3), MLS_E_BAD_KEY);
                mls_secret_free(bad);
        }
        mls_signer_key_free(k);
}

/* ---- KeyPackages ---- */

/* R-10-2 .. R-10-9, R-10.1-5, R-10.1-6, R-10-3, R-13.4-3 */
static void
test_key_package_create_valid(void **state)
{
        struct tm_member m;
        struct mls_bytes a = { 0 }, b = { 0 };
        struct mls_key_package ka = { 0 }, kb = { 0 };
        struct mls_key_package_priv *pa = NULL;
        struct mls_key_package_params p = { 0 };

        (void)state;
        tm_init(&m, mls_suite_get(2), "kp");
        p.leaf = tm_leaf(&m);
        p.last_resort = true;
        assert_int_equal(mls_key_package_create(m.s, &p, &m.env, &a, &pa), 0);
        tm_key_package(&m, &b);
        /* MLSMessage-wrapped (R-10-7) */
        assert_int_equal(a.data[0], 0);
        assert_int_equal(a.data[1], 1);
        assert_int_equal(a.data[3], MLS_WIRE_KEY_PACKAGE);
        assert_int_equal(grp_key_package_decode(a.data, a.len, &ka), 0);
        assert_int_equal(grp_key_package_decode(b.data, b.len, &kb), 0);
        /* R-10-8 */
        assert_int_equal(ka.leaf_node.leaf_node_source, MLS_LEAF_SOURCE_KEY_PACKAGE);
        /* R-10.1-6 */
        assert_false(mls_bytes_eq(&ka.init_key, &ka.leaf_node.encryption_key));
        /* R-10-3: init keys differ between KeyPackages */
        assert_false(mls_bytes_eq(&ka.init_key, &kb.init_key));
        /* R-10-5, R-10.1-5 and the rest of the KeyPackage checks */
        assert_int_equal(grp_key_package_check(m.s, &ka, NULL, true), 0);
        /* last resort: the extension, listed in the capabilities (R-10-9) */
        assert_true(mls_key_package_priv_last_resort(pa));
        assert_false(mls_key_package_priv_last_resort(m.kpp));
        assert_non_null(mls_extension_list_find(&ka.extensions, MLS_EXT_LAST_RESORT));
        assert_true(grp_u16_in(&ka.leaf_node.capabilities.extensions, MLS_EXT_LAST_RESORT));
        /* the lifetime defaults to [now, now + 90 days] */
        assert_int_equal(ka.leaf_node.lifetime.not_before, TM_NOW);
        assert_int_equal(ka.leaf_node.lifetime.not_after, TM_NOW + MLS_KEY_PACKAGE_DEFAULT_LIFETIME);
        /* R-10-6: a flipped signature bit makes it invalid */
        ka.signature.data[3] ^= 1;
        assert_int_equal(grp_key_package_check(m.s, &ka, NULL, true), MLS_E_BAD_SIGNATURE);
        ka.signature.data[3] ^= 1;
        /* R-10-10, R-13.4-3: an unknown extension type that is listed in
         * the capabilities is ignored */
        {
                struct mls_key_package_params q = { 0 };
                struct mls_capabilities caps = { 0 };
                struct mls_extension_list ext = { 0 };
                struct mls_key_package_priv *pq = NULL;
                struct mls_bytes c = { 0 };
                struct mls_key_package kc = { 0 };

                assert_int_equal(grp_default_capabilities(&caps), 0);
                caps.extensions.v = malloc(sizeof(uint16_t));
                assert_non_null(caps.extensions.v);
                caps.extensions.v[0] = 0x7a7a;
                caps.extensions.n = 1;
                assert_int_equal(mls_extension_list_add(&ext, 0x7a7a, (const uint8_t *)"?", 1), 0);
                q.leaf = tm_leaf(&m);
                q.leaf.capabilities = &caps;
                q.extensions = &ext;
                assert_int_equal(mls_key_package_create(m.s, &q, &m.env, &c, &pq), 0);
                assert_int_equal(grp_key_package_decode(c.data, c.len, &kc), 0);
                assert_int_equal(grp_key_package_check(m.s, &kc, NULL, true), 0);
                mls_key_package_clear(&kc);
                mls_key_package_priv_free(pq);
                mls_bytes_clear(&c);
                mls_capabilities_clear(&caps);
                mls_extension_list_clear(&ext);
        }
        /* R-10-9: an extension not listed in the capabilities */
        assert_int_equal(mls_extension_list_add(&ka.extensions, 0x7777, NULL, 0), 0);
        assert_int_equal(grp_key_package_check(m.s, &ka, NULL, false),
                         MLS_E_UNSUPPORTED_CAPABILITY);
        /* R-10-8 */
        kb.leaf_node.leaf_node_source = MLS_LEAF_SOURCE_UPDATE;
        assert_int_equal(grp_key_package_check(m.s, &kb, NULL, false), MLS_E_INVALID_LEAF);
        kb.leaf_node.leaf_node_source = MLS_LEAF_SOURCE_KEY_PACKAGE;
        /* R-10.1-6 */
        mls_bytes_clear(&kb.init_key);
        assert_int_equal(mls_bytes_dup(&kb.init_key, &kb.leaf_node.encryption_key), 0);
        assert_int_equal(grp_key_package_check(m.s, &kb, NULL, false), MLS_E_DUPLICATE_KEY);
        /* R-10-2: an init key that is not a P-256 point */
        kb.init_key.data[10] ^= 0x55;
        assert_int_equal(grp_key_package_check(m.s, &kb, NULL, false), MLS_E_BAD_KEY);
        mls_key_package_clear(&ka);
        mls_key_package_clear(&kb);
        mls_bytes_clear(&a);
        mls_bytes_clear(&b);
        mls_key_package_priv_free(pa);
        tm_clear(&m);
}

/* No entry of l is a default type [lo, hi]. */
static bool
u16_none_in(const struct mls_u16_list *l, uint16_t lo, uint16_t hi)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i] >= lo && l->v[i] <= hi)
                        return false;
        return true;
}

/* R-7.2-1: capabilities never list the default proposal types 1-7 or the
 * default extension types 1-5. The default capabilities (KeyPackage and
 * group creation) list none; a caller's list naming one is refused
 * (KeyPackage, group creation, Update); a non-default one is accepted. */
static void
test_capabilities_never_list_default_types(void **state)
{
        static const uint16_t bad_props[] = { MLS_PROPOSAL_ADD, MLS_PROPOSAL_PSK,
                                              MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS };
        static const uint16_t bad_exts[] = { MLS_EXT_APPLICATION_ID, MLS_EXT_RATCHET_TREE,
                                             MLS_EXT_EXTERNAL_SENDERS };
        struct tm_member m;
        struct mls_bytes a = { 0 };
        struct mls_key_package ka = { 0 };
        struct mls_key_package_priv *pa = NULL;
        struct mls_key_package_params p = { 0 };
        struct mls_capabilities caps = { 0 };
        struct mls_group *g = NULL;
        const struct mls_leaf_node *own;
        uint16_t one;

        (void)state;
        tm_init(&m, mls_suite_get(1), "caps");
        /* defaults, KeyPackage (also with last_resort) */
        p.leaf = tm_leaf(&m);
        p.last_resort = true;
        assert_int_equal(mls_key_package_create(m.s, &p, &m.env, &a, &pa), 0);
        assert_int_equal(grp_key_package_decode(a.data, a.len, &ka), 0);
        assert_true(u16_none_in(&ka.leaf_node.capabilities.proposals, 1, 7));
        assert_true(u16_none_in(&ka.leaf_node.capabilities.extensions, 1, 5));
        mls_key_package_clear(&ka);
        mls_key_package_priv_free(pa);
        pa = NULL;
        mls_bytes_clear(&a);
        /* defaults, group creation */
        tm_create(&m, "caps", NULL);
        own = mls_tree_leaf(m.g->tree, mls_group_own_leaf(m.g));
        assert_non_null(own);
        assert_true(u16_none_in(&own->capabilities.proposals, 1, 7));
        assert_true(u16_none_in(&own->capabilities.extensions, 1, 5));
        /* a caller's list with a default proposal type */
        assert_int_equal(grp_default_capabilities(&caps), 0);
        caps.proposals.v = &one;
        caps.proposals.n = 1;
        p.leaf.capabilities = &caps;
        for (size_t i = 0; i < sizeof(bad_props) / sizeof(bad_props[0]); i++) {
                one = bad_props[i];
                assert_int_equal(mls_key_package_create(m.s, &p, &m.env, &a, &pa),
                                 MLS_E_INVALID_ARGUMENT);
                assert_null(pa);
                assert_int_equal(mls_group_create(m.s, (const uint8_t *)"x", 1, &p.leaf, NULL,
                                                  &m.opts, &m.env, &g),
                                 MLS_E_INVALID_ARGUMENT);
                assert_null(g);
                assert_int_equal(mls_group_propose_update(m.g, &m.env, &p.leaf, NULL, &a, NULL),
                                 MLS_E_INVALID_ARGUMENT);
                assert_int_equal(a.len, 0);
        }
        /* a non-default (unknown) proposal type is fine */
        one = 0x0a0a;
        assert_int_equal(mls_key_package_create(m.s, &p, &m.env, &a, &pa), 0);
        mls_key_package_priv_free(pa);
        pa = NULL;
        mls_bytes_clear(&a);
        caps.proposals.v = NULL;
        caps.proposals.n = 0;
        /* a caller's list with a default extension type */
        caps.extensions.v = &one;
        caps.extensions.n = 1;
        for (size_t i = 0; i < sizeof(bad_exts) / sizeof(bad_exts[0]); i++) {
                one = bad_exts[i];
                assert_int_equal(mls_key_package_create(m.s, &p, &m.env, &a, &pa),
                                 MLS_E_INVALID_ARGUMENT);
                assert_null(pa);
        }
        one = 0x0a0a;
        assert_int_equal(mls_key_package_create(m.s, &p, &m.env, &a, &pa), 0);
        mls_key_package_priv_free(pa);
        mls_bytes_clear(&a);
        caps.extensions.v = NULL;
        caps.extensions.n = 0;
        mls_capabilities_clear(&caps);
        tm_clear(&m);
}

static void
test_key_package_priv_save_load(void **state)
{
        struct tm_member m;
        struct mls_bytes kp = { 0 };
        struct mls_secret *s1 = NULL, *s2 = NULL;
        struct mls_key_package_priv *l = NULL;
        size_t rl, rl2;

        (void)state;
        tm_init(&m, mls_suite_get(1), "kp");
        tm_key_package(&m, &kp);
        assert_int_equal(mls_key_package_priv_save(m.kpp, &s1), 0);
        corpus_write("kp-priv-1", s1->data, s1->len);
        assert_int_equal(mls_key_package_priv_load(s1->data, s1->len, &l), 0);
        assert_int_equal(mls_key_package_priv_save(l, &s2), 0);
        assert_true(mls_secret_eq(s1, s2));
        assert_memory_equal(mls_key_package_priv_ref(l, &rl), mls_key_package_priv_ref(m.kpp, &rl2),
                            m.s->hash_len);
        mls_key_package_priv_free(l);
        l = NULL;
        /* every truncation, a trailing byte, another version */
        for (size_t cut = 0; cut < s1->len; cut++)
                assert_int_equal(mls_key_package_priv_load(s1->data, cut, &l), MLS_E_BAD_STATE);
        {
                uint8_t *x = malloc(s1->len + 1);

                assert_non_null(x);
                memcpy(x, s1->data, s1->len);
                x[s1->len] = 0;
                assert_int_equal(mls_key_package_priv_load(x, s1->len + 1, &l), MLS_E_BAD_STATE);
                x[0] = 2;
                assert_int_equal(mls_key_package_priv_load(x, s1->len, &l), MLS_E_BAD_STATE);
                x[0] = 1;
                /* a private key that does not match the KeyPackage */
                x[s1->len - 1] ^= 0x01;
                assert_int_equal(mls_key_package_priv_load(x, s1->len, &l), MLS_E_BAD_STATE);
                free(x);
        }
        assert_null(l);
        /* from raw keys: they must match */
        assert_int_equal(mls_key_package_priv_from_keys(kp.data, kp.len, m.kpp->enc_priv,
                                                        m.kpp->enc_priv, &l),
                         MLS_E_BAD_KEY);
        assert_int_equal(mls_key_package_priv_from_keys(kp.data, kp.len, m.kpp->init_priv,
                                                        m.kpp->enc_priv, &l),
                         0);
        mls_key_package_priv_free(l);
        mls_secret_free(s1);
        mls_secret_free(s2);
        mls_bytes_clear(&kp);
        tm_clear(&m);
}

/* ---- group creation (section 11) ---- */

/* R-11-4, R-11-5, R-11-7 */
static void
test_group_create_initial_state(void **state)
{
        struct tm_member a, b;
        struct mls_bytes gcb = { 0 }, kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_group_context gc = { 0 };
        uint8_t th[MLS_MAX_HASH_LEN], tag[MLS_MAX_HASH_LEN];
        struct tm_member *v[2] = { &a, &b };

        (void)state;
        tm_init(&a, mls_suite_get(1), "alice");
        tm_init(&b, mls_suite_get(1), "bob");
        tm_create(&a, "created", NULL);
        assert_int_equal(mls_group_context_bytes(a.g, &gcb), 0);
        assert_int_equal(mls_group_context_from_bytes(gcb.data, gcb.len, &gc), 0);
        assert_int_equal(gc.epoch, 0);
        assert_int_equal(gc.confirmed_transcript_hash.len, 0);
        assert_int_equal(mls_tree_hash(a.g->tree, th), 0);
        assert_memory_equal(gc.tree_hash.data, th, a.s->hash_len);
        assert_int_equal(mls_group_member_count(a.g), 1);
        assert_int_equal(mls_group_own_leaf(a.g), 0);
        /* R-11-7: the tag over the empty confirmed hash, and the interim
         * hash from it */
        assert_int_equal(mls_transcript_confirmation_tag(a.s, mls_ks_get(a.g->ks,
                                                                         MLS_KS_CONFIRMATION_KEY),
                                                         a.s->hash_len, NULL, 0, tag),
                         0);
        assert_memory_equal(a.g->conf_tag.data, tag, a.s->hash_len);
        /* the first joiner verifies it all (R-12.4.3.1-22, R-12.4.3.1-23) */
        tm_key_package(&b, &kp);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .inline_tree = true }, &commit,
                                       &welcome),
                         0);
        assert_int_equal(mls_group_merge_pending(a.g, NULL), 0);
        tm_join(&b, &welcome, NULL);
        tm_check_same(v, 2);
        /* R-12.4.3-5, R-12.4.3.1-9: not twice into the same group */
        b.others[b.n_others++] = b.g;
        b.g = NULL;
        {
                struct mls_key_package_priv *kps[1] = { b.kpp };
                struct mls_group *g2 = NULL;

                assert_int_equal(mls_group_join(welcome.data, welcome.len, NULL, 0, kps, 1, NULL,
                                                &b.env, &g2, NULL),
                                 MLS_E_GROUP_EXISTS);
        }
        /* R-13.4-10: GroupContext extensions the creator supports */
        {
                struct mls_extension_list ext = { 0 };
                struct mls_group *g3 = NULL;
                struct mls_leaf_params lp = tm_leaf(&a);

                assert_int_equal(mls_extension_list_add(&ext, 0x8888, NULL, 0), 0);
                assert_int_equal(mls_group_create(a.s, (const uint8_t *)"x", 1, &lp, &ext, NULL,
                                                  &a.env, &g3),
                                 MLS_E_UNSUPPORTED_CAPABILITY);
                mls_extension_list_clear(&ext);
        }
        mls_group_context_clear(&gc);
        mls_bytes_clear(&gcb);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        tm_clear(&a);
        tm_clear(&b);
}

/* ---- saved state ---- */

/* The group's state in several shapes: round trips, the loaded group goes
 * on working, and every state joins the fuzz corpus. */
static void
test_group_save_load_round_trip(void **state)
{
        struct tm_member a, b, c;
        struct tm_member *v[3] = { &a, &b, &c };
        struct mls_bytes kps[2] = { { 0 } }, commit = { 0 }, welcome = { 0 }, msg = { 0 };
        int k = 0;
        char name[32];

        (void)state;
        tm_init(&a, mls_suite_get(1), "alice");
        tm_init(&b, mls_suite_get(1), "bob");
        tm_init(&c, mls_suite_get(1), "carol");
        tm_create(&a, "saved", NULL);
#define SNAP(g)                                                                          \
        do {                                                                             \
                struct mls_group *l_ = tm_round_trip(g);                                 \
                struct mls_secret *s_ = tm_save(l_);                                     \
                snprintf(name, sizeof(name), "group-%d", k++);                           \
                corpus_write(name, s_->data, s_->len);                                   \
                mls_secret_free(s_);                                                     \
                mls_group_free(g);                                                       \
                (g) = l_;                                                                \
        } while (0)
        SNAP(a.g);
        tm_key_package(&b, &kps[0]);
        tm_key_package(&c, &kps[1]);
        assert_int_equal(mls_group_add(a.g, &a.env, kps, 2,
                                       &(struct mls_commit_params){ .inline_tree = true },
                                       &commit, &welcome),
                         0);
        /* with a pending commit */
        SNAP(a.g);
        assert_int_equal(mls_group_merge_pending(a.g, NULL), 0);
        tm_join(&b, &welcome, NULL);
        tm_join(&c, &welcome, NULL);
        SNAP(b.g);
        /* with cached proposals, one of them our own Update (its key) */
        assert_int_equal(mls_group_propose_update(b.g, &b.env, NULL, NULL, &msg, NULL), 0);
        tm_process_ok(&a, &msg);
        tm_process_ok(&c, &msg);
        mls_bytes_clear(&msg);
        SNAP(b.g);
        SNAP(a.g);
        mls_bytes_clear(&commit);
        assert_int_equal(mls_group_commit(a.g, &a.env, NULL, &commit, NULL), 0);
        SNAP(a.g);
        tm_process_ok(&b, &commit);
        tm_process_ok(&c, &commit);
        assert_int_equal(mls_group_merge_pending(a.g, NULL), 0);
        tm_check_same(v, 3);
        /* with past epochs */
        SNAP(c.g);
        tm_app(&b, v, 3, "after reload");
        /* private handshake, padding */
        {
                struct mls_group_options o;

                for (size_t i = 0; i < 3; i++) {
                        mls_group_get_options(v[i]->g, &o);
                        o.handshake_private = true;
                        o.padding_block = 32;
                        assert_int_equal(mls_group_set_options(v[i]->g, &o), 0);
                }
        }
        mls_bytes_clear(&commit);
        assert_int_equal(mls_group_update(c.g, &c.env, NULL, &commit), 0);
        tm_deliver(&c, &commit, v, 3);
        tm_check_same(v, 3);
        SNAP(b.g);
        /* removed */
        {
                uint32_t leaf = mls_group_own_leaf(c.g);

                mls_bytes_clear(&commit);
                assert_int_equal(mls_group_remove(a.g, &a.env, &leaf, 1, NULL, &commit), 0);
                tm_deliver(&a, &commit, v, 3);
                assert_true(mls_group_is_removed(c.g));
                SNAP(c.g);
                assert_true(mls_group_is_removed(c.g));
        }
#undef SNAP
        mls_bytes_clear(&kps[0]);
        mls_bytes_clear(&kps[1]);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        tm_clear(&a);
        tm_clear(&b);
        tm_clear(&c);
}

/* Strict decoding: every truncation, trailing bytes, an unknown version,
 * bad option values and flags are MLS_E_BAD_STATE; a flipped byte either
 * fails with MLS_E_BAD_STATE or gives a state that saves to the same
 * bytes. */
static void
test_group_load_rejects_corruption(void **state)
{
        struct tm_member a, b;
        struct tm_member *v[2] = { &a, &b };
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_secret *s;
        struct mls_group *l = NULL;
        uint8_t *x;

        (void)state;
        tm_init(&a, mls_suite_get(3), "alice");
        tm_init(&b, mls_suite_get(3), "bob");
        tm_create(&a, "strict", NULL);
        tm_key_package(&b, &kp);
        /* suite 3 is not the default preference's best: the downgrade
         * guard (R-11-2) is switched off for this state test */
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .inline_tree = true,
                                                                    .no_suite_check = true },
                                       &commit, &welcome),
                         0);
        tm_deliver(&a, &commit, v, 2);
        tm_join(&b, &welcome, NULL);
        s = tm_save(a.g);
        for (size_t cut = 0; cut < s->len; cut++)
                assert_int_equal(mls_group_load(s->data, cut, &l), MLS_E_BAD_STATE);
        x = malloc(s->len + 1);
        assert_non_null(x);
        memcpy(x, s->data, s->len);
        x[s->len] = 0;
        assert_int_equal(mls_group_load(x, s->len + 1, &l), MLS_E_BAD_STATE);
        /* version */
        x[0] = 9;
        assert_int_equal(mls_group_load(x, s->len, &l), MLS_E_BAD_STATE);
        x[0] = s->data[0];
        /* max_past_epochs above the limit (bytes 3..6) */
        x[3] = 0xff;
        assert_int_equal(mls_group_load(x, s->len, &l), MLS_E_BAD_STATE);
        x[3] = s->data[3];
        /* handshake_private is a boolean (byte 19) */
        x[19] = 2;
        assert_int_equal(mls_group_load(x, s->len, &l), MLS_E_BAD_STATE);
        x[19] = s->data[19];
        /* unknown flag bits (byte 36) */
        x[37] |= 0x80;
        assert_int_equal(mls_group_load(x, s->len, &l), MLS_E_BAD_STATE);
        x[37] = s->data[37];
        for (size_t i = 0; i < s->len; i += 7) {
                struct mls_secret *again = NULL;
                int e;

                x[i] ^= 0x40;
                e = mls_group_load(x, s->len, &l);
                if (e == 0) {
                        again = tm_save(l);
                        assert_int_equal(again->len, s->len);
                        assert_memory_equal(again->data, x, s->len);
                        mls_secret_free(again);
                        mls_group_free(l);
                        l = NULL;
                } else {
                        assert_int_equal(e, MLS_E_BAD_STATE);
                }
                x[i] ^= 0x40;
        }
        assert_int_equal(mls_group_load(x, s->len, &l), 0);
        mls_group_free(l);
        free(x);
        mls_secret_free(s);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        tm_clear(&a);
        tm_clear(&b);
}

/* ---- options, exporter, members, GroupInfo ---- */

static void
test_group_options_exporter_members(void **state)
{
        struct tm_member a, b;
        struct tm_member *v[2] = { &a, &b };
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_group_options o;
        struct mls_secret *ea = NULL, *eb = NULL, *ec = NULL;
        struct mls_group_member *m = NULL;
        size_t n = 0;

        (void)state;
        tm_init(&a, mls_suite_get(1), "alice");
        tm_init(&b, mls_suite_get(1), "bob");
        tm_create(&a, "misc", NULL);
        mls_group_get_options(a.g, &o);
        assert_int_equal(o.max_past_epochs, MLS_GROUP_DEFAULT_MAX_PAST_EPOCHS);
        o.max_past_epochs = MLS_GROUP_MAX_PAST_EPOCHS_LIMIT + 1;
        assert_int_equal(mls_group_set_options(a.g, &o), MLS_E_INVALID_ARGUMENT);
        o.max_past_epochs = 0;
        o.padding_block = MLS_FRAME_PAD_MAX_BLOCK + 1;
        assert_int_equal(mls_group_set_options(a.g, &o), MLS_E_INVALID_ARGUMENT);
        tm_key_package(&b, &kp);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .inline_tree = true }, &commit,
                                       &welcome),
                         0);
        tm_deliver(&a, &commit, v, 2);
        tm_join(&b, &welcome, NULL);
        /* R-8.5-3: the same exporter value for both, another per label */
        assert_int_equal(mls_group_export(a.g, (const uint8_t *)"label", 5,
                                          (const uint8_t *)"ctx", 3, 42, &ea),
                         0);
        assert_int_equal(mls_group_export(b.g, (const uint8_t *)"label", 5,
                                          (const uint8_t *)"ctx", 3, 42, &eb),
                         0);
        assert_int_equal(mls_group_export(b.g, (const uint8_t *)"other", 5,
                                          (const uint8_t *)"ctx", 3, 42, &ec),
                         0);
        assert_true(mls_secret_eq(ea, eb));
        assert_false(mls_secret_eq(ea, ec));
        assert_int_equal(ea->len, 42);
        assert_int_equal(mls_group_members(b.g, &m, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(m[0].leaf, 0);
        assert_int_equal(m[0].identity.len, 5);
        assert_memory_equal(m[0].identity.data, "alice", 5);
        assert_true(mls_bytes_eq(&m[1].signature_key, &b.sk->pub));
        mls_group_members_free(m, n);
        /* R-12.4.1-9, R-12.4.3-6: a GroupInfo with external_pub verifies
         * with the signer's key; R-12.4.3.3-5: the ratchet_tree extension
         * sits in GroupInfo.extensions, not in the GroupContext */
        {
                struct mls_bytes gi = { 0 }, gcb = { 0 };
                struct mls_message msg = { 0 };

                assert_int_equal(mls_group_group_info(b.g, &b.env, true, true, &gi), 0);
                assert_int_equal(mls_message_from_bytes(gi.data, gi.len, &msg), 0);
                assert_int_equal(msg.wire_format, MLS_WIRE_GROUP_INFO);
                assert_non_null(mls_extension_list_find(&msg.group_info.extensions,
                                                        MLS_EXT_EXTERNAL_PUB));
                assert_non_null(mls_extension_list_find(&msg.group_info.extensions,
                                                        MLS_EXT_RATCHET_TREE));
                assert_null(mls_extension_list_find(&msg.group_info.group_context.extensions,
                                                    MLS_EXT_RATCHET_TREE));
                assert_int_equal(msg.group_info.signer, 1);
                assert_int_equal(mls_welcome_verify_group_info(b.s, &msg.group_info, b.sk->pub.data,
                                                               b.sk->pub.len),
                                 0);
                assert_int_equal(mls_group_context_to_bytes(&msg.group_info.group_context, &gcb),
                                 0);
                {
                        struct mls_bytes mine = { 0 };

                        assert_int_equal(mls_group_context_bytes(b.g, &mine), 0);
                        assert_true(mls_bytes_eq(&mine, &gcb));
                        mls_bytes_clear(&mine);
                }
                mls_message_clear(&msg);
                mls_bytes_clear(&gcb);
                mls_bytes_clear(&gi);
                /* R-12.4.3.2-1: no external join without external_pub */
                assert_int_equal(mls_group_group_info(b.g, &b.env, false, true, &gi), 0);
                {
                        struct tm_member x;
                        struct mls_external_join_params p = { 0 };
                        struct mls_group *xg = NULL;
                        struct mls_bytes xc = { 0 };

                        tm_init(&x, b.s, "xavier");
                        p.leaf = tm_leaf(&x);
                        assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &p, NULL,
                                                                 &x.env, &xg, &xc),
                                         MLS_E_INVALID_MESSAGE);
                        tm_clear(&x);
                }
                mls_bytes_clear(&gi);
        }
        mls_secret_free(ea);
        mls_secret_free(eb);
        mls_secret_free(ec);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        tm_clear(&a);
        tm_clear(&b);
}

/* The group's pool of guarded blocks (perf, STYLE "pool per group"):
 * epoch secrets come from it (it grows while the past epochs fill up) and
 * go back to it (constant once they are dropped); application messages
 * reuse its blocks once warm; the pool is not part of the saved state. */
static void
test_group_pool_reuse(void **state)
{
        struct tm_member a, b;
        struct tm_member *v[2] = { &a, &b };
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_secret *before;
        uint64_t a0, b0, a1, b1, a2, b2;
        size_t cached;

        (void)state;
        tm_init(&a, mls_suite_get(1), "alice");
        tm_init(&b, mls_suite_get(1), "bob");
        tm_create(&a, "pool", NULL);
        tm_key_package(&b, &kp);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .inline_tree = true },
                                       &commit, &welcome),
                         0);
        tm_deliver(&a, &commit, v, 2);
        tm_join(&b, &welcome, NULL);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        assert_non_null(b.g->pool);
        mls_gpool_stats(a.g->pool, &cached, &a0);
        mls_gpool_stats(b.g->pool, &cached, &b0);
        /* commits only (PublicMessage): the past epochs fill up
         * (max_past_epochs 3), each new epoch's secrets from the pool */
        for (int i = 0; i < 4; i++) {
                assert_int_equal(mls_group_update(a.g, &a.env, NULL, &commit), 0);
                tm_deliver(&a, &commit, v, 2);
                mls_bytes_clear(&commit);
        }
        mls_gpool_stats(a.g->pool, &cached, &a1);
        mls_gpool_stats(b.g->pool, &cached, &b1);
        assert_true(a1 > a0);
        assert_true(b1 > b0);
        assert_true(cached > 0);
        /* steady state: the dropped epoch's block serves the next one;
         * messages both ways warm the plaintext blocks, then reuse them */
        tm_app(&a, v, 2, "warm a");
        tm_app(&b, v, 2, "warm b");
        mls_gpool_stats(a.g->pool, &cached, &a1);
        mls_gpool_stats(b.g->pool, &cached, &b1);
        for (int i = 0; i < 10; i++) {
                tm_app(&a, v, 2, "steady a");
                tm_app(&b, v, 2, "steady b");
                assert_int_equal(mls_group_update(i % 2 ? b.g : a.g, i % 2 ? &b.env : &a.env,
                                                  NULL, &commit),
                                 0);
                tm_deliver(i % 2 ? &b : &a, &commit, v, 2);
                mls_bytes_clear(&commit);
        }
        tm_check_same(v, 2);
        mls_gpool_stats(a.g->pool, &cached, &a2);
        mls_gpool_stats(b.g->pool, &cached, &b2);
        assert_int_equal(a2, a1);
        assert_int_equal(b2, b1);
        /* the pool is not state: a loaded group (which prepares its own
         * pool at once) saves the same bytes */
        before = tm_save(a.g);
        {
                struct mls_group *l = tm_round_trip(a.g);

                assert_non_null(l->pool);
                tm_assert_state(l, before);
                mls_group_free(l);
        }
        mls_secret_free(before);
        tm_clear(&a);
        tm_clear(&b);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_signer_label_allowlist),
                cmocka_unit_test(test_key_package_create_valid),
                cmocka_unit_test(test_capabilities_never_list_default_types),
                cmocka_unit_test(test_key_package_priv_save_load),
                cmocka_unit_test(test_group_create_initial_state),
                cmocka_unit_test(test_group_save_load_round_trip),
                cmocka_unit_test(test_group_load_rejects_corruption),
                cmocka_unit_test(test_group_options_exporter_members),
                cmocka_unit_test(test_group_pool_reuse),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
