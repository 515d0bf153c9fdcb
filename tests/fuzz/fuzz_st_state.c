/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the saved secret-tree state decoder (mls/secrettree.h).
 *
 * Properties: no read outside the input, no leak; only decoding/state
 * errors; an accepted state re-encodes to exactly the bytes it was decoded
 * from (the encoding is canonical), and the restored tree can be used
 * without internal errors (a structurally valid state always finds a
 * secret for every leaf).
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/secrettree.h"

static bool
decode_error_ok(int e)
{
        switch (e) {
        case MLS_E_TRUNCATED:
        case MLS_E_NONMINIMAL:
        case MLS_E_BAD_VARINT:
        case MLS_E_BAD_STATE:
                return true;
        default:
                return false;
        }
}

static bool
use_error_ok(int e)
{
        switch (e) {
        case 0:
        case MLS_E_GENERATION_TOO_OLD:
        case MLS_E_GENERATION_TOO_FAR:
        case MLS_E_GENERATION_CONSUMED:
                return true;
        default:
                return false;
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mls_secret_tree *t = NULL;
        struct mls_secret *enc = NULL;
        struct mls_reader r;
        struct mls_writer w;
        size_t used;
        uint32_t n;
        int e;

        if (sodium_init() < 0)
                abort();
        mls_reader_init(&r, data, size);
        e = mls_st_decode(&r, &t);
        if (e < 0) {
                FUZZ_ASSERT(decode_error_ok(e));
                FUZZ_ASSERT(t == NULL);
                return 0;
        }
        used = size - r.left;
        mls_writer_init_secure(&w);
        FUZZ_ASSERT(mls_st_encode(t, &w) == 0);
        FUZZ_ASSERT(mls_writer_finish_secret(&w, &enc) == 0);
        FUZZ_ASSERT(enc->len == used && memcmp(enc->data, data, used) == 0);
        mls_secret_free(enc);

        /* Use it: keep the work small whatever limits the state carries. */
        FUZZ_ASSERT(mls_st_set_limits(t, 5, 16) == 0);
        n = mls_st_n_leaves(t);
        for (uint32_t k = 0; k < 2; k++) {
                uint32_t leaf = k == 0 ? 0 : n - 1;
                struct mls_key_nonce kn = { 0 };

                e = mls_st_next(t, leaf, MLS_RATCHET_APPLICATION, &kn);
                FUZZ_ASSERT(use_error_ok(e));
                mls_key_nonce_clear(&kn);
                e = mls_st_get(t, leaf, MLS_RATCHET_HANDSHAKE, 3, &kn);
                FUZZ_ASSERT(use_error_ok(e));
                mls_key_nonce_clear(&kn);
        }
        mls_st_free(t);
        return 0;
}
