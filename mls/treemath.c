/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9420 appendix C, written for 32-bit indices without recursion. */
#include "mls/treemath.h"

static unsigned
log2_floor(uint64_t x)
{
        unsigned k = 0;

        if (x == 0)
                return 0;
        while ((x >> (k + 1)) > 0)
                k++;
        return k;
}

uint32_t
mls_tm_node_width(uint32_t n)
{
        if (n == 0)
                return 0;
        return (uint32_t)(2 * ((uint64_t)n - 1) + 1);
}

int
mls_tm_root(uint32_t n, uint32_t *ret_root)
{
        uint32_t w;

        if (n == 0 || n > MLS_TM_MAX_LEAVES)
                return MLS_E_TREE_INDEX;
        w = mls_tm_node_width(n);
        *ret_root = (uint32_t)(((uint64_t)1 << log2_floor(w)) - 1);
        return 0;
}

int
mls_tm_left(uint32_t x, uint32_t *ret)
{
        unsigned k = mls_tm_level(x);

        if (k == 0 || k >= 32)
                return MLS_E_TREE_INDEX;
        *ret = x ^ (1u << (k - 1));
        return 0;
}

int
mls_tm_right(uint32_t x, uint32_t *ret)
{
        unsigned k = mls_tm_level(x);

        if (k == 0 || k >= 32)
                return MLS_E_TREE_INDEX;
        *ret = x ^ (3u << (k - 1));
        return 0;
}

/* One step up, ignoring the tree size. Done in 64 bits: for the largest
 * trees (x | 1 << k) can reach 2^32 only for indices outside every tree. */
static uint64_t
parent_step(uint32_t x)
{
        unsigned k = mls_tm_level(x);
        uint64_t b = ((uint64_t)x >> (k + 1)) & 1u;

        return ((uint64_t)x | ((uint64_t)1 << k)) ^ (b << (k + 1));
}

int
mls_tm_parent(uint32_t x, uint32_t n, uint32_t *ret)
{
        uint32_t root;
        uint64_t p;

        MLS_TRY(mls_tm_root(n, &root));
        if (x >= mls_tm_node_width(n) || x == root)
                return MLS_E_TREE_INDEX;
        p = parent_step(x);
        /* For a leaf count that is not a power of two, the RFC's appendix
         * walks up until the index is inside the tree. At most 32 steps. */
        for (unsigned i = 0; p >= mls_tm_node_width(n) && i < 32; i++)
                p = parent_step((uint32_t)p);
        if (p >= mls_tm_node_width(n))
                return MLS_E_TREE_INDEX;
        *ret = (uint32_t)p;
        return 0;
}

int
mls_tm_sibling(uint32_t x, uint32_t n, uint32_t *ret)
{
        uint32_t p;

        MLS_TRY(mls_tm_parent(x, n, &p));
        if (x < p)
                return mls_tm_right(p, ret);
        return mls_tm_left(p, ret);
}

int
mls_tm_direct_path(uint32_t x, uint32_t n, uint32_t ret_path[MLS_TM_MAX_DEPTH], size_t *ret_len)
{
        uint32_t root, tmp[MLS_TM_MAX_DEPTH];
        size_t len = 0;

        MLS_TRY(mls_tm_root(n, &root));
        if (x >= mls_tm_node_width(n))
                return MLS_E_TREE_INDEX;
        while (x != root) {
                if (len >= MLS_TM_MAX_DEPTH)
                        return MLS_E_TREE_INDEX;
                MLS_TRY(mls_tm_parent(x, n, &x));
                tmp[len++] = x;
        }
        for (size_t i = 0; i < len; i++)
                ret_path[i] = tmp[i];
        *ret_len = len;
        return 0;
}

int
mls_tm_copath(uint32_t x, uint32_t n, uint32_t ret_path[MLS_TM_MAX_DEPTH], size_t *ret_len)
{
        uint32_t dp[MLS_TM_MAX_DEPTH], out[MLS_TM_MAX_DEPTH];
        size_t len;

        MLS_TRY(mls_tm_direct_path(x, n, dp, &len));
        /* copath = sibling of x, then of every direct-path node but the root */
        for (size_t i = 0; i < len; i++) {
                uint32_t node = i == 0 ? x : dp[i - 1];

                MLS_TRY(mls_tm_sibling(node, n, &out[i]));
        }
        for (size_t i = 0; i < len; i++)
                ret_path[i] = out[i];
        *ret_len = len;
        return 0;
}

uint32_t
mls_tm_common_ancestor(uint32_t x, uint32_t y)
{
        unsigned lx = mls_tm_level(x) + 1, ly = mls_tm_level(y) + 1;
        uint64_t xn = x, yn = y;
        unsigned k = 0;

        if (lx <= ly && ((uint64_t)x >> ly) == ((uint64_t)y >> ly))
                return y;
        if (ly <= lx && ((uint64_t)x >> lx) == ((uint64_t)y >> lx))
                return x;
        while (xn != yn) {
                xn >>= 1;
                yn >>= 1;
                k++;
        }
        return (uint32_t)((xn << k) + ((uint64_t)1 << (k - 1)) - 1);
}

void
mls_tm_leaf_span(uint32_t x, uint32_t *ret_first, uint32_t *ret_end)
{
        unsigned k = mls_tm_level(x);
        /* The subtree of x covers nodes [x - (2^k - 1), x + (2^k - 1)]. */
        uint64_t span = ((uint64_t)1 << k) - 1;
        uint64_t first = (uint64_t)x - span;

        *ret_first = (uint32_t)(first / 2);
        *ret_end = (uint32_t)(first / 2 + ((uint64_t)1 << k));
}

bool
mls_tm_in_subtree(uint32_t x, uint32_t anc)
{
        unsigned k = mls_tm_level(anc);
        uint64_t span = ((uint64_t)1 << k) - 1;

        return (uint64_t)x + span >= anc && (uint64_t)x <= (uint64_t)anc + span;
}
