/* SPDX-License-Identifier: Apache-2.0 */
/*
 * messages.json: every RFC 9420 wire structure decodes and re-encodes
 * bit-exactly (sections 2.1, 6, 7.1-7.2, 10, 12.1, 12.4, 12.4.3,
 * 12.4.3.3). R-2.1.2-1 (minimal lengths on re-encoding), R-6.2-2
 * (membership_tag only for members), R-7.2-7 (source-dependent LeafNode
 * fields), R-12.4.3.3-1 (ratchet_tree layout).
 *
 * Each field is decoded from an exact-size guarded copy (an overread
 * faults), must be consumed completely, and must re-encode to the same
 * bytes. The MLSMessage-wrapped fields must carry the expected wire format
 * (and content type for the PublicMessage fields); the GroupInfo's
 * ratchet_tree and external_pub extension bodies are decoded and
 * re-encoded too.
 */
#include <string.h>

#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"
#include "mls/messages.h"

/* Decodes a whole buffer as X and re-encodes it. */
#define ROUNDTRIP(name)                                                                    \
        static int rt_##name(const uint8_t *p, size_t n, struct mls_bytes *out)            \
        {                                                                                  \
                _mls_cleanup_(mls_##name##_clear) struct mls_##name x = { 0 };             \
                                                                                           \
                MLS_TRY(mls_##name##_from_bytes(p, n, &x));                                \
                return mls_##name##_to_bytes(&x, out);                                     \
        }

ROUNDTRIP(ratchet_tree)
ROUNDTRIP(add)
ROUNDTRIP(update)
ROUNDTRIP(remove)
ROUNDTRIP(pre_shared_key)
ROUNDTRIP(reinit)
ROUNDTRIP(external_init)
ROUNDTRIP(group_context_extensions)
ROUNDTRIP(commit)

static int
rt_group_secrets(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        _mls_cleanup_(mls_group_secrets_clear) struct mls_group_secrets x = { 0 };
        _mls_secret_ struct mls_secret *enc = NULL;

        MLS_TRY(mls_group_secrets_from_bytes(p, n, &x));
        /* The file's GroupSecrets all carry a path_secret and one PSK. */
        if (!x.path_secret || x.n_psks != 1)
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_group_secrets_to_secret(&x, &enc));
        return mls_bytes_copy(out, enc->data, enc->len);
}

/* Re-encodes one typed extension body of a GroupInfo and checks it is the
 * same as the extension_data. */
static int
check_ext_body(const struct mls_extension_list *l, uint16_t type)
{
        const struct mls_extension *e = mls_extension_list_find(l, type);
        struct mls_bytes out = { 0 };
        bool same;

        if (!e)
                return MLS_E_NOT_FOUND;
        if (type == MLS_EXT_RATCHET_TREE) {
                _mls_cleanup_(mls_ratchet_tree_clear) struct mls_ratchet_tree t = { 0 };

                MLS_TRY(mls_extension_get_ratchet_tree(e, &t));
                MLS_TRY(mls_ratchet_tree_to_bytes(&t, &out));
        } else {
                _mls_cleanup_(mls_external_pub_clear) struct mls_external_pub t = { 0 };

                MLS_TRY(mls_extension_get_external_pub(e, &t));
                MLS_TRY(mls_external_pub_to_bytes(&t, &out));
        }
        same = mls_bytes_eq(&out, &e->extension_data);
        mls_bytes_clear(&out);
        return same ? 0 : MLS_E_INVALID_MESSAGE;
}

/* MLSMessage with an expected wire format (and, for PublicMessage, content
 * type; 0 = any). */
static int
rt_message(const uint8_t *p, size_t n, uint16_t wire_format, uint8_t content_type,
           struct mls_bytes *out)
{
        _mls_cleanup_(mls_message_clear) struct mls_message m = { 0 };

        MLS_TRY(mls_message_from_bytes(p, n, &m));
        if (m.wire_format != wire_format)
                return MLS_E_WRONG_WIRE_FORMAT;
        if (content_type && m.public_message.content.content_type != content_type)
                return MLS_E_INVALID_MESSAGE;
        if (wire_format == MLS_WIRE_GROUP_INFO) {
                MLS_TRY(check_ext_body(&m.group_info.extensions, MLS_EXT_RATCHET_TREE));
                MLS_TRY(check_ext_body(&m.group_info.extensions, MLS_EXT_EXTERNAL_PUB));
        }
        return mls_message_to_bytes(&m, out);
}

static int
rt_welcome(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        return rt_message(p, n, MLS_WIRE_WELCOME, 0, out);
}

static int
rt_group_info(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        return rt_message(p, n, MLS_WIRE_GROUP_INFO, 0, out);
}

static int
rt_key_package(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        return rt_message(p, n, MLS_WIRE_KEY_PACKAGE, 0, out);
}

static int
rt_pub_application(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        return rt_message(p, n, MLS_WIRE_PUBLIC_MESSAGE, MLS_CONTENT_APPLICATION, out);
}

static int
rt_pub_proposal(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        return rt_message(p, n, MLS_WIRE_PUBLIC_MESSAGE, MLS_CONTENT_PROPOSAL, out);
}

static int
rt_pub_commit(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        return rt_message(p, n, MLS_WIRE_PUBLIC_MESSAGE, MLS_CONTENT_COMMIT, out);
}

static int
rt_private(const uint8_t *p, size_t n, struct mls_bytes *out)
{
        return rt_message(p, n, MLS_WIRE_PRIVATE_MESSAGE, 0, out);
}

static const struct {
        const char *field;
        int (*rt)(const uint8_t *p, size_t n, struct mls_bytes *out);
} fields[] = {
        { "mls_welcome", rt_welcome },
        { "mls_group_info", rt_group_info },
        { "mls_key_package", rt_key_package },
        { "ratchet_tree", rt_ratchet_tree },
        { "group_secrets", rt_group_secrets },
        { "add_proposal", rt_add },
        { "update_proposal", rt_update },
        { "remove_proposal", rt_remove },
        { "pre_shared_key_proposal", rt_pre_shared_key },
        { "re_init_proposal", rt_reinit },
        { "external_init_proposal", rt_external_init },
        { "group_context_extensions_proposal", rt_group_context_extensions },
        { "commit", rt_commit },
        { "public_message_application", rt_pub_application },
        { "public_message_proposal", rt_pub_proposal },
        { "public_message_commit", rt_pub_commit },
        { "private_message", rt_private },
};

enum vec_result
vec_messages(struct vec_case *c)
{
        for (size_t i = 0; i < MLS_ARRAY_SIZE(fields); i++) {
                struct mls_bytes in = { 0 }, out = { 0 };
                uint8_t *g;
                bool same;
                int e;

                if (!vec_hex(c, c->obj, fields[i].field, &in))
                        return VEC_FAIL;
                g = tu_guarded_copy(in.data, in.len);
                if (!g) {
                        mls_bytes_clear(&in);
                        return vec_fail(c, "out of memory");
                }
                e = fields[i].rt(g, in.len, &out);
                same = e == 0 && mls_bytes_eq(&in, &out);
                tu_guarded_free(g);
                mls_bytes_clear(&in);
                mls_bytes_clear(&out);
                if (e < 0)
                        return vec_fail(c, "%s: %s", fields[i].field, mls_err_name(e));
                if (!same)
                        return vec_fail(c, "%s: re-encoding differs", fields[i].field);
        }
        return VEC_PASS;
}
