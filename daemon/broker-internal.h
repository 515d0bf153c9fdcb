/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The broker's internals, shared by broker.c (event loop, children,
 * storage, the call pipeline) and broker_methods.c (the D-Bus methods,
 * properties and introspection). Not an API: one process, one broker.
 */
#ifndef MKD_BROKER_INTERNAL_H
#define MKD_BROKER_INTERNAL_H

#include <dbus/dbus.h>
#include <sys/types.h>

#include "daemon/acl.h"
#include "daemon/broker.h"
#include "daemon/ipc.h"
#include "daemon/policy.h"
#include "daemon/proto.h"
#include "daemon/store.h"

#define MKD_BUS_NAME "org.mlskeyd.Daemon1"
#define MKD_PATH_ROOT "/org/mlskeyd/Daemon1"
#define MKD_PATH_IDENTITY MKD_PATH_ROOT "/identity"
#define MKD_PATH_GROUP MKD_PATH_ROOT "/group"
#define MKD_IFACE_MANAGER "org.mlskeyd.Daemon1.Manager"
#define MKD_IFACE_IDENTITY "org.mlskeyd.Daemon1.Identity"
#define MKD_IFACE_GROUP "org.mlskeyd.Daemon1.Group"
#define MKD_ERROR_PREFIX "org.mlskeyd.Error."
#define B_ID_LEN 16

/* The interface XML (doc/org.mlskeyd.Daemon1.xml), generated at build
 * time into interface-xml.c. */
extern const char mkd_interface_xml[];

struct b_reply;

struct b_identity {
        uint8_t id[B_ID_LEN];
        uint32_t owner;
        uint32_t *uids;
        size_t n_uids;
        uint32_t *gids;
        size_t n_gids;
        uint16_t suite;
        struct mls_bytes cred;
        struct mls_bytes pub;
        struct mls_bytes label;
        bool tpm;
};

struct b_group {
        uint8_t id[B_ID_LEN];
        uint8_t identity[B_ID_LEN];
        struct mls_bytes group_id;
        uint16_t suite;
        uint64_t epoch;
        uint32_t own_leaf;
        bool pending;
        bool removed;
        struct mls_bytes auth;
};

/* A bus peer's credentials, cached per unique name. */
struct b_caller {
        char *name;
        uint32_t uid;
        uint32_t pid;
        uint32_t *gids;
        size_t n_gids;
};

/* What to do with an engine reply. */
enum b_kind {
        K_LOAD,
        K_LOAD_DONE,
        K_COUNTER_SYNC, /* internal: a manifest is durable */
        K_SELF_UPDATE,  /* internal: the [update] timer */
        K_CREATE_IDENTITY,
        K_GENERATE_KEY_PACKAGES,
        K_CREATE_GROUP,
        K_JOIN_GROUP,
        K_JOIN_EXTERNAL,
        K_STORE_PSK,
        K_SET_ACCESS,
        K_DELETE_IDENTITY,
        K_ENCRYPT,
        K_PROCESS,
        K_ADD,
        K_REMOVE,
        K_UPDATE,
        K_COMMIT,
        K_MERGE,
        K_CLEAR,
        K_PROPOSE,
        K_REINIT,
        K_BRANCH,
        K_GROUP_INFO,
        K_RATCHET_TREE,
        K_EXPORT,
        K_LEAVE,
        K_DELETE_GROUP,
        K_PROP_MEMBERS,  /* Properties.Get("Members") */
        K_GETALL_GROUP,  /* Properties.GetAll(Group) */
#ifdef MKD_TEST_OPS
        K_TEST,          /* --enable-test-ops: fault injection */
        K_TEST_SECRETS,  /* --enable-test-ops: the engine's secret journal */
#endif
};

/* One request to the engine, from its D-Bus message to its answer. */
struct b_call {
        struct b_call *next;
        uint32_t id;
        uint16_t op;
        enum b_kind kind;
        DBusMessage *msg; /* NULL for internal requests */
        uint8_t obj[B_ID_LEN]; /* the identity or group the call is about */
        char path[64];    /* K_LOAD: the file, for the log */
};

enum b_child_state {
        CH_DOWN,
        CH_LOADING,
        CH_READY,
};

struct b_watch_slot;

struct broker {
        struct mkd_broker_options opt;
        struct mkd_policy policy;
        struct mkd_store *store;
        int self_exe_fd;
        DBusConnection *conn;
        bool quit;
        int exit_code;

        /* libdbus main loop integration */
        DBusWatch **watches;
        size_t n_watches;
        DBusTimeout **timeouts;
        size_t n_timeouts;

        /* children */
        enum b_child_state state;
        pid_t engine_pid;
        pid_t vault_pid;
        int engine_fd;
        struct mkd_ipc_rbuf rb;
        struct mkd_ipc_sendq sq;
        uint32_t next_id;
        uint64_t restart_at;  /* monotonic ms; 0: none scheduled */
        uint64_t started_at;
        uint64_t backoff_ms;
        unsigned restarts;
        struct b_call *inflight;
        struct b_call *inflight_tail;
        struct b_reply *replies; /* the batch of engine replies (broker.c) */
#ifdef MKD_TEST_OPS
        uint32_t test_fail_writes; /* Test.FailWrites: so many batches fail */
#endif
        /* D-Bus messages waiting for the engine (while it (re)starts) */
        DBusMessage **waiting;
        size_t n_waiting;
        bool indexed; /* the index below reflects a loaded engine */

        /* the index: what exists, who may see it */
        struct b_identity **ids;
        size_t n_ids;
        struct b_group **groups;
        size_t n_groups;
        struct b_caller **callers;
        size_t n_callers;

        /* The [update] timer (automatic self-update, broker.c). */
        uint64_t su_interval_ms; /* 0: off */
        uint64_t su_period_ms;   /* between requests */
        uint64_t su_next;        /* monotonic ms of the next request; 0: none */
        bool su_inflight;
};

/* ---- broker.c ---- */
uint64_t b_now_ms(void);
struct b_identity *b_find_identity(struct broker *b, const uint8_t *id, size_t len);
struct b_group *b_find_group(struct broker *b, const uint8_t *id, size_t len);
/* Queues a request for the engine with the arguments args (encoded here).
 * Takes a reference on msg, the D-Bus call it answers; msg NULL: an
 * internal request (counter sync, self-update) that answers nobody. */
MLS_MUST_CHECK int b_call_engine(struct broker *b, enum b_kind kind, uint16_t op, DBusMessage *msg,
                                 const uint8_t obj[B_ID_LEN], uint32_t uid,
                                 const struct mkd_val *args);
void b_index_remove_identity(struct broker *b, const uint8_t id[B_ID_LEN]);
void b_index_remove_group(struct broker *b, const uint8_t id[B_ID_LEN]);
MLS_MUST_CHECK int b_index_put_identity(struct broker *b, const uint8_t *rec, size_t len,
                                        struct b_identity **ret);
MLS_MUST_CHECK int b_index_put_group(struct broker *b, const uint8_t *rec, size_t len,
                                     struct b_group **ret);

/* ---- broker_methods.c ---- */
/* A method call from the bus (the engine is ready and the index loaded). */
void b_handle_message(struct broker *b, DBusMessage *msg);
/* The engine's answer to a call that came from D-Bus: status 0 and the
 * decoded result, or an error. */
void b_complete(struct broker *b, struct b_call *c, int status, const struct mkd_val *res);
void b_reply_error(struct broker *b, DBusMessage *msg, int e, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Group changes: EpochChanged and PropertiesChanged to the callers who
 * may see the group. */
void b_group_changed(struct broker *b, const struct b_group *old, const struct b_group *g);
/* The result of MKD_E_SELF_UPDATE (its writes are durable): the index
 * takes each group's new summary, and SelfUpdateReady goes to the callers
 * who may see the group. */
void b_self_updates(struct broker *b, const struct mkd_val *res);
/* Drops the cached credentials of a bus name that went away. */
void b_caller_forget(struct broker *b, const char *name);
void b_caller_free(struct b_caller *c);
void b_identity_free(struct b_identity *i);
void b_group_free(struct b_group *g);
void b_path_identity(const uint8_t id[B_ID_LEN], char out[96]);
void b_path_group(const uint8_t id[B_ID_LEN], char out[96]);

#endif
