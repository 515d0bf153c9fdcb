/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tree hashes (RFC 9420 section 7.8) with the per-node cache, and parent
 * hashes (section 7.9): computation along a committer's path and
 * verification of a whole tree (section 7.9.2).
 */
#include <string.h>

#include "mls/tree.h"
#include "mls/tree-internal.h"

/*
 * RFC 9420 section 7.8:
 *   struct { NodeType node_type; select (TreeHashInput.node_type) {
 *       case leaf: LeafNodeHashInput leaf_node;
 *       case parent: ParentNodeHashInput parent_node; }; } TreeHashInput;
 *   struct { uint32 leaf_index; optional<LeafNode> leaf_node; } LeafNodeHashInput;
 *   struct { optional<ParentNode> parent_node; opaque left_hash<V>;
 *            opaque right_hash<V>; } ParentNodeHashInput;
 * R-7.8-3: "the optional node value MUST be absent if the node is blank and
 * present if the node contains a value."
 */
static int
leaf_hash_input(struct mls_writer *w, uint32_t leaf, const struct mls_leaf_node *l)
{
        MLS_TRY(mls_writer_u8(w, MLS_NODE_LEAF));
        MLS_TRY(mls_writer_u32(w, leaf));
        MLS_TRY(mls_writer_optional(w, l != NULL));
        if (l)
                MLS_TRY(mls_leaf_node_encode(w, l));
        return 0;
}

/* ParentNode with the leaves in ex (sorted) left out of unmerged_leaves:
 * the form used for the original sibling tree hash (R-7.9-2). */
static int
parent_node_encode_excluding(struct mls_writer *w, const struct mls_parent_node *p,
                             const uint32_t *ex, size_t nex)
{
        size_t m;

        MLS_TRY(mls_writer_opaque(w, p->encryption_key.data, p->encryption_key.len));
        MLS_TRY(mls_writer_opaque(w, p->parent_hash.data, p->parent_hash.len));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < p->unmerged_leaves.n; i++)
                if (!tree_leaf_in(ex, nex, p->unmerged_leaves.v[i]))
                        MLS_TRY(mls_writer_u32(w, p->unmerged_leaves.v[i]));
        return mls_writer_vec_end(w, m);
}

static int
parent_hash_input(struct mls_writer *w, const struct tree_parent *p, const uint32_t *ex,
                  size_t nex, const uint8_t *lh, const uint8_t *rh, size_t nh)
{
        MLS_TRY(mls_writer_u8(w, MLS_NODE_PARENT));
        MLS_TRY(mls_writer_optional(w, p != NULL));
        if (p) {
                if (nex)
                        MLS_TRY(parent_node_encode_excluding(w, &p->pn, ex, nex));
                else
                        MLS_TRY(mls_parent_node_encode(w, &p->pn));
        }
        MLS_TRY(mls_writer_opaque(w, lh, nh));
        return mls_writer_opaque(w, rh, nh);
}

static int
hash_writer(struct mls_tree *t, struct mls_writer *w, uint8_t *out)
{
        MLS_TRY(mls_crypto_hash(t->suite, w->buf, w->len, out));
        t->n_hash++;
        return 0;
}

/* The opaque<V> length prefix of a hash (RFC 9420 section 2.1.2, a
 * variable-size integer: one byte below 64, else two). */
static size_t
hash_len_prefix(size_t nh, uint8_t *p)
{
        if (nh < 64) {
                p[0] = (uint8_t)nh;
                return 1;
        }
        p[0] = (uint8_t)(0x40 | (nh >> 8));
        p[1] = (uint8_t)(nh & 0xff);
        return 2;
}

/*
 * The tree hashes of the all-blank subtree under parent x (tree_sub_nodes
 * is 0), level by level with fixed-size inputs, without the writer or
 * recursion: the new right half of a doubled tree is 2^k - 1 such nodes.
 * The inputs are those of tree_hash_compute for blank nodes:
 *   leaf:   node_type leaf, uint32 leaf_index, optional absent (6 bytes);
 *   parent: node_type parent, optional absent, left_hash<V>, right_hash<V>.
 * Nodes already cached are kept (R-7.8-1, R-7.8-2, R-7.8-3).
 */
static int
blank_subtree_hash(struct mls_tree *t, uint32_t x)
{
        size_t nh = t->nh, pl;
        uint32_t k = mls_tm_level(x), lo = x - ((UINT32_C(1) << k) - 1);
        uint8_t in[2 + 2 * (2 + MLS_MAX_HASH_LEN)];

        MLS_TRY(tree_j_reserve(t, ((size_t)2 << k) - 1, 0));
        /* leaves */
        in[0] = MLS_NODE_LEAF;
        in[5] = 0;
        for (uint32_t y = lo; y <= x + ((UINT32_C(1) << k) - 1); y += 2) {
                uint32_t leaf = y >> 1;

                if (t->hvalid[y])
                        continue;
                in[1] = (uint8_t)(leaf >> 24);
                in[2] = (uint8_t)(leaf >> 16);
                in[3] = (uint8_t)(leaf >> 8);
                in[4] = (uint8_t)leaf;
                MLS_TRY(mls_crypto_hash(t->suite, in, 6, t->hash + (size_t)y * nh));
                t->n_hash++;
                if (t->in_tx)
                        tree_j_push(t, TREE_J_HCOMP, y, 0, NULL);
                t->hvalid[y] = 1;
        }
        /* parents, level j: first lo + 2^j - 1, step 2^(j+1) */
        in[0] = MLS_NODE_PARENT;
        in[1] = 0;
        pl = hash_len_prefix(nh, in + 2);
        for (uint32_t j = 1; j <= k; j++) {
                uint32_t half = UINT32_C(1) << (j - 1);

                for (uint32_t y = lo + (UINT32_C(1) << j) - 1; y <= x + ((UINT32_C(1) << k) - 1);
                     y += UINT32_C(2) << j) {
                        uint8_t *q = in + 2;

                        if (t->hvalid[y])
                                continue;
                        q += pl;
                        memcpy(q, t->hash + (size_t)(y - half) * nh, nh);
                        q += nh;
                        q += hash_len_prefix(nh, q);
                        memcpy(q, t->hash + (size_t)(y + half) * nh, nh);
                        q += nh;
                        MLS_TRY(mls_crypto_hash(t->suite, in, (size_t)(q - in),
                                                t->hash + (size_t)y * nh));
                        t->n_hash++;
                        if (t->in_tx)
                                tree_j_push(t, TREE_J_HCOMP, y, 0, NULL);
                        t->hvalid[y] = 1;
                }
        }
        return 0;
}

/* R-7.8-1, R-7.8-2: fills the cache for x; children first. Depth is at most
 * 31, so the recursion is bounded. */
int
tree_hash_compute(struct mls_tree *t, uint32_t x)
{
        struct mls_writer *w = &t->hw;
        uint8_t *out = t->hash + (size_t)x * t->nh;

        if (t->hvalid[x])
                return 0;
        if ((x & 1u) && tree_sub_nodes(t, x) == 0)
                return blank_subtree_hash(t, x);
        if (x & 1u) {
                MLS_TRY(tree_hash_compute(t, tree_left(x)));
                MLS_TRY(tree_hash_compute(t, tree_right(x)));
        }
        MLS_TRY(tree_j_reserve(t, 1, 0));
        w->len = 0;
        if (x & 1u)
                MLS_TRY(parent_hash_input(w, t->par[x >> 1], NULL, 0,
                                          t->hash + (size_t)tree_left(x) * t->nh,
                                          t->hash + (size_t)tree_right(x) * t->nh, t->nh));
        else
                MLS_TRY(leaf_hash_input(w, x >> 1, t->leaf[x >> 1]));
        MLS_TRY(hash_writer(t, w, out));
        if (t->in_tx)
                tree_j_push(t, TREE_J_HCOMP, x, 0, NULL);
        t->hvalid[x] = 1;
        return 0;
}

int
mls_tree_node_hash(struct mls_tree *t, uint32_t x, uint8_t *out)
{
        if (!t || !out)
                return MLS_E_INVALID_ARGUMENT;
        if (x >= 2 * t->width - 1)
                return MLS_E_TREE_INDEX;
        MLS_TRY(tree_hash_compute(t, x));
        memcpy(out, t->hash + (size_t)x * t->nh, t->nh);
        return 0;
}

/* R-7.8-4: the root's tree hash over the full power-of-two tree. */
int
mls_tree_hash(struct mls_tree *t, uint8_t *out)
{
        if (!t)
                return MLS_E_INVALID_ARGUMENT;
        return mls_tree_node_hash(t, t->width - 1, out);
}

/*
 * Tree hash of node x with the leaves ex[0..nex) (sorted, all inside x's
 * subtree) blanked and removed from every unmerged_leaves list below x:
 * RFC 9420 section 7.9 (R-7.9-2), "original_sibling_tree_hash is the tree
 * hash of S in the ratchet tree modified as follows: For each leaf L in
 * P.unmerged_leaves, blank L and remove it from the unmerged_leaves sets of
 * all parent nodes." Subtrees without excluded leaves use the cache, so the
 * cost is O(nex * depth) hashes. The uncached results are not stored.
 */
static int
hash_excluding(struct mls_tree *t, uint32_t x, const uint32_t *ex, size_t nex, uint8_t *out)
{
        uint8_t lh[MLS_MAX_HASH_LEN], rh[MLS_MAX_HASH_LEN];
        struct mls_writer *w = &t->hw;
        uint32_t first, end, mid;
        size_t k = 0;

        if (nex == 0) {
                MLS_TRY(tree_hash_compute(t, x));
                memcpy(out, t->hash + (size_t)x * t->nh, t->nh);
                return 0;
        }
        if (!(x & 1u)) {
                /* the excluded leaf itself: blank */
                w->len = 0;
                MLS_TRY(leaf_hash_input(w, x >> 1, NULL));
                return hash_writer(t, w, out);
        }
        mls_tm_leaf_span(x, &first, &end);
        mid = first + (end - first) / 2;
        while (k < nex && ex[k] < mid)
                k++;
        MLS_TRY(hash_excluding(t, tree_left(x), ex, k, lh));
        MLS_TRY(hash_excluding(t, tree_right(x), ex + k, nex - k, rh));
        w->len = 0;
        MLS_TRY(parent_hash_input(w, t->par[x >> 1], ex, nex, lh, rh, t->nh));
        return hash_writer(t, w, out);
}

int
tree_hash_fresh(struct mls_tree *t, uint32_t x, uint8_t *out)
{
        uint8_t lh[MLS_MAX_HASH_LEN], rh[MLS_MAX_HASH_LEN];
        struct mls_writer w;
        int r;

        if (x & 1u) {
                MLS_TRY(tree_hash_fresh(t, tree_left(x), lh));
                MLS_TRY(tree_hash_fresh(t, tree_right(x), rh));
        }
        mls_writer_init(&w);
        if (x & 1u)
                r = parent_hash_input(&w, t->par[x >> 1], NULL, 0, lh, rh, t->nh);
        else
                r = leaf_hash_input(&w, x >> 1, t->leaf[x >> 1]);
        if (r == 0)
                r = mls_crypto_hash(t->suite, w.buf, w.len, out);
        mls_writer_clear(&w);
        return r;
}

/*
 * RFC 9420 section 7.9 (R-7.9-1):
 *   struct { HPKEPublicKey encryption_key; opaque parent_hash<V>;
 *            opaque original_sibling_tree_hash<V>; } ParentHashInput;
 */
static int
parent_hash_value(const struct mls_suite *s, const struct mls_bytes *key,
                  const struct mls_bytes *ph, const uint8_t *sibling, size_t nh, uint8_t *out)
{
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init(&w);
        MLS_TRY(mls_writer_opaque(&w, key->data, key->len));
        MLS_TRY(mls_writer_opaque(&w, ph->data, ph->len));
        MLS_TRY(mls_writer_opaque(&w, sibling, nh));
        return mls_crypto_hash(s, w.buf, w.len, out);
}

static void
bytes_array_clear(struct mls_bytes *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                mls_bytes_clear(&b[i]);
}

/*
 * Parent hashes of a path (R-7.5-6, R-7.9.1-1), computed top-down: "these
 * hashes are computed from root to leaf, so that each hash incorporates all
 * the non-blank nodes above it. The root node always has a zero-length hash
 * for its parent hash." The copath children are not on the merged path, so
 * their tree hashes are the same before and after the merge, and with the
 * path nodes' unmerged_leaves empty the "original" sibling hash is the
 * current one.
 */
int
mls_tree_path_parent_hashes(struct mls_tree *t, const uint32_t *copath,
                            const struct mls_bytes *keys, size_t n, struct mls_bytes *ret_phs,
                            struct mls_bytes *ret_leaf_ph)
{
        struct mls_bytes phs[MLS_TM_MAX_DEPTH] = { { 0 } };
        struct mls_bytes leaf_ph = { 0 };
        uint8_t above[MLS_MAX_HASH_LEN];
        size_t above_len = 0;
        int r = 0;

        if (!t || (n && (!copath || !keys || !ret_phs)) || !ret_leaf_ph || n > MLS_TM_MAX_DEPTH)
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = n; i-- > 0 && r == 0;) {
                if (copath[i] >= 2 * t->width - 1) {
                        r = MLS_E_TREE_INDEX;
                        break;
                }
                r = mls_bytes_copy(&phs[i], above, above_len);
                if (r == 0)
                        r = tree_hash_compute(t, copath[i]);
                if (r == 0)
                        r = parent_hash_value(t->suite, &keys[i], &phs[i],
                                              t->hash + (size_t)copath[i] * t->nh, t->nh, above);
                above_len = t->nh;
        }
        if (r == 0)
                r = mls_bytes_copy(&leaf_ph, above, n ? above_len : 0);
        if (r < 0) {
                bytes_array_clear(phs, n);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                ret_phs[i] = phs[i];
        *ret_leaf_ph = leaf_ph;
        return 0;
}

/* The parent_hash a node D carries: ParentNode.parent_hash, or for a leaf
 * of source commit LeafNode.parent_hash; NULL otherwise. */
static const struct mls_bytes *
node_parent_hash(const struct mls_tree *t, uint32_t d)
{
        if (d & 1u)
                return t->par[d >> 1] ? &t->par[d >> 1]->pn.parent_hash : NULL;
        if (t->leaf[d >> 1] && t->leaf[d >> 1]->leaf_node_source == MLS_LEAF_SOURCE_COMMIT)
                return &t->leaf[d >> 1]->parent_hash;
        return NULL;
}

/* Index range [lo, hi) of the sorted list u holding values in [first, end). */
static void
sorted_range(const struct mls_u32_list *u, uint32_t first, uint32_t end, size_t *lo, size_t *hi)
{
        size_t a = 0, b = u->n;

        while (a < b) {
                size_t m = a + (b - a) / 2;

                if (u->v[m] < first)
                        a = m + 1;
                else
                        b = m;
        }
        *lo = a;
        b = u->n;
        while (a < b) {
                size_t m = a + (b - a) / 2;

                if (u->v[m] < end)
                        a = m + 1;
                else
                        b = m;
        }
        *hi = a;
}

/*
 * Does some D below child c of parent p link to p (section 7.9.2)?
 *   R-7.9.2-1: D is a descendant of P;
 *   R-7.9.2-3: D is in the resolution of C, and the intersection of P's
 *              unmerged_leaves with the subtree under C is equal to the
 *              resolution of C with D removed;
 *   R-7.9.2-2: D.parent_hash equals the parent hash of P with copath child S.
 * Since resolution(C) minus D must equal a known set, resolution(C) is
 * enumerated only up to that size plus one, and at most one D qualifies.
 */
static int
side_links(struct mls_tree *t, uint32_t p, uint32_t c, uint32_t s, bool *ret)
{
        const struct tree_parent *pp = t->par[p >> 1];
        const struct mls_u32_list *u = &pp->pn.unmerged_leaves;
        _mls_cleanup_(mls_tree_list_clear) struct mls_u32_list res = { 0 };
        uint8_t sib[MLS_MAX_HASH_LEN], ph[MLS_MAX_HASH_LEN];
        const struct mls_bytes *dph;
        uint32_t first, end, d = 0;
        size_t lo, hi, n, nd = 0, slo, shi;

        *ret = false;
        mls_tm_leaf_span(c, &first, &end);
        sorted_range(u, first, end, &lo, &hi);
        MLS_TRY(tree_resolution_limited(t, c, NULL, 0, hi - lo + 1, &res, &n));
        if (n != hi - lo + 1)
                return 0;
        for (size_t i = 0; i < res.n; i++) {
                uint32_t r = res.v[i];

                if (!(r & 1u) && tree_leaf_in(u->v + lo, hi - lo, r >> 1))
                        continue;
                nd++;
                d = r;
        }
        if (nd != 1)
                return 0;
        dph = node_parent_hash(t, d);
        if (!dph || dph->len != t->nh)
                return 0;
        mls_tm_leaf_span(s, &first, &end);
        sorted_range(u, first, end, &slo, &shi);
        MLS_TRY(hash_excluding(t, s, u->v + slo, shi - slo, sib));
        MLS_TRY(parent_hash_value(t->suite, &pp->pn.encryption_key, &pp->pn.parent_hash, sib,
                                  t->nh, ph));
        *ret = mls_ct_eq(ph, dph->data, t->nh);
        return 0;
}

/*
 * R-7.9.2-4: "the new member MUST authenticate that each non-blank parent
 * node P is parent-hash valid ... 'top down' by verifying that there is
 * exactly one descendant of each non-blank parent node for which the parent
 * node is parent-hash valid." Every such descendant is itself a leaf or a
 * non-blank parent checked the same way, so each chain ends at a leaf.
 */
int
mls_tree_verify_parent_hashes(struct mls_tree *t)
{
        uint32_t n;

        if (!t)
                return MLS_E_INVALID_ARGUMENT;
        n = 2 * t->width - 1;
        for (uint32_t p = 1; p < n; p += 2) {
                bool l, r;

                if (!t->par[p >> 1])
                        continue;
                MLS_TRY(side_links(t, p, tree_left(p), tree_right(p), &l));
                MLS_TRY(side_links(t, p, tree_right(p), tree_left(p), &r));
                if ((int)l + (int)r != 1)
                        return MLS_E_BAD_PARENT_HASH;
        }
        return 0;
}
