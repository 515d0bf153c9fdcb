/* SPDX-License-Identifier: Apache-2.0 */
/* Pre-shared keys: PreSharedKeyID codec and psk_secret (RFC 9420 section 8.4). */
#include "mls/psk.h"

#include <string.h>

#include "mls/labeled.h"

static bool
psk_type_valid(enum mls_psk_type t)
{
        switch (t) {
        case MLS_PSK_EXTERNAL:
        case MLS_PSK_RESUMPTION:
                return true;
        }
        return false;
}

static bool
psk_usage_valid(enum mls_psk_usage u)
{
        switch (u) {
        case MLS_PSK_USAGE_APPLICATION:
        case MLS_PSK_USAGE_REINIT:
        case MLS_PSK_USAGE_BRANCH:
                return true;
        }
        return false;
}

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}

void
mls_psk_id_clear(struct mls_psk_id *id)
{
        if (!id)
                return;
        mls_bytes_clear(&id->psk_id);
        mls_bytes_clear(&id->psk_group_id);
        mls_bytes_clear(&id->psk_nonce);
        *id = (struct mls_psk_id){ 0 };
}

/* RFC 9420 section 8.4: PreSharedKeyID (see mls/psk.h for the struct). */
int
mls_psk_id_encode(const struct mls_psk_id *id, struct mls_writer *w)
{
        if (!psk_type_valid(id->psktype))
                return MLS_E_BAD_ENUM;
        MLS_TRY(mls_writer_u8(w, (uint8_t)id->psktype));
        switch (id->psktype) {
        case MLS_PSK_EXTERNAL:
                MLS_TRY(mls_writer_opaque(w, id->psk_id.data, id->psk_id.len));
                break;
        case MLS_PSK_RESUMPTION:
                if (!psk_usage_valid(id->usage))
                        return MLS_E_BAD_ENUM;
                MLS_TRY(mls_writer_u8(w, (uint8_t)id->usage));
                MLS_TRY(mls_writer_opaque(w, id->psk_group_id.data, id->psk_group_id.len));
                MLS_TRY(mls_writer_u64(w, id->psk_epoch));
                break;
        }
        return mls_writer_opaque(w, id->psk_nonce.data, id->psk_nonce.len);
}

/*
 * RFC 9420 section 8.4:
 *   struct {
 *     PSKType psktype;
 *     select (PreSharedKeyID.psktype) {
 *       case external:   opaque psk_id<V>;
 *       case resumption: ResumptionPSKUsage usage;
 *                        opaque psk_group_id<V>;
 *                        uint64 psk_epoch;
 *     };
 *     opaque psk_nonce<V>;
 *   } PreSharedKeyID;
 * Unknown and reserved enum values are rejected (MLS_E_BAD_ENUM).
 */
int
mls_psk_id_decode(struct mls_reader *r, struct mls_psk_id *ret_id)
{
        _mls_psk_id_ struct mls_psk_id id = { 0 };
        struct mls_reader t = *r;
        uint8_t v;

        MLS_TRY(mls_reader_u8(&t, &v));
        id.psktype = (enum mls_psk_type)v;
        if (!psk_type_valid(id.psktype))
                return MLS_E_BAD_ENUM;
        switch (id.psktype) {
        case MLS_PSK_EXTERNAL:
                MLS_TRY(mls_reader_opaque(&t, &id.psk_id));
                break;
        case MLS_PSK_RESUMPTION:
                MLS_TRY(mls_reader_u8(&t, &v));
                id.usage = (enum mls_psk_usage)v;
                if (!psk_usage_valid(id.usage))
                        return MLS_E_BAD_ENUM;
                MLS_TRY(mls_reader_opaque(&t, &id.psk_group_id));
                MLS_TRY(mls_reader_u64(&t, &id.psk_epoch));
                break;
        }
        MLS_TRY(mls_reader_opaque(&t, &id.psk_nonce));
        *r = t;
        *ret_id = id;
        id = (struct mls_psk_id){ 0 };
        return 0;
}

int
mls_psk_id_dup(const struct mls_psk_id *src, struct mls_psk_id *ret_id)
{
        _mls_psk_id_ struct mls_psk_id id = { 0 };

        id.psktype = src->psktype;
        id.usage = src->usage;
        id.psk_epoch = src->psk_epoch;
        MLS_TRY(mls_bytes_dup(&id.psk_id, &src->psk_id));
        MLS_TRY(mls_bytes_dup(&id.psk_group_id, &src->psk_group_id));
        MLS_TRY(mls_bytes_dup(&id.psk_nonce, &src->psk_nonce));
        *ret_id = id;
        id = (struct mls_psk_id){ 0 };
        return 0;
}

bool
mls_psk_id_eq(const struct mls_psk_id *a, const struct mls_psk_id *b)
{
        if (a->psktype != b->psktype || !mls_bytes_eq(&a->psk_nonce, &b->psk_nonce))
                return false;
        switch (a->psktype) {
        case MLS_PSK_EXTERNAL:
                return mls_bytes_eq(&a->psk_id, &b->psk_id);
        case MLS_PSK_RESUMPTION:
                return a->usage == b->usage && a->psk_epoch == b->psk_epoch &&
                       mls_bytes_eq(&a->psk_group_id, &b->psk_group_id);
        }
        return false;
}

int
mls_psk_id_new_nonce(struct mls_psk_id *id, const struct mls_suite *s, const struct mls_rng *rng)
{
        _mls_cleanup_(bytes_clearp) struct mls_bytes n = { 0 };

        /* R-8.4-2, R-12.1.4-4: a fresh random psk_nonce of KDF.Nh bytes for
         * every injection. */
        n.data = malloc(s->hash_len);
        if (!n.data)
                return MLS_E_NOMEM;
        n.len = s->hash_len;
        MLS_TRY(mls_rng_fill(rng, n.data, n.len));
        mls_bytes_clear(&id->psk_nonce);
        id->psk_nonce = n;
        n = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_psk_id_check(const struct mls_psk_id *id, const struct mls_suite *s)
{
        if (!psk_type_valid(id->psktype))
                return MLS_E_BAD_ENUM;
        if (id->psktype == MLS_PSK_RESUMPTION && !psk_usage_valid(id->usage))
                return MLS_E_BAD_ENUM;
        /* R-12.1.4-3: psk_nonce must be KDF.Nh bytes long. */
        if (id->psk_nonce.len != s->hash_len)
                return MLS_E_INVALID_PROPOSAL;
        return 0;
}

/* struct { PreSharedKeyID id; uint16 index; uint16 count; } PSKLabel; */
static int
psk_label_encode(const struct mls_psk_id *id, uint16_t index, uint16_t count,
                 struct mls_bytes *ret_label)
{
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init(&w);
        MLS_TRY(mls_psk_id_encode(id, &w));
        MLS_TRY(mls_writer_u16(&w, index));
        MLS_TRY(mls_writer_u16(&w, count));
        return mls_writer_finish(&w, ret_label);
}

/*
 * RFC 9420 section 8.4 (R-8.4-5):
 *   psk_extracted_[i] = KDF.Extract(0, psk_[i])
 *   psk_input_[i] = ExpandWithLabel(psk_extracted_[i], "derived psk",
 *                                   PSKLabel, KDF.Nh)
 *   psk_secret_[0] = 0
 *   psk_secret_[i] = KDF.Extract(psk_input_[i-1], psk_secret_[i-1])
 * The intermediate values live in wiped stack buffers (no guarded
 * allocation per PSK); only the result is a struct mls_secret.
 */
int
mls_psk_secret(const struct mls_suite *s, const struct mls_psk_input *psks, size_t n,
               struct mls_secret **ret_psk_secret)
{
        _mls_hash_buf_ uint8_t acc[MLS_MAX_HASH_LEN] = { 0 };
        _mls_hash_buf_ uint8_t extracted[MLS_MAX_HASH_LEN], input[MLS_MAX_HASH_LEN];
        _mls_hash_buf_ uint8_t next[MLS_MAX_HASH_LEN];
        uint8_t zero[MLS_MAX_HASH_LEN] = { 0 };
        size_t nh;

        if (!s || (n > 0 && !psks))
                return MLS_E_INVALID_ARGUMENT;
        if (n > MLS_PSK_MAX_COUNT)
                return MLS_E_TOO_LARGE;
        nh = s->hash_len;
        /* psk_secret_[0] = 0; with no PSKs this is the result. */
        /* R-8.4-3: in the order given (Commit proposal / GroupSecrets order). */
        for (size_t i = 0; i < n; i++) {
                _mls_cleanup_(bytes_clearp) struct mls_bytes label = { 0 };

                if (!psks[i].id || (psks[i].psk_len > 0 && !psks[i].psk))
                        return MLS_E_INVALID_ARGUMENT;
                MLS_TRY(psk_label_encode(psks[i].id, (uint16_t)i, (uint16_t)n, &label));
                MLS_TRY(mls_crypto_hkdf_extract_into(s, zero, nh, psks[i].psk, psks[i].psk_len,
                                                     extracted));
                MLS_TRY(mls_expand_with_label_into(s, extracted, nh, "derived psk", label.data,
                                                   label.len, input, nh));
                /* psk_secret_[i] = KDF.Extract(psk_input_[i-1], psk_secret_[i-1]) */
                MLS_TRY(mls_crypto_hkdf_extract_into(s, input, nh, acc, nh, next));
                memcpy(acc, next, nh);
        }
        return mls_secret_from(acc, nh, ret_psk_secret);
}
