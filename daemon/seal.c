/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon/seal.h"
#include "daemon/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "daemon/log.h"
#include "daemon/seal-internal.h"

const uint8_t mkd_seal_magic[MKD_SEAL_MAGIC_LEN] = { 'M', 'L', 'S', 'K', 'E', 'Y', 'D', 0 };


/* ---- the key ---- */

static int
key_alloc(struct mkd_seal_key **ret_key)
{
        struct mkd_seal_key *k = malloc(sizeof(*k));

        if (!k)
                return MLS_E_NOMEM;
        k->key = sodium_malloc(MKD_SEAL_KEY_LEN);
        if (!k->key) {
                free(k);
                return MLS_E_NOMEM;
        }
        *ret_key = k;
        return 0;
}

/* Ends a use of the key: no access until the next one. */
static void
key_lock(const struct mkd_seal_key *k)
{
        sodium_mprotect_noaccess(k->key);
}

static void
key_unlock(const struct mkd_seal_key *k)
{
        sodium_mprotect_readonly(k->key);
}

void
mkd_seal_key_free(struct mkd_seal_key *k)
{
        if (!k)
                return;
        /* sodium_free needs the pages accessible to wipe them. */
        sodium_mprotect_readwrite(k->key);
        sodium_free(k->key);
        free(k);
}

void
mkd_seal_key_freep(struct mkd_seal_key **k)
{
        mkd_seal_key_free(*k);
        *k = NULL;
}

int
mkd_seal_key_new(const struct mls_rng *rng, struct mkd_seal_key **ret_key)
{
        _mkd_seal_key_ struct mkd_seal_key *k = NULL;

        MLS_TRY(key_alloc(&k));
        MLS_TRY(mls_rng_fill(rng, k->key, MKD_SEAL_KEY_LEN));
        key_lock(k);
        *ret_key = MLS_TAKE(k);
        return 0;
}

int
mkd_seal_key_from_secret(const struct mls_secret *s, struct mkd_seal_key **ret_key)
{
        _mkd_seal_key_ struct mkd_seal_key *k = NULL;

        if (s->len != MKD_SEAL_KEY_LEN)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(key_alloc(&k));
        memcpy(k->key, s->data, MKD_SEAL_KEY_LEN);
        key_lock(k);
        *ret_key = MLS_TAKE(k);
        return 0;
}

/* Reads exactly n bytes, then insists on EOF. */
static int
read_exact_eof(int fd, uint8_t *p, size_t n)
{
        size_t have = 0;
        uint8_t extra;

        while (have < n) {
                ssize_t r = read(fd, p + have, n - have);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return MLS_E_STORAGE;
                if (r == 0)
                        return MLS_E_BAD_STATE;
                have += (size_t)r;
        }
        for (;;) {
                ssize_t r = read(fd, &extra, 1);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return MLS_E_STORAGE;
                return r == 0 ? 0 : MLS_E_BAD_STATE;
        }
}

static int
key_file_read(int fd, struct mkd_seal_key **ret_key)
{
        _mkd_seal_key_ struct mkd_seal_key *k = NULL;
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0) {
                mkd_log_err("%s: cannot stat: %s", MKD_SEAL_KEY_FILE, strerror(errno));
                return MLS_E_STORAGE;
        }
        if (!S_ISREG(st.st_mode)) {
                mkd_log_err("%s: refused: not a regular file", MKD_SEAL_KEY_FILE);
                return MLS_E_INSECURE_FILE;
        }
        if (st.st_uid != geteuid()) {
                mkd_log_err("%s: refused: owned by uid %u, not by us (uid %u)", MKD_SEAL_KEY_FILE,
                            (unsigned)st.st_uid, (unsigned)geteuid());
                return MLS_E_INSECURE_FILE;
        }
        if ((st.st_mode & 07777) != 0600) {
                mkd_log_err("%s: refused: mode %04o, must be 0600", MKD_SEAL_KEY_FILE,
                            (unsigned)(st.st_mode & 07777));
                return MLS_E_INSECURE_FILE;
        }
        if (st.st_nlink != 1) {
                mkd_log_err("%s: refused: %lu hard links, must be 1", MKD_SEAL_KEY_FILE,
                            (unsigned long)st.st_nlink);
                return MLS_E_INSECURE_FILE;
        }
        if (st.st_size != MKD_SEAL_KEY_LEN) {
                mkd_log_err("%s: refused: %lld bytes, must be %d", MKD_SEAL_KEY_FILE,
                            (long long)st.st_size, MKD_SEAL_KEY_LEN);
                return MLS_E_BAD_STATE;
        }
        MLS_TRY(key_alloc(&k));
        r = read_exact_eof(fd, k->key, MKD_SEAL_KEY_LEN);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "%s: cannot read", MKD_SEAL_KEY_FILE);
                return r;
        }
        key_lock(k);
        *ret_key = MLS_TAKE(k);
        return 0;
}

/* Writes k to a new key file, never replacing one that appeared
 * meanwhile: 0 = written, 1 = one exists (the caller loads it). */
static int
key_file_put(int dirfd, const struct mkd_seal_key *k)
{
        int r;

        key_unlock(k);
        r = mkd_file_write(dirfd, MKD_SEAL_KEY_FILE, k->key, MKD_SEAL_KEY_LEN, 0600, false);
        key_lock(k);
        return r;
}

int
mkd_seal_key_load_or_create(int dirfd, const struct mls_rng *rng, struct mkd_seal_key **ret_key,
                            bool *ret_created)
{
        /* Twice at most: a concurrent creator wins the rename, we load. */
        for (int attempt = 0; attempt < 2; attempt++) {
                struct mkd_seal_key *k = NULL;
                int r = mkd_seal_key_load(dirfd, &k);

                if (r == 0) {
                        *ret_key = k;
                        *ret_created = false;
                        return 0;
                }
                if (r != MLS_E_NOT_FOUND)
                        return r;
                r = mkd_seal_key_new(rng, &k);
                if (r == 0)
                        r = key_file_put(dirfd, k);
                if (r != 0)
                        mkd_seal_key_free(k);
                if (r < 0)
                        return r;
                if (r == 0) {
                        mkd_log_info("%s: created a new storage key", MKD_SEAL_KEY_FILE);
                        *ret_key = k;
                        *ret_created = true;
                        return 0;
                }
        }
        return MLS_E_STORAGE;
}

int
mkd_seal_key_load(int dirfd, struct mkd_seal_key **ret_key)
{
        _mkd_cleanup_close_ int fd = -1;

        fd = openat(dirfd, MKD_SEAL_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT)
                return MLS_E_NOT_FOUND;
        if (fd < 0 && errno == ELOOP) {
                mkd_log_err("%s: refused: a symbolic link", MKD_SEAL_KEY_FILE);
                return MLS_E_INSECURE_FILE;
        }
        if (fd < 0) {
                mkd_log_err("%s: cannot open: %s", MKD_SEAL_KEY_FILE, strerror(errno));
                return MLS_E_STORAGE;
        }
        return key_file_read(fd, ret_key);
}

int
mkd_seal_key_store(int dirfd, const struct mkd_seal_key *key)
{
        int r = key_file_put(dirfd, key);

        if (r == 1) {
                mkd_log_err("%s: refused to replace an existing key file", MKD_SEAL_KEY_FILE);
                return MLS_E_STORAGE;
        }
        return r;
}

int
mkd_seal_key_export(const struct mkd_seal_key *key, struct mls_secret **ret)
{
        int r;

        key_unlock(key);
        r = mls_secret_from(key->key, MKD_SEAL_KEY_LEN, ret);
        key_lock(key);
        return r;
}

/* ---- sealing ---- */

int
mkd_seal_header_parse(const uint8_t *blob, size_t len, struct mkd_seal_header *ret_hdr)
{
        struct mkd_seal_header h;
        struct mls_reader r;
        const uint8_t *magic, *nonce;

        mls_reader_init(&r, blob, len);
        MLS_TRY(mls_reader_raw(&r, MKD_SEAL_MAGIC_LEN, &magic));
        if (memcmp(magic, mkd_seal_magic, MKD_SEAL_MAGIC_LEN) != 0)
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_u16(&r, &h.format));
        if (h.format != MKD_SEAL_FORMAT)
                return MLS_E_UNSUPPORTED;
        MLS_TRY(mls_reader_u8(&r, &h.type));
        if (!mkd_obj_type_valid(h.type))
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_opaque_view(&r, &h.id, &h.id_len));
        if (!mkd_obj_id_valid(h.id_len))
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_u64(&r, &h.version));
        MLS_TRY(mls_reader_u64(&r, &h.counter));
        h.ad_len = len - r.left;
        MLS_TRY(mls_reader_raw(&r, MKD_SEAL_NONCE_LEN, &nonce));
        if (r.left < MKD_SEAL_TAG_LEN)
                return MLS_E_TRUNCATED;
        h.ciphertext_len = r.left;
        *ret_hdr = h;
        return 0;
}

static int
header_write(struct mls_writer *w, uint8_t type, const uint8_t *id, size_t id_len,
             uint64_t version, uint64_t counter)
{
        MLS_TRY(mls_writer_raw(w, mkd_seal_magic, MKD_SEAL_MAGIC_LEN));
        MLS_TRY(mls_writer_u16(w, MKD_SEAL_FORMAT));
        MLS_TRY(mls_writer_u8(w, type));
        MLS_TRY(mls_writer_opaque(w, id, id_len));
        MLS_TRY(mls_writer_u64(w, version));
        return mls_writer_u64(w, counter);
}

int
mkd_seal(const struct mkd_seal_key *key, const struct mls_rng *rng, uint8_t type,
         const uint8_t *id, size_t id_len, uint64_t version, const struct mls_secret *plaintext,
         struct mls_bytes *ret_blob)
{
        return mkd_seal_counter(key, rng, type, id, id_len, version, 0, plaintext, ret_blob);
}

int
mkd_seal_counter(const struct mkd_seal_key *key, const struct mls_rng *rng, uint8_t type,
                 const uint8_t *id, size_t id_len, uint64_t version, uint64_t counter,
                 const struct mls_secret *plaintext, struct mls_bytes *ret_blob)
{
        _mls_writer_ struct mls_writer w = { 0 };
        _mls_free_ uint8_t *blob = NULL;
        uint8_t nonce[MKD_SEAL_NONCE_LEN];
        unsigned long long clen;
        size_t ad_len, total;
        int r;

        mls_writer_init(&w);
        if (!mkd_obj_type_valid(type) || !mkd_obj_id_valid(id_len) ||
            version == MKD_SEAL_ANY_VERSION)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(header_write(&w, type, id, id_len, version, counter));
        ad_len = w.len;
        MLS_TRY(mls_size_add(ad_len, MKD_SEAL_NONCE_LEN + MKD_SEAL_TAG_LEN, &total));
        MLS_TRY(mls_size_add(total, plaintext->len, &total));
        MLS_TRY(mls_rng_fill(rng, nonce, sizeof(nonce)));

        blob = malloc(total);
        if (!blob)
                return MLS_E_NOMEM;
        memcpy(blob, w.buf, ad_len);
        memcpy(blob + ad_len, nonce, sizeof(nonce));
        key_unlock(key);
        r = crypto_aead_xchacha20poly1305_ietf_encrypt(blob + ad_len + sizeof(nonce), &clen,
                                                       plaintext->data, plaintext->len, blob,
                                                       ad_len, NULL, nonce, key->key);
        key_lock(key);
        if (r != 0 || clen != plaintext->len + MKD_SEAL_TAG_LEN)
                return MLS_E_CRYPTO;
        ret_blob->data = MLS_TAKE(blob);
        ret_blob->len = total;
        return 0;
}

int
mkd_unseal(const struct mkd_seal_key *key, const uint8_t *blob, size_t len, uint8_t type,
           const uint8_t *id, size_t id_len, uint64_t version, struct mls_secret **ret_plaintext)
{
        _mls_secret_ struct mls_secret *pt = NULL;
        struct mkd_seal_header h;
        unsigned long long mlen;
        int r;

        MLS_TRY(mkd_seal_header_parse(blob, len, &h));
        /* A well-formed blob of another object: refused before any
         * decryption (the tag would fail too, the AD differs). */
        if (h.type != type || h.id_len != id_len || memcmp(h.id, id, id_len) != 0 ||
            (version != MKD_SEAL_ANY_VERSION && h.version != version))
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_secret_new(h.ciphertext_len - MKD_SEAL_TAG_LEN, &pt));
        key_unlock(key);
        r = crypto_aead_xchacha20poly1305_ietf_decrypt(pt->data, &mlen, NULL,
                                                       blob + h.ad_len + MKD_SEAL_NONCE_LEN,
                                                       h.ciphertext_len, blob, h.ad_len,
                                                       blob + h.ad_len, key->key);
        key_lock(key);
        if (r != 0 || mlen != pt->len)
                return MLS_E_DECRYPT;
        *ret_plaintext = MLS_TAKE(pt);
        return 0;
}
