/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pre-shared keys (RFC 9420 section 8.4): the PreSharedKeyID structure
 * (encoder/decoder shared by the PreSharedKey proposal, GroupSecrets and the
 * key schedule) and the chaining of psk_secret over a list of PSKs.
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_PSK_H
#define MLS_PSK_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/rng.h"
#include "mls/secret.h"

/* enum { reserved(0), external(1), resumption(2), (255) } PSKType; */
enum mls_psk_type {
        MLS_PSK_EXTERNAL = 1,
        MLS_PSK_RESUMPTION = 2,
};

/* enum { reserved(0), application(1), reinit(2), branch(3), (255) }
 * ResumptionPSKUsage; */
enum mls_psk_usage {
        MLS_PSK_USAGE_APPLICATION = 1,
        MLS_PSK_USAGE_REINIT = 2,
        MLS_PSK_USAGE_BRANCH = 3,
};

/*
 * struct {
 *   PSKType psktype;
 *   select (PreSharedKeyID.psktype) {
 *     case external:   opaque psk_id<V>;
 *     case resumption: ResumptionPSKUsage usage;
 *                      opaque psk_group_id<V>;
 *                      uint64 psk_epoch;
 *   };
 *   opaque psk_nonce<V>;
 * } PreSharedKeyID;
 *
 * psk_id is used for external PSKs only; usage, psk_group_id and psk_epoch
 * for resumption PSKs only (the fields of the other type stay empty/zero).
 * All byte fields are heap-owned; mls_psk_id_clear frees them. A zeroed
 * struct is a valid empty value for _clear.
 */
struct mls_psk_id {
        enum mls_psk_type psktype;
        struct mls_bytes psk_id;
        enum mls_psk_usage usage;
        struct mls_bytes psk_group_id;
        uint64_t psk_epoch;
        struct mls_bytes psk_nonce;
};

/* Appends the encoding of id to w. MLS_E_BAD_ENUM for a psktype or (for
 * resumption) a usage that is not one of the values above. */
MLS_MUST_CHECK int mls_psk_id_encode(const struct mls_psk_id *id, struct mls_writer *w);

/* Reads one PreSharedKeyID from r (the caller checks for trailing bytes
 * where the PreSharedKeyID ends a structure). MLS_E_BAD_ENUM for psktype or
 * usage values other than those above (including reserved 0),
 * MLS_E_TRUNCATED and codec errors otherwise. On success *ret_id owns new
 * heap copies; on failure *ret_id is untouched. */
MLS_MUST_CHECK int mls_psk_id_decode(struct mls_reader *r, struct mls_psk_id *ret_id);

/* Frees the byte fields and resets *id to zero; NULL is a no-op. */
void mls_psk_id_clear(struct mls_psk_id *id);
#define _mls_psk_id_ _mls_cleanup_(mls_psk_id_clear)

/* Deep copy. */
MLS_MUST_CHECK int mls_psk_id_dup(const struct mls_psk_id *src, struct mls_psk_id *ret_id);

/* Whether a and b encode to the same bytes (not constant time: PSK ids and
 * nonces are public), e.g. to find duplicate PreSharedKey proposals. */
bool mls_psk_id_eq(const struct mls_psk_id *a, const struct mls_psk_id *b);

/* R-8.4-2, R-12.1.4-4: replaces id->psk_nonce with a fresh random value of
 * the suite's KDF.Nh bytes. */
MLS_MUST_CHECK int mls_psk_id_new_nonce(struct mls_psk_id *id, const struct mls_suite *s,
                                        const struct mls_rng *rng);

/* R-12.1.4-3: MLS_E_INVALID_PROPOSAL unless psk_nonce is KDF.Nh bytes long
 * (and psktype/usage are valid: MLS_E_BAD_ENUM). Does not judge whether a
 * resumption usage is allowed in context (the reinit/branch rules of
 * RFC 9420 section 12.1.4): that is the proposal validator's job. */
MLS_MUST_CHECK int mls_psk_id_check(const struct mls_psk_id *id, const struct mls_suite *s);

/* One entry of the PSK list fed into the key schedule: its id and the PSK
 * value (an external PSK from the application, or the resumption_psk of the
 * named group and epoch). The value is borrowed. */
struct mls_psk_input {
        const struct mls_psk_id *id;
        const uint8_t *psk;
        size_t psk_len;
};

/* Maximum number of PSKs in one psk_secret (PSKLabel.count is a uint16). */
#define MLS_PSK_MAX_COUNT 65535u

/*
 * RFC 9420 section 8.4:
 *   psk_extracted_[i] = KDF.Extract(0, psk_[i])
 *   psk_input_[i] = ExpandWithLabel(psk_extracted_[i], "derived psk",
 *                                   PSKLabel, KDF.Nh)
 *   psk_secret_[0] = 0
 *   psk_secret_[i] = KDF.Extract(psk_input_[i-1], psk_secret_[i-1])
 *   psk_secret     = psk_secret_[n]
 * with struct { PreSharedKeyID id; uint16 index; uint16 count; } PSKLabel.
 * psks[0..n) in Commit proposal order or GroupSecrets order (R-8.4-3);
 * n == 0 gives the all-zero Nh-byte secret. MLS_E_TOO_LARGE above
 * MLS_PSK_MAX_COUNT. *ret_psk_secret is a new Nh-byte secret.
 */
MLS_MUST_CHECK int mls_psk_secret(const struct mls_suite *s, const struct mls_psk_input *psks,
                                  size_t n, struct mls_secret **ret_psk_secret);

#endif
