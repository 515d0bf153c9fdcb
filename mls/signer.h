/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signing service of the MLS engine (RFC 9420 section 5.1.2).
 *
 * The daemon's engine never holds signature private keys: a separate vault
 * process signs. A signer is therefore a callback: sign(ctx, label, content)
 * must return SignWithLabel(key, label, content), i.e. a signature over
 *
 *   struct { opaque label<V> = "MLS 1.0 " + Label; opaque content<V>; }
 *   SignContent;
 *
 * which the callee builds itself (the vault only ever signs SignContent of an
 * allowed label, never raw bytes). `label` is one of the RFC's labels
 * WITHOUT the "MLS 1.0 " prefix: "FramedContentTBS", "LeafNodeTBS",
 * "KeyPackageTBS", "GroupInfoTBS" (mls_signer_label_allowed()).
 *
 * pub/pub_len optionally name the signer's public signature key (borrowed;
 * NULL/0 when unknown). The group layer uses it to check that the key it is
 * handed belongs to the leaf it signs for.
 *
 * All functions return 0 or a negative MLS_E_*; ret_ parameters are written
 * only on success.
 */
#ifndef MLS_SIGNER_H
#define MLS_SIGNER_H

#include "mls/common.h"
#include "mls/codec.h"
#include "mls/crypto.h"
#include "mls/secret.h"

struct mls_signer {
        int (*sign)(void *ctx, const char *label, const uint8_t *content, size_t len,
                    struct mls_bytes *ret_sig);
        void *ctx;
        const uint8_t *pub; /* optional */
        size_t pub_len;
};

/* The labels the RFC signs with (section 5.1.2 uses: 6.1 FramedContentTBS,
 * 7.2 LeafNodeTBS, 10 KeyPackageTBS, 12.4.3 GroupInfoTBS). */
#define MLS_SIGN_LABEL_FRAMED_CONTENT "FramedContentTBS"
#define MLS_SIGN_LABEL_LEAF_NODE "LeafNodeTBS"
#define MLS_SIGN_LABEL_KEY_PACKAGE "KeyPackageTBS"
#define MLS_SIGN_LABEL_GROUP_INFO "GroupInfoTBS"

/* Whether label is one of the four above (exact match). */
bool mls_signer_label_allowed(const char *label);

/* A signer over a private key held in this process (tests, vectors): set the
 * fields and pass { mls_key_signer_sign, &key_signer } as the signer. */
struct mls_key_signer {
        const struct mls_suite *suite;
        const struct mls_secret *priv;
};
/* ctx is a struct mls_key_signer: SignWithLabel(priv, label, content).
 * MLS_E_INVALID_ARGUMENT for a label that is not allowed. */
MLS_MUST_CHECK int mls_key_signer_sign(void *ctx, const char *label, const uint8_t *content,
                                       size_t len, struct mls_bytes *ret_sig);

/*
 * An owned in-process signer (engine-internal use and tests): holds a copy of
 * the private key (guarded memory) and its public key; *ret_signer->signer
 * is ready to be passed to the group API and stays valid until
 * mls_signer_key_free(). MLS_E_BAD_KEY if priv is not a key of the suite.
 */
struct mls_signer_key {
        struct mls_signer signer;
        struct mls_key_signer ks;
        struct mls_secret *priv;
        struct mls_bytes pub;
};
MLS_MUST_CHECK int mls_signer_key_new(const struct mls_suite *s, const struct mls_secret *priv,
                                      struct mls_signer_key **ret);
/* A fresh key pair from rng. */
MLS_MUST_CHECK int mls_signer_key_generate(const struct mls_suite *s, const struct mls_rng *rng,
                                           struct mls_signer_key **ret);
void mls_signer_key_free(struct mls_signer_key *k);
void mls_signer_key_freep(struct mls_signer_key **k);
#define _mls_signer_key_ _mls_cleanup_(mls_signer_key_freep)

/* Calls signer->sign after checking the label, and that the signer
 * returned a non-empty signature (MLS_E_CRYPTO otherwise). */
MLS_MUST_CHECK int mls_signer_sign(const struct mls_signer *signer, const char *label,
                                   const uint8_t *content, size_t len,
                                   struct mls_bytes *ret_sig);

#endif
