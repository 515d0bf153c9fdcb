/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPKE (RFC 9180) in base mode, written once over the suite table: the KEM,
 * KDF and AEAD come from struct mls_suite, nothing here branches on a suite.
 */
#include "mls/hpke.h"

#include <string.h>

#include "mls/crypto_internal.h"

struct mls_hpke_ctx {
        const struct mls_suite *suite;
        /* key (Nk) || base_nonce (Nn) || exporter_secret (Nh), guarded */
        struct mls_secret *keys;
        uint64_t seq;
};

void
mls_hpke_ctx_free(struct mls_hpke_ctx *ctx)
{
        if (!ctx)
                return;
        mls_secret_free(ctx->keys);
        free(ctx);
}

void
mls_hpke_ctx_freep(struct mls_hpke_ctx **ctx)
{
        mls_hpke_ctx_free(*ctx);
        *ctx = NULL;
}

const uint8_t *
mls_hpke_ctx_key(const struct mls_hpke_ctx *ctx, size_t *ret_len)
{
        *ret_len = ctx->suite->aead_key_len;
        return ctx->keys->data;
}

const uint8_t *
mls_hpke_ctx_base_nonce(const struct mls_hpke_ctx *ctx, size_t *ret_len)
{
        *ret_len = ctx->suite->aead_nonce_len;
        return ctx->keys->data + ctx->suite->aead_key_len;
}

const uint8_t *
mls_hpke_ctx_exporter_secret(const struct mls_hpke_ctx *ctx, size_t *ret_len)
{
        *ret_len = ctx->suite->hash_len;
        return ctx->keys->data + ctx->suite->aead_key_len + ctx->suite->aead_nonce_len;
}

uint64_t
mls_hpke_ctx_seq(const struct mls_hpke_ctx *ctx)
{
        return ctx->seq;
}

void
mls_hpke_ctx_set_seq(struct mls_hpke_ctx *ctx, uint64_t seq)
{
        ctx->seq = seq;
}

/* ---- DHKEM (RFC 9180 section 4.1) ---- */

/*   def ExtractAndExpand(dh, kem_context):
 *     eae_prk = LabeledExtract("", "eae_prk", dh)
 *     shared_secret = LabeledExpand(eae_prk, "shared_secret",
 *                                   kem_context, Nsecret)
 *     return shared_secret
 * with kem_context = concat(enc, pkRm). */
static void
wipe_hash(uint8_t (*p)[MLS_MAX_HASH_LEN])
{
        mls_wipe(*p, sizeof(*p));
}

static int
extract_and_expand(const struct mls_suite *s, const struct mls_secret *dh, const uint8_t *enc,
                   const uint8_t *pk_rm, struct mls_secret **ret_shared)
{
        const struct mls_kem_ops *k = s->ops->kem;
        _mls_cleanup_(wipe_hash) uint8_t prk[MLS_MAX_HASH_LEN];
        _mls_secret_ struct mls_secret *shared = NULL;
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len = mls_hpke_kem_suite_id(k->id, sid);
        uint8_t kem_context[2 * MLS_MAX_KEM_ENC_LEN];

        memcpy(kem_context, enc, k->pub_len);
        memcpy(kem_context + k->pub_len, pk_rm, k->pub_len);
        MLS_TRY(mls_hpke_labeled_extract(k->kdf, sid, sid_len, NULL, 0, "eae_prk", dh->data,
                                         dh->len, prk));
        MLS_TRY(mls_secret_new(k->secret_len, &shared));
        MLS_TRY(mls_hpke_labeled_expand(k->kdf, sid, sid_len, prk, k->kdf->len, "shared_secret",
                                        kem_context, 2 * k->pub_len, shared->data,
                                        shared->len));
        *ret_shared = MLS_TAKE(shared);
        return 0;
}

/*   def Encap(pkR):
 *     skE, pkE = GenerateKeyPair()
 *     dh = DH(skE, pkR)
 *     enc = SerializePublicKey(pkE)
 *     pkRm = SerializePublicKey(pkR)
 *     kem_context = concat(enc, pkRm)
 *     shared_secret = ExtractAndExpand(dh, kem_context)
 *     return shared_secret, enc */
static int
encap_with(const struct mls_suite *s, const struct mls_secret *sk_e, const struct mls_bytes *pk_e,
           const uint8_t *pk_r, size_t pk_r_len, struct mls_secret **ret_shared,
           struct mls_bytes *ret_enc)
{
        _mls_secret_ struct mls_secret *dh = NULL;
        _mls_secret_ struct mls_secret *shared = NULL;

        /* DeserializePublicKey(pkR) validates the key. */
        MLS_TRY(mls_crypto_kem_check_pub(s, pk_r, pk_r_len));
        MLS_TRY(mls_crypto_dh(s, sk_e, pk_r, pk_r_len, &dh));
        MLS_TRY(extract_and_expand(s, dh, pk_e->data, pk_r, &shared));
        MLS_TRY(mls_bytes_dup(ret_enc, pk_e));
        *ret_shared = MLS_TAKE(shared);
        return 0;
}

int
mls_hpke_encap_derand(const struct mls_suite *s, const uint8_t *ikm_e, size_t ikm_e_len,
                      const uint8_t *pk_r, size_t pk_r_len, struct mls_secret **ret_shared_secret,
                      struct mls_bytes *ret_enc)
{
        _mls_secret_ struct mls_secret *sk_e = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pk_e = { 0 };

        if (!s || (!ikm_e && ikm_e_len) || (!pk_r && pk_r_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_crypto_kem_derive_keypair(s, ikm_e, ikm_e_len, &sk_e, &pk_e));
        return encap_with(s, sk_e, &pk_e, pk_r, pk_r_len, ret_shared_secret, ret_enc);
}

int
mls_hpke_encap(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
               size_t pk_r_len, struct mls_secret **ret_shared_secret, struct mls_bytes *ret_enc)
{
        _mls_secret_ struct mls_secret *sk_e = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pk_e = { 0 };

        if (!s || !rng || (!pk_r && pk_r_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_crypto_kem_generate(s, rng, &sk_e, &pk_e));
        return encap_with(s, sk_e, &pk_e, pk_r, pk_r_len, ret_shared_secret, ret_enc);
}

/*   def Decap(enc, skR):
 *     pkE = DeserializePublicKey(enc)
 *     dh = DH(skR, pkE)
 *     kem_context = concat(enc, SerializePublicKey(pk(skR)))
 *     shared_secret = ExtractAndExpand(dh, kem_context)
 *     return shared_secret */
int
mls_hpke_decap(const struct mls_suite *s, const struct mls_secret *sk_r, const uint8_t *enc,
               size_t enc_len, struct mls_secret **ret_shared_secret)
{
        _mls_secret_ struct mls_secret *dh = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pk_rm = { 0 };

        if (!s || !sk_r || (!enc && enc_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_crypto_kem_check_pub(s, enc, enc_len));
        MLS_TRY(mls_crypto_dh(s, sk_r, enc, enc_len, &dh));
        MLS_TRY(mls_crypto_kem_pub_from_priv(s, sk_r, &pk_rm));
        return extract_and_expand(s, dh, enc, pk_rm.data, ret_shared_secret);
}

/* ---- key schedule (RFC 9180 section 5.1), mode_base ---- */

/*   psk_id_hash = LabeledExtract("", "psk_id_hash", psk_id)
 *   info_hash = LabeledExtract("", "info_hash", info)
 *   key_schedule_context = concat(mode, psk_id_hash, info_hash)
 *   secret = LabeledExtract(shared_secret, "secret", psk)
 *   key = LabeledExpand(secret, "key", key_schedule_context, Nk)
 *   base_nonce = LabeledExpand(secret, "base_nonce", key_schedule_context, Nn)
 *   exporter_secret = LabeledExpand(secret, "exp", key_schedule_context, Nh)
 * with mode_base = 0x00 and psk = psk_id = "". */
int
mls_hpke_info_prepare(const struct mls_suite *s, const uint8_t *info, size_t info_len,
                      struct mls_hpke_info *ret_info)
{
        struct mls_hpke_info pi = { .suite = s };
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len;

        if (!s || (!info && info_len))
                return MLS_E_INVALID_ARGUMENT;
        sid_len = mls_hpke_full_suite_id(s, sid);
        pi.ksc_len = 1 + 2 * s->hash_len;
        pi.ksc[0] = 0x00; /* mode_base */
        MLS_TRY(mls_hpke_labeled_extract(s->ops->hash, sid, sid_len, NULL, 0, "psk_id_hash", NULL,
                                         0, pi.ksc + 1));
        MLS_TRY(mls_hpke_labeled_extract(s->ops->hash, sid, sid_len, NULL, 0, "info_hash", info,
                                         info_len, pi.ksc + 1 + s->hash_len));
        *ret_info = pi;
        return 0;
}

int
mls_hpke_key_schedule_base_prepared(const struct mls_hpke_info *info,
                                    const struct mls_secret *shared_secret,
                                    struct mls_hpke_ctx **ret_ctx)
{
        const struct mls_suite *s;
        const struct mls_hash_ops *h;
        _mls_cleanup_(wipe_hash) uint8_t secret[MLS_MAX_HASH_LEN];
        _mls_secret_ struct mls_secret *keys = NULL;
        _mls_free_ struct mls_hpke_ctx *ctx = NULL;
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len, nk, nn, nh;

        if (!info || !info->suite || !shared_secret)
                return MLS_E_INVALID_ARGUMENT;
        s = info->suite;
        h = s->ops->hash;
        nk = s->aead_key_len;
        nn = s->aead_nonce_len;
        nh = s->hash_len;
        sid_len = mls_hpke_full_suite_id(s, sid);
        MLS_TRY(mls_hpke_labeled_extract(h, sid, sid_len, shared_secret->data,
                                         shared_secret->len, "secret", NULL, 0, secret));
        /* key, base_nonce and exporter_secret go straight into the
         * context's one guarded buffer. */
        MLS_TRY(mls_secret_new(nk + nn + nh, &keys));
        MLS_TRY(mls_hpke_labeled_expand(h, sid, sid_len, secret, nh, "key", info->ksc,
                                        info->ksc_len, keys->data, nk));
        MLS_TRY(mls_hpke_labeled_expand(h, sid, sid_len, secret, nh, "base_nonce", info->ksc,
                                        info->ksc_len, keys->data + nk, nn));
        MLS_TRY(mls_hpke_labeled_expand(h, sid, sid_len, secret, nh, "exp", info->ksc,
                                        info->ksc_len, keys->data + nk + nn, nh));
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
                return MLS_E_NOMEM;
        ctx->suite = s;
        ctx->keys = MLS_TAKE(keys);
        ctx->seq = 0;
        *ret_ctx = MLS_TAKE(ctx);
        return 0;
}

int
mls_hpke_key_schedule_base(const struct mls_suite *s, const struct mls_secret *shared_secret,
                           const uint8_t *info, size_t info_len, struct mls_hpke_ctx **ret_ctx)
{
        struct mls_hpke_info pi;

        if (!shared_secret)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_hpke_info_prepare(s, info, info_len, &pi));
        return mls_hpke_key_schedule_base_prepared(&pi, shared_secret, ret_ctx);
}

/* ---- setup (RFC 9180 section 5.1.1) ---- */

int
mls_hpke_setup_base_s_derand(const struct mls_suite *s, const uint8_t *ikm_e, size_t ikm_e_len,
                             const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                             size_t info_len, struct mls_bytes *ret_enc,
                             struct mls_hpke_ctx **ret_ctx)
{
        _mls_secret_ struct mls_secret *shared = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes enc = { 0 };

        MLS_TRY(mls_hpke_encap_derand(s, ikm_e, ikm_e_len, pk_r, pk_r_len, &shared, &enc));
        MLS_TRY(mls_hpke_key_schedule_base(s, shared, info, info_len, ret_ctx));
        *ret_enc = enc;
        enc = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_hpke_setup_base_s(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
                      size_t pk_r_len, const uint8_t *info, size_t info_len,
                      struct mls_bytes *ret_enc, struct mls_hpke_ctx **ret_ctx)
{
        _mls_secret_ struct mls_secret *shared = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes enc = { 0 };

        MLS_TRY(mls_hpke_encap(s, rng, pk_r, pk_r_len, &shared, &enc));
        MLS_TRY(mls_hpke_key_schedule_base(s, shared, info, info_len, ret_ctx));
        *ret_enc = enc;
        enc = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_hpke_setup_base_r(const struct mls_suite *s, const struct mls_secret *sk_r,
                      const uint8_t *enc, size_t enc_len, const uint8_t *info, size_t info_len,
                      struct mls_hpke_ctx **ret_ctx)
{
        _mls_secret_ struct mls_secret *shared = NULL;

        MLS_TRY(mls_hpke_decap(s, sk_r, enc, enc_len, &shared));
        return mls_hpke_key_schedule_base(s, shared, info, info_len, ret_ctx);
}

/* ---- encryption and export (RFC 9180 sections 5.2, 5.3) ---- */

static void
wipe_nonce(uint8_t (*p)[MLS_MAX_AEAD_NONCE_LEN])
{
        mls_wipe(*p, sizeof(*p));
}

/*   def ComputeNonce(self, seq):
 *     seq_bytes = I2OSP(seq, Nn)
 *     return xor(self.base_nonce, seq_bytes)
 *
 *   def IncrementSeq(self):
 *     if self.seq >= (1 << (8*Nn)) - 1:
 *       raise MessageLimitReachedError
 *     self.seq += 1
 * Nn = 12 for every suite, so the limit is the width of our uint64: a
 * context refuses its 2^64-th message rather than wrap. */
static int
compute_nonce(const struct mls_hpke_ctx *ctx, uint8_t *nonce)
{
        size_t nn = ctx->suite->aead_nonce_len;
        const uint8_t *base = ctx->keys->data + ctx->suite->aead_key_len;

        if (ctx->seq == UINT64_MAX)
                return MLS_E_TOO_LARGE;
        memcpy(nonce, base, nn);
        for (size_t i = 0; i < 8 && i < nn; i++)
                nonce[nn - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
        return 0;
}

int
mls_hpke_seal(struct mls_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
              size_t pt_len, struct mls_bytes *ret_ct)
{
        _mls_cleanup_(wipe_nonce) uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
        _mls_free_ uint8_t *ct = NULL;
        size_t ct_len;

        if (!ctx || (!aad && aad_len) || (!pt && pt_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_size_add(pt_len, ctx->suite->aead_tag_len, &ct_len));
        MLS_TRY(compute_nonce(ctx, nonce));
        ct = malloc(ct_len);
        if (!ct)
                return MLS_E_NOMEM;
        MLS_TRY(mls_crypto_aead_seal(ctx->suite, ctx->keys->data, nonce, aad, aad_len, pt,
                                     pt_len, ct));
        ctx->seq++;
        ret_ct->data = MLS_TAKE(ct);
        ret_ct->len = ct_len;
        return 0;
}

int
mls_hpke_open(struct mls_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
              size_t ct_len, struct mls_secret **ret_pt)
{
        _mls_cleanup_(wipe_nonce) uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
        _mls_secret_ struct mls_secret *pt = NULL;

        if (!ctx || (!aad && aad_len) || (!ct && ct_len))
                return MLS_E_INVALID_ARGUMENT;
        if (ct_len < ctx->suite->aead_tag_len)
                return MLS_E_DECRYPT;
        MLS_TRY(compute_nonce(ctx, nonce));
        MLS_TRY(mls_secret_new(ct_len - ctx->suite->aead_tag_len, &pt));
        MLS_TRY(mls_crypto_aead_open(ctx->suite, ctx->keys->data, nonce, aad, aad_len, ct,
                                     ct_len, pt->data));
        ctx->seq++;
        *ret_pt = MLS_TAKE(pt);
        return 0;
}

/*   def Context.Export(exporter_context, L):
 *     return LabeledExpand(self.exporter_secret, "sec", exporter_context, L) */
int
mls_hpke_export(const struct mls_hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len,
                size_t len, struct mls_secret **ret_out)
{
        _mls_secret_ struct mls_secret *out = NULL;
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len, n;
        const uint8_t *exp;

        if (!ctx || (!exp_ctx && exp_ctx_len))
                return MLS_E_INVALID_ARGUMENT;
        if (len > 255 * ctx->suite->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        sid_len = mls_hpke_full_suite_id(ctx->suite, sid);
        exp = mls_hpke_ctx_exporter_secret(ctx, &n);
        MLS_TRY(mls_secret_new(len, &out));
        MLS_TRY(mls_hpke_labeled_expand(ctx->suite->ops->hash, sid, sid_len, exp, n, "sec",
                                        exp_ctx, exp_ctx_len, out->data, len));
        *ret_out = MLS_TAKE(out);
        return 0;
}

/* ---- single shot (RFC 9180 section 6.1) ---- */

int
mls_hpke_seal_base(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
                   size_t pk_r_len, const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t pt_len, struct mls_bytes *ret_enc,
                   struct mls_bytes *ret_ct)
{
        _mls_hpke_ctx_ struct mls_hpke_ctx *ctx = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes enc = { 0 };
        struct mls_bytes ct = { 0 };

        MLS_TRY(mls_hpke_setup_base_s(s, rng, pk_r, pk_r_len, info, info_len, &enc, &ctx));
        MLS_TRY(mls_hpke_seal(ctx, aad, aad_len, pt, pt_len, &ct));
        *ret_enc = enc;
        enc = (struct mls_bytes){ 0 };
        *ret_ct = ct;
        return 0;
}

int
mls_hpke_seal_base_prepared(const struct mls_hpke_info *info, const struct mls_rng *rng,
                            const uint8_t *pk_r, size_t pk_r_len, const uint8_t *aad,
                            size_t aad_len, const uint8_t *pt, size_t pt_len,
                            struct mls_bytes *ret_enc, struct mls_bytes *ret_ct)
{
        _mls_hpke_ctx_ struct mls_hpke_ctx *ctx = NULL;
        _mls_secret_ struct mls_secret *shared = NULL;
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes enc = { 0 };
        struct mls_bytes ct = { 0 };

        if (!info || !info->suite)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_hpke_encap(info->suite, rng, pk_r, pk_r_len, &shared, &enc));
        MLS_TRY(mls_hpke_key_schedule_base_prepared(info, shared, &ctx));
        MLS_TRY(mls_hpke_seal(ctx, aad, aad_len, pt, pt_len, &ct));
        *ret_enc = enc;
        enc = (struct mls_bytes){ 0 };
        *ret_ct = ct;
        return 0;
}

int
mls_hpke_open_base(const struct mls_suite *s, const struct mls_secret *sk_r, const uint8_t *enc,
                   size_t enc_len, const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *ct, size_t ct_len, struct mls_secret **ret_pt)
{
        _mls_hpke_ctx_ struct mls_hpke_ctx *ctx = NULL;

        MLS_TRY(mls_hpke_setup_base_r(s, sk_r, enc, enc_len, info, info_len, &ctx));
        return mls_hpke_open(ctx, aad, aad_len, ct, ct_len, ret_pt);
}
