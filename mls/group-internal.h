/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the group state machine shared by mls/group*.c and
 * mls/keypackage.c. Not part of the engine's API.
 */
#ifndef MLS_GROUP_INTERNAL_H
#define MLS_GROUP_INTERNAL_H

#include <string.h>

#include "mls/group.h"
#include "mls/framing.h"
#include "mls/keyschedule.h"
#include "mls/labeled.h"
#include "mls/secrettree.h"
#include "mls/transcript.h"
#include "mls/tree.h"
#include "mls/treekem.h"
#include "mls/welcome.h"

/* Saved-state format versions. */
#define GRP_STATE_VERSION 1
#define GRP_KP_STATE_VERSION 1

/* A signature key of one leaf in a past epoch (empty key: blank leaf). */
struct grp_sigkey {
        uint32_t leaf;
        struct mls_bytes key;
};

/*
 * A past epoch kept for late application messages: its GroupContext (for
 * FramedContentTBS), sender_data_secret and secret tree, our leaf, and the
 * leaves whose signature key at that epoch differs from the next epoch's
 * (the key of leaf L at epoch e is the first entry for L in the diffs of
 * e, e+1, ..., else the current tree's).
 */
struct grp_past {
        struct mls_group_context gc;
        /* The epoch's secrets object, every value but sender_data_secret
         * deleted (R-9.2-1): moved, not copied, at the epoch change. */
        struct mls_epoch_secrets *ks;
        struct mls_secret_tree *st;
        uint32_t own_leaf;
        struct grp_sigkey *diff;
        size_t n_diff;
};

/* A proposal received (or sent) in the current epoch, cached under its
 * ProposalRef (R-12.1-3). */
struct grp_prop {
        struct mls_bytes ref;
        struct mls_sender sender;
        struct mls_proposal p;
        /* Our own Update: the new leaf's HPKE private key. */
        struct mls_secret *update_priv;
};

/* The resumption_psk of past epochs and the current one (section 8.6),
 * oldest first, in ONE guarded slab (slab_cap * Nh bytes) that grows by
 * doubling up to max_resumption_psks: a group holds a handful of guarded
 * allocations, not one per epoch. */
struct grp_res_ring {
        struct mls_secret *slab;
        uint64_t *epoch;
        size_t n, slab_cap;
};

/*
 * A commit we created and sent, not yet merged (section 14, R-14-3): the
 * AuthenticatedContent (its by-value proposals and UpdatePath are
 * re-applied to the tree at merge; references resolve from the cache), the
 * new epoch's private keys, secrets, GroupContext and transcript values.
 */
struct grp_pending {
        struct mls_authenticated_content ac;
        struct mls_treekem_priv *priv;          /* NULL when no path */
        struct mls_epoch_secrets *ks;
        struct mls_group_context gc;
        uint8_t interim[MLS_MAX_HASH_LEN];
        struct mls_bytes conf_tag;
        /* Removed leaves' signature keys before the commit (past epoch
         * diff), computed at merge. */
};

struct mls_group {
        const struct mls_suite *suite;
        struct mls_group_options opts;
        /* current epoch */
        struct mls_group_context gc;
        struct mls_bytes gc_bytes;              /* encoding of gc */
        struct mls_tree *tree;
        struct mls_treekem_priv *priv;
        struct mls_epoch_secrets *ks;
        struct mls_secret_tree *st;
        uint8_t interim[MLS_MAX_HASH_LEN];      /* Nh bytes */
        struct mls_bytes conf_tag;              /* of the commit that began the epoch */
        uint32_t own_leaf;
        bool removed;
        bool has_reinit;
        struct mls_reinit reinit;
        /* proposals of this epoch, in arrival order */
        struct grp_prop *props;
        size_t n_props;
        /* past epochs, oldest first; past[i].gc.epoch ascending */
        struct grp_past *past;
        size_t n_past;
        /* resumption PSKs, oldest first, epochs ascending */
        struct grp_res_ring res;
        struct grp_pending *pending;
        /* Guarded blocks reused across messages and epochs (PrivateMessage
         * plaintexts, epoch-secret slabs): created on first use, not part of
         * the saved state, freed last. */
        struct mls_gpool *pool;
};

/* ---- helpers (group.c) ---- */

void grp_bytes_clearp(struct mls_bytes *b);
#define _grp_bytes_ _mls_cleanup_(grp_bytes_clearp)
void grp_u32_list_clearp(struct mls_u32_list *l);
#define _grp_u32_list_ _mls_cleanup_(grp_u32_list_clearp)

MLS_MUST_CHECK int grp_u32_push(struct mls_u32_list *l, uint32_t v);
bool grp_u16_in(const struct mls_u16_list *l, uint16_t v);
bool grp_default_extension(uint16_t t);
bool grp_default_proposal(uint16_t t);

/* Deep copies through the codec. */
MLS_MUST_CHECK int grp_proposal_dup(const struct mls_proposal *src, struct mls_proposal *ret);
MLS_MUST_CHECK int grp_leaf_node_dup(const struct mls_leaf_node *src, struct mls_leaf_node *ret);
MLS_MUST_CHECK int grp_group_context_dup(const struct mls_group_context *src,
                                         struct mls_group_context *ret);
MLS_MUST_CHECK int grp_extension_list_dup(const struct mls_extension_list *src,
                                          struct mls_extension_list *ret);
MLS_MUST_CHECK int grp_capabilities_dup(const struct mls_capabilities *src,
                                        struct mls_capabilities *ret);
MLS_MUST_CHECK int grp_credential_dup(const struct mls_credential *src,
                                      struct mls_credential *ret);

/* Whether an extension list holds a GREASE type (RFC 9420 section 13.5:
 * 0x0A0A, 0x1A1A, ..., 0xEAEA): refused in what we send as GroupContext
 * extensions (R-13.5-3) and in our own capabilities (R-13.5-7, R-13.5-8);
 * never used to treat a received value specially (R-13.5-5). */
bool grp_extensions_have_grease(const struct mls_extension_list *ext);
/* Adds GREASE values to a LeafNode this client creates (unless
 * env->no_grease): capabilities, one LeafNode extension, and with kp_ext
 * one KeyPackage extension (R-13.5-1, R-13.5-2). Before signing. */
MLS_MUST_CHECK int grp_leaf_grease(struct mls_leaf_node *ln, const struct mls_env *env,
                                   struct mls_extension_list *kp_ext);
/* grp_leaf_supports_extensions for our own leaf: its real capabilities,
 * without the GREASE values we advertise (R-13.5-7). */
bool grp_own_leaf_supports_extensions(const struct mls_leaf_node *ln,
                                      const struct mls_extension_list *ext);

/* The default capabilities of a leaf this client creates. */
MLS_MUST_CHECK int grp_default_capabilities(struct mls_capabilities *ret);

/* Builds an unsigned LeafNode template from params: credential,
 * capabilities, extensions, signature_key = pub, the given source, lifetime
 * from params (key_package). */
MLS_MUST_CHECK int grp_leaf_template(const struct mls_leaf_params *lp, const uint8_t *pub,
                                     size_t pub_len, uint8_t source, uint64_t now,
                                     struct mls_leaf_node *ret);
/* Signs a LeafNode in place ("LeafNodeTBS"; group_id and leaf for update
 * and commit sources). */
MLS_MUST_CHECK int grp_leaf_sign(struct mls_leaf_node *ln, const struct mls_bytes *group_id,
                                 uint32_t leaf, const struct mls_signer *signer);

/* The leaf policy of the group for GroupContext extensions `ext`; *req
 * receives the parsed required_capabilities (caller clears). */
MLS_MUST_CHECK int grp_policy(const struct mls_group *g, const struct mls_env *env,
                              const struct mls_extension_list *ext,
                              struct mls_required_capabilities *req, bool *has_req,
                              struct mls_leaf_policy *ret);

/* Whether a leaf supports every non-default extension type in ext
 * (R-13.4-7, R-13.4-10) and the required capabilities. */
bool grp_leaf_supports_extensions(const struct mls_leaf_node *ln,
                                  const struct mls_extension_list *ext);

/* Refreshes g->gc_bytes from g->gc. */
MLS_MUST_CHECK int grp_refresh_gc_bytes(struct mls_group *g);

/* Creates g's pool of guarded blocks if needed and lends it to the current
 * epoch secrets (whose successors inherit it). */
MLS_MUST_CHECK int grp_use_pool(struct mls_group *g);
/* grp_use_pool plus one spare epoch-secrets block in the pool, so that the
 * group's next epoch change allocates no guarded memory (STYLE: pools are
 * sized up front). Called once by create and join; mls_group_load should
 * call it too (lead: group_state.c). */
MLS_MUST_CHECK int grp_pool_prepare(struct mls_group *g);

/* Frame group view for the current epoch (borrowing g->gc and g->pool). */
MLS_MUST_CHECK int grp_frame_group(const struct mls_group *g, struct mls_frame_group *ret);
/* Sender lookup for the current tree and external_senders. */
struct grp_senders_ctx {
        const struct mls_group *g;
        const struct grp_past *past;  /* NULL: current epoch */
        size_t past_idx;
        struct mls_external_senders es;
        bool es_loaded;
};
int grp_senders_lookup(void *ctx, const struct mls_sender *sender, const uint8_t **ret_pub,
                       size_t *ret_len);
void grp_senders_ctx_clear(struct grp_senders_ctx *c);

/* Cached proposals. */
void grp_prop_clear(struct grp_prop *p);
void grp_props_clear(struct mls_group *g);
const struct grp_prop *grp_prop_find(const struct mls_group *g, const uint8_t *ref, size_t len);

/* Resumption PSK ring: _prepare makes room for one more entry (the only
 * step that can fail), _put stores it (dropping the oldest beyond
 * max_resumption_psks), _push does both. _get: NULL if not kept. */
MLS_MUST_CHECK int grp_res_prepare(struct mls_group *g);
void grp_res_put(struct mls_group *g, uint64_t epoch, const uint8_t *psk);
MLS_MUST_CHECK int grp_res_push(struct mls_group *g, uint64_t epoch, const uint8_t *psk);
const uint8_t *grp_res_get(const struct mls_group *g, uint64_t epoch);
void grp_res_trim(struct mls_group *g);
void grp_res_free(struct mls_group *g);
void grp_past_clear(struct grp_past *p);
void grp_pending_free(struct grp_pending *p);

/* Protect an AuthenticatedContent (signed) of the current epoch as
 * PublicMessage or PrivateMessage per ac->wire_format. */
MLS_MUST_CHECK int grp_protect(struct mls_group *g, const struct mls_env *env,
                               const struct mls_authenticated_content *ac,
                               struct mls_bytes *ret_msg);
/* Initialise framed content for the current epoch from us. */
MLS_MUST_CHECK int grp_framed_init(const struct mls_group *g, uint8_t content_type,
                                   const struct mls_bytes *aad,
                                   struct mls_authenticated_content *ret);

/* A fresh secret tree from ks's encryption_secret (which the caller
 * deletes once the tree is in use, R-9.2-2). */
MLS_MUST_CHECK int grp_new_secret_tree(const struct mls_group *g,
                                       struct mls_epoch_secrets *ks, uint32_t n_leaves,
                                       struct mls_secret_tree **ret);

MLS_MUST_CHECK int grp_options_check(const struct mls_group_options *o);

/* Builds and signs a GroupInfo for GroupContext gc of epoch secrets ks,
 * confirmation tag `tag`, tree t, signed by leaf `signer_leaf`, with the
 * external_pub (R-12.4.1-9) and ratchet_tree extensions on request, and
 * a GREASE extension drawn from grease_rng unless it is NULL (R-13.5-1). */
MLS_MUST_CHECK int grp_group_info_build(const struct mls_suite *s,
                                        const struct mls_group_context *gc,
                                        const struct mls_epoch_secrets *ks,
                                        const struct mls_bytes *tag, const struct mls_tree *t,
                                        uint32_t signer_leaf, bool external_pub,
                                        bool inline_tree, const struct mls_signer *signer,
                                        const struct mls_rng *grease_rng,
                                        struct mls_group_info *ret);
/* env's GREASE source: env->rng unless GREASE is off (NULL). */
const struct mls_rng *grp_grease_rng(const struct mls_env *env);

/* The checks of one proposal that do not depend on the commit carrying it
 * (group_proposals.c). */
MLS_MUST_CHECK int grp_proposal_check(const struct mls_group *g, const struct mls_env *env,
                                      const struct mls_proposal *p,
                                      const struct mls_sender *sender);

/* ---- KeyPackages (keypackage.c) ---- */

struct mls_key_package_priv {
        const struct mls_suite *suite;
        struct mls_bytes kp;                /* bare KeyPackage */
        struct mls_key_package decoded;
        uint8_t ref[MLS_MAX_HASH_LEN];
        struct mls_secret *init_priv;
        struct mls_secret *enc_priv;
        bool last_resort;
};

/* R-10.1-2 .. R-10.1-6, R-10-2, R-10-4, R-10-7, R-10-9, R-13.4-7: the
 * KeyPackage checks that do not need the tree, with the GroupContext
 * extensions `ext` (after a GroupContextExtensions proposal). With
 * verify_sig the KeyPackage signature is verified. */
MLS_MUST_CHECK int grp_key_package_check(const struct mls_suite *s,
                                         const struct mls_key_package *kp,
                                         const struct mls_extension_list *ext, bool verify_sig);
/* Decodes a KeyPackage given as MLSMessage or bare. */
MLS_MUST_CHECK int grp_key_package_decode(const uint8_t *p, size_t len,
                                          struct mls_key_package *ret);

/* ---- proposal lists and commits (group_commit.c) ---- */

/* A resolved proposal of a commit. */
struct grp_rprop {
        const struct mls_proposal *p;
        struct mls_sender sender;
        const struct grp_prop *cached;      /* NULL: by value */
};

/* What applying a proposal list produced. */
struct grp_applied {
        const struct mls_extension_list *new_ext; /* GCE, or NULL */
        struct mls_u32_list added;
        struct mls_u32_list removed;
        /* Leaves changed by the commit with their signature key before it
         * (empty: blank): the past epoch's signature-key diff. */
        struct grp_sigkey *touched;
        size_t n_touched;
        struct mls_secret **psks;           /* values, in list order */
        const struct mls_psk_id **psk_ids;
        size_t n_psks;
        const struct mls_external_init *ext_init;
        const struct mls_reinit *reinit;
        bool path_required;
        bool self_removed;
        bool own_update;                    /* an Update of our leaf (by another) */
        const struct mls_secret *own_update_priv;
        /* External commit with a Remove: the removed leaf (R-12.2-19/20). */
        bool has_removed_leaf;
        struct mls_credential removed_credential;
        struct mls_bytes removed_enc_key;
};
void grp_applied_clear(struct grp_applied *a);
/* Records leaf's current signature key in a->touched (once). */
MLS_MUST_CHECK int grp_applied_touch(struct grp_applied *a, const struct mls_tree *t,
                                     uint32_t leaf);
MLS_MUST_CHECK int grp_applied_touch_blank(struct grp_applied *a, uint32_t leaf);

enum grp_commit_kind {
        GRP_COMMIT_MEMBER = 0,
        GRP_COMMIT_EXTERNAL = 1,
        /* The initial commit of a branch or reinit group: the resumption
         * PSK of that usage is allowed (R-11.2-5, R-11.3-7). */
        GRP_COMMIT_RESUMPTION_INIT = 2,
};

/* Resolves the ProposalOrRef list of a commit (R-12.4-1). */
MLS_MUST_CHECK int grp_resolve(const struct mls_group *g, const struct mls_commit *c,
                               const struct mls_sender *committer, enum grp_commit_kind kind,
                               struct grp_rprop **ret, size_t *ret_n);
/* The individual checks of a PreSharedKey proposal (12.1.4). */
MLS_MUST_CHECK int grp_check_psk_proposal(const struct mls_group *g, const struct mls_psk_id *id,
                                          enum grp_commit_kind kind);
/* R-12.1.7-1: every member of t supports the extensions ext. */
MLS_MUST_CHECK int grp_check_gce(const struct mls_group *g, const struct mls_tree *t,
                                 const struct mls_extension_list *ext);
/* Validates the list (section 12.2) without the tree-dependent parts. */
MLS_MUST_CHECK int grp_validate_list(const struct mls_group *g, const struct grp_rprop *l,
                                     size_t n, uint32_t committer, enum grp_commit_kind kind,
                                     bool has_path);
/* Applies the list to g->tree (inside an open tree transaction) in the
 * order of section 12.3, validating each proposal when `validate`. */
MLS_MUST_CHECK int grp_apply(struct mls_group *g, const struct mls_env *env,
                             const struct grp_rprop *l, size_t n, uint32_t committer,
                             enum grp_commit_kind kind, bool validate,
                             struct grp_applied *ret);
/* psk_secret of the applied list. */
MLS_MUST_CHECK int grp_psk_secret(const struct mls_group *g, const struct grp_applied *a,
                                  struct mls_secret **ret);
/* Resolves one PSK (external via env, resumption from this or another
 * group). MLS_E_UNKNOWN_PSK. */
MLS_MUST_CHECK int grp_psk_lookup(const struct mls_group *g, const struct mls_env *env,
                                  const struct mls_psk_id *id, struct mls_secret **ret);

/* The new epoch's state, built before anything is switched. */
struct grp_next {
        struct mls_epoch_secrets *ks;
        struct mls_treekem_priv *priv;
        struct mls_secret_tree *st;
        struct mls_group_context gc;
        uint8_t interim[MLS_MAX_HASH_LEN];
        struct mls_bytes conf_tag;
        uint32_t own_leaf;
};
void grp_next_clear(struct grp_next *n);
/* Moves the group into the new epoch after every check passed (R-12.4.2-18):
 * the current epoch becomes a past one (bounded, R-14-2), the resumption PSK
 * is kept, proposals and the pending commit are dropped. Takes what next
 * holds. Fails only before changing anything. */
MLS_MUST_CHECK int grp_advance(struct mls_group *g, struct grp_next *next,
                               struct grp_applied *a);

/* The external joiner's leaf (R-12.4.1-3, R-12.4.2-8). */
MLS_MUST_CHECK int grp_tree_reserve_leaf(struct mls_tree *t, uint32_t *ret_leaf);

/* A tree transaction rolled back at the end of its scope unless
 * committed (use with _mls_cleanup_(grp_tree_tx_end)). */
struct grp_tree_tx {
        struct mls_tree *t;
        bool open;
};
MLS_MUST_CHECK int grp_tree_tx_begin(struct mls_tree *t, struct grp_tree_tx *x);
void grp_tree_tx_end(struct grp_tree_tx *x);
void grp_tree_tx_commit(struct grp_tree_tx *x);

/* The next epoch's GroupContext: old group_id, epoch + 1, tree_hash,
 * confirmed transcript hash, extensions ext (R-12.4.1-5). */
MLS_MUST_CHECK int grp_next_gc(const struct mls_group *g, const struct mls_extension_list *ext,
                               const uint8_t *tree_hash, const uint8_t *confirmed,
                               size_t confirmed_len, struct mls_group_context *ret);
/* confirmed_transcript_hash after commit ac (R-8.2-1). */
MLS_MUST_CHECK int grp_transcript(const struct mls_group *g, const uint8_t *interim_before,
                                  size_t interim_len, const struct mls_authenticated_content *ac,
                                  uint8_t *ret_confirmed);
/* Creates a commit and leaves it pending (group_commit.c). */
MLS_MUST_CHECK int grp_commit_create(struct mls_group *g, const struct mls_env *env,
                                     const struct mls_commit_params *p,
                                     enum grp_commit_kind kind, struct mls_bytes *ret_commit,
                                     struct mls_bytes *ret_welcome);
/* Merges the pending commit. */
MLS_MUST_CHECK int grp_merge_pending(struct mls_group *g, const struct mls_env *env,
                                     struct mls_process_result *ret);

/* Every member identity of tree sub is a member identity of super
 * (R-11.3-6, R-12.4.3.1-25, R-12.4.3.1-26): 0 or MLS_E_BAD_CREDENTIAL. */
MLS_MUST_CHECK int grp_members_subset(const struct mls_tree *sub, const struct mls_tree *super);

/* Allocation helper with overflow check. */
MLS_MUST_CHECK int grp_alloc_array(size_t n, size_t elem, void **ret);

#endif
