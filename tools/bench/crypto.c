/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-bench crypto [--suite S] [--iterations N]
 *
 * Per cipher suite, the median time of: one signature (from the private
 * key, and from the key prepared once as the vault keeps it), one verification,
 * one HPKE SealBase and one OpenBase of 32 bytes, one DeriveKeyPair, one
 * 1 KiB AEAD seal. Every repetition is timed on its own with
 * CLOCK_MONOTONIC after a short warm-up; outputs are freed outside the
 * timed region.
 */
#include <stdio.h>
#include <string.h>

#include "mls/crypto.h"
#include "mls/hpke.h"
#include "tools/bench/bench.h"

#define DEFAULT_ITERATIONS 1000
#define MSG_LEN 32
#define AEAD_LEN 1024

struct crypto_fixture {
        const struct mls_suite *s;
        struct mls_secret *sig_priv;
        struct mls_secret *sig_prepared; /* the vault's form of sig_priv */
        struct mls_bytes sig_pub;
        struct mls_bytes sig;            /* over msg, for verify */
        struct mls_secret *kem_priv;
        struct mls_bytes kem_pub;
        struct mls_bytes enc, ct;        /* HPKE of msg, for open */
        uint8_t msg[MSG_LEN];
        uint8_t ikm[MLS_MAX_KEM_PRIV_LEN];
        uint8_t key[MLS_MAX_AEAD_KEY_LEN];
        uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
        uint8_t aead_in[AEAD_LEN];
        uint8_t aead_out[AEAD_LEN + MLS_MAX_AEAD_TAG_LEN];
        /* outputs of the operation under test, freed after timing */
        struct mls_bytes out_a, out_b;
        struct mls_secret *out_s;
};

static void
fixture_clear_outputs(struct crypto_fixture *f)
{
        mls_bytes_clear(&f->out_a);
        mls_bytes_clear(&f->out_b);
        mls_secret_free(f->out_s);
        f->out_s = NULL;
}

static void
fixture_clear(struct crypto_fixture *f)
{
        fixture_clear_outputs(f);
        mls_secret_free(f->sig_priv);
        mls_secret_free(f->sig_prepared);
        mls_secret_free(f->kem_priv);
        mls_bytes_clear(&f->sig_pub);
        mls_bytes_clear(&f->sig);
        mls_bytes_clear(&f->kem_pub);
        mls_bytes_clear(&f->enc);
        mls_bytes_clear(&f->ct);
}

static int
fixture_init(struct crypto_fixture *f, const struct mls_suite *s)
{
        const struct mls_rng *rng = mls_rng_system();

        *f = (struct crypto_fixture){ .s = s };
        MLS_TRY(mls_rng_fill(rng, f->msg, sizeof(f->msg)));
        MLS_TRY(mls_rng_fill(rng, f->ikm, sizeof(f->ikm)));
        MLS_TRY(mls_rng_fill(rng, f->key, sizeof(f->key)));
        MLS_TRY(mls_rng_fill(rng, f->nonce, sizeof(f->nonce)));
        MLS_TRY(mls_rng_fill(rng, f->aead_in, sizeof(f->aead_in)));
        MLS_TRY(mls_crypto_sig_keygen(s, rng, &f->sig_priv, &f->sig_pub));
        MLS_TRY(mls_crypto_sig_prepare(s, f->sig_priv, &f->sig_prepared));
        MLS_TRY(mls_crypto_sign(s, f->sig_priv, f->msg, sizeof(f->msg), &f->sig));
        MLS_TRY(mls_crypto_kem_generate(s, rng, &f->kem_priv, &f->kem_pub));
        MLS_TRY(mls_hpke_seal_base(s, rng, f->kem_pub.data, f->kem_pub.len, NULL, 0, NULL, 0,
                                   f->msg, sizeof(f->msg), &f->enc, &f->ct));
        return 0;
}

static int
op_sign(struct crypto_fixture *f)
{
        return mls_crypto_sign(f->s, f->sig_priv, f->msg, sizeof(f->msg), &f->out_a);
}

static int
op_sign_prepared(struct crypto_fixture *f)
{
        return mls_crypto_sign_prepared(f->s, f->sig_prepared, f->msg, sizeof(f->msg), &f->out_a);
}

static int
op_verify(struct crypto_fixture *f)
{
        return mls_crypto_verify(f->s, f->sig_pub.data, f->sig_pub.len, f->msg, sizeof(f->msg),
                                 f->sig.data, f->sig.len);
}

static int
op_hpke_seal(struct crypto_fixture *f)
{
        return mls_hpke_seal_base(f->s, mls_rng_system(), f->kem_pub.data, f->kem_pub.len, NULL,
                                  0, NULL, 0, f->msg, sizeof(f->msg), &f->out_a, &f->out_b);
}

static int
op_hpke_open(struct crypto_fixture *f)
{
        return mls_hpke_open_base(f->s, f->kem_priv, f->enc.data, f->enc.len, NULL, 0, NULL, 0,
                                  f->ct.data, f->ct.len, &f->out_s);
}

static int
op_derive_keypair(struct crypto_fixture *f)
{
        /* A new ikm each time, so NIST rejection sampling is sampled too. */
        f->ikm[0]++;
        return mls_crypto_kem_derive_keypair(f->s, f->ikm, f->s->kem_priv_len, &f->out_s,
                                             &f->out_a);
}

static int
op_aead_seal_1k(struct crypto_fixture *f)
{
        return mls_crypto_aead_seal(f->s, f->key, f->nonce, NULL, 0, f->aead_in,
                                    sizeof(f->aead_in), f->aead_out);
}

static const struct {
        const char *name;
        int (*op)(struct crypto_fixture *f);
} ops[] = {
        { "sign", op_sign },
        { "sign-prepared", op_sign_prepared },
        { "verify", op_verify },
        { "hpke-seal", op_hpke_seal },
        { "hpke-open", op_hpke_open },
        { "derive-keypair", op_derive_keypair },
        { "aead-seal-1k", op_aead_seal_1k },
};

static int
bench_one_suite(const struct mls_suite *s, size_t iterations, uint64_t *samples)
{
        struct crypto_fixture f;
        int e;

        e = fixture_init(&f, s);
        if (e < 0) {
                fprintf(stderr, "mlskey-bench: suite %u setup: %s\n", s->id, mls_err_name(e));
                fixture_clear(&f);
                return 1;
        }
        for (size_t k = 0; k < MLS_ARRAY_SIZE(ops); k++) {
                size_t warm = iterations / 10 < 20 ? iterations / 10 : 20;

                for (size_t i = 0; i < warm + iterations; i++) {
                        uint64_t t0 = bench_now_ns(), t1;

                        e = ops[k].op(&f);
                        t1 = bench_now_ns();
                        fixture_clear_outputs(&f);
                        if (e < 0) {
                                fprintf(stderr, "mlskey-bench: suite %u %s: %s\n", s->id,
                                        ops[k].name, mls_err_name(e));
                                fixture_clear(&f);
                                return 1;
                        }
                        if (i >= warm)
                                samples[i - warm] = t1 - t0;
                }
                printf("suite %u %s: median %.4f ms (n=%zu)\n", s->id, ops[k].name,
                       bench_median_ns(samples, iterations) / 1e6, iterations);
                fflush(stdout);
        }
        fixture_clear(&f);
        return 0;
}

int
bench_crypto(int argc, char **argv)
{
        return bench_run_per_suite("crypto", argc, argv, DEFAULT_ITERATIONS, bench_one_suite);
}
