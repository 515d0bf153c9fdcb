/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials: built-in checks and the Authentication Service hook
 * (RFC 9420 sections 5.3, 5.3.1). Contract: mls/credential.h.
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mls/credential.h"

static void
x509_freep(X509 **p)
{
        X509_free(*p);
}

/* The OpenSSL key type and (for ECDSA) group of a suite's signature
 * scheme (RFC 9420 section 17.1). */
static bool
suite_sig_alg(uint16_t id, const char **ret_type, const char **ret_group)
{
        switch (id) {
        case 1:
        case 3:
                *ret_type = "ED25519";
                *ret_group = NULL;
                return true;
        case 4:
        case 6:
                *ret_type = "ED448";
                *ret_group = NULL;
                return true;
        case 2:
                *ret_type = "EC";
                *ret_group = "prime256v1";
                return true;
        case 5:
                *ret_type = "EC";
                *ret_group = "secp521r1";
                return true;
        case 7:
                *ret_type = "EC";
                *ret_group = "secp384r1";
                return true;
        default:
                return false;
        }
}

/* One whole DER certificate: d2i_X509 must consume exactly len bytes. */
static int
parse_cert(const struct mls_bytes *b, X509 **ret)
{
        const unsigned char *p = b->data;
        X509 *x;

        /* R-5.3-2: each entry is one non-empty DER certificate. */
        if (b->len == 0 || b->len > LONG_MAX)
                return MLS_E_BAD_CREDENTIAL;
        x = d2i_X509(NULL, &p, (long)b->len);
        if (!x)
                return MLS_E_BAD_CREDENTIAL;
        if ((size_t)(p - b->data) != b->len) {
                X509_free(x);
                return MLS_E_BAD_CREDENTIAL;
        }
        *ret = x;
        return 0;
}

/* R-5.3-1: the end-entity certificate's subjectPublicKeyInfo key is the
 * signature key, in the suite's encoding (raw EdDSA key, uncompressed
 * SEC1 point for ECDSA, RFC 9420 section 5.1.1). */
static int
cert_key_matches(X509 *x, const struct mls_suite *s, const uint8_t *key, size_t key_len)
{
        const char *type, *group;
        EVP_PKEY *pk = X509_get0_pubkey(x);
        uint8_t buf[160];
        size_t n = 0;

        if (!pk || !suite_sig_alg(s->id, &type, &group))
                return MLS_E_BAD_CREDENTIAL;
        if (!EVP_PKEY_is_a(pk, type))
                return MLS_E_BAD_CREDENTIAL;
        if (group) {
                char gname[64];
                size_t gl = 0;

                if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, gname,
                                                    sizeof(gname), &gl) ||
                    strcmp(gname, group) != 0)
                        return MLS_E_BAD_CREDENTIAL;
                /* Compressed points in the certificate compare in their
                 * uncompressed form. Failure leaves the key's own form. */
                (void)EVP_PKEY_set_utf8_string_param(pk,
                                                     OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                     "uncompressed");
                if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf,
                                                     sizeof(buf), &n))
                        return MLS_E_BAD_CREDENTIAL;
        } else {
                n = sizeof(buf);
                if (!EVP_PKEY_get_raw_public_key(pk, buf, &n))
                        return MLS_E_BAD_CREDENTIAL;
        }
        if (n != key_len || memcmp(buf, key, n) != 0)
                return MLS_E_BAD_CREDENTIAL;
        return 0;
}

int
mls_credential_check(const struct mls_suite *s, const struct mls_credential *cred,
                     const uint8_t *signature_key, size_t key_len)
{
        if (!s || !cred || (!signature_key && key_len))
                return MLS_E_INVALID_ARGUMENT;
        switch (cred->credential_type) {
        case MLS_CREDENTIAL_BASIC:
                /* RFC 9420 section 5.3: any identity bytes; what they
                 * mean is up to the AS. */
                return 0;
        case MLS_CREDENTIAL_X509: {
                _mls_cleanup_(x509_freep) X509 *ee = NULL;

                /* R-5.3-2: one DER certificate per entry, end-entity
                 * first; an empty chain has no end-entity certificate. */
                if (cred->n_certificates == 0 || !cred->certificates)
                        return MLS_E_BAD_CREDENTIAL;
                MLS_TRY(parse_cert(&cred->certificates[0], &ee));
                for (size_t i = 1; i < cred->n_certificates; i++) {
                        _mls_cleanup_(x509_freep) X509 *x = NULL;

                        MLS_TRY(parse_cert(&cred->certificates[i], &x));
                }
                /* R-5.3-1 */
                return cert_key_matches(ee, s, signature_key, key_len);
        }
        default:
                /* Other types do not decode (mls_credential_decode);
                 * one built by hand has no built-in rule. */
                return 0;
        }
}

int
mls_credential_validate(const struct mls_env *env, const struct mls_suite *s,
                        const struct mls_credential *cred, const uint8_t *signature_key,
                        size_t key_len, const struct mls_credential *predecessor)
{
        int r;

        MLS_TRY(mls_credential_check(s, cred, signature_key, key_len));
        if (!env || !env->validate_credential)
                return 0;
        /* R-5.3.1-1: the Authentication Service accepts it; R-5.3.1-8:
         * with the predecessor, as a successor of that identity. */
        r = env->validate_credential(env->ctx, cred, signature_key, key_len, predecessor);
        if (r > 0)
                return MLS_E_INTERNAL;
        return r;
}

bool
mls_credential_eq(const struct mls_credential *a, const struct mls_credential *b)
{
        if (a->credential_type != b->credential_type)
                return false;
        if (!mls_bytes_eq(&a->identity, &b->identity))
                return false;
        if (a->n_certificates != b->n_certificates)
                return false;
        for (size_t i = 0; i < a->n_certificates; i++)
                if (!mls_bytes_eq(&a->certificates[i], &b->certificates[i]))
                        return false;
        return true;
}

int
mls_credential_validate_leaf(const struct mls_env *env, const struct mls_suite *s,
                             const struct mls_leaf_node *ln, const struct mls_leaf_node *old)
{
        if (!ln)
                return MLS_E_INVALID_ARGUMENT;
        /* R-5.3.1-5, R-5.3.1-6: only a new credential goes to the AS. */
        if (old && mls_credential_eq(&old->credential, &ln->credential))
                return mls_credential_check(s, &ln->credential, ln->signature_key.data,
                                            ln->signature_key.len);
        return mls_credential_validate(env, s, &ln->credential, ln->signature_key.data,
                                       ln->signature_key.len, old ? &old->credential : NULL);
}

static bool
sender_in(const struct mls_external_senders *l, const struct mls_external_sender *x)
{
        for (size_t i = 0; i < l->n; i++)
                if (mls_bytes_eq(&l->v[i].signature_key, &x->signature_key) &&
                    mls_credential_eq(&l->v[i].credential, &x->credential))
                        return true;
        return false;
}

int
mls_credential_validate_external_senders(const struct mls_env *env, const struct mls_suite *s,
                                         const struct mls_extension_list *ext,
                                         const struct mls_extension_list *old)
{
        _mls_cleanup_(mls_external_senders_clear) struct mls_external_senders nx = { 0 };
        _mls_cleanup_(mls_external_senders_clear) struct mls_external_senders ox = { 0 };
        const struct mls_extension *e, *oe;

        if (!s || !ext)
                return MLS_E_INVALID_ARGUMENT;
        e = mls_extension_list_find(ext, MLS_EXT_EXTERNAL_SENDERS);
        if (!e)
                return 0;
        MLS_TRY(mls_extension_get_external_senders(e, &nx));
        oe = old ? mls_extension_list_find(old, MLS_EXT_EXTERNAL_SENDERS) : NULL;
        if (oe && mls_extension_get_external_senders(oe, &ox) < 0)
                mls_external_senders_clear(&ox);
        for (size_t i = 0; i < nx.n; i++) {
                const struct mls_external_sender *x = &nx.v[i];

                /* R-5.3.1-7: an entry added or changed. */
                if (sender_in(&ox, x))
                        continue;
                MLS_TRY(mls_credential_validate(env, s, &x->credential, x->signature_key.data,
                                                x->signature_key.len, NULL));
        }
        return 0;
}
