/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define MKD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MKD_ASAN 1
#endif
#endif

/* The only pathname the broker's filter lets execveat take: this very
 * object, compared by address (seccomp cannot read memory). */
static const char self_exec_path[] = "";

int
mkd_sandbox_harden_child(void)
{
        const struct rlimit zero = { 0, 0 };

        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                mkd_log_err("sandbox: PR_SET_DUMPABLE: %s", strerror(errno));
                return MLS_E_INTERNAL;
        }
        if (setrlimit(RLIMIT_CORE, &zero) < 0) {
                mkd_log_err("sandbox: RLIMIT_CORE: %s", strerror(errno));
                return MLS_E_INTERNAL;
        }
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
                mkd_log_err("sandbox: PR_SET_PDEATHSIG: %s", strerror(errno));
                return MLS_E_INTERNAL;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                mkd_log_err("sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
                return MLS_E_INTERNAL;
        }
        return 0;
}

static int
int_cmp(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;

        return (x > y) - (x < y);
}

/* Closes [from, to]; close_range if the kernel has it, else one by one. */
static void
close_between(unsigned from, unsigned to)
{
        if (from > to)
                return;
        if (syscall(SYS_close_range, from, to, 0) == 0)
                return;
        for (unsigned fd = from; fd <= to && fd < 65536; fd++)
                (void)close((int)fd);
}

int
mkd_sandbox_close_fds(const int *keep, size_t n)
{
        int sorted[MKD_SANDBOX_KEEP_MAX];
        struct rlimit nofile;
        unsigned next = 0;

        if (n > MKD_SANDBOX_KEEP_MAX)
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < 0)
                        return MLS_E_INVALID_ARGUMENT;
                sorted[i] = keep[i];
        }
        qsort(sorted, n, sizeof(int), int_cmp);
        for (size_t i = 0; i < n; i++) {
                if ((unsigned)sorted[i] > next)
                        close_between(next, (unsigned)sorted[i] - 1);
                next = (unsigned)sorted[i] + 1;
        }
        close_between(next, ~0u);

        /* No descriptor numbered above the kept ones can appear. (One
         * received into a lower hole would still be useless: the filter
         * allows I/O only on the kept numbers and only anonymous mmap.) */
        nofile.rlim_cur = nofile.rlim_max = next;
        if (setrlimit(RLIMIT_NOFILE, &nofile) < 0) {
                mkd_log_err("sandbox: RLIMIT_NOFILE: %s", strerror(errno));
                return MLS_E_INTERNAL;
        }
        return 0;
}

/* ---- filters ---- */

struct filter {
        scmp_filter_ctx ctx;
        int error; /* first failure */
};

static void
filter_freep(struct filter *f)
{
        if (f->ctx)
                seccomp_release(f->ctx);
}

/* Adds a rule for a syscall by name; a name this libseccomp does not know
 * on this architecture is skipped (it cannot be allowed; for a deny-list
 * it is logged). */
static void
rule(struct filter *f, uint32_t action, const char *name, unsigned n_args,
     const struct scmp_arg_cmp *args)
{
        int nr, r;

        if (f->error)
                return;
        nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
                mkd_log_debug("sandbox: syscall %s unknown here, no rule", name);
                return;
        }
        r = seccomp_rule_add_array(f->ctx, action, nr, n_args, args);
        if (r < 0) {
                mkd_log_err("sandbox: rule for %s: %s", name, strerror(-r));
                f->error = MLS_E_INTERNAL;
        }
}

static void
allow(struct filter *f, const char *name)
{
        rule(f, SCMP_ACT_ALLOW, name, 0, NULL);
}

/* name(fd, ...) allowed for the kept fds only. Only the low 32 bits are
 * compared: the kernel reads an int. */
static void
allow_on_fds(struct filter *f, const char *name, const int *keep, size_t n, bool no_address)
{
        for (size_t i = 0; i < n; i++) {
                struct scmp_arg_cmp a[2] = {
                        SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)(unsigned)keep[i]),
                        /* sendto/recvfrom: no address (arg 4) */
                        SCMP_A4(SCMP_CMP_EQ, 0),
                };

                rule(f, SCMP_ACT_ALLOW, name, no_address ? 2 : 1, a);
        }
}

/* mprotect without PROT_EXEC (prot is arg 2); mmap also only anonymous
 * (fd, arg 4, is -1), so that no file can be mapped, not even one whose
 * descriptor arrived over a socket. */
static void
allow_no_exec(struct filter *f, const char *name, bool anonymous)
{
        struct scmp_arg_cmp a[2] = {
                SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
                SCMP_A4(SCMP_CMP_MASKED_EQ, 0xffffffffu, 0xffffffffu),
        };

        rule(f, SCMP_ACT_ALLOW, name, anonymous ? 2 : 1, a);
}

static void
child_rules(struct filter *f, enum mkd_sandbox_profile profile, const int *keep, size_t n)
{
        static const char *const plain[] = {
                "poll", "ppoll",
                "munmap", "mremap", "madvise", "brk",
                "mlock", "munlock",
                "futex", "getrandom", "clock_gettime", "clock_nanosleep",
                "restart_syscall", "rt_sigreturn", "close", "exit", "exit_group",
                /* OpenSSL's DRBG compares getpid() with the pid it was
                 * seeded in before each draw (fork safety): every ECDSA
                 * signature (suites 2, 5, 7) and NIST key generation. */
                "getpid",
        };
        static const char *const on_fds[] = { "read", "write", "recvmsg", "sendmsg" };

        for (size_t i = 0; i < MLS_ARRAY_SIZE(plain); i++)
                allow(f, plain[i]);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(on_fds); i++)
                allow_on_fds(f, on_fds[i], keep, n, false);
        allow_no_exec(f, "mmap", true);
        allow_no_exec(f, "mprotect", false);
        if (profile == MKD_SANDBOX_VAULT) {
                allow_on_fds(f, "sendto", keep, n, true);
                allow_on_fds(f, "recvfrom", keep, n, true);
        }
#ifdef MKD_ASAN
        /* Sanitizer builds only (never in a release build): the
         * AddressSanitizer runtime checks its alternate signal stack
         * (sigaltstack) while it runs and yields in its spin locks
         * (sched_yield). An ASan error report inside a filtered child
         * still dies of SIGSYS when it tries to open /proc/self/maps: to
         * debug one, run with [sandbox] seccomp = log. */
        allow(f, "sigaltstack");
        allow(f, "sched_yield");
#endif
}

static void
broker_rules(struct filter *f, uint32_t deny, int self_exe_fd)
{
        static const char *const denied[] = {
                "execve",
                "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
                "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
                "reboot", "swapon", "swapoff", "acct", "quotactl",
                "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
                "fsconfig", "fsmount", "fspick", "mount_setattr",
                "setns", "unshare",
                "bpf", "perf_event_open", "userfaultfd",
                "io_uring_setup", "io_uring_enter", "io_uring_register",
                "keyctl", "add_key", "request_key",
                "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
                "sethostname", "setdomainname",
                "open_by_handle_at", "name_to_handle_at",
                "iopl", "ioperm", "personality", "syslog", "fanotify_init",
                "lookup_dcookie", "uselib", "vhangup",
        };
        const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                  CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
        struct scmp_arg_cmp a;

        /* ptrace stays denied even in sanitizer builds: LeakSanitizer
         * (which needs it at exit) is off for the broker in the
         * integration tests; the unit tests check leaks. */
        for (size_t i = 0; i < MLS_ARRAY_SIZE(denied); i++)
                rule(f, deny, denied[i], 0, NULL);
        /* clone with any namespace flag (flags are arg 0 on x86-64). */
        for (unsigned bit = 0; bit < 64; bit++) {
                if (!(ns_flags & (UINT64_C(1) << bit)))
                        continue;
                a = SCMP_A0(SCMP_CMP_MASKED_EQ, UINT64_C(1) << bit, UINT64_C(1) << bit);
                rule(f, deny, "clone", 1, &a);
        }
        /* clone3 passes its flags in memory: make glibc fall back to clone. */
        rule(f, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
        /* execveat: only mkd_sandbox_exec_self's exact call. Each rule
         * denies one deviation; any one is enough. */
        if (self_exe_fd < 0) {
                rule(f, deny, "execveat", 0, NULL);
                return;
        }
        /* Compared in full: our own call passes the int zero-extended. */
        a = SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)(unsigned)self_exe_fd);
        rule(f, deny, "execveat", 1, &a);
        a = SCMP_A1(SCMP_CMP_NE, (scmp_datum_t)(uintptr_t)self_exec_path);
        rule(f, deny, "execveat", 1, &a);
        a = SCMP_A4(SCMP_CMP_NE, AT_EMPTY_PATH);
        rule(f, deny, "execveat", 1, &a);
}

int
mkd_sandbox_load_filter(enum mkd_sandbox_profile profile, enum mkd_seccomp_mode mode,
                        const int *keep, size_t n, int self_exe_fd)
{
        _mls_cleanup_(filter_freep) struct filter f = { .ctx = NULL };
        const bool log_mode = mode == MKD_SECCOMP_LOG;
        uint32_t def;
        int r;

        if (n > MKD_SANDBOX_KEEP_MAX)
                return MLS_E_INVALID_ARGUMENT;
        if (log_mode && seccomp_api_get() < 3) {
                mkd_log_err("sandbox: the kernel cannot log seccomp violations (no SECCOMP_RET_LOG)");
                return MLS_E_UNSUPPORTED;
        }
        if (profile == MKD_SANDBOX_BROKER)
                def = SCMP_ACT_ALLOW;
        else
                def = log_mode ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
        f.ctx = seccomp_init(def);
        if (!f.ctx) {
                mkd_log_err("sandbox: seccomp_init failed");
                return MLS_E_INTERNAL;
        }
        /* Calls of another architecture (x32, i386) are never ours. */
        r = seccomp_attr_set(f.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r == 0)
                r = seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0) {
                mkd_log_err("sandbox: seccomp attributes: %s", strerror(-r));
                return MLS_E_INTERNAL;
        }
        switch (profile) {
        case MKD_SANDBOX_ENGINE:
        case MKD_SANDBOX_VAULT:
                child_rules(&f, profile, keep, n);
                break;
        case MKD_SANDBOX_BROKER:
                broker_rules(&f, log_mode ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS, self_exe_fd);
                break;
        }
        if (f.error)
                return f.error;
        r = seccomp_load(f.ctx);
        if (r < 0) {
                mkd_log_err("sandbox: loading the seccomp filter: %s", strerror(-r));
                return MLS_E_INTERNAL;
        }
        return 0;
}

int
mkd_sandbox_enter_child(enum mkd_sandbox_profile profile, enum mkd_seccomp_mode mode,
                        const int *keep, size_t n)
{
        if (profile == MKD_SANDBOX_BROKER)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mkd_sandbox_harden_child());
        MLS_TRY(mkd_sandbox_close_fds(keep, n));
        return mkd_sandbox_load_filter(profile, mode, keep, n, -1);
}

int
mkd_sandbox_enter_broker(enum mkd_seccomp_mode mode, int self_exe_fd)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                mkd_log_err("sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
                return MLS_E_INTERNAL;
        }
        return mkd_sandbox_load_filter(MKD_SANDBOX_BROKER, mode, NULL, 0, self_exe_fd);
}

int
mkd_sandbox_exec_self(int self_exe_fd, char *const argv[], char *const envp[])
{
        syscall(SYS_execveat, self_exe_fd, self_exec_path, argv, envp, AT_EMPTY_PATH);
        mkd_log_err("sandbox: re-executing: %s", strerror(errno));
        return MLS_E_INTERNAL;
}
