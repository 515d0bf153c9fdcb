/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The primitives taken from OpenSSL 3 libcrypto (EVP): SHA-384 and
 * HMAC-SHA384, AES-128/256-GCM, ECDH and ECDSA on P-256/P-384/P-521, X448
 * and Ed448.
 *
 * Private keys reach OpenSSL only for the duration of one operation: the
 * scalar goes into a secure BIGNUM (BN_clear_free), the EVP_PKEY holding it
 * is freed before the function returns (OpenSSL clears key material on
 * free), and parameter arrays that held a private key are cleared.
 */
#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "mls/crypto_internal.h"

/* OpenSSL records every failure in the calling thread's error queue; we
 * report through the return code, so drop the record rather than leave
 * stale entries for the next caller to misread. */
static int
ossl_fail(int code)
{
        ERR_clear_error();
        return code;
}

/* ---- cleanup helpers for OpenSSL objects ---- */

static void
pkey_freep(EVP_PKEY **p)
{
        EVP_PKEY_free(*p);
}

static void
pctx_freep(EVP_PKEY_CTX **p)
{
        EVP_PKEY_CTX_free(*p);
}

static void
mdctx_freep(EVP_MD_CTX **p)
{
        EVP_MD_CTX_free(*p);
}

static void
cctx_freep(EVP_CIPHER_CTX **p)
{
        EVP_CIPHER_CTX_free(*p);
}

static void
mac_freep(EVP_MAC **p)
{
        EVP_MAC_free(*p);
}

static void
macctx_freep(EVP_MAC_CTX **p)
{
        EVP_MAC_CTX_free(*p);
}

static void
group_freep(EC_GROUP **p)
{
        EC_GROUP_free(*p);
}

static void
point_freep(EC_POINT **p)
{
        EC_POINT_clear_free(*p);
}

static void
bn_freep(BIGNUM **p)
{
        BN_clear_free(*p);
}

static void
bnctx_freep(BN_CTX **p)
{
        BN_CTX_free(*p);
}

static void
bld_freep(OSSL_PARAM_BLD **p)
{
        OSSL_PARAM_BLD_free(*p);
}

static void
params_freep(OSSL_PARAM **p)
{
        /* The part of the array that held a secure BIGNUM lives in the
         * secure heap and is cleared by OSSL_PARAM_free. */
        OSSL_PARAM_free(*p);
}

#define _pkey_ _mls_cleanup_(pkey_freep)
#define _pctx_ _mls_cleanup_(pctx_freep)
#define _mdctx_ _mls_cleanup_(mdctx_freep)
#define _cctx_ _mls_cleanup_(cctx_freep)
#define _group_ _mls_cleanup_(group_freep)
#define _point_ _mls_cleanup_(point_freep)
#define _bn_ _mls_cleanup_(bn_freep)
#define _bnctx_ _mls_cleanup_(bnctx_freep)

/* ---- SHA-384 and HMAC-SHA384 ---- */

static int
sha384(const struct mls_hash_ops *h, const uint8_t *in, size_t len, uint8_t *out)
{
        unsigned int n = 0;

        if (EVP_Digest(in, len, out, &n, EVP_sha384(), NULL) != 1 || n != h->len)
                return ossl_fail(MLS_E_CRYPTO);
        return 0;
}

static int
hmac_evp(const struct mls_hash_ops *h, const uint8_t *key, size_t key_len,
         const struct mls_iov *iov, size_t n, uint8_t *out)
{
        _mls_cleanup_(mac_freep) EVP_MAC *mac = NULL;
        _mls_cleanup_(macctx_freep) EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[2];
        /* An empty HMAC key equals one zero byte (the key is zero-padded to
         * the block size), and EVP_MAC_init wants a non-empty key. */
        static const uint8_t zero_key[1];
        size_t out_len = 0;

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)h->impl, 0);
        params[1] = OSSL_PARAM_construct_end();
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
                return ossl_fail(MLS_E_CRYPTO);
        ctx = EVP_MAC_CTX_new(mac);
        if (!ctx)
                return ossl_fail(MLS_E_NOMEM);
        if (key_len == 0) {
                key = zero_key;
                key_len = sizeof(zero_key);
        }
        if (EVP_MAC_init(ctx, key, key_len, params) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        for (size_t i = 0; i < n; i++)
                if (iov[i].len && EVP_MAC_update(ctx, iov[i].p, iov[i].len) != 1)
                        return ossl_fail(MLS_E_CRYPTO);
        if (EVP_MAC_final(ctx, out, &out_len, h->len) != 1 || out_len != h->len)
                return ossl_fail(MLS_E_CRYPTO);
        return 0;
}

const struct mls_hash_ops mls_hash_sha384 = {
        .name = "SHA-384", .len = 48, .hash = sha384, .hmac = hmac_evp, .impl = "SHA384",
};

/* ---- AES-GCM (AEAD ids 1 and 2) ---- */

struct gcm_impl {
        const EVP_CIPHER *(*cipher)(void);
};

static const struct gcm_impl gcm128 = { EVP_aes_128_gcm };
static const struct gcm_impl gcm256 = { EVP_aes_256_gcm };

static const EVP_CIPHER *
gcm_cipher(const struct mls_aead_ops *a)
{
        const struct gcm_impl *g = a->impl;

        return g->cipher();
}

static int
gcm_seal(const struct mls_aead_ops *a, const uint8_t *key, const uint8_t *nonce,
         const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *out)
{
        _cctx_ EVP_CIPHER_CTX *ctx = NULL;
        int l = 0;

        if (aad_len > INT_MAX || pt_len > INT_MAX)
                return MLS_E_TOO_LARGE;
        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return ossl_fail(MLS_E_NOMEM);
        /* The GCM default IV length is 12 bytes = Nn. */
        if (EVP_EncryptInit_ex(ctx, gcm_cipher(a), NULL, key,
                               nonce) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (aad_len && EVP_EncryptUpdate(ctx, NULL, &l, aad, (int)aad_len) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (pt_len && EVP_EncryptUpdate(ctx, out, &l, pt, (int)pt_len) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (EVP_EncryptFinal_ex(ctx, out + pt_len, &l) != 1 || l != 0)
                return ossl_fail(MLS_E_CRYPTO);
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)a->tag_len, out + pt_len) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        return 0;
}

static int
gcm_open(const struct mls_aead_ops *a, const uint8_t *key, const uint8_t *nonce,
         const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out)
{
        _cctx_ EVP_CIPHER_CTX *ctx = NULL;
        size_t pt_len = ct_len - a->tag_len;
        uint8_t tag[MLS_MAX_AEAD_TAG_LEN];
        uint8_t last[1];
        int l = 0;

        if (aad_len > INT_MAX || ct_len > INT_MAX)
                return MLS_E_TOO_LARGE;
        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return ossl_fail(MLS_E_NOMEM);
        memcpy(tag, ct + pt_len, a->tag_len);
        if (EVP_DecryptInit_ex(ctx, gcm_cipher(a), NULL, key,
                               nonce) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (aad_len && EVP_DecryptUpdate(ctx, NULL, &l, aad, (int)aad_len) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (pt_len && EVP_DecryptUpdate(ctx, out, &l, ct, (int)pt_len) != 1) {
                mls_wipe(out, pt_len);
                return ossl_fail(MLS_E_CRYPTO);
        }
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)a->tag_len, tag) != 1) {
                mls_wipe(out, pt_len);
                return ossl_fail(MLS_E_CRYPTO);
        }
        /* The tag comparison happens here; GCM writes nothing more. */
        if (EVP_DecryptFinal_ex(ctx, last, &l) != 1) {
                mls_wipe(out, pt_len);
                return ossl_fail(MLS_E_DECRYPT);
        }
        return 0;
}

const struct mls_aead_ops mls_aead_aes128gcm = {
        .name = "AES-128-GCM", .key_len = 16, .nonce_len = 12, .tag_len = 16,
        .seal = gcm_seal, .open = gcm_open, .impl = &gcm128,
};

const struct mls_aead_ops mls_aead_aes256gcm = {
        .name = "AES-256-GCM", .key_len = 32, .nonce_len = 12, .tag_len = 16,
        .seal = gcm_seal, .open = gcm_open, .impl = &gcm256,
};

/* ---- NIST curves: common ---- */

struct ec_curve {
        int nid;
        const char *group_name;  /* OSSL_PKEY_PARAM_GROUP_NAME */
        size_t scalar_len;       /* Nsk */
        size_t point_len;        /* uncompressed point, Npk */
        uint8_t bitmask;         /* RFC 9180 section 7.1.3 */
        const char *md_name;     /* ECDSA hash */
};

static const struct ec_curve curve_p256 = {
        NID_X9_62_prime256v1, "prime256v1", 32, 65, 0xff, "SHA256",
};
static const struct ec_curve curve_p384 = {
        NID_secp384r1, "secp384r1", 48, 97, 0xff, "SHA384",
};
static const struct ec_curve curve_p521 = {
        NID_secp521r1, "secp521r1", 66, 133, 0x01, "SHA512",
};

/* Loads the big-endian scalar into a secure, constant-time BIGNUM and checks
 * 0 < sk < order (MLS_E_BAD_KEY otherwise). */
static int
ec_scalar_load(const EC_GROUP *group, const uint8_t *sk, size_t len, BIGNUM **ret_bn)
{
        _bn_ BIGNUM *bn = BN_secure_new();

        if (!bn)
                return ossl_fail(MLS_E_NOMEM);
        BN_set_flags(bn, BN_FLG_CONSTTIME);
        if (!BN_bin2bn(sk, (int)len, bn))
                return ossl_fail(MLS_E_CRYPTO);
        if (BN_is_zero(bn) || BN_cmp(bn, EC_GROUP_get0_order(group)) >= 0)
                return ossl_fail(MLS_E_BAD_KEY);
        *ret_bn = MLS_TAKE(bn);
        return 0;
}

static int
ec_group_new(const struct ec_curve *c, EC_GROUP **ret_group)
{
        EC_GROUP *g = EC_GROUP_new_by_curve_name(c->nid);

        if (!g)
                return ossl_fail(MLS_E_CRYPTO);
        *ret_group = g;
        return 0;
}

/* pk = sk * G, uncompressed, into out[c->point_len]. */
static int
ec_pub_from_scalar(const struct ec_curve *c, const EC_GROUP *group, const BIGNUM *sk,
                   uint8_t *out)
{
        _point_ EC_POINT *p = EC_POINT_new(group);
        _bnctx_ BN_CTX *bctx = BN_CTX_secure_new();

        if (!p || !bctx)
                return ossl_fail(MLS_E_NOMEM);
        if (EC_POINT_mul(group, p, sk, NULL, NULL, bctx) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (EC_POINT_point2oct(group, p, POINT_CONVERSION_UNCOMPRESSED, out, c->point_len,
                               bctx) != c->point_len)
                return ossl_fail(MLS_E_CRYPTO);
        return 0;
}

/* R-5.1.1-1: a public key is an uncompressed point (0x04 || X || Y) on the
 * curve, not the point at infinity. The decoded point goes to *ret_point
 * when that is not NULL. The curves have cofactor 1, so a point on the
 * curve other than infinity has order n: no further subgroup check. */
static int
ec_pub_decode(const struct ec_curve *c, const EC_GROUP *group, const uint8_t *pub,
              EC_POINT **ret_point)
{
        _point_ EC_POINT *p = EC_POINT_new(group);
        _bnctx_ BN_CTX *bctx = BN_CTX_new();

        if (!p || !bctx)
                return ossl_fail(MLS_E_NOMEM);
        if (pub[0] != POINT_CONVERSION_UNCOMPRESSED)
                return ossl_fail(MLS_E_BAD_KEY);
        /* oct2point rejects coordinates >= p and points off the curve. */
        if (EC_POINT_oct2point(group, p, pub, c->point_len, bctx) != 1)
                return ossl_fail(MLS_E_BAD_KEY);
        if (EC_POINT_is_at_infinity(group, p) || EC_POINT_is_on_curve(group, p, bctx) != 1)
                return ossl_fail(MLS_E_BAD_KEY);
        if (ret_point)
                *ret_point = MLS_TAKE(p);
        return 0;
}

static int
ec_pub_check(const struct ec_curve *c, const EC_GROUP *group, const uint8_t *pub)
{
        return ec_pub_decode(c, group, pub, NULL);
}

/* An EVP_PKEY from OSSL_PARAMs (OpenSSL 3: OSSL_PARAM_BLD + fromdata);
 * sk and pub may each be NULL. */
static int
ec_pkey_build(const struct ec_curve *c, const BIGNUM *sk, const uint8_t *pub, int selection,
              EVP_PKEY **ret_pkey)
{
        _mls_cleanup_(bld_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _mls_cleanup_(params_freep) OSSL_PARAM *params = NULL;
        _pctx_ EVP_PKEY_CTX *pctx = NULL;
        EVP_PKEY *pkey = NULL;

        if (!bld)
                return ossl_fail(MLS_E_NOMEM);
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group_name,
                                            0) != 1)
                return ossl_fail(MLS_E_NOMEM);
        if (pub && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                                    c->point_len) != 1)
                return ossl_fail(MLS_E_NOMEM);
        if (sk && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, sk) != 1)
                return ossl_fail(MLS_E_NOMEM);
        params = OSSL_PARAM_BLD_to_param(bld);
        if (!params)
                return ossl_fail(MLS_E_NOMEM);
        pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!pctx)
                return ossl_fail(MLS_E_NOMEM);
        if (EVP_PKEY_fromdata_init(pctx) != 1 ||
            EVP_PKEY_fromdata(pctx, &pkey, selection, params) != 1)
                return ossl_fail(sk ? MLS_E_CRYPTO : MLS_E_BAD_KEY);
        *ret_pkey = pkey;
        return 0;
}

/* EVP_PKEY with the private scalar only: ECDSA signing and ECDH use the
 * scalar alone, so the public point is not computed here. */
static int
ec_pkey_from_priv(const struct ec_curve *c, const uint8_t *sk_bytes, EVP_PKEY **ret_pkey)
{
        _group_ EC_GROUP *group = NULL;
        _bn_ BIGNUM *sk = NULL;

        MLS_TRY(ec_group_new(c, &group));
        MLS_TRY(ec_scalar_load(group, sk_bytes, c->scalar_len, &sk));
        return ec_pkey_build(c, sk, NULL, EVP_PKEY_KEYPAIR, ret_pkey);
}

static int
ec_pkey_from_pub(const struct ec_curve *c, const uint8_t *pub, EVP_PKEY **ret_pkey)
{
        _group_ EC_GROUP *group = NULL;

        MLS_TRY(ec_group_new(c, &group));
        MLS_TRY(ec_pub_check(c, group, pub));
        return ec_pkey_build(c, NULL, pub, EVP_PKEY_PUBLIC_KEY, ret_pkey);
}

static int
ec_priv_check(const struct ec_curve *c, const uint8_t *sk_bytes)
{
        _group_ EC_GROUP *group = NULL;
        _bn_ BIGNUM *sk = NULL;

        MLS_TRY(ec_group_new(c, &group));
        MLS_TRY(ec_scalar_load(group, sk_bytes, c->scalar_len, &sk));
        return 0;
}

static int
ec_pub_from_priv(const struct ec_curve *c, const uint8_t *priv, struct mls_bytes *ret_pub)
{
        _group_ EC_GROUP *group = NULL;
        _bn_ BIGNUM *sk = NULL;
        uint8_t pub[MLS_MAX_KEM_PUB_LEN];

        MLS_TRY(ec_group_new(c, &group));
        MLS_TRY(ec_scalar_load(group, priv, c->scalar_len, &sk));
        MLS_TRY(ec_pub_from_scalar(c, group, sk, pub));
        return mls_bytes_copy(ret_pub, pub, c->point_len);
}

/* ---- ECDSA ---- */

static int
ecdsa_keygen(const struct mls_sig_ops *g, const struct mls_rng *rng,
             struct mls_secret **ret_priv)
{
        const struct ec_curve *c = g->impl;

        /* Rejection sampling as in RFC 9180 DeriveKeyPair: uniform in
         * [1, n-1]. P-521's mask keeps the candidate below 2^521. */
        for (unsigned tries = 0; tries < 256; tries++) {
                _mls_secret_ struct mls_secret *sk = NULL;
                int r;

                MLS_TRY(mls_secret_new(c->scalar_len, &sk));
                MLS_TRY(mls_rng_fill(rng, sk->data, sk->len));
                sk->data[0] &= c->bitmask;
                r = ec_priv_check(c, sk->data);
                if (r == 0) {
                        *ret_priv = MLS_TAKE(sk);
                        return 0;
                }
                if (r != MLS_E_BAD_KEY)
                        return r;
        }
        return MLS_E_ENTROPY;
}

static int
ecdsa_pub_from_priv(const struct mls_sig_ops *g, const struct mls_secret *priv,
                    struct mls_bytes *ret_pub)
{
        return ec_pub_from_priv(g->impl, priv->data, ret_pub);
}

static int
ecdsa_sign(const struct mls_sig_ops *g, const struct mls_secret *priv, const uint8_t *msg,
           size_t len, struct mls_bytes *ret_sig)
{
        const struct ec_curve *c = g->impl;
        _pkey_ EVP_PKEY *pkey = NULL;
        _mdctx_ EVP_MD_CTX *md = NULL;
        uint8_t sig[MLS_MAX_SIG_LEN];
        size_t sig_len = sizeof(sig);

        MLS_TRY(ec_pkey_from_priv(c, priv->data, &pkey));
        md = EVP_MD_CTX_new();
        if (!md)
                return ossl_fail(MLS_E_NOMEM);
        /* R-5.1.2-2: ECDSA over the suite hash, DER-encoded
         * SEQUENCE { r, s } (OpenSSL's native output). */
        if (EVP_DigestSignInit_ex(md, NULL, c->md_name, NULL, NULL, pkey, NULL) != 1 ||
            EVP_DigestSign(md, sig, &sig_len, msg, len) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (sig_len > g->max_sig_len)
                return ossl_fail(MLS_E_CRYPTO);
        return mls_bytes_copy(ret_sig, sig, sig_len);
}

static int
ecdsa_verify(const struct mls_sig_ops *g, const uint8_t *pub, const uint8_t *msg, size_t len,
             const uint8_t *sig, size_t sig_len)
{
        const struct ec_curve *c = g->impl;
        _pkey_ EVP_PKEY *pkey = NULL;
        _mdctx_ EVP_MD_CTX *md = NULL;

        MLS_TRY(ec_pkey_from_pub(c, pub, &pkey));
        md = EVP_MD_CTX_new();
        if (!md)
                return ossl_fail(MLS_E_NOMEM);
        if (EVP_DigestVerifyInit_ex(md, NULL, c->md_name, NULL, NULL, pkey, NULL) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        /* OpenSSL re-encodes the parsed DER and rejects non-canonical
         * encodings and trailing bytes. Any failure is a bad signature. */
        if (EVP_DigestVerify(md, sig, sig_len, msg, len) != 1)
                return ossl_fail(MLS_E_BAD_SIGNATURE);
        return 0;
}

const struct mls_sig_ops mls_sig_ecdsa_p256 = {
        .name = "ECDSA P-256 SHA-256", .pub_len = 65, .priv_len = 32, .max_sig_len = 72,
        .keygen = ecdsa_keygen, .pub_from_priv = ecdsa_pub_from_priv,
        .sign = ecdsa_sign, .verify = ecdsa_verify, .impl = &curve_p256,
};

const struct mls_sig_ops mls_sig_ecdsa_p384 = {
        .name = "ECDSA P-384 SHA-384", .pub_len = 97, .priv_len = 48, .max_sig_len = 104,
        .keygen = ecdsa_keygen, .pub_from_priv = ecdsa_pub_from_priv,
        .sign = ecdsa_sign, .verify = ecdsa_verify, .impl = &curve_p384,
};

const struct mls_sig_ops mls_sig_ecdsa_p521 = {
        .name = "ECDSA P-521 SHA-512", .pub_len = 133, .priv_len = 66, .max_sig_len = 139,
        .keygen = ecdsa_keygen, .pub_from_priv = ecdsa_pub_from_priv,
        .sign = ecdsa_sign, .verify = ecdsa_verify, .impl = &curve_p521,
};

/* ---- DHKEM(P-256/P-384/P-521) ---- */

static int
eckem_priv_check(const struct mls_kem_ops *k, const uint8_t *sk)
{
        return ec_priv_check(k->impl, sk);
}

static int
eckem_pub_from_priv(const struct mls_kem_ops *k, const uint8_t *priv, struct mls_bytes *ret_pub)
{
        return ec_pub_from_priv(k->impl, priv, ret_pub);
}

static int
eckem_check_pub(const struct mls_kem_ops *k, const uint8_t *pub)
{
        _group_ EC_GROUP *group = NULL;

        MLS_TRY(ec_group_new(k->impl, &group));
        return ec_pub_check(k->impl, group, pub);
}

/* RFC 9180 section 4.1: DH() of a NIST curve is the x-coordinate of the
 * shared point, Ndh bytes (big-endian, padded to the field size).
 *
 * Computed on one EC_GROUP with the EC_POINT API: the peer point is decoded
 * and checked once (ec_pub_decode), the scalar sits in a secure
 * constant-time BIGNUM, and EC_POINT_mul of a single point takes OpenSSL's
 * constant-time ladder -- the same operation the EVP ECDH exchange performs
 * (ossl_ecdh_simple_compute_key), without building two EVP_PKEYs and
 * without EVP_PKEY_derive_set_peer's full public-key validation, which
 * costs one more scalar multiplication (n * Q == infinity) and tells
 * nothing new on these cofactor-1 curves. */
static int
eckem_dh(const struct mls_kem_ops *k, const uint8_t *priv, const uint8_t *own_pub,
         const uint8_t *pub, uint8_t *out)
{
        const struct ec_curve *c = k->impl;
        _group_ EC_GROUP *group = NULL;
        _bn_ BIGNUM *sk = NULL;
        _point_ EC_POINT *peer = NULL;
        _point_ EC_POINT *shared = NULL;
        _bn_ BIGNUM *x = BN_secure_new();
        _bnctx_ BN_CTX *bctx = BN_CTX_secure_new();

        (void)own_pub; /* the scalar alone is used */
        if (!x || !bctx)
                return ossl_fail(MLS_E_NOMEM);
        MLS_TRY(ec_group_new(c, &group));
        MLS_TRY(ec_pub_decode(c, group, pub, &peer));
        MLS_TRY(ec_scalar_load(group, priv, c->scalar_len, &sk));
        shared = EC_POINT_new(group);
        if (!shared)
                return ossl_fail(MLS_E_NOMEM);
        if (EC_POINT_mul(group, shared, NULL, peer, sk, bctx) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        /* Unreachable for 0 < sk < n and a point of order n. */
        if (EC_POINT_is_at_infinity(group, shared))
                return ossl_fail(MLS_E_BAD_KEY);
        if (EC_POINT_get_affine_coordinates(group, shared, x, NULL, bctx) != 1 ||
            BN_bn2binpad(x, out, (int)k->dh_len) != (int)k->dh_len) {
                mls_wipe(out, k->dh_len);
                return ossl_fail(MLS_E_CRYPTO);
        }
        return 0;
}

const struct mls_kem_ops mls_kem_p256 = {
        .name = "DHKEM(P-256, HKDF-SHA256)", .id = 0x0010,
        .pub_len = 65, .priv_len = 32, .dh_len = 32, .secret_len = 32, .bitmask = 0xff,
        .kdf = &mls_hash_sha256, .priv_check = eckem_priv_check,
        .pub_from_priv = eckem_pub_from_priv, .check_pub = eckem_check_pub, .dh = eckem_dh,
        .impl = &curve_p256,
};

const struct mls_kem_ops mls_kem_p384 = {
        .name = "DHKEM(P-384, HKDF-SHA384)", .id = 0x0011,
        .pub_len = 97, .priv_len = 48, .dh_len = 48, .secret_len = 48, .bitmask = 0xff,
        .kdf = &mls_hash_sha384, .priv_check = eckem_priv_check,
        .pub_from_priv = eckem_pub_from_priv, .check_pub = eckem_check_pub, .dh = eckem_dh,
        .impl = &curve_p384,
};

const struct mls_kem_ops mls_kem_p521 = {
        .name = "DHKEM(P-521, HKDF-SHA512)", .id = 0x0012,
        .pub_len = 133, .priv_len = 66, .dh_len = 66, .secret_len = 64, .bitmask = 0x01,
        .kdf = &mls_hash_sha512, .priv_check = eckem_priv_check,
        .pub_from_priv = eckem_pub_from_priv, .check_pub = eckem_check_pub, .dh = eckem_dh,
        .impl = &curve_p521,
};

/* ---- X448 (DHKEM id 0x0021) ---- */

static int
raw_pub_from_priv(int type, const uint8_t *sk, size_t sk_len, size_t pub_len,
                  struct mls_bytes *ret_pub)
{
        _pkey_ EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(type, NULL, sk, sk_len);
        uint8_t pub[MLS_MAX_SIG_PUB_LEN];
        size_t n = sizeof(pub);

        if (!pkey)
                return ossl_fail(MLS_E_BAD_KEY);
        if (EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 || n != pub_len)
                return ossl_fail(MLS_E_CRYPTO);
        return mls_bytes_copy(ret_pub, pub, n);
}

static int
x448_pub_from_priv(const struct mls_kem_ops *k, const uint8_t *priv, struct mls_bytes *ret_pub)
{
        return raw_pub_from_priv(EVP_PKEY_X448, priv, k->priv_len, k->pub_len, ret_pub);
}

static int
x448_check_pub(const struct mls_kem_ops *k, const uint8_t *pub)
{
        /* RFC 7748: every 56-byte string is a u-coordinate; low-order
         * inputs give an all-zero DH result, which dh rejects. */
        (void)k;
        (void)pub;
        return 0;
}

/* An X448 EVP_PKEY from the private key and, when known, its public key:
 * EVP_PKEY_new_raw_private_key computes the public key (a full scalar
 * multiplication) that a DH does not use; with both given, fromdata takes
 * them as they are. The parameter array only points at the caller's
 * buffers (OpenSSL copies the private key into its own secure memory and
 * clears it on free). */
static int
x448_priv_pkey(const struct mls_kem_ops *k, const uint8_t *priv, const uint8_t *own_pub,
               EVP_PKEY **ret_pkey)
{
        _pctx_ EVP_PKEY_CTX *pctx = NULL;
        OSSL_PARAM params[3];
        EVP_PKEY *pkey = NULL;

        if (!own_pub) {
                pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X448, NULL, priv, k->priv_len);
                if (!pkey)
                        return ossl_fail(MLS_E_BAD_KEY);
                *ret_pkey = pkey;
                return 0;
        }
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY,
                                                      (void *)(uintptr_t)priv, k->priv_len);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                      (void *)(uintptr_t)own_pub, k->pub_len);
        params[2] = OSSL_PARAM_construct_end();
        pctx = EVP_PKEY_CTX_new_from_name(NULL, "X448", NULL);
        if (!pctx)
                return ossl_fail(MLS_E_NOMEM);
        if (EVP_PKEY_fromdata_init(pctx) != 1 ||
            EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
                return ossl_fail(MLS_E_BAD_KEY);
        *ret_pkey = pkey;
        return 0;
}

static int
x448_dh(const struct mls_kem_ops *k, const uint8_t *priv, const uint8_t *own_pub,
        const uint8_t *pub, uint8_t *out)
{
        _pkey_ EVP_PKEY *skey = NULL;
        _pkey_ EVP_PKEY *pkey = NULL;
        _pctx_ EVP_PKEY_CTX *ctx = NULL;
        size_t z_len = k->dh_len;

        MLS_TRY(x448_priv_pkey(k, priv, own_pub, &skey));
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_X448, NULL, pub, k->pub_len);
        if (!pkey)
                return ossl_fail(MLS_E_BAD_KEY);
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, skey, NULL);
        if (!ctx)
                return ossl_fail(MLS_E_NOMEM);
        if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pkey) != 1)
                return ossl_fail(MLS_E_BAD_KEY);
        /* OpenSSL fails the derivation when the result is all zero (a
         * low-order input, RFC 7748 section 6.2); check it ourselves too. */
        if (EVP_PKEY_derive(ctx, out, &z_len) != 1 || z_len != k->dh_len ||
            mls_crypto_is_zero(out, k->dh_len)) {
                mls_wipe(out, k->dh_len);
                return ossl_fail(MLS_E_BAD_KEY);
        }
        return 0;
}

const struct mls_kem_ops mls_kem_x448 = {
        .name = "DHKEM(X448, HKDF-SHA512)", .id = 0x0021,
        .pub_len = 56, .priv_len = 56, .dh_len = 56, .secret_len = 64, .bitmask = 0,
        .kdf = &mls_hash_sha512, .priv_check = NULL,
        .pub_from_priv = x448_pub_from_priv, .check_pub = x448_check_pub, .dh = x448_dh,
};

/* ---- Ed448 ---- */

static int
ed448_keygen(const struct mls_sig_ops *g, const struct mls_rng *rng,
             struct mls_secret **ret_priv)
{
        _mls_secret_ struct mls_secret *seed = NULL;

        MLS_TRY(mls_secret_new(g->priv_len, &seed));
        MLS_TRY(mls_rng_fill(rng, seed->data, seed->len));
        *ret_priv = MLS_TAKE(seed);
        return 0;
}

static int
ed448_pub_from_priv(const struct mls_sig_ops *g, const struct mls_secret *priv,
                    struct mls_bytes *ret_pub)
{
        return raw_pub_from_priv(EVP_PKEY_ED448, priv->data, priv->len, g->pub_len, ret_pub);
}

static int
ed448_sign_pkey(const struct mls_sig_ops *g, EVP_PKEY *pkey, const uint8_t *msg, size_t len,
                struct mls_bytes *ret_sig)
{
        _mdctx_ EVP_MD_CTX *md = EVP_MD_CTX_new();
        uint8_t sig[114];
        size_t sig_len = sizeof(sig);

        if (!md)
                return ossl_fail(MLS_E_NOMEM);
        /* Pure Ed448 with an empty context (RFC 8032 section 5.2);
         * R-5.1.2-2: the signature is R || S. */
        if (EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, pkey, NULL) != 1 ||
            EVP_DigestSign(md, sig, &sig_len, msg, len) != 1 || sig_len != g->max_sig_len)
                return ossl_fail(MLS_E_CRYPTO);
        return mls_bytes_copy(ret_sig, sig, sig_len);
}

static int
ed448_sign(const struct mls_sig_ops *g, const struct mls_secret *priv, const uint8_t *msg,
           size_t len, struct mls_bytes *ret_sig)
{
        /* (computes the public key: RFC 8032 section 5.2.5) */
        _pkey_ EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED448, NULL, priv->data,
                                                            priv->len);

        if (!pkey)
                return ossl_fail(MLS_E_BAD_KEY);
        return ed448_sign_pkey(g, pkey, msg, len, ret_sig);
}

/* The prepared form: private key || public key, the latter computed here
 * once (never taken from outside: a public key that is not the private
 * key's would make two signatures of one message share a nonce). */
static int
ed448_prepare(const struct mls_sig_ops *g, const struct mls_secret *priv,
              struct mls_secret **ret_prepared)
{
        _mls_secret_ struct mls_secret *p = NULL;
        struct mls_bytes pub = { 0 };
        int r;

        MLS_TRY(raw_pub_from_priv(EVP_PKEY_ED448, priv->data, priv->len, g->pub_len, &pub));
        r = mls_secret_new(g->priv_len + g->pub_len, &p);
        if (r == 0) {
                memcpy(p->data, priv->data, g->priv_len);
                memcpy(p->data + g->priv_len, pub.data, g->pub_len);
                *ret_prepared = MLS_TAKE(p);
        }
        mls_bytes_clear(&pub);
        return r;
}

/* fromdata with both keys takes them as they are: one scalar
 * multiplication per signature instead of two. The parameters only point
 * at the guarded buffer (OpenSSL copies the private key into its own
 * secure memory and clears it on free). */
static int
ed448_sign_prepared(const struct mls_sig_ops *g, const struct mls_secret *prepared,
                    const uint8_t *msg, size_t len, struct mls_bytes *ret_sig)
{
        _pctx_ EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "ED448", NULL);
        _pkey_ EVP_PKEY *pkey = NULL;
        OSSL_PARAM params[3];

        if (!pctx)
                return ossl_fail(MLS_E_NOMEM);
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, prepared->data,
                                                      g->priv_len);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                      prepared->data + g->priv_len, g->pub_len);
        params[2] = OSSL_PARAM_construct_end();
        if (EVP_PKEY_fromdata_init(pctx) != 1 ||
            EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
                return ossl_fail(MLS_E_BAD_KEY);
        return ed448_sign_pkey(g, pkey, msg, len, ret_sig);
}

/* RFC 8032 section 5.2.3 point decoding, as a validity check only:
 * y < p (bits 448..454 clear), and x^2 = (y^2 - 1) / (d y^2 - 1) has a
 * square root, which is not 0 when the sign bit x_0 is set. */
static int
ed448_pub_check(const uint8_t pub[57])
{
        _bnctx_ BN_CTX *bctx = BN_CTX_new();
        _bn_ BIGNUM *p = BN_new();
        _bn_ BIGNUM *y = BN_new();
        _bn_ BIGNUM *y2 = BN_new();
        _bn_ BIGNUM *u = BN_new();
        _bn_ BIGNUM *v = BN_new();
        _bn_ BIGNUM *uv = BN_new();
        int k;

        if (!bctx || !p || !y || !y2 || !u || !v || !uv)
                return ossl_fail(MLS_E_NOMEM);
        if ((pub[56] & 0x7f) != 0)
                return ossl_fail(MLS_E_BAD_KEY);
        /* p = 2^448 - 2^224 - 1 */
        if (BN_set_bit(p, 448) != 1 || BN_sub_word(p, 1) != 1 || !BN_clear_bit(p, 224))
                return ossl_fail(MLS_E_CRYPTO);
        if (!BN_lebin2bn(pub, 56, y))
                return ossl_fail(MLS_E_CRYPTO);
        if (BN_cmp(y, p) >= 0)
                return ossl_fail(MLS_E_BAD_KEY);
        /* u = y^2 - 1, v = d y^2 - 1 with d = -39081 */
        if (BN_mod_sqr(y2, y, p, bctx) != 1 || BN_copy(u, y2) == NULL ||
            BN_sub_word(u, 1) != 1 || BN_nnmod(u, u, p, bctx) != 1 ||
            BN_mul_word(y2, 39081) != 1 || BN_sub(v, p, y2) != 1 ||
            BN_sub_word(v, 1) != 1 || BN_nnmod(v, v, p, bctx) != 1 ||
            BN_mod_mul(uv, u, v, p, bctx) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        k = BN_kronecker(uv, p, bctx);
        if (k == -2)
                return ossl_fail(MLS_E_CRYPTO);
        if (k == -1)
                return ossl_fail(MLS_E_BAD_KEY);
        /* x = 0 exactly when u = 0; then the sign bit must be clear. */
        if (BN_is_zero(u) && (pub[56] & 0x80))
                return ossl_fail(MLS_E_BAD_KEY);
        return 0;
}

static int
ed448_verify(const struct mls_sig_ops *g, const uint8_t *pub, const uint8_t *msg, size_t len,
             const uint8_t *sig, size_t sig_len)
{
        _pkey_ EVP_PKEY *pkey = NULL;
        _mdctx_ EVP_MD_CTX *md = NULL;

        MLS_TRY(ed448_pub_check(pub));
        if (sig_len != g->max_sig_len)
                return ossl_fail(MLS_E_BAD_SIGNATURE);
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, pub, g->pub_len);
        if (!pkey)
                return ossl_fail(MLS_E_BAD_KEY);
        md = EVP_MD_CTX_new();
        if (!md)
                return ossl_fail(MLS_E_NOMEM);
        if (EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, pkey, NULL) != 1)
                return ossl_fail(MLS_E_CRYPTO);
        if (EVP_DigestVerify(md, sig, sig_len, msg, len) != 1)
                return ossl_fail(MLS_E_BAD_SIGNATURE);
        return 0;
}

const struct mls_sig_ops mls_sig_ed448 = {
        .name = "Ed448", .pub_len = 57, .priv_len = 57, .max_sig_len = 114,
        .keygen = ed448_keygen, .pub_from_priv = ed448_pub_from_priv,
        .sign = ed448_sign, .verify = ed448_verify,
        .prepared_len = 57 + 57, .prepare = ed448_prepare, .sign_prepared = ed448_sign_prepared,
};
