/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the codec reader and writer.
 *
 * The input is read as a sequence of tagged items; each tag byte selects a
 * primitive (fixed-width integers, varint, opaque<V>, optional<u16>, a
 * vector of opaque<V>). Everything parsed is written again with the writer:
 * when the whole input parses, the re-encoding must be byte-identical
 * (decode/encode round trip, minimal varints), and no reader call may read
 * outside the input (ASan).
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/codec.h"

static int
one_item(struct mls_reader *r, struct mls_writer *w, unsigned depth)
{
        uint8_t tag, v8;
        uint16_t v16;
        uint32_t v32;
        uint64_t v64;
        const uint8_t *p;
        size_t n, mark;
        bool present;
        struct mls_reader sub;

        MLS_TRY(mls_reader_u8(r, &tag));
        MLS_TRY(mls_writer_u8(w, tag));
        switch (tag % 8) {
        case 0:
                MLS_TRY(mls_reader_u8(r, &v8));
                return mls_writer_u8(w, v8);
        case 1:
                MLS_TRY(mls_reader_u16(r, &v16));
                return mls_writer_u16(w, v16);
        case 2:
                MLS_TRY(mls_reader_u32(r, &v32));
                return mls_writer_u32(w, v32);
        case 3:
                MLS_TRY(mls_reader_u64(r, &v64));
                return mls_writer_u64(w, v64);
        case 4:
                MLS_TRY(mls_reader_varint(r, &v64));
                return mls_writer_varint(w, v64);
        case 5:
                MLS_TRY(mls_reader_opaque_view(r, &p, &n));
                return mls_writer_opaque(w, p, n);
        case 6:
                MLS_TRY(mls_reader_optional(r, &present));
                MLS_TRY(mls_writer_optional(w, present));
                if (!present)
                        return 0;
                MLS_TRY(mls_reader_u16(r, &v16));
                return mls_writer_u16(w, v16);
        default:
                /* A nested vector of items, up to a small depth. */
                if (depth > 8)
                        return MLS_E_TOO_LARGE;
                MLS_TRY(mls_reader_vec(r, &sub));
                MLS_TRY(mls_writer_vec_begin(w, &mark));
                while (!mls_reader_empty(&sub))
                        MLS_TRY(one_item(&sub, w, depth + 1));
                return mls_writer_vec_end(w, mark);
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mls_reader r;
        struct mls_writer w;
        struct mls_bytes out = { 0 };
        int e = 0;

        if (sodium_init() < 0)
                abort();
        mls_reader_init(&r, data, size);
        mls_writer_init(&w);
        while (!mls_reader_empty(&r) && e == 0)
                e = one_item(&r, &w, 0);
        if (e == 0) {
                FUZZ_ASSERT(mls_reader_done(&r) == 0);
                FUZZ_ASSERT(mls_writer_finish(&w, &out) == 0);
                FUZZ_ASSERT(out.len == size);
                FUZZ_ASSERT(size == 0 || memcmp(out.data, data, size) == 0);
        } else {
                FUZZ_ASSERT(e == MLS_E_TRUNCATED || e == MLS_E_NONMINIMAL ||
                            e == MLS_E_BAD_VARINT || e == MLS_E_BAD_OPTIONAL ||
                            e == MLS_E_TOO_LARGE);
        }
        mls_writer_clear(&w);
        mls_bytes_clear(&out);
        return 0;
}
