/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the storage key lives (DESIGN.md section 8, issue 6). The storage
 * key (32 random bytes, daemon/seal.h) is kept in one of two ways in the
 * state directory:
 *
 *   storage.key        the key in a 0600 file (no TPM, [tpm] mode = off, or
 *                      a key not yet moved to the TPM);
 *   storage.tpm        the key sealed to the TPM (daemon/tpm.h MkdTpmBlob:
 *                      a sealed data object under the storage primary key,
 *                      bound to the PCRs of [tpm] pcrs when set). Useless
 *                      on any other TPM.
 *   (the TPM seals, and the recovery blob wraps, a KeyRecord: the key, the
 *   NV index of this directory's rollback counter and its first value)
 *   storage.recovery   with storage.tpm: the key wrapped under a recovery
 *                      key that `mlskeyctl tpm enroll` printed once
 *                      (RecoveryBlob below). It lets an administrator
 *                      re-seal after the PCRs changed (a firmware update),
 *                      or move the key back to a file.
 *
 *   struct {
 *       opaque magic[8] = "MKDRECOV";
 *       uint16 format = 1;
 *       opaque nonce[24];
 *       opaque ciphertext[48];  -- XChaCha20-Poly1305 of the storage key
 *   } RecoveryBlob;             -- associated data: magic || format
 *
 * Start-up (mkd_keystore_open, in the vault before its sandbox), by mode:
 *   off      the key file (created on first start). A TPM-sealed key
 *            is refused: the administrator must choose prefer/require or
 *            move the key back first.
 *   prefer   a TPM if one answers: the sealed key is unsealed; a fresh
 *            state directory gets a TPM-sealed key. Without a TPM, the key
 *            file, and the log says so. A sealed key without a TPM, or
 *            whose PCR policy fails, is refused (never a silent new key).
 *   require  as prefer, but no TPM (or a key still in a file) refuses
 *            to start.
 * A refusal names the reason and the way out in the log; the vault then
 * exits with MKD_EXIT_CONFIG and the broker does not restart it.
 *
 * Administration (offline: the daemon is stopped; `mlskeyd --tpm-admin`,
 * run by `mlskeyctl tpm ...`): enroll moves the key file to the TPM (or
 * re-seals a sealed key to the current configuration) and prints a fresh
 * recovery key; unenroll moves the key back to a file; recover re-seals
 * from the recovery key. The key itself never changes, so no stored object
 * needs re-sealing and no state is lost.
 */
#ifndef MKD_KEYSTORE_H
#define MKD_KEYSTORE_H

#include "mls/common.h"
#include "mls/rng.h"
#include "daemon/object.h"
#include "daemon/policy.h"
#include "daemon/seal.h"

#define MKD_KEYSTORE_TPM_FILE "storage.tpm"
#define MKD_KEYSTORE_RECOVERY_FILE "storage.recovery"
#define MKD_RECOVERY_KEY_LEN 32
/* The recovery key as text: 64 lowercase hex digits. */
#define MKD_RECOVERY_HEX_LEN (2 * MKD_RECOVERY_KEY_LEN)

/* Exit status of a child that must not be restarted (sysexits EX_CONFIG). */
#define MKD_EXIT_CONFIG 78

struct mkd_tpm; /* daemon/tpm.h (HAVE_TPM) */

struct mkd_tpm_config {
        enum mkd_tpm_mode mode;
        const char *tcti;
        enum mkd_pcr_bank pcr_bank; /* MKD_PCR_BANK_NONE: no PCR policy */
        uint32_t pcr_mask;
};

/* The configuration of a policy. */
void mkd_tpm_config_from_policy(const struct mkd_policy *p, struct mkd_tpm_config *ret);

struct mkd_keystore_info {
        bool tpm_available;         /* a TPM answered at start */
        bool sealed;                /* the key is TPM-sealed (storage.tpm) */
        bool pcr_bound;             /* sealed with a PCR policy: */
        enum mkd_pcr_bank pcr_bank; /* its bank */
        uint32_t pcr_mask;          /* and PCRs */
        bool recovery;              /* storage.recovery exists */
        /* Rollback protection (sealed keys only): the TPM NV counter of
         * this state directory (0: none) and its value when it was
         * defined. A counter above the base means state was written under
         * it, so a manifest must exist. */
        uint32_t nv_index;
        uint64_t counter_base;
        char why[256];              /* no TPM: the reason ("" otherwise) */
};

/*
 * The storage key per cfg (see above). *ret_tpm: the open TPM (NULL when
 * none is used; the vault keeps it for TPM-resident keys, the rollback
 * counter and randomness); *info describes the outcome. Errors (all are
 * refusals to start, logged with the reason and the way out):
 * MLS_E_TPM (no TPM under require; a sealed key without a TPM, or sealed
 * by another TPM), MLS_E_TPM_POLICY (PCRs changed), MLS_E_BAD_CONFIG
 * (sealed key under mode off; key file under require), MLS_E_BAD_STATE
 * (a key file and a sealed key that differ), and the errors of the key
 * file (daemon/seal.h).
 */
MLS_MUST_CHECK int mkd_keystore_open(int dirfd, const struct mkd_tpm_config *cfg,
                                     const struct mls_rng *rng, struct mkd_seal_key **ret_key,
                                     struct mkd_tpm **ret_tpm, struct mkd_keystore_info *info);

/* Closes a TPM handle returned by mkd_keystore_open (NULL is a no-op). */
void mkd_keystore_tpm_close(struct mkd_tpm *t);

/*
 * Administration, daemon stopped. Each logs what it did.
 * enroll: needs a TPM (cfg->tcti; any mode but off is implied). The key
 *   comes from the key file, or from storage.tpm (re-seal: PCRs re-read,
 *   cfg's PCR selection). Writes storage.tpm and a new storage.recovery,
 *   then removes the key file; recovery_hex receives the new recovery key
 *   (NUL-terminated) to show ONCE to the administrator.
 * unenroll: the key from storage.tpm (the TPM must unseal it) or, when
 *   recovery is not NULL, from storage.recovery; writes the key file and
 *   removes storage.tpm and storage.recovery.
 * recover: the key from storage.recovery under recovery (MLS_E_DECRYPT for
 *   a wrong recovery key); re-seals to the TPM with cfg's PCR selection
 *   over the current PCR values.
 */
MLS_MUST_CHECK int mkd_keystore_enroll(int dirfd, const struct mkd_tpm_config *cfg,
                                       const struct mls_rng *rng,
                                       char recovery_hex[MKD_RECOVERY_HEX_LEN + 1]);
MLS_MUST_CHECK int mkd_keystore_unenroll(int dirfd, const struct mkd_tpm_config *cfg,
                                         const uint8_t *recovery);
MLS_MUST_CHECK int mkd_keystore_recover(int dirfd, const struct mkd_tpm_config *cfg,
                                        const uint8_t recovery[MKD_RECOVERY_KEY_LEN]);
/* What mkd_keystore_open would find, without unsealing (for status). */
MLS_MUST_CHECK int mkd_keystore_inspect(int dirfd, struct mkd_keystore_info *info);

/* The KeyRecord (plaintext of storage.tpm and storage.recovery): views
 * into p. MLS_E_BAD_STATE for another format, the codec's errors for a
 * short or long record. */
MLS_MUST_CHECK int mkd_key_record_parse(const uint8_t *p, size_t len, uint32_t *ret_nv_index,
                                        uint64_t *ret_counter_base, const uint8_t **ret_key);

/* Parses 64 hex digits (surrounding white space allowed) into key. */
MLS_MUST_CHECK int mkd_recovery_key_parse(const char *text, size_t len,
                                          uint8_t key[MKD_RECOVERY_KEY_LEN]);

#endif
