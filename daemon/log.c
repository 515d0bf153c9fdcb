/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mls/error.h"

/* Process-wide, set once at start-up (see the header). */
static const char *log_tag = "mlskeyd";
static enum mkd_log_level log_max = MKD_LOG_INFO;
static int log_fd = 2;

const char *
mkd_log_proc_name(enum mkd_log_proc proc)
{
        switch (proc) {
        case MKD_LOG_BROKER:
                return "broker";
        case MKD_LOG_ENGINE:
                return "engine";
        case MKD_LOG_VAULT:
                return "vault";
        }
        return "mlskeyd";
}

void
mkd_log_set_proc(enum mkd_log_proc proc)
{
        log_tag = mkd_log_proc_name(proc);
}

void
mkd_log_set_level(enum mkd_log_level max)
{
        log_max = max;
}

void
mkd_log_set_fd(int fd)
{
        log_fd = fd;
}

/* Appends s to line[*n..cap), escaping what could break the line format;
 * stops (and marks the cut with "...") when it does not fit. */
static void
line_put_escaped(char *line, size_t *n, size_t cap, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        const size_t reserve = 4; /* "..." and "\n" */

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                size_t need = (c < 0x20 || c >= 0x7f || c == '\\') ? 4 : 1;

                if (*n + need + reserve > cap) {
                        memcpy(line + *n, "...", 3);
                        *n += 3;
                        return;
                }
                if (need == 1) {
                        line[(*n)++] = (char)c;
                } else {
                        line[(*n)++] = '\\';
                        line[(*n)++] = 'x';
                        line[(*n)++] = hex[c >> 4];
                        line[(*n)++] = hex[c & 15];
                }
        }
}

static void
log_emit(enum mkd_log_level prio, const char *msg)
{
        char line[MKD_LOG_LINE_MAX];
        size_t n;
        int k;

        k = snprintf(line, sizeof(line), "<%d>%s: ", (int)prio, log_tag);
        if (k < 0 || (size_t)k >= sizeof(line) / 2)
                return;
        n = (size_t)k;
        line_put_escaped(line, &n, sizeof(line), msg);
        line[n++] = '\n';

        /* One write per line: below PIPE_BUF, so atomic on a pipe. */
        for (size_t off = 0; off < n;) {
                ssize_t w = write(log_fd, line + off, n - off);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return;
                off += (size_t)w;
        }
}

void
mkd_logv(enum mkd_log_level prio, const char *fmt, va_list ap)
{
        char msg[MKD_LOG_LINE_MAX];
        int saved = errno;

        if ((int)prio > (int)log_max)
                return;
        if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
                snprintf(msg, sizeof(msg), "(unformattable log message)");
        log_emit(prio, msg);
        errno = saved;
}

void
mkd_log(enum mkd_log_level prio, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        mkd_logv(prio, fmt, ap);
        va_end(ap);
}

void
mkd_log_code(enum mkd_log_level prio, int e, const char *fmt, ...)
{
        char msg[MKD_LOG_LINE_MAX];
        const char *name = mls_err_name(e);
        va_list ap;
        int saved = errno;
        int k;

        if ((int)prio > (int)log_max)
                return;
        va_start(ap, fmt);
        k = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (k < 0) {
                msg[0] = '\0';
                k = 0;
        }
        if ((size_t)k < sizeof(msg) && name)
                snprintf(msg + k, sizeof(msg) - (size_t)k, ": %s (%s)", mls_err_text(e), name);
        else if ((size_t)k < sizeof(msg))
                snprintf(msg + k, sizeof(msg) - (size_t)k, ": unknown error code %d", e);
        log_emit(prio, msg);
        errno = saved;
}
