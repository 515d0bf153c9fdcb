/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of daemon/ipc over real socketpairs: exact encodings, round
 * trips, partial reads one byte at a time, pipelined frames, partial
 * writes, the frame cap (refused before any allocation), garbage, EOF in
 * mid-frame, passed file descriptors, the blocking helpers. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "daemon/ipc.h"
#include "tests/lib/testutil.h"

/* ---- allocation spy (linked with -Wl,--wrap=malloc,--wrap=sodium_malloc) ---- */

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__real_sodium_malloc(size_t n);
void *__wrap_sodium_malloc(size_t n);

static size_t largest_alloc;

void *
__wrap_malloc(size_t n)
{
        if (n > largest_alloc)
                largest_alloc = n;
        return __real_malloc(n);
}

void *
__wrap_sodium_malloc(size_t n)
{
        if (n > largest_alloc)
                largest_alloc = n;
        return __real_sodium_malloc(n);
}

/* ---- helpers ---- */

static void
pair(int sv[2], bool nonblock)
{
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
                                    0, sv),
                         0);
}

static void
send_all(int fd, const uint8_t *p, size_t n)
{
        assert_int_equal(mkd_ipc_send_blocking(fd, p, n), 0);
}

static void
encode_request(struct mls_writer *w, uint32_t id, uint16_t op, uint32_t uid, const void *args,
               size_t args_len)
{
        struct mkd_ipc_request req = { .id = id, .op = op, .caller_uid = uid, .args = args,
                                       .args_len = args_len };

        assert_int_equal(mkd_ipc_request_write(w, &req), 0);
}

static const uint8_t req_vector[] = {
        0x00, 0x00, 0x00, 0x0f,        /* length 15 */
        0x01,                          /* protocol_version */
        0x01, 0x02, 0x03, 0x04,        /* id */
        0x05, 0x06,                    /* op */
        0x00, 0x00, 0x03, 0xe8,        /* caller_uid 1000 */
        0x03, 'a', 'b', 'c',           /* args<V> */
};

static const uint8_t rep_vector[] = {
        0x00, 0x00, 0x00, 0x27,        /* length 39 */
        0x01,                          /* protocol_version */
        0x00, 0x00, 0x00, 0x07,        /* id */
        0x00, 0x00,                    /* status */
        0x02, 'o', 'k',                /* result<V> */
        0x1c,                          /* writes<V>: 28 bytes */
        0x03, 0x02, 0xaa, 0xbb,        /* group, id aabb */
        0, 0, 0, 0, 0, 0, 0, 0x09,     /* version 9 */
        0x01, 0x02, 0x5a, 0x5b,        /* present, blob 5a5b */
        0x02, 0x01, 0xcc,              /* keypackage, id cc */
        0, 0, 0, 0, 0, 0, 0, 0x01,     /* version 1 */
        0x00,                          /* absent: delete */
};

static void
test_ipc_request_encoding_and_round_trip(void **state)
{
        _mls_writer_ struct mls_writer w = { 0 };
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_rbuf rb;
        struct mkd_ipc_request req;
        int sv[2];

        (void)state;
        mls_writer_init(&w);
        encode_request(&w, 0x01020304, 0x0506, 1000, "abc", 3);
        assert_int_equal(w.len, sizeof(req_vector));
        assert_memory_equal(w.buf, req_vector, sizeof(req_vector));

        pair(sv, false);
        send_all(sv[0], w.buf, w.len);
        mkd_ipc_rbuf_init(&rb, 0, false);
        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_FRAME);
        assert_int_equal(f.len, 15);
        assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
        assert_int_equal(req.id, 0x01020304);
        assert_int_equal(req.op, 0x0506);
        assert_int_equal(req.caller_uid, 1000);
        assert_int_equal(req.args_len, 3);
        assert_memory_equal(req.args, "abc", 3);
        /* The views point into the frame. */
        assert_ptr_equal(req.args, f.data + 12);
        mkd_ipc_rbuf_clear(&rb);
        close(sv[0]);
        close(sv[1]);
}

static void
test_ipc_reply_encoding_and_round_trip(void **state)
{
        static const uint8_t gid[] = { 0xaa, 0xbb }, kid[] = { 0xcc }, blob[] = { 0x5a, 0x5b };
        struct mkd_ipc_write writes[] = {
                { .type = MKD_OBJ_GROUP, .id = gid, .id_len = 2, .version = 9, .blob = blob,
                  .blob_len = 2 },
                { .type = MKD_OBJ_KEYPACKAGE, .id = kid, .id_len = 1, .version = 1, .del = true },
        };
        struct mkd_ipc_reply rep = { .id = 7, .status = 0, .result = (const uint8_t *)"ok",
                                     .result_len = 2, .writes = writes, .n_writes = 2 };
        struct mkd_ipc_reply got;
        _mls_writer_ struct mls_writer w = { 0 };
        _mls_writer_ struct mls_writer again = { 0 };
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_rbuf rb;
        int sv[2];

        (void)state;
        mls_writer_init(&w);
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), 0);
        assert_int_equal(w.len, sizeof(rep_vector));
        assert_memory_equal(w.buf, rep_vector, sizeof(rep_vector));

        pair(sv, true);
        send_all(sv[0], w.buf, w.len);
        mkd_ipc_rbuf_init(&rb, 0, false);
        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_FRAME);
        assert_int_equal(mkd_ipc_reply_parse(f.data, f.len, &got), 0);
        assert_int_equal(got.id, 7);
        assert_int_equal(got.status, 0);
        assert_int_equal(got.result_len, 2);
        assert_memory_equal(got.result, "ok", 2);
        assert_int_equal(got.n_writes, 2);
        assert_int_equal(got.writes[0].type, MKD_OBJ_GROUP);
        assert_int_equal(got.writes[0].id_len, 2);
        assert_memory_equal(got.writes[0].id, gid, 2);
        assert_int_equal(got.writes[0].version, 9);
        assert_false(got.writes[0].del);
        assert_int_equal(got.writes[0].blob_len, 2);
        assert_memory_equal(got.writes[0].blob, blob, 2);
        assert_int_equal(got.writes[1].type, MKD_OBJ_KEYPACKAGE);
        assert_true(got.writes[1].del);
        assert_null(got.writes[1].blob);
        assert_int_equal(got.writes[1].blob_len, 0);
        /* Re-encoding gives the same bytes. */
        mls_writer_init(&again);
        assert_int_equal(mkd_ipc_reply_write(&again, &got), 0);
        assert_int_equal(again.len, sizeof(rep_vector));
        assert_memory_equal(again.buf, rep_vector, sizeof(rep_vector));
        mkd_ipc_reply_clear(&got);
        assert_null(got.writes);
        /* A reply without writes has no array. */
        rep.n_writes = 0;
        rep.status = mkd_ipc_status_from_err(MLS_E_NOT_FOUND);
        mls_writer_clear(&w);
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), 0);
        assert_int_equal(mkd_ipc_reply_parse(w.buf + 4, w.len - 4, &got), 0);
        assert_null(got.writes);
        assert_int_equal(mkd_ipc_err_from_status(got.status), MLS_E_NOT_FOUND);
        mkd_ipc_reply_clear(&got);
        mkd_ipc_rbuf_clear(&rb);
        close(sv[0]);
        close(sv[1]);
}

static void
test_ipc_status_mapping(void **state)
{
        (void)state;
        assert_int_equal(mkd_ipc_status_from_err(0), 0);
        assert_int_equal(mkd_ipc_status_from_err(5), 0);
        assert_int_equal(mkd_ipc_status_from_err(MLS_E_DECRYPT), 15);
        assert_int_equal(mkd_ipc_err_from_status(15), MLS_E_DECRYPT);
        /* Unknown codes travel as InternalError. */
        assert_int_equal(mkd_ipc_status_from_err(-30000), -MLS_E_INTERNAL);
        assert_int_equal(mkd_ipc_status_from_err(-70000), -MLS_E_INTERNAL);
}

/* The peer dribbles the frame one byte at a time: every call before the
 * last byte says AGAIN, the last one yields the frame. */
static void
test_ipc_partial_reads_one_byte_at_a_time(void **state)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_ipc_rbuf rb;
        int sv[2];

        (void)state;
        mls_writer_init(&w);
        encode_request(&w, 1, 2, 3, "hello", 5);
        encode_request(&w, 4, 5, 6, "", 0);
        pair(sv, true);
        mkd_ipc_rbuf_init(&rb, 0, false);
        {
                struct mkd_ipc_frame f = { 0 };
                struct mkd_ipc_request req;
                size_t first = 4 + 17, frames = 0;

                for (size_t i = 0; i < w.len; i++) {
                        int r;

                        send_all(sv[0], w.buf + i, 1);
                        r = mkd_ipc_recv(&rb, sv[1], &f);
                        if (i + 1 == first || i + 1 == w.len) {
                                assert_int_equal(r, MKD_IPC_FRAME);
                                assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
                                assert_int_equal(req.id, frames == 0 ? 1 : 4);
                                mkd_ipc_frame_clear(&f);
                                frames++;
                        } else {
                                assert_int_equal(r, MKD_IPC_AGAIN);
                        }
                }
                assert_int_equal(frames, 2);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_AGAIN);
                close(sv[0]);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_EOF);
        }
        mkd_ipc_rbuf_clear(&rb);
        close(sv[1]);
}

/* Memory feeding: the same state machine, every split point. */
static void
test_ipc_feed_every_split(void **state)
{
        _mls_writer_ struct mls_writer w = { 0 };

        (void)state;
        mls_writer_init(&w);
        encode_request(&w, 11, 1, 0, "xyz", 3);
        encode_request(&w, 12, 1, 0, "", 0);
        for (size_t cut = 0; cut <= w.len; cut++) {
                struct mkd_ipc_rbuf rb;
                struct mkd_ipc_frame f = { 0 };
                struct mkd_ipc_request req;
                size_t pos = 0, used = 0, n = 0;
                const size_t ends[2] = { cut, w.len };

                mkd_ipc_rbuf_init(&rb, 0, false);
                for (size_t k = 0; k < 2; k++) {
                        while (pos < ends[k]) {
                                int r = mkd_ipc_rbuf_feed(&rb, w.buf + pos, ends[k] - pos, &used, &f);

                                assert_true(r == MKD_IPC_FRAME || r == MKD_IPC_AGAIN);
                                assert_true(used <= ends[k] - pos);
                                pos += used;
                                if (r == MKD_IPC_FRAME) {
                                        assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
                                        assert_int_equal(req.id, 11 + n);
                                        n++;
                                        mkd_ipc_frame_clear(&f);
                                }
                        }
                }
                assert_int_equal(n, 2);
                mkd_ipc_rbuf_clear(&rb);
        }
}

/* Many frames pipelined through a send queue over a non-blocking socket
 * with a small buffer: partial writes, EAGAIN, order kept. */
static void
test_ipc_pipelined_frames_and_partial_writes(void **state)
{
        enum { N = 2000 };
        _mkd_ipc_sendq_ struct mkd_ipc_sendq q;
        struct mkd_ipc_rbuf rb;
        uint8_t *big;
        int sv[2], small = 4096;
        uint32_t next = 0;
        bool saw_pending = false;

        (void)state;
        pair(sv, true);
        assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
        assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
        mkd_ipc_sendq_init(&q, false);
        mkd_ipc_rbuf_init(&rb, 0, false);
        big = malloc(300000);
        assert_non_null(big);
        for (size_t i = 0; i < 300000; i++)
                big[i] = (uint8_t)(i * 7);
        for (uint32_t i = 0; i < N; i++) {
                _mls_writer_ struct mls_writer w = { 0 };

                mls_writer_init(&w);
                /* Every 100th frame is large. */
                if (i % 100 == 50)
                        encode_request(&w, i, 9, i, big, 300000);
                else
                        encode_request(&w, i, 9, i, &i, sizeof(i));
                assert_int_equal(mkd_ipc_sendq_push(&q, &w), 0);
                assert_int_equal(w.len, 0);
        }
        while (next < N) {
                struct mkd_ipc_frame f = { 0 };
                int r = mkd_ipc_sendq_flush(&q, sv[0]);

                assert_true(r == MKD_IPC_SENT || r == MKD_IPC_PENDING);
                if (r == MKD_IPC_PENDING)
                        saw_pending = true;
                while ((r = mkd_ipc_recv(&rb, sv[1], &f)) == MKD_IPC_FRAME) {
                        struct mkd_ipc_request req;

                        assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
                        assert_int_equal(req.id, next);
                        assert_int_equal(req.caller_uid, next);
                        if (next % 100 == 50) {
                                assert_int_equal(req.args_len, 300000);
                                assert_memory_equal(req.args, big, 300000);
                        } else {
                                assert_int_equal(req.args_len, sizeof(next));
                                assert_memory_equal(req.args, &next, sizeof(next));
                        }
                        next++;
                        mkd_ipc_frame_clear(&f);
                }
                assert_int_equal(r, MKD_IPC_AGAIN);
        }
        assert_true(saw_pending);
        assert_true(mkd_ipc_sendq_empty(&q));
        assert_int_equal(mkd_ipc_sendq_flush(&q, sv[0]), MKD_IPC_SENT);
        free(big);
        mkd_ipc_rbuf_clear(&rb);
        close(sv[0]);
        close(sv[1]);
}

/* A length over the cap is refused as soon as the 4-byte prefix is in,
 * and nothing of that size is ever allocated. */
static void
test_ipc_frame_over_cap_refused_without_allocating(void **state)
{
        static const uint8_t over[4] = { 0x04, 0x00, 0x00, 0x01 }; /* 64 MiB + 1 */
        static const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
        static const uint8_t small_over[4] = { 0x00, 0x00, 0x04, 0x01 }; /* 1025 */
        static const uint8_t small_ok[4] = { 0x00, 0x00, 0x04, 0x00 };   /* 1024 */
        const uint8_t *const refused[] = { over, huge };
        struct mkd_ipc_frame f = { 0 };
        int sv[2];

        (void)state;
        for (size_t i = 0; i < 2; i++) {
                for (int secure = 0; secure < 2; secure++) {
                        struct mkd_ipc_rbuf rb;

                        pair(sv, true);
                        mkd_ipc_rbuf_init(&rb, 0, secure);
                        send_all(sv[0], refused[i], 4);
                        largest_alloc = 0;
                        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MLS_E_TOO_LARGE);
                        /* nothing but the fixed read-ahead buffer */
                        assert_true(largest_alloc <= MKD_IPC_AHEAD);
                        assert_null(rb.body);
                        /* The stream stays dead. */
                        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MLS_E_TOO_LARGE);
                        mkd_ipc_rbuf_clear(&rb);
                        close(sv[0]);
                        close(sv[1]);
                }
        }
        /* A caller's smaller cap. */
        {
                struct mkd_ipc_rbuf rb;
                size_t used;

                mkd_ipc_rbuf_init(&rb, 1024, false);
                largest_alloc = 0;
                assert_int_equal(mkd_ipc_rbuf_feed(&rb, small_over, 4, &used, &f), MLS_E_TOO_LARGE);
                assert_true(largest_alloc < 1025);
                mkd_ipc_rbuf_clear(&rb);
                mkd_ipc_rbuf_init(&rb, 1024, false);
                assert_int_equal(mkd_ipc_rbuf_feed(&rb, small_ok, 4, &used, &f), MKD_IPC_AGAIN);
                assert_int_equal(used, 4);
                assert_int_equal(largest_alloc, 1024);
                mkd_ipc_rbuf_clear(&rb);
        }
        /* The cap is clamped to 64 MiB; exactly 64 MiB is accepted. */
        {
                static const uint8_t at_cap[4] = { 0x04, 0x00, 0x00, 0x00 };
                struct mkd_ipc_rbuf rb;
                size_t used;

                mkd_ipc_rbuf_init(&rb, SIZE_MAX, false);
                assert_int_equal(rb.max, MKD_IPC_FRAME_MAX);
                assert_int_equal(mkd_ipc_rbuf_feed(&rb, at_cap, 4, &used, &f), MKD_IPC_AGAIN);
                assert_int_equal(rb.body_len, MKD_IPC_FRAME_MAX);
                mkd_ipc_rbuf_clear(&rb);
        }
        /* And the encoder refuses to build one, before touching the
         * arguments: 11 bytes of fields + a 4-byte length + args. */
        {
                _mls_writer_ struct mls_writer w = { 0 };
                static const uint8_t dummy[1];
                struct mkd_ipc_request req = { .args = dummy, .args_len = MKD_IPC_FRAME_MAX - 14 };
                struct mkd_ipc_reply rep = { .result = dummy, .result_len = MKD_IPC_FRAME_MAX - 11 };

                mls_writer_init(&w);
                assert_int_equal(mkd_ipc_request_write(&w, &req), MLS_E_TOO_LARGE);
                assert_int_equal(w.len, 0);
                assert_int_equal(mkd_ipc_reply_write(&w, &rep), MLS_E_TOO_LARGE);
                assert_int_equal(w.len, 0);
        }
}

static void
test_ipc_zero_length_frame_refused(void **state)
{
        static const uint8_t zero[4] = { 0, 0, 0, 0 };
        struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_rbuf rb;
        int sv[2];

        (void)state;
        pair(sv, true);
        mkd_ipc_rbuf_init(&rb, 0, false);
        send_all(sv[0], zero, 4);
        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MLS_E_INVALID_MESSAGE);
        mkd_ipc_rbuf_clear(&rb);
        close(sv[0]);
        close(sv[1]);
}

/* Every truncation of a valid body, every extension by a byte, and a set
 * of targeted corruptions are refused with the expected error. */
static void
test_ipc_garbage_refused(void **state)
{
        const uint8_t *req = req_vector + 4, *rep = rep_vector + 4;
        const size_t req_len = sizeof(req_vector) - 4, rep_len = sizeof(rep_vector) - 4;
        struct mkd_ipc_request rq;
        struct mkd_ipc_reply rp;
        uint8_t buf[64];

        (void)state;
        /* Every truncation, in an exact-size guarded copy: an overread
         * faults. */
        for (size_t n = 0; n < req_len; n++) {
                uint8_t *g = tu_guarded_copy(req, n);

                assert_non_null(g);
                assert_true(mkd_ipc_request_parse(g, n, &rq) < 0);
                tu_guarded_free(g);
        }
        for (size_t n = 0; n < rep_len; n++) {
                uint8_t *g = tu_guarded_copy(rep, n);

                assert_non_null(g);
                assert_true(mkd_ipc_reply_parse(g, n, &rp) < 0);
                tu_guarded_free(g);
        }
        memcpy(buf, req, req_len);
        buf[req_len] = 0;
        assert_int_equal(mkd_ipc_request_parse(buf, req_len + 1, &rq), MLS_E_TRAILING);
        memcpy(buf, rep, rep_len);
        buf[rep_len] = 0;
        assert_int_equal(mkd_ipc_reply_parse(buf, rep_len + 1, &rp), MLS_E_TRAILING);

#define REQ_CORRUPT(off, val, err)                                              \
        do {                                                                    \
                memcpy(buf, req, req_len);                                      \
                buf[off] = (val);                                               \
                assert_int_equal(mkd_ipc_request_parse(buf, req_len, &rq), err); \
        } while (0)
#define REP_CORRUPT(off, val, err)                                              \
        do {                                                                    \
                memcpy(buf, rep, rep_len);                                      \
                buf[off] = (val);                                               \
                assert_int_equal(mkd_ipc_reply_parse(buf, rep_len, &rp), err);  \
        } while (0)
        REQ_CORRUPT(0, 0, MLS_E_UNSUPPORTED);           /* protocol_version */
        REQ_CORRUPT(0, 2, MLS_E_UNSUPPORTED);
        REQ_CORRUPT(11, 0x04, MLS_E_TRUNCATED);         /* args longer than the body */
        REQ_CORRUPT(11, 0x02, MLS_E_TRAILING);          /* args shorter */
        REQ_CORRUPT(11, 0xc0, MLS_E_BAD_VARINT);
        REP_CORRUPT(0, 0xff, MLS_E_UNSUPPORTED);
        REP_CORRUPT(6, 0x7f, MLS_E_INVALID_MESSAGE);    /* status: no such error */
        REP_CORRUPT(10, 0x1d, MLS_E_TRUNCATED);         /* writes<V> too long */
        REP_CORRUPT(10, 0x1b, MLS_E_TRAILING);          /* writes<V> too short */
        REP_CORRUPT(11, 0x00, MLS_E_BAD_ENUM);          /* object type 0 */
        REP_CORRUPT(11, 0x05, MLS_E_BAD_ENUM);          /* object type 5 (4 is the manifest) */
        REP_CORRUPT(12, 0x00, MLS_E_INVALID_MESSAGE);   /* empty id: then the rest misparses */
        REP_CORRUPT(23, 0x02, MLS_E_BAD_OPTIONAL);      /* presence byte */
        REP_CORRUPT(24, 0x00, MLS_E_INVALID_MESSAGE);   /* present but empty blob */
        REP_CORRUPT(38, 0x01, MLS_E_TRUNCATED);         /* delete marker turned into a put */
#undef REQ_CORRUPT
#undef REP_CORRUPT
        /* A non-minimal length prefix (2-byte form of 3). */
        {
                static const uint8_t nonmin[] = { 0x01, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0x40, 0x03,
                                                  'a', 'b', 'c' };

                assert_int_equal(mkd_ipc_request_parse(nonmin, sizeof(nonmin), &rq),
                                 MLS_E_NONMINIMAL);
        }
        /* Object ids of 64 bytes pass, of 65 bytes do not (built by hand:
         * the encoder refuses them). */
        for (size_t idlen = 64; idlen <= 65; idlen++) {
                _mls_writer_ struct mls_writer w = { 0 };
                uint8_t id[65];
                size_t mark;

                memset(id, 0x11, sizeof(id));
                mls_writer_init(&w);
                assert_int_equal(mls_writer_u8(&w, 1), 0);
                assert_int_equal(mls_writer_u32(&w, 5), 0);
                assert_int_equal(mls_writer_u16(&w, 0), 0);
                assert_int_equal(mls_writer_opaque(&w, NULL, 0), 0);
                assert_int_equal(mls_writer_vec_begin(&w, &mark), 0);
                assert_int_equal(mls_writer_u8(&w, MKD_OBJ_IDENTITY), 0);
                assert_int_equal(mls_writer_opaque(&w, id, idlen), 0);
                assert_int_equal(mls_writer_u64(&w, 3), 0);
                assert_int_equal(mls_writer_optional(&w, false), 0);
                assert_int_equal(mls_writer_vec_end(&w, mark), 0);
                if (idlen == 65) {
                        assert_int_equal(mkd_ipc_reply_parse(w.buf, w.len, &rp), MLS_E_INVALID_MESSAGE);
                        continue;
                }
                assert_int_equal(mkd_ipc_reply_parse(w.buf, w.len, &rp), 0);
                assert_int_equal(rp.n_writes, 1);
                assert_int_equal(rp.writes[0].id_len, 64);
                assert_true(rp.writes[0].del);
                mkd_ipc_reply_clear(&rp);
        }
}

/* The encoder refuses invalid writes and leaves earlier frames intact. */
static void
test_ipc_encoder_rejects_invalid_writes(void **state)
{
        static const uint8_t id[65] = { 1 };
        struct mkd_ipc_write o = { .type = MKD_OBJ_IDENTITY, .id = id, .id_len = 1, .blob = id,
                                   .blob_len = 1 };
        struct mkd_ipc_reply rep = { .writes = &o, .n_writes = 1 };
        _mls_writer_ struct mls_writer w = { 0 };
        size_t before;

        (void)state;
        mls_writer_init(&w);
        encode_request(&w, 1, 1, 1, "x", 1);
        before = w.len;
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), 0);
        w.len = before;
        o.type = 0;
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(w.len, before);
        o.type = 5; /* 4 is the manifest */
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), MLS_E_INVALID_ARGUMENT);
        o.type = MKD_OBJ_GROUP;
        o.id_len = 0;
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), MLS_E_INVALID_ARGUMENT);
        o.id_len = 65;
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), MLS_E_INVALID_ARGUMENT);
        o.id_len = 64;
        o.blob_len = 0;
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), MLS_E_INVALID_ARGUMENT);
        o.del = true;
        o.blob_len = 1;
        assert_int_equal(mkd_ipc_reply_write(&w, &rep), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(w.len, before);
        /* The frame written before is intact. */
        {
                struct mkd_ipc_request req;

                assert_int_equal(mkd_ipc_request_parse(w.buf + 4, before - 4, &req), 0);
                assert_int_equal(req.id, 1);
        }
}

/* Frames written together come out of one read: the later ones wait in
 * the read-ahead buffer (mkd_ipc_rbuf_buffered) and come out without
 * touching the socket; after the short read that drained it, the next
 * call says MKD_IPC_AGAIN without reading, and a read follows again after
 * that. A secure buffer wipes what it has handed out. */
static void
test_ipc_read_ahead(void **state)
{
        (void)state;
        for (int secure = 0; secure < 2; secure++) {
                _mls_writer_ struct mls_writer w = { 0 };
                struct mkd_ipc_rbuf rb;
                struct mkd_ipc_frame f = { 0 };
                struct mkd_ipc_request req;
                int sv[2];

                mls_writer_init(&w);
                for (uint32_t id = 1; id <= 3; id++)
                        encode_request(&w, id, 7, 0, "secret!", 7);
                pair(sv, true);
                mkd_ipc_rbuf_init(&rb, 0, secure);
                send_all(sv[0], w.buf, w.len);
                for (uint32_t id = 1; id <= 3; id++) {
                        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_FRAME);
                        assert_int_equal(f.secure, secure);
                        assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
                        assert_int_equal(req.id, id);
                        assert_int_equal(mkd_ipc_rbuf_buffered(&rb), id < 3);
                        mkd_ipc_frame_clear(&f);
                }
                if (secure)
                        for (size_t i = 0; i < w.len; i++)
                                assert_int_equal(rb.ahead[i], 0);
                /* Another frame has arrived, but the drained socket is only
                 * read again after the caller heard MKD_IPC_AGAIN. */
                mls_writer_clear(&w);
                mls_writer_init(&w);
                encode_request(&w, 4, 7, 0, "x", 1);
                send_all(sv[0], w.buf, w.len);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_AGAIN);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_FRAME);
                assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
                assert_int_equal(req.id, 4);
                mkd_ipc_frame_clear(&f);
                /* and one split across a read: no frame, no extra read */
                mls_writer_clear(&w);
                mls_writer_init(&w);
                encode_request(&w, 5, 7, 0, "split", 5);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_AGAIN);
                send_all(sv[0], w.buf, 6);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_AGAIN);
                send_all(sv[0], w.buf + 6, w.len - 6);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_FRAME);
                assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
                assert_int_equal(req.id, 5);
                mkd_ipc_frame_clear(&f);
                mkd_ipc_rbuf_clear(&rb);
                assert_null(rb.ahead);
                close(sv[0]);
                close(sv[1]);
        }
}

static void
test_ipc_eof_mid_frame(void **state)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_ipc_frame f = { 0 };

        (void)state;
        mls_writer_init(&w);
        encode_request(&w, 1, 2, 3, "0123456789", 10);
        /* Cut inside the prefix, at the end of it, and inside the body. */
        for (size_t cut = 1; cut < w.len; cut++) {
                struct mkd_ipc_rbuf rb;
                int sv[2], r;

                pair(sv, false);
                mkd_ipc_rbuf_init(&rb, 0, false);
                send_all(sv[0], w.buf, cut);
                close(sv[0]);
                /* (a short read says MKD_IPC_AGAIN: wait for POLLIN, which
                 * the end of the stream gives) */
                r = mkd_ipc_recv_blocking(&rb, sv[1], &f);
                assert_int_equal(r, MLS_E_TRUNCATED);
                assert_null(rb.body);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MLS_E_TRUNCATED);
                mkd_ipc_rbuf_clear(&rb);
                close(sv[1]);
        }
        /* EOF right after a whole frame is clean. */
        {
                struct mkd_ipc_rbuf rb;
                int sv[2];

                pair(sv, false);
                mkd_ipc_rbuf_init(&rb, 0, true);
                send_all(sv[0], w.buf, w.len);
                close(sv[0]);
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_FRAME);
                assert_true(f.secure);
                mkd_ipc_frame_clear(&f);
                /* the frame came in a short read: no second read until the
                 * caller has waited for POLLIN */
                assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_AGAIN);
                assert_int_equal(mkd_ipc_recv_blocking(&rb, sv[1], &f), MKD_IPC_EOF);
                mkd_ipc_rbuf_clear(&rb);
                close(sv[1]);
        }
}

/* File descriptors passed with SCM_RIGHTS mean a misbehaving peer. */
static void
test_ipc_passed_fds_refused(void **state)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_rbuf rb;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                              .msg_controllen = sizeof(ctl.buf) };
        struct cmsghdr *c;
        int sv[2], devnull;

        (void)state;
        mls_writer_init(&w);
        encode_request(&w, 1, 2, 3, "x", 1);
        pair(sv, true);
        memset(&ctl, 0, sizeof(ctl));
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(devnull >= 0);
        iov = (struct iovec){ .iov_base = w.buf, .iov_len = w.len };
        c = &ctl.h; /* CMSG_FIRSTHDR(&msg) */
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &devnull, sizeof(int));
        assert_int_equal(sendmsg(sv[0], &msg, 0), (ssize_t)w.len);
        mkd_ipc_rbuf_init(&rb, 0, false);
        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MLS_E_INVALID_MESSAGE);
        mkd_ipc_rbuf_clear(&rb);
        close(devnull);
        close(sv[0]);
        close(sv[1]);
}

/* A secure queue takes only secure writers; frames arrive in guarded
 * memory. */
static void
test_ipc_secure_channel(void **state)
{
        _mkd_ipc_sendq_ struct mkd_ipc_sendq q;
        _mls_writer_ struct mls_writer plain = { 0 };
        _mls_writer_ struct mls_writer sec = { 0 };
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_rbuf rb;
        struct mkd_ipc_request req;
        int sv[2];

        (void)state;
        pair(sv, true);
        mkd_ipc_sendq_init(&q, true);
        mls_writer_init(&plain);
        mls_writer_init_secure(&sec);
        encode_request(&plain, 1, 1, 1, "k", 1);
        assert_int_equal(mkd_ipc_sendq_push(&q, &plain), MLS_E_INVALID_ARGUMENT);
        encode_request(&sec, 2, 1, 1, "secret", 6);
        assert_int_equal(mkd_ipc_sendq_push(&q, &sec), 0);
        assert_int_equal(mkd_ipc_sendq_flush(&q, sv[0]), MKD_IPC_SENT);
        mkd_ipc_rbuf_init(&rb, 0, true);
        assert_int_equal(mkd_ipc_recv(&rb, sv[1], &f), MKD_IPC_FRAME);
        assert_true(f.secure);
        assert_int_equal(mkd_ipc_request_parse(f.data, f.len, &req), 0);
        assert_int_equal(req.id, 2);
        assert_memory_equal(req.args, "secret", 6);
        mkd_ipc_rbuf_clear(&rb);
        close(sv[0]);
        close(sv[1]);
}

/* Sending to a closed peer is an error, not a SIGPIPE. */
static void
test_ipc_peer_gone(void **state)
{
        _mkd_ipc_sendq_ struct mkd_ipc_sendq q;
        _mls_writer_ struct mls_writer w = { 0 };
        int sv[2];

        (void)state;
        pair(sv, true);
        close(sv[1]);
        mkd_ipc_sendq_init(&q, false);
        mls_writer_init(&w);
        encode_request(&w, 1, 1, 1, "x", 1);
        assert_int_equal(mkd_ipc_sendq_push(&q, &w), 0);
        assert_int_equal(mkd_ipc_sendq_flush(&q, sv[0]), MLS_E_IO);
        assert_int_equal(mkd_ipc_sendq_flush(&q, sv[0]), MLS_E_IO);
        assert_int_equal(mkd_ipc_send_blocking(sv[0], (const uint8_t *)"x", 1), MLS_E_IO);
        close(sv[0]);
}

/* The blocking helpers, as a child would use them: an echo server in a
 * forked process answers a 1 MiB request and then sees EOF. */
static void
test_ipc_blocking_helpers(void **state)
{
        const size_t big = 1u << 20;
        _mls_writer_ struct mls_writer w = { 0 };
        _mkd_ipc_frame_ struct mkd_ipc_frame f = { 0 };
        struct mkd_ipc_rbuf rb;
        struct mkd_ipc_reply rep;
        uint8_t *args;
        int sv[2], status;
        pid_t pid;

        (void)state;
        pair(sv, false);
        args = malloc(big);
        assert_non_null(args);
        randombytes_buf(args, big);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct mkd_ipc_rbuf crb;
                struct mkd_ipc_frame cf = { 0 };
                int code = 0;

                close(sv[0]);
                free(args);
                mkd_ipc_rbuf_init(&crb, 0, false);
                for (;;) {
                        struct mkd_ipc_request req;
                        struct mls_writer cw;
                        int r = mkd_ipc_recv_blocking(&crb, sv[1], &cf);

                        if (r == MKD_IPC_EOF)
                                break;
                        if (r != MKD_IPC_FRAME || mkd_ipc_request_parse(cf.data, cf.len, &req) < 0) {
                                code = 1;
                                break;
                        }
                        mls_writer_init(&cw);
                        {
                                struct mkd_ipc_reply out = { .id = req.id, .result = req.args,
                                                             .result_len = req.args_len };

                                if (mkd_ipc_reply_write(&cw, &out) < 0 ||
                                    mkd_ipc_send_blocking(sv[1], cw.buf, cw.len) < 0)
                                        code = 2;
                        }
                        mls_writer_clear(&cw);
                        mkd_ipc_frame_clear(&cf);
                }
                mkd_ipc_rbuf_clear(&crb);
                _exit(code);
        }
        close(sv[1]);
        mls_writer_init(&w);
        encode_request(&w, 77, 1, 0, args, big);
        assert_int_equal(mkd_ipc_send_blocking(sv[0], w.buf, w.len), 0);
        mkd_ipc_rbuf_init(&rb, 0, false);
        assert_int_equal(mkd_ipc_recv_blocking(&rb, sv[0], &f), MKD_IPC_FRAME);
        assert_int_equal(mkd_ipc_reply_parse(f.data, f.len, &rep), 0);
        assert_int_equal(rep.id, 77);
        assert_int_equal(rep.result_len, big);
        assert_memory_equal(rep.result, args, big);
        mkd_ipc_reply_clear(&rep);
        shutdown(sv[0], SHUT_WR);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(mkd_ipc_recv_blocking(&rb, sv[0], &f), MKD_IPC_EOF);
        mkd_ipc_rbuf_clear(&rb);
        free(args);
        close(sv[0]);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ipc_request_encoding_and_round_trip),
                cmocka_unit_test(test_ipc_reply_encoding_and_round_trip),
                cmocka_unit_test(test_ipc_status_mapping),
                cmocka_unit_test(test_ipc_partial_reads_one_byte_at_a_time),
                cmocka_unit_test(test_ipc_feed_every_split),
                cmocka_unit_test(test_ipc_pipelined_frames_and_partial_writes),
                cmocka_unit_test(test_ipc_frame_over_cap_refused_without_allocating),
                cmocka_unit_test(test_ipc_zero_length_frame_refused),
                cmocka_unit_test(test_ipc_garbage_refused),
                cmocka_unit_test(test_ipc_encoder_rejects_invalid_writes),
                cmocka_unit_test(test_ipc_eof_mid_frame),
                cmocka_unit_test(test_ipc_read_ahead),
                cmocka_unit_test(test_ipc_passed_fds_refused),
                cmocka_unit_test(test_ipc_secure_channel),
                cmocka_unit_test(test_ipc_peer_gone),
                cmocka_unit_test(test_ipc_blocking_helpers),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
