/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/fileio.h"
#include "daemon/log.h"

void
mkd_closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

int
mkd_write_all(int fd, const uint8_t *p, size_t n)
{
        while (n) {
                ssize_t w = write(fd, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return MLS_E_STORAGE;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

int
mkd_file_write(int dirfd, const char *name, const uint8_t *p, size_t n, unsigned mode,
               bool replace)
{
        char tmp[NAME_MAX + 1];
        int fd, r = 0;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
                return MLS_E_INVALID_ARGUMENT;
        /* A temporary file left by a crash was never renamed into place:
         * it was never used, drop it. */
        if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT) {
                mkd_log_err("%s: cannot remove: %s", tmp, strerror(errno));
                return MLS_E_STORAGE;
        }
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
                mkd_log_err("%s: cannot create: %s", tmp, strerror(errno));
                return MLS_E_STORAGE;
        }
        if (fchmod(fd, mode) < 0)
                r = MLS_E_STORAGE;
        if (r == 0)
                r = mkd_write_all(fd, p, n);
        if (r == 0 && fsync(fd) < 0)
                r = MLS_E_STORAGE;
        if (close(fd) < 0 && r == 0)
                r = MLS_E_STORAGE;
        if (r == 0 && renameat2(dirfd, tmp, dirfd, name, replace ? 0 : RENAME_NOREPLACE) < 0) {
                if (!replace && errno == EEXIST) {
                        (void)unlinkat(dirfd, tmp, 0);
                        return 1;
                }
                r = MLS_E_STORAGE;
        }
        if (r == 0 && fsync(dirfd) < 0)
                r = MLS_E_STORAGE;
        if (r < 0) {
                mkd_log_err("%s: cannot write: %s", name, strerror(errno));
                (void)unlinkat(dirfd, tmp, 0);
        }
        return r;
}

int
mkd_file_replace(int dirfd, const char *name, const uint8_t *p, size_t n, unsigned mode)
{
        return mkd_file_write(dirfd, name, p, n, mode, true);
}

int
mkd_file_read(int dirfd, const char *name, size_t max, struct mls_bytes *ret)
{
        struct mls_bytes b = { 0 };
        struct stat st;
        size_t have = 0;
        int fd, r = 0;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return MLS_E_NOT_FOUND;
                mkd_log_err("%s: cannot open: %s", name,
                            errno == ELOOP ? "a symbolic link" : strerror(errno));
                return errno == ELOOP ? MLS_E_INSECURE_FILE : MLS_E_STORAGE;
        }
        if (fstat(fd, &st) < 0) {
                r = MLS_E_STORAGE;
        } else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
                mkd_log_err("%s: refused: not a regular file of uid %u without group or other "
                            "write permission",
                            name, (unsigned)geteuid());
                r = MLS_E_INSECURE_FILE;
        } else if ((uintmax_t)st.st_size > max) {
                mkd_log_err("%s: refused: %lld bytes, at most %zu expected", name,
                            (long long)st.st_size, max);
                r = MLS_E_TOO_LARGE;
        }
        if (r == 0) {
                b.len = (size_t)st.st_size;
                b.data = malloc(b.len ? b.len : 1);
                if (!b.data)
                        r = MLS_E_NOMEM;
        }
        while (r == 0 && have < b.len) {
                ssize_t got = read(fd, b.data + have, b.len - have);

                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        r = MLS_E_STORAGE;
                else
                        have += (size_t)got;
        }
        (void)close(fd);
        if (r < 0) {
                mls_bytes_clear(&b);
                return r;
        }
        *ret = b;
        return 0;
}

int
mkd_file_remove(int dirfd, const char *name)
{
        if (unlinkat(dirfd, name, 0) < 0) {
                if (errno == ENOENT)
                        return 0;
                mkd_log_err("%s: cannot remove: %s", name, strerror(errno));
                return MLS_E_STORAGE;
        }
        if (fsync(dirfd) < 0) {
                mkd_log_err("%s: removed, but the directory cannot be synced: %s", name,
                            strerror(errno));
                return MLS_E_STORAGE;
        }
        return 0;
}
