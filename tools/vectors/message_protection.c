/* SPDX-License-Identifier: Apache-2.0 */
/*
 * message-protection.json: framing, signing, membership tag and encryption
 * of PublicMessage and PrivateMessage (RFC 9420 sections 6.1, 6.2, 6.3.1,
 * 6.3.2); FORMATS.md "message-protection.json".
 *
 * For each of proposal, commit and application:
 *   1. PublicMessage in (proposal, commit): unprotect X_pub (membership
 *      tag R-6.2-1/R-6.2-3, signature R-6.1-1/R-6.1-9), content == X.
 *   2. PublicMessage out: frame, sign, protect, parse, unprotect, compare;
 *      application data must be refused (R-6-1).
 *   3. PrivateMessage in: fresh 2-leaf secret tree, unprotect X_priv
 *      (R-6.3.1-8, R-6.3.2-3, R-6.3.2-4, R-6.3.2-6, R-6.3.1-9), content == X.
 *   4. PrivateMessage out: protect with a fresh tree, unprotect with another
 *      fresh tree, compare (R-6.3.1-4, R-6.3.1-7).
 */
#include <stdlib.h>
#include <string.h>

#include "mls/framing.h"
#include "mls/messages.h"
#include "mls/secrettree.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

/* The sender of every message in the file. */
#define MP_SENDER_LEAF 1
#define MP_N_LEAVES 2

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}
#define _bytes_ _mls_cleanup_(bytes_clearp)

struct mp_case {
        const struct mls_suite *s;
        struct mls_group_context gc;
        struct mls_frame_group g;
        struct mls_secret *sig_priv;
        struct mls_bytes sig_pub;
        struct mls_bytes encryption_secret;
        struct mls_bytes sender_data_secret;
        struct mls_bytes membership_key;
        struct mls_bytes commit_confirmation_tag;
};

static void
mp_case_clear(struct mp_case *m)
{
        mls_frame_group_clear(&m->g);
        mls_group_context_clear(&m->gc);
        mls_secret_free(m->sig_priv);
        mls_bytes_clear(&m->sig_pub);
        mls_bytes_clear(&m->encryption_secret);
        mls_bytes_clear(&m->sender_data_secret);
        mls_bytes_clear(&m->membership_key);
        mls_bytes_clear(&m->commit_confirmation_tag);
}

/* The only member whose key the file gives is the sender, leaf 1.
 * R-6.1-2: a member sender's signature is checked with the key of the leaf
 * at its leaf_index; any other leaf has no key here and is refused. */
static int
mp_lookup(void *ctx, const struct mls_sender *sender, const uint8_t **ret_pub, size_t *ret_len)
{
        const struct mp_case *m = ctx;

        if (sender->sender_type != MLS_SENDER_MEMBER)
                return MLS_E_INVALID_SENDER;
        if (sender->leaf_index >= MP_N_LEAVES)
                return MLS_E_TREE_INDEX;
        if (sender->leaf_index != MP_SENDER_LEAF)
                return MLS_E_INVALID_SENDER;
        *ret_pub = m->sig_pub.data;
        *ret_len = m->sig_pub.len;
        return 0;
}

enum mp_kind { MP_PROPOSAL, MP_COMMIT, MP_APPLICATION };

static const struct {
        const char *name, *pub, *priv;
        uint8_t content_type;
} kinds[] = {
        [MP_PROPOSAL] = { "proposal", "proposal_pub", "proposal_priv", MLS_CONTENT_PROPOSAL },
        [MP_COMMIT] = { "commit", "commit_pub", "commit_priv", MLS_CONTENT_COMMIT },
        [MP_APPLICATION] = { "application", NULL, "application_priv",
                             MLS_CONTENT_APPLICATION },
};

/* Decodes an MLSMessage from a guarded exact-size copy. */
static int
parse_message(const struct mls_bytes *b, struct mls_message *ret)
{
        uint8_t *g = tu_guarded_copy(b->data, b->len);
        int e;

        if (!g)
                return MLS_E_NOMEM;
        e = mls_message_from_bytes(g, b->len, ret);
        tu_guarded_free(g);
        return e;
}

/* The content body (Proposal, Commit or raw application data) as bytes. */
static int
content_body(const struct mls_framed_content *fc, struct mls_bytes *ret)
{
        switch (fc->content_type) {
        case MLS_CONTENT_PROPOSAL:
                return mls_proposal_to_bytes(&fc->proposal, ret);
        case MLS_CONTENT_COMMIT:
                return mls_commit_to_bytes(&fc->commit, ret);
        case MLS_CONTENT_APPLICATION:
                return mls_bytes_dup(ret, &fc->application_data);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

static enum vec_result
expect_content(struct vec_case *c, const char *what, const struct mls_authenticated_content *ac,
               enum mp_kind k, const struct mls_bytes *x)
{
        _bytes_ struct mls_bytes body = { 0 };
        int e;

        if (ac->content.content_type != kinds[k].content_type)
                return vec_fail(c, "%s %s: wrong content type", kinds[k].name, what);
        if (ac->content.sender.sender_type != MLS_SENDER_MEMBER ||
            ac->content.sender.leaf_index != MP_SENDER_LEAF)
                return vec_fail(c, "%s %s: wrong sender", kinds[k].name, what);
        e = content_body(&ac->content, &body);
        if (e < 0)
                return vec_fail(c, "%s %s: encode content: %s", kinds[k].name, what,
                                mls_err_name(e));
        if (!mls_bytes_eq(&body, x))
                return vec_fail(c, "%s %s: content differs from the vector", kinds[k].name, what);
        return VEC_PASS;
}

/* FramedContent of kind k from the bare content bytes X. */
static int
build_content(const struct mp_case *m, enum mp_kind k, const struct mls_bytes *x,
              uint16_t wire_format, struct mls_authenticated_content *ret)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };

        ac.wire_format = wire_format;
        MLS_TRY(mls_bytes_dup(&ac.content.group_id, &m->gc.group_id));
        ac.content.epoch = m->gc.epoch;
        ac.content.sender = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER,
                                                 .leaf_index = MP_SENDER_LEAF };
        ac.content.content_type = kinds[k].content_type;
        switch (k) {
        case MP_PROPOSAL:
                MLS_TRY(mls_proposal_from_bytes(x->data, x->len, &ac.content.proposal));
                break;
        case MP_COMMIT:
                MLS_TRY(mls_commit_from_bytes(x->data, x->len, &ac.content.commit));
                /* No confirmation key in the file: reuse commit_pub's tag. */
                MLS_TRY(mls_bytes_dup(&ac.auth.confirmation_tag, &m->commit_confirmation_tag));
                break;
        case MP_APPLICATION:
                MLS_TRY(mls_bytes_dup(&ac.content.application_data, x));
                break;
        }
        *ret = ac;
        memset(&ac, 0, sizeof(ac));
        return 0;
}

/* Step 1 (and the check half of step 2): an encoded PublicMessage. */
static enum vec_result
public_in(struct vec_case *c, struct mp_case *m, enum mp_kind k, const struct mls_bytes *msg,
          const struct mls_bytes *x, const char *what)
{
        _mls_cleanup_(mls_message_clear) struct mls_message mm = { 0 };
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        struct mls_frame_senders senders = { .lookup = mp_lookup, .ctx = m };
        int e;

        e = parse_message(msg, &mm);
        if (e < 0)
                return vec_fail(c, "%s %s: parse: %s", kinds[k].name, what, mls_err_name(e));
        if (mm.wire_format != MLS_WIRE_PUBLIC_MESSAGE)
                return vec_fail(c, "%s %s: not a PublicMessage", kinds[k].name, what);
        e = mls_frame_public_unprotect(&m->g, &mm.public_message, m->membership_key.data,
                                       m->membership_key.len, &senders, &ac);
        if (e < 0)
                return vec_fail(c, "%s %s: unprotect: %s", kinds[k].name, what, mls_err_name(e));
        return expect_content(c, what, &ac, k, x);
}

/* Step 2. */
static enum vec_result
public_out(struct vec_case *c, struct mp_case *m, enum mp_kind k, const struct mls_bytes *x)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _bytes_ struct mls_bytes msg = { 0 };
        int e;

        e = build_content(m, k, x, MLS_WIRE_PUBLIC_MESSAGE, &ac);
        if (e < 0)
                return vec_fail(c, "%s pub out: build: %s", kinds[k].name, mls_err_name(e));
        if (k == MP_APPLICATION) {
                /* R-6-1: refused both when signing and when protecting. */
                e = mls_frame_sign_with_key(&m->g, &ac, m->sig_priv);
                if (e != MLS_E_WRONG_WIRE_FORMAT)
                        return vec_fail(c, "application signed for a PublicMessage: %s",
                                        mls_err_name(e));
                e = mls_bytes_copy(&ac.auth.signature, (const uint8_t *)"x", 1);
                if (e < 0)
                        return vec_fail(c, "out of memory");
                e = mls_frame_public_protect(&m->g, &ac, m->membership_key.data,
                                             m->membership_key.len, &msg);
                if (e != MLS_E_WRONG_WIRE_FORMAT)
                        return vec_fail(c, "application protected as a PublicMessage: %s",
                                        mls_err_name(e));
                return VEC_PASS;
        }
        e = mls_frame_sign_with_key(&m->g, &ac, m->sig_priv);
        if (e < 0)
                return vec_fail(c, "%s pub out: sign: %s", kinds[k].name, mls_err_name(e));
        e = mls_frame_public_protect(&m->g, &ac, m->membership_key.data, m->membership_key.len,
                                     &msg);
        if (e < 0)
                return vec_fail(c, "%s pub out: protect: %s", kinds[k].name, mls_err_name(e));
        return public_in(c, m, k, &msg, x, "pub out");
}

static int
fresh_tree(const struct mp_case *m, struct mls_secret_tree **ret)
{
        return mls_st_new(m->s, m->encryption_secret.data, m->encryption_secret.len, MP_N_LEAVES,
                          ret);
}

/* Step 3 (and the check half of step 4): an encoded PrivateMessage, with a
 * fresh secret tree. */
static enum vec_result
private_in(struct vec_case *c, struct mp_case *m, enum mp_kind k, const struct mls_bytes *msg,
           const struct mls_bytes *x, const char *what)
{
        _mls_cleanup_(mls_message_clear) struct mls_message mm = { 0 };
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_st_ struct mls_secret_tree *t = NULL;
        struct mls_frame_senders senders = { .lookup = mp_lookup, .ctx = m };
        int e;

        e = parse_message(msg, &mm);
        if (e < 0)
                return vec_fail(c, "%s %s: parse: %s", kinds[k].name, what, mls_err_name(e));
        if (mm.wire_format != MLS_WIRE_PRIVATE_MESSAGE)
                return vec_fail(c, "%s %s: not a PrivateMessage", kinds[k].name, what);
        e = fresh_tree(m, &t);
        if (e < 0)
                return vec_fail(c, "secret tree: %s", mls_err_name(e));
        e = mls_frame_private_unprotect(&m->g, &mm.private_message, m->sender_data_secret.data,
                                        m->sender_data_secret.len, t, &senders, &ac);
        if (e < 0)
                return vec_fail(c, "%s %s: unprotect: %s", kinds[k].name, what, mls_err_name(e));
        if (k == MP_COMMIT && !mls_bytes_eq(&ac.auth.confirmation_tag,
                                            &m->commit_confirmation_tag))
                return vec_fail(c, "commit %s: confirmation tag differs", what);
        /* The generation is consumed now: a replay is refused (R-9.2-5). */
        {
                _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content
                        again = { 0 };

                e = mls_frame_private_unprotect(&m->g, &mm.private_message,
                                                m->sender_data_secret.data,
                                                m->sender_data_secret.len, t, &senders, &again);
                if (e != MLS_E_GENERATION_CONSUMED)
                        return vec_fail(c, "%s %s: replay gave %s", kinds[k].name, what,
                                        mls_err_name(e));
        }
        return expect_content(c, what, &ac, k, x);
}

/* Step 4. */
static enum vec_result
private_out(struct vec_case *c, struct mp_case *m, enum mp_kind k, const struct mls_bytes *x)
{
        _mls_cleanup_(mls_authenticated_content_clear) struct mls_authenticated_content ac = { 0 };
        _mls_st_ struct mls_secret_tree *t = NULL;
        _bytes_ struct mls_bytes msg = { 0 };
        int e;

        e = build_content(m, k, x, MLS_WIRE_PRIVATE_MESSAGE, &ac);
        if (e < 0)
                return vec_fail(c, "%s priv out: build: %s", kinds[k].name, mls_err_name(e));
        e = mls_frame_sign_with_key(&m->g, &ac, m->sig_priv);
        if (e < 0)
                return vec_fail(c, "%s priv out: sign: %s", kinds[k].name, mls_err_name(e));
        e = fresh_tree(m, &t);
        if (e < 0)
                return vec_fail(c, "secret tree: %s", mls_err_name(e));
        e = mls_frame_private_protect(&m->g, &ac, m->sender_data_secret.data,
                                      m->sender_data_secret.len, t, NULL, mls_rng_system(), &msg);
        if (e < 0)
                return vec_fail(c, "%s priv out: protect: %s", kinds[k].name, mls_err_name(e));
        return private_in(c, m, k, &msg, x, "priv out");
}

static enum vec_result
mp_setup(struct vec_case *c, struct mp_case *m)
{
        _bytes_ struct mls_bytes priv = { 0 }, commit_pub = { 0 };
        _mls_cleanup_(mls_message_clear) struct mls_message mm = { 0 };
        uint64_t suite;
        int e;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) ||
            !vec_u64(c, c->obj, "epoch", &m->gc.epoch) ||
            !vec_hex(c, c->obj, "group_id", &m->gc.group_id) ||
            !vec_hex(c, c->obj, "tree_hash", &m->gc.tree_hash) ||
            !vec_hex(c, c->obj, "confirmed_transcript_hash", &m->gc.confirmed_transcript_hash) ||
            !vec_hex(c, c->obj, "signature_priv", &priv) ||
            !vec_hex(c, c->obj, "signature_pub", &m->sig_pub) ||
            !vec_hex(c, c->obj, "encryption_secret", &m->encryption_secret) ||
            !vec_hex(c, c->obj, "sender_data_secret", &m->sender_data_secret) ||
            !vec_hex(c, c->obj, "membership_key", &m->membership_key) ||
            !vec_hex(c, c->obj, "commit_pub", &commit_pub))
                return VEC_FAIL;
        m->s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!m->s)
                return vec_fail(c, "cipher suite %llu not supported", (unsigned long long)suite);
        /* GC = u16(1) || u16(suite) || V(group_id) || u64(epoch) ||
         *      V(tree_hash) || V(confirmed_transcript_hash) || V(empty) */
        m->gc.version = MLS_VERSION_MLS10;
        m->gc.cipher_suite = (uint16_t)suite;
        e = mls_frame_group_init(m->s, &m->gc, &m->g);
        if (e < 0)
                return vec_fail(c, "group context: %s", mls_err_name(e));
        /* The P-521 case stores its ECDSA scalar without the leading zero
         * byte (65 bytes, not 66): left-pad big-endian scalars to the
         * suite's size. The public key check below proves the padding. */
        if (priv.len > m->s->sig_priv_len)
                return vec_fail(c, "signature_priv too long");
        e = mls_secret_new(m->s->sig_priv_len, &m->sig_priv);
        if (e < 0)
                return vec_fail(c, "out of memory");
        memcpy(m->sig_priv->data + (m->s->sig_priv_len - priv.len), priv.data, priv.len);
        mls_wipe(priv.data, priv.len);
        {
                _bytes_ struct mls_bytes pub = { 0 };

                e = mls_crypto_sig_pub_from_priv(m->s, m->sig_priv, &pub);
                if (e < 0 || !mls_bytes_eq(&pub, &m->sig_pub))
                        return vec_fail(c, "signature_priv does not match signature_pub: %s",
                                        mls_err_name(e));
        }
        e = parse_message(&commit_pub, &mm);
        if (e < 0 || mm.wire_format != MLS_WIRE_PUBLIC_MESSAGE)
                return vec_fail(c, "commit_pub does not parse");
        e = mls_bytes_dup(&m->commit_confirmation_tag, &mm.public_message.auth.confirmation_tag);
        if (e < 0)
                return vec_fail(c, "out of memory");
        return VEC_PASS;
}

enum vec_result
vec_message_protection(struct vec_case *c)
{
        _mls_cleanup_(mp_case_clear) struct mp_case m = { 0 };

        if (mp_setup(c, &m) != VEC_PASS)
                return VEC_FAIL;
        for (size_t k = 0; k < MLS_ARRAY_SIZE(kinds); k++) {
                _bytes_ struct mls_bytes x = { 0 }, pub = { 0 }, priv = { 0 };

                if (!vec_hex(c, c->obj, kinds[k].name, &x) ||
                    (kinds[k].pub && !vec_hex(c, c->obj, kinds[k].pub, &pub)) ||
                    !vec_hex(c, c->obj, kinds[k].priv, &priv))
                        return VEC_FAIL;
                if (kinds[k].pub && public_in(c, &m, k, &pub, &x, "pub in") != VEC_PASS)
                        return VEC_FAIL;
                if (public_out(c, &m, k, &x) != VEC_PASS)
                        return VEC_FAIL;
                if (private_in(c, &m, k, &priv, &x, "priv in") != VEC_PASS)
                        return VEC_FAIL;
                if (private_out(c, &m, k, &x) != VEC_PASS)
                        return VEC_FAIL;
        }
        return VEC_PASS;
}
