/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/crypto: the suite table and every primitive of every
 * suite, with known answers where a standard publishes them (FIPS 180
 * "abc", RFC 4231, RFC 5869, GCM spec, RFC 8439) and negative cases for
 * every check (flipped bits, wrong lengths, points off the curve, low-order
 * points, out-of-range scalars).
 *
 * Most tests run once per suite: the cmocka prestate is the suite id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/crypto_internal.h"
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

static bool
is_nist(const struct mls_suite *s)
{
        return s->kem_id >= 0x0010 && s->kem_id <= 0x0012;
}

/* Decodes hex for a test; fails the test on bad hex. */
static struct mls_bytes
hex(const char *h)
{
        struct mls_bytes b = { 0 };

        assert_true(tu_hex_decode(h, &b));
        return b;
}

static void
assert_hex_eq(const uint8_t *got, size_t len, const char *want_hex)
{
        struct mls_bytes want = hex(want_hex);

        assert_int_equal(len, want.len);
        assert_memory_equal(got, want.data, len);
        mls_bytes_clear(&want);
}

/* A deterministic randomness source: an incrementing counter run through
 * SHA-256, so equal seeds give equal keys. */
struct det_rng {
        uint8_t seed;
        uint32_t ctr;
};

static int
det_fill(void *ctx, uint8_t *buf, size_t len)
{
        struct det_rng *d = ctx;

        while (len) {
                uint8_t in[5] = { d->seed, (uint8_t)(d->ctr >> 24), (uint8_t)(d->ctr >> 16),
                                  (uint8_t)(d->ctr >> 8), (uint8_t)d->ctr };
                uint8_t h[32];
                size_t n = len < sizeof(h) ? len : sizeof(h);

                crypto_hash_sha256(h, in, sizeof(in));
                memcpy(buf, h, n);
                buf += n;
                len -= n;
                d->ctr++;
        }
        return 0;
}

static int
fail_fill(void *ctx, uint8_t *buf, size_t len)
{
        (void)ctx;
        (void)buf;
        (void)len;
        return MLS_E_ENTROPY;
}

/* ---- suite table ---- */

/* R-5.1-1: exactly the seven RFC 9420 suites; anything else is unknown. */
static void
test_suite_unknown_id_returns_null(void **state)
{
        static const uint16_t bad[] = { 0, 8, 9, 0x0a0a, 0xf000, 0xffff };
        const uint16_t *ids;
        size_t n;

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(bad); i++)
                assert_null(mls_suite_get(bad[i]));
        ids = mls_suite_ids(&n);
        assert_int_equal(n, 7);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(ids[i], i + 1);
                assert_non_null(mls_suite_get(ids[i]));
                assert_int_equal(mls_suite_get(ids[i])->id, ids[i]);
        }
}

/* The public sizes of struct mls_suite agree with the primitive tables. */
static void
test_suite_sizes_match_primitives(void **state)
{
        const struct mls_suite *s = suite_of(state);
        const struct mls_suite_ops *o = s->ops;

        assert_int_equal(s->hash_len, o->hash->len);
        assert_int_equal(s->aead_key_len, o->aead->key_len);
        assert_int_equal(s->aead_nonce_len, o->aead->nonce_len);
        assert_int_equal(s->aead_tag_len, o->aead->tag_len);
        assert_int_equal(s->kem_id, o->kem->id);
        assert_int_equal(s->kem_pub_len, o->kem->pub_len);
        assert_int_equal(s->kem_enc_len, o->kem->pub_len);
        assert_int_equal(s->kem_priv_len, o->kem->priv_len);
        assert_int_equal(s->kem_secret_len, o->kem->secret_len);
        assert_int_equal(s->sig_pub_len, o->sig->pub_len);
        assert_int_equal(s->sig_priv_len, o->sig->priv_len);
        assert_int_equal(s->sig_max_len, o->sig->max_sig_len);
        /* In every MLS suite the KEM's KDF is the suite hash. */
        assert_ptr_equal(o->kem->kdf, o->hash);
        assert_true(s->hash_len <= MLS_MAX_HASH_LEN);
        assert_true(s->kem_pub_len <= MLS_MAX_KEM_PUB_LEN);
        assert_true(s->kem_priv_len <= MLS_MAX_KEM_PRIV_LEN);
        assert_true(s->kem_secret_len <= MLS_MAX_KEM_SECRET_LEN);
        assert_true(s->sig_pub_len <= MLS_MAX_SIG_PUB_LEN);
        assert_true(s->sig_max_len <= MLS_MAX_SIG_LEN);
        assert_true(s->aead_key_len <= MLS_MAX_AEAD_KEY_LEN);
        assert_true(s->aead_nonce_len <= MLS_MAX_AEAD_NONCE_LEN);
        assert_true(s->aead_tag_len <= MLS_MAX_AEAD_TAG_LEN);
        /* RFC 9180 ids: KDF 1/2/3 = SHA-256/384/512. */
        assert_int_equal(s->kdf_id, s->hash_len == 32 ? 1 : s->hash_len == 48 ? 2 : 3);
}

/* Every primitive of every suite runs on fixed inputs and agrees. */
static void
test_crypto_preload(void **state)
{
        (void)state;
        assert_int_equal(mls_crypto_preload(), 0);
}

/* ---- hash, HMAC, HKDF ---- */

static const char *
abc_hash(size_t len)
{
        switch (len) {
        case 32: /* FIPS 180-2 SHA-256("abc") */
                return "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        case 48: /* SHA-384("abc") */
                return "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                       "8086072ba1e7cc2358baeca134c825a7";
        default: /* SHA-512("abc") */
                return "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
        }
}

static void
test_hash_abc(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t out[MLS_MAX_HASH_LEN];

        assert_int_equal(mls_crypto_hash(s, (const uint8_t *)"abc", 3, out), 0);
        assert_hex_eq(out, s->hash_len, abc_hash(s->hash_len));
        assert_int_equal(mls_crypto_hash(NULL, (const uint8_t *)"abc", 3, out),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_crypto_hash(s, NULL, 3, out), MLS_E_INVALID_ARGUMENT);
}

/* RFC 4231 test cases 2 ("Jefe") and 6 (131-byte key, hashed first). */
static void
test_hmac_rfc4231(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const uint8_t msg2[] = "what do ya want for nothing?";
        static const uint8_t msg6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
        uint8_t key6[131];
        uint8_t out[MLS_MAX_HASH_LEN];
        const char *want2, *want6;

        switch (s->hash_len) {
        case 32:
                want2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
                want6 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
                break;
        case 48:
                want2 = "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                        "8e2240ca5e69e2c78b3239ecfab21649";
                want6 = "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
                        "0c2ef6ab4030fe8296248df163f44952";
                break;
        default:
                want2 = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
                want6 = "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598";
                break;
        }
        assert_int_equal(mls_crypto_mac(s, (const uint8_t *)"Jefe", 4, msg2, sizeof(msg2) - 1,
                                        out), 0);
        assert_hex_eq(out, s->hash_len, want2);
        memset(key6, 0xaa, sizeof(key6));
        assert_int_equal(mls_crypto_mac(s, key6, sizeof(key6), msg6, sizeof(msg6) - 1, out), 0);
        assert_hex_eq(out, s->hash_len, want6);
}

static void
test_mac_verify(void **state)
{
        const struct mls_suite *s = suite_of(state);
        static const uint8_t key[] = "key";
        static const uint8_t data[] = "confirmed transcript hash";
        uint8_t tag[MLS_MAX_HASH_LEN];

        assert_int_equal(mls_crypto_mac(s, key, 3, data, sizeof(data), tag), 0);
        assert_int_equal(mls_crypto_mac_verify(s, key, 3, data, sizeof(data), tag, s->hash_len,
                                               MLS_E_BAD_CONFIRMATION_TAG), 0);
        /* A flipped bit anywhere in the tag, a truncated tag, other data. */
        for (size_t i = 0; i < s->hash_len; i++) {
                tag[i] ^= 0x01;
                assert_int_equal(mls_crypto_mac_verify(s, key, 3, data, sizeof(data), tag,
                                                       s->hash_len, MLS_E_BAD_MEMBERSHIP_TAG),
                                 MLS_E_BAD_MEMBERSHIP_TAG);
                tag[i] ^= 0x01;
        }
        assert_int_equal(mls_crypto_mac_verify(s, key, 3, data, sizeof(data), tag,
                                               s->hash_len - 1, MLS_E_BAD_CONFIRMATION_TAG),
                         MLS_E_BAD_CONFIRMATION_TAG);
        assert_int_equal(mls_crypto_mac_verify(s, key, 3, data, sizeof(data) - 1, tag,
                                               s->hash_len, MLS_E_BAD_CONFIRMATION_TAG),
                         MLS_E_BAD_CONFIRMATION_TAG);
        assert_int_equal(mls_crypto_mac_verify(s, key, 2, data, sizeof(data), tag, s->hash_len,
                                               MLS_E_BAD_CONFIRMATION_TAG),
                         MLS_E_BAD_CONFIRMATION_TAG);
        /* `bad` must be an error code. */
        assert_int_equal(mls_crypto_mac_verify(s, key, 3, data, sizeof(data), tag, s->hash_len,
                                               0), MLS_E_INVALID_ARGUMENT);
}

/* RFC 5869 test case 1 (SHA-256); the same inputs for SHA-384/512 were
 * computed with Python's hmac module. */
static void
test_hkdf_rfc5869_case1(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t ikm[22], salt[13], info[10];
        struct mls_secret *prk = NULL, *okm = NULL;
        const char *want_prk, *want_okm;

        switch (s->hash_len) {
        case 32:
                want_prk = "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5";
                want_okm = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                           "34007208d5b887185865";
                break;
        case 48:
                want_prk = "704b39990779ce1dc548052c7dc39f303570dd13fb39f7acc564680bef80e8de"
                           "c70ee9a7e1f3e293ef68eceb072a5ade";
                want_okm = "9b5097a86038b805309076a44b3a9f38063e25b516dcbf369f394cfab43685f7"
                           "48b6457763e4f0204fc5";
                break;
        default:
                want_prk = "665799823737ded04a88e47e54a5890bb2c3d247c7a4254a8e61350723590a26"
                           "c36238127d8661b88cf80ef802d57e2f7cebcf1e00e083848be19929c61b4237";
                want_okm = "832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c14815793"
                           "38da362cb8d9f925d7cb";
                break;
        }
        memset(ikm, 0x0b, sizeof(ikm));
        for (size_t i = 0; i < sizeof(salt); i++)
                salt[i] = (uint8_t)i;
        for (size_t i = 0; i < sizeof(info); i++)
                info[i] = (uint8_t)(0xf0 + i);
        assert_int_equal(mls_crypto_hkdf_extract(s, salt, sizeof(salt), ikm, sizeof(ikm), &prk),
                         0);
        assert_hex_eq(prk->data, prk->len, want_prk);
        assert_int_equal(mls_crypto_hkdf_expand(s, prk->data, prk->len, info, sizeof(info), 42,
                                                &okm), 0);
        assert_hex_eq(okm->data, okm->len, want_okm);
        mls_secret_free(prk);
        mls_secret_free(okm);
}

/* RFC 5869 test case 3 (SHA-256, empty salt and info): an empty salt is
 * HashLen zeros. */
static void
test_hkdf_rfc5869_case3_empty_salt(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t ikm[22], zeros[MLS_MAX_HASH_LEN] = { 0 };
        struct mls_secret *prk = NULL, *prk0 = NULL, *okm = NULL;

        memset(ikm, 0x0b, sizeof(ikm));
        assert_int_equal(mls_crypto_hkdf_extract(s, NULL, 0, ikm, sizeof(ikm), &prk), 0);
        assert_int_equal(mls_crypto_hkdf_extract(s, zeros, s->hash_len, ikm, sizeof(ikm), &prk0),
                         0);
        assert_true(mls_secret_eq(prk, prk0));
        if (s->hash_len == 32) {
                assert_hex_eq(prk->data, prk->len,
                              "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
                assert_int_equal(mls_crypto_hkdf_expand(s, prk->data, prk->len, NULL, 0, 42,
                                                        &okm), 0);
                assert_hex_eq(okm->data, okm->len,
                              "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                              "9d201395faa4b61a96c8");
                mls_secret_free(okm);
        }
        mls_secret_free(prk);
        mls_secret_free(prk0);
}

/* L <= 255 * HashLen (RFC 5869 section 2.3); the output on failure is
 * untouched. */
static void
test_hkdf_expand_length_limit(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t prk[MLS_MAX_HASH_LEN] = { 1 };
        struct mls_secret *okm = NULL;
        struct mls_secret *sentinel = (struct mls_secret *)&okm;

        assert_int_equal(mls_crypto_hkdf_expand(s, prk, s->hash_len, NULL, 0, 255 * s->hash_len,
                                                &okm), 0);
        assert_int_equal(okm->len, 255 * s->hash_len);
        mls_secret_free(okm);
        okm = sentinel;
        assert_int_equal(mls_crypto_hkdf_expand(s, prk, s->hash_len, NULL, 0,
                                                255 * s->hash_len + 1, &okm),
                         MLS_E_INVALID_ARGUMENT);
        assert_ptr_equal(okm, sentinel);
        /* An output of length 0 is allowed and empty. */
        okm = NULL;
        assert_int_equal(mls_crypto_hkdf_expand(s, prk, s->hash_len, NULL, 0, 0, &okm), 0);
        assert_int_equal(okm->len, 0);
        mls_secret_free(okm);
}

/* ---- AEAD ---- */

/* Known answers: GCM specification test cases 2 (AES-128) and 14 (AES-256),
 * RFC 8439 section 2.8.2 (ChaCha20-Poly1305). */
static void
test_aead_known_answer(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t key[32] = { 0 }, nonce[12] = { 0 }, pt[16] = { 0 };
        uint8_t out[200], back[200];

        if (s->aead_id == 1 || s->aead_id == 2) {
                assert_int_equal(mls_crypto_aead_seal(s, key, nonce, NULL, 0, pt, sizeof(pt),
                                                      out), 0);
                assert_hex_eq(out, 32, s->aead_id == 1 ?
                              "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf" :
                              "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
        } else {
                static const char sunscreen[] =
                        "Ladies and Gentlemen of the class of '99: If I could offer you only "
                        "one tip for the future, sunscreen would be it.";
                struct mls_bytes n = hex("070000004041424344454647");
                struct mls_bytes aad = hex("50515253c0c1c2c3c4c5c6c7");
                size_t len = sizeof(sunscreen) - 1;

                for (size_t i = 0; i < 32; i++)
                        key[i] = (uint8_t)(0x80 + i);
                assert_int_equal(mls_crypto_aead_seal(s, key, n.data, aad.data, aad.len,
                                                      (const uint8_t *)sunscreen, len, out), 0);
                assert_hex_eq(out, len + 16,
                              "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                              "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                              "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                              "3ff4def08e4b7a9de576d26586cec64b6116"
                              "1ae10b594f09e26a7e902ecbd0600691");
                assert_int_equal(mls_crypto_aead_open(s, key, n.data, aad.data, aad.len, out,
                                                      len + 16, back), 0);
                assert_memory_equal(back, sunscreen, len);
                mls_bytes_clear(&n);
                mls_bytes_clear(&aad);
        }
}

static void
assert_wiped(const uint8_t *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                assert_int_equal(p[i], 0);
}

/* Round trip, then a flipped bit in the tag, the ciphertext, the aad and
 * the nonce, a wrong key and truncation each give MLS_E_DECRYPT with the
 * output wiped. */
static void
test_aead_round_trip_and_tamper(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t key[MLS_MAX_AEAD_KEY_LEN], nonce[MLS_MAX_AEAD_NONCE_LEN];
        uint8_t aad[20], pt[100], ct[100 + MLS_MAX_AEAD_TAG_LEN], out[100];
        size_t ct_len = sizeof(pt) + s->aead_tag_len;

        randombytes_buf(key, sizeof(key));
        randombytes_buf(nonce, sizeof(nonce));
        randombytes_buf(aad, sizeof(aad));
        randombytes_buf(pt, sizeof(pt));
        assert_int_equal(mls_crypto_aead_seal(s, key, nonce, aad, sizeof(aad), pt, sizeof(pt),
                                              ct), 0);
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, aad, sizeof(aad), ct, ct_len, out),
                         0);
        assert_memory_equal(out, pt, sizeof(pt));

        /* every bit position of the tag, and some of the ciphertext */
        for (size_t i = 0; i < ct_len; i += (i >= sizeof(pt) ? 1 : 7)) {
                for (unsigned bit = 0; bit < 8; bit += (i >= sizeof(pt) ? 1 : 3)) {
                        ct[i] ^= (uint8_t)(1u << bit);
                        memset(out, 0xaa, sizeof(out));
                        assert_int_equal(mls_crypto_aead_open(s, key, nonce, aad, sizeof(aad),
                                                              ct, ct_len, out), MLS_E_DECRYPT);
                        assert_wiped(out, sizeof(out));
                        ct[i] ^= (uint8_t)(1u << bit);
                }
        }
        aad[5] ^= 0x10;
        memset(out, 0xaa, sizeof(out));
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, aad, sizeof(aad), ct, ct_len, out),
                         MLS_E_DECRYPT);
        assert_wiped(out, sizeof(out));
        aad[5] ^= 0x10;
        /* missing aad */
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, NULL, 0, ct, ct_len, out),
                         MLS_E_DECRYPT);
        nonce[11] ^= 0x80;
        memset(out, 0xaa, sizeof(out));
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, aad, sizeof(aad), ct, ct_len, out),
                         MLS_E_DECRYPT);
        assert_wiped(out, sizeof(out));
        nonce[11] ^= 0x80;
        key[0] ^= 0x01;
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, aad, sizeof(aad), ct, ct_len, out),
                         MLS_E_DECRYPT);
        key[0] ^= 0x01;
        /* truncation: dropping any suffix, or below the tag size */
        for (size_t n = 0; n < ct_len; n++)
                assert_int_equal(mls_crypto_aead_open(s, key, nonce, aad, sizeof(aad), ct, n,
                                                      out), MLS_E_DECRYPT);
        /* still fine after all that */
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, aad, sizeof(aad), ct, ct_len, out),
                         0);
        assert_memory_equal(out, pt, sizeof(pt));
}

static void
test_aead_empty_plaintext(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t key[MLS_MAX_AEAD_KEY_LEN] = { 3 }, nonce[MLS_MAX_AEAD_NONCE_LEN] = { 4 };
        uint8_t ct[MLS_MAX_AEAD_TAG_LEN];

        assert_int_equal(mls_crypto_aead_seal(s, key, nonce, NULL, 0, NULL, 0, ct), 0);
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, NULL, 0, ct, s->aead_tag_len, NULL),
                         0);
        ct[0] ^= 1;
        assert_int_equal(mls_crypto_aead_open(s, key, nonce, NULL, 0, ct, s->aead_tag_len, NULL),
                         MLS_E_DECRYPT);
}

/* ---- signatures ---- */

/* Round trip; R-5.1.2-2: a flipped bit in the signature or message, a
 * truncated or overlong signature are MLS_E_BAD_SIGNATURE. */
static void
test_sig_round_trip_and_tamper(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 }, pub2 = { 0 }, sig = { 0 };
        uint8_t msg[64], big[MLS_MAX_SIG_LEN + 1];

        randombytes_buf(msg, sizeof(msg));
        assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &priv, &pub), 0);
        assert_int_equal(priv->len, s->sig_priv_len);
        assert_int_equal(pub.len, s->sig_pub_len);
        assert_int_equal(mls_crypto_sig_pub_from_priv(s, priv, &pub2), 0);
        assert_true(mls_bytes_eq(&pub, &pub2));
        assert_int_equal(mls_crypto_sign(s, priv, msg, sizeof(msg), &sig), 0);
        assert_true(sig.len > 0 && sig.len <= s->sig_max_len);
        if (!is_nist(s))
                assert_int_equal(sig.len, s->sig_max_len);
        else
                assert_int_equal(sig.data[0], 0x30); /* DER SEQUENCE */
        assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg), sig.data,
                                           sig.len), 0);
        for (size_t i = 0; i < sig.len; i++) {
                sig.data[i] ^= 0x04;
                assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg),
                                                   sig.data, sig.len), MLS_E_BAD_SIGNATURE);
                sig.data[i] ^= 0x04;
        }
        for (size_t i = 0; i < sizeof(msg); i += 5) {
                msg[i] ^= 0x80;
                assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg),
                                                   sig.data, sig.len), MLS_E_BAD_SIGNATURE);
                msg[i] ^= 0x80;
        }
        assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg) - 1, sig.data,
                                           sig.len), MLS_E_BAD_SIGNATURE);
        for (size_t n = 0; n < sig.len; n++)
                assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg),
                                                   sig.data, n), MLS_E_BAD_SIGNATURE);
        memset(big, 0, sizeof(big));
        memcpy(big, sig.data, sig.len);
        /* trailing byte after a valid signature */
        if (sig.len < s->sig_max_len)
                assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg), big,
                                                   sig.len + 1), MLS_E_BAD_SIGNATURE);
        assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg), big,
                                           s->sig_max_len + 1), MLS_E_BAD_SIGNATURE);
        /* another key's signature */
        mls_bytes_clear(&pub2);
        {
                struct mls_secret *priv2 = NULL;

                assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &priv2, &pub2), 0);
                assert_int_equal(mls_crypto_verify(s, pub2.data, pub2.len, msg, sizeof(msg),
                                                   sig.data, sig.len), MLS_E_BAD_SIGNATURE);
                mls_secret_free(priv2);
        }
        /* still fine after all that */
        assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, sizeof(msg), sig.data,
                                           sig.len), 0);
        mls_secret_free(priv);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&pub2);
        mls_bytes_clear(&sig);
}

/* R-5.1.1-1: a public key of the wrong length or not on the curve is
 * MLS_E_BAD_KEY, not a bad signature. */
static void
test_sig_rejects_malformed_pub(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 }, sig = { 0 };
        uint8_t bad[MLS_MAX_SIG_PUB_LEN + 1];
        static const uint8_t msg[] = "message";

        assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &priv, &pub), 0);
        assert_int_equal(mls_crypto_sign(s, priv, msg, sizeof(msg), &sig), 0);
        memcpy(bad, pub.data, pub.len);
        bad[pub.len] = 0;
        assert_int_equal(mls_crypto_verify(s, bad, pub.len - 1, msg, sizeof(msg), sig.data,
                                           sig.len), MLS_E_BAD_KEY);
        assert_int_equal(mls_crypto_verify(s, bad, pub.len + 1, msg, sizeof(msg), sig.data,
                                           sig.len), MLS_E_BAD_KEY);
        assert_int_equal(mls_crypto_verify(s, bad, 0, msg, sizeof(msg), sig.data, sig.len),
                         MLS_E_BAD_KEY);
        if (is_nist(s)) {
                /* Y + 1: off the curve. */
                bad[pub.len - 1] ^= 0x01;
                assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg), sig.data,
                                                   sig.len), MLS_E_BAD_KEY);
                bad[pub.len - 1] ^= 0x01;
                /* compressed / hybrid / infinity prefixes */
                bad[0] = 0x02;
                assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg), sig.data,
                                                   sig.len), MLS_E_BAD_KEY);
                bad[0] = 0x06;
                assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg), sig.data,
                                                   sig.len), MLS_E_BAD_KEY);
                memset(bad, 0, pub.len);
                assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg), sig.data,
                                                   sig.len), MLS_E_BAD_KEY);
                /* X = all ones is >= p */
                bad[0] = 0x04;
                memset(bad + 1, 0xff, pub.len - 1);
                assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg), sig.data,
                                                   sig.len), MLS_E_BAD_KEY);
        } else {
                /* y = 2 does not decode (x^2 is not a square) on either
                 * Edwards curve; y = 2^255-1 / 2^448-1 is >= p. */
                memset(bad, 0, pub.len);
                bad[0] = 2;
                assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg), sig.data,
                                                   sig.len), MLS_E_BAD_KEY);
                memset(bad, 0xff, pub.len);
                bad[pub.len - 1] = pub.len == 32 ? 0x7f : 0x00;
                assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg), sig.data,
                                                   sig.len), MLS_E_BAD_KEY);
                if (pub.len == 57) {
                        /* Ed448: bits 448..454 must be clear */
                        memcpy(bad, pub.data, pub.len);
                        bad[56] |= 0x01;
                        assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg),
                                                           sig.data, sig.len), MLS_E_BAD_KEY);
                        /* y = 3 decodes: a valid point, so only the
                         * signature is wrong. */
                        memset(bad, 0, pub.len);
                        bad[0] = 3;
                        assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg),
                                                           sig.data, sig.len),
                                         MLS_E_BAD_SIGNATURE);
                        /* x = 0 (y = 1) with the sign bit set */
                        memset(bad, 0, pub.len);
                        bad[0] = 1;
                        bad[56] = 0x80;
                        assert_int_equal(mls_crypto_verify(s, bad, pub.len, msg, sizeof(msg),
                                                           sig.data, sig.len), MLS_E_BAD_KEY);
                }
        }
        mls_secret_free(priv);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&sig);
}

/* Private keys of the wrong length or, for ECDSA, out of [1, n-1]. */
static void
test_sig_rejects_bad_priv(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 }, sig = { 0 };
        uint8_t k[MLS_MAX_KEM_PRIV_LEN + 1] = { 0 };

        k[0] = 1;
        assert_int_equal(mls_secret_from(k, s->sig_priv_len + 1, &priv), 0);
        assert_int_equal(mls_crypto_sign(s, priv, k, 1, &sig), MLS_E_BAD_KEY);
        assert_int_equal(mls_crypto_sig_pub_from_priv(s, priv, &pub), MLS_E_BAD_KEY);
        mls_secret_free(priv);
        if (is_nist(s)) {
                memset(k, 0, sizeof(k));
                assert_int_equal(mls_secret_from(k, s->sig_priv_len, &priv), 0);
                assert_int_equal(mls_crypto_sign(s, priv, k, 1, &sig), MLS_E_BAD_KEY);
                assert_int_equal(mls_crypto_sig_pub_from_priv(s, priv, &pub), MLS_E_BAD_KEY);
                mls_secret_free(priv);
                memset(k, 0xff, sizeof(k));
                assert_int_equal(mls_secret_from(k, s->sig_priv_len, &priv), 0);
                assert_int_equal(mls_crypto_sign(s, priv, k, 1, &sig), MLS_E_BAD_KEY);
                mls_secret_free(priv);
        }
        assert_null(sig.data);
        assert_null(pub.data);
}

/* A prepared key (the vault's form) signs exactly as the plain key does:
 * byte for byte for the deterministic EdDSA suites, verifiably for ECDSA;
 * a prepared key of the wrong length, or a plain key where a prepared one
 * is expected (Ed25519: 32 bytes instead of 64), is refused. */
static void
test_sig_prepared_matches_plain(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *priv = NULL, *prep = NULL, *bad = NULL;
        struct mls_bytes pub = { 0 }, sig = { 0 }, sig2 = { 0 };
        uint8_t msg[100];

        randombytes_buf(msg, sizeof(msg));
        assert_int_equal(mls_crypto_sig_keygen(s, mls_rng_system(), &priv, &pub), 0);
        assert_int_equal(mls_crypto_sig_prepare(s, priv, &prep), 0);
        for (size_t n = 0; n <= sizeof(msg); n += 50) {
                assert_int_equal(mls_crypto_sign_prepared(s, prep, msg, n, &sig), 0);
                assert_int_equal(mls_crypto_verify(s, pub.data, pub.len, msg, n, sig.data, sig.len),
                                 0);
                assert_int_equal(mls_crypto_sign(s, priv, msg, n, &sig2), 0);
                if (!is_nist(s))
                        assert_true(mls_bytes_eq(&sig, &sig2));
                mls_bytes_clear(&sig);
                mls_bytes_clear(&sig2);
        }
        assert_int_equal(mls_secret_from(prep->data, prep->len - 1, &bad), 0);
        assert_int_equal(mls_crypto_sign_prepared(s, bad, msg, 1, &sig), MLS_E_BAD_KEY);
        mls_secret_free(bad);
        if (prep->len != priv->len)
                assert_int_equal(mls_crypto_sign_prepared(s, priv, msg, 1, &sig), MLS_E_BAD_KEY);
        assert_null(sig.data);
        /* the plain key's length is checked before preparing */
        {
                uint8_t k[MLS_MAX_KEM_PRIV_LEN + 1] = { 1 };

                assert_true(s->sig_priv_len + 1 <= sizeof(k));
                assert_int_equal(mls_secret_from(k, s->sig_priv_len + 1, &bad), 0);
        }
        mls_secret_free(prep);
        prep = NULL;
        assert_int_equal(mls_crypto_sig_prepare(s, bad, &prep), MLS_E_BAD_KEY);
        assert_null(prep);
        mls_secret_free(bad);
        mls_secret_free(priv);
        mls_bytes_clear(&pub);
}

/* keygen draws from the rng it is given, and fails with it. */
static void
test_sig_keygen_uses_rng(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct det_rng d1 = { 7, 0 }, d2 = { 7, 0 }, d3 = { 8, 0 };
        const struct mls_rng r1 = { det_fill, &d1 }, r2 = { det_fill, &d2 }, r3 = { det_fill, &d3 };
        const struct mls_rng bad = { fail_fill, NULL };
        struct mls_secret *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL;
        struct mls_bytes k1 = { 0 }, k2 = { 0 }, k3 = { 0 }, k4 = { 0 };

        assert_int_equal(mls_crypto_sig_keygen(s, &r1, &p1, &k1), 0);
        assert_int_equal(mls_crypto_sig_keygen(s, &r2, &p2, &k2), 0);
        assert_int_equal(mls_crypto_sig_keygen(s, &r3, &p3, &k3), 0);
        assert_true(mls_secret_eq(p1, p2));
        assert_true(mls_bytes_eq(&k1, &k2));
        assert_false(mls_bytes_eq(&k1, &k3));
        assert_int_equal(mls_crypto_sig_keygen(s, &bad, &p4, &k4), MLS_E_ENTROPY);
        assert_null(p4);
        assert_null(k4.data);
        mls_secret_free(p1);
        mls_secret_free(p2);
        mls_secret_free(p3);
        mls_bytes_clear(&k1);
        mls_bytes_clear(&k2);
        mls_bytes_clear(&k3);
}

/* ---- KEM ---- */

static void
test_kem_derive_keypair_deterministic(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t ikm[64];
        struct mls_secret *a = NULL, *b = NULL, *c = NULL;
        struct mls_bytes pa = { 0 }, pb = { 0 }, pc = { 0 }, pd = { 0 };

        for (size_t i = 0; i < sizeof(ikm); i++)
                ikm[i] = (uint8_t)i;
        assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm, sizeof(ikm), &a, &pa), 0);
        assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm, sizeof(ikm), &b, &pb), 0);
        assert_int_equal(a->len, s->kem_priv_len);
        assert_int_equal(pa.len, s->kem_pub_len);
        assert_true(mls_secret_eq(a, b));
        assert_true(mls_bytes_eq(&pa, &pb));
        ikm[0] ^= 1;
        assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm, sizeof(ikm), &c, &pc), 0);
        assert_false(mls_secret_eq(a, c));
        assert_false(mls_bytes_eq(&pa, &pc));
        assert_int_equal(mls_crypto_kem_pub_from_priv(s, a, &pd), 0);
        assert_true(mls_bytes_eq(&pa, &pd));
        assert_int_equal(mls_crypto_kem_check_pub(s, pa.data, pa.len), 0);
        if (is_nist(s)) {
                assert_int_equal(pa.data[0], 0x04);
                /* P-521: the first byte of a scalar is masked to 0x01. */
                if (s->kem_priv_len == 66)
                        assert_true(a->data[0] <= 1);
        }
        mls_secret_free(a);
        mls_secret_free(b);
        mls_secret_free(c);
        mls_bytes_clear(&pa);
        mls_bytes_clear(&pb);
        mls_bytes_clear(&pc);
        mls_bytes_clear(&pd);
}

/* DH(a, B) == DH(b, A), Ndh bytes. */
static void
test_kem_dh_agreement(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *a = NULL, *b = NULL, *ab = NULL, *ba = NULL;
        struct mls_bytes pa = { 0 }, pb = { 0 };

        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &a, &pa), 0);
        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &b, &pb), 0);
        assert_int_equal(mls_crypto_dh(s, a, pb.data, pb.len, &ab), 0);
        assert_int_equal(mls_crypto_dh(s, b, pa.data, pa.len, &ba), 0);
        assert_true(mls_secret_eq(ab, ba));
        assert_int_equal(ab->len, s->ops->kem->dh_len);
        assert_false(mls_crypto_is_zero(ab->data, ab->len));
        mls_secret_free(a);
        mls_secret_free(b);
        mls_secret_free(ab);
        mls_secret_free(ba);
        mls_bytes_clear(&pa);
        mls_bytes_clear(&pb);
}

static void
test_kem_generate_uses_rng(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct det_rng d1 = { 1, 0 }, d2 = { 1, 0 };
        const struct mls_rng r1 = { det_fill, &d1 }, r2 = { det_fill, &d2 };
        const struct mls_rng bad = { fail_fill, NULL };
        struct mls_secret *a = NULL, *b = NULL, *c = NULL;
        struct mls_bytes pa = { 0 }, pb = { 0 }, pc = { 0 };

        assert_int_equal(mls_crypto_kem_generate(s, &r1, &a, &pa), 0);
        assert_int_equal(mls_crypto_kem_generate(s, &r2, &b, &pb), 0);
        assert_true(mls_secret_eq(a, b));
        assert_true(mls_bytes_eq(&pa, &pb));
        assert_int_equal(mls_crypto_kem_generate(s, &bad, &c, &pc), MLS_E_ENTROPY);
        assert_null(c);
        assert_null(pc.data);
        mls_secret_free(a);
        mls_secret_free(b);
        mls_bytes_clear(&pa);
        mls_bytes_clear(&pb);
}

/* Wrong lengths; NIST points off the curve or not uncompressed; all are
 * MLS_E_BAD_KEY and leave the output untouched. */
static void
test_kem_rejects_malformed_pub(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *a = NULL, *z = NULL;
        struct mls_bytes pa = { 0 };
        uint8_t bad[MLS_MAX_KEM_PUB_LEN + 1];

        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &a, &pa), 0);
        memcpy(bad, pa.data, pa.len);
        bad[pa.len] = 0;
        assert_int_equal(mls_crypto_kem_check_pub(s, bad, pa.len - 1), MLS_E_BAD_KEY);
        assert_int_equal(mls_crypto_kem_check_pub(s, bad, pa.len + 1), MLS_E_BAD_KEY);
        assert_int_equal(mls_crypto_kem_check_pub(s, bad, 0), MLS_E_BAD_KEY);
        assert_int_equal(mls_crypto_dh(s, a, bad, pa.len - 1, &z), MLS_E_BAD_KEY);
        assert_int_equal(mls_crypto_dh(s, a, bad, pa.len + 1, &z), MLS_E_BAD_KEY);
        if (is_nist(s)) {
                bad[pa.len - 1] ^= 0x01;
                assert_int_equal(mls_crypto_kem_check_pub(s, bad, pa.len), MLS_E_BAD_KEY);
                assert_int_equal(mls_crypto_dh(s, a, bad, pa.len, &z), MLS_E_BAD_KEY);
                bad[pa.len - 1] ^= 0x01;
                bad[0] = 0x03;
                assert_int_equal(mls_crypto_kem_check_pub(s, bad, pa.len), MLS_E_BAD_KEY);
                memset(bad, 0, pa.len);
                assert_int_equal(mls_crypto_kem_check_pub(s, bad, pa.len), MLS_E_BAD_KEY);
                assert_int_equal(mls_crypto_dh(s, a, bad, pa.len, &z), MLS_E_BAD_KEY);
        }
        assert_null(z);
        /* A private key of the wrong length. */
        {
                struct mls_secret *shortk = NULL;
                struct mls_bytes p = { 0 };

                assert_int_equal(mls_secret_from(a->data, a->len - 1, &shortk), 0);
                assert_int_equal(mls_crypto_dh(s, shortk, pa.data, pa.len, &z), MLS_E_BAD_KEY);
                assert_int_equal(mls_crypto_kem_pub_from_priv(s, shortk, &p), MLS_E_BAD_KEY);
                mls_secret_free(shortk);
        }
        mls_secret_free(a);
        mls_bytes_clear(&pa);
}

/* RFC 9180 section 7.1.4 / RFC 7748 section 6: DH with a low-order point
 * (all-zero result) must fail. For the NIST curves the analogue is a zero
 * or out-of-range scalar. */
static void
test_kem_dh_rejects_low_order(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *a = NULL, *z = NULL;
        struct mls_bytes pa = { 0 };
        uint8_t pt[MLS_MAX_KEM_PUB_LEN] = { 0 };

        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &a, &pa), 0);
        if (s->kem_id == 0x0020) {
                struct mls_bytes ord8 =
                        hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");

                assert_int_equal(mls_crypto_dh(s, a, pt, 32, &z), MLS_E_BAD_KEY); /* u = 0 */
                pt[0] = 1;
                assert_int_equal(mls_crypto_dh(s, a, pt, 32, &z), MLS_E_BAD_KEY); /* u = 1 */
                assert_int_equal(mls_crypto_dh(s, a, ord8.data, ord8.len, &z), MLS_E_BAD_KEY);
                mls_bytes_clear(&ord8);
        } else if (s->kem_id == 0x0021) {
                assert_int_equal(mls_crypto_dh(s, a, pt, 56, &z), MLS_E_BAD_KEY); /* u = 0 */
                pt[0] = 1;
                assert_int_equal(mls_crypto_dh(s, a, pt, 56, &z), MLS_E_BAD_KEY); /* u = 1 */
        } else {
                struct mls_secret *zero = NULL;
                uint8_t k[MLS_MAX_KEM_PRIV_LEN];

                memset(k, 0, sizeof(k));
                assert_int_equal(mls_secret_from(k, s->kem_priv_len, &zero), 0);
                assert_int_equal(mls_crypto_dh(s, zero, pa.data, pa.len, &z), MLS_E_BAD_KEY);
                {
                        struct mls_bytes p = { 0 };

                        assert_int_equal(mls_crypto_kem_pub_from_priv(s, zero, &p),
                                         MLS_E_BAD_KEY);
                        assert_null(p.data);
                }
                mls_secret_free(zero);
                memset(k, 0xff, sizeof(k));
                assert_int_equal(mls_secret_from(k, s->kem_priv_len, &zero), 0);
                assert_int_equal(mls_crypto_dh(s, zero, pa.data, pa.len, &z), MLS_E_BAD_KEY);
                mls_secret_free(zero);
        }
        assert_null(z);
        mls_secret_free(a);
        mls_bytes_clear(&pa);
}

/* ---- the _into forms (caller memory, no guarded allocation) ---- */

/* RFC 5869 test case 1 through extract_into/expand_into: same answers as
 * the allocating forms, and an invalid length leaves out untouched. */
static void
test_hkdf_into_rfc5869_case1(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t ikm[22], salt[13], info[10], prk[MLS_MAX_HASH_LEN], okm[42];
        uint8_t big[4], pattern[4];
        struct mls_secret *prk2 = NULL, *okm2 = NULL;

        memset(ikm, 0x0b, sizeof(ikm));
        for (size_t i = 0; i < sizeof(salt); i++)
                salt[i] = (uint8_t)i;
        for (size_t i = 0; i < sizeof(info); i++)
                info[i] = (uint8_t)(0xf0 + i);
        assert_int_equal(mls_crypto_hkdf_extract_into(s, salt, sizeof(salt), ikm, sizeof(ikm),
                                                      prk),
                         0);
        assert_int_equal(mls_crypto_hkdf_expand_into(s, prk, s->hash_len, info, sizeof(info),
                                                     okm, sizeof(okm)),
                         0);
        assert_int_equal(mls_crypto_hkdf_extract(s, salt, sizeof(salt), ikm, sizeof(ikm), &prk2),
                         0);
        assert_int_equal(mls_crypto_hkdf_expand(s, prk2->data, prk2->len, info, sizeof(info), 42,
                                                &okm2),
                         0);
        assert_memory_equal(prk, prk2->data, s->hash_len);
        assert_memory_equal(okm, okm2->data, sizeof(okm));
        if (s->hash_len == 32)
                assert_hex_eq(okm, sizeof(okm),
                              "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                              "34007208d5b887185865");
        mls_secret_free(prk2);
        mls_secret_free(okm2);

        /* Invalid arguments: nothing written. */
        memset(big, 0xa5, sizeof(big));
        memcpy(pattern, big, sizeof(big));
        assert_int_equal(mls_crypto_hkdf_expand_into(s, prk, s->hash_len, NULL, 0, big,
                                                     255 * s->hash_len + 1),
                         MLS_E_INVALID_ARGUMENT);
        assert_memory_equal(big, pattern, sizeof(big));
        assert_int_equal(mls_crypto_hkdf_expand_into(s, prk, s->hash_len, NULL, 1, big, 4),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_crypto_hkdf_expand_into(s, prk, s->hash_len, NULL, 0, NULL, 4),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_crypto_hkdf_extract_into(s, NULL, 0, ikm, sizeof(ikm), NULL),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_crypto_hkdf_extract_into(s, NULL, 3, ikm, sizeof(ikm), prk),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_crypto_hkdf_extract_into(NULL, NULL, 0, ikm, sizeof(ikm), prk),
                         MLS_E_INVALID_ARGUMENT);
}

/* DeriveKeyPair into caller memory gives the allocating form's key pair
 * (RFC 9180 section 7.1.3, including NIST rejection sampling). */
static void
test_kem_derive_keypair_into_matches(void **state)
{
        const struct mls_suite *s = suite_of(state);
        uint8_t ikm[80], priv[MLS_MAX_KEM_PRIV_LEN];
        struct mls_secret *a = NULL;
        struct mls_bytes pa = { 0 }, pb = { 0 };

        for (uint8_t round = 0; round < 8; round++) {
                memset(ikm, round, sizeof(ikm));
                assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm, sizeof(ikm), &a, &pa), 0);
                assert_int_equal(mls_crypto_kem_derive_keypair_into(s, ikm, sizeof(ikm), priv,
                                                                    &pb),
                                 0);
                assert_int_equal(a->len, s->kem_priv_len);
                assert_memory_equal(a->data, priv, s->kem_priv_len);
                assert_true(mls_bytes_eq(&pa, &pb));
                mls_secret_free(a);
                a = NULL;
                mls_bytes_clear(&pa);
                mls_bytes_clear(&pb);
        }
        assert_int_equal(mls_crypto_kem_derive_keypair_into(s, ikm, sizeof(ikm), NULL, &pb),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_crypto_kem_derive_keypair_into(s, NULL, 4, priv, &pb),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(pb.data);
}

/* DH into caller memory: DH(a, B) == DH(b, A) == the allocating form's
 * result, and the same when the public key of the private one is supplied
 * (X448 then builds its key from both halves instead of recomputing the
 * public one: the result must not change). */
static void
test_kem_dh_into_agreement(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct mls_secret *a = NULL, *b = NULL, *ab = NULL;
        struct mls_bytes pa = { 0 }, pb = { 0 };
        uint8_t x[MLS_MAX_KEM_DH_LEN], y[MLS_MAX_KEM_DH_LEN], z[MLS_MAX_KEM_DH_LEN];
        size_t xl = 0, yl = 0, zl = 0;

        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &a, &pa), 0);
        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &b, &pb), 0);
        assert_int_equal(mls_crypto_dh(s, a, pb.data, pb.len, &ab), 0);
        assert_int_equal(mls_crypto_dh_into(s, a->data, a->len, pb.data, pb.len, x, &xl), 0);
        assert_int_equal(mls_crypto_dh_into(s, b->data, b->len, pa.data, pa.len, y, &yl), 0);
        assert_int_equal(mls_kem_dh_known_pub(s, b->data, pb.data, pa.data, pa.len, z, &zl), 0);
        assert_int_equal(xl, s->ops->kem->dh_len);
        assert_int_equal(yl, xl);
        assert_int_equal(zl, xl);
        assert_memory_equal(x, ab->data, xl);
        assert_memory_equal(y, ab->data, xl);
        assert_memory_equal(z, ab->data, xl);
        assert_int_equal(mls_kem_dh_known_pub(s, b->data, NULL, pa.data, pa.len, z, &zl),
                         MLS_E_INVALID_ARGUMENT);
        mls_secret_free(a);
        mls_secret_free(b);
        mls_secret_free(ab);
        mls_bytes_clear(&pa);
        mls_bytes_clear(&pb);
}

/* A rejected DH (bad lengths, a point that is not on the curve or of low
 * order, a zero scalar) is MLS_E_BAD_KEY and leaves Ndh zero bytes in out,
 * whatever it held. */
static void
test_kem_dh_into_rejects_and_wipes(void **state)
{
        const struct mls_suite *s = suite_of(state);
        const size_t ndh = s->ops->kem->dh_len;
        struct mls_secret *a = NULL;
        struct mls_bytes pa = { 0 };
        uint8_t bad[MLS_MAX_KEM_PUB_LEN] = { 0 }, out[MLS_MAX_KEM_DH_LEN];
        uint8_t zero[MLS_MAX_KEM_DH_LEN] = { 0 }, zk[MLS_MAX_KEM_PRIV_LEN] = { 0 };

        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &a, &pa), 0);
        memset(out, 0xa5, sizeof(out));
        assert_int_equal(mls_crypto_dh_into(s, a->data, a->len, pa.data, pa.len - 1, out, NULL),
                         MLS_E_BAD_KEY);
        assert_memory_equal(out, zero, ndh);
        memset(out, 0xa5, sizeof(out));
        assert_int_equal(mls_crypto_dh_into(s, a->data, a->len - 1, pa.data, pa.len, out, NULL),
                         MLS_E_BAD_KEY);
        assert_memory_equal(out, zero, ndh);
        /* u = 0 (X25519/X448: all-zero result); all-zero bytes are not a
         * point encoding on the NIST curves. */
        memset(out, 0xa5, sizeof(out));
        assert_int_equal(mls_crypto_dh_into(s, a->data, a->len, bad, pa.len, out, NULL),
                         MLS_E_BAD_KEY);
        assert_memory_equal(out, zero, ndh);
        if (is_nist(s)) {
                memcpy(bad, pa.data, pa.len);
                bad[pa.len - 1] ^= 0x01; /* off the curve */
                memset(out, 0xa5, sizeof(out));
                assert_int_equal(mls_crypto_dh_into(s, a->data, a->len, bad, pa.len, out, NULL),
                                 MLS_E_BAD_KEY);
                assert_memory_equal(out, zero, ndh);
                memset(out, 0xa5, sizeof(out));
                assert_int_equal(mls_crypto_dh_into(s, zk, s->kem_priv_len, pa.data, pa.len, out,
                                                    NULL),
                                 MLS_E_BAD_KEY);
                assert_memory_equal(out, zero, ndh);
        }
        mls_secret_free(a);
        mls_bytes_clear(&pa);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_suite_unknown_id_returns_null),
                cmocka_unit_test(test_crypto_preload),
                PER_SUITE(test_suite_sizes_match_primitives),
                PER_SUITE(test_hash_abc),
                PER_SUITE(test_hmac_rfc4231),
                PER_SUITE(test_mac_verify),
                PER_SUITE(test_hkdf_rfc5869_case1),
                PER_SUITE(test_hkdf_rfc5869_case3_empty_salt),
                PER_SUITE(test_hkdf_expand_length_limit),
                PER_SUITE(test_aead_known_answer),
                PER_SUITE(test_aead_round_trip_and_tamper),
                PER_SUITE(test_aead_empty_plaintext),
                PER_SUITE(test_sig_round_trip_and_tamper),
                PER_SUITE(test_sig_rejects_malformed_pub),
                PER_SUITE(test_sig_rejects_bad_priv),
                PER_SUITE(test_sig_prepared_matches_plain),
                PER_SUITE(test_sig_keygen_uses_rng),
                PER_SUITE(test_kem_derive_keypair_deterministic),
                PER_SUITE(test_kem_dh_agreement),
                PER_SUITE(test_kem_generate_uses_rng),
                PER_SUITE(test_kem_rejects_malformed_pub),
                PER_SUITE(test_kem_dh_rejects_low_order),
                PER_SUITE(test_hkdf_into_rfc5869_case1),
                PER_SUITE(test_kem_derive_keypair_into_matches),
                PER_SUITE(test_kem_dh_into_agreement),
                PER_SUITE(test_kem_dh_into_rejects_and_wipes),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
