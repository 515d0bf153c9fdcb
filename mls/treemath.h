/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Array-tree index arithmetic (RFC 9420 section 4 and appendix C).
 *
 * Nodes are numbered left to right: leaf i is node 2i, parents are odd.
 * RFC 9420 trees always have a power-of-two number of leaves (R-4.1.1-1);
 * these functions accept any leaf count from 1 to MLS_TM_MAX_LEAVES and a
 * node index below the tree's width, and return MLS_E_TREE_INDEX otherwise.
 * Everything is O(1) or O(log n) with bounded loops: no recursion, nothing
 * that depends on untrusted sizes beyond 32 iterations.
 */
#ifndef MLS_TREEMATH_H
#define MLS_TREEMATH_H

#include "mls/common.h"

#define MLS_TM_MAX_LEAVES ((uint32_t)1 << 31)
/* A direct path or copath never has more entries than this. */
#define MLS_TM_MAX_DEPTH 32

/* Level: number of trailing 1 bits (0 for leaves). */
static inline unsigned
mls_tm_level(uint32_t x)
{
        unsigned k = 0;

        while (k < 32 && ((x >> k) & 1u))
                k++;
        return k;
}

static inline bool
mls_tm_is_leaf(uint32_t x)
{
        return (x & 1u) == 0;
}

static inline uint32_t
mls_tm_leaf_to_node(uint32_t leaf)
{
        return leaf * 2u;
}

static inline uint32_t
mls_tm_node_to_leaf(uint32_t node)
{
        return node / 2u;
}

/* Number of nodes of a tree with n leaves: 2n - 1 (0 for n == 0).
 * Fits uint32 for n <= 2^31. */
uint32_t mls_tm_node_width(uint32_t n_leaves);

/* Root node index of a tree with n_leaves (1..2^31). */
MLS_MUST_CHECK int mls_tm_root(uint32_t n_leaves, uint32_t *ret_root);

/* Children of a parent node; MLS_E_TREE_INDEX for a leaf. */
MLS_MUST_CHECK int mls_tm_left(uint32_t x, uint32_t *ret_left);
MLS_MUST_CHECK int mls_tm_right(uint32_t x, uint32_t *ret_right);

/* Parent and sibling; MLS_E_TREE_INDEX for the root or an index outside
 * the tree. */
MLS_MUST_CHECK int mls_tm_parent(uint32_t x, uint32_t n_leaves, uint32_t *ret_parent);
MLS_MUST_CHECK int mls_tm_sibling(uint32_t x, uint32_t n_leaves, uint32_t *ret_sibling);

/* Direct path (parents from x up to and including the root; empty for the
 * root) and copath (siblings of x and of each direct-path node but the
 * root), ordered leaf to root. ret_path must hold MLS_TM_MAX_DEPTH entries.
 * R-4.1.2-1. */
MLS_MUST_CHECK int mls_tm_direct_path(uint32_t x, uint32_t n_leaves,
                                      uint32_t ret_path[MLS_TM_MAX_DEPTH], size_t *ret_len);
MLS_MUST_CHECK int mls_tm_copath(uint32_t x, uint32_t n_leaves,
                                 uint32_t ret_path[MLS_TM_MAX_DEPTH], size_t *ret_len);

/* Lowest common ancestor of two nodes (either may be an ancestor of the
 * other). */
uint32_t mls_tm_common_ancestor(uint32_t x, uint32_t y);

/* Whether node `anc` is x itself or one of its ancestors; i.e. x lies in the
 * subtree rooted at anc. */
bool mls_tm_in_subtree(uint32_t x, uint32_t anc);

/* First and one-past-last leaf index in the subtree of node x. */
void mls_tm_leaf_span(uint32_t x, uint32_t *ret_first, uint32_t *ret_end);

#endif
