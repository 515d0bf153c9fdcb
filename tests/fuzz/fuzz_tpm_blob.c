/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the TPM-related decoders of the state directory:
 * MkdTpmBlob (daemon/tpm.h: the sealed storage key and TPM-resident
 * signature keys, parsed without a TPM by mkd_tpm_blob_pcrs and
 * mkd_tpm_sign_key_public), the KeyRecord inside it and inside the
 * recovery blob (mkd_key_record_parse), and the recovery key text
 * (mkd_recovery_key_parse). The first byte picks the decoder. Refusals
 * must be parse errors; accepted values must be in range.
 */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemon/keystore.h"
#include "daemon/tpm.h"

static bool
parse_error(int e)
{
        return e == MLS_E_TRUNCATED || e == MLS_E_TRAILING || e == MLS_E_INVALID_MESSAGE ||
               e == MLS_E_UNSUPPORTED || e == MLS_E_BAD_VARINT || e == MLS_E_NONMINIMAL ||
               e == MLS_E_BAD_STATE || e == MLS_E_BAD_KEY || e == MLS_E_TOO_LARGE ||
               e == MLS_E_BAD_ENUM;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p = data + 1;
        size_t n = size ? size - 1 : 0;

        if (size < 1)
                return 0;
        switch (data[0] % 4) {
        case 0: {
                struct mkd_tpm_pcrs sel = { 0 };
                bool bound = false;
                int e = mkd_tpm_blob_pcrs(p, n, &bound, &sel);

                FUZZ_ASSERT(e == 0 || parse_error(e));
                if (e == 0 && bound)
                        FUZZ_ASSERT(sel.bank != MKD_PCR_BANK_NONE && sel.mask != 0 &&
                                    sel.mask < (1u << MKD_TPM_PCR_COUNT));
                break;
        }
        case 1: {
                struct mls_bytes pub = { 0 };
                int e = mkd_tpm_sign_key_public(p, n, &pub);

                FUZZ_ASSERT(e == 0 || parse_error(e));
                if (e == 0)
                        FUZZ_ASSERT(pub.len == MKD_TPM_P256_PUB_LEN && pub.data[0] == 0x04);
                mls_bytes_clear(&pub);
                break;
        }
        case 2: {
                uint32_t nv = 0;
                uint64_t base = 0;
                const uint8_t *key = NULL;
                int e = mkd_key_record_parse(p, n, &nv, &base, &key);

                FUZZ_ASSERT(e == 0 || parse_error(e));
                if (e == 0)
                        FUZZ_ASSERT(key == p + 1 && n == 1 + MKD_SEAL_KEY_LEN + 4 + 8);
                break;
        }
        default: {
                uint8_t key[MKD_RECOVERY_KEY_LEN];
                int e = mkd_recovery_key_parse((const char *)p, n, key);

                FUZZ_ASSERT(e == 0 || e == MLS_E_INVALID_ARGUMENT);
                break;
        }
        }
        return 0;
}
