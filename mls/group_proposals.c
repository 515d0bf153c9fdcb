/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 5: proposals (RFC 9420 section 12.1):
 * the individual validity checks, builders, sending and caching, and
 * proposals from outside the group (12.1.8).
 * Contracts: mls/group.h, mls/group-internal.h.
 */
#include <string.h>

#include "mls/credential.h"
#include "mls/group-internal.h"

/*
 * The checks of one proposal received in this epoch (or about to be sent),
 * as far as they do not depend on the rest of the commit that will carry
 * it (those run again, with the list, in grp_apply).
 */
int
grp_proposal_check(const struct mls_group *g, const struct mls_env *env,
                   const struct mls_proposal *p, const struct mls_sender *sender)
{
        _mls_cleanup_(mls_required_capabilities_clear) struct mls_required_capabilities req = { 0 };
        struct mls_leaf_policy pol;
        bool has_req;

        switch (p->proposal_type) {
        case MLS_PROPOSAL_ADD:
                /* R-12.1.1-1, R-10.1-2 .. -6, R-13.4-7: the KeyPackage.
                 * Its LeafNode is validated against the tree when a commit
                 * applies it (R-10.1-4): whether its keys are new depends
                 * on that commit's Removes (R-12.2-9). */
                MLS_TRY(grp_key_package_check(g->suite, &p->add.key_package, &g->gc.extensions,
                                              true));
                /* R-5.3.1-2 (an Add being made), R-5.3.1-4 (a received
                 * Add), R-5.3.1-1, R-5.3-1: the new member's credential. */
                return mls_credential_validate_leaf(env, g->suite, &p->add.key_package.leaf_node,
                                                    NULL);
        case MLS_PROPOSAL_UPDATE:
                /* Members only (R-6.1-4, R-12.1.8-4: checked by framing). */
                if (sender->sender_type != MLS_SENDER_MEMBER)
                        return MLS_E_INVALID_SENDER;
                MLS_TRY(grp_policy(g, env, &g->gc.extensions, &req, &has_req, &pol));
                /* R-12.1.2-1, R-7.3-13, R-7.3-14 */
                MLS_TRY(mls_tree_leaf_validate(g->tree, &p->update.leaf_node, MLS_LEAF_UPDATE,
                                               sender->leaf_index, &g->gc.group_id, &pol));
                if (!grp_leaf_supports_extensions(&p->update.leaf_node, &g->gc.extensions))
                        return MLS_E_UNSUPPORTED_CAPABILITY;
                /* R-7.3-4, R-5.3.1-5, R-5.3.1-8: a new credential goes to
                 * the AS with the one it replaces. */
                return mls_credential_validate_leaf(env, g->suite, &p->update.leaf_node,
                                                    mls_tree_leaf(g->tree, sender->leaf_index));
        case MLS_PROPOSAL_REMOVE:
                /* R-12.1.3-1 */
                if (p->remove.removed >= mls_tree_width(g->tree) ||
                    !mls_tree_leaf(g->tree, p->remove.removed))
                        return MLS_E_BLANK_LEAF;
                return 0;
        case MLS_PROPOSAL_PSK:
                /* R-12.1.4-1 .. -3 */
                return grp_check_psk_proposal(g, &p->psk.psk, GRP_COMMIT_MEMBER);
        case MLS_PROPOSAL_REINIT:
                /* R-12.1.5-1 */
                if (p->reinit.version < g->gc.version)
                        return MLS_E_INVALID_PROPOSAL;
                return 0;
        case MLS_PROPOSAL_EXTERNAL_INIT:
                /* R-12.1.6-1: only inside an external commit, never sent
                 * on its own. */
                return MLS_E_EXTERNAL_INIT_IN_MEMBER_COMMIT;
        case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS: {
                /* R-12.1.7-1 is judged with the commit's Adds and Removes
                 * (grp_apply); here only the well-formedness of the typed
                 * extensions. */
                const struct mls_extension_list *x = &p->group_context_extensions.extensions;
                const struct mls_extension *e;

                e = mls_extension_list_find(x, MLS_EXT_REQUIRED_CAPABILITIES);
                if (e) {
                        struct mls_required_capabilities rc = { 0 };
                        int r = mls_extension_get_required_capabilities(e, &rc);

                        mls_required_capabilities_clear(&rc);
                        MLS_TRY(r);
                }
                e = mls_extension_list_find(x, MLS_EXT_EXTERNAL_SENDERS);
                if (e) {
                        struct mls_external_senders es = { 0 };
                        int r = mls_extension_get_external_senders(e, &es);

                        mls_external_senders_clear(&es);
                        MLS_TRY(r);
                }
                /* R-5.3.1-7: external senders added or changed. */
                return mls_credential_validate_external_senders(env, g->suite, x,
                                                                &g->gc.extensions);
        }
        default:
                return MLS_E_INVALID_PROPOSAL;
        }
}

/* ---- builders ---- */

int
mls_group_make_add(const struct mls_group *g, const struct mls_env *env, const uint8_t *kp,
                   size_t kp_len, struct mls_proposal *ret)
{
        _mls_cleanup_(mls_proposal_clear) struct mls_proposal p = { 0 };
        struct mls_sender self;

        if (!g || !kp || !ret)
                return MLS_E_INVALID_ARGUMENT;
        p.proposal_type = MLS_PROPOSAL_ADD;
        MLS_TRY(grp_key_package_decode(kp, kp_len, &p.add.key_package));
        self = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER, .leaf_index = g->own_leaf };
        /* R-10.1-1: validated when fetched, before it is used, against the
         * group as it is now. */
        MLS_TRY(grp_proposal_check(g, env, &p, &self));
        {
                _mls_cleanup_(mls_required_capabilities_clear) struct mls_required_capabilities req = { 0 };
                struct mls_leaf_policy pol;
                bool has_req;

                MLS_TRY(grp_policy(g, env, &g->gc.extensions, &req, &has_req, &pol));
                MLS_TRY(mls_tree_leaf_validate(g->tree, &p.add.key_package.leaf_node,
                                               MLS_LEAF_KEY_PACKAGE, 0, NULL, &pol));
        }
        *ret = p;
        memset(&p, 0, sizeof(p));
        return 0;
}

int
mls_group_make_remove(const struct mls_group *g, uint32_t leaf, struct mls_proposal *ret)
{
        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        /* R-12.1.3-1 */
        if (leaf >= mls_tree_width(g->tree) || !mls_tree_leaf(g->tree, leaf))
                return MLS_E_BLANK_LEAF;
        *ret = (struct mls_proposal){ .proposal_type = MLS_PROPOSAL_REMOVE };
        ret->remove.removed = leaf;
        return 0;
}

static int
make_psk(const struct mls_group *g, const struct mls_env *env, struct mls_psk_id *id,
         struct mls_proposal *ret)
{
        _mls_secret_ struct mls_secret *v = NULL;

        if (!env || !env->rng)
                return MLS_E_INVALID_ARGUMENT;
        /* R-12.1.4-4: a random nonce of KDF.Nh bytes. */
        MLS_TRY(mls_psk_id_new_nonce(id, g->suite, env->rng));
        /* Known now (R-12.4.2-5 is checked again at commit). */
        MLS_TRY(grp_psk_lookup(g, env, id, &v));
        *ret = (struct mls_proposal){ .proposal_type = MLS_PROPOSAL_PSK };
        ret->psk.psk = *id;
        memset(id, 0, sizeof(*id));
        return 0;
}

int
mls_group_make_psk_external(const struct mls_group *g, const struct mls_env *env,
                            const uint8_t *psk_id, size_t len, struct mls_proposal *ret)
{
        _mls_psk_id_ struct mls_psk_id id = { .psktype = MLS_PSK_EXTERNAL };

        if (!g || !psk_id || !ret)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_bytes_copy(&id.psk_id, psk_id, len));
        return make_psk(g, env, &id, ret);
}

int
mls_group_make_psk_resumption(const struct mls_group *g, const struct mls_env *env,
                              const uint8_t *group_id, size_t len, uint64_t epoch,
                              struct mls_proposal *ret)
{
        _mls_psk_id_ struct mls_psk_id id = { .psktype = MLS_PSK_RESUMPTION,
                                               .usage = MLS_PSK_USAGE_APPLICATION };

        if (!g || (!group_id && len) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_bytes_copy(&id.psk_group_id, group_id, len));
        id.psk_epoch = epoch;
        return make_psk(g, env, &id, ret);
}

int
mls_group_make_group_context_extensions(const uint8_t *extensions, size_t len,
                                        struct mls_proposal *ret)
{
        _mls_cleanup_(mls_proposal_clear) struct mls_proposal p = { 0 };

        if ((!extensions && len) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        p.proposal_type = MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS;
        /* R-13.4-5: no type twice (the decoder rejects it). */
        /* An empty buffer is the empty list. */
        if (len)
                MLS_TRY(mls_extension_list_from_bytes(extensions, len,
                                                      &p.group_context_extensions.extensions));
        /* R-13.5-3: we never send GREASE in a GroupContextExtensions
         * proposal. */
        if (grp_extensions_have_grease(&p.group_context_extensions.extensions))
                return MLS_E_INVALID_ARGUMENT;
        *ret = p;
        memset(&p, 0, sizeof(p));
        return 0;
}

int
mls_group_make_reinit(const uint8_t *group_id, size_t group_id_len, uint16_t cipher_suite,
                      const uint8_t *extensions, size_t ext_len, struct mls_proposal *ret)
{
        _mls_cleanup_(mls_proposal_clear) struct mls_proposal p = { 0 };

        if ((!group_id && group_id_len) || (!extensions && ext_len) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        if (!mls_suite_get(cipher_suite))
                return MLS_E_UNSUPPORTED;
        p.proposal_type = MLS_PROPOSAL_REINIT;
        MLS_TRY(mls_bytes_copy(&p.reinit.group_id, group_id, group_id_len));
        p.reinit.version = MLS_VERSION_MLS10;
        p.reinit.cipher_suite = cipher_suite;
        /* An empty buffer is the empty list. */
        if (ext_len)
                MLS_TRY(mls_extension_list_from_bytes(extensions, ext_len, &p.reinit.extensions));
        /* R-13.5-3: they become the new group's GroupContext extensions. */
        if (grp_extensions_have_grease(&p.reinit.extensions))
                return MLS_E_INVALID_ARGUMENT;
        *ret = p;
        memset(&p, 0, sizeof(p));
        return 0;
}

/* ---- sending ---- */

/* Frames, signs, protects and caches one proposal of ours; update_priv
 * (may be NULL) is stored with it. */
static int
send_proposal(struct mls_group *g, const struct mls_env *env, const struct mls_proposal *p,
              const struct mls_bytes *aad, struct mls_secret **update_priv,
              struct mls_bytes *ret_msg, struct mls_bytes *ret_ref)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };
        _grp_bytes_ struct mls_bytes acb = { 0 }, msg = { 0 }, refb = { 0 };
        uint8_t ref[MLS_MAX_HASH_LEN];
        size_t nh = g->suite->hash_len;
        struct grp_prop *np;

        if (!env || !env->signer || !env->rng || !ret_msg)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                return MLS_E_REMOVED;
        if (g->has_reinit)
                return MLS_E_INVALID_ARGUMENT; /* R-12.4.2-19 */
        MLS_TRY(grp_framed_init(g, MLS_CONTENT_PROPOSAL, aad, &ac));
        ac.content.proposal.proposal_type = 0;
        MLS_TRY(grp_proposal_dup(p, &ac.content.proposal));
        MLS_TRY(grp_frame_group(g, &fg));
        MLS_TRY(mls_frame_sign(&fg, &ac, env->signer));
        /* ProposalRef over the AuthenticatedContent. */
        MLS_TRY(mls_authenticated_content_to_bytes(&ac, &acb));
        MLS_TRY(mls_make_proposal_ref(g->suite, acb.data, acb.len, ref));
        MLS_TRY(mls_bytes_copy(&refb, ref, nh));
        if (ret_ref)
                MLS_TRY(mls_bytes_copy(ret_ref, ref, nh));
        /* Room in the cache first: after protect nothing may fail. */
        np = realloc(g->props, (g->n_props + 1) * sizeof(*np));
        if (!np) {
                if (ret_ref)
                        mls_bytes_clear(ret_ref);
                return MLS_E_NOMEM;
        }
        g->props = np;
        {
                int r = grp_protect(g, env, &ac, &msg);

                if (r < 0) {
                        if (ret_ref)
                                mls_bytes_clear(ret_ref);
                        return r;
                }
        }
        np = &g->props[g->n_props++];
        *np = (struct grp_prop){ .ref = refb, .sender = ac.content.sender };
        refb = (struct mls_bytes){ 0 };
        np->p = ac.content.proposal;
        memset(&ac.content.proposal, 0, sizeof(ac.content.proposal));
        ac.content.content_type = 0;
        if (update_priv)
                np->update_priv = MLS_TAKE(*update_priv);
        *ret_msg = msg;
        msg = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_group_propose(struct mls_group *g, const struct mls_env *env, const struct mls_proposal *p,
                  const struct mls_bytes *aad, struct mls_bytes *ret_msg, struct mls_bytes *ret_ref)
{
        struct mls_sender self;

        if (!g || !p)
                return MLS_E_INVALID_ARGUMENT;
        /* An Update needs a new private key: mls_group_propose_update. */
        if (p->proposal_type == MLS_PROPOSAL_UPDATE)
                return MLS_E_INVALID_ARGUMENT;
        self = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER, .leaf_index = g->own_leaf };
        MLS_TRY(grp_proposal_check(g, env, p, &self));
        return send_proposal(g, env, p, aad, NULL, ret_msg, ret_ref);
}

int
mls_group_propose_update(struct mls_group *g, const struct mls_env *env,
                         const struct mls_leaf_params *leaf, const struct mls_bytes *aad,
                         struct mls_bytes *ret_msg, struct mls_bytes *ret_ref)
{
        _mls_cleanup_(mls_proposal_clear) struct mls_proposal p = { 0 };
        _mls_secret_ struct mls_secret *priv = NULL;
        struct mls_leaf_node *ln;
        const struct mls_leaf_node *cur;
        struct mls_sender self;

        if (!g || !env || !env->rng || !env->signer)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                return MLS_E_REMOVED;
        cur = mls_tree_leaf(g->tree, g->own_leaf);
        if (!cur)
                return MLS_E_REMOVED;
        p.proposal_type = MLS_PROPOSAL_UPDATE;
        ln = &p.update.leaf_node;
        if (leaf) {
                MLS_TRY(grp_leaf_template(leaf, cur->signature_key.data, cur->signature_key.len,
                                          MLS_LEAF_SOURCE_UPDATE, env->now, ln));
                /* R-13.5-1 (new contents; kept ones keep their GREASE) */
                MLS_TRY(grp_leaf_grease(ln, env, NULL));
        } else {
                MLS_TRY(grp_leaf_node_dup(cur, ln));
                mls_bytes_clear(&ln->parent_hash);
                ln->lifetime = (struct mls_lifetime){ 0 };
                ln->leaf_node_source = MLS_LEAF_SOURCE_UPDATE;
        }
        /* R-7.3-14: a new encryption key. */
        mls_bytes_clear(&ln->encryption_key);
        MLS_TRY(mls_crypto_kem_generate(g->suite, env->rng, &priv, &ln->encryption_key));
        MLS_TRY(grp_leaf_sign(ln, &g->gc.group_id, g->own_leaf, env->signer));
        self = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER, .leaf_index = g->own_leaf };
        MLS_TRY(grp_proposal_check(g, env, &p, &self));
        return send_proposal(g, env, &p, aad, &priv, ret_msg, ret_ref);
}

int
mls_group_leave(struct mls_group *g, const struct mls_env *env, struct mls_bytes *ret_msg)
{
        _mls_cleanup_(mls_proposal_clear) struct mls_proposal p = { 0 };

        if (!g)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_group_make_remove(g, g->own_leaf, &p));
        return send_proposal(g, env, &p, NULL, NULL, ret_msg, NULL);
}

/* ---- external proposals (section 12.1.8) ---- */

int
mls_external_proposal_create(const struct mls_suite *s, const uint8_t *group_id,
                             size_t group_id_len, uint64_t epoch, uint8_t sender_type,
                             uint32_t sender_index, const struct mls_proposal *p,
                             const struct mls_env *env, struct mls_bytes *ret_msg)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };
        _mls_cleanup_(mls_group_context_clear) struct mls_group_context gc = { 0 };

        if (!s || (!group_id && group_id_len) || !p || !env || !env->signer || !ret_msg)
                return MLS_E_INVALID_ARGUMENT;
        if (sender_type != MLS_SENDER_EXTERNAL && sender_type != MLS_SENDER_NEW_MEMBER_PROPOSAL)
                return MLS_E_INVALID_SENDER;
        /* FramedContentTBS of these senders holds no GroupContext (R-6.1-1);
         * the frame group only carries group_id and epoch to check. */
        gc.version = MLS_VERSION_MLS10;
        gc.cipher_suite = s->id;
        MLS_TRY(mls_bytes_copy(&gc.group_id, group_id, group_id_len));
        gc.epoch = epoch;
        MLS_TRY(mls_frame_group_init(s, &gc, &fg));
        /* R-12.1.8-3: always a PublicMessage. */
        ac.wire_format = MLS_WIRE_PUBLIC_MESSAGE;
        MLS_TRY(mls_bytes_copy(&ac.content.group_id, group_id, group_id_len));
        ac.content.epoch = epoch;
        ac.content.sender.sender_type = sender_type;
        if (sender_type == MLS_SENDER_EXTERNAL)
                ac.content.sender.sender_index = sender_index;
        ac.content.content_type = MLS_CONTENT_PROPOSAL;
        MLS_TRY(grp_proposal_dup(p, &ac.content.proposal));
        /* R-12.1.8-4, R-6.1-8: sign_prepare checks the combination. */
        MLS_TRY(mls_frame_sign(&fg, &ac, env->signer));
        return mls_frame_public_protect(&fg, &ac, NULL, 0, ret_msg);
}
