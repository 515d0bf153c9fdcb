/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the structures a joiner decodes (mls/messages.h): the
 * input is read as an MLSMessage (a Welcome, or a GroupInfo as published
 * for external joins), and independently as a bare Welcome, a bare
 * GroupInfo (the decrypted encrypted_group_info), a bare GroupSecrets (the
 * decrypted encrypted_group_secrets) and a bare ratchet_tree (supplied out
 * of band). For a GroupInfo, every typed extension body present is parsed
 * as well.
 *
 * Properties: no read outside the input, no leak, only decoding errors;
 * whatever decodes re-encodes to exactly the bytes it came from.
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/messages.h"

static bool
decode_error_ok(int e)
{
        switch (e) {
        case MLS_E_TRUNCATED:
        case MLS_E_TRAILING:
        case MLS_E_NONMINIMAL:
        case MLS_E_BAD_VARINT:
        case MLS_E_BAD_OPTIONAL:
        case MLS_E_BAD_ENUM:
        case MLS_E_DUPLICATE_EXTENSION:
        case MLS_E_WRONG_VERSION:
        case MLS_E_INVALID_TREE:
                return true;
        default:
                return false;
        }
}

static void
check_same(const struct mls_bytes *out, const uint8_t *data, size_t size)
{
        FUZZ_ASSERT(out->len == size);
        FUZZ_ASSERT(size == 0 || memcmp(out->data, data, size) == 0);
}

/* Parses and re-encodes one typed extension body. */
#define EXT_BODY(name, getter)                                                             \
        do {                                                                               \
                struct mls_##name t_ = { 0 };                                              \
                struct mls_bytes o_ = { 0 };                                               \
                int e_ = getter(ext, &t_);                                                 \
                                                                                           \
                if (e_ == 0) {                                                             \
                        FUZZ_ASSERT(mls_##name##_to_bytes(&t_, &o_) == 0);                 \
                        check_same(&o_, ext->extension_data.data, ext->extension_data.len); \
                        mls_bytes_clear(&o_);                                              \
                } else {                                                                   \
                        FUZZ_ASSERT(decode_error_ok(e_));                                  \
                }                                                                          \
                mls_##name##_clear(&t_);                                                   \
        } while (0)

static void
check_extensions(const struct mls_extension_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                const struct mls_extension *ext = &l->v[i];

                switch (ext->extension_type) {
                case MLS_EXT_APPLICATION_ID:
                        EXT_BODY(application_id, mls_extension_get_application_id);
                        break;
                case MLS_EXT_RATCHET_TREE:
                        EXT_BODY(ratchet_tree, mls_extension_get_ratchet_tree);
                        break;
                case MLS_EXT_REQUIRED_CAPABILITIES:
                        EXT_BODY(required_capabilities, mls_extension_get_required_capabilities);
                        break;
                case MLS_EXT_EXTERNAL_PUB:
                        EXT_BODY(external_pub, mls_extension_get_external_pub);
                        break;
                case MLS_EXT_EXTERNAL_SENDERS:
                        EXT_BODY(external_senders, mls_extension_get_external_senders);
                        break;
                default:
                        break;
                }
        }
}

static void
check_group_info(const struct mls_group_info *gi, const uint8_t *data, size_t size)
{
        struct mls_writer w;
        size_t sig = mls_varint_size(gi->signature.len) + gi->signature.len;

        mls_writer_init(&w);
        FUZZ_ASSERT(mls_group_info_tbs_encode(&w, gi) == 0);
        FUZZ_ASSERT(w.len + sig == size && memcmp(w.buf, data, w.len) == 0);
        mls_writer_clear(&w);
        check_extensions(&gi->extensions);
        check_extensions(&gi->group_context.extensions);
}

/* Decode a whole buffer as X; if it decodes, it must re-encode identically. */
#define BARE(name, extra)                                                                  \
        do {                                                                               \
                struct mls_##name x_ = { 0 };                                              \
                struct mls_bytes o_ = { 0 };                                               \
                int e_ = mls_##name##_from_bytes(data, size, &x_);                         \
                                                                                           \
                if (e_ == 0) {                                                             \
                        FUZZ_ASSERT(mls_##name##_to_bytes(&x_, &o_) == 0);                 \
                        check_same(&o_, data, size);                                       \
                        mls_bytes_clear(&o_);                                              \
                        extra;                                                             \
                } else {                                                                   \
                        FUZZ_ASSERT(decode_error_ok(e_));                                  \
                }                                                                          \
                mls_##name##_clear(&x_);                                                   \
        } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mls_message m = { 0 };
        struct mls_group_secrets gs = { 0 };
        struct mls_bytes out = { 0 };
        int e;

        if (sodium_init() < 0)
                abort();

        e = mls_message_from_bytes(data, size, &m);
        if (e == 0) {
                FUZZ_ASSERT(mls_message_to_bytes(&m, &out) == 0);
                check_same(&out, data, size);
                mls_bytes_clear(&out);
                if (m.wire_format == MLS_WIRE_GROUP_INFO)
                        check_group_info(&m.group_info, data + 4, size - 4);
        } else {
                FUZZ_ASSERT(decode_error_ok(e));
        }
        mls_message_clear(&m);

        BARE(welcome, (void)0);
        BARE(group_info, check_group_info(&x_, data, size));
        BARE(ratchet_tree, (void)0);

        e = mls_group_secrets_from_bytes(data, size, &gs);
        if (e == 0) {
                struct mls_secret *s = NULL;

                FUZZ_ASSERT(mls_group_secrets_to_secret(&gs, &s) == 0);
                FUZZ_ASSERT(s->len == size && (size == 0 || memcmp(s->data, data, size) == 0));
                mls_secret_free(s);
        } else {
                FUZZ_ASSERT(decode_error_ok(e));
        }
        mls_group_secrets_clear(&gs);
        return 0;
}
