/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vault (DESIGN.md section 2): the signature private keys and the
 * storage key. It answers the engine only, one request at a time, through
 * the op table of daemon/proto.h:
 *
 *   identity-create  a fresh signature key pair for an identity; the
 *                    identity object (key + the engine's metadata) is
 *                    sealed here and handed back for storage
 *   identity-load    (loading only) unseals an identity object, keeps the
 *                    key, returns the public key and the metadata
 *   identity-seal    reseals an identity with new metadata
 *   identity-forget  drops a key (the identity was deleted)
 *   sign             SignWithLabel with one of the four RFC labels; the
 *                    vault builds SignContent itself, never signs raw bytes
 *   seal / unseal    key packages and groups only (unseal while loading):
 *                    identity objects never leave the vault in clear
 *
 * Sealed identity object plaintext (never leaves this process):
 *   struct { uint16 cipher_suite; opaque signature_priv<V>;
 *            opaque metadata<V>; } SealedIdentity;
 * and for a TPM-resident key (suite 2 only; the private key never leaves
 * the TPM, the blob is its SRK-wrapped form, daemon/tpm.h):
 *   struct { uint16 marker = 0xffff; uint16 cipher_suite;
 *            opaque tpm_key_blob<V>; opaque metadata<V>; } SealedTpmIdentity;
 *
 * The storage key comes from daemon/keystore (key file or TPM seal); with a
 * TPM, the vault keeps its connection (opened before the sandbox; its file
 * descriptors are the only extra ones the filter allows).
 */
#include "config.h"

#include "daemon/vault.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/ipc.h"
#include "daemon/keystore.h"
#include "daemon/log.h"
#include "daemon/object.h"
#include "daemon/proto.h"
#include "daemon/sandbox.h"
#include "daemon/serve.h"
#include "daemon/seal.h"
#include "mls/crypto.h"
#include "mls/entropy.h"
#include "mls/labeled.h"
#include "mls/signer.h"
#ifdef HAVE_TPM
#include "daemon/tpm.h"
#endif

#define SEALED_IDENTITY_VERSION 1

struct vkey {
        uint8_t id[MKD_OBJ_ID_MAX];
        size_t id_len;
        const struct mls_suite *suite;
        struct mls_secret *priv; /* noaccess between uses; NULL for a TPM key */
        /* priv prepared for signing (mls_crypto_sig_prepare: Ed25519's
         * seed || public key); noaccess between uses; NULL for a TPM key */
        struct mls_secret *signer;
        struct mls_bytes tpm_blob; /* a TPM-resident key (daemon/tpm.h) */
        struct mls_bytes pub;
};

#define SEALED_TPM_MARKER 0xffff

struct vault {
        int fd;
        struct mkd_seal_key *key;
        struct vkey *keys;
        size_t n_keys;
        struct mkd_op_gate gate;
        /* Guarded blocks for the frames and writers of every request. */
        struct mls_gpool *pool;
        /* The TPM (NULL without one) and where the storage key came from. */
        struct mkd_tpm *tpm;
        struct mkd_keystore_info ks;
        /* Rollback protection (see ROLLBACK below). */
        bool rb;
        uint64_t tpm_value;   /* the TPM counter as last read or set */
        uint64_t pending;     /* the highest counter sealed into a manifest */
        bool manifest_seen;
        uint64_t increments;  /* TPM increments made (for the log) */
        /* All randomness of the vault (mls/entropy): getrandom, the TPM's
         * RNG when there is one, hedged with the identities' keys. */
        struct mls_entropy *entropy;
        const struct mls_rng *rng;
        uint64_t hedges;
};

/*
 * ROLLBACK. With a TPM-sealed storage key the state directory has a TPM NV
 * monotonic counter of its own (daemon/keystore.h). The engine ends a
 * write set with a manifest (every object's type, id and version); the
 * vault seals each manifest under a new counter value
 * c = max(pending, tpm) + 1, carried in the sealed header (associated
 * data). The engine writes a manifest with every critical write set (an
 * epoch change, a commit, a join, a sender reservation of SEND_RESERVE
 * generations, identities and KeyPackages: anything whose replay would
 * reuse a key or resurrect an epoch) and, for the receipt of application
 * messages (a replay would only accept that message again), once per
 * MANIFEST_BATCH (64) write sets; in between, those group files are newer
 * than their manifest entries, which loading accepts.
 * The TPM counter is raised to c only AFTER the broker has written the
 * manifest durably (MKD_E_COUNTER_SYNC carries that manifest's c, read
 * from its public header: a later manifest may be sealed already but not
 * yet on disk, so "the latest sealed value" would be wrong), so a crash in
 * between leaves the manifest on disk ahead of the TPM (by the writes in
 * flight; accepted at start, and the TPM is brought up to it), never
 * behind. At start the manifest must carry c >= the TPM's value: an older
 * copy of the state directory (whose newest manifest predates the last
 * increment) is refused as a rollback, and the engine refuses any object
 * older than its manifest entry or missing from it. A missing manifest
 * while the counter has moved since it was defined is a rollback too.
 * Wear: an Encrypt stream writes once per SEND_RESERVE (128) messages, so
 * it increments once per 128 messages; a Process stream once per 64
 * messages; commits once each. Window: a copy taken between two
 * increments (at most 64 received messages apart) is not told apart from
 * the newest state: it can replay those received messages once, never
 * reuse a key or resurrect an epoch.
 */

static void
vkey_clear(struct vkey *k)
{
        mls_secret_free(k->priv); /* sodium_free opens a noaccess region itself */
        mls_secret_free(k->signer);
        mls_bytes_clear(&k->tpm_blob);
        mls_bytes_clear(&k->pub);
        memset(k, 0, sizeof(*k));
}

static struct vkey *
vkey_find(struct vault *v, const uint8_t *id, size_t len)
{
        for (size_t i = 0; i < v->n_keys; i++)
                if (v->keys[i].id_len == len && memcmp(v->keys[i].id, id, len) == 0)
                        return &v->keys[i];
        return NULL;
}

static void
vkey_lock(struct vkey *k)
{
        if (k->priv)
                (void)sodium_mprotect_noaccess(k->priv->data);
}

static void
vkey_unlock(struct vkey *k)
{
        if (k->priv)
                (void)sodium_mprotect_readonly(k->priv->data);
}

/* Signs msg (raw, the caller has built or checked it) with k's prepared
 * software key, readable only for the call. */
static int
vkey_sign_raw(const struct vkey *k, const uint8_t *msg, size_t len, struct mls_bytes *ret_sig)
{
        int r;

        (void)sodium_mprotect_readonly(k->signer->data);
        r = mls_crypto_sign_prepared(k->suite, k->signer, msg, len, ret_sig);
        (void)sodium_mprotect_noaccess(k->signer->data);
        return r;
}

/* Takes ownership of priv (NULL for a TPM key), tpm_blob (may be NULL)
 * and pub. */
static int
vkey_add(struct vault *v, const uint8_t *id, size_t id_len, const struct mls_suite *s,
         struct mls_secret **priv, struct mls_bytes *tpm_blob, struct mls_bytes *pub)
{
        struct vkey *k = vkey_find(v, id, id_len), *nk;
        _mls_secret_ struct mls_secret *signer = NULL;

        if (priv && *priv) {
                MLS_TRY(mls_crypto_sig_prepare(s, *priv, &signer));
                (void)sodium_mprotect_noaccess(signer->data);
        }
        if (!k) {
                nk = realloc(v->keys, (v->n_keys + 1) * sizeof(*nk));
                if (!nk)
                        return MLS_E_NOMEM;
                v->keys = nk;
                k = &v->keys[v->n_keys++];
                memset(k, 0, sizeof(*k));
        } else {
                vkey_clear(k);
        }
        memcpy(k->id, id, id_len);
        k->id_len = id_len;
        k->suite = s;
        k->priv = priv ? MLS_TAKE(*priv) : NULL;
        k->signer = MLS_TAKE(signer);
        if (tpm_blob) {
                k->tpm_blob = *tpm_blob;
                *tpm_blob = (struct mls_bytes){ 0 };
        }
        k->pub = *pub;
        *pub = (struct mls_bytes){ 0 };
        vkey_lock(k);
        return 0;
}

static void
vkey_remove(struct vault *v, struct vkey *k)
{
        size_t i = (size_t)(k - v->keys);

        vkey_clear(k);
        v->keys[i] = v->keys[v->n_keys - 1];
        v->n_keys--;
}

/* Seals {suite, priv, metadata} as identity (id, version). */
static int
seal_identity(struct vault *v, struct vkey *k, uint64_t version, const uint8_t *md, size_t md_len,
              struct mls_bytes *ret_blob)
{
        _mls_writer_ struct mls_writer w = { 0 };
        _mls_secret_ struct mls_secret *pt = NULL;
        int r;

        mls_writer_init_secure(&w);
        if (!k->priv) {
                MLS_TRY(mls_writer_u16(&w, SEALED_TPM_MARKER));
                MLS_TRY(mls_writer_u16(&w, k->suite->id));
                MLS_TRY(mls_writer_opaque(&w, k->tpm_blob.data, k->tpm_blob.len));
        } else {
                MLS_TRY(mls_writer_u16(&w, k->suite->id));
                vkey_unlock(k);
                r = mls_writer_opaque(&w, k->priv->data, k->priv->len);
                vkey_lock(k);
                MLS_TRY(r);
        }
        MLS_TRY(mls_writer_opaque(&w, md, md_len));
        MLS_TRY(mls_writer_finish_secret(&w, &pt));
        return mkd_seal(v->key, v->rng, MKD_OBJ_IDENTITY, k->id, k->id_len, version, pt,
                        ret_blob);
}

static bool
type_sealable(uint64_t t)
{
        return t == MKD_OBJ_KEYPACKAGE || t == MKD_OBJ_GROUP;
}

static void rollback_refuse(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void hedge_pool(struct vault *v, const struct vkey *k);

/* ---- TPM-resident keys ---- */

#ifdef HAVE_TPM
static int
tpm_key_create(struct vault *v, const struct mls_suite *s, struct mls_bytes *ret_blob,
               struct mls_bytes *ret_pub)
{
        int r;

        if (s->id != MLS_SUITE_P256_AES128GCM_SHA256_P256)
                return MLS_E_UNSUPPORTED;
        if (!v->tpm) {
                mkd_log_warning("a TPM-resident key was asked for, but there is no TPM (%s)",
                                v->ks.why);
                return MLS_E_TPM;
        }
        r = mkd_tpm_sign_key_create(v->tpm, ret_blob, ret_pub);
        if (r < 0)
                mkd_log_code(MKD_LOG_ERR, r, "creating a TPM key: %s",
                             mkd_tpm_last_error(v->tpm));
        return r;
}

/* SignWithLabel by the TPM: the vault builds SignContent, the TPM signs
 * SHA-256(SignContent) (RFC 9420 section 5.1.2). */
static int
tpm_sign(struct vault *v, const struct vkey *k, const char *label, const uint8_t *content,
         size_t len, struct mls_bytes *ret_sig)
{
        struct mls_bytes sc = { 0 };
        int r;

        if (!v->tpm)
                return MLS_E_TPM;
        MLS_TRY(mls_sign_content_build(label, content, len, &sc));
        r = mkd_tpm_sign_message(v->tpm, k->tpm_blob.data, k->tpm_blob.len, sc.data, sc.len,
                                 ret_sig);
        mls_bytes_clear(&sc);
        if (r < 0)
                mkd_log_code(MKD_LOG_ERR, r, "TPM signature: %s", mkd_tpm_last_error(v->tpm));
        return r;
}

static int
tpm_key_public(const struct mls_bytes *blob, struct mls_bytes *ret_pub)
{
        return mkd_tpm_sign_key_public(blob->data, blob->len, ret_pub);
}
#else
static int
tpm_key_create(struct vault *v, const struct mls_suite *s, struct mls_bytes *ret_blob,
               struct mls_bytes *ret_pub)
{
        (void)v, (void)ret_blob, (void)ret_pub;
        return s->id != MLS_SUITE_P256_AES128GCM_SHA256_P256 ? MLS_E_UNSUPPORTED : MLS_E_TPM;
}

static int
tpm_sign(struct vault *v, const struct vkey *k, const char *label, const uint8_t *content,
         size_t len, struct mls_bytes *ret_sig)
{
        (void)v, (void)k, (void)label, (void)content, (void)len, (void)ret_sig;
        return MLS_E_TPM;
}

static int
tpm_key_public(const struct mls_bytes *blob, struct mls_bytes *ret_pub)
{
        (void)blob, (void)ret_pub;
        return MLS_E_TPM;
}
#endif

/* ---- handlers: decode args a[], encode the result into res ---- */

static int
h_identity_create(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        const struct mls_suite *s = mls_suite_get((uint16_t)a[MKD_VC_SUITE].u);
        _mls_secret_ struct mls_secret *priv = NULL;
        struct mls_bytes pub = { 0 }, blob = { 0 }, tpm_blob = { 0 };
        struct mkd_val out[2];
        struct vkey *k;
        int r;

        if (!s)
                return MLS_E_UNSUPPORTED;
        if (!mkd_obj_id_valid(a[MKD_VC_ID].len) || vkey_find(v, a[MKD_VC_ID].p, a[MKD_VC_ID].len))
                return MLS_E_INVALID_ARGUMENT;
        if (a[MKD_VC_TPM].u) {
                r = tpm_key_create(v, s, &tpm_blob, &pub);
                if (r == 0)
                        r = vkey_add(v, a[MKD_VC_ID].p, a[MKD_VC_ID].len, s, NULL, &tpm_blob,
                                     &pub);
                mls_bytes_clear(&tpm_blob);
        } else {
                MLS_TRY(mls_crypto_sig_keygen(s, v->rng, &priv, &pub));
                r = vkey_add(v, a[MKD_VC_ID].p, a[MKD_VC_ID].len, s, &priv, NULL, &pub);
        }
        mls_bytes_clear(&pub);
        MLS_TRY(r);
        k = vkey_find(v, a[MKD_VC_ID].p, a[MKD_VC_ID].len);
        hedge_pool(v, k);
        r = seal_identity(v, k, 1, a[MKD_VC_METADATA].p, a[MKD_VC_METADATA].len, &blob);
        if (r < 0) {
                vkey_remove(v, k);
                return r;
        }
        out[MKD_VCR_PUB] = mkd_val_bytes(k->pub.data, k->pub.len);
        out[MKD_VCR_BLOB] = mkd_val_bytes(blob.data, blob.len);
        r = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_IDENTITY_CREATE)->result, out);
        mls_bytes_clear(&blob);
        return r;
}

static int
h_identity_load(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        _mls_secret_ struct mls_secret *pt = NULL, *priv = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pub = { 0 }, check = { 0 },
                                                        tpm_blob = { 0 };
        const struct mls_suite *s;
        struct mls_reader r, sub;
        const uint8_t *md;
        size_t md_len;
        uint16_t suite;
        struct mkd_val out[3];
        int e;

        if (!mkd_obj_id_valid(a[MKD_VL_ID].len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mkd_unseal(v->key, a[MKD_VL_BLOB].p, a[MKD_VL_BLOB].len, MKD_OBJ_IDENTITY,
                           a[MKD_VL_ID].p, a[MKD_VL_ID].len, a[MKD_VL_VERSION].u, &pt));
        mls_reader_init(&r, pt->data, pt->len);
        MLS_TRY(mls_reader_u16(&r, &suite));
        if (suite == SEALED_TPM_MARKER) {
                const uint8_t *kb;
                size_t kb_len;

                MLS_TRY(mls_reader_u16(&r, &suite));
                MLS_TRY(mls_reader_opaque_view(&r, &kb, &kb_len));
                MLS_TRY(mls_bytes_copy(&tpm_blob, kb, kb_len));
        } else {
                MLS_TRY(mls_reader_opaque_secret(&r, &priv));
        }
        MLS_TRY(mls_reader_vec(&r, &sub));
        md = sub.p;
        md_len = sub.left;
        e = mls_reader_done(&r);
        s = mls_suite_get(suite);
        if (e == 0 && !s)
                e = MLS_E_BAD_STATE;
        if (e == 0 && tpm_blob.data) {
                /* The public key is in the blob's public area; only the
                 * TPM that made it can use it (checked at the first
                 * signature: another TPM refuses to load it). */
                e = s->id == MLS_SUITE_P256_AES128GCM_SHA256_P256 ? tpm_key_public(&tpm_blob, &check)
                                                                  : MLS_E_BAD_STATE;
        } else if (e == 0) {
                e = mls_crypto_sig_pub_from_priv(s, priv, &check);
        }
        if (e < 0)
                return e == MLS_E_TPM ? e : MLS_E_BAD_STATE;
        MLS_TRY(mls_bytes_copy(&pub, check.data, check.len));
        out[MKD_VLR_SUITE] = mkd_val_u(suite);
        out[MKD_VLR_PUB] = mkd_val_bytes(pub.data, pub.len);
        out[MKD_VLR_METADATA] = mkd_val_bytes(md, md_len);
        e = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_IDENTITY_LOAD)->result, out);
        if (e == 0)
                e = vkey_add(v, a[MKD_VL_ID].p, a[MKD_VL_ID].len, s, tpm_blob.data ? NULL : &priv,
                             &tpm_blob, &pub); /* takes both on success */
        return e;
}

static int
h_identity_seal(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        struct vkey *k = vkey_find(v, a[MKD_VS_ID].p, a[MKD_VS_ID].len);
        struct mls_bytes blob = { 0 };
        struct mkd_val out[1];
        int r;

        if (!k)
                return MLS_E_NOT_FOUND;
        if (a[MKD_VS_VERSION].u < 2 || a[MKD_VS_VERSION].u == MKD_SEAL_ANY_VERSION)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(seal_identity(v, k, a[MKD_VS_VERSION].u, a[MKD_VS_METADATA].p,
                              a[MKD_VS_METADATA].len, &blob));
        out[0] = mkd_val_bytes(blob.data, blob.len);
        r = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_IDENTITY_SEAL)->result, out);
        mls_bytes_clear(&blob);
        return r;
}

static int
h_identity_forget(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        struct vkey *k = vkey_find(v, a[0].p, a[0].len);

        (void)res;
        if (!k)
                return MLS_E_NOT_FOUND;
        vkey_remove(v, k);
        return 0;
}

static int
h_sign(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        struct vkey *k = vkey_find(v, a[MKD_VG_ID].p, a[MKD_VG_ID].len);
        char label[65];
        struct mls_bytes sig = { 0 };
        struct mkd_val out[1];
        int r;

        if (!k)
                return MLS_E_NOT_FOUND;
        if (a[MKD_VG_LABEL].len >= sizeof(label) ||
            memchr(a[MKD_VG_LABEL].p, 0, a[MKD_VG_LABEL].len))
                return MLS_E_INVALID_ARGUMENT;
        memcpy(label, a[MKD_VG_LABEL].p, a[MKD_VG_LABEL].len);
        label[a[MKD_VG_LABEL].len] = '\0';
        /* Only SignContent of the RFC's four labels, built here. */
        if (!mls_signer_label_allowed(label)) {
                mkd_log_warning("refused to sign with label \"%s\"", label);
                return MLS_E_ACCESS_DENIED;
        }
        if (!k->priv) {
                r = tpm_sign(v, k, label, a[MKD_VG_CONTENT].p, a[MKD_VG_CONTENT].len, &sig);
        } else {
                _mls_cleanup_(mls_bytes_clear) struct mls_bytes tbs = { 0 };

                r = mls_sign_content_build(label, a[MKD_VG_CONTENT].p, a[MKD_VG_CONTENT].len,
                                           &tbs);
                if (r == 0)
                        r = vkey_sign_raw(k, tbs.data, tbs.len, &sig);
        }
        MLS_TRY(r);
        out[0] = mkd_val_bytes(sig.data, sig.len);
        r = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_SIGN)->result, out);
        mls_bytes_clear(&sig);
        return r;
}

static int
h_seal(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        _mls_secret_ struct mls_secret *pt = NULL;
        struct mls_bytes blob = { 0 };
        struct mkd_val out[1];
        int r;

        if (!type_sealable(a[MKD_VX_TYPE].u) || !mkd_obj_id_valid(a[MKD_VX_ID].len) ||
            a[MKD_VX_VERSION].u == MKD_SEAL_ANY_VERSION)
                return MLS_E_ACCESS_DENIED;
        MLS_TRY(mls_secret_from(a[MKD_VX_DATA].p, a[MKD_VX_DATA].len, &pt));
        MLS_TRY(mkd_seal(v->key, v->rng, (uint8_t)a[MKD_VX_TYPE].u, a[MKD_VX_ID].p,
                         a[MKD_VX_ID].len, a[MKD_VX_VERSION].u, pt, &blob));
        out[0] = mkd_val_bytes(blob.data, blob.len);
        r = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_SEAL)->result, out);
        mls_bytes_clear(&blob);
        return r;
}

static int
h_unseal(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        _mls_secret_ struct mls_secret *pt = NULL;
        struct mkd_val out[1];

        if (!type_sealable(a[MKD_VX_TYPE].u) || !mkd_obj_id_valid(a[MKD_VX_ID].len))
                return MLS_E_ACCESS_DENIED;
        MLS_TRY(mkd_unseal(v->key, a[MKD_VX_DATA].p, a[MKD_VX_DATA].len,
                           (uint8_t)a[MKD_VX_TYPE].u, a[MKD_VX_ID].p, a[MKD_VX_ID].len,
                           a[MKD_VX_VERSION].u, &pt));
        out[0] = mkd_val_bytes(pt->data, pt->len);
        return mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_UNSEAL)->result, out);
}

static int
h_load_done(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        struct mkd_val out[1];

        (void)a;
        /* The counter moved since it was defined, so manifests were
         * written: one must be here. */
        if (v->rb && !v->manifest_seen && v->tpm_value > v->ks.counter_base)
                rollback_refuse("the manifest is missing, yet the TPM counter moved from %llu "
                                "to %llu since the key was sealed",
                                (unsigned long long)v->ks.counter_base,
                                (unsigned long long)v->tpm_value);
        /* RFC 8937: every identity key hedges the pool. */
        for (size_t i = 0; i < v->n_keys; i++)
                hedge_pool(v, &v->keys[i]);
        out[MKD_VD_ROLLBACK] = mkd_val_u(v->rb);
        return mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_LOAD_DONE)->result, out);
}

/* ---- entropy ---- */

#ifdef HAVE_TPM
static int
tpm_fill(void *ctx, uint8_t *buf, size_t len)
{
        return mkd_tpm_get_random(ctx, buf, len);
}
#endif

/* Raw signature of an RFC 8937 tag1 by key k (never SignWithLabel: the
 * label checks that it cannot be an MLS SignContent). */
static int
hedge_sign(struct vault *v, const struct vkey *k, const uint8_t *label, size_t len,
           struct mls_bytes *ret_sig)
{
        MLS_TRY(mls_entropy_hedge_label_check(label, len));
        if (!k->priv) {
#ifdef HAVE_TPM
                if (!v->tpm)
                        return MLS_E_TPM;
                return mkd_tpm_sign_message(v->tpm, k->tpm_blob.data, k->tpm_blob.len, label, len,
                                            ret_sig);
#else
                (void)v;
                return MLS_E_TPM;
#endif
        }
        return vkey_sign_raw(k, label, len, ret_sig);
}

/* Hedges the vault's own pool with key k (RFC 8937 section 3): the first
 * key that succeeds sets the hedge, later ones are mixed in. A failure
 * leaves the pool as it was (still fed by getrandom and the TPM). */
static void
hedge_pool(struct vault *v, const struct vkey *k)
{
        uint8_t rnd[MLS_ENTROPY_HEDGE_RANDOM_LEN], ctx[64];
        struct mls_bytes label = { 0 }, sig = { 0 };
        int n, r;

        n = snprintf((char *)ctx, sizeof(ctx), "vault pid=%ld", (long)getpid());
        r = mls_rng_fill(v->rng, rnd, sizeof(rnd));
        if (r == 0)
                r = mls_entropy_hedge_label(v->hedges++, rnd, ctx, (size_t)n, &label);
        if (r == 0)
                r = hedge_sign(v, k, label.data, label.len, &sig);
        if (r == 0)
                r = mls_entropy_add_hedge(v->entropy, sig.data, sig.len);
        if (r < 0)
                mkd_log_code(MKD_LOG_WARNING, r, "hedging the entropy pool");
        if (sig.data)
                sodium_memzero(sig.data, sig.len);
        mls_bytes_clear(&sig);
        mls_bytes_clear(&label);
}

static int
h_hedge(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        struct vkey *k = vkey_find(v, a[MKD_VH_ID].p, a[MKD_VH_ID].len);
        struct mls_bytes sig = { 0 };
        struct mkd_val out[1];
        int r;

        if (!k)
                return MLS_E_NOT_FOUND;
        r = hedge_sign(v, k, a[MKD_VH_LABEL].p, a[MKD_VH_LABEL].len, &sig);
        if (r == MLS_E_INVALID_MESSAGE)
                mkd_log_warning("refused to sign a hedge label of the wrong form");
        MLS_TRY(r);
        out[0] = mkd_val_bytes(sig.data, sig.len);
        r = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_HEDGE)->result, out);
        sodium_memzero(sig.data, sig.len);
        mls_bytes_clear(&sig);
        return r;
}

static int
h_random(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        uint8_t buf[32];
        struct mkd_val out[1];
        int r;

        (void)a;
        /* A fresh TPM pull first (when there is a TPM), then pool output. */
        if (mls_entropy_reseed(v->entropy) < 0)
                mkd_log_warning("the TPM's random number generator failed");
        MLS_TRY(mls_entropy_fill(v->entropy, buf, sizeof(buf)));
        out[0] = mkd_val_bytes(buf, sizeof(buf));
        r = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_RANDOM)->result, out);
        sodium_memzero(buf, sizeof(buf));
        return r;
}

/* ---- rollback counter ---- */

static const uint8_t manifest_id[MKD_MANIFEST_ID_LEN];

/* Raises the TPM counter to at least target. */
static int
counter_raise(struct vault *v, uint64_t target)
{
#ifdef HAVE_TPM
        while (v->tpm_value < target) {
                uint64_t nv;
                int r = mkd_tpm_counter_increment(v->tpm, v->ks.nv_index, &nv);

                if (r < 0) {
                        mkd_log_err("incrementing the rollback counter: %s",
                                    mkd_tpm_last_error(v->tpm));
                        return r;
                }
                v->increments++;
                v->tpm_value = nv;
        }
        return 0;
#else
        (void)v;
        (void)target;
        return MLS_E_TPM;
#endif
}

/* A refused state: the broker must not restart us into it. */
static void
rollback_refuse(const char *fmt, ...)
{
        char why[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        mkd_log_err("rollback detected: %s. The state directory is older than the TPM says: "
                    "restore its newest copy. Refusing to start",
                    why);
        _exit(MKD_EXIT_CONFIG);
}

static int
h_manifest_open(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        _mls_secret_ struct mls_secret *pt = NULL;
        struct mkd_seal_header h;
        struct mkd_val out[1];

        MLS_TRY(mkd_unseal(v->key, a[MKD_VO_BLOB].p, a[MKD_VO_BLOB].len, MKD_OBJ_MANIFEST,
                           manifest_id, sizeof(manifest_id), a[MKD_VO_VERSION].u, &pt));
        MLS_TRY(mkd_seal_header_parse(a[MKD_VO_BLOB].p, a[MKD_VO_BLOB].len, &h));
        if (!v->rb) {
                /* Left from a time with a TPM seal: nothing to check. */
                mkd_log_warning("a manifest exists but the storage key has no rollback "
                                "counter: ignored");
                return MLS_E_NOT_FOUND;
        }
        if (h.counter < v->tpm_value)
                rollback_refuse("the newest manifest was written under counter value %llu, "
                                "the TPM counter is at %llu",
                                (unsigned long long)h.counter, (unsigned long long)v->tpm_value);
        /* One step ahead: the increment after its write was lost. */
        MLS_TRY(counter_raise(v, h.counter));
        v->pending = h.counter;
        v->manifest_seen = true;
        out[0] = mkd_val_bytes(pt->data, pt->len);
        return mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_MANIFEST_OPEN)->result, out);
}

static int
h_manifest_seal(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        _mls_secret_ struct mls_secret *pt = NULL;
        struct mls_bytes blob = { 0 };
        uint64_t c = v->pending > v->tpm_value ? v->pending : v->tpm_value; /* + 1 below */
        struct mkd_val out[1];
        int r;

        if (!v->rb || a[MKD_VM_VERSION].u == MKD_SEAL_ANY_VERSION)
                return MLS_E_ACCESS_DENIED;
        c++;
        MLS_TRY(mls_secret_from(a[MKD_VM_DATA].p, a[MKD_VM_DATA].len, &pt));
        MLS_TRY(mkd_seal_counter(v->key, v->rng, MKD_OBJ_MANIFEST, manifest_id,
                                 sizeof(manifest_id), a[MKD_VM_VERSION].u, c, pt, &blob));
        v->pending = c;
        out[0] = mkd_val_bytes(blob.data, blob.len);
        r = mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_MANIFEST_SEAL)->result, out);
        mls_bytes_clear(&blob);
        return r;
}

static int
h_counter_sync(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        struct mkd_val out[1];

        /* Up to the durable manifest's value, which this vault sealed:
         * never above what it handed out (a broker claiming so is
         * refused), and never to a later manifest that may not be on disk
         * yet. */
        if (v->rb) {
                if (a[MKD_CS_COUNTER].u > v->pending)
                        return MLS_E_INVALID_ARGUMENT;
                MLS_TRY(counter_raise(v, a[MKD_CS_COUNTER].u));
        }
        out[0] = mkd_val_u(v->tpm_value);
        return mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_COUNTER_SYNC)->result, out);
}

#ifdef MKD_TEST_OPS
/* --enable-test-ops: every secret the vault holds, as tagged records like
 * the engine's journal ('S' signature private key, 'T' storage key), so
 * the integration test can prove none of them ever crossed a bus. */
static int
h_test_secrets(struct vault *v, const struct mkd_val *a, struct mls_writer *res)
{
        _mls_writer_ struct mls_writer list = { 0 };
        _mls_secret_ struct mls_secret *k = NULL;
        uint8_t rec[2 + 256];
        struct mkd_val out[1];
        size_t n = 0;
        int r = 0;

        (void)a;
        mls_writer_init_secure(&list);
        for (size_t i = 0; i < v->n_keys && r == 0; i++) {
                struct vkey *vk = &v->keys[i];

                if (!vk->priv || vk->priv->len > 256)
                        continue;
                rec[0] = 'S';
                rec[1] = 0;
                vkey_unlock(vk);
                memcpy(rec + 2, vk->priv->data, vk->priv->len);
                vkey_lock(vk);
                r = mkd_list_bytes_append(&list, rec, 2 + vk->priv->len);
                n++;
        }
        if (r == 0)
                r = mkd_seal_key_export(v->key, &k);
        if (r == 0) {
                rec[0] = 'T';
                rec[1] = 0;
                memcpy(rec + 2, k->data, k->len);
                r = mkd_list_bytes_append(&list, rec, 2 + k->len);
                n++;
        }
        mls_wipe(rec, sizeof(rec));
        MLS_TRY(r);
        out[0] = mkd_val_list(list.buf, list.len, n);
        return mkd_proto_encode(res, mkd_proto_vault_op(MKD_V_TEST_SECRETS)->result, out);
}
#endif

typedef int (*vault_handler)(struct vault *v, const struct mkd_val *a, struct mls_writer *res);

static const struct {
        uint16_t op;
        vault_handler fn;
} vault_handlers[] = {
        { MKD_V_IDENTITY_CREATE, h_identity_create },
        { MKD_V_IDENTITY_LOAD, h_identity_load },
        { MKD_V_IDENTITY_SEAL, h_identity_seal },
        { MKD_V_IDENTITY_FORGET, h_identity_forget },
        { MKD_V_SIGN, h_sign },
        { MKD_V_SEAL, h_seal },
        { MKD_V_UNSEAL, h_unseal },
        { MKD_V_LOAD_DONE, h_load_done },
        { MKD_V_MANIFEST_SEAL, h_manifest_seal },
        { MKD_V_MANIFEST_OPEN, h_manifest_open },
        { MKD_V_COUNTER_SYNC, h_counter_sync },
        { MKD_V_HEDGE, h_hedge },
        { MKD_V_RANDOM, h_random },
#ifdef MKD_TEST_OPS
        { MKD_V_TEST_SECRETS, h_test_secrets },
#endif
};

/* One request. A negative return means the peer broke the protocol. */
static int
serve_one(struct vault *v, const struct mkd_ipc_frame *f)
{
        struct mkd_ipc_request req;
        struct mkd_val a[MKD_PROTO_MAX_FIELDS];
        const struct mkd_op *op;
        _mls_writer_ struct mls_writer res = { 0 }, out = { 0 };
        vault_handler fn = NULL;
        struct mkd_ipc_reply rep = { 0 };
        int status;

        mls_writer_init_pool(&res, v->pool);
        mls_writer_init_pool(&out, v->pool);
        MLS_TRY(mkd_serve_accept(f, &v->gate, mkd_proto_vault_op, MKD_V_LOAD_DONE, "engine", &req,
                                 &op, a));
        for (size_t i = 0; i < MLS_ARRAY_SIZE(vault_handlers); i++)
                if (vault_handlers[i].op == op->op)
                        fn = vault_handlers[i].fn;
        if (!fn)
                return MLS_E_INTERNAL;
        status = fn(v, a, &res);
        if (status < 0) {
                mls_writer_clear(&res);
                if (op->op != MKD_V_IDENTITY_LOAD && op->op != MKD_V_UNSEAL)
                        mkd_log_code(MKD_LOG_WARNING, status, "%s failed", op->name);
        }
        rep.id = req.id;
        rep.status = mkd_ipc_status_from_err(status);
        rep.result = res.buf;
        rep.result_len = status < 0 ? 0 : res.len;
        MLS_TRY(mkd_ipc_reply_write(&out, &rep));
        return mkd_ipc_send_blocking(v->fd, out.buf, out.len);
}

/* The open file descriptors (at most max; the count in *ret_n). */
static void
fd_list(int *fds, size_t max, size_t *ret_n)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        size_t n = 0;

        *ret_n = 0;
        if (!d)
                return;
        while ((de = readdir(d)) && n < max) {
                char *end;
                long fd = strtol(de->d_name, &end, 10);

                if (*end || end == de->d_name || fd == dirfd(d))
                        continue;
                fds[n++] = (int)fd;
        }
        closedir(d);
        *ret_n = n;
}

#ifdef HAVE_TPM
/* The descriptors the TPM connection opened: those in after[] but not in
 * before[] (the TCTI does not always report its socket). */
static void
keep_new_fds(const int *before, size_t nb, const int *after, size_t na, int *keep,
             size_t *n_keep, size_t max)
{
        for (size_t i = 0; i < na; i++) {
                bool old = false;

                for (size_t j = 0; j < nb && !old; j++)
                        old = before[j] == after[i];
                if (!old && *n_keep < max)
                        keep[(*n_keep)++] = after[i];
        }
}
#endif

int
mkd_vault_main(int engine_fd, int state_dirfd, enum mkd_seccomp_mode mode,
               const struct mkd_tpm_config *tpm)
{
        struct vault v = { .fd = engine_fd };
        _mkd_ipc_rbuf_ struct mkd_ipc_rbuf rb = { 0 };
        int keep[MKD_SANDBOX_KEEP_MAX] = { 2, engine_fd };
        int before[64];
        size_t n_keep = 2, nb = 0;
        int r;

        mkd_log_set_proc(MKD_LOG_VAULT);
        /* Not dumpable, no core, no new privileges before anything else. */
        r = mkd_sandbox_harden_child();
        if (r < 0)
                return r;
        r = mls_crypto_preload();
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "crypto self-test");
                return r;
        }
        /* TPM2-TSS writes its own error lines to stderr unless told not
         * to; ours say what matters (an administrator may override). */
        (void)setenv("TSS2_LOG", "all+none", 0);
        /* The storage key, through the state directory opened by the
         * broker, before the sandbox closes every file; the TPM connection
         * (if any) stays open. */
        {
                /* getrandom (libsodium's randombytes), fresh for every block */
                r = mls_entropy_new_system(&v.entropy);
                if (r < 0) {
                        mkd_log_code(MKD_LOG_ERR, r, "entropy pool");
                        return r;
                }
                v.rng = mls_entropy_rng(v.entropy);
        }
        /* From here on, every way out goes through out: (teardown). */
        mkd_ipc_rbuf_init(&rb, 0, true);
        fd_list(before, MLS_ARRAY_SIZE(before), &nb);
        r = mkd_keystore_open(state_dirfd, tpm, v.rng, &v.key, &v.tpm, &v.ks);
        (void)close(state_dirfd);
        if (r < 0) {
                /* Every failure here is a refusal to start (a missing or
                 * damaged key, a TPM that refuses): restarting would only
                 * refuse again, so tell the broker not to (main() exits
                 * MKD_EXIT_CONFIG for these codes; others are mapped). */
                mkd_log_code(MKD_LOG_ERR, r, "storage key");
                r = r == MLS_E_NOMEM || r == MLS_E_IO ? r : MLS_E_BAD_STATE;
                goto out;
        }
#ifdef HAVE_TPM
        if (v.tpm) {
                size_t n = 0;

                /* The TCTI's descriptors; if it cannot say, the ones its
                 * opening added. */
                if (mkd_tpm_fds(v.tpm, keep + n_keep, MLS_ARRAY_SIZE(keep) - n_keep, &n) == 0) {
                        n_keep += n;
                } else {
                        int after[64];
                        size_t na = 0;

                        fd_list(after, MLS_ARRAY_SIZE(after), &na);
                        keep_new_fds(before, nb, after, na, keep, &n_keep, MLS_ARRAY_SIZE(keep));
                }
        }
#endif
#ifdef HAVE_TPM
        /* The TPM's RNG feeds the pool: now, then every
         * MLS_ENTROPY_RESEED_DEFAULT blocks (and on each MKD_V_RANDOM). */
        if (v.tpm) {
                const struct mls_entropy_source second = { .fill = tpm_fill, .ctx = v.tpm };

                if (mls_entropy_set_secondary(v.entropy, &second, MLS_ENTROPY_RESEED_DEFAULT) < 0)
                        mkd_log_warning("the TPM's random number generator failed: the pool "
                                        "goes on with getrandom alone");
        }
        if (v.tpm && v.ks.nv_index) {
                r = mkd_tpm_counter_read(v.tpm, v.ks.nv_index, &v.tpm_value);
                if (r < 0) {
                        mkd_log_code(MKD_LOG_ERR, r,
                                     "the rollback counter 0x%08x cannot be read (%s)",
                                     (unsigned)v.ks.nv_index, mkd_tpm_last_error(v.tpm));
                        r = r == MLS_E_NOT_FOUND ? MLS_E_ROLLBACK : r;
                        goto out;
                }
                v.rb = true;
                v.pending = v.tpm_value;
        }
#endif
        r = mkd_sandbox_enter_child(MKD_SANDBOX_VAULT, mode, keep, n_keep);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "cannot enter the sandbox");
                goto out;
        }
        r = mls_gpool_new(&v.pool);
        if (r < 0)
                goto out;
        mkd_ipc_rbuf_set_pool(&rb, v.pool);
        for (;;) {
                _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };

                r = mkd_ipc_recv_blocking(&rb, engine_fd, &f);
                if (r == MKD_IPC_EOF) {
                        r = 0;
                        break;
                }
                if (r < 0) {
                        mkd_log_code(MKD_LOG_ERR, r, "reading from the engine");
                        break;
                }
                r = serve_one(&v, &f);
                if (r < 0)
                        break;
        }
out:
        mkd_ipc_rbuf_clear(&rb);
        mls_gpool_free(v.pool);
        if (v.rb)
                mkd_log_info("rollback counter: %llu increments in this run, now %llu",
                             (unsigned long long)v.increments, (unsigned long long)v.tpm_value);
        for (size_t i = 0; i < v.n_keys; i++)
                vkey_clear(&v.keys[i]);
        free(v.keys);
        mkd_seal_key_free(v.key);
        mkd_keystore_tpm_close(v.tpm);
        mls_entropy_free(v.entropy);
        return r;
}
