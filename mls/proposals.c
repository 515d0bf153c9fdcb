/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9420 wire structures, part 2: HPKECiphertext and UpdatePath
 * (section 7.6), the proposals (section 12.1), ProposalOrRef and Commit
 * (section 12.4). Contracts: mls/messages.h.
 */
#include "mls/messages-internal.h"

/* ---- 7.6 HPKECiphertext, UpdatePathNode, UpdatePath ---- */

/* RFC 9420 section 7.6:
 *   struct { opaque kem_output<V>; opaque ciphertext<V>; } HPKECiphertext; */
int
mls_hpke_ciphertext_decode(struct mls_reader *r, struct mls_hpke_ciphertext *ret)
{
        _mls_cleanup_(mls_hpke_ciphertext_clear) struct mls_hpke_ciphertext t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.kem_output));
        MLS_TRY(mls_reader_opaque(r, &t.ciphertext));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_hpke_ciphertext_encode(struct mls_writer *w, const struct mls_hpke_ciphertext *x)
{
        MLS_TRY(mls_writer_bytes_(w, &x->kem_output));
        return mls_writer_bytes_(w, &x->ciphertext);
}

void
mls_hpke_ciphertext_clear(struct mls_hpke_ciphertext *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->kem_output);
        mls_bytes_clear(&x->ciphertext);
}

MLS_MESSAGES_DEFINE_BYTES_(hpke_ciphertext)

/* RFC 9420 section 7.6:
 *   struct {
 *       HPKEPublicKey encryption_key;
 *       HPKECiphertext encrypted_path_secret<V>;
 *   } UpdatePathNode; */
int
mls_update_path_node_decode(struct mls_reader *r, struct mls_update_path_node *ret)
{
        _mls_cleanup_(mls_update_path_node_clear) struct mls_update_path_node t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_opaque(r, &t.encryption_key));
        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_cleanup_(mls_hpke_ciphertext_clear) struct mls_hpke_ciphertext c = { 0 };

                MLS_TRY(mls_hpke_ciphertext_decode(&v, &c));
                MLS_TRY(MLS_ARR_TAKE(t.encrypted_path_secret, t.n_encrypted_path_secret, c));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_update_path_node_encode(struct mls_writer *w, const struct mls_update_path_node *x)
{
        size_t m;

        MLS_TRY(mls_writer_bytes_(w, &x->encryption_key));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n_encrypted_path_secret; i++)
                MLS_TRY(mls_hpke_ciphertext_encode(w, &x->encrypted_path_secret[i]));
        return mls_writer_vec_end(w, m);
}

void
mls_update_path_node_clear(struct mls_update_path_node *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->encryption_key);
        for (size_t i = 0; i < x->n_encrypted_path_secret; i++)
                mls_hpke_ciphertext_clear(&x->encrypted_path_secret[i]);
        free(x->encrypted_path_secret);
        *x = (struct mls_update_path_node){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(update_path_node)

/* RFC 9420 section 7.6:
 *   struct { LeafNode leaf_node; UpdatePathNode nodes<V>; } UpdatePath; */
int
mls_update_path_decode(struct mls_reader *r, struct mls_update_path *ret)
{
        _mls_cleanup_(mls_update_path_clear) struct mls_update_path t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_leaf_node_decode(r, &t.leaf_node));
        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_cleanup_(mls_update_path_node_clear) struct mls_update_path_node n = { 0 };

                MLS_TRY(mls_update_path_node_decode(&v, &n));
                MLS_TRY(MLS_ARR_TAKE(t.nodes, t.n_nodes, n));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_update_path_encode(struct mls_writer *w, const struct mls_update_path *x)
{
        size_t m;

        MLS_TRY(mls_leaf_node_encode(w, &x->leaf_node));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n_nodes; i++)
                MLS_TRY(mls_update_path_node_encode(w, &x->nodes[i]));
        return mls_writer_vec_end(w, m);
}

void
mls_update_path_clear(struct mls_update_path *x)
{
        if (!x)
                return;
        mls_leaf_node_clear(&x->leaf_node);
        for (size_t i = 0; i < x->n_nodes; i++)
                mls_update_path_node_clear(&x->nodes[i]);
        free(x->nodes);
        *x = (struct mls_update_path){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(update_path)

/* ---- 12.1 proposal bodies ---- */

/* RFC 9420 section 12.1.1: struct { KeyPackage key_package; } Add; */
int
mls_add_decode(struct mls_reader *r, struct mls_add *ret)
{
        return mls_key_package_decode(r, &ret->key_package);
}

int
mls_add_encode(struct mls_writer *w, const struct mls_add *x)
{
        return mls_key_package_encode(w, &x->key_package);
}

void
mls_add_clear(struct mls_add *x)
{
        if (x)
                mls_key_package_clear(&x->key_package);
}

MLS_MESSAGES_DEFINE_BYTES_(add)

/* RFC 9420 section 12.1.2: struct { LeafNode leaf_node; } Update; */
int
mls_update_decode(struct mls_reader *r, struct mls_update *ret)
{
        return mls_leaf_node_decode(r, &ret->leaf_node);
}

int
mls_update_encode(struct mls_writer *w, const struct mls_update *x)
{
        return mls_leaf_node_encode(w, &x->leaf_node);
}

void
mls_update_clear(struct mls_update *x)
{
        if (x)
                mls_leaf_node_clear(&x->leaf_node);
}

MLS_MESSAGES_DEFINE_BYTES_(update)

/* RFC 9420 section 12.1.3: struct { uint32 removed; } Remove; */
int
mls_remove_decode(struct mls_reader *r, struct mls_remove *ret)
{
        return mls_reader_u32(r, &ret->removed);
}

int
mls_remove_encode(struct mls_writer *w, const struct mls_remove *x)
{
        return mls_writer_u32(w, x->removed);
}

void
mls_remove_clear(struct mls_remove *x)
{
        if (x)
                x->removed = 0;
}

MLS_MESSAGES_DEFINE_BYTES_(remove)

/* RFC 9420 section 12.1.4: struct { PreSharedKeyID psk; } PreSharedKey;
 * PreSharedKeyID is parsed by mls/psk.c (unknown psktype or usage:
 * MLS_E_BAD_ENUM). Its psk_nonce length is checked against the group's
 * suite by proposal validation (section 12.1.4), which knows the suite. */
int
mls_pre_shared_key_decode(struct mls_reader *r, struct mls_pre_shared_key *ret)
{
        return mls_psk_id_decode(r, &ret->psk);
}

int
mls_pre_shared_key_encode(struct mls_writer *w, const struct mls_pre_shared_key *x)
{
        return mls_psk_id_encode(&x->psk, w);
}

void
mls_pre_shared_key_clear(struct mls_pre_shared_key *x)
{
        if (x)
                mls_psk_id_clear(&x->psk);
}

MLS_MESSAGES_DEFINE_BYTES_(pre_shared_key)

/* RFC 9420 section 12.1.5:
 *   struct {
 *       opaque group_id<V>;
 *       ProtocolVersion version;
 *       CipherSuite cipher_suite;
 *       Extension extensions<V>;
 *   } ReInit;
 * version and cipher_suite name the new group's parameters and are open
 * values here (section 12.1.5 compares the version with the group's). */
int
mls_reinit_decode(struct mls_reader *r, struct mls_reinit *ret)
{
        _mls_cleanup_(mls_reinit_clear) struct mls_reinit t = { 0 };

        MLS_TRY(mls_reader_opaque(r, &t.group_id));
        MLS_TRY(mls_reader_u16(r, &t.version));
        MLS_TRY(mls_reader_u16(r, &t.cipher_suite));
        MLS_TRY(mls_extension_list_decode(r, &t.extensions));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_reinit_encode(struct mls_writer *w, const struct mls_reinit *x)
{
        MLS_TRY(mls_writer_bytes_(w, &x->group_id));
        MLS_TRY(mls_writer_u16(w, x->version));
        MLS_TRY(mls_writer_u16(w, x->cipher_suite));
        return mls_extension_list_encode(w, &x->extensions);
}

void
mls_reinit_clear(struct mls_reinit *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->group_id);
        mls_extension_list_clear(&x->extensions);
        *x = (struct mls_reinit){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(reinit)

/* RFC 9420 section 12.1.6: struct { opaque kem_output<V>; } ExternalInit; */
int
mls_external_init_decode(struct mls_reader *r, struct mls_external_init *ret)
{
        return mls_reader_opaque(r, &ret->kem_output);
}

int
mls_external_init_encode(struct mls_writer *w, const struct mls_external_init *x)
{
        return mls_writer_bytes_(w, &x->kem_output);
}

void
mls_external_init_clear(struct mls_external_init *x)
{
        if (x)
                mls_bytes_clear(&x->kem_output);
}

MLS_MESSAGES_DEFINE_BYTES_(external_init)

/* RFC 9420 section 12.1.7: struct { Extension extensions<V>; } GroupContextExtensions; */
int
mls_group_context_extensions_decode(struct mls_reader *r,
                                    struct mls_group_context_extensions *ret)
{
        return mls_extension_list_decode(r, &ret->extensions);
}

int
mls_group_context_extensions_encode(struct mls_writer *w,
                                    const struct mls_group_context_extensions *x)
{
        return mls_extension_list_encode(w, &x->extensions);
}

void
mls_group_context_extensions_clear(struct mls_group_context_extensions *x)
{
        if (x)
                mls_extension_list_clear(&x->extensions);
}

MLS_MESSAGES_DEFINE_BYTES_(group_context_extensions)

/* ---- 12.1 Proposal ---- */

/*
 * RFC 9420 section 12.1:
 *   struct {
 *       ProposalType proposal_type;
 *       select (Proposal.proposal_type) {
 *           case add:                      Add;
 *           case update:                   Update;
 *           case remove:                   Remove;
 *           case psk:                      PreSharedKey;
 *           case reinit:                   ReInit;
 *           case external_init:            ExternalInit;
 *           case group_context_extensions: GroupContextExtensions;
 *       };
 *   } Proposal;
 * The select has no default arm, so a proposal type outside these seven
 * (including GREASE values, R-13.5-6) cannot be parsed: MLS_E_BAD_ENUM.
 */
int
mls_proposal_decode(struct mls_reader *r, struct mls_proposal *ret)
{
        _mls_cleanup_(mls_proposal_clear) struct mls_proposal t = { 0 };
        uint16_t type;

        MLS_TRY(mls_reader_u16(r, &type));
        switch (type) {
        case MLS_PROPOSAL_ADD:
        case MLS_PROPOSAL_UPDATE:
        case MLS_PROPOSAL_REMOVE:
        case MLS_PROPOSAL_PSK:
        case MLS_PROPOSAL_REINIT:
        case MLS_PROPOSAL_EXTERNAL_INIT:
        case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
                break;
        default:
                return MLS_E_BAD_ENUM;
        }
        t.proposal_type = type;
        switch (type) {
        case MLS_PROPOSAL_ADD:
                MLS_TRY(mls_add_decode(r, &t.add));
                break;
        case MLS_PROPOSAL_UPDATE:
                MLS_TRY(mls_update_decode(r, &t.update));
                break;
        case MLS_PROPOSAL_REMOVE:
                MLS_TRY(mls_remove_decode(r, &t.remove));
                break;
        case MLS_PROPOSAL_PSK:
                MLS_TRY(mls_pre_shared_key_decode(r, &t.psk));
                break;
        case MLS_PROPOSAL_REINIT:
                MLS_TRY(mls_reinit_decode(r, &t.reinit));
                break;
        case MLS_PROPOSAL_EXTERNAL_INIT:
                MLS_TRY(mls_external_init_decode(r, &t.external_init));
                break;
        default:
                MLS_TRY(mls_group_context_extensions_decode(r, &t.group_context_extensions));
                break;
        }
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_proposal_encode(struct mls_writer *w, const struct mls_proposal *x)
{
        switch (x->proposal_type) {
        case MLS_PROPOSAL_ADD:
                MLS_TRY(mls_writer_u16(w, x->proposal_type));
                return mls_add_encode(w, &x->add);
        case MLS_PROPOSAL_UPDATE:
                MLS_TRY(mls_writer_u16(w, x->proposal_type));
                return mls_update_encode(w, &x->update);
        case MLS_PROPOSAL_REMOVE:
                MLS_TRY(mls_writer_u16(w, x->proposal_type));
                return mls_remove_encode(w, &x->remove);
        case MLS_PROPOSAL_PSK:
                MLS_TRY(mls_writer_u16(w, x->proposal_type));
                return mls_pre_shared_key_encode(w, &x->psk);
        case MLS_PROPOSAL_REINIT:
                MLS_TRY(mls_writer_u16(w, x->proposal_type));
                return mls_reinit_encode(w, &x->reinit);
        case MLS_PROPOSAL_EXTERNAL_INIT:
                MLS_TRY(mls_writer_u16(w, x->proposal_type));
                return mls_external_init_encode(w, &x->external_init);
        case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
                MLS_TRY(mls_writer_u16(w, x->proposal_type));
                return mls_group_context_extensions_encode(w, &x->group_context_extensions);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

void
mls_proposal_clear(struct mls_proposal *x)
{
        if (!x)
                return;
        switch (x->proposal_type) {
        case MLS_PROPOSAL_ADD:
                mls_add_clear(&x->add);
                break;
        case MLS_PROPOSAL_UPDATE:
                mls_update_clear(&x->update);
                break;
        case MLS_PROPOSAL_PSK:
                mls_pre_shared_key_clear(&x->psk);
                break;
        case MLS_PROPOSAL_REINIT:
                mls_reinit_clear(&x->reinit);
                break;
        case MLS_PROPOSAL_EXTERNAL_INIT:
                mls_external_init_clear(&x->external_init);
                break;
        case MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
                mls_group_context_extensions_clear(&x->group_context_extensions);
                break;
        default: /* Remove and unset: nothing owned */
                break;
        }
        memset(x, 0, sizeof(*x));
}

MLS_MESSAGES_DEFINE_BYTES_(proposal)

/* ---- 12.4 ProposalOrRef, Commit ---- */

static void
proposal_freep(struct mls_proposal **p)
{
        if (*p) {
                mls_proposal_clear(*p);
                free(*p);
                *p = NULL;
        }
}

/*
 * RFC 9420 section 12.4:
 *   enum { reserved(0), proposal(1), reference(2), (255) } ProposalOrRefType;
 *   struct {
 *       ProposalOrRefType type;
 *       select (ProposalOrRef.type) {
 *           case proposal:  Proposal proposal;
 *           case reference: ProposalRef reference;
 *       };
 *   } ProposalOrRef;
 * ProposalRef is a HashReference: opaque HashReference<V>.
 */
int
mls_proposal_or_ref_decode(struct mls_reader *r, struct mls_proposal_or_ref *ret)
{
        _mls_cleanup_(mls_proposal_or_ref_clear) struct mls_proposal_or_ref t = { 0 };
        _mls_cleanup_(proposal_freep) struct mls_proposal *p = NULL;

        MLS_TRY(mls_reader_u8(r, &t.type));
        switch (t.type) {
        case MLS_POR_PROPOSAL:
                p = calloc(1, sizeof(*p));
                if (!p)
                        return MLS_E_NOMEM;
                MLS_TRY(mls_proposal_decode(r, p));
                t.proposal = MLS_TAKE(p);
                break;
        case MLS_POR_REFERENCE:
                MLS_TRY(mls_reader_opaque(r, &t.reference));
                break;
        default:
                return MLS_E_BAD_ENUM;
        }
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_proposal_or_ref_encode(struct mls_writer *w, const struct mls_proposal_or_ref *x)
{
        switch (x->type) {
        case MLS_POR_PROPOSAL:
                if (!x->proposal)
                        return MLS_E_INVALID_ARGUMENT;
                MLS_TRY(mls_writer_u8(w, x->type));
                return mls_proposal_encode(w, x->proposal);
        case MLS_POR_REFERENCE:
                MLS_TRY(mls_writer_u8(w, x->type));
                return mls_writer_bytes_(w, &x->reference);
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
}

void
mls_proposal_or_ref_clear(struct mls_proposal_or_ref *x)
{
        if (!x)
                return;
        proposal_freep(&x->proposal);
        mls_bytes_clear(&x->reference);
        x->type = 0;
}

MLS_MESSAGES_DEFINE_BYTES_(proposal_or_ref)

/*
 * RFC 9420 section 12.4:
 *   struct {
 *       ProposalOrRef proposals<V>;
 *       optional<UpdatePath> path;
 *   } Commit;
 * Whether a path is required (section 12.4) is decided by commit processing.
 */
int
mls_commit_decode(struct mls_reader *r, struct mls_commit *ret)
{
        _mls_cleanup_(mls_commit_clear) struct mls_commit t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_cleanup_(mls_proposal_or_ref_clear) struct mls_proposal_or_ref p = { 0 };

                MLS_TRY(mls_proposal_or_ref_decode(&v, &p));
                MLS_TRY(MLS_ARR_TAKE(t.proposals, t.n_proposals, p));
        }
        MLS_TRY(mls_reader_done(&v));
        /* R-2.1.1-1: the presence octet is checked by the codec. */
        MLS_TRY(mls_reader_optional(r, &t.has_path));
        if (t.has_path)
                MLS_TRY(mls_update_path_decode(r, &t.path));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_commit_encode(struct mls_writer *w, const struct mls_commit *x)
{
        size_t m;

        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n_proposals; i++)
                MLS_TRY(mls_proposal_or_ref_encode(w, &x->proposals[i]));
        MLS_TRY(mls_writer_vec_end(w, m));
        MLS_TRY(mls_writer_optional(w, x->has_path));
        if (x->has_path)
                MLS_TRY(mls_update_path_encode(w, &x->path));
        return 0;
}

void
mls_commit_clear(struct mls_commit *x)
{
        if (!x)
                return;
        for (size_t i = 0; i < x->n_proposals; i++)
                mls_proposal_or_ref_clear(&x->proposals[i]);
        free(x->proposals);
        mls_update_path_clear(&x->path);
        *x = (struct mls_commit){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(commit)
