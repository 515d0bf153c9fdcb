/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 8: reinitialisation (RFC 9420 section
 * 11.2) and subgroup branching (section 11.3), both a new group whose
 * first commit carries a resumption PSK of the old one.
 * Contracts: mls/group.h.
 */
#include <string.h>

#include "mls/group-internal.h"

int
mls_group_reinit_params(const struct mls_group *g, struct mls_reinit *ret)
{
        _grp_bytes_ struct mls_bytes b = { 0 };

        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        if (!g->has_reinit)
                return MLS_E_NOT_FOUND;
        MLS_TRY(mls_reinit_to_bytes(&g->reinit, &b));
        return mls_reinit_from_bytes(b.data, b.len, ret);
}

/* The caller's environment, with the old group findable by its id (its
 * resumption PSK keys the new group). */
struct wrap_env {
        struct mls_env env;
        const struct mls_env *orig;
        const struct mls_group *old;
};

static const struct mls_group *
wrap_find_group(void *ctx, const uint8_t *gid, size_t len)
{
        const struct wrap_env *w = ctx;

        if (w->old->gc.group_id.len == len &&
            (len == 0 || memcmp(w->old->gc.group_id.data, gid, len) == 0))
                return w->old;
        if (w->orig->find_group)
                return w->orig->find_group(w->orig->ctx, gid, len);
        return NULL;
}

static int
wrap_external_psk(void *ctx, const uint8_t *id, size_t len, struct mls_secret **ret)
{
        const struct wrap_env *w = ctx;

        if (!w->orig->external_psk)
                return MLS_E_UNKNOWN_PSK;
        return w->orig->external_psk(w->orig->ctx, id, len, ret);
}

static int
wrap_validate_credential(void *ctx, const struct mls_credential *cred, const uint8_t *key,
                         size_t key_len, const struct mls_credential *pred)
{
        const struct wrap_env *w = ctx;

        /* R-5.3.1-1: the caller's Authentication Service judges. */
        if (!w->orig->validate_credential)
                return 0;
        return w->orig->validate_credential(w->orig->ctx, cred, key, key_len, pred);
}

struct prop_list {
        struct mls_proposal *v;
        size_t n;
};

static void
prop_list_clear(struct prop_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                mls_proposal_clear(&l->v[i]);
        free(l->v);
        memset(l, 0, sizeof(*l));
}

static int
resumption_group(const struct mls_group *old, const struct mls_env *env,
                 const struct mls_suite *s, const uint8_t *gid, size_t gid_len,
                 const struct mls_leaf_params *leaf, const struct mls_extension_list *ext,
                 const struct mls_bytes *kps, size_t n, enum mls_psk_usage usage,
                 const struct mls_group_options *opts, struct mls_group **ret_group,
                 struct mls_bytes *ret_welcome)
{
        _mls_group_ struct mls_group *ng = NULL;
        _mls_cleanup_(prop_list_clear) struct prop_list pl = { 0 };
        _grp_bytes_ struct mls_bytes commit = { 0 }, welcome = { 0 };
        struct wrap_env w = { .orig = env, .old = old };
        struct mls_commit_params cp = { .inline_tree = true };
        struct mls_proposal *psk;

        if (!env || !env->rng || !env->signer || !leaf || (!kps && n) || !ret_group ||
            !ret_welcome)
                return MLS_E_INVALID_ARGUMENT;
        w.env = *env;
        w.env.find_group = wrap_find_group;
        w.env.external_psk = wrap_external_psk;
        w.env.validate_credential = wrap_validate_credential;
        w.env.ctx = &w;
        MLS_TRY(mls_group_create(s, gid, gid_len, leaf, ext, opts, &w.env, &ng));
        MLS_TRY(grp_alloc_array(n + 1, sizeof(*pl.v), (void **)&pl.v));
        for (size_t i = 0; i < n; i++) {
                pl.v[i].proposal_type = MLS_PROPOSAL_ADD;
                pl.n++;
                MLS_TRY(grp_key_package_decode(kps[i].data, kps[i].len, &pl.v[i].add.key_package));
        }
        /* R-11.2-4, R-12.4.1-14, R-11.3-1: the resumption PSK of the old
         * group's current epoch, with a random KDF.Nh nonce (R-11.3-2). */
        psk = &pl.v[pl.n++];
        psk->proposal_type = MLS_PROPOSAL_PSK;
        psk->psk.psk.psktype = MLS_PSK_RESUMPTION;
        psk->psk.psk.usage = usage;
        MLS_TRY(mls_bytes_dup(&psk->psk.psk.psk_group_id, &old->gc.group_id));
        psk->psk.psk.psk_epoch = old->gc.epoch;
        MLS_TRY(mls_psk_id_new_nonce(&psk->psk.psk, s, env->rng));
        cp.proposals = pl.v;
        cp.n_proposals = pl.n;
        /* The initial commit (epoch 0 -> 1, R-11.2-3, R-11.3-5): the only
         * place a reinit/branch PSK is allowed (R-11.2-5, R-11.3-7: review;
         * everywhere else it is refused, R-11.2-6, R-11.3-8). */
        MLS_TRY(grp_commit_create(ng, &w.env, &cp, GRP_COMMIT_RESUMPTION_INIT, &commit, &welcome));
        MLS_TRY(grp_merge_pending(ng, &w.env, NULL));
        if (usage == MLS_PSK_USAGE_BRANCH)
                /* R-11.3-6: only members of the old group. */
                MLS_TRY(grp_members_subset(ng->tree, old->tree));
        else
                /* R-12.4.1-13: the same membership. */
                MLS_TRY(grp_members_subset(old->tree, ng->tree));
        *ret_group = MLS_TAKE(ng);
        *ret_welcome = welcome;
        welcome = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_group_reinit(const struct mls_group *old, const struct mls_env *env,
                 const struct mls_leaf_params *leaf, const struct mls_bytes *key_packages, size_t n,
                 const struct mls_group_options *opts, struct mls_group **ret_group,
                 struct mls_bytes *ret_welcome)
{
        const struct mls_suite *s;

        if (!old)
                return MLS_E_INVALID_ARGUMENT;
        /* R-11.2-1: only after the commit with the ReInit. */
        if (!old->has_reinit)
                return MLS_E_INVALID_ARGUMENT;
        s = mls_suite_get(old->reinit.cipher_suite);
        if (!s)
                return MLS_E_UNSUPPORTED;
        /* R-11.2-2: group_id, suite and extensions of the ReInit. */
        return resumption_group(old, env, s, old->reinit.group_id.data, old->reinit.group_id.len,
                                leaf, &old->reinit.extensions, key_packages, n,
                                MLS_PSK_USAGE_REINIT, opts, ret_group, ret_welcome);
}

int
mls_group_branch(const struct mls_group *g, const struct mls_env *env, const uint8_t *group_id,
                 size_t group_id_len, const struct mls_leaf_params *leaf,
                 const struct mls_bytes *key_packages, size_t n,
                 const struct mls_group_options *opts, struct mls_group **ret_group,
                 struct mls_bytes *ret_welcome)
{
        if (!g || (!group_id && group_id_len))
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                return MLS_E_REMOVED;
        /* R-11.3-4: same version and suite (and extensions). */
        return resumption_group(g, env, g->suite, group_id, group_id_len, leaf, &g->gc.extensions,
                                key_packages, n, MLS_PSK_USAGE_BRANCH, opts, ret_group,
                                ret_welcome);
}
