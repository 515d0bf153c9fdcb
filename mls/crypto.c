/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cipher suites (RFC 9420 section 5.1, 17.1) and the suite-independent parts
 * of the crypto module: the suite table, argument checks, HKDF (RFC 5869)
 * over the suite's HMAC, the RFC 9180 labelled KDF and DeriveKeyPair.
 * The primitives themselves live in crypto_sodium.c and crypto_ossl.c.
 */
#include "mls/crypto.h"

#include <string.h>

#include "mls/crypto_internal.h"

/* R-5.1-1: one suite fixes KEM, KDF, AEAD, hash, MAC and signature. */
static const struct mls_suite_ops ops_1 = {
        .hash = &mls_hash_sha256, .aead = &mls_aead_aes128gcm,
        .sig = &mls_sig_ed25519, .kem = &mls_kem_x25519,
};
static const struct mls_suite_ops ops_2 = {
        .hash = &mls_hash_sha256, .aead = &mls_aead_aes128gcm,
        .sig = &mls_sig_ecdsa_p256, .kem = &mls_kem_p256,
};
static const struct mls_suite_ops ops_3 = {
        .hash = &mls_hash_sha256, .aead = &mls_aead_chacha20poly1305,
        .sig = &mls_sig_ed25519, .kem = &mls_kem_x25519,
};
static const struct mls_suite_ops ops_4 = {
        .hash = &mls_hash_sha512, .aead = &mls_aead_aes256gcm,
        .sig = &mls_sig_ed448, .kem = &mls_kem_x448,
};
static const struct mls_suite_ops ops_5 = {
        .hash = &mls_hash_sha512, .aead = &mls_aead_aes256gcm,
        .sig = &mls_sig_ecdsa_p521, .kem = &mls_kem_p521,
};
static const struct mls_suite_ops ops_6 = {
        .hash = &mls_hash_sha512, .aead = &mls_aead_chacha20poly1305,
        .sig = &mls_sig_ed448, .kem = &mls_kem_x448,
};
static const struct mls_suite_ops ops_7 = {
        .hash = &mls_hash_sha384, .aead = &mls_aead_aes256gcm,
        .sig = &mls_sig_ecdsa_p384, .kem = &mls_kem_p384,
};

/* The sizes repeat those of the primitive tables (C cannot read another
 * const object in a constant initializer); test_crypto checks that they
 * agree. */
static const struct mls_suite suites[] = {
        {
                .id = 1, .name = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
                .kem_id = 0x0020, .kdf_id = 1, .aead_id = 1,
                .hash_len = 32, .aead_key_len = 16, .aead_nonce_len = 12, .aead_tag_len = 16,
                .kem_pub_len = 32, .kem_priv_len = 32, .kem_enc_len = 32, .kem_secret_len = 32,
                .sig_pub_len = 32, .sig_priv_len = 32, .sig_max_len = 64,
                .ops = &ops_1,
        },
        {
                .id = 2, .name = "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
                .kem_id = 0x0010, .kdf_id = 1, .aead_id = 1,
                .hash_len = 32, .aead_key_len = 16, .aead_nonce_len = 12, .aead_tag_len = 16,
                .kem_pub_len = 65, .kem_priv_len = 32, .kem_enc_len = 65, .kem_secret_len = 32,
                .sig_pub_len = 65, .sig_priv_len = 32, .sig_max_len = 72,
                .ops = &ops_2,
        },
        {
                .id = 3, .name = "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
                .kem_id = 0x0020, .kdf_id = 1, .aead_id = 3,
                .hash_len = 32, .aead_key_len = 32, .aead_nonce_len = 12, .aead_tag_len = 16,
                .kem_pub_len = 32, .kem_priv_len = 32, .kem_enc_len = 32, .kem_secret_len = 32,
                .sig_pub_len = 32, .sig_priv_len = 32, .sig_max_len = 64,
                .ops = &ops_3,
        },
        {
                .id = 4, .name = "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448",
                .kem_id = 0x0021, .kdf_id = 3, .aead_id = 2,
                .hash_len = 64, .aead_key_len = 32, .aead_nonce_len = 12, .aead_tag_len = 16,
                .kem_pub_len = 56, .kem_priv_len = 56, .kem_enc_len = 56, .kem_secret_len = 64,
                .sig_pub_len = 57, .sig_priv_len = 57, .sig_max_len = 114,
                .ops = &ops_4,
        },
        {
                .id = 5, .name = "MLS_256_DHKEMP521_AES256GCM_SHA512_P521",
                .kem_id = 0x0012, .kdf_id = 3, .aead_id = 2,
                .hash_len = 64, .aead_key_len = 32, .aead_nonce_len = 12, .aead_tag_len = 16,
                .kem_pub_len = 133, .kem_priv_len = 66, .kem_enc_len = 133, .kem_secret_len = 64,
                .sig_pub_len = 133, .sig_priv_len = 66, .sig_max_len = 139,
                .ops = &ops_5,
        },
        {
                .id = 6, .name = "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448",
                .kem_id = 0x0021, .kdf_id = 3, .aead_id = 3,
                .hash_len = 64, .aead_key_len = 32, .aead_nonce_len = 12, .aead_tag_len = 16,
                .kem_pub_len = 56, .kem_priv_len = 56, .kem_enc_len = 56, .kem_secret_len = 64,
                .sig_pub_len = 57, .sig_priv_len = 57, .sig_max_len = 114,
                .ops = &ops_6,
        },
        {
                .id = 7, .name = "MLS_256_DHKEMP384_AES256GCM_SHA384_P384",
                .kem_id = 0x0011, .kdf_id = 2, .aead_id = 2,
                .hash_len = 48, .aead_key_len = 32, .aead_nonce_len = 12, .aead_tag_len = 16,
                .kem_pub_len = 97, .kem_priv_len = 48, .kem_enc_len = 97, .kem_secret_len = 48,
                .sig_pub_len = 97, .sig_priv_len = 48, .sig_max_len = 104,
                .ops = &ops_7,
        },
};

static const uint16_t suite_ids[] = { 1, 2, 3, 4, 5, 6, 7 };

const struct mls_suite *
mls_suite_get(uint16_t id)
{
        for (size_t i = 0; i < MLS_ARRAY_SIZE(suites); i++)
                if (suites[i].id == id)
                        return &suites[i];
        return NULL;
}

const uint16_t *
mls_suite_ids(size_t *ret_n)
{
        *ret_n = MLS_ARRAY_SIZE(suite_ids);
        return suite_ids;
}

bool
mls_crypto_is_zero(const uint8_t *p, size_t len)
{
        uint8_t acc = 0;

        for (size_t i = 0; i < len; i++)
                acc |= p[i];
        return acc == 0;
}

/* ---- hash, MAC, KDF ---- */

int
mls_crypto_hash(const struct mls_suite *s, const uint8_t *in, size_t len, uint8_t *out)
{
        const struct mls_hash_ops *h;

        if (!s || !out || (!in && len))
                return MLS_E_INVALID_ARGUMENT;
        h = s->ops->hash;
        return h->hash(h, in, len, out);
}

int
mls_crypto_mac(const struct mls_suite *s, const uint8_t *key, size_t key_len,
               const uint8_t *data, size_t len, uint8_t *out)
{
        const struct mls_hash_ops *h;
        struct mls_iov iov = { data, len };

        if (!s || !out || (!key && key_len) || (!data && len))
                return MLS_E_INVALID_ARGUMENT;
        h = s->ops->hash;
        return h->hmac(h, key, key_len, &iov, 1, out);
}

static void
wipe_hash_buf(uint8_t (*p)[MLS_MAX_HASH_LEN])
{
        mls_wipe(*p, sizeof(*p));
}

int
mls_crypto_mac_verify(const struct mls_suite *s, const uint8_t *key, size_t key_len,
                      const uint8_t *data, size_t len, const uint8_t *tag, size_t tag_len,
                      int bad)
{
        _mls_cleanup_(wipe_hash_buf) uint8_t mac[MLS_MAX_HASH_LEN];

        if (!s || (!tag && tag_len) || bad >= 0)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_crypto_mac(s, key, key_len, data, len, mac));
        /* The length is public; the bytes are compared in constant time. */
        if (tag_len != s->hash_len || !mls_ct_eq(mac, tag, tag_len))
                return bad;
        return 0;
}

/* RFC 5869 section 2.2: PRK = HMAC-Hash(salt, IKM); "if [salt is] not
 * provided, it is set to a string of HashLen zeros". HMAC pads its key with
 * zeros to the block size, so an empty key gives the same result. */
int
mls_hkdf_extract_v(const struct mls_hash_ops *h, const uint8_t *salt, size_t salt_len,
                   const struct mls_iov *ikm, size_t n, uint8_t *out)
{
        int r = h->hmac(h, salt, salt_len, ikm, n, out);

        if (r < 0)
                mls_wipe(out, h->len);
        return r;
}

/* RFC 5869 section 2.3:
 *   N = ceil(L/HashLen); T(0) = empty;
 *   T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = first L octets of T. */
#define HKDF_MAX_INFO_IOV 8

static int
hkdf_expand_blocks(const struct mls_hash_ops *h, const uint8_t *prk, size_t prk_len,
                   const struct mls_iov *info, size_t n, uint8_t *out, size_t len)
{
        _mls_cleanup_(wipe_hash_buf) uint8_t t[MLS_MAX_HASH_LEN];
        struct mls_iov iov[HKDF_MAX_INFO_IOV + 2];
        size_t done = 0;
        uint8_t ctr;

        for (ctr = 1; done < len; ctr++) {
                size_t k = 0, take;

                if (ctr > 1)
                        iov[k++] = (struct mls_iov){ t, h->len };
                for (size_t i = 0; i < n; i++)
                        iov[k++] = info[i];
                iov[k++] = (struct mls_iov){ &ctr, 1 };
                MLS_TRY(h->hmac(h, prk, prk_len, iov, k, t));
                take = len - done < h->len ? len - done : h->len;
                memcpy(out + done, t, take);
                done += take;
        }
        return 0;
}

int
mls_hkdf_expand_v(const struct mls_hash_ops *h, const uint8_t *prk, size_t prk_len,
                  const struct mls_iov *info, size_t n, uint8_t *out, size_t len)
{
        int r;

        if (len > 255 * h->len || n > HKDF_MAX_INFO_IOV || (!prk && prk_len) || (!out && len))
                return MLS_E_INVALID_ARGUMENT;
        r = hkdf_expand_blocks(h, prk, prk_len, info, n, out, len);
        if (r < 0)
                mls_wipe(out, len);
        return r;
}

int
mls_crypto_hkdf_extract_into(const struct mls_suite *s, const uint8_t *salt, size_t salt_len,
                             const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
        struct mls_iov iov = { ikm, ikm_len };

        if (!s || !out || (!salt && salt_len) || (!ikm && ikm_len))
                return MLS_E_INVALID_ARGUMENT;
        return mls_hkdf_extract_v(s->ops->hash, salt, salt_len, &iov, 1, out);
}

int
mls_crypto_hkdf_expand_into(const struct mls_suite *s, const uint8_t *prk, size_t prk_len,
                            const uint8_t *info, size_t info_len, uint8_t *out, size_t len)
{
        struct mls_iov iov = { info, info_len };

        if (!s || (!info && info_len) || (!prk && prk_len) || (!out && len))
                return MLS_E_INVALID_ARGUMENT;
        /* An invalid length leaves out untouched (its size is unknown). */
        if (len > 255 * s->ops->hash->len)
                return MLS_E_INVALID_ARGUMENT;
        return mls_hkdf_expand_v(s->ops->hash, prk, prk_len, &iov, 1, out, len);
}

int
mls_crypto_hkdf_extract(const struct mls_suite *s, const uint8_t *salt, size_t salt_len,
                        const uint8_t *ikm, size_t ikm_len, struct mls_secret **ret_prk)
{
        _mls_secret_ struct mls_secret *prk = NULL;

        if (!s || (!salt && salt_len) || (!ikm && ikm_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(s->ops->hash->len, &prk));
        MLS_TRY(mls_crypto_hkdf_extract_into(s, salt, salt_len, ikm, ikm_len, prk->data));
        *ret_prk = MLS_TAKE(prk);
        return 0;
}

int
mls_crypto_hkdf_expand(const struct mls_suite *s, const uint8_t *prk, size_t prk_len,
                       const uint8_t *info, size_t info_len, size_t len,
                       struct mls_secret **ret_okm)
{
        _mls_secret_ struct mls_secret *okm = NULL;

        if (!s || (!info && info_len) || (!prk && prk_len))
                return MLS_E_INVALID_ARGUMENT;
        /* Checked before allocating: a bad length costs no guarded page. */
        if (len > 255 * s->ops->hash->len)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(len, &okm));
        MLS_TRY(mls_crypto_hkdf_expand_into(s, prk, prk_len, info, info_len, okm->data, len));
        *ret_okm = MLS_TAKE(okm);
        return 0;
}

/* ---- RFC 9180 section 4: labelled KDF ---- */

static const uint8_t hpke_v1[] = { 'H', 'P', 'K', 'E', '-', 'v', '1' };

size_t
mls_hpke_kem_suite_id(uint16_t kem_id, uint8_t *buf)
{
        /* suite_id = concat("KEM", I2OSP(kem_id, 2)) */
        buf[0] = 'K';
        buf[1] = 'E';
        buf[2] = 'M';
        buf[3] = (uint8_t)(kem_id >> 8);
        buf[4] = (uint8_t)kem_id;
        return 5;
}

size_t
mls_hpke_full_suite_id(const struct mls_suite *s, uint8_t *buf)
{
        /* suite_id = concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2),
         *                   I2OSP(aead_id, 2)) */
        buf[0] = 'H';
        buf[1] = 'P';
        buf[2] = 'K';
        buf[3] = 'E';
        buf[4] = (uint8_t)(s->kem_id >> 8);
        buf[5] = (uint8_t)s->kem_id;
        buf[6] = (uint8_t)(s->kdf_id >> 8);
        buf[7] = (uint8_t)s->kdf_id;
        buf[8] = (uint8_t)(s->aead_id >> 8);
        buf[9] = (uint8_t)s->aead_id;
        return 10;
}

int
mls_hpke_labeled_extract(const struct mls_hash_ops *h, const uint8_t *suite_id,
                         size_t suite_id_len, const uint8_t *salt, size_t salt_len,
                         const char *label, const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
        /* labeled_ikm = concat("HPKE-v1", suite_id, label, ikm) */
        const struct mls_iov iov[] = {
                { hpke_v1, sizeof(hpke_v1) },
                { suite_id, suite_id_len },
                { (const uint8_t *)label, strlen(label) },
                { ikm, ikm_len },
        };

        return mls_hkdf_extract_v(h, salt, salt_len, iov, MLS_ARRAY_SIZE(iov), out);
}

int
mls_hpke_labeled_expand(const struct mls_hash_ops *h, const uint8_t *suite_id,
                        size_t suite_id_len, const uint8_t *prk, size_t prk_len,
                        const char *label, const uint8_t *info, size_t info_len, uint8_t *out,
                        size_t len)
{
        /* labeled_info = concat(I2OSP(L, 2), "HPKE-v1", suite_id, label, info) */
        uint8_t l2[2];
        struct mls_iov iov[5];

        if (len > 0xffff)
                return MLS_E_INVALID_ARGUMENT;
        l2[0] = (uint8_t)(len >> 8);
        l2[1] = (uint8_t)len;
        iov[0] = (struct mls_iov){ l2, 2 };
        iov[1] = (struct mls_iov){ hpke_v1, sizeof(hpke_v1) };
        iov[2] = (struct mls_iov){ suite_id, suite_id_len };
        iov[3] = (struct mls_iov){ (const uint8_t *)label, strlen(label) };
        iov[4] = (struct mls_iov){ info, info_len };
        return mls_hkdf_expand_v(h, prk, prk_len, iov, MLS_ARRAY_SIZE(iov), out, len);
}

/* ---- AEAD ---- */

int
mls_crypto_aead_seal(const struct mls_suite *s, const uint8_t *key, const uint8_t *nonce,
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out)
{
        const struct mls_aead_ops *a;

        if (!s || !key || !nonce || !out || (!aad && aad_len) || (!pt && pt_len))
                return MLS_E_INVALID_ARGUMENT;
        a = s->ops->aead;
        if (pt_len > SIZE_MAX - a->tag_len)
                return MLS_E_TOO_LARGE;
        return a->seal(a, key, nonce, aad, aad_len, pt, pt_len, out);
}

int
mls_crypto_aead_open(const struct mls_suite *s, const uint8_t *key, const uint8_t *nonce,
                     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out)
{
        const struct mls_aead_ops *a;

        if (!s || !key || !nonce || (!aad && aad_len) || !ct)
                return MLS_E_INVALID_ARGUMENT;
        a = s->ops->aead;
        /* Shorter than a tag cannot authenticate. */
        if (ct_len < a->tag_len)
                return MLS_E_DECRYPT;
        if (!out && ct_len > a->tag_len)
                return MLS_E_INVALID_ARGUMENT;
        return a->open(a, key, nonce, aad, aad_len, ct, ct_len, out);
}

/* ---- signatures ---- */

int
mls_crypto_sig_keygen(const struct mls_suite *s, const struct mls_rng *rng,
                      struct mls_secret **ret_priv, struct mls_bytes *ret_pub)
{
        const struct mls_sig_ops *g;
        _mls_secret_ struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 };

        if (!s || !rng)
                return MLS_E_INVALID_ARGUMENT;
        g = s->ops->sig;
        MLS_TRY(g->keygen(g, rng, &priv));
        MLS_TRY(g->pub_from_priv(g, priv, &pub));
        *ret_priv = MLS_TAKE(priv);
        *ret_pub = pub;
        return 0;
}

int
mls_crypto_sig_pub_from_priv(const struct mls_suite *s, const struct mls_secret *priv,
                             struct mls_bytes *ret_pub)
{
        const struct mls_sig_ops *g;

        if (!s || !priv)
                return MLS_E_INVALID_ARGUMENT;
        g = s->ops->sig;
        if (priv->len != g->priv_len)
                return MLS_E_BAD_KEY;
        return g->pub_from_priv(g, priv, ret_pub);
}

int
mls_crypto_sign(const struct mls_suite *s, const struct mls_secret *priv, const uint8_t *msg,
                size_t len, struct mls_bytes *ret_sig)
{
        const struct mls_sig_ops *g;

        if (!s || !priv || (!msg && len))
                return MLS_E_INVALID_ARGUMENT;
        g = s->ops->sig;
        if (priv->len != g->priv_len)
                return MLS_E_BAD_KEY;
        return g->sign(g, priv, msg, len, ret_sig);
}

int
mls_crypto_sig_prepare(const struct mls_suite *s, const struct mls_secret *priv,
                       struct mls_secret **ret_prepared)
{
        const struct mls_sig_ops *g;

        if (!s || !priv || !ret_prepared)
                return MLS_E_INVALID_ARGUMENT;
        g = s->ops->sig;
        if (priv->len != g->priv_len)
                return MLS_E_BAD_KEY;
        if (!g->prepare)
                return mls_secret_from(priv->data, priv->len, ret_prepared);
        return g->prepare(g, priv, ret_prepared);
}

int
mls_crypto_sign_prepared(const struct mls_suite *s, const struct mls_secret *prepared,
                         const uint8_t *msg, size_t len, struct mls_bytes *ret_sig)
{
        const struct mls_sig_ops *g;

        if (!s || !prepared || (!msg && len))
                return MLS_E_INVALID_ARGUMENT;
        g = s->ops->sig;
        if (!g->sign_prepared) {
                if (prepared->len != g->priv_len)
                        return MLS_E_BAD_KEY;
                return g->sign(g, prepared, msg, len, ret_sig);
        }
        if (prepared->len != g->prepared_len)
                return MLS_E_BAD_KEY;
        return g->sign_prepared(g, prepared, msg, len, ret_sig);
}

int
mls_crypto_verify(const struct mls_suite *s, const uint8_t *pub, size_t pub_len,
                  const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
        const struct mls_sig_ops *g;

        if (!s || (!pub && pub_len) || (!msg && len) || (!sig && sig_len))
                return MLS_E_INVALID_ARGUMENT;
        g = s->ops->sig;
        /* R-5.1.1-1: raw RFC 8032 keys / uncompressed points of one size. */
        if (pub_len != g->pub_len)
                return MLS_E_BAD_KEY;
        /* R-5.1.2-2: EdDSA signatures have one size, DER ECDSA a maximum. */
        if (sig_len == 0 || sig_len > g->max_sig_len)
                return MLS_E_BAD_SIGNATURE;
        return g->verify(g, pub, msg, len, sig, sig_len);
}

/* ---- KEM ---- */

/* RFC 9180 section 7.1.3:
 *
 *   def DeriveKeyPair(ikm):          # X25519, X448
 *     dkp_prk = LabeledExtract("", "dkp_prk", ikm)
 *     sk = LabeledExpand(dkp_prk, "sk", "", Nsk)
 *     return (sk, pk(sk))
 *
 *   def DeriveKeyPair(ikm):          # P-256, P-384, P-521
 *     dkp_prk = LabeledExtract("", "dkp_prk", ikm)
 *     sk = 0
 *     counter = 0
 *     while sk == 0 or sk >= order:
 *       if counter > 255:
 *         raise DeriveKeyPairError
 *       bytes = LabeledExpand(dkp_prk, "candidate", I2OSP(counter, 1), Nsk)
 *       bytes[0] = bytes[0] & bitmask
 *       sk = OS2IP(bytes)
 *       counter = counter + 1
 *     return (sk, pk(sk))
 */
int
mls_kem_derive_priv(const struct mls_kem_ops *k, const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
        _mls_hash_buf_ uint8_t prk[MLS_MAX_HASH_LEN];
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len = mls_hpke_kem_suite_id(k->id, sid);
        size_t nh = k->kdf->len;

        MLS_TRY(mls_hpke_labeled_extract(k->kdf, sid, sid_len, NULL, 0, "dkp_prk", ikm, ikm_len,
                                         prk));
        if (!k->priv_check)
                return mls_hpke_labeled_expand(k->kdf, sid, sid_len, prk, nh, "sk", NULL, 0, out,
                                               k->priv_len);
        for (unsigned counter = 0; counter <= 255; counter++) {
                uint8_t c = (uint8_t)counter;
                int r;

                MLS_TRY(mls_hpke_labeled_expand(k->kdf, sid, sid_len, prk, nh, "candidate", &c,
                                                1, out, k->priv_len));
                out[0] &= k->bitmask;
                r = k->priv_check(k, out);
                if (r == 0)
                        return 0;
                if (r != MLS_E_BAD_KEY) {
                        mls_wipe(out, k->priv_len);
                        return r;
                }
        }
        /* DeriveKeyPairError: each candidate fails with probability below
         * 2^-32 (P-256) or much less; unreachable in practice. */
        mls_wipe(out, k->priv_len);
        return MLS_E_CRYPTO;
}

int
mls_crypto_kem_derive_keypair_into(const struct mls_suite *s, const uint8_t *ikm, size_t ikm_len,
                                   uint8_t *priv_out, struct mls_bytes *ret_pub)
{
        const struct mls_kem_ops *k;
        int r;

        if (!s || !priv_out || !ret_pub || (!ikm && ikm_len))
                return MLS_E_INVALID_ARGUMENT;
        k = s->ops->kem;
        r = mls_kem_derive_priv(k, ikm, ikm_len, priv_out);
        if (r == 0)
                r = k->pub_from_priv(k, priv_out, ret_pub);
        if (r < 0)
                mls_wipe(priv_out, k->priv_len);
        return r;
}

int
mls_crypto_kem_derive_keypair(const struct mls_suite *s, const uint8_t *ikm, size_t ikm_len,
                              struct mls_secret **ret_priv, struct mls_bytes *ret_pub)
{
        _mls_secret_ struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 };

        if (!s || (!ikm && ikm_len))
                return MLS_E_INVALID_ARGUMENT;
        /* The one guarded allocation is the key handed out. */
        MLS_TRY(mls_secret_new(s->ops->kem->priv_len, &priv));
        MLS_TRY(mls_crypto_kem_derive_keypair_into(s, ikm, ikm_len, priv->data, &pub));
        *ret_priv = MLS_TAKE(priv);
        *ret_pub = pub;
        return 0;
}

static void
wipe_kem_buf(uint8_t (*p)[MLS_MAX_KEM_PRIV_LEN])
{
        mls_wipe(*p, sizeof(*p));
}

int
mls_crypto_kem_generate(const struct mls_suite *s, const struct mls_rng *rng,
                        struct mls_secret **ret_priv, struct mls_bytes *ret_pub)
{
        _mls_cleanup_(wipe_kem_buf) uint8_t ikm[MLS_MAX_KEM_PRIV_LEN];

        if (!s || !rng)
                return MLS_E_INVALID_ARGUMENT;
        /* RFC 9180 section 7.1.3: "ikm ... SHOULD have at least Nsk bytes
         * of entropy"; GenerateKeyPair is DeriveKeyPair(random(Nsk)). */
        MLS_TRY(mls_rng_fill(rng, ikm, s->kem_priv_len));
        return mls_crypto_kem_derive_keypair(s, ikm, s->kem_priv_len, ret_priv, ret_pub);
}

int
mls_crypto_kem_pub_from_priv(const struct mls_suite *s, const struct mls_secret *priv,
                             struct mls_bytes *ret_pub)
{
        const struct mls_kem_ops *k;

        if (!s || !priv)
                return MLS_E_INVALID_ARGUMENT;
        k = s->ops->kem;
        if (priv->len != k->priv_len)
                return MLS_E_BAD_KEY;
        /* The NIST pub_from_priv checks the scalar range itself. */
        return k->pub_from_priv(k, priv->data, ret_pub);
}

int
mls_crypto_kem_check_pub(const struct mls_suite *s, const uint8_t *pub, size_t pub_len)
{
        const struct mls_kem_ops *k;

        if (!s || (!pub && pub_len))
                return MLS_E_INVALID_ARGUMENT;
        k = s->ops->kem;
        if (pub_len != k->pub_len)
                return MLS_E_BAD_KEY;
        return k->check_pub(k, pub);
}

static int
kem_dh(const struct mls_suite *s, const uint8_t *priv, size_t priv_len, const uint8_t *own_pub,
       const uint8_t *pub, size_t pub_len, uint8_t *out, size_t *ret_len)
{
        const struct mls_kem_ops *k;
        int r;

        if (!s || !priv || !out || (!pub && pub_len))
                return MLS_E_INVALID_ARGUMENT;
        k = s->ops->kem;
        if (priv_len != k->priv_len || pub_len != k->pub_len) {
                mls_wipe(out, k->dh_len);
                return MLS_E_BAD_KEY;
        }
        /* The NIST dh checks the scalar range and decodes and validates pub
         * itself (the same checks as check_pub). */
        r = k->dh(k, priv, own_pub, pub, out);
        if (r < 0) {
                mls_wipe(out, k->dh_len);
                return r;
        }
        if (ret_len)
                *ret_len = k->dh_len;
        return 0;
}

int
mls_crypto_dh_into(const struct mls_suite *s, const uint8_t *priv, size_t priv_len,
                   const uint8_t *pub, size_t pub_len, uint8_t *out, size_t *ret_len)
{
        return kem_dh(s, priv, priv_len, NULL, pub, pub_len, out, ret_len);
}

int
mls_kem_dh_known_pub(const struct mls_suite *s, const uint8_t *priv, const uint8_t *own_pub,
                     const uint8_t *pub, size_t pub_len, uint8_t *out, size_t *ret_len)
{
        if (!s || !own_pub)
                return MLS_E_INVALID_ARGUMENT;
        return kem_dh(s, priv, s->kem_priv_len, own_pub, pub, pub_len, out, ret_len);
}

int
mls_crypto_dh(const struct mls_suite *s, const struct mls_secret *priv, const uint8_t *pub,
              size_t pub_len, struct mls_secret **ret_shared)
{
        _mls_secret_ struct mls_secret *z = NULL;
        const struct mls_kem_ops *k;

        if (!s || !priv || (!pub && pub_len))
                return MLS_E_INVALID_ARGUMENT;
        k = s->ops->kem;
        /* Checked before allocating: a bad key costs no guarded page. */
        if (priv->len != k->priv_len || pub_len != k->pub_len)
                return MLS_E_BAD_KEY;
        MLS_TRY(mls_secret_new(k->dh_len, &z));
        MLS_TRY(mls_crypto_dh_into(s, priv->data, priv->len, pub, pub_len, z->data, NULL));
        *ret_shared = MLS_TAKE(z);
        return 0;
}

/* ---- preload / self-test ---- */

/* A fixed byte pattern as "randomness": preload only needs some key. */
static int
pattern_fill(void *ctx, uint8_t *buf, size_t len)
{
        (void)ctx;
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(0x11 + i);
        return 0;
}

static int
preload_suite(const struct mls_suite *s)
{
        static const struct mls_rng pattern = { pattern_fill, NULL };
        static const uint8_t in[] = { 'm', 'l', 's' };
        uint8_t h[MLS_MAX_HASH_LEN], key[MLS_MAX_AEAD_KEY_LEN] = { 0 };
        uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN] = { 0 };
        uint8_t ct[sizeof(in) + MLS_MAX_AEAD_TAG_LEN], pt[sizeof(in)];
        _mls_secret_ struct mls_secret *a = NULL;
        _mls_secret_ struct mls_secret *b = NULL;
        _mls_secret_ struct mls_secret *ab = NULL;
        _mls_secret_ struct mls_secret *ba = NULL;
        _mls_secret_ struct mls_secret *sk = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pa = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pb = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes spk = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes sig = { 0 };

        MLS_TRY(mls_crypto_hash(s, in, sizeof(in), h));
        MLS_TRY(mls_crypto_mac(s, in, sizeof(in), in, sizeof(in), h));
        MLS_TRY(mls_crypto_aead_seal(s, key, nonce, in, sizeof(in), in, sizeof(in), ct));
        MLS_TRY(mls_crypto_aead_open(s, key, nonce, in, sizeof(in), ct,
                                     sizeof(in) + s->aead_tag_len, pt));
        if (memcmp(pt, in, sizeof(in)) != 0)
                return MLS_E_CRYPTO;
        MLS_TRY(mls_crypto_kem_derive_keypair(s, in, 1, &a, &pa));
        MLS_TRY(mls_crypto_kem_derive_keypair(s, in, 2, &b, &pb));
        MLS_TRY(mls_crypto_kem_check_pub(s, pa.data, pa.len));
        MLS_TRY(mls_crypto_dh(s, a, pb.data, pb.len, &ab));
        MLS_TRY(mls_crypto_dh(s, b, pa.data, pa.len, &ba));
        if (!mls_secret_eq(ab, ba))
                return MLS_E_CRYPTO;
        MLS_TRY(mls_crypto_sig_keygen(s, &pattern, &sk, &spk));
        MLS_TRY(mls_crypto_sign(s, sk, in, sizeof(in), &sig));
        return mls_crypto_verify(s, spk.data, spk.len, in, sizeof(in), sig.data, sig.len);
}

int
mls_crypto_preload(void)
{
        for (size_t i = 0; i < MLS_ARRAY_SIZE(suites); i++) {
                int r = preload_suite(&suites[i]);

                if (r < 0)
                        return r == MLS_E_BAD_SIGNATURE ? MLS_E_CRYPTO : r;
        }
        return 0;
}
