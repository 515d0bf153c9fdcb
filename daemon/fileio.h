/* SPDX-License-Identifier: Apache-2.0 */
/* Small file helpers shared by the vault's key file (seal.c) and the
 * broker's state directory (store.c). */
#ifndef MKD_FILEIO_H
#define MKD_FILEIO_H

#include "mls/codec.h"
#include "mls/common.h"

/* Closes *fd if it is open (>= 0): the cleanup of _mkd_cleanup_close_. */
void mkd_closep(int *fd);
#define _mkd_cleanup_close_ _mls_cleanup_(mkd_closep)

/* Writes all of p[0..n) to fd, retrying on EINTR and short writes;
 * MLS_E_STORAGE on any error (errno tells which). */
MLS_MUST_CHECK int mkd_write_all(int fd, const uint8_t *p, size_t n);

/*
 * Replaces (or creates) the file `name` in dirfd atomically and durably:
 * "name.tmp" (O_EXCL, O_NOFOLLOW, mode), write, fsync, rename over name,
 * fsync of the directory. A crash leaves the old or the new file. For
 * small public files of the state directory (the TPM-sealed key blob, the
 * recovery blob). MLS_E_STORAGE on errors (logged with the name).
 */
MLS_MUST_CHECK int mkd_file_replace(int dirfd, const char *name, const uint8_t *p, size_t n,
                                    unsigned mode);
/* The same with a choice: replace false never replaces an existing file
 * (RENAME_NOREPLACE) and returns 1 when one exists (the temporary file is
 * removed). p may be guarded memory: it is only written to the file. */
MLS_MUST_CHECK int mkd_file_write(int dirfd, const char *name, const uint8_t *p, size_t n,
                                  unsigned mode, bool replace);
/*
 * Reads the whole file `name` of dirfd (at most max bytes) into *ret
 * (malloc'd): a regular file owned by the effective uid, not writable by
 * group or others, no symbolic link. MLS_E_NOT_FOUND if it does not exist;
 * MLS_E_INSECURE_FILE (type, owner, mode); MLS_E_TOO_LARGE; MLS_E_STORAGE.
 */
MLS_MUST_CHECK int mkd_file_read(int dirfd, const char *name, size_t max, struct mls_bytes *ret);
/* Removes `name` from dirfd and fsyncs the directory; a missing file is
 * fine. MLS_E_STORAGE on errors. */
MLS_MUST_CHECK int mkd_file_remove(int dirfd, const char *name);

#endif
