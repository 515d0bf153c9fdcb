/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for mls_entropy_hedge_label_check (mls/entropy.h): the
 * vault's gate before it signs an RFC 8937 tag1 for the engine. Whatever
 * it accepts must be exactly what mls_entropy_hedge_label builds from the
 * fields it contains (so the vault never signs anything else), and it must
 * start with 0xff (never an MLS SignContent).
 */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "mls/codec.h"
#include "mls/entropy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const size_t ds = strlen(MLS_ENTROPY_HEDGE_DS);
        struct mls_bytes again = { 0 };
        struct mls_reader r;
        const uint8_t *rnd, *ctx;
        uint64_t counter;
        uint16_t ctx_len;
        int e = mls_entropy_hedge_label_check(data, size);

        if (e < 0) {
                FUZZ_ASSERT(e == MLS_E_INVALID_MESSAGE || e == MLS_E_INVALID_ARGUMENT);
                return 0;
        }
        /* 0xff || DS || u64 counter || random[32] || u16 len || context */
        FUZZ_ASSERT(size >= 1 + ds + 8 + MLS_ENTROPY_HEDGE_RANDOM_LEN + 2 && data[0] == 0xff);
        FUZZ_ASSERT(memcmp(data + 1, MLS_ENTROPY_HEDGE_DS, ds) == 0);
        mls_reader_init(&r, data + 1 + ds, size - 1 - ds);
        FUZZ_ASSERT(mls_reader_u64(&r, &counter) == 0);
        FUZZ_ASSERT(mls_reader_raw(&r, MLS_ENTROPY_HEDGE_RANDOM_LEN, &rnd) == 0);
        FUZZ_ASSERT(mls_reader_u16(&r, &ctx_len) == 0);
        FUZZ_ASSERT(mls_reader_raw(&r, ctx_len, &ctx) == 0);
        FUZZ_ASSERT(mls_reader_done(&r) == 0);
        FUZZ_ASSERT(mls_entropy_hedge_label(counter, rnd, ctx, ctx_len, &again) == 0);
        FUZZ_ASSERT(again.len == size && memcmp(again.data, data, size) == 0);
        mls_bytes_clear(&again);
        return 0;
}
