/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the ratchet tree shared by mls/tree.c, mls/tree_hash.c and
 * mls/tree_validate.c. Not part of the engine's API.
 */
#ifndef MLS_TREE_INTERNAL_H
#define MLS_TREE_INTERNAL_H

#include <sodium.h>

#include "mls/tree.h"

/* Widest tree accepted: 2^20 leaves (64 times the 16384-member target).
 * It bounds what a received ratchet_tree of mostly blank entries makes us
 * allocate (about 2 * (Nh + 13) bytes per leaf of width). */
#define TREE_MAX_LEAVES (UINT32_C(1) << 20)

/* A parent node with the capacity of its unmerged_leaves array. */
struct tree_parent {
        struct mls_parent_node pn;
        size_t ucap;
};

/* Open-addressing table of node (or leaf) indices keyed by a public key. */
struct tree_ktab {
        uint32_t *val; /* index + 1; 0 = empty */
        uint32_t *tag; /* 32 bits of the key's SipHash */
        uint32_t cap;  /* 0 or a power of two; load <= 1/2 */
        uint32_t n;
};

enum { TREE_KT_ENC = 0, TREE_KT_SIG = 1 };

/* Journal entry kinds. */
enum {
        TREE_J_NODE = 1,     /* idx: node; ptr: the replaced node (owned) */
        TREE_J_HINV = 2,     /* idx: node; aux: arena offset of the old hash */
        TREE_J_HCOMP = 3,    /* idx: node whose hash was computed */
        TREE_J_WIDTH = 4,    /* aux: the previous width */
        TREE_J_UNMERGED = 5, /* idx: parent node; aux: position inserted at */
};

struct tree_jent {
        uint8_t kind;
        uint32_t idx;
        size_t aux;
        void *ptr;
};

struct mls_tree {
        const struct mls_suite *suite;
        size_t nh;
        uint32_t width; /* leaves in the tree, a power of two */
        uint32_t cap;   /* leaves allocated, a power of two >= width */
        struct mls_leaf_node **leaf;  /* [cap]: leaf i */
        struct tree_parent **par;     /* [cap]: parent node x at x >> 1 */
        uint32_t *cnt_leaf;           /* [cap]: non-blank leaves below parent x, at x >> 1 */
        uint32_t *cnt_node;           /* [cap]: non-blank nodes below and at parent x */
        uint8_t *hash;                /* [(2 cap - 1) * nh]: cached tree hashes */
        uint8_t *hvalid;              /* [2 cap - 1]: cached hash is valid */
        uint32_t n_members;
        uint32_t cred_use[3];         /* leaves using credential type 1 / 2 */
        uint32_t cred_sup[3];         /* leaves whose capabilities list it */
        struct tree_ktab kt[2];
        uint8_t sipkey[crypto_shorthash_KEYBYTES];
        bool in_tx;
        struct tree_jent *j;
        size_t jn, jcap;
        uint8_t *arena; /* saved hashes */
        size_t an, acap;
        uint64_t n_hash;
        struct mls_writer hw; /* reused for hash inputs */
};

static inline void *
tree_slot(const struct mls_tree *t, uint32_t x)
{
        return (x & 1u) ? (void *)t->par[x >> 1] : (void *)t->leaf[x >> 1];
}

/* Index arithmetic on a perfect tree (x must not be the root for up, must
 * be a parent for left/right). */
uint32_t tree_up(uint32_t x);
uint32_t tree_left(uint32_t x);
uint32_t tree_right(uint32_t x);

uint32_t tree_sub_nodes(const struct mls_tree *t, uint32_t x);
uint32_t tree_sub_leaves(const struct mls_tree *t, uint32_t x);

bool tree_leaf_in(const uint32_t *v, size_t n, uint32_t leaf);

void tree_leaf_free(struct mls_leaf_node *l);
void tree_leaf_freep(struct mls_leaf_node **l);
void tree_parent_free(struct tree_parent *p);
void tree_parent_freep(struct tree_parent **p);
MLS_MUST_CHECK int tree_leaf_dup(const struct mls_leaf_node *src, struct mls_leaf_node **ret);
MLS_MUST_CHECK int tree_parent_new(const struct mls_bytes *key, const struct mls_bytes *ph,
                                   const struct mls_u32_list *unmerged, struct tree_parent **ret);

MLS_MUST_CHECK int tree_slot_set(struct mls_tree *t, uint32_t x, void **pp);
MLS_MUST_CHECK int tree_j_reserve(struct mls_tree *t, size_t entries, size_t bytes);
void tree_j_push(struct mls_tree *t, uint8_t kind, uint32_t idx, size_t aux, void *ptr);

/* Resolution of x without the leaves in ex, stopping once more than limit
 * entries were found (*ret_n is then limit + 1). ret may be NULL. */
MLS_MUST_CHECK int tree_resolution_limited(const struct mls_tree *t, uint32_t x,
                                           const uint32_t *ex, size_t nex, size_t limit,
                                           struct mls_u32_list *ret, size_t *ret_n);

/* An atomic operation: rolls back to where it began unless tree_op_done
 * was called (use with _mls_cleanup_(tree_op_end)). Outside a transaction
 * it runs in a private one. */
struct tree_op {
        struct mls_tree *t;
        size_t jn, an;
        bool own, done;
};
void tree_op_begin(struct mls_tree *t, struct tree_op *o);
void tree_op_end(struct tree_op *o);
void tree_op_done(struct tree_op *o);

/* Fills the hash cache for node x (and below). */
MLS_MUST_CHECK int tree_hash_compute(struct mls_tree *t, uint32_t x);
/* Tree hash of x computed from scratch (no cache), for consistency checks. */
MLS_MUST_CHECK int tree_hash_fresh(struct mls_tree *t, uint32_t x, uint8_t *out);

#endif
