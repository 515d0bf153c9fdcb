/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the policy file parser (daemon/policy.h).
 *
 * The input is parsed as a policy file. A refusal must come with a
 * message naming the file, and must not touch the output. An accepted
 * policy is rendered to INI, which must parse back to the same policy and
 * render to the same text again.
 */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "daemon/policy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mkd_policy p, q, sentinel;
        char err[MKD_POLICY_ERR_MAX];
        char *text = NULL, *again = NULL;
        int e;

        memset(&p, 0x5c, sizeof(p));
        sentinel = p;
        err[0] = '\0';
        e = mkd_policy_parse("fuzz.conf", data, size, &p, err);
        if (e < 0) {
                FUZZ_ASSERT(e == MLS_E_BAD_CONFIG || e == MLS_E_NOMEM);
                FUZZ_ASSERT(strncmp(err, "fuzz.conf:", 10) == 0);
                FUZZ_ASSERT(memchr(err, '\n', strlen(err)) == NULL);
                FUZZ_ASSERT(memcmp(&p, &sentinel, sizeof(p)) == 0);
                return 0;
        }
        FUZZ_ASSERT(mkd_policy_render_ini(&p, &text) == 0);
        e = mkd_policy_parse("rendered", (const uint8_t *)text, strlen(text), &q, err);
        if (e != 0)
                fprintf(stderr, "%s\n%s\n", text, err);
        FUZZ_ASSERT(e == 0);
        FUZZ_ASSERT(mkd_policy_eq(&p, &q));
        FUZZ_ASSERT(mkd_policy_render_ini(&q, &again) == 0);
        FUZZ_ASSERT(strcmp(text, again) == 0);
        free(text);
        free(again);
        return 0;
}
