/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests of mlskeyd against real buses (tests/integration/
 * daemon.sh starts two private dbus-daemons and runs one test per call):
 *
 *   mkd-itest converse     two daemons form a group and talk
 *   mkd-itest introspect   introspection, properties, argument checks
 *   mkd-itest acl UID GID  another uid sees nothing, then a shared identity
 *   mkd-itest acl-peer PATH   (run as that uid by `acl`)
 *   mkd-itest crash        kill -9 of the broker between and during calls
 *   mkd-itest engine-kill  kill of the engine mid-request; sandbox status
 *   mkd-itest tamper       truncated and tampered state files
 *   mkd-itest extras       external join, proposals, PSKs, Leave, Delete
 *   mkd-itest forbidden-syscall   (--enable-test-ops) the engine makes a
 *                          forbidden system call: SIGSYS, restarted
 *   mkd-itest secret-scan  (--enable-test-ops) no secret on the buses
 *   mkd-itest self-update  (--enable-test-ops) the [update] timer: signal,
 *                          delivery, merge, clear, restart
 *
 * Environment: MKD_BIN (the daemon), MKD_BUS_A, MKD_BUS_B (bus
 * addresses), MKD_TMP (a scratch folder). Each test starts and stops its
 * daemons itself (state in MKD_TMP/<test>-a, -b; logs beside them).
 * Exit: 0 pass, 1 fail, 77 skip.
 */
#include "config.h"

#include <dbus/dbus.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NAME "org.mlskeyd.Daemon1"
#define ROOT "/org/mlskeyd/Daemon1"
#define MGR "org.mlskeyd.Daemon1.Manager"
#define IDN "org.mlskeyd.Daemon1.Identity"
#define GRP "org.mlskeyd.Daemon1.Group"
#define PROPS "org.freedesktop.DBus.Properties"

static const char *test_name = "?";

/* Brokers started by this test, killed if it fails half-way. */
static pid_t started[8];

static void
kill_started(void)
{
        for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++)
                if (started[i] > 0) {
                        kill(started[i], SIGKILL);
                        waitpid(started[i], NULL, 0);
                        started[i] = 0;
                }
}

static void
track(pid_t old, pid_t new)
{
        for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++)
                if (started[i] == old) {
                        started[i] = new;
                        return;
                }
}

#define FAIL(...)                                                                   \
        do {                                                                        \
                fprintf(stderr, "FAIL %s %s:%d: ", test_name, __FILE__, __LINE__);  \
                fprintf(stderr, __VA_ARGS__);                                       \
                fputc('\n', stderr);                                                \
                exit(1);                                                            \
        } while (0)
#define CHECK(c)                                                                    \
        do {                                                                        \
                if (!(c))                                                           \
                        FAIL("check failed: %s", #c);                               \
        } while (0)

struct buf {
        uint8_t *p;
        size_t n;
};

static struct buf
buf_of(const void *p, size_t n)
{
        struct buf b = { malloc(n ? n : 1), n };

        CHECK(b.p);
        if (n)
                memcpy(b.p, p, n);
        return b;
}

static struct buf
str_buf(const char *s)
{
        return buf_of(s, strlen(s));
}

static bool
buf_eq(struct buf a, struct buf b)
{
        return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* ---- daemons ---- */

struct daemon {
        const char *addr;
        char state[512];
        char log[512];
        char conf[512];
        char update_ms[32]; /* MKD_TEST_UPDATE_INTERVAL_MS, "" = unset */
        pid_t pid;
        DBusConnection *conn;
};

static DBusConnection *
bus_open(const char *addr)
{
        DBusError e;
        DBusConnection *c;

        dbus_error_init(&e);
        c = dbus_connection_open_private(addr, &e);
        if (!c || !dbus_bus_register(c, &e))
                FAIL("bus %s: %s", addr, e.message);
        dbus_connection_set_exit_on_disconnect(c, FALSE);
        return c;
}

static bool
name_owned(DBusConnection *c)
{
        DBusError e;
        bool r;

        dbus_error_init(&e);
        r = dbus_bus_name_has_owner(c, NAME, &e);
        dbus_error_free(&e);
        return r;
}

static void
sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

        nanosleep(&ts, NULL);
}

static void
daemon_init(struct daemon *d, const char *addr, const char *tag)
{
        const char *tmp = getenv("MKD_TMP");
        FILE *f;

        memset(d, 0, sizeof(*d));
        d->addr = addr;
        snprintf(d->state, sizeof(d->state), "%s/%s-%s", tmp, test_name, tag);
        snprintf(d->log, sizeof(d->log), "%s/%s-%s.log", tmp, test_name, tag);
        snprintf(d->conf, sizeof(d->conf), "%s/%s-%s.conf", tmp, test_name, tag);
        f = fopen(d->conf, "w");
        CHECK(f);
        fputs("[retention]\nmax_past_epochs = 2\n", f);
        fclose(f);
        d->conn = bus_open(addr);
}

/* More policy lines, before the daemon starts. */
static void
daemon_conf_append(struct daemon *d, const char *text)
{
        FILE *f = fopen(d->conf, "a");

        CHECK(f);
        fputs(text, f);
        fclose(f);
}

static void
daemon_start(struct daemon *d)
{
        const char *bin = getenv("MKD_BIN");
        pid_t pid;

        for (int i = 0; i < 100 && name_owned(d->conn); i++)
                sleep_ms(50);
        CHECK(!name_owned(d->conn));
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

                if (fd >= 0) {
                        dup2(fd, 2);
                        dup2(fd, 1);
                }
                if (d->update_ms[0])
                        setenv("MKD_TEST_UPDATE_INTERVAL_MS", d->update_ms, 1);
                else
                        unsetenv("MKD_TEST_UPDATE_INTERVAL_MS");
                execl(bin, "mlskeyd", "--session", "--foreground", "--bus-address", d->addr,
                      "--state-dir", d->state, "--config", d->conf, "--log-level", "7", (char *)NULL);
                _exit(127);
        }
        d->pid = pid;
        track(0, pid);
        for (int i = 0; i < 200; i++) {
                int st;

                if (name_owned(d->conn))
                        return;
                if (waitpid(pid, &st, WNOHANG) == pid)
                        FAIL("the daemon exited at start (see %s)", d->log);
                sleep_ms(25);
        }
        FAIL("the daemon did not take its name (see %s)", d->log);
}

/* The broker's child whose command line has `mode` (--engine, --vault). */
static pid_t
child_of(pid_t broker, const char *mode)
{
        DIR *dir = opendir("/proc");
        struct dirent *de;
        pid_t found = 0;

        CHECK(dir);
        while ((de = readdir(dir))) {
                char path[300], line[512], cmd[512];
                FILE *f;
                int ppid = -1;
                size_t n;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
                f = fopen(path, "r");
                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f))
                        if (sscanf(line, "PPid: %d", &ppid) == 1)
                                break;
                fclose(f);
                if (ppid != broker)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                f = fopen(path, "r");
                if (!f)
                        continue;
                n = fread(cmd, 1, sizeof(cmd) - 1, f);
                fclose(f);
                for (size_t i = 0; i < n; i++)
                        if (cmd[i] == '\0')
                                cmd[i] = ' ';
                cmd[n] = '\0';
                if (strstr(cmd, mode))
                        found = atoi(de->d_name);
        }
        closedir(dir);
        return found;
}

static pid_t
wait_child(pid_t broker, const char *mode)
{
        for (int i = 0; i < 200; i++) {
                pid_t p = child_of(broker, mode);

                if (p > 0)
                        return p;
                sleep_ms(25);
        }
        FAIL("no %s child", mode);
}

static void
daemon_kill(struct daemon *d)
{
        pid_t e = child_of(d->pid, "--engine"), v = child_of(d->pid, "--vault");

        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        track(d->pid, 0);
        d->pid = 0;
        /* The children die with the broker (PR_SET_PDEATHSIG). */
        for (int i = 0; i < 200 && ((e > 0 && kill(e, 0) == 0) || (v > 0 && kill(v, 0) == 0)); i++)
                sleep_ms(10);
        CHECK(!(e > 0 && kill(e, 0) == 0) && !(v > 0 && kill(v, 0) == 0));
}

static void
daemon_stop(struct daemon *d)
{
        int st;

        if (!d->pid)
                return;
        kill(d->pid, SIGTERM);
        CHECK(waitpid(d->pid, &st, 0) == d->pid);
        track(d->pid, 0);
        d->pid = 0;
        /* A clean stop: the broker exits 0. */
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                FAIL("the daemon stopped with status 0x%x (see %s)", st, d->log);
}

static bool
log_has(const struct daemon *d, const char *needle)
{
        FILE *f = fopen(d->log, "r");
        char line[2048];
        bool found = false;

        if (!f)
                return false;
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, needle) != NULL;
        fclose(f);
        return found;
}

/* ---- calls ---- */

typedef void (*fill_fn)(DBusMessageIter *it, void *ud);

static DBusMessage *
call_msg(const char *path, const char *iface, const char *method)
{
        DBusMessage *m = dbus_message_new_method_call(NAME, path, iface, method);

        CHECK(m);
        return m;
}

/* Sends m; returns the reply or NULL with *err set. */
static DBusMessage *
send_wait(DBusConnection *c, DBusMessage *m, DBusError *err)
{
        DBusMessage *r;

        dbus_error_init(err);
        r = dbus_connection_send_with_reply_and_block(c, m, 60000, err);
        dbus_message_unref(m);
        return r;
}

static DBusMessage *
send_ok(DBusConnection *c, DBusMessage *m)
{
        DBusError e;
        const char *member = dbus_message_get_member(m);
        char what[64];
        DBusMessage *r;

        snprintf(what, sizeof(what), "%s", member ? member : "?");
        r = send_wait(c, m, &e);
        if (!r)
                FAIL("%s: %s: %s", what, e.name, e.message);
        return r;
}

static void
append_ay(DBusMessageIter *it, struct buf b)
{
        DBusMessageIter a;
        const uint8_t *p = b.p ? b.p : (const uint8_t *)"";

        CHECK(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "y", &a));
        CHECK(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &p, (int)b.n));
        CHECK(dbus_message_iter_close_container(it, &a));
}

static void
append_empty_dict(DBusMessageIter *it)
{
        DBusMessageIter d;

        CHECK(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{sv}", &d));
        CHECK(dbus_message_iter_close_container(it, &d));
}

/* One option: key and a basic value of type t. */
static void
append_dict1(DBusMessageIter *it, const char *key, int t, const void *v)
{
        DBusMessageIter d, e, var;
        char sig[2] = { (char)t, 0 };

        CHECK(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{sv}", &d));
        CHECK(dbus_message_iter_open_container(&d, DBUS_TYPE_DICT_ENTRY, NULL, &e));
        CHECK(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
        CHECK(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, sig, &var));
        CHECK(dbus_message_iter_append_basic(&var, t, v));
        CHECK(dbus_message_iter_close_container(&e, &var));
        CHECK(dbus_message_iter_close_container(&d, &e));
        CHECK(dbus_message_iter_close_container(it, &d));
}

static struct buf
read_ay(DBusMessageIter *it)
{
        DBusMessageIter a;
        const uint8_t *p = NULL;
        int n = 0;

        CHECK(dbus_message_iter_get_arg_type(it) == DBUS_TYPE_ARRAY);
        dbus_message_iter_recurse(it, &a);
        dbus_message_iter_get_fixed_array(&a, &p, &n);
        dbus_message_iter_next(it);
        return buf_of(p, (size_t)n);
}

static char *
read_path(DBusMessageIter *it)
{
        const char *p;

        CHECK(dbus_message_iter_get_arg_type(it) == DBUS_TYPE_OBJECT_PATH);
        dbus_message_iter_get_basic(it, &p);
        dbus_message_iter_next(it);
        return strdup(p);
}

static char *
create_identity(struct daemon *d, const char *name, uint16_t suite)
{
        DBusMessage *m = call_msg(ROOT, MGR, "CreateIdentity"), *r;
        DBusMessageIter it;
        char *path;

        dbus_message_iter_init_append(m, &it);
        append_ay(&it, str_buf(name));
        CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT16, &suite));
        append_empty_dict(&it);
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        path = read_path(&it);
        dbus_message_unref(r);
        return path;
}

static struct buf
key_package(struct daemon *d, const char *idn)
{
        DBusMessage *m = call_msg(idn, IDN, "GenerateKeyPackages"), *r;
        DBusMessageIter it, a;
        uint32_t one = 1;
        struct buf kp;

        dbus_message_iter_init_append(m, &it);
        CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &one));
        append_empty_dict(&it);
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        dbus_message_iter_recurse(&it, &a);
        kp = read_ay(&a);
        dbus_message_unref(r);
        CHECK(kp.n > 0);
        return kp;
}

static char *
create_group(struct daemon *d, const char *idn, const char *gid)
{
        DBusMessage *m = call_msg(idn, IDN, "CreateGroup"), *r;
        DBusMessageIter it;
        char *path;

        dbus_message_iter_init_append(m, &it);
        append_ay(&it, str_buf(gid));
        append_empty_dict(&it);
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        path = read_path(&it);
        dbus_message_unref(r);
        return path;
}

static void
add(struct daemon *d, const char *grp, struct buf kp, struct buf *commit, struct buf *welcome)
{
        DBusMessage *m = call_msg(grp, GRP, "Add"), *r;
        DBusMessageIter it, a;

        dbus_message_iter_init_append(m, &it);
        CHECK(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "ay", &a));
        append_ay(&a, kp);
        CHECK(dbus_message_iter_close_container(&it, &a));
        append_empty_dict(&it);
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        *commit = read_ay(&it);
        *welcome = read_ay(&it);
        dbus_message_unref(r);
}

static void
simple(struct daemon *d, const char *path, const char *iface, const char *method)
{
        dbus_message_unref(send_ok(d->conn, call_msg(path, iface, method)));
}

static char *
join(struct daemon *d, const char *idn, struct buf welcome)
{
        DBusMessage *m = call_msg(idn, IDN, "JoinGroup"), *r;
        DBusMessageIter it;
        char *path;

        dbus_message_iter_init_append(m, &it);
        append_ay(&it, welcome);
        append_ay(&it, (struct buf){ NULL, 0 });
        append_empty_dict(&it);
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        path = read_path(&it);
        dbus_message_unref(r);
        return path;
}

static DBusMessage *
encrypt_msg(const char *grp, const char *text)
{
        DBusMessage *m = call_msg(grp, GRP, "Encrypt");
        DBusMessageIter it;

        dbus_message_iter_init_append(m, &it);
        append_ay(&it, str_buf(text));
        append_ay(&it, (struct buf){ NULL, 0 });
        return m;
}

static struct buf
encrypt(struct daemon *d, const char *grp, const char *text)
{
        DBusMessage *r = send_ok(d->conn, encrypt_msg(grp, text));
        DBusMessageIter it;
        struct buf out;

        dbus_message_iter_init(r, &it);
        out = read_ay(&it);
        dbus_message_unref(r);
        return out;
}

struct processed {
        char kind[16];
        struct buf content;
        bool removed;
        uint64_t epoch;
};

static struct processed
process(struct daemon *d, const char *grp, struct buf msg)
{
        DBusMessage *m = call_msg(grp, GRP, "Process"), *r;
        DBusMessageIter it, dict;
        struct processed p = { 0 };
        const char *kind;

        dbus_message_iter_init_append(m, &it);
        append_ay(&it, msg);
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        dbus_message_iter_get_basic(&it, &kind);
        snprintf(p.kind, sizeof(p.kind), "%s", kind);
        dbus_message_iter_next(&it);
        p.content = read_ay(&it);
        dbus_message_iter_recurse(&it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter e, v;
                const char *key;

                dbus_message_iter_recurse(&dict, &e);
                dbus_message_iter_get_basic(&e, &key);
                dbus_message_iter_next(&e);
                dbus_message_iter_recurse(&e, &v);
                if (strcmp(key, "removed") == 0) {
                        dbus_bool_t b;

                        dbus_message_iter_get_basic(&v, &b);
                        p.removed = b;
                } else if (strcmp(key, "epoch") == 0) {
                        dbus_message_iter_get_basic(&v, &p.epoch);
                }
                dbus_message_iter_next(&dict);
        }
        dbus_message_unref(r);
        return p;
}

static void
expect_text(struct daemon *d, const char *grp, struct buf msg, const char *text)
{
        struct processed p = process(d, grp, msg);

        CHECK(strcmp(p.kind, "application") == 0);
        if (!buf_eq(p.content, str_buf(text)))
                FAIL("decrypted \"%.*s\", expected \"%s\"", (int)p.content.n, p.content.p, text);
}

static struct buf
commit_only(struct daemon *d, const char *grp, const char *method, uint32_t leaf)
{
        DBusMessage *m = call_msg(grp, GRP, method), *r;
        DBusMessageIter it, a;
        struct buf out;

        dbus_message_iter_init_append(m, &it);
        if (strcmp(method, "Remove") == 0) {
                CHECK(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "u", &a));
                CHECK(dbus_message_iter_append_basic(&a, DBUS_TYPE_UINT32, &leaf));
                CHECK(dbus_message_iter_close_container(&it, &a));
        }
        append_empty_dict(&it);
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        out = read_ay(&it);
        dbus_message_unref(r);
        return out;
}

static DBusMessage *
get_prop(struct daemon *d, const char *path, const char *iface, const char *name, DBusError *err)
{
        DBusMessage *m = call_msg(path, PROPS, "Get");

        CHECK(dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &name,
                                       DBUS_TYPE_INVALID));
        return send_wait(d->conn, m, err);
}

static struct buf
prop_ay(struct daemon *d, const char *path, const char *iface, const char *name)
{
        DBusError e;
        DBusMessage *r = get_prop(d, path, iface, name, &e);
        DBusMessageIter it, v;
        struct buf out;

        if (!r)
                FAIL("Get %s: %s", name, e.message);
        dbus_message_iter_init(r, &it);
        dbus_message_iter_recurse(&it, &v);
        out = read_ay(&v);
        dbus_message_unref(r);
        return out;
}

static uint64_t
prop_u64(struct daemon *d, const char *path, const char *name)
{
        DBusError e;
        DBusMessage *r = get_prop(d, path, GRP, name, &e);
        DBusMessageIter it, v;
        uint64_t x;

        if (!r)
                FAIL("Get %s: %s", name, e.message);
        dbus_message_iter_init(r, &it);
        dbus_message_iter_recurse(&it, &v);
        CHECK(dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_UINT64);
        dbus_message_iter_get_basic(&v, &x);
        dbus_message_unref(r);
        return x;
}

/* Both members agree on the epoch and its authenticator. */
static void
same_epoch(struct daemon *a, const char *ga, struct daemon *b, const char *gb)
{
        struct buf x = prop_ay(a, ga, GRP, "EpochAuthenticator");
        struct buf y = prop_ay(b, gb, GRP, "EpochAuthenticator");

        CHECK(prop_u64(a, ga, "Epoch") == prop_u64(b, gb, "Epoch"));
        CHECK(x.n > 0 && buf_eq(x, y));
}

static void
expect_error(DBusMessage *r, const DBusError *e, const char *name)
{
        if (r)
                FAIL("expected %s, the call succeeded", name);
        if (strcmp(e->name, name) != 0)
                FAIL("expected %s, got %s: %s", name, e->name, e->message);
}

/* Waits for the EpochChanged signal of path for epoch `want` (unicast to
 * this caller). Other queued messages are dropped. */
static bool
wait_epoch_changed(struct daemon *d, const char *path, uint64_t want)
{
        for (int i = 0; i < 100; i++) {
                DBusMessage *m;

                dbus_connection_read_write(d->conn, 20);
                while ((m = dbus_connection_pop_message(d->conn))) {
                        uint64_t epoch;
                        bool hit = dbus_message_is_signal(m, GRP, "EpochChanged") &&
                                   strcmp(dbus_message_get_path(m), path) == 0 &&
                                   dbus_message_get_args(m, NULL, DBUS_TYPE_UINT64, &epoch,
                                                         DBUS_TYPE_INVALID);

                        dbus_message_unref(m);
                        if (hit && epoch == want)
                                return true;
                }
        }
        FAIL("no EpochChanged signal for %s, epoch %llu", path, (unsigned long long)want);
}

/* ---- the conversation both daemons share ---- */

struct pair {
        struct daemon a, b;
        char *ia, *ib, *ga, *gb;
};

/* conf_a: more policy lines for A; update_ms: the test ops' self-update
 * interval for both daemons (it shortens only an enabled [update]). */
static void
pair_setup_with(struct pair *p, const char *conf_a, const char *conf_b, const char *update_ms)
{
        struct buf kp, commit, welcome;

        daemon_init(&p->a, getenv("MKD_BUS_A"), "a");
        daemon_init(&p->b, getenv("MKD_BUS_B"), "b");
        if (conf_a)
                daemon_conf_append(&p->a, conf_a);
        if (conf_b)
                daemon_conf_append(&p->b, conf_b);
        if (update_ms) {
                snprintf(p->a.update_ms, sizeof(p->a.update_ms), "%s", update_ms);
                snprintf(p->b.update_ms, sizeof(p->b.update_ms), "%s", update_ms);
        }
        daemon_start(&p->a);
        daemon_start(&p->b);
        p->ia = create_identity(&p->a, "alice", 1);
        p->ib = create_identity(&p->b, "bob", 1);
        kp = key_package(&p->b, p->ib);
        p->ga = create_group(&p->a, p->ia, "group-1");
        add(&p->a, p->ga, kp, &commit, &welcome);
        CHECK(commit.n > 0 && welcome.n > 0);
        simple(&p->a, p->ga, GRP, "MergePendingCommit");
        p->gb = join(&p->b, p->ib, welcome);
        same_epoch(&p->a, p->ga, &p->b, p->gb);
}

static void
pair_setup(struct pair *p)
{
        pair_setup_with(p, NULL, NULL, NULL);
}

static void
pair_talk(struct pair *p, const char *tag)
{
        char t1[64], t2[64];

        snprintf(t1, sizeof(t1), "a->b %s", tag);
        snprintf(t2, sizeof(t2), "b->a %s", tag);
        expect_text(&p->b, p->gb, encrypt(&p->a, p->ga, t1), t1);
        expect_text(&p->a, p->ga, encrypt(&p->b, p->gb, t2), t2);
}

/* ---- tests ---- */

static struct buf
export_secret(struct daemon *d, const char *grp)
{
        DBusMessage *m = call_msg(grp, GRP, "ExportSecret"), *r;
        DBusMessageIter it;
        const char *label = "itest";
        uint32_t len = 32;
        struct buf out;

        dbus_message_iter_init_append(m, &it);
        CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &label));
        append_ay(&it, str_buf("context"));
        CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &len));
        r = send_ok(d->conn, m);
        dbus_message_iter_init(r, &it);
        out = read_ay(&it);
        dbus_message_unref(r);
        return out;
}

static int
t_converse(void)
{
        struct pair p;
        struct buf c;
        struct processed r;
        DBusError e;
        DBusMessage *m;

        pair_setup(&p);
        pair_talk(&p, "hello");
        /* B updates its leaf; A processes the commit. */
        c = commit_only(&p.b, p.gb, "Update", 0);
        r = process(&p.a, p.ga, c);
        CHECK(strcmp(r.kind, "commit") == 0);
        CHECK(wait_epoch_changed(&p.a, p.ga, 2));
        simple(&p.b, p.gb, GRP, "MergePendingCommit");
        CHECK(wait_epoch_changed(&p.b, p.gb, 2));
        same_epoch(&p.a, p.ga, &p.b, p.gb);
        pair_talk(&p, "after update");
        /* A commits an update too. */
        c = commit_only(&p.a, p.ga, "Update", 0);
        CHECK(strcmp(process(&p.b, p.gb, c).kind, "commit") == 0);
        simple(&p.a, p.ga, GRP, "MergePendingCommit");
        same_epoch(&p.a, p.ga, &p.b, p.gb);
        pair_talk(&p, "after second update");
        /* The exporter (owner only by default) agrees on both sides. */
        {
                struct buf x = export_secret(&p.a, p.ga), y = export_secret(&p.b, p.gb);

                CHECK(x.n == 32 && buf_eq(x, y));
        }
        /* Members: both leaves. */
        m = call_msg(p.ga, PROPS, "GetAll");
        {
                const char *iface = GRP;

                CHECK(dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID));
        }
        dbus_message_unref(send_ok(p.a.conn, m));
        /* A removes B. */
        c = commit_only(&p.a, p.ga, "Remove", 1);
        r = process(&p.b, p.gb, c);
        CHECK(strcmp(r.kind, "commit") == 0 && r.removed);
        simple(&p.a, p.ga, GRP, "MergePendingCommit");
        /* B, removed, cannot send. */
        m = encrypt_msg(p.gb, "ghost");
        CHECK(send_wait(p.b.conn, m, &e) == NULL);
        dbus_error_free(&e);
        daemon_stop(&p.a);
        daemon_stop(&p.b);
        return 0;
}

static int
t_introspect(void)
{
        struct daemon d;
        char *idn, *grp;
        DBusMessage *m, *r;
        DBusError e;
        const char *xml;
        dbus_bool_t yes = TRUE;
        uint32_t u = 5;

        daemon_init(&d, getenv("MKD_BUS_A"), "a");
        daemon_start(&d);
        idn = create_identity(&d, "carol", 3);
        grp = create_group(&d, idn, "g");
        /* Manager: its interface, child nodes. */
        r = send_ok(d.conn, call_msg(ROOT, "org.freedesktop.DBus.Introspectable", "Introspect"));
        CHECK(dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
        CHECK(strstr(xml, "<interface name=\"" MGR "\">") && strstr(xml, "CreateIdentity"));
        CHECK(strstr(xml, "<node name=\"identity\"/>") && !strstr(xml, GRP "\">"));
        dbus_message_unref(r);
        r = send_ok(d.conn, call_msg(grp, "org.freedesktop.DBus.Introspectable", "Introspect"));
        CHECK(dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
        CHECK(strstr(xml, "<interface name=\"" GRP "\">") && strstr(xml, "EpochChanged") &&
              strstr(xml, "org.freedesktop.DBus.Properties"));
        dbus_message_unref(r);
        r = send_ok(d.conn, call_msg(ROOT "/identity", "org.freedesktop.DBus.Introspectable",
                                     "Introspect"));
        CHECK(dbus_message_get_args(r, NULL, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
        CHECK(strstr(xml, strrchr(idn, '/') + 1));
        dbus_message_unref(r);
        /* Properties. */
        CHECK(buf_eq(prop_ay(&d, idn, IDN, "CredentialIdentity"), str_buf("carol")));
        CHECK(prop_ay(&d, idn, IDN, "SignaturePublicKey").n == 32);
        CHECK(buf_eq(prop_ay(&d, grp, GRP, "GroupId"), str_buf("g")));
        CHECK(prop_u64(&d, grp, "Epoch") == 0);
        r = get_prop(&d, ROOT, MGR, "Version", &e);
        CHECK(r);
        dbus_message_unref(r);
        m = call_msg(idn, PROPS, "GetAll");
        {
                const char *iface = IDN;

                CHECK(dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID));
        }
        dbus_message_unref(send_ok(d.conn, m));
        /* Set is refused. */
        m = call_msg(idn, PROPS, "Set");
        {
                const char *iface = IDN, *name = "Owner";
                DBusMessageIter it, v;

                dbus_message_iter_init_append(m, &it);
                dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface);
                dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &name);
                dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "u", &v);
                dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &u);
                dbus_message_iter_close_container(&it, &v);
        }
        r = send_wait(d.conn, m, &e);
        expect_error(r, &e, DBUS_ERROR_PROPERTY_READ_ONLY);
        dbus_error_free(&e);
        /* An unknown option key is refused, naming the key. */
        m = call_msg(idn, IDN, "CreateGroup");
        {
                DBusMessageIter it;

                dbus_message_iter_init_append(m, &it);
                append_ay(&it, str_buf("g2"));
                append_dict1(&it, "no_such_option", DBUS_TYPE_BOOLEAN, &yes);
        }
        r = send_wait(d.conn, m, &e);
        expect_error(r, &e, "org.mlskeyd.Error.InvalidArgument");
        CHECK(strstr(e.message, "no_such_option"));
        dbus_error_free(&e);
        /* A known key of the wrong type too. */
        m = call_msg(idn, IDN, "CreateGroup");
        {
                DBusMessageIter it;

                dbus_message_iter_init_append(m, &it);
                append_ay(&it, str_buf("g2"));
                append_dict1(&it, "max_past_epochs", DBUS_TYPE_BOOLEAN, &yes);
        }
        r = send_wait(d.conn, m, &e);
        expect_error(r, &e, "org.mlskeyd.Error.InvalidArgument");
        CHECK(strstr(e.message, "max_past_epochs"));
        dbus_error_free(&e);
        /* A wrong signature. */
        m = call_msg(idn, IDN, "CreateGroup");
        CHECK(dbus_message_append_args(m, DBUS_TYPE_UINT32, &u, DBUS_TYPE_INVALID));
        r = send_wait(d.conn, m, &e);
        expect_error(r, &e, "org.mlskeyd.Error.InvalidArgument");
        dbus_error_free(&e);
        /* GetPolicy shows the configured retention. */
        r = send_ok(d.conn, call_msg(ROOT, MGR, "GetPolicy"));
        dbus_message_unref(r);
        daemon_stop(&d);
        return 0;
}

/* As another uid: the owner's identity is invisible (NotFound, with the
 * same message as a nonexistent one), then, once shared, usable but not
 * deletable. */
static int
t_acl_peer(const char *idn, const char *phase, const char *grp)
{
        struct daemon d = { .addr = getenv("MKD_BUS_A") };
        DBusMessage *r;
        DBusError e1, e2;
        char fake[128];

        d.conn = bus_open(d.addr);
        snprintf(fake, sizeof(fake), "%s/identity/%032x", ROOT, 0x1234);
        if (strcmp(phase, "hidden") == 0) {
                r = get_prop(&d, idn, IDN, "Owner", &e1);
                expect_error(r, &e1, "org.mlskeyd.Error.NotFound");
                r = get_prop(&d, fake, IDN, "Owner", &e2);
                expect_error(r, &e2, "org.mlskeyd.Error.NotFound");
                CHECK(strcmp(e1.message, e2.message) == 0);
                r = send_wait(d.conn, call_msg(idn, IDN, "Delete"), &e1);
                expect_error(r, &e1, "org.mlskeyd.Error.NotFound");
                if (grp) {
                        /* the owner's group: invisible too, also to Introspect */
                        r = send_wait(d.conn, encrypt_msg(grp, "x"), &e1);
                        expect_error(r, &e1, "org.mlskeyd.Error.NotFound");
                        CHECK(strcmp(e1.message, e2.message) == 0);
                        dbus_error_free(&e1);
                        r = send_wait(d.conn, call_msg(grp, "org.freedesktop.DBus.Introspectable",
                                                       "Introspect"), &e1);
                        expect_error(r, &e1, "org.mlskeyd.Error.NotFound");
                        r = send_ok(d.conn, call_msg(ROOT, MGR, "ListGroups"));
                        {
                                DBusMessageIter it, a;

                                dbus_message_iter_init(r, &it);
                                dbus_message_iter_recurse(&it, &a);
                                CHECK(dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_INVALID);
                        }
                        dbus_message_unref(r);
                }
                r = send_ok(d.conn, call_msg(ROOT, MGR, "ListIdentities"));
                {
                        DBusMessageIter it, a;

                        dbus_message_iter_init(r, &it);
                        dbus_message_iter_recurse(&it, &a);
                        CHECK(dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_INVALID);
                }
                dbus_message_unref(r);
        } else {
                r = get_prop(&d, idn, IDN, "Owner", &e1);
                CHECK(r);
                dbus_message_unref(r);
                /* usable: a group under the shared identity */
                if (strcmp(phase, "shared") == 0)
                        free(create_group(&d, idn, "shared-group"));
                r = send_wait(d.conn, call_msg(idn, IDN, "Delete"), &e1);
                expect_error(r, &e1, "org.mlskeyd.Error.AccessDenied");
                dbus_error_free(&e1);
                r = send_wait(d.conn, call_msg(idn, IDN, "SetAccess"), &e1);
                CHECK(r == NULL);
        }
        return 0;
}

static int
t_acl(const char *self, const char *uid, const char *gid)
{
        struct daemon d;
        char *idn, *grp;
        DBusMessage *m;
        uint32_t u = (uint32_t)strtoul(uid, NULL, 10);
        char cmd[1024];
        int st;

        daemon_init(&d, getenv("MKD_BUS_A"), "a");
        daemon_start(&d);
        idn = create_identity(&d, "dave", 1);
        grp = create_group(&d, idn, "dave's");
        snprintf(cmd, sizeof(cmd), "setpriv --reuid=%s --regid=%s --clear-groups %s acl-peer %s hidden %s",
                 uid, gid, self, idn, grp);
        st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* Share it with that uid. */
        m = call_msg(idn, IDN, "SetAccess");
        {
                DBusMessageIter it, dict, e, v, a;
                const char *key = "uids";

                dbus_message_iter_init_append(m, &it);
                dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
                dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
                dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key);
                dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "au", &v);
                dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "u", &a);
                dbus_message_iter_append_basic(&a, DBUS_TYPE_UINT32, &u);
                dbus_message_iter_close_container(&v, &a);
                dbus_message_iter_close_container(&e, &v);
                dbus_message_iter_close_container(&dict, &e);
                dbus_message_iter_close_container(&it, &dict);
        }
        dbus_message_unref(send_ok(d.conn, m));
        snprintf(cmd, sizeof(cmd), "setpriv --reuid=%s --regid=%s --clear-groups %s acl-peer %s shared",
                 uid, gid, self, idn);
        st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* The access survives a restart (it is sealed with the identity). */
        daemon_kill(&d);
        daemon_start(&d);
        snprintf(cmd, sizeof(cmd), "setpriv --reuid=%s --regid=%s --clear-groups %s acl-peer %s visible",
                 uid, gid, self, idn);
        st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        daemon_stop(&d);
        return 0;
}

static int
t_crash(void)
{
        struct pair p;
        DBusPendingCall *pend[16];
        pid_t engine;
        int acked = 0;

        /* alice's broker busy-polls ([performance] busy_poll): nothing of
         * what follows may depend on it */
        pair_setup_with(&p, "[performance]\nbusy_poll = 200\n", NULL, NULL);
        pair_talk(&p, "before");
        /* kill -9 between requests */
        daemon_kill(&p.a);
        daemon_start(&p.a);
        pair_talk(&p, "after a restart");
        same_epoch(&p.a, p.ga, &p.b, p.gb);
        /* kill -9 with requests in flight: the engine is stopped so that
         * they are surely unanswered */
        engine = wait_child(p.a.pid, "--engine");
        kill(engine, SIGSTOP);
        for (int i = 0; i < 4; i++)
                CHECK(dbus_connection_send_with_reply(p.a.conn, encrypt_msg(p.ga, "lost"), &pend[i],
                                                      60000));
        dbus_connection_flush(p.a.conn);
        sleep_ms(200);
        daemon_kill(&p.a);
        for (int i = 0; i < 4; i++) {
                DBusMessage *r;

                dbus_pending_call_block(pend[i]);
                r = dbus_pending_call_steal_reply(pend[i]);
                CHECK(r && dbus_message_get_type(r) == DBUS_MESSAGE_TYPE_ERROR);
                dbus_message_unref(r);
                dbus_pending_call_unref(pend[i]);
        }
        daemon_start(&p.a);
        pair_talk(&p, "after a kill in flight");
        /* mid-stream: a stream of 1000 Encrypts, pipelined 16 at a time,
         * the broker killed with the window of call 700 in flight (the
         * engine is stopped first, so those 16 are surely unanswered; 700
         * is in the middle of a reservation of sender generations: the
         * daemon writes the group once per 128 messages); every
         * acknowledged message decrypts at B, none is a replay of another
         * (a reused generation would be refused as GenerationConsumed or
         * TooOld, or fail to decrypt), and the stream goes on */
        {
                enum { STREAM = 1000, WINDOW = 16, KILL_AT = 700 };
                struct buf *msgs = calloc(STREAM, sizeof(*msgs));
                DBusPendingCall *win[WINDOW];
                int restarted = 0;

                CHECK(msgs != NULL);
                acked = 0;
                for (int base = 0; base < STREAM; base += WINDOW) {
                        int n = STREAM - base < WINDOW ? STREAM - base : WINDOW;
                        bool kill_window = base <= KILL_AT && KILL_AT < base + n;

                        if (kill_window)
                                CHECK(kill(wait_child(p.a.pid, "--engine"), SIGSTOP) == 0);
                        for (int i = 0; i < n; i++) {
                                DBusMessage *m = encrypt_msg(p.ga, "stream");

                                CHECK(dbus_connection_send_with_reply(p.a.conn, m, &win[i], 60000));
                                dbus_message_unref(m);
                        }
                        dbus_connection_flush(p.a.conn);
                        if (kill_window) {
                                sleep_ms(100);
                                daemon_kill(&p.a);
                        }
                        for (int i = 0; i < n; i++) {
                                DBusMessage *r;

                                dbus_pending_call_block(win[i]);
                                r = dbus_pending_call_steal_reply(win[i]);
                                dbus_pending_call_unref(win[i]);
                                if (r && dbus_message_get_type(r) == DBUS_MESSAGE_TYPE_METHOD_RETURN) {
                                        DBusMessageIter it;

                                        dbus_message_iter_init(r, &it);
                                        msgs[acked++] = read_ay(&it);
                                }
                                if (r)
                                        dbus_message_unref(r);
                        }
                        if (kill_window) {
                                daemon_start(&p.a);
                                restarted = 1;
                        }
                }
                CHECK(restarted);
                /* exactly the window in flight was lost */
                CHECK(acked == STREAM - WINDOW);
                for (int i = 0; i < acked; i++) {
                        expect_text(&p.b, p.gb, msgs[i], "stream");
                        free(msgs[i].p);
                }
                free(msgs);
        }
        pair_talk(&p, "after a kill mid-stream");
        /* mid-stream of Process: B is killed while it decrypts a burst;
         * afterwards each message not acknowledged either decrypts now or
         * was consumed durably (GenerationConsumed), never anything else */
        {
                struct buf msgs[12];
                bool done[12] = { false };
                int ok = 0;

                for (int i = 0; i < 12; i++)
                        msgs[i] = encrypt(&p.a, p.ga, "to be processed");
                for (int i = 0; i < 12; i++) {
                        DBusMessage *m = call_msg(p.gb, GRP, "Process");
                        DBusMessageIter it;

                        dbus_message_iter_init_append(m, &it);
                        append_ay(&it, msgs[i]);
                        CHECK(dbus_connection_send_with_reply(p.b.conn, m, &pend[i], 60000));
                        dbus_message_unref(m);
                }
                dbus_connection_flush(p.b.conn);
                for (int i = 0; i < 12; i++) {
                        DBusMessage *r;

                        if (i == 2)
                                daemon_kill(&p.b);
                        dbus_pending_call_block(pend[i]);
                        r = dbus_pending_call_steal_reply(pend[i]);
                        dbus_pending_call_unref(pend[i]);
                        done[i] = r && dbus_message_get_type(r) == DBUS_MESSAGE_TYPE_METHOD_RETURN;
                        if (r)
                                dbus_message_unref(r);
                }
                daemon_start(&p.b);
                for (int i = 0; i < 12; i++) {
                        DBusMessage *m, *r;
                        DBusMessageIter it;
                        DBusError e;

                        if (done[i]) {
                                ok++;
                                continue;
                        }
                        m = call_msg(p.gb, GRP, "Process");
                        dbus_message_iter_init_append(m, &it);
                        append_ay(&it, msgs[i]);
                        r = send_wait(p.b.conn, m, &e);
                        if (r) {
                                ok++;
                                dbus_message_unref(r);
                        } else {
                                CHECK(strcmp(e.name, "org.mlskeyd.Error.GenerationConsumed") == 0);
                                dbus_error_free(&e);
                        }
                }
                CHECK(ok >= 10);
        }
        pair_talk(&p, "after a kill mid-Process");
        /* a commit whose answer was durable survives a crash before merge */
        {
                struct buf c = commit_only(&p.b, p.gb, "Update", 0);

                daemon_kill(&p.b);
                daemon_start(&p.b);
                CHECK(strcmp(process(&p.a, p.ga, c).kind, "commit") == 0);
                simple(&p.b, p.gb, GRP, "MergePendingCommit");
                same_epoch(&p.a, p.ga, &p.b, p.gb);
                pair_talk(&p, "after a commit across a crash");
        }
        fprintf(stderr, "crash: %d of 1000 stream messages acknowledged (a window of 16 in "
                        "flight at the kill)\n", acked);
        daemon_stop(&p.a);
        daemon_stop(&p.b);
        return 0;
}

/* A call with one ay result after (possibly) one basic argument. */
static struct buf
call_ay(struct daemon *d, DBusMessage *m)
{
        DBusMessage *r = send_ok(d->conn, m);
        DBusMessageIter it;
        struct buf out;

        dbus_message_iter_init(r, &it);
        out = read_ay(&it);
        dbus_message_unref(r);
        return out;
}

static void
store_psk(struct daemon *d, const char *idn, const char *id, const char *value)
{
        DBusMessage *m = call_msg(idn, IDN, "StoreExternalPsk");
        DBusMessageIter it;

        dbus_message_iter_init_append(m, &it);
        append_ay(&it, str_buf(id));
        append_ay(&it, str_buf(value));
        dbus_message_unref(send_ok(d->conn, m));
}

/* External join, proposals and commits of cached proposals, PSKs in a
 * commit, Leave, GroupInfo and RatchetTree. */
static int
t_extras(void)
{
        struct daemon a, b;
        char *ia, *ib, *ga, *gb;
        struct buf gi, commit, prop, tree;
        DBusMessage *m, *r;
        DBusMessageIter it, dict, e, v, arr;
        dbus_bool_t yes = TRUE;

        daemon_init(&a, getenv("MKD_BUS_A"), "a");
        daemon_init(&b, getenv("MKD_BUS_B"), "b");
        daemon_start(&a);
        daemon_start(&b);
        ia = create_identity(&a, "grace", 1);
        ib = create_identity(&b, "heidi", 1);
        ga = create_group(&a, ia, "extras");
        tree = call_ay(&a, call_msg(ga, GRP, "RatchetTree"));
        CHECK(tree.n > 0);
        /* GroupInfo with external_pub and the tree inline. */
        m = call_msg(ga, GRP, "GroupInfo");
        dbus_message_iter_init_append(m, &it);
        CHECK(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict));
        {
                const char *keys[] = { "external_pub", "inline_tree" };

                for (int i = 0; i < 2; i++) {
                        CHECK(dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
                        CHECK(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &keys[i]));
                        CHECK(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "b", &v));
                        CHECK(dbus_message_iter_append_basic(&v, DBUS_TYPE_BOOLEAN, &yes));
                        CHECK(dbus_message_iter_close_container(&e, &v));
                        CHECK(dbus_message_iter_close_container(&dict, &e));
                }
        }
        CHECK(dbus_message_iter_close_container(&it, &dict));
        gi = call_ay(&a, m);
        /* B joins by external commit; A processes the commit. */
        m = call_msg(ib, IDN, "JoinByExternalCommit");
        dbus_message_iter_init_append(m, &it);
        append_ay(&it, gi);
        append_ay(&it, (struct buf){ NULL, 0 });
        append_empty_dict(&it);
        r = send_ok(b.conn, m);
        dbus_message_iter_init(r, &it);
        gb = read_path(&it);
        commit = read_ay(&it);
        dbus_message_unref(r);
        CHECK(strcmp(process(&a, ga, commit).kind, "commit") == 0);
        same_epoch(&a, ga, &b, gb);
        expect_text(&b, gb, encrypt(&a, ga, "external hello"), "external hello");
        /* B proposes an update; A commits the cached proposal. */
        m = call_msg(gb, GRP, "Propose");
        {
                const char *type = "update";

                dbus_message_iter_init_append(m, &it);
                CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &type));
                append_empty_dict(&it);
        }
        prop = call_ay(&b, m);
        CHECK(strcmp(process(&a, ga, prop).kind, "proposal") == 0);
        m = call_msg(ga, GRP, "Commit");
        dbus_message_iter_init_append(m, &it);
        append_empty_dict(&it);
        r = send_ok(a.conn, m);
        dbus_message_iter_init(r, &it);
        commit = read_ay(&it);
        dbus_message_unref(r);
        CHECK(strcmp(process(&b, gb, commit).kind, "commit") == 0);
        simple(&a, ga, GRP, "MergePendingCommit");
        same_epoch(&a, ga, &b, gb);
        /* An external PSK both know, injected by a commit. */
        store_psk(&a, ia, "psk-1", "0123456789abcdef0123456789abcdef");
        store_psk(&b, ib, "psk-1", "0123456789abcdef0123456789abcdef");
        m = call_msg(ga, GRP, "Update");
        dbus_message_iter_init_append(m, &it);
        CHECK(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict));
        {
                const char *key = "psk_ids";

                CHECK(dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
                CHECK(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &key));
                CHECK(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT, "aay", &v));
                CHECK(dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "ay", &arr));
                append_ay(&arr, str_buf("psk-1"));
                CHECK(dbus_message_iter_close_container(&v, &arr));
                CHECK(dbus_message_iter_close_container(&e, &v));
                CHECK(dbus_message_iter_close_container(&dict, &e));
        }
        CHECK(dbus_message_iter_close_container(&it, &dict));
        commit = call_ay(&a, m);
        CHECK(strcmp(process(&b, gb, commit).kind, "commit") == 0);
        simple(&a, ga, GRP, "MergePendingCommit");
        same_epoch(&a, ga, &b, gb);
        /* The PSK survives a restart (sealed with the identity). */
        daemon_kill(&b);
        daemon_start(&b);
        expect_text(&a, ga, encrypt(&b, gb, "after psk"), "after psk");
        /* B leaves: A commits the Remove proposal, B sees itself removed. */
        prop = call_ay(&b, call_msg(gb, GRP, "Leave"));
        CHECK(strcmp(process(&a, ga, prop).kind, "proposal") == 0);
        m = call_msg(ga, GRP, "Commit");
        dbus_message_iter_init_append(m, &it);
        append_empty_dict(&it);
        r = send_ok(a.conn, m);
        dbus_message_iter_init(r, &it);
        commit = read_ay(&it);
        dbus_message_unref(r);
        CHECK(process(&b, gb, commit).removed);
        simple(&a, ga, GRP, "MergePendingCommit");
        /* Delete the group, then the identity. */
        simple(&b, gb, GRP, "Delete");
        simple(&b, ib, IDN, "Delete");
        r = send_ok(b.conn, call_msg(ROOT, MGR, "ListIdentities"));
        dbus_message_iter_init(r, &it);
        dbus_message_iter_recurse(&it, &arr);
        CHECK(dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_INVALID);
        dbus_message_unref(r);
        daemon_stop(&a);
        daemon_stop(&b);
        return 0;
}

static void
check_sandboxed(pid_t pid)
{
        char path[64], line[256];
        FILE *f;
        bool seccomp = false, nnp = false, dumpable_hidden;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        CHECK(f);
        while (fgets(line, sizeof(line), f)) {
                if (strcmp(line, "Seccomp:\t2\n") == 0)
                        seccomp = true;
                if (strcmp(line, "NoNewPrivs:\t1\n") == 0)
                        nnp = true;
        }
        fclose(f);
        if (!seccomp || !nnp)
                FAIL("pid %d: Seccomp 2 %s, NoNewPrivs 1 %s", (int)pid, seccomp ? "yes" : "no",
                     nnp ? "yes" : "no");
        /* not dumpable: /proc/PID files belong to root */
        {
                struct stat st;

                CHECK(stat(path, &st) == 0);
                dumpable_hidden = st.st_uid == 0;
                CHECK(dumpable_hidden);
        }
}

static int
t_engine_kill(void)
{
        struct pair p;
        DBusPendingCall *pend;
        DBusMessage *r;
        pid_t engine, vault, e2;

        pair_setup(&p);
        engine = wait_child(p.a.pid, "--engine");
        vault = wait_child(p.a.pid, "--vault");
        check_sandboxed(engine);
        check_sandboxed(vault);
        /* the broker has its own (deny-list) filter */
        {
                char path[64], line[256];
                FILE *f;
                bool ok = false;

                snprintf(path, sizeof(path), "/proc/%d/status", (int)p.a.pid);
                f = fopen(path, "r");
                CHECK(f);
                while (fgets(line, sizeof(line), f))
                        ok = ok || strcmp(line, "Seccomp:\t2\n") == 0;
                fclose(f);
                CHECK(ok);
        }
        /* An engine killed while it holds a request. */
        kill(engine, SIGSTOP);
        CHECK(dbus_connection_send_with_reply(p.a.conn, encrypt_msg(p.ga, "x"), &pend, 60000));
        dbus_connection_flush(p.a.conn);
        sleep_ms(200);
        kill(engine, SIGKILL);
        dbus_pending_call_block(pend);
        r = dbus_pending_call_steal_reply(pend);
        CHECK(r && dbus_message_get_type(r) == DBUS_MESSAGE_TYPE_ERROR);
        CHECK(strcmp(dbus_message_get_error_name(r), "org.mlskeyd.Error.InternalError") == 0);
        dbus_message_unref(r);
        dbus_pending_call_unref(pend);
        /* restarted, nothing lost */
        for (int i = 0; i < 200 && ((e2 = child_of(p.a.pid, "--engine")) <= 0 || e2 == engine); i++)
                sleep_ms(25);
        CHECK(e2 > 0 && e2 != engine);
        pair_talk(&p, "after the engine restarted");
        same_epoch(&p.a, p.ga, &p.b, p.gb);
        check_sandboxed(wait_child(p.a.pid, "--engine"));
        /* The vault dying takes the engine along, and both come back. */
        kill(wait_child(p.a.pid, "--vault"), SIGKILL);
        sleep_ms(500);
        pair_talk(&p, "after the vault restarted");
        CHECK(log_has(&p.a, "engine") && log_has(&p.a, "started"));
        daemon_stop(&p.a);
        daemon_stop(&p.b);
        return 0;
}

/* Exit 77 when the daemon has no test ops (built without
 * --enable-test-ops): the Test interface is unknown there. */
static void
skip_without_test_ops(DBusMessage *r, DBusError *e)
{
        if (!r && strcmp(e->name, DBUS_ERROR_UNKNOWN_INTERFACE) == 0) {
                fprintf(stderr, "SKIP %s: the daemon has no test ops (configure --enable-test-ops)\n",
                        test_name);
                exit(77);
        }
}

/* A forbidden system call in the engine: the kernel kills it (SIGSYS,
 * signal 31), the caller gets an error, the broker restarts the engine
 * sandboxed again, and no state is lost. */
static int
t_forbidden_syscall(void)
{
        struct pair p;
        DBusMessage *r;
        DBusError e;
        pid_t engine, e2 = 0;
        char line[128];
        struct buf x0, x1;

        pair_setup(&p);
        pair_talk(&p, "before");
        x0 = export_secret(&p.a, p.ga);
        engine = wait_child(p.a.pid, "--engine");
        check_sandboxed(engine);
        r = send_wait(p.a.conn, call_msg(ROOT, "org.mlskeyd.Daemon1.Test", "ForbiddenSyscall"), &e);
        skip_without_test_ops(r, &e);
        expect_error(r, &e, "org.mlskeyd.Error.InternalError");
        dbus_error_free(&e);
        /* the kernel's verdict, as the broker saw it */
        snprintf(line, sizeof(line), "engine %d killed by signal %d", (int)engine, SIGSYS);
        for (int i = 0; i < 200 && !log_has(&p.a, line); i++)
                sleep_ms(25);
        if (!log_has(&p.a, line))
                FAIL("no \"%s\" in %s", line, p.a.log);
        CHECK(kill(engine, 0) < 0);
        for (int i = 0; i < 400 && ((e2 = child_of(p.a.pid, "--engine")) <= 0 || e2 == engine); i++)
                sleep_ms(25);
        CHECK(e2 > 0 && e2 != engine);
        /* a normal call in the existing group works: nothing lost */
        for (int i = 0; i < 200; i++) {
                r = send_wait(p.a.conn, encrypt_msg(p.ga, "probe"), &e);
                if (r)
                        break;
                dbus_error_free(&e);
                sleep_ms(25);
        }
        CHECK(r);
        dbus_message_unref(r);
        pair_talk(&p, "after the forbidden syscall");
        same_epoch(&p.a, p.ga, &p.b, p.gb);
        x1 = export_secret(&p.a, p.ga);
        CHECK(buf_eq(x0, x1));
        /* the new engine is sandboxed: Seccomp 2, NoNewPrivs 1 */
        check_sandboxed(wait_child(p.a.pid, "--engine"));
        daemon_stop(&p.a);
        daemon_stop(&p.b);
        return 0;
}

/* ---- storage failure (test ops) ---- */

static DBusMessage *
process_msg(const char *grp, struct buf msg)
{
        DBusMessage *m = call_msg(grp, GRP, "Process");
        DBusMessageIter it;

        dbus_message_iter_init_append(m, &it);
        append_ay(&it, msg);
        return m;
}

static void
fail_writes(struct daemon *d, uint32_t n)
{
        DBusMessage *m = call_msg(ROOT, "org.mlskeyd.Daemon1.Test", "FailWrites"), *r;
        DBusError e;

        CHECK(dbus_message_append_args(m, DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID));
        r = send_wait(d->conn, m, &e);
        skip_without_test_ops(r, &e);
        if (!r)
                FAIL("FailWrites: %s", e.message);
        dbus_message_unref(r);
}

/* A write the broker cannot make durable (injected: nothing of the batch
 * is stored) is never acknowledged: the caller gets StorageFailure, the
 * engine is restarted from the last durable state, and the same message
 * then decrypts. With 16 Process calls in flight (one batch of writes, or
 * several), every message is answered exactly once in the end: either
 * acknowledged at once (and a replay afterwards is refused), or refused
 * (StorageFailure, or InternalError for a call the restart cut off) and
 * decrypted when sent again. */
static int
t_storage_failure(void)
{
        enum { N = 16 };
        struct pair p;
        struct buf m, msgs[N];
        DBusPendingCall *pend[N];
        bool acked[N];
        DBusMessage *r;
        DBusError e;
        char text[N][16];
        int failed = 0;

        /* bob keeps 64 past generations: a refused message is sent again
         * after the ones acknowledged meanwhile (the file's [retention]
         * section goes on) */
        pair_setup_with(&p, NULL, "max_past_generations = 64\n", NULL);
        pair_talk(&p, "before");
        m = encrypt(&p.a, p.ga, "one");
        fail_writes(&p.b, 1);
        r = send_wait(p.b.conn, process_msg(p.gb, m), &e);
        expect_error(r, &e, "org.mlskeyd.Error.StorageFailure");
        dbus_error_free(&e);
        for (int i = 0; i < 200 && !log_has(&p.b, "a write failed; reloading the last durable state");
             i++)
                sleep_ms(25);
        CHECK(log_has(&p.b, "a write failed; reloading the last durable state"));
        /* calls wait for the restarted engine; the message was not used */
        expect_text(&p.b, p.gb, m, "one");

        for (int i = 0; i < N; i++) {
                snprintf(text[i], sizeof(text[i]), "batch %d", i);
                msgs[i] = encrypt(&p.a, p.ga, text[i]);
        }
        fail_writes(&p.b, 1);
        for (int i = 0; i < N; i++) {
                DBusMessage *pm = process_msg(p.gb, msgs[i]);

                CHECK(dbus_connection_send_with_reply(p.b.conn, pm, &pend[i], 60000));
                dbus_message_unref(pm);
        }
        dbus_connection_flush(p.b.conn);
        for (int i = 0; i < N; i++) {
                dbus_pending_call_block(pend[i]);
                r = dbus_pending_call_steal_reply(pend[i]);
                dbus_pending_call_unref(pend[i]);
                CHECK(r);
                acked[i] = dbus_message_get_type(r) == DBUS_MESSAGE_TYPE_METHOD_RETURN;
                if (!acked[i]) {
                        const char *name = dbus_message_get_error_name(r);

                        if (strcmp(name, "org.mlskeyd.Error.StorageFailure") != 0 &&
                            strcmp(name, "org.mlskeyd.Error.InternalError") != 0)
                                FAIL("message %d: %s", i, name);
                        failed++;
                }
                dbus_message_unref(r);
        }
        CHECK(failed > 0);
        for (int i = 0; i < N; i++) {
                if (!acked[i]) {
                        expect_text(&p.b, p.gb, msgs[i], text[i]);
                        continue;
                }
                /* acknowledged once, and once only */
                r = send_wait(p.b.conn, process_msg(p.gb, msgs[i]), &e);
                if (r || (strcmp(e.name, "org.mlskeyd.Error.GenerationConsumed") != 0 &&
                          strcmp(e.name, "org.mlskeyd.Error.GenerationTooOld") != 0))
                        FAIL("message %d processed twice (%s)", i, r ? "accepted" : e.name);
                dbus_error_free(&e);
        }
        fprintf(stderr, "storage-failure: %d of %d refused, all decrypted once\n", failed, N);
        pair_talk(&p, "after the failed writes");
        same_epoch(&p.a, p.ga, &p.b, p.gb);
        daemon_stop(&p.a);
        daemon_stop(&p.b);
        return 0;
}

/* ---- secret scan ---- */

static volatile sig_atomic_t monitor_stop;

static void
monitor_on_term(int sig)
{
        (void)sig;
        monitor_stop = 1;
}

/* A child that records every message on the bus at addr (BecomeMonitor,
 * no rules: everything) to path, each message in its wire format as
 * dbus_message_marshal gives it. Returns once it records. */
static pid_t
monitor_start(const char *addr, const char *path)
{
        int ready[2];
        pid_t pid;
        char c;

        CHECK(pipe(ready) == 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                struct sigaction sa = { .sa_handler = monitor_on_term };
                DBusConnection *conn = bus_open(addr);
                DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                              "org.freedesktop.DBus.Monitoring",
                                                              "BecomeMonitor");
                DBusMessageIter it, a;
                DBusError e;
                uint32_t flags = 0;
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

                test_name = "secret-scan monitor";
                sigaction(SIGTERM, &sa, NULL);
                CHECK(fd >= 0 && m);
                dbus_message_iter_init_append(m, &it);
                CHECK(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &a));
                CHECK(dbus_message_iter_close_container(&it, &a));
                CHECK(dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &flags));
                dbus_message_unref(send_ok(conn, m));
                (void)e;
                CHECK(write(ready[1], "r", 1) == 1);
                while (!monitor_stop && dbus_connection_read_write(conn, 50)) {
                        DBusMessage *msg;

                        while ((msg = dbus_connection_pop_message(conn))) {
                                char *wire = NULL;
                                int n = 0;

                                CHECK(dbus_message_marshal(msg, &wire, &n));
                                CHECK(write(fd, wire, (size_t)n) == n);
                                dbus_free(wire);
                                dbus_message_unref(msg);
                        }
                }
                close(fd);
                _exit(0);
        }
        close(ready[1]);
        CHECK(read(ready[0], &c, 1) == 1);
        close(ready[0]);
        return pid;
}

static void
monitor_end(pid_t pid)
{
        int st;

        sleep_ms(300); /* the last replies reach the monitor */
        kill(pid, SIGTERM);
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static struct buf
read_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        struct buf b = { NULL, 0 };
        size_t cap = 0, n;

        CHECK(f);
        for (;;) {
                if (cap - b.n < 65536) {
                        cap = cap * 2 + 65536;
                        b.p = realloc(b.p, cap);
                        CHECK(b.p);
                }
                n = fread(b.p + b.n, 1, cap - b.n, f);
                if (n == 0)
                        break;
                b.n += n;
        }
        fclose(f);
        return b;
}

static bool
contains(struct buf hay, const uint8_t *needle, size_t n)
{
        return n > 0 && hay.n >= n && memmem(hay.p, hay.n, needle, n) != NULL;
}

/* Test.Secrets of d: the engine's secret journal (see daemon/engine.c):
 * records of a tag byte, a sub-tag byte and the value. */
static size_t
journal(struct daemon *d, struct buf **ret)
{
        DBusMessage *r;
        DBusMessageIter it, a;
        DBusError e;
        struct buf *v = NULL;
        size_t n = 0;

        r = send_wait(d->conn, call_msg(ROOT, "org.mlskeyd.Daemon1.Test", "Secrets"), &e);
        skip_without_test_ops(r, &e);
        if (!r)
                FAIL("Test.Secrets: %s: %s", e.name, e.message);
        dbus_message_iter_init(r, &it);
        CHECK(dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY);
        dbus_message_iter_recurse(&it, &a);
        while (dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_ARRAY) {
                v = realloc(v, (n + 1) * sizeof(*v));
                CHECK(v);
                v[n] = read_ay(&a);
                CHECK(v[n].n > 2);
                n++;
        }
        dbus_message_unref(r);
        *ret = v;
        return n;
}

/*
 * No secret crosses the bus. Both buses are recorded (BecomeMonitor) while
 * two daemons run a whole conversation: identities, KeyPackages, create,
 * Add, Welcome/join, messages both ways, Updates of both members, one
 * ExportSecret, Remove. Which secrets to look for: the daemons' state
 * files are sealed with the vault's key, and the test cannot re-derive the
 * daemons' randomness, so a --enable-test-ops engine keeps a journal of
 * every secret it held after each op (epoch secrets of every epoch, HPKE
 * private keys of leaves, paths, KeyPackage init and leaf keys, the
 * exporter output for this test's label in every epoch) and hands it out
 * with Test.Secrets, called only after the recording stopped (the journal
 * itself is never captured). Every journal value is searched as a byte
 * substring of both captures (D-Bus carries byte arrays verbatim). The one
 * exporter output the test asked for must appear (positive control: the
 * scan sees payloads), every other one must not. Signature private keys
 * never leave the vault and are not in the journal (not covered here).
 */
static int
t_secret_scan(void)
{
        struct pair p;
        struct buf c, exported, kp, cap_a, cap_b, *ja, *jb;
        size_t na, nb, counts[256] = { 0 }, requested_seen = 0;
        char path_a[600], path_b[600];
        pid_t ma, mb;
        DBusMessage *r;
        DBusError e;

        /* Test ops present? (ask a throwaway daemon before recording) */
        {
                struct daemon d;

                daemon_init(&d, getenv("MKD_BUS_A"), "probe");
                daemon_start(&d);
                r = send_wait(d.conn, call_msg(ROOT, "org.mlskeyd.Daemon1.Test", "Secrets"), &e);
                skip_without_test_ops(r, &e);
                CHECK(r);
                dbus_message_unref(r);
                daemon_stop(&d);
        }
        snprintf(path_a, sizeof(path_a), "%s/secret-scan-a.capture", getenv("MKD_TMP"));
        snprintf(path_b, sizeof(path_b), "%s/secret-scan-b.capture", getenv("MKD_TMP"));
        ma = monitor_start(getenv("MKD_BUS_A"), path_a);
        mb = monitor_start(getenv("MKD_BUS_B"), path_b);
        pair_setup(&p);
        kp = key_package(&p.b, p.ib); /* public: must be captured */
        pair_talk(&p, "hello");
        c = commit_only(&p.b, p.gb, "Update", 0);
        CHECK(strcmp(process(&p.a, p.ga, c).kind, "commit") == 0);
        simple(&p.b, p.gb, GRP, "MergePendingCommit");
        pair_talk(&p, "after bob's update");
        c = commit_only(&p.a, p.ga, "Update", 0);
        CHECK(strcmp(process(&p.b, p.gb, c).kind, "commit") == 0);
        simple(&p.a, p.ga, GRP, "MergePendingCommit");
        same_epoch(&p.a, p.ga, &p.b, p.gb);
        pair_talk(&p, "after alice's update");
        exported = export_secret(&p.a, p.ga);
        c = commit_only(&p.a, p.ga, "Remove", 1);
        CHECK(process(&p.b, p.gb, c).removed);
        simple(&p.a, p.ga, GRP, "MergePendingCommit");
        CHECK(encrypt(&p.a, p.ga, "alone").n > 0);
        monitor_end(ma);
        monitor_end(mb);
        /* Only now: the secrets. */
        na = journal(&p.a, &ja);
        nb = journal(&p.b, &jb);
        daemon_stop(&p.a);
        daemon_stop(&p.b);
        cap_a = read_file(path_a);
        cap_b = read_file(path_b);
        /* The recording saw the payloads. */
        CHECK(contains(cap_b, kp.p, kp.n));
        CHECK(exported.n == 32 && contains(cap_a, exported.p, exported.n));
        for (int pass = 0; pass < 2; pass++) {
                struct buf *j = pass ? jb : ja;
                size_t n = pass ? nb : na;

                for (size_t i = 0; i < n; i++) {
                        const uint8_t *v = j[i].p + 2;
                        size_t vl = j[i].n - 2;
                        bool requested = j[i].p[0] == 'X' && buf_eq(buf_of(v, vl), exported);

                        counts[j[i].p[0]]++;
                        if (requested) {
                                requested_seen++;
                                continue;
                        }
                        if (contains(cap_a, v, vl) || contains(cap_b, v, vl))
                                FAIL("a secret (journal %c of daemon %c, tag %c/%u, %zu bytes) is on the bus",
                                     'a' + pass, 'a' + pass, j[i].p[0], j[i].p[1], vl);
                }
        }
        /* The journal is not empty: every kind of secret was looked for. */
        printf("secret-scan: %zu + %zu secrets (epoch %zu, hpke %zu, init %zu, leaf %zu, export %zu, "
               "signature keys %zu, storage keys %zu) absent from %zu + %zu captured bytes\n",
               na, nb, counts['K'], counts['P'], counts['I'], counts['L'], counts['X'],
               counts['S'], counts['T'], cap_a.n, cap_b.n);
        /* ... and it knows the exporter output the test received (both
         * members hold that epoch). */
        CHECK(requested_seen == 2);
        CHECK(counts['K'] >= 5 * 10 && counts['P'] >= 4 && counts['I'] >= 2 && counts['L'] >= 2 &&
              counts['X'] >= 4);
        /* the vault's: both identities' signature keys, both storage keys */
        CHECK(counts['S'] >= 2 && counts['T'] == 2);
        return 0;
}

static void
corrupt_one(const char *dir, int how)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char path[1024];

        CHECK(d);
        while ((de = readdir(d)) && de->d_name[0] == '.')
                ;
        CHECK(de);
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        closedir(d);
        if (how == 0) {
                CHECK(truncate(path, 20) == 0);
        } else {
                int fd = open(path, O_RDWR);
                struct stat st;
                uint8_t b;

                CHECK(fd >= 0 && fstat(fd, &st) == 0);
                CHECK(pread(fd, &b, 1, st.st_size - 5) == 1);
                b ^= 0x40;
                CHECK(pwrite(fd, &b, 1, st.st_size - 5) == 1);
                close(fd);
        }
}

static int
t_tamper(void)
{
        struct daemon d, d2;
        char *idn, *g1, *idn2, dir[1024];
        DBusError e;
        DBusMessage *r;

        daemon_init(&d, getenv("MKD_BUS_A"), "a");
        daemon_start(&d);
        idn = create_identity(&d, "erin", 1);
        (void)key_package(&d, idn);
        g1 = create_group(&d, idn, "tampered");
        daemon_stop(&d);
        /* A flipped byte in the group, a truncated key package. */
        snprintf(dir, sizeof(dir), "%s/group", d.state);
        corrupt_one(dir, 1);
        snprintf(dir, sizeof(dir), "%s/keypackage", d.state);
        corrupt_one(dir, 0);
        daemon_start(&d);
        /* The rest loads: the identity works, the group is gone. */
        CHECK(buf_eq(prop_ay(&d, idn, IDN, "CredentialIdentity"), str_buf("erin")));
        r = get_prop(&d, g1, GRP, "Epoch", &e);
        expect_error(r, &e, "org.mlskeyd.Error.NotFound");
        dbus_error_free(&e);
        free(create_group(&d, idn, "fresh"));
        CHECK(log_has(&d, "refused") && log_has(&d, "group/"));
        CHECK(log_has(&d, "keypackage/"));
        daemon_stop(&d);
        /* A foreign file (another daemon's state): refused as well. */
        daemon_init(&d2, getenv("MKD_BUS_B"), "b");
        daemon_start(&d2);
        idn2 = create_identity(&d2, "frank", 1);
        daemon_stop(&d2);
        {
                char cmd[3000];
                int st;

                snprintf(cmd, sizeof(cmd), "cp %s/identity/* %s/identity/", d2.state, d.state);
                st = system(cmd);
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        daemon_start(&d);
        r = get_prop(&d, idn2, IDN, "Owner", &e);
        expect_error(r, &e, "org.mlskeyd.Error.NotFound");
        dbus_error_free(&e);
        CHECK(buf_eq(prop_ay(&d, idn, IDN, "CredentialIdentity"), str_buf("erin")));
        CHECK(log_has(&d, "identity/"));
        daemon_stop(&d);
        return 0;
}

/* ---- automatic self-update ---- */

static uint64_t
mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct self_update {
        struct buf commit;
        uint64_t epoch;
        uint64_t at; /* mono_ms() when it arrived */
};

/* Waits until mono_ms() reaches `until` for a SelfUpdateReady on d's
 * connection; it must be for path. Other messages are dropped. */
static bool
wait_self_update(struct daemon *d, const char *path, uint64_t until, struct self_update *ret)
{
        do {
                DBusMessage *m;

                dbus_connection_read_write(d->conn, 20);
                while ((m = dbus_connection_pop_message(d->conn))) {
                        DBusMessageIter it;

                        if (!dbus_message_is_signal(m, GRP, "SelfUpdateReady")) {
                                dbus_message_unref(m);
                                continue;
                        }
                        if (strcmp(dbus_message_get_path(m), path) != 0)
                                FAIL("SelfUpdateReady for %s, expected %s",
                                     dbus_message_get_path(m), path);
                        CHECK(dbus_message_has_signature(m, "ayt"));
                        dbus_message_iter_init(m, &it);
                        ret->commit = read_ay(&it);
                        dbus_message_iter_get_basic(&it, &ret->epoch);
                        ret->at = mono_ms();
                        dbus_message_unref(m);
                        return true;
                }
        } while (mono_ms() < until);
        return false;
}

static bool
prop_pending(struct daemon *d, const char *path)
{
        DBusError e;
        DBusMessage *r = get_prop(d, path, GRP, "HasPendingCommit", &e);
        DBusMessageIter it, v;
        dbus_bool_t x;

        if (!r)
                FAIL("Get HasPendingCommit: %s", e.message);
        dbus_message_iter_init(r, &it);
        dbus_message_iter_recurse(&it, &v);
        CHECK(dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_BOOLEAN);
        dbus_message_iter_get_basic(&v, &x);
        dbus_message_unref(r);
        return x;
}

/* B processes A's self-update, A merges it: a new epoch on both sides. */
static void
deliver(struct pair *p, const struct self_update *su)
{
        struct processed r = process(&p->b, p->gb, su->commit);

        CHECK(strcmp(r.kind, "commit") == 0 && !r.removed);
        simple(&p->a, p->ga, GRP, "MergePendingCommit");
        CHECK(prop_u64(&p->a, p->ga, "Epoch") == su->epoch + 1);
        CHECK(!prop_pending(&p->a, p->ga));
        same_epoch(&p->a, p->ga, &p->b, p->gb);
}

/*
 * The [update] timer (policy [update] interval; the test ops shorten it to
 * I ms; the broker looks every I/10). A's group gets a self-update once
 * its epoch is I old: SelfUpdateReady with the pending commit, which B
 * processes and A merges. B's commit starts A's next epoch, whose clock
 * survives a restart of A (the next self-update comes I after processing
 * it, not right after loading and not I after the restart). A cleared
 * self-update comes again I later.
 * B (no [update] in its policy) never makes one.
 */
#define SU_I 3000

static int
t_self_update(void)
{
        struct pair p;
        struct self_update su1, su2, su3, none;
        uint64_t t0, m0, m1;

        t0 = mono_ms();
        pair_setup_with(&p, "[update]\ninterval = 3600\n", NULL, "3000");
        if (!log_has(&p.a, "test ops: self-update interval 3000 ms")) {
                fprintf(stderr, "SKIP %s: the daemon has no test ops (configure --enable-test-ops)\n",
                        test_name);
                exit(77);
        }
        /* 1. The first self-update, I after the epoch began (in the setup). */
        if (!wait_self_update(&p.a, p.ga, mono_ms() + 4 * SU_I, &su1))
                FAIL("no SelfUpdateReady within %d ms", 4 * SU_I);
        CHECK(su1.at - t0 >= SU_I - 100);
        CHECK(su1.epoch == 1 && prop_u64(&p.a, p.ga, "Epoch") == 1);
        CHECK(su1.commit.n > 0);
        CHECK(prop_pending(&p.a, p.ga));
        deliver(&p, &su1);
        pair_talk(&p, "after the first self-update");

        /* 2. Another's commit starts a new epoch too, and a restart keeps
         * its clock. B updates 0.6 I after A's self-update, so A's own
         * self-update throttle (I after su1) opens well before the epoch's
         * (I after processing B's commit); A, stopped for half an
         * interval, makes nothing right after loading, and the next one
         * comes I after processing B's commit: neither at once (a lost
         * clock) nor I after the restart (a clock reset at load). */
        while (mono_ms() < su1.at + SU_I * 6 / 10)
                sleep_ms(20);
        {
                struct buf c = commit_only(&p.b, p.gb, "Update", 0);

                m0 = mono_ms();
                CHECK(strcmp(process(&p.a, p.ga, c).kind, "commit") == 0);
                m1 = mono_ms();
                simple(&p.b, p.gb, GRP, "MergePendingCommit");
                same_epoch(&p.a, p.ga, &p.b, p.gb);
        }
        daemon_stop(&p.a);
        while (mono_ms() < m1 + SU_I / 2)
                sleep_ms(20);
        daemon_start(&p.a);
        CHECK(prop_u64(&p.a, p.ga, "Epoch") == 3);
        if (wait_self_update(&p.a, p.ga, m0 + SU_I - 300, &none))
                FAIL("a self-update %llu ms after B's commit, right after the restart",
                     (unsigned long long)(none.at - m0));
        CHECK(!prop_pending(&p.a, p.ga));
        if (!wait_self_update(&p.a, p.ga, m1 + 3 * SU_I, &su2))
                FAIL("no second SelfUpdateReady");
        CHECK(su2.epoch == 3);
        CHECK(su2.at >= m0 + SU_I - 100);
        /* not restarted with the daemon: that one would come at the
         * restart + I, at least m1 + 3I/2 */
        if (su2.at >= m1 + SU_I + SU_I / 2)
                FAIL("the second self-update came %llu ms after B's commit: the clock restarted",
                     (unsigned long long)(su2.at - m0));

        /* 3. Cleared (as when the delivery service refuses it): the next
         * one waits another interval. */
        simple(&p.a, p.ga, GRP, "ClearPendingCommit");
        CHECK(!prop_pending(&p.a, p.ga));
        if (wait_self_update(&p.a, p.ga, su2.at + SU_I - 500, &none))
                FAIL("a self-update %llu ms after the previous one",
                     (unsigned long long)(none.at - su2.at));
        if (!wait_self_update(&p.a, p.ga, su2.at + 3 * SU_I, &su3))
                FAIL("no SelfUpdateReady after ClearPendingCommit");
        CHECK(su3.epoch == 3);
        CHECK(!buf_eq(su3.commit, su2.commit));
        deliver(&p, &su3);
        pair_talk(&p, "after the third self-update");

        /* B's policy has no [update]: nothing, whatever the test ops say. */
        CHECK(!wait_self_update(&p.b, p.gb, 0, &none));
        CHECK(!log_has(&p.b, "automatic self-update"));
        CHECK(log_has(&p.a, "automatic self-update at epoch 3"));
        daemon_stop(&p.a);
        daemon_stop(&p.b);
        return 0;
}

int
main(int argc, char **argv)
{
        if (argc < 2)
                return 2;
        test_name = argv[1];
        signal(SIGPIPE, SIG_IGN);
        atexit(kill_started);
        if (strcmp(argv[1], "acl-peer") == 0 && (argc == 4 || argc == 5))
                return t_acl_peer(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
        if (!getenv("MKD_BIN") || !getenv("MKD_BUS_A") || !getenv("MKD_BUS_B") || !getenv("MKD_TMP"))
                FAIL("MKD_BIN, MKD_BUS_A, MKD_BUS_B and MKD_TMP must be set");
        if (strcmp(argv[1], "converse") == 0)
                return t_converse();
        if (strcmp(argv[1], "introspect") == 0)
                return t_introspect();
        if (strcmp(argv[1], "acl") == 0 && argc == 4)
                return t_acl(argv[0], argv[2], argv[3]);
        if (strcmp(argv[1], "crash") == 0)
                return t_crash();
        if (strcmp(argv[1], "engine-kill") == 0)
                return t_engine_kill();
        if (strcmp(argv[1], "tamper") == 0)
                return t_tamper();
        if (strcmp(argv[1], "extras") == 0)
                return t_extras();
        if (strcmp(argv[1], "forbidden-syscall") == 0)
                return t_forbidden_syscall();
        if (strcmp(argv[1], "secret-scan") == 0)
                return t_secret_scan();
        if (strcmp(argv[1], "self-update") == 0)
                return t_self_update();
        if (strcmp(argv[1], "storage-failure") == 0)
                return t_storage_failure();
        FAIL("unknown test %s", argv[1]);
}
