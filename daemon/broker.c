/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The broker's event loop (poll over the bus connection's watches, the
 * engine socket and a signalfd), the supervision of the children, the
 * pipeline of requests to the engine and the durable storage of their
 * writes. The D-Bus methods are in broker_methods.c.
 *
 * Children: the engine and the vault are started together (fork + re-exec
 * of this binary with --engine / --vault), the engine connected to the
 * broker and to the vault by socketpairs, the vault handed the state
 * directory to open its storage key. If either dies, or the engine breaks
 * the protocol, or a write cannot be made durable, both are stopped, every
 * request in flight is answered with an error, and both are started again
 * after a backoff; the new engine reloads every stored object.
 *
 * The [update] timer: with a policy [update] interval, the broker asks the
 * engine once after every load and then every min(interval / 10, 60 s)
 * for the automatic self-updates that are due (MKD_E_SELF_UPDATE, at most
 * MKD_SELF_UPDATE_BATCH groups per request, one request at a time, so
 * callers' requests interleave); their writes are durable before the
 * SelfUpdateReady signals go out, as for every write.
 */
#include "config.h"

#include "daemon/broker-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/keystore.h"
#include "daemon/log.h"
#include "daemon/sandbox.h"
#include "daemon/seal.h"

extern char **environ;

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define STABLE_MS 10000
#define SELF_UPDATE_PERIOD_MAX_MS 60000

static uint64_t
now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
b_now_ms(void)
{
        return now_us() / 1000;
}

/* [performance] busy_poll: polls without sleeping for up to us
 * microseconds; the result of the last poll (0: nothing yet). */
static int
busy_poll(struct pollfd *pfd, size_t np, uint32_t us)
{
        uint64_t end = now_us() + us;
        int r;

        do
                r = poll(pfd, np, 0);
        while (r == 0 && now_us() < end);
        return r;
}

/* ---- index ---- */

struct b_identity *
b_find_identity(struct broker *b, const uint8_t *id, size_t len)
{
        if (len != B_ID_LEN)
                return NULL;
        for (size_t i = 0; i < b->n_ids; i++)
                if (memcmp(b->ids[i]->id, id, B_ID_LEN) == 0)
                        return b->ids[i];
        return NULL;
}

struct b_group *
b_find_group(struct broker *b, const uint8_t *id, size_t len)
{
        if (len != B_ID_LEN)
                return NULL;
        for (size_t i = 0; i < b->n_groups; i++)
                if (memcmp(b->groups[i]->id, id, B_ID_LEN) == 0)
                        return b->groups[i];
        return NULL;
}

void
b_identity_free(struct b_identity *i)
{
        if (!i)
                return;
        free(i->uids);
        free(i->gids);
        mls_bytes_clear(&i->cred);
        mls_bytes_clear(&i->pub);
        mls_bytes_clear(&i->label);
        free(i);
}

void
b_group_free(struct b_group *g)
{
        if (!g)
                return;
        mls_bytes_clear(&g->group_id);
        mls_bytes_clear(&g->auth);
        free(g);
}

static int
u32_list_copy(const struct mkd_val *l, uint32_t **ret, size_t *ret_n)
{
        struct mkd_list_iter it;
        uint32_t *v = NULL, x;
        size_t n = 0;

        if (l->n) {
                v = calloc(l->n, sizeof(*v));
                if (!v)
                        return MLS_E_NOMEM;
        }
        mkd_list_iter_init(&it, l);
        while (n < l->n && mkd_list_next_u32(&it, &x))
                v[n++] = x;
        *ret = v;
        *ret_n = n;
        return 0;
}

int
b_index_put_identity(struct broker *b, const uint8_t *rec, size_t len, struct b_identity **ret)
{
        struct mkd_val v[MKD_II_N];
        struct b_identity *i, *old;
        int r;

        MLS_TRY(mkd_proto_decode(mkd_schema_identity_info, rec, len, v));
        if (v[MKD_II_ID].len != B_ID_LEN)
                return MLS_E_INVALID_MESSAGE;
        i = calloc(1, sizeof(*i));
        if (!i)
                return MLS_E_NOMEM;
        memcpy(i->id, v[MKD_II_ID].p, B_ID_LEN);
        i->owner = (uint32_t)v[MKD_II_OWNER].u;
        i->suite = (uint16_t)v[MKD_II_SUITE].u;
        i->tpm = v[MKD_II_TPM].u != 0;
        r = u32_list_copy(&v[MKD_II_UIDS], &i->uids, &i->n_uids);
        if (r == 0)
                r = u32_list_copy(&v[MKD_II_GIDS], &i->gids, &i->n_gids);
        if (r == 0)
                r = mls_bytes_copy(&i->cred, v[MKD_II_CREDENTIAL].p, v[MKD_II_CREDENTIAL].len);
        if (r == 0)
                r = mls_bytes_copy(&i->pub, v[MKD_II_PUB].p, v[MKD_II_PUB].len);
        if (r == 0)
                r = mls_bytes_copy(&i->label, v[MKD_II_LABEL].p, v[MKD_II_LABEL].len);
        if (r < 0) {
                b_identity_free(i);
                return r;
        }
        old = b_find_identity(b, i->id, B_ID_LEN);
        if (old) {
                for (size_t k = 0; k < b->n_ids; k++)
                        if (b->ids[k] == old)
                                b->ids[k] = i;
                b_identity_free(old);
        } else {
                struct b_identity **n = realloc(b->ids, (b->n_ids + 1) * sizeof(*n));

                if (!n) {
                        b_identity_free(i);
                        return MLS_E_NOMEM;
                }
                b->ids = n;
                b->ids[b->n_ids++] = i;
        }
        if (ret)
                *ret = i;
        return 0;
}

int
b_index_put_group(struct broker *b, const uint8_t *rec, size_t len, struct b_group **ret)
{
        struct mkd_val v[MKD_GS_N];
        struct b_group *g, *old;
        int r;

        MLS_TRY(mkd_proto_decode(mkd_schema_group_summary, rec, len, v));
        if (v[MKD_GS_ID].len != B_ID_LEN || v[MKD_GS_IDENTITY].len != B_ID_LEN)
                return MLS_E_INVALID_MESSAGE;
        g = calloc(1, sizeof(*g));
        if (!g)
                return MLS_E_NOMEM;
        memcpy(g->id, v[MKD_GS_ID].p, B_ID_LEN);
        memcpy(g->identity, v[MKD_GS_IDENTITY].p, B_ID_LEN);
        g->suite = (uint16_t)v[MKD_GS_SUITE].u;
        g->epoch = v[MKD_GS_EPOCH].u;
        g->own_leaf = (uint32_t)v[MKD_GS_OWN_LEAF].u;
        g->pending = v[MKD_GS_PENDING].u != 0;
        g->removed = v[MKD_GS_REMOVED].u != 0;
        r = mls_bytes_copy(&g->group_id, v[MKD_GS_GROUP_ID].p, v[MKD_GS_GROUP_ID].len);
        if (r == 0)
                r = mls_bytes_copy(&g->auth, v[MKD_GS_AUTH].p, v[MKD_GS_AUTH].len);
        if (r < 0) {
                b_group_free(g);
                return r;
        }
        old = b_find_group(b, g->id, B_ID_LEN);
        if (old) {
                for (size_t k = 0; k < b->n_groups; k++)
                        if (b->groups[k] == old)
                                b->groups[k] = g;
                b_group_changed(b, old, g);
                b_group_free(old);
        } else {
                struct b_group **n = realloc(b->groups, (b->n_groups + 1) * sizeof(*n));

                if (!n) {
                        b_group_free(g);
                        return MLS_E_NOMEM;
                }
                b->groups = n;
                b->groups[b->n_groups++] = g;
        }
        if (ret)
                *ret = g;
        return 0;
}

void
b_index_remove_group(struct broker *b, const uint8_t id[B_ID_LEN])
{
        for (size_t i = 0; i < b->n_groups; i++)
                if (memcmp(b->groups[i]->id, id, B_ID_LEN) == 0) {
                        b_group_free(b->groups[i]);
                        b->groups[i] = b->groups[--b->n_groups];
                        return;
                }
}

void
b_index_remove_identity(struct broker *b, const uint8_t id[B_ID_LEN])
{
        for (size_t i = b->n_groups; i-- > 0;)
                if (memcmp(b->groups[i]->identity, id, B_ID_LEN) == 0) {
                        b_group_free(b->groups[i]);
                        b->groups[i] = b->groups[--b->n_groups];
                }
        for (size_t i = 0; i < b->n_ids; i++)
                if (memcmp(b->ids[i]->id, id, B_ID_LEN) == 0) {
                        b_identity_free(b->ids[i]);
                        b->ids[i] = b->ids[--b->n_ids];
                        return;
                }
}

static void
index_clear(struct broker *b)
{
        for (size_t i = 0; i < b->n_ids; i++)
                b_identity_free(b->ids[i]);
        for (size_t i = 0; i < b->n_groups; i++)
                b_group_free(b->groups[i]);
        free(b->ids);
        free(b->groups);
        b->ids = NULL;
        b->groups = NULL;
        b->n_ids = b->n_groups = 0;
}

/* ---- children ---- */

static void
call_free(struct b_call *c)
{
        if (!c)
                return;
        if (c->msg)
                dbus_message_unref(c->msg);
        free(c);
}

/* In the forked child: put fds[i] at 3 + i and re-execute ourselves. */
static void __attribute__((noreturn))
child_exec(struct broker *b, const char *mode, const int *fds, size_t n)
{
        int tmp[4];
        char level[16];
        sigset_t all;
        char pcrs[32];
        char *argv[] = {
                (char *)"mlskeyd", (char *)mode, (char *)"--seccomp",
                (char *)mkd_seccomp_mode_name(b->policy.seccomp), (char *)"--log-level", level,
                /* The vault's TPM configuration ([tpm] of the policy). */
                (char *)"--tpm-mode", (char *)mkd_tpm_mode_name(b->policy.tpm_mode),
                (char *)"--tpm-tcti", b->policy.tpm_tcti, (char *)"--tpm-pcrs", pcrs, NULL,
        };

        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        snprintf(level, sizeof(level), "%d", b->opt.log_level);
        snprintf(pcrs, sizeof(pcrs), "%u:%x", (unsigned)b->policy.pcr_bank,
                 (unsigned)b->policy.pcr_mask);
        for (size_t i = 0; i < n; i++) {
                tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
                if (tmp[i] < 0)
                        _exit(127);
        }
        for (size_t i = 0; i < n; i++)
                if (dup2(tmp[i], 3 + (int)i) < 0)
                        _exit(127);
        if (mkd_sandbox_exec_self(b->self_exe_fd, argv, environ) < 0)
                _exit(127);
        _exit(127);
}

static void
fail_inflight(struct broker *b, int e, const char *why)
{
        struct b_call *c;

        while ((c = b->inflight)) {
                b->inflight = c->next;
                if (c->msg)
                        b_reply_error(b, c->msg, e, "%s", why);
                call_free(c);
        }
        b->inflight_tail = NULL;
}

static void
children_stop(struct broker *b, const char *why)
{
        if (b->state == CH_DOWN)
                return;
        mkd_log_warning("stopping engine and vault: %s", why);
        if (b->engine_pid > 0)
                kill(b->engine_pid, SIGKILL);
        if (b->vault_pid > 0)
                kill(b->vault_pid, SIGKILL);
        if (b->engine_fd >= 0)
                close(b->engine_fd);
        b->engine_fd = -1;
        mkd_ipc_rbuf_clear(&b->rb);
        mkd_ipc_sendq_clear(&b->sq);
        fail_inflight(b, MLS_E_IO, "the engine stopped before answering; the request was not completed");
        b->su_inflight = false;
        b->su_next = 0; /* until the next load */
        b->state = CH_DOWN;
        if (b_now_ms() - b->started_at > STABLE_MS)
                b->backoff_ms = BACKOFF_MIN_MS;
        else
                b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (b->backoff_ms > BACKOFF_MAX_MS)
                b->backoff_ms = BACKOFF_MAX_MS;
        b->restart_at = b_now_ms() + b->backoff_ms;
}

static int engine_push(struct broker *b, struct b_call *c, const uint8_t *args, size_t len,
                       uint32_t uid);

/* An internal request: the engine (vault) raises the TPM counter to the
 * value of the manifest just made durable — exactly that one: a later
 * manifest may already be sealed but not yet written. */
static void
counter_sync(struct broker *b, uint64_t counter)
{
        struct mkd_val v[1] = { [MKD_CS_COUNTER] = mkd_val_u(counter) };

        if (b_call_engine(b, K_COUNTER_SYNC, MKD_E_COUNTER_SYNC, NULL, NULL, 0, v) < 0)
                mkd_log_err("the rollback counter follows at the next write");
}

/* ---- the [update] timer ---- */

/* The interval from the policy (seconds, 0 = off). Builds with test ops
 * (--enable-test-ops, never a release) let the integration test shorten
 * an enabled interval: MKD_TEST_UPDATE_INTERVAL_MS (1..86400000). */
static void
self_update_setup(struct broker *b)
{
        b->su_interval_ms = b->policy.update_interval * 1000;
#ifdef MKD_TEST_OPS
        {
                const char *x = getenv("MKD_TEST_UPDATE_INTERVAL_MS");
                char *end = NULL;
                unsigned long long v;

                if (b->su_interval_ms && x && *x) {
                        errno = 0;
                        v = strtoull(x, &end, 10);
                        if (errno == 0 && end && *end == '\0' && v >= 1 && v <= 86400000ULL) {
                                b->su_interval_ms = v;
                                mkd_log_warning("test ops: self-update interval %llu ms", v);
                        }
                }
        }
#endif
        b->su_period_ms = b->su_interval_ms / 10;
        if (b->su_period_ms > SELF_UPDATE_PERIOD_MAX_MS)
                b->su_period_ms = SELF_UPDATE_PERIOD_MAX_MS;
        if (b->su_period_ms == 0)
                b->su_period_ms = 1;
        if (b->su_interval_ms)
                mkd_log_info("automatic self-update after %llu s in an epoch",
                             (unsigned long long)(b->su_interval_ms / 1000));
}

/* An internal request: the self-updates that are due. */
static void
self_update_tick(struct broker *b)
{
        struct mkd_val v[2];

        /* If this fails: try again a period later. */
        b->su_next = b_now_ms() + b->su_period_ms;
        v[MKD_SUA_INTERVAL_MS] = mkd_val_u(b->su_interval_ms);
        v[MKD_SUA_MAX_GROUPS] = mkd_val_u(MKD_SELF_UPDATE_BATCH);
        if (b_call_engine(b, K_SELF_UPDATE, MKD_E_SELF_UPDATE, NULL, NULL, 0, v) == 0)
                b->su_inflight = true;
}

/* Hands one stored object to the engine. */
static int
load_object(void *ud, const struct mkd_store_object *o)
{
        struct broker *b = ud;
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_val v[4];
        struct b_call *c;
        int r;

        mls_writer_init(&w);
        v[MKD_LOAD_TYPE] = mkd_val_u(o->type);
        v[MKD_LOAD_ID] = mkd_val_bytes(o->id, o->id_len);
        v[MKD_LOAD_VERSION] = mkd_val_u(o->version);
        v[MKD_LOAD_BLOB] = mkd_val_bytes(o->blob, o->blob_len);
        r = mkd_proto_encode(&w, mkd_proto_engine_op(MKD_E_LOAD)->args, v);
        if (r < 0) {
                mkd_log_code(MKD_LOG_WARNING, r, "%s: refused", o->path);
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return MLS_E_NOMEM;
        c->kind = K_LOAD;
        c->op = MKD_E_LOAD;
        snprintf(c->path, sizeof(c->path), "%s", o->path);
        return engine_push(b, c, w.buf, w.len, 0);
}

static void
load_problem(void *ud, const char *path, const char *reason)
{
        (void)ud;
        mkd_log_warning("state file %s refused: %s", path, reason);
}

static int
children_start(struct broker *b)
{
        int be[2] = { -1, -1 }, ev[2] = { -1, -1 }, dirfd;
        struct b_call *c;
        pid_t pid;
        int r;

        b->restart_at = 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, be) < 0)
                return MLS_E_INTERNAL;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ev) < 0) {
                close(be[0]);
                close(be[1]);
                return MLS_E_INTERNAL;
        }
        dirfd = fcntl(mkd_store_dirfd(b->store), F_DUPFD_CLOEXEC, 3);
        pid = dirfd < 0 ? -1 : fork();
        if (pid == 0) {
                int fds[2] = { ev[1], dirfd };

                child_exec(b, "--vault", fds, 2);
        }
        b->vault_pid = pid;
        if (pid > 0) {
                pid = fork();
                if (pid == 0) {
                        int fds[2] = { be[1], ev[0] };

                        child_exec(b, "--engine", fds, 2);
                }
                b->engine_pid = pid;
        }
        close(be[1]);
        close(ev[0]);
        close(ev[1]);
        if (dirfd >= 0)
                close(dirfd);
        if (b->vault_pid <= 0 || b->engine_pid <= 0) {
                mkd_log_err("cannot start the children: %s", strerror(errno));
                close(be[0]);
                if (b->vault_pid > 0)
                        kill(b->vault_pid, SIGKILL);
                b->restart_at = b_now_ms() + BACKOFF_MAX_MS;
                return MLS_E_INTERNAL;
        }
        b->engine_fd = be[0];
        (void)fcntl(b->engine_fd, F_SETFL, O_NONBLOCK);
        mkd_ipc_rbuf_init(&b->rb, 0, false);
        mkd_ipc_sendq_init(&b->sq, false);
        b->state = CH_LOADING;
        b->started_at = b_now_ms();
        b->restarts++;
        mkd_log_info("engine %d and vault %d started", (int)b->engine_pid, (int)b->vault_pid);

        /* Everything stored, then the end of loading. */
        r = mkd_store_load_all(b->store, load_object, load_problem, b);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "reading the state directory");
                children_stop(b, "the state directory cannot be read");
                return r;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return MLS_E_NOMEM;
        c->kind = K_LOAD_DONE;
        c->op = MKD_E_LOAD_DONE;
        return engine_push(b, c, NULL, 0, 0);
}

/* Encodes and queues a request; the call joins the in-flight list. */
static int
engine_push(struct broker *b, struct b_call *c, const uint8_t *args, size_t len, uint32_t uid)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_ipc_request req;
        int r;

        mls_writer_init(&w);
        c->id = ++b->next_id;
        req = (struct mkd_ipc_request){
                .id = c->id, .op = c->op, .caller_uid = uid, .args = args, .args_len = len,
        };
        r = mkd_ipc_request_write(&w, &req);
        if (r == 0)
                r = mkd_ipc_sendq_push(&b->sq, &w);
        if (r < 0) {
                if (c->msg)
                        b_reply_error(b, c->msg, r, "the request cannot be sent to the engine");
                call_free(c);
                return r;
        }
        if (b->inflight_tail)
                b->inflight_tail->next = c;
        else
                b->inflight = c;
        b->inflight_tail = c;
        return 0;
}

int
b_call_engine(struct broker *b, enum b_kind kind, uint16_t op, DBusMessage *msg,
              const uint8_t obj[B_ID_LEN], uint32_t uid, const struct mkd_val *args)
{
        _mls_writer_ struct mls_writer w = { 0 };
        const struct mkd_op *o = mkd_proto_engine_op(op);
        struct b_call *c;
        int r;

        mls_writer_init(&w);
        r = mkd_proto_encode(&w, o->args, args);
        if (r < 0) {
                b_reply_error(b, msg, MLS_E_INVALID_ARGUMENT, "an argument is too large");
                return r;
        }
        if (b->state != CH_READY) {
                b_reply_error(b, msg, MLS_E_IO, "the engine is not running");
                return MLS_E_IO;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                b_reply_error(b, msg, MLS_E_NOMEM, "out of memory");
                return MLS_E_NOMEM;
        }
        c->kind = kind;
        c->op = op;
        c->msg = msg ? dbus_message_ref(msg) : NULL; /* NULL: an internal request */
        if (obj)
                memcpy(c->obj, obj, B_ID_LEN);
        return engine_push(b, c, w.buf, w.len, uid);
}

static void
run_waiting(struct broker *b)
{
        DBusMessage **w = b->waiting;
        size_t n = b->n_waiting;

        b->waiting = NULL;
        b->n_waiting = 0;
        for (size_t i = 0; i < n; i++) {
                b_handle_message(b, w[i]);
                dbus_message_unref(w[i]);
        }
        free(w);
}

static void
load_done(struct broker *b, const struct mkd_val *res)
{
        struct mkd_list_iter it;
        const uint8_t *p;
        size_t len;

        index_clear(b);
        mkd_list_iter_init(&it, &res[MKD_IDX_IDENTITIES]);
        while (mkd_list_next_bytes(&it, &p, &len))
                if (b_index_put_identity(b, p, len, NULL) < 0)
                        mkd_log_err("engine index: a malformed identity");
        mkd_list_iter_init(&it, &res[MKD_IDX_GROUPS]);
        while (mkd_list_next_bytes(&it, &p, &len))
                if (b_index_put_group(b, p, len, NULL) < 0)
                        mkd_log_err("engine index: a malformed group");
        b->indexed = true;
        b->state = CH_READY;
        mkd_log_info("loaded %zu identities and %zu groups", b->n_ids, b->n_groups);
        /* The [update] timer: a first look right after loading. */
        if (b->su_interval_ms)
                b->su_next = b_now_ms();
}

/*
 * The engine's replies are taken in batches (group commit): every reply
 * waiting in the socket (up to REPLY_BATCH) is parsed, the writes of all
 * of them are made durable in one step (mkd_store_apply: an object written
 * by several replies is written once, each folder synced once), and only
 * then is any of them answered. While the broker waits for one fsync, the
 * engine goes on with the requests queued behind it, so under load a
 * batch grows by itself; alone, a request is a batch of one.
 */
#define REPLY_BATCH 64

struct b_reply {
        struct mkd_ipc_frame f;
        struct mkd_ipc_reply rep;
        struct b_call *c;
        const struct mkd_op *op;
        int status;
        struct mkd_val res[MKD_PROTO_MAX_FIELDS];
};

static void
reply_clear(struct b_reply *p)
{
        mkd_ipc_reply_clear(&p->rep);
        mkd_ipc_frame_clear(&p->f);
        call_free(p->c);
        p->c = NULL;
}

/* A call that will not be completed: its caller (if any) hears why. */
static void
reply_fail(struct broker *b, struct b_reply *p, int e, const char *why)
{
        if (p->c && p->c->msg)
                b_reply_error(b, p->c->msg, e, "%s", why);
        if (p->c && p->c->kind == K_SELF_UPDATE)
                b->su_inflight = false;
        reply_clear(p);
}

/* Parses p->f and takes its call off the in-flight list. On a reply that
 * does not fit, returns the reason to stop the engine (p is cleared). */
static const char *
reply_parse(struct broker *b, struct b_reply *p)
{
        struct b_call *c = b->inflight;

        if (mkd_ipc_reply_parse(p->f.data, p->f.len, &p->rep) < 0 || !c || p->rep.id != c->id) {
                reply_clear(p);
                return "malformed or unexpected reply from the engine";
        }
        b->inflight = c->next;
        if (!b->inflight)
                b->inflight_tail = NULL;
        p->c = c;
        p->op = mkd_proto_engine_op(c->op);
        p->status = mkd_ipc_err_from_status(p->rep.status);
        if (p->status == 0 &&
            mkd_proto_decode(p->op->result, p->rep.result, p->rep.result_len, p->res) < 0) {
                reply_fail(b, p, MLS_E_IO, "the engine's answer was malformed; it is restarted");
                return "malformed result from the engine";
        }
        if (p->status < 0 && p->rep.n_writes) {
                reply_fail(b, p, MLS_E_IO, "the engine's answer was malformed; it is restarted");
                return "writes in a failed reply";
        }
        return NULL;
}

/* Write-ahead: the writes of replies p[0..n), in reply order, durable
 * before anybody hears of any of them. */
static int
replies_store(struct broker *b, const struct b_reply *p, size_t n)
{
        _mls_free_ struct mkd_ipc_write *w = NULL;
        struct mkd_seal_header mh;
        bool manifest = false;
        size_t nw = 0, k = 0;
        int r;

        for (size_t i = 0; i < n; i++)
                nw += p[i].rep.n_writes;
        if (nw == 0)
                return 0;
        w = calloc(nw, sizeof(*w));
        if (!w)
                return MLS_E_NOMEM;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < p[i].rep.n_writes; j++) {
                        const struct mkd_ipc_write *o = &p[i].rep.writes[j];

                        w[k++] = *o;
                        /* The newest manifest's counter, from its public
                         * sealed header (authenticated by the vault when it
                         * is opened). */
                        if (o->type == MKD_OBJ_MANIFEST && !o->del &&
                            mkd_seal_header_parse(o->blob, o->blob_len, &mh) == 0)
                                manifest = true;
                }
#ifdef MKD_TEST_OPS
        if (b->test_fail_writes) {
                /* fault injection: as if the first file could not be
                 * written (a full disk): nothing of the batch is stored */
                b->test_fail_writes--;
                r = MLS_E_STORAGE;
        } else
#endif
                r = mkd_store_apply(b->store, w, nw);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "storing the results of %zu request%s", n,
                             n == 1 ? "" : "s");
                return r;
        }
        /* The rollback counter may follow the manifest now that it is on
         * disk (never before: see vault.c, ROLLBACK). */
        if (manifest)
                counter_sync(b, mh.counter);
        return 0;
}

/* What a durable reply does: answer its caller, or the broker's own
 * bookkeeping. Returns the reason to stop the engine, or NULL. */
static const char *
reply_finish(struct broker *b, struct b_reply *p)
{
        struct b_call *c = p->c;
        const char *stop = NULL;

        if (c->kind == K_COUNTER_SYNC) {
                if (p->status < 0)
                        mkd_log_code(MKD_LOG_ERR, p->status, "raising the rollback counter");
        } else if (c->kind == K_SELF_UPDATE) {
                b->su_inflight = false;
                if (p->status < 0)
                        mkd_log_code(MKD_LOG_ERR, p->status, "automatic self-update");
                else
                        b_self_updates(b, p->res);
                /* More groups due: ask again at once (requests queued
                 * meanwhile go first). */
                b->su_next = b_now_ms() +
                             (p->status == 0 && p->res[MKD_SUR_MORE].u ? 0 : b->su_period_ms);
        } else if (c->kind == K_LOAD) {
                if (p->status < 0)
                        mkd_log_code(MKD_LOG_WARNING, p->status, "state file %s refused", c->path);
        } else if (c->kind == K_LOAD_DONE) {
                if (p->status < 0)
                        stop = "loading failed";
                else
                        load_done(b, p->res);
        } else {
                b_complete(b, c, p->status, p->status == 0 ? p->res : NULL);
        }
        reply_clear(p);
        return stop;
}

static void
engine_io(struct broker *b, short revents)
{
        struct b_reply *batch;
        const char *stop = NULL, *finish_stop = NULL;
        size_t n = 0;
        int r;

        if (revents & POLLOUT) {
                r = mkd_ipc_sendq_flush(&b->sq, b->engine_fd);
                if (r < 0) {
                        children_stop(b, "the engine socket failed");
                        return;
                }
        }
        if (!(revents & (POLLIN | POLLHUP | POLLERR)))
                return;
        if (!b->replies) {
                b->replies = calloc(REPLY_BATCH, sizeof(*b->replies));
                if (!b->replies) {
                        children_stop(b, "out of memory");
                        return;
                }
        }
        batch = b->replies;
        while (n < REPLY_BATCH) {
                struct b_reply *p = &batch[n];

                *p = (struct b_reply){ .c = NULL };
                r = mkd_ipc_recv(&b->rb, b->engine_fd, &p->f);
                if (r == MKD_IPC_AGAIN)
                        break;
                if (r == MKD_IPC_EOF || r < 0) {
                        stop = r == MKD_IPC_EOF ? "the engine exited" : "the engine connection failed";
                        break;
                }
                stop = reply_parse(b, p);
                if (stop)
                        break;
                n++;
        }
        /* The replies before a bad frame (or the end of the stream) are
         * good: they are stored and answered, then the engine stops. */
        r = replies_store(b, batch, n);
        for (size_t i = 0; i < n; i++) {
                if (r < 0)
                        reply_fail(b, &batch[i], batch[i].rep.n_writes ? MLS_E_STORAGE : MLS_E_IO,
                                   batch[i].rep.n_writes
                                           ? "the new state could not be stored durably"
                                           : "the engine stopped before answering; the request "
                                             "was not completed");
                else if (finish_stop)
                        /* after a failed load nothing more is answered */
                        reply_fail(b, &batch[i], MLS_E_IO,
                                   "the engine stopped before answering; the request was not "
                                   "completed");
                else
                        finish_stop = reply_finish(b, &batch[i]);
        }
        if (r < 0)
                stop = "a write failed; reloading the last durable state";
        else if (finish_stop)
                stop = finish_stop;
        if (stop)
                children_stop(b, stop);
        else if (b->state == CH_READY && b->n_waiting)
                run_waiting(b);
}

static void
reap(struct broker *b)
{
        for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, WNOHANG);

                if (pid <= 0)
                        return;
                if (pid == b->engine_pid || pid == b->vault_pid) {
                        const char *who = pid == b->engine_pid ? "engine" : "vault";

                        if (WIFSIGNALED(st))
                                mkd_log_warning("%s %d killed by signal %d", who, (int)pid,
                                                WTERMSIG(st));
                        else
                                mkd_log_info("%s %d exited with status %d", who, (int)pid,
                                             WEXITSTATUS(st));
                        /* The vault refused the storage key (no TPM under
                         * require, PCRs changed, ...): a restart would
                         * refuse again. The reason is in its log lines. */
                        if (pid == b->vault_pid && WIFEXITED(st) &&
                            WEXITSTATUS(st) == MKD_EXIT_CONFIG) {
                                mkd_log_err("refusing to run: the vault cannot open the storage "
                                            "key (see above)");
                                b->quit = true;
                                b->exit_code = MKD_EXIT_CONFIG;
                        }
                        if (pid == b->engine_pid)
                                b->engine_pid = 0;
                        else
                                b->vault_pid = 0;
                        children_stop(b, "a child exited");
                }
        }
}

/* ---- libdbus main loop integration ---- */

static dbus_bool_t
watch_add(DBusWatch *w, void *data)
{
        struct broker *b = data;
        DBusWatch **n = realloc(b->watches, (b->n_watches + 1) * sizeof(*n));

        if (!n)
                return FALSE;
        b->watches = n;
        b->watches[b->n_watches++] = w;
        return TRUE;
}

static void
watch_remove(DBusWatch *w, void *data)
{
        struct broker *b = data;

        for (size_t i = 0; i < b->n_watches; i++)
                if (b->watches[i] == w) {
                        b->watches[i] = b->watches[--b->n_watches];
                        return;
                }
}

static void
watch_toggled(DBusWatch *w, void *data)
{
        (void)w;
        (void)data;
}

struct tdata {
        uint64_t deadline;
};

static void
tdata_free(void *p)
{
        free(p);
}

static void
timeout_arm(DBusTimeout *t)
{
        struct tdata *d = dbus_timeout_get_data(t);

        if (d)
                d->deadline = b_now_ms() + (uint64_t)dbus_timeout_get_interval(t);
}

static dbus_bool_t
timeout_add(DBusTimeout *t, void *data)
{
        struct broker *b = data;
        DBusTimeout **n;
        struct tdata *d = calloc(1, sizeof(*d));

        if (!d)
                return FALSE;
        n = realloc(b->timeouts, (b->n_timeouts + 1) * sizeof(*n));
        if (!n) {
                free(d);
                return FALSE;
        }
        dbus_timeout_set_data(t, d, tdata_free);
        timeout_arm(t);
        b->timeouts = n;
        b->timeouts[b->n_timeouts++] = t;
        return TRUE;
}

static void
timeout_remove(DBusTimeout *t, void *data)
{
        struct broker *b = data;

        for (size_t i = 0; i < b->n_timeouts; i++)
                if (b->timeouts[i] == t) {
                        b->timeouts[i] = b->timeouts[--b->n_timeouts];
                        return;
                }
}

static void
timeout_toggled(DBusTimeout *t, void *data)
{
        (void)data;
        timeout_arm(t);
}

static DBusHandlerResult
on_message(DBusConnection *conn, DBusMessage *msg, void *data)
{
        struct broker *b = data;

        (void)conn;
        if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
                mkd_log_err("lost the bus connection");
                b->quit = true;
                b->exit_code = 1;
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged")) {
                const char *name, *old, *new;

                if (dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
                                          &old, DBUS_TYPE_STRING, &new, DBUS_TYPE_INVALID) &&
                    name[0] == ':' && new[0] == '\0')
                        b_caller_forget(b, name);
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        }
        if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameLost")) {
                const char *name;

                if (dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID) &&
                    strcmp(name, MKD_BUS_NAME) == 0) {
                        mkd_log_err("lost the bus name %s", MKD_BUS_NAME);
                        b->quit = true;
                        b->exit_code = 1;
                }
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        }
        if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (b->state != CH_READY || !b->indexed) {
                DBusMessage **n = realloc(b->waiting, (b->n_waiting + 1) * sizeof(*n));

                if (n)
                        b->waiting = n;
                if (!n || b->n_waiting >= 4096) {
                        b_reply_error(b, msg, MLS_E_IO, "the engine is restarting; try again");
                        return DBUS_HANDLER_RESULT_HANDLED;
                }
                b->waiting = n;
                b->waiting[b->n_waiting++] = dbus_message_ref(msg);
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        b_handle_message(b, msg);
        return DBUS_HANDLER_RESULT_HANDLED;
}

static int
bus_connect(struct broker *b)
{
        DBusError err;
        int r;

        dbus_error_init(&err);
        if (b->opt.bus_address) {
                b->conn = dbus_connection_open_private(b->opt.bus_address, &err);
                if (b->conn && !dbus_bus_register(b->conn, &err)) {
                        dbus_connection_close(b->conn);
                        dbus_connection_unref(b->conn);
                        b->conn = NULL;
                }
        } else {
                b->conn = dbus_bus_get_private(b->opt.bus == MKD_BUS_SYSTEM ? DBUS_BUS_SYSTEM
                                                                           : DBUS_BUS_SESSION,
                                               &err);
        }
        if (!b->conn) {
                mkd_log_err("cannot connect to the bus: %s", err.message ? err.message : "?");
                dbus_error_free(&err);
                return MLS_E_IO;
        }
        dbus_connection_set_exit_on_disconnect(b->conn, FALSE);
        if (!dbus_connection_set_watch_functions(b->conn, watch_add, watch_remove, watch_toggled, b,
                                                 NULL) ||
            !dbus_connection_set_timeout_functions(b->conn, timeout_add, timeout_remove,
                                                   timeout_toggled, b, NULL) ||
            !dbus_connection_add_filter(b->conn, on_message, b, NULL))
                return MLS_E_NOMEM;
        dbus_bus_add_match(b->conn,
                           "type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS
                           "',member='NameOwnerChanged'",
                           &err);
        if (dbus_error_is_set(&err)) {
                mkd_log_err("cannot watch bus names: %s", err.message);
                dbus_error_free(&err);
                return MLS_E_IO;
        }
        r = dbus_bus_request_name(b->conn, MKD_BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);
        if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
                mkd_log_err("cannot own %s: %s", MKD_BUS_NAME,
                            dbus_error_is_set(&err) ? err.message : "another instance runs");
                dbus_error_free(&err);
                return MLS_E_IO;
        }
        return 0;
}

/* ---- the loop ---- */

static void
loop(struct broker *b, int sigfd)
{
        while (!b->quit) {
                size_t nw = b->n_watches, np = 0;
                _mls_free_ struct pollfd *pfd = calloc(nw + 2, sizeof(*pfd));
                _mls_free_ DBusWatch **snap = calloc(nw + 1, sizeof(*snap));
                uint64_t now = b_now_ms(), next = UINT64_MAX;
                int timeout, engine_slot = -1, r;
                bool staged;

                if (!pfd || !snap) {
                        mkd_log_err("out of memory");
                        b->exit_code = 1;
                        return;
                }
                for (size_t i = 0; i < nw; i++) {
                        DBusWatch *w = b->watches[i];
                        unsigned fl = dbus_watch_get_flags(w);

                        if (!dbus_watch_get_enabled(w))
                                continue;
                        pfd[np].fd = dbus_watch_get_unix_fd(w);
                        pfd[np].events = (short)(((fl & DBUS_WATCH_READABLE) ? POLLIN : 0) |
                                                 ((fl & DBUS_WATCH_WRITABLE) ? POLLOUT : 0));
                        snap[np++] = w;
                }
                pfd[np].fd = sigfd;
                pfd[np++].events = POLLIN;
                if (b->engine_fd >= 0) {
                        engine_slot = (int)np;
                        pfd[np].fd = b->engine_fd;
                        pfd[np++].events = (short)(POLLIN | (mkd_ipc_sendq_empty(&b->sq) ? 0 : POLLOUT));
                }
                for (size_t i = 0; i < b->n_timeouts; i++) {
                        struct tdata *d = dbus_timeout_get_data(b->timeouts[i]);

                        if (dbus_timeout_get_enabled(b->timeouts[i]) && d && d->deadline < next)
                                next = d->deadline;
                }
                if (b->state == CH_DOWN && b->restart_at && b->restart_at < next)
                        next = b->restart_at;
                if (b->state == CH_READY && b->su_next && !b->su_inflight && b->su_next < next)
                        next = b->su_next;
                timeout = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
                /* Replies already read ahead (engine_io stops after 64) do
                 * not make the socket readable: do not wait for them. */
                staged = engine_slot >= 0 && mkd_ipc_rbuf_buffered(&b->rb);
                if (staged)
                        timeout = 0;
                r = 0;
                /* One request with the engine and nothing else to do: its
                 * reply is due within tens of microseconds. */
                if (b->policy.busy_poll && timeout != 0 && b->inflight &&
                    b->inflight == b->inflight_tail)
                        r = busy_poll(pfd, np, b->policy.busy_poll);
                if (r == 0)
                        r = poll(pfd, np, timeout);
                if (r < 0 && errno != EINTR) {
                        mkd_log_err("poll: %s", strerror(errno));
                        b->exit_code = 1;
                        return;
                }
                for (size_t i = 0; r > 0 && i < np; i++) {
                        if (!pfd[i].revents || i >= nw)
                                continue;
                        for (size_t k = 0; k < b->n_watches; k++)
                                if (b->watches[k] == snap[i] && dbus_watch_get_enabled(snap[i])) {
                                        unsigned fl = 0;

                                        if (pfd[i].revents & POLLIN)
                                                fl |= DBUS_WATCH_READABLE;
                                        if (pfd[i].revents & POLLOUT)
                                                fl |= DBUS_WATCH_WRITABLE;
                                        if (pfd[i].revents & POLLHUP)
                                                fl |= DBUS_WATCH_HANGUP;
                                        if (pfd[i].revents & POLLERR)
                                                fl |= DBUS_WATCH_ERROR;
                                        dbus_watch_handle(snap[i], fl);
                                        break;
                                }
                }
                /* signals */
                for (size_t i = 0; r > 0 && i < np; i++) {
                        struct signalfd_siginfo si;

                        if (pfd[i].fd != sigfd || !(pfd[i].revents & POLLIN))
                                continue;
                        while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                                if (si.ssi_signo == SIGCHLD)
                                        reap(b);
                                else {
                                        mkd_log_info("signal %u: stopping", si.ssi_signo);
                                        b->quit = true;
                                }
                        }
                }
                if (engine_slot >= 0 && (pfd[engine_slot].revents || staged) &&
                    b->engine_fd == pfd[engine_slot].fd)
                        engine_io(b, pfd[engine_slot].revents | (staged ? POLLIN : 0));
                now = b_now_ms();
                for (size_t i = 0; i < b->n_timeouts; i++) {
                        DBusTimeout *t = b->timeouts[i];
                        struct tdata *d = dbus_timeout_get_data(t);

                        if (dbus_timeout_get_enabled(t) && d && d->deadline <= now) {
                                timeout_arm(t);
                                dbus_timeout_handle(t);
                                break; /* the list may have changed */
                        }
                }
                if (b->state == CH_DOWN && b->restart_at && b->restart_at <= now && !b->quit &&
                    children_start(b) < 0)
                        mkd_log_err("restarting the children failed");
                if (b->state == CH_READY && b->su_next && !b->su_inflight && b->su_next <= now &&
                    !b->quit)
                        self_update_tick(b);
                while (dbus_connection_get_dispatch_status(b->conn) == DBUS_DISPATCH_DATA_REMAINS)
                        dbus_connection_dispatch(b->conn);
                /* Requests queued by the handlers: try to send now. */
                if (b->engine_fd >= 0 && !mkd_ipc_sendq_empty(&b->sq) &&
                    mkd_ipc_sendq_flush(&b->sq, b->engine_fd) < 0)
                        children_stop(b, "the engine socket failed");
        }
}

const char *
mkd_default_state_dir(enum mkd_bus_kind bus, char *buf, size_t len)
{
        const char *x, *home;

        if (bus == MKD_BUS_SYSTEM)
                return "/var/lib/mlskeyd";
        x = getenv("XDG_DATA_HOME");
        if (x && x[0] == '/') {
                snprintf(buf, len, "%s/mlskeyd", x);
                return buf;
        }
        home = getenv("HOME");
        if (!home || home[0] != '/')
                return NULL;
        snprintf(buf, len, "%s/.local/share", home);
        /* Create the parents of a per-user default (0700). */
        {
                char tmp[4096];

                snprintf(tmp, sizeof(tmp), "%s/.local", home);
                (void)mkdir(tmp, 0700);
                (void)mkdir(buf, 0700);
        }
        snprintf(buf, len, "%s/.local/share/mlskeyd", home);
        return buf;
}

int
mkd_broker_main(const struct mkd_broker_options *opt)
{
        struct broker b = { .opt = *opt, .engine_fd = -1, .self_exe_fd = -1 };
        char err[MKD_POLICY_ERR_MAX], dirbuf[4096];
        const char *dir;
        sigset_t mask;
        int sigfd, r;

        mkd_log_set_proc(MKD_LOG_BROKER);
        r = mkd_policy_load(opt->config ? opt->config : MKD_POLICY_PATH, &b.policy, err);
        if (r < 0) {
                mkd_log_err("refusing to start: %s", err);
                return 1;
        }
        self_update_setup(&b);
        dir = opt->state_dir ? opt->state_dir : mkd_default_state_dir(opt->bus, dirbuf, sizeof(dirbuf));
        if (!dir) {
                mkd_log_err("no state directory: set --state-dir, XDG_DATA_HOME or HOME");
                return 1;
        }
        r = mkd_store_open(dir, &b.store);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "state directory %s", dir);
                return 1;
        }
        /* One daemon (or administrative command) per state directory. */
        if (flock(mkd_store_dirfd(b.store), LOCK_EX | LOCK_NB) < 0) {
                mkd_log_err("state directory %s is in use by another mlskeyd (%s)", dir,
                            strerror(errno));
                return 1;
        }
        b.self_exe_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
        if (b.self_exe_fd < 0) {
                mkd_log_err("cannot open /proc/self/exe: %s", strerror(errno));
                return 1;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sigfd < 0) {
                mkd_log_err("signalfd: %s", strerror(errno));
                return 1;
        }
        if (bus_connect(&b) < 0)
                return 1;
        r = children_start(&b);
        if (r < 0 && b.state == CH_DOWN && !b.restart_at)
                return 1;
        r = mkd_sandbox_enter_broker(b.policy.seccomp, b.self_exe_fd);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "cannot enter the broker sandbox");
                return 1;
        }
        mkd_log_info("mlskeyd %s on the %s bus, state in %s", PACKAGE_VERSION,
                     opt->bus_address ? "given" : opt->bus == MKD_BUS_SYSTEM ? "system" : "session",
                     dir);
        b.exit_code = 0;
        loop(&b, sigfd);

        /* Shutdown: the children see EOF and exit. */
        if (b.engine_fd >= 0)
                close(b.engine_fd);
        b.engine_fd = -1;
        fail_inflight(&b, MLS_E_IO, "the daemon is stopping");
        for (size_t i = 0; i < b.n_waiting; i++) {
                b_reply_error(&b, b.waiting[i], MLS_E_IO, "the daemon is stopping");
                dbus_message_unref(b.waiting[i]);
        }
        free(b.waiting);
        if (b.conn) {
                dbus_connection_flush(b.conn);
                dbus_connection_close(b.conn);
                dbus_connection_unref(b.conn);
        }
        for (int i = 0; i < 20 && (b.engine_pid > 0 || b.vault_pid > 0); i++) {
                pid_t p = waitpid(-1, NULL, WNOHANG);

                if (p == b.engine_pid)
                        b.engine_pid = 0;
                else if (p == b.vault_pid)
                        b.vault_pid = 0;
                else if (p <= 0)
                        usleep(50000);
        }
        if (b.engine_pid > 0)
                kill(b.engine_pid, SIGKILL);
        if (b.vault_pid > 0)
                kill(b.vault_pid, SIGKILL);
        mkd_ipc_rbuf_clear(&b.rb);
        mkd_ipc_sendq_clear(&b.sq);
        free(b.replies);
        index_clear(&b);
        for (size_t i = 0; i < b.n_callers; i++)
                b_caller_free(b.callers[i]);
        free(b.callers);
        free(b.watches);
        free(b.timeouts);
        mkd_store_free(b.store);
        close(b.self_exe_fd);
        close(sigfd);
        return b.exit_code;
}
