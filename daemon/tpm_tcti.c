/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TCTI for swtpm's socket interface that keeps ONE connection open.
 *
 * TPM2-TSS's own "swtpm" TCTI connects a new socket for every command.
 * The vault runs under a seccomp allowlist that forbids socket() and
 * connect() (a compromised vault must not reach the network), so after its
 * sandbox starts that TCTI cannot send a single command. swtpm's server
 * channel takes raw TPM commands and answers raw responses, any number per
 * connection; this TCTI connects once (before the sandbox) and then only
 * writes and reads that descriptor, which it reports through
 * getPollHandles so the sandbox keeps it.
 *
 * Configuration (the TCTI loader's syntax for swtpm):
 *   swtpm:host=HOST,port=PORT   TCP (default host 127.0.0.1, port 2321)
 *   swtpm:path=/run/swtpm.sock  a Unix socket (swtpm --server type=unixio)
 * The control channel (power, locality) is not used: the vault never
 * changes locality and swtpm runs with startup-clear.
 */
#include "config.h"

#include "daemon/tpm_tcti.h"
#include "mls/codec.h"
#include "mls/secret.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCK_MAGIC 0x6d6b64746374692dULL /* "mkdtcti-" */
#define RESP_HEADER 10
#define RESP_MAX 4096 /* TPM2_MAX_RESPONSE_SIZE of PC client TPMs */

struct sock_tcti {
        TSS2_TCTI_CONTEXT_COMMON_V2 common;
        int fd;
        uint8_t resp[RESP_MAX];
        size_t resp_len; /* a complete response is buffered when > 0 */
        bool awaiting;   /* a command was sent, its response not yet read */
};

static struct sock_tcti *
sock_of(TSS2_TCTI_CONTEXT *ctx)
{
        struct sock_tcti *s = (struct sock_tcti *)ctx;

        return s && s->common.v1.magic == SOCK_MAGIC ? s : NULL;
}

static TSS2_RC
sock_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *command)
{
        struct sock_tcti *s = sock_of(ctx);

        if (!s || (!command && size))
                return TSS2_TCTI_RC_BAD_REFERENCE;
        if (s->awaiting)
                return TSS2_TCTI_RC_BAD_SEQUENCE;
        while (size) {
                ssize_t w = write(s->fd, command, size);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return TSS2_TCTI_RC_IO_ERROR;
                command += w;
                size -= (size_t)w;
        }
        s->awaiting = true;
        s->resp_len = 0;
        return TSS2_RC_SUCCESS;
}

/* Reads exactly n bytes, waiting at most timeout ms (-1: forever). */
static TSS2_RC
read_exact(int fd, uint8_t *p, size_t n, int32_t timeout)
{
        while (n) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t r;
                int pr = poll(&pfd, 1, timeout < 0 ? -1 : timeout);

                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr == 0)
                        return TSS2_TCTI_RC_TRY_AGAIN;
                if (pr < 0)
                        return TSS2_TCTI_RC_IO_ERROR;
                r = read(fd, p, n);
                if (r < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (r <= 0)
                        return TSS2_TCTI_RC_IO_ERROR;
                p += r;
                n -= (size_t)r;
        }
        return TSS2_RC_SUCCESS;
}

static TSS2_RC
sock_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *response, int32_t timeout)
{
        struct sock_tcti *s = sock_of(ctx);
        TSS2_RC rc;

        if (!s || !size)
                return TSS2_TCTI_RC_BAD_REFERENCE;
        if (!s->awaiting)
                return TSS2_TCTI_RC_BAD_SEQUENCE;
        if (s->resp_len == 0) {
                struct mls_reader r;
                uint16_t tag;
                uint32_t len;

                rc = read_exact(s->fd, s->resp, RESP_HEADER, timeout);
                if (rc != TSS2_RC_SUCCESS)
                        return rc;
                /* TPM response header: tag, responseSize, responseCode. */
                mls_reader_init(&r, s->resp, RESP_HEADER);
                if (mls_reader_u16(&r, &tag) < 0 || mls_reader_u32(&r, &len) < 0 ||
                    len < RESP_HEADER || len > RESP_MAX)
                        return TSS2_TCTI_RC_MALFORMED_RESPONSE;
                rc = read_exact(s->fd, s->resp + RESP_HEADER, len - RESP_HEADER, -1);
                if (rc != TSS2_RC_SUCCESS)
                        return rc;
                s->resp_len = len;
        }
        if (!response) {
                *size = s->resp_len;
                return TSS2_RC_SUCCESS;
        }
        if (*size < s->resp_len) {
                *size = s->resp_len;
                return TSS2_TCTI_RC_INSUFFICIENT_BUFFER;
        }
        memcpy(response, s->resp, s->resp_len);
        *size = s->resp_len;
        /* Responses may carry unsealed secrets (parameter encryption aside). */
        mls_wipe(s->resp, s->resp_len);
        s->resp_len = 0;
        s->awaiting = false;
        return TSS2_RC_SUCCESS;
}

static void
sock_finalize(TSS2_TCTI_CONTEXT *ctx)
{
        struct sock_tcti *s = sock_of(ctx);

        if (!s)
                return;
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
        mls_wipe(s->resp, sizeof(s->resp));
        s->common.v1.magic = 0;
}

static TSS2_RC
sock_cancel(TSS2_TCTI_CONTEXT *ctx)
{
        (void)ctx;
        return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

static TSS2_RC
sock_poll_handles(TSS2_TCTI_CONTEXT *ctx, TSS2_TCTI_POLL_HANDLE *handles, size_t *n)
{
        struct sock_tcti *s = sock_of(ctx);

        if (!s || !n)
                return TSS2_TCTI_RC_BAD_REFERENCE;
        if (handles) {
                if (*n < 1)
                        return TSS2_TCTI_RC_INSUFFICIENT_BUFFER;
                handles[0] = (TSS2_TCTI_POLL_HANDLE){ .fd = s->fd, .events = POLLIN };
        }
        *n = 1;
        return TSS2_RC_SUCCESS;
}

static TSS2_RC
sock_set_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality)
{
        (void)ctx;
        return locality == 0 ? TSS2_RC_SUCCESS : TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

static TSS2_RC
sock_make_sticky(TSS2_TCTI_CONTEXT *ctx, TPM2_HANDLE *handle, uint8_t sticky)
{
        (void)ctx, (void)handle, (void)sticky;
        return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

/* "key=value,key=value" lookup into out (NUL-terminated). */
/* The value of key in "k=v,k=v" into out: 1, 0 if absent, -1 if it does
 * not fit (never silently the default). */
static int
conf_get(const char *conf, const char *key, char *out, size_t len)
{
        size_t kl = strlen(key);

        for (const char *p = conf; p && *p;) {
                const char *end = strchr(p, ',');
                size_t n = end ? (size_t)(end - p) : strlen(p);

                if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
                        if (n - kl - 1 >= len)
                                return -1;
                        memcpy(out, p + kl + 1, n - kl - 1);
                        out[n - kl - 1] = '\0';
                        return 1;
                }
                p = end ? end + 1 : NULL;
        }
        return 0;
}

static int
connect_conf(const char *conf, char *why, size_t why_len)
{
        char host[128] = "127.0.0.1", port[16] = "2321", path[108];
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
        struct addrinfo *ai = NULL;
        int fd = -1, r;

        int has_path = conf_get(conf, "path", path, sizeof(path));

        if (has_path < 0 || conf_get(conf, "host", host, sizeof(host)) < 0 ||
            conf_get(conf, "port", port, sizeof(port)) < 0) {
                snprintf(why, why_len, "a path, host or port value is too long");
                return -1;
        }
        if (has_path) {
                struct sockaddr_un un = { .sun_family = AF_UNIX };

                snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                        snprintf(why, why_len, "socket: %s", strerror(errno));
                        return -1;
                }
                if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
                        snprintf(why, why_len, "connect(%s): %s", path, strerror(errno));
                        close(fd);
                        return -1;
                }
                return fd;
        }
        r = getaddrinfo(host, port, &hints, &ai);
        if (r != 0) {
                snprintf(why, why_len, "%s:%s: %s", host, port, gai_strerror(r));
                return -1;
        }
        for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
                fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
                if (fd < 0)
                        snprintf(why, why_len, "socket: %s", strerror(errno));
                else if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
                        snprintf(why, why_len, "connect(%s:%s): %s", host, port, strerror(errno));
                        close(fd);
                        fd = -1;
                }
        }
        freeaddrinfo(ai);
        if (fd >= 0) {
                int one = 1;

                (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        return fd;
}

int
mkd_tcti_socket_init(const char *conf, TSS2_TCTI_CONTEXT **ret, char *why, size_t why_len)
{
        struct sock_tcti *s;
        int fd;

        if (strncmp(conf, MKD_TCTI_SOCKET_PREFIX, strlen(MKD_TCTI_SOCKET_PREFIX)) != 0)
                return MLS_E_INVALID_ARGUMENT;
        fd = connect_conf(conf + strlen(MKD_TCTI_SOCKET_PREFIX), why, why_len);
        if (fd < 0)
                return MLS_E_TPM;
        s = calloc(1, sizeof(*s));
        if (!s) {
                close(fd);
                return MLS_E_NOMEM;
        }
        s->fd = fd;
        s->common.v1.magic = SOCK_MAGIC;
        s->common.v1.version = 2;
        s->common.v1.transmit = sock_transmit;
        s->common.v1.receive = sock_receive;
        s->common.v1.finalize = sock_finalize;
        s->common.v1.cancel = sock_cancel;
        s->common.v1.getPollHandles = sock_poll_handles;
        s->common.v1.setLocality = sock_set_locality;
        s->common.makeSticky = sock_make_sticky;
        *ret = (TSS2_TCTI_CONTEXT *)s;
        return 0;
}

void
mkd_tcti_socket_free(TSS2_TCTI_CONTEXT *ctx)
{
        struct sock_tcti *s = (struct sock_tcti *)ctx;

        if (!s)
                return;
        sock_finalize(ctx);
        free(s);
}
