/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of LeafNodes (RFC 9420 section 7.3) and of a whole received
 * tree (section 12.4.3.1), plus the consistency self-check of the derived
 * data (tests).
 */
#include <string.h>

#include "mls/tree.h"
#include "mls/tree-internal.h"
#include "mls/labeled.h"

static bool
u16_in(const struct mls_u16_list *l, uint16_t v)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i] == v)
                        return true;
        return false;
}

/* RFC 9420 section 7.2: default types are supported without being listed
 * ("MUST NOT be listed"). */
static bool
is_default_extension(uint16_t t)
{
        return t >= MLS_EXT_APPLICATION_ID && t <= MLS_EXT_EXTERNAL_SENDERS;
}

static bool
is_default_proposal(uint16_t t)
{
        return t >= MLS_PROPOSAL_ADD && t <= MLS_PROPOSAL_GROUP_CONTEXT_EXTENSIONS;
}

/* R-7.3-7, R-7.3-8, over the members other than leaf `skip` (UINT32_MAX:
 * none), from the credential counters in O(1). */
static int
check_credential_types(const struct mls_tree *t, const struct mls_leaf_node *ln, uint32_t skip)
{
        const struct mls_leaf_node *old = skip < t->width ? t->leaf[skip] : NULL;
        uint32_t members = t->n_members - (old ? 1 : 0);
        uint16_t ct = ln->credential.credential_type;

        for (uint16_t c = MLS_CREDENTIAL_BASIC; c <= MLS_CREDENTIAL_X509; c++) {
                uint32_t use = t->cred_use[c], sup = t->cred_sup[c];

                if (old && old->credential.credential_type == c)
                        use--;
                if (old && u16_in(&old->capabilities.credentials, c))
                        sup--;
                /* R-7.3-8: "the capabilities field of this LeafNode indicates
                 * support for all the credential types currently in use by
                 * other members" */
                if (use > 0 && !u16_in(&ln->capabilities.credentials, c))
                        return MLS_E_UNSUPPORTED_CAPABILITY;
                /* R-7.3-7: "the credential type is supported by all members";
                 * R-13.3-1: a credential type is used only if every member
                 * lists it. */
                if (ct == c && sup != members)
                        return MLS_E_UNSUPPORTED_CAPABILITY;
        }
        if (ct != MLS_CREDENTIAL_BASIC && ct != MLS_CREDENTIAL_X509 && members > 0)
                return MLS_E_UNSUPPORTED_CAPABILITY;
        return 0;
}

static int
check_capabilities(const struct mls_tree *t, const struct mls_leaf_node *ln,
                   const struct mls_leaf_policy *pol)
{
        const struct mls_capabilities *caps = &ln->capabilities;
        const struct mls_required_capabilities *req = pol->required;

        /* The group's version and cipher suite. R-7.2-5: unknown values in
         * the lists are simply never matched. */
        if (!pol->skip_version_suite_check &&
            (!u16_in(&caps->versions, pol->version) || !u16_in(&caps->cipher_suites, t->suite->id)))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        /* R-7.2-4: own credential type listed. */
        if (!u16_in(&caps->credentials, ln->credential.credential_type))
                return MLS_E_UNSUPPORTED_CAPABILITY;
        /* R-7.2-3, R-7.3-11: own extensions listed (non-default ones). */
        for (size_t i = 0; i < ln->extensions.n; i++) {
                uint16_t e = ln->extensions.v[i].extension_type;

                if (!is_default_extension(e) && !u16_in(&caps->extensions, e))
                        return MLS_E_UNSUPPORTED_CAPABILITY;
        }
        /* R-7.3-6: required_capabilities. */
        if (req) {
                for (size_t i = 0; i < req->extension_types.n; i++) {
                        uint16_t e = req->extension_types.v[i];

                        if (!is_default_extension(e) && !u16_in(&caps->extensions, e))
                                return MLS_E_UNSUPPORTED_CAPABILITY;
                }
                for (size_t i = 0; i < req->proposal_types.n; i++) {
                        uint16_t p = req->proposal_types.v[i];

                        if (!is_default_proposal(p) && !u16_in(&caps->proposals, p))
                                return MLS_E_UNSUPPORTED_CAPABILITY;
                }
                for (size_t i = 0; i < req->credential_types.n; i++)
                        if (!u16_in(&caps->credentials, req->credential_types.v[i]))
                                return MLS_E_UNSUPPORTED_CAPABILITY;
        }
        return 0;
}

/* R-7.3-9, R-7.3-10 (a switch), R-7.2-8 (maximum total lifetime). */
static int
check_lifetime(const struct mls_leaf_node *ln, const struct mls_leaf_policy *pol)
{
        const struct mls_lifetime *lt = &ln->lifetime;

        if (!pol->enforce_lifetime || ln->leaf_node_source != MLS_LEAF_SOURCE_KEY_PACKAGE)
                return 0;
        if (pol->now < lt->not_before || pol->now > lt->not_after)
                return MLS_E_LIFETIME;
        if (pol->max_lifetime && lt->not_after - lt->not_before > pol->max_lifetime)
                return MLS_E_LIFETIME;
        return 0;
}

/* R-7.3-16, R-7.3-17, R-7.3-14, R-12.4.2-11 (see mls/tree.h). */
static int
check_unique_keys(const struct mls_tree *t, const struct mls_leaf_node *ln,
                  enum mls_leaf_context ctx, uint32_t li)
{
        uint32_t x, l;

        if (mls_tree_find_node_by_encryption_key(t, ln->encryption_key.data,
                                                 ln->encryption_key.len, &x) == 0) {
                /* Only the leaf itself, when it is the one in the tree. For an
                 * Update or a Commit the key must also differ from the key of
                 * the leaf being replaced. */
                if (ctx != MLS_LEAF_IN_TREE || x != 2 * li)
                        return MLS_E_DUPLICATE_KEY;
        }
        if (mls_tree_find_leaf_by_signature_key(t, ln->signature_key.data, ln->signature_key.len,
                                                &l) == 0) {
                if (ctx == MLS_LEAF_KEY_PACKAGE || l != li)
                        return MLS_E_DUPLICATE_KEY;
        }
        return 0;
}

/* R-7.3-5, R-7.2-10: VerifyWithLabel(signature_key, "LeafNodeTBS",
 * LeafNodeTBS, signature). */
int
mls_tree_leaf_verify_signature(const struct mls_tree *t, const struct mls_leaf_node *ln,
                               const struct mls_bytes *group_id, uint32_t li)
{
        _mls_writer_ struct mls_writer w = { 0 };
        int r;

        if (!t || !ln)
                return MLS_E_INVALID_ARGUMENT;
        if (ln->leaf_node_source != MLS_LEAF_SOURCE_KEY_PACKAGE && !group_id)
                return MLS_E_INVALID_ARGUMENT;
        mls_writer_init(&w);
        MLS_TRY(mls_leaf_node_tbs_encode(&w, ln, group_id, li));
        r = mls_verify_with_label(t->suite, ln->signature_key.data, ln->signature_key.len,
                                  "LeafNodeTBS", w.buf, w.len, ln->signature.data,
                                  ln->signature.len);
        if (r == MLS_E_BAD_KEY)
                return MLS_E_BAD_SIGNATURE;
        return r;
}

int
mls_tree_leaf_validate(const struct mls_tree *t, const struct mls_leaf_node *ln,
                       enum mls_leaf_context ctx, uint32_t leaf_index,
                       const struct mls_bytes *group_id, const struct mls_leaf_policy *policy)
{
        uint32_t skip = UINT32_MAX;

        if (!t || !ln || !policy)
                return MLS_E_INVALID_ARGUMENT;
        /* leaf_node_source for the context: R-7.3-12, R-7.3-13, R-7.3-15 */
        switch (ctx) {
        case MLS_LEAF_IN_TREE:
                if (ln->leaf_node_source < MLS_LEAF_SOURCE_KEY_PACKAGE ||
                    ln->leaf_node_source > MLS_LEAF_SOURCE_COMMIT)
                        return MLS_E_INVALID_LEAF;
                break;
        case MLS_LEAF_KEY_PACKAGE:
                if (ln->leaf_node_source != MLS_LEAF_SOURCE_KEY_PACKAGE)
                        return MLS_E_INVALID_LEAF;
                break;
        case MLS_LEAF_UPDATE:
                if (ln->leaf_node_source != MLS_LEAF_SOURCE_UPDATE)
                        return MLS_E_INVALID_LEAF;
                break;
        case MLS_LEAF_COMMIT:
                if (ln->leaf_node_source != MLS_LEAF_SOURCE_COMMIT)
                        return MLS_E_INVALID_LEAF;
                break;
        default:
                return MLS_E_INVALID_ARGUMENT;
        }
        if (ctx != MLS_LEAF_KEY_PACKAGE) {
                if (leaf_index >= t->width)
                        return MLS_E_TREE_INDEX;
                skip = leaf_index;
        }
        if (ln->leaf_node_source != MLS_LEAF_SOURCE_KEY_PACKAGE && !group_id)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(check_capabilities(t, ln, policy));
        MLS_TRY(check_credential_types(t, ln, skip));
        MLS_TRY(check_lifetime(ln, policy));
        MLS_TRY(check_unique_keys(t, ln, ctx, leaf_index));
        return mls_tree_leaf_verify_signature(t, ln, group_id, leaf_index);
}

/* R-12.4.3.1-14, R-12.4.3.1-15 (and R-7.1-1, sorted). */
int
mls_tree_check_unmerged(const struct mls_tree *t)
{
        uint32_t n;

        if (!t)
                return MLS_E_INVALID_ARGUMENT;
        n = 2 * t->width - 1;
        for (uint32_t p = 1; p < n; p += 2) {
                const struct tree_parent *pp = t->par[p >> 1];
                uint32_t first, end;

                if (!pp)
                        continue;
                mls_tm_leaf_span(p, &first, &end);
                for (size_t i = 0; i < pp->pn.unmerged_leaves.n; i++) {
                        uint32_t u = pp->pn.unmerged_leaves.v[i];

                        if (i > 0 && u <= pp->pn.unmerged_leaves.v[i - 1])
                                return MLS_E_INVALID_TREE;
                        /* R-12.4.3.1-14: a non-blank leaf below p */
                        if (u < first || u >= end || !t->leaf[u])
                                return MLS_E_INVALID_TREE;
                        /* R-12.4.3.1-15: every non-blank node in between lists it */
                        for (uint32_t y = tree_up(2 * u); y != p; y = tree_up(y)) {
                                const struct tree_parent *q = t->par[y >> 1];

                                if (q && !tree_leaf_in(q->pn.unmerged_leaves.v,
                                                       q->pn.unmerged_leaves.n, u))
                                        return MLS_E_INVALID_TREE;
                        }
                }
        }
        return 0;
}

int
mls_tree_validate(struct mls_tree *t, const uint8_t *tree_hash, size_t tree_hash_len,
                  const struct mls_bytes *group_id, const struct mls_leaf_policy *policy)
{
        uint8_t h[MLS_MAX_HASH_LEN];

        if (!t || !tree_hash || !policy)
                return MLS_E_INVALID_ARGUMENT;
        /* R-12.4.3.1-11, R-12.4.3.3-6 */
        MLS_TRY(mls_tree_hash(t, h));
        if (tree_hash_len != t->nh || !mls_ct_eq(h, tree_hash, t->nh))
                return MLS_E_TREE_HASH_MISMATCH;
        MLS_TRY(mls_tree_check_unmerged(t));
        /* R-12.4.3.1-12 */
        MLS_TRY(mls_tree_verify_parent_hashes(t));
        /* R-12.4.3.1-13, R-7.3-3 */
        for (uint32_t i = 0; i < t->width; i++)
                if (t->leaf[i])
                        MLS_TRY(mls_tree_leaf_validate(t, t->leaf[i], MLS_LEAF_IN_TREE, i,
                                                       group_id, policy));
        return 0;
}

/* ---- consistency self-check ---- */

static int
check_table(const struct mls_tree *t, int which, uint32_t expect)
{
        const struct tree_ktab *k = &t->kt[which];

        if (k->n != expect || (k->cap && k->n * 2 > k->cap))
                return MLS_E_INTERNAL;
        for (uint32_t i = 0; i < k->cap; i++) {
                const struct mls_bytes *b;
                uint32_t idx, found;

                if (!k->val[i])
                        continue;
                idx = k->val[i] - 1;
                b = which == TREE_KT_ENC ? mls_tree_node_encryption_key(t, idx)
                                         : (idx < t->width && t->leaf[idx]
                                                    ? &t->leaf[idx]->signature_key
                                                    : NULL);
                if (!b)
                        return MLS_E_INTERNAL;
                if (which == TREE_KT_ENC) {
                        if (mls_tree_find_node_by_encryption_key(t, b->data, b->len, &found) < 0)
                                return MLS_E_INTERNAL;
                } else if (mls_tree_find_leaf_by_signature_key(t, b->data, b->len, &found) < 0) {
                        return MLS_E_INTERNAL;
                }
                if (found != idx)
                        return MLS_E_INTERNAL;
        }
        return 0;
}

int
mls_tree_check_consistency(struct mls_tree *t)
{
        uint32_t n = 2 * t->width - 1, nodes = 0, members = 0;
        uint32_t use[3] = { 0 }, sup[3] = { 0 };
        uint8_t h[MLS_MAX_HASH_LEN];

        for (uint32_t x = 0; x < n; x++) {
                const void *p = tree_slot(t, x);

                if (p)
                        nodes++;
                if (!(x & 1u) && p) {
                        const struct mls_leaf_node *l = p;
                        bool seen[3] = { false, false, false };

                        members++;
                        if (l->credential.credential_type == 1 ||
                            l->credential.credential_type == 2)
                                use[l->credential.credential_type]++;
                        for (size_t i = 0; i < l->capabilities.credentials.n; i++) {
                                uint16_t c = l->capabilities.credentials.v[i];

                                if ((c == 1 || c == 2) && !seen[c]) {
                                        seen[c] = true;
                                        sup[c]++;
                                }
                        }
                }
                if (x & 1u) {
                        uint32_t first, end, cl = 0, cn = 0;

                        mls_tm_leaf_span(x, &first, &end);
                        for (uint32_t y = 2 * first; y < 2 * end - 1; y++) {
                                if (tree_slot(t, y)) {
                                        cn++;
                                        if (!(y & 1u))
                                                cl++;
                                }
                        }
                        if (t->cnt_leaf[x >> 1] != cl || t->cnt_node[x >> 1] != cn)
                                return MLS_E_INTERNAL;
                }
                if (t->hvalid[x]) {
                        MLS_TRY(tree_hash_fresh(t, x, h));
                        if (memcmp(h, t->hash + (size_t)x * t->nh, t->nh) != 0)
                                return MLS_E_INTERNAL;
                } else if (x != t->width - 1 && t->hvalid[tree_up(x)]) {
                        /* an invalid node's ancestors are invalid */
                        return MLS_E_INTERNAL;
                }
        }
        for (uint32_t x = n; x < 2 * t->cap - 1; x++)
                if (tree_slot(t, x))
                        return MLS_E_INTERNAL;
        if (members != t->n_members || use[1] != t->cred_use[1] || use[2] != t->cred_use[2] ||
            sup[1] != t->cred_sup[1] || sup[2] != t->cred_sup[2])
                return MLS_E_INTERNAL;
        MLS_TRY(check_table(t, TREE_KT_ENC, nodes));
        return check_table(t, TREE_KT_SIG, members);
}
