/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of mlskeyctl that need no daemon: hex, numbers, object paths,
 * files ("-" is stdin/stdout). Unit-tested in tests/unit/test_mlskey_ctl.c.
 * Each returns 0 or a negative enum mlskey_error value (INVALID_ARGUMENT
 * for bad text, TOO_LARGE, OUT_OF_MEMORY, INTERNAL_ERROR for I/O with errno
 * kept), and writes its ret_ outputs only on success.
 */
#ifndef MLSKEYCTL_UTIL_H
#define MLSKEYCTL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_MUST_CHECK __attribute__((warn_unused_result))

/* The largest input file mlskeyctl reads (a D-Bus array's limit). */
#define CTL_MAX_INPUT (64u * 1024u * 1024u)

/* Hex text (upper or lower case, even length, optional "0x" prefix) to a
 * malloc'd buffer (*ret_len bytes; a 1-byte allocation for ""). */
CTL_MUST_CHECK int ctl_hex_decode(const char *hex, uint8_t **ret, size_t *ret_len);

/* Lower-case hex of p[0..len) into a malloc'd NUL-terminated string. */
CTL_MUST_CHECK int ctl_hex_encode(const uint8_t *p, size_t len, char **ret);

/* True if s is non-empty, even-length hex (no prefix). */
bool ctl_is_hex(const char *s);

/* Unsigned decimal (or 0x hex) with no sign, blanks or trailing text,
 * at most max. */
CTL_MUST_CHECK int ctl_parse_u64(const char *s, uint64_t max, uint64_t *ret);
CTL_MUST_CHECK int ctl_parse_u32(const char *s, uint32_t *ret);
CTL_MUST_CHECK int ctl_parse_u16(const char *s, uint16_t *ret);

/* Seconds with up to three decimals ("2.5") to milliseconds, 1..max_ms. */
CTL_MUST_CHECK int ctl_parse_seconds_ms(const char *s, int max_ms, int *ret_ms);

/* True if s looks like an object path (starts with '/'); the library
 * checks it fully. */
bool ctl_is_object_path(const char *s);

/* The object path prefix + lower-case hex, malloc'd: "/org/.../group/ab". */
CTL_MUST_CHECK int ctl_path_from_hex(const char *prefix, const char *hex, char **ret);

/* The last element of an object path (its "hex id"); a pointer into path. */
const char *ctl_path_basename(const char *path);

/* Reads a whole file, or stdin for "-", into a malloc'd buffer (at most
 * CTL_MAX_INPUT bytes: TOO_LARGE). *ret_len may be 0. */
CTL_MUST_CHECK int ctl_read_file(const char *path, uint8_t **ret, size_t *ret_len);

/* Writes p[0..len) to a file (created or truncated, with mode before the
 * umask; an existing file gets mode too when private is true), or to
 * stdout for "-". With hex, writes lower-case hex and a newline instead. */
CTL_MUST_CHECK int ctl_write_file(const char *path, const uint8_t *p, size_t len, bool hex,
                                  bool private_mode);

/* True if p[0..len) is non-empty printable ASCII (0x20..0x7e). */
bool ctl_is_printable(const uint8_t *p, size_t len);

/* Appends v to a growable u32 array (*arr malloc'd, *n entries). */
CTL_MUST_CHECK int ctl_u32_push(uint32_t **arr, size_t *n, uint32_t v);

#endif
