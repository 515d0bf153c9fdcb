/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of daemon/tpm against real software TPMs (swtpm), no mocks. Run
 * through tests/tpm/with-swtpm --two, which exports MKD_TEST_TCTI and
 * MKD_TEST_TCTI2 (a second, independent TPM); without MKD_TEST_TCTI the
 * program exits 77 (skipped).
 *
 * Every test that uses the TPM checks in its teardown that no transient
 * object and no session is left in the TPM (swtpm has no resource
 * manager, so a leak shows directly). The loop test runs MKD_TPM_LOOP
 * (default 1000) mixed operations, error paths included, then checks the
 * same. Median times per operation are printed at the end (not asserted).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <tss2_esys.h>
#include <tss2_tctildr.h>
#pragma GCC diagnostic pop

#include "daemon/tpm.h"
#include "mls/crypto.h"
#include "mls/labeled.h"

/* A counter index for the tests (the default + 1, so a test never
 * touches the daemon's own index on a real TPM). */
#define TEST_NV (MKD_TPM_NV_COUNTER_DEFAULT + 1)
#define TEST_NV_ORDERLY (MKD_TPM_NV_COUNTER_DEFAULT + 2)
#define TEST_NV_FOREIGN (MKD_TPM_NV_COUNTER_DEFAULT + 3)
/* Resettable / debug PCRs of the PC Client profile. */
#define PCR_A 16
#define PCR_B 23

static const char *tcti1;
static const char *tcti2;

/* ---- timing ---- */

enum op {
        OP_OPEN,
        OP_SEAL,
        OP_UNSEAL,
        OP_INCREMENT,
        OP_SIGN,
        OP_RANDOM32,
        OP_COUNT,
};
static const char *const op_names[OP_COUNT] = {
        "open", "seal", "unseal", "counter_increment", "sign", "get_random_32",
};
#define TIMES_MAX 4096
static double times[OP_COUNT][TIMES_MAX];
static size_t ntimes[OP_COUNT];

static double
now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
record(enum op op, double t0)
{
        if (ntimes[op] < TIMES_MAX)
                times[op][ntimes[op]++] = now_ms() - t0;
}

static int
cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static void
print_medians(void)
{
        printf("# TPM median ms (swtpm):");
        for (int i = 0; i < OP_COUNT; i++) {
                if (ntimes[i] == 0) {
                        printf(" %s=n/a", op_names[i]);
                        continue;
                }
                qsort(times[i], ntimes[i], sizeof(double), cmp_double);
                printf(" %s=%.2f(n=%zu)", op_names[i], times[i][ntimes[i] / 2], ntimes[i]);
        }
        printf("\n");
}

/* ---- fixtures ---- */

static struct mkd_tpm *
open_tpm(const char *tcti)
{
        struct mkd_tpm *t = NULL;
        char why[MKD_TPM_WHY_MAX];
        double t0 = now_ms();
        int r = mkd_tpm_open(tcti, &t, why);

        if (r != 0)
                print_error("mkd_tpm_open(%s): %s\n", tcti, why);
        assert_int_equal(r, 0);
        record(OP_OPEN, t0);
        return t;
}

static void
assert_no_handles(struct mkd_tpm *t)
{
        struct mkd_tpm_handles h;

        assert_int_equal(mkd_tpm_handle_counts(t, &h), 0);
        if (h.transient || h.loaded_sessions || h.saved_sessions)
                print_error("leak: %u transient, %u loaded sessions, %u saved sessions\n",
                            h.transient, h.loaded_sessions, h.saved_sessions);
        assert_int_equal(h.transient, 0);
        assert_int_equal(h.loaded_sessions, 0);
        assert_int_equal(h.saved_sessions, 0);
        assert_int_equal(h.persistent, 0);
}

static int
setup(void **state)
{
        struct mkd_tpm *t = open_tpm(tcti1);

        assert_no_handles(t);
        *state = t;
        return 0;
}

static int
teardown(void **state)
{
        struct mkd_tpm *t = *state;

        assert_no_handles(t);
        mkd_tpm_close(t);
        return 0;
}

static struct mls_secret *
random_secret(size_t len)
{
        struct mls_secret *s = NULL;

        assert_int_equal(mls_secret_new(len, &s), 0);
        randombytes_buf(s->data, len);
        return s;
}

static void
seal_ok(struct mkd_tpm *t, const struct mkd_tpm_pcrs *pcrs, const struct mls_secret *s,
        struct mls_bytes *blob)
{
        double t0 = now_ms();
        int r = mkd_tpm_seal(t, pcrs, s, blob);

        if (r != 0)
                print_error("seal: %s: %s\n", mls_err_name(r), mkd_tpm_last_error(t));
        assert_int_equal(r, 0);
        record(OP_SEAL, t0);
}

static void
unseal_expect(struct mkd_tpm *t, const struct mls_bytes *blob, const struct mls_secret *want)
{
        _mls_secret_ struct mls_secret *out = NULL;
        uint32_t changed = 0xdeadbeef;
        double t0 = now_ms();
        int r = mkd_tpm_unseal(t, blob->data, blob->len, &out, &changed);

        if (r != 0)
                print_error("unseal: %s: %s\n", mls_err_name(r), mkd_tpm_last_error(t));
        assert_int_equal(r, 0);
        record(OP_UNSEAL, t0);
        assert_true(mls_secret_eq(out, want));
        /* Written only for MLS_E_TPM_POLICY. */
        assert_int_equal(changed, 0xdeadbeef);
}

/* Field offsets of an MkdTpmBlob (daemon/tpm.h), read with the codec. */
struct layout {
        size_t pub_off, pub_len;   /* the body of public<V> */
        size_t priv_off, priv_len; /* the body of private<V> */
        size_t pcr_off;            /* pcr_hash (kind 1) or the end */
        size_t values_off, values_len;
};

static struct layout
blob_layout(const struct mls_bytes *b, bool sealed)
{
        struct layout l = { 0 };
        struct mls_reader r;
        const uint8_t *p;
        uint16_t u16;
        uint32_t u32;
        uint8_t u8;

        mls_reader_init(&r, b->data, b->len);
        assert_int_equal(mls_reader_raw(&r, 4, &p), 0);
        assert_memory_equal(p, "MKDT", 4);
        assert_int_equal(mls_reader_u16(&r, &u16), 0);
        assert_int_equal(u16, 1);
        assert_int_equal(mls_reader_u8(&r, &u8), 0);
        assert_int_equal(u8, sealed ? 1 : 2);
        assert_int_equal(mls_reader_opaque_view(&r, &p, &l.pub_len), 0);
        l.pub_off = (size_t)(p - b->data);
        assert_int_equal(mls_reader_opaque_view(&r, &p, &l.priv_len), 0);
        l.priv_off = (size_t)(p - b->data);
        l.pcr_off = b->len - r.left;
        if (sealed) {
                assert_int_equal(mls_reader_u16(&r, &u16), 0);
                assert_int_equal(mls_reader_u32(&r, &u32), 0);
                assert_int_equal(mls_reader_opaque_view(&r, &p, &l.values_len), 0);
                l.values_off = (size_t)(p - b->data);
        }
        assert_int_equal(mls_reader_done(&r), 0);
        return l;
}

/* ---- open ---- */

static void
test_mkd_tpm_open_refuses_missing_tpm(void **state)
{
        struct mkd_tpm *t = NULL;
        char why[MKD_TPM_WHY_MAX];
        char longer[MKD_POLICY_TCTI_MAX + 2];

        (void)state;
        /* Nothing listens on port 1. */
        assert_int_equal(mkd_tpm_open("swtpm:host=127.0.0.1,port=1", &t, why), MLS_E_TPM);
        assert_null(t);
        assert_non_null(strstr(why, "port=1"));
        /* A path too long for a socket address is refused, never silently
         * the default TCP port. */
        {
                char conf[160];

                snprintf(conf, sizeof(conf), "swtpm:path=/%0120d", 0);
                assert_int_equal(mkd_tpm_open(conf, &t, why), MLS_E_TPM);
                assert_null(t);
                assert_non_null(strstr(why, "too long"));
        }
        assert_int_equal(mkd_tpm_open("no-such-tcti-module", &t, why), MLS_E_TPM);
        assert_null(t);
        assert_true(strlen(why) > 0);
        /* why may be NULL. */
        assert_int_equal(mkd_tpm_open("no-such-tcti-module", &t, NULL), MLS_E_TPM);
        memset(longer, 'a', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        assert_int_equal(mkd_tpm_open(longer, &t, why), MLS_E_INVALID_ARGUMENT);
        assert_null(t);
        assert_int_equal(mkd_tpm_open(tcti1, NULL, why), MLS_E_INVALID_ARGUMENT);
        /* NULL-tolerant destructor. */
        mkd_tpm_close(NULL);
}

/* swtpm goes through daemon/tpm_tcti.c: one persistent socket, reported
 * (the vault's sandbox keeps it and forbids socket/connect); the device
 * TCTI reports /dev/tpmrm0 (not testable here). Either way the fd is open
 * and stays the same across commands. */
static void
test_mkd_tpm_fds_reported_or_unsupported(void **state)
{
        struct mkd_tpm *t = *state;
        int fds[4] = { -1, -1, -1, -1 }, again[4] = { -1, -1, -1, -1 };
        uint8_t rnd[8];
        size_t n = 99, n2 = 99;
        int r = mkd_tpm_fds(t, fds, MLS_ARRAY_SIZE(fds), &n);

        assert_int_equal(r, 0);
        assert_true(n >= 1 && n <= MLS_ARRAY_SIZE(fds));
        assert_true(fcntl(fds[0], F_GETFD) >= 0);
        assert_int_equal(mkd_tpm_get_random(t, rnd, sizeof(rnd)), 0);
        assert_int_equal(mkd_tpm_fds(t, again, MLS_ARRAY_SIZE(again), &n2), 0);
        assert_int_equal(n2, n);
        assert_int_equal(again[0], fds[0]);
        assert_int_equal(mkd_tpm_fds(t, fds, 4, NULL), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_fds(t, NULL, 4, &n), MLS_E_INVALID_ARGUMENT);
}

/* ---- sealing ---- */

static void
test_mkd_tpm_seal_round_trip(void **state)
{
        struct mkd_tpm *t = *state;
        static const size_t lens[] = { 1, 16, 32, 64, MKD_TPM_SEAL_MAX };

        for (size_t i = 0; i < MLS_ARRAY_SIZE(lens); i++) {
                _mls_secret_ struct mls_secret *s = random_secret(lens[i]);
                struct mls_bytes blob = { 0 };
                struct mkd_tpm_pcrs sel = { 0 };
                bool bound = true;

                seal_ok(t, NULL, s, &blob);
                assert_no_handles(t);
                /* The secret is not in the blob in clear. */
                if (lens[i] >= 16)
                        assert_null(memmem(blob.data, blob.len, s->data, s->len));
                assert_int_equal(mkd_tpm_blob_pcrs(blob.data, blob.len, &bound, &sel), 0);
                assert_false(bound);
                unseal_expect(t, &blob, s);
                /* Twice: the blob stays usable, nothing was consumed. */
                unseal_expect(t, &blob, s);
                assert_no_handles(t);
                mls_bytes_clear(&blob);
        }
}

static void
test_mkd_tpm_seal_rejects_bad_arguments(void **state)
{
        struct mkd_tpm *t = *state;
        _mls_secret_ struct mls_secret *big = random_secret(MKD_TPM_SEAL_MAX + 1);
        _mls_secret_ struct mls_secret *empty = NULL;
        _mls_secret_ struct mls_secret *ok = random_secret(32);
        struct mls_bytes blob = { 0 };
        struct mkd_tpm_pcrs none = { .bank = MKD_PCR_BANK_NONE, .mask = 1u << PCR_B };
        struct mkd_tpm_pcrs zero = { .bank = MKD_PCR_BANK_SHA256, .mask = 0 };
        struct mkd_tpm_pcrs high = { .bank = MKD_PCR_BANK_SHA256, .mask = 1u << 24 };

        assert_int_equal(mls_secret_new(0, &empty), 0);
        assert_int_equal(mkd_tpm_seal(t, NULL, big, &blob), MLS_E_TOO_LARGE);
        assert_int_equal(mkd_tpm_seal(t, NULL, empty, &blob), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_seal(t, NULL, NULL, &blob), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_seal(t, &none, ok, &blob), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_seal(t, &zero, ok, &blob), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_seal(t, &high, ok, &blob), MLS_E_INVALID_ARGUMENT);
        assert_null(blob.data);
}

/* Every proper prefix is MLS_E_TRUNCATED; one more byte is trailing. */
static void
test_mkd_tpm_unseal_truncated_or_extended(void **state)
{
        struct mkd_tpm *t = *state;
        _mls_secret_ struct mls_secret *s = random_secret(32);
        struct mkd_tpm_pcrs sel = { .bank = MKD_PCR_BANK_SHA256, .mask = 1u << PCR_A };
        struct mls_bytes blobs[2] = { { 0 }, { 0 } };

        seal_ok(t, NULL, s, &blobs[0]);
        seal_ok(t, &sel, s, &blobs[1]);
        for (size_t k = 0; k < 2; k++) {
                struct mls_bytes *b = &blobs[k];
                _mls_free_ uint8_t *ext = malloc(b->len + 1);

                for (size_t n = 0; n < b->len; n++) {
                        /* Exact-size heap copy: an overread faults (ASan). */
                        _mls_free_ uint8_t *cut = malloc(n ? n : 1);
                        _mls_secret_ struct mls_secret *out = NULL;
                        bool bound;
                        struct mkd_tpm_pcrs p;

                        assert_non_null(cut);
                        memcpy(cut, b->data, n);
                        assert_int_equal(mkd_tpm_unseal(t, cut, n, &out, NULL), MLS_E_TRUNCATED);
                        assert_null(out);
                        assert_int_equal(mkd_tpm_blob_pcrs(cut, n, &bound, &p), MLS_E_TRUNCATED);
                }
                assert_non_null(ext);
                memcpy(ext, b->data, b->len);
                ext[b->len] = 0;
                {
                        _mls_secret_ struct mls_secret *out = NULL;

                        assert_int_equal(mkd_tpm_unseal(t, ext, b->len + 1, &out, NULL),
                                         MLS_E_TRAILING);
                }
                mls_bytes_clear(b);
        }
}

/*
 * Flip one bit in every byte of a PCR-bound blob: never a success, and
 * each field fails in its own way: header -> InvalidMessage/Unsupported
 * (parsed without the TPM), public/private -> the TPM refuses the load
 * (integrity) or the structure no longer unmarshals, the PCR record ->
 * InvalidMessage (it no longer matches the object's authPolicy).
 */
static void
test_mkd_tpm_unseal_tampered_refused(void **state)
{
        struct mkd_tpm *t = *state;
        _mls_secret_ struct mls_secret *s = random_secret(32);
        struct mkd_tpm_pcrs sel = { .bank = MKD_PCR_BANK_SHA256,
                                    .mask = 1u << PCR_A | 1u << PCR_B };
        struct mls_bytes blob = { 0 };
        struct layout l;
        size_t n_tpm = 0;

        seal_ok(t, &sel, s, &blob);
        l = blob_layout(&blob, true);
        assert_int_equal(l.values_len, 2 * 32);
        for (size_t i = 0; i < blob.len; i++) {
                _mls_free_ uint8_t *b = malloc(blob.len);
                _mls_secret_ struct mls_secret *out = NULL;
                uint32_t changed = 0;
                int r;

                assert_non_null(b);
                memcpy(b, blob.data, blob.len);
                b[i] ^= (uint8_t)(1u << (i % 8));
                r = mkd_tpm_unseal(t, b, blob.len, &out, &changed);
                if (r >= 0)
                        print_error("bit flip at %zu of %zu accepted (public %zu+%zu, private "
                                    "%zu+%zu, pcr %zu)\n",
                                    i, blob.len, l.pub_off, l.pub_len, l.priv_off, l.priv_len,
                                    l.pcr_off);
                assert_true(r < 0);
                assert_null(out);
                if (i < 4 || i == 6) {
                        assert_int_equal(r, MLS_E_INVALID_MESSAGE); /* magic, kind */
                } else if (i < 6) {
                        assert_int_equal(r, MLS_E_UNSUPPORTED); /* format */
                } else if (i >= l.pub_off + 2 && i < l.pub_off + l.pub_len) {
                        /* public area (after its size): attributes, policy,
                         * parameters, unique; checked by us or by the TPM */
                        assert_true(r == MLS_E_INVALID_MESSAGE || r == MLS_E_TPM);
                } else if (i >= l.priv_off + 2 && i < l.priv_off + l.priv_len) {
                        /* private area: only the TPM can tell */
                        assert_int_equal(r, MLS_E_TPM);
                        n_tpm++;
                } else if (i >= l.pcr_off) {
                        /* pcr_hash, pcr_mask, the record */
                        assert_true(r == MLS_E_INVALID_MESSAGE || r == MLS_E_TRUNCATED ||
                                    r == MLS_E_TRAILING);
                        if (i >= l.values_off)
                                assert_int_equal(r, MLS_E_INVALID_MESSAGE);
                } else {
                        /* length prefixes */
                        assert_true(r == MLS_E_INVALID_MESSAGE || r == MLS_E_TRUNCATED ||
                                    r == MLS_E_TRAILING || r == MLS_E_NONMINIMAL ||
                                    r == MLS_E_BAD_VARINT);
                }
        }
        assert_true(n_tpm > 16);
        /* The original still works. */
        unseal_expect(t, &blob, s);
        mls_bytes_clear(&blob);
}

/*
 * The secret never crosses the bus in clear: all TPM traffic of a seal
 * and an unseal is recorded with the pcap TCTI (a wrapper around the
 * swtpm TCTI) and searched for the secret. As a control, TPM2_GetRandom
 * output (which travels unencrypted) is found in the same recording.
 */
static void
test_mkd_tpm_secret_never_on_the_bus(void **state)
{
        char path[] = "/tmp/mkd-tpm-pcap.XXXXXX";
        char tcti[MKD_POLICY_TCTI_MAX + 1];
        _mls_secret_ struct mls_secret *s = random_secret(32);
        struct mls_bytes blob = { 0 };
        uint8_t rnd[32];
        _mls_free_ uint8_t *cap = NULL;
        size_t cap_len = 0;
        struct mkd_tpm *t;
        FILE *f;
        int fd;

        (void)state;
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_true((size_t)snprintf(tcti, sizeof(tcti), "pcap:%s", tcti1) < sizeof(tcti));
        assert_int_equal(setenv("TCTI_PCAP_FILE", path, 1), 0);
        t = open_tpm(tcti);
        seal_ok(t, NULL, s, &blob);
        unseal_expect(t, &blob, s);
        mls_bytes_clear(&blob);
        {
                struct mkd_tpm_pcrs sel = { .bank = MKD_PCR_BANK_SHA256, .mask = 1u << PCR_A };

                seal_ok(t, &sel, s, &blob);
                unseal_expect(t, &blob, s);
                mls_bytes_clear(&blob);
        }
        assert_int_equal(mkd_tpm_get_random(t, rnd, sizeof(rnd)), 0);
        assert_no_handles(t);
        mkd_tpm_close(t);
        unsetenv("TCTI_PCAP_FILE");

        f = fopen(path, "rb");
        assert_non_null(f);
        cap = malloc(1 << 20);
        assert_non_null(cap);
        cap_len = fread(cap, 1, 1 << 20, f);
        fclose(f);
        unlink(path);
        assert_true(cap_len > 1000);
        assert_non_null(memmem(cap, cap_len, rnd, sizeof(rnd))); /* the capture works */
        assert_null(memmem(cap, cap_len, s->data, 16));
        assert_null(memmem(cap, cap_len, s->data + 16, 16));
}

/* A blob of one TPM does not load in another (other owner seed). */
static void
test_mkd_tpm_unseal_other_tpm_refused(void **state)
{
        struct mkd_tpm *t = *state;
        _mls_secret_ struct mls_secret *s = random_secret(32);
        struct mls_bytes blob = { 0 }, key = { 0 }, pub = { 0 }, sig = { 0 };
        uint8_t digest[32] = { 1, 2, 3 };
        struct mkd_tpm *t2;

        assert_non_null(tcti2); /* with-swtpm --two */
        seal_ok(t, NULL, s, &blob);
        assert_int_equal(mkd_tpm_sign_key_create(t, &key, &pub), 0);
        t2 = open_tpm(tcti2);
        {
                _mls_secret_ struct mls_secret *out = NULL;

                assert_int_equal(mkd_tpm_unseal(t2, blob.data, blob.len, &out, NULL), MLS_E_TPM);
                assert_null(out);
                assert_non_null(strstr(mkd_tpm_last_error(t2), "TPM2_Load"));
        }
        assert_int_equal(mkd_tpm_sign(t2, key.data, key.len, digest, &sig), MLS_E_TPM);
        assert_null(sig.data);
        assert_no_handles(t2);
        /* And both still work at home. */
        unseal_expect(t, &blob, s);
        assert_int_equal(mkd_tpm_sign(t, key.data, key.len, digest, &sig), 0);
        mkd_tpm_close(t2);
        mls_bytes_clear(&blob);
        mls_bytes_clear(&key);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&sig);
}

/* ---- PCRs ---- */

static void
test_mkd_tpm_pcr_extend_as_specified(void **state)
{
        struct mkd_tpm *t = *state;
        struct mkd_tpm_pcrs sel = { .bank = MKD_PCR_BANK_SHA256, .mask = 1u << PCR_B | 1u };
        struct mkd_tpm_pcrs all = { .bank = MKD_PCR_BANK_SHA256, .mask = 0xffffff };
        struct mkd_tpm_pcr_values before, after, every;
        static const uint8_t ev[] = "mlskeyd test event";
        uint8_t h[32], want[32];
        crypto_hash_sha256_state st;

        assert_int_equal(mkd_tpm_pcr_read(t, &sel, &before), 0);
        assert_int_equal(before.mask, sel.mask);
        assert_int_equal(before.digest_len, 32);
        assert_int_equal(mkd_tpm_pcr_extend(t, PCR_B, ev, sizeof(ev)), 0);
        assert_int_equal(mkd_tpm_pcr_read(t, &sel, &after), 0);
        /* TPM2_PCR_Event: PCR := H(PCR || H(data)) in each bank. */
        crypto_hash_sha256(h, ev, sizeof(ev));
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, before.digest[PCR_B], 32);
        crypto_hash_sha256_update(&st, h, 32);
        crypto_hash_sha256_final(&st, want);
        assert_memory_equal(after.digest[PCR_B], want, 32);
        assert_memory_equal(after.digest[0], before.digest[0], 32);
        /* All 24 at once (several TPM2_PCR_Read rounds of at most 8). */
        assert_int_equal(mkd_tpm_pcr_read(t, &all, &every), 0);
        assert_int_equal(every.mask, 0xffffff);
        assert_memory_equal(every.digest[PCR_B], want, 32);
        assert_memory_equal(every.digest[0], before.digest[0], 32);

        sel.mask = 0;
        assert_int_equal(mkd_tpm_pcr_read(t, &sel, &after), MLS_E_INVALID_ARGUMENT);
        sel.mask = 1u << 24;
        assert_int_equal(mkd_tpm_pcr_read(t, &sel, &after), MLS_E_INVALID_ARGUMENT);
        sel.bank = MKD_PCR_BANK_NONE;
        sel.mask = 1;
        assert_int_equal(mkd_tpm_pcr_read(t, &sel, &after), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_pcr_extend(t, 24, ev, sizeof(ev)), MLS_E_INVALID_ARGUMENT);
        assert_string_equal(mkd_tpm_pcr_bank_name(MKD_PCR_BANK_SHA384), "sha384");
        assert_int_equal(mkd_tpm_pcr_bank_digest_len(MKD_PCR_BANK_SHA1), 20);
}

/* Sealed to PCRs 16 and 23: unseals while they hold their values; after
 * extending 23 the TPM refuses with the policy error, naming PCR 23. */
static void
test_mkd_tpm_pcr_policy_names_changed_pcr(void **state)
{
        struct mkd_tpm *t = *state;
        _mls_secret_ struct mls_secret *s = random_secret(32);
        struct mkd_tpm_pcrs sel = { .bank = MKD_PCR_BANK_SHA256,
                                    .mask = 1u << PCR_A | 1u << PCR_B };
        struct mkd_tpm_pcrs got = { 0 };
        struct mls_bytes bound = { 0 }, unbound = { 0 };
        uint32_t changed = 0;
        bool is_bound = false;

        seal_ok(t, &sel, s, &bound);
        seal_ok(t, NULL, s, &unbound);
        assert_int_equal(mkd_tpm_blob_pcrs(bound.data, bound.len, &is_bound, &got), 0);
        assert_true(is_bound);
        assert_int_equal(got.bank, MKD_PCR_BANK_SHA256);
        assert_int_equal(got.mask, sel.mask);
        unseal_expect(t, &bound, s);

        assert_int_equal(mkd_tpm_pcr_extend(t, PCR_B, (const uint8_t *)"x", 1), 0);
        {
                _mls_secret_ struct mls_secret *out = NULL;

                assert_int_equal(mkd_tpm_unseal(t, bound.data, bound.len, &out, &changed),
                                 MLS_E_TPM_POLICY);
                assert_null(out);
                assert_int_equal(changed, 1u << PCR_B);
                assert_non_null(strstr(mkd_tpm_last_error(t), "0x800000"));
                assert_no_handles(t); /* the failure path flushed too */
                /* ret_changed_pcr_mask may be NULL. */
                assert_int_equal(mkd_tpm_unseal(t, bound.data, bound.len, &out, NULL),
                                 MLS_E_TPM_POLICY);
        }
        assert_int_equal(mkd_tpm_pcr_extend(t, PCR_A, (const uint8_t *)"y", 1), 0);
        {
                _mls_secret_ struct mls_secret *out = NULL;

                assert_int_equal(mkd_tpm_unseal(t, bound.data, bound.len, &out, &changed),
                                 MLS_E_TPM_POLICY);
                assert_int_equal(changed, 1u << PCR_A | 1u << PCR_B);
        }
        /* Not bound: unaffected. */
        unseal_expect(t, &unbound, s);
        /* Sealing again binds the new values. */
        mls_bytes_clear(&bound);
        seal_ok(t, &sel, s, &bound);
        unseal_expect(t, &bound, s);
        mls_bytes_clear(&bound);
        mls_bytes_clear(&unbound);
}

/* ---- NV counter ---- */

static void
test_mkd_tpm_counter_monotonic(void **state)
{
        struct mkd_tpm *t = *state;
        uint64_t v0, v, prev;
        bool created = false;

        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &v), MLS_E_NOT_FOUND);
        assert_int_equal(mkd_tpm_counter_increment(t, TEST_NV, &v), MLS_E_NOT_FOUND);
        assert_int_equal(mkd_tpm_counter_undefine(t, TEST_NV), MLS_E_NOT_FOUND);

        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV, 0, &created), 0);
        assert_true(created);
        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &v0), 0);
        prev = v0;
        for (int i = 0; i < 5; i++) {
                double t0 = now_ms();

                assert_int_equal(mkd_tpm_counter_increment(t, TEST_NV, &v), 0);
                record(OP_INCREMENT, t0);
                assert_int_equal(v, prev + 1);
                prev = v;
                assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &v), 0);
                assert_int_equal(v, prev);
        }
        /* Defining again: a clear "already there", nothing changed. */
        created = true;
        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV, 0, &created), 0);
        assert_false(created);
        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV, 0, NULL), 0);
        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &v), 0);
        assert_int_equal(v, prev);

        /* Deleted and defined again, it does not go back (the first
         * increment sets a counter to the highest value any counter of
         * this TPM ever held). */
        assert_int_equal(mkd_tpm_counter_undefine(t, TEST_NV), 0);
        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &v), MLS_E_NOT_FOUND);
        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV, 0, &created), 0);
        assert_true(created);
        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &v), 0);
        assert_true(v >= prev);

        /* ORDERLY counters work the same way. */
        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV_ORDERLY, MKD_TPM_COUNTER_ORDERLY,
                                                &created),
                         0);
        assert_true(created);
        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV_ORDERLY, &v0), 0);
        assert_int_equal(mkd_tpm_counter_increment(t, TEST_NV_ORDERLY, &v), 0);
        assert_int_equal(v, v0 + 1);
        assert_int_equal(mkd_tpm_counter_undefine(t, TEST_NV_ORDERLY), 0);
        assert_int_equal(mkd_tpm_counter_undefine(t, TEST_NV), 0);

        /* Outside the owner range, unknown flags. */
        assert_int_equal(mkd_tpm_counter_define(t, 0x01c00000, 0, NULL), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_counter_define(t, 0x017fffff, 0, NULL), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV, 0x2, NULL), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_counter_read(t, 0x81000001, &v), MLS_E_INVALID_ARGUMENT);
}

/* Raw ESYS (our own connection, while no mkd_tpm is open: swtpm serves
 * one client at a time): define or delete an ordinary 8-byte index. */
static void
raw_nv(const char *tcti, uint32_t idx, bool define)
{
        TSS2_TCTI_CONTEXT *tc = NULL;
        ESYS_CONTEXT *e = NULL;
        ESYS_TR nv = ESYS_TR_NONE;

        assert_int_equal(Tss2_TctiLdr_Initialize(tcti, &tc), TSS2_RC_SUCCESS);
        assert_int_equal(Esys_Initialize(&e, tc, NULL), TSS2_RC_SUCCESS);
        if (define) {
                TPM2B_AUTH auth = { 0 };
                TPM2B_NV_PUBLIC pub = { 0 };

                pub.nvPublic.nvIndex = idx;
                pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
                pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD |
                                          TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD;
                pub.nvPublic.dataSize = 8;
                assert_int_equal(Esys_NV_DefineSpace(e, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
                                                     ESYS_TR_NONE, ESYS_TR_NONE, &auth, &pub,
                                                     &nv),
                                 TSS2_RC_SUCCESS);
                assert_int_equal(Esys_TR_Close(e, &nv), TSS2_RC_SUCCESS);
        } else {
                assert_int_equal(Esys_TR_FromTPMPublic(e, idx, ESYS_TR_NONE, ESYS_TR_NONE,
                                                       ESYS_TR_NONE, &nv),
                                 TSS2_RC_SUCCESS);
                assert_int_equal(Esys_NV_UndefineSpace(e, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD,
                                                       ESYS_TR_NONE, ESYS_TR_NONE),
                                 TSS2_RC_SUCCESS);
        }
        Esys_Finalize(&e);
        Tss2_TctiLdr_Finalize(&tc);
}

/* An index that exists but is someone else's (not a counter): refused,
 * and never deleted by mkd_tpm_counter_undefine. */
static void
test_mkd_tpm_counter_foreign_index_refused(void **state)
{
        struct mkd_tpm *t;
        uint64_t v;
        bool created = true;

        (void)state;
        raw_nv(tcti1, TEST_NV_FOREIGN, true);
        t = open_tpm(tcti1);
        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV_FOREIGN, 0, &created), MLS_E_BAD_STATE);
        assert_true(created); /* untouched */
        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV_FOREIGN, &v), MLS_E_BAD_STATE);
        assert_int_equal(mkd_tpm_counter_increment(t, TEST_NV_FOREIGN, &v), MLS_E_BAD_STATE);
        assert_int_equal(mkd_tpm_counter_undefine(t, TEST_NV_FOREIGN), MLS_E_BAD_STATE);
        assert_non_null(strstr(mkd_tpm_last_error(t), "not an mlskeyd counter"));
        assert_no_handles(t);
        mkd_tpm_close(t);
        raw_nv(tcti1, TEST_NV_FOREIGN, false); /* it was still there */
}

/* ---- signatures ---- */

/* A DER ECDSA-Sig-Value with minimal INTEGERs (X.690 8.3.2). */
static void
assert_der_minimal(const struct mls_bytes *sig)
{
        const uint8_t *p = sig->data;
        size_t off = 2;

        assert_true(sig->len >= 8 && sig->len <= MKD_TPM_P256_SIG_MAX);
        assert_int_equal(p[0], 0x30);
        assert_int_equal(p[1], sig->len - 2);
        for (int k = 0; k < 2; k++) {
                size_t n;

                assert_true(off + 2 <= sig->len);
                assert_int_equal(p[off], 0x02);
                n = p[off + 1];
                assert_true(n >= 1 && n <= 33 && off + 2 + n <= sig->len);
                assert_int_equal(p[off + 2] & 0x80, 0); /* positive */
                if (n > 1 && p[off + 2] == 0)
                        assert_true(p[off + 3] & 0x80); /* no needless zero */
                off += 2 + n;
        }
        assert_int_equal(off, sig->len);
}

/* R-5.1.2-2: minimal DER INTEGERs, byte for byte. */
static void
test_mkd_tpm_ecdsa_sig_der_minimal(void **state)
{
        static const uint8_t r1[] = { 0x00, 0x00, 0x7f, 0x01 };  /* leading zeros */
        static const uint8_t s1[] = { 0x80, 0x02 };              /* top bit set */
        static const uint8_t want1[] = { 0x30, 0x09, 0x02, 0x02, 0x7f, 0x01,
                                         0x02, 0x03, 0x00, 0x80, 0x02 };
        static const uint8_t zero[] = { 0x00, 0x00 };            /* the value 0 */
        static const uint8_t one[] = { 0x01 };
        static const uint8_t want2[] = { 0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01 };
        static const uint8_t z_hi[] = { 0x00, 0x80 };            /* keep exactly one 0x00 */
        static const uint8_t want3[] = { 0x30, 0x08, 0x02, 0x02, 0x00, 0x80,
                                         0x02, 0x02, 0x00, 0x80 };
        uint8_t ff[32], big[33];
        struct mls_bytes b = { 0 };

        (void)state;
        assert_int_equal(mkd_tpm_ecdsa_sig_der(r1, sizeof(r1), s1, sizeof(s1), &b), 0);
        assert_int_equal(b.len, sizeof(want1));
        assert_memory_equal(b.data, want1, sizeof(want1));
        mls_bytes_clear(&b);
        assert_int_equal(mkd_tpm_ecdsa_sig_der(zero, sizeof(zero), one, sizeof(one), &b), 0);
        assert_int_equal(b.len, sizeof(want2));
        assert_memory_equal(b.data, want2, sizeof(want2));
        mls_bytes_clear(&b);
        assert_int_equal(mkd_tpm_ecdsa_sig_der(z_hi, sizeof(z_hi), z_hi, sizeof(z_hi), &b), 0);
        assert_int_equal(b.len, sizeof(want3));
        assert_memory_equal(b.data, want3, sizeof(want3));
        mls_bytes_clear(&b);
        /* The largest: two 33-byte INTEGERs, 72 bytes in all. */
        memset(ff, 0xff, sizeof(ff));
        assert_int_equal(mkd_tpm_ecdsa_sig_der(ff, 32, ff, 32, &b), 0);
        assert_int_equal(b.len, MKD_TPM_P256_SIG_MAX);
        assert_int_equal(b.data[1], 70);
        assert_int_equal(b.data[3], 33);
        assert_int_equal(b.data[4], 0x00);
        assert_der_minimal(&b);
        mls_bytes_clear(&b);
        memset(big, 1, sizeof(big));
        assert_int_equal(mkd_tpm_ecdsa_sig_der(big, 33, one, 1, &b), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_ecdsa_sig_der(one, 1, big, 33, &b), MLS_E_INVALID_ARGUMENT);
        assert_int_equal(mkd_tpm_ecdsa_sig_der(one, 0, one, 1, &b), MLS_E_INVALID_ARGUMENT);
        assert_null(b.data);
}

/* The TPM's suite-2 signature over SignContent verifies with mls/crypto's
 * VerifyWithLabel (RFC 9420 5.1.2); a flipped bit in the signature or the
 * content does not. R-5.1.1-1 (uncompressed point), R-5.1.2-2 (minimal
 * DER), R-5.1.2-3 (SignContent built by mls_sign_content_build). */
static void
test_mkd_tpm_sign_verifies_with_mls_crypto(void **state)
{
        struct mkd_tpm *t = *state;
        const struct mls_suite *suite = mls_suite_get(MLS_SUITE_P256_AES128GCM_SHA256_P256);
        struct mls_bytes key = { 0 }, pub = { 0 }, pub2 = { 0 }, tbs = { 0 };
        uint8_t content[100];

        assert_non_null(suite);
        assert_int_equal(mkd_tpm_sign_key_create(t, &key, &pub), 0);
        assert_no_handles(t);
        assert_int_equal(pub.len, MKD_TPM_P256_PUB_LEN);
        assert_int_equal(pub.data[0], 0x04);
        assert_int_equal(pub.len, suite->sig_pub_len);
        assert_int_equal(mkd_tpm_sign_key_public(key.data, key.len, &pub2), 0);
        assert_true(mls_bytes_eq(&pub, &pub2));
        (void)blob_layout(&key, false);

        for (int i = 0; i < 24; i++) {
                struct mls_bytes sig = { 0 };
                double t0;

                randombytes_buf(content, sizeof(content));
                assert_int_equal(mls_sign_content_build("LeafNodeTBS", content, sizeof(content),
                                                        &tbs),
                                 0);
                t0 = now_ms();
                assert_int_equal(mkd_tpm_sign_message(t, key.data, key.len, tbs.data, tbs.len,
                                                      &sig),
                                 0);
                record(OP_SIGN, t0);
                assert_der_minimal(&sig);
                assert_int_equal(mls_verify_with_label(suite, pub.data, pub.len, "LeafNodeTBS",
                                                       content, sizeof(content), sig.data,
                                                       sig.len),
                                 0);
                assert_int_equal(mls_crypto_verify(suite, pub.data, pub.len, tbs.data, tbs.len,
                                                   sig.data, sig.len),
                                 0);
                /* Another label, a flipped content bit, a flipped
                 * signature bit: refused. */
                assert_int_equal(mls_verify_with_label(suite, pub.data, pub.len, "KeyPackageTBS",
                                                       content, sizeof(content), sig.data,
                                                       sig.len),
                                 MLS_E_BAD_SIGNATURE);
                content[i % sizeof(content)] ^= 0x01;
                assert_int_equal(mls_verify_with_label(suite, pub.data, pub.len, "LeafNodeTBS",
                                                       content, sizeof(content), sig.data,
                                                       sig.len),
                                 MLS_E_BAD_SIGNATURE);
                content[i % sizeof(content)] ^= 0x01;
                sig.data[sig.len - 1 - (size_t)(i % 8)] ^= (uint8_t)(1u << (i % 8));
                assert_int_equal(mls_verify_with_label(suite, pub.data, pub.len, "LeafNodeTBS",
                                                       content, sizeof(content), sig.data,
                                                       sig.len),
                                 MLS_E_BAD_SIGNATURE);
                mls_bytes_clear(&sig);
                mls_bytes_clear(&tbs);
        }
        mls_bytes_clear(&key);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&pub2);
}

static void
test_mkd_tpm_sign_rejects_bad_blobs(void **state)
{
        struct mkd_tpm *t = *state;
        _mls_secret_ struct mls_secret *s = random_secret(32);
        struct mls_bytes key = { 0 }, pub = { 0 }, sealed = { 0 }, sig = { 0 }, p = { 0 };
        uint8_t digest[32] = { 0 };
        struct layout l;

        assert_int_equal(mkd_tpm_sign_key_create(t, &key, &pub), 0);
        seal_ok(t, NULL, s, &sealed);
        /* Kinds do not mix. */
        assert_int_equal(mkd_tpm_sign(t, sealed.data, sealed.len, digest, &sig),
                         MLS_E_INVALID_MESSAGE);
        assert_int_equal(mkd_tpm_sign_key_public(sealed.data, sealed.len, &p),
                         MLS_E_INVALID_MESSAGE);
        {
                _mls_secret_ struct mls_secret *out = NULL;

                assert_int_equal(mkd_tpm_unseal(t, key.data, key.len, &out, NULL),
                                 MLS_E_INVALID_MESSAGE);
        }
        for (size_t n = 0; n < key.len; n++)
                assert_int_equal(mkd_tpm_sign(t, key.data, n, digest, &sig), MLS_E_TRUNCATED);
        /* A flipped bit in the wrapped private key: the TPM refuses it. */
        l = blob_layout(&key, false);
        key.data[l.priv_off + l.priv_len - 3] ^= 0x10;
        assert_int_equal(mkd_tpm_sign(t, key.data, key.len, digest, &sig), MLS_E_TPM);
        assert_null(sig.data);
        key.data[l.priv_off + l.priv_len - 3] ^= 0x10;
        assert_int_equal(mkd_tpm_sign(t, key.data, key.len, digest, &sig), 0);
        mls_bytes_clear(&sig);
        mls_bytes_clear(&key);
        mls_bytes_clear(&pub);
        mls_bytes_clear(&sealed);
}

/* ---- randomness ---- */

static void
test_mkd_tpm_get_random_fills(void **state)
{
        struct mkd_tpm *t = *state;
        static const size_t lens[] = { 0, 1, 31, 32, 33, 64, 100, 1000 };
        uint8_t a[1000], b[1000], zero[1000] = { 0 };

        for (size_t i = 0; i < MLS_ARRAY_SIZE(lens); i++) {
                memset(a, 0, sizeof(a));
                memset(b, 0, sizeof(b));
                assert_int_equal(mkd_tpm_get_random(t, a, lens[i]), 0);
                assert_int_equal(mkd_tpm_get_random(t, b, lens[i]), 0);
                if (lens[i] >= 16) {
                        /* Every 32-byte chunk was filled, and differs. */
                        for (size_t off = 0; off + 16 <= lens[i]; off += 32) {
                                assert_memory_not_equal(a + off, zero, 16);
                                assert_memory_not_equal(a + off, b + off, 16);
                        }
                        assert_memory_not_equal(a + lens[i] - 16, zero, 16);
                }
                assert_memory_equal(a + lens[i], zero, sizeof(a) - lens[i]); /* no overrun */
        }
        for (int i = 0; i < 20; i++) {
                double t0 = now_ms();

                assert_int_equal(mkd_tpm_get_random(t, a, 32), 0);
                record(OP_RANDOM32, t0);
        }
        assert_int_equal(mkd_tpm_get_random(t, NULL, 1), MLS_E_INVALID_ARGUMENT);
}

/* ---- no leaks over many mixed operations ---- */

static void
test_mkd_tpm_no_leak_after_many_operations(void **state)
{
        struct mkd_tpm *t = *state;
        _mls_secret_ struct mls_secret *s = random_secret(32);
        struct mkd_tpm_pcrs sel = { .bank = MKD_PCR_BANK_SHA256, .mask = 1u << PCR_B };
        struct mls_bytes blob = { 0 }, stale = { 0 }, foreign = { 0 }, key = { 0 }, pub = { 0 };
        const char *env = getenv("MKD_TPM_LOOP");
        long want = env ? strtol(env, NULL, 10) : 1000;
        double start = now_ms();
        uint64_t last = 0, v;
        long done = 0;
        struct mkd_tpm *t2;

        assert_true(want > 0);
        assert_non_null(tcti2);
        /* A blob of the other TPM (the load-failure path). */
        t2 = open_tpm(tcti2);
        seal_ok(t2, NULL, s, &foreign);
        mkd_tpm_close(t2);
        /* A PCR-bound blob whose PCR then changes (the policy-failure path). */
        seal_ok(t, &sel, s, &stale);
        assert_int_equal(mkd_tpm_pcr_extend(t, PCR_B, (const uint8_t *)"z", 1), 0);
        seal_ok(t, NULL, s, &blob);
        assert_int_equal(mkd_tpm_sign_key_create(t, &key, &pub), 0);
        assert_int_equal(mkd_tpm_counter_define(t, TEST_NV, 0, NULL), 0);
        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &last), 0);

        for (done = 0; done < want; done++) {
                _mls_secret_ struct mls_secret *out = NULL;
                struct mls_bytes tmp = { 0 };
                struct mkd_tpm_pcr_values pv;
                uint8_t rnd[32], digest[32];
                uint32_t changed = 0;
                double t0 = now_ms();

                /* 60 s budget (the machine is shared). */
                if (t0 - start > 60000.0)
                        break;
                switch (done % 8) {
                case 0:
                        assert_int_equal(mkd_tpm_seal(t, done % 16 ? NULL : &sel, s, &tmp), 0);
                        record(OP_SEAL, t0);
                        mls_bytes_clear(&tmp);
                        break;
                case 1:
                        assert_int_equal(mkd_tpm_unseal(t, blob.data, blob.len, &out, NULL), 0);
                        record(OP_UNSEAL, t0);
                        assert_true(mls_secret_eq(out, s));
                        break;
                case 2:
                        assert_int_equal(mkd_tpm_counter_increment(t, TEST_NV, &v), 0);
                        record(OP_INCREMENT, t0);
                        assert_int_equal(v, last + 1);
                        last = v;
                        break;
                case 3:
                        randombytes_buf(digest, sizeof(digest));
                        assert_int_equal(mkd_tpm_sign(t, key.data, key.len, digest, &tmp), 0);
                        record(OP_SIGN, t0);
                        mls_bytes_clear(&tmp);
                        break;
                case 4:
                        assert_int_equal(mkd_tpm_get_random(t, rnd, sizeof(rnd)), 0);
                        record(OP_RANDOM32, t0);
                        break;
                case 5:
                        assert_int_equal(mkd_tpm_unseal(t, stale.data, stale.len, &out, &changed),
                                         MLS_E_TPM_POLICY);
                        assert_int_equal(changed, 1u << PCR_B);
                        break;
                case 6:
                        assert_int_equal(mkd_tpm_unseal(t, foreign.data, foreign.len, &out, NULL),
                                         MLS_E_TPM);
                        break;
                default:
                        assert_int_equal(mkd_tpm_pcr_read(t, &sel, &pv), 0);
                        assert_int_equal(mkd_tpm_counter_read(t, TEST_NV, &v), 0);
                        assert_int_equal(v, last);
                        break;
                }
        }
        printf("# %ld mixed TPM operations (seal, unseal, policy failure, foreign blob, "
               "counter, sign, random, PCR read) in %.1f s; handles checked after\n",
               done, (now_ms() - start) / 1000.0);
        assert_no_handles(t);
        assert_int_equal(mkd_tpm_counter_undefine(t, TEST_NV), 0);
        mls_bytes_clear(&blob);
        mls_bytes_clear(&stale);
        mls_bytes_clear(&foreign);
        mls_bytes_clear(&key);
        mls_bytes_clear(&pub);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mkd_tpm_open_refuses_missing_tpm),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_fds_reported_or_unsupported, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_seal_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_seal_rejects_bad_arguments, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_unseal_truncated_or_extended, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_unseal_tampered_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_unseal_other_tpm_refused, setup,
                                                teardown),
                cmocka_unit_test(test_mkd_tpm_secret_never_on_the_bus),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_pcr_extend_as_specified, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_pcr_policy_names_changed_pcr, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_counter_monotonic, setup, teardown),
                cmocka_unit_test(test_mkd_tpm_counter_foreign_index_refused),
                cmocka_unit_test(test_mkd_tpm_ecdsa_sig_der_minimal),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_sign_verifies_with_mls_crypto, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_sign_rejects_bad_blobs, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_get_random_fills, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mkd_tpm_no_leak_after_many_operations, setup,
                                                teardown),
        };
        int r;

        tcti1 = getenv("MKD_TEST_TCTI");
        tcti2 = getenv("MKD_TEST_TCTI2");
        if (!tcti1 || !tcti1[0]) {
                printf("# MKD_TEST_TCTI is not set: run me through tests/tpm/with-swtpm --two; "
                       "skipping\n");
                return 77;
        }
        if (sodium_init() < 0)
                return 1;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        print_medians();
        return r;
}
