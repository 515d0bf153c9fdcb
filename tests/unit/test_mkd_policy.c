/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of daemon/policy: defaults, every key, every kind of error
 * with its exact line, nothing partially applied, the example file,
 * rendering round trips. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/policy.h"
#include "tests/lib/testutil.h"

#define NAME "/etc/mlskeyd/mlskeyd.conf"

static int
parse_text(const char *text, struct mkd_policy *ret, char err[MKD_POLICY_ERR_MAX])
{
        return mkd_policy_parse(NAME, (const uint8_t *)text, strlen(text), ret, err);
}

/* Parses text, which must fail with exactly `want` as the message, and
 * must leave the output untouched. */
static void
expect_error(const char *text, const char *want)
{
        struct mkd_policy p, sentinel;
        char err[MKD_POLICY_ERR_MAX] = "";

        memset(&p, 0xa5, sizeof(p));
        memcpy(&sentinel, &p, sizeof(p));
        assert_int_equal(parse_text(text, &p, err), MLS_E_BAD_CONFIG);
        if (strcmp(err, want) != 0)
                print_error("input:\n%s\nwant: %s\ngot:  %s\n", text, want, err);
        assert_string_equal(err, want);
        assert_memory_equal(&p, &sentinel, sizeof(p));
}

static void
expect_ok(const char *text, struct mkd_policy *ret)
{
        char err[MKD_POLICY_ERR_MAX] = "";
        int r = parse_text(text, ret, err);

        if (r != 0)
                print_error("input:\n%s\nerror: %s\n", text, err);
        assert_int_equal(r, 0);
}

static void
test_policy_defaults(void **state)
{
        struct mkd_policy p;

        (void)state;
        mkd_policy_defaults(&p);
        assert_int_equal(p.seccomp, MKD_SECCOMP_ENFORCE);
        assert_int_equal(p.tpm_mode, MKD_TPM_OFF);
        assert_string_equal(p.tpm_tcti, "device:/dev/tpmrm0");
        assert_int_equal(p.pcr_bank, MKD_PCR_BANK_NONE);
        assert_int_equal(p.pcr_mask, 0);
        assert_int_equal(p.max_past_epochs, 3);
        assert_int_equal(p.max_past_generations, 5);
        assert_int_equal(p.max_forward_distance, 1000);
        assert_int_equal(p.export_secret, MKD_EXPORT_OWNER);
        assert_int_equal(p.max_identities_per_uid, 64);
        assert_int_equal(p.max_groups_per_uid, 1024);
        assert_int_equal(p.keypackage_lifetime, 90 * 24 * 3600);
        assert_int_equal(p.update_interval, 0);
        assert_int_equal(p.busy_poll, 0);
}

static void
test_policy_empty_and_comments_give_defaults(void **state)
{
        struct mkd_policy p, d;

        (void)state;
        mkd_policy_defaults(&d);
        expect_ok("", &p);
        assert_true(mkd_policy_eq(&p, &d));
        expect_ok("# nothing\n; nothing either\n\n   \n\t# indented comment\n[tpm]\n", &p);
        assert_true(mkd_policy_eq(&p, &d));
        assert_memory_equal(&p, &d, sizeof(p));
}

static void
test_policy_every_key(void **state)
{
        static const char text[] = "[sandbox]\n"
                                   "seccomp = log\n"
                                   "[tpm]\n"
                                   "mode = require\n"
                                   "tcti = swtpm:path=/run/swtpm/sock\n"
                                   "pcrs = sha384:0,7,23\n"
                                   "[retention]\n"
                                   "max_past_epochs = 0\n"
                                   "max_past_generations = 100000\n"
                                   "max_forward_distance = 17\n"
                                   "[access]\n"
                                   "export_secret = deny\n"
                                   "max_identities_per_uid = 1\n"
                                   "max_groups_per_uid = 1000000\n"
                                   "[keypackages]\n"
                                   "lifetime = 3600\n"
                                   "[update]\n"
                                   "interval = 604800\n";
        struct mkd_policy p;

        (void)state;
        expect_ok(text, &p);
        assert_int_equal(p.seccomp, MKD_SECCOMP_LOG);
        assert_int_equal(p.tpm_mode, MKD_TPM_REQUIRE);
        assert_string_equal(p.tpm_tcti, "swtpm:path=/run/swtpm/sock");
        assert_int_equal(p.pcr_bank, MKD_PCR_BANK_SHA384);
        assert_int_equal(p.pcr_mask, (1u << 0) | (1u << 7) | (1u << 23));
        assert_int_equal(p.max_past_epochs, 0);
        assert_int_equal(p.max_past_generations, 100000);
        assert_int_equal(p.max_forward_distance, 17);
        assert_int_equal(p.export_secret, MKD_EXPORT_DENY);
        assert_int_equal(p.max_identities_per_uid, 1);
        assert_int_equal(p.max_groups_per_uid, 1000000);
        assert_int_equal(p.keypackage_lifetime, 3600);
        assert_int_equal(p.update_interval, 604800);
}

/* Each key alone changes its field and nothing else. */
static void
test_policy_each_key_alone(void **state)
{
        struct mkd_policy p, want;

        (void)state;
#define ONE(text, stmt)                                 \
        do {                                            \
                mkd_policy_defaults(&want);             \
                stmt;                                   \
                expect_ok(text, &p);                    \
                assert_true(mkd_policy_eq(&p, &want));  \
        } while (0)
        ONE("[sandbox]\nseccomp = enforce\n", (void)0);
        ONE("[tpm]\nmode = prefer\n", want.tpm_mode = MKD_TPM_PREFER);
        ONE("[tpm]\nmode = off\n", want.tpm_mode = MKD_TPM_OFF);
        ONE("[tpm]\ntcti = device:/dev/tpm0\n", strcpy(want.tpm_tcti, "device:/dev/tpm0"));
        ONE("[tpm]\ntcti = mssim\n", strcpy(want.tpm_tcti, "mssim"));
        ONE("[tpm]\npcrs = sha256:7,8\n",
            (want.pcr_bank = MKD_PCR_BANK_SHA256, want.pcr_mask = (1u << 7) | (1u << 8)));
        ONE("[tpm]\npcrs = sha1:8,7\n",
            (want.pcr_bank = MKD_PCR_BANK_SHA1, want.pcr_mask = (1u << 7) | (1u << 8)));
        ONE("[tpm]\npcrs = sha512:00\n", (want.pcr_bank = MKD_PCR_BANK_SHA512, want.pcr_mask = 1));
        ONE("[tpm]\npcrs =\n", (void)0);
        ONE("[retention]\nmax_past_epochs = 1000\n", want.max_past_epochs = 1000);
        ONE("[retention]\nmax_past_generations = 0\n", want.max_past_generations = 0);
        ONE("[retention]\nmax_forward_distance = 1000000\n", want.max_forward_distance = 1000000);
        ONE("[retention]\nmax_forward_distance = 0\n", want.max_forward_distance = 0);
        ONE("[access]\nexport_secret = owner\n", (void)0);
        ONE("[access]\nmax_identities_per_uid = 100000\n", want.max_identities_per_uid = 100000);
        ONE("[access]\nmax_groups_per_uid = 1\n", want.max_groups_per_uid = 1);
        ONE("[keypackages]\nlifetime = 63072000\n", want.keypackage_lifetime = 63072000);
        ONE("[keypackages]\nlifetime = 007200\n", want.keypackage_lifetime = 7200);
        ONE("[update]\ninterval = 0\n", (void)0);
        ONE("[update]\ninterval = 3600\n", want.update_interval = 3600);
        ONE("[update]\ninterval = 31536000\n", want.update_interval = 31536000);
        ONE("[performance]\nbusy_poll = 0\n", (void)0);
        ONE("[performance]\nbusy_poll = 150\n", want.busy_poll = 150);
        ONE("[performance]\nbusy_poll = 1000\n", want.busy_poll = 1000);
        /* Whitespace around "=", inline ";" comments, CRLF, a BOM. */
        ONE("[sandbox]\n  \nseccomp=log ; diagnosing\n", want.seccomp = MKD_SECCOMP_LOG);
        ONE("[sandbox]\r\nseccomp \t=\t log\r\n", want.seccomp = MKD_SECCOMP_LOG);
        ONE("\xef\xbb\xbf[sandbox]\nseccomp = log", want.seccomp = MKD_SECCOMP_LOG);
#undef ONE
}

static void
test_policy_errors_unknown_names(void **state)
{
        (void)state;
        expect_error("# c\n\n[sandbox]\nseccomp = log\n[seccomp]\n",
                     NAME ":5: unknown section [seccomp]");
        expect_error("[Sandbox]\n", NAME ":1: unknown section [Sandbox]");
        expect_error("[]\n", NAME ":1: unknown section []");
        expect_error("[retention]\nmax_past_epoch = 3\n",
                     NAME ":2: [retention] unknown key \"max_past_epoch\"");
        /* A key of another section. */
        expect_error("[retention]\nmode = off\n", NAME ":2: [retention] unknown key \"mode\"");
        expect_error("[tpm]\nMode = off\n", NAME ":2: [tpm] unknown key \"Mode\"");
        expect_error("\n\nseccomp = log\n[sandbox]\n",
                     NAME ":3: key \"seccomp\" outside of any section");
}

static void
test_policy_errors_numbers(void **state)
{
        (void)state;
        /* The example of the brief, verbatim. */
        expect_error("[retention]\n\n\n\n\n\n\n\n\n\n\nmax_past_epochs = three\n",
                     NAME ":12: [retention] max_past_epochs: not a number: \"three\"");
        expect_error("[retention]\nmax_past_epochs = -1\n",
                     NAME ":2: [retention] max_past_epochs: not a number: \"-1\"");
        expect_error("[retention]\nmax_past_epochs = +1\n",
                     NAME ":2: [retention] max_past_epochs: not a number: \"+1\"");
        expect_error("[retention]\nmax_past_epochs = 1 2\n",
                     NAME ":2: [retention] max_past_epochs: not a number: \"1 2\"");
        expect_error("[retention]\nmax_past_epochs = 0x10\n",
                     NAME ":2: [retention] max_past_epochs: not a number: \"0x10\"");
        expect_error("[retention]\nmax_past_epochs =\n",
                     NAME ":2: [retention] max_past_epochs: not a number: \"\"");
        expect_error("[keypackages]\nlifetime = 90d\n",
                     NAME ":2: [keypackages] lifetime: not a number: \"90d\"");
        expect_error("[retention]\nmax_past_epochs = 1001\n",
                     NAME ":2: [retention] max_past_epochs: out of range (0..1000): \"1001\"");
        expect_error("[retention]\nmax_past_generations = 100001\n",
                     NAME ":2: [retention] max_past_generations: out of range (0..100000): \"100001\"");
        expect_error("[retention]\nmax_forward_distance = 99999999999999999999999999\n",
                     NAME ":2: [retention] max_forward_distance: out of range (0..1000000): "
                          "\"99999999999999999999999999\"");
        /* Quotas: 0 (unlimited) is not a thing. */
        expect_error("[access]\nmax_identities_per_uid = 0\n",
                     NAME ":2: [access] max_identities_per_uid: out of range (1..100000): \"0\"");
        expect_error("[access]\nmax_groups_per_uid = 0\n",
                     NAME ":2: [access] max_groups_per_uid: out of range (1..1000000): \"0\"");
        expect_error("[access]\nmax_groups_per_uid = 1000001\n",
                     NAME ":2: [access] max_groups_per_uid: out of range (1..1000000): \"1000001\"");
        expect_error("[keypackages]\nlifetime = 3599\n",
                     NAME ":2: [keypackages] lifetime: out of range (3600..63072000): \"3599\"");
        expect_error("[keypackages]\nlifetime = 0\n",
                     NAME ":2: [keypackages] lifetime: out of range (3600..63072000): \"0\"");
        expect_error("[keypackages]\nlifetime = 63072001\n",
                     NAME ":2: [keypackages] lifetime: out of range (3600..63072000): \"63072001\"");
        expect_error("[update]\ninterval = 1\n",
                     NAME ":2: [update] interval: out of range (0 or 3600..31536000): \"1\"");
        expect_error("[update]\ninterval = 31536001\n",
                     NAME ":2: [update] interval: out of range (0 or 3600..31536000): \"31536001\"");
        expect_error("[performance]\nbusy_poll = 1001\n",
                     NAME ":2: [performance] busy_poll: out of range (0..1000): \"1001\"");
        expect_error("[performance]\nbusy_poll = -1\n",
                     NAME ":2: [performance] busy_poll: not a number: \"-1\"");
}

static void
test_policy_errors_choices(void **state)
{
        (void)state;
        expect_error("[sandbox]\nseccomp = strict\n",
                     NAME ":2: [sandbox] seccomp: expected enforce or log: \"strict\"");
        expect_error("[sandbox]\nseccomp = Enforce\n",
                     NAME ":2: [sandbox] seccomp: expected enforce or log: \"Enforce\"");
        expect_error("[sandbox]\nseccomp =\n",
                     NAME ":2: [sandbox] seccomp: expected enforce or log: \"\"");
        expect_error("[tpm]\nmode = on\n",
                     NAME ":2: [tpm] mode: expected off, prefer or require: \"on\"");
        expect_error("[access]\nexport_secret = everyone\n",
                     NAME ":2: [access] export_secret: expected owner or deny: \"everyone\"");
        /* "#" is not an inline comment (only " ;" is). */
        expect_error("[sandbox]\nseccomp = log # why\n",
                     NAME ":2: [sandbox] seccomp: expected enforce or log: \"log # why\"");
        /* Non-printable bytes are escaped in the message. */
        expect_error("[sandbox]\nseccomp = l\x01g\"\n",
                     NAME ":2: [sandbox] seccomp: expected enforce or log: \"l\\x01g\\x22\"");
}

static void
test_policy_errors_tpm_strings(void **state)
{
        char text[512];

        (void)state;
        expect_error("[tpm]\npcrs = 7,8\n",
                     NAME ":2: [tpm] pcrs: expected \"<bank>:<pcr>[,<pcr>...]\", e.g. \"sha256:7\": \"7,8\"");
        expect_error("[tpm]\npcrs = sha3:7\n",
                     NAME ":2: [tpm] pcrs: unknown PCR bank (expected sha1, sha256, sha384 or sha512): \"sha3:7\"");
        expect_error("[tpm]\npcrs = SHA256:7\n",
                     NAME ":2: [tpm] pcrs: unknown PCR bank (expected sha1, sha256, sha384 or sha512): \"SHA256:7\"");
        expect_error("[tpm]\npcrs = sha256:24\n",
                     NAME ":2: [tpm] pcrs: PCR 24 out of range (0..23): \"sha256:24\"");
        expect_error("[tpm]\npcrs = sha256:7,7\n",
                     NAME ":2: [tpm] pcrs: PCR 7 listed twice: \"sha256:7,7\"");
        expect_error("[tpm]\npcrs = sha256:\n",
                     NAME ":2: [tpm] pcrs: expected a comma-separated list of PCR numbers: \"sha256:\"");
        expect_error("[tpm]\npcrs = sha256:7,\n",
                     NAME ":2: [tpm] pcrs: expected a comma-separated list of PCR numbers: \"sha256:7,\"");
        expect_error("[tpm]\npcrs = sha256:,7\n",
                     NAME ":2: [tpm] pcrs: expected a comma-separated list of PCR numbers: \"sha256:,7\"");
        expect_error("[tpm]\npcrs = sha256:7+8\n",
                     NAME ":2: [tpm] pcrs: expected a comma-separated list of PCR numbers: \"sha256:7+8\"");
        expect_error("[tpm]\npcrs = sha256:0007\n",
                     NAME ":2: [tpm] pcrs: expected a comma-separated list of PCR numbers: \"sha256:0007\"");
        expect_error("[tpm]\ntcti =\n", NAME ":2: [tpm] tcti: empty TCTI name: \"\"");
        expect_error("[tpm]\ntcti = :/dev/tpm0\n", NAME ":2: [tpm] tcti: empty TCTI name: \":/dev/tpm0\"");
        expect_error("[tpm]\ntcti = \"device:/dev/tpmrm0\"\n",
                     NAME ":2: [tpm] tcti: invalid character (no blanks, quotes, \";\", \"#\" or "
                          "control characters): \"\\x22device:/dev/tpmrm0\\x22\"");
        expect_error("[tpm]\ntcti = device: /dev/tpm0\n",
                     NAME ":2: [tpm] tcti: invalid character (no blanks, quotes, \";\", \"#\" or "
                          "control characters): \"device: /dev/tpm0\"");
        /* Found by fuzz_config: ";" right after "=" is part of the value
         * for libinih, but would start a comment once written back as
         * "tcti = ;/sock". */
        expect_error("[tpm]\ntcti =;/sock\n",
                     NAME ":2: [tpm] tcti: invalid character (no blanks, quotes, \";\", \"#\" or "
                          "control characters): \";/sock\"");
        expect_error("[tpm]\ntcti = a#b\n",
                     NAME ":2: [tpm] tcti: invalid character (no blanks, quotes, \";\", \"#\" or "
                          "control characters): \"a#b\"");
        /* 160 bytes are fine, 161 are not. */
        strcpy(text, "[tpm]\ntcti = device:");
        memset(text + strlen(text), 'x', 160 - 7);
        strcpy(text + 20 + 153, "\n");
        {
                struct mkd_policy p;

                expect_ok(text, &p);
                assert_int_equal(strlen(p.tpm_tcti), 160);
        }
        strcpy(text + 20 + 153, "y\n");
        {
                struct mkd_policy p;
                char err[MKD_POLICY_ERR_MAX];

                assert_int_equal(parse_text(text, &p, err), MLS_E_BAD_CONFIG);
                assert_non_null(strstr(err, NAME ":2: [tpm] tcti: too long (at most 160 bytes): \"device:xxx"));
        }
}

static void
test_policy_errors_structure(void **state)
{
        char text[600];

        (void)state;
        expect_error("[retention]\nmax_past_epochs = 1\n\nmax_past_epochs = 2\n",
                     NAME ":4: [retention] max_past_epochs: duplicate key (first set on line 2)");
        /* The same value twice is still a duplicate. */
        expect_error("[tpm]\nmode = off\nmode = off\n",
                     NAME ":3: [tpm] mode: duplicate key (first set on line 2)");
        expect_error("[tpm]\nmode = off\n[sandbox]\n[tpm]\n",
                     NAME ":4: duplicate section [tpm] (first on line 1)");
        expect_error("[tpm]\nmode = off\n  tcti = mssim\n",
                     NAME ":3: indented line (continuation lines are not supported)");
        expect_error("[tpm]\n\tmode = off\n",
                     NAME ":2: indented line (continuation lines are not supported)");
        expect_error("[tpm]\nmode off\n",
                     NAME ":2: syntax error: expected \"[section]\" or \"key = value\"");
        expect_error("[tpm\nmode = off\n", NAME ":1: syntax error: \"[\" without \"]\"");
        expect_error("[tpm] mode = off\n", NAME ":1: syntax error: text after \"]\"");
        /* A comment after the section is fine. */
        {
                struct mkd_policy p;

                expect_ok("[tpm] ; the TPM\nmode = prefer\n[access] # x\n", &p);
                assert_int_equal(p.tpm_mode, MKD_TPM_PREFER);
        }
        {
                static const char nul[] = "[tpm]\nmode = off\0\n";
                struct mkd_policy p;
                char err[MKD_POLICY_ERR_MAX];

                assert_int_equal(mkd_policy_parse(NAME, (const uint8_t *)nul, sizeof(nul) - 1, &p, err),
                                 MLS_E_BAD_CONFIG);
                assert_string_equal(err, NAME ":2: NUL byte in line");
        }
        /* Longest accepted line, then one byte more. */
        strcpy(text, "[tpm]\n# ");
        memset(text + 8, 'c', 195);
        strcpy(text + 8 + 195, "\n[sandbox]\n");
        {
                struct mkd_policy p;

                expect_ok(text, &p);
        }
        strcpy(text + 8 + 195, "c\n[sandbox]\n");
        expect_error(text, NAME ":2: line too long (more than 197 bytes)");
}

/* The earliest error is the one reported, whatever its kind. */
static void
test_policy_first_error_wins(void **state)
{
        (void)state;
        expect_error("[tpm]\nmode off\nmode = bad\n",
                     NAME ":2: syntax error: expected \"[section]\" or \"key = value\"");
        expect_error("[tpm]\nmode = bad\nmode off\n",
                     NAME ":2: [tpm] mode: expected off, prefer or require: \"bad\"");
        expect_error("[tpm]\nmode = bad\n[nope]\n",
                     NAME ":2: [tpm] mode: expected off, prefer or require: \"bad\"");
        expect_error("[tpm]\nfoo = 1\n  indented\n", NAME ":2: [tpm] unknown key \"foo\"");
}

static void
test_policy_error_leaves_output_untouched(void **state)
{
        struct mkd_policy p, before;
        char err[MKD_POLICY_ERR_MAX];

        (void)state;
        /* Valid keys before the bad line must not leak into the result. */
        mkd_policy_defaults(&p);
        before = p;
        assert_int_equal(parse_text("[sandbox]\nseccomp = log\n[retention]\nmax_past_epochs = 9\n"
                                    "max_past_generations = x\n",
                                    &p, err),
                         MLS_E_BAD_CONFIG);
        assert_true(mkd_policy_eq(&p, &before));
        assert_string_equal(err, NAME ":5: [retention] max_past_generations: not a number: \"x\"");
}

static char *
tmp_dir(void)
{
        char *d = strdup("/tmp/mkd-policy-XXXXXX");

        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        return d;
}

static void
write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void
test_policy_load_files(void **state)
{
        struct mkd_policy p, d;
        char err[MKD_POLICY_ERR_MAX];
        char path[256], want[512];
        char *dir = tmp_dir();

        (void)state;
        mkd_policy_defaults(&d);
        /* A missing file means the defaults. */
        snprintf(path, sizeof(path), "%s/missing.conf", dir);
        memset(&p, 0x5a, sizeof(p));
        assert_int_equal(mkd_policy_load(path, &p, err), 0);
        assert_true(mkd_policy_eq(&p, &d));

        snprintf(path, sizeof(path), "%s/mlskeyd.conf", dir);
        write_file(path, "[retention]\nmax_past_epochs = 0\n");
        assert_int_equal(mkd_policy_load(path, &p, err), 0);
        assert_int_equal(p.max_past_epochs, 0);

        /* The error names the real path. */
        write_file(path, "[retention]\nmax_past_epochs = 0\n[x]\n");
        memset(&p, 0x5a, sizeof(p));
        d = p;
        assert_int_equal(mkd_policy_load(path, &p, err), MLS_E_BAD_CONFIG);
        snprintf(want, sizeof(want), "%s:3: unknown section [x]", path);
        assert_string_equal(err, want);
        assert_memory_equal(&p, &d, sizeof(p));

        /* A directory is not a policy file. */
        assert_int_equal(mkd_policy_load(dir, &p, err), MLS_E_BAD_CONFIG);
        snprintf(want, sizeof(want), "%s: not a regular file", dir);
        assert_string_equal(err, want);
        unlink(path);
        rmdir(dir);
        free(dir);
}

/* policy/mlskeyd.conf, as shipped, is exactly the defaults; with every
 * "#key = value" line uncommented it is still exactly the defaults, and it
 * then names every key once. */
static void
test_policy_example_file_is_defaults(void **state)
{
        struct mls_bytes file = { 0 };
        struct mkd_policy p, d;
        char err[MKD_POLICY_ERR_MAX];
        char *text, *out;
        size_t n = 0, keys = 0;
        int r;

        (void)state;
        mkd_policy_defaults(&d);
        assert_true(tu_read_file(TEST_SRCDIR "/policy/mlskeyd.conf", &file));
        r = mkd_policy_parse("mlskeyd.conf", file.data, file.len, &p, err);
        if (r)
                print_error("%s\n", err);
        assert_int_equal(r, 0);
        assert_memory_equal(&p, &d, sizeof(p));

        text = malloc(file.len + 1);
        out = text;
        assert_non_null(text);
        for (size_t i = 0; i < file.len; i++) {
                bool bol = i == 0 || file.data[i - 1] == '\n';

                /* "#word =" at the start of a line is a commented-out key. */
                if (bol && file.data[i] == '#' && i + 1 < file.len && file.data[i + 1] >= 'a' &&
                    file.data[i + 1] <= 'z') {
                        const uint8_t *eol = memchr(file.data + i, '\n', file.len - i);
                        const uint8_t *eq = memchr(file.data + i, '=', file.len - i);

                        if (eq && (!eol || eq < eol)) {
                                keys++;
                                continue;
                        }
                }
                out[n++] = (char)file.data[i];
        }
        r = mkd_policy_parse("uncommented", (const uint8_t *)text, n, &p, err);
        if (r)
                print_error("%s\n", err);
        assert_int_equal(r, 0);
        assert_memory_equal(&p, &d, sizeof(p));
        assert_int_equal(keys, 13);
        free(text);
        mls_bytes_clear(&file);
}

struct collect {
        char names[16][48];
        char values[16][200];
        size_t n;
};

static int
collect_one(void *ud, const struct mkd_policy_entry *e)
{
        struct collect *c = ud;

        assert_true(c->n < 16);
        snprintf(c->names[c->n], sizeof(c->names[0]), "%s", e->name);
        if (e->type == MKD_POLICY_STRING)
                snprintf(c->values[c->n], sizeof(c->values[0]), "s:%s", e->str);
        else
                snprintf(c->values[c->n], sizeof(c->values[0]), "t:%llu", (unsigned long long)e->num);
        c->n++;
        return 0;
}

static int
stop_at_third(void *ud, const struct mkd_policy_entry *e)
{
        size_t *n = ud;

        (void)e;
        return ++*n == 3 ? MLS_E_NOMEM : 0;
}

static void
test_policy_foreach_names_values(void **state)
{
        static const char *const want[][2] = {
                { "sandbox.seccomp", "s:log" },
                { "tpm.mode", "s:prefer" },
                { "tpm.tcti", "s:mssim:host=localhost,port=2321" },
                { "tpm.pcrs", "s:sha256:0,7,8" },
                { "retention.max_past_epochs", "t:0" },
                { "retention.max_past_generations", "t:5" },
                { "retention.max_forward_distance", "t:1000" },
                { "access.export_secret", "s:deny" },
                { "access.max_identities_per_uid", "t:64" },
                { "access.max_groups_per_uid", "t:1024" },
                { "keypackages.lifetime", "t:7776000" },
                { "update.interval", "t:604800" },
                { "performance.busy_poll", "t:0" },
        };
        struct mkd_policy p;
        struct collect c = { .n = 0 };
        size_t n = 0;

        (void)state;
        expect_ok("[sandbox]\nseccomp=log\n[tpm]\nmode=prefer\ntcti=mssim:host=localhost,port=2321\n"
                  "pcrs=sha256:8,0,7\n[retention]\nmax_past_epochs=0\n[access]\nexport_secret=deny\n"
                  "[update]\ninterval=604800\n",
                  &p);
        assert_int_equal(mkd_policy_foreach(&p, collect_one, &c), 0);
        assert_int_equal(c.n, MLS_ARRAY_SIZE(want));
        for (size_t i = 0; i < c.n; i++) {
                assert_string_equal(c.names[i], want[i][0]);
                assert_string_equal(c.values[i], want[i][1]);
        }
        assert_int_equal(mkd_policy_foreach(&p, stop_at_third, &n), MLS_E_NOMEM);
        assert_int_equal(n, 3);
}

static void
test_policy_render_round_trip(void **state)
{
        struct mkd_policy p, q, d;
        char err[MKD_POLICY_ERR_MAX];
        char *text = NULL;

        (void)state;
        mkd_policy_defaults(&d);
        assert_int_equal(mkd_policy_render_ini(&d, &text), 0);
        assert_int_equal(parse_text(text, &q, err), 0);
        assert_memory_equal(&q, &d, sizeof(q));
        assert_non_null(strstr(text, "[tpm]\nmode = off\ntcti = device:/dev/tpmrm0\npcrs = \n"));
        free(text);

        expect_ok("[sandbox]\nseccomp=log\n[tpm]\nmode=require\ntcti=tabrmd\npcrs=sha1:23,1\n"
                  "[retention]\nmax_past_epochs=7\nmax_past_generations=8\nmax_forward_distance=9\n"
                  "[access]\nexport_secret=deny\nmax_identities_per_uid=2\nmax_groups_per_uid=3\n"
                  "[keypackages]\nlifetime=86400\n[update]\ninterval=7200\n",
                  &p);
        assert_int_equal(mkd_policy_render_ini(&p, &text), 0);
        assert_int_equal(parse_text(text, &q, err), 0);
        assert_true(mkd_policy_eq(&p, &q));
        assert_memory_equal(&p, &q, sizeof(q));
        assert_false(mkd_policy_eq(&p, &d));
        free(text);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_policy_defaults),
                cmocka_unit_test(test_policy_empty_and_comments_give_defaults),
                cmocka_unit_test(test_policy_every_key),
                cmocka_unit_test(test_policy_each_key_alone),
                cmocka_unit_test(test_policy_errors_unknown_names),
                cmocka_unit_test(test_policy_errors_numbers),
                cmocka_unit_test(test_policy_errors_choices),
                cmocka_unit_test(test_policy_errors_tpm_strings),
                cmocka_unit_test(test_policy_errors_structure),
                cmocka_unit_test(test_policy_first_error_wins),
                cmocka_unit_test(test_policy_error_leaves_output_untouched),
                cmocka_unit_test(test_policy_load_files),
                cmocka_unit_test(test_policy_example_file_is_defaults),
                cmocka_unit_test(test_policy_foreach_names_values),
                cmocka_unit_test(test_policy_render_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
