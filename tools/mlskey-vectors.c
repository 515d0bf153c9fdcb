/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-vectors FILE...
 *
 * Runs the MLS working group's interoperability test vectors. The file type
 * comes from the file name as the working group names them
 * (tree-math.json, crypto-basics.json, ...). Prints exactly one line per
 * file on stdout:
 *
 *     NAME: N passed, M failed, K skipped
 *
 * with the reason for every failed or skipped case on stderr, and exits 1
 * if any case failed (2 for a usage or file error).
 *
 * Options: -v  print every case's result on stderr.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tools/vectors/vectors.h"

typedef enum vec_result (*vec_fn)(struct vec_case *c);

/* Runners are weak references: a type whose file is not linked in yet is
 * NULL here, and all its cases are reported as skipped. */
#define VEC_DECLARE(fn) extern __typeof__(fn) fn __attribute__((weak))
VEC_DECLARE(vec_tree_math);
VEC_DECLARE(vec_deserialization);
VEC_DECLARE(vec_crypto_basics);
VEC_DECLARE(vec_secret_tree);
VEC_DECLARE(vec_key_schedule);
VEC_DECLARE(vec_psk_secret);
VEC_DECLARE(vec_transcript_hashes);
VEC_DECLARE(vec_message_protection);
VEC_DECLARE(vec_welcome);
VEC_DECLARE(vec_tree_operations);
VEC_DECLARE(vec_tree_validation);
VEC_DECLARE(vec_treekem);
VEC_DECLARE(vec_messages);
VEC_DECLARE(vec_passive_client);

struct vec_type {
        const char *name;
        vec_fn fn;
        const char *pending;     /* which issue brings it, when not linked */
};

static const struct vec_type *
find_type(const char *base)
{
        /* Built at run time because weak symbols are not constant
         * expressions everywhere. */
        static struct vec_type types[16];
        static size_t n;

        if (n == 0) {
                types[n++] = (struct vec_type){ "tree-math", vec_tree_math, "issue 2" };
                types[n++] = (struct vec_type){ "deserialization", vec_deserialization, "issue 2" };
                types[n++] = (struct vec_type){ "crypto-basics", vec_crypto_basics, "issue 3" };
                types[n++] = (struct vec_type){ "secret-tree", vec_secret_tree, "issue 3" };
                types[n++] = (struct vec_type){ "key-schedule", vec_key_schedule, "issue 3" };
                types[n++] = (struct vec_type){ "psk_secret", vec_psk_secret, "issue 3" };
                types[n++] = (struct vec_type){ "transcript-hashes", vec_transcript_hashes, "issue 3" };
                types[n++] = (struct vec_type){ "message-protection", vec_message_protection, "issue 3" };
                types[n++] = (struct vec_type){ "welcome", vec_welcome, "issue 3" };
                types[n++] = (struct vec_type){ "messages", vec_messages, "issue 3" };
                types[n++] = (struct vec_type){ "tree-operations", vec_tree_operations, "issue 4" };
                types[n++] = (struct vec_type){ "tree-validation", vec_tree_validation, "issue 4" };
                types[n++] = (struct vec_type){ "treekem", vec_treekem, "issue 4" };
                types[n++] = (struct vec_type){ "passive-client", vec_passive_client, "issue 4" };
        }
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(types[i].name);

                /* passive-client-welcome.json, passive-client-handling-commit.json,
                 * passive-client-random.json share one format. */
                if (strcmp(types[i].name, "passive-client") == 0) {
                        if (strncmp(base, "passive-client", l) == 0)
                                return &types[i];
                        continue;
                }
                if (strncmp(base, types[i].name, l) == 0 && strcmp(base + l, ".json") == 0)
                        return &types[i];
        }
        return NULL;
}

static int
run_file(const char *path, bool verbose, bool *ret_failed)
{
        char *pcopy = strdup(path);
        const char *base;
        const struct vec_type *t;
        json_object *root;
        size_t n, pass = 0, fail = 0, skip = 0;
        char name[256];

        if (!pcopy)
                return -1;
        base = basename(pcopy);
        snprintf(name, sizeof(name), "%s", base);
        if (strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".json") == 0)
                name[strlen(name) - 5] = '\0';
        t = find_type(base);
        if (!t) {
                fprintf(stderr, "%s: unknown vector file type (name it as the working group does)\n", path);
                free(pcopy);
                return -1;
        }
        root = json_object_from_file(path);
        if (!root || !json_object_is_type(root, json_type_array)) {
                fprintf(stderr, "%s: not a JSON array: %s\n", path, json_util_get_last_err());
                json_object_put(root);
                free(pcopy);
                return -1;
        }
        n = json_object_array_length(root);
        for (size_t i = 0; i < n; i++) {
                struct vec_case c = { .file = base, .index = i,
                                      .obj = json_object_array_get_idx(root, i) };
                enum vec_result r;

                if (!t->fn)
                        r = vec_skip(&c, "%s runner not built yet (%s)", t->name, t->pending);
                else if (!json_object_is_type(c.obj, json_type_object))
                        r = vec_fail(&c, "case is not a JSON object");
                else
                        r = t->fn(&c);
                switch (r) {
                case VEC_PASS:
                        pass++;
                        if (verbose)
                                fprintf(stderr, "%s[%zu]: pass\n", name, i);
                        break;
                case VEC_FAIL:
                        fail++;
                        fprintf(stderr, "%s[%zu]: FAIL: %s\n", name, i, c.reason);
                        break;
                case VEC_SKIP:
                        skip++;
                        /* One line per distinct reason would hide per-case
                         * suites; keep it per case but terse. */
                        fprintf(stderr, "%s[%zu]: skipped: %s\n", name, i, c.reason);
                        break;
                }
        }
        printf("%s: %zu passed, %zu failed, %zu skipped\n", name, pass, fail, skip);
        fflush(stdout);
        json_object_put(root);
        free(pcopy);
        if (fail)
                *ret_failed = true;
        return 0;
}

int
main(int argc, char **argv)
{
        bool verbose = false, failed = false, error = false;
        int first = 1;

        if (argc > 1 && strcmp(argv[1], "-v") == 0) {
                verbose = true;
                first = 2;
        }
        if (first >= argc) {
                fprintf(stderr, "usage: mlskey-vectors [-v] FILE.json...\n");
                return 2;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "mlskey-vectors: sodium_init failed\n");
                return 2;
        }
        for (int i = first; i < argc; i++)
                if (run_file(argv[i], verbose, &failed) < 0)
                        error = true;
        if (error)
                return 2;
        return failed ? 1 : 0;
}
