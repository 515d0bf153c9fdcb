/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the saved epoch-secrets decoder (mls/keyschedule.h).
 *
 * Properties: no read outside the input, no leak; only decoding/state
 * errors; an accepted state re-encodes to exactly the bytes it was decoded
 * from, and holds exactly the values its mask names.
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/keyschedule.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mls_epoch_secrets *ks = NULL;
        struct mls_secret *enc = NULL;
        struct mls_reader r;
        struct mls_writer w;
        size_t used, held = 0;
        int e;

        if (sodium_init() < 0)
                abort();
        mls_reader_init(&r, data, size);
        e = mls_ks_decode(&r, &ks);
        if (e < 0) {
                FUZZ_ASSERT(e == MLS_E_TRUNCATED || e == MLS_E_BAD_STATE);
                FUZZ_ASSERT(ks == NULL);
                return 0;
        }
        used = size - r.left;
        mls_writer_init_secure(&w);
        FUZZ_ASSERT(mls_ks_encode(ks, &w) == 0);
        FUZZ_ASSERT(mls_writer_finish_secret(&w, &enc) == 0);
        FUZZ_ASSERT(enc->len == used && memcmp(enc->data, data, used) == 0);
        for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++)
                held += mls_ks_has(ks, (enum mls_ks_secret)i);
        FUZZ_ASSERT(used == 5 + held * mls_ks_secret_len(ks));
        mls_secret_free(enc);
        mls_ks_free(ks);
        return 0;
}
