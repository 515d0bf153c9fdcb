/* SPDX-License-Identifier: Apache-2.0 */
/*
 * psk_secret.json: combining zero or more external PSKs into psk_secret
 * (RFC 9420 section 8.4; FORMATS.md "psk_secret.json").
 *
 * For each case: every psks[i] becomes PreSharedKeyID{external, psk_id,
 * psk_nonce}; the list is chained in array order (R-8.4-3, R-8.4-5) and the
 * result must equal psk_secret (all zeros for no PSKs). Each id is also
 * encoded and decoded again (round trip through the public codec).
 */
#include <stdlib.h>
#include <string.h>

#include "mls/crypto.h"
#include "mls/psk.h"
#include "tools/vectors/vectors.h"
#include "tests/lib/testutil.h"

struct psk_case {
        struct mls_psk_id *ids;
        struct mls_bytes *values;
        struct mls_psk_input *in;
        size_t n;
};

static void
psk_case_clear(struct psk_case *pc)
{
        for (size_t i = 0; i < pc->n; i++) {
                mls_psk_id_clear(&pc->ids[i]);
                mls_bytes_clear(&pc->values[i]);
        }
        free(pc->ids);
        free(pc->values);
        free(pc->in);
        *pc = (struct psk_case){ 0 };
}

/* Encodes id, decodes it back and compares: the codec must round-trip. */
static bool
psk_id_roundtrip(const struct mls_psk_id *id)
{
        _mls_psk_id_ struct mls_psk_id back = { 0 };
        struct mls_writer w;
        struct mls_bytes enc = { 0 };
        struct mls_reader r;
        bool ok;

        mls_writer_init(&w);
        if (mls_psk_id_encode(id, &w) < 0 || mls_writer_finish(&w, &enc) < 0) {
                mls_writer_clear(&w);
                return false;
        }
        mls_reader_init(&r, enc.data, enc.len);
        ok = mls_psk_id_decode(&r, &back) == 0 && mls_reader_done(&r) == 0 &&
             mls_psk_id_eq(id, &back);
        mls_bytes_clear(&enc);
        return ok;
}

enum vec_result
vec_psk_secret(struct vec_case *c)
{
        _mls_cleanup_(psk_case_clear) struct psk_case pc = { 0 };
        _mls_secret_ struct mls_secret *secret = NULL;
        const struct mls_suite *s;
        json_object *psks;
        uint64_t suite;
        size_t n;
        int e;

        if (!vec_u64(c, c->obj, "cipher_suite", &suite) || !vec_get(c, c->obj, "psks", &psks))
                return VEC_FAIL;
        s = suite <= UINT16_MAX ? mls_suite_get((uint16_t)suite) : NULL;
        if (!s)
                return vec_skip(c, "cipher suite %llu not supported", (unsigned long long)suite);
        if (!json_object_is_type(psks, json_type_array))
                return vec_fail(c, "psks is not an array");
        n = json_object_array_length(psks);
        if (n > 0) {
                pc.ids = calloc(n, sizeof(*pc.ids));
                pc.values = calloc(n, sizeof(*pc.values));
                pc.in = calloc(n, sizeof(*pc.in));
                if (!pc.ids || !pc.values || !pc.in)
                        return vec_fail(c, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(psks, i);

                pc.n = i + 1;
                pc.ids[i].psktype = MLS_PSK_EXTERNAL;
                if (!vec_hex(c, o, "psk_id", &pc.ids[i].psk_id) ||
                    !vec_hex(c, o, "psk_nonce", &pc.ids[i].psk_nonce) ||
                    !vec_hex(c, o, "psk", &pc.values[i]))
                        return VEC_FAIL;
                if (!psk_id_roundtrip(&pc.ids[i]))
                        return vec_fail(c, "PreSharedKeyID %zu does not round-trip", i);
                pc.in[i] = (struct mls_psk_input){
                        .id = &pc.ids[i],
                        .psk = pc.values[i].data,
                        .psk_len = pc.values[i].len,
                };
        }
        e = mls_psk_secret(s, pc.in, n, &secret);
        if (e < 0)
                return vec_fail(c, "mls_psk_secret: %s", mls_err_name(e));
        if (!vec_expect_hex(c, c->obj, "psk_secret", secret->data, secret->len))
                return VEC_FAIL;
        return VEC_PASS;
}
