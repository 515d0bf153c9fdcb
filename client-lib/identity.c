/* SPDX-License-Identifier: Apache-2.0 */
/* org.mlskeyd.Daemon1.Identity at /org/mlskeyd/Daemon1/identity/<hex>. */
#include "config.h"

#include <string.h>

#include "client-lib/mlskey-internal.h"

#define IFACE MLSKEY_IDENTITY_INTERFACE

_public_ int
mlskey_identity_generate_key_packages(struct mlskey_client *c, const char *identity,
                                      uint32_t count, const struct mlskey_opts *options,
                                      struct mlskey_buf_list *ret_key_packages)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        _mlskey_free_ struct mlskey_data *items = NULL;
        DBusMessageIter it, arr;
        size_t n = 0;

        if (!ret_key_packages)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(identity, IFACE, "GenerateKeyPackages", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_basic_(&it, DBUS_TYPE_UINT32, &count));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        MLSKEY_TRY(mlskey_call_(c, m, "aay", &reply));
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_recurse(&it, &arr);
        while (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_ARRAY) {
                n++;
                dbus_message_iter_next(&arr);
        }
        items = calloc(n ? n : 1, sizeof(*items));
        if (!items)
                return mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        dbus_message_iter_recurse(&it, &arr);
        for (size_t i = 0; i < n; i++)
                mlskey_read_bytes_(&arr, &items[i]);
        ret_key_packages->items = MLSKEY_TAKE(items);
        ret_key_packages->n = n;
        ret_key_packages->priv_ = MLSKEY_TAKE(reply);
        return 0;
}

_public_ int
mlskey_identity_create_group(struct mlskey_client *c, const char *identity,
                             const uint8_t *group_id, size_t group_id_len,
                             const struct mlskey_opts *options, char **ret_group)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_group)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(identity, IFACE, "CreateGroup", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, group_id, group_id_len));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_path_(c, m, ret_group);
}

_public_ int
mlskey_identity_join_group(struct mlskey_client *c, const char *identity, const uint8_t *welcome,
                           size_t welcome_len, const uint8_t *ratchet_tree,
                           size_t ratchet_tree_len, const struct mlskey_opts *options,
                           char **ret_group)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_group)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(identity, IFACE, "JoinGroup", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, welcome, welcome_len));
        MLSKEY_TRY(mlskey_append_bytes_(&it, ratchet_tree, ratchet_tree_len));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_path_(c, m, ret_group);
}

_public_ int
mlskey_identity_join_by_external_commit(struct mlskey_client *c, const char *identity,
                                        const uint8_t *group_info, size_t group_info_len,
                                        const uint8_t *ratchet_tree, size_t ratchet_tree_len,
                                        const struct mlskey_opts *options, char **ret_group,
                                        struct mlskey_buf *ret_commit)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_group || !ret_commit)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(identity, IFACE, "JoinByExternalCommit", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, group_info, group_info_len));
        MLSKEY_TRY(mlskey_append_bytes_(&it, ratchet_tree, ratchet_tree_len));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_path_bytes_(c, m, ret_group, ret_commit);
}

_public_ int
mlskey_identity_store_external_psk(struct mlskey_client *c, const char *identity,
                                   const uint8_t *psk_id, size_t psk_id_len, const uint8_t *psk,
                                   size_t psk_len)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter it;

        MLSKEY_TRY(mlskey_new_call_(identity, IFACE, "StoreExternalPsk", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, psk_id, psk_id_len));
        MLSKEY_TRY(mlskey_append_bytes_(&it, psk, psk_len));
        return mlskey_call_(c, m, "", &reply);
}

_public_ int
mlskey_identity_set_access(struct mlskey_client *c, const char *identity, const uint32_t *uids,
                           size_t n_uids, const uint32_t *gids, size_t n_gids)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        _mlskey_opts_ struct mlskey_opts *o = NULL;
        DBusMessageIter it;

        MLSKEY_TRY(mlskey_opts_new(&o));
        /* Both lists always: the call replaces the access, and a missing key
         * must never be read as "unchanged". */
        (void)mlskey_opts_add_u32_array(o, "uids", uids, n_uids);
        (void)mlskey_opts_add_u32_array(o, "gids", gids, n_gids);
        MLSKEY_TRY(mlskey_new_call_(identity, IFACE, "SetAccess", &m));
        dbus_message_iter_init_append(m, &it);
        /* A failed add above is sticky and fails here. */
        MLSKEY_TRY(mlskey_opts_append_(o, &it));
        return mlskey_call_(c, m, "", &reply);
}

_public_ int
mlskey_identity_delete(struct mlskey_client *c, const char *identity)
{
        return mlskey_call_void_(c, identity, IFACE, "Delete");
}

_public_ int
mlskey_identity_get_credential_identity(struct mlskey_client *c, const char *identity,
                                        struct mlskey_buf *ret)
{
        return mlskey_get_bytes_prop_(c, identity, IFACE, "CredentialIdentity", ret);
}

_public_ int
mlskey_identity_get_signature_public_key(struct mlskey_client *c, const char *identity,
                                         struct mlskey_buf *ret)
{
        return mlskey_get_bytes_prop_(c, identity, IFACE, "SignaturePublicKey", ret);
}

_public_ int
mlskey_identity_get_cipher_suite(struct mlskey_client *c, const char *identity, uint16_t *ret)
{
        return mlskey_get_basic_prop_(c, identity, IFACE, "CipherSuite", "q", ret);
}

_public_ int
mlskey_identity_get_owner(struct mlskey_client *c, const char *identity, uint32_t *ret)
{
        return mlskey_get_basic_prop_(c, identity, IFACE, "Owner", "u", ret);
}

_public_ int
mlskey_identity_get_access(struct mlskey_client *c, const char *identity,
                           struct mlskey_dict *ret)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter var;

        if (!ret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_property_(c, identity, IFACE, "Access", "a{sv}", &reply, &var));
        return mlskey_dict_decode_(reply, &var, ret);
}

_public_ int
mlskey_identity_get_tpm_bound(struct mlskey_client *c, const char *identity, bool *ret)
{
        return mlskey_get_basic_prop_(c, identity, IFACE, "TpmBound", "b", ret);
}

_public_ int
mlskey_identity_get_all(struct mlskey_client *c, const char *identity,
                        struct mlskey_identity_props *ret)
{
        _mlskey_cleanup_(mlskey_dict_clearp_) struct mlskey_dict d = MLSKEY_DICT_INIT;
        const struct mlskey_value *cred, *key, *suite, *owner, *access, *tpm, *uids, *gids;

        if (!ret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_all_(c, identity, IFACE, &d));
        MLSKEY_TRY(mlskey_dict_need_(&d, "CredentialIdentity", MLSKEY_VALUE_BYTES, &cred));
        MLSKEY_TRY(mlskey_dict_need_(&d, "SignaturePublicKey", MLSKEY_VALUE_BYTES, &key));
        MLSKEY_TRY(mlskey_dict_need_(&d, "CipherSuite", MLSKEY_VALUE_UINT16, &suite));
        MLSKEY_TRY(mlskey_dict_need_(&d, "Owner", MLSKEY_VALUE_UINT32, &owner));
        MLSKEY_TRY(mlskey_dict_need_(&d, "Access", MLSKEY_VALUE_DICT, &access));
        MLSKEY_TRY(mlskey_dict_need_(&d, "TpmBound", MLSKEY_VALUE_BOOL, &tpm));
        MLSKEY_TRY(mlskey_dict_want_(&access->v.dict, "uids", MLSKEY_VALUE_UINT32_ARRAY, &uids));
        MLSKEY_TRY(mlskey_dict_want_(&access->v.dict, "gids", MLSKEY_VALUE_UINT32_ARRAY, &gids));
        memset(ret, 0, sizeof(*ret));
        ret->credential_identity = cred->v.bytes;
        ret->signature_public_key = key->v.bytes;
        ret->cipher_suite = suite->v.q;
        ret->owner = owner->v.u;
        ret->access_uids = uids ? uids->v.au.v : NULL;
        ret->n_access_uids = uids ? uids->v.au.n : 0;
        ret->access_gids = gids ? gids->v.au.v : NULL;
        ret->n_access_gids = gids ? gids->v.au.n : 0;
        ret->tpm_bound = tpm->v.b;
        /* The views above point into what d owns: hand it over. */
        ret->all = d;
        memset(&d, 0, sizeof(d));
        return 0;
}

_public_ void
mlskey_identity_props_clear(struct mlskey_identity_props *p)
{
        if (!p)
                return;
        mlskey_dict_clear(&p->all);
        memset(p, 0, sizeof(*p));
}
