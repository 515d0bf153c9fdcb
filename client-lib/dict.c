/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding of replies that are more than one basic value: a{sv}
 * dictionaries (GetPolicy, Access, Process info, GetAll) and a(uayay)
 * (Members). Views point into the reply, which the result keeps alive.
 */
#include "config.h"

#include <string.h>

#include "client-lib/mlskey-internal.h"

/* Arrays the dictionary allocated itself (signatures, string and byte
 * vectors), freed at clear. */
struct dict_priv {
        DBusMessage *reply;
        void **allocs;
        size_t n_allocs;
};

static int
priv_keep(struct dict_priv *p, void *a)
{
        void **v = realloc(p->allocs, (p->n_allocs + 1) * sizeof(*v));

        if (!v) {
                free(a);
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        }
        v[p->n_allocs++] = a;
        p->allocs = v;
        return 0;
}

static void
priv_free(struct dict_priv *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_allocs; i++)
                free(p->allocs[i]);
        free(p->allocs);
        if (p->reply)
                dbus_message_unref(p->reply);
        free(p);
}

_public_ void
mlskey_dict_clear(struct mlskey_dict *d)
{
        if (!d)
                return;
        free(d->entries);
        priv_free(d->priv_);
        memset(d, 0, sizeof(*d));
}

_public_ const struct mlskey_value *
mlskey_dict_get(const struct mlskey_dict *d, const char *key)
{
        if (!d || !key)
                return NULL;
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->entries[i].key, key) == 0)
                        return &d->entries[i];
        return NULL;
}

/* Counts the elements of the array at it (without consuming it). */
static size_t
array_count(DBusMessageIter *it)
{
        DBusMessageIter a;
        size_t n = 0;

        dbus_message_iter_recurse(it, &a);
        while (dbus_message_iter_get_arg_type(&a) != DBUS_TYPE_INVALID) {
                n++;
                dbus_message_iter_next(&a);
        }
        return n;
}

static void
fixed_array(DBusMessageIter *var, const void **ret_p, size_t *ret_n)
{
        DBusMessageIter a;
        const void *p = NULL;
        int n = 0;

        dbus_message_iter_recurse(var, &a);
        dbus_message_iter_get_fixed_array(&a, &p, &n);
        *ret_p = n > 0 ? p : NULL;
        *ret_n = n > 0 ? (size_t)n : 0;
}

static int dict_decode(struct dict_priv *p, DBusMessageIter *it,
                       struct mlskey_value **ret_entries, size_t *ret_n);

static int
decode_value(struct dict_priv *p, DBusMessageIter *var, struct mlskey_value *v)
{
        char *sig = dbus_message_iter_get_signature(var);
        dbus_bool_t b;

        if (!sig)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        /* sig belongs to libdbus's allocator (dbus_free); keep a copy in
         * ours so that clear frees everything the same way. */
        {
                char *copy = strdup(sig);

                dbus_free(sig);
                if (!copy)
                        return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                MLSKEY_TRY(priv_keep(p, copy));
                v->signature = copy;
        }
        v->type = MLSKEY_VALUE_OTHER;
        if (strcmp(v->signature, "b") == 0) {
                dbus_message_iter_get_basic(var, &b);
                v->v.b = b != 0;
                v->type = MLSKEY_VALUE_BOOL;
        } else if (strcmp(v->signature, "y") == 0) {
                dbus_message_iter_get_basic(var, &v->v.y);
                v->type = MLSKEY_VALUE_BYTE;
        } else if (strcmp(v->signature, "n") == 0) {
                dbus_message_iter_get_basic(var, &v->v.n);
                v->type = MLSKEY_VALUE_INT16;
        } else if (strcmp(v->signature, "q") == 0) {
                dbus_message_iter_get_basic(var, &v->v.q);
                v->type = MLSKEY_VALUE_UINT16;
        } else if (strcmp(v->signature, "i") == 0) {
                dbus_message_iter_get_basic(var, &v->v.i);
                v->type = MLSKEY_VALUE_INT32;
        } else if (strcmp(v->signature, "u") == 0) {
                dbus_message_iter_get_basic(var, &v->v.u);
                v->type = MLSKEY_VALUE_UINT32;
        } else if (strcmp(v->signature, "x") == 0) {
                dbus_message_iter_get_basic(var, &v->v.x);
                v->type = MLSKEY_VALUE_INT64;
        } else if (strcmp(v->signature, "t") == 0) {
                dbus_message_iter_get_basic(var, &v->v.t);
                v->type = MLSKEY_VALUE_UINT64;
        } else if (strcmp(v->signature, "d") == 0) {
                dbus_message_iter_get_basic(var, &v->v.d);
                v->type = MLSKEY_VALUE_DOUBLE;
        } else if (strcmp(v->signature, "s") == 0 || strcmp(v->signature, "o") == 0 ||
                   strcmp(v->signature, "g") == 0) {
                dbus_message_iter_get_basic(var, &v->v.s);
                v->type = MLSKEY_VALUE_STRING;
        } else if (strcmp(v->signature, "ay") == 0) {
                DBusMessageIter tmp = *var;

                mlskey_read_bytes_(&tmp, &v->v.bytes);
                v->type = MLSKEY_VALUE_BYTES;
        } else if (strcmp(v->signature, "aq") == 0) {
                const void *a;

                fixed_array(var, &a, &v->v.aq.n);
                v->v.aq.v = (const uint16_t *)a;
                v->type = MLSKEY_VALUE_UINT16_ARRAY;
        } else if (strcmp(v->signature, "au") == 0) {
                const void *a;

                fixed_array(var, &a, &v->v.au.n);
                v->v.au.v = (const uint32_t *)a;
                v->type = MLSKEY_VALUE_UINT32_ARRAY;
        } else if (strcmp(v->signature, "at") == 0) {
                const void *a;

                fixed_array(var, &a, &v->v.at.n);
                v->v.at.v = (const uint64_t *)a;
                v->type = MLSKEY_VALUE_UINT64_ARRAY;
        } else if (strcmp(v->signature, "as") == 0 || strcmp(v->signature, "ao") == 0) {
                size_t n = array_count(var);
                const char **strs = calloc(n + 1, sizeof(*strs));
                DBusMessageIter a;

                if (!strs)
                        return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                dbus_message_iter_recurse(var, &a);
                for (size_t i = 0; i < n; i++) {
                        dbus_message_iter_get_basic(&a, &strs[i]);
                        dbus_message_iter_next(&a);
                }
                MLSKEY_TRY(priv_keep(p, strs));
                v->v.as.v = strs;
                v->v.as.n = n;
                v->type = MLSKEY_VALUE_STRING_ARRAY;
        } else if (strcmp(v->signature, "aay") == 0) {
                size_t n = array_count(var);
                struct mlskey_data *items = calloc(n ? n : 1, sizeof(*items));
                DBusMessageIter a;

                if (!items)
                        return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                dbus_message_iter_recurse(var, &a);
                for (size_t i = 0; i < n; i++)
                        mlskey_read_bytes_(&a, &items[i]);
                MLSKEY_TRY(priv_keep(p, items));
                v->v.aay.v = items;
                v->v.aay.n = n;
                v->type = MLSKEY_VALUE_BYTES_ARRAY;
        } else if (strcmp(v->signature, "a{sv}") == 0) {
                struct mlskey_value *entries = NULL;
                size_t n = 0;

                /* D-Bus bounds the nesting depth (64), so does this. */
                MLSKEY_TRY(dict_decode(p, var, &entries, &n));
                MLSKEY_TRY(priv_keep(p, entries));
                v->v.dict.entries = entries;
                v->v.dict.n = n;
                v->v.dict.priv_ = NULL;
                v->type = MLSKEY_VALUE_DICT;
        }
        return 0;
}

static int
dict_decode(struct dict_priv *p, DBusMessageIter *it, struct mlskey_value **ret_entries,
            size_t *ret_n)
{
        DBusMessageIter arr;
        size_t n = array_count(it);
        _mlskey_free_ struct mlskey_value *entries = calloc(n ? n : 1, sizeof(*entries));

        if (!entries)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        dbus_message_iter_recurse(it, &arr);
        for (size_t i = 0; i < n; i++) {
                DBusMessageIter entry, var;

                dbus_message_iter_recurse(&arr, &entry);
                dbus_message_iter_get_basic(&entry, &entries[i].key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &var);
                MLSKEY_TRY(decode_value(p, &var, &entries[i]));
                for (size_t j = 0; j < i; j++)
                        if (strcmp(entries[j].key, entries[i].key) == 0)
                                return mlskey_fail_(MLSKEY_ERROR_BAD_REPLY,
                                                    "key \"%.64s\" appears twice in a reply",
                                                    entries[i].key);
                dbus_message_iter_next(&arr);
        }
        *ret_entries = MLSKEY_TAKE(entries);
        *ret_n = n;
        return 0;
}

int
mlskey_dict_decode_(DBusMessage *reply, DBusMessageIter *it, struct mlskey_dict *ret)
{
        struct dict_priv *p = calloc(1, sizeof(*p));
        struct mlskey_value *entries = NULL;
        size_t n = 0;
        int r;

        if (!p)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        r = dict_decode(p, it, &entries, &n);
        if (r < 0) {
                priv_free(p);
                return r;
        }
        p->reply = dbus_message_ref(reply);
        dbus_message_iter_next(it);
        ret->entries = entries;
        ret->n = n;
        ret->priv_ = p;
        return 0;
}

int
mlskey_members_decode_(DBusMessage *reply, DBusMessageIter *it, struct mlskey_members *ret)
{
        DBusMessageIter arr;
        size_t n = array_count(it);
        struct mlskey_member *items = calloc(n ? n : 1, sizeof(*items));

        if (!items)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        dbus_message_iter_recurse(it, &arr);
        for (size_t i = 0; i < n; i++) {
                DBusMessageIter st;

                dbus_message_iter_recurse(&arr, &st);
                dbus_message_iter_get_basic(&st, &items[i].leaf);
                dbus_message_iter_next(&st);
                mlskey_read_bytes_(&st, &items[i].credential_identity);
                mlskey_read_bytes_(&st, &items[i].signature_public_key);
                dbus_message_iter_next(&arr);
        }
        dbus_message_iter_next(it);
        ret->items = items;
        ret->n = n;
        ret->priv_ = dbus_message_ref(reply);
        return 0;
}

_public_ void
mlskey_members_clear(struct mlskey_members *m)
{
        if (!m)
                return;
        free(m->items);
        if (m->priv_)
                dbus_message_unref(m->priv_);
        memset(m, 0, sizeof(*m));
}

int
mlskey_dict_want_(const struct mlskey_dict *d, const char *key, enum mlskey_value_type t,
                  const struct mlskey_value **ret)
{
        const struct mlskey_value *v = mlskey_dict_get(d, key);

        if (v && v->type != t)
                return mlskey_fail_(MLSKEY_ERROR_BAD_REPLY, "\"%s\" has the type \"%s\" in the reply",
                                    key, v->signature);
        *ret = v;
        return 0;
}

int
mlskey_dict_need_(const struct mlskey_dict *d, const char *key, enum mlskey_value_type t,
                  const struct mlskey_value **ret)
{
        const struct mlskey_value *v = NULL;

        MLSKEY_TRY(mlskey_dict_want_(d, key, t, &v));
        if (!v)
                return mlskey_fail_(MLSKEY_ERROR_BAD_REPLY, "\"%s\" is missing from the reply", key);
        *ret = v;
        return 0;
}

DBusMessage *
mlskey_dict_reply_(const struct mlskey_dict *d)
{
        const struct dict_priv *p = d->priv_;

        return p ? p->reply : NULL;
}

int
mlskey_dict_variant_(const struct mlskey_dict *d, const char *key, DBusMessageIter *ret_var)
{
        DBusMessage *reply = mlskey_dict_reply_(d);
        DBusMessageIter it, arr;

        if (!reply)
                return mlskey_fail_(MLSKEY_ERROR_INTERNAL_ERROR, "dictionary without a reply");
        /* The dictionary is the reply's first argument. */
        dbus_message_iter_init(reply, &it);
        if (dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY)
                return mlskey_fail_(MLSKEY_ERROR_BAD_REPLY, "reply is not a dictionary");
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter e;
                const char *k;

                dbus_message_iter_recurse(&arr, &e);
                dbus_message_iter_get_basic(&e, &k);
                if (strcmp(k, key) == 0) {
                        dbus_message_iter_next(&e);
                        dbus_message_iter_recurse(&e, ret_var);
                        return 0;
                }
                dbus_message_iter_next(&arr);
        }
        return mlskey_fail_(MLSKEY_ERROR_BAD_REPLY, "\"%s\" is missing from the reply", key);
}
