/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixtures for the ratchet tree and TreeKEM unit tests: members with real
 * keys and signed LeafNodes, cheap fake leaves for big trees, and a small
 * group driver (commit by one member, merge and decrypt by all others).
 */
#ifndef MLS_TREE_FIXTURE_H
#define MLS_TREE_FIXTURE_H

#include "mls/tree.h"
#include "mls/treekem.h"

/* A member with real key pairs and a signed key_package LeafNode. */
struct tf_member {
        uint32_t id;
        struct mls_secret *sig_priv;
        struct mls_secret *enc_priv;
        struct mls_leaf_node leaf;
};

/* Capabilities: versions [mls10], suites [1..7], credentials [basic],
 * extensions and proposals empty; lifetime 0..2^64-1. */
int tf_member_new(const struct mls_suite *s, uint32_t id, struct tf_member *ret);
void tf_member_clear(struct tf_member *m);
/* Re-signs l with priv (group_id and leaf index for update/commit). */
int tf_leaf_sign(const struct mls_suite *s, struct mls_leaf_node *l,
                 const struct mls_secret *priv, const struct mls_bytes *group_id, uint32_t li);
/* A syntactically complete key_package leaf whose keys are derived from id
 * (unique per id) and whose signature is filler: for trees too big to sign.
 * ident_len sets the credential identity length. */
int tf_fake_leaf(uint32_t id, size_t ident_len, struct mls_leaf_node *ret);
/* Replaces a u16 list with the given values. */
int tf_set_u16_list(struct mls_u16_list *l, const uint16_t *v, size_t n);

/* A signer callback over struct mls_key_signer (mls/signer.h): computes
 * SignWithLabel in process. */
int tf_key_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
                struct mls_bytes *ret_sig);

/* A group: the tree plus every member's private TreeKEM state. */
#define TF_MAX 64
struct tf_group {
        const struct mls_suite *s;
        struct mls_bytes group_id;
        uint64_t epoch;
        struct mls_tree *t;
        struct tf_member m[TF_MAX];
        struct mls_treekem_priv *priv[TF_MAX]; /* by leaf index */
        uint32_t leaf_of[TF_MAX];              /* member -> leaf */
        size_t n_members;
};

/* n members added by leaf 0's tree (no paths yet: parents blank). */
int tf_group_new(const struct mls_suite *s, size_t n, struct tf_group *ret);
void tf_group_clear(struct tf_group *g);
/* Provisional GroupContext bytes with the current tree hash. */
int tf_group_context(struct tf_group *g, struct mls_bytes *ret);
/* Leaf `committer` commits with a path; every other member merges and
 * decrypts into a copy of the tree; all trees must end equal and every
 * commit secret equal. Private states are replaced. Returns 0 or an error. */
int tf_group_commit(struct tf_group *g, uint32_t committer);

#endif
