/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of daemon/log: priority prefixes, process tags, level
 * filtering, escaping of control characters, truncation, error codes. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/log.h"
#include "mls/error.h"

struct pipe_fixture {
        int rd;
        int wr;
};

static int
setup(void **state)
{
        static struct pipe_fixture f;
        int p[2];

        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
                return -1;
        f.rd = p[0];
        f.wr = p[1];
        mkd_log_set_fd(f.wr);
        mkd_log_set_level(MKD_LOG_INFO);
        mkd_log_set_proc(MKD_LOG_BROKER);
        *state = &f;
        return 0;
}

static int
teardown(void **state)
{
        struct pipe_fixture *f = *state;

        mkd_log_set_fd(2);
        close(f->rd);
        close(f->wr);
        return 0;
}

/* Everything written so far, NUL-terminated ("" if nothing). */
static const char *
drain(struct pipe_fixture *f)
{
        static char buf[8192];
        ssize_t n = read(f->rd, buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

static void
test_log_priority_prefixes(void **state)
{
        struct pipe_fixture *f = *state;

        mkd_log_set_level(MKD_LOG_DEBUG);
        mkd_log_err("e %d", 1);
        assert_string_equal(drain(f), "<3>broker: e 1\n");
        mkd_log_warning("w %s", "x");
        assert_string_equal(drain(f), "<4>broker: w x\n");
        mkd_log_info("i");
        assert_string_equal(drain(f), "<6>broker: i\n");
        mkd_log_debug("d %u", 7u);
        assert_string_equal(drain(f), "<7>broker: d 7\n");
}

static void
test_log_process_tags(void **state)
{
        struct pipe_fixture *f = *state;

        mkd_log_set_proc(MKD_LOG_ENGINE);
        mkd_log_info("x");
        assert_string_equal(drain(f), "<6>engine: x\n");
        mkd_log_set_proc(MKD_LOG_VAULT);
        mkd_log_info("x");
        assert_string_equal(drain(f), "<6>vault: x\n");
        assert_string_equal(mkd_log_proc_name(MKD_LOG_BROKER), "broker");
}

static void
test_log_level_filters(void **state)
{
        struct pipe_fixture *f = *state;

        mkd_log_set_level(MKD_LOG_WARNING);
        mkd_log_info("dropped");
        mkd_log_debug("dropped");
        assert_string_equal(drain(f), "");
        mkd_log_warning("kept");
        mkd_log_err("kept too");
        assert_string_equal(drain(f), "<4>broker: kept\n<3>broker: kept too\n");
}

/* A hostile string (say a file name in the state directory) cannot start
 * a second line or smuggle escape sequences. */
static void
test_log_escapes_control_characters(void **state)
{
        struct pipe_fixture *f = *state;

        mkd_log_info("file %s", "a\n<3>forged\x1b[0m\\\xff");
        assert_string_equal(drain(f), "<6>broker: file a\\x0a<3>forged\\x1b[0m\\x5c\\xff\n");
}

static void
test_log_truncates_long_lines(void **state)
{
        struct pipe_fixture *f = *state;
        char big[3 * MKD_LOG_LINE_MAX];
        const char *out;
        size_t n;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        mkd_log_info("%s", big);
        out = drain(f);
        n = strlen(out);
        assert_true(n <= MKD_LOG_LINE_MAX);
        assert_true(n > MKD_LOG_LINE_MAX / 2);
        assert_memory_equal(out, "<6>broker: aaa", 14);
        assert_string_equal(out + n - 4, "...\n");
        /* Escapes are never cut in half. */
        memset(big, '\n', 2 * MKD_LOG_LINE_MAX);
        big[2 * MKD_LOG_LINE_MAX] = '\0';
        mkd_log_info("%s", big);
        out = drain(f);
        n = strlen(out);
        assert_true(n <= MKD_LOG_LINE_MAX);
        assert_string_equal(out + n - 8, "\\x0a...\n");
}

static void
test_log_code_names_the_error(void **state)
{
        struct pipe_fixture *f = *state;

        mkd_log_code(MKD_LOG_ERR, MLS_E_TRUNCATED, "frame from %s", "engine");
        assert_string_equal(drain(f), "<3>broker: frame from engine: input ended early (MLS_E_TRUNCATED)\n");
        mkd_log_code(MKD_LOG_ERR, -9999, "odd");
        assert_string_equal(drain(f), "<3>broker: odd: unknown error code -9999\n");
        mkd_log_set_level(MKD_LOG_ERR);
        mkd_log_code(MKD_LOG_INFO, MLS_E_TRUNCATED, "dropped");
        assert_string_equal(drain(f), "");
}

static void
test_log_preserves_errno(void **state)
{
        struct pipe_fixture *f = *state;

        errno = EAGAIN;
        mkd_log_info("x");
        assert_int_equal(errno, EAGAIN);
        errno = ENOENT;
        mkd_log_code(MKD_LOG_ERR, MLS_E_STORAGE, "y");
        assert_int_equal(errno, ENOENT);
        (void)drain(f);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_log_priority_prefixes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_process_tags, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_level_filters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_escapes_control_characters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_truncates_long_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_code_names_the_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_preserves_errno, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
