/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials and the Authentication Service hook (RFC 9420 sections 5.3,
 * 5.3.1).
 *
 * mls_credential_check() runs the built-in checks of one credential against
 * the signature key of the LeafNode (or ExternalSender) that carries it:
 *   basic  RFC 9420 puts no rule on the identity bytes: accepted.
 *   x509   one DER certificate per entry, end-entity first (R-5.3-2): the
 *          list is non-empty and every entry is one whole DER certificate;
 *          the end-entity certificate's subjectPublicKeyInfo key is the
 *          signature key in the suite's encoding (R-5.3-1). Chains are NOT
 *          verified here: trust anchors, validity periods and revocation
 *          belong to the Authentication Service (struct mls_env's
 *          validate_credential callback).
 *
 * mls_credential_validate() runs the built-in checks and then the AS
 * callback of the environment (if any), with the credential it replaces
 * (predecessor, or NULL for a credential new to the group).
 */
#ifndef MLS_CREDENTIAL_H
#define MLS_CREDENTIAL_H

#include "mls/common.h"
#include "mls/crypto.h"
#include "mls/group.h"
#include "mls/messages.h"

/* Built-in checks; 0 or MLS_E_BAD_CREDENTIAL (MLS_E_INVALID_ARGUMENT for
 * NULL arguments, MLS_E_NOMEM). */
MLS_MUST_CHECK int mls_credential_check(const struct mls_suite *s,
                                        const struct mls_credential *cred,
                                        const uint8_t *signature_key, size_t key_len);

/* Built-in checks, then env->validate_credential (skipped when env or the
 * callback is NULL). predecessor: the credential being replaced (Update,
 * commit path) or NULL. A positive return of the callback is treated as
 * MLS_E_INTERNAL. */
MLS_MUST_CHECK int mls_credential_validate(const struct mls_env *env, const struct mls_suite *s,
                                           const struct mls_credential *cred,
                                           const uint8_t *signature_key, size_t key_len,
                                           const struct mls_credential *predecessor);

/* A LeafNode's credential (R-7.3-4): the built-in checks against its
 * signature key; the AS too unless old (the leaf it replaces, or NULL for
 * a leaf new to the group) has a byte-identical credential. With a
 * changed credential the AS gets old's as predecessor (R-5.3.1-8). */
MLS_MUST_CHECK int mls_credential_validate_leaf(const struct mls_env *env,
                                                const struct mls_suite *s,
                                                const struct mls_leaf_node *ln,
                                                const struct mls_leaf_node *old);

/* Whether two credentials are byte-identical (same type and contents). */
bool mls_credential_eq(const struct mls_credential *a, const struct mls_credential *b);

/* The credential of every ExternalSender of an external_senders extension
 * in ext, if it is new or changed relative to old (NULL: no previous
 * extensions), goes through mls_credential_validate (R-5.3.1-7). */
MLS_MUST_CHECK int mls_credential_validate_external_senders(
        const struct mls_env *env, const struct mls_suite *s,
        const struct mls_extension_list *ext, const struct mls_extension_list *old);

#endif
