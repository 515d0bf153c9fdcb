/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The options builder: a typed list of (key, value) pairs marshalled as an
 * a{sv} when a call is made. Values are copied in (they are small); the
 * first failure is sticky so callers may check only the method call.
 */
#include "config.h"

#include <string.h>

#include "client-lib/mlskey-internal.h"

/* A dictionary the daemon would take is far smaller; this bounds a runaway
 * caller before libdbus's own limits do. */
#define OPTS_MAX_KEYS 256

struct opt {
        char *key;
        int type; /* DBUS_TYPE_BOOLEAN, _UINT16, _UINT32, _UINT64, _STRING, or
                   * 'A' (ay), 'B' (aay), 'C' (au) */
        union {
                dbus_bool_t b;
                uint16_t q;
                uint32_t u;
                uint64_t t;
                char *s;
                struct {
                        uint8_t *data;
                        size_t len;
                } ay;
                struct {
                        struct mlskey_data *items; /* each data malloc'd */
                        size_t n;
                } aay;
                struct {
                        uint32_t *v;
                        size_t n;
                } au;
        } v;
};

#define OPT_BYTES 'A'
#define OPT_BYTES_ARRAY 'B'
#define OPT_U32_ARRAY 'C'

struct mlskey_opts {
        struct opt *items;
        size_t n, cap;
        int error; /* sticky: the first failure */
};

_public_ int
mlskey_opts_new(struct mlskey_opts **ret_opts)
{
        struct mlskey_opts *o;

        if (!ret_opts)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "ret_opts is NULL");
        o = calloc(1, sizeof(*o));
        if (!o)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        *ret_opts = o;
        return mlskey_ok_();
}

static void
opt_free(struct opt *e)
{
        free(e->key);
        switch (e->type) {
        case DBUS_TYPE_STRING:
                free(e->v.s);
                break;
        case OPT_BYTES:
                /* Option values may be PSK ids or other semi-private bytes. */
                mlskey_wipe_(e->v.ay.data, e->v.ay.len);
                free(e->v.ay.data);
                break;
        case OPT_BYTES_ARRAY:
                for (size_t i = 0; i < e->v.aay.n; i++) {
                        mlskey_wipe_((void *)e->v.aay.items[i].data, e->v.aay.items[i].len);
                        free((void *)e->v.aay.items[i].data);
                }
                free(e->v.aay.items);
                break;
        case OPT_U32_ARRAY:
                free(e->v.au.v);
                break;
        default:
                break;
        }
        memset(e, 0, sizeof(*e));
}

_public_ void
mlskey_opts_clear(struct mlskey_opts *o)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->n; i++)
                opt_free(&o->items[i]);
        o->n = 0;
        o->error = 0;
}

_public_ void
mlskey_opts_free(struct mlskey_opts *o)
{
        if (!o)
                return;
        mlskey_opts_clear(o);
        free(o->items);
        free(o);
}

_public_ size_t
mlskey_opts_count(const struct mlskey_opts *o)
{
        return o ? o->n : 0;
}

_public_ int
mlskey_opts_error(const struct mlskey_opts *o)
{
        return o ? o->error : 0;
}

static int
sticky(struct mlskey_opts *o, int r)
{
        if (o && r < 0 && o->error == 0)
                o->error = r;
        return r;
}

/* Validates the key and reserves a slot; the caller fills the value and
 * keeps the slot only on success (o->n++). */
static int
opt_slot(struct mlskey_opts *o, const char *key, struct opt **ret)
{
        struct opt *e;
        char *k;

        if (!o)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "options builder is NULL");
        if (o->error)
                return mlskey_fail_(o->error, "an earlier option failed: %s",
                                    mlskey_error_text(o->error));
        if (!key || !*key)
                return sticky(o, mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "empty option key"));
        if (mlskey_check_string_("option key", key) < 0)
                return sticky(o, MLSKEY_ERROR_INVALID_ARGUMENT);
        for (size_t i = 0; i < o->n; i++)
                if (strcmp(o->items[i].key, key) == 0)
                        return sticky(o, mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT,
                                                      "option \"%.64s\" given twice", key));
        if (o->n >= OPTS_MAX_KEYS)
                return sticky(o, mlskey_fail_(MLSKEY_ERROR_TOO_LARGE, "more than %d options",
                                              OPTS_MAX_KEYS));
        if (o->n == o->cap) {
                size_t cap = o->cap ? o->cap * 2 : 8;
                struct opt *items = realloc(o->items, cap * sizeof(*items));

                if (!items)
                        return sticky(o, mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory"));
                o->items = items;
                o->cap = cap;
        }
        k = strdup(key);
        if (!k)
                return sticky(o, mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory"));
        e = &o->items[o->n];
        memset(e, 0, sizeof(*e));
        e->key = k;
        *ret = e;
        return 0;
}

static int
opt_commit(struct mlskey_opts *o)
{
        o->n++;
        return mlskey_ok_();
}

static int
opt_abort(struct mlskey_opts *o, struct opt *e, int r)
{
        free(e->key);
        memset(e, 0, sizeof(*e));
        return sticky(o, r);
}

_public_ int
mlskey_opts_add_bool(struct mlskey_opts *o, const char *key, bool v)
{
        struct opt *e;

        MLSKEY_TRY(opt_slot(o, key, &e));
        e->type = DBUS_TYPE_BOOLEAN;
        e->v.b = v ? TRUE : FALSE;
        return opt_commit(o);
}

_public_ int
mlskey_opts_add_u16(struct mlskey_opts *o, const char *key, uint16_t v)
{
        struct opt *e;

        MLSKEY_TRY(opt_slot(o, key, &e));
        e->type = DBUS_TYPE_UINT16;
        e->v.q = v;
        return opt_commit(o);
}

_public_ int
mlskey_opts_add_u32(struct mlskey_opts *o, const char *key, uint32_t v)
{
        struct opt *e;

        MLSKEY_TRY(opt_slot(o, key, &e));
        e->type = DBUS_TYPE_UINT32;
        e->v.u = v;
        return opt_commit(o);
}

_public_ int
mlskey_opts_add_u64(struct mlskey_opts *o, const char *key, uint64_t v)
{
        struct opt *e;

        MLSKEY_TRY(opt_slot(o, key, &e));
        e->type = DBUS_TYPE_UINT64;
        e->v.t = v;
        return opt_commit(o);
}

_public_ int
mlskey_opts_add_string(struct mlskey_opts *o, const char *key, const char *v)
{
        struct opt *e;
        int r;

        MLSKEY_TRY(opt_slot(o, key, &e));
        r = mlskey_check_string_("option value", v);
        if (r < 0)
                return opt_abort(o, e, r);
        e->v.s = strdup(v);
        if (!e->v.s)
                return opt_abort(o, e, mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory"));
        e->type = DBUS_TYPE_STRING;
        return opt_commit(o);
}

static int
dup_bytes(const uint8_t *data, size_t len, uint8_t **ret)
{
        uint8_t *p;

        if (!data && len)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL data with length %zu", len);
        if (len > MLSKEY_MAX_ARRAY)
                return mlskey_fail_(MLSKEY_ERROR_TOO_LARGE, "%zu bytes exceed the D-Bus array limit",
                                    len);
        p = malloc(len ? len : 1);
        if (!p)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        if (len)
                memcpy(p, data, len);
        *ret = p;
        return 0;
}

_public_ int
mlskey_opts_add_bytes(struct mlskey_opts *o, const char *key, const uint8_t *data, size_t len)
{
        struct opt *e;
        int r;

        MLSKEY_TRY(opt_slot(o, key, &e));
        r = dup_bytes(data, len, &e->v.ay.data);
        if (r < 0)
                return opt_abort(o, e, r);
        e->v.ay.len = len;
        e->type = OPT_BYTES;
        return opt_commit(o);
}

_public_ int
mlskey_opts_add_bytes_array(struct mlskey_opts *o, const char *key,
                            const struct mlskey_data *items, size_t n)
{
        struct opt *e;
        struct mlskey_data *copy;
        size_t total = 0;
        int r = 0;

        MLSKEY_TRY(opt_slot(o, key, &e));
        if (!items && n)
                return opt_abort(o, e, mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT,
                                                    "NULL array with %zu items", n));
        for (size_t i = 0; i < n; i++) {
                if (items[i].len > MLSKEY_MAX_ARRAY || total > MLSKEY_MAX_ARRAY)
                        break;
                total += 8 + items[i].len;
        }
        if (n > MLSKEY_MAX_ARRAY / 8 || total > MLSKEY_MAX_ARRAY)
                return opt_abort(o, e, mlskey_fail_(MLSKEY_ERROR_TOO_LARGE,
                                                    "byte arrays exceed the D-Bus array limit"));
        copy = calloc(n ? n : 1, sizeof(*copy));
        if (!copy)
                return opt_abort(o, e, mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory"));
        for (size_t i = 0; i < n && r == 0; i++) {
                uint8_t *p = NULL;

                r = dup_bytes(items[i].data, items[i].len, &p);
                copy[i].data = p;
                copy[i].len = r == 0 ? items[i].len : 0;
        }
        e->type = OPT_BYTES_ARRAY;
        e->v.aay.items = copy;
        e->v.aay.n = n;
        if (r < 0) {
                /* opt_free releases the copies made so far. */
                opt_free(e);
                return sticky(o, r);
        }
        return opt_commit(o);
}

_public_ int
mlskey_opts_add_u32_array(struct mlskey_opts *o, const char *key, const uint32_t *v, size_t n)
{
        struct opt *e;

        MLSKEY_TRY(opt_slot(o, key, &e));
        if (!v && n)
                return opt_abort(o, e, mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT,
                                                    "NULL array with %zu items", n));
        if (n > MLSKEY_MAX_ARRAY / 4)
                return opt_abort(o, e, mlskey_fail_(MLSKEY_ERROR_TOO_LARGE,
                                                    "too many integers (%zu)", n));
        e->v.au.v = malloc(n ? n * sizeof(uint32_t) : 1);
        if (!e->v.au.v)
                return opt_abort(o, e, mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory"));
        if (n)
                memcpy(e->v.au.v, v, n * sizeof(uint32_t));
        e->v.au.n = n;
        e->type = OPT_U32_ARRAY;
        return opt_commit(o);
}

static const char *
opt_signature(int type)
{
        switch (type) {
        case DBUS_TYPE_BOOLEAN:
                return "b";
        case DBUS_TYPE_UINT16:
                return "q";
        case DBUS_TYPE_UINT32:
                return "u";
        case DBUS_TYPE_UINT64:
                return "t";
        case DBUS_TYPE_STRING:
                return "s";
        case OPT_BYTES:
                return "ay";
        case OPT_BYTES_ARRAY:
                return "aay";
        case OPT_U32_ARRAY:
                return "au";
        default:
                return NULL;
        }
}

static int
opt_append_value(const struct opt *e, DBusMessageIter *var)
{
        switch (e->type) {
        case DBUS_TYPE_BOOLEAN:
                return mlskey_append_basic_(var, e->type, &e->v.b);
        case DBUS_TYPE_UINT16:
                return mlskey_append_basic_(var, e->type, &e->v.q);
        case DBUS_TYPE_UINT32:
                return mlskey_append_basic_(var, e->type, &e->v.u);
        case DBUS_TYPE_UINT64:
                return mlskey_append_basic_(var, e->type, &e->v.t);
        case DBUS_TYPE_STRING:
                return mlskey_append_basic_(var, e->type, &e->v.s);
        case OPT_BYTES:
                return mlskey_append_bytes_(var, e->v.ay.data, e->v.ay.len);
        case OPT_BYTES_ARRAY:
                return mlskey_append_bytes_array_(var, e->v.aay.items, e->v.aay.n);
        case OPT_U32_ARRAY:
                return mlskey_append_u32_array_(var, e->v.au.v, e->v.au.n);
        default:
                return mlskey_fail_(MLSKEY_ERROR_INTERNAL_ERROR, "bad option type %d", e->type);
        }
}

int
mlskey_opts_append_(const struct mlskey_opts *o, DBusMessageIter *it)
{
        DBusMessageIter dict;
        size_t n = o ? o->n : 0;

        if (o && o->error)
                return mlskey_fail_(o->error, "an option failed earlier: %s",
                                    mlskey_error_text(o->error));
        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{sv}", &dict))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const struct opt *e = &o->items[i];
                DBusMessageIter entry, var;
                int r;

                if (!dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry)) {
                        dbus_message_iter_abandon_container(it, &dict);
                        return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                }
                if (!dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &e->key) ||
                    !dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT,
                                                      opt_signature(e->type), &var)) {
                        dbus_message_iter_abandon_container(&dict, &entry);
                        dbus_message_iter_abandon_container(it, &dict);
                        return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                }
                r = opt_append_value(e, &var);
                if (r < 0) {
                        dbus_message_iter_abandon_container(&entry, &var);
                        dbus_message_iter_abandon_container(&dict, &entry);
                        dbus_message_iter_abandon_container(it, &dict);
                        return r;
                }
                if (!dbus_message_iter_close_container(&entry, &var) ||
                    !dbus_message_iter_close_container(&dict, &entry)) {
                        dbus_message_iter_abandon_container(it, &dict);
                        return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                }
        }
        if (!dbus_message_iter_close_container(it, &dict))
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        return 0;
}
