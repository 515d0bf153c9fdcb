/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mls/secrettree: embedded secret-tree.json cases, in-order
 * and out-of-order reception, window/forward/replay errors with default and
 * custom limits, lazy derivation in a 16384-leaf tree, sender-data keys,
 * saved-state round trip and validation, ratchet exhaustion.
 *
 * Expected keys come from an independent reference walk (root to leaf with
 * ExpandWithLabel, then the ratchet with DeriveTreeSecret) built directly on
 * mls/labeled.h, and from the embedded vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/labeled.h"
#include "mls/secrettree.h"
#include "mls/treemath.h"
#include "tests/lib/testutil.h"

static const struct mls_suite *
suite1(void)
{
        const struct mls_suite *s = mls_suite_get(1);

        assert_non_null(s);
        return s;
}

static struct mls_bytes
hex(const char *h)
{
        struct mls_bytes b = { 0 };

        assert_true(tu_hex_decode(h, &b));
        return b;
}

static void
assert_hex_eq(const uint8_t *got, size_t len, const char *want)
{
        struct mls_bytes w = hex(want);

        assert_int_equal(w.len, len);
        assert_memory_equal(got, w.data, len);
        mls_bytes_clear(&w);
}

static const uint8_t enc_secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                        32 };

/* Reference: key and nonce of (leaf, type, gen), derived from scratch. */
static void
ref_key_nonce(const struct mls_suite *s, const uint8_t *root_secret, uint32_t n_leaves,
              uint32_t leaf, enum mls_ratchet_type type, uint32_t gen, uint8_t *key,
              uint8_t *nonce)
{
        struct mls_secret *cur = NULL, *nx = NULL;
        uint32_t node = n_leaves - 1, target = 2 * leaf;

        assert_int_equal(mls_secret_from(root_secret, s->hash_len, &cur), 0);
        while (node != target) {
                unsigned k = mls_tm_level(node);
                bool left = target < node;

                assert_int_equal(mls_expand_with_label(s, cur->data, cur->len, "tree",
                                                       (const uint8_t *)(left ? "left" : "right"),
                                                       left ? 4 : 5, s->hash_len, &nx),
                                 0);
                node = left ? node ^ (1u << (k - 1)) : node ^ (3u << (k - 1));
                mls_secret_free(cur);
                cur = nx;
                nx = NULL;
        }
        assert_int_equal(mls_expand_with_label(s, cur->data, cur->len,
                                               type == MLS_RATCHET_HANDSHAKE ? "handshake"
                                                                             : "application",
                                               NULL, 0, s->hash_len, &nx),
                         0);
        mls_secret_free(cur);
        cur = nx;
        for (uint32_t j = 0; j < gen; j++) {
                assert_int_equal(
                        mls_derive_tree_secret(s, cur->data, cur->len, "secret", j, s->hash_len, &nx),
                        0);
                mls_secret_free(cur);
                cur = nx;
        }
        assert_int_equal(mls_derive_tree_secret(s, cur->data, cur->len, "key", gen,
                                                s->aead_key_len, &nx),
                         0);
        memcpy(key, nx->data, s->aead_key_len);
        mls_secret_free(nx);
        assert_int_equal(mls_derive_tree_secret(s, cur->data, cur->len, "nonce", gen,
                                                s->aead_nonce_len, &nx),
                         0);
        memcpy(nonce, nx->data, s->aead_nonce_len);
        mls_secret_free(nx);
        mls_secret_free(cur);
}

/* Gets (leaf, type, gen) from t and checks it against the reference. */
static void
get_and_check(struct mls_secret_tree *t, uint32_t n_leaves, uint32_t leaf,
              enum mls_ratchet_type type, uint32_t gen)
{
        struct mls_key_nonce kn = { 0 };
        uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];

        assert_int_equal(mls_st_get(t, leaf, type, gen, &kn), 0);
        assert_int_equal(kn.generation, gen);
        ref_key_nonce(suite1(), enc_secret, n_leaves, leaf, type, gen, key, nonce);
        assert_int_equal(kn.key_len, 16);
        assert_int_equal(kn.nonce_len, 12);
        assert_memory_equal(kn.key, key, 16);
        assert_memory_equal(kn.nonce, nonce, 12);
        mls_key_nonce_clear(&kn);
}

static int
get_err(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type, uint32_t gen)
{
        struct mls_key_nonce kn = { 0 };
        int e = mls_st_get(t, leaf, type, gen, &kn);

        if (e < 0)
                assert_null(kn.secret); /* untouched on failure */
        mls_key_nonce_clear(&kn);
        return e;
}

static struct mls_secret_tree *
new_tree(uint32_t n)
{
        struct mls_secret_tree *t = NULL;

        assert_int_equal(mls_st_new(suite1(), enc_secret, 32, n, &t), 0);
        return t;
}

/* R-9-1, R-9-2, R-9.1-1: secret-tree.json suite 1, the 1-leaf tree (the
 * leaf is the root) and leaf 5 of the 8-leaf tree, generations 0 and 15. */
static void
test_st_vectors(void **state)
{
        static const struct {
                uint32_t n, leaf;
                const char *enc;
                struct {
                        uint32_t gen;
                        const char *hk, *hn, *ak, *an;
                } g[2];
        } v[] = {
                { 1, 0, "d69fcc35969e94680461974bd26c7cda7594cbf45985c4bf668c3b3118b765ab",
                  { { 0, "a2d6b8a9255478e9b79a076872ae3563", "8e8fc08a4eb5189b7b558527",
                      "442e691710646617a21e41482d868a4e", "c76e37884536a9ce33fb3070" },
                    { 15, "6121c93d8e92e76320087e5d646a3bf2", "961e5b73d62b72743b900c88",
                      "0f2d1b9e1d5c09abefb0edabd8349e9f", "a08d3a0243b6216cc92671ec" } } },
                { 8, 5, "9d4ecb550dc4fbcbaae66d120a2215cbeca20d45d66791df5b4349eace30fd3f",
                  { { 0, "579d500a6e78803ffd6187c1e4a3448d", "8bdceebc9e6f8838c93ebe06",
                      "87dd6efd2ac7e13e0e477a72cfea0c85", "c3f031d03cd30def2b14ac8d" },
                    { 15, "9a494c83e2d9dfab6008d8df9ba63aab", "95edab0a7777e09c30514561",
                      "66992f2f134e10095469e656dd7117e0", "a5efd9b2edf31ce95eab1e18" } } },
        };

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(v); i++) {
                struct mls_bytes enc = hex(v[i].enc);
                struct mls_secret_tree *t = NULL;

                assert_int_equal(mls_st_new(suite1(), enc.data, enc.len, v[i].n, &t), 0);
                for (size_t j = 0; j < 2; j++) {
                        struct mls_key_nonce h = { 0 }, a = { 0 };

                        assert_int_equal(mls_st_get(t, v[i].leaf, MLS_RATCHET_HANDSHAKE,
                                                    v[i].g[j].gen, &h),
                                         0);
                        assert_int_equal(mls_st_get(t, v[i].leaf, MLS_RATCHET_APPLICATION,
                                                    v[i].g[j].gen, &a),
                                         0);
                        assert_hex_eq(h.key, h.key_len, v[i].g[j].hk);
                        assert_hex_eq(h.nonce, h.nonce_len, v[i].g[j].hn);
                        assert_hex_eq(a.key, a.key_len, v[i].g[j].ak);
                        assert_hex_eq(a.nonce, a.nonce_len, v[i].g[j].an);
                        mls_key_nonce_clear(&h);
                        mls_key_nonce_clear(&a);
                }
                mls_st_free(t);
                mls_bytes_clear(&enc);
        }
}

/* R-6.3.2-3: sender-data key/nonce from the first Nh ciphertext bytes
 * (vector), the whole ciphertext when shorter than Nh, and only the first
 * Nh bytes when longer. */
static void
test_st_sender_data(void **state)
{
        struct mls_bytes sds = hex("95684b805e1bbd9c71d1abaf8a1930c12112b9a06c12db937970be5bbb916573");
        struct mls_bytes ct = hex("156f2eb3fa482cff20e3a090c267ce6481d4a0976aee2adb921d70ae8a04a6"
                                  "494339462ac049f185e7184d8245270e54e68b72bd5df66800367c50e423ca"
                                  "fec0260ac4dc743c24cabfc6060fc5");
        struct mls_key_nonce kn = { 0 }, kn2 = { 0 };
        struct mls_secret *k = NULL, *n = NULL;

        (void)state;
        assert_int_equal(mls_st_sender_data_key(suite1(), sds.data, sds.len, ct.data, ct.len, &kn),
                         0);
        assert_hex_eq(kn.key, kn.key_len, "92667d9c889a6b768c157538c0a79fed");
        assert_hex_eq(kn.nonce, kn.nonce_len, "362785b1cc8bc775fcc216e7");
        assert_int_equal(kn.generation, 0);
        /* Bytes after the first Nh do not matter... */
        ct.data[32] ^= 0xff;
        assert_int_equal(mls_st_sender_data_key(suite1(), sds.data, sds.len, ct.data, ct.len, &kn2),
                         0);
        assert_memory_equal(kn.secret->data, kn2.secret->data, 28);
        mls_key_nonce_clear(&kn2);
        /* ... byte Nh-1 does. */
        ct.data[31] ^= 0x01;
        assert_int_equal(mls_st_sender_data_key(suite1(), sds.data, sds.len, ct.data, ct.len, &kn2),
                         0);
        assert_memory_not_equal(kn.secret->data, kn2.secret->data, 28);
        mls_key_nonce_clear(&kn2);
        /* A 10-byte ciphertext: the sample is all of it. */
        assert_int_equal(mls_st_sender_data_key(suite1(), sds.data, sds.len, ct.data, 10, &kn2), 0);
        assert_int_equal(mls_expand_with_label(suite1(), sds.data, 32, "key", ct.data, 10, 16, &k),
                         0);
        assert_int_equal(
                mls_expand_with_label(suite1(), sds.data, 32, "nonce", ct.data, 10, 12, &n), 0);
        assert_memory_equal(kn2.key, k->data, 16);
        assert_memory_equal(kn2.nonce, n->data, 12);
        mls_key_nonce_clear(&kn2);
        /* Empty ciphertext: empty sample. */
        assert_int_equal(mls_st_sender_data_key(suite1(), sds.data, sds.len, NULL, 0, &kn2), 0);
        assert_memory_not_equal(kn2.key, k->data, 16);
        mls_key_nonce_clear(&kn2);
        assert_int_equal(mls_st_sender_data_key(suite1(), sds.data, 31, ct.data, ct.len, &kn2),
                         MLS_E_INVALID_ARGUMENT);
        mls_secret_free(k);
        mls_secret_free(n);
        mls_key_nonce_clear(&kn);
        mls_key_nonce_clear(&kn); /* twice: no-op */
        mls_bytes_clear(&sds);
        mls_bytes_clear(&ct);
}

/* R-9.1-1, R-9.1-2: in-order reception and sending; the sender never gets
 * the same generation twice. */
static void
test_st_in_order_receive_and_send(void **state)
{
        struct mls_secret_tree *t = new_tree(4);
        struct mls_st_stats st;

        (void)state;
        for (uint32_t g = 0; g < 10; g++)
                get_and_check(t, 4, 2, MLS_RATCHET_APPLICATION, g);
        for (uint32_t g = 0; g < 3; g++) {
                struct mls_key_nonce kn = { 0 };
                uint8_t key[16], nonce[12];

                assert_int_equal(mls_st_next(t, 3, MLS_RATCHET_HANDSHAKE, &kn), 0);
                assert_int_equal(kn.generation, g);
                ref_key_nonce(suite1(), enc_secret, 4, 3, MLS_RATCHET_HANDSHAKE, g, key, nonce);
                assert_memory_equal(kn.key, key, 16);
                assert_memory_equal(kn.nonce, nonce, 12);
                mls_key_nonce_clear(&kn);
        }
        mls_st_stats(t, &st);
        assert_int_equal(st.kept_keys, 0); /* in order: nothing kept */
        assert_int_equal(st.leaves_active, 2);
        /* The two ratchets of a leaf are independent. */
        get_and_check(t, 4, 2, MLS_RATCHET_HANDSHAKE, 0);
        mls_st_free(t);
}

/* Out-of-order reception inside the default window (5): after 5, the
 * generations 0..4 are kept and each can be used once, in any order.
 * R-9.2-4: a kept key is deleted when handed out. */
static void
test_st_out_of_order_within_window(void **state)
{
        static const uint32_t order[] = { 3, 0, 4, 1, 2 };
        struct mls_secret_tree *t = new_tree(4);
        struct mls_st_stats st;

        (void)state;
        get_and_check(t, 4, 1, MLS_RATCHET_APPLICATION, 5);
        mls_st_stats(t, &st);
        assert_int_equal(st.kept_keys, 5);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(order); i++) {
                get_and_check(t, 4, 1, MLS_RATCHET_APPLICATION, order[i]);
                mls_st_stats(t, &st);
                assert_int_equal(st.kept_keys, 4 - i);
                /* R-9.2-5: the same generation again is a replay. */
                assert_int_equal(get_err(t, 1, MLS_RATCHET_APPLICATION, order[i]),
                                 MLS_E_GENERATION_CONSUMED);
        }
        get_and_check(t, 4, 1, MLS_RATCHET_APPLICATION, 6);
        mls_st_free(t);
}

/* Saved state of t, for byte-identity checks. */
static struct mls_secret *
st_state(const struct mls_secret_tree *t)
{
        struct mls_writer w;
        struct mls_secret *out = NULL;

        mls_writer_init_secure(&w);
        assert_int_equal(mls_st_encode(t, &w), 0);
        assert_int_equal(mls_writer_finish_secret(&w, &out), 0);
        return out;
}

/* Peeks (leaf, type, gen): the result must equal the reference and, for a
 * failure, the error `want`; the tree's saved state must not change. */
static void
peek_check(struct mls_secret_tree *t, uint32_t n_leaves, uint32_t leaf,
           enum mls_ratchet_type type, uint32_t gen, int want)
{
        struct mls_secret *before = st_state(t), *after;
        struct mls_key_nonce kn = { 0 };
        uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
        int e = mls_st_peek(t, leaf, type, gen, &kn);

        assert_int_equal(e, want);
        if (e == 0) {
                ref_key_nonce(suite1(), enc_secret, n_leaves, leaf, type, gen, key, nonce);
                assert_int_equal(kn.generation, gen);
                assert_memory_equal(kn.key, key, 16);
                assert_memory_equal(kn.nonce, nonce, 12);
        } else {
                assert_null(kn.secret);
        }
        mls_key_nonce_clear(&kn);
        after = st_state(t);
        assert_true(mls_secret_eq(before, after));
        mls_secret_free(before);
        mls_secret_free(after);
}

/* R-9.2-4, R-9.2-5: mls_st_peek hands out what mls_st_get would, with the
 * same window errors, and changes nothing: an inactive leaf, a forward
 * jump, a kept generation, a consumed one, one too old, one too far. A
 * peek never consumes: the genuine get afterwards still succeeds. */
static void
test_st_peek_does_not_consume(void **state)
{
        struct mls_secret_tree *t = new_tree(16);

        (void)state;
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 0, 0);  /* leaf not active yet */
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 7, 0);  /* forward jump */
        peek_check(t, 16, 9, MLS_RATCHET_HANDSHAKE, 1001, MLS_E_GENERATION_TOO_FAR);
        get_and_check(t, 16, 9, MLS_RATCHET_APPLICATION, 7);  /* keeps 2..6 */
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 3, 0);  /* kept */
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 7, MLS_E_GENERATION_CONSUMED);
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 1, MLS_E_GENERATION_TOO_OLD);
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 9, 0);
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 7 + 1 + 1000, 0);
        peek_check(t, 16, 9, MLS_RATCHET_APPLICATION, 7 + 1 + 1001, MLS_E_GENERATION_TOO_FAR);
        peek_check(t, 16, 16, MLS_RATCHET_APPLICATION, 0, MLS_E_TREE_INDEX);
        get_and_check(t, 16, 9, MLS_RATCHET_APPLICATION, 3);
        get_and_check(t, 16, 9, MLS_RATCHET_APPLICATION, 8);
        peek_check(t, 16, 2, MLS_RATCHET_HANDSHAKE, 0, 0);    /* sibling subtree */
        get_and_check(t, 16, 2, MLS_RATCHET_HANDSHAKE, 0);
        mls_st_free(t);
}

/* A generation older than the window is MLS_E_GENERATION_TOO_OLD; the
 * window's edge still works. */
static void
test_st_too_old(void **state)
{
        struct mls_secret_tree *t = new_tree(2);
        struct mls_st_stats st;

        (void)state;
        get_and_check(t, 2, 0, MLS_RATCHET_HANDSHAKE, 10);
        mls_st_stats(t, &st);
        assert_int_equal(st.kept_keys, 5); /* 5..9 */
        assert_int_equal(get_err(t, 0, MLS_RATCHET_HANDSHAKE, 4), MLS_E_GENERATION_TOO_OLD);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_HANDSHAKE, 0), MLS_E_GENERATION_TOO_OLD);
        get_and_check(t, 2, 0, MLS_RATCHET_HANDSHAKE, 5);
        /* Moving on to 12 drops 5..6 from the window (7..11 stay). */
        get_and_check(t, 2, 0, MLS_RATCHET_HANDSHAKE, 12);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_HANDSHAKE, 6), MLS_E_GENERATION_TOO_OLD);
        get_and_check(t, 2, 0, MLS_RATCHET_HANDSHAKE, 7);
        mls_st_free(t);
}

/* Beyond the default forward bound (1000) is MLS_E_GENERATION_TOO_FAR; the
 * bound itself is allowed; a refused jump leaves the ratchet unchanged. */
static void
test_st_too_far(void **state)
{
        struct mls_secret_tree *t = new_tree(2);
        struct mls_st_stats st;

        (void)state;
        assert_int_equal(get_err(t, 1, MLS_RATCHET_APPLICATION, 1001), MLS_E_GENERATION_TOO_FAR);
        assert_int_equal(get_err(t, 1, MLS_RATCHET_APPLICATION, UINT32_MAX),
                         MLS_E_GENERATION_TOO_FAR);
        mls_st_stats(t, &st);
        assert_true(st.ratchet_steps == 0);
        get_and_check(t, 2, 1, MLS_RATCHET_APPLICATION, 1000);
        /* From next = 1001: 2001 is exactly 1000 ahead, 3003 is 1001 ahead. */
        get_and_check(t, 2, 1, MLS_RATCHET_APPLICATION, 2001);
        assert_int_equal(get_err(t, 1, MLS_RATCHET_APPLICATION, 3003), MLS_E_GENERATION_TOO_FAR);
        get_and_check(t, 2, 1, MLS_RATCHET_APPLICATION, 1999);
        mls_st_free(t);
}

/* R-9.2-5: a replayed generation (same leaf, ratchet, generation) fails;
 * the sender continues after what the receiver consumed. */
static void
test_st_replay_consumed(void **state)
{
        struct mls_secret_tree *t = new_tree(2);
        struct mls_key_nonce kn = { 0 };

        (void)state;
        get_and_check(t, 2, 0, MLS_RATCHET_APPLICATION, 0);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_APPLICATION, 0), MLS_E_GENERATION_CONSUMED);
        get_and_check(t, 2, 0, MLS_RATCHET_APPLICATION, 2);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_APPLICATION, 2), MLS_E_GENERATION_CONSUMED);
        assert_int_equal(mls_st_next(t, 0, MLS_RATCHET_APPLICATION, &kn), 0);
        assert_int_equal(kn.generation, 3);
        mls_key_nonce_clear(&kn);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_APPLICATION, 3), MLS_E_GENERATION_CONSUMED);
        /* 1 was skipped and is still inside the window. */
        get_and_check(t, 2, 0, MLS_RATCHET_APPLICATION, 1);
        mls_st_free(t);
}

/* Defaults, custom limits, and lowering the window evicting at once. */
static void
test_st_custom_limits(void **state)
{
        struct mls_secret_tree *t = new_tree(4);
        uint32_t past, fwd;
        struct mls_st_stats st;

        (void)state;
        mls_st_get_limits(t, &past, &fwd);
        assert_int_equal(past, MLS_ST_DEFAULT_MAX_PAST);
        assert_int_equal(fwd, MLS_ST_DEFAULT_MAX_FORWARD);
        assert_int_equal(MLS_ST_DEFAULT_MAX_PAST, 5);
        assert_int_equal(MLS_ST_DEFAULT_MAX_FORWARD, 1000);

        /* No out-of-order at all, forward jumps of at most 10. */
        assert_int_equal(mls_st_set_limits(t, 0, 10), 0);
        mls_st_get_limits(t, &past, &fwd);
        assert_int_equal(past, 0);
        assert_int_equal(fwd, 10);
        get_and_check(t, 4, 0, MLS_RATCHET_APPLICATION, 3);
        mls_st_stats(t, &st);
        assert_int_equal(st.kept_keys, 0);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_APPLICATION, 2), MLS_E_GENERATION_TOO_OLD);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_APPLICATION, 15), MLS_E_GENERATION_TOO_FAR);
        get_and_check(t, 4, 0, MLS_RATCHET_APPLICATION, 14);

        /* A wide window, then lowered: what falls out goes at once. */
        assert_int_equal(mls_st_set_limits(t, 20, 1000), 0);
        get_and_check(t, 4, 2, MLS_RATCHET_HANDSHAKE, 20);
        mls_st_stats(t, &st);
        assert_int_equal(st.kept_keys, 20);
        get_and_check(t, 4, 2, MLS_RATCHET_HANDSHAKE, 0);
        assert_int_equal(mls_st_set_limits(t, 2, 1000), 0);
        mls_st_stats(t, &st);
        assert_int_equal(st.kept_keys, 2); /* 18, 19 */
        assert_int_equal(get_err(t, 2, MLS_RATCHET_HANDSHAKE, 17), MLS_E_GENERATION_TOO_OLD);
        get_and_check(t, 4, 2, MLS_RATCHET_HANDSHAKE, 18);
        /* Raising it again does not bring discarded keys back. */
        assert_int_equal(mls_st_set_limits(t, 50, 1000), 0);
        assert_int_equal(get_err(t, 2, MLS_RATCHET_HANDSHAKE, 10), MLS_E_GENERATION_TOO_OLD);
        get_and_check(t, 4, 2, MLS_RATCHET_HANDSHAKE, 19);
        mls_st_free(t);
}

/* R-9.2-3 and scaling: in a 16384-leaf tree one leaf's key costs 2*14 node
 * derivations; only the 14 copath secrets stay; the path itself is
 * deleted; a second leaf reuses what is there. */
static void
test_st_large_tree_lazy(void **state)
{
        struct mls_secret_tree *t = new_tree(16384);
        struct mls_st_stats st;

        (void)state;
        mls_st_stats(t, &st);
        assert_int_equal(st.node_secrets_held, 1); /* the root */
        get_and_check(t, 16384, 12345, MLS_RATCHET_APPLICATION, 0);
        mls_st_stats(t, &st);
        assert_true(st.node_derivations == 2 * 14);
        assert_int_equal(st.node_secrets_held, 14);
        assert_int_equal(st.leaves_active, 1);
        /* 14 node secrets + 2 ratchet secrets */
        assert_int_equal(st.slots_used, 16);
        assert_true(st.slots_total <= 64);

        /* The sibling leaf's secret already exists: no new node derivation. */
        get_and_check(t, 16384, 12344, MLS_RATCHET_HANDSHAKE, 3);
        mls_st_stats(t, &st);
        assert_true(st.node_derivations == 2 * 14);
        assert_int_equal(st.node_secrets_held, 13);
        assert_int_equal(st.leaves_active, 2);

        /* Leaf 0 sits under the root's left child: 13 more splits. */
        get_and_check(t, 16384, 0, MLS_RATCHET_APPLICATION, 1);
        mls_st_stats(t, &st);
        assert_true(st.node_derivations == 2 * 14 + 2 * 13);
        assert_int_equal(st.node_secrets_held, 13 + 12);
        get_and_check(t, 16384, 16383, MLS_RATCHET_HANDSHAKE, 0);
        mls_st_free(t);
}

static void
test_st_rejects_bad_arguments(void **state)
{
        struct mls_secret_tree *t = NULL;
        struct mls_key_nonce kn = { 0 };

        (void)state;
        /* R-4.1.1-1: power-of-two leaf counts only. */
        assert_int_equal(mls_st_new(suite1(), enc_secret, 32, 3, &t), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_st_new(suite1(), enc_secret, 32, 0, &t), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_st_new(suite1(), enc_secret, 31, 4, &t), MLS_E_INVALID_ARGUMENT);
        assert_null(t);
        t = new_tree(4);
        assert_int_equal(mls_st_n_leaves(t), 4);
        assert_int_equal(mls_st_get(t, 4, MLS_RATCHET_HANDSHAKE, 0, &kn), MLS_E_TREE_INDEX);
        assert_int_equal(mls_st_next(t, UINT32_MAX, MLS_RATCHET_HANDSHAKE, &kn), MLS_E_TREE_INDEX);
        assert_int_equal(mls_st_get(t, 0, (enum mls_ratchet_type)2, 0, &kn),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(kn.secret);
        mls_st_free(t);
        mls_st_free(NULL);
}

static struct mls_secret *
encode_tree(const struct mls_secret_tree *t)
{
        struct mls_writer w;
        struct mls_secret *enc = NULL;

        mls_writer_init_secure(&w);
        assert_int_equal(mls_st_encode(t, &w), 0);
        assert_int_equal(mls_writer_finish_secret(&w, &enc), 0);
        return enc;
}

static struct mls_secret_tree *
decode_tree(const uint8_t *p, size_t len, int want)
{
        uint8_t *g = tu_guarded_copy(p, len);
        struct mls_secret_tree *t = NULL;
        struct mls_reader r;

        mls_reader_init(&r, g, len);
        assert_int_equal(mls_st_decode(&r, &t), want);
        if (want == 0)
                assert_int_equal(mls_reader_done(&r), 0);
        else
                assert_null(t);
        tu_guarded_free(g);
        return t;
}

/* Both trees hand out the same thing (or the same error) for a query. */
static void
same_get(struct mls_secret_tree *a, struct mls_secret_tree *b, uint32_t leaf,
         enum mls_ratchet_type type, uint32_t gen)
{
        struct mls_key_nonce ka = { 0 }, kb = { 0 };
        int ea = mls_st_get(a, leaf, type, gen, &ka), eb = mls_st_get(b, leaf, type, gen, &kb);

        assert_int_equal(ea, eb);
        if (ea == 0)
                assert_memory_equal(ka.secret->data, kb.secret->data, ka.secret->len);
        mls_key_nonce_clear(&ka);
        mls_key_nonce_clear(&kb);
}

/* Saved state: after restore, every subsequent key, nonce and error is the
 * same as in the original; re-encoding is byte-identical. */
static void
test_st_serialize_restore_roundtrip(void **state)
{
        struct mls_secret_tree *t = new_tree(8), *back;
        struct mls_secret *enc, *enc2;
        struct mls_key_nonce kn = { 0 };
        struct mls_st_stats s1, s2;
        uint32_t past, fwd;
        struct mls_writer w;

        (void)state;
        assert_int_equal(mls_st_set_limits(t, 7, 500), 0);
        get_and_check(t, 8, 1, MLS_RATCHET_APPLICATION, 10);
        get_and_check(t, 8, 1, MLS_RATCHET_APPLICATION, 6);
        assert_int_equal(mls_st_next(t, 1, MLS_RATCHET_HANDSHAKE, &kn), 0);
        mls_key_nonce_clear(&kn);
        get_and_check(t, 8, 6, MLS_RATCHET_HANDSHAKE, 3);

        mls_writer_init(&w);
        assert_int_equal(mls_st_encode(t, &w), MLS_E_INVALID_ARGUMENT); /* not secure */
        mls_writer_clear(&w);
        enc = encode_tree(t);
        back = decode_tree(enc->data, enc->len, 0);
        enc2 = encode_tree(back);
        assert_true(mls_secret_eq(enc, enc2));
        mls_st_get_limits(back, &past, &fwd);
        assert_int_equal(past, 7);
        assert_int_equal(fwd, 500);
        mls_st_stats(t, &s1);
        mls_st_stats(back, &s2);
        assert_int_equal(s1.node_secrets_held, s2.node_secrets_held);
        assert_int_equal(s1.leaves_active, s2.leaves_active);
        assert_int_equal(s1.kept_keys, s2.kept_keys);

        same_get(t, back, 1, MLS_RATCHET_APPLICATION, 7);
        same_get(t, back, 1, MLS_RATCHET_APPLICATION, 7);  /* consumed on both */
        same_get(t, back, 1, MLS_RATCHET_APPLICATION, 6);  /* consumed before saving */
        same_get(t, back, 1, MLS_RATCHET_APPLICATION, 2);  /* below the window: too old */
        same_get(t, back, 1, MLS_RATCHET_APPLICATION, 11);
        same_get(t, back, 1, MLS_RATCHET_HANDSHAKE, 1);
        same_get(t, back, 6, MLS_RATCHET_HANDSHAKE, 1);
        same_get(t, back, 6, MLS_RATCHET_APPLICATION, 0);
        same_get(t, back, 4, MLS_RATCHET_APPLICATION, 0);  /* still lazy */
        same_get(t, back, 7, MLS_RATCHET_HANDSHAKE, 700);  /* too far (500) */
        same_get(t, back, 7, MLS_RATCHET_HANDSHAKE, 400);
        mls_secret_free(enc);
        mls_secret_free(enc2);
        enc = encode_tree(t);
        enc2 = encode_tree(back);
        assert_true(mls_secret_eq(enc, enc2));
        mls_secret_free(enc);
        mls_secret_free(enc2);
        mls_st_free(back);
        mls_st_free(t);
}

/* Truncation at every offset, and bad version/suite/leaf count. */
static void
test_st_decode_rejects_truncated_and_header(void **state)
{
        struct mls_secret_tree *t = new_tree(4);
        struct mls_secret *enc;

        (void)state;
        get_and_check(t, 4, 1, MLS_RATCHET_APPLICATION, 3);
        enc = encode_tree(t);
        for (size_t n = 0; n < enc->len; n++)
                decode_tree(enc->data, n, MLS_E_TRUNCATED);
        enc->data[0] = 2;
        decode_tree(enc->data, enc->len, MLS_E_BAD_STATE);
        enc->data[0] = 1;
        enc->data[2] = 0x63; /* suite 99 */
        decode_tree(enc->data, enc->len, MLS_E_BAD_STATE);
        enc->data[2] = 1;
        enc->data[6] = 3; /* n_leaves 3 */
        decode_tree(enc->data, enc->len, MLS_E_BAD_STATE);
        enc->data[6] = 4;
        mls_st_free(decode_tree(enc->data, enc->len, 0));
        mls_secret_free(enc);
        mls_st_free(t);
}

/* A hand-built state for suite 1 with n_leaves leaves. */
struct craft {
        struct mls_writer w;
        size_t mark;
};

static void
craft_begin(struct craft *c, uint32_t n_leaves)
{
        mls_writer_init_secure(&c->w);
        assert_int_equal(mls_writer_u8(&c->w, 1), 0);
        assert_int_equal(mls_writer_u16(&c->w, 1), 0);
        assert_int_equal(mls_writer_u32(&c->w, n_leaves), 0);
        assert_int_equal(mls_writer_u32(&c->w, 5), 0);
        assert_int_equal(mls_writer_u32(&c->w, 1000), 0);
        assert_int_equal(mls_writer_vec_begin(&c->w, &c->mark), 0);
}

static void
craft_node(struct craft *c, uint32_t node)
{
        assert_int_equal(mls_writer_u32(&c->w, node), 0);
        assert_int_equal(mls_writer_raw(&c->w, enc_secret, 32), 0);
}

static void
craft_leaves_begin(struct craft *c)
{
        assert_int_equal(mls_writer_vec_end(&c->w, c->mark), 0);
        assert_int_equal(mls_writer_vec_begin(&c->w, &c->mark), 0);
}

static void
craft_ratchet(struct craft *c, uint64_t next, uint64_t low, const uint32_t *kept, size_t n_kept)
{
        size_t m;
        uint8_t kn[28] = { 0 };

        assert_int_equal(mls_writer_u64(&c->w, next), 0);
        assert_int_equal(mls_writer_u64(&c->w, low), 0);
        assert_int_equal(mls_writer_raw(&c->w, enc_secret, 32), 0);
        assert_int_equal(mls_writer_vec_begin(&c->w, &m), 0);
        for (size_t i = 0; i < n_kept; i++) {
                assert_int_equal(mls_writer_u32(&c->w, kept[i]), 0);
                assert_int_equal(mls_writer_raw(&c->w, kn, sizeof(kn)), 0);
        }
        assert_int_equal(mls_writer_vec_end(&c->w, m), 0);
}

static void
craft_leaf(struct craft *c, uint32_t leaf, uint64_t next, uint64_t low)
{
        assert_int_equal(mls_writer_u32(&c->w, leaf), 0);
        craft_ratchet(c, next, low, NULL, 0);
        craft_ratchet(c, 0, 0, NULL, 0);
}

static struct mls_secret_tree *
craft_end(struct craft *c, int want)
{
        struct mls_secret *enc = NULL;
        struct mls_secret_tree *t;

        assert_int_equal(mls_writer_vec_end(&c->w, c->mark), 0);
        assert_int_equal(mls_writer_finish_secret(&c->w, &enc), 0);
        t = decode_tree(enc->data, enc->len, want);
        mls_secret_free(enc);
        return t;
}

/* Structural checks of a saved tree: indices in range and ascending, and
 * every leaf covered exactly once by a held node or an active leaf. */
static void
test_st_decode_rejects_bad_structure(void **state)
{
        struct craft c;

        (void)state;
        /* valid: 2 leaves, root (node 1) held */
        craft_begin(&c, 2);
        craft_node(&c, 1);
        craft_leaves_begin(&c);
        mls_st_free(craft_end(&c, 0));
        /* valid: node 0 held, leaf 1 active */
        craft_begin(&c, 2);
        craft_node(&c, 0);
        craft_leaves_begin(&c);
        craft_leaf(&c, 1, 0, 0);
        mls_st_free(craft_end(&c, 0));
        /* nothing held: leaves uncovered */
        craft_begin(&c, 2);
        craft_leaves_begin(&c);
        craft_end(&c, MLS_E_BAD_STATE);
        /* a node and its descendant */
        craft_begin(&c, 2);
        craft_node(&c, 0);
        craft_node(&c, 1);
        craft_leaves_begin(&c);
        craft_end(&c, MLS_E_BAD_STATE);
        /* node index outside the tree */
        craft_begin(&c, 2);
        craft_node(&c, 0);
        craft_node(&c, 3);
        craft_leaves_begin(&c);
        craft_end(&c, MLS_E_BAD_STATE);
        /* not ascending */
        craft_begin(&c, 2);
        craft_node(&c, 2);
        craft_node(&c, 0);
        craft_leaves_begin(&c);
        craft_end(&c, MLS_E_BAD_STATE);
        /* an active leaf whose node is still held */
        craft_begin(&c, 2);
        craft_node(&c, 0);
        craft_node(&c, 2);
        craft_leaves_begin(&c);
        craft_leaf(&c, 0, 0, 0);
        craft_end(&c, MLS_E_BAD_STATE);
        /* an active leaf under a held parent */
        craft_begin(&c, 2);
        craft_node(&c, 1);
        craft_leaves_begin(&c);
        craft_leaf(&c, 1, 0, 0);
        craft_end(&c, MLS_E_BAD_STATE);
        /* leaf out of range; duplicate leaf */
        craft_begin(&c, 2);
        craft_leaves_begin(&c);
        craft_leaf(&c, 0, 0, 0);
        craft_leaf(&c, 2, 0, 0);
        craft_end(&c, MLS_E_BAD_STATE);
        craft_begin(&c, 2);
        craft_leaves_begin(&c);
        craft_leaf(&c, 0, 0, 0);
        craft_leaf(&c, 0, 0, 0);
        craft_end(&c, MLS_E_BAD_STATE);
        /* ratchet: low above next; next above 2^32 */
        craft_begin(&c, 1);
        craft_leaves_begin(&c);
        craft_leaf(&c, 0, 3, 4);
        craft_end(&c, MLS_E_BAD_STATE);
        craft_begin(&c, 1);
        craft_leaves_begin(&c);
        craft_leaf(&c, 0, ((uint64_t)1 << 32) + 1, 0);
        craft_end(&c, MLS_E_BAD_STATE);
        /* kept generations: valid, >= next, below low, not ascending */
        {
                static const uint32_t ok[] = { 2, 4 }, ge_next[] = { 5 }, lt_low[] = { 0 },
                                      desc[] = { 4, 2 };
                const struct {
                        const uint32_t *k;
                        size_t n;
                        int want;
                } kc[] = { { ok, 2, 0 },
                           { ge_next, 1, MLS_E_BAD_STATE },
                           { lt_low, 1, MLS_E_BAD_STATE },
                           { desc, 2, MLS_E_BAD_STATE } };

                for (size_t i = 0; i < MLS_ARRAY_SIZE(kc); i++) {
                        craft_begin(&c, 1);
                        craft_leaves_begin(&c);
                        assert_int_equal(mls_writer_u32(&c.w, 0), 0);
                        craft_ratchet(&c, 5, 1, kc[i].k, kc[i].n);
                        craft_ratchet(&c, 0, 0, NULL, 0);
                        mls_st_free(craft_end(&c, kc[i].want));
                }
        }
}

/* The last generation 2^32 - 1 can be used once; after it the ratchet is
 * exhausted (MLS_E_GENERATION_TOO_FAR) and saving/restoring keeps it so. */
static void
test_st_ratchet_exhausted(void **state)
{
        struct craft c;
        struct mls_secret_tree *t, *back;
        struct mls_key_nonce kn = { 0 };
        struct mls_secret *k = NULL, *enc;

        (void)state;
        craft_begin(&c, 1);
        craft_leaves_begin(&c);
        craft_leaf(&c, 0, UINT32_MAX, UINT32_MAX);
        t = craft_end(&c, 0);
        assert_int_equal(mls_st_next(t, 0, MLS_RATCHET_HANDSHAKE, &kn), 0);
        assert_true(kn.generation == UINT32_MAX);
        assert_int_equal(mls_derive_tree_secret(suite1(), enc_secret, 32, "key", UINT32_MAX, 16, &k),
                         0);
        assert_memory_equal(kn.key, k->data, 16);
        mls_key_nonce_clear(&kn);
        assert_int_equal(mls_st_next(t, 0, MLS_RATCHET_HANDSHAKE, &kn), MLS_E_GENERATION_TOO_FAR);
        assert_int_equal(get_err(t, 0, MLS_RATCHET_HANDSHAKE, UINT32_MAX),
                         MLS_E_GENERATION_CONSUMED);
        enc = encode_tree(t);
        back = decode_tree(enc->data, enc->len, 0);
        assert_int_equal(mls_st_next(back, 0, MLS_RATCHET_HANDSHAKE, &kn), MLS_E_GENERATION_TOO_FAR);
        /* The other ratchet is unaffected. */
        assert_int_equal(mls_st_next(back, 0, MLS_RATCHET_APPLICATION, &kn), 0);
        assert_int_equal(kn.generation, 0);
        mls_key_nonce_clear(&kn);
        mls_secret_free(enc);
        mls_secret_free(k);
        mls_st_free(back);
        mls_st_free(t);
}

/* ---- hand-outs into caller memory (struct mls_key_nonce_buf) ---- */

static void
assert_same_kn(const struct mls_key_nonce_buf *b, const struct mls_key_nonce *k)
{
        assert_int_equal(b->key_len, k->key_len);
        assert_int_equal(b->nonce_len, k->nonce_len);
        assert_int_equal(b->generation, k->generation);
        assert_memory_equal(b->key, k->key, k->key_len);
        assert_memory_equal(b->nonce, k->nonce, k->nonce_len);
}

static void
assert_same_stats(const struct mls_secret_tree *a, const struct mls_secret_tree *b)
{
        struct mls_st_stats x, y;

        mls_st_stats(a, &x);
        mls_st_stats(b, &y);
        assert_int_equal(x.node_derivations, y.node_derivations);
        assert_int_equal(x.ratchet_steps, y.ratchet_steps);
        assert_int_equal(x.node_secrets_held, y.node_secrets_held);
        assert_int_equal(x.leaves_active, y.leaves_active);
        assert_int_equal(x.kept_keys, y.kept_keys);
        assert_int_equal(x.slots_used, y.slots_used);
}

/* R-9.1-1, R-9.2-4, R-9.2-5: the _into forms hand out the same keys and
 * nonces as the struct mls_key_nonce forms, with the same errors and the
 * same effect on the tree (two trees driven through the same sequence, in
 * every suite: nonce_len 12, key_len 16 or 32). */
static void
test_st_into_matches_allocating(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t si = 0; si < n; si++) {
                const struct mls_suite *s = mls_suite_get(ids[si]);
                static const struct {
                        uint32_t leaf;
                        enum mls_ratchet_type type;
                        uint32_t gen;
                } seq[] = {
                        { 5, MLS_RATCHET_APPLICATION, 0 }, { 5, MLS_RATCHET_APPLICATION, 4 },
                        { 5, MLS_RATCHET_APPLICATION, 2 }, { 5, MLS_RATCHET_APPLICATION, 2 },
                        { 5, MLS_RATCHET_APPLICATION, 1 }, { 0, MLS_RATCHET_HANDSHAKE, 3 },
                        { 5, MLS_RATCHET_APPLICATION, 2000 }, { 8, MLS_RATCHET_HANDSHAKE, 0 },
                        { 7, MLS_RATCHET_HANDSHAKE, 0 },
                };
                uint8_t root[MLS_MAX_HASH_LEN], ct[70];
                struct mls_secret_tree *a = NULL, *b = NULL;

                randombytes_buf(root, sizeof(root));
                randombytes_buf(ct, sizeof(ct));
                assert_int_equal(mls_st_new(s, root, s->hash_len, 8, &a), 0);
                assert_int_equal(mls_st_new(s, root, s->hash_len, 8, &b), 0);
                for (size_t i = 0; i < MLS_ARRAY_SIZE(seq); i++) {
                        struct mls_key_nonce_buf kb, pb;
                        struct mls_key_nonce kn = { 0 }, pn = { 0 };
                        int e1, e2, p1, p2;

                        p1 = mls_st_peek_into(a, seq[i].leaf, seq[i].type, seq[i].gen, &pb);
                        p2 = mls_st_peek(b, seq[i].leaf, seq[i].type, seq[i].gen, &pn);
                        assert_int_equal(p1, p2);
                        e1 = mls_st_get_into(a, seq[i].leaf, seq[i].type, seq[i].gen, &kb);
                        e2 = mls_st_get(b, seq[i].leaf, seq[i].type, seq[i].gen, &kn);
                        assert_int_equal(e1, e2);
                        if (e1 == 0) {
                                assert_same_kn(&kb, &kn);
                                assert_same_kn(&pb, &pn);
                                assert_memory_equal(pb.key, kb.key, kb.key_len);
                        }
                        assert_same_stats(a, b);
                        mls_key_nonce_clear(&kn);
                        mls_key_nonce_clear(&pn);
                        mls_key_nonce_buf_clear(&kb);
                        mls_key_nonce_buf_clear(&pb);
                }
                for (int i = 0; i < 3; i++) {
                        struct mls_key_nonce_buf kb;
                        struct mls_key_nonce kn = { 0 };

                        assert_int_equal(mls_st_next_into(a, 3, MLS_RATCHET_HANDSHAKE, &kb), 0);
                        assert_int_equal(mls_st_next(b, 3, MLS_RATCHET_HANDSHAKE, &kn), 0);
                        assert_same_kn(&kb, &kn);
                        assert_int_equal(kb.generation, (uint32_t)i);
                        assert_same_stats(a, b);
                        mls_key_nonce_clear(&kn);
                        mls_key_nonce_buf_clear(&kb);
                }
                for (size_t len = 0; len <= sizeof(ct); len += 35) {
                        struct mls_key_nonce_buf kb;
                        struct mls_key_nonce kn = { 0 };

                        assert_int_equal(mls_st_sender_data_key_into(s, root, s->hash_len, ct,
                                                                     len, &kb),
                                         0);
                        assert_int_equal(mls_st_sender_data_key(s, root, s->hash_len, ct, len,
                                                                &kn),
                                         0);
                        assert_same_kn(&kb, &kn);
                        mls_key_nonce_clear(&kn);
                        mls_key_nonce_buf_clear(&kb);
                }
                mls_st_free(a);
                mls_st_free(b);
        }
}

/* On every error the buffer is wiped, whatever it held: replay
 * (R-9.2-5), too old, too far, a leaf outside the tree, bad arguments. */
static void
test_st_into_wipes_on_failure(void **state)
{
        struct mls_secret_tree *t = new_tree(4);
        struct mls_key_nonce_buf kb, zero;

        (void)state;
        memset(&zero, 0, sizeof(zero));
        assert_int_equal(mls_st_get_into(t, 1, MLS_RATCHET_APPLICATION, 0, &kb), 0);
        assert_int_equal(kb.key_len, 16);
        assert_int_equal(kb.nonce_len, 12);

        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_get_into(t, 1, MLS_RATCHET_APPLICATION, 0, &kb),
                         MLS_E_GENERATION_CONSUMED);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_peek_into(t, 1, MLS_RATCHET_APPLICATION, 0, &kb),
                         MLS_E_GENERATION_CONSUMED);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_get_into(t, 1, MLS_RATCHET_APPLICATION, 5000, &kb),
                         MLS_E_GENERATION_TOO_FAR);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_peek_into(t, 2, MLS_RATCHET_APPLICATION, 5000, &kb),
                         MLS_E_GENERATION_TOO_FAR);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        assert_int_equal(mls_st_get_into(t, 1, MLS_RATCHET_APPLICATION, 20, &kb), 0);
        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_get_into(t, 1, MLS_RATCHET_APPLICATION, 3, &kb),
                         MLS_E_GENERATION_TOO_OLD);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_next_into(t, 4, MLS_RATCHET_HANDSHAKE, &kb), MLS_E_TREE_INDEX);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_get_into(t, 0, (enum mls_ratchet_type)7, 0, &kb),
                         MLS_E_INVALID_ARGUMENT);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        memset(&kb, 0xa5, sizeof(kb));
        assert_int_equal(mls_st_sender_data_key_into(suite1(), enc_secret, 31, NULL, 0, &kb),
                         MLS_E_INVALID_ARGUMENT);
        assert_memory_equal(&kb, &zero, sizeof(kb));
        assert_int_equal(mls_st_get_into(t, 0, MLS_RATCHET_HANDSHAKE, 0, NULL),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_st_get_into(NULL, 0, MLS_RATCHET_HANDSHAKE, 0, &kb),
                         MLS_E_INVALID_ARGUMENT);
        /* NULL-tolerant clear. */
        mls_key_nonce_buf_clear(NULL);
        mls_st_free(t);
}

/* mls_st_pool_reserve caches exactly the block a new tree's first slab
 * takes, for every suite (suite 3's slots are key||nonce, 44 bytes, not
 * Nh): the tree then allocates nothing more. */
static void
test_st_pool_reserve_fits_first_slab(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                struct mls_gpool *pool = NULL;
                struct mls_secret_tree *t = NULL;
                uint8_t secret[MLS_MAX_HASH_LEN] = { 1 };
                size_t cached;
                uint64_t allocs;

                assert_int_equal(mls_gpool_new(&pool), 0);
                assert_int_equal(mls_st_pool_reserve(pool, s), 0);
                mls_gpool_stats(pool, &cached, &allocs);
                assert_int_equal(cached, 1);
                assert_int_equal(allocs, 1);
                assert_int_equal(mls_st_new_pool(s, secret, s->hash_len, 4, pool, &t), 0);
                mls_gpool_stats(pool, &cached, &allocs);
                assert_int_equal(cached, 0);
                assert_int_equal(allocs, 1);
                mls_st_free(t);
                mls_gpool_free(pool);
        }
        assert_int_equal(mls_st_pool_reserve(NULL, suite1()), MLS_E_INVALID_ARGUMENT);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_st_vectors),
                cmocka_unit_test(test_st_sender_data),
                cmocka_unit_test(test_st_in_order_receive_and_send),
                cmocka_unit_test(test_st_out_of_order_within_window),
                cmocka_unit_test(test_st_peek_does_not_consume),
                cmocka_unit_test(test_st_too_old),
                cmocka_unit_test(test_st_too_far),
                cmocka_unit_test(test_st_replay_consumed),
                cmocka_unit_test(test_st_custom_limits),
                cmocka_unit_test(test_st_large_tree_lazy),
                cmocka_unit_test(test_st_rejects_bad_arguments),
                cmocka_unit_test(test_st_serialize_restore_roundtrip),
                cmocka_unit_test(test_st_decode_rejects_truncated_and_header),
                cmocka_unit_test(test_st_decode_rejects_bad_structure),
                cmocka_unit_test(test_st_ratchet_exhausted),
                cmocka_unit_test(test_st_into_matches_allocating),
                cmocka_unit_test(test_st_into_wipes_on_failure),
                cmocka_unit_test(test_st_pool_reserve_fits_first_slab),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
