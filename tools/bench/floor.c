/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor of the daemon's architecture, for `mlskey-bench dbus`: a
 * skeleton with the same processes and hops as an Encrypt call and none of
 * its work.
 *
 *   client ─D-Bus─▶ "broker" ──socketpair──▶ "engine" ──socketpair──▶ "vault"
 *
 * The broker is a libdbus service (blocking dispatch, no ACL, no storage),
 * the engine forwards the payload to the vault and returns it with the
 * vault's answer, the vault signs it with Ed25519 (libsodium, as suite 1's
 * real vault does) or, for the hops-only method, answers 64 zero bytes. No
 * MLS, no sealing, no seccomp. Whatever mlskeyd adds above this floor is its
 * own cost; the floor itself is what DESIGN.md section 2 (three processes,
 * signature keys only in the vault, RFC 9420 section 6.1: every
 * application message is signed) costs on this machine.
 */
#include "config.h"

#include <dbus/dbus.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mls/codec.h"
#include "tools/bench/bench.h"

#define FLOOR_MAX 65536

static int
io_all(int fd, void *p, size_t n, bool wr)
{
        uint8_t *b = p;

        while (n) {
                ssize_t k = wr ? write(fd, b, n) : read(fd, b, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                b += k;
                n -= (size_t)k;
        }
        return 0;
}

/* A frame: u8 op (0 hops only, 1 sign), u32 length (big-endian, as the
 * daemon's codec), payload. */
static int
frame_read(int fd, uint8_t *op, uint8_t *buf, uint32_t *len)
{
        uint8_t h[5];
        struct mls_reader r;

        if (io_all(fd, h, sizeof(h), false) < 0)
                return -1;
        mls_reader_init(&r, h, sizeof(h));
        if (mls_reader_u8(&r, op) < 0 || mls_reader_u32(&r, len) < 0 || *len > FLOOR_MAX)
                return -1;
        return io_all(fd, buf, *len, false);
}

static int
frame_write(int fd, uint8_t op, const uint8_t *buf, uint32_t len)
{
        uint8_t h[5] = { op, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                         (uint8_t)len };
        struct iovec iov[2] = { { h, sizeof(h) }, { (void *)buf, len } };
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
        ssize_t k = sendmsg(fd, &m, MSG_NOSIGNAL);
        size_t done;

        if (k < 0)
                return -1;
        /* one call in practice; the rest of a short write follows */
        done = (size_t)k;
        if (done < sizeof(h) &&
            io_all(fd, h + done, sizeof(h) - done, true) < 0)
                return -1;
        done = done < sizeof(h) ? 0 : done - sizeof(h);
        return io_all(fd, (uint8_t *)(uintptr_t)buf + done, len - done, true);
}

static void __attribute__((noreturn))
vault_main(int fd)
{
        static uint8_t buf[FLOOR_MAX];
        uint8_t pk[crypto_sign_PUBLICKEYBYTES], *sk, sig[crypto_sign_BYTES], op;
        uint32_t len;

        sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
        if (!sk)
                _exit(1);
        crypto_sign_keypair(pk, sk);
        while (frame_read(fd, &op, buf, &len) == 0) {
                if (op == 1)
                        crypto_sign_detached(sig, NULL, buf, len, sk);
                else
                        memset(sig, 0, sizeof(sig));
                if (frame_write(fd, op, sig, sizeof(sig)) < 0)
                        break;
        }
        _exit(0);
}

static void __attribute__((noreturn))
engine_main(int broker, int vault)
{
        static uint8_t buf[FLOOR_MAX + 64];
        uint8_t op, op2;
        uint32_t len, sl;

        while (frame_read(broker, &op, buf, &len) == 0) {
                if (frame_write(vault, op, buf, len) < 0 ||
                    frame_read(vault, &op2, buf + len, &sl) < 0 || sl != 64 ||
                    frame_write(broker, op, buf, len + sl) < 0)
                        break;
        }
        _exit(0);
}

struct broker {
        int engine;
        unsigned busy_poll_us; /* as the daemon's [performance] busy_poll */
        uint8_t buf[FLOOR_MAX + 64];
};

static DBusHandlerResult
broker_filter(DBusConnection *c, DBusMessage *m, void *ud)
{
        struct broker *b = ud;
        DBusMessageIter it, sub;
        const uint8_t *p = NULL, *out = b->buf;
        DBusMessage *r;
        uint8_t op;
        uint32_t len;
        int n = 0;

        if (dbus_message_is_method_call(m, BENCH_FLOOR_IFACE, "Ping")) {
                /* the bare call, answered by a process of its own */
                r = dbus_message_new_method_return(m);
                if (!r)
                        _exit(1);
                dbus_connection_send(c, r, NULL);
                dbus_message_unref(r);
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_method_call(m, BENCH_FLOOR_IFACE, "Hops"))
                op = 0;
        else if (dbus_message_is_method_call(m, BENCH_FLOOR_IFACE, "Sign"))
                op = 1;
        else
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (!dbus_message_iter_init(m, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY ||
            dbus_message_iter_get_element_type(&it) != DBUS_TYPE_BYTE)
                _exit(1);
        dbus_message_iter_recurse(&it, &sub);
        dbus_message_iter_get_fixed_array(&sub, &p, &n);
        if (n < 0 || n > FLOOR_MAX || frame_write(b->engine, op, p, (uint32_t)n) < 0)
                _exit(1);
        if (b->busy_poll_us) {
                struct pollfd pfd = { .fd = b->engine, .events = POLLIN };
                uint64_t end = bench_now_ns() + (uint64_t)b->busy_poll_us * 1000;

                while (poll(&pfd, 1, 0) == 0 && bench_now_ns() < end)
                        ;
        }
        if (frame_read(b->engine, &op, b->buf, &len) < 0)
                _exit(1);
        r = dbus_message_new_method_return(m);
        n = (int)len;
        if (!r || !dbus_message_append_args(r, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &out, n,
                                            DBUS_TYPE_INVALID))
                _exit(1);
        dbus_connection_send(c, r, NULL);
        dbus_message_unref(r);
        return DBUS_HANDLER_RESULT_HANDLED;
}

pid_t
bench_floor_start(const char *addr, unsigned busy_poll_us)
{
        int be[2], ev[2];
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, be) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ev) < 0)
                return -1;
        pid = fork();
        if (pid != 0) {
                close(be[0]);
                close(be[1]);
                close(ev[0]);
                close(ev[1]);
                return pid;
        }
        /* the broker; it forks the other two */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fork() == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(be[0]);
                close(be[1]);
                close(ev[0]);
                vault_main(ev[1]);
        }
        if (fork() == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(be[0]);
                close(ev[1]);
                engine_main(be[1], ev[0]);
        }
        close(be[1]);
        close(ev[0]);
        close(ev[1]);
        {
                static struct broker b;
                DBusError e;
                DBusConnection *c;

                b.engine = be[0];
                b.busy_poll_us = busy_poll_us;
                dbus_error_init(&e);
                c = dbus_connection_open_private(addr, &e);
                if (!c || !dbus_bus_register(c, &e) ||
                    dbus_bus_request_name(c, BENCH_FLOOR_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &e) !=
                            DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER ||
                    !dbus_connection_add_filter(c, broker_filter, &b, NULL))
                        _exit(1);
                dbus_connection_set_exit_on_disconnect(c, FALSE);
                while (dbus_connection_read_write_dispatch(c, -1))
                        ;
        }
        _exit(0);
}
