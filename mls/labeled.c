/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9420 labelled helpers (sections 5.1.2, 5.1.3, 5.2, 8, 9). Every
 * labelled structure is encoded with the codec writer, except KDFLabel,
 * which HKDF-Expand reads in pieces (see mls_expand_with_label_bytes_into).
 */
#include "mls/labeled.h"

#include <string.h>

#include "mls/crypto_internal.h"
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

/* RFC 9420 section 2.1.2 variable-length integer (minimal encoding) into
 * p[0..4); returns its size, 0 above 2^30 - 1. */
static size_t
varint_put(uint8_t *p, size_t v)
{
        size_t n = mls_varint_size(v);

        switch (n) {
        case 1:
                p[0] = (uint8_t)v;
                break;
        case 2:
                p[0] = (uint8_t)(0x40 | (v >> 8));
                p[1] = (uint8_t)v;
                break;
        case 4:
                p[0] = (uint8_t)(0x80 | (v >> 24));
                p[1] = (uint8_t)(v >> 16);
                p[2] = (uint8_t)(v >> 8);
                p[3] = (uint8_t)v;
                break;
        default:
                return 0;
        }
        return n;
}

/* R-8-1: RFC 9420 section 8:
 *   ExpandWithLabel(Secret, Label, Context, Length) =
 *       KDF.Expand(Secret, KDFLabel, Length)
 *   struct {
 *       uint16 length;
 *       opaque label<V>;
 *       opaque context<V>;
 *   } KDFLabel;
 *   And its fields set to: length = Length;
 *   label = "MLS 1.0 " + Label; context = Context
 *
 * KDFLabel is handed to HKDF-Expand in pieces (length and label prefix,
 * "MLS 1.0 ", Label, context prefix, Context): nothing is copied or
 * allocated, the derived value goes straight into out. The pieces are the
 * same bytes the codec writer would produce (test_labeled checks this
 * against an encoding made with mls_writer). */
int
mls_expand_with_label_bytes_into(const struct mls_suite *s, const uint8_t *secret,
                                 size_t secret_len, const uint8_t *label, size_t label_len,
                                 const uint8_t *context, size_t context_len, uint8_t *out,
                                 size_t len)
{
        static const uint8_t prefix[] = MLS_LABEL_PREFIX;
        uint8_t head[2 + 4], ctx_head[4];
        size_t head_len, ctx_head_len, full_label_len;
        struct mls_iov iov[5];

        if (!s || !out || (!secret && secret_len) || (!label && label_len) ||
            (!context && context_len))
                return MLS_E_INVALID_ARGUMENT;
        if (len > UINT16_MAX)
                return MLS_E_INVALID_ARGUMENT;
        /* uint16 length */
        head[0] = (uint8_t)(len >> 8);
        head[1] = (uint8_t)len;
        /* opaque label<V> = "MLS 1.0 " + Label */
        MLS_TRY(mls_size_add(sizeof(prefix) - 1, label_len, &full_label_len));
        head_len = varint_put(head + 2, full_label_len);
        /* opaque context<V> */
        ctx_head_len = varint_put(ctx_head, context_len);
        if (head_len == 0 || ctx_head_len == 0)
                return MLS_E_TOO_LARGE;
        iov[0] = (struct mls_iov){ head, 2 + head_len };
        iov[1] = (struct mls_iov){ prefix, sizeof(prefix) - 1 };
        iov[2] = (struct mls_iov){ label, label_len };
        iov[3] = (struct mls_iov){ ctx_head, ctx_head_len };
        iov[4] = (struct mls_iov){ context, context_len };
        return mls_hkdf_expand_v(s->ops->hash, secret, secret_len, iov, MLS_ARRAY_SIZE(iov),
                                 out, len);
}

int
mls_expand_with_label_into(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                           const char *label, const uint8_t *context, size_t context_len,
                           uint8_t *out, size_t len)
{
        if (!label)
                return MLS_E_INVALID_ARGUMENT;
        return mls_expand_with_label_bytes_into(s, secret, secret_len, (const uint8_t *)label,
                                                strlen(label), context, context_len, out, len);
}

int
mls_expand_with_label_bytes(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                            const uint8_t *label, size_t label_len, const uint8_t *context,
                            size_t context_len, size_t len, struct mls_secret **ret_out)
{
        _mls_secret_ struct mls_secret *out = NULL;

        if (!s || (!secret && secret_len) || (!label && label_len) ||
            (!context && context_len))
                return MLS_E_INVALID_ARGUMENT;
        /* Checked before allocating: a bad length costs no guarded page. */
        if (len > UINT16_MAX || len > 255 * s->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(len, &out));
        MLS_TRY(mls_expand_with_label_bytes_into(s, secret, secret_len, label, label_len, context,
                                                 context_len, out->data, len));
        *ret_out = MLS_TAKE(out);
        return 0;
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
mls_derive_secret_bytes_into(const struct mls_suite *s, const uint8_t *secret,
                             size_t secret_len, const uint8_t *label, size_t label_len,
                             uint8_t *out)
{
        if (!s)
                return MLS_E_INVALID_ARGUMENT;
        return mls_expand_with_label_bytes_into(s, secret, secret_len, label, label_len, NULL, 0,
                                                out, s->hash_len);
}

int
mls_derive_secret_into(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                       const char *label, uint8_t *out)
{
        if (!label)
                return MLS_E_INVALID_ARGUMENT;
        return mls_derive_secret_bytes_into(s, secret, secret_len, (const uint8_t *)label,
                                            strlen(label), out);
}

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
mls_derive_tree_secret_into(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                            const char *label, uint32_t generation, uint8_t *out, size_t len)
{
        const uint8_t gen[4] = {
                (uint8_t)(generation >> 24),
                (uint8_t)(generation >> 16),
                (uint8_t)(generation >> 8),
                (uint8_t)generation,
        };

        return mls_expand_with_label_into(s, secret, secret_len, label, gen, sizeof(gen), out,
                                          len);
}

int
mls_derive_tree_secret(const struct mls_suite *s, const uint8_t *secret, size_t secret_len,
                       const char *label, uint32_t generation, size_t len,
                       struct mls_secret **ret_out)
{
        const uint8_t gen[4] = {
                (uint8_t)(generation >> 24),
                (uint8_t)(generation >> 16),
                (uint8_t)(generation >> 8),
                (uint8_t)generation,
        };

        return mls_expand_with_label(s, secret, secret_len, label, gen, sizeof(gen), len,
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
