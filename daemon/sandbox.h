/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process hardening and seccomp filters (DESIGN.md section 2).
 *
 * Children (engine, vault), right after their re-exec and before reading
 * any input, call mkd_sandbox_enter_child(), which in this order:
 *   1. prctl(PR_SET_DUMPABLE, 0): no core dump, no ptrace by same-uid
 *      processes, /proc/<pid> files owned by root;
 *   2. setrlimit(RLIMIT_CORE, 0);
 *   3. prctl(PR_SET_PDEATHSIG, SIGKILL): dies with the broker (strictly,
 *      with the broker THREAD that forked it: fork from the main thread);
 *   4. prctl(PR_SET_NO_NEW_PRIVS, 1);
 *   5. closes every file descriptor but the ones passed in, and lowers
 *      RLIMIT_NOFILE to just above the highest of them;
 *   6. loads the profile's libseccomp allowlist, default action
 *      KILL_PROCESS (LOG in "log" mode).
 *
 * Engine allowlist: read, write, recvmsg, sendmsg only on the kept fd
 * numbers (a descriptor smuggled in later over a socket could not be
 * used); poll, ppoll; mmap only anonymous and without PROT_EXEC, mprotect
 * without PROT_EXEC (argument filters), munmap, mremap, madvise,
 * brk; mlock, munlock (libsodium's guarded allocations, with madvise and
 * mprotect); futex, getrandom, clock_gettime, clock_nanosleep,
 * restart_syscall, rt_sigreturn, close, exit, exit_group. Nothing opens a
 * file, a socket or a process.
 *
 * Vault allowlist: the engine's, plus sendto and recvfrom on the kept fds
 * without a destination address (arg 4 == NULL), which the TPM2-TSS socket
 * TCTIs (swtpm, mssim) use. The TPM device or the swtpm socket is opened
 * BEFORE the filter and passed in as a kept fd; the device TCTI then needs
 * only read, write and poll on it. (To be re-checked when the vault's TPM
 * code lands.)
 *
 * Broker filter (default allow, the listed calls KILL_PROCESS or LOG):
 * execve; execveat except of the pre-opened own binary (see
 * mkd_sandbox_exec_self: the broker re-executes itself to restart a
 * child, nothing else); ptrace, process_vm_readv/writev, pidfd_getfd,
 * kcmp; kexec_*, *_module, reboot, swapon/off, acct, quotactl; mount and
 * friends (umount2, pivot_root, chroot, move_mount, open_tree, fsopen,
 * fsconfig, fsmount, fspick, mount_setattr); setns, unshare, clone with
 * namespace flags; bpf, perf_event_open, userfaultfd, io_uring_*;
 * keyctl, add_key, request_key; clock/time setting; sethostname,
 * setdomainname; open_by_handle_at, name_to_handle_at; iopl, ioperm;
 * personality; syslog; fanotify_init; lookup_dcookie, uselib, vhangup.
 * clone3 fails with ENOSYS (its flags cannot be inspected; glibc falls
 * back to clone).
 *
 * Builds with AddressSanitizer get a few more calls in the child
 * allowlists (see sandbox.c); release builds do not.
 */
#ifndef MKD_SANDBOX_H
#define MKD_SANDBOX_H

#include "mls/common.h"
#include "daemon/policy.h"

enum mkd_sandbox_profile {
        MKD_SANDBOX_ENGINE,
        MKD_SANDBOX_VAULT,
        MKD_SANDBOX_BROKER,
};

/* Most fds a child may keep. */
#define MKD_SANDBOX_KEEP_MAX 16

/* Steps 1-4 above. MLS_E_INTERNAL if the kernel refuses one. */
MLS_MUST_CHECK int mkd_sandbox_harden_child(void);

/* Step 5: closes every fd except keep[0..n) (n <= MKD_SANDBOX_KEEP_MAX,
 * each >= 0) and lowers RLIMIT_NOFILE to max(keep) + 1. */
MLS_MUST_CHECK int mkd_sandbox_close_fds(const int *keep, size_t n);

/*
 * Step 6 (or the broker's filter): builds and loads the profile's filter.
 * For ENGINE and VAULT, keep[0..n) are the fds the I/O calls may use. For
 * BROKER, keep and n are ignored and self_exe_fd is the fd of the broker's
 * own binary (open(.., O_PATH)) that execveat may run via
 * mkd_sandbox_exec_self, or -1 to forbid every exec. MLS_E_INTERNAL if
 * libseccomp or the kernel refuses (the reason is logged);
 * MLS_E_UNSUPPORTED if log mode is asked of a kernel without
 * SECCOMP_RET_LOG.
 */
MLS_MUST_CHECK int mkd_sandbox_load_filter(enum mkd_sandbox_profile profile,
                                           enum mkd_seccomp_mode mode, const int *keep, size_t n,
                                           int self_exe_fd);

/* Steps 1-6, for the engine or the vault. */
MLS_MUST_CHECK int mkd_sandbox_enter_child(enum mkd_sandbox_profile profile,
                                           enum mkd_seccomp_mode mode, const int *keep, size_t n);

/* The broker: no_new_privs and its deny-list filter. */
MLS_MUST_CHECK int mkd_sandbox_enter_broker(enum mkd_seccomp_mode mode, int self_exe_fd);

/* execveat(self_exe_fd, "", argv, envp, AT_EMPTY_PATH) with the one path
 * pointer the broker filter accepts. Returns only on failure
 * (MLS_E_INTERNAL). */
MLS_MUST_CHECK int mkd_sandbox_exec_self(int self_exe_fd, char *const argv[], char *const envp[]);

#endif
