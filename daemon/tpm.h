/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM 2.0 access for the vault: a small wrapper over TPM2-TSS ESYS with the
 * TCTI loader (issue 6, DESIGN.md section 8). Built only with HAVE_TPM
 * (configure --with-tpm); the library is libmkdtpm.la.
 *
 * What it offers:
 *   - sealing a short secret (the storage key) to the TPM, optionally bound
 *     to a PCR policy, as one self-describing blob (MkdTpmBlob below);
 *   - PCR read and extend;
 *   - an NV monotonic counter for rollback protection;
 *   - non-exportable ECDSA P-256 signature keys (MLS cipher suite 2) and
 *     TPM2_Sign with DER output as mls/crypto produces and verifies it;
 *   - TPM2_GetRandom and a handle census (TPM2_GetCapability) for leak checks.
 *
 * Resource discipline. The TPM may have no resource manager (swtpm, or a
 * TCTI that talks to /dev/tpm0): every object and session this module
 * creates is flushed before the call returns, on success and on every error
 * path. In particular the storage primary key (the SRK, below) is
 * recreated from the owner hierarchy inside each operation that needs it
 * and flushed at its end: nothing of ours stays loaded between calls
 * (mkd_tpm_handle_counts shows 0 transient objects and 0 sessions).
 * Persistent state we create: only the NV counter index (explicitly).
 *
 * Storage primary key: ECC NIST P-256 from TPM2_RH_OWNER with the SRK
 * template of the TCG TPM v2.0 Provisioning Guidance (7.5.1):
 * nameAlg SHA-256; fixedTPM | fixedParent | sensitiveDataOrigin |
 * userWithAuth | noDA | restricted | decrypt; symmetric AES-128-CFB;
 * scheme NULL; curve P-256, KDF NULL; unique x and y 32 zero bytes each;
 * empty authPolicy and auth value; the owner hierarchy's auth is assumed
 * empty (the usual state on Linux machines and swtpm). The same template
 * on the same TPM (same owner seed) gives the same key, so blobs sealed
 * under it load after a restart; after TPM2_Clear (new owner seed) they
 * no longer load (MLS_E_TPM).
 *
 * Bus protection: seal uses a session salted with the SRK (ECDH) with
 * TPMA_SESSION_DECRYPT, so TPM2_Create's sensitive data crosses the bus
 * AES-128-CFB-encrypted; unseal uses a salted session with
 * TPMA_SESSION_ENCRYPT, so TPM2_Unseal's response is encrypted. Unsealed
 * bytes only ever live in struct mls_secret (guarded memory); every TPM2B
 * temporary holding them is wiped with sodium_memzero, buffers ESYS
 * allocated are wiped before Esys_Free, and the decrypted response left in
 * the TSS's own command/response buffer is wiped after TPM2_Unseal. A test
 * records all TPM traffic (pcap TCTI) and checks the secret is not in it.
 *
 * Errors. Every fallible function returns 0 or a negative MLS_E_*
 * (mls/error.h) and writes its ret_ parameters only on success (the one
 * documented exception is mkd_tpm_unseal's changed-PCR mask). MLS_E_TPM
 * means the TPM (or the TCTI) failed or refused; a human-readable reason
 * (the failing TPM command and the decoded TSS response code, never a
 * secret) is then available from mkd_tpm_last_error. After MLS_E_TPM
 * caused by the transport (TCTI: connection lost, device gone) the handle
 * may stay unusable: close it and open a new one. A handle is not
 * thread-safe (the vault is single-threaded). Nothing here logs; TPM2-TSS
 * itself prints its errors to stderr unless the environment variable
 * TSS2_LOG says otherwise (e.g. TSS2_LOG=all+none), which the process
 * must set before its first TSS call.
 */
#ifndef MKD_TPM_H
#define MKD_TPM_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/secret.h"
#include "daemon/policy.h" /* enum mkd_pcr_bank */

/* Room for a reason message (mkd_tpm_open's why, mkd_tpm_last_error). */
#define MKD_TPM_WHY_MAX 256

/* PCRs 0..23 (TPM PC Client profile). */
#define MKD_TPM_PCR_COUNT 24
/* Largest PCR digest (SHA-512). */
#define MKD_TPM_PCR_MAX_DIGEST 64

/* Largest secret mkd_tpm_seal accepts (TPM2B_SENSITIVE_DATA: MAX_SYM_DATA). */
#define MKD_TPM_SEAL_MAX 128

/*
 * The default NV index of the rollback counter, in the owner range
 * 0x01800000-0x01BFFFFF of the TCG handle registry ("MK" = 0x4d4b).
 */
#define MKD_TPM_NV_COUNTER_DEFAULT 0x01804d4bu
#define MKD_TPM_NV_OWNER_FIRST 0x01800000u
#define MKD_TPM_NV_OWNER_LAST 0x01bfffffu

/* Sizes of suite-2 signature material. */
#define MKD_TPM_P256_PUB_LEN 65 /* 0x04 || X || Y, as mls/crypto uses */
#define MKD_TPM_P256_SIG_MAX 72 /* DER ECDSA-Sig-Value, at most */
#define MKD_TPM_DIGEST_LEN 32   /* SHA-256 */

struct mkd_tpm;

/* ---- handle ---- */

/*
 * Opens the TCTI described by tcti (a TCTI loader configuration string:
 * "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321", "mssim:...";
 * NULL or "" means the loader's default) and an ESYS context on it, then
 * checks that a TPM 2.0 answers (TPM2_GetCapability of the manufacturer).
 * It does not send TPM2_Startup: the platform (kernel, swtpm's
 * startup-clear flag) has done that.
 *
 * Errors: MLS_E_TPM when the TCTI cannot be loaded or opened or no TPM
 * answers (why, if not NULL, receives a NUL-terminated reason of at most
 * MKD_TPM_WHY_MAX bytes including the NUL, e.g.
 * "Tss2_TctiLdr_Initialize(\"device:/dev/tpmrm0\"): tcti:IO failure");
 * MLS_E_INVALID_ARGUMENT for a tcti string longer than MKD_POLICY_TCTI_MAX;
 * MLS_E_NOMEM. The caller owns *ret_tpm (mkd_tpm_close).
 */
MLS_MUST_CHECK int mkd_tpm_open(const char *tcti, struct mkd_tpm **ret_tpm,
                                char why[MKD_TPM_WHY_MAX]);

/*
 * The file descriptors the TCTI talks to the TPM through (the device
 * TCTI: /dev/tpmrm0; socket TCTIs: their connection), e.g. for the
 * vault's seccomp allowlist of read/write/sendto/recvfrom on kept fds.
 * Writes up to max of them into fds and the total count into *ret_n.
 * Errors: MLS_E_UNSUPPORTED if the TCTI does not report its descriptors
 * (Tss2_Tcti_GetPollHandles not implemented), MLS_E_TOO_LARGE if more
 * than max, MLS_E_TPM.
 */
MLS_MUST_CHECK int mkd_tpm_fds(struct mkd_tpm *t, int *fds, size_t max, size_t *ret_n);

/* Finalizes the ESYS context and the TCTI and frees t. NULL is a no-op. */
void mkd_tpm_close(struct mkd_tpm *t);
void mkd_tpm_closep(struct mkd_tpm **t);
#define _mkd_tpm_ _mls_cleanup_(mkd_tpm_closep)

/*
 * The reason of the last failure of an operation on t (NUL-terminated,
 * valid until the next call on t; "" if the last call succeeded or failed
 * without a TPM reason, e.g. MLS_E_NOMEM or a malformed blob). Contains
 * command names and decoded response codes only, never data.
 */
const char *mkd_tpm_last_error(const struct mkd_tpm *t);

/* ---- PCRs ---- */

/* A PCR selection: one bank and a mask (bit n = PCR n, n < 24). The same
 * shape as the policy's [tpm] pcrs (struct mkd_policy pcr_bank/pcr_mask). */
struct mkd_tpm_pcrs {
        enum mkd_pcr_bank bank; /* not MKD_PCR_BANK_NONE */
        uint32_t mask;          /* non-zero, bits 0..23 only */
};

/* PCR values of one bank. */
struct mkd_tpm_pcr_values {
        enum mkd_pcr_bank bank;
        uint32_t mask;        /* PCRs present in digest[] */
        size_t digest_len;    /* 20, 32, 48 or 64 */
        uint8_t digest[MKD_TPM_PCR_COUNT][MKD_TPM_PCR_MAX_DIGEST]; /* by PCR number */
};

/* Digest size of a bank (20/32/48/64), 0 for MKD_PCR_BANK_NONE. */
size_t mkd_tpm_pcr_bank_digest_len(enum mkd_pcr_bank bank);
/* "sha256" etc.; "none" for MKD_PCR_BANK_NONE. */
const char *mkd_tpm_pcr_bank_name(enum mkd_pcr_bank bank);

/*
 * Reads the PCRs of sel (TPM2_PCR_Read, as many rounds as needed).
 * Errors: MLS_E_INVALID_ARGUMENT for a bad selection; MLS_E_TPM, also when
 * the bank is not allocated in this TPM (the TPM returns an empty digest
 * list for it).
 */
MLS_MUST_CHECK int mkd_tpm_pcr_read(struct mkd_tpm *t, const struct mkd_tpm_pcrs *sel,
                                    struct mkd_tpm_pcr_values *ret_values);

/*
 * Extends PCR pcr in every allocated bank with the hash of data[0..len)
 * (TPM2_PCR_Event, so len <= 1024). For tests and administrators: use a
 * debug/resettable PCR (16 or 23) in tests. Errors: MLS_E_INVALID_ARGUMENT
 * (pcr >= 24, len > 1024), MLS_E_TPM (e.g. the PCR may not be extended at
 * this locality).
 */
MLS_MUST_CHECK int mkd_tpm_pcr_extend(struct mkd_tpm *t, unsigned pcr, const uint8_t *data,
                                      size_t len);

/* ---- sealing ---- */

/*
 * Seals data (1..MKD_TPM_SEAL_MAX bytes) to this TPM: a keyed-hash sealed
 * data object (no sign, no decrypt; fixedTPM | fixedParent | noDA) under
 * the SRK.
 *
 * pcrs NULL: the object has userWithAuth and an empty auth value; any
 * process that can talk to this TPM and holds the blob can unseal it.
 * pcrs non-NULL: the PCRs of pcrs are read now; the object's authPolicy is
 * TPM2_PolicyPCR over exactly those values (computed in a trial session
 * and cross-checked in software), with adminWithPolicy and without
 * userWithAuth, so it unseals only while those PCRs hold the same values.
 *
 * *ret_blob (malloc'd, owned by the caller) is the self-describing blob:
 *
 *   struct {
 *       opaque magic[4] = "MKDT";
 *       uint16 format = 1;
 *       uint8  kind = 1;                -- 1 sealed data, 2 signature key
 *       opaque public<V>;               -- TPM2B_PUBLIC, tss2-mu marshalled
 *       opaque private<V>;              -- TPM2B_PRIVATE, tss2-mu marshalled
 *       uint16 pcr_hash;                -- TPM2_ALG_ID of the bank, 0 = none
 *       uint32 pcr_mask;                -- 0 iff pcr_hash is 0
 *       opaque pcr_values<V>;           -- digests of the PCRs in pcr_mask,
 *                                       -- ascending, at sealing time
 *   } MkdTpmBlob;                       -- kind 2: the pcr fields are absent
 *
 * The blob contains no secret in clear (TPM2B_PRIVATE is encrypted under
 * the SRK's seed). Errors: MLS_E_INVALID_ARGUMENT (empty data, bad
 * selection), MLS_E_TOO_LARGE (> MKD_TPM_SEAL_MAX), MLS_E_TPM, MLS_E_NOMEM.
 */
MLS_MUST_CHECK int mkd_tpm_seal(struct mkd_tpm *t, const struct mkd_tpm_pcrs *pcrs,
                                const struct mls_secret *data, struct mls_bytes *ret_blob);

/*
 * Unseals a blob made by mkd_tpm_seal on this TPM. On success *ret_data is
 * a new guarded secret owned by the caller.
 *
 * Errors:
 *   MLS_E_TRUNCATED / MLS_E_TRAILING / MLS_E_INVALID_MESSAGE: malformed
 *     blob (parsed without the TPM): bad magic or kind, TPM structures that
 *     do not unmarshal exactly, a PCR record whose policy digest does not
 *     match the object's authPolicy (tampered record);
 *   MLS_E_UNSUPPORTED: unknown format version;
 *   MLS_E_TPM_POLICY: the PCR policy failed (the PCRs changed since
 *     sealing). If ret_changed_pcr_mask is not NULL it then receives the
 *     mask of the sealed PCRs whose current value differs from the value
 *     recorded at sealing time (written ONLY for this error; 0 if none
 *     differs, which happens if a PCR was reset and re-extended to the
 *     same value in a racing moment, or if the PCRs could not be read
 *     again: mkd_tpm_last_error then says so);
 *   MLS_E_TPM: any other TPM refusal, notably a blob of another TPM or of
 *     another owner seed (TPM2_Load fails the integrity check), or a
 *     tampered public or private area;
 *   MLS_E_NOMEM.
 */
MLS_MUST_CHECK int mkd_tpm_unseal(struct mkd_tpm *t, const uint8_t *blob, size_t len,
                                  struct mls_secret **ret_data, uint32_t *ret_changed_pcr_mask);

/*
 * What a sealed blob is bound to, without the TPM: *ret_bound is false for
 * a blob sealed without PCRs (ret_pcrs untouched), else true with the
 * selection in *ret_pcrs (for `mlskeyctl tpm status`). Errors: as the
 * parsing errors of mkd_tpm_unseal.
 */
MLS_MUST_CHECK int mkd_tpm_blob_pcrs(const uint8_t *blob, size_t len, bool *ret_bound,
                                     struct mkd_tpm_pcrs *ret_pcrs);

/* ---- NV monotonic counter (rollback protection) ---- */

/*
 * Flags of mkd_tpm_counter_define.
 *
 * MKD_TPM_COUNTER_ORDERLY sets TPMA_NV_ORDERLY: the TPM keeps the counter
 * in RAM and writes it to NV only on an orderly TPM2_Shutdown and when its
 * low bits wrap (every MAX_ORDERLY_COUNT increments, implementation-defined,
 * e.g. 255), which spares NV wear by that factor. Price: after a power
 * loss (no orderly shutdown) the TPM advances the counter to the next
 * multiple of MAX_ORDERLY_COUNT + 1, so the counter can JUMP forward, and a
 * scheme that binds the counter's exact value into stored state would then
 * see its newest state as "behind the counter". Without the flag every
 * increment is an NV write (TPMs are rated for some 100,000s of writes per
 * cell, with wear levelling): callers must batch increments (the vault's
 * scheme), and the default is no flag.
 */
#define MKD_TPM_COUNTER_ORDERLY 0x1u

/*
 * Defines the NV counter index nv_index (TPM2_NT_COUNTER, 8 bytes, in the
 * owner range) with the owner hierarchy's (empty) auth: attributes
 * OWNERWRITE | OWNERREAD | AUTHWRITE | AUTHREAD | NO_DA (+ ORDERLY per
 * flags), empty index auth, no policy. It then increments it once, so
 * that it is initialised (a counter is unreadable until its first
 * increment; the first increment sets it to at least the highest value any
 * counter of this TPM ever held, so a redefined index never goes back).
 *
 * *ret_created (may be NULL) says whether the index was created now (true)
 * or already existed as a compatible counter (false; then nothing was
 * changed, and an existing but uninitialised counter is initialised).
 * flags apply on creation only: an existing compatible index is accepted
 * whatever its ORDERLY attribute.
 * Errors: MLS_E_INVALID_ARGUMENT (index outside the owner range, unknown
 * flag); MLS_E_BAD_STATE (the index exists but is not an 8-byte counter
 * with owner/auth read and write, e.g. someone else's index); MLS_E_TPM.
 */
MLS_MUST_CHECK int mkd_tpm_counter_define(struct mkd_tpm *t, uint32_t nv_index, unsigned flags,
                                          bool *ret_created);

/*
 * Reads the counter. Errors: MLS_E_NOT_FOUND (no such index),
 * MLS_E_BAD_STATE (exists but is not such a counter), MLS_E_TPM.
 */
MLS_MUST_CHECK int mkd_tpm_counter_read(struct mkd_tpm *t, uint32_t nv_index, uint64_t *ret_value);

/*
 * Increments the counter by one (TPM2_NV_Increment, authorised with the
 * index's own empty auth) and returns the new value read back. Errors as
 * mkd_tpm_counter_read. Every call is an NV write unless the index is
 * ORDERLY: see MKD_TPM_COUNTER_ORDERLY.
 */
MLS_MUST_CHECK int mkd_tpm_counter_increment(struct mkd_tpm *t, uint32_t nv_index,
                                             uint64_t *ret_new_value);

/*
 * Deletes the index (TPM2_NV_UndefineSpace with the owner's auth). For
 * tests and `mlskeyctl` administration only: it destroys the rollback
 * protection. Errors: MLS_E_NOT_FOUND, MLS_E_BAD_STATE (not a counter of
 * this shape: refused, so a mistyped index cannot delete foreign data),
 * MLS_E_TPM.
 */
MLS_MUST_CHECK int mkd_tpm_counter_undefine(struct mkd_tpm *t, uint32_t nv_index);

/* ---- TPM-resident signature keys (MLS cipher suite 2) ---- */

/*
 * Creates an ECDSA P-256 / SHA-256 signature key inside the TPM under the
 * SRK: fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign
 * | noDA (an empty-auth key has nothing to guess, and noDA keeps it usable
 * while another application has put the TPM into dictionary-attack
 * lockout), not decrypt, not restricted, scheme ECDSA with SHA-256, empty
 * auth: the private key never leaves the TPM in clear (only wrapped under
 * the SRK in the blob, loadable only by this TPM).
 *
 * *ret_key_blob: MkdTpmBlob of kind 2 (malloc'd). *ret_public_key: the
 * public key as mls/crypto encodes suite-2 signature public keys, the
 * uncompressed SEC1 point 0x04 || X || Y (65 bytes, malloc'd). Both are
 * written only on success. Errors: MLS_E_TPM, MLS_E_NOMEM.
 */
MLS_MUST_CHECK int mkd_tpm_sign_key_create(struct mkd_tpm *t, struct mls_bytes *ret_key_blob,
                                           struct mls_bytes *ret_public_key);

/* The public key (0x04 || X || Y) of a kind-2 blob, without the TPM.
 * Errors: the parsing errors of mkd_tpm_unseal; MLS_E_BAD_KEY if the
 * public area is not an ECDSA P-256 key. */
MLS_MUST_CHECK int mkd_tpm_sign_key_public(const uint8_t *key_blob, size_t len,
                                           struct mls_bytes *ret_public_key);

/*
 * Signs a SHA-256 digest (32 bytes) with the key of key_blob (TPM2_Load
 * under a fresh SRK, TPM2_Sign with a NULL hash-check ticket, flush).
 * *ret_sig is the DER ECDSA-Sig-Value SEQUENCE { r INTEGER, s INTEGER }
 * with minimal INTEGER encodings (RFC 9420 section 5.1.2; what
 * mls_crypto_verify expects for suite 2), at most MKD_TPM_P256_SIG_MAX
 * bytes, malloc'd. Errors: parsing errors as mkd_tpm_sign_key_public;
 * MLS_E_TPM (another TPM's blob, tampered blob).
 */
MLS_MUST_CHECK int mkd_tpm_sign(struct mkd_tpm *t, const uint8_t *key_blob, size_t len,
                                const uint8_t digest[MKD_TPM_DIGEST_LEN],
                                struct mls_bytes *ret_sig);

/* The same over a message: SHA-256(msg) then mkd_tpm_sign, i.e. the
 * suite-2 Signature.Sign(key, msg); the vault passes the encoded
 * SignContent. */
MLS_MUST_CHECK int mkd_tpm_sign_message(struct mkd_tpm *t, const uint8_t *key_blob, size_t len,
                                        const uint8_t *msg, size_t msg_len,
                                        struct mls_bytes *ret_sig);

/*
 * The DER ECDSA-Sig-Value of a raw (r, s) pair as TPM2_Sign returns it
 * (big-endian, each 1..32 bytes, leading zeros allowed): minimal INTEGERs
 * (leading zero octets dropped, one 0x00 prepended when the top bit is
 * set). Used by mkd_tpm_sign; public for its unit test. Errors:
 * MLS_E_INVALID_ARGUMENT (empty or longer than 32 bytes), MLS_E_NOMEM.
 */
MLS_MUST_CHECK int mkd_tpm_ecdsa_sig_der(const uint8_t *r, size_t r_len, const uint8_t *s,
                                         size_t s_len, struct mls_bytes *ret_sig);

/* ---- randomness ---- */

/* Fills buf[0..len) from TPM2_GetRandom (several calls: the TPM returns
 * at most a digest's worth per call). len 0 is a no-op. Errors: MLS_E_TPM
 * (buf is then wiped). The output is meant to be mixed into an entropy
 * pool, never used alone. */
MLS_MUST_CHECK int mkd_tpm_get_random(struct mkd_tpm *t, uint8_t *buf, size_t len);

/* ---- resource census ---- */

/* Handle counts from TPM2_GetCapability(TPM2_CAP_HANDLES), for leak checks
 * and `mlskeyctl tpm status`. These are TPM-wide, not only ours; with a
 * resource manager (tpmrm0) they are those of our connection only. */
struct mkd_tpm_handles {
        uint32_t transient;       /* loaded transient objects (0x80xxxxxx) */
        uint32_t loaded_sessions; /* loaded sessions (0x02xxxxxx) */
        uint32_t saved_sessions;  /* active, context-saved sessions (0x03xxxxxx) */
        uint32_t persistent;      /* persistent objects (0x81xxxxxx) */
        uint32_t nv_indices;      /* defined NV indices (0x01xxxxxx) */
};

MLS_MUST_CHECK int mkd_tpm_handle_counts(struct mkd_tpm *t, struct mkd_tpm_handles *ret);

#endif
