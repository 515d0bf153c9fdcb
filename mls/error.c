/* SPDX-License-Identifier: Apache-2.0 */
#include "mls/error.h"

#include <stddef.h>

/* A switch without default: -Wswitch flags a row missing here. */
#define CASE_NAME_(name, val, ext, text) case name: return #name;
#define CASE_EXT_(name, val, ext, text) case name: return ext;
#define CASE_TEXT_(name, val, ext, text) case name: return text;

const char *
mls_err_name(int e)
{
        switch ((enum mls_err)e) {
        case MLS_OK:
                return "MLS_OK";
        MLS_ERRORS(CASE_NAME_)
        }
        return NULL;
}

const char *
mls_err_ext_name(int e)
{
        switch ((enum mls_err)e) {
        case MLS_OK:
                return "Success";
        MLS_ERRORS(CASE_EXT_)
        }
        return "InternalError";
}

const char *
mls_err_text(int e)
{
        switch ((enum mls_err)e) {
        case MLS_OK:
                return "success";
        MLS_ERRORS(CASE_TEXT_)
        }
        return "unknown error";
}
