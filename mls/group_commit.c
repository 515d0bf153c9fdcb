/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 3: creating a commit (RFC 9420 section
 * 12.4.1), the pending commit (section 14), merging and clearing it.
 * Contracts: mls/group.h, mls/group-internal.h.
 */
#include <string.h>

#include "mls/credential.h"
#include "mls/group-internal.h"

/* An array of secrets freed (wiped) together. */
struct grp_secrets {
        struct mls_secret **v;
        size_t n;
};

static void
grp_secrets_freep(struct grp_secrets *s)
{
        for (size_t i = 0; i < s->n; i++)
                mls_secret_free(s->v[i]);
        free(s->v);
        s->v = NULL;
        s->n = 0;
}

int
grp_tree_tx_begin(struct mls_tree *t, struct grp_tree_tx *x)
{
        MLS_TRY(mls_tree_begin(t));
        x->t = t;
        x->open = true;
        return 0;
}

void
grp_tree_tx_end(struct grp_tree_tx *x)
{
        if (x->open)
                mls_tree_rollback(x->t);
        x->open = false;
}

void
grp_tree_tx_commit(struct grp_tree_tx *x)
{
        if (x->open)
                mls_tree_commit(x->t);
        x->open = false;
}

/* ---- choosing the cached proposals (R-12.2-7, R-12.2-13, R-12.4-4) ---- */

struct sel_target {
        uint32_t leaf;
        bool is_remove;
        size_t idx;
};

static int
cmp_target(const void *a, const void *b)
{
        const struct sel_target *x = a, *y = b;

        if (x->leaf != y->leaf)
                return x->leaf < y->leaf ? -1 : 1;
        if (x->is_remove != y->is_remove)
                return x->is_remove ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct sel_key {
        const struct mls_bytes *key;
        size_t idx;
};

static int
cmp_key(const void *a, const void *b)
{
        const struct sel_key *x = a, *y = b;
        size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
        int c = n ? memcmp(x->key->data, y->key->data, n) : 0;

        if (c)
                return c;
        if (x->key->len != y->key->len)
                return x->key->len < y->key->len ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * keep[i] for each cached proposal: the largest valid subset we can find
 * cheaply. Our own Updates (R-12.2-4) and Removes of ourselves (R-12.2-5)
 * are left out; per leaf a Remove wins over Updates, else the newest Update
 * (R-12.2-7); one Add per client (R-12.2-8), none for a client already in
 * the group unless it is removed (R-12.2-9); one use of each PSK
 * (R-12.2-10); the newest GroupContextExtensions (R-12.2-11); a ReInit only
 * when nothing else is committed (R-12.2-13).
 */
static int
select_cached(const struct mls_group *g, const struct mls_env *env, bool have_by_value,
              bool adding_by_value, bool *keep)
{
        _mls_free_ struct sel_target *tg = NULL;
        _mls_free_ struct sel_key *ks = NULL;
        size_t n = g->n_props, nt = 0, nk = 0, last_gce = SIZE_MAX, last_reinit = SIZE_MAX;
        bool others = have_by_value;

        MLS_TRY(grp_alloc_array(n, sizeof(*tg), (void **)&tg));
        MLS_TRY(grp_alloc_array(n, sizeof(*ks), (void **)&ks));
        for (size_t i = 0; i < n; i++) {
                const struct grp_prop *cp = &g->props[i];

                keep[i] = false;
                switch (cp->p.proposal_type) {
                case MLS_PROPOSAL_UPDATE:
                        if (cp->sender.sender_type != MLS_SENDER_MEMBER ||
                            cp->sender.leaf_index == g->own_leaf)
                                break;
                        tg[nt++] = (struct sel_target){ cp->sender.leaf_index, false, i };
                        break;
                case MLS_PROPOSAL_REMOVE:
                        if (cp->p.remove.removed == g->own_leaf ||
                            !mls_tree_leaf(g->tree, cp->p.remove.removed))
                                break;
                        tg[nt++] = (struct sel_target){ cp->p.remove.removed, true, i };
                        break;
                case MLS_PROPOSAL_ADD:
                        ks[nk++] = (struct sel_key){
                                &cp->p.add.key_package.leaf_node.signature_key, i };
                        break;
                case MLS_PROPOSAL_PSK: {
                        _mls_secret_ struct mls_secret *v = NULL;
                        bool dup = false;

                        for (size_t k = 0; k < i && !dup; k++)
                                dup = keep[k] && g->props[k].p.proposal_type == MLS_PROPOSAL_PSK &&
                                      mls_psk_id_eq(&g->props[k].p.psk.psk, &cp->p.psk.psk);
                        /* R-12.4.2-5: only PSKs we have. */
                        keep[i] = !dup && grp_psk_lookup(g, env, &cp->p.psk.psk, &v) == 0;
                        break;
                }
                case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
                        last_gce = i;
                        break;
                case MLS_PROPOSAL_REINIT:
                        last_reinit = i;
                        break;
                default:
                        break;
                }
        }
        qsort(tg, nt, sizeof(*tg), cmp_target);
        for (size_t i = 0; i < nt;) {
                size_t j = i;

                while (j < nt && tg[j].leaf == tg[i].leaf)
                        j++;
                if (tg[i].is_remove)
                        keep[tg[i].idx] = true;
                else
                        keep[tg[j - 1].idx] = true;
                i = j;
        }
        qsort(ks, nk, sizeof(*ks), cmp_key);
        for (size_t i = 0; i < nk; i++) {
                uint32_t l;

                if (i > 0 && mls_bytes_eq(ks[i].key, ks[i - 1].key))
                        continue;
                if (mls_tree_find_leaf_by_signature_key(g->tree, ks[i].key->data, ks[i].key->len,
                                                        &l) == 0) {
                        bool removed = false;

                        for (size_t k = 0; k < n && !removed; k++)
                                removed = keep[k] &&
                                          g->props[k].p.proposal_type == MLS_PROPOSAL_REMOVE &&
                                          g->props[k].p.remove.removed == l;
                        if (!removed)
                                continue;
                }
                keep[ks[i].idx] = true;
        }
        if (last_gce != SIZE_MAX)
                keep[last_gce] = true;
        /* New members cannot know a resumption PSK of a group they were not
         * in (R-12.4.3.1-5): with Adds, such PSKs wait for a later commit. */
        {
                bool adding = adding_by_value;

                for (size_t i = 0; i < n; i++)
                        adding = adding || (keep[i] && g->props[i].p.proposal_type == MLS_PROPOSAL_ADD);
                for (size_t i = 0; adding && i < n; i++) {
                        const struct mls_psk_id *id = &g->props[i].p.psk.psk;

                        if (keep[i] && g->props[i].p.proposal_type == MLS_PROPOSAL_PSK &&
                            id->psktype == MLS_PSK_RESUMPTION)
                                keep[i] = false;
                }
        }
        for (size_t i = 0; i < n; i++)
                others = others || keep[i];
        if (last_reinit != SIZE_MAX && !others)
                keep[last_reinit] = true;
        return 0;
}

/* Fills c->proposals: the kept cached proposals by reference, then copies
 * of the by-value ones. */
static int
build_proposal_list(const struct mls_group *g, const struct mls_env *env,
                    const struct mls_commit_params *p, struct mls_commit *c)
{
        _mls_free_ bool *keep = NULL;
        size_t total = 0, k = 0;

        MLS_TRY(grp_alloc_array(g->n_props, sizeof(*keep), (void **)&keep));
        if (!p || !p->no_cached) {
                bool adding = false;

                for (size_t i = 0; p && i < p->n_proposals; i++)
                        adding = adding || p->proposals[i].proposal_type == MLS_PROPOSAL_ADD;
                MLS_TRY(select_cached(g, env, p && p->n_proposals > 0, adding, keep));
        }
        for (size_t i = 0; i < g->n_props; i++)
                total += keep[i];
        if (p)
                total += p->n_proposals;
        MLS_TRY(grp_alloc_array(total, sizeof(*c->proposals), (void **)&c->proposals));
        for (size_t i = 0; i < g->n_props; i++) {
                if (!keep[i])
                        continue;
                c->proposals[k].type = MLS_POR_REFERENCE;
                MLS_TRY(mls_bytes_dup(&c->proposals[k].reference, &g->props[i].ref));
                k++;
                c->n_proposals = k;
        }
        for (size_t i = 0; p && i < p->n_proposals; i++) {
                struct mls_proposal *pp = calloc(1, sizeof(*pp));

                if (!pp)
                        return MLS_E_NOMEM;
                c->proposals[k].type = MLS_POR_PROPOSAL;
                c->proposals[k].proposal = pp;
                k++;
                c->n_proposals = k;
                MLS_TRY(grp_proposal_dup(&p->proposals[i], pp));
        }
        return 0;
}

/* The GroupContext of the next epoch with the given tree hash and
 * confirmed transcript hash; extensions from ext. */
int
grp_next_gc(const struct mls_group *g, const struct mls_extension_list *ext,
            const uint8_t *tree_hash, const uint8_t *confirmed, size_t confirmed_len,
            struct mls_group_context *ret)
{
        _mls_cleanup_(mls_group_context_clear) struct mls_group_context gc = { 0 };

        if (g->gc.epoch == UINT64_MAX)
                return MLS_E_TOO_LARGE;
        gc.version = g->gc.version;
        gc.cipher_suite = g->gc.cipher_suite;
        MLS_TRY(mls_bytes_dup(&gc.group_id, &g->gc.group_id));
        gc.epoch = g->gc.epoch + 1;
        MLS_TRY(mls_bytes_copy(&gc.tree_hash, tree_hash, g->suite->hash_len));
        MLS_TRY(mls_bytes_copy(&gc.confirmed_transcript_hash, confirmed, confirmed_len));
        MLS_TRY(grp_extension_list_dup(ext, &gc.extensions));
        *ret = gc;
        memset(&gc, 0, sizeof(gc));
        return 0;
}

int
grp_transcript(const struct mls_group *g, const uint8_t *interim_before, size_t interim_len,
               const struct mls_authenticated_content *ac, uint8_t *ret_confirmed)
{
        _grp_bytes_ struct mls_bytes fc = { 0 };

        MLS_TRY(mls_framed_content_to_bytes(&ac->content, &fc));
        /* R-8.2-1 */
        return mls_transcript_confirmed(g->suite, interim_before, interim_len, ac->wire_format,
                                        fc.data, fc.len, ac->auth.signature.data,
                                        ac->auth.signature.len, ret_confirmed);
}

/* The new owner's leaf template for a commit path: the current leaf, or
 * new contents from params. */
static int
path_leaf_template(const struct mls_group *g, const struct mls_env *env,
                   const struct mls_leaf_params *lp, struct mls_leaf_node *ret)
{
        const struct mls_leaf_node *cur = mls_tree_leaf(g->tree, g->own_leaf);

        if (!cur)
                return MLS_E_REMOVED;
        if (lp) {
                _mls_cleanup_(mls_leaf_node_clear) struct mls_leaf_node ln = { 0 };

                MLS_TRY(grp_leaf_template(lp, cur->signature_key.data, cur->signature_key.len,
                                          MLS_LEAF_SOURCE_COMMIT, env->now, &ln));
                /* R-13.5-1 (new contents; kept ones keep their GREASE) */
                MLS_TRY(grp_leaf_grease(&ln, env, NULL));
                *ret = ln;
                memset(&ln, 0, sizeof(ln));
                return 0;
        }
        return grp_leaf_node_dup(cur, ret);
}

/* R-11-2 with the tree after the proposals: our leaf and the added ones. */
static int
check_best_suite(const struct mls_group *g, const struct grp_applied *a,
                 const struct mls_commit_params *p)
{
        _mls_free_ const struct mls_capabilities **caps = NULL;
        size_t n = 0;

        MLS_TRY(grp_alloc_array(a->added.n + 1, sizeof(*caps), (void **)&caps));
        for (size_t i = 0; i <= a->added.n; i++) {
                const struct mls_leaf_node *ln =
                        mls_tree_leaf(g->tree, i == 0 ? g->own_leaf : a->added.v[i - 1]);

                if (!ln)
                        return MLS_E_INTERNAL;
                caps[n++] = &ln->capabilities;
        }
        return mls_check_best_suite(g->gc.version, g->gc.cipher_suite, caps, n,
                                    p ? p->suite_preference : NULL,
                                    p ? p->n_suite_preference : 0);
}

int
grp_commit_create(struct mls_group *g, const struct mls_env *env,
                  const struct mls_commit_params *p, enum grp_commit_kind kind,
                  struct mls_bytes *ret_commit, struct mls_bytes *ret_welcome)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(grp_applied_clear) struct grp_applied a = { 0 };
        _mls_cleanup_(grp_tree_tx_end) struct grp_tree_tx tx = { 0 };
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };
        _mls_cleanup_(mls_treekem_commit_freep) struct mls_treekem_commit *tc = NULL;
        _mls_cleanup_(mls_leaf_node_clear) struct mls_leaf_node tmpl = { 0 };
        _mls_cleanup_(mls_group_context_clear) struct mls_group_context gc = { 0 };
        _mls_cleanup_(mls_welcome_clear) struct mls_welcome w = { 0 };
        _mls_cleanup_(mls_group_info_clear) struct mls_group_info gi = { 0 };
        _mls_treekem_priv_ struct mls_treekem_priv *priv = NULL;
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;
        _mls_secret_ struct mls_secret *commit_secret = NULL, *psk_secret = NULL;
        _grp_bytes_ struct mls_bytes gcb = { 0 }, msg = { 0 }, wmsg = { 0 };
        _mls_free_ struct grp_rprop *l = NULL;
        _mls_free_ struct mls_welcome_new_member *nm = NULL;
        _mls_cleanup_(grp_secrets_freep) struct grp_secrets ps = { 0 };
        struct grp_pending *pend;
        uint8_t th[MLS_MAX_HASH_LEN], confirmed[MLS_MAX_HASH_LEN], tag[MLS_MAX_HASH_LEN];
        uint8_t interim[MLS_MAX_HASH_LEN];
        const struct mls_extension_list *ext;
        const uint8_t *ck;
        size_t n = 0, nh = g->suite->hash_len;
        bool has_path;

        if (!env || !env->rng || !env->signer || !ret_commit)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                return MLS_E_REMOVED;
        /* R-12.4.2-19: nothing more is sent in a group after its ReInit. */
        if (g->has_reinit)
                return MLS_E_INVALID_ARGUMENT;
        if (g->pending)
                return MLS_E_PENDING_COMMIT;
        MLS_TRY(grp_use_pool(g));
        MLS_TRY(grp_framed_init(g, MLS_CONTENT_COMMIT, p ? p->authenticated_data : NULL, &ac));
        MLS_TRY(build_proposal_list(g, env, p, &ac.content.commit));
        MLS_TRY(grp_resolve(g, &ac.content.commit, &ac.content.sender, kind, &l, &n));
        /* R-12.4-6, R-12.4.1-2: a path when required, or asked for. */
        has_path = (p && p->force_path) || n == 0;
        for (size_t i = 0; i < n; i++) {
                uint16_t t = l[i].p->proposal_type;

                if (t == MLS_PROPOSAL_UPDATE || t == MLS_PROPOSAL_REMOVE ||
                    t == MLS_PROPOSAL_EXTERNAL_INIT || t == MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS)
                        has_path = true;
        }
        /* R-12.2-1, R-12.4-3, R-12.4.1-1: the committer validates the list
         * exactly as receivers will. */
        MLS_TRY(grp_validate_list(g, l, n, g->own_leaf, kind, has_path));
        /* R-12.4.1-1, R-14-3: proposals go into a tree transaction that is
         * rolled back at the end; the group's state stays as it is. */
        MLS_TRY(grp_tree_tx_begin(g->tree, &tx));
        MLS_TRY(grp_apply(g, env, l, n, g->own_leaf, kind, true, &a));
        /* R-11-2: the creator's first commit adding members checks that
         * the group's version and suite are the best all of them support. */
        if (kind == GRP_COMMIT_MEMBER && g->gc.epoch == 0 && a.added.n > 0 &&
            !(p && p->no_suite_check))
                MLS_TRY(check_best_suite(g, &a, p));
        ext = a.new_ext ? a.new_ext : &g->gc.extensions;
        if (has_path) {
                MLS_TRY(path_leaf_template(g, env, p ? p->leaf : NULL, &tmpl));
                /* R-5.3.1-6, R-5.3.1-8: our own new credential, as the
                 * receivers will judge it. */
                MLS_TRY(mls_credential_validate_leaf(env, g->suite, &tmpl,
                                                     mls_tree_leaf(g->tree, g->own_leaf)));
                /* R-7.5-2, R-12.4.1-4: new path, parent hashes, signed leaf. */
                MLS_TRY(mls_treekem_commit_begin(g->tree, g->own_leaf, &tmpl, &g->gc.group_id,
                                                 env->signer, env->rng, &tc));
                MLS_TRY(mls_tree_hash(g->tree, th));
                /* R-12.4.1-5: the provisional GroupContext. */
                MLS_TRY(grp_next_gc(g, ext, th, g->gc.confirmed_transcript_hash.data,
                                    g->gc.confirmed_transcript_hash.len, &gc));
                MLS_TRY(mls_group_context_to_bytes(&gc, &gcb));
                MLS_TRY(mls_treekem_commit_encrypt(tc, g->tree, gcb.data, gcb.len, a.added.v,
                                                   a.added.n, env->rng,
                                                   &ac.content.commit.path));
                ac.content.commit.has_path = true;
                MLS_TRY(mls_treekem_commit_secret(tc, &commit_secret));
                MLS_TRY(mls_treekem_commit_take_priv(tc, &priv));
                mls_group_context_clear(&gc);
                mls_bytes_clear(&gcb);
        } else {
                MLS_TRY(mls_tree_hash(g->tree, th));
        }
        /* R-12.4.1-6: sign under the old GroupContext, then the transcript,
         * the key schedule and the confirmation tag. */
        MLS_TRY(grp_frame_group(g, &fg));
        MLS_TRY(mls_frame_sign(&fg, &ac, env->signer));
        MLS_TRY(grp_transcript(g, g->interim, nh, &ac, confirmed));
        MLS_TRY(grp_next_gc(g, ext, th, confirmed, nh, &gc));
        MLS_TRY(mls_group_context_to_bytes(&gc, &gcb));
        MLS_TRY(grp_psk_secret(g, &a, &psk_secret));
        MLS_TRY(mls_ks_next(g->ks, commit_secret, psk_secret, gcb.data, gcb.len, &ks));
        ck = mls_ks_get(ks, MLS_KS_CONFIRMATION_KEY);
        if (!ck)
                return MLS_E_INTERNAL;
        MLS_TRY(mls_transcript_confirmation_tag(g->suite, ck, nh, confirmed, nh, tag));
        MLS_TRY(mls_bytes_copy(&ac.auth.confirmation_tag, tag, nh));
        MLS_TRY(mls_transcript_interim(g->suite, confirmed, nh, tag, nh, interim));
        if (a.added.n > 0 && ret_welcome) {
                size_t k = 0;

                /* R-12.4.1-8: the new epoch's GroupInfo, signed. */
                MLS_TRY(grp_group_info_build(g->suite, &gc, ks, &ac.auth.confirmation_tag,
                                             g->tree, g->own_leaf, p && p->external_pub,
                                             p && p->inline_tree, env->signer, grp_grease_rng(env), &gi));
                MLS_TRY(grp_alloc_array(a.added.n, sizeof(*nm), (void **)&nm));
                for (size_t i = 0; i < n && k < a.added.n; i++) {
                        if (l[i].p->proposal_type != MLS_PROPOSAL_ADD)
                                continue;
                        nm[k].key_package = &l[i].p->add.key_package;
                        k++;
                }
                /* R-12.4.1-10: with a path, the common ancestor's path
                 * secret. */
                if (has_path) {
                        MLS_TRY(grp_alloc_array(a.added.n, sizeof(*ps.v), (void **)&ps.v));
                        ps.n = a.added.n;
                        for (size_t i = 0; i < a.added.n; i++) {
                                MLS_TRY(mls_treekem_commit_path_secret_for(tc, a.added.v[i],
                                                                           &ps.v[i]));
                                nm[i].path_secret = ps.v[i];
                        }
                }
                /* R-12.4.1-11, R-12.4.1-12, R-8.4-1: one Welcome for every
                 * new member; GroupSecrets.psks names the commit's PSK
                 * proposals in proposal order. */
                {
                        _mls_free_ struct mls_psk_id *ids = NULL;

                        MLS_TRY(grp_alloc_array(a.n_psks, sizeof(*ids), (void **)&ids));
                        for (size_t i = 0; i < a.n_psks; i++)
                                ids[i] = *a.psk_ids[i]; /* shallow: borrowed for the call */
                        MLS_TRY(mls_welcome_build(ks, &gi, ids, a.n_psks, nm, a.added.n,
                                                  env->rng, &w));
                }
                {
                        struct mls_message m = { .version = MLS_VERSION_MLS10,
                                                 .wire_format = MLS_WIRE_WELCOME };
                        int r;

                        m.welcome = w;
                        r = mls_message_to_bytes(&m, &wmsg);
                        MLS_TRY(r);
                }
        }
        /* Without a path, our keys stay; nodes the proposals blanked are
         * dropped at merge. */
        /* R-12.4.1-7: protect with the old epoch's keys (last: a
         * PrivateMessage consumes a handshake generation). */
        MLS_TRY(grp_protect(g, env, &ac, &msg));
        pend = calloc(1, sizeof(*pend));
        if (!pend)
                return MLS_E_NOMEM;
        pend->ac = ac;
        memset(&ac, 0, sizeof(ac));
        pend->priv = MLS_TAKE(priv);
        pend->ks = MLS_TAKE(ks);
        pend->gc = gc;
        memset(&gc, 0, sizeof(gc));
        memcpy(pend->interim, interim, nh);
        /* The joiner and welcome secrets were for the Welcome only. */
        mls_ks_delete(pend->ks, MLS_KS_JOINER_SECRET);
        mls_ks_delete(pend->ks, MLS_KS_WELCOME_SECRET);
        /* tx rolls the tree back when this scope ends (R-14-3). */
        g->pending = pend;
        *ret_commit = msg;
        msg = (struct mls_bytes){ 0 };
        if (ret_welcome) {
                *ret_welcome = wmsg;
                wmsg = (struct mls_bytes){ 0 };
        }
        mls_wipe(interim, sizeof(interim));
        return 0;
}

/* ---- pending commit (section 14) ---- */

int
grp_merge_pending(struct mls_group *g, const struct mls_env *env, struct mls_process_result *ret)
{
        _mls_cleanup_(grp_applied_clear) struct grp_applied a = { 0 };
        _mls_cleanup_(grp_tree_tx_end) struct grp_tree_tx tx = { 0 };
        _mls_cleanup_(grp_next_clear) struct grp_next next = { 0 };
        _mls_free_ struct grp_rprop *l = NULL;
        struct grp_pending *pd = g->pending;
        const struct mls_commit *c;
        uint8_t th[MLS_MAX_HASH_LEN];
        size_t n = 0, nh = g->suite->hash_len;
        uint64_t old_epoch = g->gc.epoch;
        int r;

        if (!pd)
                return MLS_E_NO_PENDING_COMMIT;
        c = &pd->ac.content.commit;
        MLS_TRY(grp_resolve(g, c, &pd->ac.content.sender, GRP_COMMIT_MEMBER, &l, &n));
        MLS_TRY(grp_tree_tx_begin(g->tree, &tx));
        /* Already validated when the commit was created: re-applied only. */
        MLS_TRY(grp_apply(g, env, l, n, g->own_leaf, GRP_COMMIT_MEMBER, false, &a));
        MLS_TRY(grp_applied_touch(&a, g->tree, g->own_leaf));
        if (c->has_path) {
                uint32_t nodes[MLS_TM_MAX_DEPTH], copath[MLS_TM_MAX_DEPTH];
                struct mls_bytes keys[MLS_TM_MAX_DEPTH], phs[MLS_TM_MAX_DEPTH];
                _grp_bytes_ struct mls_bytes leaf_ph = { 0 };
                size_t nf;

                MLS_TRY(mls_tree_filtered_direct_path(g->tree, g->own_leaf, nodes, copath, &nf));
                if (nf != c->path.n_nodes)
                        return MLS_E_INTERNAL;
                for (size_t i = 0; i < nf; i++)
                        keys[i] = c->path.nodes[i].encryption_key;
                MLS_TRY(mls_tree_path_parent_hashes(g->tree, copath, keys, nf, phs, &leaf_ph));
                r = mls_tree_merge_path(g->tree, g->own_leaf, &c->path.leaf_node, nodes, keys,
                                        phs, nf);
                for (size_t i = 0; i < nf; i++)
                        mls_bytes_clear(&phs[i]);
                MLS_TRY(r);
        }
        /* The tree must be the one the commit announced. */
        MLS_TRY(mls_tree_hash(g->tree, th));
        if (pd->gc.tree_hash.len != nh || memcmp(pd->gc.tree_hash.data, th, nh) != 0)
                return MLS_E_INTERNAL;
        /* Without a path, next.priv stays NULL: grp_advance keeps g->priv
         * and prunes it. */
        if (pd->priv) {
                MLS_TRY(mls_treekem_priv_dup(pd->priv, &next.priv));
                /* R-7.5-12: keys of nodes that changed are dropped. */
                mls_treekem_priv_prune(next.priv, g->tree);
        }
        MLS_TRY(grp_new_secret_tree(g, pd->ks, mls_tree_width(g->tree), &next.st));
        MLS_TRY(grp_group_context_dup(&pd->gc, &next.gc));
        MLS_TRY(mls_bytes_dup(&next.conf_tag, &pd->ac.auth.confirmation_tag));
        memcpy(next.interim, pd->interim, nh);
        next.own_leaf = g->own_leaf;
        if (ret) {
                *ret = (struct mls_process_result){ 0 };
                ret->content_type = MLS_CONTENT_COMMIT;
                ret->sender_type = MLS_SENDER_MEMBER;
                ret->sender_index = g->own_leaf;
                ret->epoch = old_epoch;
                ret->own_commit = true;
                ret->reinit = a.reinit != NULL;
                MLS_TRY(mls_bytes_dup(&ret->authenticated_data,
                                      &pd->ac.content.authenticated_data));
                ret->added = a.added;
                a.added = (struct mls_u32_list){ 0 };
                ret->removed_leaves = a.removed;
                a.removed = (struct mls_u32_list){ 0 };
        }
        /* The epoch secrets move from the pending commit to the group. */
        next.ks = MLS_TAKE(pd->ks);
        r = grp_advance(g, &next, &a);
        if (r < 0) {
                pd->ks = MLS_TAKE(next.ks);
                if (ret)
                        mls_process_result_clear(ret);
                return r;
        }
        grp_tree_tx_commit(&tx);
        return 0;
}

int
mls_group_merge_pending(struct mls_group *g, struct mls_process_result *ret)
{
        if (!g)
                return MLS_E_INVALID_ARGUMENT;
        return grp_merge_pending(g, NULL, ret);
}

int
mls_group_clear_pending(struct mls_group *g)
{
        if (!g)
                return MLS_E_INVALID_ARGUMENT;
        if (!g->pending)
                return MLS_E_NO_PENDING_COMMIT;
        grp_pending_free(g->pending);
        g->pending = NULL;
        return 0;
}

/* ---- public commit entry points ---- */

int
mls_group_commit(struct mls_group *g, const struct mls_env *env,
                 const struct mls_commit_params *p, struct mls_bytes *ret_commit,
                 struct mls_bytes *ret_welcome)
{
        if (!g)
                return MLS_E_INVALID_ARGUMENT;
        return grp_commit_create(g, env, p, GRP_COMMIT_MEMBER, ret_commit, ret_welcome);
}

struct prop_array {
        struct mls_proposal *v;
        size_t n;
};

static void
prop_array_clear(struct prop_array *a)
{
        for (size_t i = 0; i < a->n; i++)
                mls_proposal_clear(&a->v[i]);
        free(a->v);
        a->v = NULL;
        a->n = 0;
}

/* p's by-value proposals followed by extra[0..n_extra). */
static int
commit_with(struct mls_group *g, const struct mls_env *env, const struct mls_commit_params *p,
            struct prop_array *extra, bool force_path, struct mls_bytes *ret_commit,
            struct mls_bytes *ret_welcome)
{
        _mls_cleanup_(prop_array_clear) struct prop_array all = { 0 };
        struct mls_commit_params cp = { 0 };
        size_t n0 = p ? p->n_proposals : 0;

        if (p)
                cp = *p;
        MLS_TRY(grp_alloc_array(n0 + extra->n, sizeof(*all.v), (void **)&all.v));
        for (size_t i = 0; i < n0; i++) {
                MLS_TRY(grp_proposal_dup(&p->proposals[i], &all.v[i]));
                all.n++;
        }
        for (size_t i = 0; i < extra->n; i++) {
                all.v[all.n++] = extra->v[i];
                memset(&extra->v[i], 0, sizeof(extra->v[i]));
        }
        cp.proposals = all.v;
        cp.n_proposals = all.n;
        cp.force_path = cp.force_path || force_path;
        return grp_commit_create(g, env, &cp, GRP_COMMIT_MEMBER, ret_commit, ret_welcome);
}

int
mls_group_add(struct mls_group *g, const struct mls_env *env, const struct mls_bytes *key_packages,
              size_t n, const struct mls_commit_params *p, struct mls_bytes *ret_commit,
              struct mls_bytes *ret_welcome)
{
        _mls_cleanup_(prop_array_clear) struct prop_array add = { 0 };

        if (!g || (!key_packages && n))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(grp_alloc_array(n, sizeof(*add.v), (void **)&add.v));
        for (size_t i = 0; i < n; i++) {
                add.v[i].proposal_type = MLS_PROPOSAL_ADD;
                add.n++;
                /* Validated (once) when the commit applies it. */
                MLS_TRY(grp_key_package_decode(key_packages[i].data, key_packages[i].len,
                                               &add.v[i].add.key_package));
        }
        return commit_with(g, env, p, &add, false, ret_commit, ret_welcome);
}

int
mls_group_remove(struct mls_group *g, const struct mls_env *env, const uint32_t *leaves, size_t n,
                 const struct mls_commit_params *p, struct mls_bytes *ret_commit)
{
        _mls_cleanup_(prop_array_clear) struct prop_array rm = { 0 };

        if (!g || (!leaves && n))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(grp_alloc_array(n, sizeof(*rm.v), (void **)&rm.v));
        for (size_t i = 0; i < n; i++) {
                rm.v[i].proposal_type = MLS_PROPOSAL_REMOVE;
                rm.v[i].remove.removed = leaves[i];
                rm.n++;
        }
        return commit_with(g, env, p, &rm, true, ret_commit, NULL);
}

int
mls_group_update(struct mls_group *g, const struct mls_env *env, const struct mls_commit_params *p,
                 struct mls_bytes *ret_commit)
{
        struct prop_array none = { 0 };

        if (!g)
                return MLS_E_INVALID_ARGUMENT;
        return commit_with(g, env, p, &none, true, ret_commit, NULL);
}
