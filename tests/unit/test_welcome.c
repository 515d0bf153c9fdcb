/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/welcome: GroupInfo signatures (RFC 9420 section
 * 12.4.3), building a Welcome for several members and joining from it
 * (section 12.4.3.1), and every rejection with its own error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/keyschedule.h"
#include "mls/labeled.h"
#include "mls/messages.h"
#include "mls/welcome.h"
#include "tests/lib/testutil.h"

#define SIGNER_LEAF 3

struct joiner {
        struct mls_key_package kp;
        struct mls_secret *init_priv;
        struct mls_secret *path_secret;
};

struct wfx {
        const struct mls_suite *s;
        struct mls_secret *signer_priv;
        struct mls_bytes signer_pub;
        struct mls_group_info gi;
        struct mls_bytes gc_bytes;
        struct mls_secret *joiner_secret;
        struct mls_secret *psk_secret; /* NULL: no PSKs */
        struct mls_epoch_secrets *ks;
        struct mls_psk_id psk;
        struct joiner *j;
        size_t n;
};

static void
rand_bytes(struct mls_bytes *b, size_t len)
{
        b->data = malloc(len);
        assert_non_null(b->data);
        b->len = len;
        randombytes_buf(b->data, len);
}

static void
make_key_package(const struct mls_suite *s, struct joiner *j)
{
        struct mls_key_package *kp = &j->kp;
        struct mls_leaf_node *ln = &kp->leaf_node;
        struct mls_secret *sig_priv = NULL;

        memset(kp, 0, sizeof(*kp));
        kp->version = MLS_VERSION_MLS10;
        kp->cipher_suite = s->id;
        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &j->init_priv, &kp->init_key),
                         0);
        rand_bytes(&ln->encryption_key, s->kem_pub_len);
        assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &sig_priv, &ln->signature_key),
                         0);
        mls_secret_free(sig_priv);
        ln->credential.credential_type = MLS_CREDENTIAL_BASIC;
        rand_bytes(&ln->credential.identity, 8);
        ln->leaf_node_source = MLS_LEAF_SOURCE_KEY_PACKAGE;
        ln->lifetime = (struct mls_lifetime){ 0, UINT64_MAX };
        rand_bytes(&ln->signature, 16);
        rand_bytes(&kp->signature, 16);
}

/* A signed GroupInfo of epoch 5 whose confirmation tag is right for the
 * epoch secrets derived from joiner_secret (and psk_secret if with_psk). */
static struct wfx *
wfx_new(uint16_t suite, size_t n_joiners, bool with_psk)
{
        struct wfx *w = calloc(1, sizeof(*w));
        struct mls_group_context *gc;
        uint8_t tag[MLS_MAX_HASH_LEN];
        const uint8_t *ck;

        assert_non_null(w);
        w->s = mls_suite_get(suite);
        assert_non_null(w->s);
        assert_int_equal(mls_crypto_sig_keygen(w->s, mls_rng_system(), &w->signer_priv,
                                               &w->signer_pub),
                         0);
        gc = &w->gi.group_context;
        gc->version = MLS_VERSION_MLS10;
        gc->cipher_suite = suite;
        rand_bytes(&gc->group_id, 16);
        gc->epoch = 5;
        rand_bytes(&gc->tree_hash, w->s->hash_len);
        rand_bytes(&gc->confirmed_transcript_hash, w->s->hash_len);
        /* An unknown GroupInfo extension travels untouched (R-12.4.3-2). */
        assert_int_equal(mls_extension_list_add(&w->gi.extensions, 0xff0a,
                                                (const uint8_t *)"grease", 6),
                         0);
        assert_int_equal(mls_group_context_to_bytes(gc, &w->gc_bytes), 0);
        assert_int_equal(mls_secret_new(w->s->hash_len, &w->joiner_secret), 0);
        randombytes_buf(w->joiner_secret->data, w->joiner_secret->len);
        if (with_psk) {
                assert_int_equal(mls_secret_new(w->s->hash_len, &w->psk_secret), 0);
                randombytes_buf(w->psk_secret->data, w->psk_secret->len);
                w->psk.psktype = MLS_PSK_EXTERNAL;
                rand_bytes(&w->psk.psk_id, 8);
                rand_bytes(&w->psk.psk_nonce, w->s->hash_len);
        }
        assert_int_equal(mls_ks_from_joiner(w->s, w->joiner_secret, w->psk_secret,
                                            w->gc_bytes.data, w->gc_bytes.len, &w->ks),
                         0);
        ck = mls_ks_get(w->ks, MLS_KS_CONFIRMATION_KEY);
        assert_non_null(ck);
        assert_int_equal(mls_mac(w->s, ck, w->s->hash_len, gc->confirmed_transcript_hash.data,
                                 gc->confirmed_transcript_hash.len, tag),
                         0);
        assert_int_equal(mls_bytes_copy(&w->gi.confirmation_tag, tag, w->s->hash_len), 0);
        w->gi.signer = SIGNER_LEAF;
        assert_int_equal(mls_welcome_sign_group_info_with_key(w->s, &w->gi, w->signer_priv), 0);
        w->n = n_joiners;
        w->j = calloc(n_joiners, sizeof(*w->j));
        assert_non_null(w->j);
        for (size_t i = 0; i < n_joiners; i++) {
                make_key_package(w->s, &w->j[i]);
                /* Every other joiner gets a path secret. */
                if (i % 2 == 1) {
                        assert_int_equal(mls_secret_new(w->s->hash_len, &w->j[i].path_secret), 0);
                        randombytes_buf(w->j[i].path_secret->data, w->s->hash_len);
                }
        }
        return w;
}

static void
wfx_free(struct wfx *w)
{
        for (size_t i = 0; i < w->n; i++) {
                mls_key_package_clear(&w->j[i].kp);
                mls_secret_free(w->j[i].init_priv);
                mls_secret_free(w->j[i].path_secret);
        }
        free(w->j);
        mls_psk_id_clear(&w->psk);
        mls_ks_free(w->ks);
        mls_secret_free(w->joiner_secret);
        mls_secret_free(w->psk_secret);
        mls_bytes_clear(&w->gc_bytes);
        mls_group_info_clear(&w->gi);
        mls_secret_free(w->signer_priv);
        mls_bytes_clear(&w->signer_pub);
        free(w);
}

static void
wfx_build(const struct wfx *w, struct mls_welcome *ret)
{
        struct mls_welcome_new_member *m = calloc(w->n, sizeof(*m));

        assert_non_null(m);
        for (size_t i = 0; i < w->n; i++)
                m[i] = (struct mls_welcome_new_member){ .key_package = &w->j[i].kp,
                                                        .path_secret = w->j[i].path_secret };
        assert_int_equal(mls_welcome_build(w->ks, &w->gi, w->psk_secret ? &w->psk : NULL,
                                           w->psk_secret ? 1 : 0, m, w->n, mls_rng_system(),
                                           ret),
                         0);
        free(m);
}

/* Through the wire encoding and back, from a guarded buffer. */
static void
wire_roundtrip(struct mls_welcome *w)
{
        struct mls_bytes b = { 0 };
        uint8_t *g;

        assert_int_equal(mls_welcome_to_bytes(w, &b), 0);
        mls_welcome_clear(w);
        g = tu_guarded_copy(b.data, b.len);
        assert_non_null(g);
        assert_int_equal(mls_welcome_from_bytes(g, b.len, w), 0);
        tu_guarded_free(g);
        mls_bytes_clear(&b);
}

/* The whole joiner side for joiner i; returns the first error. */
static int
join(const struct wfx *w, const struct mls_welcome *wel, size_t i,
     const struct mls_secret *psk_secret, struct mls_group_info *ret_gi)
{
        struct mls_group_secrets gs = { 0 };
        struct mls_group_info gi = { 0 };
        struct mls_bytes gc = { 0 };
        struct mls_epoch_secrets *ks = NULL;
        size_t idx;
        int e;

        e = mls_welcome_find_key_package(w->s, wel, &w->j[i].kp, &idx);
        if (e == 0)
                e = mls_welcome_decrypt_secrets(w->s, wel, idx, w->j[i].init_priv, &gs);
        if (e == 0)
                e = mls_welcome_decrypt_group_info(w->s, wel, gs.joiner_secret, psk_secret, &gi);
        if (e == 0)
                e = mls_welcome_verify_group_info(w->s, &gi, w->signer_pub.data,
                                                  w->signer_pub.len);
        if (e == 0)
                e = mls_group_context_to_bytes(&gi.group_context, &gc);
        if (e == 0)
                e = mls_ks_from_joiner(w->s, gs.joiner_secret, psk_secret, gc.data, gc.len, &ks);
        if (e == 0)
                e = mls_welcome_verify_confirmation_tag(
                        w->s, &gi, mls_ks_get(ks, MLS_KS_CONFIRMATION_KEY), w->s->hash_len);
        if (e == 0) {
                /* The secrets are the committer's. */
                assert_true(mls_secret_eq(gs.joiner_secret, w->joiner_secret));
                if (w->j[i].path_secret)
                        assert_true(gs.path_secret &&
                                    mls_secret_eq(gs.path_secret, w->j[i].path_secret));
                else
                        assert_null(gs.path_secret);
                assert_int_equal(gs.n_psks, w->psk_secret ? 1 : 0);
                if (w->psk_secret)
                        assert_true(mls_psk_id_eq(&gs.psks[0], &w->psk));
        }
        if (e == 0 && ret_gi) {
                *ret_gi = gi;
                memset(&gi, 0, sizeof(gi));
        }
        mls_ks_free(ks);
        mls_bytes_clear(&gc);
        mls_group_info_clear(&gi);
        mls_group_secrets_clear(&gs);
        return e;
}

static void
assert_gi_equal(const struct mls_group_info *a, const struct mls_group_info *b)
{
        struct mls_bytes x = { 0 }, y = { 0 };

        assert_int_equal(mls_group_info_to_bytes(a, &x), 0);
        assert_int_equal(mls_group_info_to_bytes(b, &y), 0);
        assert_true(mls_bytes_eq(&x, &y));
        mls_bytes_clear(&x);
        mls_bytes_clear(&y);
}

/* R-12.4.3.1-2, -4, -7, -21, -22, R-12.4.3-6, -7: three members, one with
 * a path secret, with a PSK, in every suite; each finds its entry, opens
 * its GroupSecrets and the shared GroupInfo, and checks signature and
 * confirmation tag. */
static void
test_welcome_roundtrip_all_suites(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t k = 0; k < n; k++) {
                struct wfx *w = wfx_new(ids[k], 3, k % 2 == 0);
                struct mls_welcome wel = { 0 };

                wfx_build(w, &wel);
                assert_int_equal(wel.cipher_suite, ids[k]);
                assert_int_equal(wel.n_secrets, 3);
                wire_roundtrip(&wel);
                for (size_t i = 0; i < w->n; i++) {
                        struct mls_group_info gi = { 0 };
                        uint8_t ref[MLS_MAX_HASH_LEN];
                        struct mls_bytes kp = { 0 };

                        /* new_member is the KeyPackageRef, in order. */
                        assert_int_equal(mls_key_package_to_bytes(&w->j[i].kp, &kp), 0);
                        assert_int_equal(mls_make_key_package_ref(w->s, kp.data, kp.len, ref), 0);
                        mls_bytes_clear(&kp);
                        assert_int_equal(wel.secrets[i].new_member.len, w->s->hash_len);
                        assert_memory_equal(wel.secrets[i].new_member.data, ref, w->s->hash_len);
                        assert_int_equal(join(w, &wel, i, w->psk_secret, &gi), 0);
                        assert_gi_equal(&gi, &w->gi);
                        mls_group_info_clear(&gi);
                }
                /* One encapsulation per member. */
                assert_false(mls_bytes_eq(&wel.secrets[0].encrypted_group_secrets.kem_output,
                                          &wel.secrets[1].encrypted_group_secrets.kem_output));
                mls_welcome_clear(&wel);
                wfx_free(w);
        }
}

/* Many members in one Welcome: every slice of the shared plaintext buffer
 * goes to the right member; KeyPackageRefs handed in are used as given. */
static void
test_welcome_many_members_and_given_refs(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 40, true);
        struct mls_welcome_new_member *m = calloc(w->n, sizeof(*m));
        uint8_t (*refs)[MLS_MAX_HASH_LEN] = calloc(w->n, sizeof(*refs));
        struct mls_welcome wel = { 0 };

        (void)state;
        assert_non_null(m);
        assert_non_null(refs);
        for (size_t i = 0; i < w->n; i++) {
                struct mls_bytes kp = { 0 };

                assert_int_equal(mls_key_package_to_bytes(&w->j[i].kp, &kp), 0);
                assert_int_equal(mls_make_key_package_ref(w->s, kp.data, kp.len, refs[i]), 0);
                mls_bytes_clear(&kp);
                m[i] = (struct mls_welcome_new_member){ .key_package = &w->j[i].kp,
                                                        .ref = refs[i],
                                                        .path_secret = w->j[i].path_secret };
        }
        assert_int_equal(mls_welcome_build(w->ks, &w->gi, &w->psk, 1, m, w->n, mls_rng_system(),
                                           &wel),
                         0);
        for (size_t i = 0; i < w->n; i++) {
                size_t idx;

                assert_int_equal(mls_welcome_find_ref(&wel, refs[i], w->s->hash_len, &idx), 0);
                assert_int_equal(idx, i);
                assert_int_equal(join(w, &wel, i, w->psk_secret, NULL), 0);
        }
        mls_welcome_clear(&wel);
        free(refs);
        free(m);
        wfx_free(w);
}

/* R-12.4.3.1-2: no entry for our KeyPackage. */
static void
test_welcome_no_matching_key_package(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 3, false);
        struct joiner stranger = { 0 };
        struct mls_welcome wel = { 0 };
        size_t idx = 99;
        uint8_t ref[MLS_MAX_HASH_LEN] = { 0 };

        (void)state;
        wfx_build(w, &wel);
        make_key_package(w->s, &stranger);
        assert_int_equal(mls_welcome_find_key_package(w->s, &wel, &stranger.kp, &idx),
                         MLS_E_KEY_PACKAGE_NOT_FOUND);
        assert_int_equal(idx, 99);
        assert_int_equal(mls_welcome_find_ref(&wel, ref, w->s->hash_len, &idx),
                         MLS_E_KEY_PACKAGE_NOT_FOUND);
        /* A KeyPackage that differs in one byte has another reference. */
        w->j[0].kp.signature.data[0] ^= 0x01;
        assert_int_equal(mls_welcome_find_key_package(w->s, &wel, &w->j[0].kp, &idx),
                         MLS_E_KEY_PACKAGE_NOT_FOUND);
        w->j[0].kp.signature.data[0] ^= 0x01;
        assert_int_equal(mls_welcome_find_key_package(w->s, &wel, &w->j[0].kp, &idx), 0);
        mls_key_package_clear(&stranger.kp);
        mls_secret_free(stranger.init_priv);
        mls_welcome_clear(&wel);
        wfx_free(w);
}

/* R-12.4.3.1-3, R-12.4.3.1-10: suites must agree. */
static void
test_welcome_wrong_suite(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 1, false);
        const struct mls_suite *other = mls_suite_get(MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519);
        struct mls_welcome wel = { 0 };
        struct mls_group_secrets gs = { 0 };
        struct mls_group_info gi = { 0 };
        size_t idx;

        (void)state;
        wfx_build(w, &wel);
        assert_int_equal(mls_welcome_find_key_package(other, &wel, &w->j[0].kp, &idx),
                         MLS_E_WRONG_SUITE);
        assert_int_equal(mls_welcome_decrypt_secrets(other, &wel, 0, w->j[0].init_priv, &gs),
                         MLS_E_WRONG_SUITE);
        assert_int_equal(mls_welcome_decrypt_group_info(other, &wel, w->joiner_secret, NULL, &gi),
                         MLS_E_WRONG_SUITE);
        w->j[0].kp.cipher_suite = other->id;
        assert_int_equal(mls_welcome_find_key_package(w->s, &wel, &w->j[0].kp, &idx),
                         MLS_E_WRONG_SUITE);
        w->j[0].kp.cipher_suite = w->s->id;
        mls_welcome_clear(&wel);
        wfx_free(w);
}

/* R-12.4.3.1-4: GroupSecrets open only with the right init key, an intact
 * ciphertext and the right encrypted_group_info as context. */
static void
test_welcome_group_secrets_decrypt_failures(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_P256_AES128GCM_SHA256_P256, 2, false);
        struct mls_welcome wel = { 0 };
        struct mls_group_secrets gs = { 0 };
        struct mls_hpke_ciphertext *c;

        (void)state;
        wfx_build(w, &wel);
        /* Someone else's init key. */
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[1].init_priv, &gs),
                         MLS_E_DECRYPT);
        c = &wel.secrets[0].encrypted_group_secrets;
        c->ciphertext.data[c->ciphertext.len - 1] ^= 0x01;
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &gs),
                         MLS_E_DECRYPT);
        c->ciphertext.data[c->ciphertext.len - 1] ^= 0x01;
        /* The context binds the GroupSecrets to this GroupInfo ciphertext. */
        wel.encrypted_group_info.data[0] ^= 0x01;
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &gs),
                         MLS_E_DECRYPT);
        wel.encrypted_group_info.data[0] ^= 0x01;
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &gs), 0);
        mls_group_secrets_clear(&gs);
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 2, w->j[0].init_priv, &gs),
                         MLS_E_INVALID_ARGUMENT);
        mls_welcome_clear(&wel);
        wfx_free(w);
}

/* R-12.4.3.1-7: the GroupInfo opens only with the right joiner_secret and
 * psk_secret and an intact ciphertext. */
static void
test_welcome_group_info_decrypt_failures(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 1, true);
        struct mls_welcome wel = { 0 };
        struct mls_group_info gi = { 0 };
        struct mls_secret *wrong = NULL;

        (void)state;
        wfx_build(w, &wel);
        /* The PSK the committer used is missing. */
        assert_int_equal(mls_welcome_decrypt_group_info(w->s, &wel, w->joiner_secret, NULL, &gi),
                         MLS_E_DECRYPT);
        assert_int_equal(join(w, &wel, 0, NULL, NULL), MLS_E_DECRYPT);
        assert_int_equal(mls_secret_dup(w->joiner_secret, &wrong), 0);
        wrong->data[0] ^= 0x01;
        assert_int_equal(mls_welcome_decrypt_group_info(w->s, &wel, wrong, w->psk_secret, &gi),
                         MLS_E_DECRYPT);
        mls_secret_free(wrong);
        wel.encrypted_group_info.data[wel.encrypted_group_info.len / 2] ^= 0x10;
        assert_int_equal(mls_welcome_decrypt_group_info(w->s, &wel, w->joiner_secret,
                                                        w->psk_secret, &gi),
                         MLS_E_DECRYPT);
        wel.encrypted_group_info.data[wel.encrypted_group_info.len / 2] ^= 0x10;
        wel.encrypted_group_info.len = w->s->aead_tag_len - 1;
        assert_int_equal(mls_welcome_decrypt_group_info(w->s, &wel, w->joiner_secret,
                                                        w->psk_secret, &gi),
                         MLS_E_DECRYPT);
        mls_welcome_clear(&wel);
        wfx_free(w);
}

/* R-12.4.3-6, R-12.4.3-7: a flipped signature bit, another signer key, or
 * a changed signed field. */
static void
test_welcome_group_info_flipped_signature(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 1, false);
        struct mls_secret *other_priv = NULL;
        struct mls_bytes other_pub = { 0 };

        (void)state;
        assert_int_equal(mls_welcome_verify_group_info(w->s, &w->gi, w->signer_pub.data,
                                                       w->signer_pub.len),
                         0);
        w->gi.signature.data[7] ^= 0x02;
        assert_int_equal(mls_welcome_verify_group_info(w->s, &w->gi, w->signer_pub.data,
                                                       w->signer_pub.len),
                         MLS_E_BAD_SIGNATURE);
        w->gi.signature.data[7] ^= 0x02;
        w->gi.signer++;
        assert_int_equal(mls_welcome_verify_group_info(w->s, &w->gi, w->signer_pub.data,
                                                       w->signer_pub.len),
                         MLS_E_BAD_SIGNATURE);
        w->gi.signer--;
        w->gi.group_context.epoch++;
        assert_int_equal(mls_welcome_verify_group_info(w->s, &w->gi, w->signer_pub.data,
                                                       w->signer_pub.len),
                         MLS_E_BAD_SIGNATURE);
        w->gi.group_context.epoch--;
        assert_int_equal(mls_crypto_sig_keygen(w->s, mls_rng_system(), &other_priv, &other_pub),
                         0);
        assert_int_equal(mls_welcome_verify_group_info(w->s, &w->gi, other_pub.data,
                                                       other_pub.len),
                         MLS_E_BAD_SIGNATURE);
        mls_secret_free(other_priv);
        mls_bytes_clear(&other_pub);
        wfx_free(w);
}

/* R-12.4.3.1-22: a flipped or truncated confirmation tag, or the wrong
 * confirmation key. */
static void
test_welcome_wrong_confirmation_tag(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_P521_AES256GCM_SHA512_P521, 1, false);
        const uint8_t *ck = mls_ks_get(w->ks, MLS_KS_CONFIRMATION_KEY);
        uint8_t wrong[MLS_MAX_HASH_LEN];

        (void)state;
        assert_int_equal(mls_welcome_verify_confirmation_tag(w->s, &w->gi, ck, w->s->hash_len), 0);
        w->gi.confirmation_tag.data[w->s->hash_len - 1] ^= 0x01;
        assert_int_equal(mls_welcome_verify_confirmation_tag(w->s, &w->gi, ck, w->s->hash_len),
                         MLS_E_BAD_CONFIRMATION_TAG);
        w->gi.confirmation_tag.data[w->s->hash_len - 1] ^= 0x01;
        w->gi.confirmation_tag.len--;
        assert_int_equal(mls_welcome_verify_confirmation_tag(w->s, &w->gi, ck, w->s->hash_len),
                         MLS_E_BAD_CONFIRMATION_TAG);
        w->gi.confirmation_tag.len++;
        memcpy(wrong, ck, w->s->hash_len);
        wrong[0] ^= 0x01;
        assert_int_equal(mls_welcome_verify_confirmation_tag(w->s, &w->gi, wrong, w->s->hash_len),
                         MLS_E_BAD_CONFIRMATION_TAG);
        /* Another transcript hash under the same key. */
        w->gi.group_context.confirmed_transcript_hash.data[0] ^= 0x01;
        assert_int_equal(mls_welcome_verify_confirmation_tag(w->s, &w->gi, ck, w->s->hash_len),
                         MLS_E_BAD_CONFIRMATION_TAG);
        w->gi.group_context.confirmed_transcript_hash.data[0] ^= 0x01;
        mls_wipe(wrong, sizeof(wrong));
        wfx_free(w);
}

/* A hand-made Welcome carrying an arbitrary GroupSecrets for joiner 0. */
static void
welcome_with_secrets(const struct wfx *w, const struct mls_group_secrets *gs,
                     struct mls_welcome *ret)
{
        struct mls_secret *pt = NULL;
        struct mls_bytes kp = { 0 };
        uint8_t ref[MLS_MAX_HASH_LEN];

        wfx_build(w, ret);
        assert_int_equal(mls_group_secrets_to_secret(gs, &pt), 0);
        mls_hpke_ciphertext_clear(&ret->secrets[0].encrypted_group_secrets);
        assert_int_equal(mls_encrypt_with_label(w->s, mls_rng_system(), w->j[0].kp.init_key.data,
                                                w->j[0].kp.init_key.len, "Welcome",
                                                ret->encrypted_group_info.data,
                                                ret->encrypted_group_info.len, pt->data, pt->len,
                                                &ret->secrets[0].encrypted_group_secrets.kem_output,
                                                &ret->secrets[0].encrypted_group_secrets.ciphertext),
                         0);
        assert_int_equal(mls_key_package_to_bytes(&w->j[0].kp, &kp), 0);
        assert_int_equal(mls_make_key_package_ref(w->s, kp.data, kp.len, ref), 0);
        assert_memory_equal(ret->secrets[0].new_member.data, ref, w->s->hash_len);
        mls_bytes_clear(&kp);
        mls_secret_free(pt);
}

/* R-12.4.3.1-6 and the size of the secrets: checked on decryption. The same
 * construction with valid secrets is accepted, so the failures are the
 * checks, not the construction. */
static void
test_welcome_group_secrets_validation(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 1, false);
        struct mls_psk_id psks[2] = { 0 };
        struct mls_secret *short_secret = NULL;
        struct mls_group_secrets gs = { .joiner_secret = w->joiner_secret }, out = { 0 };
        struct mls_welcome wel = { 0 };

        (void)state;
        welcome_with_secrets(w, &gs, &wel);
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &out), 0);
        mls_group_secrets_clear(&out);
        mls_welcome_clear(&wel);

        for (size_t i = 0; i < 2; i++) {
                psks[i].psktype = MLS_PSK_RESUMPTION;
                psks[i].usage = i == 0 ? MLS_PSK_USAGE_REINIT : MLS_PSK_USAGE_BRANCH;
                rand_bytes(&psks[i].psk_group_id, 4);
                psks[i].psk_epoch = 1;
                rand_bytes(&psks[i].psk_nonce, w->s->hash_len);
        }
        gs.psks = psks;
        gs.n_psks = 1;
        welcome_with_secrets(w, &gs, &wel);
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &out), 0);
        mls_group_secrets_clear(&out);
        mls_welcome_clear(&wel);
        gs.n_psks = 2;
        welcome_with_secrets(w, &gs, &wel);
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &out),
                         MLS_E_INVALID_MESSAGE);
        mls_welcome_clear(&wel);
        gs.n_psks = 0;

        assert_int_equal(mls_secret_new(w->s->hash_len - 1, &short_secret), 0);
        gs.joiner_secret = short_secret;
        welcome_with_secrets(w, &gs, &wel);
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &out),
                         MLS_E_INVALID_MESSAGE);
        mls_welcome_clear(&wel);
        gs.joiner_secret = w->joiner_secret;
        gs.path_secret = short_secret;
        welcome_with_secrets(w, &gs, &wel);
        assert_int_equal(mls_welcome_decrypt_secrets(w->s, &wel, 0, w->j[0].init_priv, &out),
                         MLS_E_INVALID_MESSAGE);
        mls_welcome_clear(&wel);
        mls_secret_free(short_secret);
        mls_psk_id_clear(&psks[0]);
        mls_psk_id_clear(&psks[1]);
        wfx_free(w);
}

struct rec_signer {
        const struct mls_suite *s;
        const struct mls_secret *priv;
        char label[32];
        struct mls_bytes content;
};

static int
rec_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
         struct mls_bytes *ret_sig)
{
        struct rec_signer *r = ctx;

        snprintf(r->label, sizeof(r->label), "%s", label);
        mls_bytes_clear(&r->content);
        if (mls_bytes_copy(&r->content, content, len) < 0)
                return MLS_E_NOMEM;
        return mls_sign_with_label(r->s, r->priv, label, content, len, ret_sig);
}

static int
empty_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
           struct mls_bytes *ret_sig)
{
        (void)ctx;
        (void)label;
        (void)content;
        (void)len;
        *ret_sig = (struct mls_bytes){ 0 };
        return 0;
}

/* R-12.4.3-7: the signer is asked for label "GroupInfoTBS" over the
 * GroupInfoTBS bytes; a signer returning nothing is an error. */
static void
test_welcome_sign_callback_label_and_content(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X448_AES256GCM_SHA512_ED448, 1, false);
        struct rec_signer rec = { .s = w->s, .priv = w->signer_priv };
        struct mls_signer signer = { .sign = rec_sign, .ctx = &rec };
        struct mls_signer empty = { .sign = empty_sign };
        struct mls_writer wr;
        struct mls_bytes tbs = { 0 };

        (void)state;
        assert_int_equal(mls_welcome_sign_group_info(w->s, &w->gi, &signer), 0);
        assert_string_equal(rec.label, "GroupInfoTBS");
        mls_writer_init(&wr);
        assert_int_equal(mls_group_info_tbs_encode(&wr, &w->gi), 0);
        assert_int_equal(mls_writer_finish(&wr, &tbs), 0);
        assert_true(mls_bytes_eq(&tbs, &rec.content));
        assert_int_equal(mls_welcome_verify_group_info(w->s, &w->gi, w->signer_pub.data,
                                                       w->signer_pub.len),
                         0);
        assert_int_equal(mls_welcome_sign_group_info(w->s, &w->gi, &empty), MLS_E_CRYPTO);
        /* The old signature is kept on failure. */
        assert_int_equal(mls_welcome_verify_group_info(w->s, &w->gi, w->signer_pub.data,
                                                       w->signer_pub.len),
                         0);
        mls_bytes_clear(&tbs);
        mls_bytes_clear(&rec.content);
        wfx_free(w);
}

/* The committer's refusals. */
static void
test_welcome_build_refusals(void **state)
{
        struct wfx *w = wfx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, 1, false);
        struct joiner other = { 0 };
        struct mls_welcome wel = { 0 };
        struct mls_welcome_new_member m = { .key_package = &w->j[0].kp };
        struct mls_secret *short_ps = NULL;
        struct mls_bytes sig;

        (void)state;
        assert_int_equal(mls_welcome_build(w->ks, &w->gi, NULL, 0, &m, 0, mls_rng_system(), &wel),
                         MLS_E_INVALID_ARGUMENT);
        /* A KeyPackage of another suite. */
        make_key_package(mls_suite_get(MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519), &other);
        m.key_package = &other.kp;
        assert_int_equal(mls_welcome_build(w->ks, &w->gi, NULL, 0, &m, 1, mls_rng_system(), &wel),
                         MLS_E_WRONG_SUITE);
        m.key_package = &w->j[0].kp;
        /* A path secret of the wrong size. */
        assert_int_equal(mls_secret_new(w->s->hash_len + 1, &short_ps), 0);
        m.path_secret = short_ps;
        assert_int_equal(mls_welcome_build(w->ks, &w->gi, NULL, 0, &m, 1, mls_rng_system(), &wel),
                         MLS_E_INVALID_ARGUMENT);
        m.path_secret = NULL;
        /* An unsigned GroupInfo. */
        sig = w->gi.signature;
        w->gi.signature = (struct mls_bytes){ 0 };
        assert_int_equal(mls_welcome_build(w->ks, &w->gi, NULL, 0, &m, 1, mls_rng_system(), &wel),
                         MLS_E_INVALID_ARGUMENT);
        w->gi.signature = sig;
        /* The welcome secret was already deleted. */
        mls_ks_delete(w->ks, MLS_KS_WELCOME_SECRET);
        assert_int_equal(mls_welcome_build(w->ks, &w->gi, NULL, 0, &m, 1, mls_rng_system(), &wel),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(wel.secrets);
        mls_secret_free(short_ps);
        mls_key_package_clear(&other.kp);
        mls_secret_free(other.init_priv);
        wfx_free(w);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_welcome_roundtrip_all_suites),
                cmocka_unit_test(test_welcome_many_members_and_given_refs),
                cmocka_unit_test(test_welcome_no_matching_key_package),
                cmocka_unit_test(test_welcome_wrong_suite),
                cmocka_unit_test(test_welcome_group_secrets_decrypt_failures),
                cmocka_unit_test(test_welcome_group_info_decrypt_failures),
                cmocka_unit_test(test_welcome_group_info_flipped_signature),
                cmocka_unit_test(test_welcome_wrong_confirmation_tag),
                cmocka_unit_test(test_welcome_group_secrets_validation),
                cmocka_unit_test(test_welcome_sign_callback_label_and_content),
                cmocka_unit_test(test_welcome_build_refusals),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
