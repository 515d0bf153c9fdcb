/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9420 labelled helpers (sections 5.1.2, 5.1.3, 5.2, 8, 9). Every
 * labelled structure is encoded with the codec writer.
 */
#include "mls/labeled.h"

#include <string.h>

#include "mls/hpke.h"

/* opaque label<V> = "MLS 1.0 " + Label */
static int
write_prefixed_label(struct mls_writer *w, const uint8_t *label, size_t label_len)
{
        size_t mark;

        MLS_TRY(mls_writer_vec_begin(w, &mark));
        MLS_TRY(mls_writer_raw(w, (const uint8_t *)MLS_LABEL_PREFIX,
                               sizeof(MLS_LABEL_PREFIX) - 1));
        MLS_TRY(mls_writer_raw(w, label, label_len));
        return mls_writer_vec_end(w, mark);
}

/* struct { opaque label<V> = "MLS 1.0 " + Label; opaque x<V>; }: the shape
 * of both SignContent and EncryptContext. */
static int
labeled_pair_build(const uint8_t *label, size_t label_len, const uint8_t *data, size_t data_len,
                   struct mls_bytes *ret)
{
        _mls_writer_ struct mls_writer w = { 0 };

        MLS_TRY(write_prefixed_label(&w, label, label_len));
        MLS_TRY(mls_writer_opaque(&w, data, data_len));
        return mls_writer_finish(&w, ret);
}

/* ---- ExpandWithLabel, DeriveSecret, DeriveTreeSecret ---- */

/* R-8-1: RFC 9420 section 8:
 *   ExpandWithLabel(Secret, Label, Context, Length) =
 *       KDF.Expand(Secret, KDFLabel, Length)
 *   struct {
 *       uint16 length;
 *       opaque label<V>;
 *       opaque context<V>;
 *   } KDFLabel;
 *   And its fields set to: length = Length;
 *   label = "MLS 1.0 " + Label; context = Context */
int
mls_expand_with_label_bytes(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                            const uint8_t *label, size_t label_len, const uint8_t *context,
                            size_t context_len, size_t len, struct mls_secret **ret_out)
{
        _mls_writer_ struct mls_writer w = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes info = { 0 };

        if (!s || (!secret && secret_len) || (!label && label_len) ||
            (!context && context_len))
                return MLS_E_INVALID_ARGUMENT;
        if (len > UINT16_MAX)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_u16(&w, (uint16_t)len));
        MLS_TRY(write_prefixed_label(&w, label, label_len));
        MLS_TRY(mls_writer_opaque(&w, context, context_len));
        MLS_TRY(mls_writer_finish(&w, &info));
        return mls_crypto_hkdf_expand(s, secret, secret_len, info.data, info.len, len, ret_out);
}

int
mls_expand_with_label(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                      const char *label, const uint8_t *context, size_t context_len, size_t len,
                      struct mls_secret **ret_out)
{
        if (!label)
                return MLS_E_INVALID_ARGUMENT;
        return mls_expand_with_label_bytes(s, secret, secret_len, (const uint8_t *)label,
                                           strlen(label), context, context_len, len, ret_out);
}

/* R-8-1: DeriveSecret(Secret, Label) =
 *   ExpandWithLabel(Secret, Label, "", KDF.Nh) */
int
mls_derive_secret_bytes(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                        const uint8_t *label, size_t label_len, struct mls_secret **ret_out)
{
        if (!s)
                return MLS_E_INVALID_ARGUMENT;
        return mls_expand_with_label_bytes(s, secret, secret_len, label, label_len, NULL, 0,
                                           s->hash_len, ret_out);
}

int
mls_derive_secret(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                  const char *label, struct mls_secret **ret_out)
{
        if (!label)
                return MLS_E_INVALID_ARGUMENT;
        return mls_derive_secret_bytes(s, secret, secret_len, (const uint8_t *)label,
                                       strlen(label), ret_out);
}

/* R-9.1-1: RFC 9420 section 9:
 *   DeriveTreeSecret(Secret, Label, Generation, Length) =
 *       ExpandWithLabel(Secret, Label, Generation, Length)
 *   where Generation is encoded as a big-endian uint32. */
int
mls_derive_tree_secret(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                       const char *label, uint32_t generation, size_t len,
                       struct mls_secret **ret_out)
{
        _mls_writer_ struct mls_writer w = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes gen = { 0 };

        MLS_TRY(mls_writer_u32(&w, generation));
        MLS_TRY(mls_writer_finish(&w, &gen));
        return mls_expand_with_label(s, secret, secret_len, label, gen.data, gen.len, len,
                                     ret_out);
}

/* ---- RefHash (section 5.2) ---- */

/* R-5.2-1: RFC 9420 section 5.2:
 *   MakeKeyPackageRef(value) = RefHash("MLS 1.0 KeyPackage Reference", value)
 *   MakeProposalRef(value)   = RefHash("MLS 1.0 Proposal Reference", value)
 *   RefHash(label, value) = Hash(RefHashInput)
 *   struct { opaque label<V>; opaque value<V>; } RefHashInput;
 * The label is hashed exactly as the caller gives it: no prefix here. */
int
mls_ref_hash(const struct mls_suite *s, const char *label, const uint8_t *value,
             size_t value_len, uint8_t *out)
{
        _mls_writer_ struct mls_writer w = { 0 };

        if (!s || !label || !out || (!value && value_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_opaque(&w, (const uint8_t *)label, strlen(label)));
        MLS_TRY(mls_writer_opaque(&w, value, value_len));
        return mls_crypto_hash(s, w.buf, w.len, out);
}

/* R-5.2-2: KeyPackageRef over the encoded KeyPackage, with its own suite. */
int
mls_make_key_package_ref(const struct mls_suite *s, const uint8_t *kp, size_t kp_len,
                         uint8_t *out)
{
        return mls_ref_hash(s, "MLS 1.0 KeyPackage Reference", kp, kp_len, out);
}

/* R-5.2-3: ProposalRef over the AuthenticatedContent of the proposal. */
int
mls_make_proposal_ref(const struct mls_suite *s, const uint8_t *content, size_t content_len,
                      uint8_t *out)
{
        return mls_ref_hash(s, "MLS 1.0 Proposal Reference", content, content_len, out);
}

/* ---- SignWithLabel / VerifyWithLabel (section 5.1.2) ---- */

/* R-5.1.2-3: RFC 9420 section 5.1.2:
 *   SignWithLabel(SignatureKey, Label, Content) =
 *       Signature.Sign(SignatureKey, SignContent)
 *   VerifyWithLabel(VerificationKey, Label, Content, SignatureValue) =
 *       Signature.Verify(VerificationKey, SignContent, SignatureValue)
 *   struct {
 *       opaque label<V>;
 *       opaque content<V>;
 *   } SignContent;
 *   And its fields set to: label = "MLS 1.0 " + Label; content = Content */
int
mls_sign_content_build(const char *label, const uint8_t *content, size_t content_len,
                       struct mls_bytes *ret_tbs)
{
        if (!label || (!content && content_len) || !ret_tbs)
                return MLS_E_INVALID_ARGUMENT;
        return labeled_pair_build((const uint8_t *)label, strlen(label), content, content_len,
                                  ret_tbs);
}

int
mls_sign_with_label(const struct mls_suite *s, const struct mls_secret *priv, const char *label,
                    const uint8_t *content, size_t content_len, struct mls_bytes *ret_sig)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes tbs = { 0 };

        if (!s || !priv)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_sign_content_build(label, content, content_len, &tbs));
        return mls_crypto_sign(s, priv, tbs.data, tbs.len, ret_sig);
}

int
mls_verify_with_label(const struct mls_suite *s, const uint8_t *pub, size_t pub_len,
                      const char *label, const uint8_t *content, size_t content_len,
                      const uint8_t *sig, size_t sig_len)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes tbs = { 0 };

        if (!s)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_sign_content_build(label, content, content_len, &tbs));
        return mls_crypto_verify(s, pub, pub_len, tbs.data, tbs.len, sig, sig_len);
}

/* ---- EncryptWithLabel / DecryptWithLabel (section 5.1.3) ---- */

/* R-5.1.3-1: RFC 9420 section 5.1.3:
 *   EncryptWithLabel(PublicKey, Label, Context, Plaintext) =
 *     SealBase(PublicKey, EncryptContext, "", Plaintext)
 *   DecryptWithLabel(PrivateKey, Label, Context, KEMOutput, Ciphertext) =
 *     OpenBase(KEMOutput, PrivateKey, EncryptContext, "", Ciphertext)
 *   struct {
 *     opaque label<V>;
 *     opaque context<V>;
 *   } EncryptContext;
 *   And its fields set to: label = "MLS 1.0 " + Label; context = Context */
int
mls_encrypt_with_label(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pub,
                       size_t pub_len, const char *label, const uint8_t *context,
                       size_t context_len, const uint8_t *pt, size_t pt_len,
                       struct mls_bytes *ret_kem_output, struct mls_bytes *ret_ct)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes info = { 0 };

        if (!s || !label || (!context && context_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(labeled_pair_build((const uint8_t *)label, strlen(label), context, context_len,
                                   &info));
        return mls_hpke_seal_base(s, rng, pub, pub_len, info.data, info.len, NULL, 0, pt,
                                  pt_len, ret_kem_output, ret_ct);
}

int
mls_encrypt_with_label_prepare(const struct mls_suite *s, const char *label,
                               const uint8_t *context, size_t context_len,
                               struct mls_hpke_info *ret_info)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes info = { 0 };

        if (!s || !label || (!context && context_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(labeled_pair_build((const uint8_t *)label, strlen(label), context, context_len,
                                   &info));
        return mls_hpke_info_prepare(s, info.data, info.len, ret_info);
}

int
mls_encrypt_with_label_prepared(const struct mls_hpke_info *info, const struct mls_rng *rng,
                                const uint8_t *pub, size_t pub_len, const uint8_t *pt,
                                size_t pt_len, struct mls_bytes *ret_kem_output,
                                struct mls_bytes *ret_ct)
{
        return mls_hpke_seal_base_prepared(info, rng, pub, pub_len, NULL, 0, pt, pt_len,
                                           ret_kem_output, ret_ct);
}

int
mls_decrypt_with_label(const struct mls_suite *s, const struct mls_secret *priv,
                       const char *label, const uint8_t *context, size_t context_len,
                       const uint8_t *kem_output, size_t kem_output_len, const uint8_t *ct,
                       size_t ct_len, struct mls_secret **ret_pt)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes info = { 0 };

        if (!s || !label || (!context && context_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(labeled_pair_build((const uint8_t *)label, strlen(label), context, context_len,
                                   &info));
        return mls_hpke_open_base(s, priv, kem_output, kem_output_len, info.data, info.len, NULL,
                                  0, ct, ct_len, ret_pt);
}

int
mls_mac(const struct mls_suite *s, const uint8_t *key, size_t key_len, const uint8_t *data,
        size_t len, uint8_t *out)
{
        return mls_crypto_mac(s, key, key_len, data, len, out);
}
