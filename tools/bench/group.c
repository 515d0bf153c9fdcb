/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-bench group [--suite S] [--sizes 2,16,256,...] [--reps R]
 *
 * Per group size N, the median time of the group operations and, next to
 * it, the crypto floor: the cryptographic operations RFC 9420 requires for
 * that operation (counted from the messages themselves where they vary),
 * times their median cost measured in this run, and the ratio time / floor.
 * The floor counts:
 *   - small operations, at their fixed-size cost measured once per run
 *     (printed as "costs"): signatures and verifications of a 64-byte
 *     message (LeafNodeTBS, KeyPackageTBS, GroupInfoTBS are of that order),
 *     HPKE SealBase/OpenBase of 32 bytes (an EncryptedGroupSecrets or a
 *     path secret), DeriveKeyPair, AEAD of 1 KiB (application data);
 *   - size-dependent operations over the message itself, measured in the
 *     same run on a buffer of exactly the message's length L (the
 *     "over L B" part of each line): the signature over FramedContentTBS
 *     (sign when creating, verify when processing; ), the
 *     membership tag, a MAC over AuthenticatedContentTBM (PublicMessage
 *     only; section 6.2), and the confirmed transcript hash over
 *     ConfirmedTranscriptHashInput (commits only; section 8.2). Each of
 *     these inputs contains the whole FramedContent, so L (the MLSMessage)
 *     is within a few dozen bytes of their length.
 * Nothing else is counted: no key schedule HKDFs, no tree hashes, no
 * encoding or parsing. The add_one rows grow the tree; their tree hash over
 * the new blank half (2N-1 hashes) is not in the floor, see add_one below.
 *
 *   add_bulk         one commit adding N-1 members, Welcome with the tree
 *   join             processing that Welcome (one new member)
 *   update_create / update_process   an update commit (path) right after
 *                    the bulk add (sparse tree: no parent node set)
 *   update_full_create / update_full_process   the same with every parent
 *                    node set
 *   add_one_create / add_one_process     an Add to the full tree: the tree
 *                    doubles, on every repetition (each starts from the same
 *                    full tree). That happens once per 2^k Adds, so the
 *                    lines add_one_*_amortized also give the cost amortized
 *                    over the N Adds that fill the new half: the add_blank
 *                    time plus (add_one - add_blank) / N.
 *   remove_one_create / remove_one_process
 *   add_blank_create / add_blank_process an Add into a blank leaf
 *   app_protect / app_unprotect      1 KiB of application data
 *   memory           heap bytes of one member's group state, per member
 *
 * Setup (not timed): the full tree is made by commits from every odd leaf.
 * Those members never joined (a join validates the whole tree, N
 * verifications each): the benchmark impersonates them with the engine's
 * internals (mls/group-internal.h), swapping in their leaf key on a copy of
 * one member's state. Only setup does that; every timed operation is the
 * public API.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "mls/group-internal.h"
#include "mls/hpke.h"
#include "tools/bench/bench.h"

#define APP_LEN 1024

/* Times R runs of expr (stopping at the first error, in e) into v and
 * stores their median in c->field; cleanup runs after each. */
#define TIME(field, expr, cleanup)                                                      \
        for (size_t i = 0; i < R && e == 0; i++) {                                      \
                uint64_t t0 = bench_now_ns();                                           \
                e = (expr);                                                             \
                v[i] = bench_now_ns() - t0;                                             \
                cleanup;                                                                \
        }                                                                               \
        c->field = bench_median_ns(v, R);

struct costs {
        double sign, verify, seal, open, derive, aead;
        double th_leaf, th_parent; /* hash of a blank leaf's / parent's TreeHashInput */
};

struct floor {
        size_t sign, verify, seal, open, derive, aead;
        /* over a buffer of len bytes (the message): sign_l signatures,
         * verify_l verifications, mac_l MACs, hash_l hashes */
        size_t len, sign_l, verify_l, mac_l, hash_l;
};

/* Median cost (ns) of the size-dependent operations over len bytes. */
struct sized_costs {
        double sign, verify, mac, hash;
};

static int
measure_sized(const struct mls_suite *s, size_t len, struct sized_costs *c)
{
        enum { R = 7 };
        uint64_t v[R];
        struct mls_secret *sp = NULL;
        struct mls_bytes spub = { 0 }, sig = { 0 }, a = { 0 };
        uint8_t key[MLS_MAX_HASH_LEN] = { 9 }, out[MLS_MAX_HASH_LEN];
        uint8_t *buf = malloc(len ? len : 1);
        int e = 0;

        if (!buf)
                return MLS_E_NOMEM;
        memset(buf, 0x5a, len);
        e = mls_crypto_sig_keygen(s, mls_rng_system(), &sp, &spub);
        if (e == 0)
                e = mls_crypto_sign(s, sp, buf, len, &sig);
        TIME(sign, mls_crypto_sign(s, sp, buf, len, &a), mls_bytes_clear(&a));
        TIME(verify, mls_crypto_verify(s, spub.data, spub.len, buf, len, sig.data, sig.len),
             (void)0);
        TIME(mac, mls_crypto_mac(s, key, s->hash_len, buf, len, out), (void)0);
        TIME(hash, mls_crypto_hash(s, buf, len, out), (void)0);
        mls_secret_free(sp);
        mls_bytes_clear(&spub);
        mls_bytes_clear(&sig);
        free(buf);
        return e;
}

static int
floor_ms(const struct mls_suite *s, const struct costs *c, const struct floor *f, double *ret)
{
        struct sized_costs z = { 0 };

        if (f->sign_l + f->verify_l + f->mac_l + f->hash_l)
                MLS_TRY(measure_sized(s, f->len, &z));
        *ret = (f->sign * c->sign + f->verify * c->verify + f->seal * c->seal + f->open * c->open +
                f->derive * c->derive + f->aead * c->aead + f->sign_l * z.sign +
                f->verify_l * z.verify + f->mac_l * z.mac + f->hash_l * z.hash) /
               1e6;
        return 0;
}

static int
report_ms(const struct mls_suite *s, size_t n, const char *op, double med, size_t reps,
          const struct costs *c, const struct floor *f)
{
        double fl;

        MLS_TRY(floor_ms(s, c, f, &fl));
        printf("suite %u N=%zu %-20s median %10.3f ms (n=%zu)  floor %10.3f ms "
               "[%zu sign %zu verify %zu seal %zu open %zu derive",
               s->id, n, op, med, reps, fl, f->sign, f->verify, f->seal, f->open, f->derive);
        if (f->aead)
                printf(" %zu aead-1k", f->aead);
        if (f->sign_l + f->verify_l + f->mac_l + f->hash_l)
                printf("; over %zu B: %zu sign %zu verify %zu mac %zu hash", f->len, f->sign_l,
                       f->verify_l, f->mac_l, f->hash_l);
        printf("]  ratio %.2f\n", fl > 0 ? med / fl : 0.0);
        fflush(stdout);
        return 0;
}

static int
report(const struct mls_suite *s, size_t n, const char *op, uint64_t *v, size_t reps,
       const struct costs *c, const struct floor *f)
{
        return report_ms(s, n, op, bench_median_ns(v, reps) / 1e6, reps, c, f);
}

/* The message-size terms of a PublicMessage commit of len bytes: its
 * FramedContentTBS signature (made or verified), membership tag and
 * confirmed transcript hash. */
static void
floor_commit(struct floor *f, size_t len, bool create)
{
        f->len = len;
        f->sign_l = create ? 1 : 0;
        f->verify_l = create ? 0 : 1;
        f->mac_l = 1;
        f->hash_l = 1;
}

/* ---- crypto costs ---- */

static int
measure_costs(const struct mls_suite *s, struct costs *c)
{
        const struct mls_rng *rng = mls_rng_system();
        struct mls_secret *sp = NULL, *kp = NULL, *out = NULL;
        struct mls_bytes spub = { 0 }, kpub = { 0 }, sig = { 0 }, enc = { 0 }, ct = { 0 };
        struct mls_bytes a = { 0 }, b = { 0 };
        uint8_t msg[64] = { 1 }, ikm[MLS_MAX_KEM_PRIV_LEN] = { 2 }, key[32] = { 3 }, nonce[12] = { 4 };
        uint8_t in[APP_LEN], outb[APP_LEN + MLS_MAX_AEAD_TAG_LEN];
        enum { R = 200 };
        uint64_t v[R];
        int e = 0;

        memset(in, 5, sizeof(in));
        MLS_TRY(mls_crypto_sig_keygen(s, rng, &sp, &spub));
        MLS_TRY(mls_crypto_kem_generate(s, rng, &kp, &kpub));
        MLS_TRY(mls_crypto_sign(s, sp, msg, sizeof(msg), &sig));
        MLS_TRY(mls_hpke_seal_base(s, rng, kpub.data, kpub.len, NULL, 0, NULL, 0, msg, 32, &enc,
                                   &ct));
        TIME(sign, mls_crypto_sign(s, sp, msg, sizeof(msg), &a), mls_bytes_clear(&a));
        TIME(verify, mls_crypto_verify(s, spub.data, spub.len, msg, sizeof(msg), sig.data, sig.len),
             (void)0);
        TIME(seal, mls_hpke_seal_base(s, rng, kpub.data, kpub.len, NULL, 0, NULL, 0, msg, 32, &a, &b),
             (mls_bytes_clear(&a), mls_bytes_clear(&b)));
        TIME(open, mls_hpke_open_base(s, kp, enc.data, enc.len, NULL, 0, NULL, 0, ct.data, ct.len,
                                      &out),
             (mls_secret_free(out), out = NULL));
        TIME(derive, (ikm[0]++, mls_crypto_kem_derive_keypair(s, ikm, s->kem_priv_len, &out, &a)),
             (mls_secret_free(out), out = NULL, mls_bytes_clear(&a)));
        TIME(aead, mls_crypto_aead_seal(s, key, nonce, NULL, 0, in, sizeof(in), outb), (void)0);
        /* blank TreeHashInput: leaf 6 bytes; parent 2 + 2 * (1 + Nh)
         * (Nh < 64: one-byte length prefixes) */
        TIME(th_leaf, mls_crypto_hash(s, in, 6, outb), (void)0);
        TIME(th_parent, mls_crypto_hash(s, in, 2 + 2 * (1 + s->hash_len), outb), (void)0);
        mls_secret_free(sp);
        mls_secret_free(kp);
        mls_bytes_clear(&spub);
        mls_bytes_clear(&kpub);
        mls_bytes_clear(&sig);
        mls_bytes_clear(&enc);
        mls_bytes_clear(&ct);
        printf("suite %u costs: sign %.4f verify %.4f hpke-seal %.4f hpke-open %.4f "
               "derive-keypair %.4f aead-1k %.4f blank-leaf-hash %.5f blank-parent-hash %.5f "
               "ms\n",
               s->id, c->sign / 1e6, c->verify / 1e6, c->seal / 1e6, c->open / 1e6,
               c->derive / 1e6, c->aead / 1e6, c->th_leaf / 1e6, c->th_parent / 1e6);
        return e;
}

/* ---- members ---- */

/*
 * A member of the benchmark group. Thousands of them would each hold three
 * guarded allocations (signature key, init and encryption keys), and
 * guarded pages are a scarce kernel resource (mappings, locked memory): so
 * all but A keep their private parts serialized in ordinary memory (setup
 * only, a benchmark) and materialise them when they act.
 */
struct member {
        struct mls_signer_key *sk;      /* A only */
        struct mls_credential cred;
        struct mls_env env;
        struct mls_bytes kp;            /* public KeyPackage (MLSMessage) */
        struct mls_bytes kp_state;      /* mls_key_package_priv_save() */
        struct mls_bytes sig_priv;
};

static void
member_clear(struct member *m)
{
        mls_signer_key_free(m->sk);
        mls_credential_clear(&m->cred);
        mls_bytes_clear(&m->kp);
        if (m->kp_state.data)
                mls_wipe(m->kp_state.data, m->kp_state.len);
        mls_bytes_clear(&m->kp_state);
        if (m->sig_priv.data)
                mls_wipe(m->sig_priv.data, m->sig_priv.len);
        mls_bytes_clear(&m->sig_priv);
}

static int
member_init(const struct mls_suite *s, struct member *m, size_t i, bool with_kp)
{
        char name[32];
        struct mls_key_package_params p = { 0 };
        struct mls_key_package_priv *kpp = NULL;
        struct mls_secret *st = NULL;
        int e;

        snprintf(name, sizeof(name), "member-%zu", i);
        MLS_TRY(mls_signer_key_generate(s, mls_rng_system(), &m->sk));
        m->cred.credential_type = MLS_CREDENTIAL_BASIC;
        MLS_TRY(mls_bytes_copy(&m->cred.identity, (const uint8_t *)name, strlen(name)));
        m->env = (struct mls_env){ .rng = mls_rng_system(), .signer = &m->sk->signer,
                                   .now = 1700000000 };
        if (!with_kp)
                return 0;
        p.leaf.credential = &m->cred;
        MLS_TRY(mls_key_package_create(s, &p, &m->env, &m->kp, &kpp));
        e = mls_key_package_priv_save(kpp, &st);
        if (e == 0)
                e = mls_bytes_copy(&m->kp_state, st->data, st->len);
        if (e == 0)
                e = mls_bytes_copy(&m->sig_priv, m->sk->priv->data, m->sk->priv->len);
        mls_secret_free(st);
        mls_key_package_priv_free(kpp);
        mls_signer_key_free(m->sk);
        m->sk = NULL;
        m->env.signer = NULL;
        return e;
}

/* Materialises a member's signature key and KeyPackage private half. */
static int
member_load(const struct mls_suite *s, struct member *m, struct mls_key_package_priv **ret_kpp)
{
        struct mls_secret *sp = NULL;
        int e;

        if (!m->sk) {
                MLS_TRY(mls_secret_from(m->sig_priv.data, m->sig_priv.len, &sp));
                e = mls_signer_key_new(s, sp, &m->sk);
                mls_secret_free(sp);
                MLS_TRY(e);
                m->env.signer = &m->sk->signer;
        }
        if (ret_kpp)
                MLS_TRY(mls_key_package_priv_load(m->kp_state.data, m->kp_state.len, ret_kpp));
        return 0;
}

static void
member_unload(struct member *m)
{
        mls_signer_key_free(m->sk);
        m->sk = NULL;
        m->env.signer = NULL;
}

/* Counts the HPKE ciphertexts and path nodes of a commit. */
static int
commit_shape(const struct mls_bytes *msg, size_t *ret_seals, size_t *ret_nodes)
{
        struct mls_message m = { 0 };
        size_t seals = 0, nodes = 0;

        MLS_TRY(mls_message_from_bytes(msg->data, msg->len, &m));
        if (m.wire_format == MLS_WIRE_PUBLIC_MESSAGE &&
            m.public_message.content.content_type == MLS_CONTENT_COMMIT &&
            m.public_message.content.commit.has_path) {
                const struct mls_update_path *up = &m.public_message.content.commit.path;

                nodes = up->n_nodes;
                for (size_t i = 0; i < up->n_nodes; i++)
                        seals += up->nodes[i].n_encrypted_path_secret;
        }
        mls_message_clear(&m);
        *ret_seals = seals;
        *ret_nodes = nodes;
        return 0;
}

static int
copy_group(const struct mls_group *g, struct mls_group **ret)
{
        struct mls_secret *s = NULL;
        int e;

        MLS_TRY(mls_group_save(g, &s));
        e = mls_group_load(s->data, s->len, ret);
        mls_secret_free(s);
        return e;
}

/* Setup only: g acts as the member at `leaf` whose leaf key is enc_priv. */
static int
become(struct mls_group *g, uint32_t leaf, const struct mls_secret *enc_priv)
{
        struct mls_treekem_priv *p = NULL;

        MLS_TRY(mls_treekem_priv_new(g->suite, leaf, enc_priv, &p));
        mls_treekem_priv_free(g->priv);
        g->priv = p;
        g->own_leaf = leaf;
        return 0;
}

struct run {
        const struct mls_suite *s;
        size_t n, reps;
        struct costs c;
        struct member a;
        struct member *m; /* [n]: m[0] unused */
        struct mls_group *ga, *gb;
        uint64_t *t1, *t2;
        double last_c, last_p;          /* medians (ms) of the last time_commit */
        struct floor last_fc, last_fp;
};

/*
 * Times commits made by A (repetitions from the same state: each but the
 * last is cleared) and their processing by B (on copies of B's state made
 * beforehand; the last repetition is processed by B itself and merged by
 * A). The copies are made before any timing: saving and loading a big
 * state between two timed calls would leave the allocator and the caches
 * cold for the next one.
 */
static int
time_commit(struct run *r, const char *name_c, const char *name_p,
            int (*make)(struct run *r, uint64_t *ret_ns, struct mls_bytes *ret_commit,
                        struct floor *fc, struct floor *fp))
{
        struct floor fc = { 0 }, fp = { 0 };
        struct mls_group **bc = calloc(r->reps, sizeof(*bc));
        struct mls_bytes *commits = calloc(r->reps, sizeof(*commits));
        int e = 0;

        if (!bc || !commits) {
                free(bc);
                free(commits);
                return MLS_E_NOMEM;
        }
        for (size_t i = 0; i + 1 < r->reps && e == 0; i++)
                e = copy_group(r->gb, &bc[i]);
        for (size_t i = 0; i < r->reps && e == 0; i++) {
                memset(&fc, 0, sizeof(fc));
                memset(&fp, 0, sizeof(fp));
                e = make(r, &r->t1[i], &commits[i], &fc, &fp);
                if (e == 0 && i + 1 < r->reps)
                        e = mls_group_clear_pending(r->ga);
        }
        for (size_t i = 0; i < r->reps && e == 0; i++) {
                struct mls_process_result res = { 0 };
                bool last = i + 1 == r->reps;
                uint64_t t0 = bench_now_ns();

                e = mls_group_process(last ? r->gb : bc[i], &r->a.env, commits[i].data,
                                      commits[i].len, &res);
                r->t2[i] = bench_now_ns() - t0;
                mls_process_result_clear(&res);
        }
        if (e == 0)
                e = mls_group_merge_pending(r->ga, NULL);
        for (size_t i = 0; i < r->reps; i++) {
                mls_group_free(bc[i]);
                mls_bytes_clear(&commits[i]);
        }
        free(bc);
        free(commits);
        MLS_TRY(e);
        r->last_c = bench_median_ns(r->t1, r->reps) / 1e6;
        r->last_p = bench_median_ns(r->t2, r->reps) / 1e6;
        r->last_fc = fc;
        r->last_fp = fp;
        MLS_TRY(report(r->s, r->n, name_c, r->t1, r->reps, &r->c, &fc));
        return report(r->s, r->n, name_p, r->t2, r->reps, &r->c, &fp);
}

static int
make_update(struct run *r, uint64_t *ret_ns, struct mls_bytes *ret, struct floor *fc,
            struct floor *fp)
{
        size_t seals, nodes;
        uint64_t t0 = bench_now_ns();

        MLS_TRY(mls_group_update(r->ga, &r->a.env, NULL, ret));
        *ret_ns = bench_now_ns() - t0;
        MLS_TRY(commit_shape(ret, &seals, &nodes));
        /* creator: leaf signature (+ the content's, over the message),
         * leaf key and one key per path node, a seal per recipient */
        *fc = (struct floor){ .sign = 1, .derive = nodes + 1, .seal = seals };
        floor_commit(fc, ret->len, true);
        /* receiver (leaf 1): leaf signature (+ the content's), one open,
         * the keys from the common ancestor (the lowest node) up */
        *fp = (struct floor){ .verify = 1, .open = 1, .derive = nodes };
        floor_commit(fp, ret->len, false);
        return 0;
}

/* The same in the full tree (a separate symbol for profilers). */
static int
make_update_full(struct run *r, uint64_t *ret_ns, struct mls_bytes *ret, struct floor *fc,
                 struct floor *fp)
{
        return make_update(r, ret_ns, ret, fc, fp);
}

static uint32_t add_one_next;

static int
make_add_one(struct run *r, uint64_t *ret_ns, struct mls_bytes *ret, struct floor *fc,
             struct floor *fp)
{
        struct member x = { 0 };
        struct mls_bytes w = { 0 };
        int e;

        e = member_init(r->s, &x, 1000000 + add_one_next++, true);
        if (e == 0) {
                uint64_t t0 = bench_now_ns();

                e = mls_group_add(r->ga, &r->a.env, &x.kp, 1, NULL, ret, &w);
                *ret_ns = bench_now_ns() - t0;
        }
        member_clear(&x);
        mls_bytes_clear(&w);
        /* creator: KeyPackage and leaf verifications, one Welcome seal,
         * GroupInfo signature (+ the content's, over the message);
         * receiver: KeyPackage and leaf (+ the content's) */
        *fc = (struct floor){ .sign = 1, .verify = 2, .seal = 1 };
        *fp = (struct floor){ .verify = 2 };
        if (e == 0) {
                floor_commit(fc, ret->len, true);
                floor_commit(fp, ret->len, false);
        }
        return e;
}

static uint32_t remove_next;

static int
make_remove_one(struct run *r, uint64_t *ret_ns, struct mls_bytes *ret, struct floor *fc,
                struct floor *fp)
{
        uint32_t leaf = remove_next;
        size_t seals, nodes;
        uint64_t t0 = bench_now_ns();

        MLS_TRY(mls_group_remove(r->ga, &r->a.env, &leaf, 1, NULL, ret));
        *ret_ns = bench_now_ns() - t0;
        MLS_TRY(commit_shape(ret, &seals, &nodes));
        *fc = (struct floor){ .sign = 1, .derive = nodes + 1, .seal = seals };
        floor_commit(fc, ret->len, true);
        *fp = (struct floor){ .verify = 1, .open = 1, .derive = nodes };
        floor_commit(fp, ret->len, false);
        return 0;
}

/* Every parent node set: commits from leaf 0 (A) and every odd leaf but
 * 1 (B), impersonated on a copy of B's state; A and B process them. */
static int
fill_tree(struct run *r)
{
        struct mls_group *x = NULL;
        struct mls_bytes commit = { 0 };
        struct mls_process_result res = { 0 };
        int e = 0;

        MLS_TRY(mls_group_update(r->ga, &r->a.env, NULL, &commit));
        MLS_TRY(mls_group_process(r->gb, &r->a.env, commit.data, commit.len, &res));
        mls_process_result_clear(&res);
        MLS_TRY(mls_group_merge_pending(r->ga, NULL));
        mls_bytes_clear(&commit);
        MLS_TRY(copy_group(r->gb, &x));
        /* Odd leaves in bit-reversed order of their index: every subtree
         * gets one commit before any gets two, so resolutions stay small
         * (O(N log N) seals in all, instead of O(N^2) left to right). */
        for (size_t i = 1, half = r->n / 2; i < half && e == 0; i++) {
                size_t rev = 0, l;

                for (size_t b = 1, k = i; b < half; b <<= 1, k >>= 1)
                        rev = (rev << 1) | (k & 1);
                l = 2 * rev + 1;
                if (l == 1)
                        continue;
                {
                        struct mls_key_package_priv *kpp = NULL;

                        e = member_load(r->s, &r->m[l], &kpp);
                        if (e == 0)
                                e = become(x, (uint32_t)l, kpp->enc_priv);
                        mls_key_package_priv_free(kpp);
                }
                if (e == 0)
                        e = mls_group_update(x, &r->m[l].env, NULL, &commit);
                member_unload(&r->m[l]);
                if (e == 0)
                        e = mls_group_merge_pending(x, NULL);
                if (e == 0)
                        e = mls_group_process(r->ga, &r->a.env, commit.data, commit.len, &res);
                mls_process_result_clear(&res);
                if (e == 0)
                        e = mls_group_process(r->gb, &r->a.env, commit.data, commit.len, &res);
                mls_process_result_clear(&res);
                mls_bytes_clear(&commit);
        }
        mls_group_free(x);
        if (e == 0) {
                /* check: no blank parent */
                for (uint32_t p = 1; p < mls_tree_node_count(r->ga->tree); p += 2)
                        if (mls_tree_node_is_blank(r->ga->tree, p))
                                return MLS_E_INTERNAL;
        }
        return e;
}

static int
run_size(const struct mls_suite *s, size_t n, size_t reps_max, const struct costs *c)
{
        struct run r = { .s = s, .n = n, .c = *c };
        struct mls_bytes *kps = NULL, commit = { 0 }, welcome = { 0 };
        struct floor f;
        double one_c, one_p;
        size_t reps = n <= 256 ? reps_max : n <= 1024 ? (reps_max < 5 ? reps_max : 5)
                                                       : (reps_max < 3 ? reps_max : 3);
        int e = 0;

        r.reps = reps ? reps : 1;
        r.m = calloc(n, sizeof(*r.m));
        kps = calloc(n, sizeof(*kps));
        r.t1 = calloc(r.reps > 200 ? r.reps : 200, sizeof(uint64_t));
        r.t2 = calloc(r.reps > 200 ? r.reps : 200, sizeof(uint64_t));
        if (!r.m || !kps || !r.t1 || !r.t2)
                return MLS_E_NOMEM;
        MLS_TRY(member_init(s, &r.a, 0, false));
        for (size_t i = 1; i < n && e == 0; i++) {
                e = member_init(s, &r.m[i], i, true);
                kps[i - 1] = r.m[i].kp;
        }
        MLS_TRY(e);
        /* add_bulk */
        for (size_t i = 0; i < r.reps; i++) {
                struct mls_leaf_params lp = { .credential = &r.a.cred };
                /* the creator's policy: this suite (R-11-2 guard) */
                uint16_t sid = s->id;
                struct mls_commit_params cp = { .inline_tree = true,
                                                .suite_preference = &sid,
                                                .n_suite_preference = 1 };
                uint64_t t0;

                mls_group_free(r.ga);
                r.ga = NULL;
                mls_bytes_clear(&commit);
                mls_bytes_clear(&welcome);
                MLS_TRY(mls_group_create(s, (const uint8_t *)"bench", 5, &lp, NULL, NULL, &r.a.env,
                                         &r.ga));
                t0 = bench_now_ns();
                MLS_TRY(mls_group_add(r.ga, &r.a.env, kps, n - 1, &cp, &commit, &welcome));
                r.t1[i] = bench_now_ns() - t0;
        }
        f = (struct floor){ .sign = 1, .verify = 2 * (n - 1), .seal = n - 1 };
        floor_commit(&f, commit.len, true);
        MLS_TRY(report(s, n, "add_bulk", r.t1, r.reps, c, &f));
        MLS_TRY(mls_group_merge_pending(r.ga, NULL));
        /* join */
        {
                struct mls_key_package_priv *bkp = NULL;

                MLS_TRY(member_load(s, &r.m[1], &bkp));
                for (size_t i = 0; i < r.reps && e == 0; i++) {
                        struct mls_key_package_priv *k[1] = { bkp };
                        uint64_t t0;

                        mls_group_free(r.gb);
                        r.gb = NULL;
                        t0 = bench_now_ns();
                        e = mls_group_join(welcome.data, welcome.len, NULL, 0, k, 1, NULL,
                                           &r.m[1].env, &r.gb, NULL);
                        r.t1[i] = bench_now_ns() - t0;
                }
                mls_key_package_priv_free(bkp);
                MLS_TRY(e);
        }
        /* GroupInfo and every leaf signature, the GroupSecrets open */
        f = (struct floor){ .verify = n + 1, .open = 1 };
        MLS_TRY(report(s, n, "join", r.t1, r.reps, c, &f));
        mls_bytes_clear(&commit);
        mls_bytes_clear(&welcome);
        /* update in the sparse tree */
        MLS_TRY(time_commit(&r, "update_create", "update_process", make_update));
        /* the full tree */
        if (n > 2) {
                MLS_TRY(fill_tree(&r));
                MLS_TRY(time_commit(&r, "update_full_create", "update_full_process",
                                    make_update_full));
        }
        MLS_TRY(time_commit(&r, "add_one_create", "add_one_process", make_add_one));
        one_c = r.last_c;
        one_p = r.last_p;
        {
                /* Not in the floor, for information: the tree hashes of the
                 * new all-blank right half (N leaves, N - 1 parents), which
                 * every member computes once per doubling (R-7.8-4: the tree
                 * hash covers the whole power-of-two tree). */
                double th = ((double)n * c->th_leaf + (double)(n - 1) * c->th_parent) / 1e6;
                double fc, fp;

                MLS_TRY(floor_ms(s, c, &r.last_fc, &fc));
                MLS_TRY(floor_ms(s, c, &r.last_fp, &fp));
                printf("suite %u N=%zu add_one: the doubling hashes the new blank half, %zu "
                       "tree hashes = %.3f ms at the measured cost; with them the floor is "
                       "%.3f ms (create, ratio %.2f) / %.3f ms (process, ratio %.2f)\n",
                       s->id, n, 2 * n - 1, th, fc + th, one_c / (fc + th), fp + th,
                       one_p / (fp + th));
        }
        /* remove members 2, 3, ... (never A or B) */
        if (n > 2) {
                /* each repetition removes leaf 2 from the same state */
                remove_next = 2;
                MLS_TRY(time_commit(&r, "remove_one_create", "remove_one_process",
                                    make_remove_one));
                /* an Add into the blank leaf 2 (add_one above doubles the
                 * full tree, which rehashes the new blank half once) */
                MLS_TRY(time_commit(&r, "add_blank_create", "add_blank_process", make_add_one));
                /* one doubling per N Adds: the Adds into the new half cost
                 * add_blank, plus 1/N of the doubling's extra */
                MLS_TRY(report_ms(s, n, "add_one_create_amort",
                                  r.last_c + (one_c - r.last_c) / (double)n, r.reps, c,
                                  &r.last_fc));
                MLS_TRY(report_ms(s, n, "add_one_process_amort",
                                  r.last_p + (one_p - r.last_p) / (double)n, r.reps, c,
                                  &r.last_fp));
        }
        /* application messages */
        {
                enum { A = 200 };
                uint8_t pt[APP_LEN];
                struct mls_process_result res = { 0 };
                size_t msg_len = 0;

                memset(pt, 7, sizeof(pt));
                for (size_t i = 0; i < A; i++) {
                        struct mls_bytes msg = { 0 };
                        uint64_t t0 = bench_now_ns();

                        MLS_TRY(mls_group_encrypt(r.ga, &r.a.env, pt, sizeof(pt), NULL, &msg));
                        r.t1[i] = bench_now_ns() - t0;
                        t0 = bench_now_ns();
                        MLS_TRY(mls_group_process(r.gb, &r.a.env, msg.data, msg.len, &res));
                        r.t2[i] = bench_now_ns() - t0;
                        msg_len = msg.len;
                        mls_process_result_clear(&res);
                        mls_bytes_clear(&msg);
                }
                /* the FramedContentTBS signature over the message's
                 * length (no membership tag, no transcript), the AEAD */
                f = (struct floor){ .aead = 1, .len = msg_len, .sign_l = 1 };
                MLS_TRY(report(s, n, "app_protect", r.t1, A, c, &f));
                f = (struct floor){ .aead = 1, .len = msg_len, .verify_l = 1 };
                MLS_TRY(report(s, n, "app_unprotect", r.t2, A, c, &f));
        }
        /* memory: heap bytes of one member's state */
        {
                struct mls_group *x = NULL;
                struct mallinfo2 m0, m1;

                malloc_trim(0);
                m0 = mallinfo2();
                MLS_TRY(copy_group(r.gb, &x));
                m1 = mallinfo2();
                printf("suite %u N=%zu memory               %10zu bytes per member "
                       "(%zu heap bytes for one member's state)\n",
                       s->id, n, (m1.uordblks - m0.uordblks) / n, m1.uordblks - m0.uordblks);
                mls_group_free(x);
        }
        mls_group_free(r.ga);
        mls_group_free(r.gb);
        member_clear(&r.a);
        for (size_t i = 1; i < n; i++)
                member_clear(&r.m[i]);
        free(r.m);
        free(kps);
        free(r.t1);
        free(r.t2);
        return 0;
}

static void
group_usage(FILE *f)
{
        fprintf(f, "usage: mlskey-bench group [--suite S] [--sizes N1,N2,...] [--reps R]\n"
                   "  --suite S      cipher suite (default 1)\n"
                   "  --sizes LIST   group sizes, powers of two >= 2 (default 2,16,256)\n"
                   "  --reps R       repetitions of the heavy operations (default 7; fewer\n"
                   "                 above 256 members)\n");
}

int
bench_group(int argc, char **argv)
{
        const struct mls_suite *s = mls_suite_get(1);
        size_t sizes[32] = { 2, 16, 256 }, n_sizes = 3, reps = 7;
        struct costs c;
        int e;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        group_usage(stdout);
                        return 0;
                } else if (strcmp(argv[i], "--suite") == 0 && i + 1 < argc) {
                        size_t id = bench_parse_count(argv[++i]);

                        s = id <= UINT16_MAX ? mls_suite_get((uint16_t)id) : NULL;
                        if (!s) {
                                group_usage(stderr);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
                        char *list = argv[++i], *tok, *save = NULL;

                        n_sizes = 0;
                        for (tok = strtok_r(list, ",", &save); tok && n_sizes < 32;
                             tok = strtok_r(NULL, ",", &save)) {
                                size_t v = bench_parse_count(tok);

                                if (v < 2 || (v & (v - 1)) != 0 || v > (1u << 20)) {
                                        group_usage(stderr);
                                        return 2;
                                }
                                sizes[n_sizes++] = v;
                        }
                } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
                        reps = bench_parse_count(argv[++i]);
                        if (!reps || reps > 200) {
                                group_usage(stderr);
                                return 2;
                        }
                } else {
                        group_usage(stderr);
                        return 2;
                }
        }
        e = measure_costs(s, &c);
        if (e < 0) {
                fprintf(stderr, "mlskey-bench group: %s\n", mls_err_name(e));
                return 1;
        }
        for (size_t i = 0; i < n_sizes; i++) {
                e = run_size(s, sizes[i], reps, &c);
                if (e < 0) {
                        fprintf(stderr, "mlskey-bench group: N=%zu: %s\n", sizes[i],
                                mls_err_name(e));
                        return 1;
                }
        }
        return 0;
}
