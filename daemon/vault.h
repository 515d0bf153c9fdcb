/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vault process (DESIGN.md section 2; see vault.c for its ops).
 * mkd_vault_main runs in the re-executed child: it hardens the process,
 * loads the storage key through state_dirfd (which it closes), enters the
 * vault's seccomp allowlist and serves the engine on engine_fd until EOF.
 * Returns 0 at a clean EOF, else a negative MLS_E_* (the process exits).
 */
#ifndef MKD_VAULT_H
#define MKD_VAULT_H

#include "mls/common.h"
#include "daemon/keystore.h"
#include "daemon/policy.h"

/* tpm: where the storage key lives (daemon/keystore.h). A refusal to open
 * it returns MLS_E_TPM, MLS_E_TPM_POLICY, MLS_E_BAD_CONFIG, MLS_E_ROLLBACK
 * or a key-file error; main() then exits with MKD_EXIT_CONFIG. */
MLS_MUST_CHECK int mkd_vault_main(int engine_fd, int state_dirfd, enum mkd_seccomp_mode mode,
                                  const struct mkd_tpm_config *tpm);

#endif
