/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passive-client-*.json (FORMATS.md "passive-client-welcome.json", and the
 * withheld passive-client-handling-commit.json / passive-client-random.json
 * of the same format): a client that only listens joins by Welcome (with
 * the ratchet tree inline or given separately, with external PSKs), then
 * processes every epoch's proposals (cached by ProposalRef) and commit,
 * and must reach each epoch authenticator.
 *
 * Lifetime checks are off (FORMATS.md "Expired lifetimes"); resumption
 * PSKs of every past epoch are kept.
 *
 * R-12.4.3.1-1 .. -23 (join), R-12.1-3 (proposal cache), R-12.3-1 .. -5,
 * R-12.4.2-* (commit processing), R-8.4-3, R-8.6, R-8.7-1.
 */
#include <stdlib.h>
#include <string.h>

#include "mls/group.h"
#include "mls/crypto.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

struct pc_psk {
        struct mls_bytes id, psk;
};

struct pc_ctx {
        struct pc_psk *psks;
        size_t n_psks;
};

static int
pc_external_psk(void *ctx, const uint8_t *id, size_t len, struct mls_secret **ret)
{
        const struct pc_ctx *x = ctx;

        for (size_t i = 0; i < x->n_psks; i++)
                if (x->psks[i].id.len == len && memcmp(x->psks[i].id.data, id, len) == 0)
                        return mls_secret_from(x->psks[i].psk.data, x->psks[i].psk.len, ret);
        return MLS_E_UNKNOWN_PSK;
}

struct pc_case {
        struct pc_ctx ctx;
        struct mls_bytes kp, sig_priv, enc_priv, init_priv, welcome, tree;
        struct mls_secret *sig_s, *enc_s, *init_s;
        struct mls_key_package_priv *kpp;
        struct mls_group *g;
        struct mls_process_result res;
        struct mls_bytes msg, auth, sig_pub;
};

static void
pc_case_clear(struct pc_case *x)
{
        for (size_t i = 0; i < x->ctx.n_psks; i++) {
                mls_bytes_clear(&x->ctx.psks[i].id);
                mls_bytes_clear(&x->ctx.psks[i].psk);
        }
        free(x->ctx.psks);
        mls_bytes_clear(&x->kp);
        mls_bytes_clear(&x->sig_priv);
        mls_bytes_clear(&x->enc_priv);
        mls_bytes_clear(&x->init_priv);
        mls_bytes_clear(&x->welcome);
        mls_bytes_clear(&x->tree);
        mls_bytes_clear(&x->msg);
        mls_bytes_clear(&x->auth);
        mls_bytes_clear(&x->sig_pub);
        mls_secret_free(x->sig_s);
        mls_secret_free(x->enc_s);
        mls_secret_free(x->init_s);
        mls_key_package_priv_free(x->kpp);
        mls_group_free(x->g);
        mls_process_result_clear(&x->res);
}

static enum vec_result
load_psks(struct vec_case *c, struct pc_case *x)
{
        json_object *arr;
        size_t n;

        if (!vec_get(c, c->obj, "external_psks", &arr))
                return VEC_FAIL;
        if (!json_object_is_type(arr, json_type_array))
                return vec_fail(c, "external_psks is not an array");
        n = json_object_array_length(arr);
        x->ctx.psks = calloc(n ? n : 1, sizeof(*x->ctx.psks));
        if (!x->ctx.psks)
                return vec_fail(c, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(arr, i);

                x->ctx.n_psks++;
                if (!vec_hex(c, o, "psk_id", &x->ctx.psks[i].id) ||
                    !vec_hex(c, o, "psk", &x->ctx.psks[i].psk))
                        return VEC_FAIL;
        }
        return VEC_PASS;
}

static enum vec_result
process_msg(struct vec_case *c, struct pc_case *x, const struct mls_env *env, json_object *m,
            const char *what, size_t epoch_i)
{
        const char *hex;
        uint8_t *g;
        int e;

        if (!json_object_is_type(m, json_type_string))
                return vec_fail(c, "epochs[%zu].%s: not a string", epoch_i, what);
        hex = json_object_get_string(m);
        mls_bytes_clear(&x->msg);
        if (!tu_hex_decode(hex, &x->msg))
                return vec_fail(c, "epochs[%zu].%s: bad hex", epoch_i, what);
        g = tu_guarded_copy(x->msg.data, x->msg.len);
        if (!g)
                return vec_fail(c, "out of memory");
        mls_process_result_clear(&x->res);
        e = mls_group_process(x->g, env, g, x->msg.len, &x->res);
        tu_guarded_free(g);
        if (e < 0)
                return vec_fail(c, "epochs[%zu].%s: %s", epoch_i, what, mls_err_name(e));
        return VEC_PASS;
}

/* Some NIST-curve private scalars in the files have their leading zero
 * byte stripped (65 bytes for P-521): left-pad to the suite's size. */
static int
secret_padded(const struct mls_bytes *b, size_t want, struct mls_secret **ret)
{
        struct mls_secret *s;

        if (b->len >= want)
                return mls_secret_from(b->data, b->len, ret);
        MLS_TRY(mls_secret_new(want, &s));
        memcpy(s->data + (want - b->len), b->data, b->len);
        *ret = s;
        return 0;
}

enum vec_result
vec_passive_client(struct vec_case *c)
{
        struct pc_case x = { 0 };
        struct mls_group_options opts;
        struct mls_env env = { .rng = mls_rng_system(), .external_psk = pc_external_psk };
        struct mls_key_package_priv *kps[1];
        const struct mls_suite *s;
        json_object *tree_o, *epochs;
        enum vec_result res = VEC_PASS;
        uint64_t suite;
        uint8_t *wg = NULL;
        int e;

        env.ctx = &x.ctx;
        if (!vec_u64(c, c->obj, "cipher_suite", &suite))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)suite);
        if (load_psks(c, &x) != VEC_PASS || !vec_hex(c, c->obj, "key_package", &x.kp) ||
            !vec_hex(c, c->obj, "signature_priv", &x.sig_priv) ||
            !vec_hex(c, c->obj, "encryption_priv", &x.enc_priv) ||
            !vec_hex(c, c->obj, "init_priv", &x.init_priv) ||
            !vec_hex(c, c->obj, "welcome", &x.welcome) || !vec_get(c, c->obj, "ratchet_tree", &tree_o) ||
            !vec_get(c, c->obj, "epochs", &epochs)) {
                res = VEC_FAIL;
                goto out;
        }
        if (tree_o && !json_object_is_type(tree_o, json_type_null) &&
            !vec_hex(c, c->obj, "ratchet_tree", &x.tree)) {
                res = VEC_FAIL;
                goto out;
        }
        if (secret_padded(&x.sig_priv, s->sig_priv_len, &x.sig_s) < 0 ||
            secret_padded(&x.enc_priv, s->kem_priv_len, &x.enc_s) < 0 ||
            secret_padded(&x.init_priv, s->kem_priv_len, &x.init_s) < 0) {
                res = vec_fail(c, "out of memory");
                goto out;
        }
        /* Step 1: the private keys match the KeyPackage. */
        e = mls_key_package_priv_from_keys(x.kp.data, x.kp.len, x.init_s, x.enc_s, &x.kpp);
        if (e < 0) {
                res = vec_fail(c, "key_package / private keys: %s", mls_err_name(e));
                goto out;
        }
        e = mls_crypto_sig_pub_from_priv(s, x.sig_s, &x.sig_pub);
        {
                size_t kl;
                const uint8_t *kb = mls_key_package_priv_key_package(x.kpp, &kl);
                struct mls_key_package k = { 0 };

                if (e == 0)
                        e = mls_key_package_from_bytes(kb, kl, &k);
                if (e == 0 && !mls_bytes_eq(&k.leaf_node.signature_key, &x.sig_pub))
                        e = MLS_E_BAD_KEY;
                mls_key_package_clear(&k);
        }
        if (e < 0) {
                res = vec_fail(c, "signature_priv: %s", mls_err_name(e));
                goto out;
        }
        /* Step 2: join. */
        mls_group_options_default(&opts);
        opts.enforce_lifetime = false;
        opts.max_resumption_psks = MLS_GROUP_MAX_RESUMPTION_PSKS_LIMIT;
        kps[0] = x.kpp;
        wg = tu_guarded_copy(x.welcome.data, x.welcome.len);
        if (!wg) {
                res = vec_fail(c, "out of memory");
                goto out;
        }
        e = mls_group_join(wg, x.welcome.len, x.tree.len ? x.tree.data : NULL, x.tree.len, kps, 1,
                           &opts, &env, &x.g, NULL);
        tu_guarded_free(wg);
        if (e < 0) {
                res = vec_fail(c, "join: %s", mls_err_name(e));
                goto out;
        }
        /* Step 3 */
        e = mls_group_epoch_authenticator(x.g, &x.auth);
        if (e < 0 || !vec_expect_hex(c, c->obj, "initial_epoch_authenticator", x.auth.data,
                                     x.auth.len)) {
                res = e < 0 ? vec_fail(c, "epoch authenticator: %s", mls_err_name(e)) : VEC_FAIL;
                goto out;
        }
        /* Step 4 */
        if (!json_object_is_type(epochs, json_type_array)) {
                res = vec_fail(c, "epochs is not an array");
                goto out;
        }
        for (size_t i = 0; i < json_object_array_length(epochs) && res == VEC_PASS; i++) {
                json_object *ep = json_object_array_get_idx(epochs, i), *props, *commit;

                if (!vec_get(c, ep, "proposals", &props) || !vec_get(c, ep, "commit", &commit) ||
                    !json_object_is_type(props, json_type_array)) {
                        res = VEC_FAIL;
                        break;
                }
                for (size_t k = 0; k < json_object_array_length(props) && res == VEC_PASS; k++)
                        res = process_msg(c, &x, &env, json_object_array_get_idx(props, k),
                                          "proposals", i);
                if (res != VEC_PASS)
                        break;
                res = process_msg(c, &x, &env, commit, "commit", i);
                if (res != VEC_PASS)
                        break;
                if (x.res.content_type != 3) {
                        res = vec_fail(c, "epochs[%zu].commit: not a commit", i);
                        break;
                }
                mls_bytes_clear(&x.auth);
                e = mls_group_epoch_authenticator(x.g, &x.auth);
                if (e < 0) {
                        res = vec_fail(c, "epochs[%zu]: %s", i, mls_err_name(e));
                        break;
                }
                if (!vec_expect_hex(c, ep, "epoch_authenticator", x.auth.data, x.auth.len)) {
                        char why[sizeof(c->reason)];

                        memcpy(why, c->reason, sizeof(why));
                        res = vec_fail(c, "epochs[%zu]: %s", i, why);
                }
        }
out:
        pc_case_clear(&x);
        return res;
}
