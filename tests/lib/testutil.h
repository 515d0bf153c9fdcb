/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by unit tests, the vector runner and the benchmarks:
 * hex, guarded input buffers, JSON field access. Not part of the engine. */
#ifndef MLS_TESTUTIL_H
#define MLS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "mls/codec.h"

/* Decodes lowercase/uppercase hex into a new malloc'd buffer (len/2 bytes);
 * returns false on odd length or a non-hex digit. An empty string gives
 * an empty mls_bytes. */
bool tu_hex_decode(const char *hex, struct mls_bytes *ret);
/* Encodes into a new malloc'd NUL-terminated lowercase string. */
char *tu_hex_encode(const uint8_t *p, size_t len);

/* A copy of p[0..len) placed so that the byte after the last one is a
 * guard page (sodium_malloc): any overread faults. Free with tu_guarded_free. */
uint8_t *tu_guarded_copy(const uint8_t *p, size_t len);
void tu_guarded_free(uint8_t *p);

/* Reads a whole file into a malloc'd buffer; false on error. */
bool tu_read_file(const char *path, struct mls_bytes *ret);

#endif
