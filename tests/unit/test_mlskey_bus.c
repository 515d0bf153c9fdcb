/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmlskey.so against a real private dbus-daemon and a fake mlskeyd
 * written here (libdbus, a thread of its own): marshalling of ay, aay,
 * a{sv} and a(uayay) both ways, every method's signature, the mapping of
 * daemon and bus errors, malformed replies, timeouts, signals (EpochChanged
 * and SelfUpdateReady, including forged and malformed ones), threads
 * sharing a client, and mlskeyctl's exit codes and monitor.
 *
 * The fake service is fault injection of the bus side: it checks each
 * options dictionary against the keys and types of the interface contract
 * (doc/org.mlskeyd.Daemon1.xml) and answers with values derived from the
 * arguments, so a marshalling error shows up as a wrong answer.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <dbus/dbus.h>

#include "client-lib/mlskey.h"

#define GROUP_OK MLSKEY_GROUP_PATH_PREFIX "0a0b"
#define GROUP_SLOW MLSKEY_GROUP_PATH_PREFIX "5107"   /* never answers */
#define GROUP_BAD MLSKEY_GROUP_PATH_PREFIX "bad0"    /* malformed replies */
#define GROUP_DEAD MLSKEY_GROUP_PATH_PREFIX "dead"   /* NotFound */
#define GROUP_OTHER MLSKEY_GROUP_PATH_PREFIX "0e1e"  /* another group, for filters */
#define ID_ALICE MLSKEY_IDENTITY_PATH_PREFIX "616c696365"
#define ID_BOB MLSKEY_IDENTITY_PATH_PREFIX "626f62"

/* ------------------------------------------------------------------ */
/* A private bus                                                       */
/* ------------------------------------------------------------------ */

struct bus {
        pid_t pid;
        char dir[64];
        char address[512];
};

static int
bus_start(struct bus *b)
{
        char conf[128];
        int fds[2];
        FILE *f;
        ssize_t n;
        size_t got = 0;

        strcpy(b->dir, "/tmp/test_mlskey_bus.XXXXXX");
        if (!mkdtemp(b->dir))
                return -1;
        snprintf(conf, sizeof(conf), "%s/bus.conf", b->dir);
        f = fopen(conf, "w");
        if (!f)
                return -1;
        fprintf(f,
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig><type>session</type><listen>unix:dir=%s</listen>\n"
                "<auth>EXTERNAL</auth><policy context=\"default\">\n"
                "<allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>\n"
                "<allow own=\"*\"/></policy></busconfig>\n",
                b->dir);
        fclose(f);
        if (pipe(fds) < 0)
                return -1;
        b->pid = fork();
        if (b->pid < 0)
                return -1;
        if (b->pid == 0) {
                char arg_conf[160], arg_fd[32];

                close(fds[0]);
                snprintf(arg_conf, sizeof(arg_conf), "--config-file=%s", conf);
                snprintf(arg_fd, sizeof(arg_fd), "--print-address=%d", fds[1]);
                execlp("dbus-daemon", "dbus-daemon", arg_conf, "--nofork", arg_fd, (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        while (got < sizeof(b->address) - 1 &&
               (n = read(fds[0], b->address + got, sizeof(b->address) - 1 - got)) > 0) {
                got += (size_t)n;
                if (memchr(b->address, '\n', got))
                        break;
        }
        close(fds[0]);
        b->address[got] = '\0';
        if (!strchr(b->address, '\n'))
                return -1;
        *strchr(b->address, '\n') = '\0';
        return 0;
}

static void
bus_stop(struct bus *b)
{
        char cmd[128];

        if (b->pid > 0) {
                kill(b->pid, SIGTERM);
                waitpid(b->pid, NULL, 0);
                b->pid = 0;
        }
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", b->dir);
}

/* ------------------------------------------------------------------ */
/* The fake service                                                    */
/* ------------------------------------------------------------------ */

struct service {
        pthread_t thread;
        DBusConnection *conn;
        volatile int stop;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int ready;
        /* what it was told (under lock) */
        char last_label[64];
        uint32_t uids[16], gids[16];
        size_t n_uids, n_gids;
        uint64_t epoch;
        unsigned calls;
        /* The unique names that introduced themselves (the library's
         * one-way call): the callers it "knows", to which the real daemon
         * sends its group signals as unicast. The last 64 (a ring). */
        char known[64][64];
        size_t n_known;
};

static struct bus the_bus;
static struct service svc;

/* cmocka's asserts may not run outside the main thread: the service
 * thread aborts instead (the test then fails loudly). */
#define CHECK(x)                                                                    \
        do {                                                                        \
                if (!(x)) {                                                         \
                        fprintf(stderr, "%s:%d: service check failed: %s\n", __FILE__, \
                                __LINE__, #x);                                      \
                        abort();                                                    \
                }                                                                   \
        } while (0)

struct allowed {
        const char *key;
        const char *sig;
};

/* Checks an a{sv} at it against the contract: every key known, every
 * value of its type. NULL if fine, else a sentence (static buffer). */
static const char *
check_opts(DBusMessageIter *it, const struct allowed *table)
{
        static __thread char why[160];
        DBusMessageIter arr;

        if (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_ARRAY)
                return "options are not a{sv}";
        dbus_message_iter_recurse(it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter e, v;
                const char *key;
                char *sig;
                bool ok = false, known = false;

                dbus_message_iter_recurse(&arr, &e);
                dbus_message_iter_get_basic(&e, &key);
                dbus_message_iter_next(&e);
                dbus_message_iter_recurse(&e, &v);
                sig = dbus_message_iter_get_signature(&v);
                for (const struct allowed *a = table; a && a->key; a++)
                        if (strcmp(a->key, key) == 0) {
                                known = true;
                                ok = strcmp(a->sig, sig) == 0;
                        }
                if (!known)
                        snprintf(why, sizeof(why), "unknown option \"%s\"", key);
                else if (!ok)
                        snprintf(why, sizeof(why), "option \"%s\" has type %s", key, sig);
                dbus_free(sig);
                if (!ok)
                        return why;
                dbus_message_iter_next(&arr);
        }
        return NULL;
}

/* The variant of key in the a{sv} at it, if any. */
static bool
opt_find(DBusMessageIter *it, const char *key, DBusMessageIter *ret)
{
        DBusMessageIter arr;

        dbus_message_iter_recurse(it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter e;
                const char *k;

                dbus_message_iter_recurse(&arr, &e);
                dbus_message_iter_get_basic(&e, &k);
                if (strcmp(k, key) == 0) {
                        dbus_message_iter_next(&e);
                        dbus_message_iter_recurse(&e, ret);
                        return true;
                }
                dbus_message_iter_next(&arr);
        }
        return false;
}

static void
get_bytes(DBusMessageIter *it, const uint8_t **p, int *n)
{
        DBusMessageIter a;

        dbus_message_iter_recurse(it, &a);
        dbus_message_iter_get_fixed_array(&a, p, n);
        /* libdbus gives NULL for an empty array; memcpy wants a pointer */
        if (*n == 0)
                *p = (const uint8_t *)"";
        dbus_message_iter_next(it);
}

static void
put_bytes(DBusMessageIter *it, const void *p, int n)
{
        DBusMessageIter a;
        const uint8_t *b = p;

        CHECK(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "y", &a));
        CHECK(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &b, n));
        CHECK(dbus_message_iter_close_container(it, &a));
}

static void
send_and_unref(DBusMessage *m)
{
        CHECK(m);
        CHECK(dbus_connection_send(svc.conn, m, NULL));
        dbus_message_unref(m);
}

static void
reply_error(DBusMessage *call, const char *name, const char *text)
{
        send_and_unref(dbus_message_new_error(call, name, text));
}

static void
reply_empty(DBusMessage *m)
{
        send_and_unref(dbus_message_new_method_return(m));
}

/* destination NULL: a broadcast; else unicast, as the real daemon sends it
 * to the callers it knows. */
static void
emit_epoch(const char *path, uint64_t epoch, const char *destination)
{
        DBusMessage *s = dbus_message_new_signal(path, MLSKEY_GROUP_INTERFACE, "EpochChanged");
        DBusMessageIter it;
        uint8_t auth[4] = { 0xea, 0, 0, (uint8_t)epoch };

        dbus_message_iter_init_append(s, &it);
        CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &epoch));
        put_bytes(&it, auth, 4);
        if (destination)
                CHECK(dbus_message_set_destination(s, destination));
        send_and_unref(s);
}

/*
 * SelfUpdateReady(ay commit, t epoch) on path, as the real daemon sends it
 * (unicast to every caller it knows) or as a broadcast; or malformed: the
 * arguments swapped ("tay") or the epoch missing ("ay").
 */
enum su_mode { SU_UNICAST, SU_BROADCAST, SU_SWAPPED, SU_NO_EPOCH };

static void
emit_self_update(const char *path, const uint8_t *commit, int len, uint64_t epoch,
                 enum su_mode mode)
{
        char known[64][64];
        size_t n = 0;

        pthread_mutex_lock(&svc.lock);
        n = svc.n_known < 64 ? svc.n_known : 64;
        memcpy(known, svc.known, sizeof(known));
        pthread_mutex_unlock(&svc.lock);
        if (mode == SU_BROADCAST)
                n = 1;
        for (size_t i = 0; i < n; i++) {
                DBusMessage *s = dbus_message_new_signal(path, MLSKEY_GROUP_INTERFACE,
                                                         "SelfUpdateReady");
                DBusMessageIter it;

                CHECK(s);
                dbus_message_iter_init_append(s, &it);
                if (mode == SU_SWAPPED)
                        CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &epoch));
                put_bytes(&it, commit, len);
                if (mode == SU_UNICAST || mode == SU_BROADCAST)
                        CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &epoch));
                if (mode != SU_BROADCAST)
                        CHECK(dbus_message_set_destination(s, known[i]));
                send_and_unref(s);
        }
}

/* Appends "{key: variant}" of a basic type. */
static void
dict_basic(DBusMessageIter *d, const char *key, int type, const char *sig, const void *v)
{
        DBusMessageIter e, var;

        CHECK(dbus_message_iter_open_container(d, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        CHECK(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        CHECK(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, sig, &var));
        CHECK(dbus_message_iter_append_basic(&var, type, v));
        CHECK(dbus_message_iter_close_container(&e, &var));
        CHECK(dbus_message_iter_close_container(d, &e));
}

static void
dict_fixed(DBusMessageIter *d, const char *key, const char *sig, int type, const void *p, int n)
{
        DBusMessageIter e, var, a;

        CHECK(dbus_message_iter_open_container(d, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        CHECK(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        CHECK(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, sig, &var));
        CHECK(dbus_message_iter_open_container(&var, DBUS_TYPE_ARRAY, sig + 1, &a));
        CHECK(dbus_message_iter_append_fixed_array(&a, type, &p, n));
        CHECK(dbus_message_iter_close_container(&var, &a));
        CHECK(dbus_message_iter_close_container(&e, &var));
        CHECK(dbus_message_iter_close_container(d, &e));
}

/* The Access a{sv} as set by SetAccess. */
static void
put_access(DBusMessageIter *it)
{
        DBusMessageIter d;

        CHECK(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{sv}", &d));
        pthread_mutex_lock(&svc.lock);
        dict_fixed(&d, "uids", "au", DBUS_TYPE_UINT32, svc.uids, (int)svc.n_uids);
        dict_fixed(&d, "gids", "au", DBUS_TYPE_UINT32, svc.gids, (int)svc.n_gids);
        pthread_mutex_unlock(&svc.lock);
        CHECK(dbus_message_iter_close_container(it, &d));
}

static void
put_members(DBusMessageIter *it)
{
        static const char *const names[] = { "alice", "bob" };
        DBusMessageIter arr, st;

        CHECK(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "(uayay)", &arr));
        for (uint32_t i = 0; i < 2; i++) {
                uint8_t key[32];
                uint32_t leaf = i * 3;

                memset(key, 0x10 + (int)i, sizeof(key));
                CHECK(dbus_message_iter_open_container(&arr, DBUS_TYPE_STRUCT, NULL, &st));
                CHECK(dbus_message_iter_append_basic(&st, DBUS_TYPE_UINT32, &leaf));
                put_bytes(&st, names[i], (int)strlen(names[i]));
                put_bytes(&st, key, 32);
                CHECK(dbus_message_iter_close_container(&arr, &st));
        }
        CHECK(dbus_message_iter_close_container(it, &arr));
}

/* Writes the value of one property into the variant container it. */
static bool
put_property(const char *path, const char *iface, const char *prop, DBusMessageIter *it)
{
        DBusMessageIter v;
        bool bad = strcmp(path, GROUP_BAD) == 0;

#define VAR_(sig) CHECK(dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, sig, &v))
#define END_ CHECK(dbus_message_iter_close_container(it, &v))
        if (strcmp(iface, MLSKEY_MANAGER_INTERFACE) == 0 && strcmp(prop, "Version") == 0) {
                const char *s = "0.1.0-test";

                VAR_("s");
                CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &s));
                END_;
        } else if (strcmp(iface, MLSKEY_MANAGER_INTERFACE) == 0 &&
                   strcmp(prop, "SupportedCipherSuites") == 0) {
                static const uint16_t suites[] = { 1, 2, 3 };
                DBusMessageIter a;
                const uint16_t *p = suites;

                VAR_("aq");
                CHECK(dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "q", &a));
                CHECK(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_UINT16, &p, 3));
                CHECK(dbus_message_iter_close_container(&v, &a));
                END_;
        } else if (strcmp(iface, MLSKEY_IDENTITY_INTERFACE) == 0 &&
                   strcmp(prop, "CredentialIdentity") == 0) {
                /* the path's hex id is the credential identity's hex */
                const char *hex = strrchr(path, '/') + 1;
                uint8_t buf[64];
                int n = 0;

                for (; hex[0] && hex[1] && n < 64; hex += 2)
                        buf[n++] = (uint8_t)strtol((char[]){ hex[0], hex[1], 0 }, NULL, 16);
                VAR_("ay");
                put_bytes(&v, buf, n);
                END_;
        } else if (strcmp(iface, MLSKEY_IDENTITY_INTERFACE) == 0 &&
                   strcmp(prop, "SignaturePublicKey") == 0) {
                uint8_t key[32];

                memset(key, 0x11, sizeof(key));
                VAR_("ay");
                put_bytes(&v, key, 32);
                END_;
        } else if (strcmp(prop, "CipherSuite") == 0) {
                uint16_t q = 1;

                VAR_("q");
                CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT16, &q));
                END_;
        } else if (strcmp(prop, "Owner") == 0) {
                uint32_t u = (uint32_t)getuid();

                VAR_("u");
                CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &u));
                END_;
        } else if (strcmp(prop, "Access") == 0) {
                VAR_("a{sv}");
                put_access(&v);
                END_;
        } else if (strcmp(prop, "TpmBound") == 0 || strcmp(prop, "HasPendingCommit") == 0) {
                dbus_bool_t b = strcmp(prop, "HasPendingCommit") == 0;

                VAR_("b");
                CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_BOOLEAN, &b));
                END_;
        } else if (strcmp(prop, "GroupId") == 0) {
                static const uint8_t gid[] = { 0x0a, 0x0b };

                VAR_("ay");
                put_bytes(&v, gid, 2);
                END_;
        } else if (strcmp(prop, "Identity") == 0) {
                const char *o = ID_ALICE;

                VAR_("o");
                CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_OBJECT_PATH, &o));
                END_;
        } else if (strcmp(prop, "Epoch") == 0) {
                uint64_t t;
                uint32_t u = 1;

                pthread_mutex_lock(&svc.lock);
                t = svc.epoch;
                pthread_mutex_unlock(&svc.lock);
                /* The malformed group sends the epoch as u. */
                VAR_(bad ? "u" : "t");
                if (bad)
                        CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &u));
                else
                        CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT64, &t));
                END_;
        } else if (strcmp(prop, "OwnLeaf") == 0) {
                uint32_t u = 3;

                VAR_("u");
                CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &u));
                END_;
        } else if (strcmp(prop, "Members") == 0) {
                VAR_("a(uayay)");
                put_members(&v);
                END_;
        } else if (strcmp(prop, "EpochAuthenticator") == 0) {
                uint8_t auth[4] = { 0xea, 0, 0, 0 };

                pthread_mutex_lock(&svc.lock);
                auth[3] = (uint8_t)svc.epoch;
                pthread_mutex_unlock(&svc.lock);
                VAR_("ay");
                put_bytes(&v, auth, 4);
                END_;
        } else {
                return false;
        }
#undef VAR_
#undef END_
        return true;
}

static void
handle_properties(DBusMessage *m)
{
        const char *path = dbus_message_get_path(m);
        const char *iface = NULL, *prop = NULL;
        DBusMessage *r;
        DBusMessageIter it, d;

        if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "Get")) {
                if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING,
                                           &prop, DBUS_TYPE_INVALID)) {
                        reply_error(m, DBUS_ERROR_INVALID_ARGS, "Get(ss)");
                        return;
                }
                r = dbus_message_new_method_return(m);
                dbus_message_iter_init_append(r, &it);
                if (!put_property(path, iface, prop, &it)) {
                        dbus_message_unref(r);
                        reply_error(m, DBUS_ERROR_UNKNOWN_PROPERTY, prop);
                        return;
                }
                send_and_unref(r);
                return;
        }
        if (dbus_message_is_method_call(m, DBUS_INTERFACE_PROPERTIES, "GetAll") &&
            dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID)) {
                static const char *const idprops[] = { "CredentialIdentity", "SignaturePublicKey",
                                                       "CipherSuite", "Owner", "Access",
                                                       "TpmBound", NULL };
                static const char *const gprops[] = { "GroupId", "Identity", "Epoch",
                                                      "CipherSuite", "OwnLeaf", "Members",
                                                      "EpochAuthenticator", "HasPendingCommit",
                                                      NULL };
                const char *const *props = strcmp(iface, MLSKEY_GROUP_INTERFACE) == 0 ? gprops
                                                                                     : idprops;

                r = dbus_message_new_method_return(m);
                dbus_message_iter_init_append(r, &it);
                CHECK(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &d));
                for (const char *const *p = props; *p; p++) {
                        DBusMessageIter e;

                        /* The malformed group leaves Members out. */
                        if (strcmp(path, GROUP_BAD) == 0 && strcmp(*p, "Members") == 0)
                                continue;
                        CHECK(dbus_message_iter_open_container(&d, DBUS_TYPE_DICT_ENTRY,
                                                                     NULL, &e));
                        CHECK(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, p));
                        CHECK(put_property(path, iface, *p, &e));
                        CHECK(dbus_message_iter_close_container(&d, &e));
                }
                CHECK(dbus_message_iter_close_container(&it, &d));
                send_and_unref(r);
                return;
        }
        reply_error(m, DBUS_ERROR_UNKNOWN_METHOD, "Properties");
}

static const struct allowed opts_create_identity[] = { { "tpm", "b" }, { "label", "s" }, { 0 } };
static const struct allowed opts_keypackages[] = { { "lifetime", "t" },
                                                   { "last_resort", "b" }, { 0 } };
static const struct allowed opts_create_group[] = {
        { "max_past_epochs", "u" },      { "handshake", "s" },
        { "external_senders", "aay" },   { "required_capabilities", "ay" },
        { "max_past_generations", "u" }, { "max_forward_distance", "u" },
        { 0 },
};
/* The project's XML adds CreateGroup's settings to JoinGroup,
 * JoinByExternalCommit, ReInit and Branch. */
#define RETENTION_KEYS                                                     \
        { "max_past_epochs", "u" }, { "handshake", "s" },                 \
        { "max_past_generations", "u" }, { "max_forward_distance", "u" }
static const struct allowed opts_join[] = { RETENTION_KEYS, { 0 } };
static const struct allowed opts_external[] = { { "psk_ids", "aay" },
                                                { "remove_prior_leaf", "u" }, RETENTION_KEYS,
                                                { 0 } };
static const struct allowed opts_new_group[] = { { "inline_tree", "b" }, { "force_path", "b" },
                                                 { "psk_ids", "aay" }, RETENTION_KEYS, { 0 } };
static const struct allowed opts_access[] = { { "uids", "au" }, { "gids", "au" }, { 0 } };
static const struct allowed opts_commit[] = { { "inline_tree", "b" }, { "force_path", "b" },
                                              { "psk_ids", "aay" }, { 0 } };
static const struct allowed opts_group_info[] = { { "external_pub", "b" },
                                                  { "inline_tree", "b" }, { 0 } };
static const struct allowed propose_add[] = { { "key_package", "ay" }, { 0 } };
static const struct allowed propose_remove[] = { { "leaf", "u" }, { 0 } };
static const struct allowed propose_none[] = { { 0 } };
static const struct allowed propose_epsk[] = { { "psk_id", "ay" }, { 0 } };
static const struct allowed propose_rpsk[] = { { "group_id", "ay" }, { "epoch", "t" }, { 0 } };
static const struct allowed propose_gce[] = { { "extensions", "ay" }, { 0 } };
static const struct allowed propose_reinit[] = { { "group_id", "ay" }, { "cipher_suite", "q" },
                                                 { "extensions", "ay" }, { 0 } };

/* Rejects the call if the options at it break the contract. */
static bool
opts_ok(DBusMessage *m, DBusMessageIter *it, const struct allowed *table)
{
        const char *why = check_opts(it, table);

        if (why) {
                reply_error(m, "org.mlskeyd.Error.InvalidArgument", why);
                return false;
        }
        return true;
}

static void
handle_manager(DBusMessage *m)
{
        DBusMessage *r;
        DBusMessageIter it, out, d;

        dbus_message_iter_init(m, &it);
        if (dbus_message_is_method_call(m, MLSKEY_MANAGER_INTERFACE, "CreateIdentity") &&
            dbus_message_has_signature(m, "ayqa{sv}")) {
                const uint8_t *cred;
                int n;
                uint16_t suite;
                char path[256] = MLSKEY_IDENTITY_PATH_PREFIX;
                const char *pp = path;
                DBusMessageIter v;

                get_bytes(&it, &cred, &n);
                dbus_message_iter_get_basic(&it, &suite);
                dbus_message_iter_next(&it);
                if (!opts_ok(m, &it, opts_create_identity))
                        return;
                if (suite != 1 && suite != 2) {
                        char why[64];

                        snprintf(why, sizeof(why), "cipher suite %u is not supported", suite);
                        reply_error(m, "org.mlskeyd.Error.Unsupported", why);
                        return;
                }
                if (opt_find(&it, "label", &v)) {
                        const char *label;

                        dbus_message_iter_get_basic(&v, &label);
                        pthread_mutex_lock(&svc.lock);
                        snprintf(svc.last_label, sizeof(svc.last_label), "%s", label);
                        pthread_mutex_unlock(&svc.lock);
                }
                for (int i = 0; i < n && i < 100; i++)
                        snprintf(path + strlen(path), 3, "%02x", cred[i]);
                r = dbus_message_new_method_return(m);
                CHECK(dbus_message_append_args(r, DBUS_TYPE_OBJECT_PATH, &pp,
                                                     DBUS_TYPE_INVALID));
                send_and_unref(r);
        } else if (dbus_message_is_method_call(m, MLSKEY_MANAGER_INTERFACE, "ListIdentities") ||
                   dbus_message_is_method_call(m, MLSKEY_MANAGER_INTERFACE, "ListGroups")) {
                bool ids = strcmp(dbus_message_get_member(m), "ListIdentities") == 0;
                const char *paths[] = { ids ? ID_ALICE : GROUP_OK, ID_BOB };

                r = dbus_message_new_method_return(m);
                dbus_message_iter_init_append(r, &out);
                CHECK(dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "o", &d));
                for (int i = 0; i < (ids ? 2 : 1); i++)
                        CHECK(dbus_message_iter_append_basic(&d, DBUS_TYPE_OBJECT_PATH,
                                                                   &paths[i]));
                CHECK(dbus_message_iter_close_container(&out, &d));
                send_and_unref(r);
        } else if (dbus_message_is_method_call(m, MLSKEY_MANAGER_INTERFACE, "GetPolicy")) {
                uint64_t t = 3;
                const char *s = "enforce";

                r = dbus_message_new_method_return(m);
                dbus_message_iter_init_append(r, &out);
                CHECK(dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "{sv}", &d));
                dict_basic(&d, "sandbox.seccomp", DBUS_TYPE_STRING, "s", &s);
                dict_basic(&d, "retention.max_past_epochs", DBUS_TYPE_UINT64, "t", &t);
                CHECK(dbus_message_iter_close_container(&out, &d));
                send_and_unref(r);
        } else if (dbus_message_is_method_call(m, MLSKEY_MANAGER_INTERFACE, "TestRebind")) {
                /* Not in the interface: a "restart" of the daemon, the bus
                 * name released and taken again. */
                DBusError err;

                reply_empty(m);
                dbus_connection_flush(svc.conn);
                dbus_error_init(&err);
                CHECK(dbus_bus_release_name(svc.conn, MLSKEY_BUS_NAME, &err) ==
                      DBUS_RELEASE_NAME_REPLY_RELEASED);
                CHECK(dbus_bus_request_name(svc.conn, MLSKEY_BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE,
                                            &err) == DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER);
        } else if (dbus_message_is_method_call(m, MLSKEY_MANAGER_INTERFACE, "TestSelfUpdate") &&
                   dbus_message_has_signature(m, "oaytu")) {
                /* Not in the interface: the [update] interval expired for
                 * group; SelfUpdateReady(commit, epoch) is sent (in the
                 * given enum su_mode) before the reply. */
                DBusMessageIter a;
                const char *group;
                const uint8_t *commit;
                int len;
                uint64_t epoch;
                uint32_t mode;

                dbus_message_iter_init(m, &a);
                dbus_message_iter_get_basic(&a, &group);
                dbus_message_iter_next(&a);
                get_bytes(&a, &commit, &len);
                dbus_message_iter_get_basic(&a, &epoch);
                dbus_message_iter_next(&a);
                dbus_message_iter_get_basic(&a, &mode);
                CHECK(mode <= SU_NO_EPOCH);
                emit_self_update(group, commit, len, epoch, (enum su_mode)mode);
                reply_empty(m);
        } else {
                reply_error(m, DBUS_ERROR_UNKNOWN_METHOD, dbus_message_get_member(m));
        }
}

static void
reply_path_bytes(DBusMessage *m, const char *path, const void *p, int n)
{
        DBusMessage *r = dbus_message_new_method_return(m);
        DBusMessageIter out;

        dbus_message_iter_init_append(r, &out);
        CHECK(dbus_message_iter_append_basic(&out, DBUS_TYPE_OBJECT_PATH, &path));
        put_bytes(&out, p, n);
        send_and_unref(r);
}

static void
reply_bytes(DBusMessage *m, const void *p, int n)
{
        DBusMessage *r = dbus_message_new_method_return(m);
        DBusMessageIter out;

        dbus_message_iter_init_append(r, &out);
        put_bytes(&out, p, n);
        send_and_unref(r);
}


static void
handle_identity(DBusMessage *m)
{
        DBusMessageIter it;
        const char *mem = dbus_message_get_member(m);

        dbus_message_iter_init(m, &it);
        if (strcmp(mem, "GenerateKeyPackages") == 0 && dbus_message_has_signature(m, "ua{sv}")) {
                uint32_t count;
                DBusMessage *r;
                DBusMessageIter out, arr, v;
                uint64_t lifetime = 0;

                dbus_message_iter_get_basic(&it, &count);
                dbus_message_iter_next(&it);
                if (!opts_ok(m, &it, opts_keypackages))
                        return;
                if (opt_find(&it, "lifetime", &v))
                        dbus_message_iter_get_basic(&v, &lifetime);
                r = dbus_message_new_method_return(m);
                dbus_message_iter_init_append(r, &out);
                CHECK(dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "ay", &arr));
                /* KeyPackage i: i+1 bytes of value i, then the lifetime's low byte */
                for (uint32_t i = 0; i < count && i < 64; i++) {
                        uint8_t kp[66];

                        memset(kp, (int)i, i + 1);
                        kp[i + 1] = (uint8_t)lifetime;
                        put_bytes(&arr, kp, (int)i + 2);
                }
                CHECK(dbus_message_iter_close_container(&out, &arr));
                send_and_unref(r);
        } else if (strcmp(mem, "CreateGroup") == 0 && dbus_message_has_signature(m, "aya{sv}")) {
                const uint8_t *gid;
                int n;
                char path[256] = MLSKEY_GROUP_PATH_PREFIX;
                const char *pp = path;
                DBusMessage *r;

                get_bytes(&it, &gid, &n);
                if (!opts_ok(m, &it, opts_create_group))
                        return;
                if (n == 6 && memcmp(gid, "exists", 6) == 0) {
                        reply_error(m, "org.mlskeyd.Error.GroupExists",
                                    "a group with this group id already exists");
                        return;
                }
                for (int i = 0; i < n && i < 100; i++)
                        snprintf(path + strlen(path), 3, "%02x", gid[i]);
                r = dbus_message_new_method_return(m);
                CHECK(dbus_message_append_args(r, DBUS_TYPE_OBJECT_PATH, &pp,
                                                     DBUS_TYPE_INVALID));
                send_and_unref(r);
        } else if (strcmp(mem, "JoinGroup") == 0 && dbus_message_has_signature(m, "ayaya{sv}")) {
                const uint8_t *w, *t;
                int nw, nt;
                const char *pp = GROUP_OK;
                DBusMessage *r;

                get_bytes(&it, &w, &nw);
                get_bytes(&it, &t, &nt);
                if (!opts_ok(m, &it, opts_join))
                        return;
                if (nw != 3 || nt != 0) {
                        reply_error(m, "org.mlskeyd.Error.InvalidMessage", "bad welcome");
                        return;
                }
                r = dbus_message_new_method_return(m);
                CHECK(dbus_message_append_args(r, DBUS_TYPE_OBJECT_PATH, &pp,
                                                     DBUS_TYPE_INVALID));
                send_and_unref(r);
        } else if (strcmp(mem, "JoinByExternalCommit") == 0 &&
                   dbus_message_has_signature(m, "ayaya{sv}")) {
                const uint8_t *gi, *t;
                int ngi, nt;

                get_bytes(&it, &gi, &ngi);
                get_bytes(&it, &t, &nt);
                if (!opts_ok(m, &it, opts_external))
                        return;
                /* the commit: group info then tree */
                uint8_t c[64];
                int nc = 0;

                for (int i = 0; i < ngi && nc < 64; i++)
                        c[nc++] = gi[i];
                for (int i = 0; i < nt && nc < 64; i++)
                        c[nc++] = t[i];
                reply_path_bytes(m, GROUP_OK, c, nc);
        } else if (strcmp(mem, "StoreExternalPsk") == 0 && dbus_message_has_signature(m, "ayay")) {
                reply_empty(m);
        } else if (strcmp(mem, "SetAccess") == 0 && dbus_message_has_signature(m, "a{sv}")) {
                DBusMessageIter v, a;
                const uint32_t *p;
                int n;

                if (!opts_ok(m, &it, opts_access))
                        return;
                pthread_mutex_lock(&svc.lock);
                svc.n_uids = svc.n_gids = 0;
                if (opt_find(&it, "uids", &v)) {
                        dbus_message_iter_recurse(&v, &a);
                        dbus_message_iter_get_fixed_array(&a, &p, &n);
                        svc.n_uids = (size_t)(n > 16 ? 16 : n);
                        if (svc.n_uids)
                                memcpy(svc.uids, p, svc.n_uids * 4);
                }
                if (opt_find(&it, "gids", &v)) {
                        dbus_message_iter_recurse(&v, &a);
                        dbus_message_iter_get_fixed_array(&a, &p, &n);
                        svc.n_gids = (size_t)(n > 16 ? 16 : n);
                        if (svc.n_gids)
                                memcpy(svc.gids, p, svc.n_gids * 4);
                }
                pthread_mutex_unlock(&svc.lock);
                reply_empty(m);
        } else if (strcmp(mem, "Delete") == 0) {
                reply_empty(m);
        } else {
                reply_error(m, DBUS_ERROR_UNKNOWN_METHOD, mem);
        }
}

/* Process: the first byte of the message picks the answer. */
static void
handle_process(DBusMessage *m, DBusMessageIter *it)
{
        const uint8_t *msg;
        int n;
        DBusMessage *r;
        DBusMessageIter out, d;
        const char *kind;
        uint32_t sender = 2;
        uint64_t epoch = 7;
        dbus_bool_t removed = TRUE;
        static const uint32_t added[] = { 4, 5 }, gone[] = { 1 };

        get_bytes(it, &msg, &n);
        if (n == 0) {
                reply_error(m, "org.mlskeyd.Error.InvalidMessage", "empty message");
                return;
        }
        switch (msg[0]) {
        case 'e':
                reply_error(m, "org.mlskeyd.Error.WrongEpoch", "message is for epoch 3, not 7");
                return;
        case 'z':
                reply_error(m, "org.mlskeyd.Error.SomethingNew", "a future error");
                return;
        case 'a':
                kind = "application";
                break;
        case 'c':
                kind = "commit";
                break;
        case 'x':
                kind = "telepathy";
                break;
        case 'n':
                kind = "proposal";
                break;
        case 'b':
                kind = "application";
                break;
        default:
                reply_error(m, "org.mlskeyd.Error.InvalidMessage", "unknown test message");
                return;
        }
        r = dbus_message_new_method_return(m);
        dbus_message_iter_init_append(r, &out);
        CHECK(dbus_message_iter_append_basic(&out, DBUS_TYPE_STRING, &kind));
        /* content: the message without its first byte (empty for a commit) */
        put_bytes(&out, msg + 1, msg[0] == 'c' ? 0 : n - 1);
        CHECK(dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "{sv}", &d));
        if (msg[0] == 'b') {
                const char *s = "seven"; /* a known key of the wrong type */

                dict_basic(&d, "epoch", DBUS_TYPE_STRING, "s", &s);
        } else if (msg[0] == 'n') {
                /* a joiner's proposal: new_member instead of sender */
                dict_basic(&d, "new_member", DBUS_TYPE_BOOLEAN, "b", &removed);
                dict_basic(&d, "epoch", DBUS_TYPE_UINT64, "t", &epoch);
        } else {
                dict_basic(&d, "sender", DBUS_TYPE_UINT32, "u", &sender);
                dict_basic(&d, "epoch", DBUS_TYPE_UINT64, "t", &epoch);
        }
        if (msg[0] == 'a')
                dict_fixed(&d, "authenticated_data", "ay", DBUS_TYPE_BYTE, "aad", 3);
        if (msg[0] == 'c') {
                dict_basic(&d, "removed", DBUS_TYPE_BOOLEAN, "b", &removed);
                dict_fixed(&d, "added", "au", DBUS_TYPE_UINT32, added, 2);
                dict_fixed(&d, "removed_leaves", "au", DBUS_TYPE_UINT32, gone, 1);
        }
        if (msg[0] == 'x') {
                const char *s = "new";

                dict_basic(&d, "future_key", DBUS_TYPE_STRING, "s", &s);
        }
        CHECK(dbus_message_iter_close_container(&out, &d));
        send_and_unref(r);
}

static void
handle_group(DBusMessage *m)
{
        DBusMessageIter it;
        const char *mem = dbus_message_get_member(m);
        const char *path = dbus_message_get_path(m);

        if (strcmp(path, GROUP_SLOW) == 0)
                return; /* no answer: the caller times out */
        if (strcmp(path, GROUP_DEAD) == 0) {
                reply_error(m, "org.mlskeyd.Error.NotFound", "no such group");
                return;
        }
        dbus_message_iter_init(m, &it);
        if (strcmp(mem, "Encrypt") == 0 && dbus_message_has_signature(m, "ayay")) {
                const uint8_t *pt, *aad;
                int npt, naad;
                uint8_t *ct;

                get_bytes(&it, &pt, &npt);
                get_bytes(&it, &aad, &naad);
                /* "CT:" plaintext "|" aad */
                ct = malloc((size_t)(4 + npt + naad));
                CHECK(ct);
                memcpy(ct, "CT:", 3);
                memcpy(ct + 3, pt, (size_t)npt);
                ct[3 + npt] = '|';
                memcpy(ct + 4 + npt, aad, (size_t)naad);
                reply_bytes(m, ct, 4 + npt + naad);
                free(ct);
        } else if (strcmp(mem, "Process") == 0 && dbus_message_has_signature(m, "ay")) {
                handle_process(m, &it);
        } else if ((strcmp(mem, "Add") == 0 || strcmp(mem, "ReInit") == 0) &&
                   dbus_message_has_signature(m, "aaya{sv}")) {
                DBusMessageIter arr, out;
                uint8_t commit[256];
                int nc = 0, count = 0;
                DBusMessage *r;

                /* commit: the KeyPackages joined by '+' */
                dbus_message_iter_recurse(&it, &arr);
                while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY) {
                        const uint8_t *kp;
                        int n;

                        get_bytes(&arr, &kp, &n);
                        if (count++ && nc < 256)
                                commit[nc++] = '+';
                        for (int i = 0; i < n && nc < 256; i++)
                                commit[nc++] = kp[i];
                }
                dbus_message_iter_next(&it);
                if (!opts_ok(m, &it, strcmp(mem, "ReInit") == 0 ? opts_new_group : opts_commit))
                        return;
                if (strcmp(mem, "ReInit") == 0) {
                        reply_path_bytes(m, MLSKEY_GROUP_PATH_PREFIX "0e1e", commit, nc);
                        return;
                }
                r = dbus_message_new_method_return(m);
                dbus_message_iter_init_append(r, &out);
                put_bytes(&out, commit, nc);
                put_bytes(&out, "W", count ? 1 : 0);
                send_and_unref(r);
        } else if (strcmp(mem, "Branch") == 0 && dbus_message_has_signature(m, "ayaaya{sv}")) {
                const uint8_t *gid;
                int n;

                get_bytes(&it, &gid, &n);
                dbus_message_iter_next(&it);
                if (!opts_ok(m, &it, opts_new_group))
                        return;
                reply_path_bytes(m, MLSKEY_GROUP_PATH_PREFIX "b1", gid, n);
        } else if (strcmp(mem, "Remove") == 0 && dbus_message_has_signature(m, "aua{sv}")) {
                DBusMessageIter a;
                const uint32_t *leaves;
                int n;
                uint8_t c[32];

                dbus_message_iter_recurse(&it, &a);
                dbus_message_iter_get_fixed_array(&a, &leaves, &n);
                dbus_message_iter_next(&it);
                if (!opts_ok(m, &it, opts_commit))
                        return;
                c[0] = 'R';
                for (int i = 0; i < n && i < 31; i++)
                        c[i + 1] = (uint8_t)leaves[i];
                reply_bytes(m, c, 1 + (n < 31 ? n : 31));
        } else if (strcmp(mem, "Update") == 0 && dbus_message_has_signature(m, "a{sv}")) {
                uint64_t e;

                if (!opts_ok(m, &it, opts_commit))
                        return;
                /* A signal before the reply: the client must queue it. */
                pthread_mutex_lock(&svc.lock);
                e = ++svc.epoch;
                pthread_mutex_unlock(&svc.lock);
                emit_epoch(path, e, NULL);
                reply_bytes(m, "U", 1);
        } else if (strcmp(mem, "Commit") == 0 && dbus_message_has_signature(m, "a{sv}")) {
                DBusMessage *r;
                DBusMessageIter out;

                if (!opts_ok(m, &it, opts_commit))
                        return;
                r = dbus_message_new_method_return(m);
                dbus_message_iter_init_append(r, &out);
                put_bytes(&out, "C", 1);
                put_bytes(&out, "", 0);
                send_and_unref(r);
        } else if (strcmp(mem, "MergePendingCommit") == 0) {
                uint64_t e;

                pthread_mutex_lock(&svc.lock);
                e = ++svc.epoch;
                pthread_mutex_unlock(&svc.lock);
                reply_empty(m);
                emit_epoch(path, e, dbus_message_get_sender(m));
        } else if (strcmp(mem, "ClearPendingCommit") == 0) {
                reply_error(m, "org.mlskeyd.Error.NoPendingCommit", "there is no pending commit");
        } else if (strcmp(mem, "Propose") == 0 && dbus_message_has_signature(m, "sa{sv}")) {
                static const struct {
                        const char *type;
                        const struct allowed *args;
                        size_t nargs;
                } types[] = {
                        { "add", propose_add, 1 },       { "remove", propose_remove, 1 },
                        { "update", propose_none, 0 },   { "external_psk", propose_epsk, 1 },
                        { "resumption_psk", propose_rpsk, 2 },
                        { "group_context_extensions", propose_gce, 1 },
                        { "reinit", propose_reinit, 3 },
                };
                const char *type;
                char out[64];

                dbus_message_iter_get_basic(&it, &type);
                dbus_message_iter_next(&it);
                for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                        DBusMessageIter arr;
                        size_t n = 0;

                        if (strcmp(types[i].type, type) != 0)
                                continue;
                        if (!opts_ok(m, &it, types[i].args))
                                return;
                        /* every arg of the type is required */
                        dbus_message_iter_recurse(&it, &arr);
                        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_DICT_ENTRY) {
                                n++;
                                dbus_message_iter_next(&arr);
                        }
                        if (n != types[i].nargs) {
                                reply_error(m, "org.mlskeyd.Error.InvalidArgument",
                                            "missing proposal argument");
                                return;
                        }
                        snprintf(out, sizeof(out), "P:%s", type);
                        reply_bytes(m, out, (int)strlen(out));
                        return;
                }
                reply_error(m, "org.mlskeyd.Error.InvalidArgument", "unknown proposal type");
        } else if (strcmp(mem, "GroupInfo") == 0 && dbus_message_has_signature(m, "a{sv}")) {
                DBusMessageIter v;
                dbus_bool_t ext = FALSE;

                if (!opts_ok(m, &it, opts_group_info))
                        return;
                if (opt_find(&it, "external_pub", &v))
                        dbus_message_iter_get_basic(&v, &ext);
                reply_bytes(m, ext ? "GI+pub" : "GI", ext ? 6 : 2);
        } else if (strcmp(mem, "RatchetTree") == 0) {
                reply_bytes(m, "TREE", 4);
        } else if (strcmp(mem, "ExportSecret") == 0 && dbus_message_has_signature(m, "sayu")) {
                const char *label;
                const uint8_t *ctx;
                int nctx;
                uint32_t len;
                uint8_t *s;

                dbus_message_iter_get_basic(&it, &label);
                dbus_message_iter_next(&it);
                get_bytes(&it, &ctx, &nctx);
                dbus_message_iter_get_basic(&it, &len);
                if (strcmp(label, "denied") == 0) {
                        reply_error(m, "org.mlskeyd.Error.PolicyDenied",
                                    "the administrator's policy forbids this");
                        return;
                }
                /* "short" answers one byte too few */
                if (strcmp(label, "short") == 0 && len > 0)
                        len--;
                s = malloc(len ? len : 1);
                CHECK(s);
                memset(s, nctx ? ctx[0] : 0x42, len);
                reply_bytes(m, s, (int)len);
                free(s);
        } else if (strcmp(mem, "Leave") == 0) {
                reply_bytes(m, "LEAVE", 5);
        } else if (strcmp(mem, "Delete") == 0) {
                reply_empty(m);
        } else {
                reply_error(m, DBUS_ERROR_UNKNOWN_METHOD, mem);
        }
}

static void
service_handle(DBusMessage *m)
{
        const char *path = dbus_message_get_path(m);
        const char *iface = dbus_message_get_interface(m);

        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return;
        pthread_mutex_lock(&svc.lock);
        svc.calls++;
        if (dbus_message_get_no_reply(m) && dbus_message_get_sender(m)) {
                bool known = false;

                for (size_t i = 0; i < svc.n_known && i < 64 && !known; i++)
                        known = strcmp(svc.known[i], dbus_message_get_sender(m)) == 0;
                if (!known)
                        snprintf(svc.known[svc.n_known++ % 64], sizeof(svc.known[0]), "%s",
                                 dbus_message_get_sender(m));
        }
        pthread_mutex_unlock(&svc.lock);
        if (iface && strcmp(iface, DBUS_INTERFACE_PROPERTIES) == 0)
                handle_properties(m);
        else if (strcmp(path, MLSKEY_MANAGER_PATH) == 0)
                handle_manager(m);
        else if (strncmp(path, MLSKEY_IDENTITY_PATH_PREFIX, strlen(MLSKEY_IDENTITY_PATH_PREFIX)) == 0)
                handle_identity(m);
        else if (strncmp(path, MLSKEY_GROUP_PATH_PREFIX, strlen(MLSKEY_GROUP_PATH_PREFIX)) == 0)
                handle_group(m);
        else
                reply_error(m, DBUS_ERROR_UNKNOWN_OBJECT, path);
}

static void *
service_main(void *arg)
{
        DBusError err;

        (void)arg;
        dbus_error_init(&err);
        svc.conn = dbus_connection_open_private(the_bus.address, &err);
        CHECK(svc.conn);
        dbus_connection_set_exit_on_disconnect(svc.conn, FALSE);
        CHECK(dbus_bus_register(svc.conn, &err));
        CHECK(dbus_bus_request_name(svc.conn, MLSKEY_BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE,
                                    &err) == DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER);
        pthread_mutex_lock(&svc.lock);
        svc.ready = 1;
        pthread_cond_signal(&svc.cond);
        pthread_mutex_unlock(&svc.lock);
        while (!svc.stop) {
                DBusMessage *m;

                dbus_connection_read_write(svc.conn, 50);
                while ((m = dbus_connection_pop_message(svc.conn))) {
                        service_handle(m);
                        dbus_message_unref(m);
                }
                dbus_connection_flush(svc.conn);
        }
        dbus_connection_close(svc.conn);
        dbus_connection_unref(svc.conn);
        return NULL;
}

static int
group_setup(void **state)
{
        (void)state;
        /* libdbus of the service and of the library share the process. */
        if (!dbus_threads_init_default() || bus_start(&the_bus) < 0)
                return -1;
        pthread_mutex_init(&svc.lock, NULL);
        pthread_cond_init(&svc.cond, NULL);
        if (pthread_create(&svc.thread, NULL, service_main, NULL) != 0)
                return -1;
        pthread_mutex_lock(&svc.lock);
        while (!svc.ready)
                pthread_cond_wait(&svc.cond, &svc.lock);
        pthread_mutex_unlock(&svc.lock);
        return 0;
}

static int
group_teardown(void **state)
{
        (void)state;
        svc.stop = 1;
        pthread_join(svc.thread, NULL);
        bus_stop(&the_bus);
        dbus_shutdown();
        return 0;
}

static struct mlskey_client *
connect_client(void)
{
        struct mlskey_client *c = NULL;

        assert_int_equal(mlskey_client_new_address(the_bus.address, &c), 0);
        assert_non_null(c);
        return c;
}

/* ------------------------------------------------------------------ */
/* Library tests                                                       */
/* ------------------------------------------------------------------ */

static void
test_bus_manager(void **state)
{
        struct mlskey_client *c = connect_client();
        char *version = NULL, **paths = NULL, *id = NULL;
        uint16_t *suites = NULL;
        size_t n = 0;
        struct mlskey_opts *o = NULL;
        struct mlskey_dict pol = MLSKEY_DICT_INIT;
        const struct mlskey_value *v;

        (void)state;
        assert_non_null(mlskey_client_unique_name(c));
        assert_int_equal(mlskey_manager_get_version(c, &version), 0);
        assert_string_equal(version, "0.1.0-test");
        free(version);
        assert_int_equal(mlskey_manager_get_supported_cipher_suites(c, &suites, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(suites[2], 3);
        free(suites);
        assert_int_equal(mlskey_manager_list_identities(c, &paths, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(paths[0], ID_ALICE);
        assert_string_equal(paths[1], ID_BOB);
        assert_null(paths[2]);
        mlskey_strv_free(paths);
        assert_int_equal(mlskey_manager_list_groups(c, &paths, NULL), 0);
        assert_string_equal(paths[0], GROUP_OK);
        mlskey_strv_free(paths);

        /* CreateIdentity: ay q a{sv} with the contract's options */
        assert_int_equal(mlskey_opts_new(&o), 0);
        mlskey_opts_add_string(o, MLSKEY_OPT_LABEL, "Alice's laptop");
        mlskey_opts_add_bool(o, MLSKEY_OPT_TPM, false);
        assert_int_equal(mlskey_manager_create_identity(c, (const uint8_t *)"carol", 5, 1, o, &id),
                         0);
        assert_string_equal(id, MLSKEY_IDENTITY_PATH_PREFIX "6361726f6c");
        free(id);
        pthread_mutex_lock(&svc.lock);
        assert_string_equal(svc.last_label, "Alice's laptop");
        pthread_mutex_unlock(&svc.lock);
        /* the daemon's error, name and sentence */
        id = NULL;
        assert_int_equal(mlskey_manager_create_identity(c, (const uint8_t *)"x", 1, 7, o, &id),
                         MLSKEY_ERROR_UNSUPPORTED);
        assert_null(id);
        assert_int_equal(mlskey_last_error()->code, MLSKEY_ERROR_UNSUPPORTED);
        assert_string_equal(mlskey_last_error()->name, "org.mlskeyd.Error.Unsupported");
        assert_string_equal(mlskey_last_error()->message, "cipher suite 7 is not supported");
        /* an option the contract does not have: the fake daemon refuses it */
        mlskey_opts_clear(o);
        mlskey_opts_add_u32(o, "colour", 3);
        assert_int_equal(mlskey_manager_create_identity(c, (const uint8_t *)"x", 1, 1, o, &id),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(mlskey_last_error()->message, "colour"));
        /* a sticky builder error: nothing is sent */
        mlskey_opts_clear(o);
        mlskey_opts_add_u32(o, "label", 1);
        mlskey_opts_add_u32(o, "label", 2);
        pthread_mutex_lock(&svc.lock);
        n = svc.calls;
        pthread_mutex_unlock(&svc.lock);
        assert_int_equal(mlskey_manager_create_identity(c, (const uint8_t *)"x", 1, 1, o, &id),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_string_equal(mlskey_last_error()->name, "");
        pthread_mutex_lock(&svc.lock);
        assert_int_equal(svc.calls, n);
        pthread_mutex_unlock(&svc.lock);
        mlskey_opts_free(o);

        assert_int_equal(mlskey_manager_get_policy(c, &pol), 0);
        assert_int_equal(pol.n, 2);
        v = mlskey_dict_get(&pol, "retention.max_past_epochs");
        assert_int_equal(v->type, MLSKEY_VALUE_UINT64);
        assert_true(v->v.t == 3);
        assert_string_equal(mlskey_dict_get(&pol, "sandbox.seccomp")->v.s, "enforce");
        mlskey_dict_clear(&pol);
        mlskey_client_free(c);
}

static void
test_bus_identity(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_opts *o = NULL;
        struct mlskey_buf_list kps = MLSKEY_BUF_LIST_INIT;
        struct mlskey_buf b = MLSKEY_BUF_INIT;
        struct mlskey_identity_props p = { 0 };
        struct mlskey_dict acc = MLSKEY_DICT_INIT;
        char *group = NULL;
        static const uint32_t uids[] = { 1001, 1002 }, gids[] = { 50 };
        const struct mlskey_data senders[] = { { (const uint8_t *)"es1", 3 } };
        uint16_t suite = 0;
        uint32_t owner = 0;
        bool tpm = true;

        (void)state;
        assert_int_equal(mlskey_opts_new(&o), 0);
        mlskey_opts_add_u64(o, MLSKEY_OPT_LIFETIME, 0x1234);
        mlskey_opts_add_bool(o, MLSKEY_OPT_LAST_RESORT, true);
        assert_int_equal(mlskey_identity_generate_key_packages(c, ID_ALICE, 3, o, &kps), 0);
        assert_int_equal(kps.n, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(kps.items[i].len, i + 2);
                assert_int_equal(kps.items[i].data[0], i);
                assert_int_equal(kps.items[i].data[i + 1], 0x34); /* the lifetime arrived */
        }
        mlskey_buf_list_clear(&kps);
        assert_null(kps.items);

        /* CreateGroup with every option of the contract */
        mlskey_opts_clear(o);
        mlskey_opts_add_u32(o, MLSKEY_OPT_MAX_PAST_EPOCHS, 5);
        mlskey_opts_add_string(o, MLSKEY_OPT_HANDSHAKE, "private");
        mlskey_opts_add_bytes_array(o, MLSKEY_OPT_EXTERNAL_SENDERS, senders, 1);
        mlskey_opts_add_bytes(o, MLSKEY_OPT_REQUIRED_CAPABILITIES, (const uint8_t *)"rc", 2);
        mlskey_opts_add_u32(o, MLSKEY_OPT_MAX_PAST_GENERATIONS, 10);
        mlskey_opts_add_u32(o, MLSKEY_OPT_MAX_FORWARD_DISTANCE, 100);
        assert_int_equal(mlskey_identity_create_group(c, ID_ALICE, (const uint8_t *)"\x01\x02", 2,
                                                      o, &group),
                         0);
        assert_string_equal(group, MLSKEY_GROUP_PATH_PREFIX "0102");
        free(group);
        group = NULL;
        assert_int_equal(mlskey_identity_create_group(c, ID_ALICE, (const uint8_t *)"exists", 6,
                                                      NULL, &group),
                         MLSKEY_ERROR_GROUP_EXISTS);
        assert_null(group);
        /* JoinGroup: ay ay a{sv}, empty tree, the settings CreateGroup has */
        mlskey_opts_clear(o);
        mlskey_opts_add_string(o, MLSKEY_OPT_HANDSHAKE, "public");
        mlskey_opts_add_u32(o, MLSKEY_OPT_MAX_FORWARD_DISTANCE, 50);
        assert_int_equal(mlskey_identity_join_group(c, ID_BOB, (const uint8_t *)"WEL", 3, NULL, 0,
                                                    o, &group),
                         0);
        assert_string_equal(group, GROUP_OK);
        free(group);
        group = NULL;
        mlskey_opts_add_bool(o, MLSKEY_OPT_INLINE_TREE, true); /* not a JoinGroup key */
        assert_int_equal(mlskey_identity_join_group(c, ID_BOB, (const uint8_t *)"WEL", 3, NULL, 0,
                                                    o, &group),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_null(group);
        /* JoinByExternalCommit: o and ay out */
        mlskey_opts_clear(o);
        {
                const struct mlskey_data ids[] = { { (const uint8_t *)"p1", 2 },
                                                   { (const uint8_t *)"p2", 2 } };

                mlskey_opts_add_bytes_array(o, MLSKEY_OPT_PSK_IDS, ids, 2);
        }
        mlskey_opts_add_u32(o, MLSKEY_OPT_REMOVE_PRIOR_LEAF, 4);
        assert_int_equal(mlskey_identity_join_by_external_commit(c, ID_BOB, (const uint8_t *)"GI",
                                                                 2, (const uint8_t *)"T", 1, o,
                                                                 &group, &b),
                         0);
        assert_string_equal(group, GROUP_OK);
        assert_int_equal(b.len, 3);
        assert_memory_equal(b.data, "GIT", 3);
        free(group);
        mlskey_buf_clear(&b);
        mlskey_opts_free(o);
        assert_int_equal(mlskey_identity_store_external_psk(c, ID_ALICE, (const uint8_t *)"id", 2,
                                                            (const uint8_t *)"k", 1),
                         0);

        /* SetAccess then the properties: the lists come back */
        assert_int_equal(mlskey_identity_set_access(c, ID_ALICE, uids, 2, gids, 1), 0);
        assert_int_equal(mlskey_identity_get_all(c, ID_ALICE, &p), 0);
        assert_int_equal(p.credential_identity.len, 5);
        assert_memory_equal(p.credential_identity.data, "alice", 5);
        assert_int_equal(p.signature_public_key.len, 32);
        assert_int_equal(p.cipher_suite, 1);
        assert_int_equal(p.owner, getuid());
        assert_int_equal(p.n_access_uids, 2);
        assert_int_equal(p.access_uids[1], 1002);
        assert_int_equal(p.n_access_gids, 1);
        assert_int_equal(p.access_gids[0], 50);
        assert_false(p.tpm_bound);
        mlskey_identity_props_clear(&p);
        assert_int_equal(mlskey_identity_get_access(c, ID_ALICE, &acc), 0);
        assert_int_equal(mlskey_dict_get(&acc, "uids")->v.au.v[0], 1001);
        mlskey_dict_clear(&acc);
        assert_int_equal(mlskey_identity_set_access(c, ID_ALICE, NULL, 0, NULL, 0), 0);
        assert_int_equal(mlskey_identity_get_all(c, ID_ALICE, &p), 0);
        assert_int_equal(p.n_access_uids, 0);
        mlskey_identity_props_clear(&p);

        assert_int_equal(mlskey_identity_get_credential_identity(c, ID_BOB, &b), 0);
        assert_memory_equal(b.data, "bob", 3);
        mlskey_buf_clear(&b);
        assert_int_equal(mlskey_identity_get_signature_public_key(c, ID_BOB, &b), 0);
        assert_int_equal(b.len, 32);
        mlskey_buf_clear(&b);
        assert_int_equal(mlskey_identity_get_cipher_suite(c, ID_BOB, &suite), 0);
        assert_int_equal(suite, 1);
        assert_int_equal(mlskey_identity_get_owner(c, ID_BOB, &owner), 0);
        assert_int_equal(owner, getuid());
        assert_int_equal(mlskey_identity_get_tpm_bound(c, ID_BOB, &tpm), 0);
        assert_false(tpm);
        assert_int_equal(mlskey_identity_delete(c, ID_BOB), 0);
        mlskey_client_free(c);
}

static void
test_bus_group_messages(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_buf b = MLSKEY_BUF_INIT;
        struct mlskey_process_result r = MLSKEY_PROCESS_RESULT_INIT;

        (void)state;
        assert_int_equal(mlskey_group_encrypt(c, GROUP_OK, (const uint8_t *)"hi", 2,
                                              (const uint8_t *)"ad", 2, &b),
                         0);
        assert_int_equal(b.len, 8);
        assert_memory_equal(b.data, "CT:hi|ad", 8);
        mlskey_buf_clear(&b);
        /* an empty plaintext and no aad */
        assert_int_equal(mlskey_group_encrypt(c, GROUP_OK, NULL, 0, NULL, 0, &b), 0);
        assert_memory_equal(b.data, "CT:|", 4);
        mlskey_buf_clear(&b);

        /* application: content and info decoded */
        assert_int_equal(mlskey_group_process(c, GROUP_OK, (const uint8_t *)"ahello", 6, &r), 0);
        assert_int_equal(r.kind, MLSKEY_KIND_APPLICATION);
        assert_string_equal(r.kind_name, "application");
        assert_int_equal(r.content.len, 5);
        assert_memory_equal(r.content.data, "hello", 5);
        assert_true(r.has_sender);
        assert_int_equal(r.sender, 2);
        assert_false(r.has_external_sender);
        assert_true(r.has_epoch);
        assert_true(r.epoch == 7);
        assert_int_equal(r.authenticated_data.len, 3);
        assert_memory_equal(r.authenticated_data.data, "aad", 3);
        assert_false(r.removed);
        assert_false(r.new_member);
        assert_int_equal(r.n_added, 0);
        mlskey_process_result_clear(&r);
        assert_null(r.kind_name);
        /* commit: removed, added, removed_leaves */
        assert_int_equal(mlskey_group_process(c, GROUP_OK, (const uint8_t *)"c", 1, &r), 0);
        assert_int_equal(r.kind, MLSKEY_KIND_COMMIT);
        assert_int_equal(r.content.len, 0);
        assert_true(r.removed);
        assert_int_equal(r.n_added, 2);
        assert_int_equal(r.added[1], 5);
        assert_int_equal(r.n_removed_leaves, 1);
        assert_int_equal(r.removed_leaves[0], 1);
        mlskey_process_result_clear(&r);
        /* a joiner's proposal: new_member instead of sender */
        assert_int_equal(mlskey_group_process(c, GROUP_OK, (const uint8_t *)"nP", 2, &r), 0);
        assert_int_equal(r.kind, MLSKEY_KIND_PROPOSAL);
        assert_true(r.new_member);
        assert_false(r.has_sender);
        assert_memory_equal(r.content.data, "P", 1);
        mlskey_process_result_clear(&r);
        /* an unknown kind and an unknown key: kept, not an error */
        assert_int_equal(mlskey_group_process(c, GROUP_OK, (const uint8_t *)"x", 1, &r), 0);
        assert_int_equal(r.kind, MLSKEY_KIND_UNKNOWN);
        assert_string_equal(r.kind_name, "telepathy");
        assert_string_equal(mlskey_dict_get(&r.info, "future_key")->v.s, "new");
        mlskey_process_result_clear(&r);
        /* a known key of the wrong type: BAD_REPLY, result untouched */
        assert_int_equal(mlskey_group_process(c, GROUP_OK, (const uint8_t *)"b", 1, &r),
                         MLSKEY_ERROR_BAD_REPLY);
        assert_null(r.kind_name);
        assert_non_null(strstr(mlskey_last_error()->message, "epoch"));
        /* daemon errors: known and unknown names */
        assert_int_equal(mlskey_group_process(c, GROUP_OK, (const uint8_t *)"e", 1, &r),
                         MLSKEY_ERROR_WRONG_EPOCH);
        assert_string_equal(mlskey_last_error()->name, "org.mlskeyd.Error.WrongEpoch");
        assert_string_equal(mlskey_last_error()->message, "message is for epoch 3, not 7");
        assert_int_equal(mlskey_group_process(c, GROUP_OK, (const uint8_t *)"z", 1, &r),
                         MLSKEY_ERROR_UNKNOWN);
        assert_string_equal(mlskey_last_error()->name, "org.mlskeyd.Error.SomethingNew");
        assert_int_equal(mlskey_group_process(c, GROUP_DEAD, (const uint8_t *)"a", 1, &r),
                         MLSKEY_ERROR_NOT_FOUND);
        /* a path the library refuses before sending */
        assert_int_equal(mlskey_group_process(c, "not/a/path", (const uint8_t *)"a", 1, &r),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_client_free(c);
}

static void
test_bus_group_commits(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_buf commit = MLSKEY_BUF_INIT, welcome = MLSKEY_BUF_INIT;
        struct mlskey_opts *o = NULL;
        const struct mlskey_data kps[] = { { (const uint8_t *)"KP1", 3 },
                                           { (const uint8_t *)"KP22", 4 },
                                           { NULL, 0 } };
        static const uint32_t leaves[] = { 3, 9 };
        char *group = NULL;

        (void)state;
        assert_int_equal(mlskey_opts_new(&o), 0);
        mlskey_opts_add_bool(o, MLSKEY_OPT_INLINE_TREE, false);
        mlskey_opts_add_bool(o, MLSKEY_OPT_FORCE_PATH, true);
        {
                const struct mlskey_data ids[] = { { (const uint8_t *)"p", 1 } };

                mlskey_opts_add_bytes_array(o, MLSKEY_OPT_PSK_IDS, ids, 1);
        }
        /* aay in: three KeyPackages, the last one empty */
        assert_int_equal(mlskey_group_add(c, GROUP_OK, kps, 3, o, &commit, &welcome), 0);
        assert_int_equal(commit.len, 9);
        assert_memory_equal(commit.data, "KP1+KP22+", 9);
        assert_int_equal(welcome.len, 1);
        mlskey_buf_clear(&commit);
        mlskey_buf_clear(&welcome);
        assert_int_equal(mlskey_group_add(c, GROUP_OK, NULL, 0, NULL, &commit, &welcome), 0);
        assert_int_equal(commit.len, 0);
        assert_int_equal(welcome.len, 0); /* nobody added: empty Welcome */
        mlskey_buf_clear(&commit);
        mlskey_buf_clear(&welcome);
        assert_int_equal(mlskey_group_remove(c, GROUP_OK, leaves, 2, o, &commit), 0);
        assert_int_equal(commit.len, 3);
        assert_memory_equal(commit.data, "R\x03\x09", 3);
        mlskey_buf_clear(&commit);
        assert_int_equal(mlskey_group_update(c, GROUP_OK, NULL, &commit), 0);
        assert_memory_equal(commit.data, "U", 1);
        mlskey_buf_clear(&commit);
        assert_int_equal(mlskey_group_commit(c, GROUP_OK, o, &commit, &welcome), 0);
        assert_memory_equal(commit.data, "C", 1);
        assert_int_equal(welcome.len, 0);
        mlskey_buf_clear(&commit);
        mlskey_buf_clear(&welcome);
        assert_int_equal(mlskey_group_merge_pending_commit(c, GROUP_OK), 0);
        assert_int_equal(mlskey_group_clear_pending_commit(c, GROUP_OK),
                         MLSKEY_ERROR_NO_PENDING_COMMIT);
        /* an option of another method: refused by the daemon */
        mlskey_opts_clear(o);
        mlskey_opts_add_bool(o, MLSKEY_OPT_EXTERNAL_PUB, true);
        assert_int_equal(mlskey_group_update(c, GROUP_OK, o, &commit),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_null(commit.data);
        /* GroupInfo takes it */
        assert_int_equal(mlskey_group_group_info(c, GROUP_OK, o, &commit), 0);
        assert_memory_equal(commit.data, "GI+pub", 6);
        mlskey_buf_clear(&commit);
        mlskey_opts_free(o);
        assert_int_equal(mlskey_group_ratchet_tree(c, GROUP_OK, &commit), 0);
        assert_memory_equal(commit.data, "TREE", 4);
        mlskey_buf_clear(&commit);
        assert_int_equal(mlskey_group_reinit(c, GROUP_OK, kps, 1, NULL, &group, &welcome), 0);
        assert_string_equal(group, MLSKEY_GROUP_PATH_PREFIX "0e1e");
        assert_memory_equal(welcome.data, "KP1", 3);
        free(group);
        mlskey_buf_clear(&welcome);
        assert_int_equal(mlskey_group_branch(c, GROUP_OK, (const uint8_t *)"BR", 2, kps, 2, NULL,
                                             &group, &welcome),
                         0);
        assert_string_equal(group, MLSKEY_GROUP_PATH_PREFIX "b1");
        assert_memory_equal(welcome.data, "BR", 2);
        free(group);
        mlskey_buf_clear(&welcome);
        assert_int_equal(mlskey_group_leave(c, GROUP_OK, &commit), 0);
        assert_memory_equal(commit.data, "LEAVE", 5);
        mlskey_buf_clear(&commit);
        assert_int_equal(mlskey_group_delete(c, GROUP_OK), 0);
        mlskey_client_free(c);
}

static void
test_bus_group_propose_every_type(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_buf p = MLSKEY_BUF_INIT;
        struct mlskey_opts *o = NULL;

#define CHECK_P(call, text)                                  \
        do {                                                 \
                assert_int_equal((call), 0);                 \
                assert_int_equal(p.len, strlen(text));       \
                assert_memory_equal(p.data, text, p.len);    \
                mlskey_buf_clear(&p);                        \
        } while (0)
        (void)state;
        CHECK_P(mlskey_group_propose_add(c, GROUP_OK, (const uint8_t *)"KP", 2, &p), "P:add");
        CHECK_P(mlskey_group_propose_remove(c, GROUP_OK, 3, &p), "P:remove");
        CHECK_P(mlskey_group_propose_update(c, GROUP_OK, &p), "P:update");
        CHECK_P(mlskey_group_propose_external_psk(c, GROUP_OK, (const uint8_t *)"id", 2, &p),
                "P:external_psk");
        CHECK_P(mlskey_group_propose_resumption_psk(c, GROUP_OK, (const uint8_t *)"g", 1, 4, &p),
                "P:resumption_psk");
        CHECK_P(mlskey_group_propose_group_context_extensions(c, GROUP_OK,
                                                              (const uint8_t *)"\x00", 1, &p),
                "P:group_context_extensions");
        CHECK_P(mlskey_group_propose_reinit(c, GROUP_OK, (const uint8_t *)"g", 1, 2, NULL, 0, &p),
                "P:reinit");
#undef CHECK_P
        /* the generic call with a wrong argument type */
        assert_int_equal(mlskey_opts_new(&o), 0);
        mlskey_opts_add_u64(o, "leaf", 3);
        assert_int_equal(mlskey_group_propose(c, GROUP_OK, "remove", o, &p),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_opts_free(o);
        assert_int_equal(mlskey_group_propose(c, GROUP_OK, "\xff", NULL, &p),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_client_free(c);
}

static void
test_bus_group_properties(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_group_props p = { 0 };
        struct mlskey_members m = MLSKEY_MEMBERS_INIT;
        struct mlskey_buf b = MLSKEY_BUF_INIT;
        uint64_t epoch = 99, e0;
        uint32_t leaf = 0;
        uint16_t suite = 0;
        bool pending = false;
        char *ident = NULL;

        (void)state;
        assert_int_equal(mlskey_group_get_all(c, GROUP_OK, &p), 0);
        assert_int_equal(p.group_id.len, 2);
        assert_string_equal(p.identity, ID_ALICE);
        assert_int_equal(p.cipher_suite, 1);
        assert_int_equal(p.own_leaf, 3);
        assert_int_equal(p.members.n, 2);
        assert_int_equal(p.members.items[1].leaf, 3);
        assert_memory_equal(p.members.items[1].credential_identity.data, "bob", 3);
        assert_int_equal(p.members.items[1].signature_public_key.len, 32);
        assert_int_equal(p.members.items[1].signature_public_key.data[0], 0x11);
        assert_int_equal(p.epoch_authenticator.len, 4);
        assert_int_equal(p.epoch_authenticator.data[3], (uint8_t)p.epoch);
        assert_true(p.has_pending_commit);
        e0 = p.epoch;
        mlskey_group_props_clear(&p);

        assert_int_equal(mlskey_group_get_epoch(c, GROUP_OK, &epoch), 0);
        assert_true(epoch == e0);
        assert_int_equal(mlskey_group_get_members(c, GROUP_OK, &m), 0);
        assert_int_equal(m.n, 2);
        assert_memory_equal(m.items[0].credential_identity.data, "alice", 5);
        mlskey_members_clear(&m);
        assert_int_equal(mlskey_group_get_group_id(c, GROUP_OK, &b), 0);
        assert_memory_equal(b.data, "\x0a\x0b", 2);
        mlskey_buf_clear(&b);
        assert_int_equal(mlskey_group_get_epoch_authenticator(c, GROUP_OK, &b), 0);
        assert_int_equal(b.len, 4);
        mlskey_buf_clear(&b);
        assert_int_equal(mlskey_group_get_identity(c, GROUP_OK, &ident), 0);
        assert_string_equal(ident, ID_ALICE);
        free(ident);
        assert_int_equal(mlskey_group_get_cipher_suite(c, GROUP_OK, &suite), 0);
        assert_int_equal(mlskey_group_get_own_leaf(c, GROUP_OK, &leaf), 0);
        assert_int_equal(leaf, 3);
        assert_int_equal(mlskey_group_get_has_pending_commit(c, GROUP_OK, &pending), 0);
        assert_true(pending);

        /* a property of the wrong type, and a GetAll without Members */
        epoch = 99;
        assert_int_equal(mlskey_group_get_epoch(c, GROUP_BAD, &epoch), MLSKEY_ERROR_BAD_REPLY);
        assert_true(epoch == 99);
        assert_string_equal(mlskey_last_error()->name, "");
        assert_int_equal(mlskey_group_get_all(c, GROUP_BAD, &p), MLSKEY_ERROR_BAD_REPLY);
        assert_null(p.identity);
        mlskey_client_free(c);
}

static void
test_bus_export_secret(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_secret *s = NULL;

        (void)state;
        assert_int_equal(mlskey_group_export_secret(c, GROUP_OK, "label", (const uint8_t *)"\x07",
                                                    1, 32, &s),
                         0);
        assert_int_equal(s->len, 32);
        assert_int_equal(s->data[0], 0x07);
        assert_int_equal(s->data[31], 0x07);
        mlskey_secret_free(s);
        s = NULL;
        assert_int_equal(mlskey_group_export_secret(c, GROUP_OK, "denied", NULL, 0, 16, &s),
                         MLSKEY_ERROR_POLICY_DENIED);
        assert_null(s);
        /* a reply of another length than asked: refused */
        assert_int_equal(mlskey_group_export_secret(c, GROUP_OK, "short", NULL, 0, 16, &s),
                         MLSKEY_ERROR_BAD_REPLY);
        assert_null(s);
        assert_int_equal(mlskey_group_export_secret(c, GROUP_OK, "\xc3", NULL, 0, 16, &s),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        mlskey_client_free(c);
}

static int64_t
mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_bus_timeout(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_buf b = MLSKEY_BUF_INIT;
        int64_t t0;

        (void)state;
        assert_int_equal(mlskey_client_get_timeout(c), MLSKEY_DEFAULT_TIMEOUT_MS);
        assert_int_equal(mlskey_client_set_timeout(c, 0), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_set_timeout(c, -5), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_set_timeout(c, 300), 0);
        assert_int_equal(mlskey_client_get_timeout(c), 300);
        t0 = mono_ms();
        assert_int_equal(mlskey_group_encrypt(c, GROUP_SLOW, (const uint8_t *)"x", 1, NULL, 0, &b),
                         MLSKEY_ERROR_TIMEOUT);
        assert_true(mono_ms() - t0 >= 290);
        assert_true(mono_ms() - t0 < 5000);
        assert_null(b.data);
        /* the client still works afterwards */
        assert_int_equal(mlskey_group_encrypt(c, GROUP_OK, (const uint8_t *)"x", 1, NULL, 0, &b), 0);
        mlskey_buf_clear(&b);
        mlskey_client_free(c);
}

static void
test_bus_no_daemon_and_no_bus(void **state)
{
        struct bus empty = { 0 };
        struct mlskey_client *c = NULL;
        char **paths = NULL;

        (void)state;
        assert_int_equal(bus_start(&empty), 0);
        assert_int_equal(mlskey_client_new_address(empty.address, &c), 0);
        assert_int_equal(mlskey_manager_list_identities(c, &paths, NULL), MLSKEY_ERROR_NO_DAEMON);
        assert_string_equal(mlskey_last_error()->name, "org.freedesktop.DBus.Error.ServiceUnknown");
        assert_null(paths);
        mlskey_client_free(c);
        bus_stop(&empty);
        c = NULL;
        assert_int_equal(mlskey_client_new_address("unix:path=/nonexistent/mlskey-test", &c),
                         MLSKEY_ERROR_NO_BUS);
        assert_null(c);
        assert_int_equal(mlskey_client_new_address("", &c), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_new_address(NULL, &c), MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_new((enum mlskey_bus)42, &c),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
}

/* ---- signals ---- */

static unsigned
svc_calls(void)
{
        unsigned n;

        pthread_mutex_lock(&svc.lock);
        n = svc.calls;
        pthread_mutex_unlock(&svc.lock);
        return n;
}

/* Waits up to 2 s for the service to have seen at least n calls. */
static bool
svc_calls_reach(unsigned n)
{
        for (int i = 0; i < 200; i++) {
                if (svc_calls() >= n)
                        return true;
                usleep(10000);
        }
        return false;
}

struct seen {
        int n;
        uint64_t epoch;
        char group[128];
        uint8_t auth[4];
};

static void
on_epoch(struct mlskey_client *c, const struct mlskey_epoch_event *ev, void *userdata)
{
        struct seen *s = userdata;
        char *v = NULL;

        s->n++;
        s->epoch = ev->epoch;
        snprintf(s->group, sizeof(s->group), "%s", ev->group);
        assert_int_equal(ev->epoch_authenticator.len, 4);
        memcpy(s->auth, ev->epoch_authenticator.data, 4);
        /* the client is unlocked during callbacks */
        assert_int_equal(mlskey_manager_get_version(c, &v), 0);
        free(v);
}

static void
test_bus_epoch_changed_dispatch(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_buf b = MLSKEY_BUF_INIT;
        struct seen one = { 0 }, all = { 0 };
        unsigned id1 = 0, id2 = 0;
        int fd = -1;

        unsigned before = svc_calls();

        (void)state;
        assert_int_equal(mlskey_client_subscribe_epoch_changed(c, GROUP_OK, on_epoch, &one, &id1),
                         0);
        assert_int_equal(mlskey_client_subscribe_epoch_changed(c, NULL, on_epoch, &all, &id2), 0);
        assert_true(id1 > 0 && id2 > id1);
        /* each subscription introduced the client to the daemon (one-way) */
        assert_true(svc_calls_reach(before + 2));
        assert_int_equal(mlskey_client_get_fd(c, &fd), 0);
        assert_true(fd >= 0);
        /* Update emits EpochChanged before its reply: the call queues it. */
        assert_int_equal(mlskey_group_update(c, GROUP_OK, NULL, &b), 0);
        mlskey_buf_clear(&b);
        assert_int_equal(mlskey_client_dispatch(c, 2000), 2);
        assert_int_equal(one.n, 1);
        assert_int_equal(all.n, 1);
        assert_string_equal(one.group, GROUP_OK);
        assert_int_equal(one.auth[0], 0xea);
        assert_int_equal(one.auth[3], (uint8_t)one.epoch);
        /* nothing more: dispatch returns 0 after its wait */
        assert_int_equal(mlskey_client_dispatch(c, 100), 0);
        /* after unsubscribing, only the catch-all fires (this signal is
         * unicast, as the real daemon sends it) */
        assert_int_equal(mlskey_client_unsubscribe(c, id1), 0);
        assert_int_equal(mlskey_client_unsubscribe(c, id1), MLSKEY_ERROR_NOT_FOUND);
        assert_int_equal(mlskey_group_merge_pending_commit(c, GROUP_OK), 0);
        assert_int_equal(mlskey_client_dispatch(c, 2000), 1);
        assert_int_equal(one.n, 1);
        assert_int_equal(all.n, 2);
        assert_true(all.epoch == one.epoch + 1);
        assert_int_equal(mlskey_client_dropped_events(c), 0);
        mlskey_client_free(c);
}

static void
test_bus_epoch_changed_wait(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_epoch_event ev = MLSKEY_EPOCH_EVENT_INIT;
        DBusConnection *forger;
        DBusMessage *s;
        DBusError err;
        uint64_t before = 0, forged = 424242;
        const uint8_t *auth = (const uint8_t *)"evil";
        int64_t t0;

        (void)state;
        /* nothing subscribed: waiting could never end */
        assert_int_equal(mlskey_client_wait_epoch_changed(c, GROUP_OK, 100, &ev),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_subscribe_epoch_changed(c, GROUP_OK, NULL, NULL, NULL), 0);
        t0 = mono_ms();
        assert_int_equal(mlskey_client_wait_epoch_changed(c, GROUP_OK, 200, &ev),
                         MLSKEY_ERROR_TIMEOUT);
        assert_true(mono_ms() - t0 >= 190);
        assert_null(ev.group);

        /* Anyone may send a unicast signal to our unique name: a forged
         * EpochChanged from another connection must be ignored. */
        dbus_error_init(&err);
        forger = dbus_connection_open_private(the_bus.address, &err);
        assert_non_null(forger);
        assert_true(dbus_bus_register(forger, &err));
        s = dbus_message_new_signal(GROUP_OK, MLSKEY_GROUP_INTERFACE, "EpochChanged");
        assert_true(dbus_message_set_destination(s, mlskey_client_unique_name(c)));
        {
                DBusMessageIter it, a;

                dbus_message_iter_init_append(s, &it);
                assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &forged));
                assert_true(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "y", &a));
                assert_true(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &auth, 4));
                assert_true(dbus_message_iter_close_container(&it, &a));
        }
        assert_true(dbus_connection_send(forger, s, NULL));
        dbus_connection_flush(forger);
        dbus_message_unref(s);
        assert_int_equal(mlskey_group_get_epoch(c, GROUP_OK, &before), 0);
        /* then the real one */
        assert_int_equal(mlskey_group_merge_pending_commit(c, GROUP_OK), 0);
        assert_int_equal(mlskey_client_wait_epoch_changed(c, GROUP_OK, 2000, &ev), 0);
        assert_true(ev.epoch == before + 1);
        assert_string_equal(ev.group, GROUP_OK);
        assert_int_equal(ev.epoch_authenticator.len, 4);
        assert_int_equal(ev.epoch_authenticator.data[0], 0xea);
        mlskey_epoch_event_clear(&ev);
        assert_null(ev.group);
        /* and the forged one never shows up */
        assert_int_equal(mlskey_client_wait_epoch_changed(c, GROUP_OK, 200, &ev),
                         MLSKEY_ERROR_TIMEOUT);
        dbus_connection_close(forger);
        dbus_connection_unref(forger);
        mlskey_client_free(c);
}

/* A daemon restart: the bus name gets a new owner (here the same
 * connection again); the client introduces itself again and still takes
 * the daemon's signals. */
static void
test_bus_daemon_restart_reintroduces(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_epoch_event ev = MLSKEY_EPOCH_EVENT_INIT;
        DBusConnection *raw;
        DBusMessage *m, *r;
        DBusError err;
        unsigned before;

        (void)state;
        before = svc_calls();
        assert_int_equal(mlskey_client_subscribe_epoch_changed(c, NULL, NULL, NULL, NULL), 0);
        assert_true(svc_calls_reach(before + 1));
        dbus_error_init(&err);
        raw = dbus_connection_open_private(the_bus.address, &err);
        assert_non_null(raw);
        assert_true(dbus_bus_register(raw, &err));
        m = dbus_message_new_method_call(MLSKEY_BUS_NAME, MLSKEY_MANAGER_PATH,
                                         MLSKEY_MANAGER_INTERFACE, "TestRebind");
        r = dbus_connection_send_with_reply_and_block(raw, m, 5000, &err);
        assert_non_null(r);
        dbus_message_unref(r);
        dbus_message_unref(m);
        dbus_connection_close(raw);
        dbus_connection_unref(raw);
        before = svc_calls();
        /* reading the NameOwnerChanged signals sends the introduction */
        for (int i = 0; i < 10 && svc_calls() < before + 1; i++)
                assert_true(mlskey_client_dispatch(c, 100) >= 0);
        assert_true(svc_calls_reach(before + 1));
        assert_int_equal(mlskey_group_merge_pending_commit(c, GROUP_OK), 0);
        assert_int_equal(mlskey_client_wait_epoch_changed(c, NULL, 2000, &ev), 0);
        assert_string_equal(ev.group, GROUP_OK);
        mlskey_epoch_event_clear(&ev);
        mlskey_client_free(c);
}

/* ---- SelfUpdateReady ---- */

/* Asks the fake daemon (a test-only method) to send SelfUpdateReady. The
 * signals leave the daemon before the reply, in order. */
static void
svc_self_update(const char *group, const uint8_t *commit, size_t len, uint64_t epoch,
                enum su_mode mode)
{
        DBusConnection *raw;
        DBusMessage *m, *r;
        DBusMessageIter it;
        DBusError err;
        uint32_t md = (uint32_t)mode;

        dbus_error_init(&err);
        raw = dbus_connection_open_private(the_bus.address, &err);
        assert_non_null(raw);
        assert_true(dbus_bus_register(raw, &err));
        m = dbus_message_new_method_call(MLSKEY_BUS_NAME, MLSKEY_MANAGER_PATH,
                                         MLSKEY_MANAGER_INTERFACE, "TestSelfUpdate");
        assert_non_null(m);
        dbus_message_iter_init_append(m, &it);
        assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &group));
        {
                DBusMessageIter a;

                assert_true(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "y", &a));
                assert_true(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &commit,
                                                                 (int)len));
                assert_true(dbus_message_iter_close_container(&it, &a));
        }
        assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &epoch));
        assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &md));
        r = dbus_connection_send_with_reply_and_block(raw, m, 5000, &err);
        assert_non_null(r);
        dbus_message_unref(r);
        dbus_message_unref(m);
        dbus_connection_close(raw);
        dbus_connection_unref(raw);
}

/* The commit bytes of the tests: a pattern, so that every byte counts. */
static uint8_t
commit_byte(size_t i, uint64_t epoch)
{
        return (uint8_t)(i * 7 + 3 + epoch);
}

static uint8_t *
make_commit(size_t len, uint64_t epoch)
{
        uint8_t *p = malloc(len ? len : 1);

        assert_non_null(p);
        for (size_t i = 0; i < len; i++)
                p[i] = commit_byte(i, epoch);
        return p;
}

struct su_seen {
        int n;
        uint64_t epoch;
        char group[128];
        size_t len;
        bool bytes_ok; /* the last commit was the pattern of its epoch */
};

static void
on_self_update(struct mlskey_client *c, const struct mlskey_self_update_event *ev, void *userdata)
{
        struct su_seen *s = userdata;

        (void)c;
        s->n++;
        s->epoch = ev->epoch;
        snprintf(s->group, sizeof(s->group), "%s", ev->group);
        s->len = ev->commit.len;
        s->bytes_ok = ev->commit.data != NULL || ev->commit.len == 0;
        for (size_t i = 0; i < ev->commit.len && s->bytes_ok; i++)
                s->bytes_ok = ev->commit.data[i] == commit_byte(i, ev->epoch);
        assert_null(ev->priv_); /* a callback's event is not the caller's to clear */
}

/* Dispatches until `want` callbacks ran (or 3 s passed); returns how many. */
static int
dispatch_until(struct mlskey_client *c, int want)
{
        int64_t t0 = mono_ms();
        int got = 0;

        while (got < want && mono_ms() - t0 < 3000) {
                int r = mlskey_client_dispatch(c, 200);

                assert_true(r >= 0);
                got += r;
        }
        return got;
}

static void
test_bus_self_update_dispatch(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_epoch_event eev = MLSKEY_EPOCH_EVENT_INIT;
        struct su_seen one = { 0 }, all = { 0 };
        unsigned id1 = 0, id2 = 0, id3 = 0, before = svc_calls();
        /* larger than one socket read: the signal comes in pieces */
        const size_t big = 200000;
        uint8_t *commit = make_commit(big, 9);

        (void)state;
        assert_int_equal(mlskey_client_subscribe_self_update(c, GROUP_OK, on_self_update, &one,
                                                             &id1),
                         0);
        assert_int_equal(mlskey_client_subscribe_self_update(c, NULL, on_self_update, &all, &id2),
                         0);
        /* one id space with EpochChanged subscriptions */
        assert_int_equal(mlskey_client_subscribe_epoch_changed(c, NULL, NULL, NULL, &id3), 0);
        assert_true(id1 > 0 && id2 > id1 && id3 > id2);
        /* each subscription introduced the client to the daemon, which now
         * knows it and sends it its unicast signals */
        assert_true(svc_calls_reach(before + 3));

        /* unicast, as the real daemon sends it: both subscriptions see the
         * group, the epoch and every byte of the commit */
        svc_self_update(GROUP_OK, commit, big, 9, SU_UNICAST);
        assert_int_equal(dispatch_until(c, 2), 2);
        assert_int_equal(one.n, 1);
        assert_int_equal(all.n, 1);
        assert_string_equal(one.group, GROUP_OK);
        assert_string_equal(all.group, GROUP_OK);
        assert_true(one.epoch == 9 && all.epoch == 9);
        assert_int_equal(one.len, big);
        assert_true(one.bytes_ok && all.bytes_ok);
        free(commit);

        /* filtering by group: another group reaches the catch-all only */
        commit = make_commit(3, 4);
        svc_self_update(GROUP_OTHER, commit, 3, 4, SU_UNICAST);
        assert_int_equal(dispatch_until(c, 1), 1);
        assert_int_equal(mlskey_client_dispatch(c, 100), 0);
        assert_int_equal(one.n, 1);
        assert_int_equal(all.n, 2);
        assert_string_equal(all.group, GROUP_OTHER);
        assert_true(all.epoch == 4 && all.len == 3 && all.bytes_ok);
        free(commit);

        /* a broadcast reaches us through the match rules */
        svc_self_update(GROUP_OK, (const uint8_t *)"", 0, 5, SU_BROADCAST);
        assert_int_equal(dispatch_until(c, 2), 2);
        assert_int_equal(one.n, 2);
        assert_int_equal(all.n, 3);
        assert_true(one.epoch == 5 && one.len == 0);

        /* unsubscribe stops it: first the group's, then the catch-all */
        assert_int_equal(mlskey_client_unsubscribe(c, id1), 0);
        assert_int_equal(mlskey_client_unsubscribe(c, id1), MLSKEY_ERROR_NOT_FOUND);
        commit = make_commit(16, 6);
        svc_self_update(GROUP_OK, commit, 16, 6, SU_UNICAST);
        assert_int_equal(dispatch_until(c, 1), 1);
        assert_int_equal(mlskey_client_dispatch(c, 100), 0);
        assert_int_equal(one.n, 2);
        assert_int_equal(all.n, 4);
        assert_int_equal(mlskey_client_unsubscribe(c, id2), 0);
        /* a unicast SelfUpdateReady still arrives on the socket; then an
         * EpochChanged (unicast too, after it): once that one is here, the
         * first was read and dropped */
        svc_self_update(GROUP_OK, commit, 16, 7, SU_UNICAST);
        assert_int_equal(mlskey_group_merge_pending_commit(c, GROUP_OK), 0);
        assert_int_equal(mlskey_client_wait_epoch_changed(c, GROUP_OK, 2000, &eev), 0);
        mlskey_epoch_event_clear(&eev);
        assert_int_equal(mlskey_client_dispatch(c, 100), 0);
        assert_int_equal(one.n, 2);
        assert_int_equal(all.n, 4);
        /* and nothing is left to wait for */
        {
                struct mlskey_self_update_event ev = MLSKEY_SELF_UPDATE_EVENT_INIT;

                assert_int_equal(mlskey_client_wait_self_update(c, NULL, 100, &ev),
                                 MLSKEY_ERROR_INVALID_ARGUMENT);
        }
        free(commit);
        assert_int_equal(mlskey_client_dropped_events(c), 0);
        mlskey_client_free(c);
}

static void
test_bus_self_update_wait_rejects_forged_and_malformed(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_self_update_event ev = MLSKEY_SELF_UPDATE_EVENT_INIT;
        struct mlskey_epoch_event eev = MLSKEY_EPOCH_EVENT_INIT;
        DBusConnection *forger;
        DBusMessage *s;
        DBusError err;
        uint64_t forged_epoch = 666;
        const uint8_t *evil = (const uint8_t *)"evil";
        int64_t t0;

        (void)state;
        /* arguments */
        assert_int_equal(mlskey_client_subscribe_self_update(NULL, NULL, NULL, NULL, NULL),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_subscribe_self_update(c, "not a path", NULL, NULL, NULL),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_wait_self_update(NULL, NULL, 0, &ev),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_wait_self_update(c, NULL, 0, NULL),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        /* nothing subscribed, or only EpochChanged: waiting could never end */
        assert_int_equal(mlskey_client_wait_self_update(c, GROUP_OK, 100, &ev),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_int_equal(mlskey_client_subscribe_epoch_changed(c, GROUP_OK, NULL, NULL, NULL), 0);
        assert_int_equal(mlskey_client_wait_self_update(c, GROUP_OK, 100, &ev),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(mlskey_last_error()->message, "SelfUpdateReady"));
        mlskey_self_update_event_clear(NULL);
        mlskey_self_update_event_clear(&ev); /* an INIT event: a no-op */

        assert_int_equal(mlskey_client_subscribe_self_update(c, GROUP_OK, NULL, NULL, NULL), 0);
        /* a subscription of one group does not cover another */
        assert_int_equal(mlskey_client_wait_self_update(c, GROUP_OTHER, 100, &ev),
                         MLSKEY_ERROR_INVALID_ARGUMENT);
        t0 = mono_ms();
        assert_int_equal(mlskey_client_wait_self_update(c, GROUP_OK, 200, &ev),
                         MLSKEY_ERROR_TIMEOUT);
        assert_true(mono_ms() - t0 >= 190);
        assert_null(ev.group); /* untouched on failure */

        /* A forged SelfUpdateReady from another connection, unicast to us
         * with the right signature: not from the daemon, ignored. */
        dbus_error_init(&err);
        forger = dbus_connection_open_private(the_bus.address, &err);
        assert_non_null(forger);
        assert_true(dbus_bus_register(forger, &err));
        s = dbus_message_new_signal(GROUP_OK, MLSKEY_GROUP_INTERFACE, "SelfUpdateReady");
        assert_true(dbus_message_set_destination(s, mlskey_client_unique_name(c)));
        {
                DBusMessageIter it, a;

                dbus_message_iter_init_append(s, &it);
                assert_true(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "y", &a));
                assert_true(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &evil, 4));
                assert_true(dbus_message_iter_close_container(&it, &a));
                assert_true(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT64, &forged_epoch));
        }
        assert_true(dbus_connection_send(forger, s, NULL));
        dbus_connection_flush(forger);
        dbus_message_unref(s);
        /* Malformed ones from the daemon itself: (t, ay) and (ay) are not
         * SelfUpdateReady's (ay, t); dropped, never decoded. */
        svc_self_update(GROUP_OK, evil, 4, 667, SU_SWAPPED);
        svc_self_update(GROUP_OK, evil, 4, 668, SU_NO_EPOCH);
        /* then the real one */
        svc_self_update(GROUP_OK, (const uint8_t *)"C42", 3, 42, SU_UNICAST);
        assert_int_equal(mlskey_client_wait_self_update(c, GROUP_OK, 2000, &ev), 0);
        assert_string_equal(ev.group, GROUP_OK);
        assert_true(ev.epoch == 42);
        assert_int_equal(ev.commit.len, 3);
        assert_memory_equal(ev.commit.data, "C42", 3);
        assert_non_null(ev.priv_);
        mlskey_self_update_event_clear(&ev);
        assert_null(ev.group);
        assert_null(ev.commit.data);
        assert_null(ev.priv_);
        /* the forged one arrived before (the daemon's reply came after it
         * was flushed) and never shows up; nor do the malformed ones */
        assert_int_equal(mlskey_client_wait_self_update(c, GROUP_OK, 200, &ev),
                         MLSKEY_ERROR_TIMEOUT);
        assert_int_equal(mlskey_client_dispatch(c, 0), 0);

        /* The two kinds share a queue but not their waits: a
         * SelfUpdateReady, then an EpochChanged. The EpochChanged wait
         * takes the second and leaves the first queued. */
        svc_self_update(GROUP_OK, (const uint8_t *)"C43", 3, 43, SU_UNICAST);
        assert_int_equal(mlskey_group_merge_pending_commit(c, GROUP_OK), 0);
        assert_int_equal(mlskey_client_wait_epoch_changed(c, GROUP_OK, 2000, &eev), 0);
        assert_int_equal(eev.epoch_authenticator.len, 4);
        mlskey_epoch_event_clear(&eev);
        assert_int_equal(mlskey_client_wait_self_update(c, NULL, 0, &ev), 0);
        assert_true(ev.epoch == 43);
        assert_memory_equal(ev.commit.data, "C43", 3);
        mlskey_self_update_event_clear(&ev);
        assert_int_equal(mlskey_client_dropped_events(c), 0);

        dbus_connection_close(forger);
        dbus_connection_unref(forger);
        mlskey_client_free(c);
}

/* The application's flow: the callback delivers the commit (here: a log
 * entry) and merges it, calling the library on the dispatching client;
 * the resulting EpochChanged comes in a later dispatch, in arrival order
 * with the other kind. */
struct flow {
        char log[16];
        size_t n;
        uint64_t su_epoch;
};

static void
flow_self_update(struct mlskey_client *c, const struct mlskey_self_update_event *ev,
                 void *userdata)
{
        struct flow *f = userdata;

        assert_true(f->n < sizeof(f->log) - 1);
        f->log[f->n++] = 'S';
        f->su_epoch = ev->epoch;
        assert_int_equal(mlskey_group_merge_pending_commit(c, ev->group), 0);
}

static void
flow_epoch(struct mlskey_client *c, const struct mlskey_epoch_event *ev, void *userdata)
{
        struct flow *f = userdata;

        (void)c;
        assert_string_equal(ev->group, GROUP_OK);
        assert_true(f->n < sizeof(f->log) - 1);
        f->log[f->n++] = 'E';
}

static void
test_bus_self_update_callback_merges(void **state)
{
        struct mlskey_client *c = connect_client();
        struct flow f = { { 0 }, 0, 0 };
        struct mlskey_buf b = MLSKEY_BUF_INIT;

        (void)state;
        assert_int_equal(mlskey_client_subscribe_epoch_changed(c, GROUP_OK, flow_epoch, &f, NULL),
                         0);
        assert_int_equal(mlskey_client_subscribe_self_update(c, GROUP_OK, flow_self_update, &f,
                                                             NULL),
                         0);
        /* EpochChanged (broadcast by Update, queued by the call), then a
         * SelfUpdateReady: one dispatch calls both, in that order */
        assert_int_equal(mlskey_group_update(c, GROUP_OK, NULL, &b), 0);
        mlskey_buf_clear(&b);
        svc_self_update(GROUP_OK, (const uint8_t *)"S", 1, 11, SU_UNICAST);
        assert_int_equal(dispatch_until(c, 2), 2);
        /* the merge's EpochChanged */
        assert_int_equal(dispatch_until(c, 1), 1);
        assert_string_equal(f.log, "ESE");
        assert_true(f.su_epoch == 11);
        mlskey_client_free(c);
}

/* ---- threads ---- */

static struct mlskey_client *shared_client;

static void *
worker(void *arg)
{
        intptr_t kind = (intptr_t)arg;
        struct mlskey_process_result r = MLSKEY_PROCESS_RESULT_INIT;

        for (int i = 0; i < 40; i++) {
                if (kind % 2) {
                        char *v = NULL;

                        if (mlskey_manager_get_version(shared_client, &v) != 0 ||
                            strcmp(v, "0.1.0-test") != 0)
                                return (void *)1;
                        free(v);
                        /* this thread's last error is its own success */
                        if (mlskey_last_error()->code != 0)
                                return (void *)2;
                } else {
                        if (mlskey_group_process(shared_client, GROUP_OK, (const uint8_t *)"e", 1,
                                                 &r) != MLSKEY_ERROR_WRONG_EPOCH)
                                return (void *)3;
                        if (mlskey_last_error()->code != MLSKEY_ERROR_WRONG_EPOCH)
                                return (void *)4;
                }
        }
        return NULL;
}

static void
test_bus_threads_share_a_client(void **state)
{
        pthread_t t[4];

        (void)state;
        shared_client = connect_client();
        for (intptr_t i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
        for (int i = 0; i < 4; i++) {
                void *ret = (void *)-1;

                assert_int_equal(pthread_join(t[i], &ret), 0);
                assert_null(ret);
        }
        mlskey_client_free(shared_client);
}

/* ------------------------------------------------------------------ */
/* mlskeyctl                                                           */
/* ------------------------------------------------------------------ */

static char ctl_out[8192], ctl_err[8192];

static void
slurp(const char *path, char *buf, size_t cap)
{
        FILE *f = fopen(path, "r");
        size_t n = 0;

        if (f) {
                n = fread(buf, 1, cap - 1, f);
                fclose(f);
        }
        buf[n] = '\0';
}

/* Runs mlskeyctl --address BUS ARGS; returns its exit status. */
static int
run_ctl(const char *args)
{
        char cmd[2048];
        int st;

        /* MLSKEY_TEST_CTL_PREFIX, e.g. "valgrind -q", wraps each run. */
        const char *prefix = getenv("MLSKEY_TEST_CTL_PREFIX");

        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && %s '%s/tools/mlskeyctl' --address '%s' %s >out 2>err", the_bus.dir,
                 prefix ? prefix : "", TEST_BUILDDIR, the_bus.address, args);
        st = system(cmd);
        {
                char p[128];

                snprintf(p, sizeof(p), "%s/out", the_bus.dir);
                slurp(p, ctl_out, sizeof(ctl_out));
                snprintf(p, sizeof(p), "%s/err", the_bus.dir);
                slurp(p, ctl_err, sizeof(ctl_err));
        }
        assert_true(WIFEXITED(st));
        /* for the log: what ran and what it said on stderr */
        fprintf(stderr, "# mlskeyctl %s -> %d%s%s", args, WEXITSTATUS(st), ctl_err[0] ? ": " : "\n",
                ctl_err);
        /* A sanitizer report fails the run whatever the exit status. */
        assert_null(strstr(ctl_err, "Sanitizer"));
        assert_null(strstr(ctl_err, "runtime error"));
        return WEXITSTATUS(st);
}

static void
file_equals(const char *name, const void *data, size_t len)
{
        char path[128], buf[256];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", the_bus.dir, name);
        f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        assert_int_equal(n, len);
        assert_memory_equal(buf, data, len);
}

static void
write_file(const char *name, const void *data, size_t len)
{
        char path[128];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", the_bus.dir, name);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
}

static void
test_ctl_exit_codes_and_output(void **state)
{
        (void)state;
        /* 0: status against the fake daemon */
        assert_int_equal(run_ctl("status"), 0);
        assert_non_null(strstr(ctl_out, "daemon: mlskeyd 0.1.0-test"));
        assert_non_null(strstr(ctl_out, "cipher_suites: 1 2 3"));
        assert_non_null(strstr(ctl_out, "identities: 2"));
        assert_non_null(strstr(ctl_out, "name=alice"));
        assert_int_equal(run_ctl("policy show"), 0);
        assert_non_null(strstr(ctl_out, "retention.max_past_epochs = 3"));
        /* tpm status runs mlskeyd --tpm-admin on a state directory: a
         * fresh one under the default policy (no TPM) has no key yet. */
        {
                char bin[1024], args[1024];

                snprintf(bin, sizeof(bin), "%s/mlskeyd", TEST_BUILDDIR);
                assert_int_equal(setenv("MLSKEYD", bin, 1), 0);
                snprintf(args, sizeof(args), "tpm status --state-dir '%s' --config '%s/none.conf'",
                         the_bus.dir, the_bus.dir);
                assert_int_equal(run_ctl(args), 0);
                assert_non_null(strstr(ctl_out, "mode: off"));
                assert_non_null(strstr(ctl_out, "storage-key: none"));
                assert_non_null(strstr(ctl_out, "daemon: stopped"));
                /* recover needs its key file: a usage error */
                assert_int_equal(run_ctl("tpm recover"), 2);
                assert_int_equal(unsetenv("MLSKEYD"), 0);
        }
        /* 1: the daemon's error, printed with its name and sentence */
        write_file("wrong-epoch.bin", "e", 1);
        assert_int_equal(run_ctl("group process 0a0b --in wrong-epoch.bin"), 1);
        assert_string_equal(ctl_err, "mlskeyctl: WrongEpoch: message is for epoch 3, not 7\n");
        assert_int_equal(run_ctl("group process 0a0b --in future.bin"), 1);
        assert_non_null(strstr(ctl_err, "future.bin"));
        write_file("future-error.bin", "z", 1);
        assert_int_equal(run_ctl("group process 0a0b --in future-error.bin"), 1);
        assert_string_equal(ctl_err, "mlskeyctl: SomethingNew: a future error\n");
        assert_int_equal(run_ctl("identity create --suite 9 --name x"), 1);
        assert_non_null(strstr(ctl_err, "mlskeyctl: Unsupported: "));
        assert_int_equal(run_ctl("group epoch nobody"), 1);
        assert_non_null(strstr(ctl_err, "NotFound"));
        /* 2: usage */
        assert_int_equal(run_ctl("bogus"), 2);
        assert_int_equal(run_ctl("group"), 2);
        assert_int_equal(run_ctl("group frobnicate"), 2);
        assert_int_equal(run_ctl("group add 0a0b kp.bin"), 2); /* no --commit-out */
        assert_int_equal(run_ctl("identity create --name x"), 2);
        assert_int_equal(run_ctl("identity create --suite x1 --name x"), 2);
        assert_int_equal(run_ctl("group remove 0a0b one --commit-out c"), 2);
        assert_int_equal(run_ctl("group encrypt 0a0b --nonsense"), 2);
        assert_int_equal(run_ctl("--timeout -3 status"), 2);
        /* manuals */
        assert_int_equal(run_ctl("--help"), 0);
        assert_non_null(strstr(ctl_out, "group add"));
        assert_int_equal(run_ctl("group add --help"), 0);
        assert_non_null(strstr(ctl_out, "SYNOPSIS"));
        assert_non_null(strstr(ctl_out, "EXIT STATUS"));
        assert_non_null(strstr(ctl_out, "EXAMPLES"));
        assert_int_equal(run_ctl("help identity create"), 0);
        assert_non_null(strstr(ctl_out, "--suite N"));
}

static void
test_ctl_operations(void **state)
{
        (void)state;
        assert_int_equal(run_ctl("identity create --suite 1 --name carol --label laptop"), 0);
        assert_string_equal(ctl_out, MLSKEY_IDENTITY_PATH_PREFIX "6361726f6c\n");
        /* by name (credential identity), three KeyPackages to kp.1..3 */
        assert_int_equal(run_ctl("keypackage generate alice --count 3 --lifetime 258 --out kp"), 0);
        file_equals("kp.1", "\x00\x02", 2);
        file_equals("kp.3", "\x02\x02\x02\x02", 4);
        /* by hex id, to stdout as hex */
        assert_int_equal(run_ctl("keypackage generate 626f62 --out - --hex"), 0);
        assert_string_equal(ctl_out, "0000\n");
        /* add: two KeyPackages; commit and Welcome to files */
        assert_int_equal(run_ctl("group add 0a0b kp.1 kp.2 --commit-out c.bin --welcome-out w.bin "
                                 "--no-inline-tree --merge"),
                         0);
        file_equals("c.bin", "\x00\x02+\x01\x01\x02", 6);
        file_equals("w.bin", "W", 1);
        assert_int_equal(run_ctl("group remove " GROUP_OK " 3 9 --commit-out r.bin"), 0);
        file_equals("r.bin", "R\x03\x09", 3);
        /* encrypt and process */
        write_file("msg.txt", "hello", 5);
        assert_int_equal(run_ctl("group encrypt 0a0b --in msg.txt --aad 6164 --out ct.bin"), 0);
        file_equals("ct.bin", "CT:hello|ad", 11);
        write_file("app.bin", "ahi there", 9);
        assert_int_equal(run_ctl("group process 0a0b --in app.bin --out pt.txt"), 0);
        assert_non_null(strstr(ctl_out, "kind: application\n"));
        assert_non_null(strstr(ctl_out, "sender: 2\n"));
        assert_non_null(strstr(ctl_out, "epoch: 7\n"));
        assert_non_null(strstr(ctl_out, "authenticated_data: 616164\n"));
        file_equals("pt.txt", "hi there", 8);
        write_file("joiner.bin", "nX", 2);
        assert_int_equal(run_ctl("group process 0a0b --in joiner.bin --out - --hex"), 0);
        assert_string_equal(ctl_out, "58\n");
        assert_non_null(strstr(ctl_err, "kind: proposal\n"));
        assert_non_null(strstr(ctl_err, "new_member: true\n"));
        write_file("w3.bin", "WEL", 3);
        assert_int_equal(run_ctl("group join bob --welcome w3.bin --handshake private "
                                 "--max-past-epochs 2"),
                         0);
        assert_string_equal(ctl_out, GROUP_OK "\n");
        write_file("commit.bin", "c", 1);
        assert_int_equal(run_ctl("group process 0a0b --in commit.bin"), 0);
        assert_non_null(strstr(ctl_out, "kind: commit\n"));
        assert_non_null(strstr(ctl_out, "removed: true\n"));
        assert_non_null(strstr(ctl_out, "added: 4 5\n"));
        assert_non_null(strstr(ctl_out, "removed_leaves: 1\n"));
        /* group properties */
        assert_int_equal(run_ctl("group epoch 0a0b"), 0);
        assert_non_null(strstr(ctl_out, "epoch: "));
        assert_non_null(strstr(ctl_out, "authenticator: ea0000"));
        assert_int_equal(run_ctl("group members 0a0b"), 0);
        assert_non_null(strstr(ctl_out, "0 alice 1010"));
        assert_non_null(strstr(ctl_out, "3 bob 1111"));
        assert_non_null(strstr(ctl_out, "(you)"));
        assert_int_equal(run_ctl("group show 0a0b"), 0);
        assert_non_null(strstr(ctl_out, "own_leaf: 3\n"));
        /* proposals, export, share */
        assert_int_equal(run_ctl("group propose 0a0b remove --leaf 2 --out p.bin"), 0);
        file_equals("p.bin", "P:remove", 8);
        assert_int_equal(run_ctl("group propose 0a0b resumption-psk --group-id 01 --epoch 3 "
                                 "--out p.bin"),
                         0);
        file_equals("p.bin", "P:resumption_psk", 16);
        assert_int_equal(run_ctl("group propose 0a0b remove --out p.bin"), 2);
        assert_int_equal(run_ctl("group export 0a0b --label x --context 09 --length 4"), 0);
        assert_string_equal(ctl_out, "09090909\n");
        assert_int_equal(run_ctl("group export 0a0b --label denied --length 4"), 1);
        assert_non_null(strstr(ctl_err, "PolicyDenied"));
        assert_int_equal(run_ctl("identity share alice --uid 1001 --gid 7"), 0);
        assert_non_null(strstr(ctl_out, "shared_uids: 1001\n"));
        assert_int_equal(run_ctl("identity share alice --uid 1002"), 0);
        assert_non_null(strstr(ctl_out, "shared_uids: 1001 1002\n"));
        assert_int_equal(run_ctl("identity unshare alice --uid 1001"), 0);
        assert_non_null(strstr(ctl_out, "shared_uids: 1002\n"));
        assert_non_null(strstr(ctl_out, "shared_gids: 7\n"));
        assert_int_equal(run_ctl("identity share alice --replace"), 0);
        assert_non_null(strstr(ctl_out, "shared_uids:\n"));
        assert_int_equal(run_ctl("group info 0a0b --external-pub --out gi.bin"), 0);
        file_equals("gi.bin", "GI+pub", 6);
        assert_int_equal(run_ctl("group clear 0a0b"), 1);
        assert_non_null(strstr(ctl_err, "NoPendingCommit"));
}

/* ---- mlskeyctl monitor ---- */

static size_t
svc_known(void)
{
        size_t n;

        pthread_mutex_lock(&svc.lock);
        n = svc.n_known;
        pthread_mutex_unlock(&svc.lock);
        return n;
}

/*
 * Starts mlskeyctl --address BUS ARGS in the background (stdout and stderr
 * to TAG.out and TAG.err in the bus directory) and returns once the fake
 * daemon knows it (its subscriptions introduced it) and it said so on
 * stderr.
 */
static pid_t
start_ctl(const char *args, const char *tag)
{
        const char *prefix = getenv("MLSKEY_TEST_CTL_PREFIX");
        size_t known = svc_known();
        char cmd[2048], errpath[128];
        pid_t pid;

        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && exec %s '%s/tools/mlskeyctl' --address '%s' %s >%s.out 2>%s.err",
                 the_bus.dir, prefix ? prefix : "", TEST_BUILDDIR, the_bus.address, args, tag,
                 tag);
        snprintf(errpath, sizeof(errpath), "%s/%s.err", the_bus.dir, tag);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        /* up to 20 s: valgrind is slow to start */
        for (int i = 0; i < 2000; i++) {
                slurp(errpath, ctl_err, sizeof(ctl_err));
                if (svc_known() > known && strstr(ctl_err, "mlskeyctl: monitoring"))
                        return pid;
                assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
                usleep(10000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("mlskeyctl %s did not start monitoring: %s", args, ctl_err);
        return -1;
}

/* Waits (up to 20 s) for a start_ctl() process; its outputs go to ctl_out
 * and ctl_err; returns its exit status. */
static int
finish_ctl(pid_t pid, const char *tag)
{
        char p[128];
        int st = 0;
        pid_t w = 0;

        for (int i = 0; i < 2000 && (w = waitpid(pid, &st, WNOHANG)) == 0; i++)
                usleep(10000);
        if (w == 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        snprintf(p, sizeof(p), "%s/%s.out", the_bus.dir, tag);
        slurp(p, ctl_out, sizeof(ctl_out));
        snprintf(p, sizeof(p), "%s/%s.err", the_bus.dir, tag);
        slurp(p, ctl_err, sizeof(ctl_err));
        fprintf(stderr, "# mlskeyctl monitor (%s) -> %d: %s", tag,
                WIFEXITED(st) ? WEXITSTATUS(st) : -1, ctl_err);
        assert_int_equal(w, pid); /* it ended by itself */
        assert_true(WIFEXITED(st));
        assert_null(strstr(ctl_err, "Sanitizer"));
        assert_null(strstr(ctl_err, "runtime error"));
        return WEXITSTATUS(st);
}

/* The whole file name (under the bus directory) holds exactly data. */
static void
file_is(const char *name, const uint8_t *data, size_t len)
{
        char path[256];
        uint8_t *buf = malloc(len + 1);
        FILE *f;
        size_t n;

        assert_non_null(buf);
        snprintf(path, sizeof(path), "%s/%s", the_bus.dir, name);
        f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(buf, 1, len + 1, f);
        fclose(f);
        assert_int_equal(n, len);
        if (len)
                assert_memory_equal(buf, data, len);
        free(buf);
}

static bool
file_exists(const char *name)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", the_bus.dir, name);
        return access(path, F_OK) == 0;
}

static void
test_ctl_monitor_self_update(void **state)
{
        struct mlskey_client *c = connect_client();
        struct mlskey_buf b = MLSKEY_BUF_INIT;
        uint8_t *commit = make_commit(1000, 9);
        char dir[128], line[256];
        uint64_t epoch = 0;
        pid_t pid;

        (void)state;
        /* usage: the directory must exist (checked before subscribing) */
        assert_int_equal(run_ctl("monitor --commit-dir no-such-dir"), 2);
        assert_non_null(strstr(ctl_err, "not a writable directory"));
        write_file("plain-file", "x", 1);
        assert_int_equal(run_ctl("monitor --commit-dir plain-file"), 2);
        assert_int_equal(run_ctl("monitor --help"), 0);
        assert_non_null(strstr(ctl_out, "--commit-dir DIR"));
        assert_non_null(strstr(ctl_out, "PATH self-update epoch=N commit=LEN"));

        snprintf(dir, sizeof(dir), "%s/commits", the_bus.dir);
        assert_int_equal(mkdir(dir, 0700), 0);
        pid = start_ctl("monitor 0a0b --count 3 --commit-dir commits", "mon");
        /* another group: not monitored, no line, no file */
        svc_self_update(GROUP_OTHER, commit, 1000, 9, SU_UNICAST);
        /* a self-update, an EpochChanged (broadcast by Update), a
         * self-update with an empty commit */
        svc_self_update(GROUP_OK, commit, 1000, 9, SU_UNICAST);
        assert_int_equal(mlskey_group_update(c, GROUP_OK, NULL, &b), 0);
        mlskey_buf_clear(&b);
        assert_int_equal(mlskey_group_get_epoch(c, GROUP_OK, &epoch), 0);
        svc_self_update(GROUP_OK, (const uint8_t *)"", 0, 10, SU_UNICAST);
        assert_int_equal(finish_ctl(pid, "mon"), 0);
        /* one line each, in arrival order; the EpochChanged line as before */
        snprintf(line, sizeof(line),
                 GROUP_OK " self-update epoch=9 commit=1000\n" GROUP_OK
                          " epoch=%llu authenticator=ea0000%02x\n" GROUP_OK
                          " self-update epoch=10 commit=0\n",
                 (unsigned long long)epoch, (unsigned)(uint8_t)epoch);
        assert_string_equal(ctl_out, line);
        /* DIR/<hex id>-<epoch>.commit, complete, and nothing else (no
         * temporary file left, nothing for the other group) */
        file_is("commits/0a0b-9.commit", commit, 1000);
        file_is("commits/0a0b-10.commit", (const uint8_t *)"", 0);
        assert_false(file_exists("commits/0e1e-9.commit"));
        assert_false(file_exists("commits/.0a0b-9.commit.tmp"));
        assert_false(file_exists("commits/.0a0b-10.commit.tmp"));

        /* without --commit-dir: the line only */
        pid = start_ctl("monitor --count 1", "mon2");
        svc_self_update(GROUP_OTHER, commit, 7, 3, SU_UNICAST);
        assert_int_equal(finish_ctl(pid, "mon2"), 0);
        assert_string_equal(ctl_out, GROUP_OTHER " self-update epoch=3 commit=7\n");

        /* the directory went away: no line (a script would look for the
         * file), the error on stderr, exit status 1 */
        snprintf(dir, sizeof(dir), "%s/gone", the_bus.dir);
        assert_int_equal(mkdir(dir, 0700), 0);
        pid = start_ctl("monitor --commit-dir gone", "mon3");
        assert_int_equal(rmdir(dir), 0);
        svc_self_update(GROUP_OK, (const uint8_t *)"X", 1, 12, SU_UNICAST);
        assert_int_equal(finish_ctl(pid, "mon3"), 1);
        assert_string_equal(ctl_out, "");
        assert_non_null(strstr(ctl_err, "gone/0a0b-12.commit"));

        free(commit);
        mlskey_client_free(c);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bus_manager),
                cmocka_unit_test(test_bus_identity),
                cmocka_unit_test(test_bus_group_messages),
                cmocka_unit_test(test_bus_group_commits),
                cmocka_unit_test(test_bus_group_propose_every_type),
                cmocka_unit_test(test_bus_group_properties),
                cmocka_unit_test(test_bus_export_secret),
                cmocka_unit_test(test_bus_timeout),
                cmocka_unit_test(test_bus_no_daemon_and_no_bus),
                cmocka_unit_test(test_bus_epoch_changed_dispatch),
                cmocka_unit_test(test_bus_epoch_changed_wait),
                cmocka_unit_test(test_bus_daemon_restart_reintroduces),
                cmocka_unit_test(test_bus_self_update_dispatch),
                cmocka_unit_test(test_bus_self_update_wait_rejects_forged_and_malformed),
                cmocka_unit_test(test_bus_self_update_callback_merges),
                cmocka_unit_test(test_bus_threads_share_a_client),
                cmocka_unit_test(test_ctl_exit_codes_and_output),
                cmocka_unit_test(test_ctl_operations),
                cmocka_unit_test(test_ctl_monitor_self_update),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
