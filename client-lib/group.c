/* SPDX-License-Identifier: Apache-2.0 */
/* org.mlskeyd.Daemon1.Group at /org/mlskeyd/Daemon1/group/<hex>. */
#include "config.h"

#include <string.h>

#include "client-lib/mlskey-internal.h"

#define IFACE MLSKEY_GROUP_INTERFACE

_public_ int
mlskey_group_encrypt(struct mlskey_client *c, const char *group, const uint8_t *plaintext,
                     size_t plaintext_len, const uint8_t *authenticated_data, size_t aad_len,
                     struct mlskey_buf *ret_message)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_message)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Encrypt", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, plaintext, plaintext_len));
        MLSKEY_TRY(mlskey_append_bytes_(&it, authenticated_data, aad_len));
        return mlskey_call_ret_bytes_(c, m, ret_message);
}

static enum mlskey_message_kind
kind_of(const char *s)
{
        if (strcmp(s, "application") == 0)
                return MLSKEY_KIND_APPLICATION;
        if (strcmp(s, "proposal") == 0)
                return MLSKEY_KIND_PROPOSAL;
        if (strcmp(s, "commit") == 0)
                return MLSKEY_KIND_COMMIT;
        return MLSKEY_KIND_UNKNOWN;
}

_public_ void
mlskey_process_result_clear(struct mlskey_process_result *r)
{
        if (!r)
                return;
        /* The content may be application plaintext: overwrite the reply's
         * copy before it is freed (best effort, see mlskey_secret). */
        mlskey_wipe_((void *)r->content.data, r->content.len);
        mlskey_dict_clear(&r->info);
        memset(r, 0, sizeof(*r));
}

_public_ int
mlskey_group_process(struct mlskey_client *c, const char *group, const uint8_t *message,
                     size_t message_len, struct mlskey_process_result *ret_result)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        _mlskey_cleanup_(mlskey_dict_clearp_) struct mlskey_dict info = MLSKEY_DICT_INIT;
        const struct mlskey_value *sender, *ext, *epoch, *aad, *removed, *added, *rleaves, *newm;
        struct mlskey_process_result r;
        DBusMessageIter it;
        const char *kind;
        struct mlskey_data content;

        if (!ret_result)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Process", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, message, message_len));
        MLSKEY_TRY(mlskey_call_(c, m, "saya{sv}", &reply));
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_get_basic(&it, &kind);
        dbus_message_iter_next(&it);
        mlskey_read_bytes_(&it, &content);
        MLSKEY_TRY(mlskey_dict_decode_(reply, &it, &info));
        MLSKEY_TRY(mlskey_dict_want_(&info, "sender", MLSKEY_VALUE_UINT32, &sender));
        MLSKEY_TRY(mlskey_dict_want_(&info, "external_sender", MLSKEY_VALUE_UINT32, &ext));
        MLSKEY_TRY(mlskey_dict_want_(&info, "epoch", MLSKEY_VALUE_UINT64, &epoch));
        MLSKEY_TRY(mlskey_dict_want_(&info, "authenticated_data", MLSKEY_VALUE_BYTES, &aad));
        MLSKEY_TRY(mlskey_dict_want_(&info, "removed", MLSKEY_VALUE_BOOL, &removed));
        MLSKEY_TRY(mlskey_dict_want_(&info, "added", MLSKEY_VALUE_UINT32_ARRAY, &added));
        MLSKEY_TRY(mlskey_dict_want_(&info, "removed_leaves", MLSKEY_VALUE_UINT32_ARRAY, &rleaves));
        MLSKEY_TRY(mlskey_dict_want_(&info, "new_member", MLSKEY_VALUE_BOOL, &newm));

        memset(&r, 0, sizeof(r));
        r.kind = kind_of(kind);
        r.kind_name = kind;
        r.content = content;
        r.has_sender = sender != NULL;
        r.sender = sender ? sender->v.u : 0;
        r.has_external_sender = ext != NULL;
        r.external_sender = ext ? ext->v.u : 0;
        r.new_member = newm ? newm->v.b : false;
        r.has_epoch = epoch != NULL;
        r.epoch = epoch ? epoch->v.t : 0;
        if (aad)
                r.authenticated_data = aad->v.bytes;
        r.removed = removed ? removed->v.b : false;
        r.added = added ? added->v.au.v : NULL;
        r.n_added = added ? added->v.au.n : 0;
        r.removed_leaves = rleaves ? rleaves->v.au.v : NULL;
        r.n_removed_leaves = rleaves ? rleaves->v.au.n : 0;
        /* Every view points into the reply that info keeps alive. */
        r.info = info;
        memset(&info, 0, sizeof(info));
        *ret_result = r;
        return 0;
}

/* Add, ReInit: aay + a{sv} in. */
static int
new_kp_call(const char *group, const char *method, const struct mlskey_data *key_packages,
            size_t n, const struct mlskey_opts *options, DBusMessage **ret_msg)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        MLSKEY_TRY(mlskey_new_call_(group, IFACE, method, &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_array_(&it, key_packages, n));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        *ret_msg = MLSKEY_TAKE(m);
        return 0;
}

_public_ int
mlskey_group_add(struct mlskey_client *c, const char *group,
                 const struct mlskey_data *key_packages, size_t n,
                 const struct mlskey_opts *options, struct mlskey_buf *ret_commit,
                 struct mlskey_buf *ret_welcome)
{
        _mlskey_msg_ DBusMessage *m = NULL;

        if (!ret_commit || !ret_welcome)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(new_kp_call(group, "Add", key_packages, n, options, &m));
        return mlskey_call_ret_two_bytes_(c, m, ret_commit, ret_welcome);
}

_public_ int
mlskey_group_remove(struct mlskey_client *c, const char *group, const uint32_t *leaves,
                    size_t n, const struct mlskey_opts *options, struct mlskey_buf *ret_commit)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_commit)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Remove", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_u32_array_(&it, leaves, n));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_bytes_(c, m, ret_commit);
}

_public_ int
mlskey_group_update(struct mlskey_client *c, const char *group,
                    const struct mlskey_opts *options, struct mlskey_buf *ret_commit)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_commit)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Update", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_bytes_(c, m, ret_commit);
}

_public_ int
mlskey_group_commit(struct mlskey_client *c, const char *group,
                    const struct mlskey_opts *options, struct mlskey_buf *ret_commit,
                    struct mlskey_buf *ret_welcome)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_commit || !ret_welcome)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Commit", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_two_bytes_(c, m, ret_commit, ret_welcome);
}

_public_ int
mlskey_group_merge_pending_commit(struct mlskey_client *c, const char *group)
{
        return mlskey_call_void_(c, group, IFACE, "MergePendingCommit");
}

_public_ int
mlskey_group_clear_pending_commit(struct mlskey_client *c, const char *group)
{
        return mlskey_call_void_(c, group, IFACE, "ClearPendingCommit");
}

_public_ int
mlskey_group_propose(struct mlskey_client *c, const char *group, const char *type,
                     const struct mlskey_opts *args, struct mlskey_buf *ret_proposal)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_proposal)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_check_string_("proposal type", type));
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Propose", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_basic_(&it, DBUS_TYPE_STRING, &type));
        MLSKEY_TRY(mlskey_opts_append_(args, &it));
        return mlskey_call_ret_bytes_(c, m, ret_proposal);
}

/* The typed wrappers: build args, propose. A failed add is sticky, so the
 * propose call reports it. */
_public_ int
mlskey_group_propose_add(struct mlskey_client *c, const char *group, const uint8_t *key_package,
                         size_t len, struct mlskey_buf *ret_proposal)
{
        _mlskey_opts_ struct mlskey_opts *o = NULL;

        MLSKEY_TRY(mlskey_opts_new(&o));
        (void)mlskey_opts_add_bytes(o, "key_package", key_package, len);
        return mlskey_group_propose(c, group, "add", o, ret_proposal);
}

_public_ int
mlskey_group_propose_remove(struct mlskey_client *c, const char *group, uint32_t leaf,
                            struct mlskey_buf *ret_proposal)
{
        _mlskey_opts_ struct mlskey_opts *o = NULL;

        MLSKEY_TRY(mlskey_opts_new(&o));
        (void)mlskey_opts_add_u32(o, "leaf", leaf);
        return mlskey_group_propose(c, group, "remove", o, ret_proposal);
}

_public_ int
mlskey_group_propose_update(struct mlskey_client *c, const char *group,
                            struct mlskey_buf *ret_proposal)
{
        return mlskey_group_propose(c, group, "update", NULL, ret_proposal);
}

_public_ int
mlskey_group_propose_external_psk(struct mlskey_client *c, const char *group,
                                  const uint8_t *psk_id, size_t len,
                                  struct mlskey_buf *ret_proposal)
{
        _mlskey_opts_ struct mlskey_opts *o = NULL;

        MLSKEY_TRY(mlskey_opts_new(&o));
        (void)mlskey_opts_add_bytes(o, "psk_id", psk_id, len);
        return mlskey_group_propose(c, group, "external_psk", o, ret_proposal);
}

_public_ int
mlskey_group_propose_resumption_psk(struct mlskey_client *c, const char *group,
                                    const uint8_t *group_id, size_t len, uint64_t epoch,
                                    struct mlskey_buf *ret_proposal)
{
        _mlskey_opts_ struct mlskey_opts *o = NULL;

        MLSKEY_TRY(mlskey_opts_new(&o));
        (void)mlskey_opts_add_bytes(o, "group_id", group_id, len);
        (void)mlskey_opts_add_u64(o, "epoch", epoch);
        return mlskey_group_propose(c, group, "resumption_psk", o, ret_proposal);
}

_public_ int
mlskey_group_propose_group_context_extensions(struct mlskey_client *c, const char *group,
                                              const uint8_t *extensions, size_t len,
                                              struct mlskey_buf *ret_proposal)
{
        _mlskey_opts_ struct mlskey_opts *o = NULL;

        MLSKEY_TRY(mlskey_opts_new(&o));
        (void)mlskey_opts_add_bytes(o, "extensions", extensions, len);
        return mlskey_group_propose(c, group, "group_context_extensions", o, ret_proposal);
}

_public_ int
mlskey_group_propose_reinit(struct mlskey_client *c, const char *group, const uint8_t *group_id,
                            size_t group_id_len, uint16_t cipher_suite,
                            const uint8_t *extensions, size_t extensions_len,
                            struct mlskey_buf *ret_proposal)
{
        _mlskey_opts_ struct mlskey_opts *o = NULL;

        MLSKEY_TRY(mlskey_opts_new(&o));
        (void)mlskey_opts_add_bytes(o, "group_id", group_id, group_id_len);
        (void)mlskey_opts_add_u16(o, "cipher_suite", cipher_suite);
        (void)mlskey_opts_add_bytes(o, "extensions", extensions, extensions_len);
        return mlskey_group_propose(c, group, "reinit", o, ret_proposal);
}

_public_ int
mlskey_group_reinit(struct mlskey_client *c, const char *group,
                    const struct mlskey_data *key_packages, size_t n,
                    const struct mlskey_opts *options, char **ret_group,
                    struct mlskey_buf *ret_welcome)
{
        _mlskey_msg_ DBusMessage *m = NULL;

        if (!ret_group || !ret_welcome)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(new_kp_call(group, "ReInit", key_packages, n, options, &m));
        return mlskey_call_ret_path_bytes_(c, m, ret_group, ret_welcome);
}

_public_ int
mlskey_group_branch(struct mlskey_client *c, const char *group, const uint8_t *group_id,
                    size_t group_id_len, const struct mlskey_data *key_packages, size_t n,
                    const struct mlskey_opts *options, char **ret_group,
                    struct mlskey_buf *ret_welcome)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_group || !ret_welcome)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Branch", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_bytes_(&it, group_id, group_id_len));
        MLSKEY_TRY(mlskey_append_bytes_array_(&it, key_packages, n));
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_path_bytes_(c, m, ret_group, ret_welcome);
}

_public_ int
mlskey_group_group_info(struct mlskey_client *c, const char *group,
                        const struct mlskey_opts *options, struct mlskey_buf *ret_group_info)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        DBusMessageIter it;

        if (!ret_group_info)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "GroupInfo", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_opts_append_(options, &it));
        return mlskey_call_ret_bytes_(c, m, ret_group_info);
}

_public_ int
mlskey_group_ratchet_tree(struct mlskey_client *c, const char *group,
                          struct mlskey_buf *ret_ratchet_tree)
{
        _mlskey_msg_ DBusMessage *m = NULL;

        if (!ret_ratchet_tree)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "RatchetTree", &m));
        return mlskey_call_ret_bytes_(c, m, ret_ratchet_tree);
}

_public_ int
mlskey_group_export_secret(struct mlskey_client *c, const char *group, const char *label,
                           const uint8_t *context, size_t context_len, uint32_t length,
                           struct mlskey_secret **ret_secret)
{
        _mlskey_msg_ DBusMessage *m = NULL;
        _mlskey_msg_ DBusMessage *reply = NULL;
        struct mlskey_secret *s;
        struct mlskey_data d;
        DBusMessageIter it;
        int r = 0;

        if (!ret_secret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_check_string_("label", label));
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "ExportSecret", &m));
        dbus_message_iter_init_append(m, &it);
        MLSKEY_TRY(mlskey_append_basic_(&it, DBUS_TYPE_STRING, &label));
        MLSKEY_TRY(mlskey_append_bytes_(&it, context, context_len));
        MLSKEY_TRY(mlskey_append_basic_(&it, DBUS_TYPE_UINT32, &length));
        MLSKEY_TRY(mlskey_call_(c, m, "ay", &reply));
        dbus_message_iter_init(reply, &it);
        mlskey_read_bytes_(&it, &d);
        s = NULL;
        if (d.len != length)
                r = mlskey_fail_(MLSKEY_ERROR_BAD_REPLY, "exported %zu bytes, not the %u asked for",
                                 d.len, length);
        else if (!(s = malloc(sizeof(*s) + (d.len ? d.len : 1))))
                r = mlskey_fail_(MLSKEY_ERROR_OUT_OF_MEMORY, "out of memory");
        if (s) {
                s->len = d.len;
                if (d.len)
                        memcpy(s->data, d.data, d.len);
        }
        /* The reply's body is ours alone now (the pending call is gone):
         * overwrite the secret there before libdbus frees it. */
        mlskey_wipe_((void *)d.data, d.len);
        if (r < 0)
                return r;
        *ret_secret = s;
        return 0;
}

_public_ int
mlskey_group_leave(struct mlskey_client *c, const char *group, struct mlskey_buf *ret_proposal)
{
        _mlskey_msg_ DBusMessage *m = NULL;

        if (!ret_proposal)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_new_call_(group, IFACE, "Leave", &m));
        return mlskey_call_ret_bytes_(c, m, ret_proposal);
}

_public_ int
mlskey_group_delete(struct mlskey_client *c, const char *group)
{
        return mlskey_call_void_(c, group, IFACE, "Delete");
}

/* ---- properties ---- */

_public_ int
mlskey_group_get_group_id(struct mlskey_client *c, const char *group, struct mlskey_buf *ret)
{
        return mlskey_get_bytes_prop_(c, group, IFACE, "GroupId", ret);
}

_public_ int
mlskey_group_get_identity(struct mlskey_client *c, const char *group, char **ret)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter var;

        if (!ret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_property_(c, group, IFACE, "Identity", "o", &reply, &var));
        return mlskey_read_strdup_(&var, ret);
}

_public_ int
mlskey_group_get_epoch(struct mlskey_client *c, const char *group, uint64_t *ret)
{
        return mlskey_get_basic_prop_(c, group, IFACE, "Epoch", "t", ret);
}

_public_ int
mlskey_group_get_cipher_suite(struct mlskey_client *c, const char *group, uint16_t *ret)
{
        return mlskey_get_basic_prop_(c, group, IFACE, "CipherSuite", "q", ret);
}

_public_ int
mlskey_group_get_own_leaf(struct mlskey_client *c, const char *group, uint32_t *ret)
{
        return mlskey_get_basic_prop_(c, group, IFACE, "OwnLeaf", "u", ret);
}

_public_ int
mlskey_group_get_members(struct mlskey_client *c, const char *group, struct mlskey_members *ret)
{
        _mlskey_msg_ DBusMessage *reply = NULL;
        DBusMessageIter var;

        if (!ret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_property_(c, group, IFACE, "Members", "a(uayay)", &reply, &var));
        return mlskey_members_decode_(reply, &var, ret);
}

_public_ int
mlskey_group_get_epoch_authenticator(struct mlskey_client *c, const char *group,
                                     struct mlskey_buf *ret)
{
        return mlskey_get_bytes_prop_(c, group, IFACE, "EpochAuthenticator", ret);
}

_public_ int
mlskey_group_get_has_pending_commit(struct mlskey_client *c, const char *group, bool *ret)
{
        return mlskey_get_basic_prop_(c, group, IFACE, "HasPendingCommit", "b", ret);
}

_public_ int
mlskey_group_get_all(struct mlskey_client *c, const char *group, struct mlskey_group_props *ret)
{
        _mlskey_cleanup_(mlskey_dict_clearp_) struct mlskey_dict d = MLSKEY_DICT_INIT;
        const struct mlskey_value *gid, *ident, *epoch, *suite, *leaf, *members, *auth, *pending;
        struct mlskey_members mem = MLSKEY_MEMBERS_INIT;
        DBusMessageIter var;

        if (!ret)
                return mlskey_fail_(MLSKEY_ERROR_INVALID_ARGUMENT, "NULL output");
        MLSKEY_TRY(mlskey_get_all_(c, group, IFACE, &d));
        MLSKEY_TRY(mlskey_dict_need_(&d, "GroupId", MLSKEY_VALUE_BYTES, &gid));
        MLSKEY_TRY(mlskey_dict_need_(&d, "Identity", MLSKEY_VALUE_STRING, &ident));
        MLSKEY_TRY(mlskey_dict_need_(&d, "Epoch", MLSKEY_VALUE_UINT64, &epoch));
        MLSKEY_TRY(mlskey_dict_need_(&d, "CipherSuite", MLSKEY_VALUE_UINT16, &suite));
        MLSKEY_TRY(mlskey_dict_need_(&d, "OwnLeaf", MLSKEY_VALUE_UINT32, &leaf));
        MLSKEY_TRY(mlskey_dict_need_(&d, "Members", MLSKEY_VALUE_OTHER, &members));
        MLSKEY_TRY(mlskey_dict_need_(&d, "EpochAuthenticator", MLSKEY_VALUE_BYTES, &auth));
        MLSKEY_TRY(mlskey_dict_need_(&d, "HasPendingCommit", MLSKEY_VALUE_BOOL, &pending));
        if (strcmp(ident->signature, "o") != 0 || strcmp(members->signature, "a(uayay)") != 0)
                return mlskey_fail_(MLSKEY_ERROR_BAD_REPLY,
                                    "Identity or Members has the wrong type in the reply");
        MLSKEY_TRY(mlskey_dict_variant_(&d, "Members", &var));
        MLSKEY_TRY(mlskey_members_decode_(mlskey_dict_reply_(&d), &var, &mem));
        memset(ret, 0, sizeof(*ret));
        ret->group_id = gid->v.bytes;
        ret->identity = ident->v.s;
        ret->epoch = epoch->v.t;
        ret->cipher_suite = suite->v.q;
        ret->own_leaf = leaf->v.u;
        ret->members = mem;
        ret->epoch_authenticator = auth->v.bytes;
        ret->has_pending_commit = pending->v.b;
        ret->all = d;
        memset(&d, 0, sizeof(d));
        return 0;
}

_public_ void
mlskey_group_props_clear(struct mlskey_group_props *p)
{
        if (!p)
                return;
        mlskey_members_clear(&p->members);
        mlskey_dict_clear(&p->all);
        memset(p, 0, sizeof(*p));
}
