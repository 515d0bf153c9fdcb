/* SPDX-License-Identifier: Apache-2.0 */
#include "mls/codec.h"
#include "mls/secret.h"

#include <string.h>
#include <sodium.h>

void
mls_bytes_clear(struct mls_bytes *b)
{
        free(b->data);
        b->data = NULL;
        b->len = 0;
}

int
mls_bytes_copy(struct mls_bytes *ret_b, const uint8_t *p, size_t len)
{
        uint8_t *d = NULL;

        if (len) {
                d = malloc(len);
                if (!d)
                        return MLS_E_NOMEM;
                memcpy(d, p, len);
        }
        ret_b->data = d;
        ret_b->len = len;
        return 0;
}

int
mls_bytes_dup(struct mls_bytes *ret_b, const struct mls_bytes *src)
{
        return mls_bytes_copy(ret_b, src->data, src->len);
}

bool
mls_bytes_eq(const struct mls_bytes *a, const struct mls_bytes *b)
{
        return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* ---- reader ---- */

void
mls_reader_init(struct mls_reader *r, const uint8_t *p, size_t len)
{
        r->p = p;
        r->left = len;
}

static void
reader_skip(struct mls_reader *r, size_t n)
{
        r->p += n;
        r->left -= n;
}

int
mls_reader_u8(struct mls_reader *r, uint8_t *ret_v)
{
        if (r->left < 1)
                return MLS_E_TRUNCATED;
        *ret_v = r->p[0];
        reader_skip(r, 1);
        return 0;
}

int
mls_reader_u16(struct mls_reader *r, uint16_t *ret_v)
{
        if (r->left < 2)
                return MLS_E_TRUNCATED;
        *ret_v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
        reader_skip(r, 2);
        return 0;
}

int
mls_reader_u32(struct mls_reader *r, uint32_t *ret_v)
{
        if (r->left < 4)
                return MLS_E_TRUNCATED;
        *ret_v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
                 (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
        reader_skip(r, 4);
        return 0;
}

int
mls_reader_u64(struct mls_reader *r, uint64_t *ret_v)
{
        uint64_t v = 0;

        if (r->left < 8)
                return MLS_E_TRUNCATED;
        for (size_t i = 0; i < 8; i++)
                v = v << 8 | r->p[i];
        *ret_v = v;
        reader_skip(r, 8);
        return 0;
}

/*
 * RFC 9420 section 2.1.2: the two most significant bits of the first byte
 * give the length of the integer (00: 1 byte, 01: 2, 10: 4); 11 is invalid.
 * "the length of the vector MUST be encoded with the smallest possible
 * number of bytes".
 */
int
mls_reader_varint(struct mls_reader *r, uint64_t *ret_v)
{
        uint8_t prefix;
        size_t n;
        uint64_t v;

        if (r->left < 1)
                return MLS_E_TRUNCATED;
        prefix = r->p[0] >> 6;
        /* R-2.1.2-3: a header starting with 0b11 is malformed. */
        if (prefix == 3)
                return MLS_E_BAD_VARINT;
        n = (size_t)1 << prefix;
        if (r->left < n)
                return MLS_E_TRUNCATED;
        v = r->p[0] & 0x3f;
        for (size_t i = 1; i < n; i++)
                v = v << 8 | r->p[i];
        /* R-2.1.2-2: a header longer than the value needs is malformed. */
        if (mls_varint_size(v) != n)
                return MLS_E_NONMINIMAL;
        reader_skip(r, n);
        *ret_v = v;
        return 0;
}

int
mls_reader_vec(struct mls_reader *r, struct mls_reader *ret_sub)
{
        struct mls_reader t = *r;
        uint64_t len;

        MLS_TRY(mls_reader_varint(&t, &len));
        /* R-2.1.2-4: bound the length by the remaining input before anything
         * is allocated for it. */
        if (len > t.left)
                return MLS_E_TRUNCATED;
        ret_sub->p = t.p;
        ret_sub->left = (size_t)len;
        reader_skip(&t, (size_t)len);
        *r = t;
        return 0;
}

int
mls_reader_raw(struct mls_reader *r, size_t n, const uint8_t **ret_p)
{
        if (r->left < n)
                return MLS_E_TRUNCATED;
        *ret_p = r->p;
        reader_skip(r, n);
        return 0;
}

int
mls_reader_opaque_view(struct mls_reader *r, const uint8_t **ret_p, size_t *ret_len)
{
        struct mls_reader sub;

        MLS_TRY(mls_reader_vec(r, &sub));
        *ret_p = sub.p;
        *ret_len = sub.left;
        return 0;
}

int
mls_reader_opaque(struct mls_reader *r, struct mls_bytes *ret_b)
{
        struct mls_reader t = *r, sub;

        MLS_TRY(mls_reader_vec(&t, &sub));
        MLS_TRY(mls_bytes_copy(ret_b, sub.p, sub.left));
        *r = t;
        return 0;
}

int
mls_reader_opaque_secret(struct mls_reader *r, struct mls_secret **ret_s)
{
        struct mls_reader t = *r, sub;

        MLS_TRY(mls_reader_vec(&t, &sub));
        MLS_TRY(mls_secret_from(sub.p, sub.left, ret_s));
        *r = t;
        return 0;
}

int
mls_reader_optional(struct mls_reader *r, bool *ret_present)
{
        if (r->left < 1)
                return MLS_E_TRUNCATED;
        /* R-2.1.1-1: the presence octet is 0 or 1, nothing else. */
        if (r->p[0] > 1)
                return MLS_E_BAD_OPTIONAL;
        *ret_present = r->p[0] == 1;
        reader_skip(r, 1);
        return 0;
}

int
mls_reader_done(const struct mls_reader *r)
{
        return r->left == 0 ? 0 : MLS_E_TRAILING;
}

/* ---- writer ---- */

void
mls_writer_init(struct mls_writer *w)
{
        *w = (struct mls_writer){ 0 };
}

void
mls_writer_init_secure(struct mls_writer *w)
{
        *w = (struct mls_writer){ .secure = true };
}

void
mls_writer_init_pool(struct mls_writer *w, struct mls_gpool *pool)
{
        *w = (struct mls_writer){ .secure = true, .pool = pool };
}

static void
buf_release(struct mls_gpool *pool, uint8_t *buf, size_t cap, bool secure)
{
        if (!buf)
                return;
        if (secure)
                mls_gpool_release(pool, buf, cap); /* wipes */
        else
                free(buf);
}

void
mls_writer_clear(struct mls_writer *w)
{
        bool secure = w->secure;
        struct mls_gpool *pool = w->pool;

        buf_release(pool, w->buf, w->cap, secure);
        *w = (struct mls_writer){ .secure = secure, .pool = pool };
}

static int
writer_reserve(struct mls_writer *w, size_t extra)
{
        size_t need, cap;
        uint8_t *nb;

        MLS_TRY(mls_size_add(w->len, extra, &need));
        if (need <= w->cap)
                return 0;
        cap = w->cap ? w->cap : 64;
        while (cap < need) {
                if (cap > SIZE_MAX / 2)
                        return MLS_E_TOO_LARGE;
                cap *= 2;
        }
        if (w->secure) {
                /* Never realloc secret-bearing memory: allocate, copy, wipe, free. */
                nb = mls_gpool_alloc(w->pool, cap, &cap);
                if (!nb)
                        return MLS_E_NOMEM;
                if (w->len)
                        memcpy(nb, w->buf, w->len);
                buf_release(w->pool, w->buf, w->cap, true);
        } else {
                nb = realloc(w->buf, cap);
                if (!nb)
                        return MLS_E_NOMEM;
        }
        w->buf = nb;
        w->cap = cap;
        return 0;
}

int
mls_writer_reserve(struct mls_writer *w, size_t extra)
{
        return writer_reserve(w, extra);
}

int
mls_writer_raw(struct mls_writer *w, const uint8_t *p, size_t n)
{
        if (n == 0)
                return 0;
        MLS_TRY(writer_reserve(w, n));
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        return 0;
}

int
mls_writer_u8(struct mls_writer *w, uint8_t v)
{
        return mls_writer_raw(w, &v, 1);
}

int
mls_writer_u16(struct mls_writer *w, uint16_t v)
{
        uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

        return mls_writer_raw(w, b, sizeof(b));
}

int
mls_writer_u32(struct mls_writer *w, uint32_t v)
{
        uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

        return mls_writer_raw(w, b, sizeof(b));
}

int
mls_writer_u64(struct mls_writer *w, uint64_t v)
{
        uint8_t b[8];

        mls_put_u64(b, v);
        return mls_writer_raw(w, b, sizeof(b));
}

size_t
mls_varint_size(uint64_t v)
{
        if (v < (1u << 6))
                return 1;
        if (v < (1u << 14))
                return 2;
        if (v <= MLS_VARINT_MAX)
                return 4;
        return 0;
}

static void
varint_put(uint8_t *out, uint64_t v, size_t n)
{
        switch (n) {
        case 1:
                out[0] = (uint8_t)v;
                break;
        case 2:
                out[0] = (uint8_t)(0x40 | (v >> 8));
                out[1] = (uint8_t)v;
                break;
        default:
                out[0] = (uint8_t)(0x80 | (v >> 24));
                out[1] = (uint8_t)(v >> 16);
                out[2] = (uint8_t)(v >> 8);
                out[3] = (uint8_t)v;
                break;
        }
}

/* R-2.1.2-1: every vector header is written in its shortest form. */
int
mls_writer_varint(struct mls_writer *w, uint64_t v)
{
        uint8_t b[4];
        size_t n = mls_varint_size(v);

        if (n == 0)
                return MLS_E_TOO_LARGE;
        varint_put(b, v, n);
        return mls_writer_raw(w, b, n);
}

int
mls_writer_opaque(struct mls_writer *w, const uint8_t *p, size_t n)
{
        MLS_TRY(mls_writer_varint(w, n));
        return mls_writer_raw(w, p, n);
}

int
mls_writer_optional(struct mls_writer *w, bool present)
{
        return mls_writer_u8(w, present ? 1 : 0);
}

int
mls_writer_vec_begin(struct mls_writer *w, size_t *ret_mark)
{
        size_t mark = w->len;

        /* One byte is reserved; vec_end widens it if the body needs more. */
        MLS_TRY(mls_writer_u8(w, 0));
        *ret_mark = mark;
        return 0;
}

int
mls_writer_vec_end(struct mls_writer *w, size_t mark)
{
        size_t body, n;

        if (mark >= w->len)
                return MLS_E_INVALID_ARGUMENT;
        body = w->len - mark - 1;
        n = mls_varint_size(body);
        if (n == 0)
                return MLS_E_TOO_LARGE;
        if (n > 1) {
                MLS_TRY(writer_reserve(w, n - 1));
                memmove(w->buf + mark + n, w->buf + mark + 1, body);
                w->len += n - 1;
        }
        varint_put(w->buf + mark, body, n);
        return 0;
}

int
mls_writer_finish(struct mls_writer *w, struct mls_bytes *ret_b)
{
        if (w->secure)
                return MLS_E_INVALID_ARGUMENT;
        ret_b->data = w->buf;
        ret_b->len = w->len;
        *w = (struct mls_writer){ 0 };
        return 0;
}

int
mls_writer_finish_secret(struct mls_writer *w, struct mls_secret **ret_s)
{
        struct mls_secret *s;

        MLS_TRY(mls_secret_from(w->buf, w->len, &s));
        if (!w->secure && w->buf)
                sodium_memzero(w->buf, w->cap);
        mls_writer_clear(w);
        *ret_s = s;
        return 0;
}
