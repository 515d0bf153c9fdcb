/* SPDX-License-Identifier: Apache-2.0 */
/* The error table: every value has a unique C name, an external name that
 * is a valid D-Bus error-name element, and a sentence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <ctype.h>
#include <cmocka.h>

#include "mls/error.h"

#define ROW_VAL_(name, val, ext, text) val,
static const int values[] = { MLS_ERRORS(ROW_VAL_) };

static void
test_error_table_complete_and_unique(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                const char *n = mls_err_name(values[i]);
                const char *ext = mls_err_ext_name(values[i]);
                const char *t = mls_err_text(values[i]);

                assert_non_null(n);
                assert_true(strncmp(n, "MLS_E_", 6) == 0);
                /* values are dense and negative: append-only from -1 */
                assert_int_equal(values[i], -(int)(i + 1));
                assert_true(strlen(t) > 5);
                /* D-Bus name element: [A-Za-z_][A-Za-z0-9_]* */
                assert_true(isupper((unsigned char)ext[0]));
                for (const char *p = ext; *p; p++)
                        assert_true(isalnum((unsigned char)*p));
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(n, mls_err_name(values[j]));
        }
}

static void
test_error_unknown_value(void **state)
{
        (void)state;
        assert_null(mls_err_name(-100000));
        assert_string_equal(mls_err_ext_name(-100000), "InternalError");
        assert_string_equal(mls_err_name(MLS_OK), "MLS_OK");
        assert_string_equal(mls_err_ext_name(MLS_E_TRUNCATED), "Truncated");
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_table_complete_and_unique),
                cmocka_unit_test(test_error_unknown_value),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
