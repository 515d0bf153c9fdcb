/* SPDX-License-Identifier: Apache-2.0 */
#include "tools/vectors/vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testutil.h"

static enum vec_result
vrecord(struct vec_case *c, enum vec_result r, const char *fmt, va_list ap)
{
        vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
        return r;
}

enum vec_result
vec_fail(struct vec_case *c, const char *fmt, ...)
{
        va_list ap;
        enum vec_result r;

        va_start(ap, fmt);
        r = vrecord(c, VEC_FAIL, fmt, ap);
        va_end(ap);
        return r;
}

enum vec_result
vec_skip(struct vec_case *c, const char *fmt, ...)
{
        va_list ap;
        enum vec_result r;

        va_start(ap, fmt);
        r = vrecord(c, VEC_SKIP, fmt, ap);
        va_end(ap);
        return r;
}

bool
vec_get(struct vec_case *c, json_object *o, const char *key, json_object **ret)
{
        if (!json_object_object_get_ex(o, key, ret)) {
                vec_fail(c, "missing field '%s'", key);
                return false;
        }
        return true;
}

bool
vec_u64(struct vec_case *c, json_object *o, const char *key, uint64_t *ret)
{
        json_object *v;

        if (!vec_get(c, o, key, &v))
                return false;
        if (!json_object_is_type(v, json_type_int)) {
                vec_fail(c, "field '%s' is not an integer", key);
                return false;
        }
        /* json-c keeps integers as int64 (uint64 above INT64_MAX). */
        if (json_object_get_int64(v) < 0) {
                vec_fail(c, "field '%s' is negative", key);
                return false;
        }
        *ret = json_object_get_uint64(v);
        return true;
}

bool
vec_str(struct vec_case *c, json_object *o, const char *key, const char **ret)
{
        json_object *v;

        if (!vec_get(c, o, key, &v))
                return false;
        if (!json_object_is_type(v, json_type_string)) {
                vec_fail(c, "field '%s' is not a string", key);
                return false;
        }
        *ret = json_object_get_string(v);
        return true;
}

bool
vec_hex(struct vec_case *c, json_object *o, const char *key, struct mls_bytes *ret)
{
        const char *s;

        if (!vec_str(c, o, key, &s))
                return false;
        if (!tu_hex_decode(s, ret)) {
                vec_fail(c, "field '%s' is not valid hex", key);
                return false;
        }
        return true;
}

bool
vec_expect_hex(struct vec_case *c, json_object *o, const char *key, const uint8_t *got,
               size_t got_len)
{
        struct mls_bytes want = { 0 };
        bool ok;

        if (!vec_hex(c, o, key, &want))
                return false;
        ok = want.len == got_len && (got_len == 0 || memcmp(want.data, got, got_len) == 0);
        if (!ok) {
                char *g = tu_hex_encode(got, got_len);

                vec_fail(c, "%s mismatch: got %.160s", key, g ? g : "?");
                free(g);
        }
        mls_bytes_clear(&want);
        return ok;
}
