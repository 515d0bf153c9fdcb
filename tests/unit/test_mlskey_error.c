/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmlskey's error enum against the engine's table: every external name
 * of mls/error.h maps to an enum mlskey_error value (and back), the
 * library has no daemon name the engine lacks, values are unique and
 * stable, and D-Bus names of the bus map as documented. The test reads
 * mls/error.h's table as a macro; the library itself never includes it.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mls/error.h"
#include "client-lib/mlskey.h"
#include "client-lib/mlskey-internal.h"

struct engine_row {
        const char *cname;
        int value;
        const char *ext;
};

#define ENGINE_ROW_(name, val, ext, text) { #name, val, ext },
static const struct engine_row engine_rows[] = { MLS_ERRORS(ENGINE_ROW_) };
#undef ENGINE_ROW_

struct lib_row {
        int value;
        const char *name;
        int daemon;
};

#define LIB_ROW_(cname, val, name, daemon, text) { val, name, daemon },
static const struct lib_row lib_rows[] = { MLSKEY_ERRORS(LIB_ROW_) };
#undef LIB_ROW_

#define N_ENGINE (sizeof(engine_rows) / sizeof(engine_rows[0]))
#define N_LIB (sizeof(lib_rows) / sizeof(lib_rows[0]))

static void
test_error_every_engine_name_maps(void **state)
{
        (void)state;
        for (size_t i = 0; i < N_ENGINE; i++) {
                char dbus_name[256];
                int code;

                snprintf(dbus_name, sizeof(dbus_name), "%s%s", MLSKEY_ERROR_PREFIX,
                         engine_rows[i].ext);
                code = mlskey_error_from_dbus_name(dbus_name);
                /* A new external name in mls/error.h fails here until the
                 * library's table gets the row. */
                if (code == MLSKEY_ERROR_UNKNOWN)
                        fail_msg("%s (%s) has no enum mlskey_error value", engine_rows[i].cname,
                                 dbus_name);
                assert_true(code < 0);
                assert_string_equal(mlskey_error_name(code), engine_rows[i].ext);
                assert_non_null(mlskey_error_text(code));
        }
}

static void
test_error_every_daemon_row_is_an_engine_name(void **state)
{
        (void)state;
        for (size_t i = 0; i < N_LIB; i++) {
                bool found = false;

                for (size_t j = 0; j < N_ENGINE; j++)
                        found = found || strcmp(lib_rows[i].name, engine_rows[j].ext) == 0;
                if (lib_rows[i].daemon && !found)
                        fail_msg("daemon row %s is not an external name of mls/error.h",
                                 lib_rows[i].name);
                /* Library rows must not shadow a daemon name. */
                if (!lib_rows[i].daemon && found)
                        fail_msg("library row %s collides with a daemon name", lib_rows[i].name);
        }
}

static void
test_error_values_unique_and_named(void **state)
{
        (void)state;
        for (size_t i = 0; i < N_LIB; i++) {
                assert_true(lib_rows[i].value < 0);
                /* daemon rows -1..-999, library rows -1000.. */
                assert_true(lib_rows[i].daemon ? lib_rows[i].value > -1000
                                               : lib_rows[i].value <= -1000);
                assert_string_equal(mlskey_error_name(lib_rows[i].value), lib_rows[i].name);
                for (size_t j = 0; j < i; j++) {
                        assert_int_not_equal(lib_rows[i].value, lib_rows[j].value);
                        assert_string_not_equal(lib_rows[i].name, lib_rows[j].name);
                }
        }
        assert_string_equal(mlskey_error_name(0), "OK");
        assert_null(mlskey_error_name(-999));
        assert_null(mlskey_error_text(12345));
}

/* The ABI: a few values pinned, so a reordering of the table fails. */
static void
test_error_values_stable(void **state)
{
        (void)state;
        assert_int_equal(MLSKEY_ERROR_TRUNCATED, -1);
        assert_int_equal(MLSKEY_ERROR_INVALID_ARGUMENT, -7);
        assert_int_equal(MLSKEY_ERROR_WRONG_EPOCH, -14);
        assert_int_equal(MLSKEY_ERROR_NOT_FOUND, -35);
        assert_int_equal(MLSKEY_ERROR_GROUP_EXISTS, -47);
        assert_int_equal(MLSKEY_ERROR_UNKNOWN, -1000);
        assert_int_equal(MLSKEY_ERROR_TIMEOUT, -1001);
        assert_int_equal(MLSKEY_ERROR_DBUS, -1008);
}

static void
test_error_unknown_and_bus_names(void **state)
{
        static const struct {
                const char *name;
                int code;
        } cases[] = {
                { "org.mlskeyd.Error.NoSuchThing", MLSKEY_ERROR_UNKNOWN },
                /* library-only names are not daemon errors */
                { "org.mlskeyd.Error.Timeout", MLSKEY_ERROR_UNKNOWN },
                { "org.mlskeyd.Error.", MLSKEY_ERROR_UNKNOWN },
                { "org.mlskeyd.Error.wrongepoch", MLSKEY_ERROR_UNKNOWN },
                { "org.mlskeyd.ErrorWrongEpoch", MLSKEY_ERROR_UNKNOWN },
                { "com.example.Error.WrongEpoch", MLSKEY_ERROR_UNKNOWN },
                { "", MLSKEY_ERROR_UNKNOWN },
                { "org.freedesktop.DBus.Error.ServiceUnknown", MLSKEY_ERROR_NO_DAEMON },
                { "org.freedesktop.DBus.Error.NameHasNoOwner", MLSKEY_ERROR_NO_DAEMON },
                { "org.freedesktop.DBus.Error.NoReply", MLSKEY_ERROR_TIMEOUT },
                { "org.freedesktop.DBus.Error.Timeout", MLSKEY_ERROR_TIMEOUT },
                { "org.freedesktop.DBus.Error.Disconnected", MLSKEY_ERROR_DISCONNECTED },
                { "org.freedesktop.DBus.Error.UnknownMethod", MLSKEY_ERROR_UNKNOWN_METHOD },
                { "org.freedesktop.DBus.Error.UnknownProperty", MLSKEY_ERROR_UNKNOWN_METHOD },
                { "org.freedesktop.DBus.Error.UnknownObject", MLSKEY_ERROR_NOT_FOUND },
                { "org.freedesktop.DBus.Error.AccessDenied", MLSKEY_ERROR_ACCESS_DENIED },
                { "org.freedesktop.DBus.Error.InvalidArgs", MLSKEY_ERROR_INVALID_ARGUMENT },
                { "org.freedesktop.DBus.Error.LimitsExceeded", MLSKEY_ERROR_TOO_LARGE },
                { "org.freedesktop.DBus.Error.Spawn.Failed", MLSKEY_ERROR_DBUS },
        };

        (void)state;
        assert_int_equal(mlskey_error_from_dbus_name(NULL), MLSKEY_ERROR_UNKNOWN);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                if (mlskey_error_from_dbus_name(cases[i].name) != cases[i].code)
                        fail_msg("%s -> %d, expected %d", cases[i].name,
                                 mlskey_error_from_dbus_name(cases[i].name), cases[i].code);
}

/* A NoReply before the deadline is a peer that vanished, not a timeout. */
static void
test_error_no_reply_refined_by_clock(void **state)
{
        DBusError e;

        (void)state;
        dbus_error_init(&e);
        dbus_set_error_const(&e, DBUS_ERROR_NO_REPLY, "gone");
        assert_int_equal(mlskey_fail_dbus_(&e, true), MLSKEY_ERROR_TIMEOUT);
        assert_int_equal(mlskey_fail_dbus_(&e, false), MLSKEY_ERROR_NO_REPLY);
        assert_string_equal(mlskey_last_error()->name, DBUS_ERROR_NO_REPLY);
        assert_string_equal(mlskey_last_error()->message, "gone");
        dbus_error_free(&e);
        dbus_set_error_const(&e, "org.mlskeyd.Error.WrongEpoch", "");
        assert_int_equal(mlskey_fail_dbus_(&e, false), MLSKEY_ERROR_WRONG_EPOCH);
        /* An empty daemon sentence falls back to the table's. */
        assert_string_equal(mlskey_last_error()->message, "message is for a different epoch");
        dbus_error_free(&e);
        assert_int_equal(mlskey_ok_(), 0);
        assert_int_equal(mlskey_last_error()->code, 0);
        assert_string_equal(mlskey_last_error()->name, "");
}

/* Over-long names and messages are cut, never overflow. */
static void
test_error_info_truncates(void **state)
{
        char longname[600], longmsg[1200];
        DBusError e;

        (void)state;
        memset(longname, 'A', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        memcpy(longname, "org.x.", 6);
        memset(longmsg, 'm', sizeof(longmsg) - 1);
        longmsg[sizeof(longmsg) - 1] = '\0';
        dbus_error_init(&e);
        dbus_set_error_const(&e, longname, longmsg);
        assert_int_equal(mlskey_fail_dbus_(&e, false), MLSKEY_ERROR_UNKNOWN);
        assert_int_equal(strlen(mlskey_last_error()->name), sizeof(mlskey_last_error()->name) - 1);
        assert_int_equal(strlen(mlskey_last_error()->message),
                         sizeof(mlskey_last_error()->message) - 1);
        dbus_error_free(&e);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_every_engine_name_maps),
                cmocka_unit_test(test_error_every_daemon_row_is_an_engine_name),
                cmocka_unit_test(test_error_values_unique_and_named),
                cmocka_unit_test(test_error_values_stable),
                cmocka_unit_test(test_error_unknown_and_bus_names),
                cmocka_unit_test(test_error_no_reply_refined_by_clock),
                cmocka_unit_test(test_error_info_truncates),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
