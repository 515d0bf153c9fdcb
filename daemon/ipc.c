/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon/ipc.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sodium.h>

/* ---- messages ---- */

uint16_t
mkd_ipc_status_from_err(int e)
{
        if (e >= 0)
                return 0;
        if (e < -0xffff || !mls_err_name(e))
                return (uint16_t)-MLS_E_INTERNAL;
        return (uint16_t)-e;
}

int
mkd_ipc_err_from_status(uint16_t status)
{
        return -(int)status;
}

/* Starts a frame: a 4-byte length placeholder. */
static int
frame_begin(struct mls_writer *w, size_t *ret_mark)
{
        size_t mark = w->len;

        MLS_TRY(mls_writer_u32(w, 0));
        *ret_mark = mark;
        return 0;
}

/* Fills in the length of the frame started at mark. */
static int
frame_end(struct mls_writer *w, size_t mark)
{
        size_t body = w->len - mark - MKD_IPC_HEADER_LEN;

        if (body == 0 || body > MKD_IPC_FRAME_MAX)
                return MLS_E_TOO_LARGE;
        w->buf[mark] = (uint8_t)(body >> 24);
        w->buf[mark + 1] = (uint8_t)(body >> 16);
        w->buf[mark + 2] = (uint8_t)(body >> 8);
        w->buf[mark + 3] = (uint8_t)body;
        return 0;
}

/* SealedObject (see the header). */
static int
sealed_object_write(struct mls_writer *w, const struct mkd_ipc_write *o)
{
        if (!mkd_obj_type_valid(o->type) || !mkd_obj_id_valid(o->id_len))
                return MLS_E_INVALID_ARGUMENT;
        if (o->del ? o->blob_len != 0 : o->blob_len == 0)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_u8(w, o->type));
        MLS_TRY(mls_writer_opaque(w, o->id, o->id_len));
        MLS_TRY(mls_writer_u64(w, o->version));
        MLS_TRY(mls_writer_optional(w, !o->del));
        if (!o->del)
                MLS_TRY(mls_writer_opaque(w, o->blob, o->blob_len));
        return 0;
}

static int
request_body_write(struct mls_writer *w, const struct mkd_ipc_request *req)
{
        MLS_TRY(mls_writer_u8(w, MKD_IPC_VERSION));
        MLS_TRY(mls_writer_u32(w, req->id));
        MLS_TRY(mls_writer_u16(w, req->op));
        MLS_TRY(mls_writer_u32(w, req->caller_uid));
        return mls_writer_opaque(w, req->args, req->args_len);
}

static int
reply_body_write(struct mls_writer *w, const struct mkd_ipc_reply *rep)
{
        size_t mark;

        MLS_TRY(mls_writer_u8(w, MKD_IPC_VERSION));
        MLS_TRY(mls_writer_u32(w, rep->id));
        MLS_TRY(mls_writer_u16(w, rep->status));
        MLS_TRY(mls_writer_opaque(w, rep->result, rep->result_len));
        MLS_TRY(mls_writer_vec_begin(w, &mark));
        for (size_t i = 0; i < rep->n_writes; i++)
                MLS_TRY(sealed_object_write(w, &rep->writes[i]));
        return mls_writer_vec_end(w, mark);
}

/* On failure the writer is cut back to where it was, so frames already in
 * it stay intact. */
int
mkd_ipc_request_write(struct mls_writer *w, const struct mkd_ipc_request *req)
{
        size_t mark = w->len;
        int r;

        /* 11 bytes of fixed fields and a 4-byte length prefix at most. */
        if (req->args_len > MKD_IPC_FRAME_MAX - 15)
                return MLS_E_TOO_LARGE;
        r = frame_begin(w, &mark);
        if (r == 0)
                r = request_body_write(w, req);
        if (r == 0)
                r = frame_end(w, mark);
        if (r < 0)
                w->len = mark;
        return r;
}

int
mkd_ipc_reply_write(struct mls_writer *w, const struct mkd_ipc_reply *rep)
{
        size_t mark = w->len;
        int r;

        /* 7 bytes of fixed fields, two length prefixes; frame_end checks
         * the rest. */
        if (rep->result_len > MKD_IPC_FRAME_MAX - 12)
                return MLS_E_TOO_LARGE;
        r = frame_begin(w, &mark);
        if (r == 0)
                r = reply_body_write(w, rep);
        if (r == 0)
                r = frame_end(w, mark);
        if (r < 0)
                w->len = mark;
        return r;
}

static int
version_read(struct mls_reader *r)
{
        uint8_t v;

        MLS_TRY(mls_reader_u8(r, &v));
        return v == MKD_IPC_VERSION ? 0 : MLS_E_UNSUPPORTED;
}

int
mkd_ipc_request_parse(const uint8_t *body, size_t len, struct mkd_ipc_request *ret_req)
{
        struct mkd_ipc_request req;
        struct mls_reader r;

        mls_reader_init(&r, body, len);
        MLS_TRY(version_read(&r));
        MLS_TRY(mls_reader_u32(&r, &req.id));
        MLS_TRY(mls_reader_u16(&r, &req.op));
        MLS_TRY(mls_reader_u32(&r, &req.caller_uid));
        MLS_TRY(mls_reader_opaque_view(&r, &req.args, &req.args_len));
        MLS_TRY(mls_reader_done(&r));
        *ret_req = req;
        return 0;
}

/* SealedObject; ret_o may be NULL (counting pass). */
static int
sealed_object_read(struct mls_reader *r, struct mkd_ipc_write *ret_o)
{
        struct mkd_ipc_write o = { .blob = NULL };
        bool present;

        MLS_TRY(mls_reader_u8(r, &o.type));
        if (!mkd_obj_type_valid(o.type))
                return MLS_E_BAD_ENUM;
        MLS_TRY(mls_reader_opaque_view(r, &o.id, &o.id_len));
        if (!mkd_obj_id_valid(o.id_len))
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_u64(r, &o.version));
        MLS_TRY(mls_reader_optional(r, &present));
        o.del = !present;
        if (present) {
                MLS_TRY(mls_reader_opaque_view(r, &o.blob, &o.blob_len));
                if (o.blob_len == 0)
                        return MLS_E_INVALID_MESSAGE;
        }
        if (ret_o)
                *ret_o = o;
        return 0;
}

int
mkd_ipc_reply_parse(const uint8_t *body, size_t len, struct mkd_ipc_reply *ret_rep)
{
        _mls_free_ struct mkd_ipc_write *writes = NULL;
        struct mkd_ipc_reply rep = { .writes = NULL };
        struct mls_reader r, v;
        size_t n = 0;

        mls_reader_init(&r, body, len);
        MLS_TRY(version_read(&r));
        MLS_TRY(mls_reader_u32(&r, &rep.id));
        MLS_TRY(mls_reader_u16(&r, &rep.status));
        if (!mls_err_name(mkd_ipc_err_from_status(rep.status)))
                return MLS_E_INVALID_MESSAGE;
        MLS_TRY(mls_reader_opaque_view(&r, &rep.result, &rep.result_len));
        MLS_TRY(mls_reader_vec(&r, &v));
        MLS_TRY(mls_reader_done(&r));

        /* Count and validate first, so that the array is sized by what the
         * input holds (each SealedObject takes at least 12 bytes). */
        {
                struct mls_reader c = v;

                while (!mls_reader_empty(&c)) {
                        MLS_TRY(sealed_object_read(&c, NULL));
                        n++;
                }
        }
        if (n) {
                writes = calloc(n, sizeof(*writes));
                if (!writes)
                        return MLS_E_NOMEM;
                for (size_t i = 0; i < n; i++)
                        MLS_TRY(sealed_object_read(&v, &writes[i]));
                MLS_TRY(mls_reader_done(&v));
        }
        rep.writes = MLS_TAKE(writes);
        rep.n_writes = n;
        *ret_rep = rep;
        return 0;
}

void
mkd_ipc_reply_clear(struct mkd_ipc_reply *rep)
{
        free(rep->writes);
        *rep = (struct mkd_ipc_reply){ .writes = NULL };
}

/* ---- frames ---- */

static void
body_free(uint8_t *p, bool secure, struct mls_gpool *pool, size_t cap)
{
        if (!p)
                return;
        if (secure)
                mls_gpool_release(pool, p, cap); /* wipes */
        else
                free(p);
}

void
mkd_ipc_frame_clear(struct mkd_ipc_frame *f)
{
        body_free(f->data, f->secure, f->pool, f->cap);
        *f = (struct mkd_ipc_frame){ .data = NULL };
}

void
mkd_ipc_rbuf_init(struct mkd_ipc_rbuf *rb, size_t max, bool secure)
{
        *rb = (struct mkd_ipc_rbuf){ .max = max, .secure = secure };
        if (rb->max == 0 || rb->max > MKD_IPC_FRAME_MAX)
                rb->max = MKD_IPC_FRAME_MAX;
}

void
mkd_ipc_rbuf_set_pool(struct mkd_ipc_rbuf *rb, struct mls_gpool *pool)
{
        rb->pool = pool;
}

static void
ahead_free(struct mkd_ipc_rbuf *rb)
{
        body_free(rb->ahead, rb->secure, NULL, 0); /* sodium_free (wipes) or free */
        rb->ahead = NULL;
        rb->ahead_off = rb->ahead_len = 0;
        rb->drained = false;
}

void
mkd_ipc_rbuf_clear(struct mkd_ipc_rbuf *rb)
{
        body_free(rb->body, rb->secure, rb->pool, rb->body_cap);
        rb->body = NULL;
        rb->body_len = rb->body_have = rb->hdr_have = 0;
        rb->error = 0;
        ahead_free(rb);
}

bool
mkd_ipc_rbuf_buffered(const struct mkd_ipc_rbuf *rb)
{
        return rb->ahead_off < rb->ahead_len;
}

static int
rbuf_fail(struct mkd_ipc_rbuf *rb, int e)
{
        body_free(rb->body, rb->secure, rb->pool, rb->body_cap);
        rb->body = NULL;
        ahead_free(rb);
        rb->error = e;
        return e;
}

/* Where the next bytes go and how many the current frame still needs. */
static void
rbuf_want(struct mkd_ipc_rbuf *rb, uint8_t **ret_p, size_t *ret_n)
{
        if (!rb->body) {
                *ret_p = rb->hdr + rb->hdr_have;
                *ret_n = MKD_IPC_HEADER_LEN - rb->hdr_have;
        } else {
                *ret_p = rb->body + rb->body_have;
                *ret_n = rb->body_len - rb->body_have;
        }
}

/* Accounts for n bytes just stored where rbuf_want said. */
static int
rbuf_advance(struct mkd_ipc_rbuf *rb, size_t n, struct mkd_ipc_frame *ret_frame)
{
        if (!rb->body) {
                struct mls_reader r;
                uint32_t len;
                int e;

                rb->hdr_have += n;
                if (rb->hdr_have < MKD_IPC_HEADER_LEN)
                        return MKD_IPC_AGAIN;
                mls_reader_init(&r, rb->hdr, sizeof(rb->hdr));
                e = mls_reader_u32(&r, &len);
                if (e < 0)
                        return rbuf_fail(rb, e);
                /* Refuse before allocating anything. */
                if (len == 0)
                        return rbuf_fail(rb, MLS_E_INVALID_MESSAGE);
                if (len > rb->max)
                        return rbuf_fail(rb, MLS_E_TOO_LARGE);
                if (rb->secure) {
                        rb->body = mls_gpool_alloc(rb->pool, len, &rb->body_cap);
                } else {
                        rb->body = malloc(len);
                        rb->body_cap = len;
                }
                if (!rb->body)
                        return rbuf_fail(rb, MLS_E_NOMEM);
                rb->body_len = len;
                rb->body_have = 0;
                return MKD_IPC_AGAIN;
        }
        rb->body_have += n;
        if (rb->body_have < rb->body_len)
                return MKD_IPC_AGAIN;
        *ret_frame = (struct mkd_ipc_frame){ .data = MLS_TAKE(rb->body),
                                             .len = rb->body_len,
                                             .secure = rb->secure,
                                             .pool = rb->pool,
                                             .cap = rb->body_cap };
        rb->body_len = rb->body_have = rb->hdr_have = 0;
        return MKD_IPC_FRAME;
}

int
mkd_ipc_rbuf_feed(struct mkd_ipc_rbuf *rb, const uint8_t *data, size_t len, size_t *ret_used,
                  struct mkd_ipc_frame *ret_frame)
{
        size_t used = 0;

        if (rb->error)
                return rb->error;
        while (used < len) {
                uint8_t *p;
                size_t n;
                int r;

                rbuf_want(rb, &p, &n);
                if (n > len - used)
                        n = len - used;
                memcpy(p, data + used, n);
                used += n;
                r = rbuf_advance(rb, n, ret_frame);
                if (r != MKD_IPC_AGAIN) {
                        if (r == MKD_IPC_FRAME)
                                *ret_used = used;
                        return r;
                }
        }
        *ret_used = used;
        return MKD_IPC_AGAIN;
}

/* Feeds the bytes read ahead; MKD_IPC_AGAIN once they are all consumed. */
static int
ahead_feed(struct mkd_ipc_rbuf *rb, struct mkd_ipc_frame *ret_frame)
{
        size_t used = 0;
        int r;

        if (rb->ahead_off >= rb->ahead_len)
                return MKD_IPC_AGAIN;
        r = mkd_ipc_rbuf_feed(rb, rb->ahead + rb->ahead_off, rb->ahead_len - rb->ahead_off, &used,
                              ret_frame);
        if (r < 0)
                return r; /* rbuf_fail has freed the buffer */
        if (rb->secure)
                sodium_memzero(rb->ahead + rb->ahead_off, used);
        rb->ahead_off += used;
        if (rb->ahead_off == rb->ahead_len)
                rb->ahead_off = rb->ahead_len = 0;
        return r;
}

int
mkd_ipc_recv(struct mkd_ipc_rbuf *rb, int fd, struct mkd_ipc_frame *ret_frame)
{
        if (rb->error)
                return rb->error;
        for (;;) {
                struct iovec iov;
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
                uint8_t *p;
                size_t n;
                ssize_t got;
                bool direct;
                int r;

                r = ahead_feed(rb, ret_frame);
                if (r != MKD_IPC_AGAIN)
                        return r;
                if (rb->drained) {
                        /* The read that gave the last frame was short: the
                         * socket was empty then. The caller polls next. */
                        rb->drained = false;
                        return MKD_IPC_AGAIN;
                }
                /* The rest of a long body goes in place; anything else
                 * through the staging buffer, with what follows it. */
                rbuf_want(rb, &p, &n);
                direct = rb->body && n >= MKD_IPC_AHEAD;
                if (!direct) {
                        if (!rb->ahead) {
                                rb->ahead = rb->secure ? sodium_malloc(MKD_IPC_AHEAD)
                                                       : malloc(MKD_IPC_AHEAD);
                                if (!rb->ahead)
                                        return rbuf_fail(rb, MLS_E_NOMEM);
                        }
                        p = rb->ahead;
                        n = MKD_IPC_AHEAD;
                }
                iov = (struct iovec){ .iov_base = p, .iov_len = n };
                got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
                if (got < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return MKD_IPC_AGAIN;
                        return rbuf_fail(rb, MLS_E_IO);
                }
                /* No file descriptors on these channels: the kernel has
                 * dropped them, and the peer is misbehaving. */
                if (msg.msg_flags & MSG_CTRUNC)
                        return rbuf_fail(rb, MLS_E_INVALID_MESSAGE);
                if (got == 0) {
                        if (!rb->body && rb->hdr_have == 0)
                                return MKD_IPC_EOF;
                        return rbuf_fail(rb, MLS_E_TRUNCATED);
                }
                if (direct) {
                        r = rbuf_advance(rb, (size_t)got, ret_frame);
                } else {
                        rb->ahead_off = 0;
                        rb->ahead_len = (size_t)got;
                        r = ahead_feed(rb, ret_frame);
                }
                if ((size_t)got < n) {
                        /* Short: the socket is empty for now. After a frame
                         * the next call says so without a read (once the
                         * bytes read ahead are used up). */
                        rb->drained = r == MKD_IPC_FRAME;
                        return r;
                }
                if (r != MKD_IPC_AGAIN)
                        return r;
        }
}

static int
wait_fd(int fd, short events)
{
        struct pollfd p = { .fd = fd, .events = events };

        for (;;) {
                int r = poll(&p, 1, -1);

                if (r > 0)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return MLS_E_IO;
        }
}

int
mkd_ipc_recv_blocking(struct mkd_ipc_rbuf *rb, int fd, struct mkd_ipc_frame *ret_frame)
{
        /* A blocking fd waits in the read itself, not in poll. */
        rb->drained = false;
        for (;;) {
                int r = mkd_ipc_recv(rb, fd, ret_frame);

                if (r != MKD_IPC_AGAIN)
                        return r;
                /* POLLHUP/POLLERR also wake us; recv then sees EOF or the error. */
                MLS_TRY(wait_fd(fd, POLLIN));
        }
}

/* ---- send queue ---- */

struct mkd_ipc_sendq_item {
        struct mkd_ipc_sendq_item *next;
        struct mls_bytes plain;     /* non-secure queue */
        struct mls_secret *secret;  /* secure queue */
};

static const uint8_t *
item_data(const struct mkd_ipc_sendq_item *it)
{
        return it->secret ? it->secret->data : it->plain.data;
}

static size_t
item_len(const struct mkd_ipc_sendq_item *it)
{
        return it->secret ? it->secret->len : it->plain.len;
}

static void
item_free(struct mkd_ipc_sendq_item *it)
{
        mls_secret_free(it->secret);
        mls_bytes_clear(&it->plain);
        free(it);
}

void
mkd_ipc_sendq_init(struct mkd_ipc_sendq *q, bool secure)
{
        *q = (struct mkd_ipc_sendq){ .secure = secure };
}

void
mkd_ipc_sendq_clear(struct mkd_ipc_sendq *q)
{
        bool secure = q->secure;

        while (q->head) {
                struct mkd_ipc_sendq_item *next = q->head->next;

                item_free(q->head);
                q->head = next;
        }
        mkd_ipc_sendq_init(q, secure);
}

int
mkd_ipc_sendq_push(struct mkd_ipc_sendq *q, struct mls_writer *w)
{
        struct mkd_ipc_sendq_item *it;
        int r;

        if (w->secure != q->secure)
                return MLS_E_INVALID_ARGUMENT;
        if (q->error)
                return q->error;
        if (w->len == 0)
                return 0;
        it = calloc(1, sizeof(*it));
        if (!it)
                return MLS_E_NOMEM;
        r = q->secure ? mls_writer_finish_secret(w, &it->secret) : mls_writer_finish(w, &it->plain);
        if (r < 0) {
                free(it);
                return r;
        }
        q->bytes += item_len(it);
        if (q->tail)
                q->tail->next = it;
        else
                q->head = it;
        q->tail = it;
        return 0;
}

int
mkd_ipc_sendq_flush(struct mkd_ipc_sendq *q, int fd)
{
        if (q->error)
                return q->error;
        while (q->head) {
                struct iovec iov[64];
                struct msghdr msg = { .msg_iov = iov };
                struct mkd_ipc_sendq_item *it = q->head;
                size_t skip = q->off;
                ssize_t sent;

                /* Gather several queued frames into one sendmsg. */
                for (; it && msg.msg_iovlen < MLS_ARRAY_SIZE(iov); it = it->next) {
                        iov[msg.msg_iovlen].iov_base = (void *)(item_data(it) + skip);
                        iov[msg.msg_iovlen].iov_len = item_len(it) - skip;
                        msg.msg_iovlen++;
                        skip = 0;
                }
                sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
                if (sent < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return MKD_IPC_PENDING;
                        q->error = MLS_E_IO;
                        return q->error;
                }
                if (sent == 0) { /* cannot happen on a stream socket; never spin */
                        q->error = MLS_E_IO;
                        return q->error;
                }
                q->bytes -= (size_t)sent;
                while (sent > 0) {
                        size_t left = item_len(q->head) - q->off;

                        if ((size_t)sent < left) {
                                q->off += (size_t)sent;
                                break;
                        }
                        sent -= (ssize_t)left;
                        it = q->head;
                        q->head = it->next;
                        if (!q->head)
                                q->tail = NULL;
                        q->off = 0;
                        item_free(it);
                }
        }
        return MKD_IPC_SENT;
}

int
mkd_ipc_send_blocking(int fd, const uint8_t *p, size_t len)
{
        size_t off = 0;

        while (off < len) {
                struct iovec iov = { .iov_base = (void *)(p + off), .iov_len = len - off };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);

                if (sent < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK) {
                                MLS_TRY(wait_fd(fd, POLLOUT));
                                continue;
                        }
                        return MLS_E_IO;
                }
                if (sent == 0)
                        return MLS_E_IO;
                off += (size_t)sent;
        }
        return 0;
}
