/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "daemon/fileio.h"

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
