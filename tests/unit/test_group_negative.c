/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Negative tests of the group state machine: every invalid input is
 * rejected with its own error name, and the receiver's saved state is byte
 * for byte what it was before (R-12.4.2-18).
 *
 * Invalid commits are forged with the engine's internals
 * (mls/group-internal.h): a member signs a FramedContent of its choice and
 * the membership tag is computed with the epoch's membership key, so the
 * receiver's later checks are reached.
 */
#include "tests/unit/group_test_util.h"
#include "mls/group-internal.h"

struct trio {
        struct tm_member a, b, c;
        struct tm_member *all[3];
};

static void
trio_init(struct trio *t, uint16_t suite, const struct mls_extension_list *ext)
{
        struct mls_bytes kb = { 0 }, kc = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_bytes kps[2];
        const struct mls_suite *s = mls_suite_get(suite);

        tm_init(&t->a, s, "alice");
        tm_init(&t->b, s, "bob");
        tm_init(&t->c, s, "carol");
        t->all[0] = &t->a;
        t->all[1] = &t->b;
        t->all[2] = &t->c;
        tm_create(&t->a, "negative", ext);
        tm_key_package(&t->b, &kb);
        tm_key_package(&t->c, &kc);
        kps[0] = kb;
        kps[1] = kc;
        assert_int_equal(mls_group_add(t->a.g, &t->a.env, kps, 2,
                                       &(struct mls_commit_params){ .inline_tree = true,
                                                                    .force_path = true },
                                       &commit, &welcome),
                         0);
        tm_deliver(&t->a, &commit, t->all, 3);
        tm_join(&t->b, &welcome, NULL);
        tm_join(&t->c, &welcome, NULL);
        tm_check_same(t->all, 3);
        mls_bytes_clear(&kb);
        mls_bytes_clear(&kc);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
}

static void
trio_clear(struct trio *t)
{
        tm_clear(&t->a);
        tm_clear(&t->b);
        tm_clear(&t->c);
}

/* Processing msg at m fails with `want` and changes nothing. */
static void
expect_reject(struct tm_member *m, const struct mls_bytes *msg, int want)
{
        struct mls_secret *before = tm_save(m->g);
        int e = tm_process(m, msg);

        if (e != want)
                fail_msg("%s: got %s, want %s", m->name, mls_err_name(e), mls_err_name(want));
        tm_assert_state(m->g, before);
        mls_secret_free(before);
}

/* Protects ac (public) for the receiver's epoch: signs with `signer` unless
 * NULL, then the membership tag with the receiver's membership key. */
static void
reprotect(const struct mls_group *to, struct mls_authenticated_content *ac,
          const struct mls_signer *signer, struct mls_bytes *ret)
{
        struct mls_frame_group fg = { 0 };

        assert_int_equal(grp_frame_group(to, &fg), 0);
        if (signer)
                assert_int_equal(mls_frame_sign(&fg, ac, signer), 0);
        assert_int_equal(mls_frame_public_protect(&fg, ac,
                                                  mls_ks_get(to->ks, MLS_KS_MEMBERSHIP_KEY),
                                                  to->suite->hash_len, ret),
                         0);
        mls_frame_group_clear(&fg);
}

/* A commit from member `from` holding proposals by value (and refs),
 * with an optional path taken from a real commit. */
static void
forge_commit(struct tm_member *from, const struct mls_group *to, struct mls_proposal *props,
             size_t n, const struct mls_bytes *ref, bool with_path, struct mls_bytes *ret)
{
        struct mls_authenticated_content ac = { 0 };
        size_t total = n + (ref ? 1 : 0), nh = to->suite->hash_len;

        ac.wire_format = MLS_WIRE_PUBLIC_MESSAGE;
        assert_int_equal(mls_bytes_dup(&ac.content.group_id, &to->gc.group_id), 0);
        ac.content.epoch = to->gc.epoch;
        ac.content.sender.sender_type = MLS_SENDER_MEMBER;
        ac.content.sender.leaf_index = mls_group_own_leaf(from->g);
        ac.content.content_type = MLS_CONTENT_COMMIT;
        ac.content.commit.proposals = calloc(total ? total : 1, sizeof(struct mls_proposal_or_ref));
        assert_non_null(ac.content.commit.proposals);
        for (size_t i = 0; i < n; i++) {
                struct mls_proposal_or_ref *por = &ac.content.commit.proposals[i];

                por->type = MLS_POR_PROPOSAL;
                por->proposal = calloc(1, sizeof(*por->proposal));
                assert_non_null(por->proposal);
                assert_int_equal(grp_proposal_dup(&props[i], por->proposal), 0);
                ac.content.commit.n_proposals++;
        }
        if (ref) {
                struct mls_proposal_or_ref *por = &ac.content.commit.proposals[n];

                por->type = MLS_POR_REFERENCE;
                assert_int_equal(mls_bytes_dup(&por->reference, ref), 0);
                ac.content.commit.n_proposals++;
        }
        if (with_path) {
                /* a real path of `from` (its validity does not matter: the
                 * list is judged first) */
                struct mls_bytes c = { 0 };
                struct mls_message m = { 0 };

                assert_int_equal(mls_group_update(from->g, &from->env, NULL, &c), 0);
                assert_int_equal(mls_message_from_bytes(c.data, c.len, &m), 0);
                ac.content.commit.has_path = true;
                ac.content.commit.path = m.public_message.content.commit.path;
                memset(&m.public_message.content.commit.path, 0,
                       sizeof(m.public_message.content.commit.path));
                m.public_message.content.commit.has_path = false;
                mls_message_clear(&m);
                mls_bytes_clear(&c);
                assert_int_equal(mls_group_clear_pending(from->g), 0);
        }
        ac.auth.confirmation_tag.data = calloc(1, nh);
        assert_non_null(ac.auth.confirmation_tag.data);
        ac.auth.confirmation_tag.len = nh;
        reprotect(to, &ac, &from->sk->signer, ret);
        mls_authenticated_content_clear(&ac);
}

/* Decodes a PublicMessage into an AuthenticatedContent. */
static void
open_public(const struct mls_bytes *msg, struct mls_authenticated_content *ret)
{
        struct mls_message m = { 0 };

        assert_int_equal(mls_message_from_bytes(msg->data, msg->len, &m), 0);
        assert_int_equal(m.wire_format, MLS_WIRE_PUBLIC_MESSAGE);
        *ret = (struct mls_authenticated_content){ .wire_format = MLS_WIRE_PUBLIC_MESSAGE,
                                                   .content = m.public_message.content,
                                                   .auth = m.public_message.auth };
        mls_bytes_clear(&m.public_message.membership_tag);
}

/* ---- framing-level failures ---- */

/* A signer that signs, then flips a bit of the signature. */
static int
bad_sign(void *ctx, const char *label, const uint8_t *content, size_t len, struct mls_bytes *ret)
{
        const struct mls_signer *real = ctx;

        MLS_TRY(real->sign(real->ctx, label, content, len, ret));
        ret->data[ret->len / 2] ^= 0x01;
        return 0;
}

/* R-12.4.2-3, R-6.1-9, R-12.1-1: bad FramedContent signature. */
static void
test_group_rejects_bad_signature(void **state)
{
        struct trio t;
        struct mls_signer bad;
        struct mls_bytes msg = { 0 };
        struct mls_proposal p = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        bad = (struct mls_signer){ .sign = bad_sign, .ctx = &t.b.sk->signer };
        /* a commit */
        forge_commit(&t.b, t.a.g, NULL, 0, NULL, true, &msg);
        {
                struct mls_authenticated_content ac;
                struct mls_bytes m2 = { 0 };

                open_public(&msg, &ac);
                reprotect(t.a.g, &ac, &bad, &m2);
                expect_reject(&t.a, &m2, MLS_E_BAD_SIGNATURE);
                mls_authenticated_content_clear(&ac);
                mls_bytes_clear(&m2);
        }
        mls_bytes_clear(&msg);
        /* a proposal */
        t.b.env.signer = &bad;
        assert_int_equal(mls_group_make_remove(t.b.g, 2, &p), 0);
        assert_int_equal(mls_group_propose(t.b.g, &t.b.env, &p, NULL, &msg, NULL), 0);
        expect_reject(&t.a, &msg, MLS_E_BAD_SIGNATURE);
        mls_proposal_clear(&p);
        mls_bytes_clear(&msg);
        trio_clear(&t);
}

/* R-12.4.2-2, R-6.2-3: bad membership tag. */
static void
test_group_rejects_bad_membership_tag(void **state)
{
        struct trio t;
        struct mls_bytes msg = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &msg), 0);
        msg.data[msg.len - 1] ^= 0x80; /* the tag is last */
        expect_reject(&t.a, &msg, MLS_E_BAD_MEMBERSHIP_TAG);
        mls_bytes_clear(&msg);
        trio_clear(&t);
}

/* R-12.4.2-1, R-12.1-2: wrong epoch; R-15-1: wrong group. */
static void
test_group_rejects_wrong_epoch_and_group(void **state)
{
        struct trio t, u;
        struct mls_bytes old = { 0 }, c = { 0 }, app = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &old), 0);
        assert_int_equal(mls_group_clear_pending(t.b.g), 0);
        assert_int_equal(mls_group_update(t.c.g, &t.c.env, NULL, &c), 0);
        tm_deliver(&t.c, &c, t.all, 3);
        expect_reject(&t.a, &old, MLS_E_WRONG_EPOCH);
        /* another group with another id */
        trio_init(&u, 1, NULL);
        mls_bytes_clear(&c);
        assert_int_equal(mls_group_update(u.c.g, &u.c.env, NULL, &c), 0);
        tm_deliver(&u.c, &c, u.all, 3);
        mls_bytes_clear(&c);
        assert_int_equal(mls_group_update(u.b.g, &u.b.env, NULL, &c), 0);
        /* same group_id "negative" but another group: membership tag */
        expect_reject(&t.a, &c, MLS_E_BAD_MEMBERSHIP_TAG);
        mls_bytes_clear(&c);
        trio_clear(&u);
        {
                struct tm_member x, y;
                struct mls_bytes kp = { 0 }, w = { 0 };
                struct tm_member *v[2] = { &x, &y };

                tm_init(&x, t.a.s, "xavier");
                tm_init(&y, t.a.s, "yann");
                tm_create(&x, "other-group", NULL);
                tm_key_package(&y, &kp);
                assert_int_equal(mls_group_add(x.g, &x.env, &kp, 1,
                                               &(struct mls_commit_params){ .inline_tree = true },
                                               &c, &w),
                                 0);
                tm_deliver(&x, &c, v, 2);
                tm_join(&y, &w, NULL);
                assert_int_equal(mls_group_encrypt(x.g, &x.env, (const uint8_t *)"hi", 2, NULL,
                                                   &app),
                                 0);
                mls_bytes_clear(&c);
                assert_int_equal(mls_group_update(x.g, &x.env, NULL, &c), 0);
                expect_reject(&t.a, &c, MLS_E_WRONG_GROUP);
                expect_reject(&t.a, &app, MLS_E_WRONG_GROUP);
                mls_bytes_clear(&kp);
                mls_bytes_clear(&w);
                tm_clear(&x);
                tm_clear(&y);
        }
        mls_bytes_clear(&c);
        mls_bytes_clear(&app);
        mls_bytes_clear(&old);
        trio_clear(&t);
}

/* R-12.4.2-17, R-6.1-12: bad confirmation tag. */
static void
test_group_rejects_bad_confirmation_tag(void **state)
{
        struct trio t;
        struct mls_bytes msg = { 0 }, m2 = { 0 };
        struct mls_authenticated_content ac;

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &msg), 0);
        open_public(&msg, &ac);
        ac.auth.confirmation_tag.data[0] ^= 0x01;
        reprotect(t.a.g, &ac, NULL, &m2);
        expect_reject(&t.a, &m2, MLS_E_BAD_CONFIRMATION_TAG);
        /* the genuine commit still works afterwards */
        tm_deliver(&t.b, &msg, t.all, 3);
        tm_check_same(t.all, 3);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&msg);
        mls_bytes_clear(&m2);
        trio_clear(&t);
}

/* R-7.9.2-5, R-7.5-6, R-12.4.2-9: a path whose parent hashes do not
 * chain (a node key replaced; the commit re-signed). */
static void
test_group_rejects_bad_parent_hash(void **state)
{
        struct trio t;
        struct mls_bytes msg = { 0 }, m2 = { 0 };
        struct mls_authenticated_content ac;
        struct mls_update_path *up;
        struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &msg), 0);
        open_public(&msg, &ac);
        up = &ac.content.commit.path;
        assert_true(up->n_nodes > 0);
        assert_int_equal(mls_crypto_kem_generate(t.a.s, mls_rng_system(), &priv, &pub), 0);
        mls_bytes_clear(&up->nodes[up->n_nodes - 1].encryption_key);
        up->nodes[up->n_nodes - 1].encryption_key = pub;
        reprotect(t.a.g, &ac, &t.b.sk->signer, &m2);
        expect_reject(&t.a, &m2, MLS_E_BAD_PARENT_HASH);
        mls_secret_free(priv);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&msg);
        mls_bytes_clear(&m2);
        trio_clear(&t);
}

/* Truncated and over-long input (R-2.1.2, codec): every prefix of a
 * commit and an application message, and one extra byte. */
static void
test_group_rejects_truncated_and_trailing(void **state)
{
        struct trio t;
        struct mls_bytes msg = { 0 }, app = { 0 }, x = { 0 };
        struct mls_secret *before;

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &msg), 0);
        assert_int_equal(mls_group_clear_pending(t.b.g), 0);
        assert_int_equal(mls_group_encrypt(t.c.g, &t.c.env, (const uint8_t *)"hello", 5, NULL,
                                           &app),
                         0);
        before = tm_save(t.a.g);
        for (size_t cut = 0; cut < msg.len; cut += (cut < 64 ? 1 : 37)) {
                x = (struct mls_bytes){ .data = msg.data, .len = cut };
                assert_true(tm_process(&t.a, &x) < 0);
        }
        for (size_t cut = 0; cut < app.len; cut++) {
                x = (struct mls_bytes){ .data = app.data, .len = cut };
                assert_true(tm_process(&t.a, &x) < 0);
        }
        tm_assert_state(t.a.g, before);
        mls_secret_free(before);
        assert_int_equal(mls_bytes_copy(&x, msg.data, msg.len + 1 > msg.len ? msg.len : 0), 0);
        {
                uint8_t *p = realloc(x.data, msg.len + 1);

                assert_non_null(p);
                p[msg.len] = 0;
                x.data = p;
                x.len = msg.len + 1;
        }
        expect_reject(&t.a, &x, MLS_E_TRAILING);
        mls_bytes_clear(&x);
        /* the untouched messages still process */
        tm_process_ok(&t.a, &app);
        mls_bytes_clear(&msg);
        mls_bytes_clear(&app);
        trio_clear(&t);
}

/* ---- proposal-list failures (section 12.2) ---- */

static void
expect_forged(struct trio *t, struct mls_proposal *p, size_t n, const struct mls_bytes *ref,
              bool with_path, int want)
{
        struct mls_bytes msg = { 0 };

        forge_commit(&t->b, t->a.g, p, n, ref, with_path, &msg);
        expect_reject(&t->a, &msg, want);
        mls_bytes_clear(&msg);
}

/* R-12.1.3-1, R-12.2-3: Remove of a blank leaf. */
static void
test_group_rejects_remove_of_blank_leaf(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_REMOVE };

        (void)state;
        trio_init(&t, 1, NULL);
        p.remove.removed = 3; /* leaf 3 of a 4-leaf tree is blank */
        expect_forged(&t, &p, 1, NULL, true, MLS_E_BLANK_LEAF);
        p.remove.removed = 1000;
        expect_forged(&t, &p, 1, NULL, true, MLS_E_BLANK_LEAF);
        assert_int_equal(mls_group_make_remove(t.a.g, 3, &p), MLS_E_BLANK_LEAF);
        trio_clear(&t);
}

/* R-12.2-5: the committer removes itself. */
static void
test_group_rejects_committer_removing_itself(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_REMOVE };

        (void)state;
        trio_init(&t, 1, NULL);
        p.remove.removed = mls_group_own_leaf(t.b.g);
        expect_forged(&t, &p, 1, NULL, true, MLS_E_REMOVE_SELF);
        trio_clear(&t);
}

/* R-12.2-4: an Update from the committer itself. */
static void
test_group_rejects_update_by_committer(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_UPDATE };
        const struct mls_leaf_node *ln;

        (void)state;
        trio_init(&t, 1, NULL);
        ln = mls_tree_leaf(t.b.g->tree, mls_group_own_leaf(t.b.g));
        assert_int_equal(grp_leaf_node_dup(ln, &p.update.leaf_node), 0);
        expect_forged(&t, &p, 1, NULL, true, MLS_E_UPDATE_BY_COMMITTER);
        mls_proposal_clear(&p);
        trio_clear(&t);
}

/* R-12.4-1: a reference to no cached proposal. */
static void
test_group_rejects_unknown_proposal_ref(void **state)
{
        struct trio t;
        struct mls_bytes ref = { 0 };
        uint8_t r[32] = { 0xab };

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_bytes_copy(&ref, r, sizeof(r)), 0);
        expect_forged(&t, NULL, 0, &ref, true, MLS_E_UNKNOWN_PROPOSAL);
        mls_bytes_clear(&ref);
        trio_clear(&t);
}

/* R-12.4.2-5, R-12.4.3.1-5: a PSK nobody has. */
static void
test_group_rejects_unknown_psk(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_PSK };
        struct mls_proposal q = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        p.psk.psk.psktype = MLS_PSK_EXTERNAL;
        assert_int_equal(mls_bytes_copy(&p.psk.psk.psk_id, (const uint8_t *)"nope", 4), 0);
        assert_int_equal(mls_psk_id_new_nonce(&p.psk.psk, t.a.s, mls_rng_system()), 0);
        expect_forged(&t, &p, 1, NULL, false, MLS_E_UNKNOWN_PSK);
        /* and the builder refuses it too */
        assert_int_equal(mls_group_make_psk_external(t.a.g, &t.a.env, (const uint8_t *)"nope", 4,
                                                     &q),
                         MLS_E_UNKNOWN_PSK);
        /* a resumption PSK of an epoch not kept */
        mls_proposal_clear(&p);
        assert_int_equal(mls_group_make_psk_resumption(t.a.g, &t.a.env,
                                                       (const uint8_t *)"negative", 8, 99, &q),
                         MLS_E_UNKNOWN_PSK);
        trio_clear(&t);
}

/* R-12.1.4-1, R-12.1.4-2, R-11.2-6, R-11.3-8, R-12.1.4-3: PSK proposals
 * with a reinit/branch usage or a short nonce. */
static void
test_group_rejects_bad_psk_proposals(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_PSK };

        (void)state;
        trio_init(&t, 1, NULL);
        p.psk.psk.psktype = MLS_PSK_RESUMPTION;
        p.psk.psk.usage = MLS_PSK_USAGE_REINIT;
        assert_int_equal(mls_bytes_copy(&p.psk.psk.psk_group_id, (const uint8_t *)"negative", 8), 0);
        p.psk.psk.psk_epoch = 1;
        assert_int_equal(mls_psk_id_new_nonce(&p.psk.psk, t.a.s, mls_rng_system()), 0);
        expect_forged(&t, &p, 1, NULL, false, MLS_E_INVALID_PROPOSAL);
        p.psk.psk.usage = MLS_PSK_USAGE_BRANCH;
        expect_forged(&t, &p, 1, NULL, false, MLS_E_INVALID_PROPOSAL);
        p.psk.psk.usage = MLS_PSK_USAGE_APPLICATION;
        p.psk.psk.psk_nonce.len = 5;
        expect_forged(&t, &p, 1, NULL, false, MLS_E_INVALID_PROPOSAL);
        p.psk.psk.psk_nonce.len = 32;
        /* R-12.2-10: the same PSK twice */
        {
                struct mls_proposal two[2] = { p, p };

                expect_forged(&t, two, 2, NULL, false, MLS_E_INVALID_PROPOSAL);
        }
        mls_proposal_clear(&p);
        trio_clear(&t);
}

/* R-12.2-12: ReInit with other proposals. */
static void
test_group_rejects_reinit_not_alone(void **state)
{
        struct trio t;
        struct mls_proposal p[2] = { { 0 } };

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_group_make_reinit((const uint8_t *)"new", 3, 1, NULL, 0, &p[0]), 0);
        p[1].proposal_type = MLS_PROPOSAL_REMOVE;
        p[1].remove.removed = mls_group_own_leaf(t.c.g);
        expect_forged(&t, p, 2, NULL, true, MLS_E_REINIT_NOT_ALONE);
        /* R-12.1.5-1: a lower version */
        p[0].reinit.version = 0;
        expect_forged(&t, p, 1, NULL, false, MLS_E_INVALID_PROPOSAL);
        mls_proposal_clear(&p[0]);
        trio_clear(&t);
}

/* R-12.2-14, R-12.1-6-1: ExternalInit in a member's commit. */
static void
test_group_rejects_external_init_in_member_commit(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_EXTERNAL_INIT };
        uint8_t k[32] = { 1 };

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_bytes_copy(&p.external_init.kem_output, k, sizeof(k)), 0);
        expect_forged(&t, &p, 1, NULL, true, MLS_E_EXTERNAL_INIT_IN_MEMBER_COMMIT);
        mls_proposal_clear(&p);
        trio_clear(&t);
}

/* R-12.4-6, R-12.4-7, R-12.4.2-7: a path is required. */
static void
test_group_rejects_missing_path(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_REMOVE };

        (void)state;
        trio_init(&t, 1, NULL);
        p.remove.removed = mls_group_own_leaf(t.c.g);
        expect_forged(&t, &p, 1, NULL, false, MLS_E_PATH_REQUIRED);
        /* an empty commit */
        expect_forged(&t, NULL, 0, NULL, false, MLS_E_PATH_REQUIRED);
        trio_clear(&t);
}

/* R-12.2-6: two Removes of one leaf. R-12.2-11: two GCE. */
static void
test_group_rejects_duplicate_targets(void **state)
{
        struct trio t;
        struct mls_proposal p[2] = { { .proposal_type = MLS_PROPOSAL_REMOVE },
                                     { .proposal_type = MLS_PROPOSAL_REMOVE } };
        struct mls_proposal g2[2] = { { .proposal_type = MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS },
                                      { .proposal_type = MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS } };

        (void)state;
        trio_init(&t, 1, NULL);
        p[0].remove.removed = p[1].remove.removed = mls_group_own_leaf(t.c.g);
        expect_forged(&t, p, 2, NULL, true, MLS_E_INVALID_PROPOSAL);
        expect_forged(&t, g2, 2, NULL, true, MLS_E_INVALID_PROPOSAL);
        trio_clear(&t);
}

/* ---- KeyPackages in Adds (sections 10.1, 7.3) ---- */

static void
kp_proposal(struct tm_member *m, const struct mls_key_package_params *kpp,
            struct mls_proposal *ret)
{
        struct mls_bytes kp = { 0 };

        mls_key_package_priv_free(m->kpp);
        m->kpp = NULL;
        assert_int_equal(mls_key_package_create(m->s, kpp, &m->env, &kp, &m->kpp), 0);
        *ret = (struct mls_proposal){ .proposal_type = MLS_PROPOSAL_ADD };
        assert_int_equal(grp_key_package_decode(kp.data, kp.len, &ret->add.key_package), 0);
        mls_bytes_clear(&kp);
}

/* R-12.2-8, R-12.2-9, R-7.3-16, R-16.7-1: an Add whose signature key (or
 * encryption key) is already in the group. */
static void
test_group_rejects_duplicate_keys(void **state)
{
        /* R-10.1-1, R-12.1.1-1 */
        struct trio t;
        struct mls_proposal p = { 0 };
        struct mls_bytes kp = { 0 };
        struct mls_proposal q = { 0 };
        struct mls_key_package_params kpp = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        /* bob's second KeyPackage: same signature key */
        kpp.leaf = tm_leaf(&t.b);
        kp_proposal(&t.b, &kpp, &p);
        expect_forged(&t, &p, 1, NULL, false, MLS_E_DUPLICATE_KEY);
        {
                struct mls_key_package_priv *tmp = NULL;

                assert_int_equal(mls_key_package_create(t.b.s, &kpp, &t.b.env, &kp, &tmp), 0);
                mls_key_package_priv_free(tmp);
        }
        /* R-10.1-1: refused when fetched, too */
        assert_int_equal(mls_group_make_add(t.a.g, &t.a.env, kp.data, kp.len, &q),
                         MLS_E_DUPLICATE_KEY);
        mls_bytes_clear(&kp);
        mls_proposal_clear(&p);
        /* R-7.3-16, R-16.7-1: a fresh client whose (validly signed) leaf
         * reuses bob's encryption key */
        {
                struct tm_member d;
                struct mls_proposal q2 = { 0 };
                struct mls_key_package *k;
                struct mls_writer w;
                struct mls_bytes sig = { 0 };

                tm_init(&d, t.a.s, "dave");
                kpp.leaf = tm_leaf(&d);
                kp_proposal(&d, &kpp, &q2);
                k = &q2.add.key_package;
                mls_bytes_clear(&k->leaf_node.encryption_key);
                assert_int_equal(mls_bytes_dup(&k->leaf_node.encryption_key,
                                               &mls_tree_leaf(t.a.g->tree,
                                                              mls_group_own_leaf(t.b.g))
                                                        ->encryption_key),
                                 0);
                assert_int_equal(grp_leaf_sign(&k->leaf_node, NULL, 0, &d.sk->signer), 0);
                mls_writer_init(&w);
                assert_int_equal(mls_key_package_tbs_encode(&w, k), 0);
                assert_int_equal(mls_signer_sign(&d.sk->signer, MLS_SIGN_LABEL_KEY_PACKAGE, w.buf,
                                                 w.len, &sig),
                                 0);
                mls_writer_clear(&w);
                mls_bytes_clear(&k->signature);
                k->signature = sig;
                expect_forged(&t, &q2, 1, NULL, false, MLS_E_DUPLICATE_KEY);
                mls_proposal_clear(&q2);
                tm_clear(&d);
        }
        /* the same new client twice in one commit */
        {
                struct tm_member d;
                struct mls_proposal two[2];

                tm_init(&d, t.a.s, "dave");
                kpp.leaf = tm_leaf(&d);
                kp_proposal(&d, &kpp, &two[0]);
                kp_proposal(&d, &kpp, &two[1]);
                expect_forged(&t, two, 2, NULL, false, MLS_E_DUPLICATE_KEY);
                mls_proposal_clear(&two[0]);
                mls_proposal_clear(&two[1]);
                tm_clear(&d);
        }
        trio_clear(&t);
}

/* R-10.1-3: a KeyPackage of another suite or version. */
static void
test_group_rejects_unsupported_suite_and_version(void **state)
{
        /* R-10-4, R-12.1.1-1 */
        struct trio t;
        struct tm_member d;
        struct mls_proposal p = { 0 };
        struct mls_key_package_params kpp = { 0 };
        struct mls_bytes kp = { 0 }, bare = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&d, mls_suite_get(3), "dave");
        kpp.leaf = tm_leaf(&d);
        kp_proposal(&d, &kpp, &p);
        expect_forged(&t, &p, 1, NULL, false, MLS_E_WRONG_SUITE);
        mls_proposal_clear(&p);
        tm_key_package(&d, &kp);
        {
                struct mls_proposal q = { 0 };

                assert_int_equal(mls_group_make_add(t.a.g, &t.a.env, kp.data, kp.len, &q),
                                 MLS_E_WRONG_SUITE);
        }
        mls_bytes_clear(&kp);
        tm_clear(&d);
        /* version 2 */
        tm_init(&d, t.a.s, "dave");
        kpp.leaf = tm_leaf(&d);
        kp_proposal(&d, &kpp, &p);
        p.add.key_package.version = 2;
        expect_forged(&t, &p, 1, NULL, false, MLS_E_WRONG_VERSION);
        assert_int_equal(mls_key_package_to_bytes(&p.add.key_package, &bare), 0);
        {
                struct mls_proposal q = { 0 };

                assert_int_equal(mls_group_make_add(t.a.g, &t.a.env, bare.data, bare.len, &q),
                                 MLS_E_WRONG_VERSION);
        }
        mls_bytes_clear(&bare);
        mls_proposal_clear(&p);
        tm_clear(&d);
        trio_clear(&t);
}

/* R-5.1.2-1: a KeyPackage whose signature key belongs to another
 * signature scheme (a P-256 key in a suite-1 group) is refused, when it is
 * fetched for an Add and when it arrives in a received Add. */
static void
test_group_rejects_signature_key_of_other_scheme(void **state)
{
        /* R-5.1.2-1, R-10-4 */
        struct trio t;
        struct tm_member d;
        struct mls_proposal p = { 0 };
        struct mls_key_package_params kpp = { 0 };
        struct mls_bytes bare = { 0 }, p256_pub = { 0 };
        struct mls_secret *p256_priv = NULL;

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&d, t.a.s, "dave");
        kpp.leaf = tm_leaf(&d);
        kp_proposal(&d, &kpp, &p);
        assert_int_equal(mls_crypto_sig_keygen(mls_suite_get(2), mls_rng_system(), &p256_priv,
                                               &p256_pub), 0);
        mls_bytes_clear(&p.add.key_package.leaf_node.signature_key);
        p.add.key_package.leaf_node.signature_key = p256_pub;
        p256_pub = (struct mls_bytes){ 0 };
        expect_forged(&t, &p, 1, NULL, false, MLS_E_BAD_KEY);
        assert_int_equal(mls_key_package_to_bytes(&p.add.key_package, &bare), 0);
        {
                struct mls_proposal q = { 0 };

                assert_int_equal(mls_group_make_add(t.a.g, &t.a.env, bare.data, bare.len, &q),
                                 MLS_E_BAD_KEY);
        }
        mls_secret_free(p256_priv);
        mls_bytes_clear(&bare);
        mls_proposal_clear(&p);
        tm_clear(&d);
        trio_clear(&t);
}

/* R-11.1-1, R-7.3-6: required_capabilities not supported by the new
 * member; R-13.4-7: a GroupContext extension it does not list. */
static void
test_group_rejects_missing_required_capability(void **state)
{
        /* R-11.1-2, R-13.4-6, R-13.4-7, R-12.2-16 */
        struct trio t;
        struct tm_member d;
        struct mls_required_capabilities rc = { 0 };
        struct mls_extension_list ext = { 0 };
        struct mls_capabilities caps = { 0 };
        struct mls_bytes body = { 0 };
        struct mls_proposal p = { 0 };
        struct mls_key_package_params kpp = { 0 };
        uint16_t want = 0xff00;

        (void)state;
        rc.extension_types.v = &want;
        rc.extension_types.n = 1;
        assert_int_equal(mls_required_capabilities_to_bytes(&rc, &body), 0);
        assert_int_equal(mls_extension_list_add(&ext, MLS_EXT_REQUIRED_CAPABILITIES, body.data,
                                                body.len),
                         0);
        mls_bytes_clear(&body);
        /* members that support 0xff00 */
        assert_int_equal(grp_default_capabilities(&caps), 0);
        caps.extensions.v = malloc(sizeof(uint16_t));
        assert_non_null(caps.extensions.v);
        caps.extensions.v[0] = 0xff00;
        caps.extensions.n = 1;
        {
                /* build the trio by hand with those capabilities */
                struct mls_bytes kb = { 0 }, kc = { 0 }, commit = { 0 }, welcome = { 0 };
                struct mls_bytes kps[2];
                struct mls_key_package_params kb_p = { 0 }, kc_p = { 0 };
                struct mls_leaf_params la;
                const struct mls_suite *s = mls_suite_get(1);

                tm_init(&t.a, s, "alice");
                tm_init(&t.b, s, "bob");
                tm_init(&t.c, s, "carol");
                t.all[0] = &t.a;
                t.all[1] = &t.b;
                t.all[2] = &t.c;
                la = tm_leaf(&t.a);
                la.capabilities = &caps;
                assert_int_equal(mls_group_create(s, (const uint8_t *)"req", 3, &la, &ext,
                                                  &t.a.opts, &t.a.env, &t.a.g),
                                 0);
                kb_p.leaf = tm_leaf(&t.b);
                kb_p.leaf.capabilities = &caps;
                kc_p.leaf = tm_leaf(&t.c);
                kc_p.leaf.capabilities = &caps;
                assert_int_equal(mls_key_package_create(s, &kb_p, &t.b.env, &kb, &t.b.kpp), 0);
                assert_int_equal(mls_key_package_create(s, &kc_p, &t.c.env, &kc, &t.c.kpp), 0);
                kps[0] = kb;
                kps[1] = kc;
                assert_int_equal(mls_group_add(t.a.g, &t.a.env, kps, 2,
                                               &(struct mls_commit_params){ .inline_tree = true,
                                                                            .force_path = true },
                                               &commit, &welcome),
                                 0);
                tm_deliver(&t.a, &commit, t.all, 3);
                tm_join(&t.b, &welcome, NULL);
                tm_join(&t.c, &welcome, NULL);
                tm_check_same(t.all, 3);
                mls_bytes_clear(&kb);
                mls_bytes_clear(&kc);
                mls_bytes_clear(&commit);
                mls_bytes_clear(&welcome);
        }
        tm_init(&d, t.a.s, "dave");
        kpp.leaf = tm_leaf(&d);
        kp_proposal(&d, &kpp, &p);
        expect_forged(&t, &p, 1, NULL, false, MLS_E_UNSUPPORTED_CAPABILITY);
        mls_proposal_clear(&p);
        /* R-12.1.7-1: GCE requiring what a member lacks */
        {
                struct mls_proposal g = { .proposal_type = MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS };
                uint16_t w2 = 0xff01;

                rc.extension_types.v = &w2;
                assert_int_equal(mls_required_capabilities_to_bytes(&rc, &body), 0);
                assert_int_equal(mls_extension_list_add(&g.group_context_extensions.extensions,
                                                        MLS_EXT_REQUIRED_CAPABILITIES, body.data,
                                                        body.len),
                                 0);
                mls_bytes_clear(&body);
                expect_forged(&t, &g, 1, NULL, true, MLS_E_UNSUPPORTED_CAPABILITY);
                mls_proposal_clear(&g);
        }
        mls_capabilities_clear(&caps);
        mls_extension_list_clear(&ext);
        tm_clear(&d);
        trio_clear(&t);
}

/* R-7.3-9, R-7.3-10: an expired KeyPackage (lifetime checks on). */
static void
test_group_rejects_expired_lifetime(void **state)
{
        /* R-10.1-4, R-10.1-2, R-12.2-16, R-12.1.1-1 */
        struct trio t;
        struct tm_member d;
        struct mls_proposal p = { 0 };
        struct mls_key_package_params kpp = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&d, t.a.s, "dave");
        kpp.leaf = tm_leaf(&d);
        kpp.leaf.not_before = TM_NOW - 1000;
        kpp.leaf.not_after = TM_NOW - 10;
        kp_proposal(&d, &kpp, &p);
        expect_forged(&t, &p, 1, NULL, false, MLS_E_LIFETIME);
        mls_proposal_clear(&p);
        /* the same KeyPackage is fine with lifetime checks off */
        {
                struct mls_group_options o;

                mls_group_get_options(t.a.g, &o);
                o.enforce_lifetime = false;
                assert_int_equal(mls_group_set_options(t.a.g, &o), 0);
                kp_proposal(&d, &kpp, &p);
                {
                        struct mls_bytes msg = { 0 };
                        int e;

                        forge_commit(&t.b, t.a.g, &p, 1, NULL, false, &msg);
                        /* the list is valid now: the forged confirmation
                         * tag is what fails */
                        e = tm_process(&t.a, &msg);
                        assert_int_equal(e, MLS_E_BAD_CONFIRMATION_TAG);
                        mls_bytes_clear(&msg);
                }
                mls_proposal_clear(&p);
        }
        tm_clear(&d);
        trio_clear(&t);
}

/* ---- Welcome failures (section 12.4.3.1) ---- */

/* R-12.4.3.1-11, R-12.4.3.3-6: a tree whose hash is not the
 * GroupContext's. R-12.4.3.1-2: no KeyPackage of ours. */
static void
test_group_join_rejects_tree_hash_mismatch(void **state)
{
        struct trio t;
        struct tm_member d;
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 }, tree = { 0 };
        struct mls_group *g = NULL;
        struct mls_key_package_priv *kps[1];

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&d, t.a.s, "dave");
        tm_key_package(&d, &kp);
        /* the tree before the Add */
        assert_int_equal(mls_group_ratchet_tree(t.a.g, &tree), 0);
        assert_int_equal(mls_group_add(t.a.g, &t.a.env, &kp, 1, NULL, &commit, &welcome), 0);
        kps[0] = d.kpp;
        assert_int_equal(mls_group_join(welcome.data, welcome.len, tree.data, tree.len, kps, 1,
                                        NULL, &d.env, &g, NULL),
                         MLS_E_TREE_HASH_MISMATCH);
        assert_null(g);
        /* no tree at all */
        assert_int_equal(mls_group_join(welcome.data, welcome.len, NULL, 0, kps, 1, NULL, &d.env,
                                        &g, NULL),
                         MLS_E_INVALID_ARGUMENT);
        /* not our KeyPackage */
        kps[0] = t.b.kpp;
        assert_int_equal(mls_group_join(welcome.data, welcome.len, tree.data, tree.len, kps, 1,
                                        NULL, &d.env, &g, NULL),
                         MLS_E_KEY_PACKAGE_NOT_FOUND);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&tree);
        tm_clear(&d);
        trio_clear(&t);
}


/* ---- external commits (sections 12.2, 12.4.3.2) ---- */

/* A valid external join of `x` into t's group; *ret_commit its commit. */
static void
external_join(struct trio *t, struct tm_member *x, bool remove_prior, uint32_t prior,
              struct mls_bytes *ret_commit)
{
        struct mls_bytes gi = { 0 };
        struct mls_external_join_params p = { .leaf = tm_leaf(x), .remove_prior = remove_prior,
                                              .prior_leaf = prior };

        assert_int_equal(mls_group_group_info(t->a.g, &t->a.env, true, true, &gi), 0);
        assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &p, NULL, &x->env,
                                                 &x->g, ret_commit),
                         0);
        mls_bytes_clear(&gi);
}

/* Re-encodes an external commit after `edit`, signed by `signer`. */
static void
reprotect_external(const struct mls_group *to, struct mls_authenticated_content *ac,
                   const struct mls_signer *signer, struct mls_bytes *ret)
{
        struct mls_frame_group fg = { 0 };

        assert_int_equal(grp_frame_group(to, &fg), 0);
        assert_int_equal(mls_frame_sign(&fg, ac, signer), 0);
        assert_int_equal(mls_frame_public_protect(&fg, ac, NULL, 0, ret), 0);
        mls_frame_group_clear(&fg);
}

static void
append_proposal(struct mls_commit *c, const struct mls_proposal *p, const struct mls_bytes *ref)
{
        struct mls_proposal_or_ref *np = realloc(c->proposals, (c->n_proposals + 1) * sizeof(*np));

        assert_non_null(np);
        c->proposals = np;
        memset(&np[c->n_proposals], 0, sizeof(*np));
        if (ref) {
                np[c->n_proposals].type = MLS_POR_REFERENCE;
                assert_int_equal(mls_bytes_dup(&np[c->n_proposals].reference, ref), 0);
        } else {
                np[c->n_proposals].type = MLS_POR_PROPOSAL;
                np[c->n_proposals].proposal = calloc(1, sizeof(struct mls_proposal));
                assert_non_null(np[c->n_proposals].proposal);
                assert_int_equal(grp_proposal_dup(p, np[c->n_proposals].proposal), 0);
        }
        c->n_proposals++;
}

/* R-12.2-17, R-12.2-18, R-12.4.3.2-4, R-12.4.3.2-5, R-12.4.3.2-6,
 * R-12.4.3.2-8, R-12.4.3.2-2: what an external commit may not hold, and
 * who must sign it. */
static void
test_group_rejects_bad_external_commits(void **state)
{
        /* R-12.2-1, R-12.2-2 */
        struct trio t;
        struct tm_member x;
        struct mls_bytes commit = { 0 }, m2 = { 0 };
        struct mls_authenticated_content ac;

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&x, t.a.s, "xavier");
        external_join(&t, &x, false, 0, &commit);
        /* a second ExternalInit */
        open_public(&commit, &ac);
        append_proposal(&ac.content.commit, ac.content.commit.proposals[0].proposal, NULL);
        reprotect_external(t.a.g, &ac, &x.sk->signer, &m2);
        expect_reject(&t.a, &m2, MLS_E_INVALID_PROPOSAL);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&m2);
        /* an Add */
        {
                struct tm_member d;
                struct mls_proposal p = { 0 };
                struct mls_key_package_params kpp = { 0 };

                tm_init(&d, t.a.s, "dave");
                kpp.leaf = tm_leaf(&d);
                kp_proposal(&d, &kpp, &p);
                open_public(&commit, &ac);
                append_proposal(&ac.content.commit, &p, NULL);
                reprotect_external(t.a.g, &ac, &x.sk->signer, &m2);
                expect_reject(&t.a, &m2, MLS_E_INVALID_PROPOSAL);
                mls_authenticated_content_clear(&ac);
                mls_bytes_clear(&m2);
                mls_proposal_clear(&p);
                tm_clear(&d);
        }
        /* a proposal by reference (one that is even cached) */
        {
                struct mls_proposal p = { 0 };
                struct mls_bytes msg = { 0 }, ref = { 0 };

                assert_int_equal(mls_group_make_remove(t.b.g, mls_group_own_leaf(t.c.g), &p), 0);
                assert_int_equal(mls_group_propose(t.b.g, &t.b.env, &p, NULL, &msg, &ref), 0);
                tm_process_ok(&t.a, &msg);
                open_public(&commit, &ac);
                append_proposal(&ac.content.commit, NULL, &ref);
                reprotect_external(t.a.g, &ac, &x.sk->signer, &m2);
                expect_reject(&t.a, &m2, MLS_E_INVALID_PROPOSAL);
                mls_authenticated_content_clear(&ac);
                mls_bytes_clear(&m2);
                mls_proposal_clear(&p);
                mls_bytes_clear(&msg);
                mls_bytes_clear(&ref);
        }
        /* signed by someone else than the path's leaf */
        open_public(&commit, &ac);
        reprotect_external(t.a.g, &ac, &t.b.sk->signer, &m2);
        expect_reject(&t.a, &m2, MLS_E_BAD_SIGNATURE);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&m2);
        /* sender type external (only new_member_commit commits from
         * outside, R-6.1-4) */
        open_public(&commit, &ac);
        ac.content.sender.sender_type = MLS_SENDER_EXTERNAL;
        ac.content.sender.sender_index = 0;
        {
                struct mls_message m = { .version = MLS_VERSION_MLS10,
                                         .wire_format = MLS_WIRE_PUBLIC_MESSAGE };

                m.public_message.content = ac.content;
                m.public_message.auth = ac.auth;
                assert_int_equal(mls_message_to_bytes(&m, &m2), 0);
        }
        expect_reject(&t.a, &m2, MLS_E_INVALID_SENDER);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&m2);
        /* the genuine one is accepted */
        tm_process_ok(&t.a, &commit);
        mls_bytes_clear(&commit);
        tm_clear(&x);
        trio_clear(&t);
}

/* R-12.2-19, R-12.2-20: a resync may only remove the joiner's own old
 * leaf, and must bring a new encryption key. */
static void
test_group_rejects_bad_external_resync(void **state)
{
        struct trio t;
        struct tm_member b2;
        struct mls_bytes commit = { 0 }, m2 = { 0 }, gi = { 0 };
        struct mls_authenticated_content ac;
        struct mls_external_join_params p = { 0 };
        struct mls_group *g = NULL;

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&b2, t.a.s, "bob");
        /* the joiner refuses to remove someone else's leaf */
        assert_int_equal(mls_group_group_info(t.a.g, &t.a.env, true, true, &gi), 0);
        p.leaf = tm_leaf(&b2);
        p.remove_prior = true;
        p.prior_leaf = mls_group_own_leaf(t.c.g);
        assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &p, NULL, &b2.env, &g,
                                                 &commit),
                         MLS_E_BAD_CREDENTIAL);
        mls_bytes_clear(&gi);
        /* a valid resync, edited to remove carol: the members refuse it */
        external_join(&t, &b2, true, mls_group_own_leaf(t.b.g), &commit);
        open_public(&commit, &ac);
        for (size_t i = 0; i < ac.content.commit.n_proposals; i++) {
                struct mls_proposal *pp = ac.content.commit.proposals[i].proposal;

                if (pp->proposal_type == MLS_PROPOSAL_REMOVE)
                        pp->remove.removed = mls_group_own_leaf(t.c.g);
        }
        reprotect_external(t.a.g, &ac, &b2.sk->signer, &m2);
        expect_reject(&t.a, &m2, MLS_E_BAD_CREDENTIAL);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&m2);
        /* the old leaf's encryption key again (leaf re-signed) */
        open_public(&commit, &ac);
        {
                struct mls_leaf_node *ln = &ac.content.commit.path.leaf_node;
                const struct mls_leaf_node *old = mls_tree_leaf(t.a.g->tree,
                                                                mls_group_own_leaf(t.b.g));
                uint32_t li = mls_group_own_leaf(b2.g);

                mls_bytes_clear(&ln->encryption_key);
                assert_int_equal(mls_bytes_dup(&ln->encryption_key, &old->encryption_key), 0);
                assert_int_equal(grp_leaf_sign(ln, &t.a.g->gc.group_id, li, &b2.sk->signer), 0);
        }
        reprotect_external(t.a.g, &ac, &b2.sk->signer, &m2);
        expect_reject(&t.a, &m2, MLS_E_DUPLICATE_KEY);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&m2);
        tm_process_ok(&t.a, &commit);
        mls_bytes_clear(&commit);
        tm_clear(&b2);
        trio_clear(&t);
}

/* ---- received LeafNodes (sections 7.3, 7.5) ---- */

/* Removes v from a u16 list (the capabilities of a leaf). */
static void
u16_drop(struct mls_u16_list *l, uint16_t v)
{
        size_t k = 0;

        for (size_t i = 0; i < l->n; i++)
                if (l->v[i] != v)
                        l->v[k++] = l->v[i];
        assert_true(k < l->n);
        l->n = k;
}

/* R-7.3-2: a LeafNode received in an Add (KeyPackage), an Update proposal
 * or a Commit path is validated by the receiver, which rejects it and
 * keeps its state: a leaf whose capabilities lack the group's suite
 * (validly re-signed), and for the Add a bad leaf signature under a valid
 * KeyPackage signature. R-7.5-3: the committer's new leaf obeys the
 * Update rules (capabilities, a new encryption key, signature over
 * group_id and leaf index) but carries source commit, not update. */
static void
test_group_validates_received_leaf_nodes(void **state)
{
        struct trio t;
        struct mls_bytes msg = { 0 }, m2 = { 0 };
        struct mls_authenticated_content ac;
        struct mls_leaf_node *ln;
        uint32_t bl;
        uint16_t suite;

        (void)state;
        trio_init(&t, 1, NULL);
        suite = t.a.s->id;
        bl = mls_group_own_leaf(t.b.g);

        /* Add: the KeyPackage's leaf, with the KeyPackage re-signed */
        for (int v = 0; v < 2; v++) {
                struct tm_member d;
                struct mls_proposal q = { 0 };
                struct mls_key_package_params kpp = { 0 };
                struct mls_key_package *k;
                struct mls_writer w;
                struct mls_bytes sig = { 0 };

                tm_init(&d, t.a.s, "dave");
                kpp.leaf = tm_leaf(&d);
                kp_proposal(&d, &kpp, &q);
                k = &q.add.key_package;
                if (v == 0) {
                        u16_drop(&k->leaf_node.capabilities.cipher_suites, suite);
                        assert_int_equal(grp_leaf_sign(&k->leaf_node, NULL, 0, &d.sk->signer), 0);
                } else {
                        k->leaf_node.signature.data[3] ^= 0x10;
                }
                mls_writer_init(&w);
                assert_int_equal(mls_key_package_tbs_encode(&w, k), 0);
                assert_int_equal(mls_signer_sign(&d.sk->signer, MLS_SIGN_LABEL_KEY_PACKAGE, w.buf,
                                                 w.len, &sig),
                                 0);
                mls_writer_clear(&w);
                mls_bytes_clear(&k->signature);
                k->signature = sig;
                expect_forged(&t, &q, 1, NULL, false,
                              v == 0 ? MLS_E_UNSUPPORTED_CAPABILITY : MLS_E_BAD_SIGNATURE);
                mls_proposal_clear(&q);
                tm_clear(&d);
        }

        /* Update proposal: capabilities without the group's suite */
        assert_int_equal(mls_group_propose_update(t.b.g, &t.b.env, NULL, NULL, &msg, NULL), 0);
        open_public(&msg, &ac);
        assert_int_equal(ac.content.content_type, MLS_CONTENT_PROPOSAL);
        ln = &ac.content.proposal.update.leaf_node;
        u16_drop(&ln->capabilities.cipher_suites, suite);
        assert_int_equal(grp_leaf_sign(ln, &t.a.g->gc.group_id, bl, &t.b.sk->signer), 0);
        reprotect(t.a.g, &ac, &t.b.sk->signer, &m2);
        expect_reject(&t.a, &m2, MLS_E_UNSUPPORTED_CAPABILITY);
        mls_bytes_clear(&m2);
        /* the genuine Update is accepted (the forgery alone was wrong) */
        tm_process_ok(&t.a, &msg);
        mls_authenticated_content_clear(&ac);
        mls_bytes_clear(&msg);
        trio_clear(&t);

        /* Commit path leaf (R-7.5-3) */
        trio_init(&t, 1, NULL);
        bl = mls_group_own_leaf(t.b.g);
        for (int v = 0; v < 3; v++) {
                static const int want[] = { MLS_E_UNSUPPORTED_CAPABILITY, MLS_E_DUPLICATE_KEY,
                                            MLS_E_INVALID_LEAF };

                assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &msg), 0);
                assert_int_equal(mls_group_clear_pending(t.b.g), 0);
                open_public(&msg, &ac);
                assert_true(ac.content.commit.has_path);
                ln = &ac.content.commit.path.leaf_node;
                switch (v) {
                case 0: /* as for an Update: the group's suite supported */
                        u16_drop(&ln->capabilities.cipher_suites, suite);
                        break;
                case 1: /* as for an Update (R-7.3-14): a new encryption key */
                        mls_bytes_clear(&ln->encryption_key);
                        assert_int_equal(mls_bytes_dup(&ln->encryption_key,
                                                       &mls_tree_leaf(t.a.g->tree, bl)
                                                                ->encryption_key),
                                         0);
                        break;
                default: /* the exception: source commit, never update */
                        ln->leaf_node_source = MLS_LEAF_SOURCE_UPDATE;
                        break;
                }
                assert_int_equal(grp_leaf_sign(ln, &t.a.g->gc.group_id, bl, &t.b.sk->signer), 0);
                reprotect(t.a.g, &ac, &t.b.sk->signer, &m2);
                expect_reject(&t.a, &m2, want[v]);
                mls_authenticated_content_clear(&ac);
                mls_bytes_clear(&m2);
                mls_bytes_clear(&msg);
        }
        /* a genuine commit of bob still goes through */
        assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &msg), 0);
        tm_deliver(&t.b, &msg, t.all, 3);
        tm_check_same(t.all, 3);
        mls_bytes_clear(&msg);
        trio_clear(&t);
}

/* ---- external proposals (section 12.1.8) ---- */

/* R-12.1.8-4: an external sender may not send an Update; R-12.1.6-1: an
 * ExternalInit is never a proposal of its own; R-13.4-5: no extension
 * type twice. */
static void
test_group_rejects_bad_proposals(void **state)
{
        /* R-12.1.6-1, R-12.1.8-4, R-13.4-5 */
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_UPDATE };
        struct mls_bytes msg = { 0 };
        size_t gl;
        const uint8_t *gid;

        (void)state;
        trio_init(&t, 1, NULL);
        gid = mls_group_id(t.a.g, &gl);
        assert_int_equal(grp_leaf_node_dup(mls_tree_leaf(t.a.g->tree, 0), &p.update.leaf_node), 0);
        assert_int_equal(mls_external_proposal_create(t.a.s, gid, gl, mls_group_epoch(t.a.g),
                                                      MLS_SENDER_EXTERNAL, 0, &p, &t.b.env, &msg),
                         MLS_E_INVALID_SENDER);
        mls_proposal_clear(&p);
        p = (struct mls_proposal){ .proposal_type = MLS_PROPOSAL_EXTERNAL_INIT };
        assert_int_equal(mls_bytes_copy(&p.external_init.kem_output, (const uint8_t *)"k", 1), 0);
        assert_int_equal(mls_group_propose(t.a.g, &t.a.env, &p, NULL, &msg, NULL),
                         MLS_E_EXTERNAL_INIT_IN_MEMBER_COMMIT);
        mls_proposal_clear(&p);
        {
                /* two extensions of type 0x0001 */
                static const uint8_t dup[] = { 0x08, 0x00, 0x01, 0x01, 0xaa, 0x00, 0x01, 0x01, 0xbb };

                assert_int_equal(mls_group_make_group_context_extensions(dup, sizeof(dup), &p),
                                 MLS_E_DUPLICATE_EXTENSION);
        }
        /* R-12.1.8-1, R-12.1.8-2: no external_senders extension, no
         * authorised external sender */
        p = (struct mls_proposal){ .proposal_type = MLS_PROPOSAL_REMOVE };
        p.remove.removed = 2;
        assert_int_equal(mls_external_proposal_create(t.a.s, gid, gl, mls_group_epoch(t.a.g),
                                                      MLS_SENDER_EXTERNAL, 0, &p, &t.b.env, &msg),
                         0);
        expect_reject(&t.a, &msg, MLS_E_INVALID_SENDER);
        mls_bytes_clear(&msg);
        trio_clear(&t);
}

/* ---- branch and reinit Welcomes (sections 11.2, 11.3) ---- */

/* R-11.3-3, R-11.3-6, R-12.4.3.1-26: a branch whose members are not (any
 * more) all in the joiner's view of the old group. */
static void
test_group_join_rejects_bad_branch(void **state)
{
        struct trio t;
        struct tm_member c2;
        struct mls_group *a_old = NULL, *ng = NULL;
        struct mls_bytes commit = { 0 }, kp = { 0 }, welcome = { 0 };
        uint32_t leaf;

        (void)state;
        trio_init(&t, 1, NULL);
        /* alice keeps a copy of epoch e, then carol removes her */
        a_old = tm_round_trip(t.a.g);
        leaf = mls_group_own_leaf(t.a.g);
        assert_int_equal(mls_group_remove(t.c.g, &t.c.env, &leaf, 1, NULL, &commit), 0);
        tm_deliver(&t.c, &commit, t.all, 3);
        mls_bytes_clear(&commit);
        /* alice branches from her old copy with carol */
        tm_init(&c2, t.a.s, "carol");
        c2.others[c2.n_others++] = t.c.g;
        t.c.g = NULL;
        tm_key_package(&c2, &kp);
        {
                struct mls_leaf_params lp = tm_leaf(&t.a);

                assert_int_equal(mls_group_branch(a_old, &t.a.env, (const uint8_t *)"b", 1, &lp,
                                                  &kp, 1, NULL, &ng, &welcome),
                                 0);
        }
        {
                struct mls_key_package_priv *kps[1] = { c2.kpp };
                struct mls_group *g = NULL;

                assert_int_equal(mls_group_join(welcome.data, welcome.len, NULL, 0, kps, 1, NULL,
                                                &c2.env, &g, NULL),
                                 MLS_E_BAD_CREDENTIAL);
                assert_null(g);
        }
        mls_group_free(a_old);
        mls_group_free(ng);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&welcome);
        tm_clear(&c2);
        trio_clear(&t);
}

/* R-12.4.3.1-25, R-11.2-2: a reinit Welcome that does not match the old
 * group's ReInit. */
static void
test_group_join_rejects_bad_reinit(void **state)
{
        struct trio t;
        struct tm_member b2;
        struct mls_proposal p = { 0 };
        struct mls_bytes commit = { 0 }, kp = { 0 }, welcome = { 0 };
        struct mls_group *ng = NULL;

        (void)state;
        trio_init(&t, 1, NULL);
        assert_int_equal(mls_group_make_reinit((const uint8_t *)"again", 5, 1, NULL, 0, &p), 0);
        assert_int_equal(mls_group_commit(t.a.g, &t.a.env,
                                          &(struct mls_commit_params){ .proposals = &p,
                                                                       .n_proposals = 1 },
                                          &commit, NULL),
                         0);
        tm_deliver(&t.a, &commit, t.all, 3);
        mls_proposal_clear(&p);
        tm_init(&b2, t.a.s, "bob");
        tm_key_package(&b2, &kp);
        {
                struct mls_leaf_params lp = tm_leaf(&t.a);
                struct mls_bytes kps[2] = { kp, { 0 } };
                struct tm_member c2;

                /* R-12.4.1-13: the same members: carol missing */
                assert_int_equal(mls_group_reinit(t.a.g, &t.a.env, &lp, kps, 1, NULL, &ng,
                                                  &welcome),
                                 MLS_E_BAD_CREDENTIAL);
                tm_init(&c2, t.a.s, "carol");
                tm_key_package(&c2, &kps[1]);
                assert_int_equal(mls_group_reinit(t.a.g, &t.a.env, &lp, kps, 2, NULL, &ng,
                                                  &welcome),
                                 0);
                mls_bytes_clear(&kps[1]);
                tm_clear(&c2);
        }
        /* bob's view of the ReInit says another suite */
        b2.others[b2.n_others++] = t.b.g;
        t.b.g->reinit.cipher_suite = 3;
        t.b.g = NULL;
        {
                struct mls_key_package_priv *kps[1] = { b2.kpp };
                struct mls_group *g = NULL;

                assert_int_equal(mls_group_join(welcome.data, welcome.len, NULL, 0, kps, 1, NULL,
                                                &b2.env, &g, NULL),
                                 MLS_E_INVALID_MESSAGE);
                /* and right, it joins */
                b2.others[0]->reinit.cipher_suite = 1;
                assert_int_equal(mls_group_join(welcome.data, welcome.len, NULL, 0, kps, 1, NULL,
                                                &b2.env, &g, NULL),
                                 0);
                assert_int_equal(mls_group_epoch(g), 1);
                mls_group_free(g);
        }
        mls_group_free(ng);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&welcome);
        tm_clear(&b2);
        trio_clear(&t);
}


/* R-12.3-3: a GroupContextExtensions proposal judges the Adds of its own
 * commit: members support 0xff00, the new member does not. */
static void
test_group_gce_judges_adds_of_same_commit(void **state)
{
        struct trio t;
        struct tm_member d;
        struct mls_capabilities caps = { 0 };
        struct mls_required_capabilities rc = { 0 };
        struct mls_proposal p[2] = { { 0 } };
        struct mls_key_package_params kpp = { 0 };
        struct mls_bytes body = { 0 }, kb = { 0 }, kc = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_bytes kps[2];
        struct mls_key_package_params kb_p = { 0 }, kc_p = { 0 };
        struct mls_leaf_params la;
        const struct mls_suite *s = mls_suite_get(1);
        uint16_t want = 0xff00;

        (void)state;
        assert_int_equal(grp_default_capabilities(&caps), 0);
        caps.extensions.v = malloc(sizeof(uint16_t));
        assert_non_null(caps.extensions.v);
        caps.extensions.v[0] = 0xff00;
        caps.extensions.n = 1;
        tm_init(&t.a, s, "alice");
        tm_init(&t.b, s, "bob");
        tm_init(&t.c, s, "carol");
        t.all[0] = &t.a;
        t.all[1] = &t.b;
        t.all[2] = &t.c;
        la = tm_leaf(&t.a);
        la.capabilities = &caps;
        assert_int_equal(mls_group_create(s, (const uint8_t *)"gce", 3, &la, NULL, &t.a.opts,
                                          &t.a.env, &t.a.g),
                         0);
        kb_p.leaf = tm_leaf(&t.b);
        kb_p.leaf.capabilities = &caps;
        kc_p.leaf = tm_leaf(&t.c);
        kc_p.leaf.capabilities = &caps;
        assert_int_equal(mls_key_package_create(s, &kb_p, &t.b.env, &kb, &t.b.kpp), 0);
        assert_int_equal(mls_key_package_create(s, &kc_p, &t.c.env, &kc, &t.c.kpp), 0);
        kps[0] = kb;
        kps[1] = kc;
        assert_int_equal(mls_group_add(t.a.g, &t.a.env, kps, 2,
                                       &(struct mls_commit_params){ .inline_tree = true },
                                       &commit, &welcome),
                         0);
        tm_deliver(&t.a, &commit, t.all, 3);
        tm_join(&t.b, &welcome, NULL);
        tm_join(&t.c, &welcome, NULL);
        rc.extension_types.v = &want;
        rc.extension_types.n = 1;
        assert_int_equal(mls_required_capabilities_to_bytes(&rc, &body), 0);
        p[0].proposal_type = MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS;
        assert_int_equal(mls_extension_list_add(&p[0].group_context_extensions.extensions,
                                                MLS_EXT_REQUIRED_CAPABILITIES, body.data,
                                                body.len),
                         0);
        tm_init(&d, s, "dave");
        kpp.leaf = tm_leaf(&d);
        kp_proposal(&d, &kpp, &p[1]);
        expect_forged(&t, p, 2, NULL, true, MLS_E_UNSUPPORTED_CAPABILITY);
        /* without the GCE the same Add is valid (the forged tag fails) */
        expect_forged(&t, &p[1], 1, NULL, false, MLS_E_BAD_CONFIRMATION_TAG);
        mls_proposal_clear(&p[0]);
        mls_proposal_clear(&p[1]);
        mls_capabilities_clear(&caps);
        mls_bytes_clear(&body);
        mls_bytes_clear(&kb);
        mls_bytes_clear(&kc);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        tm_clear(&d);
        trio_clear(&t);
}

/* R-12.2-15, R-13.2-1: a proposal type the group does not know never gets
 * to the list checks: the decoder rejects it (only the default types have
 * an arm). */
static void
test_group_rejects_unknown_proposal_type(void **state)
{
        struct trio t;
        struct mls_proposal p = { .proposal_type = MLS_PROPOSAL_REMOVE };
        struct mls_bytes msg = { 0 };
        static const uint8_t pat[] = { 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02 };
        bool found = false;

        (void)state;
        trio_init(&t, 1, NULL);
        p.remove.removed = 2;
        forge_commit(&t.b, t.a.g, &p, 1, NULL, false, &msg);
        for (size_t i = 0; i + sizeof(pat) <= msg.len && !found; i++) {
                if (memcmp(msg.data + i, pat, sizeof(pat)) == 0) {
                        msg.data[i + 2] = 0x08;
                        found = true;
                }
        }
        assert_true(found);
        expect_reject(&t.a, &msg, MLS_E_BAD_ENUM);
        mls_bytes_clear(&msg);
        trio_clear(&t);
}

/* ---- Authentication Service (RFC 9420 section 5.3.1) ---- */

/* A credential for `id`, for leaf params. */
static void
cred_basic(struct mls_credential *c, const char *id)
{
        memset(c, 0, sizeof(*c));
        c->credential_type = MLS_CREDENTIAL_BASIC;
        assert_int_equal(mls_bytes_copy(&c->identity, (const uint8_t *)id, strlen(id)), 0);
}

/* R-5.3.1-1, R-5.3.1-2: a KeyPackage whose credential the AS refuses is
 * not used for an Add (neither as a proposal nor in a commit); the group
 * is unchanged. */
static void
test_group_as_refuses_key_package_for_add(void **state)
{
        struct trio t;
        struct tm_member d;
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_proposal p = { 0 };
        struct mls_secret *before;

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&d, t.a.s, "dave");
        tm_key_package(&d, &kp);
        t.a.as_refuse = "dave";
        before = tm_save(t.a.g);
        assert_int_equal(mls_group_make_add(t.a.g, &t.a.env, kp.data, kp.len, &p),
                         MLS_E_BAD_CREDENTIAL);
        assert_int_equal(mls_group_add(t.a.g, &t.a.env, &kp, 1, NULL, &commit, &welcome),
                         MLS_E_BAD_CREDENTIAL);
        assert_false(mls_group_has_pending(t.a.g));
        tm_assert_state(t.a.g, before);
        mls_secret_free(before);
        /* Accepted by the AS: the same KeyPackage is fine. */
        t.a.as_refuse = NULL;
        assert_int_equal(mls_group_make_add(t.a.g, &t.a.env, kp.data, kp.len, &p), 0);
        mls_proposal_clear(&p);
        mls_bytes_clear(&kp);
        tm_clear(&d);
        trio_clear(&t);
}

/* R-5.3.1-4, R-7.3-4: a received Add proposal, or an Add in a received
 * commit, whose credential the receiver's AS refuses. */
static void
test_group_as_refuses_received_add(void **state)
{
        struct trio t;
        struct tm_member d;
        struct mls_bytes kp = { 0 }, msg = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_proposal p = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&d, t.a.s, "dave");
        tm_key_package(&d, &kp);
        /* bob's AS accepts dave; alice's does not. */
        t.a.as_refuse = "dave";
        assert_int_equal(mls_group_make_add(t.b.g, &t.b.env, kp.data, kp.len, &p), 0);
        assert_int_equal(mls_group_propose(t.b.g, &t.b.env, &p, NULL, &msg, NULL), 0);
        expect_reject(&t.a, &msg, MLS_E_BAD_CREDENTIAL);
        tm_process_ok(&t.c, &msg);
        mls_bytes_clear(&msg);
        /* By value in bob's commit. */
        assert_int_equal(mls_group_add(t.b.g, &t.b.env, &kp, 1,
                                       &(struct mls_commit_params){ .no_cached = true },
                                       &commit, &welcome),
                         0);
        expect_reject(&t.a, &commit, MLS_E_BAD_CREDENTIAL);
        tm_process_ok(&t.c, &commit);
        mls_proposal_clear(&p);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        tm_clear(&d);
        trio_clear(&t);
}

/* R-5.3.1-3, R-7.3-4: a joiner whose AS refuses a credential in the tree
 * (Welcome with the tree inline, or an external commit) does not join. */
static void
test_group_as_refuses_join(void **state)
{
        struct tm_member a, b, x;
        struct mls_bytes kb = { 0 }, commit = { 0 }, welcome = { 0 }, gi = { 0 };
        struct mls_group *g = NULL;
        struct mls_key_package_priv *kps[1];
        struct mls_external_join_params ep;
        const struct mls_suite *s = mls_suite_get(1);

        (void)state;
        tm_init(&a, s, "alice");
        tm_init(&b, s, "bob");
        tm_init(&x, s, "xavier");
        tm_create(&a, "as-join", NULL);
        tm_key_package(&b, &kb);
        assert_int_equal(mls_group_add(a.g, &a.env, &kb, 1,
                                       &(struct mls_commit_params){ .inline_tree = true },
                                       &commit, &welcome),
                         0);
        assert_int_equal(mls_group_merge_pending(a.g, NULL), 0);
        kps[0] = b.kpp;
        b.as_refuse = "alice";
        b.as_calls = 0;
        assert_int_equal(mls_group_join(welcome.data, welcome.len, NULL, 0, kps, 1, &b.opts,
                                        &b.env, &g, NULL),
                         MLS_E_BAD_CREDENTIAL);
        assert_null(g);
        assert_true(b.as_calls >= 1);
        /* Accepted: the same Welcome joins. */
        b.as_refuse = NULL;
        tm_join(&b, &welcome, NULL);
        /* By external commit: xavier's AS refuses bob. */
        assert_int_equal(mls_group_group_info(a.g, &a.env, true, true, &gi), 0);
        ep = (struct mls_external_join_params){ .leaf = tm_leaf(&x) };
        x.as_refuse = "bob";
        mls_bytes_clear(&commit);
        assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &ep, NULL, &x.env, &g,
                                                 &commit),
                         MLS_E_BAD_CREDENTIAL);
        assert_null(g);
        x.as_refuse = NULL;
        assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &ep, NULL, &x.env,
                                                 &x.g, &commit),
                         0);
        mls_bytes_clear(&kb);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&gi);
        tm_clear(&a);
        tm_clear(&b);
        tm_clear(&x);
}

/* msg brings bob's new credential "bob-2": alice's AS refuses it
 * (BadCredential), carol's accepts it; both are asked with bob's old
 * credential as the predecessor. */
static void
expect_successor_checked(struct trio *t, const struct mls_bytes *msg)
{
        t->a.as_refuse = "bob-2";
        t->a.as_pred_calls = 0;
        expect_reject(&t->a, msg, MLS_E_BAD_CREDENTIAL);
        assert_int_equal(t->a.as_pred_calls, 1);
        assert_string_equal(t->a.as_last_pred, "bob");
        t->c.as_pred_calls = 0;
        tm_process_ok(&t->c, msg);
        assert_int_equal(t->c.as_pred_calls, 1);
        assert_string_equal(t->c.as_last_pred, "bob");
}

/* R-5.3.1-5, R-5.3.1-8, R-7.3-4: an Update proposal bringing a new
 * credential goes to the AS with the old one as predecessor; a refused
 * successor is rejected, the receiver's state unchanged. An Update with the
 * same credential does not ask the AS. */
static void
test_group_as_refuses_update_credential(void **state)
{
        struct trio t;
        struct mls_credential nc;
        struct mls_leaf_params lp;
        struct mls_bytes msg = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        /* Same credential: no AS call. */
        assert_int_equal(mls_group_propose_update(t.b.g, &t.b.env, NULL, NULL, &msg, NULL), 0);
        t.a.as_calls = 0;
        t.a.as_refuse = "bob";
        tm_process_ok(&t.a, &msg);
        assert_int_equal(t.a.as_calls, 0);
        mls_bytes_clear(&msg);
        /* A new credential "bob-2". */
        cred_basic(&nc, "bob-2");
        lp = tm_leaf(&t.b);
        lp.credential = &nc;
        assert_int_equal(mls_group_propose_update(t.b.g, &t.b.env, &lp, NULL, &msg, NULL), 0);
        expect_successor_checked(&t, &msg);
        mls_credential_clear(&nc);
        mls_bytes_clear(&msg);
        trio_clear(&t);
}

/* R-5.3.1-6, R-5.3.1-8, R-7.3-4: a commit whose path leaf brings a new
 * credential for the committer. */
static void
test_group_as_refuses_commit_path_credential(void **state)
{
        struct trio t;
        struct mls_credential nc;
        struct mls_leaf_params lp;
        struct mls_bytes commit = { 0 };
        struct mls_secret *before;

        (void)state;
        trio_init(&t, 1, NULL);
        cred_basic(&nc, "bob-2");
        lp = tm_leaf(&t.b);
        lp.credential = &nc;
        /* The committer's own AS refusing its new credential: no commit. */
        t.b.as_refuse = "bob-2";
        before = tm_save(t.b.g);
        assert_int_equal(mls_group_update(t.b.g, &t.b.env,
                                          &(struct mls_commit_params){ .leaf = &lp }, &commit),
                         MLS_E_BAD_CREDENTIAL);
        tm_assert_state(t.b.g, before);
        mls_secret_free(before);
        t.b.as_refuse = NULL;
        assert_int_equal(mls_group_update(t.b.g, &t.b.env,
                                          &(struct mls_commit_params){ .leaf = &lp }, &commit),
                         0);
        expect_successor_checked(&t, &commit);
        assert_int_equal(mls_group_merge_pending(t.b.g, NULL), 0);
        /* A path with the unchanged credential does not ask the AS. */
        mls_bytes_clear(&commit);
        assert_int_equal(mls_group_update(t.b.g, &t.b.env, NULL, &commit), 0);
        t.c.as_calls = 0;
        t.c.as_refuse = "bob-2";
        tm_process_ok(&t.c, &commit);
        assert_int_equal(t.c.as_calls, 0);
        mls_credential_clear(&nc);
        mls_bytes_clear(&commit);
        trio_clear(&t);
}

/* R-5.3.1-7: a GroupContextExtensions proposal adding an external sender
 * the AS refuses (as a proposal and by value in a commit). */
static void
test_group_as_refuses_external_sender(void **state)
{
        struct trio t;
        struct tm_member ds;
        struct mls_external_senders es = { 0 };
        struct mls_extension_list ext = { 0 };
        struct mls_bytes body = { 0 }, msg = { 0 }, commit = { 0 };
        struct mls_proposal p = { 0 };

        (void)state;
        trio_init(&t, 1, NULL);
        tm_init(&ds, t.a.s, "ds");
        es.n = 1;
        es.v = calloc(1, sizeof(*es.v));
        assert_non_null(es.v);
        assert_int_equal(mls_bytes_dup(&es.v[0].signature_key, &ds.sk->pub), 0);
        cred_basic(&es.v[0].credential, "ds");
        assert_int_equal(mls_external_senders_to_bytes(&es, &body), 0);
        assert_int_equal(mls_extension_list_add(&ext, MLS_EXT_EXTERNAL_SENDERS, body.data,
                                                body.len),
                         0);
        mls_bytes_clear(&body);
        assert_int_equal(mls_extension_list_to_bytes(&ext, &body), 0);
        assert_int_equal(mls_group_make_group_context_extensions(body.data, body.len, &p), 0);
        /* bob's own AS refusing: he does not send it. */
        t.b.as_refuse = "ds";
        assert_int_equal(mls_group_propose(t.b.g, &t.b.env, &p, NULL, &msg, NULL),
                         MLS_E_BAD_CREDENTIAL);
        t.b.as_refuse = NULL;
        assert_int_equal(mls_group_propose(t.b.g, &t.b.env, &p, NULL, &msg, NULL), 0);
        t.a.as_refuse = "ds";
        expect_reject(&t.a, &msg, MLS_E_BAD_CREDENTIAL);
        tm_process_ok(&t.c, &msg);
        assert_int_equal(mls_group_commit(t.b.g, &t.b.env,
                                          &(struct mls_commit_params){ .proposals = &p,
                                                                       .n_proposals = 1,
                                                                       .no_cached = true },
                                          &commit, NULL),
                         0);
        expect_reject(&t.a, &commit, MLS_E_BAD_CREDENTIAL);
        tm_process_ok(&t.c, &commit);
        mls_proposal_clear(&p);
        mls_bytes_clear(&body);
        mls_bytes_clear(&msg);
        mls_bytes_clear(&commit);
        mls_extension_list_clear(&ext);
        mls_external_senders_clear(&es);
        tm_clear(&ds);
        trio_clear(&t);
}

/* ---- forged Welcomes (RFC 9420 sections 12.4.3, 12.4.3.1, 13.4) ---- */

/*
 * The Welcome `welcome` for member m re-made from public pieces after `edit`
 * changed its GroupInfo: m's GroupSecrets are opened with m's init key
 * (the joiner_secret), the GroupInfo decrypted, edited, signed again by
 * `signer` (the committer's key: the signature verifies with the key of the
 * leaf it names) and encrypted again under the same welcome secret; the
 * GroupSecrets (same joiner_secret and path_secret) are encrypted again to
 * m's KeyPackage. edit NULL: the same GroupInfo (the control case).
 */
static void
forge_welcome(const struct mls_bytes *welcome, const struct tm_member *m,
              void (*edit)(struct mls_group_info *gi, uint32_t arg), uint32_t arg,
              const struct mls_signer *signer, struct mls_bytes *ret)
{
        struct mls_message in = { 0 }, out = { 0 };
        struct mls_group_secrets gs = { 0 };
        struct mls_group_info gi = { 0 };
        struct mls_epoch_secrets *ks = NULL;
        struct mls_bytes gcb = { 0 };
        struct mls_welcome_new_member nm = { 0 };
        const uint8_t *ref;
        size_t idx, rl;

        assert_int_equal(mls_message_from_bytes(welcome->data, welcome->len, &in), 0);
        assert_int_equal(in.wire_format, MLS_WIRE_WELCOME);
        ref = mls_key_package_priv_ref(m->kpp, &rl);
        assert_int_equal(mls_welcome_find_ref(&in.welcome, ref, rl, &idx), 0);
        assert_int_equal(mls_welcome_decrypt_secrets(m->s, &in.welcome, idx, m->kpp->init_priv,
                                                     &gs),
                         0);
        assert_int_equal(gs.n_psks, 0);
        assert_int_equal(mls_welcome_decrypt_group_info(m->s, &in.welcome, gs.joiner_secret,
                                                        NULL, &gi),
                         0);
        if (edit)
                edit(&gi, arg);
        assert_int_equal(mls_welcome_sign_group_info(m->s, &gi, signer), 0);
        /* welcome_secret depends on joiner_secret and psk_secret only */
        assert_int_equal(mls_group_context_to_bytes(&gi.group_context, &gcb), 0);
        assert_int_equal(mls_ks_from_joiner(m->s, gs.joiner_secret, NULL, gcb.data, gcb.len, &ks),
                         0);
        nm.key_package = &m->kpp->decoded;
        nm.path_secret = gs.path_secret;
        out.version = MLS_VERSION_MLS10;
        out.wire_format = MLS_WIRE_WELCOME;
        assert_int_equal(mls_welcome_build(ks, &gi, NULL, 0, &nm, 1, mls_rng_system(),
                                           &out.welcome),
                         0);
        assert_int_equal(mls_message_to_bytes(&out, ret), 0);
        mls_message_clear(&in);
        mls_message_clear(&out);
        mls_group_secrets_clear(&gs);
        mls_group_info_clear(&gi);
        mls_ks_free(ks);
        mls_bytes_clear(&gcb);
}

/* Joins m by welcome; the joiner's state (its KeyPackage's private half)
 * is byte for byte the same afterwards, and no group is returned on
 * error. Returns the error (0: joined, the group is freed). */
static int
forged_join(struct tm_member *m, const struct mls_bytes *welcome)
{
        struct mls_key_package_priv *kps[1] = { m->kpp };
        struct mls_secret *before = NULL, *after = NULL;
        struct mls_group *g = NULL;
        int e;

        assert_int_equal(mls_key_package_priv_save(m->kpp, &before), 0);
        e = mls_group_join(welcome->data, welcome->len, NULL, 0, kps, 1, &m->opts, &m->env, &g,
                           NULL);
        assert_int_equal(mls_key_package_priv_save(m->kpp, &after), 0);
        assert_true(mls_secret_eq(before, after));
        if (e)
                assert_null(g);
        mls_group_free(g);
        mls_secret_free(before);
        mls_secret_free(after);
        return e;
}

static void
edit_add_gc_extension(struct mls_group_info *gi, uint32_t type)
{
        assert_int_equal(mls_extension_list_add(&gi->group_context.extensions, (uint16_t)type,
                                                (const uint8_t *)"x", 1),
                         0);
}

static void
edit_signer(struct mls_group_info *gi, uint32_t leaf)
{
        gi->signer = leaf;
}

/* alice creates a group and adds bob and carol (leaves 1, 2; the padded
 * width is 4, leaf 3 blank): their Welcome. */
static void
forge_setup(struct trio *t, struct mls_bytes *ret_welcome)
{
        struct mls_bytes kps[2] = { { 0 } }, commit = { 0 };
        const struct mls_suite *s = mls_suite_get(1);

        tm_init(&t->a, s, "alice");
        tm_init(&t->b, s, "bob");
        tm_init(&t->c, s, "carol");
        t->all[0] = &t->a;
        t->all[1] = &t->b;
        t->all[2] = &t->c;
        tm_create(&t->a, "forged", NULL);
        tm_key_package(&t->b, &kps[0]);
        tm_key_package(&t->c, &kps[1]);
        assert_int_equal(mls_group_add(t->a.g, &t->a.env, kps, 2,
                                       &(struct mls_commit_params){ .inline_tree = true,
                                                                    .force_path = true },
                                       &commit, ret_welcome),
                         0);
        assert_int_equal(mls_group_merge_pending(t->a.g, NULL), 0);
        mls_bytes_clear(&kps[0]);
        mls_bytes_clear(&kps[1]);
        mls_bytes_clear(&commit);
}

/* R-12.4.3-4, R-13.4-8, R-13.4-9: a GroupInfo whose GroupContext has an
 * extension the joiner does not support (type 0xff01, not in its
 * capabilities), validly signed and encrypted, is invalid: no join
 * (MLS_E_UNSUPPORTED_CAPABILITY), the joiner's state unchanged. The same
 * forgery without the extension joins (control). */
static void
test_group_join_rejects_unsupported_gc_extension(void **state)
{
        struct trio t;
        struct mls_bytes welcome = { 0 }, forged = { 0 };

        (void)state;
        forge_setup(&t, &welcome);
        forge_welcome(&welcome, &t.b, edit_add_gc_extension, 0xff01, &t.a.sk->signer, &forged);
        assert_int_equal(forged_join(&t.b, &forged), MLS_E_UNSUPPORTED_CAPABILITY);
        mls_bytes_clear(&forged);
        /* control: re-made without the change, the Welcome is accepted */
        forge_welcome(&welcome, &t.b, NULL, 0, &t.a.sk->signer, &forged);
        assert_int_equal(forged_join(&t.b, &forged), 0);
        mls_bytes_clear(&forged);
        /* and the genuine one still works after the refusals */
        tm_join(&t.b, &welcome, NULL);
        mls_bytes_clear(&welcome);
        trio_clear(&t);
}

/* R-12.4.3.1-8: the GroupInfo's signer must be a non-blank leaf in range:
 * signer = 3 (blank, in the padded width) is MLS_E_BLANK_LEAF; 4, 1000 and
 * UINT32_MAX are MLS_E_TREE_INDEX; each GroupInfo signed with alice's key
 * (which would verify against leaf 0). signer = carol's leaf with alice's
 * signature: MLS_E_BAD_SIGNATURE (the named leaf's key is used). Control:
 * signer = 0 joins. The joiner's state is unchanged by every refusal. */
static void
test_group_join_rejects_bad_group_info_signer(void **state)
{
        static const struct {
                uint32_t signer;
                int err;
        } cases[] = {
                { 3, MLS_E_BLANK_LEAF },          { 4, MLS_E_TREE_INDEX },
                { 1000, MLS_E_TREE_INDEX },       { UINT32_MAX, MLS_E_TREE_INDEX },
                { 2, MLS_E_BAD_SIGNATURE },       { 0, 0 },
        };
        struct trio t;
        struct mls_bytes welcome = { 0 }, forged = { 0 };

        (void)state;
        forge_setup(&t, &welcome);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                forge_welcome(&welcome, &t.b, edit_signer, cases[i].signer, &t.a.sk->signer,
                              &forged);
                assert_int_equal(forged_join(&t.b, &forged), cases[i].err);
                mls_bytes_clear(&forged);
        }
        tm_join(&t.b, &welcome, NULL);
        tm_join(&t.c, &welcome, NULL);
        tm_check_same(t.all, 3);
        mls_bytes_clear(&welcome);
        trio_clear(&t);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_group_rejects_bad_signature),
                cmocka_unit_test(test_group_rejects_bad_membership_tag),
                cmocka_unit_test(test_group_rejects_wrong_epoch_and_group),
                cmocka_unit_test(test_group_rejects_bad_confirmation_tag),
                cmocka_unit_test(test_group_rejects_bad_parent_hash),
                cmocka_unit_test(test_group_rejects_truncated_and_trailing),
                cmocka_unit_test(test_group_rejects_remove_of_blank_leaf),
                cmocka_unit_test(test_group_rejects_committer_removing_itself),
                cmocka_unit_test(test_group_rejects_update_by_committer),
                cmocka_unit_test(test_group_rejects_unknown_proposal_ref),
                cmocka_unit_test(test_group_rejects_unknown_psk),
                cmocka_unit_test(test_group_rejects_bad_psk_proposals),
                cmocka_unit_test(test_group_rejects_reinit_not_alone),
                cmocka_unit_test(test_group_rejects_external_init_in_member_commit),
                cmocka_unit_test(test_group_rejects_missing_path),
                cmocka_unit_test(test_group_rejects_duplicate_targets),
                cmocka_unit_test(test_group_rejects_duplicate_keys),
                cmocka_unit_test(test_group_rejects_unsupported_suite_and_version),
                cmocka_unit_test(test_group_rejects_signature_key_of_other_scheme),
                cmocka_unit_test(test_group_rejects_missing_required_capability),
                cmocka_unit_test(test_group_rejects_expired_lifetime),
                cmocka_unit_test(test_group_join_rejects_tree_hash_mismatch),
                cmocka_unit_test(test_group_rejects_bad_external_commits),
                cmocka_unit_test(test_group_rejects_bad_external_resync),
                cmocka_unit_test(test_group_validates_received_leaf_nodes),
                cmocka_unit_test(test_group_rejects_bad_proposals),
                cmocka_unit_test(test_group_join_rejects_bad_branch),
                cmocka_unit_test(test_group_join_rejects_bad_reinit),
                cmocka_unit_test(test_group_gce_judges_adds_of_same_commit),
                cmocka_unit_test(test_group_rejects_unknown_proposal_type),
                cmocka_unit_test(test_group_as_refuses_key_package_for_add),
                cmocka_unit_test(test_group_as_refuses_received_add),
                cmocka_unit_test(test_group_as_refuses_join),
                cmocka_unit_test(test_group_as_refuses_update_credential),
                cmocka_unit_test(test_group_as_refuses_commit_path_credential),
                cmocka_unit_test(test_group_as_refuses_external_sender),
                cmocka_unit_test(test_group_join_rejects_unsupported_gc_extension),
                cmocka_unit_test(test_group_join_rejects_bad_group_info_signer),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
