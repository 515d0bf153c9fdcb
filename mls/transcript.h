/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transcript hashes and the confirmation tag (RFC 9420 sections 8.2, 6.1).
 *
 *   struct {
 *       WireFormat wire_format;
 *       FramedContent content; // with content_type == commit
 *       opaque signature<V>;
 *   } ConfirmedTranscriptHashInput;
 *
 *   struct { MAC confirmation_tag; } InterimTranscriptHashInput;
 *
 *   confirmed_transcript_hash_[epoch] =
 *       Hash(interim_transcript_hash_[epoch - 1] ||
 *            ConfirmedTranscriptHashInput_[epoch]);
 *   interim_transcript_hash_[epoch] =
 *       Hash(confirmed_transcript_hash_[epoch] ||
 *            InterimTranscriptHashInput_[epoch]);
 *
 * Both hashes start as the zero-length string (R-8.2-2). The functions take
 * already-serialized pieces: the caller's decoder splits an
 * AuthenticatedContent into wire_format, the FramedContent bytes, the
 * signature and the confirmation tag. Transcript hashes are public; the
 * confirmation key is a secret (pointer and length, e.g. from
 * mls_ks_get(ks, MLS_KS_CONFIRMATION_KEY)).
 *
 * Output buffers hold suite->hash_len bytes (at most MLS_MAX_HASH_LEN) and
 * are written only on success. All functions return 0 or a negative MLS_E_*.
 */
#ifndef MLS_TRANSCRIPT_H
#define MLS_TRANSCRIPT_H

#include "mls/common.h"
#include "mls/crypto.h"

/* confirmed = Hash(interim_before || u16 wire_format || framed_content ||
 * V(signature)). interim_before may be empty (NULL, 0). R-8.2-1. */
MLS_MUST_CHECK int mls_transcript_confirmed(const struct mls_suite *s,
                                            const uint8_t *interim_before, size_t interim_len,
                                            uint16_t wire_format, const uint8_t *framed_content,
                                            size_t framed_content_len, const uint8_t *signature,
                                            size_t signature_len, uint8_t *ret_confirmed);

/* interim = Hash(confirmed || V(confirmation_tag)). R-8.2-1, R-8.2-2 (a
 * joiner calls this with the GroupInfo's confirmed hash and tag). */
MLS_MUST_CHECK int mls_transcript_interim(const struct mls_suite *s, const uint8_t *confirmed,
                                          size_t confirmed_len, const uint8_t *confirmation_tag,
                                          size_t tag_len, uint8_t *ret_interim);

/* Both steps for one Commit: the new confirmed and interim hashes. */
MLS_MUST_CHECK int mls_transcript_update(const struct mls_suite *s, const uint8_t *interim_before,
                                         size_t interim_len, uint16_t wire_format,
                                         const uint8_t *framed_content,
                                         size_t framed_content_len, const uint8_t *signature,
                                         size_t signature_len, const uint8_t *confirmation_tag,
                                         size_t tag_len, uint8_t *ret_confirmed,
                                         uint8_t *ret_interim);

/* confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)
 * (RFC 9420 section 6.1); ret_tag holds hash_len bytes. */
MLS_MUST_CHECK int mls_transcript_confirmation_tag(const struct mls_suite *s,
                                                   const uint8_t *confirmation_key,
                                                   size_t key_len, const uint8_t *confirmed,
                                                   size_t confirmed_len, uint8_t *ret_tag);

/* Recomputes the tag and compares it in constant time: 0 when it matches,
 * MLS_E_BAD_CONFIRMATION_TAG when it does not (including a tag of the wrong
 * length). R-12.4.3.1-22. */
MLS_MUST_CHECK int mls_transcript_verify_tag(const struct mls_suite *s,
                                             const uint8_t *confirmation_key, size_t key_len,
                                             const uint8_t *confirmed, size_t confirmed_len,
                                             const uint8_t *tag, size_t tag_len);

#endif
