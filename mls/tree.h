/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The public ratchet tree of a group (RFC 9420 sections 4, 7, 12.4.3.3).
 *
 * Representation
 * --------------
 * An array tree over the padded width: the number of leaves `width` is
 * always a power of two (R-4.1.1-1), node x lives at array index x (leaf i
 * at 2i, parents at odd indices), the root at width - 1. A node is blank or
 * holds a struct mls_leaf_node (even x) / struct mls_parent_node (odd x)
 * from mls/messages.h, each heap-allocated and owned by the tree.
 *
 * Beside the nodes the tree keeps data derived from them:
 * - a tree hash per node (section 7.8) with a valid flag; a change
 *   invalidates the node and its ancestors only, so the next
 *   mls_tree_hash() rehashes O(log n) nodes per change;
 * - per parent node the number of non-blank leaves and of non-blank nodes
 *   in its subtree: O(1) "is this resolution empty" (filtered direct path),
 *   O(log n) leftmost blank leaf and truncation;
 * - two hash tables (SipHash keyed with a per-tree random key, so that keys
 *   chosen by an attacker cannot collide on purpose): encryption key ->
 *   node index over ALL nodes, signature key -> leaf index over the leaves.
 *   They never hold a duplicate: every operation that would put a key into
 *   the tree twice fails with MLS_E_DUPLICATE_KEY (R-7.3-16, R-7.3-17,
 *   R-12.4.3.1-16, R-16.7-1);
 * - the number of members and, for credential types basic and x509, how
 *   many members use / support each (R-7.3-7, R-7.3-8 in O(1) per leaf).
 *
 * Transactions (journal)
 * ----------------------
 * mls_tree_begin() opens a transaction. Until mls_tree_commit() or
 * mls_tree_rollback(), every change is recorded in an undo journal: the
 * replaced node pointer (kept, not freed), each hash-cache transition (the
 * old hash bytes when a cached hash is invalidated, and each newly computed
 * hash), each unmerged_leaves insertion and each width change. Rollback
 * replays the journal backwards (R-12.4.2-18: a rejected Commit leaves the
 * tree as it was): nodes, hashes, counters, lookup tables and
 * width come back exactly as they were (byte-identical serialization and
 * tree hash) without rehashing anything, and it cannot fail (journal space
 * and table space are reserved before each change). Commit frees the
 * replaced nodes. The cost of a transaction is proportional to what it
 * changes, never to the size of the tree.
 *
 * Every mutating function is atomic on its own, transaction or not: on
 * failure it undoes its partial work (inside an open transaction it rolls
 * back to where it started) and returns the error.
 *
 * Out-of-range slots: when the tree is truncated, the dropped right half
 * is blank and its cached hashes (hashes of blank subtrees, a function of
 * the indices only) stay valid; a later extension reuses them and only the
 * new root is rehashed lazily.
 *
 * Everything here is public data: no secret is held by this module.
 * Functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success. Functions taking `struct mls_tree *` for what looks like a
 * read (hashes) may fill the hash cache.
 */
#ifndef MLS_TREE_H
#define MLS_TREE_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/messages.h"
#include "mls/treemath.h"

struct mls_tree;

/* ---- life cycle ---- */

/* A one-leaf tree holding a copy of ln (group creation). */
MLS_MUST_CHECK int mls_tree_new(const struct mls_suite *s, const struct mls_leaf_node *ln,
                                struct mls_tree **ret);

/*
 * Decodes `optional<Node> ratchet_tree<V>` (the whole buffer) and pads it
 * with blanks to 2w - 1 nodes (R-12.4.3.3-3).
 * MLS_E_INVALID_TREE: empty, ends with a blank (R-12.4.3.3-3), misplaced
 * node types (R-12.4.3.3-4), or an even node count (the last non-blank node
 * of a valid, truncated tree is always a leaf). MLS_E_DUPLICATE_KEY: two
 * nodes with one encryption key, or two leaves with one signature key.
 * Nothing is validated beyond that: call mls_tree_validate() before use.
 */
MLS_MUST_CHECK int mls_tree_from_bytes(const struct mls_suite *s, const uint8_t *p, size_t len,
                                       struct mls_tree **ret);
/* The same from an already decoded tree (copied; rt is not changed). */
MLS_MUST_CHECK int mls_tree_from_ratchet_tree(const struct mls_suite *s,
                                              const struct mls_ratchet_tree *rt,
                                              struct mls_tree **ret);

/* The ratchet_tree encoding with trailing blank nodes stripped
 * (R-12.4.3.3-2). Deterministic: this is also the saved-state form of the
 * tree (everything else the tree holds is derived from it). */
MLS_MUST_CHECK int mls_tree_encode(const struct mls_tree *t, struct mls_writer *w);
MLS_MUST_CHECK int mls_tree_to_bytes(const struct mls_tree *t, struct mls_bytes *ret);

/* A deep copy of the current state (an open transaction's journal is not
 * copied: the copy starts without one). */
MLS_MUST_CHECK int mls_tree_dup(const struct mls_tree *t, struct mls_tree **ret);

/* Frees everything (an open transaction is committed first: the journal's
 * old nodes are freed). NULL is a no-op. */
void mls_tree_free(struct mls_tree *t);
void mls_tree_freep(struct mls_tree **t);
#define _mls_tree_ _mls_cleanup_(mls_tree_freep)

/* ---- transactions ---- */

/* MLS_E_INVALID_ARGUMENT if one is already open (no nesting). */
MLS_MUST_CHECK int mls_tree_begin(struct mls_tree *t);
/* Keeps every change since mls_tree_begin and frees the replaced nodes.
 * No-op without an open transaction. */
void mls_tree_commit(struct mls_tree *t);
/* Restores the state of mls_tree_begin exactly. Cannot fail. No-op without
 * an open transaction. */
void mls_tree_rollback(struct mls_tree *t);
bool mls_tree_in_transaction(const struct mls_tree *t);

/* ---- inspection ---- */

const struct mls_suite *mls_tree_suite(const struct mls_tree *t);
/* Padded number of leaves (a power of two). */
uint32_t mls_tree_width(const struct mls_tree *t);
/* 2 * width - 1. */
uint32_t mls_tree_node_count(const struct mls_tree *t);
/* Number of non-blank leaves. */
uint32_t mls_tree_member_count(const struct mls_tree *t);
/* The leaf at leaf index i; NULL if blank or out of range. */
const struct mls_leaf_node *mls_tree_leaf(const struct mls_tree *t, uint32_t leaf);
/* The parent node at node index x (odd); NULL if blank, a leaf index or out
 * of range. */
const struct mls_parent_node *mls_tree_parent(const struct mls_tree *t, uint32_t x);
bool mls_tree_node_is_blank(const struct mls_tree *t, uint32_t x);
/* The encryption key of node x; NULL if blank or out of range. */
const struct mls_bytes *mls_tree_node_encryption_key(const struct mls_tree *t, uint32_t x);

/* O(1) lookups (hash tables). MLS_E_NOT_FOUND if no such key. */
MLS_MUST_CHECK int mls_tree_find_leaf_by_signature_key(const struct mls_tree *t, const uint8_t *key,
                                                       size_t len, uint32_t *ret_leaf);
/* Any node (leaf or parent) holding this encryption key. */
MLS_MUST_CHECK int mls_tree_find_node_by_encryption_key(const struct mls_tree *t,
                                                        const uint8_t *key, size_t len,
                                                        uint32_t *ret_node);
/* A leaf holding this encryption key (MLS_E_NOT_FOUND if it is a parent's). */
MLS_MUST_CHECK int mls_tree_find_leaf_by_encryption_key(const struct mls_tree *t,
                                                        const uint8_t *key, size_t len,
                                                        uint32_t *ret_leaf);

/* ---- tree hashes (section 7.8) ---- */

/* out gets suite->hash_len bytes: the tree hash of node x / of the root
 * (R-7.8-1..4). Cached; only invalidated nodes are rehashed. */
MLS_MUST_CHECK int mls_tree_node_hash(struct mls_tree *t, uint32_t x, uint8_t *out);
MLS_MUST_CHECK int mls_tree_hash(struct mls_tree *t, uint8_t *out);

/* ---- resolution and paths (sections 4.1.1, 4.1.2) ---- */

/* Resolution of node x in the RFC's order (R-4.1.1-2), as node indices,
 * leaving out the leaves in `exclude` (sorted leaf indices, may be NULL
 * with n_exclude 0): those are the leaves added by the current Commit
 * (R-7.5-4, R-7.6-2). ret->v is malloc'd: free with mls_tree_list_clear. */
MLS_MUST_CHECK int mls_tree_resolution(const struct mls_tree *t, uint32_t x,
                                       const uint32_t *exclude, size_t n_exclude,
                                       struct mls_u32_list *ret);
void mls_tree_list_clear(struct mls_u32_list *l);
/* Size of that resolution without building it. */
MLS_MUST_CHECK int mls_tree_resolution_size(const struct mls_tree *t, uint32_t x,
                                            const uint32_t *exclude, size_t n_exclude,
                                            size_t *ret_n);

/* Filtered direct path of a leaf (R-4.1.2-2), leaf to root: ret_nodes[i]
 * is a parent node on the direct path, ret_copath[i] its child that is not
 * on the leaf's path; nodes whose copath child has an empty resolution are
 * left out. Both arrays hold MLS_TM_MAX_DEPTH entries. */
MLS_MUST_CHECK int mls_tree_filtered_direct_path(const struct mls_tree *t, uint32_t leaf,
                                                 uint32_t ret_nodes[MLS_TM_MAX_DEPTH],
                                                 uint32_t ret_copath[MLS_TM_MAX_DEPTH],
                                                 size_t *ret_len);

/* The leftmost blank leaf, or MLS_E_NOT_FOUND if every leaf is used
 * (O(log n)). */
MLS_MUST_CHECK int mls_tree_leftmost_blank_leaf(const struct mls_tree *t, uint32_t *ret_leaf);

/* ---- modifications (section 12.1, 7.7; each atomic) ---- */

/*
 * Add (section 12.1.1): a copy of ln goes into the leftmost blank leaf, the
 * tree doubling if there is none (R-7.7-1; MLS_E_TOO_LARGE beyond 2^20
 * leaves); the new leaf index is inserted
 * (sorted, R-7.1-1) into unmerged_leaves of every non-blank parent on its
 * direct path. No validation of ln (mls_tree_leaf_validate does that);
 * duplicate keys are MLS_E_DUPLICATE_KEY.
 */
MLS_MUST_CHECK int mls_tree_add(struct mls_tree *t, const struct mls_leaf_node *ln,
                                uint32_t *ret_leaf);
/* Update (section 12.1.2): replaces non-blank leaf `leaf` with a copy of ln
 * and blanks its direct path. MLS_E_BLANK_LEAF for a blank leaf,
 * MLS_E_TREE_INDEX out of range. */
MLS_MUST_CHECK int mls_tree_update(struct mls_tree *t, uint32_t leaf,
                                   const struct mls_leaf_node *ln);
/* Remove (section 12.1.3): blanks the non-blank leaf and its direct path,
 * then truncates while the right half of the tree is blank (R-7.7-2). */
MLS_MUST_CHECK int mls_tree_remove(struct mls_tree *t, uint32_t leaf);

/*
 * Path merge (sections 7.4, 7.5): sets leaf `leaf` (which may be blank, for
 * an external joiner) to a copy of ln, blanks every node of its direct path,
 * then sets filtered-path node nodes[i] to ParentNode{ keys[i], phs[i],
 * unmerged_leaves = [] } (R-7.4-1, R-7.5-5). nodes[] must be the leaf's
 * filtered direct path (MLS_E_INVALID_ARGUMENT otherwise).
 */
MLS_MUST_CHECK int mls_tree_merge_path(struct mls_tree *t, uint32_t leaf,
                                       const struct mls_leaf_node *ln, const uint32_t *nodes,
                                       const struct mls_bytes *keys, const struct mls_bytes *phs,
                                       size_t n);

/* ---- parent hashes (section 7.9) ---- */

/*
 * Parent hashes of a path about to be merged for a leaf whose filtered
 * direct path has copath children copath[0..n) and new keys keys[0..n)
 * (leaf to root). Top-down (R-7.5-6, R-7.9-1, R-7.9.1-1): the top node's
 * parent_hash is empty; node i < n-1 gets ParentHash(node i+1); the leaf
 * gets ParentHash(node 0) (empty if n == 0). ParentHash(i) =
 * Hash(V(keys[i]) || V(parent_hash[i]) || V(treehash(copath[i]))).
 * ret_phs: n entries (caller clears each); ret_leaf_ph: the leaf's value.
 */
MLS_MUST_CHECK int mls_tree_path_parent_hashes(struct mls_tree *t, const uint32_t *copath,
                                               const struct mls_bytes *keys, size_t n,
                                               struct mls_bytes *ret_phs,
                                               struct mls_bytes *ret_leaf_ph);

/* Every non-blank parent is parent-hash valid: exactly one descendant links
 * to it (R-7.9.2-1..4), with the original sibling tree hash computed with
 * the parent's unmerged leaves blanked (R-7.9-2). MLS_E_BAD_PARENT_HASH. */
MLS_MUST_CHECK int mls_tree_verify_parent_hashes(struct mls_tree *t);

/* unmerged_leaves consistency (R-12.4.3.1-14, R-12.4.3.1-15): each entry of
 * a parent names a non-blank leaf below it, also listed by every non-blank
 * node in between. MLS_E_INVALID_TREE. */
MLS_MUST_CHECK int mls_tree_check_unmerged(const struct mls_tree *t);

/* ---- leaf validation (section 7.3) ---- */

/* Where the LeafNode being validated comes from. */
enum mls_leaf_context {
        MLS_LEAF_IN_TREE = 1,     /* already at leaf_index (joining, R-7.3-3) */
        MLS_LEAF_KEY_PACKAGE = 2, /* in a KeyPackage, about to be added (R-7.3-1, R-7.3-12) */
        MLS_LEAF_UPDATE = 3,      /* Update proposal for leaf_index (R-7.3-13, R-7.3-14) */
        MLS_LEAF_COMMIT = 4,      /* UpdatePath leaf for leaf_index (R-7.3-15, R-12.4.2-11) */
};

/* The group's parameters for LeafNode validation. */
struct mls_leaf_policy {
        uint16_t version;  /* the group's protocol version (MLS_VERSION_MLS10) */
        /* the GroupContext's required_capabilities, NULL if it has none */
        const struct mls_required_capabilities *required;
        /* Lifetime (R-7.3-9, R-7.3-10): with enforce_lifetime, a key_package
         * leaf must satisfy not_before <= now <= not_after, and, if
         * max_lifetime != 0, not_after - not_before <= max_lifetime
         * (R-7.2-8). The vector runners turn it off (FORMATS.md). */
        bool enforce_lifetime;
        uint64_t now;
        uint64_t max_lifetime;
        /* The group's version and cipher suite must be listed in the leaf's
         * capabilities (a client "MUST list all values ... that it
         * supports", section 7.2). Some generated data omits the suite
         * (treekem.json's suite-7 leaves list 1..6): this turns that one
         * check off. */
        bool skip_version_suite_check;
};

/*
 * Validates ln against the tree (section 7.3). ctx says where ln comes from;
 * leaf_index is its leaf (ignored for MLS_LEAF_KEY_PACKAGE); group_id is
 * needed for update and commit sources (R-7.2-10).
 *   MLS_E_BAD_SIGNATURE            signature over LeafNodeTBS (R-7.3-5)
 *   MLS_E_INVALID_LEAF             leaf_node_source wrong for ctx (R-7.3-12,
 *                                  R-7.3-13, R-7.3-15)
 *   MLS_E_UNSUPPORTED_CAPABILITY   group version and suite not in
 *                                  capabilities; own credential type not in
 *                                  them (R-7.2-4); required_capabilities
 *                                  (R-7.3-6); credential types vs other
 *                                  members (R-7.3-7, R-7.3-8); own
 *                                  extensions not listed (R-7.2-3, R-7.3-11)
 *   MLS_E_LIFETIME                 lifetime (when enforced)
 *   MLS_E_DUPLICATE_KEY            encryption key used by another node, or by
 *                                  the leaf it replaces (R-7.3-14,
 *                                  R-12.4.2-11); signature key used by
 *                                  another leaf (R-7.3-16, R-7.3-17)
 * Credential validation by the application's AS (R-7.3-4) is the caller's.
 * Default extension and proposal types (RFC 9420 section 7.2) count as
 * supported without being listed.
 */
MLS_MUST_CHECK int mls_tree_leaf_validate(const struct mls_tree *t, const struct mls_leaf_node *ln,
                                          enum mls_leaf_context ctx, uint32_t leaf_index,
                                          const struct mls_bytes *group_id,
                                          const struct mls_leaf_policy *policy);

/* The LeafNode signature alone (R-7.3-5, R-7.2-10):
 * VerifyWithLabel(signature_key, "LeafNodeTBS", LeafNodeTBS, signature),
 * with group_id and leaf_index for update and commit sources.
 * MLS_E_BAD_SIGNATURE. */
MLS_MUST_CHECK int mls_tree_leaf_verify_signature(const struct mls_tree *t,
                                                  const struct mls_leaf_node *ln,
                                                  const struct mls_bytes *group_id,
                                                  uint32_t leaf_index);

/*
 * Full validation of a received tree (section 12.4.3.1 and 7.9.2), in this
 * order: tree hash equals tree_hash (MLS_E_TREE_HASH_MISMATCH, R-12.4.3.1-11,
 * R-12.4.3.3-6); unmerged-leaves consistency (MLS_E_INVALID_TREE); parent
 * hashes (MLS_E_BAD_PARENT_HASH, R-12.4.3.1-12); every leaf
 * (mls_tree_leaf_validate with MLS_LEAF_IN_TREE, R-12.4.3.1-13, R-7.3-3).
 * Key uniqueness (R-12.4.3.1-16) holds by construction.
 */
MLS_MUST_CHECK int mls_tree_validate(struct mls_tree *t, const uint8_t *tree_hash,
                                     size_t tree_hash_len, const struct mls_bytes *group_id,
                                     const struct mls_leaf_policy *policy);

/* ---- diagnostics (tests, benchmarks) ---- */

/* Number of node hashes computed by this tree so far. */
uint64_t mls_tree_hash_calls(const struct mls_tree *t);
/* Recomputes every derived structure from the nodes (counters, tables,
 * credential counts, each cached hash) and compares: 0 or
 * MLS_E_INTERNAL. O(n); for tests. */
MLS_MUST_CHECK int mls_tree_check_consistency(struct mls_tree *t);

#endif
