/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9420 wire structures, part 3: message framing (section 6): Sender,
 * FramedContent, FramedContentAuthData, AuthenticatedContent, the TBS/TBM
 * encodings, PublicMessage, PrivateMessage, SenderData,
 * PrivateMessageContent, the two AAD structures, and MLSMessage.
 * Contracts: mls/messages.h.
 */
#include "mls/messages-internal.h"

/* ---- Sender ---- */

/*
 * RFC 9420 section 6:
 *   enum { reserved(0), member(1), external(2), new_member_proposal(3),
 *          new_member_commit(4), (255) } SenderType;
 *   struct {
 *       SenderType sender_type;
 *       select (Sender.sender_type) {
 *           case member:              uint32 leaf_index;
 *           case external:            uint32 sender_index;
 *           case new_member_commit:
 *           case new_member_proposal: struct{};
 *       };
 *   } Sender;
 * R-6-5: a reserved or unknown SenderType is rejected (MLS_E_BAD_ENUM).
 */
int
mls_sender_decode(struct mls_reader *r, struct mls_sender *ret)
{
        struct mls_sender t = { 0 };

        MLS_TRY(mls_reader_u8(r, &t.sender_type));
        switch (t.sender_type) {
        case MLS_SENDER_MEMBER:
                MLS_TRY(mls_reader_u32(r, &t.leaf_index));
                break;
        case MLS_SENDER_EXTERNAL:
                MLS_TRY(mls_reader_u32(r, &t.sender_index));
                break;
        case MLS_SENDER_NEW_MEMBER_PROPOSAL:
        case MLS_SENDER_NEW_MEMBER_COMMIT:
                break;
        default:
                /* R-6-5 */
                return MLS_E_BAD_ENUM;
        }
        *ret = t;
        return 0;
}

int
mls_sender_encode(struct mls_writer *w, const struct mls_sender *x)
{
        switch (x->sender_type) {
        case MLS_SENDER_MEMBER:
                MLS_TRY(mls_writer_u8(w, x->sender_type));
                return mls_writer_u32(w, x->leaf_index);
        case MLS_SENDER_EXTERNAL:
                MLS_TRY(mls_writer_u8(w, x->sender_type));
                return mls_writer_u32(w, x->sender_index);
        case MLS_SENDER_NEW_MEMBER_PROPOSAL:
        case MLS_SENDER_NEW_MEMBER_COMMIT:
                return mls_writer_u8(w, x->sender_type);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

void
mls_sender_clear(struct mls_sender *x)
{
        if (x)
                *x = (struct mls_sender){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(sender)

/* ---- content selected by ContentType (FramedContent, PrivateMessageContent) ---- */

/* The three arms shared by FramedContent and PrivateMessageContent:
 *   select (content_type) {
 *       case application: opaque application_data<V>;
 *       case proposal:    Proposal proposal;
 *       case commit:      Commit commit;
 *   };
 * The caller has checked content_type. */
static MLS_MUST_CHECK int
content_decode(struct mls_reader *r, uint8_t content_type, struct mls_bytes *app,
               struct mls_proposal *prop, struct mls_commit *commit)
{
        switch (content_type) {
        case MLS_CONTENT_APPLICATION:
                return mls_reader_opaque(r, app);
        case MLS_CONTENT_PROPOSAL:
                return mls_proposal_decode(r, prop);
        case MLS_CONTENT_COMMIT:
                return mls_commit_decode(r, commit);
        default:
                return MLS_E_BAD_ENUM;
        }
}

static MLS_MUST_CHECK int
content_encode(struct mls_writer *w, uint8_t content_type, const struct mls_bytes *app,
               const struct mls_proposal *prop, const struct mls_commit *commit)
{
        switch (content_type) {
        case MLS_CONTENT_APPLICATION:
                return mls_writer_bytes_(w, app);
        case MLS_CONTENT_PROPOSAL:
                return mls_proposal_encode(w, prop);
        case MLS_CONTENT_COMMIT:
                return mls_commit_encode(w, commit);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

static void
content_clear(uint8_t content_type, struct mls_bytes *app, struct mls_proposal *prop,
              struct mls_commit *commit)
{
        switch (content_type) {
        case MLS_CONTENT_APPLICATION:
                mls_bytes_clear(app);
                break;
        case MLS_CONTENT_PROPOSAL:
                mls_proposal_clear(prop);
                break;
        case MLS_CONTENT_COMMIT:
                mls_commit_clear(commit);
                break;
        default:
                break;
        }
}

/* ---- FramedContent ---- */

/*
 * RFC 9420 section 6:
 *   struct {
 *       opaque group_id<V>;
 *       uint64 epoch;
 *       Sender sender;
 *       opaque authenticated_data<V>;
 *
 *       ContentType content_type;
 *       select (FramedContent.content_type) {
 *           case application: opaque application_data<V>;
 *           case proposal:    Proposal proposal;
 *           case commit:      Commit commit;
 *       };
 *   } FramedContent;
 * R-6-5: ContentType is enum { reserved(0), application(1), proposal(2),
 * commit(3), (255) }; other values are MLS_E_BAD_ENUM.
 */
int
mls_framed_content_decode(struct mls_reader *r, struct mls_framed_content *ret)
{
        _mls_cleanup_(mls_framed_content_clear) struct mls_framed_content t = { 0 };
        uint8_t ct;

        MLS_TRY(mls_reader_opaque(r, &t.group_id));
        MLS_TRY(mls_reader_u64(r, &t.epoch));
        MLS_TRY(mls_sender_decode(r, &t.sender));
        MLS_TRY(mls_reader_opaque(r, &t.authenticated_data));
        MLS_TRY(mls_reader_u8(r, &ct));
        /* R-6-5 */
        if (!mls_content_type_valid_(ct))
                return MLS_E_BAD_ENUM;
        t.content_type = ct;
        MLS_TRY(content_decode(r, ct, &t.application_data, &t.proposal, &t.commit));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_framed_content_encode(struct mls_writer *w, const struct mls_framed_content *x)
{
        MLS_TRY(mls_writer_bytes_(w, &x->group_id));
        MLS_TRY(mls_writer_u64(w, x->epoch));
        MLS_TRY(mls_sender_encode(w, &x->sender));
        MLS_TRY(mls_writer_bytes_(w, &x->authenticated_data));
        if (!mls_content_type_valid_(x->content_type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_u8(w, x->content_type));
        return content_encode(w, x->content_type, &x->application_data, &x->proposal,
                              &x->commit);
}

void
mls_framed_content_clear(struct mls_framed_content *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->group_id);
        mls_bytes_clear(&x->authenticated_data);
        content_clear(x->content_type, &x->application_data, &x->proposal, &x->commit);
        memset(x, 0, sizeof(*x));
}

MLS_MESSAGES_DEFINE_BYTES_(framed_content)

/* ---- FramedContentAuthData ---- */

/*
 * RFC 9420 section 6.1:
 *   opaque MAC<V>;
 *   struct {
 *       // SignWithLabel(., "FramedContentTBS", FramedContentTBS)
 *       opaque signature<V>;
 *       select (FramedContent.content_type) {
 *           case commit:      MAC confirmation_tag;
 *           case application:
 *           case proposal:    struct{};
 *       };
 *   } FramedContentAuthData;
 * R-6.1-11: confirmation_tag is present exactly for commit content.
 */
int
mls_framed_content_auth_data_decode(struct mls_reader *r, uint8_t content_type,
                                    struct mls_framed_content_auth_data *ret)
{
        _mls_cleanup_(mls_framed_content_auth_data_clear) struct mls_framed_content_auth_data t = {
                0
        };

        if (!mls_content_type_valid_(content_type))
                return MLS_E_BAD_ENUM;
        MLS_TRY(mls_reader_opaque(r, &t.signature));
        /* R-6.1-11 */
        if (content_type == MLS_CONTENT_COMMIT)
                MLS_TRY(mls_reader_opaque(r, &t.confirmation_tag));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_framed_content_auth_data_encode(struct mls_writer *w, uint8_t content_type,
                                    const struct mls_framed_content_auth_data *x)
{
        if (!mls_content_type_valid_(content_type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_bytes_(w, &x->signature));
        /* R-6.1-11 */
        if (content_type == MLS_CONTENT_COMMIT)
                MLS_TRY(mls_writer_bytes_(w, &x->confirmation_tag));
        return 0;
}

void
mls_framed_content_auth_data_clear(struct mls_framed_content_auth_data *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->signature);
        mls_bytes_clear(&x->confirmation_tag);
}

/* ---- AuthenticatedContent ---- */

/*
 * RFC 9420 section 6:
 *   struct {
 *       WireFormat wire_format;
 *       FramedContent content;
 *       FramedContentAuthData auth;
 *   } AuthenticatedContent;
 * Content is authenticated only inside a PublicMessage or PrivateMessage:
 * the other registered wire formats are MLS_E_WRONG_WIRE_FORMAT,
 * unregistered ones MLS_E_BAD_ENUM (R-6-4).
 */
static MLS_MUST_CHECK int
ac_wire_format_check(uint16_t wf)
{
        switch (wf) {
        case MLS_WIRE_PUBLIC_MESSAGE:
        case MLS_WIRE_PRIVATE_MESSAGE:
                return 0;
        case MLS_WIRE_WELCOME:
        case MLS_WIRE_GROUP_INFO:
        case MLS_WIRE_KEY_PACKAGE:
                return MLS_E_WRONG_WIRE_FORMAT;
        default:
                /* R-6-4 */
                return MLS_E_BAD_ENUM;
        }
}

int
mls_authenticated_content_decode(struct mls_reader *r, struct mls_authenticated_content *ret)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content t = { 0 };

        MLS_TRY(mls_reader_u16(r, &t.wire_format));
        MLS_TRY(ac_wire_format_check(t.wire_format));
        MLS_TRY(mls_framed_content_decode(r, &t.content));
        MLS_TRY(mls_framed_content_auth_data_decode(r, t.content.content_type, &t.auth));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_authenticated_content_encode(struct mls_writer *w, const struct mls_authenticated_content *x)
{
        MLS_TRY(ac_wire_format_check(x->wire_format));
        MLS_TRY(mls_writer_u16(w, x->wire_format));
        MLS_TRY(mls_framed_content_encode(w, &x->content));
        return mls_framed_content_auth_data_encode(w, x->content.content_type, &x->auth);
}

void
mls_authenticated_content_clear(struct mls_authenticated_content *x)
{
        if (!x)
                return;
        mls_framed_content_clear(&x->content);
        mls_framed_content_auth_data_clear(&x->auth);
        x->wire_format = 0;
}

MLS_MESSAGES_DEFINE_BYTES_(authenticated_content)

/* ---- FramedContentTBS, AuthenticatedContentTBM ---- */

/*
 * RFC 9420 section 6.1 (R-6.1-1):
 *   struct {
 *       ProtocolVersion version = mls10;
 *       WireFormat wire_format;
 *       FramedContent content;
 *       select (FramedContentTBS.content.sender.sender_type) {
 *           case member:
 *           case new_member_commit:   GroupContext context;
 *           case external:
 *           case new_member_proposal: struct{};
 *       };
 *   } FramedContentTBS;
 */
int
mls_framed_content_tbs_encode(struct mls_writer *w, uint16_t wire_format,
                              const struct mls_framed_content *content,
                              const struct mls_bytes *group_context)
{
        bool with_gc;

        switch (content->sender.sender_type) {
        case MLS_SENDER_MEMBER:
        case MLS_SENDER_NEW_MEMBER_COMMIT:
                with_gc = true;
                break;
        case MLS_SENDER_EXTERNAL:
        case MLS_SENDER_NEW_MEMBER_PROPOSAL:
                with_gc = false;
                break;
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
        if (with_gc && !group_context)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_u16(w, MLS_VERSION_MLS10));
        MLS_TRY(mls_writer_u16(w, wire_format));
        MLS_TRY(mls_framed_content_encode(w, content));
        if (with_gc)
                MLS_TRY(mls_writer_raw(w, group_context->data, group_context->len));
        return 0;
}

/*
 * RFC 9420 section 6.2 (R-6.2-1):
 *   struct {
 *       FramedContentTBS content_tbs;
 *       FramedContentAuthData auth;
 *   } AuthenticatedContentTBM;
 */
int
mls_authenticated_content_tbm_encode(struct mls_writer *w,
                                     const struct mls_authenticated_content *ac,
                                     const struct mls_bytes *group_context)
{
        MLS_TRY(mls_framed_content_tbs_encode(w, ac->wire_format, &ac->content, group_context));
        return mls_framed_content_auth_data_encode(w, ac->content.content_type, &ac->auth);
}

/* ---- PublicMessage ---- */

/*
 * RFC 9420 section 6.2:
 *   struct {
 *       FramedContent content;
 *       FramedContentAuthData auth;
 *       select (PublicMessage.content.sender.sender_type) {
 *           case member:              MAC membership_tag;
 *           case external:
 *           case new_member_commit:
 *           case new_member_proposal: struct{};
 *       };
 *   } PublicMessage;
 * R-6.2-2: membership_tag is present for member senders only.
 * Application content in a PublicMessage parses here; refusing it
 * (RFC 9420 section 6) is the framing layer's job.
 */
int
mls_public_message_decode(struct mls_reader *r, struct mls_public_message *ret)
{
        _mls_cleanup_(mls_public_message_clear) struct mls_public_message t = { 0 };

        MLS_TRY(mls_framed_content_decode(r, &t.content));
        MLS_TRY(mls_framed_content_auth_data_decode(r, t.content.content_type, &t.auth));
        /* R-6.2-2 */
        if (t.content.sender.sender_type == MLS_SENDER_MEMBER)
                MLS_TRY(mls_reader_opaque(r, &t.membership_tag));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_public_message_encode(struct mls_writer *w, const struct mls_public_message *x)
{
        MLS_TRY(mls_framed_content_encode(w, &x->content));
        MLS_TRY(mls_framed_content_auth_data_encode(w, x->content.content_type, &x->auth));
        /* R-6.2-2 */
        if (x->content.sender.sender_type == MLS_SENDER_MEMBER)
                MLS_TRY(mls_writer_bytes_(w, &x->membership_tag));
        return 0;
}

void
mls_public_message_clear(struct mls_public_message *x)
{
        if (!x)
                return;
        mls_framed_content_clear(&x->content);
        mls_framed_content_auth_data_clear(&x->auth);
        mls_bytes_clear(&x->membership_tag);
}

MLS_MESSAGES_DEFINE_BYTES_(public_message)

/* ---- PrivateMessage ---- */

/*
 * RFC 9420 section 6.3:
 *   struct {
 *       opaque group_id<V>;
 *       uint64 epoch;
 *       ContentType content_type;
 *       opaque authenticated_data<V>;
 *       opaque encrypted_sender_data<V>;
 *       opaque ciphertext<V>;
 *   } PrivateMessage;
 * R-6-5: content_type outside application/proposal/commit: MLS_E_BAD_ENUM.
 */
int
mls_private_message_decode(struct mls_reader *r, struct mls_private_message *ret)
{
        _mls_cleanup_(mls_private_message_clear) struct mls_private_message t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.group_id));
        MLS_TRY(mls_reader_u64(r, &t.epoch));
        MLS_TRY(mls_reader_u8(r, &t.content_type));
        /* R-6-5 */
        if (!mls_content_type_valid_(t.content_type))
                return MLS_E_BAD_ENUM;
        MLS_TRY(mls_reader_opaque(r, &t.authenticated_data));
        MLS_TRY(mls_reader_opaque(r, &t.encrypted_sender_data));
        MLS_TRY(mls_reader_opaque(r, &t.ciphertext));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_private_message_encode(struct mls_writer *w, const struct mls_private_message *x)
{
        if (!mls_content_type_valid_(x->content_type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_bytes_(w, &x->group_id));
        MLS_TRY(mls_writer_u64(w, x->epoch));
        MLS_TRY(mls_writer_u8(w, x->content_type));
        MLS_TRY(mls_writer_bytes_(w, &x->authenticated_data));
        MLS_TRY(mls_writer_bytes_(w, &x->encrypted_sender_data));
        return mls_writer_bytes_(w, &x->ciphertext);
}

void
mls_private_message_clear(struct mls_private_message *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->group_id);
        mls_bytes_clear(&x->authenticated_data);
        mls_bytes_clear(&x->encrypted_sender_data);
        mls_bytes_clear(&x->ciphertext);
        *x = (struct mls_private_message){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(private_message)

/* ---- SenderData ---- */

/*
 * RFC 9420 section 6.3.2 (R-6.3.2-1):
 *   struct {
 *       uint32 leaf_index;
 *       uint32 generation;
 *       opaque reuse_guard[4];
 *   } SenderData;
 */
int
mls_sender_data_decode(struct mls_reader *r, struct mls_sender_data *ret)
{
        struct mls_sender_data t;
        const uint8_t *g;

        MLS_TRY(mls_reader_u32(r, &t.leaf_index));
        MLS_TRY(mls_reader_u32(r, &t.generation));
        MLS_TRY(mls_reader_raw(r, MLS_REUSE_GUARD_LEN, &g));
        memcpy(t.reuse_guard, g, MLS_REUSE_GUARD_LEN);
        *ret = t;
        return 0;
}

int
mls_sender_data_encode(struct mls_writer *w, const struct mls_sender_data *x)
{
        MLS_TRY(mls_writer_u32(w, x->leaf_index));
        MLS_TRY(mls_writer_u32(w, x->generation));
        return mls_writer_raw(w, x->reuse_guard, MLS_REUSE_GUARD_LEN);
}

void
mls_sender_data_clear(struct mls_sender_data *x)
{
        if (x)
                mls_wipe(x, sizeof(*x));
}

MLS_MESSAGES_DEFINE_BYTES_(sender_data)

/* ---- PrivateMessageContent ---- */

/*
 * RFC 9420 section 6.3.1 (R-6.3.1-1):
 *   struct {
 *       select (PrivateMessage.content_type) {
 *           case application: opaque application_data<V>;
 *           case proposal:    Proposal proposal;
 *           case commit:      Commit commit;
 *       };
 *       FramedContentAuthData auth;
 *       opaque padding[length_of_padding];
 *   } PrivateMessageContent;
 * "the padding field comprises any remaining octets of plaintext. The
 * padding field MUST be filled with all zero bytes. A receiver MUST verify
 * that there are no non-zero bytes in the padding field, and if this check
 * fails, the enclosing PrivateMessage MUST be rejected as malformed."
 * This decoder consumes the whole reader.
 */
int
mls_private_message_content_decode(struct mls_reader *r, uint8_t content_type,
                                   struct mls_private_message_content *ret)
{
        _mls_cleanup_(mls_private_message_content_clear) struct mls_private_message_content t = {
                0
        };
        uint8_t nonzero = 0;

        if (!mls_content_type_valid_(content_type))
                return MLS_E_BAD_ENUM;
        t.content_type = content_type;
        MLS_TRY(content_decode(r, content_type, &t.application_data, &t.proposal, &t.commit));
        MLS_TRY(mls_framed_content_auth_data_decode(r, content_type, &t.auth));
        t.padding_len = r->left;
        /* R-6.3.1-3: every padding byte is zero. Accumulate rather than stop
         * at the first non-zero byte: the time taken does not depend on
         * where the padding goes wrong. */
        while (!mls_reader_empty(r)) {
                uint8_t b;

                MLS_TRY(mls_reader_u8(r, &b));
                nonzero |= b;
        }
        if (nonzero)
                return MLS_E_BAD_PADDING;
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_private_message_content_encode(struct mls_writer *w,
                                   const struct mls_private_message_content *x)
{
        static const uint8_t zeros[64];

        MLS_TRY(content_encode(w, x->content_type, &x->application_data, &x->proposal,
                               &x->commit));
        MLS_TRY(mls_framed_content_auth_data_encode(w, x->content_type, &x->auth));
        /* R-6.3.1-2: padding is zero bytes only. */
        for (size_t left = x->padding_len; left > 0;) {
                size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

                MLS_TRY(mls_writer_raw(w, zeros, n));
                left -= n;
        }
        return 0;
}

void
mls_private_message_content_clear(struct mls_private_message_content *x)
{
        if (!x)
                return;
        content_clear(x->content_type, &x->application_data, &x->proposal, &x->commit);
        mls_framed_content_auth_data_clear(&x->auth);
        memset(x, 0, sizeof(*x));
}

/* ---- PrivateContentAAD, SenderDataAAD ---- */

/*
 * RFC 9420 section 6.3.1 (R-6.3.1-8):
 *   struct {
 *       opaque group_id<V>;
 *       uint64 epoch;
 *       ContentType content_type;
 *       opaque authenticated_data<V>;
 *   } PrivateContentAAD;
 */
int
mls_private_content_aad_decode(struct mls_reader *r, struct mls_private_content_aad *ret)
{
        _mls_cleanup_(mls_private_content_aad_clear) struct mls_private_content_aad t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.group_id));
        MLS_TRY(mls_reader_u64(r, &t.epoch));
        MLS_TRY(mls_reader_u8(r, &t.content_type));
        if (!mls_content_type_valid_(t.content_type))
                return MLS_E_BAD_ENUM;
        MLS_TRY(mls_reader_opaque(r, &t.authenticated_data));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_private_content_aad_encode(struct mls_writer *w, const struct mls_private_content_aad *x)
{
        if (!mls_content_type_valid_(x->content_type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_bytes_(w, &x->group_id));
        MLS_TRY(mls_writer_u64(w, x->epoch));
        MLS_TRY(mls_writer_u8(w, x->content_type));
        return mls_writer_bytes_(w, &x->authenticated_data);
}

void
mls_private_content_aad_clear(struct mls_private_content_aad *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->group_id);
        mls_bytes_clear(&x->authenticated_data);
        *x = (struct mls_private_content_aad){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(private_content_aad)

/*
 * RFC 9420 section 6.3.2 (R-6.3.2-4):
 *   struct {
 *       opaque group_id<V>;
 *       uint64 epoch;
 *       ContentType content_type;
 *   } SenderDataAAD;
 */
int
mls_sender_data_aad_decode(struct mls_reader *r, struct mls_sender_data_aad *ret)
{
        _mls_cleanup_(mls_sender_data_aad_clear) struct mls_sender_data_aad t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.group_id));
        MLS_TRY(mls_reader_u64(r, &t.epoch));
        MLS_TRY(mls_reader_u8(r, &t.content_type));
        if (!mls_content_type_valid_(t.content_type))
                return MLS_E_BAD_ENUM;
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_sender_data_aad_encode(struct mls_writer *w, const struct mls_sender_data_aad *x)
{
        if (!mls_content_type_valid_(x->content_type))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_bytes_(w, &x->group_id));
        MLS_TRY(mls_writer_u64(w, x->epoch));
        return mls_writer_u8(w, x->content_type);
}

void
mls_sender_data_aad_clear(struct mls_sender_data_aad *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->group_id);
        *x = (struct mls_sender_data_aad){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(sender_data_aad)

/* ---- MLSMessage ---- */

/*
 * RFC 9420 section 6:
 *   struct {
 *       ProtocolVersion version = mls10;
 *       WireFormat wire_format;
 *       select (MLSMessage.wire_format) {
 *           case mls_public_message:  PublicMessage public_message;
 *           case mls_private_message: PrivateMessage private_message;
 *           case mls_welcome:         Welcome welcome;
 *           case mls_group_info:      GroupInfo group_info;
 *           case mls_key_package:     KeyPackage key_package;
 *       };
 *   } MLSMessage;
 * R-6-4: a version other than mls10 (MLS_E_WRONG_VERSION) or a reserved or
 * unknown wire_format (MLS_E_BAD_ENUM) is rejected.
 * R-10-7: "the version of the KeyPackage MUST equal the version of the
 * MLSMessage" (MLS_E_WRONG_VERSION).
 */
int
mls_message_decode(struct mls_reader *r, struct mls_message *ret)
{
        _mls_cleanup_(mls_message_clear) struct mls_message t = { 0 };
        uint16_t wf;

        MLS_TRY(mls_reader_u16(r, &t.version));
        /* R-6-4 */
        if (t.version != MLS_VERSION_MLS10)
                return MLS_E_WRONG_VERSION;
        MLS_TRY(mls_reader_u16(r, &wf));
        switch (wf) {
        case MLS_WIRE_PUBLIC_MESSAGE:
        case MLS_WIRE_PRIVATE_MESSAGE:
        case MLS_WIRE_WELCOME:
        case MLS_WIRE_GROUP_INFO:
        case MLS_WIRE_KEY_PACKAGE:
                break;
        default:
                /* R-6-4 */
                return MLS_E_BAD_ENUM;
        }
        t.wire_format = wf;
        switch (wf) {
        case MLS_WIRE_PUBLIC_MESSAGE:
                MLS_TRY(mls_public_message_decode(r, &t.public_message));
                break;
        case MLS_WIRE_PRIVATE_MESSAGE:
                MLS_TRY(mls_private_message_decode(r, &t.private_message));
                break;
        case MLS_WIRE_WELCOME:
                MLS_TRY(mls_welcome_decode(r, &t.welcome));
                break;
        case MLS_WIRE_GROUP_INFO:
                MLS_TRY(mls_group_info_decode(r, &t.group_info));
                break;
        default:
                MLS_TRY(mls_key_package_decode(r, &t.key_package));
                /* R-10-7 */
                if (t.key_package.version != t.version)
                        return MLS_E_WRONG_VERSION;
                break;
        }
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_message_encode(struct mls_writer *w, const struct mls_message *x)
{
        if (x->version != MLS_VERSION_MLS10)
                return MLS_E_WRONG_VERSION;
        switch (x->wire_format) {
        case MLS_WIRE_PUBLIC_MESSAGE:
        case MLS_WIRE_PRIVATE_MESSAGE:
        case MLS_WIRE_WELCOME:
        case MLS_WIRE_GROUP_INFO:
                break;
        case MLS_WIRE_KEY_PACKAGE:
                /* R-10-7 */
                if (x->key_package.version != x->version)
                        return MLS_E_WRONG_VERSION;
                break;
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
        MLS_TRY(mls_writer_u16(w, x->version));
        MLS_TRY(mls_writer_u16(w, x->wire_format));
        switch (x->wire_format) {
        case MLS_WIRE_PUBLIC_MESSAGE:
                return mls_public_message_encode(w, &x->public_message);
        case MLS_WIRE_PRIVATE_MESSAGE:
                return mls_private_message_encode(w, &x->private_message);
        case MLS_WIRE_WELCOME:
                return mls_welcome_encode(w, &x->welcome);
        case MLS_WIRE_GROUP_INFO:
                return mls_group_info_encode(w, &x->group_info);
        default:
                return mls_key_package_encode(w, &x->key_package);
        }
}

void
mls_message_clear(struct mls_message *x)
{
        if (!x)
                return;
        switch (x->wire_format) {
        case MLS_WIRE_PUBLIC_MESSAGE:
                mls_public_message_clear(&x->public_message);
                break;
        case MLS_WIRE_PRIVATE_MESSAGE:
                mls_private_message_clear(&x->private_message);
                break;
        case MLS_WIRE_WELCOME:
                mls_welcome_clear(&x->welcome);
                break;
        case MLS_WIRE_GROUP_INFO:
                mls_group_info_clear(&x->group_info);
                break;
        case MLS_WIRE_KEY_PACKAGE:
                mls_key_package_clear(&x->key_package);
                break;
        default:
                break;
        }
        memset(x, 0, sizeof(*x));
}

MLS_MESSAGES_DEFINE_BYTES_(message)

/* ---- sender / content combinations ---- */

/*
 * RFC 9420 section 6.1: "external: ... The content_type of the message
 * MUST be proposal and the proposal_type MUST be a value that is allowed
 * for external senders. new_member_commit: ... The content_type of the
 * message MUST be commit. new_member_proposal: ... The content_type of the
 * message MUST be proposal and the proposal_type of the Proposal MUST be
 * add." Section 12.1.8: the proposal types an external sender may send
 * are add, remove, psk, reinit and group_context_extensions.
 */
int
mls_framed_content_check_sender(const struct mls_framed_content *fc)
{
        switch (fc->sender.sender_type) {
        case MLS_SENDER_MEMBER:
                return 0;
        case MLS_SENDER_EXTERNAL:
                /* R-6.1-4, R-12.1.8-4 */
                if (fc->content_type != MLS_CONTENT_PROPOSAL)
                        return MLS_E_INVALID_SENDER;
                switch (fc->proposal.proposal_type) {
                case MLS_PROPOSAL_ADD:
                case MLS_PROPOSAL_REMOVE:
                case MLS_PROPOSAL_PSK:
                case MLS_PROPOSAL_REINIT:
                case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
                        return 0;
                default:
                        return MLS_E_INVALID_SENDER;
                }
        case MLS_SENDER_NEW_MEMBER_COMMIT:
                /* R-6.1-6 */
                return fc->content_type == MLS_CONTENT_COMMIT ? 0 : MLS_E_INVALID_SENDER;
        case MLS_SENDER_NEW_MEMBER_PROPOSAL:
                /* R-6.1-8 */
                if (fc->content_type != MLS_CONTENT_PROPOSAL ||
                    fc->proposal.proposal_type != MLS_PROPOSAL_ADD)
                        return MLS_E_INVALID_SENDER;
                return 0;
        default:
                return MLS_E_INVALID_SENDER;
        }
}
