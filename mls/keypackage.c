/* SPDX-License-Identifier: Apache-2.0 */
/*
 * KeyPackages (RFC 9420 section 10): creation, the private half and its
 * saved state, and the validation of a received KeyPackage (section 10.1).
 * Contracts: mls/group.h, mls/group-internal.h.
 */
#include <string.h>

#include "mls/group-internal.h"

void
mls_key_package_priv_free(struct mls_key_package_priv *kp)
{
        if (!kp)
                return;
        mls_bytes_clear(&kp->kp);
        mls_key_package_clear(&kp->decoded);
        mls_secret_free(kp->init_priv);
        mls_secret_free(kp->enc_priv);
        free(kp);
}

void
mls_key_package_priv_freep(struct mls_key_package_priv **kp)
{
        if (kp) {
                mls_key_package_priv_free(*kp);
                *kp = NULL;
        }
}

const uint8_t *
mls_key_package_priv_ref(const struct mls_key_package_priv *kp, size_t *ret_len)
{
        *ret_len = kp ? kp->suite->hash_len : 0;
        return kp ? kp->ref : NULL;
}

const struct mls_suite *
mls_key_package_priv_suite(const struct mls_key_package_priv *kp)
{
        return kp ? kp->suite : NULL;
}

bool
mls_key_package_priv_last_resort(const struct mls_key_package_priv *kp)
{
        return kp && kp->last_resort;
}

const uint8_t *
mls_key_package_priv_key_package(const struct mls_key_package_priv *kp, size_t *ret_len)
{
        *ret_len = kp ? kp->kp.len : 0;
        return kp ? kp->kp.data : NULL;
}

int
grp_key_package_decode(const uint8_t *p, size_t len, struct mls_key_package *ret)
{
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };

        if (!p && len)
                return MLS_E_INVALID_ARGUMENT;
        /* An MLSMessage (R-10-7: its version equals the KeyPackage's, which
         * the decoder checks), else a bare KeyPackage. */
        if (mls_message_from_bytes(p, len, &m) == 0) {
                if (m.wire_format != MLS_WIRE_KEY_PACKAGE)
                        return MLS_E_WRONG_WIRE_FORMAT;
                *ret = m.key_package;
                memset(&m.key_package, 0, sizeof(m.key_package));
                m.wire_format = 0;
                return 0;
        }
        return mls_key_package_from_bytes(p, len, ret);
}

/* The KeyPackage's own extensions, and those of its leaf, are listed in
 * its capabilities (R-10-9, R-7.2-3). Unknown but listed types are ignored
 * (R-10-10, R-13.4-3). */
static bool
kp_extensions_listed(const struct mls_key_package *kp)
{
        const struct mls_capabilities *c = &kp->leaf_node.capabilities;

        for (size_t i = 0; i < kp->extensions.n; i++) {
                uint16_t t = kp->extensions.v[i].extension_type;

                if (!grp_default_extension(t) && !grp_u16_in(&c->extensions, t))
                        return false;
        }
        return true;
}

int
grp_key_package_check(const struct mls_suite *s, const struct mls_key_package *kp,
                      const struct mls_extension_list *ext, bool verify_sig)
{
        _mls_writer_ struct mls_writer w = { 0 };
        int r;

        /* R-10.1-3: the group's version and cipher suite. */
        if (kp->version != MLS_VERSION_MLS10)
                return MLS_E_WRONG_VERSION;
        if (kp->cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        /* R-10-8 */
        if (kp->leaf_node.leaf_node_source != MLS_LEAF_SOURCE_KEY_PACKAGE)
                return MLS_E_INVALID_LEAF;
        /* R-10-2, R-10-4: keys of the suite (R-5.1.2-1 for the signature
         * key, whose length the suite fixes; the verification below
         * rejects a malformed one). */
        MLS_TRY(mls_crypto_kem_check_pub(s, kp->init_key.data, kp->init_key.len));
        MLS_TRY(mls_crypto_kem_check_pub(s, kp->leaf_node.encryption_key.data,
                                         kp->leaf_node.encryption_key.len));
        if (kp->leaf_node.signature_key.len != s->sig_pub_len)
                return MLS_E_BAD_KEY;
        /* R-10.1-6: the leaf's encryption key is not the init key. */
        if (mls_bytes_eq(&kp->init_key, &kp->leaf_node.encryption_key))
                return MLS_E_DUPLICATE_KEY;
        /* R-10-9 */
        if (!kp_extensions_listed(kp))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        /* R-13.4-6, R-13.4-7: it supports every GroupContext extension. */
        if (ext && !grp_leaf_supports_extensions(&kp->leaf_node, ext))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        if (!verify_sig)
                return 0;
        /* R-10-5, R-10-6, R-10.1-5: SignWithLabel(., "KeyPackageTBS", .)
         * by the leaf's signature key. */
        mls_writer_init(&w);
        MLS_TRY(mls_key_package_tbs_encode(&w, kp));
        r = mls_verify_with_label(s, kp->leaf_node.signature_key.data,
                                  kp->leaf_node.signature_key.len, MLS_SIGN_LABEL_KEY_PACKAGE,
                                  w.buf, w.len, kp->signature.data, kp->signature.len);
        return r == MLS_E_BAD_KEY ? MLS_E_BAD_SIGNATURE : r;
}

static int
kp_priv_finish(const struct mls_suite *s, struct mls_key_package_priv *kp)
{
        MLS_TRY(mls_key_package_to_bytes(&kp->decoded, &kp->kp));
        MLS_TRY(mls_make_key_package_ref(s, kp->kp.data, kp->kp.len, kp->ref));
        kp->suite = s;
        kp->last_resort =
                mls_extension_list_find(&kp->decoded.extensions, MLS_EXT_LAST_RESORT) != NULL;
        return 0;
}

int
mls_key_package_create(const struct mls_suite *s, const struct mls_key_package_params *p,
                       const struct mls_env *env, struct mls_bytes *ret_msg,
                       struct mls_key_package_priv **ret_priv)
{
        _mls_key_package_priv_ struct mls_key_package_priv *kp = NULL;
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_key_package *k;
        struct mls_bytes sig = { 0 };

        if (!s || !p || !env || !env->rng || !env->signer || !env->signer->pub || !ret_msg ||
            !ret_priv)
                return MLS_E_INVALID_ARGUMENT;
        kp = calloc(1, sizeof(*kp));
        if (!kp)
                return MLS_E_NOMEM;
        k = &kp->decoded;
        k->version = MLS_VERSION_MLS10;
        k->cipher_suite = s->id;
        MLS_TRY(grp_leaf_template(&p->leaf, env->signer->pub, env->signer->pub_len,
                                  MLS_LEAF_SOURCE_KEY_PACKAGE, env->now, &k->leaf_node));
        /* R-5.1.2-1, R-10-4 */
        if (k->leaf_node.signature_key.len != s->sig_pub_len)
                return MLS_E_BAD_KEY;
        if (!grp_u16_in(&k->leaf_node.capabilities.cipher_suites, s->id) ||
            !grp_u16_in(&k->leaf_node.capabilities.versions, MLS_VERSION_MLS10))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        if (p->extensions)
                MLS_TRY(grp_extension_list_dup(p->extensions, &k->extensions));
        if (p->last_resort) {
                struct mls_u16_list *ce = &k->leaf_node.capabilities.extensions;

                MLS_TRY(mls_extension_list_add(&k->extensions, MLS_EXT_LAST_RESORT, NULL, 0));
                if (!grp_u16_in(ce, MLS_EXT_LAST_RESORT)) {
                        uint16_t *nv = realloc(ce->v, (ce->n + 1) * sizeof(*nv));

                        if (!nv)
                                return MLS_E_NOMEM;
                        nv[ce->n++] = MLS_EXT_LAST_RESORT;
                        ce->v = nv;
                }
        }
        /* R-10-9 */
        if (!kp_extensions_listed(k))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        /* R-13.5-1, R-13.5-2: GREASE in the capabilities, the leaf's and
         * the KeyPackage's extensions (listed in capabilities). */
        MLS_TRY(grp_leaf_grease(&k->leaf_node, env, &k->extensions));
        /* R-10-2, R-10-3: fresh init and encryption key pairs. */
        MLS_TRY(mls_crypto_kem_generate(s, env->rng, &kp->init_priv, &k->init_key));
        MLS_TRY(mls_crypto_kem_generate(s, env->rng, &kp->enc_priv,
                                        &k->leaf_node.encryption_key));
        MLS_TRY(grp_leaf_sign(&k->leaf_node, NULL, 0, env->signer));
        /* R-10-5: SignWithLabel(., "KeyPackageTBS", KeyPackageTBS) */
        mls_writer_init(&w);
        MLS_TRY(mls_key_package_tbs_encode(&w, k));
        MLS_TRY(mls_signer_sign(env->signer, MLS_SIGN_LABEL_KEY_PACKAGE, w.buf, w.len, &sig));
        k->signature = sig;
        MLS_TRY(kp_priv_finish(s, kp));
        /* R-10-7: the MLSMessage's version is the KeyPackage's. */
        m.version = MLS_VERSION_MLS10;
        m.wire_format = MLS_WIRE_KEY_PACKAGE;
        m.key_package = *k;
        {
                int r = mls_message_to_bytes(&m, ret_msg);

                /* m borrowed k's contents: forget them before m is cleared. */
                memset(&m.key_package, 0, sizeof(m.key_package));
                m.wire_format = 0;
                MLS_TRY(r);
        }
        *ret_priv = MLS_TAKE(kp);
        return 0;
}

/* The private keys match the KeyPackage's public keys. */
static int
kp_check_keys(const struct mls_suite *s, const struct mls_key_package *k,
              const struct mls_secret *init_priv, const struct mls_secret *enc_priv)
{
        _grp_bytes_ struct mls_bytes a = { 0 }, b = { 0 };

        if (init_priv->len != s->kem_priv_len || enc_priv->len != s->kem_priv_len)
                return MLS_E_BAD_KEY;
        MLS_TRY(mls_crypto_kem_pub_from_priv(s, init_priv, &a));
        MLS_TRY(mls_crypto_kem_pub_from_priv(s, enc_priv, &b));
        if (!mls_bytes_eq(&a, &k->init_key) || !mls_bytes_eq(&b, &k->leaf_node.encryption_key))
                return MLS_E_BAD_KEY;
        return 0;
}

int
mls_key_package_priv_from_keys(const uint8_t *p, size_t len, const struct mls_secret *init_priv,
                               const struct mls_secret *encryption_priv,
                               struct mls_key_package_priv **ret_priv)
{
        _mls_key_package_priv_ struct mls_key_package_priv *kp = NULL;
        const struct mls_suite *s;

        if (!p || !init_priv || !encryption_priv || !ret_priv)
                return MLS_E_INVALID_ARGUMENT;
        kp = calloc(1, sizeof(*kp));
        if (!kp)
                return MLS_E_NOMEM;
        MLS_TRY(grp_key_package_decode(p, len, &kp->decoded));
        s = mls_suite_get(kp->decoded.cipher_suite);
        if (!s)
                return MLS_E_UNSUPPORTED;
        MLS_TRY(kp_check_keys(s, &kp->decoded, init_priv, encryption_priv));
        MLS_TRY(mls_secret_dup(init_priv, &kp->init_priv));
        MLS_TRY(mls_secret_dup(encryption_priv, &kp->enc_priv));
        MLS_TRY(kp_priv_finish(s, kp));
        *ret_priv = MLS_TAKE(kp);
        return 0;
}

/*
 * Saved state of a KeyPackage's private half (secure writer):
 *   struct {
 *       uint8 version = 1;
 *       uint16 cipher_suite;
 *       opaque key_package<V>;      // bare KeyPackage
 *       opaque init_priv<V>;
 *       opaque encryption_priv<V>;
 *   } KeyPackagePrivateState;
 * last_resort and the KeyPackageRef are derived from key_package.
 */
int
mls_key_package_priv_save(const struct mls_key_package_priv *kp, struct mls_secret **ret)
{
        _mls_writer_ struct mls_writer w = { 0 };

        if (!kp || !ret)
                return MLS_E_INVALID_ARGUMENT;
        mls_writer_init_secure(&w);
        MLS_TRY(mls_writer_u8(&w, GRP_KP_STATE_VERSION));
        MLS_TRY(mls_writer_u16(&w, kp->suite->id));
        MLS_TRY(mls_writer_opaque(&w, kp->kp.data, kp->kp.len));
        MLS_TRY(mls_writer_opaque(&w, kp->init_priv->data, kp->init_priv->len));
        MLS_TRY(mls_writer_opaque(&w, kp->enc_priv->data, kp->enc_priv->len));
        return mls_writer_finish_secret(&w, ret);
}

static int
kp_load(const uint8_t *p, size_t len, struct mls_key_package_priv **ret)
{
        _mls_key_package_priv_ struct mls_key_package_priv *kp = NULL;
        _mls_secret_ struct mls_secret *ip = NULL, *ep = NULL;
        const struct mls_suite *s;
        const uint8_t *kpb;
        size_t kpl;
        struct mls_reader r;
        uint8_t version;
        uint16_t suite;

        mls_reader_init(&r, p, len);
        MLS_TRY(mls_reader_u8(&r, &version));
        if (version != GRP_KP_STATE_VERSION)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u16(&r, &suite));
        s = mls_suite_get(suite);
        if (!s)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_opaque_view(&r, &kpb, &kpl));
        MLS_TRY(mls_reader_opaque_secret(&r, &ip));
        MLS_TRY(mls_reader_opaque_secret(&r, &ep));
        MLS_TRY(mls_reader_done(&r));
        kp = calloc(1, sizeof(*kp));
        if (!kp)
                return MLS_E_NOMEM;
        MLS_TRY(mls_key_package_from_bytes(kpb, kpl, &kp->decoded));
        if (kp->decoded.cipher_suite != suite)
                return MLS_E_BAD_STATE;
        MLS_TRY(kp_check_keys(s, &kp->decoded, ip, ep));
        kp->init_priv = MLS_TAKE(ip);
        kp->enc_priv = MLS_TAKE(ep);
        MLS_TRY(kp_priv_finish(s, kp));
        /* Deterministic: the re-encoding is the saved bytes. */
        if (kp->kp.len != kpl || memcmp(kp->kp.data, kpb, kpl) != 0)
                return MLS_E_BAD_STATE;
        *ret = MLS_TAKE(kp);
        return 0;
}

int
mls_key_package_priv_load(const uint8_t *p, size_t len, struct mls_key_package_priv **ret)
{
        int r;

        if ((!p && len) || !ret)
                return MLS_E_INVALID_ARGUMENT;
        r = kp_load(p, len, ret);
        if (r < 0 && r != MLS_E_NOMEM)
                return MLS_E_BAD_STATE;
        return r;
}
