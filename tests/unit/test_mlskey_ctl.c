/* SPDX-License-Identifier: Apache-2.0 */
/* mlskeyctl's helpers that need no daemon: hex, numbers, seconds, object
 * paths, and file input/output (sizes, modes, errors). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "client-lib/mlskey.h"
#include "tools/mlskeyctl-util.h"

static void
test_ctl_hex_round_trip(void **state)
{
        static const uint8_t bytes[] = { 0x00, 0x01, 0xab, 0xff };
        uint8_t *out = NULL;
        size_t len = 0;
        char *hex = NULL;

        (void)state;
        assert_int_equal(ctl_hex_encode(bytes, sizeof(bytes), &hex), 0);
        assert_string_equal(hex, "0001abff");
        assert_int_equal(ctl_hex_decode(hex, &out, &len), 0);
        assert_int_equal(len, 4);
        assert_memory_equal(out, bytes, 4);
        free(out);
        free(hex);
        /* upper case and a 0x prefix */
        assert_int_equal(ctl_hex_decode("0xABcd", &out, &len), 0);
        assert_int_equal(len, 2);
        assert_int_equal(out[0], 0xab);
        assert_int_equal(out[1], 0xcd);
        free(out);
        /* empty */
        assert_int_equal(ctl_hex_decode("", &out, &len), 0);
        assert_int_equal(len, 0);
        free(out);
        assert_int_equal(ctl_hex_encode(NULL, 0, &hex), 0);
        assert_string_equal(hex, "");
        free(hex);
}

static void
test_ctl_hex_rejects(void **state)
{
        static const char *const bad[] = { "abc", "zz", "0x1", "12 34", "-1", "0x", "1g" };
        uint8_t *out = (uint8_t *)"untouched";
        size_t len = 99;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = ctl_hex_decode(bad[i], &out, &len);

                /* "0x" alone decodes to nothing: allowed as empty */
                if (strcmp(bad[i], "0x") == 0) {
                        assert_int_equal(r, 0);
                        free(out);
                        out = (uint8_t *)"untouched";
                        len = 99;
                        continue;
                }
                assert_int_equal(r, MLSKEY_ERROR_INVALID_ARGUMENT);
                assert_string_equal((char *)out, "untouched");
                assert_int_equal(len, 99);
        }
        assert_int_equal(ctl_hex_decode(NULL, &out, &len), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_true(ctl_is_hex("ab12"));
        assert_true(ctl_is_hex("AB12"));
        assert_false(ctl_is_hex(""));
        assert_false(ctl_is_hex("abc"));
        assert_false(ctl_is_hex("0xab"));
        assert_false(ctl_is_hex("alice"));
        assert_false(ctl_is_hex(NULL));
}

static void
test_ctl_numbers(void **state)
{
        uint64_t v64 = 0;
        uint32_t v32 = 0;
        uint16_t v16 = 0;

        (void)state;
        assert_int_equal(ctl_parse_u64("0", UINT64_MAX, &v64), 0);
        assert_true(v64 == 0);
        assert_int_equal(ctl_parse_u64("18446744073709551615", UINT64_MAX, &v64), 0);
        assert_true(v64 == UINT64_MAX);
        assert_int_equal(ctl_parse_u64("18446744073709551616", UINT64_MAX, &v64),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(ctl_parse_u64("0x10", UINT64_MAX, &v64), 0);
        assert_true(v64 == 16);
        assert_int_equal(ctl_parse_u32("4294967295", &v32), 0);
        assert_true(v32 == UINT32_MAX);
        assert_int_equal(ctl_parse_u32("4294967296", &v32), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_true(v32 == UINT32_MAX); /* untouched */
        assert_int_equal(ctl_parse_u16("65535", &v16), 0);
        assert_int_equal(v16, 65535);
        assert_int_equal(ctl_parse_u16("65536", &v16), MLSKEY_ERROR_INVALID_ARGUMENT);
        /* no signs, blanks, suffixes or empty strings (strtoull takes them) */
        static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1k", "0x", "1.0",
                                           "0xg" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (ctl_parse_u32(bad[i], &v32) != MLSKEY_ERROR_INVALID_ARGUMENT)
                        fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(ctl_parse_u32(NULL, &v32), MLSKEY_ERROR_INVALID_ARGUMENT);
}

static void
test_ctl_seconds(void **state)
{
        int ms = 0;

        (void)state;
        assert_int_equal(ctl_parse_seconds_ms("2", INT_MAX, &ms), 0);
        assert_int_equal(ms, 2000);
        assert_int_equal(ctl_parse_seconds_ms("2.5", INT_MAX, &ms), 0);
        assert_int_equal(ms, 2500);
        assert_int_equal(ctl_parse_seconds_ms("0.001", INT_MAX, &ms), 0);
        assert_int_equal(ms, 1);
        assert_int_equal(ctl_parse_seconds_ms("0.25", INT_MAX, &ms), 0);
        assert_int_equal(ms, 250);
        static const char *const bad[] = { "", "0", "0.0", ".5", "2.", "1.2345", "1..2", "-1",
                                           "1s", "0x10", "99999999999999999" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (ctl_parse_seconds_ms(bad[i], INT_MAX, &ms) != MLSKEY_ERROR_INVALID_ARGUMENT)
                        fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(ctl_parse_seconds_ms("10", 9999, &ms), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(ctl_parse_seconds_ms("9.999", 9999, &ms), 0);
        assert_int_equal(ms, 9999);
}

static void
test_ctl_paths(void **state)
{
        char *p = NULL;

        (void)state;
        assert_true(ctl_is_object_path("/org/mlskeyd/Daemon1/group/ab"));
        assert_false(ctl_is_object_path("ab"));
        assert_false(ctl_is_object_path(""));
        assert_false(ctl_is_object_path(NULL));
        assert_int_equal(ctl_path_from_hex(MLSKEY_GROUP_PATH_PREFIX, "AB12", &p), 0);
        /* object paths carry lower-case hex */
        assert_string_equal(p, "/org/mlskeyd/Daemon1/group/ab12");
        assert_string_equal(ctl_path_basename(p), "ab12");
        free(p);
        p = NULL;
        assert_int_equal(ctl_path_from_hex(MLSKEY_GROUP_PATH_PREFIX, "alice", &p),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_null(p);
        assert_string_equal(ctl_path_basename("noslash"), "noslash");
}

static char tmpdir[] = "/tmp/test_mlskey_ctl.XXXXXX";

static int
setup_dir(void **state)
{
        (void)state;
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static void
test_ctl_file_round_trip(void **state)
{
        static const uint8_t data[] = { 0, 1, 2, 0xff, '\n' };
        char path[256];
        uint8_t *back = NULL;
        size_t len = 0;
        struct stat st;
        mode_t old = umask(022);

        (void)state;
        snprintf(path, sizeof(path), "%s/out.bin", tmpdir);
        assert_int_equal(ctl_write_file(path, data, sizeof(data), false, false), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);
        assert_int_equal(ctl_read_file(path, &back, &len), 0);
        assert_int_equal(len, sizeof(data));
        assert_memory_equal(back, data, len);
        free(back);
        /* hex */
        assert_int_equal(ctl_write_file(path, data, sizeof(data), true, false), 0);
        assert_int_equal(ctl_read_file(path, &back, &len), 0);
        assert_int_equal(len, 11);
        assert_memory_equal(back, "000102ff0a\n", 11);
        free(back);
        /* private: a new file and an existing one both end up 0600 */
        assert_int_equal(ctl_write_file(path, data, 1, false, true), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(st.st_size, 1);
        /* empty */
        assert_int_equal(ctl_write_file(path, NULL, 0, false, false), 0);
        assert_int_equal(ctl_read_file(path, &back, &len), 0);
        assert_int_equal(len, 0);
        free(back);
        umask(old);
}

static void
test_ctl_file_errors(void **state)
{
        char path[256];
        uint8_t *back = (uint8_t *)"untouched";
        size_t len = 7;
        int fd;

        (void)state;
        snprintf(path, sizeof(path), "%s/missing", tmpdir);
        errno = 0;
        assert_int_equal(ctl_read_file(path, &back, &len), MLSKEY_ERROR_INTERNAL_ERROR);
        assert_int_equal(errno, ENOENT);
        assert_string_equal((char *)back, "untouched");
        assert_int_equal(len, 7);
        snprintf(path, sizeof(path), "%s/no/such/dir/x", tmpdir);
        assert_int_equal(ctl_write_file(path, (const uint8_t *)"x", 1, false, false),
                         MLSKEY_ERROR_INTERNAL_ERROR);
        assert_int_equal(errno, ENOENT);
        /* A directory cannot be read as a file. */
        assert_int_equal(ctl_read_file(tmpdir, &back, &len), MLSKEY_ERROR_INTERNAL_ERROR);
        assert_int_equal(errno, EISDIR);
        assert_int_equal(ctl_read_file(NULL, &back, &len), MLSKEY_ERROR_INVALID_ARGUMENT);
        /* One byte over the limit (a sparse file). */
        snprintf(path, sizeof(path), "%s/huge", tmpdir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)CTL_MAX_INPUT + 1), 0);
        close(fd);
        assert_int_equal(ctl_read_file(path, &back, &len), MLSKEY_ERROR_TOO_LARGE);
        /* Exactly the limit is fine. */
        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)CTL_MAX_INPUT), 0);
        close(fd);
        assert_int_equal(ctl_read_file(path, &back, &len), 0);
        assert_int_equal(len, CTL_MAX_INPUT);
        free(back);
        unlink(path);
}

/* "-" reads stdin: here a pipe put in its place. */
static void
test_ctl_read_stdin(void **state)
{
        int fds[2], saved;
        uint8_t *back = NULL;
        size_t len = 0;

        (void)state;
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], "hello", 5), 5);
        close(fds[1]);
        saved = dup(STDIN_FILENO);
        assert_true(saved >= 0);
        assert_true(dup2(fds[0], STDIN_FILENO) >= 0);
        close(fds[0]);
        assert_int_equal(ctl_read_file("-", &back, &len), 0);
        assert_true(dup2(saved, STDIN_FILENO) >= 0);
        close(saved);
        assert_int_equal(len, 5);
        assert_memory_equal(back, "hello", 5);
        free(back);
}

static void
test_ctl_printable_and_push(void **state)
{
        uint32_t *arr = NULL;
        size_t n = 0;

        (void)state;
        assert_true(ctl_is_printable((const uint8_t *)"alice@example.org", 17));
        assert_false(ctl_is_printable((const uint8_t *)"a\nb", 3));
        assert_false(ctl_is_printable((const uint8_t *)"\x80", 1));
        assert_false(ctl_is_printable((const uint8_t *)"", 0));
        for (uint32_t i = 0; i < 100; i++)
                assert_int_equal(ctl_u32_push(&arr, &n, i * 3), 0);
        assert_int_equal(n, 100);
        assert_int_equal(arr[99], 297);
        free(arr);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ctl_hex_round_trip),
                cmocka_unit_test(test_ctl_hex_rejects),
                cmocka_unit_test(test_ctl_numbers),
                cmocka_unit_test(test_ctl_seconds),
                cmocka_unit_test(test_ctl_paths),
                cmocka_unit_test(test_ctl_file_round_trip),
                cmocka_unit_test(test_ctl_file_errors),
                cmocka_unit_test(test_ctl_read_stdin),
                cmocka_unit_test(test_ctl_printable_and_push),
        };

        return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
