/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/tree_fixture.h"

#include <stdio.h>
#include <string.h>

#include "mls/labeled.h"

int
tf_set_u16_list(struct mls_u16_list *l, const uint16_t *v, size_t n)
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

static int
default_leaf(uint32_t id, size_t ident_len, struct mls_leaf_node *l)
{
        static const uint16_t versions[] = { MLS_VERSION_MLS10 };
        static const uint16_t suites[] = { 1, 2, 3, 4, 5, 6, 7 };
        static const uint16_t creds[] = { MLS_CREDENTIAL_BASIC };
        char ident[64];
        size_t n;

        n = (size_t)snprintf(ident, sizeof(ident), "member-%08u-padding-padding-padding", id);
        if (ident_len < n)
                n = ident_len;
        l->credential.credential_type = MLS_CREDENTIAL_BASIC;
        MLS_TRY(mls_bytes_copy(&l->credential.identity, (const uint8_t *)ident, n));
        MLS_TRY(tf_set_u16_list(&l->capabilities.versions, versions, 1));
        MLS_TRY(tf_set_u16_list(&l->capabilities.cipher_suites, suites, 7));
        MLS_TRY(tf_set_u16_list(&l->capabilities.credentials, creds, 1));
        l->leaf_node_source = MLS_LEAF_SOURCE_KEY_PACKAGE;
        l->lifetime.not_before = 0;
        l->lifetime.not_after = UINT64_MAX;
        return 0;
}

int
tf_leaf_sign(const struct mls_suite *s, struct mls_leaf_node *l, const struct mls_secret *priv,
             const struct mls_bytes *group_id, uint32_t li)
{
        struct mls_writer w;
        struct mls_bytes sig = { 0 };
        int r;

        mls_writer_init(&w);
        r = mls_leaf_node_tbs_encode(&w, l, group_id, li);
        if (r == 0)
                r = mls_sign_with_label(s, priv, "LeafNodeTBS", w.buf, w.len, &sig);
        mls_writer_clear(&w);
        if (r < 0)
                return r;
        mls_bytes_clear(&l->signature);
        l->signature = sig;
        return 0;
}

int
tf_key_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
            struct mls_bytes *ret_sig)
{
        const struct mls_key_signer *ks = ctx;

        return mls_sign_with_label(ks->suite, ks->priv, label, content, len, ret_sig);
}

int
tf_member_new(const struct mls_suite *s, uint32_t id, struct tf_member *ret)
{
        struct tf_member m = { .id = id };
        int r;

        r = default_leaf(id, 40, &m.leaf);
        if (r == 0)
                r = mls_crypto_sig_keygen(s, mls_rng_system(), &m.sig_priv,
                                          &m.leaf.signature_key);
        if (r == 0)
                r = mls_crypto_kem_generate(s, mls_rng_system(), &m.enc_priv,
                                            &m.leaf.encryption_key);
        if (r == 0)
                r = tf_leaf_sign(s, &m.leaf, m.sig_priv, NULL, 0);
        if (r < 0) {
                tf_member_clear(&m);
                return r;
        }
        *ret = m;
        return 0;
}

void
tf_member_clear(struct tf_member *m)
{
        mls_secret_free(m->sig_priv);
        mls_secret_free(m->enc_priv);
        mls_leaf_node_clear(&m->leaf);
        memset(m, 0, sizeof(*m));
}

/* 32 bytes unique to (tag, id). */
static int
fake_key(const char *tag, uint32_t id, struct mls_bytes *ret)
{
        uint8_t in[16] = { 0 }, out[32];

        memcpy(in, tag, strlen(tag) < 12 ? strlen(tag) : 12);
        in[12] = (uint8_t)(id >> 24);
        in[13] = (uint8_t)(id >> 16);
        in[14] = (uint8_t)(id >> 8);
        in[15] = (uint8_t)id;
        MLS_TRY(mls_crypto_hash(mls_suite_get(1), in, sizeof(in), out));
        return mls_bytes_copy(ret, out, sizeof(out));
}

int
tf_fake_leaf(uint32_t id, size_t ident_len, struct mls_leaf_node *ret)
{
        struct mls_leaf_node l = { 0 };
        uint8_t sig[64];
        int r;

        memset(sig, 0x5a, sizeof(sig));
        r = default_leaf(id, ident_len, &l);
        if (r == 0)
                r = fake_key("enc", id, &l.encryption_key);
        if (r == 0)
                r = fake_key("sig", id, &l.signature_key);
        if (r == 0)
                r = mls_bytes_copy(&l.signature, sig, sizeof(sig));
        if (r < 0) {
                mls_leaf_node_clear(&l);
                return r;
        }
        *ret = l;
        return 0;
}

int
tf_group_new(const struct mls_suite *s, size_t n, struct tf_group *g)
{
        int r;

        memset(g, 0, sizeof(*g));
        if (n == 0 || n > TF_MAX)
                return MLS_E_INVALID_ARGUMENT;
        g->s = s;
        MLS_TRY(mls_bytes_copy(&g->group_id, (const uint8_t *)"tree-fixture-group", 18));
        for (size_t i = 0; i < n; i++) {
                uint32_t li = 0;

                MLS_TRY(tf_member_new(s, (uint32_t)i, &g->m[i]));
                g->n_members = i + 1;
                if (i == 0)
                        r = mls_tree_new(s, &g->m[0].leaf, &g->t);
                else
                        r = mls_tree_add(g->t, &g->m[i].leaf, &li);
                if (r < 0)
                        return r;
                g->leaf_of[i] = li;
                MLS_TRY(mls_treekem_priv_new(s, li, g->m[i].enc_priv, &g->priv[li]));
        }
        return 0;
}

void
tf_group_clear(struct tf_group *g)
{
        for (size_t i = 0; i < TF_MAX; i++) {
                tf_member_clear(&g->m[i]);
                mls_treekem_priv_free(g->priv[i]);
        }
        mls_tree_free(g->t);
        mls_bytes_clear(&g->group_id);
        memset(g, 0, sizeof(*g));
}

int
tf_group_context(struct tf_group *g, struct mls_bytes *ret)
{
        uint8_t h[MLS_MAX_HASH_LEN];
        struct mls_group_context gc = {
                .version = MLS_VERSION_MLS10,
                .cipher_suite = g->s->id,
                .group_id = g->group_id,
                .epoch = g->epoch + 1,
                .tree_hash = { .data = h, .len = g->s->hash_len },
        };

        MLS_TRY(mls_tree_hash(g->t, h));
        return mls_group_context_to_bytes(&gc, ret);
}

static struct tf_member *
member_at(struct tf_group *g, uint32_t leaf)
{
        for (size_t i = 0; i < g->n_members; i++)
                if (g->leaf_of[i] == leaf)
                        return &g->m[i];
        return NULL;
}

int
tf_group_commit(struct tf_group *g, uint32_t committer)
{
        struct tf_member *cm = member_at(g, committer);
        struct mls_key_signer ks;
        struct mls_signer signer = { .sign = tf_key_sign, .ctx = &ks };
        struct mls_treekem_commit *c = NULL;
        struct mls_tree *rt = NULL;
        struct mls_update_path up = { 0 };
        struct mls_bytes gc = { 0 }, a = { 0 }, b = { 0 };
        struct mls_secret *cs = NULL;
        struct mls_treekem_priv *np[TF_MAX] = { NULL };
        int r;

        if (!cm)
                return MLS_E_INVALID_ARGUMENT;
        ks = (struct mls_key_signer){ .suite = g->s, .priv = cm->sig_priv };
        r = mls_tree_dup(g->t, &rt); /* the receivers' tree */
        if (r == 0)
                r = mls_tree_begin(g->t);
        if (r == 0)
                r = mls_treekem_commit_begin(g->t, committer, mls_tree_leaf(g->t, committer),
                                             &g->group_id, &signer, mls_rng_system(), &c);
        if (r == 0)
                r = tf_group_context(g, &gc);
        if (r == 0)
                r = mls_treekem_commit_encrypt(c, g->t, gc.data, gc.len, NULL, 0,
                                               mls_rng_system(), &up);
        if (r == 0)
                r = mls_treekem_commit_secret(c, &cs);
        if (r == 0)
                r = mls_treekem_commit_take_priv(c, &np[committer]);
        /* receivers */
        if (r == 0)
                r = mls_treekem_path_merge(rt, committer, &up, &g->group_id, NULL, 0, NULL);
        if (r == 0)
                r = mls_tree_to_bytes(g->t, &a);
        if (r == 0)
                r = mls_tree_to_bytes(rt, &b);
        if (r == 0 && !mls_bytes_eq(&a, &b))
                r = MLS_E_INTERNAL;
        for (uint32_t j = 0; r == 0 && j < mls_tree_width(rt); j++) {
                struct mls_secret *rcs = NULL;

                if (j == committer || !g->priv[j] || !mls_tree_leaf(rt, j))
                        continue;
                r = mls_treekem_path_decrypt(rt, g->priv[j], committer, &up, gc.data, gc.len,
                                             NULL, 0, &np[j], &rcs);
                if (r == 0 && !mls_secret_eq(rcs, cs))
                        r = MLS_E_INTERNAL;
                mls_secret_free(rcs);
        }
        if (r == 0) {
                mls_tree_commit(g->t);
                for (uint32_t j = 0; j < TF_MAX; j++) {
                        if (!np[j])
                                continue;
                        mls_treekem_priv_free(g->priv[j]);
                        g->priv[j] = np[j];
                        np[j] = NULL;
                }
                /* the committer's new leaf key */
                g->epoch++;
        } else {
                mls_tree_rollback(g->t);
        }
        for (uint32_t j = 0; j < TF_MAX; j++)
                mls_treekem_priv_free(np[j]);
        mls_secret_free(cs);
        mls_bytes_clear(&gc);
        mls_bytes_clear(&a);
        mls_bytes_clear(&b);
        mls_update_path_clear(&up);
        mls_treekem_commit_free(c);
        mls_tree_free(rt);
        return r;
}
