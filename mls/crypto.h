/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cipher suites (RFC 9420 section 5.1, 17.1): one table per suite, selected
 * by id. Code above this file never branches on the suite: it reads sizes
 * from struct mls_suite and calls these functions.
 *
 *   1 X25519 / AES-128-GCM / SHA-256 / Ed25519
 *   2 P-256  / AES-128-GCM / SHA-256 / ECDSA P-256
 *   3 X25519 / ChaCha20-Poly1305 / SHA-256 / Ed25519
 *   4 X448   / AES-256-GCM / SHA-512 / Ed448
 *   5 P-521  / AES-256-GCM / SHA-512 / ECDSA P-521
 *   6 X448   / ChaCha20-Poly1305 / SHA-512 / Ed448
 *   7 P-384  / AES-256-GCM / SHA-384 / ECDSA P-384
 *
 * libsodium: X25519, Ed25519, ChaCha20-Poly1305, SHA-256/512, HMAC-SHA256/512.
 * OpenSSL libcrypto (EVP): AES-GCM, P-256/384/521 ECDH + ECDSA (DER
 * signatures), X448, Ed448, SHA-384, HMAC-SHA384.
 *
 * Key encodings (as RFC 9180 SerializePublicKey/SerializePrivateKey and the
 * MLS vectors use them): X25519/X448 raw; NIST KEM public keys uncompressed
 * (0x04||X||Y), private keys big-endian scalars of Nsk bytes; Ed25519/Ed448
 * private keys are the 32/57-byte seeds; ECDSA private keys are big-endian
 * scalars, public keys uncompressed points.
 *
 * Private keys and every derived secret are struct mls_secret (guarded
 * memory). All functions return 0 or a negative MLS_E_*; ret_ parameters
 * are written only on success.
 */
#ifndef MLS_CRYPTO_H
#define MLS_CRYPTO_H

#include "mls/common.h"
#include "mls/secret.h"
#include "mls/codec.h"
#include "mls/rng.h"

/* Largest sizes over all suites, for stack buffers. */
#define MLS_MAX_HASH_LEN 64
#define MLS_MAX_AEAD_KEY_LEN 32
#define MLS_MAX_AEAD_NONCE_LEN 12
#define MLS_MAX_AEAD_TAG_LEN 16
#define MLS_MAX_KEM_PUB_LEN 133
#define MLS_MAX_KEM_PRIV_LEN 66
#define MLS_MAX_KEM_ENC_LEN 133
#define MLS_MAX_KEM_SECRET_LEN 64
#define MLS_MAX_SIG_PUB_LEN 133
#define MLS_MAX_SIG_LEN 139 /* DER ECDSA P-521 */
#define MLS_MAX_KEM_DH_LEN 66 /* Ndh: P-521 x-coordinate */

enum mls_suite_id {
        MLS_SUITE_X25519_AES128GCM_SHA256_ED25519 = 1,
        MLS_SUITE_P256_AES128GCM_SHA256_P256 = 2,
        MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519 = 3,
        MLS_SUITE_X448_AES256GCM_SHA512_ED448 = 4,
        MLS_SUITE_P521_AES256GCM_SHA512_P521 = 5,
        MLS_SUITE_X448_CHACHA20POLY1305_SHA512_ED448 = 6,
        MLS_SUITE_P384_AES256GCM_SHA384_P384 = 7,
};

struct mls_suite_ops; /* internal: the function table */

struct mls_suite {
        uint16_t id;
        const char *name;        /* "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" */
        /* RFC 9180 identifiers */
        uint16_t kem_id;
        uint16_t kdf_id;
        uint16_t aead_id;
        /* sizes */
        size_t hash_len;         /* Nh (also the KDF output size) */
        size_t aead_key_len;     /* Nk */
        size_t aead_nonce_len;   /* Nn */
        size_t aead_tag_len;     /* Nt */
        size_t kem_pub_len;      /* Npk */
        size_t kem_priv_len;     /* Nsk */
        size_t kem_enc_len;      /* Nenc */
        size_t kem_secret_len;   /* Nsecret */
        size_t sig_pub_len;
        size_t sig_priv_len;
        size_t sig_max_len;      /* EdDSA: exact; ECDSA: DER maximum */
        const struct mls_suite_ops *ops;
};

/* The suite table entry for id, or NULL if it is not one of the seven. */
const struct mls_suite *mls_suite_get(uint16_t id);
/* The supported ids in ascending order; *ret_n gets the count. */
const uint16_t *mls_suite_ids(size_t *ret_n);

/* Runs every primitive of every suite once on fixed inputs (hash, HMAC,
 * AEAD seal/open, DeriveKeyPair, DH, keygen, sign, verify) and checks the
 * results agree. OpenSSL loads its configuration and fetches algorithm
 * implementations on first use; calling this once before a process enters
 * its seccomp sandbox keeps that file access out of the sandbox. Returns 0,
 * or the first error (MLS_E_CRYPTO if a result is inconsistent). */
MLS_MUST_CHECK int mls_crypto_preload(void);

/* ---- hash, MAC, KDF ---- */

/* out must hold suite->hash_len bytes. */
MLS_MUST_CHECK int mls_crypto_hash(const struct mls_suite *s, const uint8_t *in, size_t len,
                                   uint8_t *out);
/* HMAC with the suite's hash; out holds hash_len bytes. */
MLS_MUST_CHECK int mls_crypto_mac(const struct mls_suite *s, const uint8_t *key, size_t key_len,
                                  const uint8_t *data, size_t len, uint8_t *out);
/* Computes the MAC over data and compares it with tag in constant time:
 * 0 when they match, else the caller's error `bad` (for instance
 * MLS_E_BAD_MEMBERSHIP_TAG or MLS_E_BAD_CONFIRMATION_TAG). */
MLS_MUST_CHECK int mls_crypto_mac_verify(const struct mls_suite *s, const uint8_t *key,
                                         size_t key_len, const uint8_t *data, size_t len,
                                         const uint8_t *tag, size_t tag_len, int bad);
/* HKDF-Extract(salt, ikm) = HMAC(salt, ikm); salt may be empty. */
MLS_MUST_CHECK int mls_crypto_hkdf_extract(const struct mls_suite *s, const uint8_t *salt,
                                           size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                           struct mls_secret **ret_prk);
/* HKDF-Expand(prk, info, L); L <= 255 * hash_len. */
MLS_MUST_CHECK int mls_crypto_hkdf_expand(const struct mls_suite *s, const uint8_t *prk,
                                          size_t prk_len, const uint8_t *info, size_t info_len,
                                          size_t len, struct mls_secret **ret_okm);

/*
 * The same two, writing into caller memory instead of a new struct
 * mls_secret: no guarded allocation. Meant for stack buffers of the
 * MLS_MAX_* sizes that the caller wipes on every return path (see
 * _mls_hash_buf_ below). On failure out is wiped (an invalid argument,
 * such as len > 255 * hash_len, leaves it untouched). extract: out holds
 * hash_len bytes; expand: len bytes.
 */
MLS_MUST_CHECK int mls_crypto_hkdf_extract_into(const struct mls_suite *s, const uint8_t *salt,
                                                size_t salt_len, const uint8_t *ikm,
                                                size_t ikm_len, uint8_t *out);
MLS_MUST_CHECK int mls_crypto_hkdf_expand_into(const struct mls_suite *s, const uint8_t *prk,
                                               size_t prk_len, const uint8_t *info,
                                               size_t info_len, uint8_t *out, size_t len);

/* Stack buffers for transient secrets, wiped when they go out of scope:
 *   _mls_hash_buf_ uint8_t prk[MLS_MAX_HASH_LEN]; */
static inline void
mls_hash_buf_wipe(uint8_t (*p)[MLS_MAX_HASH_LEN])
{
        mls_wipe(*p, sizeof(*p));
}
#define _mls_hash_buf_ _mls_cleanup_(mls_hash_buf_wipe)
/* The same for one KEM private key (HPKE, TreeKEM path chains). */
static inline void
mls_kem_priv_buf_wipe(uint8_t (*p)[MLS_MAX_KEM_PRIV_LEN])
{
        mls_wipe(*p, sizeof(*p));
}
#define _mls_kem_priv_buf_ _mls_cleanup_(mls_kem_priv_buf_wipe)

/* ---- AEAD ---- */

/* out must hold pt_len + aead_tag_len bytes. key: aead_key_len bytes,
 * nonce: aead_nonce_len bytes. */
MLS_MUST_CHECK int mls_crypto_aead_seal(const struct mls_suite *s, const uint8_t *key,
                                        const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                                        const uint8_t *pt, size_t pt_len, uint8_t *out);
/* out must hold ct_len - aead_tag_len bytes; MLS_E_DECRYPT on a bad tag
 * (out is then wiped). */
MLS_MUST_CHECK int mls_crypto_aead_open(const struct mls_suite *s, const uint8_t *key,
                                        const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                                        const uint8_t *ct, size_t ct_len, uint8_t *out);

/* AEAD key and nonce of the largest suite, as one stack object wiped when
 * it goes out of scope (_mls_aead_buf_). */
struct mls_aead_buf {
        uint8_t key[MLS_MAX_AEAD_KEY_LEN];
        uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
};
static inline void
mls_aead_buf_wipe(struct mls_aead_buf *p)
{
        mls_wipe(p, sizeof(*p));
}
#define _mls_aead_buf_ _mls_cleanup_(mls_aead_buf_wipe)

/* ---- signatures ---- */

MLS_MUST_CHECK int mls_crypto_sig_keygen(const struct mls_suite *s, const struct mls_rng *rng,
                                         struct mls_secret **ret_priv, struct mls_bytes *ret_pub);
MLS_MUST_CHECK int mls_crypto_sig_pub_from_priv(const struct mls_suite *s,
                                                const struct mls_secret *priv,
                                                struct mls_bytes *ret_pub);
/* Signs msg as the suite's scheme does (Ed25519/Ed448 pure; ECDSA over the
 * suite hash, DER-encoded). */
MLS_MUST_CHECK int mls_crypto_sign(const struct mls_suite *s, const struct mls_secret *priv,
                                   const uint8_t *msg, size_t len, struct mls_bytes *ret_sig);
/* A long-lived signature key (the vault's) prepared once for many
 * signatures: Ed25519 keeps seed || public key, so a signature costs one
 * scalar multiplication instead of two (RFC 8032 section 5.1.5 derives the
 * public key from the seed; 5.1.6 signs with both); other schemes keep a
 * copy of priv. The result is a guarded secret; it signs only through
 * mls_crypto_sign_prepared, with signatures identical to mls_crypto_sign's
 * (both schemes of Ed are deterministic). */
MLS_MUST_CHECK int mls_crypto_sig_prepare(const struct mls_suite *s, const struct mls_secret *priv,
                                          struct mls_secret **ret_prepared);
MLS_MUST_CHECK int mls_crypto_sign_prepared(const struct mls_suite *s,
                                            const struct mls_secret *prepared, const uint8_t *msg,
                                            size_t len, struct mls_bytes *ret_sig);
/* 0 or MLS_E_BAD_SIGNATURE (MLS_E_BAD_KEY for a malformed public key). */
MLS_MUST_CHECK int mls_crypto_verify(const struct mls_suite *s, const uint8_t *pub,
                                     size_t pub_len, const uint8_t *msg, size_t len,
                                     const uint8_t *sig, size_t sig_len);

/* ---- KEM (RFC 9180 DHKEM) ---- */

/* RFC 9180 section 7.1.3 DeriveKeyPair(ikm), including the rejection
 * sampling of the NIST curves. ret_pub gets kem_pub_len bytes. */
MLS_MUST_CHECK int mls_crypto_kem_derive_keypair(const struct mls_suite *s, const uint8_t *ikm,
                                                 size_t ikm_len, struct mls_secret **ret_priv,
                                                 struct mls_bytes *ret_pub);
/* DeriveKeyPair writing the private key into caller memory: priv_out holds
 * kem_priv_len bytes (MLS_MAX_KEM_PRIV_LEN always suffices) and is wiped on
 * failure. No guarded allocation (the caller keeps priv_out in a wiped
 * stack buffer, e.g. an ephemeral HPKE key). */
MLS_MUST_CHECK int mls_crypto_kem_derive_keypair_into(const struct mls_suite *s,
                                                      const uint8_t *ikm, size_t ikm_len,
                                                      uint8_t *priv_out,
                                                      struct mls_bytes *ret_pub);
/* GenerateKeyPair: DeriveKeyPair over Nsk random bytes from rng. */
MLS_MUST_CHECK int mls_crypto_kem_generate(const struct mls_suite *s, const struct mls_rng *rng,
                                           struct mls_secret **ret_priv, struct mls_bytes *ret_pub);
MLS_MUST_CHECK int mls_crypto_kem_pub_from_priv(const struct mls_suite *s,
                                                const struct mls_secret *priv,
                                                struct mls_bytes *ret_pub);
/* Checks that pub is a valid KEM public key for the suite (on the curve,
 * right length); 0 or MLS_E_BAD_KEY. */
MLS_MUST_CHECK int mls_crypto_kem_check_pub(const struct mls_suite *s, const uint8_t *pub,
                                            size_t pub_len);
/* Raw DH(sk, pk): the shared point's x-coordinate / X25519/X448 output,
 * kem "Ndh" bytes; MLS_E_BAD_KEY for an invalid pk or an all-zero result. */
MLS_MUST_CHECK int mls_crypto_dh(const struct mls_suite *s, const struct mls_secret *priv,
                                 const uint8_t *pub, size_t pub_len,
                                 struct mls_secret **ret_shared);
/* The same into caller memory: priv is priv_len (= kem_priv_len) raw bytes,
 * out holds MLS_MAX_KEM_DH_LEN bytes and gets Ndh of them (*ret_len); out
 * is wiped on failure. No guarded allocation. */
MLS_MUST_CHECK int mls_crypto_dh_into(const struct mls_suite *s, const uint8_t *priv,
                                      size_t priv_len, const uint8_t *pub, size_t pub_len,
                                      uint8_t *out, size_t *ret_len);

#endif
