/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto-basics.json: the labelled helpers of RFC 9420 sections 5.1.1-5.1.3,
 * 5.2, 8 and 9, one case per cipher suite (FORMATS.md "crypto-basics.json").
 *
 * R-5.2-1 (RefHash), R-8-1 (ExpandWithLabel, DeriveSecret), R-9.1-1
 * (DeriveTreeSecret), R-5.1.1-1, R-5.1.2-2, R-5.1.2-3 (SignWithLabel),
 * R-5.1.3-1 (EncryptWithLabel), R-5.1-1 (one suite fixes every primitive).
 */
#include <stdlib.h>
#include <string.h>

#include "mls/crypto.h"
#include "mls/labeled.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

/* Hex fields of one sub-object, released together. */
#define CB_MAX_FIELDS 8

struct cb_fields {
        struct mls_bytes b[CB_MAX_FIELDS];
        size_t n;
};

static void
cb_fields_clear(struct cb_fields *f)
{
        for (size_t i = 0; i < f->n; i++)
                mls_bytes_clear(&f->b[i]);
        f->n = 0;
}

/* Decodes o[key] as hex into the next slot; NULL (reason recorded) on error. */
static const struct mls_bytes *
cb_hex(struct vec_case *c, struct cb_fields *f, json_object *o, const char *key)
{
        if (f->n >= CB_MAX_FIELDS) {
                vec_fail(c, "too many fields");
                return NULL;
        }
        if (!vec_hex(c, o, key, &f->b[f->n]))
                return NULL;
        return &f->b[f->n++];
}

static bool
cb_u64_max(struct vec_case *c, json_object *o, const char *key, uint64_t max, uint64_t *ret)
{
        if (!vec_u64(c, o, key, ret))
                return false;
        if (*ret > max) {
                vec_fail(c, "field '%s' out of range", key);
                return false;
        }
        return true;
}

/* 1. RefHash(label, value) == out, label used as given (R-5.2-1). */
static enum vec_result
check_ref_hash(struct vec_case *c, const struct mls_suite *s, json_object *o)
{
        _mls_cleanup_(cb_fields_clear) struct cb_fields f = { .n = 0 };
        const struct mls_bytes *value;
        const char *label;
        uint8_t out[MLS_MAX_HASH_LEN];
        int e;

        if (!vec_str(c, o, "label", &label) || !(value = cb_hex(c, &f, o, "value")))
                return VEC_FAIL;
        e = mls_ref_hash(s, label, value->data, value->len, out);
        if (e < 0)
                return vec_fail(c, "ref_hash: %s", mls_err_name(e));
        if (!vec_expect_hex(c, o, "out", out, s->hash_len))
                return VEC_FAIL;
        return VEC_PASS;
}

/* 2. ExpandWithLabel(secret, label, context, length) == out (R-8-1). */
static enum vec_result
check_expand_with_label(struct vec_case *c, const struct mls_suite *s, json_object *o)
{
        _mls_cleanup_(cb_fields_clear) struct cb_fields f = { .n = 0 };
        _mls_secret_ struct mls_secret *out = NULL;
        const struct mls_bytes *secret, *context;
        const char *label;
        uint64_t length;
        int e;

        if (!vec_str(c, o, "label", &label) || !(secret = cb_hex(c, &f, o, "secret")) ||
            !(context = cb_hex(c, &f, o, "context")) ||
            !cb_u64_max(c, o, "length", UINT16_MAX, &length))
                return VEC_FAIL;
        e = mls_expand_with_label(s, secret->data, secret->len, label, context->data,
                                  context->len, (size_t)length, &out);
        if (e < 0)
                return vec_fail(c, "expand_with_label: %s", mls_err_name(e));
        if (!vec_expect_hex(c, o, "out", out->data, out->len))
                return VEC_FAIL;
        return VEC_PASS;
}

/* 3. DeriveSecret(secret, label) == out (R-8-1). */
static enum vec_result
check_derive_secret(struct vec_case *c, const struct mls_suite *s, json_object *o)
{
        _mls_cleanup_(cb_fields_clear) struct cb_fields f = { .n = 0 };
        _mls_secret_ struct mls_secret *out = NULL;
        const struct mls_bytes *secret;
        const char *label;
        int e;

        if (!vec_str(c, o, "label", &label) || !(secret = cb_hex(c, &f, o, "secret")))
                return VEC_FAIL;
        e = mls_derive_secret(s, secret->data, secret->len, label, &out);
        if (e < 0)
                return vec_fail(c, "derive_secret: %s", mls_err_name(e));
        if (!vec_expect_hex(c, o, "out", out->data, out->len))
                return VEC_FAIL;
        return VEC_PASS;
}

/* 4. DeriveTreeSecret(secret, label, generation, length) == out (R-9.1-1);
 * generation 2694881440 is above INT32_MAX. */
static enum vec_result
check_derive_tree_secret(struct vec_case *c, const struct mls_suite *s, json_object *o)
{
        _mls_cleanup_(cb_fields_clear) struct cb_fields f = { .n = 0 };
        _mls_secret_ struct mls_secret *out = NULL;
        const struct mls_bytes *secret;
        const char *label;
        uint64_t gen, length;
        int e;

        if (!vec_str(c, o, "label", &label) || !(secret = cb_hex(c, &f, o, "secret")) ||
            !cb_u64_max(c, o, "generation", UINT32_MAX, &gen) ||
            !cb_u64_max(c, o, "length", UINT16_MAX, &length))
                return VEC_FAIL;
        e = mls_derive_tree_secret(s, secret->data, secret->len, label, (uint32_t)gen,
                                   (size_t)length, &out);
        if (e < 0)
                return vec_fail(c, "derive_tree_secret: %s", mls_err_name(e));
        if (!vec_expect_hex(c, o, "out", out->data, out->len))
                return VEC_FAIL;
        return VEC_PASS;
}

/* 5. VerifyWithLabel of the given signature, then our own sign/verify round
 * trip, and pub derived from priv equals pub (R-5.1.1-1, R-5.1.2-2,
 * R-5.1.2-3). */
static enum vec_result
check_sign_with_label(struct vec_case *c, const struct mls_suite *s, json_object *o)
{
        _mls_cleanup_(cb_fields_clear) struct cb_fields f = { .n = 0 };
        _mls_secret_ struct mls_secret *priv = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes sig = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes derived = { 0 };
        const struct mls_bytes *privb, *pub, *content, *given;
        const char *label;
        int e;

        if (!vec_str(c, o, "label", &label) || !(privb = cb_hex(c, &f, o, "priv")) ||
            !(pub = cb_hex(c, &f, o, "pub")) || !(content = cb_hex(c, &f, o, "content")) ||
            !(given = cb_hex(c, &f, o, "signature")))
                return VEC_FAIL;
        e = mls_verify_with_label(s, pub->data, pub->len, label, content->data, content->len,
                                  given->data, given->len);
        if (e < 0)
                return vec_fail(c, "verify_with_label (given signature): %s", mls_err_name(e));
        if (mls_secret_from(privb->data, privb->len, &priv) < 0)
                return vec_fail(c, "out of memory");
        e = mls_crypto_sig_pub_from_priv(s, priv, &derived);
        if (e < 0)
                return vec_fail(c, "sig_pub_from_priv: %s", mls_err_name(e));
        if (!mls_bytes_eq(&derived, pub))
                return vec_fail(c, "public key derived from priv differs from pub");
        e = mls_sign_with_label(s, priv, label, content->data, content->len, &sig);
        if (e < 0)
                return vec_fail(c, "sign_with_label: %s", mls_err_name(e));
        e = mls_verify_with_label(s, pub->data, pub->len, label, content->data, content->len,
                                  sig.data, sig.len);
        if (e < 0)
                return vec_fail(c, "verify_with_label (own signature): %s", mls_err_name(e));
        return VEC_PASS;
}

/* 6. DecryptWithLabel of the given ciphertext, then an EncryptWithLabel /
 * DecryptWithLabel round trip (R-5.1.3-1). */
static enum vec_result
check_encrypt_with_label(struct vec_case *c, const struct mls_suite *s, json_object *o)
{
        _mls_cleanup_(cb_fields_clear) struct cb_fields f = { .n = 0 };
        _mls_secret_ struct mls_secret *priv = NULL;
        _mls_secret_ struct mls_secret *pt = NULL;
        _mls_secret_ struct mls_secret *pt2 = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes kem_output = { 0 };
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes ct = { 0 };
        const struct mls_bytes *privb, *pub, *context, *plaintext, *given_kem, *given_ct;
        const char *label;
        int e;

        if (!vec_str(c, o, "label", &label) || !(privb = cb_hex(c, &f, o, "priv")) ||
            !(pub = cb_hex(c, &f, o, "pub")) || !(context = cb_hex(c, &f, o, "context")) ||
            !(plaintext = cb_hex(c, &f, o, "plaintext")) ||
            !(given_kem = cb_hex(c, &f, o, "kem_output")) ||
            !(given_ct = cb_hex(c, &f, o, "ciphertext")))
                return VEC_FAIL;
        if (mls_secret_from(privb->data, privb->len, &priv) < 0)
                return vec_fail(c, "out of memory");
        e = mls_decrypt_with_label(s, priv, label, context->data, context->len, given_kem->data,
                                   given_kem->len, given_ct->data, given_ct->len, &pt);
        if (e < 0)
                return vec_fail(c, "decrypt_with_label (given): %s", mls_err_name(e));
        if (pt->len != plaintext->len || memcmp(pt->data, plaintext->data, pt->len) != 0)
                return vec_fail(c, "decrypted plaintext differs");
        e = mls_encrypt_with_label(s, mls_rng_system(), pub->data, pub->len, label,
                                   context->data, context->len, plaintext->data, plaintext->len,
                                   &kem_output, &ct);
        if (e < 0)
                return vec_fail(c, "encrypt_with_label: %s", mls_err_name(e));
        e = mls_decrypt_with_label(s, priv, label, context->data, context->len,
                                   kem_output.data, kem_output.len, ct.data, ct.len, &pt2);
        if (e < 0)
                return vec_fail(c, "decrypt_with_label (round trip): %s", mls_err_name(e));
        if (pt2->len != plaintext->len || memcmp(pt2->data, plaintext->data, pt2->len) != 0)
                return vec_fail(c, "round-trip plaintext differs");
        return VEC_PASS;
}

static const struct {
        const char *key;
        enum vec_result (*check)(struct vec_case *c, const struct mls_suite *s,
                                 json_object *o);
} checks[] = {
        { "ref_hash", check_ref_hash },
        { "expand_with_label", check_expand_with_label },
        { "derive_secret", check_derive_secret },
        { "derive_tree_secret", check_derive_tree_secret },
        { "sign_with_label", check_sign_with_label },
        { "encrypt_with_label", check_encrypt_with_label },
};

enum vec_result
vec_crypto_basics(struct vec_case *c)
{
        const struct mls_suite *s;
        uint64_t id;

        if (!cb_u64_max(c, c->obj, "cipher_suite", UINT16_MAX, &id))
                return VEC_FAIL;
        s = mls_suite_get((uint16_t)id);
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)id);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(checks); i++) {
                json_object *o;
                enum vec_result r;

                if (!vec_get(c, c->obj, checks[i].key, &o))
                        return VEC_FAIL;
                if (!json_object_is_type(o, json_type_object))
                        return vec_fail(c, "field '%s' is not an object", checks[i].key);
                r = checks[i].check(c, s, o);
                if (r != VEC_PASS) {
                        /* Say which part failed, keeping the detail. */
                        char detail[sizeof(c->reason)];

                        memcpy(detail, c->reason, sizeof(detail));
                        return vec_fail(c, "suite %u %s: %.400s", (unsigned)id, checks[i].key,
                                        detail);
                }
        }
        return VEC_PASS;
}
