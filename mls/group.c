/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group state machine, part 1: shared helpers, group creation
 * (RFC 9420 section 11), inspection, GroupInfo, exporter, members.
 * Contracts: mls/group.h.
 */
#include <string.h>

#include "mls/group-internal.h"

/* ---- small helpers ---- */

void
grp_bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}

void
grp_u32_list_clearp(struct mls_u32_list *l)
{
        if (!l)
                return;
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

int
grp_alloc_array(size_t n, size_t elem, void **ret)
{
        size_t bytes;
        void *p;

        MLS_TRY(mls_size_mul(n ? n : 1, elem, &bytes));
        p = calloc(1, bytes);
        if (!p)
                return MLS_E_NOMEM;
        *ret = p;
        return 0;
}

int
grp_u32_push(struct mls_u32_list *l, uint32_t v)
{
        uint32_t *nv;
        size_t bytes;

        /* grow by doubling: capacity is the next power of two >= n */
        if (l->n == 0 || (l->n & (l->n - 1)) == 0) {
                MLS_TRY(mls_size_mul(l->n ? l->n * 2 : 4, sizeof(*nv), &bytes));
                nv = realloc(l->v, bytes);
                if (!nv)
                        return MLS_E_NOMEM;
                l->v = nv;
        }
        l->v[l->n++] = v;
        return 0;
}

bool
grp_u16_in(const struct mls_u16_list *l, uint16_t v)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i] == v)
                        return true;
        return false;
}

/* RFC 9420 section 7.2: the default extension and proposal types are
 * supported by every client and never listed. */
bool
grp_default_extension(uint16_t t)
{
        return t >= MLS_EXT_APPLICATION_ID && t <= MLS_EXT_EXTERNAL_SENDERS;
}

bool
grp_default_proposal(uint16_t t)
{
        return t >= MLS_PROPOSAL_ADD && t <= MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS;
}

#define GRP_DEFINE_DUP(name)                                                            \
        int grp_##name##_dup(const struct mls_##name *src, struct mls_##name *ret)      \
        {                                                                               \
                _grp_bytes_ struct mls_bytes b = { 0 };                                 \
                                                                                        \
                MLS_TRY(mls_##name##_to_bytes(src, &b));                                \
                return mls_##name##_from_bytes(b.data, b.len, ret);                     \
        }

GRP_DEFINE_DUP(proposal)
GRP_DEFINE_DUP(leaf_node)
GRP_DEFINE_DUP(group_context)
GRP_DEFINE_DUP(extension_list)
GRP_DEFINE_DUP(capabilities)
GRP_DEFINE_DUP(credential)

static int
u16_list_set(struct mls_u16_list *l, const uint16_t *v, size_t n)
{
        uint16_t *nv = NULL;

        if (n) {
                nv = malloc(n * sizeof(*nv));
                if (!nv)
                        return MLS_E_NOMEM;
                memcpy(nv, v, n * sizeof(*nv));
        }
        free(l->v);
        l->v = nv;
        l->n = n;
        return 0;
}

int
grp_default_capabilities(struct mls_capabilities *ret)
{
        _mls_cleanup_(mls_capabilities_clear) struct mls_capabilities c = { 0 };
        static const uint16_t versions[] = { MLS_VERSION_MLS10 };
        static const uint16_t creds[] = { MLS_CREDENTIAL_BASIC };
        const uint16_t *ids;
        size_t n;

        ids = mls_suite_ids(&n);
        MLS_TRY(u16_list_set(&c.versions, versions, 1));
        MLS_TRY(u16_list_set(&c.cipher_suites, ids, n));
        MLS_TRY(u16_list_set(&c.credentials, creds, 1));
        *ret = c;
        memset(&c, 0, sizeof(c));
        return 0;
}

/* ---- GREASE (RFC 9420 section 13.5) ---- */

static bool
grp_is_grease(uint16_t v)
{
        /* 0xXAXA with X = 0 .. E (0xFAFA is private use) */
        return (v & 0x0f0f) == 0x0a0a && (v >> 12) == ((v >> 4) & 0xf) && v != 0xfafa;
}

bool
grp_extensions_have_grease(const struct mls_extension_list *ext)
{
        for (size_t i = 0; ext && i < ext->n; i++)
                if (grp_is_grease(ext->v[i].extension_type))
                        return true;
        return false;
}

static int
u16_push(struct mls_u16_list *l, uint16_t v)
{
        uint16_t *nv;
        size_t bytes;

        MLS_TRY(mls_size_mul(l->n + 1, sizeof(*nv), &bytes));
        nv = realloc(l->v, bytes);
        if (!nv)
                return MLS_E_NOMEM;
        nv[l->n++] = v;
        l->v = nv;
        return 0;
}

/* A random GREASE value not in l (there are 15; l never holds them all:
 * we add at most two per list). */
static int
grease_pick(const struct mls_rng *rng, const struct mls_u16_list *l, uint16_t *ret)
{
        uint8_t b;
        unsigned k;

        MLS_TRY(mls_rng_fill(rng, &b, 1));
        k = b % 15u;
        for (unsigned i = 0; i < 15; i++, k = (k + 1) % 15u) {
                uint16_t v = (uint16_t)((((k << 4) | 0xau) << 8) | (k << 4) | 0xau);

                if (!grp_u16_in(l, v)) {
                        *ret = v;
                        return 0;
                }
        }
        return MLS_E_INTERNAL;
}

/* A GREASE extension of type t with 0-15 random bytes ("any contents
 * selected by the sender", section 13.5). */
static int
grease_extension(const struct mls_rng *rng, struct mls_extension_list *l, uint16_t t)
{
        uint8_t data[16];
        size_t len;
        int r;

        MLS_TRY(mls_rng_fill(rng, data, sizeof(data)));
        len = data[0] & 0x0f;
        r = mls_extension_list_add(l, t, data + 1, len);
        mls_wipe(data, sizeof(data));
        return r;
}

const struct mls_rng *
grp_grease_rng(const struct mls_env *env)
{
        return env && !env->no_grease ? env->rng : NULL;
}

int
grp_leaf_grease(struct mls_leaf_node *ln, const struct mls_env *env,
                struct mls_extension_list *kp_ext)
{
        struct mls_capabilities *c = &ln->capabilities;
        struct mls_u16_list *lists[] = { &c->cipher_suites, &c->extensions, &c->proposals,
                                         &c->credentials };
        uint16_t t;

        if (!env || env->no_grease)
                return 0;
        if (!env->rng)
                return MLS_E_INVALID_ARGUMENT;
        /* R-13.5-1: capabilities; never versions (not a GREASE-able
         * field, R-13.5-4). */
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
                MLS_TRY(grease_pick(env->rng, lists[i], &t));
                MLS_TRY(u16_push(lists[i], t));
        }
        /* R-13.5-2: the LeafNode's GREASE extension is the type just
         * listed in capabilities.extensions (not yet used: the leaf's own
         * extension types are all listed, R-7.2-3, and t was not). */
        t = c->extensions.v[c->extensions.n - 1];
        MLS_TRY(grease_extension(env->rng, &ln->extensions, t));
        if (kp_ext) {
                /* R-10-9: KeyPackage extensions are listed too. */
                MLS_TRY(grease_pick(env->rng, &c->extensions, &t));
                if (mls_extension_list_find(kp_ext, t))
                        return 0;
                MLS_TRY(u16_push(&c->extensions, t));
                MLS_TRY(grease_extension(env->rng, kp_ext, t));
        }
        return 0;
}

int
grp_leaf_template(const struct mls_leaf_params *lp, const uint8_t *pub, size_t pub_len,
                  uint8_t source, uint64_t now, struct mls_leaf_node *ret)
{
        _mls_cleanup_(mls_leaf_node_clear) struct mls_leaf_node ln = { 0 };

        if (!lp || !lp->credential || !pub || pub_len == 0)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(grp_credential_dup(lp->credential, &ln.credential));
        if (lp->capabilities)
                MLS_TRY(grp_capabilities_dup(lp->capabilities, &ln.capabilities));
        else
                MLS_TRY(grp_default_capabilities(&ln.capabilities));
        /* R-7.2-1: capabilities never list the default proposal types
         * (0x0001-0x0007) or default extension types (0x0001-0x0005). The
         * defaults list none; a caller's list naming one is refused. */
        for (size_t i = 0; i < ln.capabilities.proposals.n; i++)
                if (grp_default_proposal(ln.capabilities.proposals.v[i]))
                        return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < ln.capabilities.extensions.n; i++)
                if (grp_default_extension(ln.capabilities.extensions.v[i]))
                        return MLS_E_INVALID_ARGUMENT;
        if (lp->extensions)
                MLS_TRY(grp_extension_list_dup(lp->extensions, &ln.extensions));
        MLS_TRY(mls_bytes_copy(&ln.signature_key, pub, pub_len));
        ln.leaf_node_source = source;
        if (source == MLS_LEAF_SOURCE_KEY_PACKAGE) {
                ln.lifetime.not_before = lp->not_before ? lp->not_before : now;
                if (lp->not_after) {
                        ln.lifetime.not_after = lp->not_after;
                } else {
                        if (now > UINT64_MAX - MLS_KEY_PACKAGE_DEFAULT_LIFETIME)
                                return MLS_E_INVALID_ARGUMENT;
                        ln.lifetime.not_after = now + MLS_KEY_PACKAGE_DEFAULT_LIFETIME;
                }
                if (ln.lifetime.not_after < ln.lifetime.not_before)
                        return MLS_E_INVALID_ARGUMENT;
        }
        /* R-7.2-3: the leaf's own (non-default) extensions are listed. */
        for (size_t i = 0; i < ln.extensions.n; i++) {
                uint16_t t = ln.extensions.v[i].extension_type;

                if (!grp_default_extension(t) && !grp_u16_in(&ln.capabilities.extensions, t))
                        return MLS_E_UNSUPPORTED_CAPABILITY;
        }
        /* R-13.5-3: never a GREASE credential type. */
        if (grp_is_grease(ln.credential.credential_type))
                return MLS_E_INVALID_ARGUMENT;
        /* R-7.2-4: the own credential type is listed. */
        if (!grp_u16_in(&ln.capabilities.credentials, ln.credential.credential_type))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        *ret = ln;
        memset(&ln, 0, sizeof(ln));
        return 0;
}

int
grp_leaf_sign(struct mls_leaf_node *ln, const struct mls_bytes *group_id, uint32_t leaf,
              const struct mls_signer *signer)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_bytes sig = { 0 };

        mls_writer_init(&w);
        /* R-7.2-10: LeafNodeTBS, with group_id and leaf_index for update and
         * commit sources. */
        MLS_TRY(mls_leaf_node_tbs_encode(&w, ln, group_id, leaf));
        MLS_TRY(mls_signer_sign(signer, MLS_SIGN_LABEL_LEAF_NODE, w.buf, w.len, &sig));
        mls_bytes_clear(&ln->signature);
        ln->signature = sig;
        return 0;
}

int
grp_policy(const struct mls_group *g, const struct mls_env *env,
           const struct mls_extension_list *ext, struct mls_required_capabilities *req,
           bool *has_req, struct mls_leaf_policy *ret)
{
        const struct mls_extension *e = mls_extension_list_find(ext, MLS_EXT_REQUIRED_CAPABILITIES);

        *has_req = false;
        if (e) {
                MLS_TRY(mls_extension_get_required_capabilities(e, req));
                *has_req = true;
        }
        *ret = (struct mls_leaf_policy){
                .version = MLS_VERSION_MLS10,
                .required = *has_req ? req : NULL,
                .enforce_lifetime = g->opts.enforce_lifetime,
                .now = env ? env->now : 0,
                .max_lifetime = g->opts.max_lifetime,
        };
        return 0;
}

bool
grp_own_leaf_supports_extensions(const struct mls_leaf_node *ln,
                                 const struct mls_extension_list *ext)
{
        /* R-13.5-7, R-13.5-8: our real capabilities hold no GREASE value,
         * whatever our leaf advertises. */
        return !grp_extensions_have_grease(ext) && grp_leaf_supports_extensions(ln, ext);
}

/* R-13.4-7, R-13.4-10: every non-default extension type in the
 * GroupContext is listed in the leaf's capabilities. */
bool
grp_leaf_supports_extensions(const struct mls_leaf_node *ln, const struct mls_extension_list *ext)
{
        for (size_t i = 0; ext && i < ext->n; i++) {
                uint16_t t = ext->v[i].extension_type;

                if (!grp_default_extension(t) && !grp_u16_in(&ln->capabilities.extensions, t))
                        return false;
        }
        return true;
}

int
grp_refresh_gc_bytes(struct mls_group *g)
{
        struct mls_bytes b = { 0 };

        MLS_TRY(mls_group_context_to_bytes(&g->gc, &b));
        mls_bytes_clear(&g->gc_bytes);
        g->gc_bytes = b;
        return 0;
}

int
grp_frame_group(const struct mls_group *g, struct mls_frame_group *ret)
{
        struct mls_bytes enc = { 0 };

        /* g->gc_bytes is the encoded g->gc (kept in step by create, join,
         * load and every epoch change): a copy instead of encoding the
         * GroupContext again for every message. */
        if (g->gc_bytes.len == 0 || g->gc.cipher_suite != g->suite->id) {
                MLS_TRY(mls_frame_group_init(g->suite, &g->gc, ret));
                ret->pool = g->pool;
                return 0;
        }
        MLS_TRY(mls_bytes_dup(&enc, &g->gc_bytes));
        *ret = (struct mls_frame_group){ .suite = g->suite, .context = &g->gc,
                                         .context_bytes = enc, .pool = g->pool };
        return 0;
}

int
grp_use_pool(struct mls_group *g)
{
        if (!g->pool)
                MLS_TRY(mls_gpool_new(&g->pool));
        /* Every epoch-secrets object of the group: a dropped past epoch's
         * slab goes back to the pool for the next epoch's. */
        mls_ks_set_pool(g->ks, g->pool);
        mls_st_set_pool(g->st, g->pool);
        for (size_t i = 0; i < g->n_past; i++) {
                mls_ks_set_pool(g->past[i].ks, g->pool);
                mls_st_set_pool(g->past[i].st, g->pool);
        }
        if (g->pending)
                mls_ks_set_pool(g->pending->ks, g->pool);
        return 0;
}

int
grp_pool_prepare(struct mls_group *g)
{
        MLS_TRY(grp_use_pool(g));
        MLS_TRY(mls_st_pool_reserve(g->pool, g->suite));
        return mls_ks_pool_reserve(g->pool, g->suite);
}

/* ---- sender lookup (R-6.1-2, R-6.1-3, R-6.1-10, R-12.1.8-1) ---- */

void
grp_senders_ctx_clear(struct grp_senders_ctx *c)
{
        if (c)
                mls_external_senders_clear(&c->es);
}

int
grp_senders_lookup(void *ctx, const struct mls_sender *sender, const uint8_t **ret_pub,
                   size_t *ret_len)
{
        struct grp_senders_ctx *c = ctx;
        const struct mls_group *g = c->g;

        if (sender->sender_type == MLS_SENDER_MEMBER) {
                uint32_t l = sender->leaf_index;
                const struct mls_leaf_node *ln;

                /* A past epoch: the first diff entry for l from that epoch
                 * on, else the current tree. */
                if (c->past) {
                        for (size_t i = c->past_idx; i < g->n_past; i++) {
                                const struct grp_past *p = &g->past[i];

                                for (size_t k = 0; k < p->n_diff; k++) {
                                        if (p->diff[k].leaf != l)
                                                continue;
                                        if (p->diff[k].key.len == 0)
                                                return MLS_E_INVALID_SENDER;
                                        *ret_pub = p->diff[k].key.data;
                                        *ret_len = p->diff[k].key.len;
                                        return 0;
                                }
                        }
                }
                if (l >= mls_tree_width(g->tree))
                        return MLS_E_TREE_INDEX;
                ln = mls_tree_leaf(g->tree, l);
                /* R-6.1-10: a blank leaf sends nothing. */
                if (!ln)
                        return MLS_E_INVALID_SENDER;
                *ret_pub = ln->signature_key.data;
                *ret_len = ln->signature_key.len;
                return 0;
        }
        if (sender->sender_type == MLS_SENDER_EXTERNAL) {
                const struct mls_group_context *gc = c->past ? &c->past->gc : &g->gc;
                const struct mls_extension *e;

                if (!c->es_loaded) {
                        /* R-12.1.8-1: only with an external_senders extension.
                         * R-12.1.8-2: the API has no application hook for
                         * external proposals; the group's external_senders
                         * extension is the authorisation, so a sender not in
                         * it is refused. */
                        e = mls_extension_list_find(&gc->extensions, MLS_EXT_EXTERNAL_SENDERS);
                        if (!e)
                                return MLS_E_INVALID_SENDER;
                        MLS_TRY(mls_extension_get_external_senders(e, &c->es));
                        c->es_loaded = true;
                }
                /* R-12.1.8.1-1, R-12.1.8-2: sender_index indexes
                 * external_senders; any other index is not authorised. */
                if (sender->sender_index >= c->es.n)
                        return MLS_E_TREE_INDEX;
                *ret_pub = c->es.v[sender->sender_index].signature_key.data;
                *ret_len = c->es.v[sender->sender_index].signature_key.len;
                return 0;
        }
        return MLS_E_INVALID_SENDER;
}

/* ---- proposals cache, past epochs, PSK ring ---- */

void
grp_prop_clear(struct grp_prop *p)
{
        if (!p)
                return;
        mls_bytes_clear(&p->ref);
        mls_proposal_clear(&p->p);
        mls_secret_free(p->update_priv);
        memset(p, 0, sizeof(*p));
}

void
grp_props_clear(struct mls_group *g)
{
        for (size_t i = 0; i < g->n_props; i++)
                grp_prop_clear(&g->props[i]);
        free(g->props);
        g->props = NULL;
        g->n_props = 0;
}

const struct grp_prop *
grp_prop_find(const struct mls_group *g, const uint8_t *ref, size_t len)
{
        for (size_t i = 0; i < g->n_props; i++)
                if (g->props[i].ref.len == len && memcmp(g->props[i].ref.data, ref, len) == 0)
                        return &g->props[i];
        return NULL;
}

void
grp_past_clear(struct grp_past *p)
{
        if (!p)
                return;
        mls_group_context_clear(&p->gc);
        mls_ks_free(p->ks);
        mls_st_free(p->st);
        for (size_t i = 0; i < p->n_diff; i++)
                mls_bytes_clear(&p->diff[i].key);
        free(p->diff);
        memset(p, 0, sizeof(*p));
}

int
grp_res_prepare(struct mls_group *g)
{
        struct grp_res_ring *r = &g->res;
        size_t max = g->opts.max_resumption_psks, nh = g->suite->hash_len, cap;
        struct mls_secret *ns = NULL;
        uint64_t *ne;

        if (max == 0 || r->n < r->slab_cap || r->n >= max)
                return 0;
        cap = r->slab_cap ? r->slab_cap * 2 : 4;
        if (cap > max)
                cap = max;
        ne = realloc(r->epoch, cap * sizeof(*ne));
        if (!ne)
                return MLS_E_NOMEM;
        r->epoch = ne;
        MLS_TRY(mls_secret_new(cap * nh, &ns));
        if (r->slab)
                memcpy(ns->data, r->slab->data, r->n * nh);
        mls_secret_free(r->slab); /* wipes */
        r->slab = ns;
        r->slab_cap = cap;
        return 0;
}

void
grp_res_put(struct mls_group *g, uint64_t epoch, const uint8_t *psk)
{
        struct grp_res_ring *r = &g->res;
        size_t nh = g->suite->hash_len;

        if (g->opts.max_resumption_psks == 0 || !r->slab)
                return;
        if (r->n >= g->opts.max_resumption_psks || r->n >= r->slab_cap) {
                /* drop the oldest */
                memmove(r->slab->data, r->slab->data + nh, (r->n - 1) * nh);
                memmove(r->epoch, r->epoch + 1, (r->n - 1) * sizeof(*r->epoch));
                r->n--;
        }
        memcpy(r->slab->data + r->n * nh, psk, nh);
        r->epoch[r->n++] = epoch;
}

int
grp_res_push(struct mls_group *g, uint64_t epoch, const uint8_t *psk)
{
        if (!psk)
                return MLS_E_INTERNAL;
        MLS_TRY(grp_res_prepare(g));
        grp_res_put(g, epoch, psk);
        return 0;
}

const uint8_t *
grp_res_get(const struct mls_group *g, uint64_t epoch)
{
        const struct grp_res_ring *r = &g->res;

        for (size_t i = 0; i < r->n; i++)
                if (r->epoch[i] == epoch)
                        return r->slab->data + i * g->suite->hash_len;
        return NULL;
}

void
grp_res_trim(struct mls_group *g)
{
        struct grp_res_ring *r = &g->res;
        size_t nh = g->suite->hash_len, drop;

        if (r->n <= g->opts.max_resumption_psks)
                return;
        drop = r->n - g->opts.max_resumption_psks;
        memmove(r->slab->data, r->slab->data + drop * nh, (r->n - drop) * nh);
        mls_wipe(r->slab->data + (r->n - drop) * nh, drop * nh);
        memmove(r->epoch, r->epoch + drop, (r->n - drop) * sizeof(*r->epoch));
        r->n -= drop;
}

void
grp_res_free(struct mls_group *g)
{
        mls_secret_free(g->res.slab);
        free(g->res.epoch);
        memset(&g->res, 0, sizeof(g->res));
}

void
grp_pending_free(struct grp_pending *p)
{
        if (!p)
                return;
        mls_authenticated_content_clear(&p->ac);
        mls_treekem_priv_free(p->priv);
        mls_ks_free(p->ks);
        mls_group_context_clear(&p->gc);
        mls_bytes_clear(&p->conf_tag);
        mls_wipe(p->interim, sizeof(p->interim));
        free(p);
}

/* ---- framing glue ---- */

int
grp_framed_init(const struct mls_group *g, uint8_t content_type, const struct mls_bytes *aad,
                struct mls_authenticated_content *ret)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };

        ac.wire_format = (content_type == MLS_CONTENT_APPLICATION || g->opts.handshake_private)
                                 ? MLS_WIRE_PRIVATE_MESSAGE
                                 : MLS_WIRE_PUBLIC_MESSAGE;
        MLS_TRY(mls_bytes_dup(&ac.content.group_id, &g->gc.group_id));
        ac.content.epoch = g->gc.epoch;
        ac.content.sender.sender_type = MLS_SENDER_MEMBER;
        ac.content.sender.leaf_index = g->own_leaf;
        if (aad && aad->len)
                MLS_TRY(mls_bytes_dup(&ac.content.authenticated_data, aad));
        ac.content.content_type = content_type;
        *ret = ac;
        memset(&ac, 0, sizeof(ac));
        return 0;
}

int
grp_protect(struct mls_group *g, const struct mls_env *env,
            const struct mls_authenticated_content *ac, struct mls_bytes *ret_msg)
{
        _mls_cleanup_(mls_frame_group_clear) struct mls_frame_group fg = { 0 };
        size_t nh = g->suite->hash_len;

        MLS_TRY(grp_frame_group(g, &fg));
        if (ac->wire_format == MLS_WIRE_PUBLIC_MESSAGE) {
                const uint8_t *mk = mls_ks_get(g->ks, MLS_KS_MEMBERSHIP_KEY);

                if (!mk)
                        return MLS_E_INTERNAL;
                /* R-6.2-1, R-12.4.1-7 */
                return mls_frame_public_protect(&fg, ac, mk, nh, ret_msg);
        } else {
                const uint8_t *sds = mls_ks_get(g->ks, MLS_KS_SENDER_DATA_SECRET);
                struct mls_frame_padding pad = { .mode = MLS_FRAME_PAD_NONE };

                if (!sds || !env || !env->rng)
                        return sds ? MLS_E_INVALID_ARGUMENT : MLS_E_INTERNAL;
                if (g->opts.padding_block) {
                        pad.mode = MLS_FRAME_PAD_BLOCK;
                        pad.block = g->opts.padding_block;
                }
                /* R-12.4.1-7 */
                return mls_frame_private_protect(&fg, ac, sds, nh, g->st, &pad, env->rng,
                                                 ret_msg);
        }
}

int
grp_new_secret_tree(const struct mls_group *g, struct mls_epoch_secrets *ks, uint32_t n_leaves,
                    struct mls_secret_tree **ret)
{
        _mls_st_ struct mls_secret_tree *st = NULL;
        const uint8_t *es = mls_ks_get(ks, MLS_KS_ENCRYPTION_SECRET);

        if (!es)
                return MLS_E_INTERNAL;
        MLS_TRY(mls_st_new_pool(g->suite, es, g->suite->hash_len, n_leaves, g->pool, &st));
        MLS_TRY(mls_st_set_limits(st, g->opts.max_past_generations,
                                  g->opts.max_forward_distance));
        *ret = MLS_TAKE(st);
        return 0;
}

/* ---- options ---- */

void
mls_group_options_default(struct mls_group_options *ret_opts)
{
        *ret_opts = (struct mls_group_options){
                .max_past_epochs = MLS_GROUP_DEFAULT_MAX_PAST_EPOCHS,
                .max_resumption_psks = MLS_GROUP_DEFAULT_MAX_RESUMPTION_PSKS,
                .max_past_generations = MLS_GROUP_DEFAULT_MAX_PAST_GENERATIONS,
                .max_forward_distance = MLS_GROUP_DEFAULT_MAX_FORWARD_DISTANCE,
                .handshake_private = false,
                .padding_block = 0,
                .enforce_lifetime = true,
                .max_lifetime = 0,
        };
}

static int
options_check(const struct mls_group_options *o)
{
        if (o->max_past_epochs > MLS_GROUP_MAX_PAST_EPOCHS_LIMIT ||
            o->max_resumption_psks > MLS_GROUP_MAX_RESUMPTION_PSKS_LIMIT ||
            o->padding_block > MLS_FRAME_PAD_MAX_BLOCK)
                return MLS_E_INVALID_ARGUMENT;
        return 0;
}

int
grp_options_check(const struct mls_group_options *o)
{
        return options_check(o);
}

void
mls_group_get_options(const struct mls_group *g, struct mls_group_options *ret)
{
        *ret = g->opts;
}

int
mls_group_set_options(struct mls_group *g, const struct mls_group_options *o)
{
        if (!g || !o)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(options_check(o));
        /* Window changes first: mls_st_set_limits can only fail on bad
         * arguments, which are the same for every tree. */
        MLS_TRY(mls_st_set_limits(g->st, o->max_past_generations, o->max_forward_distance));
        for (size_t i = 0; i < g->n_past; i++)
                MLS_TRY(mls_st_set_limits(g->past[i].st, o->max_past_generations,
                                          o->max_forward_distance));
        g->opts = *o;
        /* Shrink the retained windows at once. */
        while (g->n_past > g->opts.max_past_epochs) {
                grp_past_clear(&g->past[0]);
                memmove(g->past, g->past + 1, (g->n_past - 1) * sizeof(*g->past));
                g->n_past--;
        }
        grp_res_trim(g);
        return 0;
}

/* ---- the downgrade guard (section 11, R-11-2) ---- */

static const uint16_t suite_preference_default[] = { 1, 3, 2, 5, 4, 6, 7 };

const uint16_t *
mls_suite_preference_default(size_t *ret_n)
{
        if (ret_n)
                *ret_n = sizeof(suite_preference_default) / sizeof(suite_preference_default[0]);
        return suite_preference_default;
}

static bool
all_support(const struct mls_capabilities *const *m, size_t n, bool suite, uint16_t v)
{
        for (size_t i = 0; i < n; i++)
                if (!grp_u16_in(suite ? &m[i]->cipher_suites : &m[i]->versions, v))
                        return false;
        return true;
}

/* R-11-2: the chosen version and suite are the best all members support. */
int
mls_check_best_suite(uint16_t version, uint16_t cipher_suite,
                     const struct mls_capabilities *const *members, size_t n_members,
                     const uint16_t *preference, size_t n_preference)
{
        /* Versions this engine implements, best (highest) first. */
        static const uint16_t versions[] = { MLS_VERSION_MLS10 };

        if ((!members && n_members) || (!preference && n_preference))
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < n_members; i++)
                if (!members[i])
                        return MLS_E_INVALID_ARGUMENT;
        if (!preference || n_preference == 0)
                preference = mls_suite_preference_default(&n_preference);
        if (!all_support(members, n_members, false, version) ||
            !all_support(members, n_members, true, cipher_suite))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
                if (versions[i] == version)
                        break;
                /* a better version everyone supports */
                if (versions[i] > version && all_support(members, n_members, false, versions[i]))
                        return MLS_E_UNSUPPORTED;
        }
        for (size_t i = 0; i < n_preference; i++) {
                uint16_t p = preference[i];

                if (p == cipher_suite)
                        return 0;
                /* a better suite we implement and everyone supports */
                if (mls_suite_get(p) && all_support(members, n_members, true, p))
                        return MLS_E_UNSUPPORTED;
        }
        /* cipher_suite is not in the preference, and no listed suite is
         * supported by all: it is the only choice. */
        return 0;
}

int
mls_group_check_best_suite(const struct mls_group *g, const struct mls_bytes *key_packages,
                           size_t n, const uint16_t *preference, size_t n_preference)
{
        _mls_free_ struct mls_key_package *kps = NULL;
        _mls_free_ const struct mls_capabilities **caps = NULL;
        const struct mls_leaf_node *own;
        size_t decoded = 0;
        int r = 0;

        if (!g || (!key_packages && n) || n == SIZE_MAX)
                return MLS_E_INVALID_ARGUMENT;
        own = mls_tree_leaf(g->tree, g->own_leaf);
        if (!own)
                return MLS_E_REMOVED;
        MLS_TRY(grp_alloc_array(n, sizeof(*kps), (void **)&kps));
        MLS_TRY(grp_alloc_array(n + 1, sizeof(*caps), (void **)&caps));
        caps[0] = &own->capabilities;
        for (; decoded < n && r == 0; decoded++) {
                r = grp_key_package_decode(key_packages[decoded].data, key_packages[decoded].len,
                                           &kps[decoded]);
                if (r < 0)
                        break;
                caps[decoded + 1] = &kps[decoded].leaf_node.capabilities;
        }
        if (r == 0)
                r = mls_check_best_suite(g->gc.version, g->gc.cipher_suite, caps, n + 1,
                                         preference, n_preference);
        for (size_t i = 0; i < decoded; i++)
                mls_key_package_clear(&kps[i]);
        return r;
}

/* ---- life cycle ---- */

void
mls_group_free(struct mls_group *g)
{
        if (!g)
                return;
        mls_group_context_clear(&g->gc);
        mls_bytes_clear(&g->gc_bytes);
        mls_tree_free(g->tree);
        mls_treekem_priv_free(g->priv);
        mls_ks_free(g->ks);
        mls_st_free(g->st);
        mls_wipe(g->interim, sizeof(g->interim));
        mls_bytes_clear(&g->conf_tag);
        mls_reinit_clear(&g->reinit);
        grp_props_clear(g);
        for (size_t i = 0; i < g->n_past; i++)
                grp_past_clear(&g->past[i]);
        free(g->past);
        grp_res_free(g);
        grp_pending_free(g->pending);
        /* last: the epoch secrets above released their slabs into it */
        mls_gpool_free(g->pool);
        free(g);
}

void
mls_group_freep(struct mls_group **g)
{
        if (g) {
                mls_group_free(*g);
                *g = NULL;
        }
}

int
mls_group_create(const struct mls_suite *s, const uint8_t *group_id, size_t group_id_len,
                 const struct mls_leaf_params *leaf, const struct mls_extension_list *extensions,
                 const struct mls_group_options *opts, const struct mls_env *env,
                 struct mls_group **ret)
{
        _mls_group_ struct mls_group *g = NULL;
        _mls_cleanup_(mls_leaf_node_clear) struct mls_leaf_node ln = { 0 };
        _mls_secret_ struct mls_secret *enc_priv = NULL;
        uint8_t th[MLS_MAX_HASH_LEN], tag[MLS_MAX_HASH_LEN];
        const uint8_t *ck;

        if (!s || (!group_id && group_id_len) || !leaf || !env || !env->rng || !env->signer ||
            !env->signer->pub || !ret)
                return MLS_E_INVALID_ARGUMENT;
        g = calloc(1, sizeof(*g));
        if (!g)
                return MLS_E_NOMEM;
        g->suite = s;
        if (opts)
                g->opts = *opts;
        else
                mls_group_options_default(&g->opts);
        MLS_TRY(options_check(&g->opts));
        /* R-11-5: one leaf, the creator's; a fresh HPKE key pair. */
        MLS_TRY(grp_leaf_template(leaf, env->signer->pub, env->signer->pub_len,
                                  MLS_LEAF_SOURCE_KEY_PACKAGE, env->now, &ln));
        MLS_TRY(mls_crypto_kem_generate(s, env->rng, &enc_priv, &ln.encryption_key));
        /* R-5.1.2-1: the signature key belongs to the suite's scheme. */
        if (ln.signature_key.len != s->sig_pub_len)
                return MLS_E_BAD_KEY;
        if (!grp_u16_in(&ln.capabilities.cipher_suites, s->id) ||
            !grp_u16_in(&ln.capabilities.versions, MLS_VERSION_MLS10))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        /* R-13.5-3: no GREASE in the GroupContext extensions. */
        if (grp_extensions_have_grease(extensions))
                return MLS_E_INVALID_ARGUMENT;
        /* R-13.4-10: the creator supports every GroupContext extension
         * (its real capabilities: the leaf has no GREASE yet). */
        if (extensions && !grp_leaf_supports_extensions(&ln, extensions))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        /* R-13.5-1 */
        MLS_TRY(grp_leaf_grease(&ln, env, NULL));
        MLS_TRY(grp_leaf_sign(&ln, NULL, 0, env->signer));
        MLS_TRY(mls_tree_new(s, &ln, &g->tree));
        MLS_TRY(mls_treekem_priv_new(s, 0, enc_priv, &g->priv));
        g->own_leaf = 0;
        /* R-11-5: epoch 0, the tree hash, an empty confirmed transcript
         * hash, the creator's extensions. */
        g->gc.version = MLS_VERSION_MLS10;
        g->gc.cipher_suite = s->id;
        MLS_TRY(mls_bytes_copy(&g->gc.group_id, group_id, group_id_len));
        g->gc.epoch = 0;
        MLS_TRY(mls_tree_hash(g->tree, th));
        MLS_TRY(mls_bytes_copy(&g->gc.tree_hash, th, s->hash_len));
        if (extensions)
                MLS_TRY(grp_extension_list_dup(extensions, &g->gc.extensions));
        MLS_TRY(grp_refresh_gc_bytes(g));
        /* R-11-6 (review): a fresh random epoch_secret from env->rng. */
        MLS_TRY(mls_ks_new_group(s, env->rng, g->gc_bytes.data, g->gc_bytes.len, &g->ks));
        /* R-11-7: confirmation tag over the empty confirmed transcript hash,
         * then the interim transcript hash. */
        ck = mls_ks_get(g->ks, MLS_KS_CONFIRMATION_KEY);
        if (!ck)
                return MLS_E_INTERNAL;
        MLS_TRY(mls_transcript_confirmation_tag(s, ck, s->hash_len, NULL, 0, tag));
        MLS_TRY(mls_bytes_copy(&g->conf_tag, tag, s->hash_len));
        MLS_TRY(mls_transcript_interim(s, NULL, 0, tag, s->hash_len, g->interim));
        MLS_TRY(grp_new_secret_tree(g, g->ks, mls_tree_width(g->tree), &g->st));
        /* R-9.2-2: the encryption secret now lives in the secret tree. */
        mls_ks_delete(g->ks, MLS_KS_ENCRYPTION_SECRET);
        MLS_TRY(grp_res_push(g, 0, mls_ks_get(g->ks, MLS_KS_RESUMPTION_PSK)));
        /* guarded blocks for its first epoch change */
        MLS_TRY(grp_pool_prepare(g));
        *ret = MLS_TAKE(g);
        return 0;
}

/* ---- inspection ---- */

const struct mls_suite *
mls_group_suite(const struct mls_group *g)
{
        return g ? g->suite : NULL;
}

uint64_t
mls_group_epoch(const struct mls_group *g)
{
        return g ? g->gc.epoch : 0;
}

const uint8_t *
mls_group_id(const struct mls_group *g, size_t *ret_len)
{
        if (!g) {
                *ret_len = 0;
                return NULL;
        }
        *ret_len = g->gc.group_id.len;
        return g->gc.group_id.data;
}

uint32_t
mls_group_own_leaf(const struct mls_group *g)
{
        return g ? g->own_leaf : 0;
}

uint32_t
mls_group_member_count(const struct mls_group *g)
{
        return g ? mls_tree_member_count(g->tree) : 0;
}

bool
mls_group_is_removed(const struct mls_group *g)
{
        return g && g->removed;
}

bool
mls_group_has_pending(const struct mls_group *g)
{
        return g && g->pending;
}

size_t
mls_group_proposal_count(const struct mls_group *g)
{
        return g ? g->n_props : 0;
}

size_t
mls_group_past_epoch_count(const struct mls_group *g)
{
        return g ? g->n_past : 0;
}

int
mls_group_context_bytes(const struct mls_group *g, struct mls_bytes *ret)
{
        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        return mls_bytes_dup(ret, &g->gc_bytes);
}

int
mls_group_ratchet_tree(const struct mls_group *g, struct mls_bytes *ret)
{
        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        return mls_tree_to_bytes(g->tree, ret);
}

int
mls_group_export(const struct mls_group *g, const uint8_t *label, size_t label_len,
                 const uint8_t *context, size_t context_len, size_t len, struct mls_secret **ret)
{
        if (!g || (!label && label_len) || (!context && context_len) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                return MLS_E_REMOVED;
        /* R-8.5-3 */
        return mls_ks_export(g->ks, label, label_len, context, context_len, len, ret);
}

int
mls_group_epoch_authenticator(const struct mls_group *g, struct mls_bytes *ret)
{
        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        /* R-8.7-1 */
        return mls_ks_epoch_authenticator(g->ks, ret);
}

int
mls_group_resumption_psk(const struct mls_group *g, uint64_t epoch, struct mls_secret **ret)
{
        if (!g || !ret)
                return MLS_E_INVALID_ARGUMENT;
        {
                const uint8_t *p = grp_res_get(g, epoch);

                if (p)
                        return mls_secret_from(p, g->suite->hash_len, ret);
        }
        return MLS_E_UNKNOWN_PSK;
}

void
mls_group_members_free(struct mls_group_member *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++) {
                mls_bytes_clear(&m[i].identity);
                mls_bytes_clear(&m[i].signature_key);
        }
        free(m);
}

int
mls_group_members(const struct mls_group *g, struct mls_group_member **ret, size_t *ret_n)
{
        struct mls_group_member *m = NULL;
        uint32_t n = 0, cnt, w;
        int r = 0;

        if (!g || !ret || !ret_n)
                return MLS_E_INVALID_ARGUMENT;
        cnt = mls_tree_member_count(g->tree);
        w = mls_tree_width(g->tree);
        MLS_TRY(grp_alloc_array(cnt, sizeof(*m), (void **)&m));
        for (uint32_t i = 0; i < w && r == 0; i++) {
                const struct mls_leaf_node *ln = mls_tree_leaf(g->tree, i);
                const struct mls_credential *c;

                if (!ln)
                        continue;
                if (n >= cnt) {
                        r = MLS_E_INTERNAL;
                        break;
                }
                c = &ln->credential;
                m[n].leaf = i;
                if (c->credential_type == MLS_CREDENTIAL_BASIC)
                        r = mls_bytes_dup(&m[n].identity, &c->identity);
                else if (c->n_certificates > 0)
                        r = mls_bytes_dup(&m[n].identity, &c->certificates[0]);
                if (r == 0)
                        r = mls_bytes_dup(&m[n].signature_key, &ln->signature_key);
                n++;
        }
        if (r < 0) {
                mls_group_members_free(m, n);
                return r;
        }
        *ret = m;
        *ret_n = n;
        return 0;
}

/* ---- GroupInfo (section 12.4.3) ---- */

int
grp_group_info_build(const struct mls_suite *s, const struct mls_group_context *gc,
                     const struct mls_epoch_secrets *ks, const struct mls_bytes *tag,
                     const struct mls_tree *t, uint32_t signer_leaf, bool external_pub,
                     bool inline_tree, const struct mls_signer *signer,
                     const struct mls_rng *grease_rng, struct mls_group_info *ret)
{
        _mls_cleanup_(mls_group_info_clear) struct mls_group_info gi = { 0 };

        MLS_TRY(grp_group_context_dup(gc, &gi.group_context));
        if (external_pub) {
                _mls_secret_ struct mls_secret *priv = NULL;
                _grp_bytes_ struct mls_bytes pub = { 0 }, body = { 0 };
                struct mls_external_pub ep;

                /* R-12.4.1-9, R-8-5 */
                MLS_TRY(mls_ks_external_keypair(ks, &priv, &pub));
                ep.external_pub = pub;
                MLS_TRY(mls_external_pub_to_bytes(&ep, &body));
                MLS_TRY(mls_extension_list_add(&gi.extensions, MLS_EXT_EXTERNAL_PUB, body.data,
                                               body.len));
        }
        if (inline_tree) {
                _grp_bytes_ struct mls_bytes body = { 0 };

                /* R-12.4.3.3-5: a GroupInfo extension; the GroupContext
                 * extensions (gi.group_context) stay as they are. */
                MLS_TRY(mls_tree_to_bytes(t, &body));
                MLS_TRY(mls_extension_list_add(&gi.extensions, MLS_EXT_RATCHET_TREE, body.data,
                                               body.len));
        }
        /* R-13.5-1: a GREASE GroupInfo extension (any contents). */
        if (grease_rng) {
                struct mls_u16_list none = { 0 };
                uint16_t gt;

                MLS_TRY(grease_pick(grease_rng, &none, &gt));
                MLS_TRY(grease_extension(grease_rng, &gi.extensions, gt));
        }
        /* R-12.4.3-1 */
        MLS_TRY(mls_bytes_dup(&gi.confirmation_tag, tag));
        gi.signer = signer_leaf;
        MLS_TRY(mls_welcome_sign_group_info(s, &gi, signer));
        *ret = gi;
        memset(&gi, 0, sizeof(gi));
        return 0;
}

int
mls_group_group_info(const struct mls_group *g, const struct mls_env *env, bool external_pub,
                     bool inline_tree, struct mls_bytes *ret)
{
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };

        if (!g || !env || !env->signer || !ret)
                return MLS_E_INVALID_ARGUMENT;
        if (g->removed)
                return MLS_E_REMOVED;
        m.version = MLS_VERSION_MLS10;
        m.wire_format = MLS_WIRE_GROUP_INFO;
        MLS_TRY(grp_group_info_build(g->suite, &g->gc, g->ks, &g->conf_tag, g->tree, g->own_leaf,
                                     external_pub, inline_tree, env->signer,
                                     grp_grease_rng(env), &m.group_info));
        return mls_message_to_bytes(&m, ret);
}
