/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-bench frame [--suite S] [--iterations N]
 *
 * Per cipher suite, the median time of message protection (RFC 9420
 * section 6) as a group member does it:
 *   private-protect-1k    sign a 1 KiB application message
 *                         (FramedContentTBS) and encrypt it as a
 *                         PrivateMessage (next generation of the sender's
 *                         application ratchet, SenderData, encoding);
 *   private-unprotect-1k  decrypt SenderData and content, verify the
 *                         signature, consume the generation;
 *   public-protect        sign a Remove proposal and encode it as a
 *                         PublicMessage with its membership tag;
 *   public-unprotect      check membership tag and signature.
 * Decoding a received MLSMessage is done outside the timed region (the
 * figures are the framing layer's own).
 *
 * With each median it prints the guarded allocations (sodium_malloc calls)
 * per operation, counted through a link-time wrapper that exists only in
 * this program (-Wl,--wrap=sodium_malloc in mls/perf.am). A benchmark
 * prints figures; it never asserts them.
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "mls/framing.h"
#include "mls/messages.h"
#include "mls/secrettree.h"
#include "tools/bench/bench.h"

#define DEFAULT_ITERATIONS 1000
#define APP_LEN 1024
#define N_LEAVES 2
#define SENDER 0

/* ---- guarded-allocation counter (this program only) ---- */

void *__real_sodium_malloc(size_t size);
void *__wrap_sodium_malloc(size_t size);

static unsigned long long guarded_allocs;

void *
__wrap_sodium_malloc(size_t size)
{
        guarded_allocs++;
        return __real_sodium_malloc(size);
}

/* ---- fixture: one epoch of a two-member group ---- */

struct frame_fixture {
        const struct mls_suite *s;
        struct mls_group_context gc;
        struct mls_frame_group g;
        struct mls_secret *priv;
        struct mls_bytes pub;
        uint8_t membership_key[MLS_MAX_HASH_LEN];
        uint8_t sender_data_secret[MLS_MAX_HASH_LEN];
        uint8_t encryption_secret[MLS_MAX_HASH_LEN];
        struct mls_secret_tree *send, *recv;
        struct mls_frame_senders senders;
        uint8_t app[APP_LEN];
};

/* Every member leaf signs with the one key of the fixture. */
static int
fx_lookup(void *ctx, const struct mls_sender *sender, const uint8_t **ret_pub, size_t *ret_len)
{
        struct frame_fixture *f = ctx;

        if (sender->sender_type != MLS_SENDER_MEMBER)
                return MLS_E_INVALID_SENDER;
        if (sender->leaf_index >= N_LEAVES)
                return MLS_E_TREE_INDEX;
        *ret_pub = f->pub.data;
        *ret_len = f->pub.len;
        return 0;
}

static void
fixture_clear(struct frame_fixture *f)
{
        mls_frame_group_clear(&f->g);
        mls_group_context_clear(&f->gc);
        mls_secret_free(f->priv);
        mls_bytes_clear(&f->pub);
        mls_st_free(f->send);
        mls_st_free(f->recv);
        sodium_memzero(f, sizeof(*f));
}

static int
fixture_init(struct frame_fixture *f, const struct mls_suite *s)
{
        const struct mls_rng *rng = mls_rng_system();
        uint8_t h[MLS_MAX_HASH_LEN];
        size_t nh = s->hash_len;

        memset(f, 0, sizeof(*f));
        f->s = s;
        MLS_TRY(mls_crypto_sig_keygen(s, rng, &f->priv, &f->pub));
        f->gc.version = MLS_VERSION_MLS10;
        f->gc.cipher_suite = s->id;
        MLS_TRY(mls_bytes_copy(&f->gc.group_id, (const uint8_t *)"bench group", 11));
        f->gc.epoch = 7;
        MLS_TRY(mls_rng_fill(rng, h, nh));
        MLS_TRY(mls_bytes_copy(&f->gc.tree_hash, h, nh));
        MLS_TRY(mls_rng_fill(rng, h, nh));
        MLS_TRY(mls_bytes_copy(&f->gc.confirmed_transcript_hash, h, nh));
        MLS_TRY(mls_frame_group_init(s, &f->gc, &f->g));
        MLS_TRY(mls_rng_fill(rng, f->membership_key, nh));
        MLS_TRY(mls_rng_fill(rng, f->sender_data_secret, nh));
        MLS_TRY(mls_rng_fill(rng, f->encryption_secret, nh));
        MLS_TRY(mls_rng_fill(rng, f->app, sizeof(f->app)));
        /* Both trees start at the same encryption_secret: the sender's and
         * the receiver's copy of the epoch. */
        MLS_TRY(mls_st_new(s, f->encryption_secret, nh, N_LEAVES, &f->send));
        MLS_TRY(mls_st_new(s, f->encryption_secret, nh, N_LEAVES, &f->recv));
        f->senders = (struct mls_frame_senders){ .lookup = fx_lookup, .ctx = f };
        return 0;
}

/* An unsigned AuthenticatedContent from leaf SENDER: 1 KiB of application
 * data, or a Remove proposal. */
static int
make_content(const struct frame_fixture *f, uint8_t content_type, uint16_t wire_format,
             struct mls_authenticated_content *ac)
{
        struct mls_framed_content *fc = &ac->content;

        memset(ac, 0, sizeof(*ac));
        ac->wire_format = wire_format;
        MLS_TRY(mls_bytes_dup(&fc->group_id, &f->gc.group_id));
        fc->epoch = f->gc.epoch;
        fc->sender = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER,
                                          .leaf_index = SENDER };
        fc->content_type = content_type;
        if (content_type == MLS_CONTENT_APPLICATION)
                return mls_bytes_copy(&fc->application_data, f->app, sizeof(f->app));
        fc->proposal.proposal_type = MLS_PROPOSAL_REMOVE;
        fc->proposal.remove.removed = 1;
        return 0;
}

/* ---- one measurement ---- */

struct result {
        double median_ms;
        double allocs_per_op;
};

static void
print_result(const struct mls_suite *s, const char *name, const struct result *r, size_t n)
{
        printf("suite %u %s: median %.4f ms (n=%zu), guarded allocations/op %.2f\n", s->id,
               name, r->median_ms, n, r->allocs_per_op);
        fflush(stdout);
}

/* Signs and protects `n` application messages into msgs[], timing each
 * (sign + protect); then unprotects them in order, timing each. */
static int
bench_private(struct frame_fixture *f, size_t warm, size_t n, uint64_t *samples,
              struct result *ret_protect, struct result *ret_unprotect)
{
        size_t total = warm + n;
        struct mls_bytes *msgs = calloc(total, sizeof(*msgs));
        unsigned long long a0, allocs = 0;
        int e = 0;

        if (!msgs)
                return MLS_E_NOMEM;
        for (size_t i = 0; i < total && e == 0; i++) {
                struct mls_authenticated_content ac;
                uint64_t t0, t1;

                e = make_content(f, MLS_CONTENT_APPLICATION, MLS_WIRE_PRIVATE_MESSAGE, &ac);
                if (e == 0) {
                        a0 = guarded_allocs;
                        t0 = bench_now_ns();
                        /* R-6.1-1: application messages are signed. */
                        e = mls_frame_sign_with_key(&f->g, &ac, f->priv);
                        if (e == 0)
                                e = mls_frame_private_protect(&f->g, &ac, f->sender_data_secret,
                                                              f->s->hash_len, f->send, NULL,
                                                              mls_rng_system(), &msgs[i]);
                        t1 = bench_now_ns();
                        if (i >= warm) {
                                samples[i - warm] = t1 - t0;
                                allocs += guarded_allocs - a0;
                        }
                }
                mls_authenticated_content_clear(&ac);
        }
        if (e == 0) {
                ret_protect->median_ms = bench_median_ns(samples, n) / 1e6;
                ret_protect->allocs_per_op = (double)allocs / (double)n;
        }
        allocs = 0;
        for (size_t i = 0; i < total && e == 0; i++) {
                struct mls_message m = { 0 };
                struct mls_authenticated_content out = { 0 };
                uint64_t t0, t1;

                e = mls_message_from_bytes(msgs[i].data, msgs[i].len, &m);
                if (e == 0 && m.wire_format != MLS_WIRE_PRIVATE_MESSAGE)
                        e = MLS_E_WRONG_WIRE_FORMAT;
                if (e == 0) {
                        a0 = guarded_allocs;
                        t0 = bench_now_ns();
                        e = mls_frame_private_unprotect(&f->g, &m.private_message,
                                                        f->sender_data_secret, f->s->hash_len,
                                                        f->recv, &f->senders, &out);
                        t1 = bench_now_ns();
                        if (i >= warm) {
                                samples[i - warm] = t1 - t0;
                                allocs += guarded_allocs - a0;
                        }
                }
                if (e == 0 && (out.content.application_data.len != APP_LEN ||
                               memcmp(out.content.application_data.data, f->app, APP_LEN) != 0))
                        e = MLS_E_INTERNAL;
                mls_authenticated_content_clear(&out);
                mls_message_clear(&m);
        }
        if (e == 0) {
                ret_unprotect->median_ms = bench_median_ns(samples, n) / 1e6;
                ret_unprotect->allocs_per_op = (double)allocs / (double)n;
        }
        for (size_t i = 0; i < total; i++)
                mls_bytes_clear(&msgs[i]);
        free(msgs);
        return e;
}

/* The same for a Remove proposal as a PublicMessage. */
static int
bench_public(struct frame_fixture *f, size_t warm, size_t n, uint64_t *samples,
             struct result *ret_protect, struct result *ret_unprotect)
{
        struct mls_authenticated_content ac;
        struct mls_bytes msg = { 0 };
        unsigned long long a0, allocs = 0;
        int e;

        e = make_content(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, &ac);
        for (size_t i = 0; i < warm + n && e == 0; i++) {
                uint64_t t0, t1;

                mls_bytes_clear(&msg);
                a0 = guarded_allocs;
                t0 = bench_now_ns();
                e = mls_frame_sign_with_key(&f->g, &ac, f->priv);
                if (e == 0)
                        e = mls_frame_public_protect(&f->g, &ac, f->membership_key,
                                                     f->s->hash_len, &msg);
                t1 = bench_now_ns();
                if (i >= warm) {
                        samples[i - warm] = t1 - t0;
                        allocs += guarded_allocs - a0;
                }
        }
        mls_authenticated_content_clear(&ac);
        if (e == 0) {
                ret_protect->median_ms = bench_median_ns(samples, n) / 1e6;
                ret_protect->allocs_per_op = (double)allocs / (double)n;
        }
        allocs = 0;
        for (size_t i = 0; i < warm + n && e == 0; i++) {
                struct mls_message m = { 0 };
                struct mls_authenticated_content out = { 0 };
                uint64_t t0, t1;

                e = mls_message_from_bytes(msg.data, msg.len, &m);
                if (e == 0 && m.wire_format != MLS_WIRE_PUBLIC_MESSAGE)
                        e = MLS_E_WRONG_WIRE_FORMAT;
                if (e == 0) {
                        a0 = guarded_allocs;
                        t0 = bench_now_ns();
                        e = mls_frame_public_unprotect(&f->g, &m.public_message,
                                                       f->membership_key, f->s->hash_len,
                                                       &f->senders, &out);
                        t1 = bench_now_ns();
                        if (i >= warm) {
                                samples[i - warm] = t1 - t0;
                                allocs += guarded_allocs - a0;
                        }
                }
                mls_authenticated_content_clear(&out);
                mls_message_clear(&m);
        }
        mls_bytes_clear(&msg);
        if (e == 0) {
                ret_unprotect->median_ms = bench_median_ns(samples, n) / 1e6;
                ret_unprotect->allocs_per_op = (double)allocs / (double)n;
        }
        return e;
}

static int
bench_one_suite(const struct mls_suite *s, size_t iterations, uint64_t *samples)
{
        struct frame_fixture f;
        struct result pp = { 0 }, pu = { 0 }, bp = { 0 }, bu = { 0 };
        size_t warm = iterations / 10 < 20 ? iterations / 10 : 20;
        int e;

        e = fixture_init(&f, s);
        if (e == 0)
                e = bench_private(&f, warm, iterations, samples, &pp, &pu);
        if (e == 0) {
                print_result(s, "private-protect-1k", &pp, iterations);
                print_result(s, "private-unprotect-1k", &pu, iterations);
                e = bench_public(&f, warm, iterations, samples, &bp, &bu);
        }
        if (e == 0) {
                print_result(s, "public-protect", &bp, iterations);
                print_result(s, "public-unprotect", &bu, iterations);
        }
        fixture_clear(&f);
        if (e < 0) {
                fprintf(stderr, "mlskey-bench: suite %u frame: %s\n", s->id, mls_err_name(e));
                return 1;
        }
        return 0;
}

int
bench_frame(int argc, char **argv)
{
        return bench_run_per_suite("frame", argc, argv, DEFAULT_ITERATIONS, bench_one_suite);
}
