/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entropy pool: RFC 8937 hedged randomness over HKDF-SHA256, with a
 * forward-secure state ratchet. The construction and its choices are
 * documented in mls/entropy.h.
 */
#include "mls/entropy.h"

#include <string.h>

#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/secret.h"

/* Blocks whose fresh primary input is fetched with one source call. */
#define FRESH_BATCH 8

/* Layout of the one guarded allocation of a pool (uint8_t arrays only, so
 * sodium_malloc's unaligned pointer is fine). */
#define OFF_STATE 0
#define OFF_HEDGE (OFF_STATE + MLS_ENTROPY_STATE_LEN)
#define OFF_PULL (OFF_HEDGE + MLS_ENTROPY_STATE_LEN)
#define OFF_FRESH (OFF_PULL + MLS_ENTROPY_FRESH_LEN)
#define MEM_LEN (OFF_FRESH + FRESH_BATCH * MLS_ENTROPY_FRESH_LEN)

#define TAG_LEN(t) (sizeof(t) - 1)
#define LABEL_MAX 255

struct mls_entropy {
        struct mls_rng rng;                 /* { mls_entropy_rng_fill, self } */
        const struct mls_suite *suite;      /* suite 1: HKDF-SHA256, SHA-256 */
        struct mls_entropy_source primary;
        struct mls_entropy_source secondary;
        bool has_secondary;
        bool hedged;
        uint64_t interval;                  /* 0: no automatic pulls */
        uint64_t since_pull;                /* blocks since the last pull */
        uint64_t counter;                   /* tag2 of the next block */
        struct mls_entropy_stats stats;
        struct mls_secret *mem;             /* state | hedge | pull | fresh */
};

static uint8_t *
pool_state(struct mls_entropy *p)
{
        return p->mem->data + OFF_STATE;
}

static uint8_t *
pool_hedge(struct mls_entropy *p)
{
        return p->mem->data + OFF_HEDGE;
}

struct mix_ikm {
        uint8_t b[TAG_LEN(MLS_ENTROPY_TAG_MIX) + MLS_ENTROPY_STATE_LEN];
};
static inline void
mix_ikm_wipe(struct mix_ikm *p)
{
        mls_wipe(p, sizeof(*p));
}

struct ratchet_ikm {
        uint8_t b[MLS_ENTROPY_FRESH_LEN + MLS_ENTROPY_STATE_LEN];
};
static inline void
ratchet_ikm_wipe(struct ratchet_ikm *p)
{
        mls_wipe(p, sizeof(*p));
}

/*
 * RFC 8937 section 3, one invocation of the wrapper:
 *   G'(n) = Expand(Extract(H(Sig(sk, tag1)), G(L)), tag2, n)
 * with G(L) || S as the extracted input, tag2 = label || u64(counter)
 * (section 4: "tag2: A nonce ... implemented using a counter"), and the
 * next state as a second, differently labelled Expand of the same PRK.
 */
int
mls_entropy_ratchet(const uint8_t *hedge_key, const uint8_t state[MLS_ENTROPY_STATE_LEN],
                    const uint8_t fresh[MLS_ENTROPY_FRESH_LEN], uint64_t counter, uint8_t *out,
                    size_t out_len, uint8_t new_state[MLS_ENTROPY_STATE_LEN])
{
        const struct mls_suite *s = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        _mls_cleanup_(ratchet_ikm_wipe) struct ratchet_ikm ikm;
        _mls_hash_buf_ uint8_t prk[MLS_MAX_HASH_LEN];
        _mls_hash_buf_ uint8_t ns[MLS_MAX_HASH_LEN]; /* the first MLS_ENTROPY_STATE_LEN */
        uint8_t info_out[TAG_LEN(MLS_ENTROPY_TAG_OUTPUT) + 8];
        uint8_t info_state[TAG_LEN(MLS_ENTROPY_TAG_STATE) + 8];
        int r;

        /* RFC 8937 section 3: "We require that L >= n - L'": L = 32 (PRK),
         * L' = 8 (the counter), so n <= 32 per invocation always holds. */
        if (!s || !state || !fresh || !out || !new_state || out_len == 0 ||
            out_len > MLS_ENTROPY_BLOCK_LEN)
                return MLS_E_INVALID_ARGUMENT;

        memcpy(ikm.b, fresh, MLS_ENTROPY_FRESH_LEN);
        memcpy(ikm.b + MLS_ENTROPY_FRESH_LEN, state, MLS_ENTROPY_STATE_LEN);
        /* Extract(salt = H(Sig(sk, tag1)), IKM); no hedge: the empty salt,
         * which RFC 5869 section 2.2 reads as HashLen zero bytes. */
        r = mls_crypto_hkdf_extract_into(s, hedge_key, hedge_key ? MLS_ENTROPY_STATE_LEN : 0,
                                         ikm.b, sizeof(ikm.b), prk);
        if (r < 0) {
                mls_wipe(out, out_len);
                return r;
        }

        memcpy(info_out, MLS_ENTROPY_TAG_OUTPUT, TAG_LEN(MLS_ENTROPY_TAG_OUTPUT));
        mls_put_u64(info_out + TAG_LEN(MLS_ENTROPY_TAG_OUTPUT), counter);
        memcpy(info_state, MLS_ENTROPY_TAG_STATE, TAG_LEN(MLS_ENTROPY_TAG_STATE));
        mls_put_u64(info_state + TAG_LEN(MLS_ENTROPY_TAG_STATE), counter);

        r = mls_crypto_hkdf_expand_into(s, prk, s->hash_len, info_out, sizeof(info_out), out,
                                        out_len);
        if (r < 0) {
                mls_wipe(out, out_len);
                return r;
        }
        r = mls_crypto_hkdf_expand_into(s, prk, s->hash_len, info_state, sizeof(info_state), ns,
                                        MLS_ENTROPY_STATE_LEN);
        if (r < 0) {
                mls_wipe(out, out_len);
                return r;
        }
        /* Last, so a failure above leaves an in-place state as it was. */
        memcpy(new_state, ns, MLS_ENTROPY_STATE_LEN);
        return 0;
}

/* mix(label, x): h = Extract(label, x); S = Extract(S, TAG_MIX || h). */
static MLS_MUST_CHECK int
pool_mix(struct mls_entropy *p, const char *label, size_t label_len, const uint8_t *bytes,
         size_t len)
{
        _mls_cleanup_(mix_ikm_wipe) struct mix_ikm ikm;
        _mls_hash_buf_ uint8_t h[MLS_MAX_HASH_LEN];
        _mls_hash_buf_ uint8_t ns[MLS_MAX_HASH_LEN];

        MLS_TRY(mls_crypto_hkdf_extract_into(p->suite, (const uint8_t *)label, label_len, bytes,
                                             len, h));
        memcpy(ikm.b, MLS_ENTROPY_TAG_MIX, TAG_LEN(MLS_ENTROPY_TAG_MIX));
        memcpy(ikm.b + TAG_LEN(MLS_ENTROPY_TAG_MIX), h, MLS_ENTROPY_STATE_LEN);
        MLS_TRY(mls_crypto_hkdf_extract_into(p->suite, pool_state(p), MLS_ENTROPY_STATE_LEN,
                                             ikm.b, sizeof(ikm.b), ns));
        memcpy(pool_state(p), ns, MLS_ENTROPY_STATE_LEN);
        return 0;
}

/* Pulls 32 bytes from src into the guarded pull area and mixes them in with
 * label; the area is wiped either way. */
static MLS_MUST_CHECK int
pool_pull(struct mls_entropy *p, const struct mls_entropy_source *src, const char *label)
{
        uint8_t *buf = p->mem->data + OFF_PULL;
        int r;

        if (src->fill(src->ctx, buf, MLS_ENTROPY_FRESH_LEN) != 0) {
                mls_wipe(buf, MLS_ENTROPY_FRESH_LEN);
                return MLS_E_ENTROPY;
        }
        r = pool_mix(p, label, strlen(label), buf, MLS_ENTROPY_FRESH_LEN);
        mls_wipe(buf, MLS_ENTROPY_FRESH_LEN);
        return r;
}

/* Not MLS_MUST_CHECK: the automatic pull in mls_entropy_fill ignores a
 * failure on purpose (it is counted in the stats). */
static int
secondary_pull(struct mls_entropy *p)
{
        int r;

        p->since_pull = 0;
        r = pool_pull(p, &p->secondary, MLS_ENTROPY_MIX_SECONDARY);
        if (r < 0) {
                p->stats.secondary_failures++;
                return r;
        }
        p->stats.secondary_pulls++;
        return 0;
}

static int
entropy_rng_fill(void *ctx, uint8_t *buf, size_t len)
{
        return mls_entropy_fill(ctx, buf, len);
}

int
mls_entropy_new(const struct mls_entropy_source *primary, struct mls_entropy **ret)
{
        _mls_entropy_ struct mls_entropy *p = NULL;

        if (!primary || !primary->fill || !ret)
                return MLS_E_INVALID_ARGUMENT;
        p = calloc(1, sizeof(*p));
        if (!p)
                return MLS_E_NOMEM;
        p->suite = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        if (!p->suite)
                return MLS_E_INTERNAL;
        p->rng.fill = entropy_rng_fill;
        p->rng.ctx = p;
        p->primary = *primary;
        /* Zero-filled: S0 = 32 zero bytes. */
        MLS_TRY(mls_secret_new(MEM_LEN, &p->mem));
        MLS_TRY(pool_pull(p, &p->primary, MLS_ENTROPY_MIX_INIT));
        *ret = MLS_TAKE(p);
        return 0;
}

int
mls_entropy_new_system(struct mls_entropy **ret)
{
        const struct mls_rng *sys = mls_rng_system();
        const struct mls_entropy_source primary = { .fill = sys->fill, .ctx = sys->ctx };

        return mls_entropy_new(&primary, ret);
}

void
mls_entropy_free(struct mls_entropy *pool)
{
        if (!pool)
                return;
        mls_secret_free(pool->mem);
        mls_wipe(pool, sizeof(*pool));
        free(pool);
}

void
mls_entropy_freep(struct mls_entropy **pool)
{
        mls_entropy_free(*pool);
        *pool = NULL;
}

int
mls_entropy_set_secondary(struct mls_entropy *pool, const struct mls_entropy_source *secondary,
                          uint64_t interval)
{
        int r;

        if (!pool || (secondary && !secondary->fill))
                return MLS_E_INVALID_ARGUMENT;
        if (!secondary) {
                pool->has_secondary = false;
                memset(&pool->secondary, 0, sizeof(pool->secondary));
                return 0;
        }
        /* The first pull: if it fails, nothing is installed and the pool
         * is as it was (a previous secondary and the time to its next
         * pull stay; only the failure is counted). */
        r = pool_pull(pool, secondary, MLS_ENTROPY_MIX_SECONDARY);
        if (r < 0) {
                pool->stats.secondary_failures++;
                return r;
        }
        pool->secondary = *secondary;
        pool->has_secondary = true;
        pool->interval = interval;
        pool->since_pull = 0;
        pool->stats.secondary_pulls++;
        return 0;
}

int
mls_entropy_reseed(struct mls_entropy *pool)
{
        if (!pool)
                return MLS_E_INVALID_ARGUMENT;
        if (!pool->has_secondary)
                return 0;
        return secondary_pull(pool);
}

int
mls_entropy_mix(struct mls_entropy *pool, const char *label, const uint8_t *bytes, size_t len)
{
        size_t label_len;

        if (!pool || !label || (!bytes && len))
                return MLS_E_INVALID_ARGUMENT;
        label_len = strnlen(label, LABEL_MAX + 1);
        if (label_len == 0 || label_len > LABEL_MAX)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(pool_mix(pool, label, label_len, bytes, len));
        pool->stats.mixes++;
        return 0;
}

int
mls_entropy_set_hedge(struct mls_entropy *pool, const uint8_t *sig, size_t len)
{
        if (!pool)
                return MLS_E_INVALID_ARGUMENT;
        if (!sig && len == 0) {
                mls_wipe(pool_hedge(pool), MLS_ENTROPY_STATE_LEN);
                pool->hedged = false;
                return 0;
        }
        if (!sig || len == 0 || len > MLS_ENTROPY_SIG_MAX)
                return MLS_E_INVALID_ARGUMENT;
        /* RFC 8937 section 3: the key is H(Sig(sk, tag1)), H = SHA-256 (the
         * pool keeps the hash, never the signature). */
        MLS_TRY(mls_crypto_hash(pool->suite, sig, len, pool_hedge(pool)));
        pool->hedged = true;
        return 0;
}

int
mls_entropy_add_hedge(struct mls_entropy *pool, const uint8_t *sig, size_t len)
{
        if (!pool || !sig || len == 0)
                return MLS_E_INVALID_ARGUMENT;
        if (!pool->hedged)
                return mls_entropy_set_hedge(pool, sig, len);
        return mls_entropy_mix(pool, "hedge", sig, len);
}

int
mls_entropy_fill(struct mls_entropy *pool, uint8_t *buf, size_t len)
{
        uint8_t *fresh;
        size_t off = 0;

        if (!pool || (!buf && len))
                return MLS_E_INVALID_ARGUMENT;
        /* R-6.3.1-6: each PrivateMessage's reuse_guard comes through here,
         * so nothing below allocates (the fresh input goes to the guarded
         * scratch made by mls_entropy_new). RFC 8937 section 6: longer
         * requests are consecutive invocations, concatenated. */
        fresh = pool->mem->data + OFF_FRESH;
        while (off < len) {
                size_t blocks = (len - off + MLS_ENTROPY_BLOCK_LEN - 1) / MLS_ENTROPY_BLOCK_LEN;

                if (blocks > FRESH_BATCH)
                        blocks = FRESH_BATCH;
                if (pool->counter > UINT64_MAX - blocks) {
                        mls_wipe(buf, len);
                        return MLS_E_ENTROPY;
                }
                /* RFC 8937 section 3: fresh G(L) for every invocation; fail
                 * closed without it (mls/entropy.h, "Failure"). */
                if (pool->primary.fill(pool->primary.ctx, fresh,
                                       blocks * MLS_ENTROPY_FRESH_LEN) != 0) {
                        mls_wipe(fresh, blocks * MLS_ENTROPY_FRESH_LEN);
                        mls_wipe(buf, len);
                        pool->stats.primary_failures++;
                        return MLS_E_ENTROPY;
                }
                for (size_t i = 0; i < blocks; i++) {
                        size_t n = len - off < MLS_ENTROPY_BLOCK_LEN ? len - off
                                                                     : MLS_ENTROPY_BLOCK_LEN;
                        int r;

                        /* A failed pull is counted and retried after another
                         * interval; the primary input suffices meanwhile. */
                        if (pool->has_secondary && pool->interval &&
                            pool->since_pull >= pool->interval)
                                (void)secondary_pull(pool);
                        r = mls_entropy_ratchet(pool->hedged ? pool_hedge(pool) : NULL,
                                                pool_state(pool),
                                                fresh + i * MLS_ENTROPY_FRESH_LEN,
                                                pool->counter, buf + off, n, pool_state(pool));
                        if (r < 0) {
                                mls_wipe(fresh, blocks * MLS_ENTROPY_FRESH_LEN);
                                mls_wipe(buf, len);
                                return r;
                        }
                        pool->counter++;
                        pool->since_pull++;
                        off += n;
                }
                mls_wipe(fresh, blocks * MLS_ENTROPY_FRESH_LEN);
        }
        return 0;
}

const struct mls_rng *
mls_entropy_rng(struct mls_entropy *pool)
{
        return pool ? &pool->rng : NULL;
}

void
mls_entropy_get_stats(const struct mls_entropy *pool, struct mls_entropy_stats *ret_stats)
{
        if (!pool || !ret_stats)
                return;
        *ret_stats = pool->stats;
        ret_stats->blocks = pool->counter;
        ret_stats->hedged = pool->hedged;
        ret_stats->has_secondary = pool->has_secondary;
}

/* ---- tag1 (RFC 8937 section 4) ---- */

int
mls_entropy_hedge_label(uint64_t counter, const uint8_t random[MLS_ENTROPY_HEDGE_RANDOM_LEN],
                        const uint8_t *context, size_t context_len, struct mls_bytes *ret_label)
{
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init(&w);
        if (!random || !ret_label || (!context && context_len) ||
            context_len > MLS_ENTROPY_CONTEXT_MAX)
                return MLS_E_INVALID_ARGUMENT;
        /* 0xFF: a varint with the reserved 0b11 prefix, so never the start
         * of an MLS SignContent (RFC 9420 section 2.1.2, 5.1.2). */
        MLS_TRY(mls_writer_u8(&w, 0xff));
        MLS_TRY(mls_writer_raw(&w, (const uint8_t *)MLS_ENTROPY_HEDGE_DS,
                               TAG_LEN(MLS_ENTROPY_HEDGE_DS)));
        MLS_TRY(mls_writer_u64(&w, counter));
        MLS_TRY(mls_writer_raw(&w, random, MLS_ENTROPY_HEDGE_RANDOM_LEN));
        MLS_TRY(mls_writer_u16(&w, (uint16_t)context_len));
        MLS_TRY(mls_writer_raw(&w, context, context_len));
        return mls_writer_finish(&w, ret_label);
}

/* tag1 = 0xFF || DS || uint64 counter || opaque random[32]
 *        || uint16 context_len || opaque context[context_len] */
int
mls_entropy_hedge_label_check(const uint8_t *label, size_t len)
{
        struct mls_reader r;
        const uint8_t *p;
        uint8_t lead;
        uint64_t counter;
        uint16_t context_len;

        if (!label && len)
                return MLS_E_INVALID_ARGUMENT;
        mls_reader_init(&r, label, len);
        if (mls_reader_u8(&r, &lead) < 0 || lead != 0xff)
                return MLS_E_INVALID_MESSAGE;
        if (mls_reader_raw(&r, TAG_LEN(MLS_ENTROPY_HEDGE_DS), &p) < 0 ||
            memcmp(p, MLS_ENTROPY_HEDGE_DS, TAG_LEN(MLS_ENTROPY_HEDGE_DS)) != 0)
                return MLS_E_INVALID_MESSAGE;
        if (mls_reader_u64(&r, &counter) < 0 ||
            mls_reader_raw(&r, MLS_ENTROPY_HEDGE_RANDOM_LEN, &p) < 0 ||
            mls_reader_u16(&r, &context_len) < 0 || context_len > MLS_ENTROPY_CONTEXT_MAX ||
            mls_reader_raw(&r, context_len, &p) < 0 || mls_reader_done(&r) < 0)
                return MLS_E_INVALID_MESSAGE;
        (void)counter;
        return 0;
}
