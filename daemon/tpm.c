/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM 2.0 access for the vault over TPM2-TSS ESYS (see daemon/tpm.h for the
 * contracts). References: TCG TPM 2.0 Library Specification part 1-3
 * (rev 1.59), TCG TPM v2.0 Provisioning Guidance (SRK template), TCG PC
 * Client Platform TPM Profile (PCRs 16 and 23 are resettable/debug).
 *
 * Every TPM object and session lives in a local with a flush cleanup
 * (struct tpm_tr), so each return path flushes it; ESYS output buffers
 * live in locals with an Esys_Free cleanup, and those that can hold
 * secrets are wiped first.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
/* tss2_mu.h 3.2 declares marshallers of a type its own headers mark
 * deprecated (TPMS_ALGORITHM_DESCRIPTION); we use neither. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <tss2_esys.h>
#include <tss2_mu.h>
#include <tss2_rc.h>
#include <tss2_sys.h>
#include <tss2_tctildr.h>
#pragma GCC diagnostic pop

#include "daemon/tpm.h"
#include "daemon/tpm_tcti.h"

struct mkd_tpm {
        TSS2_TCTI_CONTEXT *tcti;
        bool own_tcti; /* daemon/tpm_tcti.c, not the TCTI loader's */
        ESYS_CONTEXT *esys;
        char err[MKD_TPM_WHY_MAX];
};

static const uint8_t blob_magic[4] = { 'M', 'K', 'D', 'T' };
#define BLOB_FORMAT 1
#define BLOB_KIND_SEALED 1
#define BLOB_KIND_SIGN_KEY 2

/* TPM2_PCR_Event takes at most this much event data (TPM2B_EVENT). */
#define PCR_EVENT_MAX 1024
/* Bytes per TPM2_GetRandom call: one SHA-256 digest, which every TPM
 * returns in full (TPM2B_DIGEST of the largest supported hash). */
#define RANDOM_CHUNK 32

/* ---- error reporting ---- */

static void __attribute__((format(printf, 2, 3)))
tpm_why(struct mkd_tpm *t, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(t->err, sizeof(t->err), fmt, ap);
        va_end(ap);
}

/* MLS_E_TPM with "<what>: <decoded rc> (0x<rc>)" as the reason. */
static int
tpm_fail(struct mkd_tpm *t, const char *what, TSS2_RC rc)
{
        tpm_why(t, "%s: %s (0x%x)", what, Tss2_RC_Decode(rc), (unsigned)rc);
        return MLS_E_TPM;
}

/* Every operation starts with a clean reason. */
static MLS_MUST_CHECK int
tpm_begin(struct mkd_tpm *t)
{
        if (!t || !t->esys)
                return MLS_E_INVALID_ARGUMENT;
        t->err[0] = '\0';
        return 0;
}

/* The TPM's own response code without the handle/session/parameter
 * number, or 0 if rc did not come from the TPM (another TSS layer). */
static TSS2_RC
tpm_rc_base(TSS2_RC rc)
{
        if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
                return 0;
        if (rc & TPM2_RC_FMT1)
                return rc & (TPM2_RC_FMT1 | 0x3f);
        return rc & 0xfff;
}

/* ---- cleanups for TPM handles and ESYS buffers ---- */

/* A transient object or session: flushed (FlushContext) when it goes out
 * of scope. */
struct tpm_tr {
        ESYS_CONTEXT *esys;
        ESYS_TR h;
};

static void
tpm_tr_flush(struct tpm_tr *o)
{
        if (o->h != ESYS_TR_NONE) {
                /* Nothing to report to: a failed flush leaves the handle
                 * in the TPM, which mkd_tpm_handle_counts shows. */
                (void)Esys_FlushContext(o->esys, o->h);
                o->h = ESYS_TR_NONE;
        }
}
#define _tpm_flush_ _mls_cleanup_(tpm_tr_flush)
#define TPM_TR(t) { .esys = (t) ? (t)->esys : NULL, .h = ESYS_TR_NONE } /* t checked later */

/* An ESYS metadata object for an NV index (no TPM resource): closed. */
static void
tpm_tr_close(struct tpm_tr *o)
{
        if (o->h != ESYS_TR_NONE)
                (void)Esys_TR_Close(o->esys, &o->h);
        o->h = ESYS_TR_NONE;
}
#define _tpm_close_ _mls_cleanup_(tpm_tr_close)

static void
esys_freep(void *p)
{
        Esys_Free(*(void **)p);
}
#define _esys_free_ _mls_cleanup_(esys_freep)

/* ESYS output that held secret bytes: wiped, then freed. */
static void
esys_free_wiped(void *p, size_t n)
{
        if (p) {
                sodium_memzero(p, n);
                Esys_Free(p);
        }
}

static void
esys_free_sensitive_data(TPM2B_SENSITIVE_DATA **p)
{
        esys_free_wiped(*p, sizeof(**p));
}

static void
esys_free_digest_wiped(TPM2B_DIGEST **p)
{
        esys_free_wiped(*p, sizeof(**p));
}

static void
sensitive_create_wipe(TPM2B_SENSITIVE_CREATE *p)
{
        sodium_memzero(p, sizeof(*p));
}

/*
 * After a command whose response carried a secret (TPM2_Unseal), the
 * decrypted response parameters still sit in the SYS context's buffer
 * (ESYS decrypts in place). Wipe them. The buffer belongs to the context
 * and is writable; only the getter's type is const.
 */
static void
tpm_wipe_response(struct mkd_tpm *t)
{
        TSS2_SYS_CONTEXT *sys = NULL;
        const uint8_t *rp = NULL;
        size_t rp_len = 0;

        if (Esys_GetSysContext(t->esys, &sys) != TSS2_RC_SUCCESS || !sys)
                return;
        if (Tss2_Sys_GetRpBuffer(sys, &rp_len, &rp) != TSS2_RC_SUCCESS || !rp)
                return;
        sodium_memzero((uint8_t *)(uintptr_t)rp, rp_len);
}

/* ---- handle ---- */

int
mkd_tpm_open(const char *tcti, struct mkd_tpm **ret_tpm, char why[MKD_TPM_WHY_MAX])
{
        _mkd_tpm_ struct mkd_tpm *t = NULL;
        _esys_free_ TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more = TPM2_NO;
        TSS2_RC rc;

        if (why)
                why[0] = '\0';
        if (!ret_tpm)
                return MLS_E_INVALID_ARGUMENT;
        if (tcti && strlen(tcti) > MKD_POLICY_TCTI_MAX) {
                if (why)
                        snprintf(why, MKD_TPM_WHY_MAX, "TCTI string longer than %d bytes",
                                 MKD_POLICY_TCTI_MAX);
                return MLS_E_INVALID_ARGUMENT;
        }
        if (tcti && !tcti[0])
                tcti = NULL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return MLS_E_NOMEM;

        /* swtpm: one persistent connection (the loader's swtpm TCTI
         * reconnects per command, which the vault's sandbox forbids). */
        if (tcti && strncmp(tcti, MKD_TCTI_SOCKET_PREFIX, strlen(MKD_TCTI_SOCKET_PREFIX)) == 0) {
                char w[MKD_TPM_WHY_MAX] = "";
                int r = mkd_tcti_socket_init(tcti, &t->tcti, w, sizeof(w));

                if (r < 0) {
                        t->tcti = NULL;
                        if (why)
                                snprintf(why, MKD_TPM_WHY_MAX, "TCTI \"%s\": %s", tcti,
                                         w[0] ? w : mls_err_text(r));
                        return r;
                }
                t->own_tcti = true;
                rc = TSS2_RC_SUCCESS;
        } else {
                rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
        }
        if (rc != TSS2_RC_SUCCESS) {
                t->tcti = NULL;
                if (why)
                        snprintf(why, MKD_TPM_WHY_MAX, "Tss2_TctiLdr_Initialize(\"%s\"): %s",
                                 tcti ? tcti : "(default)", Tss2_RC_Decode(rc));
                return MLS_E_TPM;
        }
        rc = Esys_Initialize(&t->esys, t->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                t->esys = NULL;
                if (why)
                        snprintf(why, MKD_TPM_WHY_MAX, "Esys_Initialize: %s", Tss2_RC_Decode(rc));
                return MLS_E_TPM;
        }
        /* Does a TPM 2.0 answer? */
        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                TPM2_CAP_TPM_PROPERTIES, TPM2_PT_MANUFACTURER, 1, &more, &cap);
        if (rc != TSS2_RC_SUCCESS) {
                if (why)
                        snprintf(why, MKD_TPM_WHY_MAX,
                                 "TPM2_GetCapability on \"%s\": %s (no TPM 2.0 answers)",
                                 tcti ? tcti : "(default)", Tss2_RC_Decode(rc));
                return MLS_E_TPM;
        }
        *ret_tpm = MLS_TAKE(t);
        return 0;
}

int
mkd_tpm_fds(struct mkd_tpm *t, int *fds, size_t max, size_t *ret_n)
{
        TSS2_TCTI_POLL_HANDLE h[8];
        size_t n = MLS_ARRAY_SIZE(h);
        TSS2_RC rc;

        MLS_TRY(tpm_begin(t));
        if ((!fds && max) || !ret_n)
                return MLS_E_INVALID_ARGUMENT;
        rc = Tss2_Tcti_GetPollHandles(t->tcti, h, &n);
        if (rc != TSS2_RC_SUCCESS) {
                if ((rc & ~TSS2_RC_LAYER_MASK) == TSS2_BASE_RC_NOT_IMPLEMENTED) {
                        tpm_why(t, "this TCTI does not report its file descriptors");
                        return MLS_E_UNSUPPORTED;
                }
                return tpm_fail(t, "Tss2_Tcti_GetPollHandles", rc);
        }
        if (n > MLS_ARRAY_SIZE(h))
                return MLS_E_TPM;
        if (n > max)
                return MLS_E_TOO_LARGE;
        for (size_t i = 0; i < n; i++)
                fds[i] = h[i].fd;
        *ret_n = n;
        return 0;
}

void
mkd_tpm_close(struct mkd_tpm *t)
{
        if (!t)
                return;
        if (t->esys)
                Esys_Finalize(&t->esys);
        if (t->tcti && t->own_tcti)
                mkd_tcti_socket_free(t->tcti);
        else if (t->tcti)
                Tss2_TctiLdr_Finalize(&t->tcti);
        free(t);
}

void
mkd_tpm_closep(struct mkd_tpm **t)
{
        mkd_tpm_close(*t);
        *t = NULL;
}

const char *
mkd_tpm_last_error(const struct mkd_tpm *t)
{
        return t ? t->err : "";
}

/* ---- PCR banks and selections ---- */

static TPMI_ALG_HASH
bank_alg(enum mkd_pcr_bank bank)
{
        switch (bank) {
        case MKD_PCR_BANK_SHA1:
                return TPM2_ALG_SHA1;
        case MKD_PCR_BANK_SHA256:
                return TPM2_ALG_SHA256;
        case MKD_PCR_BANK_SHA384:
                return TPM2_ALG_SHA384;
        case MKD_PCR_BANK_SHA512:
                return TPM2_ALG_SHA512;
        case MKD_PCR_BANK_NONE:
                break;
        }
        return TPM2_ALG_NULL;
}

static enum mkd_pcr_bank
alg_bank(TPMI_ALG_HASH alg)
{
        switch (alg) {
        case TPM2_ALG_SHA1:
                return MKD_PCR_BANK_SHA1;
        case TPM2_ALG_SHA256:
                return MKD_PCR_BANK_SHA256;
        case TPM2_ALG_SHA384:
                return MKD_PCR_BANK_SHA384;
        case TPM2_ALG_SHA512:
                return MKD_PCR_BANK_SHA512;
        default:
                return MKD_PCR_BANK_NONE;
        }
}

size_t
mkd_tpm_pcr_bank_digest_len(enum mkd_pcr_bank bank)
{
        switch (bank) {
        case MKD_PCR_BANK_SHA1:
                return 20;
        case MKD_PCR_BANK_SHA256:
                return 32;
        case MKD_PCR_BANK_SHA384:
                return 48;
        case MKD_PCR_BANK_SHA512:
                return 64;
        case MKD_PCR_BANK_NONE:
                break;
        }
        return 0;
}

const char *
mkd_tpm_pcr_bank_name(enum mkd_pcr_bank bank)
{
        switch (bank) {
        case MKD_PCR_BANK_SHA1:
                return "sha1";
        case MKD_PCR_BANK_SHA256:
                return "sha256";
        case MKD_PCR_BANK_SHA384:
                return "sha384";
        case MKD_PCR_BANK_SHA512:
                return "sha512";
        case MKD_PCR_BANK_NONE:
                break;
        }
        return "none";
}

#define PCR_MASK_ALL ((1u << MKD_TPM_PCR_COUNT) - 1)

static bool
pcrs_valid(const struct mkd_tpm_pcrs *p)
{
        return p && bank_alg(p->bank) != TPM2_ALG_NULL && p->mask != 0 &&
               (p->mask & ~PCR_MASK_ALL) == 0;
}

static TPML_PCR_SELECTION
pcr_selection(TPMI_ALG_HASH alg, uint32_t mask)
{
        TPML_PCR_SELECTION s = { 0 };

        s.count = 1;
        s.pcrSelections[0].hash = alg;
        s.pcrSelections[0].sizeofSelect = 3;
        s.pcrSelections[0].pcrSelect[0] = (uint8_t)(mask & 0xff);
        s.pcrSelections[0].pcrSelect[1] = (uint8_t)((mask >> 8) & 0xff);
        s.pcrSelections[0].pcrSelect[2] = (uint8_t)((mask >> 16) & 0xff);
        return s;
}

/* The mask of the selection for alg in s (0 if the bank is absent). */
static uint32_t
selection_mask(const TPML_PCR_SELECTION *s, TPMI_ALG_HASH alg)
{
        uint32_t m = 0;

        for (uint32_t i = 0; i < s->count && i < TPM2_NUM_PCR_BANKS; i++) {
                const TPMS_PCR_SELECTION *p = &s->pcrSelections[i];

                if (p->hash != alg)
                        continue;
                for (unsigned b = 0; b < p->sizeofSelect && b < TPM2_PCR_SELECT_MAX; b++)
                        m |= (uint32_t)p->pcrSelect[b] << (8 * b);
        }
        return m & PCR_MASK_ALL;
}

int
mkd_tpm_pcr_read(struct mkd_tpm *t, const struct mkd_tpm_pcrs *sel,
                 struct mkd_tpm_pcr_values *ret_values)
{
        struct mkd_tpm_pcr_values v = { 0 };
        TPMI_ALG_HASH alg;
        uint32_t left;

        MLS_TRY(tpm_begin(t));
        if (!pcrs_valid(sel) || !ret_values)
                return MLS_E_INVALID_ARGUMENT;
        alg = bank_alg(sel->bank);
        v.bank = sel->bank;
        v.digest_len = mkd_tpm_pcr_bank_digest_len(sel->bank);
        left = sel->mask;
        /* TPM2_PCR_Read returns at most 8 digests per call and says in
         * pcrSelectionOut which ones: ask again for the rest. */
        while (left) {
                TPML_PCR_SELECTION in = pcr_selection(alg, left);
                _esys_free_ TPML_PCR_SELECTION *out = NULL;
                _esys_free_ TPML_DIGEST *dig = NULL;
                uint32_t got, n = 0;
                TSS2_RC rc;

                rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, NULL,
                                   &out, &dig);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, "TPM2_PCR_Read", rc);
                got = selection_mask(out, alg) & left;
                if (got == 0) {
                        tpm_why(t, "TPM2_PCR_Read: the %s bank is not allocated in this TPM",
                                mkd_tpm_pcr_bank_name(sel->bank));
                        return MLS_E_TPM;
                }
                for (unsigned i = 0; i < MKD_TPM_PCR_COUNT; i++) {
                        if (!(got & (1u << i)))
                                continue;
                        if (n >= dig->count || dig->digests[n].size != v.digest_len) {
                                tpm_why(t, "TPM2_PCR_Read: malformed response");
                                return MLS_E_TPM;
                        }
                        memcpy(v.digest[i], dig->digests[n].buffer, v.digest_len);
                        n++;
                }
                v.mask |= got;
                left &= ~got;
        }
        *ret_values = v;
        return 0;
}

int
mkd_tpm_pcr_extend(struct mkd_tpm *t, unsigned pcr, const uint8_t *data, size_t len)
{
        _esys_free_ TPML_DIGEST_VALUES *digests = NULL;
        TPM2B_EVENT ev = { 0 };
        TSS2_RC rc;

        MLS_TRY(tpm_begin(t));
        if (pcr >= MKD_TPM_PCR_COUNT || len > PCR_EVENT_MAX || (!data && len))
                return MLS_E_INVALID_ARGUMENT;
        ev.size = (UINT16)len;
        if (len)
                memcpy(ev.buffer, data, len);
        /* PCR handles are permanent: ESYS_TR_PCR0 + n; the platform's PCR
         * auth is empty. */
        rc = Esys_PCR_Event(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &ev, &digests);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, "TPM2_PCR_Event", rc);
        return 0;
}

/*
 * TPM 2.0 part 3, 23.7 TPM2_PolicyPCR:
 *   policyDigest_new := H(policyDigest_old || TPM_CC_PolicyPCR || pcrs || digestTPM)
 * with digestTPM = H(the selected PCR values concatenated in selection
 * order), policyDigest_old all zero for a fresh session, H = SHA-256 (the
 * session's and the object's nameAlg). Values: the concatenation (n * len).
 */
static MLS_MUST_CHECK int
policy_pcr_digest(TPMI_ALG_HASH alg, uint32_t mask, const uint8_t *values, size_t values_len,
                  uint8_t ret_pcr_digest[32], uint8_t ret_policy[32])
{
        TPML_PCR_SELECTION sel = pcr_selection(alg, mask);
        uint8_t sel_buf[sizeof(TPML_PCR_SELECTION)];
        uint8_t zeros[32] = { 0 };
        uint8_t cc[4];
        size_t off = 0;
        crypto_hash_sha256_state st;

        if (Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, sel_buf, sizeof(sel_buf), &off) !=
            TSS2_RC_SUCCESS)
                return MLS_E_INTERNAL;
        crypto_hash_sha256(ret_pcr_digest, values, values_len);
        cc[0] = (uint8_t)(TPM2_CC_PolicyPCR >> 24);
        cc[1] = (uint8_t)(TPM2_CC_PolicyPCR >> 16);
        cc[2] = (uint8_t)(TPM2_CC_PolicyPCR >> 8);
        cc[3] = (uint8_t)TPM2_CC_PolicyPCR;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, zeros, sizeof(zeros));
        crypto_hash_sha256_update(&st, cc, sizeof(cc));
        crypto_hash_sha256_update(&st, sel_buf, off);
        crypto_hash_sha256_update(&st, ret_pcr_digest, 32);
        crypto_hash_sha256_final(&st, ret_policy);
        return 0;
}

static unsigned
popcount24(uint32_t m)
{
        return (unsigned)__builtin_popcount(m & PCR_MASK_ALL);
}

/* ---- the storage primary key (SRK) and sessions ---- */

/*
 * TCG TPM v2.0 Provisioning Guidance, 7.5.1 "Storage Root Key (SRK)
 * Templates", ECC NIST P-256: restricted decryption key, AES-128-CFB,
 * scheme NULL, KDF NULL, unique = 32 zero bytes for x and for y.
 */
static MLS_MUST_CHECK int
srk_create(struct mkd_tpm *t, struct tpm_tr *ret_srk)
{
        TPM2B_SENSITIVE_CREATE sens = { 0 };
        TPM2B_PUBLIC tmpl = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION creation_pcr = { 0 };
        TSS2_RC rc;

        tmpl.publicArea.type = TPM2_ALG_ECC;
        tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
        tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                           TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                           TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                                           TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
        tmpl.publicArea.authPolicy.size = 0;
        tmpl.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
        tmpl.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
        tmpl.publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        tmpl.publicArea.unique.ecc.x.size = 32;
        tmpl.publicArea.unique.ecc.y.size = 32;

        rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr,
                                &ret_srk->h, NULL, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                ret_srk->h = ESYS_TR_NONE;
                return tpm_fail(t, "TPM2_CreatePrimary(owner, SRK)", rc);
        }
        return 0;
}

/*
 * A session salted with the SRK (the salt travels encrypted to the SRK,
 * so only this TPM and we know the session key), AES-128-CFB parameter
 * encryption, SHA-256. attrs: TPMA_SESSION_DECRYPT (the first command
 * parameter is encrypted) and/or TPMA_SESSION_ENCRYPT (the first response
 * parameter is). continueSession stays set; the caller's cleanup flushes.
 */
static MLS_MUST_CHECK int
session_start(struct mkd_tpm *t, ESYS_TR salt_key, TPM2_SE type, TPMA_SESSION attrs,
              struct tpm_tr *ret_sess)
{
        TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_AES,
                             .keyBits = { .aes = 128 },
                             .mode = { .aes = TPM2_ALG_CFB } };
        TSS2_RC rc;

        if (type == TPM2_SE_TRIAL)
                sym.algorithm = TPM2_ALG_NULL;
        rc = Esys_StartAuthSession(t->esys, salt_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, NULL, type, &sym, TPM2_ALG_SHA256, &ret_sess->h);
        if (rc != TSS2_RC_SUCCESS) {
                ret_sess->h = ESYS_TR_NONE;
                return tpm_fail(t, "TPM2_StartAuthSession", rc);
        }
        if (attrs) {
                TPMA_SESSION all = TPMA_SESSION_CONTINUESESSION | attrs;

                rc = Esys_TRSess_SetAttributes(t->esys, ret_sess->h, all, 0xff);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, "Esys_TRSess_SetAttributes", rc);
        }
        return 0;
}

/* ---- blobs ---- */

struct tpm_blob {
        uint8_t kind;
        TPM2B_PUBLIC pub;
        TPM2B_PRIVATE priv;
        /* kind 1 */
        TPMI_ALG_HASH pcr_alg; /* TPM2_ALG_NULL: not bound */
        uint32_t pcr_mask;
        const uint8_t *pcr_values;
        size_t pcr_values_len;
};

static MLS_MUST_CHECK int
blob_write_head(struct mls_writer *w, uint8_t kind, const TPM2B_PUBLIC *pub,
                const TPM2B_PRIVATE *priv)
{
        uint8_t buf[sizeof(TPM2B_PUBLIC) > sizeof(TPM2B_PRIVATE) ? sizeof(TPM2B_PUBLIC)
                                                                 : sizeof(TPM2B_PRIVATE)];
        size_t off = 0;

        MLS_TRY(mls_writer_raw(w, blob_magic, sizeof(blob_magic)));
        MLS_TRY(mls_writer_u16(w, BLOB_FORMAT));
        MLS_TRY(mls_writer_u8(w, kind));
        if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return MLS_E_INTERNAL;
        MLS_TRY(mls_writer_opaque(w, buf, off));
        off = 0;
        if (Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return MLS_E_INTERNAL;
        MLS_TRY(mls_writer_opaque(w, buf, off));
        return 0;
}

/*
 * A marshalled TPM2B (part 2, 10.4: UINT16 size, then size bytes) must
 * fill its field exactly. tss2-mu's TPM2B_PUBLIC unmarshaller decodes the
 * inner TPMT_PUBLIC without checking the size against it, so a changed
 * size would otherwise go unnoticed.
 */
static MLS_MUST_CHECK int
tpm2b_size_check(const uint8_t *p, size_t n)
{
        struct mls_reader r;
        uint16_t size;

        mls_reader_init(&r, p, n);
        MLS_TRY(mls_reader_u16(&r, &size));
        if (size != r.left)
                return MLS_E_INVALID_MESSAGE;
        return 0;
}

/*
 * MkdTpmBlob (daemon/tpm.h). The TPM structures inside the opaque fields
 * must unmarshal to exactly their length.
 */
static MLS_MUST_CHECK int
blob_parse(const uint8_t *blob, size_t len, uint8_t want_kind, struct tpm_blob *ret)
{
        struct tpm_blob b = { 0 };
        struct mls_reader r;
        const uint8_t *magic, *p;
        size_t n, off;
        uint16_t format;

        if (!blob && len)
                return MLS_E_INVALID_ARGUMENT;
        mls_reader_init(&r, blob, len);
        MLS_TRY(mls_reader_raw(&r, sizeof(blob_magic), &magic));
        if (memcmp(magic, blob_magic, sizeof(blob_magic)) != 0)
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_u16(&r, &format));
        MLS_TRY(mls_reader_u8(&r, &b.kind));
        if (format != BLOB_FORMAT)
                return MLS_E_UNSUPPORTED;
        if (b.kind != want_kind)
                return MLS_E_INVALID_MESSAGE;

        MLS_TRY(mls_reader_opaque_view(&r, &p, &n));
        MLS_TRY(tpm2b_size_check(p, n));
        off = 0;
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(p, n, &off, &b.pub) != TSS2_RC_SUCCESS || off != n)
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_opaque_view(&r, &p, &n));
        MLS_TRY(tpm2b_size_check(p, n));
        off = 0;
        if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(p, n, &off, &b.priv) != TSS2_RC_SUCCESS ||
            off != n || b.priv.size == 0)
                return MLS_E_INVALID_MESSAGE;

        b.pcr_alg = TPM2_ALG_NULL;
        if (b.kind == BLOB_KIND_SEALED) {
                uint16_t alg;
                enum mkd_pcr_bank bank;

                MLS_TRY(mls_reader_u16(&r, &alg));
                MLS_TRY(mls_reader_u32(&r, &b.pcr_mask));
                MLS_TRY(mls_reader_opaque_view(&r, &b.pcr_values, &b.pcr_values_len));
                if (alg == 0) {
                        if (b.pcr_mask != 0 || b.pcr_values_len != 0)
                                return MLS_E_INVALID_MESSAGE;
                } else {
                        bank = alg_bank(alg);
                        if (bank == MKD_PCR_BANK_NONE || b.pcr_mask == 0 ||
                            (b.pcr_mask & ~PCR_MASK_ALL) != 0 ||
                            b.pcr_values_len !=
                                    popcount24(b.pcr_mask) * mkd_tpm_pcr_bank_digest_len(bank))
                                return MLS_E_INVALID_MESSAGE;
                        b.pcr_alg = alg;
                }
        }
        MLS_TRY(mls_reader_done(&r));
        *ret = b;
        return 0;
}

/*
 * The sealed object's public area must be what mkd_tpm_seal makes, and a
 * PCR record must be the one its authPolicy was computed from: then every
 * bit of the blob is covered (the TPM checks public and private, this
 * checks the record against the public area).
 */
static MLS_MUST_CHECK int
blob_check_sealed(const struct tpm_blob *b)
{
        const TPMT_PUBLIC *pa = &b->pub.publicArea;
        TPMA_OBJECT attrs = pa->objectAttributes;

        if (pa->type != TPM2_ALG_KEYEDHASH || pa->nameAlg != TPM2_ALG_SHA256 ||
            pa->parameters.keyedHashDetail.scheme.scheme != TPM2_ALG_NULL ||
            (attrs & (TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_DECRYPT)) != 0)
                return MLS_E_INVALID_MESSAGE;
        if (b->pcr_alg == TPM2_ALG_NULL) {
                if (!(attrs & TPMA_OBJECT_USERWITHAUTH) || pa->authPolicy.size != 0)
                        return MLS_E_INVALID_MESSAGE;
        } else {
                uint8_t pcr_digest[32], policy[32];

                if ((attrs & TPMA_OBJECT_USERWITHAUTH) || pa->authPolicy.size != 32)
                        return MLS_E_INVALID_MESSAGE;
                MLS_TRY(policy_pcr_digest(b->pcr_alg, b->pcr_mask, b->pcr_values,
                                          b->pcr_values_len, pcr_digest, policy));
                if (!mls_ct_eq(policy, pa->authPolicy.buffer, 32))
                        return MLS_E_INVALID_MESSAGE;
        }
        return 0;
}

static MLS_MUST_CHECK int
blob_check_sign_key(const struct tpm_blob *b)
{
        const TPMT_PUBLIC *pa = &b->pub.publicArea;
        const TPMS_ECC_PARMS *e = &pa->parameters.eccDetail;

        if (pa->type != TPM2_ALG_ECC || e->curveID != TPM2_ECC_NIST_P256 ||
            e->scheme.scheme != TPM2_ALG_ECDSA || e->scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256 ||
            !(pa->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) ||
            (pa->objectAttributes & (TPMA_OBJECT_DECRYPT | TPMA_OBJECT_RESTRICTED)) ||
            pa->unique.ecc.x.size == 0 || pa->unique.ecc.x.size > 32 ||
            pa->unique.ecc.y.size == 0 || pa->unique.ecc.y.size > 32)
                return MLS_E_BAD_KEY;
        return 0;
}

int
mkd_tpm_blob_pcrs(const uint8_t *blob, size_t len, bool *ret_bound, struct mkd_tpm_pcrs *ret_pcrs)
{
        struct tpm_blob b;

        if (!ret_bound || !ret_pcrs)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(blob_parse(blob, len, BLOB_KIND_SEALED, &b));
        MLS_TRY(blob_check_sealed(&b));
        if (b.pcr_alg == TPM2_ALG_NULL) {
                *ret_bound = false;
                return 0;
        }
        ret_pcrs->bank = alg_bank(b.pcr_alg);
        ret_pcrs->mask = b.pcr_mask;
        *ret_bound = true;
        return 0;
}

/* ---- sealing ---- */

int
mkd_tpm_seal(struct mkd_tpm *t, const struct mkd_tpm_pcrs *pcrs, const struct mls_secret *data,
             struct mls_bytes *ret_blob)
{
        _tpm_flush_ struct tpm_tr srk = TPM_TR(t);
        _tpm_flush_ struct tpm_tr sess = TPM_TR(t);
        _tpm_flush_ struct tpm_tr trial = TPM_TR(t);
        _mls_cleanup_(sensitive_create_wipe) TPM2B_SENSITIVE_CREATE sens = { 0 };
        _esys_free_ TPM2B_PRIVATE *out_priv = NULL;
        _esys_free_ TPM2B_PUBLIC *out_pub = NULL;
        _esys_free_ TPM2B_DIGEST *trial_digest = NULL;
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_tpm_pcr_values vals;
        uint8_t values[MKD_TPM_PCR_COUNT * MKD_TPM_PCR_MAX_DIGEST];
        size_t values_len = 0;
        TPM2B_PUBLIC tmpl = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION creation_pcr = { 0 };
        TPMI_ALG_HASH alg = TPM2_ALG_NULL;
        TSS2_RC rc;

        mls_writer_init(&w);
        MLS_TRY(tpm_begin(t));
        if (!data || !ret_blob || data->len == 0 || (pcrs && !pcrs_valid(pcrs)))
                return MLS_E_INVALID_ARGUMENT;
        if (data->len > MKD_TPM_SEAL_MAX)
                return MLS_E_TOO_LARGE;

        tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
        tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
        tmpl.publicArea.objectAttributes =
                TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA;
        tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
        tmpl.publicArea.unique.keyedHash.size = 0;

        if (pcrs) {
                uint8_t pcr_digest_buf[32], policy[32];
                TPM2B_DIGEST pcr_digest = { .size = 32 };
                TPML_PCR_SELECTION sel;
                size_t dl;

                alg = bank_alg(pcrs->bank);
                sel = pcr_selection(alg, pcrs->mask);
                /* Read the values once; the policy is computed over exactly
                 * these (a trial PolicyPCR with an explicit pcrDigest uses
                 * the digest given, part 3 23.7), so the record in the blob
                 * and the policy cannot disagree even if a PCR is extended
                 * meanwhile. */
                MLS_TRY(mkd_tpm_pcr_read(t, pcrs, &vals));
                dl = vals.digest_len;
                for (unsigned i = 0; i < MKD_TPM_PCR_COUNT; i++) {
                        if (!(pcrs->mask & (1u << i)))
                                continue;
                        memcpy(values + values_len, vals.digest[i], dl);
                        values_len += dl;
                }
                MLS_TRY(policy_pcr_digest(alg, pcrs->mask, values, values_len, pcr_digest_buf,
                                          policy));
                memcpy(pcr_digest.buffer, pcr_digest_buf, 32);

                MLS_TRY(session_start(t, ESYS_TR_NONE, TPM2_SE_TRIAL, 0, &trial));
                rc = Esys_PolicyPCR(t->esys, trial.h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    &pcr_digest, &sel);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, "TPM2_PolicyPCR (trial)", rc);
                rc = Esys_PolicyGetDigest(t->esys, trial.h, ESYS_TR_NONE, ESYS_TR_NONE,
                                          ESYS_TR_NONE, &trial_digest);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, "TPM2_PolicyGetDigest", rc);
                tpm_tr_flush(&trial);
                if (trial_digest->size != 32 || memcmp(trial_digest->buffer, policy, 32) != 0) {
                        tpm_why(t, "TPM2_PolicyPCR: the TPM's policy digest differs from ours");
                        return MLS_E_INTERNAL;
                }
                tmpl.publicArea.authPolicy.size = 32;
                memcpy(tmpl.publicArea.authPolicy.buffer, policy, 32);
                tmpl.publicArea.objectAttributes |= TPMA_OBJECT_ADMINWITHPOLICY;
        } else {
                tmpl.publicArea.objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
        }

        MLS_TRY(srk_create(t, &srk));
        /* The sensitive data is TPM2_Create's first parameter: the
         * session's DECRYPT attribute has it cross the bus encrypted. */
        MLS_TRY(session_start(t, srk.h, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT, &sess));
        sens.sensitive.data.size = (UINT16)data->len;
        memcpy(sens.sensitive.data.buffer, data->data, data->len);
        rc = Esys_Create(t->esys, srk.h, sess.h, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
                         &outside, &creation_pcr, &out_priv, &out_pub, NULL, NULL, NULL);
        sodium_memzero(&sens, sizeof(sens));
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, "TPM2_Create(sealed data)", rc);

        MLS_TRY(blob_write_head(&w, BLOB_KIND_SEALED, out_pub, out_priv));
        MLS_TRY(mls_writer_u16(&w, pcrs ? alg : 0));
        MLS_TRY(mls_writer_u32(&w, pcrs ? pcrs->mask : 0));
        MLS_TRY(mls_writer_opaque(&w, values, values_len));
        return mls_writer_finish(&w, ret_blob);
}

/* The mask of PCRs of the blob's record whose value differs now. */
static MLS_MUST_CHECK int
changed_pcrs(struct mkd_tpm *t, const struct tpm_blob *b, uint32_t *ret_mask)
{
        struct mkd_tpm_pcrs sel = { .bank = alg_bank(b->pcr_alg), .mask = b->pcr_mask };
        struct mkd_tpm_pcr_values now;
        const uint8_t *p = b->pcr_values;
        uint32_t changed = 0;

        MLS_TRY(mkd_tpm_pcr_read(t, &sel, &now));
        for (unsigned i = 0; i < MKD_TPM_PCR_COUNT; i++) {
                if (!(b->pcr_mask & (1u << i)))
                        continue;
                if (memcmp(p, now.digest[i], now.digest_len) != 0)
                        changed |= 1u << i;
                p += now.digest_len;
        }
        *ret_mask = changed;
        return 0;
}

int
mkd_tpm_unseal(struct mkd_tpm *t, const uint8_t *blob, size_t len, struct mls_secret **ret_data,
               uint32_t *ret_changed_pcr_mask)
{
        _tpm_flush_ struct tpm_tr srk = TPM_TR(t);
        _tpm_flush_ struct tpm_tr obj = TPM_TR(t);
        _tpm_flush_ struct tpm_tr sess = TPM_TR(t);
        _mls_cleanup_(esys_free_sensitive_data) TPM2B_SENSITIVE_DATA *out = NULL;
        struct tpm_blob b;
        TSS2_RC rc;

        MLS_TRY(tpm_begin(t));
        if (!ret_data)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(blob_parse(blob, len, BLOB_KIND_SEALED, &b));
        MLS_TRY(blob_check_sealed(&b));

        MLS_TRY(srk_create(t, &srk));
        rc = Esys_Load(t->esys, srk.h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &b.priv,
                       &b.pub, &obj.h);
        if (rc != TSS2_RC_SUCCESS) {
                obj.h = ESYS_TR_NONE;
                return tpm_fail(t, "TPM2_Load(sealed data; sealed by another TPM or owner?)", rc);
        }
        /* The unsealed data is TPM2_Unseal's first response parameter:
         * ENCRYPT has it cross the bus encrypted. */
        if (b.pcr_alg == TPM2_ALG_NULL) {
                MLS_TRY(session_start(t, srk.h, TPM2_SE_HMAC, TPMA_SESSION_ENCRYPT, &sess));
        } else {
                TPML_PCR_SELECTION sel = pcr_selection(b.pcr_alg, b.pcr_mask);
                TPM2B_DIGEST empty = { 0 };

                MLS_TRY(session_start(t, srk.h, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &sess));
                /* An empty pcrDigest: the TPM uses the CURRENT values;
                 * TPM2_Unseal then fails with TPM_RC_POLICY_FAIL if they
                 * differ from those sealed to. */
                rc = Esys_PolicyPCR(t->esys, sess.h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    &empty, &sel);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, "TPM2_PolicyPCR", rc);
        }
        rc = Esys_Unseal(t->esys, obj.h, sess.h, ESYS_TR_NONE, ESYS_TR_NONE, &out);
        if (rc != TSS2_RC_SUCCESS) {
                if (b.pcr_alg != TPM2_ALG_NULL && tpm_rc_base(rc) == TPM2_RC_POLICY_FAIL) {
                        uint32_t changed = 0;

                        /* Flush before reading the PCRs: nothing of ours
                         * stays loaded while we look. */
                        tpm_tr_flush(&sess);
                        tpm_tr_flush(&obj);
                        tpm_tr_flush(&srk);
                        if (changed_pcrs(t, &b, &changed) < 0)
                                tpm_why(t, "TPM2_Unseal: PCR policy failed (and the PCRs "
                                           "could not be read again)");
                        else
                                tpm_why(t, "TPM2_Unseal: PCR policy failed (%s PCR mask "
                                           "0x%06x changed)",
                                        mkd_tpm_pcr_bank_name(alg_bank(b.pcr_alg)),
                                        (unsigned)changed);
                        if (ret_changed_pcr_mask)
                                *ret_changed_pcr_mask = changed;
                        return MLS_E_TPM_POLICY;
                }
                return tpm_fail(t, "TPM2_Unseal", rc);
        }
        tpm_wipe_response(t);
        if (out->size == 0) {
                tpm_why(t, "TPM2_Unseal: empty data");
                return MLS_E_TPM;
        }
        return mls_secret_from(out->buffer, out->size, ret_data);
}

/* ---- NV counter ---- */

#define NV_COUNTER_SIZE 8
#define NV_ATTRS_NEED (TPMA_NV_AUTHREAD | TPMA_NV_AUTHWRITE)

static bool
nv_index_valid(uint32_t idx)
{
        return idx >= MKD_TPM_NV_OWNER_FIRST && idx <= MKD_TPM_NV_OWNER_LAST;
}

/*
 * Looks the index up: MLS_E_NOT_FOUND if it is not defined; else an ESYS
 * object for it in *ret_nv (closed by the caller's cleanup) and its
 * attributes. MLS_E_BAD_STATE if it is not an 8-byte counter that we may
 * read and write with its auth.
 */
static MLS_MUST_CHECK int
nv_lookup(struct mkd_tpm *t, uint32_t idx, struct tpm_tr *ret_nv, TPMA_NV *ret_attrs)
{
        _esys_free_ TPM2B_NV_PUBLIC *pub = NULL;
        TPMA_NV a;
        TSS2_RC rc;

        rc = Esys_TR_FromTPMPublic(t->esys, idx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &ret_nv->h);
        if (rc != TSS2_RC_SUCCESS) {
                ret_nv->h = ESYS_TR_NONE;
                if (tpm_rc_base(rc) == TPM2_RC_HANDLE) {
                        tpm_why(t, "NV index 0x%08x is not defined", (unsigned)idx);
                        return MLS_E_NOT_FOUND;
                }
                return tpm_fail(t, "TPM2_NV_ReadPublic", rc);
        }
        rc = Esys_NV_ReadPublic(t->esys, ret_nv->h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
                                NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, "TPM2_NV_ReadPublic", rc);
        a = pub->nvPublic.attributes;
        if (pub->nvPublic.nvIndex != idx ||
            ((a & TPMA_NV_TPM2_NT_MASK) >> TPMA_NV_TPM2_NT_SHIFT) != TPM2_NT_COUNTER ||
            pub->nvPublic.dataSize != NV_COUNTER_SIZE || (a & NV_ATTRS_NEED) != NV_ATTRS_NEED ||
            (a & (TPMA_NV_POLICYWRITE | TPMA_NV_POLICYREAD | TPMA_NV_READLOCKED |
                  TPMA_NV_WRITELOCKED | TPMA_NV_PLATFORMCREATE)) ||
            pub->nvPublic.authPolicy.size != 0) {
                tpm_why(t, "NV index 0x%08x exists but is not an mlskeyd counter", (unsigned)idx);
                return MLS_E_BAD_STATE;
        }
        *ret_attrs = a;
        return 0;
}

static MLS_MUST_CHECK int
nv_increment(struct mkd_tpm *t, ESYS_TR nv)
{
        TSS2_RC rc;

        /* AUTHWRITE with the index's own (empty) auth: no owner auth for
         * the everyday increment. */
        rc = Esys_NV_Increment(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, "TPM2_NV_Increment", rc);
        return 0;
}

static MLS_MUST_CHECK int
nv_read_u64(struct mkd_tpm *t, ESYS_TR nv, uint64_t *ret)
{
        _esys_free_ TPM2B_MAX_NV_BUFFER *data = NULL;
        struct mls_reader r;
        TSS2_RC rc;

        rc = Esys_NV_Read(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                          NV_COUNTER_SIZE, 0, &data);
        if (rc != TSS2_RC_SUCCESS) {
                if (tpm_rc_base(rc) == TPM2_RC_NV_UNINITIALIZED) {
                        tpm_why(t, "NV counter never incremented (not initialised)");
                        return MLS_E_BAD_STATE;
                }
                return tpm_fail(t, "TPM2_NV_Read", rc);
        }
        /* The counter is a big-endian UINT64 (part 2, 13.4). */
        mls_reader_init(&r, data->buffer, data->size);
        if (data->size != NV_COUNTER_SIZE || mls_reader_u64(&r, ret) < 0) {
                tpm_why(t, "TPM2_NV_Read: %u bytes instead of 8", (unsigned)data->size);
                return MLS_E_TPM;
        }
        return 0;
}

int
mkd_tpm_counter_define(struct mkd_tpm *t, uint32_t nv_index, unsigned flags, bool *ret_created)
{
        _tpm_close_ struct tpm_tr nv = TPM_TR(t);
        TPM2B_AUTH auth = { 0 };
        TPM2B_NV_PUBLIC pub = { 0 };
        TPMA_NV attrs = 0;
        bool created = false;
        TSS2_RC rc;
        int r;

        MLS_TRY(tpm_begin(t));
        if (!nv_index_valid(nv_index) || (flags & ~MKD_TPM_COUNTER_ORDERLY))
                return MLS_E_INVALID_ARGUMENT;
        r = nv_lookup(t, nv_index, &nv, &attrs);
        if (r == MLS_E_NOT_FOUND) {
                tpm_tr_close(&nv);
                pub.nvPublic.nvIndex = nv_index;
                pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
                pub.nvPublic.attributes =
                        ((TPMA_NV)TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) |
                        TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE |
                        TPMA_NV_AUTHREAD | TPMA_NV_NO_DA |
                        ((flags & MKD_TPM_COUNTER_ORDERLY) ? TPMA_NV_ORDERLY : 0);
                pub.nvPublic.authPolicy.size = 0;
                pub.nvPublic.dataSize = NV_COUNTER_SIZE;
                rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                         ESYS_TR_NONE, &auth, &pub, &nv.h);
                if (rc != TSS2_RC_SUCCESS) {
                        nv.h = ESYS_TR_NONE;
                        if (tpm_rc_base(rc) != TPM2_RC_NV_DEFINED)
                                return tpm_fail(t, "TPM2_NV_DefineSpace", rc);
                        /* Someone defined it meanwhile: look again. */
                        MLS_TRY(nv_lookup(t, nv_index, &nv, &attrs));
                } else {
                        attrs = pub.nvPublic.attributes;
                        created = true;
                }
        } else if (r < 0) {
                return r;
        }
        if (!(attrs & TPMA_NV_WRITTEN) || created) {
                r = nv_increment(t, nv.h);
                if (r < 0) {
                        /* not left defined half-way (a retry would take
                         * it for somebody else's) */
                        if (created && Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, nv.h,
                                                             ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                             ESYS_TR_NONE) == TSS2_RC_SUCCESS)
                                nv.h = ESYS_TR_NONE;
                        return r;
                }
        }
        if (ret_created)
                *ret_created = created;
        return 0;
}

/* The existing counter at nv_index, for one of the calls below. */
static int
counter_open(struct mkd_tpm *t, uint32_t nv_index, struct tpm_tr *nv)
{
        TPMA_NV attrs;

        MLS_TRY(tpm_begin(t));
        if (!nv_index_valid(nv_index))
                return MLS_E_INVALID_ARGUMENT;
        return nv_lookup(t, nv_index, nv, &attrs);
}

int
mkd_tpm_counter_read(struct mkd_tpm *t, uint32_t nv_index, uint64_t *ret_value)
{
        _tpm_close_ struct tpm_tr nv = TPM_TR(t);

        if (!ret_value)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(counter_open(t, nv_index, &nv));
        return nv_read_u64(t, nv.h, ret_value);
}

int
mkd_tpm_counter_increment(struct mkd_tpm *t, uint32_t nv_index, uint64_t *ret_new_value)
{
        _tpm_close_ struct tpm_tr nv = TPM_TR(t);

        if (!ret_new_value)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(counter_open(t, nv_index, &nv));
        MLS_TRY(nv_increment(t, nv.h));
        return nv_read_u64(t, nv.h, ret_new_value);
}

int
mkd_tpm_counter_undefine(struct mkd_tpm *t, uint32_t nv_index)
{
        _tpm_close_ struct tpm_tr nv = TPM_TR(t);
        TSS2_RC rc;

        MLS_TRY(counter_open(t, nv_index, &nv));
        rc = Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, nv.h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, "TPM2_NV_UndefineSpace", rc);
        /* ESYS dropped its object for the index with it. */
        nv.h = ESYS_TR_NONE;
        return 0;
}

/* ---- signature keys ---- */

/* R-5.1.1-1: ECDSA P-256 signature public keys are uncompressed points,
 * 0x04 || X || Y with X and Y left-padded to 32 bytes (SEC1 2.3.3). */
static MLS_MUST_CHECK int
ecc_point_encode(const TPMS_ECC_POINT *pt, struct mls_bytes *ret)
{
        uint8_t buf[MKD_TPM_P256_PUB_LEN] = { 0x04 };

        if (pt->x.size == 0 || pt->x.size > 32 || pt->y.size == 0 || pt->y.size > 32)
                return MLS_E_BAD_KEY;
        memcpy(buf + 1 + (32 - pt->x.size), pt->x.buffer, pt->x.size);
        memcpy(buf + 33 + (32 - pt->y.size), pt->y.buffer, pt->y.size);
        return mls_bytes_copy(ret, buf, sizeof(buf));
}

int
mkd_tpm_sign_key_create(struct mkd_tpm *t, struct mls_bytes *ret_key_blob,
                        struct mls_bytes *ret_public_key)
{
        _tpm_flush_ struct tpm_tr srk = TPM_TR(t);
        _esys_free_ TPM2B_PRIVATE *out_priv = NULL;
        _esys_free_ TPM2B_PUBLIC *out_pub = NULL;
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_bytes pubkey = { 0 };
        TPM2B_SENSITIVE_CREATE sens = { 0 };
        TPM2B_PUBLIC tmpl = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION creation_pcr = { 0 };
        TPMS_ECC_PARMS *e = &tmpl.publicArea.parameters.eccDetail;
        TSS2_RC rc;
        int r;

        mls_writer_init(&w);
        MLS_TRY(tpm_begin(t));
        if (!ret_key_blob || !ret_public_key)
                return MLS_E_INVALID_ARGUMENT;
        tmpl.publicArea.type = TPM2_ALG_ECC;
        tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
        /* noDA: with an empty auth value there is nothing to guess, and
         * the key stays usable while the TPM is in DA lockout because of
         * another application. */
        tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                           TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                           TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                                           TPMA_OBJECT_SIGN_ENCRYPT;
        e->symmetric.algorithm = TPM2_ALG_NULL;
        e->scheme.scheme = TPM2_ALG_ECDSA;
        e->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        e->curveID = TPM2_ECC_NIST_P256;
        e->kdf.scheme = TPM2_ALG_NULL;

        MLS_TRY(srk_create(t, &srk));
        rc = Esys_Create(t->esys, srk.h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
                         &tmpl, &outside, &creation_pcr, &out_priv, &out_pub, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, "TPM2_Create(ECDSA P-256 key)", rc);

        MLS_TRY(blob_write_head(&w, BLOB_KIND_SIGN_KEY, out_pub, out_priv));
        MLS_TRY(ecc_point_encode(&out_pub->publicArea.unique.ecc, &pubkey));
        r = mls_writer_finish(&w, ret_key_blob);
        if (r < 0) {
                mls_bytes_clear(&pubkey);
                return r;
        }
        *ret_public_key = pubkey;
        return 0;
}

int
mkd_tpm_sign_key_public(const uint8_t *key_blob, size_t len, struct mls_bytes *ret_public_key)
{
        struct tpm_blob b;

        if (!ret_public_key)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(blob_parse(key_blob, len, BLOB_KIND_SIGN_KEY, &b));
        MLS_TRY(blob_check_sign_key(&b));
        return ecc_point_encode(&b.pub.publicArea.unique.ecc, ret_public_key);
}

/* DER INTEGER (X.690 8.3): minimal two's complement, so leading zero
 * octets are dropped and one 0x00 is prepended when the top bit is set. */
static MLS_MUST_CHECK int
der_integer(struct mls_writer *w, const uint8_t *p, size_t n)
{
        /* n >= 1 (checked by the caller); a zero value keeps one octet. */
        while (n > 1 && p[0] == 0) {
                p++;
                n--;
        }
        MLS_TRY(mls_writer_u8(w, 0x02));
        MLS_TRY(mls_writer_u8(w, (uint8_t)(n + (p[0] & 0x80 ? 1 : 0))));
        if (p[0] & 0x80)
                MLS_TRY(mls_writer_u8(w, 0x00));
        return mls_writer_raw(w, p, n);
}

/* R-5.1.2-2: RFC 9420 5.1.2 "ECDSA signatures are DER-encoded":
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 2.2.3);
 * with r, s <= 32 bytes the lengths fit the short form (< 128). */
int
mkd_tpm_ecdsa_sig_der(const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len,
                      struct mls_bytes *ret_sig)
{
        _mls_writer_ struct mls_writer body = { 0 };
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_bytes b = { 0 };

        mls_writer_init(&body);
        mls_writer_init(&w);
        if (!r || !s || !ret_sig || r_len == 0 || r_len > 32 || s_len == 0 || s_len > 32)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(der_integer(&body, r, r_len));
        MLS_TRY(der_integer(&body, s, s_len));
        MLS_TRY(mls_writer_u8(&w, 0x30));
        MLS_TRY(mls_writer_u8(&w, (uint8_t)body.len));
        MLS_TRY(mls_writer_raw(&w, body.buf, body.len));
        MLS_TRY(mls_writer_finish(&w, &b));
        *ret_sig = b;
        return 0;
}

int
mkd_tpm_sign(struct mkd_tpm *t, const uint8_t *key_blob, size_t len,
             const uint8_t digest[MKD_TPM_DIGEST_LEN], struct mls_bytes *ret_sig)
{
        _tpm_flush_ struct tpm_tr srk = TPM_TR(t);
        _tpm_flush_ struct tpm_tr key = TPM_TR(t);
        _esys_free_ TPMT_SIGNATURE *sig = NULL;
        TPM2B_DIGEST dg = { .size = MKD_TPM_DIGEST_LEN };
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_ECDSA };
        /* A NULL ticket: the key is not restricted, so the TPM signs a
         * digest it did not compute itself. */
        TPMT_TK_HASHCHECK ticket = { .tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL };
        struct tpm_blob b;
        TSS2_RC rc;

        MLS_TRY(tpm_begin(t));
        if (!digest || !ret_sig)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(blob_parse(key_blob, len, BLOB_KIND_SIGN_KEY, &b));
        MLS_TRY(blob_check_sign_key(&b));
        scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        memcpy(dg.buffer, digest, MKD_TPM_DIGEST_LEN);

        MLS_TRY(srk_create(t, &srk));
        rc = Esys_Load(t->esys, srk.h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &b.priv,
                       &b.pub, &key.h);
        if (rc != TSS2_RC_SUCCESS) {
                key.h = ESYS_TR_NONE;
                return tpm_fail(t, "TPM2_Load(signature key; made by another TPM or owner?)", rc);
        }
        rc = Esys_Sign(t->esys, key.h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &dg, &scheme,
                       &ticket, &sig);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, "TPM2_Sign", rc);
        if (sig->sigAlg != TPM2_ALG_ECDSA || sig->signature.ecdsa.hash != TPM2_ALG_SHA256) {
                tpm_why(t, "TPM2_Sign: unexpected signature scheme 0x%x", (unsigned)sig->sigAlg);
                return MLS_E_TPM;
        }
        if (mkd_tpm_ecdsa_sig_der(sig->signature.ecdsa.signatureR.buffer,
                                  sig->signature.ecdsa.signatureR.size,
                                  sig->signature.ecdsa.signatureS.buffer,
                                  sig->signature.ecdsa.signatureS.size, ret_sig) < 0) {
                tpm_why(t, "TPM2_Sign: malformed signature");
                return MLS_E_TPM;
        }
        return 0;
}

int
mkd_tpm_sign_message(struct mkd_tpm *t, const uint8_t *key_blob, size_t len, const uint8_t *msg,
                     size_t msg_len, struct mls_bytes *ret_sig)
{
        uint8_t digest[MKD_TPM_DIGEST_LEN];

        if (!msg && msg_len)
                return MLS_E_INVALID_ARGUMENT;
        crypto_hash_sha256(digest, msg ? msg : (const uint8_t *)"", msg_len);
        return mkd_tpm_sign(t, key_blob, len, digest, ret_sig);
}

/* ---- randomness ---- */

int
mkd_tpm_get_random(struct mkd_tpm *t, uint8_t *buf, size_t len)
{
        size_t done = 0;

        MLS_TRY(tpm_begin(t));
        if (!buf && len)
                return MLS_E_INVALID_ARGUMENT;
        while (done < len) {
                _mls_cleanup_(esys_free_digest_wiped) TPM2B_DIGEST *rnd = NULL;
                size_t want = len - done < RANDOM_CHUNK ? len - done : RANDOM_CHUNK;
                TSS2_RC rc;

                rc = Esys_GetRandom(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    (UINT16)want, &rnd);
                if (rc != TSS2_RC_SUCCESS || rnd->size == 0 || rnd->size > want) {
                        sodium_memzero(buf, len);
                        if (rc != TSS2_RC_SUCCESS)
                                return tpm_fail(t, "TPM2_GetRandom", rc);
                        tpm_why(t, "TPM2_GetRandom: %u bytes for %zu requested",
                                (unsigned)rnd->size, want);
                        return MLS_E_TPM;
                }
                memcpy(buf + done, rnd->buffer, rnd->size);
                done += rnd->size;
        }
        return 0;
}

/* ---- handle census ---- */

/* Number of handles of type ht (TPM2_HT_*), following moreData. */
static MLS_MUST_CHECK int
count_handles(struct mkd_tpm *t, TPM2_HT ht, uint32_t *ret)
{
        uint32_t prop = (uint32_t)ht << TPM2_HR_SHIFT;
        uint32_t n = 0, last;

        for (;;) {
                _esys_free_ TPMS_CAPABILITY_DATA *cap = NULL;
                TPMI_YES_NO more = TPM2_NO;
                const TPML_HANDLE *hl;
                TSS2_RC rc;

                rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_HANDLES, prop, TPM2_MAX_CAP_HANDLES, &more, &cap);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, "TPM2_GetCapability(handles)", rc);
                if (cap->capability != TPM2_CAP_HANDLES) {
                        tpm_why(t, "TPM2_GetCapability: wrong capability in the response");
                        return MLS_E_TPM;
                }
                hl = &cap->data.handles;
                if (hl->count > TPM2_MAX_CAP_HANDLES) {
                        tpm_why(t, "TPM2_GetCapability: malformed handle list");
                        return MLS_E_TPM;
                }
                n += hl->count;
                if (more != TPM2_YES || hl->count == 0)
                        break;
                /* The next query starts after the last handle returned,
                 * within the same type (loaded sessions are listed with
                 * HMAC 0x02 and policy 0x03 handles alike). */
                last = hl->handle[hl->count - 1] & 0x00ffffffu;
                if (last == 0x00ffffffu)
                        break;
                prop = ((uint32_t)ht << TPM2_HR_SHIFT) | (last + 1);
        }
        *ret = n;
        return 0;
}

int
mkd_tpm_handle_counts(struct mkd_tpm *t, struct mkd_tpm_handles *ret)
{
        struct mkd_tpm_handles h = { 0 };

        MLS_TRY(tpm_begin(t));
        if (!ret)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(count_handles(t, TPM2_HT_TRANSIENT, &h.transient));
        MLS_TRY(count_handles(t, TPM2_HT_LOADED_SESSION, &h.loaded_sessions));
        MLS_TRY(count_handles(t, TPM2_HT_SAVED_SESSION, &h.saved_sessions));
        MLS_TRY(count_handles(t, TPM2_HT_PERSISTENT, &h.persistent));
        MLS_TRY(count_handles(t, TPM2_HT_NV_INDEX, &h.nv_indices));
        *ret = h;
        return 0;
}
