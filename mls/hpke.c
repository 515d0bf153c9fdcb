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

/* ---- DHKEM (RFC 9180 section 4.1) ----
 *
 * Every transient of the KEM (ephemeral private key, DH output, eae_prk,
 * shared_secret) lives in a stack buffer of an MLS_MAX_* size, wiped on
 * every return path by its cleanup attribute: a single-shot seal does not
 * touch guarded memory at all, an open only for the plaintext it returns. */

/*   def ExtractAndExpand(dh, kem_context):
 *     eae_prk = LabeledExtract("", "eae_prk", dh)
 *     shared_secret = LabeledExpand(eae_prk, "shared_secret",
 *                                   kem_context, Nsecret)
 *     return shared_secret
 * with kem_context = concat(enc, pkRm). out: Nsecret bytes. */
static int
extract_and_expand(const struct mls_suite *s, const uint8_t *dh, size_t dh_len,
                   const uint8_t *enc, const uint8_t *pk_rm, uint8_t *out)
{
        const struct mls_kem_ops *k = s->ops->kem;
        _mls_hash_buf_ uint8_t prk[MLS_MAX_HASH_LEN];
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len = mls_hpke_kem_suite_id(k->id, sid);
        uint8_t kem_context[2 * MLS_MAX_KEM_ENC_LEN];

        memcpy(kem_context, enc, k->pub_len);
        memcpy(kem_context + k->pub_len, pk_rm, k->pub_len);
        MLS_TRY(mls_hpke_labeled_extract(k->kdf, sid, sid_len, NULL, 0, "eae_prk", dh, dh_len,
                                         prk));
        return mls_hpke_labeled_expand(k->kdf, sid, sid_len, prk, k->kdf->len, "shared_secret",
                                       kem_context, 2 * k->pub_len, out, k->secret_len);
}

/*   def Encap(pkR):
 *     skE, pkE = GenerateKeyPair()
 *     dh = DH(skE, pkR)
 *     enc = SerializePublicKey(pkE)
 *     pkRm = SerializePublicKey(pkR)
 *     kem_context = concat(enc, pkRm)
 *     shared_secret = ExtractAndExpand(dh, kem_context)
 *     return shared_secret, enc
 * with the ephemeral key pair DeriveKeyPair(ikm_e). shared: Nsecret bytes
 * (wiped on failure); on success pk_e moves to *ret_enc. */
static int
encap_ikm(const struct mls_suite *s, const uint8_t *ikm_e, size_t ikm_e_len, const uint8_t *pk_r,
          size_t pk_r_len, uint8_t *shared, struct mls_bytes *ret_enc)
{
        _mls_kem_priv_buf_ uint8_t sk_e[MLS_MAX_KEM_PRIV_LEN];
        _mls_kem_dh_buf_ uint8_t dh[MLS_MAX_KEM_DH_LEN];
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pk_e = { 0 };
        size_t dh_len;

        MLS_TRY(mls_crypto_kem_derive_keypair_into(s, ikm_e, ikm_e_len, sk_e, &pk_e));
        /* DeserializePublicKey(pkR): DH validates pkR as check_pub does
         * (MLS_E_BAD_KEY), on the one decoding of it. */
        MLS_TRY(mls_kem_dh_known_pub(s, sk_e, pk_e.data, pk_r, pk_r_len, dh, &dh_len));
        MLS_TRY(extract_and_expand(s, dh, dh_len, pk_e.data, pk_r, shared));
        *ret_enc = pk_e;
        pk_e = (struct mls_bytes){ 0 };
        return 0;
}

static void
wipe_kem_ikm(uint8_t (*p)[MLS_MAX_KEM_PRIV_LEN])
{
        mls_wipe(*p, sizeof(*p));
}

/* Encap with GenerateKeyPair = DeriveKeyPair(random(Nsk)) (RFC 9180
 * section 7.1.3). */
static int
encap_rng(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
          size_t pk_r_len, uint8_t *shared, struct mls_bytes *ret_enc)
{
        _mls_cleanup_(wipe_kem_ikm) uint8_t ikm[MLS_MAX_KEM_PRIV_LEN];

        MLS_TRY(mls_rng_fill(rng, ikm, s->kem_priv_len));
        return encap_ikm(s, ikm, s->kem_priv_len, pk_r, pk_r_len, shared, ret_enc);
}

/*   def Decap(enc, skR):
 *     pkE = DeserializePublicKey(enc)
 *     dh = DH(skR, pkE)
 *     kem_context = concat(enc, SerializePublicKey(pk(skR)))
 *     shared_secret = ExtractAndExpand(dh, kem_context)
 *     return shared_secret
 * shared: Nsecret bytes. */
static int
decap(const struct mls_suite *s, const struct mls_secret *sk_r, const uint8_t *enc,
      size_t enc_len, uint8_t *shared)
{
        _mls_kem_dh_buf_ uint8_t dh[MLS_MAX_KEM_DH_LEN];
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes pk_rm = { 0 };
        size_t dh_len;

        MLS_TRY(mls_crypto_kem_pub_from_priv(s, sk_r, &pk_rm));
        /* pkE = DeserializePublicKey(enc): validated by DH as check_pub
         * does (MLS_E_BAD_KEY). */
        MLS_TRY(mls_kem_dh_known_pub(s, sk_r->data, pk_rm.data, enc, enc_len, dh, &dh_len));
        return extract_and_expand(s, dh, dh_len, enc, pk_rm.data, shared);
}

int
mls_hpke_encap_derand(const struct mls_suite *s, const uint8_t *ikm_e, size_t ikm_e_len,
                      const uint8_t *pk_r, size_t pk_r_len, struct mls_secret **ret_shared_secret,
                      struct mls_bytes *ret_enc)
{
        _mls_secret_ struct mls_secret *shared = NULL;

        if (!s || (!ikm_e && ikm_e_len) || (!pk_r && pk_r_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(s->kem_secret_len, &shared));
        MLS_TRY(encap_ikm(s, ikm_e, ikm_e_len, pk_r, pk_r_len, shared->data, ret_enc));
        *ret_shared_secret = MLS_TAKE(shared);
        return 0;
}

int
mls_hpke_encap_into(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
                    size_t pk_r_len, uint8_t *shared_out, struct mls_bytes *ret_enc)
{
        int r;

        if (!s || !rng || !shared_out || !ret_enc || (!pk_r && pk_r_len))
                return MLS_E_INVALID_ARGUMENT;
        r = encap_rng(s, rng, pk_r, pk_r_len, shared_out, ret_enc);
        if (r < 0)
                mls_wipe(shared_out, s->kem_secret_len);
        return r;
}

int
mls_hpke_encap(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
               size_t pk_r_len, struct mls_secret **ret_shared_secret, struct mls_bytes *ret_enc)
{
        _mls_secret_ struct mls_secret *shared = NULL;

        if (!s || !rng || (!pk_r && pk_r_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(s->kem_secret_len, &shared));
        MLS_TRY(encap_rng(s, rng, pk_r, pk_r_len, shared->data, ret_enc));
        *ret_shared_secret = MLS_TAKE(shared);
        return 0;
}

int
mls_hpke_decap_into(const struct mls_suite *s, const struct mls_secret *sk_r, const uint8_t *enc,
                    size_t enc_len, uint8_t *shared_out)
{
        int r;

        if (!s || !sk_r || !shared_out || (!enc && enc_len))
                return MLS_E_INVALID_ARGUMENT;
        r = decap(s, sk_r, enc, enc_len, shared_out);
        if (r < 0)
                mls_wipe(shared_out, s->kem_secret_len);
        return r;
}

int
mls_hpke_decap(const struct mls_suite *s, const struct mls_secret *sk_r, const uint8_t *enc,
               size_t enc_len, struct mls_secret **ret_shared_secret)
{
        _mls_secret_ struct mls_secret *shared = NULL;

        if (!s || !sk_r || (!enc && enc_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(s->kem_secret_len, &shared));
        MLS_TRY(decap(s, sk_r, enc, enc_len, shared->data));
        *ret_shared_secret = MLS_TAKE(shared);
        return 0;
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

/* key (Nk) || base_nonce (Nn) || exporter_secret (Nh) of the largest suite */
#define HPKE_KEYS_MAX (MLS_MAX_AEAD_KEY_LEN + MLS_MAX_AEAD_NONCE_LEN + MLS_MAX_HASH_LEN)

static void
wipe_keys(uint8_t (*p)[HPKE_KEYS_MAX])
{
        mls_wipe(*p, sizeof(*p));
}

/* The secret half of KeySchedule (mode_base) into caller memory:
 * keys = key || base_nonce [|| exporter_secret when with_exporter]; a
 * single-shot seal or open never exports, so it skips that expansion.
 * keys is wiped on failure. */
static int
key_schedule_into(const struct mls_hpke_info *info, const uint8_t *shared, size_t shared_len,
                  bool with_exporter, uint8_t *keys)
{
        const struct mls_suite *s = info->suite;
        const struct mls_hash_ops *h = s->ops->hash;
        _mls_hash_buf_ uint8_t secret[MLS_MAX_HASH_LEN];
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len = mls_hpke_full_suite_id(s, sid);
        size_t nk = s->aead_key_len, nn = s->aead_nonce_len, nh = s->hash_len;
        int r;

        MLS_TRY(mls_hpke_labeled_extract(h, sid, sid_len, shared, shared_len, "secret", NULL, 0,
                                         secret));
        r = mls_hpke_labeled_expand(h, sid, sid_len, secret, nh, "key", info->ksc, info->ksc_len,
                                    keys, nk);
        if (r == 0)
                r = mls_hpke_labeled_expand(h, sid, sid_len, secret, nh, "base_nonce", info->ksc,
                                            info->ksc_len, keys + nk, nn);
        if (r == 0 && with_exporter)
                r = mls_hpke_labeled_expand(h, sid, sid_len, secret, nh, "exp", info->ksc,
                                            info->ksc_len, keys + nk + nn, nh);
        if (r < 0)
                mls_wipe(keys, nk + nn + (with_exporter ? nh : 0));
        return r;
}

/* A context around shared_secret: its one guarded allocation holds key,
 * base_nonce and exporter_secret, derived straight into it. */
static int
ctx_new(const struct mls_hpke_info *info, const uint8_t *shared, size_t shared_len,
        struct mls_hpke_ctx **ret_ctx)
{
        const struct mls_suite *s = info->suite;
        _mls_secret_ struct mls_secret *keys = NULL;
        _mls_free_ struct mls_hpke_ctx *ctx = NULL;

        MLS_TRY(mls_secret_new(s->aead_key_len + s->aead_nonce_len + s->hash_len, &keys));
        MLS_TRY(key_schedule_into(info, shared, shared_len, true, keys->data));
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
mls_hpke_key_schedule_base_prepared(const struct mls_hpke_info *info,
                                    const struct mls_secret *shared_secret,
                                    struct mls_hpke_ctx **ret_ctx)
{
        if (!info || !info->suite || !shared_secret)
                return MLS_E_INVALID_ARGUMENT;
        return ctx_new(info, shared_secret->data, shared_secret->len, ret_ctx);
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
        _mls_hash_buf_ uint8_t shared[MLS_MAX_HASH_LEN];
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes enc = { 0 };
        struct mls_hpke_info pi;

        if (!s || (!ikm_e && ikm_e_len) || (!pk_r && pk_r_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(encap_ikm(s, ikm_e, ikm_e_len, pk_r, pk_r_len, shared, &enc));
        MLS_TRY(mls_hpke_info_prepare(s, info, info_len, &pi));
        MLS_TRY(ctx_new(&pi, shared, s->kem_secret_len, ret_ctx));
        *ret_enc = enc;
        enc = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_hpke_setup_base_s(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
                      size_t pk_r_len, const uint8_t *info, size_t info_len,
                      struct mls_bytes *ret_enc, struct mls_hpke_ctx **ret_ctx)
{
        _mls_hash_buf_ uint8_t shared[MLS_MAX_HASH_LEN];
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes enc = { 0 };
        struct mls_hpke_info pi;

        if (!s || !rng || (!pk_r && pk_r_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(encap_rng(s, rng, pk_r, pk_r_len, shared, &enc));
        MLS_TRY(mls_hpke_info_prepare(s, info, info_len, &pi));
        MLS_TRY(ctx_new(&pi, shared, s->kem_secret_len, ret_ctx));
        *ret_enc = enc;
        enc = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_hpke_setup_base_r(const struct mls_suite *s, const struct mls_secret *sk_r,
                      const uint8_t *enc, size_t enc_len, const uint8_t *info, size_t info_len,
                      struct mls_hpke_ctx **ret_ctx)
{
        _mls_hash_buf_ uint8_t shared[MLS_MAX_HASH_LEN];
        struct mls_hpke_info pi;

        if (!s || !sk_r || (!enc && enc_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(decap(s, sk_r, enc, enc_len, shared));
        MLS_TRY(mls_hpke_info_prepare(s, info, info_len, &pi));
        return ctx_new(&pi, shared, s->kem_secret_len, ret_ctx);
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
 * context refuses its 2^64-th message rather than wrap.
 * keys = key || base_nonce || ... as laid out by key_schedule_into. */
static int
compute_nonce(const struct mls_suite *s, const uint8_t *keys, uint64_t seq, uint8_t *nonce)
{
        size_t nn = s->aead_nonce_len;

        if (seq == UINT64_MAX)
                return MLS_E_TOO_LARGE;
        memcpy(nonce, keys + s->aead_key_len, nn);
        for (size_t i = 0; i < 8 && i < nn; i++)
                nonce[nn - 1 - i] ^= (uint8_t)(seq >> (8 * i));
        return 0;
}

/* ContextS.Seal with the keys and sequence number given. */
static int
keys_seal(const struct mls_suite *s, const uint8_t *keys, uint64_t seq, const uint8_t *aad,
          size_t aad_len, const uint8_t *pt, size_t pt_len, struct mls_bytes *ret_ct)
{
        _mls_cleanup_(wipe_nonce) uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
        _mls_free_ uint8_t *ct = NULL;
        size_t ct_len;

        MLS_TRY(mls_size_add(pt_len, s->aead_tag_len, &ct_len));
        MLS_TRY(compute_nonce(s, keys, seq, nonce));
        ct = malloc(ct_len);
        if (!ct)
                return MLS_E_NOMEM;
        MLS_TRY(mls_crypto_aead_seal(s, keys, nonce, aad, aad_len, pt, pt_len, ct));
        ret_ct->data = MLS_TAKE(ct);
        ret_ct->len = ct_len;
        return 0;
}

/* ContextR.Open with the keys and sequence number given; the plaintext
 * goes into a new guarded buffer (the only one an open allocates). */
static int
keys_open(const struct mls_suite *s, const uint8_t *keys, uint64_t seq, const uint8_t *aad,
          size_t aad_len, const uint8_t *ct, size_t ct_len, struct mls_secret **ret_pt)
{
        _mls_cleanup_(wipe_nonce) uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
        _mls_secret_ struct mls_secret *pt = NULL;

        if (ct_len < s->aead_tag_len)
                return MLS_E_DECRYPT;
        MLS_TRY(compute_nonce(s, keys, seq, nonce));
        MLS_TRY(mls_secret_new(ct_len - s->aead_tag_len, &pt));
        MLS_TRY(mls_crypto_aead_open(s, keys, nonce, aad, aad_len, ct, ct_len, pt->data));
        *ret_pt = MLS_TAKE(pt);
        return 0;
}

int
mls_hpke_seal(struct mls_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
              size_t pt_len, struct mls_bytes *ret_ct)
{
        if (!ctx || !ret_ct || (!aad && aad_len) || (!pt && pt_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(keys_seal(ctx->suite, ctx->keys->data, ctx->seq, aad, aad_len, pt, pt_len,
                          ret_ct));
        ctx->seq++;
        return 0;
}

int
mls_hpke_open(struct mls_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
              size_t ct_len, struct mls_secret **ret_pt)
{
        if (!ctx || !ret_pt || (!aad && aad_len) || (!ct && ct_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(keys_open(ctx->suite, ctx->keys->data, ctx->seq, aad, aad_len, ct, ct_len,
                          ret_pt));
        ctx->seq++;
        return 0;
}

/*   def Context.Export(exporter_context, L):
 *     return LabeledExpand(self.exporter_secret, "sec", exporter_context, L) */
int
mls_hpke_export_into(const struct mls_hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len,
                     uint8_t *out, size_t len)
{
        uint8_t sid[MLS_HPKE_SUITE_ID_MAX];
        size_t sid_len, n;
        const uint8_t *exp;

        if (!ctx || !out || (!exp_ctx && exp_ctx_len))
                return MLS_E_INVALID_ARGUMENT;
        /* An invalid length leaves out untouched (its size is unknown). */
        if (len > 255 * ctx->suite->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        sid_len = mls_hpke_full_suite_id(ctx->suite, sid);
        exp = mls_hpke_ctx_exporter_secret(ctx, &n);
        return mls_hpke_labeled_expand(ctx->suite->ops->hash, sid, sid_len, exp, n, "sec", exp_ctx,
                                       exp_ctx_len, out, len);
}

int
mls_hpke_export(const struct mls_hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len,
                size_t len, struct mls_secret **ret_out)
{
        _mls_secret_ struct mls_secret *out = NULL;

        if (!ctx || (!exp_ctx && exp_ctx_len))
                return MLS_E_INVALID_ARGUMENT;
        if (len > 255 * ctx->suite->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_secret_new(len, &out));
        MLS_TRY(mls_hpke_export_into(ctx, exp_ctx, exp_ctx_len, out->data, len));
        *ret_out = MLS_TAKE(out);
        return 0;
}

/* ---- single shot (RFC 9180 section 6.1) ----
 *
 * No context object: shared_secret and the key schedule's outputs stay in
 * wiped stack buffers, the message is sealed or opened with sequence
 * number 0. A seal allocates no guarded memory; an open one buffer, the
 * plaintext it returns. */

/* SealBase from a prepared info: Encap, KeySchedule, Seal. */
static int
seal_base(const struct mls_hpke_info *info, const struct mls_rng *rng, const uint8_t *pk_r,
          size_t pk_r_len, const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
          struct mls_bytes *ret_enc, struct mls_bytes *ret_ct)
{
        const struct mls_suite *s = info->suite;
        _mls_hash_buf_ uint8_t shared[MLS_MAX_HASH_LEN];
        _mls_cleanup_(wipe_keys) uint8_t keys[HPKE_KEYS_MAX];
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes enc = { 0 };
        struct mls_bytes ct = { 0 };

        if (!rng || !ret_enc || !ret_ct || (!pk_r && pk_r_len) || (!aad && aad_len) ||
            (!pt && pt_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(encap_rng(s, rng, pk_r, pk_r_len, shared, &enc));
        MLS_TRY(key_schedule_into(info, shared, s->kem_secret_len, false, keys));
        MLS_TRY(keys_seal(s, keys, 0, aad, aad_len, pt, pt_len, &ct));
        *ret_enc = enc;
        enc = (struct mls_bytes){ 0 };
        *ret_ct = ct;
        return 0;
}

int
mls_hpke_seal_base(const struct mls_suite *s, const struct mls_rng *rng, const uint8_t *pk_r,
                   size_t pk_r_len, const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t pt_len, struct mls_bytes *ret_enc,
                   struct mls_bytes *ret_ct)
{
        struct mls_hpke_info pi;

        MLS_TRY(mls_hpke_info_prepare(s, info, info_len, &pi));
        return seal_base(&pi, rng, pk_r, pk_r_len, aad, aad_len, pt, pt_len, ret_enc, ret_ct);
}

int
mls_hpke_seal_base_prepared(const struct mls_hpke_info *info, const struct mls_rng *rng,
                            const uint8_t *pk_r, size_t pk_r_len, const uint8_t *aad,
                            size_t aad_len, const uint8_t *pt, size_t pt_len,
                            struct mls_bytes *ret_enc, struct mls_bytes *ret_ct)
{
        if (!info || !info->suite)
                return MLS_E_INVALID_ARGUMENT;
        return seal_base(info, rng, pk_r, pk_r_len, aad, aad_len, pt, pt_len, ret_enc, ret_ct);
}

int
mls_hpke_open_base(const struct mls_suite *s, const struct mls_secret *sk_r, const uint8_t *enc,
                   size_t enc_len, const uint8_t *info, size_t info_len, const uint8_t *aad,
                   size_t aad_len, const uint8_t *ct, size_t ct_len, struct mls_secret **ret_pt)
{
        _mls_hash_buf_ uint8_t shared[MLS_MAX_HASH_LEN];
        _mls_cleanup_(wipe_keys) uint8_t keys[HPKE_KEYS_MAX];
        struct mls_hpke_info pi;

        if (!s || !sk_r || !ret_pt || (!enc && enc_len) || (!aad && aad_len) || (!ct && ct_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(decap(s, sk_r, enc, enc_len, shared));
        MLS_TRY(mls_hpke_info_prepare(s, info, info_len, &pi));
        MLS_TRY(key_schedule_into(&pi, shared, s->kem_secret_len, false, keys));
        return keys_open(s, keys, 0, aad, aad_len, ct, ct_len, ret_pt);
}
