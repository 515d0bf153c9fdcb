/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret-tree.json: sender-data key/nonce (RFC 9420 section 6.3.2) and the
 * secret tree with its hash ratchets (sections 9, 9.1); FORMATS.md
 * "secret-tree.json".
 *
 * R-6.3.2-3 (sender-data sample), R-9-1 (tree derivation), R-9-2 (ratchet
 * roots), R-9.1-1 (key/nonce/secret per generation). One tree per case,
 * queried as a receiver would be: for each leaf, each listed generation in
 * order (0 then 15: a forward jump inside the default bound), both ratchets.
 */
#include <stdlib.h>
#include <string.h>

#include "mls/crypto.h"
#include "mls/secrettree.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}

static enum vec_result
check_sender_data(struct vec_case *c, const struct mls_suite *s, json_object *sd)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes secret = { 0 }, ct = { 0 };
        _mls_key_nonce_ struct mls_key_nonce kn = { 0 };
        int e;

        if (!vec_hex(c, sd, "sender_data_secret", &secret) || !vec_hex(c, sd, "ciphertext", &ct))
                return VEC_FAIL;
        e = mls_st_sender_data_key(s, secret.data, secret.len, ct.data, ct.len, &kn);
        if (e < 0)
                return vec_fail(c, "sender data key: %s", mls_err_name(e));
        if (!vec_expect_hex(c, sd, "key", kn.key, kn.key_len) ||
            !vec_expect_hex(c, sd, "nonce", kn.nonce, kn.nonce_len))
                return VEC_FAIL;
        return VEC_PASS;
}

static enum vec_result
check_generation(struct vec_case *c, struct mls_secret_tree *t, uint32_t leaf, json_object *o)
{
        static const struct {
                enum mls_ratchet_type type;
                const char *key, *nonce;
        } kinds[] = {
                { MLS_RATCHET_HANDSHAKE, "handshake_key", "handshake_nonce" },
                { MLS_RATCHET_APPLICATION, "application_key", "application_nonce" },
        };
        uint64_t gen;

        if (!vec_u64(c, o, "generation", &gen))
                return VEC_FAIL;
        if (gen > UINT32_MAX)
                return vec_fail(c, "generation out of range");
        for (size_t k = 0; k < MLS_ARRAY_SIZE(kinds); k++) {
                _mls_key_nonce_ struct mls_key_nonce kn = { 0 };
                int e = mls_st_get(t, leaf, kinds[k].type, (uint32_t)gen, &kn);

                if (e < 0)
                        return vec_fail(c, "leaf %u generation %llu %s: %s", leaf,
                                        (unsigned long long)gen, kinds[k].key, mls_err_name(e));
                if (kn.generation != gen)
                        return vec_fail(c, "wrong generation handed out");
                if (!vec_expect_hex(c, o, kinds[k].key, kn.key, kn.key_len) ||
                    !vec_expect_hex(c, o, kinds[k].nonce, kn.nonce, kn.nonce_len))
                        return VEC_FAIL;
        }
        return VEC_PASS;
}

enum vec_result
vec_secret_tree(struct vec_case *c)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes enc = { 0 };
        _mls_st_ struct mls_secret_tree *t = NULL;
        const struct mls_suite *s;
        json_object *sd, *leaves;
        uint64_t suite;
        size_t n;
        int e;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) ||
            !vec_get(c, c->obj, "sender_data", &sd) || !vec_get(c, c->obj, "leaves", &leaves) ||
            !vec_hex(c, c->obj, "encryption_secret", &enc))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)suite);
        if (check_sender_data(c, s, sd) != VEC_PASS)
                return VEC_FAIL;
        if (!json_object_is_type(leaves, json_type_array))
                return vec_fail(c, "leaves is not an array");
        n = json_object_array_length(leaves);
        if (n == 0 || n > UINT32_MAX)
                return vec_fail(c, "bad leaf count %zu", n);
        e = mls_st_new(s, enc.data, enc.len, (uint32_t)n, &t);
        if (e < 0)
                return vec_fail(c, "mls_st_new: %s", mls_err_name(e));
        for (size_t i = 0; i < n; i++) {
                json_object *gens = json_object_array_get_idx(leaves, i);

                if (!json_object_is_type(gens, json_type_array))
                        return vec_fail(c, "leaves[%zu] is not an array", i);
                for (size_t j = 0; j < json_object_array_length(gens); j++)
                        if (check_generation(c, t, (uint32_t)i,
                                             json_object_array_get_idx(gens, j)) != VEC_PASS)
                                return VEC_FAIL;
        }
        return VEC_PASS;
}
