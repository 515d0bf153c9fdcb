#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make check: the TPM module's cmocka test against two private swtpm
# instances (tests/tpm/with-swtpm; skipped when swtpm is not installed).
set -u
# TPM2-TSS logs every TPM error response (the tests provoke many) to
# stderr; quiet unless the caller asks for it.
TSS2_LOG=${TSS2_LOG:-all+none}
export TSS2_LOG
: "${top_srcdir:?}" "${top_builddir:?}"
exec "${BASH:-bash}" "$top_srcdir/tests/tpm/with-swtpm" --two -- \
        "$top_builddir/tests/unit/test_mkd_tpm" "$@"
