/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's only way to log. Lines go to stderr (or the fd chosen with
 * mkd_log_set_fd) as "<P>tag: message\n", where <P> is the syslog priority
 * prefix sd-daemon(3) defines, so that journald files each line under the
 * right priority. Each line is written with one write(2), so lines of the
 * broker and of its children (which share stderr) never interleave.
 *
 * NO SECRET MAY EVER BE PASSED TO THIS MODULE: no key, no nonce, no epoch
 * secret, no plaintext, not even a prefix or a hash of one. The API takes
 * no secret type (struct mls_secret never appears here); format object
 * ids, file names, error codes and sizes only. Control characters and bytes
 * >= 0x7f in the formatted message are escaped as \xNN, so that a hostile
 * file name cannot forge a second log line.
 *
 * The module keeps process-wide state (tag, threshold, fd), set once at
 * start-up by each process; it allocates nothing, opens nothing and needs
 * only write(2), which every sandbox profile allows.
 */
#ifndef MKD_LOG_H
#define MKD_LOG_H

#include <stdarg.h>

/* Priorities (values are syslog's). */
enum mkd_log_level {
        MKD_LOG_ERR = 3,
        MKD_LOG_WARNING = 4,
        MKD_LOG_INFO = 6,
        MKD_LOG_DEBUG = 7,
};

/* Which process this is; names the tag of every line. */
enum mkd_log_proc {
        MKD_LOG_BROKER,
        MKD_LOG_ENGINE,
        MKD_LOG_VAULT,
};

/* A line never exceeds this many bytes (longer messages are cut and end
 * in "..."). */
#define MKD_LOG_LINE_MAX 1024

/* Sets the tag ("broker", "engine", "vault"). Before any call: "mlskeyd". */
void mkd_log_set_proc(enum mkd_log_proc proc);
/* Lines with a priority value above max (less important) are dropped.
 * Default MKD_LOG_INFO. */
void mkd_log_set_level(enum mkd_log_level max);
/* Where lines go; default 2 (stderr). Tests point it at a pipe. */
void mkd_log_set_fd(int fd);

/* "broker" for MKD_LOG_BROKER, ... */
const char *mkd_log_proc_name(enum mkd_log_proc proc);

/* printf-style. Never fails visibly: a failed write is ignored (there is
 * nowhere else to report it). */
void mkd_log(enum mkd_log_level prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mkd_logv(enum mkd_log_level prio, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
/* Like mkd_log, then ": <sentence> (<MLS_E_NAME>)" for the error code e
 * (a negative MLS_E_* value). */
void mkd_log_code(enum mkd_log_level prio, int e, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define mkd_log_err(...) mkd_log(MKD_LOG_ERR, __VA_ARGS__)
#define mkd_log_warning(...) mkd_log(MKD_LOG_WARNING, __VA_ARGS__)
#define mkd_log_info(...) mkd_log(MKD_LOG_INFO, __VA_ARGS__)
#define mkd_log_debug(...) mkd_log(MKD_LOG_DEBUG, __VA_ARGS__)

#endif
