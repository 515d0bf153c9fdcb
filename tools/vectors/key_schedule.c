/* SPDX-License-Identifier: Apache-2.0 */
/*
 * key-schedule.json: GroupContext encoding and five chained epochs of the
 * key schedule (RFC 9420 sections 8, 8.1), the external key pair (8), the
 * exporter (8.5), resumption PSK and epoch authenticator (8.6, 8.7);
 * FORMATS.md "key-schedule.json".
 *
 * R-8.1-1 (GroupContext field order), R-8-2 (joiner/epoch), R-8-3
 * (welcome), R-8-4 (epoch-derived secrets), R-8-5 (external_pub),
 * R-8.5-3 (exporter), R-8.7-1 (epoch authenticator).
 *
 * Gotcha (FORMATS.md): exporter.label is used as the ASCII bytes of the
 * string, NOT hex-decoded.
 */
#include <stdlib.h>
#include <string.h>

#include "mls/crypto.h"
#include "mls/keyschedule.h"
#include "mls/messages.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}

/* A hex field as a new secret of exactly Nh bytes; NULL on error. */
static struct mls_secret *
hex_secret(struct vec_case *c, json_object *o, const char *key, size_t nh)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes b = { 0 };
        struct mls_secret *s = NULL;

        if (!vec_hex(c, o, key, &b))
                return NULL;
        if (b.len != nh) {
                vec_fail(c, "%s has %zu bytes, want %zu", key, b.len, nh);
                return NULL;
        }
        if (mls_secret_from(b.data, b.len, &s) < 0) {
                vec_fail(c, "out of memory");
                return NULL;
        }
        return s;
}

/* 1. gc = u16(1) || u16(suite) || V(group_id) || u64(i) || V(tree_hash) ||
 *         V(confirmed_transcript_hash) || V(empty extensions)
 * built with the messages module's GroupContext encoder (R-8.1-1). */
static enum vec_result
build_group_context(struct vec_case *c, const struct mls_suite *s, const struct mls_bytes *group_id,
                    uint64_t epoch, json_object *o, struct mls_bytes *ret_gc)
{
        struct mls_group_context gc = {
                .version = 1,
                .cipher_suite = s->id,
                .epoch = epoch,
        };
        enum vec_result res = VEC_PASS;
        int e;

        if (!vec_hex(c, o, "tree_hash", &gc.tree_hash) ||
            !vec_hex(c, o, "confirmed_transcript_hash", &gc.confirmed_transcript_hash)) {
                res = VEC_FAIL;
        } else if (mls_bytes_dup(&gc.group_id, group_id) < 0) {
                res = vec_fail(c, "out of memory");
        } else if ((e = mls_group_context_to_bytes(&gc, ret_gc)) < 0) {
                res = vec_fail(c, "GroupContext encode: %s", mls_err_name(e));
        } else if (!vec_expect_hex(c, o, "group_context", ret_gc->data, ret_gc->len)) {
                res = VEC_FAIL;
        }
        mls_group_context_clear(&gc);
        return res;
}

static const struct {
        enum mls_ks_secret which;
        const char *field;
} ks_fields[] = {
        { MLS_KS_JOINER_SECRET, "joiner_secret" },
        { MLS_KS_WELCOME_SECRET, "welcome_secret" },
        { MLS_KS_INIT_SECRET, "init_secret" },
        { MLS_KS_SENDER_DATA_SECRET, "sender_data_secret" },
        { MLS_KS_ENCRYPTION_SECRET, "encryption_secret" },
        { MLS_KS_EXPORTER_SECRET, "exporter_secret" },
        { MLS_KS_EPOCH_AUTHENTICATOR, "epoch_authenticator" },
        { MLS_KS_EXTERNAL_SECRET, "external_secret" },
        { MLS_KS_CONFIRMATION_KEY, "confirmation_key" },
        { MLS_KS_MEMBERSHIP_KEY, "membership_key" },
        { MLS_KS_RESUMPTION_PSK, "resumption_psk" },
};

/* 6. exporter.secret == MLS-Exporter(ASCII label, context, length). */
static enum vec_result
check_exporter(struct vec_case *c, const struct mls_epoch_secrets *ks, json_object *o)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes ctx = { 0 };
        _mls_secret_ struct mls_secret *out = NULL;
        json_object *ex;
        const char *label;
        uint64_t len;
        int e;

        if (!vec_get(c, o, "exporter", &ex) || !vec_str(c, ex, "label", &label) ||
            !vec_hex(c, ex, "context", &ctx) || !vec_u64(c, ex, "length", &len))
                return VEC_FAIL;
        if (len > UINT16_MAX)
                return vec_fail(c, "exporter length out of range");
        /* The label string itself, not hex-decoded (FORMATS.md gotcha). */
        e = mls_ks_export(ks, (const uint8_t *)label, strlen(label), ctx.data, ctx.len, (size_t)len,
                          &out);
        if (e < 0)
                return vec_fail(c, "exporter: %s", mls_err_name(e));
        if (!vec_expect_hex(c, ex, "secret", out->data, out->len))
                return VEC_FAIL;
        return VEC_PASS;
}

static enum vec_result
check_epoch(struct vec_case *c, const struct mls_suite *s, const struct mls_bytes *group_id,
            uint64_t epoch, json_object *o, const struct mls_secret *init,
            const struct mls_epoch_secrets *prev, struct mls_epoch_secrets **ret_ks)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes gc = { 0 }, pub = { 0 }, auth = { 0 };
        _mls_secret_ struct mls_secret *commit = NULL, *psk = NULL, *priv = NULL;
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;
        int e;

        if (build_group_context(c, s, group_id, epoch, o, &gc) != VEC_PASS)
                return VEC_FAIL;
        if (!(commit = hex_secret(c, o, "commit_secret", s->hash_len)) ||
            !(psk = hex_secret(c, o, "psk_secret", s->hash_len)))
                return VEC_FAIL;
        /* 2-4. joiner, welcome, epoch-derived secrets; epoch 0 from
         * initial_init_secret, later ones chained from the previous epoch. */
        if (prev)
                e = mls_ks_next(prev, commit, psk, gc.data, gc.len, &ks);
        else
                e = mls_ks_from_init(s, init, commit, psk, gc.data, gc.len, &ks);
        if (e < 0)
                return vec_fail(c, "epoch %llu: key schedule: %s", (unsigned long long)epoch,
                                mls_err_name(e));
        for (size_t i = 0; i < MLS_ARRAY_SIZE(ks_fields); i++) {
                const uint8_t *v = mls_ks_get(ks, ks_fields[i].which);

                if (!v)
                        return vec_fail(c, "%s missing", ks_fields[i].field);
                if (!vec_expect_hex(c, o, ks_fields[i].field, v, mls_ks_secret_len(ks)))
                        return VEC_FAIL;
        }
        /* The joiner path must reach the same epoch from joiner_secret. */
        {
                _mls_ks_ struct mls_epoch_secrets *jk = NULL;
                _mls_secret_ struct mls_secret *joiner = NULL;

                if (mls_ks_copy(ks, MLS_KS_JOINER_SECRET, &joiner) < 0 ||
                    mls_ks_from_joiner(s, joiner, psk, gc.data, gc.len, &jk) < 0)
                        return vec_fail(c, "joiner path failed");
                for (size_t i = 0; i < MLS_ARRAY_SIZE(ks_fields); i++)
                        if (!vec_expect_hex(c, o, ks_fields[i].field,
                                            mls_ks_get(jk, ks_fields[i].which),
                                            mls_ks_secret_len(jk)))
                                return VEC_FAIL;
        }
        e = mls_ks_epoch_authenticator(ks, &auth);
        if (e < 0 || !vec_expect_hex(c, o, "epoch_authenticator", auth.data, auth.len))
                return e < 0 ? vec_fail(c, "epoch authenticator: %s", mls_err_name(e)) : VEC_FAIL;
        /* 5. external_pub = public half of DeriveKeyPair(external_secret). */
        e = mls_ks_external_keypair(ks, &priv, &pub);
        if (e < 0)
                return vec_fail(c, "external key pair: %s", mls_err_name(e));
        if (!vec_expect_hex(c, o, "external_pub", pub.data, pub.len))
                return VEC_FAIL;
        if (check_exporter(c, ks, o) != VEC_PASS)
                return VEC_FAIL;
        *ret_ks = MLS_TAKE(ks);
        return VEC_PASS;
}

enum vec_result
vec_key_schedule(struct vec_case *c)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes group_id = { 0 };
        _mls_secret_ struct mls_secret *init = NULL;
        _mls_ks_ struct mls_epoch_secrets *prev = NULL;
        const struct mls_suite *s;
        json_object *epochs;
        uint64_t suite;
        size_t n;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) ||
            !vec_hex(c, c->obj, "group_id", &group_id) || !vec_get(c, c->obj, "epochs", &epochs))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)suite);
        if (!(init = hex_secret(c, c->obj, "initial_init_secret", s->hash_len)))
                return VEC_FAIL;
        if (!json_object_is_type(epochs, json_type_array))
                return vec_fail(c, "epochs is not an array");
        n = json_object_array_length(epochs);
        for (size_t i = 0; i < n; i++) {
                struct mls_epoch_secrets *ks = NULL;

                if (check_epoch(c, s, &group_id, i, json_object_array_get_idx(epochs, i), init,
                                prev, &ks) != VEC_PASS)
                        return VEC_FAIL;
                /* R-9.2-2: the previous epoch (and its init_secret) goes
                 * once the new one is in use. */
                mls_ks_free(prev);
                prev = ks;
        }
        return VEC_PASS;
}
