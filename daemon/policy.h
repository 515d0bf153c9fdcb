/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The administrator's policy: /etc/mlskeyd/mlskeyd.conf (DESIGN.md
 * section 7), an INI file parsed with libinih. The commented example with
 * every key at its default is policy/mlskeyd.conf.
 *
 *   [sandbox]     seccomp = enforce | log                      (enforce)
 *   [tpm]         mode = off | prefer | require                (off)
 *                 tcti = <TCTI configuration string>           (device:/dev/tpmrm0)
 *                        printable ASCII, no blanks, quotes, ";" or "#", <= 160 bytes
 *                 pcrs = <empty> | <bank>:<n>[,<n>...]         (empty: no PCR policy)
 *                        bank: sha1, sha256, sha384, sha512; n: 0..23
 *   [retention]   max_past_epochs = 0..1000                    (3)
 *                 max_past_generations = 0..100000             (5)
 *                 max_forward_distance = 0..1000000            (1000)
 *   [access]      export_secret = owner | deny                 (owner)
 *                 max_identities_per_uid = 1..100000           (64)
 *                 max_groups_per_uid = 1..1000000              (1024)
 *   [keypackages] lifetime = 3600..63072000 seconds            (7776000, 90 days)
 *   [update]      interval = 0 | 3600..31536000 seconds        (0, off)
 *
 * The automatic self-update is off by default: a self-update produces a
 * Commit that the application must deliver, and an application that does
 * not listen for it would leave the group with a dangling pending commit.
 * Administrators whose applications handle it enable it (e.g. 604800, a
 * week) for post-compromise security without user action.
 *
 * Parsing is strict: an unknown section or key, a malformed or
 * out-of-range value, a duplicate key, a key outside any section, a
 * indented (continuation) line, a line longer than libinih's limit (197
 * bytes with the stock INI_MAX_LINE of 200), a NUL byte or a syntax error is refused with "<file>:<line>: <reason>". Numbers are
 * plain decimal (no sign, no unit). Names are case-sensitive. Nothing is
 * partially applied: the result is written only on success.
 */
#ifndef MKD_POLICY_H
#define MKD_POLICY_H

#include "mls/common.h"

enum mkd_seccomp_mode {
        MKD_SECCOMP_ENFORCE,
        MKD_SECCOMP_LOG,
};

enum mkd_tpm_mode {
        MKD_TPM_OFF,
        MKD_TPM_PREFER,
        MKD_TPM_REQUIRE,
};

enum mkd_export_policy {
        MKD_EXPORT_OWNER,
        MKD_EXPORT_DENY,
};

enum mkd_pcr_bank {
        MKD_PCR_BANK_NONE, /* pcrs is empty */
        MKD_PCR_BANK_SHA1,
        MKD_PCR_BANK_SHA256,
        MKD_PCR_BANK_SHA384,
        MKD_PCR_BANK_SHA512,
};

#define MKD_POLICY_TCTI_MAX 160 /* bytes, without the NUL */
#define MKD_POLICY_PCR_COUNT 24
#define MKD_POLICY_FILE_MAX (1024 * 1024)
#define MKD_POLICY_ERR_MAX 512

/* A plain value: copy with '=', compare with mkd_policy_eq. */
struct mkd_policy {
        enum mkd_seccomp_mode seccomp;
        enum mkd_tpm_mode tpm_mode;
        char tpm_tcti[MKD_POLICY_TCTI_MAX + 1]; /* NUL-terminated, never empty */
        enum mkd_pcr_bank pcr_bank;
        uint32_t pcr_mask; /* bit n = PCR n; 0 iff pcr_bank is NONE */
        uint32_t max_past_epochs;
        uint32_t max_past_generations;
        uint32_t max_forward_distance;
        enum mkd_export_policy export_secret;
        uint32_t max_identities_per_uid;
        uint32_t max_groups_per_uid;
        uint64_t keypackage_lifetime; /* seconds */
        uint64_t update_interval;     /* seconds, 0 = off */
        uint32_t busy_poll;           /* microseconds, 0 = off */
};

#define MKD_POLICY_PATH "/etc/mlskeyd/mlskeyd.conf"

/* The compiled-in defaults (the table above). */
void mkd_policy_defaults(struct mkd_policy *ret_policy);
bool mkd_policy_eq(const struct mkd_policy *a, const struct mkd_policy *b);

/*
 * Parses data[0..len) (the contents of the file called `name`, used in
 * messages only) on top of the defaults. On success writes *ret_policy and
 * returns 0. On failure returns MLS_E_INVALID_ARGUMENT (malformed content)
 * or MLS_E_NOMEM, leaves *ret_policy untouched, and writes one line
 * "<name>:<line>: <reason>" (no newline) into err[0..MKD_POLICY_ERR_MAX).
 */
MLS_MUST_CHECK int mkd_policy_parse(const char *name, const uint8_t *data, size_t len,
                                    struct mkd_policy *ret_policy,
                                    char err[MKD_POLICY_ERR_MAX]);

/*
 * Reads and parses the file at path. A missing file (ENOENT) means the
 * defaults. Errors as mkd_policy_parse; a file that cannot be read gives
 * MLS_E_STORAGE with "<path>: <strerror>" in err.
 */
MLS_MUST_CHECK int mkd_policy_load(const char *path, struct mkd_policy *ret_policy,
                                   char err[MKD_POLICY_ERR_MAX]);

/* The effective policy as (name, value) pairs, for GetPolicy and
 * `mlskeyctl policy show`. name is "<section>.<key>" ("retention.max_past_epochs").
 * Strings: seccomp, tpm mode, tcti, pcrs (canonical "sha256:7,8", "" if
 * none), export_secret. Numbers: all the others (type 't' on D-Bus). */
enum mkd_policy_value_type {
        MKD_POLICY_STRING,
        MKD_POLICY_NUMBER,
};

struct mkd_policy_entry {
        const char *section; /* "retention" */
        const char *key;     /* "max_past_epochs" */
        const char *name;    /* "retention.max_past_epochs" */
        enum mkd_policy_value_type type;
        const char *str;     /* STRING: valid during the callback only */
        uint64_t num;        /* NUMBER */
};

/* Calls visit once per key, in file order; stops at and returns the first
 * negative value visit returns. */
MLS_MUST_CHECK int mkd_policy_foreach(const struct mkd_policy *p,
                                      int (*visit)(void *ud, const struct mkd_policy_entry *e),
                                      void *ud);

/* The policy as an INI text that mkd_policy_parse turns back into the same
 * policy (NUL-terminated, malloc'd, in *ret_text). */
MLS_MUST_CHECK int mkd_policy_render_ini(const struct mkd_policy *p, char **ret_text);

/* A PCR selection in the policy's canonical form, "sha256:7,8"; "" for
 * MKD_PCR_BANK_NONE. Returns out. */
#define MKD_PCRS_TEXT_MAX 128
const char *mkd_pcrs_format(enum mkd_pcr_bank bank, uint32_t mask, char out[MKD_PCRS_TEXT_MAX]);
/* The same for messages: "none" instead of "". */
const char *mkd_pcrs_text(enum mkd_pcr_bank bank, uint32_t mask, char out[MKD_PCRS_TEXT_MAX]);

const char *mkd_seccomp_mode_name(enum mkd_seccomp_mode m);
const char *mkd_tpm_mode_name(enum mkd_tpm_mode m);
const char *mkd_export_policy_name(enum mkd_export_policy m);

#endif
