/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MLS_FUZZ_H
#define MLS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target checks does not hold: report and crash, so that
 * libFuzzer keeps the input and the replay fails. */
#define FUZZ_ASSERT(cond)                                                               \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__,  \
                                __LINE__, #cond);                                       \
                        abort();                                                        \
                }                                                                       \
        } while (0)

#endif
