/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the op table and its argument codec (daemon/proto.h):
 * exact encodings, round trips, caps, truncation at every offset,
 * trailing bytes, bools, lists, and the "allowed now"/"once" gate. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/object.h"
#include "daemon/proto.h"

static const struct mkd_field schema[] = {
        { MKD_F_U8, 0, 0, "a" },
        { MKD_F_BOOL, 0, 0, "b" },
        { MKD_F_U16, 0, 0, "c" },
        { MKD_F_U32, 0, 0, "d" },
        { MKD_F_U64, 0, 0, "e" },
        { MKD_F_BYTES, 4, 0, "f" },
        { MKD_F_BYTES_LIST, 2, 3, "g" },
        { MKD_F_U32_LIST, 2, 0, "h" },
        { MKD_F_END, 0, 0, NULL },
};

/* The encoding of sample(): every field in order. */
static const uint8_t sample_bytes[] = {
        0x07,                                           /* u8 */
        0x01,                                           /* bool */
        0x01, 0x02,                                     /* u16 */
        0x01, 0x02, 0x03, 0x04,                         /* u32 */
        0, 0, 0, 0, 0, 0, 0x01, 0x00,                   /* u64 */
        0x02, 'h', 'i',                                 /* bytes<V> */
        0x05, 0x01, 'x', 0x02, 'y', 'z',                /* list of 2 opaque */
        0x04, 0x00, 0x00, 0x00, 0x2a,                   /* u32 list of 1 */
};

static void
sample(struct mkd_val *v, struct mls_writer *l1, struct mls_writer *l2)
{
        mls_writer_init(l1);
        mls_writer_init(l2);
        assert_int_equal(mkd_list_bytes_append(l1, (const uint8_t *)"x", 1), 0);
        assert_int_equal(mkd_list_bytes_append(l1, (const uint8_t *)"yz", 2), 0);
        assert_int_equal(mkd_list_u32_append(l2, 42), 0);
        v[0] = mkd_val_u(7);
        v[1] = mkd_val_u(1);
        v[2] = mkd_val_u(0x0102);
        v[3] = mkd_val_u(0x01020304);
        v[4] = mkd_val_u(256);
        v[5] = mkd_val_bytes((const uint8_t *)"hi", 2);
        v[6] = mkd_val_list(l1->buf, l1->len, 2);
        v[7] = mkd_val_list(l2->buf, l2->len, 1);
}

static void
test_proto_encode_exact_and_round_trip(void **state)
{
        struct mkd_val v[8], d[8];
        struct mls_writer w, l1, l2;
        struct mkd_list_iter it;
        const uint8_t *p;
        size_t len;
        uint32_t x;

        (void)state;
        sample(v, &l1, &l2);
        mls_writer_init(&w);
        assert_int_equal(mkd_proto_encode(&w, schema, v), 0);
        assert_int_equal(w.len, sizeof(sample_bytes));
        assert_memory_equal(w.buf, sample_bytes, sizeof(sample_bytes));
        assert_int_equal(mkd_proto_decode(schema, w.buf, w.len, d), 0);
        assert_int_equal(d[0].u, 7);
        assert_int_equal(d[4].u, 256);
        assert_int_equal(d[5].len, 2);
        assert_memory_equal(d[5].p, "hi", 2);
        assert_int_equal(d[6].n, 2);
        mkd_list_iter_init(&it, &d[6]);
        assert_true(mkd_list_next_bytes(&it, &p, &len));
        assert_int_equal(len, 1);
        assert_true(mkd_list_next_bytes(&it, &p, &len));
        assert_memory_equal(p, "yz", 2);
        assert_false(mkd_list_next_bytes(&it, &p, &len));
        mkd_list_iter_init(&it, &d[7]);
        assert_true(mkd_list_next_u32(&it, &x));
        assert_int_equal(x, 42);
        assert_false(mkd_list_next_u32(&it, &x));
        mls_writer_clear(&w);
        mls_writer_clear(&l1);
        mls_writer_clear(&l2);
}

static void
test_proto_decode_rejects_truncation_and_trailing(void **state)
{
        struct mkd_val d[8];
        uint8_t buf[sizeof(sample_bytes) + 1];

        (void)state;
        for (size_t n = 0; n < sizeof(sample_bytes); n++)
                assert_int_equal(mkd_proto_decode(schema, sample_bytes, n, d) < 0, 1);
        memcpy(buf, sample_bytes, sizeof(sample_bytes));
        buf[sizeof(sample_bytes)] = 0;
        assert_int_equal(mkd_proto_decode(schema, buf, sizeof(buf), d), MLS_E_TRAILING);
}

static void
test_proto_decode_rejects_caps_and_bad_bool(void **state)
{
        struct mkd_val d[8];
        uint8_t b[sizeof(sample_bytes)];

        (void)state;
        /* bool 2 */
        memcpy(b, sample_bytes, sizeof(b));
        b[1] = 2;
        assert_int_equal(mkd_proto_decode(schema, b, sizeof(b), d), MLS_E_BAD_ENUM);
        {
                /* bytes of 5 > cap 4 */
                static const uint8_t big[] = { 7, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                                               5, 'a', 'b', 'c', 'd', 'e', 0, 0 };

                assert_int_equal(mkd_proto_decode(schema, big, sizeof(big), d), MLS_E_TOO_LARGE);
        }
        {
                /* a list element of 4 > elem cap 3 */
                static const uint8_t el[] = { 7, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                                              0, 5, 4, 'a', 'b', 'c', 'd', 0 };

                assert_int_equal(mkd_proto_decode(schema, el, sizeof(el), d), MLS_E_TOO_LARGE);
        }
        {
                /* three list elements > count cap 2 */
                static const uint8_t cnt[] = { 7, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                                               0, 3, 0, 0, 0, 0 };

                assert_int_equal(mkd_proto_decode(schema, cnt, sizeof(cnt), d), MLS_E_TOO_LARGE);
        }
        {
                /* u32 list of 3 bytes */
                static const uint8_t odd[] = { 7, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                                               0, 0, 3, 0, 0, 0 };

                assert_int_equal(mkd_proto_decode(schema, odd, sizeof(odd), d), MLS_E_TRUNCATED);
        }
        {
                /* non-minimal length prefix of the bytes field */
                static const uint8_t nm[] = { 7, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                                              0x40, 0x00, 0, 0 };

                assert_int_equal(mkd_proto_decode(schema, nm, sizeof(nm), d), MLS_E_NONMINIMAL);
        }
}

static void
test_proto_encode_checks_caps_and_counts(void **state)
{
        struct mkd_val v[8];
        struct mls_writer w, l1, l2;

        (void)state;
        sample(v, &l1, &l2);
        mls_writer_init(&w);
        v[5] = mkd_val_bytes((const uint8_t *)"hello", 5);
        assert_int_equal(mkd_proto_encode(&w, schema, v), MLS_E_TOO_LARGE);
        w.len = 0;
        mls_writer_clear(&l1);
        mls_writer_clear(&l2);
        sample(v, &l1, &l2);
        v[6].n = 3; /* wrong count */
        assert_int_equal(mkd_proto_encode(&w, schema, v), MLS_E_INVALID_ARGUMENT);
        w.len = 0;
        v[6].n = 2;
        v[0] = mkd_val_u(256); /* u8 overflow */
        assert_int_equal(mkd_proto_encode(&w, schema, v), MLS_E_TOO_LARGE);
        mls_writer_clear(&w);
        mls_writer_clear(&l1);
        mls_writer_clear(&l2);
}

static void
test_proto_every_op_has_schemas(void **state)
{
        (void)state;
        for (uint16_t op = 1; op <= MKD_E_OP_MAX; op++) {
                const struct mkd_op *o = mkd_proto_engine_op(op);

                assert_non_null(o);
                assert_int_equal(o->op, op);
                assert_true(mkd_schema_len(o->args) <= MKD_PROTO_MAX_FIELDS);
                assert_true(mkd_schema_len(o->result) <= MKD_PROTO_MAX_FIELDS);
        }
        for (uint16_t op = 1; op <= MKD_V_OP_MAX; op++)
                assert_non_null(mkd_proto_vault_op(op));
        assert_null(mkd_proto_engine_op(0));
        assert_null(mkd_proto_engine_op(MKD_E_OP_MAX + 1));
        assert_null(mkd_proto_vault_op(MKD_V_OP_MAX + 1));
        /* group options sit where the indexes say */
        assert_int_equal(mkd_schema_len(mkd_proto_engine_op(MKD_E_CREATE_GROUP)->args),
                         MKD_CG_OPTS + MKD_GO_N);
        assert_int_equal(mkd_schema_len(mkd_proto_engine_op(MKD_E_JOIN_EXTERNAL)->args),
                         MKD_JX_OPTS + MKD_GO_N);
        assert_int_equal(mkd_schema_len(mkd_schema_identity_info), MKD_II_N);
        assert_int_equal(mkd_schema_len(mkd_schema_group_summary), MKD_GS_N);
}

static void
test_proto_gate_loading_then_once(void **state)
{
        struct mkd_op_gate g = { 0 };
        const struct mkd_op *load = mkd_proto_engine_op(MKD_E_LOAD);
        const struct mkd_op *done = mkd_proto_engine_op(MKD_E_LOAD_DONE);
        const struct mkd_op *enc = mkd_proto_engine_op(MKD_E_ENCRYPT);

        (void)state;
        /* before the end of loading: only loading ops */
        assert_null(mkd_op_gate_check(&g, enc, MKD_E_LOAD_DONE));
        assert_ptr_equal(mkd_op_gate_check(&g, load, MKD_E_LOAD_DONE), load);
        assert_ptr_equal(mkd_op_gate_check(&g, load, MKD_E_LOAD_DONE), load);
        assert_ptr_equal(mkd_op_gate_check(&g, done, MKD_E_LOAD_DONE), done);
        /* after: never again a loading op, and the once op never twice */
        assert_null(mkd_op_gate_check(&g, load, MKD_E_LOAD_DONE));
        assert_null(mkd_op_gate_check(&g, done, MKD_E_LOAD_DONE));
        assert_ptr_equal(mkd_op_gate_check(&g, enc, MKD_E_LOAD_DONE), enc);
        assert_null(mkd_op_gate_check(&g, NULL, MKD_E_LOAD_DONE));
        /* the vault: unseal only while loading */
        {
                struct mkd_op_gate v = { 0 };
                const struct mkd_op *unseal = mkd_proto_vault_op(MKD_V_UNSEAL);

                assert_non_null(mkd_op_gate_check(&v, unseal, MKD_V_LOAD_DONE));
                assert_non_null(mkd_op_gate_check(&v, mkd_proto_vault_op(MKD_V_LOAD_DONE),
                                                  MKD_V_LOAD_DONE));
                assert_null(mkd_op_gate_check(&v, unseal, MKD_V_LOAD_DONE));
                assert_non_null(mkd_op_gate_check(&v, mkd_proto_vault_op(MKD_V_SIGN),
                                                  MKD_V_LOAD_DONE));
        }
}

static void
test_proto_nested_summary_round_trip(void **state)
{
        uint8_t id[16] = { 1 }, idn[16] = { 2 };
        struct mkd_val v[MKD_GS_N], d[MKD_GS_N];
        struct mls_writer w;

        (void)state;
        v[MKD_GS_ID] = mkd_val_bytes(id, 16);
        v[MKD_GS_IDENTITY] = mkd_val_bytes(idn, 16);
        v[MKD_GS_GROUP_ID] = mkd_val_bytes((const uint8_t *)"group", 5);
        v[MKD_GS_SUITE] = mkd_val_u(1);
        v[MKD_GS_EPOCH] = mkd_val_u(UINT64_MAX);
        v[MKD_GS_OWN_LEAF] = mkd_val_u(3);
        v[MKD_GS_PENDING] = mkd_val_u(1);
        v[MKD_GS_REMOVED] = mkd_val_u(0);
        v[MKD_GS_AUTH] = mkd_val_bytes(id, 16);
        mls_writer_init(&w);
        assert_int_equal(mkd_proto_encode(&w, mkd_schema_group_summary, v), 0);
        assert_int_equal(mkd_proto_decode(mkd_schema_group_summary, w.buf, w.len, d), 0);
        assert_int_equal(d[MKD_GS_EPOCH].u, UINT64_MAX);
        assert_int_equal(d[MKD_GS_OWN_LEAF].u, 3);
        assert_memory_equal(d[MKD_GS_GROUP_ID].p, "group", 5);
        /* an over-long object id is refused */
        w.len = 0;
        {
                uint8_t big[MKD_OBJ_ID_MAX + 1] = { 0 };

                v[MKD_GS_ID] = mkd_val_bytes(big, sizeof(big));
                assert_int_equal(mkd_proto_encode(&w, mkd_schema_group_summary, v), MLS_E_TOO_LARGE);
        }
        mls_writer_clear(&w);
}

/* A group saved before the self-update clock (format 1) still decodes,
 * without times (the engine then starts the clock at load); the plain
 * wrapper of today is byte for byte the format-1 encoding. */
static const uint8_t wrap_v1[] = {
        0x01,                                           /* format 1 */
        0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* identity<V> */
        0x03, 's', 't', 'a',                            /* state<V> */
};

static void
test_proto_wrap_old_format_loads(void **state)
{
        struct mkd_wrapped o, d = { .epoch_since = 99 };
        struct mls_writer w;

        (void)state;
        assert_int_equal(mkd_wrap_decode(wrap_v1, sizeof(wrap_v1), &d), 0);
        assert_false(d.has_times);
        assert_int_equal(d.epoch_since, 0);
        assert_int_equal(d.self_update_at, 0);
        assert_int_equal(d.identity_len, 16);
        assert_ptr_equal(d.identity, wrap_v1 + 2);
        assert_int_equal(d.state_len, 3);
        assert_memory_equal(d.state, "sta", 3);
        o = (struct mkd_wrapped){ .identity = wrap_v1 + 2, .identity_len = 16,
                                  .state = (const uint8_t *)"sta", .state_len = 3 };
        mls_writer_init(&w);
        assert_int_equal(mkd_wrap_encode(&w, &o), 0);
        assert_int_equal(w.len, sizeof(wrap_v1));
        assert_memory_equal(w.buf, wrap_v1, sizeof(wrap_v1));
        mls_writer_clear(&w);
}

static void
test_proto_wrap_group_times_round_trip(void **state)
{
        static const uint8_t tail[] = {
                0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* epoch_since */
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /* self_update_at */
        };
        const struct mkd_wrapped o = {
                .identity = wrap_v1 + 2, .identity_len = 16,
                .state = (const uint8_t *)"sta", .state_len = 3, .has_times = true,
                .epoch_since = UINT64_C(0x18bcfe56800), .self_update_at = UINT64_MAX - 1,
        };
        struct mkd_wrapped d;
        struct mls_writer w;

        (void)state;
        mls_writer_init(&w);
        assert_int_equal(mkd_wrap_encode(&w, &o), 0);
        assert_int_equal(w.len, sizeof(wrap_v1) + sizeof(tail));
        assert_int_equal(w.buf[0], MKD_WRAP_FORMAT_TIMES);
        assert_memory_equal(w.buf + 1, wrap_v1 + 1, sizeof(wrap_v1) - 1);
        assert_memory_equal(w.buf + sizeof(wrap_v1), tail, sizeof(tail));
        assert_int_equal(mkd_wrap_decode(w.buf, w.len, &d), 0);
        assert_true(d.has_times);
        assert_true(d.epoch_since == o.epoch_since);
        assert_true(d.self_update_at == o.self_update_at);
        assert_int_equal(d.state_len, 3);
        assert_memory_equal(d.state, "sta", 3);
        /* truncation at every offset, and a trailing byte */
        for (size_t n = 0; n < w.len; n++)
                assert_true(mkd_wrap_decode(w.buf, n, &d) < 0);
        assert_int_equal(mls_writer_u8(&w, 0), 0);
        assert_int_equal(mkd_wrap_decode(w.buf, w.len, &d), MLS_E_TRAILING);
        mls_writer_clear(&w);
}

static void
test_proto_wrap_rejects_bad_format_and_identity(void **state)
{
        uint8_t b[sizeof(wrap_v1) + 16];
        struct mkd_wrapped d = { .state_len = 7 };
        const struct mkd_wrapped no_id = { .identity = wrap_v1, .identity_len = 0 };
        struct mls_writer w;

        (void)state;
        memcpy(b, wrap_v1, sizeof(wrap_v1));
        /* unknown formats */
        b[0] = 0;
        assert_int_equal(mkd_wrap_decode(b, sizeof(wrap_v1), &d), MLS_E_BAD_STATE);
        b[0] = 3;
        assert_int_equal(mkd_wrap_decode(b, sizeof(wrap_v1), &d), MLS_E_BAD_STATE);
        /* format 2 needs both times; format 1 has none */
        b[0] = MKD_WRAP_FORMAT_TIMES;
        assert_int_equal(mkd_wrap_decode(b, sizeof(wrap_v1), &d), MLS_E_TRUNCATED);
        memset(b + sizeof(wrap_v1), 0, 16);
        b[0] = MKD_WRAP_FORMAT_PLAIN;
        assert_int_equal(mkd_wrap_decode(b, sizeof(b), &d), MLS_E_TRAILING);
        /* an empty identity */
        {
                const uint8_t empty_id[] = { 0x01, 0x00, 0x01, 's' };

                assert_int_equal(mkd_wrap_decode(empty_id, sizeof(empty_id), &d), MLS_E_BAD_STATE);
        }
        /* nothing written on failure */
        assert_int_equal(d.state_len, 7);
        mls_writer_init(&w);
        assert_int_equal(mkd_wrap_encode(&w, &no_id), MLS_E_INVALID_ARGUMENT);
        mls_writer_clear(&w);
}

/* The self-update result: records of (summary, commit), capped at
 * MKD_SELF_UPDATE_BATCH; its arguments. */
static void
test_proto_self_update_result(void **state)
{
        const struct mkd_op *op = mkd_proto_engine_op(MKD_E_SELF_UPDATE);
        struct mls_writer rec, list, w;
        struct mkd_val v[2], d[2], r[MKD_SU_N];
        struct mkd_list_iter it;
        const uint8_t *p;
        size_t len, n = 0;

        (void)state;
        assert_non_null(op);
        assert_int_equal(op->flags, 0);
        assert_int_equal(mkd_schema_len(op->args), 2);
        assert_int_equal(mkd_schema_len(op->result), 2);
        assert_int_equal(mkd_schema_len(mkd_schema_self_update), MKD_SU_N);
        mls_writer_init(&rec);
        mls_writer_init(&list);
        mls_writer_init(&w);
        r[MKD_SU_SUMMARY] = mkd_val_bytes((const uint8_t *)"summary", 7);
        r[MKD_SU_COMMIT] = mkd_val_bytes((const uint8_t *)"commit", 6);
        assert_int_equal(mkd_proto_encode(&rec, mkd_schema_self_update, r), 0);
        for (size_t i = 0; i <= MKD_SELF_UPDATE_BATCH; i++) {
                v[MKD_SUR_UPDATES] = mkd_val_list(list.buf, list.len, i);
                v[MKD_SUR_MORE] = mkd_val_u(1);
                w.len = 0;
                assert_int_equal(mkd_proto_encode(&w, op->result, v), 0);
                assert_int_equal(mkd_proto_decode(op->result, w.buf, w.len, d), 0);
                assert_int_equal(d[MKD_SUR_UPDATES].n, i);
                assert_int_equal(d[MKD_SUR_MORE].u, 1);
                assert_int_equal(mkd_list_bytes_append(&list, rec.buf, rec.len), 0);
        }
        /* one record more than the batch is refused both ways */
        v[MKD_SUR_UPDATES] = mkd_val_list(list.buf, list.len, MKD_SELF_UPDATE_BATCH + 1);
        w.len = 0;
        assert_int_equal(mkd_proto_encode(&w, op->result, v), MLS_E_TOO_LARGE);
        mkd_list_iter_init(&it, &d[MKD_SUR_UPDATES]);
        while (mkd_list_next_bytes(&it, &p, &len)) {
                assert_int_equal(mkd_proto_decode(mkd_schema_self_update, p, len, r), 0);
                assert_memory_equal(r[MKD_SU_COMMIT].p, "commit", 6);
                n++;
        }
        assert_int_equal(n, MKD_SELF_UPDATE_BATCH);
        mls_writer_clear(&rec);
        mls_writer_clear(&list);
        mls_writer_clear(&w);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_proto_encode_exact_and_round_trip),
                cmocka_unit_test(test_proto_decode_rejects_truncation_and_trailing),
                cmocka_unit_test(test_proto_decode_rejects_caps_and_bad_bool),
                cmocka_unit_test(test_proto_encode_checks_caps_and_counts),
                cmocka_unit_test(test_proto_every_op_has_schemas),
                cmocka_unit_test(test_proto_gate_loading_then_once),
                cmocka_unit_test(test_proto_nested_summary_round_trip),
                cmocka_unit_test(test_proto_wrap_old_format_loads),
                cmocka_unit_test(test_proto_wrap_group_times_round_trip),
                cmocka_unit_test(test_proto_wrap_rejects_bad_format_and_identity),
                cmocka_unit_test(test_proto_self_update_result),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
