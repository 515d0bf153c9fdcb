/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guarded-allocation budget of the engine's hot paths.
 *
 * sodium_malloc costs an mmap, two mprotects, an mlock and later a munmap
 * (tens of microseconds: more than an X25519 operation). This program is
 * linked with -Wl,--wrap=sodium_malloc,--wrap=sodium_free (mls/perf.am),
 * so every guarded allocation the engine makes goes through a counter, and
 * each test asserts an upper bound on the allocations of one operation and
 * that every guarded buffer it made is freed again once its outputs are
 * (no guarded memory leaks). It counts; it never times.
 *
 * The bounds, and why:
 *   - ExpandWithLabel / DeriveSecret / DeriveTreeSecret / HKDF / DH /
 *     DeriveKeyPair into caller memory: 0. Their allocating forms: exactly
 *     1, the value they return.
 *   - HPKE single shot: SealBase 0 (ciphertext and enc are public heap
 *     bytes), OpenBase 1 (the plaintext it returns); EncryptWithLabel 0,
 *     DecryptWithLabel 1. A context costs 1 (its key block), a context
 *     Seal 0, a context Open 1 (the plaintext), Export into memory 0.
 *   - Secret tree: the tree is one slab; handing a key out into a
 *     struct mls_key_nonce_buf costs 0, except that the slab may grow
 *     (1) when a leaf is first used or skipped keys are kept. The
 *     struct mls_key_nonce forms cost 1 more (the hand-out).
 *   - Framing, leaf already in use: PrivateMessage protect 1 (the
 *     plaintext PrivateMessageContent, built in guarded memory in one
 *     buffer), unprotect 1 (the decrypted plaintext); PublicMessage
 *     protect and unprotect 0. On a leaf's first message one more for the
 *     slab.
 *   - Key schedule: one epoch = 1 (the epoch's slab); MLS-Exporter into
 *     memory 0, allocating 1.
 *   - psk_secret: 1 (the result) whatever the number of PSKs (the chain
 *     runs in wiped stack buffers).
 *   - Welcome: building 1 whatever the number of members (all GroupSecrets
 *     in one guarded buffer; the HPKE seals allocate nothing); decrypting
 *     the GroupInfo 0; decrypting GroupSecrets 1 (HPKE plaintext) + 1 per
 *     secret it holds (joiner_secret, path_secret: returned to the caller).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/framing.h"
#include "mls/hpke.h"
#include "mls/keyschedule.h"
#include "mls/labeled.h"
#include "mls/messages.h"
#include "mls/psk.h"
#include "mls/secrettree.h"
#include "mls/transcript.h"
#include "mls/welcome.h"
#include "tests/lib/testutil.h"

/* ---- the counting wrappers (link-time, this program only) ---- */

void *__real_sodium_malloc(size_t size);
void *__wrap_sodium_malloc(size_t size);
void __real_sodium_free(void *p);
void __wrap_sodium_free(void *p);

static unsigned long long n_malloc, n_free;

void *
__wrap_sodium_malloc(size_t size)
{
        void *p = __real_sodium_malloc(size);

        if (p)
                n_malloc++;
        return p;
}

void
__wrap_sodium_free(void *p)
{
        if (p)
                n_free++;
        __real_sodium_free(p);
}

/* A measurement window: allocations made since `begin`, and whether every
 * one of them was freed again. */
struct window {
        unsigned long long m0, f0;
};

static struct window
begin(void)
{
        return (struct window){ n_malloc, n_free };
}

static unsigned long long
allocs(const struct window *w)
{
        return n_malloc - w->m0;
}

/* Called once the operation's outputs are freed. */
static void
assert_balanced(const struct window *w)
{
        assert_int_equal(n_malloc - w->m0, n_free - w->f0);
}

/* The wrapper really is in place: a guarded allocation of our own is
 * counted (otherwise every bound below would hold trivially). */
static void
test_alloc_counter_sees_sodium_malloc(void **state)
{
        struct window w = begin();
        struct mls_secret *s = NULL;

        (void)state;
        assert_int_equal(mls_secret_new(32, &s), 0);
        assert_int_equal(allocs(&w), 1);
        mls_secret_free(s);
        assert_balanced(&w);
}

/* ---- labelled KDF and HKDF ---- */

/* R-8-1, R-9.1-1: ExpandWithLabel, DeriveSecret, DeriveTreeSecret and HKDF
 * into caller memory allocate nothing, in every suite; the allocating forms
 * exactly the value they return. */
static void
test_alloc_kdf_into_is_zero(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                uint8_t secret[MLS_MAX_HASH_LEN], out[MLS_MAX_HASH_LEN], ctx[40];
                struct mls_secret *o = NULL;
                struct window w;

                randombytes_buf(secret, sizeof(secret));
                randombytes_buf(ctx, sizeof(ctx));
                w = begin();
                assert_int_equal(mls_expand_with_label_into(s, secret, s->hash_len, "epoch", ctx,
                                                            sizeof(ctx), out, s->hash_len),
                                 0);
                assert_int_equal(mls_derive_secret_into(s, secret, s->hash_len, "init", out), 0);
                assert_int_equal(mls_derive_tree_secret_into(s, secret, s->hash_len, "secret", 7,
                                                             out, s->hash_len),
                                 0);
                assert_int_equal(mls_crypto_hkdf_extract_into(s, secret, s->hash_len, ctx,
                                                              sizeof(ctx), out),
                                 0);
                assert_int_equal(mls_crypto_hkdf_expand_into(s, secret, s->hash_len, ctx,
                                                             sizeof(ctx), out, s->hash_len),
                                 0);
                assert_int_equal(allocs(&w), 0);

                w = begin();
                assert_int_equal(mls_expand_with_label(s, secret, s->hash_len, "epoch", ctx,
                                                       sizeof(ctx), s->hash_len, &o),
                                 0);
                assert_int_equal(allocs(&w), 1);
                mls_secret_free(o);
                o = NULL;
                assert_int_equal(mls_derive_secret(s, secret, s->hash_len, "init", &o), 0);
                assert_int_equal(allocs(&w), 2);
                mls_secret_free(o);
                o = NULL;
                assert_int_equal(mls_crypto_hkdf_extract(s, secret, s->hash_len, ctx,
                                                         sizeof(ctx), &o),
                                 0);
                assert_int_equal(allocs(&w), 3);
                mls_secret_free(o);
                assert_balanced(&w);
        }
}

/* ---- KEM, signatures ---- */

static void
test_alloc_kem_and_signatures(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                uint8_t ikm[32], priv[MLS_MAX_KEM_PRIV_LEN], dh[MLS_MAX_KEM_DH_LEN];
                uint8_t msg[100];
                struct mls_bytes pub = { 0 }, pub2 = { 0 }, sig = { 0 }, spub = { 0 };
                struct mls_secret *sk = NULL, *sk2 = NULL, *z = NULL, *ssk = NULL;
                size_t dh_len = 0;
                struct window w;

                randombytes_buf(ikm, sizeof(ikm));
                randombytes_buf(msg, sizeof(msg));
                w = begin();
                assert_int_equal(mls_crypto_kem_derive_keypair_into(s, ikm, sizeof(ikm), priv,
                                                                    &pub),
                                 0);
                assert_int_equal(allocs(&w), 0);
                assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &sk2, &pub2), 0);
                assert_int_equal(allocs(&w), 1); /* the key handed out */
                assert_int_equal(mls_crypto_dh_into(s, priv, s->kem_priv_len, pub2.data,
                                                    pub2.len, dh, &dh_len),
                                 0);
                assert_int_equal(allocs(&w), 1);
                assert_int_equal(mls_crypto_dh(s, sk2, pub.data, pub.len, &z), 0);
                assert_int_equal(allocs(&w), 2); /* the shared secret handed out */
                assert_int_equal(z->len, dh_len);
                assert_memory_equal(z->data, dh, dh_len);
                mls_bytes_clear(&pub2);
                assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm, sizeof(ikm), &sk, &pub2),
                                 0);
                assert_int_equal(allocs(&w), 3);
                assert_memory_equal(sk->data, priv, s->kem_priv_len);

                /* Signatures allocate nothing but the key of a keygen. */
                assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &ssk, &spub), 0);
                assert_int_equal(allocs(&w), 4);
                assert_int_equal(mls_crypto_sign(s, ssk, msg, sizeof(msg), &sig), 0);
                assert_int_equal(mls_crypto_verify(s, spub.data, spub.len, msg, sizeof(msg),
                                                   sig.data, sig.len),
                                 0);
                assert_int_equal(allocs(&w), 4);

                mls_secret_free(sk);
                mls_secret_free(sk2);
                mls_secret_free(z);
                mls_secret_free(ssk);
                mls_bytes_clear(&pub);
                mls_bytes_clear(&pub2);
                mls_bytes_clear(&sig);
                mls_bytes_clear(&spub);
                assert_balanced(&w);
        }
}

/* ---- HPKE ---- */

/* R-5.1.3-1: EncryptWithLabel / DecryptWithLabel (HPKE base mode). */
static void
test_alloc_hpke_single_shot(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                struct mls_secret *sk = NULL, *pt = NULL;
                struct mls_bytes pk = { 0 }, enc = { 0 }, ct = { 0 };
                struct mls_hpke_info info;
                uint8_t msg[64], ctx[20];
                struct window w;

                randombytes_buf(msg, sizeof(msg));
                randombytes_buf(ctx, sizeof(ctx));
                assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &sk, &pk), 0);

                w = begin();
                assert_int_equal(mls_hpke_seal_base(s, mls_rng_system(), pk.data, pk.len, ctx,
                                                    sizeof(ctx), NULL, 0, msg, sizeof(msg), &enc,
                                                    &ct),
                                 0);
                assert_int_equal(allocs(&w), 0);
                assert_int_equal(mls_hpke_open_base(s, sk, enc.data, enc.len, ctx, sizeof(ctx),
                                                    NULL, 0, ct.data, ct.len, &pt),
                                 0);
                assert_int_equal(allocs(&w), 1); /* the plaintext */
                assert_memory_equal(pt->data, msg, sizeof(msg));
                mls_secret_free(pt);
                pt = NULL;
                mls_bytes_clear(&enc);
                mls_bytes_clear(&ct);
                assert_balanced(&w);

                w = begin();
                assert_int_equal(mls_encrypt_with_label(s, mls_rng_system(), pk.data, pk.len,
                                                        "Welcome", ctx, sizeof(ctx), msg,
                                                        sizeof(msg), &enc, &ct),
                                 0);
                assert_int_equal(allocs(&w), 0);
                mls_bytes_clear(&enc);
                mls_bytes_clear(&ct);
                assert_int_equal(mls_encrypt_with_label_prepare(s, "Welcome", ctx, sizeof(ctx),
                                                                &info),
                                 0);
                assert_int_equal(mls_encrypt_with_label_prepared(&info, mls_rng_system(),
                                                                 pk.data, pk.len, msg,
                                                                 sizeof(msg), &enc, &ct),
                                 0);
                assert_int_equal(allocs(&w), 0);
                assert_int_equal(mls_decrypt_with_label(s, sk, "Welcome", ctx, sizeof(ctx),
                                                        enc.data, enc.len, ct.data, ct.len, &pt),
                                 0);
                assert_int_equal(allocs(&w), 1);
                assert_memory_equal(pt->data, msg, sizeof(msg));
                /* A failed open allocates and frees its plaintext buffer. */
                ct.data[0] ^= 1;
                mls_secret_free(pt);
                pt = NULL;
                assert_int_equal(mls_decrypt_with_label(s, sk, "Welcome", ctx, sizeof(ctx),
                                                        enc.data, enc.len, ct.data, ct.len, &pt),
                                 MLS_E_DECRYPT);
                assert_null(pt);
                assert_true(allocs(&w) <= 2);
                mls_bytes_clear(&enc);
                mls_bytes_clear(&ct);
                assert_balanced(&w);

                mls_secret_free(sk);
                mls_bytes_clear(&pk);
        }
}

static void
test_alloc_hpke_context(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                struct mls_secret *sk = NULL, *pt = NULL, *exp = NULL;
                struct mls_bytes pk = { 0 }, enc = { 0 }, ct = { 0 };
                struct mls_hpke_ctx *cs = NULL, *cr = NULL;
                uint8_t shared[MLS_MAX_KEM_SECRET_LEN], shared2[MLS_MAX_KEM_SECRET_LEN];
                uint8_t out[MLS_MAX_HASH_LEN], msg[16] = "sixteen bytes!!";
                struct window w;

                assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &sk, &pk), 0);
                w = begin();
                assert_int_equal(mls_hpke_encap_into(s, mls_rng_system(), pk.data, pk.len,
                                                     shared, &enc),
                                 0);
                assert_int_equal(mls_hpke_decap_into(s, sk, enc.data, enc.len, shared2), 0);
                assert_memory_equal(shared, shared2, s->kem_secret_len);
                assert_int_equal(allocs(&w), 0);
                mls_bytes_clear(&enc);

                assert_int_equal(mls_hpke_setup_base_s(s, mls_rng_system(), pk.data, pk.len,
                                                       NULL, 0, &enc, &cs),
                                 0);
                assert_int_equal(allocs(&w), 1); /* the context's key block */
                assert_int_equal(mls_hpke_setup_base_r(s, sk, enc.data, enc.len, NULL, 0, &cr),
                                 0);
                assert_int_equal(allocs(&w), 2);
                assert_int_equal(mls_hpke_seal(cs, NULL, 0, msg, sizeof(msg), &ct), 0);
                assert_int_equal(allocs(&w), 2);
                assert_int_equal(mls_hpke_open(cr, NULL, 0, ct.data, ct.len, &pt), 0);
                assert_int_equal(allocs(&w), 3); /* the plaintext */
                assert_int_equal(mls_hpke_export_into(cr, (const uint8_t *)"x", 1, out,
                                                      s->hash_len),
                                 0);
                assert_int_equal(allocs(&w), 3);
                assert_int_equal(mls_hpke_export(cs, (const uint8_t *)"x", 1, s->hash_len, &exp),
                                 0);
                assert_int_equal(allocs(&w), 4);
                assert_memory_equal(exp->data, out, s->hash_len);

                mls_secret_free(pt);
                mls_secret_free(exp);
                mls_hpke_ctx_free(cs);
                mls_hpke_ctx_free(cr);
                mls_bytes_clear(&enc);
                mls_bytes_clear(&ct);
                assert_balanced(&w);
                mls_secret_free(sk);
                mls_bytes_clear(&pk);
        }
}

/* ---- secret tree ---- */

/* R-9.1-1, R-9.2-4: handing out keys into caller memory costs nothing but
 * the slab's occasional growth. */
static void
test_alloc_secret_tree(void **state)
{
        const struct mls_suite *s = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_key_nonce_buf kb = { 0 };
        struct mls_key_nonce kn = { 0 };
        struct mls_secret_tree *t = NULL;
        uint8_t enc[32], sds[32], sample[40];
        struct window w, all;

        (void)state;
        randombytes_buf(enc, sizeof(enc));
        randombytes_buf(sds, sizeof(sds));
        randombytes_buf(sample, sizeof(sample));
        all = begin();
        w = begin();
        assert_int_equal(mls_st_new(s, enc, sizeof(enc), 1024, &t), 0);
        assert_int_equal(allocs(&w), 1); /* the slab */

        /* First use of a leaf: ten node splits and two ratchet roots,
         * derived into the slab; at most one growth of it. */
        w = begin();
        assert_int_equal(mls_st_get_into(t, 700, MLS_RATCHET_APPLICATION, 0, &kb), 0);
        assert_true(allocs(&w) <= 1);
        /* Next generations, peeks, sends: nothing. */
        w = begin();
        for (uint32_t g = 1; g < 50; g++) {
                assert_int_equal(mls_st_peek_into(t, 700, MLS_RATCHET_APPLICATION, g, &kb), 0);
                assert_int_equal(mls_st_get_into(t, 700, MLS_RATCHET_APPLICATION, g, &kb), 0);
                assert_int_equal(mls_st_next_into(t, 700, MLS_RATCHET_HANDSHAKE, &kb), 0);
        }
        /* A peek of a leaf not in use derives its whole path on the stack. */
        assert_int_equal(mls_st_peek_into(t, 3, MLS_RATCHET_HANDSHAKE, 4, &kb), 0);
        assert_int_equal(mls_st_sender_data_key_into(s, sds, sizeof(sds), sample,
                                                     sizeof(sample), &kb),
                         0);
        assert_int_equal(allocs(&w), 0);
        /* A jump that keeps skipped keys: at most one growth. */
        w = begin();
        assert_int_equal(mls_st_get_into(t, 700, MLS_RATCHET_APPLICATION, 53, &kb), 0);
        assert_true(allocs(&w) <= 1);
        /* Kept keys come out of the slab: nothing. */
        w = begin();
        assert_int_equal(mls_st_get_into(t, 700, MLS_RATCHET_APPLICATION, 51, &kb), 0);
        assert_int_equal(allocs(&w), 0);
        /* The struct mls_key_nonce forms: one more, the hand-out. */
        w = begin();
        assert_int_equal(mls_st_get(t, 700, MLS_RATCHET_APPLICATION, 54, &kn), 0);
        assert_int_equal(allocs(&w), 1);
        mls_key_nonce_clear(&kn);
        assert_int_equal(mls_st_sender_data_key(s, sds, sizeof(sds), sample, sizeof(sample),
                                                &kn),
                         0);
        assert_int_equal(allocs(&w), 2);
        mls_key_nonce_clear(&kn);
        assert_balanced(&w);
        mls_key_nonce_buf_clear(&kb);
        mls_st_free(t);
        assert_balanced(&all);
}

/* ---- framing ---- */

#define FR_LEAVES 4
#define FR_SENDER 1

struct frx {
        const struct mls_suite *s;
        struct mls_group_context gc;
        struct mls_frame_group g;
        struct mls_secret *priv;
        struct mls_bytes pub;
        uint8_t mk[MLS_MAX_HASH_LEN];
        uint8_t enc[MLS_MAX_HASH_LEN];
        uint8_t sds[MLS_MAX_HASH_LEN];
        struct mls_secret_tree *send, *recv;
        struct mls_frame_senders senders;
};

static int
frx_lookup(void *ctx, const struct mls_sender *sender, const uint8_t **ret_pub, size_t *ret_len)
{
        struct frx *f = ctx;

        if (sender->sender_type != MLS_SENDER_MEMBER || sender->leaf_index >= FR_LEAVES)
                return MLS_E_INVALID_SENDER;
        *ret_pub = f->pub.data;
        *ret_len = f->pub.len;
        return 0;
}

static void
frx_init(struct frx *f, uint16_t suite)
{
        size_t nh;

        memset(f, 0, sizeof(*f));
        f->s = mls_suite_get(suite);
        assert_non_null(f->s);
        nh = f->s->hash_len;
        assert_int_equal(mls_crypto_sig_keygen(f->s, mls_rng_system(), &f->priv, &f->pub), 0);
        f->gc.version = MLS_VERSION_MLS10;
        f->gc.cipher_suite = suite;
        assert_int_equal(mls_bytes_copy(&f->gc.group_id, (const uint8_t *)"counted", 7), 0);
        f->gc.epoch = 3;
        randombytes_buf(f->mk, sizeof(f->mk));
        assert_int_equal(mls_bytes_copy(&f->gc.tree_hash, f->mk, nh), 0);
        assert_int_equal(mls_bytes_copy(&f->gc.confirmed_transcript_hash, f->mk, nh), 0);
        assert_int_equal(mls_frame_group_init(f->s, &f->gc, &f->g), 0);
        randombytes_buf(f->mk, sizeof(f->mk));
        randombytes_buf(f->enc, sizeof(f->enc));
        randombytes_buf(f->sds, sizeof(f->sds));
        assert_int_equal(mls_st_new(f->s, f->enc, nh, FR_LEAVES, &f->send), 0);
        assert_int_equal(mls_st_new(f->s, f->enc, nh, FR_LEAVES, &f->recv), 0);
        f->senders = (struct mls_frame_senders){ .lookup = frx_lookup, .ctx = f };
}

static void
frx_clear(struct frx *f)
{
        mls_frame_group_clear(&f->g);
        mls_group_context_clear(&f->gc);
        mls_secret_free(f->priv);
        mls_bytes_clear(&f->pub);
        mls_st_free(f->send);
        mls_st_free(f->recv);
}

static void
frx_content(const struct frx *f, uint8_t content_type, uint16_t wire_format, size_t app_len,
            struct mls_authenticated_content *ac)
{
        struct mls_framed_content *fc = &ac->content;

        memset(ac, 0, sizeof(*ac));
        ac->wire_format = wire_format;
        assert_int_equal(mls_bytes_dup(&fc->group_id, &f->gc.group_id), 0);
        fc->epoch = f->gc.epoch;
        fc->sender = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER,
                                          .leaf_index = FR_SENDER };
        fc->content_type = content_type;
        if (content_type == MLS_CONTENT_APPLICATION) {
                fc->application_data.data = malloc(app_len);
                assert_non_null(fc->application_data.data);
                fc->application_data.len = app_len;
                randombytes_buf(fc->application_data.data, app_len);
        } else {
                fc->proposal.proposal_type = MLS_PROPOSAL_REMOVE;
                fc->proposal.remove.removed = 2;
        }
        /* Signing with a key in this process allocates nothing. */
        {
                struct window w = begin();

                assert_int_equal(mls_frame_sign_with_key(&f->g, ac, f->priv), 0);
                assert_int_equal(allocs(&w), 0);
        }
}

/* Protects one message, then unprotects it; returns the allocations of
 * each through ret_p / ret_u. */
static void
private_round(struct frx *f, uint8_t content_type, size_t app_len,
              const struct mls_frame_padding *pad, unsigned long long *ret_p,
              unsigned long long *ret_u)
{
        struct mls_authenticated_content ac, out = { 0 };
        struct mls_bytes msg = { 0 };
        struct mls_message m = { 0 };
        struct window w;

        frx_content(f, content_type, MLS_WIRE_PRIVATE_MESSAGE, app_len, &ac);
        w = begin();
        assert_int_equal(mls_frame_private_protect(&f->g, &ac, f->sds, f->s->hash_len, f->send,
                                                   pad, mls_rng_system(), &msg),
                         0);
        *ret_p = allocs(&w);
        assert_int_equal(mls_message_from_bytes(msg.data, msg.len, &m), 0);
        w = begin();
        assert_int_equal(mls_frame_private_unprotect(&f->g, &m.private_message, f->sds,
                                                     f->s->hash_len, f->recv, &f->senders, &out),
                         0);
        *ret_u = allocs(&w);
        if (content_type == MLS_CONTENT_APPLICATION)
                assert_true(mls_bytes_eq(&out.content.application_data,
                                         &ac.content.application_data));
        mls_authenticated_content_clear(&out);
        mls_authenticated_content_clear(&ac);
        mls_message_clear(&m);
        mls_bytes_clear(&msg);
}

/* R-6.3.1-1, R-6.3.2-1: PrivateMessage protect 1 (the plaintext), unprotect
 * 1 (the plaintext), in every suite, once the leaf's ratchets exist. */
static void
test_alloc_private_message(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);
        const struct mls_frame_padding pad = { MLS_FRAME_PAD_BLOCK, 256 };

        (void)state;
        for (size_t i = 0; i < n; i++) {
                struct frx f;
                unsigned long long p, u;

                frx_init(&f, ids[i]);
                /* First message of the leaf: the slabs may grow once. */
                private_round(&f, MLS_CONTENT_APPLICATION, 1024, NULL, &p, &u);
                assert_true(p <= 2);
                assert_true(u <= 2);
                for (int k = 0; k < 5; k++) {
                        private_round(&f, MLS_CONTENT_APPLICATION, 1024, NULL, &p, &u);
                        assert_int_equal(p, 1);
                        assert_int_equal(u, 1);
                }
                private_round(&f, MLS_CONTENT_APPLICATION, 5000, &pad, &p, &u);
                assert_int_equal(p, 1);
                assert_int_equal(u, 1);
                private_round(&f, MLS_CONTENT_APPLICATION, 0, NULL, &p, &u);
                assert_int_equal(p, 1);
                assert_int_equal(u, 1);
                /* Handshake ratchet's first use, then steady state. */
                private_round(&f, MLS_CONTENT_PROPOSAL, 0, NULL, &p, &u);
                assert_true(p <= 2);
                assert_true(u <= 2);
                private_round(&f, MLS_CONTENT_PROPOSAL, 0, &pad, &p, &u);
                assert_int_equal(p, 1);
                assert_int_equal(u, 1);
                frx_clear(&f);
        }
}

/* R-6.2-1, R-6.2-3: PublicMessage protect and unprotect allocate no
 * guarded memory. */
static void
test_alloc_public_message(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                struct mls_authenticated_content ac, out = { 0 };
                struct mls_bytes msg = { 0 };
                struct mls_message m = { 0 };
                struct window w;
                struct frx f;

                frx_init(&f, ids[i]);
                frx_content(&f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, 0, &ac);
                w = begin();
                assert_int_equal(mls_frame_public_protect(&f.g, &ac, f.mk, f.s->hash_len, &msg),
                                 0);
                assert_int_equal(mls_message_from_bytes(msg.data, msg.len, &m), 0);
                assert_int_equal(mls_frame_public_unprotect(&f.g, &m.public_message, f.mk,
                                                            f.s->hash_len, &f.senders, &out),
                                 0);
                assert_int_equal(allocs(&w), 0);
                mls_authenticated_content_clear(&out);
                mls_authenticated_content_clear(&ac);
                mls_message_clear(&m);
                mls_bytes_clear(&msg);
                frx_clear(&f);
        }
}

/* ---- key schedule ---- */

/* R-8-2, R-8-4, R-8.5-3: one guarded allocation per epoch. */
static void
test_alloc_key_schedule(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                struct mls_epoch_secrets *e0 = NULL, *e1 = NULL;
                struct mls_secret *commit = NULL, *psk = NULL, *x = NULL, *ws = NULL;
                struct mls_aead_buf kn;
                uint8_t gc[100], out[MLS_MAX_HASH_LEN], wsb[MLS_MAX_HASH_LEN];
                struct window w;

                randombytes_buf(gc, sizeof(gc));
                assert_int_equal(mls_secret_new(s->hash_len, &commit), 0);
                assert_int_equal(mls_secret_new(s->hash_len, &psk), 0);
                randombytes_buf(commit->data, commit->len);
                randombytes_buf(psk->data, psk->len);

                w = begin();
                assert_int_equal(mls_ks_new_group(s, mls_rng_system(), gc, sizeof(gc), &e0), 0);
                assert_int_equal(allocs(&w), 1);
                assert_int_equal(mls_ks_next(e0, commit, psk, gc, sizeof(gc), &e1), 0);
                assert_int_equal(allocs(&w), 2);
                assert_int_equal(mls_ks_export_into(e1, (const uint8_t *)"app", 3,
                                                    (const uint8_t *)"ctx", 3, out, 32),
                                 0);
                assert_int_equal(allocs(&w), 2);
                assert_int_equal(mls_ks_export(e1, (const uint8_t *)"app", 3,
                                               (const uint8_t *)"ctx", 3, 32, &x),
                                 0);
                assert_int_equal(allocs(&w), 3);
                assert_memory_equal(x->data, out, 32);
                assert_int_equal(mls_ks_welcome_secret_into(s, commit, psk, wsb), 0);
                assert_int_equal(mls_ks_welcome_key_nonce_into(s, wsb, s->hash_len, kn.key,
                                                               kn.nonce),
                                 0);
                assert_int_equal(allocs(&w), 3);
                assert_int_equal(mls_ks_welcome_secret(s, commit, psk, &ws), 0);
                assert_int_equal(allocs(&w), 4);
                assert_memory_equal(ws->data, wsb, s->hash_len);

                mls_ks_free(e0);
                mls_ks_free(e1);
                mls_secret_free(x);
                mls_secret_free(ws);
                assert_balanced(&w);
                mls_secret_free(commit);
                mls_secret_free(psk);
        }
}

/* ---- welcome ---- */

static void
rand_bytes(struct mls_bytes *b, size_t len)
{
        b->data = malloc(len);
        assert_non_null(b->data);
        b->len = len;
        randombytes_buf(b->data, len);
}

/* R-12.4.3.1-4, R-12.4.3.1-7: building a Welcome costs one guarded buffer
 * whatever the number of new members; the joiner's GroupInfo decryption
 * none, its GroupSecrets decryption the plaintext plus the secrets it
 * returns. */
static void
test_alloc_welcome(void **state)
{
        const struct mls_suite *s = mls_suite_get(MLS_SUITE_P256_AES128GCM_SHA256_P256);
        enum { N = 6 };
        struct mls_key_package kp[N];
        struct mls_secret *init_priv[N], *path = NULL, *sig_priv = NULL, *joiner = NULL;
        struct mls_welcome_new_member m[N];
        struct mls_group_info gi = { 0 }, got = { 0 };
        struct mls_group_secrets gs = { 0 };
        struct mls_epoch_secrets *ks = NULL;
        struct mls_bytes gc_bytes = { 0 }, sig_pub = { 0 };
        struct mls_welcome wel = { 0 };
        struct window w;
        size_t idx;

        (void)state;
        memset(kp, 0, sizeof(kp));
        memset(m, 0, sizeof(m));
        gi.group_context.version = MLS_VERSION_MLS10;
        gi.group_context.cipher_suite = s->id;
        rand_bytes(&gi.group_context.group_id, 8);
        gi.group_context.epoch = 2;
        rand_bytes(&gi.group_context.tree_hash, s->hash_len);
        rand_bytes(&gi.group_context.confirmed_transcript_hash, s->hash_len);
        rand_bytes(&gi.confirmation_tag, s->hash_len);
        assert_int_equal(mls_group_context_to_bytes(&gi.group_context, &gc_bytes), 0);
        assert_int_equal(mls_secret_new(s->hash_len, &joiner), 0);
        randombytes_buf(joiner->data, joiner->len);
        assert_int_equal(mls_secret_new(s->hash_len, &path), 0);
        randombytes_buf(path->data, path->len);
        assert_int_equal(mls_ks_from_joiner(s, joiner, NULL, gc_bytes.data, gc_bytes.len, &ks),
                         0);
        assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &sig_priv, &sig_pub), 0);
        assert_int_equal(mls_welcome_sign_group_info_with_key(s, &gi, sig_priv), 0);
        for (size_t i = 0; i < N; i++) {
                struct mls_leaf_node *ln = &kp[i].leaf_node;
                struct mls_secret *sk = NULL;

                kp[i].version = MLS_VERSION_MLS10;
                kp[i].cipher_suite = s->id;
                assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &init_priv[i],
                                                         &kp[i].init_key),
                                 0);
                rand_bytes(&ln->encryption_key, s->kem_pub_len);
                assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &sk,
                                                       &ln->signature_key),
                                 0);
                mls_secret_free(sk);
                ln->credential.credential_type = MLS_CREDENTIAL_BASIC;
                rand_bytes(&ln->credential.identity, 8);
                ln->leaf_node_source = MLS_LEAF_SOURCE_KEY_PACKAGE;
                ln->lifetime = (struct mls_lifetime){ 0, UINT64_MAX };
                rand_bytes(&ln->signature, 16);
                rand_bytes(&kp[i].signature, 16);
                m[i] = (struct mls_welcome_new_member){ .key_package = &kp[i],
                                                        .path_secret = i == 1 ? path : NULL };
        }

        w = begin();
        assert_int_equal(mls_welcome_build(ks, &gi, NULL, 0, m, N, mls_rng_system(), &wel), 0);
        assert_int_equal(allocs(&w), 1);
        assert_balanced(&w);

        /* Joiner 1 (with a path secret). */
        assert_int_equal(mls_welcome_find_key_package(s, &wel, &kp[1], &idx), 0);
        w = begin();
        assert_int_equal(mls_welcome_decrypt_secrets(s, &wel, idx, init_priv[1], &gs), 0);
        /* the HPKE plaintext + joiner_secret + path_secret */
        assert_int_equal(allocs(&w), 3);
        assert_true(mls_secret_eq(gs.joiner_secret, joiner));
        assert_true(mls_secret_eq(gs.path_secret, path));
        mls_group_secrets_clear(&gs);
        assert_balanced(&w);
        w = begin();
        assert_int_equal(mls_welcome_decrypt_group_info(s, &wel, joiner, NULL, &got), 0);
        assert_int_equal(allocs(&w), 0);
        mls_group_info_clear(&got);

        mls_welcome_clear(&wel);
        for (size_t i = 0; i < N; i++) {
                mls_key_package_clear(&kp[i]);
                mls_secret_free(init_priv[i]);
        }
        mls_group_info_clear(&gi);
        mls_bytes_clear(&gc_bytes);
        mls_ks_free(ks);
        mls_secret_free(joiner);
        mls_secret_free(path);
        mls_secret_free(sig_priv);
        mls_bytes_clear(&sig_pub);
}

/* ---- transcript ---- */

/* R-8.2-1: transcript hashes and confirmation tags allocate nothing. */
/* R-8.4-5: the PSK chain allocates only its result, for 0 to 3 PSKs, and
 * the result matches the chain recomputed with the allocating forms. */
static void
test_alloc_psk_secret(void **state)
{
        const struct mls_suite *s = mls_suite_get(1);
        uint8_t psk[3][32], nonce[32];
        struct mls_psk_id id[3];
        struct mls_psk_input in[3];

        (void)state;
        assert_non_null(s);
        memset(nonce, 0x11, sizeof(nonce));
        for (size_t i = 0; i < 3; i++) {
                memset(psk[i], (int)(0x20 + i), sizeof(psk[i]));
                id[i] = (struct mls_psk_id){ .psktype = MLS_PSK_EXTERNAL,
                                             .psk_id = { .data = psk[i], .len = 4 },
                                             .psk_nonce = { .data = nonce, .len = 32 } };
                in[i] = (struct mls_psk_input){ .id = &id[i], .psk = psk[i], .psk_len = 32 };
        }
        for (size_t n = 0; n <= 3; n++) {
                struct mls_secret *ps = NULL, *acc = NULL;
                uint8_t zero[32] = { 0 };
                struct window w = begin();

                assert_int_equal(mls_psk_secret(s, in, n, &ps), 0);
                assert_int_equal(allocs(&w), 1);
                /* the same chain with the allocating forms */
                assert_int_equal(mls_secret_from(zero, 32, &acc), 0);
                for (size_t i = 0; i < n; i++) {
                        struct mls_secret *ex = NULL, *inp = NULL, *next = NULL;
                        struct mls_writer lw;
                        struct mls_bytes label = { 0 };

                        mls_writer_init(&lw);
                        assert_int_equal(mls_psk_id_encode(&id[i], &lw), 0);
                        assert_int_equal(mls_writer_u16(&lw, (uint16_t)i), 0);
                        assert_int_equal(mls_writer_u16(&lw, (uint16_t)n), 0);
                        assert_int_equal(mls_writer_finish(&lw, &label), 0);
                        assert_int_equal(mls_crypto_hkdf_extract(s, zero, 32, psk[i], 32, &ex), 0);
                        assert_int_equal(mls_expand_with_label(s, ex->data, 32, "derived psk",
                                                               label.data, label.len, 32, &inp),
                                         0);
                        assert_int_equal(mls_crypto_hkdf_extract(s, inp->data, 32, acc->data, 32,
                                                                 &next),
                                         0);
                        mls_secret_free(ex);
                        mls_secret_free(inp);
                        mls_secret_free(acc);
                        acc = next;
                        mls_bytes_clear(&label);
                }
                assert_int_equal(ps->len, 32);
                assert_memory_equal(ps->data, acc->data, 32);
                mls_secret_free(acc);
                mls_secret_free(ps);
                assert_balanced(&w);
        }
}

static void
test_alloc_transcript(void **state)
{
        const struct mls_suite *s = mls_suite_get(MLS_SUITE_P384_AES256GCM_SHA384_P384);
        uint8_t interim[MLS_MAX_HASH_LEN] = { 0 }, fc[200], sig[100], key[MLS_MAX_HASH_LEN];
        uint8_t c[MLS_MAX_HASH_LEN], i2[MLS_MAX_HASH_LEN], tag[MLS_MAX_HASH_LEN];
        struct window w;

        (void)state;
        randombytes_buf(fc, sizeof(fc));
        randombytes_buf(sig, sizeof(sig));
        randombytes_buf(key, sizeof(key));
        w = begin();
        assert_int_equal(mls_transcript_confirmation_tag(s, key, s->hash_len, interim,
                                                         s->hash_len, tag),
                         0);
        assert_int_equal(mls_transcript_update(s, interim, s->hash_len, MLS_WIRE_PUBLIC_MESSAGE,
                                               fc, sizeof(fc), sig, sizeof(sig), tag,
                                               s->hash_len, c, i2),
                         0);
        assert_int_equal(mls_transcript_verify_tag(s, key, s->hash_len, interim, s->hash_len,
                                                   tag, s->hash_len),
                         0);
        assert_int_equal(allocs(&w), 0);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_alloc_counter_sees_sodium_malloc),
                cmocka_unit_test(test_alloc_kdf_into_is_zero),
                cmocka_unit_test(test_alloc_kem_and_signatures),
                cmocka_unit_test(test_alloc_hpke_single_shot),
                cmocka_unit_test(test_alloc_hpke_context),
                cmocka_unit_test(test_alloc_secret_tree),
                cmocka_unit_test(test_alloc_private_message),
                cmocka_unit_test(test_alloc_public_message),
                cmocka_unit_test(test_alloc_key_schedule),
                cmocka_unit_test(test_alloc_welcome),
                cmocka_unit_test(test_alloc_transcript),
                cmocka_unit_test(test_alloc_psk_secret),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
