/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9420 wire structures, part 1: code-point lists, credentials,
 * capabilities, lifetimes, extensions and their typed bodies, leaf and
 * parent nodes, the ratchet tree, KeyPackage and GroupContext.
 * Contracts: mls/messages.h.
 */
#include "mls/messages-internal.h"

/* ---- code-point lists ---- */

/* ProtocolVersion versions<V>, CipherSuite cipher_suites<V>,
 * ExtensionType extensions<V>, ... : vectors of uint16. Unknown values are
 * kept (R-7.2-5, R-13.4-3, R-13.5-6). */
int
mls_u16_list_decode_(struct mls_reader *r, struct mls_u16_list *ret)
{
        _mls_cleanup_(mls_u16_list_clear_) struct mls_u16_list t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                uint16_t x;

                MLS_TRY(mls_reader_u16(&v, &x));
                MLS_TRY(MLS_ARR_TAKE(t.v, t.n, x));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_u16_list_encode_(struct mls_writer *w, const struct mls_u16_list *l)
{
        size_t m;

        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < l->n; i++)
                MLS_TRY(mls_writer_u16(w, l->v[i]));
        return mls_writer_vec_end(w, m);
}

void
mls_u16_list_clear_(struct mls_u16_list *l)
{
        if (!l)
                return;
        free(l->v);
        *l = (struct mls_u16_list){ 0 };
}

static void
u32_list_clear(struct mls_u32_list *l)
{
        free(l->v);
        *l = (struct mls_u32_list){ 0 };
}

/* ---- 5.3 Credential ---- */

/*
 * RFC 9420 section 5.3:
 *   struct { opaque cert_data<V>; } Certificate;
 *   struct {
 *       CredentialType credential_type;
 *       select (Credential.credential_type) {
 *           case basic: opaque identity<V>;
 *           case x509:  Certificate certificates<V>;
 *       };
 *   } Credential;
 * The select has no default arm: another credential_type cannot be parsed
 * (MLS_E_BAD_ENUM).
 */
int
mls_credential_decode(struct mls_reader *r, struct mls_credential *ret)
{
        _mls_cleanup_(mls_credential_clear) struct mls_credential t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_u16(r, &t.credential_type));
        switch (t.credential_type) {
        case MLS_CREDENTIAL_BASIC:
                MLS_TRY(mls_reader_opaque(r, &t.identity));
                break;
        case MLS_CREDENTIAL_X509:
                MLS_TRY(mls_reader_vec(r, &v));
                while (!mls_reader_empty(&v)) {
                        _mls_cleanup_(mls_bytes_clear) struct mls_bytes cert = { 0 };

                        MLS_TRY(mls_reader_opaque(&v, &cert));
                        MLS_TRY(MLS_ARR_TAKE(t.certificates, t.n_certificates, cert));
                }
                MLS_TRY(mls_reader_done(&v));
                break;
        default:
                return MLS_E_BAD_ENUM;
        }
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_credential_encode(struct mls_writer *w, const struct mls_credential *x)
{
        size_t m;

        MLS_TRY(mls_writer_u16(w, x->credential_type));
        switch (x->credential_type) {
        case MLS_CREDENTIAL_BASIC:
                return mls_writer_bytes_(w, &x->identity);
        case MLS_CREDENTIAL_X509:
                MLS_TRY(mls_writer_vec_begin(w, &m));
                for (size_t i = 0; i < x->n_certificates; i++)
                        MLS_TRY(mls_writer_bytes_(w, &x->certificates[i]));
                return mls_writer_vec_end(w, m);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

void
mls_credential_clear(struct mls_credential *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->identity);
        for (size_t i = 0; i < x->n_certificates; i++)
                mls_bytes_clear(&x->certificates[i]);
        free(x->certificates);
        *x = (struct mls_credential){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(credential)

/* ---- 7.2 Capabilities, Lifetime ---- */

/*
 * RFC 9420 section 7.2:
 *   struct {
 *       ProtocolVersion versions<V>;
 *       CipherSuite cipher_suites<V>;
 *       ExtensionType extensions<V>;
 *       ProposalType proposals<V>;
 *       CredentialType credentials<V>;
 *   } Capabilities;
 * R-7.2-5: unknown values in these lists are kept, not rejected.
 */
int
mls_capabilities_decode(struct mls_reader *r, struct mls_capabilities *ret)
{
        _mls_cleanup_(mls_capabilities_clear) struct mls_capabilities t = { 0 };

        MLS_TRY(mls_u16_list_decode_(r, &t.versions));
        MLS_TRY(mls_u16_list_decode_(r, &t.cipher_suites));
        MLS_TRY(mls_u16_list_decode_(r, &t.extensions));
        MLS_TRY(mls_u16_list_decode_(r, &t.proposals));
        MLS_TRY(mls_u16_list_decode_(r, &t.credentials));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_capabilities_encode(struct mls_writer *w, const struct mls_capabilities *x)
{
        MLS_TRY(mls_u16_list_encode_(w, &x->versions));
        MLS_TRY(mls_u16_list_encode_(w, &x->cipher_suites));
        MLS_TRY(mls_u16_list_encode_(w, &x->extensions));
        MLS_TRY(mls_u16_list_encode_(w, &x->proposals));
        return mls_u16_list_encode_(w, &x->credentials);
}

void
mls_capabilities_clear(struct mls_capabilities *x)
{
        if (!x)
                return;
        mls_u16_list_clear_(&x->versions);
        mls_u16_list_clear_(&x->cipher_suites);
        mls_u16_list_clear_(&x->extensions);
        mls_u16_list_clear_(&x->proposals);
        mls_u16_list_clear_(&x->credentials);
}

MLS_MESSAGES_DEFINE_BYTES_(capabilities)

/* RFC 9420 section 7.2: struct { uint64 not_before; uint64 not_after; } Lifetime; */
int
mls_lifetime_decode(struct mls_reader *r, struct mls_lifetime *ret)
{
        struct mls_lifetime t;

        MLS_TRY(mls_reader_u64(r, &t.not_before));
        MLS_TRY(mls_reader_u64(r, &t.not_after));
        *ret = t;
        return 0;
}

int
mls_lifetime_encode(struct mls_writer *w, const struct mls_lifetime *x)
{
        MLS_TRY(mls_writer_u64(w, x->not_before));
        return mls_writer_u64(w, x->not_after);
}

void
mls_lifetime_clear(struct mls_lifetime *x)
{
        if (x)
                *x = (struct mls_lifetime){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(lifetime)

/* ---- 7.2 / 13.4 Extensions ---- */

/* RFC 9420 section 7.2:
 *   struct { ExtensionType extension_type; opaque extension_data<V>; } Extension; */
int
mls_extension_decode(struct mls_reader *r, struct mls_extension *ret)
{
        _mls_cleanup_(mls_extension_clear) struct mls_extension t = { 0 };

        MLS_TRY(mls_reader_u16(r, &t.extension_type));
        MLS_TRY(mls_reader_opaque(r, &t.extension_data));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_extension_encode(struct mls_writer *w, const struct mls_extension *x)
{
        MLS_TRY(mls_writer_u16(w, x->extension_type));
        return mls_writer_bytes_(w, &x->extension_data);
}

void
mls_extension_clear(struct mls_extension *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->extension_data);
        x->extension_type = 0;
}

MLS_MESSAGES_DEFINE_BYTES_(extension)

/* A set of the 65536 extension types, for duplicate detection in linear
 * time (an extension list may hold many thousands of entries). */
struct ext_seen {
        uint64_t bits[65536 / 64];
};

static bool
ext_seen_add(struct ext_seen *s, uint16_t t)
{
        uint64_t bit = (uint64_t)1 << (t % 64);

        if (s->bits[t / 64] & bit)
                return false;
        s->bits[t / 64] |= bit;
        return true;
}

/*
 * Extension extensions<V>;  (LeafNode, KeyPackage, GroupContext, GroupInfo,
 * ReInit, GroupContextExtensions)
 * R-13.4-5: "There MUST NOT be more than one extension of any given type"
 * in a list; a list that has two is rejected on receipt.
 * R-13.4-3, R-13.4-4, R-12.4.3-2: unknown extension types are kept (and
 * ignored by the layers above), not rejected.
 */
int
mls_extension_list_decode(struct mls_reader *r, struct mls_extension_list *ret)
{
        _mls_cleanup_(mls_extension_list_clear) struct mls_extension_list t = { 0 };
        struct ext_seen seen = { { 0 } };
        struct mls_reader v;

        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_cleanup_(mls_extension_clear) struct mls_extension e = { 0 };

                MLS_TRY(mls_extension_decode(&v, &e));
                /* R-13.4-5: no extension type twice in one list. */
                if (!ext_seen_add(&seen, e.extension_type))
                        return MLS_E_DUPLICATE_EXTENSION;
                MLS_TRY(MLS_ARR_TAKE(t.v, t.n, e));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_extension_list_encode(struct mls_writer *w, const struct mls_extension_list *x)
{
        struct ext_seen seen = { { 0 } };
        size_t m;

        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n; i++) {
                /* R-13.4-5: never emit a list with a type twice. */
                if (!ext_seen_add(&seen, x->v[i].extension_type))
                        return MLS_E_DUPLICATE_EXTENSION;
                MLS_TRY(mls_extension_encode(w, &x->v[i]));
        }
        return mls_writer_vec_end(w, m);
}

void
mls_extension_list_clear(struct mls_extension_list *x)
{
        if (!x)
                return;
        for (size_t i = 0; i < x->n; i++)
                mls_extension_clear(&x->v[i]);
        free(x->v);
        *x = (struct mls_extension_list){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(extension_list)

const struct mls_extension *
mls_extension_list_find(const struct mls_extension_list *l, uint16_t t)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].extension_type == t)
                        return &l->v[i];
        return NULL;
}

int
mls_extension_list_add(struct mls_extension_list *l, uint16_t type, const uint8_t *data,
                       size_t len)
{
        _mls_cleanup_(mls_extension_clear) struct mls_extension e = { 0 };

        /* R-13.4-5 */
        if (mls_extension_list_find(l, type))
                return MLS_E_DUPLICATE_EXTENSION;
        e.extension_type = type;
        MLS_TRY(mls_bytes_copy(&e.extension_data, data, len));
        return MLS_ARR_TAKE(l->v, l->n, e);
}

/* ---- typed extension bodies ---- */

/* RFC 9420 section 5.3.3: opaque application_id<V>; */
int
mls_application_id_decode(struct mls_reader *r, struct mls_application_id *ret)
{
        struct mls_application_id t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.application_id));
        *ret = t;
        return 0;
}

int
mls_application_id_encode(struct mls_writer *w, const struct mls_application_id *x)
{
        return mls_writer_bytes_(w, &x->application_id);
}

void
mls_application_id_clear(struct mls_application_id *x)
{
        if (x)
                mls_bytes_clear(&x->application_id);
}

MLS_MESSAGES_DEFINE_BYTES_(application_id)

/* RFC 9420 section 11.1:
 *   struct {
 *       ExtensionType extension_types<V>;
 *       ProposalType proposal_types<V>;
 *       CredentialType credential_types<V>;
 *   } RequiredCapabilities; */
int
mls_required_capabilities_decode(struct mls_reader *r, struct mls_required_capabilities *ret)
{
        _mls_cleanup_(mls_required_capabilities_clear) struct mls_required_capabilities t = { 0 };

        MLS_TRY(mls_u16_list_decode_(r, &t.extension_types));
        MLS_TRY(mls_u16_list_decode_(r, &t.proposal_types));
        MLS_TRY(mls_u16_list_decode_(r, &t.credential_types));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_required_capabilities_encode(struct mls_writer *w, const struct mls_required_capabilities *x)
{
        MLS_TRY(mls_u16_list_encode_(w, &x->extension_types));
        MLS_TRY(mls_u16_list_encode_(w, &x->proposal_types));
        return mls_u16_list_encode_(w, &x->credential_types);
}

void
mls_required_capabilities_clear(struct mls_required_capabilities *x)
{
        if (!x)
                return;
        mls_u16_list_clear_(&x->extension_types);
        mls_u16_list_clear_(&x->proposal_types);
        mls_u16_list_clear_(&x->credential_types);
}

MLS_MESSAGES_DEFINE_BYTES_(required_capabilities)

/* RFC 9420 section 12.1.8.1:
 *   struct { SignaturePublicKey signature_key; Credential credential; } ExternalSender; */
int
mls_external_sender_decode(struct mls_reader *r, struct mls_external_sender *ret)
{
        _mls_cleanup_(mls_external_sender_clear) struct mls_external_sender t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.signature_key));
        MLS_TRY(mls_credential_decode(r, &t.credential));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_external_sender_encode(struct mls_writer *w, const struct mls_external_sender *x)
{
        MLS_TRY(mls_writer_bytes_(w, &x->signature_key));
        return mls_credential_encode(w, &x->credential);
}

void
mls_external_sender_clear(struct mls_external_sender *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->signature_key);
        mls_credential_clear(&x->credential);
}

MLS_MESSAGES_DEFINE_BYTES_(external_sender)

/* RFC 9420 section 12.1.8.1: ExternalSender external_senders<V>;
 * (R-12.1.8.1-1: sender_index indexes this list) */
int
mls_external_senders_decode(struct mls_reader *r, struct mls_external_senders *ret)
{
        _mls_cleanup_(mls_external_senders_clear) struct mls_external_senders t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_cleanup_(mls_external_sender_clear) struct mls_external_sender s = { 0 };

                MLS_TRY(mls_external_sender_decode(&v, &s));
                MLS_TRY(MLS_ARR_TAKE(t.v, t.n, s));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_external_senders_encode(struct mls_writer *w, const struct mls_external_senders *x)
{
        size_t m;

        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n; i++)
                MLS_TRY(mls_external_sender_encode(w, &x->v[i]));
        return mls_writer_vec_end(w, m);
}

void
mls_external_senders_clear(struct mls_external_senders *x)
{
        if (!x)
                return;
        for (size_t i = 0; i < x->n; i++)
                mls_external_sender_clear(&x->v[i]);
        free(x->v);
        *x = (struct mls_external_senders){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(external_senders)

/* RFC 9420 section 12.4.3.2: struct { HPKEPublicKey external_pub; } ExternalPub; */
int
mls_external_pub_decode(struct mls_reader *r, struct mls_external_pub *ret)
{
        struct mls_external_pub t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.external_pub));
        *ret = t;
        return 0;
}

int
mls_external_pub_encode(struct mls_writer *w, const struct mls_external_pub *x)
{
        return mls_writer_bytes_(w, &x->external_pub);
}

void
mls_external_pub_clear(struct mls_external_pub *x)
{
        if (x)
                mls_bytes_clear(&x->external_pub);
}

MLS_MESSAGES_DEFINE_BYTES_(external_pub)

static MLS_MUST_CHECK int
ext_body_check(const struct mls_extension *e, uint16_t type)
{
        if (!e || e->extension_type != type)
                return MLS_E_INVALID_ARGUMENT;
        return 0;
}

int
mls_extension_get_ratchet_tree(const struct mls_extension *e, struct mls_ratchet_tree *ret)
{
        MLS_TRY(ext_body_check(e, MLS_EXT_RATCHET_TREE));
        return mls_ratchet_tree_from_bytes(e->extension_data.data, e->extension_data.len, ret);
}

int
mls_extension_get_required_capabilities(const struct mls_extension *e,
                                        struct mls_required_capabilities *ret)
{
        MLS_TRY(ext_body_check(e, MLS_EXT_REQUIRED_CAPABILITIES));
        return mls_required_capabilities_from_bytes(e->extension_data.data,
                                                    e->extension_data.len, ret);
}

int
mls_extension_get_external_pub(const struct mls_extension *e, struct mls_external_pub *ret)
{
        MLS_TRY(ext_body_check(e, MLS_EXT_EXTERNAL_PUB));
        return mls_external_pub_from_bytes(e->extension_data.data, e->extension_data.len, ret);
}

int
mls_extension_get_external_senders(const struct mls_extension *e,
                                   struct mls_external_senders *ret)
{
        MLS_TRY(ext_body_check(e, MLS_EXT_EXTERNAL_SENDERS));
        return mls_external_senders_from_bytes(e->extension_data.data, e->extension_data.len,
                                               ret);
}

int
mls_extension_get_application_id(const struct mls_extension *e, struct mls_application_id *ret)
{
        MLS_TRY(ext_body_check(e, MLS_EXT_APPLICATION_ID));
        return mls_application_id_from_bytes(e->extension_data.data, e->extension_data.len,
                                             ret);
}

/* ---- 7.2 LeafNode ---- */

/*
 * RFC 9420 section 7.2:
 *   struct {
 *       HPKEPublicKey encryption_key;
 *       SignaturePublicKey signature_key;
 *       Credential credential;
 *       Capabilities capabilities;
 *
 *       LeafNodeSource leaf_node_source;
 *       select (LeafNode.leaf_node_source) {
 *           case key_package: Lifetime lifetime;
 *           case update:      struct{};
 *           case commit:      opaque parent_hash<V>;
 *       };
 *
 *       Extension extensions<V>;
 *       // SignWithLabel(., "LeafNodeTBS", LeafNodeTBS)
 *       opaque signature<V>;
 *   } LeafNode;
 * R-7.2-7: lifetime only for key_package, parent_hash only for commit,
 * nothing for update; the reserved source 0 (and any other value) has no
 * arm: MLS_E_BAD_ENUM.
 */
int
mls_leaf_node_decode(struct mls_reader *r, struct mls_leaf_node *ret)
{
        _mls_cleanup_(mls_leaf_node_clear) struct mls_leaf_node t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.encryption_key));
        MLS_TRY(mls_reader_opaque(r, &t.signature_key));
        MLS_TRY(mls_credential_decode(r, &t.credential));
        MLS_TRY(mls_capabilities_decode(r, &t.capabilities));
        MLS_TRY(mls_reader_u8(r, &t.leaf_node_source));
        switch (t.leaf_node_source) {
        case MLS_LEAF_SOURCE_KEY_PACKAGE:
                MLS_TRY(mls_lifetime_decode(r, &t.lifetime));
                break;
        case MLS_LEAF_SOURCE_UPDATE:
                break;
        case MLS_LEAF_SOURCE_COMMIT:
                MLS_TRY(mls_reader_opaque(r, &t.parent_hash));
                break;
        default:
                /* R-7.2-7 */
                return MLS_E_BAD_ENUM;
        }
        MLS_TRY(mls_extension_list_decode(r, &t.extensions));
        MLS_TRY(mls_reader_opaque(r, &t.signature));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

/* Every LeafNode field before `signature` (shared by LeafNode and LeafNodeTBS). */
static MLS_MUST_CHECK int
leaf_node_body_encode(struct mls_writer *w, const struct mls_leaf_node *x)
{
        MLS_TRY(mls_writer_bytes_(w, &x->encryption_key));
        MLS_TRY(mls_writer_bytes_(w, &x->signature_key));
        MLS_TRY(mls_credential_encode(w, &x->credential));
        MLS_TRY(mls_capabilities_encode(w, &x->capabilities));
        MLS_TRY(mls_writer_u8(w, x->leaf_node_source));
        switch (x->leaf_node_source) {
        case MLS_LEAF_SOURCE_KEY_PACKAGE:
                MLS_TRY(mls_lifetime_encode(w, &x->lifetime));
                break;
        case MLS_LEAF_SOURCE_UPDATE:
                break;
        case MLS_LEAF_SOURCE_COMMIT:
                MLS_TRY(mls_writer_bytes_(w, &x->parent_hash));
                break;
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
        return mls_extension_list_encode(w, &x->extensions);
}

int
mls_leaf_node_encode(struct mls_writer *w, const struct mls_leaf_node *x)
{
        MLS_TRY(leaf_node_body_encode(w, x));
        return mls_writer_bytes_(w, &x->signature);
}

/*
 * RFC 9420 section 7.2 (R-7.2-10):
 *   struct {
 *       ...the LeafNode fields up to and including extensions...
 *       select (LeafNodeTBS.leaf_node_source) {
 *           case key_package: struct{};
 *           case update:      opaque group_id<V>; uint32 leaf_index;
 *           case commit:      opaque group_id<V>; uint32 leaf_index;
 *       };
 *   } LeafNodeTBS;
 */
int
mls_leaf_node_tbs_encode(struct mls_writer *w, const struct mls_leaf_node *x,
                         const struct mls_bytes *group_id, uint32_t leaf_index)
{
        MLS_TRY(leaf_node_body_encode(w, x));
        switch (x->leaf_node_source) {
        case MLS_LEAF_SOURCE_KEY_PACKAGE:
                return 0;
        case MLS_LEAF_SOURCE_UPDATE:
        case MLS_LEAF_SOURCE_COMMIT:
                if (!group_id)
                        return MLS_E_INVALID_ARGUMENT;
                MLS_TRY(mls_writer_bytes_(w, group_id));
                return mls_writer_u32(w, leaf_index);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

void
mls_leaf_node_clear(struct mls_leaf_node *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->encryption_key);
        mls_bytes_clear(&x->signature_key);
        mls_credential_clear(&x->credential);
        mls_capabilities_clear(&x->capabilities);
        mls_bytes_clear(&x->parent_hash);
        mls_extension_list_clear(&x->extensions);
        mls_bytes_clear(&x->signature);
        *x = (struct mls_leaf_node){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(leaf_node)

/* ---- 7.1 ParentNode ---- */

/*
 * RFC 9420 section 7.1:
 *   struct {
 *       HPKEPublicKey encryption_key;
 *       opaque parent_hash<V>;
 *       uint32 unmerged_leaves<V>;
 *   } ParentNode;
 * R-7.1-1: "The entries in the unmerged_leaves vector MUST be sorted in
 * increasing order": a list that is not strictly increasing is rejected
 * (a leaf cannot be unmerged twice).
 */
int
mls_parent_node_decode(struct mls_reader *r, struct mls_parent_node *ret)
{
        _mls_cleanup_(mls_parent_node_clear) struct mls_parent_node t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_opaque(r, &t.encryption_key));
        MLS_TRY(mls_reader_opaque(r, &t.parent_hash));
        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                uint32_t leaf;

                MLS_TRY(mls_reader_u32(&v, &leaf));
                /* R-7.1-1: sorted, increasing. */
                if (t.unmerged_leaves.n > 0 &&
                    leaf <= t.unmerged_leaves.v[t.unmerged_leaves.n - 1])
                        return MLS_E_INVALID_TREE;
                MLS_TRY(MLS_ARR_TAKE(t.unmerged_leaves.v, t.unmerged_leaves.n, leaf));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_parent_node_encode(struct mls_writer *w, const struct mls_parent_node *x)
{
        size_t m;

        MLS_TRY(mls_writer_bytes_(w, &x->encryption_key));
        MLS_TRY(mls_writer_bytes_(w, &x->parent_hash));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->unmerged_leaves.n; i++) {
                /* R-7.1-1 */
                if (i > 0 && x->unmerged_leaves.v[i] <= x->unmerged_leaves.v[i - 1])
                        return MLS_E_INVALID_TREE;
                MLS_TRY(mls_writer_u32(w, x->unmerged_leaves.v[i]));
        }
        return mls_writer_vec_end(w, m);
}

void
mls_parent_node_clear(struct mls_parent_node *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->encryption_key);
        mls_bytes_clear(&x->parent_hash);
        u32_list_clear(&x->unmerged_leaves);
}

MLS_MESSAGES_DEFINE_BYTES_(parent_node)

/* ---- 12.4.3.3 Node, ratchet_tree ---- */

/*
 * RFC 9420 section 12.4.3.3:
 *   struct {
 *       NodeType node_type;
 *       select (Node.node_type) {
 *           case leaf:   LeafNode leaf_node;
 *           case parent: ParentNode parent_node;
 *       };
 *   } Node;
 * NodeType is enum { reserved(0), leaf(1), parent(2), (255) }: no other arm.
 */
int
mls_node_decode(struct mls_reader *r, struct mls_node *ret)
{
        _mls_cleanup_(mls_node_clear) struct mls_node t = { 0 };
        uint8_t type;

        MLS_TRY(mls_reader_u8(r, &type));
        switch (type) {
        case MLS_NODE_LEAF:
                t.node_type = type;
                MLS_TRY(mls_leaf_node_decode(r, &t.leaf_node));
                break;
        case MLS_NODE_PARENT:
                t.node_type = type;
                MLS_TRY(mls_parent_node_decode(r, &t.parent_node));
                break;
        default:
                return MLS_E_BAD_ENUM;
        }
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_node_encode(struct mls_writer *w, const struct mls_node *x)
{
        MLS_TRY(mls_writer_u8(w, x->node_type));
        switch (x->node_type) {
        case MLS_NODE_LEAF:
                return mls_leaf_node_encode(w, &x->leaf_node);
        case MLS_NODE_PARENT:
                return mls_parent_node_encode(w, &x->parent_node);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

void
mls_node_clear(struct mls_node *x)
{
        if (!x)
                return;
        switch (x->node_type) {
        case MLS_NODE_LEAF:
                mls_leaf_node_clear(&x->leaf_node);
                break;
        case MLS_NODE_PARENT:
                mls_parent_node_clear(&x->parent_node);
                break;
        default:
                break;
        }
        memset(x, 0, sizeof(*x));
}

MLS_MESSAGES_DEFINE_BYTES_(node)

static void
node_freep(struct mls_node **p)
{
        if (*p) {
                mls_node_clear(*p);
                free(*p);
                *p = NULL;
        }
}

/*
 * RFC 9420 section 12.4.3.3:  optional<Node> ratchet_tree<V>;
 * R-12.4.3.3-1: entries in array order, absent = blank.
 * R-12.4.3.3-3: "the vector MUST NOT end with a blank node"; an empty
 * vector has no leaf at all and is equally invalid.
 * R-12.4.3.3-4: leaves sit at even, parents at odd positions.
 */
int
mls_ratchet_tree_decode(struct mls_reader *r, struct mls_ratchet_tree *ret)
{
        _mls_cleanup_(mls_ratchet_tree_clear) struct mls_ratchet_tree t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_cleanup_(node_freep) struct mls_node *node = NULL;
                bool present;

                MLS_TRY(mls_reader_optional(&v, &present));
                if (present) {
                        node = calloc(1, sizeof(*node));
                        if (!node)
                                return MLS_E_NOMEM;
                        MLS_TRY(mls_node_decode(&v, node));
                        /* R-12.4.3.3-4: node type must match the position. */
                        if (node->node_type != ((t.n_nodes % 2 == 0) ? MLS_NODE_LEAF
                                                                       : MLS_NODE_PARENT))
                                return MLS_E_INVALID_TREE;
                }
                MLS_TRY(MLS_ARR_TAKE(t.nodes, t.n_nodes, node));
        }
        MLS_TRY(mls_reader_done(&v));
        /* R-12.4.3.3-3: non-empty, and the last entry is not blank. */
        if (t.n_nodes == 0 || !t.nodes[t.n_nodes - 1])
                return MLS_E_INVALID_TREE;
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_ratchet_tree_encode(struct mls_writer *w, const struct mls_ratchet_tree *x)
{
        size_t m;

        /* R-12.4.3.3-2: blank entries after the last non-blank node are
         * never written; the caller strips them. */
        if (x->n_nodes == 0 || !x->nodes[x->n_nodes - 1])
                return MLS_E_INVALID_TREE;
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n_nodes; i++) {
                const struct mls_node *n = x->nodes[i];

                MLS_TRY(mls_writer_optional(w, n != NULL));
                if (!n)
                        continue;
                if (n->node_type != (i % 2 == 0 ? MLS_NODE_LEAF : MLS_NODE_PARENT))
                        return MLS_E_INVALID_TREE;
                MLS_TRY(mls_node_encode(w, n));
        }
        return mls_writer_vec_end(w, m);
}

void
mls_ratchet_tree_clear(struct mls_ratchet_tree *x)
{
        if (!x)
                return;
        for (size_t i = 0; i < x->n_nodes; i++)
                node_freep(&x->nodes[i]);
        free(x->nodes);
        *x = (struct mls_ratchet_tree){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(ratchet_tree)

/* ---- 10 KeyPackage ---- */

/*
 * RFC 9420 section 10:
 *   struct {
 *       ProtocolVersion version;
 *       CipherSuite cipher_suite;
 *       HPKEPublicKey init_key;
 *       LeafNode leaf_node;
 *       Extension extensions<V>;
 *       // SignWithLabel(., "KeyPackageTBS", KeyPackageTBS)
 *       opaque signature<V>;
 *   } KeyPackage;
 * version and cipher_suite are open registries here: their values are
 * checked against the group by KeyPackage validation (section 10.1), not by
 * the parser.
 */
int
mls_key_package_decode(struct mls_reader *r, struct mls_key_package *ret)
{
        _mls_cleanup_(mls_key_package_clear) struct mls_key_package t = { 0 };

        MLS_TRY(mls_reader_u16(r, &t.version));
        MLS_TRY(mls_reader_u16(r, &t.cipher_suite));
        MLS_TRY(mls_reader_opaque(r, &t.init_key));
        MLS_TRY(mls_leaf_node_decode(r, &t.leaf_node));
        MLS_TRY(mls_extension_list_decode(r, &t.extensions));
        MLS_TRY(mls_reader_opaque(r, &t.signature));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

/* RFC 9420 section 10: KeyPackageTBS is the KeyPackage without signature. */
int
mls_key_package_tbs_encode(struct mls_writer *w, const struct mls_key_package *x)
{
        MLS_TRY(mls_writer_u16(w, x->version));
        MLS_TRY(mls_writer_u16(w, x->cipher_suite));
        MLS_TRY(mls_writer_bytes_(w, &x->init_key));
        MLS_TRY(mls_leaf_node_encode(w, &x->leaf_node));
        return mls_extension_list_encode(w, &x->extensions);
}

int
mls_key_package_encode(struct mls_writer *w, const struct mls_key_package *x)
{
        MLS_TRY(mls_key_package_tbs_encode(w, x));
        return mls_writer_bytes_(w, &x->signature);
}

void
mls_key_package_clear(struct mls_key_package *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->init_key);
        mls_leaf_node_clear(&x->leaf_node);
        mls_extension_list_clear(&x->extensions);
        mls_bytes_clear(&x->signature);
        *x = (struct mls_key_package){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(key_package)

/* ---- 8.1 GroupContext ---- */

/*
 * RFC 9420 section 8.1 (R-8.1-1):
 *   struct {
 *       ProtocolVersion version = mls10;
 *       CipherSuite cipher_suite;
 *       opaque group_id<V>;
 *       uint64 epoch;
 *       opaque tree_hash<V>;
 *       opaque confirmed_transcript_hash<V>;
 *       Extension extensions<V>;
 *   } GroupContext;
 * The version is fixed to mls10: anything else is MLS_E_WRONG_VERSION.
 */
int
mls_group_context_decode(struct mls_reader *r, struct mls_group_context *ret)
{
        _mls_cleanup_(mls_group_context_clear) struct mls_group_context t = { 0 };

        MLS_TRY(mls_reader_u16(r, &t.version));
        if (t.version != MLS_VERSION_MLS10)
                return MLS_E_WRONG_VERSION;
        MLS_TRY(mls_reader_u16(r, &t.cipher_suite));
        MLS_TRY(mls_reader_opaque(r, &t.group_id));
        MLS_TRY(mls_reader_u64(r, &t.epoch));
        MLS_TRY(mls_reader_opaque(r, &t.tree_hash));
        MLS_TRY(mls_reader_opaque(r, &t.confirmed_transcript_hash));
        MLS_TRY(mls_extension_list_decode(r, &t.extensions));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_group_context_encode(struct mls_writer *w, const struct mls_group_context *x)
{
        if (x->version != MLS_VERSION_MLS10)
                return MLS_E_WRONG_VERSION;
        MLS_TRY(mls_writer_u16(w, x->version));
        MLS_TRY(mls_writer_u16(w, x->cipher_suite));
        MLS_TRY(mls_writer_bytes_(w, &x->group_id));
        MLS_TRY(mls_writer_u64(w, x->epoch));
        MLS_TRY(mls_writer_bytes_(w, &x->tree_hash));
        MLS_TRY(mls_writer_bytes_(w, &x->confirmed_transcript_hash));
        return mls_extension_list_encode(w, &x->extensions);
}

void
mls_group_context_clear(struct mls_group_context *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->group_id);
        mls_bytes_clear(&x->tree_hash);
        mls_bytes_clear(&x->confirmed_transcript_hash);
        mls_extension_list_clear(&x->extensions);
        *x = (struct mls_group_context){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(group_context)
