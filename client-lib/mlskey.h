/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmlskey: the client library of mlskeyd (the MLS key-management daemon).
 *
 * A thin, blocking wrapper of the D-Bus interface org.mlskeyd.Daemon1
 * (doc/org.mlskeyd.Daemon1.xml, installed in the dbus-1 interfaces folder).
 * The library links libdbus-1 and libc only: it never sees a private key or
 * an epoch secret, because the interface carries none. The one deliberate
 * exception is mlskey_group_export_secret(), whose result is returned in a
 * struct mlskey_secret that mlskey_secret_free() wipes.
 *
 * CONVENTIONS (they hold for every function below unless it says otherwise)
 *
 * - Return values. Every fallible function returns 0 on success or a
 *   negative enum mlskey_error value. Output parameters are named ret_*,
 *   sit last, and are written only on success; on failure they are left
 *   untouched.
 * - Error details. Every function that returns int also records its result
 *   for the calling thread: mlskey_last_error() returns the D-Bus error name
 *   and the daemon's sentence of the last failure (code 0 after a success).
 *   The record is thread-local, like errno, so threads sharing one client
 *   never see each other's errors.
 * - Objects. Identities and groups are named by their D-Bus object path
 *   ("/org/mlskeyd/Daemon1/identity/<hex>", ".../group/<hex>"), a
 *   NUL-terminated string the caller owns; an invalid path is
 *   MLSKEY_ERROR_INVALID_ARGUMENT (checked before anything is sent).
 * - Input bytes. const uint8_t * + size_t pairs are borrowed for the
 *   duration of the call only; libdbus copies them into the message, the
 *   library makes no copy of its own. data may be NULL when len is 0. One
 *   byte array or a whole array of byte arrays may not exceed
 *   MLSKEY_MAX_ARRAY bytes (a D-Bus limit): MLSKEY_ERROR_TOO_LARGE.
 * - Output bytes. A struct mlskey_buf points into the D-Bus reply it keeps
 *   alive (no copy); release it with mlskey_buf_clear(). The same holds for
 *   struct mlskey_buf_list, struct mlskey_dict, struct mlskey_members,
 *   struct mlskey_process_result, struct mlskey_epoch_event and struct
 *   mlskey_self_update_event: each has a *_clear() function,
 *   NULL-tolerant, after which it is all zero and may be reused. Strings
 *   returned as char * (object paths, the version) are malloc'd: free()
 *   them. String vectors (char **) are NULL-terminated and
 *   malloc'd: mlskey_strv_free() them.
 * - Threads. One struct mlskey_client may be shared by any number of
 *   threads: each client has a mutex, and calls on it serialize (a call
 *   holds the client until its reply arrives or its timeout expires).
 *   Threads that must not wait for each other use a client each.
 * - Blocking. Every method call blocks until the reply arrives or the
 *   client's timeout (default MLSKEY_DEFAULT_TIMEOUT_MS) expires
 *   (MLSKEY_ERROR_TIMEOUT). The library never installs signal handlers,
 *   never exits the process (libdbus's exit-on-disconnect is turned off) and
 *   never writes to stdout or stderr.
 * - Errors any call may return, besides the daemon's (listed at the calls
 *   where they matter): INVALID_ARGUMENT (a NULL output, an invalid object
 *   path or UTF-8 string, a NULL pointer with a non-zero length; nothing
 *   is sent), TOO_LARGE, OUT_OF_MEMORY, TIMEOUT, NO_DAEMON (nobody owns
 *   MLSKEY_BUS_NAME and it cannot be activated), NO_REPLY (the daemon
 *   exited before answering), DISCONNECTED, BAD_REPLY (a reply whose types
 *   differ from the interface's), UNKNOWN_METHOD (an older daemon),
 *   NOT_FOUND and ACCESS_DENIED (also for objects the caller may not see),
 *   DBUS (another refusal of the bus), UNKNOWN (a daemon error name this
 *   library does not know: mlskey_last_error()->name has it).
 * - Options dictionaries. Methods that take an a{sv} take a
 *   const struct mlskey_opts * built with mlskey_opts_*(); NULL means an
 *   empty dictionary. The daemon refuses an unknown key
 *   (MLSKEY_ERROR_INVALID_ARGUMENT); the known keys are listed at each call.
 */
#ifndef MLSKEY_H
#define MLSKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MLSKEY_MUST_CHECK __attribute__((warn_unused_result))
#else
#define MLSKEY_MUST_CHECK
#endif

/* D-Bus names of the service. */
#define MLSKEY_BUS_NAME "org.mlskeyd.Daemon1"
#define MLSKEY_MANAGER_PATH "/org/mlskeyd/Daemon1"
#define MLSKEY_IDENTITY_PATH_PREFIX "/org/mlskeyd/Daemon1/identity/"
#define MLSKEY_GROUP_PATH_PREFIX "/org/mlskeyd/Daemon1/group/"
#define MLSKEY_MANAGER_INTERFACE "org.mlskeyd.Daemon1.Manager"
#define MLSKEY_IDENTITY_INTERFACE "org.mlskeyd.Daemon1.Identity"
#define MLSKEY_GROUP_INTERFACE "org.mlskeyd.Daemon1.Group"
#define MLSKEY_ERROR_PREFIX "org.mlskeyd.Error."

/* The method-call timeout of a new client: 25 s, libdbus's own default. */
#define MLSKEY_DEFAULT_TIMEOUT_MS 25000
/* The largest byte array (and array of byte arrays) D-Bus can carry. */
#define MLSKEY_MAX_ARRAY (64u * 1024u * 1024u)

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */
/* ---------------------------------------------------------------------- */

/*
 * One row per error: C name, value, name, whether the daemon sends it,
 * sentence. Rows with daemon = 1 mirror the external names of the daemon's
 * error table (the D-Bus error "org.mlskeyd.Error." + name); several daemon
 * errors may share a name, the library sees only the name. Rows with
 * daemon = 0 are detected by the library itself (timeouts, a missing daemon,
 * a malformed reply, another D-Bus error). Values are part of the ABI:
 * append-only, never renumbered or reused. Daemon names take -1.., library
 * errors -1000..
 */
#define MLSKEY_ERRORS(X)                                                                     \
        X(MLSKEY_ERROR_TRUNCATED, -1, "Truncated", 1, "input ended early")                   \
        X(MLSKEY_ERROR_TRAILING_DATA, -2, "TrailingData", 1,                                 \
          "bytes left over after a complete structure")                                      \
        X(MLSKEY_ERROR_NON_MINIMAL_ENCODING, -3, "NonMinimalEncoding", 1,                    \
          "variable-length integer is not in its minimal encoding")                          \
        X(MLSKEY_ERROR_OUT_OF_MEMORY, -4, "OutOfMemory", 1, "out of memory")                 \
        X(MLSKEY_ERROR_INVALID_VARINT, -5, "InvalidVarint", 1,                               \
          "variable-length integer uses the reserved prefix")                                \
        X(MLSKEY_ERROR_TOO_LARGE, -6, "TooLarge", 1,                                         \
          "length or count exceeds the allowed maximum")                                     \
        X(MLSKEY_ERROR_INVALID_ARGUMENT, -7, "InvalidArgument", 1, "invalid argument")       \
        X(MLSKEY_ERROR_INVALID_MESSAGE, -8, "InvalidMessage", 1,                             \
          "malformed or invalid message")                                                    \
        X(MLSKEY_ERROR_UNSUPPORTED, -9, "Unsupported", 1,                                    \
          "cipher suite, version or feature not supported")                                  \
        X(MLSKEY_ERROR_CRYPTO_FAILURE, -10, "CryptoFailure", 1,                              \
          "a cryptographic primitive failed")                                                \
        X(MLSKEY_ERROR_INVALID_KEY, -11, "InvalidKey", 1, "a key is malformed")              \
        X(MLSKEY_ERROR_BAD_SIGNATURE, -12, "BadSignature", 1, "signature verification failed") \
        X(MLSKEY_ERROR_DECRYPTION_FAILED, -13, "DecryptionFailed", 1,                        \
          "authenticated decryption failed")                                                 \
        X(MLSKEY_ERROR_WRONG_EPOCH, -14, "WrongEpoch", 1, "message is for a different epoch") \
        X(MLSKEY_ERROR_WRONG_GROUP, -15, "WrongGroup", 1, "message is for a different group") \
        X(MLSKEY_ERROR_BAD_MEMBERSHIP_TAG, -16, "BadMembershipTag", 1,                       \
          "membership tag mismatch")                                                         \
        X(MLSKEY_ERROR_BAD_CONFIRMATION_TAG, -17, "BadConfirmationTag", 1,                   \
          "confirmation tag mismatch")                                                       \
        X(MLSKEY_ERROR_GENERATION_TOO_OLD, -18, "GenerationTooOld", 1,                       \
          "message generation is older than the retained window")                            \
        X(MLSKEY_ERROR_GENERATION_TOO_FAR, -19, "GenerationTooFar", 1,                       \
          "message generation is beyond the allowed forward distance")                       \
        X(MLSKEY_ERROR_GENERATION_CONSUMED, -20, "GenerationConsumed", 1,                    \
          "key for this generation was already used (replay)")                               \
        X(MLSKEY_ERROR_BAD_PARENT_HASH, -21, "BadParentHash", 1,                             \
          "parent hash verification failed")                                                 \
        X(MLSKEY_ERROR_TREE_HASH_MISMATCH, -22, "TreeHashMismatch", 1,                       \
          "tree hash does not match the GroupContext")                                       \
        X(MLSKEY_ERROR_DUPLICATE_KEY, -23, "DuplicateKey", 1,                                \
          "encryption or signature key already in the tree")                                 \
        X(MLSKEY_ERROR_UNSUPPORTED_CAPABILITY, -24, "UnsupportedCapability", 1,              \
          "required capability not supported")                                               \
        X(MLSKEY_ERROR_LIFETIME_EXPIRED, -25, "LifetimeExpired", 1,                          \
          "leaf node lifetime is not valid now")                                             \
        X(MLSKEY_ERROR_INVALID_PROPOSAL, -26, "InvalidProposal", 1,                          \
          "invalid proposal or proposal list")                                               \
        X(MLSKEY_ERROR_UNKNOWN_PROPOSAL, -27, "UnknownProposal", 1,                          \
          "proposal reference does not match any cached proposal")                           \
        X(MLSKEY_ERROR_UNKNOWN_PSK, -28, "UnknownPsk", 1, "pre-shared key is not known")     \
        X(MLSKEY_ERROR_PATH_REQUIRED, -29, "PathRequired", 1,                                \
          "commit requires a path but has none")                                             \
        X(MLSKEY_ERROR_INVALID_LEAF_NODE, -30, "InvalidLeafNode", 1,                         \
          "leaf node fails validation")                                                      \
        X(MLSKEY_ERROR_INVALID_TREE, -31, "InvalidTree", 1, "ratchet tree fails validation") \
        X(MLSKEY_ERROR_INVALID_SENDER, -32, "InvalidSender", 1, "sender is not allowed here") \
        X(MLSKEY_ERROR_PENDING_COMMIT, -33, "PendingCommit", 1,                              \
          "a pending commit exists; merge or clear it first")                                \
        X(MLSKEY_ERROR_NO_PENDING_COMMIT, -34, "NoPendingCommit", 1,                         \
          "there is no pending commit")                                                      \
        X(MLSKEY_ERROR_NOT_FOUND, -35, "NotFound", 1, "no such object")                      \
        X(MLSKEY_ERROR_ACCESS_DENIED, -36, "AccessDenied", 1,                                \
          "caller may not use this object")                                                  \
        X(MLSKEY_ERROR_POLICY_DENIED, -37, "PolicyDenied", 1,                                \
          "the administrator's policy forbids this")                                         \
        X(MLSKEY_ERROR_STORAGE_FAILURE, -38, "StorageFailure", 1,                            \
          "state could not be stored durably")                                               \
        X(MLSKEY_ERROR_INTERNAL_ERROR, -39, "InternalError", 1, "internal error")            \
        X(MLSKEY_ERROR_REMOVED, -40, "Removed", 1,                                           \
          "this member has been removed from the group")                                     \
        X(MLSKEY_ERROR_INVALID_CREDENTIAL, -41, "InvalidCredential", 1,                      \
          "credential is not acceptable")                                                    \
        X(MLSKEY_ERROR_INVALID_STATE, -42, "InvalidState", 1,                                \
          "saved state is corrupt or of another version")                                    \
        X(MLSKEY_ERROR_ENTROPY_FAILURE, -43, "EntropyFailure", 1, "no randomness available") \
        X(MLSKEY_ERROR_EPOCH_EXPIRED, -44, "EpochExpired", 1,                                \
          "message is for an epoch that is no longer retained")                              \
        X(MLSKEY_ERROR_INVALID_CONFIGURATION, -45, "InvalidConfiguration", 1,               \
          "configuration file is invalid")                                                   \
        X(MLSKEY_ERROR_PROPOSALS_PENDING, -46, "ProposalsPending", 1,                        \
          "received proposals must be committed before sending application data")            \
        X(MLSKEY_ERROR_GROUP_EXISTS, -47, "GroupExists", 1,                                  \
          "a group with this group id already exists")                                       \
        X(MLSKEY_ERROR_TPM_FAILURE, -48, "TpmFailure", 1,                                    \
          "the TPM is not available or failed")                                              \
        X(MLSKEY_ERROR_TPM_POLICY_FAILURE, -49, "TpmPolicyFailure", 1,                       \
          "the TPM refused to unseal: the PCR values differ from those sealed to")           \
        X(MLSKEY_ERROR_ROLLBACK_DETECTED, -50, "RollbackDetected", 1,                        \
          "stored state is older than the TPM's monotonic counter (rollback)")               \
        X(MLSKEY_ERROR_UNKNOWN, -1000, "Unknown", 0,                                         \
          "the daemon sent an error this library does not know")                             \
        X(MLSKEY_ERROR_TIMEOUT, -1001, "Timeout", 0, "no reply before the timeout expired")  \
        X(MLSKEY_ERROR_NO_DAEMON, -1002, "NoDaemon", 0,                                      \
          "mlskeyd is not running on this bus and could not be started")                    \
        X(MLSKEY_ERROR_NO_BUS, -1003, "NoBus", 0, "could not connect to the D-Bus bus")      \
        X(MLSKEY_ERROR_DISCONNECTED, -1004, "Disconnected", 0,                               \
          "the connection to the bus was lost")                                              \
        X(MLSKEY_ERROR_NO_REPLY, -1005, "NoReply", 0,                                        \
          "the daemon went away without replying")                                           \
        X(MLSKEY_ERROR_BAD_REPLY, -1006, "BadReply", 0,                                      \
          "the reply does not have the type the interface defines")                          \
        X(MLSKEY_ERROR_UNKNOWN_METHOD, -1007, "UnknownMethod", 0,                            \
          "the daemon does not implement this method or property")                           \
        X(MLSKEY_ERROR_DBUS, -1008, "DBusError", 0, "the D-Bus bus refused the call")

#define MLSKEY_ERROR_DECL_(cname, val, name, daemon, text) cname = val,
enum mlskey_error {
        MLSKEY_OK = 0,
        MLSKEY_ERRORS(MLSKEY_ERROR_DECL_)
};
#undef MLSKEY_ERROR_DECL_

/* Details of the calling thread's last result. */
struct mlskey_error_info {
        /* 0 after a success, else an enum mlskey_error value. */
        int code;
        /* The D-Bus error name as received ("org.mlskeyd.Error.WrongEpoch",
         * "org.freedesktop.DBus.Error.ServiceUnknown"); "" when the library
         * detected the error itself (a bad argument, a malformed reply). */
        char name[256];
        /* One human sentence: the daemon's, or the library's. Never holds
         * secret data. Truncated to fit. */
        char message[512];
};

/*
 * The calling thread's last result (see CONVENTIONS). Never NULL; the
 * pointer stays valid for the life of the thread and the struct is
 * overwritten by the thread's next call.
 */
const struct mlskey_error_info *mlskey_last_error(void);

/* The name of an error value ("WrongEpoch", "Timeout"), "OK" for 0, NULL
 * for a value that is not in the table. Static string. */
const char *mlskey_error_name(int code);

/* A default sentence for an error value (the table's), "success" for 0,
 * NULL for a value that is not in the table. Static string. */
const char *mlskey_error_text(int code);

/*
 * Maps a D-Bus error name to an error value:
 *   "org.mlskeyd.Error.<Name>" with a daemon name of the table -> its value;
 *   any other "org.mlskeyd.Error.*" -> MLSKEY_ERROR_UNKNOWN;
 *   org.freedesktop.DBus.Error.{ServiceUnknown,NameHasNoOwner} -> NO_DAEMON,
 *   {NoReply,Timeout,TimedOut} -> TIMEOUT, Disconnected -> DISCONNECTED,
 *   {UnknownMethod,UnknownInterface,UnknownProperty} -> UNKNOWN_METHOD,
 *   UnknownObject -> NOT_FOUND, AccessDenied -> ACCESS_DENIED,
 *   NoMemory -> OUT_OF_MEMORY, InvalidArgs -> INVALID_ARGUMENT,
 *   LimitsExceeded -> TOO_LARGE, other org.freedesktop.DBus.Error.* -> DBUS;
 *   anything else (and NULL) -> MLSKEY_ERROR_UNKNOWN.
 * (A method call's NoReply is refined to NO_REPLY when the timeout had not
 * expired, i.e. the daemon disconnected without answering.)
 */
int mlskey_error_from_dbus_name(const char *dbus_name);

/* ---------------------------------------------------------------------- */
/* Bytes and strings                                                       */
/* ---------------------------------------------------------------------- */

/* Borrowed bytes (inputs; and views into a reply inside the structs). */
struct mlskey_data {
        const uint8_t *data;
        size_t len;
};

/* Bytes returned by a call. data points into the reply that priv_ keeps
 * alive (data may be NULL when len is 0). Read-only. */
struct mlskey_buf {
        const uint8_t *data;
        size_t len;
        void *priv_; /* the reply; internal */
};
#define MLSKEY_BUF_INIT { NULL, 0, NULL }

/* Releases the reply and zeroes *b. NULL-tolerant. */
void mlskey_buf_clear(struct mlskey_buf *b);

/* A list of byte strings returned by a call (an aay): items[0..n). */
struct mlskey_buf_list {
        struct mlskey_data *items; /* malloc'd array of views into the reply */
        size_t n;
        void *priv_;
};
#define MLSKEY_BUF_LIST_INIT { NULL, 0, NULL }
void mlskey_buf_list_clear(struct mlskey_buf_list *l);

/* Frees a NULL-terminated, malloc'd vector of malloc'd strings.
 * NULL-tolerant. */
void mlskey_strv_free(char **v);

/*
 * Output of mlskey_group_export_secret(): the one secret that crosses the
 * interface. data[0..len) is the caller's to read; release it with
 * mlskey_secret_free(), which overwrites it before freeing. (The library
 * also overwrites the copy inside the D-Bus reply; copies libdbus made
 * while receiving are outside its reach.)
 */
struct mlskey_secret {
        size_t len;
        uint8_t data[];
};

/* Zeroes and frees. NULL-tolerant. */
void mlskey_secret_free(struct mlskey_secret *s);

/* ---------------------------------------------------------------------- */
/* Options dictionaries (a{sv} inputs)                                     */
/* ---------------------------------------------------------------------- */

/*
 * A typed builder of an options dictionary. Keys are NUL-terminated UTF-8;
 * every value is copied into the builder (options are small), so the
 * caller's buffers may be released right after an add call. A key may be
 * added once: a second add of the same key is MLSKEY_ERROR_INVALID_ARGUMENT.
 *
 * Errors are sticky: the first failed add (bad key, duplicate, out of
 * memory, too large) is remembered, and a method call given the builder
 * fails with that error without sending anything. So a caller may add
 * several keys and check only the method call (which is why the add
 * functions, unlike the rest, do not warn when their result is unused).
 */
struct mlskey_opts;

/* A new empty builder in *ret_opts; free with mlskey_opts_free(). */
MLSKEY_MUST_CHECK int mlskey_opts_new(struct mlskey_opts **ret_opts);
/* NULL-tolerant. Overwrites copied byte values before freeing them. */
void mlskey_opts_free(struct mlskey_opts *o);
/* Removes every key and the sticky error; the builder may be reused. */
void mlskey_opts_clear(struct mlskey_opts *o);

int mlskey_opts_add_bool(struct mlskey_opts *o, const char *key, bool v);     /* b */
int mlskey_opts_add_u16(struct mlskey_opts *o, const char *key, uint16_t v);  /* q */
int mlskey_opts_add_u32(struct mlskey_opts *o, const char *key, uint32_t v);  /* u */
int mlskey_opts_add_u64(struct mlskey_opts *o, const char *key, uint64_t v);  /* t */
/* s: value must be valid UTF-8. */
int mlskey_opts_add_string(struct mlskey_opts *o, const char *key,
                                             const char *v);
/* ay */
int mlskey_opts_add_bytes(struct mlskey_opts *o, const char *key,
                                            const uint8_t *data, size_t len);
/* aay: items[0..n) */
int mlskey_opts_add_bytes_array(struct mlskey_opts *o, const char *key,
                                                  const struct mlskey_data *items, size_t n);
/* au */
int mlskey_opts_add_u32_array(struct mlskey_opts *o, const char *key,
                                                const uint32_t *v, size_t n);

/* Number of keys, and the sticky error (0 if none). NULL gives 0. */
size_t mlskey_opts_count(const struct mlskey_opts *o);
int mlskey_opts_error(const struct mlskey_opts *o);

/* Keys the interface defines (doc/org.mlskeyd.Daemon1.xml). */
#define MLSKEY_OPT_TPM "tpm"                                     /* b */
#define MLSKEY_OPT_LABEL "label"                                 /* s */
#define MLSKEY_OPT_LIFETIME "lifetime"                           /* t, seconds */
#define MLSKEY_OPT_LAST_RESORT "last_resort"                     /* b */
#define MLSKEY_OPT_MAX_PAST_EPOCHS "max_past_epochs"             /* u */
#define MLSKEY_OPT_HANDSHAKE "handshake"                         /* s: public|private */
#define MLSKEY_OPT_EXTERNAL_SENDERS "external_senders"           /* aay */
#define MLSKEY_OPT_REQUIRED_CAPABILITIES "required_capabilities" /* ay */
#define MLSKEY_OPT_MAX_PAST_GENERATIONS "max_past_generations"   /* u */
#define MLSKEY_OPT_MAX_FORWARD_DISTANCE "max_forward_distance"   /* u */
#define MLSKEY_OPT_PSK_IDS "psk_ids"                             /* aay */
#define MLSKEY_OPT_REMOVE_PRIOR_LEAF "remove_prior_leaf"         /* u */
#define MLSKEY_OPT_INLINE_TREE "inline_tree"                     /* b */
#define MLSKEY_OPT_FORCE_PATH "force_path"                       /* b */
#define MLSKEY_OPT_EXTERNAL_PUB "external_pub"                   /* b */

/* ---------------------------------------------------------------------- */
/* Dictionaries returned by the daemon (a{sv} outputs)                     */
/* ---------------------------------------------------------------------- */

enum mlskey_value_type {
        MLSKEY_VALUE_OTHER = 0, /* a type not listed here: see signature */
        MLSKEY_VALUE_BOOL,      /* b  -> v.b */
        MLSKEY_VALUE_BYTE,      /* y  -> v.y */
        MLSKEY_VALUE_INT16,     /* n  -> v.n */
        MLSKEY_VALUE_UINT16,    /* q  -> v.q */
        MLSKEY_VALUE_INT32,     /* i  -> v.i */
        MLSKEY_VALUE_UINT32,    /* u  -> v.u */
        MLSKEY_VALUE_INT64,     /* x  -> v.x */
        MLSKEY_VALUE_UINT64,    /* t  -> v.t */
        MLSKEY_VALUE_DOUBLE,    /* d  -> v.d */
        MLSKEY_VALUE_STRING,    /* s, o, g -> v.s */
        MLSKEY_VALUE_BYTES,     /* ay -> v.bytes */
        MLSKEY_VALUE_UINT16_ARRAY, /* aq -> v.aq */
        MLSKEY_VALUE_UINT32_ARRAY, /* au -> v.au */
        MLSKEY_VALUE_UINT64_ARRAY, /* at -> v.at */
        MLSKEY_VALUE_STRING_ARRAY, /* as, ao -> v.as */
        MLSKEY_VALUE_BYTES_ARRAY,  /* aay -> v.aay */
        MLSKEY_VALUE_DICT,         /* a{sv} -> v.dict (owned by the outer
                                    * dictionary: never clear it) */
};

struct mlskey_value;
struct mlskey_dict {
        struct mlskey_value *entries; /* entries[0..n), in the reply's order */
        size_t n;
        void *priv_;
};
#define MLSKEY_DICT_INIT { NULL, 0, NULL }

/* One entry of a decoded dictionary. Every pointer points into the reply
 * (or into arrays the dictionary owns) and lives until mlskey_dict_clear(). */
struct mlskey_value {
        const char *key;
        const char *signature; /* the variant's D-Bus signature: "u", "aay" */
        enum mlskey_value_type type;
        union {
                bool b;
                uint8_t y;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
                struct mlskey_data bytes;
                struct { const uint16_t *v; size_t n; } aq;
                struct { const uint32_t *v; size_t n; } au;
                struct { const uint64_t *v; size_t n; } at;
                struct { const char *const *v; size_t n; } as;
                struct { const struct mlskey_data *v; size_t n; } aay;
                struct mlskey_dict dict;
        } v;
};

/* Releases the reply and everything decoded; zeroes *d. NULL-tolerant. */
void mlskey_dict_clear(struct mlskey_dict *d);
/* The entry with this key, or NULL. */
const struct mlskey_value *mlskey_dict_get(const struct mlskey_dict *d, const char *key);

/* ---------------------------------------------------------------------- */
/* Clients                                                                 */
/* ---------------------------------------------------------------------- */

struct mlskey_client;

enum mlskey_bus {
        MLSKEY_BUS_SESSION, /* the user's own daemon */
        MLSKEY_BUS_SYSTEM,  /* the machine's daemon (shared identities) */
};

/*
 * Connects to the session or the system bus (a private connection of the
 * client's own; the application's shared libdbus connection is not used)
 * and talks to MLSKEY_BUS_NAME there. The daemon is not contacted yet (it
 * may be D-Bus activated by the first call). *ret_client is freed with
 * mlskey_client_free().
 * Errors: NO_BUS (no bus address, connection refused; the message says
 * why), OUT_OF_MEMORY, INVALID_ARGUMENT (unknown bus).
 */
MLSKEY_MUST_CHECK int mlskey_client_new(enum mlskey_bus bus, struct mlskey_client **ret_client);

/*
 * The same for a bus given by its D-Bus address ("unix:path=/run/x",
 * "unix:abstract=..."), e.g. a private test bus. The connection registers
 * with the bus (Hello) before this returns. address is borrowed.
 * Errors: NO_BUS, OUT_OF_MEMORY, INVALID_ARGUMENT (NULL or empty address).
 */
MLSKEY_MUST_CHECK int mlskey_client_new_address(const char *address,
                                                struct mlskey_client **ret_client);

/* Closes the connection and frees everything, including subscriptions and
 * queued signals. NULL-tolerant. No other thread may use c any more. */
void mlskey_client_free(struct mlskey_client *c);

/* Sets the method-call timeout of c, 1..INT32_MAX milliseconds
 * (INVALID_ARGUMENT otherwise). It applies to calls started afterwards. */
MLSKEY_MUST_CHECK int mlskey_client_set_timeout(struct mlskey_client *c, int timeout_ms);
int mlskey_client_get_timeout(struct mlskey_client *c);

/* The client's unique bus name (":1.42"), valid until mlskey_client_free(). */
const char *mlskey_client_unique_name(struct mlskey_client *c);

/* ---------------------------------------------------------------------- */
/* Manager: /org/mlskeyd/Daemon1                                           */
/* ---------------------------------------------------------------------- */

/*
 * CreateIdentity: a new identity whose signature key is generated inside
 * the daemon and never leaves it. credential_identity is the BasicCredential
 * identity (e.g. "alice@example.org" as bytes). options: MLSKEY_OPT_TPM (b,
 * suite 2 only), MLSKEY_OPT_LABEL (s). *ret_identity: the object path,
 * malloc'd.
 * Daemon errors include Unsupported (suite), PolicyDenied (quota, TPM
 * mode), InvalidArgument.
 */
MLSKEY_MUST_CHECK int mlskey_manager_create_identity(struct mlskey_client *c,
                                                     const uint8_t *credential_identity,
                                                     size_t credential_identity_len,
                                                     uint16_t cipher_suite,
                                                     const struct mlskey_opts *options,
                                                     char **ret_identity);

/* ListIdentities / ListGroups: the caller's objects and those shared with
 * it. *ret_paths: NULL-terminated vector (mlskey_strv_free); *ret_n (may be
 * NULL) its length. */
MLSKEY_MUST_CHECK int mlskey_manager_list_identities(struct mlskey_client *c, char ***ret_paths,
                                                     size_t *ret_n);
MLSKEY_MUST_CHECK int mlskey_manager_list_groups(struct mlskey_client *c, char ***ret_paths,
                                                 size_t *ret_n);

/* GetPolicy: the effective policy, keys "<section>.<key>" with string (s)
 * or number (t) values. */
MLSKEY_MUST_CHECK int mlskey_manager_get_policy(struct mlskey_client *c,
                                                struct mlskey_dict *ret_policy);

/* Property Version (malloc'd string). */
MLSKEY_MUST_CHECK int mlskey_manager_get_version(struct mlskey_client *c, char **ret_version);

/* Property SupportedCipherSuites: *ret_suites malloc'd (free()), *ret_n
 * entries (the array may be NULL when *ret_n is 0). */
MLSKEY_MUST_CHECK int mlskey_manager_get_supported_cipher_suites(struct mlskey_client *c,
                                                                 uint16_t **ret_suites,
                                                                 size_t *ret_n);

/* ---------------------------------------------------------------------- */
/* Identity: /org/mlskeyd/Daemon1/identity/<hex>                           */
/* ---------------------------------------------------------------------- */

/*
 * GenerateKeyPackages: count KeyPackages (each an MLSMessage) to publish;
 * their private keys stay inside the daemon. options: MLSKEY_OPT_LIFETIME
 * (t, seconds), MLSKEY_OPT_LAST_RESORT (b).
 */
MLSKEY_MUST_CHECK int mlskey_identity_generate_key_packages(struct mlskey_client *c,
                                                            const char *identity, uint32_t count,
                                                            const struct mlskey_opts *options,
                                                            struct mlskey_buf_list *ret_key_packages);

/*
 * CreateGroup: a new one-member group. group_id may be empty (len 0) if the
 * daemon picks one. options: MLSKEY_OPT_MAX_PAST_EPOCHS (u),
 * MLSKEY_OPT_HANDSHAKE (s, "public"|"private"), MLSKEY_OPT_EXTERNAL_SENDERS
 * (aay of ExternalSender), MLSKEY_OPT_REQUIRED_CAPABILITIES (ay),
 * MLSKEY_OPT_MAX_PAST_GENERATIONS (u), MLSKEY_OPT_MAX_FORWARD_DISTANCE (u).
 * *ret_group: object path, malloc'd. Daemon errors include GroupExists.
 */
MLSKEY_MUST_CHECK int mlskey_identity_create_group(struct mlskey_client *c, const char *identity,
                                                   const uint8_t *group_id, size_t group_id_len,
                                                   const struct mlskey_opts *options,
                                                   char **ret_group);

/* JoinGroup: joins from a Welcome (MLSMessage). ratchet_tree may be empty
 * when the Welcome's GroupInfo carries the tree. options (an addition of
 * this project's interface XML, also for JoinByExternalCommit, ReInit and
 * Branch): MLSKEY_OPT_MAX_PAST_EPOCHS, MLSKEY_OPT_HANDSHAKE,
 * MLSKEY_OPT_MAX_PAST_GENERATIONS, MLSKEY_OPT_MAX_FORWARD_DISTANCE as for
 * CreateGroup (PolicyDenied above the policy's limits). *ret_group
 * malloc'd. */
MLSKEY_MUST_CHECK int mlskey_identity_join_group(struct mlskey_client *c, const char *identity,
                                                 const uint8_t *welcome, size_t welcome_len,
                                                 const uint8_t *ratchet_tree,
                                                 size_t ratchet_tree_len,
                                                 const struct mlskey_opts *options,
                                                 char **ret_group);

/*
 * JoinByExternalCommit: joins from a GroupInfo with external_pub; the
 * returned commit must be sent to the group. options: MLSKEY_OPT_PSK_IDS
 * (aay), MLSKEY_OPT_REMOVE_PRIOR_LEAF (u), and those of JoinGroup.
 * *ret_group malloc'd.
 */
MLSKEY_MUST_CHECK int mlskey_identity_join_by_external_commit(
        struct mlskey_client *c, const char *identity, const uint8_t *group_info,
        size_t group_info_len, const uint8_t *ratchet_tree, size_t ratchet_tree_len,
        const struct mlskey_opts *options, char **ret_group, struct mlskey_buf *ret_commit);

/* StoreExternalPsk: an external pre-shared key received out of band. The
 * psk bytes are handed to libdbus and leave the process; the caller wipes
 * its own copy. */
MLSKEY_MUST_CHECK int mlskey_identity_store_external_psk(struct mlskey_client *c,
                                                         const char *identity,
                                                         const uint8_t *psk_id, size_t psk_id_len,
                                                         const uint8_t *psk, size_t psk_len);

/*
 * SetAccess (owner only): who else may use this identity and its groups.
 * Sends {"uids": au, "gids": au}: both lists are replaced (n = 0 clears
 * one). Daemon errors: AccessDenied (not the owner).
 */
MLSKEY_MUST_CHECK int mlskey_identity_set_access(struct mlskey_client *c, const char *identity,
                                                 const uint32_t *uids, size_t n_uids,
                                                 const uint32_t *gids, size_t n_gids);

/* Delete (owner only): the identity, its KeyPackages and its groups. */
MLSKEY_MUST_CHECK int mlskey_identity_delete(struct mlskey_client *c, const char *identity);

/* Properties, one call each. */
MLSKEY_MUST_CHECK int mlskey_identity_get_credential_identity(struct mlskey_client *c,
                                                              const char *identity,
                                                              struct mlskey_buf *ret);
MLSKEY_MUST_CHECK int mlskey_identity_get_signature_public_key(struct mlskey_client *c,
                                                               const char *identity,
                                                               struct mlskey_buf *ret);
MLSKEY_MUST_CHECK int mlskey_identity_get_cipher_suite(struct mlskey_client *c,
                                                       const char *identity, uint16_t *ret);
MLSKEY_MUST_CHECK int mlskey_identity_get_owner(struct mlskey_client *c, const char *identity,
                                                uint32_t *ret);
/* Access: {"uids": au, "gids": au}. */
MLSKEY_MUST_CHECK int mlskey_identity_get_access(struct mlskey_client *c, const char *identity,
                                                 struct mlskey_dict *ret);
MLSKEY_MUST_CHECK int mlskey_identity_get_tpm_bound(struct mlskey_client *c,
                                                    const char *identity, bool *ret);

/* Every property in one call (a consistent snapshot). The pointers live
 * until mlskey_identity_props_clear(). A property missing from the reply
 * or of another type is BAD_REPLY. */
struct mlskey_identity_props {
        struct mlskey_data credential_identity;
        struct mlskey_data signature_public_key;
        uint16_t cipher_suite;
        uint32_t owner;
        const uint32_t *access_uids;
        size_t n_access_uids;
        const uint32_t *access_gids;
        size_t n_access_gids;
        bool tpm_bound;
        struct mlskey_dict all; /* the whole a{sv} (Access as a nested dict) */
};
MLSKEY_MUST_CHECK int mlskey_identity_get_all(struct mlskey_client *c, const char *identity,
                                              struct mlskey_identity_props *ret);
void mlskey_identity_props_clear(struct mlskey_identity_props *p);

/* ---------------------------------------------------------------------- */
/* Group: /org/mlskeyd/Daemon1/group/<hex>                                 */
/* ---------------------------------------------------------------------- */

/* Encrypt: application data to a PrivateMessage (MLSMessage).
 * Daemon errors include ProposalsPending. */
MLSKEY_MUST_CHECK int mlskey_group_encrypt(struct mlskey_client *c, const char *group,
                                           const uint8_t *plaintext, size_t plaintext_len,
                                           const uint8_t *authenticated_data, size_t aad_len,
                                           struct mlskey_buf *ret_message);

enum mlskey_message_kind {
        MLSKEY_KIND_UNKNOWN = 0, /* a kind this library does not know: kind_name */
        MLSKEY_KIND_APPLICATION, /* content is the plaintext */
        MLSKEY_KIND_PROPOSAL,    /* content is the proposal, now cached */
        MLSKEY_KIND_COMMIT,      /* content empty; the epoch advanced */
};

/* The decoded reply of Process. has_* say whether the daemon sent a key. */
struct mlskey_process_result {
        enum mlskey_message_kind kind;
        const char *kind_name; /* "application", ... as received */
        struct mlskey_data content;
        bool has_sender;
        uint32_t sender; /* "sender": leaf index of a member */
        bool has_external_sender;
        uint32_t external_sender; /* "external_sender": index into external_senders */
        bool new_member; /* "new_member": sent by a joiner (new_member_commit or
                          * new_member_proposal) instead of "sender" */
        bool has_epoch;
        uint64_t epoch; /* "epoch": of the message */
        struct mlskey_data authenticated_data; /* "authenticated_data", empty if absent */
        bool removed; /* "removed": this member was removed (false if absent) */
        const uint32_t *added; /* "added": leaves added by a commit */
        size_t n_added;
        const uint32_t *removed_leaves; /* "removed_leaves" */
        size_t n_removed_leaves;
        struct mlskey_dict info; /* the whole info dictionary, unknown keys too */
};
#define MLSKEY_PROCESS_RESULT_INIT { 0 }
void mlskey_process_result_clear(struct mlskey_process_result *r);

/*
 * Process: any MLSMessage for this group. A known info key of the wrong
 * type is BAD_REPLY; unknown keys are kept in info. Daemon errors include
 * WrongEpoch, DecryptionFailed, BadSignature, InvalidMessage, ... (the
 * group's state is unchanged after an error).
 */
MLSKEY_MUST_CHECK int mlskey_group_process(struct mlskey_client *c, const char *group,
                                           const uint8_t *message, size_t message_len,
                                           struct mlskey_process_result *ret_result);

/*
 * Add: a commit adding key_packages[0..n) (MLSMessage each); it becomes the
 * pending commit. Send the commit to the delivery service, then
 * mlskey_group_merge_pending_commit() (accepted) or
 * mlskey_group_clear_pending_commit() (refused). *ret_welcome is empty when
 * nobody is added. options: MLSKEY_OPT_INLINE_TREE (b, default true),
 * MLSKEY_OPT_FORCE_PATH (b), MLSKEY_OPT_PSK_IDS (aay).
 * Daemon errors include PendingCommit.
 */
MLSKEY_MUST_CHECK int mlskey_group_add(struct mlskey_client *c, const char *group,
                                       const struct mlskey_data *key_packages, size_t n,
                                       const struct mlskey_opts *options,
                                       struct mlskey_buf *ret_commit,
                                       struct mlskey_buf *ret_welcome);

/* Remove: a pending commit removing leaves[0..n). */
MLSKEY_MUST_CHECK int mlskey_group_remove(struct mlskey_client *c, const char *group,
                                          const uint32_t *leaves, size_t n,
                                          const struct mlskey_opts *options,
                                          struct mlskey_buf *ret_commit);

/* Update: a pending commit with a fresh path (self-update). */
MLSKEY_MUST_CHECK int mlskey_group_update(struct mlskey_client *c, const char *group,
                                          const struct mlskey_opts *options,
                                          struct mlskey_buf *ret_commit);

/* Commit: a pending commit of every proposal received or made since the
 * last commit; *ret_welcome empty when nobody is added. */
MLSKEY_MUST_CHECK int mlskey_group_commit(struct mlskey_client *c, const char *group,
                                          const struct mlskey_opts *options,
                                          struct mlskey_buf *ret_commit,
                                          struct mlskey_buf *ret_welcome);

/* MergePendingCommit / ClearPendingCommit. Daemon error: NoPendingCommit. */
MLSKEY_MUST_CHECK int mlskey_group_merge_pending_commit(struct mlskey_client *c,
                                                        const char *group);
MLSKEY_MUST_CHECK int mlskey_group_clear_pending_commit(struct mlskey_client *c,
                                                        const char *group);

/*
 * Propose: a proposal (MLSMessage) to send; it is also cached for our own
 * commit. type and its args:
 *   "add"                      "key_package" ay
 *   "remove"                   "leaf" u
 *   "update"                   (none)
 *   "external_psk"             "psk_id" ay
 *   "resumption_psk"           "group_id" ay, "epoch" t
 *   "group_context_extensions" "extensions" ay
 *   "reinit"                   "group_id" ay, "cipher_suite" q, "extensions" ay
 * The typed wrappers below build args themselves.
 */
MLSKEY_MUST_CHECK int mlskey_group_propose(struct mlskey_client *c, const char *group,
                                           const char *type, const struct mlskey_opts *args,
                                           struct mlskey_buf *ret_proposal);
MLSKEY_MUST_CHECK int mlskey_group_propose_add(struct mlskey_client *c, const char *group,
                                               const uint8_t *key_package, size_t len,
                                               struct mlskey_buf *ret_proposal);
MLSKEY_MUST_CHECK int mlskey_group_propose_remove(struct mlskey_client *c, const char *group,
                                                  uint32_t leaf, struct mlskey_buf *ret_proposal);
MLSKEY_MUST_CHECK int mlskey_group_propose_update(struct mlskey_client *c, const char *group,
                                                  struct mlskey_buf *ret_proposal);
MLSKEY_MUST_CHECK int mlskey_group_propose_external_psk(struct mlskey_client *c,
                                                        const char *group,
                                                        const uint8_t *psk_id, size_t len,
                                                        struct mlskey_buf *ret_proposal);
MLSKEY_MUST_CHECK int mlskey_group_propose_resumption_psk(struct mlskey_client *c,
                                                          const char *group,
                                                          const uint8_t *group_id, size_t len,
                                                          uint64_t epoch,
                                                          struct mlskey_buf *ret_proposal);
MLSKEY_MUST_CHECK int mlskey_group_propose_group_context_extensions(
        struct mlskey_client *c, const char *group, const uint8_t *extensions, size_t len,
        struct mlskey_buf *ret_proposal);
MLSKEY_MUST_CHECK int mlskey_group_propose_reinit(struct mlskey_client *c, const char *group,
                                                  const uint8_t *group_id, size_t group_id_len,
                                                  uint16_t cipher_suite,
                                                  const uint8_t *extensions,
                                                  size_t extensions_len,
                                                  struct mlskey_buf *ret_proposal);

/* ReInit: after a ReInit commit, the new group (path, malloc'd) and the
 * Welcome for the others. */
MLSKEY_MUST_CHECK int mlskey_group_reinit(struct mlskey_client *c, const char *group,
                                          const struct mlskey_data *key_packages, size_t n,
                                          const struct mlskey_opts *options, char **ret_group,
                                          struct mlskey_buf *ret_welcome);

/* Branch: a subgroup with group_id linked by a resumption PSK. */
MLSKEY_MUST_CHECK int mlskey_group_branch(struct mlskey_client *c, const char *group,
                                          const uint8_t *group_id, size_t group_id_len,
                                          const struct mlskey_data *key_packages, size_t n,
                                          const struct mlskey_opts *options, char **ret_group,
                                          struct mlskey_buf *ret_welcome);

/* GroupInfo (MLSMessage). options: MLSKEY_OPT_EXTERNAL_PUB (b),
 * MLSKEY_OPT_INLINE_TREE (b). */
MLSKEY_MUST_CHECK int mlskey_group_group_info(struct mlskey_client *c, const char *group,
                                              const struct mlskey_opts *options,
                                              struct mlskey_buf *ret_group_info);

/* RatchetTree: the ratchet_tree extension body. */
MLSKEY_MUST_CHECK int mlskey_group_ratchet_tree(struct mlskey_client *c, const char *group,
                                                struct mlskey_buf *ret_ratchet_tree);

/*
 * ExportSecret: MLS-Exporter(label, context, length) (RFC 9420 section
 * 8.5). label must be valid UTF-8. Policy gated (default: owner only):
 * PolicyDenied. *ret_secret: free with mlskey_secret_free(). A reply whose
 * length differs from `length` is BAD_REPLY (and is wiped).
 */
MLSKEY_MUST_CHECK int mlskey_group_export_secret(struct mlskey_client *c, const char *group,
                                                 const char *label, const uint8_t *context,
                                                 size_t context_len, uint32_t length,
                                                 struct mlskey_secret **ret_secret);

/* Leave: a Remove proposal for ourselves, for another member to commit. */
MLSKEY_MUST_CHECK int mlskey_group_leave(struct mlskey_client *c, const char *group,
                                         struct mlskey_buf *ret_proposal);

/* Delete: forgets the group's state in the daemon. */
MLSKEY_MUST_CHECK int mlskey_group_delete(struct mlskey_client *c, const char *group);

/* Members: (leaf index, credential identity, signature public key). */
struct mlskey_member {
        uint32_t leaf;
        struct mlskey_data credential_identity;
        struct mlskey_data signature_public_key;
};
struct mlskey_members {
        struct mlskey_member *items; /* malloc'd; views into the reply */
        size_t n;
        void *priv_;
};
#define MLSKEY_MEMBERS_INIT { NULL, 0, NULL }
void mlskey_members_clear(struct mlskey_members *m);

/* Properties, one call each. */
MLSKEY_MUST_CHECK int mlskey_group_get_group_id(struct mlskey_client *c, const char *group,
                                                struct mlskey_buf *ret);
/* Identity: the identity's object path, malloc'd. */
MLSKEY_MUST_CHECK int mlskey_group_get_identity(struct mlskey_client *c, const char *group,
                                                char **ret);
MLSKEY_MUST_CHECK int mlskey_group_get_epoch(struct mlskey_client *c, const char *group,
                                             uint64_t *ret);
MLSKEY_MUST_CHECK int mlskey_group_get_cipher_suite(struct mlskey_client *c, const char *group,
                                                    uint16_t *ret);
MLSKEY_MUST_CHECK int mlskey_group_get_own_leaf(struct mlskey_client *c, const char *group,
                                                uint32_t *ret);
MLSKEY_MUST_CHECK int mlskey_group_get_members(struct mlskey_client *c, const char *group,
                                               struct mlskey_members *ret);
MLSKEY_MUST_CHECK int mlskey_group_get_epoch_authenticator(struct mlskey_client *c,
                                                           const char *group,
                                                           struct mlskey_buf *ret);
MLSKEY_MUST_CHECK int mlskey_group_get_has_pending_commit(struct mlskey_client *c,
                                                          const char *group, bool *ret);

/* Every property in one call: a consistent snapshot (e.g. the epoch and its
 * authenticator). Pointers live until mlskey_group_props_clear(). */
struct mlskey_group_props {
        struct mlskey_data group_id;
        const char *identity;
        uint64_t epoch;
        uint16_t cipher_suite;
        uint32_t own_leaf;
        struct mlskey_members members;
        struct mlskey_data epoch_authenticator;
        bool has_pending_commit;
        struct mlskey_dict all; /* the whole a{sv} (Members as OTHER) */
};
MLSKEY_MUST_CHECK int mlskey_group_get_all(struct mlskey_client *c, const char *group,
                                           struct mlskey_group_props *ret);
void mlskey_group_props_clear(struct mlskey_group_props *p);

/* ---------------------------------------------------------------------- */
/* Signals: EpochChanged and SelfUpdateReady                               */
/* ---------------------------------------------------------------------- */

/*
 * Both signals share one machinery per client: subscriptions (one id
 * space, removed with mlskey_client_unsubscribe()), one queue of received
 * events in arrival order (MLSKEY_EVENT_QUEUE_MAX in all, counted by
 * mlskey_client_dropped_events() when full), mlskey_client_dispatch(),
 * which calls the callbacks of both kinds, and mlskey_client_get_fd().
 * Each kind has its own blocking wait, which takes only events of its kind
 * from the queue. A signal is queued only if a subscription of its kind
 * covers its group, only if it comes from the current owner of
 * MLSKEY_BUS_NAME, and only if its arguments have the interface's types
 * (anything else is dropped silently).
 */

/* One EpochChanged signal. Pointers valid until mlskey_epoch_event_clear()
 * (in a callback: until the callback returns). */
struct mlskey_epoch_event {
        const char *group; /* the group's object path */
        uint64_t epoch;
        struct mlskey_data epoch_authenticator;
        void *priv_;
};
#define MLSKEY_EPOCH_EVENT_INIT { NULL, 0, { NULL, 0 }, NULL }
void mlskey_epoch_event_clear(struct mlskey_epoch_event *e);

/* Called from mlskey_client_dispatch() in the dispatching thread, with the
 * client unlocked: the callback may call the library, also on c. */
typedef void (*mlskey_epoch_changed_fn)(struct mlskey_client *c,
                                        const struct mlskey_epoch_event *ev, void *userdata);

/*
 * Subscribes to EpochChanged of one group (group = its path) or of every
 * group the caller may see (group = NULL): adds a match rule on the bus
 * (one round trip) for signals the daemon broadcasts, and introduces the
 * client to the daemon with a one-way call (Properties.Get of Version, no
 * reply awaited), because the daemon sends EpochChanged as unicast to the
 * callers it knows; the introduction is repeated when the daemon's bus name
 * gets a new owner (a restart). Only signals from the current owner of
 * MLSKEY_BUS_NAME are accepted: nobody else can inject events. cb may be
 * NULL for a subscription used only by mlskey_client_wait_epoch_changed().
 * *ret_id (may be NULL) names the subscription for
 * mlskey_client_unsubscribe(); ids are > 0.
 * Signals that arrive while the client is busy are queued (at most
 * MLSKEY_EVENT_QUEUE_MAX; beyond that the oldest are dropped, and
 * mlskey_client_dropped_events() counts them).
 */
#define MLSKEY_EVENT_QUEUE_MAX 4096
MLSKEY_MUST_CHECK int mlskey_client_subscribe_epoch_changed(struct mlskey_client *c,
                                                            const char *group,
                                                            mlskey_epoch_changed_fn cb,
                                                            void *userdata, unsigned *ret_id);
/* Removes the subscription (and its match rule), of either kind:
 * EpochChanged or SelfUpdateReady. Events already queued stay queued (a
 * dispatch calls no callback of a removed subscription). NOT_FOUND for an
 * unknown id. */
MLSKEY_MUST_CHECK int mlskey_client_unsubscribe(struct mlskey_client *c, unsigned id);

/*
 * Reads what the bus sent (waiting up to timeout_ms for something to
 * arrive: 0 = do not wait, -1 = wait forever), then calls the callbacks of
 * every queued event (EpochChanged and SelfUpdateReady), in arrival order,
 * and empties the queue (an event no callback covers is dropped). Returns
 * the number of callbacks called (>= 0) or an error (DISCONNECTED). The client is locked while it
 * waits: a thread that listens while others call uses its own client, or
 * polls mlskey_client_get_fd() and dispatches with timeout 0.
 */
MLSKEY_MUST_CHECK int mlskey_client_dispatch(struct mlskey_client *c, int timeout_ms);

/* The connection's socket, for poll(): readable means call
 * mlskey_client_dispatch(c, 0). Also dispatch after any method call (the
 * call may have queued signals). */
MLSKEY_MUST_CHECK int mlskey_client_get_fd(struct mlskey_client *c, int *ret_fd);

/*
 * Blocks until an EpochChanged of group (a path, or NULL for any group)
 * is queued or arrives, removes it from the queue and returns it, without
 * calling callbacks (other events, SelfUpdateReady ones too, stay queued
 * for dispatch). An EpochChanged subscription must cover group (else
 * INVALID_ARGUMENT: nothing could arrive). timeout_ms as for dispatch;
 * TIMEOUT if it expires. *ret_event: release with
 * mlskey_epoch_event_clear().
 */
MLSKEY_MUST_CHECK int mlskey_client_wait_epoch_changed(struct mlskey_client *c,
                                                       const char *group, int timeout_ms,
                                                       struct mlskey_epoch_event *ret_event);

/* Events (of both kinds) dropped because the queue was full, or because
 * memory ran out while queueing, since the client was made. */
uint64_t mlskey_client_dropped_events(struct mlskey_client *c);

/*
 * SelfUpdateReady (since LIBMLSKEY_0.2): the daemon made an automatic
 * self-update of a group (the policy's [update] interval, for
 * post-compromise security) and left it as the group's pending commit; it
 * never merges it by itself. The application must send commit to its
 * delivery service, then call mlskey_group_merge_pending_commit() once the
 * delivery service accepted it, or mlskey_group_clear_pending_commit() if
 * it refused it (another commit won the epoch: process that one as usual;
 * the daemon makes a new self-update an interval later). The commit cannot
 * be fetched again: an application that finds HasPendingCommit true
 * without having seen this signal clears the pending commit.
 *
 * One SelfUpdateReady signal. group: the group's object path; epoch: the
 * group's epoch, in which the commit was made (it takes effect when
 * merged); commit: the MLSMessage to deliver. Pointers are valid until
 * mlskey_self_update_event_clear() (in a callback: until the callback
 * returns; copy what must live longer). The commit is public data (it goes
 * to the delivery service): nothing is wiped.
 */
struct mlskey_self_update_event {
        const char *group;
        uint64_t epoch;
        struct mlskey_data commit;
        void *priv_;
};
#define MLSKEY_SELF_UPDATE_EVENT_INIT { NULL, 0, { NULL, 0 }, NULL }
/* Releases the signal the event points into and zeroes *e. NULL-tolerant;
 * a zeroed (INIT) event is a no-op. */
void mlskey_self_update_event_clear(struct mlskey_self_update_event *e);

/* Called from mlskey_client_dispatch() in the dispatching thread, with the
 * client unlocked: the callback may call the library, also on c (for
 * instance mlskey_group_merge_pending_commit() once the commit is
 * delivered, or mlskey_client_unsubscribe()). ev is read-only and is not
 * to be cleared by the callback. */
typedef void (*mlskey_self_update_fn)(struct mlskey_client *c,
                                      const struct mlskey_self_update_event *ev,
                                      void *userdata);

/*
 * Subscribes to SelfUpdateReady of one group (group = its path) or of every
 * group the caller may see (group = NULL), exactly as
 * mlskey_client_subscribe_epoch_changed() does for EpochChanged: a match
 * rule (one round trip), the one-way introduction to the daemon (repeated
 * after a daemon restart), only the current owner of MLSKEY_BUS_NAME
 * believed, and a signal whose arguments are not (ay, t) dropped. cb may be
 * NULL for a subscription used only by mlskey_client_wait_self_update().
 * *ret_id (may be NULL; > 0) names the subscription for
 * mlskey_client_unsubscribe(); ids are shared with EpochChanged
 * subscriptions. The client keeps no pointer to group (it copies it);
 * userdata is passed to cb as is. Errors: INVALID_ARGUMENT (c NULL, an
 * invalid path; nothing is sent), OUT_OF_MEMORY, and the bus's refusal of
 * the match rule or of GetNameOwner (DBUS, TIMEOUT, DISCONNECTED, ...);
 * on error nothing is subscribed.
 */
MLSKEY_MUST_CHECK int mlskey_client_subscribe_self_update(struct mlskey_client *c,
                                                          const char *group,
                                                          mlskey_self_update_fn cb,
                                                          void *userdata, unsigned *ret_id);

/*
 * Blocks until a SelfUpdateReady of group (a path, or NULL for any group)
 * is queued or arrives, removes it from the queue and returns it in
 * *ret_event (release with mlskey_self_update_event_clear()), without
 * calling callbacks (other events, EpochChanged ones too, stay queued for
 * dispatch). A SelfUpdateReady subscription must cover group (else
 * INVALID_ARGUMENT: nothing could arrive). timeout_ms as for
 * mlskey_client_dispatch(); TIMEOUT if it expires, DISCONNECTED if the
 * connection is lost. The client is locked while it waits.
 */
MLSKEY_MUST_CHECK int mlskey_client_wait_self_update(struct mlskey_client *c, const char *group,
                                                     int timeout_ms,
                                                     struct mlskey_self_update_event *ret_event);

#ifdef __cplusplus
}
#endif

#endif
