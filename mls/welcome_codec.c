/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9420 wire structures, part 4: joining (section 12.4.3): GroupInfo
 * and GroupInfoTBS, GroupSecrets, EncryptedGroupSecrets, Welcome.
 * Contracts: mls/messages.h.
 */
#include "mls/messages-internal.h"

/* ---- GroupInfo ---- */

/*
 * RFC 9420 section 12.4.3:
 *   struct {
 *       GroupContext group_context;
 *       Extension extensions<V>;
 *       MAC confirmation_tag;
 *       uint32 signer;
 *       // SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)
 *       opaque signature<V>;
 *   } GroupInfo;
 * R-12.4.3-2, R-13.4-4: unknown extensions are kept (ignored above);
 * duplicates are rejected (R-13.4-5).
 */
int
mls_group_info_decode(struct mls_reader *r, struct mls_group_info *ret)
{
        _mls_cleanup_(mls_group_info_clear) struct mls_group_info t = { 0 };

        MLS_TRY(mls_group_context_decode(r, &t.group_context));
        MLS_TRY(mls_extension_list_decode(r, &t.extensions));
        MLS_TRY(mls_reader_opaque(r, &t.confirmation_tag));
        MLS_TRY(mls_reader_u32(r, &t.signer));
        MLS_TRY(mls_reader_opaque(r, &t.signature));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

/*
 * RFC 9420 section 12.4.3 (R-12.4.3-7):
 *   struct {
 *       GroupContext group_context;
 *       Extension extensions<V>;
 *       MAC confirmation_tag;
 *       uint32 signer;
 *   } GroupInfoTBS;
 */
int
mls_group_info_tbs_encode(struct mls_writer *w, const struct mls_group_info *x)
{
        MLS_TRY(mls_group_context_encode(w, &x->group_context));
        MLS_TRY(mls_extension_list_encode(w, &x->extensions));
        MLS_TRY(mls_writer_bytes_(w, &x->confirmation_tag));
        return mls_writer_u32(w, x->signer);
}

int
mls_group_info_encode(struct mls_writer *w, const struct mls_group_info *x)
{
        MLS_TRY(mls_group_info_tbs_encode(w, x));
        return mls_writer_bytes_(w, &x->signature);
}

void
mls_group_info_clear(struct mls_group_info *x)
{
        if (!x)
                return;
        mls_group_context_clear(&x->group_context);
        mls_extension_list_clear(&x->extensions);
        mls_bytes_clear(&x->confirmation_tag);
        mls_bytes_clear(&x->signature);
        *x = (struct mls_group_info){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(group_info)

/* ---- GroupSecrets ---- */

/*
 * RFC 9420 section 12.4.3.1:
 *   struct { opaque path_secret<V>; } PathSecret;
 *   struct {
 *       opaque joiner_secret<V>;
 *       optional<PathSecret> path_secret;
 *       PreSharedKeyID psks<V>;
 *   } GroupSecrets;
 * joiner_secret and path_secret go straight from the (secret) plaintext
 * into guarded memory.
 */
int
mls_group_secrets_decode(struct mls_reader *r, struct mls_group_secrets *ret)
{
        _mls_cleanup_(mls_group_secrets_clear) struct mls_group_secrets t = { 0 };
        struct mls_reader v;
        bool present;

        MLS_TRY(mls_reader_opaque_secret(r, &t.joiner_secret));
        /* R-2.1.1-1: the presence octet is 0 or 1 (codec). */
        MLS_TRY(mls_reader_optional(r, &present));
        if (present)
                MLS_TRY(mls_reader_opaque_secret(r, &t.path_secret));
        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_psk_id_ struct mls_psk_id id = { 0 };

                MLS_TRY(mls_psk_id_decode(&v, &id));
                MLS_TRY(MLS_ARR_TAKE(t.psks, t.n_psks, id));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_group_secrets_encode(struct mls_writer *w, const struct mls_group_secrets *x)
{
        size_t m;

        if (!x->joiner_secret)
                return MLS_E_INVALID_ARGUMENT;
        MLS_TRY(mls_writer_opaque(w, x->joiner_secret->data, x->joiner_secret->len));
        MLS_TRY(mls_writer_optional(w, x->path_secret != NULL));
        if (x->path_secret)
                MLS_TRY(mls_writer_opaque(w, x->path_secret->data, x->path_secret->len));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n_psks; i++)
                MLS_TRY(mls_psk_id_encode(&x->psks[i], w));
        return mls_writer_vec_end(w, m);
}

void
mls_group_secrets_clear(struct mls_group_secrets *x)
{
        if (!x)
                return;
        mls_secret_freep(&x->joiner_secret);
        mls_secret_freep(&x->path_secret);
        for (size_t i = 0; i < x->n_psks; i++)
                mls_psk_id_clear(&x->psks[i]);
        free(x->psks);
        *x = (struct mls_group_secrets){ 0 };
}

int
mls_group_secrets_from_bytes(const uint8_t *p, size_t len, struct mls_group_secrets *ret)
{
        _mls_cleanup_(mls_group_secrets_clear) struct mls_group_secrets t = { 0 };
        struct mls_reader r;

        mls_reader_init(&r, p, len);
        MLS_TRY(mls_group_secrets_decode(&r, &t));
        MLS_TRY(mls_reader_done(&r));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_group_secrets_to_secret(const struct mls_group_secrets *x, struct mls_secret **ret)
{
        _mls_writer_ struct mls_writer w = { .secure = true };

        MLS_TRY(mls_group_secrets_encode(&w, x));
        return mls_writer_finish_secret(&w, ret);
}

/* ---- EncryptedGroupSecrets, Welcome ---- */

/*
 * RFC 9420 section 12.4.3.1:
 *   struct {
 *       KeyPackageRef new_member;
 *       HPKECiphertext encrypted_group_secrets;
 *   } EncryptedGroupSecrets;
 * KeyPackageRef is opaque HashReference<V> (section 5.2).
 */
int
mls_encrypted_group_secrets_decode(struct mls_reader *r, struct mls_encrypted_group_secrets *ret)
{
        _mls_cleanup_(mls_encrypted_group_secrets_clear) struct mls_encrypted_group_secrets t = {
                0
        };

        MLS_TRY(mls_reader_opaque(r, &t.new_member));
        MLS_TRY(mls_hpke_ciphertext_decode(r, &t.encrypted_group_secrets));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_encrypted_group_secrets_encode(struct mls_writer *w,
                                   const struct mls_encrypted_group_secrets *x)
{
        MLS_TRY(mls_writer_bytes_(w, &x->new_member));
        return mls_hpke_ciphertext_encode(w, &x->encrypted_group_secrets);
}

void
mls_encrypted_group_secrets_clear(struct mls_encrypted_group_secrets *x)
{
        if (!x)
                return;
        mls_bytes_clear(&x->new_member);
        mls_hpke_ciphertext_clear(&x->encrypted_group_secrets);
}

MLS_MESSAGES_DEFINE_BYTES_(encrypted_group_secrets)

/*
 * RFC 9420 section 12.4.3.1:
 *   struct {
 *       CipherSuite cipher_suite;
 *       EncryptedGroupSecrets secrets<V>;
 *       opaque encrypted_group_info<V>;
 *   } Welcome;
 */
int
mls_welcome_decode(struct mls_reader *r, struct mls_welcome *ret)
{
        _mls_cleanup_(mls_welcome_clear) struct mls_welcome t = { 0 };
        struct mls_reader v;

        MLS_TRY(mls_reader_u16(r, &t.cipher_suite));
        MLS_TRY(mls_reader_vec(r, &v));
        while (!mls_reader_empty(&v)) {
                _mls_cleanup_(mls_encrypted_group_secrets_clear) struct mls_encrypted_group_secrets
                        s = { 0 };

                MLS_TRY(mls_encrypted_group_secrets_decode(&v, &s));
                MLS_TRY(MLS_ARR_TAKE(t.secrets, t.n_secrets, s));
        }
        MLS_TRY(mls_reader_done(&v));
        MLS_TRY(mls_reader_opaque(r, &t.encrypted_group_info));
        MLS_MOVE_OUT(ret, t);
        return 0;
}

int
mls_welcome_encode(struct mls_writer *w, const struct mls_welcome *x)
{
        size_t m;

        MLS_TRY(mls_writer_u16(w, x->cipher_suite));
        MLS_TRY(mls_writer_vec_begin(w, &m));
        for (size_t i = 0; i < x->n_secrets; i++)
                MLS_TRY(mls_encrypted_group_secrets_encode(w, &x->secrets[i]));
        MLS_TRY(mls_writer_vec_end(w, m));
        return mls_writer_bytes_(w, &x->encrypted_group_info);
}

void
mls_welcome_clear(struct mls_welcome *x)
{
        if (!x)
                return;
        for (size_t i = 0; i < x->n_secrets; i++)
                mls_encrypted_group_secrets_clear(&x->secrets[i]);
        free(x->secrets);
        mls_bytes_clear(&x->encrypted_group_info);
        *x = (struct mls_welcome){ 0 };
}

MLS_MESSAGES_DEFINE_BYTES_(welcome)
