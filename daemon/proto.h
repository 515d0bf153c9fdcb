/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operations of the inter-process protocol (DESIGN.md section 2): the
 * op table of broker -> engine and engine -> vault requests, and the
 * encodings of their arguments and results. Frames, request and reply
 * headers are daemon/ipc.h; this module gives the `args` and `result`
 * bytes of each op their meaning.
 *
 * Every argument list and every result is a flat sequence of fields in
 * the TLS presentation language (the one codec, mls/codec.h):
 *
 *   u8, u16, u32, u64, bool (u8 0|1)     fixed width, big-endian
 *   bytes                                opaque x<V>
 *   bytes list                           opaque list<V>, each opaque x<V>
 *   u32 list                             uint32 list<V>
 *
 * described by a schema (a const array of struct mkd_field ending in
 * MKD_F_END). Each field has a cap: bytes at most `max` bytes; a list at
 * most `max` elements, each (bytes lists) at most `elem_max` bytes; a
 * bool is 0 or 1. Decoding is strict (caps, minimal lengths, no trailing
 * bytes) and returns views into the input. Nested records (an identity's
 * description, a group's summary, a member) are bytes fields whose
 * contents decode with their own schema.
 *
 * Ops carry flags, as OpenSSH's monitor does: MKD_OPF_LOADING ops are
 * allowed only while the receiver loads state at start-up, the others only
 * after; MKD_OPF_ONCE ops only once (the one that ends the loading phase).
 * An op that is unknown, not allowed now, or whose arguments do not decode
 * means the peer is compromised: the receiver ends the connection.
 */
#ifndef MKD_PROTO_H
#define MKD_PROTO_H

#include "mls/codec.h"
#include "mls/common.h"

/* The protocol generation of the op tables below (bumped when an op's
 * encoding changes; the frame header carries MKD_IPC_VERSION). */
#define MKD_PROTO_VERSION 1

/* Most fields of any schema. */
#define MKD_PROTO_MAX_FIELDS 16

/* Argument caps (also what the broker enforces on D-Bus arguments). */
#define MKD_CAP_KEY_PACKAGE (64u * 1024)          /* one KeyPackage */
#define MKD_CAP_MESSAGE (16u * 1024 * 1024)       /* Welcome, commit, GroupInfo, tree */
#define MKD_CAP_PLAINTEXT (1024u * 1024)          /* application data */
#define MKD_CAP_AAD (64u * 1024)
#define MKD_CAP_COUNT 1000u                       /* KeyPackages, leaves, ids per call */
#define MKD_CAP_GROUP_ID 1024u
#define MKD_CAP_CREDENTIAL (16u * 1024)
#define MKD_CAP_LABEL 256u
#define MKD_CAP_PSK_ID 1024u
#define MKD_CAP_PSK 1024u
#define MKD_CAP_EXTENSIONS (64u * 1024)
#define MKD_CAP_EXPORT_LABEL 1024u
#define MKD_CAP_EXPORT_CONTEXT (64u * 1024)
#define MKD_CAP_EXPORT_LEN 4096u
#define MKD_CAP_ACL 1000u                         /* uids or gids per identity */
#define MKD_CAP_OBJ_ID 64u                        /* MKD_OBJ_ID_MAX */
#define MKD_CAP_STATE (64u * 1024 * 1024 - 4096u) /* a sealed or saved object */
#define MKD_CAP_SIG 1024u
#define MKD_CAP_PUB 1024u

enum mkd_field_type {
        MKD_F_END = 0,
        MKD_F_U8,
        MKD_F_U16,
        MKD_F_U32,
        MKD_F_U64,
        MKD_F_BOOL,
        MKD_F_BYTES,
        MKD_F_BYTES_LIST,
        MKD_F_U32_LIST,
};

struct mkd_field {
        uint8_t type;      /* enum mkd_field_type */
        uint32_t max;      /* bytes: length cap; lists: element count cap */
        uint32_t elem_max; /* bytes lists: cap of each element */
        const char *name;  /* for messages and tests */
};

/*
 * One decoded (or to-be-encoded) field.
 *   integers, bool: u
 *   bytes:          p, len (a view)
 *   lists:          p, len = the list body (a view, without its length
 *                   prefix), n = number of elements
 */
struct mkd_val {
        uint64_t u;
        const uint8_t *p;
        size_t len;
        size_t n;
};

/* Convenience constructors for encoding. */
static inline struct mkd_val
mkd_val_u(uint64_t u)
{
        return (struct mkd_val){ .u = u };
}
static inline struct mkd_val
mkd_val_bytes(const uint8_t *p, size_t len)
{
        return (struct mkd_val){ .p = p, .len = len };
}
/* A list whose body is already encoded (e.g. by mkd_list_*_append). */
static inline struct mkd_val
mkd_val_list(const uint8_t *body, size_t len, size_t n)
{
        return (struct mkd_val){ .p = body, .len = len, .n = n };
}

/* Number of fields of a schema. */
size_t mkd_schema_len(const struct mkd_field *schema);

/*
 * Decodes p[0..len) by schema into vals[0..mkd_schema_len(schema)).
 * Errors (vals untouched): the codec's (MLS_E_TRUNCATED, MLS_E_TRAILING,
 * MLS_E_NONMINIMAL, MLS_E_BAD_VARINT), MLS_E_TOO_LARGE (a cap),
 * MLS_E_BAD_ENUM (a bool that is neither 0 nor 1), MLS_E_INVALID_ARGUMENT
 * (a schema with too many fields).
 */
MLS_MUST_CHECK int mkd_proto_decode(const struct mkd_field *schema, const uint8_t *p, size_t len,
                                    struct mkd_val *ret_vals);

/* Encodes vals by schema, appended to w (a secure writer for secrets).
 * Checks the same caps as the decoder (MLS_E_TOO_LARGE) and that list
 * bodies decode with their declared count (MLS_E_INVALID_ARGUMENT). */
MLS_MUST_CHECK int mkd_proto_encode(struct mls_writer *w, const struct mkd_field *schema,
                                    const struct mkd_val *vals);

/* Lists. Building: append elements to a writer that holds only the body
 * (no prefix); mkd_val_list(w.buf, w.len, n) then names it. Reading: an
 * iterator over a decoded list value (already validated by the decoder). */
MLS_MUST_CHECK int mkd_list_bytes_append(struct mls_writer *w, const uint8_t *p, size_t len);
MLS_MUST_CHECK int mkd_list_u32_append(struct mls_writer *w, uint32_t v);

struct mkd_list_iter {
        struct mls_reader r;
};
void mkd_list_iter_init(struct mkd_list_iter *it, const struct mkd_val *list);
/* Next element; false at the end (or on malformed input, which a decoded
 * value never is). */
bool mkd_list_next_bytes(struct mkd_list_iter *it, const uint8_t **ret_p, size_t *ret_len);
bool mkd_list_next_u32(struct mkd_list_iter *it, uint32_t *ret_v);

/* ---- op tables ---- */

enum {
        MKD_OPF_LOADING = 1 << 0, /* allowed only while loading */
        MKD_OPF_ONCE = 1 << 1,    /* at most once per connection */
};

struct mkd_op {
        uint16_t op;
        const char *name;
        uint8_t flags;
        const struct mkd_field *args;
        const struct mkd_field *result;
};

/* Broker -> engine. */
enum mkd_engine_op {
        MKD_E_LOAD = 1,             /* a stored object, at start-up */
        MKD_E_LOAD_DONE = 2,        /* end of loading; result: the index */
        MKD_E_CREATE_IDENTITY = 3,
        MKD_E_GENERATE_KEY_PACKAGES = 4,
        MKD_E_CREATE_GROUP = 5,
        MKD_E_JOIN_GROUP = 6,
        MKD_E_JOIN_EXTERNAL = 7,
        MKD_E_STORE_PSK = 8,
        MKD_E_SET_ACCESS = 9,
        MKD_E_DELETE_IDENTITY = 10,
        MKD_E_ENCRYPT = 11,
        MKD_E_PROCESS = 12,
        MKD_E_COMMIT = 13,          /* Add, Remove, Update, Commit */
        MKD_E_MERGE = 14,
        MKD_E_CLEAR = 15,
        MKD_E_PROPOSE = 16,
        MKD_E_REINIT = 17,
        MKD_E_BRANCH = 18,
        MKD_E_GROUP_INFO = 19,
        MKD_E_RATCHET_TREE = 20,
        MKD_E_EXPORT = 21,
        MKD_E_LEAVE = 22,
        MKD_E_DELETE_GROUP = 23,
        MKD_E_MEMBERS = 24,
        MKD_E_COUNTER_SYNC = 25,    /* a manifest write is durable (rollback counter) */
        MKD_E_SELF_UPDATE = 26,     /* the [update] timer: Update commits of old epochs */
        MKD_E_OP_MAX = 26,
#ifdef MKD_TEST_OPS
        /* --enable-test-ops builds only (fault injection for the
         * integration tests; outside MKD_E_OP_MAX on purpose). */
        MKD_E_TEST_FORBIDDEN_SYSCALL = 0x7f01,
        MKD_E_TEST_SECRETS = 0x7f02, /* result: the engine's secret journal */
#endif
};

/* Engine -> vault. */
enum mkd_vault_op {
        MKD_V_IDENTITY_CREATE = 1, /* new signature key, sealed with metadata */
        MKD_V_IDENTITY_LOAD = 2,   /* loading: unseal an identity, keep its key */
        MKD_V_IDENTITY_SEAL = 3,   /* reseal an identity with new metadata */
        MKD_V_IDENTITY_FORGET = 4,
        MKD_V_SIGN = 5,            /* SignWithLabel, RFC labels only */
        MKD_V_SEAL = 6,            /* key packages and groups only */
        MKD_V_UNSEAL = 7,          /* loading: key packages and groups only */
        MKD_V_LOAD_DONE = 8,       /* end of loading; result: rollback protection on */
        MKD_V_MANIFEST_SEAL = 9,   /* seal the manifest under the rollback counter */
        MKD_V_MANIFEST_OPEN = 10,  /* loading: unseal it, check the counter */
        MKD_V_COUNTER_SYNC = 11,   /* bring the TPM counter up to the last manifest */
        MKD_V_HEDGE = 12,          /* RFC 8937: sign an entropy hedge label */
        MKD_V_RANDOM = 13,         /* bytes of the vault's pool (TPM RNG mixed in) */
        MKD_V_OP_MAX = 13,
#ifdef MKD_TEST_OPS
        /* --enable-test-ops only: the vault's secrets (signature private
         * keys, storage key) for the integration test's secret scan. */
        MKD_V_TEST_SECRETS = 0x7f02,
#endif
};

/* The table entry of op, or NULL if there is none. */
const struct mkd_op *mkd_proto_engine_op(uint16_t op);
const struct mkd_op *mkd_proto_vault_op(uint16_t op);

/*
 * Per-connection op state on the receiving side: whether the loading
 * phase has ended and which ONCE ops were seen. mkd_op_gate returns the
 * op's entry when it is allowed now (recording ONCE ops and the end of
 * loading when end_loading is that op), else NULL.
 */
struct mkd_op_gate {
        bool loaded;
        uint64_t seen_once; /* bit per op number (ops < 64) */
};
const struct mkd_op *mkd_op_gate_check(struct mkd_op_gate *g, const struct mkd_op *op,
                                       uint16_t end_loading);

/* ---- nested records ---- */

/* IdentityInfo: id, owner, uids, gids, cipher_suite, credential_identity,
 * signature_public_key, label, tpm_bound. */
enum {
        MKD_II_ID, MKD_II_OWNER, MKD_II_UIDS, MKD_II_GIDS, MKD_II_SUITE, MKD_II_CREDENTIAL,
        MKD_II_PUB, MKD_II_LABEL, MKD_II_TPM, MKD_II_N
};
extern const struct mkd_field mkd_schema_identity_info[];

/* GroupSummary: object id, identity id, group_id, cipher_suite, epoch,
 * own_leaf, has_pending_commit, removed, epoch_authenticator. */
enum {
        MKD_GS_ID, MKD_GS_IDENTITY, MKD_GS_GROUP_ID, MKD_GS_SUITE, MKD_GS_EPOCH, MKD_GS_OWN_LEAF,
        MKD_GS_PENDING, MKD_GS_REMOVED, MKD_GS_AUTH, MKD_GS_N
};
extern const struct mkd_field mkd_schema_group_summary[];

/* Member: leaf, credential identity, signature key. */
enum { MKD_MB_LEAF, MKD_MB_IDENTITY, MKD_MB_KEY, MKD_MB_N };
extern const struct mkd_field mkd_schema_member[];

/* SelfUpdate: one automatic self-update the engine made (an element of
 * MKD_E_SELF_UPDATE's result): the group's summary after it (pending
 * commit set; its epoch is the one the commit was made in) and the
 * commit (MLSMessage) to deliver. */
enum { MKD_SU_SUMMARY, MKD_SU_COMMIT, MKD_SU_N };
extern const struct mkd_field mkd_schema_self_update[];

/* Field indexes of the op arguments and results (see proto.c for the
 * schemas; the comment at each table spells out every field). */
enum { MKD_LOAD_TYPE, MKD_LOAD_ID, MKD_LOAD_VERSION, MKD_LOAD_BLOB };
enum { MKD_IDX_IDENTITIES, MKD_IDX_GROUPS };
enum { MKD_CI_CREDENTIAL, MKD_CI_SUITE, MKD_CI_LABEL, MKD_CI_TPM };
enum { MKD_KP_IDENTITY, MKD_KP_COUNT, MKD_KP_LIFETIME, MKD_KP_LAST_RESORT };
/* Group options, shared by create, join, external join, reinit, branch. */
enum {
        MKD_GO_MAX_PAST_EPOCHS, MKD_GO_MAX_PAST_GENERATIONS, MKD_GO_MAX_FORWARD_DISTANCE,
        MKD_GO_HANDSHAKE_PRIVATE, MKD_GO_EXTERNAL_SENDERS, MKD_GO_REQUIRED_CAPABILITIES,
        MKD_GO_N
};
enum { MKD_CG_IDENTITY, MKD_CG_GROUP_ID, MKD_CG_OPTS = 2 };
enum { MKD_JG_IDENTITY, MKD_JG_WELCOME, MKD_JG_TREE, MKD_JG_OPTS = 3 };
enum {
        MKD_JX_IDENTITY, MKD_JX_GROUP_INFO, MKD_JX_TREE, MKD_JX_PSK_IDS, MKD_JX_REMOVE_PRIOR,
        MKD_JX_PRIOR_LEAF, MKD_JX_OPTS = 6
};
enum { MKD_SP_IDENTITY, MKD_SP_PSK_ID, MKD_SP_PSK };
enum { MKD_SA_IDENTITY, MKD_SA_UIDS, MKD_SA_GIDS };
enum { MKD_GR_GROUP }; /* first argument of every group op */
enum { MKD_EN_GROUP, MKD_EN_PLAINTEXT, MKD_EN_AAD };
enum { MKD_PR_GROUP, MKD_PR_MESSAGE };
enum {
        MKD_PRR_SUMMARY, MKD_PRR_CONTENT_TYPE, MKD_PRR_CONTENT, MKD_PRR_SENDER_TYPE,
        MKD_PRR_SENDER_INDEX, MKD_PRR_EPOCH, MKD_PRR_AAD, MKD_PRR_REMOVED, MKD_PRR_ADDED,
        MKD_PRR_REMOVED_LEAVES
};
/* Commit kinds. */
enum { MKD_COMMIT_COMMIT, MKD_COMMIT_ADD, MKD_COMMIT_REMOVE, MKD_COMMIT_UPDATE };
enum {
        MKD_CM_GROUP, MKD_CM_KIND, MKD_CM_KEY_PACKAGES, MKD_CM_LEAVES, MKD_CM_INLINE_TREE,
        MKD_CM_FORCE_PATH, MKD_CM_PSK_IDS
};
enum { MKD_CMR_SUMMARY, MKD_CMR_COMMIT, MKD_CMR_WELCOME };
/* Proposal types of MKD_E_PROPOSE. */
enum {
        MKD_PROP_ADD, MKD_PROP_REMOVE, MKD_PROP_UPDATE, MKD_PROP_EXTERNAL_PSK,
        MKD_PROP_RESUMPTION_PSK, MKD_PROP_GROUP_CONTEXT_EXTENSIONS, MKD_PROP_REINIT,
        MKD_PROP_MAX = MKD_PROP_REINIT
};
enum {
        MKD_PP_GROUP, MKD_PP_TYPE, MKD_PP_KEY_PACKAGE, MKD_PP_LEAF, MKD_PP_PSK_ID,
        MKD_PP_GROUP_ID, MKD_PP_EPOCH, MKD_PP_SUITE, MKD_PP_EXTENSIONS
};
enum { MKD_SR_SUMMARY, MKD_SR_BYTES }; /* summary + one blob (encrypt, propose, leave, join x) */
enum { MKD_RI_GROUP, MKD_RI_KEY_PACKAGES, MKD_RI_OPTS = 2 };
enum { MKD_BR_GROUP, MKD_BR_GROUP_ID, MKD_BR_KEY_PACKAGES, MKD_BR_OPTS = 3 };
enum { MKD_GI_GROUP, MKD_GI_EXTERNAL_PUB, MKD_GI_INLINE_TREE };
enum { MKD_EX_GROUP, MKD_EX_LABEL, MKD_EX_CONTEXT, MKD_EX_LENGTH };
/*
 * SELF_UPDATE (no caller: the broker's [update] timer).
 * Args: u64 interval_ms (> 0), u32 max_groups (1..MKD_SELF_UPDATE_BATCH).
 * The engine makes an Update commit with path (as MKD_E_COMMIT of kind
 * MKD_COMMIT_UPDATE) in each group that is due: not removed, not closed by
 * a ReInit, no pending commit, no cached proposal, its current epoch
 * entered at least interval_ms ago, and no automatic self-update in the
 * last interval_ms. It leaves each commit pending (never merges) and
 * returns at most max_groups of them, fewer when the reply would grow too
 * large; more = some other group is due now (ask again soon).
 * Result: SelfUpdate updates<V> (mkd_schema_self_update); bool more.
 */
#define MKD_SELF_UPDATE_BATCH 16u
enum { MKD_SUA_INTERVAL_MS, MKD_SUA_MAX_GROUPS };
enum { MKD_SUR_UPDATES, MKD_SUR_MORE };

/* Vault ops. */
enum { MKD_VC_ID, MKD_VC_SUITE, MKD_VC_METADATA, MKD_VC_TPM }; /* identity create */
enum { MKD_VCR_PUB, MKD_VCR_BLOB };
enum { MKD_VL_ID, MKD_VL_VERSION, MKD_VL_BLOB };            /* identity load */
enum { MKD_VLR_SUITE, MKD_VLR_PUB, MKD_VLR_METADATA };
enum { MKD_VS_ID, MKD_VS_VERSION, MKD_VS_METADATA };        /* identity seal */
enum { MKD_VG_ID, MKD_VG_LABEL, MKD_VG_CONTENT };           /* sign */
enum { MKD_VX_TYPE, MKD_VX_ID, MKD_VX_VERSION, MKD_VX_DATA }; /* seal, unseal */
enum { MKD_VM_VERSION, MKD_VM_DATA };                      /* manifest seal */
enum { MKD_VO_VERSION, MKD_VO_BLOB };                       /* manifest open */
enum { MKD_VD_ROLLBACK };                                   /* load-done result */
enum { MKD_CS_COUNTER };                                    /* counter-sync (both) */
enum { MKD_VH_ID, MKD_VH_LABEL };                           /* hedge */

/* ---- stored object plaintexts ----
 *
 * What the engine hands the vault to seal for a key package or a group
 * (engine.c; the identity's metadata has its own encoding there):
 *
 *   format 1 (key packages; groups written before format 2):
 *     struct { uint8 format = 1; opaque identity<V>; opaque state<V>; }
 *   format 2 (groups):
 *     struct { uint8 format = 2; opaque identity<V>; opaque state<V>;
 *              uint64 epoch_since; uint64 self_update_at; }
 *
 * identity: the owning identity's object id; state: mls_group_save or
 * mls_key_package_priv_save. epoch_since: when this daemon saw the group
 * enter its current epoch, self_update_at: its last automatic self-update
 * (0: none); both milliseconds since the Unix epoch (CLOCK_REALTIME). A
 * format-1 group has neither (has_times false): the loader takes "now".
 */
#define MKD_WRAP_FORMAT_PLAIN 1
#define MKD_WRAP_FORMAT_TIMES 2

struct mkd_wrapped {
        const uint8_t *identity; /* views (decode) or borrowed (encode) */
        size_t identity_len;
        const uint8_t *state;
        size_t state_len;
        bool has_times; /* format 2 */
        uint64_t epoch_since;
        uint64_t self_update_at;
};

/* Appends o to w (format 2 if o->has_times, else format 1); w should be
 * a secure writer (the state holds secrets). identity: 1..MKD_CAP_OBJ_ID
 * bytes (MLS_E_INVALID_ARGUMENT otherwise). */
MLS_MUST_CHECK int mkd_wrap_encode(struct mls_writer *w, const struct mkd_wrapped *o);
/* Decodes p[0..len) into views of p. Errors (*ret untouched):
 * MLS_E_BAD_STATE (an unknown format, an identity of 0 or more than
 * MKD_CAP_OBJ_ID bytes), the codec's (truncated, trailing bytes,
 * non-minimal lengths). */
MLS_MUST_CHECK int mkd_wrap_decode(const uint8_t *p, size_t len, struct mkd_wrapped *ret);

/*
 * The rollback manifest (plaintext of the MKD_OBJ_MANIFEST object, sealed
 * by the vault; daemon/vault.c, ROLLBACK):
 *   struct { uint8 type; opaque id[16]; uint64 version; } entries<V>;
 * strictly ascending by (type, id); type is an object type other than the
 * manifest's own. mkd_manifest_decode calls entry() once per entry in
 * order and stops at its first negative value; a malformed manifest gives
 * MLS_E_BAD_STATE or the codec's errors (entries already handed out must
 * then be dropped by the caller).
 */
#define MKD_MANIFEST_ID_BYTES 16
MLS_MUST_CHECK int mkd_manifest_decode(const uint8_t *p, size_t len,
                                       int (*entry)(void *ud, uint8_t type, const uint8_t *id,
                                                    uint64_t version),
                                       void *ud);
/* One entry appended (between mls_writer_vec_begin/end of the caller). */
MLS_MUST_CHECK int mkd_manifest_entry_encode(struct mls_writer *w, uint8_t type,
                                             const uint8_t *id, uint64_t version);

#endif
