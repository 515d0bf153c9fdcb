/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mls/codec: every primitive, truncation at every offset,
 * non-minimal and oversized lengths, trailing bytes, round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/codec.h"
#include "tests/lib/testutil.h"

/* A reader over a guarded exact-size copy: an overread faults. */
struct greader {
        uint8_t *buf;
        struct mls_reader r;
};

static void
gr_init(struct greader *g, const uint8_t *p, size_t n)
{
        g->buf = tu_guarded_copy(p, n);
        assert_non_null(g->buf);
        mls_reader_init(&g->r, g->buf, n);
}

static void
gr_free(struct greader *g)
{
        tu_guarded_free(g->buf);
}

static void
test_reader_fixed_ints(void **state)
{
        static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                      0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
        struct greader g;
        uint8_t a;
        uint16_t b;
        uint32_t c;
        uint64_t d;

        (void)state;
        gr_init(&g, in, sizeof(in));
        assert_int_equal(mls_reader_u8(&g.r, &a), 0);
        assert_int_equal(a, 0x01);
        assert_int_equal(mls_reader_u16(&g.r, &b), 0);
        assert_int_equal(b, 0x0203);
        assert_int_equal(mls_reader_u32(&g.r, &c), 0);
        assert_int_equal(c, 0x04050607);
        assert_int_equal(mls_reader_u64(&g.r, &d), 0);
        assert_true(d == 0x08090a0b0c0d0e0fULL);
        assert_int_equal(mls_reader_done(&g.r), 0);
        assert_int_equal(mls_reader_u8(&g.r, &a), MLS_E_TRUNCATED);
        gr_free(&g);
}

/* Truncation at every offset of every fixed-width read: error, value
 * untouched, nothing read past the end. */
static void
test_reader_fixed_ints_truncated(void **state)
{
        static const uint8_t in[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

        (void)state;
        for (size_t n = 0; n < 8; n++) {
                struct greader g;
                uint16_t b = 7;
                uint32_t c = 7;
                uint64_t d = 7;

                gr_init(&g, in, n);
                if (n < 2)
                        assert_int_equal(mls_reader_u16(&g.r, &b), MLS_E_TRUNCATED);
                if (n < 4)
                        assert_int_equal(mls_reader_u32(&g.r, &c), MLS_E_TRUNCATED);
                assert_int_equal(mls_reader_u64(&g.r, &d), MLS_E_TRUNCATED);
                assert_int_equal(b, 7);
                assert_int_equal(c, 7);
                assert_true(d == 7);
                assert_int_equal(g.r.left, n);
                gr_free(&g);
        }
}

struct vcase {
        const char *hex;
        uint64_t val;
};

/* The deserialization.json values and the three widths' edges. */
static const struct vcase varints[] = {
        { "00", 0 },           { "0d", 13 },          { "3f", 63 },
        { "4040", 64 },        { "40ff", 255 },       { "7fff", 16383 },
        { "80004000", 16384 }, { "bfffffff", 1073741823 },
};

static void
test_reader_varint_valid(void **state)
{
        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(varints); i++) {
                struct mls_bytes b;
                struct greader g;
                uint64_t v;

                assert_true(tu_hex_decode(varints[i].hex, &b));
                gr_init(&g, b.data, b.len);
                assert_int_equal(mls_reader_varint(&g.r, &v), 0);
                assert_true(v == varints[i].val);
                assert_int_equal(mls_reader_done(&g.r), 0);
                /* every prefix is truncated */
                for (size_t n = 0; n < b.len; n++) {
                        struct greader t;

                        gr_init(&t, b.data, n);
                        assert_int_equal(mls_reader_varint(&t.r, &v), MLS_E_TRUNCATED);
                        gr_free(&t);
                }
                gr_free(&g);
                mls_bytes_clear(&b);
        }
}

/* R-2.1.2-2: a header longer than needed is malformed. */
static void
test_reader_varint_rejects_nonminimal(void **state)
{
        static const char *bad[] = { "4000", "4001", "403f", "80000000", "80000001", "80003fff" };

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(bad); i++) {
                struct mls_bytes b;
                struct greader g;
                uint64_t v = 99;

                assert_true(tu_hex_decode(bad[i], &b));
                gr_init(&g, b.data, b.len);
                assert_int_equal(mls_reader_varint(&g.r, &v), MLS_E_NONMINIMAL);
                assert_true(v == 99);
                gr_free(&g);
                mls_bytes_clear(&b);
        }
}

/* R-2.1.2-3: the 0b11 prefix is invalid, whatever follows. */
static void
test_reader_varint_rejects_11_prefix(void **state)
{
        static const char *bad[] = { "c0", "c000000000000000", "ff", "c1" };

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(bad); i++) {
                struct mls_bytes b;
                struct greader g;
                uint64_t v;

                assert_true(tu_hex_decode(bad[i], &b));
                gr_init(&g, b.data, b.len);
                assert_int_equal(mls_reader_varint(&g.r, &v), MLS_E_BAD_VARINT);
                gr_free(&g);
                mls_bytes_clear(&b);
        }
}

/* R-2.1.2-4, R-2.1.2-5: a vector length larger than the input is refused
 * before anything is allocated; the reader is left where it was. */
static void
test_reader_vec_rejects_oversized_length(void **state)
{
        static const uint8_t in[] = { 0xbf, 0xff, 0xff, 0xff, 0x01, 0x02 };
        struct greader g;
        struct mls_reader sub;
        struct mls_bytes b = { 0 };
        struct mls_secret *s = NULL;

        (void)state;
        gr_init(&g, in, sizeof(in));
        assert_int_equal(mls_reader_vec(&g.r, &sub), MLS_E_TRUNCATED);
        assert_int_equal(mls_reader_opaque(&g.r, &b), MLS_E_TRUNCATED);
        assert_null(b.data);
        assert_int_equal(mls_reader_opaque_secret(&g.r, &s), MLS_E_TRUNCATED);
        assert_null(s);
        assert_int_equal(g.r.left, sizeof(in));
        gr_free(&g);
}

static void
test_reader_vec_child_and_trailing(void **state)
{
        /* vec(3){ 0x01 0x02 0x03 } 0x04 */
        static const uint8_t in[] = { 0x03, 0x01, 0x02, 0x03, 0x04 };
        struct greader g;
        struct mls_reader sub;
        uint16_t v;
        uint8_t b;

        (void)state;
        gr_init(&g, in, sizeof(in));
        assert_int_equal(mls_reader_vec(&g.r, &sub), 0);
        assert_int_equal(sub.left, 3);
        assert_int_equal(mls_reader_u16(&sub, &v), 0);
        assert_int_equal(v, 0x0102);
        /* the child has one byte left: trailing inside the vector */
        assert_int_equal(mls_reader_done(&sub), MLS_E_TRAILING);
        /* the child cannot read past its end even though the parent has more */
        assert_int_equal(mls_reader_u16(&sub, &v), MLS_E_TRUNCATED);
        assert_int_equal(mls_reader_u8(&sub, &b), 0);
        assert_int_equal(mls_reader_done(&sub), 0);
        assert_int_equal(mls_reader_done(&g.r), MLS_E_TRAILING);
        assert_int_equal(mls_reader_u8(&g.r, &b), 0);
        assert_int_equal(b, 4);
        assert_int_equal(mls_reader_done(&g.r), 0);
        gr_free(&g);
}

/* Truncating an opaque<V> at every offset fails cleanly. */
static void
test_reader_opaque_truncated_every_offset(void **state)
{
        uint8_t in[2 + 100];
        struct mls_bytes full = { 0 };

        (void)state;
        in[0] = 0x40;
        in[1] = 100;
        for (size_t i = 0; i < 100; i++)
                in[2 + i] = (uint8_t)i;
        {
                struct greader g;

                gr_init(&g, in, sizeof(in));
                assert_int_equal(mls_reader_opaque(&g.r, &full), 0);
                assert_int_equal(full.len, 100);
                assert_memory_equal(full.data, in + 2, 100);
                gr_free(&g);
                mls_bytes_clear(&full);
        }
        for (size_t n = 0; n < sizeof(in); n++) {
                struct greader g;
                const uint8_t *p = NULL;
                size_t len = 0;

                gr_init(&g, in, n);
                assert_int_equal(mls_reader_opaque_view(&g.r, &p, &len), MLS_E_TRUNCATED);
                assert_null(p);
                gr_free(&g);
        }
}

static void
test_reader_opaque_secret_copies_to_guarded(void **state)
{
        static const uint8_t in[] = { 0x04, 0xde, 0xad, 0xbe, 0xef };
        struct greader g;
        struct mls_secret *s = NULL;

        (void)state;
        gr_init(&g, in, sizeof(in));
        assert_int_equal(mls_reader_opaque_secret(&g.r, &s), 0);
        assert_int_equal(s->len, 4);
        assert_memory_equal(s->data, in + 1, 4);
        mls_secret_free(s);
        gr_free(&g);
}

/* R-2.1.1-1: presence octet other than 0/1 is malformed. */
static void
test_reader_optional_rejects_bad_presence(void **state)
{
        static const uint8_t in[] = { 0x00, 0x01, 0x02, 0xff };
        struct greader g;
        bool present;

        (void)state;
        gr_init(&g, in, sizeof(in));
        assert_int_equal(mls_reader_optional(&g.r, &present), 0);
        assert_false(present);
        assert_int_equal(mls_reader_optional(&g.r, &present), 0);
        assert_true(present);
        assert_int_equal(mls_reader_optional(&g.r, &present), MLS_E_BAD_OPTIONAL);
        gr_free(&g);
        gr_init(&g, in + 3, 1);
        assert_int_equal(mls_reader_optional(&g.r, &present), MLS_E_BAD_OPTIONAL);
        gr_free(&g);
        gr_init(&g, in, 0);
        assert_int_equal(mls_reader_optional(&g.r, &present), MLS_E_TRUNCATED);
        gr_free(&g);
}

static void
test_reader_raw(void **state)
{
        static const uint8_t in[] = { 1, 2, 3 };
        struct greader g;
        const uint8_t *p;

        (void)state;
        gr_init(&g, in, sizeof(in));
        assert_int_equal(mls_reader_raw(&g.r, 4, &p), MLS_E_TRUNCATED);
        assert_int_equal(mls_reader_raw(&g.r, 2, &p), 0);
        assert_int_equal(p[1], 2);
        assert_int_equal(mls_reader_raw(&g.r, 1, &p), 0);
        assert_int_equal(mls_reader_raw(&g.r, 0, &p), 0);
        assert_int_equal(mls_reader_done(&g.r), 0);
        gr_free(&g);
}

/* R-2.1.2-1: the writer picks the shortest header. */
static void
test_writer_varint_minimal(void **state)
{
        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(varints); i++) {
                struct mls_writer w;
                struct mls_bytes out, want;

                mls_writer_init(&w);
                assert_int_equal(mls_writer_varint(&w, varints[i].val), 0);
                assert_int_equal(mls_writer_finish(&w, &out), 0);
                assert_true(tu_hex_decode(varints[i].hex, &want));
                assert_true(mls_bytes_eq(&out, &want));
                assert_int_equal(mls_varint_size(varints[i].val), want.len);
                mls_bytes_clear(&out);
                mls_bytes_clear(&want);
        }
}

static void
test_writer_varint_too_large(void **state)
{
        struct mls_writer w;

        (void)state;
        mls_writer_init(&w);
        assert_int_equal(mls_writer_varint(&w, MLS_VARINT_MAX + 1), MLS_E_TOO_LARGE);
        assert_int_equal(mls_varint_size(MLS_VARINT_MAX + 1), 0);
        assert_int_equal(w.len, 0);
        mls_writer_clear(&w);
}

/* The vector prefix is filled in afterwards at its minimal width: bodies of
 * 63, 64, 16383 and 16384 bytes, nested two deep. */
static void
test_writer_vec_prefix_widths_and_nesting(void **state)
{
        static const size_t sizes[] = { 0, 1, 63, 64, 16383, 16384, 70000 };

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(sizes); i++) {
                struct mls_writer w;
                struct mls_bytes out;
                struct mls_reader r, outer, inner;
                size_t m1, m2;
                uint8_t *body = malloc(sizes[i] + 1);
                const uint8_t *p;
                size_t n;

                assert_non_null(body);
                for (size_t k = 0; k < sizes[i]; k++)
                        body[k] = (uint8_t)(k * 7);
                mls_writer_init(&w);
                assert_int_equal(mls_writer_u16(&w, 0xabcd), 0);
                assert_int_equal(mls_writer_vec_begin(&w, &m1), 0);
                assert_int_equal(mls_writer_u8(&w, 0x11), 0);
                assert_int_equal(mls_writer_vec_begin(&w, &m2), 0);
                assert_int_equal(mls_writer_raw(&w, body, sizes[i]), 0);
                assert_int_equal(mls_writer_vec_end(&w, m2), 0);
                assert_int_equal(mls_writer_u8(&w, 0x22), 0);
                assert_int_equal(mls_writer_vec_end(&w, m1), 0);
                assert_int_equal(mls_writer_finish(&w, &out), 0);

                mls_reader_init(&r, out.data, out.len);
                uint16_t h;
                uint8_t a, b;

                assert_int_equal(mls_reader_u16(&r, &h), 0);
                assert_int_equal(h, 0xabcd);
                assert_int_equal(mls_reader_vec(&r, &outer), 0);
                assert_int_equal(mls_reader_done(&r), 0);
                assert_int_equal(mls_reader_u8(&outer, &a), 0);
                assert_int_equal(a, 0x11);
                assert_int_equal(mls_reader_vec(&outer, &inner), 0);
                assert_int_equal(mls_reader_raw(&inner, inner.left, &p), 0);
                n = sizes[i];
                assert_int_equal(p - out.data, 2 + mls_varint_size(n + 2 + mls_varint_size(n)) + 1 +
                                                       mls_varint_size(n));
                if (n)
                        assert_memory_equal(p, body, n);
                assert_int_equal(mls_reader_u8(&outer, &b), 0);
                assert_int_equal(b, 0x22);
                assert_int_equal(mls_reader_done(&outer), 0);
                mls_bytes_clear(&out);
                free(body);
        }
}

/* Everything the writer writes, the reader reads back, and re-encoding
 * gives the same bytes. */
static void
test_codec_round_trip(void **state)
{
        struct mls_writer w;
        struct mls_bytes out, again;
        struct mls_reader r;
        uint8_t a;
        uint16_t b;
        uint32_t c;
        uint64_t d, v;
        bool present;
        struct mls_bytes op;

        (void)state;
        mls_writer_init(&w);
        assert_int_equal(mls_writer_u8(&w, 0xfe), 0);
        assert_int_equal(mls_writer_u16(&w, 0xfedc), 0);
        assert_int_equal(mls_writer_u32(&w, 0xfedcba98), 0);
        assert_int_equal(mls_writer_u64(&w, 0xfedcba9876543210ULL), 0);
        assert_int_equal(mls_writer_varint(&w, 300), 0);
        assert_int_equal(mls_writer_opaque(&w, (const uint8_t *)"hello", 5), 0);
        assert_int_equal(mls_writer_optional(&w, true), 0);
        assert_int_equal(mls_writer_opaque(&w, NULL, 0), 0);
        assert_int_equal(mls_writer_optional(&w, false), 0);
        assert_int_equal(mls_writer_finish(&w, &out), 0);

        mls_reader_init(&r, out.data, out.len);
        assert_int_equal(mls_reader_u8(&r, &a), 0);
        assert_int_equal(mls_reader_u16(&r, &b), 0);
        assert_int_equal(mls_reader_u32(&r, &c), 0);
        assert_int_equal(mls_reader_u64(&r, &d), 0);
        assert_int_equal(mls_reader_varint(&r, &v), 0);
        assert_int_equal(mls_reader_opaque(&r, &op), 0);
        assert_int_equal(op.len, 5);
        assert_memory_equal(op.data, "hello", 5);
        assert_int_equal(mls_reader_optional(&r, &present), 0);
        assert_true(present);
        struct mls_bytes empty;

        assert_int_equal(mls_reader_opaque(&r, &empty), 0);
        assert_int_equal(empty.len, 0);
        assert_int_equal(mls_reader_optional(&r, &present), 0);
        assert_false(present);
        assert_int_equal(mls_reader_done(&r), 0);

        mls_writer_init(&w);
        assert_int_equal(mls_writer_u8(&w, a), 0);
        assert_int_equal(mls_writer_u16(&w, b), 0);
        assert_int_equal(mls_writer_u32(&w, c), 0);
        assert_int_equal(mls_writer_u64(&w, d), 0);
        assert_int_equal(mls_writer_varint(&w, v), 0);
        assert_int_equal(mls_writer_opaque(&w, op.data, op.len), 0);
        assert_int_equal(mls_writer_optional(&w, true), 0);
        assert_int_equal(mls_writer_opaque(&w, empty.data, empty.len), 0);
        assert_int_equal(mls_writer_optional(&w, false), 0);
        assert_int_equal(mls_writer_finish(&w, &again), 0);
        assert_true(mls_bytes_eq(&out, &again));

        /* truncation at every offset of the whole encoding */
        for (size_t n = 0; n < out.len; n++) {
                struct greader g;
                int e = 0;
                struct mls_bytes tmp = { 0 };

                gr_init(&g, out.data, n);
                e = mls_reader_u8(&g.r, &a);
                if (!e)
                        e = mls_reader_u16(&g.r, &b);
                if (!e)
                        e = mls_reader_u32(&g.r, &c);
                if (!e)
                        e = mls_reader_u64(&g.r, &d);
                if (!e)
                        e = mls_reader_varint(&g.r, &v);
                if (!e)
                        e = mls_reader_opaque(&g.r, &tmp);
                mls_bytes_clear(&tmp);
                if (!e)
                        e = mls_reader_optional(&g.r, &present);
                if (!e)
                        e = mls_reader_opaque(&g.r, &tmp);
                mls_bytes_clear(&tmp);
                if (!e)
                        e = mls_reader_optional(&g.r, &present);
                assert_int_equal(e, MLS_E_TRUNCATED);
                gr_free(&g);
        }
        mls_bytes_clear(&op);
        mls_bytes_clear(&out);
        mls_bytes_clear(&again);
}

static void
test_writer_secure_finish(void **state)
{
        struct mls_writer w;
        struct mls_secret *s = NULL;
        struct mls_bytes b;
        size_t mark;

        (void)state;
        mls_writer_init_secure(&w);
        assert_int_equal(mls_writer_vec_begin(&w, &mark), 0);
        for (int i = 0; i < 200; i++)
                assert_int_equal(mls_writer_u8(&w, (uint8_t)i), 0);
        assert_int_equal(mls_writer_vec_end(&w, mark), 0);
        /* a secure writer does not hand out ordinary heap memory */
        assert_int_equal(mls_writer_finish(&w, &b), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_writer_finish_secret(&w, &s), 0);
        assert_int_equal(s->len, 202);
        assert_int_equal(s->data[0], 0x40);
        assert_int_equal(s->data[1], 200);
        assert_int_equal(s->data[201], 199);
        assert_int_equal(w.len, 0);
        assert_null(w.buf);
        mls_secret_free(s);
}

static void
test_writer_vec_end_bad_mark(void **state)
{
        struct mls_writer w;

        (void)state;
        mls_writer_init(&w);
        assert_int_equal(mls_writer_vec_end(&w, 0), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_writer_u8(&w, 1), 0);
        assert_int_equal(mls_writer_vec_end(&w, 5), MLS_E_INVALID_ARGUMENT);
        mls_writer_clear(&w);
}

static void
test_bytes_helpers(void **state)
{
        struct mls_bytes a, b, c = { 0 }, d = { 0 };

        (void)state;
        assert_int_equal(mls_bytes_copy(&a, (const uint8_t *)"xyz", 3), 0);
        assert_int_equal(mls_bytes_dup(&b, &a), 0);
        assert_true(mls_bytes_eq(&a, &b));
        assert_false(mls_bytes_eq(&a, &c));
        assert_true(mls_bytes_eq(&c, &d));
        mls_bytes_clear(&a);
        mls_bytes_clear(&b);
        assert_null(a.data);
        assert_int_equal(a.len, 0);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reader_fixed_ints),
                cmocka_unit_test(test_reader_fixed_ints_truncated),
                cmocka_unit_test(test_reader_varint_valid),
                cmocka_unit_test(test_reader_varint_rejects_nonminimal),
                cmocka_unit_test(test_reader_varint_rejects_11_prefix),
                cmocka_unit_test(test_reader_vec_rejects_oversized_length),
                cmocka_unit_test(test_reader_vec_child_and_trailing),
                cmocka_unit_test(test_reader_opaque_truncated_every_offset),
                cmocka_unit_test(test_reader_opaque_secret_copies_to_guarded),
                cmocka_unit_test(test_reader_optional_rejects_bad_presence),
                cmocka_unit_test(test_reader_raw),
                cmocka_unit_test(test_writer_varint_minimal),
                cmocka_unit_test(test_writer_varint_too_large),
                cmocka_unit_test(test_writer_vec_prefix_widths_and_nesting),
                cmocka_unit_test(test_codec_round_trip),
                cmocka_unit_test(test_writer_secure_finish),
                cmocka_unit_test(test_writer_vec_end_bad_mark),
                cmocka_unit_test(test_bytes_helpers),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
