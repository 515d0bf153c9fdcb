/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for MLSMessage decoding (mls/messages.h), all wire formats.
 *
 * Properties:
 * - mls_message_from_bytes never reads outside the input (ASan), never
 *   leaks (LSan) and fails only with a decoding error code;
 * - what decodes re-encodes to exactly the input;
 * - for a PublicMessage, the TBS/TBM helpers and the sender check run on
 *   the decoded content, and AuthenticatedContent (wire_format ||
 *   content || auth) round-trips too;
 * - for a PrivateMessage, the ciphertext bytes are also parsed as a
 *   PrivateMessageContent of the message's content_type (the padding
 *   check, R-6.3.1-3) and, if they parse, re-encode identically.
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
        case MLS_E_BAD_PADDING:
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

static void
public_message_extras(const struct mls_message *m)
{
        const struct mls_public_message *pm = &m->public_message;
        struct mls_authenticated_content ac = { 0 };
        struct mls_bytes gc = { 0 }, acb = { 0 };
        struct mls_writer w;
        int e;

        e = mls_framed_content_check_sender(&pm->content);
        FUZZ_ASSERT(e == 0 || e == MLS_E_INVALID_SENDER);
        /* A borrowed view: the AuthenticatedContent shares the message's
         * content and auth, so it is never cleared here. */
        ac.wire_format = MLS_WIRE_PUBLIC_MESSAGE;
        ac.content = pm->content;
        ac.auth = pm->auth;
        FUZZ_ASSERT(mls_bytes_copy(&gc, (const uint8_t *)"gc", 2) == 0);
        mls_writer_init(&w);
        FUZZ_ASSERT(mls_authenticated_content_tbm_encode(&w, &ac, &gc) == 0);
        mls_writer_clear(&w);
        FUZZ_ASSERT(mls_authenticated_content_to_bytes(&ac, &acb) == 0);
        {
                struct mls_authenticated_content back = { 0 };
                struct mls_bytes again = { 0 };

                e = mls_authenticated_content_from_bytes(acb.data, acb.len, &back);
                FUZZ_ASSERT(e == 0);
                FUZZ_ASSERT(mls_authenticated_content_to_bytes(&back, &again) == 0);
                check_same(&again, acb.data, acb.len);
                mls_bytes_clear(&again);
                mls_authenticated_content_clear(&back);
        }
        mls_bytes_clear(&acb);
        mls_bytes_clear(&gc);
}

static void
private_message_extras(const struct mls_message *m)
{
        const struct mls_private_message *pm = &m->private_message;
        struct mls_private_message_content c = { 0 };
        struct mls_reader r;
        int e;

        mls_reader_init(&r, pm->ciphertext.data, pm->ciphertext.len);
        e = mls_private_message_content_decode(&r, pm->content_type, &c);
        if (e == 0) {
                struct mls_writer w;
                struct mls_bytes out = { 0 };

                mls_writer_init(&w);
                FUZZ_ASSERT(mls_private_message_content_encode(&w, &c) == 0);
                FUZZ_ASSERT(mls_writer_finish(&w, &out) == 0);
                check_same(&out, pm->ciphertext.data, pm->ciphertext.len);
                mls_bytes_clear(&out);
        } else {
                FUZZ_ASSERT(decode_error_ok(e));
        }
        mls_private_message_content_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mls_message m = { 0 };
        struct mls_bytes out = { 0 };
        int e;

        if (sodium_init() < 0)
                abort();
        e = mls_message_from_bytes(data, size, &m);
        if (e < 0) {
                FUZZ_ASSERT(decode_error_ok(e));
                return 0;
        }
        FUZZ_ASSERT(mls_message_to_bytes(&m, &out) == 0);
        check_same(&out, data, size);
        mls_bytes_clear(&out);
        if (m.wire_format == MLS_WIRE_PUBLIC_MESSAGE)
                public_message_extras(&m);
        else if (m.wire_format == MLS_WIRE_PRIVATE_MESSAGE)
                private_message_extras(&m);
        mls_message_clear(&m);
        return 0;
}
