/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-bench group [--suite S] [--sizes 2,16,256,...] [--reps R]
 *
 * Per group size N, the median time of the group operations and, next to
 * it, the crypto floor: the signatures, verifications, HPKE seals/opens and
 * DeriveKeyPairs RFC 9420 requires for that operation (counted from the
 * messages themselves where they vary), times their median cost measured
 * in this run, and the ratio time / floor.
 *
 *   add_bulk         one commit adding N-1 members, Welcome with the tree
 *   join             processing that Welcome (one new member)
 *   update_create / update_process   an update commit (path) right after
 *                    the bulk add (sparse tree: no parent node set)
 *   update_full_create / update_full_process   the same with every parent
 *                    node set
 *   add_one_create / add_one_process     an Add to the full tree (it doubles)
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

struct costs {
        double sign, verify, seal, open, derive, aead;
};

struct floor {
        size_t sign, verify, seal, open, derive, aead;
};

static double
floor_ms(const struct costs *c, const struct floor *f)
{
        return (f->sign * c->sign + f->verify * c->verify + f->seal * c->seal + f->open * c->open +
                f->derive * c->derive + f->aead * c->aead) /
               1e6;
}

static void
report(uint16_t suite, size_t n, const char *op, uint64_t *v, size_t reps,
       const struct costs *c, const struct floor *f)
{
        double med = bench_median_ns(v, reps) / 1e6, fl = floor_ms(c, f);

        printf("suite %u N=%zu %-20s median %10.3f ms (n=%zu)  floor %10.3f ms "
               "[%zu sign %zu verify %zu seal %zu open %zu derive]  ratio %.2f\n",
               suite, n, op, med, reps, fl, f->sign, f->verify, f->seal, f->open, f->derive,
               fl > 0 ? med / fl : 0.0);
        fflush(stdout);
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
#define TIME(field, expr, cleanup)                                                      \
        for (size_t i = 0; i < R && e == 0; i++) {                                      \
                uint64_t t0 = bench_now_ns();                                           \
                e = (expr);                                                             \
                v[i] = bench_now_ns() - t0;                                             \
                cleanup;                                                                \
        }                                                                               \
        c->field = bench_median_ns(v, R);
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
#undef TIME
        mls_secret_free(sp);
        mls_secret_free(kp);
        mls_bytes_clear(&spub);
        mls_bytes_clear(&kpub);
        mls_bytes_clear(&sig);
        mls_bytes_clear(&enc);
        mls_bytes_clear(&ct);
        printf("suite %u costs: sign %.4f verify %.4f hpke-seal %.4f hpke-open %.4f "
               "derive-keypair %.4f aead-1k %.4f ms\n",
               s->id, c->sign / 1e6, c->verify / 1e6, c->seal / 1e6, c->open / 1e6,
               c->derive / 1e6, c->aead / 1e6);
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
        report(r->s->id, r->n, name_c, r->t1, r->reps, &r->c, &fc);
        report(r->s->id, r->n, name_p, r->t2, r->reps, &r->c, &fp);
        return 0;
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
        /* creator: leaf + content signatures, leaf key and one key per
         * path node, a seal per recipient */
        *fc = (struct floor){ .sign = 2, .derive = nodes + 1, .seal = seals };
        /* receiver (leaf 1): content and leaf signatures, one open, the
         * keys from the common ancestor (the lowest node) up */
        *fp = (struct floor){ .verify = 2, .open = 1, .derive = nodes };
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
         * content and GroupInfo signatures; receiver: content signature,
         * KeyPackage and leaf */
        *fc = (struct floor){ .sign = 2, .verify = 2, .seal = 1 };
        *fp = (struct floor){ .verify = 3 };
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
        *fc = (struct floor){ .sign = 2, .derive = nodes + 1, .seal = seals };
        *fp = (struct floor){ .verify = 2, .open = 1, .derive = nodes };
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
                struct mls_commit_params cp = { .inline_tree = true };
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
        f = (struct floor){ .sign = 2, .verify = 2 * (n - 1), .seal = n - 1 };
        report(s->id, n, "add_bulk", r.t1, r.reps, c, &f);
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
        f = (struct floor){ .verify = n + 1, .open = 1 };
        report(s->id, n, "join", r.t1, r.reps, c, &f);
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
        /* remove members 2, 3, ... (never A or B) */
        if (n > 2) {
                /* each repetition removes leaf 2 from the same state */
                remove_next = 2;
                MLS_TRY(time_commit(&r, "remove_one_create", "remove_one_process",
                                    make_remove_one));
                /* an Add into the blank leaf 2 (add_one above doubles the
                 * full tree, which rehashes the new blank half once) */
                MLS_TRY(time_commit(&r, "add_blank_create", "add_blank_process", make_add_one));
        }
        /* application messages */
        {
                enum { A = 200 };
                uint8_t pt[APP_LEN];
                struct mls_process_result res = { 0 };

                memset(pt, 7, sizeof(pt));
                for (size_t i = 0; i < A; i++) {
                        struct mls_bytes msg = { 0 };
                        uint64_t t0 = bench_now_ns();

                        MLS_TRY(mls_group_encrypt(r.ga, &r.a.env, pt, sizeof(pt), NULL, &msg));
                        r.t1[i] = bench_now_ns() - t0;
                        t0 = bench_now_ns();
                        MLS_TRY(mls_group_process(r.gb, &r.a.env, msg.data, msg.len, &res));
                        r.t2[i] = bench_now_ns() - t0;
                        mls_process_result_clear(&res);
                        mls_bytes_clear(&msg);
                }
                f = (struct floor){ .sign = 1, .aead = 1 };
                report(s->id, n, "app_protect", r.t1, A, c, &f);
                f = (struct floor){ .verify = 1, .aead = 1 };
                report(s->id, n, "app_unprotect", r.t2, A, c, &f);
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
