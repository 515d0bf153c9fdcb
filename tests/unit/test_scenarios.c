/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scenario tests of the group state machine (mls/group.h) with several
 * in-process members: every commit is created by one member and processed
 * by all others (including members that only ever listen), and after each
 * epoch all members must agree on the epoch authenticator, the tree and the
 * GroupContext (tm_check_same).
 *
 * R-11-4, R-11-5, R-11-7 (creation), R-12.4.1-1 .. -12, R-12.4.2-*,
 * R-12.4.3.1-* (Welcome), R-12.4.3.2-* (external join), R-12.1.8-*
 * (external senders), R-8.4-*, R-8.6 (PSKs), R-11.2-* (reinit), R-11.3-*
 * (branch), R-15.3-1 (out of order), R-14-3 (pending commit), R-12.2-7.
 */
#include "tests/unit/group_test_util.h"
#include "mls/group-internal.h" /* the random run reads the proposal cache */

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define MAXM 8

struct world {
        const struct mls_suite *s;
        struct tm_member m[MAXM];
        struct tm_member *all[MAXM];
        size_t n;
};

static void
world_init(struct world *w, uint16_t suite, size_t n)
{
        static const char *names[MAXM] = { "alice", "bob", "carol", "dave",
                                           "erin",  "frank", "grace", "heidi" };

        memset(w, 0, sizeof(*w));
        w->s = mls_suite_get(suite);
        assert_non_null(w->s);
        w->n = n;
        for (size_t i = 0; i < n; i++) {
                tm_init(&w->m[i], w->s, names[i]);
                w->all[i] = &w->m[i];
        }
}

static void
world_clear(struct world *w)
{
        for (size_t i = 0; i < w->n; i++)
                tm_clear(&w->m[i]);
}

/* committer adds the members `who` (indices) in one commit; they join. */
static void
add_members(struct world *w, size_t committer, const size_t *who, size_t n, bool inline_tree)
{
        struct mls_bytes kps[MAXM] = { { 0 } }, commit = { 0 }, welcome = { 0 }, tree = { 0 };
        /* the creator's policy prefers the world's suite (R-11-2) */
        uint16_t pref = w->s->id;
        struct mls_commit_params p = { .inline_tree = inline_tree,
                                       .suite_preference = &pref,
                                       .n_suite_preference = 1 };
        struct tm_member *c = &w->m[committer];

        for (size_t i = 0; i < n; i++)
                tm_key_package(&w->m[who[i]], &kps[i]);
        assert_int_equal(mls_group_add(c->g, &c->env, kps, n, &p, &commit, &welcome), 0);
        tm_deliver(c, &commit, w->all, w->n);
        if (!inline_tree)
                assert_int_equal(mls_group_ratchet_tree(c->g, &tree), 0);
        for (size_t i = 0; i < n; i++) {
                tm_join(&w->m[who[i]], &welcome, inline_tree ? NULL : &tree);
                mls_bytes_clear(&kps[i]);
        }
        tm_check_same(w->all, w->n);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&tree);
}

static void
commit_and_deliver(struct world *w, size_t committer, const struct mls_commit_params *p)
{
        struct mls_bytes commit = { 0 }, welcome = { 0 }, gid_before = { 0 };
        struct tm_member *c = &w->m[committer];
        uint64_t epoch_before = mls_group_epoch(c->g);
        const uint8_t *gid;
        size_t gl;
        int e;

        gid = mls_group_id(c->g, &gl);
        assert_int_equal(mls_bytes_copy(&gid_before, gid, gl), 0);
        e = mls_group_commit(c->g, &c->env, p, &commit, &welcome);
        if (e)
                fprintf(stderr, "commit: %s\n", mls_err_name(e));
        assert_int_equal(e, 0);
        tm_deliver(c, &commit, w->all, w->n);
        tm_check_same(w->all, w->n);
        /* R-8.1-2: across epochs the group_id never changes and the epoch
         * rises by exactly one per commit. */
        gid = mls_group_id(c->g, &gl);
        assert_int_equal(gl, gid_before.len);
        assert_memory_equal(gid, gid_before.data, gl);
        assert_int_equal(mls_group_epoch(c->g), epoch_before + 1);
        mls_bytes_clear(&gid_before);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
}

/* Sends proposal message msg to everyone but `from`. */
static void
deliver_proposal(struct world *w, size_t from, const struct mls_bytes *msg)
{
        for (size_t i = 0; i < w->n; i++)
                if (i != from && w->m[i].g && !mls_group_is_removed(w->m[i].g))
                        tm_process_ok(&w->m[i], msg);
}

/* ---- lifecycle ---- */

static void
lifecycle(uint16_t suite, bool private_handshake)
{
        /* R-12.1.1-2, R-12.1.2-2, R-12.1.3-2, R-12.3-2, R-12.3-4 (adds, updates, removes agree with every member), R-12.4-3, R-12.4-4 (bob commits dave's cached Update), R-12.4.1-2, R-12.4.1-4, R-12.4.1-5, R-12.4.1-6, R-12.4.1-7, R-12.4.1-8, R-12.4.1-10, R-12.4.1-12, R-12.4.2-4, R-12.4.2-6, R-12.4.2-12, R-12.4.2-13, R-12.4.2-14, R-12.4.2-15, R-12.4.2-16, R-12.4.3-1, R-12.4.3.1-4, R-12.4.3.1-7, R-12.4.3.1-10, R-12.4.3.1-17, R-12.4.3.1-18, R-12.4.3.1-21, R-12.1.1-1, R-12.1.2-1, R-10.1-2, R-10.1-4 */
        struct world w;
        struct mls_bytes msg = { 0 }, commit = { 0 };
        struct mls_process_result r = { 0 };
        const size_t b = 1, cd[2] = { 2, 3 }, e = 4;

        world_init(&w, suite, 5);
        for (size_t i = 0; i < w.n; i++)
                w.m[i].opts.handshake_private = private_handshake;
        /* R-11-5: a one-member group at epoch 0. */
        tm_create(&w.m[0], "lifecycle", NULL);
        assert_int_equal(mls_group_epoch(w.m[0].g), 0);
        assert_int_equal(mls_group_member_count(w.m[0].g), 1);
        add_members(&w, 0, &b, 1, true);
        assert_int_equal(mls_group_epoch(w.m[1].g), 1);
        /* two at once, tree given separately */
        add_members(&w, 0, cd, 2, false);
        assert_int_equal(mls_group_member_count(w.m[0].g), 4);
        tm_app(&w.m[0], w.all, w.n, "hello from alice");
        tm_app(&w.m[1], w.all, w.n, "hello from bob");
        tm_app(&w.m[3], w.all, w.n, "hello from dave");
        /* carol: a full commit (path) */
        assert_int_equal(mls_group_update(w.m[2].g, &w.m[2].env, NULL, &commit), 0);
        tm_deliver(&w.m[2], &commit, w.all, w.n);
        tm_check_same(w.all, w.n);
        mls_bytes_clear(&commit);
        /* dave proposes an Update, bob commits it by reference */
        assert_int_equal(mls_group_propose_update(w.m[3].g, &w.m[3].env, NULL, NULL, &msg, NULL),
                         0);
        deliver_proposal(&w, 3, &msg);
        mls_bytes_clear(&msg);
        assert_int_equal(mls_group_proposal_count(w.m[1].g), 1);
        /* R-12.4-2: dave saw a proposal: no application data before a
         * commit. */
        assert_int_equal(mls_group_encrypt(w.m[3].g, &w.m[3].env, (const uint8_t *)"x", 1, NULL,
                                           &msg),
                         MLS_E_PROPOSALS_PENDING);
        commit_and_deliver(&w, 1, NULL);
        assert_int_equal(mls_group_proposal_count(w.m[3].g), 0);
        tm_app(&w.m[3], w.all, w.n, "dave after update");
        /* erin added with a forced path and external_pub in the GroupInfo */
        {
                struct mls_bytes kp = { 0 }, welcome = { 0 };
                struct mls_commit_params p = { .inline_tree = true, .force_path = true,
                                               .external_pub = true };

                tm_key_package(&w.m[e], &kp);
                assert_int_equal(mls_group_add(w.m[0].g, &w.m[0].env, &kp, 1, &p, &commit,
                                               &welcome),
                                 0);
                /* the Process result (D-Bus "added") */
                assert_int_equal(mls_group_process(w.m[1].g, &w.m[1].env, commit.data, commit.len,
                                                   &r),
                                 0);
                assert_int_equal(r.added.n, 1);
                assert_int_equal(r.epoch, mls_group_epoch(w.m[1].g) - 1);
                mls_process_result_clear(&r);
                for (size_t i = 2; i < 4; i++)
                        tm_process_ok(&w.m[i], &commit);
                assert_int_equal(mls_group_merge_pending(w.m[0].g, &r), 0);
                assert_true(r.own_commit);
                assert_int_equal(r.added.n, 1);
                tm_join(&w.m[e], &welcome, NULL);
                assert_int_equal(mls_group_own_leaf(w.m[e].g), r.added.v[0]);
                mls_process_result_clear(&r);
                tm_check_same(w.all, w.n);
                mls_bytes_clear(&kp);
                mls_bytes_clear(&welcome);
                mls_bytes_clear(&commit);
        }
        tm_app(&w.m[e], w.all, w.n, "erin is here");
        /* bob removes carol */
        {
                uint32_t leaf = mls_group_own_leaf(w.m[2].g);

                assert_int_equal(mls_group_remove(w.m[1].g, &w.m[1].env, &leaf, 1, NULL, &commit),
                                 0);
                assert_int_equal(mls_group_process(w.m[2].g, &w.m[2].env, commit.data, commit.len,
                                                   &r),
                                 0);
                /* the Process result (D-Bus "removed", "removed_leaves") */
                assert_true(r.removed);
                assert_int_equal(r.content_type, MLS_CONTENT_COMMIT);
                assert_int_equal(r.sender_type, MLS_SENDER_MEMBER);
                assert_int_equal(r.sender_index, mls_group_own_leaf(w.m[1].g));
                assert_int_equal(r.removed_leaves.n, 1);
                assert_int_equal(r.removed_leaves.v[0], leaf);
                mls_process_result_clear(&r);
                assert_true(mls_group_is_removed(w.m[2].g));
                /* dave sees the same, without being removed */
                assert_int_equal(mls_group_process(w.m[3].g, &w.m[3].env, commit.data, commit.len,
                                                   &r),
                                 0);
                assert_false(r.removed);
                assert_int_equal(r.removed_leaves.n, 1);
                assert_int_equal(r.removed_leaves.v[0], leaf);
                assert_int_equal(r.added.n, 0);
                mls_process_result_clear(&r);
                /* a removed member sends nothing */
                assert_int_equal(mls_group_encrypt(w.m[2].g, &w.m[2].env, (const uint8_t *)"x", 1,
                                                   NULL, &msg),
                                 MLS_E_REMOVED);
                tm_process_ok(&w.m[0], &commit);
                tm_process_ok(&w.m[e], &commit);
                assert_int_equal(mls_group_merge_pending(w.m[1].g, NULL), 0);
                tm_check_same(w.all, w.n);
                mls_bytes_clear(&commit);
                assert_int_equal(mls_group_member_count(w.m[0].g), 4);
        }
        /* erin leaves: her Remove proposal, committed by dave */
        assert_int_equal(mls_group_leave(w.m[e].g, &w.m[e].env, &msg), 0);
        deliver_proposal(&w, e, &msg);
        mls_bytes_clear(&msg);
        {
                assert_int_equal(mls_group_commit(w.m[3].g, &w.m[3].env, NULL, &commit, NULL), 0);
                assert_int_equal(mls_group_process(w.m[e].g, &w.m[e].env, commit.data, commit.len,
                                                   &r),
                                 0);
                assert_true(r.removed);
                mls_process_result_clear(&r);
                tm_deliver(&w.m[3], &commit, w.all, w.n);
                tm_check_same(w.all, w.n);
                mls_bytes_clear(&commit);
        }
        assert_int_equal(mls_group_member_count(w.m[0].g), 3);
        tm_app(&w.m[1], w.all, w.n, "three left");
        /* every state survives save/load */
        for (size_t i = 0; i < w.n; i++) {
                struct mls_group *l;

                if (!w.m[i].g)
                        continue;
                l = tm_round_trip(w.m[i].g);
                mls_group_free(w.m[i].g);
                w.m[i].g = l;
        }
        commit_and_deliver(&w, 0, &(struct mls_commit_params){ .force_path = true });
        tm_app(&w.m[0], w.all, w.n, "after reload");
        tm_app(&w.m[3], w.all, w.n, "after reload too");
        world_clear(&w);
}

static void
test_scenario_lifecycle_suite1(void **state)
{
        (void)state;
        lifecycle(1, false);
}

static void
test_scenario_lifecycle_suite2(void **state)
{
        (void)state;
        lifecycle(2, false);
}

static void
test_scenario_lifecycle_suite3_private_handshake(void **state)
{
        (void)state;
        lifecycle(3, true);
}

static void
test_scenario_lifecycle_all_suites(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++)
                lifecycle(ids[i], i % 2 == 1);
}

/* ---- external join (R-12.4.3.2-*) ---- */

static void
test_scenario_external_join_and_resync(void **state)
{
        /* R-12.4.1-3, R-12.4.2-8 (leftmost blank leaf, or a new one), R-12.1.6-2, R-12.4.3.2-2, R-12.4.3.2-3, R-12.4.3.2-5, R-12.4.3.2-6, R-12.4.3.2-7, R-12.4.3.2-8, R-12.2-17, R-12.2-18, R-12.2-19, R-12.2-20 (accepted resync) */
        struct world w;
        struct mls_bytes gi = { 0 }, commit = { 0 };
        struct mls_external_join_params p = { 0 };
        const size_t b = 1;

        static const struct tm_psk psks[] = { { "ext-psk", { 7, 7, 7 } } };
        struct mls_bytes psk_id = { .data = (uint8_t *)"ext-psk", .len = 7 };

        (void)state;
        world_init(&w, 1, 4);
        for (size_t i = 0; i < w.n; i++) {
                w.m[i].psks = psks;
                w.m[i].n_psks = 1;
        }
        tm_create(&w.m[0], "external", NULL);
        add_members(&w, 0, &b, 1, true);
        /* R-12.4.1-9: a GroupInfo with external_pub and the tree */
        assert_int_equal(mls_group_group_info(w.m[0].g, &w.m[0].env, true, true, &gi), 0);
        p.leaf = tm_leaf(&w.m[2]);
        /* with an external PSK (R-12.2-18: PreSharedKey proposals allowed) */
        p.psk_ids = &psk_id;
        p.n_psk_ids = 1;
        assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &p, &w.m[2].opts,
                                                 &w.m[2].env, &w.m[2].g, &commit),
                         0);
        for (size_t i = 0; i < 2; i++)
                tm_process_ok(&w.m[i], &commit);
        tm_check_same(w.all, 3);
        assert_int_equal(mls_group_member_count(w.m[0].g), 3);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&gi);
        p.psk_ids = NULL;
        p.n_psk_ids = 0;
        tm_app(&w.m[2], w.all, 3, "joined from outside");
        tm_app(&w.m[0], w.all, 3, "welcome carol");
        /* Resync: bob rejoins with a new key, removing his old leaf. The
         * tree given separately this time. */
        {
                struct tm_member *b2 = &w.m[3];
                struct mls_bytes tree = { 0 };
                struct mls_process_result r = { 0 };

                tm_clear(b2);
                tm_init(b2, w.s, "bob");
                assert_int_equal(mls_group_group_info(w.m[2].g, &w.m[2].env, true, false, &gi), 0);
                assert_int_equal(mls_group_ratchet_tree(w.m[2].g, &tree), 0);
                p.leaf = tm_leaf(b2);
                p.remove_prior = true;
                p.prior_leaf = mls_group_own_leaf(w.m[1].g);
                assert_int_equal(mls_group_join_external(gi.data, gi.len, tree.data, tree.len, &p,
                                                         &b2->opts, &b2->env, &b2->g, &commit),
                                 0);
                assert_int_equal(mls_group_process(w.m[1].g, &w.m[1].env, commit.data, commit.len,
                                                   &r),
                                 0);
                assert_true(r.removed);
                mls_process_result_clear(&r);
                tm_process_ok(&w.m[0], &commit);
                tm_process_ok(&w.m[2], &commit);
                tm_check_same(w.all, 4);
                assert_int_equal(mls_group_member_count(w.m[0].g), 3);
                mls_bytes_clear(&tree);
                mls_bytes_clear(&commit);
                mls_bytes_clear(&gi);
        }
        tm_app(&w.m[3], w.all, 4, "bob is back");
        /* a full tree: no blank leaf, the joiner extends it */
        {
                struct tm_member x;

                tm_init(&x, w.s, "xavier");
                assert_int_equal(mls_group_group_info(w.m[0].g, &w.m[0].env, true, true, &gi), 0);
                p = (struct mls_external_join_params){ .leaf = tm_leaf(&x) };
                /* fill the blank leaf first */
                assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &p, &x.opts,
                                                         &x.env, &x.g, &commit),
                                 0);
                tm_process_ok(&w.m[0], &commit);
                tm_process_ok(&w.m[2], &commit);
                tm_process_ok(&w.m[3], &commit);
                mls_bytes_clear(&commit);
                mls_bytes_clear(&gi);
                assert_int_equal(mls_group_member_count(w.m[0].g), 4);
                {
                        struct tm_member y;
                        struct tm_member *v[5] = { &w.m[0], &w.m[2], &w.m[3], &x, &y };

                        tm_init(&y, w.s, "yvonne");
                        assert_int_equal(mls_group_group_info(w.m[0].g, &w.m[0].env, true, true,
                                                              &gi),
                                         0);
                        p = (struct mls_external_join_params){ .leaf = tm_leaf(&y) };
                        assert_int_equal(mls_group_join_external(gi.data, gi.len, NULL, 0, &p,
                                                                 &y.opts, &y.env, &y.g, &commit),
                                         0);
                        for (size_t i = 0; i < 4; i++)
                                tm_process_ok(v[i], &commit);
                        tm_check_same(v, 5);
                        assert_int_equal(mls_group_member_count(y.g), 5);
                        mls_bytes_clear(&commit);
                        mls_bytes_clear(&gi);
                        tm_clear(&y);
                }
                tm_clear(&x);
        }
        world_clear(&w);
}

/* ---- external senders (R-12.1.8-*) ---- */

static void
test_scenario_external_sender_add_remove(void **state)
{
        /* R-12.1.8-3, R-12.1.8-4, R-12.1.8.1-1, R-6.1-8 (new_member_proposal) */
        struct world w;
        struct tm_member server;
        struct mls_external_senders es = { 0 };
        struct mls_extension_list ext = { 0 };
        struct mls_bytes body = { 0 }, kp = { 0 }, msg = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_proposal p = { 0 };
        const size_t b = 1;
        const size_t gl = 11;
        const uint8_t *gid = (const uint8_t *)"ext-senders";

        (void)state;
        world_init(&w, 1, 4);
        tm_init(&server, w.s, "server");
        es.n = 1;
        es.v = calloc(1, sizeof(*es.v));
        assert_non_null(es.v);
        assert_int_equal(mls_bytes_dup(&es.v[0].signature_key, &server.sk->pub), 0);
        assert_int_equal(mls_credential_to_bytes(&server.cred, &body), 0);
        assert_int_equal(mls_credential_from_bytes(body.data, body.len, &es.v[0].credential), 0);
        mls_bytes_clear(&body);
        assert_int_equal(mls_external_senders_to_bytes(&es, &body), 0);
        assert_int_equal(mls_extension_list_add(&ext, MLS_EXT_EXTERNAL_SENDERS, body.data, body.len),
                         0);
        mls_bytes_clear(&body);
        tm_create(&w.m[0], "ext-senders", &ext);
        add_members(&w, 0, &b, 1, true);
        /* the server proposes to add carol */
        tm_key_package(&w.m[2], &kp);
        p.proposal_type = MLS_PROPOSAL_ADD;
        assert_int_equal(mls_key_package_from_bytes(kp.data + 4, kp.len - 4, &p.add.key_package), 0);
        assert_int_equal(mls_external_proposal_create(w.s, gid, gl, mls_group_epoch(w.m[0].g),
                                                      MLS_SENDER_EXTERNAL, 0, &p, &server.env,
                                                      &msg),
                         0);
        mls_proposal_clear(&p);
        tm_process_ok(&w.m[0], &msg);
        tm_process_ok(&w.m[1], &msg);
        mls_bytes_clear(&msg);
        /* bob commits it by reference */
        assert_int_equal(mls_group_commit(w.m[1].g, &w.m[1].env,
                                          &(struct mls_commit_params){ .inline_tree = true },
                                          &commit, &welcome),
                         0);
        tm_deliver(&w.m[1], &commit, w.all, w.n);
        tm_join(&w.m[2], &welcome, NULL);
        tm_check_same(w.all, w.n);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        /* dave asks to join himself (new_member_proposal) */
        tm_key_package(&w.m[3], &kp);
        p.proposal_type = MLS_PROPOSAL_ADD;
        assert_int_equal(mls_key_package_from_bytes(kp.data + 4, kp.len - 4, &p.add.key_package), 0);
        assert_int_equal(mls_external_proposal_create(w.s, gid, gl, mls_group_epoch(w.m[0].g),
                                                      MLS_SENDER_NEW_MEMBER_PROPOSAL, 0, &p,
                                                      &w.m[3].env, &msg),
                         0);
        mls_proposal_clear(&p);
        deliver_proposal(&w, 3, &msg);
        mls_bytes_clear(&msg);
        assert_int_equal(mls_group_commit(w.m[0].g, &w.m[0].env,
                                          &(struct mls_commit_params){ .inline_tree = true },
                                          &commit, &welcome),
                         0);
        tm_deliver(&w.m[0], &commit, w.all, w.n);
        tm_join(&w.m[3], &welcome, NULL);
        tm_check_same(w.all, w.n);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        /* the server proposes to remove carol */
        p.proposal_type = MLS_PROPOSAL_REMOVE;
        p.remove.removed = mls_group_own_leaf(w.m[2].g);
        assert_int_equal(mls_external_proposal_create(w.s, gid, gl, mls_group_epoch(w.m[0].g),
                                                      MLS_SENDER_EXTERNAL, 0, &p, &server.env,
                                                      &msg),
                         0);
        for (size_t i = 0; i < 4; i++)
                tm_process_ok(&w.m[i], &msg);
        mls_bytes_clear(&msg);
        assert_int_equal(mls_group_commit(w.m[0].g, &w.m[0].env, NULL, &commit, NULL), 0);
        tm_deliver(&w.m[0], &commit, w.all, w.n);
        assert_true(mls_group_is_removed(w.m[2].g));
        tm_check_same(w.all, w.n);
        mls_bytes_clear(&commit);
        /* R-12.1.8-1, R-12.1.8-2: an external sender outside the
         * external_senders extension (the authorisation) is refused, state
         * unchanged */
        p.proposal_type = MLS_PROPOSAL_REMOVE;
        p.remove.removed = mls_group_own_leaf(w.m[3].g);
        assert_int_equal(mls_external_proposal_create(w.s, gid, gl, mls_group_epoch(w.m[0].g),
                                                      MLS_SENDER_EXTERNAL, 1, &p, &server.env,
                                                      &msg),
                         0);
        {
                struct mls_secret *before = tm_save(w.m[0].g);

                assert_int_equal(tm_process(&w.m[0], &msg), MLS_E_TREE_INDEX);
                tm_assert_state(w.m[0].g, before);
                mls_secret_free(before);
        }
        mls_bytes_clear(&msg);
        mls_external_senders_clear(&es);
        mls_extension_list_clear(&ext);
        tm_clear(&server);
        world_clear(&w);
}

/* ---- PSKs (R-8.4-*, R-8.6, R-12.1.4-*, R-12.4.1-11) ---- */

static void
test_scenario_psks(void **state)
{
        /* R-12.1.4-5, R-12.3-5, R-12.4.2-5, R-12.4.1-11, R-8.6 (resumption PSK of a past epoch),
         * R-8.4-4 (the resumption PSK of epoch 1 is found among the kept
         * values), R-8.4-1 (carol's Welcome names the commit's PSK in the
         * same order: she reaches the same epoch, tm_check_same) */
        static const struct tm_psk psks[] = {
                { "shared-1", { 1, 2, 3, 4, 5 } },
                { "shared-2", { 9, 9, 9 } },
        };
        struct world w;
        struct mls_proposal p[3] = { { 0 } };
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 }, msg = { 0 };
        const size_t b = 1;
        size_t gl;
        const uint8_t *gid;

        (void)state;
        world_init(&w, 2, 3);
        for (size_t i = 0; i < w.n; i++) {
                w.m[i].psks = psks;
                w.m[i].n_psks = 2;
        }
        tm_create(&w.m[0], "psk-group", NULL);
        add_members(&w, 0, &b, 1, true);
        commit_and_deliver(&w, 1, NULL);
        gid = mls_group_id(w.m[0].g, &gl);
        /* resumption PSK of epoch 1 plus an external one, by value */
        assert_int_equal(mls_group_make_psk_resumption(w.m[0].g, &w.m[0].env, gid, gl, 1, &p[0]),
                         0);
        assert_int_equal(mls_group_make_psk_external(w.m[0].g, &w.m[0].env,
                                                     (const uint8_t *)"shared-1", 8, &p[1]),
                         0);
        /* R-12.1.4-4: the nonce is fresh and KDF.Nh long */
        assert_int_equal(p[0].psk.psk.psk_nonce.len, w.s->hash_len);
        assert_false(mls_bytes_eq(&p[0].psk.psk.psk_nonce, &p[1].psk.psk.psk_nonce));
        commit_and_deliver(&w, 0, &(struct mls_commit_params){ .proposals = p, .n_proposals = 2 });
        for (size_t i = 0; i < 2; i++)
                mls_proposal_clear(&p[i]);
        /* carol is added in a commit with an external PSK: her Welcome
         * names it (R-12.4.1-11) */
        gid = mls_group_id(w.m[0].g, &gl);
        assert_int_equal(mls_group_make_psk_external(w.m[0].g, &w.m[0].env,
                                                     (const uint8_t *)"shared-1", 8, &p[1]),
                         0);
        tm_key_package(&w.m[2], &kp);
        assert_int_equal(mls_group_make_add(w.m[0].g, &w.m[0].env, kp.data, kp.len, &p[2]), 0);
        assert_int_equal(mls_group_commit(w.m[0].g, &w.m[0].env,
                                          &(struct mls_commit_params){ .proposals = p + 1,
                                                                       .n_proposals = 2,
                                                                       .inline_tree = true },
                                          &commit, &welcome),
                         0);
        tm_deliver(&w.m[0], &commit, w.all, w.n);
        tm_join(&w.m[2], &welcome, NULL);
        tm_check_same(w.all, w.n);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        for (size_t i = 0; i < 3; i++)
                mls_proposal_clear(&p[i]);
        /* a PSK proposal sent on its own, committed by reference */
        assert_int_equal(mls_group_make_psk_external(w.m[1].g, &w.m[1].env,
                                                     (const uint8_t *)"shared-2", 8, &p[0]),
                         0);
        assert_int_equal(mls_group_propose(w.m[1].g, &w.m[1].env, &p[0], NULL, &msg, NULL), 0);
        deliver_proposal(&w, 1, &msg);
        mls_bytes_clear(&msg);
        mls_proposal_clear(&p[0]);
        commit_and_deliver(&w, 2, NULL);
        tm_app(&w.m[2], w.all, w.n, "psk world");
        world_clear(&w);
}

/* ---- ReInit (R-11.2-*, R-12.4.1-13, R-12.4.1-14, R-12.4.2-19/20) ---- */

static void
test_scenario_reinit_to_other_suite(void **state)
{
        /* R-11.2-1, R-11.2-2, R-11.2-3, R-11.2-4, R-12.1.5-2, R-12.4.1-13, R-12.4.1-14, R-12.4.2-19, R-12.4.2-20, R-12.4.3.1-24, R-12.4.3.1-25 (accepting path) */
        struct world w;
        struct tm_member a3, b3;
        struct mls_proposal p = { 0 };
        struct mls_bytes msg = { 0 }, commit = { 0 }, kp = { 0 }, welcome = { 0 };
        struct mls_process_result r = { 0 };
        struct mls_reinit ri = { 0 };
        struct mls_group *ng = NULL;
        const size_t b = 1;

        (void)state;
        world_init(&w, 1, 2);
        tm_create(&w.m[0], "reinit-old", NULL);
        add_members(&w, 0, &b, 1, true);
        assert_int_equal(mls_group_make_reinit((const uint8_t *)"reinit-new", 10, 3, NULL, 0, &p),
                         0);
        assert_int_equal(mls_group_propose(w.m[1].g, &w.m[1].env, &p, NULL, &msg, NULL), 0);
        mls_proposal_clear(&p);
        tm_process_ok(&w.m[0], &msg);
        mls_bytes_clear(&msg);
        assert_int_equal(mls_group_commit(w.m[0].g, &w.m[0].env, NULL, &commit, NULL), 0);
        assert_int_equal(mls_group_process(w.m[1].g, &w.m[1].env, commit.data, commit.len, &r), 0);
        assert_true(r.reinit);
        mls_process_result_clear(&r);
        assert_int_equal(mls_group_merge_pending(w.m[0].g, &r), 0);
        assert_true(r.reinit);
        mls_process_result_clear(&r);
        mls_bytes_clear(&commit);
        tm_check_same(w.all, w.n);
        /* R-12.4.2-19: the old group sends nothing more */
        assert_int_equal(mls_group_encrypt(w.m[0].g, &w.m[0].env, (const uint8_t *)"x", 1, NULL,
                                           &msg),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_group_update(w.m[1].g, &w.m[1].env, NULL, &commit),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_group_reinit_params(w.m[1].g, &ri), 0);
        assert_int_equal(ri.cipher_suite, 3);
        mls_reinit_clear(&ri);
        /* the new group in suite 3, with new signature keys */
        tm_init(&a3, mls_suite_get(3), "alice");
        tm_init(&b3, mls_suite_get(3), "bob");
        tm_key_package(&b3, &kp);
        {
                struct mls_leaf_params lp = tm_leaf(&a3);

                assert_int_equal(mls_group_reinit(w.m[0].g, &a3.env, &lp, &kp, 1, NULL, &ng,
                                                  &welcome),
                                 0);
        }
        /* R-11.2-3: epoch 1 */
        assert_int_equal(mls_group_epoch(ng), 1);
        assert_int_equal(mls_group_suite(ng)->id, 3);
        /* bob joins, checking against his old group (R-12.4.3.1-25) */
        b3.others[b3.n_others++] = w.m[1].g;
        w.m[1].g = NULL;
        tm_join(&b3, &welcome, NULL);
        a3.g = ng;
        {
                struct tm_member *v[2] = { &a3, &b3 };

                tm_check_same(v, 2);
                tm_app(&a3, v, 2, "new suite");
                tm_app(&b3, v, 2, "indeed");
        }
        mls_bytes_clear(&kp);
        mls_bytes_clear(&welcome);
        tm_clear(&a3);
        tm_clear(&b3);
        world_clear(&w);
}

/* ---- branch (R-11.3-*) ---- */

static void
test_scenario_branch(void **state)
{
        /* R-11.3-1, R-11.3-2, R-11.3-4, R-11.3-5, R-12.4.3.1-24, R-12.4.3.1-26 (accepting path), R-11.3-6 (committer side) */
        struct world w;
        struct tm_member a2, c2;
        struct mls_bytes kp = { 0 }, welcome = { 0 };
        struct mls_group *ng = NULL;
        const size_t bc[2] = { 1, 2 };

        (void)state;
        world_init(&w, 3, 3);
        tm_create(&w.m[0], "trunk", NULL);
        add_members(&w, 0, bc, 2, true);
        /* alice branches with carol only */
        tm_init(&c2, w.s, "carol");
        c2.others[c2.n_others++] = w.m[2].g;
        w.m[2].g = NULL;
        tm_key_package(&c2, &kp);
        {
                struct mls_leaf_params lp = tm_leaf(&w.m[0]);

                assert_int_equal(mls_group_branch(w.m[0].g, &w.m[0].env, (const uint8_t *)"twig",
                                                  4, &lp, &kp, 1, NULL, &ng, &welcome),
                                 0);
        }
        assert_int_equal(mls_group_epoch(ng), 1);
        tm_join(&c2, &welcome, NULL);
        memset(&a2, 0, sizeof(a2));
        tm_init(&a2, w.s, "alice2");
        a2.g = ng;
        a2.env.signer = &w.m[0].sk->signer;
        {
                struct tm_member *v[2] = { &a2, &c2 };

                tm_check_same(v, 2);
                tm_app(&c2, v, 2, "in the branch");
        }
        /* R-11.3-6: a member who was not in the old group is refused */
        {
                struct tm_member z;
                struct mls_bytes kz = { 0 }, wz = { 0 };
                struct mls_group *gz = NULL;
                struct mls_leaf_params lp = tm_leaf(&w.m[0]);

                tm_init(&z, w.s, "zed");
                tm_key_package(&z, &kz);
                assert_int_equal(mls_group_branch(w.m[0].g, &w.m[0].env, (const uint8_t *)"twig2",
                                                  5, &lp, &kz, 1, NULL, &gz, &wz),
                                 MLS_E_BAD_CREDENTIAL);
                mls_bytes_clear(&kz);
                tm_clear(&z);
        }
        mls_bytes_clear(&kp);
        mls_bytes_clear(&welcome);
        tm_clear(&a2);
        tm_clear(&c2);
        world_clear(&w);
}

/* ---- out of order application messages (R-15.3-1 .. -3) ---- */

static void
test_scenario_out_of_order(void **state)
{
        struct world w;
        struct mls_bytes m[8] = { { 0 } }, commit = { 0 };
        struct mls_process_result r = { 0 };
        struct mls_secret *before;
        const size_t bc[2] = { 1, 2 };

        (void)state;
        world_init(&w, 1, 3);
        tm_create(&w.m[0], "ooo", NULL);
        add_members(&w, 0, bc, 2, true);
        for (size_t i = 0; i < 5; i++) {
                char t[8];

                snprintf(t, sizeof(t), "m%zu", i);
                assert_int_equal(mls_group_encrypt(w.m[0].g, &w.m[0].env, (const uint8_t *)t,
                                                   strlen(t), NULL, &m[i]),
                                 0);
        }
        /* inside the window, any order */
        static const size_t order[] = { 4, 2, 0, 3, 1 };

        for (size_t k = 0; k < 5; k++) {
                size_t i = order[k];

                assert_int_equal(mls_group_process(w.m[1].g, &w.m[1].env, m[i].data, m[i].len, &r),
                                 0);
                assert_int_equal(r.content.len, 2);
                assert_int_equal(r.content.data[1], '0' + i);
                mls_process_result_clear(&r);
        }
        /* R-9.2-5: a replay */
        before = tm_save(w.m[1].g);
        assert_int_equal(mls_group_process(w.m[1].g, &w.m[1].env, m[2].data, m[2].len, &r),
                         MLS_E_GENERATION_CONSUMED);
        tm_assert_state(w.m[1].g, before);
        mls_secret_free(before);
        /* outside the window: carol keeps 2 generations back */
        {
                struct mls_group_options o;

                mls_group_get_options(w.m[2].g, &o);
                o.max_past_generations = 2;
                assert_int_equal(mls_group_set_options(w.m[2].g, &o), 0);
        }
        assert_int_equal(tm_process(&w.m[2], &m[4]), 0);
        assert_int_equal(tm_process(&w.m[2], &m[2]), 0);
        /* R-15.3-2 */
        assert_int_equal(tm_process(&w.m[2], &m[0]), MLS_E_GENERATION_TOO_OLD);
        /* a late message of the previous epoch (kept: max_past_epochs 3) */
        assert_int_equal(mls_group_update(w.m[1].g, &w.m[1].env, NULL, &commit), 0);
        tm_deliver(&w.m[1], &commit, w.all, w.n);
        mls_bytes_clear(&commit);
        assert_int_equal(tm_process(&w.m[2], &m[3]), 0);
        /* with max_past_epochs 0 it is gone */
        {
                struct mls_group_options o;

                mls_group_get_options(w.m[2].g, &o);
                o.max_past_epochs = 0;
                assert_int_equal(mls_group_set_options(w.m[2].g, &o), 0);
                assert_int_equal(mls_group_past_epoch_count(w.m[2].g), 0);
        }
        assert_int_equal(tm_process(&w.m[2], &m[1]), MLS_E_EXPIRED_EPOCH);
        /* R-15.3-3: a huge generation jump */
        {
                struct mls_group_options o;

                mls_group_get_options(w.m[2].g, &o);
                o.max_forward_distance = 3;
                assert_int_equal(mls_group_set_options(w.m[2].g, &o), 0);
                for (size_t i = 5; i < 8; i++)
                        assert_int_equal(mls_group_encrypt(w.m[0].g, &w.m[0].env,
                                                           (const uint8_t *)"z", 1, NULL, &m[i]),
                                         0);
                /* generations 0..2 of this epoch: 2 is in reach */
                assert_int_equal(tm_process(&w.m[2], &m[7]), 0);
        }
        for (size_t i = 0; i < 8; i++)
                mls_bytes_clear(&m[i]);
        world_clear(&w);
}

/* ---- commit race (R-14-3, section 14) ---- */

static void
test_scenario_commit_race(void **state)
{
        struct world w;
        struct mls_bytes ca = { 0 }, cb = { 0 };
        struct mls_secret *before;
        struct mls_process_result r = { 0 };
        const size_t bc[2] = { 1, 2 };

        (void)state;
        world_init(&w, 1, 3);
        tm_create(&w.m[0], "race", NULL);
        add_members(&w, 0, bc, 2, true);
        before = tm_save(w.m[0].g);
        assert_int_equal(mls_group_update(w.m[0].g, &w.m[0].env, NULL, &ca), 0);
        /* R-14-3: creating a commit leaves the epoch as it was */
        assert_true(mls_group_has_pending(w.m[0].g));
        assert_int_equal(mls_group_epoch(w.m[0].g), 1);
        assert_int_equal(mls_group_update(w.m[0].g, &w.m[0].env, NULL, &cb),
                         MLS_E_PENDING_COMMIT);
        assert_int_equal(mls_group_update(w.m[1].g, &w.m[1].env, NULL, &cb), 0);
        /* the delivery service takes bob's: alice processes it, her
         * pending commit is dropped */
        tm_process_ok(&w.m[0], &cb);
        assert_false(mls_group_has_pending(w.m[0].g));
        tm_process_ok(&w.m[2], &cb);
        /* bob gets his own commit back: it merges the pending one */
        assert_int_equal(mls_group_process(w.m[1].g, &w.m[1].env, cb.data, cb.len, &r), 0);
        assert_true(r.own_commit);
        mls_process_result_clear(&r);
        tm_check_same(w.all, w.n);
        /* alice's commit is now for an old epoch */
        assert_int_equal(tm_process(&w.m[2], &ca), MLS_E_WRONG_EPOCH);
        /* clear: a new pending commit, then dropped */
        mls_bytes_clear(&ca);
        mls_secret_free(before);
        before = tm_save(w.m[0].g);
        assert_int_equal(mls_group_commit(w.m[0].g, &w.m[0].env,
                                          &(struct mls_commit_params){ .force_path = true }, &ca,
                                          NULL),
                         0);
        assert_int_equal(mls_group_clear_pending(w.m[0].g), 0);
        tm_assert_state(w.m[0].g, before);
        assert_int_equal(mls_group_clear_pending(w.m[0].g), MLS_E_NO_PENDING_COMMIT);
        assert_int_equal(mls_group_merge_pending(w.m[0].g, NULL), MLS_E_NO_PENDING_COMMIT);
        mls_secret_free(before);
        mls_bytes_clear(&ca);
        mls_bytes_clear(&cb);
        world_clear(&w);
}

/* R-12.2-7: conflicting proposals for one leaf: the Remove wins. */
static void
test_scenario_conflicting_proposals(void **state)
{
        /* R-12.2-7, R-12.2-13, R-12.4-5 */
        struct world w;
        struct mls_bytes msg = { 0 }, commit = { 0 };
        struct mls_proposal p = { 0 };
        const size_t bcd[3] = { 1, 2, 3 };

        (void)state;
        world_init(&w, 1, 4);
        tm_create(&w.m[0], "conflict", NULL);
        add_members(&w, 0, bcd, 3, true);
        assert_int_equal(mls_group_propose_update(w.m[2].g, &w.m[2].env, NULL, NULL, &msg, NULL),
                         0);
        deliver_proposal(&w, 2, &msg);
        mls_bytes_clear(&msg);
        assert_int_equal(mls_group_make_remove(w.m[3].g, mls_group_own_leaf(w.m[2].g), &p), 0);
        assert_int_equal(mls_group_propose(w.m[3].g, &w.m[3].env, &p, NULL, &msg, NULL), 0);
        deliver_proposal(&w, 3, &msg);
        mls_bytes_clear(&msg);
        /* a ReInit too: with other proposals it is left for later */
        assert_int_equal(mls_group_make_reinit((const uint8_t *)"later", 5, 1, NULL, 0, &p), 0);
        assert_int_equal(mls_group_propose(w.m[1].g, &w.m[1].env, &p, NULL, &msg, NULL), 0);
        mls_proposal_clear(&p);
        deliver_proposal(&w, 1, &msg);
        mls_bytes_clear(&msg);
        assert_int_equal(mls_group_commit(w.m[0].g, &w.m[0].env, NULL, &commit, NULL), 0);
        tm_deliver(&w.m[0], &commit, w.all, w.n);
        assert_true(mls_group_is_removed(w.m[2].g));
        tm_check_same(w.all, w.n);
        {
                struct mls_reinit ri = { 0 };

                assert_int_equal(mls_group_reinit_params(w.m[1].g, &ri), MLS_E_NOT_FOUND);
        }
        mls_bytes_clear(&commit);
        world_clear(&w);
}


/* ---- a long random run (like passive-client-random) ---- */

static uint32_t
lcg(uint32_t *x)
{
        *x = *x * 1103515245u + 12345u;
        return (*x >> 8) & 0xffffff;
}

#define RMAX 12

static void
random_run(uint16_t suite, uint32_t seed, size_t epochs)
{
        /* R-12.1.7-2 (GroupContextExtensions replace the list), R-12.3-1 .. -5, R-12.4.2-6, R-12.4.2-15, R-12.4.2-16, R-12.4-5 */
        static const struct tm_psk psks[] = { { "r1", { 1 } }, { "r2", { 2 } } };
        struct tm_member pool[RMAX];
        struct tm_member *live[RMAX];
        uint64_t joined[RMAX] = { 0 };
        const struct mls_suite *s = mls_suite_get(suite);
        size_t n_live = 0, next_name = 0;
        uint32_t rnd = seed;
        char name[16];

        memset(pool, 0, sizeof(pool));
        /* pool[0]: the passive member (joins once, never sends) */
        for (size_t i = 0; i < RMAX; i++) {
                snprintf(name, sizeof(name), "m%zu", next_name++);
                tm_init(&pool[i], s, i == 0 ? "passive" : name);
                pool[i].opts.handshake_private = i % 2 == 1;
                pool[i].psks = psks;
                pool[i].n_psks = 2;
                pool[i].opts.max_resumption_psks = 1000;
        }
        tm_create(&pool[1], "random", NULL);
        live[n_live++] = &pool[1];
        {
                struct mls_bytes kp = { 0 }, c = { 0 }, w = { 0 };

                uint16_t pref = s->id; /* the creator's policy (R-11-2) */

                tm_key_package(&pool[0], &kp);
                assert_int_equal(mls_group_add(pool[1].g, &pool[1].env, &kp, 1,
                                               &(struct mls_commit_params){
                                                       .inline_tree = true,
                                                       .suite_preference = &pref,
                                                       .n_suite_preference = 1 },
                                               &c, &w),
                                 0);
                tm_deliver(&pool[1], &c, live, n_live);
                tm_join(&pool[0], &w, NULL);
                live[n_live++] = &pool[0];
                mls_bytes_clear(&kp);
                mls_bytes_clear(&c);
                mls_bytes_clear(&w);
        }
        for (size_t ep = 0; ep < epochs; ep++) {
                struct tm_member *committer;
                struct mls_bytes c = { 0 }, w = { 0 }, tree = { 0 };
                struct mls_proposal byval[4];
                size_t n_byval = 0, n_new = 0;
                struct tm_member *newm[4];
                struct mls_commit_params cp = { 0 };
                uint32_t r;

                memset(byval, 0, sizeof(byval));
                /* a committer other than the passive member */
                do {
                        committer = live[lcg(&rnd) % n_live];
                } while (committer == &pool[0]);
                /* some proposals from others */
                for (size_t k = 0; k < n_live; k++) {
                        struct tm_member *m = live[k];
                        struct mls_bytes msg = { 0 };
                        struct mls_proposal p = { 0 };

                        if (m == &pool[0] || lcg(&rnd) % 4 != 0)
                                continue;
                        r = lcg(&rnd) % 5;
                        if (r == 4) {
                                /* GroupContextExtensions: required_capabilities
                                 * naming the basic credential, or nothing */
                                struct mls_required_capabilities rc = { 0 };
                                struct mls_extension_list el = { 0 };
                                struct mls_bytes body = { 0 }, enc = { 0 };
                                uint16_t basic = MLS_CREDENTIAL_BASIC;

                                if (lcg(&rnd) % 2) {
                                        rc.credential_types.v = &basic;
                                        rc.credential_types.n = 1;
                                        assert_int_equal(mls_required_capabilities_to_bytes(&rc,
                                                                                            &body),
                                                         0);
                                        assert_int_equal(mls_extension_list_add(
                                                                 &el, MLS_EXT_REQUIRED_CAPABILITIES,
                                                                 body.data, body.len),
                                                         0);
                                }
                                assert_int_equal(mls_extension_list_to_bytes(&el, &enc), 0);
                                assert_int_equal(mls_group_make_group_context_extensions(
                                                         enc.data, enc.len, &p),
                                                 0);
                                assert_int_equal(mls_group_propose(m->g, &m->env, &p, NULL, &msg,
                                                                   NULL),
                                                 0);
                                mls_extension_list_clear(&el);
                                mls_bytes_clear(&body);
                                mls_bytes_clear(&enc);
                        } else
                        if (r == 0) {
                                assert_int_equal(mls_group_propose_update(m->g, &m->env, NULL, NULL,
                                                                          &msg, NULL),
                                                 0);
                        } else if (r == 1 && n_live > 3) {
                                struct tm_member *t = live[lcg(&rnd) % n_live];

                                if (t == &pool[0] || t == m || t == committer)
                                        continue;
                                assert_int_equal(mls_group_make_remove(m->g,
                                                                       mls_group_own_leaf(t->g),
                                                                       &p),
                                                 0);
                                assert_int_equal(mls_group_propose(m->g, &m->env, &p, NULL, &msg,
                                                                   NULL),
                                                 0);
                        } else if (r == 2) {
                                assert_int_equal(mls_group_make_psk_external(m->g, &m->env,
                                                                             (const uint8_t *)"r1",
                                                                             2, &p),
                                                 0);
                                assert_int_equal(mls_group_propose(m->g, &m->env, &p, NULL, &msg,
                                                                   NULL),
                                                 0);
                        } else {
                                size_t gl;
                                const uint8_t *gid = mls_group_id(m->g, &gl);
                                uint64_t e = mls_group_epoch(m->g), lo = 1;

                                /* a resumption PSK of an epoch every live
                                 * member has (since it joined) */
                                for (size_t j = 0; j < n_live; j++)
                                        if (joined[live[j] - pool] > lo)
                                                lo = joined[live[j] - pool];
                                if (e < lo)
                                        continue;
                                e = lo + lcg(&rnd) % (e - lo + 1);
                                if (mls_group_make_psk_resumption(m->g, &m->env, gid, gl, e, &p) <
                                    0)
                                        continue;
                                assert_int_equal(mls_group_propose(m->g, &m->env, &p, NULL, &msg,
                                                                   NULL),
                                                 0);
                        }
                        mls_proposal_clear(&p);
                        for (size_t j = 0; j < n_live; j++)
                                if (live[j] != m)
                                        tm_process_ok(live[j], &msg);
                        mls_bytes_clear(&msg);
                }
                /* new members, by value */
                r = lcg(&rnd) % 3;
                for (size_t i = 1; i < RMAX && n_new < r && n_live + n_new < RMAX; i++) {
                        struct mls_bytes kp = { 0 };
                        bool used = pool[i].g != NULL;

                        for (size_t j = 0; j < n_new; j++)
                                used = used || newm[j] == &pool[i];
                        if (used)
                                continue;
                        /* a fresh identity each time it (re)joins */
                        tm_clear(&pool[i]);
                        snprintf(name, sizeof(name), "m%zu", next_name++);
                        tm_init(&pool[i], s, name);
                        pool[i].opts.handshake_private = lcg(&rnd) % 2;
                        pool[i].psks = psks;
                        pool[i].n_psks = 2;
                        pool[i].opts.max_resumption_psks = 1000;
                        tm_key_package(&pool[i], &kp);
                        byval[n_byval].proposal_type = MLS_PROPOSAL_ADD;
                        assert_int_equal(mls_key_package_from_bytes(kp.data + 4, kp.len - 4,
                                                                    &byval[n_byval].add.key_package),
                                         0);
                        n_byval++;
                        newm[n_new++] = &pool[i];
                        mls_bytes_clear(&kp);
                }
                /* sometimes a removal by value */
                if (lcg(&rnd) % 3 == 0 && n_live > 3) {
                        struct tm_member *t = live[lcg(&rnd) % n_live];
                        bool proposed = false;

                        for (size_t j = 0; j < mls_group_proposal_count(committer->g); j++)
                                proposed = proposed ||
                                           (committer->g->props[j].p.proposal_type ==
                                                    MLS_PROPOSAL_REMOVE &&
                                            committer->g->props[j].p.remove.removed ==
                                                    mls_group_own_leaf(t->g)) ||
                                           (committer->g->props[j].p.proposal_type ==
                                                    MLS_PROPOSAL_UPDATE &&
                                            committer->g->props[j].sender.leaf_index ==
                                                    mls_group_own_leaf(t->g));
                        if (t != &pool[0] && t != committer && !proposed) {
                                byval[n_byval].proposal_type = MLS_PROPOSAL_REMOVE;
                                byval[n_byval].remove.removed = mls_group_own_leaf(t->g);
                                n_byval++;
                        }
                }
                cp.proposals = byval;
                cp.n_proposals = n_byval;
                cp.force_path = lcg(&rnd) % 2;
                cp.inline_tree = lcg(&rnd) % 2;
                {
                        int e = mls_group_commit(committer->g, &committer->env, &cp, &c, &w);

                        if (e)
                                fail_msg("epoch %zu: commit: %s", ep, mls_err_name(e));
                }
                tm_deliver(committer, &c, live, n_live);
                if (!cp.inline_tree && n_new)
                        assert_int_equal(mls_group_ratchet_tree(committer->g, &tree), 0);
                for (size_t i = 0; i < n_new; i++) {
                        tm_join(newm[i], &w, cp.inline_tree ? NULL : &tree);
                        joined[newm[i] - pool] = mls_group_epoch(newm[i]->g);
                        live[n_live++] = newm[i];
                }
                /* drop the removed */
                for (size_t i = 0; i < n_live;) {
                        if (mls_group_is_removed(live[i]->g)) {
                                assert_true(live[i] != &pool[0]);
                                mls_group_free(live[i]->g);
                                live[i]->g = NULL;
                                live[i] = live[--n_live];
                        } else {
                                i++;
                        }
                }
                tm_check_same(live, n_live);
                for (size_t i = 0; i < n_byval; i++)
                        mls_proposal_clear(&byval[i]);
                mls_bytes_clear(&c);
                mls_bytes_clear(&w);
                mls_bytes_clear(&tree);
        }
        for (size_t i = 0; i < RMAX; i++)
                tm_clear(&pool[i]);
}

static void
test_scenario_random_run_suite1(void **state)
{
        (void)state;
        random_run(1, 42, 120);
}

static void
test_scenario_random_run_suites_2_3(void **state)
{
        (void)state;
        random_run(2, 7, 40);
        random_run(3, 99, 40);
}

/* ---- x509 credentials and the AS (RFC 9420 sections 5.3, 5.3.1) ---- */

/* An OpenSSL key from a suite-encoded signature public key (suites 1, 2). */
static EVP_PKEY *
x509_pub_pkey(const struct mls_suite *s, const struct mls_bytes *pub)
{
        EVP_PKEY *pk = NULL;

        if (s->id == 2) {
                EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
                OSSL_PARAM prm[3];

                assert_non_null(c);
                prm[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                          (char *)"prime256v1", 0);
                prm[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub->data,
                                                           pub->len);
                prm[2] = OSSL_PARAM_construct_end();
                assert_int_equal(EVP_PKEY_fromdata_init(c), 1);
                assert_int_equal(EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, prm), 1);
                EVP_PKEY_CTX_free(c);
        } else {
                pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub->data, pub->len);
        }
        assert_non_null(pk);
        return pk;
}

/* DER of a certificate for `key`, named cn, serial, issued by ca (signed
 * with ca_key; self-signed when key == ca_key). */
static void
x509_make(const struct mls_suite *s, EVP_PKEY *key, const char *cn, long serial,
          EVP_PKEY *ca_key, struct mls_bytes *ret)
{
        X509 *x = X509_new();
        X509_NAME *sub = X509_NAME_new(), *iss = X509_NAME_new();
        unsigned char *der = NULL;
        int n;

        assert_non_null(x);
        assert_non_null(sub);
        assert_non_null(iss);
        assert_int_equal(X509_set_version(x, 2), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
        assert_int_equal(X509_NAME_add_entry_by_txt(sub, "CN", MBSTRING_ASC,
                                                    (const unsigned char *)cn, -1, -1, 0),
                         1);
        assert_int_equal(X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC,
                                                    (const unsigned char *)"ca", -1, -1, 0),
                         1);
        assert_int_equal(X509_set_subject_name(x, sub), 1);
        assert_int_equal(X509_set_issuer_name(x, iss), 1);
        assert_int_equal(X509_set_pubkey(x, key), 1);
        assert_true(X509_sign(x, ca_key, s->id == 2 ? EVP_sha256() : NULL) > 0);
        n = i2d_X509(x, &der);
        assert_true(n > 0);
        assert_int_equal(mls_bytes_copy(ret, der, (size_t)n), 0);
        OPENSSL_free(der);
        X509_NAME_free(sub);
        X509_NAME_free(iss);
        X509_free(x);
}

/* m's credential becomes x509 [cert for key_of's signature key, CA cert]. */
static void
x509_set_cred(struct tm_member *m, const struct tm_member *key_of, long serial, EVP_PKEY *ca,
              const struct mls_bytes *ca_der)
{
        EVP_PKEY *pk = x509_pub_pkey(m->s, &key_of->sk->pub);

        mls_credential_clear(&m->cred);
        m->cred.credential_type = MLS_CREDENTIAL_X509;
        m->cred.certificates = calloc(2, sizeof(*m->cred.certificates));
        assert_non_null(m->cred.certificates);
        m->cred.n_certificates = 2;
        x509_make(m->s, pk, m->name, serial, ca, &m->cred.certificates[0]);
        assert_int_equal(mls_bytes_dup(&m->cred.certificates[1], ca_der), 0);
        EVP_PKEY_free(pk);
}

/* R-5.3-1, R-5.3-2, R-5.3.1-1 .. -6, R-5.3.1-8, R-7.3-4: a group of
 * members with x509 credentials (end-entity certificate for the leaf's
 * signature key, then the CA certificate); a KeyPackage whose certificate
 * is for another key is refused by the built-in check; a certificate
 * rotation by commit path goes to every member's AS with the old
 * credential as predecessor. */
static void
x509_run(uint16_t suite)
{
        struct world w;
        struct tm_member dave;
        struct mls_bytes ca_der = { 0 }, kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_leaf_params lp;
        struct mls_credential rotated = { 0 };
        const size_t who[] = { 1, 2 };
        EVP_PKEY *ca;
        unsigned pred_before[3];
        struct mls_capabilities caps = { 0 };
        uint16_t *ct;

        /* Every member supports basic and x509 credentials. */
        assert_int_equal(grp_default_capabilities(&caps), 0);
        ct = realloc(caps.credentials.v, (caps.credentials.n + 1) * sizeof(*ct));
        assert_non_null(ct);
        caps.credentials.v = ct;
        if (!grp_u16_in(&caps.credentials, MLS_CREDENTIAL_X509))
                caps.credentials.v[caps.credentials.n++] = MLS_CREDENTIAL_X509;
        world_init(&w, suite, 3);
        for (size_t i = 0; i < w.n; i++)
                w.m[i].caps = &caps;
        ca = suite == 2 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                        : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_non_null(ca);
        x509_make(w.s, ca, "ca", 1, ca, &ca_der);
        for (size_t i = 0; i < w.n; i++)
                x509_set_cred(&w.m[i], &w.m[i], (long)(10 + i), ca, &ca_der);
        tm_create(&w.m[0], suite == 2 ? "x509-p256" : "x509-ed25519", NULL);
        add_members(&w, 0, who, 2, true);
        /* R-5.3.1-3: bob's and carol's AS saw the tree's credentials. */
        assert_true(w.m[1].as_calls >= 2);
        assert_true(w.m[2].as_calls >= 2);
        /* R-5.3-1: dave presents a certificate for alice's key. */
        tm_init(&dave, w.s, "dave");
        dave.caps = &caps;
        x509_set_cred(&dave, &w.m[0], 20, ca, &ca_der);
        tm_key_package(&dave, &kp);
        assert_int_equal(mls_group_add(w.m[1].g, &w.m[1].env, &kp, 1, NULL, &commit, &welcome),
                         MLS_E_BAD_CREDENTIAL);
        assert_false(mls_group_has_pending(w.m[1].g));
        mls_bytes_clear(&kp);
        /* With his own key's certificate he is added. */
        x509_set_cred(&dave, &dave, 21, ca, &ca_der);
        tm_key_package(&dave, &kp);
        assert_int_equal(mls_group_add(w.m[1].g, &w.m[1].env, &kp, 1, NULL, &commit, &welcome),
                         0);
        assert_int_equal(mls_group_clear_pending(w.m[1].g), 0);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        /* R-5.3.1-6, R-5.3.1-8: carol rotates to a new certificate (same
         * key, new serial) by a commit path. */
        rotated.credential_type = MLS_CREDENTIAL_X509;
        rotated.certificates = calloc(2, sizeof(*rotated.certificates));
        assert_non_null(rotated.certificates);
        rotated.n_certificates = 2;
        {
                EVP_PKEY *pk = x509_pub_pkey(w.s, &w.m[2].sk->pub);

                x509_make(w.s, pk, "carol", 30, ca, &rotated.certificates[0]);
                EVP_PKEY_free(pk);
        }
        assert_int_equal(mls_bytes_dup(&rotated.certificates[1], &ca_der), 0);
        for (size_t i = 0; i < w.n; i++)
                pred_before[i] = w.m[i].as_pred_calls;
        lp = tm_leaf(&w.m[2]);
        lp.credential = &rotated;
        commit_and_deliver(&w, 2, &(struct mls_commit_params){ .leaf = &lp });
        assert_int_equal(w.m[0].as_pred_calls, pred_before[0] + 1);
        assert_int_equal(w.m[1].as_pred_calls, pred_before[1] + 1);
        mls_credential_clear(&rotated);
        mls_bytes_clear(&ca_der);
        EVP_PKEY_free(ca);
        tm_clear(&dave);
        world_clear(&w);
        mls_capabilities_clear(&caps);
}

/* R-13.3-1: a credential type may be used only if every member lists it.
 * Alice and bob list basic only: a joiner with an x509 credential (which
 * itself lists basic and x509) is refused, nothing changes. Once alice and
 * bob list x509 too (a commit each with new capabilities), he is added. */
static void
test_scenario_credential_type_needs_every_member(void **state)
{
        struct world w;
        struct tm_member dave;
        struct mls_bytes ca_der = { 0 }, kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_capabilities caps = { 0 };
        struct mls_secret *before;
        struct mls_leaf_params lp;
        const size_t who[] = { 1 };
        EVP_PKEY *ca;
        uint16_t *ct;

        (void)state;
        assert_int_equal(grp_default_capabilities(&caps), 0);
        assert_false(grp_u16_in(&caps.credentials, MLS_CREDENTIAL_X509));
        ct = realloc(caps.credentials.v, (caps.credentials.n + 1) * sizeof(*ct));
        assert_non_null(ct);
        caps.credentials.v = ct;
        caps.credentials.v[caps.credentials.n++] = MLS_CREDENTIAL_X509;
        world_init(&w, 1, 2);
        tm_create(&w.m[0], "x509-not-everyone", NULL);
        add_members(&w, 0, who, 1, true);
        ca = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_non_null(ca);
        x509_make(w.s, ca, "ca", 1, ca, &ca_der);
        tm_init(&dave, w.s, "dave");
        dave.caps = &caps;
        x509_set_cred(&dave, &dave, 40, ca, &ca_der);
        tm_key_package(&dave, &kp);
        before = tm_save(w.m[0].g);
        assert_int_equal(mls_group_add(w.m[0].g, &w.m[0].env, &kp, 1, NULL, &commit, &welcome),
                         MLS_E_UNSUPPORTED_CAPABILITY);
        assert_false(mls_group_has_pending(w.m[0].g));
        tm_assert_state(w.m[0].g, before);
        mls_secret_free(before);
        /* alice lists x509: bob still does not */
        lp = tm_leaf(&w.m[0]);
        lp.capabilities = &caps;
        commit_and_deliver(&w, 0, &(struct mls_commit_params){ .leaf = &lp });
        assert_int_equal(mls_group_add(w.m[0].g, &w.m[0].env, &kp, 1, NULL, &commit, &welcome),
                         MLS_E_UNSUPPORTED_CAPABILITY);
        assert_false(mls_group_has_pending(w.m[0].g));
        /* bob too: now every member lists it */
        lp = tm_leaf(&w.m[1]);
        lp.capabilities = &caps;
        commit_and_deliver(&w, 1, &(struct mls_commit_params){ .leaf = &lp });
        assert_int_equal(mls_group_add(w.m[0].g, &w.m[0].env, &kp, 1, NULL, &commit, &welcome),
                         0);
        assert_int_equal(mls_group_clear_pending(w.m[0].g), 0);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        mls_bytes_clear(&ca_der);
        EVP_PKEY_free(ca);
        tm_clear(&dave);
        world_clear(&w);
        mls_capabilities_clear(&caps);
}

static void
test_scenario_x509_credentials(void **state)
{
        (void)state;
        x509_run(1);
        x509_run(2);
}

/* ---- the downgrade guard (RFC 9420 section 11) ---- */

/* A KeyPackage of member m whose leaf lists only the suites cs. */
static void
kp_with_suites(struct tm_member *m, const uint16_t *cs, size_t n, struct mls_bytes *ret_kp)
{
        uint16_t v[] = { MLS_VERSION_MLS10 }, cr[] = { MLS_CREDENTIAL_BASIC };
        struct mls_capabilities caps = { .versions = { v, 1 },
                                         .cipher_suites = { (uint16_t *)cs, n },
                                         .credentials = { cr, 1 } };

        m->caps = &caps;
        tm_key_package(m, ret_kp);
        m->caps = NULL;
}

/* R-11-2: the creator's first Add commit checks, from the KeyPackages'
 * capabilities, that the group's version and suite are the best all
 * members support; refused (MLS_E_UNSUPPORTED) with the group unchanged
 * when a better suite is common; passes with the creator's own policy,
 * when the better suite is not common, and after epoch 0. */
static void
test_scenario_downgrade_guard(void **state)
{
        static const uint16_t only3[] = { 3 }, s23[] = { 2, 3 };
        struct tm_member a, b, c;
        struct tm_member *v[3] = { &a, &b, &c };
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 };
        struct mls_secret *before;
        uint16_t pref31[] = { 3, 1 };

        (void)state;
        tm_init(&a, mls_suite_get(3), "alice");
        tm_init(&b, mls_suite_get(3), "bob");
        tm_init(&c, mls_suite_get(3), "carol");
        tm_create(&a, "downgrade", NULL);
        /* everyone lists all seven suites: suite 1 (better in the default
         * preference 1, 3, 2, ...) is common, suite 3 is a downgrade */
        tm_key_package(&b, &kp);
        assert_int_equal(mls_group_check_best_suite(a.g, &kp, 1, NULL, 0), MLS_E_UNSUPPORTED);
        before = tm_save(a.g);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1, NULL, &commit, &welcome),
                         MLS_E_UNSUPPORTED);
        assert_false(mls_group_has_pending(a.g));
        tm_assert_state(a.g, before);
        mls_secret_free(before);
        /* the creator's policy ranks suite 3 first: accepted */
        assert_int_equal(mls_group_check_best_suite(a.g, &kp, 1, pref31, 2), 0);
        /* switched off: accepted */
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .no_suite_check = true },
                                       &commit, &welcome),
                         0);
        assert_int_equal(mls_group_clear_pending(a.g), 0);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        /* bob supports suite 3 only: 3 is the best common suite */
        kp_with_suites(&b, only3, 1, &kp);
        assert_int_equal(mls_group_check_best_suite(a.g, &kp, 1, NULL, 0), 0);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .inline_tree = true },
                                       &commit, &welcome),
                         0);
        tm_deliver(&a, &commit, v, 3);
        tm_join(&b, &welcome, NULL);
        tm_check_same(v, 2);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        /* epoch 1: no longer the creation, carol's KeyPackage (all
         * suites) is added without the check */
        tm_key_package(&c, &kp);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1,
                                       &(struct mls_commit_params){ .inline_tree = true },
                                       &commit, &welcome),
                         0);
        tm_deliver(&a, &commit, v, 3);
        tm_join(&c, &welcome, NULL);
        tm_check_same(v, 3);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        tm_clear(&a);
        tm_clear(&b);
        tm_clear(&c);

        /* The creator's own capabilities count: alice (suites 2 and 3)
         * creates a suite-2 group; bob lists all: 3 (before 2 in the
         * default preference) is common to both, a downgrade. */
        tm_init(&a, mls_suite_get(2), "alice");
        tm_init(&b, mls_suite_get(2), "bob");
        a.caps = &(struct mls_capabilities){
                .versions = { (uint16_t[]){ MLS_VERSION_MLS10 }, 1 },
                .cipher_suites = { (uint16_t *)s23, 2 },
                .credentials = { (uint16_t[]){ MLS_CREDENTIAL_BASIC }, 1 } };
        tm_create(&a, "downgrade-2", NULL);
        tm_key_package(&b, &kp);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1, NULL, &commit, &welcome),
                         MLS_E_UNSUPPORTED);
        mls_bytes_clear(&kp);
        /* bob without suite 3: 2 is the best common one */
        kp_with_suites(&b, s23, 1, &kp);
        assert_int_equal(mls_group_add(a.g, &a.env, &kp, 1, NULL, &commit, &welcome), 0);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_bytes_clear(&kp);
        a.caps = NULL;
        tm_clear(&a);
        tm_clear(&b);
}

/* R-11-2 (negative): mls_check_best_suite on capability lists. */
static void
test_scenario_downgrade_guard_rules(void **state)
{
        uint16_t v1[] = { MLS_VERSION_MLS10 }, v0[] = { 0x0200 };
        uint16_t all[] = { 1, 2, 3, 4, 5, 6, 7 }, g13[] = { 0x0A0A, 3, 1 }, g3[] = { 0x0A0A, 3 };
        struct mls_capabilities x = { .versions = { v1, 1 }, .cipher_suites = { all, 7 } };
        struct mls_capabilities y = { .versions = { v1, 1 }, .cipher_suites = { g13, 3 } };
        struct mls_capabilities z = { .versions = { v1, 1 }, .cipher_suites = { g3, 2 } };
        struct mls_capabilities nov = { .versions = { v0, 1 }, .cipher_suites = { all, 7 } };
        const struct mls_capabilities *m[3] = { &x, &y, &z };
        uint16_t pref_grease[] = { 0x0A0A, 3 }, pref_none[] = { 0x0B0B };
        size_t n;
        const uint16_t *d = mls_suite_preference_default(&n);

        (void)state;
        assert_int_equal(n, 7);
        assert_int_equal(d[0], 1);
        /* x and y share 1: suite 3 is a downgrade, suite 1 the best */
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 3, m, 2, NULL, 0),
                         MLS_E_UNSUPPORTED);
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 1, m, 2, NULL, 0), 0);
        /* with z (3 only, and a GREASE value) 3 is the best */
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 3, m, 3, NULL, 0), 0);
        /* a GREASE value in everyone's list and the preference is not a
         * suite (R-13.5-7): it is never "better" */
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 3, m, 3, pref_grease, 2), 0);
        /* the chosen suite not in the preference: fine only if no listed
         * suite is common */
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 3, m, 3, pref_none, 1), 0);
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 7, m, 1, NULL, 0),
                         MLS_E_UNSUPPORTED);
        /* a member without the chosen suite or version cannot be added */
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 7, m, 3, NULL, 0),
                         MLS_E_UNSUPPORTED_CAPABILITY);
        m[1] = &nov;
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 1, m, 2, NULL, 0),
                         MLS_E_UNSUPPORTED_CAPABILITY);
        assert_int_equal(mls_check_best_suite(MLS_VERSION_MLS10, 1, NULL, 2, NULL, 0),
                         MLS_E_INVALID_ARGUMENT);
}

/* ---- GREASE (RFC 9420 section 13.5) ---- */

/* The reserved GREASE values, listed (not computed as the engine does). */
static bool
is_grease(uint16_t v)
{
        static const uint16_t g[] = { 0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A,
                                      0x5A5A, 0x6A6A, 0x7A7A, 0x8A8A, 0x9A9A,
                                      0xAAAA, 0xBABA, 0xCACA, 0xDADA, 0xEAEA };

        for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
                if (g[i] == v)
                        return true;
        return false;
}

static size_t
n_grease(const struct mls_u16_list *l)
{
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                n += is_grease(l->v[i]);
        return n;
}

static size_t
n_grease_ext(const struct mls_extension_list *l)
{
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                n += is_grease(l->v[i].extension_type);
        return n;
}

static bool
listed(const struct mls_u16_list *l, uint16_t v)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i] == v)
                        return true;
        return false;
}

/* R-13.5-2, R-13.5-3, R-13.5-4 for one LeafNode: GREASE only in
 * capabilities.{cipher_suites, extensions, proposals, credentials} and
 * LeafNode.extensions, every GREASE leaf extension listed in
 * capabilities.extensions, none in versions or the credential type.
 * greased: the leaf was made with GREASE on (one value in each list and
 * one leaf extension) or off (none anywhere). */
static void
check_leaf_grease(const struct mls_leaf_node *ln, bool greased)
{
        const struct mls_capabilities *c = &ln->capabilities;
        size_t want = greased ? 1 : 0;

        assert_int_equal(n_grease(&c->versions), 0);
        assert_false(is_grease(ln->credential.credential_type));
        assert_int_equal(n_grease(&c->cipher_suites), want);
        assert_int_equal(n_grease(&c->proposals), want);
        assert_int_equal(n_grease(&c->credentials), want);
        assert_int_equal(n_grease_ext(&ln->extensions), want);
        assert_true(n_grease(&c->extensions) >= want);
        for (size_t i = 0; i < ln->extensions.n; i++)
                if (is_grease(ln->extensions.v[i].extension_type))
                        assert_true(listed(&c->extensions, ln->extensions.v[i].extension_type));
}

/* A KeyPackage (MLSMessage): its leaf, and its own GREASE extension, also
 * listed in the leaf's capabilities. */
static void
check_key_package_grease(const struct mls_bytes *msg, bool greased)
{
        struct mls_message m = { 0 };

        assert_int_equal(mls_message_from_bytes(msg->data, msg->len, &m), 0);
        assert_int_equal(m.wire_format, MLS_WIRE_KEY_PACKAGE);
        check_leaf_grease(&m.key_package.leaf_node, greased);
        assert_int_equal(n_grease_ext(&m.key_package.extensions), greased ? 1 : 0);
        for (size_t i = 0; i < m.key_package.extensions.n; i++)
                if (is_grease(m.key_package.extensions.v[i].extension_type))
                        assert_true(listed(&m.key_package.leaf_node.capabilities.extensions,
                                           m.key_package.extensions.v[i].extension_type));
        if (!greased) {
                /* exactly the defaults */
                assert_int_equal(m.key_package.leaf_node.capabilities.extensions.n, 0);
                assert_int_equal(m.key_package.leaf_node.capabilities.proposals.n, 0);
                assert_int_equal(m.key_package.leaf_node.capabilities.credentials.n, 1);
        }
        mls_message_clear(&m);
}

/* Every leaf of g's tree: GREASE only where allowed (R-13.5-2, -4);
 * GroupContext extensions without GREASE (R-13.5-3). */
static void
check_group_grease(const struct mls_group *g)
{
        struct mls_bytes tb = { 0 }, gcb = { 0 };
        struct mls_tree *t = NULL;
        struct mls_group_context gc = { 0 };

        assert_int_equal(mls_group_ratchet_tree(g, &tb), 0);
        assert_int_equal(mls_tree_from_bytes(mls_group_suite(g), tb.data, tb.len, &t), 0);
        for (uint32_t i = 0; i < mls_tree_width(t); i++) {
                const struct mls_leaf_node *ln = mls_tree_leaf(t, i);

                if (ln)
                        check_leaf_grease(ln, true);
        }
        assert_int_equal(mls_group_context_bytes(g, &gcb), 0);
        assert_int_equal(mls_group_context_from_bytes(gcb.data, gcb.len, &gc), 0);
        assert_int_equal(n_grease_ext(&gc.extensions), 0);
        mls_group_context_clear(&gc);
        mls_tree_free(t);
        mls_bytes_clear(&tb);
        mls_bytes_clear(&gcb);
}

/* A commit (PublicMessage): no GREASE proposal type, none in a
 * GroupContextExtensions proposal (R-13.5-3, R-13.5-4); the leaves it
 * carries (Add KeyPackages, the path's leaf) as check_leaf_grease. */
static void
check_commit_grease(const struct mls_bytes *msg)
{
        struct mls_message m = { 0 };
        const struct mls_commit *c;

        assert_int_equal(mls_message_from_bytes(msg->data, msg->len, &m), 0);
        assert_int_equal(m.wire_format, MLS_WIRE_PUBLIC_MESSAGE);
        assert_int_equal(m.public_message.content.content_type, MLS_CONTENT_COMMIT);
        c = &m.public_message.content.commit;
        for (size_t i = 0; i < c->n_proposals; i++) {
                const struct mls_proposal *p = c->proposals[i].proposal;

                if (c->proposals[i].type != MLS_POR_PROPOSAL)
                        continue;
                assert_false(is_grease(p->proposal_type));
                if (p->proposal_type == MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS)
                        assert_int_equal(n_grease_ext(&p->group_context_extensions.extensions),
                                         0);
                if (p->proposal_type == MLS_PROPOSAL_ADD)
                        check_leaf_grease(&p->add.key_package.leaf_node, true);
        }
        if (c->has_path)
                check_leaf_grease(&c->path.leaf_node, true);
        mls_message_clear(&m);
}

/* R-13.5-2, R-13.5-3, R-13.5-4 (and R-13.5-1, R-13.5-6): with GREASE on
 * (the default) every LeafNode and KeyPackage a client makes carries
 * GREASE values in the GREASE-able fields only, peers ignore them (a whole
 * lifecycle works), and nothing else a client sends holds any; the
 * GREASE-free fields refuse a caller's GREASE value; no_grease gives the
 * plain defaults. */
static void
test_scenario_grease(void **state)
{
        struct world w;
        struct mls_bytes kp = { 0 }, commit = { 0 }, welcome = { 0 }, ext = { 0 };
        struct mls_proposal p = { 0 };
        struct mls_extension_list el = { 0 }, gel = { 0 };
        struct mls_leaf_params lp;
        struct mls_group *g = NULL;
        struct mls_key_package_priv *kpp = NULL;
        struct mls_credential gcred = { .credential_type = 0x3A3A };
        struct mls_key_package_params kparams = { 0 };
        size_t who[2] = { 1, 2 };
        uint16_t gtypes[15];

        (void)state;
        for (unsigned k = 0; k < 15; k++)
                gtypes[k] = (uint16_t)((((k << 4) | 0xa) << 8) | (k << 4) | 0xa);
        for (unsigned k = 0; k < 15; k++)
                assert_true(is_grease(gtypes[k]));
        world_init(&w, 1, 3);
        /* KeyPackages: GREASE in every GREASE-able field */
        for (int i = 0; i < 4; i++) {
                tm_key_package(&w.m[1], &kp);
                check_key_package_grease(&kp, true);
                mls_bytes_clear(&kp);
        }
        /* a lifecycle among GREASEd members: create, add, join, update
         * with new leaf contents, GroupContextExtensions, messages */
        tm_create(&w.m[0], "grease", NULL);
        check_group_grease(w.m[0].g);
        add_members(&w, 0, who, 2, true);
        check_group_grease(w.m[1].g);
        tm_app(&w.m[1], w.all, w.n, "grease 1");
        lp = tm_leaf(&w.m[2]);
        assert_int_equal(mls_group_update(w.m[2].g, &w.m[2].env,
                                          &(struct mls_commit_params){ .leaf = &lp }, &commit),
                         0);
        check_commit_grease(&commit);
        tm_deliver(&w.m[2], &commit, w.all, w.n);
        mls_bytes_clear(&commit);
        check_group_grease(w.m[0].g);
        assert_int_equal(mls_extension_list_add(&el, MLS_EXT_APPLICATION_ID,
                                                (const uint8_t *)"app", 3),
                         0);
        assert_int_equal(mls_extension_list_to_bytes(&el, &ext), 0);
        assert_int_equal(mls_group_make_group_context_extensions(ext.data, ext.len, &p), 0);
        assert_int_equal(mls_group_commit(w.m[0].g, &w.m[0].env,
                                          &(struct mls_commit_params){ .proposals = &p,
                                                                       .n_proposals = 1 },
                                          &commit, &welcome),
                         0);
        check_commit_grease(&commit);
        tm_deliver(&w.m[0], &commit, w.all, w.n);
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        mls_proposal_clear(&p);
        mls_bytes_clear(&ext);
        tm_check_same(w.all, w.n);
        check_group_grease(w.m[2].g);
        tm_app(&w.m[0], w.all, w.n, "grease 2");
        /* GroupInfo: one GREASE extension (R-13.5-1), none in its
         * GroupContext (R-13.5-3); without GREASE none */
        for (int on = 1; on >= 0; on--) {
                struct mls_bytes gib = { 0 };
                struct mls_message gm = { 0 };

                w.m[1].env.no_grease = !on;
                assert_int_equal(mls_group_group_info(w.m[1].g, &w.m[1].env, true, true, &gib),
                                 0);
                assert_int_equal(mls_message_from_bytes(gib.data, gib.len, &gm), 0);
                assert_int_equal(gm.wire_format, MLS_WIRE_GROUP_INFO);
                assert_int_equal(n_grease_ext(&gm.group_info.extensions), on ? 1 : 0);
                assert_int_equal(n_grease_ext(&gm.group_info.group_context.extensions), 0);
                mls_message_clear(&gm);
                mls_bytes_clear(&gib);
        }
        w.m[1].env.no_grease = false;

        /* R-13.5-3: the GREASE-free fields refuse a GREASE value */
        for (unsigned k = 0; k < 15; k++) {
                mls_extension_list_clear(&gel);
                assert_int_equal(mls_extension_list_add(&gel, gtypes[k], NULL, 0), 0);
                assert_int_equal(mls_extension_list_to_bytes(&gel, &ext), 0);
                assert_int_equal(mls_group_make_group_context_extensions(ext.data, ext.len, &p),
                                 MLS_E_INVALID_ARGUMENT);
                assert_int_equal(mls_group_make_reinit((const uint8_t *)"r", 1, 1, ext.data,
                                                       ext.len, &p),
                                 MLS_E_INVALID_ARGUMENT);
                lp = tm_leaf(&w.m[1]);
                assert_int_equal(mls_group_create(w.s, (const uint8_t *)"g", 1, &lp, &gel, NULL,
                                                  &w.m[1].env, &g),
                                 MLS_E_INVALID_ARGUMENT);
                assert_null(g);
                mls_bytes_clear(&ext);
        }
        assert_int_equal(mls_bytes_copy(&gcred.identity, (const uint8_t *)"g", 1), 0);
        kparams.leaf.credential = &gcred;
        assert_int_equal(mls_key_package_create(w.s, &kparams, &w.m[1].env, &kp, &kpp),
                         MLS_E_INVALID_ARGUMENT);
        mls_credential_clear(&gcred);

        /* no_grease: the plain defaults, nothing GREASEd */
        w.m[1].env.no_grease = true;
        tm_key_package(&w.m[1], &kp);
        check_key_package_grease(&kp, false);
        mls_bytes_clear(&kp);
        mls_extension_list_clear(&el);
        mls_extension_list_clear(&gel);
        world_clear(&w);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scenario_lifecycle_suite1),
                cmocka_unit_test(test_scenario_lifecycle_suite2),
                cmocka_unit_test(test_scenario_lifecycle_suite3_private_handshake),
                cmocka_unit_test(test_scenario_lifecycle_all_suites),
                cmocka_unit_test(test_scenario_external_join_and_resync),
                cmocka_unit_test(test_scenario_external_sender_add_remove),
                cmocka_unit_test(test_scenario_psks),
                cmocka_unit_test(test_scenario_reinit_to_other_suite),
                cmocka_unit_test(test_scenario_branch),
                cmocka_unit_test(test_scenario_out_of_order),
                cmocka_unit_test(test_scenario_commit_race),
                cmocka_unit_test(test_scenario_conflicting_proposals),
                cmocka_unit_test(test_scenario_random_run_suite1),
                cmocka_unit_test(test_scenario_random_run_suites_2_3),
                cmocka_unit_test(test_scenario_x509_credentials),
                cmocka_unit_test(test_scenario_credential_type_needs_every_member),
                cmocka_unit_test(test_scenario_downgrade_guard),
                cmocka_unit_test(test_scenario_downgrade_guard_rules),
                cmocka_unit_test(test_scenario_grease),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
