/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of daemon/sandbox with real seccomp filters, each in a forked
 * child: the engine runs real engine code under its allowlist; forbidden
 * calls (open, socket, PROT_EXEC mappings, file mappings, I/O on other fds,
 * fork, exec, ptrace) kill it with SIGSYS; /proc shows Seccomp 2 and
 * NoNewPrivs 1; log mode lets a forbidden call through; the vault's extra
 * calls; the broker's deny-list and its single allowed exec.
 *
 * A child never returns into cmocka: it reports through its exit status
 * (0 = all its checks passed, otherwise the number of the failed check).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "daemon/ipc.h"
#include "daemon/log.h"
#include "daemon/sandbox.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/labeled.h"
#include "mls/secret.h"

#define CHECK(n, cond)                          \
        do {                                    \
                if (!(cond))                    \
                        _exit(n);               \
        } while (0)

/* Runs fn(arg) in a child; returns its wait status. */
static int
run_child(void (*fn)(int fd, void *arg), int fd, void *arg)
{
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                fn(fd, arg);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static void
assert_exited_ok(int status)
{
        if (WIFSIGNALED(status))
                print_error("child killed by signal %d\n", WTERMSIG(status));
        else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                print_error("child failed check %d\n", WEXITSTATUS(status));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void
assert_killed_by_sigsys(int status, const char *what)
{
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
                print_error("%s: expected SIGSYS, got %s %d\n", what,
                            WIFSIGNALED(status) ? "signal" : "exit",
                            WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void
enter(enum mkd_sandbox_profile p, enum mkd_seccomp_mode mode, int fd)
{
        const int keep[] = { 2, fd };

        CHECK(100, mkd_sandbox_enter_child(p, mode, keep, fd >= 0 ? 2 : 1) == 0);
}

/* ---- the engine's real work under its filter ---- */

static void
engine_work(int fd, void *arg)
{
        static const uint8_t abc_sha256[32] = {
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad,
        };
        static const uint8_t vec[] = { 0x03, 'a', 'b', 'c', 0x40, 0x40, 0x00 };
        uint8_t digest[32];
        struct mls_reader r, sub;
        struct mls_writer w;
        struct mls_bytes out = { 0 };
        struct mls_secret *s[64];
        const uint8_t *p;
        size_t n;
        uint64_t v;
        void *big;

        (void)arg;
        enter(MKD_SANDBOX_ENGINE, MKD_SECCOMP_ENFORCE, fd);

        /* libsodium: hashing, randomness, guarded memory. */
        crypto_hash_sha256(digest, (const uint8_t *)"abc", 3);
        CHECK(1, memcmp(digest, abc_sha256, 32) == 0);
        randombytes_buf(digest, sizeof(digest));
        for (size_t i = 0; i < MLS_ARRAY_SIZE(s); i++)
                CHECK(2, mls_secret_new(32 + i, &s[i]) == 0);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(s); i++)
                mls_secret_free(s[i]);
        {
                void *g = sodium_malloc(100);

                CHECK(3, g != NULL);
                sodium_mprotect_noaccess(g);
                sodium_mprotect_readwrite(g);
                sodium_free(g);
        }
        /* The codec, reading and writing. */
        mls_reader_init(&r, vec, sizeof(vec));
        CHECK(4, mls_reader_opaque_view(&r, &p, &n) == 0 && n == 3);
        CHECK(5, mls_reader_varint(&r, &v) == 0 && v == 64);
        CHECK(6, mls_reader_vec(&r, &sub) == 0 && mls_reader_done(&r) == 0);
        mls_writer_init_secure(&w);
        CHECK(7, mls_writer_opaque(&w, p, n) == 0 && mls_writer_varint(&w, 64) == 0);
        CHECK(8, mls_writer_vec_begin(&w, &n) == 0 && mls_writer_vec_end(&w, n) == 0);
        mls_writer_clear(&w);
        mls_writer_init(&w);
        CHECK(9, mls_writer_raw(&w, vec, sizeof(vec)) == 0 && mls_writer_finish(&w, &out) == 0);
        CHECK(10, out.len == sizeof(vec));
        mls_bytes_clear(&out);
        /* Large malloc (mmap'd by glibc) and brk-sized ones. */
        big = malloc(8u << 20);
        CHECK(11, big != NULL);
        memset(big, 1, 8u << 20);
        free(big);
        for (int i = 0; i < 1000; i++)
                free(malloc((size_t)i * 13));
        /* IPC on the kept socket: a request in, a reply out. */
        {
                struct mkd_ipc_rbuf rb;
                struct mkd_ipc_frame f = { 0 };
                struct mkd_ipc_request req;
                struct mkd_ipc_reply rep = { .id = 0 };

                mkd_ipc_rbuf_init(&rb, 0, true);
                CHECK(12, mkd_ipc_recv_blocking(&rb, fd, &f) == MKD_IPC_FRAME);
                CHECK(13, mkd_ipc_request_parse(f.data, f.len, &req) == 0);
                crypto_hash_sha256(digest, req.args, req.args_len);
                rep.id = req.id;
                rep.result = digest;
                rep.result_len = sizeof(digest);
                mls_writer_init(&w);
                CHECK(14, mkd_ipc_reply_write(&w, &rep) == 0);
                CHECK(15, mkd_ipc_send_blocking(fd, w.buf, w.len) == 0);
                mls_writer_clear(&w);
                mkd_ipc_frame_clear(&f);
                mkd_ipc_rbuf_clear(&rb);
        }
        /* Logging goes to the kept stderr; a clock read is fine. */
        {
                struct timespec ts;

                mkd_log_set_level(MKD_LOG_WARNING);
                mkd_log_debug("dropped, not written");
                CHECK(16, clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
        }
}

static void
test_sandbox_engine_runs_engine_code(void **state)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_ipc_request req = { .id = 5, .op = 1, .args = (const uint8_t *)"abc", .args_len = 3 };
        struct mkd_ipc_rbuf rb;
        struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_reply rep;
        uint8_t want[32];
        int sv[2], status;
        pid_t pid;

        (void)state;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                engine_work(sv[1], NULL);
                _exit(0);
        }
        close(sv[1]);
        mls_writer_init(&w);
        assert_int_equal(mkd_ipc_request_write(&w, &req), 0);
        assert_int_equal(mkd_ipc_send_blocking(sv[0], w.buf, w.len), 0);
        mkd_ipc_rbuf_init(&rb, 0, false);
        assert_int_equal(mkd_ipc_recv_blocking(&rb, sv[0], &f), MKD_IPC_FRAME);
        assert_int_equal(mkd_ipc_reply_parse(f.data, f.len, &rep), 0);
        crypto_hash_sha256(want, (const uint8_t *)"abc", 3);
        assert_int_equal(rep.id, 5);
        assert_int_equal(rep.result_len, 32);
        assert_memory_equal(rep.result, want, 32);
        mkd_ipc_reply_clear(&rep);
        mkd_ipc_frame_clear(&f);
        mkd_ipc_rbuf_clear(&rb);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_exited_ok(status);
        close(sv[0]);
}

/* ---- every suite's crypto under the children's filters ---- */

/* The vault signs and the engine derives keys for every suite under their
 * filters, after mls_crypto_preload() ran before the filter as the daemon
 * does. OpenSSL's random generator calls getpid() before each draw (fork
 * safety), so ECDSA (suites 2, 5, 7) needs it: a child killed here by
 * SIGSYS is the regression this test catches. */
static void
suite_work(int fd, void *arg)
{
        enum mkd_sandbox_profile p = (enum mkd_sandbox_profile)(uintptr_t)arg;

        CHECK(20, mls_crypto_preload() == 0);
        enter(p, MKD_SECCOMP_ENFORCE, fd);
        for (uint16_t id = 1; id <= 7; id++) {
                const struct mls_suite *s = mls_suite_get(id);
                struct mls_secret *priv = NULL, *kpriv = NULL;
                struct mls_bytes pub = { 0 }, sig = { 0 }, kpub = { 0 };

                CHECK(21, s != NULL);
                CHECK(22, mls_crypto_sig_keygen(s, mls_rng_system(), &priv, &pub) == 0);
                CHECK(23, mls_sign_with_label(s, priv, "LeafNodeTBS", (const uint8_t *)"x", 1,
                                              &sig) == 0);
                CHECK(24, mls_verify_with_label(s, pub.data, pub.len, "LeafNodeTBS",
                                                (const uint8_t *)"x", 1, sig.data,
                                                sig.len) == 0);
                CHECK(25, mls_crypto_kem_generate(s, mls_rng_system(), &kpriv, &kpub) == 0);
                mls_secret_free(priv);
                mls_secret_free(kpriv);
                mls_bytes_clear(&pub);
                mls_bytes_clear(&sig);
                mls_bytes_clear(&kpub);
        }
}

static void
test_sandbox_children_sign_every_suite(void **state)
{
        (void)state;
        assert_exited_ok(run_child(suite_work, -1, (void *)(uintptr_t)MKD_SANDBOX_VAULT));
        assert_exited_ok(run_child(suite_work, -1, (void *)(uintptr_t)MKD_SANDBOX_ENGINE));
}

/* ---- forbidden calls ---- */

static void
do_open(void)
{
        (void)open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
do_socket(void)
{
        (void)socket(AF_UNIX, SOCK_STREAM, 0);
}

static void
do_mmap_exec(void)
{
        (void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
do_mprotect_exec(void)
{
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                _exit(50);
        (void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static void
do_mmap_file(void)
{
        /* fd 2 is kept and valid; mapping it is still refused. */
        (void)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 2, 0);
}

static void
do_write_other_fd(void)
{
        if (write(37, "x", 1) != 1)
                _exit(0);
}

static void
do_fork(void)
{
        (void)fork();
}

static void
do_execve(void)
{
        char *const argv[] = { (char *)"true", NULL };

        (void)execve("/bin/true", argv, argv + 1);
}

static void
do_ptrace(void)
{
        (void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
do_sendto(void)
{
        (void)sendto(2, "x", 1, 0, NULL, 0);
}

struct forbidden {
        const char *name;
        void (*fn)(void);
};

static const struct forbidden forbidden[] = {
        { "open", do_open },
        { "socket", do_socket },
        { "mmap PROT_EXEC", do_mmap_exec },
        { "mprotect PROT_EXEC", do_mprotect_exec },
        { "mmap of a file", do_mmap_file },
        { "write to another fd", do_write_other_fd },
        { "fork", do_fork },
        { "execve", do_execve },
        { "ptrace", do_ptrace },
        { "sendto (vault only)", do_sendto },
};

static void
forbidden_child(int fd, void *arg)
{
        const struct forbidden *fb = arg;

        enter(MKD_SANDBOX_ENGINE, MKD_SECCOMP_ENFORCE, fd);
        fb->fn();
        _exit(99); /* still alive: the filter let it through */
}

static void
test_sandbox_engine_forbidden_calls_killed(void **state)
{
        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(forbidden); i++)
                assert_killed_by_sigsys(run_child(forbidden_child, -1, (void *)&forbidden[i]),
                                        forbidden[i].name);
}

/* The same calls without a filter succeed (so the test above proves the
 * filter, not a broken call). */
static void
unfiltered_child(int fd, void *arg)
{
        const struct forbidden *fb = arg;

        (void)fd;
        if (fb->fn == do_fork || fb->fn == do_execve || fb->fn == do_ptrace)
                return;
        fb->fn();
}

static void
test_sandbox_forbidden_calls_fine_without_filter(void **state)
{
        (void)state;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(forbidden); i++)
                assert_exited_ok(run_child(unfiltered_child, -1, (void *)&forbidden[i]));
}

/* ---- /proc view ---- */

static bool
status_has(pid_t pid, const char *line)
{
        char path[64], buf[8192];
        size_t n;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (!strstr(buf, line))
                print_error("/proc/%d/status lacks \"%s\":\n%s\n", (int)pid, line, buf);
        return strstr(buf, line) != NULL;
}

static void
test_sandbox_proc_status_shows_filter(void **state)
{
        int to_child[2], from_child[2], status;
        char c;
        pid_t pid;

        (void)state;
        assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
        assert_int_equal(pipe2(from_child, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                const int keep[] = { 2, to_child[0], from_child[1] };

                CHECK(100, mkd_sandbox_enter_child(MKD_SANDBOX_ENGINE, MKD_SECCOMP_ENFORCE, keep, 3) == 0);
                CHECK(1, write(from_child[1], "r", 1) == 1);
                CHECK(2, read(to_child[0], &c, 1) == 1);
                _exit(0);
        }
        close(to_child[0]);
        close(from_child[1]);
        assert_int_equal(read(from_child[0], &c, 1), 1);
        assert_true(status_has(pid, "Seccomp:\t2\n"));
        assert_true(status_has(pid, "NoNewPrivs:\t1\n"));
        assert_true(status_has(pid, "Seccomp_filters:\t1\n"));
        assert_int_equal(write(to_child[1], "x", 1), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_exited_ok(status);
        close(to_child[1]);
        close(from_child[0]);
}

/* ---- hardening without a filter ---- */

static void
harden_child(int fd, void *arg)
{
        const int keep[] = { 2, fd, 9 };
        const int hi = fd > 9 ? fd : 9;
        struct rlimit rl;
        int sig = 0;

        (void)arg;
        CHECK(1, dup2(fd, 9) == 9);
        CHECK(2, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
        CHECK(3, mkd_sandbox_harden_child() == 0);
        CHECK(4, mkd_sandbox_close_fds(keep, 3) == 0);
        CHECK(5, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
        CHECK(6, getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0);
        CHECK(7, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
        CHECK(8, prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0 && sig == SIGKILL);
        /* Kept fds are open, the others are closed. */
        CHECK(9, fcntl(2, F_GETFD) >= 0 && fcntl(fd, F_GETFD) >= 0 && fcntl(9, F_GETFD) >= 0);
        for (int other = 0; other < 64; other++) {
                if (other == 2 || other == fd || other == 9)
                        continue;
                CHECK(10, fcntl(other, F_GETFD) < 0 && errno == EBADF);
        }
        /* No fd above the highest kept one can appear. */
        CHECK(11, getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == (rlim_t)hi + 1 &&
                          rl.rlim_max == (rlim_t)hi + 1);
        CHECK(12, fcntl(2, F_DUPFD, hi + 1) < 0 && errno == EINVAL);
        /* Bad arguments. */
        {
                const int bad[] = { -1 };
                int many[MKD_SANDBOX_KEEP_MAX + 1] = { 0 };

                CHECK(13, mkd_sandbox_close_fds(bad, 1) == MLS_E_INVALID_ARGUMENT);
                CHECK(14, mkd_sandbox_close_fds(many, MKD_SANDBOX_KEEP_MAX + 1) == MLS_E_INVALID_ARGUMENT);
                CHECK(15, mkd_sandbox_enter_child(MKD_SANDBOX_BROKER, MKD_SECCOMP_ENFORCE, keep, 3) ==
                                  MLS_E_INVALID_ARGUMENT);
        }
}

static void
test_sandbox_harden_and_close_fds(void **state)
{
        int extra[8], p[2];

        (void)state;
        /* Plenty of open fds to close, including high ones. */
        for (size_t i = 0; i < MLS_ARRAY_SIZE(extra); i++) {
                extra[i] = open("/dev/null", O_RDONLY);
                assert_true(extra[i] >= 0);
        }
        assert_int_equal(pipe(p), 0);
        assert_exited_ok(run_child(harden_child, p[1], NULL));
        for (size_t i = 0; i < MLS_ARRAY_SIZE(extra); i++)
                close(extra[i]);
        close(p[0]);
        close(p[1]);
}

/* ---- log mode ---- */

static void
log_mode_child(int fd, void *arg)
{
        int nfd;

        (void)arg;
        enter(MKD_SANDBOX_ENGINE, MKD_SECCOMP_LOG, fd);
        nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        CHECK(1, nfd >= 0);
        CHECK(2, socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno == EMFILE);
}

static void
test_sandbox_log_mode_lets_calls_through(void **state)
{
        (void)state;
        assert_exited_ok(run_child(log_mode_child, -1, NULL));
}

/* ---- the vault ---- */

static void
vault_child(int fd, void *arg)
{
        char c;

        enter(MKD_SANDBOX_VAULT, MKD_SECCOMP_ENFORCE, fd);
        CHECK(1, sendto(fd, "v", 1, 0, NULL, 0) == 1);
        CHECK(2, recvfrom(fd, &c, 1, 0, NULL, NULL) == 1 && c == 'w');
        if (arg) {
                /* With a destination address: refused. */
                struct {
                        sa_family_t family;
                        char path[8];
                } a = { AF_UNIX, "x" };

                (void)sendto(fd, "v", 1, 0, (const struct sockaddr *)&a, sizeof(a));
                _exit(99);
        }
}

static void
test_sandbox_vault_profile(void **state)
{
        int sv[2], status;
        char c;
        pid_t pid;

        (void)state;
        for (int with_address = 0; with_address < 2; with_address++) {
                assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
                pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        vault_child(sv[1], with_address ? (void *)1 : NULL);
                        _exit(0);
                }
                close(sv[1]);
                assert_int_equal(read(sv[0], &c, 1), 1);
                assert_int_equal(c, 'v');
                assert_int_equal(write(sv[0], "w", 1), 1);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                if (with_address)
                        assert_killed_by_sigsys(status, "vault sendto with an address");
                else
                        assert_exited_ok(status);
                close(sv[0]);
        }
}

/* ---- the broker ---- */

struct broker_case {
        const char *name;
        int (*fn)(int self_fd); /* returns for "allowed" calls */
        bool killed;
};

static int
b_open_socket_fork(int self_fd)
{
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), s = socket(AF_UNIX, SOCK_STREAM, 0), st;
        pid_t pid;

        (void)self_fd;
        CHECK(1, fd >= 0 && s >= 0);
        pid = fork();
        CHECK(2, pid >= 0);
        if (pid == 0)
                _exit(7);
        CHECK(3, waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
        /* clone3 is answered with ENOSYS (glibc then uses clone). */
        CHECK(4, syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS);
        return 0;
}

static int
b_execve(int self_fd)
{
        (void)self_fd;
        do_execve();
        return 99;
}

static int
b_ptrace(int self_fd)
{
        (void)self_fd;
        do_ptrace();
        return 99;
}

static int
b_unshare(int self_fd)
{
        (void)self_fd;
        (void)unshare(CLONE_NEWUSER);
        return 99;
}

static int
b_clone_newns(int self_fd)
{
        (void)self_fd;
        (void)syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
        return 99;
}

static int
b_mount(int self_fd)
{
        (void)self_fd;
        /* Harmless even if it got through: no source, no target. */
        (void)syscall(SYS_mount, NULL, NULL, NULL, 0, NULL);
        return 99;
}

static int
b_execveat_other_fd(int self_fd)
{
        char *const argv[] = { (char *)"true", NULL };
        int other = dup(self_fd);

        (void)syscall(SYS_execveat, other, "", argv, argv + 1, AT_EMPTY_PATH);
        return 99;
}

static int
b_execveat_other_path(int self_fd)
{
        static const char empty[] = "";
        char *const argv[] = { (char *)"true", NULL };

        /* Right fd and flags, but another pointer (an absolute path would
         * ignore the fd). */
        (void)syscall(SYS_execveat, self_fd, empty, argv, argv + 1, AT_EMPTY_PATH);
        return 99;
}

static int
b_exec_self(int self_fd)
{
        char *const argv[] = { (char *)"true", NULL };

        return mkd_sandbox_exec_self(self_fd, argv, argv + 1) < 0 ? 98 : 97;
}

static const struct broker_case broker_cases[] = {
        { "open, socket, fork", b_open_socket_fork, false },
        { "execve", b_execve, true },
        { "ptrace", b_ptrace, true },
        { "unshare", b_unshare, true },
        { "clone with CLONE_NEWNS", b_clone_newns, true },
        { "mount", b_mount, true },
        { "execveat of another fd", b_execveat_other_fd, true },
        { "execveat of another path", b_execveat_other_path, true },
        { "exec of itself", b_exec_self, false },
};

static void
broker_child(int self_fd, void *arg)
{
        const struct broker_case *bc = arg;

        CHECK(100, mkd_sandbox_enter_broker(MKD_SECCOMP_ENFORCE, self_fd) == 0);
        _exit(bc->fn(self_fd));
}

static void
test_sandbox_broker_filter(void **state)
{
        /* /bin/true stands in for the broker's own binary. */
        int self_fd = open("/bin/true", O_PATH | O_CLOEXEC);

        (void)state;
        assert_true(self_fd >= 0);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(broker_cases); i++) {
                int status = run_child(broker_child, self_fd, (void *)&broker_cases[i]);

                if (broker_cases[i].killed)
                        assert_killed_by_sigsys(status, broker_cases[i].name);
                else
                        assert_exited_ok(status);
        }
        close(self_fd);
}

static void
broker_no_exec_child(int self_fd, void *arg)
{
        char *const argv[] = { (char *)"true", NULL };

        (void)arg;
        CHECK(100, mkd_sandbox_enter_broker(MKD_SECCOMP_ENFORCE, -1) == 0);
        _exit(mkd_sandbox_exec_self(self_fd, argv, argv + 1) < 0 ? 99 : 98);
}

static void
broker_log_child(int self_fd, void *arg)
{
        (void)self_fd;
        (void)arg;
        CHECK(100, mkd_sandbox_enter_broker(MKD_SECCOMP_LOG, -1) == 0);
        /* Logged, not killed. */
        (void)syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
}

static void
test_sandbox_broker_without_exec_and_log_mode(void **state)
{
        int self_fd = open("/bin/true", O_PATH | O_CLOEXEC);

        (void)state;
        assert_true(self_fd >= 0);
        assert_killed_by_sigsys(run_child(broker_no_exec_child, self_fd, NULL), "exec with -1");
        assert_exited_ok(run_child(broker_log_child, -1, NULL));
        close(self_fd);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sandbox_engine_runs_engine_code),
                cmocka_unit_test(test_sandbox_children_sign_every_suite),
                cmocka_unit_test(test_sandbox_engine_forbidden_calls_killed),
                cmocka_unit_test(test_sandbox_forbidden_calls_fine_without_filter),
                cmocka_unit_test(test_sandbox_proc_status_shows_filter),
                cmocka_unit_test(test_sandbox_harden_and_close_fds),
                cmocka_unit_test(test_sandbox_log_mode_lets_calls_through),
                cmocka_unit_test(test_sandbox_vault_profile),
                cmocka_unit_test(test_sandbox_broker_filter),
                cmocka_unit_test(test_sandbox_broker_without_exec_and_log_mode),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
