/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the group tests: in-process members (a signature key, a
 * basic credential, a group handle), delivery of commits to every member,
 * and state comparison. Every helper asserts (cmocka): a failure stops the
 * test at its line.
 */
#ifndef MLS_GROUP_TEST_UTIL_H
#define MLS_GROUP_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/group.h"
#include "mls/messages.h"
#include "tests/lib/testutil.h"

#define TM_NOW 1700000000ull

struct tm_psk {
        const char *id;
        uint8_t value[32];
};

struct tm_member {
        const struct mls_suite *s;
        char name[24];
        struct mls_signer_key *sk;
        struct mls_credential cred;
        struct mls_env env;
        struct mls_group *g;
        struct mls_key_package_priv *kpp;
        struct mls_group_options opts;
        /* external PSKs this member knows */
        const struct tm_psk *psks;
        size_t n_psks;
        /* other groups of this member (find_group) */
        struct mls_group *others[4];
        size_t n_others;
        /* The member's Authentication Service (env.validate_credential,
         * RFC 9420 section 5.3.1): refuses the basic identity as_refuse
         * (NULL: accepts all) and counts its calls; as_last_pred is the
         * identity of the last predecessor it was given. */
        const char *as_refuse;
        unsigned as_calls, as_pred_calls;
        char as_last_pred[24];
        /* Capabilities of the member's leaves (NULL: the defaults). */
        const struct mls_capabilities *caps;
};

static inline int
tm_validate_credential(void *ctx, const struct mls_credential *cred, const uint8_t *key,
                       size_t key_len, const struct mls_credential *pred)
{
        struct tm_member *m = ctx;

        (void)key;
        (void)key_len;
        m->as_calls++;
        if (pred) {
                m->as_pred_calls++;
                memset(m->as_last_pred, 0, sizeof(m->as_last_pred));
                if (pred->identity.len > 0 && pred->identity.len < sizeof(m->as_last_pred))
                        memcpy(m->as_last_pred, pred->identity.data, pred->identity.len);
        }
        if (m->as_refuse && cred->credential_type == MLS_CREDENTIAL_BASIC &&
            cred->identity.len == strlen(m->as_refuse) && cred->identity.len > 0 &&
            memcmp(cred->identity.data, m->as_refuse, cred->identity.len) == 0)
                return MLS_E_BAD_CREDENTIAL;
        return 0;
}

static inline int
tm_external_psk(void *ctx, const uint8_t *id, size_t len, struct mls_secret **ret)
{
        const struct tm_member *m = ctx;

        for (size_t i = 0; i < m->n_psks; i++)
                if (strlen(m->psks[i].id) == len && memcmp(m->psks[i].id, id, len) == 0)
                        return mls_secret_from(m->psks[i].value, sizeof(m->psks[i].value), ret);
        return MLS_E_UNKNOWN_PSK;
}

static inline const struct mls_group *
tm_find_group(void *ctx, const uint8_t *gid, size_t len)
{
        const struct tm_member *m = ctx;
        size_t l;

        for (size_t i = 0; i < m->n_others; i++) {
                const uint8_t *p = mls_group_id(m->others[i], &l);

                if (l == len && memcmp(p, gid, len) == 0)
                        return m->others[i];
        }
        return NULL;
}

static inline void
tm_init(struct tm_member *m, const struct mls_suite *s, const char *name)
{
        memset(m, 0, sizeof(*m));
        m->s = s;
        snprintf(m->name, sizeof(m->name), "%s", name);
        assert_int_equal(mls_signer_key_generate(s, mls_rng_system(), &m->sk), 0);
        m->cred.credential_type = MLS_CREDENTIAL_BASIC;
        assert_int_equal(mls_bytes_copy(&m->cred.identity, (const uint8_t *)name, strlen(name)),
                         0);
        m->env = (struct mls_env){
                .rng = mls_rng_system(),
                .signer = &m->sk->signer,
                .now = TM_NOW,
                .external_psk = tm_external_psk,
                .find_group = tm_find_group,
                .validate_credential = tm_validate_credential,
                .ctx = m,
        };
        mls_group_options_default(&m->opts);
}

static inline void
tm_clear(struct tm_member *m)
{
        mls_group_free(m->g);
        mls_key_package_priv_free(m->kpp);
        mls_signer_key_free(m->sk);
        mls_credential_clear(&m->cred);
        for (size_t i = 0; i < m->n_others; i++)
                mls_group_free(m->others[i]);
        memset(m, 0, sizeof(*m));
}

static inline struct mls_leaf_params
tm_leaf(const struct tm_member *m)
{
        return (struct mls_leaf_params){ .credential = &m->cred, .capabilities = m->caps };
}

/* A fresh KeyPackage (m->kpp replaced); *ret_kp the MLSMessage. */
static inline void
tm_key_package(struct tm_member *m, struct mls_bytes *ret_kp)
{
        struct mls_key_package_params p = { .leaf = tm_leaf(m) };

        mls_key_package_priv_free(m->kpp);
        m->kpp = NULL;
        assert_int_equal(mls_key_package_create(m->s, &p, &m->env, ret_kp, &m->kpp), 0);
}

static inline void
tm_create(struct tm_member *m, const char *gid, const struct mls_extension_list *ext)
{
        struct mls_leaf_params lp = tm_leaf(m);

        assert_int_equal(mls_group_create(m->s, (const uint8_t *)gid, strlen(gid), &lp, ext,
                                          &m->opts, &m->env, &m->g),
                         0);
}

static inline void
tm_join(struct tm_member *m, const struct mls_bytes *welcome, const struct mls_bytes *tree)
{
        struct mls_key_package_priv *kps[1] = { m->kpp };
        int e = mls_group_join(welcome->data, welcome->len, tree ? tree->data : NULL,
                               tree ? tree->len : 0, kps, 1, &m->opts, &m->env, &m->g, NULL);

        if (e)
                fprintf(stderr, "%s: join: %s\n", m->name, mls_err_name(e));
        assert_int_equal(e, 0);
}

/* Processes msg at m; returns the error (0 on success), result cleared. */
static inline int
tm_process(struct tm_member *m, const struct mls_bytes *msg)
{
        struct mls_process_result r = { 0 };
        uint8_t *g = tu_guarded_copy(msg->data, msg->len);
        int e;

        assert_non_null(g);
        e = mls_group_process(m->g, &m->env, g, msg->len, &r);
        tu_guarded_free(g);
        mls_process_result_clear(&r);
        return e;
}

static inline void
tm_process_ok(struct tm_member *m, const struct mls_bytes *msg)
{
        int e = tm_process(m, msg);

        if (e)
                fprintf(stderr, "%s: process: %s\n", m->name, mls_err_name(e));
        assert_int_equal(e, 0);
}

/* The committer merges, every other member processes. */
static inline void
tm_deliver(struct tm_member *committer, const struct mls_bytes *commit, struct tm_member **ms,
           size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (ms[i] == committer || !ms[i]->g || mls_group_is_removed(ms[i]->g))
                        continue;
                tm_process_ok(ms[i], commit);
        }
        assert_int_equal(mls_group_merge_pending(committer->g, NULL), 0);
}

/* Every member with a group is in the same epoch with the same
 * authenticator, tree and GroupContext. */
static inline void
tm_check_same(struct tm_member **ms, size_t n)
{
        struct mls_bytes a0 = { 0 }, t0 = { 0 }, c0 = { 0 };
        size_t first = n;

        for (size_t i = 0; i < n; i++) {
                struct mls_bytes a = { 0 }, t = { 0 }, c = { 0 };

                if (!ms[i]->g || mls_group_is_removed(ms[i]->g))
                        continue;
                assert_int_equal(mls_group_epoch_authenticator(ms[i]->g, &a), 0);
                assert_int_equal(mls_group_ratchet_tree(ms[i]->g, &t), 0);
                assert_int_equal(mls_group_context_bytes(ms[i]->g, &c), 0);
                if (first == n) {
                        first = i;
                        a0 = a;
                        t0 = t;
                        c0 = c;
                        continue;
                }
                if (!mls_bytes_eq(&a, &a0) || !mls_bytes_eq(&t, &t0) || !mls_bytes_eq(&c, &c0))
                        fail_msg("%s and %s disagree (epoch %llu vs %llu)", ms[first]->name,
                                 ms[i]->name, (unsigned long long)mls_group_epoch(ms[first]->g),
                                 (unsigned long long)mls_group_epoch(ms[i]->g));
                mls_bytes_clear(&a);
                mls_bytes_clear(&t);
                mls_bytes_clear(&c);
        }
        mls_bytes_clear(&a0);
        mls_bytes_clear(&t0);
        mls_bytes_clear(&c0);
}

/* Application message from `from` to everyone else in ms. */
static inline void
tm_app(struct tm_member *from, struct tm_member **ms, size_t n, const char *text)
{
        struct mls_bytes msg = { 0 };

        assert_int_equal(mls_group_encrypt(from->g, &from->env, (const uint8_t *)text,
                                           strlen(text), NULL, &msg),
                         0);
        for (size_t i = 0; i < n; i++) {
                struct mls_process_result r = { 0 };

                if (ms[i] == from || !ms[i]->g || mls_group_is_removed(ms[i]->g))
                        continue;
                assert_int_equal(mls_group_process(ms[i]->g, &ms[i]->env, msg.data, msg.len, &r),
                                 0);
                assert_int_equal(r.content_type, MLS_CONTENT_APPLICATION);
                assert_int_equal(r.content.len, strlen(text));
                assert_memory_equal(r.content.data, text, r.content.len);
                assert_int_equal(r.sender_index, mls_group_own_leaf(from->g));
                mls_process_result_clear(&r);
        }
        mls_bytes_clear(&msg);
}

/* Serialized state of a group (for byte-identity checks). */
static inline struct mls_secret *
tm_save(const struct mls_group *g)
{
        struct mls_secret *s = NULL;

        assert_int_equal(mls_group_save(g, &s), 0);
        return s;
}

static inline void
tm_assert_state(const struct mls_group *g, const struct mls_secret *before)
{
        struct mls_secret *now = tm_save(g);

        assert_true(mls_secret_eq(now, before));
        mls_secret_free(now);
}

/* save -> load -> save gives the same bytes, and the loaded group works as
 * the original (returns the loaded group; the caller swaps it in). */
static inline struct mls_group *
tm_round_trip(const struct mls_group *g)
{
        struct mls_secret *a = tm_save(g), *b;
        struct mls_group *l = NULL;

        assert_int_equal(mls_group_load(a->data, a->len, &l), 0);
        b = tm_save(l);
        assert_true(mls_secret_eq(a, b));
        mls_secret_free(a);
        mls_secret_free(b);
        return l;
}

#endif
