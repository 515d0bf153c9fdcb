/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client object: a private libdbus connection, a mutex, a timeout; and
 * the call machinery every method uses (argument checks, blocking call,
 * error mapping, reply signature check, byte-array marshalling).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "client-lib/mlskey-internal.h"

void
mlskey_wipe_(void *p, size_t len)
{
        if (p && len)
                explicit_bzero(p, len);
}

/* ---- objects ---- */

static int
client_init(struct mlskey_client **ret_client, DBusConnection *conn)
{
        struct mlskey_client *c = calloc(1, sizeof(*c));

        if (!c)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        if (pthread_mutex_init(&c->lock, NULL) != 0) {
                free(c);
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "cannot create a mutex");
        }
        /* An application library must never end the process. */
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        c->conn = conn;
        c->timeout_ms = MLSKEY_DEFAULT_TIMEOUT_MS;
        c->next_sub_id = 1;
        *ret_client = c;
        return mlskey_ok_();
}

static void
close_conn(DBusConnection *conn)
{
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
}

_public_ int
mlskey_client_new(enum mlskey_bus bus, struct mlskey_client **ret_client)
{
        DBusError err;
        DBusConnection *conn;
        DBusBusType type;
        int r;

        switch (bus) {
        case MLSKEY_BUS_SESSION:
                type = DBUS_BUS_SESSION;
                break;
        case MLSKEY_BUS_SYSTEM:
                type = DBUS_BUS_SYSTEM;
                break;
        default:
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "unknown bus %d", (int)bus);
        }
        if (!ret_client)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "ret_client is NULL");
        if (!dbus_threads_init_default())
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "cannot initialise libdbus threads");
        dbus_error_init(&err);
        /* Private: the client closes it, and its messages never mix with an
         * application's shared connection. */
        conn = dbus_bus_get_private(type, &err);
        if (!conn) {
                r = mlskey_fail_(MLSKEY_ERROR_NO_BUS, "cannot connect to the %s bus: %s",
                                 bus == MLSKEY_BUS_SYSTEM ? "system" : "session",
                                 err.message ? err.message : "unknown reason");
                dbus_error_free(&err);
                return r;
        }
        r = client_init(ret_client, conn);
        if (r < 0)
                close_conn(conn);
        return r;
}

_public_ int
mlskey_client_new_address(const char *address, struct mlskey_client **ret_client)
{
        DBusError err;
        DBusConnection *conn;
        int r;

        if (!address || !*address)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "empty bus address");
        if (!ret_client)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "ret_client is NULL");
        if (!dbus_threads_init_default())
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "cannot initialise libdbus threads");
        dbus_error_init(&err);
        conn = dbus_connection_open_private(address, &err);
        if (!conn) {
                r = mlskey_fail_(MLSKEY_ERROR_NO_BUS, "cannot connect to %s: %s", address,
                                 err.message ? err.message : "unknown reason");
                dbus_error_free(&err);
                return r;
        }
        if (!dbus_bus_register(conn, &err)) {
                r = mlskey_fail_(MLSKEY_ERROR_NO_BUS, "cannot register with the bus at %s: %s",
                                 address, err.message ? err.message : "unknown reason");
                dbus_error_free(&err);
                close_conn(conn);
                return r;
        }
        r = client_init(ret_client, conn);
        if (r < 0)
                close_conn(conn);
        return r;
}

_public_ void
mlskey_client_free(struct mlskey_client *c)
{
        if (!c)
                return;
        mlskey_signals_free_(c);
        close_conn(c->conn);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

_public_ int
mlskey_client_set_timeout(struct mlskey_client *c, int timeout_ms)
{
        if (!c || timeout_ms <= 0)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT,
                                    "timeout must be 1..%d ms", INT_MAX);
        pthread_mutex_lock(&c->lock);
        c->timeout_ms = timeout_ms;
        pthread_mutex_unlock(&c->lock);
        return mlskey_ok_();
}

_public_ int
mlskey_client_get_timeout(struct mlskey_client *c)
{
        int t;

        pthread_mutex_lock(&c->lock);
        t = c->timeout_ms;
        pthread_mutex_unlock(&c->lock);
        return t;
}

_public_ const char *
mlskey_client_unique_name(struct mlskey_client *c)
{
        return dbus_bus_get_unique_name(c->conn);
}

/* ---- memory of results ---- */

_public_ void
mlskey_buf_clear(struct mlskey_buf *b)
{
        if (!b)
                return;
        if (b->priv_)
                dbus_message_unref(b->priv_);
        memset(b, 0, sizeof(*b));
}

_public_ void
mlskey_buf_list_clear(struct mlskey_buf_list *l)
{
        if (!l)
                return;
        free(l->items);
        if (l->priv_)
                dbus_message_unref(l->priv_);
        memset(l, 0, sizeof(*l));
}

_public_ void
mlskey_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

_public_ void
mlskey_secret_free(struct mlskey_secret *s)
{
        if (!s)
                return;
        mlskey_wipe_(s->data, s->len);
        free(s);
}

void
mlskey_buf_set_(struct mlskey_buf *b, DBusMessage *reply, const struct mlskey_data *d)
{
        b->data = d->data;
        b->len = d->len;
        b->priv_ = dbus_message_ref(reply);
}

/* ---- argument checks ---- */

int
mlskey_check_path_(const char *path)
{
        DBusError err;
        int r;

        if (!path)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "object path is NULL");
        dbus_error_init(&err);
        /* libdbus aborts the process on an invalid path it is handed, so
         * every path is checked here first. */
        if (!dbus_validate_path(path, &err)) {
                r = mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "invalid object path \"%.64s\": %s",
                                 path, err.message ? err.message : "");
                dbus_error_free(&err);
                return r;
        }
        return 0;
}

int
mlskey_check_string_(const char *what, const char *s)
{
        DBusError err;
        int r;

        if (!s)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "%s is NULL", what);
        dbus_error_init(&err);
        if (!dbus_validate_utf8(s, &err)) {
                r = mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "%s is not valid UTF-8", what);
                dbus_error_free(&err);
                return r;
        }
        return 0;
}

/* ---- marshalling ---- */

int
mlskey_append_basic_(DBusMessageIter *it, int type, const void *v)
{
        if (!dbus_message_iter_append_basic(it, type, v))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        return 0;
}

int
mlskey_append_bytes_(DBusMessageIter *it, const uint8_t *data, size_t len)
{
        DBusMessageIter arr;
        static const uint8_t empty[1];
        const uint8_t *p = data ? data : empty;

        if (!data && len)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL data with length %zu", len);
        /* libdbus aborts on an over-long array: refuse it here. */
        if (len > MLSKEY_MAX_ARRAY)
                return mlskey_fail_(MLSKEY_ERROR_TOO_LARGE,
                                    "%zu bytes exceed the D-Bus array limit of %u", len,
                                    MLSKEY_MAX_ARRAY);
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE_AS_STRING, &arr))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        /* Straight from the caller's buffer into the message. */
        if (!dbus_message_iter_append_fixed_array(&arr, DBUS_TYPE_BYTE, &p, (int)len)) {
                dbus_message_iter_abandon_container(it, &arr);
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        }
        if (!dbus_message_iter_close_container(it, &arr))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        return 0;
}

int
mlskey_append_bytes_array_(DBusMessageIter *it, const struct mlskey_data *items, size_t n)
{
        DBusMessageIter arr;
        size_t total = 0;

        if (!items && n)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL array with %zu items", n);
        /* Each element costs a 4-byte length (aligned) plus its bytes. */
        for (size_t i = 0; i < n; i++) {
                if (!items[i].data && items[i].len)
                        return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT,
                                            "item %zu: NULL data with length %zu", i, items[i].len);
                if (items[i].len > MLSKEY_MAX_ARRAY || total > MLSKEY_MAX_ARRAY)
                        return mlskey_fail_(MLSKEY_ERROR_TOO_LARGE,
                                            "byte arrays exceed the D-Bus array limit");
                total += 8 + items[i].len;
        }
        if (total > MLSKEY_MAX_ARRAY)
                return mlskey_fail_(MLSKEY_ERROR_TOO_LARGE,
                                    "%zu bytes of byte arrays exceed the D-Bus array limit of %u",
                                    total, MLSKEY_MAX_ARRAY);
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY,
                                              DBUS_TYPE_ARRAY_AS_STRING DBUS_TYPE_BYTE_AS_STRING,
                                              &arr))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++) {
                int r = mlskey_append_bytes_(&arr, items[i].data, items[i].len);

                if (r < 0) {
                        dbus_message_iter_abandon_container(it, &arr);
                        return r;
                }
        }
        if (!dbus_message_iter_close_container(it, &arr))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        return 0;
}

int
mlskey_append_u32_array_(DBusMessageIter *it, const uint32_t *v, size_t n)
{
        DBusMessageIter arr;
        static const uint32_t empty[1];
        const uint32_t *p = v ? v : empty;

        if (!v && n)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL array with %zu items", n);
        if (n > MLSKEY_MAX_ARRAY / 4)
                return mlskey_fail_(MLSKEY_ERROR_TOO_LARGE, "too many integers (%zu)", n);
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, DBUS_TYPE_UINT32_AS_STRING, &arr))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        if (!dbus_message_iter_append_fixed_array(&arr, DBUS_TYPE_UINT32, &p, (int)n)) {
                dbus_message_iter_abandon_container(it, &arr);
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        }
        if (!dbus_message_iter_close_container(it, &arr))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        return 0;
}

void
mlskey_read_bytes_(DBusMessageIter *it, struct mlskey_data *ret)
{
        DBusMessageIter arr;
        const uint8_t *p = NULL;
        int n = 0;

        dbus_message_iter_recurse(it, &arr);
        dbus_message_iter_get_fixed_array(&arr, &p, &n);
        ret->data = n > 0 ? p : NULL;
        ret->len = n > 0 ? (size_t)n : 0;
        dbus_message_iter_next(it);
}

int
mlskey_read_strdup_(DBusMessageIter *it, char **ret)
{
        const char *s = NULL;
        char *copy;

        dbus_message_iter_get_basic(it, &s);
        copy = strdup(s ? s : "");
        if (!copy)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        dbus_message_iter_next(it);
        *ret = copy;
        return 0;
}

/* ---- calls ---- */

int
mlskey_new_call_(const char *path, const char *iface, const char *method, DBusMessage **ret_msg)
{
        DBusMessage *m;

        MLSKEY_TRY(mlskey_check_path_(path));
        m = dbus_message_new_method_call(MLSKEY_BUS_NAME, path, iface, method);
        if (!m)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        *ret_msg = m;
        return 0;
}

static int64_t
now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
mlskey_call_(struct mlskey_client *c, DBusMessage *m, const char *reply_sig,
             DBusMessage **ret_reply)
{
        DBusError err;
        DBusMessage *reply;
        int64_t start;
        int timeout, r;

        if (!c)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "client is NULL");
        dbus_error_init(&err);
        pthread_mutex_lock(&c->lock);
        timeout = c->timeout_ms;
        start = now_ms();
        reply = dbus_connection_send_with_reply_and_block(c->conn, m, timeout, &err);
        /* Signals that arrived meanwhile move to the bounded event queue;
         * nothing else may pile up in libdbus's incoming queue. */
        mlskey_drain_incoming_(c);
        pthread_mutex_unlock(&c->lock);
        if (!reply) {
                if (dbus_error_is_set(&err))
                        r = mlskey_fail_dbus_(&err, now_ms() - start >= (int64_t)timeout - 5);
                else if (!dbus_connection_get_is_connected(c->conn))
                        r = mlskey_fail_(MLSKEY_ERROR_DISCONNECTED, "%s",
                                         mlskey_error_text(MLSKEY_ERROR_DISCONNECTED));
                else
                        r = mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                dbus_error_free(&err);
                return r;
        }
        if (!dbus_message_has_signature(reply, reply_sig)) {
                r = mlskey_fail_(MLSKEY_ERROR_BAD_REPLY, "%s.%s: reply has signature \"%s\", not \"%s\"",
                                 dbus_message_get_interface(m), dbus_message_get_member(m),
                                 dbus_message_get_signature(reply), reply_sig);
                dbus_message_unref(reply);
                return r;
        }
        *ret_reply = reply;
        return mlskey_ok_();
}

int
mlskey_call_void_(struct mlskey_client *c, const char *path, const char *iface,
                  const char *method)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;

        MLSKEY_TRY(mlskey_new_call_(path, iface, method, &m));
        return mlskey_call_(c, m, "", &reply);
}

int
mlskey_get_property_(struct mlskey_client *c, const char *path, const char *iface,
                     const char *prop, const char *sig, DBusMessage **ret_reply,
                     DBusMessageIter *ret_it)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        _mlskey_free_ char *got = NULL;
        DBusMessageIter it, var;

        MLSKEY_TRY(mlskey_check_path_(path));
        m = dbus_message_new_method_call(MLSKEY_BUS_NAME, path, DBUS_INTERFACE_PROPERTIES, "Get");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
                                            DBUS_TYPE_INVALID))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        MLSKEY_TRY(mlskey_call_(c, m, "v", &reply));
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_recurse(&it, &var);
        got = dbus_message_iter_get_signature(&var);
        if (!got)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        if (strcmp(got, sig) != 0)
                return mlskey_fail_(MLSKEY_ERROR_BAD_REPLY, "property %s.%s has type \"%s\", not \"%s\"",
                                    iface, prop, got, sig);
        *ret_it = var;
        *ret_reply = MLSKEY_TAKE(reply);
        return 0;
}

int
mlskey_get_all_(struct mlskey_client *c, const char *path, const char *iface,
                struct mlskey_dict *ret)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;

        MLSKEY_TRY(mlskey_check_path_(path));
        m = dbus_message_new_method_call(MLSKEY_BUS_NAME, path, DBUS_INTERFACE_PROPERTIES, "GetAll");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        MLSKEY_TRY(mlskey_call_(c, m, "a{sv}", &reply));
        dbus_message_iter_init(reply, &it);
        return mlskey_dict_decode_(reply, &it, ret);
}

int
mlskey_get_bytes_prop_(struct mlskey_client *c, const char *path, const char *iface,
                       const char *prop, struct mlskey_buf *ret)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter var;
        struct mlskey_data d;

        if (!ret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_property_(c, path, iface, prop, "ay", &reply, &var));
        mlskey_read_bytes_(&var, &d);
        mlskey_buf_set_(ret, reply, &d);
        return 0;
}

int
mlskey_get_basic_prop_(struct mlskey_client *c, const char *path, const char *iface,
                       const char *prop, const char *sig, void *ret)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter var;

        if (!ret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_property_(c, path, iface, prop, sig, &reply, &var));
        if (strcmp(sig, "b") == 0) {
                dbus_bool_t b;

                dbus_message_iter_get_basic(&var, &b);
                *(bool *)ret = b != 0;
        } else {
                dbus_message_iter_get_basic(&var, ret);
        }
        return 0;
}

int
mlskey_call_ret_bytes_(struct mlskey_client *c, DBusMessage *m, struct mlskey_buf *ret)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;
        struct mlskey_data d;

        MLSKEY_TRY(mlskey_call_(c, m, "ay", &reply));
        dbus_message_iter_init(reply, &it);
        mlskey_read_bytes_(&it, &d);
        mlskey_buf_set_(ret, reply, &d);
        return 0;
}

int
mlskey_call_ret_path_(struct mlskey_client *c, DBusMessage *m, char **ret)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;

        MLSKEY_TRY(mlskey_call_(c, m, "o", &reply));
        dbus_message_iter_init(reply, &it);
        return mlskey_read_strdup_(&it, ret);
}

int
mlskey_call_ret_two_bytes_(struct mlskey_client *c, DBusMessage *m, struct mlskey_buf *ret_a,
                           struct mlskey_buf *ret_b)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;
        struct mlskey_data a, b;

        MLSKEY_TRY(mlskey_call_(c, m, "ayay", &reply));
        dbus_message_iter_init(reply, &it);
        mlskey_read_bytes_(&it, &a);
        mlskey_read_bytes_(&it, &b);
        mlskey_buf_set_(ret_a, reply, &a);
        mlskey_buf_set_(ret_b, reply, &b);
        return 0;
}

int
mlskey_call_ret_path_bytes_(struct mlskey_client *c, DBusMessage *m, char **ret_path,
                            struct mlskey_buf *ret_bytes)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;
        struct mlskey_data d;
        char *path;

        MLSKEY_TRY(mlskey_call_(c, m, "oay", &reply));
        dbus_message_iter_init(reply, &it);
        MLSKEY_TRY(mlskey_read_strdup_(&it, &path));
        mlskey_read_bytes_(&it, &d);
        *ret_path = path;
        mlskey_buf_set_(ret_bytes, reply, &d);
        return 0;
}
