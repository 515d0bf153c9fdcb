/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 2: proposal lists (RFC 9420 sections 12.2,
 * 12.3), PSK lookup (8.4, 8.6), moving to the next epoch.
 * Contracts: mls/group-internal.h.
 */
#include <string.h>

#include "mls/credential.h"
#include "mls/group-internal.h"

void
grp_applied_clear(struct grp_applied *a)
{
        if (!a)
                return;
        grp_u32_list_clearp(&a->added);
        grp_u32_list_clearp(&a->removed);
        for (size_t i = 0; i < a->n_touched; i++)
                mls_bytes_clear(&a->touched[i].key);
        free(a->touched);
        for (size_t i = 0; i < a->n_psks; i++)
                mls_secret_free(a->psks[i]);
        free(a->psks);
        free(a->psk_ids);
        mls_credential_clear(&a->removed_credential);
        mls_bytes_clear(&a->removed_enc_key);
        memset(a, 0, sizeof(*a));
}

/* Records the signature key leaf `leaf` has now (empty if blank), once. */
int
grp_applied_touch(struct grp_applied *a, const struct mls_tree *t, uint32_t leaf)
{
        const struct mls_leaf_node *ln = mls_tree_leaf(t, leaf);
        struct grp_sigkey *nt;

        for (size_t i = 0; i < a->n_touched; i++)
                if (a->touched[i].leaf == leaf)
                        return 0;
        nt = realloc(a->touched, (a->n_touched + 1) * sizeof(*nt));
        if (!nt)
                return MLS_E_NOMEM;
        a->touched = nt;
        nt[a->n_touched] = (struct grp_sigkey){ .leaf = leaf };
        if (ln)
                MLS_TRY(mls_bytes_dup(&nt[a->n_touched].key, &ln->signature_key));
        a->n_touched++;
        return 0;
}

/* ---- PSKs (sections 8.4, 8.6) ---- */

int
grp_psk_lookup(const struct mls_group *g, const struct mls_env *env, const struct mls_psk_id *id,
               struct mls_secret **ret)
{
        if (id->psktype == MLS_PSK_EXTERNAL) {
                if (!env || !env->external_psk)
                        return MLS_E_UNKNOWN_PSK;
                return env->external_psk(env->ctx, id->psk_id.data, id->psk_id.len, ret);
        }
        if (id->psktype != MLS_PSK_RESUMPTION)
                return MLS_E_BAD_ENUM;
        /* R-8.4-4: a resumption PSK is the resumption_psk of the named
         * group and epoch. Our own group: the kept value of that epoch. */
        if (g && mls_bytes_eq(&id->psk_group_id, &g->gc.group_id))
                return mls_group_resumption_psk(g, id->psk_epoch, ret);
        if (env && env->find_group) {
                const struct mls_group *o =
                        env->find_group(env->ctx, id->psk_group_id.data, id->psk_group_id.len);

                if (o)
                        return mls_group_resumption_psk(o, id->psk_epoch, ret);
        }
        return MLS_E_UNKNOWN_PSK;
}

int
grp_psk_secret(const struct mls_group *g, const struct grp_applied *a, struct mls_secret **ret)
{
        _mls_free_ struct mls_psk_input *in = NULL;

        /* No PSKs: the all-zero psk_secret, which the key schedule takes
         * as NULL (no allocation). */
        if (a->n_psks == 0) {
                *ret = NULL;
                return 0;
        }
        MLS_TRY(grp_alloc_array(a->n_psks, sizeof(*in), (void **)&in));
        for (size_t i = 0; i < a->n_psks; i++)
                in[i] = (struct mls_psk_input){ .id = a->psk_ids[i],
                                                .psk = a->psks[i]->data,
                                                .psk_len = a->psks[i]->len };
        /* R-8.4-3, R-12.1.4-5: in the Commit's proposal order. */
        return mls_psk_secret(g->suite, in, a->n_psks, ret);
}

/* ---- resolving and validating a proposal list (sections 12.2, 12.4) ---- */

int
grp_resolve(const struct mls_group *g, const struct mls_commit *c,
            const struct mls_sender *committer, enum grp_commit_kind kind,
            struct grp_rprop **ret, size_t *ret_n)
{
        _mls_free_ struct grp_rprop *l = NULL;

        MLS_TRY(grp_alloc_array(c->n_proposals, sizeof(*l), (void **)&l));
        for (size_t i = 0; i < c->n_proposals; i++) {
                const struct mls_proposal_or_ref *por = &c->proposals[i];
                const struct grp_prop *cp;

                if (por->type == MLS_POR_PROPOSAL) {
                        if (!por->proposal)
                                return MLS_E_INVALID_MESSAGE;
                        l[i] = (struct grp_rprop){ .p = por->proposal, .sender = *committer };
                        continue;
                }
                /* R-12.4.3.2-4: an external commit cites nothing by
                 * reference. */
                if (kind == GRP_COMMIT_EXTERNAL)
                        return MLS_E_INVALID_PROPOSAL;
                /* R-12.4-1: every reference must be in the cache. */
                cp = grp_prop_find(g, por->reference.data, por->reference.len);
                if (!cp)
                        return MLS_E_UNKNOWN_PROPOSAL;
                l[i] = (struct grp_rprop){ .p = &cp->p, .sender = cp->sender, .cached = cp };
        }
        *ret = MLS_TAKE(l);
        *ret_n = c->n_proposals;
        return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

/* The individual checks of a PreSharedKey proposal (section 12.1.4). */
int
grp_check_psk_proposal(const struct mls_group *g, const struct mls_psk_id *id,
                       enum grp_commit_kind kind)
{
        int r = mls_psk_id_check(id, g->suite);

        /* R-12.1.4-3 */
        if (r < 0)
                return r == MLS_E_BAD_ENUM ? r : MLS_E_INVALID_PROPOSAL;
        if (id->psktype == MLS_PSK_RESUMPTION && kind != GRP_COMMIT_RESUMPTION_INIT &&
            (id->usage == MLS_PSK_USAGE_REINIT || id->usage == MLS_PSK_USAGE_BRANCH))
                /* R-12.1.4-1, R-12.1.4-2, R-11.2-6, R-11.3-8 */
                return MLS_E_INVALID_PROPOSAL;
        return 0;
}

int
grp_validate_list(const struct mls_group *g, const struct grp_rprop *l, size_t n,
                  uint32_t committer, enum grp_commit_kind kind, bool has_path)
{
        _mls_free_ uint32_t *targets = NULL;
        size_t n_targets = 0, n_gce = 0, n_reinit = 0, n_ext_init = 0, n_remove = 0;
        bool path_required = n == 0;
        uint32_t width = mls_tree_width(g->tree);

        MLS_TRY(grp_alloc_array(n, sizeof(*targets), (void **)&targets));
        for (size_t i = 0; i < n; i++) {
                const struct mls_proposal *p = l[i].p;

                switch (p->proposal_type) {
                case MLS_PROPOSAL_ADD:
                        if (kind == GRP_COMMIT_EXTERNAL)
                                /* R-12.2-18 */
                                return MLS_E_INVALID_PROPOSAL;
                        break;
                case MLS_PROPOSAL_UPDATE:
                        path_required = true;
                        if (kind == GRP_COMMIT_EXTERNAL)
                                return MLS_E_INVALID_PROPOSAL; /* R-12.2-18 */
                        /* Only members send Updates (R-6.1-4). */
                        if (l[i].sender.sender_type != MLS_SENDER_MEMBER)
                                return MLS_E_INVALID_SENDER;
                        /* R-12.2-4: not from the committer itself. */
                        if (l[i].sender.leaf_index == committer)
                                return MLS_E_UPDATE_BY_COMMITTER;
                        targets[n_targets++] = l[i].sender.leaf_index;
                        break;
                case MLS_PROPOSAL_REMOVE: {
                        uint32_t rl = p->remove.removed;

                        path_required = true;
                        n_remove++;
                        /* R-12.1.3-1: an existing non-blank leaf. */
                        if (rl >= width || !mls_tree_leaf(g->tree, rl))
                                return MLS_E_BLANK_LEAF;
                        /* R-12.2-5: the committer does not remove itself. */
                        if (kind != GRP_COMMIT_EXTERNAL && rl == committer)
                                return MLS_E_REMOVE_SELF;
                        targets[n_targets++] = rl;
                        break;
                }
                case MLS_PROPOSAL_PSK:
                        MLS_TRY(grp_check_psk_proposal(g, &p->psk.psk, kind));
                        /* R-12.2-10: no PreSharedKeyID twice. */
                        for (size_t k = 0; k < i; k++)
                                if (l[k].p->proposal_type == MLS_PROPOSAL_PSK &&
                                    mls_psk_id_eq(&l[k].p->psk.psk, &p->psk.psk))
                                        return MLS_E_INVALID_PROPOSAL;
                        break;
                case MLS_PROPOSAL_REINIT:
                        if (kind == GRP_COMMIT_EXTERNAL)
                                return MLS_E_INVALID_PROPOSAL; /* R-12.2-18 */
                        /* R-12.1.5-1: never a lower version. */
                        if (p->reinit.version < g->gc.version)
                                return MLS_E_INVALID_PROPOSAL;
                        n_reinit++;
                        break;
                case MLS_PROPOSAL_EXTERNAL_INIT:
                        /* R-12.2-14, R-12.1.6-1: only in an external commit. */
                        if (kind != GRP_COMMIT_EXTERNAL)
                                return MLS_E_EXTERNAL_INIT_IN_MEMBER_COMMIT;
                        path_required = true;
                        n_ext_init++;
                        break;
                case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
                        if (kind == GRP_COMMIT_EXTERNAL)
                                return MLS_E_INVALID_PROPOSAL; /* R-12.2-18 */
                        path_required = true;
                        n_gce++;
                        break;
                default:
                        /* R-12.2-15, R-13.2-1: the decoder admits only the
                         * default types, which every member supports. */
                        return MLS_E_INVALID_PROPOSAL;
                }
        }
        /* R-12.2-11 */
        if (n_gce > 1)
                return MLS_E_INVALID_PROPOSAL;
        /* R-12.2-12: a ReInit stands alone. */
        if (n_reinit > 0 && n > 1)
                return MLS_E_REINIT_NOT_ALONE;
        if (kind == GRP_COMMIT_EXTERNAL) {
                /* R-12.2-17, R-12.2-18 */
                if (n_ext_init != 1 || n_remove > 1)
                        return MLS_E_INVALID_PROPOSAL;
        }
        /* R-12.2-6: at most one Update or Remove per leaf. */
        qsort(targets, n_targets, sizeof(*targets), cmp_u32);
        for (size_t i = 1; i < n_targets; i++)
                if (targets[i] == targets[i - 1])
                        return MLS_E_INVALID_PROPOSAL;
        /* R-12.4-6, R-12.4-7, R-12.4.2-7, R-12.4.3.2-3 */
        if (path_required && !has_path)
                return MLS_E_PATH_REQUIRED;
        return 0;
}

/* R-11.1-2, R-12.1.7-1, R-13.4-10: every member of the tree supports the
 * GroupContext extensions `ext` and its required_capabilities. O(n), only
 * run when a GroupContextExtensions proposal is applied. */
static int
check_members_support(const struct mls_tree *t, const struct mls_extension_list *ext,
                      const struct mls_required_capabilities *req)
{
        uint32_t w = mls_tree_width(t);

        for (uint32_t i = 0; i < w; i++) {
                const struct mls_leaf_node *ln = mls_tree_leaf(t, i);
                const struct mls_capabilities *c;

                if (!ln)
                        continue;
                c = &ln->capabilities;
                if (!grp_leaf_supports_extensions(ln, ext))
                        return MLS_E_UNSUPPORTED_CAPABILITY;
                if (!req)
                        continue;
                for (size_t k = 0; k < req->extension_types.n; k++)
                        if (!grp_default_extension(req->extension_types.v[k]) &&
                            !grp_u16_in(&c->extensions, req->extension_types.v[k]))
                                return MLS_E_UNSUPPORTED_CAPABILITY;
                for (size_t k = 0; k < req->proposal_types.n; k++)
                        if (!grp_default_proposal(req->proposal_types.v[k]) &&
                            !grp_u16_in(&c->proposals, req->proposal_types.v[k]))
                                return MLS_E_UNSUPPORTED_CAPABILITY;
                for (size_t k = 0; k < req->credential_types.n; k++)
                        if (!grp_u16_in(&c->credentials, req->credential_types.v[k]))
                                return MLS_E_UNSUPPORTED_CAPABILITY;
        }
        return 0;
}

int
grp_check_gce(const struct mls_group *g, const struct mls_tree *t,
              const struct mls_extension_list *ext)
{
        _mls_cleanup_(mls_required_capabilities_clear) struct mls_required_capabilities req = { 0 };
        const struct mls_extension *e = mls_extension_list_find(ext, MLS_EXT_REQUIRED_CAPABILITIES);
        const struct mls_extension *es = mls_extension_list_find(ext, MLS_EXT_EXTERNAL_SENDERS);

        if (e)
                MLS_TRY(mls_extension_get_required_capabilities(e, &req));
        /* R-13.5-7: our own leaf with its real capabilities (without the
         * GREASE values it advertises). */
        if (g && !g->removed && g->own_leaf < mls_tree_width(t)) {
                const struct mls_leaf_node *own = mls_tree_leaf(t, g->own_leaf);

                if (own && !grp_own_leaf_supports_extensions(own, ext))
                        return MLS_E_UNSUPPORTED_CAPABILITY;
        }
        if (es) {
                /* The external_senders list must parse (R-12.1.8.1-1). */
                _mls_cleanup_(mls_external_senders_clear) struct mls_external_senders x = { 0 };

                MLS_TRY(mls_extension_get_external_senders(es, &x));
        }
        return check_members_support(t, ext, e ? &req : NULL);
}

/* Pushes a PSK of the list, looked up now (R-12.3-5, R-12.4.2-5). */
static int
applied_add_psk(const struct mls_group *g, const struct mls_env *env, struct grp_applied *a,
                const struct mls_psk_id *id)
{
        _mls_secret_ struct mls_secret *v = NULL;
        struct mls_secret **np;
        const struct mls_psk_id **ni;

        MLS_TRY(grp_psk_lookup(g, env, id, &v));
        np = realloc(a->psks, (a->n_psks + 1) * sizeof(*np));
        if (!np)
                return MLS_E_NOMEM;
        a->psks = np;
        ni = realloc(a->psk_ids, (a->n_psks + 1) * sizeof(*ni));
        if (!ni)
                return MLS_E_NOMEM;
        a->psk_ids = ni;
        a->psks[a->n_psks] = MLS_TAKE(v);
        a->psk_ids[a->n_psks] = id;
        a->n_psks++;
        return 0;
}

int
grp_apply(struct mls_group *g, const struct mls_env *env, const struct grp_rprop *l, size_t n,
          uint32_t committer, enum grp_commit_kind kind, bool validate, struct grp_applied *ret)
{
        _mls_cleanup_(grp_applied_clear) struct grp_applied a = { 0 };
        _mls_cleanup_(mls_required_capabilities_clear) struct mls_required_capabilities req = { 0 };
        const struct mls_extension_list *ext = &g->gc.extensions;
        struct mls_leaf_policy pol;
        bool has_req;

        (void)committer;
        /* R-12.3-1, R-12.3-2: GroupContextExtensions first; the new
         * extensions judge the rest (R-12.3-3). */
        for (size_t i = 0; i < n; i++) {
                if (l[i].p->proposal_type == MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS) {
                        /* R-12.1.7-2: a wholesale replacement. */
                        a.new_ext = &l[i].p->group_context_extensions.extensions;
                        ext = a.new_ext;
                }
                if (l[i].p->proposal_type == MLS_PROPOSAL_UPDATE ||
                    l[i].p->proposal_type == MLS_PROPOSAL_REMOVE ||
                    l[i].p->proposal_type == MLS_PROPOSAL_EXTERNAL_INIT ||
                    l[i].p->proposal_type == MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS)
                        a.path_required = true;
        }
        if (n == 0)
                a.path_required = true;
        MLS_TRY(grp_policy(g, env, ext, &req, &has_req, &pol));
        /* Then the Updates (R-12.3-2). */
        for (size_t i = 0; i < n; i++) {
                const struct mls_proposal *p = l[i].p;
                uint32_t li = l[i].sender.leaf_index;

                if (p->proposal_type != MLS_PROPOSAL_UPDATE)
                        continue;
                if (validate) {
                        /* R-12.2-3: each proposal individually valid
                         * (12.1.x), here and for every type below.
                         * R-7.3-2 (a received Update's LeafNode), R-12.1.2-1,
                         * R-7.3-13, R-7.3-14, R-12.2-16 */
                        MLS_TRY(mls_tree_leaf_validate(g->tree, &p->update.leaf_node,
                                                       MLS_LEAF_UPDATE, li, &g->gc.group_id,
                                                       &pol));
                        /* R-13.4-10 */
                        if (!grp_leaf_supports_extensions(&p->update.leaf_node, ext))
                                return MLS_E_UNSUPPORTED_CAPABILITY;
                        /* R-7.3-4, R-5.3.1-5, R-5.3.1-8 */
                        MLS_TRY(mls_credential_validate_leaf(env, g->suite, &p->update.leaf_node,
                                                             mls_tree_leaf(g->tree, li)));
                }
                MLS_TRY(grp_applied_touch(&a, g->tree, li));
                /* R-12.1.2-2 */
                MLS_TRY(mls_tree_update(g->tree, li, &p->update.leaf_node));
                if (li == g->own_leaf && !g->removed) {
                        a.own_update = true;
                        a.own_update_priv = l[i].cached ? l[i].cached->update_priv : NULL;
                }
        }
        /* Then the Removes (R-12.3-2). */
        for (size_t i = 0; i < n; i++) {
                const struct mls_proposal *p = l[i].p;
                uint32_t rl;
                const struct mls_leaf_node *old;

                if (p->proposal_type != MLS_PROPOSAL_REMOVE)
                        continue;
                rl = p->remove.removed;
                old = mls_tree_leaf(g->tree, rl);
                /* R-12.1.3-1 */
                if (!old)
                        return MLS_E_BLANK_LEAF;
                if (kind == GRP_COMMIT_EXTERNAL) {
                        /* R-12.2-19, R-12.2-20: kept to judge the joiner's
                         * new leaf against the removed one. */
                        MLS_TRY(grp_credential_dup(&old->credential, &a.removed_credential));
                        MLS_TRY(mls_bytes_dup(&a.removed_enc_key, &old->encryption_key));
                        a.has_removed_leaf = true;
                }
                MLS_TRY(grp_applied_touch(&a, g->tree, rl));
                /* R-12.1.3-2 */
                MLS_TRY(mls_tree_remove(g->tree, rl));
                MLS_TRY(grp_u32_push(&a.removed, rl));
                if (rl == g->own_leaf && !g->removed)
                        a.self_removed = true;
        }
        /* Then the Adds, in list order (R-12.3-4, R-12.1.1-2 .. -4). */
        for (size_t i = 0; i < n; i++) {
                const struct mls_proposal *p = l[i].p;
                const struct mls_key_package *kp;
                uint32_t li;

                if (p->proposal_type != MLS_PROPOSAL_ADD)
                        continue;
                kp = &p->add.key_package;
                if (validate) {
                        /* R-12.1.1-1, R-10.1-2 .. -6, R-13.4-6, R-13.4-7;
                         * the KeyPackage signature of a cached proposal was
                         * verified when it arrived. */
                        MLS_TRY(grp_key_package_check(g->suite, kp, ext, !l[i].cached));
                        /* R-10.1-4, R-11.1-1, R-12.2-8, R-12.2-9 (duplicate
                         * signature keys against the tree as it is now:
                         * after the Removes), R-12.2-16, R-7.3-2 (a received
                         * Add's LeafNode) */
                        MLS_TRY(mls_tree_leaf_validate(g->tree, &kp->leaf_node,
                                                       MLS_LEAF_KEY_PACKAGE, 0, NULL, &pol));
                        /* R-7.3-4, R-5.3.1-2, R-5.3.1-4 */
                        MLS_TRY(mls_credential_validate_leaf(env, g->suite, &kp->leaf_node, NULL));
                }
                MLS_TRY(mls_tree_add(g->tree, &kp->leaf_node, &li));
                MLS_TRY(grp_applied_touch_blank(&a, li));
                MLS_TRY(grp_u32_push(&a.added, li));
        }
        /* PSKs in list order, ExternalInit, ReInit (R-12.3-5). */
        for (size_t i = 0; i < n; i++) {
                const struct mls_proposal *p = l[i].p;

                /* Merging our own commit needs no values (its epoch
                 * secrets are computed). */
                if (p->proposal_type == MLS_PROPOSAL_PSK && validate)
                        MLS_TRY(applied_add_psk(g, env, &a, &p->psk.psk));
                else if (p->proposal_type == MLS_PROPOSAL_EXTERNAL_INIT)
                        a.ext_init = &p->external_init;
                else if (p->proposal_type == MLS_PROPOSAL_REINIT)
                        a.reinit = &p->reinit;
        }
        /* R-12.1.7-1, R-11.1-2: with the Adds in and the Removes out. */
        if (validate && a.new_ext) {
                MLS_TRY(grp_check_gce(g, g->tree, a.new_ext));
                /* R-5.3.1-7 */
                MLS_TRY(mls_credential_validate_external_senders(env, g->suite, a.new_ext,
                                                                 &g->gc.extensions));
        }
        *ret = a;
        memset(&a, 0, sizeof(a));
        return 0;
}

/* A touched leaf that was blank before (an Add). */
int
grp_applied_touch_blank(struct grp_applied *a, uint32_t leaf)
{
        struct grp_sigkey *nt;

        for (size_t i = 0; i < a->n_touched; i++)
                if (a->touched[i].leaf == leaf)
                        return 0;
        nt = realloc(a->touched, (a->n_touched + 1) * sizeof(*nt));
        if (!nt)
                return MLS_E_NOMEM;
        a->touched = nt;
        nt[a->n_touched++] = (struct grp_sigkey){ .leaf = leaf };
        return 0;
}

/*
 * The joiner of an external commit takes the leftmost blank leaf, or a new
 * leaf at the right edge (R-12.4.1-3, R-12.4.2-8). The tree API merges a
 * path only into a leaf inside the tree, so when every leaf is used the
 * tree is extended by adding a placeholder leaf there; the path merge then
 * replaces it. The placeholder's keys are 1-byte values no real key has.
 */
int
grp_tree_reserve_leaf(struct mls_tree *t, uint32_t *ret_leaf)
{
        _mls_cleanup_(mls_leaf_node_clear) struct mls_leaf_node ph = { 0 };
        static const uint8_t enc = 0x00, sig = 0x00;
        static const uint16_t basic = MLS_CREDENTIAL_BASIC;
        uint32_t li;

        if (mls_tree_leftmost_blank_leaf(t, &li) == 0) {
                *ret_leaf = li;
                return 0;
        }
        MLS_TRY(mls_bytes_copy(&ph.encryption_key, &enc, 1));
        MLS_TRY(mls_bytes_copy(&ph.signature_key, &sig, 1));
        ph.credential.credential_type = MLS_CREDENTIAL_BASIC;
        ph.capabilities.credentials.v = malloc(sizeof(uint16_t));
        if (!ph.capabilities.credentials.v)
                return MLS_E_NOMEM;
        ph.capabilities.credentials.v[0] = basic;
        ph.capabilities.credentials.n = 1;
        ph.leaf_node_source = MLS_LEAF_SOURCE_KEY_PACKAGE;
        MLS_TRY(mls_tree_add(t, &ph, &li));
        *ret_leaf = li;
        return 0;
}

/* ---- the next epoch ---- */

void
grp_next_clear(struct grp_next *n)
{
        if (!n)
                return;
        mls_ks_free(n->ks);
        mls_treekem_priv_free(n->priv);
        mls_st_free(n->st);
        mls_group_context_clear(&n->gc);
        mls_bytes_clear(&n->conf_tag);
        mls_wipe(n->interim, sizeof(n->interim));
        memset(n, 0, sizeof(*n));
}

int
grp_advance(struct mls_group *g, struct grp_next *next, struct grp_applied *a)
{
        _mls_cleanup_(grp_past_clear) struct grp_past past = { 0 };
        _grp_bytes_ struct mls_bytes gcb = { 0 };
        _mls_cleanup_(mls_reinit_clear) struct mls_reinit ri = { 0 };
        struct grp_past *np = NULL;
        bool keep = g->opts.max_past_epochs > 0;

        /* Everything that can fail first. */
        MLS_TRY(mls_group_context_to_bytes(&next->gc, &gcb));
        if (!mls_ks_get(next->ks, MLS_KS_RESUMPTION_PSK))
                return MLS_E_INTERNAL;
        if (a && a->reinit) {
                _grp_bytes_ struct mls_bytes b = { 0 };

                MLS_TRY(mls_reinit_to_bytes(a->reinit, &b));
                MLS_TRY(mls_reinit_from_bytes(b.data, b.len, &ri));
        }
        if (keep) {
                MLS_TRY(grp_group_context_dup(&g->gc, &past.gc));
                past.own_leaf = g->own_leaf;
                if (a && a->n_touched) {
                        MLS_TRY(grp_alloc_array(a->n_touched, sizeof(*past.diff),
                                                (void **)&past.diff));
                        past.n_diff = a->n_touched;
                        for (size_t i = 0; i < a->n_touched; i++) {
                                past.diff[i].leaf = a->touched[i].leaf;
                                MLS_TRY(mls_bytes_dup(&past.diff[i].key, &a->touched[i].key));
                        }
                }
                if (g->n_past < g->opts.max_past_epochs) {
                        np = realloc(g->past, (g->n_past + 1) * sizeof(*np));
                        if (!np)
                                return MLS_E_NOMEM;
                        g->past = np;
                }
        }
        MLS_TRY(grp_res_prepare(g));
        /* From here on nothing fails. */
        if (keep) {
                if (g->n_past >= g->opts.max_past_epochs) {
                        grp_past_clear(&g->past[0]);
                        memmove(g->past, g->past + 1, (g->n_past - 1) * sizeof(*g->past));
                        g->n_past--;
                }
                past.st = MLS_TAKE(g->st);
                /* R-9.2-1, R-14-2: of the old epoch only what late
                 * application messages need stays. */
                for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++)
                        if (i != MLS_KS_SENDER_DATA_SECRET)
                                mls_ks_delete(g->ks, (enum mls_ks_secret)i);
                past.ks = MLS_TAKE(g->ks);
                g->past[g->n_past++] = past;
                memset(&past, 0, sizeof(past));
        }
        /* R-9.2-2, R-14-2: the old epoch's secrets go now. */
        mls_st_free(g->st);
        g->st = MLS_TAKE(next->st);
        mls_ks_free(g->ks);
        g->ks = MLS_TAKE(next->ks);
        /* Joiner and welcome secrets are the committer's, for the Welcome
         * only (R-9.2-1). */
        mls_ks_delete(g->ks, MLS_KS_JOINER_SECRET);
        mls_ks_delete(g->ks, MLS_KS_WELCOME_SECRET);
        /* R-9.2-2: the encryption secret lives in the secret tree now. */
        mls_ks_delete(g->ks, MLS_KS_ENCRYPTION_SECRET);
        if (next->priv) {
                mls_treekem_priv_free(g->priv);
                g->priv = MLS_TAKE(next->priv);
        } else if (g->priv) {
                /* No new private keys (a commit without path): the old
                 * ones stay, but R-7.5-12: keys of blanked or replaced
                 * nodes go. Cannot fail. */
                mls_treekem_priv_prune(g->priv, g->tree);
        }
        mls_group_context_clear(&g->gc);
        g->gc = next->gc;
        memset(&next->gc, 0, sizeof(next->gc));
        mls_bytes_clear(&g->gc_bytes);
        g->gc_bytes = gcb;
        gcb = (struct mls_bytes){ 0 };
        memcpy(g->interim, next->interim, sizeof(g->interim));
        mls_bytes_clear(&g->conf_tag);
        g->conf_tag = next->conf_tag;
        next->conf_tag = (struct mls_bytes){ 0 };
        g->own_leaf = next->own_leaf;
        grp_res_put(g, g->gc.epoch, mls_ks_get(g->ks, MLS_KS_RESUMPTION_PSK));
        if (a && a->reinit) {
                /* R-12.1.5-2, R-12.4.2-20: the group is closed; its members
                 * wait for the Welcome of the new group, which
                 * mls_group_join checks against these parameters
                 * (check_resumption_welcome, section 11.2). */
                mls_reinit_clear(&g->reinit);
                g->reinit = ri;
                memset(&ri, 0, sizeof(ri));
                g->has_reinit = true;
        }
        grp_props_clear(g);
        grp_pending_free(g->pending);
        g->pending = NULL;
        return 0;
}
