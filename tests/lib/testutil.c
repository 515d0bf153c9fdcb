/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

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
tu_hex_decode(const char *hex, struct mls_bytes *ret)
{
        size_t n = strlen(hex);
        uint8_t *out;

        if (n % 2)
                return false;
        if (n == 0) {
                *ret = (struct mls_bytes){ 0 };
                return true;
        }
        out = malloc(n / 2);
        if (!out)
                return false;
        for (size_t i = 0; i < n / 2; i++) {
                int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

                if (hi < 0 || lo < 0) {
                        free(out);
                        return false;
                }
                out[i] = (uint8_t)(hi << 4 | lo);
        }
        ret->data = out;
        ret->len = n / 2;
        return true;
}

char *
tu_hex_encode(const uint8_t *p, size_t len)
{
        static const char digits[] = "0123456789abcdef";
        char *s = malloc(2 * len + 1);

        if (!s)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                s[2 * i] = digits[p[i] >> 4];
                s[2 * i + 1] = digits[p[i] & 15];
        }
        s[2 * len] = '\0';
        return s;
}

uint8_t *
tu_guarded_copy(const uint8_t *p, size_t len)
{
        uint8_t *g = sodium_malloc(len ? len : 1);

        if (g && len)
                memcpy(g, p, len);
        /* For len == 0 the reader must not touch the byte at all; point at
         * the (still guarded) end of the single-byte allocation. */
        return g;
}

void
tu_guarded_free(uint8_t *p)
{
        sodium_free(p);
}

bool
tu_read_file(const char *path, struct mls_bytes *ret)
{
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;

        if (!f)
                return false;
        for (;;) {
                if (len == cap) {
                        size_t ncap = cap ? cap * 2 : 65536;
                        uint8_t *nb = realloc(buf, ncap);

                        if (!nb) {
                                free(buf);
                                fclose(f);
                                return false;
                        }
                        buf = nb;
                        cap = ncap;
                }
                size_t got = fread(buf + len, 1, cap - len, f);

                len += got;
                if (got == 0)
                        break;
        }
        if (ferror(f)) {
                free(buf);
                fclose(f);
                return false;
        }
        fclose(f);
        ret->data = buf;
        ret->len = len;
        return true;
}
