/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the op table's argument and result decoders
 * (daemon/proto.h). The first two bytes choose a side (engine or vault),
 * an op, and whether the rest is that op's arguments or its result; the
 * nested records (identity info, group summary, member) are tried too,
 * and (first byte & 3 == 3) the engine's stored-object wrapper or (with
 * bit 2 set) the rollback manifest.
 * Whatever decodes must re-encode to exactly the input, every list must
 * iterate to its declared count, and every refusal must be a codec or
 * cap error.
 */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemon/object.h"
#include "daemon/proto.h"

static bool
expected_error(int e)
{
        return e == MLS_E_TRUNCATED || e == MLS_E_TRAILING || e == MLS_E_NONMINIMAL ||
               e == MLS_E_BAD_VARINT || e == MLS_E_TOO_LARGE || e == MLS_E_BAD_ENUM;
}

static void
check(const struct mkd_field *schema, const uint8_t *p, size_t len)
{
        struct mkd_val v[MKD_PROTO_MAX_FIELDS];
        struct mls_writer w;
        size_t n = mkd_schema_len(schema);
        int e = mkd_proto_decode(schema, p, len, v);

        if (e < 0) {
                FUZZ_ASSERT(expected_error(e));
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct mkd_list_iter it;
                size_t cnt = 0;

                if (schema[i].type == MKD_F_BYTES_LIST) {
                        const uint8_t *q;
                        size_t ql;

                        mkd_list_iter_init(&it, &v[i]);
                        while (mkd_list_next_bytes(&it, &q, &ql)) {
                                FUZZ_ASSERT(ql <= schema[i].elem_max);
                                cnt++;
                        }
                        FUZZ_ASSERT(cnt == v[i].n && cnt <= schema[i].max);
                } else if (schema[i].type == MKD_F_U32_LIST) {
                        uint32_t x;

                        mkd_list_iter_init(&it, &v[i]);
                        while (mkd_list_next_u32(&it, &x))
                                cnt++;
                        FUZZ_ASSERT(cnt == v[i].n && cnt <= schema[i].max);
                } else if (schema[i].type == MKD_F_BYTES) {
                        FUZZ_ASSERT(v[i].len <= schema[i].max);
                }
        }
        mls_writer_init(&w);
        FUZZ_ASSERT(mkd_proto_encode(&w, schema, v) == 0);
        FUZZ_ASSERT(w.len == len && (len == 0 || memcmp(w.buf, p, len) == 0));
        mls_writer_clear(&w);
}

/* The engine's object wrapper (format 1 and 2): what decodes re-encodes
 * to exactly the input; refusals are codec errors or BAD_STATE. */
static void
check_wrap(const uint8_t *p, size_t len)
{
        struct mkd_wrapped o;
        struct mls_writer w;
        int e = mkd_wrap_decode(p, len, &o);

        if (e < 0) {
                FUZZ_ASSERT(expected_error(e) || e == MLS_E_BAD_STATE);
                return;
        }
        FUZZ_ASSERT(o.identity_len >= 1 && o.identity_len <= MKD_CAP_OBJ_ID);
        mls_writer_init(&w); /* fuzz inputs hold no secrets */
        FUZZ_ASSERT(mkd_wrap_encode(&w, &o) == 0);
        FUZZ_ASSERT(w.len == len && memcmp(w.buf, p, len) == 0);
        mls_writer_clear(&w);
}

/* The rollback manifest: what decodes re-encodes to exactly the input. */
static int
collect(void *ud, uint8_t type, const uint8_t *id, uint64_t version)
{
        struct mls_writer *w = ud;

        FUZZ_ASSERT(mkd_obj_type_valid(type) && type != MKD_OBJ_MANIFEST);
        return mkd_manifest_entry_encode(w, type, id, version);
}

static void
check_manifest(const uint8_t *p, size_t len)
{
        struct mls_writer w;
        size_t mark;
        int e;

        mls_writer_init(&w);
        FUZZ_ASSERT(mls_writer_vec_begin(&w, &mark) == 0);
        e = mkd_manifest_decode(p, len, collect, &w);
        if (e < 0) {
                FUZZ_ASSERT(expected_error(e) || e == MLS_E_BAD_STATE);
        } else {
                FUZZ_ASSERT(mls_writer_vec_end(&w, mark) == 0);
                FUZZ_ASSERT(w.len == len && memcmp(w.buf, p, len) == 0);
        }
        mls_writer_clear(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct mkd_op *op;

        if (size < 2)
                return 0;
        switch (data[0] & 3) {
        case 0:
                op = mkd_proto_engine_op(data[1]);
                break;
        case 1:
                op = mkd_proto_vault_op(data[1]);
                break;
        case 3:
                if (data[0] & 4)
                        check_manifest(data + 1, size - 1);
                else
                        check_wrap(data + 1, size - 1);
                return 0;
        default:
                check(data[1] % 3 == 0 ? mkd_schema_identity_info
                      : data[1] % 3 == 1 ? mkd_schema_group_summary
                                         : mkd_schema_member,
                      data + 2, size - 2);
                return 0;
        }
        if (!op)
                return 0;
        check((data[0] & 4) ? op->result : op->args, data + 2, size - 2);
        return 0;
}
