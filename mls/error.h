/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one error table of mlskeyd.
 *
 * Each row: C name, value, stable external name (becomes the D-Bus error
 * org.mlskeyd.Error.<Name>), one sentence for humans. Values and names are
 * APPEND-ONLY: never renumber, rename or reuse a row; add new rows at the
 * end with the next free value. Several C names may share one external name
 * when clients need not tell them apart (e.g. all malformed input is
 * InvalidMessage), but each C name has its own value so tests can tell.
 */
#ifndef MLS_ERROR_H
#define MLS_ERROR_H

#define MLS_ERRORS(X)                                                                      \
        X(MLS_E_TRUNCATED, -1, "Truncated", "input ended early")                           \
        X(MLS_E_TRAILING, -2, "TrailingData", "bytes left over after a complete structure") \
        X(MLS_E_NONMINIMAL, -3, "NonMinimalEncoding",                                      \
          "variable-length integer is not in its minimal encoding")                        \
        X(MLS_E_NOMEM, -4, "OutOfMemory", "out of memory")                                 \
        X(MLS_E_BAD_VARINT, -5, "InvalidVarint",                                           \
          "variable-length integer uses the reserved 0b11 prefix")                         \
        X(MLS_E_TOO_LARGE, -6, "TooLarge", "length or count exceeds the allowed maximum")  \
        X(MLS_E_INVALID_ARGUMENT, -7, "InvalidArgument", "invalid argument")               \
        X(MLS_E_BAD_OPTIONAL, -8, "InvalidMessage",                                        \
          "optional<T> presence byte is neither 0 nor 1")                                   \
        X(MLS_E_BAD_ENUM, -9, "InvalidMessage", "unknown or forbidden enumeration value")  \
        X(MLS_E_INVALID_MESSAGE, -10, "InvalidMessage", "malformed or invalid message")    \
        X(MLS_E_UNSUPPORTED, -11, "Unsupported",                                           \
          "cipher suite, version or feature not supported")                                \
        X(MLS_E_CRYPTO, -12, "CryptoFailure", "a cryptographic primitive failed")          \
        X(MLS_E_BAD_KEY, -13, "InvalidKey", "a key is malformed or not on the curve")      \
        X(MLS_E_BAD_SIGNATURE, -14, "BadSignature", "signature verification failed")       \
        X(MLS_E_DECRYPT, -15, "DecryptionFailed",                                          \
          "authenticated decryption failed (bad tag, key or ciphertext)")                  \
        X(MLS_E_DUPLICATE_EXTENSION, -16, "InvalidMessage",                                \
          "an extension type appears more than once")                                      \
        X(MLS_E_TREE_INDEX, -17, "InvalidMessage", "tree node or leaf index out of range") \
        X(MLS_E_WRONG_EPOCH, -18, "WrongEpoch", "message is for a different epoch")        \
        X(MLS_E_WRONG_GROUP, -19, "WrongGroup", "message is for a different group")        \
        X(MLS_E_BAD_MEMBERSHIP_TAG, -20, "BadMembershipTag", "membership tag mismatch")    \
        X(MLS_E_BAD_CONFIRMATION_TAG, -21, "BadConfirmationTag",                           \
          "confirmation tag mismatch")                                                     \
        X(MLS_E_GENERATION_TOO_OLD, -22, "GenerationTooOld",                               \
          "message generation is older than the retained window")                          \
        X(MLS_E_GENERATION_TOO_FAR, -23, "GenerationTooFar",                               \
          "message generation is beyond the allowed forward distance")                     \
        X(MLS_E_GENERATION_CONSUMED, -24, "GenerationConsumed",                            \
          "key for this generation was already used (replay)")                             \
        X(MLS_E_BAD_PARENT_HASH, -25, "BadParentHash", "parent hash verification failed")  \
        X(MLS_E_TREE_HASH_MISMATCH, -26, "TreeHashMismatch",                               \
          "tree hash does not match the GroupContext")                                     \
        X(MLS_E_DUPLICATE_KEY, -27, "DuplicateKey",                                        \
          "encryption or signature key already in the tree")                               \
        X(MLS_E_UNSUPPORTED_CAPABILITY, -28, "UnsupportedCapability",                      \
          "required capability, extension, proposal or credential not supported")          \
        X(MLS_E_LIFETIME, -29, "LifetimeExpired", "leaf node lifetime is not valid now")   \
        X(MLS_E_BLANK_LEAF, -30, "InvalidProposal", "proposal refers to a blank leaf")     \
        X(MLS_E_REMOVE_SELF, -31, "InvalidProposal", "committer removes itself")           \
        X(MLS_E_UPDATE_BY_COMMITTER, -32, "InvalidProposal",                               \
          "commit includes an Update from its own sender")                                 \
        X(MLS_E_UNKNOWN_PROPOSAL, -33, "UnknownProposal",                                  \
          "proposal reference does not match any cached proposal")                         \
        X(MLS_E_UNKNOWN_PSK, -34, "UnknownPsk", "pre-shared key is not known")             \
        X(MLS_E_REINIT_NOT_ALONE, -35, "InvalidProposal",                                  \
          "ReInit proposal combined with other proposals")                                 \
        X(MLS_E_EXTERNAL_INIT_IN_MEMBER_COMMIT, -36, "InvalidProposal",                   \
          "ExternalInit proposal in a commit from a member")                               \
        X(MLS_E_PATH_REQUIRED, -37, "PathRequired", "commit requires a path but has none")  \
        X(MLS_E_INVALID_PROPOSAL, -38, "InvalidProposal", "invalid proposal or proposal list") \
        X(MLS_E_INVALID_LEAF, -39, "InvalidLeafNode", "leaf node fails validation")        \
        X(MLS_E_INVALID_TREE, -40, "InvalidTree", "ratchet tree fails validation")         \
        X(MLS_E_INVALID_SENDER, -41, "InvalidSender", "sender is not allowed here")        \
        X(MLS_E_PENDING_COMMIT, -42, "PendingCommit",                                      \
          "a pending commit exists; merge or clear it first")                              \
        X(MLS_E_NO_PENDING_COMMIT, -43, "NoPendingCommit", "there is no pending commit")   \
        X(MLS_E_NOT_FOUND, -44, "NotFound", "no such object")                              \
        X(MLS_E_ACCESS_DENIED, -45, "AccessDenied", "caller may not use this object")      \
        X(MLS_E_POLICY_DENIED, -46, "PolicyDenied", "the administrator's policy forbids this") \
        X(MLS_E_STORAGE, -47, "StorageFailure", "state could not be stored durably")       \
        X(MLS_E_INTERNAL, -48, "InternalError", "internal error")                          \
        X(MLS_E_KEY_PACKAGE_NOT_FOUND, -49, "NotFound",                                    \
          "no KeyPackage of ours matches the Welcome")                                     \
        X(MLS_E_WRONG_WIRE_FORMAT, -50, "InvalidMessage",                                  \
          "wire format not allowed for this content")                                      \
        X(MLS_E_WRONG_VERSION, -51, "Unsupported", "protocol version is not mls10")        \
        X(MLS_E_WRONG_SUITE, -52, "Unsupported", "cipher suite does not match the group")  \
        X(MLS_E_BAD_PADDING, -53, "InvalidMessage", "PrivateMessage padding is not all zero") \
        X(MLS_E_REMOVED, -54, "Removed", "this member has been removed from the group")   \
        X(MLS_E_BAD_CREDENTIAL, -55, "InvalidCredential", "credential is not acceptable")  \
        X(MLS_E_BAD_STATE, -56, "InvalidState", "saved state is corrupt or of another version") \
        X(MLS_E_ENTROPY, -57, "EntropyFailure", "no randomness available")                 \
        X(MLS_E_EXPIRED_EPOCH, -58, "EpochExpired",                                        \
          "message is for an epoch that is no longer retained")                            \
        X(MLS_E_IO, -59, "InternalError",                                                  \
          "inter-process channel failed (peer gone or I/O error)")                         \
        X(MLS_E_INSECURE_FILE, -60, "StorageFailure",                                      \
          "key or state file has an unsafe type, owner or mode")                           \
        X(MLS_E_BAD_CONFIG, -61, "InvalidConfiguration", "configuration file is invalid")  \
        X(MLS_E_PROPOSALS_PENDING, -62, "ProposalsPending",                                \
          "received proposals must be committed before sending application data")          \
        X(MLS_E_GROUP_EXISTS, -63, "GroupExists", "a group with this group id already exists") \
        X(MLS_E_TPM, -64, "TpmFailure", "the TPM is not available or failed")              \
        X(MLS_E_TPM_POLICY, -65, "TpmPolicyFailure",                                       \
          "the TPM refused to unseal: the PCR values differ from those sealed to")         \
        X(MLS_E_ROLLBACK, -66, "RollbackDetected",                                         \
          "stored state is older than the TPM's monotonic counter (rollback)")

#define MLS_ERR_DECL_(name, val, ext, text) name = val,
enum mls_err {
        MLS_OK = 0,
        MLS_ERRORS(MLS_ERR_DECL_)
};
#undef MLS_ERR_DECL_

/* "MLS_E_TRUNCATED"; NULL for a value that is not in the table. */
const char *mls_err_name(int e);
/* Stable external name ("Truncated"): the D-Bus error is
 * "org.mlskeyd.Error." + this. "InternalError" for an unknown value. */
const char *mls_err_ext_name(int e);
/* One human sentence, never containing secret data. */
const char *mls_err_text(int e);

#endif
