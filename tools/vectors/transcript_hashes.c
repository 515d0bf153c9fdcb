/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transcript-hashes.json: the confirmed and interim transcript hashes and
 * the confirmation tag of one Commit (RFC 9420 sections 8.2, 6.1);
 * FORMATS.md "transcript-hashes.json".
 *
 * R-8.2-1 (both hashes), R-12.4.3.1-22 (tag check). The AuthenticatedContent
 * is decoded with the messages module (u16 wire_format || FramedContent ||
 * FramedContentAuthData); the FramedContent bytes fed to the hash are the
 * exact input bytes that decoder consumed.
 */
#include <stdlib.h>
#include <string.h>

#include "mls/crypto.h"
#include "mls/messages.h"
#include "mls/transcript.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}

static void
guarded_freep(uint8_t **p)
{
        tu_guarded_free(*p);
}

static void
framed_content_clearp(struct mls_framed_content *fc)
{
        mls_framed_content_clear(fc);
}

static void
auth_clearp(struct mls_framed_content_auth_data *a)
{
        mls_framed_content_auth_data_clear(a);
}

enum vec_result
vec_transcript_hashes(struct vec_case *c)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes ac = { 0 }, ck = { 0 }, before = { 0 };
        _mls_cleanup_(guarded_freep) uint8_t *g = NULL;
        _mls_cleanup_(framed_content_clearp) struct mls_framed_content fc = { 0 };
        _mls_cleanup_(auth_clearp) struct mls_framed_content_auth_data auth = { 0 };
        uint8_t confirmed[MLS_MAX_HASH_LEN], interim[MLS_MAX_HASH_LEN], tag[MLS_MAX_HASH_LEN];
        const struct mls_suite *s;
        const uint8_t *fc_start;
        struct mls_reader r;
        uint64_t suite;
        uint16_t wire_format;
        size_t fc_len;
        int e;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) ||
            !vec_hex(c, c->obj, "authenticated_content", &ac) ||
            !vec_hex(c, c->obj, "confirmation_key", &ck) ||
            !vec_hex(c, c->obj, "interim_transcript_hash_before", &before))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)suite);

        /* 1. Parse the whole AuthenticatedContent; it must be a commit. */
        g = tu_guarded_copy(ac.data, ac.len);
        if (!g)
                return vec_fail(c, "out of memory");
        mls_reader_init(&r, g, ac.len);
        if ((e = mls_reader_u16(&r, &wire_format)) < 0)
                return vec_fail(c, "wire_format: %s", mls_err_name(e));
        fc_start = r.p;
        if ((e = mls_framed_content_decode(&r, &fc)) < 0)
                return vec_fail(c, "FramedContent: %s", mls_err_name(e));
        fc_len = (size_t)(r.p - fc_start);
        if (fc.content_type != MLS_CONTENT_COMMIT)
                return vec_fail(c, "content is not a commit");
        if ((e = mls_framed_content_auth_data_decode(&r, fc.content_type, &auth)) < 0)
                return vec_fail(c, "FramedContentAuthData: %s", mls_err_name(e));
        if ((e = mls_reader_done(&r)) < 0)
                return vec_fail(c, "AuthenticatedContent: %s", mls_err_name(e));
        /* The structure as a whole must also pass the strict decoder. */
        {
                struct mls_authenticated_content whole = { 0 };

                e = mls_authenticated_content_from_bytes(ac.data, ac.len, &whole);
                mls_authenticated_content_clear(&whole);
                if (e < 0)
                        return vec_fail(c, "AuthenticatedContent decode: %s", mls_err_name(e));
        }

        /* 2, 3. confirmed and interim transcript hashes (R-8.2-1). */
        e = mls_transcript_update(s, before.data, before.len, wire_format, fc_start, fc_len,
                                  auth.signature.data, auth.signature.len,
                                  auth.confirmation_tag.data, auth.confirmation_tag.len,
                                  confirmed, interim);
        if (e < 0)
                return vec_fail(c, "transcript update: %s", mls_err_name(e));
        if (!vec_expect_hex(c, c->obj, "confirmed_transcript_hash_after", confirmed, s->hash_len) ||
            !vec_expect_hex(c, c->obj, "interim_transcript_hash_after", interim, s->hash_len))
                return VEC_FAIL;

        /* 4. MAC(confirmation_key, confirmed) == confirmation_tag. */
        e = mls_transcript_verify_tag(s, ck.data, ck.len, confirmed, s->hash_len,
                                      auth.confirmation_tag.data, auth.confirmation_tag.len);
        if (e < 0)
                return vec_fail(c, "confirmation tag: %s", mls_err_name(e));
        e = mls_transcript_confirmation_tag(s, ck.data, ck.len, confirmed, s->hash_len, tag);
        if (e < 0 || auth.confirmation_tag.len != s->hash_len ||
            memcmp(tag, auth.confirmation_tag.data, s->hash_len) != 0)
                return vec_fail(c, "recomputed confirmation tag differs");
        return VEC_PASS;
}
