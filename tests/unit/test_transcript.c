/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mls/transcript: confirmed/interim transcript hashes and the
 * confirmation tag against the embedded transcript-hashes.json case (suite
 * 1, split into its pieces), the empty starting hashes, and negative cases
 * (flipped bits in tag, key and inputs; wrong tag length). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/transcript.h"
#include "tests/lib/testutil.h"

/* transcript-hashes.json case 0 (suite 1): authenticated_content split into
 * wire_format (1, public), FramedContent, signature and confirmation tag. */
#define TH_FC                                                                                   \
        "0567726f7570000000000000345601000000000003220220e740a6faf2db65f5853148d75d9a335d7c4b94" \
        "ab106fe5f237bc34fdcfc7458400"
#define TH_SIG                                                                                  \
        "2280c921b6b2836ed4eca496dfa74a13c171f78b80822894032c4c03cc4fb9c24e505c0d0ba4e8edb63a33" \
        "27442baa12555a57f28e4cfebb4f0c42997030e207"
#define TH_TAG "3a1d8805d8390f441a622f81bcb7347be86db7cc491d0313163fa63c2f66aa92"
#define TH_KEY "26ae359a9a9760cd1066cae16f1456ea7eaf52bd85d5dba5bb15cca04a90c83f"
#define TH_BEFORE "2597552c42df799cd70e99c77c4f80e834a9418096a0b2c7bc66afbc48eebaa6"
#define TH_CONFIRMED "51a85b21149c86f3f8c2907017c449e96987242b7ba2be9db1ddd53fb2db0d1d"
#define TH_INTERIM "193f9e11118fd08ff626069543b481ec5f04145680b612bb84d8962a2e609211"

struct th {
        const struct mls_suite *s;
        struct mls_bytes fc, sig, tag, key, before, confirmed, interim;
};

static struct mls_bytes
hex(const char *h)
{
        struct mls_bytes b = { 0 };

        assert_true(tu_hex_decode(h, &b));
        return b;
}

static int
th_setup(void **state)
{
        struct th *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        t->s = mls_suite_get(1);
        assert_non_null(t->s);
        t->fc = hex(TH_FC);
        t->sig = hex(TH_SIG);
        t->tag = hex(TH_TAG);
        t->key = hex(TH_KEY);
        t->before = hex(TH_BEFORE);
        t->confirmed = hex(TH_CONFIRMED);
        t->interim = hex(TH_INTERIM);
        *state = t;
        return 0;
}

static int
th_teardown(void **state)
{
        struct th *t = *state;

        mls_bytes_clear(&t->fc);
        mls_bytes_clear(&t->sig);
        mls_bytes_clear(&t->tag);
        mls_bytes_clear(&t->key);
        mls_bytes_clear(&t->before);
        mls_bytes_clear(&t->confirmed);
        mls_bytes_clear(&t->interim);
        free(t);
        return 0;
}

/* R-8.2-1: confirmed = Hash(interim_before || u16 wf || FramedContent ||
 * V(signature)); interim = Hash(confirmed || V(tag)). */
static void
test_transcript_vector_hashes(void **state)
{
        struct th *t = *state;
        uint8_t c[MLS_MAX_HASH_LEN], i[MLS_MAX_HASH_LEN], c2[MLS_MAX_HASH_LEN], i2[MLS_MAX_HASH_LEN];

        assert_int_equal(mls_transcript_confirmed(t->s, t->before.data, t->before.len, 1,
                                                  t->fc.data, t->fc.len, t->sig.data, t->sig.len,
                                                  c),
                         0);
        assert_memory_equal(c, t->confirmed.data, 32);
        assert_int_equal(mls_transcript_interim(t->s, c, 32, t->tag.data, t->tag.len, i), 0);
        assert_memory_equal(i, t->interim.data, 32);
        assert_int_equal(mls_transcript_update(t->s, t->before.data, t->before.len, 1, t->fc.data,
                                               t->fc.len, t->sig.data, t->sig.len, t->tag.data,
                                               t->tag.len, c2, i2),
                         0);
        assert_memory_equal(c2, c, 32);
        assert_memory_equal(i2, i, 32);
}

/* Every input is bound: another wire_format, a flipped bit in the
 * FramedContent, the signature or the previous interim hash change the
 * confirmed hash; a flipped tag bit changes the interim hash. */
static void
test_transcript_inputs_bound(void **state)
{
        struct th *t = *state;
        uint8_t c[MLS_MAX_HASH_LEN], i[MLS_MAX_HASH_LEN];

        assert_int_equal(mls_transcript_confirmed(t->s, t->before.data, t->before.len, 2,
                                                  t->fc.data, t->fc.len, t->sig.data, t->sig.len,
                                                  c),
                         0);
        assert_memory_not_equal(c, t->confirmed.data, 32);
        t->fc.data[10] ^= 0x04;
        assert_int_equal(mls_transcript_confirmed(t->s, t->before.data, t->before.len, 1,
                                                  t->fc.data, t->fc.len, t->sig.data, t->sig.len,
                                                  c),
                         0);
        assert_memory_not_equal(c, t->confirmed.data, 32);
        t->fc.data[10] ^= 0x04;
        t->sig.data[63] ^= 0x80;
        assert_int_equal(mls_transcript_confirmed(t->s, t->before.data, t->before.len, 1,
                                                  t->fc.data, t->fc.len, t->sig.data, t->sig.len,
                                                  c),
                         0);
        assert_memory_not_equal(c, t->confirmed.data, 32);
        t->sig.data[63] ^= 0x80;
        t->before.data[0] ^= 0x01;
        assert_int_equal(mls_transcript_confirmed(t->s, t->before.data, t->before.len, 1,
                                                  t->fc.data, t->fc.len, t->sig.data, t->sig.len,
                                                  c),
                         0);
        assert_memory_not_equal(c, t->confirmed.data, 32);
        t->before.data[0] ^= 0x01;
        t->tag.data[31] ^= 0x01;
        assert_int_equal(mls_transcript_interim(t->s, t->confirmed.data, 32, t->tag.data, 32, i), 0);
        assert_memory_not_equal(i, t->interim.data, 32);
        t->tag.data[31] ^= 0x01;
}

/* R-8.2-2: at group creation the confirmed hash is empty and the interim
 * hash is Hash("" || V(confirmation_tag)). */
static void
test_transcript_empty_start(void **state)
{
        struct th *t = *state;
        uint8_t i[MLS_MAX_HASH_LEN], want[MLS_MAX_HASH_LEN], in[33];

        assert_int_equal(mls_transcript_interim(t->s, NULL, 0, t->tag.data, 32, i), 0);
        in[0] = 0x20;
        memcpy(in + 1, t->tag.data, 32);
        assert_int_equal(mls_crypto_hash(t->s, in, sizeof(in), want), 0);
        assert_memory_equal(i, want, 32);
        /* A zero-length interim_before is allowed too. */
        assert_int_equal(mls_transcript_confirmed(t->s, NULL, 0, 1, t->fc.data, t->fc.len,
                                                  t->sig.data, t->sig.len, i),
                         0);
        assert_memory_not_equal(i, t->confirmed.data, 32);
}

/* RFC 9420 section 6.1: confirmation_tag = MAC(confirmation_key,
 * confirmed_transcript_hash); R-12.4.3.1-22: verified in constant time. */
static void
test_transcript_confirmation_tag_vector(void **state)
{
        struct th *t = *state;
        uint8_t tag[MLS_MAX_HASH_LEN];

        assert_int_equal(mls_transcript_confirmation_tag(t->s, t->key.data, t->key.len,
                                                         t->confirmed.data, 32, tag),
                         0);
        assert_memory_equal(tag, t->tag.data, 32);
        assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                   t->confirmed.data, 32, t->tag.data, 32),
                         0);
}

/* R-12.4.3.1-22: a tag with any single flipped bit, a truncated or
 * extended tag, a flipped key bit or a flipped hash bit is
 * MLS_E_BAD_CONFIRMATION_TAG. */
static void
test_transcript_tag_flipped_bit_rejected(void **state)
{
        struct th *t = *state;
        uint8_t longer[33];

        for (size_t bit = 0; bit < 32 * 8; bit++) {
                t->tag.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                           t->confirmed.data, 32, t->tag.data, 32),
                                 MLS_E_BAD_CONFIRMATION_TAG);
                t->tag.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                   t->confirmed.data, 32, t->tag.data, 31),
                         MLS_E_BAD_CONFIRMATION_TAG);
        assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                   t->confirmed.data, 32, t->tag.data, 0),
                         MLS_E_BAD_CONFIRMATION_TAG);
        memcpy(longer, t->tag.data, 32);
        longer[32] = 0;
        assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                   t->confirmed.data, 32, longer, 33),
                         MLS_E_BAD_CONFIRMATION_TAG);
        t->key.data[7] ^= 0x02;
        assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                   t->confirmed.data, 32, t->tag.data, 32),
                         MLS_E_BAD_CONFIRMATION_TAG);
        t->key.data[7] ^= 0x02;
        t->confirmed.data[0] ^= 0x01;
        assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                   t->confirmed.data, 32, t->tag.data, 32),
                         MLS_E_BAD_CONFIRMATION_TAG);
        t->confirmed.data[0] ^= 0x01;
        /* Restored: valid again. */
        assert_int_equal(mls_transcript_verify_tag(t->s, t->key.data, t->key.len,
                                                   t->confirmed.data, 32, t->tag.data, 32),
                         0);
}

static void
test_transcript_rejects_bad_arguments(void **state)
{
        struct th *t = *state;
        uint8_t out[MLS_MAX_HASH_LEN];

        assert_int_equal(mls_transcript_confirmed(NULL, NULL, 0, 1, t->fc.data, t->fc.len, NULL, 0,
                                                  out),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_transcript_confirmed(t->s, NULL, 5, 1, t->fc.data, t->fc.len, NULL, 0,
                                                  out),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_transcript_interim(t->s, NULL, 3, NULL, 0, out),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_transcript_confirmation_tag(t->s, NULL, 0, NULL, 0, out),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_transcript_verify_tag(t->s, NULL, 0, NULL, 0, t->tag.data, 32),
                         MLS_E_INVALID_ARGUMENT);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_transcript_vector_hashes, th_setup,
                                                th_teardown),
                cmocka_unit_test_setup_teardown(test_transcript_inputs_bound, th_setup,
                                                th_teardown),
                cmocka_unit_test_setup_teardown(test_transcript_empty_start, th_setup,
                                                th_teardown),
                cmocka_unit_test_setup_teardown(test_transcript_confirmation_tag_vector, th_setup,
                                                th_teardown),
                cmocka_unit_test_setup_teardown(test_transcript_tag_flipped_bit_rejected,
                                                th_setup, th_teardown),
                cmocka_unit_test_setup_teardown(test_transcript_rejects_bad_arguments, th_setup,
                                                th_teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
