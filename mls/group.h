/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MLS group state machine (RFC 9420 sections 10, 11, 12, 13 and the glue
 * of 6 to 9): everything a member does, in-process, without I/O.
 *
 * Handles
 * -------
 * struct mls_group is an opaque handle owning one member's whole state of one
 * group: the GroupContext, the ratchet tree, the member's private path keys,
 * the epoch secrets, the secret tree, the proposals received in this epoch,
 * a pending commit, a bounded number of past epochs (secret trees for late
 * application messages) and the resumption PSKs of past epochs.
 * struct mls_key_package_priv holds the private half of a KeyPackage.
 *
 * The caller's environment (struct mls_env) is passed to every operation:
 * the RNG, the signer (the engine never holds signature private keys: the
 * daemon's vault signs, see mls/signer.h), the current time for lifetime
 * checks, and optional callbacks to find external PSKs and other groups
 * (resumption PSKs, branch/reinit checks, group_id uniqueness).
 *
 * Atomicity
 * ---------
 * Every operation is applied completely or not at all: on any error the
 * group is unchanged (mls_group_save() gives the same bytes before and
 * after). Two deliberate exceptions, both required for security: sending a
 * handshake or application message as PrivateMessage consumes a generation
 * of the own sender ratchet even if a later step fails, and a
 * successfully decrypted application message consumes its key (replays then
 * fail with MLS_E_GENERATION_CONSUMED).
 *
 * Commits (RFC 9420 section 14): mls_group_commit() and its wrappers do not
 * change the group's epoch (R-14-3); they leave a pending commit. Once the
 * delivery service has accepted the commit, mls_group_merge_pending() moves
 * the group to the new epoch; mls_group_clear_pending() drops it. Processing
 * a commit of another member for the current epoch drops the pending one.
 *
 * Return values: 0 or a negative MLS_E_* (mls/error.h); ret_ parameters are
 * written only on success. Byte outputs (struct mls_bytes) are malloc'd and
 * owned by the caller; secret outputs are struct mls_secret.
 *
 * The D-Bus interface (org.mlskeyd.Daemon1) maps onto this API:
 *   Identity.GenerateKeyPackages  mls_key_package_create (+ _priv_save)
 *   Identity.CreateGroup          mls_group_create (options -> struct
 *                                 mls_group_options; external_senders and
 *                                 required_capabilities -> extensions)
 *   Identity.JoinGroup            mls_group_join
 *   Identity.JoinByExternalCommit mls_group_join_external
 *   Group.Encrypt / Process       mls_group_encrypt / mls_group_process
 *   Group.Add / Remove / Update / Commit
 *                                 mls_group_add / _remove / _update / _commit
 *                                 (inline_tree, force_path, psk_ids: struct
 *                                 mls_commit_params; psk_ids -> proposals
 *                                 from mls_group_make_psk_external)
 *   Group.MergePendingCommit / ClearPendingCommit
 *                                 mls_group_merge_pending / _clear_pending
 *   Group.Propose                 mls_group_make_* + mls_group_propose;
 *                                 "update": mls_group_propose_update
 *   Group.ReInit / Branch         mls_group_reinit / mls_group_branch
 *   Group.GroupInfo / RatchetTree mls_group_group_info / _ratchet_tree
 *   Group.ExportSecret            mls_group_export
 *   Group.Leave                   mls_group_leave
 *   properties                    mls_group_id, _epoch, _suite, _own_leaf,
 *                                 _members, _epoch_authenticator, _has_pending
 * A PrivateMessage echo of one's own commit cannot be decrypted (its key
 * was deleted when it was sent): call mls_group_merge_pending instead of
 * processing it. A PublicMessage echo merges the pending commit.
 */
#ifndef MLS_GROUP_H
#define MLS_GROUP_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/messages.h"
#include "mls/psk.h"
#include "mls/rng.h"
#include "mls/secret.h"
#include "mls/signer.h"

struct mls_group;
struct mls_key_package_priv;

/* ---- environment and options ---- */

/*
 * The caller's environment for one call.
 *   rng      required for operations that create keys or messages.
 *   signer   required for operations that sign (create, KeyPackage,
 *            propose, commit, encrypt, GroupInfo, joins). It must sign with
 *            the member's own signature key (the one in its leaf);
 *            signer->pub must be set for mls_key_package_create and
 *            mls_group_create / external joins (it becomes signature_key).
 *   now      seconds since the Unix epoch, for LeafNode lifetime checks
 *            (only used when the group's enforce_lifetime option is on).
 *   external_psk  optional: the value of an external PSK by psk_id
 *            (MLS_E_UNKNOWN_PSK when unknown). Returns a new secret.
 *   find_group    optional: another group of this client by group_id, or
 *            NULL. Used for resumption PSKs of other groups, for the
 *            reinit/branch checks of a Welcome (R-11.3-3, R-12.4.3.1-25,
 *            R-12.4.3.1-26) and for group_id uniqueness (R-12.4.3-5).
 *   validate_credential  optional: the Authentication Service (RFC 9420
 *            section 5.3.1). Called, after the built-in checks of
 *            mls/credential.h passed, for every credential newly introduced
 *            to the group: the KeyPackage of an Add being made
 *            (mls_group_make_add / mls_group_add), a received Add proposal
 *            or an Add in a received commit, every leaf of the tree and
 *            every external sender of a GroupInfo used to join (Welcome or
 *            external commit), an Update or commit path LeafNode whose
 *            credential differs from the leaf's current one (predecessor =
 *            the current credential: the AS also judges the new identity an
 *            acceptable successor, R-5.3.1-8; NULL otherwise, also for the
 *            leaf of an external commit that does not replace a removed
 *            leaf), and an external_senders entry added or changed by a
 *            GroupContextExtensions proposal. Byte-identical credentials
 *            of a leaf are not validated again. Returns 0 to accept or a
 *            negative MLS_E_* (MLS_E_BAD_CREDENTIAL for a refusal), which
 *            the operation returns. NULL: no AS is configured, every
 *            credential that passes the built-in checks is accepted.
 *   ctx      passed to the callbacks.
 */
struct mls_env {
        const struct mls_rng *rng;
        const struct mls_signer *signer;
        uint64_t now;
        int (*external_psk)(void *ctx, const uint8_t *psk_id, size_t len,
                            struct mls_secret **ret_psk);
        const struct mls_group *(*find_group)(void *ctx, const uint8_t *group_id, size_t len);
        int (*validate_credential)(void *ctx, const struct mls_credential *cred,
                                   const uint8_t *signature_key, size_t key_len,
                                   const struct mls_credential *predecessor);
        void *ctx;
        /* GREASE (RFC 9420 section 13.5, R-13.5-1 .. R-13.5-4) in the
         * LeafNodes and KeyPackages this client creates (KeyPackages, the
         * creator's leaf, Update and commit-path leaves with new
         * contents, external joins): one random GREASE value from
         * 0x0A0A, 0x1A1A, ..., 0xEAEA in each of capabilities.cipher_suites,
         * .extensions, .proposals and .credentials, a GREASE extension with
         * 0-15 random bytes in LeafNode.extensions and one in
         * KeyPackage.extensions (both types listed in
         * capabilities.extensions, R-13.5-2), and one in the extensions
         * of every GroupInfo it signs, drawn from rng. Never in
         * versions, proposal types, credential types, GroupContext
         * extensions or GroupContextExtensions proposals (R-13.5-3): those
         * refuse GREASE values given by the caller (MLS_E_INVALID_ARGUMENT).
         * On by default; no_grease switches it off (deterministic tests). */
        bool no_grease;
};

#define MLS_GROUP_DEFAULT_MAX_PAST_EPOCHS 3
#define MLS_GROUP_DEFAULT_MAX_RESUMPTION_PSKS 64
#define MLS_GROUP_DEFAULT_MAX_PAST_GENERATIONS 5
#define MLS_GROUP_DEFAULT_MAX_FORWARD_DISTANCE 1000
/* Upper bounds accepted for the options (and in saved state). */
#define MLS_GROUP_MAX_PAST_EPOCHS_LIMIT 1024
#define MLS_GROUP_MAX_RESUMPTION_PSKS_LIMIT 65536

/* Per-group options; mls_group_options_default() fills the defaults. */
struct mls_group_options {
        /* Past epochs whose secret trees are kept for late application
         * messages (0 allowed: only the current epoch). */
        uint32_t max_past_epochs;
        /* Past epochs whose resumption_psk is kept (RFC 9420 section 8.6). */
        uint32_t max_resumption_psks;
        /* Secret tree window (mls/secrettree.h). */
        uint32_t max_past_generations;
        uint32_t max_forward_distance;
        /* Send proposals and commits as PrivateMessage (else PublicMessage). */
        bool handshake_private;
        /* PrivateMessage padding: zeros up to a multiple of padding_block
         * bytes (0: none; at most 65536). */
        uint32_t padding_block;
        /* LeafNode lifetime checks (R-7.3-9, R-7.3-10) against env->now.
         * The interop vector runner switches them off; nothing else should. */
        bool enforce_lifetime;
        /* Maximum total lifetime of a LeafNode (R-7.2-8), 0: no maximum. */
        uint64_t max_lifetime;
};

void mls_group_options_default(struct mls_group_options *ret_opts);

/* ---- KeyPackages (RFC 9420 section 10) ---- */

/* The last_resort KeyPackage extension (draft-ietf-mls-extensions,
 * type 0x000A): a KeyPackage that may be used more than once (R-10-1). */
#define MLS_EXT_LAST_RESORT 0x000a

/* The contents of a LeafNode this client creates. */
struct mls_leaf_params {
        /* The credential (required). */
        const struct mls_credential *credential;
        /* NULL: the defaults (version mls10, all seven suites, credential
         * type basic, no non-default extension or proposal type). */
        const struct mls_capabilities *capabilities;
        /* LeafNode extensions (NULL: none). Their types must be listed in
         * the capabilities (R-7.2-3). */
        const struct mls_extension_list *extensions;
        /* key_package leaves: lifetime. not_after 0 means
         * now + MLS_KEY_PACKAGE_DEFAULT_LIFETIME, not_before 0 means now. */
        uint64_t not_before;
        uint64_t not_after;
};

#define MLS_KEY_PACKAGE_DEFAULT_LIFETIME (90ull * 24 * 3600)

struct mls_key_package_params {
        struct mls_leaf_params leaf;
        /* KeyPackage extensions (NULL: none). */
        const struct mls_extension_list *extensions;
        /* Adds the last_resort extension (and lists it in capabilities). */
        bool last_resort;
};

/*
 * A new KeyPackage (R-10-2 .. R-10-9): fresh init and encryption key pairs
 * from env->rng (R-10-3), the leaf signed with "LeafNodeTBS" and the
 * KeyPackage with "KeyPackageTBS" by env->signer, whose pub is the
 * signature_key. ret_msg: the MLSMessage-wrapped KeyPackage to publish;
 * ret_priv: its private half (init and encryption private keys).
 */
MLS_MUST_CHECK int mls_key_package_create(const struct mls_suite *s,
                                          const struct mls_key_package_params *p,
                                          const struct mls_env *env, struct mls_bytes *ret_msg,
                                          struct mls_key_package_priv **ret_priv);
/* The private half of a KeyPackage given as its MLSMessage (or bare
 * KeyPackage) and private keys (vector runners): the keys must match the
 * KeyPackage's init_key and leaf encryption_key (MLS_E_BAD_KEY). */
MLS_MUST_CHECK int mls_key_package_priv_from_keys(const uint8_t *kp, size_t kp_len,
                                                  const struct mls_secret *init_priv,
                                                  const struct mls_secret *encryption_priv,
                                                  struct mls_key_package_priv **ret_priv);
void mls_key_package_priv_free(struct mls_key_package_priv *kp);
void mls_key_package_priv_freep(struct mls_key_package_priv **kp);
#define _mls_key_package_priv_ _mls_cleanup_(mls_key_package_priv_freep)
/* KeyPackageRef (KDF.Nh bytes), a view valid while kp lives. */
const uint8_t *mls_key_package_priv_ref(const struct mls_key_package_priv *kp, size_t *ret_len);
const struct mls_suite *mls_key_package_priv_suite(const struct mls_key_package_priv *kp);
bool mls_key_package_priv_last_resort(const struct mls_key_package_priv *kp);
/* The KeyPackage (not MLSMessage-wrapped) bytes, a view. */
const uint8_t *mls_key_package_priv_key_package(const struct mls_key_package_priv *kp,
                                                size_t *ret_len);
/* Saved state (versioned; secure, the caller seals it) and its strict
 * decoder (MLS_E_BAD_STATE for anything malformed or inconsistent). */
MLS_MUST_CHECK int mls_key_package_priv_save(const struct mls_key_package_priv *kp,
                                             struct mls_secret **ret);
MLS_MUST_CHECK int mls_key_package_priv_load(const uint8_t *p, size_t len,
                                             struct mls_key_package_priv **ret);

/* ---- creating and joining ---- */

/*
 * A new one-member group (RFC 9420 section 11, R-11-4 .. R-11-7) with the
 * creator's leaf from `leaf` (source key_package) and a fresh encryption
 * key, epoch 0, GroupContext extensions `extensions` (NULL: none; their
 * types must be supported by the creator's capabilities, R-13.4-10).
 * opts NULL: defaults.
 */
MLS_MUST_CHECK int mls_group_create(const struct mls_suite *s, const uint8_t *group_id,
                                    size_t group_id_len, const struct mls_leaf_params *leaf,
                                    const struct mls_extension_list *extensions,
                                    const struct mls_group_options *opts,
                                    const struct mls_env *env, struct mls_group **ret);

/*
 * Joins by Welcome (RFC 9420 section 12.4.3.1, the full procedure): kps are
 * this client's KeyPackages (the one the Welcome names is used;
 * *ret_kp_index says which, may be NULL); ratchet_tree is the ratchet_tree
 * encoding when the GroupInfo has no ratchet_tree extension (NULL/0
 * otherwise). PSKs come from env (external_psk, find_group).
 */
MLS_MUST_CHECK int mls_group_join(const uint8_t *welcome, size_t welcome_len,
                                  const uint8_t *ratchet_tree, size_t tree_len,
                                  struct mls_key_package_priv *const *kps, size_t n_kps,
                                  const struct mls_group_options *opts,
                                  const struct mls_env *env, struct mls_group **ret,
                                  size_t *ret_kp_index);

/* Parameters of an external join (RFC 9420 section 12.4.3.2). */
struct mls_external_join_params {
        /* The joiner's leaf (credential, capabilities, extensions). */
        struct mls_leaf_params leaf;
        /* External PSKs to inject (psk_id values; resolved by
         * env->external_psk). */
        const struct mls_bytes *psk_ids;
        size_t n_psk_ids;
        /* Resync: remove our prior appearance at leaf prior_leaf. */
        bool remove_prior;
        uint32_t prior_leaf;
        /* authenticated_data of the commit (NULL: empty). */
        const struct mls_bytes *authenticated_data;
};

/*
 * Joins by external commit: group_info is the MLSMessage-wrapped GroupInfo
 * with an external_pub extension (R-12.4.3.2-1); ratchet_tree as for
 * mls_group_join. The tree and the GroupInfo signature are validated as for
 * a Welcome. ret_group is the group in the new epoch; ret_commit the commit
 * (MLSMessage PublicMessage, sender new_member_commit) to send. If the
 * delivery service refuses the commit, the group is useless: free it.
 */
MLS_MUST_CHECK int mls_group_join_external(const uint8_t *group_info, size_t gi_len,
                                           const uint8_t *ratchet_tree, size_t tree_len,
                                           const struct mls_external_join_params *p,
                                           const struct mls_group_options *opts,
                                           const struct mls_env *env,
                                           struct mls_group **ret_group,
                                           struct mls_bytes *ret_commit);

void mls_group_free(struct mls_group *g);
void mls_group_freep(struct mls_group **g);
#define _mls_group_ _mls_cleanup_(mls_group_freep)

/* ---- proposals (RFC 9420 section 12.1) ---- */

/*
 * Proposal builders: they fill *ret (a struct mls_proposal the caller
 * clears) after checking what can be checked locally.
 *   add: from an MLSMessage-wrapped (or bare) KeyPackage, validated
 *        against the group (R-10.1-1 .. R-10.1-6).
 *   remove: a non-blank leaf (R-12.1.3-1).
 *   psk_external / psk_resumption (usage application): fresh random
 *        psk_nonce of KDF.Nh bytes (R-12.1.4-4).
 *   group_context_extensions: the encoded Extension list.
 *   reinit: new group_id, suite and GroupContext extensions, version mls10.
 */
MLS_MUST_CHECK int mls_group_make_add(const struct mls_group *g, const struct mls_env *env,
                                      const uint8_t *kp, size_t kp_len,
                                      struct mls_proposal *ret);
MLS_MUST_CHECK int mls_group_make_remove(const struct mls_group *g, uint32_t leaf,
                                         struct mls_proposal *ret);
MLS_MUST_CHECK int mls_group_make_psk_external(const struct mls_group *g,
                                               const struct mls_env *env, const uint8_t *psk_id,
                                               size_t len, struct mls_proposal *ret);
MLS_MUST_CHECK int mls_group_make_psk_resumption(const struct mls_group *g,
                                                 const struct mls_env *env,
                                                 const uint8_t *group_id, size_t len,
                                                 uint64_t epoch, struct mls_proposal *ret);
MLS_MUST_CHECK int mls_group_make_group_context_extensions(const uint8_t *extensions, size_t len,
                                                           struct mls_proposal *ret);
MLS_MUST_CHECK int mls_group_make_reinit(const uint8_t *group_id, size_t group_id_len,
                                         uint16_t cipher_suite, const uint8_t *extensions,
                                         size_t ext_len, struct mls_proposal *ret);

/*
 * Sends a proposal (MLSMessage: PublicMessage or PrivateMessage per the
 * handshake option) and caches it under its ProposalRef so that the next
 * own commit includes it by reference. Update proposals are made with
 * mls_group_propose_update (they need a new private key). aad may be NULL.
 * ret_ref (may be NULL) gets the ProposalRef.
 */
MLS_MUST_CHECK int mls_group_propose(struct mls_group *g, const struct mls_env *env,
                                     const struct mls_proposal *p, const struct mls_bytes *aad,
                                     struct mls_bytes *ret_msg, struct mls_bytes *ret_ref);
/* An Update proposal with a fresh leaf encryption key (its private key stays
 * in the group until a commit applies the Update or the epoch ends). leaf
 * NULL: keep credential, capabilities and extensions. */
MLS_MUST_CHECK int mls_group_propose_update(struct mls_group *g, const struct mls_env *env,
                                            const struct mls_leaf_params *leaf,
                                            const struct mls_bytes *aad,
                                            struct mls_bytes *ret_msg, struct mls_bytes *ret_ref);
/* A Remove of our own leaf, for another member to commit. */
MLS_MUST_CHECK int mls_group_leave(struct mls_group *g, const struct mls_env *env,
                                   struct mls_bytes *ret_msg);

/*
 * A proposal from outside the group (RFC 9420 section 12.1.8), signed by
 * env->signer and sent as PublicMessage (R-12.1.8-3):
 *   sender_type MLS_SENDER_EXTERNAL: sender_index into the group's
 *     external_senders; proposal types add, remove, psk, reinit,
 *     group_context_extensions (R-12.1.8-4);
 *   sender_type MLS_SENDER_NEW_MEMBER_PROPOSAL: an Add of the signer's own
 *     KeyPackage (R-6.1-8).
 * group_id, epoch and suite name the group and its current epoch.
 */
MLS_MUST_CHECK int mls_external_proposal_create(const struct mls_suite *s,
                                                const uint8_t *group_id, size_t group_id_len,
                                                uint64_t epoch, uint8_t sender_type,
                                                uint32_t sender_index,
                                                const struct mls_proposal *p,
                                                const struct mls_env *env,
                                                struct mls_bytes *ret_msg);

/* ---- commits (RFC 9420 section 12.4) ---- */

struct mls_commit_params {
        /* Proposals included by value (the committer's own), in order,
         * after the cached proposals. */
        const struct mls_proposal *proposals;
        size_t n_proposals;
        /* Do not include the proposals cached in this epoch. */
        bool no_cached;
        /* Always include an UpdatePath (it is added anyway when required,
         * R-12.4-6, R-12.4.1-2). */
        bool force_path;
        /* ratchet_tree extension in the Welcome's GroupInfo (default off
         * here; the D-Bus default is on). */
        bool inline_tree;
        /* external_pub in the Welcome's GroupInfo. */
        bool external_pub;
        const struct mls_bytes *authenticated_data;
        /* New contents for the own leaf (path commits only); NULL: keep. */
        const struct mls_leaf_params *leaf;
        /* R-11-2 downgrade guard: the first commit of a group's creator
         * (epoch 0) that adds members checks, as mls_check_best_suite, that
         * the group's version and cipher suite are the best in
         * suite_preference (NULL: mls_suite_preference_default) that the
         * creator and every added member support. On by default;
         * no_suite_check switches it off (the reinit and branch commits,
         * whose suite is fixed by the old group, never check). */
        bool no_suite_check;
        const uint16_t *suite_preference;
        size_t n_suite_preference;
};

/*
 * Creates a commit of the cached proposals (minus those that would make the
 * list invalid, R-12.2-7, R-12.2-13: a Remove wins over Updates for a leaf,
 * the newest Update wins, our own Updates and Removes of ourselves are left
 * out, a ReInit is left out when other proposals are there) plus p's
 * proposals, validates the list exactly as a receiver does, and leaves a
 * pending commit. ret_commit: the MLSMessage to send; ret_welcome: the
 * Welcome for the added members (empty when nobody is added). p may be
 * NULL. MLS_E_PENDING_COMMIT if a commit is already pending.
 */
MLS_MUST_CHECK int mls_group_commit(struct mls_group *g, const struct mls_env *env,
                                    const struct mls_commit_params *p,
                                    struct mls_bytes *ret_commit, struct mls_bytes *ret_welcome);
/* Wrappers: Add of KeyPackages (MLSMessage or bare), Remove of leaves, an
 * Update by a commit with path (an empty commit). */
MLS_MUST_CHECK int mls_group_add(struct mls_group *g, const struct mls_env *env,
                                 const struct mls_bytes *key_packages, size_t n,
                                 const struct mls_commit_params *p,
                                 struct mls_bytes *ret_commit, struct mls_bytes *ret_welcome);
MLS_MUST_CHECK int mls_group_remove(struct mls_group *g, const struct mls_env *env,
                                    const uint32_t *leaves, size_t n,
                                    const struct mls_commit_params *p,
                                    struct mls_bytes *ret_commit);
MLS_MUST_CHECK int mls_group_update(struct mls_group *g, const struct mls_env *env,
                                    const struct mls_commit_params *p,
                                    struct mls_bytes *ret_commit);

/*
 * The downgrade guard of group creation (RFC 9420 section 11, R-11-2): "the
 * creator MUST use the capabilities information in these KeyPackages to
 * verify that the chosen version and cipher suite is the best option
 * supported by all members". "Best" is the caller's policy: preference
 * lists cipher suites best first (NULL or n_preference 0:
 * mls_suite_preference_default); suites this engine does not implement are
 * skipped; versions: the highest one this engine implements (mls10 only).
 * members: the capabilities of every member, the creator's included (its
 * real capabilities: GREASE values, never in a preference list, do not
 * count, R-13.5-7).
 * Returns 0 when (version, cipher_suite) is the best; MLS_E_UNSUPPORTED
 * when a suite earlier in the preference than cipher_suite (or any listed
 * suite, if cipher_suite is not listed) or a higher version is supported
 * by all members: the group would be downgraded; MLS_E_UNSUPPORTED_CAPABILITY
 * when some member does not support the chosen version or suite at all.
 */
MLS_MUST_CHECK int mls_check_best_suite(uint16_t version, uint16_t cipher_suite,
                                        const struct mls_capabilities *const *members,
                                        size_t n_members, const uint16_t *preference,
                                        size_t n_preference);
/* The same for group g (its version and suite, its own leaf's
 * capabilities) and the KeyPackages (MLSMessage or bare) the creator is
 * about to add; decode errors as for mls_group_add. */
MLS_MUST_CHECK int mls_group_check_best_suite(const struct mls_group *g,
                                              const struct mls_bytes *key_packages, size_t n,
                                              const uint16_t *preference, size_t n_preference);
/*
 * The default preference, best first: 1, 3, 2, 5, 4, 6, 7. "Best" here
 * is what a creator free to choose would pick for interoperability and
 * cost, not the highest security level (that is an administrator's policy,
 * which the daemon passes as its own order). Suite 1, the
 * mandatory-to-implement suite (RFC 9420 section 17.1) and this engine's
 * default, comes first, so a default configuration never refuses itself
 * (every client lists suite 1); then the other 128-bit suites: 3 (the same
 * X25519/Ed25519 keys, ChaCha20-Poly1305 for hosts without AES hardware),
 * 2 (P-256, for FIPS-bound peers); then the 256-bit suites, 5 (P-521,
 * FIPS) before 4 and 6 (X448, rarer in libraries); 7 (P-384) last: the
 * suite fewest implementations ship.
 */
const uint16_t *mls_suite_preference_default(size_t *ret_n);

bool mls_group_has_pending(const struct mls_group *g);
/* Moves to the epoch of the pending commit (MLS_E_NO_PENDING_COMMIT if none).
 * ret (may be NULL) describes the change like mls_group_process. */
struct mls_process_result;
MLS_MUST_CHECK int mls_group_merge_pending(struct mls_group *g,
                                           struct mls_process_result *ret);
/* Drops the pending commit (MLS_E_NO_PENDING_COMMIT if none). */
MLS_MUST_CHECK int mls_group_clear_pending(struct mls_group *g);

/* ---- processing (RFC 9420 sections 6, 12.1, 12.4.2, 15) ---- */

struct mls_process_result {
        uint8_t content_type;            /* MLS_CONTENT_APPLICATION/PROPOSAL/COMMIT */
        /* application: the plaintext; proposal: the encoded Proposal;
         * commit: empty. */
        struct mls_bytes content;
        uint8_t sender_type;             /* MLS_SENDER_* */
        uint32_t sender_index;           /* leaf index (member) or external_senders index */
        uint64_t epoch;                  /* the message's epoch */
        struct mls_bytes authenticated_data;
        struct mls_bytes proposal_ref;   /* proposals: their ProposalRef */
        bool removed;                    /* commit: this member was removed */
        bool reinit;                     /* commit: held a ReInit; the group is closed */
        bool own_commit;                 /* commit: our pending commit was merged */
        struct mls_u32_list added;       /* commit: leaves added */
        struct mls_u32_list removed_leaves; /* commit: leaves removed */
};
void mls_process_result_clear(struct mls_process_result *r);

/*
 * Processes any MLSMessage for this group (PublicMessage or PrivateMessage):
 *   application: decrypted (current epoch, or one of the past epochs kept);
 *   proposal: validated and cached by ProposalRef;
 *   commit: fully validated and applied: the group moves to the next epoch.
 *     Our own commit coming back from the delivery service merges the
 *     pending commit. A commit removing us sets removed; the group then
 *     only decrypts late application messages.
 * On error nothing changed.
 */
MLS_MUST_CHECK int mls_group_process(struct mls_group *g, const struct mls_env *env,
                                     const uint8_t *msg, size_t len,
                                     struct mls_process_result *ret);

/* Application data as PrivateMessage (RFC 9420 section 15). Refused after a
 * ReInit commit or removal (MLS_E_INVALID_ARGUMENT / MLS_E_REMOVED) and
 * while proposals of this epoch wait for a commit (R-12.4-2,
 * MLS_E_PROPOSALS_PENDING). aad may be NULL. */
MLS_MUST_CHECK int mls_group_encrypt(struct mls_group *g, const struct mls_env *env,
                                     const uint8_t *pt, size_t pt_len,
                                     const struct mls_bytes *aad, struct mls_bytes *ret_msg);

/* ---- reinitialisation and branching (RFC 9420 sections 11.2, 11.3) ---- */

/* After a commit with a ReInit (processed or merged): its parameters. */
MLS_MUST_CHECK int mls_group_reinit_params(const struct mls_group *g, struct mls_reinit *ret);

/*
 * Creates the group that replaces g after a ReInit commit (R-11.2-1 ..
 * R-11.2-4, R-12.4.1-13, R-12.4.1-14): group_id, suite and extensions from
 * the ReInit, the creator's leaf from `leaf` (signed by env->signer, a key of
 * the new suite), then a commit adding key_packages (fresh KeyPackages of
 * the other members, in the new suite) with a resumption PSK (usage reinit,
 * old group_id, the epoch after the ReInit commit): the new group is at
 * epoch 1. ret_welcome: the Welcome for the others.
 */
MLS_MUST_CHECK int mls_group_reinit(const struct mls_group *old, const struct mls_env *env,
                                    const struct mls_leaf_params *leaf,
                                    const struct mls_bytes *key_packages, size_t n,
                                    const struct mls_group_options *opts,
                                    struct mls_group **ret_group, struct mls_bytes *ret_welcome);

/* A subgroup (R-11.3-1, R-11.3-2): same suite and extensions, new group_id,
 * members from key_packages (who must be members of g), keyed by a
 * resumption PSK of usage branch with a random nonce. */
MLS_MUST_CHECK int mls_group_branch(const struct mls_group *g, const struct mls_env *env,
                                    const uint8_t *group_id, size_t group_id_len,
                                    const struct mls_leaf_params *leaf,
                                    const struct mls_bytes *key_packages, size_t n,
                                    const struct mls_group_options *opts,
                                    struct mls_group **ret_group, struct mls_bytes *ret_welcome);

/* ---- information ---- */

/* A signed GroupInfo of the current epoch (MLSMessage), with external_pub
 * (R-12.4.1-9) and/or the ratchet_tree extension on request. */
MLS_MUST_CHECK int mls_group_group_info(const struct mls_group *g, const struct mls_env *env,
                                        bool external_pub, bool inline_tree,
                                        struct mls_bytes *ret);
/* The ratchet_tree encoding of the current tree. */
MLS_MUST_CHECK int mls_group_ratchet_tree(const struct mls_group *g, struct mls_bytes *ret);
/* MLS-Exporter (RFC 9420 section 8.5). */
MLS_MUST_CHECK int mls_group_export(const struct mls_group *g, const uint8_t *label,
                                    size_t label_len, const uint8_t *context, size_t context_len,
                                    size_t len, struct mls_secret **ret);
/* The epoch authenticator (section 8.7): public, safe to show. */
MLS_MUST_CHECK int mls_group_epoch_authenticator(const struct mls_group *g,
                                                 struct mls_bytes *ret);
/* resumption_psk of `epoch` (current or a kept past epoch);
 * MLS_E_UNKNOWN_PSK otherwise. */
MLS_MUST_CHECK int mls_group_resumption_psk(const struct mls_group *g, uint64_t epoch,
                                            struct mls_secret **ret);

struct mls_group_member {
        uint32_t leaf;
        struct mls_bytes identity;       /* basic: identity; x509: first cert */
        struct mls_bytes signature_key;
};
/* Every non-blank leaf, ascending. Free with mls_group_members_free. */
MLS_MUST_CHECK int mls_group_members(const struct mls_group *g,
                                     struct mls_group_member **ret, size_t *ret_n);
void mls_group_members_free(struct mls_group_member *m, size_t n);

const struct mls_suite *mls_group_suite(const struct mls_group *g);
uint64_t mls_group_epoch(const struct mls_group *g);
/* A view of the group_id. */
const uint8_t *mls_group_id(const struct mls_group *g, size_t *ret_len);
uint32_t mls_group_own_leaf(const struct mls_group *g);
uint32_t mls_group_member_count(const struct mls_group *g);
bool mls_group_is_removed(const struct mls_group *g);
/* The encoded GroupContext of the current epoch. */
MLS_MUST_CHECK int mls_group_context_bytes(const struct mls_group *g, struct mls_bytes *ret);
void mls_group_get_options(const struct mls_group *g, struct mls_group_options *ret);
/* Changes the options (validated as at creation); the secret trees take the
 * new window at once. */
MLS_MUST_CHECK int mls_group_set_options(struct mls_group *g, const struct mls_group_options *o);
/* Number of proposals cached in this epoch. */
size_t mls_group_proposal_count(const struct mls_group *g);
/* Number of past epochs kept (for late application messages). */
size_t mls_group_past_epoch_count(const struct mls_group *g);

/* ---- saved state ---- */

/*
 * A versioned, deterministic encoding of the whole state, secrets included
 * (guarded memory: the daemon seals it). mls_group_load is strict: anything
 * malformed, of another version or inconsistent is MLS_E_BAD_STATE.
 * save(load(save(g))) == save(g).
 */
MLS_MUST_CHECK int mls_group_save(const struct mls_group *g, struct mls_secret **ret);
MLS_MUST_CHECK int mls_group_load(const uint8_t *p, size_t len, struct mls_group **ret);

/*
 * Saving ahead (sender reservation, see mls_st_encode_ahead): as
 * mls_group_save, except that this member's handshake and application
 * ratchets of the current epoch are saved `ahead` generations further on.
 * The caller may then send up to `ahead` messages per ratchet without
 * saving again: a group reloaded from this state resumes after them, so a
 * crash never makes a generation (key and nonce) be used twice (R-9.1-2).
 * The group's own ratchets are created if they did not exist (no
 * generation is used); nothing else changes. ahead = 0 is mls_group_save.
 * A removed member saves nothing ahead.
 */
MLS_MUST_CHECK int mls_group_save_ahead(struct mls_group *g, uint32_t ahead,
                                        struct mls_secret **ret);
/* The same, appended to w, which must be a secure writer (the daemon's
 * draws from its pool of guarded blocks: no allocation per save). On
 * failure w holds a partial encoding the caller discards. */
MLS_MUST_CHECK int mls_group_save_ahead_to(struct mls_group *g, uint32_t ahead,
                                           struct mls_writer *w);
/* The next application-message generation this member would use in the
 * current epoch (0 before its first message). */
MLS_MUST_CHECK int mls_group_own_generation(const struct mls_group *g, uint64_t *ret_next);

#endif
