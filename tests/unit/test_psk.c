/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mls/psk: PreSharedKeyID codec (round trips, bad enums,
 * truncation, trailing data), nonce helpers, and psk_secret with 0, 1 and 3
 * PSKs (embedded psk_secret.json cases plus an independent recomputation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/labeled.h"
#include "mls/psk.h"
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

/* psk_secret.json, suite 1, 1 and 3 PSKs. */
static const struct {
        const char *id, *psk, *nonce;
} psk3[3] = {
        { "42aacc1afc76b1ada7a60114dd51aa740301ae8d4686f17560fffd29bc713e2f",
          "013bdae5ca37feb2e7cfa41a9fe09fc3f3d0784f32db2e7f0c065a0d4aefa963",
          "1be1e330144602b77c4205b139ca8b35e380a1f961efdbeb16a9516133c6dab9" },
        { "b4f3ad1afea819ec085d03d2f6c09ad5223df36ae3c04b4b309b3f86f0718708",
          "3781c20fec9b8df596b485aa0f7ba9107347a0fe14ff3d90a91379938ceb2682",
          "86ed1b2cccf4d67c588dc9b820eb701372215829bb5836f1d76e997030f48be6" },
        { "f8b94054d4ddd4040ac8e842b9a1cc88060ae0d0434b2543be14d0e9143d3b08",
          "6ff21d47faeb5ebe292ee8edd7a85e8650b8e0af483eff99c0c3e44fa3e459a1",
          "f3ae63a6abc2730c1620716bc47ce230da09da55839116d2ac7d9723167a36a9" },
}, psk1 = {
        "55c388e0e99fba6c1633d6b70c50ec3def72563aec7ce787847574bc27ed9d71",
        "e0a059e7da3660c691b5accb5342a0940f0ac7ea4ae4c886186249698d845860",
        "66b25bdc9086da6e266ed0828040d7a9547d20ddcfd2988d48113a10afb5a23d",
};
#define PSK3_SECRET "f53ae4e49385c8655baba15eee503cc6a62898e459275a4f809aa07e9276dcdf"
#define PSK1_SECRET "aa6ee4e7ac86bec0a39c185ad88995e9b86eea9ecca113691090c53bcc86344c"

struct psk_list {
        struct mls_psk_id ids[3];
        struct mls_bytes vals[3];
        struct mls_psk_input in[3];
        size_t n;
};

static void
list_add(struct psk_list *l, const char *id, const char *psk, const char *nonce)
{
        size_t i = l->n++;

        l->ids[i] = (struct mls_psk_id){ .psktype = MLS_PSK_EXTERNAL };
        l->ids[i].psk_id = hex(id);
        l->ids[i].psk_nonce = hex(nonce);
        l->vals[i] = hex(psk);
        l->in[i] = (struct mls_psk_input){ &l->ids[i], l->vals[i].data, l->vals[i].len };
}

static void
list_clear(struct psk_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                mls_psk_id_clear(&l->ids[i]);
                mls_bytes_clear(&l->vals[i]);
        }
        l->n = 0;
}

static void
assert_secret_hex(const struct mls_secret *s, const char *want)
{
        struct mls_bytes w = hex(want);

        assert_int_equal(s->len, w.len);
        assert_memory_equal(s->data, w.data, w.len);
        mls_bytes_clear(&w);
}

/* R-8.4-5: no PSKs give the all-zero Nh-byte secret (for every suite). */
static void
test_psk_secret_zero_psks(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                struct mls_secret *out = NULL;
                uint8_t zero[MLS_MAX_HASH_LEN] = { 0 };

                assert_int_equal(mls_psk_secret(s, NULL, 0, &out), 0);
                assert_int_equal(out->len, s->hash_len);
                assert_memory_equal(out->data, zero, s->hash_len);
                mls_secret_free(out);
        }
}

/* R-8.4-5: one PSK, against psk_secret.json and against the formula
 * computed here step by step from the primitives. */
static void
test_psk_secret_one_psk(void **state)
{
        struct psk_list l = { .n = 0 };
        struct mls_secret *out = NULL, *ext = NULL, *input = NULL, *acc = NULL;
        struct mls_writer w;
        struct mls_bytes label = { 0 };
        uint8_t zero[32] = { 0 };

        (void)state;
        list_add(&l, psk1.id, psk1.psk, psk1.nonce);
        assert_int_equal(mls_psk_secret(suite1(), l.in, 1, &out), 0);
        assert_secret_hex(out, PSK1_SECRET);

        /* PSKLabel = PreSharedKeyID || u16 index || u16 count */
        mls_writer_init(&w);
        assert_int_equal(mls_writer_u8(&w, 1), 0);
        assert_int_equal(mls_writer_opaque(&w, l.ids[0].psk_id.data, l.ids[0].psk_id.len), 0);
        assert_int_equal(mls_writer_opaque(&w, l.ids[0].psk_nonce.data, l.ids[0].psk_nonce.len), 0);
        assert_int_equal(mls_writer_u16(&w, 0), 0);
        assert_int_equal(mls_writer_u16(&w, 1), 0);
        assert_int_equal(mls_writer_finish(&w, &label), 0);
        assert_int_equal(mls_crypto_hkdf_extract(suite1(), zero, 32, l.vals[0].data, l.vals[0].len,
                                                 &ext),
                         0);
        assert_int_equal(mls_expand_with_label(suite1(), ext->data, 32, "derived psk", label.data,
                                               label.len, 32, &input),
                         0);
        assert_int_equal(mls_crypto_hkdf_extract(suite1(), input->data, 32, zero, 32, &acc), 0);
        assert_true(mls_secret_eq(acc, out));

        mls_secret_free(out);
        mls_secret_free(ext);
        mls_secret_free(input);
        mls_secret_free(acc);
        mls_bytes_clear(&label);
        list_clear(&l);
}

/* R-8.4-5, R-8.4-3: three PSKs chained in order; another order gives
 * another secret; a different psk value too. */
static void
test_psk_secret_three_psks_order(void **state)
{
        struct psk_list l = { .n = 0 }, rev = { .n = 0 };
        struct mls_secret *out = NULL, *out_rev = NULL, *out_mod = NULL;

        (void)state;
        for (size_t i = 0; i < 3; i++)
                list_add(&l, psk3[i].id, psk3[i].psk, psk3[i].nonce);
        for (size_t i = 3; i > 0; i--)
                list_add(&rev, psk3[i - 1].id, psk3[i - 1].psk, psk3[i - 1].nonce);
        assert_int_equal(mls_psk_secret(suite1(), l.in, 3, &out), 0);
        assert_secret_hex(out, PSK3_SECRET);
        assert_int_equal(mls_psk_secret(suite1(), rev.in, 3, &out_rev), 0);
        assert_false(mls_secret_eq(out, out_rev));
        l.vals[1].data[5] ^= 0x10;
        assert_int_equal(mls_psk_secret(suite1(), l.in, 3, &out_mod), 0);
        assert_false(mls_secret_eq(out, out_mod));
        mls_secret_free(out);
        mls_secret_free(out_rev);
        mls_secret_free(out_mod);
        list_clear(&l);
        list_clear(&rev);
}

static void
test_psk_secret_rejects_bad_arguments(void **state)
{
        struct psk_list l = { .n = 0 };
        struct mls_secret *out = NULL;

        (void)state;
        list_add(&l, psk1.id, psk1.psk, psk1.nonce);
        /* PSKLabel.count is a uint16. */
        assert_int_equal(mls_psk_secret(suite1(), l.in, (size_t)MLS_PSK_MAX_COUNT + 1, &out),
                         MLS_E_TOO_LARGE);
        assert_int_equal(mls_psk_secret(suite1(), NULL, 1, &out), MLS_E_INVALID_ARGUMENT);
        l.in[0].id = NULL;
        assert_int_equal(mls_psk_secret(suite1(), l.in, 1, &out), MLS_E_INVALID_ARGUMENT);
        /* An id that cannot be encoded is refused, not skipped. */
        l.in[0].id = &l.ids[0];
        l.ids[0].psktype = (enum mls_psk_type)0;
        assert_int_equal(mls_psk_secret(suite1(), l.in, 1, &out), MLS_E_BAD_ENUM);
        assert_null(out);
        l.ids[0].psktype = MLS_PSK_EXTERNAL;
        list_clear(&l);
}

static struct mls_bytes
encode_id(const struct mls_psk_id *id)
{
        struct mls_writer w;
        struct mls_bytes b = { 0 };

        mls_writer_init(&w);
        assert_int_equal(mls_psk_id_encode(id, &w), 0);
        assert_int_equal(mls_writer_finish(&w, &b), 0);
        return b;
}

static void
test_psk_id_roundtrip_external_and_resumption(void **state)
{
        struct mls_psk_id ext = { .psktype = MLS_PSK_EXTERNAL }, res = {
                .psktype = MLS_PSK_RESUMPTION,
                .usage = MLS_PSK_USAGE_BRANCH,
                .psk_epoch = 0x0102030405060708ULL,
        };
        struct mls_psk_id back = { 0 }, dup = { 0 };
        struct mls_bytes enc;
        struct mls_reader r;
        static const uint8_t want_res[] = { 0x02, 0x03, 0x02, 0xaa, 0xbb, 0x01, 0x02, 0x03, 0x04,
                                            0x05, 0x06, 0x07, 0x08, 0x01, 0x99 };

        (void)state;
        ext.psk_id = hex("0102");
        ext.psk_nonce = hex("a1a2a3");
        res.psk_group_id = hex("aabb");
        res.psk_nonce = hex("99");

        enc = encode_id(&ext);
        assert_int_equal(enc.len, 1 + 3 + 4);
        assert_int_equal(enc.data[0], 1);
        mls_reader_init(&r, enc.data, enc.len);
        assert_int_equal(mls_psk_id_decode(&r, &back), 0);
        assert_int_equal(mls_reader_done(&r), 0);
        assert_true(mls_psk_id_eq(&ext, &back));
        assert_false(mls_psk_id_eq(&res, &back));
        mls_psk_id_clear(&back);
        mls_bytes_clear(&enc);

        /* resumption: psktype 2, usage, psk_group_id<V>, u64 epoch, nonce<V> */
        enc = encode_id(&res);
        assert_int_equal(enc.len, sizeof(want_res));
        assert_memory_equal(enc.data, want_res, sizeof(want_res));
        mls_reader_init(&r, enc.data, enc.len);
        assert_int_equal(mls_psk_id_decode(&r, &back), 0);
        assert_int_equal(mls_reader_done(&r), 0);
        assert_true(mls_psk_id_eq(&res, &back));
        assert_int_equal(back.usage, MLS_PSK_USAGE_BRANCH);
        assert_true(back.psk_epoch == 0x0102030405060708ULL);
        assert_int_equal(mls_psk_id_dup(&back, &dup), 0);
        assert_true(mls_psk_id_eq(&dup, &res));
        dup.psk_epoch++;
        assert_false(mls_psk_id_eq(&dup, &res));
        mls_psk_id_clear(&back);
        mls_psk_id_clear(&dup);
        mls_bytes_clear(&enc);
        mls_psk_id_clear(&ext);
        mls_psk_id_clear(&res);
        mls_psk_id_clear(NULL);
}

/* Bad psktype (reserved 0, unknown 3 and 255) is rejected when decoding
 * PreSharedKeyID. */
static void
test_psk_id_decode_rejects_bad_psktype(void **state)
{
        static const uint8_t bad[] = { 0, 3, 255 };

        (void)state;
        for (size_t i = 0; i < sizeof(bad); i++) {
                uint8_t in[] = { bad[i], 0x01, 0xaa, 0x01, 0xbb };
                struct mls_psk_id id = { 0 };
                struct mls_reader r;

                mls_reader_init(&r, in, sizeof(in));
                assert_int_equal(mls_psk_id_decode(&r, &id), MLS_E_BAD_ENUM);
                assert_null(id.psk_id.data);
                /* The reader did not advance. */
                assert_int_equal(r.left, sizeof(in));
        }
}

/* Bad resumption usage (reserved 0, unknown 4 and 255) is rejected. */
static void
test_psk_id_decode_rejects_bad_usage(void **state)
{
        static const uint8_t bad[] = { 0, 4, 255 };

        (void)state;
        for (size_t i = 0; i < sizeof(bad); i++) {
                uint8_t in[] = { 0x02, bad[i], 0x01, 0xaa, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0xbb };
                struct mls_psk_id id = { 0 };
                struct mls_reader r;

                mls_reader_init(&r, in, sizeof(in));
                assert_int_equal(mls_psk_id_decode(&r, &id), MLS_E_BAD_ENUM);
                in[1] = MLS_PSK_USAGE_REINIT;
                mls_reader_init(&r, in, sizeof(in));
                assert_int_equal(mls_psk_id_decode(&r, &id), 0);
                assert_int_equal(id.usage, MLS_PSK_USAGE_REINIT);
                mls_psk_id_clear(&id);
        }
}

/* Truncation at every offset of both variants; trailing data is left for
 * the caller's mls_reader_done; a non-minimal length prefix fails. */
static void
test_psk_id_decode_truncated_and_trailing(void **state)
{
        static const uint8_t ext[] = { 0x01, 0x02, 0x01, 0x02, 0x03, 0xa1, 0xa2, 0xa3 };
        static const uint8_t res[] = { 0x02, 0x03, 0x02, 0xaa, 0xbb, 0x01, 0x02, 0x03,
                                       0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0x99 };
        static const uint8_t nonmin[] = { 0x01, 0x40, 0x01, 0xaa, 0x00 };
        const struct {
                const uint8_t *p;
                size_t len;
        } cases[] = { { ext, sizeof(ext) }, { res, sizeof(res) } };

        (void)state;
        for (size_t c = 0; c < MLS_ARRAY_SIZE(cases); c++) {
                for (size_t n = 0; n < cases[c].len; n++) {
                        uint8_t *g = tu_guarded_copy(cases[c].p, n);
                        struct mls_psk_id id = { 0 };
                        struct mls_reader r;

                        mls_reader_init(&r, g, n);
                        assert_int_equal(mls_psk_id_decode(&r, &id), MLS_E_TRUNCATED);
                        assert_null(id.psk_id.data);
                        assert_null(id.psk_nonce.data);
                        tu_guarded_free(g);
                }
                {
                        uint8_t buf[32];
                        struct mls_psk_id id = { 0 };
                        struct mls_reader r;

                        memcpy(buf, cases[c].p, cases[c].len);
                        buf[cases[c].len] = 0x00;
                        mls_reader_init(&r, buf, cases[c].len + 1);
                        assert_int_equal(mls_psk_id_decode(&r, &id), 0);
                        assert_int_equal(mls_reader_done(&r), MLS_E_TRAILING);
                        mls_psk_id_clear(&id);
                }
        }
        {
                struct mls_psk_id id = { 0 };
                struct mls_reader r;

                mls_reader_init(&r, nonmin, sizeof(nonmin));
                assert_int_equal(mls_psk_id_decode(&r, &id), MLS_E_NONMINIMAL);
        }
}

static void
test_psk_id_encode_rejects_bad_enums(void **state)
{
        struct mls_psk_id id = { .psktype = (enum mls_psk_type)3 };
        struct mls_writer w;

        (void)state;
        mls_writer_init(&w);
        assert_int_equal(mls_psk_id_encode(&id, &w), MLS_E_BAD_ENUM);
        id.psktype = MLS_PSK_RESUMPTION;
        id.usage = (enum mls_psk_usage)0;
        assert_int_equal(mls_psk_id_encode(&id, &w), MLS_E_BAD_ENUM);
        mls_writer_clear(&w);
}

/* R-8.4-2, R-12.1.4-4: a fresh Nh-byte random nonce per injection;
 * R-12.1.4-3: a nonce of another length is refused by mls_psk_id_check. */
static void
test_psk_id_nonce_new_and_check(void **state)
{
        const struct mls_suite *s4 = mls_suite_get(4);
        struct mls_psk_id id = { .psktype = MLS_PSK_EXTERNAL };
        struct mls_bytes first = { 0 };

        (void)state;
        assert_non_null(s4);
        assert_int_equal(mls_psk_id_check(&id, suite1()), MLS_E_INVALID_PROPOSAL);
        assert_int_equal(mls_psk_id_new_nonce(&id, suite1(), mls_rng_system()), 0);
        assert_int_equal(id.psk_nonce.len, 32);
        assert_int_equal(mls_psk_id_check(&id, suite1()), 0);
        assert_int_equal(mls_psk_id_check(&id, s4), MLS_E_INVALID_PROPOSAL);
        assert_int_equal(mls_bytes_dup(&first, &id.psk_nonce), 0);
        assert_int_equal(mls_psk_id_new_nonce(&id, suite1(), mls_rng_system()), 0);
        assert_false(mls_bytes_eq(&first, &id.psk_nonce));
        assert_int_equal(mls_psk_id_new_nonce(&id, s4, mls_rng_system()), 0);
        assert_int_equal(id.psk_nonce.len, 64);
        assert_int_equal(mls_psk_id_check(&id, s4), 0);
        id.psktype = MLS_PSK_RESUMPTION;
        id.usage = (enum mls_psk_usage)9;
        assert_int_equal(mls_psk_id_check(&id, s4), MLS_E_BAD_ENUM);
        mls_bytes_clear(&first);
        mls_psk_id_clear(&id);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_psk_secret_zero_psks),
                cmocka_unit_test(test_psk_secret_one_psk),
                cmocka_unit_test(test_psk_secret_three_psks_order),
                cmocka_unit_test(test_psk_secret_rejects_bad_arguments),
                cmocka_unit_test(test_psk_id_roundtrip_external_and_resumption),
                cmocka_unit_test(test_psk_id_decode_rejects_bad_psktype),
                cmocka_unit_test(test_psk_id_decode_rejects_bad_usage),
                cmocka_unit_test(test_psk_id_decode_truncated_and_trailing),
                cmocka_unit_test(test_psk_id_encode_rejects_bad_enums),
                cmocka_unit_test(test_psk_id_nonce_new_and_check),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
