/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of libmlskey shared by its source files (not installed). The
 * unit tests link the same objects through the convenience library
 * libmlskey-core.la to reach these.
 */
#ifndef MLSKEY_INTERNAL_H
#define MLSKEY_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <dbus/dbus.h>

#include "client-lib/mlskey.h"

#define _public_ __attribute__((visibility("default")))
#define _mlskey_cleanup_(f) __attribute__((cleanup(f)))
#define MLSKEY_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* The one guard macro. */
#define MLSKEY_TRY(x)                           \
        do {                                    \
                int r_ = (x);                   \
                if (r_ < 0)                     \
                        return r_;              \
        } while (0)

/* Hand ownership of a pointer out of a cleanup-managed local. */
#define MLSKEY_TAKE(p)                          \
        ({                                      \
                __typeof__(p) t_ = (p);         \
                (p) = NULL;                     \
                t_;                             \
        })

static inline void
mlskey_freep_(void *p)
{
        free(*(void **)p);
}
#define _mlskey_free_ _mlskey_cleanup_(mlskey_freep_)

static inline void
mlskey_msg_unrefp_(DBusMessage **m)
{
        if (*m)
                dbus_message_unref(*m);
}
#define _mlskey_msg_ _mlskey_cleanup_(mlskey_msg_unrefp_)

static inline void
mlskey_opts_freep_(struct mlskey_opts **o)
{
        mlskey_opts_free(*o);
}
#define _mlskey_opts_ _mlskey_cleanup_(mlskey_opts_freep_)

static inline void
mlskey_strv_freep_(char ***v)
{
        mlskey_strv_free(*v);
}

static inline void
mlskey_dict_clearp_(struct mlskey_dict *d)
{
        mlskey_dict_clear(d);
}

/* The signals a client may subscribe to (an index of signal.c's table). */
enum mlskey_signal_kind {
        MLSKEY_SIGNAL_EPOCH_CHANGED,    /* EpochChanged(t epoch, ay authenticator) */
        MLSKEY_SIGNAL_SELF_UPDATE_READY, /* SelfUpdateReady(ay commit, t epoch) */
};

struct mlskey_sub {
        unsigned id;
        enum mlskey_signal_kind kind;
        char *group; /* NULL: every group */
        char *rule;  /* the match rule as added */
        /* The callback of kind (the other is NULL); both NULL for a
         * subscription that only mlskey_client_wait_*() uses. */
        mlskey_epoch_changed_fn epoch_cb;
        mlskey_self_update_fn self_update_cb;
        void *userdata;
        struct mlskey_sub *next;
};

struct mlskey_queued {
        DBusMessage *msg; /* a signal of kind, validated (member, signature, sender) */
        enum mlskey_signal_kind kind;
        struct mlskey_queued *next;
};

struct mlskey_client {
        pthread_mutex_t lock;
        DBusConnection *conn;
        int timeout_ms;
        /* guarded by lock: */
        struct mlskey_sub *subs;
        unsigned next_sub_id;
        struct mlskey_queued *queue_head, *queue_tail;
        size_t queue_len;
        uint64_t dropped;
        /* The unique name that owns MLSKEY_BUS_NAME, tracked from the first
         * subscription on: only its signals are accepted (anyone may send a
         * unicast signal to our unique name). NULL: no owner. */
        bool tracking_owner;
        char *daemon_owner;
};

/* ---- errors (error.c) ---- */

/* Records code (0 = success) with a library sentence; returns code. */
int mlskey_fail_(int code, const char *fmt, ...) MLSKEY_PRINTF(2, 3);
/* Records success; returns 0. */
int mlskey_ok_(void);
/* Records a D-Bus error (name and message) as received; returns its code.
 * A NoReply that came before the timeout expired is NO_REPLY. */
int mlskey_fail_dbus_(const DBusError *e, bool timeout_expired);

/* ---- calls (client.c) ---- */

/* A method call on MLSKEY_BUS_NAME; validates path first (INVALID_ARGUMENT). */
MLSKEY_MUST_CHECK int mlskey_new_call_(const char *path, const char *iface, const char *method,
                                       DBusMessage **ret_msg);
/*
 * Sends m, waits for the reply within the client's timeout, maps a D-Bus
 * error, and checks that the reply's signature is reply_sig (BAD_REPLY
 * otherwise). Consumes nothing: the caller still owns m.
 */
MLSKEY_MUST_CHECK int mlskey_call_(struct mlskey_client *c, DBusMessage *m,
                                   const char *reply_sig, DBusMessage **ret_reply);
/* Org.freedesktop.DBus.Properties.Get: *ret_reply is the reply and *it is
 * positioned inside the variant, whose signature was checked to be sig. */
MLSKEY_MUST_CHECK int mlskey_get_property_(struct mlskey_client *c, const char *path,
                                           const char *iface, const char *prop, const char *sig,
                                           DBusMessage **ret_reply, DBusMessageIter *ret_it);
/* Properties.GetAll into a dictionary. */
MLSKEY_MUST_CHECK int mlskey_get_all_(struct mlskey_client *c, const char *path,
                                      const char *iface, struct mlskey_dict *ret);

/* Checks an object path (INVALID_ARGUMENT with the reason). */
MLSKEY_MUST_CHECK int mlskey_check_path_(const char *path);
/* Checks a NUL-terminated string is valid UTF-8 for D-Bus. */
MLSKEY_MUST_CHECK int mlskey_check_string_(const char *what, const char *s);

/* Appends ay from data[0..len) without a copy of ours (TOO_LARGE over the
 * D-Bus limit, OUT_OF_MEMORY). */
MLSKEY_MUST_CHECK int mlskey_append_bytes_(DBusMessageIter *it, const uint8_t *data, size_t len);
/* Appends aay from items[0..n). */
MLSKEY_MUST_CHECK int mlskey_append_bytes_array_(DBusMessageIter *it,
                                                 const struct mlskey_data *items, size_t n);
/* Appends au. */
MLSKEY_MUST_CHECK int mlskey_append_u32_array_(DBusMessageIter *it, const uint32_t *v, size_t n);
/* Appends a basic value (OUT_OF_MEMORY on failure). */
MLSKEY_MUST_CHECK int mlskey_append_basic_(DBusMessageIter *it, int type, const void *v);

/* Reads ay at it as a view (no copy) and advances. */
void mlskey_read_bytes_(DBusMessageIter *it, struct mlskey_data *ret);
/* A buf that references reply. */
void mlskey_buf_set_(struct mlskey_buf *b, DBusMessage *reply, const struct mlskey_data *d);
/* Reads an o or s at it into a malloc'd copy (OUT_OF_MEMORY). */
MLSKEY_MUST_CHECK int mlskey_read_strdup_(DBusMessageIter *it, char **ret);

/* Common shapes of calls and properties. The ret_* outputs are written
 * only on success, like the public ones; none is NULL. */
MLSKEY_MUST_CHECK int mlskey_call_void_(struct mlskey_client *c, const char *path,
                                        const char *iface, const char *method);
MLSKEY_MUST_CHECK int mlskey_call_ret_bytes_(struct mlskey_client *c, DBusMessage *m,
                                             struct mlskey_buf *ret);
MLSKEY_MUST_CHECK int mlskey_call_ret_path_(struct mlskey_client *c, DBusMessage *m, char **ret);
MLSKEY_MUST_CHECK int mlskey_call_ret_two_bytes_(struct mlskey_client *c, DBusMessage *m,
                                                 struct mlskey_buf *ret_a,
                                                 struct mlskey_buf *ret_b);
MLSKEY_MUST_CHECK int mlskey_call_ret_path_bytes_(struct mlskey_client *c, DBusMessage *m,
                                                  char **ret_path, struct mlskey_buf *ret_bytes);
MLSKEY_MUST_CHECK int mlskey_get_bytes_prop_(struct mlskey_client *c, const char *path,
                                             const char *iface, const char *prop,
                                             struct mlskey_buf *ret);
/* sig is one basic type; ret points to its C type (bool for "b"). */
MLSKEY_MUST_CHECK int mlskey_get_basic_prop_(struct mlskey_client *c, const char *path,
                                             const char *iface, const char *prop,
                                             const char *sig, void *ret);

/* ---- options (opts.c) ---- */

/* Appends the dictionary (an empty one for NULL); fails with the sticky
 * error of the builder. */
MLSKEY_MUST_CHECK int mlskey_opts_append_(const struct mlskey_opts *o, DBusMessageIter *it);

/* ---- dictionaries (dict.c) ---- */

/* Decodes the a{sv} at it (its signature checked by the caller) into a
 * dictionary that references reply. */
MLSKEY_MUST_CHECK int mlskey_dict_decode_(DBusMessage *reply, DBusMessageIter *it,
                                          struct mlskey_dict *ret);
/* The entry key of d if it has type t (*ret NULL if absent: "want"), or
 * BAD_REPLY for another type ("need": also for an absent key). */
MLSKEY_MUST_CHECK int mlskey_dict_want_(const struct mlskey_dict *d, const char *key,
                                        enum mlskey_value_type t,
                                        const struct mlskey_value **ret);
MLSKEY_MUST_CHECK int mlskey_dict_need_(const struct mlskey_dict *d, const char *key,
                                        enum mlskey_value_type t,
                                        const struct mlskey_value **ret);
/* The reply a decoded dictionary references. */
DBusMessage *mlskey_dict_reply_(const struct mlskey_dict *d);
/* For a dictionary that is its reply's first argument (GetAll): the
 * variant of key, for decoders of types the dictionary leaves as OTHER. */
MLSKEY_MUST_CHECK int mlskey_dict_variant_(const struct mlskey_dict *d, const char *key,
                                           DBusMessageIter *ret_var);
/* Decodes a(uayay) at it into members referencing reply. */
MLSKEY_MUST_CHECK int mlskey_members_decode_(DBusMessage *reply, DBusMessageIter *it,
                                             struct mlskey_members *ret);

/* ---- signals (signal.c) ---- */

/* Moves validated signals that a subscription covers (EpochChanged,
 * SelfUpdateReady) from the connection's incoming queue to the client's
 * queue; drops everything else. Caller holds c->lock. */
void mlskey_drain_incoming_(struct mlskey_client *c);
/* Frees subscriptions and queued events (at client free). */
void mlskey_signals_free_(struct mlskey_client *c);

/* Overwrites len bytes at p in a way the compiler keeps. */
void mlskey_wipe_(void *p, size_t len);

#endif
