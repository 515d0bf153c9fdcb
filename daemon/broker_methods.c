/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The D-Bus face of the broker: org.mlskeyd.Daemon1 (doc/
 * org.mlskeyd.Daemon1.xml), org.freedesktop.DBus.Properties and
 * Introspectable, caller identification and the access checks.
 *
 * Every call: the caller's credentials (GetConnectionCredentials, cached
 * per unique name), the object (an identity or a group the caller may see;
 * anything else is NotFound with the same sentence as a nonexistent id),
 * the argument types (the signature) and sizes (caps of daemon/proto.h),
 * the options (unknown keys and wrong types are InvalidArgument naming the
 * key), then a request to the engine, answered when the engine's writes
 * are durable (broker.c).
 */
#include "config.h"

#include "daemon/broker-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#ifdef MKD_TEST_OPS
#include <unistd.h>
#endif

#include "daemon/log.h"
#include "mls/crypto.h"
#include "mls/messages.h"

#define NOT_FOUND_TEXT "no such object"

/* ---- small helpers ---- */


void
b_path_identity(const uint8_t id[B_ID_LEN], char out[96])
{
        char h[2 * B_ID_LEN + 1];

        sodium_bin2hex(h, sizeof(h), id, B_ID_LEN);
        snprintf(out, 96, MKD_PATH_IDENTITY "/%s", h);
}

void
b_path_group(const uint8_t id[B_ID_LEN], char out[96])
{
        char h[2 * B_ID_LEN + 1];

        sodium_bin2hex(h, sizeof(h), id, B_ID_LEN);
        snprintf(out, 96, MKD_PATH_GROUP "/%s", h);
}

/* "<prefix>/<32 lowercase hex>" -> id */
static bool
parse_obj_path(const char *path, const char *prefix, uint8_t id[B_ID_LEN])
{
        size_t pl = strlen(prefix);

        if (strncmp(path, prefix, pl) != 0 || path[pl] != '/' || strlen(path + pl + 1) != 2 * B_ID_LEN)
                return false;
        for (size_t i = 0; i < B_ID_LEN; i++) {
                int v = 0;

                for (int k = 0; k < 2; k++) {
                        char ch = path[pl + 1 + 2 * i + (size_t)k];

                        if (ch >= '0' && ch <= '9')
                                v = v * 16 + (ch - '0');
                        else if (ch >= 'a' && ch <= 'f')
                                v = v * 16 + (ch - 'a' + 10);
                        else
                                return false;
                }
                id[i] = (uint8_t)v;
        }
        return true;
}

void
b_reply_error(struct broker *b, DBusMessage *msg, int e, const char *fmt, ...)
{
        char name[128], text[512];
        DBusMessage *r;
        va_list ap;

        if (!msg || dbus_message_get_no_reply(msg))
                return;
        snprintf(name, sizeof(name), MKD_ERROR_PREFIX "%s", mls_err_ext_name(e));
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        r = dbus_message_new_error(msg, name, text);
        if (r) {
                dbus_connection_send(b->conn, r, NULL);
                dbus_message_unref(r);
        }
}

static void
reply_dbus_error(struct broker *b, DBusMessage *msg, const char *name, const char *text)
{
        DBusMessage *r = dbus_message_new_error(msg, name, text);

        if (r) {
                dbus_connection_send(b->conn, r, NULL);
                dbus_message_unref(r);
        }
}

static void
send_reply(struct broker *b, DBusMessage *r)
{
        if (!r)
                return;
        dbus_connection_send(b->conn, r, NULL);
        dbus_message_unref(r);
}

static bool
append_ay(DBusMessageIter *it, const uint8_t *p, size_t n)
{
        DBusMessageIter sub;
        const uint8_t *q = p ? p : (const uint8_t *)"";

        return dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "y", &sub) &&
               dbus_message_iter_append_fixed_array(&sub, DBUS_TYPE_BYTE, &q, (int)n) &&
               dbus_message_iter_close_container(it, &sub);
}

static bool
append_au_list(DBusMessageIter *it, const uint32_t *v, size_t n)
{
        DBusMessageIter sub;
        const uint32_t *q = v ? v : (const uint32_t *)"\0\0\0";

        return dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "u", &sub) &&
               dbus_message_iter_append_fixed_array(&sub, DBUS_TYPE_UINT32, &q, (int)n) &&
               dbus_message_iter_close_container(it, &sub);
}

static bool
append_au_val(DBusMessageIter *it, const struct mkd_val *l)
{
        DBusMessageIter sub;
        struct mkd_list_iter li;
        uint32_t x;

        if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "u", &sub))
                return false;
        mkd_list_iter_init(&li, l);
        while (mkd_list_next_u32(&li, &x))
                if (!dbus_message_iter_append_basic(&sub, DBUS_TYPE_UINT32, &x))
                        return false;
        return dbus_message_iter_close_container(it, &sub);
}

/* Variant helpers for a{sv} entries. */
static bool
dict_begin(DBusMessageIter *dict, DBusMessageIter *entry, DBusMessageIter *var, const char *key,
           const char *sig)
{
        return dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, entry) &&
               dbus_message_iter_append_basic(entry, DBUS_TYPE_STRING, &key) &&
               dbus_message_iter_open_container(entry, DBUS_TYPE_VARIANT, sig, var);
}

static bool
dict_end(DBusMessageIter *dict, DBusMessageIter *entry, DBusMessageIter *var)
{
        return dbus_message_iter_close_container(entry, var) &&
               dbus_message_iter_close_container(dict, entry);
}

static bool
dict_basic(DBusMessageIter *dict, const char *key, int type, const void *v)
{
        char sig[2] = { (char)type, 0 };
        DBusMessageIter e, var;

        return dict_begin(dict, &e, &var, key, sig) && dbus_message_iter_append_basic(&var, type, v) &&
               dict_end(dict, &e, &var);
}

static bool
dict_ay(DBusMessageIter *dict, const char *key, const uint8_t *p, size_t n)
{
        DBusMessageIter e, var;

        return dict_begin(dict, &e, &var, key, "ay") && append_ay(&var, p, n) &&
               dict_end(dict, &e, &var);
}

/* ---- callers ---- */

void
b_caller_free(struct b_caller *c)
{
        if (!c)
                return;
        free(c->name);
        free(c->gids);
        free(c);
}

void
b_caller_forget(struct broker *b, const char *name)
{
        for (size_t i = 0; i < b->n_callers; i++)
                if (strcmp(b->callers[i]->name, name) == 0) {
                        b_caller_free(b->callers[i]);
                        b->callers[i] = b->callers[--b->n_callers];
                        return;
                }
}

/* The credentials of a bus peer: cached, else asked of the bus (a short
 * blocking call: the bus daemon answers at once). */
static struct b_caller *
caller_get(struct broker *b, const char *name)
{
        DBusMessage *m, *r;
        DBusMessageIter it, dict;
        DBusError err;
        struct b_caller *c, **n;
        bool have_uid = false;

        if (!name)
                return NULL;
        for (size_t i = 0; i < b->n_callers; i++)
                if (strcmp(b->callers[i]->name, name) == 0)
                        return b->callers[i];
        m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                         "GetConnectionCredentials");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                return NULL;
        }
        dbus_error_init(&err);
        r = dbus_connection_send_with_reply_and_block(b->conn, m, 5000, &err);
        dbus_message_unref(m);
        if (!r) {
                mkd_log_warning("credentials of %s: %s", name, err.message ? err.message : "?");
                dbus_error_free(&err);
                return NULL;
        }
        c = calloc(1, sizeof(*c));
        if (!c || !(c->name = strdup(name)) || !dbus_message_iter_init(r, &it) ||
            dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY) {
                b_caller_free(c);
                dbus_message_unref(r);
                return NULL;
        }
        dbus_message_iter_recurse(&it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter e, v;
                const char *key;

                dbus_message_iter_recurse(&dict, &e);
                dbus_message_iter_get_basic(&e, &key);
                dbus_message_iter_next(&e);
                dbus_message_iter_recurse(&e, &v);
                if (strcmp(key, "UnixUserID") == 0 &&
                    dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_UINT32) {
                        dbus_message_iter_get_basic(&v, &c->uid);
                        have_uid = true;
                } else if (strcmp(key, "ProcessID") == 0 &&
                           dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_UINT32) {
                        dbus_message_iter_get_basic(&v, &c->pid);
                } else if (strcmp(key, "UnixGroupIDs") == 0 &&
                           dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_ARRAY &&
                           dbus_message_iter_get_element_type(&v) == DBUS_TYPE_UINT32) {
                        DBusMessageIter a;
                        const uint32_t *g;
                        int ng = 0;

                        dbus_message_iter_recurse(&v, &a);
                        dbus_message_iter_get_fixed_array(&a, &g, &ng);
                        if (ng > 0) {
                                c->gids = calloc((size_t)ng, sizeof(*c->gids));
                                if (c->gids) {
                                        memcpy(c->gids, g, (size_t)ng * sizeof(*g));
                                        c->n_gids = (size_t)ng;
                                }
                        }
                }
                dbus_message_iter_next(&dict);
        }
        dbus_message_unref(r);
        n = have_uid ? realloc(b->callers, (b->n_callers + 1) * sizeof(*n)) : NULL;
        if (!n) {
                b_caller_free(c);
                return NULL;
        }
        b->callers = n;
        b->callers[b->n_callers++] = c;
        return c;
}

static struct mkd_cred
cred_of(const struct b_caller *c)
{
        return (struct mkd_cred){ .uid = c->uid, .gids = c->gids, .n_gids = c->n_gids };
}

static enum mkd_access
identity_access(const struct b_identity *i, const struct mkd_cred *cr)
{
        struct mkd_acl acl = {
                .owner = i->owner, .uids = i->uids, .n_uids = i->n_uids,
                .gids = i->gids, .n_gids = i->n_gids,
        };

        return mkd_acl_check(&acl, cr);
}

static enum mkd_access
group_access(struct broker *b, const struct b_group *g, const struct mkd_cred *cr)
{
        struct b_identity *i = b_find_identity(b, g->identity, B_ID_LEN);

        return i ? identity_access(i, cr) : MKD_ACCESS_NONE;
}

/* ---- signals ---- */

static void
emit_to_viewers(struct broker *b, const struct b_group *g, DBusMessage *(*make)(void *ud),
                void *ud)
{
        for (size_t i = 0; i < b->n_callers; i++) {
                struct mkd_cred cr = cred_of(b->callers[i]);
                DBusMessage *m;

                if (group_access(b, g, &cr) == MKD_ACCESS_NONE)
                        continue;
                m = make(ud);
                if (!m)
                        continue;
                /* Unicast: other users must not learn of the group. */
                if (dbus_message_set_destination(m, b->callers[i]->name))
                        dbus_connection_send(b->conn, m, NULL);
                dbus_message_unref(m);
        }
}

static DBusMessage *
make_epoch_changed(void *ud)
{
        const struct b_group *g = ud;
        char path[96];
        DBusMessage *m;
        DBusMessageIter it;

        b_path_group(g->id, path);
        m = dbus_message_new_signal(path, MKD_IFACE_GROUP, "EpochChanged");
        if (!m)
                return NULL;
        dbus_message_iter_init_append(m, &it);
        if (!dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &g->epoch) ||
            !append_ay(&it, g->auth.data, g->auth.len)) {
                dbus_message_unref(m);
                return NULL;
        }
        return m;
}

static DBusMessage *
make_props_changed(void *ud)
{
        const struct b_group *g = ud;
        const char *iface = MKD_IFACE_GROUP;
        char path[96];
        DBusMessage *m;
        DBusMessageIter it, dict, inv;
        dbus_bool_t pending = g->pending;

        b_path_group(g->id, path);
        m = dbus_message_new_signal(path, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged");
        if (!m)
                return NULL;
        dbus_message_iter_init_append(m, &it);
        if (!dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface) ||
            !dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict) ||
            !dict_basic(&dict, "Epoch", DBUS_TYPE_UINT64, &g->epoch) ||
            !dict_ay(&dict, "EpochAuthenticator", g->auth.data, g->auth.len) ||
            !dict_basic(&dict, "HasPendingCommit", DBUS_TYPE_BOOLEAN, &pending) ||
            !dict_basic(&dict, "OwnLeaf", DBUS_TYPE_UINT32, &g->own_leaf) ||
            !dbus_message_iter_close_container(&it, &dict) ||
            !dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &inv) ||
            !dbus_message_iter_close_container(&it, &inv)) {
                dbus_message_unref(m);
                return NULL;
        }
        return m;
}

void
b_group_changed(struct broker *b, const struct b_group *old, const struct b_group *g)
{
        if (!old || !b->conn)
                return;
        if (old->epoch != g->epoch)
                emit_to_viewers(b, g, make_epoch_changed, (void *)g);
        if (old->epoch != g->epoch || old->pending != g->pending || old->own_leaf != g->own_leaf)
                emit_to_viewers(b, g, make_props_changed, (void *)g);
}

/* SelfUpdateReady(ay commit, t epoch): an automatic self-update is
 * pending in the group. */
struct self_update_sig {
        const struct b_group *g;
        const uint8_t *commit;
        size_t len;
};

static DBusMessage *
make_self_update_ready(void *ud)
{
        const struct self_update_sig *s = ud;
        char path[96];
        DBusMessage *m;
        DBusMessageIter it;

        b_path_group(s->g->id, path);
        m = dbus_message_new_signal(path, MKD_IFACE_GROUP, "SelfUpdateReady");
        if (!m)
                return NULL;
        dbus_message_iter_init_append(m, &it);
        if (!append_ay(&it, s->commit, s->len) ||
            !dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &s->g->epoch)) {
                dbus_message_unref(m);
                return NULL;
        }
        return m;
}

void
b_self_updates(struct broker *b, const struct mkd_val *res)
{
        struct mkd_list_iter it;
        const uint8_t *p;
        size_t len;

        mkd_list_iter_init(&it, &res[MKD_SUR_UPDATES]);
        while (mkd_list_next_bytes(&it, &p, &len)) {
                struct mkd_val v[MKD_SU_N];
                struct self_update_sig s;
                struct b_group *g;
                char path[96];

                if (mkd_proto_decode(mkd_schema_self_update, p, len, v) < 0 ||
                    b_index_put_group(b, v[MKD_SU_SUMMARY].p, v[MKD_SU_SUMMARY].len, &g) < 0) {
                        mkd_log_err("a malformed self-update from the engine");
                        continue;
                }
                b_path_group(g->id, path);
                mkd_log_info("%s: automatic self-update at epoch %llu, commit pending", path,
                             (unsigned long long)g->epoch);
                s = (struct self_update_sig){ .g = g, .commit = v[MKD_SU_COMMIT].p,
                                              .len = v[MKD_SU_COMMIT].len };
                if (b->conn)
                        emit_to_viewers(b, g, make_self_update_ready, &s);
        }
}

/* ---- argument readers ---- */

static void
read_ay(DBusMessageIter *it, const uint8_t **p, size_t *n)
{
        DBusMessageIter sub;
        int len = 0;

        dbus_message_iter_recurse(it, &sub);
        *p = NULL;
        dbus_message_iter_get_fixed_array(&sub, p, &len);
        *n = (size_t)len;
        if (!*p)
                *p = (const uint8_t *)"";
        dbus_message_iter_next(it);
}

/* aay -> a bytes-list body in w (each element capped). */
static int
read_aay(DBusMessageIter *it, struct mls_writer *w, size_t *ret_n, size_t max_count,
         size_t elem_max, const char *what, struct broker *b, DBusMessage *msg)
{
        DBusMessageIter sub;
        size_t n = 0;

        dbus_message_iter_recurse(it, &sub);
        while (dbus_message_iter_get_arg_type(&sub) == DBUS_TYPE_ARRAY) {
                const uint8_t *p;
                size_t len;

                read_ay(&sub, &p, &len);
                if (++n > max_count || len > elem_max) {
                        b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT,
                                      "%s: at most %zu elements of at most %zu bytes", what,
                                      max_count, elem_max);
                        return MLS_E_TOO_LARGE;
                }
                MLS_TRY(mkd_list_bytes_append(w, p, len));
        }
        dbus_message_iter_next(it);
        *ret_n = n;
        return 0;
}

static int
read_au(DBusMessageIter *it, struct mls_writer *w, size_t *ret_n, size_t max_count,
        const char *what, struct broker *b, DBusMessage *msg)
{
        DBusMessageIter sub;
        const uint32_t *v = NULL;
        int n = 0;

        dbus_message_iter_recurse(it, &sub);
        dbus_message_iter_get_fixed_array(&sub, &v, &n);
        if ((size_t)n > max_count) {
                b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT, "%s: at most %zu elements", what,
                              max_count);
                return MLS_E_TOO_LARGE;
        }
        for (int i = 0; i < n; i++)
                MLS_TRY(mkd_list_u32_append(w, v[i]));
        dbus_message_iter_next(it);
        *ret_n = (size_t)n;
        return 0;
}

/* ---- options ---- */

struct opt_spec {
        const char *key;
        const char *sig;
        size_t max; /* bytes or elements */
        size_t elem_max;
};

struct opt_val {
        bool set;
        uint64_t u;
        const char *s;
        const uint8_t *p;
        size_t len;
        struct mls_writer list; /* aay / au bodies */
        size_t n;
};

static void
opts_clear(struct opt_val *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                mls_writer_clear(&v[i].list);
}

/*
 * Parses an a{sv} against spec: every key must be known and of its type
 * (org.mlskeyd.Error.InvalidArgument naming the key otherwise); a key
 * twice is refused too. On error the reply has been sent.
 */
static int
parse_options(struct broker *b, DBusMessage *msg, DBusMessageIter *it, const struct opt_spec *spec,
              size_t n_spec, struct opt_val *out)
{
        DBusMessageIter dict;

        for (size_t i = 0; i < n_spec; i++) {
                memset(&out[i], 0, sizeof(out[i]));
                mls_writer_init(&out[i].list);
        }
        dbus_message_iter_recurse(it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter e, var;
                const char *key;
                char *sig;
                size_t k;
                bool ok;

                dbus_message_iter_recurse(&dict, &e);
                dbus_message_iter_get_basic(&e, &key);
                dbus_message_iter_next(&e);
                dbus_message_iter_recurse(&e, &var);
                for (k = 0; k < n_spec; k++)
                        if (strcmp(spec[k].key, key) == 0)
                                break;
                if (k == n_spec) {
                        b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT, "unknown option key \"%s\"",
                                      key);
                        return MLS_E_INVALID_ARGUMENT;
                }
                if (out[k].set) {
                        b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT,
                                      "option \"%s\" given twice", key);
                        return MLS_E_INVALID_ARGUMENT;
                }
                sig = dbus_message_iter_get_signature(&var);
                ok = sig && strcmp(sig, spec[k].sig) == 0;
                dbus_free(sig);
                if (!ok) {
                        b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT,
                                      "option \"%s\" must be of type \"%s\"", key, spec[k].sig);
                        return MLS_E_INVALID_ARGUMENT;
                }
                out[k].set = true;
                switch (spec[k].sig[0]) {
                case 'b': {
                        dbus_bool_t v;

                        dbus_message_iter_get_basic(&var, &v);
                        out[k].u = v ? 1 : 0;
                        break;
                }
                case 'u': {
                        uint32_t v;

                        dbus_message_iter_get_basic(&var, &v);
                        out[k].u = v;
                        break;
                }
                case 'q': {
                        uint16_t v;

                        dbus_message_iter_get_basic(&var, &v);
                        out[k].u = v;
                        break;
                }
                case 't':
                        dbus_message_iter_get_basic(&var, &out[k].u);
                        break;
                case 's':
                        dbus_message_iter_get_basic(&var, &out[k].s);
                        if (strlen(out[k].s) > spec[k].max) {
                                b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT,
                                              "option \"%s\" is longer than %zu bytes", key,
                                              spec[k].max);
                                return MLS_E_INVALID_ARGUMENT;
                        }
                        break;
                case 'a':
                        if (strcmp(spec[k].sig, "ay") == 0) {
                                read_ay(&var, &out[k].p, &out[k].len);
                                if (out[k].len > spec[k].max) {
                                        b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT,
                                                      "option \"%s\" is longer than %zu bytes",
                                                      key, spec[k].max);
                                        return MLS_E_INVALID_ARGUMENT;
                                }
                        } else if (strcmp(spec[k].sig, "aay") == 0) {
                                MLS_TRY(read_aay(&var, &out[k].list, &out[k].n, spec[k].max,
                                                 spec[k].elem_max, key, b, msg));
                        } else {
                                MLS_TRY(read_au(&var, &out[k].list, &out[k].n, spec[k].max, key, b,
                                                msg));
                        }
                        break;
                default:
                        return MLS_E_INTERNAL;
                }
                dbus_message_iter_next(&dict);
        }
        dbus_message_iter_next(it);
        return 0;
}

/* ---- the call context ---- */

struct ctx {
        struct broker *b;
        DBusMessage *msg;
        struct b_caller *who;
        struct mkd_cred cred;
        struct b_identity *idn; /* the identity object, or the group's identity */
        struct b_group *grp;
        enum mkd_access access;
        DBusMessageIter it;     /* at the first argument */
};

static void
not_found(struct ctx *c)
{
        b_reply_error(c->b, c->msg, MLS_E_NOT_FOUND, NOT_FOUND_TEXT);
}

static void
bad_arg(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
bad_arg(struct ctx *c, const char *fmt, ...)
{
        char text[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        b_reply_error(c->b, c->msg, MLS_E_INVALID_ARGUMENT, "%s", text);
}

static bool
cap(struct ctx *c, const char *what, size_t len, size_t max)
{
        if (len <= max)
                return true;
        bad_arg(c, "%s is larger than %zu bytes", what, max);
        return false;
}

static void
call(struct ctx *c, enum b_kind kind, uint16_t op, const uint8_t *obj, const struct mkd_val *args)
{
        /* On failure the caller has been answered. */
        if (b_call_engine(c->b, kind, op, c->msg, obj, c->cred.uid, args) < 0)
                return;
}

/* Retention and handshake options for a new group (create, join, ...). */
static const struct opt_spec group_opt_spec[] = {
        { "max_past_epochs", "u", 0, 0 },
        { "handshake", "s", 16, 0 },
        { "max_past_generations", "u", 0, 0 },
        { "max_forward_distance", "u", 0, 0 },
        { "external_senders", "aay", MKD_CAP_COUNT, MKD_CAP_CREDENTIAL + MKD_CAP_PUB },
        { "required_capabilities", "ay", MKD_CAP_EXTENSIONS, 0 },
        /* external commit only */
        { "psk_ids", "aay", MKD_CAP_COUNT, MKD_CAP_PSK_ID },
        { "remove_prior_leaf", "u", 0, 0 },
};
enum { GO_MPE, GO_HANDSHAKE, GO_MPG, GO_MFD, GO_EXT_SENDERS, GO_REQ_CAPS, GO_PSK_IDS, GO_PRIOR };

/* Fills the MKD_GO_* values from parsed options and the policy. */
static bool
group_opts_vals(struct ctx *c, const struct opt_val *o, struct mkd_val *go)
{
        const struct mkd_policy *p = &c->b->policy;
        uint64_t mpe = o[GO_MPE].set ? o[GO_MPE].u : p->max_past_epochs;
        uint64_t mpg = o[GO_MPG].set ? o[GO_MPG].u : p->max_past_generations;
        uint64_t mfd = o[GO_MFD].set ? o[GO_MFD].u : p->max_forward_distance;
        bool private_hs = false;

        /* Callers may keep less than the administrator allows, not more. */
        if (mpe > p->max_past_epochs || mpg > p->max_past_generations ||
            mfd > p->max_forward_distance) {
                b_reply_error(c->b, c->msg, MLS_E_POLICY_DENIED,
                              "retention options may not exceed the policy's [retention] values");
                return false;
        }
        if (o[GO_HANDSHAKE].set) {
                if (strcmp(o[GO_HANDSHAKE].s, "private") == 0)
                        private_hs = true;
                else if (strcmp(o[GO_HANDSHAKE].s, "public") != 0) {
                        bad_arg(c, "option \"handshake\" must be \"public\" or \"private\"");
                        return false;
                }
        }
        go[MKD_GO_MAX_PAST_EPOCHS] = mkd_val_u(mpe);
        go[MKD_GO_MAX_PAST_GENERATIONS] = mkd_val_u(mpg);
        go[MKD_GO_MAX_FORWARD_DISTANCE] = mkd_val_u(mfd);
        go[MKD_GO_HANDSHAKE_PRIVATE] = mkd_val_u(private_hs);
        go[MKD_GO_EXTERNAL_SENDERS] =
                mkd_val_list(o[GO_EXT_SENDERS].list.buf, o[GO_EXT_SENDERS].list.len, o[GO_EXT_SENDERS].n);
        go[MKD_GO_REQUIRED_CAPABILITIES] = mkd_val_bytes(o[GO_REQ_CAPS].p, o[GO_REQ_CAPS].len);
        return true;
}

static size_t
groups_of_owner(struct broker *b, uint32_t owner)
{
        size_t n = 0;

        for (size_t i = 0; i < b->n_groups; i++) {
                struct b_identity *idn = b_find_identity(b, b->groups[i]->identity, B_ID_LEN);

                if (idn && idn->owner == owner)
                        n++;
        }
        return n;
}

static bool
group_quota(struct ctx *c)
{
        if (groups_of_owner(c->b, c->idn->owner) < c->b->policy.max_groups_per_uid)
                return true;
        b_reply_error(c->b, c->msg, MLS_E_POLICY_DENIED,
                      "the identity's owner has reached the policy's max_groups_per_uid");
        return false;
}

/* ---- Manager ---- */

static void
m_create_identity(struct ctx *c)
{
        static const struct opt_spec spec[] = { { "tpm", "b", 0, 0 }, { "label", "s", MKD_CAP_LABEL, 0 } };
        struct opt_val o[2];
        const uint8_t *cred;
        size_t cred_len, n = 0;
        uint16_t suite;
        struct mkd_val a[4];

        read_ay(&c->it, &cred, &cred_len);
        dbus_message_iter_get_basic(&c->it, &suite);
        dbus_message_iter_next(&c->it);
        if (parse_options(c->b, c->msg, &c->it, spec, 2, o) < 0)
                goto out;
        if (cred_len == 0 || !cap(c, "credential_identity", cred_len, MKD_CAP_CREDENTIAL)) {
                if (cred_len == 0)
                        bad_arg(c, "credential_identity is empty");
                goto out;
        }
        if (!mls_suite_get(suite)) {
                b_reply_error(c->b, c->msg, MLS_E_UNSUPPORTED, "cipher suite %u is not supported",
                              suite);
                goto out;
        }
        /* TPM-resident keys exist for ECDSA P-256 only (the vault checks
         * that a TPM is there). */
        if (o[0].set && o[0].u && suite != MLS_SUITE_P256_AES128GCM_SHA256_P256) {
                b_reply_error(c->b, c->msg, MLS_E_UNSUPPORTED,
                              "TPM-resident signature keys need cipher suite 2 (P-256), not %u",
                              suite);
                goto out;
        }
        for (size_t i = 0; i < c->b->n_ids; i++)
                if (c->b->ids[i]->owner == c->cred.uid)
                        n++;
        if (n >= c->b->policy.max_identities_per_uid) {
                b_reply_error(c->b, c->msg, MLS_E_POLICY_DENIED,
                              "the policy's max_identities_per_uid is reached");
                goto out;
        }
        a[MKD_CI_CREDENTIAL] = mkd_val_bytes(cred, cred_len);
        a[MKD_CI_SUITE] = mkd_val_u(suite);
        a[MKD_CI_LABEL] = o[1].set ? mkd_val_bytes((const uint8_t *)o[1].s, strlen(o[1].s))
                                   : mkd_val_bytes(NULL, 0);
        a[MKD_CI_TPM] = mkd_val_u(o[0].set && o[0].u);
        call(c, K_CREATE_IDENTITY, MKD_E_CREATE_IDENTITY, NULL, a);
out:
        opts_clear(o, 2);
}

static void
m_list(struct ctx *c, bool groups)
{
        DBusMessage *r = dbus_message_new_method_return(c->msg);
        DBusMessageIter it, arr;
        char path[96];

        if (!r)
                return;
        dbus_message_iter_init_append(r, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "o", &arr);
        if (!groups) {
                for (size_t i = 0; i < c->b->n_ids; i++)
                        if (identity_access(c->b->ids[i], &c->cred) != MKD_ACCESS_NONE) {
                                const char *p = path;

                                b_path_identity(c->b->ids[i]->id, path);
                                dbus_message_iter_append_basic(&arr, DBUS_TYPE_OBJECT_PATH, &p);
                        }
        } else {
                for (size_t i = 0; i < c->b->n_groups; i++)
                        if (group_access(c->b, c->b->groups[i], &c->cred) != MKD_ACCESS_NONE) {
                                const char *p = path;

                                b_path_group(c->b->groups[i]->id, path);
                                dbus_message_iter_append_basic(&arr, DBUS_TYPE_OBJECT_PATH, &p);
                        }
        }
        dbus_message_iter_close_container(&it, &arr);
        send_reply(c->b, r);
}

static void
m_list_identities(struct ctx *c)
{
        m_list(c, false);
}

static void
m_list_groups(struct ctx *c)
{
        m_list(c, true);
}

struct policy_dump {
        DBusMessageIter *dict;
        bool ok;
};

static int
policy_visit(void *ud, const struct mkd_policy_entry *e)
{
        struct policy_dump *d = ud;

        if (e->type == MKD_POLICY_STRING)
                d->ok = d->ok && dict_basic(d->dict, e->name, DBUS_TYPE_STRING, &e->str);
        else
                d->ok = d->ok && dict_basic(d->dict, e->name, DBUS_TYPE_UINT64, &e->num);
        return d->ok ? 0 : MLS_E_NOMEM;
}

static void
m_get_policy(struct ctx *c)
{
        DBusMessage *r = dbus_message_new_method_return(c->msg);
        DBusMessageIter it, dict;
        struct policy_dump d = { .dict = &dict, .ok = true };

        if (!r)
                return;
        dbus_message_iter_init_append(r, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
        if (mkd_policy_foreach(&c->b->policy, policy_visit, &d) < 0)
                d.ok = false;
        dbus_message_iter_close_container(&it, &dict);
        if (!d.ok) {
                dbus_message_unref(r);
                b_reply_error(c->b, c->msg, MLS_E_NOMEM, "out of memory");
                return;
        }
        send_reply(c->b, r);
}

/* ---- Identity ---- */

static void
i_generate_key_packages(struct ctx *c)
{
        static const struct opt_spec spec[] = { { "lifetime", "t", 0, 0 }, { "last_resort", "b", 0, 0 } };
        struct opt_val o[2];
        uint32_t count;
        struct mkd_val a[4];
        uint64_t lifetime;

        dbus_message_iter_get_basic(&c->it, &count);
        dbus_message_iter_next(&c->it);
        if (parse_options(c->b, c->msg, &c->it, spec, 2, o) < 0)
                goto out;
        if (count == 0 || count > MKD_CAP_COUNT) {
                bad_arg(c, "count must be 1..%u", MKD_CAP_COUNT);
                goto out;
        }
        lifetime = o[0].set ? o[0].u : c->b->policy.keypackage_lifetime;
        if (lifetime == 0 || lifetime > c->b->policy.keypackage_lifetime) {
                b_reply_error(c->b, c->msg, MLS_E_POLICY_DENIED,
                              "lifetime must be 1..%llu seconds ([keypackages] lifetime)",
                              (unsigned long long)c->b->policy.keypackage_lifetime);
                goto out;
        }
        a[MKD_KP_IDENTITY] = mkd_val_bytes(c->idn->id, B_ID_LEN);
        a[MKD_KP_COUNT] = mkd_val_u(count);
        a[MKD_KP_LIFETIME] = mkd_val_u(lifetime);
        a[MKD_KP_LAST_RESORT] = mkd_val_u(o[1].set && o[1].u);
        call(c, K_GENERATE_KEY_PACKAGES, MKD_E_GENERATE_KEY_PACKAGES, c->idn->id, a);
out:
        opts_clear(o, 2);
}

static void
i_create_group(struct ctx *c)
{
        struct opt_val o[MLS_ARRAY_SIZE(group_opt_spec)];
        struct mkd_val a[2 + MKD_GO_N];
        const uint8_t *gid;
        size_t gid_len;

        read_ay(&c->it, &gid, &gid_len);
        if (parse_options(c->b, c->msg, &c->it, group_opt_spec, 6, o) < 0)
                goto out;
        if (!cap(c, "group_id", gid_len, MKD_CAP_GROUP_ID) || !group_quota(c) ||
            !group_opts_vals(c, o, &a[MKD_CG_OPTS]))
                goto out;
        a[MKD_CG_IDENTITY] = mkd_val_bytes(c->idn->id, B_ID_LEN);
        a[MKD_CG_GROUP_ID] = mkd_val_bytes(gid, gid_len);
        call(c, K_CREATE_GROUP, MKD_E_CREATE_GROUP, c->idn->id, a);
out:
        opts_clear(o, 6);
}

static void
i_join_group(struct ctx *c)
{
        struct opt_val o[MLS_ARRAY_SIZE(group_opt_spec)];
        struct mkd_val a[3 + MKD_GO_N];
        const uint8_t *w, *t;
        size_t wl, tl;

        read_ay(&c->it, &w, &wl);
        read_ay(&c->it, &t, &tl);
        /* Retention and handshake only (doc XML). */
        if (parse_options(c->b, c->msg, &c->it, group_opt_spec, 4, o) < 0)
                goto out;
        if (!cap(c, "welcome", wl, MKD_CAP_MESSAGE) || !cap(c, "ratchet_tree", tl, MKD_CAP_MESSAGE) ||
            !group_quota(c))
                goto out;
        memset(&o[GO_EXT_SENDERS], 0, 2 * sizeof(o[0]));
        if (!group_opts_vals(c, o, &a[MKD_JG_OPTS]))
                goto out;
        a[MKD_JG_IDENTITY] = mkd_val_bytes(c->idn->id, B_ID_LEN);
        a[MKD_JG_WELCOME] = mkd_val_bytes(w, wl);
        a[MKD_JG_TREE] = mkd_val_bytes(t, tl);
        call(c, K_JOIN_GROUP, MKD_E_JOIN_GROUP, c->idn->id, a);
out:
        opts_clear(o, 4);
}

static void
i_join_external(struct ctx *c)
{
        struct opt_val o[MLS_ARRAY_SIZE(group_opt_spec)];
        struct mkd_val a[6 + MKD_GO_N];
        const uint8_t *gi, *t;
        size_t gil, tl;
        size_t n = MLS_ARRAY_SIZE(group_opt_spec);

        read_ay(&c->it, &gi, &gil);
        read_ay(&c->it, &t, &tl);
        if (parse_options(c->b, c->msg, &c->it, group_opt_spec, n, o) < 0)
                goto out;
        if (o[GO_EXT_SENDERS].set || o[GO_REQ_CAPS].set) {
                bad_arg(c, "unknown option key \"%s\"",
                        o[GO_EXT_SENDERS].set ? "external_senders" : "required_capabilities");
                goto out;
        }
        if (!cap(c, "group_info", gil, MKD_CAP_MESSAGE) || !cap(c, "ratchet_tree", tl, MKD_CAP_MESSAGE) ||
            !group_quota(c) || !group_opts_vals(c, o, &a[MKD_JX_OPTS]))
                goto out;
        a[MKD_JX_IDENTITY] = mkd_val_bytes(c->idn->id, B_ID_LEN);
        a[MKD_JX_GROUP_INFO] = mkd_val_bytes(gi, gil);
        a[MKD_JX_TREE] = mkd_val_bytes(t, tl);
        a[MKD_JX_PSK_IDS] = mkd_val_list(o[GO_PSK_IDS].list.buf, o[GO_PSK_IDS].list.len, o[GO_PSK_IDS].n);
        a[MKD_JX_REMOVE_PRIOR] = mkd_val_u(o[GO_PRIOR].set);
        a[MKD_JX_PRIOR_LEAF] = mkd_val_u(o[GO_PRIOR].u);
        call(c, K_JOIN_EXTERNAL, MKD_E_JOIN_EXTERNAL, c->idn->id, a);
out:
        opts_clear(o, n);
}

static void
i_store_psk(struct ctx *c)
{
        const uint8_t *id, *psk;
        size_t il, pl;
        struct mkd_val a[3];

        read_ay(&c->it, &id, &il);
        read_ay(&c->it, &psk, &pl);
        if (il == 0 || pl == 0) {
                bad_arg(c, "psk_id and psk must not be empty");
                return;
        }
        if (!cap(c, "psk_id", il, MKD_CAP_PSK_ID) || !cap(c, "psk", pl, MKD_CAP_PSK))
                return;
        a[MKD_SP_IDENTITY] = mkd_val_bytes(c->idn->id, B_ID_LEN);
        a[MKD_SP_PSK_ID] = mkd_val_bytes(id, il);
        a[MKD_SP_PSK] = mkd_val_bytes(psk, pl);
        call(c, K_STORE_PSK, MKD_E_STORE_PSK, c->idn->id, a);
}

static void
i_set_access(struct ctx *c)
{
        static const struct opt_spec spec[] = {
                { "uids", "au", MKD_CAP_ACL, 0 }, { "gids", "au", MKD_CAP_ACL, 0 },
        };
        struct opt_val o[2];
        struct mkd_val a[3];
        _mls_writer_ struct mls_writer cu = { 0 }, cg = { 0 };

        mls_writer_init(&cu);
        mls_writer_init(&cg);
        if (c->access != MKD_ACCESS_OWNER) {
                b_reply_error(c->b, c->msg, MLS_E_ACCESS_DENIED,
                              "only the identity's owner may change its access");
                return;
        }
        if (parse_options(c->b, c->msg, &c->it, spec, 2, o) < 0)
                goto out;
        a[MKD_SA_IDENTITY] = mkd_val_bytes(c->idn->id, B_ID_LEN);
        /* A key left out keeps its current list. */
        if (o[0].set) {
                a[MKD_SA_UIDS] = mkd_val_list(o[0].list.buf, o[0].list.len, o[0].n);
        } else {
                for (size_t i = 0; i < c->idn->n_uids; i++)
                        if (mkd_list_u32_append(&cu, c->idn->uids[i]) < 0)
                                goto out;
                a[MKD_SA_UIDS] = mkd_val_list(cu.buf, cu.len, c->idn->n_uids);
        }
        if (o[1].set) {
                a[MKD_SA_GIDS] = mkd_val_list(o[1].list.buf, o[1].list.len, o[1].n);
        } else {
                for (size_t i = 0; i < c->idn->n_gids; i++)
                        if (mkd_list_u32_append(&cg, c->idn->gids[i]) < 0)
                                goto out;
                a[MKD_SA_GIDS] = mkd_val_list(cg.buf, cg.len, c->idn->n_gids);
        }
        call(c, K_SET_ACCESS, MKD_E_SET_ACCESS, c->idn->id, a);
out:
        opts_clear(o, 2);
}

static void
i_delete(struct ctx *c)
{
        struct mkd_val a[1];

        if (c->access != MKD_ACCESS_OWNER) {
                b_reply_error(c->b, c->msg, MLS_E_ACCESS_DENIED,
                              "only the identity's owner may delete it");
                return;
        }
        a[0] = mkd_val_bytes(c->idn->id, B_ID_LEN);
        call(c, K_DELETE_IDENTITY, MKD_E_DELETE_IDENTITY, c->idn->id, a);
}

/* ---- Group ---- */

static void
g_encrypt(struct ctx *c)
{
        const uint8_t *pt, *aad;
        size_t pl, al;
        struct mkd_val a[3];

        read_ay(&c->it, &pt, &pl);
        read_ay(&c->it, &aad, &al);
        if (!cap(c, "plaintext", pl, MKD_CAP_PLAINTEXT) || !cap(c, "authenticated_data", al, MKD_CAP_AAD))
                return;
        a[MKD_EN_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
        a[MKD_EN_PLAINTEXT] = mkd_val_bytes(pt, pl);
        a[MKD_EN_AAD] = mkd_val_bytes(aad, al);
        call(c, K_ENCRYPT, MKD_E_ENCRYPT, c->grp->id, a);
}

static void
g_process(struct ctx *c)
{
        const uint8_t *m;
        size_t ml;
        struct mkd_val a[2];

        read_ay(&c->it, &m, &ml);
        if (!cap(c, "message", ml, MKD_CAP_MESSAGE))
                return;
        a[MKD_PR_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
        a[MKD_PR_MESSAGE] = mkd_val_bytes(m, ml);
        call(c, K_PROCESS, MKD_E_PROCESS, c->grp->id, a);
}

static const struct opt_spec commit_spec[] = {
        { "inline_tree", "b", 0, 0 },
        { "force_path", "b", 0, 0 },
        { "psk_ids", "aay", MKD_CAP_COUNT, MKD_CAP_PSK_ID },
};

static void
g_commit_kind(struct ctx *c, enum b_kind kind, uint8_t ckind)
{
        struct opt_val o[3];
        struct mkd_val a[7];
        _mls_writer_ struct mls_writer kps = { 0 }, leaves = { 0 };
        size_t nk = 0, nl = 0;

        mls_writer_init(&kps);
        mls_writer_init(&leaves);
        memset(o, 0, sizeof(o));
        if (ckind == MKD_COMMIT_ADD &&
            read_aay(&c->it, &kps, &nk, MKD_CAP_COUNT, MKD_CAP_KEY_PACKAGE, "key_packages", c->b,
                     c->msg) < 0)
                return;
        if (ckind == MKD_COMMIT_REMOVE &&
            read_au(&c->it, &leaves, &nl, MKD_CAP_COUNT, "leaves", c->b, c->msg) < 0)
                return;
        if (parse_options(c->b, c->msg, &c->it, commit_spec, 3, o) < 0)
                goto out;
        if ((ckind == MKD_COMMIT_ADD && nk == 0) || (ckind == MKD_COMMIT_REMOVE && nl == 0)) {
                bad_arg(c, "%s must not be empty", ckind == MKD_COMMIT_ADD ? "key_packages" : "leaves");
                goto out;
        }
        a[MKD_CM_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
        a[MKD_CM_KIND] = mkd_val_u(ckind);
        a[MKD_CM_KEY_PACKAGES] = mkd_val_list(kps.buf, kps.len, nk);
        a[MKD_CM_LEAVES] = mkd_val_list(leaves.buf, leaves.len, nl);
        a[MKD_CM_INLINE_TREE] = mkd_val_u(o[0].set ? o[0].u : 1); /* D-Bus default: true */
        a[MKD_CM_FORCE_PATH] = mkd_val_u(o[1].set && o[1].u);
        a[MKD_CM_PSK_IDS] = mkd_val_list(o[2].list.buf, o[2].list.len, o[2].n);
        call(c, kind, MKD_E_COMMIT, c->grp->id, a);
out:
        opts_clear(o, 3);
}

static void
g_add(struct ctx *c)
{
        g_commit_kind(c, K_ADD, MKD_COMMIT_ADD);
}

static void
g_remove(struct ctx *c)
{
        g_commit_kind(c, K_REMOVE, MKD_COMMIT_REMOVE);
}

static void
g_update(struct ctx *c)
{
        g_commit_kind(c, K_UPDATE, MKD_COMMIT_UPDATE);
}

static void
g_commit(struct ctx *c)
{
        g_commit_kind(c, K_COMMIT, MKD_COMMIT_COMMIT);
}

static void
g_simple(struct ctx *c, enum b_kind kind, uint16_t op)
{
        struct mkd_val a[1] = { mkd_val_bytes(c->grp->id, B_ID_LEN) };

        call(c, kind, op, c->grp->id, a);
}

static void
g_merge(struct ctx *c)
{
        g_simple(c, K_MERGE, MKD_E_MERGE);
}

static void
g_clear(struct ctx *c)
{
        g_simple(c, K_CLEAR, MKD_E_CLEAR);
}

static void
g_ratchet_tree(struct ctx *c)
{
        g_simple(c, K_RATCHET_TREE, MKD_E_RATCHET_TREE);
}

static void
g_leave(struct ctx *c)
{
        g_simple(c, K_LEAVE, MKD_E_LEAVE);
}

static void
g_delete(struct ctx *c)
{
        g_simple(c, K_DELETE_GROUP, MKD_E_DELETE_GROUP);
}

static void
g_propose(struct ctx *c)
{
        static const struct {
                const char *name;
                uint8_t type;
                const char *keys; /* allowed (and required) argument keys, comma separated */
        } types[] = {
                { "add", MKD_PROP_ADD, "key_package" },
                { "remove", MKD_PROP_REMOVE, "leaf" },
                { "update", MKD_PROP_UPDATE, "" },
                { "external_psk", MKD_PROP_EXTERNAL_PSK, "psk_id" },
                { "resumption_psk", MKD_PROP_RESUMPTION_PSK, "group_id,epoch" },
                { "group_context_extensions", MKD_PROP_GROUP_CONTEXT_EXTENSIONS, "extensions" },
                { "reinit", MKD_PROP_REINIT, "group_id,cipher_suite,extensions" },
        };
        static const struct opt_spec spec[] = {
                { "key_package", "ay", MKD_CAP_KEY_PACKAGE, 0 },
                { "leaf", "u", 0, 0 },
                { "psk_id", "ay", MKD_CAP_PSK_ID, 0 },
                { "group_id", "ay", MKD_CAP_GROUP_ID, 0 },
                { "epoch", "t", 0, 0 },
                { "cipher_suite", "q", 0, 0 },
                { "extensions", "ay", MKD_CAP_EXTENSIONS, 0 },
        };
        struct opt_val o[7];
        struct mkd_val a[9];
        const char *type;
        size_t t;

        memset(o, 0, sizeof(o));
        dbus_message_iter_get_basic(&c->it, &type);
        dbus_message_iter_next(&c->it);
        for (t = 0; t < MLS_ARRAY_SIZE(types); t++)
                if (strcmp(types[t].name, type) == 0)
                        break;
        if (t == MLS_ARRAY_SIZE(types)) {
                bad_arg(c, "unknown proposal type \"%s\"", type);
                return;
        }
        if (parse_options(c->b, c->msg, &c->it, spec, 7, o) < 0)
                goto out;
        for (size_t k = 0; k < 7; k++) {
                const char *keys = types[t].keys, *f = strstr(keys, spec[k].key);
                size_t kl = strlen(spec[k].key);
                bool allowed = f && (f == keys || f[-1] == ',') && (f[kl] == ',' || f[kl] == '\0');

                if (o[k].set && !allowed) {
                        bad_arg(c, "unknown argument key \"%s\" for a %s proposal", spec[k].key, type);
                        goto out;
                }
                if (!o[k].set && allowed) {
                        bad_arg(c, "a %s proposal needs the argument \"%s\"", type, spec[k].key);
                        goto out;
                }
        }
        a[MKD_PP_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
        a[MKD_PP_TYPE] = mkd_val_u(types[t].type);
        a[MKD_PP_KEY_PACKAGE] = mkd_val_bytes(o[0].p, o[0].len);
        a[MKD_PP_LEAF] = mkd_val_u(o[1].u);
        a[MKD_PP_PSK_ID] = mkd_val_bytes(o[2].p, o[2].len);
        a[MKD_PP_GROUP_ID] = mkd_val_bytes(o[3].p, o[3].len);
        a[MKD_PP_EPOCH] = mkd_val_u(o[4].u);
        a[MKD_PP_SUITE] = mkd_val_u(o[5].u);
        a[MKD_PP_EXTENSIONS] = mkd_val_bytes(o[6].p, o[6].len);
        call(c, K_PROPOSE, MKD_E_PROPOSE, c->grp->id, a);
out:
        opts_clear(o, 7);
}

static void
g_reinit_branch(struct ctx *c, bool branch)
{
        struct opt_val o[MLS_ARRAY_SIZE(group_opt_spec)];
        struct mkd_val a[3 + MKD_GO_N];
        _mls_writer_ struct mls_writer kps = { 0 };
        const uint8_t *gid = NULL;
        size_t gl = 0, nk = 0;

        memset(o, 0, sizeof(o));
        mls_writer_init(&kps);
        if (branch)
                read_ay(&c->it, &gid, &gl);
        if (read_aay(&c->it, &kps, &nk, MKD_CAP_COUNT, MKD_CAP_KEY_PACKAGE, "key_packages", c->b,
                     c->msg) < 0)
                return;
        if (parse_options(c->b, c->msg, &c->it, group_opt_spec, 4, o) < 0)
                goto out;
        if ((branch && !cap(c, "group_id", gl, MKD_CAP_GROUP_ID)) || !group_quota(c))
                goto out;
        if (branch) {
                if (!group_opts_vals(c, o, &a[MKD_BR_OPTS]))
                        goto out;
                a[MKD_BR_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
                a[MKD_BR_GROUP_ID] = mkd_val_bytes(gid, gl);
                a[MKD_BR_KEY_PACKAGES] = mkd_val_list(kps.buf, kps.len, nk);
                call(c, K_BRANCH, MKD_E_BRANCH, c->grp->id, a);
        } else {
                if (!group_opts_vals(c, o, &a[MKD_RI_OPTS]))
                        goto out;
                a[MKD_RI_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
                a[MKD_RI_KEY_PACKAGES] = mkd_val_list(kps.buf, kps.len, nk);
                call(c, K_REINIT, MKD_E_REINIT, c->grp->id, a);
        }
out:
        opts_clear(o, 4);
}

static void
g_reinit(struct ctx *c)
{
        g_reinit_branch(c, false);
}

static void
g_branch(struct ctx *c)
{
        g_reinit_branch(c, true);
}

static void
g_group_info(struct ctx *c)
{
        static const struct opt_spec spec[] = { { "external_pub", "b", 0, 0 }, { "inline_tree", "b", 0, 0 } };
        struct opt_val o[2];
        struct mkd_val a[3];

        if (parse_options(c->b, c->msg, &c->it, spec, 2, o) < 0)
                goto out;
        a[MKD_GI_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
        a[MKD_GI_EXTERNAL_PUB] = mkd_val_u(o[0].set && o[0].u);
        a[MKD_GI_INLINE_TREE] = mkd_val_u(o[1].set && o[1].u);
        call(c, K_GROUP_INFO, MKD_E_GROUP_INFO, c->grp->id, a);
out:
        opts_clear(o, 2);
}

static void
g_export_secret(struct ctx *c)
{
        const char *label;
        const uint8_t *ctxp;
        size_t cl;
        uint32_t len;
        struct mkd_val a[4];

        dbus_message_iter_get_basic(&c->it, &label);
        dbus_message_iter_next(&c->it);
        read_ay(&c->it, &ctxp, &cl);
        dbus_message_iter_get_basic(&c->it, &len);
        if (c->b->policy.export_secret == MKD_EXPORT_DENY) {
                b_reply_error(c->b, c->msg, MLS_E_POLICY_DENIED,
                              "the policy forbids exporting secrets ([access] export_secret = deny)");
                return;
        }
        if (c->access != MKD_ACCESS_OWNER) {
                b_reply_error(c->b, c->msg, MLS_E_POLICY_DENIED,
                              "only the identity's owner may export secrets ([access] export_secret = owner)");
                return;
        }
        if (!cap(c, "label", strlen(label), MKD_CAP_EXPORT_LABEL) ||
            !cap(c, "context", cl, MKD_CAP_EXPORT_CONTEXT))
                return;
        if (len == 0 || len > MKD_CAP_EXPORT_LEN) {
                bad_arg(c, "length must be 1..%u", MKD_CAP_EXPORT_LEN);
                return;
        }
        a[MKD_EX_GROUP] = mkd_val_bytes(c->grp->id, B_ID_LEN);
        a[MKD_EX_LABEL] = mkd_val_bytes((const uint8_t *)label, strlen(label));
        a[MKD_EX_CONTEXT] = mkd_val_bytes(ctxp, cl);
        a[MKD_EX_LENGTH] = mkd_val_u(len);
        call(c, K_EXPORT, MKD_E_EXPORT, c->grp->id, a);
}

/* ---- properties ---- */

enum target { T_MANAGER, T_IDENTITY, T_GROUP };

static bool
append_prop(struct ctx *c, enum target t, const char *name, DBusMessageIter *var_parent,
            bool in_dict)
{
        DBusMessageIter e, v, *dst;
        char sig[8] = "";
        bool ok;

        /* name -> signature */
        static const struct {
                enum target t;
                const char *name;
                const char *sig;
        } props[] = {
                { T_MANAGER, "Version", "s" },
                { T_MANAGER, "SupportedCipherSuites", "aq" },
                { T_IDENTITY, "CredentialIdentity", "ay" },
                { T_IDENTITY, "SignaturePublicKey", "ay" },
                { T_IDENTITY, "CipherSuite", "q" },
                { T_IDENTITY, "Owner", "u" },
                { T_IDENTITY, "Access", "a{sv}" },
                { T_IDENTITY, "TpmBound", "b" },
                { T_GROUP, "GroupId", "ay" },
                { T_GROUP, "Identity", "o" },
                { T_GROUP, "Epoch", "t" },
                { T_GROUP, "CipherSuite", "q" },
                { T_GROUP, "OwnLeaf", "u" },
                { T_GROUP, "EpochAuthenticator", "ay" },
                { T_GROUP, "HasPendingCommit", "b" },
        };
        for (size_t i = 0; i < MLS_ARRAY_SIZE(props); i++)
                if (props[i].t == t && strcmp(props[i].name, name) == 0)
                        snprintf(sig, sizeof(sig), "%s", props[i].sig);
        if (!sig[0])
                return false;
        if (in_dict) {
                if (!dict_begin(var_parent, &e, &v, name, sig))
                        return false;
        } else if (!dbus_message_iter_open_container(var_parent, DBUS_TYPE_VARIANT, sig, &v)) {
                return false;
        }
        dst = &v;
        if (t == T_MANAGER && strcmp(name, "Version") == 0) {
                const char *ver = PACKAGE_VERSION;

                ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_STRING, &ver);
        } else if (t == T_MANAGER) {
                DBusMessageIter a;
                size_t n;
                const uint16_t *ids = mls_suite_ids(&n);

                ok = dbus_message_iter_open_container(dst, DBUS_TYPE_ARRAY, "q", &a) &&
                     dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_UINT16, &ids, (int)n) &&
                     dbus_message_iter_close_container(dst, &a);
        } else if (t == T_IDENTITY) {
                const struct b_identity *i = c->idn;
                dbus_bool_t tpm = i->tpm;

                if (strcmp(name, "CredentialIdentity") == 0)
                        ok = append_ay(dst, i->cred.data, i->cred.len);
                else if (strcmp(name, "SignaturePublicKey") == 0)
                        ok = append_ay(dst, i->pub.data, i->pub.len);
                else if (strcmp(name, "CipherSuite") == 0)
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_UINT16, &i->suite);
                else if (strcmp(name, "Owner") == 0)
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_UINT32, &i->owner);
                else if (strcmp(name, "TpmBound") == 0)
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_BOOLEAN, &tpm);
                else {
                        DBusMessageIter d, de, dv;

                        ok = dbus_message_iter_open_container(dst, DBUS_TYPE_ARRAY, "{sv}", &d) &&
                             dict_begin(&d, &de, &dv, "uids", "au") &&
                             append_au_list(&dv, i->uids, i->n_uids) && dict_end(&d, &de, &dv) &&
                             dict_begin(&d, &de, &dv, "gids", "au") &&
                             append_au_list(&dv, i->gids, i->n_gids) && dict_end(&d, &de, &dv) &&
                             dbus_message_iter_close_container(dst, &d);
                }
        } else {
                const struct b_group *g = c->grp;
                dbus_bool_t pending = g->pending;
                char path[96];
                const char *pp = path;

                if (strcmp(name, "GroupId") == 0)
                        ok = append_ay(dst, g->group_id.data, g->group_id.len);
                else if (strcmp(name, "Identity") == 0) {
                        b_path_identity(g->identity, path);
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_OBJECT_PATH, &pp);
                } else if (strcmp(name, "Epoch") == 0)
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_UINT64, &g->epoch);
                else if (strcmp(name, "CipherSuite") == 0)
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_UINT16, &g->suite);
                else if (strcmp(name, "OwnLeaf") == 0)
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_UINT32, &g->own_leaf);
                else if (strcmp(name, "EpochAuthenticator") == 0)
                        ok = append_ay(dst, g->auth.data, g->auth.len);
                else
                        ok = dbus_message_iter_append_basic(dst, DBUS_TYPE_BOOLEAN, &pending);
        }
        if (!ok)
                return false;
        if (in_dict)
                return dict_end(var_parent, &e, &v);
        return dbus_message_iter_close_container(var_parent, &v);
}

static const char *
iface_of(enum target t)
{
        return t == T_MANAGER ? MKD_IFACE_MANAGER : t == T_IDENTITY ? MKD_IFACE_IDENTITY : MKD_IFACE_GROUP;
}

static void
props_get(struct ctx *c, enum target t)
{
        const char *iface, *name;
        DBusMessage *r;
        DBusMessageIter it;

        if (!dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &name,
                                   DBUS_TYPE_INVALID)) {
                reply_dbus_error(c->b, c->msg, DBUS_ERROR_INVALID_ARGS, "expected (ss)");
                return;
        }
        if (strcmp(iface, iface_of(t)) != 0) {
                reply_dbus_error(c->b, c->msg, DBUS_ERROR_UNKNOWN_INTERFACE, "no such interface here");
                return;
        }
        if (t == T_GROUP && strcmp(name, "Members") == 0) {
                struct mkd_val a[1] = { mkd_val_bytes(c->grp->id, B_ID_LEN) };

                call(c, K_PROP_MEMBERS, MKD_E_MEMBERS, c->grp->id, a);
                return;
        }
        r = dbus_message_new_method_return(c->msg);
        if (!r)
                return;
        dbus_message_iter_init_append(r, &it);
        if (!append_prop(c, t, name, &it, false)) {
                dbus_message_unref(r);
                reply_dbus_error(c->b, c->msg, DBUS_ERROR_UNKNOWN_PROPERTY, "no such property");
                return;
        }
        send_reply(c->b, r);
}

static const char *const manager_props[] = { "Version", "SupportedCipherSuites", NULL };
static const char *const identity_props[] = {
        "CredentialIdentity", "SignaturePublicKey", "CipherSuite", "Owner", "Access", "TpmBound", NULL,
};
static const char *const group_props[] = {
        "GroupId", "Identity", "Epoch", "CipherSuite", "OwnLeaf", "EpochAuthenticator",
        "HasPendingCommit", NULL,
};

/* GetAll; for a group, members (from the engine) are appended by
 * getall_finish. */
static DBusMessage *
getall_build(struct ctx *c, enum target t, const struct mkd_val *members)
{
        const char *const *names = t == T_MANAGER ? manager_props : t == T_IDENTITY ? identity_props
                                                                                     : group_props;
        DBusMessage *r = dbus_message_new_method_return(c->msg);
        DBusMessageIter it, dict;
        bool ok;

        if (!r)
                return NULL;
        dbus_message_iter_init_append(r, &it);
        ok = dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
        for (size_t i = 0; ok && names[i]; i++)
                ok = append_prop(c, t, names[i], &dict, true);
        if (ok && members) {
                DBusMessageIter e, v, arr;
                struct mkd_list_iter li;
                const uint8_t *p;
                size_t len;

                ok = dict_begin(&dict, &e, &v, "Members", "a(uayay)") &&
                     dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "(uayay)", &arr);
                mkd_list_iter_init(&li, members);
                while (ok && mkd_list_next_bytes(&li, &p, &len)) {
                        struct mkd_val m[MKD_MB_N];
                        DBusMessageIter st;
                        uint32_t leaf;

                        if (mkd_proto_decode(mkd_schema_member, p, len, m) < 0) {
                                ok = false;
                                break;
                        }
                        leaf = (uint32_t)m[MKD_MB_LEAF].u;
                        ok = dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, NULL, &st) &&
                             dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &leaf) &&
                             append_ay(&st, m[MKD_MB_IDENTITY].p, m[MKD_MB_IDENTITY].len) &&
                             append_ay(&st, m[MKD_MB_KEY].p, m[MKD_MB_KEY].len) &&
                             dbus_message_iter_close_container(&arr, &st);
                }
                ok = ok && dbus_message_iter_close_container(&v, &arr) && dict_end(&dict, &e, &v);
        }
        ok = ok && dbus_message_iter_close_container(&it, &dict);
        if (!ok) {
                dbus_message_unref(r);
                return NULL;
        }
        return r;
}

static void
props_get_all(struct ctx *c, enum target t)
{
        const char *iface;

        if (!dbus_message_get_args(c->msg, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID)) {
                reply_dbus_error(c->b, c->msg, DBUS_ERROR_INVALID_ARGS, "expected (s)");
                return;
        }
        if (strcmp(iface, iface_of(t)) != 0) {
                reply_dbus_error(c->b, c->msg, DBUS_ERROR_UNKNOWN_INTERFACE, "no such interface here");
                return;
        }
        if (t == T_GROUP) {
                struct mkd_val a[1] = { mkd_val_bytes(c->grp->id, B_ID_LEN) };

                call(c, K_GETALL_GROUP, MKD_E_MEMBERS, c->grp->id, a);
                return;
        }
        send_reply(c->b, getall_build(c, t, NULL));
}

/* ---- introspection ---- */

static const char introspect_std[] =
        "  <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
        "    <method name=\"Introspect\"><arg name=\"xml_data\" type=\"s\" direction=\"out\"/></method>\n"
        "  </interface>\n"
        "  <interface name=\"org.freedesktop.DBus.Properties\">\n"
        "    <method name=\"Get\"><arg name=\"interface_name\" type=\"s\" direction=\"in\"/>"
        "<arg name=\"property_name\" type=\"s\" direction=\"in\"/>"
        "<arg name=\"value\" type=\"v\" direction=\"out\"/></method>\n"
        "    <method name=\"GetAll\"><arg name=\"interface_name\" type=\"s\" direction=\"in\"/>"
        "<arg name=\"props\" type=\"a{sv}\" direction=\"out\"/></method>\n"
        "    <method name=\"Set\"><arg name=\"interface_name\" type=\"s\" direction=\"in\"/>"
        "<arg name=\"property_name\" type=\"s\" direction=\"in\"/>"
        "<arg name=\"value\" type=\"v\" direction=\"in\"/></method>\n"
        "    <signal name=\"PropertiesChanged\"><arg name=\"interface_name\" type=\"s\"/>"
        "<arg name=\"changed_properties\" type=\"a{sv}\"/>"
        "<arg name=\"invalidated_properties\" type=\"as\"/></signal>\n"
        "  </interface>\n";

struct sbuf {
        char *p;
        size_t len, cap;
        bool fail;
};

static void
sb_add(struct sbuf *s, const char *p, size_t n)
{
        if (s->fail)
                return;
        if (s->len + n + 1 > s->cap) {
                size_t nc = (s->len + n + 1) * 2;
                char *np = realloc(s->p, nc);

                if (!np) {
                        s->fail = true;
                        return;
                }
                s->p = np;
                s->cap = nc;
        }
        memcpy(s->p + s->len, p, n);
        s->len += n;
        s->p[s->len] = '\0';
}

static void
sb_str(struct sbuf *s, const char *p)
{
        sb_add(s, p, strlen(p));
}

/* Appends the <interface name="iface"> block of the contract XML. */
static void
sb_interface(struct sbuf *s, const char *iface)
{
        char open[128];
        const char *a, *e;

        snprintf(open, sizeof(open), "<interface name=\"%s\">", iface);
        a = strstr(mkd_interface_xml, open);
        e = a ? strstr(a, "</interface>") : NULL;
        if (!a || !e) {
                s->fail = true;
                return;
        }
        sb_str(s, "  ");
        sb_add(s, a, (size_t)(e - a) + strlen("</interface>"));
        sb_str(s, "\n");
}

static void
introspect(struct ctx *c, const char *path)
{
        struct sbuf s = { 0 };
        DBusMessage *r;
        uint8_t id[B_ID_LEN];
        char node[96];

        sb_str(&s, DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n");
        if (strcmp(path, "/") == 0)
                sb_str(&s, "  <node name=\"org\"/>\n");
        else if (strcmp(path, "/org") == 0)
                sb_str(&s, "  <node name=\"mlskeyd\"/>\n");
        else if (strcmp(path, "/org/mlskeyd") == 0)
                sb_str(&s, "  <node name=\"Daemon1\"/>\n");
        else if (strcmp(path, MKD_PATH_ROOT) == 0) {
                sb_str(&s, introspect_std);
                sb_interface(&s, MKD_IFACE_MANAGER);
                sb_str(&s, "  <node name=\"identity\"/>\n  <node name=\"group\"/>\n");
        } else if (strcmp(path, MKD_PATH_IDENTITY) == 0 || strcmp(path, MKD_PATH_GROUP) == 0) {
                bool groups = strcmp(path, MKD_PATH_GROUP) == 0;
                size_t n = groups ? c->b->n_groups : c->b->n_ids;

                for (size_t i = 0; i < n; i++) {
                        bool vis = groups ? group_access(c->b, c->b->groups[i], &c->cred) != MKD_ACCESS_NONE
                                          : identity_access(c->b->ids[i], &c->cred) != MKD_ACCESS_NONE;
                        char h[2 * B_ID_LEN + 1];

                        if (!vis)
                                continue;
                        sodium_bin2hex(h, sizeof(h),
                                       groups ? c->b->groups[i]->id : c->b->ids[i]->id, B_ID_LEN);
                        snprintf(node, sizeof(node), "  <node name=\"%s\"/>\n", h);
                        sb_str(&s, node);
                }
        } else if (parse_obj_path(path, MKD_PATH_IDENTITY, id)) {
                struct b_identity *i = b_find_identity(c->b, id, B_ID_LEN);

                if (!i || identity_access(i, &c->cred) == MKD_ACCESS_NONE) {
                        free(s.p);
                        not_found(c);
                        return;
                }
                sb_str(&s, introspect_std);
                sb_interface(&s, MKD_IFACE_IDENTITY);
        } else if (parse_obj_path(path, MKD_PATH_GROUP, id)) {
                struct b_group *g = b_find_group(c->b, id, B_ID_LEN);

                if (!g || group_access(c->b, g, &c->cred) == MKD_ACCESS_NONE) {
                        free(s.p);
                        not_found(c);
                        return;
                }
                sb_str(&s, introspect_std);
                sb_interface(&s, MKD_IFACE_GROUP);
        } else {
                free(s.p);
                not_found(c);
                return;
        }
        sb_str(&s, "</node>\n");
        if (s.fail) {
                free(s.p);
                b_reply_error(c->b, c->msg, MLS_E_NOMEM, "out of memory");
                return;
        }
        r = dbus_message_new_method_return(c->msg);
        if (r && dbus_message_append_args(r, DBUS_TYPE_STRING, &s.p, DBUS_TYPE_INVALID))
                send_reply(c->b, r);
        else if (r)
                dbus_message_unref(r);
        free(s.p);
}

#ifdef MKD_TEST_OPS
/* --enable-test-ops builds only: the interface org.mlskeyd.Daemon1.Test on
 * the root object (not in the introspection data), for callers of the
 * daemon's own uid:
 *   ForbiddenSyscall()  the engine makes a system call its filter forbids
 *                       and dies of SIGSYS; the caller gets the
 *                       InternalError of a lost request
 *   Secrets() -> aay    the engine's secret journal (engine.c), tagged
 *                       values, for the secret-scan test
 *   FailWrites(u n)     the next n batches of writes (broker.c,
 *                       replies_store) fail as on a full disk, nothing of
 *                       them stored: the StorageFailure path */
#define MKD_TEST_IFACE "org.mlskeyd.Daemon1.Test"

static void reply_empty(struct broker *b, DBusMessage *msg);

static void
t_test_op(struct ctx *c, const char *member)
{
        if (c->cred.uid != (uint32_t)getuid()) {
                b_reply_error(c->b, c->msg, MLS_E_ACCESS_DENIED, "test ops: the daemon's uid only");
                return;
        }
        mkd_log_warning("test op %s", member);
        if (strcmp(member, "FailWrites") == 0) {
                dbus_uint32_t n = 0;

                if (!dbus_message_get_args(c->msg, NULL, DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID)) {
                        b_reply_error(c->b, c->msg, MLS_E_INVALID_ARGUMENT, "FailWrites takes a u");
                        return;
                }
                c->b->test_fail_writes = n;
                reply_empty(c->b, c->msg);
        } else if (strcmp(member, "ForbiddenSyscall") == 0)
                call(c, K_TEST, MKD_E_TEST_FORBIDDEN_SYSCALL, NULL, NULL);
        else
                call(c, K_TEST_SECRETS, MKD_E_TEST_SECRETS, NULL, NULL);
}
#endif

/* ---- dispatch ---- */

struct method {
        enum target t;
        const char *name;
        const char *sig;
        void (*fn)(struct ctx *c);
};

static const struct method methods[] = {
        { T_MANAGER, "CreateIdentity", "ayqa{sv}", m_create_identity },
        { T_MANAGER, "ListIdentities", "", m_list_identities },
        { T_MANAGER, "ListGroups", "", m_list_groups },
        { T_MANAGER, "GetPolicy", "", m_get_policy },
        { T_IDENTITY, "GenerateKeyPackages", "ua{sv}", i_generate_key_packages },
        { T_IDENTITY, "CreateGroup", "aya{sv}", i_create_group },
        { T_IDENTITY, "JoinGroup", "ayaya{sv}", i_join_group },
        { T_IDENTITY, "JoinByExternalCommit", "ayaya{sv}", i_join_external },
        { T_IDENTITY, "StoreExternalPsk", "ayay", i_store_psk },
        { T_IDENTITY, "SetAccess", "a{sv}", i_set_access },
        { T_IDENTITY, "Delete", "", i_delete },
        { T_GROUP, "Encrypt", "ayay", g_encrypt },
        { T_GROUP, "Process", "ay", g_process },
        { T_GROUP, "Add", "aaya{sv}", g_add },
        { T_GROUP, "Remove", "aua{sv}", g_remove },
        { T_GROUP, "Update", "a{sv}", g_update },
        { T_GROUP, "Commit", "a{sv}", g_commit },
        { T_GROUP, "MergePendingCommit", "", g_merge },
        { T_GROUP, "ClearPendingCommit", "", g_clear },
        { T_GROUP, "Propose", "sa{sv}", g_propose },
        { T_GROUP, "ReInit", "aaya{sv}", g_reinit },
        { T_GROUP, "Branch", "ayaaya{sv}", g_branch },
        { T_GROUP, "GroupInfo", "a{sv}", g_group_info },
        { T_GROUP, "RatchetTree", "", g_ratchet_tree },
        { T_GROUP, "ExportSecret", "sayu", g_export_secret },
        { T_GROUP, "Leave", "", g_leave },
        { T_GROUP, "Delete", "", g_delete },
};

void
b_handle_message(struct broker *b, DBusMessage *msg)
{
        const char *path = dbus_message_get_path(msg), *iface = dbus_message_get_interface(msg);
        const char *member = dbus_message_get_member(msg);
        struct ctx c = { .b = b, .msg = msg };
        uint8_t id[B_ID_LEN];
        enum target t;

        if (!path || !member)
                return;
        c.who = caller_get(b, dbus_message_get_sender(msg));
        if (!c.who) {
                b_reply_error(b, msg, MLS_E_ACCESS_DENIED, "the caller cannot be identified");
                return;
        }
        c.cred = cred_of(c.who);
        if ((!iface || strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) == 0) &&
            strcmp(member, "Introspect") == 0) {
                introspect(&c, path);
                return;
        }
        if (strcmp(path, MKD_PATH_ROOT) == 0) {
                t = T_MANAGER;
        } else if (parse_obj_path(path, MKD_PATH_IDENTITY, id)) {
                t = T_IDENTITY;
                c.idn = b_find_identity(b, id, B_ID_LEN);
                c.access = c.idn ? identity_access(c.idn, &c.cred) : MKD_ACCESS_NONE;
        } else if (parse_obj_path(path, MKD_PATH_GROUP, id)) {
                t = T_GROUP;
                c.grp = b_find_group(b, id, B_ID_LEN);
                c.idn = c.grp ? b_find_identity(b, c.grp->identity, B_ID_LEN) : NULL;
                c.access = c.idn ? identity_access(c.idn, &c.cred) : MKD_ACCESS_NONE;
        } else {
                not_found(&c);
                return;
        }
        /* Another user's object and a nonexistent one answer alike. */
        if (t != T_MANAGER && c.access == MKD_ACCESS_NONE) {
                not_found(&c);
                return;
        }
        if (iface && strcmp(iface, DBUS_INTERFACE_PROPERTIES) == 0) {
                if (strcmp(member, "Get") == 0)
                        props_get(&c, t);
                else if (strcmp(member, "GetAll") == 0)
                        props_get_all(&c, t);
                else if (strcmp(member, "Set") == 0)
                        reply_dbus_error(b, msg, DBUS_ERROR_PROPERTY_READ_ONLY,
                                         "every property is read-only");
                else
                        reply_dbus_error(b, msg, DBUS_ERROR_UNKNOWN_METHOD, "no such method");
                return;
        }
#ifdef MKD_TEST_OPS
        if (t == T_MANAGER && iface && strcmp(iface, MKD_TEST_IFACE) == 0 &&
            (((strcmp(member, "ForbiddenSyscall") == 0 || strcmp(member, "Secrets") == 0) &&
              dbus_message_has_signature(msg, "")) ||
             (strcmp(member, "FailWrites") == 0 && dbus_message_has_signature(msg, "u")))) {
                t_test_op(&c, member);
                return;
        }
#endif
        if (iface && strcmp(iface, iface_of(t)) != 0) {
                reply_dbus_error(b, msg, DBUS_ERROR_UNKNOWN_INTERFACE, "no such interface here");
                return;
        }
        for (size_t i = 0; i < MLS_ARRAY_SIZE(methods); i++) {
                if (methods[i].t != t || strcmp(methods[i].name, member) != 0)
                        continue;
                if (!dbus_message_has_signature(msg, methods[i].sig)) {
                        b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT,
                                      "%s takes arguments of type \"%s\"", member, methods[i].sig);
                        return;
                }
                dbus_message_iter_init(msg, &c.it);
                methods[i].fn(&c);
                return;
        }
        reply_dbus_error(b, msg, DBUS_ERROR_UNKNOWN_METHOD, "no such method");
}

/* ---- completions ---- */

static const char *
kind_name(uint8_t content_type)
{
        switch (content_type) {
        case MLS_CONTENT_APPLICATION:
                return "application";
        case MLS_CONTENT_PROPOSAL:
                return "proposal";
        default:
                return "commit";
        }
}

static void
complete_process(struct broker *b, DBusMessage *msg, const struct mkd_val *res)
{
        DBusMessage *r = dbus_message_new_method_return(msg);
        DBusMessageIter it, dict, e, v;
        const char *kind = kind_name((uint8_t)res[MKD_PRR_CONTENT_TYPE].u);
        uint32_t sender = (uint32_t)res[MKD_PRR_SENDER_INDEX].u;
        uint64_t epoch = res[MKD_PRR_EPOCH].u;
        dbus_bool_t removed = res[MKD_PRR_REMOVED].u != 0, yes = TRUE;
        uint8_t st = (uint8_t)res[MKD_PRR_SENDER_TYPE].u;
        bool ok;

        if (!r)
                return;
        dbus_message_iter_init_append(r, &it);
        ok = dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &kind) &&
             append_ay(&it, res[MKD_PRR_CONTENT].p, res[MKD_PRR_CONTENT].len) &&
             dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
        if (ok && st == MLS_SENDER_MEMBER)
                ok = dict_basic(&dict, "sender", DBUS_TYPE_UINT32, &sender);
        else if (ok && st == MLS_SENDER_EXTERNAL)
                ok = dict_basic(&dict, "external_sender", DBUS_TYPE_UINT32, &sender);
        else if (ok)
                ok = dict_basic(&dict, "new_member", DBUS_TYPE_BOOLEAN, &yes);
        ok = ok && dict_basic(&dict, "epoch", DBUS_TYPE_UINT64, &epoch) &&
             dict_ay(&dict, "authenticated_data", res[MKD_PRR_AAD].p, res[MKD_PRR_AAD].len);
        if (ok && res[MKD_PRR_CONTENT_TYPE].u == MLS_CONTENT_COMMIT) {
                ok = dict_basic(&dict, "removed", DBUS_TYPE_BOOLEAN, &removed) &&
                     dict_begin(&dict, &e, &v, "added", "au") && append_au_val(&v, &res[MKD_PRR_ADDED]) &&
                     dict_end(&dict, &e, &v) && dict_begin(&dict, &e, &v, "removed_leaves", "au") &&
                     append_au_val(&v, &res[MKD_PRR_REMOVED_LEAVES]) && dict_end(&dict, &e, &v);
        }
        ok = ok && dbus_message_iter_close_container(&it, &dict);
        if (!ok) {
                dbus_message_unref(r);
                b_reply_error(b, msg, MLS_E_NOMEM, "out of memory");
                return;
        }
        send_reply(b, r);
}

/* Reply with a new object path (and optionally one blob). */
static void
reply_path(struct broker *b, DBusMessage *msg, const char *path, const struct mkd_val *blob)
{
        DBusMessage *r = dbus_message_new_method_return(msg);
        DBusMessageIter it;

        if (!r)
                return;
        dbus_message_iter_init_append(r, &it);
        if (!dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &path) ||
            (blob && !append_ay(&it, blob->p, blob->len))) {
                dbus_message_unref(r);
                return;
        }
        send_reply(b, r);
}

static void
reply_blobs(struct broker *b, DBusMessage *msg, const struct mkd_val *v, size_t n)
{
        DBusMessage *r = dbus_message_new_method_return(msg);
        DBusMessageIter it;

        if (!r)
                return;
        dbus_message_iter_init_append(r, &it);
        for (size_t i = 0; i < n; i++)
                if (!append_ay(&it, v[i].p, v[i].len)) {
                        dbus_message_unref(r);
                        return;
                }
        send_reply(b, r);
}

static void
reply_empty(struct broker *b, DBusMessage *msg)
{
        send_reply(b, dbus_message_new_method_return(msg));
}

/* Replies with an `aay` made of the byte strings of an engine result list;
 * an error reply if the message cannot be built (the caller always gets an
 * answer). */
static void
reply_aay_list(struct broker *b, DBusMessage *msg, const struct mkd_val *list)
{
        DBusMessage *m = dbus_message_new_method_return(msg);
        DBusMessageIter it, arr;
        struct mkd_list_iter li;
        const uint8_t *p;
        size_t len;
        bool ok;

        if (!m) {
                b_reply_error(b, msg, MLS_E_NOMEM, "out of memory");
                return;
        }
        dbus_message_iter_init_append(m, &it);
        ok = dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "ay", &arr);
        mkd_list_iter_init(&li, list);
        while (ok && mkd_list_next_bytes(&li, &p, &len))
                ok = append_ay(&arr, p, len);
        ok = ok && dbus_message_iter_close_container(&it, &arr);
        if (ok) {
                send_reply(b, m);
        } else {
                dbus_message_unref(m);
                b_reply_error(b, msg, MLS_E_NOMEM, "out of memory");
        }
}

void
b_complete(struct broker *b, struct b_call *c, int status, const struct mkd_val *res)
{
        struct b_group *g = NULL;
        struct b_identity *idn = NULL;
        char path[96];
        int r = 0;

        if (status < 0) {
                b_reply_error(b, c->msg, status, "%s", mls_err_text(status));
                return;
        }
        switch (c->kind) {
        case K_CREATE_IDENTITY:
        case K_SET_ACCESS:
                r = b_index_put_identity(b, res[0].p, res[0].len, &idn);
                if (r == 0 && c->kind == K_CREATE_IDENTITY) {
                        b_path_identity(idn->id, path);
                        reply_path(b, c->msg, path, NULL);
                } else if (r == 0) {
                        reply_empty(b, c->msg);
                }
                break;
        case K_GENERATE_KEY_PACKAGES:
                reply_aay_list(b, c->msg, &res[0]);
                break;
        case K_CREATE_GROUP:
        case K_JOIN_GROUP:
                r = b_index_put_group(b, res[0].p, res[0].len, &g);
                if (r == 0) {
                        b_path_group(g->id, path);
                        reply_path(b, c->msg, path, NULL);
                }
                break;
        case K_JOIN_EXTERNAL:
        case K_REINIT:
        case K_BRANCH:
                r = b_index_put_group(b, res[MKD_SR_SUMMARY].p, res[MKD_SR_SUMMARY].len, &g);
                if (r == 0) {
                        b_path_group(g->id, path);
                        reply_path(b, c->msg, path, &res[MKD_SR_BYTES]);
                }
                break;
        case K_STORE_PSK:
                reply_empty(b, c->msg);
                break;
        case K_DELETE_IDENTITY:
                b_index_remove_identity(b, c->obj);
                reply_empty(b, c->msg);
                break;
        case K_DELETE_GROUP:
                b_index_remove_group(b, c->obj);
                reply_empty(b, c->msg);
                break;
        case K_ENCRYPT:
        case K_PROPOSE:
        case K_LEAVE:
                r = b_index_put_group(b, res[MKD_SR_SUMMARY].p, res[MKD_SR_SUMMARY].len, NULL);
                if (r == 0)
                        reply_blobs(b, c->msg, &res[MKD_SR_BYTES], 1);
                break;
        case K_PROCESS:
                r = b_index_put_group(b, res[MKD_PRR_SUMMARY].p, res[MKD_PRR_SUMMARY].len, NULL);
                if (r == 0)
                        complete_process(b, c->msg, res);
                break;
        case K_ADD:
        case K_COMMIT:
        case K_REMOVE:
        case K_UPDATE:
                r = b_index_put_group(b, res[MKD_CMR_SUMMARY].p, res[MKD_CMR_SUMMARY].len, NULL);
                if (r == 0)
                        reply_blobs(b, c->msg, &res[MKD_CMR_COMMIT],
                                    c->kind == K_ADD || c->kind == K_COMMIT ? 2 : 1);
                break;
        case K_MERGE:
        case K_CLEAR:
                r = b_index_put_group(b, res[0].p, res[0].len, NULL);
                if (r == 0)
                        reply_empty(b, c->msg);
                break;
        case K_GROUP_INFO:
        case K_RATCHET_TREE:
        case K_EXPORT:
                reply_blobs(b, c->msg, &res[0], 1);
                break;
        case K_PROP_MEMBERS: {
                DBusMessage *m = dbus_message_new_method_return(c->msg);
                DBusMessageIter it, v, arr;
                struct mkd_list_iter li;
                const uint8_t *p;
                size_t len;
                bool ok;

                if (!m)
                        break;
                dbus_message_iter_init_append(m, &it);
                ok = dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "a(uayay)", &v) &&
                     dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "(uayay)", &arr);
                mkd_list_iter_init(&li, &res[0]);
                while (ok && mkd_list_next_bytes(&li, &p, &len)) {
                        struct mkd_val mv[MKD_MB_N];
                        DBusMessageIter st;
                        uint32_t leaf;

                        ok = mkd_proto_decode(mkd_schema_member, p, len, mv) == 0;
                        leaf = ok ? (uint32_t)mv[MKD_MB_LEAF].u : 0;
                        ok = ok && dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, NULL, &st) &&
                             dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &leaf) &&
                             append_ay(&st, mv[MKD_MB_IDENTITY].p, mv[MKD_MB_IDENTITY].len) &&
                             append_ay(&st, mv[MKD_MB_KEY].p, mv[MKD_MB_KEY].len) &&
                             dbus_message_iter_close_container(&arr, &st);
                }
                ok = ok && dbus_message_iter_close_container(&v, &arr) &&
                     dbus_message_iter_close_container(&it, &v);
                if (ok)
                        send_reply(b, m);
                else {
                        dbus_message_unref(m);
                        b_reply_error(b, c->msg, MLS_E_INTERNAL, "malformed member list");
                }
                break;
        }
        case K_GETALL_GROUP: {
                struct ctx x = { .b = b, .msg = c->msg };
                DBusMessage *m;

                x.grp = b_find_group(b, c->obj, B_ID_LEN);
                if (!x.grp) {
                        b_reply_error(b, c->msg, MLS_E_NOT_FOUND, NOT_FOUND_TEXT);
                        break;
                }
                m = getall_build(&x, T_GROUP, &res[0]);
                if (m)
                        send_reply(b, m);
                else
                        b_reply_error(b, c->msg, MLS_E_INTERNAL, "malformed member list");
                break;
        }
        case K_LOAD:
        case K_LOAD_DONE:
        case K_COUNTER_SYNC:
        case K_SELF_UPDATE:
                break;
#ifdef MKD_TEST_OPS
        case K_TEST:
                reply_empty(b, c->msg);
                break;
        case K_TEST_SECRETS:
                reply_aay_list(b, c->msg, &res[0]);
                break;
#endif
        }
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "a malformed summary from the engine");
                b_reply_error(b, c->msg, MLS_E_INTERNAL, "internal error");
        }
}
