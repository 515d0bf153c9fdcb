/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state directory (DESIGN.md section 8), written by the broker. It
 * holds no secret in clear: only sealed blobs (daemon/seal.h), opaque to
 * the broker except for their public header.
 *
 * Layout, one file per object, named by the lowercase hex of its id:
 *
 *   <state>/                   0700, ours, not writable by group or others
 *   <state>/storage.key        the key file (daemon/seal.h), vault only
 *   <state>/identity/<hexid>   0600
 *   <state>/keypackage/<hexid>
 *   <state>/group/<hexid>
 *   <state>/<type>/.tmp-<hexid>-<random>   a write in progress
 *
 * Writes are atomic and durable: the blob goes to a new temporary file in
 * the same folder (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), is fsync'd, renamed
 * over the object's file, and the folder is fsync'd; only then does
 * mkd_store_put return 0. A delete is unlink + fsync of the folder. A
 * crash leaves the old or the new version, plus perhaps a temporary file,
 * which the next load removes and never loads.
 *
 * Loading never trusts the folder: a symlink, a non-regular file, an
 * unexpected name, an empty, over-long or truncated file, a file whose
 * header is not a sealed blob, or one whose header names another object
 * (foreign: moved or copied from elsewhere) is reported and skipped. The
 * contents (the tag) are checked later, by the vault.
 */
#ifndef MKD_STORE_H
#define MKD_STORE_H

#include "mls/common.h"
#include "daemon/ipc.h"
#include "daemon/object.h"
#include "daemon/seal.h"

/* Largest object file (the IPC frame cap). */
#define MKD_STORE_OBJECT_MAX MKD_IPC_FRAME_MAX

struct mkd_store;

/*
 * Opens the state directory at path, creating it (mode 0700, not its
 * parents) and the three type folders if missing. Refuses (the reason is
 * logged) a directory that is a symlink, not owned by the effective uid,
 * or writable by group or others: MLS_E_ACCESS_DENIED; I/O errors:
 * MLS_E_STORAGE.
 */
MLS_MUST_CHECK int mkd_store_open(const char *path, struct mkd_store **ret_store);
void mkd_store_free(struct mkd_store *s);
void mkd_store_freep(struct mkd_store **s);
#define _mkd_store_ _mls_cleanup_(mkd_store_freep)

/* The directory's fd (owned by the store), e.g. for the key file. */
int mkd_store_dirfd(const struct mkd_store *s);

/*
 * Stores blob as object (type, id), durably. The blob must be a sealed
 * blob whose header names that same object (else MLS_E_BAD_STATE) and, if
 * version is not MKD_SEAL_ANY_VERSION, that version. Errors:
 * MLS_E_INVALID_ARGUMENT (type, id), the header errors of
 * mkd_seal_header_parse, MLS_E_TOO_LARGE, MLS_E_STORAGE.
 */
MLS_MUST_CHECK int mkd_store_put(struct mkd_store *s, uint8_t type, const uint8_t *id,
                                 size_t id_len, uint64_t version, const uint8_t *blob, size_t len);

/* Deletes object (type, id) durably; deleting what is not there is fine. */
MLS_MUST_CHECK int mkd_store_delete(struct mkd_store *s, uint8_t type, const uint8_t *id,
                                    size_t id_len);

/*
 * Applies writes (puts and deletes, of one reply or of several in reply
 * order) as one durable step: every write is checked first (nothing is
 * touched if one is bad); a write followed in the list by another of the
 * same object is skipped (the later one wins); each remaining put goes to a
 * temporary file that is fsynced, then in list order each file is renamed
 * over its object or the object removed, then each folder touched is
 * fsynced once; the manifest (MKD_OBJ_MANIFEST) likewise, but only after
 * all the rest is durable. A crash leaves every object old or new, and
 * never a manifest newer than an object it names. On an error no
 * temporary file remains, and what was renamed before it may or may not
 * be durable.
 */
MLS_MUST_CHECK int mkd_store_apply(struct mkd_store *s, const struct mkd_ipc_write *writes,
                                   size_t n);

struct mkd_store_object {
        uint8_t type;
        const uint8_t *id; /* views, valid during the callback only */
        size_t id_len;
        uint64_t version;  /* from the header */
        const uint8_t *blob;
        size_t blob_len;
        const char *path;  /* "group/a1b2", relative to the state directory */
};

/*
 * Reads every object, type by type (identity, keypackage, group), in name
 * order, and calls on_object for each good one; a negative return of
 * on_object stops the load and is returned. Every file that is skipped is
 * passed to on_problem (path relative to the state directory, reason in
 * English); leftover temporary files are removed and reported too. If
 * on_problem is NULL, problems are logged as warnings. Returns 0, the
 * callback's error, or MLS_E_STORAGE / MLS_E_NOMEM if a folder cannot be
 * read at all.
 */
MLS_MUST_CHECK int mkd_store_load_all(struct mkd_store *s,
                                      int (*on_object)(void *ud, const struct mkd_store_object *o),
                                      void (*on_problem)(void *ud, const char *path,
                                                         const char *reason),
                                      void *ud);

#endif
