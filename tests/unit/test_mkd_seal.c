/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of daemon/seal: round trips, every bit of a sealed blob
 * tampered, truncation at every length, foreign blobs (moved to another
 * id, type or version), wrong keys, the guarded key memory, and the
 * storage key file (creation, permission checks, crash leftovers). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "daemon/log.h"
#include "daemon/seal.h"
#include "daemon/seal-internal.h"

static const uint8_t id_a[] = { 0xa1, 0xa2, 0xa3 };
static const uint8_t id_b[] = { 0xb1, 0xb2, 0xb3 };

static struct mls_secret *
secret_of(const char *s)
{
        struct mls_secret *sec = NULL;

        assert_int_equal(mls_secret_from((const uint8_t *)s, strlen(s), &sec), 0);
        return sec;
}

static struct mkd_seal_key *
new_key(void)
{
        struct mkd_seal_key *k = NULL;

        assert_int_equal(mkd_seal_key_new(mls_rng_system(), &k), 0);
        return k;
}

static void
test_seal_round_trip(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = new_key();
        static const size_t lens[] = { 0, 1, 15, 16, 17, 1000, 100000 };

        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(lens); i++) {
                _mls_secret_ struct mls_secret *pt = NULL, *out = NULL;
                struct mls_bytes blob = { 0 };
                struct mkd_seal_header h;

                assert_int_equal(mls_secret_new(lens[i], &pt), 0);
                randombytes_buf(pt->data, pt->len);
                assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, id_a, sizeof(id_a), 42,
                                          pt, &blob),
                                 0);
                /* magic 8, format 2, type 1, id 1+3, version 8, counter 8 */
                assert_int_equal(blob.len, 31 + MKD_SEAL_NONCE_LEN + lens[i] + MKD_SEAL_TAG_LEN);
                assert_memory_equal(blob.data, "MLSKEYD\0\x00\x01\x03\x03\xa1\xa2\xa3", 15);
                assert_int_equal(mkd_seal_header_parse(blob.data, blob.len, &h), 0);
                assert_int_equal(h.format, MKD_SEAL_FORMAT);
                assert_int_equal(h.type, MKD_OBJ_GROUP);
                assert_int_equal(h.id_len, 3);
                assert_memory_equal(h.id, id_a, 3);
                assert_int_equal(h.version, 42);
                assert_int_equal(h.counter, 0);
                assert_int_equal(h.ad_len, 31);
                assert_int_equal(h.ciphertext_len, lens[i] + MKD_SEAL_TAG_LEN);
                assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, sizeof(id_a),
                                            42, &out),
                                 0);
                assert_true(mls_secret_eq(out, pt));
                mls_secret_freep(&out);
                assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, sizeof(id_a),
                                            MKD_SEAL_ANY_VERSION, &out),
                                 0);
                assert_true(mls_secret_eq(out, pt));
                mls_bytes_clear(&blob);
        }
}

static void
test_seal_nonce_is_random(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = new_key();
        _mls_secret_ struct mls_secret *pt = secret_of("same");
        struct mls_bytes a = { 0 }, b = { 0 };

        (void)state;
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_IDENTITY, id_a, 3, 1, pt, &a), 0);
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_IDENTITY, id_a, 3, 1, pt, &b), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, 31);
        assert_memory_not_equal(a.data + 31, b.data + 31, MKD_SEAL_NONCE_LEN);
        assert_memory_not_equal(a.data + 55, b.data + 55, a.len - 55);
        mls_bytes_clear(&a);
        mls_bytes_clear(&b);
}

static void
test_seal_rejects_bad_arguments(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = new_key();
        _mls_secret_ struct mls_secret *pt = secret_of("x");
        struct mls_bytes blob = { 0 };
        uint8_t big[MKD_OBJ_ID_MAX + 1] = { 0 };

        (void)state;
        assert_int_equal(mkd_seal(k, mls_rng_system(), 0, id_a, 3, 1, pt, &blob), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_seal(k, mls_rng_system(), 5, id_a, 3, 1, pt, &blob), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, id_a, 0, 1, pt, &blob),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, big, sizeof(big), 1, pt, &blob),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, id_a, 3, MKD_SEAL_ANY_VERSION,
                                  pt, &blob),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(blob.data);
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, big, MKD_OBJ_ID_MAX, 1, pt, &blob), 0);
        mls_bytes_clear(&blob);
}

/* Every single-bit change anywhere in the blob is refused: in the header
 * as malformed, unsupported or foreign (or as a bad tag, the header being
 * the associated data), in the nonce or ciphertext as a bad tag. With no
 * version expectation, a changed version is caught by the tag. */
static void
test_seal_every_tampered_bit_refused(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = new_key();
        _mls_secret_ struct mls_secret *pt = secret_of("epoch secrets and the tree");
        struct mls_bytes blob = { 0 };
        const size_t id_end = 15, version_end = 23, counter_end = 31;

        (void)state;
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, id_a, 3, 7, pt, &blob), 0);
        for (size_t off = 0; off < blob.len; off++) {
                for (unsigned bit = 0; bit < 8; bit++) {
                        _mls_secret_ struct mls_secret *out = NULL;
                        int e, any;

                        blob.data[off] ^= (uint8_t)(1u << bit);
                        e = mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3, 7, &out);
                        any = mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3,
                                         MKD_SEAL_ANY_VERSION, &out);
                        blob.data[off] ^= (uint8_t)(1u << bit);
                        assert_null(out);
                        assert_true(e < 0);
                        assert_true(any < 0);
                        if (off < 8) /* magic */
                                assert_int_equal(e, MLS_E_INVALID_MESSAGE);
                        else if (off < 10) /* format */
                                assert_int_equal(e, MLS_E_UNSUPPORTED);
                        else if (off < 12) /* type (0x03 -> valid 0x01/0x02 or invalid), id length */
                                assert_true(e == MLS_E_INVALID_MESSAGE || e == MLS_E_BAD_STATE ||
                                            e == MLS_E_NONMINIMAL || e == MLS_E_BAD_VARINT ||
                                            e == MLS_E_TRUNCATED);
                        else if (off < id_end) /* id: another object */
                                assert_int_equal(e, MLS_E_BAD_STATE);
                        else if (off < version_end) {
                                assert_int_equal(e, MLS_E_BAD_STATE);
                                assert_int_equal(any, MLS_E_DECRYPT);
                        } else if (off < counter_end)
                                assert_int_equal(e, MLS_E_DECRYPT);
                        else /* nonce, ciphertext, tag */
                                assert_int_equal(e, MLS_E_DECRYPT);
                }
        }
        mls_bytes_clear(&blob);
}

static void
test_seal_truncated_or_extended_refused(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = new_key();
        _mls_secret_ struct mls_secret *pt = secret_of("0123456789");
        struct mls_bytes blob = { 0 };
        uint8_t *longer;

        (void)state;
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_KEYPACKAGE, id_a, 3, 1, pt, &blob), 0);
        for (size_t n = 0; n < blob.len; n++) {
                _mls_secret_ struct mls_secret *out = NULL;
                uint8_t *exact = malloc(n ? n : 1);
                int e;

                /* An exact-size copy, so that an overread shows under ASan. */
                assert_non_null(exact);
                memcpy(exact, blob.data, n);
                e = mkd_unseal(k, exact, n, MKD_OBJ_KEYPACKAGE, id_a, 3, 1, &out);
                free(exact);
                if (n < 31 + MKD_SEAL_NONCE_LEN + MKD_SEAL_TAG_LEN)
                        assert_int_equal(e, MLS_E_TRUNCATED);
                else
                        assert_int_equal(e, MLS_E_DECRYPT);
                assert_null(out);
        }
        longer = malloc(blob.len + 1);
        assert_non_null(longer);
        memcpy(longer, blob.data, blob.len);
        longer[blob.len] = 0;
        {
                _mls_secret_ struct mls_secret *out = NULL;

                assert_int_equal(mkd_unseal(k, longer, blob.len + 1, MKD_OBJ_KEYPACKAGE, id_a, 3, 1, &out),
                                 MLS_E_DECRYPT);
        }
        free(longer);
        mls_bytes_clear(&blob);
}

/* A valid blob of object A presented as object B (another id, type or
 * version) is foreign; rewriting its header to name B breaks the tag. */
static void
test_seal_moved_blob_refused(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = new_key();
        _mls_secret_ struct mls_secret *pt = secret_of("group state");
        _mls_secret_ struct mls_secret *out = NULL;
        struct mls_bytes blob = { 0 };

        (void)state;
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, id_a, 3, 5, pt, &blob), 0);
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_b, 3, 5, &out),
                         MLS_E_BAD_STATE);
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 2, 5, &out),
                         MLS_E_BAD_STATE);
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_IDENTITY, id_a, 3, 5, &out),
                         MLS_E_BAD_STATE);
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3, 4, &out),
                         MLS_E_BAD_STATE);
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3, 6, &out),
                         MLS_E_BAD_STATE);
        /* The attacker edits the header to match: the AD differs. */
        memcpy(blob.data + 12, id_b, 3);
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_b, 3, 5, &out),
                         MLS_E_DECRYPT);
        memcpy(blob.data + 12, id_a, 3);
        blob.data[10] = MKD_OBJ_IDENTITY;
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_IDENTITY, id_a, 3, 5, &out),
                         MLS_E_DECRYPT);
        blob.data[10] = MKD_OBJ_GROUP;
        blob.data[22] = 6; /* version 5 -> 6: an old blob replayed as newer */
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3, 6, &out),
                         MLS_E_DECRYPT);
        blob.data[22] = 5;
        assert_int_equal(mkd_unseal(k, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3, 5, &out), 0);
        assert_true(mls_secret_eq(out, pt));
        mls_bytes_clear(&blob);
}

static void
test_seal_wrong_key_refused(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k1 = new_key();
        _mkd_seal_key_ struct mkd_seal_key *k2 = new_key();
        _mkd_seal_key_ struct mkd_seal_key *k3 = NULL;
        _mls_secret_ struct mls_secret *pt = secret_of("x");
        _mls_secret_ struct mls_secret *raw = NULL, *out = NULL;
        struct mls_bytes blob = { 0 };

        (void)state;
        assert_int_equal(mkd_seal(k1, mls_rng_system(), MKD_OBJ_GROUP, id_a, 3, 1, pt, &blob), 0);
        assert_int_equal(mkd_unseal(k2, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3, 1, &out),
                         MLS_E_DECRYPT);
        /* A key from raw bytes (the TPM path): the same bytes unseal. */
        assert_int_equal(mls_secret_new(31, &raw), 0);
        assert_int_equal(mkd_seal_key_from_secret(raw, &k3), MLS_E_INVALID_ARGUMENT);
        mls_secret_freep(&raw);
        sodium_mprotect_readonly(k1->key);
        assert_int_equal(mls_secret_from(k1->key, MKD_SEAL_KEY_LEN, &raw), 0);
        sodium_mprotect_noaccess(k1->key);
        assert_int_equal(mkd_seal_key_from_secret(raw, &k3), 0);
        assert_int_equal(mkd_unseal(k3, blob.data, blob.len, MKD_OBJ_GROUP, id_a, 3, 1, &out), 0);
        assert_true(mls_secret_eq(out, pt));
        mls_bytes_clear(&blob);
}

/* Between uses the key's pages are PROT_NONE: a stray read faults. */
static void
test_seal_key_inaccessible_between_uses(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = new_key();
        _mls_secret_ struct mls_secret *pt = secret_of("x");
        struct mls_bytes blob = { 0 };
        int status;
        pid_t pid;

        (void)state;
        assert_int_equal(mkd_seal(k, mls_rng_system(), MKD_OBJ_GROUP, id_a, 3, 1, pt, &blob), 0);
        mls_bytes_clear(&blob);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                volatile uint8_t v;

                signal(SIGSEGV, SIG_DFL);
                v = k->key[0];
                (void)v;
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSEGV);
}

/* ---- the key file ---- */

struct tmpdir {
        char path[64];
        int fd;
};

static void
tmpdir_new(struct tmpdir *t)
{
        strcpy(t->path, "/tmp/mkd-seal-XXXXXX");
        assert_non_null(mkdtemp(t->path));
        t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->fd >= 0);
}

static void
tmpdir_free(struct tmpdir *t)
{
        char cmd[128];

        close(t->fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
        assert_int_equal(system(cmd), 0);
}

/* Log lines of the module, captured through a pipe. */
static int log_pipe[2] = { -1, -1 };

static void
log_capture(void)
{
        assert_int_equal(pipe2(log_pipe, O_NONBLOCK | O_CLOEXEC), 0);
        mkd_log_set_fd(log_pipe[1]);
}

static const char *
log_captured(void)
{
        static char buf[4096];
        ssize_t n = read(log_pipe[0], buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        mkd_log_set_fd(2);
        close(log_pipe[0]);
        close(log_pipe[1]);
        return buf;
}

static void
write_key_file(int dirfd, size_t len, mode_t mode)
{
        uint8_t bytes[64];
        int fd = openat(dirfd, MKD_SEAL_KEY_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        randombytes_buf(bytes, sizeof(bytes));
        assert_int_equal(write(fd, bytes, len), (ssize_t)len);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void
test_seal_key_file_created_then_loaded(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k1 = NULL;
        _mkd_seal_key_ struct mkd_seal_key *k2 = NULL;
        _mls_secret_ struct mls_secret *pt = secret_of("persisted");
        _mls_secret_ struct mls_secret *out = NULL;
        struct mls_bytes blob = { 0 };
        struct tmpdir t;
        struct stat st;
        bool created = false;

        (void)state;
        tmpdir_new(&t);
        umask(0022);
        assert_int_equal(mkd_seal_key_load_or_create(t.fd, mls_rng_system(), &k1, &created), 0);
        assert_true(created);
        assert_int_equal(fstatat(t.fd, MKD_SEAL_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, MKD_SEAL_KEY_LEN);
        assert_int_equal(st.st_uid, geteuid());
        /* No temporary file is left. */
        assert_int_equal(faccessat(t.fd, MKD_SEAL_KEY_FILE ".tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);

        assert_int_equal(mkd_seal(k1, mls_rng_system(), MKD_OBJ_IDENTITY, id_a, 3, 1, pt, &blob), 0);
        assert_int_equal(mkd_seal_key_load_or_create(t.fd, mls_rng_system(), &k2, &created), 0);
        assert_false(created);
        assert_int_equal(mkd_unseal(k2, blob.data, blob.len, MKD_OBJ_IDENTITY, id_a, 3, 1, &out), 0);
        assert_true(mls_secret_eq(out, pt));
        mls_bytes_clear(&blob);
        tmpdir_free(&t);
}

/* A crash between writing the temporary key file and renaming it leaves
 * storage.key.tmp: it was never used, a new key is made. */
static void
test_seal_key_file_crash_leftover(void **state)
{
        _mkd_seal_key_ struct mkd_seal_key *k = NULL;
        struct tmpdir t;
        bool created = false;
        int fd;

        (void)state;
        tmpdir_new(&t);
        fd = openat(t.fd, MKD_SEAL_KEY_FILE ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "half", 4), 4);
        close(fd);
        assert_int_equal(mkd_seal_key_load_or_create(t.fd, mls_rng_system(), &k, &created), 0);
        assert_true(created);
        assert_int_equal(faccessat(t.fd, MKD_SEAL_KEY_FILE ".tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        tmpdir_free(&t);
}

static void
expect_key_refused(int dirfd, int err, const char *reason)
{
        struct mkd_seal_key *k = NULL;
        bool created = true;
        const char *logged;

        log_capture();
        assert_int_equal(mkd_seal_key_load_or_create(dirfd, mls_rng_system(), &k, &created), err);
        logged = log_captured();
        assert_null(k);
        if (!strstr(logged, reason))
                print_error("log: %s\nwanted: %s\n", logged, reason);
        assert_non_null(strstr(logged, reason));
}

static void
test_seal_key_file_checks(void **state)
{
        struct tmpdir t;

        (void)state;
        tmpdir_new(&t);
        write_key_file(t.fd, 32, 0640);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "storage.key: refused: mode 0640, must be 0600");
        write_key_file(t.fd, 32, 0644);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "mode 0644");
        write_key_file(t.fd, 32, 0400);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "mode 0400");
        write_key_file(t.fd, 32, 0700);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "mode 0700");
        write_key_file(t.fd, 32, 04600);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "mode 4600");
        write_key_file(t.fd, 31, 0600);
        expect_key_refused(t.fd, MLS_E_BAD_STATE, "storage.key: refused: 31 bytes, must be 32");
        write_key_file(t.fd, 33, 0600);
        expect_key_refused(t.fd, MLS_E_BAD_STATE, "33 bytes");
        write_key_file(t.fd, 0, 0600);
        expect_key_refused(t.fd, MLS_E_BAD_STATE, "0 bytes");
        /* A second hard link (someone else's name for our key). */
        write_key_file(t.fd, 32, 0600);
        assert_int_equal(linkat(t.fd, MKD_SEAL_KEY_FILE, t.fd, "copy", 0), 0);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "2 hard links");
        assert_int_equal(unlinkat(t.fd, "copy", 0), 0);
        /* A symlink, even to a perfect key file. */
        assert_int_equal(renameat(t.fd, MKD_SEAL_KEY_FILE, t.fd, "real.key"), 0);
        assert_int_equal(symlinkat("real.key", t.fd, MKD_SEAL_KEY_FILE), 0);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "storage.key: refused: a symbolic link");
        assert_int_equal(unlinkat(t.fd, MKD_SEAL_KEY_FILE, 0), 0);
        /* A directory. */
        assert_int_equal(mkdirat(t.fd, MKD_SEAL_KEY_FILE, 0700), 0);
        expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "storage.key: refused: not a regular file");
        assert_int_equal(unlinkat(t.fd, MKD_SEAL_KEY_FILE, AT_REMOVEDIR), 0);
        /* Owned by someone else (needs root to arrange; CI runs as root). */
        if (geteuid() == 0) {
                write_key_file(t.fd, 32, 0600);
                assert_int_equal(fchownat(t.fd, MKD_SEAL_KEY_FILE, 4242, 4242, 0), 0);
                expect_key_refused(t.fd, MLS_E_INSECURE_FILE, "owned by uid 4242, not by us (uid 0)");
        }
        tmpdir_free(&t);
        if (geteuid() != 0)
                skip();
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seal_round_trip),
                cmocka_unit_test(test_seal_nonce_is_random),
                cmocka_unit_test(test_seal_rejects_bad_arguments),
                cmocka_unit_test(test_seal_every_tampered_bit_refused),
                cmocka_unit_test(test_seal_truncated_or_extended_refused),
                cmocka_unit_test(test_seal_moved_blob_refused),
                cmocka_unit_test(test_seal_wrong_key_refused),
                cmocka_unit_test(test_seal_key_inaccessible_between_uses),
                cmocka_unit_test(test_seal_key_file_created_then_loaded),
                cmocka_unit_test(test_seal_key_file_crash_leftover),
                cmocka_unit_test(test_seal_key_file_checks),
        };

        if (sodium_init() < 0)
                return 1;
        mkd_log_set_level(MKD_LOG_DEBUG);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
