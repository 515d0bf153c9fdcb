/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 4: processing received messages
 * (RFC 9420 sections 6, 12.1, 12.4.2, 15) and sending application data.
 * Contracts: mls/group.h.
 */
#include <string.h>

#include "mls/credential.h"
#include "mls/group-internal.h"

void
mls_process_result_clear(struct mls_process_result *r)
{
        if (!r)
                return;
        mls_bytes_clear(&r->content);
        mls_bytes_clear(&r->authenticated_data);
        mls_bytes_clear(&r->proposal_ref);
        grp_u32_list_clearp(&r->added);
        grp_u32_list_clearp(&r->removed_leaves);
        memset(r, 0, sizeof(*r));
}

static int
result_init(struct mls_process_result *res, const struct mls_authenticated_content *ac)
{
        *res = (struct mls_process_result){ 0 };
        res->content_type = ac->content.content_type;
        res->sender_type = ac->content.sender.sender_type;
        res->sender_index = ac->content.sender.sender_type == MLS_SENDER_EXTERNAL
                                    ? ac->content.sender.sender_index
                                    : ac->content.sender.leaf_index;
        res->epoch = ac->content.epoch;
        return mls_bytes_dup(&res->authenticated_data, &ac->content.authenticated_data);
}

/* A copy of a secret tree through its saved form (guarded memory). */
static int
st_copy(const struct mls_secret_tree *st, struct mls_secret_tree **ret)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_reader r;

        mls_writer_init_secure(&w);
        MLS_TRY(mls_st_encode(st, &w));
        mls_reader_init(&r, w.buf, w.len);
        MLS_TRY(mls_st_decode(&r, ret));
        return 0;
}

/* ---- proposals (section 12.1) ---- */

static int
handle_proposal(struct mls_group *g, const struct mls_env *env,
                struct mls_authenticated_content *ac, struct mls_process_result *res)
{
        _mls_cleanup_(mls_process_result_clear) struct mls_process_result r = { 0 };
        _grp_bytes_ struct mls_bytes acb = { 0 };
        uint8_t ref[MLS_MAX_HASH_LEN];
        size_t nh = g->suite->hash_len;
        struct grp_prop *np;

        /* R-12.1-1, R-12.1-2: signature and epoch were checked by the
         * unprotect step. The proposal itself: */
        MLS_TRY(grp_proposal_check(g, env, &ac->content.proposal, &ac->content.sender));
        /* R-12.1-3, R-5.2: ProposalRef over the AuthenticatedContent. */
        MLS_TRY(mls_authenticated_content_to_bytes(ac, &acb));
        MLS_TRY(mls_make_proposal_ref(g->suite, acb.data, acb.len, ref));
        MLS_TRY(result_init(&r, ac));
        MLS_TRY(mls_proposal_to_bytes(&ac->content.proposal, &r.content));
        MLS_TRY(mls_bytes_copy(&r.proposal_ref, ref, nh));
        if (!grp_prop_find(g, ref, nh)) {
                np = realloc(g->props, (g->n_props + 1) * sizeof(*np));
                if (!np)
                        return MLS_E_NOMEM;
                g->props = np;
                np = &g->props[g->n_props];
                *np = (struct grp_prop){ .sender = ac->content.sender };
                if (mls_bytes_copy(&np->ref, ref, nh) < 0)
                        return MLS_E_NOMEM;
                np->p = ac->content.proposal;
                memset(&ac->content.proposal, 0, sizeof(ac->content.proposal));
                ac->content.content_type = 0;
                g->n_props++;
        }
        *res = r;
        memset(&r, 0, sizeof(r));
        return 0;
}

/* ---- commits (section 12.4.2) ---- */

/* R-12.2-20: the application's rule for "the same client": for basic
 * credentials the same identity, for x509 the same leaf certificate. */
static bool
same_client(const struct mls_credential *a, const struct mls_credential *b)
{
        if (a->credential_type != b->credential_type)
                return false;
        if (a->credential_type == MLS_CREDENTIAL_BASIC)
                return mls_bytes_eq(&a->identity, &b->identity);
        if (a->n_certificates == 0 || b->n_certificates == 0)
                return false;
        return mls_bytes_eq(&a->certificates[0], &b->certificates[0]);
}

static int
handle_commit(struct mls_group *g, const struct mls_env *env,
              struct mls_authenticated_content *ac, struct mls_process_result *res)
{
        _mls_cleanup_(mls_process_result_clear) struct mls_process_result r = { 0 };
        _mls_cleanup_(grp_applied_clear) struct grp_applied a = { 0 };
        _mls_cleanup_(grp_tree_tx_end) struct grp_tree_tx tx = { 0 };
        _mls_cleanup_(grp_next_clear) struct grp_next next = { 0 };
        _mls_cleanup_(mls_group_context_clear) struct mls_group_context pgc = { 0 };
        _mls_cleanup_(mls_required_capabilities_clear) struct mls_required_capabilities req = { 0 };
        _mls_treekem_priv_ struct mls_treekem_priv *pin = NULL;
        _mls_secret_ struct mls_secret *commit_secret = NULL, *psk_secret = NULL, *init = NULL;
        _grp_bytes_ struct mls_bytes gcb = { 0 };
        _mls_free_ struct grp_rprop *l = NULL;
        const struct mls_commit *c = &ac->content.commit;
        const struct mls_sender *snd = &ac->content.sender;
        enum grp_commit_kind kind;
        const struct mls_extension_list *ext;
        struct mls_leaf_policy pol;
        uint8_t th[MLS_MAX_HASH_LEN], confirmed[MLS_MAX_HASH_LEN];
        const uint8_t *ck;
        size_t n = 0, nh = g->suite->hash_len;
        uint32_t committer;
        bool has_req;

        if (snd->sender_type == MLS_SENDER_MEMBER) {
                kind = GRP_COMMIT_MEMBER;
                committer = snd->leaf_index;
                if (committer == g->own_leaf) {
                        /* Our own commit, back from the delivery service. */
                        if (g->pending &&
                            mls_bytes_eq(&g->pending->ac.auth.signature, &ac->auth.signature))
                                return grp_merge_pending(g, env, res);
                        return MLS_E_INVALID_SENDER;
                }
        } else if (snd->sender_type == MLS_SENDER_NEW_MEMBER_COMMIT) {
                /* R-12.4.3.2-8, R-12.4.3.2-2 */
                kind = GRP_COMMIT_EXTERNAL;
                committer = UINT32_MAX;
        } else {
                /* R-6.1-4: only members and new members commit. */
                return MLS_E_INVALID_SENDER;
        }
        /* R-12.4.3.2-3: the framing layer already required a path for
         * new_member_commit. R-12.4-1: references from the cache. */
        MLS_TRY(grp_resolve(g, c, snd, kind, &l, &n));
        /* R-12.2-1, R-12.2-2, R-12.4-3, R-12.4.2-4, R-12.4.2-7 */
        MLS_TRY(grp_validate_list(g, l, n, committer, kind, c->has_path));
        /* R-12.4.2-18: every change goes into a transaction that is only
         * kept when all checks passed. */
        MLS_TRY(grp_tree_tx_begin(g->tree, &tx));
        /* R-12.4.2-5, R-12.4.2-6, R-12.3-1 .. -5 */
        MLS_TRY(grp_apply(g, env, l, n, committer, kind, true, &a));
        ext = a.new_ext ? a.new_ext : &g->gc.extensions;
        if (kind == GRP_COMMIT_EXTERNAL) {
                /* R-12.4.2-8, R-12.4.3.2-3: the leftmost blank leaf of the
                 * new tree, or a new one. */
                MLS_TRY(grp_tree_reserve_leaf(g->tree, &committer));
                MLS_TRY(grp_applied_touch_blank(&a, committer));
                if (a.has_removed_leaf) {
                        /* R-12.2-20 */
                        if (!same_client(&a.removed_credential, &c->path.leaf_node.credential))
                                return MLS_E_BAD_CREDENTIAL;
                        /* R-12.2-19, R-7.3-14: a new encryption key, as for
                         * an Update of the removed leaf. */
                        if (mls_bytes_eq(&a.removed_enc_key, &c->path.leaf_node.encryption_key))
                                return MLS_E_DUPLICATE_KEY;
                }
        } else {
                MLS_TRY(grp_applied_touch(&a, g->tree, committer));
        }
        if (a.self_removed) {
                /* We cannot follow into the next epoch. The commit is
                 * authentic (signature and, for members, membership tag)
                 * and its list valid; mark the group removed and keep the
                 * current epoch for late application messages. */
                grp_tree_tx_end(&tx);
                MLS_TRY(result_init(&r, ac));
                r.removed = true;
                r.reinit = a.reinit != NULL;
                r.added = a.added;
                a.added = (struct mls_u32_list){ 0 };
                r.removed_leaves = a.removed;
                a.removed = (struct mls_u32_list){ 0 };
                grp_props_clear(g);
                grp_pending_free(g->pending);
                g->pending = NULL;
                g->removed = true;
                *res = r;
                memset(&r, 0, sizeof(r));
                return 0;
        }
        /* Our private keys going in: an Update of our leaf that someone
         * else commits brings the key we proposed. Path decryption makes a
         * new state; with our Update we need a copy. Without a path and
         * without our Update, next.priv stays NULL: grp_advance keeps
         * g->priv and prunes it (no copy of the guarded keys). */
        if (a.own_update)
                MLS_TRY(mls_treekem_priv_dup(g->priv, &pin));
        if (a.own_update) {
                if (!a.own_update_priv)
                        return MLS_E_INTERNAL;
                MLS_TRY(mls_treekem_priv_set_leaf_key(pin, a.own_update_priv));
        }
        if (c->has_path) {
                MLS_TRY(grp_policy(g, env, ext, &req, &has_req, &pol));
                /* R-7.3-4, R-5.3.1-6, R-5.3.1-8: a new credential of the
                 * committer goes to the AS with the one it replaces (for
                 * an external commit: the removed leaf's, if any). */
                if (kind == GRP_COMMIT_EXTERNAL)
                        MLS_TRY(mls_credential_validate(
                                env, g->suite, &c->path.leaf_node.credential,
                                c->path.leaf_node.signature_key.data,
                                c->path.leaf_node.signature_key.len,
                                a.has_removed_leaf ? &a.removed_credential : NULL));
                else
                        MLS_TRY(mls_credential_validate_leaf(env, g->suite, &c->path.leaf_node,
                                                             mls_tree_leaf(g->tree, committer)));
                /* R-7.3-2, R-7.5-3: the committer's new LeafNode gets the
                 * full LeafNode validation of an Update (capabilities, new
                 * encryption key, signature over group_id and leaf index),
                 * with source commit instead of update.
                 * R-12.4.2-9 .. R-12.4.2-12, R-7.5-6, R-7.9.2-5: leaf
                 * validation, parent hash, merge. */
                MLS_TRY(mls_treekem_path_merge(g->tree, committer, &c->path, &g->gc.group_id,
                                               a.added.v, a.added.n, &pol));
                /* R-13.4-10: the committer's new leaf supports the group's
                 * extensions. */
                if (!grp_leaf_supports_extensions(&c->path.leaf_node, ext))
                        return MLS_E_UNSUPPORTED_CAPABILITY;
                MLS_TRY(mls_tree_hash(g->tree, th));
                /* R-12.4.2-13: the provisional GroupContext is the HPKE
                 * context. */
                MLS_TRY(grp_next_gc(g, ext, th, g->gc.confirmed_transcript_hash.data,
                                    g->gc.confirmed_transcript_hash.len, &pgc));
                MLS_TRY(mls_group_context_to_bytes(&pgc, &gcb));
                /* R-12.4.2-13, R-12.4.2-14, R-7.5-7 .. -10 */
                MLS_TRY(mls_treekem_path_decrypt(g->tree, pin ? pin : g->priv, committer, &c->path,
                                                 gcb.data,
                                                 gcb.len, a.added.v, a.added.n, &next.priv,
                                                 &commit_secret));
                mls_group_context_clear(&pgc);
                mls_bytes_clear(&gcb);
        } else {
                /* R-12.4.2-14: commit_secret is all zero without a path. */
                MLS_TRY(mls_tree_hash(g->tree, th));
                next.priv = MLS_TAKE(pin);
        }
        /* R-7.5-12: keys of blanked or replaced nodes are dropped. */
        if (next.priv)
                mls_treekem_priv_prune(next.priv, g->tree);
        /* R-12.4.2-15: transcript hashes and the new GroupContext. */
        MLS_TRY(grp_transcript(g, g->interim, nh, ac, confirmed));
        MLS_TRY(grp_next_gc(g, ext, th, confirmed, nh, &next.gc));
        MLS_TRY(mls_group_context_to_bytes(&next.gc, &gcb));
        /* R-12.4.2-16: psk_secret in proposal order (R-12.1.4-5). */
        MLS_TRY(grp_psk_secret(g, &a, &psk_secret));
        if (kind == GRP_COMMIT_EXTERNAL) {
                /* R-12.1.6-2, R-12.4.3.2-7, R-8.3-2 */
                MLS_TRY(mls_ks_external_init_recv(g->ks, a.ext_init->kem_output.data,
                                                  a.ext_init->kem_output.len, &init));
                MLS_TRY(mls_ks_from_init(g->suite, init, commit_secret, psk_secret, gcb.data,
                                         gcb.len, &next.ks));
        } else {
                MLS_TRY(mls_ks_next(g->ks, commit_secret, psk_secret, gcb.data, gcb.len,
                                    &next.ks));
        }
        /* R-12.4.2-17, R-6.1-12: the confirmation tag. */
        ck = mls_ks_get(next.ks, MLS_KS_CONFIRMATION_KEY);
        if (!ck)
                return MLS_E_INTERNAL;
        MLS_TRY(mls_transcript_verify_tag(g->suite, ck, nh, confirmed, nh,
                                          ac->auth.confirmation_tag.data,
                                          ac->auth.confirmation_tag.len));
        MLS_TRY(mls_transcript_interim(g->suite, confirmed, nh, ac->auth.confirmation_tag.data,
                                       ac->auth.confirmation_tag.len, next.interim));
        MLS_TRY(mls_bytes_dup(&next.conf_tag, &ac->auth.confirmation_tag));
        MLS_TRY(grp_new_secret_tree(g, next.ks, mls_tree_width(g->tree), &next.st));
        next.own_leaf = g->own_leaf;
        MLS_TRY(result_init(&r, ac));
        if (kind == GRP_COMMIT_EXTERNAL)
                r.sender_index = committer;
        r.reinit = a.reinit != NULL;
        r.added = a.added;
        a.added = (struct mls_u32_list){ 0 };
        r.removed_leaves = a.removed;
        a.removed = (struct mls_u32_list){ 0 };
        /* R-12.4.2-18: all checks passed, switch to the new epoch. */
        MLS_TRY(grp_advance(g, &next, &a));
        grp_tree_tx_commit(&tx);
        *res = r;
        memset(&r, 0, sizeof(r));
        return 0;
}

static int
handle_content(struct mls_group *g, const struct mls_env *env,
               struct mls_authenticated_content *ac, struct mls_process_result *res)
{
        switch (ac->content.content_type) {
        case MLS_CONTENT_APPLICATION: {
                _mls_cleanup_(mls_process_result_clear) struct mls_process_result r = { 0 };

                MLS_TRY(result_init(&r, ac));
                r.content = ac->content.application_data;
                ac->content.application_data = (struct mls_bytes){ 0 };
                *res = r;
                memset(&r, 0, sizeof(r));
                return 0;
        }
        case MLS_CONTENT_PROPOSAL:
                return handle_proposal(g, env, ac, res);
        case MLS_CONTENT_COMMIT:
                return handle_commit(g, env, ac, res);
        default:
                return MLS_E_BAD_ENUM;
        }
}

/* ---- unprotecting ---- */

static int
process_public(struct mls_group *g, const struct mls_env *env, struct mls_public_message *pm,
               struct mls_process_result *res)
{
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(grp_senders_ctx_clear) struct grp_senders_ctx sc = { .g = g };
        struct mls_frame_senders senders = { .lookup = grp_senders_lookup, .ctx = &sc };
        const uint8_t *mk = mls_ks_get(g->ks, MLS_KS_MEMBERSHIP_KEY);

        if (!mls_bytes_eq(&pm->content.group_id, &g->gc.group_id))
                return MLS_E_WRONG_GROUP;
        /* R-12.1-2, R-12.4.2-1 */
        if (pm->content.epoch != g->gc.epoch)
                return MLS_E_WRONG_EPOCH;
        if (g->removed)
                return MLS_E_REMOVED;
        if (!mk)
                return MLS_E_INTERNAL;
        MLS_TRY(grp_frame_group(g, &fg));
        /* R-12.4.2-2, R-12.4.2-3, R-6.2-3, R-6.2-4, R-12.1-1 */
        MLS_TRY(mls_frame_public_unprotect(&fg, pm, mk, g->suite->hash_len, &senders, &ac));
        return handle_content(g, env, &ac, res);
}

static int
process_private(struct mls_group *g, const struct mls_env *env,
                const struct mls_private_message *pm, struct mls_process_result *res)
{
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(grp_senders_ctx_clear) struct grp_senders_ctx sc = { .g = g };
        _mls_st_ struct mls_secret_tree *scratch = NULL;
        struct mls_frame_senders senders = { .lookup = grp_senders_lookup, .ctx = &sc };
        size_t nh = g->suite->hash_len;
        struct mls_secret_tree *orig;
        int r;

        /* R-15-1: group and epoch choose the secrets. */
        if (!mls_bytes_eq(&pm->group_id, &g->gc.group_id))
                return MLS_E_WRONG_GROUP;
        if (pm->epoch != g->gc.epoch) {
                const struct grp_past *p = NULL;

                /* R-12.4.2-1: handshake messages only for the current
                 * epoch. */
                if (pm->content_type != MLS_CONTENT_APPLICATION)
                        return MLS_E_WRONG_EPOCH;
                for (size_t i = 0; i < g->n_past; i++) {
                        if (g->past[i].gc.epoch == pm->epoch) {
                                p = &g->past[i];
                                sc.past = p;
                                sc.past_idx = i;
                        }
                }
                if (!p)
                        return pm->epoch < g->gc.epoch ? MLS_E_EXPIRED_EPOCH : MLS_E_WRONG_EPOCH;
                MLS_TRY(mls_frame_group_init(g->suite, &p->gc, &fg));
                /* A late application message of a kept past epoch (R-15.3-1). */
                MLS_TRY(mls_frame_private_unprotect(&fg, pm,
                                                    mls_ks_get(p->ks, MLS_KS_SENDER_DATA_SECRET),
                                                    g->suite->hash_len, p->st,
                                                    &senders, &ac));
                return handle_content(g, env, &ac, res);
        }
        MLS_TRY(grp_frame_group(g, &fg));
        if (pm->content_type == MLS_CONTENT_APPLICATION) {
                /* The secret tree is only changed once the message verified. */
                MLS_TRY(mls_frame_private_unprotect(&fg, pm,
                                                    mls_ks_get(g->ks, MLS_KS_SENDER_DATA_SECRET),
                                                    nh, g->st, &senders, &ac));
                return handle_content(g, env, &ac, res);
        }
        if (g->removed)
                return MLS_E_REMOVED;
        /* A handshake message may still be rejected after decryption (an
         * invalid proposal or commit): decrypt with a copy of the secret
         * tree and keep the copy only if everything succeeds. */
        MLS_TRY(st_copy(g->st, &scratch));
        MLS_TRY(mls_frame_private_unprotect(&fg, pm, mls_ks_get(g->ks, MLS_KS_SENDER_DATA_SECRET),
                                            nh, scratch, &senders, &ac));
        orig = g->st;
        g->st = scratch;
        r = handle_content(g, env, &ac, res);
        if (r < 0) {
                g->st = orig;
                return r;
        }
        /* Success: the consumed copy lives on (in g or in its past epochs). */
        scratch = orig;
        return 0;
}

int
mls_group_process(struct mls_group *g, const struct mls_env *env, const uint8_t *msg, size_t len,
                  struct mls_process_result *ret)
{
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };

        if (!g || (!msg && len) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        /* Not state: guarded blocks reused by this and later calls. */
        MLS_TRY(grp_use_pool(g));
        MLS_TRY(mls_message_from_bytes(msg, len, &m));
        switch (m.wire_format) {
        case MLS_WIRE_PUBLIC_MESSAGE:
                return process_public(g, env, &m.public_message, ret);
        case MLS_WIRE_PRIVATE_MESSAGE:
                return process_private(g, env, &m.private_message, ret);
        default:
                return MLS_E_WRONG_WIRE_FORMAT;
        }
}

/* ---- application messages (section 15) ---- */

int
mls_group_encrypt(struct mls_group *g, const struct mls_env *env, const uint8_t *pt,
                  size_t pt_len, const struct mls_bytes *aad, struct mls_bytes *ret_msg)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };

        if (!g || !env || !env->signer || !env->rng || (!pt && pt_len) || !ret_msg)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                return MLS_E_REMOVED;
        /* R-12.4.2-19 */
        if (g->has_reinit)
                return MLS_E_INVALID_ARGUMENT;
        /* R-12.4-2: proposals seen in this epoch are committed before any
         * application data is sent. */
        if (g->n_props > 0)
                return MLS_E_PROPOSALS_PENDING;
        MLS_TRY(grp_use_pool(g));
        MLS_TRY(grp_framed_init(g, MLS_CONTENT_APPLICATION, aad, &ac));
        MLS_TRY(mls_bytes_copy(&ac.content.application_data, pt, pt_len));
        MLS_TRY(grp_frame_group(g, &fg));
        MLS_TRY(mls_frame_sign(&fg, &ac, env->signer));
        return grp_protect(g, env, &ac, ret_msg);
}
