/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sealing stored objects under the storage key (DESIGN.md section 8). Used
 * by the vault, the only process that holds the storage key.
 *
 * A sealed blob is self-describing:
 *
 *   struct {
 *       opaque magic[8] = "MLSKEYD\0";
 *       uint16 format;                 -- MKD_SEAL_FORMAT
 *       uint8  type;                   -- enum mkd_obj_type
 *       opaque id<V>;                  -- 1..MKD_OBJ_ID_MAX bytes
 *       uint64 version;                -- the object's version
 *       uint64 counter;                -- the TPM NV rollback counter it was
 *                                      -- written under (manifests; else 0)
 *       opaque nonce[24];              -- random
 *       opaque ciphertext[rest];       -- XChaCha20-Poly1305-IETF, 16-byte tag
 *   } SealedBlob;
 *
 * Everything before the nonce (magic .. counter) is the associated data,
 * so changing any header field, moving the blob to another id or type, or
 * replaying it as another version breaks the tag. The header is public: the
 * broker (which has no key) reads it with mkd_seal_header_parse to check
 * that a file sits where it belongs.
 *
 * The storage key lives in guarded memory (sodium_malloc) and is
 * inaccessible (sodium_mprotect_noaccess) except during a seal or unseal.
 * A key object is not thread-safe (the vault is single-threaded).
 */
#ifndef MKD_SEAL_H
#define MKD_SEAL_H

#include "mls/codec.h"
#include "mls/rng.h"
#include "mls/secret.h"
#include "daemon/object.h"

#define MKD_SEAL_KEY_LEN 32
#define MKD_SEAL_FORMAT 1
#define MKD_SEAL_MAGIC_LEN 8
#define MKD_SEAL_NONCE_LEN 24
#define MKD_SEAL_TAG_LEN 16
/* Unsealing without a version expectation. */
#define MKD_SEAL_ANY_VERSION UINT64_MAX
/* The key file in the state directory when no TPM seals the key. */
#define MKD_SEAL_KEY_FILE "storage.key"

extern const uint8_t mkd_seal_magic[MKD_SEAL_MAGIC_LEN];

struct mkd_seal_key;

/* A fresh random key from rng. */
MLS_MUST_CHECK int mkd_seal_key_new(const struct mls_rng *rng, struct mkd_seal_key **ret_key);
/* A key from 32 bytes (e.g. unsealed by the TPM); the secret is copied. */
MLS_MUST_CHECK int mkd_seal_key_from_secret(const struct mls_secret *s,
                                            struct mkd_seal_key **ret_key);
/* Wipes and frees; NULL is a no-op. */
void mkd_seal_key_free(struct mkd_seal_key *k);
void mkd_seal_key_freep(struct mkd_seal_key **k);
#define _mkd_seal_key_ _mls_cleanup_(mkd_seal_key_freep)

/*
 * The storage key file MKD_SEAL_KEY_FILE in the directory dirfd. If it
 * exists it must be a regular file (not a symlink), owned by the effective
 * uid, mode exactly 0600, with one link and exactly 32 bytes; otherwise it
 * is refused (the reason is logged): MLS_E_ACCESS_DENIED for type, owner,
 * mode or links, MLS_E_BAD_STATE for the size. If it does not exist it is
 * created from rng: written to "storage.key.tmp" (O_CREAT|O_EXCL|O_NOFOLLOW,
 * 0600), fsync'd, renamed into place without replacing (RENAME_NOREPLACE),
 * and the directory fsync'd, so a crash leaves either no key file or a
 * complete one. *ret_created says which happened. I/O errors: MLS_E_STORAGE.
 */
MLS_MUST_CHECK int mkd_seal_key_load_or_create(int dirfd, const struct mls_rng *rng,
                                               struct mkd_seal_key **ret_key, bool *ret_created);

/* The existing key file (checked as above); MLS_E_NOT_FOUND if there is
 * none. Never creates one. */
MLS_MUST_CHECK int mkd_seal_key_load(int dirfd, struct mkd_seal_key **ret_key);
/* Writes key as a new key file (temporary, fsync, rename without
 * replacing, directory fsync): moving a TPM-sealed key back to a file.
 * MLS_E_STORAGE if a key file exists already or on I/O errors. */
MLS_MUST_CHECK int mkd_seal_key_store(int dirfd, const struct mkd_seal_key *key);
/* A copy of the key's 32 bytes in guarded memory (to seal it to the TPM
 * or wrap it under a recovery key: never written anywhere in clear but
 * the key file). */
MLS_MUST_CHECK int mkd_seal_key_export(const struct mkd_seal_key *key, struct mls_secret **ret);

/* The public header of a sealed blob; id points into the blob. */
struct mkd_seal_header {
        uint16_t format;
        uint8_t type;
        const uint8_t *id;
        size_t id_len;
        uint64_t version;
        uint64_t counter;
        size_t ad_len;         /* bytes of header = associated data */
        size_t ciphertext_len; /* including the tag */
};

/* Parses and checks the header: MLS_E_TRUNCATED (too short for header,
 * nonce and tag), MLS_E_INVALID_MESSAGE (bad magic, invalid type or id
 * length), MLS_E_UNSUPPORTED (unknown format). */
MLS_MUST_CHECK int mkd_seal_header_parse(const uint8_t *blob, size_t len,
                                         struct mkd_seal_header *ret_hdr);

/* Seals plaintext as object (type, id, version) with a random nonce from
 * rng; the blob is malloc'd in *ret_blob. */
MLS_MUST_CHECK int mkd_seal(const struct mkd_seal_key *key, const struct mls_rng *rng,
                            uint8_t type, const uint8_t *id, size_t id_len, uint64_t version,
                            const struct mls_secret *plaintext, struct mls_bytes *ret_blob);

/* The same with the header's counter field set (the TPM rollback counter
 * the object was written under; mkd_seal writes 0). The counter is part of
 * the associated data; after a successful mkd_unseal, mkd_seal_header_parse
 * reads it back authenticated. */
MLS_MUST_CHECK int mkd_seal_counter(const struct mkd_seal_key *key, const struct mls_rng *rng,
                                    uint8_t type, const uint8_t *id, size_t id_len,
                                    uint64_t version, uint64_t counter,
                                    const struct mls_secret *plaintext, struct mls_bytes *ret_blob);

/*
 * Unseals a blob that must be object (type, id, version) (version may be
 * MKD_SEAL_ANY_VERSION). Errors: those of mkd_seal_header_parse;
 * MLS_E_BAD_STATE for a well-formed blob of another object (foreign);
 * MLS_E_DECRYPT for a bad tag (tampered, or sealed under another key).
 * The plaintext is returned in guarded memory.
 */
MLS_MUST_CHECK int mkd_unseal(const struct mkd_seal_key *key, const uint8_t *blob, size_t len,
                              uint8_t type, const uint8_t *id, size_t id_len, uint64_t version,
                              struct mls_secret **ret_plaintext);

#endif
