/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cryptographic half of Welcome (RFC 9420 sections 12.4.3, 12.4.3.1).
 * Contracts: mls/welcome.h.
 */
#include <string.h>
#include <sodium.h>

#include "mls/welcome.h"
#include "mls/hpke.h"
#include "mls/labeled.h"
#include "mls/psk.h"

static void
bytes_clearp(struct mls_bytes *b)
{
        mls_bytes_clear(b);
}
#define _bytes_ _mls_cleanup_(bytes_clearp)

/* ---- GroupInfo signature ---- */

/* RFC 9420 section 12.4.3 (R-12.4.3-7):
 *   struct { GroupContext group_context; Extension extensions<V>;
 *            MAC confirmation_tag; uint32 signer; } GroupInfoTBS; */
static int
group_info_tbs(const struct mls_group_info *gi, struct mls_bytes *ret_tbs)
{
        _mls_writer_ struct mls_writer w = { 0 };

        mls_writer_init(&w);
        MLS_TRY(mls_group_info_tbs_encode(&w, gi));
        return mls_writer_finish(&w, ret_tbs);
}

static int
group_info_set_signature(struct mls_group_info *gi, struct mls_bytes *sig)
{
        if (sig->len == 0) {
                mls_bytes_clear(sig);
                return MLS_E_CRYPTO;
        }
        mls_bytes_clear(&gi->signature);
        gi->signature = *sig;
        *sig = (struct mls_bytes){ 0 };
        return 0;
}

int
mls_welcome_sign_group_info(const struct mls_suite *s, struct mls_group_info *gi,
                            const struct mls_signer *signer)
{
        _bytes_ struct mls_bytes tbs = { 0 }, sig = { 0 };

        if (!s || !gi || !signer || !signer->sign)
                return MLS_E_INVALID_ARGUMENT;
        if (gi->group_context.cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        MLS_TRY(group_info_tbs(gi, &tbs));
        /* R-12.4.3-7: SignWithLabel(., "GroupInfoTBS", GroupInfoTBS); the
         * signer builds SignContent from label and content. */
        MLS_TRY(signer->sign(signer->ctx, MLS_SIGN_LABEL_GROUP_INFO, tbs.data, tbs.len, &sig));
        return group_info_set_signature(gi, &sig);
}

int
mls_welcome_sign_group_info_with_key(const struct mls_suite *s, struct mls_group_info *gi,
                                     const struct mls_secret *priv)
{
        _bytes_ struct mls_bytes tbs = { 0 }, sig = { 0 };

        if (!s || !gi || !priv)
                return MLS_E_INVALID_ARGUMENT;
        if (gi->group_context.cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        MLS_TRY(group_info_tbs(gi, &tbs));
        /* R-12.4.3-7 */
        MLS_TRY(mls_sign_with_label(s, priv, MLS_SIGN_LABEL_GROUP_INFO, tbs.data, tbs.len, &sig));
        return group_info_set_signature(gi, &sig);
}

int
mls_welcome_verify_group_info(const struct mls_suite *s, const struct mls_group_info *gi,
                              const uint8_t *pub, size_t pub_len)
{
        _bytes_ struct mls_bytes tbs = { 0 };

        if (!s || !gi || (!pub && pub_len))
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(group_info_tbs(gi, &tbs));
        /* R-12.4.3-6, R-12.4.3-7 */
        return mls_verify_with_label(s, pub, pub_len, MLS_SIGN_LABEL_GROUP_INFO, tbs.data,
                                     tbs.len, gi->signature.data, gi->signature.len);
}

int
mls_welcome_verify_confirmation_tag(const struct mls_suite *s, const struct mls_group_info *gi,
                                    const uint8_t *confirmation_key, size_t key_len)
{
        const struct mls_bytes *cth;

        if (!s || !gi || !confirmation_key)
                return MLS_E_INVALID_ARGUMENT;
        cth = &gi->group_context.confirmed_transcript_hash;
        /* R-12.4.3.1-22: MAC(confirmation_key, confirmed_transcript_hash),
         * compared in constant time. */
        return mls_crypto_mac_verify(s, confirmation_key, key_len, cth->data, cth->len,
                                     gi->confirmation_tag.data, gi->confirmation_tag.len,
                                     MLS_E_BAD_CONFIRMATION_TAG);
}

/* ---- joiner ---- */

int
mls_welcome_find_ref(const struct mls_welcome *w, const uint8_t *ref, size_t ref_len,
                     size_t *ret_index)
{
        struct mls_bytes want = { .data = (uint8_t *)(uintptr_t)ref, .len = ref_len };

        if (!w || !ref || ref_len == 0 || !ret_index)
                return MLS_E_INVALID_ARGUMENT;
        /* R-12.4.3.1-2 (KeyPackageRefs are public: a plain compare). */
        for (size_t i = 0; i < w->n_secrets; i++) {
                if (mls_bytes_eq(&w->secrets[i].new_member, &want)) {
                        *ret_index = i;
                        return 0;
                }
        }
        return MLS_E_KEY_PACKAGE_NOT_FOUND;
}

/* KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)
 * (RFC 9420 section 5.2); out holds hash_len bytes. */
static int
key_package_ref(const struct mls_suite *s, const struct mls_key_package *kp, uint8_t *out)
{
        _bytes_ struct mls_bytes enc = { 0 };

        MLS_TRY(mls_key_package_to_bytes(kp, &enc));
        return mls_make_key_package_ref(s, enc.data, enc.len, out);
}

int
mls_welcome_find_key_package(const struct mls_suite *s, const struct mls_welcome *w,
                             const struct mls_key_package *kp, size_t *ret_index)
{
        uint8_t ref[MLS_MAX_HASH_LEN];

        if (!s || !w || !kp || !ret_index)
                return MLS_E_INVALID_ARGUMENT;
        /* R-12.4.3.1-3 */
        if (w->cipher_suite != s->id || kp->cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        MLS_TRY(key_package_ref(s, kp, ref));
        return mls_welcome_find_ref(w, ref, s->hash_len, ret_index);
}

int
mls_welcome_decrypt_secrets(const struct mls_suite *s, const struct mls_welcome *w,
                            size_t index, const struct mls_secret *init_priv,
                            struct mls_group_secrets *ret_gs)
{
        _mls_secret_ struct mls_secret *pt = NULL;
        _mls_cleanup_(mls_group_secrets_clear) struct mls_group_secrets gs = { 0 };
        const struct mls_hpke_ciphertext *egs;
        size_t n_excl = 0;

        if (!s || !w || !init_priv || !ret_gs || index >= w->n_secrets)
                return MLS_E_INVALID_ARGUMENT;
        if (w->cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        egs = &w->secrets[index].encrypted_group_secrets;
        /* R-12.4.3.1-4:
         *   group_secrets = DecryptWithLabel(init_key_priv, "Welcome",
         *                       encrypted_group_info, kem_output, ciphertext) */
        MLS_TRY(mls_decrypt_with_label(s, init_priv, "Welcome", w->encrypted_group_info.data,
                                       w->encrypted_group_info.len, egs->kem_output.data,
                                       egs->kem_output.len, egs->ciphertext.data,
                                       egs->ciphertext.len, &pt));
        /* Decoded straight from the guarded plaintext; the secrets land in
         * struct mls_secret. */
        MLS_TRY(mls_group_secrets_from_bytes(pt->data, pt->len, &gs));
        if (!gs.joiner_secret || gs.joiner_secret->len != s->hash_len)
                return MLS_E_INVALID_MESSAGE;
        if (gs.path_secret && gs.path_secret->len != s->hash_len)
                return MLS_E_INVALID_MESSAGE;
        /* R-12.4.3.1-6: at most one resumption PSK with usage reinit or
         * branch. */
        for (size_t i = 0; i < gs.n_psks; i++)
                if (gs.psks[i].psktype == MLS_PSK_RESUMPTION &&
                    (gs.psks[i].usage == MLS_PSK_USAGE_REINIT ||
                     gs.psks[i].usage == MLS_PSK_USAGE_BRANCH))
                        n_excl++;
        if (n_excl > 1)
                return MLS_E_INVALID_MESSAGE;
        *ret_gs = gs;
        memset(&gs, 0, sizeof(gs));
        return 0;
}

int
mls_welcome_decrypt_group_info(const struct mls_suite *s, const struct mls_welcome *w,
                               const struct mls_secret *joiner_secret,
                               const struct mls_secret *psk_secret,
                               struct mls_group_info *ret_gi)
{
        _mls_hash_buf_ uint8_t ws[MLS_MAX_HASH_LEN];
        _mls_aead_buf_ struct mls_aead_buf kn;
        _mls_free_ uint8_t *pt = NULL;
        _mls_cleanup_(mls_group_info_clear) struct mls_group_info gi = { 0 };
        const struct mls_bytes *egi;
        size_t pt_len;

        if (!s || !w || !joiner_secret || !ret_gi)
                return MLS_E_INVALID_ARGUMENT;
        if (w->cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        egi = &w->encrypted_group_info;
        /* R-12.4.3.1-7; welcome_secret, key and nonce are wiped stack
         * temporaries. */
        MLS_TRY(mls_ks_welcome_secret_into(s, joiner_secret, psk_secret, ws));
        MLS_TRY(mls_ks_welcome_key_nonce_into(s, ws, s->hash_len, kn.key, kn.nonce));
        mls_wipe(ws, sizeof(ws));
        if (egi->len < s->aead_tag_len)
                return MLS_E_DECRYPT;
        pt_len = egi->len - s->aead_tag_len;
        pt = malloc(pt_len ? pt_len : 1);
        if (!pt)
                return MLS_E_NOMEM;
        MLS_TRY(mls_crypto_aead_open(s, kn.key, kn.nonce, NULL, 0, egi->data, egi->len, pt));
        mls_aead_buf_wipe(&kn);
        MLS_TRY(mls_group_info_from_bytes(pt, pt_len, &gi));
        /* R-12.4.3.1-10 (the KeyPackage's suite is s, checked by
         * mls_welcome_find_key_package). */
        if (gi.group_context.cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        *ret_gi = gi;
        memset(&gi, 0, sizeof(gi));
        return 0;
}

/* ---- committer ---- */

/* The encoded size of n_members GroupSecrets (RFC 9420 section 12.4.3.1)
 * with Nh-byte joiner and path secrets and the PSK list given:
 *   opaque joiner_secret<V>; optional<PathSecret> path_secret;
 *   PreSharedKeyID psks<V>;
 * The PSK list is public (it travels in PreSharedKey proposals), so it is
 * measured with an ordinary writer. */
static int
group_secrets_size_hint(size_t nh, const struct mls_psk_id *psks, size_t n_psks,
                        size_t n_members, size_t *ret_size)
{
        _mls_writer_ struct mls_writer w = { 0 };
        size_t mark, one;

        mls_writer_init(&w);
        MLS_TRY(mls_writer_vec_begin(&w, &mark));
        for (size_t i = 0; i < n_psks; i++)
                MLS_TRY(mls_psk_id_encode(&psks[i], &w));
        MLS_TRY(mls_writer_vec_end(&w, mark));
        one = 2 * (mls_varint_size(nh) + nh) + 1 + w.len;
        return mls_size_mul(one, n_members, ret_size);
}

/* Frees a partly built array of EncryptedGroupSecrets. */
struct egs_array {
        struct mls_encrypted_group_secrets *v;
        size_t n;
};

static void
egs_array_clear(struct egs_array *a)
{
        for (size_t i = 0; i < a->n; i++)
                mls_encrypted_group_secrets_clear(&a->v[i]);
        free(a->v);
        *a = (struct egs_array){ 0 };
}

int
mls_welcome_build(const struct mls_epoch_secrets *ks, const struct mls_group_info *gi,
                  const struct mls_psk_id *psks, size_t n_psks,
                  const struct mls_welcome_new_member *members, size_t n_members,
                  const struct mls_rng *rng, struct mls_welcome *ret_w)
{
        _mls_aead_buf_ struct mls_aead_buf kn;
        _bytes_ struct mls_bytes gi_bytes = { 0 }, egi = { 0 };
        _mls_writer_ struct mls_writer pts = { 0 };
        _mls_free_ size_t *off = NULL;
        _mls_cleanup_(egs_array_clear) struct egs_array out = { 0 };
        struct mls_hpke_info hp;
        const struct mls_suite *s;
        const uint8_t *welcome_secret;
        struct mls_secret joiner;
        size_t nh, n_off, pts_size;

        if (!ks || !gi || (n_psks && !psks) || !members || n_members == 0 || !rng || !ret_w)
                return MLS_E_INVALID_ARGUMENT;
        s = mls_ks_suite(ks);
        nh = s->hash_len;
        welcome_secret = mls_ks_get(ks, MLS_KS_WELCOME_SECRET);
        if (!welcome_secret || !mls_ks_has(ks, MLS_KS_JOINER_SECRET))
                return MLS_E_INVALID_ARGUMENT;
        if (gi->group_context.cipher_suite != s->id)
                return MLS_E_WRONG_SUITE;
        if (gi->signature.len == 0)
                return MLS_E_INVALID_ARGUMENT;
        for (size_t i = 0; i < n_members; i++) {
                const struct mls_welcome_new_member *m = &members[i];

                if (!m->key_package)
                        return MLS_E_INVALID_ARGUMENT;
                if (m->key_package->cipher_suite != s->id)
                        return MLS_E_WRONG_SUITE;
                if (m->path_secret && m->path_secret->len != nh)
                        return MLS_E_INVALID_ARGUMENT;
        }

        /* The GroupInfo, encoded and encrypted once for everybody
         * (R-12.4.3.1-7): AEAD.Seal(welcome_key, welcome_nonce, "", GroupInfo). */
        MLS_TRY(mls_group_info_to_bytes(gi, &gi_bytes));
        MLS_TRY(mls_ks_welcome_key_nonce_into(s, welcome_secret, nh, kn.key, kn.nonce));
        MLS_TRY(mls_size_add(gi_bytes.len, s->aead_tag_len, &egi.len));
        egi.data = malloc(egi.len);
        if (!egi.data)
                return MLS_E_NOMEM;
        MLS_TRY(mls_crypto_aead_seal(s, kn.key, kn.nonce, NULL, 0, gi_bytes.data, gi_bytes.len,
                                     egi.data));
        mls_aead_buf_wipe(&kn);

        /* Every GroupSecrets plaintext, back to back in one guarded buffer
         * sized up front (one allocation, not one per doubling);
         * off[i] .. off[i + 1] is member i's. joiner_secret is a borrowed
         * view of the epoch's slab (never freed). */
        joiner = (struct mls_secret){ .len = nh,
                                      .data = (uint8_t *)(uintptr_t)mls_ks_get(
                                              ks, MLS_KS_JOINER_SECRET) };
        MLS_TRY(mls_size_add(n_members, 1, &n_off));
        off = calloc(n_off, sizeof(*off));
        if (!off)
                return MLS_E_NOMEM;
        MLS_TRY(group_secrets_size_hint(nh, psks, n_psks, n_members, &pts_size));
        mls_writer_init_secure(&pts);
        MLS_TRY(mls_writer_reserve(&pts, pts_size));
        for (size_t i = 0; i < n_members; i++) {
                /* Borrowed views (never cleared): the struct's pointers are
                 * not const, the data is never written. */
                struct mls_group_secrets gs = {
                        .joiner_secret = &joiner,
                        .path_secret = (struct mls_secret *)(uintptr_t)members[i].path_secret,
                        .psks = (struct mls_psk_id *)(uintptr_t)psks,
                        .n_psks = n_psks,
                };

                off[i] = pts.len;
                MLS_TRY(mls_group_secrets_encode(&pts, &gs));
        }
        off[n_members] = pts.len;

        /* One HPKE encapsulation and seal per member (R-12.4.3.1-4):
         * EncryptWithLabel(init_key, "Welcome", encrypted_group_info,
         * GroupSecrets). The EncryptContext covers the whole encrypted
         * GroupInfo (megabytes with a ratchet_tree extension), so it is
         * hashed once for all members, not once per member. */
        MLS_TRY(mls_encrypt_with_label_prepare(s, "Welcome", egi.data, egi.len, &hp));
        out.v = calloc(n_members, sizeof(*out.v));
        if (!out.v)
                return MLS_E_NOMEM;
        for (size_t i = 0; i < n_members; i++) {
                const struct mls_welcome_new_member *m = &members[i];
                struct mls_encrypted_group_secrets *e = &out.v[out.n];
                uint8_t ref[MLS_MAX_HASH_LEN];

                if (m->ref)
                        memcpy(ref, m->ref, nh);
                else
                        MLS_TRY(key_package_ref(s, m->key_package, ref));
                MLS_TRY(mls_bytes_copy(&e->new_member, ref, nh));
                out.n++; /* e is cleared with the array from here on */
                MLS_TRY(mls_encrypt_with_label_prepared(
                        &hp, rng, m->key_package->init_key.data, m->key_package->init_key.len,
                        pts.buf + off[i], off[i + 1] - off[i],
                        &e->encrypted_group_secrets.kem_output,
                        &e->encrypted_group_secrets.ciphertext));
        }
        mls_writer_clear(&pts);

        *ret_w = (struct mls_welcome){
                .cipher_suite = s->id,
                .secrets = out.v,
                .n_secrets = out.n,
                .encrypted_group_info = egi,
        };
        out = (struct egs_array){ 0 };
        egi = (struct mls_bytes){ 0 };
        return 0;
}
