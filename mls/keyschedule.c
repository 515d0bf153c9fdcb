/* SPDX-License-Identifier: Apache-2.0 */
/* The epoch key schedule (RFC 9420 sections 8, 8.3, 8.5, 8.7, 11, 12.4.3.1). */
#include "mls/keyschedule.h"

#include <string.h>
#include <sodium.h>

#include "mls/hpke.h"
#include "mls/labeled.h"

#define KS_STATE_VERSION 1
#define KS_ALL_MASK ((uint16_t)((1u << MLS_KS_N_SECRETS) - 1u))

struct mls_epoch_secrets {
        const struct mls_suite *suite;
        size_t nh;
        uint8_t *slab;   /* guarded: MLS_KS_N_SECRETS slots of nh bytes */
        size_t slab_cap;  /* its capacity (for mls_gpool_release) */
        /* Where this slab goes back to, and where the slabs of the epochs
         * derived from it (mls_ks_next) come from; NULL: sodium_malloc. */
        struct mls_gpool *pool;
        uint16_t present; /* bit i: value i is held */
};

/* DeriveSecret labels of the epoch-derived secrets (RFC 9420 section 8,
 * table "Epoch-Derived Secrets"), R-8-4 and R-8.7-1. */
static const struct {
        enum mls_ks_secret which;
        const char *label;
} epoch_labels[] = {
        { MLS_KS_SENDER_DATA_SECRET, "sender data" },
        { MLS_KS_ENCRYPTION_SECRET, "encryption" },
        { MLS_KS_EXPORTER_SECRET, "exporter" },
        { MLS_KS_EPOCH_AUTHENTICATOR, "authentication" },
        { MLS_KS_EXTERNAL_SECRET, "external" },
        { MLS_KS_CONFIRMATION_KEY, "confirm" },
        { MLS_KS_MEMBERSHIP_KEY, "membership" },
        { MLS_KS_RESUMPTION_PSK, "resumption" },
        { MLS_KS_INIT_SECRET, "init" },
};

static bool
which_valid(enum mls_ks_secret which)
{
        return (unsigned)which < MLS_KS_N_SECRETS;
}

void
mls_ks_free(struct mls_epoch_secrets *ks)
{
        if (!ks)
                return;
        if (ks->slab)
                mls_gpool_release(ks->pool, ks->slab, ks->slab_cap); /* wipes */
        free(ks);
}

void
mls_ks_freep(struct mls_epoch_secrets **ks)
{
        mls_ks_free(*ks);
        *ks = NULL;
}

static int
ks_alloc_pool(const struct mls_suite *s, struct mls_gpool *pool,
              struct mls_epoch_secrets **ret_ks)
{
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;

        ks = calloc(1, sizeof(*ks));
        if (!ks)
                return MLS_E_NOMEM;
        ks->suite = s;
        ks->nh = s->hash_len;
        ks->pool = pool;
        /* A pool-class size (a power of two) even without a pool, so that
         * the slab can be released into one later (mls_ks_set_pool). */
        ks->slab_cap = MLS_GPOOL_MIN;
        while (ks->slab_cap < MLS_KS_N_SECRETS * ks->nh)
                ks->slab_cap *= 2;
        ks->slab = mls_gpool_alloc(pool, ks->slab_cap, &ks->slab_cap);
        if (!ks->slab)
                return MLS_E_NOMEM;
        sodium_memzero(ks->slab, ks->slab_cap);
        *ret_ks = MLS_TAKE(ks);
        return 0;
}

static int
ks_alloc(const struct mls_suite *s, struct mls_epoch_secrets **ret_ks)
{
        return ks_alloc_pool(s, NULL, ret_ks);
}

void
mls_ks_set_pool(struct mls_epoch_secrets *ks, struct mls_gpool *pool)
{
        if (ks)
                ks->pool = pool;
}

int
mls_ks_pool_reserve(struct mls_gpool *pool, const struct mls_suite *s)
{
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;

        if (!pool || !s)
                return MLS_E_INVALID_ARGUMENT;
        /* a slab made and released: the pool caches it */
        return ks_alloc_pool(s, pool, &ks);
}

static uint8_t *
ks_slot(const struct mls_epoch_secrets *ks, enum mls_ks_secret which)
{
        return ks->slab + (size_t)which * ks->nh;
}

static void
ks_put(struct mls_epoch_secrets *ks, enum mls_ks_secret which, const struct mls_secret *v)
{
        memcpy(ks_slot(ks, which), v->data, ks->nh);
        ks->present |= (uint16_t)(1u << which);
}

/* The slot of `which`, to derive a value straight into; ks_mark then
 * records it as held. */
static void
ks_mark(struct mls_epoch_secrets *ks, enum mls_ks_secret which)
{
        ks->present |= (uint16_t)(1u << which);
}

/* A secret argument: NULL, or exactly Nh bytes. */
static bool
arg_ok(const struct mls_suite *s, const struct mls_secret *v, bool may_be_null)
{
        if (!v)
                return may_be_null;
        return v->len == s->hash_len && v->data;
}

/* Every epoch-derived secret from epoch_secret:
 *   <secret> = DeriveSecret(epoch_secret, <label>)   (R-8-4, R-8.7-1)
 * each derived straight into its slot of the epoch's one guarded slab. The
 * caller wipes epoch_secret right after (R-9.2-2: it is consumed). */
static int
ks_derive_from_epoch(struct mls_epoch_secrets *ks, const uint8_t *epoch_secret)
{
        for (size_t i = 0; i < MLS_ARRAY_SIZE(epoch_labels); i++) {
                MLS_TRY(mls_derive_secret_into(ks->suite, epoch_secret, ks->nh,
                                               epoch_labels[i].label,
                                               ks_slot(ks, epoch_labels[i].which)));
                ks_mark(ks, epoch_labels[i].which);
        }
        return 0;
}

/* member_secret = KDF.Extract(salt = joiner_secret, ikm = psk_secret or 0)
 * into out (Nh bytes). (The RFC leaves this value unnamed; we call it the
 * member secret.) */
static int
ks_member_secret(const struct mls_suite *s, const uint8_t *joiner, const struct mls_secret *psk,
                 uint8_t *out)
{
        uint8_t zero[MLS_MAX_HASH_LEN] = { 0 };

        return mls_crypto_hkdf_extract_into(s, joiner, s->hash_len, psk ? psk->data : zero,
                                            s->hash_len, out);
}

/* From joiner_secret down (R-8-2, R-8-3):
 *   member  = KDF.Extract(joiner_secret, psk_secret)
 *   welcome_secret = DeriveSecret(member, "welcome")
 *   epoch_secret   = ExpandWithLabel(member, "epoch", GroupContext, KDF.Nh)
 * member and epoch_secret live only in this function, in stack buffers
 * that the cleanup attribute wipes on every return path. */
static int
ks_derive_from_joiner(struct mls_epoch_secrets *ks, const uint8_t *joiner,
                      const struct mls_secret *psk, const uint8_t *gc, size_t gc_len)
{
        _mls_hash_buf_ uint8_t member[MLS_MAX_HASH_LEN];
        _mls_hash_buf_ uint8_t epoch[MLS_MAX_HASH_LEN];

        MLS_TRY(ks_member_secret(ks->suite, joiner, psk, member));
        MLS_TRY(mls_derive_secret_into(ks->suite, member, ks->nh, "welcome",
                                       ks_slot(ks, MLS_KS_WELCOME_SECRET)));
        ks_mark(ks, MLS_KS_WELCOME_SECRET);
        MLS_TRY(mls_expand_with_label_into(ks->suite, member, ks->nh, "epoch", gc, gc_len, epoch,
                                           ks->nh));
        return ks_derive_from_epoch(ks, epoch);
}

/* RFC 9420 section 8 (R-8-2):
 *   joiner_secret = ExpandWithLabel(KDF.Extract(init_secret_[n-1],
 *                       commit_secret), "joiner", GroupContext_[n], KDF.Nh)
 * The Extract output is a wiped stack temporary; joiner_secret goes
 * straight into its slot. One guarded allocation per epoch: the slab. */
static int
ks_from_init_raw(const struct mls_suite *s, struct mls_gpool *pool, const uint8_t *init,
                 const struct mls_secret *commit, const struct mls_secret *psk, const uint8_t *gc,
                 size_t gc_len, struct mls_epoch_secrets **ret_ks)
{
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;
        _mls_hash_buf_ uint8_t prk[MLS_MAX_HASH_LEN];
        uint8_t zero[MLS_MAX_HASH_LEN] = { 0 };
        uint8_t *joiner;

        if (!gc || gc_len == 0)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(ks_alloc_pool(s, pool, &ks));
        MLS_TRY(mls_crypto_hkdf_extract_into(s, init, s->hash_len, commit ? commit->data : zero,
                                             s->hash_len, prk));
        joiner = ks_slot(ks, MLS_KS_JOINER_SECRET);
        MLS_TRY(mls_expand_with_label_into(s, prk, s->hash_len, "joiner", gc, gc_len, joiner,
                                           s->hash_len));
        ks_mark(ks, MLS_KS_JOINER_SECRET);
        MLS_TRY(ks_derive_from_joiner(ks, joiner, psk, gc, gc_len));
        *ret_ks = MLS_TAKE(ks);
        return 0;
}

int
mls_ks_from_init(const struct mls_suite *s, const struct mls_secret *init_secret,
                 const struct mls_secret *commit_secret, const struct mls_secret *psk_secret,
                 const uint8_t *gc, size_t gc_len, struct mls_epoch_secrets **ret_ks)
{
        if (!s || !arg_ok(s, init_secret, false) || !arg_ok(s, commit_secret, true) ||
            !arg_ok(s, psk_secret, true))
                return MLS_E_INVALID_ARGUMENT;
        return ks_from_init_raw(s, NULL, init_secret->data, commit_secret, psk_secret, gc,
                                gc_len, ret_ks);
}

int
mls_ks_next(const struct mls_epoch_secrets *prev, const struct mls_secret *commit_secret,
            const struct mls_secret *psk_secret, const uint8_t *gc, size_t gc_len,
            struct mls_epoch_secrets **ret_ks)
{
        const uint8_t *init;

        if (!prev || !arg_ok(prev->suite, commit_secret, true) ||
            !arg_ok(prev->suite, psk_secret, true))
                return MLS_E_INVALID_ARGUMENT;
        init = mls_ks_get(prev, MLS_KS_INIT_SECRET);
        if (!init)
                return MLS_E_INVALID_ARGUMENT;
        return ks_from_init_raw(prev->suite, prev->pool, init, commit_secret, psk_secret, gc,
                                gc_len, ret_ks);
}

/* RFC 9420 section 11: the creator starts epoch 0 with "Epoch secret: A
 * fresh random value of size KDF.Nh". */
int
mls_ks_new_group(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *gc,
                 size_t gc_len, struct mls_epoch_secrets **ret_ks)
{
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;
        _mls_hash_buf_ uint8_t epoch[MLS_MAX_HASH_LEN];

        if (!s || !gc || gc_len == 0)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(ks_alloc(s, &ks));
        MLS_TRY(mls_rng_fill(rng, epoch, s->hash_len));
        MLS_TRY(ks_derive_from_epoch(ks, epoch));
        *ret_ks = MLS_TAKE(ks);
        return 0;
}

int
mls_ks_from_joiner(const struct mls_suite *s, const struct mls_secret *joiner_secret,
                   const struct mls_secret *psk_secret, const uint8_t *gc, size_t gc_len,
                   struct mls_epoch_secrets **ret_ks)
{
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;

        if (!s || !arg_ok(s, joiner_secret, false) || !arg_ok(s, psk_secret, true) || !gc ||
            gc_len == 0)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(ks_alloc(s, &ks));
        ks_put(ks, MLS_KS_JOINER_SECRET, joiner_secret);
        /* R-12.4.3.1-21: the epoch secrets from joiner_secret, psk_secret and
         * the GroupContext. */
        MLS_TRY(ks_derive_from_joiner(ks, joiner_secret->data, psk_secret, gc, gc_len));
        *ret_ks = MLS_TAKE(ks);
        return 0;
}

int
mls_ks_welcome_secret_into(const struct mls_suite *s, const struct mls_secret *joiner_secret,
                           const struct mls_secret *psk_secret, uint8_t *out)
{
        _mls_hash_buf_ uint8_t member[MLS_MAX_HASH_LEN];

        if (!s || !out || !arg_ok(s, joiner_secret, false) || !arg_ok(s, psk_secret, true))
                return MLS_E_INVALID_ARGUMENT;
        /* R-8-3: welcome_secret = DeriveSecret(Extract(joiner, psk), "welcome") */
        MLS_TRY(ks_member_secret(s, joiner_secret->data, psk_secret, member));
        return mls_derive_secret_into(s, member, s->hash_len, "welcome", out);
}

int
mls_ks_welcome_secret(const struct mls_suite *s, const struct mls_secret *joiner_secret,
                      const struct mls_secret *psk_secret, struct mls_secret **ret_welcome_secret)
{
        _mls_secret_ struct mls_secret *ws = NULL;

        if (!s || !arg_ok(s, joiner_secret, false) || !arg_ok(s, psk_secret, true))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(s->hash_len, &ws));
        MLS_TRY(mls_ks_welcome_secret_into(s, joiner_secret, psk_secret, ws->data));
        *ret_welcome_secret = MLS_TAKE(ws);
        return 0;
}

int
mls_ks_welcome_key_nonce_into(const struct mls_suite *s, const uint8_t *welcome_secret,
                              size_t len, uint8_t *key, uint8_t *nonce)
{
        int e;

        if (!s || !welcome_secret || len != s->hash_len || !key || !nonce)
                return MLS_E_INVALID_ARGUMENT;
        /* R-12.4.3.1-7: welcome key and nonce from welcome_secret. */
        e = mls_expand_with_label_into(s, welcome_secret, len, "key", NULL, 0, key,
                                       s->aead_key_len);
        if (e == 0)
                e = mls_expand_with_label_into(s, welcome_secret, len, "nonce", NULL, 0, nonce,
                                               s->aead_nonce_len);
        if (e < 0)
                mls_wipe(key, s->aead_key_len);
        return e;
}

int
mls_ks_welcome_key_nonce(const struct mls_suite *s, const uint8_t *welcome_secret, size_t len,
                         struct mls_secret **ret_key, struct mls_secret **ret_nonce)
{
        _mls_secret_ struct mls_secret *key = NULL, *nonce = NULL;

        if (!s || !welcome_secret || len != s->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(s->aead_key_len, &key));
        MLS_TRY(mls_secret_new(s->aead_nonce_len, &nonce));
        MLS_TRY(mls_ks_welcome_key_nonce_into(s, welcome_secret, len, key->data, nonce->data));
        *ret_key = MLS_TAKE(key);
        *ret_nonce = MLS_TAKE(nonce);
        return 0;
}

const struct mls_suite *
mls_ks_suite(const struct mls_epoch_secrets *ks)
{
        return ks->suite;
}

size_t
mls_ks_secret_len(const struct mls_epoch_secrets *ks)
{
        return ks->nh;
}

bool
mls_ks_has(const struct mls_epoch_secrets *ks, enum mls_ks_secret which)
{
        return ks && which_valid(which) && (ks->present & (1u << which));
}

const uint8_t *
mls_ks_get(const struct mls_epoch_secrets *ks, enum mls_ks_secret which)
{
        if (!mls_ks_has(ks, which))
                return NULL;
        return ks_slot(ks, which);
}

void
mls_ks_delete(struct mls_epoch_secrets *ks, enum mls_ks_secret which)
{
        if (!ks || !which_valid(which))
                return;
        /* R-9.2-1, R-9.2-2: the value is wiped in place, not just forgotten. */
        sodium_memzero(ks_slot(ks, which), ks->nh);
        ks->present &= (uint16_t)~(1u << which);
}

int
mls_ks_copy(const struct mls_epoch_secrets *ks, enum mls_ks_secret which,
            struct mls_secret **ret_s)
{
        const uint8_t *v = mls_ks_get(ks, which);

        if (!v)
                return MLS_E_NOT_FOUND;
        return mls_secret_from(v, ks->nh, ret_s);
}

int
mls_ks_epoch_authenticator(const struct mls_epoch_secrets *ks, struct mls_bytes *ret_auth)
{
        const uint8_t *v = mls_ks_get(ks, MLS_KS_EPOCH_AUTHENTICATOR);

        if (!v)
                return MLS_E_NOT_FOUND;
        /* R-8.7-1: offered to the application for out-of-band comparison,
         * so it leaves guarded memory. */
        return mls_bytes_copy(ret_auth, v, ks->nh);
}

/* RFC 9420 section 8.5 (R-8.5-3):
 *   MLS-Exporter(Label, Context, Length) =
 *     ExpandWithLabel(DeriveSecret(exporter_secret, Label),
 *                     "exported", Hash(Context), Length) */
int
mls_ks_export_into(const struct mls_epoch_secrets *ks, const uint8_t *label, size_t label_len,
                   const uint8_t *context, size_t context_len, uint8_t *out, size_t len)
{
        _mls_hash_buf_ uint8_t derived[MLS_MAX_HASH_LEN];
        const uint8_t *exporter = mls_ks_get(ks, MLS_KS_EXPORTER_SECRET);
        uint8_t h[MLS_MAX_HASH_LEN];

        if (!exporter)
                return MLS_E_NOT_FOUND;
        if ((label_len && !label) || (context_len && !context) || len == 0 || !out)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_derive_secret_bytes_into(ks->suite, exporter, ks->nh, label, label_len,
                                             derived));
        MLS_TRY(mls_crypto_hash(ks->suite, context, context_len, h));
        return mls_expand_with_label_into(ks->suite, derived, ks->nh, "exported", h, ks->nh,
                                          out, len);
}

int
mls_ks_export(const struct mls_epoch_secrets *ks, const uint8_t *label, size_t label_len,
              const uint8_t *context, size_t context_len, size_t len,
              struct mls_secret **ret_out)
{
        _mls_secret_ struct mls_secret *out = NULL;

        if (!mls_ks_has(ks, MLS_KS_EXPORTER_SECRET))
                return MLS_E_NOT_FOUND;
        if ((label_len && !label) || (context_len && !context) || len == 0)
                return MLS_E_INVALID_ARGUMENT;
        /* Checked before allocating: a bad length costs no guarded page. */
        if (len > UINT16_MAX || len > 255 * ks->nh)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(len, &out));
        MLS_TRY(mls_ks_export_into(ks, label, label_len, context, context_len, out->data, len));
        *ret_out = MLS_TAKE(out);
        return 0;
}

int
mls_ks_external_keypair(const struct mls_epoch_secrets *ks, struct mls_secret **ret_priv,
                        struct mls_bytes *ret_pub)
{
        const uint8_t *ext = mls_ks_get(ks, MLS_KS_EXTERNAL_SECRET);

        if (!ext)
                return MLS_E_NOT_FOUND;
        /* R-8-5: external_priv, external_pub = KEM.DeriveKeyPair(external_secret) */
        return mls_crypto_kem_derive_keypair(ks->suite, ext, ks->nh, ret_priv, ret_pub);
}

#define EXTERNAL_INIT_LABEL "MLS 1.0 external init secret"

static void
wipe_kem_priv(uint8_t (*p)[MLS_MAX_KEM_PRIV_LEN])
{
        mls_wipe(*p, sizeof(*p));
}

int
mls_ks_external_init_send(const struct mls_suite *s, const struct mls_rng *rng,
                          const uint8_t *external_pub, size_t pub_len,
                          struct mls_bytes *ret_kem_output, struct mls_secret **ret_init_secret)
{
        _mls_hpke_ctx_ struct mls_hpke_ctx *ctx = NULL;
        _mls_secret_ struct mls_secret *init = NULL;
        struct mls_bytes enc = { 0 };
        int r;

        if (!s || !external_pub || !pub_len)
                return MLS_E_INVALID_ARGUMENT;
        /* R-8.3-1: kem_output, context = SetupBaseS(external_pub, "")
         *          init_secret = context.export("MLS 1.0 external init secret", KDF.Nh) */
        MLS_TRY(mls_hpke_setup_base_s(s, rng, external_pub, pub_len, NULL, 0, &enc, &ctx));
        r = mls_hpke_export(ctx, (const uint8_t *)EXTERNAL_INIT_LABEL,
                            sizeof(EXTERNAL_INIT_LABEL) - 1, s->hash_len, &init);
        if (r < 0) {
                mls_bytes_clear(&enc);
                return r;
        }
        *ret_kem_output = enc;
        *ret_init_secret = MLS_TAKE(init);
        return 0;
}

int
mls_ks_external_init_recv(const struct mls_epoch_secrets *ks, const uint8_t *kem_output,
                          size_t kem_output_len, struct mls_secret **ret_init_secret)
{
        _mls_hpke_ctx_ struct mls_hpke_ctx *ctx = NULL;
        _mls_cleanup_(wipe_kem_priv) uint8_t priv[MLS_MAX_KEM_PRIV_LEN];
        struct mls_secret priv_view;
        struct mls_bytes pub = { 0 };
        const uint8_t *ext;

        if (!ks || !kem_output || !kem_output_len)
                return MLS_E_INVALID_ARGUMENT;
        ext = mls_ks_get(ks, MLS_KS_EXTERNAL_SECRET);
        if (!ext)
                return MLS_E_NOT_FOUND;
        /* R-8-5: external_priv = KEM.DeriveKeyPair(external_secret), in a
         * wiped stack buffer for the length of this call. */
        MLS_TRY(mls_crypto_kem_derive_keypair_into(ks->suite, ext, ks->nh, priv, &pub));
        mls_bytes_clear(&pub);
        /* A borrowed view of the stack buffer (never freed). */
        priv_view = (struct mls_secret){ .len = ks->suite->kem_priv_len, .data = priv };
        /* R-8.3-2: context = SetupBaseR(kem_output, external_priv, "")
         *          init_secret = context.export("MLS 1.0 external init secret", KDF.Nh) */
        MLS_TRY(mls_hpke_setup_base_r(ks->suite, &priv_view, kem_output, kem_output_len, NULL, 0,
                                      &ctx));
        return mls_hpke_export(ctx, (const uint8_t *)EXTERNAL_INIT_LABEL,
                               sizeof(EXTERNAL_INIT_LABEL) - 1, ks->suite->hash_len,
                               ret_init_secret);
}

int
mls_ks_encode(const struct mls_epoch_secrets *ks, struct mls_writer *w)
{
        if (!ks || !w || !w->secure)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_u8(w, KS_STATE_VERSION));
        MLS_TRY(mls_writer_u16(w, ks->suite->id));
        MLS_TRY(mls_writer_u16(w, ks->present));
        for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++)
                if (ks->present & (1u << i))
                        MLS_TRY(mls_writer_raw(w, ks_slot(ks, (enum mls_ks_secret)i), ks->nh));
        return 0;
}

int
mls_ks_decode(struct mls_reader *r, struct mls_epoch_secrets **ret_ks)
{
        _mls_ks_ struct mls_epoch_secrets *ks = NULL;
        struct mls_reader t = *r;
        const struct mls_suite *s;
        uint8_t version;
        uint16_t suite, mask;

        MLS_TRY(mls_reader_u8(&t, &version));
        if (version != KS_STATE_VERSION)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u16(&t, &suite));
        s = mls_suite_get(suite);
        if (!s)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u16(&t, &mask));
        if (mask & ~KS_ALL_MASK)
                return MLS_E_BAD_STATE;
        MLS_TRY(ks_alloc(s, &ks));
        for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++) {
                const uint8_t *p;

                if (!(mask & (1u << i)))
                        continue;
                MLS_TRY(mls_reader_raw(&t, ks->nh, &p));
                memcpy(ks_slot(ks, (enum mls_ks_secret)i), p, ks->nh);
        }
        ks->present = mask;
        *r = t;
        *ret_ks = MLS_TAKE(ks);
        return 0;
}
