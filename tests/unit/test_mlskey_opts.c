/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmlskey without a bus: the options builder (types, duplicates, bad
 * keys, sticky errors, limits), its marshalling as a{sv} (checked through
 * a wire round trip), and the decoders of a{sv} and a(uayay) replies.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client-lib/mlskey.h"
#include "client-lib/mlskey-internal.h"

/* Marshals m and demarshals it: what a receiver would see. */
static DBusMessage *
round_trip(DBusMessage *m)
{
        char *wire = NULL;
        int len = 0;
        DBusMessage *back;
        DBusError err;

        dbus_error_init(&err);
        assert_true(dbus_message_marshal(m, &wire, &len));
        back = dbus_message_demarshal(wire, len, &err);
        dbus_free(wire);
        assert_non_null(back);
        return back;
}

static DBusMessage *
new_msg(void)
{
        DBusMessage *m = dbus_message_new_method_call(MLSKEY_BUS_NAME, "/x", "a.b", "C");

        assert_non_null(m);
        dbus_message_set_serial(m, 1);
        return m;
}

static void
test_opts_every_type_marshals(void **state)
{
        static const uint8_t bytes[] = { 1, 2, 3 };
        static const uint8_t id1[] = { 0xaa }, id2[] = { 0xbb, 0xcc };
        const struct mlskey_data ids[] = { { id1, 1 }, { id2, 2 }, { NULL, 0 } };
        static const uint32_t leaves[] = { 7, 9 };
        struct mlskey_opts *o = NULL;
        struct mlskey_dict d = MLSKEY_DICT_INIT;
        const struct mlskey_value *v;
        DBusMessage *m, *back;
        DBusMessageIter it;

        (void)state;
        assert_int_equal(mlskey_opts_new(&o), 0);
        assert_int_equal(mlskey_opts_add_bool(o, "inline_tree", false), 0);
        assert_int_equal(mlskey_opts_add_u16(o, "cipher_suite", 3), 0);
        assert_int_equal(mlskey_opts_add_u32(o, "leaf", 0xfffffffe), 0);
        assert_int_equal(mlskey_opts_add_u64(o, "lifetime", 0x1122334455667788ULL), 0);
        assert_int_equal(mlskey_opts_add_string(o, "handshake", "private"), 0);
        assert_int_equal(mlskey_opts_add_bytes(o, "required_capabilities", bytes, 3), 0);
        assert_int_equal(mlskey_opts_add_bytes(o, "empty", NULL, 0), 0);
        assert_int_equal(mlskey_opts_add_bytes_array(o, "psk_ids", ids, 3), 0);
        assert_int_equal(mlskey_opts_add_u32_array(o, "uids", leaves, 2), 0);
        assert_int_equal(mlskey_opts_add_u32_array(o, "gids", NULL, 0), 0);
        assert_int_equal(mlskey_opts_count(o), 10);
        assert_int_equal(mlskey_opts_error(o), 0);

        m = new_msg();
        dbus_message_iter_init_append(m, &it);
        assert_int_equal(mlskey_opts_append_(o, &it), 0);
        mlskey_opts_free(o);
        back = round_trip(m);
        dbus_message_unref(m);
        assert_true(dbus_message_has_signature(back, "a{sv}"));
        dbus_message_iter_init(back, &it);
        assert_int_equal(mlskey_dict_decode_(back, &it, &d), 0);
        dbus_message_unref(back); /* the dictionary holds its own reference */
        assert_int_equal(d.n, 10);
        /* Order is kept. */
        assert_string_equal(d.entries[0].key, "inline_tree");
        assert_string_equal(d.entries[9].key, "gids");

        v = mlskey_dict_get(&d, "inline_tree");
        assert_int_equal(v->type, MLSKEY_VALUE_BOOL);
        assert_string_equal(v->signature, "b");
        assert_false(v->v.b);
        v = mlskey_dict_get(&d, "cipher_suite");
        assert_int_equal(v->type, MLSKEY_VALUE_UINT16);
        assert_int_equal(v->v.q, 3);
        v = mlskey_dict_get(&d, "leaf");
        assert_int_equal(v->type, MLSKEY_VALUE_UINT32);
        assert_int_equal(v->v.u, 0xfffffffe);
        v = mlskey_dict_get(&d, "lifetime");
        assert_int_equal(v->type, MLSKEY_VALUE_UINT64);
        assert_true(v->v.t == 0x1122334455667788ULL);
        v = mlskey_dict_get(&d, "handshake");
        assert_int_equal(v->type, MLSKEY_VALUE_STRING);
        assert_string_equal(v->v.s, "private");
        v = mlskey_dict_get(&d, "required_capabilities");
        assert_int_equal(v->type, MLSKEY_VALUE_BYTES);
        assert_int_equal(v->v.bytes.len, 3);
        assert_memory_equal(v->v.bytes.data, bytes, 3);
        v = mlskey_dict_get(&d, "empty");
        assert_int_equal(v->type, MLSKEY_VALUE_BYTES);
        assert_int_equal(v->v.bytes.len, 0);
        v = mlskey_dict_get(&d, "psk_ids");
        assert_int_equal(v->type, MLSKEY_VALUE_BYTES_ARRAY);
        assert_string_equal(v->signature, "aay");
        assert_int_equal(v->v.aay.n, 3);
        assert_int_equal(v->v.aay.v[0].len, 1);
        assert_int_equal(v->v.aay.v[0].data[0], 0xaa);
        assert_int_equal(v->v.aay.v[1].len, 2);
        assert_memory_equal(v->v.aay.v[1].data, id2, 2);
        assert_int_equal(v->v.aay.v[2].len, 0);
        v = mlskey_dict_get(&d, "uids");
        assert_int_equal(v->type, MLSKEY_VALUE_UINT32_ARRAY);
        assert_int_equal(v->v.au.n, 2);
        assert_int_equal(v->v.au.v[0], 7);
        assert_int_equal(v->v.au.v[1], 9);
        v = mlskey_dict_get(&d, "gids");
        assert_int_equal(v->v.au.n, 0);
        assert_null(mlskey_dict_get(&d, "nope"));
        mlskey_dict_clear(&d);
        assert_int_equal(d.n, 0);
        assert_null(d.entries);
        mlskey_dict_clear(&d); /* twice is fine */
        mlskey_dict_clear(NULL);
}

static void
test_opts_null_is_empty_dict(void **state)
{
        struct mlskey_dict d = MLSKEY_DICT_INIT;
        DBusMessage *m = new_msg(), *back;
        DBusMessageIter it;

        (void)state;
        dbus_message_iter_init_append(m, &it);
        assert_int_equal(mlskey_opts_append_(NULL, &it), 0);
        back = round_trip(m);
        assert_true(dbus_message_has_signature(back, "a{sv}"));
        dbus_message_iter_init(back, &it);
        assert_int_equal(mlskey_dict_decode_(back, &it, &d), 0);
        assert_int_equal(d.n, 0);
        mlskey_dict_clear(&d);
        dbus_message_unref(m);
        dbus_message_unref(back);
}

static void
test_opts_duplicate_key_is_sticky(void **state)
{
        struct mlskey_opts *o = NULL;
        DBusMessage *m = new_msg();
        DBusMessageIter it;

        (void)state;
        assert_int_equal(mlskey_opts_new(&o), 0);
        assert_int_equal(mlskey_opts_add_u32(o, "leaf", 1), 0);
        /* the same key with another type is still a duplicate */
        assert_int_equal(mlskey_opts_add_bool(o, "leaf", true), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_last_error()->code, MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(mlskey_last_error()->message, "twice"));
        assert_int_equal(mlskey_opts_error(o), MLSKEY_ERROR_INVALID_ARGUMENT);
        /* later adds fail too, and the dictionary is not marshalled */
        assert_int_equal(mlskey_opts_add_u32(o, "other", 2), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_opts_count(o), 1);
        dbus_message_iter_init_append(m, &it);
        assert_int_equal(mlskey_opts_append_(o, &it), MLSKEY_ERROR_INVALID_ARGUMENT);
        /* clear resets keys and the error */
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_error(o), 0);
        assert_int_equal(mlskey_opts_count(o), 0);
        assert_int_equal(mlskey_opts_add_u32(o, "leaf", 3), 0);
        mlskey_opts_free(o);
        mlskey_opts_free(NULL);
        dbus_message_unref(m);
}

static void
test_opts_bad_keys_and_values(void **state)
{
        static const char bad_utf8[] = { 'k', (char)0xc3, (char)0x28, 0 };
        struct mlskey_opts *o = NULL;
        uint8_t one = 1;
        const struct mlskey_data bad_items[] = { { NULL, 5 } };

        (void)state;
        assert_int_equal(mlskey_opts_new(&o), 0);
        assert_int_equal(mlskey_opts_add_bool(o, "", true), MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_bool(o, NULL, true), MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_bool(o, bad_utf8, true), MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_string(o, "s", bad_utf8), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_opts_count(o), 0); /* the failed key was not kept */
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_string(o, "s", NULL), MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_bytes(o, "b", NULL, 4), MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_bytes_array(o, "b", NULL, 2),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_bytes_array(o, "b", bad_items, 1),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_u32_array(o, "u", NULL, 1),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_clear(o);
        /* Over the D-Bus array limit: refused before any byte is read
         * (libdbus would abort the process). */
        assert_int_equal(mlskey_opts_add_bytes(o, "big", &one, (size_t)MLSKEY_MAX_ARRAY + 1),
                         MLSKEY_ERROR_TOO_LARGE);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_u32_array(o, "big", (const uint32_t *)&one,
                                                   MLSKEY_MAX_ARRAY / 4 + 1),
                         MLSKEY_ERROR_TOO_LARGE);
        mlskey_opts_clear(o);
        assert_int_equal(mlskey_opts_add_bool(NULL, "k", true), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_opts_new(NULL), MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_free(o);
}

static void
test_opts_key_limit(void **state)
{
        struct mlskey_opts *o = NULL;
        char key[16];
        int i, r = 0;

        (void)state;
        assert_int_equal(mlskey_opts_new(&o), 0);
        for (i = 0; i < 1000 && r == 0; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                r = mlskey_opts_add_u32(o, key, (uint32_t)i);
        }
        assert_int_equal(r, MLSKEY_ERROR_TOO_LARGE);
        assert_int_equal(i, 257);
        mlskey_opts_free(o);
}

static void
test_append_bytes_limits(void **state)
{
        DBusMessage *m = new_msg();
        DBusMessageIter it;
        uint8_t one = 1;
        const struct mlskey_data huge[] = { { &one, MLSKEY_MAX_ARRAY / 2 },
                                            { &one, MLSKEY_MAX_ARRAY / 2 } };

        (void)state;
        dbus_message_iter_init_append(m, &it);
        assert_int_equal(mlskey_append_bytes_(&it, &one, (size_t)MLSKEY_MAX_ARRAY + 1),
                         MLSKEY_ERROR_TOO_LARGE);
        assert_int_equal(mlskey_append_bytes_(&it, NULL, 1), MLSKEY_ERROR_INVALID_ARGUMENT);
        /* two halves plus their length prefixes exceed the outer array */
        assert_int_equal(mlskey_append_bytes_array_(&it, huge, 2), MLSKEY_ERROR_TOO_LARGE);
        assert_int_equal(mlskey_append_u32_array_(&it, NULL, 3), MLSKEY_ERROR_INVALID_ARGUMENT);
        dbus_message_unref(m);
}

/* Every type the decoder knows, a nested dictionary, and one it does not. */
static void
append_variant(DBusMessageIter *dict, const char *key, const char *sig, int type,
               const void *val)
{
        DBusMessageIter e, v;

        assert_true(dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        assert_true(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        assert_true(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, sig, &v));
        assert_true(dbus_message_iter_append_basic(&v, type, val));
        assert_true(dbus_message_iter_close_container(&e, &v));
        assert_true(dbus_message_iter_close_container(dict, &e));
}

static void
append_fixed_variant(DBusMessageIter *dict, const char *key, const char *sig, int type,
                     const void *arr, int n)
{
        DBusMessageIter e, v, a;

        assert_true(dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        assert_true(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        assert_true(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, sig, &v));
        assert_true(dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, sig + 1, &a));
        assert_true(dbus_message_iter_append_fixed_array(&a, type, &arr, n));
        assert_true(dbus_message_iter_close_container(&v, &a));
        assert_true(dbus_message_iter_close_container(&e, &v));
        assert_true(dbus_message_iter_close_container(dict, &e));
}

static void
test_dict_decodes_every_type(void **state)
{
        DBusMessage *m = new_msg(), *back;
        DBusMessageIter it, dict, e, v, a, inner;
        struct mlskey_dict d = MLSKEY_DICT_INIT;
        const struct mlskey_value *x;
        dbus_bool_t b = TRUE;
        uint8_t y = 0xfe;
        int16_t n16 = -2;
        uint16_t q = 65535;
        int32_t i32 = -3;
        uint32_t u = 4;
        int64_t x64 = -5;
        uint64_t t = UINT64_MAX;
        double dbl = 0.5;
        const char *s = "text", *o = "/org/mlskeyd/Daemon1", *g = "a{sv}";
        static const uint16_t aq[] = { 1, 2 };
        static const uint32_t au[] = { 3 };
        static const uint64_t at[] = { 4, 5, 6 };
        static const uint8_t ay[] = { 9, 8 };
        const char *strs[] = { "one", "two" };
        const char *key;

        (void)state;
        dbus_message_iter_init_append(m, &it);
        assert_true(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict));
        append_variant(&dict, "b", "b", DBUS_TYPE_BOOLEAN, &b);
        append_variant(&dict, "y", "y", DBUS_TYPE_BYTE, &y);
        append_variant(&dict, "n", "n", DBUS_TYPE_INT16, &n16);
        append_variant(&dict, "q", "q", DBUS_TYPE_UINT16, &q);
        append_variant(&dict, "i", "i", DBUS_TYPE_INT32, &i32);
        append_variant(&dict, "u", "u", DBUS_TYPE_UINT32, &u);
        append_variant(&dict, "x", "x", DBUS_TYPE_INT64, &x64);
        append_variant(&dict, "t", "t", DBUS_TYPE_UINT64, &t);
        append_variant(&dict, "d", "d", DBUS_TYPE_DOUBLE, &dbl);
        append_variant(&dict, "s", "s", DBUS_TYPE_STRING, &s);
        append_variant(&dict, "o", "o", DBUS_TYPE_OBJECT_PATH, &o);
        append_variant(&dict, "g", "g", DBUS_TYPE_SIGNATURE, &g);
        append_fixed_variant(&dict, "aq", "aq", DBUS_TYPE_UINT16, aq, 2);
        append_fixed_variant(&dict, "au", "au", DBUS_TYPE_UINT32, au, 1);
        append_fixed_variant(&dict, "at", "at", DBUS_TYPE_UINT64, at, 3);
        append_fixed_variant(&dict, "ay", "ay", DBUS_TYPE_BYTE, ay, 2);
        /* as */
        key = "as";
        assert_true(dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        assert_true(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        assert_true(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "as", &v));
        assert_true(dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "s", &a));
        assert_true(dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &strs[0]));
        assert_true(dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &strs[1]));
        assert_true(dbus_message_iter_close_container(&v, &a));
        assert_true(dbus_message_iter_close_container(&e, &v));
        assert_true(dbus_message_iter_close_container(&dict, &e));
        /* a{sv} nested: {"uids": au} */
        key = "access";
        assert_true(dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        assert_true(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        assert_true(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "a{sv}", &v));
        assert_true(dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "{sv}", &inner));
        append_fixed_variant(&inner, "uids", "au", DBUS_TYPE_UINT32, au, 1);
        assert_true(dbus_message_iter_close_container(&v, &inner));
        assert_true(dbus_message_iter_close_container(&e, &v));
        assert_true(dbus_message_iter_close_container(&dict, &e));
        /* (ii): not a type the decoder knows */
        key = "pair";
        assert_true(dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        assert_true(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        assert_true(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "(ii)", &v));
        assert_true(dbus_message_iter_open_container(&v, DBUS_TYPE_STRUCT, NULL, &a));
        assert_true(dbus_message_iter_append_basic(&a, DBUS_TYPE_INT32, &i32));
        assert_true(dbus_message_iter_append_basic(&a, DBUS_TYPE_INT32, &i32));
        assert_true(dbus_message_iter_close_container(&v, &a));
        assert_true(dbus_message_iter_close_container(&e, &v));
        assert_true(dbus_message_iter_close_container(&dict, &e));
        assert_true(dbus_message_iter_close_container(&it, &dict));

        back = round_trip(m);
        dbus_message_unref(m);
        dbus_message_iter_init(back, &it);
        assert_int_equal(mlskey_dict_decode_(back, &it, &d), 0);
        dbus_message_unref(back);
        assert_int_equal(d.n, 19);
        assert_true(mlskey_dict_get(&d, "b")->v.b);
        assert_int_equal(mlskey_dict_get(&d, "y")->v.y, 0xfe);
        assert_int_equal(mlskey_dict_get(&d, "n")->v.n, -2);
        assert_int_equal(mlskey_dict_get(&d, "q")->v.q, 65535);
        assert_int_equal(mlskey_dict_get(&d, "i")->v.i, -3);
        assert_int_equal(mlskey_dict_get(&d, "u")->v.u, 4);
        assert_true(mlskey_dict_get(&d, "x")->v.x == -5);
        assert_true(mlskey_dict_get(&d, "t")->v.t == UINT64_MAX);
        assert_true(mlskey_dict_get(&d, "d")->v.d == 0.5);
        assert_string_equal(mlskey_dict_get(&d, "s")->v.s, "text");
        assert_string_equal(mlskey_dict_get(&d, "o")->v.s, "/org/mlskeyd/Daemon1");
        assert_string_equal(mlskey_dict_get(&d, "g")->v.s, "a{sv}");
        x = mlskey_dict_get(&d, "aq");
        assert_int_equal(x->type, MLSKEY_VALUE_UINT16_ARRAY);
        assert_int_equal(x->v.aq.n, 2);
        assert_int_equal(x->v.aq.v[1], 2);
        x = mlskey_dict_get(&d, "at");
        assert_int_equal(x->type, MLSKEY_VALUE_UINT64_ARRAY);
        assert_int_equal(x->v.at.n, 3);
        assert_true(x->v.at.v[2] == 6);
        x = mlskey_dict_get(&d, "ay");
        assert_int_equal(x->type, MLSKEY_VALUE_BYTES);
        assert_memory_equal(x->v.bytes.data, ay, 2);
        x = mlskey_dict_get(&d, "as");
        assert_int_equal(x->type, MLSKEY_VALUE_STRING_ARRAY);
        assert_int_equal(x->v.as.n, 2);
        assert_string_equal(x->v.as.v[1], "two");
        assert_null(x->v.as.v[2]); /* NULL-terminated */
        x = mlskey_dict_get(&d, "access");
        assert_int_equal(x->type, MLSKEY_VALUE_DICT);
        assert_int_equal(x->v.dict.n, 1);
        assert_int_equal(mlskey_dict_get(&x->v.dict, "uids")->v.au.v[0], 3);
        x = mlskey_dict_get(&d, "pair");
        assert_int_equal(x->type, MLSKEY_VALUE_OTHER);
        assert_string_equal(x->signature, "(ii)");
        /* want/need */
        assert_int_equal(mlskey_dict_want_(&d, "u", MLSKEY_VALUE_UINT32, &x), 0);
        assert_non_null(x);
        assert_int_equal(mlskey_dict_want_(&d, "missing", MLSKEY_VALUE_UINT32, &x), 0);
        assert_null(x);
        assert_int_equal(mlskey_dict_want_(&d, "u", MLSKEY_VALUE_UINT64, &x),
                         MLSKEY_ERROR_BAD_REPLY);
        assert_int_equal(mlskey_dict_need_(&d, "missing", MLSKEY_VALUE_UINT32, &x),
                         MLSKEY_ERROR_BAD_REPLY);
        mlskey_dict_clear(&d);
}

static void
test_dict_duplicate_key_is_bad_reply(void **state)
{
        DBusMessage *m = new_msg(), *back;
        DBusMessageIter it, dict;
        struct mlskey_dict d = MLSKEY_DICT_INIT;
        uint32_t u = 1;

        (void)state;
        dbus_message_iter_init_append(m, &it);
        assert_true(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict));
        append_variant(&dict, "epoch", "u", DBUS_TYPE_UINT32, &u);
        append_variant(&dict, "epoch", "u", DBUS_TYPE_UINT32, &u);
        assert_true(dbus_message_iter_close_container(&it, &dict));
        back = round_trip(m);
        dbus_message_iter_init(back, &it);
        assert_int_equal(mlskey_dict_decode_(back, &it, &d), MLSKEY_ERROR_BAD_REPLY);
        assert_null(d.entries); /* untouched on failure */
        dbus_message_unref(m);
        dbus_message_unref(back);
}

static void
test_members_decode(void **state)
{
        DBusMessage *m = new_msg(), *back;
        DBusMessageIter it, arr, st, a;
        struct mlskey_members mem = MLSKEY_MEMBERS_INIT;
        static const uint8_t cred[] = "alice", key[] = { 1, 2, 3, 4 };
        const uint8_t *p;

        (void)state;
        dbus_message_iter_init_append(m, &it);
        assert_true(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(uayay)", &arr));
        for (uint32_t leaf = 0; leaf < 3; leaf += 2) {
                assert_true(dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, NULL, &st));
                assert_true(dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &leaf));
                assert_true(dbus_message_iter_open_container(&st, DBUS_TYPE_ARRAY, "y", &a));
                p = cred;
                assert_true(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &p, 5));
                assert_true(dbus_message_iter_close_container(&st, &a));
                assert_true(dbus_message_iter_open_container(&st, DBUS_TYPE_ARRAY, "y", &a));
                p = key;
                assert_true(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &p,
                                                                 (int)leaf + 1));
                assert_true(dbus_message_iter_close_container(&st, &a));
                assert_true(dbus_message_iter_close_container(&arr, &st));
        }
        assert_true(dbus_message_iter_close_container(&it, &arr));
        back = round_trip(m);
        dbus_message_unref(m);
        dbus_message_iter_init(back, &it);
        assert_int_equal(mlskey_members_decode_(back, &it, &mem), 0);
        dbus_message_unref(back);
        assert_int_equal(mem.n, 2);
        assert_int_equal(mem.items[0].leaf, 0);
        assert_int_equal(mem.items[1].leaf, 2);
        assert_int_equal(mem.items[1].credential_identity.len, 5);
        assert_memory_equal(mem.items[1].credential_identity.data, "alice", 5);
        assert_int_equal(mem.items[0].signature_public_key.len, 1);
        assert_int_equal(mem.items[1].signature_public_key.len, 3);
        assert_memory_equal(mem.items[1].signature_public_key.data, key, 3);
        mlskey_members_clear(&mem);
        assert_null(mem.items);
}

/* Results are NULL-tolerant to clear, and clear zeroes. */
static void
test_clear_functions_tolerate_null(void **state)
{
        struct mlskey_buf b = MLSKEY_BUF_INIT;
        struct mlskey_buf_list l = MLSKEY_BUF_LIST_INIT;
        struct mlskey_process_result r = MLSKEY_PROCESS_RESULT_INIT;
        struct mlskey_epoch_event e = MLSKEY_EPOCH_EVENT_INIT;
        struct mlskey_secret *s = malloc(sizeof(*s) + 4);

        (void)state;
        mlskey_buf_clear(NULL);
        mlskey_buf_clear(&b);
        mlskey_buf_list_clear(NULL);
        mlskey_buf_list_clear(&l);
        mlskey_process_result_clear(NULL);
        mlskey_process_result_clear(&r);
        mlskey_epoch_event_clear(NULL);
        mlskey_epoch_event_clear(&e);
        mlskey_members_clear(NULL);
        mlskey_identity_props_clear(NULL);
        mlskey_group_props_clear(NULL);
        mlskey_strv_free(NULL);
        mlskey_secret_free(NULL);
        assert_non_null(s);
        s->len = 4;
        memset(s->data, 0x5a, 4);
        mlskey_secret_free(s);
        mlskey_client_free(NULL);
}

/* The library refuses invalid object paths itself (libdbus would abort). */
static void
test_invalid_paths_refused(void **state)
{
        static const char *const bad[] = { "", "org/x", "/org//x", "/org/x/", "/org/x-y",
                                           "/org/\xc3\xa9" };
        DBusMessage *m = NULL;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(mlskey_new_call_(bad[i], "a.b", "C", &m),
                                 MLSKEY_ERROR_INVALID_ARGUMENT);
                assert_null(m);
        }
        assert_int_equal(mlskey_new_call_(NULL, "a.b", "C", &m), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_new_call_("/org/mlskeyd/Daemon1/group/ab12", "a.b", "C", &m), 0);
        assert_string_equal(dbus_message_get_destination(m), MLSKEY_BUS_NAME);
        dbus_message_unref(m);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_opts_every_type_marshals),
                cmocka_unit_test(test_opts_null_is_empty_dict),
                cmocka_unit_test(test_opts_duplicate_key_is_sticky),
                cmocka_unit_test(test_opts_bad_keys_and_values),
                cmocka_unit_test(test_opts_key_limit),
                cmocka_unit_test(test_append_bytes_limits),
                cmocka_unit_test(test_dict_decodes_every_type),
                cmocka_unit_test(test_dict_duplicate_key_is_bad_reply),
                cmocka_unit_test(test_members_decode),
                cmocka_unit_test(test_clear_functions_tolerate_null),
                cmocka_unit_test(test_invalid_paths_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
