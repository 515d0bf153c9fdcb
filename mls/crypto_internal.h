/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface of the crypto module: the per-primitive function tables
 * that struct mls_suite points to, and the HKDF / RFC 9180 labelled KDF
 * helpers that mls/crypto.c, mls/hpke.c and the tests share. Not for code
 * outside mls/crypto*.c, mls/hpke.c, mls/labeled.c and their unit tests.
 *
 * Every table is a const object (no mutable state). Each function gets its
 * own table as first argument, so one implementation can serve several
 * curves or hashes through the table's `impl` pointer.
 */
#ifndef MLS_CRYPTO_INTERNAL_H
#define MLS_CRYPTO_INTERNAL_H

#include "mls/crypto.h"

/* A piece of a message handed to a MAC in several parts, so that secret
 * material never has to be concatenated into a temporary buffer. */
struct mls_iov {
        const uint8_t *p;
        size_t len;
};

struct mls_hash_ops {
        const char *name;        /* "SHA-256" */
        size_t len;              /* Nh */
        /* out: len bytes. */
        int (*hash)(const struct mls_hash_ops *h, const uint8_t *in, size_t in_len,
                    uint8_t *out);
        /* HMAC(key, iov[0] || ... || iov[n-1]); out: len bytes. */
        int (*hmac)(const struct mls_hash_ops *h, const uint8_t *key, size_t key_len,
                    const struct mls_iov *iov, size_t n, uint8_t *out);
        const void *impl;
};

struct mls_aead_ops {
        const char *name;
        size_t key_len;          /* Nk */
        size_t nonce_len;        /* Nn */
        size_t tag_len;          /* Nt */
        /* out: pt_len + tag_len bytes (ciphertext || tag). */
        int (*seal)(const struct mls_aead_ops *a, const uint8_t *key, const uint8_t *nonce,
                    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                    uint8_t *out);
        /* out: ct_len - tag_len bytes; MLS_E_DECRYPT (out wiped) on failure.
         * The caller has checked ct_len >= tag_len. */
        int (*open)(const struct mls_aead_ops *a, const uint8_t *key, const uint8_t *nonce,
                    const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                    uint8_t *out);
        const void *impl;
};

struct mls_sig_ops {
        const char *name;
        size_t pub_len;
        size_t priv_len;
        size_t max_sig_len;
        /* A fresh private key (seed or scalar) from rng. */
        int (*keygen)(const struct mls_sig_ops *g, const struct mls_rng *rng,
                      struct mls_secret **ret_priv);
        /* The caller has checked priv->len == priv_len. */
        int (*pub_from_priv)(const struct mls_sig_ops *g, const struct mls_secret *priv,
                             struct mls_bytes *ret_pub);
        int (*sign)(const struct mls_sig_ops *g, const struct mls_secret *priv,
                    const uint8_t *msg, size_t len, struct mls_bytes *ret_sig);
        /* Optional (NULL: the prepared form is a copy of priv, signed by
         * sign): the form of a long-lived key that signs without redoing
         * per signature what depends only on the key, prepared_len bytes
         * (mls_crypto_sig_prepare). The caller has checked the lengths. */
        size_t prepared_len;
        int (*prepare)(const struct mls_sig_ops *g, const struct mls_secret *priv,
                       struct mls_secret **ret_prepared);
        int (*sign_prepared)(const struct mls_sig_ops *g, const struct mls_secret *prepared,
                             const uint8_t *msg, size_t len, struct mls_bytes *ret_sig);
        /* The caller has checked pub_len; returns 0, MLS_E_BAD_KEY or
         * MLS_E_BAD_SIGNATURE. */
        int (*verify)(const struct mls_sig_ops *g, const uint8_t *pub, const uint8_t *msg,
                      size_t len, const uint8_t *sig, size_t sig_len);
        const void *impl;
};

struct mls_kem_ops {
        const char *name;
        uint16_t id;             /* RFC 9180 KEM id */
        size_t pub_len;          /* Npk = Nenc */
        size_t priv_len;         /* Nsk */
        size_t dh_len;           /* Ndh */
        size_t secret_len;       /* Nsecret */
        /* RFC 9180 section 7.1.3: 0 for X25519/X448 (sk used as-is), else the
         * mask applied to the first byte of each candidate. */
        uint8_t bitmask;
        const struct mls_hash_ops *kdf;   /* the KEM's own KDF */
        /* NIST curves: 0 if the big-endian scalar is in [1, n-1], else
         * MLS_E_BAD_KEY. NULL for X25519/X448. */
        int (*priv_check)(const struct mls_kem_ops *k, const uint8_t *sk);
        /* priv: priv_len raw bytes (a guarded struct mls_secret's data or a
         * wiped stack buffer; the caller has checked the length). */
        int (*pub_from_priv)(const struct mls_kem_ops *k, const uint8_t *priv,
                             struct mls_bytes *ret_pub);
        /* The caller has checked pub_len. 0 or MLS_E_BAD_KEY. */
        int (*check_pub)(const struct mls_kem_ops *k, const uint8_t *pub);
        /* out: dh_len bytes (caller memory, wiped on failure); MLS_E_BAD_KEY
         * for an invalid pub or an all-zero result. priv: priv_len bytes.
         * own_pub: NULL, or the public key of priv (pub_from_priv's
         * output) when the caller has it: an implementation that would
         * otherwise recompute it (X448 through EVP) uses it instead. The
         * caller has checked all lengths. */
        int (*dh)(const struct mls_kem_ops *k, const uint8_t *priv, const uint8_t *own_pub,
                  const uint8_t *pub, uint8_t *out);
        const void *impl;
};

struct mls_suite_ops {
        const struct mls_hash_ops *hash;  /* hash, MAC and KDF of the suite */
        const struct mls_aead_ops *aead;
        const struct mls_sig_ops *sig;
        const struct mls_kem_ops *kem;
};

/* Primitive tables: mls/crypto_sodium.c */
extern const struct mls_hash_ops mls_hash_sha256;
extern const struct mls_hash_ops mls_hash_sha512;
extern const struct mls_aead_ops mls_aead_chacha20poly1305;
extern const struct mls_sig_ops mls_sig_ed25519;
extern const struct mls_kem_ops mls_kem_x25519;
/* Primitive tables: mls/crypto_ossl.c */
extern const struct mls_hash_ops mls_hash_sha384;
extern const struct mls_aead_ops mls_aead_aes128gcm;
extern const struct mls_aead_ops mls_aead_aes256gcm;
extern const struct mls_sig_ops mls_sig_ecdsa_p256;
extern const struct mls_sig_ops mls_sig_ecdsa_p384;
extern const struct mls_sig_ops mls_sig_ecdsa_p521;
extern const struct mls_sig_ops mls_sig_ed448;
extern const struct mls_kem_ops mls_kem_p256;
extern const struct mls_kem_ops mls_kem_p384;
extern const struct mls_kem_ops mls_kem_p521;
extern const struct mls_kem_ops mls_kem_x448;

/* ---- HKDF over a hash table (RFC 5869), iov-based ----
 *
 * These write into caller buffers so that intermediate keys can stay in
 * (wiped) stack temporaries instead of one guarded allocation each; the
 * public functions of mls/crypto.h wrap them into struct mls_secret. On
 * failure the output buffer is wiped. */

/* out[0..h->len) = HMAC(salt, ikm[0] || ... ); an empty salt means
 * HashLen zeros. */
MLS_MUST_CHECK int mls_hkdf_extract_v(const struct mls_hash_ops *h, const uint8_t *salt,
                                      size_t salt_len, const struct mls_iov *ikm, size_t n,
                                      uint8_t *out);
/* out[0..len) = T(1) || T(2) || ... truncated to len; info in pieces
 * (at most 8); len <= 255 * h->len (MLS_E_INVALID_ARGUMENT otherwise). */
MLS_MUST_CHECK int mls_hkdf_expand_v(const struct mls_hash_ops *h, const uint8_t *prk,
                                     size_t prk_len, const struct mls_iov *info, size_t n,
                                     uint8_t *out, size_t len);

/* ---- RFC 9180 section 4 LabeledExtract / LabeledExpand ---- */

/* suite_id is "KEM" || I2OSP(kem_id, 2) or
 * "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2). */
#define MLS_HPKE_SUITE_ID_MAX 10

/* Fills buf (at least 5 bytes) and returns the length (5). */
size_t mls_hpke_kem_suite_id(uint16_t kem_id, uint8_t *buf);
/* Fills buf (at least 10 bytes) and returns the length (10). */
size_t mls_hpke_full_suite_id(const struct mls_suite *s, uint8_t *buf);

/* LabeledExtract(salt, label, ikm) =
 *   Extract(salt, "HPKE-v1" || suite_id || label || ikm); out: h->len. */
MLS_MUST_CHECK int mls_hpke_labeled_extract(const struct mls_hash_ops *h, const uint8_t *suite_id,
                                            size_t suite_id_len, const uint8_t *salt,
                                            size_t salt_len, const char *label,
                                            const uint8_t *ikm, size_t ikm_len, uint8_t *out);
/* LabeledExpand(prk, label, info, L) =
 *   Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L);
 * out: len bytes, len <= 65535. */
MLS_MUST_CHECK int mls_hpke_labeled_expand(const struct mls_hash_ops *h, const uint8_t *suite_id,
                                           size_t suite_id_len, const uint8_t *prk,
                                           size_t prk_len, const char *label,
                                           const uint8_t *info, size_t info_len, uint8_t *out,
                                           size_t len);

/* ---- HPKE test hook (mls/hpke.c) ---- */

struct mls_hpke_ctx;
/* Sets the sequence number, so tests can reach the message limit. */
void mls_hpke_ctx_set_seq(struct mls_hpke_ctx *ctx, uint64_t seq);

/* ---- DeriveKeyPair into caller memory (mls/crypto.c) ---- */

/* RFC 9180 section 7.1.3 DeriveKeyPair, private half: out gets
 * k->priv_len bytes (wiped on failure). */
MLS_MUST_CHECK int mls_kem_derive_priv(const struct mls_kem_ops *k, const uint8_t *ikm,
                                       size_t ikm_len, uint8_t *out);

/* mls_crypto_dh_into with the public key of priv supplied (own_pub,
 * kem_pub_len bytes, exactly pk(priv): HPKE has it at hand), which spares
 * X448 a second scalar multiplication. pub is validated as by
 * mls_crypto_kem_check_pub (DeserializePublicKey): MLS_E_BAD_KEY. */
MLS_MUST_CHECK int mls_kem_dh_known_pub(const struct mls_suite *s, const uint8_t *priv,
                                        const uint8_t *own_pub, const uint8_t *pub,
                                        size_t pub_len, uint8_t *out, size_t *ret_len);

/* Wiped stack buffers of the sizes used inside the crypto module. */

static inline void
mls_kem_dh_buf_wipe(uint8_t (*p)[MLS_MAX_KEM_DH_LEN])
{
        mls_wipe(*p, sizeof(*p));
}
#define _mls_kem_dh_buf_ _mls_cleanup_(mls_kem_dh_buf_wipe)

/* ---- shared helpers of the primitive files ---- */

/* True when p[0..len) is all zero (constant time). */
bool mls_crypto_is_zero(const uint8_t *p, size_t len);

#endif
