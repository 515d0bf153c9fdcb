/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mls/keyschedule: the epoch key schedule against an embedded
 * key-schedule.json case (suite 1, epochs 0 and 1), epoch chaining, the
 * joiner path, welcome key/nonce, exporter, external key pair and external
 * init, deletion, saved state, argument checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/keyschedule.h"
#include "mls/labeled.h"
#include "tests/lib/testutil.h"

/* key-schedule.json case 0 (suite 1), epochs 0 and 1. */
#define KS_INIT0 "a897b53575b4dd35fed4466e4e714bfa949eaa72e616a9c68a47b39cb7a60d2e"

static const struct ks_epoch_vec {
        const char *commit_secret, *psk_secret, *group_context;
        const char *joiner_secret, *welcome_secret, *init_secret, *sender_data_secret;
        const char *encryption_secret, *exporter_secret, *epoch_authenticator;
        const char *external_secret, *confirmation_key, *membership_key, *resumption_psk;
        const char *external_pub;
        const char *exp_label, *exp_context, *exp_secret;
} ks_vec[2] = {
        {
                .commit_secret = "a22606222e350fd7f0937168fe7548fb06626ab143cba7611d641693b1447509",
                .psk_secret = "e871b247379522395689182736cb3d1e7b108d6ae934b802223975de8dc3f80b",
                .group_context =
                        "0001000120a897b53575b4dd35fed4466e4e714bfa949eaa72e616a9c68a47b39cb7a60d2e"
                        "0000000000000000209769e302a99c457350a8e636009b12a2fee068664004606d6318eb3a"
                        "1977d818205e57c9364dc71f0f71b19ffe561ab77257c490708a47e29f8f73f2b318201d2f00",
                .joiner_secret = "4fb996ba26b29a70f3ce6c310151ce8701cb812d027f4d4bbf5cc4e9f884638d",
                .welcome_secret = "ddcd9ced2d264798f876cbd00a200cdc4d77311dfef96975257efb66b0ef2c4d",
                .init_secret = "505be2ce2ff922aa11e0a03d76346dda2981f1d9edf5cf98ecfc8757f69b00c9",
                .sender_data_secret =
                        "9b3995e08589548b75e149190060cf35228df0eefe3527ea2fb39e49a84125b4",
                .encryption_secret =
                        "01588615c93d02c83bda0b587473303b1637a92bf80783206d963f9197c40a13",
                .exporter_secret =
                        "5a097e149f2a375d0b9e1d1f4dc3a9c6c1788df888e5441f41a8791f4dc56cea",
                .epoch_authenticator =
                        "7375d449cde2c5a856c13c8eb52c16bf9ef29eceef59b09d1f946bd1bac24643",
                .external_secret =
                        "b5cb5666cfb9c501ed76715c6ed1cafbed5061cd6b86898ae5d3fd4cb05abb26",
                .confirmation_key =
                        "feabd690de3b4ce985a3dfad86a4c4e6a0be9b84e7cc764842784f2a6b938b75",
                .membership_key = "970744ba7edd21700a3e106cb4e2b4c657cef6b41a1fe5b5a1418f86e76e037e",
                .resumption_psk = "d78ca815e192823f5c7c94b0156bdc7af4791cfb3f240fff613c0c03c01dabd5",
                .external_pub = "640117516be304ac1160933c894a6df9290231f1843f3685c124fc42c785c02c",
                .exp_label = "9ba13d54ecdec7cbefcb47b4268d7b1990fabc6d6e67681e167959389d84e4e4",
                .exp_context = "884f1af892ab002f5be4c5d5081ade9e0e6418c6ea7a9a92e90534f19dcef785",
                .exp_secret = "dbce4e25e59ab4dfa6f6200f113ed08393cf6e7286d024811141c6a4dd11c0cb",
        },
        {
                .commit_secret = "7b3027aa5d2224aab7e2a18660bbf57930e2e21d95e02b849c704d970e3e28c5",
                .psk_secret = "ca7a68f2a8a52147d70f1eb7195de968d2e182b93596bc5a61393861e91180e4",
                .group_context =
                        "0001000120a897b53575b4dd35fed4466e4e714bfa949eaa72e616a9c68a47b39cb7a60d2e"
                        "000000000000000120826a4d3b0956277ce5e272e4d18fdca023ffb63ea4cea636e34cc837"
                        "ae7c5c5d2014a2985ea47db0685924a74d47ac8a08ec241f843b536dd1348e3ffb2d78184e00",
                .joiner_secret = "7ba2c5eed466d6fa8de0b0f33553c7b336a2580c03820e79f22e9416efc5b9f9",
                .welcome_secret = "161b3d492aed45f9d9cde3ad8c4e6c936ca1c104977b7668727a014374afe489",
                .init_secret = "88586b2252f06838106a97f5ad1f3357d99d718be8f44f61ab103be653fc608a",
                .sender_data_secret =
                        "64035464638ac7cf16583644e8117a84ca3c101eaa34a86ad4ead9524f8fb9bc",
                .encryption_secret =
                        "c607312fab6423cd728a25fd91e9905e058518d1bf171984ed5f4e4e057fa3be",
                .exporter_secret =
                        "047d983048b132b79ea4e2e578afd02a0f4717d166cefe46e43e2e965b5c9f4e",
                .epoch_authenticator =
                        "4bdbe62402b3caaadaf5c6fafd89db4db5ac7c7532f3e47d35c82b3998570361",
                .external_secret =
                        "19a4869847b2637e3700599304be769023c729334462919c395481f6ef174010",
                .confirmation_key =
                        "04ab9a788afe377d34b0fac1dc26085c85ac55a63e44b88da39fb4e58a898979",
                .membership_key = "1eb0202e445ebc744c00eb42951ad67638c51cc9a468d9035be06612ff5cd89a",
                .resumption_psk = "3b83961159a16b5d7c5f9a52344edfeea5ea92cf7b2fb069a53eedb90fe51de6",
                .external_pub = "4ad487e0aa90522dd81f9561695fd800569f313d33c42d1b2d785df734e96126",
                .exp_label = "ed66d7f1da52171ac9448f0f902edcfefa4ebbda843a43bd3d173cb7c5b4331e",
                .exp_context = "02dc18fc5bc4d9093cf41fa0053521653775b123784d40ac7d46cc5a72ef4d46",
                .exp_secret = "a702c3e70a89c06eae51aec3675918a4ee7698ae88c596dfb7abd1ed3a9ecf5e",
        },
};

static const struct mls_suite *
suite1(void)
{
        const struct mls_suite *s = mls_suite_get(1);

        assert_non_null(s);
        return s;
}

static struct mls_bytes
hex(const char *h)
{
        struct mls_bytes b = { 0 };

        assert_true(tu_hex_decode(h, &b));
        return b;
}

static struct mls_secret *
hex_secret(const char *h)
{
        struct mls_bytes b = hex(h);
        struct mls_secret *s = NULL;

        assert_int_equal(mls_secret_from(b.data, b.len, &s), 0);
        mls_bytes_clear(&b);
        return s;
}

static void
assert_hex_eq(const uint8_t *got, size_t len, const char *want)
{
        struct mls_bytes w = hex(want);

        assert_non_null(got);
        assert_int_equal(w.len, len);
        assert_memory_equal(got, w.data, len);
        mls_bytes_clear(&w);
}

/* A deterministic "random" source for tests: a counter stream. */
static int
counter_fill(void *ctx, uint8_t *buf, size_t len)
{
        uint8_t *ctr = ctx;

        for (size_t i = 0; i < len; i++)
                buf[i] = (*ctr)++;
        return 0;
}

static void
check_epoch(const struct mls_epoch_secrets *ks, const struct ks_epoch_vec *v)
{
        size_t nh = mls_ks_secret_len(ks);

        /* R-8-2 */
        assert_hex_eq(mls_ks_get(ks, MLS_KS_JOINER_SECRET), nh, v->joiner_secret);
        /* R-8-3 */
        assert_hex_eq(mls_ks_get(ks, MLS_KS_WELCOME_SECRET), nh, v->welcome_secret);
        /* R-8-4 */
        assert_hex_eq(mls_ks_get(ks, MLS_KS_INIT_SECRET), nh, v->init_secret);
        assert_hex_eq(mls_ks_get(ks, MLS_KS_SENDER_DATA_SECRET), nh, v->sender_data_secret);
        assert_hex_eq(mls_ks_get(ks, MLS_KS_ENCRYPTION_SECRET), nh, v->encryption_secret);
        assert_hex_eq(mls_ks_get(ks, MLS_KS_EXPORTER_SECRET), nh, v->exporter_secret);
        assert_hex_eq(mls_ks_get(ks, MLS_KS_EXTERNAL_SECRET), nh, v->external_secret);
        assert_hex_eq(mls_ks_get(ks, MLS_KS_CONFIRMATION_KEY), nh, v->confirmation_key);
        assert_hex_eq(mls_ks_get(ks, MLS_KS_MEMBERSHIP_KEY), nh, v->membership_key);
        assert_hex_eq(mls_ks_get(ks, MLS_KS_RESUMPTION_PSK), nh, v->resumption_psk);
        /* R-8.7-1 */
        assert_hex_eq(mls_ks_get(ks, MLS_KS_EPOCH_AUTHENTICATOR), nh, v->epoch_authenticator);
}

static struct mls_epoch_secrets *
epoch_from(const struct mls_secret *init, const struct mls_epoch_secrets *prev,
           const struct ks_epoch_vec *v)
{
        struct mls_secret *commit = hex_secret(v->commit_secret), *psk = hex_secret(v->psk_secret);
        struct mls_bytes gc = hex(v->group_context);
        struct mls_epoch_secrets *ks = NULL;

        if (prev)
                assert_int_equal(mls_ks_next(prev, commit, psk, gc.data, gc.len, &ks), 0);
        else
                assert_int_equal(mls_ks_from_init(suite1(), init, commit, psk, gc.data, gc.len, &ks),
                                 0);
        mls_secret_free(commit);
        mls_secret_free(psk);
        mls_bytes_clear(&gc);
        return ks;
}

/* R-8-2, R-8-3, R-8-4, R-8.7-1: epoch 0 of the embedded vector. */
static void
test_ks_vector_epoch0(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0);
        struct mls_epoch_secrets *ks;

        (void)state;
        ks = epoch_from(init, NULL, &ks_vec[0]);
        assert_ptr_equal(mls_ks_suite(ks), suite1());
        assert_int_equal(mls_ks_secret_len(ks), 32);
        check_epoch(ks, &ks_vec[0]);
        mls_ks_free(ks);
        mls_secret_free(init);
}

/* Epoch chaining: epoch 1 from epoch 0's init_secret (mls_ks_next), and
 * the same through an explicit copy of init_secret. */
static void
test_ks_epoch_chaining(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *init1 = NULL;
        struct mls_epoch_secrets *e0, *e1, *e1b;

        (void)state;
        e0 = epoch_from(init, NULL, &ks_vec[0]);
        e1 = epoch_from(NULL, e0, &ks_vec[1]);
        check_epoch(e1, &ks_vec[1]);
        assert_int_equal(mls_ks_copy(e0, MLS_KS_INIT_SECRET, &init1), 0);
        e1b = epoch_from(init1, NULL, &ks_vec[1]);
        check_epoch(e1b, &ks_vec[1]);
        /* The previous epoch is untouched by mls_ks_next. */
        check_epoch(e0, &ks_vec[0]);
        mls_ks_free(e1b);
        mls_ks_free(e1);
        mls_ks_free(e0);
        mls_secret_free(init1);
        mls_secret_free(init);
}

/* R-9.2-1, R-9.2-2: once the previous init_secret is deleted, the next
 * epoch cannot be derived from it any more; deleting wipes the value. */
static void
test_ks_delete_wipes_and_blocks_next(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *commit = hex_secret(ks_vec[1].commit_secret);
        struct mls_bytes gc = hex(ks_vec[1].group_context);
        struct mls_epoch_secrets *e0, *e1 = NULL;
        struct mls_secret *copy = NULL;

        (void)state;
        e0 = epoch_from(init, NULL, &ks_vec[0]);
        for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++)
                assert_true(mls_ks_has(e0, (enum mls_ks_secret)i));
        mls_ks_delete(e0, MLS_KS_INIT_SECRET);
        assert_false(mls_ks_has(e0, MLS_KS_INIT_SECRET));
        assert_null(mls_ks_get(e0, MLS_KS_INIT_SECRET));
        assert_int_equal(mls_ks_copy(e0, MLS_KS_INIT_SECRET, &copy), MLS_E_NOT_FOUND);
        assert_null(copy);
        assert_int_equal(mls_ks_next(e0, commit, NULL, gc.data, gc.len, &e1),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(e1);
        mls_ks_delete(e0, MLS_KS_INIT_SECRET); /* twice: no-op */
        /* Other values are still there. */
        assert_hex_eq(mls_ks_get(e0, MLS_KS_ENCRYPTION_SECRET), 32, ks_vec[0].encryption_secret);
        mls_ks_delete(e0, MLS_KS_ENCRYPTION_SECRET);
        assert_null(mls_ks_get(e0, MLS_KS_ENCRYPTION_SECRET));
        mls_ks_free(e0);
        mls_bytes_clear(&gc);
        mls_secret_free(commit);
        mls_secret_free(init);
}

/* R-12.4.3.1-21, R-8-3: the joiner path (joiner_secret + psk_secret + GC)
 * gives the same epoch; welcome_secret alone matches; R-12.4.3.1-7: the
 * welcome key and nonce are ExpandWithLabel "key"/"nonce" of it. */
static void
test_ks_joiner_path_and_welcome(void **state)
{
        struct mls_secret *joiner = hex_secret(ks_vec[0].joiner_secret);
        struct mls_secret *psk = hex_secret(ks_vec[0].psk_secret);
        struct mls_secret *ws = NULL, *key = NULL, *nonce = NULL, *k2 = NULL, *n2 = NULL;
        struct mls_bytes gc = hex(ks_vec[0].group_context);
        struct mls_epoch_secrets *ks = NULL;

        (void)state;
        assert_int_equal(mls_ks_from_joiner(suite1(), joiner, psk, gc.data, gc.len, &ks), 0);
        check_epoch(ks, &ks_vec[0]);
        assert_int_equal(mls_ks_welcome_secret(suite1(), joiner, psk, &ws), 0);
        assert_hex_eq(ws->data, ws->len, ks_vec[0].welcome_secret);
        assert_int_equal(mls_ks_welcome_key_nonce(suite1(), ws->data, ws->len, &key, &nonce), 0);
        assert_int_equal(key->len, 16);
        assert_int_equal(nonce->len, 12);
        assert_int_equal(mls_expand_with_label(suite1(), ws->data, ws->len, "key", NULL, 0, 16, &k2),
                         0);
        assert_int_equal(
                mls_expand_with_label(suite1(), ws->data, ws->len, "nonce", NULL, 0, 12, &n2), 0);
        assert_true(mls_secret_eq(key, k2));
        assert_true(mls_secret_eq(nonce, n2));
        /* A different psk_secret gives a different welcome secret. */
        mls_secret_free(ws);
        ws = NULL;
        assert_int_equal(mls_ks_welcome_secret(suite1(), joiner, NULL, &ws), 0);
        assert_false(sodium_memcmp(ws->data, mls_ks_get(ks, MLS_KS_WELCOME_SECRET), 32) == 0);
        /* Wrong-length welcome secret. */
        assert_int_equal(mls_ks_welcome_key_nonce(suite1(), ws->data, 31, &k2, &n2),
                         MLS_E_INVALID_ARGUMENT);
        mls_secret_free(ws);
        mls_secret_free(key);
        mls_secret_free(nonce);
        mls_secret_free(k2);
        mls_secret_free(n2);
        mls_ks_free(ks);
        mls_bytes_clear(&gc);
        mls_secret_free(psk);
        mls_secret_free(joiner);
}

/* NULL commit_secret / psk_secret mean the all-zero value. */
static void
test_ks_null_means_zero(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *zero = NULL;
        struct mls_bytes gc = hex(ks_vec[0].group_context);
        struct mls_epoch_secrets *a = NULL, *b = NULL;

        (void)state;
        assert_int_equal(mls_secret_new(32, &zero), 0);
        assert_int_equal(mls_ks_from_init(suite1(), init, NULL, NULL, gc.data, gc.len, &a), 0);
        assert_int_equal(mls_ks_from_init(suite1(), init, zero, zero, gc.data, gc.len, &b), 0);
        for (unsigned i = 0; i < MLS_KS_N_SECRETS; i++)
                assert_memory_equal(mls_ks_get(a, (enum mls_ks_secret)i),
                                    mls_ks_get(b, (enum mls_ks_secret)i), 32);
        /* ... and differ from the vector's epoch (non-zero inputs there). */
        {
                struct mls_bytes j = hex(ks_vec[0].joiner_secret);

                assert_memory_not_equal(mls_ks_get(a, MLS_KS_JOINER_SECRET), j.data, 32);
                mls_bytes_clear(&j);
        }
        mls_ks_free(a);
        mls_ks_free(b);
        mls_secret_free(zero);
        mls_bytes_clear(&gc);
        mls_secret_free(init);
}

/* Secrets of the wrong length and missing GroupContexts are refused. */
static void
test_ks_rejects_bad_arguments(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *short_s = NULL;
        struct mls_bytes gc = hex(ks_vec[0].group_context);
        struct mls_epoch_secrets *ks = NULL;

        (void)state;
        assert_int_equal(mls_secret_new(31, &short_s), 0);
        assert_int_equal(mls_ks_from_init(suite1(), short_s, NULL, NULL, gc.data, gc.len, &ks),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_from_init(suite1(), init, short_s, NULL, gc.data, gc.len, &ks),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_from_init(suite1(), init, NULL, short_s, gc.data, gc.len, &ks),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_from_init(suite1(), NULL, NULL, NULL, gc.data, gc.len, &ks),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_from_init(suite1(), init, NULL, NULL, NULL, 0, &ks),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_from_joiner(suite1(), short_s, NULL, gc.data, gc.len, &ks),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(ks);
        mls_secret_free(short_s);
        mls_bytes_clear(&gc);
        mls_secret_free(init);
}

/* R-8.5-3: MLS-Exporter with the vector's ASCII label; R-8.5-1: another
 * label or context gives another value; deleted exporter secret. */
static void
test_ks_exporter(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *out = NULL, *out2 = NULL;
        struct mls_bytes ctx = hex(ks_vec[0].exp_context);
        const char *label = ks_vec[0].exp_label;
        struct mls_epoch_secrets *ks;

        (void)state;
        ks = epoch_from(init, NULL, &ks_vec[0]);
        assert_int_equal(mls_ks_export(ks, (const uint8_t *)label, strlen(label), ctx.data, ctx.len,
                                       32, &out),
                         0);
        assert_hex_eq(out->data, out->len, ks_vec[0].exp_secret);
        mls_secret_free(out);
        out = NULL;
        assert_int_equal(mls_ks_export(ks, (const uint8_t *)"other", 5, ctx.data, ctx.len, 32, &out),
                         0);
        assert_int_equal(mls_ks_export(ks, (const uint8_t *)label, strlen(label), ctx.data,
                                       ctx.len - 1, 32, &out2),
                         0);
        assert_memory_not_equal(out->data, out2->data, 32);
        mls_secret_free(out);
        mls_secret_free(out2);
        out = NULL;
        /* Other lengths are fine; 0 is not. */
        assert_int_equal(mls_ks_export(ks, (const uint8_t *)"x", 1, NULL, 0, 100, &out), 0);
        assert_int_equal(out->len, 100);
        mls_secret_free(out);
        out = NULL;
        assert_int_equal(mls_ks_export(ks, (const uint8_t *)"x", 1, NULL, 0, 0, &out),
                         MLS_E_INVALID_ARGUMENT);
        mls_ks_delete(ks, MLS_KS_EXPORTER_SECRET);
        assert_int_equal(mls_ks_export(ks, (const uint8_t *)"x", 1, NULL, 0, 32, &out),
                         MLS_E_NOT_FOUND);
        assert_null(out);
        mls_ks_free(ks);
        mls_bytes_clear(&ctx);
        mls_secret_free(init);
}

/* R-8.7-1: the epoch authenticator leaves guarded memory as public bytes. */
static void
test_ks_epoch_authenticator(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0);
        struct mls_bytes auth = { 0 };
        struct mls_epoch_secrets *ks;

        (void)state;
        ks = epoch_from(init, NULL, &ks_vec[0]);
        assert_int_equal(mls_ks_epoch_authenticator(ks, &auth), 0);
        assert_hex_eq(auth.data, auth.len, ks_vec[0].epoch_authenticator);
        mls_bytes_clear(&auth);
        mls_ks_delete(ks, MLS_KS_EPOCH_AUTHENTICATOR);
        assert_int_equal(mls_ks_epoch_authenticator(ks, &auth), MLS_E_NOT_FOUND);
        mls_ks_free(ks);
        mls_secret_free(init);
}

/* R-8-5: external key pair = DeriveKeyPair(external_secret): deterministic,
 * equal to the vector's external_pub for both epochs, and different
 * between epochs. */
static void
test_ks_external_keypair_deterministic(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *p1 = NULL, *p2 = NULL, *p3 = NULL;
        struct mls_bytes pub1 = { 0 }, pub2 = { 0 }, pub3 = { 0 };
        struct mls_epoch_secrets *e0, *e1;

        (void)state;
        e0 = epoch_from(init, NULL, &ks_vec[0]);
        e1 = epoch_from(NULL, e0, &ks_vec[1]);
        assert_int_equal(mls_ks_external_keypair(e0, &p1, &pub1), 0);
        assert_int_equal(mls_ks_external_keypair(e0, &p2, &pub2), 0);
        assert_true(mls_secret_eq(p1, p2));
        assert_true(mls_bytes_eq(&pub1, &pub2));
        assert_hex_eq(pub1.data, pub1.len, ks_vec[0].external_pub);
        assert_int_equal(mls_ks_external_keypair(e1, &p3, &pub3), 0);
        assert_hex_eq(pub3.data, pub3.len, ks_vec[1].external_pub);
        assert_false(mls_bytes_eq(&pub1, &pub3));
        mls_secret_free(p1);
        mls_secret_free(p2);
        mls_secret_free(p3);
        mls_bytes_clear(&pub1);
        mls_bytes_clear(&pub2);
        mls_bytes_clear(&pub3);
        p1 = NULL;
        mls_ks_delete(e1, MLS_KS_EXTERNAL_SECRET);
        assert_int_equal(mls_ks_external_keypair(e1, &p1, &pub1), MLS_E_NOT_FOUND);
        assert_null(p1);
        mls_ks_free(e1);
        mls_ks_free(e0);
        mls_secret_free(init);
}

/* R-8.3-1, R-8.3-2: an external joiner's init_secret (SetupBaseS + export)
 * equals what the members recover from kem_output; a corrupted kem_output
 * does not give the same value. */
static void
test_ks_external_init_roundtrip(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *ext_priv = NULL;
        struct mls_secret *sent = NULL, *got = NULL, *bad = NULL;
        struct mls_bytes pub = { 0 }, kem = { 0 };
        struct mls_epoch_secrets *ks;
        int e;

        (void)state;
        ks = epoch_from(init, NULL, &ks_vec[0]);
        assert_int_equal(mls_ks_external_keypair(ks, &ext_priv, &pub), 0);
        assert_int_equal(
                mls_ks_external_init_send(suite1(), mls_rng_system(), pub.data, pub.len, &kem, &sent),
                0);
        assert_int_equal(kem.len, suite1()->kem_enc_len);
        assert_int_equal(sent->len, 32);
        assert_int_equal(mls_ks_external_init_recv(ks, kem.data, kem.len, &got), 0);
        assert_true(mls_secret_eq(sent, got));
        kem.data[0] ^= 0x01;
        e = mls_ks_external_init_recv(ks, kem.data, kem.len, &bad);
        if (e == 0)
                assert_false(mls_secret_eq(sent, bad));
        else
                assert_int_equal(e, MLS_E_BAD_KEY);
        /* Truncated kem_output is refused. */
        mls_secret_free(bad);
        bad = NULL;
        assert_true(mls_ks_external_init_recv(ks, kem.data, kem.len - 1, &bad) < 0);
        assert_null(bad);
        mls_secret_free(sent);
        mls_secret_free(got);
        mls_secret_free(ext_priv);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&kem);
        mls_ks_free(ks);
        mls_secret_free(init);
}

/* RFC 9420 section 11: epoch 0 of a new group from a random epoch secret;
 * no joiner/welcome; deterministic for a fixed rng, different otherwise. */
static void
test_ks_new_group(void **state)
{
        struct mls_bytes gc = hex(ks_vec[0].group_context);
        uint8_t c1 = 0, c2 = 0;
        struct mls_rng r1 = { counter_fill, &c1 }, r2 = { counter_fill, &c2 };
        struct mls_epoch_secrets *a = NULL, *b = NULL, *c = NULL;

        (void)state;
        assert_int_equal(mls_ks_new_group(suite1(), &r1, gc.data, gc.len, &a), 0);
        assert_int_equal(mls_ks_new_group(suite1(), &r2, gc.data, gc.len, &b), 0);
        assert_int_equal(mls_ks_new_group(suite1(), mls_rng_system(), gc.data, gc.len, &c), 0);
        assert_false(mls_ks_has(a, MLS_KS_JOINER_SECRET));
        assert_false(mls_ks_has(a, MLS_KS_WELCOME_SECRET));
        for (unsigned i = MLS_KS_SENDER_DATA_SECRET; i < MLS_KS_N_SECRETS; i++) {
                assert_true(mls_ks_has(a, (enum mls_ks_secret)i));
                assert_memory_equal(mls_ks_get(a, (enum mls_ks_secret)i),
                                    mls_ks_get(b, (enum mls_ks_secret)i), 32);
                assert_memory_not_equal(mls_ks_get(a, (enum mls_ks_secret)i),
                                        mls_ks_get(c, (enum mls_ks_secret)i), 32);
        }
        mls_ks_free(a);
        mls_ks_free(b);
        mls_ks_free(c);
        mls_bytes_clear(&gc);
}

/* Saved state round trip; decode rejects bad version, suite, mask and
 * truncation at every offset; encode needs a secure writer. */
static void
test_ks_encode_decode(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0), *enc = NULL;
        struct mls_epoch_secrets *ks, *back = NULL;
        struct mls_writer w;
        struct mls_reader r;
        uint8_t *g;

        (void)state;
        ks = epoch_from(init, NULL, &ks_vec[0]);
        mls_ks_delete(ks, MLS_KS_JOINER_SECRET);
        mls_writer_init(&w);
        assert_int_equal(mls_ks_encode(ks, &w), MLS_E_INVALID_ARGUMENT);
        mls_writer_clear(&w);
        mls_writer_init_secure(&w);
        assert_int_equal(mls_ks_encode(ks, &w), 0);
        assert_int_equal(mls_writer_finish_secret(&w, &enc), 0);
        assert_int_equal(enc->len, 1 + 2 + 2 + 10 * 32);

        g = tu_guarded_copy(enc->data, enc->len);
        mls_reader_init(&r, g, enc->len);
        assert_int_equal(mls_ks_decode(&r, &back), 0);
        assert_int_equal(mls_reader_done(&r), 0);
        assert_false(mls_ks_has(back, MLS_KS_JOINER_SECRET));
        for (unsigned i = MLS_KS_WELCOME_SECRET; i < MLS_KS_N_SECRETS; i++)
                assert_memory_equal(mls_ks_get(ks, (enum mls_ks_secret)i),
                                    mls_ks_get(back, (enum mls_ks_secret)i), 32);
        mls_ks_free(back);
        back = NULL;
        tu_guarded_free(g);

        for (size_t n = 0; n < enc->len; n++) {
                g = tu_guarded_copy(enc->data, n);
                mls_reader_init(&r, g, n);
                assert_int_equal(mls_ks_decode(&r, &back), MLS_E_TRUNCATED);
                assert_null(back);
                tu_guarded_free(g);
        }
        enc->data[0] = 2; /* version */
        mls_reader_init(&r, enc->data, enc->len);
        assert_int_equal(mls_ks_decode(&r, &back), MLS_E_BAD_STATE);
        enc->data[0] = 1;
        enc->data[2] = 99; /* suite */
        mls_reader_init(&r, enc->data, enc->len);
        assert_int_equal(mls_ks_decode(&r, &back), MLS_E_BAD_STATE);
        enc->data[2] = 1;
        enc->data[3] |= 0x80; /* mask bit 15 */
        mls_reader_init(&r, enc->data, enc->len);
        assert_int_equal(mls_ks_decode(&r, &back), MLS_E_BAD_STATE);
        assert_null(back);
        mls_secret_free(enc);
        mls_ks_free(ks);
        mls_secret_free(init);
}

/* R-8-3, R-12.4.3.1-7, R-8.5-3: the forms writing into caller memory give
 * the vector's welcome_secret and exported value and the allocating forms'
 * welcome key and nonce; they refuse what those refuse. */
static void
test_ks_into_forms(void **state)
{
        struct mls_secret *init = hex_secret(KS_INIT0);
        struct mls_secret *joiner = hex_secret(ks_vec[0].joiner_secret);
        struct mls_secret *psk = hex_secret(ks_vec[0].psk_secret);
        struct mls_secret *key = NULL, *nonce = NULL, *out = NULL;
        struct mls_bytes ctx = hex(ks_vec[0].exp_context);
        const char *label = ks_vec[0].exp_label;
        struct mls_epoch_secrets *ks;
        uint8_t ws[MLS_MAX_HASH_LEN], k[MLS_MAX_AEAD_KEY_LEN], n[MLS_MAX_AEAD_NONCE_LEN];
        uint8_t x[100];

        (void)state;
        assert_int_equal(mls_ks_welcome_secret_into(suite1(), joiner, psk, ws), 0);
        assert_hex_eq(ws, 32, ks_vec[0].welcome_secret);
        assert_int_equal(mls_ks_welcome_key_nonce_into(suite1(), ws, 32, k, n), 0);
        assert_int_equal(mls_ks_welcome_key_nonce(suite1(), ws, 32, &key, &nonce), 0);
        assert_memory_equal(k, key->data, 16);
        assert_memory_equal(n, nonce->data, 12);
        assert_int_equal(mls_ks_welcome_key_nonce_into(suite1(), ws, 31, k, n),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_welcome_key_nonce_into(suite1(), ws, 32, NULL, n),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_welcome_secret_into(suite1(), joiner, psk, NULL),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_welcome_secret_into(suite1(), psk /* fine: Nh bytes */, joiner,
                                                    ws),
                         0);

        ks = epoch_from(init, NULL, &ks_vec[0]);
        assert_int_equal(mls_ks_export_into(ks, (const uint8_t *)label, strlen(label), ctx.data,
                                            ctx.len, x, 32),
                         0);
        assert_hex_eq(x, 32, ks_vec[0].exp_secret);
        assert_int_equal(mls_ks_export_into(ks, (const uint8_t *)"x", 1, NULL, 0, x, 100), 0);
        assert_int_equal(mls_ks_export(ks, (const uint8_t *)"x", 1, NULL, 0, 100, &out), 0);
        assert_memory_equal(x, out->data, 100);
        assert_int_equal(mls_ks_export_into(ks, (const uint8_t *)"x", 1, NULL, 0, x, 0),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_export_into(ks, (const uint8_t *)"x", 1, NULL, 0, NULL, 32),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_ks_export_into(ks, (const uint8_t *)"x", 1, NULL, 0, x, 0x10000),
                         MLS_E_INVALID_ARGUMENT);
        mls_ks_delete(ks, MLS_KS_EXPORTER_SECRET);
        assert_int_equal(mls_ks_export_into(ks, (const uint8_t *)"x", 1, NULL, 0, x, 32),
                         MLS_E_NOT_FOUND);
        mls_secret_free(key);
        mls_secret_free(nonce);
        mls_secret_free(out);
        mls_ks_free(ks);
        mls_bytes_clear(&ctx);
        mls_secret_free(init);
        mls_secret_free(joiner);
        mls_secret_free(psk);
}

/* R-8.3-1, R-8.3-2 in every suite: the members' side derives
 * external_priv into a stack buffer; both sides agree. */
static void
test_ks_external_init_all_suites(void **state)
{
        size_t n;
        const uint16_t *ids = mls_suite_ids(&n);
        static const uint8_t gc[] = "a group context";

        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);
                struct mls_epoch_secrets *ks = NULL;
                struct mls_secret *priv = NULL, *sent = NULL, *got = NULL;
                struct mls_bytes pub = { 0 }, kem = { 0 };

                assert_int_equal(mls_ks_new_group(s, mls_rng_system(), gc, sizeof(gc), &ks), 0);
                assert_int_equal(mls_ks_external_keypair(ks, &priv, &pub), 0);
                assert_int_equal(mls_ks_external_init_send(s, mls_rng_system(), pub.data, pub.len,
                                                           &kem, &sent),
                                 0);
                assert_int_equal(mls_ks_external_init_recv(ks, kem.data, kem.len, &got), 0);
                assert_true(mls_secret_eq(sent, got));
                mls_secret_free(got);
                got = NULL;
                mls_ks_delete(ks, MLS_KS_EXTERNAL_SECRET);
                assert_int_equal(mls_ks_external_init_recv(ks, kem.data, kem.len, &got),
                                 MLS_E_NOT_FOUND);
                assert_null(got);
                mls_secret_free(priv);
                mls_secret_free(sent);
                mls_bytes_clear(&pub);
                mls_bytes_clear(&kem);
                mls_ks_free(ks);
        }
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ks_vector_epoch0),
                cmocka_unit_test(test_ks_epoch_chaining),
                cmocka_unit_test(test_ks_delete_wipes_and_blocks_next),
                cmocka_unit_test(test_ks_joiner_path_and_welcome),
                cmocka_unit_test(test_ks_null_means_zero),
                cmocka_unit_test(test_ks_rejects_bad_arguments),
                cmocka_unit_test(test_ks_exporter),
                cmocka_unit_test(test_ks_epoch_authenticator),
                cmocka_unit_test(test_ks_external_keypair_deterministic),
                cmocka_unit_test(test_ks_external_init_roundtrip),
                cmocka_unit_test(test_ks_new_group),
                cmocka_unit_test(test_ks_encode_decode),
                cmocka_unit_test(test_ks_into_forms),
                cmocka_unit_test(test_ks_external_init_all_suites),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
