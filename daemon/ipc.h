/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inter-process protocol between broker, engine and vault (DESIGN.md
 * section 2, "Inter-process protocol"): length-prefixed frames over
 * socketpair(AF_UNIX, SOCK_STREAM), encoded with the one codec (mls/codec.h).
 *
 *   Frame   = uint32 length (big-endian, 1..MKD_IPC_FRAME_MAX) || body
 *
 *   struct {
 *       uint8  protocol_version;        -- MKD_IPC_VERSION
 *       uint32 id;                      -- pipelining: the reply echoes it
 *       uint16 op;                      -- the receiver's dispatch table decides
 *       uint32 caller_uid;
 *       opaque args<V>;
 *   } Request;
 *
 *   struct {
 *       uint8  type;                    -- enum mkd_obj_type
 *       opaque id<V>;                   -- 1..MKD_OBJ_ID_MAX bytes
 *       uint64 version;
 *       optional<opaque blob<V>> blob;  -- present: store this (non-empty)
 *                                       -- sealed blob; absent: delete marker
 *   } SealedObject;
 *
 *   struct {
 *       uint8  protocol_version;
 *       uint32 id;
 *       uint16 status;                  -- 0, or -MLS_E_* of mls/error.h
 *       opaque result<V>;
 *       SealedObject writes<V>;
 *   } Reply;
 *
 * A decoded structure must use the whole body (no trailing bytes) and
 * re-encodes to the same bytes. ANY decode or framing error (bad version,
 * a length over the cap, truncation, trailing bytes, an unknown object
 * type, a bad optional, a non-minimal length, an unknown status) means
 * the peer is compromised: the caller ends that peer (and the broker
 * restarts it); there is no resynchronisation.
 *
 * Per-op argument caps (much smaller than the frame cap) are the
 * dispatcher's business.
 *
 * Frames between engine and vault carry secrets (state to seal, unsealed
 * state, keys): "secure" receive buffers and send queues keep every byte
 * in guarded memory (sodium_malloc) and wipe it when dropped.
 */
#ifndef MKD_IPC_H
#define MKD_IPC_H

#include "mls/codec.h"
#include "mls/secret.h"
#include "daemon/object.h"

#define MKD_IPC_VERSION 1
/* Largest body accepted or produced (the length prefix excluded). */
#define MKD_IPC_FRAME_MAX (UINT32_C(64) << 20)
#define MKD_IPC_HEADER_LEN 4

/* ---- messages ---- */

/* Decoded messages are views: their pointers point into the body they
 * were decoded from, which must outlive them. */
struct mkd_ipc_request {
        uint32_t id;
        uint16_t op;
        uint32_t caller_uid;
        const uint8_t *args;
        size_t args_len;
};

struct mkd_ipc_write {
        uint8_t type; /* enum mkd_obj_type */
        const uint8_t *id;
        size_t id_len;
        uint64_t version;
        bool del; /* delete marker: blob is NULL/0 */
        const uint8_t *blob;
        size_t blob_len;
};

struct mkd_ipc_reply {
        uint32_t id;
        uint16_t status;
        const uint8_t *result;
        size_t result_len;
        /* Encoding: the caller's array. Decoding: malloc'd by the decoder,
         * freed by mkd_ipc_reply_clear (NULL when n_writes is 0). */
        struct mkd_ipc_write *writes;
        size_t n_writes;
};

/* Appends one whole frame (length prefix and body) to w. MLS_E_TOO_LARGE
 * if the body would exceed MKD_IPC_FRAME_MAX, MLS_E_INVALID_ARGUMENT for a
 * write with an invalid type or id length, or a put with an empty blob. */
MLS_MUST_CHECK int mkd_ipc_request_write(struct mls_writer *w, const struct mkd_ipc_request *req);
MLS_MUST_CHECK int mkd_ipc_reply_write(struct mls_writer *w, const struct mkd_ipc_reply *rep);

/* Decodes a frame body (without the length prefix). On failure returns
 * the codec's error (MLS_E_TRUNCATED, MLS_E_TRAILING, MLS_E_NONMINIMAL,
 * MLS_E_BAD_VARINT, MLS_E_BAD_OPTIONAL), MLS_E_UNSUPPORTED (protocol
 * version), MLS_E_BAD_ENUM (object type), MLS_E_INVALID_MESSAGE (id
 * length, empty blob, unknown status) or MLS_E_NOMEM, and writes nothing. */
MLS_MUST_CHECK int mkd_ipc_request_parse(const uint8_t *body, size_t len,
                                         struct mkd_ipc_request *ret_req);
MLS_MUST_CHECK int mkd_ipc_reply_parse(const uint8_t *body, size_t len,
                                       struct mkd_ipc_reply *ret_rep);
/* Frees a decoded reply's writes array; resets *rep. */
void mkd_ipc_reply_clear(struct mkd_ipc_reply *rep);

/* Reply status of an engine result: 0 for e >= 0, else -e. */
uint16_t mkd_ipc_status_from_err(int e);
/* The negative MLS_E_* a status stands for (0 for 0). */
int mkd_ipc_err_from_status(uint16_t status);

/* ---- frames ---- */

/* One received body, owned by the caller: mkd_ipc_frame_clear. */
struct mkd_ipc_frame {
        uint8_t *data;
        size_t len;
        bool secure; /* data is sodium_malloc'd and wiped on clear */
        struct mls_gpool *pool; /* secure: the pool data goes back to */
        size_t cap;             /* secure: the capacity of data */
};
void mkd_ipc_frame_clear(struct mkd_ipc_frame *f);
#define _mkd_ipc_frame_ _mls_cleanup_(mkd_ipc_frame_clear)

/* Outcomes of receiving (non-negative; errors are negative MLS_E_*). */
enum {
        MKD_IPC_AGAIN = 0, /* no complete frame yet: wait for POLLIN */
        MKD_IPC_FRAME = 1, /* *ret_frame holds one body */
        MKD_IPC_EOF = 2,   /* the peer closed cleanly between frames */
};

/*
 * Incremental receive buffer. It reads the 4-byte prefix, checks the length
 * against its cap BEFORE allocating anything, allocates exactly that many
 * bytes, and fills them as data arrives (any split is fine). After an error
 * it stays failed.
 *
 * mkd_ipc_recv reads ahead into a staging buffer of MKD_IPC_AHEAD bytes
 * (guarded for a secure buffer, wiped as it is consumed), so a small frame
 * costs one read instead of two (prefix, body) and a read that drained the
 * socket is not followed by one that can only say EAGAIN. At most
 * MKD_IPC_AHEAD bytes of later frames are held there
 * (mkd_ipc_rbuf_buffered); bodies longer than that are read in place.
 */
#define MKD_IPC_AHEAD 8192
struct mkd_ipc_rbuf {
        size_t max;   /* body cap, 1..MKD_IPC_FRAME_MAX */
        bool secure;
        int error;    /* 0, or the error that ended this stream */
        uint8_t hdr[MKD_IPC_HEADER_LEN];
        size_t hdr_have;
        uint8_t *body; /* NULL until the prefix is complete */
        size_t body_len;
        size_t body_cap;
        size_t body_have;
        struct mls_gpool *pool; /* secure: guarded bodies come from here */
        uint8_t *ahead;         /* MKD_IPC_AHEAD bytes (allocated on first use) */
        size_t ahead_off, ahead_len; /* the unconsumed bytes: [off, len) */
        bool drained; /* the last read was short and ended a frame */
};

/* max 0 means MKD_IPC_FRAME_MAX; a larger max is clamped to it. */
void mkd_ipc_rbuf_init(struct mkd_ipc_rbuf *rb, size_t max, bool secure);
/* Secure bodies from pool (a cache of guarded blocks; the frames handed out
 * give them back on clear, so pool must outlive them). NULL: sodium_malloc. */
void mkd_ipc_rbuf_set_pool(struct mkd_ipc_rbuf *rb, struct mls_gpool *pool);
/* Frees (wiping if secure) a partial frame and the bytes read ahead; the
 * buffer can be reused. */
void mkd_ipc_rbuf_clear(struct mkd_ipc_rbuf *rb);
/* True if bytes already read from the socket wait in rb (a caller that
 * stops calling mkd_ipc_recv before MKD_IPC_AGAIN must not wait for POLLIN
 * while this is true). */
bool mkd_ipc_rbuf_buffered(const struct mkd_ipc_rbuf *rb);
#define _mkd_ipc_rbuf_ _mls_cleanup_(mkd_ipc_rbuf_clear)

/* Feeds bytes from memory: consumes data[0..*ret_used) and returns
 * MKD_IPC_FRAME when a frame completed (the rest of data is for the next
 * call), MKD_IPC_AGAIN when all was consumed without completing one, or
 * MLS_E_TOO_LARGE / MLS_E_INVALID_MESSAGE (zero length) / MLS_E_NOMEM. */
MLS_MUST_CHECK int mkd_ipc_rbuf_feed(struct mkd_ipc_rbuf *rb, const uint8_t *data, size_t len,
                                     size_t *ret_used, struct mkd_ipc_frame *ret_frame);

/* Returns the next frame from the bytes read ahead, else reads from fd (a
 * stream socket, blocking or not) until a frame is complete or the socket
 * has nothing more: a short read, EAGAIN, or (right after a frame that a
 * short read completed) no read at all. MKD_IPC_AGAIN thus means "wait for
 * POLLIN". Returns MKD_IPC_FRAME, MKD_IPC_AGAIN, MKD_IPC_EOF,
 * MLS_E_TRUNCATED (EOF in mid-frame), the errors of _feed,
 * MLS_E_INVALID_MESSAGE (the peer passed file descriptors), MLS_E_NOMEM, or
 * MLS_E_IO (an I/O error such as ECONNRESET). */
MLS_MUST_CHECK int mkd_ipc_recv(struct mkd_ipc_rbuf *rb, int fd, struct mkd_ipc_frame *ret_frame);

/* Blocking receive for the children's simple loops: polls a non-blocking
 * fd as needed. Returns MKD_IPC_FRAME or MKD_IPC_EOF, or an error. */
MLS_MUST_CHECK int mkd_ipc_recv_blocking(struct mkd_ipc_rbuf *rb, int fd,
                                         struct mkd_ipc_frame *ret_frame);

/*
 * Send queue: encoded frames waiting for the socket, for a poll/epoll
 * loop. Partial writes and EAGAIN are fine; order is kept. A secure queue
 * accepts only frames in guarded memory.
 */
struct mkd_ipc_sendq_item;
struct mkd_ipc_sendq {
        struct mkd_ipc_sendq_item *head;
        struct mkd_ipc_sendq_item *tail;
        size_t off;   /* bytes of head already sent */
        size_t bytes; /* bytes still to send, all items */
        bool secure;
        int error;    /* 0, or the error that ended this stream */
};

void mkd_ipc_sendq_init(struct mkd_ipc_sendq *q, bool secure);
/* Frees (wiping secure items) everything still queued. */
void mkd_ipc_sendq_clear(struct mkd_ipc_sendq *q);
#define _mkd_ipc_sendq_ _mls_cleanup_(mkd_ipc_sendq_clear)

/* Moves the encoded frames of w (one or more, from mkd_ipc_*_write) to
 * the tail of the queue and resets w. A secure queue needs a secure
 * writer and a non-secure queue a non-secure one (MLS_E_INVALID_ARGUMENT). */
MLS_MUST_CHECK int mkd_ipc_sendq_push(struct mkd_ipc_sendq *q, struct mls_writer *w);

/* Outcomes of flushing (non-negative). */
enum {
        MKD_IPC_SENT = 0,    /* the queue is empty */
        MKD_IPC_PENDING = 1, /* the socket is full: wait for POLLOUT */
};
/* Sends as much as the socket takes (MSG_NOSIGNAL: no SIGPIPE).
 * MLS_E_INTERNAL if the peer is gone (EPIPE, ECONNRESET) or on an I/O
 * error; the queue is then unusable (clear it). */
MLS_MUST_CHECK int mkd_ipc_sendq_flush(struct mkd_ipc_sendq *q, int fd);

static inline bool
mkd_ipc_sendq_empty(const struct mkd_ipc_sendq *q)
{
        return q->bytes == 0;
}

/* Sends all of p[0..len) on fd, polling a non-blocking fd as needed. */
MLS_MUST_CHECK int mkd_ipc_send_blocking(int fd, const uint8_t *p, size_t len);

#endif
