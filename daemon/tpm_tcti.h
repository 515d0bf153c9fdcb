/* SPDX-License-Identifier: Apache-2.0 */
/* A persistent-connection TCTI for swtpm's socket interface (see
 * tpm_tcti.c for why the vault needs it). */
#ifndef MKD_TPM_TCTI_H
#define MKD_TPM_TCTI_H

#include <tss2_tcti.h>

#include "mls/common.h"

#define MKD_TCTI_SOCKET_PREFIX "swtpm:"

/* Connects for a "swtpm:host=H,port=P" or "swtpm:path=P" string; on
 * failure why (NUL-terminated) says why: MLS_E_TPM, MLS_E_NOMEM,
 * MLS_E_INVALID_ARGUMENT (not a swtpm string). Free with
 * mkd_tcti_socket_free (which finalizes). */
MLS_MUST_CHECK int mkd_tcti_socket_init(const char *conf, TSS2_TCTI_CONTEXT **ret, char *why,
                                        size_t why_len);
void mkd_tcti_socket_free(TSS2_TCTI_CONTEXT *ctx);

#endif
