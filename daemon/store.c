/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon/store.h"
#include "daemon/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "daemon/log.h"
#include "daemon/seal.h"

#define TMP_PREFIX ".tmp-"
#define HEX_ID_MAX (2 * MKD_OBJ_ID_MAX)
/* "keypackage/" + ".tmp-" + hex id + "-" + 16 hex + NUL */
#define REL_PATH_MAX (16 + 5 + HEX_ID_MAX + 1 + 16 + 1)

/* In loading order: the manifest (rollback protection) before what it lists. */
static const uint8_t obj_types[] = { MKD_OBJ_MANIFEST, MKD_OBJ_IDENTITY, MKD_OBJ_KEYPACKAGE,
                                     MKD_OBJ_GROUP };

struct mkd_store {
        int dirfd;
        int typefd[5]; /* indexed by enum mkd_obj_type */
};


static void
hex_encode(const uint8_t *p, size_t n, char *out)
{
        sodium_bin2hex(out, 2 * n + 1, p, n); /* out: 2n + 1 bytes */
}

static int
hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1; /* uppercase is not ours: one spelling per id */
}

/* A valid object file name: lowercase hex of 1..MKD_OBJ_ID_MAX bytes. */
static bool
hex_decode_id(const char *name, uint8_t id[MKD_OBJ_ID_MAX], size_t *ret_len)
{
        size_t n = strlen(name);

        if (n == 0 || n % 2 || n > HEX_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i += 2) {
                int hi = hex_digit(name[i]), lo = hex_digit(name[i + 1]);

                if (hi < 0 || lo < 0)
                        return false;
                id[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        *ret_len = n / 2;
        return true;
}

/* Ours, a directory, not writable by group or others. */
static int
check_dir(int fd, const char *what)
{
        struct stat st;

        if (fstat(fd, &st) < 0) {
                mkd_log_err("%s: cannot stat: %s", what, strerror(errno));
                return MLS_E_STORAGE;
        }
        if (!S_ISDIR(st.st_mode)) {
                mkd_log_err("%s: refused: not a directory", what);
                return MLS_E_INSECURE_FILE;
        }
        if (st.st_uid != geteuid()) {
                mkd_log_err("%s: refused: owned by uid %u, not by us (uid %u)", what,
                            (unsigned)st.st_uid, (unsigned)geteuid());
                return MLS_E_INSECURE_FILE;
        }
        if (st.st_mode & 0022) {
                mkd_log_err("%s: refused: mode %04o is writable by group or others", what,
                            (unsigned)(st.st_mode & 07777));
                return MLS_E_INSECURE_FILE;
        }
        return 0;
}

/* Opens a directory, never through a symlink. */
static int
open_dir(int atfd, const char *name, const char *what, int *ret_fd)
{
        int fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r;

        if (fd < 0) {
                if (errno == ELOOP || errno == ENOTDIR) {
                        mkd_log_err("%s: refused: not a directory (or a symbolic link)", what);
                        return MLS_E_INSECURE_FILE;
                }
                mkd_log_err("%s: cannot open: %s", what, strerror(errno));
                return MLS_E_STORAGE;
        }
        r = check_dir(fd, what);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

void
mkd_store_free(struct mkd_store *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(s->typefd); i++)
                if (s->typefd[i] >= 0)
                        close(s->typefd[i]);
        if (s->dirfd >= 0)
                close(s->dirfd);
        free(s);
}

void
mkd_store_freep(struct mkd_store **s)
{
        mkd_store_free(*s);
        *s = NULL;
}

int
mkd_store_dirfd(const struct mkd_store *s)
{
        return s->dirfd;
}

int
mkd_store_open(const char *path, struct mkd_store **ret_store)
{
        _mkd_store_ struct mkd_store *s = NULL;
        bool created = false;

        s = malloc(sizeof(*s));
        if (!s)
                return MLS_E_NOMEM;
        s->dirfd = -1;
        for (size_t i = 0; i < MLS_ARRAY_SIZE(s->typefd); i++)
                s->typefd[i] = -1;

        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                mkd_log_err("%s: cannot create: %s", path, strerror(errno));
                return MLS_E_STORAGE;
        }
        MLS_TRY(open_dir(AT_FDCWD, path, path, &s->dirfd));
        for (size_t i = 0; i < MLS_ARRAY_SIZE(obj_types); i++) {
                const char *name = mkd_obj_type_name(obj_types[i]);

                if (mkdirat(s->dirfd, name, 0700) == 0)
                        created = true;
                else if (errno != EEXIST) {
                        mkd_log_err("%s/%s: cannot create: %s", path, name, strerror(errno));
                        return MLS_E_STORAGE;
                }
                MLS_TRY(open_dir(s->dirfd, name, name, &s->typefd[obj_types[i]]));
        }
        if (created && fsync(s->dirfd) < 0) {
                mkd_log_err("%s: cannot sync: %s", path, strerror(errno));
                return MLS_E_STORAGE;
        }
        *ret_store = MLS_TAKE(s);
        return 0;
}

/* Checks one put: a sealed blob of this very object. */
static int
put_check(uint8_t type, const uint8_t *id, size_t id_len, uint64_t version, const uint8_t *blob,
          size_t len)
{
        struct mkd_seal_header h;

        if (!mkd_obj_type_valid(type) || !mkd_obj_id_valid(id_len))
                return MLS_E_INVALID_ARGUMENT;
        if (len > MKD_STORE_OBJECT_MAX)
                return MLS_E_TOO_LARGE;
        MLS_TRY(mkd_seal_header_parse(blob, len, &h));
        if (h.type != type || h.id_len != id_len || memcmp(h.id, id, id_len) != 0 ||
            (version != MKD_SEAL_ANY_VERSION && h.version != version))
                return MLS_E_BAD_STATE;
        return 0;
}

/* Writes blob to a new temporary file of folder tfd, durably (fsync),
 * and returns its name in tmp (TMP_PREFIX <hex id>-<random>). */
static int
put_temp(int tfd, uint8_t type, const char *name, const uint8_t *blob, size_t len,
         char tmp[REL_PATH_MAX])
{
        _mkd_cleanup_close_ int fd = -1;
        uint8_t rnd[8];
        char rhex[2 * sizeof(rnd) + 1];
        int r, cfd;

        randombytes_buf(rnd, sizeof(rnd));
        hex_encode(rnd, sizeof(rnd), rhex);
        snprintf(tmp, REL_PATH_MAX, TMP_PREFIX "%s-%s", name, rhex);
        fd = openat(tfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                mkd_log_err("%s/%s: cannot create: %s", mkd_obj_type_name(type), tmp, strerror(errno));
                tmp[0] = '\0';
                return MLS_E_STORAGE;
        }
        r = mkd_write_all(fd, blob, len);
        if (r == 0 && fsync(fd) < 0)
                r = MLS_E_STORAGE;
        cfd = fd;
        fd = -1;
        if (close(cfd) < 0 && r == 0)
                r = MLS_E_STORAGE;
        if (r < 0) {
                mkd_log_err("%s/%s: cannot write: %s", mkd_obj_type_name(type), tmp, strerror(errno));
                (void)unlinkat(tfd, tmp, 0);
                tmp[0] = '\0';
        }
        return r;
}

static int
sync_dir(const struct mkd_store *s, uint8_t type)
{
        if (fsync(s->typefd[type]) < 0) {
                mkd_log_err("%s: cannot sync: %s", mkd_obj_type_name(type), strerror(errno));
                return MLS_E_STORAGE;
        }
        return 0;
}

int
mkd_store_put(struct mkd_store *s, uint8_t type, const uint8_t *id, size_t id_len,
              uint64_t version, const uint8_t *blob, size_t len)
{
        const struct mkd_ipc_write w = { .type = type, .id = id, .id_len = id_len,
                                         .version = version, .blob = blob, .blob_len = len };

        return mkd_store_apply(s, &w, 1);
}

int
mkd_store_delete(struct mkd_store *s, uint8_t type, const uint8_t *id, size_t id_len)
{
        const struct mkd_ipc_write w = { .type = type, .id = id, .id_len = id_len, .del = true };

        return mkd_store_apply(s, &w, 1);
}

/* True if a later write of the list is for the same object. */
static bool
superseded(const struct mkd_ipc_write *w, size_t i, size_t n)
{
        for (size_t j = i + 1; j < n; j++)
                if (w[j].type == w[i].type && w[j].id_len == w[i].id_len &&
                    memcmp(w[j].id, w[i].id, w[i].id_len) == 0)
                        return true;
        return false;
}

int
mkd_store_apply(struct mkd_store *s, const struct mkd_ipc_write *writes, size_t n)
{
        char (*tmp)[REL_PATH_MAX] = NULL;
        size_t made = 0;
        int r = 0;

        if (n == 0)
                return 0;
        /* Everything is checked before anything is touched. */
        for (size_t i = 0; i < n; i++) {
                const struct mkd_ipc_write *o = &writes[i];

                if (o->del) {
                        if (!mkd_obj_type_valid(o->type) || !mkd_obj_id_valid(o->id_len))
                                return MLS_E_INVALID_ARGUMENT;
                } else {
                        MLS_TRY(put_check(o->type, o->id, o->id_len, o->version, o->blob,
                                          o->blob_len));
                }
        }
        tmp = calloc(n, sizeof(*tmp));
        if (!tmp)
                return MLS_E_NOMEM;
        /* 1. The new contents, each in a durable temporary file (only the
         *    newest write of each object: the others were never
         *    acknowledged, and are not now). */
        for (made = 0; made < n && r == 0; made++) {
                const struct mkd_ipc_write *o = &writes[made];
                char name[HEX_ID_MAX + 1];

                if (o->del || superseded(writes, made, n))
                        continue;
                hex_encode(o->id, o->id_len, name);
                r = put_temp(s->typefd[o->type], o->type, name, o->blob, o->blob_len, tmp[made]);
        }
        /* 2. In list order, each object's file replaced or removed, and
         *    their folders synced; the manifest only after that, in a
         *    second pass: a manifest on disk must never name a version
         *    that is not (the loader would refuse the older file, though
         *    it was acknowledged; see vault.c, ROLLBACK). */
        for (int pass = 0; pass < 2 && r == 0; pass++) {
                bool touched[MLS_ARRAY_SIZE(s->typefd)] = { false };

                for (size_t i = 0; i < n && r == 0; i++) {
                        const struct mkd_ipc_write *o = &writes[i];
                        int tfd = s->typefd[o->type];
                        char name[HEX_ID_MAX + 1];

                        if ((o->type == MKD_OBJ_MANIFEST) != (pass == 1) ||
                            superseded(writes, i, n))
                                continue;
                        hex_encode(o->id, o->id_len, name);
                        if (o->del ? unlinkat(tfd, name, 0) < 0 && errno != ENOENT
                                   : renameat(tfd, tmp[i], tfd, name) < 0) {
                                mkd_log_err("%s/%s: cannot %s: %s", mkd_obj_type_name(o->type),
                                            name, o->del ? "delete" : "replace", strerror(errno));
                                r = MLS_E_STORAGE;
                                break;
                        }
                        tmp[i][0] = '\0'; /* renamed: nothing to clean up */
                        touched[o->type] = true;
                }
                /* 3. The renames and removals are durable once their
                 *    folders are. */
                for (size_t t = 0; t < MLS_ARRAY_SIZE(touched) && r == 0; t++)
                        if (touched[t])
                                r = sync_dir(s, (uint8_t)t);
        }
        /* On failure: no temporary file stays behind. */
        for (size_t i = 0; i < made; i++)
                if (tmp[i][0])
                        (void)unlinkat(s->typefd[writes[i].type], tmp[i], 0);
        free(tmp);
        return r;
}

/* ---- loading ---- */

struct name_list {
        char **v;
        size_t n;
        size_t cap;
};

static void
name_list_clear(struct name_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (struct name_list){ .v = NULL };
}

static int
name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a folder, sorted, without "." and "..". */
static int
list_names(int tfd, struct name_list *ret)
{
        struct name_list l = { .v = NULL };
        struct dirent *de;
        DIR *d;
        int fd;

        /* A new open file description: the store's fd keeps its offset. */
        fd = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return MLS_E_STORAGE;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return MLS_E_STORAGE;
        }
        for (;;) {
                char *copy;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno) {
                                closedir(d);
                                name_list_clear(&l);
                                return MLS_E_STORAGE;
                        }
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (l.n == l.cap) {
                        size_t cap = l.cap ? 2 * l.cap : 16;
                        char **v = realloc(l.v, cap * sizeof(*v));

                        if (!v) {
                                closedir(d);
                                name_list_clear(&l);
                                return MLS_E_NOMEM;
                        }
                        l.v = v;
                        l.cap = cap;
                }
                copy = strdup(de->d_name);
                if (!copy) {
                        closedir(d);
                        name_list_clear(&l);
                        return MLS_E_NOMEM;
                }
                l.v[l.n++] = copy;
        }
        closedir(d);
        if (l.n)
                qsort(l.v, l.n, sizeof(*l.v), name_cmp);
        *ret = l;
        return 0;
}

struct loader {
        void (*on_problem)(void *ud, const char *path, const char *reason);
        void *ud;
};

static void __attribute__((format(printf, 3, 4)))
problem(const struct loader *ld, const char *path, const char *fmt, ...)
{
        char reason[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (ld->on_problem)
                ld->on_problem(ld->ud, path, reason);
        else
                mkd_log_warning("state file %s: %s; skipped", path, reason);
}

/* Reads a whole object file; false (reported) if it is not acceptable. */
static bool
read_object(const struct loader *ld, int tfd, const char *name, const char *path,
            struct mls_bytes *ret)
{
        _mkd_cleanup_close_ int fd = -1;
        _mls_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t have = 0;

        fd = openat(tfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ELOOP)
                        problem(ld, path, "a symbolic link");
                else
                        problem(ld, path, "cannot open: %s", strerror(errno));
                return false;
        }
        if (fstat(fd, &st) < 0) {
                problem(ld, path, "cannot stat: %s", strerror(errno));
                return false;
        }
        if (!S_ISREG(st.st_mode)) {
                problem(ld, path, "not a regular file");
                return false;
        }
        if (st.st_size == 0) {
                problem(ld, path, "empty file");
                return false;
        }
        if (st.st_size > (off_t)MKD_STORE_OBJECT_MAX) {
                problem(ld, path, "too large (%lld bytes)", (long long)st.st_size);
                return false;
        }
        buf = malloc((size_t)st.st_size);
        if (!buf) {
                problem(ld, path, "out of memory");
                return false;
        }
        while (have < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        problem(ld, path, "cannot read: %s", strerror(errno));
                        return false;
                }
                if (n == 0) {
                        problem(ld, path, "truncated while reading");
                        return false;
                }
                have += (size_t)n;
        }
        ret->data = MLS_TAKE(buf);
        ret->len = have;
        return true;
}

static int
load_type(struct mkd_store *s, uint8_t type, const struct loader *ld,
          int (*on_object)(void *ud, const struct mkd_store_object *o))
{
        const char *tname = mkd_obj_type_name(type);
        int tfd = s->typefd[type];
        struct name_list names = { .v = NULL };
        bool removed = false;
        int r;

        r = list_names(tfd, &names);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "%s: cannot list", tname);
                return r;
        }
        r = 0;
        for (size_t i = 0; i < names.n && r == 0; i++) {
                const char *name = names.v[i];
                struct mls_bytes blob = { 0 };
                struct mkd_seal_header h;
                struct mkd_store_object o;
                uint8_t id[MKD_OBJ_ID_MAX];
                size_t id_len;
                char path[REL_PATH_MAX + 256];
                int e;

                snprintf(path, sizeof(path), "%s/%s", tname, name);
                if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
                        /* A write that never reached its rename. */
                        if (unlinkat(tfd, name, 0) < 0)
                                problem(ld, path, "leftover temporary file, cannot remove: %s",
                                        strerror(errno));
                        else
                                problem(ld, path, "leftover temporary file of an interrupted write, removed");
                        removed = true;
                        continue;
                }
                if (!hex_decode_id(name, id, &id_len)) {
                        problem(ld, path, "unexpected file name");
                        continue;
                }
                if (!read_object(ld, tfd, name, path, &blob))
                        continue;
                e = mkd_seal_header_parse(blob.data, blob.len, &h);
                if (e == MLS_E_TRUNCATED)
                        problem(ld, path, "truncated (%zu bytes)", blob.len);
                else if (e == MLS_E_UNSUPPORTED)
                        problem(ld, path, "unsupported seal format");
                else if (e < 0)
                        problem(ld, path, "not a sealed object (bad header)");
                else if (h.type != type || h.id_len != id_len || memcmp(h.id, id, id_len) != 0) {
                        char hid[HEX_ID_MAX + 1];

                        hex_encode(h.id, h.id_len, hid);
                        problem(ld, path, "foreign object: its header names %s/%s",
                                mkd_obj_type_name(h.type), hid);
                } else {
                        o = (struct mkd_store_object){ .type = type, .id = h.id, .id_len = h.id_len,
                                                       .version = h.version, .blob = blob.data,
                                                       .blob_len = blob.len, .path = path };
                        r = on_object(ld->ud, &o);
                }
                mls_bytes_clear(&blob);
        }
        name_list_clear(&names);
        if (removed && fsync(tfd) < 0)
                mkd_log_warning("%s: cannot sync: %s", tname, strerror(errno));
        return r;
}

int
mkd_store_load_all(struct mkd_store *s, int (*on_object)(void *ud, const struct mkd_store_object *o),
                   void (*on_problem)(void *ud, const char *path, const char *reason), void *ud)
{
        const struct loader ld = { .on_problem = on_problem, .ud = ud };

        for (size_t i = 0; i < MLS_ARRAY_SIZE(obj_types); i++)
                MLS_TRY(load_type(s, obj_types[i], &ld, on_object));
        return 0;
}
