/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kinds of stored objects (DESIGN.md section 8), shared by the IPC
 * protocol (SealedObject.type), the seal format and the state directory.
 * Wire values are fixed: never renumber.
 *
 * An object id is 1..MKD_OBJ_ID_MAX opaque bytes chosen by the engine (the
 * store names the file after its lowercase hex). Natural ids that can be
 * longer (an MLS group_id is opaque<V>) must be mapped to a short id, e.g.
 * a hash, by whoever creates the object.
 */
#ifndef MKD_OBJECT_H
#define MKD_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mkd_obj_type {
        MKD_OBJ_IDENTITY = 1,   /* signature key pair, credential, ACL */
        MKD_OBJ_KEYPACKAGE = 2, /* private half of a KeyPackage */
        MKD_OBJ_GROUP = 3,      /* a group's whole state */
        MKD_OBJ_MANIFEST = 4,   /* with a TPM: every object's version and the
                                 * rollback counter (daemon/vault.c) */
};

#define MKD_OBJ_ID_MAX 64

/* The one manifest object: id 16 zero bytes, so its file is
 * "manifest/" MKD_MANIFEST_FILE. */
#define MKD_MANIFEST_ID_LEN 16
#define MKD_MANIFEST_FILE "00000000000000000000000000000000"

static inline bool
mkd_obj_type_valid(uint8_t t)
{
        return t == MKD_OBJ_IDENTITY || t == MKD_OBJ_KEYPACKAGE || t == MKD_OBJ_GROUP ||
               t == MKD_OBJ_MANIFEST;
}

static inline bool
mkd_obj_id_valid(size_t len)
{
        return len >= 1 && len <= MKD_OBJ_ID_MAX;
}

/* Directory name of the type in the state directory ("identity",
 * "keypackage", "group", "manifest"); NULL for an invalid type. */
static inline const char *
mkd_obj_type_name(uint8_t t)
{
        switch (t) {
        case MKD_OBJ_IDENTITY:
                return "identity";
        case MKD_OBJ_KEYPACKAGE:
                return "keypackage";
        case MKD_OBJ_GROUP:
                return "group";
        case MKD_OBJ_MANIFEST:
                return "manifest";
        default:
                return NULL;
        }
}

#endif
