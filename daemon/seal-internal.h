/* SPDX-License-Identifier: Apache-2.0 */
/* The storage key's layout, for daemon/seal.c and its unit test (which
 * checks that the key pages are inaccessible between uses). */
#ifndef MKD_SEAL_INTERNAL_H
#define MKD_SEAL_INTERNAL_H

#include <stdint.h>

struct mkd_seal_key {
        uint8_t *key; /* sodium_malloc'd, MKD_SEAL_KEY_LEN, PROT_NONE between uses */
};

#endif
