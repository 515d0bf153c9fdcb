/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the PreSharedKeyID decoder (mls/psk.h, RFC 9420 section
 * 8.4). The input is read as a sequence of PreSharedKeyIDs.
 *
 * Properties: no read outside the input, no leak; only decoding errors;
 * every decoded id re-encodes to exactly the bytes it was decoded from,
 * compares equal to a deep copy, and only carries the fields of its type.
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/psk.h"

static bool
decode_error_ok(int e)
{
        switch (e) {
        case MLS_E_TRUNCATED:
        case MLS_E_NONMINIMAL:
        case MLS_E_BAD_VARINT:
        case MLS_E_BAD_ENUM:
                return true;
        default:
                return false;
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mls_reader r;

        if (sodium_init() < 0)
                abort();
        mls_reader_init(&r, data, size);
        while (!mls_reader_empty(&r)) {
                struct mls_psk_id id = { 0 }, dup = { 0 };
                const uint8_t *start = r.p;
                struct mls_writer w;
                size_t used;
                int e = mls_psk_id_decode(&r, &id);

                if (e < 0) {
                        FUZZ_ASSERT(decode_error_ok(e));
                        FUZZ_ASSERT(r.p == start); /* reader untouched on failure */
                        break;
                }
                used = (size_t)(r.p - start);
                mls_writer_init(&w);
                FUZZ_ASSERT(mls_psk_id_encode(&id, &w) == 0);
                FUZZ_ASSERT(w.len == used && memcmp(w.buf, start, used) == 0);
                mls_writer_clear(&w);
                FUZZ_ASSERT(mls_psk_id_dup(&id, &dup) == 0);
                FUZZ_ASSERT(mls_psk_id_eq(&id, &dup));
                if (id.psktype == MLS_PSK_EXTERNAL)
                        FUZZ_ASSERT(id.psk_group_id.len == 0 && id.psk_epoch == 0);
                else
                        FUZZ_ASSERT(id.psk_id.len == 0);
                mls_psk_id_clear(&dup);
                mls_psk_id_clear(&id);
        }
        return 0;
}
