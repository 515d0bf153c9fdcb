/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group signals EpochChanged and SelfUpdateReady: match rules, the
 * owner of the daemon's name, one bounded queue of received events (both
 * kinds, in arrival order), dispatch to callbacks and a blocking wait per
 * kind.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client-lib/mlskey-internal.h"

#define RULE_GROUP_SIGNAL(member)                                                     \
        "type='signal',sender='" MLSKEY_BUS_NAME "',interface='" MLSKEY_GROUP_INTERFACE \
        "',member='" member "'"
#define RULE_OWNER                                                               \
        "type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS \
        "',member='NameOwnerChanged',arg0='" MLSKEY_BUS_NAME "'"

/* What each kind of signal is on the wire (doc/org.mlskeyd.Daemon1.xml). */
static const struct signal_def {
        const char *member;
        const char *signature;
        const char *rule;
} signal_defs[] = {
        [MLSKEY_SIGNAL_EPOCH_CHANGED] = { "EpochChanged", "tay",
                                          RULE_GROUP_SIGNAL("EpochChanged") },
        [MLSKEY_SIGNAL_SELF_UPDATE_READY] = { "SelfUpdateReady", "ayt",
                                              RULE_GROUP_SIGNAL("SelfUpdateReady") },
};

static int64_t
now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Introduces the client to the daemon: a one-way Properties.Get of the
 * Version. The daemon sends EpochChanged and SelfUpdateReady as unicast
 * signals to the callers it knows (so that nobody learns of groups they
 * cannot see); a client that only subscribed would otherwise never have
 * called it. Without a reply, nothing waits and nothing can fail. Caller
 * holds the lock.
 */
static void
hello(struct mlskey_client *c)
{
        const char *iface = MLSKEY_MANAGER_INTERFACE, *prop = "Version";
        DBusMessage *m = dbus_message_new_method_call(MLSKEY_BUS_NAME, MLSKEY_MANAGER_PATH,
                                                      DBUS_INTERFACE_PROPERTIES, "Get");

        if (!m)
                return;
        dbus_message_set_no_reply(m, TRUE);
        /* Flushed now: the daemon should know us before the caller goes on
         * to make the change it wants to hear about. */
        if (dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
                                     DBUS_TYPE_INVALID) &&
            dbus_connection_send(c->conn, m, NULL))
                dbus_connection_flush(c->conn);
        dbus_message_unref(m);
}

static void
set_owner(struct mlskey_client *c, const char *owner)
{
        free(c->daemon_owner);
        c->daemon_owner = owner && *owner ? strdup(owner) : NULL;
        /* A new daemon (a restart) does not know us yet. */
        if (c->daemon_owner && c->subs)
                hello(c);
}

/* Starts following the owner of MLSKEY_BUS_NAME. Caller holds the lock. */
static int
track_owner(struct mlskey_client *c)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        const char *name = MLSKEY_BUS_NAME;
        const char *owner = NULL;
        DBusError err;
        int r;

        if (c->tracking_owner)
                return 0;
        dbus_error_init(&err);
        /* The rule first, then the query: a change after the answer then
         * reaches us as a signal. */
        dbus_bus_add_match(c->conn, RULE_OWNER, &err);
        if (dbus_error_is_set(&err)) {
                r = mlskey_fail_dbus_(&err, false);
                dbus_error_free(&err);
                return r;
        }
        m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                         "GetNameOwner");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                dbus_bus_remove_match(c->conn, RULE_OWNER, NULL);
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        }
        reply = dbus_connection_send_with_reply_and_block(c->conn, m, c->timeout_ms, &err);
        if (reply) {
                if (!dbus_message_get_args(reply, &err, DBUS_TYPE_STRING, &owner,
                                           DBUS_TYPE_INVALID))
                        owner = NULL;
        } else if (!dbus_error_has_name(&err, DBUS_ERROR_NAME_HAS_NO_OWNER)) {
                r = mlskey_fail_dbus_(&err, true);
                dbus_error_free(&err);
                dbus_bus_remove_match(c->conn, RULE_OWNER, NULL);
                return r;
        }
        dbus_error_free(&err);
        free(c->daemon_owner);
        c->daemon_owner = owner && *owner ? strdup(owner) : NULL;
        c->tracking_owner = true;
        return 0;
}

/* Whether s, a subscription of any kind, covers group (a path). */
static bool
sub_covers(const struct mlskey_sub *s, const char *group)
{
        return !s->group || (group && strcmp(s->group, group) == 0);
}

/*
 * Whether msg is a group signal to queue, and of which kind: one of the
 * interface's, with the interface's argument types (a signal of another
 * signature is dropped, never decoded), sent by the daemon, for a group a
 * subscription of that kind covers.
 */
static bool
valid_signal(struct mlskey_client *c, DBusMessage *msg, enum mlskey_signal_kind *ret_kind)
{
        const char *sender = dbus_message_get_sender(msg);
        const char *path = dbus_message_get_path(msg);

        if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_SIGNAL || !path)
                return false;
        /* Only the daemon's own signals. */
        if (!c->daemon_owner || !sender || strcmp(sender, c->daemon_owner) != 0)
                return false;
        for (size_t k = 0; k < sizeof(signal_defs) / sizeof(signal_defs[0]); k++) {
                if (!dbus_message_is_signal(msg, MLSKEY_GROUP_INTERFACE, signal_defs[k].member))
                        continue;
                if (!dbus_message_has_signature(msg, signal_defs[k].signature))
                        return false;
                for (const struct mlskey_sub *s = c->subs; s; s = s->next)
                        if (s->kind == (enum mlskey_signal_kind)k && sub_covers(s, path)) {
                                *ret_kind = (enum mlskey_signal_kind)k;
                                return true;
                        }
                return false;
        }
        return false;
}

static void
enqueue(struct mlskey_client *c, DBusMessage *msg, enum mlskey_signal_kind kind)
{
        struct mlskey_queued *q;

        if (c->queue_len >= MLSKEY_EVENT_QUEUE_MAX) {
                struct mlskey_queued *old = c->queue_head;

                c->queue_head = old->next;
                if (!c->queue_head)
                        c->queue_tail = NULL;
                dbus_message_unref(old->msg);
                free(old);
                c->queue_len--;
                c->dropped++;
        }
        q = calloc(1, sizeof(*q));
        if (!q) {
                c->dropped++;
                return;
        }
        q->msg = dbus_message_ref(msg);
        q->kind = kind;
        if (c->queue_tail)
                c->queue_tail->next = q;
        else
                c->queue_head = q;
        c->queue_tail = q;
        c->queue_len++;
}

void
mlskey_drain_incoming_(struct mlskey_client *c)
{
        DBusMessage *msg;

        while ((msg = dbus_connection_pop_message(c->conn))) {
                const char *name, *old_owner, *new_owner;
                enum mlskey_signal_kind kind;

                if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged") &&
                    c->tracking_owner && dbus_message_get_sender(msg) &&
                    strcmp(dbus_message_get_sender(msg), DBUS_SERVICE_DBUS) == 0 &&
                    dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
                                          &old_owner, DBUS_TYPE_STRING, &new_owner,
                                          DBUS_TYPE_INVALID) &&
                    strcmp(name, MLSKEY_BUS_NAME) == 0) {
                        set_owner(c, new_owner);
                } else if (valid_signal(c, msg, &kind)) {
                        enqueue(c, msg, kind);
                } else if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_METHOD_CALL &&
                           !dbus_message_get_no_reply(msg)) {
                        /* Nobody serves methods on a client connection. */
                        DBusMessage *e = dbus_message_new_error(msg, DBUS_ERROR_UNKNOWN_METHOD,
                                                                "libmlskey serves no methods");

                        if (e) {
                                (void)dbus_connection_send(c->conn, e, NULL);
                                dbus_message_unref(e);
                        }
                }
                dbus_message_unref(msg);
        }
}

/* A subscription of kind with its callback (epoch_cb or self_update_cb,
 * the one of kind; both may be NULL). */
static int
subscribe(struct mlskey_client *c, enum mlskey_signal_kind kind, const char *group,
          mlskey_epoch_changed_fn epoch_cb, mlskey_self_update_fn self_update_cb,
          void *userdata, unsigned *ret_id)
{
        const char *base = signal_defs[kind].rule;
        _mlskey_free_ char *rule = NULL;
        _mlskey_free_ char *g = NULL;
        struct mlskey_sub *s;
        DBusError err;
        int r;

        if (!c)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "client is NULL");
        if (group) {
                MLSKEY_TRY(mlskey_check_path_(group));
                if (!(g = strdup(group)) || asprintf(&rule, "%s,path='%s'", base, group) < 0) {
                        rule = NULL;
                        return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                }
        } else if (!(rule = strdup(base))) {
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        dbus_error_init(&err);
        pthread_mutex_lock(&c->lock);
        r = track_owner(c);
        if (r == 0) {
                dbus_bus_add_match(c->conn, rule, &err);
                if (dbus_error_is_set(&err))
                        r = mlskey_fail_dbus_(&err, false);
        }
        if (r == 0) {
                s->id = c->next_sub_id++;
                s->kind = kind;
                s->group = MLSKEY_TAKE(g);
                s->rule = MLSKEY_TAKE(rule);
                s->epoch_cb = epoch_cb;
                s->self_update_cb = self_update_cb;
                s->userdata = userdata;
                s->next = c->subs;
                c->subs = s;
                if (ret_id)
                        *ret_id = s->id;
                s = NULL;
                hello(c);
        }
        pthread_mutex_unlock(&c->lock);
        dbus_error_free(&err);
        free(s);
        return r < 0 ? r : mlskey_ok_();
}

_public_ int
mlskey_client_subscribe_epoch_changed(struct mlskey_client *c, const char *group,
                                      mlskey_epoch_changed_fn cb, void *userdata,
                                      unsigned *ret_id)
{
        return subscribe(c, MLSKEY_SIGNAL_EPOCH_CHANGED, group, cb, NULL, userdata, ret_id);
}

_public_ int
mlskey_client_subscribe_self_update(struct mlskey_client *c, const char *group,
                                    mlskey_self_update_fn cb, void *userdata, unsigned *ret_id)
{
        return subscribe(c, MLSKEY_SIGNAL_SELF_UPDATE_READY, group, NULL, cb, userdata, ret_id);
}

static void
sub_free(struct mlskey_sub *s)
{
        free(s->group);
        free(s->rule);
        free(s);
}

_public_ int
mlskey_client_unsubscribe(struct mlskey_client *c, unsigned id)
{
        struct mlskey_sub **pp, *found = NULL;

        if (!c)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "client is NULL");
        pthread_mutex_lock(&c->lock);
        for (pp = &c->subs; *pp; pp = &(*pp)->next)
                if ((*pp)->id == id) {
                        found = *pp;
                        *pp = found->next;
                        break;
                }
        /* Without an error argument libdbus does not wait for the answer;
         * a rule that cannot be removed goes with the connection. */
        if (found)
                dbus_bus_remove_match(c->conn, found->rule, NULL);
        pthread_mutex_unlock(&c->lock);
        if (!found)
                return mlskey_fail_(MLSKEY_ERROR_NOT_FOUND, "no subscription %u", id);
        sub_free(found);
        return mlskey_ok_();
}

void
mlskey_signals_free_(struct mlskey_client *c)
{
        while (c->subs) {
                struct mlskey_sub *s = c->subs;

                c->subs = s->next;
                sub_free(s);
        }
        while (c->queue_head) {
                struct mlskey_queued *q = c->queue_head;

                c->queue_head = q->next;
                dbus_message_unref(q->msg);
                free(q);
        }
        c->queue_tail = NULL;
        c->queue_len = 0;
        free(c->daemon_owner);
        c->daemon_owner = NULL;
}

/* The events a queued signal carries (its signature was checked). */
static void
epoch_event_from(DBusMessage *msg, struct mlskey_epoch_event *ev)
{
        DBusMessageIter it;

        memset(ev, 0, sizeof(*ev));
        ev->group = dbus_message_get_path(msg);
        dbus_message_iter_init(msg, &it);
        dbus_message_iter_get_basic(&it, &ev->epoch);
        dbus_message_iter_next(&it);
        mlskey_read_bytes_(&it, &ev->epoch_authenticator);
}

static void
self_update_event_from(DBusMessage *msg, struct mlskey_self_update_event *ev)
{
        DBusMessageIter it;

        memset(ev, 0, sizeof(*ev));
        ev->group = dbus_message_get_path(msg);
        dbus_message_iter_init(msg, &it);
        mlskey_read_bytes_(&it, &ev->commit);
        dbus_message_iter_get_basic(&it, &ev->epoch);
}

_public_ void
mlskey_epoch_event_clear(struct mlskey_epoch_event *e)
{
        if (!e)
                return;
        if (e->priv_)
                dbus_message_unref(e->priv_);
        memset(e, 0, sizeof(*e));
}

_public_ void
mlskey_self_update_event_clear(struct mlskey_self_update_event *e)
{
        if (!e)
                return;
        if (e->priv_)
                dbus_message_unref(e->priv_);
        memset(e, 0, sizeof(*e));
}

/* Reads from the socket for at most timeout_ms (-1: no limit) and drains.
 * false if the connection is gone. Caller holds the lock. */
static bool
pump(struct mlskey_client *c, int timeout_ms)
{
        bool ok = dbus_connection_read_write(c->conn, timeout_ms);

        mlskey_drain_incoming_(c);
        return ok && dbus_connection_get_is_connected(c->conn);
}

static int
remaining(int64_t deadline)
{
        int64_t left;

        if (deadline < 0)
                return -1;
        left = deadline - now_ms();
        return left > 0 ? (int)(left > INT32_MAX ? INT32_MAX : left) : 0;
}

struct pending_cb {
        enum mlskey_signal_kind kind;
        mlskey_epoch_changed_fn epoch_cb;
        mlskey_self_update_fn self_update_cb;
        void *userdata;
        DBusMessage *msg;
};

static void
call_one(struct mlskey_client *c, const struct pending_cb *p)
{
        switch (p->kind) {
        case MLSKEY_SIGNAL_EPOCH_CHANGED: {
                struct mlskey_epoch_event ev;

                epoch_event_from(p->msg, &ev);
                p->epoch_cb(c, &ev, p->userdata);
                break;
        }
        case MLSKEY_SIGNAL_SELF_UPDATE_READY: {
                struct mlskey_self_update_event ev;

                self_update_event_from(p->msg, &ev);
                p->self_update_cb(c, &ev, p->userdata);
                break;
        }
        }
}

/* Whether s has a callback for events of kind. */
static bool
sub_calls(const struct mlskey_sub *s, enum mlskey_signal_kind kind)
{
        if (s->kind != kind)
                return false;
        switch (kind) {
        case MLSKEY_SIGNAL_EPOCH_CHANGED:
                return s->epoch_cb != NULL;
        case MLSKEY_SIGNAL_SELF_UPDATE_READY:
                return s->self_update_cb != NULL;
        }
        return false;
}

_public_ int
mlskey_client_dispatch(struct mlskey_client *c, int timeout_ms)
{
        struct pending_cb *calls = NULL;
        size_t n_calls = 0, cap = 0;
        int64_t deadline;
        bool alive = true;
        int r = 0;

        if (!c)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "client is NULL");
        deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
        pthread_mutex_lock(&c->lock);
        alive = pump(c, 0);
        while (alive && !c->queue_head && timeout_ms != 0) {
                int left = remaining(deadline);

                if (left == 0)
                        break;
                alive = pump(c, left);
        }
        /* Collect the callbacks under the lock; call them without it, so
         * they may use the client (and even unsubscribe). */
        for (struct mlskey_queued *q = c->queue_head; q && r == 0; q = q->next)
                for (struct mlskey_sub *s = c->subs; s; s = s->next) {
                        if (!sub_calls(s, q->kind) ||
                            !sub_covers(s, dbus_message_get_path(q->msg)))
                                continue;
                        if (n_calls == cap) {
                                size_t ncap = cap ? cap * 2 : 8;
                                struct pending_cb *nc = realloc(calls, ncap * sizeof(*nc));

                                if (!nc) {
                                        r = mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
                                        break;
                                }
                                calls = nc;
                                cap = ncap;
                        }
                        calls[n_calls].kind = q->kind;
                        calls[n_calls].epoch_cb = s->epoch_cb;
                        calls[n_calls].self_update_cb = s->self_update_cb;
                        calls[n_calls].userdata = s->userdata;
                        calls[n_calls].msg = dbus_message_ref(q->msg);
                        n_calls++;
                }
        if (r == 0)
                /* Dispatch consumes every queued event. */
                while (c->queue_head) {
                        struct mlskey_queued *q = c->queue_head;

                        c->queue_head = q->next;
                        dbus_message_unref(q->msg);
                        free(q);
                        c->queue_len--;
                }
        if (!c->queue_head)
                c->queue_tail = NULL;
        pthread_mutex_unlock(&c->lock);

        for (size_t i = 0; i < n_calls; i++) {
                if (r == 0)
                        call_one(c, &calls[i]);
                dbus_message_unref(calls[i].msg);
        }
        free(calls);
        if (r < 0)
                return r;
        if (!alive && n_calls == 0)
                return mlskey_fail_(MLSKEY_ERROR_DISCONNECTED, "%s",
                                    mlskey_error_text(MLSKEY_ERROR_DISCONNECTED));
        mlskey_ok_();
        return (int)(n_calls > INT32_MAX ? INT32_MAX : n_calls);
}

_public_ int
mlskey_client_get_fd(struct mlskey_client *c, int *ret_fd)
{
        int fd = -1;

        if (!c || !ret_fd)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL argument");
        if (!dbus_connection_get_unix_fd(c->conn, &fd))
                return mlskey_fail_(MLSKEY_ERROR_DISCONNECTED, "the connection has no socket");
        *ret_fd = fd;
        return mlskey_ok_();
}

/*
 * Takes the first queued event of kind for group (NULL: any), waiting for
 * one up to timeout_ms; *ret_msg gets the queue's reference to the signal.
 */
static int
wait_signal(struct mlskey_client *c, enum mlskey_signal_kind kind, const char *group,
            int timeout_ms, DBusMessage **ret_msg)
{
        struct mlskey_queued *found = NULL;
        bool covered = false, alive = true;
        int64_t deadline;

        if (group)
                MLSKEY_TRY(mlskey_check_path_(group));
        deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
        pthread_mutex_lock(&c->lock);
        for (const struct mlskey_sub *s = c->subs; s; s = s->next)
                covered = covered || (s->kind == kind && (!group || sub_covers(s, group)));
        if (!covered) {
                pthread_mutex_unlock(&c->lock);
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT,
                                    "no %s subscription covers %s: subscribe first",
                                    signal_defs[kind].member, group ? group : "any group");
        }
        alive = pump(c, 0);
        for (;;) {
                struct mlskey_queued **pp;
                int left;

                for (pp = &c->queue_head; *pp; pp = &(*pp)->next)
                        if ((*pp)->kind == kind &&
                            (!group || strcmp(dbus_message_get_path((*pp)->msg), group) == 0)) {
                                found = *pp;
                                *pp = found->next;
                                c->queue_len--;
                                break;
                        }
                if (found || !alive)
                        break;
                left = remaining(deadline);
                if (left == 0)
                        break;
                alive = pump(c, left);
        }
        /* Re-find the tail after an unlink anywhere in the list. */
        c->queue_tail = NULL;
        for (struct mlskey_queued *q = c->queue_head; q; q = q->next)
                c->queue_tail = q;
        pthread_mutex_unlock(&c->lock);
        if (!found) {
                if (!alive)
                        return mlskey_fail_(MLSKEY_ERROR_DISCONNECTED, "%s",
                                            mlskey_error_text(MLSKEY_ERROR_DISCONNECTED));
                return mlskey_fail_(MLSKEY_ERROR_TIMEOUT, "no %s within %d ms",
                                    signal_defs[kind].member, timeout_ms);
        }
        *ret_msg = found->msg; /* the queue's reference moves here */
        free(found);
        return mlskey_ok_();
}

_public_ int
mlskey_client_wait_epoch_changed(struct mlskey_client *c, const char *group, int timeout_ms,
                                 struct mlskey_epoch_event *ret_event)
{
        DBusMessage *msg = NULL;

        if (!c || !ret_event)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL argument");
        MLSKEY_TRY(wait_signal(c, MLSKEY_SIGNAL_EPOCH_CHANGED, group, timeout_ms, &msg));
        epoch_event_from(msg, ret_event);
        ret_event->priv_ = msg;
        return 0;
}

_public_ int
mlskey_client_wait_self_update(struct mlskey_client *c, const char *group, int timeout_ms,
                               struct mlskey_self_update_event *ret_event)
{
        DBusMessage *msg = NULL;

        if (!c || !ret_event)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL argument");
        MLSKEY_TRY(wait_signal(c, MLSKEY_SIGNAL_SELF_UPDATE_READY, group, timeout_ms, &msg));
        self_update_event_from(msg, ret_event);
        ret_event->priv_ = msg;
        return 0;
}

_public_ uint64_t
mlskey_client_dropped_events(struct mlskey_client *c)
{
        uint64_t n;

        pthread_mutex_lock(&c->lock);
        n = c->dropped;
        pthread_mutex_unlock(&c->lock);
        return n;
}
