/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/messages: round trips of every RFC 9420 wire structure
 * (built by hand and taken from messages.json), truncation at every offset
 * of real messages, trailing bytes, bad optional octets, unknown
 * enumeration values, duplicate extensions, non-zero padding, wrong
 * versions, nested vectors longer than their parent, and the TBS helpers.
 * Inputs sit in exact-size guarded buffers so any overread faults; the
 * sanitizer build checks that failed decodes leak nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include <json-c/json.h>

#include "mls/messages.h"
#include "tests/lib/testutil.h"

/* ------------------------------------------------------------------ */
/* helpers */

/* Decodes a whole buffer as X from a guarded copy and frees the result;
 * returns the decoder's code. */
#define DEC(name)                                                                          \
        MLS_UNUSED static int dec_##name(const uint8_t *p, size_t n)                       \
        {                                                                                  \
                struct mls_##name x = { 0 };                                               \
                uint8_t *g = tu_guarded_copy(p, n);                                        \
                int e;                                                                     \
                                                                                           \
                assert_non_null(g);                                                        \
                e = mls_##name##_from_bytes(g, n, &x);                                     \
                mls_##name##_clear(&x);                                                    \
                tu_guarded_free(g);                                                        \
                return e;                                                                  \
        }

/* Decode, re-encode, compare; returns the decoded structure in *ret. */
#define RT(name)                                                                           \
        MLS_UNUSED static void rt_##name(const uint8_t *p, size_t n, struct mls_##name *ret) \
        {                                                                                  \
                struct mls_bytes out = { 0 };                                              \
                uint8_t *g = tu_guarded_copy(p, n);                                        \
                                                                                           \
                assert_non_null(g);                                                        \
                assert_int_equal(mls_##name##_from_bytes(g, n, ret), 0);                   \
                tu_guarded_free(g);                                                        \
                assert_int_equal(mls_##name##_to_bytes(ret, &out), 0);                     \
                assert_int_equal(out.len, n);                                              \
                assert_memory_equal(out.data, p, n);                                       \
                mls_bytes_clear(&out);                                                     \
        }

/* Encodes x, then decodes and re-encodes the bytes (must be identical).
 * ret gets the decoded copy. */
#define ENC_RT(name)                                                                       \
        MLS_UNUSED static void enc_rt_##name(const struct mls_##name *x,                   \
                                             struct mls_##name *ret,                       \
                                             struct mls_bytes *ret_bytes)                  \
        {                                                                                  \
                struct mls_bytes enc = { 0 };                                              \
                                                                                           \
                assert_int_equal(mls_##name##_to_bytes(x, &enc), 0);                       \
                rt_##name(enc.data, enc.len, ret);                                         \
                if (ret_bytes)                                                             \
                        *ret_bytes = enc;                                                  \
                else                                                                       \
                        mls_bytes_clear(&enc);                                             \
        }

#define ALL(name) DEC(name) RT(name) ENC_RT(name)

ALL(credential)
ALL(capabilities)
ALL(lifetime)
ALL(extension)
ALL(extension_list)
ALL(leaf_node)
ALL(parent_node)
ALL(node)
ALL(ratchet_tree)
ALL(key_package)
ALL(required_capabilities)
ALL(external_sender)
ALL(external_senders)
ALL(external_pub)
ALL(application_id)
ALL(hpke_ciphertext)
ALL(update_path_node)
ALL(update_path)
ALL(add)
ALL(update)
ALL(remove)
ALL(pre_shared_key)
ALL(reinit)
ALL(external_init)
ALL(group_context_extensions)
ALL(proposal)
ALL(proposal_or_ref)
ALL(commit)
ALL(group_context)
ALL(sender)
ALL(framed_content)
ALL(authenticated_content)
ALL(public_message)
ALL(private_message)
ALL(sender_data)
ALL(private_content_aad)
ALL(sender_data_aad)
ALL(group_info)
ALL(encrypted_group_secrets)
ALL(welcome)
ALL(message)
DEC(group_secrets)

/* A decoder over a whole buffer. */
typedef int (*dec_fn)(const uint8_t *p, size_t n);

/* Every strict prefix of a valid encoding is MLS_E_TRUNCATED (the full
 * input decodes), and one extra byte is MLS_E_TRAILING. */
static void
check_truncation_and_trailing(dec_fn dec, const uint8_t *p, size_t n)
{
        uint8_t *ext;

        assert_int_equal(dec(p, n), 0);
        for (size_t k = 0; k < n; k++)
                assert_int_equal(dec(p, k), MLS_E_TRUNCATED);
        ext = malloc(n + 1);
        assert_non_null(ext);
        memcpy(ext, p, n);
        ext[n] = 0;
        assert_int_equal(dec(ext, n + 1), MLS_E_TRAILING);
        free(ext);
}

static int
put_bytes(struct mls_writer *w, const struct mls_bytes *b)
{
        return mls_writer_opaque(w, b->data, b->len);
}

static void
bytes_set(struct mls_bytes *b, const char *s)
{
        assert_int_equal(mls_bytes_copy(b, (const uint8_t *)s, strlen(s)), 0);
}

static void
bytes_fill(struct mls_bytes *b, uint8_t v, size_t n)
{
        uint8_t buf[256];

        assert_true(n <= sizeof(buf));
        memset(buf, v, n);
        assert_int_equal(mls_bytes_copy(b, buf, n), 0);
}

static void
u16_list_set(struct mls_u16_list *l, const uint16_t *v, size_t n)
{
        l->v = calloc(n ? n : 1, sizeof(*l->v));
        assert_non_null(l->v);
        memcpy(l->v, v, n * sizeof(*v));
        l->n = n;
}

/* A writer-built byte string. */
struct buf {
        struct mls_writer w;
};

static void
buf_init(struct buf *b)
{
        mls_writer_init(&b->w);
}

static void
buf_hex(struct buf *b, const char *hex)
{
        struct mls_bytes x;

        assert_true(tu_hex_decode(hex, &x));
        assert_int_equal(mls_writer_raw(&b->w, x.data, x.len), 0);
        mls_bytes_clear(&x);
}

static void
buf_done(struct buf *b, struct mls_bytes *ret)
{
        assert_int_equal(mls_writer_finish(&b->w, ret), 0);
}

/* ------------------------------------------------------------------ */
/* hand-built structures */

static void
make_credential_basic(struct mls_credential *c, const char *id)
{
        c->credential_type = MLS_CREDENTIAL_BASIC;
        bytes_set(&c->identity, id);
}

static void
make_capabilities(struct mls_capabilities *c)
{
        static const uint16_t versions[] = { 1 };
        static const uint16_t suites[] = { 1, 2, 3, 0x0a0a };
        static const uint16_t exts[] = { 0xff00, 0x1a1a };
        static const uint16_t props[] = { 0xfff0 };
        static const uint16_t creds[] = { 1, 2 };

        u16_list_set(&c->versions, versions, MLS_ARRAY_SIZE(versions));
        u16_list_set(&c->cipher_suites, suites, MLS_ARRAY_SIZE(suites));
        u16_list_set(&c->extensions, exts, MLS_ARRAY_SIZE(exts));
        u16_list_set(&c->proposals, props, MLS_ARRAY_SIZE(props));
        u16_list_set(&c->credentials, creds, MLS_ARRAY_SIZE(creds));
}

static void
make_leaf_node(struct mls_leaf_node *l, uint8_t source)
{
        bytes_fill(&l->encryption_key, 0x11, 32);
        bytes_fill(&l->signature_key, 0x22, 32);
        make_credential_basic(&l->credential, "alice");
        make_capabilities(&l->capabilities);
        l->leaf_node_source = source;
        if (source == MLS_LEAF_SOURCE_KEY_PACKAGE)
                l->lifetime = (struct mls_lifetime){ 1, UINT64_MAX };
        if (source == MLS_LEAF_SOURCE_COMMIT)
                bytes_fill(&l->parent_hash, 0x33, 32);
        assert_int_equal(mls_extension_list_add(&l->extensions, 0xff00, (const uint8_t *)"x", 1),
                         0);
        bytes_fill(&l->signature, 0x44, 64);
}

static void
make_key_package(struct mls_key_package *kp)
{
        kp->version = MLS_VERSION_MLS10;
        kp->cipher_suite = 1;
        bytes_fill(&kp->init_key, 0x55, 32);
        make_leaf_node(&kp->leaf_node, MLS_LEAF_SOURCE_KEY_PACKAGE);
        assert_int_equal(mls_extension_list_add(&kp->extensions, 0x0a0a, NULL, 0), 0);
        bytes_fill(&kp->signature, 0x66, 64);
}

static void
make_group_context(struct mls_group_context *gc)
{
        gc->version = MLS_VERSION_MLS10;
        gc->cipher_suite = 1;
        bytes_set(&gc->group_id, "group");
        gc->epoch = 0x0102030405060708ULL;
        bytes_fill(&gc->tree_hash, 0x77, 32);
        bytes_fill(&gc->confirmed_transcript_hash, 0x88, 32);
        assert_int_equal(
                mls_extension_list_add(&gc->extensions, MLS_EXT_REQUIRED_CAPABILITIES, NULL, 0),
                0);
}

static void
make_psk_id(struct mls_psk_id *id, bool external)
{
        if (external) {
                id->psktype = MLS_PSK_EXTERNAL;
                bytes_set(&id->psk_id, "psk");
        } else {
                id->psktype = MLS_PSK_RESUMPTION;
                id->usage = MLS_PSK_USAGE_APPLICATION;
                bytes_set(&id->psk_group_id, "old group");
                id->psk_epoch = 7;
        }
        bytes_fill(&id->psk_nonce, 0x99, 32);
}

static void
make_proposal(struct mls_proposal *p, uint16_t type)
{
        p->proposal_type = type;
        switch (type) {
        case MLS_PROPOSAL_ADD:
                make_key_package(&p->add.key_package);
                break;
        case MLS_PROPOSAL_UPDATE:
                make_leaf_node(&p->update.leaf_node, MLS_LEAF_SOURCE_UPDATE);
                break;
        case MLS_PROPOSAL_REMOVE:
                p->remove.removed = 0xdeadbeef;
                break;
        case MLS_PROPOSAL_PSK:
                make_psk_id(&p->psk.psk, true);
                break;
        case MLS_PROPOSAL_REINIT:
                bytes_set(&p->reinit.group_id, "new group");
                p->reinit.version = 1;
                p->reinit.cipher_suite = 3;
                assert_int_equal(mls_extension_list_add(&p->reinit.extensions, 0x1234,
                                                        (const uint8_t *)"ab", 2),
                                 0);
                break;
        case MLS_PROPOSAL_EXTERNAL_INIT:
                bytes_fill(&p->external_init.kem_output, 0xaa, 32);
                break;
        default:
                assert_int_equal(mls_extension_list_add(&p->group_context_extensions.extensions,
                                                        MLS_EXT_EXTERNAL_SENDERS, NULL, 0),
                                 0);
                break;
        }
}

static void
make_update_path(struct mls_update_path *up)
{
        make_leaf_node(&up->leaf_node, MLS_LEAF_SOURCE_COMMIT);
        up->nodes = calloc(2, sizeof(*up->nodes));
        assert_non_null(up->nodes);
        up->n_nodes = 2;
        for (size_t i = 0; i < 2; i++) {
                struct mls_update_path_node *n = &up->nodes[i];

                bytes_fill(&n->encryption_key, (uint8_t)(0xb0 + i), 32);
                n->encrypted_path_secret = calloc(i + 1, sizeof(*n->encrypted_path_secret));
                assert_non_null(n->encrypted_path_secret);
                n->n_encrypted_path_secret = i + 1;
                for (size_t j = 0; j <= i; j++) {
                        bytes_fill(&n->encrypted_path_secret[j].kem_output, 0xc0, 32);
                        bytes_fill(&n->encrypted_path_secret[j].ciphertext, 0xc1, 48);
                }
        }
}

/* A commit with every proposal type by value, one reference, and
 * optionally a path. */
static void
make_commit(struct mls_commit *c, bool path)
{
        c->n_proposals = 8;
        c->proposals = calloc(c->n_proposals, sizeof(*c->proposals));
        assert_non_null(c->proposals);
        for (uint16_t t = 1; t <= 7; t++) {
                c->proposals[t - 1].type = MLS_POR_PROPOSAL;
                c->proposals[t - 1].proposal = calloc(1, sizeof(struct mls_proposal));
                assert_non_null(c->proposals[t - 1].proposal);
                make_proposal(c->proposals[t - 1].proposal, t);
        }
        c->proposals[7].type = MLS_POR_REFERENCE;
        bytes_fill(&c->proposals[7].reference, 0xee, 32);
        c->has_path = path;
        if (path)
                make_update_path(&c->path);
}

static void
make_framed_content(struct mls_framed_content *fc, uint8_t sender_type, uint8_t content_type)
{
        bytes_set(&fc->group_id, "group");
        fc->epoch = 42;
        fc->sender.sender_type = sender_type;
        fc->sender.leaf_index = sender_type == MLS_SENDER_MEMBER ? 3 : 0;
        fc->sender.sender_index = sender_type == MLS_SENDER_EXTERNAL ? 1 : 0;
        bytes_set(&fc->authenticated_data, "aad");
        fc->content_type = content_type;
        switch (content_type) {
        case MLS_CONTENT_APPLICATION:
                bytes_set(&fc->application_data, "hello");
                break;
        case MLS_CONTENT_PROPOSAL:
                make_proposal(&fc->proposal, MLS_PROPOSAL_REMOVE);
                break;
        default:
                make_commit(&fc->commit, true);
                break;
        }
}

static void
make_auth(struct mls_framed_content_auth_data *a, uint8_t content_type)
{
        bytes_fill(&a->signature, 0x5a, 64);
        if (content_type == MLS_CONTENT_COMMIT)
                bytes_fill(&a->confirmation_tag, 0xa5, 32);
}

static void
make_group_info(struct mls_group_info *gi)
{
        make_group_context(&gi->group_context);
        assert_int_equal(mls_extension_list_add(&gi->extensions, MLS_EXT_EXTERNAL_PUB,
                                                (const uint8_t *)"\x01\x02", 2),
                         0);
        /* an unknown (GREASE) extension travels along */
        assert_int_equal(mls_extension_list_add(&gi->extensions, 0x3a3a,
                                                (const uint8_t *)"\x09", 1),
                         0);
        bytes_fill(&gi->confirmation_tag, 0x12, 32);
        gi->signer = 0x01020304;
        bytes_fill(&gi->signature, 0x34, 64);
}

static void
make_welcome(struct mls_welcome *w)
{
        w->cipher_suite = 2;
        w->n_secrets = 2;
        w->secrets = calloc(2, sizeof(*w->secrets));
        assert_non_null(w->secrets);
        for (size_t i = 0; i < 2; i++) {
                bytes_fill(&w->secrets[i].new_member, (uint8_t)i, 32);
                bytes_fill(&w->secrets[i].encrypted_group_secrets.kem_output, 0x40, 65);
                bytes_fill(&w->secrets[i].encrypted_group_secrets.ciphertext, 0x41, 100);
        }
        bytes_fill(&w->encrypted_group_info, 0x42, 200);
}

/* ------------------------------------------------------------------ */
/* round trips of hand-built structures */

static void
test_credential_roundtrip(void **state)
{
        struct mls_credential c = { 0 }, d = { 0 }, x = { 0 }, y = { 0 };

        (void)state;
        make_credential_basic(&c, "bob");
        enc_rt_credential(&c, &d, NULL);
        assert_int_equal(d.credential_type, MLS_CREDENTIAL_BASIC);
        assert_true(mls_bytes_eq(&c.identity, &d.identity));

        x.credential_type = MLS_CREDENTIAL_X509;
        x.n_certificates = 3;
        x.certificates = calloc(3, sizeof(*x.certificates));
        assert_non_null(x.certificates);
        bytes_fill(&x.certificates[0], 0x30, 200);
        bytes_fill(&x.certificates[1], 0x31, 10);
        enc_rt_credential(&x, &y, NULL);
        assert_int_equal(y.n_certificates, 3);
        assert_true(mls_bytes_eq(&x.certificates[0], &y.certificates[0]));
        assert_int_equal(y.certificates[2].len, 0);

        mls_credential_clear(&c);
        mls_credential_clear(&d);
        mls_credential_clear(&x);
        mls_credential_clear(&y);
        mls_credential_clear(NULL);
}

/* The small building blocks: truncation and trailing bytes of each. */
static void
test_small_structs_truncation(void **state)
{
        struct mls_extension e = { 0 }, e2 = { 0 };
        struct mls_capabilities c = { 0 }, c2 = { 0 };
        struct mls_lifetime l = { 1, 2 }, l2 = { 0 };
        struct mls_application_id a = { 0 }, a2 = { 0 };
        struct mls_external_sender s = { 0 }, s2 = { 0 };
        struct mls_hpke_ciphertext h = { 0 }, h2 = { 0 };
        struct mls_update_path up = { 0 }, up2 = { 0 };
        struct mls_bytes enc;

        (void)state;
        e.extension_type = 0xabcd;
        bytes_fill(&e.extension_data, 0xef, 70); /* two-byte length */
        enc_rt_extension(&e, &e2, &enc);
        assert_int_equal(enc.len, 2 + 2 + 70);
        check_truncation_and_trailing(dec_extension, enc.data, enc.len);
        mls_bytes_clear(&enc);

        make_capabilities(&c);
        enc_rt_capabilities(&c, &c2, &enc);
        check_truncation_and_trailing(dec_capabilities, enc.data, enc.len);
        mls_bytes_clear(&enc);

        enc_rt_lifetime(&l, &l2, &enc);
        assert_int_equal(enc.len, 16);
        check_truncation_and_trailing(dec_lifetime, enc.data, enc.len);
        mls_bytes_clear(&enc);

        bytes_set(&a.application_id, "app");
        enc_rt_application_id(&a, &a2, &enc);
        check_truncation_and_trailing(dec_application_id, enc.data, enc.len);
        mls_bytes_clear(&enc);

        bytes_fill(&s.signature_key, 3, 32);
        make_credential_basic(&s.credential, "ext");
        enc_rt_external_sender(&s, &s2, &enc);
        check_truncation_and_trailing(dec_external_sender, enc.data, enc.len);
        mls_bytes_clear(&enc);

        bytes_fill(&h.kem_output, 4, 32);
        bytes_fill(&h.ciphertext, 5, 48);
        enc_rt_hpke_ciphertext(&h, &h2, &enc);
        check_truncation_and_trailing(dec_hpke_ciphertext, enc.data, enc.len);
        mls_bytes_clear(&enc);

        make_update_path(&up);
        enc_rt_update_path(&up, &up2, &enc);
        check_truncation_and_trailing(dec_update_path, enc.data, enc.len);
        mls_bytes_clear(&enc);

        mls_extension_clear(&e);
        mls_extension_clear(&e2);
        mls_capabilities_clear(&c);
        mls_capabilities_clear(&c2);
        mls_application_id_clear(&a);
        mls_application_id_clear(&a2);
        mls_external_sender_clear(&s);
        mls_external_sender_clear(&s2);
        mls_hpke_ciphertext_clear(&h);
        mls_hpke_ciphertext_clear(&h2);
        mls_update_path_clear(&up);
        mls_update_path_clear(&up2);
}

/* R-7.2-5, R-13.5-6: unknown and GREASE values in capabilities are kept. */
static void
test_capabilities_roundtrip_keeps_unknown(void **state)
{
        struct mls_capabilities c = { 0 }, d = { 0 };
        struct mls_lifetime l = { 5, 6 }, m = { 0 };

        (void)state;
        make_capabilities(&c);
        enc_rt_capabilities(&c, &d, NULL);
        assert_int_equal(d.cipher_suites.n, 4);
        assert_int_equal(d.cipher_suites.v[3], 0x0a0a);
        assert_int_equal(d.extensions.v[1], 0x1a1a);
        assert_int_equal(d.proposals.v[0], 0xfff0);
        mls_capabilities_clear(&c);
        mls_capabilities_clear(&d);

        enc_rt_lifetime(&l, &m, NULL);
        assert_true(m.not_before == 5 && m.not_after == 6);
}

/* R-13.4-5: a list with a type twice is rejected on receipt and never
 * written; R-13.4-3/R-12.4.3-2: unknown types are kept. */
static void
test_extension_list_rejects_duplicate(void **state)
{
        static const char *dup = "06" "0001" "00" "0001" "00";
        static const char *dup_far = "0c" "0001" "00" "0002" "00" "ff00" "00" "0001" "00";
        static const char *ok = "0d" "0001" "00" "0002" "00" "ff00" "01" "aa" "0a0a" "00";
        struct mls_extension_list l = { 0 }, d = { 0 };
        struct mls_bytes b, enc = { 0 };
        struct mls_writer w;

        (void)state;
        assert_true(tu_hex_decode(dup, &b));
        assert_int_equal(dec_extension_list(b.data, b.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&b);
        assert_true(tu_hex_decode(dup_far, &b));
        assert_int_equal(dec_extension_list(b.data, b.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&b);

        assert_true(tu_hex_decode(ok, &b));
        rt_extension_list(b.data, b.len, &d);
        assert_int_equal(d.n, 4);
        assert_int_equal(d.v[2].extension_type, 0xff00);
        assert_non_null(mls_extension_list_find(&d, 0x0a0a));
        assert_null(mls_extension_list_find(&d, 0x0003));
        check_truncation_and_trailing(dec_extension_list, b.data, b.len);
        mls_bytes_clear(&b);

        /* R-13.4-5: _add refuses a second extension of a type. */
        assert_int_equal(mls_extension_list_add(&l, 7, NULL, 0), 0);
        assert_int_equal(mls_extension_list_add(&l, 7, NULL, 0), MLS_E_DUPLICATE_EXTENSION);
        assert_int_equal(l.n, 1);
        /* R-13.4-5: the encoder refuses a list with a duplicate. */
        assert_int_equal(mls_extension_list_add(&l, 8, NULL, 0), 0);
        l.v[1].extension_type = 7;
        mls_writer_init(&w);
        assert_int_equal(mls_extension_list_encode(&w, &l), MLS_E_DUPLICATE_EXTENSION);
        mls_writer_clear(&w);
        assert_int_equal(mls_extension_list_to_bytes(&l, &enc), MLS_E_DUPLICATE_EXTENSION);

        mls_extension_list_clear(&l);
        mls_extension_list_clear(&d);
        mls_extension_list_clear(NULL);
}

/* R-13.4-5 in every structure that holds an extension list: the same
 * duplicate list inside a KeyPackage, a LeafNode, a GroupContext, a
 * GroupInfo, a ReInit and a GroupContextExtensions proposal. */
static void
test_extension_duplicate_in_every_holder(void **state)
{
        struct mls_key_package kp = { 0 };
        struct mls_group_info gi = { 0 };
        struct mls_proposal re = { 0 }, gce = { 0 };
        struct mls_bytes enc = { 0 };
        struct buf b;
        struct mls_writer w;

        (void)state;
        make_key_package(&kp);
        make_group_info(&gi);
        make_proposal(&re, MLS_PROPOSAL_REINIT);
        make_proposal(&gce, MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS);

        /* KeyPackage.extensions */
        buf_init(&b);
        assert_int_equal(mls_writer_u16(&b.w, 1), 0);
        assert_int_equal(mls_writer_u16(&b.w, 1), 0);
        assert_int_equal(put_bytes(&b.w, &kp.init_key), 0);
        assert_int_equal(mls_leaf_node_encode(&b.w, &kp.leaf_node), 0);
        buf_hex(&b, "06" "0a0a00" "0a0a00");
        buf_hex(&b, "00");
        buf_done(&b, &enc);
        assert_int_equal(dec_key_package(enc.data, enc.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&enc);

        /* LeafNode.extensions (key_package source: lifetime precedes them) */
        buf_init(&b);
        assert_int_equal(put_bytes(&b.w, &kp.leaf_node.encryption_key), 0);
        assert_int_equal(put_bytes(&b.w, &kp.leaf_node.signature_key), 0);
        assert_int_equal(mls_credential_encode(&b.w, &kp.leaf_node.credential), 0);
        assert_int_equal(mls_capabilities_encode(&b.w, &kp.leaf_node.capabilities), 0);
        assert_int_equal(mls_writer_u8(&b.w, MLS_LEAF_SOURCE_KEY_PACKAGE), 0);
        assert_int_equal(mls_lifetime_encode(&b.w, &kp.leaf_node.lifetime), 0);
        buf_hex(&b, "06" "ff0000" "ff0000" "00");
        buf_done(&b, &enc);
        assert_int_equal(dec_leaf_node(enc.data, enc.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&enc);

        /* GroupContext.extensions and GroupInfo.extensions */
        buf_init(&b);
        buf_hex(&b, "0001" "0001" "00" "0000000000000000" "00" "00");
        buf_hex(&b, "06" "000300" "000300");
        buf_done(&b, &enc);
        assert_int_equal(dec_group_context(enc.data, enc.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&enc);
        buf_init(&b);
        assert_int_equal(mls_group_context_encode(&b.w, &gi.group_context), 0);
        buf_hex(&b, "06" "000400" "000400");
        buf_hex(&b, "00" "00000000" "00");
        buf_done(&b, &enc);
        assert_int_equal(dec_group_info(enc.data, enc.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&enc);

        /* ReInit and GroupContextExtensions proposals */
        buf_init(&b);
        buf_hex(&b, "0005" "00" "0001" "0001" "06" "000500" "000500");
        buf_done(&b, &enc);
        assert_int_equal(dec_proposal(enc.data, enc.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&enc);
        buf_init(&b);
        buf_hex(&b, "0007" "06" "000500" "000500");
        buf_done(&b, &enc);
        assert_int_equal(dec_proposal(enc.data, enc.len), MLS_E_DUPLICATE_EXTENSION);
        mls_bytes_clear(&enc);

        /* The encoders refuse the same. */
        mls_writer_init(&w);
        assert_int_equal(mls_extension_list_add(&gce.group_context_extensions.extensions,
                                                0x4242, NULL, 0),
                         0);
        gce.group_context_extensions.extensions.v[1].extension_type = MLS_EXT_EXTERNAL_SENDERS;
        assert_int_equal(mls_proposal_encode(&w, &gce), MLS_E_DUPLICATE_EXTENSION);
        mls_writer_clear(&w);

        mls_key_package_clear(&kp);
        mls_group_info_clear(&gi);
        mls_proposal_clear(&re);
        mls_proposal_clear(&gce);
}

static void
test_typed_extensions_roundtrip(void **state)
{
        static const uint16_t et[] = { 0xff00 }, pt[] = { 0xfff0, 0xfff1 }, ct[] = { 1 };
        struct mls_required_capabilities rc = { 0 }, rc2 = { 0 };
        struct mls_external_senders es = { 0 }, es2 = { 0 };
        struct mls_external_pub ep = { 0 }, ep2 = { 0 };
        struct mls_application_id ai = { 0 }, ai2 = { 0 };
        struct mls_extension_list l = { 0 };
        struct mls_bytes enc;

        (void)state;
        u16_list_set(&rc.extension_types, et, 1);
        u16_list_set(&rc.proposal_types, pt, 2);
        u16_list_set(&rc.credential_types, ct, 1);
        enc_rt_required_capabilities(&rc, &rc2, &enc);
        assert_int_equal(rc2.proposal_types.n, 2);
        assert_int_equal(rc2.proposal_types.v[1], 0xfff1);
        check_truncation_and_trailing(dec_required_capabilities, enc.data, enc.len);
        assert_int_equal(mls_extension_list_add(&l, MLS_EXT_REQUIRED_CAPABILITIES, enc.data,
                                                enc.len),
                         0);
        mls_bytes_clear(&enc);
        mls_required_capabilities_clear(&rc2);
        assert_int_equal(mls_extension_get_required_capabilities(
                                 mls_extension_list_find(&l, MLS_EXT_REQUIRED_CAPABILITIES), &rc2),
                         0);
        assert_int_equal(rc2.extension_types.v[0], 0xff00);

        es.n = 2;
        es.v = calloc(2, sizeof(*es.v));
        assert_non_null(es.v);
        for (size_t i = 0; i < 2; i++) {
                bytes_fill(&es.v[i].signature_key, (uint8_t)i, 32);
                make_credential_basic(&es.v[i].credential, "ds");
        }
        /* R-12.1.8.1-1: a list of (signature_key, credential) pairs */
        enc_rt_external_senders(&es, &es2, &enc);
        assert_int_equal(es2.n, 2);
        check_truncation_and_trailing(dec_external_senders, enc.data, enc.len);
        assert_int_equal(mls_extension_list_add(&l, MLS_EXT_EXTERNAL_SENDERS, enc.data, enc.len),
                         0);
        mls_bytes_clear(&enc);
        mls_external_senders_clear(&es2);
        assert_int_equal(mls_extension_get_external_senders(
                                 mls_extension_list_find(&l, MLS_EXT_EXTERNAL_SENDERS), &es2),
                         0);
        assert_true(mls_bytes_eq(&es2.v[1].signature_key, &es.v[1].signature_key));

        bytes_fill(&ep.external_pub, 0x04, 65);
        enc_rt_external_pub(&ep, &ep2, &enc);
        check_truncation_and_trailing(dec_external_pub, enc.data, enc.len);
        assert_int_equal(mls_extension_list_add(&l, MLS_EXT_EXTERNAL_PUB, enc.data, enc.len), 0);
        mls_bytes_clear(&enc);
        mls_external_pub_clear(&ep2);
        assert_int_equal(
                mls_extension_get_external_pub(mls_extension_list_find(&l, MLS_EXT_EXTERNAL_PUB),
                                               &ep2),
                0);
        assert_true(mls_bytes_eq(&ep.external_pub, &ep2.external_pub));

        bytes_set(&ai.application_id, "device-1");
        enc_rt_application_id(&ai, &ai2, &enc);
        assert_int_equal(mls_extension_list_add(&l, MLS_EXT_APPLICATION_ID, enc.data, enc.len),
                         0);
        mls_bytes_clear(&enc);
        mls_application_id_clear(&ai2);
        assert_int_equal(mls_extension_get_application_id(
                                 mls_extension_list_find(&l, MLS_EXT_APPLICATION_ID), &ai2),
                         0);
        assert_true(mls_bytes_eq(&ai.application_id, &ai2.application_id));

        /* The getters check the type they are asked for. */
        mls_external_pub_clear(&ep2);
        assert_int_equal(mls_extension_get_external_pub(
                                 mls_extension_list_find(&l, MLS_EXT_APPLICATION_ID), &ep2),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_extension_get_external_pub(NULL, &ep2), MLS_E_INVALID_ARGUMENT);

        mls_required_capabilities_clear(&rc);
        mls_required_capabilities_clear(&rc2);
        mls_external_senders_clear(&es);
        mls_external_senders_clear(&es2);
        mls_external_pub_clear(&ep);
        mls_external_pub_clear(&ep2);
        mls_application_id_clear(&ai);
        mls_application_id_clear(&ai2);
        mls_extension_list_clear(&l);
}

/* R-7.2-7: source-dependent fields, each source round-trips. */
static void
test_leaf_node_roundtrip_each_source(void **state)
{
        (void)state;
        for (uint8_t s = 1; s <= 3; s++) {
                struct mls_leaf_node l = { 0 }, d = { 0 };
                struct mls_bytes enc;

                make_leaf_node(&l, s);
                enc_rt_leaf_node(&l, &d, &enc);
                assert_int_equal(d.leaf_node_source, s);
                if (s == MLS_LEAF_SOURCE_KEY_PACKAGE)
                        assert_true(d.lifetime.not_after == UINT64_MAX);
                else
                        assert_true(d.lifetime.not_before == 0 && d.lifetime.not_after == 0);
                assert_int_equal(d.parent_hash.len, s == MLS_LEAF_SOURCE_COMMIT ? 32 : 0);
                check_truncation_and_trailing(dec_leaf_node, enc.data, enc.len);
                mls_bytes_clear(&enc);
                mls_leaf_node_clear(&l);
                mls_leaf_node_clear(&d);
        }
}

/* Offset of leaf_node_source inside an encoded LeafNode. */
static size_t
leaf_source_offset(const struct mls_leaf_node *l)
{
        struct mls_writer w;
        size_t off;

        mls_writer_init(&w);
        assert_int_equal(put_bytes(&w, &l->encryption_key), 0);
        assert_int_equal(put_bytes(&w, &l->signature_key), 0);
        assert_int_equal(mls_credential_encode(&w, &l->credential), 0);
        assert_int_equal(mls_capabilities_encode(&w, &l->capabilities), 0);
        off = w.len;
        mls_writer_clear(&w);
        return off;
}

/* R-7.2-7: the reserved source 0 and unknown sources are rejected. */
static void
test_leaf_node_rejects_unknown_source(void **state)
{
        struct mls_leaf_node l = { 0 };
        struct mls_bytes enc = { 0 };
        size_t off;

        (void)state;
        make_leaf_node(&l, MLS_LEAF_SOURCE_UPDATE);
        assert_int_equal(mls_leaf_node_to_bytes(&l, &enc), 0);
        off = leaf_source_offset(&l);
        assert_int_equal(enc.data[off], MLS_LEAF_SOURCE_UPDATE);
        for (unsigned v = 0; v < 256; v++) {
                if (v >= 1 && v <= 3)
                        continue;
                enc.data[off] = (uint8_t)v;
                assert_int_equal(dec_leaf_node(enc.data, enc.len), MLS_E_BAD_ENUM);
        }
        /* An update leaf read as a commit leaf: the extensions vector is
         * taken as the parent_hash, and what follows no longer parses. */
        enc.data[off] = MLS_LEAF_SOURCE_COMMIT;
        assert_true(dec_leaf_node(enc.data, enc.len) < 0);
        mls_bytes_clear(&enc);
        /* The encoder refuses an unknown source too. */
        l.leaf_node_source = 0;
        assert_int_equal(mls_leaf_node_to_bytes(&l, &enc), MLS_E_INVALID_ARGUMENT);
        mls_leaf_node_clear(&l);
}

/* Credential select has no default arm: unknown types are BAD_ENUM,
 * both bare and inside a real LeafNode. */
static void
test_credential_rejects_unknown_type(void **state)
{
        static const char *bad[] = { "000000", "000300", "0a0a00", "ffff00" };
        struct mls_leaf_node l = { 0 };
        struct mls_bytes enc = { 0 }, b;
        size_t off;

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(bad); i++) {
                assert_true(tu_hex_decode(bad[i], &b));
                assert_int_equal(dec_credential(b.data, b.len), MLS_E_BAD_ENUM);
                mls_bytes_clear(&b);
        }
        make_leaf_node(&l, MLS_LEAF_SOURCE_KEY_PACKAGE);
        assert_int_equal(mls_leaf_node_to_bytes(&l, &enc), 0);
        off = 1 + l.encryption_key.len + 1 + l.signature_key.len;
        assert_int_equal(enc.data[off], 0);
        assert_int_equal(enc.data[off + 1], MLS_CREDENTIAL_BASIC);
        enc.data[off + 1] = 3;
        assert_int_equal(dec_leaf_node(enc.data, enc.len), MLS_E_BAD_ENUM);
        mls_bytes_clear(&enc);
        l.credential.credential_type = 3;
        assert_int_equal(mls_leaf_node_to_bytes(&l, &enc), MLS_E_INVALID_ARGUMENT);
        mls_leaf_node_clear(&l);
}

/* R-7.2-10: LeafNodeTBS is the LeafNode without signature, plus group_id
 * and leaf_index for update and commit sources. */
static void
test_leaf_node_tbs_layout(void **state)
{
        (void)state;
        for (uint8_t s = 1; s <= 3; s++) {
                struct mls_leaf_node l = { 0 };
                struct mls_bytes full = { 0 }, gid = { 0 }, tbs = { 0 };
                struct mls_writer w;
                size_t body;

                make_leaf_node(&l, s);
                bytes_set(&gid, "gid");
                assert_int_equal(mls_leaf_node_to_bytes(&l, &full), 0);
                body = full.len - mls_varint_size(l.signature.len) - l.signature.len;
                mls_writer_init(&w);
                assert_int_equal(mls_leaf_node_tbs_encode(&w, &l, &gid, 0x01020304), 0);
                assert_int_equal(mls_writer_finish(&w, &tbs), 0);
                assert_memory_equal(tbs.data, full.data, body);
                if (s == MLS_LEAF_SOURCE_KEY_PACKAGE) {
                        assert_int_equal(tbs.len, body);
                } else {
                        static const uint8_t tail[] = { 3, 'g', 'i', 'd', 1, 2, 3, 4 };

                        assert_int_equal(tbs.len, body + sizeof(tail));
                        assert_memory_equal(tbs.data + body, tail, sizeof(tail));
                        /* group_id is required for these sources. */
                        mls_writer_init(&w);
                        assert_int_equal(mls_leaf_node_tbs_encode(&w, &l, NULL, 0),
                                         MLS_E_INVALID_ARGUMENT);
                        mls_writer_clear(&w);
                }
                mls_bytes_clear(&full);
                mls_bytes_clear(&gid);
                mls_bytes_clear(&tbs);
                mls_leaf_node_clear(&l);
        }
}

/* R-7.1-1: unmerged_leaves strictly increasing. */
static void
test_parent_node_unmerged_leaves_sorted(void **state)
{
        static const char *good = "0101" "0102" "0c" "00000001" "00000005" "00000009";
        static const char *unsorted = "0101" "0102" "0c" "00000001" "00000009" "00000005";
        static const char *repeated = "0101" "0102" "08" "00000005" "00000005";
        static const char *partial = "0101" "0102" "06" "00000001" "0000";
        struct mls_parent_node p = { 0 };
        struct mls_bytes b, enc = { 0 };

        (void)state;
        assert_true(tu_hex_decode(good, &b));
        rt_parent_node(b.data, b.len, &p);
        assert_int_equal(p.unmerged_leaves.n, 3);
        assert_int_equal(p.unmerged_leaves.v[2], 9);
        check_truncation_and_trailing(dec_parent_node, b.data, b.len);
        mls_bytes_clear(&b);
        /* The encoder refuses an unsorted list. */
        p.unmerged_leaves.v[2] = 1;
        assert_int_equal(mls_parent_node_to_bytes(&p, &enc), MLS_E_INVALID_TREE);
        mls_parent_node_clear(&p);

        assert_true(tu_hex_decode(unsorted, &b));
        assert_int_equal(dec_parent_node(b.data, b.len), MLS_E_INVALID_TREE);
        mls_bytes_clear(&b);
        assert_true(tu_hex_decode(repeated, &b));
        assert_int_equal(dec_parent_node(b.data, b.len), MLS_E_INVALID_TREE);
        mls_bytes_clear(&b);
        /* A u32 vector whose length is not a multiple of 4. */
        assert_true(tu_hex_decode(partial, &b));
        assert_int_equal(dec_parent_node(b.data, b.len), MLS_E_TRUNCATED);
        mls_bytes_clear(&b);
}

/* Node type and ratchet_tree layout: R-12.4.3.3-1, -3, -4. */
static void
test_ratchet_tree_layout(void **state)
{
        struct mls_ratchet_tree t = { 0 }, d = { 0 };
        struct mls_bytes enc = { 0 }, parent_enc = { 0 };
        struct mls_parent_node pn = { 0 };
        struct mls_writer w;
        struct buf b;

        (void)state;
        /* leaf, blank parent, leaf: [L, -, L] */
        t.n_nodes = 3;
        t.nodes = calloc(3, sizeof(*t.nodes));
        assert_non_null(t.nodes);
        for (size_t i = 0; i < 3; i += 2) {
                t.nodes[i] = calloc(1, sizeof(struct mls_node));
                assert_non_null(t.nodes[i]);
                t.nodes[i]->node_type = MLS_NODE_LEAF;
                make_leaf_node(&t.nodes[i]->leaf_node, MLS_LEAF_SOURCE_COMMIT);
        }
        enc_rt_ratchet_tree(&t, &d, &enc);
        assert_int_equal(d.n_nodes, 3);
        assert_null(d.nodes[1]);
        assert_int_equal(d.nodes[2]->node_type, MLS_NODE_LEAF);
        check_truncation_and_trailing(dec_ratchet_tree, enc.data, enc.len);
        mls_ratchet_tree_clear(&d);

        /* R-12.4.3.3-2, R-12.4.3.3-3: a trailing blank is refused by the
         * encoder ... */
        mls_node_clear(t.nodes[2]);
        free(t.nodes[2]);
        t.nodes[2] = NULL;
        mls_writer_init(&w);
        assert_int_equal(mls_ratchet_tree_encode(&w, &t), MLS_E_INVALID_TREE);
        mls_writer_clear(&w);
        /* ... and by the decoder: [L, -] */
        buf_init(&b);
        {
                size_t m;
                struct mls_bytes out = { 0 };

                assert_int_equal(mls_writer_vec_begin(&b.w, &m), 0);
                assert_int_equal(mls_writer_optional(&b.w, true), 0);
                assert_int_equal(mls_node_encode(&b.w, t.nodes[0]), 0);
                assert_int_equal(mls_writer_optional(&b.w, false), 0);
                assert_int_equal(mls_writer_vec_end(&b.w, m), 0);
                buf_done(&b, &out);
                assert_int_equal(dec_ratchet_tree(out.data, out.len), MLS_E_INVALID_TREE);
                mls_bytes_clear(&out);
                /* without the trailing blank it is fine */
                buf_init(&b);
                assert_int_equal(mls_writer_vec_begin(&b.w, &m), 0);
                assert_int_equal(mls_writer_optional(&b.w, true), 0);
                assert_int_equal(mls_node_encode(&b.w, t.nodes[0]), 0);
                assert_int_equal(mls_writer_vec_end(&b.w, m), 0);
                buf_done(&b, &out);
                assert_int_equal(dec_ratchet_tree(out.data, out.len), 0);
                mls_bytes_clear(&out);
        }
        /* An empty tree has no leaf. */
        {
                static const uint8_t empty[] = { 0 };

                assert_int_equal(dec_ratchet_tree(empty, 1), MLS_E_INVALID_TREE);
        }
        /* R-12.4.3.3-4: a parent at an even position, a leaf at an odd one. */
        bytes_fill(&pn.encryption_key, 1, 32);
        assert_int_equal(mls_parent_node_to_bytes(&pn, &parent_enc), 0);
        {
                struct mls_bytes out = { 0 };
                size_t m;

                buf_init(&b);
                assert_int_equal(mls_writer_vec_begin(&b.w, &m), 0);
                assert_int_equal(mls_writer_optional(&b.w, true), 0);
                assert_int_equal(mls_writer_u8(&b.w, MLS_NODE_PARENT), 0);
                assert_int_equal(mls_writer_raw(&b.w, parent_enc.data, parent_enc.len), 0);
                assert_int_equal(mls_writer_vec_end(&b.w, m), 0);
                buf_done(&b, &out);
                assert_int_equal(dec_ratchet_tree(out.data, out.len), MLS_E_INVALID_TREE);
                mls_bytes_clear(&out);

                buf_init(&b);
                assert_int_equal(mls_writer_vec_begin(&b.w, &m), 0);
                assert_int_equal(mls_writer_optional(&b.w, true), 0);
                assert_int_equal(mls_node_encode(&b.w, t.nodes[0]), 0);
                assert_int_equal(mls_writer_optional(&b.w, true), 0);
                assert_int_equal(mls_node_encode(&b.w, t.nodes[0]), 0);
                assert_int_equal(mls_writer_vec_end(&b.w, m), 0);
                buf_done(&b, &out);
                assert_int_equal(dec_ratchet_tree(out.data, out.len), MLS_E_INVALID_TREE);
                mls_bytes_clear(&out);
        }
        /* Unknown node types (and reserved 0) have no arm. */
        {
                struct mls_node n = { 0 }, nd = { 0 };
                struct mls_bytes out = { 0 };

                n.node_type = MLS_NODE_PARENT;
                bytes_fill(&n.parent_node.encryption_key, 1, 32);
                enc_rt_node(&n, &nd, &out);
                assert_int_equal(nd.node_type, MLS_NODE_PARENT);
                mls_node_clear(&nd);
                out.data[0] = 0;
                assert_int_equal(dec_node(out.data, out.len), MLS_E_BAD_ENUM);
                out.data[0] = 3;
                assert_int_equal(dec_node(out.data, out.len), MLS_E_BAD_ENUM);
                mls_bytes_clear(&out);
                mls_node_clear(&n);
        }
        /* R-2.1.1-1: a presence octet of 2 in the tree (first entry, right
         * after the vector header). */
        {
                struct mls_reader r;
                uint64_t len;

                mls_reader_init(&r, enc.data, enc.len);
                assert_int_equal(mls_reader_varint(&r, &len), 0);
                assert_int_equal(enc.data[enc.len - r.left], 1);
                enc.data[enc.len - r.left] = 2;
                assert_int_equal(dec_ratchet_tree(enc.data, enc.len), MLS_E_BAD_OPTIONAL);
        }

        mls_bytes_clear(&enc);
        mls_bytes_clear(&parent_enc);
        mls_parent_node_clear(&pn);
        mls_ratchet_tree_clear(&t);
        mls_ratchet_tree_clear(NULL);
}

static void
test_key_package_roundtrip_and_tbs(void **state)
{
        struct mls_key_package kp = { 0 }, d = { 0 };
        struct mls_bytes enc, tbs = { 0 };
        struct mls_writer w;

        (void)state;
        make_key_package(&kp);
        enc_rt_key_package(&kp, &d, &enc);
        assert_int_equal(d.leaf_node.leaf_node_source, MLS_LEAF_SOURCE_KEY_PACKAGE);
        assert_int_equal(d.extensions.v[0].extension_type, 0x0a0a);
        check_truncation_and_trailing(dec_key_package, enc.data, enc.len);
        /* KeyPackageTBS: everything but the signature. */
        mls_writer_init(&w);
        assert_int_equal(mls_key_package_tbs_encode(&w, &kp), 0);
        assert_int_equal(mls_writer_finish(&w, &tbs), 0);
        assert_int_equal(tbs.len, enc.len - mls_varint_size(kp.signature.len) - kp.signature.len);
        assert_memory_equal(tbs.data, enc.data, tbs.len);
        mls_bytes_clear(&tbs);
        mls_bytes_clear(&enc);
        mls_key_package_clear(&kp);
        mls_key_package_clear(&d);
}

static void
test_proposal_roundtrip_each_type(void **state)
{
        (void)state;
        for (uint16_t t = 1; t <= 7; t++) {
                struct mls_proposal p = { 0 }, d = { 0 };
                struct mls_bytes enc;

                make_proposal(&p, t);
                enc_rt_proposal(&p, &d, &enc);
                assert_int_equal(d.proposal_type, t);
                check_truncation_and_trailing(dec_proposal, enc.data, enc.len);
                /* The bare body (no type) round-trips through the body codec. */
                switch (t) {
                case MLS_PROPOSAL_ADD: {
                        struct mls_add a = { 0 };

                        rt_add(enc.data + 2, enc.len - 2, &a);
                        mls_add_clear(&a);
                        break;
                }
                case MLS_PROPOSAL_UPDATE: {
                        struct mls_update u = { 0 };

                        rt_update(enc.data + 2, enc.len - 2, &u);
                        mls_update_clear(&u);
                        break;
                }
                case MLS_PROPOSAL_REMOVE: {
                        struct mls_remove r = { 0 };

                        rt_remove(enc.data + 2, enc.len - 2, &r);
                        assert_true(r.removed == 0xdeadbeef);
                        check_truncation_and_trailing(dec_remove, enc.data + 2, enc.len - 2);
                        break;
                }
                case MLS_PROPOSAL_PSK: {
                        struct mls_pre_shared_key k = { 0 };

                        rt_pre_shared_key(enc.data + 2, enc.len - 2, &k);
                        assert_int_equal(k.psk.psktype, MLS_PSK_EXTERNAL);
                        mls_pre_shared_key_clear(&k);
                        break;
                }
                case MLS_PROPOSAL_REINIT: {
                        struct mls_reinit r = { 0 };

                        rt_reinit(enc.data + 2, enc.len - 2, &r);
                        assert_int_equal(r.cipher_suite, 3);
                        mls_reinit_clear(&r);
                        break;
                }
                case MLS_PROPOSAL_EXTERNAL_INIT: {
                        struct mls_external_init e = { 0 };

                        rt_external_init(enc.data + 2, enc.len - 2, &e);
                        assert_int_equal(e.kem_output.len, 32);
                        mls_external_init_clear(&e);
                        break;
                }
                default: {
                        struct mls_group_context_extensions g = { 0 };

                        rt_group_context_extensions(enc.data + 2, enc.len - 2, &g);
                        assert_int_equal(g.extensions.n, 1);
                        mls_group_context_extensions_clear(&g);
                        break;
                }
                }
                mls_bytes_clear(&enc);
                mls_proposal_clear(&p);
                mls_proposal_clear(&d);
        }
}

/* The Proposal select has no default arm: other types (reserved 0,
 * unregistered, GREASE) cannot be parsed. */
static void
test_proposal_rejects_unknown_type(void **state)
{
        static const uint16_t bad[] = { 0, 8, 9, 0x0a0a, 0xf000, 0xffff };
        struct mls_proposal p = { 0 };

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(bad); i++) {
                uint8_t in[6] = { (uint8_t)(bad[i] >> 8), (uint8_t)bad[i], 0, 0, 0, 1 };

                assert_int_equal(dec_proposal(in, sizeof(in)), MLS_E_BAD_ENUM);
        }
        p.proposal_type = 8;
        {
                struct mls_bytes out = { 0 };

                assert_int_equal(mls_proposal_to_bytes(&p, &out), MLS_E_INVALID_ARGUMENT);
        }
        /* Unknown PSK types inside a PreSharedKey proposal (mls/psk.c). */
        {
                static const uint8_t psk[] = { 0x00, 0x04, 0x03, 0x00, 0x00 };

                assert_int_equal(dec_proposal(psk, sizeof(psk)), MLS_E_BAD_ENUM);
        }
}

static void
test_commit_roundtrip(void **state)
{
        (void)state;
        for (int path = 0; path <= 1; path++) {
                struct mls_commit c = { 0 }, d = { 0 };
                struct mls_bytes enc;

                make_commit(&c, path);
                enc_rt_commit(&c, &d, &enc);
                assert_int_equal(d.n_proposals, 8);
                assert_int_equal(d.proposals[7].type, MLS_POR_REFERENCE);
                assert_int_equal(d.proposals[0].proposal->proposal_type, MLS_PROPOSAL_ADD);
                assert_int_equal(d.has_path, path);
                if (path) {
                        struct mls_update_path up = { 0 };
                        struct mls_update_path_node un = { 0 };
                        struct mls_hpke_ciphertext hc = { 0 };

                        assert_int_equal(d.path.n_nodes, 2);
                        assert_int_equal(d.path.nodes[1].n_encrypted_path_secret, 2);
                        enc_rt_update_path(&c.path, &up, NULL);
                        enc_rt_update_path_node(&c.path.nodes[1], &un, NULL);
                        enc_rt_hpke_ciphertext(&c.path.nodes[1].encrypted_path_secret[0], &hc,
                                               NULL);
                        mls_update_path_clear(&up);
                        mls_update_path_node_clear(&un);
                        mls_hpke_ciphertext_clear(&hc);
                }
                check_truncation_and_trailing(dec_commit, enc.data, enc.len);
                /* R-2.1.1-1: the path presence octet must be 0 or 1. */
                {
                        size_t off = enc.len - (path ? 0 : 1);

                        if (path) {
                                struct mls_bytes pe = { 0 };

                                assert_int_equal(mls_update_path_to_bytes(&c.path, &pe), 0);
                                off = enc.len - pe.len - 1;
                                mls_bytes_clear(&pe);
                        }
                        assert_int_equal(enc.data[off], path);
                        enc.data[off] = 2;
                        assert_int_equal(dec_commit(enc.data, enc.len), MLS_E_BAD_OPTIONAL);
                        enc.data[off] = 0xff;
                        assert_int_equal(dec_commit(enc.data, enc.len), MLS_E_BAD_OPTIONAL);
                }
                mls_bytes_clear(&enc);
                mls_commit_clear(&c);
                mls_commit_clear(&d);
        }
}

/* ProposalOrRefType: reserved(0), proposal(1), reference(2); nothing else. */
static void
test_proposal_or_ref_rejects_unknown_type(void **state)
{
        static const uint8_t ref[] = { 2, 2, 0xaa, 0xbb };
        struct mls_proposal_or_ref p = { 0 };
        uint8_t bad[4];

        (void)state;
        rt_proposal_or_ref(ref, sizeof(ref), &p);
        assert_int_equal(p.reference.len, 2);
        mls_proposal_or_ref_clear(&p);
        memcpy(bad, ref, sizeof(bad));
        for (unsigned v = 0; v < 256; v++) {
                if (v == 1 || v == 2)
                        continue;
                bad[0] = (uint8_t)v;
                assert_int_equal(dec_proposal_or_ref(bad, sizeof(bad)), MLS_E_BAD_ENUM);
        }
}

/* A vector nested inside another may not claim more than its parent holds,
 * even when the input as a whole has enough bytes. */
static void
test_nested_vector_exceeding_parent(void **state)
{
        /* Commit: proposals<3> = { reference<5> ... } then path absent and
         * four more bytes that would satisfy the inner length. */
        static const char *commit = "03" "02" "05" "aa" "00" "bbccddee";
        /* Extension list <3> = { type 0001, data<4> } + 4 bytes outside. */
        static const char *exts = "03" "0001" "04" "00000000";
        /* Credential x509: certificates<2> = { cert<3> } + bytes outside. */
        static const char *cred = "0002" "02" "03" "aa" "bbcc";
        /* Welcome: secrets<2> = { new_member<9> } + more bytes. */
        static const char *welcome = "0001" "02" "09" "00" "0000000000000000";
        /* UpdatePathNode: encrypted_path_secret<2> = { kem_output<1>, ct<5> } */
        static const char *upn = "00" "02" "01" "aa" "05" "0000000000";
        struct mls_bytes b;

        (void)state;
        assert_true(tu_hex_decode(commit, &b));
        assert_int_equal(dec_commit(b.data, b.len), MLS_E_TRUNCATED);
        mls_bytes_clear(&b);
        assert_true(tu_hex_decode(exts, &b));
        assert_int_equal(dec_extension_list(b.data, b.len), MLS_E_TRUNCATED);
        mls_bytes_clear(&b);
        assert_true(tu_hex_decode(cred, &b));
        assert_int_equal(dec_credential(b.data, b.len), MLS_E_TRUNCATED);
        mls_bytes_clear(&b);
        assert_true(tu_hex_decode(welcome, &b));
        assert_int_equal(dec_welcome(b.data, b.len), MLS_E_TRUNCATED);
        mls_bytes_clear(&b);
        assert_true(tu_hex_decode(upn, &b));
        assert_int_equal(dec_update_path_node(b.data, b.len), MLS_E_TRUNCATED);
        mls_bytes_clear(&b);
}

/* A huge declared count allocates nothing: the vector length is bounded by
 * the input (R-2.1.2-4), and nothing is preallocated from it. */
static void
test_huge_vector_length_rejected(void **state)
{
        static const uint8_t welcome[] = { 0x00, 0x01, 0xbf, 0xff, 0xff, 0xff, 0x00 };
        static const uint8_t tree[] = { 0xbf, 0xff, 0xff, 0xff, 0x01, 0x01 };

        (void)state;
        assert_int_equal(dec_welcome(welcome, sizeof(welcome)), MLS_E_TRUNCATED);
        assert_int_equal(dec_ratchet_tree(tree, sizeof(tree)), MLS_E_TRUNCATED);
}

static void
test_group_context_roundtrip_and_version(void **state)
{
        struct mls_group_context gc = { 0 }, d = { 0 };
        struct mls_bytes enc;

        (void)state;
        make_group_context(&gc);
        enc_rt_group_context(&gc, &d, &enc);
        /* R-8.1-1: version, cipher_suite, group_id, epoch, tree_hash,
         * confirmed_transcript_hash, extensions, in that order. */
        {
                struct mls_bytes want;
                char hex[512];

                snprintf(hex, sizeof(hex), "0001" "0001" "05%s" "0102030405060708" "20%s"
                         "20%s" "03" "000300",
                         "67726f7570",
                         "7777777777777777777777777777777777777777777777777777777777777777",
                         "8888888888888888888888888888888888888888888888888888888888888888");
                assert_true(tu_hex_decode(hex, &want));
                assert_int_equal(enc.len, want.len);
                assert_memory_equal(enc.data, want.data, want.len);
                mls_bytes_clear(&want);
        }
        assert_true(d.epoch == 0x0102030405060708ULL);
        assert_true(mls_bytes_eq(&d.group_id, &gc.group_id));
        check_truncation_and_trailing(dec_group_context, enc.data, enc.len);
        /* version = mls10 is fixed. */
        enc.data[1] = 2;
        assert_int_equal(dec_group_context(enc.data, enc.len), MLS_E_WRONG_VERSION);
        enc.data[1] = 0;
        assert_int_equal(dec_group_context(enc.data, enc.len), MLS_E_WRONG_VERSION);
        mls_bytes_clear(&enc);
        gc.version = 2;
        assert_int_equal(mls_group_context_to_bytes(&gc, &enc), MLS_E_WRONG_VERSION);
        mls_group_context_clear(&gc);
        mls_group_context_clear(&d);
}

/* R-6-5: SenderType has four values; everything else is rejected. */
static void
test_sender_roundtrip_and_unknown_type(void **state)
{
        (void)state;
        for (uint8_t t = 1; t <= 4; t++) {
                struct mls_sender s = { .sender_type = t, .leaf_index = 7, .sender_index = 9 };
                struct mls_sender d = { 0 };
                struct mls_bytes enc;

                if (t != MLS_SENDER_MEMBER)
                        s.leaf_index = 0;
                if (t != MLS_SENDER_EXTERNAL)
                        s.sender_index = 0;
                enc_rt_sender(&s, &d, &enc);
                assert_int_equal(d.sender_type, s.sender_type);
                assert_int_equal(d.leaf_index, s.leaf_index);
                assert_int_equal(d.sender_index, s.sender_index);
                assert_int_equal(enc.len, (t <= 2) ? 5 : 1);
                check_truncation_and_trailing(dec_sender, enc.data, enc.len);
                mls_bytes_clear(&enc);
        }
        for (unsigned v = 0; v < 256; v++) {
                uint8_t in[5] = { (uint8_t)v, 0, 0, 0, 0 };

                if (v >= 1 && v <= 4)
                        continue;
                assert_int_equal(dec_sender(in, sizeof(in)), MLS_E_BAD_ENUM);
        }
}

/* Offset of content_type in an encoded FramedContent. */
static size_t
fc_content_type_offset(const struct mls_framed_content *fc)
{
        struct mls_writer w;
        size_t off;

        mls_writer_init(&w);
        assert_int_equal(put_bytes(&w, &fc->group_id), 0);
        assert_int_equal(mls_writer_u64(&w, fc->epoch), 0);
        assert_int_equal(mls_sender_encode(&w, &fc->sender), 0);
        assert_int_equal(put_bytes(&w, &fc->authenticated_data), 0);
        off = w.len;
        mls_writer_clear(&w);
        return off;
}

static void
test_framed_content_roundtrip_each_type(void **state)
{
        (void)state;
        for (uint8_t ct = 1; ct <= 3; ct++) {
                for (uint8_t st = 1; st <= 4; st++) {
                        struct mls_framed_content fc = { 0 }, d = { 0 };
                        struct mls_bytes enc;
                        size_t off;

                        make_framed_content(&fc, st, ct);
                        enc_rt_framed_content(&fc, &d, &enc);
                        assert_int_equal(d.content_type, ct);
                        assert_int_equal(d.sender.sender_type, st);
                        check_truncation_and_trailing(dec_framed_content, enc.data, enc.len);
                        /* R-6-5: ContentType 0 and 4..255 are rejected. */
                        off = fc_content_type_offset(&fc);
                        assert_int_equal(enc.data[off], ct);
                        for (unsigned v = 0; v < 256; v++) {
                                if (v >= 1 && v <= 3)
                                        continue;
                                enc.data[off] = (uint8_t)v;
                                assert_int_equal(dec_framed_content(enc.data, enc.len),
                                                 MLS_E_BAD_ENUM);
                        }
                        mls_bytes_clear(&enc);
                        mls_framed_content_clear(&fc);
                        mls_framed_content_clear(&d);
                }
        }
}

/* R-6.1-11: confirmation_tag exactly for commits. */
static void
test_auth_data_confirmation_tag_only_for_commit(void **state)
{
        (void)state;
        for (uint8_t ct = 1; ct <= 3; ct++) {
                struct mls_framed_content_auth_data a = { 0 }, d = { 0 };
                struct mls_bytes enc = { 0 };
                struct mls_writer w;
                struct mls_reader r;

                make_auth(&a, ct);
                if (ct != MLS_CONTENT_COMMIT) /* present but ignored: not written */
                        bytes_fill(&a.confirmation_tag, 0xa5, 32);
                mls_writer_init(&w);
                assert_int_equal(mls_framed_content_auth_data_encode(&w, ct, &a), 0);
                assert_int_equal(mls_writer_finish(&w, &enc), 0);
                assert_int_equal(enc.len, ct == MLS_CONTENT_COMMIT ? 66 + 33 : 66);
                mls_reader_init(&r, enc.data, enc.len);
                assert_int_equal(mls_framed_content_auth_data_decode(&r, ct, &d), 0);
                assert_int_equal(mls_reader_done(&r), 0);
                assert_int_equal(d.confirmation_tag.len, ct == MLS_CONTENT_COMMIT ? 32 : 0);
                mls_reader_init(&r, enc.data, enc.len);
                assert_int_equal(mls_framed_content_auth_data_decode(&r, 0, &d), MLS_E_BAD_ENUM);
                mls_writer_init(&w);
                assert_int_equal(mls_framed_content_auth_data_encode(&w, 4, &a),
                                 MLS_E_INVALID_ARGUMENT);
                mls_writer_clear(&w);
                mls_bytes_clear(&enc);
                mls_framed_content_auth_data_clear(&a);
                mls_framed_content_auth_data_clear(&d);
        }
}

/* AuthenticatedContent carries a public or private wire format only (R-6-4
 * for unregistered values). */
static void
test_authenticated_content_roundtrip_and_wire_format(void **state)
{
        (void)state;
        for (uint8_t ct = 1; ct <= 3; ct++) {
                struct mls_authenticated_content ac = { 0 }, d = { 0 };
                struct mls_bytes enc;

                ac.wire_format = ct == MLS_CONTENT_APPLICATION ? MLS_WIRE_PRIVATE_MESSAGE
                                                               : MLS_WIRE_PUBLIC_MESSAGE;
                make_framed_content(&ac.content, MLS_SENDER_MEMBER, ct);
                make_auth(&ac.auth, ct);
                enc_rt_authenticated_content(&ac, &d, &enc);
                assert_int_equal(d.auth.signature.len, 64);
                check_truncation_and_trailing(dec_authenticated_content, enc.data, enc.len);
                for (unsigned wf = 0; wf < 8; wf++) {
                        enc.data[1] = (uint8_t)wf;
                        if (wf == 1 || wf == 2)
                                assert_int_equal(dec_authenticated_content(enc.data, enc.len), 0);
                        else if (wf >= 3 && wf <= 5)
                                assert_int_equal(dec_authenticated_content(enc.data, enc.len),
                                                 MLS_E_WRONG_WIRE_FORMAT);
                        else
                                assert_int_equal(dec_authenticated_content(enc.data, enc.len),
                                                 MLS_E_BAD_ENUM);
                }
                mls_bytes_clear(&enc);
                ac.wire_format = MLS_WIRE_WELCOME;
                assert_int_equal(mls_authenticated_content_to_bytes(&ac, &enc),
                                 MLS_E_WRONG_WIRE_FORMAT);
                mls_authenticated_content_clear(&ac);
                mls_authenticated_content_clear(&d);
        }
}

/* R-6.1-1: FramedContentTBS carries the GroupContext for member and
 * new_member_commit senders only; R-6.2-1: TBM = TBS || auth. */
static void
test_framed_content_tbs_and_tbm(void **state)
{
        struct mls_group_context gc = { 0 };
        struct mls_bytes gcb = { 0 };

        (void)state;
        make_group_context(&gc);
        assert_int_equal(mls_group_context_to_bytes(&gc, &gcb), 0);
        for (uint8_t st = 1; st <= 4; st++) {
                struct mls_authenticated_content ac = { 0 };
                struct mls_bytes fcb = { 0 }, tbs = { 0 }, tbm = { 0 }, auth = { 0 };
                struct mls_writer w;
                bool with_gc = st == MLS_SENDER_MEMBER || st == MLS_SENDER_NEW_MEMBER_COMMIT;
                uint8_t ct = st == MLS_SENDER_NEW_MEMBER_COMMIT ? MLS_CONTENT_COMMIT
                                                                : MLS_CONTENT_PROPOSAL;

                ac.wire_format = MLS_WIRE_PUBLIC_MESSAGE;
                make_framed_content(&ac.content, st, ct);
                make_auth(&ac.auth, ct);
                assert_int_equal(mls_framed_content_to_bytes(&ac.content, &fcb), 0);
                mls_writer_init(&w);
                assert_int_equal(mls_framed_content_tbs_encode(&w, MLS_WIRE_PUBLIC_MESSAGE,
                                                               &ac.content, &gcb),
                                 0);
                assert_int_equal(mls_writer_finish(&w, &tbs), 0);
                assert_int_equal(tbs.len, 4 + fcb.len + (with_gc ? gcb.len : 0));
                assert_memory_equal(tbs.data, "\x00\x01\x00\x01", 4);
                assert_memory_equal(tbs.data + 4, fcb.data, fcb.len);
                if (with_gc)
                        assert_memory_equal(tbs.data + 4 + fcb.len, gcb.data, gcb.len);
                /* the GroupContext is required where it is covered */
                mls_writer_init(&w);
                assert_int_equal(mls_framed_content_tbs_encode(&w, MLS_WIRE_PUBLIC_MESSAGE,
                                                               &ac.content, NULL),
                                 with_gc ? MLS_E_INVALID_ARGUMENT : 0);
                mls_writer_clear(&w);

                mls_writer_init(&w);
                assert_int_equal(mls_authenticated_content_tbm_encode(&w, &ac, &gcb), 0);
                assert_int_equal(mls_writer_finish(&w, &tbm), 0);
                mls_writer_init(&w);
                assert_int_equal(mls_framed_content_auth_data_encode(&w, ct, &ac.auth), 0);
                assert_int_equal(mls_writer_finish(&w, &auth), 0);
                assert_int_equal(tbm.len, tbs.len + auth.len);
                assert_memory_equal(tbm.data, tbs.data, tbs.len);
                assert_memory_equal(tbm.data + tbs.len, auth.data, auth.len);

                mls_bytes_clear(&fcb);
                mls_bytes_clear(&tbs);
                mls_bytes_clear(&tbm);
                mls_bytes_clear(&auth);
                mls_authenticated_content_clear(&ac);
        }
        mls_bytes_clear(&gcb);
        mls_group_context_clear(&gc);
}

/* R-6.2-2: membership_tag for member senders only. */
static void
test_public_message_membership_tag_only_for_members(void **state)
{
        (void)state;
        for (uint8_t st = 1; st <= 4; st++) {
                struct mls_public_message pm = { 0 }, d = { 0 };
                struct mls_bytes enc, without = { 0 };
                uint8_t ct = st == MLS_SENDER_NEW_MEMBER_COMMIT ? MLS_CONTENT_COMMIT
                                                                : MLS_CONTENT_PROPOSAL;

                make_framed_content(&pm.content, st, ct);
                make_auth(&pm.auth, ct);
                bytes_fill(&pm.membership_tag, 0x77, 32);
                enc_rt_public_message(&pm, &d, &enc);
                assert_int_equal(d.membership_tag.len, st == MLS_SENDER_MEMBER ? 32 : 0);
                check_truncation_and_trailing(dec_public_message, enc.data, enc.len);
                if (st == MLS_SENDER_MEMBER) {
                        /* a member message without its tag is truncated */
                        assert_int_equal(dec_public_message(enc.data, enc.len - 33),
                                         MLS_E_TRUNCATED);
                } else {
                        /* a non-member message with a tag has trailing bytes */
                        struct mls_writer w;

                        mls_writer_init(&w);
                        assert_int_equal(mls_writer_raw(&w, enc.data, enc.len), 0);
                        assert_int_equal(put_bytes(&w, &pm.membership_tag), 0);
                        assert_int_equal(mls_writer_finish(&w, &without), 0);
                        assert_int_equal(dec_public_message(without.data, without.len),
                                         MLS_E_TRAILING);
                        mls_bytes_clear(&without);
                }
                mls_bytes_clear(&enc);
                mls_public_message_clear(&pm);
                mls_public_message_clear(&d);
        }
}

static void
test_private_message_and_aads_roundtrip(void **state)
{
        struct mls_private_message pm = { 0 }, d = { 0 };
        struct mls_private_content_aad ca = { 0 }, ca2 = { 0 };
        struct mls_sender_data_aad sa = { 0 }, sa2 = { 0 };
        struct mls_sender_data sd = { 1, 2, { 3, 4, 5, 6 } }, sd2 = { 0 };
        struct mls_bytes enc;

        (void)state;
        bytes_set(&pm.group_id, "g");
        pm.epoch = 9;
        pm.content_type = MLS_CONTENT_APPLICATION;
        bytes_set(&pm.authenticated_data, "ad");
        bytes_fill(&pm.encrypted_sender_data, 0xe1, 28);
        bytes_fill(&pm.ciphertext, 0xe2, 100);
        enc_rt_private_message(&pm, &d, &enc);
        check_truncation_and_trailing(dec_private_message, enc.data, enc.len);
        /* R-6-5: content_type byte sits after V(group_id) and the epoch. */
        assert_int_equal(enc.data[10], MLS_CONTENT_APPLICATION);
        enc.data[10] = 0;
        assert_int_equal(dec_private_message(enc.data, enc.len), MLS_E_BAD_ENUM);
        enc.data[10] = 4;
        assert_int_equal(dec_private_message(enc.data, enc.len), MLS_E_BAD_ENUM);
        mls_bytes_clear(&enc);

        /* R-6.3.1-8 */
        bytes_set(&ca.group_id, "g");
        ca.epoch = 9;
        ca.content_type = MLS_CONTENT_COMMIT;
        bytes_set(&ca.authenticated_data, "ad");
        enc_rt_private_content_aad(&ca, &ca2, &enc);
        assert_int_equal(enc.len, 2 + 8 + 1 + 3);
        check_truncation_and_trailing(dec_private_content_aad, enc.data, enc.len);
        mls_bytes_clear(&enc);
        /* R-6.3.2-4 */
        bytes_set(&sa.group_id, "g");
        sa.epoch = 9;
        sa.content_type = MLS_CONTENT_PROPOSAL;
        enc_rt_sender_data_aad(&sa, &sa2, &enc);
        assert_int_equal(enc.len, 2 + 8 + 1);
        enc.data[10] = 0;
        assert_int_equal(dec_sender_data_aad(enc.data, enc.len), MLS_E_BAD_ENUM);
        mls_bytes_clear(&enc);
        /* R-6.3.2-1 */
        enc_rt_sender_data(&sd, &sd2, &enc);
        assert_int_equal(enc.len, 12);
        assert_memory_equal(&sd, &sd2, sizeof(sd));
        check_truncation_and_trailing(dec_sender_data, enc.data, enc.len);
        mls_bytes_clear(&enc);

        mls_private_message_clear(&pm);
        mls_private_message_clear(&d);
        mls_private_content_aad_clear(&ca);
        mls_private_content_aad_clear(&ca2);
        mls_sender_data_aad_clear(&sa);
        mls_sender_data_aad_clear(&sa2);
}

/* R-6.3.1-1: content, auth, then padding; R-6.3.1-2: zero padding;
 * R-6.3.1-3: a non-zero padding byte anywhere is malformed. */
static void
test_private_message_content_padding(void **state)
{
        (void)state;
        for (uint8_t ct = 1; ct <= 3; ct++) {
                struct mls_private_message_content c = { 0 };
                struct mls_bytes enc = { 0 };
                struct mls_writer w;
                size_t body;

                c.content_type = ct;
                if (ct == MLS_CONTENT_APPLICATION)
                        bytes_set(&c.application_data, "secret text");
                else if (ct == MLS_CONTENT_PROPOSAL)
                        make_proposal(&c.proposal, MLS_PROPOSAL_ADD);
                else
                        make_commit(&c.commit, true);
                make_auth(&c.auth, ct);
                c.padding_len = 100;
                mls_writer_init_secure(&w);
                assert_int_equal(mls_private_message_content_encode(&w, &c), 0);
                {
                        struct mls_secret *s = NULL;

                        assert_int_equal(mls_writer_finish_secret(&w, &s), 0);
                        assert_int_equal(mls_bytes_copy(&enc, s->data, s->len), 0);
                        mls_secret_free(s);
                }
                body = enc.len - 100;
                for (size_t i = body; i < enc.len; i++)
                        assert_int_equal(enc.data[i], 0);
                /* every padding length decodes and re-encodes */
                for (size_t pad = 0; pad <= 100; pad += 25) {
                        struct mls_private_message_content d = { 0 };
                        struct mls_bytes re = { 0 };
                        struct mls_reader r;
                        uint8_t *g = tu_guarded_copy(enc.data, body + pad);

                        assert_non_null(g);
                        mls_reader_init(&r, g, body + pad);
                        assert_int_equal(mls_private_message_content_decode(&r, ct, &d), 0);
                        assert_true(mls_reader_empty(&r));
                        assert_int_equal(d.padding_len, pad);
                        mls_writer_init(&w);
                        assert_int_equal(mls_private_message_content_encode(&w, &d), 0);
                        assert_int_equal(mls_writer_finish(&w, &re), 0);
                        assert_int_equal(re.len, body + pad);
                        assert_memory_equal(re.data, enc.data, re.len);
                        mls_bytes_clear(&re);
                        mls_private_message_content_clear(&d);
                        tu_guarded_free(g);
                }
                /* R-6.3.1-3: one non-zero byte at any padding position */
                for (size_t i = body; i < enc.len; i++) {
                        struct mls_private_message_content d = { 0 };
                        struct mls_reader r;

                        enc.data[i] = (uint8_t)(1u << (i % 8));
                        mls_reader_init(&r, enc.data, enc.len);
                        assert_int_equal(mls_private_message_content_decode(&r, ct, &d),
                                         MLS_E_BAD_PADDING);
                        assert_int_equal(d.padding_len, 0);
                        enc.data[i] = 0;
                }
                /* a truncated body (inside content or auth) is truncated */
                for (size_t k = 0; k < body; k++) {
                        struct mls_private_message_content d = { 0 };
                        struct mls_reader r;
                        uint8_t *g = tu_guarded_copy(enc.data, k);

                        assert_non_null(g);
                        mls_reader_init(&r, g, k);
                        assert_true(mls_private_message_content_decode(&r, ct, &d) < 0);
                        tu_guarded_free(g);
                }
                mls_bytes_clear(&enc);
                mls_private_message_content_clear(&c);
        }
}

static void
test_group_info_roundtrip_and_tbs(void **state)
{
        struct mls_group_info gi = { 0 }, d = { 0 };
        struct mls_bytes enc, tbs = { 0 };
        struct mls_writer w;

        (void)state;
        make_group_info(&gi);
        enc_rt_group_info(&gi, &d, &enc);
        assert_true(d.signer == 0x01020304);
        /* R-13.4-4, R-12.4.3-2: unknown GroupInfo extensions are kept
         * (the layers above ignore them), not rejected. */
        assert_int_equal(d.extensions.n, 2);
        assert_non_null(mls_extension_list_find(&d.extensions, 0x3a3a));
        check_truncation_and_trailing(dec_group_info, enc.data, enc.len);
        /* R-12.4.3-7: GroupInfoTBS is every field before the signature. */
        mls_writer_init(&w);
        assert_int_equal(mls_group_info_tbs_encode(&w, &gi), 0);
        assert_int_equal(mls_writer_finish(&w, &tbs), 0);
        assert_int_equal(tbs.len, enc.len - mls_varint_size(gi.signature.len) - gi.signature.len);
        assert_memory_equal(tbs.data, enc.data, tbs.len);
        mls_bytes_clear(&tbs);
        mls_bytes_clear(&enc);
        mls_group_info_clear(&gi);
        mls_group_info_clear(&d);
}

static void
test_group_secrets_roundtrip(void **state)
{
        (void)state;
        for (int variant = 0; variant < 3; variant++) {
                struct mls_group_secrets gs = { 0 }, d = { 0 };
                struct mls_secret *enc = NULL;
                struct mls_bytes b = { 0 };
                size_t opt;

                assert_int_equal(mls_secret_new(32, &gs.joiner_secret), 0);
                memset(gs.joiner_secret->data, 0x61, 32);
                if (variant > 0) {
                        assert_int_equal(mls_secret_new(32, &gs.path_secret), 0);
                        memset(gs.path_secret->data, 0x62, 32);
                }
                if (variant == 2) {
                        gs.n_psks = 2;
                        gs.psks = calloc(2, sizeof(*gs.psks));
                        assert_non_null(gs.psks);
                        make_psk_id(&gs.psks[0], true);
                        make_psk_id(&gs.psks[1], false);
                }
                assert_int_equal(mls_group_secrets_to_secret(&gs, &enc), 0);
                assert_int_equal(mls_bytes_copy(&b, enc->data, enc->len), 0);
                mls_secret_free(enc);
                assert_int_equal(mls_group_secrets_from_bytes(b.data, b.len, &d), 0);
                assert_true(mls_secret_eq(gs.joiner_secret, d.joiner_secret));
                assert_int_equal(d.path_secret != NULL, variant > 0);
                if (variant > 0)
                        assert_true(mls_secret_eq(gs.path_secret, d.path_secret));
                assert_int_equal(d.n_psks, variant == 2 ? 2 : 0);
                if (variant == 2) {
                        assert_true(mls_psk_id_eq(&gs.psks[0], &d.psks[0]));
                        assert_true(mls_psk_id_eq(&gs.psks[1], &d.psks[1]));
                }
                check_truncation_and_trailing(dec_group_secrets, b.data, b.len);
                /* R-2.1.1-1: the path_secret presence octet */
                opt = 1 + 32;
                assert_int_equal(b.data[opt], variant > 0);
                b.data[opt] = 2;
                assert_int_equal(dec_group_secrets(b.data, b.len), MLS_E_BAD_OPTIONAL);
                mls_bytes_clear(&b);
                mls_group_secrets_clear(&gs);
                mls_group_secrets_clear(&d);
                mls_group_secrets_clear(NULL);
        }
}

static void
test_welcome_roundtrip(void **state)
{
        struct mls_welcome w = { 0 }, d = { 0 };
        struct mls_encrypted_group_secrets e = { 0 };
        struct mls_bytes enc;

        (void)state;
        make_welcome(&w);
        enc_rt_welcome(&w, &d, &enc);
        assert_int_equal(d.n_secrets, 2);
        assert_int_equal(d.cipher_suite, 2);
        check_truncation_and_trailing(dec_welcome, enc.data, enc.len);
        mls_bytes_clear(&enc);
        enc_rt_encrypted_group_secrets(&w.secrets[1], &e, &enc);
        check_truncation_and_trailing(dec_encrypted_group_secrets, enc.data, enc.len);
        mls_bytes_clear(&enc);
        mls_encrypted_group_secrets_clear(&e);
        mls_welcome_clear(&w);
        mls_welcome_clear(&d);
}

/* MLSMessage of every wire format; R-6-4 version and wire format; R-10-7. */
static void
test_message_roundtrip_each_wire_format(void **state)
{
        (void)state;
        for (uint16_t wf = 1; wf <= 5; wf++) {
                struct mls_message m = { 0 }, d = { 0 };
                struct mls_bytes enc;

                m.version = MLS_VERSION_MLS10;
                m.wire_format = wf;
                switch (wf) {
                case MLS_WIRE_PUBLIC_MESSAGE:
                        make_framed_content(&m.public_message.content, MLS_SENDER_MEMBER,
                                            MLS_CONTENT_COMMIT);
                        make_auth(&m.public_message.auth, MLS_CONTENT_COMMIT);
                        bytes_fill(&m.public_message.membership_tag, 1, 32);
                        break;
                case MLS_WIRE_PRIVATE_MESSAGE:
                        bytes_set(&m.private_message.group_id, "g");
                        m.private_message.content_type = MLS_CONTENT_PROPOSAL;
                        bytes_fill(&m.private_message.ciphertext, 2, 40);
                        break;
                case MLS_WIRE_WELCOME:
                        make_welcome(&m.welcome);
                        break;
                case MLS_WIRE_GROUP_INFO:
                        make_group_info(&m.group_info);
                        break;
                default:
                        make_key_package(&m.key_package);
                        break;
                }
                enc_rt_message(&m, &d, &enc);
                assert_int_equal(d.wire_format, wf);
                check_truncation_and_trailing(dec_message, enc.data, enc.len);
                /* R-6-4: unknown wire formats */
                for (unsigned v = 0; v < 0x300; v += 1) {
                        if (v >= 1 && v <= 5)
                                continue;
                        enc.data[2] = (uint8_t)(v >> 8);
                        enc.data[3] = (uint8_t)v;
                        assert_int_equal(dec_message(enc.data, enc.len), MLS_E_BAD_ENUM);
                }
                enc.data[2] = 0;
                enc.data[3] = (uint8_t)wf;
                /* R-6-4: version other than mls10 */
                enc.data[1] = 2;
                assert_int_equal(dec_message(enc.data, enc.len), MLS_E_WRONG_VERSION);
                enc.data[1] = 0;
                assert_int_equal(dec_message(enc.data, enc.len), MLS_E_WRONG_VERSION);
                enc.data[0] = 1;
                enc.data[1] = 1;
                assert_int_equal(dec_message(enc.data, enc.len), MLS_E_WRONG_VERSION);
                enc.data[0] = 0;
                assert_int_equal(dec_message(enc.data, enc.len), 0);
                if (wf == MLS_WIRE_KEY_PACKAGE) {
                        /* R-10-7: the KeyPackage's version equals the MLSMessage's */
                        enc.data[5] = 2;
                        assert_int_equal(dec_message(enc.data, enc.len), MLS_E_WRONG_VERSION);
                        {
                                /* bare, the KeyPackage's version is an open value */
                                struct mls_key_package kp = { 0 };

                                assert_int_equal(mls_key_package_from_bytes(enc.data + 4,
                                                                            enc.len - 4, &kp),
                                                 0);
                                assert_int_equal(kp.version, 2);
                                mls_key_package_clear(&kp);
                        }
                        m.key_package.version = 2;
                        mls_bytes_clear(&enc);
                        assert_int_equal(mls_message_to_bytes(&m, &enc), MLS_E_WRONG_VERSION);
                        m.key_package.version = 1;
                }
                mls_bytes_clear(&enc);
                m.version = 2;
                assert_int_equal(mls_message_to_bytes(&m, &enc), MLS_E_WRONG_VERSION);
                m.version = 1;
                mls_message_clear(&m);
                mls_message_clear(&d);
        }
}

/* R-6.1-4, R-6.1-6, R-6.1-8, R-12.1.8-4: sender/content combinations. */
static void
test_framed_content_check_sender(void **state)
{
        (void)state;
        for (uint8_t st = 1; st <= 4; st++) {
                for (uint8_t ct = 1; ct <= 3; ct++) {
                        for (uint16_t pt = 1; pt <= (ct == MLS_CONTENT_PROPOSAL ? 7 : 1); pt++) {
                                struct mls_framed_content fc = { 0 };
                                int want = 0;

                                make_framed_content(&fc, st, ct);
                                if (ct == MLS_CONTENT_PROPOSAL) {
                                        mls_proposal_clear(&fc.proposal);
                                        make_proposal(&fc.proposal, pt);
                                }
                                switch (st) {
                                case MLS_SENDER_MEMBER:
                                        want = 0;
                                        break;
                                case MLS_SENDER_EXTERNAL:
                                        want = (ct == MLS_CONTENT_PROPOSAL &&
                                                pt != MLS_PROPOSAL_UPDATE &&
                                                pt != MLS_PROPOSAL_EXTERNAL_INIT)
                                                       ? 0
                                                       : MLS_E_INVALID_SENDER;
                                        break;
                                case MLS_SENDER_NEW_MEMBER_COMMIT:
                                        want = ct == MLS_CONTENT_COMMIT ? 0 : MLS_E_INVALID_SENDER;
                                        break;
                                default:
                                        want = (ct == MLS_CONTENT_PROPOSAL &&
                                                pt == MLS_PROPOSAL_ADD)
                                                       ? 0
                                                       : MLS_E_INVALID_SENDER;
                                        break;
                                }
                                assert_int_equal(mls_framed_content_check_sender(&fc), want);
                                mls_framed_content_clear(&fc);
                        }
                }
        }
}

/* Decoders write ret only on success: a failing decode leaves a
 * pre-filled structure exactly as it was. */
static void
test_decode_failure_leaves_ret_untouched(void **state)
{
        struct mls_key_package kp = { 0 }, before;
        struct mls_bytes enc = { 0 };
        struct mls_reader r;

        (void)state;
        make_key_package(&kp);
        assert_int_equal(mls_key_package_to_bytes(&kp, &enc), 0);
        before = kp;
        for (size_t k = 0; k < enc.len; k += 7) {
                mls_reader_init(&r, enc.data, k);
                assert_int_equal(mls_key_package_decode(&r, &kp), MLS_E_TRUNCATED);
                assert_memory_equal(&kp, &before, sizeof(kp));
                assert_int_equal(mls_key_package_from_bytes(enc.data, k, &kp), MLS_E_TRUNCATED);
                assert_memory_equal(&kp, &before, sizeof(kp));
        }
        mls_bytes_clear(&enc);
        mls_key_package_clear(&kp);
        mls_key_package_clear(&kp); /* twice is harmless */
}

/* ------------------------------------------------------------------ */
/* messages.json */

static json_object *
load_vectors(const char *file)
{
        char path[4096];
        struct mls_bytes f;
        json_object *root;

        snprintf(path, sizeof(path), "%s/tests/vectors/%s", TEST_SRCDIR, file);
        assert_true(tu_read_file(path, &f));
        root = json_tokener_parse((const char *)f.data);
        mls_bytes_clear(&f);
        assert_non_null(root);
        return root;
}

static void
field_hex(json_object *c, const char *key, struct mls_bytes *ret)
{
        json_object *v;

        assert_true(json_object_object_get_ex(c, key, &v));
        assert_true(tu_hex_decode(json_object_get_string(v), ret));
}

static const struct {
        const char *field;
        dec_fn dec;
} vfields[] = {
        { "mls_welcome", dec_message },
        { "mls_group_info", dec_message },
        { "mls_key_package", dec_message },
        { "ratchet_tree", dec_ratchet_tree },
        { "group_secrets", dec_group_secrets },
        { "add_proposal", dec_add },
        { "update_proposal", dec_update },
        { "remove_proposal", dec_remove },
        { "pre_shared_key_proposal", dec_pre_shared_key },
        { "re_init_proposal", dec_reinit },
        { "external_init_proposal", dec_external_init },
        { "group_context_extensions_proposal", dec_group_context_extensions },
        { "commit", dec_commit },
        { "public_message_application", dec_message },
        { "public_message_proposal", dec_message },
        { "public_message_commit", dec_message },
        { "private_message", dec_message },
};

/* Truncation at every offset and one trailing byte, for every field of one
 * case per suite in messages.json (0: suite 1, 100: suite 3, 200: suite 2). */
static void
test_vectors_truncation_every_offset(void **state)
{
        static const size_t cases[] = { 0, 100, 200, 299 };
        json_object *root = load_vectors("messages.json");

        (void)state;
        for (size_t ci = 0; ci < MLS_ARRAY_SIZE(cases); ci++) {
                json_object *c = json_object_array_get_idx(root, cases[ci]);

                for (size_t i = 0; i < MLS_ARRAY_SIZE(vfields); i++) {
                        struct mls_bytes b;

                        field_hex(c, vfields[i].field, &b);
                        check_truncation_and_trailing(vfields[i].dec, b.data, b.len);
                        mls_bytes_clear(&b);
                }
        }
        json_object_put(root);
}

/* Real messages from the vectors, with one field broken each. */
static void
test_vectors_mutations(void **state)
{
        json_object *root = load_vectors("messages.json");
        json_object *c = json_object_array_get_idx(root, 0);
        struct mls_message m = { 0 };
        struct mls_bytes b;
        size_t off;

        (void)state;
        /* PublicMessage: R-6-5 sender type and content type */
        field_hex(c, "public_message_proposal", &b);
        rt_message(b.data, b.len, &m);
        assert_int_equal(m.wire_format, MLS_WIRE_PUBLIC_MESSAGE);
        off = 4 + mls_varint_size(m.public_message.content.group_id.len) +
              m.public_message.content.group_id.len + 8;
        assert_int_equal(b.data[off], m.public_message.content.sender.sender_type);
        b.data[off] = 0;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        b.data[off] = 5;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        b.data[off] = m.public_message.content.sender.sender_type;
        off = 4 + fc_content_type_offset(&m.public_message.content);
        assert_int_equal(b.data[off], MLS_CONTENT_PROPOSAL);
        b.data[off] = 0;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        b.data[off] = 4;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        /* the proposal type right after the content type */
        b.data[off] = MLS_CONTENT_PROPOSAL;
        b.data[off + 1] = 0x00;
        b.data[off + 2] = 0x08;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        mls_message_clear(&m);
        mls_bytes_clear(&b);

        /* KeyPackage: R-10-7 and credential type and leaf source */
        field_hex(c, "mls_key_package", &b);
        rt_message(b.data, b.len, &m);
        b.data[5] = 2;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_WRONG_VERSION);
        b.data[5] = 1;
        off = 4 + 4 + mls_varint_size(m.key_package.init_key.len) + m.key_package.init_key.len;
        off += leaf_source_offset(&m.key_package.leaf_node);
        assert_int_equal(b.data[off], MLS_LEAF_SOURCE_KEY_PACKAGE);
        b.data[off] = 0;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        b.data[off] = 1;
        off = 4 + 4 + mls_varint_size(m.key_package.init_key.len) + m.key_package.init_key.len +
              mls_varint_size(m.key_package.leaf_node.encryption_key.len) +
              m.key_package.leaf_node.encryption_key.len +
              mls_varint_size(m.key_package.leaf_node.signature_key.len) +
              m.key_package.leaf_node.signature_key.len;
        assert_int_equal(b.data[off + 1], MLS_CREDENTIAL_BASIC);
        b.data[off + 1] = 3;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        b.data[off] = 0xff;
        assert_int_equal(dec_message(b.data, b.len), MLS_E_BAD_ENUM);
        mls_message_clear(&m);
        mls_bytes_clear(&b);

        /* GroupInfo: R-13.4-5, renaming external_pub(4) to ratchet_tree(2) */
        field_hex(c, "mls_group_info", &b);
        rt_message(b.data, b.len, &m);
        {
                const struct mls_extension_list *l = &m.group_info.extensions;
                struct mls_bytes gcb = { 0 }, lb = { 0 };
                size_t pos;

                assert_int_equal(l->n, 2);
                assert_int_equal(l->v[0].extension_type, MLS_EXT_RATCHET_TREE);
                assert_int_equal(mls_group_context_to_bytes(&m.group_info.group_context, &gcb),
                                 0);
                assert_int_equal(mls_extension_list_to_bytes(l, &lb), 0);
                /* MLSMessage header, GroupContext, list header (the list's
                 * encoding minus its body), then the first extension */
                pos = 4 + gcb.len + lb.len;
                for (size_t i = 0; i < l->n; i++)
                        pos -= 2 + mls_varint_size(l->v[i].extension_data.len) +
                               l->v[i].extension_data.len;
                mls_bytes_clear(&gcb);
                mls_bytes_clear(&lb);
                pos += 2 + mls_varint_size(l->v[0].extension_data.len) +
                       l->v[0].extension_data.len;
                assert_int_equal(b.data[pos + 1], MLS_EXT_EXTERNAL_PUB);
                b.data[pos + 1] = MLS_EXT_RATCHET_TREE;
                assert_int_equal(dec_message(b.data, b.len), MLS_E_DUPLICATE_EXTENSION);
        }
        mls_message_clear(&m);
        mls_bytes_clear(&b);

        /* Commit: a bad path presence octet (R-2.1.1-1) */
        field_hex(c, "commit", &b);
        {
                struct mls_commit cm = { 0 };
                struct mls_bytes pe = { 0 };

                rt_commit(b.data, b.len, &cm);
                assert_true(cm.has_path);
                assert_int_equal(mls_update_path_to_bytes(&cm.path, &pe), 0);
                off = b.len - pe.len - 1;
                assert_int_equal(b.data[off], 1);
                b.data[off] = 2;
                assert_int_equal(dec_commit(b.data, b.len), MLS_E_BAD_OPTIONAL);
                mls_bytes_clear(&pe);
                mls_commit_clear(&cm);
        }
        mls_bytes_clear(&b);
        json_object_put(root);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_credential_roundtrip),
                cmocka_unit_test(test_small_structs_truncation),
                cmocka_unit_test(test_capabilities_roundtrip_keeps_unknown),
                cmocka_unit_test(test_extension_list_rejects_duplicate),
                cmocka_unit_test(test_extension_duplicate_in_every_holder),
                cmocka_unit_test(test_typed_extensions_roundtrip),
                cmocka_unit_test(test_leaf_node_roundtrip_each_source),
                cmocka_unit_test(test_leaf_node_rejects_unknown_source),
                cmocka_unit_test(test_credential_rejects_unknown_type),
                cmocka_unit_test(test_leaf_node_tbs_layout),
                cmocka_unit_test(test_parent_node_unmerged_leaves_sorted),
                cmocka_unit_test(test_ratchet_tree_layout),
                cmocka_unit_test(test_key_package_roundtrip_and_tbs),
                cmocka_unit_test(test_proposal_roundtrip_each_type),
                cmocka_unit_test(test_proposal_rejects_unknown_type),
                cmocka_unit_test(test_commit_roundtrip),
                cmocka_unit_test(test_proposal_or_ref_rejects_unknown_type),
                cmocka_unit_test(test_nested_vector_exceeding_parent),
                cmocka_unit_test(test_huge_vector_length_rejected),
                cmocka_unit_test(test_group_context_roundtrip_and_version),
                cmocka_unit_test(test_sender_roundtrip_and_unknown_type),
                cmocka_unit_test(test_framed_content_roundtrip_each_type),
                cmocka_unit_test(test_auth_data_confirmation_tag_only_for_commit),
                cmocka_unit_test(test_authenticated_content_roundtrip_and_wire_format),
                cmocka_unit_test(test_framed_content_tbs_and_tbm),
                cmocka_unit_test(test_public_message_membership_tag_only_for_members),
                cmocka_unit_test(test_private_message_and_aads_roundtrip),
                cmocka_unit_test(test_private_message_content_padding),
                cmocka_unit_test(test_group_info_roundtrip_and_tbs),
                cmocka_unit_test(test_group_secrets_roundtrip),
                cmocka_unit_test(test_welcome_roundtrip),
                cmocka_unit_test(test_message_roundtrip_each_wire_format),
                cmocka_unit_test(test_framed_content_check_sender),
                cmocka_unit_test(test_decode_failure_leaves_ret_untouched),
                cmocka_unit_test(test_vectors_truncation_every_offset),
                cmocka_unit_test(test_vectors_mutations),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
