/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signing service (mls/signer.h): label allowlist, the in-process key
 * signer, and the checked call used by the group layer.
 */
#include <string.h>

#include "mls/signer.h"
#include "mls/labeled.h"

/* RFC 9420 section 17.6 (R-17.6-1): the signature labels are exactly these. */
static const char *const allowed_labels[] = {
        MLS_SIGN_LABEL_FRAMED_CONTENT,
        MLS_SIGN_LABEL_LEAF_NODE,
        MLS_SIGN_LABEL_KEY_PACKAGE,
        MLS_SIGN_LABEL_GROUP_INFO,
};

bool
mls_signer_label_allowed(const char *label)
{
        if (!label)
                return false;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(allowed_labels); i++)
                if (strcmp(label, allowed_labels[i]) == 0)
                        return true;
        return false;
}

/* SignWithLabel(priv, label, content) for an allowed label. Shared by
 * mls_key_signer_sign and the owned signer. */
static int
key_sign(const struct mls_suite *s, const struct mls_secret *priv, const char *label,
         const uint8_t *content, size_t len, struct mls_bytes *ret_sig)
{
        if (!s || !priv || !ret_sig || (!content && len))
                return MLS_E_INVALID_ARGUMENT;
        if (!mls_signer_label_allowed(label))
                return MLS_E_INVALID_ARGUMENT;
        return mls_sign_with_label(s, priv, label, content, len, ret_sig);
}

int
mls_key_signer_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
                    struct mls_bytes *ret_sig)
{
        const struct mls_key_signer *ks = ctx;

        if (!ks)
                return MLS_E_INVALID_ARGUMENT;
        return key_sign(ks->suite, ks->priv, label, content, len, ret_sig);
}

static int
owned_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
           struct mls_bytes *ret_sig)
{
        const struct mls_signer_key *k = ctx;

        if (!k)
                return MLS_E_INVALID_ARGUMENT;
        return key_sign(k->ks.suite, k->priv, label, content, len, ret_sig);
}

void
mls_signer_key_free(struct mls_signer_key *k)
{
        if (!k)
                return;
        mls_secret_free(k->priv);
        mls_bytes_clear(&k->pub);
        free(k);
}

void
mls_signer_key_freep(struct mls_signer_key **k)
{
        if (k) {
                mls_signer_key_free(*k);
                *k = NULL;
        }
}

static int
signer_key_make(const struct mls_suite *s, struct mls_secret *priv, struct mls_bytes *pub,
                struct mls_signer_key **ret)
{
        struct mls_signer_key *k = calloc(1, sizeof(*k));

        if (!k)
                return MLS_E_NOMEM;
        k->priv = priv;
        k->pub = *pub;
        *pub = (struct mls_bytes){ 0 };
        k->ks = (struct mls_key_signer){ .suite = s, .priv = k->priv };
        k->signer = (struct mls_signer){
                .sign = owned_sign,
                .ctx = k,
                .pub = k->pub.data,
                .pub_len = k->pub.len,
        };
        *ret = k;
        return 0;
}

int
mls_signer_key_new(const struct mls_suite *s, const struct mls_secret *priv,
                   struct mls_signer_key **ret)
{
        _mls_secret_ struct mls_secret *copy = NULL;
        struct mls_bytes pub = { 0 };
        int r;

        if (!s || !priv || !ret)
                return MLS_E_INVALID_ARGUMENT;
        if (priv->len != s->sig_priv_len)
                return MLS_E_BAD_KEY;
        MLS_TRY(mls_crypto_sig_pub_from_priv(s, priv, &pub));
        r = mls_secret_dup(priv, &copy);
        if (r < 0) {
                mls_bytes_clear(&pub);
                return r;
        }
        r = signer_key_make(s, copy, &pub, ret);
        if (r < 0) {
                mls_bytes_clear(&pub);
                return r;
        }
        copy = NULL;
        return 0;
}

int
mls_signer_key_generate(const struct mls_suite *s, const struct mls_rng *rng,
                        struct mls_signer_key **ret)
{
        _mls_secret_ struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 };
        int r;

        if (!s || !rng || !ret)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_crypto_sig_keygen(s, rng, &priv, &pub));
        r = signer_key_make(s, priv, &pub, ret);
        if (r < 0) {
                mls_bytes_clear(&pub);
                return r;
        }
        priv = NULL;
        return 0;
}

int
mls_signer_sign(const struct mls_signer *signer, const char *label, const uint8_t *content,
                size_t len, struct mls_bytes *ret_sig)
{
        struct mls_bytes sig = { 0 };

        if (!signer || !signer->sign || !ret_sig || (!content && len))
                return MLS_E_INVALID_ARGUMENT;
        /* R-17.6-1: only the RFC's labels are ever signed. */
        if (!mls_signer_label_allowed(label))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(signer->sign(signer->ctx, label, content, len, &sig));
        if (sig.len == 0) {
                mls_bytes_clear(&sig);
                return MLS_E_CRYPTO;
        }
        *ret_sig = sig;
        return 0;
}
