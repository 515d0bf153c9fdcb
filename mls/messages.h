/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9420 wire structures: in-memory forms, strict decoders and encoders.
 *
 * Every structure X of RFC 9420 has
 *
 *   int  mls_X_decode(struct mls_reader *r, struct mls_X *ret);
 *   int  mls_X_encode(struct mls_writer *w, const struct mls_X *x);
 *   void mls_X_clear(struct mls_X *x);
 *
 * and, for the ones that do not depend on an enclosing structure,
 *
 *   int  mls_X_from_bytes(const uint8_t *p, size_t len, struct mls_X *ret);
 *   int  mls_X_to_bytes(const struct mls_X *x, struct mls_bytes *ret);
 *
 * Contracts:
 * - _decode reads one X from r (the reader may hold more; a failed decode may
 *   have consumed part of r, which the caller then abandons). On success
 *   *ret owns everything it points to; on failure *ret is untouched and
 *   nothing leaks. Allocation is bounded by the input: arrays grow as their
 *   elements parse, never from a count.
 * - _from_bytes decodes a whole buffer: bytes left after X are an error
 *   (MLS_E_TRAILING). The input is borrowed, never kept.
 * - Decoding is strict: an enumeration value for which the RFC's `select`
 *   has no arm is MLS_E_BAD_ENUM (R-6-4, R-6-5); vector bodies must be used
 *   up exactly (MLS_E_TRAILING / MLS_E_TRUNCATED); non-minimal lengths are
 *   MLS_E_NONMINIMAL (the codec); optional<T> presence octets other than
 *   0/1 are MLS_E_BAD_OPTIONAL; two extensions of one type in a list are
 *   MLS_E_DUPLICATE_EXTENSION (R-13.4-5). Unknown values inside lists whose
 *   element type is an open registry (capabilities, cipher suites,
 *   extension types) are kept, not rejected (R-7.2-5, R-13.4-3).
 * - Nothing here signs, verifies, encrypts or checks group semantics: the
 *   *_tbs_encode helpers only produce the bytes another layer signs.
 * - encode(decode(x)) == x for every valid x.
 * - _clear frees everything and resets the structure to all-zero; NULL is a
 *   no-op; clearing twice is harmless. Structures are zero-initialised
 *   ({ 0 }) before first use. Structures holding a `select` keep the
 *   selector in a fixed-width field; _clear frees the arm it names, so set
 *   the selector before filling an arm.
 * - Byte strings are struct mls_bytes (malloc'd, public). Secrets
 *   (GroupSecrets' joiner_secret and path_secret) are struct mls_secret.
 *
 * Enumerations are kept in their wire width (uint8_t / uint16_t); the
 * MLS_* constants below name the values the RFC defines.
 */
#ifndef MLS_MESSAGES_H
#define MLS_MESSAGES_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/secret.h"
#include "mls/psk.h" /* PreSharedKeyID (RFC 9420 section 8.4) */

/* ---- enumerations (RFC 9420 sections 6, 7.2, 12.4.3.3, 17) ---- */

/* ProtocolVersion (u16) */
#define MLS_VERSION_MLS10 1

/* ContentType (u8) */
#define MLS_CONTENT_APPLICATION 1
#define MLS_CONTENT_PROPOSAL 2
#define MLS_CONTENT_COMMIT 3

/* SenderType (u8) */
#define MLS_SENDER_MEMBER 1
#define MLS_SENDER_EXTERNAL 2
#define MLS_SENDER_NEW_MEMBER_PROPOSAL 3
#define MLS_SENDER_NEW_MEMBER_COMMIT 4

/* WireFormat (u16) */
#define MLS_WIRE_PUBLIC_MESSAGE 1
#define MLS_WIRE_PRIVATE_MESSAGE 2
#define MLS_WIRE_WELCOME 3
#define MLS_WIRE_GROUP_INFO 4
#define MLS_WIRE_KEY_PACKAGE 5

/* CredentialType (u16) */
#define MLS_CREDENTIAL_BASIC 1
#define MLS_CREDENTIAL_X509 2

/* LeafNodeSource (u8) */
#define MLS_LEAF_SOURCE_KEY_PACKAGE 1
#define MLS_LEAF_SOURCE_UPDATE 2
#define MLS_LEAF_SOURCE_COMMIT 3

/* NodeType (u8) */
#define MLS_NODE_LEAF 1
#define MLS_NODE_PARENT 2

/* ProposalType (u16) */
#define MLS_PROPOSAL_ADD 1
#define MLS_PROPOSAL_UPDATE 2
#define MLS_PROPOSAL_REMOVE 3
#define MLS_PROPOSAL_PSK 4
#define MLS_PROPOSAL_REINIT 5
#define MLS_PROPOSAL_EXTERNAL_INIT 6
#define MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS 7

/* ProposalOrRefType (u8) */
#define MLS_POR_PROPOSAL 1
#define MLS_POR_REFERENCE 2

/* ExtensionType (u16) */
#define MLS_EXT_APPLICATION_ID 1
#define MLS_EXT_RATCHET_TREE 2
#define MLS_EXT_REQUIRED_CAPABILITIES 3
#define MLS_EXT_EXTERNAL_PUB 4
#define MLS_EXT_EXTERNAL_SENDERS 5

/* SenderData.reuse_guard */
#define MLS_REUSE_GUARD_LEN 4

/* A vector of u16 code points (versions, suites, extension, proposal and
 * credential types). */
struct mls_u16_list {
        uint16_t *v;
        size_t n;
};

/* A vector of u32 (ParentNode.unmerged_leaves). */
struct mls_u32_list {
        uint32_t *v;
        size_t n;
};

/* ---- 5.3 Credentials ---- */

/*
 * struct { opaque cert_data<V>; } Certificate;
 * struct {
 *     CredentialType credential_type;
 *     select (Credential.credential_type) {
 *         case basic: opaque identity<V>;
 *         case x509:  Certificate certificates<V>;
 *     };
 * } Credential;
 * Other credential types have no arm: MLS_E_BAD_ENUM.
 */
struct mls_credential {
        uint16_t credential_type;
        struct mls_bytes identity;        /* basic */
        struct mls_bytes *certificates;   /* x509: cert_data of each entry */
        size_t n_certificates;
};

/* ---- 7.2 Leaf node contents ---- */

/* struct { ProtocolVersion versions<V>; CipherSuite cipher_suites<V>;
 *          ExtensionType extensions<V>; ProposalType proposals<V>;
 *          CredentialType credentials<V>; } Capabilities; */
struct mls_capabilities {
        struct mls_u16_list versions;
        struct mls_u16_list cipher_suites;
        struct mls_u16_list extensions;
        struct mls_u16_list proposals;
        struct mls_u16_list credentials;
};

/* struct { uint64 not_before; uint64 not_after; } Lifetime; */
struct mls_lifetime {
        uint64_t not_before;
        uint64_t not_after;
};

/* struct { ExtensionType extension_type; opaque extension_data<V>; } Extension; */
struct mls_extension {
        uint16_t extension_type;
        struct mls_bytes extension_data;
};

/* Extension extensions<V>; no type twice (R-13.4-5). */
struct mls_extension_list {
        struct mls_extension *v;
        size_t n;
};

/*
 * struct {
 *     HPKEPublicKey encryption_key; SignaturePublicKey signature_key;
 *     Credential credential; Capabilities capabilities;
 *     LeafNodeSource leaf_node_source;
 *     select (LeafNode.leaf_node_source) {
 *         case key_package: Lifetime lifetime;
 *         case update:      struct{};
 *         case commit:      opaque parent_hash<V>;
 *     };
 *     Extension extensions<V>;
 *     opaque signature<V>;
 * } LeafNode;
 */
struct mls_leaf_node {
        struct mls_bytes encryption_key;
        struct mls_bytes signature_key;
        struct mls_credential credential;
        struct mls_capabilities capabilities;
        uint8_t leaf_node_source;
        struct mls_lifetime lifetime;     /* key_package only */
        struct mls_bytes parent_hash;     /* commit only */
        struct mls_extension_list extensions;
        struct mls_bytes signature;
};

/* ---- 7.1 Parent nodes, 12.4.3.3 Node and ratchet_tree ---- */

/* struct { HPKEPublicKey encryption_key; opaque parent_hash<V>;
 *          uint32 unmerged_leaves<V>; } ParentNode;
 * unmerged_leaves must be strictly increasing (R-7.1-1). */
struct mls_parent_node {
        struct mls_bytes encryption_key;
        struct mls_bytes parent_hash;
        struct mls_u32_list unmerged_leaves;
};

/* struct { NodeType node_type; select (Node.node_type) {
 *     case leaf: LeafNode leaf_node; case parent: ParentNode parent_node; }; } Node; */
struct mls_node {
        uint8_t node_type;
        union {
                struct mls_leaf_node leaf_node;     /* MLS_NODE_LEAF */
                struct mls_parent_node parent_node; /* MLS_NODE_PARENT */
        };
};

/*
 * optional<Node> ratchet_tree<V>;  (the ratchet_tree extension body)
 * nodes[i] == NULL is a blank node. Decoding requires a non-empty vector
 * whose last entry is not blank (R-12.4.3.3-3) and leaves at even, parents
 * at odd positions (R-12.4.3.3-4): MLS_E_INVALID_TREE otherwise. Padding to
 * a full tree is the tree module's job.
 */
struct mls_ratchet_tree {
        struct mls_node **nodes;
        size_t n_nodes;
};

/* ---- 10 Key packages ---- */

/* struct { ProtocolVersion version; CipherSuite cipher_suite;
 *          HPKEPublicKey init_key; LeafNode leaf_node;
 *          Extension extensions<V>; opaque signature<V>; } KeyPackage; */
struct mls_key_package {
        uint16_t version;
        uint16_t cipher_suite;
        struct mls_bytes init_key;
        struct mls_leaf_node leaf_node;
        struct mls_extension_list extensions;
        struct mls_bytes signature;
};

/* ---- typed extension bodies (RFC 9420 sections 5.3.3, 11.1, 12.1.8.1, 12.4.3.2) ---- */

/* struct { ExtensionType extension_types<V>; ProposalType proposal_types<V>;
 *          CredentialType credential_types<V>; } RequiredCapabilities; */
struct mls_required_capabilities {
        struct mls_u16_list extension_types;
        struct mls_u16_list proposal_types;
        struct mls_u16_list credential_types;
};

/* struct { SignaturePublicKey signature_key; Credential credential; } ExternalSender;
 * ExternalSender external_senders<V>; */
struct mls_external_sender {
        struct mls_bytes signature_key;
        struct mls_credential credential;
};

struct mls_external_senders {
        struct mls_external_sender *v;
        size_t n;
};

/* struct { HPKEPublicKey external_pub; } ExternalPub; */
struct mls_external_pub {
        struct mls_bytes external_pub;
};

/* opaque application_id<V>; */
struct mls_application_id {
        struct mls_bytes application_id;
};

/* ---- 7.6 Update paths ---- */

/* struct { opaque kem_output<V>; opaque ciphertext<V>; } HPKECiphertext; */
struct mls_hpke_ciphertext {
        struct mls_bytes kem_output;
        struct mls_bytes ciphertext;
};

/* struct { HPKEPublicKey encryption_key;
 *          HPKECiphertext encrypted_path_secret<V>; } UpdatePathNode; */
struct mls_update_path_node {
        struct mls_bytes encryption_key;
        struct mls_hpke_ciphertext *encrypted_path_secret;
        size_t n_encrypted_path_secret;
};

/* struct { LeafNode leaf_node; UpdatePathNode nodes<V>; } UpdatePath; */
struct mls_update_path {
        struct mls_leaf_node leaf_node;
        struct mls_update_path_node *nodes;
        size_t n_nodes;
};

/* ---- 12.1 Proposals ---- */

/* struct { KeyPackage key_package; } Add; */
struct mls_add {
        struct mls_key_package key_package;
};

/* struct { LeafNode leaf_node; } Update; */
struct mls_update {
        struct mls_leaf_node leaf_node;
};

/* struct { uint32 removed; } Remove; */
struct mls_remove {
        uint32_t removed;
};

/* struct { PreSharedKeyID psk; } PreSharedKey; */
struct mls_pre_shared_key {
        struct mls_psk_id psk;
};

/* struct { opaque group_id<V>; ProtocolVersion version;
 *          CipherSuite cipher_suite; Extension extensions<V>; } ReInit; */
struct mls_reinit {
        struct mls_bytes group_id;
        uint16_t version;
        uint16_t cipher_suite;
        struct mls_extension_list extensions;
};

/* struct { opaque kem_output<V>; } ExternalInit; */
struct mls_external_init {
        struct mls_bytes kem_output;
};

/* struct { Extension extensions<V>; } GroupContextExtensions; */
struct mls_group_context_extensions {
        struct mls_extension_list extensions;
};

/*
 * struct {
 *     ProposalType proposal_type;
 *     select (Proposal.proposal_type) {
 *         case add: Add; case update: Update; case remove: Remove;
 *         case psk: PreSharedKey; case reinit: ReInit;
 *         case external_init: ExternalInit;
 *         case group_context_extensions: GroupContextExtensions;
 *     };
 * } Proposal;
 * Other proposal types have no arm: MLS_E_BAD_ENUM.
 */
struct mls_proposal {
        uint16_t proposal_type;
        union {
                struct mls_add add;
                struct mls_update update;
                struct mls_remove remove;
                struct mls_pre_shared_key psk;
                struct mls_reinit reinit;
                struct mls_external_init external_init;
                struct mls_group_context_extensions group_context_extensions;
        };
};

/* struct { ProposalOrRefType type; select (ProposalOrRef.type) {
 *     case proposal: Proposal proposal; case reference: ProposalRef reference; }; }
 * ProposalOrRef;  (ProposalRef is opaque HashReference<V>) */
struct mls_proposal_or_ref {
        uint8_t type;
        struct mls_proposal *proposal;    /* MLS_POR_PROPOSAL: heap-owned */
        struct mls_bytes reference;       /* MLS_POR_REFERENCE */
};

/* struct { ProposalOrRef proposals<V>; optional<UpdatePath> path; } Commit; */
struct mls_commit {
        struct mls_proposal_or_ref *proposals;
        size_t n_proposals;
        bool has_path;
        struct mls_update_path path;
};

/* ---- 8.1 GroupContext ---- */

/* struct { ProtocolVersion version = mls10; CipherSuite cipher_suite;
 *          opaque group_id<V>; uint64 epoch; opaque tree_hash<V>;
 *          opaque confirmed_transcript_hash<V>; Extension extensions<V>;
 * } GroupContext;   version other than mls10: MLS_E_WRONG_VERSION. */
struct mls_group_context {
        uint16_t version;
        uint16_t cipher_suite;
        struct mls_bytes group_id;
        uint64_t epoch;
        struct mls_bytes tree_hash;
        struct mls_bytes confirmed_transcript_hash;
        struct mls_extension_list extensions;
};

/* ---- 6 Message framing ---- */

/* struct { SenderType sender_type; select (Sender.sender_type) {
 *     case member: uint32 leaf_index; case external: uint32 sender_index;
 *     case new_member_commit: case new_member_proposal: struct{}; }; } Sender; */
struct mls_sender {
        uint8_t sender_type;
        uint32_t leaf_index;   /* member */
        uint32_t sender_index; /* external */
};

/* struct { opaque group_id<V>; uint64 epoch; Sender sender;
 *          opaque authenticated_data<V>; ContentType content_type;
 *          select (FramedContent.content_type) {
 *              case application: opaque application_data<V>;
 *              case proposal: Proposal proposal; case commit: Commit commit; };
 * } FramedContent; */
struct mls_framed_content {
        struct mls_bytes group_id;
        uint64_t epoch;
        struct mls_sender sender;
        struct mls_bytes authenticated_data;
        uint8_t content_type;
        union {
                struct mls_bytes application_data;
                struct mls_proposal proposal;
                struct mls_commit commit;
        };
};

/* struct { opaque signature<V>; select (FramedContent.content_type) {
 *     case commit: MAC confirmation_tag; case application: case proposal: struct{}; };
 * } FramedContentAuthData;  (decoding needs the content_type) */
struct mls_framed_content_auth_data {
        struct mls_bytes signature;
        struct mls_bytes confirmation_tag; /* commit only */
};

/* struct { WireFormat wire_format; FramedContent content;
 *          FramedContentAuthData auth; } AuthenticatedContent;
 * wire_format must be public_message or private_message
 * (MLS_E_WRONG_WIRE_FORMAT for the other registered values, MLS_E_BAD_ENUM
 * for unregistered ones). */
struct mls_authenticated_content {
        uint16_t wire_format;
        struct mls_framed_content content;
        struct mls_framed_content_auth_data auth;
};

/* struct { FramedContent content; FramedContentAuthData auth;
 *          select (PublicMessage.content.sender.sender_type) {
 *              case member: MAC membership_tag; default: struct{}; };
 * } PublicMessage;   (R-6.2-2) */
struct mls_public_message {
        struct mls_framed_content content;
        struct mls_framed_content_auth_data auth;
        struct mls_bytes membership_tag; /* member senders only */
};

/* struct { opaque group_id<V>; uint64 epoch; ContentType content_type;
 *          opaque authenticated_data<V>; opaque encrypted_sender_data<V>;
 *          opaque ciphertext<V>; } PrivateMessage; */
struct mls_private_message {
        struct mls_bytes group_id;
        uint64_t epoch;
        uint8_t content_type;
        struct mls_bytes authenticated_data;
        struct mls_bytes encrypted_sender_data;
        struct mls_bytes ciphertext;
};

/* struct { uint32 leaf_index; uint32 generation; opaque reuse_guard[4]; } SenderData; */
struct mls_sender_data {
        uint32_t leaf_index;
        uint32_t generation;
        uint8_t reuse_guard[MLS_REUSE_GUARD_LEN];
};

/* struct { select (PrivateMessage.content_type) {
 *              case application: opaque application_data<V>;
 *              case proposal: Proposal proposal; case commit: Commit commit; };
 *          FramedContentAuthData auth; opaque padding[length_of_padding];
 * } PrivateMessageContent;
 * padding_len zero bytes follow auth; a decoder rejects any non-zero
 * padding byte with MLS_E_BAD_PADDING (R-6.3.1-3). */
struct mls_private_message_content {
        uint8_t content_type;
        union {
                struct mls_bytes application_data;
                struct mls_proposal proposal;
                struct mls_commit commit;
        };
        struct mls_framed_content_auth_data auth;
        size_t padding_len;
};

/* struct { opaque group_id<V>; uint64 epoch; ContentType content_type;
 *          opaque authenticated_data<V>; } PrivateContentAAD; */
struct mls_private_content_aad {
        struct mls_bytes group_id;
        uint64_t epoch;
        uint8_t content_type;
        struct mls_bytes authenticated_data;
};

/* struct { opaque group_id<V>; uint64 epoch; ContentType content_type; } SenderDataAAD; */
struct mls_sender_data_aad {
        struct mls_bytes group_id;
        uint64_t epoch;
        uint8_t content_type;
};

/* ---- 12.4.3 Welcome, GroupInfo, GroupSecrets ---- */

/* struct { GroupContext group_context; Extension extensions<V>;
 *          MAC confirmation_tag; uint32 signer; opaque signature<V>; } GroupInfo; */
struct mls_group_info {
        struct mls_group_context group_context;
        struct mls_extension_list extensions;
        struct mls_bytes confirmation_tag;
        uint32_t signer;
        struct mls_bytes signature;
};

/* struct { opaque path_secret<V>; } PathSecret;
 * struct { opaque joiner_secret<V>; optional<PathSecret> path_secret;
 *          PreSharedKeyID psks<V>; } GroupSecrets;
 * path_secret == NULL: absent. psks is an array of n_psks entries. */
struct mls_group_secrets {
        struct mls_secret *joiner_secret;
        struct mls_secret *path_secret;
        struct mls_psk_id *psks;
        size_t n_psks;
};

/* struct { KeyPackageRef new_member; HPKECiphertext encrypted_group_secrets; }
 * EncryptedGroupSecrets; */
struct mls_encrypted_group_secrets {
        struct mls_bytes new_member;
        struct mls_hpke_ciphertext encrypted_group_secrets;
};

/* struct { CipherSuite cipher_suite; EncryptedGroupSecrets secrets<V>;
 *          opaque encrypted_group_info<V>; } Welcome; */
struct mls_welcome {
        uint16_t cipher_suite;
        struct mls_encrypted_group_secrets *secrets;
        size_t n_secrets;
        struct mls_bytes encrypted_group_info;
};

/* ---- MLSMessage ---- */

/* struct { ProtocolVersion version = mls10; WireFormat wire_format;
 *          select (MLSMessage.wire_format) {
 *              case mls_public_message: PublicMessage public_message;
 *              case mls_private_message: PrivateMessage private_message;
 *              case mls_welcome: Welcome welcome;
 *              case mls_group_info: GroupInfo group_info;
 *              case mls_key_package: KeyPackage key_package; };
 * } MLSMessage;
 * version != mls10: MLS_E_WRONG_VERSION; wire_format outside 1..5:
 * MLS_E_BAD_ENUM (R-6-4); an inner KeyPackage whose version differs from
 * the MLSMessage's: MLS_E_WRONG_VERSION (R-10-7). */
struct mls_message {
        uint16_t version;
        uint16_t wire_format;
        union {
                struct mls_public_message public_message;
                struct mls_private_message private_message;
                struct mls_welcome welcome;
                struct mls_group_info group_info;
                struct mls_key_package key_package;
        };
};

/* ---- functions ---- */

/* Context-free structures: decode, encode, clear, from_bytes, to_bytes (the
 * contracts at the top of this file). */

MLS_MUST_CHECK int mls_credential_decode(struct mls_reader *r, struct mls_credential *ret);
MLS_MUST_CHECK int mls_credential_encode(struct mls_writer *w, const struct mls_credential *x);
void mls_credential_clear(struct mls_credential *x);
MLS_MUST_CHECK int mls_credential_from_bytes(const uint8_t *p, size_t len,
                                             struct mls_credential *ret);
MLS_MUST_CHECK int mls_credential_to_bytes(const struct mls_credential *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_capabilities_decode(struct mls_reader *r, struct mls_capabilities *ret);
MLS_MUST_CHECK int mls_capabilities_encode(struct mls_writer *w, const struct mls_capabilities *x);
void mls_capabilities_clear(struct mls_capabilities *x);
MLS_MUST_CHECK int mls_capabilities_from_bytes(const uint8_t *p, size_t len,
                                               struct mls_capabilities *ret);
MLS_MUST_CHECK int mls_capabilities_to_bytes(const struct mls_capabilities *x,
                                             struct mls_bytes *ret);

MLS_MUST_CHECK int mls_lifetime_decode(struct mls_reader *r, struct mls_lifetime *ret);
MLS_MUST_CHECK int mls_lifetime_encode(struct mls_writer *w, const struct mls_lifetime *x);
void mls_lifetime_clear(struct mls_lifetime *x);
MLS_MUST_CHECK int mls_lifetime_from_bytes(const uint8_t *p, size_t len, struct mls_lifetime *ret);
MLS_MUST_CHECK int mls_lifetime_to_bytes(const struct mls_lifetime *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_extension_decode(struct mls_reader *r, struct mls_extension *ret);
MLS_MUST_CHECK int mls_extension_encode(struct mls_writer *w, const struct mls_extension *x);
void mls_extension_clear(struct mls_extension *x);
MLS_MUST_CHECK int mls_extension_from_bytes(const uint8_t *p, size_t len,
                                            struct mls_extension *ret);
MLS_MUST_CHECK int mls_extension_to_bytes(const struct mls_extension *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_extension_list_decode(struct mls_reader *r, struct mls_extension_list *ret);
MLS_MUST_CHECK int mls_extension_list_encode(struct mls_writer *w,
                                             const struct mls_extension_list *x);
void mls_extension_list_clear(struct mls_extension_list *x);
MLS_MUST_CHECK int mls_extension_list_from_bytes(const uint8_t *p, size_t len,
                                                 struct mls_extension_list *ret);
MLS_MUST_CHECK int mls_extension_list_to_bytes(const struct mls_extension_list *x,
                                               struct mls_bytes *ret);

MLS_MUST_CHECK int mls_leaf_node_decode(struct mls_reader *r, struct mls_leaf_node *ret);
MLS_MUST_CHECK int mls_leaf_node_encode(struct mls_writer *w, const struct mls_leaf_node *x);
void mls_leaf_node_clear(struct mls_leaf_node *x);
MLS_MUST_CHECK int mls_leaf_node_from_bytes(const uint8_t *p, size_t len,
                                            struct mls_leaf_node *ret);
MLS_MUST_CHECK int mls_leaf_node_to_bytes(const struct mls_leaf_node *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_parent_node_decode(struct mls_reader *r, struct mls_parent_node *ret);
MLS_MUST_CHECK int mls_parent_node_encode(struct mls_writer *w, const struct mls_parent_node *x);
void mls_parent_node_clear(struct mls_parent_node *x);
MLS_MUST_CHECK int mls_parent_node_from_bytes(const uint8_t *p, size_t len,
                                              struct mls_parent_node *ret);
MLS_MUST_CHECK int mls_parent_node_to_bytes(const struct mls_parent_node *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_node_decode(struct mls_reader *r, struct mls_node *ret);
MLS_MUST_CHECK int mls_node_encode(struct mls_writer *w, const struct mls_node *x);
void mls_node_clear(struct mls_node *x);
MLS_MUST_CHECK int mls_node_from_bytes(const uint8_t *p, size_t len, struct mls_node *ret);
MLS_MUST_CHECK int mls_node_to_bytes(const struct mls_node *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_ratchet_tree_decode(struct mls_reader *r, struct mls_ratchet_tree *ret);
MLS_MUST_CHECK int mls_ratchet_tree_encode(struct mls_writer *w, const struct mls_ratchet_tree *x);
void mls_ratchet_tree_clear(struct mls_ratchet_tree *x);
MLS_MUST_CHECK int mls_ratchet_tree_from_bytes(const uint8_t *p, size_t len,
                                               struct mls_ratchet_tree *ret);
MLS_MUST_CHECK int mls_ratchet_tree_to_bytes(const struct mls_ratchet_tree *x,
                                             struct mls_bytes *ret);

MLS_MUST_CHECK int mls_key_package_decode(struct mls_reader *r, struct mls_key_package *ret);
MLS_MUST_CHECK int mls_key_package_encode(struct mls_writer *w, const struct mls_key_package *x);
void mls_key_package_clear(struct mls_key_package *x);
MLS_MUST_CHECK int mls_key_package_from_bytes(const uint8_t *p, size_t len,
                                              struct mls_key_package *ret);
MLS_MUST_CHECK int mls_key_package_to_bytes(const struct mls_key_package *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_required_capabilities_decode(struct mls_reader *r,
                                                    struct mls_required_capabilities *ret);
MLS_MUST_CHECK int mls_required_capabilities_encode(struct mls_writer *w,
                                                    const struct mls_required_capabilities *x);
void mls_required_capabilities_clear(struct mls_required_capabilities *x);
MLS_MUST_CHECK int mls_required_capabilities_from_bytes(const uint8_t *p, size_t len,
                                                        struct mls_required_capabilities *ret);
MLS_MUST_CHECK int mls_required_capabilities_to_bytes(const struct mls_required_capabilities *x,
                                                      struct mls_bytes *ret);

MLS_MUST_CHECK int mls_external_sender_decode(struct mls_reader *r,
                                              struct mls_external_sender *ret);
MLS_MUST_CHECK int mls_external_sender_encode(struct mls_writer *w,
                                              const struct mls_external_sender *x);
void mls_external_sender_clear(struct mls_external_sender *x);
MLS_MUST_CHECK int mls_external_sender_from_bytes(const uint8_t *p, size_t len,
                                                  struct mls_external_sender *ret);
MLS_MUST_CHECK int mls_external_sender_to_bytes(const struct mls_external_sender *x,
                                                struct mls_bytes *ret);

MLS_MUST_CHECK int mls_external_senders_decode(struct mls_reader *r,
                                               struct mls_external_senders *ret);
MLS_MUST_CHECK int mls_external_senders_encode(struct mls_writer *w,
                                               const struct mls_external_senders *x);
void mls_external_senders_clear(struct mls_external_senders *x);
MLS_MUST_CHECK int mls_external_senders_from_bytes(const uint8_t *p, size_t len,
                                                   struct mls_external_senders *ret);
MLS_MUST_CHECK int mls_external_senders_to_bytes(const struct mls_external_senders *x,
                                                 struct mls_bytes *ret);

MLS_MUST_CHECK int mls_external_pub_decode(struct mls_reader *r, struct mls_external_pub *ret);
MLS_MUST_CHECK int mls_external_pub_encode(struct mls_writer *w, const struct mls_external_pub *x);
void mls_external_pub_clear(struct mls_external_pub *x);
MLS_MUST_CHECK int mls_external_pub_from_bytes(const uint8_t *p, size_t len,
                                               struct mls_external_pub *ret);
MLS_MUST_CHECK int mls_external_pub_to_bytes(const struct mls_external_pub *x,
                                             struct mls_bytes *ret);

MLS_MUST_CHECK int mls_application_id_decode(struct mls_reader *r, struct mls_application_id *ret);
MLS_MUST_CHECK int mls_application_id_encode(struct mls_writer *w,
                                             const struct mls_application_id *x);
void mls_application_id_clear(struct mls_application_id *x);
MLS_MUST_CHECK int mls_application_id_from_bytes(const uint8_t *p, size_t len,
                                                 struct mls_application_id *ret);
MLS_MUST_CHECK int mls_application_id_to_bytes(const struct mls_application_id *x,
                                               struct mls_bytes *ret);

MLS_MUST_CHECK int mls_hpke_ciphertext_decode(struct mls_reader *r,
                                              struct mls_hpke_ciphertext *ret);
MLS_MUST_CHECK int mls_hpke_ciphertext_encode(struct mls_writer *w,
                                              const struct mls_hpke_ciphertext *x);
void mls_hpke_ciphertext_clear(struct mls_hpke_ciphertext *x);
MLS_MUST_CHECK int mls_hpke_ciphertext_from_bytes(const uint8_t *p, size_t len,
                                                  struct mls_hpke_ciphertext *ret);
MLS_MUST_CHECK int mls_hpke_ciphertext_to_bytes(const struct mls_hpke_ciphertext *x,
                                                struct mls_bytes *ret);

MLS_MUST_CHECK int mls_update_path_node_decode(struct mls_reader *r,
                                               struct mls_update_path_node *ret);
MLS_MUST_CHECK int mls_update_path_node_encode(struct mls_writer *w,
                                               const struct mls_update_path_node *x);
void mls_update_path_node_clear(struct mls_update_path_node *x);
MLS_MUST_CHECK int mls_update_path_node_from_bytes(const uint8_t *p, size_t len,
                                                   struct mls_update_path_node *ret);
MLS_MUST_CHECK int mls_update_path_node_to_bytes(const struct mls_update_path_node *x,
                                                 struct mls_bytes *ret);

MLS_MUST_CHECK int mls_update_path_decode(struct mls_reader *r, struct mls_update_path *ret);
MLS_MUST_CHECK int mls_update_path_encode(struct mls_writer *w, const struct mls_update_path *x);
void mls_update_path_clear(struct mls_update_path *x);
MLS_MUST_CHECK int mls_update_path_from_bytes(const uint8_t *p, size_t len,
                                              struct mls_update_path *ret);
MLS_MUST_CHECK int mls_update_path_to_bytes(const struct mls_update_path *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_add_decode(struct mls_reader *r, struct mls_add *ret);
MLS_MUST_CHECK int mls_add_encode(struct mls_writer *w, const struct mls_add *x);
void mls_add_clear(struct mls_add *x);
MLS_MUST_CHECK int mls_add_from_bytes(const uint8_t *p, size_t len, struct mls_add *ret);
MLS_MUST_CHECK int mls_add_to_bytes(const struct mls_add *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_update_decode(struct mls_reader *r, struct mls_update *ret);
MLS_MUST_CHECK int mls_update_encode(struct mls_writer *w, const struct mls_update *x);
void mls_update_clear(struct mls_update *x);
MLS_MUST_CHECK int mls_update_from_bytes(const uint8_t *p, size_t len, struct mls_update *ret);
MLS_MUST_CHECK int mls_update_to_bytes(const struct mls_update *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_remove_decode(struct mls_reader *r, struct mls_remove *ret);
MLS_MUST_CHECK int mls_remove_encode(struct mls_writer *w, const struct mls_remove *x);
void mls_remove_clear(struct mls_remove *x);
MLS_MUST_CHECK int mls_remove_from_bytes(const uint8_t *p, size_t len, struct mls_remove *ret);
MLS_MUST_CHECK int mls_remove_to_bytes(const struct mls_remove *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_pre_shared_key_decode(struct mls_reader *r, struct mls_pre_shared_key *ret);
MLS_MUST_CHECK int mls_pre_shared_key_encode(struct mls_writer *w,
                                             const struct mls_pre_shared_key *x);
void mls_pre_shared_key_clear(struct mls_pre_shared_key *x);
MLS_MUST_CHECK int mls_pre_shared_key_from_bytes(const uint8_t *p, size_t len,
                                                 struct mls_pre_shared_key *ret);
MLS_MUST_CHECK int mls_pre_shared_key_to_bytes(const struct mls_pre_shared_key *x,
                                               struct mls_bytes *ret);

MLS_MUST_CHECK int mls_reinit_decode(struct mls_reader *r, struct mls_reinit *ret);
MLS_MUST_CHECK int mls_reinit_encode(struct mls_writer *w, const struct mls_reinit *x);
void mls_reinit_clear(struct mls_reinit *x);
MLS_MUST_CHECK int mls_reinit_from_bytes(const uint8_t *p, size_t len, struct mls_reinit *ret);
MLS_MUST_CHECK int mls_reinit_to_bytes(const struct mls_reinit *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_external_init_decode(struct mls_reader *r, struct mls_external_init *ret);
MLS_MUST_CHECK int mls_external_init_encode(struct mls_writer *w,
                                            const struct mls_external_init *x);
void mls_external_init_clear(struct mls_external_init *x);
MLS_MUST_CHECK int mls_external_init_from_bytes(const uint8_t *p, size_t len,
                                                struct mls_external_init *ret);
MLS_MUST_CHECK int mls_external_init_to_bytes(const struct mls_external_init *x,
                                              struct mls_bytes *ret);

MLS_MUST_CHECK int mls_group_context_extensions_decode(struct mls_reader *r,
                                                       struct mls_group_context_extensions *ret);
MLS_MUST_CHECK int
mls_group_context_extensions_encode(struct mls_writer *w,
                                    const struct mls_group_context_extensions *x);
void mls_group_context_extensions_clear(struct mls_group_context_extensions *x);
MLS_MUST_CHECK int
mls_group_context_extensions_from_bytes(const uint8_t *p, size_t len,
                                        struct mls_group_context_extensions *ret);
MLS_MUST_CHECK int
mls_group_context_extensions_to_bytes(const struct mls_group_context_extensions *x,
                                      struct mls_bytes *ret);

MLS_MUST_CHECK int mls_proposal_decode(struct mls_reader *r, struct mls_proposal *ret);
MLS_MUST_CHECK int mls_proposal_encode(struct mls_writer *w, const struct mls_proposal *x);
void mls_proposal_clear(struct mls_proposal *x);
MLS_MUST_CHECK int mls_proposal_from_bytes(const uint8_t *p, size_t len, struct mls_proposal *ret);
MLS_MUST_CHECK int mls_proposal_to_bytes(const struct mls_proposal *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_proposal_or_ref_decode(struct mls_reader *r,
                                              struct mls_proposal_or_ref *ret);
MLS_MUST_CHECK int mls_proposal_or_ref_encode(struct mls_writer *w,
                                              const struct mls_proposal_or_ref *x);
void mls_proposal_or_ref_clear(struct mls_proposal_or_ref *x);
MLS_MUST_CHECK int mls_proposal_or_ref_from_bytes(const uint8_t *p, size_t len,
                                                  struct mls_proposal_or_ref *ret);
MLS_MUST_CHECK int mls_proposal_or_ref_to_bytes(const struct mls_proposal_or_ref *x,
                                                struct mls_bytes *ret);

MLS_MUST_CHECK int mls_commit_decode(struct mls_reader *r, struct mls_commit *ret);
MLS_MUST_CHECK int mls_commit_encode(struct mls_writer *w, const struct mls_commit *x);
void mls_commit_clear(struct mls_commit *x);
MLS_MUST_CHECK int mls_commit_from_bytes(const uint8_t *p, size_t len, struct mls_commit *ret);
MLS_MUST_CHECK int mls_commit_to_bytes(const struct mls_commit *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_group_context_decode(struct mls_reader *r, struct mls_group_context *ret);
MLS_MUST_CHECK int mls_group_context_encode(struct mls_writer *w,
                                            const struct mls_group_context *x);
void mls_group_context_clear(struct mls_group_context *x);
MLS_MUST_CHECK int mls_group_context_from_bytes(const uint8_t *p, size_t len,
                                                struct mls_group_context *ret);
MLS_MUST_CHECK int mls_group_context_to_bytes(const struct mls_group_context *x,
                                              struct mls_bytes *ret);

MLS_MUST_CHECK int mls_sender_decode(struct mls_reader *r, struct mls_sender *ret);
MLS_MUST_CHECK int mls_sender_encode(struct mls_writer *w, const struct mls_sender *x);
void mls_sender_clear(struct mls_sender *x);
MLS_MUST_CHECK int mls_sender_from_bytes(const uint8_t *p, size_t len, struct mls_sender *ret);
MLS_MUST_CHECK int mls_sender_to_bytes(const struct mls_sender *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_framed_content_decode(struct mls_reader *r, struct mls_framed_content *ret);
MLS_MUST_CHECK int mls_framed_content_encode(struct mls_writer *w,
                                             const struct mls_framed_content *x);
void mls_framed_content_clear(struct mls_framed_content *x);
MLS_MUST_CHECK int mls_framed_content_from_bytes(const uint8_t *p, size_t len,
                                                 struct mls_framed_content *ret);
MLS_MUST_CHECK int mls_framed_content_to_bytes(const struct mls_framed_content *x,
                                               struct mls_bytes *ret);

MLS_MUST_CHECK int mls_authenticated_content_decode(struct mls_reader *r,
                                                    struct mls_authenticated_content *ret);
MLS_MUST_CHECK int mls_authenticated_content_encode(struct mls_writer *w,
                                                    const struct mls_authenticated_content *x);
void mls_authenticated_content_clear(struct mls_authenticated_content *x);
MLS_MUST_CHECK int mls_authenticated_content_from_bytes(const uint8_t *p, size_t len,
                                                        struct mls_authenticated_content *ret);
MLS_MUST_CHECK int mls_authenticated_content_to_bytes(const struct mls_authenticated_content *x,
                                                      struct mls_bytes *ret);

MLS_MUST_CHECK int mls_public_message_decode(struct mls_reader *r, struct mls_public_message *ret);
MLS_MUST_CHECK int mls_public_message_encode(struct mls_writer *w,
                                             const struct mls_public_message *x);
void mls_public_message_clear(struct mls_public_message *x);
MLS_MUST_CHECK int mls_public_message_from_bytes(const uint8_t *p, size_t len,
                                                 struct mls_public_message *ret);
MLS_MUST_CHECK int mls_public_message_to_bytes(const struct mls_public_message *x,
                                               struct mls_bytes *ret);

MLS_MUST_CHECK int mls_private_message_decode(struct mls_reader *r,
                                              struct mls_private_message *ret);
MLS_MUST_CHECK int mls_private_message_encode(struct mls_writer *w,
                                              const struct mls_private_message *x);
void mls_private_message_clear(struct mls_private_message *x);
MLS_MUST_CHECK int mls_private_message_from_bytes(const uint8_t *p, size_t len,
                                                  struct mls_private_message *ret);
MLS_MUST_CHECK int mls_private_message_to_bytes(const struct mls_private_message *x,
                                                struct mls_bytes *ret);

MLS_MUST_CHECK int mls_sender_data_decode(struct mls_reader *r, struct mls_sender_data *ret);
MLS_MUST_CHECK int mls_sender_data_encode(struct mls_writer *w, const struct mls_sender_data *x);
void mls_sender_data_clear(struct mls_sender_data *x);
MLS_MUST_CHECK int mls_sender_data_from_bytes(const uint8_t *p, size_t len,
                                              struct mls_sender_data *ret);
MLS_MUST_CHECK int mls_sender_data_to_bytes(const struct mls_sender_data *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_private_content_aad_decode(struct mls_reader *r,
                                                  struct mls_private_content_aad *ret);
MLS_MUST_CHECK int mls_private_content_aad_encode(struct mls_writer *w,
                                                  const struct mls_private_content_aad *x);
void mls_private_content_aad_clear(struct mls_private_content_aad *x);
MLS_MUST_CHECK int mls_private_content_aad_from_bytes(const uint8_t *p, size_t len,
                                                      struct mls_private_content_aad *ret);
MLS_MUST_CHECK int mls_private_content_aad_to_bytes(const struct mls_private_content_aad *x,
                                                    struct mls_bytes *ret);

MLS_MUST_CHECK int mls_sender_data_aad_decode(struct mls_reader *r,
                                              struct mls_sender_data_aad *ret);
MLS_MUST_CHECK int mls_sender_data_aad_encode(struct mls_writer *w,
                                              const struct mls_sender_data_aad *x);
void mls_sender_data_aad_clear(struct mls_sender_data_aad *x);
MLS_MUST_CHECK int mls_sender_data_aad_from_bytes(const uint8_t *p, size_t len,
                                                  struct mls_sender_data_aad *ret);
MLS_MUST_CHECK int mls_sender_data_aad_to_bytes(const struct mls_sender_data_aad *x,
                                                struct mls_bytes *ret);

MLS_MUST_CHECK int mls_group_info_decode(struct mls_reader *r, struct mls_group_info *ret);
MLS_MUST_CHECK int mls_group_info_encode(struct mls_writer *w, const struct mls_group_info *x);
void mls_group_info_clear(struct mls_group_info *x);
MLS_MUST_CHECK int mls_group_info_from_bytes(const uint8_t *p, size_t len,
                                             struct mls_group_info *ret);
MLS_MUST_CHECK int mls_group_info_to_bytes(const struct mls_group_info *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_encrypted_group_secrets_decode(struct mls_reader *r,
                                                      struct mls_encrypted_group_secrets *ret);
MLS_MUST_CHECK int mls_encrypted_group_secrets_encode(struct mls_writer *w,
                                                      const struct mls_encrypted_group_secrets *x);
void mls_encrypted_group_secrets_clear(struct mls_encrypted_group_secrets *x);
MLS_MUST_CHECK int mls_encrypted_group_secrets_from_bytes(const uint8_t *p, size_t len,
                                                          struct mls_encrypted_group_secrets *ret);
MLS_MUST_CHECK int mls_encrypted_group_secrets_to_bytes(const struct mls_encrypted_group_secrets *x,
                                                        struct mls_bytes *ret);

MLS_MUST_CHECK int mls_welcome_decode(struct mls_reader *r, struct mls_welcome *ret);
MLS_MUST_CHECK int mls_welcome_encode(struct mls_writer *w, const struct mls_welcome *x);
void mls_welcome_clear(struct mls_welcome *x);
MLS_MUST_CHECK int mls_welcome_from_bytes(const uint8_t *p, size_t len, struct mls_welcome *ret);
MLS_MUST_CHECK int mls_welcome_to_bytes(const struct mls_welcome *x, struct mls_bytes *ret);

MLS_MUST_CHECK int mls_message_decode(struct mls_reader *r, struct mls_message *ret);
MLS_MUST_CHECK int mls_message_encode(struct mls_writer *w, const struct mls_message *x);
void mls_message_clear(struct mls_message *x);
MLS_MUST_CHECK int mls_message_from_bytes(const uint8_t *p, size_t len, struct mls_message *ret);
MLS_MUST_CHECK int mls_message_to_bytes(const struct mls_message *x, struct mls_bytes *ret);

/* FramedContentAuthData: its shape depends on the FramedContent's
 * content_type (confirmation_tag for commit only). An unknown content_type
 * is MLS_E_BAD_ENUM. */
MLS_MUST_CHECK int mls_framed_content_auth_data_decode(struct mls_reader *r, uint8_t content_type,
                                                       struct mls_framed_content_auth_data *ret);
MLS_MUST_CHECK int
mls_framed_content_auth_data_encode(struct mls_writer *w, uint8_t content_type,
                                    const struct mls_framed_content_auth_data *x);
void mls_framed_content_auth_data_clear(struct mls_framed_content_auth_data *x);

/* PrivateMessageContent: content_type comes from the PrivateMessage. The
 * decoder reads the whole plaintext (padding is "any remaining octets")
 * and fails with MLS_E_BAD_PADDING if a padding byte is not zero
 * (R-6.3.1-1, R-6.3.1-3). The encoder writes padding_len zero bytes
 * (R-6.3.1-2). Write it with a secure writer when the content is secret. */
MLS_MUST_CHECK int mls_private_message_content_decode(struct mls_reader *r, uint8_t content_type,
                                                      struct mls_private_message_content *ret);
MLS_MUST_CHECK int mls_private_message_content_encode(struct mls_writer *w,
                                                      const struct mls_private_message_content *x);
void mls_private_message_content_clear(struct mls_private_message_content *x);

/* GroupSecrets: contains secrets. Decode from the decrypted plaintext
 * (whole buffer: trailing bytes are MLS_E_TRAILING); encode with a secure
 * writer (mls_writer_init_secure). _to_secret hands out the encoding in
 * guarded memory. */
MLS_MUST_CHECK int mls_group_secrets_decode(struct mls_reader *r, struct mls_group_secrets *ret);
MLS_MUST_CHECK int mls_group_secrets_encode(struct mls_writer *w,
                                            const struct mls_group_secrets *x);
void mls_group_secrets_clear(struct mls_group_secrets *x);
MLS_MUST_CHECK int mls_group_secrets_from_bytes(const uint8_t *p, size_t len,
                                                struct mls_group_secrets *ret);
MLS_MUST_CHECK int mls_group_secrets_to_secret(const struct mls_group_secrets *x,
                                               struct mls_secret **ret);

/* ---- to-be-signed / to-be-MACed encodings (bytes only; no crypto) ---- */

/* LeafNodeTBS (RFC 9420 section 7.2, R-7.2-10): the LeafNode without its
 * signature, followed for update and commit sources by group_id<V> and
 * u32 leaf_index. group_id may be NULL for key_package leaves; it is
 * required otherwise (MLS_E_INVALID_ARGUMENT). */
MLS_MUST_CHECK int mls_leaf_node_tbs_encode(struct mls_writer *w, const struct mls_leaf_node *x,
                                            const struct mls_bytes *group_id, uint32_t leaf_index);

/* KeyPackageTBS (section 10): every KeyPackage field except signature. */
MLS_MUST_CHECK int mls_key_package_tbs_encode(struct mls_writer *w,
                                              const struct mls_key_package *x);

/* GroupInfoTBS (section 12.4.3, R-12.4.3-7): every field before signature. */
MLS_MUST_CHECK int mls_group_info_tbs_encode(struct mls_writer *w, const struct mls_group_info *x);

/*
 * FramedContentTBS (section 6.1, R-6.1-1):
 *   u16 version (mls10) || u16 wire_format || FramedContent
 *   || GroupContext   (member and new_member_commit senders only)
 * group_context is the serialized GroupContext (mls_group_context_to_bytes);
 * it is required for those two sender types (MLS_E_INVALID_ARGUMENT if
 * NULL) and ignored for the others.
 */
MLS_MUST_CHECK int mls_framed_content_tbs_encode(struct mls_writer *w, uint16_t wire_format,
                                                 const struct mls_framed_content *content,
                                                 const struct mls_bytes *group_context);

/* AuthenticatedContentTBM (section 6.2, R-6.2-1): FramedContentTBS of
 * (ac->wire_format, ac->content) followed by ac->auth; the membership_tag
 * is MAC(membership_key, these bytes). */
MLS_MUST_CHECK int mls_authenticated_content_tbm_encode(struct mls_writer *w,
                                                        const struct mls_authenticated_content *ac,
                                                        const struct mls_bytes *group_context);

/* ---- extension lists and typed extension bodies ---- */

/* The extension of type t in l, or NULL. */
const struct mls_extension *mls_extension_list_find(const struct mls_extension_list *l,
                                                    uint16_t t);
/* Appends a copy of (type, data) to l; MLS_E_DUPLICATE_EXTENSION if l already
 * has that type (R-13.4-5). */
MLS_MUST_CHECK int mls_extension_list_add(struct mls_extension_list *l, uint16_t type,
                                          const uint8_t *data, size_t len);

/* Parses the body of an extension of the matching type (whole
 * extension_data; MLS_E_TRAILING for leftovers). MLS_E_INVALID_ARGUMENT if
 * the extension's type is not the one asked for. */
MLS_MUST_CHECK int mls_extension_get_ratchet_tree(const struct mls_extension *e,
                                                  struct mls_ratchet_tree *ret);
MLS_MUST_CHECK int mls_extension_get_required_capabilities(const struct mls_extension *e,
                                                           struct mls_required_capabilities *ret);
MLS_MUST_CHECK int mls_extension_get_external_pub(const struct mls_extension *e,
                                                  struct mls_external_pub *ret);
MLS_MUST_CHECK int mls_extension_get_external_senders(const struct mls_extension *e,
                                                      struct mls_external_senders *ret);
MLS_MUST_CHECK int mls_extension_get_application_id(const struct mls_extension *e,
                                                    struct mls_application_id *ret);

/* ---- semantic helpers that need nothing but the structure ---- */

/* Sender/content combinations of RFC 9420 section 6.1 and 12.1.8:
 * external senders send only proposals of type add, remove, psk, reinit or
 * group_context_extensions (R-6.1-4, R-12.1.8-4); new_member_commit sends
 * only commits (R-6.1-6); new_member_proposal only Add proposals (R-6.1-8).
 * 0 or MLS_E_INVALID_SENDER. */
MLS_MUST_CHECK int mls_framed_content_check_sender(const struct mls_framed_content *fc);

#endif
