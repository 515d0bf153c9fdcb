/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the saved state of a group (mls_group_load) and of a
 * KeyPackage's private half (mls_key_package_priv_load): the input is read
 * as both.
 *
 * Properties: no read outside the input, no leak; a failure is
 * MLS_E_BAD_STATE (or out of memory), never anything else; what loads
 * saves to exactly the input (the encoding is canonical), and a loaded
 * group answers its inspection calls.
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/group.h"

static void
check_group(const uint8_t *data, size_t size)
{
        struct mls_group *g = NULL;
        struct mls_secret *again = NULL;
        struct mls_bytes b = { 0 };
        struct mls_group_member *m = NULL;
        size_t n = 0;
        int e = mls_group_load(data, size, &g);

        if (e < 0) {
                FUZZ_ASSERT(e == MLS_E_BAD_STATE || e == MLS_E_NOMEM);
                FUZZ_ASSERT(g == NULL);
                return;
        }
        FUZZ_ASSERT(mls_group_save(g, &again) == 0);
        FUZZ_ASSERT(again->len == size && memcmp(again->data, data, size) == 0);
        mls_secret_free(again);
        FUZZ_ASSERT(mls_group_epoch_authenticator(g, &b) == 0);
        mls_bytes_clear(&b);
        FUZZ_ASSERT(mls_group_ratchet_tree(g, &b) == 0);
        mls_bytes_clear(&b);
        FUZZ_ASSERT(mls_group_members(g, &m, &n) == 0);
        FUZZ_ASSERT(n == mls_group_member_count(g));
        mls_group_members_free(m, n);
        mls_group_free(g);
}

static void
check_key_package(const uint8_t *data, size_t size)
{
        struct mls_key_package_priv *kp = NULL;
        struct mls_secret *again = NULL;
        int e = mls_key_package_priv_load(data, size, &kp);

        if (e < 0) {
                FUZZ_ASSERT(e == MLS_E_BAD_STATE || e == MLS_E_NOMEM);
                return;
        }
        FUZZ_ASSERT(mls_key_package_priv_save(kp, &again) == 0);
        FUZZ_ASSERT(again->len == size && memcmp(again->data, data, size) == 0);
        mls_secret_free(again);
        mls_key_package_priv_free(kp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (sodium_init() < 0)
                abort();
        check_group(data, size);
        check_key_package(data, size);
        return 0;
}
