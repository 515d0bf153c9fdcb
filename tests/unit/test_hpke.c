/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of mls/hpke: the RFC 9180 appendix A base-mode vectors for
 * the four cipher suites MLS shares with them, round trips for all seven
 * suites, tampered enc / ciphertext / aad / info, sequence numbers and the
 * message limit.
 *
 * R-5.1.3-1: EncryptWithLabel is HPKE base mode (this file proves the HPKE
 * layer; test_labeled.c the MLS framing around it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "mls/crypto_internal.h"
#include "mls/hpke.h"
#include "tests/lib/testutil.h"

struct hpke_enc {
        uint64_t seq;
        const char *pt, *aad, *nonce, *ct;
};

struct hpke_exp {
        const char *ctx;
        size_t len;
        const char *value;
};

struct hpke_vec {
        uint16_t suite;
        const char *info, *ikme, *pkem, *skem, *ikmr, *pkrm, *skrm, *enc, *shared_secret;
        const char *key, *base_nonce, *exporter_secret;
        size_t enc_n;
        struct hpke_enc encs[6];
        size_t exp_n;
        struct hpke_exp exps[3];
};

/* RFC 9180 appendix A.1.1, A.2.1, A.3.1 and A.6.1 (mode_base), extracted
 * from /work/shared/specs/rfc9180-hpke.md:
 *   DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM       = suite 1
 *   DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305  = suite 3
 *   DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM        = suite 2
 *   DHKEM(P-521, HKDF-SHA512), HKDF-SHA512, AES-256-GCM        = suite 5 */
static const struct hpke_vec vecs[] = {
        {
                .suite = 1,
                .info =
                        "4f6465206f6e2061204772656369616e2055726e",
                .ikme =
                        "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
                .pkem =
                        "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
                .skem =
                        "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
                .ikmr =
                        "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
                .pkrm =
                        "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
                .skrm =
                        "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
                .enc =
                        "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
                .shared_secret =
                        "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
                .key =
                        "4531685d41d65f03dc48f6b8302c05b0",
                .base_nonce =
                        "56d890e5accaaf011cff4b7d",
                .exporter_secret =
                        "45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
                .enc_n = 6,
                .encs = {
                        { 0, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d30", "56d890e5accaaf011cff4b7d",
                          "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
                          "6d8770ac83d07bea87e13c512a" },
                        { 1, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d31", "56d890e5accaaf011cff4b7c",
                          "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab25"
                          "1c03d0c22a56b8ca42c2063b84" },
                        { 2, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d32", "56d890e5accaaf011cff4b7f",
                          "498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb7251649158"
                          "8d96a19ad4a683518973dcc180" },
                        { 4, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d34", "56d890e5accaaf011cff4b79",
                          "583bd32bc67a5994bb8ceaca813d369bca7b2a42408cddef5e22f880b631215a"
                          "09fc0012bc69fccaa251c0246d" },
                        { 255, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323535", "56d890e5accaaf011cff4b82",
                          "7175db9717964058640a3a11fb9007941a5d1757fda1a6935c805c21af32505b"
                          "f106deefec4a49ac38d71c9e0a" },
                        { 256, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323536", "56d890e5accaaf011cff4a7d",
                          "957f9800542b0b8891badb026d79cc54597cb2d225b54c00c5238c25d05c30e3"
                          "fbeda97d2e0e1aba483a2df9f2" },
                },
                .exp_n = 3,
                .exps = {
                        { "", 32,
                          "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee" },
                        { "00", 32,
                          "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5" },
                        { "54657374436f6e74657874", 32,
                          "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931" },
                },
        },
        {
                .suite = 3,
                .info =
                        "4f6465206f6e2061204772656369616e2055726e",
                .ikme =
                        "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
                .pkem =
                        "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
                .skem =
                        "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
                .ikmr =
                        "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
                .pkrm =
                        "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
                .skrm =
                        "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
                .enc =
                        "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
                .shared_secret =
                        "0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7",
                .key =
                        "ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91",
                .base_nonce =
                        "5c4d98150661b848853b547f",
                .exporter_secret =
                        "a3b010d4994890e2c6968a36f64470d3c824c8f5029942feb11e7a74b2921922",
                .enc_n = 6,
                .encs = {
                        { 0, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d30", "5c4d98150661b848853b547f",
                          "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db"
                          "21993c62ce81883d2dd1b51a28" },
                        { 1, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d31", "5c4d98150661b848853b547e",
                          "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e"
                          "85285337cc95ba5f59992dc98c" },
                        { 2, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d32", "5c4d98150661b848853b547d",
                          "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02"
                          "b4f10ecac6f48c32f878fae86b" },
                        { 4, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d34", "5c4d98150661b848853b547b",
                          "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122b"
                          "b153495ff0b02e9e54a50dbe16" },
                        { 255, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323535", "5c4d98150661b848853b5480",
                          "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b888"
                          "0a5f6b3936da9cd6c23ef2a95c" },
                        { 256, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323536", "5c4d98150661b848853b557f",
                          "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076"
                          "214c0c40d4c728d6ed9e727a5b" },
                },
                .exp_n = 3,
                .exps = {
                        { "", 32,
                          "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e" },
                        { "00", 32,
                          "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69" },
                        { "54657374436f6e74657874", 32,
                          "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53" },
                },
        },
        {
                .suite = 2,
                .info =
                        "4f6465206f6e2061204772656369616e2055726e",
                .ikme =
                        "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
                .pkem =
                        "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325a"
                        "c98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18"
                        "c4",
                .skem =
                        "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb",
                .ikmr =
                        "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
                .pkrm =
                        "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a"
                        "826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72e"
                        "a0",
                .skrm =
                        "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2",
                .enc =
                        "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325a"
                        "c98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18"
                        "c4",
                .shared_secret =
                        "c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8",
                .key =
                        "868c066ef58aae6dc589b6cfdd18f97e",
                .base_nonce =
                        "4e0bc5018beba4bf004cca59",
                .exporter_secret =
                        "14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f",
                .enc_n = 6,
                .encs = {
                        { 0, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d30", "4e0bc5018beba4bf004cca59",
                          "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f"
                          "9076ac232e3ab2523f39513434" },
                        { 1, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d31", "4e0bc5018beba4bf004cca58",
                          "fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06"
                          "646e0329cbdf3c3cd655b28e82" },
                        { 2, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d32", "4e0bc5018beba4bf004cca5b",
                          "895cabfac50ce6c6eb02ffe6c048bf53b7f7be9a91fc559402cbc5b8dcaeb52b"
                          "2ccc93e466c28fb55fed7a7fec" },
                        { 4, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d34", "4e0bc5018beba4bf004cca5d",
                          "8787491ee8df99bc99a246c4b3216d3d57ab5076e18fa27133f520703bc70ec9"
                          "99dd36ce042e44f0c3169a6a8f" },
                        { 255, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323535", "4e0bc5018beba4bf004ccaa6",
                          "2ad71c85bf3f45c6eca301426289854b31448bcf8a8ccb1deef3ebd87f60848a"
                          "a53c538c30a4dac71d619ee2cd" },
                        { 256, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323536", "4e0bc5018beba4bf004ccb59",
                          "10f179686aa2caec1758c8e554513f16472bd0a11e2a907dde0b212cbe87d74f"
                          "367f8ffe5e41cd3e9962a6afb2" },
                },
                .exp_n = 3,
                .exps = {
                        { "", 32,
                          "5e9bc3d236e1911d95e65b576a8a86d478fb827e8bdfe77b741b289890490d4d" },
                        { "00", 32,
                          "6cff87658931bda83dc857e6353efe4987a201b849658d9b047aab4cf216e796" },
                        { "54657374436f6e74657874", 32,
                          "d8f1ea7942adbba7412c6d431c62d01371ea476b823eb697e1f6e6cae1dab85a" },
                },
        },
        {
                .suite = 5,
                .info =
                        "4f6465206f6e2061204772656369616e2055726e",
                .ikme =
                        "7f06ab8215105fc46aceeb2e3dc5028b44364f960426eb0d8e4026c2f8b5d7e7"
                        "a986688f1591abf5ab753c357a5d6f0440414b4ed4ede71317772ac98d9239f7"
                        "0904",
                .pkem =
                        "040138b385ca16bb0d5fa0c0665fbbd7e69e3ee29f63991d3e9b5fa740aab890"
                        "0aaeed46ed73a49055758425a0ce36507c54b29cc5b85a5cee6bae0cf1c21f27"
                        "31ece2013dc3fb7c8d21654bb161b463962ca19e8c654ff24c94dd2898de1205"
                        "1f1ed0692237fb02b2f8d1dc1c73e9b366b529eb436e98a996ee522aef863dd5"
                        "739d2f29b0",
                .skem =
                        "014784c692da35df6ecde98ee43ac425dbdd0969c0c72b42f2e708ab9d535415"
                        "a8569bdacfcc0a114c85b8e3f26acf4d68115f8c91a66178cdbd03b7bcc5291e"
                        "374b",
                .ikmr =
                        "2ad954bbe39b7122529f7dde780bff626cd97f850d0784a432784e69d86eccaa"
                        "de43b6c10a8ffdb94bf943c6da479db137914ec835a7e715e36e45e29b587bab"
                        "3bf1",
                .pkrm =
                        "0401b45498c1714e2dce167d3caf162e45e0642afc7ed435df7902ccae0e84ba"
                        "0f7d373f646b7738bbbdca11ed91bdeae3cdcba3301f2457be452f271fa68375"
                        "80e661012af49583a62e48d44bed350c7118c0d8dc861c238c72a2bda17f6470"
                        "4f464b57338e7f40b60959480c0e58e6559b190d81663ed816e523b6b6a418f6"
                        "6d2451ec64",
                .skrm =
                        "01462680369ae375e4b3791070a7458ed527842f6a98a79ff5e0d4cbde83c271"
                        "96a3916956655523a6a2556a7af62c5cadabe2ef9da3760bb21e005202f7b246"
                        "2847",
                .enc =
                        "040138b385ca16bb0d5fa0c0665fbbd7e69e3ee29f63991d3e9b5fa740aab890"
                        "0aaeed46ed73a49055758425a0ce36507c54b29cc5b85a5cee6bae0cf1c21f27"
                        "31ece2013dc3fb7c8d21654bb161b463962ca19e8c654ff24c94dd2898de1205"
                        "1f1ed0692237fb02b2f8d1dc1c73e9b366b529eb436e98a996ee522aef863dd5"
                        "739d2f29b0",
                .shared_secret =
                        "776ab421302f6eff7d7cb5cb1adaea0cd50872c71c2d63c30c4f1d5e43653336"
                        "fef33b103c67e7a98add2d3b66e2fda95b5b2a667aa9dac7e59cc1d46d30e818",
                .key =
                        "751e346ce8f0ddb2305c8a2a85c70d5cf559c53093656be636b9406d4d7d1b70",
                .base_nonce =
                        "55ff7a7d739c69f44b25447b",
                .exporter_secret =
                        "e4ff9dfbc732a2b9c75823763c5ccc954a2c0648fc6de80a58581252d0ee3215"
                        "388a4455e69086b50b87eb28c169a52f42e71de4ca61c920e7bd24c95cc3f992",
                .enc_n = 6,
                .encs = {
                        { 0, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d30", "55ff7a7d739c69f44b25447b",
                          "170f8beddfe949b75ef9c387e201baf4132fa7374593dfafa90768788b7b2b20"
                          "0aafcc6d80ea4c795a7c5b841a" },
                        { 1, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d31", "55ff7a7d739c69f44b25447a",
                          "d9ee248e220ca24ac00bbbe7e221a832e4f7fa64c4fbab3945b6f3af0c5ecd5e"
                          "16815b328be4954a05fd352256" },
                        { 2, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d32", "55ff7a7d739c69f44b254479",
                          "142cf1e02d1f58d9285f2af7dcfa44f7c3f2d15c73d460c48c6e0e506a3144ba"
                          "e35284e7e221105b61d24e1c7a" },
                        { 4, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d34", "55ff7a7d739c69f44b25447f",
                          "3bb3a5a07100e5a12805327bf3b152df728b1c1be75a9fd2cb2bf5eac0cca1fb"
                          "80addb37eb2a32938c7268e3e5" },
                        { 255, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323535", "55ff7a7d739c69f44b254484",
                          "4f268d0930f8d50b8fd9d0f26657ba25b5cb08b308c92e33382f369c768b558e"
                          "113ac95a4c70dd60909ad1adc7" },
                        { 256, "4265617574792069732074727574682c20747275746820626561757479",
                          "436f756e742d323536", "55ff7a7d739c69f44b25457b",
                          "dbbfc44ae037864e75f136e8b4b4123351d480e6619ae0e0ae437f036f2f8f1e"
                          "f677686323977a1ccbb4b4f16a" },
                },
                .exp_n = 3,
                .exps = {
                        { "", 32,
                          "05e2e5bd9f0c30832b80a279ff211cc65eceb0d97001524085d609ead60d0412" },
                        { "00", 32,
                          "fca69744bb537f5b7a1596dbf34eaa8d84bf2e3ee7f1a155d41bd3624aa92b63" },
                        { "54657374436f6e74657874", 32,
                          "f389beaac6fcf6c0d9376e20f97e364f0609a88f1bc76d7328e9104df8477013" },
                },
        },
};

static size_t vec_idx[] = { 0, 1, 2, 3 };
static uint16_t suite_tbl[] = { 1, 2, 3, 4, 5, 6, 7 };

#define PER_SUITE(f)                                            \
        cmocka_unit_test_prestate(f, &suite_tbl[0]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[1]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[2]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[3]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[4]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[5]),            \
        cmocka_unit_test_prestate(f, &suite_tbl[6])

#define PER_VECTOR(f)                                           \
        cmocka_unit_test_prestate(f, &vec_idx[0]),              \
        cmocka_unit_test_prestate(f, &vec_idx[1]),              \
        cmocka_unit_test_prestate(f, &vec_idx[2]),              \
        cmocka_unit_test_prestate(f, &vec_idx[3])

static const struct mls_suite *
suite_of(void **state)
{
        const struct mls_suite *s = mls_suite_get(*(uint16_t *)*state);

        assert_non_null(s);
        return s;
}

static bool
is_nist(const struct mls_suite *s)
{
        return s->kem_id >= 0x0010 && s->kem_id <= 0x0012;
}

static struct mls_bytes
hex(const char *h)
{
        struct mls_bytes b = { 0 };

        assert_true(tu_hex_decode(h, &b));
        return b;
}

static void
assert_hex_eq(const uint8_t *got, size_t len, const char *want_hex)
{
        struct mls_bytes want = hex(want_hex);

        assert_int_equal(len, want.len);
        if (len)
                assert_memory_equal(got, want.data, len);
        mls_bytes_clear(&want);
}

static void
assert_ctx_matches(const struct mls_hpke_ctx *ctx, const struct hpke_vec *v)
{
        const uint8_t *p;
        size_t n;

        p = mls_hpke_ctx_key(ctx, &n);
        assert_hex_eq(p, n, v->key);
        p = mls_hpke_ctx_base_nonce(ctx, &n);
        assert_hex_eq(p, n, v->base_nonce);
        p = mls_hpke_ctx_exporter_secret(ctx, &n);
        assert_hex_eq(p, n, v->exporter_secret);
}

/* DeriveKeyPair(ikmE/ikmR) -> skE/pkE, skR/pkR (RFC 9180 section 7.1.3). */
static void
test_hpke_vector_derive_keypair(void **state)
{
        const struct hpke_vec *v = &vecs[*(size_t *)*state];
        const struct mls_suite *s = mls_suite_get(v->suite);
        struct mls_bytes ikm_e = hex(v->ikme), ikm_r = hex(v->ikmr);
        struct mls_secret *sk = NULL;
        struct mls_bytes pk = { 0 };

        assert_non_null(s);
        assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm_e.data, ikm_e.len, &sk, &pk), 0);
        assert_hex_eq(sk->data, sk->len, v->skem);
        assert_hex_eq(pk.data, pk.len, v->pkem);
        mls_secret_free(sk);
        mls_bytes_clear(&pk);
        assert_int_equal(mls_crypto_kem_derive_keypair(s, ikm_r.data, ikm_r.len, &sk, &pk), 0);
        assert_hex_eq(sk->data, sk->len, v->skrm);
        assert_hex_eq(pk.data, pk.len, v->pkrm);
        mls_secret_free(sk);
        mls_bytes_clear(&pk);
        mls_bytes_clear(&ikm_e);
        mls_bytes_clear(&ikm_r);
}

/* Encap with ikmE gives enc and shared_secret; Decap with skR agrees. */
static void
test_hpke_vector_encap_decap(void **state)
{
        const struct hpke_vec *v = &vecs[*(size_t *)*state];
        const struct mls_suite *s = mls_suite_get(v->suite);
        struct mls_bytes ikm_e = hex(v->ikme), pk_r = hex(v->pkrm), sk_rb = hex(v->skrm);
        struct mls_bytes enc = { 0 };
        struct mls_secret *ss = NULL, *ss2 = NULL, *sk_r = NULL;

        assert_int_equal(mls_hpke_encap_derand(s, ikm_e.data, ikm_e.len, pk_r.data, pk_r.len,
                                               &ss, &enc), 0);
        assert_hex_eq(enc.data, enc.len, v->enc);
        assert_hex_eq(ss->data, ss->len, v->shared_secret);
        assert_int_equal(mls_secret_from(sk_rb.data, sk_rb.len, &sk_r), 0);
        assert_int_equal(mls_hpke_decap(s, sk_r, enc.data, enc.len, &ss2), 0);
        assert_true(mls_secret_eq(ss, ss2));
        mls_secret_free(ss);
        mls_secret_free(ss2);
        mls_secret_free(sk_r);
        mls_bytes_clear(&enc);
        mls_bytes_clear(&ikm_e);
        mls_bytes_clear(&pk_r);
        mls_bytes_clear(&sk_rb);
}

/* SetupBaseS/R: key, base_nonce, exporter_secret; the listed encryptions
 * (the sender seals every sequence number from 0 to 256 in turn, so the
 * listed ones come from the ordinary increment; the receiver jumps to each
 * listed number through the test hook); the exported values on both
 * sides. */
static void
test_hpke_vector_setup_seal_open_export(void **state)
{
        const struct hpke_vec *v = &vecs[*(size_t *)*state];
        const struct mls_suite *s = mls_suite_get(v->suite);
        struct mls_bytes ikm_e = hex(v->ikme), pk_r = hex(v->pkrm), sk_rb = hex(v->skrm);
        struct mls_bytes info = hex(v->info), enc = { 0 };
        struct mls_hpke_ctx *cs = NULL, *cr = NULL;
        struct mls_secret *sk_r = NULL;
        size_t next = 0;

        assert_int_equal(mls_hpke_setup_base_s_derand(s, ikm_e.data, ikm_e.len, pk_r.data,
                                                      pk_r.len, info.data, info.len, &enc, &cs),
                         0);
        assert_hex_eq(enc.data, enc.len, v->enc);
        assert_ctx_matches(cs, v);
        assert_int_equal(mls_secret_from(sk_rb.data, sk_rb.len, &sk_r), 0);
        assert_int_equal(mls_hpke_setup_base_r(s, sk_r, enc.data, enc.len, info.data, info.len,
                                               &cr), 0);
        assert_ctx_matches(cr, v);

        for (uint64_t seq = 0; next < v->enc_n; seq++) {
                const struct hpke_enc *e = &v->encs[next];
                struct mls_bytes pt = hex(e->pt), aad = hex(e->aad), ct = { 0 };
                char aad_s[32];

                /* The vectors' aad is "Count-<seq>"; other sequence
                 * numbers use the same pattern. */
                assert_int_equal(mls_hpke_ctx_seq(cs), seq);
                if (seq != e->seq) {
                        snprintf(aad_s, sizeof(aad_s), "Count-%llu", (unsigned long long)seq);
                        assert_int_equal(mls_hpke_seal(cs, (const uint8_t *)aad_s, strlen(aad_s),
                                                       pt.data, pt.len, &ct), 0);
                } else {
                        struct mls_secret *back = NULL;
                        struct mls_bytes nonce = hex(e->nonce);
                        const uint8_t *base;
                        size_t nn;

                        /* nonce = base_nonce XOR I2OSP(seq, Nn) */
                        base = mls_hpke_ctx_base_nonce(cs, &nn);
                        assert_int_equal(nn, nonce.len);
                        for (size_t i = 0; i < 8; i++)
                                nonce.data[nn - 1 - i] ^= (uint8_t)(seq >> (8 * i));
                        assert_memory_equal(nonce.data, base, nn);
                        mls_bytes_clear(&nonce);

                        assert_int_equal(mls_hpke_seal(cs, aad.data, aad.len, pt.data, pt.len,
                                                       &ct), 0);
                        assert_hex_eq(ct.data, ct.len, e->ct);
                        mls_hpke_ctx_set_seq(cr, seq);
                        assert_int_equal(mls_hpke_open(cr, aad.data, aad.len, ct.data, ct.len,
                                                       &back), 0);
                        assert_int_equal(back->len, pt.len);
                        assert_memory_equal(back->data, pt.data, pt.len);
                        assert_int_equal(mls_hpke_ctx_seq(cr), seq + 1);
                        mls_secret_free(back);
                        next++;
                }
                mls_bytes_clear(&ct);
                mls_bytes_clear(&pt);
                mls_bytes_clear(&aad);
        }

        for (size_t i = 0; i < v->exp_n; i++) {
                const struct hpke_exp *x = &v->exps[i];
                struct mls_bytes ec = hex(x->ctx);
                struct mls_secret *o1 = NULL, *o2 = NULL;

                assert_int_equal(mls_hpke_export(cs, ec.data, ec.len, x->len, &o1), 0);
                assert_hex_eq(o1->data, o1->len, x->value);
                assert_int_equal(mls_hpke_export(cr, ec.data, ec.len, x->len, &o2), 0);
                assert_true(mls_secret_eq(o1, o2));
                mls_secret_free(o1);
                mls_secret_free(o2);
                mls_bytes_clear(&ec);
        }
        mls_hpke_ctx_free(cs);
        mls_hpke_ctx_free(cr);
        mls_secret_free(sk_r);
        mls_bytes_clear(&enc);
        mls_bytes_clear(&info);
        mls_bytes_clear(&ikm_e);
        mls_bytes_clear(&pk_r);
        mls_bytes_clear(&sk_rb);
}

/* The forms that keep their transients in caller memory against the
 * vectors: Decap into a buffer gives shared_secret, Export into a buffer
 * the exported values, and the single-shot OpenBase (whose key schedule
 * lives on the stack) opens the sequence-0 ciphertext. */
static void
test_hpke_vector_into_forms(void **state)
{
        const struct hpke_vec *v = &vecs[*(size_t *)*state];
        const struct mls_suite *s = mls_suite_get(v->suite);
        struct mls_bytes enc = hex(v->enc), sk_rb = hex(v->skrm), info = hex(v->info);
        struct mls_secret *sk_r = NULL, *pt = NULL;
        struct mls_hpke_ctx *cr = NULL;
        uint8_t shared[MLS_MAX_KEM_SECRET_LEN], out[64];

        assert_int_equal(mls_secret_from(sk_rb.data, sk_rb.len, &sk_r), 0);
        assert_int_equal(mls_hpke_decap_into(s, sk_r, enc.data, enc.len, shared), 0);
        assert_hex_eq(shared, s->kem_secret_len, v->shared_secret);
        assert_int_equal(mls_hpke_setup_base_r(s, sk_r, enc.data, enc.len, info.data, info.len,
                                               &cr),
                         0);
        for (size_t i = 0; i < v->exp_n; i++) {
                const struct hpke_exp *x = &v->exps[i];
                struct mls_bytes ec = hex(x->ctx);

                assert_true(x->len <= sizeof(out));
                assert_int_equal(mls_hpke_export_into(cr, ec.data, ec.len, out, x->len), 0);
                assert_hex_eq(out, x->len, x->value);
                mls_bytes_clear(&ec);
        }
        assert_int_equal(mls_hpke_export_into(cr, NULL, 0, out, 255 * s->hash_len + 1),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(v->encs[0].seq, 0);
        {
                struct mls_bytes pt_w = hex(v->encs[0].pt), aad_w = hex(v->encs[0].aad);
                struct mls_bytes ct_w = hex(v->encs[0].ct);

                assert_int_equal(mls_hpke_open_base(s, sk_r, enc.data, enc.len, info.data,
                                                    info.len, aad_w.data, aad_w.len, ct_w.data,
                                                    ct_w.len, &pt),
                                 0);
                assert_int_equal(pt->len, pt_w.len);
                assert_memory_equal(pt->data, pt_w.data, pt_w.len);
                mls_bytes_clear(&pt_w);
                mls_bytes_clear(&aad_w);
                mls_bytes_clear(&ct_w);
        }
        mls_secret_free(pt);
        mls_hpke_ctx_free(cr);
        mls_secret_free(sk_r);
        mls_bytes_clear(&enc);
        mls_bytes_clear(&sk_rb);
        mls_bytes_clear(&info);
}

/* ---- all suites ---- */

struct keypair {
        struct mls_secret *sk;
        struct mls_bytes pk;
};

static void
keypair_new(const struct mls_suite *s, struct keypair *kp)
{
        assert_int_equal(mls_crypto_kem_generate(s, mls_rng_system(), &kp->sk, &kp->pk), 0);
}

static void
keypair_clear(struct keypair *kp)
{
        mls_secret_free(kp->sk);
        mls_bytes_clear(&kp->pk);
}

static const uint8_t info[] = "info string";
static const uint8_t aad[] = "associated data";
static const uint8_t msg[32] = { 0x42, 0x01, 0x02, 0x03 };

static void
test_hpke_round_trip(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct keypair r;
        struct mls_bytes enc = { 0 }, ct = { 0 };
        struct mls_hpke_ctx *cs = NULL, *cr = NULL;
        struct mls_secret *pt = NULL, *e1 = NULL, *e2 = NULL;

        keypair_new(s, &r);
        assert_int_equal(mls_hpke_setup_base_s(s, mls_rng_system(), r.pk.data, r.pk.len, info,
                                               sizeof(info), &enc, &cs), 0);
        assert_int_equal(enc.len, s->kem_enc_len);
        assert_int_equal(mls_hpke_setup_base_r(s, r.sk, enc.data, enc.len, info, sizeof(info),
                                               &cr), 0);
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(mls_hpke_seal(cs, aad, sizeof(aad), msg, sizeof(msg) - i, &ct),
                                 0);
                assert_int_equal(ct.len, sizeof(msg) - i + s->aead_tag_len);
                assert_int_equal(mls_hpke_open(cr, aad, sizeof(aad), ct.data, ct.len, &pt), 0);
                assert_int_equal(pt->len, sizeof(msg) - i);
                assert_memory_equal(pt->data, msg, pt->len);
                mls_secret_free(pt);
                pt = NULL;
                mls_bytes_clear(&ct);
        }
        assert_int_equal(mls_hpke_ctx_seq(cs), 3);
        assert_int_equal(mls_hpke_ctx_seq(cr), 3);
        assert_int_equal(mls_hpke_export(cs, aad, sizeof(aad), 77, &e1), 0);
        assert_int_equal(mls_hpke_export(cr, aad, sizeof(aad), 77, &e2), 0);
        assert_true(mls_secret_eq(e1, e2));
        mls_secret_free(e1);
        mls_secret_free(e2);
        /* Export length limit: 255 * Nh. */
        assert_int_equal(mls_hpke_export(cs, NULL, 0, 255 * s->hash_len + 1, &e1),
                         MLS_E_INVALID_ARGUMENT);
        mls_hpke_ctx_free(cs);
        mls_hpke_ctx_free(cr);
        mls_bytes_clear(&enc);

        /* single shot, empty plaintext */
        assert_int_equal(mls_hpke_seal_base(s, mls_rng_system(), r.pk.data, r.pk.len, NULL, 0,
                                            NULL, 0, NULL, 0, &enc, &ct), 0);
        assert_int_equal(ct.len, s->aead_tag_len);
        assert_int_equal(mls_hpke_open_base(s, r.sk, enc.data, enc.len, NULL, 0, NULL, 0,
                                            ct.data, ct.len, &pt), 0);
        assert_int_equal(pt->len, 0);
        mls_secret_free(pt);
        mls_bytes_clear(&enc);
        mls_bytes_clear(&ct);
        keypair_clear(&r);
}

/* A flipped bit in enc, ct, aad or info, the wrong key, truncation: the
 * receiver gets MLS_E_DECRYPT (or MLS_E_BAD_KEY when enc is no longer a
 * point) and no plaintext. */
static void
test_hpke_rejects_tampering(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct keypair r, other;
        struct mls_bytes enc = { 0 }, ct = { 0 };
        struct mls_secret *pt = NULL;
        int e;

        keypair_new(s, &r);
        keypair_new(s, &other);
        assert_int_equal(mls_hpke_seal_base(s, mls_rng_system(), r.pk.data, r.pk.len, info,
                                            sizeof(info), aad, sizeof(aad), msg, sizeof(msg),
                                            &enc, &ct), 0);
        for (size_t i = 0; i < enc.len; i += 3) {
                enc.data[i] ^= 0x02;
                e = mls_hpke_open_base(s, r.sk, enc.data, enc.len, info, sizeof(info), aad,
                                       sizeof(aad), ct.data, ct.len, &pt);
                if (is_nist(s))
                        assert_int_equal(e, MLS_E_BAD_KEY);
                else
                        assert_true(e == MLS_E_DECRYPT || e == MLS_E_BAD_KEY);
                enc.data[i] ^= 0x02;
        }
        assert_int_equal(mls_hpke_open_base(s, r.sk, enc.data, enc.len - 1, info, sizeof(info),
                                            aad, sizeof(aad), ct.data, ct.len, &pt),
                         MLS_E_BAD_KEY);
        for (size_t i = 0; i < ct.len; i++) {
                ct.data[i] ^= 0x40;
                assert_int_equal(mls_hpke_open_base(s, r.sk, enc.data, enc.len, info,
                                                    sizeof(info), aad, sizeof(aad), ct.data,
                                                    ct.len, &pt), MLS_E_DECRYPT);
                ct.data[i] ^= 0x40;
        }
        for (size_t n = 0; n < ct.len; n += 5)
                assert_int_equal(mls_hpke_open_base(s, r.sk, enc.data, enc.len, info,
                                                    sizeof(info), aad, sizeof(aad), ct.data, n,
                                                    &pt), MLS_E_DECRYPT);
        assert_int_equal(mls_hpke_open_base(s, r.sk, enc.data, enc.len, info, sizeof(info) - 1,
                                            aad, sizeof(aad), ct.data, ct.len, &pt),
                         MLS_E_DECRYPT);
        assert_int_equal(mls_hpke_open_base(s, r.sk, enc.data, enc.len, info, sizeof(info), aad,
                                            sizeof(aad) - 1, ct.data, ct.len, &pt),
                         MLS_E_DECRYPT);
        assert_int_equal(mls_hpke_open_base(s, other.sk, enc.data, enc.len, info, sizeof(info),
                                            aad, sizeof(aad), ct.data, ct.len, &pt),
                         MLS_E_DECRYPT);
        assert_null(pt);
        /* untouched, it still opens */
        assert_int_equal(mls_hpke_open_base(s, r.sk, enc.data, enc.len, info, sizeof(info), aad,
                                            sizeof(aad), ct.data, ct.len, &pt), 0);
        assert_memory_equal(pt->data, msg, sizeof(msg));
        mls_secret_free(pt);
        mls_bytes_clear(&enc);
        mls_bytes_clear(&ct);
        keypair_clear(&r);
        keypair_clear(&other);
}

/* Encap to a malformed or low-order public key fails with MLS_E_BAD_KEY. */
static void
test_hpke_encap_rejects_bad_pk(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct keypair r;
        struct mls_bytes enc = { 0 }, ct = { 0 };
        struct mls_secret *ss = NULL;
        uint8_t bad[MLS_MAX_KEM_PUB_LEN + 1] = { 0 };

        keypair_new(s, &r);
        assert_int_equal(mls_hpke_encap(s, mls_rng_system(), r.pk.data, r.pk.len - 1, &ss, &enc),
                         MLS_E_BAD_KEY);
        /* all zero: the point at infinity's prefix / a low-order u */
        assert_int_equal(mls_hpke_encap(s, mls_rng_system(), bad, s->kem_pub_len, &ss, &enc),
                         MLS_E_BAD_KEY);
        if (is_nist(s)) {
                memcpy(bad, r.pk.data, r.pk.len);
                bad[r.pk.len - 1] ^= 1;
                assert_int_equal(mls_hpke_seal_base(s, mls_rng_system(), bad, r.pk.len, NULL, 0,
                                                    NULL, 0, msg, sizeof(msg), &enc, &ct),
                                 MLS_E_BAD_KEY);
        } else {
                bad[0] = 1; /* u = 1 has low order */
                assert_int_equal(mls_hpke_seal_base(s, mls_rng_system(), bad, s->kem_pub_len,
                                                    NULL, 0, NULL, 0, msg, sizeof(msg), &enc,
                                                    &ct), MLS_E_BAD_KEY);
        }
        assert_null(ss);
        assert_null(enc.data);
        assert_null(ct.data);
        keypair_clear(&r);
}

/* Messages must be opened in order: the nonce comes from the sequence
 * number, a failed open does not advance it, a replay fails. */
static void
test_hpke_sequence_numbers(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct keypair r;
        struct mls_bytes enc = { 0 }, c0 = { 0 }, c1 = { 0 };
        struct mls_hpke_ctx *cs = NULL, *cr = NULL;
        struct mls_secret *pt = NULL;

        keypair_new(s, &r);
        assert_int_equal(mls_hpke_setup_base_s(s, mls_rng_system(), r.pk.data, r.pk.len, info,
                                               sizeof(info), &enc, &cs), 0);
        assert_int_equal(mls_hpke_setup_base_r(s, r.sk, enc.data, enc.len, info, sizeof(info),
                                               &cr), 0);
        assert_int_equal(mls_hpke_seal(cs, NULL, 0, msg, sizeof(msg), &c0), 0);
        assert_int_equal(mls_hpke_seal(cs, NULL, 0, msg, sizeof(msg), &c1), 0);
        /* same plaintext, different nonces */
        assert_memory_not_equal(c0.data, c1.data, c0.len);
        assert_int_equal(mls_hpke_open(cr, NULL, 0, c1.data, c1.len, &pt), MLS_E_DECRYPT);
        assert_int_equal(mls_hpke_ctx_seq(cr), 0);
        assert_int_equal(mls_hpke_open(cr, NULL, 0, c0.data, c0.len, &pt), 0);
        mls_secret_free(pt);
        pt = NULL;
        assert_int_equal(mls_hpke_open(cr, NULL, 0, c0.data, c0.len, &pt), MLS_E_DECRYPT);
        assert_int_equal(mls_hpke_open(cr, NULL, 0, c1.data, c1.len, &pt), 0);
        assert_int_equal(mls_hpke_ctx_seq(cr), 2);
        mls_secret_free(pt);
        mls_bytes_clear(&c0);
        mls_bytes_clear(&c1);

        /* The message limit: the last sequence number is refused rather
         * than wrapped to a nonce already used. */
        mls_hpke_ctx_set_seq(cs, UINT64_MAX - 1);
        mls_hpke_ctx_set_seq(cr, UINT64_MAX - 1);
        assert_int_equal(mls_hpke_seal(cs, NULL, 0, msg, sizeof(msg), &c0), 0);
        pt = NULL;
        assert_int_equal(mls_hpke_open(cr, NULL, 0, c0.data, c0.len, &pt), 0);
        mls_secret_free(pt);
        pt = NULL;
        assert_int_equal(mls_hpke_ctx_seq(cs), UINT64_MAX);
        assert_int_equal(mls_hpke_seal(cs, NULL, 0, msg, sizeof(msg), &c1), MLS_E_TOO_LARGE);
        assert_null(c1.data);
        assert_int_equal(mls_hpke_open(cr, NULL, 0, c0.data, c0.len, &pt), MLS_E_TOO_LARGE);
        assert_null(pt);
        assert_int_equal(mls_hpke_ctx_seq(cs), UINT64_MAX);
        mls_bytes_clear(&c0);
        mls_hpke_ctx_free(cs);
        mls_hpke_ctx_free(cr);
        mls_bytes_clear(&enc);
        keypair_clear(&r);
}

/* Encap and Decap into caller memory agree with each other and with the
 * allocating Decap; a bad enc or pkR is MLS_E_BAD_KEY and leaves the
 * output all zero. */
static void
test_hpke_encap_decap_into(void **state)
{
        const struct mls_suite *s = suite_of(state);
        struct keypair r;
        struct mls_bytes enc = { 0 };
        struct mls_secret *ss = NULL;
        uint8_t a[MLS_MAX_KEM_SECRET_LEN], b[MLS_MAX_KEM_SECRET_LEN];
        uint8_t zero[MLS_MAX_KEM_SECRET_LEN] = { 0 }, bad[MLS_MAX_KEM_PUB_LEN] = { 0 };

        keypair_new(s, &r);
        assert_int_equal(mls_hpke_encap_into(s, mls_rng_system(), r.pk.data, r.pk.len, a, &enc),
                         0);
        assert_int_equal(enc.len, s->kem_enc_len);
        assert_int_equal(mls_hpke_decap_into(s, r.sk, enc.data, enc.len, b), 0);
        assert_memory_equal(a, b, s->kem_secret_len);
        assert_int_equal(mls_hpke_decap(s, r.sk, enc.data, enc.len, &ss), 0);
        assert_memory_equal(ss->data, a, s->kem_secret_len);
        mls_secret_free(ss);
        mls_bytes_clear(&enc);

        /* all zero: no NIST point / a low-order u */
        memset(b, 0xa5, sizeof(b));
        assert_int_equal(mls_hpke_decap_into(s, r.sk, bad, s->kem_enc_len, b), MLS_E_BAD_KEY);
        assert_memory_equal(b, zero, s->kem_secret_len);
        memset(a, 0xa5, sizeof(a));
        assert_int_equal(mls_hpke_encap_into(s, mls_rng_system(), bad, s->kem_pub_len, a, &enc),
                         MLS_E_BAD_KEY);
        assert_memory_equal(a, zero, s->kem_secret_len);
        assert_null(enc.data);
        assert_int_equal(mls_hpke_encap_into(s, mls_rng_system(), r.pk.data, r.pk.len - 1, a,
                                             &enc),
                         MLS_E_BAD_KEY);
        assert_int_equal(mls_hpke_encap_into(s, mls_rng_system(), r.pk.data, r.pk.len, NULL,
                                             &enc),
                         MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mls_hpke_decap_into(s, NULL, bad, s->kem_enc_len, b),
                         MLS_E_INVALID_ARGUMENT);
        assert_null(enc.data);
        keypair_clear(&r);
}

static void
test_hpke_ctx_free_null(void **state)
{
        (void)state;
        mls_hpke_ctx_free(NULL);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                PER_VECTOR(test_hpke_vector_derive_keypair),
                PER_VECTOR(test_hpke_vector_encap_decap),
                PER_VECTOR(test_hpke_vector_setup_seal_open_export),
                PER_VECTOR(test_hpke_vector_into_forms),
                PER_SUITE(test_hpke_encap_decap_into),
                PER_SUITE(test_hpke_round_trip),
                PER_SUITE(test_hpke_rejects_tampering),
                PER_SUITE(test_hpke_encap_rejects_bad_pk),
                PER_SUITE(test_hpke_sequence_numbers),
                cmocka_unit_test(test_hpke_ctx_free_null),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
