/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mls/credential: the built-in x509 checks (R-5.3-1,
 * R-5.3-2) with certificates made here by OpenSSL for suites 1 (Ed25519)
 * and 2 (P-256), and the Authentication Service hook (R-5.3.1-1,
 * R-5.3.1-5, R-5.3.1-7, R-5.3.1-8). Group-level validation points are in
 * test_group_negative.c and test_scenarios.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mls/credential.h"
#include "tests/lib/testutil.h"

/* A self-signed certificate for a fresh key of the suite's scheme. */
struct tcert {
        uint8_t *der;
        size_t der_len;
        uint8_t pub[160];       /* the key in the suite's encoding */
        size_t pub_len;
};

static void
tcert_make(uint16_t suite, struct tcert *ret)
{
        EVP_PKEY *pk;
        X509 *x;
        X509_NAME *nm;
        unsigned char *der = NULL;
        int n;

        memset(ret, 0, sizeof(*ret));
        if (suite == 2)
                pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        else
                pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_non_null(pk);
        x = X509_new();
        assert_non_null(x);
        assert_int_equal(X509_set_version(x, 2), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
        nm = X509_get_subject_name(x);
        assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                                                    (const unsigned char *)"alice", -1, -1, 0),
                         1);
        assert_int_equal(X509_set_issuer_name(x, nm), 1);
        assert_int_equal(X509_set_pubkey(x, pk), 1);
        assert_true(X509_sign(x, pk, suite == 2 ? EVP_sha256() : NULL) > 0);
        n = i2d_X509(x, &der);
        assert_true(n > 0);
        ret->der = malloc((size_t)n);
        assert_non_null(ret->der);
        memcpy(ret->der, der, (size_t)n);
        ret->der_len = (size_t)n;
        OPENSSL_free(der);
        if (suite == 2) {
                assert_int_equal(EVP_PKEY_get_octet_string_param(pk,
                                                                 OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                                 ret->pub, sizeof(ret->pub),
                                                                 &ret->pub_len),
                                 1);
                assert_int_equal(ret->pub_len, 65);
                assert_int_equal(ret->pub[0], 0x04);
        } else {
                ret->pub_len = sizeof(ret->pub);
                assert_int_equal(EVP_PKEY_get_raw_public_key(pk, ret->pub, &ret->pub_len), 1);
                assert_int_equal(ret->pub_len, 32);
        }
        X509_free(x);
        EVP_PKEY_free(pk);
}

static void
tcert_free(struct tcert *c)
{
        free(c->der);
        memset(c, 0, sizeof(*c));
}

/* An x509 credential over (copies of) the given entries. */
static void
x509_cred(struct mls_credential *c, const struct mls_bytes *entries, size_t n)
{
        memset(c, 0, sizeof(*c));
        c->credential_type = MLS_CREDENTIAL_X509;
        c->certificates = calloc(n ? n : 1, sizeof(*c->certificates));
        assert_non_null(c->certificates);
        c->n_certificates = n;
        for (size_t i = 0; i < n; i++)
                assert_int_equal(mls_bytes_copy(&c->certificates[i], entries[i].data,
                                                entries[i].len),
                                 0);
}

static void
check_suite_match(uint16_t id)
{
        const struct mls_suite *s = mls_suite_get(id);
        struct tcert a, b;
        struct mls_credential c;
        struct mls_bytes e;

        assert_non_null(s);
        tcert_make(id, &a);
        tcert_make(id, &b);
        e = (struct mls_bytes){ .data = a.der, .len = a.der_len };
        x509_cred(&c, &e, 1);
        /* R-5.3-1: the certificate's key is the signature key. */
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), 0);
        /* R-5.3-1: a certificate for another key is refused. */
        assert_int_equal(mls_credential_check(s, &c, b.pub, b.pub_len), MLS_E_BAD_CREDENTIAL);
        /* A flipped bit or a truncated key. */
        a.pub[a.pub_len - 1] ^= 1;
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        a.pub[a.pub_len - 1] ^= 1;
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len - 1),
                         MLS_E_BAD_CREDENTIAL);
        /* A chain: end-entity first, then another (intermediate) cert. */
        mls_credential_clear(&c);
        {
                struct mls_bytes two[2] = { { .data = a.der, .len = a.der_len },
                                            { .data = b.der, .len = b.der_len } };

                x509_cred(&c, two, 2);
                assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), 0);
                /* R-5.3-2: the end-entity certificate is the first: the
                 * second one's key is not the leaf's. */
                assert_int_equal(mls_credential_check(s, &c, b.pub, b.pub_len),
                                 MLS_E_BAD_CREDENTIAL);
        }
        mls_credential_clear(&c);
        tcert_free(&a);
        tcert_free(&b);
}

/* R-5.3-1 for suite 1 (Ed25519, raw keys). */
static void
test_credential_x509_ed25519_key_match(void **state)
{
        (void)state;
        check_suite_match(1);
}

/* R-5.3-1 for suite 2 (P-256, uncompressed points). */
static void
test_credential_x509_p256_key_match(void **state)
{
        (void)state;
        check_suite_match(2);
}

/* R-5.3-1: a certificate of another signature scheme than the suite's. */
static void
test_credential_x509_wrong_scheme(void **state)
{
        struct tcert ed, ec;
        struct mls_credential c;
        struct mls_bytes e;

        (void)state;
        tcert_make(1, &ed);
        tcert_make(2, &ec);
        e = (struct mls_bytes){ .data = ed.der, .len = ed.der_len };
        x509_cred(&c, &e, 1);
        assert_int_equal(mls_credential_check(mls_suite_get(2), &c, ed.pub, ed.pub_len),
                         MLS_E_BAD_CREDENTIAL);
        assert_int_equal(mls_credential_check(mls_suite_get(1), &c, ed.pub, ed.pub_len), 0);
        mls_credential_clear(&c);
        e = (struct mls_bytes){ .data = ec.der, .len = ec.der_len };
        x509_cred(&c, &e, 1);
        assert_int_equal(mls_credential_check(mls_suite_get(1), &c, ec.pub, ec.pub_len),
                         MLS_E_BAD_CREDENTIAL);
        /* P-384 suite (7) with a P-256 certificate. */
        assert_int_equal(mls_credential_check(mls_suite_get(7), &c, ec.pub, ec.pub_len),
                         MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        tcert_free(&ed);
        tcert_free(&ec);
}

/* R-5.3-2: every entry is one whole, non-empty DER certificate. */
static void
test_credential_x509_bad_der(void **state)
{
        const struct mls_suite *s = mls_suite_get(1);
        static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
        struct tcert a;
        struct mls_credential c;
        struct mls_bytes e[2];
        uint8_t *longer;

        (void)state;
        tcert_make(1, &a);
        /* No certificate at all. */
        x509_cred(&c, NULL, 0);
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        /* An empty entry. */
        e[0] = (struct mls_bytes){ .data = NULL, .len = 0 };
        x509_cred(&c, e, 1);
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        /* Garbage DER. */
        e[0] = (struct mls_bytes){ .data = (uint8_t *)garbage, .len = sizeof(garbage) };
        x509_cred(&c, e, 1);
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        /* Truncated certificate. */
        e[0] = (struct mls_bytes){ .data = a.der, .len = a.der_len - 1 };
        x509_cred(&c, e, 1);
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        /* A trailing byte after the certificate. */
        longer = malloc(a.der_len + 1);
        assert_non_null(longer);
        memcpy(longer, a.der, a.der_len);
        longer[a.der_len] = 0;
        e[0] = (struct mls_bytes){ .data = longer, .len = a.der_len + 1 };
        x509_cred(&c, e, 1);
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        free(longer);
        /* A good end-entity certificate followed by an empty entry or a
         * garbage one. */
        e[0] = (struct mls_bytes){ .data = a.der, .len = a.der_len };
        e[1] = (struct mls_bytes){ .data = NULL, .len = 0 };
        x509_cred(&c, e, 2);
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        e[1] = (struct mls_bytes){ .data = (uint8_t *)garbage, .len = sizeof(garbage) };
        x509_cred(&c, e, 2);
        assert_int_equal(mls_credential_check(s, &c, a.pub, a.pub_len), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&c);
        tcert_free(&a);
}

/* Basic credentials have no built-in rule (RFC 9420 section 5.3). */
static void
test_credential_basic_accepted(void **state)
{
        struct mls_credential c = { .credential_type = MLS_CREDENTIAL_BASIC };
        uint8_t key[32] = { 1 };

        (void)state;
        assert_int_equal(mls_credential_check(mls_suite_get(1), &c, key, sizeof(key)), 0);
        assert_int_equal(mls_credential_check(NULL, &c, key, sizeof(key)),
                         MLS_E_INVALID_ARGUMENT);
}

/* A recording Authentication Service. */
struct as_rec {
        int calls;
        int answer;
        const struct mls_credential *last;
        const struct mls_credential *last_pred;
        size_t last_key_len;
        char last_id[32];       /* the basic identity of the last call */
};

static int
as_cb(void *ctx, const struct mls_credential *cred, const uint8_t *key, size_t key_len,
      const struct mls_credential *pred)
{
        struct as_rec *a = ctx;

        (void)key;
        a->calls++;
        a->last = cred;
        a->last_pred = pred;
        a->last_key_len = key_len;
        memset(a->last_id, 0, sizeof(a->last_id));
        if (cred->credential_type == MLS_CREDENTIAL_BASIC &&
            cred->identity.len > 0 && cred->identity.len < sizeof(a->last_id))
                memcpy(a->last_id, cred->identity.data, cred->identity.len);
        return a->answer;
}

static struct mls_credential
basic(const char *id)
{
        struct mls_credential c = { .credential_type = MLS_CREDENTIAL_BASIC };

        assert_int_equal(mls_bytes_copy(&c.identity, (const uint8_t *)id, strlen(id)), 0);
        return c;
}

/* R-5.3.1-1: the AS judges; its refusal is returned; NULL callback means
 * accept; built-in failures come first. */
static void
test_credential_validate_as(void **state)
{
        const struct mls_suite *s = mls_suite_get(1);
        struct as_rec a = { 0 };
        struct mls_env env = { .validate_credential = as_cb, .ctx = &a };
        struct mls_env none = { 0 };
        struct mls_credential c = basic("alice"), old = basic("alice-old");
        struct mls_credential bad = { .credential_type = MLS_CREDENTIAL_X509 };
        uint8_t key[32] = { 2 };

        (void)state;
        assert_int_equal(mls_credential_validate(&env, s, &c, key, sizeof(key), NULL), 0);
        assert_int_equal(a.calls, 1);
        assert_ptr_equal(a.last, &c);
        assert_null(a.last_pred);
        assert_int_equal(a.last_key_len, sizeof(key));
        /* R-5.3.1-8: the predecessor is passed on. */
        assert_int_equal(mls_credential_validate(&env, s, &c, key, sizeof(key), &old), 0);
        assert_ptr_equal(a.last_pred, &old);
        a.answer = MLS_E_BAD_CREDENTIAL;
        assert_int_equal(mls_credential_validate(&env, s, &c, key, sizeof(key), NULL),
                         MLS_E_BAD_CREDENTIAL);
        a.answer = 7;
        assert_int_equal(mls_credential_validate(&env, s, &c, key, sizeof(key), NULL),
                         MLS_E_INTERNAL);
        /* No AS configured: accepted. */
        assert_int_equal(mls_credential_validate(&none, s, &c, key, sizeof(key), NULL), 0);
        assert_int_equal(mls_credential_validate(NULL, s, &c, key, sizeof(key), NULL), 0);
        /* The built-in check fails before the AS is asked. */
        a.calls = 0;
        a.answer = 0;
        assert_int_equal(mls_credential_validate(&env, s, &bad, key, sizeof(key), NULL),
                         MLS_E_BAD_CREDENTIAL);
        assert_int_equal(a.calls, 0);
        mls_credential_clear(&c);
        mls_credential_clear(&old);
}

/* R-5.3.1-5, R-5.3.1-8: a leaf with an unchanged credential is not sent
 * to the AS again, a changed one is, with the old credential. */
static void
test_credential_validate_leaf_successor(void **state)
{
        const struct mls_suite *s = mls_suite_get(1);
        struct as_rec a = { 0 };
        struct mls_env env = { .validate_credential = as_cb, .ctx = &a };
        struct mls_leaf_node ln = { 0 }, old = { 0 };
        uint8_t key[32] = { 3 };

        (void)state;
        ln.credential = basic("bob");
        old.credential = basic("bob");
        ln.signature_key = (struct mls_bytes){ .data = key, .len = sizeof(key) };
        assert_int_equal(mls_credential_validate_leaf(&env, s, &ln, &old), 0);
        assert_int_equal(a.calls, 0);
        mls_credential_clear(&old.credential);
        old.credential = basic("bob-1");
        assert_int_equal(mls_credential_validate_leaf(&env, s, &ln, &old), 0);
        assert_int_equal(a.calls, 1);
        assert_ptr_equal(a.last_pred, &old.credential);
        /* A new leaf: no predecessor. */
        assert_int_equal(mls_credential_validate_leaf(&env, s, &ln, NULL), 0);
        assert_int_equal(a.calls, 2);
        assert_null(a.last_pred);
        a.answer = MLS_E_BAD_CREDENTIAL;
        assert_int_equal(mls_credential_validate_leaf(&env, s, &ln, &old), MLS_E_BAD_CREDENTIAL);
        mls_credential_clear(&ln.credential);
        mls_credential_clear(&old.credential);
}

static void
add_senders(struct mls_extension_list *l, const char **ids, size_t n)
{
        struct mls_external_senders es = { 0 };
        struct mls_bytes b = { 0 };
        uint8_t key[32] = { 4 };

        es.v = calloc(n, sizeof(*es.v));
        assert_non_null(es.v);
        es.n = n;
        for (size_t i = 0; i < n; i++) {
                key[1] = (uint8_t)i;
                assert_int_equal(mls_bytes_copy(&es.v[i].signature_key, key, sizeof(key)), 0);
                es.v[i].credential = basic(ids[i]);
        }
        assert_int_equal(mls_external_senders_to_bytes(&es, &b), 0);
        assert_int_equal(mls_extension_list_add(l, MLS_EXT_EXTERNAL_SENDERS, b.data, b.len), 0);
        mls_bytes_clear(&b);
        mls_external_senders_clear(&es);
}

/* R-5.3.1-7: external senders added or changed go to the AS; unchanged
 * ones do not. */
static void
test_credential_external_senders(void **state)
{
        const struct mls_suite *s = mls_suite_get(1);
        struct as_rec a = { 0 };
        struct mls_env env = { .validate_credential = as_cb, .ctx = &a };
        struct mls_extension_list old = { 0 }, nw = { 0 }, empty = { 0 };
        const char *one[] = { "ds" }, *two[] = { "ds", "ds2" };

        (void)state;
        add_senders(&old, one, 1);
        add_senders(&nw, two, 2);
        assert_int_equal(mls_credential_validate_external_senders(&env, s, &nw, &old), 0);
        assert_int_equal(a.calls, 1);
        assert_string_equal(a.last_id, "ds2");
        a.calls = 0;
        assert_int_equal(mls_credential_validate_external_senders(&env, s, &nw, NULL), 0);
        assert_int_equal(a.calls, 2);
        a.calls = 0;
        assert_int_equal(mls_credential_validate_external_senders(&env, s, &old, &old), 0);
        assert_int_equal(a.calls, 0);
        assert_int_equal(mls_credential_validate_external_senders(&env, s, &empty, &old), 0);
        assert_int_equal(a.calls, 0);
        a.answer = MLS_E_BAD_CREDENTIAL;
        assert_int_equal(mls_credential_validate_external_senders(&env, s, &nw, &old),
                         MLS_E_BAD_CREDENTIAL);
        mls_extension_list_clear(&old);
        mls_extension_list_clear(&nw);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_credential_x509_ed25519_key_match),
                cmocka_unit_test(test_credential_x509_p256_key_match),
                cmocka_unit_test(test_credential_x509_wrong_scheme),
                cmocka_unit_test(test_credential_x509_bad_der),
                cmocka_unit_test(test_credential_basic_accepted),
                cmocka_unit_test(test_credential_validate_as),
                cmocka_unit_test(test_credential_validate_leaf_successor),
                cmocka_unit_test(test_credential_external_senders),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
