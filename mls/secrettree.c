/* SPDX-License-Identifier: Apache-2.0 */
/* The secret tree and hash ratchets (RFC 9420 sections 9, 9.1, 9.2) and
 * sender-data keys (section 6.3.2). See mls/secrettree.h for the contract. */
#include "mls/secrettree.h"

#include <string.h>
#include <sodium.h>

#include "mls/labeled.h"
#include "mls/treemath.h"

#define ST_STATE_VERSION 1
#define ST_NONE UINT32_MAX
/* Generations are uint32 on the wire; `next` reaching 2^32 means the
 * ratchet is exhausted. */
#define ST_GEN_END ((uint64_t)UINT32_MAX + 1)

/* ------------------------------------------------------------------ */
/* Slab: fixed-size slots in one guarded allocation. Slots are named by
 * index, never by pointer, because growing moves the slab. */

struct st_slab {
        struct mls_gpool *pool;
        size_t mem_cap;
        uint8_t *mem;          /* sodium_malloc(cap * slot_len), or NULL */
        size_t slot_len;
        uint32_t cap;
        uint32_t *free_stack;  /* indices of free slots (ordinary memory) */
        uint32_t n_free;
};

static void
slab_clear(struct st_slab *sl)
{
        struct mls_gpool *pool = sl->pool;

        if (sl->mem)
                mls_gpool_release(sl->pool, sl->mem, sl->mem_cap); /* wipes */
        free(sl->free_stack);
        *sl = (struct st_slab){ .pool = pool };
}

/* Makes sure at least `need` slots are free. Growing allocates a new slab,
 * copies, and frees (wiping) the old one: secrets are never realloc'd. */
/* The slots of a slab's first block. */
#define SLAB_FIRST_CAP 16

/* One slot holds a node or ratchet secret (Nh) or a kept key||nonce. */
static size_t
slot_len_of(const struct mls_suite *s)
{
        size_t kn = s->aead_key_len + s->aead_nonce_len;

        return s->hash_len > kn ? s->hash_len : kn;
}

static int
slab_reserve(struct st_slab *sl, size_t need)
{
        uint64_t new_cap;
        size_t bytes;
        uint8_t *mem;
        uint32_t *stack;

        if (sl->n_free >= need)
                return 0;
        new_cap = sl->cap ? (uint64_t)sl->cap * 2 : SLAB_FIRST_CAP;
        while (new_cap - sl->cap + sl->n_free < need)
                new_cap *= 2;
        if (new_cap >= UINT32_MAX)
                return MLS_E_TOO_LARGE;
        MLS_TRY(mls_size_mul((size_t)new_cap, sl->slot_len, &bytes));
        stack = realloc(sl->free_stack, (size_t)new_cap * sizeof(*stack));
        if (!stack)
                return MLS_E_NOMEM;
        sl->free_stack = stack;
        {
                size_t cap;

                mem = mls_gpool_alloc(sl->pool, bytes, &cap);
                if (!mem)
                        return MLS_E_NOMEM;
                sodium_memzero(mem, bytes);
                if (sl->mem) {
                        memcpy(mem, sl->mem, (size_t)sl->cap * sl->slot_len);
                        mls_gpool_release(sl->pool, sl->mem, sl->mem_cap);
                }
                sl->mem_cap = cap;
        }
        sl->mem = mem;
        /* Push the new slots so that the lowest index comes out first. */
        for (uint64_t i = new_cap; i > sl->cap; i--)
                sl->free_stack[sl->n_free++] = (uint32_t)(i - 1);
        sl->cap = (uint32_t)new_cap;
        return 0;
}

/* Only after slab_reserve: cannot fail. */
static uint32_t
slab_take(struct st_slab *sl)
{
        return sl->free_stack[--sl->n_free];
}

static uint8_t *
slab_at(const struct st_slab *sl, uint32_t slot)
{
        return sl->mem + (size_t)slot * sl->slot_len;
}

static void
slab_release(struct st_slab *sl, uint32_t slot)
{
        /* R-9.2-1: a deleted value is wiped, not just forgotten. */
        sodium_memzero(slab_at(sl, slot), sl->slot_len);
        sl->free_stack[sl->n_free++] = slot;
}

/* ------------------------------------------------------------------ */
/* u32 -> u32 map: open addressing, linear probing, backward-shift
 * deletion. Keys are public indices; ST_NONE marks an empty bucket. */

struct u32map {
        uint32_t *keys;
        uint32_t *vals;
        uint32_t cap;   /* power of two, or 0 */
        uint32_t n;
        unsigned shift; /* 32 - log2(cap) */
};

static void
map_clear(struct u32map *m)
{
        free(m->keys);
        free(m->vals);
        *m = (struct u32map){ 0 };
}

static uint32_t
map_home(const struct u32map *m, uint32_t key)
{
        /* Fibonacci hashing: the top bits of key * 2^32/phi. */
        return (uint32_t)((key * 0x9E3779B1u) >> m->shift);
}

static bool
map_find(const struct u32map *m, uint32_t key, uint32_t *ret_pos)
{
        uint32_t mask, i;

        if (m->cap == 0)
                return false;
        mask = m->cap - 1;
        for (i = map_home(m, key);; i = (i + 1) & mask) {
                if (m->keys[i] == key) {
                        *ret_pos = i;
                        return true;
                }
                if (m->keys[i] == ST_NONE)
                        return false;
        }
}

static bool
map_get(const struct u32map *m, uint32_t key, uint32_t *ret_val)
{
        uint32_t pos;

        if (!map_find(m, key, &pos))
                return false;
        *ret_val = m->vals[pos];
        return true;
}

static void
map_insert_nogrow(struct u32map *m, uint32_t key, uint32_t val)
{
        uint32_t mask = m->cap - 1, i;

        for (i = map_home(m, key); m->keys[i] != ST_NONE && m->keys[i] != key; i = (i + 1) & mask)
                ;
        if (m->keys[i] == ST_NONE)
                m->n++;
        m->keys[i] = key;
        m->vals[i] = val;
}

/* Makes room for `extra` more keys at a load factor of at most 1/2. */
static int
map_reserve(struct u32map *m, uint32_t extra)
{
        struct u32map nm = { 0 };
        uint64_t need = ((uint64_t)m->n + extra) * 2, cap = 16;
        unsigned bits = 4;

        if (need <= m->cap)
                return 0;
        while (cap < need) {
                cap *= 2;
                bits++;
        }
        if (cap > ((uint64_t)1 << 31))
                return MLS_E_TOO_LARGE;
        nm.keys = malloc((size_t)cap * sizeof(uint32_t));
        nm.vals = malloc((size_t)cap * sizeof(uint32_t));
        if (!nm.keys || !nm.vals) {
                map_clear(&nm);
                return MLS_E_NOMEM;
        }
        memset(nm.keys, 0xff, (size_t)cap * sizeof(uint32_t));
        nm.cap = (uint32_t)cap;
        nm.shift = 32 - bits;
        for (uint32_t i = 0; i < m->cap; i++)
                if (m->keys[i] != ST_NONE)
                        map_insert_nogrow(&nm, m->keys[i], m->vals[i]);
        map_clear(m);
        *m = nm;
        return 0;
}

static void
map_del(struct u32map *m, uint32_t key)
{
        uint32_t mask, i, j;

        if (!map_find(m, key, &i))
                return;
        mask = m->cap - 1;
        /* Backward shift: move later entries of the probe run into the hole
         * unless their home lies cyclically in (i, j]. */
        for (j = (i + 1) & mask; m->keys[j] != ST_NONE; j = (j + 1) & mask) {
                uint32_t h = map_home(m, m->keys[j]);
                bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);

                if (stays)
                        continue;
                m->keys[i] = m->keys[j];
                m->vals[i] = m->vals[j];
                i = j;
        }
        m->keys[i] = ST_NONE;
        m->n--;
}

/* ------------------------------------------------------------------ */
/* The tree. */

struct st_kept {
        uint32_t gen;
        uint32_t slot;   /* key || nonce */
};

struct st_ratchet {
        uint64_t next;   /* generation of the held ratchet secret */
        uint64_t low;    /* generations below this are gone */
        uint32_t secret; /* slot of ratchet_secret_[next] (ST_NONE if exhausted) */
        uint32_t n_kept;
        uint32_t cap_kept;
        struct st_kept *kept; /* ascending gen, low <= gen < next */
};

struct st_leaf {
        uint32_t leaf;
        struct st_ratchet r[2];
};

struct mls_secret_tree {
        const struct mls_suite *suite;
        size_t nh, nk, nn;
        uint32_t n_leaves;
        uint32_t root;
        uint32_t max_past;
        uint32_t max_forward;
        struct st_slab slab;
        struct u32map nodes;      /* node index -> slot of its secret */
        struct u32map leaf_pos;   /* leaf index -> position in leaves[] */
        struct st_leaf *leaves;
        uint32_t n_active;
        uint32_t cap_active;
        uint64_t node_derivations;
        uint64_t ratchet_steps;
        size_t kept_total;
};

void
mls_key_nonce_clear(struct mls_key_nonce *kn)
{
        if (!kn)
                return;
        mls_secret_free(kn->secret);
        *kn = (struct mls_key_nonce){ 0 };
}

void
mls_key_nonce_buf_clear(struct mls_key_nonce_buf *kn)
{
        if (!kn)
                return;
        sodium_memzero(kn, sizeof(*kn));
}

static int
key_nonce_new(size_t nk, size_t nn, struct mls_key_nonce *ret_kn)
{
        struct mls_secret *s;

        MLS_TRY(mls_secret_new(nk + nn, &s));
        *ret_kn = (struct mls_key_nonce){
                .secret = s,
                .key = s->data,
                .key_len = nk,
                .nonce = s->data + nk,
                .nonce_len = nn,
        };
        return 0;
}

/* Where a handed-out key and nonce go: the guarded buffer of a struct
 * mls_key_nonce, the arrays of a caller's struct mls_key_nonce_buf, or a
 * kept-key slot of the slab. */
struct kn_sink {
        uint8_t *key;
        uint8_t *nonce;
};

void
mls_st_free(struct mls_secret_tree *t)
{
        if (!t)
                return;
        for (uint32_t i = 0; i < t->n_active; i++)
                for (unsigned k = 0; k < 2; k++)
                        free(t->leaves[i].r[k].kept);
        free(t->leaves);
        map_clear(&t->nodes);
        map_clear(&t->leaf_pos);
        slab_clear(&t->slab); /* wipes every secret */
        free(t);
}

void
mls_st_freep(struct mls_secret_tree **t)
{
        mls_st_free(*t);
        *t = NULL;
}

static bool
is_pow2(uint32_t n)
{
        return n != 0 && (n & (n - 1)) == 0;
}

/* An empty tree object (no secrets yet). */
static int
st_alloc(const struct mls_suite *s, uint32_t n_leaves, struct mls_secret_tree **ret_tree)
{
        _mls_st_ struct mls_secret_tree *t = NULL;

        /* R-4.1.1-1: ratchet trees, hence secret trees, have a power-of-two
         * number of leaves. */
        if (!s || !is_pow2(n_leaves) || n_leaves > MLS_TM_MAX_LEAVES)
                return MLS_E_INVALID_ARGUMENT;
        t = calloc(1, sizeof(*t));
        if (!t)
                return MLS_E_NOMEM;
        t->suite = s;
        t->nh = s->hash_len;
        t->nk = s->aead_key_len;
        t->nn = s->aead_nonce_len;
        t->n_leaves = n_leaves;
        MLS_TRY(mls_tm_root(n_leaves, &t->root));
        t->max_past = MLS_ST_DEFAULT_MAX_PAST;
        t->max_forward = MLS_ST_DEFAULT_MAX_FORWARD;
        t->slab.slot_len = slot_len_of(s);
        *ret_tree = MLS_TAKE(t);
        return 0;
}

/* Stores a node secret (reserve first). */
static int
st_put_node(struct mls_secret_tree *t, uint32_t node, const uint8_t *secret)
{
        uint32_t slot;

        MLS_TRY(slab_reserve(&t->slab, 1));
        MLS_TRY(map_reserve(&t->nodes, 1));
        slot = slab_take(&t->slab);
        memcpy(slab_at(&t->slab, slot), secret, t->nh);
        map_insert_nogrow(&t->nodes, node, slot);
        return 0;
}

static void
st_drop_node(struct mls_secret_tree *t, uint32_t node)
{
        uint32_t slot;

        if (!map_get(&t->nodes, node, &slot))
                return;
        slab_release(&t->slab, slot);
        map_del(&t->nodes, node);
}

int
mls_st_new(const struct mls_suite *s, const uint8_t *encryption_secret, size_t len,
           uint32_t n_leaves, struct mls_secret_tree **ret_tree)
{
        return mls_st_new_pool(s, encryption_secret, len, n_leaves, NULL, ret_tree);
}

int
mls_st_new_pool(const struct mls_suite *s, const uint8_t *encryption_secret, size_t len,
                uint32_t n_leaves, struct mls_gpool *pool, struct mls_secret_tree **ret_tree)
{
        _mls_st_ struct mls_secret_tree *t = NULL;

        if (!s || !encryption_secret || len != s->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(st_alloc(s, n_leaves, &t));
        t->slab.pool = pool;
        /* R-9-1: the root of the secret tree is encryption_secret. */
        MLS_TRY(st_put_node(t, t->root, encryption_secret));
        *ret_tree = MLS_TAKE(t);
        return 0;
}

/* Drops kept keys below `floor` and raises r->low to it. */
static void
st_ratchet_evict(struct mls_secret_tree *t, struct st_ratchet *r, uint64_t floor)
{
        uint32_t drop = 0;

        if (floor <= r->low)
                return;
        while (drop < r->n_kept && r->kept[drop].gen < floor)
                slab_release(&t->slab, r->kept[drop++].slot);
        if (drop > 0)
                memmove(r->kept, r->kept + drop, (r->n_kept - drop) * sizeof(*r->kept));
        r->n_kept -= drop;
        t->kept_total -= drop;
        r->low = floor;
}

int
mls_st_set_limits(struct mls_secret_tree *t, uint32_t max_past, uint32_t max_forward)
{
        if (!t)
                return MLS_E_INVALID_ARGUMENT;
        t->max_past = max_past;
        t->max_forward = max_forward;
        /* A smaller window applies at once: drop what fell out of it. */
        for (uint32_t i = 0; i < t->n_active; i++) {
                for (unsigned k = 0; k < 2; k++) {
                        struct st_ratchet *r = &t->leaves[i].r[k];
                        uint64_t newest;

                        if (r->next == 0)
                                continue;
                        newest = r->next - 1;
                        st_ratchet_evict(t, r, newest >= max_past ? newest - max_past : 0);
                }
        }
        return 0;
}

void
mls_st_get_limits(const struct mls_secret_tree *t, uint32_t *ret_max_past,
                  uint32_t *ret_max_forward)
{
        *ret_max_past = t->max_past;
        *ret_max_forward = t->max_forward;
}

uint32_t
mls_st_n_leaves(const struct mls_secret_tree *t)
{
        return t->n_leaves;
}

void
mls_st_stats(const struct mls_secret_tree *t, struct mls_st_stats *ret_stats)
{
        *ret_stats = (struct mls_st_stats){
                .node_derivations = t->node_derivations,
                .ratchet_steps = t->ratchet_steps,
                .node_secrets_held = t->nodes.n,
                .leaves_active = t->n_active,
                .kept_keys = t->kept_total,
                .slots_used = t->slab.cap - t->slab.n_free,
                .slots_total = t->slab.cap,
        };
}

/*
 * RFC 9420 section 9 (R-9-1): derives both children of `node` and deletes
 * the node. Atomic: on failure the tree is unchanged.
 *   tree_node_[left(N)]_secret  = ExpandWithLabel(., "tree", "left", KDF.Nh)
 *   tree_node_[right(N)]_secret = ExpandWithLabel(., "tree", "right", KDF.Nh)
 */
static int
st_split(struct mls_secret_tree *t, uint32_t node)
{
        uint32_t slot, left, right, sl, sr;
        int e;

        MLS_TRY(mls_tm_left(node, &left));
        MLS_TRY(mls_tm_right(node, &right));
        /* Reserve first (growing may move the slab), then derive both
         * children straight into their slots: no temporary copies. */
        MLS_TRY(slab_reserve(&t->slab, 2));
        MLS_TRY(map_reserve(&t->nodes, 2));
        if (!map_get(&t->nodes, node, &slot))
                return MLS_E_INTERNAL;
        sl = slab_take(&t->slab);
        sr = slab_take(&t->slab);
        e = mls_expand_with_label_into(t->suite, slab_at(&t->slab, slot), t->nh, "tree",
                                       (const uint8_t *)"left", 4, slab_at(&t->slab, sl), t->nh);
        if (e == 0)
                e = mls_expand_with_label_into(t->suite, slab_at(&t->slab, slot), t->nh, "tree",
                                               (const uint8_t *)"right", 5,
                                               slab_at(&t->slab, sr), t->nh);
        if (e < 0) {
                slab_release(&t->slab, sr);
                slab_release(&t->slab, sl);
                return e;
        }
        map_insert_nogrow(&t->nodes, left, sl);
        map_insert_nogrow(&t->nodes, right, sr);
        /* R-9.2-3: a parent whose children both exist is consumed. */
        st_drop_node(t, node);
        t->node_derivations += 2;
        return 0;
}

static int
st_leaf_find(const struct mls_secret_tree *t, uint32_t leaf, struct st_leaf **ret_le)
{
        uint32_t pos;

        if (!map_get(&t->leaf_pos, leaf, &pos))
                return MLS_E_NOT_FOUND;
        *ret_le = &t->leaves[pos];
        return 0;
}

/*
 * Creates the two ratchets of `leaf` (R-9-2):
 *   handshake_ratchet_secret_[N]_[0]   = ExpandWithLabel(leaf, "handshake", "", KDF.Nh)
 *   application_ratchet_secret_[N]_[0] = ExpandWithLabel(leaf, "application", "", KDF.Nh)
 * deriving only the part of the tree on the leaf's path: starting at the
 * lowest held ancestor, each step splits a node (both children) and walks
 * towards the leaf. The leaf secret itself is deleted once both ratchet
 * roots exist (R-9.2-3).
 */
static int
st_leaf_activate(struct mls_secret_tree *t, uint32_t leaf, struct st_leaf **ret_le)
{
        uint32_t x = mls_tm_leaf_to_node(leaf), path[MLS_TM_MAX_DEPTH], holder = ST_NONE, slot;
        uint32_t hs, app;
        size_t len = 0;
        struct st_leaf *le;
        int e;

        if (map_get(&t->nodes, x, &slot)) {
                holder = x;
        } else {
                MLS_TRY(mls_tm_direct_path(x, t->n_leaves, path, &len));
                for (size_t i = 0; i < len && holder == ST_NONE; i++)
                        if (map_get(&t->nodes, path[i], &slot))
                                holder = path[i];
        }
        if (holder == ST_NONE)
                return MLS_E_INTERNAL; /* every inactive leaf has a held ancestor */
        while (holder != x) {
                uint32_t left;

                MLS_TRY(st_split(t, holder));
                MLS_TRY(mls_tm_left(holder, &left));
                if (mls_tm_in_subtree(x, left))
                        holder = left;
                else
                        MLS_TRY(mls_tm_right(holder, &holder));
        }
        /* Reserve everything, then derive both ratchet roots straight into
         * their slots and commit without failure points. */
        MLS_TRY(slab_reserve(&t->slab, 2));
        MLS_TRY(map_reserve(&t->leaf_pos, 1));
        if (t->n_active == t->cap_active) {
                uint32_t ncap = t->cap_active ? t->cap_active * 2 : 8;
                struct st_leaf *nl;

                if (ncap < t->cap_active)
                        return MLS_E_TOO_LARGE;
                nl = realloc(t->leaves, (size_t)ncap * sizeof(*nl));
                if (!nl)
                        return MLS_E_NOMEM;
                t->leaves = nl;
                t->cap_active = ncap;
        }
        if (!map_get(&t->nodes, x, &slot))
                return MLS_E_INTERNAL;
        hs = slab_take(&t->slab);
        app = slab_take(&t->slab);
        e = mls_expand_with_label_into(t->suite, slab_at(&t->slab, slot), t->nh, "handshake",
                                       NULL, 0, slab_at(&t->slab, hs), t->nh);
        if (e == 0)
                e = mls_expand_with_label_into(t->suite, slab_at(&t->slab, slot), t->nh,
                                               "application", NULL, 0, slab_at(&t->slab, app),
                                               t->nh);
        if (e < 0) {
                slab_release(&t->slab, app);
                slab_release(&t->slab, hs);
                return e;
        }
        le = &t->leaves[t->n_active];
        *le = (struct st_leaf){ .leaf = leaf };
        le->r[MLS_RATCHET_HANDSHAKE].secret = hs;
        le->r[MLS_RATCHET_APPLICATION].secret = app;
        map_insert_nogrow(&t->leaf_pos, leaf, t->n_active);
        t->n_active++;
        st_drop_node(t, x);
        *ret_le = le;
        return 0;
}

static int
st_leaf_get(struct mls_secret_tree *t, uint32_t leaf, struct st_leaf **ret_le)
{
        if (leaf >= t->n_leaves)
                return MLS_E_TREE_INDEX;
        if (st_leaf_find(t, leaf, ret_le) == 0)
                return 0;
        return st_leaf_activate(t, leaf, ret_le);
}

/* key_[j] and nonce_[j] of ratchet secret r_j into the sink (Nk and Nn
 * bytes), wiped on failure. R-9.1-1:
 *   ratchet_nonce_[N]_[j] = DeriveTreeSecret(ratchet_secret_[N]_[j], "nonce", j, AEAD.Nn)
 *   ratchet_key_[N]_[j]   = DeriveTreeSecret(ratchet_secret_[N]_[j], "key", j, AEAD.Nk) */
static int
st_derive_key_nonce(const struct mls_secret_tree *t, const uint8_t *rs, uint32_t j,
                    const struct kn_sink *out)
{
        int e = mls_derive_tree_secret_into(t->suite, rs, t->nh, "key", j, out->key, t->nk);

        if (e == 0)
                e = mls_derive_tree_secret_into(t->suite, rs, t->nh, "nonce", j, out->nonce,
                                                t->nn);
        if (e < 0)
                sodium_memzero(out->key, t->nk);
        return e;
}

/* ratchet_secret_[N]_[j+1] = DeriveTreeSecret(ratchet_secret_[N]_[j], "secret", j, KDF.Nh),
 * in place: rs (Nh bytes) is overwritten with its successor through a wiped
 * stack temporary (HKDF must not read the key it is writing). */
static int
st_ratchet_step(const struct mls_secret_tree *t, uint8_t *rs, uint32_t j)
{
        _mls_hash_buf_ uint8_t nxt[MLS_MAX_HASH_LEN];

        MLS_TRY(mls_derive_tree_secret_into(t->suite, rs, t->nh, "secret", j, nxt, t->nh));
        memcpy(rs, nxt, t->nh);
        return 0;
}

/*
 * Moves ratchet r forward to generation g >= r->next and hands out key and
 * nonce of g into the sink. Generations skipped on the way keep their
 * key/nonce only if they fall inside the window; every ratchet secret up to
 * g is overwritten in place (R-9.2-4: deleted once consumed). Nothing here
 * allocates guarded memory except when the slab must grow to keep skipped
 * keys.
 *   ratchet_secret_[N]_[j+1] = DeriveTreeSecret(ratchet_secret_[N]_[j], "secret", j, KDF.Nh)
 */
static int
st_ratchet_advance(struct mls_secret_tree *t, struct st_ratchet *r, uint32_t g,
                   const struct kn_sink *out)
{
        uint64_t floor = g >= t->max_past ? (uint64_t)g - t->max_past : 0;
        uint64_t keep_from = floor > r->next ? floor : r->next;
        uint32_t to_keep = (uint32_t)((uint64_t)g - keep_from);

        if (r->secret == ST_NONE)
                return MLS_E_GENERATION_TOO_FAR;
        /* Reserve the kept-key storage up front. */
        if (to_keep > 0) {
                uint64_t need = (uint64_t)r->n_kept + to_keep;

                if (need > UINT32_MAX)
                        return MLS_E_TOO_LARGE;
                if (need > r->cap_kept) {
                        uint64_t ncap = (uint64_t)r->cap_kept * 2 > need ? (uint64_t)r->cap_kept * 2
                                                                         : need;
                        struct st_kept *nk;

                        if (ncap > UINT32_MAX)
                                ncap = need;
                        nk = realloc(r->kept, (size_t)ncap * sizeof(*nk));
                        if (!nk)
                                return MLS_E_NOMEM;
                        r->kept = nk;
                        r->cap_kept = (uint32_t)ncap;
                }
                MLS_TRY(slab_reserve(&t->slab, to_keep));
        }
        for (uint64_t j = r->next; j <= g; j++) {
                if (j == g) {
                        MLS_TRY(st_derive_key_nonce(t, slab_at(&t->slab, r->secret), (uint32_t)j,
                                                    out));
                } else if (j >= keep_from) {
                        uint32_t slot = slab_take(&t->slab);
                        uint8_t *kept = slab_at(&t->slab, slot);
                        const struct kn_sink sink = { kept, kept + t->nk };
                        int e = st_derive_key_nonce(t, slab_at(&t->slab, r->secret), (uint32_t)j,
                                                    &sink);

                        if (e < 0) {
                                slab_release(&t->slab, slot);
                                return e;
                        }
                        r->kept[r->n_kept++] = (struct st_kept){ .gen = (uint32_t)j, .slot = slot };
                        t->kept_total++;
                }
                if (j == UINT32_MAX) {
                        /* The last generation: no further ratchet secret. */
                        slab_release(&t->slab, r->secret);
                        r->secret = ST_NONE;
                } else {
                        int e = st_ratchet_step(t, slab_at(&t->slab, r->secret), (uint32_t)j);

                        if (e < 0) {
                                if (j == g) {
                                        sodium_memzero(out->key, t->nk);
                                        sodium_memzero(out->nonce, t->nn);
                                }
                                return e;
                        }
                        t->ratchet_steps++;
                }
                r->next = j + 1;
        }
        st_ratchet_evict(t, r, floor);
        return 0;
}

static int
st_ratchet_get(struct mls_secret_tree *t, struct st_ratchet *r, uint32_t g,
               const struct kn_sink *out)
{
        const uint8_t *kept;
        uint32_t i;

        if (g >= r->next) {
                /* Bounded forward jump: at most max_forward skipped
                 * generations are derived for one message. */
                if ((uint64_t)g - r->next > t->max_forward)
                        return MLS_E_GENERATION_TOO_FAR;
                return st_ratchet_advance(t, r, g, out);
        }
        if (g < r->low)
                return MLS_E_GENERATION_TOO_OLD;
        for (i = 0; i < r->n_kept && r->kept[i].gen != g; i++)
                ;
        /* R-9.2-5: a generation already handed out is gone: replay. */
        if (i == r->n_kept)
                return MLS_E_GENERATION_CONSUMED;
        kept = slab_at(&t->slab, r->kept[i].slot);
        memcpy(out->key, kept, t->nk);
        memcpy(out->nonce, kept + t->nk, t->nn);
        /* R-9.2-4: the kept key/nonce is deleted as it is handed out. */
        slab_release(&t->slab, r->kept[i].slot);
        memmove(r->kept + i, r->kept + i + 1, (r->n_kept - i - 1) * sizeof(*r->kept));
        r->n_kept--;
        t->kept_total--;
        return 0;
}

static bool
type_valid(enum mls_ratchet_type type)
{
        switch (type) {
        case MLS_RATCHET_HANDSHAKE:
        case MLS_RATCHET_APPLICATION:
                return true;
        }
        return false;
}

static int
st_get(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type, uint32_t generation,
       const struct kn_sink *out)
{
        struct st_leaf *le;

        if (!t || !type_valid(type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(st_leaf_get(t, leaf, &le));
        return st_ratchet_get(t, &le->r[type], generation, out);
}

/*
 * The ratchet secret a leaf would start with, derived on copies in wiped
 * stack buffers: from the lowest held ancestor down to the leaf (tree
 * nodes), then the ratchet root of `type` into rs_out (Nh bytes). Nothing
 * in the tree changes.
 */
static int
st_peek_ratchet_root(const struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
                     uint8_t *rs_out)
{
        _mls_hash_buf_ uint8_t cur[MLS_MAX_HASH_LEN];
        _mls_hash_buf_ uint8_t child[MLS_MAX_HASH_LEN];
        uint32_t x = mls_tm_leaf_to_node(leaf), path[MLS_TM_MAX_DEPTH], holder = ST_NONE, slot = 0;
        size_t len = 0;

        if (map_get(&t->nodes, x, &slot)) {
                holder = x;
        } else {
                MLS_TRY(mls_tm_direct_path(x, t->n_leaves, path, &len));
                for (size_t i = 0; i < len && holder == ST_NONE; i++)
                        if (map_get(&t->nodes, path[i], &slot))
                                holder = path[i];
        }
        if (holder == ST_NONE)
                return MLS_E_INTERNAL;
        memcpy(cur, slab_at(&t->slab, slot), t->nh);
        while (holder != x) {
                uint32_t left, right;
                bool go_left;

                MLS_TRY(mls_tm_left(holder, &left));
                MLS_TRY(mls_tm_right(holder, &right));
                go_left = mls_tm_in_subtree(x, left);
                MLS_TRY(mls_expand_with_label_into(t->suite, cur, t->nh, "tree",
                                                   (const uint8_t *)(go_left ? "left" : "right"),
                                                   go_left ? 4 : 5, child, t->nh));
                memcpy(cur, child, t->nh);
                holder = go_left ? left : right;
        }
        return mls_expand_with_label_into(t->suite, cur, t->nh,
                                          type == MLS_RATCHET_HANDSHAKE ? "handshake"
                                                                        : "application",
                                          NULL, 0, rs_out, t->nh);
}

/* A kept (skipped) generation, copied without being released. */
static int
st_peek_kept(const struct mls_secret_tree *t, const struct st_ratchet *r, uint32_t g,
             const struct kn_sink *out)
{
        const uint8_t *kept;
        uint32_t i;

        if (g < r->low)
                return MLS_E_GENERATION_TOO_OLD;
        for (i = 0; i < r->n_kept && r->kept[i].gen != g; i++)
                ;
        if (i == r->n_kept)
                return MLS_E_GENERATION_CONSUMED; /* R-9.2-5 */
        kept = slab_at(&t->slab, r->kept[i].slot);
        memcpy(out->key, kept, t->nk);
        memcpy(out->nonce, kept + t->nk, t->nn);
        return 0;
}

static int
st_peek(const struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
        uint32_t generation, const struct kn_sink *out)
{
        _mls_hash_buf_ uint8_t rs[MLS_MAX_HASH_LEN];
        struct st_leaf *le = NULL;
        uint64_t next = 0;

        if (!t || !type_valid(type))
                return MLS_E_INVALID_ARGUMENT;
        if (leaf >= t->n_leaves)
                return MLS_E_TREE_INDEX;
        if (st_leaf_find(t, leaf, &le) == 0) {
                const struct st_ratchet *r = &le->r[type];

                if (generation < r->next)
                        return st_peek_kept(t, r, generation, out);
                if (r->secret == ST_NONE)
                        return MLS_E_GENERATION_TOO_FAR;
                next = r->next;
                if ((uint64_t)generation - next > t->max_forward)
                        return MLS_E_GENERATION_TOO_FAR;
                memcpy(rs, slab_at(&t->slab, r->secret), t->nh);
        } else {
                if ((uint64_t)generation > t->max_forward)
                        return MLS_E_GENERATION_TOO_FAR;
                MLS_TRY(st_peek_ratchet_root(t, leaf, type, rs));
        }
        for (uint64_t j = next; j < generation; j++)
                MLS_TRY(st_ratchet_step(t, rs, (uint32_t)j));
        return st_derive_key_nonce(t, rs, generation, out);
}

static int
st_next(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
        const struct kn_sink *out, uint32_t *ret_gen)
{
        struct st_leaf *le;
        struct st_ratchet *r;
        uint32_t g;

        if (!t || !type_valid(type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(st_leaf_get(t, leaf, &le));
        r = &le->r[type];
        /* R-9.1-2: each generation protects one message only. */
        if (r->next >= ST_GEN_END)
                return MLS_E_GENERATION_TOO_FAR;
        g = (uint32_t)r->next;
        MLS_TRY(st_ratchet_advance(t, r, g, out));
        *ret_gen = g;
        return 0;
}

/* RFC 9420 section 6.3.2 (R-6.3.2-3):
 *   ciphertext_sample = ciphertext[0..KDF.Nh-1]
 *   sender_data_key   = ExpandWithLabel(sender_data_secret, "key", ciphertext_sample, AEAD.Nk)
 *   sender_data_nonce = ExpandWithLabel(sender_data_secret, "nonce", ciphertext_sample, AEAD.Nn)
 * "If the ciphertext is less than KDF.Nh bytes long, then the whole
 * ciphertext is used." */
static int
st_sender_data_key(const struct mls_suite *s, const uint8_t *sender_data_secret, size_t len,
                   const uint8_t *ciphertext, size_t ciphertext_len, const struct kn_sink *out)
{
        size_t sample;
        int e;

        if (!s || !sender_data_secret || len != s->hash_len || (ciphertext_len && !ciphertext))
                return MLS_E_INVALID_ARGUMENT;
        sample = ciphertext_len < s->hash_len ? ciphertext_len : s->hash_len;
        e = mls_expand_with_label_into(s, sender_data_secret, len, "key", ciphertext, sample,
                                       out->key, s->aead_key_len);
        if (e == 0)
                e = mls_expand_with_label_into(s, sender_data_secret, len, "nonce", ciphertext,
                                               sample, out->nonce, s->aead_nonce_len);
        if (e < 0)
                sodium_memzero(out->key, s->aead_key_len);
        return e;
}

/* ---- the two forms of every hand-out: a struct mls_key_nonce (one
 * guarded allocation, the caller's copy) or a caller's struct
 * mls_key_nonce_buf (none) ---- */

static struct kn_sink
sink_of(const struct mls_key_nonce *kn)
{
        return (struct kn_sink){ kn->secret->data, kn->nonce };
}

static struct kn_sink
sink_of_buf(struct mls_key_nonce_buf *b)
{
        return (struct kn_sink){ b->key, b->nonce };
}

/* Finishes a _into call: on success fills in the lengths and generation,
 * on failure wipes the buffer. */
static int
buf_finish(struct mls_key_nonce_buf *b, int e, size_t nk, size_t nn, uint32_t generation)
{
        if (e < 0) {
                mls_key_nonce_buf_clear(b);
                return e;
        }
        b->key_len = nk;
        b->nonce_len = nn;
        b->generation = generation;
        return 0;
}

int
mls_st_get(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
           uint32_t generation, struct mls_key_nonce *ret_kn)
{
        _mls_key_nonce_ struct mls_key_nonce out = { 0 };
        struct kn_sink sink;

        if (!t || !ret_kn || !type_valid(type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(key_nonce_new(t->nk, t->nn, &out));
        sink = sink_of(&out);
        MLS_TRY(st_get(t, leaf, type, generation, &sink));
        out.generation = generation;
        *ret_kn = out;
        out = (struct mls_key_nonce){ 0 };
        return 0;
}

int
mls_st_get_into(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
                uint32_t generation, struct mls_key_nonce_buf *out)
{
        struct kn_sink sink;

        if (!t || !out)
                return MLS_E_INVALID_ARGUMENT;
        sink = sink_of_buf(out);
        return buf_finish(out, st_get(t, leaf, type, generation, &sink), t->nk, t->nn,
                          generation);
}

int
mls_st_peek(const struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
            uint32_t generation, struct mls_key_nonce *ret_kn)
{
        _mls_key_nonce_ struct mls_key_nonce out = { 0 };
        struct kn_sink sink;

        if (!t || !ret_kn || !type_valid(type))
                return MLS_E_INVALID_ARGUMENT;
        if (leaf >= t->n_leaves)
                return MLS_E_TREE_INDEX;
        MLS_TRY(key_nonce_new(t->nk, t->nn, &out));
        sink = sink_of(&out);
        MLS_TRY(st_peek(t, leaf, type, generation, &sink));
        out.generation = generation;
        *ret_kn = out;
        out = (struct mls_key_nonce){ 0 };
        return 0;
}

int
mls_st_peek_into(const struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
                 uint32_t generation, struct mls_key_nonce_buf *out)
{
        struct kn_sink sink;

        if (!t || !out)
                return MLS_E_INVALID_ARGUMENT;
        sink = sink_of_buf(out);
        return buf_finish(out, st_peek(t, leaf, type, generation, &sink), t->nk, t->nn,
                          generation);
}

int
mls_st_next(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
            struct mls_key_nonce *ret_kn)
{
        _mls_key_nonce_ struct mls_key_nonce out = { 0 };
        struct kn_sink sink;
        uint32_t g = 0;

        if (!t || !ret_kn || !type_valid(type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(key_nonce_new(t->nk, t->nn, &out));
        sink = sink_of(&out);
        MLS_TRY(st_next(t, leaf, type, &sink, &g));
        out.generation = g;
        *ret_kn = out;
        out = (struct mls_key_nonce){ 0 };
        return 0;
}

int
mls_st_next_into(struct mls_secret_tree *t, uint32_t leaf, enum mls_ratchet_type type,
                 struct mls_key_nonce_buf *out)
{
        struct kn_sink sink;
        uint32_t g = 0;
        int e;

        if (!t || !out)
                return MLS_E_INVALID_ARGUMENT;
        sink = sink_of_buf(out);
        e = st_next(t, leaf, type, &sink, &g);
        return buf_finish(out, e, t->nk, t->nn, g);
}

int
mls_st_sender_data_key(const struct mls_suite *s, const uint8_t *sender_data_secret, size_t len,
                       const uint8_t *ciphertext, size_t ciphertext_len,
                       struct mls_key_nonce *ret_kn)
{
        _mls_key_nonce_ struct mls_key_nonce out = { 0 };
        struct kn_sink sink;

        if (!s || !sender_data_secret || len != s->hash_len || (ciphertext_len && !ciphertext) ||
            !ret_kn)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(key_nonce_new(s->aead_key_len, s->aead_nonce_len, &out));
        sink = sink_of(&out);
        MLS_TRY(st_sender_data_key(s, sender_data_secret, len, ciphertext, ciphertext_len,
                                   &sink));
        *ret_kn = out;
        out = (struct mls_key_nonce){ 0 };
        return 0;
}

int
mls_st_sender_data_key_into(const struct mls_suite *s, const uint8_t *sender_data_secret,
                            size_t len, const uint8_t *ciphertext, size_t ciphertext_len,
                            struct mls_key_nonce_buf *out)
{
        struct kn_sink sink;

        if (!s || !out)
                return MLS_E_INVALID_ARGUMENT;
        sink = sink_of_buf(out);
        return buf_finish(out,
                          st_sender_data_key(s, sender_data_secret, len, ciphertext,
                                             ciphertext_len, &sink),
                          s->aead_key_len, s->aead_nonce_len, 0);
}

/* ------------------------------------------------------------------ */
/* Saved state. */

static int
cmp_u32_pair(const void *a, const void *b)
{
        const uint32_t *x = a, *y = b;

        return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* A ratchet's record: next, low, the ratchet secret (nh bytes; NULL:
 * none, zeros) and the kept keys of generations >= low. */
static int
st_encode_ratchet_fields(const struct mls_secret_tree *t, const struct st_ratchet *r,
                         uint64_t next, uint64_t low, const uint8_t *secret,
                         struct mls_writer *w)
{
        static const uint8_t zero[MLS_MAX_HASH_LEN];
        size_t mark;

        MLS_TRY(mls_writer_u64(w, next));
        MLS_TRY(mls_writer_u64(w, low));
        MLS_TRY(mls_writer_raw(w, secret ? secret : zero, t->nh));
        MLS_TRY(mls_writer_vec_begin(w, &mark));
        for (uint32_t i = 0; i < r->n_kept; i++) {
                if (r->kept[i].gen < low)
                        continue;
                MLS_TRY(mls_writer_u32(w, r->kept[i].gen));
                MLS_TRY(mls_writer_raw(w, slab_at(&t->slab, r->kept[i].slot), t->nk + t->nn));
        }
        return mls_writer_vec_end(w, mark);
}

static int
st_encode_ratchet(const struct mls_secret_tree *t, const struct st_ratchet *r,
                  struct mls_writer *w)
{
        return st_encode_ratchet_fields(t, r, r->next, r->low,
                                        r->secret == ST_NONE ? NULL
                                                             : slab_at(&t->slab, r->secret),
                                        w);
}

/*
 * A sender's ratchet as it will stand `ahead` generations from now: the
 * generations next .. next+ahead-1 are reserved for messages sent from
 * memory, so the saved copy starts after them. The encoding is exactly the
 * one of the ratchet after handing out those generations (st_next up to
 * generation next+ahead-1: same secret, same low, same kept keys), computed
 * on a wiped stack copy of the secret: the saved state cannot derive the
 * keys of the reserved generations (forward secrecy at rest). An exhausted
 * ratchet stays so.
 */
static int
st_encode_ratchet_ahead(const struct mls_secret_tree *t, const struct st_ratchet *r,
                        uint32_t ahead, struct mls_writer *w)
{
        _mls_hash_buf_ uint8_t rs[MLS_MAX_HASH_LEN];
        uint64_t target, last, floor, low;

        if (ahead == 0 || r->secret == ST_NONE)
                return st_encode_ratchet(t, r, w);
        target = r->next + ahead;
        if (target > ST_GEN_END)
                target = ST_GEN_END;
        memcpy(rs, slab_at(&t->slab, r->secret), t->nh);
        for (uint64_t j = r->next; j < target; j++) {
                if (j == ST_GEN_END - 1) { /* the last generation: nothing follows */
                        sodium_memzero(rs, t->nh);
                        break;
                }
                MLS_TRY(st_ratchet_step(t, rs, (uint32_t)j));
        }
        /* As st_ratchet_advance + st_ratchet_evict for generation last. */
        last = target - 1;
        floor = last >= t->max_past ? last - t->max_past : 0;
        low = floor > r->low ? floor : r->low;
        return st_encode_ratchet_fields(t, r, target, low, rs, w);
}

int
mls_st_activate(struct mls_secret_tree *t, uint32_t leaf)
{
        struct st_leaf *le;

        if (!t)
                return MLS_E_INVALID_ARGUMENT;
        return st_leaf_get(t, leaf, &le);
}

int
mls_st_next_generation(const struct mls_secret_tree *t, uint32_t leaf,
                       enum mls_ratchet_type type, uint64_t *ret_next)
{
        struct st_leaf *le;

        if (!t || !type_valid(type) || !ret_next)
                return MLS_E_INVALID_ARGUMENT;
        if (leaf >= t->n_leaves)
                return MLS_E_TREE_INDEX;
        *ret_next = st_leaf_find(t, leaf, &le) == 0 ? le->r[type].next : 0;
        return 0;
}

int
mls_st_encode(const struct mls_secret_tree *t, struct mls_writer *w)
{
        return mls_st_encode_ahead(t, w, UINT32_MAX, 0);
}

int
mls_st_encode_ahead(const struct mls_secret_tree *t, struct mls_writer *w, uint32_t sender,
                    uint32_t ahead)
{
        _mls_free_ uint32_t *pairs = NULL;
        size_t mark, n = 0;
        struct st_leaf *le;

        if (!t || !w || !w->secure)
                return MLS_E_INVALID_ARGUMENT;
        /* The sender's ratchets must exist to be moved ahead. */
        if (ahead && st_leaf_find(t, sender, &le) < 0)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_u8(w, ST_STATE_VERSION));
        MLS_TRY(mls_writer_u16(w, t->suite->id));
        MLS_TRY(mls_writer_u32(w, t->n_leaves));
        MLS_TRY(mls_writer_u32(w, t->max_past));
        MLS_TRY(mls_writer_u32(w, t->max_forward));

        /* Node secrets, ascending by node index. */
        pairs = malloc(((size_t)t->nodes.n + t->n_active + 1) * 2 * sizeof(uint32_t));
        if (!pairs)
                return MLS_E_NOMEM;
        for (uint32_t i = 0; i < t->nodes.cap; i++) {
                if (t->nodes.keys[i] == ST_NONE)
                        continue;
                pairs[2 * n] = t->nodes.keys[i];
                pairs[2 * n + 1] = t->nodes.vals[i];
                n++;
        }
        qsort(pairs, n, 2 * sizeof(uint32_t), cmp_u32_pair);
        MLS_TRY(mls_writer_vec_begin(w, &mark));
        for (size_t i = 0; i < n; i++) {
                MLS_TRY(mls_writer_u32(w, pairs[2 * i]));
                MLS_TRY(mls_writer_raw(w, slab_at(&t->slab, pairs[2 * i + 1]), t->nh));
        }
        MLS_TRY(mls_writer_vec_end(w, mark));

        /* Leaves, ascending by leaf index. */
        for (uint32_t i = 0; i < t->n_active; i++) {
                pairs[2 * i] = t->leaves[i].leaf;
                pairs[2 * i + 1] = i;
        }
        qsort(pairs, t->n_active, 2 * sizeof(uint32_t), cmp_u32_pair);
        MLS_TRY(mls_writer_vec_begin(w, &mark));
        for (uint32_t i = 0; i < t->n_active; i++) {
                le = &t->leaves[pairs[2 * i + 1]];

                uint32_t a = le->leaf == sender ? ahead : 0;

                MLS_TRY(mls_writer_u32(w, le->leaf));
                MLS_TRY(st_encode_ratchet_ahead(t, &le->r[MLS_RATCHET_HANDSHAKE], a, w));
                MLS_TRY(st_encode_ratchet_ahead(t, &le->r[MLS_RATCHET_APPLICATION], a, w));
        }
        return mls_writer_vec_end(w, mark);
}

static int
st_decode_ratchet(struct mls_secret_tree *t, struct mls_reader *r, struct st_ratchet *ret_r)
{
        struct st_ratchet rt = { .secret = ST_NONE };
        struct mls_reader v;
        const uint8_t *p;
        int e = 0;

        MLS_TRY(mls_reader_u64(r, &rt.next));
        MLS_TRY(mls_reader_u64(r, &rt.low));
        if (rt.next > ST_GEN_END || rt.low > rt.next)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_raw(r, t->nh, &p));
        /* An exhausted ratchet has no secret: its slot is encoded as zeros
         * (canonical encoding, so that a state re-encodes identically). */
        if (rt.next == ST_GEN_END && !sodium_is_zero(p, t->nh))
                return MLS_E_BAD_STATE;
        if (rt.next < ST_GEN_END) {
                MLS_TRY(slab_reserve(&t->slab, 1));
                rt.secret = slab_take(&t->slab);
                memcpy(slab_at(&t->slab, rt.secret), p, t->nh);
        }
        *ret_r = rt; /* from here the tree owns what rt holds (freed with it) */
        e = mls_reader_vec(r, &v);
        while (e == 0 && !mls_reader_empty(&v)) {
                uint32_t gen;
                struct st_kept *nk;

                if ((e = mls_reader_u32(&v, &gen)) < 0 || (e = mls_reader_raw(&v, t->nk + t->nn, &p)) < 0)
                        break;
                if (gen < ret_r->low || gen >= ret_r->next ||
                    (ret_r->n_kept > 0 && gen <= ret_r->kept[ret_r->n_kept - 1].gen)) {
                        e = MLS_E_BAD_STATE;
                        break;
                }
                if (ret_r->n_kept == ret_r->cap_kept) {
                        uint32_t ncap = ret_r->cap_kept ? ret_r->cap_kept * 2 : 4;

                        nk = realloc(ret_r->kept, (size_t)ncap * sizeof(*nk));
                        if (!nk) {
                                e = MLS_E_NOMEM;
                                break;
                        }
                        ret_r->kept = nk;
                        ret_r->cap_kept = ncap;
                }
                if ((e = slab_reserve(&t->slab, 1)) < 0)
                        break;
                nk = &ret_r->kept[ret_r->n_kept++];
                nk->gen = gen;
                nk->slot = slab_take(&t->slab);
                memcpy(slab_at(&t->slab, nk->slot), p, t->nk + t->nn);
                t->kept_total++;
        }
        return e;
}

/* Checks that the held node secrets and the active leaves cover every leaf
 * exactly once: no held node lies under another held node or above an
 * active leaf, and together they span n_leaves leaves. */
static int
st_check_cover(const struct mls_secret_tree *t)
{
        uint64_t covered = t->n_active;

        for (uint32_t i = 0; i < t->nodes.cap; i++) {
                uint32_t x = t->nodes.keys[i], path[MLS_TM_MAX_DEPTH], first, end, dummy;
                size_t len;

                if (x == ST_NONE)
                        continue;
                if (mls_tm_is_leaf(x) && map_get(&t->leaf_pos, mls_tm_node_to_leaf(x), &dummy))
                        return MLS_E_BAD_STATE;
                if (mls_tm_direct_path(x, t->n_leaves, path, &len) < 0)
                        return MLS_E_BAD_STATE;
                for (size_t k = 0; k < len; k++)
                        if (map_get(&t->nodes, path[k], &dummy))
                                return MLS_E_BAD_STATE;
                mls_tm_leaf_span(x, &first, &end);
                covered += (uint64_t)end - first;
        }
        for (uint32_t i = 0; i < t->n_active; i++) {
                uint32_t path[MLS_TM_MAX_DEPTH], dummy;
                size_t len;

                if (mls_tm_direct_path(mls_tm_leaf_to_node(t->leaves[i].leaf), t->n_leaves, path,
                                       &len) < 0)
                        return MLS_E_BAD_STATE;
                for (size_t k = 0; k < len; k++)
                        if (map_get(&t->nodes, path[k], &dummy))
                                return MLS_E_BAD_STATE;
        }
        return covered == t->n_leaves ? 0 : MLS_E_BAD_STATE;
}

int
mls_st_decode(struct mls_reader *r, struct mls_secret_tree **ret_tree)
{
        _mls_st_ struct mls_secret_tree *t = NULL;
        struct mls_reader in = *r, v;
        const struct mls_suite *s;
        uint8_t version;
        uint16_t suite;
        uint32_t n_leaves, max_past, max_forward, width;
        int64_t prev;

        MLS_TRY(mls_reader_u8(&in, &version));
        if (version != ST_STATE_VERSION)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u16(&in, &suite));
        s = mls_suite_get(suite);
        if (!s)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_u32(&in, &n_leaves));
        MLS_TRY(mls_reader_u32(&in, &max_past));
        MLS_TRY(mls_reader_u32(&in, &max_forward));
        if (st_alloc(s, n_leaves, &t) < 0)
                return MLS_E_BAD_STATE;
        t->max_past = max_past;
        t->max_forward = max_forward;
        width = mls_tm_node_width(n_leaves);

        MLS_TRY(mls_reader_vec(&in, &v));
        for (prev = -1; !mls_reader_empty(&v);) {
                uint32_t node;
                const uint8_t *p;

                MLS_TRY(mls_reader_u32(&v, &node));
                MLS_TRY(mls_reader_raw(&v, t->nh, &p));
                if (node >= width || (int64_t)node <= prev)
                        return MLS_E_BAD_STATE;
                prev = node;
                MLS_TRY(st_put_node(t, node, p));
        }

        MLS_TRY(mls_reader_vec(&in, &v));
        for (prev = -1; !mls_reader_empty(&v);) {
                uint32_t leaf;
                struct st_leaf *le;

                MLS_TRY(mls_reader_u32(&v, &leaf));
                if (leaf >= n_leaves || (int64_t)leaf <= prev)
                        return MLS_E_BAD_STATE;
                prev = leaf;
                MLS_TRY(map_reserve(&t->leaf_pos, 1));
                if (t->n_active == t->cap_active) {
                        uint32_t ncap = t->cap_active ? t->cap_active * 2 : 8;
                        struct st_leaf *nl = realloc(t->leaves, (size_t)ncap * sizeof(*nl));

                        if (!nl)
                                return MLS_E_NOMEM;
                        t->leaves = nl;
                        t->cap_active = ncap;
                }
                le = &t->leaves[t->n_active];
                *le = (struct st_leaf){ .leaf = leaf };
                le->r[0].secret = le->r[1].secret = ST_NONE;
                /* Counted as active at once so that mls_st_free releases
                 * whatever a failing decode left in it. */
                map_insert_nogrow(&t->leaf_pos, leaf, t->n_active);
                t->n_active++;
                MLS_TRY(st_decode_ratchet(t, &v, &le->r[MLS_RATCHET_HANDSHAKE]));
                MLS_TRY(st_decode_ratchet(t, &v, &le->r[MLS_RATCHET_APPLICATION]));
        }
        MLS_TRY(st_check_cover(t));
        *r = in;
        *ret_tree = MLS_TAKE(t);
        return 0;
}

void
mls_st_set_pool(struct mls_secret_tree *t, struct mls_gpool *pool)
{
        if (t)
                t->slab.pool = pool;
}

int
mls_st_pool_reserve(struct mls_gpool *pool, const struct mls_suite *s)
{
        size_t cap;
        void *b;

        if (!pool || !s)
                return MLS_E_INVALID_ARGUMENT;
        b = mls_gpool_alloc(pool, SLAB_FIRST_CAP * slot_len_of(s), &cap);
        if (!b)
                return MLS_E_NOMEM;
        mls_gpool_release(pool, b, cap);
        return 0;
}
