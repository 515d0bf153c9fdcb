/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cryptographic half of Welcome (RFC 9420 sections 12.4.3, 12.4.3.1):
 * GroupInfo signatures, GroupSecrets and GroupInfo encryption, the
 * KeyPackageRef lookup and the confirmation-tag check. Tree validation,
 * PSK lookup, group_id uniqueness and building the group state are the group
 * layer's; the joiner's steps are separate functions so that it can do its
 * checks between them:
 *
 *   mls_welcome_find_key_package      R-12.4.3.1-2, R-12.4.3.1-3
 *   mls_welcome_decrypt_secrets       R-12.4.3.1-4, R-12.4.3.1-6
 *   (group layer: PSKs -> psk_secret, R-12.4.3.1-5)
 *   mls_welcome_decrypt_group_info    R-12.4.3.1-7, R-12.4.3.1-10
 *   (group layer: tree, signer's leaf, R-12.4.3.1-8 .. -17)
 *   mls_welcome_verify_group_info     R-12.4.3-6, R-12.4.3-7
 *   (group layer: epoch secrets with mls_ks_from_joiner, R-12.4.3.1-21)
 *   mls_welcome_verify_confirmation_tag  R-12.4.3.1-22
 *
 * The committer signs the GroupInfo (mls_welcome_sign_group_info) and
 * builds one Welcome for any number of new members (mls_welcome_build).
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_WELCOME_H
#define MLS_WELCOME_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/signer.h"
#include "mls/keyschedule.h"
#include "mls/messages.h"
#include "mls/rng.h"
#include "mls/secret.h"

/* ---- GroupInfo signature (RFC 9420 section 12.4.3) ---- */

/*
 * signature = SignWithLabel(., "GroupInfoTBS", GroupInfoTBS) over every
 * field before `signature` (R-12.4.3-7); the signer is handed label
 * MLS_SIGN_LABEL_GROUP_INFO and the encoded GroupInfoTBS (mls/signer.h). The
 * _with_key variant signs with a key held in this process. Replaces
 * gi->signature on success. MLS_E_WRONG_SUITE if the GroupContext's suite
 * is not s.
 */
MLS_MUST_CHECK int mls_welcome_sign_group_info(const struct mls_suite *s,
                                               struct mls_group_info *gi,
                                               const struct mls_signer *signer);
MLS_MUST_CHECK int mls_welcome_sign_group_info_with_key(const struct mls_suite *s,
                                                        struct mls_group_info *gi,
                                                        const struct mls_secret *priv);

/* VerifyWithLabel(pub, "GroupInfoTBS", GroupInfoTBS, signature) with the
 * key of leaf gi->signer, which the caller looked up (R-12.4.3-6): 0,
 * MLS_E_BAD_SIGNATURE, or MLS_E_BAD_KEY for a malformed key. */
MLS_MUST_CHECK int mls_welcome_verify_group_info(const struct mls_suite *s,
                                                 const struct mls_group_info *gi,
                                                 const uint8_t *pub, size_t pub_len);

/* confirmation_tag == MAC(confirmation_key, confirmed_transcript_hash)
 * (R-12.4.3.1-22), with the confirmation_key of the epoch the GroupInfo
 * describes; 0 or MLS_E_BAD_CONFIRMATION_TAG (constant-time compare). */
MLS_MUST_CHECK int mls_welcome_verify_confirmation_tag(const struct mls_suite *s,
                                                       const struct mls_group_info *gi,
                                                       const uint8_t *confirmation_key,
                                                       size_t key_len);

/* ---- joiner ---- */

/*
 * The index of the `secrets` entry whose new_member is our KeyPackageRef
 * (R-12.4.3.1-2): RefHash("MLS 1.0 KeyPackage Reference", KeyPackage) with
 * the Welcome's suite s. MLS_E_WRONG_SUITE if the Welcome's or the
 * KeyPackage's cipher_suite is not s (R-12.4.3.1-3),
 * MLS_E_KEY_PACKAGE_NOT_FOUND if no entry matches.
 */
MLS_MUST_CHECK int mls_welcome_find_key_package(const struct mls_suite *s,
                                                const struct mls_welcome *w,
                                                const struct mls_key_package *kp,
                                                size_t *ret_index);
/* The same with a KeyPackageRef computed elsewhere. */
MLS_MUST_CHECK int mls_welcome_find_ref(const struct mls_welcome *w, const uint8_t *ref,
                                        size_t ref_len, size_t *ret_index);

/*
 * GroupSecrets = DecryptWithLabel(init_priv, "Welcome", encrypted_group_info,
 * kem_output, ciphertext) of entry `index` (R-12.4.3.1-4), decoded from the
 * guarded plaintext (joiner_secret and path_secret stay in struct
 * mls_secret). MLS_E_DECRYPT if it does not open; MLS_E_INVALID_MESSAGE if
 * joiner_secret or path_secret is not KDF.Nh bytes or more than one
 * resumption PSK has usage reinit or branch (R-12.4.3.1-6). Whether the
 * PSKs are available is the caller's check (R-12.4.3.1-5).
 */
MLS_MUST_CHECK int mls_welcome_decrypt_secrets(const struct mls_suite *s,
                                               const struct mls_welcome *w, size_t index,
                                               const struct mls_secret *init_priv,
                                               struct mls_group_secrets *ret_gs);

/*
 * RFC 9420 section 12.4.3.1 (R-12.4.3.1-7):
 *   welcome_secret = DeriveSecret(Extract(joiner_secret, psk_secret), "welcome")
 *   welcome_nonce  = ExpandWithLabel(welcome_secret, "nonce", "", AEAD.Nn)
 *   welcome_key    = ExpandWithLabel(welcome_secret, "key", "", AEAD.Nk)
 *   GroupInfo      = AEAD.Open(welcome_key, welcome_nonce, "", encrypted_group_info)
 * psk_secret NULL means no PSKs (all-zero). MLS_E_DECRYPT if it does not
 * open, decode errors for a malformed GroupInfo, MLS_E_WRONG_SUITE if the
 * GroupContext's cipher_suite is not s (R-12.4.3.1-10).
 */
MLS_MUST_CHECK int mls_welcome_decrypt_group_info(const struct mls_suite *s,
                                                  const struct mls_welcome *w,
                                                  const struct mls_secret *joiner_secret,
                                                  const struct mls_secret *psk_secret,
                                                  struct mls_group_info *ret_gi);

/* ---- committer ---- */

/* One new member of a Welcome. */
struct mls_welcome_new_member {
        /* Its KeyPackage: init_key is the HPKE recipient key; the
         * KeyPackageRef is computed from it unless `ref` is given. */
        const struct mls_key_package *key_package;
        /* Optional KeyPackageRef (KDF.Nh bytes) the caller already has. */
        const uint8_t *ref;
        /* The path secret of the lowest common ancestor of the committer's
         * and the new member's leaves, or NULL (no path in the commit). */
        const struct mls_secret *path_secret;
};

/*
 * Builds a Welcome (RFC 9420 section 12.4.3.1) for n_members >= 1 new
 * members from the epoch secrets of the new epoch (its joiner_secret and
 * welcome_secret must still be held: MLS_E_INVALID_ARGUMENT otherwise) and
 * a signed GroupInfo:
 *   - the GroupInfo is encoded and encrypted ONCE under the welcome key and
 *     nonce (aad empty) into encrypted_group_info;
 *   - GroupSecrets {joiner_secret, path_secret, psks} per member is
 *     EncryptWithLabel(init_key, "Welcome", encrypted_group_info, .)
 *     (R-12.4.3.1-4); new_member is its KeyPackageRef.
 * Work per member is one HPKE encapsulation and one small AEAD seal: the
 * EncryptContext (which holds the whole encrypted GroupInfo) is hashed once
 * for all members, and every GroupSecrets plaintext is encoded into one
 * guarded buffer. The secrets array is allocated once at its final size.
 * MLS_E_WRONG_SUITE if a KeyPackage or the GroupInfo is of another suite.
 * psks may be NULL when n_psks is 0.
 */
MLS_MUST_CHECK int mls_welcome_build(const struct mls_epoch_secrets *ks,
                                     const struct mls_group_info *gi,
                                     const struct mls_psk_id *psks, size_t n_psks,
                                     const struct mls_welcome_new_member *members,
                                     size_t n_members, const struct mls_rng *rng,
                                     struct mls_welcome *ret_w);

#endif
