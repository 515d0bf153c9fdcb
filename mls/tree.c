/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ratchet tree: array representation, derived caches, undo journal,
 * modifications, resolution and filtered direct path (RFC 9420 sections 4,
 * 7.7, 12.1.1-12.1.3, 12.4.3.3). Tree hashes, parent hashes and validation
 * are in mls/tree_hash.c and mls/tree_validate.c. See mls/tree.h for the
 * design.
 */
#include "mls/tree.h"
#include "mls/tree-internal.h"

#include <string.h>
#include <sodium.h>

#include "mls/rng.h"

/* ---- index arithmetic on a full tree (R-4.1.1-1) ---- */

/* Parent of a non-root node x of a perfect tree: x's parent is x + 2^k if x
 * is a left child (bit k+1 clear), x - 2^k otherwise. */
uint32_t
tree_up(uint32_t x)
{
        unsigned k = mls_tm_level(x);

        return ((x >> (k + 1)) & 1u) ? x - (1u << k) : x + (1u << k);
}

uint32_t
tree_left(uint32_t x)
{
        return x ^ (1u << (mls_tm_level(x) - 1));
}

uint32_t
tree_right(uint32_t x)
{
        return x ^ (3u << (mls_tm_level(x) - 1));
}

/* ---- node objects ---- */

void
tree_leaf_free(struct mls_leaf_node *l)
{
        if (!l)
                return;
        mls_leaf_node_clear(l);
        free(l);
}

void
tree_leaf_freep(struct mls_leaf_node **l)
{
        tree_leaf_free(*l);
        *l = NULL;
}

void
tree_parent_free(struct tree_parent *p)
{
        if (!p)
                return;
        mls_parent_node_clear(&p->pn);
        free(p);
}

void
tree_parent_freep(struct tree_parent **p)
{
        tree_parent_free(*p);
        *p = NULL;
}

static void
node_free(uint32_t x, void *p)
{
        if (x & 1u)
                tree_parent_free(p);
        else
                tree_leaf_free(p);
}

/* A deep copy of a LeafNode, through its encoding (the encoding is the
 * definition of equality for LeafNodes anyway). */
int
tree_leaf_dup(const struct mls_leaf_node *src, struct mls_leaf_node **ret)
{
        _mls_writer_ struct mls_writer w = { 0 };
        _mls_cleanup_(tree_leaf_freep) struct mls_leaf_node *l = NULL;
        struct mls_reader r;

        mls_writer_init(&w);
        MLS_TRY(mls_leaf_node_encode(&w, src));
        l = calloc(1, sizeof(*l));
        if (!l)
                return MLS_E_NOMEM;
        mls_reader_init(&r, w.buf, w.len);
        MLS_TRY(mls_leaf_node_decode(&r, l));
        MLS_TRY(mls_reader_done(&r));
        *ret = MLS_TAKE(l);
        return 0;
}

int
tree_parent_new(const struct mls_bytes *key, const struct mls_bytes *ph,
                const struct mls_u32_list *unmerged, struct tree_parent **ret)
{
        _mls_cleanup_(tree_parent_freep) struct tree_parent *p = NULL;

        p = calloc(1, sizeof(*p));
        if (!p)
                return MLS_E_NOMEM;
        MLS_TRY(mls_bytes_dup(&p->pn.encryption_key, key));
        MLS_TRY(mls_bytes_dup(&p->pn.parent_hash, ph));
        if (unmerged && unmerged->n) {
                p->pn.unmerged_leaves.v = malloc(unmerged->n * sizeof(uint32_t));
                if (!p->pn.unmerged_leaves.v)
                        return MLS_E_NOMEM;
                memcpy(p->pn.unmerged_leaves.v, unmerged->v, unmerged->n * sizeof(uint32_t));
                p->pn.unmerged_leaves.n = unmerged->n;
                p->ucap = unmerged->n;
        }
        *ret = MLS_TAKE(p);
        return 0;
}

static const struct mls_bytes *
ptr_enc_key(uint32_t x, const void *p)
{
        if (!p)
                return NULL;
        if (x & 1u)
                return &((const struct tree_parent *)p)->pn.encryption_key;
        return &((const struct mls_leaf_node *)p)->encryption_key;
}

/* ---- key tables: open addressing, linear probing, backward-shift delete ---- */

static const uint8_t empty_key_[1];

static uint32_t
kt_hash(const struct mls_tree *t, const uint8_t *p, size_t len)
{
        uint8_t out[crypto_shorthash_BYTES];

        crypto_shorthash(out, len ? p : empty_key_, len, t->sipkey);
        return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
               (uint32_t)out[3] << 24;
}

static const struct mls_bytes *
kt_key(const struct mls_tree *t, int which, uint32_t idx)
{
        if (which == TREE_KT_ENC)
                return mls_tree_node_encryption_key(t, idx);
        return t->leaf[idx] ? &t->leaf[idx]->signature_key : NULL;
}

static bool
kt_find(const struct mls_tree *t, int which, const uint8_t *p, size_t len, uint32_t *ret_idx)
{
        const struct tree_ktab *k = &t->kt[which];
        uint32_t h, mask, i;

        if (!k->cap)
                return false;
        h = kt_hash(t, p, len);
        mask = k->cap - 1;
        for (i = h & mask; k->val[i]; i = (i + 1) & mask) {
                const struct mls_bytes *b;

                if (k->tag[i] != h)
                        continue;
                b = kt_key(t, which, k->val[i] - 1);
                if (b && b->len == len && (len == 0 || memcmp(b->data, p, len) == 0)) {
                        *ret_idx = k->val[i] - 1;
                        return true;
                }
        }
        return false;
}

/* Capacity is available (load <= 1/2): cannot fail. */
static void
kt_put(struct tree_ktab *k, uint32_t h, uint32_t idx)
{
        uint32_t mask = k->cap - 1, i;

        for (i = h & mask; k->val[i]; i = (i + 1) & mask)
                ;
        k->val[i] = idx + 1;
        k->tag[i] = h;
        k->n++;
}

static void
kt_del(struct tree_ktab *k, uint32_t h, uint32_t idx)
{
        uint32_t mask, i, j;

        if (!k->cap)
                return;
        mask = k->cap - 1;
        for (i = h & mask; k->val[i] != idx + 1; i = (i + 1) & mask)
                if (!k->val[i])
                        return; /* not present: nothing to do */
        j = i;
        for (;;) {
                uint32_t home;
                bool move;

                j = (j + 1) & mask;
                if (!k->val[j])
                        break;
                home = k->tag[j] & mask;
                /* Entry j may fill hole i unless its home lies cyclically in (i, j]. */
                move = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
                if (move) {
                        k->val[i] = k->val[j];
                        k->tag[i] = k->tag[j];
                        i = j;
                }
        }
        k->val[i] = 0;
        k->n--;
}

/* Room for `extra` more entries. The capacity never shrinks, so undoing
 * changes (rollback) never needs to grow a table. */
static int
kt_reserve(struct tree_ktab *k, uint32_t extra)
{
        uint64_t need = (uint64_t)k->n + extra;
        uint32_t ncap;
        struct tree_ktab nk = { 0 };

        if (need * 2 <= k->cap)
                return 0;
        ncap = k->cap ? k->cap : 16;
        while (need * 2 > ncap) {
                if (ncap >= (UINT32_C(1) << 31))
                        return MLS_E_TOO_LARGE;
                ncap *= 2;
        }
        nk.val = calloc(ncap, sizeof(uint32_t));
        nk.tag = calloc(ncap, sizeof(uint32_t));
        if (!nk.val || !nk.tag) {
                free(nk.val);
                free(nk.tag);
                return MLS_E_NOMEM;
        }
        nk.cap = ncap;
        for (uint32_t i = 0; i < k->cap; i++)
                if (k->val[i])
                        kt_put(&nk, k->tag[i], k->val[i] - 1);
        free(k->val);
        free(k->tag);
        *k = nk;
        return 0;
}

static void
kt_clear(struct tree_ktab *k)
{
        free(k->val);
        free(k->tag);
        *k = (struct tree_ktab){ 0 };
}

/* ---- capacity ---- */

static int
grow_array(void **pp, size_t old_n, size_t new_n, size_t elem)
{
        uint8_t *p;

        if (new_n > SIZE_MAX / elem)
                return MLS_E_TOO_LARGE;
        p = realloc(*pp, new_n * elem);
        if (!p)
                return MLS_E_NOMEM;
        memset(p + old_n * elem, 0, (new_n - old_n) * elem);
        *pp = p;
        return 0;
}

/* Makes room for a tree of ncap leaves. New slots are blank, with invalid
 * hashes and zero counters. */
static int
ensure_cap(struct mls_tree *t, uint32_t ncap)
{
        size_t on, nn;

        if (t->cap >= ncap)
                return 0;
        on = t->cap ? 2 * (size_t)t->cap - 1 : 0;
        nn = 2 * (size_t)ncap - 1;
        MLS_TRY(grow_array((void **)&t->leaf, t->cap, ncap, sizeof(*t->leaf)));
        MLS_TRY(grow_array((void **)&t->par, t->cap, ncap, sizeof(*t->par)));
        MLS_TRY(grow_array((void **)&t->cnt_leaf, t->cap, ncap, sizeof(*t->cnt_leaf)));
        MLS_TRY(grow_array((void **)&t->cnt_node, t->cap, ncap, sizeof(*t->cnt_node)));
        MLS_TRY(grow_array((void **)&t->hvalid, on, nn, 1));
        MLS_TRY(grow_array((void **)&t->hash, on, nn, t->nh));
        t->cap = ncap;
        return 0;
}

/* Gives memory back after the tree shrank a lot (outside transactions
 * only). Keeps room for one doubling, so the cached hashes of the blank
 * right half survive. All or nothing: on allocation failure nothing
 * changes. */
static void
maybe_shrink(struct mls_tree *t)
{
        uint32_t ncap = t->width * 2;
        size_t nn;
        struct mls_leaf_node **leaf;
        struct tree_parent **par;
        uint32_t *cl, *cn;
        uint8_t *hv, *h;

        if (t->in_tx || t->cap < 64 || t->cap < 8 * (uint64_t)t->width)
                return;
        nn = 2 * (size_t)ncap - 1;
        leaf = malloc(ncap * sizeof(*leaf));
        par = malloc(ncap * sizeof(*par));
        cl = malloc(ncap * sizeof(*cl));
        cn = malloc(ncap * sizeof(*cn));
        hv = malloc(nn);
        h = malloc(nn * t->nh);
        if (!leaf || !par || !cl || !cn || !hv || !h) {
                free(leaf);
                free(par);
                free(cl);
                free(cn);
                free(hv);
                free(h);
                return;
        }
        memcpy(leaf, t->leaf, ncap * sizeof(*leaf));
        memcpy(par, t->par, ncap * sizeof(*par));
        memcpy(cl, t->cnt_leaf, ncap * sizeof(*cl));
        memcpy(cn, t->cnt_node, ncap * sizeof(*cn));
        memcpy(hv, t->hvalid, nn);
        memcpy(h, t->hash, nn * t->nh);
        free(t->leaf);
        free(t->par);
        free(t->cnt_leaf);
        free(t->cnt_node);
        free(t->hvalid);
        free(t->hash);
        t->leaf = leaf;
        t->par = par;
        t->cnt_leaf = cl;
        t->cnt_node = cn;
        t->hvalid = hv;
        t->hash = h;
        t->cap = ncap;
}

/* ---- journal ---- */

static unsigned
tree_depth(const struct mls_tree *t)
{
        return mls_tm_level(t->width - 1) + 1; /* nodes on a leaf-to-root path */
}

int
tree_j_reserve(struct mls_tree *t, size_t entries, size_t bytes)
{
        if (!t->in_tx)
                return 0;
        if (t->jn + entries > t->jcap) {
                size_t ncap = t->jcap ? t->jcap : 64;
                struct tree_jent *nj;

                while (ncap < t->jn + entries) {
                        if (ncap > SIZE_MAX / 2 / sizeof(*nj))
                                return MLS_E_TOO_LARGE;
                        ncap *= 2;
                }
                nj = realloc(t->j, ncap * sizeof(*nj));
                if (!nj)
                        return MLS_E_NOMEM;
                t->j = nj;
                t->jcap = ncap;
        }
        if (t->an + bytes > t->acap) {
                size_t ncap = t->acap ? t->acap : 1024;
                uint8_t *na;

                while (ncap < t->an + bytes) {
                        if (ncap > SIZE_MAX / 2)
                                return MLS_E_TOO_LARGE;
                        ncap *= 2;
                }
                na = realloc(t->arena, ncap);
                if (!na)
                        return MLS_E_NOMEM;
                t->arena = na;
                t->acap = ncap;
        }
        return 0;
}

/* Space was reserved. */
void
tree_j_push(struct mls_tree *t, uint8_t kind, uint32_t idx, size_t aux, void *ptr)
{
        t->j[t->jn++] = (struct tree_jent){ .kind = kind, .idx = idx, .aux = aux, .ptr = ptr };
}

/* ---- hash-cache invalidation ---- */

/* Invalidates x and its ancestors (stopping at the first already invalid
 * one: an invalid node's ancestors are invalid). In a transaction each
 * invalidated hash is saved first; the caller reserved depth entries and
 * depth * nh bytes. */
static void
hash_invalidate(struct mls_tree *t, uint32_t x)
{
        uint32_t root = t->width - 1;

        for (;;) {
                if (!t->hvalid[x])
                        return;
                if (t->in_tx) {
                        memcpy(t->arena + t->an, t->hash + (size_t)x * t->nh, t->nh);
                        tree_j_push(t, TREE_J_HINV, x, t->an, NULL);
                        t->an += t->nh;
                }
                t->hvalid[x] = 0;
                if (x == root)
                        return;
                x = tree_up(x);
        }
}

/* ---- derived counters ---- */

uint32_t
tree_sub_nodes(const struct mls_tree *t, uint32_t x)
{
        if (x & 1u)
                return t->cnt_node[x >> 1];
        return t->leaf[x >> 1] ? 1 : 0;
}

uint32_t
tree_sub_leaves(const struct mls_tree *t, uint32_t x)
{
        if (x & 1u)
                return t->cnt_leaf[x >> 1];
        return t->leaf[x >> 1] ? 1 : 0;
}

static void
cred_account(struct mls_tree *t, const struct mls_leaf_node *l, int d)
{
        bool seen[3] = { false, false, false };
        uint16_t ct;

        if (!l)
                return;
        ct = l->credential.credential_type;
        if (ct == MLS_CREDENTIAL_BASIC || ct == MLS_CREDENTIAL_X509)
                t->cred_use[ct] += (uint32_t)d;
        for (size_t i = 0; i < l->capabilities.credentials.n; i++) {
                uint16_t c = l->capabilities.credentials.v[i];

                if ((c == MLS_CREDENTIAL_BASIC || c == MLS_CREDENTIAL_X509) && !seen[c]) {
                        seen[c] = true;
                        t->cred_sup[c] += (uint32_t)d;
                }
        }
}

/*
 * Puts np into slot x (in range) and returns what was there. Updates the
 * lookup tables (capacity must be reserved and the new keys known to be
 * absent), the counters and the credential counts. Cannot fail. The hash
 * cache is the caller's business.
 */
static void *
slot_swap(struct mls_tree *t, uint32_t x, void *np)
{
        void *old = tree_slot(t, x);
        bool leaf = !(x & 1u);
        const struct mls_bytes *k;
        int d = (np ? 1 : 0) - (old ? 1 : 0);
        uint32_t root = t->width - 1, y;

        if ((k = ptr_enc_key(x, old)))
                kt_del(&t->kt[TREE_KT_ENC], kt_hash(t, k->data, k->len), x);
        if (leaf && old) {
                k = &((struct mls_leaf_node *)old)->signature_key;
                kt_del(&t->kt[TREE_KT_SIG], kt_hash(t, k->data, k->len), x >> 1);
        }
        if (leaf) {
                cred_account(t, old, -1);
                t->leaf[x >> 1] = np;
                cred_account(t, np, +1);
                t->n_members += (uint32_t)d;
        } else {
                t->par[x >> 1] = np;
                t->cnt_node[x >> 1] += (uint32_t)d;
        }
        if ((k = ptr_enc_key(x, np)))
                kt_put(&t->kt[TREE_KT_ENC], kt_hash(t, k->data, k->len), x);
        if (leaf && np) {
                k = &((struct mls_leaf_node *)np)->signature_key;
                kt_put(&t->kt[TREE_KT_SIG], kt_hash(t, k->data, k->len), x >> 1);
        }
        if (d != 0) {
                for (y = x; y != root;) {
                        y = tree_up(y);
                        t->cnt_node[y >> 1] += (uint32_t)d;
                        if (leaf)
                                t->cnt_leaf[y >> 1] += (uint32_t)d;
                }
        }
        return old;
}

/*
 * Sets node x (in range) to *pp (NULL: blank). On success the tree owns
 * *pp (set to NULL) and the old node is journaled or freed. On failure
 * nothing changed and *pp is still the caller's.
 * MLS_E_DUPLICATE_KEY if a key of the new node is held by another node.
 */
int
tree_slot_set(struct mls_tree *t, uint32_t x, void **pp)
{
        void *np = *pp, *old;
        bool leaf = !(x & 1u);
        const struct mls_bytes *k;
        unsigned depth = tree_depth(t);
        uint32_t other;

        if (x >= 2 * t->width - 1)
                return MLS_E_TREE_INDEX;
        MLS_TRY(kt_reserve(&t->kt[TREE_KT_ENC], 1));
        if (leaf)
                MLS_TRY(kt_reserve(&t->kt[TREE_KT_SIG], 1));
        MLS_TRY(tree_j_reserve(t, 1 + depth, depth * t->nh));
        /* R-7.3-16, R-7.3-17, R-12.4.3.1-16, R-16.7-1: keys are unique. */
        if ((k = ptr_enc_key(x, np)) && kt_find(t, TREE_KT_ENC, k->data, k->len, &other) &&
            other != x)
                return MLS_E_DUPLICATE_KEY;
        if (leaf && np) {
                k = &((struct mls_leaf_node *)np)->signature_key;
                if (kt_find(t, TREE_KT_SIG, k->data, k->len, &other) && other != (x >> 1))
                        return MLS_E_DUPLICATE_KEY;
        }
        if (!np && !tree_slot(t, x))
                return 0;
        hash_invalidate(t, x);
        old = slot_swap(t, x, np);
        *pp = NULL;
        if (t->in_tx)
                tree_j_push(t, TREE_J_NODE, x, 0, old);
        else
                node_free(x, old);
        return 0;
}

/* Inserts leaf into the sorted unmerged_leaves of non-blank parent x. */
static int
unmerged_insert(struct mls_tree *t, uint32_t x, uint32_t leaf)
{
        struct tree_parent *p = t->par[x >> 1];
        struct mls_u32_list *u = &p->pn.unmerged_leaves;
        unsigned depth = tree_depth(t);
        size_t lo = 0, hi = u->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (u->v[mid] < leaf)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < u->n && u->v[lo] == leaf)
                return MLS_E_INVALID_TREE; /* a blank leaf listed as unmerged */
        if (u->n == p->ucap) {
                size_t ncap = p->ucap < 4 ? 4 : 2 * p->ucap;
                uint32_t *nv;

                if (ncap > SIZE_MAX / sizeof(uint32_t))
                        return MLS_E_TOO_LARGE;
                nv = realloc(u->v, ncap * sizeof(uint32_t));
                if (!nv)
                        return MLS_E_NOMEM;
                u->v = nv;
                p->ucap = ncap;
        }
        MLS_TRY(tree_j_reserve(t, 1 + depth, depth * t->nh));
        memmove(u->v + lo + 1, u->v + lo, (u->n - lo) * sizeof(uint32_t));
        u->v[lo] = leaf;
        u->n++;
        hash_invalidate(t, x);
        if (t->in_tx)
                tree_j_push(t, TREE_J_UNMERGED, x, lo, NULL);
        return 0;
}

/* ---- undo ---- */

static void
rollback_to(struct mls_tree *t, size_t jn, size_t an)
{
        while (t->jn > jn) {
                struct tree_jent *e = &t->j[--t->jn];

                switch (e->kind) {
                case TREE_J_NODE:
                        node_free(e->idx, slot_swap(t, e->idx, e->ptr));
                        break;
                case TREE_J_HINV:
                        memcpy(t->hash + (size_t)e->idx * t->nh, t->arena + e->aux, t->nh);
                        t->hvalid[e->idx] = 1;
                        break;
                case TREE_J_HCOMP:
                        t->hvalid[e->idx] = 0;
                        break;
                case TREE_J_WIDTH:
                        t->width = (uint32_t)e->aux;
                        break;
                case TREE_J_UNMERGED: {
                        struct mls_u32_list *u = &t->par[e->idx >> 1]->pn.unmerged_leaves;

                        memmove(u->v + e->aux, u->v + e->aux + 1,
                                (u->n - e->aux - 1) * sizeof(uint32_t));
                        u->n--;
                        break;
                }
                default:
                        break;
                }
        }
        t->an = an;
}

static void
journal_release(struct mls_tree *t)
{
        for (size_t i = 0; i < t->jn; i++)
                if (t->j[i].kind == TREE_J_NODE)
                        node_free(t->j[i].idx, t->j[i].ptr);
        t->jn = 0;
        t->an = 0;
        /* Do not keep a huge journal around after a tree doubling. */
        if (t->jcap > 4096) {
                free(t->j);
                t->j = NULL;
                t->jcap = 0;
        }
        if (t->acap > 65536) {
                free(t->arena);
                t->arena = NULL;
                t->acap = 0;
        }
}

int
mls_tree_begin(struct mls_tree *t)
{
        if (!t || t->in_tx)
                return MLS_E_INVALID_ARGUMENT;
        t->in_tx = true;
        t->jn = 0;
        t->an = 0;
        return 0;
}

void
mls_tree_commit(struct mls_tree *t)
{
        if (!t || !t->in_tx)
                return;
        journal_release(t);
        t->in_tx = false;
        maybe_shrink(t);
}

void
mls_tree_rollback(struct mls_tree *t)
{
        if (!t || !t->in_tx)
                return;
        rollback_to(t, 0, 0);
        journal_release(t);
        t->in_tx = false;
}

bool
mls_tree_in_transaction(const struct mls_tree *t)
{
        return t && t->in_tx;
}

void
tree_op_begin(struct mls_tree *t, struct tree_op *o)
{
        o->t = t;
        o->own = !t->in_tx;
        o->done = false;
        if (o->own) {
                t->in_tx = true;
                t->jn = 0;
                t->an = 0;
        }
        o->jn = t->jn;
        o->an = t->an;
}

void
tree_op_end(struct tree_op *o)
{
        if (!o->t || o->done)
                return;
        rollback_to(o->t, o->jn, o->an);
        if (o->own) {
                journal_release(o->t);
                o->t->in_tx = false;
        }
        o->t = NULL;
}

void
tree_op_done(struct tree_op *o)
{
        o->done = true;
        if (o->own)
                mls_tree_commit(o->t);
}

/* ---- life cycle ---- */

static int
tree_alloc(const struct mls_suite *s, uint32_t width, struct mls_tree **ret)
{
        _mls_tree_ struct mls_tree *t = NULL;

        if (!s || width == 0 || (width & (width - 1)) != 0)
                return MLS_E_INVALID_ARGUMENT;
        if (width > TREE_MAX_LEAVES)
                return MLS_E_TOO_LARGE;
        t = calloc(1, sizeof(*t));
        if (!t)
                return MLS_E_NOMEM;
        t->suite = s;
        t->nh = s->hash_len;
        mls_writer_init(&t->hw);
        /* The table key only needs to be unpredictable to whoever chooses
         * the keys, so that they cannot pick colliding keys. */
        MLS_TRY(mls_rng_fill(mls_rng_system(), t->sipkey, sizeof(t->sipkey)));
        MLS_TRY(ensure_cap(t, width));
        t->width = width;
        *ret = MLS_TAKE(t);
        return 0;
}

void
mls_tree_free(struct mls_tree *t)
{
        if (!t)
                return;
        if (t->in_tx)
                journal_release(t);
        for (uint32_t i = 0; i < t->cap; i++) {
                tree_leaf_free(t->leaf[i]);
                tree_parent_free(t->par[i]);
        }
        free(t->leaf);
        free(t->par);
        free(t->cnt_leaf);
        free(t->cnt_node);
        free(t->hvalid);
        free(t->hash);
        free(t->j);
        free(t->arena);
        kt_clear(&t->kt[0]);
        kt_clear(&t->kt[1]);
        mls_writer_clear(&t->hw);
        free(t);
}

void
mls_tree_freep(struct mls_tree **t)
{
        mls_tree_free(*t);
        *t = NULL;
}

int
mls_tree_new(const struct mls_suite *s, const struct mls_leaf_node *ln, struct mls_tree **ret)
{
        _mls_tree_ struct mls_tree *t = NULL;
        _mls_cleanup_(tree_leaf_freep) struct mls_leaf_node *l = NULL;

        if (!ln)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(tree_alloc(s, 1, &t));
        MLS_TRY(tree_leaf_dup(ln, &l));
        MLS_TRY(tree_slot_set(t, 0, (void **)&l));
        *ret = MLS_TAKE(t);
        return 0;
}

static void
mls_node_freep_(struct mls_node **n)
{
        if (*n) {
                mls_node_clear(*n);
                free(*n);
                *n = NULL;
        }
}

/*
 * A tree built in one go (decoded, copied) has its key tables filled to
 * whatever load the last doubling left, possibly right at the threshold:
 * the first Add after loading a state would then rehash all N keys. Room
 * for n/8 more keys avoids that; it grows a table only when it is within
 * 1/8 of the threshold.
 */
static int
kt_headroom(struct mls_tree *t)
{
        for (int i = 0; i < 2; i++)
                MLS_TRY(kt_reserve(&t->kt[i], t->kt[i].n / 8 + 1));
        return 0;
}

/* Builds a tree from a decoded ratchet_tree, moving its nodes out. */
static int
tree_take_rt(const struct mls_suite *s, struct mls_ratchet_tree *rt, struct mls_tree **ret)
{
        _mls_tree_ struct mls_tree *t = NULL;
        size_t n = rt->n_nodes;
        uint32_t w = 1;

        /* R-12.4.3.3-3: non-empty and not ending with a blank (the decoder
         * checks it too). An even count ends with a parent node: the last
         * non-blank node of a truncated tree is a leaf. */
        if (n == 0 || !rt->nodes[n - 1] || n % 2 == 0)
                return MLS_E_INVALID_TREE;
        if (n > 2 * (size_t)TREE_MAX_LEAVES - 1)
                return MLS_E_TOO_LARGE;
        while (2 * (size_t)w - 1 < n)
                w *= 2;
        MLS_TRY(tree_alloc(s, w, &t));
        for (size_t x = 0; x < n; x++) {
                _mls_cleanup_(mls_node_freep_) struct mls_node *node = rt->nodes[x];

                rt->nodes[x] = NULL;
                if (!node)
                        continue;
                if (x % 2 == 0) {
                        _mls_cleanup_(tree_leaf_freep) struct mls_leaf_node *l = NULL;

                        /* R-12.4.3.3-4 */
                        if (node->node_type != MLS_NODE_LEAF)
                                return MLS_E_INVALID_TREE;
                        l = malloc(sizeof(*l));
                        if (!l)
                                return MLS_E_NOMEM;
                        *l = node->leaf_node;
                        memset(node, 0, sizeof(*node));
                        MLS_TRY(tree_slot_set(t, (uint32_t)x, (void **)&l));
                } else {
                        _mls_cleanup_(tree_parent_freep) struct tree_parent *p = NULL;
                        const struct mls_u32_list *u;

                        if (node->node_type != MLS_NODE_PARENT)
                                return MLS_E_INVALID_TREE;
                        p = calloc(1, sizeof(*p));
                        if (!p)
                                return MLS_E_NOMEM;
                        p->pn = node->parent_node;
                        memset(node, 0, sizeof(*node));
                        u = &p->pn.unmerged_leaves;
                        p->ucap = u->n;
                        /* R-7.1-1: strictly increasing. */
                        for (size_t i = 1; i < u->n; i++)
                                if (u->v[i] <= u->v[i - 1])
                                        return MLS_E_INVALID_TREE;
                        MLS_TRY(tree_slot_set(t, (uint32_t)x, (void **)&p));
                }
        }
        MLS_TRY(kt_headroom(t));
        *ret = MLS_TAKE(t);
        return 0;
}

int
mls_tree_from_bytes(const struct mls_suite *s, const uint8_t *p, size_t len, struct mls_tree **ret)
{
        _mls_cleanup_(mls_ratchet_tree_clear) struct mls_ratchet_tree rt = { 0 };

        if (!s || (!p && len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_ratchet_tree_from_bytes(p, len, &rt));
        return tree_take_rt(s, &rt, ret);
}

int
mls_tree_from_ratchet_tree(const struct mls_suite *s, const struct mls_ratchet_tree *rt,
                           struct mls_tree **ret)
{
        _mls_cleanup_(mls_bytes_clear) struct mls_bytes b = { 0 };

        if (!rt)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_ratchet_tree_to_bytes(rt, &b));
        return mls_tree_from_bytes(s, b.data, b.len, ret);
}

/* RFC 9420 section 12.4.3.3: optional<Node> ratchet_tree<V>; blank entries
 * after the last non-blank node are not written (R-12.4.3.3-2). */
int
mls_tree_encode(const struct mls_tree *t, struct mls_writer *w)
{
        uint32_t n = 2 * t->width - 1, last = n;
        size_t m;

        for (uint32_t x = n; x-- > 0;) {
                if (tree_slot(t, x)) {
                        last = x;
                        break;
                }
        }
        if (last == n)
                return MLS_E_INVALID_TREE; /* no non-blank node at all */
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (uint32_t x = 0; x <= last; x++) {
                const void *p = tree_slot(t, x);

                MLS_TRY(mls_writer_optional(w, p != NULL));
                if (!p)
                        continue;
                if (x & 1u) {
                        MLS_TRY(mls_writer_u8(w, MLS_NODE_PARENT));
                        MLS_TRY(mls_parent_node_encode(w, &((const struct tree_parent *)p)->pn));
                } else {
                        MLS_TRY(mls_writer_u8(w, MLS_NODE_LEAF));
                        MLS_TRY(mls_leaf_node_encode(w, p));
                }
        }
        return mls_writer_vec_end(w, m);
}

int
mls_tree_to_bytes(const struct mls_tree *t, struct mls_bytes *ret)
{
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init(&w);
        MLS_TRY(mls_tree_encode(t, &w));
        return mls_writer_finish(&w, ret);
}

int
mls_tree_dup(const struct mls_tree *src, struct mls_tree **ret)
{
        _mls_tree_ struct mls_tree *t = NULL;
        uint32_t n = 2 * src->width - 1;

        MLS_TRY(tree_alloc(src->suite, src->width, &t));
        for (uint32_t x = 0; x < n; x++) {
                const void *p = tree_slot(src, x);

                if (!p)
                        continue;
                if (x & 1u) {
                        const struct tree_parent *sp = p;
                        _mls_cleanup_(tree_parent_freep) struct tree_parent *np = NULL;

                        MLS_TRY(tree_parent_new(&sp->pn.encryption_key, &sp->pn.parent_hash,
                                                &sp->pn.unmerged_leaves, &np));
                        MLS_TRY(tree_slot_set(t, x, (void **)&np));
                } else {
                        _mls_cleanup_(tree_leaf_freep) struct mls_leaf_node *nl = NULL;

                        MLS_TRY(tree_leaf_dup(p, &nl));
                        MLS_TRY(tree_slot_set(t, x, (void **)&nl));
                }
        }
        memcpy(t->hvalid, src->hvalid, n);
        memcpy(t->hash, src->hash, (size_t)n * src->nh);
        MLS_TRY(kt_headroom(t));
        *ret = MLS_TAKE(t);
        return 0;
}

/* ---- inspection ---- */

const struct mls_suite *
mls_tree_suite(const struct mls_tree *t)
{
        return t->suite;
}

uint32_t
mls_tree_width(const struct mls_tree *t)
{
        return t->width;
}

uint32_t
mls_tree_node_count(const struct mls_tree *t)
{
        return 2 * t->width - 1;
}

uint32_t
mls_tree_member_count(const struct mls_tree *t)
{
        return t->n_members;
}

const struct mls_leaf_node *
mls_tree_leaf(const struct mls_tree *t, uint32_t leaf)
{
        if (leaf >= t->width)
                return NULL;
        return t->leaf[leaf];
}

const struct mls_parent_node *
mls_tree_parent(const struct mls_tree *t, uint32_t x)
{
        if (!(x & 1u) || x >= 2 * t->width - 1 || !t->par[x >> 1])
                return NULL;
        return &t->par[x >> 1]->pn;
}

bool
mls_tree_node_is_blank(const struct mls_tree *t, uint32_t x)
{
        return x >= 2 * t->width - 1 || !tree_slot(t, x);
}

const struct mls_bytes *
mls_tree_node_encryption_key(const struct mls_tree *t, uint32_t x)
{
        if (x >= 2 * t->width - 1)
                return NULL;
        return ptr_enc_key(x, tree_slot(t, x));
}

int
mls_tree_find_leaf_by_signature_key(const struct mls_tree *t, const uint8_t *key, size_t len,
                                    uint32_t *ret_leaf)
{
        uint32_t i;

        if (!key && len)
                return MLS_E_INVALID_ARGUMENT;
        if (!kt_find(t, TREE_KT_SIG, key, len, &i))
                return MLS_E_NOT_FOUND;
        *ret_leaf = i;
        return 0;
}

int
mls_tree_find_node_by_encryption_key(const struct mls_tree *t, const uint8_t *key, size_t len,
                                     uint32_t *ret_node)
{
        uint32_t x;

        if (!key && len)
                return MLS_E_INVALID_ARGUMENT;
        if (!kt_find(t, TREE_KT_ENC, key, len, &x))
                return MLS_E_NOT_FOUND;
        *ret_node = x;
        return 0;
}

int
mls_tree_find_leaf_by_encryption_key(const struct mls_tree *t, const uint8_t *key, size_t len,
                                     uint32_t *ret_leaf)
{
        uint32_t x;

        MLS_TRY(mls_tree_find_node_by_encryption_key(t, key, len, &x));
        if (x & 1u)
                return MLS_E_NOT_FOUND;
        *ret_leaf = x >> 1;
        return 0;
}

uint64_t
mls_tree_hash_calls(const struct mls_tree *t)
{
        return t->n_hash;
}

/* ---- resolution and paths ---- */

bool
tree_leaf_in(const uint32_t *v, size_t n, uint32_t leaf)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (v[mid] == leaf)
                        return true;
                if (v[mid] < leaf)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

struct res_walk {
        const uint32_t *ex;
        size_t nex;
        struct mls_u32_list *out; /* NULL: count only */
        size_t out_cap;
        size_t n;
        size_t limit; /* stop once n exceeds it */
};

static int
res_emit(struct res_walk *rw, uint32_t x)
{
        if (rw->out) {
                if (rw->out->n == rw->out_cap) {
                        size_t ncap = rw->out_cap ? 2 * rw->out_cap : 16;
                        uint32_t *nv;

                        if (ncap > SIZE_MAX / sizeof(uint32_t))
                                return MLS_E_TOO_LARGE;
                        nv = realloc(rw->out->v, ncap * sizeof(uint32_t));
                        if (!nv)
                                return MLS_E_NOMEM;
                        rw->out->v = nv;
                        rw->out_cap = ncap;
                }
                rw->out->v[rw->out->n++] = x;
        }
        rw->n++;
        return 0;
}

/*
 * RFC 9420 section 4.1.1 (R-4.1.1-2): "The resolution of a non-blank node
 * comprises the node itself, followed by its list of unmerged leaves, if
 * any. The resolution of a blank leaf node is the empty list. The
 * resolution of a blank intermediate node is the result of concatenating
 * the resolution of its left child with the resolution of its right child,
 * in that order." Subtrees without any non-blank node are skipped in O(1).
 * Leaves in rw->ex are left out (new members of this Commit, R-7.6-2).
 */
static int
res_walk_node(const struct mls_tree *t, uint32_t x, struct res_walk *rw)
{
        const void *p = tree_slot(t, x);

        if (rw->n > rw->limit)
                return 0;
        if (p) {
                if (!(x & 1u)) {
                        if (!tree_leaf_in(rw->ex, rw->nex, x >> 1))
                                MLS_TRY(res_emit(rw, x));
                        return 0;
                }
                MLS_TRY(res_emit(rw, x));
                const struct mls_u32_list *u = &((const struct tree_parent *)p)->pn.unmerged_leaves;

                for (size_t i = 0; i < u->n && rw->n <= rw->limit; i++)
                        if (!tree_leaf_in(rw->ex, rw->nex, u->v[i]))
                                MLS_TRY(res_emit(rw, 2 * u->v[i]));
                return 0;
        }
        if (!(x & 1u) || t->cnt_node[x >> 1] == 0)
                return 0;
        MLS_TRY(res_walk_node(t, tree_left(x), rw));
        return res_walk_node(t, tree_right(x), rw);
}

int
tree_resolution_limited(const struct mls_tree *t, uint32_t x, const uint32_t *ex, size_t nex,
                        size_t limit, struct mls_u32_list *ret, size_t *ret_n)
{
        struct mls_u32_list l = { 0 };
        struct res_walk rw = { .ex = ex, .nex = nex, .out = ret ? &l : NULL, .limit = limit };
        int r;

        if (x >= 2 * t->width - 1)
                return MLS_E_TREE_INDEX;
        if (!ex && nex)
                return MLS_E_INVALID_ARGUMENT;
        r = res_walk_node(t, x, &rw);
        if (r < 0) {
                free(l.v);
                return r;
        }
        if (ret)
                *ret = l;
        *ret_n = rw.n;
        return 0;
}

int
mls_tree_resolution(const struct mls_tree *t, uint32_t x, const uint32_t *exclude,
                    size_t n_exclude, struct mls_u32_list *ret)
{
        size_t n;

        return tree_resolution_limited(t, x, exclude, n_exclude, SIZE_MAX - 1, ret, &n);
}

int
mls_tree_resolution_size(const struct mls_tree *t, uint32_t x, const uint32_t *exclude,
                         size_t n_exclude, size_t *ret_n)
{
        return tree_resolution_limited(t, x, exclude, n_exclude, SIZE_MAX - 1, NULL, ret_n);
}

void
mls_tree_list_clear(struct mls_u32_list *l)
{
        if (!l)
                return;
        free(l->v);
        *l = (struct mls_u32_list){ 0 };
}

/*
 * RFC 9420 section 4.1.2 (R-4.1.2-2): "The filtered direct path of a leaf
 * node L is the node's direct path, with any node removed whose child on
 * the copath of L has an empty resolution (keeping in mind that any
 * unmerged leaves of the copath child count toward its resolution)." A
 * resolution is empty exactly when its subtree has no non-blank node.
 */
/* The direct path and copath themselves are mls/treemath's (R-4.1.2-1). */
int
mls_tree_filtered_direct_path(const struct mls_tree *t, uint32_t leaf,
                              uint32_t ret_nodes[MLS_TM_MAX_DEPTH],
                              uint32_t ret_copath[MLS_TM_MAX_DEPTH], size_t *ret_len)
{
        uint32_t x, root = t->width - 1;
        size_t n = 0;

        if (leaf >= t->width)
                return MLS_E_TREE_INDEX;
        for (x = 2 * leaf; x != root;) {
                uint32_t p = tree_up(x), s = (x < p) ? tree_right(p) : tree_left(p);

                if (tree_sub_nodes(t, s) > 0) {
                        ret_nodes[n] = p;
                        ret_copath[n] = s;
                        n++;
                }
                x = p;
        }
        *ret_len = n;
        return 0;
}

static bool
leftmost_blank(const struct mls_tree *t, uint32_t *ret)
{
        uint32_t x = t->width - 1;

        if (tree_sub_leaves(t, x) == t->width)
                return false;
        while (x & 1u) {
                uint32_t l = tree_left(x);

                if (tree_sub_leaves(t, l) < (UINT32_C(1) << mls_tm_level(l)))
                        x = l;
                else
                        x = tree_right(x);
        }
        *ret = x >> 1;
        return true;
}

int
mls_tree_leftmost_blank_leaf(const struct mls_tree *t, uint32_t *ret_leaf)
{
        if (!leftmost_blank(t, ret_leaf))
                return MLS_E_NOT_FOUND;
        return 0;
}

/* ---- extend / truncate (section 7.7) ---- */

/* R-7.7-1: "a new blank root node is added, whose left subtree is the
 * existing tree and right subtree is a new all-blank subtree." */
static int
tree_extend(struct mls_tree *t)
{
        uint32_t w = t->width, r;

        if (w >= TREE_MAX_LEAVES)
                return MLS_E_TOO_LARGE;
        MLS_TRY(ensure_cap(t, 2 * w));
        MLS_TRY(tree_j_reserve(t, 2, t->nh));
        r = 2 * w - 1;
        /* Slots beyond the width are blank; the new right half's counters
         * are zero and its cached hashes (if any) are blank-subtree hashes.
         * Only the new root needs its counters set and its hash dropped. */
        t->cnt_leaf[r >> 1] = tree_sub_leaves(t, w - 1);
        t->cnt_node[r >> 1] = tree_sub_nodes(t, w - 1);
        if (t->hvalid[r]) {
                if (t->in_tx) {
                        memcpy(t->arena + t->an, t->hash + (size_t)r * t->nh, t->nh);
                        tree_j_push(t, TREE_J_HINV, r, t->an, NULL);
                        t->an += t->nh;
                }
                t->hvalid[r] = 0;
        }
        if (t->in_tx)
                tree_j_push(t, TREE_J_WIDTH, 0, w, NULL);
        t->width = 2 * w;
        return 0;
}

/* R-7.7-2: "When the right subtree of the tree no longer has any non-blank
 * nodes, it can be safely removed. The root of the tree and the right
 * subtree are discarded (whether or not the root node is blank)." */
static int
tree_truncate(struct mls_tree *t)
{
        while (t->width > 1) {
                uint32_t r = t->width - 1;
                void *blank = NULL;

                if (tree_sub_nodes(t, tree_right(r)) != 0)
                        break;
                MLS_TRY(tree_slot_set(t, r, &blank));
                MLS_TRY(tree_j_reserve(t, 1, 0));
                if (t->in_tx)
                        tree_j_push(t, TREE_J_WIDTH, 0, t->width, NULL);
                t->width /= 2;
        }
        return 0;
}

static int
blank_direct_path(struct mls_tree *t, uint32_t x)
{
        uint32_t root = t->width - 1;

        while (x != root) {
                void *blank = NULL;

                x = tree_up(x);
                MLS_TRY(tree_slot_set(t, x, &blank));
        }
        return 0;
}

/* ---- modifications (section 12.1) ---- */

/*
 * RFC 9420 section 12.1.1: "Identify the leaf L for the new member: if there
 * are empty leaves in the tree, L is the leftmost empty leaf. Otherwise,
 * the tree is extended to the right ... For each non-blank intermediate
 * node along the path from the leaf L to the root, add L's leaf index to
 * the unmerged_leaves list for the node. Set the leaf node L to a new node
 * containing the LeafNode object carried in the leaf_node field of the
 * KeyPackage in the Add."
 */
int
mls_tree_add(struct mls_tree *t, const struct mls_leaf_node *ln, uint32_t *ret_leaf)
{
        _mls_cleanup_(tree_leaf_freep) struct mls_leaf_node *l = NULL;
        _mls_cleanup_(tree_op_end) struct tree_op o = { 0 };
        uint32_t li, x, root;

        if (!t || !ln)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(tree_leaf_dup(ln, &l));
        tree_op_begin(t, &o);
        if (!leftmost_blank(t, &li)) {
                li = t->width;
                MLS_TRY(tree_extend(t));
        }
        root = t->width - 1;
        for (x = 2 * li; x != root;) {
                x = tree_up(x);
                /* R-12.1.1-3: L into every non-blank parent's unmerged_leaves. */
                if (t->par[x >> 1])
                        MLS_TRY(unmerged_insert(t, x, li));
        }
        /* R-12.1.1-4: the new leaf holds the KeyPackage's leaf_node. */
        MLS_TRY(tree_slot_set(t, 2 * li, (void **)&l));
        tree_op_done(&o);
        *ret_leaf = li;
        return 0;
}

/* RFC 9420 section 12.1.2: "Replace the sender's LeafNode with the one
 * contained in the Update proposal. Blank the intermediate nodes along the
 * path from the sender's leaf to the root." */
int
mls_tree_update(struct mls_tree *t, uint32_t leaf, const struct mls_leaf_node *ln)
{
        _mls_cleanup_(tree_leaf_freep) struct mls_leaf_node *l = NULL;
        _mls_cleanup_(tree_op_end) struct tree_op o = { 0 };

        if (!t || !ln)
                return MLS_E_INVALID_ARGUMENT;
        if (leaf >= t->width)
                return MLS_E_TREE_INDEX;
        if (!t->leaf[leaf])
                return MLS_E_BLANK_LEAF;
        /* R-7.3-14: a new encryption key. */
        if (mls_bytes_eq(&t->leaf[leaf]->encryption_key, &ln->encryption_key))
                return MLS_E_DUPLICATE_KEY;
        MLS_TRY(tree_leaf_dup(ln, &l));
        tree_op_begin(t, &o);
        MLS_TRY(blank_direct_path(t, 2 * leaf));
        MLS_TRY(tree_slot_set(t, 2 * leaf, (void **)&l));
        tree_op_done(&o);
        return 0;
}

/* RFC 9420 section 12.1.3: "Replace the leaf node L with a blank node. Blank
 * the intermediate nodes along the path from L to the root. Truncate the
 * tree by removing the right subtree until there is at least one non-blank
 * leaf node in the right subtree." */
int
mls_tree_remove(struct mls_tree *t, uint32_t leaf)
{
        _mls_cleanup_(tree_op_end) struct tree_op o = { 0 };
        void *blank = NULL;

        if (!t)
                return MLS_E_INVALID_ARGUMENT;
        if (leaf >= t->width)
                return MLS_E_TREE_INDEX;
        if (!t->leaf[leaf])
                return MLS_E_BLANK_LEAF;
        tree_op_begin(t, &o);
        MLS_TRY(tree_slot_set(t, 2 * leaf, &blank));
        MLS_TRY(blank_direct_path(t, 2 * leaf));
        MLS_TRY(tree_truncate(t));
        tree_op_done(&o);
        return 0;
}

/*
 * RFC 9420 section 7.5, merging an UpdatePath (R-7.4-1, R-7.5-5): "Blank
 * all nodes on the direct path of the sender's leaf. For all nodes on the
 * filtered direct path of the sender's leaf, set the public key to the
 * public key in the UpdatePath [and] set the list of unmerged leaves to the
 * empty list."
 */
int
mls_tree_merge_path(struct mls_tree *t, uint32_t leaf, const struct mls_leaf_node *ln,
                    const uint32_t *nodes, const struct mls_bytes *keys,
                    const struct mls_bytes *phs, size_t n)
{
        _mls_cleanup_(tree_leaf_freep) struct mls_leaf_node *l = NULL;
        _mls_cleanup_(tree_op_end) struct tree_op o = { 0 };
        uint32_t fdp[MLS_TM_MAX_DEPTH], cop[MLS_TM_MAX_DEPTH];
        size_t nf;

        if (!t || !ln || (n && (!nodes || !keys || !phs)))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_tree_filtered_direct_path(t, leaf, fdp, cop, &nf));
        if (nf != n)
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < n; i++)
                if (nodes[i] != fdp[i])
                        return MLS_E_INVALID_ARGUMENT;
        /* R-12.4.2-11: the committer's leaf gets a new encryption key. */
        if (t->leaf[leaf] && mls_bytes_eq(&t->leaf[leaf]->encryption_key, &ln->encryption_key))
                return MLS_E_DUPLICATE_KEY;
        MLS_TRY(tree_leaf_dup(ln, &l));
        tree_op_begin(t, &o);
        MLS_TRY(blank_direct_path(t, 2 * leaf));
        MLS_TRY(tree_slot_set(t, 2 * leaf, (void **)&l));
        for (size_t i = 0; i < n; i++) {
                _mls_cleanup_(tree_parent_freep) struct tree_parent *p = NULL;

                MLS_TRY(tree_parent_new(&keys[i], &phs[i], NULL, &p));
                /* R-12.4.2-12: no key of the path is already in the tree. */
                MLS_TRY(tree_slot_set(t, nodes[i], (void **)&p));
        }
        tree_op_done(&o);
        return 0;
}
