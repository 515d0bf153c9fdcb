/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mlskeyd --tpm-admin CMD`: administration of the storage key with the
 * daemon stopped (daemon/keystore.h). It runs in the administrator's
 * process, not in the broker: the recovery key it prints never crosses
 * D-Bus or the broker. It takes the state directory's lock, so it refuses
 * to run while a daemon uses the directory.
 *
 *   status    mode, TCTI and PCRs of the policy; where the key is (key
 *             file, TPM-sealed and to which PCRs, recovery blob); whether
 *             a TPM answers
 *   enroll    seal the key to the TPM; the new recovery key is printed on
 *             stdout, once
 *   unenroll  move the key back to a key file (TPM unseal, or
 *             --recovery-key FILE)
 *   recover   re-seal from --recovery-key FILE after the PCRs changed
 *
 * Returns the process exit status: 0, 1 (failed: the reason is logged),
 * 2 (usage).
 */
#ifndef MKD_ADMIN_H
#define MKD_ADMIN_H

#include "daemon/broker.h"

int mkd_admin_main(const char *cmd, const struct mkd_broker_options *opt,
                   const char *recovery_path);

#endif
