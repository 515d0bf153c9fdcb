/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon/proto.h"

#include <string.h>

#include "daemon/object.h"

/* ---- schema shorthands ---- */

#define F_END { MKD_F_END, 0, 0, NULL }
#define F_U8(n) { MKD_F_U8, 0, 0, n }
#define F_U16(n) { MKD_F_U16, 0, 0, n }
#define F_U32(n) { MKD_F_U32, 0, 0, n }
#define F_U64(n) { MKD_F_U64, 0, 0, n }
#define F_BOOL(n) { MKD_F_BOOL, 0, 0, n }
#define F_BYTES(n, max) { MKD_F_BYTES, (max), 0, n }
#define F_BLIST(n, count, each) { MKD_F_BYTES_LIST, (count), (each), n }
#define F_U32LIST(n, count) { MKD_F_U32_LIST, (count), 0, n }

#define F_OBJ(n) F_BYTES(n, MKD_CAP_OBJ_ID)

/* Group options (MKD_GO_*), appended to the ops that create a group. */
#define F_GROUP_OPTIONS                                                         \
        F_U32("max_past_epochs"), F_U32("max_past_generations"),                \
        F_U32("max_forward_distance"), F_BOOL("handshake_private"),             \
        F_BLIST("external_senders", MKD_CAP_COUNT, MKD_CAP_CREDENTIAL + MKD_CAP_PUB), \
        F_BYTES("required_capabilities", MKD_CAP_EXTENSIONS)

const struct mkd_field mkd_schema_identity_info[] = {
        F_OBJ("id"),
        F_U32("owner"),
        F_U32LIST("uids", MKD_CAP_ACL),
        F_U32LIST("gids", MKD_CAP_ACL),
        F_U16("cipher_suite"),
        F_BYTES("credential_identity", MKD_CAP_CREDENTIAL),
        F_BYTES("signature_public_key", MKD_CAP_PUB),
        F_BYTES("label", MKD_CAP_LABEL),
        F_BOOL("tpm_bound"),
        F_END,
};

const struct mkd_field mkd_schema_group_summary[] = {
        F_OBJ("id"),
        F_OBJ("identity"),
        F_BYTES("group_id", MKD_CAP_GROUP_ID),
        F_U16("cipher_suite"),
        F_U64("epoch"),
        F_U32("own_leaf"),
        F_BOOL("has_pending_commit"),
        F_BOOL("removed"),
        F_BYTES("epoch_authenticator", 64),
        F_END,
};

const struct mkd_field mkd_schema_member[] = {
        F_U32("leaf"),
        F_BYTES("identity", MKD_CAP_CREDENTIAL),
        F_BYTES("signature_key", MKD_CAP_PUB),
        F_END,
};

/* A nested summary: its own bytes field. */
#define F_SUMMARY F_BYTES("summary", 4096)

const struct mkd_field mkd_schema_self_update[] = {
        F_SUMMARY,
        F_BYTES("commit", MKD_CAP_MESSAGE),
        F_END,
};

static const struct mkd_field s_empty[] = { F_END };

/* ---- broker -> engine ---- */

/* LOAD: u8 type; opaque id<V>; u64 version; opaque sealed_blob<V>. */
static const struct mkd_field e_load_args[] = {
        F_U8("type"), F_OBJ("id"), F_U64("version"), F_BYTES("blob", MKD_CAP_STATE), F_END,
};
/* LOAD_DONE result: IdentityInfo identities<V>; GroupSummary groups<V>. */
static const struct mkd_field e_index[] = {
        F_BLIST("identities", 10u * 1000 * 1000, 4u * MKD_CAP_ACL * 4 + MKD_CAP_CREDENTIAL + 4096),
        F_BLIST("groups", 10u * 1000 * 1000, 4096),
        F_END,
};
/* CREATE_IDENTITY: credential_identity, cipher_suite, label, tpm. */
static const struct mkd_field e_create_identity_args[] = {
        F_BYTES("credential_identity", MKD_CAP_CREDENTIAL), F_U16("cipher_suite"),
        F_BYTES("label", MKD_CAP_LABEL), F_BOOL("tpm"), F_END,
};
static const struct mkd_field e_identity_result[] = {
        F_BYTES("identity", 4u * MKD_CAP_ACL * 4 + MKD_CAP_CREDENTIAL + 4096), F_END,
};
static const struct mkd_field e_gen_kp_args[] = {
        F_OBJ("identity"), F_U32("count"), F_U64("lifetime"), F_BOOL("last_resort"), F_END,
};
static const struct mkd_field e_gen_kp_result[] = {
        F_BLIST("key_packages", MKD_CAP_COUNT, MKD_CAP_KEY_PACKAGE), F_END,
};
static const struct mkd_field e_create_group_args[] = {
        F_OBJ("identity"), F_BYTES("group_id", MKD_CAP_GROUP_ID), F_GROUP_OPTIONS, F_END,
};
static const struct mkd_field e_summary_result[] = { F_SUMMARY, F_END };
static const struct mkd_field e_join_args[] = {
        F_OBJ("identity"), F_BYTES("welcome", MKD_CAP_MESSAGE),
        F_BYTES("ratchet_tree", MKD_CAP_MESSAGE), F_GROUP_OPTIONS, F_END,
};
static const struct mkd_field e_join_external_args[] = {
        F_OBJ("identity"), F_BYTES("group_info", MKD_CAP_MESSAGE),
        F_BYTES("ratchet_tree", MKD_CAP_MESSAGE),
        F_BLIST("psk_ids", MKD_CAP_COUNT, MKD_CAP_PSK_ID), F_BOOL("remove_prior"),
        F_U32("prior_leaf"), F_GROUP_OPTIONS, F_END,
};
static const struct mkd_field e_summary_bytes_result[] = {
        F_SUMMARY, F_BYTES("message", MKD_CAP_MESSAGE), F_END,
};
static const struct mkd_field e_store_psk_args[] = {
        F_OBJ("identity"), F_BYTES("psk_id", MKD_CAP_PSK_ID), F_BYTES("psk", MKD_CAP_PSK), F_END,
};
static const struct mkd_field e_set_access_args[] = {
        F_OBJ("identity"), F_U32LIST("uids", MKD_CAP_ACL), F_U32LIST("gids", MKD_CAP_ACL), F_END,
};
static const struct mkd_field e_identity_args[] = { F_OBJ("identity"), F_END };
static const struct mkd_field e_group_args[] = { F_OBJ("group"), F_END };
static const struct mkd_field e_encrypt_args[] = {
        F_OBJ("group"), F_BYTES("plaintext", MKD_CAP_PLAINTEXT), F_BYTES("aad", MKD_CAP_AAD),
        F_END,
};
static const struct mkd_field e_process_args[] = {
        F_OBJ("group"), F_BYTES("message", MKD_CAP_MESSAGE), F_END,
};
static const struct mkd_field e_process_result[] = {
        F_SUMMARY,
        F_U8("content_type"),
        F_BYTES("content", MKD_CAP_MESSAGE),
        F_U8("sender_type"),
        F_U32("sender_index"),
        F_U64("epoch"),
        F_BYTES("authenticated_data", MKD_CAP_MESSAGE),
        F_BOOL("removed"),
        F_U32LIST("added", 1u << 20),
        F_U32LIST("removed_leaves", 1u << 20),
        F_END,
};
static const struct mkd_field e_commit_args[] = {
        F_OBJ("group"), F_U8("kind"),
        F_BLIST("key_packages", MKD_CAP_COUNT, MKD_CAP_KEY_PACKAGE),
        F_U32LIST("leaves", MKD_CAP_COUNT), F_BOOL("inline_tree"), F_BOOL("force_path"),
        F_BLIST("psk_ids", MKD_CAP_COUNT, MKD_CAP_PSK_ID), F_END,
};
static const struct mkd_field e_commit_result[] = {
        F_SUMMARY, F_BYTES("commit", MKD_CAP_MESSAGE), F_BYTES("welcome", MKD_CAP_MESSAGE),
        F_END,
};
static const struct mkd_field e_propose_args[] = {
        F_OBJ("group"), F_U8("type"), F_BYTES("key_package", MKD_CAP_KEY_PACKAGE),
        F_U32("leaf"), F_BYTES("psk_id", MKD_CAP_PSK_ID), F_BYTES("group_id", MKD_CAP_GROUP_ID),
        F_U64("epoch"), F_U16("cipher_suite"), F_BYTES("extensions", MKD_CAP_EXTENSIONS), F_END,
};
static const struct mkd_field e_reinit_args[] = {
        F_OBJ("group"), F_BLIST("key_packages", MKD_CAP_COUNT, MKD_CAP_KEY_PACKAGE),
        F_GROUP_OPTIONS, F_END,
};
static const struct mkd_field e_branch_args[] = {
        F_OBJ("group"), F_BYTES("group_id", MKD_CAP_GROUP_ID),
        F_BLIST("key_packages", MKD_CAP_COUNT, MKD_CAP_KEY_PACKAGE), F_GROUP_OPTIONS, F_END,
};
static const struct mkd_field e_group_info_args[] = {
        F_OBJ("group"), F_BOOL("external_pub"), F_BOOL("inline_tree"), F_END,
};
static const struct mkd_field e_bytes_result[] = { F_BYTES("bytes", MKD_CAP_MESSAGE), F_END };
static const struct mkd_field e_export_args[] = {
        F_OBJ("group"), F_BYTES("label", MKD_CAP_EXPORT_LABEL),
        F_BYTES("context", MKD_CAP_EXPORT_CONTEXT), F_U32("length"), F_END,
};
static const struct mkd_field e_members_result[] = {
        F_BLIST("members", 1u << 20, MKD_CAP_CREDENTIAL + MKD_CAP_PUB + 16), F_END,
};

/* SELF_UPDATE: u64 interval_ms; u32 max_groups. Result: SelfUpdate
 * updates<V> (each a summary and a commit); bool more. */
static const struct mkd_field e_self_update_args[] = {
        F_U64("interval_ms"), F_U32("max_groups"), F_END,
};
static const struct mkd_field e_self_update_result[] = {
        F_BLIST("updates", MKD_SELF_UPDATE_BATCH, MKD_CAP_MESSAGE + 8192),
        F_BOOL("more"),
        F_END,
};

#ifdef MKD_TEST_OPS
static const struct mkd_field e_test_secrets_result[] = {
        F_BLIST("secrets", 1u << 20, 2 + 256), F_END,
};
#endif

/* COUNTER_SYNC (engine and vault): the counter value of the manifest the
 * broker has just made durable (its sealed header's counter field). */
static const struct mkd_field e_counter_args[] = { F_U64("counter"), F_END };

static const struct mkd_op engine_ops[] = {
        { MKD_E_LOAD, "load", MKD_OPF_LOADING, e_load_args, s_empty },
        { MKD_E_LOAD_DONE, "load-done", MKD_OPF_LOADING | MKD_OPF_ONCE, s_empty, e_index },
        { MKD_E_CREATE_IDENTITY, "create-identity", 0, e_create_identity_args, e_identity_result },
        { MKD_E_GENERATE_KEY_PACKAGES, "generate-key-packages", 0, e_gen_kp_args, e_gen_kp_result },
        { MKD_E_CREATE_GROUP, "create-group", 0, e_create_group_args, e_summary_result },
        { MKD_E_JOIN_GROUP, "join-group", 0, e_join_args, e_summary_result },
        { MKD_E_JOIN_EXTERNAL, "join-external", 0, e_join_external_args, e_summary_bytes_result },
        { MKD_E_STORE_PSK, "store-psk", 0, e_store_psk_args, s_empty },
        { MKD_E_SET_ACCESS, "set-access", 0, e_set_access_args, e_identity_result },
        { MKD_E_DELETE_IDENTITY, "delete-identity", 0, e_identity_args, s_empty },
        { MKD_E_ENCRYPT, "encrypt", 0, e_encrypt_args, e_summary_bytes_result },
        { MKD_E_PROCESS, "process", 0, e_process_args, e_process_result },
        { MKD_E_COMMIT, "commit", 0, e_commit_args, e_commit_result },
        { MKD_E_MERGE, "merge", 0, e_group_args, e_summary_result },
        { MKD_E_CLEAR, "clear", 0, e_group_args, e_summary_result },
        { MKD_E_PROPOSE, "propose", 0, e_propose_args, e_summary_bytes_result },
        { MKD_E_REINIT, "reinit", 0, e_reinit_args, e_summary_bytes_result },
        { MKD_E_BRANCH, "branch", 0, e_branch_args, e_summary_bytes_result },
        { MKD_E_GROUP_INFO, "group-info", 0, e_group_info_args, e_bytes_result },
        { MKD_E_RATCHET_TREE, "ratchet-tree", 0, e_group_args, e_bytes_result },
        { MKD_E_EXPORT, "export", 0, e_export_args, e_bytes_result },
        { MKD_E_LEAVE, "leave", 0, e_group_args, e_summary_bytes_result },
        { MKD_E_DELETE_GROUP, "delete-group", 0, e_group_args, s_empty },
        { MKD_E_MEMBERS, "members", 0, e_group_args, e_members_result },
        { MKD_E_COUNTER_SYNC, "counter-sync", 0, e_counter_args, s_empty },
        { MKD_E_SELF_UPDATE, "self-update", 0, e_self_update_args, e_self_update_result },
#ifdef MKD_TEST_OPS
        { MKD_E_TEST_FORBIDDEN_SYSCALL, "test-forbidden-syscall", 0, s_empty, s_empty },
        { MKD_E_TEST_SECRETS, "test-secrets", 0, s_empty, e_test_secrets_result },
#endif
};

/* ---- engine -> vault ---- */

static const struct mkd_field v_create_args[] = {
        F_OBJ("id"), F_U16("cipher_suite"), F_BYTES("metadata", MKD_CAP_STATE), F_BOOL("tpm"),
        F_END,
};
static const struct mkd_field v_create_result[] = {
        F_BYTES("public_key", MKD_CAP_PUB), F_BYTES("blob", MKD_CAP_STATE), F_END,
};
static const struct mkd_field v_load_args[] = {
        F_OBJ("id"), F_U64("version"), F_BYTES("blob", MKD_CAP_STATE), F_END,
};
static const struct mkd_field v_load_result[] = {
        F_U16("cipher_suite"), F_BYTES("public_key", MKD_CAP_PUB),
        F_BYTES("metadata", MKD_CAP_STATE), F_END,
};
static const struct mkd_field v_seal_identity_args[] = {
        F_OBJ("id"), F_U64("version"), F_BYTES("metadata", MKD_CAP_STATE), F_END,
};
static const struct mkd_field v_blob_result[] = { F_BYTES("blob", MKD_CAP_STATE), F_END };
static const struct mkd_field v_forget_args[] = { F_OBJ("id"), F_END };
static const struct mkd_field v_sign_args[] = {
        F_OBJ("id"), F_BYTES("label", 64), F_BYTES("content", MKD_CAP_STATE), F_END,
};
static const struct mkd_field v_sign_result[] = { F_BYTES("signature", MKD_CAP_SIG), F_END };
/* MANIFEST_SEAL: version, the manifest (sealed under a new counter value). */
static const struct mkd_field v_manifest_seal_args[] = {
        F_U64("version"), F_BYTES("data", MKD_CAP_STATE), F_END,
};
static const struct mkd_field v_manifest_open_args[] = {
        F_U64("version"), F_BYTES("blob", MKD_CAP_STATE), F_END,
};
static const struct mkd_field v_counter_result[] = { F_U64("counter"), F_END };
/* HEDGE: an identity signs an RFC 8937 tag1 (mls_entropy_hedge_label). */
static const struct mkd_field v_hedge_args[] = {
        F_OBJ("id"), F_BYTES("label", 2048), F_END,
};
static const struct mkd_field v_random_result[] = { F_BYTES("random", 64), F_END };
static const struct mkd_field v_load_done_result[] = { F_BOOL("rollback"), F_END };
static const struct mkd_field v_seal_args[] = {
        F_U8("type"), F_OBJ("id"), F_U64("version"), F_BYTES("data", MKD_CAP_STATE), F_END,
};

static const struct mkd_op vault_ops[] = {
        { MKD_V_IDENTITY_CREATE, "identity-create", 0, v_create_args, v_create_result },
        { MKD_V_IDENTITY_LOAD, "identity-load", MKD_OPF_LOADING, v_load_args, v_load_result },
        { MKD_V_IDENTITY_SEAL, "identity-seal", 0, v_seal_identity_args, v_blob_result },
        { MKD_V_IDENTITY_FORGET, "identity-forget", 0, v_forget_args, s_empty },
        { MKD_V_SIGN, "sign", 0, v_sign_args, v_sign_result },
        { MKD_V_SEAL, "seal", 0, v_seal_args, v_blob_result },
        { MKD_V_UNSEAL, "unseal", MKD_OPF_LOADING, v_seal_args, v_blob_result },
        { MKD_V_LOAD_DONE, "load-done", MKD_OPF_LOADING | MKD_OPF_ONCE, s_empty, v_load_done_result },
        { MKD_V_MANIFEST_SEAL, "manifest-seal", 0, v_manifest_seal_args, v_blob_result },
        { MKD_V_MANIFEST_OPEN, "manifest-open", MKD_OPF_LOADING | MKD_OPF_ONCE, v_manifest_open_args,
          v_blob_result },
        { MKD_V_COUNTER_SYNC, "counter-sync", 0, e_counter_args, v_counter_result },
        { MKD_V_HEDGE, "hedge", 0, v_hedge_args, v_sign_result },
        { MKD_V_RANDOM, "random", 0, s_empty, v_random_result },
#ifdef MKD_TEST_OPS
        { MKD_V_TEST_SECRETS, "test-secrets", 0, s_empty, e_test_secrets_result },
#endif
};

static const struct mkd_op *
find_op(const struct mkd_op *t, size_t n, uint16_t op)
{
        for (size_t i = 0; i < n; i++)
                if (t[i].op == op)
                        return &t[i];
        return NULL;
}

const struct mkd_op *
mkd_proto_engine_op(uint16_t op)
{
        return find_op(engine_ops, MLS_ARRAY_SIZE(engine_ops), op);
}

const struct mkd_op *
mkd_proto_vault_op(uint16_t op)
{
        return find_op(vault_ops, MLS_ARRAY_SIZE(vault_ops), op);
}

const struct mkd_op *
mkd_op_gate_check(struct mkd_op_gate *g, const struct mkd_op *op, uint16_t end_loading)
{
        if (!op)
                return NULL;
        if (!!(op->flags & MKD_OPF_LOADING) == g->loaded)
                return NULL;
        if (op->flags & MKD_OPF_ONCE) {
                uint64_t bit = op->op < 64 ? UINT64_C(1) << op->op : 0;

                if (!bit || (g->seen_once & bit))
                        return NULL;
                g->seen_once |= bit;
        }
        if (op->op == end_loading)
                g->loaded = true;
        return op;
}

/* ---- generic codec ---- */

size_t
mkd_schema_len(const struct mkd_field *schema)
{
        size_t n = 0;

        while (schema[n].type != MKD_F_END)
                n++;
        return n;
}

/* Checks a bytes list body: every element an opaque<V> within elem_max,
 * at most max elements; *ret_n the count. */
static int
check_bytes_list(const uint8_t *p, size_t len, const struct mkd_field *f, size_t *ret_n)
{
        struct mls_reader r;
        size_t n = 0;

        mls_reader_init(&r, p, len);
        while (!mls_reader_empty(&r)) {
                const uint8_t *e;
                size_t elen;

                MLS_TRY(mls_reader_opaque_view(&r, &e, &elen));
                if (elen > f->elem_max || ++n > f->max)
                        return MLS_E_TOO_LARGE;
        }
        *ret_n = n;
        return 0;
}

static int
check_u32_list(size_t len, const struct mkd_field *f, size_t *ret_n)
{
        if (len % 4)
                return MLS_E_TRUNCATED;
        if (len / 4 > f->max)
                return MLS_E_TOO_LARGE;
        *ret_n = len / 4;
        return 0;
}

int
mkd_proto_decode(const struct mkd_field *schema, const uint8_t *p, size_t len,
                 struct mkd_val *ret_vals)
{
        struct mkd_val v[MKD_PROTO_MAX_FIELDS];
        struct mls_reader r;
        size_t n = mkd_schema_len(schema);

        if (n > MKD_PROTO_MAX_FIELDS)
                return MLS_E_INVALID_ARGUMENT;
        memset(v, 0, sizeof(v));
        mls_reader_init(&r, p, len);
        for (size_t i = 0; i < n; i++) {
                const struct mkd_field *f = &schema[i];
                struct mls_reader sub;
                uint8_t u8;
                uint16_t u16;
                uint32_t u32;

                switch ((enum mkd_field_type)f->type) {
                case MKD_F_U8:
                        MLS_TRY(mls_reader_u8(&r, &u8));
                        v[i].u = u8;
                        break;
                case MKD_F_BOOL:
                        MLS_TRY(mls_reader_u8(&r, &u8));
                        if (u8 > 1)
                                return MLS_E_BAD_ENUM;
                        v[i].u = u8;
                        break;
                case MKD_F_U16:
                        MLS_TRY(mls_reader_u16(&r, &u16));
                        v[i].u = u16;
                        break;
                case MKD_F_U32:
                        MLS_TRY(mls_reader_u32(&r, &u32));
                        v[i].u = u32;
                        break;
                case MKD_F_U64:
                        MLS_TRY(mls_reader_u64(&r, &v[i].u));
                        break;
                case MKD_F_BYTES:
                        MLS_TRY(mls_reader_opaque_view(&r, &v[i].p, &v[i].len));
                        if (v[i].len > f->max)
                                return MLS_E_TOO_LARGE;
                        break;
                case MKD_F_BYTES_LIST:
                        MLS_TRY(mls_reader_vec(&r, &sub));
                        v[i].p = sub.p;
                        v[i].len = sub.left;
                        MLS_TRY(check_bytes_list(sub.p, sub.left, f, &v[i].n));
                        break;
                case MKD_F_U32_LIST:
                        MLS_TRY(mls_reader_vec(&r, &sub));
                        v[i].p = sub.p;
                        v[i].len = sub.left;
                        MLS_TRY(check_u32_list(sub.left, f, &v[i].n));
                        break;
                case MKD_F_END:
                        return MLS_E_INVALID_ARGUMENT;
                }
        }
        MLS_TRY(mls_reader_done(&r));
        memcpy(ret_vals, v, n * sizeof(v[0]));
        return 0;
}

int
mkd_proto_encode(struct mls_writer *w, const struct mkd_field *schema, const struct mkd_val *vals)
{
        size_t n = mkd_schema_len(schema), cnt;

        if (n > MKD_PROTO_MAX_FIELDS)
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < n; i++) {
                const struct mkd_field *f = &schema[i];
                const struct mkd_val *v = &vals[i];

                switch ((enum mkd_field_type)f->type) {
                case MKD_F_U8:
                        if (v->u > UINT8_MAX)
                                return MLS_E_TOO_LARGE;
                        MLS_TRY(mls_writer_u8(w, (uint8_t)v->u));
                        break;
                case MKD_F_BOOL:
                        MLS_TRY(mls_writer_u8(w, v->u ? 1 : 0));
                        break;
                case MKD_F_U16:
                        if (v->u > UINT16_MAX)
                                return MLS_E_TOO_LARGE;
                        MLS_TRY(mls_writer_u16(w, (uint16_t)v->u));
                        break;
                case MKD_F_U32:
                        if (v->u > UINT32_MAX)
                                return MLS_E_TOO_LARGE;
                        MLS_TRY(mls_writer_u32(w, (uint32_t)v->u));
                        break;
                case MKD_F_U64:
                        MLS_TRY(mls_writer_u64(w, v->u));
                        break;
                case MKD_F_BYTES:
                        if (v->len > f->max)
                                return MLS_E_TOO_LARGE;
                        MLS_TRY(mls_writer_opaque(w, v->p, v->len));
                        break;
                case MKD_F_BYTES_LIST:
                        MLS_TRY(check_bytes_list(v->p, v->len, f, &cnt));
                        if (cnt != v->n)
                                return MLS_E_INVALID_ARGUMENT;
                        MLS_TRY(mls_writer_opaque(w, v->p, v->len));
                        break;
                case MKD_F_U32_LIST:
                        MLS_TRY(check_u32_list(v->len, f, &cnt));
                        if (cnt != v->n)
                                return MLS_E_INVALID_ARGUMENT;
                        MLS_TRY(mls_writer_opaque(w, v->p, v->len));
                        break;
                case MKD_F_END:
                        return MLS_E_INVALID_ARGUMENT;
                }
        }
        return 0;
}

int
mkd_list_bytes_append(struct mls_writer *w, const uint8_t *p, size_t len)
{
        return mls_writer_opaque(w, p, len);
}

int
mkd_list_u32_append(struct mls_writer *w, uint32_t v)
{
        return mls_writer_u32(w, v);
}

void
mkd_list_iter_init(struct mkd_list_iter *it, const struct mkd_val *list)
{
        mls_reader_init(&it->r, list->p, list->len);
}

bool
mkd_list_next_bytes(struct mkd_list_iter *it, const uint8_t **ret_p, size_t *ret_len)
{
        if (mls_reader_empty(&it->r))
                return false;
        return mls_reader_opaque_view(&it->r, ret_p, ret_len) == 0;
}

bool
mkd_list_next_u32(struct mkd_list_iter *it, uint32_t *ret_v)
{
        if (mls_reader_empty(&it->r))
                return false;
        return mls_reader_u32(&it->r, ret_v) == 0;
}

/* ---- stored object plaintexts ---- */

int
mkd_wrap_encode(struct mls_writer *w, const struct mkd_wrapped *o)
{
        if (o->identity_len == 0 || o->identity_len > MKD_CAP_OBJ_ID)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_u8(w, o->has_times ? MKD_WRAP_FORMAT_TIMES : MKD_WRAP_FORMAT_PLAIN));
        MLS_TRY(mls_writer_opaque(w, o->identity, o->identity_len));
        MLS_TRY(mls_writer_opaque(w, o->state, o->state_len));
        if (!o->has_times)
                return 0;
        MLS_TRY(mls_writer_u64(w, o->epoch_since));
        return mls_writer_u64(w, o->self_update_at);
}

int
mkd_wrap_decode(const uint8_t *p, size_t len, struct mkd_wrapped *ret)
{
        struct mkd_wrapped o = { 0 };
        struct mls_reader r;
        uint8_t fmt;

        mls_reader_init(&r, p, len);
        MLS_TRY(mls_reader_u8(&r, &fmt));
        if (fmt != MKD_WRAP_FORMAT_PLAIN && fmt != MKD_WRAP_FORMAT_TIMES)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_opaque_view(&r, &o.identity, &o.identity_len));
        if (o.identity_len == 0 || o.identity_len > MKD_CAP_OBJ_ID)
                return MLS_E_BAD_STATE;
        MLS_TRY(mls_reader_opaque_view(&r, &o.state, &o.state_len));
        if (fmt == MKD_WRAP_FORMAT_TIMES) {
                o.has_times = true;
                MLS_TRY(mls_reader_u64(&r, &o.epoch_since));
                MLS_TRY(mls_reader_u64(&r, &o.self_update_at));
        }
        MLS_TRY(mls_reader_done(&r));
        *ret = o;
        return 0;
}

/* ---- the rollback manifest ---- */

int
mkd_manifest_entry_encode(struct mls_writer *w, uint8_t type, const uint8_t *id,
                          uint64_t version)
{
        MLS_TRY(mls_writer_u8(w, type));
        MLS_TRY(mls_writer_raw(w, id, MKD_MANIFEST_ID_BYTES));
        return mls_writer_u64(w, version);
}

int
mkd_manifest_decode(const uint8_t *p, size_t len,
                    int (*entry)(void *ud, uint8_t type, const uint8_t *id, uint64_t version),
                    void *ud)
{
        struct mls_reader r, v;
        const uint8_t *prev_id = NULL;
        uint8_t prev_type = 0;

        mls_reader_init(&r, p, len);
        MLS_TRY(mls_reader_vec(&r, &v));
        MLS_TRY(mls_reader_done(&r));
        while (v.left) {
                const uint8_t *id;
                uint8_t type;
                uint64_t version;

                MLS_TRY(mls_reader_u8(&v, &type));
                MLS_TRY(mls_reader_raw(&v, MKD_MANIFEST_ID_BYTES, &id));
                MLS_TRY(mls_reader_u64(&v, &version));
                if (type == MKD_OBJ_MANIFEST || !mkd_obj_type_valid(type))
                        return MLS_E_BAD_STATE;
                /* Strictly ascending (type, id): one entry per object. */
                if (prev_id && (type < prev_type ||
                                (type == prev_type &&
                                 memcmp(id, prev_id, MKD_MANIFEST_ID_BYTES) <= 0)))
                        return MLS_E_BAD_STATE;
                MLS_TRY(entry(ud, type, id, version));
                prev_type = type;
                prev_id = id;
        }
        return 0;
}
