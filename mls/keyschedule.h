/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MLS key schedule (RFC 9420 section 8): one epoch's secrets.
 *
 *                     init_secret_[n-1]
 *                           |
 *     commit_secret --> KDF.Extract
 *                           |
 *                   ExpandWithLabel(., "joiner", GroupContext_[n], KDF.Nh)
 *                           = joiner_secret
 *                           |
 * psk_secret (or 0) --> KDF.Extract
 *                           +--> DeriveSecret(., "welcome") = welcome_secret
 *                           |
 *                   ExpandWithLabel(., "epoch", GroupContext_[n], KDF.Nh)
 *                           = epoch_secret
 *                           +--> DeriveSecret(., <label>) = <secret>
 *                           |
 *                     DeriveSecret(., "init") = init_secret_[n]
 *
 * A struct mls_epoch_secrets holds, in ONE guarded allocation (sodium_malloc,
 * not one per secret: a daemon keeps many groups), the values below, each
 * KDF.Nh bytes, derived straight into their slots; the transient values
 * (Extract outputs, epoch_secret) live in wiped stack buffers, so building
 * an epoch costs exactly that one guarded allocation. The epoch_secret itself, the Extract outputs, commit_secret
 * and psk_secret are never stored: they are wiped inside the derivation
 * (R-9.2-2). The remaining values are deleted by the owner of the object
 * with mls_ks_delete as soon as they are consumed (R-9.2-1, R-9.2-2):
 *
 *   joiner_secret, welcome_secret  after the Welcome is built/decrypted;
 *   encryption_secret              once the secret tree is created from it
 *                                  (mls_st_new copies it into the tree);
 *   init_secret                    once the next epoch's schedule is in
 *                                  use (the object of epoch n-1 is freed or
 *                                  MLS_KS_INIT_SECRET deleted);
 *   external_secret                when the group stops accepting external
 *                                  commits in this epoch (or never, while
 *                                  it does);
 * and everything with mls_ks_free when the epoch is dropped. resumption_psk
 * is copied out (mls_ks_copy) by the group state, which keeps it for a
 * bounded number of past epochs (the cap of RFC 9420 section 8.6 is the
 * group state's).
 *
 * The GroupContext enters as its serialization (mls/messages encodes it).
 * Secrets going in are struct mls_secret of exactly Nh bytes
 * (MLS_E_INVALID_ARGUMENT otherwise); NULL commit_secret / psk_secret mean
 * the all-zero Nh-byte value (no path / no PSKs).
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_KEYSCHEDULE_H
#define MLS_KEYSCHEDULE_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/rng.h"
#include "mls/secret.h"

/* The values an epoch-secrets object can hold (RFC 9420 section 8, table
 * "Epoch-Derived Secrets", plus joiner and welcome secrets). */
enum mls_ks_secret {
        MLS_KS_JOINER_SECRET = 0,
        MLS_KS_WELCOME_SECRET = 1,
        MLS_KS_SENDER_DATA_SECRET = 2,  /* "sender data" */
        MLS_KS_ENCRYPTION_SECRET = 3,   /* "encryption" */
        MLS_KS_EXPORTER_SECRET = 4,     /* "exporter" */
        MLS_KS_EPOCH_AUTHENTICATOR = 5, /* "authentication" */
        MLS_KS_EXTERNAL_SECRET = 6,     /* "external" */
        MLS_KS_CONFIRMATION_KEY = 7,    /* "confirm" */
        MLS_KS_MEMBERSHIP_KEY = 8,      /* "membership" */
        MLS_KS_RESUMPTION_PSK = 9,      /* "resumption" */
        MLS_KS_INIT_SECRET = 10,        /* "init" */
};
#define MLS_KS_N_SECRETS 11

struct mls_epoch_secrets; /* opaque */

/* Epoch n from init_secret_[n-1] (the previous epoch's, or one from
 * mls_ks_external_init_* for an external commit), commit_secret and
 * psk_secret. R-8-2, R-8-3, R-8-4. */
MLS_MUST_CHECK int mls_ks_from_init(const struct mls_suite *s,
                                    const struct mls_secret *init_secret,
                                    const struct mls_secret *commit_secret,
                                    const struct mls_secret *psk_secret, const uint8_t *gc,
                                    size_t gc_len, struct mls_epoch_secrets **ret_ks);

/* The same, taking init_secret from prev (MLS_E_INVALID_ARGUMENT if prev's
 * init_secret was deleted). prev is not modified: delete it (or its
 * init_secret) once the new epoch is confirmed and in use (R-9.2-2). */
MLS_MUST_CHECK int mls_ks_next(const struct mls_epoch_secrets *prev,
                               const struct mls_secret *commit_secret,
                               const struct mls_secret *psk_secret, const uint8_t *gc,
                               size_t gc_len, struct mls_epoch_secrets **ret_ks);

/* Epoch 0 of a new group (RFC 9420 section 11): epoch_secret is a fresh
 * random Nh-byte value. There is no joiner or welcome secret. */
MLS_MUST_CHECK int mls_ks_new_group(const struct mls_suite *s, const struct mls_rng *rng,
                                    const uint8_t *gc, size_t gc_len,
                                    struct mls_epoch_secrets **ret_ks);

/* A joiner (RFC 9420 section 12.4.3.1, R-12.4.3.1-21): from the
 * GroupSecrets joiner_secret, the psk_secret of GroupSecrets.psks and the
 * GroupContext of the decrypted GroupInfo. The object holds joiner_secret
 * and welcome_secret too. */
MLS_MUST_CHECK int mls_ks_from_joiner(const struct mls_suite *s,
                                      const struct mls_secret *joiner_secret,
                                      const struct mls_secret *psk_secret, const uint8_t *gc,
                                      size_t gc_len, struct mls_epoch_secrets **ret_ks);

/* welcome_secret = DeriveSecret(Extract(joiner_secret, psk_secret), "welcome")
 * (R-8-3): what a joiner needs before it knows the GroupContext. */
MLS_MUST_CHECK int mls_ks_welcome_secret(const struct mls_suite *s,
                                         const struct mls_secret *joiner_secret,
                                         const struct mls_secret *psk_secret,
                                         struct mls_secret **ret_welcome_secret);

/* RFC 9420 section 12.4.3.1 (R-12.4.3.1-7):
 *   welcome_nonce = ExpandWithLabel(welcome_secret, "nonce", "", AEAD.Nn)
 *   welcome_key   = ExpandWithLabel(welcome_secret, "key", "", AEAD.Nk) */
MLS_MUST_CHECK int mls_ks_welcome_key_nonce(const struct mls_suite *s,
                                            const uint8_t *welcome_secret, size_t len,
                                            struct mls_secret **ret_key,
                                            struct mls_secret **ret_nonce);

/* The same two into caller memory (no guarded allocation): out holds Nh
 * bytes; key and nonce AEAD.Nk and AEAD.Nn (struct mls_aead_buf of
 * mls/crypto.h fits). Meant for wiped stack buffers; wiped on failure. */
MLS_MUST_CHECK int mls_ks_welcome_secret_into(const struct mls_suite *s,
                                              const struct mls_secret *joiner_secret,
                                              const struct mls_secret *psk_secret,
                                              uint8_t *out);
MLS_MUST_CHECK int mls_ks_welcome_key_nonce_into(const struct mls_suite *s,
                                                 const uint8_t *welcome_secret, size_t len,
                                                 uint8_t *key, uint8_t *nonce);

void mls_ks_free(struct mls_epoch_secrets *ks);   /* wipes; NULL is a no-op */
/*
 * Guarded-memory pool (mls/secret.h) of ks: its slab is released to it when
 * ks is freed, and the slabs of the epochs derived from it with mls_ks_next
 * come from it (and inherit it), so a group changing epochs makes no
 * sodium_malloc/sodium_free once the pool is warm. Setting it on an object
 * made without one (loaded state) is allowed: its slab then goes back to
 * the pool too. The pool must outlive ks and every object derived from it.
 * NULL (the default): sodium_malloc/sodium_free.
 */
struct mls_gpool;
void mls_ks_set_pool(struct mls_epoch_secrets *ks, struct mls_gpool *pool);
/* Caches one block of the size of an epoch-secrets slab of suite s in
 * pool (a one-time cost at load or creation instead of at the next epoch
 * change). */
MLS_MUST_CHECK int mls_ks_pool_reserve(struct mls_gpool *pool, const struct mls_suite *s);
void mls_ks_freep(struct mls_epoch_secrets **ks);
#define _mls_ks_ _mls_cleanup_(mls_ks_freep)

const struct mls_suite *mls_ks_suite(const struct mls_epoch_secrets *ks);
/* KDF.Nh: the length of every value in the object. */
size_t mls_ks_secret_len(const struct mls_epoch_secrets *ks);

/* A view of one value (KDF.Nh bytes in guarded memory), valid until it is
 * deleted or the object freed; NULL if the value was deleted or never held
 * (joiner/welcome of epoch 0 of a new group). Do not keep copies: pass the
 * pointer to the consumer and delete the value when consumed. */
const uint8_t *mls_ks_get(const struct mls_epoch_secrets *ks, enum mls_ks_secret which);
bool mls_ks_has(const struct mls_epoch_secrets *ks, enum mls_ks_secret which);
/* Wipes one value (R-9.2-1, R-9.2-2). Deleting twice is a no-op. */
void mls_ks_delete(struct mls_epoch_secrets *ks, enum mls_ks_secret which);

/* A copy of one value in its own guarded allocation; MLS_E_NOT_FOUND if
 * deleted. */
MLS_MUST_CHECK int mls_ks_copy(const struct mls_epoch_secrets *ks, enum mls_ks_secret which,
                               struct mls_secret **ret_s);

/* The epoch authenticator (RFC 9420 section 8.7, R-8.7-1) as public bytes:
 * safe to show to users for out-of-band comparison. */
MLS_MUST_CHECK int mls_ks_epoch_authenticator(const struct mls_epoch_secrets *ks,
                                              struct mls_bytes *ret_auth);

/* RFC 9420 section 8.5 (R-8.5-3):
 *   MLS-Exporter(Label, Context, Length) =
 *     ExpandWithLabel(DeriveSecret(exporter_secret, Label),
 *                     "exported", Hash(Context), Length)
 * label is arbitrary bytes (the application's registered label; R-8.5-1:
 * one label per purpose). len <= 255 * Nh and fits a uint16. */
MLS_MUST_CHECK int mls_ks_export(const struct mls_epoch_secrets *ks, const uint8_t *label,
                                 size_t label_len, const uint8_t *context, size_t context_len,
                                 size_t len, struct mls_secret **ret_out);

/* MLS-Exporter into caller memory (len bytes; wiped on failure): the
 * intermediate DeriveSecret stays in a wiped stack buffer, nothing is
 * allocated. Same results and errors as mls_ks_export. */
MLS_MUST_CHECK int mls_ks_export_into(const struct mls_epoch_secrets *ks, const uint8_t *label,
                                      size_t label_len, const uint8_t *context,
                                      size_t context_len, uint8_t *out, size_t len);

/* RFC 9420 section 8 (R-8-5): external_priv, external_pub =
 * KEM.DeriveKeyPair(external_secret). MLS_E_NOT_FOUND if external_secret
 * was deleted. */
MLS_MUST_CHECK int mls_ks_external_keypair(const struct mls_epoch_secrets *ks,
                                           struct mls_secret **ret_priv,
                                           struct mls_bytes *ret_pub);

/* RFC 9420 section 8.3, external joiner (R-8.3-1):
 *   kem_output, context = SetupBaseS(external_pub, "")
 *   init_secret = context.export("MLS 1.0 external init secret", KDF.Nh)
 * The init_secret then goes to mls_ks_from_init. */
MLS_MUST_CHECK int mls_ks_external_init_send(const struct mls_suite *s, const struct mls_rng *rng,
                                             const uint8_t *external_pub, size_t pub_len,
                                             struct mls_bytes *ret_kem_output,
                                             struct mls_secret **ret_init_secret);

/* RFC 9420 section 8.3, members (R-8.3-2):
 *   context = SetupBaseR(kem_output, external_priv, "")
 *   init_secret = context.export("MLS 1.0 external init secret", KDF.Nh)
 * with external_priv derived from this epoch's external_secret. */
MLS_MUST_CHECK int mls_ks_external_init_recv(const struct mls_epoch_secrets *ks,
                                             const uint8_t *kem_output, size_t kem_output_len,
                                             struct mls_secret **ret_init_secret);

/* Saved state: appends a versioned encoding of the object to w, which must
 * be a secure writer (MLS_E_INVALID_ARGUMENT otherwise):
 *   u8 version (1) || u16 cipher_suite || u16 present-mask ||
 *   the present values in enum order, Nh bytes each. */
MLS_MUST_CHECK int mls_ks_encode(const struct mls_epoch_secrets *ks, struct mls_writer *w);
/* Reads what mls_ks_encode wrote: MLS_E_BAD_STATE for an unknown version,
 * suite or mask bits, codec errors for truncation. */
MLS_MUST_CHECK int mls_ks_decode(struct mls_reader *r, struct mls_epoch_secrets **ret_ks);

#endif
