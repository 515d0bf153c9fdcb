/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/entropy: the construction of mls/entropy.h recomputed
 * independently (HMAC-SHA256 straight from libsodium, not mls/crypto), the
 * ratchet step (forward security), fail-closed behaviour, secondary and
 * mixed input, tag1, and the RFC 8937 hedge through the real engine (HPKE
 * ephemerals and UpdatePath secrets with a constant primary source).
 *
 * This program is linked with -Wl,--wrap=sodium_malloc,--wrap=sodium_free
 * (mls/entropy.am) to show that an extraction makes no guarded allocation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/entropy.h"
#include "mls/group.h"
#include "mls/hpke.h"
#include "mls/messages.h"
#include "mls/signer.h"

/* ---- guarded allocation counter ---- */

void *__real_sodium_malloc(size_t size);
void __real_sodium_free(void *ptr);
void *__wrap_sodium_malloc(size_t size);
void __wrap_sodium_free(void *ptr);

static unsigned long n_sodium_malloc;

void *
__wrap_sodium_malloc(size_t size)
{
        n_sodium_malloc++;
        return __real_sodium_malloc(size);
}

void
__wrap_sodium_free(void *ptr)
{
        __real_sodium_free(ptr);
}

/* ---- deterministic sources ---- */

/* A byte stream: byte number pos of stream `seed`. Calls consume it in
 * order, so the pool's batching does not change which bytes a block gets. */
struct stream_src {
        uint8_t seed;
        uint64_t pos;
        unsigned calls;
        size_t last_len;
        bool fail;              /* fail every call (consumes nothing) */
        unsigned fail_on_call;  /* 1-based call number that fails, 0: none */
        bool constant;          /* all zero bytes (a broken generator) */
};

static uint8_t
stream_byte(uint8_t seed, uint64_t pos)
{
        return (uint8_t)(seed * 151u + pos * 131u + (pos >> 8) * 7u + 1u);
}

static int
stream_fill(void *ctx, uint8_t *buf, size_t len)
{
        struct stream_src *s = ctx;

        s->calls++;
        s->last_len = len;
        if (s->fail || (s->fail_on_call && s->calls == s->fail_on_call))
                return MLS_E_ENTROPY;
        for (size_t i = 0; i < len; i++)
                buf[i] = s->constant ? 0 : stream_byte(s->seed, s->pos++);
        return 0;
}

static struct mls_entropy_source
src_of(struct stream_src *s)
{
        return (struct mls_entropy_source){ .fill = stream_fill, .ctx = s };
}

static struct mls_entropy *
pool_new(struct stream_src *s)
{
        struct mls_entropy_source src = src_of(s);
        struct mls_entropy *p = NULL;

        assert_int_equal(mls_entropy_new(&src, &p), 0);
        assert_non_null(p);
        return p;
}

/* ---- the reference: mls/entropy.h's construction from libsodium HMAC ---- */

static void
ref_hmac(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len, const uint8_t *b,
         size_t b_len, uint8_t out[32])
{
        crypto_auth_hmacsha256_state st;

        assert_int_equal(crypto_auth_hmacsha256_init(&st, key, key_len), 0);
        assert_int_equal(crypto_auth_hmacsha256_update(&st, a, a_len), 0);
        if (b_len)
                assert_int_equal(crypto_auth_hmacsha256_update(&st, b, b_len), 0);
        assert_int_equal(crypto_auth_hmacsha256_final(&st, out), 0);
}

/* HKDF-Expand with n <= 32: T(1) = HMAC(PRK, info || 0x01) (RFC 5869 2.3). */
static void
ref_expand1(const uint8_t prk[32], const char *tag, uint64_t counter, uint8_t *out, size_t n)
{
        uint8_t info[64], t[32];
        size_t tl = strlen(tag);

        assert_true(tl + 9 <= sizeof(info) && n <= 32);
        memcpy(info, tag, tl);
        for (size_t i = 0; i < 8; i++)
                info[tl + i] = (uint8_t)(counter >> (56 - 8 * i));
        info[tl + 8] = 0x01;
        ref_hmac(prk, 32, info, tl + 9, NULL, 0, t);
        memcpy(out, t, n);
}

struct ref {
        uint8_t S[32];
        uint8_t K[32];  /* zeros = the empty salt (RFC 5869 2.2) */
        uint64_t c;
        struct stream_src primary;   /* a copy of the pool's source */
};

static void
ref_mix(struct ref *r, const char *label, const uint8_t *x, size_t len)
{
        uint8_t h[32], ns[32];
        const char *tag = MLS_ENTROPY_TAG_MIX;

        ref_hmac((const uint8_t *)label, strlen(label), x, len, NULL, 0, h);
        ref_hmac(r->S, 32, (const uint8_t *)tag, strlen(tag), h, 32, ns);
        memcpy(r->S, ns, 32);
}

static void
ref_init(struct ref *r, uint8_t seed)
{
        uint8_t g[32];

        memset(r, 0, sizeof(*r));
        r->primary.seed = seed;
        assert_int_equal(stream_fill(&r->primary, g, 32), 0);
        ref_mix(r, MLS_ENTROPY_MIX_INIT, g, 32);
}

static void
ref_block(struct ref *r, uint8_t *out, size_t n)
{
        uint8_t g[32], prk[32];

        assert_int_equal(stream_fill(&r->primary, g, 32), 0);
        /* PRK = Extract(salt = K, IKM = G(32) || S) */
        ref_hmac(r->K, 32, g, 32, r->S, 32, prk);
        ref_expand1(prk, MLS_ENTROPY_TAG_OUTPUT, r->c, out, n);
        ref_expand1(prk, MLS_ENTROPY_TAG_STATE, r->c, r->S, 32);
        r->c++;
}

static void
ref_fill(struct ref *r, uint8_t *out, size_t len)
{
        for (size_t off = 0; off < len; off += 32)
                ref_block(r, out + off, len - off < 32 ? len - off : 32);
}

static void
ref_hedge(struct ref *r, const uint8_t *sig, size_t len)
{
        crypto_hash_sha256(r->K, sig, len);
}

/* Fills n bytes from the pool and from the reference and compares. */
static void
check_fill(struct mls_entropy *p, struct ref *r, size_t n)
{
        uint8_t got[400], want[400];

        assert_true(n <= sizeof(got));
        assert_int_equal(mls_entropy_fill(p, got, n), 0);
        ref_fill(r, want, n);
        assert_memory_equal(got, want, n);
}

/* ---- known answers ---- */

/* The pool equals the documented HKDF chain, computed independently:
 * creation, requests of 1..300 bytes (several blocks, several primary
 * calls), the hedge, mixed input, and the rng interface. */
static void
test_entropy_kat_matches_hkdf_chain(void **state)
{
        static const size_t sizes[] = { 4, 32, 1, 33, 70, 300, 31, 64 };
        static const uint8_t sig[] = "a signature over tag1, 64 bytes long, as Ed25519 gives.......";
        static const uint8_t relay[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        struct stream_src src = { .seed = 1 };
        struct mls_entropy_stats st;
        struct mls_entropy *p;
        struct ref r;
        uint8_t got[48], want[48];

        (void)state;
        p = pool_new(&src);
        ref_init(&r, 1);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(sizes); i++)
                check_fill(p, &r, sizes[i]);
        /* 300 bytes = 10 blocks: one call for 8 blocks, one for 2. */
        mls_entropy_get_stats(p, &st);
        assert_true(st.blocks == r.c);
        assert_false(st.hedged);

        /* RFC 8937 section 3: K = H(Sig(sk, tag1)). */
        assert_int_equal(mls_entropy_set_hedge(p, sig, sizeof(sig)), 0);
        ref_hedge(&r, sig, sizeof(sig));
        check_fill(p, &r, 4);
        check_fill(p, &r, 96);
        mls_entropy_get_stats(p, &st);
        assert_true(st.hedged);

        assert_int_equal(mls_entropy_mix(p, "tpm-relay", relay, sizeof(relay)), 0);
        ref_mix(&r, "tpm-relay", relay, sizeof(relay));
        check_fill(p, &r, 32);

        /* Through struct mls_rng. */
        assert_int_equal(mls_rng_fill(mls_entropy_rng(p), got, sizeof(got)), 0);
        ref_fill(&r, want, sizeof(want));
        assert_memory_equal(got, want, sizeof(got));

        /* Removing the hedge: back to the empty salt. */
        assert_int_equal(mls_entropy_set_hedge(p, NULL, 0), 0);
        memset(r.K, 0, sizeof(r.K));
        check_fill(p, &r, 16);
        mls_entropy_free(p);
}

/* A request is one primary call per 8 blocks, 32 bytes per block. */
static void
test_entropy_fill_batches_primary_calls(void **state)
{
        struct stream_src src = { .seed = 2 };
        struct mls_entropy *p;
        uint8_t buf[600];

        (void)state;
        p = pool_new(&src);
        assert_int_equal(src.calls, 1); /* S0 */
        assert_int_equal(src.last_len, 32);
        assert_int_equal(mls_entropy_fill(p, buf, 4), 0);
        assert_int_equal(src.calls, 2);
        assert_int_equal(src.last_len, 32);
        assert_int_equal(mls_entropy_fill(p, buf, 600), 0); /* 19 blocks: 8 + 8 + 3 */
        assert_int_equal(src.calls, 5);
        assert_int_equal(src.last_len, 3 * 32);
        assert_int_equal(mls_entropy_fill(p, buf, 0), 0);
        assert_int_equal(src.calls, 5);
        mls_entropy_free(p);
}

/* The secondary source: mixed in when set and after each interval,
 * recomputed by the reference. */
static void
test_entropy_kat_secondary_interval(void **state)
{
        struct stream_src src = { .seed = 3 }, sec = { .seed = 9 }, ref_sec = { .seed = 9 };
        struct mls_entropy_source s2 = src_of(&sec);
        struct mls_entropy_stats st;
        struct mls_entropy *p;
        struct ref r;
        uint8_t g[32], got[160], want[160];

        (void)state;
        p = pool_new(&src);
        ref_init(&r, 3);
        assert_int_equal(mls_entropy_set_secondary(p, &s2, 3), 0);
        assert_int_equal(stream_fill(&ref_sec, g, 32), 0);
        ref_mix(&r, MLS_ENTROPY_MIX_SECONDARY, g, 32);

        /* 5 blocks: the pull happens before the 4th. */
        assert_int_equal(mls_entropy_fill(p, got, sizeof(got)), 0);
        for (size_t b = 0; b < 5; b++) {
                if (b == 3) {
                        assert_int_equal(stream_fill(&ref_sec, g, 32), 0);
                        ref_mix(&r, MLS_ENTROPY_MIX_SECONDARY, g, 32);
                }
                ref_block(&r, want + 32 * b, 32);
        }
        assert_memory_equal(got, want, sizeof(got));
        assert_int_equal(sec.calls, 2);

        /* An explicit reseed pulls at once and restarts the interval. */
        assert_int_equal(mls_entropy_reseed(p), 0);
        assert_int_equal(stream_fill(&ref_sec, g, 32), 0);
        ref_mix(&r, MLS_ENTROPY_MIX_SECONDARY, g, 32);
        check_fill(p, &r, 96); /* 3 blocks: no pull yet */
        assert_int_equal(sec.calls, 3);
        mls_entropy_get_stats(p, &st);
        assert_true(st.secondary_pulls == 3);
        assert_true(st.has_secondary);
        mls_entropy_free(p);
}

/* ---- the ratchet step ---- */

static const uint8_t kat_state[32] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                       0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                                       0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                       0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f };

/* mls_entropy_ratchet equals Extract/Expand recomputed by hand, with and
 * without a hedge key, in place and not. */
static void
test_entropy_ratchet_kat(void **state)
{
        uint8_t fresh[32], key[32], prk[32], want_out[32], want_state[32], out[32], ns[32];
        uint8_t inplace[32];

        (void)state;
        memset(fresh, 0x5a, sizeof(fresh));
        memset(key, 0xc3, sizeof(key));
        for (int hedged = 0; hedged < 2; hedged++) {
                uint8_t zero[32] = { 0 };

                ref_hmac(hedged ? key : zero, 32, fresh, 32, kat_state, 32, prk);
                ref_expand1(prk, MLS_ENTROPY_TAG_OUTPUT, 7, want_out, 32);
                ref_expand1(prk, MLS_ENTROPY_TAG_STATE, 7, want_state, 32);
                assert_int_equal(mls_entropy_ratchet(hedged ? key : NULL, kat_state, fresh, 7,
                                                     out, 32, ns),
                                 0);
                assert_memory_equal(out, want_out, 32);
                assert_memory_equal(ns, want_state, 32);
                /* In place (as the pool runs it): the buffer now holds the
                 * new state; the old one is gone from it. */
                memcpy(inplace, kat_state, 32);
                assert_int_equal(mls_entropy_ratchet(hedged ? key : NULL, inplace, fresh, 7, out,
                                                     5, inplace),
                                 0);
                assert_memory_equal(inplace, want_state, 32);
                assert_memory_equal(out, want_out, 5);
        }
}

/* Forward security of one step: the new state differs from the old one and
 * from the output (two labels of one PRK), the counter (tag2) separates
 * equal inputs, and a chain over a CONSTANT fresh input never repeats a
 * state or an output. */
static void
test_entropy_ratchet_forward_secure(void **state)
{
        enum { N = 64 };
        uint8_t fresh[32] = { 0 }, s[32], out1[32], out2[32], ns1[32], ns2[32];
        uint8_t outs[N][32], states[N][32];

        (void)state;
        assert_int_equal(mls_entropy_ratchet(NULL, kat_state, fresh, 0, out1, 32, ns1), 0);
        assert_memory_not_equal(ns1, kat_state, 32);
        assert_memory_not_equal(out1, ns1, 32);
        assert_memory_not_equal(out1, kat_state, 32);
        /* same state and fresh input, next counter: unrelated results */
        assert_int_equal(mls_entropy_ratchet(NULL, kat_state, fresh, 1, out2, 32, ns2), 0);
        assert_memory_not_equal(out1, out2, 32);
        assert_memory_not_equal(ns1, ns2, 32);
        /* Running the step again from the NEW state does not give back the
         * earlier output (the state is not an output's key). */
        assert_int_equal(mls_entropy_ratchet(NULL, ns1, fresh, 0, out2, 32, ns2), 0);
        assert_memory_not_equal(out1, out2, 32);

        memcpy(s, kat_state, 32);
        for (uint64_t c = 0; c < N; c++) {
                assert_int_equal(mls_entropy_ratchet(NULL, s, fresh, c, outs[c], 32, s), 0);
                memcpy(states[c], s, 32);
        }
        for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < N; j++) {
                        assert_memory_not_equal(outs[i], states[j], 32);
                        if (i != j) {
                                assert_memory_not_equal(outs[i], outs[j], 32);
                                assert_memory_not_equal(states[i], states[j], 32);
                        }
                }
}

static void
test_entropy_ratchet_rejects_bad_arguments(void **state)
{
        uint8_t s[32] = { 0 }, f[32] = { 0 }, out[33], ns[32];

        (void)state;
        memset(ns, 0xee, sizeof(ns));
        assert_int_equal(mls_entropy_ratchet(NULL, s, f, 0, out, 33, ns), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_ratchet(NULL, s, f, 0, out, 0, ns), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_ratchet(NULL, NULL, f, 0, out, 4, ns),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_ratchet(NULL, s, NULL, 0, out, 4, ns),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_ratchet(NULL, s, f, 0, NULL, 4, ns), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_ratchet(NULL, s, f, 0, out, 4, NULL),
                         MLS_E_INVALID_ARGUMENT);
        for (size_t i = 0; i < sizeof(ns); i++)
                assert_int_equal(ns[i], 0xee);
}

/* ---- failure ---- */

static bool
all_zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* No primary, no pool. */
static void
test_entropy_new_fails_without_primary(void **state)
{
        struct stream_src src = { .seed = 4, .fail = true };
        struct mls_entropy_source s = src_of(&src), bad = { .fill = NULL };
        struct mls_entropy *p = (struct mls_entropy *)&src; /* sentinel */

        (void)state;
        assert_int_equal(mls_entropy_new(&s, &p), MLS_E_ENTROPY);
        assert_ptr_equal(p, (struct mls_entropy *)&src);
        assert_int_equal(mls_entropy_new(&bad, &p), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_new(NULL, &p), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_new(&s, NULL), MLS_E_INVALID_ARGUMENT);
        assert_ptr_equal(p, (struct mls_entropy *)&src);
}

/* Fail closed: a failing primary gives MLS_E_ENTROPY and a wiped buffer,
 * with or without a hedge, and leaves the state as it was (the next output
 * equals that of a twin pool that never saw the failure). */
static void
test_entropy_primary_failure_fails_closed(void **state)
{
        static const uint8_t sig[] = "hedge";
        struct stream_src sa = { .seed = 5 }, sb = { .seed = 5 };
        struct mls_entropy_stats st;
        struct mls_entropy *a = pool_new(&sa), *b = pool_new(&sb);
        uint8_t x[40], y[40];

        (void)state;
        assert_int_equal(mls_entropy_set_hedge(a, sig, sizeof(sig)), 0);
        assert_int_equal(mls_entropy_set_hedge(b, sig, sizeof(sig)), 0);
        assert_int_equal(mls_entropy_fill(a, x, 4), 0);
        assert_int_equal(mls_entropy_fill(b, y, 4), 0);
        assert_memory_equal(x, y, 4);

        sa.fail = true;
        for (size_t n = 1; n <= sizeof(x); n += 13) {
                memset(x, 0xaa, sizeof(x));
                assert_int_equal(mls_entropy_fill(a, x, n), MLS_E_ENTROPY);
                assert_true(all_zero(x, n));
                assert_int_equal(mls_rng_fill(mls_entropy_rng(a), x, n), MLS_E_ENTROPY);
        }
        mls_entropy_get_stats(a, &st);
        assert_true(st.blocks == 1);
        assert_true(st.primary_failures == 8);

        sa.fail = false;
        assert_int_equal(mls_entropy_fill(a, x, sizeof(x)), 0);
        assert_int_equal(mls_entropy_fill(b, y, sizeof(y)), 0);
        assert_memory_equal(x, y, sizeof(x));
        mls_entropy_free(a);
        mls_entropy_free(b);
}

/* A failure in the middle of a long request: the buffer is wiped, the
 * blocks before the failure advanced the state by whole ratchet steps (the
 * pool equals the reference after 8 blocks). */
static void
test_entropy_primary_failure_midway_advances_safely(void **state)
{
        struct stream_src src = { .seed = 6 };
        struct mls_entropy_stats st;
        struct mls_entropy *p = pool_new(&src);
        struct ref r;
        uint8_t buf[300], skip[256];

        (void)state;
        ref_init(&r, 6);
        src.fail_on_call = 3; /* init, first batch of 8 blocks, then fail */
        memset(buf, 0xaa, sizeof(buf));
        assert_int_equal(mls_entropy_fill(p, buf, sizeof(buf)), MLS_E_ENTROPY);
        assert_true(all_zero(buf, sizeof(buf)));
        mls_entropy_get_stats(p, &st);
        assert_true(st.blocks == 8);
        ref_fill(&r, skip, sizeof(skip));
        check_fill(p, &r, 100);
        mls_entropy_free(p);
}

/* ---- secondary and mixed input ---- */

/* Only the secondary differs: the outputs differ. Same secondary: equal. */
static void
test_entropy_secondary_changes_output(void **state)
{
        struct stream_src pa = { .seed = 7 }, pb = { .seed = 7 }, pc = { .seed = 7 };
        struct stream_src qa = { .seed = 20 }, qb = { .seed = 21 }, qc = { .seed = 20 };
        struct mls_entropy_source s;
        struct mls_entropy *a = pool_new(&pa), *b = pool_new(&pb), *c = pool_new(&pc);
        uint8_t x[32], y[32], z[32];

        (void)state;
        s = src_of(&qa);
        assert_int_equal(mls_entropy_set_secondary(a, &s, MLS_ENTROPY_RESEED_DEFAULT), 0);
        s = src_of(&qb);
        assert_int_equal(mls_entropy_set_secondary(b, &s, MLS_ENTROPY_RESEED_DEFAULT), 0);
        s = src_of(&qc);
        assert_int_equal(mls_entropy_set_secondary(c, &s, MLS_ENTROPY_RESEED_DEFAULT), 0);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(b, y, 32), 0);
        assert_int_equal(mls_entropy_fill(c, z, 32), 0);
        assert_memory_not_equal(x, y, 32);
        assert_memory_equal(x, z, 32);

        /* a and c are still twins; now only the bytes of one reseed
         * differ. */
        qc.seed = 99;
        assert_int_equal(mls_entropy_reseed(a), 0);
        assert_int_equal(mls_entropy_reseed(c), 0);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(c, z, 32), 0);
        assert_memory_not_equal(x, z, 32);
        mls_entropy_free(a);
        mls_entropy_free(b);
        mls_entropy_free(c);
}

/* A failing secondary: refused when set (not installed); once installed,
 * its failures never fail an extraction, are counted, and are reported by
 * mls_entropy_reseed. */
static void
test_entropy_secondary_failure_is_not_fatal(void **state)
{
        struct stream_src pa = { .seed = 8 }, q = { .seed = 30, .fail = true };
        struct mls_entropy_source s = src_of(&q);
        struct mls_entropy_stats st;
        struct mls_entropy *p = pool_new(&pa);
        uint8_t buf[64];

        (void)state;
        assert_int_equal(mls_entropy_set_secondary(p, &s, 1), MLS_E_ENTROPY);
        mls_entropy_get_stats(p, &st);
        assert_false(st.has_secondary);
        assert_int_equal(mls_entropy_reseed(p), 0); /* no secondary: nothing to do */
        assert_int_equal(q.calls, 1);

        q.fail = false;
        assert_int_equal(mls_entropy_set_secondary(p, &s, 1), 0);
        q.fail = true;
        assert_int_equal(mls_entropy_fill(p, buf, 64), 0); /* pull before block 2 fails */
        assert_int_equal(mls_entropy_reseed(p), MLS_E_ENTROPY);
        mls_entropy_get_stats(p, &st);
        assert_true(st.secondary_pulls == 1);
        assert_true(st.secondary_failures == 3); /* the refused set, block 2, reseed */
        assert_true(st.blocks == 2);

        /* Removing it: no more calls. */
        assert_int_equal(mls_entropy_set_secondary(p, NULL, 0), 0);
        q.calls = 0;
        assert_int_equal(mls_entropy_fill(p, buf, 64), 0);
        assert_int_equal(mls_entropy_reseed(p), 0);
        assert_int_equal(q.calls, 0);
        mls_entropy_free(p);
}

/* A refused secondary leaves the installed one as it was, including the
 * time to its next automatic pull (every 4 blocks here). */
static void
test_entropy_refused_secondary_keeps_the_old(void **state)
{
        struct stream_src pa = { .seed = 8 }, q = { .seed = 30 }, bad = { .seed = 31, .fail = true };
        struct mls_entropy_source s = src_of(&q), sb = src_of(&bad);
        struct mls_entropy *p = pool_new(&pa);
        uint8_t buf[32];

        (void)state;
        assert_int_equal(mls_entropy_set_secondary(p, &s, 4), 0);
        assert_int_equal(q.calls, 1);
        for (int i = 0; i < 2; i++)
                assert_int_equal(mls_entropy_fill(p, buf, 32), 0);
        assert_int_equal(mls_entropy_set_secondary(p, &sb, 1), MLS_E_ENTROPY);
        assert_int_equal(bad.calls, 1);
        for (int i = 0; i < 2; i++)
                assert_int_equal(mls_entropy_fill(p, buf, 32), 0);
        assert_int_equal(q.calls, 1); /* 4 blocks since its pull: not yet */
        assert_int_equal(mls_entropy_fill(p, buf, 32), 0);
        assert_int_equal(q.calls, 2); /* the fifth block pulls, as it would have */
        assert_int_equal(bad.calls, 1);
        mls_entropy_free(p);
}

/* mls_entropy_add_hedge: the first signature that arrives sets the hedge
 * (as set_hedge would), later ones are mixed in and never replace it; a
 * failed hedge before (nothing added) changes nothing of that. */
static void
test_entropy_add_hedge_first_sets_then_mixes(void **state)
{
        static const uint8_t s1[64] = { 1 }, s2[64] = { 2 };
        struct stream_src pa = { .seed = 5 }, pb = { .seed = 5 }, pc = { .seed = 5 };
        struct mls_entropy *a = pool_new(&pa), *b = pool_new(&pb), *c = pool_new(&pc);
        struct mls_entropy_stats st;
        uint8_t x[32], y[32], z[32];

        (void)state;
        assert_int_equal(mls_entropy_add_hedge(a, NULL, 0), MLS_E_INVALID_ARGUMENT);
        mls_entropy_get_stats(a, &st);
        assert_false(st.hedged);
        assert_int_equal(mls_entropy_add_hedge(a, s1, sizeof(s1)), 0);
        assert_int_equal(mls_entropy_set_hedge(b, s1, sizeof(s1)), 0);
        mls_entropy_get_stats(a, &st);
        assert_true(st.hedged);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(b, y, 32), 0);
        assert_memory_equal(x, y, 32); /* the first is exactly the hedge */
        /* the second: mixed, not a new hedge */
        assert_int_equal(mls_entropy_add_hedge(a, s2, sizeof(s2)), 0);
        assert_int_equal(mls_entropy_set_hedge(c, s1, sizeof(s1)), 0);
        assert_int_equal(mls_entropy_fill(c, z, 32), 0);
        assert_int_equal(mls_entropy_mix(c, "hedge", s2, sizeof(s2)), 0);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(c, z, 32), 0);
        assert_memory_equal(x, z, 32);
        mls_entropy_free(a);
        mls_entropy_free(b);
        mls_entropy_free(c);
}

static void
test_entropy_mix_changes_output(void **state)
{
        static const uint8_t tpm[] = { 0xde, 0xad, 0xbe, 0xef };
        struct stream_src pa = { .seed = 9 }, pb = { .seed = 9 };
        struct mls_entropy *a = pool_new(&pa), *b = pool_new(&pb);
        struct mls_entropy_stats st;
        char long_label[257];
        uint8_t x[32], y[32];

        (void)state;
        assert_int_equal(mls_entropy_mix(a, "tpm", tpm, sizeof(tpm)), 0);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(b, y, 32), 0);
        assert_memory_not_equal(x, y, 32);
        /* Control: a fresh pair given the same mix stays equal. */
        mls_entropy_free(a);
        mls_entropy_free(b);
        pa = (struct stream_src){ .seed = 9 };
        pb = (struct stream_src){ .seed = 9 };
        a = pool_new(&pa);
        b = pool_new(&pb);
        assert_int_equal(mls_entropy_mix(a, "tpm", tpm, sizeof(tpm)), 0);
        assert_int_equal(mls_entropy_mix(b, "tpm", tpm, sizeof(tpm)), 0);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(b, y, 32), 0);
        assert_memory_equal(x, y, 32);
        /* The label counts: same bytes, other label. */
        assert_int_equal(mls_entropy_mix(a, "tpm", tpm, sizeof(tpm)), 0);
        assert_int_equal(mls_entropy_mix(b, "tpn", tpm, sizeof(tpm)), 0);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(b, y, 32), 0);
        assert_memory_not_equal(x, y, 32);
        /* Empty input is allowed. */
        assert_int_equal(mls_entropy_mix(a, "empty", NULL, 0), 0);
        mls_entropy_get_stats(a, &st);
        assert_true(st.mixes == 3);

        memset(long_label, 'l', sizeof(long_label) - 1);
        long_label[256] = '\0';
        assert_int_equal(mls_entropy_mix(a, long_label, tpm, 1), MLS_E_INVALID_ARGUMENT);
        long_label[255] = '\0';
        assert_int_equal(mls_entropy_mix(a, long_label, tpm, 1), 0);
        assert_int_equal(mls_entropy_mix(a, "", tpm, 1), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_mix(a, NULL, tpm, 1), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_mix(a, "x", NULL, 1), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_mix(NULL, "x", tpm, 1), MLS_E_INVALID_ARGUMENT);
        mls_entropy_free(a);
        mls_entropy_free(b);
}

/* ---- tag1 ---- */

static const uint8_t hedge_random[32] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                          0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
                                          0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
                                          0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf };

/* The layout of tag1, its checker, and that it never reads as an MLS
 * SignContent (its first byte is a reserved varint prefix). */
static void
test_entropy_hedge_label_format(void **state)
{
        static const uint8_t ctx[] = "machine-id:0123 boot:abcd pid:42";
        const size_t ds = strlen(MLS_ENTROPY_HEDGE_DS);
        struct mls_bytes l = { 0 }, l2 = { 0 };
        struct mls_reader rd;
        uint64_t v;
        uint8_t *buf;

        (void)state;
        assert_int_equal(mls_entropy_hedge_label(0x0102030405060708ull, hedge_random, ctx,
                                                 sizeof(ctx), &l),
                         0);
        assert_int_equal(l.len, 1 + ds + 8 + 32 + 2 + sizeof(ctx));
        assert_int_equal(l.data[0], 0xff);
        assert_memory_equal(l.data + 1, MLS_ENTROPY_HEDGE_DS, ds);
        assert_int_equal(l.data[1 + ds], 0x01);
        assert_int_equal(l.data[1 + ds + 7], 0x08);
        assert_memory_equal(l.data + 1 + ds + 8, hedge_random, 32);
        assert_int_equal(l.data[1 + ds + 40], 0);
        assert_int_equal(l.data[1 + ds + 41], sizeof(ctx));
        assert_memory_equal(l.data + 1 + ds + 42, ctx, sizeof(ctx));
        assert_int_equal(mls_entropy_hedge_label_check(l.data, l.len), 0);

        /* Not an MLS SignContent: opaque label<V> starts with a varint. */
        mls_reader_init(&rd, l.data, l.len);
        assert_int_equal(mls_reader_varint(&rd, &v), MLS_E_BAD_VARINT);

        /* Every truncation, a trailing byte, every flipped bit of the fixed
         * part and the length field are refused. */
        for (size_t n = 0; n < l.len; n++)
                assert_int_equal(mls_entropy_hedge_label_check(l.data, n),
                                 MLS_E_INVALID_MESSAGE);
        buf = malloc(l.len + 1);
        assert_non_null(buf);
        memcpy(buf, l.data, l.len);
        buf[l.len] = 0;
        assert_int_equal(mls_entropy_hedge_label_check(buf, l.len + 1), MLS_E_INVALID_MESSAGE);
        for (size_t i = 0; i < 1 + ds; i++)
                for (int bit = 0; bit < 8; bit++) {
                        buf[i] ^= (uint8_t)(1u << bit);
                        assert_int_equal(mls_entropy_hedge_label_check(buf, l.len),
                                         MLS_E_INVALID_MESSAGE);
                        buf[i] ^= (uint8_t)(1u << bit);
                }
        buf[1 + ds + 41] ^= 1;
        assert_int_equal(mls_entropy_hedge_label_check(buf, l.len), MLS_E_INVALID_MESSAGE);
        free(buf);

        /* Counter and random bytes make each tag1 fresh. */
        assert_int_equal(mls_entropy_hedge_label(0x0102030405060709ull, hedge_random, ctx,
                                                 sizeof(ctx), &l2),
                         0);
        assert_false(mls_bytes_eq(&l, &l2));
        mls_bytes_clear(&l2);

        /* Empty context; context too long. */
        assert_int_equal(mls_entropy_hedge_label(1, hedge_random, NULL, 0, &l2), 0);
        assert_int_equal(l2.len, 1 + ds + 8 + 32 + 2);
        assert_int_equal(mls_entropy_hedge_label_check(l2.data, l2.len), 0);
        mls_bytes_clear(&l2);
        buf = calloc(1, MLS_ENTROPY_CONTEXT_MAX + 1);
        assert_non_null(buf);
        assert_int_equal(mls_entropy_hedge_label(1, hedge_random, buf,
                                                 MLS_ENTROPY_CONTEXT_MAX + 1, &l2),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_hedge_label(1, hedge_random, buf, MLS_ENTROPY_CONTEXT_MAX,
                                                 &l2),
                         0);
        assert_int_equal(mls_entropy_hedge_label_check(l2.data, l2.len), 0);
        free(buf);
        mls_bytes_clear(&l2);
        assert_int_equal(mls_entropy_hedge_label(1, NULL, NULL, 0, &l2), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_hedge_label(1, hedge_random, NULL, 3, &l2),
                         MLS_E_INVALID_ARGUMENT);
        mls_bytes_clear(&l);
}

/* ---- the hedge (RFC 8937) ---- */

struct identity {
        const struct mls_suite *s;
        struct mls_secret *priv;
        struct mls_bytes pub;
        struct mls_bytes sig;  /* Sig(sk, tag1) */
};

/* An Ed25519 identity from a fixed seed, and its signature over tag1. */
static void
identity_init(struct identity *id, uint8_t seed_byte)
{
        uint8_t seed[32];
        struct mls_bytes tag1 = { 0 };

        memset(id, 0, sizeof(*id));
        memset(seed, seed_byte, sizeof(seed));
        id->s = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        assert_non_null(id->s);
        assert_int_equal(mls_secret_from(seed, sizeof(seed), &id->priv), 0);
        assert_int_equal(mls_crypto_sig_pub_from_priv(id->s, id->priv, &id->pub), 0);
        assert_int_equal(mls_entropy_hedge_label(1, hedge_random, id->pub.data, id->pub.len,
                                                 &tag1),
                         0);
        assert_int_equal(mls_crypto_sign(id->s, id->priv, tag1.data, tag1.len, &id->sig), 0);
        assert_int_equal(mls_crypto_verify(id->s, id->pub.data, id->pub.len, tag1.data, tag1.len,
                                           id->sig.data, id->sig.len),
                         0);
        mls_bytes_clear(&tag1);
}

static void
identity_clear(struct identity *id)
{
        mls_secret_free(id->priv);
        mls_bytes_clear(&id->pub);
        mls_bytes_clear(&id->sig);
}

/* A pool over a constant (all-zero) primary, hedged by id (NULL: none). */
static struct mls_entropy *
broken_pool(struct stream_src *src, const struct identity *id)
{
        struct mls_entropy *p;

        *src = (struct stream_src){ .constant = true };
        p = pool_new(src);
        if (id)
                assert_int_equal(mls_entropy_set_hedge(p, id->sig.data, id->sig.len), 0);
        return p;
}

/* RFC 8937 section 1, property 3: with a broken generator the output stays
 * unpredictable without the private key. Two identities over the same
 * all-zero source give different outputs; without the hedge the outputs
 * are identical (so the test would catch a hedge that does nothing). */
static void
test_entropy_hedge_separates_identities(void **state)
{
        struct identity ia, ib;
        struct stream_src s1, s2;
        struct mls_entropy *a, *b;
        uint8_t x[32], y[32];

        (void)state;
        identity_init(&ia, 0x11);
        identity_init(&ib, 0x22);
        assert_false(mls_bytes_eq(&ia.sig, &ib.sig));

        a = broken_pool(&s1, NULL);
        b = broken_pool(&s2, NULL);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(mls_entropy_fill(a, x, 32), 0);
                assert_int_equal(mls_entropy_fill(b, y, 32), 0);
                assert_memory_equal(x, y, 32);
        }
        mls_entropy_free(a);
        mls_entropy_free(b);

        a = broken_pool(&s1, &ia);
        b = broken_pool(&s2, &ib);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(mls_entropy_fill(a, x, 32), 0);
                assert_int_equal(mls_entropy_fill(b, y, 32), 0);
                assert_memory_not_equal(x, y, 32);
        }
        /* R-6.3.1-6: even a 4-byte reuse_guard differs. */
        assert_int_equal(mls_entropy_fill(a, x, 4), 0);
        assert_int_equal(mls_entropy_fill(b, y, 4), 0);
        assert_memory_not_equal(x, y, 4);
        mls_entropy_free(a);
        mls_entropy_free(b);

        /* The same identity over the same broken source: the same outputs
         * (the hedge is a key, not a source of entropy). */
        a = broken_pool(&s1, &ia);
        b = broken_pool(&s2, &ia);
        assert_int_equal(mls_entropy_fill(a, x, 32), 0);
        assert_int_equal(mls_entropy_fill(b, y, 32), 0);
        assert_memory_equal(x, y, 32);
        mls_entropy_free(a);
        mls_entropy_free(b);

        assert_int_equal(mls_entropy_set_hedge(NULL, ia.sig.data, ia.sig.len),
                         MLS_E_INVALID_ARGUMENT);
        a = broken_pool(&s1, NULL);
        assert_int_equal(mls_entropy_set_hedge(a, NULL, 3), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_set_hedge(a, ia.sig.data, 0), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_set_hedge(a, ia.sig.data, MLS_ENTROPY_SIG_MAX + 1),
                         MLS_E_INVALID_ARGUMENT);
        mls_entropy_free(a);
        identity_clear(&ia);
        identity_clear(&ib);
}

/* HPKE ephemerals (RFC 9180 Encap with the pool as rng) over a constant
 * source: equal without the hedge, different with two identities' hedges. */
static void
test_entropy_hedge_hpke_ephemerals(void **state)
{
        static const uint8_t ikm_r[32] = { 7 };
        static const uint8_t pt[] = "path secret";
        const struct mls_suite *s = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct identity ia, ib;
        struct mls_secret *sk_r = NULL;
        struct mls_bytes pk_r = { 0 };

        (void)state;
        identity_init(&ia, 0x11);
        identity_init(&ib, 0x22);
        assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm_r, sizeof(ikm_r), &sk_r, &pk_r), 0);
        for (int hedged = 0; hedged < 2; hedged++) {
                struct stream_src s1, s2;
                struct mls_entropy *a = broken_pool(&s1, hedged ? &ia : NULL);
                struct mls_entropy *b = broken_pool(&s2, hedged ? &ib : NULL);
                struct mls_bytes ea = { 0 }, eb = { 0 }, ca = { 0 }, cb = { 0 };
                struct mls_secret *ssa = NULL, *ssb = NULL;

                assert_int_equal(mls_hpke_encap(s, mls_entropy_rng(a), pk_r.data, pk_r.len, &ssa,
                                                &ea),
                                 0);
                assert_int_equal(mls_hpke_encap(s, mls_entropy_rng(b), pk_r.data, pk_r.len, &ssb,
                                                &eb),
                                 0);
                assert_true(mls_bytes_eq(&ea, &eb) == !hedged);
                assert_true(mls_secret_eq(ssa, ssb) == !hedged);
                mls_bytes_clear(&ea);
                mls_bytes_clear(&eb);
                assert_int_equal(mls_hpke_seal_base(s, mls_entropy_rng(a), pk_r.data, pk_r.len,
                                                    NULL, 0, NULL, 0, pt, sizeof(pt), &ea, &ca),
                                 0);
                assert_int_equal(mls_hpke_seal_base(s, mls_entropy_rng(b), pk_r.data, pk_r.len,
                                                    NULL, 0, NULL, 0, pt, sizeof(pt), &eb, &cb),
                                 0);
                assert_true(mls_bytes_eq(&ea, &eb) == !hedged);
                assert_true(mls_bytes_eq(&ca, &cb) == !hedged);
                mls_bytes_clear(&ea);
                mls_bytes_clear(&eb);
                mls_bytes_clear(&ca);
                mls_bytes_clear(&cb);
                mls_secret_free(ssa);
                mls_secret_free(ssb);
                mls_entropy_free(a);
                mls_entropy_free(b);
        }
        mls_secret_free(sk_r);
        mls_bytes_clear(&pk_r);
        identity_clear(&ia);
        identity_clear(&ib);
}

struct commit_result {
        struct mls_bytes commit;
        struct mls_secret *exported;
};

/* A one-member group created from fixed inputs (same member key, group id,
 * credential, time) with pool p as rng, then an empty commit with a path
 * (UpdatePath: fresh leaf_secret, R-7.4-3), merged; returns the commit and
 * the new epoch's exporter. */
static void
group_commit_with(struct mls_entropy *p, struct commit_result *ret)
{
        static const uint8_t member_seed[32] = { 0x33 };
        const struct mls_suite *s = mls_suite_get(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_secret *priv = NULL;
        struct mls_signer_key *sk = NULL;
        struct mls_credential cred = { .credential_type = MLS_CREDENTIAL_BASIC };
        struct mls_leaf_params leaf = { .credential = &cred };
        struct mls_group *g = NULL;
        struct mls_env env;

        assert_int_equal(mls_secret_from(member_seed, sizeof(member_seed), &priv), 0);
        assert_int_equal(mls_signer_key_new(s, priv, &sk), 0);
        assert_int_equal(mls_bytes_copy(&cred.identity, (const uint8_t *)"member", 6), 0);
        env = (struct mls_env){ .rng = mls_entropy_rng(p), .signer = &sk->signer,
                                .now = 1700000000ull };
        assert_int_equal(mls_group_create(s, (const uint8_t *)"entropy", 7, &leaf, NULL, NULL,
                                          &env, &g),
                         0);
        memset(ret, 0, sizeof(*ret));
        assert_int_equal(mls_group_update(g, &env, NULL, &ret->commit), 0);
        assert_int_equal(mls_group_merge_pending(g, NULL), 0);
        assert_int_equal(mls_group_export(g, (const uint8_t *)"test", 4, NULL, 0, 32,
                                          &ret->exported),
                         0);
        mls_group_free(g);
        mls_credential_clear(&cred);
        mls_signer_key_free(sk);
        mls_secret_free(priv);
}

static void
commit_result_clear(struct commit_result *r)
{
        mls_bytes_clear(&r->commit);
        mls_secret_free(r->exported);
}

/* UpdatePath secrets over a constant source (R-7.4-3: path_secret[0] from
 * a random leaf_secret; R-11-6: the random epoch-0 epoch_secret): two groups
 * from identical inputs commit identically without the hedge (so the
 * comparison can fail), and differently when their pools are hedged by two
 * identities: the commit (its UpdatePath keys and encrypted secrets) and
 * the new epoch's exporter differ. */
static void
test_entropy_hedge_update_path_secrets(void **state)
{
        struct identity ia, ib;

        (void)state;
        identity_init(&ia, 0x11);
        identity_init(&ib, 0x22);
        for (int hedged = 0; hedged < 2; hedged++) {
                struct stream_src s1, s2;
                struct mls_entropy *a = broken_pool(&s1, hedged ? &ia : NULL);
                struct mls_entropy *b = broken_pool(&s2, hedged ? &ib : NULL);
                struct commit_result ra, rb;

                group_commit_with(a, &ra);
                group_commit_with(b, &rb);
                assert_true(mls_bytes_eq(&ra.commit, &rb.commit) == !hedged);
                assert_true(mls_secret_eq(ra.exported, rb.exported) == !hedged);
                commit_result_clear(&ra);
                commit_result_clear(&rb);
                mls_entropy_free(a);
                mls_entropy_free(b);
        }
        identity_clear(&ia);
        identity_clear(&ib);
}

/* ---- hot path ---- */

/* An extraction (any size, hedged, with a secondary pull) makes no guarded
 * allocation (the reuse_guard of every PrivateMessage, R-6.3.1-6, comes
 * from here); creating a pool makes exactly one. */
static void
test_entropy_fill_allocates_nothing(void **state)
{
        static const uint8_t sig[] = "sig";
        struct stream_src src = { .seed = 10 }, sec = { .seed = 11 };
        struct mls_entropy_source s2 = src_of(&sec);
        struct mls_entropy *p;
        uint8_t buf[1000];
        unsigned long before;

        (void)state;
        before = n_sodium_malloc;
        p = pool_new(&src);
        assert_int_equal(n_sodium_malloc - before, 1);
        assert_int_equal(mls_entropy_set_hedge(p, sig, sizeof(sig)), 0);
        assert_int_equal(mls_entropy_set_secondary(p, &s2, 2), 0);
        before = n_sodium_malloc;
        for (int i = 0; i < 100; i++) {
                assert_int_equal(mls_entropy_fill(p, buf, 4), 0);
                assert_int_equal(mls_entropy_fill(p, buf, 32), 0);
        }
        assert_int_equal(mls_entropy_fill(p, buf, sizeof(buf)), 0);
        assert_int_equal(mls_entropy_mix(p, "m", buf, 10), 0);
        assert_int_equal(mls_entropy_reseed(p), 0);
        assert_int_equal(n_sodium_malloc - before, 0);
        assert_true(sec.calls > 50);
        mls_entropy_free(p);
}

static void
test_entropy_invalid_arguments(void **state)
{
        struct stream_src src = { .seed = 12 };
        struct mls_entropy_source bad = { .fill = NULL };
        struct mls_entropy *p = pool_new(&src);
        uint8_t buf[4];

        (void)state;
        assert_int_equal(mls_entropy_fill(NULL, buf, 4), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_fill(p, NULL, 4), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_fill(p, NULL, 0), 0);
        assert_null(mls_entropy_rng(NULL));
        assert_int_equal(mls_rng_fill(mls_entropy_rng(NULL), buf, 4), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_set_secondary(NULL, NULL, 0), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_set_secondary(p, &bad, 0), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_reseed(NULL), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_hedge_label_check(NULL, 3), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_entropy_hedge_label_check(NULL, 0), MLS_E_INVALID_MESSAGE);
        mls_entropy_free(p);
        mls_entropy_free(NULL);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_entropy_kat_matches_hkdf_chain),
                cmocka_unit_test(test_entropy_fill_batches_primary_calls),
                cmocka_unit_test(test_entropy_kat_secondary_interval),
                cmocka_unit_test(test_entropy_ratchet_kat),
                cmocka_unit_test(test_entropy_ratchet_forward_secure),
                cmocka_unit_test(test_entropy_ratchet_rejects_bad_arguments),
                cmocka_unit_test(test_entropy_new_fails_without_primary),
                cmocka_unit_test(test_entropy_primary_failure_fails_closed),
                cmocka_unit_test(test_entropy_primary_failure_midway_advances_safely),
                cmocka_unit_test(test_entropy_secondary_changes_output),
                cmocka_unit_test(test_entropy_secondary_failure_is_not_fatal),
                cmocka_unit_test(test_entropy_refused_secondary_keeps_the_old),
                cmocka_unit_test(test_entropy_add_hedge_first_sets_then_mixes),
                cmocka_unit_test(test_entropy_mix_changes_output),
                cmocka_unit_test(test_entropy_hedge_label_format),
                cmocka_unit_test(test_entropy_hedge_separates_identities),
                cmocka_unit_test(test_entropy_hedge_hpke_ephemerals),
                cmocka_unit_test(test_entropy_hedge_update_path_secrets),
                cmocka_unit_test(test_entropy_fill_allocates_nothing),
                cmocka_unit_test(test_entropy_invalid_arguments),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
