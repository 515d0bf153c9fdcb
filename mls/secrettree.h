/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secret tree and its per-leaf hash ratchets (RFC 9420 sections 9, 9.1,
 * 9.2), and the sender-data key/nonce (section 6.3.2).
 *
 *   tree_node_[N]_secret
 *     +--> ExpandWithLabel(., "tree", "left",  KDF.Nh) = tree_node_[left(N)]_secret
 *     +--> ExpandWithLabel(., "tree", "right", KDF.Nh) = tree_node_[right(N)]_secret
 *   leaf secret
 *     +--> ExpandWithLabel(., "handshake",   "", KDF.Nh) = handshake_ratchet_secret_[0]
 *     +--> ExpandWithLabel(., "application", "", KDF.Nh) = application_ratchet_secret_[0]
 *   ratchet_secret_[j]
 *     +--> DeriveTreeSecret(., "nonce", j, AEAD.Nn) = nonce_[j]
 *     +--> DeriveTreeSecret(., "key",   j, AEAD.Nk) = key_[j]
 *     +--> DeriveTreeSecret(., "secret", j, KDF.Nh) = ratchet_secret_[j+1]
 *
 * The tree is lazy: the root holds encryption_secret, and a leaf's path is
 * derived the first time one of its keys is needed. Deriving a node's
 * children deletes the node (both children are derived at once); deriving
 * a leaf's two ratchet roots deletes the leaf secret (R-9.2-3). Memory and
 * work are proportional to the leaves actually used: one leaf of a
 * 2^14-leaf tree costs 2*14 node derivations and keeps the 14 copath
 * secrets.
 *
 * All secrets of a tree live in one guarded slab (sodium_malloc) of
 * fixed-size slots that grows by doubling (allocate, copy, free-with-wipe);
 * slots are wiped when released. Node and ratchet secrets are derived
 * straight into their slots, transient values into wiped stack buffers: the
 * only guarded allocations are the slab's growth and, for the forms that
 * return a struct mls_key_nonce, that hand-out itself. Bookkeeping (which node or generation is in
 * which slot) is ordinary memory: it holds no secret.
 *
 * Receiving (mls_st_get): generation g of leaf L's ratchet t.
 *   - g ahead of the ratchet: allowed up to max_forward_distance
 *     generations beyond the next expected one (MLS_E_GENERATION_TOO_FAR
 *     otherwise). The keys of the skipped generations that fall in the
 *     window are kept; the ratchet secrets in between are deleted.
 *   - g behind: served from the kept keys if g is within
 *     max_past_generations of the newest generation handed out;
 *     MLS_E_GENERATION_TOO_OLD if it is older than the window or was
 *     discarded, MLS_E_GENERATION_CONSUMED if it was already handed out
 *     (replay, R-9.2-5).
 * Every key/nonce is deleted from the tree when handed out (R-9.2-1,
 * R-9.2-4): the caller gets its own copy and must wipe it (mls_key_nonce_clear)
 * once used.
 *
 * Sending (mls_st_next): the next generation of one's own ratchet.
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_SECRETTREE_H
#define MLS_SECRETTREE_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/secret.h"

#define MLS_ST_DEFAULT_MAX_PAST 5
#define MLS_ST_DEFAULT_MAX_FORWARD 1000

enum mls_ratchet_type {
        MLS_RATCHET_HANDSHAKE = 0,
        MLS_RATCHET_APPLICATION = 1,
};

/* A key and nonce handed out to the caller: one guarded allocation holding
 * key || nonce, with views into it. The nonce is writable (the reuse guard
 * is XORed into it, RFC 9420 section 6.3.1). */
struct mls_key_nonce {
        struct mls_secret *secret; /* key_len + nonce_len bytes */
        const uint8_t *key;
        size_t key_len;
        uint8_t *nonce;
        size_t nonce_len;
        uint32_t generation;       /* 0 for sender-data keys */
};

/* Wipes and frees; leaves a zeroed struct. NULL or an empty struct is a
 * no-op. */
void mls_key_nonce_clear(struct mls_key_nonce *kn);
#define _mls_key_nonce_ _mls_cleanup_(mls_key_nonce_clear)

/*
 * A key and nonce handed out into caller memory: the _into variants below
 * fill this struct (normally a stack variable declared with
 * _mls_key_nonce_buf_, which wipes it on every return path) instead of
 * allocating guarded memory per message. key_len/nonce_len say how much of
 * the arrays is used. On failure the _into functions wipe the whole struct.
 * Keep it only for the one message it protects.
 */
struct mls_key_nonce_buf {
        uint8_t key[MLS_MAX_AEAD_KEY_LEN];
        uint8_t nonce[MLS_MAX_AEAD_NONCE_LEN];
        size_t key_len;
        size_t nonce_len;
        uint32_t generation;       /* 0 for sender-data keys */
};

/* Wipes the whole struct; NULL is a no-op. */
void mls_key_nonce_buf_clear(struct mls_key_nonce_buf *kn);
#define _mls_key_nonce_buf_ _mls_cleanup_(mls_key_nonce_buf_clear)

struct mls_secret_tree; /* opaque */

/* A tree of n_leaves (1 .. MLS_TM_MAX_LEAVES) leaves rooted at
 * encryption_secret (Nh bytes, copied: the caller deletes its copy,
 * R-9.2-2). Limits start at the defaults. */
MLS_MUST_CHECK int mls_st_new(const struct mls_suite *s, const uint8_t *encryption_secret,
                              size_t len, uint32_t n_leaves, struct mls_secret_tree **ret_tree);

/* Wipes every secret and frees; NULL is a no-op. */
void mls_st_free(struct mls_secret_tree *t);
void mls_st_freep(struct mls_secret_tree **t);
#define _mls_st_ _mls_cleanup_(mls_st_freep)

/* Sets the out-of-order window (kept generations behind the newest one) and
 * the forward bound. Lowering max_past discards kept keys that fall out of
 * the window at once. */
MLS_MUST_CHECK int mls_st_set_limits(struct mls_secret_tree *t, uint32_t max_past_generations,
                                     uint32_t max_forward_distance);
void mls_st_get_limits(const struct mls_secret_tree *t, uint32_t *ret_max_past,
                       uint32_t *ret_max_forward);

uint32_t mls_st_n_leaves(const struct mls_secret_tree *t);

/* Receiver: key and nonce of generation `generation` of leaf `leaf`'s
 * ratchet `type` (R-9.1-1; the caller XORs the reuse guard into its copy
 * of the nonce). MLS_E_TREE_INDEX for a leaf outside
 * the tree, MLS_E_GENERATION_TOO_OLD / _TOO_FAR / _CONSUMED as above. */
MLS_MUST_CHECK int mls_st_get(struct mls_secret_tree *t, uint32_t leaf,
                              enum mls_ratchet_type type, uint32_t generation,
                              struct mls_key_nonce *ret_kn);

/* Receiver, without changing the tree: the key and nonce that mls_st_get
 * would hand out for the same arguments, with the same errors, computed on
 * copies. The tree is not touched, so a message that then fails to decrypt
 * or to verify cannot consume a generation, advance a ratchet or evict kept
 * keys (a forged message cannot burn a legitimate one's key). Once the
 * message is authenticated, mls_st_get consumes the generation. */
MLS_MUST_CHECK int mls_st_peek(const struct mls_secret_tree *t, uint32_t leaf,
                               enum mls_ratchet_type type, uint32_t generation,
                               struct mls_key_nonce *ret_kn);

/* Sender: the next unused generation of the ratchet (R-9.1-2: each
 * generation is handed out once). MLS_E_GENERATION_TOO_FAR when the
 * ratchet is exhausted (generation 2^32 - 1 was used). */
MLS_MUST_CHECK int mls_st_next(struct mls_secret_tree *t, uint32_t leaf,
                               enum mls_ratchet_type type, struct mls_key_nonce *ret_kn);

/* RFC 9420 section 6.3.2 (R-6.3.2-3):
 *   ciphertext_sample = ciphertext[0..KDF.Nh-1]
 *   sender_data_key = ExpandWithLabel(sender_data_secret, "key",
 *                                     ciphertext_sample, AEAD.Nk)
 *   sender_data_nonce = ExpandWithLabel(sender_data_secret, "nonce",
 *                                       ciphertext_sample, AEAD.Nn)
 * using the whole ciphertext when it is shorter than KDF.Nh. */
MLS_MUST_CHECK int mls_st_sender_data_key(const struct mls_suite *s,
                                          const uint8_t *sender_data_secret, size_t len,
                                          const uint8_t *ciphertext, size_t ciphertext_len,
                                          struct mls_key_nonce *ret_kn);

/*
 * The same four writing into a caller's struct mls_key_nonce_buf: same
 * results, same errors, same effect on the tree, but no guarded allocation
 * for the hand-out (the tree's slab may still grow, one allocation, when a
 * leaf is first used or skipped keys must be kept). On failure *out is
 * wiped.
 */
MLS_MUST_CHECK int mls_st_get_into(struct mls_secret_tree *t, uint32_t leaf,
                                   enum mls_ratchet_type type, uint32_t generation,
                                   struct mls_key_nonce_buf *out);
MLS_MUST_CHECK int mls_st_peek_into(const struct mls_secret_tree *t, uint32_t leaf,
                                    enum mls_ratchet_type type, uint32_t generation,
                                    struct mls_key_nonce_buf *out);
MLS_MUST_CHECK int mls_st_next_into(struct mls_secret_tree *t, uint32_t leaf,
                                    enum mls_ratchet_type type, struct mls_key_nonce_buf *out);
MLS_MUST_CHECK int mls_st_sender_data_key_into(const struct mls_suite *s,
                                               const uint8_t *sender_data_secret, size_t len,
                                               const uint8_t *ciphertext,
                                               size_t ciphertext_len,
                                               struct mls_key_nonce_buf *out);

/* Counters for tests and benchmarks. */
struct mls_st_stats {
        uint64_t node_derivations;   /* ExpandWithLabel "tree" calls so far */
        uint64_t ratchet_steps;      /* "secret" derivations so far */
        size_t node_secrets_held;    /* tree node secrets currently stored */
        size_t leaves_active;        /* leaves whose ratchets exist */
        size_t kept_keys;            /* skipped-generation keys currently kept */
        size_t slots_used;           /* slab slots in use */
        size_t slots_total;          /* slab capacity in slots */
};
void mls_st_stats(const struct mls_secret_tree *t, struct mls_st_stats *ret_stats);

/*
 * Saved state. mls_st_encode appends to w, which must be a secure writer
 * (MLS_E_INVALID_ARGUMENT otherwise):
 *   u8 version (1) || u16 cipher_suite || u32 n_leaves ||
 *   u32 max_past || u32 max_forward ||
 *   V(NodeSecret nodes[])   struct { u32 node; opaque secret[Nh]; }
 *                           strictly ascending node
 *   V(LeafState leaves[])   struct { u32 leaf; Ratchet handshake;
 *                           Ratchet application; } strictly ascending leaf
 *   Ratchet = u64 next || u64 low || opaque secret[Nh] ||
 *             V(struct { u32 generation; opaque key[Nk]; opaque nonce[Nn]; }
 *               kept[]) strictly ascending generation, low <= g < next;
 *             next <= 2^32; next == 2^32 (exhausted) has an all-zero secret
 * mls_st_decode validates all of it (indices in range, ordering, no node
 * below another held node or an active leaf): MLS_E_BAD_STATE otherwise.
 */
MLS_MUST_CHECK int mls_st_encode(const struct mls_secret_tree *t, struct mls_writer *w);
MLS_MUST_CHECK int mls_st_decode(struct mls_reader *r, struct mls_secret_tree **ret_tree);

/*
 * Sender reservation (DESIGN.md section 8: a stream of messages without a
 * write per message). mls_st_encode_ahead encodes as mls_st_encode except
 * that both ratchets of leaf `sender` are saved `ahead` generations further
 * on (capped at exhaustion): generations next .. next+ahead-1 are reserved
 * for messages sent from memory before the next save, and a state reloaded
 * after a crash resumes after them, so no generation is ever used twice
 * (R-9.1-2). The saved ratchets are encoded exactly as after handing out
 * the reserved generations (same secret, low bound and kept keys): the
 * saved state cannot derive the reserved generations' keys. The sender's ratchets must exist
 * (mls_st_activate) when ahead > 0: MLS_E_INVALID_ARGUMENT otherwise.
 * mls_st_encode(t, w) is mls_st_encode_ahead(t, w, any, 0).
 */
MLS_MUST_CHECK int mls_st_encode_ahead(const struct mls_secret_tree *t, struct mls_writer *w,
                                       uint32_t sender, uint32_t ahead);
/* Creates the ratchets of `leaf` if they do not exist yet (what the first
 * mls_st_next of the leaf does); no generation is used. */
MLS_MUST_CHECK int mls_st_activate(struct mls_secret_tree *t, uint32_t leaf);
/* The next generation mls_st_next would hand out for (leaf, type): 0 for a
 * leaf whose ratchets do not exist yet, 2^32 for an exhausted ratchet.
 * MLS_E_TREE_INDEX for a leaf outside the tree. */
MLS_MUST_CHECK int mls_st_next_generation(const struct mls_secret_tree *t, uint32_t leaf,
                                          enum mls_ratchet_type type, uint64_t *ret_next);

/*
 * The tree's guarded slab from (and back to) pool (mls/secret.h): a
 * group's epochs reuse the same blocks instead of a sodium_malloc and
 * sodium_free per epoch. The pool must outlive the tree (or be switched
 * off with NULL before it goes). mls_st_new_pool is mls_st_new with a
 * pool from the start.
 */
struct mls_gpool;
void mls_st_set_pool(struct mls_secret_tree *t, struct mls_gpool *pool);
MLS_MUST_CHECK int mls_st_new_pool(const struct mls_suite *s, const uint8_t *encryption_secret,
                                   size_t len, uint32_t n_leaves, struct mls_gpool *pool,
                                   struct mls_secret_tree **ret_tree);
/* Caches one block of the size of a new tree's first slab of suite s in
 * pool (as mls_ks_pool_reserve: at load or creation instead of at the next
 * epoch change). */
MLS_MUST_CHECK int mls_st_pool_reserve(struct mls_gpool *pool, const struct mls_suite *s);

#endif
