/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the inter-process protocol (daemon/ipc.h).
 *
 * The input is decoded as a Request body and as a Reply body: whatever
 * decodes must re-encode to the same bytes (with the right length prefix),
 * and every refusal must be one of the documented errors. Then the input
 * is fed as a byte stream, in chunks whose sizes come from the input
 * itself, to a receive buffer with a small cap: every frame it yields is
 * exactly the bytes announced by its prefix, and is decoded too.
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "daemon/ipc.h"

static bool
expected_error(int e)
{
        return e == MLS_E_TRUNCATED || e == MLS_E_TRAILING || e == MLS_E_NONMINIMAL ||
               e == MLS_E_BAD_VARINT || e == MLS_E_BAD_OPTIONAL || e == MLS_E_UNSUPPORTED ||
               e == MLS_E_BAD_ENUM || e == MLS_E_INVALID_MESSAGE;
}

static void
check_frame(struct mls_writer *w, const uint8_t *body, size_t len)
{
        FUZZ_ASSERT(w->len == len + MKD_IPC_HEADER_LEN);
        FUZZ_ASSERT(w->buf[0] == (uint8_t)(len >> 24) && w->buf[1] == (uint8_t)(len >> 16) &&
                    w->buf[2] == (uint8_t)(len >> 8) && w->buf[3] == (uint8_t)len);
        FUZZ_ASSERT(memcmp(w->buf + MKD_IPC_HEADER_LEN, body, len) == 0);
}

static void
decode_both(const uint8_t *body, size_t len)
{
        struct mkd_ipc_request req;
        struct mkd_ipc_reply rep;
        struct mls_writer w;
        int e;

        e = mkd_ipc_request_parse(body, len, &req);
        if (e == 0) {
                mls_writer_init(&w);
                FUZZ_ASSERT(mkd_ipc_request_write(&w, &req) == 0);
                check_frame(&w, body, len);
                mls_writer_clear(&w);
        } else {
                FUZZ_ASSERT(expected_error(e));
        }

        e = mkd_ipc_reply_parse(body, len, &rep);
        if (e == 0) {
                for (size_t i = 0; i < rep.n_writes; i++) {
                        FUZZ_ASSERT(mkd_obj_type_valid(rep.writes[i].type));
                        FUZZ_ASSERT(mkd_obj_id_valid(rep.writes[i].id_len));
                        FUZZ_ASSERT(rep.writes[i].del == (rep.writes[i].blob == NULL));
                }
                mls_writer_init(&w);
                FUZZ_ASSERT(mkd_ipc_reply_write(&w, &rep) == 0);
                check_frame(&w, body, len);
                mls_writer_clear(&w);
                mkd_ipc_reply_clear(&rep);
        } else {
                FUZZ_ASSERT(expected_error(e));
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mkd_ipc_rbuf rb;
        size_t pos = 0, step = 1;

        if (sodium_init() < 0)
                abort();
        decode_both(data, size);

        mkd_ipc_rbuf_init(&rb, 4096, false);
        while (pos < size) {
                struct mkd_ipc_frame f = { 0 };
                size_t chunk = step < size - pos ? step : size - pos, used = 0;
                int r = mkd_ipc_rbuf_feed(&rb, data + pos, chunk, &used, &f);

                if (r < 0) {
                        FUZZ_ASSERT(r == MLS_E_TOO_LARGE || r == MLS_E_INVALID_MESSAGE);
                        break;
                }
                FUZZ_ASSERT(used <= chunk);
                if (r == MKD_IPC_FRAME) {
                        FUZZ_ASSERT(f.len >= 1 && f.len <= 4096);
                        FUZZ_ASSERT(pos + used >= f.len);
                        FUZZ_ASSERT(memcmp(f.data, data + pos + used - f.len, f.len) == 0);
                        decode_both(f.data, f.len);
                        mkd_ipc_frame_clear(&f);
                } else {
                        FUZZ_ASSERT(r == MKD_IPC_AGAIN && used == chunk);
                }
                FUZZ_ASSERT(used >= 1); /* progress */
                pos += used;
                /* Chunk sizes vary with the data: 1..16 bytes. */
                step = 1 + (data[pos % size] & 15);
        }
        mkd_ipc_rbuf_clear(&rb);
        return 0;
}
