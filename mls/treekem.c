/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TreeKEM (RFC 9420 sections 7.4-7.6, 12.4.1, 12.4.2, 12.4.3.1). See
 * mls/treekem.h.
 */
#include "mls/treekem.h"

#include <string.h>

#include "mls/hpke.h"
#include "mls/labeled.h"

#define PRIV_SLOTS (1 + MLS_TM_MAX_DEPTH)

struct mls_treekem_priv {
        const struct mls_suite *suite;
        uint32_t leaf;
        size_t nsk;
        size_t n;                               /* parent keys held */
        uint32_t node[MLS_TM_MAX_DEPTH];
        struct mls_bytes pub[MLS_TM_MAX_DEPTH];
        /* PRIV_SLOTS * nsk guarded bytes: slot 0 the leaf key, slot 1 + i
         * the key of node[i]. */
        struct mls_secret *slab;
};

struct mls_treekem_commit {
        const struct mls_suite *suite;
        uint32_t leaf;
        size_t n;
        uint32_t nodes[MLS_TM_MAX_DEPTH];
        uint32_t copath[MLS_TM_MAX_DEPTH];
        struct mls_secret *ps;            /* n * Nh: path_secret[i] at i * Nh */
        struct mls_secret *commit_secret;
        struct mls_treekem_priv *priv;
        struct mls_leaf_node leaf_node;   /* signed */
        struct mls_bytes keys[MLS_TM_MAX_DEPTH];
};

/* ---- private state ---- */

static struct mls_secret
slot_view(const struct mls_treekem_priv *p, size_t slot)
{
        return (struct mls_secret){ .len = p->nsk, .data = p->slab->data + slot * p->nsk };
}

void
mls_treekem_priv_free(struct mls_treekem_priv *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                mls_bytes_clear(&p->pub[i]);
        mls_secret_free(p->slab);
        free(p);
}

void
mls_treekem_priv_freep(struct mls_treekem_priv **p)
{
        mls_treekem_priv_free(*p);
        *p = NULL;
}

static int
priv_alloc(const struct mls_suite *s, uint32_t leaf, struct mls_treekem_priv **ret)
{
        _mls_treekem_priv_ struct mls_treekem_priv *p = NULL;

        if (!s)
                return MLS_E_INVALID_ARGUMENT;
        p = calloc(1, sizeof(*p));
        if (!p)
                return MLS_E_NOMEM;
        p->suite = s;
        p->leaf = leaf;
        p->nsk = s->kem_priv_len;
        MLS_TRY(mls_secret_new(PRIV_SLOTS * p->nsk, &p->slab));
        *ret = MLS_TAKE(p);
        return 0;
}

int
mls_treekem_priv_new(const struct mls_suite *s, uint32_t leaf, const struct mls_secret *leaf_priv,
                     struct mls_treekem_priv **ret)
{
        _mls_treekem_priv_ struct mls_treekem_priv *p = NULL;

        if (!s || !leaf_priv)
                return MLS_E_INVALID_ARGUMENT;
        if (leaf_priv->len != s->kem_priv_len)
                return MLS_E_BAD_KEY;
        MLS_TRY(priv_alloc(s, leaf, &p));
        memcpy(p->slab->data, leaf_priv->data, p->nsk);
        *ret = MLS_TAKE(p);
        return 0;
}

int
mls_treekem_priv_dup(const struct mls_treekem_priv *src, struct mls_treekem_priv **ret)
{
        _mls_treekem_priv_ struct mls_treekem_priv *p = NULL;

        MLS_TRY(priv_alloc(src->suite, src->leaf, &p));
        memcpy(p->slab->data, src->slab->data, PRIV_SLOTS * p->nsk);
        for (size_t i = 0; i < src->n; i++) {
                MLS_TRY(mls_bytes_dup(&p->pub[i], &src->pub[i]));
                p->node[i] = src->node[i];
                p->n = i + 1;
        }
        *ret = MLS_TAKE(p);
        return 0;
}

uint32_t
mls_treekem_priv_leaf(const struct mls_treekem_priv *p)
{
        return p->leaf;
}

size_t
mls_treekem_priv_node_count(const struct mls_treekem_priv *p)
{
        return p->n;
}

static int
priv_find(const struct mls_treekem_priv *p, uint32_t x, size_t *ret_i)
{
        for (size_t i = 0; i < p->n; i++) {
                if (p->node[i] == x) {
                        *ret_i = i;
                        return 0;
                }
        }
        return MLS_E_NOT_FOUND;
}

/* Stores (or replaces) the key pair of node x. */
static int
priv_put(struct mls_treekem_priv *p, uint32_t x, const uint8_t *sk, const struct mls_bytes *pk)
{
        struct mls_bytes b = { 0 };
        size_t i;

        MLS_TRY(mls_bytes_dup(&b, pk));
        if (priv_find(p, x, &i) < 0) {
                if (p->n == MLS_TM_MAX_DEPTH) {
                        mls_bytes_clear(&b);
                        return MLS_E_TOO_LARGE;
                }
                i = p->n++;
                p->node[i] = x;
        } else {
                mls_bytes_clear(&p->pub[i]);
        }
        p->pub[i] = b;
        memcpy(p->slab->data + (1 + i) * p->nsk, sk, p->nsk);
        return 0;
}

static void
priv_drop(struct mls_treekem_priv *p, size_t i)
{
        size_t last = p->n - 1;

        mls_bytes_clear(&p->pub[i]);
        if (i != last) {
                p->node[i] = p->node[last];
                p->pub[i] = p->pub[last];
                memcpy(p->slab->data + (1 + i) * p->nsk, p->slab->data + (1 + last) * p->nsk,
                       p->nsk);
        }
        p->pub[last] = (struct mls_bytes){ 0 };
        mls_wipe(p->slab->data + (1 + last) * p->nsk, p->nsk);
        p->n--;
}

void
mls_treekem_priv_prune(struct mls_treekem_priv *p, const struct mls_tree *t)
{
        for (size_t i = p->n; i-- > 0;) {
                const struct mls_bytes *k = mls_tree_node_encryption_key(t, p->node[i]);

                /* R-4.2-1: only nodes on the own direct path; R-7.5-12: keys
                 * of replaced or blanked nodes go. */
                if (!k || !mls_tm_in_subtree(2 * p->leaf, p->node[i]) ||
                    !mls_bytes_eq(k, &p->pub[i]))
                        priv_drop(p, i);
        }
}

bool
mls_treekem_priv_has_node(const struct mls_treekem_priv *p, const struct mls_tree *t, uint32_t x)
{
        const struct mls_bytes *k = mls_tree_node_encryption_key(t, x);
        size_t i;

        if (!k)
                return false;
        if (x == 2 * p->leaf)
                return true; /* mls_treekem_priv_check_leaf checks it matches */
        return priv_find(p, x, &i) == 0 && mls_bytes_eq(k, &p->pub[i]);
}

int
mls_treekem_priv_check_leaf(const struct mls_treekem_priv *p, const struct mls_tree *t)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pub = { 0 };
        const struct mls_leaf_node *l = mls_tree_leaf(t, p->leaf);
        struct mls_secret v = slot_view(p, 0);

        if (!l)
                return MLS_E_BLANK_LEAF;
        MLS_TRY(mls_crypto_kem_pub_from_priv(p->suite, &v, &pub));
        if (!mls_bytes_eq(&pub, &l->encryption_key))
                return MLS_E_BAD_KEY;
        return 0;
}

int
mls_treekem_priv_set_leaf_key(struct mls_treekem_priv *p, const struct mls_secret *leaf_priv)
{
        if (!p || !leaf_priv)
                return MLS_E_INVALID_ARGUMENT;
        if (leaf_priv->len != p->nsk)
                return MLS_E_BAD_KEY;
        memcpy(p->slab->data, leaf_priv->data, p->nsk);
        return 0;
}

/* R-7.4-4: node_secret = DeriveSecret(path_secret, "node");
 * (priv, pub) = DeriveKeyPair(node_secret). sk holds kem_priv_len bytes. */
static int
node_keypair(const struct mls_suite *s, const uint8_t *ps, size_t len, uint8_t *sk,
             struct mls_bytes *ret_pk)
{
        _mls_hash_buf_ uint8_t ns[MLS_MAX_HASH_LEN];

        MLS_TRY(mls_derive_secret_into(s, ps, len, "node", ns));
        return mls_crypto_kem_derive_keypair_into(s, ns, s->hash_len, sk, ret_pk);
}

/* The next path secret: DeriveSecret(ps, "path") (R-7.4-3), in place. */
static int
path_next(const struct mls_suite *s, uint8_t *ps)
{
        _mls_hash_buf_ uint8_t next[MLS_MAX_HASH_LEN];

        MLS_TRY(mls_derive_secret_into(s, ps, s->hash_len, "path", next));
        memcpy(ps, next, s->hash_len);
        return 0;
}

/* Derives the key pair of node x from ps, requires the tree's public key
 * (MLS_E_BAD_KEY) and stores it. */
static int
priv_derive_check_put(struct mls_treekem_priv *p, const struct mls_tree *t, uint32_t x,
                      const uint8_t *ps, size_t len)
{
        /* path chains: a wiped stack key, no guarded allocation per node */
        _mls_kem_priv_buf_ uint8_t sk[MLS_MAX_KEM_PRIV_LEN];
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pk = { 0 };
        const struct mls_bytes *k = mls_tree_node_encryption_key(t, x);

        if (!k)
                return MLS_E_BAD_KEY;
        MLS_TRY(node_keypair(p->suite, ps, len, sk, &pk));
        if (!mls_bytes_eq(&pk, k))
                return MLS_E_BAD_KEY;
        return priv_put(p, x, sk, &pk);
}

int
mls_treekem_priv_add_path_secret(struct mls_treekem_priv *p, const struct mls_tree *t, uint32_t x,
                                 const uint8_t *path_secret, size_t len)
{
        if (!p || !t || !path_secret)
                return MLS_E_INVALID_ARGUMENT;
        /* R-4.2-1: a parent whose subtree holds our leaf. */
        if (!(x & 1u) || !mls_tm_in_subtree(2 * p->leaf, x))
                return MLS_E_INVALID_ARGUMENT;
        return priv_derive_check_put(p, t, x, path_secret, len);
}

/* The next non-blank ancestor of x, or false at the root. */
static bool
next_nonblank_ancestor(const struct mls_tree *t, uint32_t *x)
{
        uint32_t root = mls_tree_width(t) - 1, y = *x;

        while (y != root) {
                uint32_t p;

                if (mls_tm_parent(y, mls_tree_width(t), &p) < 0)
                        return false;
                y = p;
                if (!mls_tree_node_is_blank(t, y)) {
                        *x = y;
                        return true;
                }
        }
        return false;
}

int
mls_treekem_priv_join(const struct mls_tree *t, uint32_t leaf, const struct mls_secret *leaf_priv,
                      uint32_t signer, const struct mls_secret *path_secret,
                      struct mls_treekem_priv **ret)
{
        _mls_treekem_priv_ struct mls_treekem_priv *p = NULL;
        _mls_hash_buf_ uint8_t ps[MLS_MAX_HASH_LEN];
        const struct mls_suite *s;
        uint32_t x;

        if (!t || !leaf_priv)
                return MLS_E_INVALID_ARGUMENT;
        s = mls_tree_suite(t);
        MLS_TRY(mls_treekem_priv_new(s, leaf, leaf_priv, &p));
        /* R-12.4.3.1-18 */
        MLS_TRY(mls_treekem_priv_check_leaf(p, t));
        if (path_secret) {
                if (signer >= mls_tree_width(t) || signer == leaf ||
                    !mls_tree_leaf(t, signer))
                        return MLS_E_INVALID_ARGUMENT;
                /* R-12.4.3.1-19: the lowest common ancestor, then up. */
                x = mls_tm_common_ancestor(2 * leaf, 2 * signer);
                /* R-12.4.3.1-20: the first from path_secret as given, the
                 * next ones DeriveSecret(., "path") (hash_len bytes). */
                MLS_TRY(priv_derive_check_put(p, t, x, path_secret->data, path_secret->len));
                if (next_nonblank_ancestor(t, &x)) {
                        MLS_TRY(mls_derive_secret_into(s, path_secret->data, path_secret->len,
                                                       "path", ps));
                        for (;;) {
                                MLS_TRY(priv_derive_check_put(p, t, x, ps, s->hash_len));
                                if (!next_nonblank_ancestor(t, &x))
                                        break;
                                MLS_TRY(path_next(s, ps));
                        }
                }
        }
        *ret = MLS_TAKE(p);
        return 0;
}

/*
 * struct { uint32 node; opaque priv<V>; opaque pub<V>; } NodeKey;
 * struct { uint16 cipher_suite; uint32 leaf; opaque leaf_priv<V>;
 *          NodeKey nodes<V>; } TreeKEMPrivate;
 */
int
mls_treekem_priv_encode(const struct mls_treekem_priv *p, struct mls_writer *w)
{
        size_t m;

        MLS_TRY(mls_writer_u16(w, p->suite->id));
        MLS_TRY(mls_writer_u32(w, p->leaf));
        MLS_TRY(mls_writer_opaque(w, p->slab->data, p->nsk));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < p->n; i++) {
                MLS_TRY(mls_writer_u32(w, p->node[i]));
                MLS_TRY(mls_writer_opaque(w, p->slab->data + (1 + i) * p->nsk, p->nsk));
                MLS_TRY(mls_writer_opaque(w, p->pub[i].data, p->pub[i].len));
        }
        return mls_writer_vec_end(w, m);
}

int
mls_treekem_priv_decode(struct mls_reader *r, struct mls_treekem_priv **ret)
{
        _mls_treekem_priv_ struct mls_treekem_priv *p = NULL;
        const struct mls_suite *s;
        struct mls_reader v;
        const uint8_t *k;
        size_t klen;
        uint16_t id;
        uint32_t leaf;

        MLS_TRY(mls_reader_u16(r, &id));
        if (!(s = mls_suite_get(id)))
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u32(r, &leaf));
        MLS_TRY(priv_alloc(s, leaf, &p));
        MLS_TRY(mls_reader_opaque_view(r, &k, &klen));
        if (klen != p->nsk)
                return MLS_E_BAD_STATE;
        memcpy(p->slab->data, k, klen);
        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                struct mls_bytes pk = { 0 };
                uint32_t x;

                if (p->n == MLS_TM_MAX_DEPTH)
                        return MLS_E_BAD_STATE;
                MLS_TRY(mls_reader_u32(&v, &x));
                MLS_TRY(mls_reader_opaque_view(&v, &k, &klen));
                if (klen != p->nsk || !(x & 1u) || !mls_tm_in_subtree(2 * leaf, x))
                        return MLS_E_BAD_STATE;
                MLS_TRY(mls_reader_opaque(&v, &pk));
                p->node[p->n] = x;
                p->pub[p->n] = pk;
                memcpy(p->slab->data + (1 + p->n) * p->nsk, k, klen);
                p->n++;
        }
        *ret = MLS_TAKE(p);
        return 0;
}

/* ---- committer ---- */

void
mls_treekem_commit_free(struct mls_treekem_commit *c)
{
        if (!c)
                return;
        mls_secret_free(c->ps);
        mls_secret_free(c->commit_secret);
        mls_treekem_priv_free(c->priv);
        mls_leaf_node_clear(&c->leaf_node);
        for (size_t i = 0; i < c->n; i++)
                mls_bytes_clear(&c->keys[i]);
        free(c);
}

void
mls_treekem_commit_freep(struct mls_treekem_commit **c)
{
        mls_treekem_commit_free(*c);
        *c = NULL;
}

static void
bytes_array_clear(struct mls_bytes *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                mls_bytes_clear(&b[i]);
}

struct bytes_array {
        struct mls_bytes v[MLS_TM_MAX_DEPTH];
        size_t n;
};

static void
bytes_array_cleanup(struct bytes_array *a)
{
        bytes_array_clear(a->v, a->n);
}

/* Copies a LeafNode through its encoding. */
static int
leaf_copy(const struct mls_leaf_node *src, struct mls_leaf_node *ret)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes b = { 0 };

        MLS_TRY(mls_leaf_node_to_bytes(src, &b));
        return mls_leaf_node_from_bytes(b.data, b.len, ret);
}

int
mls_treekem_commit_begin(struct mls_tree *t, uint32_t leaf, const struct mls_leaf_node *tmpl,
                         const struct mls_bytes *group_id, const struct mls_signer *signer,
                         const struct mls_rng *rng, struct mls_treekem_commit **ret)
{
        _mls_treekem_commit_ struct mls_treekem_commit *c = NULL;
        _mls_hash_buf_ uint8_t leaf_secret[MLS_MAX_HASH_LEN], cur[MLS_MAX_HASH_LEN];
        _mls_kem_priv_buf_ uint8_t sk[MLS_MAX_KEM_PRIV_LEN];
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes leaf_pk = { 0 }, leaf_ph = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes sig = { 0 };
        _mls_cleanup_(bytes_array_cleanup) struct bytes_array phs = { .n = 0 };
        _mls_writer_ struct mls_writer w = { 0 };
        const struct mls_suite *s;
        size_t nh;

        if (!t || !tmpl || !group_id || !signer || !signer->sign || !rng)
                return MLS_E_INVALID_ARGUMENT;
        s = mls_tree_suite(t);
        nh = s->hash_len;
        c = calloc(1, sizeof(*c));
        if (!c)
                return MLS_E_NOMEM;
        c->suite = s;
        c->leaf = leaf;
        MLS_TRY(mls_tree_filtered_direct_path(t, leaf, c->nodes, c->copath, &c->n));

        /* R-7.4-2: a fresh leaf key pair, from leaf_secret. */
        MLS_TRY(mls_rng_fill(rng, leaf_secret, nh));
        MLS_TRY(priv_alloc(s, leaf, &c->priv));
        MLS_TRY(node_keypair(s, leaf_secret, nh, c->priv->slab->data, &leaf_pk));

        /* R-7.4-3, R-7.4-4: path_secret[0] = DeriveSecret(leaf_secret, "path"),
         * then one per filtered-direct-path node. */
        MLS_TRY(mls_secret_new(c->n ? c->n * nh : 1, &c->ps));
        MLS_TRY(mls_derive_secret_into(s, leaf_secret, nh, "path", cur));
        for (size_t i = 0; i < c->n; i++) {
                memcpy(c->ps->data + i * nh, cur, nh);
                MLS_TRY(node_keypair(s, cur, nh, sk, &c->keys[i]));
                MLS_TRY(priv_put(c->priv, c->nodes[i], sk, &c->keys[i]));
                MLS_TRY(path_next(s, cur));
        }
        /* R-12.4.1-4: commit_secret = DeriveSecret(last path_secret, "path"). */
        MLS_TRY(mls_secret_from(cur, nh, &c->commit_secret));

        /* R-7.5-2: parent hashes, then the new leaf: source commit, new
         * encryption key, parent_hash, re-signed (R-7.2-11). */
        MLS_TRY(mls_tree_path_parent_hashes(t, c->copath, c->keys, c->n, phs.v, &leaf_ph));
        phs.n = c->n;
        MLS_TRY(leaf_copy(tmpl, &c->leaf_node));
        mls_bytes_clear(&c->leaf_node.encryption_key);
        c->leaf_node.encryption_key = leaf_pk;
        leaf_pk = (struct mls_bytes){ 0 };
        c->leaf_node.leaf_node_source = MLS_LEAF_SOURCE_COMMIT;
        c->leaf_node.lifetime = (struct mls_lifetime){ 0 };
        mls_bytes_clear(&c->leaf_node.parent_hash);
        c->leaf_node.parent_hash = leaf_ph;
        leaf_ph = (struct mls_bytes){ 0 };
        mls_writer_init(&w);
        MLS_TRY(mls_leaf_node_tbs_encode(&w, &c->leaf_node, group_id, leaf));
        MLS_TRY(signer->sign(signer->ctx, MLS_SIGN_LABEL_LEAF_NODE, w.buf, w.len, &sig));
        if (sig.len == 0)
                return MLS_E_CRYPTO;
        mls_bytes_clear(&c->leaf_node.signature);
        c->leaf_node.signature = sig;
        sig = (struct mls_bytes){ 0 };

        MLS_TRY(mls_tree_merge_path(t, leaf, &c->leaf_node, c->nodes, c->keys, phs.v, c->n));
        *ret = MLS_TAKE(c);
        return 0;
}

int
mls_treekem_commit_encrypt(const struct mls_treekem_commit *c, const struct mls_tree *t,
                           const uint8_t *gc, size_t gc_len, const uint32_t *new_leaves,
                           size_t n_new, const struct mls_rng *rng,
                           struct mls_update_path *ret_path)
{
        _mls_cleanup_(mls_update_path_clear) struct mls_update_path up = { 0 };
        const struct mls_suite *s;
        size_t nh;

        if (!c || !t || (!gc && gc_len) || (!new_leaves && n_new) || !rng || !ret_path)
                return MLS_E_INVALID_ARGUMENT;
        s = c->suite;
        nh = s->hash_len;
        MLS_TRY(leaf_copy(&c->leaf_node, &up.leaf_node));
        if (c->n) {
                up.nodes = calloc(c->n, sizeof(*up.nodes));
                if (!up.nodes)
                        return MLS_E_NOMEM;
        }
        for (size_t i = 0; i < c->n; i++) {
                _mls_cleanup_(mls_tree_list_clear) struct mls_u32_list res = { 0 };
                struct mls_update_path_node *un = &up.nodes[i];

                up.n_nodes = i + 1;
                MLS_TRY(mls_bytes_dup(&un->encryption_key, &c->keys[i]));
                /* R-7.5-1: one ciphertext per node of the copath child's
                 * resolution; R-7.5-4, R-7.6-2: without the leaves this Commit
                 * adds. */
                MLS_TRY(mls_tree_resolution(t, c->copath[i], new_leaves, n_new, &res));
                if (res.n) {
                        un->encrypted_path_secret = calloc(res.n, sizeof(*un->encrypted_path_secret));
                        if (!un->encrypted_path_secret)
                                return MLS_E_NOMEM;
                }
                for (size_t j = 0; j < res.n; j++) {
                        const struct mls_bytes *pk = mls_tree_node_encryption_key(t, res.v[j]);
                        struct mls_hpke_ciphertext *ct = &un->encrypted_path_secret[j];

                        if (!pk)
                                return MLS_E_INTERNAL;
                        /* R-7.6-4 */
                        MLS_TRY(mls_encrypt_with_label(s, rng, pk->data, pk->len, "UpdatePathNode",
                                                       gc, gc_len, c->ps->data + i * nh, nh,
                                                       &ct->kem_output, &ct->ciphertext));
                        un->n_encrypted_path_secret = j + 1;
                }
        }
        *ret_path = up;
        up = (struct mls_update_path){ 0 };
        return 0;
}

int
mls_treekem_commit_secret(const struct mls_treekem_commit *c, struct mls_secret **ret)
{
        if (!c || !c->commit_secret)
                return MLS_E_INVALID_ARGUMENT;
        return mls_secret_dup(c->commit_secret, ret);
}

int
mls_treekem_commit_path_secret_for(const struct mls_treekem_commit *c, uint32_t leaf,
                                   struct mls_secret **ret)
{
        uint32_t x;
        size_t nh;

        if (!c || leaf == c->leaf)
                return MLS_E_INVALID_ARGUMENT;
        nh = c->suite->hash_len;
        x = mls_tm_common_ancestor(2 * c->leaf, 2 * leaf);
        for (size_t i = 0; i < c->n; i++)
                if (c->nodes[i] == x)
                        return mls_secret_from(c->ps->data + i * nh, nh, ret);
        return MLS_E_NOT_FOUND;
}

int
mls_treekem_commit_take_priv(struct mls_treekem_commit *c, struct mls_treekem_priv **ret)
{
        if (!c || !c->priv)
                return MLS_E_INVALID_ARGUMENT;
        *ret = MLS_TAKE(c->priv);
        return 0;
}

/* ---- receiver ---- */

int
mls_treekem_path_merge(struct mls_tree *t, uint32_t sender, const struct mls_update_path *up,
                       const struct mls_bytes *group_id, const uint32_t *new_leaves,
                       size_t n_new, const struct mls_leaf_policy *policy)
{
        _mls_cleanup_(bytes_array_cleanup) struct bytes_array phs = { .n = 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes leaf_ph = { 0 };
        struct mls_bytes keys[MLS_TM_MAX_DEPTH];
        uint32_t nodes[MLS_TM_MAX_DEPTH], copath[MLS_TM_MAX_DEPTH];
        const struct mls_leaf_node *ln;
        const struct mls_suite *s;
        size_t n;

        if (!t || !up || !group_id || (!new_leaves && n_new))
                return MLS_E_INVALID_ARGUMENT;
        s = mls_tree_suite(t);
        ln = &up->leaf_node;
        MLS_TRY(mls_tree_filtered_direct_path(t, sender, nodes, copath, &n));
        /* R-7.6-1 */
        if (up->n_nodes != n)
                return MLS_E_INVALID_MESSAGE;
        for (size_t i = 0; i < n; i++) {
                size_t nres;

                /* R-7.6-3: one ciphertext per resolution node (new members
                 * excluded, R-7.6-2). */
                MLS_TRY(mls_tree_resolution_size(t, copath[i], new_leaves, n_new, &nres));
                if (up->nodes[i].n_encrypted_path_secret != nres)
                        return MLS_E_INVALID_MESSAGE;
                MLS_TRY(mls_crypto_kem_check_pub(s, up->nodes[i].encryption_key.data,
                                                 up->nodes[i].encryption_key.len));
                keys[i] = up->nodes[i].encryption_key;
        }
        /* R-7.3-15, R-12.4.2-10 */
        if (ln->leaf_node_source != MLS_LEAF_SOURCE_COMMIT)
                return MLS_E_INVALID_LEAF;
        MLS_TRY(mls_crypto_kem_check_pub(s, ln->encryption_key.data, ln->encryption_key.len));
        /* R-7.5-6, R-7.9.2-5: recompute the parent hashes top-down and
         * compare the leaf's. */
        MLS_TRY(mls_tree_path_parent_hashes(t, copath, keys, n, phs.v, &leaf_ph));
        phs.n = n;
        if (!mls_bytes_eq(&leaf_ph, &ln->parent_hash))
                return MLS_E_BAD_PARENT_HASH;
        /* R-12.4.2-9, R-7.3-5 */
        if (policy)
                MLS_TRY(mls_tree_leaf_validate(t, ln, MLS_LEAF_COMMIT, sender, group_id, policy));
        else
                MLS_TRY(mls_tree_leaf_verify_signature(t, ln, group_id, sender));
        /* R-7.5-5, R-12.4.2-13 (R-12.4.2-11, R-12.4.2-12 in the merge) */
        return mls_tree_merge_path(t, sender, ln, nodes, keys, phs.v, n);
}

/* Position k in the filtered direct path of the node whose secret we can
 * decrypt, and the secret. */
static int
path_decrypt_at(const struct mls_tree *t, const struct mls_treekem_priv *priv, uint32_t sender,
                const struct mls_update_path *up, const uint8_t *gc, size_t gc_len,
                const uint32_t *new_leaves, size_t n_new, uint32_t nodes[MLS_TM_MAX_DEPTH],
                size_t *ret_n, size_t *ret_k, struct mls_secret **ret_ps)
{
        _mls_cleanup_(mls_tree_list_clear) struct mls_u32_list res = { 0 };
        _mls_secret_ struct mls_secret *ps = NULL;
        uint32_t copath[MLS_TM_MAX_DEPTH];
        const struct mls_hpke_ciphertext *ct;
        const struct mls_suite *s;
        size_t n, k, j, slot = 0;
        struct mls_secret sk;
        uint32_t me;

        if (!t || !priv || !up || (!gc && gc_len) || (!new_leaves && n_new))
                return MLS_E_INVALID_ARGUMENT;
        s = mls_tree_suite(t);
        me = priv->leaf;
        if (me == sender || me >= mls_tree_width(t) || sender >= mls_tree_width(t))
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < n_new; i++)
                if (new_leaves[i] == me)
                        return MLS_E_INVALID_ARGUMENT;
        if (!mls_tree_leaf(t, me))
                return MLS_E_REMOVED;
        MLS_TRY(mls_tree_filtered_direct_path(t, sender, nodes, copath, &n));
        if (up->n_nodes != n)
                return MLS_E_INVALID_MESSAGE;
        /* R-7.5-7: "Identify a node in the filtered direct path for which the
         * recipient is in the subtree of the non-updated child." */
        for (k = 0; k < n; k++)
                if (mls_tm_in_subtree(2 * me, copath[k]))
                        break;
        if (k == n)
                return MLS_E_NOT_FOUND;
        /* "Identify a node in the resolution of the copath node for which
         * the recipient has a private key." */
        MLS_TRY(mls_tree_resolution(t, copath[k], new_leaves, n_new, &res));
        if (up->nodes[k].n_encrypted_path_secret != res.n)
                return MLS_E_INVALID_MESSAGE;
        for (j = 0; j < res.n; j++) {
                size_t i;

                if (res.v[j] == 2 * me) {
                        slot = 0;
                        break;
                }
                if (priv_find(priv, res.v[j], &i) == 0 &&
                    mls_bytes_eq(&priv->pub[i], mls_tree_node_encryption_key(t, res.v[j]))) {
                        slot = 1 + i;
                        break;
                }
        }
        if (j == res.n)
                return MLS_E_NOT_FOUND;
        ct = &up->nodes[k].encrypted_path_secret[j];
        sk = slot_view(priv, slot);
        /* "Decrypt the path secret for the parent of the copath node using
         * the private key from the resolution node." R-12.4.2-13: gc is the
         * provisional GroupContext. */
        MLS_TRY(mls_decrypt_with_label(s, &sk, "UpdatePathNode", gc, gc_len, ct->kem_output.data,
                                       ct->kem_output.len, ct->ciphertext.data,
                                       ct->ciphertext.len, &ps));
        if (ps->len != s->hash_len)
                return MLS_E_INVALID_MESSAGE;
        *ret_n = n;
        *ret_k = k;
        *ret_ps = MLS_TAKE(ps);
        return 0;
}

int
mls_treekem_path_decrypt_secret(const struct mls_tree *t, const struct mls_treekem_priv *priv,
                                uint32_t sender, const struct mls_update_path *up,
                                const uint8_t *gc, size_t gc_len, const uint32_t *new_leaves,
                                size_t n_new, uint32_t *ret_node,
                                struct mls_secret **ret_path_secret)
{
        uint32_t nodes[MLS_TM_MAX_DEPTH];
        size_t n, k;

        MLS_TRY(path_decrypt_at(t, priv, sender, up, gc, gc_len, new_leaves, n_new, nodes, &n, &k,
                                ret_path_secret));
        *ret_node = nodes[k];
        return 0;
}

int
mls_treekem_path_decrypt(const struct mls_tree *t, const struct mls_treekem_priv *priv,
                         uint32_t sender, const struct mls_update_path *up, const uint8_t *gc,
                         size_t gc_len, const uint32_t *new_leaves, size_t n_new,
                         struct mls_treekem_priv **ret_priv,
                         struct mls_secret **ret_commit_secret)
{
        _mls_treekem_priv_ struct mls_treekem_priv *np = NULL;
        _mls_secret_ struct mls_secret *ps = NULL;
        uint32_t nodes[MLS_TM_MAX_DEPTH];
        const struct mls_suite *s;
        size_t n, k;

        MLS_TRY(path_decrypt_at(t, priv, sender, up, gc, gc_len, new_leaves, n_new, nodes, &n, &k,
                                &ps));
        s = mls_tree_suite(t);
        /* New state: keep what still matches the tree (R-7.5-12), add the
         * path keys (R-7.5-8, R-7.5-10). */
        MLS_TRY(mls_treekem_priv_dup(priv, &np));
        mls_treekem_priv_prune(np, t);
        for (size_t i = k; i < n; i++) {
                /* R-7.5-9: each derived public key equals the one merged. */
                MLS_TRY(priv_derive_check_put(np, t, nodes[i], ps->data, ps->len));
                MLS_TRY(path_next(s, ps->data));
        }
        /* R-12.4.2-14: the commit secret is the path secret after the root's. */
        *ret_priv = MLS_TAKE(np);
        *ret_commit_secret = MLS_TAKE(ps);
        return 0;
}
