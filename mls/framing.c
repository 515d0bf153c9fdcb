/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message framing and protection (RFC 9420 section 6). Contracts:
 * mls/framing.h. The wire layouts are mls/messages' encoders and decoders;
 * this file adds the signatures, MACs and encryption around them.
 */
#include <string.h>
#include <sodium.h>

#include "mls/framing.h"
#include "mls/labeled.h"

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}
#define _bytes_ _mls_cleanup_(bytes_clearp)

static void
guard_wipe(uint8_t (*g)[MLS_REUSE_GUARD_LEN])
{
        mls_wipe(*g, sizeof(*g));
}

/* ---- group context ---- */

int
mls_frame_group_init(const struct mls_suite *s, const struct mls_group_context *gc,
                     struct mls_frame_group *ret_g)
{
        struct mls_bytes enc = { 0 };

        if (!s || !gc || !ret_g)
                return MLS_E_INVALID_ARGUMENT;
        if (gc->cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        MLS_TRY(mls_group_context_to_bytes(gc, &enc));
        *ret_g = (struct mls_frame_group){ .suite = s, .context = gc, .context_bytes = enc };
        return 0;
}

void
mls_frame_group_clear(struct mls_frame_group *g)
{
        if (!g)
                return;
        mls_bytes_clear(&g->context_bytes);
        *g = (struct mls_frame_group){ 0 };
}

static bool
group_valid(const struct mls_frame_group *g)
{
        return g && g->suite && g->context && g->context_bytes.data;
}

/* The message must be for the group and epoch of the context given. */
static int
check_group_epoch(const struct mls_frame_group *g, const struct mls_bytes *group_id,
                  uint64_t epoch)
{
        if (!mls_bytes_eq(group_id, &g->context->group_id))
                return MLS_E_WRONG_GROUP;
        if (epoch != g->context->epoch)
                return MLS_E_WRONG_EPOCH;
        return 0;
}

static int
check_wire_format(uint16_t wf)
{
        switch (wf) {
        case MLS_WIRE_PUBLIC_MESSAGE:
        case MLS_WIRE_PRIVATE_MESSAGE:
                return 0;
        default:
                return MLS_E_WRONG_WIRE_FORMAT;
        }
}

/* ---- 6.1 Content authentication ---- */

/* RFC 9420 section 6.1 (R-6.1-1): the encoded FramedContentTBS. */
static int
tbs_encode(const struct mls_frame_group *g, uint16_t wire_format,
           const struct mls_framed_content *fc, struct mls_bytes *ret_tbs)
{
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init(&w);
        MLS_TRY(mls_framed_content_tbs_encode(&w, wire_format, fc, &g->context_bytes));
        return mls_writer_finish(&w, ret_tbs);
}

/* The checks before signing and the encoded FramedContentTBS. */
static int
sign_prepare(const struct mls_frame_group *g, const struct mls_authenticated_content *ac,
             struct mls_bytes *ret_tbs)
{
        if (!group_valid(g) || !ac)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(check_wire_format(ac->wire_format));
        /* R-6-1: application data is never sent as a PublicMessage, so it is
         * never signed for one either. */
        if (ac->wire_format == MLS_WIRE_PUBLIC_MESSAGE &&
            ac->content.content_type == MLS_CONTENT_APPLICATION)
                return MLS_E_WRONG_WIRE_FORMAT;
        MLS_TRY(check_group_epoch(g, &ac->content.group_id, ac->content.epoch));
        /* R-6.1-4, R-6.1-6, R-6.1-8 */
        MLS_TRY(mls_framed_content_check_sender(&ac->content));
        return tbs_encode(g, ac->wire_format, &ac->content, ret_tbs);
}

static int
sign_finish(struct mls_authenticated_content *ac, struct mls_bytes *sig)
{
        if (sig->len == 0) {
                mls_bytes_clear(sig);
                return MLS_E_CRYPTO;
        }
        mls_bytes_clear(&ac->auth.signature);
        ac->auth.signature = *sig;
        *sig = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_frame_sign(const struct mls_frame_group *g, struct mls_authenticated_content *ac,
               const struct mls_signer *signer)
{
        _bytes_ struct mls_bytes tbs = { 0 }, sig = { 0 };

        if (!signer || !signer->sign)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(sign_prepare(g, ac, &tbs));
        /* R-6.1-1: SignWithLabel(., "FramedContentTBS", FramedContentTBS);
         * the signer builds SignContent from label and content. */
        MLS_TRY(signer->sign(signer->ctx, MLS_SIGN_LABEL_FRAMED_CONTENT, tbs.data, tbs.len,
                             &sig));
        return sign_finish(ac, &sig);
}

int
mls_frame_sign_with_key(const struct mls_frame_group *g, struct mls_authenticated_content *ac,
                        const struct mls_secret *priv)
{
        _bytes_ struct mls_bytes tbs = { 0 }, sig = { 0 };

        if (!priv)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(sign_prepare(g, ac, &tbs));
        /* R-6.1-1 */
        MLS_TRY(mls_sign_with_label(g->suite, priv, MLS_SIGN_LABEL_FRAMED_CONTENT, tbs.data,
                                    tbs.len, &sig));
        return sign_finish(ac, &sig);
}

int
mls_frame_verify(const struct mls_frame_group *g, const struct mls_authenticated_content *ac,
                 const uint8_t *pub, size_t pub_len)
{
        _bytes_ struct mls_bytes tbs = { 0 };

        if (!group_valid(g) || !ac || (!pub && pub_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(check_wire_format(ac->wire_format));
        MLS_TRY(tbs_encode(g, ac->wire_format, &ac->content, &tbs));
        /* R-6.1-9: VerifyWithLabel(., "FramedContentTBS", FramedContentTBS) */
        return mls_verify_with_label(g->suite, pub, pub_len, MLS_SIGN_LABEL_FRAMED_CONTENT, tbs.data,
                                     tbs.len, ac->auth.signature.data, ac->auth.signature.len);
}

/*
 * The signature key of the sender, chosen by sender_type (RFC 9420
 * section 6.1, R-6.1-2 .. R-6.1-7, R-6.1-9). Member and external keys come
 * from the caller's lookup; the new-member keys from the message itself.
 */
static int
sender_key(const struct mls_framed_content *fc, const struct mls_frame_senders *senders,
           const uint8_t **ret_pub, size_t *ret_len)
{
        const uint8_t *pub = NULL;
        size_t len = 0;

        switch (fc->sender.sender_type) {
        case MLS_SENDER_MEMBER:
        case MLS_SENDER_EXTERNAL:
                /* R-6.1-2, R-6.1-3, R-6.1-10: the lookup checks the index. */
                if (!senders || !senders->lookup)
                        return MLS_E_INVALID_ARGUMENT;
                MLS_TRY(senders->lookup(senders->ctx, &fc->sender, &pub, &len));
                break;
        case MLS_SENDER_NEW_MEMBER_COMMIT:
                /* R-6.1-5: the LeafNode in the Commit's path. */
                if (fc->content_type != MLS_CONTENT_COMMIT)
                        return MLS_E_INVALID_SENDER;
                if (!fc->commit.has_path)
                        return MLS_E_PATH_REQUIRED;
                pub = fc->commit.path.leaf_node.signature_key.data;
                len = fc->commit.path.leaf_node.signature_key.len;
                break;
        case MLS_SENDER_NEW_MEMBER_PROPOSAL:
                /* R-6.1-7: the LeafNode of the KeyPackage in the Add. */
                if (fc->content_type != MLS_CONTENT_PROPOSAL ||
                    fc->proposal.proposal_type != MLS_PROPOSAL_ADD)
                        return MLS_E_INVALID_SENDER;
                pub = fc->proposal.add.key_package.leaf_node.signature_key.data;
                len = fc->proposal.add.key_package.leaf_node.signature_key.len;
                break;
        default:
                return MLS_E_INVALID_SENDER;
        }
        if (!pub || len == 0)
                return MLS_E_BAD_KEY;
        *ret_pub = pub;
        *ret_len = len;
        return 0;
}

/* ---- 6.2 PublicMessage ---- */

int
mls_frame_membership_tag(const struct mls_frame_group *g,
                         const struct mls_authenticated_content *ac,
                         const uint8_t *membership_key, size_t key_len, uint8_t *ret_tag)
{
        _mls_writer_ struct mls_writer w = { 0 };

        if (!group_valid(g) || !ac || !membership_key || !ret_tag)
                return MLS_E_INVALID_ARGUMENT;
        mls_writer_init(&w);
        /* R-6.2-1: MAC(membership_key, AuthenticatedContentTBM) */
        MLS_TRY(mls_authenticated_content_tbm_encode(&w, ac, &g->context_bytes));
        return mls_mac(g->suite, membership_key, key_len, w.buf, w.len, ret_tag);
}

int
mls_frame_public_protect(const struct mls_frame_group *g,
                         const struct mls_authenticated_content *ac,
                         const uint8_t *membership_key, size_t key_len, struct mls_bytes *ret_msg)
{
        _mls_writer_ struct mls_writer w = { 0 };
        uint8_t tag[MLS_MAX_HASH_LEN];
        struct mls_message m = { .version = MLS_VERSION_MLS10,
                                 .wire_format = MLS_WIRE_PUBLIC_MESSAGE };

        if (!group_valid(g) || !ac || !ret_msg)
                return MLS_E_INVALID_ARGUMENT;
        if (ac->wire_format != MLS_WIRE_PUBLIC_MESSAGE)
                return MLS_E_WRONG_WIRE_FORMAT;
        /* R-6-1: application data only inside a PrivateMessage. */
        if (ac->content.content_type == MLS_CONTENT_APPLICATION)
                return MLS_E_WRONG_WIRE_FORMAT;
        MLS_TRY(check_group_epoch(g, &ac->content.group_id, ac->content.epoch));
        MLS_TRY(mls_framed_content_check_sender(&ac->content));
        if (ac->auth.signature.len == 0)
                return MLS_E_INVALID_ARGUMENT;
        /* R-6.1-11: a commit carries its confirmation tag. */
        if (ac->content.content_type == MLS_CONTENT_COMMIT && ac->auth.confirmation_tag.len == 0)
                return MLS_E_INVALID_ARGUMENT;
        /* Borrowed views into *ac: m is encoded, never cleared. */
        m.public_message.content = ac->content;
        m.public_message.auth = ac->auth;
        /* R-6.2-2: membership_tag for member senders only. */
        if (ac->content.sender.sender_type == MLS_SENDER_MEMBER) {
                if (!membership_key)
                        return MLS_E_INVALID_ARGUMENT;
                /* R-6.2-1 */
                MLS_TRY(mls_frame_membership_tag(g, ac, membership_key, key_len, tag));
                m.public_message.membership_tag =
                        (struct mls_bytes){ .data = tag, .len = g->suite->hash_len };
        }
        mls_writer_init(&w);
        MLS_TRY(mls_message_encode(&w, &m));
        return mls_writer_finish(&w, ret_msg);
}

int
mls_frame_public_unprotect(const struct mls_frame_group *g, struct mls_public_message *pm,
                           const uint8_t *membership_key, size_t key_len,
                           const struct mls_frame_senders *senders,
                           struct mls_authenticated_content *ret_ac)
{
        struct mls_authenticated_content view;
        const uint8_t *pub = NULL;
        size_t pub_len = 0;

        if (!group_valid(g) || !pm || !ret_ac)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(check_group_epoch(g, &pm->content.group_id, pm->content.epoch));
        /* R-6-2: a PublicMessage never carries application data. */
        if (pm->content.content_type == MLS_CONTENT_APPLICATION)
                return MLS_E_WRONG_WIRE_FORMAT;
        /* R-6.1-4, R-6.1-6, R-6.1-8 */
        MLS_TRY(mls_framed_content_check_sender(&pm->content));
        /* Borrowed view of *pm for the TBS/TBM encodings; never cleared. */
        view = (struct mls_authenticated_content){
                .wire_format = MLS_WIRE_PUBLIC_MESSAGE,
                .content = pm->content,
                .auth = pm->auth,
        };
        if (pm->content.sender.sender_type == MLS_SENDER_MEMBER) {
                _mls_writer_ struct mls_writer w = { 0 };

                if (!membership_key)
                        return MLS_E_INVALID_ARGUMENT;
                mls_writer_init(&w);
                MLS_TRY(mls_authenticated_content_tbm_encode(&w, &view, &g->context_bytes));
                /* R-6.2-3: membership tag first, compared in constant time. */
                MLS_TRY(mls_crypto_mac_verify(g->suite, membership_key, key_len, w.buf, w.len,
                                              pm->membership_tag.data, pm->membership_tag.len,
                                              MLS_E_BAD_MEMBERSHIP_TAG));
        } else if (pm->membership_tag.len != 0) {
                /* R-6.2-2 (the decoder never produces this). */
                return MLS_E_INVALID_MESSAGE;
        }
        /* R-6.2-4, R-6.1-9: the signature with the key chosen by sender_type. */
        MLS_TRY(sender_key(&pm->content, senders, &pub, &pub_len));
        MLS_TRY(mls_frame_verify(g, &view, pub, pub_len));
        /* Everything checked: move the content out. */
        *ret_ac = view;
        mls_bytes_clear(&pm->membership_tag);
        memset(pm, 0, sizeof(*pm));
        return 0;
}

/* ---- 6.3 PrivateMessage ---- */

static enum mls_ratchet_type
ratchet_for(uint8_t content_type)
{
        /* R-6.3.1-4: handshake ratchet for proposals and commits,
         * application ratchet for application data. */
        return content_type == MLS_CONTENT_APPLICATION ? MLS_RATCHET_APPLICATION
                                                       : MLS_RATCHET_HANDSHAKE;
}

/* RFC 9420 section 6.3.1: the nonce actually used is the ratchet nonce with
 * the reuse guard XORed into its first four bytes (R-6.3.1-6, R-6.3.2-6). */
static void
apply_reuse_guard(struct mls_key_nonce_buf *kn, const uint8_t guard[MLS_REUSE_GUARD_LEN])
{
        for (size_t i = 0; i < MLS_REUSE_GUARD_LEN; i++)
                kn->nonce[i] ^= guard[i];
}

static size_t
padding_len(const struct mls_frame_padding *pad, size_t len)
{
        if (!pad || pad->mode != MLS_FRAME_PAD_BLOCK || pad->block <= 1)
                return 0;
        return (pad->block - len % pad->block) % pad->block;
}

static int
padding_check(const struct mls_frame_padding *pad)
{
        if (!pad)
                return 0;
        switch (pad->mode) {
        case MLS_FRAME_PAD_NONE:
                return 0;
        case MLS_FRAME_PAD_BLOCK:
                return pad->block >= 1 && pad->block <= MLS_FRAME_PAD_MAX_BLOCK
                               ? 0
                               : MLS_E_INVALID_ARGUMENT;
        }
        return MLS_E_INVALID_ARGUMENT;
}

/*
 * RFC 9420 section 6.3.1 (R-6.3.1-1, R-6.3.1-2):
 *   struct {
 *       select (PrivateMessage.content_type) {
 *           case application: opaque application_data<V>;
 *           case proposal:    Proposal proposal;
 *           case commit:      Commit commit;
 *       };
 *       FramedContentAuthData auth;
 *       opaque padding[length_of_padding];
 *   } PrivateMessageContent;
 * Written into a secure writer: the plaintext is confidential.
 */
static int
private_content_encode(struct mls_writer *w, const struct mls_authenticated_content *ac,
                       const struct mls_frame_padding *pad)
{
        static const uint8_t zeros[64];
        const struct mls_framed_content *fc = &ac->content;
        size_t left;

        switch (fc->content_type) {
        case MLS_CONTENT_APPLICATION:
                MLS_TRY(mls_writer_opaque(w, fc->application_data.data,
                                          fc->application_data.len));
                break;
        case MLS_CONTENT_PROPOSAL:
                MLS_TRY(mls_proposal_encode(w, &fc->proposal));
                break;
        case MLS_CONTENT_COMMIT:
                MLS_TRY(mls_commit_encode(w, &fc->commit));
                break;
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
        MLS_TRY(mls_framed_content_auth_data_encode(w, fc->content_type, &ac->auth));
        /* R-6.3.1-2: zero bytes only. */
        for (left = padding_len(pad, w->len); left > 0;) {
                size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

                MLS_TRY(mls_writer_raw(w, zeros, n));
                left -= n;
        }
        return 0;
}

/* RFC 9420 section 6.3.1 (R-6.3.1-8): the encoded PrivateContentAAD. */
static int
content_aad_encode(const struct mls_bytes *group_id, uint64_t epoch, uint8_t content_type,
                   const struct mls_bytes *authenticated_data, struct mls_bytes *ret_aad)
{
        _mls_writer_ struct mls_writer w = { 0 };
        /* Borrowed views; never cleared. */
        struct mls_private_content_aad aad = {
                .group_id = *group_id,
                .epoch = epoch,
                .content_type = content_type,
                .authenticated_data = *authenticated_data,
        };

        mls_writer_init(&w);
        MLS_TRY(mls_private_content_aad_encode(&w, &aad));
        return mls_writer_finish(&w, ret_aad);
}

/* RFC 9420 section 6.3.2 (R-6.3.2-4): the encoded SenderDataAAD. */
static int
sender_data_aad_encode(const struct mls_bytes *group_id, uint64_t epoch, uint8_t content_type,
                       struct mls_bytes *ret_aad)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mls_sender_data_aad aad = {
                .group_id = *group_id,
                .epoch = epoch,
                .content_type = content_type,
        };

        mls_writer_init(&w);
        MLS_TRY(mls_sender_data_aad_encode(&w, &aad));
        return mls_writer_finish(&w, ret_aad);
}

/* AEAD seal into a new heap buffer of pt_len + Nt bytes. */
static int
seal_new(const struct mls_suite *s, const struct mls_key_nonce_buf *kn,
         const struct mls_bytes *aad, const uint8_t *pt, size_t pt_len, struct mls_bytes *ret_ct)
{
        _mls_free_ uint8_t *out = NULL;
        size_t n;

        MLS_TRY(mls_size_add(pt_len, s->aead_tag_len, &n));
        out = malloc(n);
        if (!out)
                return MLS_E_NOMEM;
        MLS_TRY(mls_crypto_aead_seal(s, kn->key, kn->nonce, aad->data, aad->len, pt, pt_len,
                                     out));
        *ret_ct = (struct mls_bytes){ .data = MLS_TAKE(out), .len = n };
        return 0;
}

/* A guarded plaintext buffer from a pool (or sodium_malloc without one). */
struct pooled_pt {
        struct mls_gpool *pool;
        uint8_t *data;
        size_t len, cap;
};

static void
pooled_pt_release(struct pooled_pt *p)
{
        if (p->data)
                mls_gpool_release(p->pool, p->data, p->cap); /* wipes */
        p->data = NULL;
}

/* AEAD open into a guarded buffer from pool; MLS_E_DECRYPT for a ciphertext
 * shorter than the tag or one that does not authenticate. */
static int
open_pooled(const struct mls_suite *s, struct mls_gpool *pool, const struct mls_key_nonce_buf *kn,
            const struct mls_bytes *aad, const struct mls_bytes *ct, struct pooled_pt *ret_pt)
{
        _mls_cleanup_(pooled_pt_release) struct pooled_pt pt = { .pool = pool };

        if (ct->len < s->aead_tag_len)
                return MLS_E_DECRYPT;
        pt.len = ct->len - s->aead_tag_len;
        pt.data = mls_gpool_alloc(pool, pt.len, &pt.cap);
        if (!pt.data)
                return MLS_E_NOMEM;
        MLS_TRY(mls_crypto_aead_open(s, kn->key, kn->nonce, aad->data, aad->len, ct->data,
                                     ct->len, pt.data));
        *ret_pt = pt;
        pt.data = NULL;
        return 0;
}

/* AEAD open into a new guarded buffer; MLS_E_DECRYPT for a ciphertext
 * shorter than the tag or one that does not authenticate. */
static int
open_secret(const struct mls_suite *s, const struct mls_key_nonce_buf *kn,
            const struct mls_bytes *aad, const struct mls_bytes *ct, struct mls_secret **ret_pt)
{
        _mls_secret_ struct mls_secret *pt = NULL;

        if (ct->len < s->aead_tag_len)
                return MLS_E_DECRYPT;
        MLS_TRY(mls_secret_new(ct->len - s->aead_tag_len, &pt));
        MLS_TRY(mls_crypto_aead_open(s, kn->key, kn->nonce, aad->data, aad->len, ct->data,
                                     ct->len, pt->data));
        *ret_pt = MLS_TAKE(pt);
        return 0;
}

/* The encoded size of PrivateMessageContent: exact for application data
 *   opaque application_data<V>; FramedContentAuthData auth (signature<V>);
 *   padding
 * and a guess for proposals and commits (the writer grows past it). */
static int
private_content_size_hint(const struct mls_authenticated_content *ac,
                          const struct mls_frame_padding *pad, size_t *ret_size)
{
        const struct mls_framed_content *fc = &ac->content;
        size_t n = 0, body;

        if (fc->content_type == MLS_CONTENT_APPLICATION)
                body = mls_varint_size(fc->application_data.len) + fc->application_data.len;
        else
                body = 1024;
        MLS_TRY(mls_size_add(n, body, &n));
        MLS_TRY(mls_size_add(n, mls_varint_size(ac->auth.signature.len), &n));
        MLS_TRY(mls_size_add(n, ac->auth.signature.len, &n));
        if (fc->content_type == MLS_CONTENT_COMMIT) {
                MLS_TRY(mls_size_add(n, mls_varint_size(ac->auth.confirmation_tag.len), &n));
                MLS_TRY(mls_size_add(n, ac->auth.confirmation_tag.len, &n));
        }
        MLS_TRY(mls_size_add(n, padding_len(pad, n), &n));
        *ret_size = n;
        return 0;
}

int
mls_frame_private_protect(const struct mls_frame_group *g,
                          const struct mls_authenticated_content *ac,
                          const uint8_t *sender_data_secret, size_t sds_len,
                          struct mls_secret_tree *tree, const struct mls_frame_padding *pad,
                          const struct mls_rng *rng, struct mls_bytes *ret_msg)
{
        _mls_writer_ struct mls_writer pt = { 0 }, out = { 0 };
        _bytes_ struct mls_bytes aad = { 0 }, sd_aad = { 0 }, sd_bytes = { 0 };
        _mls_key_nonce_buf_ struct mls_key_nonce_buf kn = { 0 }, sd_kn = { 0 };
        _mls_cleanup_(guard_wipe) uint8_t guard[MLS_REUSE_GUARD_LEN] = { 0 };
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };
        const struct mls_framed_content *fc;
        struct mls_sender_data sd;
        const struct mls_suite *s;
        size_t pt_size;

        if (!group_valid(g) || !ac || !sender_data_secret || !tree || !rng || !ret_msg)
                return MLS_E_INVALID_ARGUMENT;
        s = g->suite;
        fc = &ac->content;
        if (sds_len != s->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(padding_check(pad));
        if (ac->wire_format != MLS_WIRE_PRIVATE_MESSAGE)
                return MLS_E_WRONG_WIRE_FORMAT;
        /* R-6.3.2-2: SenderData exists for member senders only. */
        if (fc->sender.sender_type != MLS_SENDER_MEMBER)
                return MLS_E_INVALID_SENDER;
        MLS_TRY(check_group_epoch(g, &fc->group_id, fc->epoch));
        if (ac->auth.signature.len == 0)
                return MLS_E_INVALID_ARGUMENT;
        if (fc->content_type == MLS_CONTENT_COMMIT && ac->auth.confirmation_tag.len == 0)
                return MLS_E_INVALID_ARGUMENT;

        /* R-6.3.1-1, R-6.3.1-2: content || auth || zero padding, in guarded
         * memory: the one guarded allocation of a protect (the key and
         * nonces below live in wiped stack buffers). */
        MLS_TRY(private_content_size_hint(ac, pad, &pt_size));
        mls_writer_init_pool(&pt, g->pool);
        MLS_TRY(mls_writer_reserve(&pt, pt_size));
        MLS_TRY(private_content_encode(&pt, ac, pad));
        /* R-6.3.1-8 */
        MLS_TRY(content_aad_encode(&fc->group_id, fc->epoch, fc->content_type,
                                   &fc->authenticated_data, &aad));

        m.version = MLS_VERSION_MLS10;
        m.wire_format = MLS_WIRE_PRIVATE_MESSAGE;
        MLS_TRY(mls_bytes_dup(&m.private_message.group_id, &fc->group_id));
        m.private_message.epoch = fc->epoch;
        m.private_message.content_type = fc->content_type;
        MLS_TRY(mls_bytes_dup(&m.private_message.authenticated_data, &fc->authenticated_data));

        /* R-6.3.1-4: an unused generation of our own ratchet (consumed here
         * whatever happens next: a generation is never used twice). */
        MLS_TRY(mls_st_next_into(tree, fc->sender.leaf_index, ratchet_for(fc->content_type),
                                 &kn));
        /* R-6.3.1-6: a fresh random reuse guard per message. */
        MLS_TRY(mls_rng_fill(rng, guard, sizeof(guard)));
        apply_reuse_guard(&kn, guard);
        MLS_TRY(seal_new(s, &kn, &aad, pt.buf, pt.len, &m.private_message.ciphertext));
        sd = (struct mls_sender_data){
                .leaf_index = fc->sender.leaf_index,
                .generation = kn.generation,
        };
        /* The content key and nonce are not needed any more. */
        mls_key_nonce_buf_clear(&kn);
        mls_writer_clear(&pt);
        /* R-6.3.1-7: the guard travels in SenderData. */
        memcpy(sd.reuse_guard, guard, sizeof(guard));

        /* R-6.3.2-1: SenderData = leaf_index || generation || reuse_guard. */
        MLS_TRY(mls_sender_data_to_bytes(&sd, &sd_bytes));
        mls_sender_data_clear(&sd);
        /* R-6.3.2-3: key and nonce from the ciphertext sample. */
        MLS_TRY(mls_st_sender_data_key_into(s, sender_data_secret, sds_len,
                                            m.private_message.ciphertext.data,
                                            m.private_message.ciphertext.len, &sd_kn));
        /* R-6.3.2-4 */
        MLS_TRY(sender_data_aad_encode(&fc->group_id, fc->epoch, fc->content_type, &sd_aad));
        MLS_TRY(seal_new(s, &sd_kn, &sd_aad, sd_bytes.data, sd_bytes.len,
                         &m.private_message.encrypted_sender_data));
        mls_key_nonce_buf_clear(&sd_kn);
        mls_wipe(sd_bytes.data, sd_bytes.len);

        mls_writer_init(&out);
        MLS_TRY(mls_message_encode(&out, &m));
        return mls_writer_finish(&out, ret_msg);
}

/* RFC 9420 section 6.3.2 (R-6.3.2-1): SenderData is u32 leaf_index ||
 * u32 generation || reuse_guard[4], 12 bytes. A well-formed one is opened
 * into a wiped stack buffer; a longer ciphertext (which can only be
 * malformed, but must still tell MLS_E_DECRYPT from MLS_E_INVALID_MESSAGE)
 * into guarded memory. */
#define SENDER_DATA_STACK 64

static void
sd_buf_wipe(uint8_t (*p)[SENDER_DATA_STACK])
{
        mls_wipe(*p, sizeof(*p));
}

static int
open_sender_data(const struct mls_suite *s, const struct mls_key_nonce_buf *kn,
                 const struct mls_bytes *aad, const struct mls_bytes *ct,
                 struct mls_sender_data *ret_sd)
{
        _mls_cleanup_(sd_buf_wipe) uint8_t buf[SENDER_DATA_STACK];
        _mls_secret_ struct mls_secret *big = NULL;
        const uint8_t *pt;
        size_t pt_len;

        if (ct->len < s->aead_tag_len)
                return MLS_E_DECRYPT;
        pt_len = ct->len - s->aead_tag_len;
        if (pt_len <= sizeof(buf)) {
                MLS_TRY(mls_crypto_aead_open(s, kn->key, kn->nonce, aad->data, aad->len,
                                             ct->data, ct->len, buf));
                pt = buf;
        } else {
                MLS_TRY(open_secret(s, kn, aad, ct, &big));
                pt = big->data;
        }
        /* It authenticated, so a malformed SenderData means the sender is
         * broken: the message is malformed. */
        if (mls_sender_data_from_bytes(pt, pt_len, ret_sd) < 0)
                return MLS_E_INVALID_MESSAGE;
        return 0;
}

/* Moves the arm of PrivateMessageContent into a FramedContent of the same
 * content_type. */
static void
content_move(struct mls_private_message_content *pmc, struct mls_framed_content *fc)
{
        switch (pmc->content_type) {
        case MLS_CONTENT_APPLICATION:
                fc->application_data = pmc->application_data;
                memset(&pmc->application_data, 0, sizeof(pmc->application_data));
                break;
        case MLS_CONTENT_PROPOSAL:
                fc->proposal = pmc->proposal;
                memset(&pmc->proposal, 0, sizeof(pmc->proposal));
                break;
        case MLS_CONTENT_COMMIT:
                fc->commit = pmc->commit;
                memset(&pmc->commit, 0, sizeof(pmc->commit));
                break;
        default:
                return;
        }
        fc->content_type = pmc->content_type;
}

int
mls_frame_private_unprotect(const struct mls_frame_group *g,
                            const struct mls_private_message *pm,
                            const uint8_t *sender_data_secret, size_t sds_len,
                            struct mls_secret_tree *tree,
                            const struct mls_frame_senders *senders,
                            struct mls_authenticated_content *ret_ac)
{
        _bytes_ struct mls_bytes sd_aad = { 0 }, aad = { 0 };
        _mls_key_nonce_buf_ struct mls_key_nonce_buf sd_kn = { 0 }, kn = { 0 }, commit_kn = { 0 };
        _mls_cleanup_(pooled_pt_release) struct pooled_pt pt = { 0 };
        _mls_cleanup_(mls_private_message_content_clear) struct mls_private_message_content pmc = {
                0
        };
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_cleanup_(mls_sender_data_clear) struct mls_sender_data sd = { 0 };
        enum mls_ratchet_type type;
        const struct mls_suite *s;
        const uint8_t *pub = NULL;
        size_t pub_len = 0;
        struct mls_reader r;

        if (!group_valid(g) || !pm || !sender_data_secret || !tree || !ret_ac)
                return MLS_E_INVALID_ARGUMENT;
        s = g->suite;
        if (sds_len != s->hash_len)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(check_group_epoch(g, &pm->group_id, pm->epoch));
        switch (pm->content_type) {
        case MLS_CONTENT_APPLICATION:
        case MLS_CONTENT_PROPOSAL:
        case MLS_CONTENT_COMMIT:
                break;
        default:
                /* R-6-5 (the decoder never produces this). */
                return MLS_E_BAD_ENUM;
        }
        type = ratchet_for(pm->content_type);

        /* R-6.3.2-3, R-6.3.2-4: open SenderData. */
        MLS_TRY(mls_st_sender_data_key_into(s, sender_data_secret, sds_len, pm->ciphertext.data,
                                            pm->ciphertext.len, &sd_kn));
        MLS_TRY(sender_data_aad_encode(&pm->group_id, pm->epoch, pm->content_type, &sd_aad));
        MLS_TRY(open_sender_data(s, &sd_kn, &sd_aad, &pm->encrypted_sender_data, &sd));
        mls_key_nonce_buf_clear(&sd_kn);

        /* R-6.3.2-5: the leaf must be in the tree and a member (non-blank)
         * before anything is derived for it. */
        if (sd.leaf_index >= mls_st_n_leaves(tree))
                return MLS_E_TREE_INDEX;
        ac.wire_format = MLS_WIRE_PRIVATE_MESSAGE;
        ac.content.sender = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER,
                                                 .leaf_index = sd.leaf_index };
        MLS_TRY(sender_key(&ac.content, senders, &pub, &pub_len));

        /* R-6.3.2-6, R-9.2-5: the key of that generation under the window
         * rules of the secret tree, looked at without consuming it: the real
         * tree changes only once the message is authenticated, so a forged
         * message cannot burn a genuine one's key. */
        MLS_TRY(mls_st_peek_into(tree, sd.leaf_index, type, sd.generation, &kn));
        apply_reuse_guard(&kn, sd.reuse_guard);
        /* R-6.3.1-8 */
        MLS_TRY(content_aad_encode(&pm->group_id, pm->epoch, pm->content_type,
                                   &pm->authenticated_data, &aad));
        /* The one guarded allocation of an unprotect: the plaintext (none
         * when the group lends a warm pool). */
        MLS_TRY(open_pooled(s, g->pool, &kn, &aad, &pm->ciphertext, &pt));
        mls_key_nonce_buf_clear(&kn);

        /* R-6.3.1-1, R-6.3.1-3: content, auth, then zero padding (the
         * decoder reads everything and rejects a non-zero padding byte). */
        mls_reader_init(&r, pt.data, pt.len);
        MLS_TRY(mls_private_message_content_decode(&r, pm->content_type, &pmc));
        MLS_TRY(mls_reader_done(&r));
        pooled_pt_release(&pt);

        /* Rebuild FramedContent (RFC 9420 section 6.3.1). */
        MLS_TRY(mls_bytes_dup(&ac.content.group_id, &pm->group_id));
        ac.content.epoch = pm->epoch;
        MLS_TRY(mls_bytes_dup(&ac.content.authenticated_data, &pm->authenticated_data));
        content_move(&pmc, &ac.content);
        ac.auth = pmc.auth;
        memset(&pmc.auth, 0, sizeof(pmc.auth));

        /* R-6.3.1-9: FramedContentTBS with wire_format private_message, the
         * SenderData leaf and the GroupContext. */
        MLS_TRY(mls_frame_verify(g, &ac, pub, pub_len));

        /* Authenticated: now consume the generation in the real tree
         * (R-9.2-4, R-9.2-5). Deterministic, so it yields the same key. */
        MLS_TRY(mls_st_get_into(tree, sd.leaf_index, type, sd.generation, &commit_kn));
        mls_key_nonce_buf_clear(&commit_kn);

        *ret_ac = ac;
        memset(&ac, 0, sizeof(ac));
        return 0;
}
