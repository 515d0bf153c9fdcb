/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-vectors: one runner per working-group vector file type.
 *
 * Each type is a function `enum vec_result vec_<type>(struct vec_case *c)`
 * in its own file tools/vectors/<type>.c, declared weak in
 * tools/mlskey-vectors.c: a type whose file is not linked in yet reports
 * every case as skipped (never passed), with the reason on stderr.
 */
#ifndef MLS_VECTORS_H
#define MLS_VECTORS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "mls/codec.h"

enum vec_result {
        VEC_PASS,
        VEC_FAIL,
        VEC_SKIP,
};

struct vec_case {
        const char *file;        /* basename, e.g. "tree-math.json" */
        size_t index;            /* case number within the file */
        json_object *obj;        /* the case */
        char reason[512];        /* why it failed or was skipped */
};

/* Record why a case failed / is skipped; return VEC_FAIL / VEC_SKIP. */
enum vec_result vec_fail(struct vec_case *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
enum vec_result vec_skip(struct vec_case *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Field access. Each returns false (and records a reason in c) if the key
 * is missing or has the wrong type. */
bool vec_get(struct vec_case *c, json_object *o, const char *key, json_object **ret);
bool vec_u64(struct vec_case *c, json_object *o, const char *key, uint64_t *ret);
bool vec_str(struct vec_case *c, json_object *o, const char *key, const char **ret);
/* Hex field into new heap bytes (caller clears). */
bool vec_hex(struct vec_case *c, json_object *o, const char *key, struct mls_bytes *ret);
/* Compares got with the expected hex field; records a reason on mismatch. */
bool vec_expect_hex(struct vec_case *c, json_object *o, const char *key, const uint8_t *got,
                    size_t got_len);

/* One runner per file type (tools/vectors/<type>.c). */
enum vec_result vec_tree_math(struct vec_case *c);
enum vec_result vec_deserialization(struct vec_case *c);
enum vec_result vec_crypto_basics(struct vec_case *c);
enum vec_result vec_secret_tree(struct vec_case *c);
enum vec_result vec_key_schedule(struct vec_case *c);
enum vec_result vec_psk_secret(struct vec_case *c);
enum vec_result vec_transcript_hashes(struct vec_case *c);
enum vec_result vec_message_protection(struct vec_case *c);
enum vec_result vec_welcome(struct vec_case *c);
enum vec_result vec_tree_operations(struct vec_case *c);
enum vec_result vec_tree_validation(struct vec_case *c);
enum vec_result vec_treekem(struct vec_case *c);
enum vec_result vec_messages(struct vec_case *c);
enum vec_result vec_passive_client(struct vec_case *c);

#endif
