/* SPDX-License-Identifier: Apache-2.0 */
/* org.mlskeyd.Daemon1.Manager at /org/mlskeyd/Daemon1. */
#include "config.h"

#include <string.h>

#include "client-lib/mlskey-internal.h"

_public_ int
mlskey_manager_create_identity(struct mlskey_client *c, const uint8_t *credential_identity,
                               size_t credential_identity_len, uint16_t cipher_suite,
                               const struct mlskey_opts *options, char **ret_identity)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;
        char *path;

        if (!ret_identity)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "ret_identity is NULL");
        MLSKEY_TRY(mlskey_new_call_(MLSKEY_MANAGER_PATH, MLSKEY_MANAGER_INTERFACE,
                                    "CreateIdentity", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, credential_identity, credential_identity_len));
        MLSKEY_TRY(mlskey_append_basic_(&it, DBUS_TYPE_UINT16, &cipher_suite));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        MLSKEY_TRY(mlskey_call_(c, m, "o", &reply));
        dbus_message_iter_init(reply, &it);
        MLSKEY_TRY(mlskey_read_strdup_(&it, &path));
        *ret_identity = path;
        return 0;
}

/* A method without arguments that answers ao. */
static int
list_paths(struct mlskey_client *c, const char *method, char ***ret_paths, size_t *ret_n)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        _mlskey_cleanup_(mlskey_strv_freep_) char **v = NULL;
        DBusMessageIter it, arr;
        size_t n = 0;

        if (!ret_paths)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "ret_paths is NULL");
        MLSKEY_TRY(mlskey_new_call_(MLSKEY_MANAGER_PATH, MLSKEY_MANAGER_INTERFACE, method, &m));
        MLSKEY_TRY(mlskey_call_(c, m, "ao", &reply));
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_OBJECT_PATH) {
                n++;
                dbus_message_iter_next(&arr);
        }
        v = calloc(n + 1, sizeof(*v));
        if (!v)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        dbus_message_iter_recurse(&it, &arr);
        for (size_t i = 0; i < n; i++)
                MLSKEY_TRY(mlskey_read_strdup_(&arr, &v[i]));
        *ret_paths = MLSKEY_TAKE(v);
        if (ret_n)
                *ret_n = n;
        return 0;
}

_public_ int
mlskey_manager_list_identities(struct mlskey_client *c, char ***ret_paths, size_t *ret_n)
{
        return list_paths(c, "ListIdentities", ret_paths, ret_n);
}

_public_ int
mlskey_manager_list_groups(struct mlskey_client *c, char ***ret_paths, size_t *ret_n)
{
        return list_paths(c, "ListGroups", ret_paths, ret_n);
}

_public_ int
mlskey_manager_get_policy(struct mlskey_client *c, struct mlskey_dict *ret_policy)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;

        if (!ret_policy)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "ret_policy is NULL");
        MLSKEY_TRY(mlskey_new_call_(MLSKEY_MANAGER_PATH, MLSKEY_MANAGER_INTERFACE, "GetPolicy", &m));
        MLSKEY_TRY(mlskey_call_(c, m, "a{sv}", &reply));
        dbus_message_iter_init(reply, &it);
        return mlskey_dict_decode_(reply, &it, ret_policy);
}

_public_ int
mlskey_manager_get_version(struct mlskey_client *c, char **ret_version)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter var;

        if (!ret_version)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "ret_version is NULL");
        MLSKEY_TRY(mlskey_get_property_(c, MLSKEY_MANAGER_PATH, MLSKEY_MANAGER_INTERFACE, "Version",
                                        "s", &reply, &var));
        return mlskey_read_strdup_(&var, ret_version);
}

_public_ int
mlskey_manager_get_supported_cipher_suites(struct mlskey_client *c, uint16_t **ret_suites,
                                           size_t *ret_n)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter var, arr;
        const uint16_t *p = NULL;
        uint16_t *copy;
        int n = 0;

        if (!ret_suites || !ret_n)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_property_(c, MLSKEY_MANAGER_PATH, MLSKEY_MANAGER_INTERFACE,
                                        "SupportedCipherSuites", "aq", &reply, &var));
        dbus_message_iter_recurse(&var, &arr);
        dbus_message_iter_get_fixed_array(&arr, &p, &n);
        copy = malloc(n > 0 ? (size_t)n * sizeof(*copy) : 1);
        if (!copy)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        if (n > 0)
                memcpy(copy, p, (size_t)n * sizeof(*copy));
        *ret_suites = copy;
        *ret_n = n > 0 ? (size_t)n : 0;
        return 0;
}
