/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/framing: content signatures (RFC 9420 section 6.1),
 * PublicMessage (6.2) and PrivateMessage (6.3, 6.3.1, 6.3.2) protection,
 * every rejection path with its own error, and the secret-tree discipline
 * (a message that fails never consumes a key).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/framing.h"
#include "mls/labeled.h"
#include "mls/messages.h"
#include "mls/secrettree.h"
#include "tests/lib/testutil.h"

#define N_LEAVES 4
#define SENDER 1
#define OTHER 3
#define BLANK_LEAF 2

struct fx {
        const struct mls_suite *s;
        struct mls_group_context gc;
        struct mls_frame_group g;
        struct mls_secret *priv[N_LEAVES];
        struct mls_bytes pub[N_LEAVES];
        struct mls_secret *ext_priv;
        struct mls_bytes ext_pub;
        uint8_t mk[MLS_MAX_HASH_LEN];
        uint8_t enc[MLS_MAX_HASH_LEN];
        uint8_t sds[MLS_MAX_HASH_LEN];
        struct mls_frame_senders senders;
};

/* The group's senders: leaves 0, 1, 3 are members, leaf 2 is blank; one
 * external sender at index 0. */
static int
fx_lookup(void *ctx, const struct mls_sender *sender, const uint8_t **ret_pub, size_t *ret_len)
{
        struct fx *f = ctx;

        switch (sender->sender_type) {
        case MLS_SENDER_MEMBER:
                if (sender->leaf_index >= N_LEAVES)
                        return MLS_E_TREE_INDEX;
                if (sender->leaf_index == BLANK_LEAF)
                        return MLS_E_INVALID_SENDER;
                *ret_pub = f->pub[sender->leaf_index].data;
                *ret_len = f->pub[sender->leaf_index].len;
                return 0;
        case MLS_SENDER_EXTERNAL:
                if (sender->sender_index != 0)
                        return MLS_E_TREE_INDEX;
                *ret_pub = f->ext_pub.data;
                *ret_len = f->ext_pub.len;
                return 0;
        default:
                return MLS_E_INVALID_SENDER;
        }
}

static struct fx *
fx_new(uint16_t suite)
{
        struct fx *f = calloc(1, sizeof(*f));
        size_t nh;

        assert_non_null(f);
        f->s = mls_suite_get(suite);
        assert_non_null(f->s);
        nh = f->s->hash_len;
        for (size_t i = 0; i < N_LEAVES; i++)
                if (i != BLANK_LEAF)
                        assert_int_equal(mls_crypto_sig_keygen(f->s, mls_rng_system(),
                                                               &f->priv[i], &f->pub[i]),
                                         0);
        assert_int_equal(mls_crypto_sig_keygen(f->s, mls_rng_system(), &f->ext_priv,
                                               &f->ext_pub),
                         0);
        f->gc.version = MLS_VERSION_MLS10;
        f->gc.cipher_suite = suite;
        assert_int_equal(mls_bytes_copy(&f->gc.group_id, (const uint8_t *)"test group", 10), 0);
        f->gc.epoch = 42;
        assert_int_equal(mls_bytes_copy(&f->gc.tree_hash, f->mk, nh), 0);
        randombytes_buf(f->gc.tree_hash.data, nh);
        assert_int_equal(mls_bytes_copy(&f->gc.confirmed_transcript_hash, f->mk, nh), 0);
        randombytes_buf(f->gc.confirmed_transcript_hash.data, nh);
        assert_int_equal(mls_frame_group_init(f->s, &f->gc, &f->g), 0);
        randombytes_buf(f->mk, nh);
        randombytes_buf(f->enc, nh);
        randombytes_buf(f->sds, nh);
        f->senders = (struct mls_frame_senders){ .lookup = fx_lookup, .ctx = f };
        return f;
}

static void
fx_free(struct fx *f)
{
        mls_frame_group_clear(&f->g);
        mls_group_context_clear(&f->gc);
        for (size_t i = 0; i < N_LEAVES; i++) {
                mls_secret_free(f->priv[i]);
                mls_bytes_clear(&f->pub[i]);
        }
        mls_secret_free(f->ext_priv);
        mls_bytes_clear(&f->ext_pub);
        free(f);
}

static struct mls_secret_tree *
fx_tree(const struct fx *f)
{
        struct mls_secret_tree *t = NULL;

        assert_int_equal(mls_st_new(f->s, f->enc, f->s->hash_len, N_LEAVES, &t), 0);
        return t;
}

/* A LeafNode whose only meaningful field is its signature key. */
static void
make_leaf_node(struct mls_leaf_node *ln, const struct mls_bytes *sig_pub, uint8_t source)
{
        memset(ln, 0, sizeof(*ln));
        assert_int_equal(mls_bytes_copy(&ln->encryption_key, (const uint8_t *)"enc-key", 7), 0);
        assert_int_equal(mls_bytes_dup(&ln->signature_key, sig_pub), 0);
        ln->credential.credential_type = MLS_CREDENTIAL_BASIC;
        assert_int_equal(mls_bytes_copy(&ln->credential.identity, (const uint8_t *)"alice", 5),
                         0);
        ln->leaf_node_source = source;
        if (source == MLS_LEAF_SOURCE_KEY_PACKAGE)
                ln->lifetime = (struct mls_lifetime){ 0, UINT64_MAX };
        if (source == MLS_LEAF_SOURCE_COMMIT)
                assert_int_equal(mls_bytes_copy(&ln->parent_hash, (const uint8_t *)"ph", 2), 0);
        assert_int_equal(mls_bytes_copy(&ln->signature, (const uint8_t *)"sig", 3), 0);
}

static struct mls_proposal *
make_remove(uint32_t removed)
{
        struct mls_proposal *p = calloc(1, sizeof(*p));

        assert_non_null(p);
        p->proposal_type = MLS_PROPOSAL_REMOVE;
        p->remove.removed = removed;
        return p;
}

/* An unsigned AuthenticatedContent from sender (member `leaf` unless the
 * sender type says otherwise). */
static void
make_ac(const struct fx *f, uint8_t content_type, uint16_t wire_format, uint32_t leaf,
        struct mls_authenticated_content *ac)
{
        struct mls_framed_content *fc = &ac->content;

        memset(ac, 0, sizeof(*ac));
        ac->wire_format = wire_format;
        assert_int_equal(mls_bytes_dup(&fc->group_id, &f->gc.group_id), 0);
        fc->epoch = f->gc.epoch;
        fc->sender = (struct mls_sender){ .sender_type = MLS_SENDER_MEMBER, .leaf_index = leaf };
        assert_int_equal(mls_bytes_copy(&fc->authenticated_data, (const uint8_t *)"ad", 2), 0);
        fc->content_type = content_type;
        switch (content_type) {
        case MLS_CONTENT_APPLICATION:
                assert_int_equal(mls_bytes_copy(&fc->application_data,
                                                (const uint8_t *)"hello, group", 12),
                                 0);
                break;
        case MLS_CONTENT_PROPOSAL: {
                struct mls_proposal *p = make_remove(OTHER);

                fc->proposal = *p;
                free(p);
                break;
        }
        case MLS_CONTENT_COMMIT:
                fc->commit.proposals = calloc(1, sizeof(*fc->commit.proposals));
                assert_non_null(fc->commit.proposals);
                fc->commit.n_proposals = 1;
                fc->commit.proposals[0].type = MLS_POR_PROPOSAL;
                fc->commit.proposals[0].proposal = make_remove(OTHER);
                assert_int_equal(mls_bytes_copy(&ac->auth.confirmation_tag, f->mk,
                                                f->s->hash_len),
                                 0);
                randombytes_buf(ac->auth.confirmation_tag.data, f->s->hash_len);
                break;
        default:
                fail();
        }
}

static void
make_signed(const struct fx *f, uint8_t content_type, uint16_t wire_format, uint32_t leaf,
            struct mls_authenticated_content *ac)
{
        make_ac(f, content_type, wire_format, leaf, ac);
        assert_int_equal(mls_frame_sign_with_key(&f->g, ac, f->priv[leaf]), 0);
}

static void
assert_ac_equal(const struct mls_authenticated_content *a,
                const struct mls_authenticated_content *b)
{
        struct mls_bytes x = { 0 }, y = { 0 };

        assert_int_equal(mls_authenticated_content_to_bytes(a, &x), 0);
        assert_int_equal(mls_authenticated_content_to_bytes(b, &y), 0);
        assert_true(mls_bytes_eq(&x, &y));
        mls_bytes_clear(&x);
        mls_bytes_clear(&y);
}

static void
decode_message(const struct mls_bytes *b, uint16_t wire_format, struct mls_message *ret)
{
        uint8_t *g = tu_guarded_copy(b->data, b->len);

        assert_non_null(g);
        assert_int_equal(mls_message_from_bytes(g, b->len, ret), 0);
        tu_guarded_free(g);
        assert_int_equal(ret->wire_format, wire_format);
}

static void
public_protect(const struct fx *f, const struct mls_authenticated_content *ac,
               struct mls_message *ret)
{
        struct mls_bytes b = { 0 };

        assert_int_equal(mls_frame_public_protect(&f->g, ac, f->mk, f->s->hash_len, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, ret);
        mls_bytes_clear(&b);
}

static int
public_unprotect(const struct fx *f, const struct mls_frame_group *g, struct mls_message *m)
{
        struct mls_authenticated_content out = { 0 };
        int e = mls_frame_public_unprotect(g, &m->public_message, f->mk, f->s->hash_len,
                                           &f->senders, &out);

        mls_authenticated_content_clear(&out);
        return e;
}

static void
private_protect(const struct fx *f, struct mls_secret_tree *t,
                const struct mls_authenticated_content *ac, const struct mls_frame_padding *pad,
                struct mls_message *ret)
{
        struct mls_bytes b = { 0 };

        assert_int_equal(mls_frame_private_protect(&f->g, ac, f->sds, f->s->hash_len, t, pad,
                                                   mls_rng_system(), &b),
                         0);
        decode_message(&b, MLS_WIRE_PRIVATE_MESSAGE, ret);
        mls_bytes_clear(&b);
}

static int
private_unprotect(const struct fx *f, const struct mls_frame_group *g, struct mls_secret_tree *t,
                  const struct mls_message *m, struct mls_authenticated_content *ret)
{
        struct mls_authenticated_content out = { 0 };
        int e = mls_frame_private_unprotect(g, &m->private_message, f->sds, f->s->hash_len, t,
                                            &f->senders, ret ? ret : &out);

        mls_authenticated_content_clear(&out);
        return e;
}

/* ---- positive round trips, every suite ---- */

/* R-6.1-1, R-6.2-1, R-6.2-3, R-6.2-4: protect/unprotect proposal and commit
 * as PublicMessage in all seven suites. */
static void
test_frame_public_roundtrip_all_suites(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);

        (void)state;
        for (size_t i = 0; i < n; i++) {
                struct fx *f = fx_new(ids[i]);
                static const uint8_t types[] = { MLS_CONTENT_PROPOSAL, MLS_CONTENT_COMMIT };

                for (size_t k = 0; k < sizeof(types); k++) {
                        struct mls_authenticated_content ac, out = { 0 };
                        struct mls_message m = { 0 };

                        make_signed(f, types[k], MLS_WIRE_PUBLIC_MESSAGE, SENDER, &ac);
                        assert_int_equal(mls_frame_verify(&f->g, &ac, f->pub[SENDER].data,
                                                          f->pub[SENDER].len),
                                         0);
                        public_protect(f, &ac, &m);
                        assert_int_equal(m.public_message.membership_tag.len, f->s->hash_len);
                        assert_int_equal(mls_frame_public_unprotect(&f->g, &m.public_message,
                                                                    f->mk, f->s->hash_len,
                                                                    &f->senders, &out),
                                         0);
                        assert_ac_equal(&ac, &out);
                        mls_authenticated_content_clear(&out);
                        mls_authenticated_content_clear(&ac);
                        mls_message_clear(&m);
                }
                fx_free(f);
        }
}

/* R-6.3.1-1, R-6.3.1-4, R-6.3.1-8, R-6.3.1-9, R-6.3.2-1, R-6.3.2-4,
 * R-6.3.2-6: all three content types as PrivateMessage in all suites, with
 * and without padding. */
static void
test_frame_private_roundtrip_all_suites(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);
        const struct mls_frame_padding pad = { MLS_FRAME_PAD_BLOCK, 64 };

        (void)state;
        for (size_t i = 0; i < n; i++) {
                struct fx *f = fx_new(ids[i]);
                struct mls_secret_tree *st = fx_tree(f), *rt = fx_tree(f);
                static const uint8_t types[] = { MLS_CONTENT_APPLICATION, MLS_CONTENT_PROPOSAL,
                                                 MLS_CONTENT_COMMIT };

                for (size_t k = 0; k < sizeof(types); k++) {
                        for (int padded = 0; padded < 2; padded++) {
                                struct mls_authenticated_content ac, out = { 0 };
                                struct mls_message m = { 0 };

                                make_signed(f, types[k], MLS_WIRE_PRIVATE_MESSAGE, SENDER, &ac);
                                private_protect(f, st, &ac, padded ? &pad : NULL, &m);
                                if (padded)
                                        assert_int_equal((m.private_message.ciphertext.len -
                                                          f->s->aead_tag_len) %
                                                                 pad.block,
                                                         0);
                                assert_int_equal(private_unprotect(f, &f->g, rt, &m, &out), 0);
                                assert_ac_equal(&ac, &out);
                                mls_authenticated_content_clear(&out);
                                mls_authenticated_content_clear(&ac);
                                mls_message_clear(&m);
                        }
                }
                mls_st_free(st);
                mls_st_free(rt);
                fx_free(f);
        }
}

/* ---- signing ---- */

struct rec_signer {
        const struct mls_suite *s;
        const struct mls_secret *priv;
        char label[32];
        struct mls_bytes content;
};

static int
rec_sign(void *ctx, const char *label, const uint8_t *content, size_t len,
         struct mls_bytes *ret_sig)
{
        struct rec_signer *r = ctx;

        snprintf(r->label, sizeof(r->label), "%s", label);
        mls_bytes_clear(&r->content);
        if (mls_bytes_copy(&r->content, content, len) < 0)
                return MLS_E_NOMEM;
        return mls_sign_with_label(r->s, r->priv, label, content, len, ret_sig);
}

/* R-6.1-1: the signer gets label "FramedContentTBS" (no prefix) and the
 * FramedContentTBS bytes, GroupContext included for a member sender. */
static void
test_frame_sign_callback_label_and_content(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct rec_signer rec = { .s = f->s, .priv = f->priv[SENDER] };
        struct mls_signer signer = { .sign = rec_sign, .ctx = &rec };
        struct mls_authenticated_content ac;
        struct mls_writer w;
        struct mls_bytes tbs = { 0 };

        (void)state;
        make_ac(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &ac);
        assert_int_equal(mls_frame_sign(&f->g, &ac, &signer), 0);
        assert_string_equal(rec.label, "FramedContentTBS");
        mls_writer_init(&w);
        assert_int_equal(mls_framed_content_tbs_encode(&w, MLS_WIRE_PRIVATE_MESSAGE, &ac.content,
                                                       &f->g.context_bytes),
                         0);
        assert_int_equal(mls_writer_finish(&w, &tbs), 0);
        assert_true(mls_bytes_eq(&tbs, &rec.content));
        /* The GroupContext is the tail of the TBS of a member sender. */
        assert_true(tbs.len > f->g.context_bytes.len);
        assert_memory_equal(tbs.data + tbs.len - f->g.context_bytes.len,
                            f->g.context_bytes.data, f->g.context_bytes.len);
        assert_int_equal(mls_frame_verify(&f->g, &ac, f->pub[SENDER].data, f->pub[SENDER].len),
                         0);
        /* The wrong key does not verify (R-6.1-9). */
        assert_int_equal(mls_frame_verify(&f->g, &ac, f->pub[OTHER].data, f->pub[OTHER].len),
                         MLS_E_BAD_SIGNATURE);
        /* A signature over the other wire format does not verify either. */
        ac.wire_format = MLS_WIRE_PUBLIC_MESSAGE;
        assert_int_equal(mls_frame_verify(&f->g, &ac, f->pub[SENDER].data, f->pub[SENDER].len),
                         MLS_E_BAD_SIGNATURE);
        mls_bytes_clear(&tbs);
        mls_bytes_clear(&rec.content);
        mls_authenticated_content_clear(&ac);
        fx_free(f);
}

/* ---- PublicMessage rejections ---- */

/* R-6.2-4, R-6.1-9: a flipped signature bit. A member who knows the
 * membership key re-MACs the forged message: the signature still fails. */
static void
test_frame_public_flipped_signature(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_authenticated_content ac, view;
        struct mls_message m = { 0 };

        (void)state;
        make_signed(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, SENDER, &ac);
        public_protect(f, &ac, &m);
        m.public_message.auth.signature.data[3] ^= 0x01;
        view = (struct mls_authenticated_content){ .wire_format = MLS_WIRE_PUBLIC_MESSAGE,
                                                   .content = m.public_message.content,
                                                   .auth = m.public_message.auth };
        assert_int_equal(mls_frame_membership_tag(&f->g, &view, f->mk, f->s->hash_len,
                                                  m.public_message.membership_tag.data),
                         0);
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_SIGNATURE);
        /* Failure leaves the message untouched. */
        assert_int_equal(m.public_message.content.content_type, MLS_CONTENT_PROPOSAL);
        assert_int_equal(m.public_message.content.proposal.remove.removed, OTHER);
        mls_message_clear(&m);
        mls_authenticated_content_clear(&ac);
        fx_free(f);
}

/* R-6.2-3: a flipped membership-tag bit; and any other flipped bit is
 * caught by the tag before the signature is looked at. */
static void
test_frame_public_flipped_membership_tag(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_P256_AES128GCM_SHA256_P256);
        struct mls_authenticated_content ac;
        struct mls_message m = { 0 };

        (void)state;
        make_signed(f, MLS_CONTENT_COMMIT, MLS_WIRE_PUBLIC_MESSAGE, SENDER, &ac);
        public_protect(f, &ac, &m);
        m.public_message.membership_tag.data[0] ^= 0x80;
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_MEMBERSHIP_TAG);
        m.public_message.membership_tag.data[0] ^= 0x80;
        /* A flipped bit in the signature or the confirmation tag without
         * the membership key: the tag check comes first. */
        m.public_message.auth.signature.data[0] ^= 0x01;
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_MEMBERSHIP_TAG);
        m.public_message.auth.signature.data[0] ^= 0x01;
        m.public_message.auth.confirmation_tag.data[1] ^= 0x01;
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_MEMBERSHIP_TAG);
        m.public_message.auth.confirmation_tag.data[1] ^= 0x01;
        /* A truncated tag. */
        m.public_message.membership_tag.len--;
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_MEMBERSHIP_TAG);
        m.public_message.membership_tag.len++;
        /* The wrong membership key. */
        {
                struct mls_authenticated_content out = { 0 };
                uint8_t wrong[MLS_MAX_HASH_LEN];

                memcpy(wrong, f->mk, sizeof(wrong));
                wrong[5] ^= 0x20;
                assert_int_equal(mls_frame_public_unprotect(&f->g, &m.public_message, wrong,
                                                            f->s->hash_len, &f->senders, &out),
                                 MLS_E_BAD_MEMBERSHIP_TAG);
        }
        /* Intact: accepted. */
        assert_int_equal(public_unprotect(f, &f->g, &m), 0);
        mls_message_clear(&m);
        mls_authenticated_content_clear(&ac);
        fx_free(f);
}

/* The group_id and epoch are checked against the caller's context first. */
static void
test_frame_public_wrong_epoch_and_group(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_group_context other = { 0 };
        struct mls_frame_group g2;
        struct mls_authenticated_content ac;
        struct mls_message m = { 0 };

        (void)state;
        make_signed(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, SENDER, &ac);
        public_protect(f, &ac, &m);

        other = f->gc; /* borrowed fields, restored below */
        other.epoch = f->gc.epoch + 1;
        assert_int_equal(mls_frame_group_init(f->s, &other, &g2), 0);
        assert_int_equal(public_unprotect(f, &g2, &m), MLS_E_WRONG_EPOCH);
        mls_frame_group_clear(&g2);

        other.epoch = f->gc.epoch;
        other.group_id = (struct mls_bytes){ .data = (uint8_t *)"test grouP", .len = 10 };
        assert_int_equal(mls_frame_group_init(f->s, &other, &g2), 0);
        assert_int_equal(public_unprotect(f, &g2, &m), MLS_E_WRONG_GROUP);
        mls_frame_group_clear(&g2);

        /* Sending checks them too. */
        ac.content.epoch++;
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]),
                         MLS_E_WRONG_EPOCH);
        mls_message_clear(&m);
        mls_authenticated_content_clear(&ac);
        fx_free(f);
}

/* R-6-1, R-6-2: application data is never a PublicMessage. */
static void
test_frame_public_refuses_application(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_authenticated_content ac, priv_ac;
        struct mls_message m = { 0 };
        struct mls_bytes b = { 0 };
        uint8_t tag[MLS_MAX_HASH_LEN];

        (void)state;
        make_ac(f, MLS_CONTENT_APPLICATION, MLS_WIRE_PUBLIC_MESSAGE, SENDER, &ac);
        /* Not signed for a PublicMessage ... */
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]),
                         MLS_E_WRONG_WIRE_FORMAT);
        /* ... not protected as one, even when signed for a PrivateMessage. */
        make_signed(f, MLS_CONTENT_APPLICATION, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &priv_ac);
        ac.auth.signature = priv_ac.auth.signature;
        priv_ac.auth.signature = (struct mls_bytes){ 0 };
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, f->mk, f->s->hash_len, &b),
                         MLS_E_WRONG_WIRE_FORMAT);
        /* ... and refused on receipt: a hand-made PublicMessage with
         * application content and a valid membership tag. */
        m.version = MLS_VERSION_MLS10;
        m.wire_format = MLS_WIRE_PUBLIC_MESSAGE;
        m.public_message.content = ac.content;
        m.public_message.auth = ac.auth;
        assert_int_equal(mls_frame_membership_tag(&f->g, &ac, f->mk, f->s->hash_len, tag), 0);
        m.public_message.membership_tag = (struct mls_bytes){ .data = tag,
                                                              .len = f->s->hash_len };
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_WRONG_WIRE_FORMAT);
        /* A content signed for private_message cannot be sent as public. */
        mls_authenticated_content_clear(&priv_ac);
        make_signed(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &priv_ac);
        assert_int_equal(mls_frame_public_protect(&f->g, &priv_ac, f->mk, f->s->hash_len, &b),
                         MLS_E_WRONG_WIRE_FORMAT);
        mls_authenticated_content_clear(&priv_ac);
        mls_authenticated_content_clear(&ac);
        fx_free(f);
}

/* R-6.1-10: a member sender outside the tree or on a blank leaf. */
static void
test_frame_public_unknown_member(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_authenticated_content ac;
        struct mls_message m = { 0 };

        (void)state;
        make_ac(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, 7, &ac);
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]), 0);
        public_protect(f, &ac, &m);
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_TREE_INDEX);
        mls_message_clear(&m);
        ac.content.sender.leaf_index = BLANK_LEAF;
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]), 0);
        public_protect(f, &ac, &m);
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_INVALID_SENDER);
        mls_message_clear(&m);
        mls_authenticated_content_clear(&ac);
        fx_free(f);
}

/* R-6.1-3, R-6.1-4, R-6.2-2: an external sender signs with its
 * external_senders key, carries no membership tag, and only proposals. */
static void
test_frame_public_external_sender(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_authenticated_content ac, out = { 0 };
        struct mls_message m = { 0 };
        struct mls_bytes b = { 0 };

        (void)state;
        make_ac(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, 0, &ac);
        ac.content.sender = (struct mls_sender){ .sender_type = MLS_SENDER_EXTERNAL,
                                                 .sender_index = 0 };
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->ext_priv), 0);
        /* No membership key needed. */
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, NULL, 0, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, &m);
        mls_bytes_clear(&b);
        assert_int_equal(m.public_message.membership_tag.len, 0);
        assert_int_equal(mls_frame_public_unprotect(&f->g, &m.public_message, NULL, 0,
                                                    &f->senders, &out),
                         0);
        assert_ac_equal(&ac, &out);
        mls_authenticated_content_clear(&out);
        mls_message_clear(&m);
        /* A flipped signature bit (no tag to stop it first). */
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, NULL, 0, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, &m);
        mls_bytes_clear(&b);
        m.public_message.auth.signature.data[10] ^= 0x04;
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_SIGNATURE);
        mls_message_clear(&m);
        /* An unknown external sender index. */
        ac.content.sender.sender_index = 5;
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->ext_priv), 0);
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, NULL, 0, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, &m);
        mls_bytes_clear(&b);
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_TREE_INDEX);
        mls_message_clear(&m);
        /* R-6.1-4: an external sender may not send an Update proposal. */
        mls_proposal_clear(&ac.content.proposal);
        ac.content.proposal.proposal_type = MLS_PROPOSAL_UPDATE;
        make_leaf_node(&ac.content.proposal.update.leaf_node, &f->ext_pub,
                       MLS_LEAF_SOURCE_UPDATE);
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->ext_priv),
                         MLS_E_INVALID_SENDER);
        mls_authenticated_content_clear(&ac);
        fx_free(f);
}

/* R-6.1-5, R-6.1-7: new-member senders sign with the key in their own
 * message (the Commit's path, the Add's KeyPackage). */
static void
test_frame_public_new_member_senders(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_authenticated_content ac, out = { 0 };
        struct mls_message m = { 0 };
        struct mls_bytes b = { 0 };
        struct mls_bytes joiner_pub = { 0 };
        struct mls_secret *joiner_priv = NULL;

        (void)state;
        assert_int_equal(mls_crypto_sig_keygen(f->s, mls_rng_system(), &joiner_priv,
                                               &joiner_pub),
                         0);
        /* External commit: signed by the path's leaf key. */
        make_ac(f, MLS_CONTENT_COMMIT, MLS_WIRE_PUBLIC_MESSAGE, 0, &ac);
        ac.content.sender = (struct mls_sender){ .sender_type = MLS_SENDER_NEW_MEMBER_COMMIT };
        ac.content.commit.has_path = true;
        make_leaf_node(&ac.content.commit.path.leaf_node, &joiner_pub, MLS_LEAF_SOURCE_COMMIT);
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, joiner_priv), 0);
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, NULL, 0, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, &m);
        mls_bytes_clear(&b);
        assert_int_equal(mls_frame_public_unprotect(&f->g, &m.public_message, NULL, 0,
                                                    &f->senders, &out),
                         0);
        assert_ac_equal(&ac, &out);
        mls_authenticated_content_clear(&out);
        mls_message_clear(&m);
        /* Signed by somebody else: refused. */
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]), 0);
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, NULL, 0, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, &m);
        mls_bytes_clear(&b);
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_SIGNATURE);
        /* Without a path there is no key to check with. */
        mls_update_path_clear(&m.public_message.content.commit.path);
        m.public_message.content.commit.has_path = false;
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_PATH_REQUIRED);
        mls_message_clear(&m);
        mls_authenticated_content_clear(&ac);

        /* External Add: signed by the KeyPackage's leaf key. */
        make_ac(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, 0, &ac);
        ac.content.sender = (struct mls_sender){ .sender_type = MLS_SENDER_NEW_MEMBER_PROPOSAL };
        mls_proposal_clear(&ac.content.proposal);
        ac.content.proposal.proposal_type = MLS_PROPOSAL_ADD;
        ac.content.proposal.add.key_package.version = MLS_VERSION_MLS10;
        ac.content.proposal.add.key_package.cipher_suite = f->s->id;
        assert_int_equal(mls_bytes_copy(&ac.content.proposal.add.key_package.init_key,
                                        (const uint8_t *)"init", 4),
                         0);
        make_leaf_node(&ac.content.proposal.add.key_package.leaf_node, &joiner_pub,
                       MLS_LEAF_SOURCE_KEY_PACKAGE);
        assert_int_equal(mls_bytes_copy(&ac.content.proposal.add.key_package.signature,
                                        (const uint8_t *)"kps", 3),
                         0);
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, joiner_priv), 0);
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, NULL, 0, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, &m);
        mls_bytes_clear(&b);
        assert_int_equal(mls_frame_public_unprotect(&f->g, &m.public_message, NULL, 0,
                                                    &f->senders, &out),
                         0);
        mls_authenticated_content_clear(&out);
        mls_message_clear(&m);
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->ext_priv), 0);
        assert_int_equal(mls_frame_public_protect(&f->g, &ac, NULL, 0, &b), 0);
        decode_message(&b, MLS_WIRE_PUBLIC_MESSAGE, &m);
        mls_bytes_clear(&b);
        assert_int_equal(public_unprotect(f, &f->g, &m), MLS_E_BAD_SIGNATURE);
        mls_message_clear(&m);
        mls_authenticated_content_clear(&ac);
        mls_secret_free(joiner_priv);
        mls_bytes_clear(&joiner_pub);
        fx_free(f);
}

/* ---- PrivateMessage rejections and the secret-tree discipline ---- */

/* One genuine message of leaf SENDER and a receiver tree. */
struct pm_fx {
        struct fx *f;
        struct mls_secret_tree *send, *recv;
        struct mls_authenticated_content ac;
        struct mls_message m;
};

static void
pm_fx_init(struct pm_fx *p, uint16_t suite, uint8_t content_type)
{
        memset(p, 0, sizeof(*p));
        p->f = fx_new(suite);
        p->send = fx_tree(p->f);
        p->recv = fx_tree(p->f);
        make_signed(p->f, content_type, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &p->ac);
        private_protect(p->f, p->send, &p->ac, NULL, &p->m);
}

/* The genuine message still opens: the failed attempts consumed nothing. */
static void
pm_fx_genuine_ok(struct pm_fx *p)
{
        struct mls_authenticated_content out = { 0 };

        assert_int_equal(private_unprotect(p->f, &p->f->g, p->recv, &p->m, &out), 0);
        assert_ac_equal(&p->ac, &out);
        mls_authenticated_content_clear(&out);
}

static void
pm_fx_free(struct pm_fx *p)
{
        mls_message_clear(&p->m);
        mls_authenticated_content_clear(&p->ac);
        mls_st_free(p->send);
        mls_st_free(p->recv);
        fx_free(p->f);
}

static void
copy_private(const struct mls_message *m, struct mls_message *ret)
{
        struct mls_bytes b = { 0 };

        assert_int_equal(mls_message_to_bytes(m, &b), 0);
        decode_message(&b, MLS_WIRE_PRIVATE_MESSAGE, ret);
        mls_bytes_clear(&b);
}

/* R-6.3.2-4 (AEAD on SenderData): a flipped bit in encrypted_sender_data. */
static void
test_frame_private_flipped_sender_data(void **state)
{
        struct pm_fx p;
        struct mls_message bad = { 0 };

        (void)state;
        pm_fx_init(&p, MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, MLS_CONTENT_APPLICATION);
        for (size_t i = 0; i < p.m.private_message.encrypted_sender_data.len; i += 5) {
                copy_private(&p.m, &bad);
                bad.private_message.encrypted_sender_data.data[i] ^= 0x01;
                assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL),
                                 MLS_E_DECRYPT);
                mls_message_clear(&bad);
        }
        /* A SenderData AAD field changed (content_type): DECRYPT as well. */
        copy_private(&p.m, &bad);
        bad.private_message.content_type = MLS_CONTENT_PROPOSAL;
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL), MLS_E_DECRYPT);
        mls_message_clear(&bad);
        pm_fx_genuine_ok(&p);
        pm_fx_free(&p);
}

/* R-6.3.1-8: a flipped bit in the ciphertext, inside the sender-data sample
 * (SenderData fails) or after it (SenderData opens, content fails), or in
 * authenticated_data (content AAD only). None of them burns the genuine
 * message's key. */
static void
test_frame_private_flipped_ciphertext(void **state)
{
        struct pm_fx p;
        struct mls_message bad = { 0 };
        size_t len;

        (void)state;
        pm_fx_init(&p, MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519, MLS_CONTENT_COMMIT);
        len = p.m.private_message.ciphertext.len;
        assert_true(len > p.f->s->hash_len);
        copy_private(&p.m, &bad);
        bad.private_message.ciphertext.data[0] ^= 0x01;
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL), MLS_E_DECRYPT);
        mls_message_clear(&bad);
        copy_private(&p.m, &bad);
        bad.private_message.ciphertext.data[len - 1] ^= 0x01;
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL), MLS_E_DECRYPT);
        mls_message_clear(&bad);
        copy_private(&p.m, &bad);
        bad.private_message.authenticated_data.data[0] ^= 0x01;
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL), MLS_E_DECRYPT);
        mls_message_clear(&bad);
        /* Truncated below the AEAD tag. */
        copy_private(&p.m, &bad);
        bad.private_message.ciphertext.len = p.f->s->aead_tag_len - 1;
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL), MLS_E_DECRYPT);
        mls_message_clear(&bad);
        pm_fx_genuine_ok(&p);
        pm_fx_free(&p);
}

/* Builds a PrivateMessage around an arbitrary plaintext, exactly as
 * mls_frame_private_protect would (the test's own encryption). */
static void
seal_private_raw(const struct fx *f, struct mls_secret_tree *send,
                 const struct mls_authenticated_content *ac, const uint8_t *pt, size_t pt_len,
                 struct mls_message *ret)
{
        const struct mls_suite *s = f->s;
        const struct mls_framed_content *fc = &ac->content;
        struct mls_private_content_aad aad = { .group_id = fc->group_id,
                                               .epoch = fc->epoch,
                                               .content_type = fc->content_type,
                                               .authenticated_data = fc->authenticated_data };
        struct mls_sender_data_aad sd_aad = { .group_id = fc->group_id,
                                              .epoch = fc->epoch,
                                              .content_type = fc->content_type };
        struct mls_key_nonce kn = { 0 }, sd_kn = { 0 };
        struct mls_sender_data sd = { .leaf_index = fc->sender.leaf_index };
        struct mls_bytes aad_b = { 0 }, sd_aad_b = { 0 }, sd_b = { 0 };
        struct mls_private_message *pm = &ret->private_message;

        memset(ret, 0, sizeof(*ret));
        ret->version = MLS_VERSION_MLS10;
        ret->wire_format = MLS_WIRE_PRIVATE_MESSAGE;
        assert_int_equal(mls_bytes_dup(&pm->group_id, &fc->group_id), 0);
        pm->epoch = fc->epoch;
        pm->content_type = fc->content_type;
        assert_int_equal(mls_bytes_dup(&pm->authenticated_data, &fc->authenticated_data), 0);
        assert_int_equal(mls_private_content_aad_to_bytes(&aad, &aad_b), 0);
        assert_int_equal(mls_st_next(send, fc->sender.leaf_index,
                                     fc->content_type == MLS_CONTENT_APPLICATION
                                             ? MLS_RATCHET_APPLICATION
                                             : MLS_RATCHET_HANDSHAKE,
                                     &kn),
                         0);
        randombytes_buf(sd.reuse_guard, sizeof(sd.reuse_guard));
        sd.generation = kn.generation;
        for (size_t i = 0; i < MLS_REUSE_GUARD_LEN; i++)
                kn.nonce[i] ^= sd.reuse_guard[i];
        pm->ciphertext.len = pt_len + s->aead_tag_len;
        pm->ciphertext.data = malloc(pm->ciphertext.len);
        assert_non_null(pm->ciphertext.data);
        assert_int_equal(mls_crypto_aead_seal(s, kn.key, kn.nonce, aad_b.data, aad_b.len, pt,
                                              pt_len, pm->ciphertext.data),
                         0);
        assert_int_equal(mls_sender_data_to_bytes(&sd, &sd_b), 0);
        assert_int_equal(mls_st_sender_data_key(s, f->sds, s->hash_len, pm->ciphertext.data,
                                                pm->ciphertext.len, &sd_kn),
                         0);
        assert_int_equal(mls_sender_data_aad_to_bytes(&sd_aad, &sd_aad_b), 0);
        pm->encrypted_sender_data.len = sd_b.len + s->aead_tag_len;
        pm->encrypted_sender_data.data = malloc(pm->encrypted_sender_data.len);
        assert_non_null(pm->encrypted_sender_data.data);
        assert_int_equal(mls_crypto_aead_seal(s, sd_kn.key, sd_kn.nonce, sd_aad_b.data,
                                              sd_aad_b.len, sd_b.data, sd_b.len,
                                              pm->encrypted_sender_data.data),
                         0);
        mls_key_nonce_clear(&kn);
        mls_key_nonce_clear(&sd_kn);
        mls_bytes_clear(&aad_b);
        mls_bytes_clear(&sd_aad_b);
        mls_bytes_clear(&sd_b);
}

/* The PrivateMessageContent plaintext of ac with padding_len zero bytes. */
static void
plaintext_of(const struct mls_authenticated_content *ac, size_t padding_len,
             struct mls_bytes *ret)
{
        struct mls_private_message_content pmc = { .content_type = ac->content.content_type,
                                                   .application_data =
                                                           ac->content.application_data,
                                                   .auth = ac->auth,
                                                   .padding_len = padding_len };
        struct mls_writer w;

        assert_int_equal(ac->content.content_type, MLS_CONTENT_APPLICATION);
        mls_writer_init(&w);
        assert_int_equal(mls_private_message_content_encode(&w, &pmc), 0);
        assert_int_equal(mls_writer_finish(&w, ret), 0);
}

/* R-6.3.1-3: a non-zero padding byte makes the message malformed, wherever
 * it is; zero padding of the same length is accepted (so the test message
 * is otherwise right). The failed one consumed nothing. */
static void
test_frame_private_nonzero_padding(void **state)
{
        struct pm_fx p;
        struct mls_bytes pt = { 0 };
        struct mls_message bad = { 0 }, good = { 0 };
        struct mls_secret_tree *forger = NULL;

        (void)state;
        pm_fx_init(&p, MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, MLS_CONTENT_APPLICATION);
        plaintext_of(&p.ac, 16, &pt);
        for (size_t at = pt.len - 16; at < pt.len; at += 15) {
                /* A tree of the same epoch at the same position as the
                 * genuine sender's: the forgery uses the genuine generation. */
                forger = fx_tree(p.f);
                pt.data[at] = 0x01;
                seal_private_raw(p.f, forger, &p.ac, pt.data, pt.len, &bad);
                pt.data[at] = 0x00;
                assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL),
                                 MLS_E_BAD_PADDING);
                mls_message_clear(&bad);
                mls_st_free(forger);
        }
        pm_fx_genuine_ok(&p);
        /* The same construction with zero padding is accepted. */
        seal_private_raw(p.f, p.send, &p.ac, pt.data, pt.len, &good);
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &good, NULL), 0);
        mls_message_clear(&good);
        mls_bytes_clear(&pt);
        pm_fx_free(&p);
}

/* R-9.2-5 via framing: a message decrypted once is a replay afterwards. */
static void
test_frame_private_replay(void **state)
{
        struct pm_fx p;

        (void)state;
        pm_fx_init(&p, MLS_SUITE_P384_AES256GCM_SHA384_P384, MLS_CONTENT_PROPOSAL);
        pm_fx_genuine_ok(&p);
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &p.m, NULL),
                         MLS_E_GENERATION_CONSUMED);
        pm_fx_free(&p);
}

/* R-6.3.2-5: the SenderData leaf must be in the tree and not blank. */
static void
test_frame_private_sender_outside_tree(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_secret_tree *big = NULL, *recv = fx_tree(f);
        struct mls_authenticated_content ac;
        struct mls_message m = { 0 };

        (void)state;
        /* A sender whose tree has 8 leaves claims leaf 6. */
        assert_int_equal(mls_st_new(f->s, f->enc, f->s->hash_len, 8, &big), 0);
        make_ac(f, MLS_CONTENT_APPLICATION, MLS_WIRE_PRIVATE_MESSAGE, 6, &ac);
        /* Signed with a real key: the leaf index is what is wrong. */
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]), 0);
        private_protect(f, big, &ac, NULL, &m);
        assert_int_equal(private_unprotect(f, &f->g, recv, &m, NULL), MLS_E_TREE_INDEX);
        mls_message_clear(&m);
        /* The blank leaf. */
        ac.content.sender.leaf_index = BLANK_LEAF;
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]), 0);
        private_protect(f, big, &ac, NULL, &m);
        assert_int_equal(private_unprotect(f, &f->g, recv, &m, NULL), MLS_E_INVALID_SENDER);
        mls_message_clear(&m);
        mls_authenticated_content_clear(&ac);
        mls_st_free(big);
        mls_st_free(recv);
        fx_free(f);
}

/* R-6.3.1-9: a group member who knows the secret tree forges a message in
 * another member's name (same leaf, same generation) but cannot sign it:
 * BAD_SIGNATURE, and the genuine message still decrypts afterwards. */
static void
test_frame_private_forged_signature_keeps_key(void **state)
{
        struct pm_fx p;
        struct mls_authenticated_content forged;
        struct mls_secret_tree *forger;
        struct mls_message bad = { 0 };

        (void)state;
        pm_fx_init(&p, MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, MLS_CONTENT_APPLICATION);
        forger = fx_tree(p.f);
        make_ac(p.f, MLS_CONTENT_APPLICATION, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &forged);
        assert_int_equal(mls_frame_sign_with_key(&p.f->g, &forged, p.f->priv[OTHER]), 0);
        private_protect(p.f, forger, &forged, NULL, &bad);
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL),
                         MLS_E_BAD_SIGNATURE);
        mls_message_clear(&bad);
        /* A flipped bit in the genuine signature, re-encrypted by the
         * insider: BAD_SIGNATURE as well. */
        mls_st_free(forger);
        forger = fx_tree(p.f);
        mls_authenticated_content_clear(&forged);
        make_signed(p.f, MLS_CONTENT_APPLICATION, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &forged);
        forged.auth.signature.data[1] ^= 0x40;
        private_protect(p.f, forger, &forged, NULL, &bad);
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL),
                         MLS_E_BAD_SIGNATURE);
        mls_message_clear(&bad);
        pm_fx_genuine_ok(&p);
        mls_authenticated_content_clear(&forged);
        mls_st_free(forger);
        pm_fx_free(&p);
}

/* A damaged message far ahead in the ratchet must not move the receiver's
 * ratchet: the messages before it and the genuine one all still open. */
static void
test_frame_private_failed_decrypt_keeps_tree(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_secret_tree *send = fx_tree(f), *recv = fx_tree(f);
        struct mls_authenticated_content ac[4];
        struct mls_message m[4], bad = { 0 };
        struct mls_st_stats before, after;

        (void)state;
        for (size_t i = 0; i < 4; i++) {
                make_signed(f, MLS_CONTENT_APPLICATION, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &ac[i]);
                memset(&m[i], 0, sizeof(m[i]));
                private_protect(f, send, &ac[i], NULL, &m[i]);
        }
        mls_st_stats(recv, &before);
        copy_private(&m[3], &bad);
        bad.private_message.ciphertext.data[bad.private_message.ciphertext.len - 1] ^= 0x01;
        assert_int_equal(private_unprotect(f, &f->g, recv, &bad, NULL), MLS_E_DECRYPT);
        mls_message_clear(&bad);
        mls_st_stats(recv, &after);
        assert_true(before.ratchet_steps == after.ratchet_steps);
        assert_int_equal(before.kept_keys, after.kept_keys);
        assert_int_equal(before.leaves_active, after.leaves_active);
        for (size_t i = 0; i < 4; i++) {
                struct mls_authenticated_content out = { 0 };

                assert_int_equal(private_unprotect(f, &f->g, recv, &m[i], &out), 0);
                assert_ac_equal(&ac[i], &out);
                mls_authenticated_content_clear(&out);
                mls_authenticated_content_clear(&ac[i]);
                mls_message_clear(&m[i]);
        }
        mls_st_free(send);
        mls_st_free(recv);
        fx_free(f);
}

/* R-6.3.2-2, and the other refusals of the sender side. */
static void
test_frame_private_protect_refusals(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_secret_tree *t = fx_tree(f);
        struct mls_authenticated_content ac;
        struct mls_bytes b = { 0 };
        const struct mls_frame_padding bad_pad[] = { { MLS_FRAME_PAD_BLOCK, 0 },
                                                     { MLS_FRAME_PAD_BLOCK,
                                                       MLS_FRAME_PAD_MAX_BLOCK + 1 },
                                                     { (enum mls_frame_pad_mode)7, 16 } };
        struct mls_st_stats before, after;

        (void)state;
        make_ac(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PRIVATE_MESSAGE, 0, &ac);
        ac.content.sender = (struct mls_sender){ .sender_type = MLS_SENDER_EXTERNAL };
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->ext_priv), 0);
        mls_st_stats(t, &before);
        assert_int_equal(mls_frame_private_protect(&f->g, &ac, f->sds, f->s->hash_len, t, NULL,
                                                   mls_rng_system(), &b),
                         MLS_E_INVALID_SENDER);
        mls_authenticated_content_clear(&ac);
        /* Signed for the other wire format. */
        make_signed(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PUBLIC_MESSAGE, SENDER, &ac);
        assert_int_equal(mls_frame_private_protect(&f->g, &ac, f->sds, f->s->hash_len, t, NULL,
                                                   mls_rng_system(), &b),
                         MLS_E_WRONG_WIRE_FORMAT);
        mls_authenticated_content_clear(&ac);
        /* Not signed, bad padding policies, wrong sender-data secret size. */
        make_ac(f, MLS_CONTENT_PROPOSAL, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &ac);
        assert_int_equal(mls_frame_private_protect(&f->g, &ac, f->sds, f->s->hash_len, t, NULL,
                                                   mls_rng_system(), &b),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]), 0);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(bad_pad); i++)
                assert_int_equal(mls_frame_private_protect(&f->g, &ac, f->sds, f->s->hash_len,
                                                           t, &bad_pad[i], mls_rng_system(),
                                                           &b),
                                 MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_frame_private_protect(&f->g, &ac, f->sds, f->s->hash_len - 1, t,
                                                   NULL, mls_rng_system(), &b),
                         MLS_E_INVALID_ARGUMENT);
        /* None of the refusals used a generation. */
        mls_st_stats(t, &after);
        assert_true(before.ratchet_steps == after.ratchet_steps);
        assert_int_equal(before.leaves_active, after.leaves_active);
        mls_authenticated_content_clear(&ac);
        mls_st_free(t);
        fx_free(f);
}

static int
fail_fill(void *ctx, uint8_t *buf, size_t len)
{
        (void)ctx;
        (void)buf;
        (void)len;
        return MLS_E_ENTROPY;
}

/* R-6.3.1-6: every message gets its own reuse guard, from the rng; no
 * randomness, no message. */
static void
test_frame_private_reuse_guard(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_secret_tree *a = fx_tree(f), *b = fx_tree(f);
        struct mls_authenticated_content ac;
        struct mls_message m1 = { 0 }, m2 = { 0 };
        const struct mls_rng bad = { fail_fill, NULL };
        struct mls_bytes out = { 0 };

        (void)state;
        make_signed(f, MLS_CONTENT_APPLICATION, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &ac);
        /* The same generation from two copies of the tree (state lost):
         * the ciphertexts still differ thanks to the guard. */
        private_protect(f, a, &ac, NULL, &m1);
        private_protect(f, b, &ac, NULL, &m2);
        assert_false(mls_bytes_eq(&m1.private_message.ciphertext,
                                  &m2.private_message.ciphertext));
        assert_int_equal(mls_frame_private_protect(&f->g, &ac, f->sds, f->s->hash_len, a, NULL,
                                                   &bad, &out),
                         MLS_E_ENTROPY);
        mls_message_clear(&m1);
        mls_message_clear(&m2);
        mls_authenticated_content_clear(&ac);
        mls_st_free(a);
        mls_st_free(b);
        fx_free(f);
}

/* The group_id and epoch of a PrivateMessage are checked first. */
static void
test_frame_private_wrong_epoch_and_group(void **state)
{
        struct pm_fx p;
        struct mls_message bad = { 0 };

        (void)state;
        pm_fx_init(&p, MLS_SUITE_X25519_AES128GCM_SHA256_ED25519, MLS_CONTENT_APPLICATION);
        copy_private(&p.m, &bad);
        bad.private_message.epoch++;
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL), MLS_E_WRONG_EPOCH);
        mls_message_clear(&bad);
        copy_private(&p.m, &bad);
        bad.private_message.group_id.data[0] ^= 0x01;
        assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL), MLS_E_WRONG_GROUP);
        mls_message_clear(&bad);
        pm_fx_genuine_ok(&p);
        pm_fx_free(&p);
}

/* The group context must be of the suite in use. */
static void
test_frame_group_init_suite_mismatch(void **state)
{
        struct fx *f = fx_new(MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
        struct mls_frame_group g;

        (void)state;
        assert_int_equal(mls_frame_group_init(mls_suite_get(MLS_SUITE_P256_AES128GCM_SHA256_P256),
                                              &f->gc, &g),
                         MLS_E_WRONG_SUITE);
        fx_free(f);
}

/* Replaces m's encrypted_sender_data with the AEAD of an arbitrary
 * plaintext under the right sender-data key, nonce and AAD. */
static void
reseal_sender_data(const struct fx *f, struct mls_message *m, const uint8_t *pt, size_t len)
{
        const struct mls_suite *s = f->s;
        struct mls_private_message *pm = &m->private_message;
        struct mls_sender_data_aad sd_aad = { .group_id = pm->group_id,
                                              .epoch = pm->epoch,
                                              .content_type = pm->content_type };
        struct mls_key_nonce_buf kn;
        struct mls_bytes aad = { 0 };

        assert_int_equal(mls_st_sender_data_key_into(s, f->sds, s->hash_len, pm->ciphertext.data,
                                                     pm->ciphertext.len, &kn),
                         0);
        assert_int_equal(mls_sender_data_aad_to_bytes(&sd_aad, &aad), 0);
        mls_bytes_clear(&pm->encrypted_sender_data);
        pm->encrypted_sender_data.len = len + s->aead_tag_len;
        pm->encrypted_sender_data.data = malloc(pm->encrypted_sender_data.len);
        assert_non_null(pm->encrypted_sender_data.data);
        assert_int_equal(mls_crypto_aead_seal(s, kn.key, kn.nonce, aad.data, aad.len, pt, len,
                                              pm->encrypted_sender_data.data),
                         0);
        mls_key_nonce_buf_clear(&kn);
        mls_bytes_clear(&aad);
}

/* R-6.3.2-1: a SenderData that authenticates but is not exactly
 * leaf_index || generation || reuse_guard is a malformed message, whether
 * it fits the stack buffer it is opened into (13 and 11 bytes) or not
 * (200 bytes, opened into guarded memory); damaged, it does not
 * authenticate. None of them consumes the genuine message's key. */
static void
test_frame_private_malformed_sender_data(void **state)
{
        static const size_t lens[] = { 11, 13, 64, 65, 200 };
        struct pm_fx p;
        uint8_t pt[200];

        (void)state;
        pm_fx_init(&p, MLS_SUITE_P256_AES128GCM_SHA256_P256, MLS_CONTENT_APPLICATION);
        memset(pt, 0, sizeof(pt));
        pt[3] = SENDER; /* leaf_index */
        for (size_t i = 0; i < MLS_ARRAY_SIZE(lens); i++) {
                struct mls_message bad = { 0 };

                copy_private(&p.m, &bad);
                reseal_sender_data(p.f, &bad, pt, lens[i]);
                assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL),
                                 MLS_E_INVALID_MESSAGE);
                bad.private_message.encrypted_sender_data.data[lens[i] - 1] ^= 0x10;
                assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &bad, NULL),
                                 MLS_E_DECRYPT);
                mls_message_clear(&bad);
        }
        /* The 12-byte form resealed with the genuine values opens. */
        {
                struct mls_message good = { 0 };
                struct mls_sender_data sd = { .leaf_index = SENDER, .generation = 0 };
                struct mls_bytes sd_b = { 0 };
                struct mls_key_nonce_buf kn;

                /* Recover the genuine reuse guard from the message itself. */
                copy_private(&p.m, &good);
                assert_int_equal(mls_st_sender_data_key_into(p.f->s, p.f->sds, p.f->s->hash_len,
                                                             good.private_message.ciphertext.data,
                                                             good.private_message.ciphertext.len,
                                                             &kn),
                                 0);
                {
                        struct mls_sender_data_aad a = {
                                .group_id = good.private_message.group_id,
                                .epoch = good.private_message.epoch,
                                .content_type = good.private_message.content_type,
                        };
                        struct mls_bytes ab = { 0 };
                        uint8_t open[12];

                        assert_int_equal(mls_sender_data_aad_to_bytes(&a, &ab), 0);
                        assert_int_equal(good.private_message.encrypted_sender_data.len,
                                         12 + p.f->s->aead_tag_len);
                        assert_int_equal(mls_crypto_aead_open(
                                                 p.f->s, kn.key, kn.nonce, ab.data, ab.len,
                                                 good.private_message.encrypted_sender_data.data,
                                                 good.private_message.encrypted_sender_data.len,
                                                 open),
                                         0);
                        memcpy(sd.reuse_guard, open + 8, MLS_REUSE_GUARD_LEN);
                        mls_bytes_clear(&ab);
                }
                mls_key_nonce_buf_clear(&kn);
                assert_int_equal(mls_sender_data_to_bytes(&sd, &sd_b), 0);
                reseal_sender_data(p.f, &good, sd_b.data, sd_b.len);
                assert_int_equal(private_unprotect(p.f, &p.f->g, p.recv, &good, NULL), 0);
                mls_bytes_clear(&sd_b);
                mls_message_clear(&good);
        }
        pm_fx_free(&p);
}

/* R-6.3.1-1: a commit whose PrivateMessageContent outgrows the protect's
 * first guess of its size (the secure writer grows past it) still round
 * trips, in a suite with 32-byte and one with 64-byte hashes. */
static void
test_frame_private_large_commit(void **state)
{
        static const uint16_t suites[] = { MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
                                           MLS_SUITE_X448_AES256GCM_SHA512_ED448 };

        (void)state;
        for (size_t k = 0; k < MLS_ARRAY_SIZE(suites); k++) {
                struct fx *f = fx_new(suites[k]);
                struct mls_secret_tree *st = fx_tree(f), *rt = fx_tree(f);
                struct mls_authenticated_content ac, out = { 0 };
                struct mls_commit *c;
                struct mls_message m = { 0 };
                const size_t n_refs = 120;

                make_ac(f, MLS_CONTENT_COMMIT, MLS_WIRE_PRIVATE_MESSAGE, SENDER, &ac);
                c = &ac.content.commit;
                c->proposals = realloc(c->proposals, n_refs * sizeof(*c->proposals));
                assert_non_null(c->proposals);
                for (size_t i = 1; i < n_refs; i++) {
                        c->proposals[i] = (struct mls_proposal_or_ref){ .type = MLS_POR_REFERENCE };
                        assert_int_equal(mls_bytes_copy(&c->proposals[i].reference, f->mk,
                                                        f->s->hash_len),
                                         0);
                        c->proposals[i].reference.data[0] = (uint8_t)i;
                }
                c->n_proposals = n_refs;
                assert_int_equal(mls_frame_sign_with_key(&f->g, &ac, f->priv[SENDER]), 0);
                private_protect(f, st, &ac, NULL, &m);
                assert_true(m.private_message.ciphertext.len > 1024 + 200);
                assert_int_equal(private_unprotect(f, &f->g, rt, &m, &out), 0);
                assert_ac_equal(&ac, &out);
                mls_authenticated_content_clear(&out);
                mls_authenticated_content_clear(&ac);
                mls_message_clear(&m);
                mls_st_free(st);
                mls_st_free(rt);
                fx_free(f);
        }
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_frame_public_roundtrip_all_suites),
                cmocka_unit_test(test_frame_private_roundtrip_all_suites),
                cmocka_unit_test(test_frame_sign_callback_label_and_content),
                cmocka_unit_test(test_frame_public_flipped_signature),
                cmocka_unit_test(test_frame_public_flipped_membership_tag),
                cmocka_unit_test(test_frame_public_wrong_epoch_and_group),
                cmocka_unit_test(test_frame_public_refuses_application),
                cmocka_unit_test(test_frame_public_unknown_member),
                cmocka_unit_test(test_frame_public_external_sender),
                cmocka_unit_test(test_frame_public_new_member_senders),
                cmocka_unit_test(test_frame_private_flipped_sender_data),
                cmocka_unit_test(test_frame_private_flipped_ciphertext),
                cmocka_unit_test(test_frame_private_nonzero_padding),
                cmocka_unit_test(test_frame_private_replay),
                cmocka_unit_test(test_frame_private_sender_outside_tree),
                cmocka_unit_test(test_frame_private_forged_signature_keeps_key),
                cmocka_unit_test(test_frame_private_failed_decrypt_keeps_tree),
                cmocka_unit_test(test_frame_private_protect_refusals),
                cmocka_unit_test(test_frame_private_reuse_guard),
                cmocka_unit_test(test_frame_private_wrong_epoch_and_group),
                cmocka_unit_test(test_frame_group_init_suite_mismatch),
                cmocka_unit_test(test_frame_private_malformed_sender_data),
                cmocka_unit_test(test_frame_private_large_commit),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
