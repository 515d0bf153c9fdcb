/* SPDX-License-Identifier: Apache-2.0 */
/* deserialization.json: variable-length vector headers (RFC 9420 2.1.2).
 * R-2.1.2-1 (minimal re-encoding), R-2.1.2-2 (accepting path). */
#include <stdlib.h>
#include <string.h>

#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

enum vec_result
vec_deserialization(struct vec_case *c)
{
        struct mls_bytes hdr = { 0 }, enc = { 0 };
        struct mls_writer w;
        struct mls_reader r;
        uint64_t want, got;
        uint8_t *g;
        enum vec_result res = VEC_PASS;
        int e;

        if (!vec_u64(c, c->obj, "length", &want) || !vec_hex(c, c->obj, "vlbytes_header", &hdr))
                return VEC_FAIL;
        g = tu_guarded_copy(hdr.data, hdr.len);
        if (!g) {
                mls_bytes_clear(&hdr);
                return vec_fail(c, "out of memory");
        }
        mls_reader_init(&r, g, hdr.len);
        e = mls_reader_varint(&r, &got);
        if (e < 0)
                res = vec_fail(c, "decode failed: %d", e);
        else if (got != want)
                res = vec_fail(c, "decoded %llu, want %llu", (unsigned long long)got,
                               (unsigned long long)want);
        else if (mls_reader_done(&r) < 0)
                res = vec_fail(c, "header not fully consumed");
        if (res == VEC_PASS) {
                mls_writer_init(&w);
                if (mls_writer_varint(&w, want) < 0 || mls_writer_finish(&w, &enc) < 0)
                        res = vec_fail(c, "encode failed");
                else if (!mls_bytes_eq(&enc, &hdr))
                        res = vec_fail(c, "re-encoding is not the same bytes");
                mls_writer_clear(&w);
        }
        tu_guarded_free(g);
        mls_bytes_clear(&hdr);
        mls_bytes_clear(&enc);
        return res;
}
