/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message framing and protection (RFC 9420 sections 6, 6.1, 6.2, 6.3,
 * 6.3.1, 6.3.2): signing and verifying FramedContent, and turning an
 * AuthenticatedContent into a PublicMessage or PrivateMessage and back.
 *
 * What this layer checks, in this order, before anything changes state
 * (the secret tree is the only state it touches):
 *   unprotect PublicMessage:  group_id (MLS_E_WRONG_GROUP), epoch
 *       (MLS_E_WRONG_EPOCH), no application content (R-6-2,
 *       MLS_E_WRONG_WIRE_FORMAT), sender/content combination (R-6.1-4,
 *       R-6.1-6, R-6.1-8, MLS_E_INVALID_SENDER), membership tag for member
 *       senders (R-6.2-3, MLS_E_BAD_MEMBERSHIP_TAG), signature with the key
 *       chosen by sender_type (R-6.1-9, MLS_E_BAD_SIGNATURE).
 *   unprotect PrivateMessage: group_id, epoch, SenderData (MLS_E_DECRYPT),
 *       sender leaf in the tree and a member (R-6.3.2-5, MLS_E_TREE_INDEX or
 *       the lookup's error), generation window (the secret tree's
 *       MLS_E_GENERATION_*), content (MLS_E_DECRYPT), zero padding
 *       (R-6.3.1-3, MLS_E_BAD_PADDING), signature (R-6.3.1-9,
 *       MLS_E_BAD_SIGNATURE). Only then is the generation consumed in the
 *       caller's secret tree: a message that fails any check leaves the tree
 *       exactly as it was, so a forged or damaged message cannot burn the key
 *       of the genuine one (see mls_frame_private_unprotect).
 * The confirmation tag of a commit (R-6.1-11, R-6.1-12) needs the NEW
 * epoch's confirmation_key, which only the group layer has after processing
 * the commit: it is carried through here and verified there.
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_FRAMING_H
#define MLS_FRAMING_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/messages.h"
#include "mls/rng.h"
#include "mls/secret.h"
#include "mls/secrettree.h"
#include "mls/signer.h"

/*
 * Signing goes through struct mls_signer (mls/signer.h): the engine hands
 * the signer the label without the "MLS 1.0 " prefix
 * (MLS_SIGN_LABEL_FRAMED_CONTENT here, MLS_SIGN_LABEL_GROUP_INFO in
 * mls/welcome.h) and the label-less content (the encoded FramedContentTBS or
 * GroupInfoTBS); the signer builds SignContent from the two itself and signs
 * that (RFC 9420 section 5.1.2). This is the shape of the daemon's vault
 * request: the vault only signs SignContent of an allowed label, never raw
 * bytes. The *_with_key variants sign with a private key held in this
 * process (SignWithLabel, mls/labeled.h).
 */

/*
 * The group context a message is checked against: the suite, the decoded
 * GroupContext of the epoch in question (its group_id and epoch are compared
 * with the message's) and its serialization (part of FramedContentTBS for
 * member and new_member_commit senders). mls_frame_group_init fills it; the
 * GroupContext is borrowed and must outlive the struct, the serialization is
 * owned and freed by mls_frame_group_clear.
 */
struct mls_frame_group {
        const struct mls_suite *suite;
        const struct mls_group_context *context;
        struct mls_bytes context_bytes;
        /* Optional (NULL after mls_frame_group_init): a pool of guarded
         * blocks (mls/secret.h) for the PrivateMessageContent plaintext of
         * protect and unprotect, borrowed; NULL: sodium_malloc per call. */
        struct mls_gpool *pool;
};

/* MLS_E_WRONG_SUITE if gc->cipher_suite is not s->id. */
MLS_MUST_CHECK int mls_frame_group_init(const struct mls_suite *s,
                                        const struct mls_group_context *gc,
                                        struct mls_frame_group *ret_g);
void mls_frame_group_clear(struct mls_frame_group *g);

/*
 * The receiver's view of the group's senders (the ratchet tree and the
 * external_senders extension live in the group layer):
 *   member:   the signature key of the LeafNode at sender->leaf_index
 *             (R-6.1-2); MLS_E_TREE_INDEX when the leaf is outside the
 *             tree, MLS_E_INVALID_SENDER when it is blank (R-6.1-10,
 *             R-6.3.2-5);
 *   external: the signature key at sender->sender_index of external_senders
 *             (R-6.1-3); MLS_E_TREE_INDEX / MLS_E_INVALID_SENDER likewise.
 * On success (*ret_pub, *ret_len) is a view valid until the framing call
 * returns. new_member_commit and new_member_proposal keys come from the
 * message itself (R-6.1-5, R-6.1-7) and are not asked for.
 */
struct mls_frame_senders {
        int (*lookup)(void *ctx, const struct mls_sender *sender, const uint8_t **ret_pub,
                      size_t *ret_len);
        void *ctx;
};

/* Padding of PrivateMessageContent (RFC 9420 section 6.3.1). */
enum mls_frame_pad_mode {
        MLS_FRAME_PAD_NONE = 0,
        /* zero bytes up to the next multiple of `block` bytes of plaintext */
        MLS_FRAME_PAD_BLOCK = 1,
};

struct mls_frame_padding {
        enum mls_frame_pad_mode mode;
        uint32_t block; /* MLS_FRAME_PAD_BLOCK: 1 .. MLS_FRAME_PAD_MAX_BLOCK */
};

#define MLS_FRAME_PAD_MAX_BLOCK 65536u

/* ---- 6.1 Content authentication ---- */

/*
 * RFC 9420 section 6.1 (R-6.1-1):
 *   signature = SignWithLabel(., "FramedContentTBS", FramedContentTBS)
 * over u16 version || u16 ac->wire_format || ac->content [|| GroupContext
 * for member and new_member_commit senders]. Replaces ac->auth.signature on
 * success. The content's group_id and epoch must be the group's
 * (MLS_E_WRONG_GROUP / MLS_E_WRONG_EPOCH) and its sender/content
 * combination allowed (MLS_E_INVALID_SENDER).
 */
MLS_MUST_CHECK int mls_frame_sign(const struct mls_frame_group *g,
                                  struct mls_authenticated_content *ac,
                                  const struct mls_signer *signer);
/* The same with a private signature key held in this process. */
MLS_MUST_CHECK int mls_frame_sign_with_key(const struct mls_frame_group *g,
                                           struct mls_authenticated_content *ac,
                                           const struct mls_secret *priv);
/* VerifyWithLabel(pub, "FramedContentTBS", FramedContentTBS, signature):
 * 0, MLS_E_BAD_SIGNATURE, or MLS_E_BAD_KEY for a malformed key. */
MLS_MUST_CHECK int mls_frame_verify(const struct mls_frame_group *g,
                                    const struct mls_authenticated_content *ac,
                                    const uint8_t *pub, size_t pub_len);

/* ---- 6.2 PublicMessage ---- */

/*
 * membership_tag = MAC(membership_key, AuthenticatedContentTBM) (R-6.2-1);
 * ret_tag holds suite->hash_len bytes.
 */
MLS_MUST_CHECK int mls_frame_membership_tag(const struct mls_frame_group *g,
                                            const struct mls_authenticated_content *ac,
                                            const uint8_t *membership_key, size_t key_len,
                                            uint8_t *ret_tag);

/*
 * Encodes a signed AuthenticatedContent as MLSMessage(PublicMessage) into
 * *ret_msg. ac->wire_format must be public_message and the content must not
 * be application data (R-6-1): MLS_E_WRONG_WIRE_FORMAT. Member senders get
 * the membership tag (membership_key required, MLS_E_INVALID_ARGUMENT if
 * NULL); other senders none (R-6.2-2). A commit must carry its
 * confirmation_tag already (MLS_E_INVALID_ARGUMENT if empty).
 */
MLS_MUST_CHECK int mls_frame_public_protect(const struct mls_frame_group *g,
                                            const struct mls_authenticated_content *ac,
                                            const uint8_t *membership_key, size_t key_len,
                                            struct mls_bytes *ret_msg);

/*
 * Checks a received PublicMessage in the order listed at the top of this
 * file (membership tag before signature; R-6.2-3, R-6.2-4) and, on success,
 * MOVES its content and auth into *ret_ac (wire_format public_message),
 * leaving *pm cleared. On failure *pm is untouched. membership_key is
 * required for member senders. The commit confirmation tag is not checked
 * here (see the top of this file).
 */
MLS_MUST_CHECK int mls_frame_public_unprotect(const struct mls_frame_group *g,
                                              struct mls_public_message *pm,
                                              const uint8_t *membership_key, size_t key_len,
                                              const struct mls_frame_senders *senders,
                                              struct mls_authenticated_content *ret_ac);

/* ---- 6.3 PrivateMessage ---- */

/*
 * Encrypts a signed AuthenticatedContent (wire_format private_message, a
 * member sender: R-6.3.2-2, MLS_E_INVALID_SENDER otherwise) as
 * MLSMessage(PrivateMessage) into *ret_msg:
 *   - PrivateMessageContent = content || auth || zero padding (R-6.3.1-1,
 *     R-6.3.1-2) per `pad` (NULL: none);
 *   - key/nonce: the next generation of the sender's handshake ratchet
 *     (proposal, commit) or application ratchet (application) from `tree`
 *     (R-6.3.1-4): this consumes the generation;
 *   - a fresh 4-byte reuse guard from rng XORed into the nonce (R-6.3.1-6,
 *     R-6.3.1-7); AEAD with PrivateContentAAD (R-6.3.1-8);
 *   - SenderData sealed under the key/nonce derived from sender_data_secret
 *     and the ciphertext sample, AAD SenderDataAAD (R-6.3.2-1, R-6.3.2-3,
 *     R-6.3.2-4).
 * The key and nonce are wiped as soon as they are used.
 */
MLS_MUST_CHECK int mls_frame_private_protect(const struct mls_frame_group *g,
                                             const struct mls_authenticated_content *ac,
                                             const uint8_t *sender_data_secret, size_t sds_len,
                                             struct mls_secret_tree *tree,
                                             const struct mls_frame_padding *pad,
                                             const struct mls_rng *rng,
                                             struct mls_bytes *ret_msg);

/*
 * Decrypts and verifies a received PrivateMessage (checks listed at the top
 * of this file) into *ret_ac (wire_format private_message, sender member
 * leaf_index from SenderData).
 *
 * Secret-tree discipline: the secret tree hands out (and deletes) a key
 * only once. This function first takes the key from a scratch copy of the
 * tree, opens and verifies everything, and only when the signature has
 * verified takes the same generation from `tree` itself (which deletes it
 * there, R-9.2-4). Any failure (bad SenderData, forged or damaged
 * ciphertext, bad padding, bad signature, unknown leaf) leaves `tree`
 * unchanged, so the genuine message can still be decrypted afterwards;
 * replaying a decrypted message gives MLS_E_GENERATION_CONSUMED. The key
 * and nonce are wiped right after the AEAD call.
 */
MLS_MUST_CHECK int mls_frame_private_unprotect(const struct mls_frame_group *g,
                                               const struct mls_private_message *pm,
                                               const uint8_t *sender_data_secret,
                                               size_t sds_len, struct mls_secret_tree *tree,
                                               const struct mls_frame_senders *senders,
                                               struct mls_authenticated_content *ret_ac);

#endif
