/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of mlskeyctl that need no daemon (see mlskeyctl-util.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client-lib/mlskey.h"
#include "tools/mlskeyctl-util.h"

static int
hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

bool
ctl_is_hex(const char *s)
{
        size_t n;

        if (!s || !*s)
                return false;
        n = strlen(s);
        if (n % 2)
                return false;
        for (size_t i = 0; i < n; i++)
                if (hexval(s[i]) < 0)
                        return false;
        return true;
}

int
ctl_hex_decode(const char *hex, uint8_t **ret, size_t *ret_len)
{
        size_t n, len;
        uint8_t *out;

        if (!hex)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
                hex += 2;
        n = strlen(hex);
        if (n % 2)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        len = n / 2;
        if (len > CTL_MAX_INPUT)
                return MLSKEY_ERROR_TOO_LARGE;
        out = malloc(len ? len : 1);
        if (!out)
                return MLSKEY_ERROR_OUT_OF_MEMORY;
        for (size_t i = 0; i < len; i++) {
                int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

                if (hi < 0 || lo < 0) {
                        free(out);
                        return MLSKEY_ERROR_INVALID_ARGUMENT;
                }
                out[i] = (uint8_t)(hi << 4 | lo);
        }
        *ret = out;
        *ret_len = len;
        return 0;
}

int
ctl_hex_encode(const uint8_t *p, size_t len, char **ret)
{
        static const char digits[] = "0123456789abcdef";
        char *s;

        if (len > (SIZE_MAX - 1) / 2)
                return MLSKEY_ERROR_TOO_LARGE;
        s = malloc(2 * len + 1);
        if (!s)
                return MLSKEY_ERROR_OUT_OF_MEMORY;
        for (size_t i = 0; i < len; i++) {
                s[2 * i] = digits[p[i] >> 4];
                s[2 * i + 1] = digits[p[i] & 15];
        }
        s[2 * len] = '\0';
        *ret = s;
        return 0;
}

int
ctl_parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
        unsigned long long v;
        char *end;
        int base = 10;

        if (!s || !*s)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
        }
        /* strtoull takes blanks and signs: refuse them first. */
        for (const char *p = s; *p; p++)
                if (base == 10 ? (*p < '0' || *p > '9') : hexval(*p) < 0)
                        return MLSKEY_ERROR_INVALID_ARGUMENT;
        if (!*s)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno == ERANGE || *end || v > max)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        *ret = v;
        return 0;
}

int
ctl_parse_u32(const char *s, uint32_t *ret)
{
        uint64_t v;
        int r = ctl_parse_u64(s, UINT32_MAX, &v);

        if (r < 0)
                return r;
        *ret = (uint32_t)v;
        return 0;
}

int
ctl_parse_u16(const char *s, uint16_t *ret)
{
        uint64_t v;
        int r = ctl_parse_u64(s, UINT16_MAX, &v);

        if (r < 0)
                return r;
        *ret = (uint16_t)v;
        return 0;
}

int
ctl_parse_seconds_ms(const char *s, int max_ms, int *ret_ms)
{
        uint64_t v = 0;
        int nfrac = -1; /* digits after the dot; -1: no dot */

        if (!s || !*s || *s == '.')
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (nfrac >= 0)
                                return MLSKEY_ERROR_INVALID_ARGUMENT;
                        nfrac = 0;
                        continue;
                }
                if (*p < '0' || *p > '9')
                        return MLSKEY_ERROR_INVALID_ARGUMENT;
                if (nfrac >= 0 && ++nfrac > 3)
                        return MLSKEY_ERROR_INVALID_ARGUMENT;
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > (uint64_t)INT_MAX * 1000)
                        return MLSKEY_ERROR_INVALID_ARGUMENT;
        }
        if (nfrac == 0)
                return MLSKEY_ERROR_INVALID_ARGUMENT; /* "2." */
        for (int i = nfrac < 0 ? 0 : nfrac; i < 3; i++)
                v *= 10;
        if (v < 1 || v > (uint64_t)max_ms)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        *ret_ms = (int)v;
        return 0;
}

bool
ctl_is_object_path(const char *s)
{
        return s && s[0] == '/';
}

int
ctl_path_from_hex(const char *prefix, const char *hex, char **ret)
{
        size_t np = strlen(prefix), nh;
        char *s;

        if (!ctl_is_hex(hex))
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        nh = strlen(hex);
        s = malloc(np + nh + 1);
        if (!s)
                return MLSKEY_ERROR_OUT_OF_MEMORY;
        memcpy(s, prefix, np);
        for (size_t i = 0; i < nh; i++) {
                char c = hex[i];

                s[np + i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
        }
        s[np + nh] = '\0';
        *ret = s;
        return 0;
}

const char *
ctl_path_basename(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

static int
read_fd(int fd, uint8_t **ret, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        uint8_t *buf = malloc(cap);

        if (!buf)
                return MLSKEY_ERROR_OUT_OF_MEMORY;
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        uint8_t *nb;

                        if (cap > CTL_MAX_INPUT) {
                                free(buf);
                                return MLSKEY_ERROR_TOO_LARGE;
                        }
                        nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                return MLSKEY_ERROR_OUT_OF_MEMORY;
                        }
                        buf = nb;
                        cap *= 2;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;

                        free(buf);
                        errno = e;
                        return MLSKEY_ERROR_INTERNAL_ERROR;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > CTL_MAX_INPUT) {
                free(buf);
                return MLSKEY_ERROR_TOO_LARGE;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int
ctl_read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
        int fd, r, e;

        if (!path)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        if (strcmp(path, "-") == 0)
                return read_fd(STDIN_FILENO, ret, ret_len);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return MLSKEY_ERROR_INTERNAL_ERROR;
        r = read_fd(fd, ret, ret_len);
        e = errno;
        close(fd);
        errno = e;
        return r;
}

static int
write_all(int fd, const void *p, size_t len)
{
        const uint8_t *b = p;

        while (len) {
                ssize_t n = write(fd, b, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return MLSKEY_ERROR_INTERNAL_ERROR;
                b += n;
                len -= (size_t)n;
        }
        return 0;
}

int
ctl_write_file(const char *path, const uint8_t *p, size_t len, bool hex, bool private_mode)
{
        char *h = NULL;
        int fd, r, e;
        bool is_stdout;

        if (!path)
                return MLSKEY_ERROR_INVALID_ARGUMENT;
        if (hex) {
                r = ctl_hex_encode(p, len, &h);
                if (r < 0)
                        return r;
        }
        is_stdout = strcmp(path, "-") == 0;
        if (is_stdout) {
                fflush(stdout);
                fd = STDOUT_FILENO;
        } else {
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
                          private_mode ? 0600 : 0666);
                if (fd < 0) {
                        free(h);
                        return MLSKEY_ERROR_INTERNAL_ERROR;
                }
                /* An existing file keeps its mode on O_TRUNC: tighten it. */
                if (private_mode && fchmod(fd, 0600) < 0) {
                        e = errno;
                        close(fd);
                        free(h);
                        errno = e;
                        return MLSKEY_ERROR_INTERNAL_ERROR;
                }
        }
        if (hex) {
                r = write_all(fd, h, strlen(h));
                if (r == 0)
                        r = write_all(fd, "\n", 1);
        } else {
                r = write_all(fd, p, len);
        }
        e = errno;
        if (h) {
                explicit_bzero(h, strlen(h));
                free(h);
        }
        if (!is_stdout && close(fd) < 0 && r == 0) {
                e = errno;
                r = MLSKEY_ERROR_INTERNAL_ERROR;
        }
        errno = e;
        return r;
}

bool
ctl_is_printable(const uint8_t *p, size_t len)
{
        if (!len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (p[i] < 0x20 || p[i] > 0x7e)
                        return false;
        return true;
}

int
ctl_u32_push(uint32_t **arr, size_t *n, uint32_t v)
{
        uint32_t *a;

        if (*n >= CTL_MAX_INPUT / sizeof(uint32_t))
                return MLSKEY_ERROR_TOO_LARGE;
        a = realloc(*arr, (*n + 1) * sizeof(*a));
        if (!a)
                return MLSKEY_ERROR_OUT_OF_MEMORY;
        a[(*n)++] = v;
        *arr = a;
        return 0;
}
