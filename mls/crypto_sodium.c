/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The primitives libsodium provides: SHA-256, SHA-512 and their HMACs,
 * ChaCha20-Poly1305 (IETF, RFC 8439), Ed25519 (RFC 8032) and X25519
 * (RFC 7748). Every temporary that held key material is wiped.
 */
#include <string.h>
#include <sodium.h>

#include "mls/crypto_internal.h"

/* ---- SHA-256 / SHA-512 and HMAC ---- */

static int
sha256(const struct mls_hash_ops *h, const uint8_t *in, size_t len, uint8_t *out)
{
        (void)h;
        crypto_hash_sha256(out, in, len);
        return 0;
}

static int
sha512(const struct mls_hash_ops *h, const uint8_t *in, size_t len, uint8_t *out)
{
        (void)h;
        crypto_hash_sha512(out, in, len);
        return 0;
}

/* libsodium's HMAC init accepts keys of any length (longer than a block are
 * hashed first, as RFC 2104 says). */
static int
hmac_sha256(const struct mls_hash_ops *h, const uint8_t *key, size_t key_len,
            const struct mls_iov *iov, size_t n, uint8_t *out)
{
        crypto_auth_hmacsha256_state st;
        static const uint8_t nokey[1];

        (void)h;
        crypto_auth_hmacsha256_init(&st, key_len ? key : nokey, key_len);
        for (size_t i = 0; i < n; i++)
                if (iov[i].len)
                        crypto_auth_hmacsha256_update(&st, iov[i].p, iov[i].len);
        crypto_auth_hmacsha256_final(&st, out);
        sodium_memzero(&st, sizeof(st));
        return 0;
}

static int
hmac_sha512(const struct mls_hash_ops *h, const uint8_t *key, size_t key_len,
            const struct mls_iov *iov, size_t n, uint8_t *out)
{
        crypto_auth_hmacsha512_state st;
        static const uint8_t nokey[1];

        (void)h;
        crypto_auth_hmacsha512_init(&st, key_len ? key : nokey, key_len);
        for (size_t i = 0; i < n; i++)
                if (iov[i].len)
                        crypto_auth_hmacsha512_update(&st, iov[i].p, iov[i].len);
        crypto_auth_hmacsha512_final(&st, out);
        sodium_memzero(&st, sizeof(st));
        return 0;
}

const struct mls_hash_ops mls_hash_sha256 = {
        .name = "SHA-256", .len = 32, .hash = sha256, .hmac = hmac_sha256,
};

const struct mls_hash_ops mls_hash_sha512 = {
        .name = "SHA-512", .len = 64, .hash = sha512, .hmac = hmac_sha512,
};

/* ---- ChaCha20-Poly1305 (AEAD id 3) ---- */

static int
chacha_seal(const struct mls_aead_ops *a, const uint8_t *key, const uint8_t *nonce,
            const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *out)
{
        unsigned long long mac_len;

        (void)a;
        /* Ciphertext then the 16-byte tag, as RFC 8439 and HPKE want. */
        if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + pt_len, &mac_len, pt,
                                                               pt_len, aad, aad_len, NULL,
                                                               nonce, key) != 0)
                return MLS_E_CRYPTO;
        return 0;
}

static int
chacha_open(const struct mls_aead_ops *a, const uint8_t *key, const uint8_t *nonce,
            const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out)
{
        size_t pt_len = ct_len - a->tag_len;

        /* The tag is checked (in constant time) before anything is written. */
        if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, ct, pt_len,
                                                               ct + pt_len, aad, aad_len, nonce,
                                                               key) != 0) {
                mls_wipe(out, pt_len);
                return MLS_E_DECRYPT;
        }
        return 0;
}

const struct mls_aead_ops mls_aead_chacha20poly1305 = {
        .name = "ChaCha20-Poly1305", .key_len = 32, .nonce_len = 12, .tag_len = 16,
        .seal = chacha_seal, .open = chacha_open,
};

/* ---- Ed25519 ---- */

static int
ed25519_keygen(const struct mls_sig_ops *g, const struct mls_rng *rng,
               struct mls_secret **ret_priv)
{
        _mls_secret_ struct mls_secret *seed = NULL;

        MLS_TRY(mls_secret_new(g->priv_len, &seed));
        MLS_TRY(mls_rng_fill(rng, seed->data, seed->len));
        *ret_priv = MLS_TAKE(seed);
        return 0;
}

/* The 64-byte libsodium secret key (seed || pk) is a stack temporary,
 * wiped on every return path. */
static void
wipe_ed25519_sk(uint8_t (*p)[crypto_sign_SECRETKEYBYTES])
{
        sodium_memzero(*p, sizeof(*p));
}

static int
ed25519_pub_from_priv(const struct mls_sig_ops *g, const struct mls_secret *priv,
                      struct mls_bytes *ret_pub)
{
        _mls_cleanup_(wipe_ed25519_sk) uint8_t sk[crypto_sign_SECRETKEYBYTES];
        uint8_t pk[crypto_sign_PUBLICKEYBYTES];

        (void)g;
        if (crypto_sign_seed_keypair(pk, sk, priv->data) != 0)
                return MLS_E_CRYPTO;
        return mls_bytes_copy(ret_pub, pk, sizeof(pk));
}

static int
ed25519_sign(const struct mls_sig_ops *g, const struct mls_secret *priv, const uint8_t *msg,
             size_t len, struct mls_bytes *ret_sig)
{
        _mls_cleanup_(wipe_ed25519_sk) uint8_t sk[crypto_sign_SECRETKEYBYTES];
        uint8_t pk[crypto_sign_PUBLICKEYBYTES];
        uint8_t sig[crypto_sign_BYTES];

        (void)g;
        if (crypto_sign_seed_keypair(pk, sk, priv->data) != 0)
                return MLS_E_CRYPTO;
        /* R-5.1.2-2: EdDSA signatures are R || S (RFC 8032), 64 bytes. */
        if (crypto_sign_detached(sig, NULL, msg, len, sk) != 0)
                return MLS_E_CRYPTO;
        return mls_bytes_copy(ret_sig, sig, sizeof(sig));
}

/* The prepared form is libsodium's secret key, seed || public key, made
 * here from the seed (never accepted from outside: a public key that is not
 * the seed's would make two signatures of one message share a nonce). */
static int
ed25519_prepare(const struct mls_sig_ops *g, const struct mls_secret *priv,
                struct mls_secret **ret_prepared)
{
        _mls_cleanup_(wipe_ed25519_sk) uint8_t sk[crypto_sign_SECRETKEYBYTES];
        uint8_t pk[crypto_sign_PUBLICKEYBYTES];

        (void)g;
        if (crypto_sign_seed_keypair(pk, sk, priv->data) != 0)
                return MLS_E_CRYPTO;
        return mls_secret_from(sk, sizeof(sk), ret_prepared);
}

static int
ed25519_sign_prepared(const struct mls_sig_ops *g, const struct mls_secret *prepared,
                      const uint8_t *msg, size_t len, struct mls_bytes *ret_sig)
{
        uint8_t sig[crypto_sign_BYTES];

        (void)g;
        /* R-5.1.2-2: R || S, 64 bytes. */
        if (crypto_sign_detached(sig, NULL, msg, len, prepared->data) != 0)
                return MLS_E_CRYPTO;
        return mls_bytes_copy(ret_sig, sig, sizeof(sig));
}

static int
ed25519_verify(const struct mls_sig_ops *g, const uint8_t *pub, const uint8_t *msg, size_t len,
               const uint8_t *sig, size_t sig_len)
{
        (void)g;
        if (sig_len == crypto_sign_BYTES && crypto_sign_verify_detached(sig, msg, len, pub) == 0)
                return 0;
        /* Only on failure, tell a key that cannot be anybody's (does not
         * decode, is of small order or outside the main subgroup) from a
         * bad signature; the subgroup check costs a scalar multiplication
         * that a valid signature need not pay. libsodium's verify already
         * rejects small-order and non-canonical keys itself. */
        if (crypto_core_ed25519_is_valid_point(pub) != 1)
                return MLS_E_BAD_KEY;
        return MLS_E_BAD_SIGNATURE;
}

const struct mls_sig_ops mls_sig_ed25519 = {
        .name = "Ed25519", .pub_len = 32, .priv_len = 32, .max_sig_len = 64,
        .keygen = ed25519_keygen, .pub_from_priv = ed25519_pub_from_priv,
        .sign = ed25519_sign, .verify = ed25519_verify,
        .prepared_len = crypto_sign_SECRETKEYBYTES, .prepare = ed25519_prepare,
        .sign_prepared = ed25519_sign_prepared,
};

/* ---- X25519 (DHKEM id 0x0020) ---- */

static int
x25519_pub_from_priv(const struct mls_kem_ops *k, const uint8_t *priv, struct mls_bytes *ret_pub)
{
        uint8_t pk[crypto_scalarmult_BYTES];

        (void)k;
        if (crypto_scalarmult_base(pk, priv) != 0)
                return MLS_E_BAD_KEY;
        return mls_bytes_copy(ret_pub, pk, sizeof(pk));
}

static int
x25519_check_pub(const struct mls_kem_ops *k, const uint8_t *pub)
{
        /* RFC 7748 accepts every 32-byte string as a u-coordinate; low-order
         * points are caught by the all-zero check of DH. */
        (void)k;
        (void)pub;
        return 0;
}

static int
x25519_dh(const struct mls_kem_ops *k, const uint8_t *priv, const uint8_t *own_pub,
          const uint8_t *pub, uint8_t *out)
{
        (void)own_pub;
        /* RFC 9180 section 7.1.4 / RFC 7748 section 6.1: reject the
         * all-zero output of a low-order point. libsodium returns -1 then. */
        if (crypto_scalarmult(out, priv, pub) != 0 || mls_crypto_is_zero(out, k->dh_len)) {
                mls_wipe(out, k->dh_len);
                return MLS_E_BAD_KEY;
        }
        return 0;
}

const struct mls_kem_ops mls_kem_x25519 = {
        .name = "DHKEM(X25519, HKDF-SHA256)", .id = 0x0020,
        .pub_len = 32, .priv_len = 32, .dh_len = 32, .secret_len = 32, .bitmask = 0,
        .kdf = &mls_hash_sha256, .priv_check = NULL,
        .pub_from_priv = x25519_pub_from_priv, .check_pub = x25519_check_pub, .dh = x25519_dh,
};
