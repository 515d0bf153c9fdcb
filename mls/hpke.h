/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPKE (RFC 9180), base mode only, over the suite table of mls/crypto.h:
 * DHKEM with the suite's KEM, HKDF with the suite's hash, the suite's AEAD.
 * The HPKE suite_id is "HPKE" || kem_id || kdf_id || aead_id of the suite.
 *
 * A context (struct mls_hpke_ctx) holds key, base_nonce and exporter_secret
 * in guarded memory and the sequence number; it is owned by the caller and
 * freed with mls_hpke_ctx_free (NULL-tolerant). Seal and Open advance the
 * sequence number only on success.
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success. MLS_E_BAD_KEY: malformed public key / enc or an all-zero
 * DH result; MLS_E_DECRYPT: the ciphertext does not authenticate;
 * MLS_E_TOO_LARGE: the sequence number is exhausted.
 */
#ifndef MLS_HPKE_H
#define MLS_HPKE_H

#include "mls/common.h"
#include "mls/secret.h"
#include "mls/codec.h"
#include "mls/rng.h"
#include "mls/crypto.h"

struct mls_hpke_ctx;

void mls_hpke_ctx_free(struct mls_hpke_ctx *ctx);
void mls_hpke_ctx_freep(struct mls_hpke_ctx **ctx);
#define _mls_hpke_ctx_ _mls_cleanup_(mls_hpke_ctx_freep)

/* ---- DHKEM (RFC 9180 section 4.1) ---- */

/* Encap(pkR) with the ephemeral key pair DeriveKeyPair(ikm_e): the
 * deterministic form used by the RFC 9180 test vectors and by
 * mls_hpke_encap. ret_enc: Nenc bytes; ret_shared_secret: Nsecret bytes. */
MLS_MUST_CHECK int mls_hpke_encap_derand(const struct mls_suite *s, const uint8_t *ikm_e,
                                         size_t ikm_e_len, const uint8_t *pk_r, size_t pk_r_len,
                                         struct mls_secret **ret_shared_secret,
                                         struct mls_bytes *ret_enc);
/* Encap(pkR) with an ephemeral key from rng (GenerateKeyPair). */
MLS_MUST_CHECK int mls_hpke_encap(const struct mls_suite *s, const struct mls_rng *rng,
                                  const uint8_t *pk_r, size_t pk_r_len,
                                  struct mls_secret **ret_shared_secret,
                                  struct mls_bytes *ret_enc);
/* Decap(enc, skR). */
MLS_MUST_CHECK int mls_hpke_decap(const struct mls_suite *s, const struct mls_secret *sk_r,
                                  const uint8_t *enc, size_t enc_len,
                                  struct mls_secret **ret_shared_secret);

/* Encap and Decap writing shared_secret into caller memory (Nsecret bytes;
 * MLS_MAX_KEM_SECRET_LEN always suffices) instead of a new struct
 * mls_secret: no guarded allocation. shared_out is wiped on failure. */
MLS_MUST_CHECK int mls_hpke_encap_into(const struct mls_suite *s, const struct mls_rng *rng,
                                       const uint8_t *pk_r, size_t pk_r_len,
                                       uint8_t *shared_out, struct mls_bytes *ret_enc);
MLS_MUST_CHECK int mls_hpke_decap_into(const struct mls_suite *s, const struct mls_secret *sk_r,
                                       const uint8_t *enc, size_t enc_len,
                                       uint8_t *shared_out);

/* ---- key schedule and contexts (RFC 9180 sections 5.1, 5.2, 5.3) ---- */

/*
 * The public part of the mode_base key schedule, computed once for an info
 * string: key_schedule_context = mode || psk_id_hash || info_hash. Sealing
 * to many recipients with one (large) info hashes it once instead of once
 * per recipient (a Welcome to thousands of new members).
 */
struct mls_hpke_info {
        const struct mls_suite *suite;
        uint8_t ksc[1 + 2 * MLS_MAX_HASH_LEN];
        size_t ksc_len;
};
MLS_MUST_CHECK int mls_hpke_info_prepare(const struct mls_suite *s, const uint8_t *info,
                                         size_t info_len, struct mls_hpke_info *ret_info);
/* KeySchedule for mode_base from a prepared info. */
MLS_MUST_CHECK int mls_hpke_key_schedule_base_prepared(const struct mls_hpke_info *info,
                                                       const struct mls_secret *shared_secret,
                                                       struct mls_hpke_ctx **ret_ctx);
/* SealBase(pkR, info, aad, pt) with a prepared info. */
MLS_MUST_CHECK int mls_hpke_seal_base_prepared(const struct mls_hpke_info *info,
                                               const struct mls_rng *rng, const uint8_t *pk_r,
                                               size_t pk_r_len, const uint8_t *aad,
                                               size_t aad_len, const uint8_t *pt, size_t pt_len,
                                               struct mls_bytes *ret_enc,
                                               struct mls_bytes *ret_ct);

/* KeyScheduleS/R for mode_base (empty psk and psk_id). */
MLS_MUST_CHECK int mls_hpke_key_schedule_base(const struct mls_suite *s,
                                              const struct mls_secret *shared_secret,
                                              const uint8_t *info, size_t info_len,
                                              struct mls_hpke_ctx **ret_ctx);

/* SetupBaseS(pkR, info): ret_enc gets Nenc bytes. */
MLS_MUST_CHECK int mls_hpke_setup_base_s(const struct mls_suite *s, const struct mls_rng *rng,
                                         const uint8_t *pk_r, size_t pk_r_len,
                                         const uint8_t *info, size_t info_len,
                                         struct mls_bytes *ret_enc,
                                         struct mls_hpke_ctx **ret_ctx);
/* SetupBaseS with the ephemeral key DeriveKeyPair(ikm_e) (test vectors). */
MLS_MUST_CHECK int mls_hpke_setup_base_s_derand(const struct mls_suite *s, const uint8_t *ikm_e,
                                                size_t ikm_e_len, const uint8_t *pk_r,
                                                size_t pk_r_len, const uint8_t *info,
                                                size_t info_len, struct mls_bytes *ret_enc,
                                                struct mls_hpke_ctx **ret_ctx);
/* SetupBaseR(enc, skR, info). */
MLS_MUST_CHECK int mls_hpke_setup_base_r(const struct mls_suite *s,
                                         const struct mls_secret *sk_r, const uint8_t *enc,
                                         size_t enc_len, const uint8_t *info, size_t info_len,
                                         struct mls_hpke_ctx **ret_ctx);

/* ContextS.Seal(aad, pt): ret_ct gets pt_len + Nt bytes. */
MLS_MUST_CHECK int mls_hpke_seal(struct mls_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                                 const uint8_t *pt, size_t pt_len, struct mls_bytes *ret_ct);
/* ContextR.Open(aad, ct): the plaintext in guarded memory. */
MLS_MUST_CHECK int mls_hpke_open(struct mls_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
                                 const uint8_t *ct, size_t ct_len, struct mls_secret **ret_pt);
/* Context.Export(exporter_context, L) = LabeledExpand(exporter_secret,
 * "sec", exporter_context, L); L <= 255 * Nh. */
MLS_MUST_CHECK int mls_hpke_export(const struct mls_hpke_ctx *ctx, const uint8_t *exp_ctx,
                                   size_t exp_ctx_len, size_t len, struct mls_secret **ret_out);

/* Export into caller memory (len bytes, wiped on failure): no guarded
 * allocation. */
MLS_MUST_CHECK int mls_hpke_export_into(const struct mls_hpke_ctx *ctx, const uint8_t *exp_ctx,
                                        size_t exp_ctx_len, uint8_t *out, size_t len);

/* ---- single shot (RFC 9180 section 6.1) ----
 * These keep no context: key schedule outputs stay in wiped stack buffers.
 * A seal allocates no guarded memory, an open exactly one buffer (the
 * plaintext it returns). */

/* SealBase(pkR, info, aad, pt) -> (enc, ct). */
MLS_MUST_CHECK int mls_hpke_seal_base(const struct mls_suite *s, const struct mls_rng *rng,
                                      const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                                      size_t info_len, const uint8_t *aad, size_t aad_len,
                                      const uint8_t *pt, size_t pt_len, struct mls_bytes *ret_enc,
                                      struct mls_bytes *ret_ct);
/* OpenBase(enc, skR, info, aad, ct) -> pt (guarded memory). */
MLS_MUST_CHECK int mls_hpke_open_base(const struct mls_suite *s, const struct mls_secret *sk_r,
                                      const uint8_t *enc, size_t enc_len, const uint8_t *info,
                                      size_t info_len, const uint8_t *aad, size_t aad_len,
                                      const uint8_t *ct, size_t ct_len,
                                      struct mls_secret **ret_pt);

/* ---- inspection (test vectors) ---- */

/* Views into the context's guarded memory; valid until the context is freed. */
const uint8_t *mls_hpke_ctx_key(const struct mls_hpke_ctx *ctx, size_t *ret_len);
const uint8_t *mls_hpke_ctx_base_nonce(const struct mls_hpke_ctx *ctx, size_t *ret_len);
const uint8_t *mls_hpke_ctx_exporter_secret(const struct mls_hpke_ctx *ctx, size_t *ret_len);
uint64_t mls_hpke_ctx_seq(const struct mls_hpke_ctx *ctx);

#endif
