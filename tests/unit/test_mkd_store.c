/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of daemon/store in temporary directories: creation and
 * permission checks, put/load/delete round trips, the header check on
 * put, a simulated crash at every step of a write, and a store with
 * corrupt, foreign, truncated, misplaced and strange files that still
 * loads every good object. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "daemon/log.h"
#include "daemon/seal.h"
#include "daemon/store.h"

/* ---- renameat can be made to fail (linked with -Wl,--wrap=renameat) ---- */

int __real_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int __wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

static bool fail_rename;
static int renames;        /* calls so far */
static int fail_rename_at; /* > 0: that call (1-based, counted by renames) fails */
static char renamed[8][64]; /* the targets of the first 8 calls */

int
__wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
        if (renames < 8)
                snprintf(renamed[renames], sizeof(renamed[0]), "%s", newpath);
        renames++;
        if (fail_rename || renames == fail_rename_at) {
                errno = EIO;
                return -1;
        }
        return __real_renameat(olddirfd, oldpath, newdirfd, newpath);
}

/* ---- fixture: a temporary parent directory and a key ---- */

struct fx {
        char parent[64];
        char state[96];
        struct mkd_seal_key *key;
};

static int
setup(void **state)
{
        static struct fx f;

        strcpy(f.parent, "/tmp/mkd-store-XXXXXX");
        if (!mkdtemp(f.parent))
                return -1;
        snprintf(f.state, sizeof(f.state), "%s/state", f.parent);
        if (mkd_seal_key_new(mls_rng_system(), &f.key) < 0)
                return -1;
        umask(0022);
        *state = &f;
        return 0;
}

static int
teardown(void **state)
{
        struct fx *f = *state;
        char cmd[128];

        mkd_seal_key_free(f->key);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->parent);
        return system(cmd) == 0 ? 0 : -1;
}

static struct mls_bytes
seal(struct fx *f, uint8_t type, const uint8_t *id, size_t id_len, uint64_t version, const char *text)
{
        _mls_secret_ struct mls_secret *pt = NULL;
        struct mls_bytes blob = { 0 };

        assert_int_equal(mls_secret_from((const uint8_t *)text, strlen(text), &pt), 0);
        assert_int_equal(mkd_seal(f->key, mls_rng_system(), type, id, id_len, version, pt, &blob), 0);
        return blob;
}

static void
put(struct fx *f, struct mkd_store *s, uint8_t type, const uint8_t *id, size_t id_len,
    uint64_t version, const char *text)
{
        struct mls_bytes blob = seal(f, type, id, id_len, version, text);

        assert_int_equal(mkd_store_put(s, type, id, id_len, version, blob.data, blob.len), 0);
        mls_bytes_clear(&blob);
}

/* What a load saw: objects (unsealed with the key) and problems. */
struct seen {
        struct fx *f;
        char objects[16][160];
        size_t n_objects;
        char problems[16][200];
        size_t n_problems;
        int stop_after; /* return an error after this many objects (0: never) */
};

static int
on_object(void *ud, const struct mkd_store_object *o)
{
        struct seen *s = ud;
        _mls_secret_ struct mls_secret *pt = NULL;
        int e;

        assert_true(s->n_objects < 16);
        e = mkd_unseal(s->f->key, o->blob, o->blob_len, o->type, o->id, o->id_len, o->version, &pt);
        if (e < 0)
                snprintf(s->objects[s->n_objects], sizeof(s->objects[0]), "%s v%llu: %s", o->path,
                         (unsigned long long)o->version, mls_err_name(e));
        else
                snprintf(s->objects[s->n_objects], sizeof(s->objects[0]), "%s v%llu: %.*s", o->path,
                         (unsigned long long)o->version, (int)pt->len, (const char *)pt->data);
        s->n_objects++;
        if (s->stop_after && s->n_objects == (size_t)s->stop_after)
                return MLS_E_NOMEM;
        return 0;
}

static void
on_problem(void *ud, const char *path, const char *reason)
{
        struct seen *s = ud;

        assert_true(s->n_problems < 16);
        snprintf(s->problems[s->n_problems], sizeof(s->problems[0]), "%s: %s", path, reason);
        s->n_problems++;
}

static void
load(struct mkd_store *st, struct seen *s, struct fx *f)
{
        memset(s, 0, sizeof(*s));
        s->f = f;
        assert_int_equal(mkd_store_load_all(st, on_object, on_problem, s), 0);
}

static void
dump(const struct seen *s)
{
        for (size_t i = 0; i < s->n_objects; i++)
                print_message("object  %s\n", s->objects[i]);
        for (size_t i = 0; i < s->n_problems; i++)
                print_message("problem %s\n", s->problems[i]);
}

static int
state_open_at(struct fx *f, const char *rel, int flags)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", f->state, rel);
        return open(path, flags | O_CLOEXEC, 0600);
}

static void
write_rel(struct fx *f, const char *rel, const uint8_t *p, size_t n)
{
        int fd = state_open_at(f, rel, O_WRONLY | O_CREAT | O_TRUNC);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, p, n), (ssize_t)n);
        close(fd);
}

static bool
exists_rel(struct fx *f, const char *rel)
{
        char path[256];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", f->state, rel);
        return lstat(path, &st) == 0;
}

static size_t
count_entries(struct fx *f, const char *rel)
{
        char cmd[300];
        FILE *p;
        size_t n = 0;
        char line[512];

        snprintf(cmd, sizeof(cmd), "ls -A '%s/%s'", f->state, rel);
        p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p))
                n++;
        pclose(p);
        return n;
}

/* ---- tests ---- */

static void
test_store_open_creates_private_dirs(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const char *const sub[] = { "", "/identity", "/keypackage", "/group" };

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(sub); i++) {
                char path[256];
                struct stat st;

                snprintf(path, sizeof(path), "%s%s", f->state, sub[i]);
                assert_int_equal(lstat(path, &st), 0);
                assert_true(S_ISDIR(st.st_mode));
                assert_int_equal(st.st_mode & 07777, 0700);
        }
        assert_true(mkd_store_dirfd(s) >= 0);
        mkd_store_freep(&s);
        /* Opening again is fine. */
        assert_int_equal(mkd_store_open(f->state, &s), 0);
}

static void
expect_open_refused(const char *path, int err)
{
        struct mkd_store *s = NULL;

        mkd_log_set_fd(-1); /* the reason goes to the log: silence it */
        assert_int_equal(mkd_store_open(path, &s), err);
        mkd_log_set_fd(2);
        assert_null(s);
}

static void
test_store_open_refuses_unsafe_dirs(void **state)
{
        struct fx *f = *state;
        char link[128], sub[128];

        assert_int_equal(mkdir(f->state, 0700), 0);
        assert_int_equal(chmod(f->state, 0770), 0);
        expect_open_refused(f->state, MLS_E_INSECURE_FILE);
        assert_int_equal(chmod(f->state, 0702), 0);
        expect_open_refused(f->state, MLS_E_INSECURE_FILE);
        assert_int_equal(chmod(f->state, 0755), 0);
        {
                /* Readable by others, but not writable: accepted. */
                _mkd_store_ struct mkd_store *s = NULL;

                assert_int_equal(mkd_store_open(f->state, &s), 0);
        }
        /* A type folder writable by others. */
        snprintf(sub, sizeof(sub), "%s/group", f->state);
        assert_int_equal(chmod(sub, 0777), 0);
        expect_open_refused(f->state, MLS_E_INSECURE_FILE);
        assert_int_equal(chmod(sub, 0700), 0);
        /* A type folder that is a symlink. */
        assert_int_equal(rmdir(sub), 0);
        assert_int_equal(symlink("/tmp", sub), 0);
        expect_open_refused(f->state, MLS_E_INSECURE_FILE);
        assert_int_equal(unlink(sub), 0);
        /* The state directory through a symlink. */
        snprintf(link, sizeof(link), "%s/link", f->parent);
        assert_int_equal(symlink(f->state, link), 0);
        expect_open_refused(link, MLS_E_INSECURE_FILE);
        /* A plain file. */
        snprintf(link, sizeof(link), "%s/file", f->parent);
        close(open(link, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        expect_open_refused(link, MLS_E_INSECURE_FILE);
        /* Owned by another uid (root can arrange it; CI runs as root). */
        if (geteuid() == 0) {
                assert_int_equal(chown(f->state, 4242, 4242), 0);
                expect_open_refused(f->state, MLS_E_INSECURE_FILE);
        } else {
                skip();
        }
}

static void
test_store_put_load_delete(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const uint8_t gid[] = { 0x0a, 0xff }, gid2[] = { 0x01 }, iid[] = { 0x00, 0x01, 0x02 },
                             kid[32] = { 0xee };
        struct seen seen;
        struct stat st;

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        put(f, s, MKD_OBJ_GROUP, gid, sizeof(gid), 1, "group v1");
        put(f, s, MKD_OBJ_GROUP, gid2, sizeof(gid2), 3, "other group");
        put(f, s, MKD_OBJ_IDENTITY, iid, sizeof(iid), 1, "alice");
        put(f, s, MKD_OBJ_KEYPACKAGE, kid, sizeof(kid), 1, "kp");
        /* A newer version replaces the file. */
        put(f, s, MKD_OBJ_GROUP, gid, sizeof(gid), 2, "group v2");
        assert_int_equal(stat(f->state, &st), 0);
        assert_true(exists_rel(f, "group/0aff"));
        {
                char path[256];

                snprintf(path, sizeof(path), "%s/group/0aff", f->state);
                assert_int_equal(stat(path, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        load(s, &seen, f);
        dump(&seen);
        assert_int_equal(seen.n_problems, 0);
        assert_int_equal(seen.n_objects, 4);
        assert_string_equal(seen.objects[0], "identity/000102 v1: alice");
        assert_string_equal(seen.objects[1],
                            "keypackage/ee00000000000000000000000000000000000000000000000000000000000000 v1: kp");
        assert_string_equal(seen.objects[2], "group/01 v3: other group");
        assert_string_equal(seen.objects[3], "group/0aff v2: group v2");
        /* No temporary file anywhere. */
        assert_int_equal(count_entries(f, "group"), 2);

        assert_int_equal(mkd_store_delete(s, MKD_OBJ_GROUP, gid, sizeof(gid)), 0);
        assert_false(exists_rel(f, "group/0aff"));
        /* Deleting what is gone is fine (replaying a write-ahead log). */
        assert_int_equal(mkd_store_delete(s, MKD_OBJ_GROUP, gid, sizeof(gid)), 0);
        load(s, &seen, f);
        assert_int_equal(seen.n_objects, 3);
        assert_int_equal(mkd_store_delete(s, 0, gid, sizeof(gid)), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_store_delete(s, MKD_OBJ_GROUP, gid, 0), MLS_E_INVALID_ARGUMENT);
}

/* put writes only a sealed blob of the object it names. */
static void
test_store_put_checks_the_header(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const uint8_t a[] = { 0xaa }, b[] = { 0xbb };
        struct mls_bytes blob;
        struct seen seen;

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        blob = seal(f, MKD_OBJ_GROUP, a, 1, 4, "a");
        assert_int_equal(mkd_store_put(s, MKD_OBJ_GROUP, b, 1, 4, blob.data, blob.len), MLS_E_BAD_STATE);
        assert_int_equal(mkd_store_put(s, MKD_OBJ_IDENTITY, a, 1, 4, blob.data, blob.len),
                         MLS_E_BAD_STATE);
        assert_int_equal(mkd_store_put(s, MKD_OBJ_GROUP, a, 1, 5, blob.data, blob.len), MLS_E_BAD_STATE);
        assert_int_equal(mkd_store_put(s, MKD_OBJ_GROUP, a, 1, MKD_SEAL_ANY_VERSION, blob.data, blob.len),
                         0);
        assert_int_equal(mkd_store_put(s, MKD_OBJ_GROUP, a, 1, 4, blob.data, 40), MLS_E_TRUNCATED);
        blob.data[0] ^= 1;
        assert_int_equal(mkd_store_put(s, MKD_OBJ_GROUP, a, 1, 4, blob.data, blob.len),
                         MLS_E_INVALID_MESSAGE);
        assert_int_equal(mkd_store_put(s, 7, a, 1, 4, blob.data, blob.len), MLS_E_INVALID_ARGUMENT);
        mls_bytes_clear(&blob);
        load(s, &seen, f);
        assert_int_equal(seen.n_objects, 1);
        assert_int_equal(seen.n_problems, 0);
}

static void
test_store_apply_writes(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const uint8_t a[] = { 0x0a }, b[] = { 0x0b };
        struct mls_bytes ba, bb;
        struct mkd_ipc_write w[3];
        struct seen seen;

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        put(f, s, MKD_OBJ_KEYPACKAGE, a, 1, 1, "consumed kp");
        ba = seal(f, MKD_OBJ_GROUP, a, 1, 1, "joined");
        bb = seal(f, MKD_OBJ_IDENTITY, b, 1, 9, "me");
        w[0] = (struct mkd_ipc_write){ .type = MKD_OBJ_GROUP, .id = a, .id_len = 1, .version = 1,
                                       .blob = ba.data, .blob_len = ba.len };
        w[1] = (struct mkd_ipc_write){ .type = MKD_OBJ_KEYPACKAGE, .id = a, .id_len = 1, .del = true };
        w[2] = (struct mkd_ipc_write){ .type = MKD_OBJ_IDENTITY, .id = b, .id_len = 1, .version = 9,
                                       .blob = bb.data, .blob_len = bb.len };
        assert_int_equal(mkd_store_apply(s, w, 3), 0);
        load(s, &seen, f);
        assert_int_equal(seen.n_objects, 2);
        assert_string_equal(seen.objects[0], "identity/0b v9: me");
        assert_string_equal(seen.objects[1], "group/0a v1: joined");
        /* A write whose version disagrees with its blob stops the batch. */
        w[0].version = 2;
        assert_int_equal(mkd_store_apply(s, w, 3), MLS_E_BAD_STATE);
        mls_bytes_clear(&ba);
        mls_bytes_clear(&bb);
}

/* mkd_store_apply with the at-th rename failing: MLS_E_STORAGE (its log
 * line silenced). */
static void
apply_failing_rename(struct mkd_store *s, const struct mkd_ipc_write *w, size_t n, int at)
{
        renames = 0;
        fail_rename_at = at;
        mkd_log_set_fd(-1);
        assert_int_equal(mkd_store_apply(s, w, n), MLS_E_STORAGE);
        mkd_log_set_fd(2);
        fail_rename_at = 0;
}

/* The writes of several replies as one step (the broker's group commit):
 * the newest write of an object wins and the older ones are never written
 * (one rename); a put then a delete removes, a delete then a put keeps; a
 * bad write anywhere in the list touches nothing; a failed rename in the
 * middle leaves no temporary file, and the object whose rename failed
 * keeps its old version. */
static void
test_store_apply_batch(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const uint8_t a[] = { 0x0a }, b[] = { 0x0b }, c[] = { 0x0c };
        struct mls_bytes a1, a2, a3, b1, c1, c2;
        struct mkd_ipc_write w[5];
        struct seen seen;

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        a1 = seal(f, MKD_OBJ_GROUP, a, 1, 1, "a1");
        a2 = seal(f, MKD_OBJ_GROUP, a, 1, 2, "a2");
        a3 = seal(f, MKD_OBJ_GROUP, a, 1, 3, "a3");
        b1 = seal(f, MKD_OBJ_IDENTITY, b, 1, 1, "b1");
        c1 = seal(f, MKD_OBJ_GROUP, c, 1, 1, "c1");
        c2 = seal(f, MKD_OBJ_GROUP, c, 1, 2, "c2");
#define PUT(t, i, v, x) \
        ((struct mkd_ipc_write){ .type = (t), .id = (i), .id_len = 1, .version = (v), \
                                 .blob = (x).data, .blob_len = (x).len })
#define DEL(t, i) ((struct mkd_ipc_write){ .type = (t), .id = (i), .id_len = 1, .del = true })
        w[0] = PUT(MKD_OBJ_GROUP, a, 1, a1);
        w[1] = PUT(MKD_OBJ_IDENTITY, b, 1, b1);
        w[2] = PUT(MKD_OBJ_GROUP, a, 2, a2);
        w[3] = DEL(MKD_OBJ_IDENTITY, b);
        w[4] = PUT(MKD_OBJ_GROUP, a, 3, a3);
        renames = 0;
        assert_int_equal(mkd_store_apply(s, w, 5), 0);
        assert_int_equal(renames, 1);
        load(s, &seen, f);
        assert_int_equal(seen.n_objects, 1);
        assert_string_equal(seen.objects[0], "group/0a v3: a3");
        assert_int_equal(seen.n_problems, 0);
        assert_int_equal(count_entries(f, "group"), 1);
        assert_int_equal(count_entries(f, "identity"), 0);

        /* delete, then put: the put stays */
        w[0] = DEL(MKD_OBJ_GROUP, c);
        w[1] = PUT(MKD_OBJ_GROUP, c, 1, c1);
        assert_int_equal(mkd_store_apply(s, w, 2), 0);
        load(s, &seen, f);
        assert_int_equal(seen.n_objects, 2);
        assert_string_equal(seen.objects[1], "group/0c v1: c1");

        /* a bad last write: nothing at all happens */
        w[0] = PUT(MKD_OBJ_IDENTITY, b, 1, b1);
        w[1] = PUT(MKD_OBJ_GROUP, a, 9, a1); /* version disagrees with the blob */
        renames = 0;
        assert_int_equal(mkd_store_apply(s, w, 2), MLS_E_BAD_STATE);
        assert_int_equal(renames, 0);
        assert_int_equal(count_entries(f, "identity"), 0);

        /* the second rename fails: the first object is replaced, the
         * second keeps its old version, no temporary file is left */
        w[0] = PUT(MKD_OBJ_IDENTITY, b, 1, b1);
        w[1] = PUT(MKD_OBJ_GROUP, c, 2, c2);
        apply_failing_rename(s, w, 2, 2);
        assert_int_equal(count_entries(f, "identity"), 1);
        assert_int_equal(count_entries(f, "group"), 2);
        load(s, &seen, f);
        assert_int_equal(seen.n_problems, 0);
        assert_int_equal(seen.n_objects, 3);
        assert_string_equal(seen.objects[0], "identity/0b v1: b1");
        assert_string_equal(seen.objects[2], "group/0c v1: c1");
        /* The manifest goes last, whatever its place in the list: a
         * manifest never names a version not yet durable. Its rename
         * failing leaves the objects replaced and the old manifest. */
        {
                static const uint8_t mid[] = { 0x4d };
                struct mls_bytes m1 = seal(f, MKD_OBJ_MANIFEST, mid, 1, 1, "m1");
                struct mls_bytes m2 = seal(f, MKD_OBJ_MANIFEST, mid, 1, 2, "m2");
                struct mls_bytes c3 = seal(f, MKD_OBJ_GROUP, c, 1, 3, "c3");

                w[0] = PUT(MKD_OBJ_MANIFEST, mid, 1, m1);
                w[1] = PUT(MKD_OBJ_GROUP, c, 2, c2);
                renames = 0;
                assert_int_equal(mkd_store_apply(s, w, 2), 0);
                assert_int_equal(renames, 2);
                assert_string_equal(renamed[0], "0c");
                assert_string_equal(renamed[1], "4d");
                w[0] = PUT(MKD_OBJ_MANIFEST, mid, 2, m2);
                w[1] = PUT(MKD_OBJ_GROUP, c, 3, c3);
                apply_failing_rename(s, w, 2, 2);
                load(s, &seen, f);
                assert_int_equal(seen.n_problems, 0);
                {
                        int found = 0;

                        for (size_t i = 0; i < seen.n_objects; i++) {
                                if (strncmp(seen.objects[i], "group/0c", 8) == 0) {
                                        assert_string_equal(seen.objects[i], "group/0c v3: c3");
                                        found++;
                                }
                                if (strncmp(seen.objects[i], "manifest/", 9) == 0) {
                                        assert_string_equal(seen.objects[i], "manifest/4d v1: m1");
                                        found++;
                                }
                        }
                        assert_int_equal(found, 2);
                }
                mls_bytes_clear(&m1);
                mls_bytes_clear(&m2);
                mls_bytes_clear(&c3);
        }
#undef PUT
#undef DEL
        mls_bytes_clear(&a1);
        mls_bytes_clear(&a2);
        mls_bytes_clear(&a3);
        mls_bytes_clear(&b1);
        mls_bytes_clear(&c1);
        mls_bytes_clear(&c2);
}

/* A crash anywhere in a write leaves the old version or the new one; a
 * leftover temporary file is removed on load and never loaded. */
static void
test_store_atomic_write_survives_crash(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const uint8_t id[] = { 0x42 };
        struct mls_bytes v2;
        struct seen seen;

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        put(f, s, MKD_OBJ_GROUP, id, 1, 1, "epoch 1");
        v2 = seal(f, MKD_OBJ_GROUP, id, 1, 2, "epoch 2");

        /* 1. Crash after the temporary file was written and synced, before
         * the rename: exactly what put leaves behind at that instant. */
        write_rel(f, "group/.tmp-42-00112233aabbccdd", v2.data, v2.len);
        /* 2. Crash while the temporary file was being written. */
        write_rel(f, "group/.tmp-42-ffeeddccbbaa9988", v2.data, v2.len / 2);
        /* 3. An empty one (crash right after O_EXCL). */
        write_rel(f, "identity/.tmp-42-0000000000000000", v2.data, 0);
        load(s, &seen, f);
        dump(&seen);
        assert_int_equal(seen.n_objects, 1);
        assert_string_equal(seen.objects[0], "group/42 v1: epoch 1");
        assert_int_equal(seen.n_problems, 3);
        assert_string_equal(seen.problems[0],
                            "identity/.tmp-42-0000000000000000: leftover temporary file of an interrupted write, removed");
        assert_string_equal(seen.problems[1],
                            "group/.tmp-42-00112233aabbccdd: leftover temporary file of an interrupted write, removed");
        assert_string_equal(seen.problems[2],
                            "group/.tmp-42-ffeeddccbbaa9988: leftover temporary file of an interrupted write, removed");
        assert_int_equal(count_entries(f, "group"), 1);
        assert_int_equal(count_entries(f, "identity"), 0);
        /* A second load is clean. */
        load(s, &seen, f);
        assert_int_equal(seen.n_problems, 0);

        /* 4. The rename fails (as if we crashed right before it): put
         * reports the failure, the old version stays, no temp is left. */
        fail_rename = true;
        mkd_log_set_fd(-1);
        assert_int_equal(mkd_store_put(s, MKD_OBJ_GROUP, id, 1, 2, v2.data, v2.len), MLS_E_STORAGE);
        mkd_log_set_fd(2);
        fail_rename = false;
        assert_int_equal(count_entries(f, "group"), 1);
        load(s, &seen, f);
        assert_int_equal(seen.n_objects, 1);
        assert_string_equal(seen.objects[0], "group/42 v1: epoch 1");

        /* 5. And after the rename, the new version is what loads. */
        assert_int_equal(mkd_store_put(s, MKD_OBJ_GROUP, id, 1, 2, v2.data, v2.len), 0);
        load(s, &seen, f);
        assert_string_equal(seen.objects[0], "group/42 v2: epoch 2");
        mls_bytes_clear(&v2);
}

/* One good object among every kind of bad file: the good one loads, each
 * bad one is reported with its reason, nothing crashes. */
static void
test_store_corrupt_files_skipped(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const uint8_t good[] = { 0x01 }, trunc[] = { 0x02 }, magic[] = { 0x03 },
                             tamper[] = { 0x04 }, other[] = { 0x05 }, fmt[] = { 0x06 };
        struct mls_bytes b;
        struct seen seen;

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        put(f, s, MKD_OBJ_GROUP, good, 1, 1, "good");
        /* Truncated: the header is cut. */
        b = seal(f, MKD_OBJ_GROUP, trunc, 1, 1, "x");
        write_rel(f, "group/02", b.data, 20);
        mls_bytes_clear(&b);
        /* Not a sealed blob. */
        b = seal(f, MKD_OBJ_GROUP, magic, 1, 1, "x");
        b.data[0] = 'm';
        write_rel(f, "group/03", b.data, b.len);
        mls_bytes_clear(&b);
        /* Ciphertext tampered: the header is fine, the vault refuses it. */
        b = seal(f, MKD_OBJ_GROUP, tamper, 1, 1, "x");
        b.data[b.len - 1] ^= 0x80;
        write_rel(f, "group/04", b.data, b.len);
        mls_bytes_clear(&b);
        /* Foreign: group 05's blob copied over group 07, and an identity
         * blob in the group folder. */
        b = seal(f, MKD_OBJ_GROUP, other, 1, 1, "x");
        write_rel(f, "group/07", b.data, b.len);
        mls_bytes_clear(&b);
        b = seal(f, MKD_OBJ_IDENTITY, good, 1, 1, "x");
        write_rel(f, "group/08", b.data, b.len);
        mls_bytes_clear(&b);
        (void)other;
        /* Another seal format. */
        b = seal(f, MKD_OBJ_GROUP, fmt, 1, 1, "x");
        b.data[9] = 2;
        write_rel(f, "group/06", b.data, b.len);
        mls_bytes_clear(&b);
        /* Empty, odd names, uppercase hex, a symlink, a folder, a FIFO. */
        write_rel(f, "group/09", (const uint8_t *)"", 0);
        write_rel(f, "group/README", (const uint8_t *)"hi", 2);
        write_rel(f, "group/0A", (const uint8_t *)"hi", 2);
        write_rel(f, "group/123", (const uint8_t *)"hi", 2);
        {
                char path[256];

                snprintf(path, sizeof(path), "%s/group/0b", f->state);
                assert_int_equal(symlink("01", path), 0);
                snprintf(path, sizeof(path), "%s/group/0c", f->state);
                assert_int_equal(mkdir(path, 0700), 0);
                snprintf(path, sizeof(path), "%s/group/0d", f->state);
                assert_int_equal(mkfifo(path, 0600), 0);
        }
        load(s, &seen, f);
        dump(&seen);
        assert_int_equal(seen.n_objects, 2);
        assert_string_equal(seen.objects[0], "group/01 v1: good");
        assert_string_equal(seen.objects[1], "group/04 v1: MLS_E_DECRYPT");
        assert_int_equal(seen.n_problems, 12);
        assert_string_equal(seen.problems[0], "group/02: truncated (20 bytes)");
        assert_string_equal(seen.problems[1], "group/03: not a sealed object (bad header)");
        assert_string_equal(seen.problems[2], "group/06: unsupported seal format");
        assert_string_equal(seen.problems[3], "group/07: foreign object: its header names group/05");
        assert_string_equal(seen.problems[4], "group/08: foreign object: its header names identity/01");
        assert_string_equal(seen.problems[5], "group/09: empty file");
        assert_string_equal(seen.problems[6], "group/0A: unexpected file name");
        assert_string_equal(seen.problems[7], "group/0b: a symbolic link");
        assert_string_equal(seen.problems[8], "group/0c: not a regular file");
        assert_string_equal(seen.problems[9], "group/0d: not a regular file");
        assert_string_equal(seen.problems[10], "group/123: unexpected file name");
        assert_string_equal(seen.problems[11], "group/README: unexpected file name");
        /* Bad files are left for the administrator, not deleted. */
        assert_true(exists_rel(f, "group/03"));
}

/* An error from the callback stops the load and is returned; without a
 * problem callback, problems are logged. */
static void
test_store_load_callback_errors_and_logging(void **state)
{
        struct fx *f = *state;
        _mkd_store_ struct mkd_store *s = NULL;
        static const uint8_t a[] = { 0x01 }, b[] = { 0x02 };
        struct seen seen = { .f = f, .stop_after = 1 };
        int p[2];
        char buf[1024];
        ssize_t n;

        assert_int_equal(mkd_store_open(f->state, &s), 0);
        put(f, s, MKD_OBJ_GROUP, a, 1, 1, "a");
        put(f, s, MKD_OBJ_GROUP, b, 1, 1, "b");
        assert_int_equal(mkd_store_load_all(s, on_object, on_problem, &seen), MLS_E_NOMEM);
        assert_int_equal(seen.n_objects, 1);

        write_rel(f, "group/zz", (const uint8_t *)"x", 1);
        assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
        mkd_log_set_fd(p[1]);
        memset(&seen, 0, sizeof(seen));
        seen.f = f;
        assert_int_equal(mkd_store_load_all(s, on_object, NULL, &seen), 0);
        mkd_log_set_fd(2);
        n = read(p[0], buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_string_equal(buf, "<4>mlskeyd: state file group/zz: unexpected file name; skipped\n");
        assert_int_equal(seen.n_objects, 2);
        close(p[0]);
        close(p[1]);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_store_open_creates_private_dirs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_open_refuses_unsafe_dirs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_put_load_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_put_checks_the_header, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_apply_writes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_apply_batch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_atomic_write_survives_crash, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_corrupt_files_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_load_callback_errors_and_logging, setup,
                                                teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
