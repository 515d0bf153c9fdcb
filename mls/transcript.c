/* SPDX-License-Identifier: Apache-2.0 */
/* Transcript hashes and confirmation tags (RFC 9420 sections 8.2, 6.1). */
#include "mls/transcript.h"

#include <string.h>

#include "mls/codec.h"
#include "mls/secret.h"

static int
hash_writer(const struct mls_suite *s, const struct mls_writer *w, uint8_t *ret_hash)
{
        uint8_t h[MLS_MAX_HASH_LEN];

        MLS_TRY(mls_crypto_hash(s, w->buf, w->len, h));
        memcpy(ret_hash, h, s->hash_len);
        return 0;
}

/*
 * RFC 9420 section 8.2 (R-8.2-1):
 *   confirmed_transcript_hash_[epoch] =
 *       Hash(interim_transcript_hash_[epoch - 1] ||
 *            ConfirmedTranscriptHashInput_[epoch]);
 *   struct { WireFormat wire_format; FramedContent content;
 *            opaque signature<V>; } ConfirmedTranscriptHashInput;
 */
int
mls_transcript_confirmed(const struct mls_suite *s, const uint8_t *interim_before,
                         size_t interim_len, uint16_t wire_format, const uint8_t *framed_content,
                         size_t framed_content_len, const uint8_t *signature,
                         size_t signature_len, uint8_t *ret_confirmed)
{
        _mls_writer_ struct mls_writer w = { 0 };

        if (!s || !ret_confirmed || (interim_len && !interim_before) ||
            (framed_content_len && !framed_content) || (signature_len && !signature))
                return MLS_E_INVALID_ARGUMENT;
        mls_writer_init(&w);
        MLS_TRY(mls_writer_raw(&w, interim_before, interim_len));
        MLS_TRY(mls_writer_u16(&w, wire_format));
        MLS_TRY(mls_writer_raw(&w, framed_content, framed_content_len));
        MLS_TRY(mls_writer_opaque(&w, signature, signature_len));
        return hash_writer(s, &w, ret_confirmed);
}

/*
 * RFC 9420 section 8.2 (R-8.2-1):
 *   interim_transcript_hash_[epoch] =
 *       Hash(confirmed_transcript_hash_[epoch] ||
 *            InterimTranscriptHashInput_[epoch]);
 *   struct { MAC confirmation_tag; } InterimTranscriptHashInput;
 * MAC is opaque<V>.
 */
int
mls_transcript_interim(const struct mls_suite *s, const uint8_t *confirmed, size_t confirmed_len,
                       const uint8_t *confirmation_tag, size_t tag_len, uint8_t *ret_interim)
{
        _mls_writer_ struct mls_writer w = { 0 };

        if (!s || !ret_interim || (confirmed_len && !confirmed) || (tag_len && !confirmation_tag))
                return MLS_E_INVALID_ARGUMENT;
        mls_writer_init(&w);
        MLS_TRY(mls_writer_raw(&w, confirmed, confirmed_len));
        MLS_TRY(mls_writer_opaque(&w, confirmation_tag, tag_len));
        return hash_writer(s, &w, ret_interim);
}

int
mls_transcript_update(const struct mls_suite *s, const uint8_t *interim_before,
                      size_t interim_len, uint16_t wire_format, const uint8_t *framed_content,
                      size_t framed_content_len, const uint8_t *signature, size_t signature_len,
                      const uint8_t *confirmation_tag, size_t tag_len, uint8_t *ret_confirmed,
                      uint8_t *ret_interim)
{
        uint8_t c[MLS_MAX_HASH_LEN], i[MLS_MAX_HASH_LEN];

        if (!s || !ret_confirmed || !ret_interim)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_transcript_confirmed(s, interim_before, interim_len, wire_format,
                                         framed_content, framed_content_len, signature,
                                         signature_len, c));
        MLS_TRY(mls_transcript_interim(s, c, s->hash_len, confirmation_tag, tag_len, i));
        memcpy(ret_confirmed, c, s->hash_len);
        memcpy(ret_interim, i, s->hash_len);
        return 0;
}

/* RFC 9420 section 6.1:
 *   confirmation_tag = MAC(confirmation_key, GroupContext.confirmed_transcript_hash) */
int
mls_transcript_confirmation_tag(const struct mls_suite *s, const uint8_t *confirmation_key,
                                size_t key_len, const uint8_t *confirmed, size_t confirmed_len,
                                uint8_t *ret_tag)
{
        uint8_t t[MLS_MAX_HASH_LEN];

        if (!s || !confirmation_key || !key_len || !ret_tag || (confirmed_len && !confirmed))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_crypto_mac(s, confirmation_key, key_len, confirmed, confirmed_len, t));
        memcpy(ret_tag, t, s->hash_len);
        return 0;
}

int
mls_transcript_verify_tag(const struct mls_suite *s, const uint8_t *confirmation_key,
                          size_t key_len, const uint8_t *confirmed, size_t confirmed_len,
                          const uint8_t *tag, size_t tag_len)
{
        uint8_t t[MLS_MAX_HASH_LEN];

        if (!s || !confirmation_key || !key_len || (confirmed_len && !confirmed) ||
            (tag_len && !tag))
                return MLS_E_INVALID_ARGUMENT;
        /* A tag of the wrong length cannot match: same error, no early
         * distinction an attacker could use. */
        if (tag_len != s->hash_len)
                return MLS_E_BAD_CONFIRMATION_TAG;
        MLS_TRY(mls_crypto_mac(s, confirmation_key, key_len, confirmed, confirmed_len, t));
        /* R-12.4.3.1-22: constant-time comparison of the recomputed tag. */
        if (!mls_ct_eq(t, tag, tag_len)) {
                mls_wipe(t, sizeof(t));
                return MLS_E_BAD_CONFIRMATION_TAG;
        }
        mls_wipe(t, sizeof(t));
        return 0;
}
