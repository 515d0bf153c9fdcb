/* SPDX-License-Identifier: Apache-2.0 */
/*
 * welcome.json: the cryptographic part of joining from a Welcome (RFC 9420
 * sections 5.2, 12.4.3, 12.4.3.1); FORMATS.md "welcome.json".
 *
 *   1. KeyPackageRef of the inner KeyPackage; exactly one entry matches
 *      (R-12.4.3.1-2).
 *   2. GroupSecrets = DecryptWithLabel(init_priv, "Welcome",
 *      encrypted_group_info, ...) (R-12.4.3.1-4); no path secret, no PSKs.
 *   3. welcome_secret/key/nonce, GroupInfo opened (R-12.4.3.1-7).
 *   4. GroupInfo signature with signer_pub (R-12.4.3-6, R-12.4.3-7).
 *   5. Epoch secrets from joiner_secret and the GroupContext, confirmation
 *      tag (R-12.4.3.1-21, R-12.4.3.1-22).
 * Then the committer side: a Welcome rebuilt from the decrypted GroupInfo
 * and joiner_secret for the same KeyPackage (mls_welcome_build) must go
 * through steps 1-5 again and yield the same GroupInfo.
 */
#include <stdlib.h>
#include <string.h>

#include "mls/keyschedule.h"
#include "mls/labeled.h"
#include "mls/messages.h"
#include "mls/welcome.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}
#define _bytes_ _mls_cleanup_(bytes_clearp)

static int
parse_message(const struct mls_bytes *b, struct mls_message *ret)
{
        uint8_t *g = tu_guarded_copy(b->data, b->len);
        int e;

        if (!g)
                return MLS_E_NOMEM;
        e = mls_message_from_bytes(g, b->len, ret);
        tu_guarded_free(g);
        return e;
}

/* Steps 1-5 on one Welcome; on success the GroupInfo and the epoch secrets
 * (which still hold joiner_secret and welcome_secret) are handed out. */
static enum vec_result
join(struct vec_case *c, const struct mls_suite *s, const struct mls_welcome *w,
     const struct mls_key_package *kp, const struct mls_secret *init_priv,
     const struct mls_bytes *signer_pub, const char *what, struct mls_group_info *ret_gi,
     struct mls_epoch_secrets **ret_ks)
{
        _bytes_ struct mls_bytes kp_bytes = { 0 }, gc_bytes = { 0 };
        _mls_cleanup_(mls_group_secrets_clear) struct mls_group_secrets gs = { 0 };
        _mls_cleanup_(mls_group_info_clear) struct mls_group_info gi = { 0 };
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;
        uint8_t ref[MLS_MAX_HASH_LEN];
        const uint8_t *ck;
        size_t idx = 0, matches = 0, match_at = 0;
        int e;

        /* 1. */
        e = mls_key_package_to_bytes(kp, &kp_bytes);
        if (e < 0)
                return vec_fail(c, "%s: encode KeyPackage: %s", what, mls_err_name(e));
        e = mls_make_key_package_ref(s, kp_bytes.data, kp_bytes.len, ref);
        if (e < 0)
                return vec_fail(c, "%s: KeyPackageRef: %s", what, mls_err_name(e));
        for (size_t i = 0; i < w->n_secrets; i++) {
                if (w->secrets[i].new_member.len == s->hash_len &&
                    memcmp(w->secrets[i].new_member.data, ref, s->hash_len) == 0) {
                        matches++;
                        match_at = i;
                }
        }
        if (matches != 1)
                return vec_fail(c, "%s: %zu entries match our KeyPackageRef", what, matches);
        e = mls_welcome_find_key_package(s, w, kp, &idx);
        if (e < 0 || idx != match_at)
                return vec_fail(c, "%s: find_key_package: %s", what, mls_err_name(e));
        /* 2. */
        e = mls_welcome_decrypt_secrets(s, w, idx, init_priv, &gs);
        if (e < 0)
                return vec_fail(c, "%s: GroupSecrets: %s", what, mls_err_name(e));
        if (gs.path_secret || gs.n_psks != 0)
                return vec_fail(c, "%s: unexpected path secret or PSKs", what);
        /* 3. */
        e = mls_welcome_decrypt_group_info(s, w, gs.joiner_secret, NULL, &gi);
        if (e < 0)
                return vec_fail(c, "%s: GroupInfo: %s", what, mls_err_name(e));
        /* 4. */
        e = mls_welcome_verify_group_info(s, &gi, signer_pub->data, signer_pub->len);
        if (e < 0)
                return vec_fail(c, "%s: GroupInfo signature: %s", what, mls_err_name(e));
        /* 5. */
        e = mls_group_context_to_bytes(&gi.group_context, &gc_bytes);
        if (e < 0)
                return vec_fail(c, "%s: encode GroupContext: %s", what, mls_err_name(e));
        e = mls_ks_from_joiner(s, gs.joiner_secret, NULL, gc_bytes.data, gc_bytes.len, &ks);
        if (e < 0)
                return vec_fail(c, "%s: epoch secrets: %s", what, mls_err_name(e));
        ck = mls_ks_get(ks, MLS_KS_CONFIRMATION_KEY);
        if (!ck)
                return vec_fail(c, "%s: no confirmation key", what);
        e = mls_welcome_verify_confirmation_tag(s, &gi, ck, mls_ks_secret_len(ks));
        if (e < 0)
                return vec_fail(c, "%s: confirmation tag: %s", what, mls_err_name(e));
        *ret_gi = gi;
        memset(&gi, 0, sizeof(gi));
        *ret_ks = MLS_TAKE(ks);
        return VEC_PASS;
}

enum vec_result
vec_welcome(struct vec_case *c)
{
        _bytes_ struct mls_bytes priv = { 0 }, signer_pub = { 0 }, kp_hex = { 0 },
                                 w_hex = { 0 }, gi1 = { 0 }, gi2 = { 0 }, w2_bytes = { 0 };
        _mls_secret_ struct mls_secret *init_priv = NULL;
        _mls_cleanup_(mls_message_clear) struct mls_message kp_msg = { 0 }, w_msg = { 0 },
                                                             w2_msg = { 0 };
        _mls_cleanup_(mls_group_info_clear) struct mls_group_info gi = { 0 }, gi_again = { 0 };
        _mls_cleanup_(mls_welcome_clear) struct mls_welcome w2 = { 0 };
        _mls_ks_ struct mls_epoch_secrets *ks = NULL, *ks_again = NULL;
        struct mls_welcome_new_member nm;
        const struct mls_suite *s;
        uint64_t suite;
        int e;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) ||
            !vec_hex(c, c->obj, "init_priv", &priv) ||
            !vec_hex(c, c->obj, "signer_pub", &signer_pub) ||
            !vec_hex(c, c->obj, "key_package", &kp_hex) || !vec_hex(c, c->obj, "welcome", &w_hex))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_fail(c, "cipher suite %llu not supported", (unsigned long long)suite);
        e = mls_secret_from(priv.data, priv.len, &init_priv);
        mls_wipe(priv.data, priv.len);
        if (e < 0)
                return vec_fail(c, "out of memory");
        e = parse_message(&kp_hex, &kp_msg);
        if (e < 0 || kp_msg.wire_format != MLS_WIRE_KEY_PACKAGE)
                return vec_fail(c, "key_package does not parse: %s", mls_err_name(e));
        e = parse_message(&w_hex, &w_msg);
        if (e < 0 || w_msg.wire_format != MLS_WIRE_WELCOME)
                return vec_fail(c, "welcome does not parse: %s", mls_err_name(e));
        if (join(c, s, &w_msg.welcome, &kp_msg.key_package, init_priv, &signer_pub, "vector",
                 &gi, &ks) != VEC_PASS)
                return VEC_FAIL;

        /* Committer side: the same GroupInfo and joiner_secret, the same
         * KeyPackage, a fresh HPKE encapsulation. */
        nm = (struct mls_welcome_new_member){ .key_package = &kp_msg.key_package };
        e = mls_welcome_build(ks, &gi, NULL, 0, &nm, 1, mls_rng_system(), &w2);
        if (e < 0)
                return vec_fail(c, "build: %s", mls_err_name(e));
        /* Through the wire format and back. */
        w2_msg.version = MLS_VERSION_MLS10;
        w2_msg.wire_format = MLS_WIRE_WELCOME;
        w2_msg.welcome = w2;
        e = mls_message_to_bytes(&w2_msg, &w2_bytes);
        memset(&w2_msg, 0, sizeof(w2_msg)); /* w2 still owns the welcome */
        if (e < 0)
                return vec_fail(c, "encode rebuilt Welcome: %s", mls_err_name(e));
        e = parse_message(&w2_bytes, &w2_msg);
        if (e < 0 || w2_msg.wire_format != MLS_WIRE_WELCOME)
                return vec_fail(c, "rebuilt Welcome does not parse: %s", mls_err_name(e));
        if (join(c, s, &w2_msg.welcome, &kp_msg.key_package, init_priv, &signer_pub, "rebuilt",
                 &gi_again, &ks_again) != VEC_PASS)
                return VEC_FAIL;
        if (mls_group_info_to_bytes(&gi, &gi1) < 0 || mls_group_info_to_bytes(&gi_again, &gi2) < 0)
                return vec_fail(c, "encode GroupInfo");
        if (!mls_bytes_eq(&gi1, &gi2))
                return vec_fail(c, "rebuilt Welcome carries another GroupInfo");
        if (mls_ks_secret_len(ks) != mls_ks_secret_len(ks_again) ||
            !mls_ct_eq(mls_ks_get(ks, MLS_KS_JOINER_SECRET),
                       mls_ks_get(ks_again, MLS_KS_JOINER_SECRET), mls_ks_secret_len(ks)))
                return vec_fail(c, "rebuilt Welcome carries another joiner_secret");
        return VEC_PASS;
}
