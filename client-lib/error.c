/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors of libmlskey: the table of mlskey.h, D-Bus error names to values,
 * and the per-thread record of the last result.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client-lib/mlskey-internal.h"

/* errno-like: one record per thread, so threads sharing a client never
 * read each other's errors. */
static __thread struct mlskey_error_info last_error;

_public_ const struct mlskey_error_info *
mlskey_last_error(void)
{
        return &last_error;
}

_public_ const char *
mlskey_error_name(int code)
{
#define NAME_CASE_(cname, val, name, daemon, text) \
        case cname:                                \
                return name;
        switch ((enum mlskey_error)code) {
        case MLSKEY_OK:
                return "OK";
                MLSKEY_ERRORS(NAME_CASE_)
        }
#undef NAME_CASE_
        return NULL;
}

_public_ const char *
mlskey_error_text(int code)
{
#define TEXT_CASE_(cname, val, name, daemon, text) \
        case cname:                                \
                return text;
        switch ((enum mlskey_error)code) {
        case MLSKEY_OK:
                return "success";
                MLSKEY_ERRORS(TEXT_CASE_)
        }
#undef TEXT_CASE_
        return NULL;
}

struct name_row {
        const char *name;
        int code;
};

/* The daemon's external names (rows with daemon = 1 only: a daemon that
 * sent "org.mlskeyd.Error.Timeout" sent something unknown). */
#define DAEMON_ROW_(cname, val, name, daemon, text) { (daemon) ? name : NULL, cname },
static const struct name_row daemon_names[] = { MLSKEY_ERRORS(DAEMON_ROW_) };
#undef DAEMON_ROW_

/* The bus's and libdbus's own errors (org.freedesktop.DBus.Error.*). */
static const struct name_row bus_names[] = {
        { "ServiceUnknown", MLSKEY_ERROR_NO_DAEMON },
        { "NameHasNoOwner", MLSKEY_ERROR_NO_DAEMON },
        { "NoReply", MLSKEY_ERROR_TIMEOUT },
        { "Timeout", MLSKEY_ERROR_TIMEOUT },
        { "TimedOut", MLSKEY_ERROR_TIMEOUT },
        { "Disconnected", MLSKEY_ERROR_DISCONNECTED },
        { "NoServer", MLSKEY_ERROR_NO_BUS },
        { "UnknownMethod", MLSKEY_ERROR_UNKNOWN_METHOD },
        { "UnknownInterface", MLSKEY_ERROR_UNKNOWN_METHOD },
        { "UnknownProperty", MLSKEY_ERROR_UNKNOWN_METHOD },
        { "UnknownObject", MLSKEY_ERROR_NOT_FOUND },
        { "AccessDenied", MLSKEY_ERROR_ACCESS_DENIED },
        { "NoMemory", MLSKEY_ERROR_OUT_OF_MEMORY },
        { "InvalidArgs", MLSKEY_ERROR_INVALID_ARGUMENT },
        { "LimitsExceeded", MLSKEY_ERROR_TOO_LARGE },
};

static int
lookup(const struct name_row *rows, size_t n, const char *name, int fallback)
{
        for (size_t i = 0; i < n; i++)
                if (rows[i].name && strcmp(rows[i].name, name) == 0)
                        return rows[i].code;
        return fallback;
}

_public_ int
mlskey_error_from_dbus_name(const char *dbus_name)
{
        static const char bus_prefix[] = "org.freedesktop.DBus.Error.";

        if (!dbus_name)
                return MLSKEY_ERROR_UNKNOWN;
        if (strncmp(dbus_name, MLSKEY_ERROR_PREFIX, strlen(MLSKEY_ERROR_PREFIX)) == 0)
                return lookup(daemon_names, sizeof(daemon_names) / sizeof(daemon_names[0]),
                              dbus_name + strlen(MLSKEY_ERROR_PREFIX), MLSKEY_ERROR_UNKNOWN);
        if (strncmp(dbus_name, bus_prefix, strlen(bus_prefix)) == 0)
                return lookup(bus_names, sizeof(bus_names) / sizeof(bus_names[0]),
                              dbus_name + strlen(bus_prefix), MLSKEY_ERROR_DBUS);
        return MLSKEY_ERROR_UNKNOWN;
}

static void
copy_trunc(char *dst, size_t cap, const char *src)
{
        size_t n = src ? strlen(src) : 0;

        if (n >= cap)
                n = cap - 1;
        if (n)
                memcpy(dst, src, n);
        dst[n] = '\0';
}

int
mlskey_ok_(void)
{
        last_error.code = 0;
        last_error.name[0] = '\0';
        last_error.message[0] = '\0';
        return 0;
}

int
mlskey_fail_(int code, const char *fmt, ...)
{
        va_list ap;

        last_error.code = code;
        last_error.name[0] = '\0';
        va_start(ap, fmt);
        (void)vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
        va_end(ap);
        return code;
}

int
mlskey_fail_dbus_(const DBusError *e, bool timeout_expired)
{
        int code = mlskey_error_from_dbus_name(e->name);

        /* libdbus reports its own timeout and a peer that vanished without
         * answering with the same name; the clock tells them apart. */
        if (code == MLSKEY_ERROR_TIMEOUT && !timeout_expired &&
            strcmp(e->name, DBUS_ERROR_NO_REPLY) == 0)
                code = MLSKEY_ERROR_NO_REPLY;
        last_error.code = code;
        copy_trunc(last_error.name, sizeof(last_error.name), e->name);
        copy_trunc(last_error.message, sizeof(last_error.message),
                   e->message && *e->message ? e->message : mlskey_error_text(code));
        return code;
}
