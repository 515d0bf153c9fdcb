/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one TLS-presentation-language codec of mlskeyd (RFC 9420 section 2.1),
 * used for MLS structures, saved state and the inter-process protocol alike.
 *
 * Reader: a cursor over borrowed input. It never allocates (except the
 * explicit *_copy/_secret getters, which allocate at most what the input
 * holds) and never reads past `left`. Every getter returns 0 or a negative
 * MLS_E_* and leaves its ret_ parameters untouched on failure. A failed
 * getter may have consumed part of the input; a parser abandons the reader
 * on the first error.
 *
 * Writer: a growing buffer. Vectors are written as
 *   mls_writer_vec_begin(w, &mark); ...body...; mls_writer_vec_end(w, mark);
 * which fills in the minimal variable-length prefix afterwards. A "secure"
 * writer keeps its buffer in guarded memory and wipes every buffer it drops
 * (for encodings that contain secrets, such as GroupSecrets or saved state).
 */
#ifndef MLS_CODEC_H
#define MLS_CODEC_H

#include "mls/common.h"
#include "mls/secret.h"

/* RFC 9420 section 2.1.2: a vector length is at most 2^30 - 1. */
#define MLS_VARINT_MAX ((uint64_t)0x3fffffff)

/* Public (non-secret) heap bytes; malloc-owned. An empty value may have
 * data == NULL. */
struct mls_bytes {
        uint8_t *data;
        size_t len;
};

void mls_bytes_clear(struct mls_bytes *b);   /* frees, resets to empty */
MLS_MUST_CHECK int mls_bytes_copy(struct mls_bytes *ret_b, const uint8_t *p, size_t len);
MLS_MUST_CHECK int mls_bytes_dup(struct mls_bytes *ret_b, const struct mls_bytes *src);
bool mls_bytes_eq(const struct mls_bytes *a, const struct mls_bytes *b);

/* ---- reader ---- */

struct mls_reader {
        const uint8_t *p;
        size_t left;
};

void mls_reader_init(struct mls_reader *r, const uint8_t *p, size_t len);

MLS_MUST_CHECK int mls_reader_u8(struct mls_reader *r, uint8_t *ret_v);
MLS_MUST_CHECK int mls_reader_u16(struct mls_reader *r, uint16_t *ret_v);
MLS_MUST_CHECK int mls_reader_u32(struct mls_reader *r, uint32_t *ret_v);
MLS_MUST_CHECK int mls_reader_u64(struct mls_reader *r, uint64_t *ret_v);

/* RFC 9420 section 2.1.2 variable-length integer. Rejects the 0b11 prefix
 * (MLS_E_BAD_VARINT) and non-minimal encodings (MLS_E_NONMINIMAL). */
MLS_MUST_CHECK int mls_reader_varint(struct mls_reader *r, uint64_t *ret_v);

/* A vector: reads the varint length, checks the body is present
 * (MLS_E_TRUNCATED otherwise) and returns a child reader limited to it. */
MLS_MUST_CHECK int mls_reader_vec(struct mls_reader *r, struct mls_reader *ret_sub);

/* n raw bytes, as a view into the input. */
MLS_MUST_CHECK int mls_reader_raw(struct mls_reader *r, size_t n, const uint8_t **ret_p);

/* opaque x<V>, as a view into the input. */
MLS_MUST_CHECK int mls_reader_opaque_view(struct mls_reader *r, const uint8_t **ret_p,
                                          size_t *ret_len);
/* opaque x<V>, copied to the heap. */
MLS_MUST_CHECK int mls_reader_opaque(struct mls_reader *r, struct mls_bytes *ret_b);
/* opaque x<V>, copied into guarded memory. */
MLS_MUST_CHECK int mls_reader_opaque_secret(struct mls_reader *r, struct mls_secret **ret_s);

/* optional<T> presence octet (RFC 9420 section 2.1.1): 0 or 1, anything else
 * is MLS_E_BAD_OPTIONAL (R-2.1.1-1). */
MLS_MUST_CHECK int mls_reader_optional(struct mls_reader *r, bool *ret_present);

/* 0 if the reader is exhausted, MLS_E_TRAILING otherwise. */
MLS_MUST_CHECK int mls_reader_done(const struct mls_reader *r);

static inline bool
mls_reader_empty(const struct mls_reader *r)
{
        return r->left == 0;
}

/* ---- writer ---- */

struct mls_gpool; /* mls/secret.h */

struct mls_writer {
        uint8_t *buf;
        size_t len;
        size_t cap;
        bool secure;
        struct mls_gpool *pool; /* secure writers: where buffers come from */
};

void mls_writer_init(struct mls_writer *w);
void mls_writer_init_secure(struct mls_writer *w);
/* A secure writer whose buffers come from (and go back to) pool, a cache
 * of guarded blocks (mls/secret.h): no sodium_malloc on a hot path once
 * the pool is warm. pool NULL is mls_writer_init_secure. */
void mls_writer_init_pool(struct mls_writer *w, struct mls_gpool *pool);
/* Frees the buffer (wiping it if secure) and resets to empty. */
void mls_writer_clear(struct mls_writer *w);
#define _mls_writer_ _mls_cleanup_(mls_writer_clear)

/* Makes room for `extra` more bytes in one allocation (a secure writer then
 * holds its whole output in one guarded buffer instead of reallocating as
 * it grows). Optional: the writer grows by itself. */
MLS_MUST_CHECK int mls_writer_reserve(struct mls_writer *w, size_t extra);

MLS_MUST_CHECK int mls_writer_u8(struct mls_writer *w, uint8_t v);
MLS_MUST_CHECK int mls_writer_u16(struct mls_writer *w, uint16_t v);
MLS_MUST_CHECK int mls_writer_u32(struct mls_writer *w, uint32_t v);
MLS_MUST_CHECK int mls_writer_u64(struct mls_writer *w, uint64_t v);
/* v big-endian into b[0..8) (no writer, no allocation). */
static inline void
mls_put_u64(uint8_t b[8], uint64_t v)
{
        for (size_t i = 0; i < 8; i++)
                b[i] = (uint8_t)(v >> (56 - 8 * i));
}
/* Minimal encoding; MLS_E_TOO_LARGE above MLS_VARINT_MAX. */
MLS_MUST_CHECK int mls_writer_varint(struct mls_writer *w, uint64_t v);
MLS_MUST_CHECK int mls_writer_raw(struct mls_writer *w, const uint8_t *p, size_t n);
/* opaque x<V>: varint length then the bytes. */
MLS_MUST_CHECK int mls_writer_opaque(struct mls_writer *w, const uint8_t *p, size_t n);
MLS_MUST_CHECK int mls_writer_optional(struct mls_writer *w, bool present);

/* Starts a vector body; *ret_mark is handed to mls_writer_vec_end, which
 * writes the minimal length prefix in front of the body. Vectors nest. */
MLS_MUST_CHECK int mls_writer_vec_begin(struct mls_writer *w, size_t *ret_mark);
MLS_MUST_CHECK int mls_writer_vec_end(struct mls_writer *w, size_t mark);

/* Hands the encoding to the caller and resets the writer.
 * _finish: non-secure writers only (MLS_E_INVALID_ARGUMENT otherwise).
 * _finish_secret: copies into a struct mls_secret and wipes the buffer;
 * works for both kinds. */
MLS_MUST_CHECK int mls_writer_finish(struct mls_writer *w, struct mls_bytes *ret_b);
MLS_MUST_CHECK int mls_writer_finish_secret(struct mls_writer *w, struct mls_secret **ret_s);

/* Number of bytes mls_writer_varint would write for v (0 if too large). */
size_t mls_varint_size(uint64_t v);

#endif
