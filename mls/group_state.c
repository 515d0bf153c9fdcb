/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 7: saved state (versioned, deterministic,
 * strict). Contracts: mls/group.h.
 *
 *   struct {
 *       uint8 version = 1;
 *       uint16 cipher_suite;
 *       uint32 max_past_epochs; uint32 max_resumption_psks;
 *       uint32 max_past_generations; uint32 max_forward_distance;
 *       uint8 handshake_private; uint32 padding_block;
 *       uint8 enforce_lifetime; uint64 max_lifetime;
 *       uint32 own_leaf;
 *       uint8 flags;                      // 1: removed, 2: has_reinit
 *       GroupContext group_context;
 *       opaque ratchet_tree<V>;           // section 12.4.3.3 encoding
 *       opaque interim_transcript_hash<V>;
 *       opaque confirmation_tag<V>;
 *       opaque treekem_private<V>;        // mls_treekem_priv_encode
 *       opaque epoch_secrets<V>;          // mls_ks_encode
 *       opaque secret_tree<V>;            // mls_st_encode
 *       optional<ReInit> reinit;          // present iff has_reinit
 *       CachedProposal proposals<V>;
 *       PastEpoch past_epochs<V>;         // ascending epochs
 *       ResumptionPsk resumption_psks<V>; // ascending epochs
 *       optional<PendingCommit> pending;
 *   } GroupState;
 *   struct { opaque ref<V>; Sender sender; Proposal proposal;
 *            optional<opaque update_priv<V>>; } CachedProposal;
 *   struct { GroupContext group_context;
 *            opaque epoch_secrets<V>;   // only sender_data_secret present
 *            opaque secret_tree<V>; uint32 own_leaf;
 *            SigKey diff<V>; } PastEpoch;
 *   struct { uint32 leaf; opaque signature_key<V>; } SigKey;
 *   struct { uint64 epoch; opaque psk<V>; } ResumptionPsk;
 *   struct { opaque authenticated_content<V>;
 *            optional<opaque treekem_private<V>>; opaque epoch_secrets<V>;
 *            GroupContext group_context; opaque interim<V>; } PendingCommit;
 *
 * The loader checks every field and the relations between them, and that
 * saving the loaded group gives exactly the input (a canonical encoding):
 * anything else is MLS_E_BAD_STATE.
 */
#include <string.h>

#include "mls/group-internal.h"

#define FLAG_REMOVED 1u
#define FLAG_REINIT 2u

/* An encoder of a nested value written as opaque<V>. */
#define NESTED(w, expr)                                                                 \
        do {                                                                            \
                size_t m_;                                                              \
                MLS_TRY(mls_writer_vec_begin((w), &m_));                                \
                MLS_TRY(expr);                                                          \
                MLS_TRY(mls_writer_vec_end((w), m_));                                   \
        } while (0)

static int
save_gc(struct mls_writer *w, const struct mls_group_context *gc)
{
        return mls_group_context_encode(w, gc);
}

static int
save_sender(struct mls_writer *w, const struct mls_sender *s)
{
        return mls_sender_encode(w, s);
}

static int
save_pending(struct mls_writer *w, const struct grp_pending *p, size_t nh)
{
        NESTED(w, mls_authenticated_content_encode(w, &p->ac));
        MLS_TRY(mls_writer_optional(w, p->priv != NULL));
        if (p->priv)
                NESTED(w, mls_treekem_priv_encode(p->priv, w));
        NESTED(w, mls_ks_encode(p->ks, w));
        MLS_TRY(save_gc(w, &p->gc));
        return mls_writer_opaque(w, p->interim, nh);
}

static int
group_save(const struct mls_group *g, uint32_t ahead, struct mls_writer *w)
{
        const struct mls_group_options *o = &g->opts;
        size_t nh = g->suite->hash_len, m;

        MLS_TRY(mls_writer_u8(w, GRP_STATE_VERSION));
        MLS_TRY(mls_writer_u16(w, g->suite->id));
        MLS_TRY(mls_writer_u32(w, o->max_past_epochs));
        MLS_TRY(mls_writer_u32(w, o->max_resumption_psks));
        MLS_TRY(mls_writer_u32(w, o->max_past_generations));
        MLS_TRY(mls_writer_u32(w, o->max_forward_distance));
        MLS_TRY(mls_writer_u8(w, o->handshake_private ? 1 : 0));
        MLS_TRY(mls_writer_u32(w, o->padding_block));
        MLS_TRY(mls_writer_u8(w, o->enforce_lifetime ? 1 : 0));
        MLS_TRY(mls_writer_u64(w, o->max_lifetime));
        MLS_TRY(mls_writer_u32(w, g->own_leaf));
        MLS_TRY(mls_writer_u8(w, (g->removed ? FLAG_REMOVED : 0) | (g->has_reinit ? FLAG_REINIT : 0)));
        MLS_TRY(save_gc(w, &g->gc));
        NESTED(w, mls_tree_encode(g->tree, w));
        MLS_TRY(mls_writer_opaque(w, g->interim, nh));
        MLS_TRY(mls_writer_opaque(w, g->conf_tag.data, g->conf_tag.len));
        NESTED(w, mls_treekem_priv_encode(g->priv, w));
        NESTED(w, mls_ks_encode(g->ks, w));
        NESTED(w, mls_st_encode_ahead(g->st, w, g->own_leaf, ahead));
        MLS_TRY(mls_writer_optional(w, g->has_reinit));
        if (g->has_reinit)
                MLS_TRY(mls_reinit_encode(w, &g->reinit));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < g->n_props; i++) {
                const struct grp_prop *p = &g->props[i];

                MLS_TRY(mls_writer_opaque(w, p->ref.data, p->ref.len));
                MLS_TRY(save_sender(w, &p->sender));
                MLS_TRY(mls_proposal_encode(w, &p->p));
                MLS_TRY(mls_writer_optional(w, p->update_priv != NULL));
                if (p->update_priv)
                        MLS_TRY(mls_writer_opaque(w, p->update_priv->data, p->update_priv->len));
        }
        MLS_TRY(mls_writer_vec_end(w, m));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < g->n_past; i++) {
                const struct grp_past *p = &g->past[i];
                size_t m2;

                MLS_TRY(save_gc(w, &p->gc));
                NESTED(w, mls_ks_encode(p->ks, w));
                NESTED(w, mls_st_encode(p->st, w));
                MLS_TRY(mls_writer_u32(w, p->own_leaf));
                MLS_TRY(mls_writer_vec_begin(w, &m2));
                for (size_t k = 0; k < p->n_diff; k++) {
                        MLS_TRY(mls_writer_u32(w, p->diff[k].leaf));
                        MLS_TRY(mls_writer_opaque(w, p->diff[k].key.data, p->diff[k].key.len));
                }
                MLS_TRY(mls_writer_vec_end(w, m2));
        }
        MLS_TRY(mls_writer_vec_end(w, m));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < g->res.n; i++) {
                MLS_TRY(mls_writer_u64(w, g->res.epoch[i]));
                MLS_TRY(mls_writer_opaque(w, g->res.slab->data + i * nh, nh));
        }
        MLS_TRY(mls_writer_vec_end(w, m));
        MLS_TRY(mls_writer_optional(w, g->pending != NULL));
        if (g->pending)
                MLS_TRY(save_pending(w, g->pending, nh));
        return 0;
}

int
mls_group_save(const struct mls_group *g, struct mls_secret **ret)
{
        _mls_writer_ struct mls_writer w = { 0 };

        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        mls_writer_init_secure(&w);
        MLS_TRY(group_save(g, 0, &w));
        return mls_writer_finish_secret(&w, ret);
}

int
mls_group_save_ahead_to(struct mls_group *g, uint32_t ahead, struct mls_writer *w)
{
        if (!g || !w || !w->secure)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                ahead = 0;
        if (ahead)
                MLS_TRY(mls_st_activate(g->st, g->own_leaf));
        return group_save(g, ahead, w);
}

int
mls_group_save_ahead(struct mls_group *g, uint32_t ahead, struct mls_secret **ret)
{
        _mls_writer_ struct mls_writer w = { 0 };

        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        mls_writer_init_secure(&w);
        MLS_TRY(mls_group_save_ahead_to(g, ahead, &w));
        return mls_writer_finish_secret(&w, ret);
}

int
mls_group_own_generation(const struct mls_group *g, uint64_t *ret_next)
{
        if (!g || !ret_next)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed) {
                *ret_next = 0;
                return 0;
        }
        return mls_st_next_generation(g->st, g->own_leaf, MLS_RATCHET_APPLICATION, ret_next);
}

/* ---- loading ---- */

static int
load_bool(struct mls_reader *r, bool *ret)
{
        uint8_t v;

        MLS_TRY(mls_reader_u8(r, &v));
        if (v > 1)
                return MLS_E_BAD_STATE;
        *ret = v == 1;
        return 0;
}

static int
load_hash(struct mls_reader *r, size_t nh, uint8_t *out)
{
        const uint8_t *p;
        size_t n;

        MLS_TRY(mls_reader_opaque_view(r, &p, &n));
        if (n != nh)
                return MLS_E_BAD_STATE;
        memcpy(out, p, n);
        return 0;
}

static int
load_secret(struct mls_reader *r, size_t len, struct mls_secret **ret)
{
        _mls_secret_ struct mls_secret *s = NULL;

        MLS_TRY(mls_reader_opaque_secret(r, &s));
        if (s->len != len)
                return MLS_E_BAD_STATE;
        *ret = MLS_TAKE(s);
        return 0;
}

static int
load_ks(struct mls_reader *r, const struct mls_suite *s, struct mls_epoch_secrets **ret)
{
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;
        struct mls_reader v;

        MLS_TRY(mls_reader_vec(r, &v));
        MLS_TRY(mls_ks_decode(&v, &ks));
        MLS_TRY(mls_reader_done(&v));
        if (mls_ks_suite(ks) != s)
                return MLS_E_BAD_STATE;
        *ret = MLS_TAKE(ks);
        return 0;
}

static int
load_st(struct mls_reader *r, const struct mls_suite *s, uint32_t width,
        struct mls_secret_tree **ret)
{
        _mls_st_ struct mls_secret_tree *st = NULL;
        struct mls_reader v;

        (void)s;
        MLS_TRY(mls_reader_vec(r, &v));
        MLS_TRY(mls_st_decode(&v, &st));
        MLS_TRY(mls_reader_done(&v));
        if (width && mls_st_n_leaves(st) != width)
                return MLS_E_BAD_STATE;
        *ret = MLS_TAKE(st);
        return 0;
}

static int
load_priv(struct mls_reader *r, const struct mls_suite *s, struct mls_treekem_priv **ret)
{
        _mls_treekem_priv_ struct mls_treekem_priv *p = NULL;
        struct mls_reader v;

        (void)s;
        MLS_TRY(mls_reader_vec(r, &v));
        MLS_TRY(mls_treekem_priv_decode(&v, &p));
        MLS_TRY(mls_reader_done(&v));
        *ret = MLS_TAKE(p);
        return 0;
}

static int
load_gc(struct mls_reader *r, const struct mls_suite *s, struct mls_group_context *ret)
{
        _mls_cleanup_(mls_group_context_clear) struct mls_group_context gc = { 0 };

        MLS_TRY(mls_group_context_decode(r, &gc));
        if (gc.cipher_suite != s->id || gc.version != MLS_VERSION_MLS10 ||
            gc.tree_hash.len != s->hash_len)
                return MLS_E_BAD_STATE;
        *ret = gc;
        memset(&gc, 0, sizeof(gc));
        return 0;
}

static int
load_pending(struct mls_reader *r, struct mls_group *g)
{
        struct grp_pending *p;
        struct mls_reader v;
        bool has_priv;

        p = calloc(1, sizeof(*p));
        if (!p)
                return MLS_E_NOMEM;
        g->pending = p; /* freed with g on failure */
        MLS_TRY(mls_reader_vec(r, &v));
        MLS_TRY(mls_authenticated_content_decode(&v, &p->ac));
        MLS_TRY(mls_reader_done(&v));
        if (p->ac.content.content_type != MLS_CONTENT_COMMIT ||
            p->ac.content.sender.sender_type != MLS_SENDER_MEMBER ||
            p->ac.content.sender.leaf_index != g->own_leaf ||
            p->ac.content.epoch != g->gc.epoch ||
            !mls_bytes_eq(&p->ac.content.group_id, &g->gc.group_id) ||
            p->ac.auth.confirmation_tag.len != g->suite->hash_len)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_optional(r, &has_priv));
        if (has_priv) {
                MLS_TRY(load_priv(r, g->suite, &p->priv));
                if (mls_treekem_priv_leaf(p->priv) != g->own_leaf)
                        return MLS_E_BAD_STATE;
        }
        if (has_priv != p->ac.content.commit.has_path)
                return MLS_E_BAD_STATE;
        MLS_TRY(load_ks(r, g->suite, &p->ks));
        MLS_TRY(load_gc(r, g->suite, &p->gc));
        if (p->gc.epoch != g->gc.epoch + 1 || !mls_bytes_eq(&p->gc.group_id, &g->gc.group_id))
                return MLS_E_BAD_STATE;
        return load_hash(r, g->suite->hash_len, p->interim);
}

static int
group_load(const uint8_t *buf, size_t len, struct mls_group **ret)
{
        _mls_group_ struct mls_group *g = NULL;
        _mls_secret_ struct mls_secret *again = NULL;
        struct mls_group_options *o;
        struct mls_reader r, v;
        uint8_t version, flags;
        uint16_t suite;
        uint8_t th[MLS_MAX_HASH_LEN];
        size_t nh;
        bool present;

        mls_reader_init(&r, buf, len);
        MLS_TRY(mls_reader_u8(&r, &version));
        if (version != GRP_STATE_VERSION)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u16(&r, &suite));
        g = calloc(1, sizeof(*g));
        if (!g)
                return MLS_E_NOMEM;
        g->suite = mls_suite_get(suite);
        if (!g->suite)
                return MLS_E_BAD_STATE;
        nh = g->suite->hash_len;
        o = &g->opts;
        MLS_TRY(mls_reader_u32(&r, &o->max_past_epochs));
        MLS_TRY(mls_reader_u32(&r, &o->max_resumption_psks));
        MLS_TRY(mls_reader_u32(&r, &o->max_past_generations));
        MLS_TRY(mls_reader_u32(&r, &o->max_forward_distance));
        MLS_TRY(load_bool(&r, &o->handshake_private));
        MLS_TRY(mls_reader_u32(&r, &o->padding_block));
        MLS_TRY(load_bool(&r, &o->enforce_lifetime));
        MLS_TRY(mls_reader_u64(&r, &o->max_lifetime));
        if (grp_options_check(o) < 0)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u32(&r, &g->own_leaf));
        MLS_TRY(mls_reader_u8(&r, &flags));
        if (flags & ~(FLAG_REMOVED | FLAG_REINIT))
                return MLS_E_BAD_STATE;
        g->removed = flags & FLAG_REMOVED;
        g->has_reinit = flags & FLAG_REINIT;
        MLS_TRY(load_gc(&r, g->suite, &g->gc));
        MLS_TRY(grp_refresh_gc_bytes(g));
        MLS_TRY(mls_reader_vec(&r, &v));
        MLS_TRY(mls_tree_from_bytes(g->suite, v.p, v.left, &g->tree));
        /* The tree is the GroupContext's. */
        MLS_TRY(mls_tree_hash(g->tree, th));
        if (memcmp(th, g->gc.tree_hash.data, nh) != 0)
                return MLS_E_BAD_STATE;
        MLS_TRY(load_hash(&r, nh, g->interim));
        MLS_TRY(mls_reader_opaque(&r, &g->conf_tag));
        if (g->conf_tag.len != nh)
                return MLS_E_BAD_STATE;
        MLS_TRY(load_priv(&r, g->suite, &g->priv));
        /* Our leaf is in the tree and our key matches it. */
        if (mls_treekem_priv_leaf(g->priv) != g->own_leaf ||
            mls_treekem_priv_check_leaf(g->priv, g->tree) < 0)
                return MLS_E_BAD_STATE;
        MLS_TRY(load_ks(&r, g->suite, &g->ks));
        MLS_TRY(load_st(&r, g->suite, mls_tree_width(g->tree), &g->st));
        MLS_TRY(mls_reader_optional(&r, &present));
        if (present != g->has_reinit)
                return MLS_E_BAD_STATE;
        if (present)
                MLS_TRY(mls_reinit_decode(&r, &g->reinit));
        /* cached proposals */
        MLS_TRY(mls_reader_vec(&r, &v));
        while (!mls_reader_empty(&v)) {
                struct grp_prop *np;
                struct grp_prop *p;
                bool has_priv;

                np = realloc(g->props, (g->n_props + 1) * sizeof(*np));
                if (!np)
                        return MLS_E_NOMEM;
                g->props = np;
                p = &g->props[g->n_props++];
                memset(p, 0, sizeof(*p));
                MLS_TRY(mls_reader_opaque(&v, &p->ref));
                if (p->ref.len != nh)
                        return MLS_E_BAD_STATE;
                for (size_t i = 0; i + 1 < g->n_props; i++)
                        if (mls_bytes_eq(&g->props[i].ref, &p->ref))
                                return MLS_E_BAD_STATE;
                MLS_TRY(mls_sender_decode(&v, &p->sender));
                MLS_TRY(mls_proposal_decode(&v, &p->p));
                MLS_TRY(mls_reader_optional(&v, &has_priv));
                if (has_priv) {
                        if (p->p.proposal_type != MLS_PROPOSAL_UPDATE ||
                            p->sender.sender_type != MLS_SENDER_MEMBER ||
                            p->sender.leaf_index != g->own_leaf)
                                return MLS_E_BAD_STATE;
                        MLS_TRY(load_secret(&v, g->suite->kem_priv_len, &p->update_priv));
                }
        }
        /* past epochs */
        MLS_TRY(mls_reader_vec(&r, &v));
        while (!mls_reader_empty(&v)) {
                struct grp_past *np, *p;
                struct mls_reader d;

                if (g->n_past >= g->opts.max_past_epochs)
                        return MLS_E_BAD_STATE;
                np = realloc(g->past, (g->n_past + 1) * sizeof(*np));
                if (!np)
                        return MLS_E_NOMEM;
                g->past = np;
                p = &g->past[g->n_past++];
                memset(p, 0, sizeof(*p));
                MLS_TRY(load_gc(&v, g->suite, &p->gc));
                if (!mls_bytes_eq(&p->gc.group_id, &g->gc.group_id) ||
                    p->gc.epoch >= g->gc.epoch ||
                    (g->n_past > 1 && p->gc.epoch <= g->past[g->n_past - 2].gc.epoch))
                        return MLS_E_BAD_STATE;
                MLS_TRY(load_ks(&v, g->suite, &p->ks));
                /* only the sender data secret */
                for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++)
                        if ((i == MLS_KS_SENDER_DATA_SECRET) !=
                            mls_ks_has(p->ks, (enum mls_ks_secret)i))
                                return MLS_E_BAD_STATE;
                MLS_TRY(load_st(&v, g->suite, 0, &p->st));
                MLS_TRY(mls_reader_u32(&v, &p->own_leaf));
                MLS_TRY(mls_reader_vec(&v, &d));
                while (!mls_reader_empty(&d)) {
                        struct grp_sigkey *nd = realloc(p->diff, (p->n_diff + 1) * sizeof(*nd));

                        if (!nd)
                                return MLS_E_NOMEM;
                        p->diff = nd;
                        nd[p->n_diff] = (struct grp_sigkey){ 0 };
                        p->n_diff++;
                        MLS_TRY(mls_reader_u32(&d, &nd[p->n_diff - 1].leaf));
                        MLS_TRY(mls_reader_opaque(&d, &nd[p->n_diff - 1].key));
                }
        }
        /* resumption PSKs */
        MLS_TRY(mls_reader_vec(&r, &v));
        while (!mls_reader_empty(&v)) {
                const uint8_t *psk;
                size_t pl;
                uint64_t e;

                if (g->res.n >= g->opts.max_resumption_psks)
                        return MLS_E_BAD_STATE;
                MLS_TRY(mls_reader_u64(&v, &e));
                if (e > g->gc.epoch || (g->res.n > 0 && e <= g->res.epoch[g->res.n - 1]))
                        return MLS_E_BAD_STATE;
                MLS_TRY(mls_reader_opaque_view(&v, &psk, &pl));
                if (pl != nh)
                        return MLS_E_BAD_STATE;
                MLS_TRY(grp_res_push(g, e, psk));
        }
        MLS_TRY(mls_reader_optional(&r, &present));
        if (present)
                MLS_TRY(load_pending(&r, g));
        MLS_TRY(mls_reader_done(&r));
        /* Canonical: saving what we loaded gives the same bytes. */
        MLS_TRY(mls_group_save(g, &again));
        if (again->len != len || !mls_ct_eq(again->data, buf, len))
                return MLS_E_BAD_STATE;
        *ret = MLS_TAKE(g);
        return 0;
}

int
mls_group_load(const uint8_t *p, size_t len, struct mls_group **ret)
{
        int r;

        if ((!p && len) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        r = group_load(p, len, ret);
        if (r < 0 && r != MLS_E_NOMEM)
                return MLS_E_BAD_STATE;
        if (r == 0 && grp_pool_prepare(*ret) < 0) {
                mls_group_free(*ret);
                *ret = NULL;
                return MLS_E_NOMEM;
        }
        return r;
}
