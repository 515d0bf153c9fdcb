/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 6: joining by Welcome (RFC 9420 section
 * 12.4.3.1) and by external commit (section 12.4.3.2).
 * Contracts: mls/group.h.
 */
#include <string.h>

#include "mls/credential.h"
#include "mls/group-internal.h"

/* The tree of a GroupInfo: its ratchet_tree extension, else the one given
 * (R-12.4.3.1-1). Validated afterwards by the caller. */
static int
group_info_tree(const struct mls_suite *s, const struct mls_group_info *gi, const uint8_t *tree,
                size_t tree_len, struct mls_tree **ret)
{
        const struct mls_extension *e = mls_extension_list_find(&gi->extensions,
                                                                MLS_EXT_RATCHET_TREE);

        if (e)
                return mls_tree_from_bytes(s, e->extension_data.data, e->extension_data.len, ret);
        if (!tree || tree_len == 0)
                return MLS_E_INVALID_ARGUMENT;
        return mls_tree_from_bytes(s, tree, tree_len, ret);
}

/* Validates a received tree against the GroupInfo and verifies the
 * GroupInfo's signature by its signer's leaf. */
static int
check_tree_and_signature(struct mls_group *g, const struct mls_env *env,
                         const struct mls_group_info *gi)
{
        _mls_cleanup_(mls_required_capabilities_clear) struct mls_required_capabilities req = { 0 };
        const struct mls_group_context *gc = &gi->group_context;
        const struct mls_leaf_node *sl;
        struct mls_leaf_policy pol;
        bool has_req;
        int r;

        MLS_TRY(grp_policy(g, env, &gc->extensions, &req, &has_req, &pol));
        /* R-12.4.3.1-11 .. -16, R-12.4.3.3-6 */
        MLS_TRY(mls_tree_validate(g->tree, gc->tree_hash.data, gc->tree_hash.len, &gc->group_id,
                                  &pol));
        /* R-5.3.1-3, R-7.3-4: every credential of the tree, and the
         * external senders of the GroupInfo (R-5.3.1-7), are validated
         * before the client joins. */
        for (uint32_t i = 0; i < mls_tree_width(g->tree); i++) {
                const struct mls_leaf_node *ln = mls_tree_leaf(g->tree, i);

                if (ln)
                        MLS_TRY(mls_credential_validate_leaf(env, g->suite, ln, NULL));
        }
        MLS_TRY(mls_credential_validate_external_senders(env, g->suite, &gc->extensions, NULL));
        /* R-12.4.3.1-8: the signer's leaf exists and is not blank (an
         * honest committer cannot produce anything else: tested with
         * forged, re-encrypted GroupInfos,
         * test_group_join_rejects_bad_group_info_signer). */
        if (gi->signer >= mls_tree_width(g->tree))
                return MLS_E_TREE_INDEX;
        sl = mls_tree_leaf(g->tree, gi->signer);
        if (!sl)
                return MLS_E_BLANK_LEAF;
        /* R-12.4.3-6, R-12.4.3.1-8 */
        r = mls_welcome_verify_group_info(g->suite, gi, sl->signature_key.data,
                                          sl->signature_key.len);
        return r == MLS_E_BAD_KEY ? MLS_E_BAD_SIGNATURE : r;
}

static int
group_alloc(const struct mls_suite *s, const struct mls_group_options *opts,
            struct mls_group **ret)
{
        struct mls_group *g = calloc(1, sizeof(*g));
        int r;

        if (!g)
                return MLS_E_NOMEM;
        g->suite = s;
        if (opts)
                g->opts = *opts;
        else
                mls_group_options_default(&g->opts);
        r = grp_options_check(&g->opts);
        if (r < 0) {
                free(g);
                return r;
        }
        *ret = g;
        return 0;
}

/* The identity a credential presents (basic: identity; x509: the leaf
 * certificate), for the application's "same client" comparisons. */
static const struct mls_bytes *
cred_identity(const struct mls_credential *c)
{
        static const struct mls_bytes empty = { 0 };

        if (c->credential_type == MLS_CREDENTIAL_BASIC)
                return &c->identity;
        if (c->n_certificates > 0)
                return &c->certificates[0];
        return &empty;
}

static int
cmp_bytes_p(const void *a, const void *b)
{
        const struct mls_bytes *x = *(const struct mls_bytes *const *)a;
        const struct mls_bytes *y = *(const struct mls_bytes *const *)b;
        size_t n = x->len < y->len ? x->len : y->len;
        int c = n ? memcmp(x->data, y->data, n) : 0;

        if (c)
                return c;
        return x->len < y->len ? -1 : x->len > y->len;
}

/* Every member identity of tree `sub` is one of tree `super`'s. */
int
grp_members_subset(const struct mls_tree *sub, const struct mls_tree *super)
{
        _mls_free_ const struct mls_bytes **ids = NULL;
        uint32_t w = mls_tree_width(super), n = 0, ws = mls_tree_width(sub);

        MLS_TRY(grp_alloc_array(mls_tree_member_count(super), sizeof(*ids), (void **)&ids));
        for (uint32_t i = 0; i < w; i++) {
                const struct mls_leaf_node *ln = mls_tree_leaf(super, i);

                if (ln && n < mls_tree_member_count(super))
                        ids[n++] = cred_identity(&ln->credential);
        }
        qsort(ids, n, sizeof(*ids), cmp_bytes_p);
        for (uint32_t i = 0; i < ws; i++) {
                const struct mls_leaf_node *ln = mls_tree_leaf(sub, i);
                const struct mls_bytes *id;

                if (!ln)
                        continue;
                id = cred_identity(&ln->credential);
                if (!bsearch(&id, ids, n, sizeof(*ids), cmp_bytes_p))
                        return MLS_E_BAD_CREDENTIAL;
        }
        return 0;
}

/*
 * R-12.4.3.1-24 .. -26, R-11.3-3 .. -6, R-11.2-2, R-11.2-3: a Welcome
 * keyed by a reinit or branch resumption PSK must fit the referenced
 * group.
 */
static int
check_resumption_welcome(const struct mls_group *g, const struct mls_env *env,
                         const struct mls_group_secrets *gs)
{
        for (size_t i = 0; i < gs->n_psks; i++) {
                const struct mls_psk_id *id = &gs->psks[i];
                const struct mls_group *old;

                if (id->psktype != MLS_PSK_RESUMPTION || id->usage == MLS_PSK_USAGE_APPLICATION)
                        continue;
                /* R-12.4.3.1-24, R-11.3-5, R-11.2-3 */
                if (g->gc.epoch != 1)
                        return MLS_E_INVALID_MESSAGE;
                old = env && env->find_group
                              ? env->find_group(env->ctx, id->psk_group_id.data,
                                                id->psk_group_id.len)
                              : NULL;
                if (!old)
                        return MLS_E_UNKNOWN_PSK;
                if (id->usage == MLS_PSK_USAGE_REINIT) {
                        _grp_bytes_ struct mls_bytes a = { 0 }, b = { 0 };

                        /* R-12.4.3.1-25, R-11.2-2: the old group's last
                         * commit held a ReInit with these parameters. */
                        if (!old->has_reinit || id->psk_epoch != old->gc.epoch)
                                return MLS_E_INVALID_MESSAGE;
                        if (!mls_bytes_eq(&old->reinit.group_id, &g->gc.group_id) ||
                            old->reinit.version != g->gc.version ||
                            old->reinit.cipher_suite != g->gc.cipher_suite)
                                return MLS_E_INVALID_MESSAGE;
                        MLS_TRY(mls_extension_list_to_bytes(&old->reinit.extensions, &a));
                        MLS_TRY(mls_extension_list_to_bytes(&g->gc.extensions, &b));
                        if (!mls_bytes_eq(&a, &b))
                                return MLS_E_INVALID_MESSAGE;
                        /* All old members are in the new group. */
                        MLS_TRY(grp_members_subset(old->tree, g->tree));
                } else {
                        /* R-12.4.3.1-26, R-11.3-4 */
                        if (old->gc.version != g->gc.version ||
                            old->gc.cipher_suite != g->gc.cipher_suite)
                                return MLS_E_INVALID_MESSAGE;
                        /* R-11.3-6: the new members are old ones. */
                        MLS_TRY(grp_members_subset(g->tree, old->tree));
                }
        }
        return 0;
}

struct psk_values {
        struct mls_secret **v;
        struct mls_psk_input *in;
        size_t n;
};

static void
psk_values_clear(struct psk_values *p)
{
        for (size_t i = 0; i < p->n; i++)
                mls_secret_free(p->v[i]);
        free(p->v);
        free(p->in);
        memset(p, 0, sizeof(*p));
}

int
mls_group_join(const uint8_t *welcome, size_t welcome_len, const uint8_t *ratchet_tree,
               size_t tree_len, struct mls_key_package_priv *const *kps, size_t n_kps,
               const struct mls_group_options *opts, const struct mls_env *env,
               struct mls_group **ret, size_t *ret_kp_index)
{
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };
        _mls_cleanup_(mls_group_secrets_clear) struct mls_group_secrets gs = { 0 };
        _mls_cleanup_(mls_group_info_clear) struct mls_group_info gi = { 0 };
        _mls_cleanup_(psk_values_clear) struct psk_values pv = { 0 };
        _mls_group_ struct mls_group *g = NULL;
        _mls_secret_ struct mls_secret *psk_secret = NULL;
        _grp_bytes_ struct mls_bytes a = { 0 }, b = { 0 };
        const struct mls_key_package_priv *kp = NULL;
        const struct mls_suite *s;
        size_t idx = 0, kpi = 0, nh;
        uint32_t my_leaf;
        const uint8_t *ck;

        if (!welcome || (!kps && n_kps) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_message_from_bytes(welcome, welcome_len, &m));
        if (m.wire_format != MLS_WIRE_WELCOME)
                return MLS_E_WRONG_WIRE_FORMAT;
        s = mls_suite_get(m.welcome.cipher_suite);
        if (!s)
                return MLS_E_UNSUPPORTED;
        nh = s->hash_len;
        /* R-12.4.3.1-2, R-12.4.3.1-3: our KeyPackage, of the Welcome's
         * suite. (review for -3: a KeyPackageRef of another suite's
         * KeyPackage matching an entry needs a hash collision.) */
        for (size_t i = 0; i < n_kps && !kp; i++) {
                size_t rl;
                const uint8_t *ref = mls_key_package_priv_ref(kps[i], &rl);

                if (mls_welcome_find_ref(&m.welcome, ref, rl, &idx) == 0) {
                        if (kps[i]->suite != s)
                                return MLS_E_WRONG_SUITE;
                        kp = kps[i];
                        kpi = i;
                }
        }
        if (!kp)
                return MLS_E_KEY_PACKAGE_NOT_FOUND;
        /* R-12.4.3.1-4, R-12.4.3.1-6 (the latter checked in
         * mls_welcome_decrypt_secrets, tested there) */
        MLS_TRY(mls_welcome_decrypt_secrets(s, &m.welcome, idx, kp->init_priv, &gs));
        /* R-12.4.3.1-5: every PSK must be available. */
        MLS_TRY(grp_alloc_array(gs.n_psks, sizeof(*pv.v), (void **)&pv.v));
        MLS_TRY(grp_alloc_array(gs.n_psks, sizeof(*pv.in), (void **)&pv.in));
        for (size_t i = 0; i < gs.n_psks; i++) {
                MLS_TRY(grp_psk_lookup(NULL, env, &gs.psks[i], &pv.v[i]));
                pv.n++;
                pv.in[i] = (struct mls_psk_input){ .id = &gs.psks[i],
                                                   .psk = pv.v[i]->data,
                                                   .psk_len = pv.v[i]->len };
        }
        MLS_TRY(mls_psk_secret(s, pv.in, pv.n, &psk_secret));
        /* R-12.4.3.1-7, R-12.4.3.1-10 */
        MLS_TRY(mls_welcome_decrypt_group_info(s, &m.welcome, gs.joiner_secret, psk_secret, &gi));
        /* R-12.4.3-5, R-12.4.3.1-9: not a group we are already in. */
        if (env && env->find_group &&
            env->find_group(env->ctx, gi.group_context.group_id.data,
                            gi.group_context.group_id.len))
                return MLS_E_GROUP_EXISTS;
        /* R-12.4.3-4, R-13.4-8, R-13.4-9: we support every GroupContext
         * extension, else the GroupInfo is invalid and we do not join
         * (only reachable with a committer that skipped its own check
         * R-13.4-7: test_group_join_rejects_unsupported_gc_extension forges
         * such a Welcome). */
        if (!grp_own_leaf_supports_extensions(&kp->decoded.leaf_node,
                                              &gi.group_context.extensions))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        MLS_TRY(group_alloc(s, opts, &g));
        MLS_TRY(group_info_tree(s, &gi, ratchet_tree, tree_len, &g->tree));
        MLS_TRY(check_tree_and_signature(g, env, &gi));
        /* R-12.4.3.1-17: our leaf, byte for byte the KeyPackage's. */
        MLS_TRY(mls_leaf_node_to_bytes(&kp->decoded.leaf_node, &a));
        if (mls_tree_find_leaf_by_encryption_key(g->tree, kp->decoded.leaf_node.encryption_key.data,
                                                 kp->decoded.leaf_node.encryption_key.len,
                                                 &my_leaf) < 0)
                return MLS_E_INVALID_TREE;
        MLS_TRY(mls_leaf_node_to_bytes(mls_tree_leaf(g->tree, my_leaf), &b));
        if (!mls_bytes_eq(&a, &b))
                return MLS_E_INVALID_TREE;
        /* R-12.4.3.1-18 .. -20: our leaf key, and with a path secret the
         * keys from the common ancestor with the signer up. */
        MLS_TRY(mls_treekem_priv_join(g->tree, my_leaf, kp->enc_priv, gi.signer, gs.path_secret,
                                      &g->priv));
        g->own_leaf = my_leaf;
        g->gc = gi.group_context;
        memset(&gi.group_context, 0, sizeof(gi.group_context));
        MLS_TRY(grp_refresh_gc_bytes(g));
        /* R-12.4.3.1-21 */
        MLS_TRY(mls_ks_from_joiner(s, gs.joiner_secret, psk_secret, g->gc_bytes.data,
                                   g->gc_bytes.len, &g->ks));
        ck = mls_ks_get(g->ks, MLS_KS_CONFIRMATION_KEY);
        if (!ck)
                return MLS_E_INTERNAL;
        /* R-12.4.3.1-22 (the GroupContext moved out of gi; the tag is
         * over the confirmed transcript hash) */
        MLS_TRY(mls_transcript_verify_tag(s, ck, nh, g->gc.confirmed_transcript_hash.data,
                                          g->gc.confirmed_transcript_hash.len,
                                          gi.confirmation_tag.data, gi.confirmation_tag.len));
        /* R-12.4.3.1-23 */
        MLS_TRY(mls_transcript_interim(s, g->gc.confirmed_transcript_hash.data,
                                       g->gc.confirmed_transcript_hash.len,
                                       gi.confirmation_tag.data, gi.confirmation_tag.len,
                                       g->interim));
        g->conf_tag = gi.confirmation_tag;
        gi.confirmation_tag = (struct mls_bytes){ 0 };
        MLS_TRY(check_resumption_welcome(g, env, &gs));
        MLS_TRY(grp_new_secret_tree(g, g->ks, mls_tree_width(g->tree), &g->st));
        /* R-9.2-1, R-9.2-2 */
        mls_ks_delete(g->ks, MLS_KS_ENCRYPTION_SECRET);
        mls_ks_delete(g->ks, MLS_KS_JOINER_SECRET);
        mls_ks_delete(g->ks, MLS_KS_WELCOME_SECRET);
        MLS_TRY(grp_res_push(g, g->gc.epoch, mls_ks_get(g->ks, MLS_KS_RESUMPTION_PSK)));
        MLS_TRY(grp_pool_prepare(g));
        if (ret_kp_index)
                *ret_kp_index = kpi;
        *ret = MLS_TAKE(g);
        return 0;
}

/* ---- external commit (section 12.4.3.2) ---- */

int
mls_group_join_external(const uint8_t *group_info, size_t gi_len, const uint8_t *ratchet_tree,
                        size_t tree_len, const struct mls_external_join_params *p,
                        const struct mls_group_options *opts, const struct mls_env *env,
                        struct mls_group **ret_group, struct mls_bytes *ret_commit)
{
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };
        _mls_cleanup_(mls_external_pub_clear) struct mls_external_pub ep = { 0 };
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(grp_applied_clear) struct grp_applied a = { 0 };
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };
        _mls_cleanup_(mls_treekem_commit_freep) struct mls_treekem_commit *tc = NULL;
        _mls_cleanup_(mls_leaf_node_clear) struct mls_leaf_node tmpl = { 0 };
        _mls_cleanup_(mls_group_context_clear) struct mls_group_context gc = { 0 };
        _mls_cleanup_(grp_next_clear) struct grp_next next = { 0 };
        _mls_group_ struct mls_group *g = NULL;
        /* after g: cleanups run in reverse order, the transaction ends
         * before the group (and its tree) is freed */
        _mls_cleanup_(grp_tree_tx_end) struct grp_tree_tx tx = { 0 };
        _mls_secret_ struct mls_secret *init = NULL, *commit_secret = NULL, *psk_secret = NULL;
        _grp_bytes_ struct mls_bytes kem_output = { 0 }, gcb = { 0 }, msg = { 0 };
        _mls_free_ struct grp_rprop *l = NULL;
        const struct mls_extension *e;
        const struct mls_suite *s;
        struct mls_commit *c;
        uint8_t th[MLS_MAX_HASH_LEN], confirmed[MLS_MAX_HASH_LEN], tag[MLS_MAX_HASH_LEN];
        uint8_t interim_before[MLS_MAX_HASH_LEN];
        size_t n = 0, nh, np;
        uint32_t leaf;
        const uint8_t *ck;

        if (!group_info || !p || !env || !env->rng || !env->signer || !env->signer->pub ||
            !ret_group || !ret_commit || (!p->psk_ids && p->n_psk_ids))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_message_from_bytes(group_info, gi_len, &m));
        if (m.wire_format != MLS_WIRE_GROUP_INFO)
                return MLS_E_WRONG_WIRE_FORMAT;
        s = mls_suite_get(m.group_info.group_context.cipher_suite);
        if (!s)
                return MLS_E_UNSUPPORTED;
        nh = s->hash_len;
        /* R-12.4.3.2-1: external_pub is required. */
        e = mls_extension_list_find(&m.group_info.extensions, MLS_EXT_EXTERNAL_PUB);
        if (!e)
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_extension_get_external_pub(e, &ep));
        MLS_TRY(group_alloc(s, opts, &g));
        g->own_leaf = UINT32_MAX;
        MLS_TRY(grp_leaf_template(&p->leaf, env->signer->pub, env->signer->pub_len,
                                  MLS_LEAF_SOURCE_COMMIT, env->now, &tmpl));
        /* R-12.4.3-4, R-13.4-8 (our real capabilities: no GREASE yet) */
        if (!grp_leaf_supports_extensions(&tmpl, &m.group_info.group_context.extensions))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        /* R-13.5-1 */
        MLS_TRY(grp_leaf_grease(&tmpl, env, NULL));
        MLS_TRY(group_info_tree(s, &m.group_info, ratchet_tree, tree_len, &g->tree));
        MLS_TRY(check_tree_and_signature(g, env, &m.group_info));
        MLS_TRY(grp_group_context_dup(&m.group_info.group_context, &g->gc));
        MLS_TRY(grp_refresh_gc_bytes(g));
        /* The interim transcript hash of the GroupInfo's epoch
         * (R-8.2-2). */
        MLS_TRY(mls_transcript_interim(s, g->gc.confirmed_transcript_hash.data,
                                       g->gc.confirmed_transcript_hash.len,
                                       m.group_info.confirmation_tag.data,
                                       m.group_info.confirmation_tag.len, interim_before));
        /* R-8.3-1: kem_output and the init_secret. */
        MLS_TRY(mls_ks_external_init_send(s, env->rng, ep.external_pub.data,
                                          ep.external_pub.len, &kem_output, &init));
        /* The commit: ExternalInit, an optional Remove of our old leaf,
         * PSKs (R-12.2-17, R-12.2-18), all by value (R-12.4.3.2-4). */
        ac.wire_format = MLS_WIRE_PUBLIC_MESSAGE;
        MLS_TRY(mls_bytes_dup(&ac.content.group_id, &g->gc.group_id));
        ac.content.epoch = g->gc.epoch;
        /* R-12.4.3.2-8 */
        ac.content.sender.sender_type = MLS_SENDER_NEW_MEMBER_COMMIT;
        if (p->authenticated_data)
                MLS_TRY(mls_bytes_dup(&ac.content.authenticated_data, p->authenticated_data));
        ac.content.content_type = MLS_CONTENT_COMMIT;
        c = &ac.content.commit;
        np = 1 + (p->remove_prior ? 1 : 0) + p->n_psk_ids;
        MLS_TRY(grp_alloc_array(np, sizeof(*c->proposals), (void **)&c->proposals));
        for (size_t i = 0; i < np; i++) {
                struct mls_proposal *pp = calloc(1, sizeof(*pp));

                if (!pp)
                        return MLS_E_NOMEM;
                c->proposals[i].type = MLS_POR_PROPOSAL;
                c->proposals[i].proposal = pp;
                c->n_proposals++;
                if (i == 0) {
                        pp->proposal_type = MLS_PROPOSAL_EXTERNAL_INIT;
                        pp->external_init.kem_output = kem_output;
                        kem_output = (struct mls_bytes){ 0 };
                } else if (p->remove_prior && i == 1) {
                        pp->proposal_type = MLS_PROPOSAL_REMOVE;
                        pp->remove.removed = p->prior_leaf;
                } else {
                        const struct mls_bytes *id = &p->psk_ids[i - 1 - (p->remove_prior ? 1 : 0)];

                        pp->proposal_type = MLS_PROPOSAL_PSK;
                        pp->psk.psk.psktype = MLS_PSK_EXTERNAL;
                        MLS_TRY(mls_bytes_dup(&pp->psk.psk.psk_id, id));
                        MLS_TRY(mls_psk_id_new_nonce(&pp->psk.psk, s, env->rng));
                }
        }
        c->has_path = true;
        MLS_TRY(grp_resolve(g, c, &ac.content.sender, GRP_COMMIT_EXTERNAL, &l, &n));
        MLS_TRY(grp_validate_list(g, l, n, UINT32_MAX, GRP_COMMIT_EXTERNAL, true));
        MLS_TRY(grp_tree_tx_begin(g->tree, &tx));
        MLS_TRY(grp_apply(g, env, l, n, UINT32_MAX, GRP_COMMIT_EXTERNAL, true, &a));
        if (a.has_removed_leaf) {
                /* R-12.2-20: the same client as the removed leaf. */
                if (!mls_bytes_eq(cred_identity(&a.removed_credential),
                                  cred_identity(&tmpl.credential)))
                        return MLS_E_BAD_CREDENTIAL;
        }
        /* R-12.4.1-3: the leftmost blank leaf, or a new one. */
        MLS_TRY(grp_tree_reserve_leaf(g->tree, &leaf));
        MLS_TRY(mls_treekem_commit_begin(g->tree, leaf, &tmpl, &g->gc.group_id, env->signer,
                                         env->rng, &tc));
        MLS_TRY(mls_tree_hash(g->tree, th));
        MLS_TRY(grp_next_gc(g, &g->gc.extensions, th, g->gc.confirmed_transcript_hash.data,
                            g->gc.confirmed_transcript_hash.len, &gc));
        MLS_TRY(mls_group_context_to_bytes(&gc, &gcb));
        MLS_TRY(mls_treekem_commit_encrypt(tc, g->tree, gcb.data, gcb.len, NULL, 0, env->rng,
                                           &c->path));
        MLS_TRY(mls_treekem_commit_secret(tc, &commit_secret));
        MLS_TRY(mls_treekem_commit_take_priv(tc, &next.priv));
        /* R-12.4.3.2-5, R-12.4.3.2-6: signed by the joiner, whose key is
         * in the path's leaf. */
        MLS_TRY(grp_frame_group(g, &fg));
        MLS_TRY(mls_frame_sign(&fg, &ac, env->signer));
        MLS_TRY(grp_transcript(g, interim_before, nh, &ac, confirmed));
        MLS_TRY(grp_next_gc(g, &g->gc.extensions, th, confirmed, nh, &next.gc));
        mls_bytes_clear(&gcb);
        MLS_TRY(mls_group_context_to_bytes(&next.gc, &gcb));
        MLS_TRY(grp_psk_secret(g, &a, &psk_secret));
        /* R-12.4.3.2-7: the external init secret. */
        MLS_TRY(mls_ks_from_init(s, init, commit_secret, psk_secret, gcb.data, gcb.len,
                                 &next.ks));
        ck = mls_ks_get(next.ks, MLS_KS_CONFIRMATION_KEY);
        if (!ck)
                return MLS_E_INTERNAL;
        MLS_TRY(mls_transcript_confirmation_tag(s, ck, nh, confirmed, nh, tag));
        MLS_TRY(mls_bytes_copy(&ac.auth.confirmation_tag, tag, nh));
        MLS_TRY(mls_transcript_interim(s, confirmed, nh, tag, nh, next.interim));
        MLS_TRY(mls_bytes_copy(&next.conf_tag, tag, nh));
        /* PublicMessage without membership tag (R-6.2-2). */
        MLS_TRY(mls_frame_public_protect(&fg, &ac, NULL, 0, &msg));
        /* The joiner's group in the new epoch. */
        MLS_TRY(grp_new_secret_tree(g, next.ks, mls_tree_width(g->tree), &next.st));
        MLS_TRY(grp_res_prepare(g));
        MLS_TRY(grp_pool_prepare(g));
        grp_tree_tx_commit(&tx);
        mls_group_context_clear(&g->gc);
        g->gc = next.gc;
        memset(&next.gc, 0, sizeof(next.gc));
        MLS_TRY(grp_refresh_gc_bytes(g));
        g->ks = MLS_TAKE(next.ks);
        g->priv = MLS_TAKE(next.priv);
        g->st = MLS_TAKE(next.st);
        mls_ks_delete(g->ks, MLS_KS_ENCRYPTION_SECRET);
        mls_ks_delete(g->ks, MLS_KS_JOINER_SECRET);
        mls_ks_delete(g->ks, MLS_KS_WELCOME_SECRET);
        memcpy(g->interim, next.interim, nh);
        g->conf_tag = next.conf_tag;
        next.conf_tag = (struct mls_bytes){ 0 };
        g->own_leaf = leaf;
        grp_res_put(g, g->gc.epoch, mls_ks_get(g->ks, MLS_KS_RESUMPTION_PSK));
        *ret_group = MLS_TAKE(g);
        *ret_commit = msg;
        msg = (struct mls_bytes){ 0 };
        return 0;
}
