/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the message codec files (mls/messages.c,
 * mls/proposals.c, mls/framing_codec.c, mls/welcome_codec.c). Not part of
 * the engine's API.
 */
#ifndef MLS_MESSAGES_INTERNAL_H
#define MLS_MESSAGES_INTERNAL_H

#include <string.h>

#include "mls/messages.h"

/*
 * Makes room for element n of an array that holds n elements. Capacity is
 * implicit (0, then 4, 8, 16, ...): the array grows only when n is 0 or a
 * power of two >= 4, so it never holds more than twice the elements parsed
 * so far, and those are bounded by the input. The new slot is zeroed.
 */
static inline MLS_MUST_CHECK int
mls_arr_reserve_(void *arr, size_t n, size_t elem, void **ret_arr)
{
        size_t cap, bytes;
        uint8_t *na;

        if (n != 0 && (n < 4 || (n & (n - 1)) != 0)) {
                *ret_arr = arr;
                return 0;
        }
        if (n == 0)
                cap = 4;
        else
                MLS_TRY(mls_size_mul(n, 2, &cap));
        MLS_TRY(mls_size_mul(cap, elem, &bytes));
        na = realloc(arr, bytes);
        if (!na)
                return MLS_E_NOMEM;
        memset(na + n * elem, 0, (cap - n) * elem);
        *ret_arr = na;
        return 0;
}

/* Moves the lvalue item to the end of arr[0..n): on success n grows by one
 * and item is zeroed (the array owns what it pointed to); on failure item is
 * left alone for its owner to free. Evaluates to 0 or a negative code. */
#define MLS_ARR_TAKE(arr, n, item)                                                      \
        ({                                                                              \
                void *na_;                                                              \
                int ra_ = mls_arr_reserve_((arr), (n), sizeof(*(arr)), &na_);           \
                if (ra_ == 0) {                                                         \
                        (arr) = na_;                                                    \
                        (arr)[(n)++] = (item);                                          \
                        memset(&(item), 0, sizeof(item));                               \
                }                                                                       \
                ra_;                                                                    \
        })

/* Moves a decoded local into *ret and forgets it (its cleanup then frees
 * nothing). */
#define MLS_MOVE_OUT(ret, local)                                                        \
        do {                                                                            \
                *(ret) = (local);                                                       \
                memset(&(local), 0, sizeof(local));                                     \
        } while (0)

/* Defines mls_<name>_from_bytes (whole buffer, nothing may be left) and
 * mls_<name>_to_bytes for a context-free structure. */
#define MLS_MESSAGES_DEFINE_BYTES_(name)                                                \
        int mls_##name##_from_bytes(const uint8_t *p, size_t len, struct mls_##name *ret) \
        {                                                                               \
                _mls_cleanup_(mls_##name##_clear) struct mls_##name t = { 0 };          \
                struct mls_reader r;                                                    \
                                                                                        \
                mls_reader_init(&r, p, len);                                            \
                MLS_TRY(mls_##name##_decode(&r, &t));                                   \
                MLS_TRY(mls_reader_done(&r));                                           \
                MLS_MOVE_OUT(ret, t);                                                   \
                return 0;                                                               \
        }                                                                               \
        int mls_##name##_to_bytes(const struct mls_##name *x, struct mls_bytes *ret)    \
        {                                                                               \
                _mls_writer_ struct mls_writer w = { 0 };                               \
                                                                                        \
                MLS_TRY(mls_##name##_encode(&w, x));                                    \
                return mls_writer_finish(&w, ret);                                      \
        }

/* opaque x<V> from a struct mls_bytes. */
static inline MLS_MUST_CHECK int
mls_writer_bytes_(struct mls_writer *w, const struct mls_bytes *b)
{
        return mls_writer_opaque(w, b->data, b->len);
}

/* Shared u16/u32 list and extension-list codecs (mls/messages.c). */
MLS_MUST_CHECK int mls_u16_list_decode_(struct mls_reader *r, struct mls_u16_list *ret);
MLS_MUST_CHECK int mls_u16_list_encode_(struct mls_writer *w, const struct mls_u16_list *l);
void mls_u16_list_clear_(struct mls_u16_list *l);

/* Checks an enumeration read from the wire. */
static inline bool
mls_content_type_valid_(uint8_t t)
{
        return t == MLS_CONTENT_APPLICATION || t == MLS_CONTENT_PROPOSAL ||
               t == MLS_CONTENT_COMMIT;
}

#endif
