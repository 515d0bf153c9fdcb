/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/labeled: the encodings of KDFLabel, SignContent,
 * EncryptContext and RefHashInput checked byte by byte against hand-built
 * buffers, and the negative cases (wrong label, wrong context, oversize
 * lengths). The working group's crypto-basics.json vectors cover the
 * known answers (tools/vectors/crypto_basics.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/hpke.h"
#include "mls/labeled.h"
#include "tests/lib/testutil.h"

static uint16_t suite_tbl[] = { 1, 2, 3, 4, 5, 6, 7 };

#define PER_SUITE(f)                                            \
        cmocka_unit_test_prestate(f, &suite_tbl[0]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[1]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[2]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[3]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[4]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[5]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[6])

static const struct mls_suite *
suite_of(void **state)
{
        const struct mls_suite *s = mls_suite_get(*(uint16_t *)*state);

        assert_non_null(s);
        return s;
}

/* R-8-1: KDFLabel = u16 length || V("MLS 1.0 " + label) || V(context),
 * written out by hand; ExpandWithLabel must equal HKDF-Expand over it. */
static void
test_expand_with_label_kdflabel_bytes(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const uint8_t info_short[] = {
                0x00, 0x10,                                     /* length = 16 */
                0x0b, 'M', 'L', 'S', ' ', '1', '.', '0', ' ', 'k', 'e', 'y',
                0x03, 'a', 'b', 'c',                            /* context */
        };
        uint8_t secret[MLS_MAX_HASH_LEN], info_long[2 + 1 + 13 + 2 + 100], ctx[100];
        struct mls_secret *a = NULL, *b = NULL;

        for (size_t i = 0; i < sizeof(secret); i++)
                secret[i] = (uint8_t)(0x30 + i);
        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "key",
                                               (const uint8_t *)"abc", 3, 16, &a), 0);
        assert_int_equal(mls_crypto_hkdf_expand(s, secret, s->hash_len, info_short,
                                                sizeof(info_short), 16, &b), 0);
        assert_int_equal(a->len, 16);
        assert_true(mls_secret_eq(a, b));
        mls_secret_free(a);
        mls_secret_free(b);

        /* A 100-byte context takes a two-byte varint (0x40 0x64); length
         * 300 = 0x012c spans several HKDF blocks. */
        memset(ctx, 0x5a, sizeof(ctx));
        info_long[0] = 0x01;
        info_long[1] = 0x2c;
        info_long[2] = 13;
        memcpy(info_long + 3, "MLS 1.0 label", 13);
        info_long[16] = 0x40;
        info_long[17] = 0x64;
        memcpy(info_long + 18, ctx, sizeof(ctx));
        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "label", ctx,
                                               sizeof(ctx), 300, &a), 0);
        assert_int_equal(mls_crypto_hkdf_expand(s, secret, s->hash_len, info_long,
                                                sizeof(info_long), 300, &b), 0);
        assert_true(mls_secret_eq(a, b));
        mls_secret_free(a);
        mls_secret_free(b);

        /* The _bytes variant with a label containing a NUL. */
        assert_int_equal(mls_expand_with_label_bytes(s, secret, s->hash_len,
                                                     (const uint8_t *)"a\0b", 3, NULL, 0, 8, &a),
                         0);
        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "a", NULL, 0, 8, &b), 0);
        assert_false(mls_secret_eq(a, b));
        mls_secret_free(a);
        mls_secret_free(b);
}

/* The KDFLabel length is a uint16, and HKDF stops at 255 * Nh. */
static void
test_expand_with_label_rejects_oversize(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t secret[MLS_MAX_HASH_LEN] = { 0 };
        struct mls_secret *a = NULL;

        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "x", NULL, 0, 0x10000,
                                               &a), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "x", NULL, 0,
                                               255 * s->hash_len + 1, &a),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, NULL, NULL, 0, 16, &a),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(a);
}

/* R-8-1: DeriveSecret = ExpandWithLabel(secret, label, "", Nh). */
static void
test_derive_secret_is_expand_with_empty_context(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t secret[MLS_MAX_HASH_LEN] = { 9 };
        struct mls_secret *a = NULL, *b = NULL, *c = NULL;

        assert_int_equal(mls_derive_secret(s, secret, s->hash_len, "epoch", &a), 0);
        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "epoch", NULL, 0,
                                               s->hash_len, &b), 0);
        assert_int_equal(a->len, s->hash_len);
        assert_true(mls_secret_eq(a, b));
        assert_int_equal(mls_derive_secret_bytes(s, secret, s->hash_len,
                                                 (const uint8_t *)"epoch", 5, &c), 0);
        assert_true(mls_secret_eq(a, c));
        mls_secret_free(c);
        assert_int_equal(mls_derive_secret(s, secret, s->hash_len, "epocH", &c), 0);
        assert_false(mls_secret_eq(a, c));
        mls_secret_free(a);
        mls_secret_free(b);
        mls_secret_free(c);
}

/* R-9.1-1: DeriveTreeSecret's context is the generation as a big-endian
 * uint32 (2694881440 = 0xa0a0a0a0 is the vectors' value). */
static void
test_derive_tree_secret_generation_encoding(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const uint8_t gen_be[] = { 0xa0, 0xa1, 0xa2, 0xa3 };
        uint8_t secret[MLS_MAX_HASH_LEN] = { 1, 2, 3 };
        struct mls_secret *a = NULL, *b = NULL, *c = NULL;

        assert_int_equal(mls_derive_tree_secret(s, secret, s->hash_len, "nonce", 0xa0a1a2a3u,
                                                s->aead_nonce_len, &a), 0);
        assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "nonce", gen_be,
                                               sizeof(gen_be), s->aead_nonce_len, &b), 0);
        assert_true(mls_secret_eq(a, b));
        assert_int_equal(mls_derive_tree_secret(s, secret, s->hash_len, "nonce", 0xa3a2a1a0u,
                                                s->aead_nonce_len, &c), 0);
        assert_false(mls_secret_eq(a, c));
        mls_secret_free(a);
        mls_secret_free(b);
        mls_secret_free(c);
}

/* R-5.2-1: RefHash = Hash(V(label) || V(value)), the label as given;
 * R-5.2-2, R-5.2-3: the two reference labels. */
static void
test_ref_hash_encoding(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const char kp_label[] = "MLS 1.0 KeyPackage Reference";
        static const char prop_label[] = "MLS 1.0 Proposal Reference";
        uint8_t value[70], input[1 + 28 + 2 + 70];
        uint8_t got[MLS_MAX_HASH_LEN], want[MLS_MAX_HASH_LEN];

        for (size_t i = 0; i < sizeof(value); i++)
                value[i] = (uint8_t)i;
        /* RefHash("RefHash", value[0..3)) */
        input[0] = 7;
        memcpy(input + 1, "RefHash", 7);
        input[8] = 3;
        memcpy(input + 9, value, 3);
        assert_int_equal(mls_ref_hash(s, "RefHash", value, 3, got), 0);
        assert_int_equal(mls_crypto_hash(s, input, 12, want), 0);
        assert_memory_equal(got, want, s->hash_len);

        /* KeyPackageRef: 28-byte label, 70-byte value (two-byte varint) */
        input[0] = 28;
        memcpy(input + 1, kp_label, 28);
        input[29] = 0x40;
        input[30] = 70;
        memcpy(input + 31, value, 70);
        assert_int_equal(mls_make_key_package_ref(s, value, sizeof(value), got), 0);
        assert_int_equal(mls_crypto_hash(s, input, sizeof(input), want), 0);
        assert_memory_equal(got, want, s->hash_len);
        assert_int_equal(mls_ref_hash(s, kp_label, value, sizeof(value), want), 0);
        assert_memory_equal(got, want, s->hash_len);

        assert_int_equal(mls_make_proposal_ref(s, value, sizeof(value), got), 0);
        assert_int_equal(mls_ref_hash(s, prop_label, value, sizeof(value), want), 0);
        assert_memory_equal(got, want, s->hash_len);
        /* No "MLS 1.0 " prefix is added by RefHash itself. */
        assert_int_equal(mls_ref_hash(s, "Proposal Reference", value, sizeof(value), want), 0);
        assert_memory_not_equal(got, want, s->hash_len);
}

/* R-5.1.2-3: SignContent = V("MLS 1.0 " + label) || V(content). */
static void
test_sign_content_build_bytes(void **state)
{
        static const uint8_t want[] = {
                0x18, 'M', 'L', 'S', ' ', '1', '.', '0', ' ', 'F', 'r', 'a', 'm', 'e', 'd',
                'C', 'o', 'n', 't', 'e', 'n', 't', 'T', 'B', 'S',
                0x03, 'a', 'b', 'c',
        };
        struct mls_bytes tbs = { 0 };

        (void)state;
        assert_int_equal(mls_sign_content_build("FramedContentTBS", (const uint8_t *)"abc", 3,
                                                &tbs), 0);
        assert_int_equal(tbs.len, sizeof(want));
        assert_memory_equal(tbs.data, want, sizeof(want));
        mls_bytes_clear(&tbs);
        assert_int_equal(mls_sign_content_build("", NULL, 0, &tbs), 0);
        assert_int_equal(tbs.len, 1 + 8 + 1);
        assert_int_equal(tbs.data[0], 8);
        assert_int_equal(tbs.data[9], 0);
        mls_bytes_clear(&tbs);
        assert_int_equal(mls_sign_content_build(NULL, NULL, 0, &tbs), MLS_E_INVALID_ARGUMENT);
}

/* R-5.1.2-3: a signature made with one label does not verify under
 * another, nor over other content; it is a plain signature over
 * SignContent. */
static void
test_sign_with_label_wrong_label_rejected(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const uint8_t content[] = "leaf node to be signed";
        struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 }, sig = { 0 }, raw = { 0 }, tbs = { 0 };

        assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &priv, &pub), 0);
        assert_int_equal(mls_sign_with_label(s, priv, "LeafNodeTBS", content, sizeof(content),
                                             &sig), 0);
        assert_int_equal(mls_verify_with_label(s, pub.data, pub.len, "LeafNodeTBS", content,
                                               sizeof(content), sig.data, sig.len), 0);
        assert_int_equal(mls_verify_with_label(s, pub.data, pub.len, "GroupInfoTBS", content,
                                               sizeof(content), sig.data, sig.len),
                         MLS_E_BAD_SIGNATURE);
        assert_int_equal(mls_verify_with_label(s, pub.data, pub.len, "LeafNodeTB", content,
                                               sizeof(content), sig.data, sig.len),
                         MLS_E_BAD_SIGNATURE);
        assert_int_equal(mls_verify_with_label(s, pub.data, pub.len, "LeafNodeTBS", content,
                                               sizeof(content) - 1, sig.data, sig.len),
                         MLS_E_BAD_SIGNATURE);
        /* The signature covers SignContent, verifiable as a raw signature. */
        assert_int_equal(mls_sign_content_build("LeafNodeTBS", content, sizeof(content), &tbs),
                         0);
        assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, tbs.data, tbs.len, sig.data,
                                           sig.len), 0);
        /* A signature over the bare content is not a labelled signature. */
        assert_int_equal(mls_crypto_sign(s, priv, content, sizeof(content), &raw), 0);
        assert_int_equal(mls_verify_with_label(s, pub.data, pub.len, "LeafNodeTBS", content,
                                               sizeof(content), raw.data, raw.len),
                         MLS_E_BAD_SIGNATURE);
        /* R-5.1.1-1: a malformed key is reported as such. */
        assert_int_equal(mls_verify_with_label(s, pub.data, pub.len - 1, "LeafNodeTBS", content,
                                               sizeof(content), sig.data, sig.len),
                         MLS_E_BAD_KEY);
        mls_secret_free(priv);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&sig);
        mls_bytes_clear(&raw);
        mls_bytes_clear(&tbs);
}

/* R-5.1.3-1: EncryptWithLabel is SealBase with info = EncryptContext and an
 * empty aad; a wrong context or label does not decrypt. */
static void
test_decrypt_with_label_wrong_context_rejected(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const uint8_t pt[] = "path secret";
        static const uint8_t info[] = {
                0x16, 'M', 'L', 'S', ' ', '1', '.', '0', ' ', 'U', 'p', 'd', 'a', 't', 'e',
                'P', 'a', 't', 'h', 'N', 'o', 'd', 'e',
                0x04, 'c', 't', 'x', '1',
        };
        struct mls_secret *priv = NULL, *out = NULL;
        struct mls_bytes pub = { 0 }, kem = { 0 }, ct = { 0 };

        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &priv, &pub), 0);
        assert_int_equal(mls_encrypt_with_label(s, mls_rng_system(), pub.data, pub.len,
                                                "UpdatePathNode", (const uint8_t *)"ctx1", 4, pt,
                                                sizeof(pt), &kem, &ct), 0);
        assert_int_equal(kem.len, s->kem_enc_len);
        assert_int_equal(ct.len, sizeof(pt) + s->aead_tag_len);
        assert_int_equal(mls_decrypt_with_label(s, priv, "UpdatePathNode",
                                                (const uint8_t *)"ctx2", 4, kem.data, kem.len,
                                                ct.data, ct.len, &out), MLS_E_DECRYPT);
        assert_int_equal(mls_decrypt_with_label(s, priv, "UpdatePathNode",
                                                (const uint8_t *)"ctx", 3, kem.data, kem.len,
                                                ct.data, ct.len, &out), MLS_E_DECRYPT);
        assert_int_equal(mls_decrypt_with_label(s, priv, "Welcome", (const uint8_t *)"ctx1", 4,
                                                kem.data, kem.len, ct.data, ct.len, &out),
                         MLS_E_DECRYPT);
        assert_null(out);
        assert_int_equal(mls_decrypt_with_label(s, priv, "UpdatePathNode",
                                                (const uint8_t *)"ctx1", 4, kem.data, kem.len,
                                                ct.data, ct.len, &out), 0);
        assert_int_equal(out->len, sizeof(pt));
        assert_memory_equal(out->data, pt, sizeof(pt));
        mls_secret_free(out);
        /* The same ciphertext opens as plain HPKE with the hand-built
         * EncryptContext as info and an empty aad. */
        assert_int_equal(mls_hpke_open_base(s, priv, kem.data, kem.len, info, sizeof(info), NULL,
                                            0, ct.data, ct.len, &out), 0);
        assert_memory_equal(out->data, pt, sizeof(pt));
        mls_secret_free(out);
        mls_secret_free(priv);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&kem);
        mls_bytes_clear(&ct);
}

/* R-5.1.3-1: the prepared form of EncryptWithLabel (EncryptContext hashed
 * once, then one Encap per recipient) produces ciphertexts that
 * DecryptWithLabel opens, for several recipients; another context does not
 * open them. */
static void
test_encrypt_with_label_prepared_interoperates(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const uint8_t pt[] = "group secrets";
        uint8_t ctx[3000];
        struct mls_hpke_info info;

        for (size_t i = 0; i < sizeof(ctx); i++)
                ctx[i] = (uint8_t)(i * 13);
        assert_int_equal(mls_encrypt_with_label_prepare(s, "Welcome", ctx, sizeof(ctx), &info), 0);
        for (int r = 0; r < 3; r++) {
                struct mls_secret *priv = NULL, *out = NULL;
                struct mls_bytes pub = { 0 }, kem = { 0 }, ct = { 0 };

                assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &priv, &pub), 0);
                assert_int_equal(mls_encrypt_with_label_prepared(&info, mls_rng_system(), pub.data,
                                                                 pub.len, pt, sizeof(pt), &kem,
                                                                 &ct), 0);
                assert_int_equal(mls_decrypt_with_label(s, priv, "Welcome", ctx, sizeof(ctx),
                                                        kem.data, kem.len, ct.data, ct.len, &out),
                                 0);
                assert_memory_equal(out->data, pt, sizeof(pt));
                mls_secret_free(out);
                out = NULL;
                assert_int_equal(mls_decrypt_with_label(s, priv, "Welcome", ctx, sizeof(ctx) - 1,
                                                        kem.data, kem.len, ct.data, ct.len, &out),
                                 MLS_E_DECRYPT);
                assert_null(out);
                mls_secret_free(priv);
                mls_bytes_clear(&pub);
                mls_bytes_clear(&kem);
                mls_bytes_clear(&ct);
        }
}

static void
test_mac_is_hmac(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t a[MLS_MAX_HASH_LEN], b[MLS_MAX_HASH_LEN];

        assert_int_equal(mls_mac(s, (const uint8_t *)"k", 1, (const uint8_t *)"d", 1, a), 0);
        assert_int_equal(mls_crypto_mac(s, (const uint8_t *)"k", 1, (const uint8_t *)"d", 1, b),
                         0);
        assert_memory_equal(a, b, s->hash_len);
}

/* ---- the _into forms ---- */

/* KDFLabel encoded with the codec writer, for comparison with the pieces
 * mls_expand_with_label_bytes_into hands to HKDF. */
static void
kdf_label_by_writer(size_t len, const uint8_t *label, size_t label_len, const uint8_t *ctx,
                    size_t ctx_len, struct mls_bytes *ret)
{
        struct mls_writer w;
        size_t mark;

        mls_writer_init(&w);
        assert_int_equal(mls_writer_u16(&w, (uint16_t)len), 0);
        assert_int_equal(mls_writer_vec_begin(&w, &mark), 0);
        assert_int_equal(mls_writer_raw(&w, (const uint8_t *)"MLS 1.0 ", 8), 0);
        assert_int_equal(mls_writer_raw(&w, label, label_len), 0);
        assert_int_equal(mls_writer_vec_end(&w, mark), 0);
        assert_int_equal(mls_writer_opaque(&w, ctx, ctx_len), 0);
        assert_int_equal(mls_writer_finish(&w, ret), 0);
}

/* R-8-1: ExpandWithLabel into caller memory equals HKDF-Expand over the
 * writer's KDFLabel, across the varint size boundaries of label
 * (8 + 55 = 63: one byte, 8 + 56 = 64: two) and context (63/64,
 * 16383/16384: two and four bytes), and equals the allocating form. */
static void
test_expand_with_label_into_matches_writer(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const size_t label_lens[] = { 0, 1, 55, 56, 300 };
        static const size_t ctx_lens[] = { 0, 63, 64, 16383, 16384 };
        uint8_t secret[MLS_MAX_HASH_LEN], *label, *ctx;
        uint8_t a[100], b[100];

        label = malloc(300);
        ctx = malloc(16384);
        assert_non_null(label);
        assert_non_null(ctx);
        randombytes_buf(secret, sizeof(secret));
        randombytes_buf(label, 300);
        randombytes_buf(ctx, 16384);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(label_lens); i++) {
                for (size_t j = 0; j < MLS_ARRAY_SIZE(ctx_lens); j++) {
                        struct mls_bytes info = { 0 };
                        struct mls_secret *c = NULL;
                        size_t len = (i + j) % 2 ? sizeof(a) : s->aead_nonce_len;

                        kdf_label_by_writer(len, label, label_lens[i], ctx, ctx_lens[j], &info);
                        assert_int_equal(mls_expand_with_label_bytes_into(
                                                 s, secret, s->hash_len, label, label_lens[i],
                                                 ctx, ctx_lens[j], a, len),
                                         0);
                        assert_int_equal(mls_crypto_hkdf_expand_into(s, secret, s->hash_len,
                                                                     info.data, info.len, b,
                                                                     len),
                                         0);
                        assert_memory_equal(a, b, len);
                        assert_int_equal(mls_expand_with_label_bytes(s, secret, s->hash_len,
                                                                     label, label_lens[i], ctx,
                                                                     ctx_lens[j], len, &c),
                                         0);
                        assert_memory_equal(a, c->data, len);
                        mls_secret_free(c);
                        mls_bytes_clear(&info);
                }
        }
        free(label);
        free(ctx);
}

/* DeriveSecret and DeriveTreeSecret into caller memory equal their
 * allocating forms (R-8-1, R-9.1-1). */
static void
test_derive_into_matches_allocating(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t secret[MLS_MAX_HASH_LEN], out[MLS_MAX_HASH_LEN];
        struct mls_secret *a = NULL;

        randombytes_buf(secret, sizeof(secret));
        assert_int_equal(mls_derive_secret_into(s, secret, s->hash_len, "epoch", out), 0);
        assert_int_equal(mls_derive_secret(s, secret, s->hash_len, "epoch", &a), 0);
        assert_memory_equal(out, a->data, s->hash_len);
        mls_secret_free(a);
        assert_int_equal(mls_derive_secret_bytes_into(s, secret, s->hash_len,
                                                      (const uint8_t *)"e\0x", 3, out),
                         0);
        assert_int_equal(mls_derive_secret_bytes(s, secret, s->hash_len,
                                                 (const uint8_t *)"e\0x", 3, &a),
                         0);
        assert_memory_equal(out, a->data, s->hash_len);
        mls_secret_free(a);
        assert_int_equal(mls_derive_tree_secret_into(s, secret, s->hash_len, "key", 0xa0a1a2a3u,
                                                     out, s->aead_key_len),
                         0);
        assert_int_equal(mls_derive_tree_secret(s, secret, s->hash_len, "key", 0xa0a1a2a3u,
                                                s->aead_key_len, &a),
                         0);
        assert_memory_equal(out, a->data, s->aead_key_len);
        mls_secret_free(a);
}

/* The _into forms reject what the allocating forms reject, without
 * writing: a length over a uint16 or over 255 * Nh, a NULL label, output
 * or context with a length. */
static void
test_expand_with_label_into_rejects(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t secret[MLS_MAX_HASH_LEN] = { 0 }, out[16], pattern[16];

        memset(out, 0x5a, sizeof(out));
        memcpy(pattern, out, sizeof(out));
        assert_int_equal(mls_expand_with_label_into(s, secret, s->hash_len, "x", NULL, 0, out,
                                                    0x10000),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_expand_with_label_into(s, secret, s->hash_len, "x", NULL, 0, out,
                                                    255 * s->hash_len + 1),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_expand_with_label_into(s, secret, s->hash_len, NULL, NULL, 0, out,
                                                    16),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_expand_with_label_into(s, secret, s->hash_len, "x", NULL, 3, out,
                                                    16),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_expand_with_label_into(s, NULL, 4, "x", NULL, 0, out, 16),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_derive_secret_into(s, secret, s->hash_len, NULL, out),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_derive_tree_secret_into(s, secret, s->hash_len, NULL, 1, out, 16),
                         MLS_E_INVALID_ARGUMENT);
        assert_memory_equal(out, pattern, sizeof(out));
        assert_int_equal(mls_expand_with_label_into(s, secret, s->hash_len, "x", NULL, 0, NULL,
                                                    16),
                         MLS_E_INVALID_ARGUMENT);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                PER_SUITE(test_expand_with_label_kdflabel_bytes),
                PER_SUITE(test_expand_with_label_rejects_oversize),
                PER_SUITE(test_derive_secret_is_expand_with_empty_context),
                PER_SUITE(test_derive_tree_secret_generation_encoding),
                PER_SUITE(test_ref_hash_encoding),
                cmocka_unit_test(test_sign_content_build_bytes),
                PER_SUITE(test_sign_with_label_wrong_label_rejected),
                PER_SUITE(test_decrypt_with_label_wrong_context_rejected),
                PER_SUITE(test_encrypt_with_label_prepared_interoperates),
                PER_SUITE(test_mac_is_hmac),
                PER_SUITE(test_expand_with_label_into_matches_writer),
                PER_SUITE(test_derive_into_matches_allocating),
                PER_SUITE(test_expand_with_label_into_rejects),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
