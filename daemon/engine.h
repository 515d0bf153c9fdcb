/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine process (DESIGN.md section 2; see engine.c). mkd_engine_main
 * runs in the re-executed child: it preloads the crypto, enters the
 * engine's seccomp allowlist and serves the broker on broker_fd, asking the
 * vault on vault_fd to sign, seal and unseal, until the broker closes the
 * connection. Returns 0 at a clean EOF, else a negative MLS_E_*.
 */
#ifndef MKD_ENGINE_H
#define MKD_ENGINE_H

#include "mls/common.h"
#include "daemon/policy.h"

MLS_MUST_CHECK int mkd_engine_main(int broker_fd, int vault_fd, enum mkd_seccomp_mode mode);

#endif
