/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The labelled cryptographic helpers of RFC 9420: ExpandWithLabel,
 * DeriveSecret (section 8), DeriveTreeSecret (section 9), RefHash and the
 * KeyPackage/Proposal references (section 5.2), SignWithLabel /
 * VerifyWithLabel (section 5.1.2), EncryptWithLabel / DecryptWithLabel
 * (section 5.1.3).
 *
 * Secrets are passed in as (pointer, length), e.g. `s->data, s->len` of a
 * struct mls_secret; derived secrets come back as a new struct mls_secret
 * owned by the caller. Labels are NUL-terminated ASCII without the
 * "MLS 1.0 " prefix, which these functions add (except RefHash, whose callers
 * pass the complete label). The _bytes variants take a label of arbitrary
 * bytes (MLS-Exporter labels come from the application).
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_LABELED_H
#define MLS_LABELED_H

#include "mls/common.h"
#include "mls/secret.h"
#include "mls/codec.h"
#include "mls/rng.h"
#include "mls/crypto.h"
#include "mls/hpke.h"

/* "MLS 1.0 " */
#define MLS_LABEL_PREFIX "MLS 1.0 "

/* RFC 9420 section 8:
 *   ExpandWithLabel(Secret, Label, Context, Length) =
 *       KDF.Expand(Secret, KDFLabel, Length)
 *   struct { uint16 length; opaque label<V> = "MLS 1.0 " + Label;
 *            opaque context<V>; } KDFLabel;
 * len must fit in a uint16 (MLS_E_INVALID_ARGUMENT otherwise) and be at most
 * 255 * Nh. */
MLS_MUST_CHECK int mls_expand_with_label(const struct mls_suite *s, const uint8_t *secret,
                                         size_t secret_len, const char *label,
                                         const uint8_t *context, size_t context_len, size_t len,
                                         struct mls_secret **ret_out);
MLS_MUST_CHECK int mls_expand_with_label_bytes(const struct mls_suite *s, const uint8_t *secret,
                                               size_t secret_len, const uint8_t *label,
                                               size_t label_len, const uint8_t *context,
                                               size_t context_len, size_t len,
                                               struct mls_secret **ret_out);

/* DeriveSecret(Secret, Label) = ExpandWithLabel(Secret, Label, "", Nh) */
MLS_MUST_CHECK int mls_derive_secret(const struct mls_suite *s, const uint8_t *secret,
                                     size_t secret_len, const char *label,
                                     struct mls_secret **ret_out);
MLS_MUST_CHECK int mls_derive_secret_bytes(const struct mls_suite *s, const uint8_t *secret,
                                           size_t secret_len, const uint8_t *label,
                                           size_t label_len, struct mls_secret **ret_out);

/* RFC 9420 section 9:
 *   DeriveTreeSecret(Secret, Label, Generation, Length) =
 *       ExpandWithLabel(Secret, Label, Generation, Length)
 * with Generation encoded as a big-endian uint32. */
MLS_MUST_CHECK int mls_derive_tree_secret(const struct mls_suite *s, const uint8_t *secret,
                                          size_t secret_len, const char *label,
                                          uint32_t generation, size_t len,
                                          struct mls_secret **ret_out);

/*
 * The same three writing into caller memory instead of a new struct
 * mls_secret: no guarded allocation (and no heap allocation: KDFLabel is
 * fed to HKDF in pieces). out holds len bytes (DeriveSecret: s->hash_len);
 * it is meant to be a stack buffer of an MLS_MAX_* size wiped on every
 * return path (_mls_hash_buf_, mls/crypto.h), or a slot of a guarded slab
 * that outlives the call. On failure out is wiped (an invalid argument
 * leaves it untouched). Same results and errors as the allocating forms.
 */
MLS_MUST_CHECK int mls_expand_with_label_into(const struct mls_suite *s, const uint8_t *secret,
                                              size_t secret_len, const char *label,
                                              const uint8_t *context, size_t context_len,
                                              uint8_t *out, size_t len);
MLS_MUST_CHECK int mls_expand_with_label_bytes_into(const struct mls_suite *s,
                                                    const uint8_t *secret, size_t secret_len,
                                                    const uint8_t *label, size_t label_len,
                                                    const uint8_t *context,
                                                    size_t context_len, uint8_t *out,
                                                    size_t len);
MLS_MUST_CHECK int mls_derive_secret_into(const struct mls_suite *s, const uint8_t *secret,
                                          size_t secret_len, const char *label, uint8_t *out);
MLS_MUST_CHECK int mls_derive_secret_bytes_into(const struct mls_suite *s,
                                                const uint8_t *secret, size_t secret_len,
                                                const uint8_t *label, size_t label_len,
                                                uint8_t *out);
MLS_MUST_CHECK int mls_derive_tree_secret_into(const struct mls_suite *s, const uint8_t *secret,
                                               size_t secret_len, const char *label,
                                               uint32_t generation, uint8_t *out, size_t len);

/* RFC 9420 section 5.2:
 *   RefHash(label, value) = Hash(RefHashInput)
 *   struct { opaque label<V>; opaque value<V>; } RefHashInput;
 * The label is used exactly as given (no prefix is added). out must hold
 * s->hash_len bytes. */
MLS_MUST_CHECK int mls_ref_hash(const struct mls_suite *s, const char *label,
                                const uint8_t *value, size_t value_len, uint8_t *out);
/* KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage),
 * over the encoded KeyPackage (not its MLSMessage wrapper). */
MLS_MUST_CHECK int mls_make_key_package_ref(const struct mls_suite *s, const uint8_t *kp,
                                            size_t kp_len, uint8_t *out);
/* ProposalRef = RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent). */
MLS_MUST_CHECK int mls_make_proposal_ref(const struct mls_suite *s, const uint8_t *content,
                                         size_t content_len, uint8_t *out);

/* RFC 9420 section 5.1.2:
 *   struct { opaque label<V> = "MLS 1.0 " + Label; opaque content<V>; }
 *   SignContent;
 * Only builds the encoded SignContent (the vault signs this itself). */
MLS_MUST_CHECK int mls_sign_content_build(const char *label, const uint8_t *content,
                                          size_t content_len, struct mls_bytes *ret_tbs);
/* SignWithLabel(SignatureKey, Label, Content) =
 *   Signature.Sign(SignatureKey, SignContent) */
MLS_MUST_CHECK int mls_sign_with_label(const struct mls_suite *s, const struct mls_secret *priv,
                                       const char *label, const uint8_t *content,
                                       size_t content_len, struct mls_bytes *ret_sig);
/* VerifyWithLabel: 0, MLS_E_BAD_SIGNATURE, or MLS_E_BAD_KEY for a malformed
 * public key. */
MLS_MUST_CHECK int mls_verify_with_label(const struct mls_suite *s, const uint8_t *pub,
                                         size_t pub_len, const char *label,
                                         const uint8_t *content, size_t content_len,
                                         const uint8_t *sig, size_t sig_len);

/* RFC 9420 section 5.1.3:
 *   EncryptWithLabel(PublicKey, Label, Context, Plaintext) =
 *       SealBase(PublicKey, EncryptContext, "", Plaintext)
 *   struct { opaque label<V> = "MLS 1.0 " + Label; opaque context<V>; }
 *   EncryptContext;
 * Returns kem_output (Nenc bytes) and ciphertext (pt_len + Nt bytes). */
MLS_MUST_CHECK int mls_encrypt_with_label(const struct mls_suite *s, const struct mls_rng *rng,
                                          const uint8_t *pub, size_t pub_len, const char *label,
                                          const uint8_t *context, size_t context_len,
                                          const uint8_t *pt, size_t pt_len,
                                          struct mls_bytes *ret_kem_output,
                                          struct mls_bytes *ret_ct);
/* EncryptWithLabel to many recipients with one (label, context): the
 * EncryptContext is hashed once by _prepare, and each _prepared call costs
 * one Encap and a short key schedule. Same output as mls_encrypt_with_label. */
MLS_MUST_CHECK int mls_encrypt_with_label_prepare(const struct mls_suite *s, const char *label,
                                                  const uint8_t *context, size_t context_len,
                                                  struct mls_hpke_info *ret_info);
MLS_MUST_CHECK int mls_encrypt_with_label_prepared(const struct mls_hpke_info *info,
                                                   const struct mls_rng *rng, const uint8_t *pub,
                                                   size_t pub_len, const uint8_t *pt,
                                                   size_t pt_len,
                                                   struct mls_bytes *ret_kem_output,
                                                   struct mls_bytes *ret_ct);
/* DecryptWithLabel(PrivateKey, Label, Context, KEMOutput, Ciphertext) =
 *   OpenBase(KEMOutput, PrivateKey, EncryptContext, "", Ciphertext)
 * MLS_E_DECRYPT when the ciphertext does not authenticate (wrong key,
 * label or context), MLS_E_BAD_KEY for a malformed kem_output. */
MLS_MUST_CHECK int mls_decrypt_with_label(const struct mls_suite *s, const struct mls_secret *priv,
                                          const char *label, const uint8_t *context,
                                          size_t context_len, const uint8_t *kem_output,
                                          size_t kem_output_len, const uint8_t *ct, size_t ct_len,
                                          struct mls_secret **ret_pt);

/* MAC(key, data) = HMAC with the suite hash (RFC 9420 section 5.1);
 * out holds s->hash_len bytes. Same as mls_crypto_mac. */
MLS_MUST_CHECK int mls_mac(const struct mls_suite *s, const uint8_t *key, size_t key_len,
                           const uint8_t *data, size_t len, uint8_t *out);

#endif
