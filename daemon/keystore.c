/* SPDX-License-Identifier: Apache-2.0 */
/* The storage key's home: key file or TPM seal (contracts: keystore.h). */
#include "config.h"

#include "daemon/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "daemon/fileio.h"
#include "daemon/log.h"
#include "mls/codec.h"
#ifdef HAVE_TPM
#include "daemon/tpm.h"
#endif

#define RECOVERY_MAGIC "MKDRECOV"
#define RECOVERY_MAGIC_LEN 8
#define RECOVERY_FORMAT 1
#define RECOVERY_AD_LEN (RECOVERY_MAGIC_LEN + 2)
/* What the TPM seals and the recovery blob wraps:
 *   struct { uint8 format = 1; opaque storage_key[32];
 *            uint32 nv_index; uint64 counter_base; } KeyRecord;
 * nv_index: the rollback counter of this state directory (0: none);
 * counter_base: its value when it was defined (see mkd_keystore_info). */
#define RECORD_FORMAT 1
#define RECORD_LEN (1 + MKD_SEAL_KEY_LEN + 4 + 8)
#define RECOVERY_BLOB_LEN                                                                   \
        (RECOVERY_AD_LEN + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + RECORD_LEN +       \
         crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define TPM_BLOB_MAX 4096

void
mkd_tpm_config_from_policy(const struct mkd_policy *p, struct mkd_tpm_config *ret)
{
        *ret = (struct mkd_tpm_config){
                .mode = p->tpm_mode,
                .tcti = p->tpm_tcti,
                .pcr_bank = p->pcr_bank,
                .pcr_mask = p->pcr_mask,
        };
}

#ifdef HAVE_TPM
/* ---- key record ---- */

struct key_record {
        struct mkd_seal_key *key;
        uint32_t nv_index;
        uint64_t counter_base;
};

static void
record_clear(struct key_record *kr)
{
        mkd_seal_key_free(kr->key);
        *kr = (struct key_record){ 0 };
}
#define _key_record_ _mls_cleanup_(record_clear)

static int
record_encode(const struct key_record *kr, struct mls_secret **ret)
{
        _mls_secret_ struct mls_secret *k = NULL;
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init_secure(&w);
        MLS_TRY(mkd_seal_key_export(kr->key, &k));
        MLS_TRY(mls_writer_u8(&w, RECORD_FORMAT));
        MLS_TRY(mls_writer_raw(&w, k->data, k->len));
        MLS_TRY(mls_writer_u32(&w, kr->nv_index));
        MLS_TRY(mls_writer_u64(&w, kr->counter_base));
        return mls_writer_finish_secret(&w, ret);
}

int
mkd_key_record_parse(const uint8_t *p, size_t len, uint32_t *ret_nv_index,
                     uint64_t *ret_counter_base, const uint8_t **ret_key)
{
        struct mls_reader r;
        const uint8_t *key;
        uint32_t nv;
        uint64_t base;
        uint8_t fmt;

        mls_reader_init(&r, p, len);
        MLS_TRY(mls_reader_u8(&r, &fmt));
        if (fmt != RECORD_FORMAT)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_raw(&r, MKD_SEAL_KEY_LEN, &key));
        MLS_TRY(mls_reader_u32(&r, &nv));
        MLS_TRY(mls_reader_u64(&r, &base));
        MLS_TRY(mls_reader_done(&r));
        *ret_nv_index = nv;
        *ret_counter_base = base;
        *ret_key = key;
        return 0;
}

static int
record_decode(const struct mls_secret *s, struct key_record *ret)
{
        _mls_secret_ struct mls_secret *k = NULL;
        struct key_record kr = { 0 };
        const uint8_t *key;
        int r = mkd_key_record_parse(s->data, s->len, &kr.nv_index, &kr.counter_base, &key);

        if (r < 0)
                return MLS_E_BAD_STATE; /* another format, short or long */
        MLS_TRY(mls_secret_from(key, MKD_SEAL_KEY_LEN, &k));
        MLS_TRY(mkd_seal_key_from_secret(k, &kr.key));
        *ret = kr;
        return 0;
}

/* ---- recovery blob ---- */

static int
recovery_wrap(const struct key_record *kr, const struct mls_rng *rng,
              const uint8_t r[MKD_RECOVERY_KEY_LEN], uint8_t out[RECOVERY_BLOB_LEN])
{
        _mls_secret_ struct mls_secret *rec = NULL;
        uint8_t *nonce = out + RECOVERY_AD_LEN;

        memcpy(out, RECOVERY_MAGIC, RECOVERY_MAGIC_LEN);
        out[RECOVERY_MAGIC_LEN] = RECOVERY_FORMAT >> 8;
        out[RECOVERY_MAGIC_LEN + 1] = RECOVERY_FORMAT & 0xff;
        MLS_TRY(mls_rng_fill(rng, nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES));
        MLS_TRY(record_encode(kr, &rec));
        if (crypto_aead_xchacha20poly1305_ietf_encrypt(
                    nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, rec->data,
                    rec->len, out, RECOVERY_AD_LEN, NULL, nonce, r) != 0)
                return MLS_E_CRYPTO;
        return 0;
}

static int
recovery_unwrap(const uint8_t *blob, size_t len, const uint8_t r[MKD_RECOVERY_KEY_LEN],
                struct key_record *ret)
{
        _mls_secret_ struct mls_secret *rec = NULL;
        const uint8_t *magic, *nonce, *ct;
        struct mls_reader rd;
        uint16_t format;

        /* RecoveryBlob (keystore.h): magic, format, nonce, ciphertext. */
        mls_reader_init(&rd, blob, len);
        MLS_TRY(mls_reader_raw(&rd, RECOVERY_MAGIC_LEN, &magic));
        if (memcmp(magic, RECOVERY_MAGIC, RECOVERY_MAGIC_LEN) != 0)
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_u16(&rd, &format));
        if (format != RECOVERY_FORMAT)
                return MLS_E_UNSUPPORTED;
        MLS_TRY(mls_reader_raw(&rd, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &nonce));
        MLS_TRY(mls_reader_raw(&rd, RECORD_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES, &ct));
        MLS_TRY(mls_reader_done(&rd));
        MLS_TRY(mls_secret_new(RECORD_LEN, &rec));
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                    rec->data, NULL, NULL, ct, RECORD_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES,
                    blob, RECOVERY_AD_LEN, nonce, r) != 0)
                return MLS_E_DECRYPT;
        return record_decode(rec, ret);
}

#endif /* HAVE_TPM */

int
mkd_recovery_key_parse(const char *text, size_t len, uint8_t key[MKD_RECOVERY_KEY_LEN])
{
        size_t bin_len = 0;
        const char *end = NULL;

        while (len && (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')) {
                text++;
                len--;
        }
        while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' ||
                       text[len - 1] == '\r'))
                len--;
        if (len != MKD_RECOVERY_HEX_LEN)
                return MLS_E_INVALID_ARGUMENT;
        if (sodium_hex2bin(key, MKD_RECOVERY_KEY_LEN, text, len, NULL, &bin_len, &end) != 0 ||
            bin_len != MKD_RECOVERY_KEY_LEN || end != text + len) {
                sodium_memzero(key, MKD_RECOVERY_KEY_LEN);
                return MLS_E_INVALID_ARGUMENT;
        }
        return 0;
}

/* What storage.tpm (blob) says without unsealing: sealed, and to which
 * PCRs. The blob's errors. */
static int
info_from_blob(struct mkd_keystore_info *info, const struct mls_bytes *blob)
{
        info->sealed = true;
#ifdef HAVE_TPM
        {
                struct mkd_tpm_pcrs sel = { 0 };

                MLS_TRY(mkd_tpm_blob_pcrs(blob->data, blob->len, &info->pcr_bound, &sel));
                if (info->pcr_bound) {
                        info->pcr_bank = sel.bank;
                        info->pcr_mask = sel.mask;
                }
        }
#else
        (void)blob;
#endif
        return 0;
}

/* info->recovery: whether storage.recovery exists (it is read only to
 * recover). */
static int
info_recovery(int dirfd, struct mkd_keystore_info *info)
{
        struct stat st;

        if (fstatat(dirfd, MKD_KEYSTORE_RECOVERY_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                info->recovery = S_ISREG(st.st_mode);
                return 0;
        }
        if (errno == ENOENT)
                return 0;
        mkd_log_err("%s: %s", MKD_KEYSTORE_RECOVERY_FILE, strerror(errno));
        return MLS_E_STORAGE;
}

/* Reads storage.tpm into *blob (MLS_E_NOT_FOUND if there is none) and
 * fills info from it and from the recovery file's presence. */
static int
info_read(int dirfd, struct mkd_keystore_info *info, struct mls_bytes *blob)
{
        int r;

        memset(info, 0, sizeof(*info));
        MLS_TRY(info_recovery(dirfd, info));
        r = mkd_file_read(dirfd, MKD_KEYSTORE_TPM_FILE, TPM_BLOB_MAX, blob);
        if (r == 0)
                r = info_from_blob(info, blob);
        return r;
}

int
mkd_keystore_inspect(int dirfd, struct mkd_keystore_info *info)
{
        struct mls_bytes b = { 0 };
        int r = info_read(dirfd, info, &b);

        mls_bytes_clear(&b);
        return r == MLS_E_NOT_FOUND ? 0 : r;
}

#ifdef HAVE_TPM

void
mkd_keystore_tpm_close(struct mkd_tpm *t)
{
        mkd_tpm_close(t);
}

static int
tpm_open(const struct mkd_tpm_config *cfg, struct mkd_tpm **ret, char *why, size_t why_len)
{
        char w[MKD_TPM_WHY_MAX] = "";
        int r = mkd_tpm_open(cfg->tcti, ret, w);

        if (r < 0)
                snprintf(why, why_len, "%s", w[0] ? w : mls_err_text(r));
        return r;
}

static bool
cfg_pcrs(const struct mkd_tpm_config *cfg, struct mkd_tpm_pcrs *ret)
{
        if (cfg->pcr_bank == MKD_PCR_BANK_NONE || cfg->pcr_mask == 0)
                return false;
        *ret = (struct mkd_tpm_pcrs){ .bank = cfg->pcr_bank, .mask = cfg->pcr_mask };
        return true;
}

/* A fresh rollback counter for this state directory: the first index
 * from MKD_TPM_NV_COUNTER_DEFAULT up that we could create (an existing one
 * belongs to another state directory or program). */
/* Undefines a counter this run defined, after a later step failed (each
 * left-over index would take one of the 64 for good). */
static void
counter_release(struct mkd_tpm *t, uint32_t idx)
{
        if (mkd_tpm_counter_undefine(t, idx) < 0)
                mkd_log_warning("rollback counter 0x%08x: cannot undefine it after the failure: "
                                "%s",
                                (unsigned)idx, mkd_tpm_last_error(t));
}

static int
counter_create(struct mkd_tpm *t, uint32_t *ret_index, uint64_t *ret_base)
{
        for (uint32_t idx = MKD_TPM_NV_COUNTER_DEFAULT;
             idx < MKD_TPM_NV_COUNTER_DEFAULT + 64 && idx <= MKD_TPM_NV_OWNER_LAST; idx++) {
                bool created = false;
                int r = mkd_tpm_counter_define(t, idx, 0, &created);

                if (r == MLS_E_BAD_STATE || (r == 0 && !created))
                        continue;
                if (r < 0) {
                        mkd_log_err("defining the rollback counter 0x%08x: %s", (unsigned)idx,
                                    mkd_tpm_last_error(t));
                        return r;
                }
                r = mkd_tpm_counter_read(t, idx, ret_base);
                if (r < 0) {
                        counter_release(t, idx);
                        return r;
                }
                *ret_index = idx;
                mkd_log_info("rollback counter: TPM NV index 0x%08x (starts at %llu)",
                             (unsigned)idx, (unsigned long long)*ret_base);
                return 0;
        }
        mkd_log_err("no free NV index for the rollback counter from 0x%08x",
                    (unsigned)MKD_TPM_NV_COUNTER_DEFAULT);
        return MLS_E_TPM;
}

/* Seals the key record to the TPM per cfg and writes storage.tpm; the
 * blob written to *ret_blob if not NULL. */
static int
seal_to_tpm(int dirfd, struct mkd_tpm *t, const struct mkd_tpm_config *cfg,
            const struct key_record *kr, struct mls_bytes *ret_blob)
{
        _mls_secret_ struct mls_secret *rec = NULL;
        struct mls_bytes blob = { 0 };
        struct mkd_tpm_pcrs sel;
        bool bound = cfg_pcrs(cfg, &sel);
        int r;

        MLS_TRY(record_encode(kr, &rec));
        r = mkd_tpm_seal(t, bound ? &sel : NULL, rec, &blob);
        if (r < 0) {
                mkd_log_err("sealing the storage key to the TPM failed: %s", mkd_tpm_last_error(t));
                return r;
        }
        r = mkd_file_replace(dirfd, MKD_KEYSTORE_TPM_FILE, blob.data, blob.len, 0600);
        if (r == 0 && ret_blob) {
                *ret_blob = blob;
                return 0;
        }
        mls_bytes_clear(&blob);
        return r;
}

/* Unseals storage.tpm (blob); on a policy failure the log names the PCRs
 * and the way out. */
static int
unseal_from_tpm(struct mkd_tpm *t, const struct mls_bytes *blob, struct key_record *ret)
{
        _mls_secret_ struct mls_secret *rec = NULL;
        struct mkd_tpm_pcrs sel = { 0 };
        uint32_t changed = 0;
        bool bound = false;
        char a[MKD_PCRS_TEXT_MAX], c[MKD_PCRS_TEXT_MAX];
        int r;

        r = mkd_tpm_unseal(t, blob->data, blob->len, &rec, &changed);
        if (r == MLS_E_TPM_POLICY) {
                if (mkd_tpm_blob_pcrs(blob->data, blob->len, &bound, &sel) < 0)
                        sel = (struct mkd_tpm_pcrs){ 0 };
                mkd_log_err("%s: the TPM refuses to unseal the storage key: it is sealed to PCRs "
                            "%s and PCR(s) %s changed since (%s). Recovery: stop the daemon "
                            "and run `mlskeyctl tpm recover --recovery-key FILE` with the "
                            "recovery key that `mlskeyctl tpm enroll` printed",
                            MKD_KEYSTORE_TPM_FILE, mkd_pcrs_text(sel.bank, sel.mask, a),
                            changed ? mkd_pcrs_text(sel.bank, changed, c) : "(unknown)",
                            mkd_tpm_last_error(t));
                return r;
        }
        if (r == MLS_E_TPM) {
                mkd_log_err("%s: the TPM cannot unseal the storage key (%s): the key was sealed "
                            "by another TPM, the TPM was cleared, or the file is damaged",
                            MKD_KEYSTORE_TPM_FILE, mkd_tpm_last_error(t));
                return r;
        }
        if (r == 0)
                r = record_decode(rec, ret);
        if (r < 0)
                mkd_log_code(MKD_LOG_ERR, r, "%s: refused", MKD_KEYSTORE_TPM_FILE);
        return r;
}

/* 1 if a and b hold the same key, 0 if not, or the export's error. */
static int
keys_equal(const struct mkd_seal_key *a, const struct mkd_seal_key *b)
{
        _mls_secret_ struct mls_secret *x = NULL, *y = NULL;

        MLS_TRY(mkd_seal_key_export(a, &x));
        MLS_TRY(mkd_seal_key_export(b, &y));
        return mls_secret_eq(x, y) ? 1 : 0;
}

static void
info_counter(struct mkd_keystore_info *info, const struct key_record *kr)
{
        info->nv_index = kr->nv_index;
        info->counter_base = kr->counter_base;
}

/* Start-up with a sealed key (storage.tpm read into blob). */
static int
open_sealed(int dirfd, const struct mkd_tpm_config *cfg, struct mkd_tpm *t,
            const struct mls_bytes *blob, struct mkd_keystore_info *info,
            struct mkd_seal_key **ret_key)
{
        _key_record_ struct key_record kr = { 0 };
        _mkd_seal_key_ struct mkd_seal_key *file_key = NULL;
        int r;

        if (cfg->mode == MKD_TPM_OFF) {
                mkd_log_err("the storage key is sealed to a TPM (%s) but [tpm] mode = off: set "
                            "mode = prefer or require, or move the key back to a file with "
                            "`mlskeyctl tpm unenroll`",
                            MKD_KEYSTORE_TPM_FILE);
                return MLS_E_BAD_CONFIG;
        }
        if (!t) {
                mkd_log_err("the storage key is sealed to a TPM (%s), but no TPM answers at "
                            "\"%s\": %s",
                            MKD_KEYSTORE_TPM_FILE, cfg->tcti, info->why);
                return MLS_E_TPM;
        }
        MLS_TRY(unseal_from_tpm(t, blob, &kr));
        info_counter(info, &kr);
        /* An enroll interrupted after sealing left the key file. */
        r = mkd_seal_key_load(dirfd, &file_key);
        if (r == 0) {
                r = keys_equal(kr.key, file_key);
                if (r < 0)
                        return r;
                if (r == 0) {
                        mkd_log_err("%s and %s hold different keys: refusing to guess",
                                    MKD_SEAL_KEY_FILE, MKD_KEYSTORE_TPM_FILE);
                        return MLS_E_BAD_STATE;
                }
                MLS_TRY(mkd_file_remove(dirfd, MKD_SEAL_KEY_FILE));
                mkd_log_info("%s: removed (the key is sealed to the TPM)", MKD_SEAL_KEY_FILE);
        } else if (r != MLS_E_NOT_FOUND) {
                return r;
        }
        mkd_log_info("storage key unsealed by the TPM");
        *ret_key = MLS_TAKE(kr.key);
        return 0;
}

/* Start-up without a sealed key. */
static int
open_unsealed(int dirfd, const struct mkd_tpm_config *cfg, struct mkd_tpm *t,
              const struct mls_rng *rng, struct mkd_keystore_info *info,
              struct mkd_seal_key **ret_key)
{
        _mkd_seal_key_ struct mkd_seal_key *key = NULL;
        _key_record_ struct key_record kr = { 0 };
        bool created = false;
        int r;

        if (cfg->mode == MKD_TPM_REQUIRE && !t) {
                mkd_log_err("[tpm] mode = require, but no TPM answers at \"%s\": %s", cfg->tcti,
                            info->why);
                return MLS_E_TPM;
        }
        r = mkd_seal_key_load(dirfd, &key);
        if (r == 0) {
                if (cfg->mode == MKD_TPM_REQUIRE) {
                        mkd_log_err("[tpm] mode = require, but the storage key is in a key file "
                                    "(%s): seal it with `mlskeyctl tpm enroll`",
                                    MKD_SEAL_KEY_FILE);
                        return MLS_E_BAD_CONFIG;
                }
                if (cfg->mode == MKD_TPM_PREFER && t)
                        mkd_log_info("the storage key is in a key file (%s); `mlskeyctl tpm "
                                     "enroll` seals it to the TPM",
                                     MKD_SEAL_KEY_FILE);
                else if (cfg->mode == MKD_TPM_PREFER)
                        mkd_log_warning("no TPM (%s): using the key file %s", info->why,
                                        MKD_SEAL_KEY_FILE);
                *ret_key = MLS_TAKE(key);
                return 0;
        }
        if (r != MLS_E_NOT_FOUND)
                return r;
        if (t) {
                struct mls_bytes blob = { 0 };

                /* A fresh state directory: the key goes straight to the
                 * TPM, with a rollback counter of its own. */
                MLS_TRY(mkd_seal_key_new(rng, &kr.key));
                MLS_TRY(counter_create(t, &kr.nv_index, &kr.counter_base));
                r = seal_to_tpm(dirfd, t, cfg, &kr, &blob);
                if (r < 0) {
                        counter_release(t, kr.nv_index);
                        return r;
                }
                r = info_from_blob(info, &blob); /* (our own blob) */
                info_counter(info, &kr);
                mls_bytes_clear(&blob);
                if (r < 0)
                        return r;
                mkd_log_info("created a new storage key sealed to the TPM; `mlskeyctl tpm "
                             "enroll` gives a recovery key");
                *ret_key = MLS_TAKE(kr.key);
                return 0;
        }
        if (cfg->mode == MKD_TPM_PREFER)
                mkd_log_warning("no TPM (%s): the storage key goes to a key file", info->why);
        /* (it logs a key it creates) */
        MLS_TRY(mkd_seal_key_load_or_create(dirfd, rng, &key, &created));
        *ret_key = MLS_TAKE(key);
        return 0;
}

int
mkd_keystore_open(int dirfd, const struct mkd_tpm_config *cfg, const struct mls_rng *rng,
                  struct mkd_seal_key **ret_key, struct mkd_tpm **ret_tpm,
                  struct mkd_keystore_info *info)
{
        struct mkd_seal_key *key = NULL;
        struct mkd_tpm *t = NULL;
        struct mls_bytes blob = { 0 };
        int r;

        r = info_read(dirfd, info, &blob);
        if (r < 0 && r != MLS_E_NOT_FOUND) {
                mkd_log_code(MKD_LOG_ERR, r, "%s: refused", MKD_KEYSTORE_TPM_FILE);
                mls_bytes_clear(&blob);
                return r;
        }
        if (cfg->mode != MKD_TPM_OFF && tpm_open(cfg, &t, info->why, sizeof(info->why)) == 0)
                info->tpm_available = true;
        if (r == 0)
                r = open_sealed(dirfd, cfg, t, &blob, info, &key);
        else
                r = open_unsealed(dirfd, cfg, t, rng, info, &key);
        mls_bytes_clear(&blob);
        if (r < 0) {
                mkd_tpm_close(t);
                return r;
        }
        *ret_key = key;
        *ret_tpm = t;
        return 0;
}

/* The TPM of an administrative command. */
static int
admin_tpm(const struct mkd_tpm_config *cfg, struct mkd_tpm **ret)
{
        char why[256];
        int r = tpm_open(cfg, ret, why, sizeof(why));

        if (r < 0)
                mkd_log_err("no TPM answers at \"%s\": %s", cfg->tcti, why);
        return r;
}

static int
write_recovery(int dirfd, const struct key_record *kr, const struct mls_rng *rng,
               char hex[MKD_RECOVERY_HEX_LEN + 1])
{
        uint8_t rk[MKD_RECOVERY_KEY_LEN], blob[RECOVERY_BLOB_LEN];
        int r;

        r = mls_rng_fill(rng, rk, sizeof(rk));
        if (r == 0)
                r = recovery_wrap(kr, rng, rk, blob);
        if (r == 0)
                r = mkd_file_replace(dirfd, MKD_KEYSTORE_RECOVERY_FILE, blob, sizeof(blob), 0600);
        if (r == 0)
                sodium_bin2hex(hex, MKD_RECOVERY_HEX_LEN + 1, rk, sizeof(rk));
        sodium_memzero(rk, sizeof(rk));
        return r;
}

int
mkd_keystore_enroll(int dirfd, const struct mkd_tpm_config *cfg, const struct mls_rng *rng,
                    char recovery_hex[MKD_RECOVERY_HEX_LEN + 1])
{
        _key_record_ struct key_record kr = { 0 };
        struct mkd_tpm *t = NULL;
        struct mls_bytes blob = { 0 };
        char pcrs[MKD_PCRS_TEXT_MAX];
        bool made_counter = false;
        int r;

        MLS_TRY(admin_tpm(cfg, &t));
        r = mkd_seal_key_load(dirfd, &kr.key);
        if (r == 0) {
                /* From a key file: a new rollback counter, unless an
                 * interrupted enroll sealed this very key already (then
                 * its counter). */
                _key_record_ struct key_record old = { 0 };

                if (mkd_file_read(dirfd, MKD_KEYSTORE_TPM_FILE, TPM_BLOB_MAX, &blob) == 0 &&
                    unseal_from_tpm(t, &blob, &old) == 0 && keys_equal(old.key, kr.key) == 1) {
                        kr.nv_index = old.nv_index;
                        kr.counter_base = old.counter_base;
                } else {
                        r = counter_create(t, &kr.nv_index, &kr.counter_base);
                        made_counter = r == 0;
                }
                mls_bytes_clear(&blob);
        } else if (r == MLS_E_NOT_FOUND) {
                /* Re-seal: the same key and counter. */
                r = mkd_file_read(dirfd, MKD_KEYSTORE_TPM_FILE, TPM_BLOB_MAX, &blob);
                if (r == MLS_E_NOT_FOUND)
                        mkd_log_err("no storage key here (neither %s nor %s): start the daemon "
                                    "once first",
                                    MKD_SEAL_KEY_FILE, MKD_KEYSTORE_TPM_FILE);
                if (r == 0)
                        r = unseal_from_tpm(t, &blob, &kr);
                mls_bytes_clear(&blob);
        }
        if (r == 0) {
                r = seal_to_tpm(dirfd, t, cfg, &kr, NULL);
                /* (once storage.tpm names it, the counter stays) */
                if (r < 0 && made_counter)
                        counter_release(t, kr.nv_index);
        }
        if (r == 0)
                r = write_recovery(dirfd, &kr, rng, recovery_hex);
        if (r == 0)
                r = mkd_file_remove(dirfd, MKD_SEAL_KEY_FILE);
        if (r == 0)
                mkd_log_info("the storage key is sealed to the TPM (PCRs: %s) with a new "
                             "recovery key",
                             mkd_pcrs_text(cfg->pcr_bank, cfg->pcr_mask, pcrs));
        mkd_tpm_close(t);
        return r;
}

int
mkd_keystore_unenroll(int dirfd, const struct mkd_tpm_config *cfg, const uint8_t *recovery)
{
        _key_record_ struct key_record kr = { 0 };
        struct mls_bytes blob = { 0 };
        struct mkd_tpm *t = NULL;
        int r;

        if (recovery) {
                r = mkd_file_read(dirfd, MKD_KEYSTORE_RECOVERY_FILE, RECOVERY_BLOB_LEN, &blob);
                if (r == 0)
                        r = recovery_unwrap(blob.data, blob.len, recovery, &kr);
                if (r == MLS_E_DECRYPT)
                        mkd_log_err("%s: the recovery key does not open it",
                                    MKD_KEYSTORE_RECOVERY_FILE);
        } else {
                r = admin_tpm(cfg, &t);
                if (r == 0)
                        r = mkd_file_read(dirfd, MKD_KEYSTORE_TPM_FILE, TPM_BLOB_MAX, &blob);
                if (r == 0)
                        r = unseal_from_tpm(t, &blob, &kr);
        }
        mls_bytes_clear(&blob);
        if (r == MLS_E_NOT_FOUND)
                mkd_log_err("the storage key is not sealed to a TPM here (no %s)",
                            recovery ? MKD_KEYSTORE_RECOVERY_FILE : MKD_KEYSTORE_TPM_FILE);
        if (r == 0)
                r = mkd_seal_key_store(dirfd, kr.key);
        if (r == 0)
                r = mkd_file_remove(dirfd, MKD_KEYSTORE_TPM_FILE);
        if (r == 0)
                r = mkd_file_remove(dirfd, MKD_KEYSTORE_RECOVERY_FILE);
        /* Without the TPM seal there is no rollback protection: the
         * manifest goes, and the counter is freed when the TPM is here. */
        if (r == 0)
                r = mkd_file_remove(dirfd, "manifest/" MKD_MANIFEST_FILE);
        if (r == 0 && t && kr.nv_index && mkd_tpm_counter_undefine(t, kr.nv_index) < 0)
                mkd_log_warning("the rollback counter 0x%08x could not be freed: %s",
                                (unsigned)kr.nv_index, mkd_tpm_last_error(t));
        if (r == 0)
                mkd_log_info("the storage key is back in the key file %s (set [tpm] mode = off "
                             "or prefer)",
                             MKD_SEAL_KEY_FILE);
        mkd_tpm_close(t);
        return r;
}

int
mkd_keystore_recover(int dirfd, const struct mkd_tpm_config *cfg,
                     const uint8_t recovery[MKD_RECOVERY_KEY_LEN])
{
        _key_record_ struct key_record kr = { 0 };
        struct mls_bytes blob = { 0 };
        struct mkd_tpm *t = NULL;
        char pcrs[MKD_PCRS_TEXT_MAX];
        int r;

        r = mkd_file_read(dirfd, MKD_KEYSTORE_RECOVERY_FILE, RECOVERY_BLOB_LEN, &blob);
        if (r == MLS_E_NOT_FOUND)
                mkd_log_err("no recovery blob (%s) here", MKD_KEYSTORE_RECOVERY_FILE);
        if (r == 0)
                r = recovery_unwrap(blob.data, blob.len, recovery, &kr);
        mls_bytes_clear(&blob);
        if (r == MLS_E_DECRYPT)
                mkd_log_err("%s: the recovery key does not open it", MKD_KEYSTORE_RECOVERY_FILE);
        if (r == 0)
                r = admin_tpm(cfg, &t);
        if (r == 0)
                r = seal_to_tpm(dirfd, t, cfg, &kr, NULL);
        if (r == 0)
                mkd_log_info("the storage key is sealed to the TPM again (PCRs: %s)",
                             mkd_pcrs_text(cfg->pcr_bank, cfg->pcr_mask, pcrs));
        mkd_tpm_close(t);
        return r;
}

#else /* !HAVE_TPM */

void
mkd_keystore_tpm_close(struct mkd_tpm *t)
{
        (void)t;
}

int
mkd_keystore_open(int dirfd, const struct mkd_tpm_config *cfg, const struct mls_rng *rng,
                  struct mkd_seal_key **ret_key, struct mkd_tpm **ret_tpm,
                  struct mkd_keystore_info *info)
{
        bool created = false;
        int r;

        MLS_TRY(mkd_keystore_inspect(dirfd, info));
        snprintf(info->why, sizeof(info->why), "mlskeyd was built without TPM support");
        if (info->sealed) {
                mkd_log_err("the storage key is sealed to a TPM (%s), but %s",
                            MKD_KEYSTORE_TPM_FILE, info->why);
                return MLS_E_TPM;
        }
        if (cfg->mode == MKD_TPM_REQUIRE) {
                mkd_log_err("[tpm] mode = require, but %s", info->why);
                return MLS_E_TPM;
        }
        if (cfg->mode == MKD_TPM_PREFER)
                mkd_log_warning("no TPM (%s): using the key file %s", info->why,
                                MKD_SEAL_KEY_FILE);
        /* (it logs a key it creates) */
        r = mkd_seal_key_load_or_create(dirfd, rng, ret_key, &created);
        if (r == 0)
                *ret_tpm = NULL;
        return r;
}

static int
no_tpm(void)
{
        mkd_log_err("mlskeyd was built without TPM support");
        return MLS_E_TPM;
}

int
mkd_keystore_enroll(int dirfd, const struct mkd_tpm_config *cfg, const struct mls_rng *rng,
                    char recovery_hex[MKD_RECOVERY_HEX_LEN + 1])
{
        (void)dirfd, (void)cfg, (void)rng, (void)recovery_hex;
        return no_tpm();
}

int
mkd_keystore_unenroll(int dirfd, const struct mkd_tpm_config *cfg, const uint8_t *recovery)
{
        (void)dirfd, (void)cfg, (void)recovery;
        return no_tpm();
}

int
mkd_keystore_recover(int dirfd, const struct mkd_tpm_config *cfg,
                     const uint8_t recovery[MKD_RECOVERY_KEY_LEN])
{
        (void)dirfd, (void)cfg, (void)recovery;
        return no_tpm();
}

#endif /* HAVE_TPM */
