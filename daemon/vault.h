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
#include "daemon/policy.h"

MLS_MUST_CHECK int mkd_vault_main(int engine_fd, int state_dirfd, enum mkd_seccomp_mode mode);

#endif
