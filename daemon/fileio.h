/* SPDX-License-Identifier: Apache-2.0 */
/* Small file helpers shared by the vault's key file (seal.c) and the
 * broker's state directory (store.c). */
#ifndef MKD_FILEIO_H
#define MKD_FILEIO_H

#include "mls/common.h"

/* Writes all of p[0..n) to fd, retrying on EINTR and short writes;
 * MLS_E_STORAGE on any error (errno tells which). */
MLS_MUST_CHECK int mkd_write_all(int fd, const uint8_t *p, size_t n);

#endif
