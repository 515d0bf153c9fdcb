/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TreeKEM (RFC 9420 sections 4.2, 7.4-7.6, 12.4.1, 12.4.2, 12.4.3.1): a
 * member's private path state, creating an UpdatePath as the committer,
 * merging and decrypting one as a receiver, and keying the path from a
 * Welcome's path_secret.
 *
 * Private state (struct mls_treekem_priv): the member's leaf index, its
 * leaf HPKE private key and the private keys of the parent nodes on its
 * direct path it knows (R-4.2-1: never a node outside its direct path).
 * All private keys sit in ONE guarded allocation (sodium_malloc, wiped on
 * free) with a fixed slot per key; the public keys are kept beside them (so
 * that stale keys can be dropped cheaply). Operations never change a state
 * in place when they can fail: they return a new state, and the caller swaps
 * it in once the whole Commit has been accepted (mls_treekem_priv_free then
 * wipes the old keys, R-7.5-11, R-7.5-12).
 *
 * Path derivation (R-7.4-3, R-7.4-4):
 *   node_secret[n] = DeriveSecret(path_secret[n], "node")
 *   node_priv[n], node_pub[n] = KEM.DeriveKeyPair(node_secret[n])
 *   path_secret[n+1] = DeriveSecret(path_secret[n], "path")
 *   commit_secret = DeriveSecret(last path_secret, "path")   (R-12.4.1-4)
 * The committer draws leaf_secret (Nh random bytes); its leaf key pair is
 * DeriveKeyPair(DeriveSecret(leaf_secret, "node")) and path_secret[0] =
 * DeriveSecret(leaf_secret, "path"), as in the figure of section 7.4.
 *
 * Committing is two steps because the HPKE context of the path secrets is
 * the provisional GroupContext, which contains the tree hash after the
 * merge:
 *   1. mls_treekem_commit_begin(): derives the path, computes the parent
 *      hashes, signs the new LeafNode and merges it all into the tree
 *      (open a tree transaction first to be able to roll back); the caller
 *      then reads mls_tree_hash() and builds the provisional GroupContext;
 *   2. mls_treekem_commit_encrypt(): with the provisional GroupContext
 *      (R-12.4.1-5) as HPKE context, encrypts each path secret to the
 *      resolution of the copath child, without the leaves added by this
 *      Commit (R-7.5-4, R-7.6-2).
 * The LeafNode is signed through a struct mls_signer (mls/signer.h) with
 * label "LeafNodeTBS": the daemon routes that to its vault.
 * Receiving mirrors it: mls_treekem_path_merge() (structure, leaf, parent
 * hash, merge), then the caller computes the provisional GroupContext, then
 * mls_treekem_path_decrypt().
 *
 * All functions return 0 or a negative MLS_E_*; ret_ outputs are written
 * only on success.
 */
#ifndef MLS_TREEKEM_H
#define MLS_TREEKEM_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/messages.h"
#include "mls/rng.h"
#include "mls/secret.h"
#include "mls/signer.h" /* struct mls_signer: SignWithLabel as a callback */
#include "mls/tree.h"

/* ---- private path state ---- */

struct mls_treekem_priv;

/* A state holding only the leaf key (kem_priv_len bytes, else
 * MLS_E_BAD_KEY). */
MLS_MUST_CHECK int mls_treekem_priv_new(const struct mls_suite *s, uint32_t leaf,
                                        const struct mls_secret *leaf_priv,
                                        struct mls_treekem_priv **ret);
MLS_MUST_CHECK int mls_treekem_priv_dup(const struct mls_treekem_priv *p,
                                        struct mls_treekem_priv **ret);
/* Wipes and frees; NULL is a no-op. */
void mls_treekem_priv_free(struct mls_treekem_priv *p);
void mls_treekem_priv_freep(struct mls_treekem_priv **p);
#define _mls_treekem_priv_ _mls_cleanup_(mls_treekem_priv_freep)

uint32_t mls_treekem_priv_leaf(const struct mls_treekem_priv *p);
/* Number of parent-node keys held. */
size_t mls_treekem_priv_node_count(const struct mls_treekem_priv *p);
/* Whether the state holds the private key of node x (own leaf or parent)
 * matching the key currently in the tree. */
bool mls_treekem_priv_has_node(const struct mls_treekem_priv *p, const struct mls_tree *t,
                               uint32_t x);

/* The leaf private key matches the tree's leaf (R-12.4.3.1-18):
 * MLS_E_BAD_KEY otherwise, MLS_E_BLANK_LEAF for a blank leaf. */
MLS_MUST_CHECK int mls_treekem_priv_check_leaf(const struct mls_treekem_priv *p,
                                               const struct mls_tree *t);
/* Replaces the leaf key (own Update committed). */
MLS_MUST_CHECK int mls_treekem_priv_set_leaf_key(struct mls_treekem_priv *p,
                                                 const struct mls_secret *leaf_priv);
/* Derives node x's key pair from its path secret and stores it. x must be a
 * parent on the own direct path (R-4.2-1, MLS_E_INVALID_ARGUMENT) and the
 * derived public key must equal the tree's (MLS_E_BAD_KEY). */
MLS_MUST_CHECK int mls_treekem_priv_add_path_secret(struct mls_treekem_priv *p,
                                                    const struct mls_tree *t, uint32_t x,
                                                    const uint8_t *path_secret, size_t len);
/* Drops the parent keys whose node is blank, out of range or holds another
 * public key now (R-7.5-12). Cannot fail. */
void mls_treekem_priv_prune(struct mls_treekem_priv *p, const struct mls_tree *t);

/*
 * Joining by Welcome (section 12.4.3.1, R-12.4.3.1-18..20): a state for
 * `leaf` with leaf_priv (must match the tree, MLS_E_BAD_KEY); with a
 * path_secret, the key pair of the lowest common ancestor of leaf and
 * signer is derived from it, then that of each non-blank node above it
 * (the committer's filtered direct path), each next path secret by
 * DeriveSecret(., "path"); every derived public key must match the tree
 * (MLS_E_BAD_KEY).
 */
MLS_MUST_CHECK int mls_treekem_priv_join(const struct mls_tree *t, uint32_t leaf,
                                         const struct mls_secret *leaf_priv, uint32_t signer,
                                         const struct mls_secret *path_secret,
                                         struct mls_treekem_priv **ret);

/* Saved form (write with a secure writer):
 *   struct { uint32 node; opaque priv<V>; opaque pub<V>; } NodeKey;
 *   struct { uint16 cipher_suite; uint32 leaf; opaque leaf_priv<V>;
 *            NodeKey nodes<V>; } TreeKEMPrivate; */
MLS_MUST_CHECK int mls_treekem_priv_encode(const struct mls_treekem_priv *p,
                                           struct mls_writer *w);
MLS_MUST_CHECK int mls_treekem_priv_decode(struct mls_reader *r, struct mls_treekem_priv **ret);

/* ---- committer ---- */

struct mls_treekem_commit;

/*
 * Step 1 (sections 7.4, 7.5, R-7.5-2): for leaf `leaf` (non-blank, or blank
 * for an external joiner) of tree t, after the Commit's proposals are
 * applied: draws leaf_secret from rng, derives the leaf key and the path
 * over the filtered direct path, computes the parent hashes, builds the new
 * LeafNode from leaf_template (a copy, with encryption_key, source commit
 * and parent_hash set), signs it with label "LeafNodeTBS" over group_id and
 * the leaf index, and merges leaf and path into t (atomic). The caller
 * keeps the tree transaction open to undo it.
 */
MLS_MUST_CHECK int mls_treekem_commit_begin(struct mls_tree *t, uint32_t leaf,
                                            const struct mls_leaf_node *leaf_template,
                                            const struct mls_bytes *group_id,
                                            const struct mls_signer *signer,
                                            const struct mls_rng *rng,
                                            struct mls_treekem_commit **ret);
/*
 * Step 2 (R-7.6-3, R-7.6-4): the UpdatePath, each path secret sealed with
 * EncryptWithLabel(node key, "UpdatePathNode", gc, path_secret) to every
 * node of the copath child's resolution in t (the merged tree) minus the
 * sorted leaf indices new_leaves (the members this Commit adds).
 * gc: the serialized provisional GroupContext. May be called again (fresh
 * ciphertexts).
 */
MLS_MUST_CHECK int mls_treekem_commit_encrypt(const struct mls_treekem_commit *c,
                                              const struct mls_tree *t, const uint8_t *gc,
                                              size_t gc_len, const uint32_t *new_leaves,
                                              size_t n_new, const struct mls_rng *rng,
                                              struct mls_update_path *ret_path);
/* A copy of the commit secret. */
MLS_MUST_CHECK int mls_treekem_commit_secret(const struct mls_treekem_commit *c,
                                             struct mls_secret **ret);
/* The path secret a new member at leaf `leaf` receives in its GroupSecrets:
 * the one of the lowest common ancestor with the committer
 * (R-12.4.1-10). MLS_E_NOT_FOUND if that node is not on the path. */
MLS_MUST_CHECK int mls_treekem_commit_path_secret_for(const struct mls_treekem_commit *c,
                                                      uint32_t leaf, struct mls_secret **ret);
/* The committer's new private state (leaf and path keys); the commit object
 * keeps no copy afterwards. */
MLS_MUST_CHECK int mls_treekem_commit_take_priv(struct mls_treekem_commit *c,
                                                struct mls_treekem_priv **ret);
void mls_treekem_commit_free(struct mls_treekem_commit *c);
void mls_treekem_commit_freep(struct mls_treekem_commit **c);
#define _mls_treekem_commit_ _mls_cleanup_(mls_treekem_commit_freep)

/* ---- receiver ---- */

/*
 * Merges a received UpdatePath from `sender` into t (sections 7.5, 12.4.2),
 * atomically:
 *   - path length equals the filtered direct path (R-7.6-1) and each node
 *     has one ciphertext per node of the copath child's resolution minus
 *     new_leaves (R-7.6-3): MLS_E_INVALID_MESSAGE;
 *   - the LeafNode has source commit (R-7.3-15, MLS_E_INVALID_LEAF) and a
 *     valid signature over group_id and sender (R-7.3-5,
 *     MLS_E_BAD_SIGNATURE); with a policy, full LeafNode validation
 *     (mls_tree_leaf_validate, MLS_LEAF_COMMIT; R-12.4.2-9);
 *   - every public key is a valid KEM key (MLS_E_BAD_KEY);
 *   - the leaf's parent_hash equals the value computed top-down for the
 *     lowest filtered node (R-7.5-6, R-7.9.2-5): MLS_E_BAD_PARENT_HASH;
 *   - merge (R-7.5-5); a key already in the tree: MLS_E_DUPLICATE_KEY
 *     (R-12.4.2-11, R-12.4.2-12).
 * For an external commit the caller makes sure `sender` < width (the leaf
 * may be blank).
 */
MLS_MUST_CHECK int mls_treekem_path_merge(struct mls_tree *t, uint32_t sender,
                                          const struct mls_update_path *up,
                                          const struct mls_bytes *group_id,
                                          const uint32_t *new_leaves, size_t n_new,
                                          const struct mls_leaf_policy *policy);

/*
 * Decrypts the path secret meant for priv's leaf from an UpdatePath already
 * merged into t (R-7.5-7..10): the lowest filtered node whose copath child
 * covers our leaf, the entry of its resolution (minus new_leaves) whose
 * private key we hold, DecryptWithLabel(., "UpdatePathNode", gc, ...)
 * (MLS_E_DECRYPT), then every node above: each derived public key must equal
 * the tree's (MLS_E_BAD_KEY, R-7.5-9). Returns a new private state (old keys
 * of changed nodes dropped, new ones added) and the commit secret.
 * MLS_E_INVALID_ARGUMENT if we are the sender or a new member,
 * MLS_E_REMOVED if our leaf is blank, MLS_E_NOT_FOUND if no key of ours
 * fits.
 */
MLS_MUST_CHECK int mls_treekem_path_decrypt(const struct mls_tree *t,
                                            const struct mls_treekem_priv *priv,
                                            uint32_t sender, const struct mls_update_path *up,
                                            const uint8_t *gc, size_t gc_len,
                                            const uint32_t *new_leaves, size_t n_new,
                                            struct mls_treekem_priv **ret_priv,
                                            struct mls_secret **ret_commit_secret);

/* The first half of mls_treekem_path_decrypt: only the decrypted path
 * secret (guarded memory) and the filtered-direct-path node it belongs to
 * (the lowest common ancestor of sender and receiver), same checks. */
MLS_MUST_CHECK int mls_treekem_path_decrypt_secret(const struct mls_tree *t,
                                                   const struct mls_treekem_priv *priv,
                                                   uint32_t sender,
                                                   const struct mls_update_path *up,
                                                   const uint8_t *gc, size_t gc_len,
                                                   const uint32_t *new_leaves, size_t n_new,
                                                   uint32_t *ret_node,
                                                   struct mls_secret **ret_path_secret);

#endif
