/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-bench dbus [--mlskeyd PATH] [--dbus-daemon PATH] [-n COUNT]
 *                   [--clients N] [--tpm-tcti TCTI] [--busy-poll US]
 *                   [--only PATH]
 *
 * Round trips through the daemon's D-Bus API, on a private bus this
 * command starts (dbus-daemon, then mlskeyd with its state in a temporary
 * folder, both stopped at the end):
 *
 *   bare_call   an empty method call to a trivial service on the same bus
 *               (a thread of this program): the floor of any D-Bus call
 *   encrypt     Group.Encrypt of 1 KiB through libmlskey
 *   process     Group.Process of such a message by the second member (a
 *               second identity of the same daemon, joined by Welcome)
 *   bare_call_process   the bare call answered by a process of its own
 *   floor_hops  1 KiB through a skeleton of the daemon's architecture
 *               (floor.c: D-Bus "broker", "engine", "vault" over
 *               socketpairs) and back, with no work in any of them
 *   floor_sign  the same with an Ed25519 signature of it in the "vault":
 *               what any implementation of DESIGN.md section 2 costs
 *               for Encrypt before it does anything of its own
 *
 * each with 1 and with N (default 16) concurrent clients (threads with a
 * connection / libmlskey client each): the median per-call latency and the
 * total throughput. Then the ratios Encrypt / bare call (target, reported
 * and never asserted: within 1.5x) and floor_sign / bare call.
 *
 * mlskeyd defaults to the one beside this program (<build>/mlskeyd, found
 * from /proc/self/exe), dbus-daemon to the one on PATH.
 */
#include "config.h"

#include <dbus/dbus.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client-lib/mlskey.h"
#include "tools/bench/bench.h"

#define ECHO_NAME "org.mlskeyd.BenchEcho"
#define ECHO_PATH "/org/mlskeyd/BenchEcho"
#define ECHO_IFACE "org.mlskeyd.BenchEcho"
#define MSG_LEN 1024
#define MAX_CLIENTS 64

struct env {
        char tmp[64]; /* /tmp/mlskey-bench-dbus.XXXXXX */
        char addr[1024];
        pid_t bus_pid, daemon_pid;
        DBusConnection *echo;
        pthread_t echo_thread;
        volatile bool echo_stop;
        /* the group: alice (sender) and bob (receiver) */
        char *alice, *bob, *ga, *gb;
};

enum what { W_BARE, W_ENCRYPT, W_PROCESS, W_FLOOR_HOPS, W_FLOOR_SIGN, W_BARE_PROC, W_N };

struct job {
        struct env *env;
        enum what what;
        size_t n;                /* calls of this thread */
        uint64_t *lat;           /* n latencies, ns */
        const struct mlskey_data *msgs; /* W_PROCESS: n messages for this thread */
        size_t errors;
        pthread_barrier_t *start;
};

/* The children to stop if this program dies half-way. */
static pid_t child_pids[3];

/* SIGTERM, then SIGKILL after 5 s (a sanitizer build's LeakSanitizer can
 * hang the broker at exit). */
static void
stop_children(void)
{
        static const size_t order[] = { 0, 2, 1 }; /* the bus last */

        for (size_t o = 0; o < 3; o++) {
                size_t i = order[o];
                pid_t pid = child_pids[i];

                if (pid <= 0)
                        continue;
                kill(pid, SIGTERM);
                for (int t = 0; t < 500 && waitpid(pid, NULL, WNOHANG) == 0; t++) {
                        struct timespec ts = { 0, 10 * 1000 * 1000 };

                        nanosleep(&ts, NULL);
                        if (t == 499) {
                                kill(pid, SIGKILL);
                                waitpid(pid, NULL, 0);
                        }
                }
                child_pids[i] = 0;
        }
}

static void
die(const char *what)
{
        fprintf(stderr, "mlskey-bench dbus: %s\n", what);
        exit(1);
}

static void
die_mlskey(const char *what, int r)
{
        const struct mlskey_error_info *e = mlskey_last_error();

        fprintf(stderr, "mlskey-bench dbus: %s: %s (%s)\n", what, mlskey_error_name(r), e->message);
        exit(1);
}

/* ---- the trivial service ---- */

static DBusHandlerResult
echo_filter(DBusConnection *c, DBusMessage *m, void *ud)
{
        DBusMessage *r;

        (void)ud;
        if (!dbus_message_is_method_call(m, ECHO_IFACE, "Ping"))
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        r = dbus_message_new_method_return(m);
        if (r) {
                dbus_connection_send(c, r, NULL);
                dbus_message_unref(r);
        }
        return DBUS_HANDLER_RESULT_HANDLED;
}

static void *
echo_main(void *arg)
{
        struct env *env = arg;

        while (!env->echo_stop && dbus_connection_read_write_dispatch(env->echo, 100))
                ;
        return NULL;
}

static DBusConnection *
bus_connect(const char *addr)
{
        DBusError e;
        DBusConnection *c;

        dbus_error_init(&e);
        c = dbus_connection_open_private(addr, &e);
        if (!c || !dbus_bus_register(c, &e))
                die(e.message ? e.message : "cannot connect to the bus");
        dbus_connection_set_exit_on_disconnect(c, FALSE);
        return c;
}

static void
echo_start(struct env *env)
{
        DBusError e;

        env->echo = bus_connect(env->addr);
        dbus_error_init(&e);
        if (dbus_bus_request_name(env->echo, ECHO_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &e) !=
            DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
                die("cannot own the echo service's name");
        if (!dbus_connection_add_filter(env->echo, echo_filter, NULL, NULL))
                die("out of memory");
        if (pthread_create(&env->echo_thread, NULL, echo_main, env) != 0)
                die("pthread_create");
}

/* ---- processes ---- */

static void
write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                die("cannot write a file in the temporary folder");
}

static void
start_bus(struct env *env, const char *dbus_daemon)
{
        char conf[128], arg[160], text[4096];
        int pfd[2];
        ssize_t n;
        size_t got = 0;

        snprintf(conf, sizeof(conf), "%s/bus.conf", env->tmp);
        snprintf(text, sizeof(text),
                 "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                 " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                 "<busconfig><type>session</type><listen>unix:path=%s/bus.socket</listen>\n"
                 "<auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>\n"
                 "<allow send_destination=\"*\"/><allow receive_sender=\"*\"/>\n"
                 "<allow own=\"*\"/></policy></busconfig>\n",
                 env->tmp);
        write_file(conf, text);
        snprintf(text, sizeof(text), "%s/bus.log", env->tmp);
        if (pipe(pfd) != 0)
                die("pipe");
        env->bus_pid = fork();
        if (env->bus_pid < 0)
                die("fork");
        if (env->bus_pid == 0) {
                int null = open("/dev/null", O_RDWR);
                int log = open(text, O_WRONLY | O_CREAT | O_APPEND, 0600);

                close(pfd[0]);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                }
                if (log >= 0)
                        dup2(log, 2);
                snprintf(arg, sizeof(arg), "--config-file=%s", conf);
                snprintf(text, sizeof(text), "--print-address=%d", pfd[1]);
                execlp(dbus_daemon, "dbus-daemon", arg, "--nofork", text, (char *)NULL);
                _exit(127);
        }
        child_pids[1] = env->bus_pid;
        close(pfd[1]);
        while (got < sizeof(env->addr) - 1 &&
               (n = read(pfd[0], env->addr + got, sizeof(env->addr) - 1 - got)) > 0) {
                got += (size_t)n;
                if (memchr(env->addr, '\n', got))
                        break;
        }
        close(pfd[0]);
        env->addr[got] = '\0';
        env->addr[strcspn(env->addr, "\n")] = '\0';
        if (!env->addr[0])
                die("dbus-daemon did not start (see --dbus-daemon)");
}

static bool
name_owned(DBusConnection *c, const char *name)
{
        DBusError e;
        bool r;

        dbus_error_init(&e);
        r = dbus_bus_name_has_owner(c, name, &e);
        dbus_error_free(&e);
        return r;
}

/* Milliseconds from the daemon's exec to its first answer that needs the
 * engine (the storage key opened, every object loaded). */
static double start_ms;
/* --busy-poll: the daemon's [performance] busy_poll */
static unsigned busy_poll_us;

static void
start_daemon(struct env *env, const char *mlskeyd, const char *tcti)
{
        char state[128], conf[128], log[128], text[512];
        DBusConnection *c;
        uint64_t t0;
        int st;

        snprintf(state, sizeof(state), "%s/state", env->tmp);
        snprintf(conf, sizeof(conf), "%s/mlskeyd.conf", env->tmp);
        snprintf(log, sizeof(log), "%s/mlskeyd.log", env->tmp);
        /* Up to 16 concurrent Process calls arrive out of order (a client
         * thread can fall behind the others by many rounds: 1000 past
         * generations are kept), and bob first sees alice's messages
         * thousands of generations after the Encrypt runs advanced her
         * ratchet. */
        snprintf(text, sizeof(text),
                 "[retention]\nmax_past_generations = 1000\nmax_forward_distance = 1000000\n"
                 "[performance]\nbusy_poll = %u\n%s%s%s",
                 busy_poll_us, tcti ? "[tpm]\nmode = require\ntcti = " : "", tcti ? tcti : "",
                 tcti ? "\n" : "");
        write_file(conf, text);
        t0 = bench_now_ns();
        env->daemon_pid = fork();
        if (env->daemon_pid < 0)
                die("fork");
        if (env->daemon_pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                execl(mlskeyd, "mlskeyd", "--session", "--foreground", "--bus-address", env->addr,
                      "--state-dir", state, "--config", conf, (char *)NULL);
                _exit(127);
        }
        child_pids[0] = env->daemon_pid;
        c = bus_connect(env->addr);
        for (int i = 0; i < 10000 && !name_owned(c, MLSKEY_BUS_NAME); i++) {
                struct timespec ts = { 0, 1000 * 1000 };

                if (waitpid(env->daemon_pid, &st, WNOHANG) == env->daemon_pid) {
                        fprintf(stderr, "mlskey-bench dbus: %s exited (log: %s)\n", mlskeyd, log);
                        exit(1);
                }
                nanosleep(&ts, NULL);
        }
        if (!name_owned(c, MLSKEY_BUS_NAME)) {
                fprintf(stderr, "mlskey-bench dbus: mlskeyd did not start (log: %s)\n", log);
                exit(1);
        }
        dbus_connection_close(c);
        dbus_connection_unref(c);
        /* Calls wait for the loading to end: the first answer marks it. */
        {
                struct mlskey_client *mc = NULL;
                char **paths = NULL;

                if (mlskey_client_new_address(env->addr, &mc) < 0 ||
                    mlskey_manager_list_identities(mc, &paths, NULL) < 0) {
                        fprintf(stderr, "mlskey-bench dbus: mlskeyd does not answer (log: %s)\n",
                                log);
                        exit(1);
                }
                start_ms = (double)(bench_now_ns() - t0) / 1e6;
                mlskey_strv_free(paths);
                mlskey_client_free(mc);
        }
}

/* ---- the group ---- */

static struct mlskey_client *
client_new(const struct env *env)
{
        struct mlskey_client *c;
        int r = mlskey_client_new_address(env->addr, &c);

        if (r < 0)
                die_mlskey("connecting", r);
        return c;
}

static void
setup_group(struct env *env)
{
        struct mlskey_client *c = client_new(env);
        struct mlskey_buf_list kps = MLSKEY_BUF_LIST_INIT;
        struct mlskey_buf commit = MLSKEY_BUF_INIT, welcome = MLSKEY_BUF_INIT;
        int r;

        if ((r = mlskey_manager_create_identity(c, (const uint8_t *)"alice", 5, 1, NULL,
                                                &env->alice)) < 0 ||
            (r = mlskey_manager_create_identity(c, (const uint8_t *)"bob", 3, 1, NULL, &env->bob)) < 0)
                die_mlskey("CreateIdentity", r);
        if ((r = mlskey_identity_generate_key_packages(c, env->bob, 1, NULL, &kps)) < 0)
                die_mlskey("GenerateKeyPackages", r);
        if ((r = mlskey_identity_create_group(c, env->alice, (const uint8_t *)"bench", 5, NULL,
                                              &env->ga)) < 0)
                die_mlskey("CreateGroup", r);
        if ((r = mlskey_group_add(c, env->ga, kps.items, 1, NULL, &commit, &welcome)) < 0)
                die_mlskey("Add", r);
        if ((r = mlskey_group_merge_pending_commit(c, env->ga)) < 0)
                die_mlskey("MergePendingCommit", r);
        if ((r = mlskey_identity_join_group(c, env->bob, welcome.data, welcome.len, NULL, 0, NULL,
                                            &env->gb)) < 0)
                die_mlskey("JoinGroup", r);
        mlskey_buf_clear(&commit);
        mlskey_buf_clear(&welcome);
        mlskey_buf_list_clear(&kps);
        mlskey_client_free(c);
}

/* ---- timed runs ---- */

/* A method call with libdbus alone, with one "ay" argument unless arg is
 * NULL; true if it was answered (not with an error). */
static bool
raw_call(DBusConnection *conn, const char *dest, const char *path, const char *iface,
         const char *method, const uint8_t *arg, size_t len)
{
        DBusMessage *m = dbus_message_new_method_call(dest, path, iface, method);
        DBusMessage *r = NULL;

        if (m && (!arg || dbus_message_append_args(m, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &arg,
                                                   (int)len, DBUS_TYPE_INVALID)))
                r = dbus_connection_send_with_reply_and_block(conn, m, 60000, NULL);
        if (m)
                dbus_message_unref(m);
        if (!r)
                return false;
        dbus_message_unref(r);
        return true;
}

static void *
job_main(void *arg)
{
        struct job *j = arg;
        static const uint8_t plain[MSG_LEN] = { 'x' };
        DBusConnection *conn = NULL;
        struct mlskey_client *c = NULL;

        if (j->what == W_BARE || j->what >= W_FLOOR_HOPS)
                conn = bus_connect(j->env->addr);
        else
                c = client_new(j->env);
        pthread_barrier_wait(j->start);
        for (size_t i = 0; i < j->n; i++) {
                uint64_t t0 = bench_now_ns();
                bool ok;

                if (j->what == W_BARE) {
                        ok = raw_call(conn, ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Ping", NULL, 0);
                } else if (j->what >= W_FLOOR_HOPS) {
                        ok = raw_call(conn, BENCH_FLOOR_NAME, BENCH_FLOOR_PATH, BENCH_FLOOR_IFACE,
                                      j->what == W_FLOOR_SIGN   ? "Sign"
                                      : j->what == W_FLOOR_HOPS ? "Hops"
                                                                : "Ping",
                                      j->what == W_BARE_PROC ? NULL : plain, sizeof(plain));
                } else if (j->what == W_ENCRYPT) {
                        struct mlskey_buf out = MLSKEY_BUF_INIT;

                        ok = mlskey_group_encrypt(c, j->env->ga, plain, sizeof(plain), NULL, 0, &out) == 0;
                        mlskey_buf_clear(&out);
                } else {
                        struct mlskey_process_result pr;

                        int r;

                        memset(&pr, 0, sizeof(pr));
                        r = mlskey_group_process(c, j->env->gb, j->msgs[i].data, j->msgs[i].len, &pr);
                        ok = r == 0 && pr.content.len == MSG_LEN;
                        if (!ok && j->errors == 0)
                                fprintf(stderr, "mlskey-bench dbus: Process: %s (%s), %zu bytes\n",
                                        mlskey_error_name(r), mlskey_last_error()->message,
                                        pr.content.len);
                        mlskey_process_result_clear(&pr);
                }
                j->lat[i] = bench_now_ns() - t0;
                if (!ok)
                        j->errors++;
        }
        if (conn) {
                dbus_connection_close(conn);
                dbus_connection_unref(conn);
        }
        mlskey_client_free(c);
        return NULL;
}

/* Messages for the process runs: encrypted by alice beforehand, in order. */
static struct mlskey_data *
make_messages(struct env *env, size_t n, struct mlskey_buf **ret_bufs)
{
        struct mlskey_client *c = client_new(env);
        static const uint8_t plain[MSG_LEN] = { 'x' };
        struct mlskey_data *d = calloc(n, sizeof(*d));
        struct mlskey_buf *b = calloc(n, sizeof(*b));
        int r;

        if (!d || !b)
                die("out of memory");
        for (size_t i = 0; i < n; i++) {
                if ((r = mlskey_group_encrypt(c, env->ga, plain, sizeof(plain), NULL, 0, &b[i])) < 0)
                        die_mlskey("Encrypt", r);
                d[i].data = b[i].data;
                d[i].len = b[i].len;
        }
        mlskey_client_free(c);
        *ret_bufs = b;
        return d;
}

static const char *const names[W_N] = { "bare_call", "encrypt", "process", "floor_hops",
                                        "floor_sign", "bare_call_process" };

/* Runs `what` with `clients` threads, n calls in all; returns the median
 * (printed unless it is a warm-up). */
static double
run(struct env *env, enum what what, size_t clients, size_t n, bool print)
{
        struct job jobs[MAX_CLIENTS];
        pthread_t th[MAX_CLIENTS];
        pthread_barrier_t start;
        uint64_t *lat = calloc(n, sizeof(*lat)), t0, wall;
        struct mlskey_buf *bufs = NULL;
        struct mlskey_data *msgs = NULL;
        size_t per = n / clients, errors = 0;
        double med;

        if (!lat || per == 0)
                die("out of memory (or fewer calls than clients)");
        n = per * clients;
        if (what == W_PROCESS)
                msgs = make_messages(env, n, &bufs);
        if (pthread_barrier_init(&start, NULL, (unsigned)clients + 1) != 0)
                die("pthread_barrier_init");
        for (size_t i = 0; i < clients; i++) {
                jobs[i] = (struct job){ .env = env, .what = what, .n = per, .lat = lat + i * per,
                                        .start = &start };
                if (msgs) {
                        /* interleaved: thread i takes messages i, i+k, ...
                         * so the daemon sees them almost in order */
                        struct mlskey_data *mine = calloc(per, sizeof(*mine));

                        if (!mine)
                                die("out of memory");
                        for (size_t k = 0; k < per; k++)
                                mine[k] = msgs[k * clients + i];
                        jobs[i].msgs = mine;
                }
                if (pthread_create(&th[i], NULL, job_main, &jobs[i]) != 0)
                        die("pthread_create");
        }
        pthread_barrier_wait(&start);
        t0 = bench_now_ns();
        for (size_t i = 0; i < clients; i++) {
                pthread_join(th[i], NULL);
                errors += jobs[i].errors;
                free((void *)jobs[i].msgs);
        }
        wall = bench_now_ns() - t0;
        pthread_barrier_destroy(&start);
        med = bench_median_ns(lat, n);
        if (print)
                printf("dbus %s clients=%zu: median %.3f ms, throughput %.0f calls/s (n=%zu%s)\n",
                       names[what], clients, med / 1e6, (double)n * 1e9 / (double)wall, n,
                       errors ? ", with errors" : "");
        if (errors)
                printf("dbus %s clients=%zu: %zu of %zu calls failed\n", names[what], clients, errors, n);
        if (bufs) {
                for (size_t i = 0; i < n; i++)
                        mlskey_buf_clear(&bufs[i]);
                free(bufs);
                free(msgs);
        }
        free(lat);
        return med;
}

/* <dir of this program>/../mlskeyd (the build tree: tools/mlskey-bench and
 * mlskeyd), else <dir>/mlskeyd. */
static void
default_mlskeyd(char *out, size_t cap)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;

        snprintf(out, cap, "mlskeyd");
        if (n <= 0)
                return;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (!slash)
                return;
        *slash = '\0';
        n = snprintf(out, cap, "%s/../mlskeyd", self);
        if (n > 0 && (size_t)n < cap && access(out, X_OK) == 0)
                return;
        n = snprintf(out, cap, "%s/mlskeyd", self);
        if (n < 0 || (size_t)n >= cap)
                snprintf(out, cap, "mlskeyd");
}

static void
usage(FILE *f)
{
        fprintf(f, "usage: mlskey-bench dbus [--mlskeyd PATH] [--dbus-daemon PATH] [-n COUNT]\n"
                   "                         [--clients N] [--tpm-tcti TCTI]\n"
                   "                         [--busy-poll US] [--only PATH]\n"
                   "Starts a private dbus-daemon and mlskeyd, then prints the median round\n"
                   "trip of a bare D-Bus call, Encrypt (1 KiB) and Process, with 1 and N\n"
                   "(default 16) concurrent clients. COUNT: calls per measurement (default 2000).\n"
                   "--tpm-tcti: the daemon runs with [tpm] mode = require on that TPM\n"
                   "(storage key sealed, rollback counter); also prints the start time.\n"
                   "--busy-poll: the daemon runs with [performance] busy_poll = US (1..1000).\n"
                   "--only: measures that one path (for profiling), no commits, no ratios:\n"
                   "  bare_call, encrypt, process, floor_hops, floor_sign, bare_call_process.\n"
                   "The floor is a skeleton of the daemon's architecture (tools/bench/floor.c):\n"
                   "the same three processes and hops as Encrypt, an Ed25519 signature in\n"
                   "the third (floor_sign) or not (floor_hops), and no other work.\n");
}

int
bench_dbus(int argc, char **argv)
{
        struct env env = { .bus_pid = 0 };
        char mlskeyd[PATH_MAX];
        const char *dbus_daemon = "dbus-daemon", *tcti = NULL;
        size_t n = 2000, many = 16;
        double bare[2] = { 0, 0 }, enc[2] = { 0, 0 }, proc[2] = { 0, 0 }, fsign[2] = { 0, 0 };
        int only = -1; /* -1: all; else an enum what (profiling one path) */
        size_t cl[2];

        default_mlskeyd(mlskeyd, sizeof(mlskeyd));
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--mlskeyd") == 0 && i + 1 < argc) {
                        snprintf(mlskeyd, sizeof(mlskeyd), "%s", argv[++i]);
                } else if (strcmp(argv[i], "--dbus-daemon") == 0 && i + 1 < argc) {
                        dbus_daemon = argv[++i];
                } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
                        n = bench_parse_count(argv[++i]);
                } else if (strcmp(argv[i], "--tpm-tcti") == 0 && i + 1 < argc) {
                        tcti = argv[++i];
                } else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc) {
                        many = bench_parse_count(argv[++i]);
                } else if (strcmp(argv[i], "--busy-poll") == 0 && i + 1 < argc) {
                        size_t us = bench_parse_count(argv[++i]);

                        if (us == 0 || us > 1000) {
                                usage(stderr);
                                return 2;
                        }
                        busy_poll_us = (unsigned)us;
                } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
                        i++;
                        for (int w = 0; w < W_N; w++)
                                if (strcmp(argv[i], names[w]) == 0)
                                        only = w;
                        if (only < 0) {
                                usage(stderr);
                                return 2;
                        }
                } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (n == 0 || many == 0 || many > MAX_CLIENTS || n < many) {
                usage(stderr);
                return 2;
        }
        if (access(mlskeyd, X_OK) != 0) {
                fprintf(stderr, "mlskey-bench dbus: no mlskeyd at %s (use --mlskeyd)\n", mlskeyd);
                return 1;
        }
        if (!dbus_threads_init_default())
                die("dbus_threads_init_default");
        snprintf(env.tmp, sizeof(env.tmp), "/tmp/mlskey-bench-dbus.XXXXXX");
        if (!mkdtemp(env.tmp))
                die("mkdtemp");
        signal(SIGPIPE, SIG_IGN);
        atexit(stop_children);
        start_bus(&env, dbus_daemon);
        /* before any thread: the floor's processes are plain forks */
        if ((child_pids[2] = bench_floor_start(env.addr, busy_poll_us)) < 0)
                die("cannot start the floor skeleton");
        start_daemon(&env, mlskeyd, tcti);
        echo_start(&env);
        {
                DBusConnection *c = bus_connect(env.addr);

                for (int i = 0; i < 5000 && !name_owned(c, BENCH_FLOOR_NAME); i++) {
                        struct timespec ts = { 0, 1000 * 1000 };

                        nanosleep(&ts, NULL);
                }
                if (!name_owned(c, BENCH_FLOOR_NAME))
                        die("the floor skeleton did not start");
                dbus_connection_close(c);
                dbus_connection_unref(c);
        }
        setup_group(&env);
        printf("dbus: mlskeyd %s, private bus %s, tpm %s, busy_poll %u us\n", mlskeyd, env.addr,
               tcti ? tcti : "off", busy_poll_us);
        printf("dbus start (exec to first answer, empty state): %.1f ms\n", start_ms);
        /* A restart with state: the storage key unsealed, 2 identities, 1
         * KeyPackage and 2 groups loaded (with a TPM: the rollback check). */
        {
                pid_t pid = child_pids[0];

                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
                child_pids[0] = 0;
                start_daemon(&env, mlskeyd, tcti);
                printf("dbus restart (exec to first answer, 5 objects): %.1f ms\n", start_ms);
        }
        cl[0] = 1;
        cl[1] = many;
        for (int k = 0; k < 2; k++) {
                /* a short warm-up of each path */
                (void)run(&env, W_BARE, cl[k], 50 * cl[k], false);
                (void)run(&env, W_ENCRYPT, cl[k], 50 * cl[k], false);
                if (only < 0 || only == W_BARE)
                        bare[k] = run(&env, W_BARE, cl[k], n, true);
                if (only < 0 || only == W_ENCRYPT)
                        enc[k] = run(&env, W_ENCRYPT, cl[k], n, true);
                if (only < 0 || only == W_PROCESS)
                        proc[k] = run(&env, W_PROCESS, cl[k], n, true);
                (void)run(&env, W_FLOOR_SIGN, cl[k], 50 * cl[k], false);
                if (only < 0 || only == W_BARE_PROC)
                        (void)run(&env, W_BARE_PROC, cl[k], n, true);
                if (only < 0 || only == W_FLOOR_HOPS)
                        (void)run(&env, W_FLOOR_HOPS, cl[k], n, true);
                if (only < 0 || only == W_FLOOR_SIGN)
                        fsign[k] = run(&env, W_FLOOR_SIGN, cl[k], n, true);
        }
        if (only >= 0)
                goto out;
        /* Sealed epoch changes: Update + MergePendingCommit by alice (a
         * critical write each: with a TPM, a manifest under a new rollback
         * counter value and its increment). Last, as bob stays behind. */
        {
                enum { COMMITS = 100 };
                struct mlskey_client *c = client_new(&env);
                uint64_t lat[COMMITS];

                for (size_t i = 0; i < COMMITS; i++) {
                        struct mlskey_buf commit = MLSKEY_BUF_INIT;
                        uint64_t t0 = bench_now_ns();
                        int r = mlskey_group_update(c, env.ga, NULL, &commit);

                        if (r == 0)
                                r = mlskey_group_merge_pending_commit(c, env.ga);
                        if (r < 0)
                                die_mlskey("Update/MergePendingCommit", r);
                        lat[i] = bench_now_ns() - t0;
                        mlskey_buf_clear(&commit);
                }
                printf("dbus commit (Update + MergePendingCommit, sealed epoch change) clients=1: "
                       "median %.3f ms (n=%d)\n",
                       bench_median_ns(lat, COMMITS) / 1e6, COMMITS);
                mlskey_client_free(c);
        }
        for (int k = 0; k < 2; k++)
                printf("dbus ratio encrypt/bare_call clients=%zu: %.2f (process/bare_call %.2f; "
                       "target encrypt within 1.5x)\n",
                       cl[k], enc[k] / bare[k], proc[k] / bare[k]);
        for (int k = 0; k < 2; k++)
                printf("dbus ratio floor_sign/bare_call clients=%zu: %.2f (the architecture's floor: "
                       "encrypt/floor_sign %.2f)\n",
                       cl[k], fsign[k] / bare[k], enc[k] / fsign[k]);
out:
        env.echo_stop = true;
        pthread_join(env.echo_thread, NULL);
        dbus_connection_close(env.echo);
        dbus_connection_unref(env.echo);
        stop_children(); /* the daemon first, then the bus */
        free(env.alice);
        free(env.bob);
        free(env.ga);
        free(env.gb);
        {
                char cmd[128];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env.tmp);
                if (system(cmd) != 0)
                        fprintf(stderr, "mlskey-bench dbus: could not remove %s\n", env.tmp);
        }
        return 0;
}
