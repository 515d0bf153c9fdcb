/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy file (DESIGN.md section 7). libinih splits the file into
 * (section, key, value); everything else is ours: libinih is fed through a
 * reader callback that sees every raw line first, so that we know the line
 * number of each key, and can refuse what libinih would silently accept
 * (NUL bytes, over-long lines it would split, indented lines it would glue
 * to the previous value, unknown or repeated sections, text after "]").
 */
#include "config.h"

#include "daemon/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mls/codec.h"

const char *
mkd_seccomp_mode_name(enum mkd_seccomp_mode m)
{
        switch (m) {
        case MKD_SECCOMP_ENFORCE:
                return "enforce";
        case MKD_SECCOMP_LOG:
                return "log";
        }
        return "?";
}

const char *
mkd_tpm_mode_name(enum mkd_tpm_mode m)
{
        switch (m) {
        case MKD_TPM_OFF:
                return "off";
        case MKD_TPM_PREFER:
                return "prefer";
        case MKD_TPM_REQUIRE:
                return "require";
        }
        return "?";
}

const char *
mkd_export_policy_name(enum mkd_export_policy m)
{
        switch (m) {
        case MKD_EXPORT_OWNER:
                return "owner";
        case MKD_EXPORT_DENY:
                return "deny";
        }
        return "?";
}

/* Index = enum mkd_pcr_bank. */
static const char *const pcr_bank_names[] = { "", "sha1", "sha256", "sha384", "sha512" };

void
mkd_policy_defaults(struct mkd_policy *ret_policy)
{
        /* memset first: padding and the unused tail of tpm_tcti are zero,
         * so that two equal policies are also equal byte for byte. */
        memset(ret_policy, 0, sizeof(*ret_policy));
        ret_policy->seccomp = MKD_SECCOMP_ENFORCE;
        ret_policy->tpm_mode = MKD_TPM_OFF;
        strcpy(ret_policy->tpm_tcti, "device:/dev/tpmrm0");
        ret_policy->pcr_bank = MKD_PCR_BANK_NONE;
        ret_policy->pcr_mask = 0;
        ret_policy->max_past_epochs = 3;
        ret_policy->max_past_generations = 5;
        ret_policy->max_forward_distance = 1000;
        ret_policy->export_secret = MKD_EXPORT_OWNER;
        ret_policy->max_identities_per_uid = 64;
        ret_policy->max_groups_per_uid = 1024;
        ret_policy->keypackage_lifetime = UINT64_C(90) * 24 * 3600;
        ret_policy->update_interval = 0;
        ret_policy->busy_poll = 0;
}

bool
mkd_policy_eq(const struct mkd_policy *a, const struct mkd_policy *b)
{
        return a->seccomp == b->seccomp && a->tpm_mode == b->tpm_mode &&
               strcmp(a->tpm_tcti, b->tpm_tcti) == 0 && a->pcr_bank == b->pcr_bank &&
               a->pcr_mask == b->pcr_mask && a->max_past_epochs == b->max_past_epochs &&
               a->max_past_generations == b->max_past_generations &&
               a->max_forward_distance == b->max_forward_distance &&
               a->export_secret == b->export_secret &&
               a->max_identities_per_uid == b->max_identities_per_uid &&
               a->max_groups_per_uid == b->max_groups_per_uid &&
               a->keypackage_lifetime == b->keypackage_lifetime &&
               a->update_interval == b->update_interval && a->busy_poll == b->busy_poll;
}

/* ---- the key table ---- */

enum key_kind {
        K_SECCOMP,
        K_TPM_MODE,
        K_TCTI,
        K_PCRS,
        K_EXPORT,
        K_U32,
        K_U64,
};

struct key_def {
        const char *section;
        const char *key;
        const char *name; /* section.key */
        enum key_kind kind;
        size_t off;      /* K_U32, K_U64: offset of the field */
        uint64_t min;    /* K_U32, K_U64: inclusive range */
        uint64_t max;
        bool zero_is_off; /* 0 is accepted below min (meaning "off") */
};

#define U32(s, k, field, lo, hi)                                                               \
        { s, #k, s "." #k, K_U32, offsetof(struct mkd_policy, field), lo, hi, false }
#define U64(s, k, field, lo, hi, z)                                                            \
        { s, #k, s "." #k, K_U64, offsetof(struct mkd_policy, field), lo, hi, z }

/* In file order; mkd_policy_foreach and the renderer follow it too. */
static const struct key_def keys[] = {
        { "sandbox", "seccomp", "sandbox.seccomp", K_SECCOMP, 0, 0, 0, false },
        { "tpm", "mode", "tpm.mode", K_TPM_MODE, 0, 0, 0, false },
        { "tpm", "tcti", "tpm.tcti", K_TCTI, 0, 0, 0, false },
        { "tpm", "pcrs", "tpm.pcrs", K_PCRS, 0, 0, 0, false },
        U32("retention", max_past_epochs, max_past_epochs, 0, 1000),
        U32("retention", max_past_generations, max_past_generations, 0, 100000),
        U32("retention", max_forward_distance, max_forward_distance, 0, 1000000),
        { "access", "export_secret", "access.export_secret", K_EXPORT, 0, 0, 0, false },
        U32("access", max_identities_per_uid, max_identities_per_uid, 1, 100000),
        U32("access", max_groups_per_uid, max_groups_per_uid, 1, 1000000),
        /* One hour to two years. */
        U64("keypackages", lifetime, keypackage_lifetime, 3600, 63072000, false),
        /* Off, or one hour to one year. */
        U64("update", interval, update_interval, 3600, 31536000, true),
        /* Microseconds, 0 (off) to 1000. */
        U32("performance", busy_poll, busy_poll, 0, 1000),
};

static const char *const sections[] = { "sandbox", "tpm", "retention", "access", "keypackages",
                                        "update", "performance" };

/* ---- parsing ---- */

struct parse_ctx {
        const uint8_t *data;
        size_t len;
        size_t pos;
        unsigned lineno; /* of the line most recently handed to libinih */
        struct mkd_policy policy;
        unsigned key_line[MLS_ARRAY_SIZE(keys)];         /* 0: not seen */
        unsigned section_line[MLS_ARRAY_SIZE(sections)]; /* 0: not seen */
        unsigned err_line;                               /* 0: no error */
        char why[384];
};

/* Records the first error only. */
static void __attribute__((format(printf, 3, 4)))
ctx_fail(struct parse_ctx *c, unsigned line, const char *fmt, ...)
{
        va_list ap;

        if (c->err_line)
                return;
        c->err_line = line;
        va_start(ap, fmt);
        vsnprintf(c->why, sizeof(c->why), fmt, ap);
        va_end(ap);
}

/* A value quoted for a message: printable ASCII kept, the rest as \xNN,
 * cut after 64 characters. */
static void
quote(char out[80], const char *s)
{
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;

        for (; *s && n < 64; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"') {
                        out[n++] = (char)ch;
                } else {
                        out[n++] = '\\';
                        out[n++] = 'x';
                        out[n++] = hex[ch >> 4];
                        out[n++] = hex[ch & 15];
                }
        }
        if (*s) {
                memcpy(out + n, "...", 3);
                n += 3;
        }
        out[n] = '\0';
}

/* Plain decimal: one or more digits, nothing else. */
static bool
parse_decimal(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!*s)
                return false;
        for (; *s; s++) {
                unsigned d;

                if (*s < '0' || *s > '9')
                        return false;
                d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        v = UINT64_MAX; /* saturate: surely out of range */
                else
                        v = v * 10 + d;
        }
        *ret = v;
        return true;
}

static int
choice(const char *v, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v, names[i]) == 0)
                        return (int)i;
        return -1;
}

/* "<bank>:<n>[,<n>...]" with n in 0..23, each at most once; "" = none. */
static bool
parse_pcrs(const char *v, enum mkd_pcr_bank *ret_bank, uint32_t *ret_mask, char *why,
           size_t whylen)
{
        const char *colon = strchr(v, ':');
        const char *p;
        uint32_t mask = 0;
        int bank = -1;

        if (!*v) {
                *ret_bank = MKD_PCR_BANK_NONE;
                *ret_mask = 0;
                return true;
        }
        if (!colon) {
                snprintf(why, whylen, "expected \"<bank>:<pcr>[,<pcr>...]\", e.g. \"sha256:7\"");
                return false;
        }
        for (size_t i = 1; i < MLS_ARRAY_SIZE(pcr_bank_names); i++)
                if (strlen(pcr_bank_names[i]) == (size_t)(colon - v) &&
                    memcmp(v, pcr_bank_names[i], (size_t)(colon - v)) == 0)
                        bank = (int)i;
        if (bank < 0) {
                snprintf(why, whylen, "unknown PCR bank (expected sha1, sha256, sha384 or sha512)");
                return false;
        }
        p = colon + 1;
        for (;;) {
                unsigned n = 0;
                size_t digits = 0;

                while (*p >= '0' && *p <= '9' && digits < 3) {
                        n = n * 10 + (unsigned)(*p - '0');
                        p++;
                        digits++;
                }
                if (digits == 0 || (*p != ',' && *p != '\0')) {
                        snprintf(why, whylen, "expected a comma-separated list of PCR numbers");
                        return false;
                }
                if (n >= MKD_POLICY_PCR_COUNT) {
                        snprintf(why, whylen, "PCR %u out of range (0..%d)", n,
                                 MKD_POLICY_PCR_COUNT - 1);
                        return false;
                }
                if (mask & (UINT32_C(1) << n)) {
                        snprintf(why, whylen, "PCR %u listed twice", n);
                        return false;
                }
                mask |= UINT32_C(1) << n;
                if (*p == '\0')
                        break;
                p++;
        }
        *ret_bank = (enum mkd_pcr_bank)bank;
        *ret_mask = mask;
        return true;
}

/* A TCTI configuration string: "<module>[:<conf>]", printable ASCII
 * without blanks, quotes or comment characters (INI has no quoting: quotes
 * would reach the TCTI loader, and a ";" after a blank starts a comment,
 * so such a value could not be written back). */
static bool
valid_tcti(const char *v, char *why, size_t whylen)
{
        size_t len = strlen(v);

        if (len == 0 || v[0] == ':') {
                snprintf(why, whylen, "empty TCTI name");
                return false;
        }
        if (len > MKD_POLICY_TCTI_MAX) {
                snprintf(why, whylen, "too long (at most %d bytes)", MKD_POLICY_TCTI_MAX);
                return false;
        }
        for (const char *p = v; *p; p++) {
                unsigned char ch = (unsigned char)*p;

                if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\'' || ch == ';' || ch == '#') {
                        snprintf(why, whylen, "invalid character (no blanks, quotes, \";\", \"#\" or "
                                              "control characters)");
                        return false;
                }
        }
        return true;
}

/* Parses value into the field of k; false with the reason in why. */
static bool
set_value(struct mkd_policy *p, const struct key_def *k, const char *value, char *why,
          size_t whylen)
{
        static const char *const seccomp_names[] = { "enforce", "log" };
        static const char *const tpm_names[] = { "off", "prefer", "require" };
        static const char *const export_names[] = { "owner", "deny" };
        uint64_t v;
        uint32_t v32;
        int i;

        switch (k->kind) {
        case K_SECCOMP:
                i = choice(value, seccomp_names, MLS_ARRAY_SIZE(seccomp_names));
                if (i < 0) {
                        snprintf(why, whylen, "expected enforce or log");
                        return false;
                }
                p->seccomp = i == 0 ? MKD_SECCOMP_ENFORCE : MKD_SECCOMP_LOG;
                return true;
        case K_TPM_MODE:
                i = choice(value, tpm_names, MLS_ARRAY_SIZE(tpm_names));
                if (i < 0) {
                        snprintf(why, whylen, "expected off, prefer or require");
                        return false;
                }
                p->tpm_mode = i == 0 ? MKD_TPM_OFF : i == 1 ? MKD_TPM_PREFER : MKD_TPM_REQUIRE;
                return true;
        case K_EXPORT:
                i = choice(value, export_names, MLS_ARRAY_SIZE(export_names));
                if (i < 0) {
                        snprintf(why, whylen, "expected owner or deny");
                        return false;
                }
                p->export_secret = i == 0 ? MKD_EXPORT_OWNER : MKD_EXPORT_DENY;
                return true;
        case K_TCTI:
                if (!valid_tcti(value, why, whylen))
                        return false;
                memset(p->tpm_tcti, 0, sizeof(p->tpm_tcti));
                memcpy(p->tpm_tcti, value, strlen(value));
                return true;
        case K_PCRS:
                return parse_pcrs(value, &p->pcr_bank, &p->pcr_mask, why, whylen);
        case K_U32:
        case K_U64:
                if (!parse_decimal(value, &v)) {
                        snprintf(why, whylen, "not a number");
                        return false;
                }
                if (!(k->zero_is_off && v == 0) && (v < k->min || v > k->max)) {
                        snprintf(why, whylen, "out of range (%s%llu..%llu)",
                                 k->zero_is_off ? "0 or " : "", (unsigned long long)k->min,
                                 (unsigned long long)k->max);
                        return false;
                }
                if (k->kind == K_U32) {
                        v32 = (uint32_t)v;
                        memcpy((uint8_t *)p + k->off, &v32, sizeof(v32));
                } else {
                        memcpy((uint8_t *)p + k->off, &v, sizeof(v));
                }
                return true;
        }
        snprintf(why, whylen, "internal error");
        return false;
}

/* libinih handler: 1 = fine, 0 = error (recorded in the context). */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
        struct parse_ctx *c = user;
        char q[80], why[160];

        if (!*section) {
                quote(q, name);
                ctx_fail(c, c->lineno, "key \"%s\" outside of any section", q);
                return 0;
        }
        for (size_t i = 0; i < MLS_ARRAY_SIZE(keys); i++) {
                if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].key, name) != 0)
                        continue;
                if (c->key_line[i]) {
                        ctx_fail(c, c->lineno, "[%s] %s: duplicate key (first set on line %u)",
                                 section, name, c->key_line[i]);
                        return 0;
                }
                c->key_line[i] = c->lineno;
                if (!set_value(&c->policy, &keys[i], value, why, sizeof(why))) {
                        quote(q, value);
                        ctx_fail(c, c->lineno, "[%s] %s: %s: \"%s\"", section, name, why, q);
                        return 0;
                }
                return 1;
        }
        quote(q, name);
        ctx_fail(c, c->lineno, "[%s] unknown key \"%s\"", section, q);
        return 0;
}

static bool
is_blank(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* A "[section]" line (p..end, leading blanks skipped): known, first time,
 * nothing after "]" but blanks or a comment. */
static bool
check_section(struct parse_ctx *c, const char *p, const char *end)
{
        const char *close = memchr(p, ']', (size_t)(end - p));
        const char *rest;
        char q[80], nm[80];
        size_t nlen;

        if (!close) {
                ctx_fail(c, c->lineno, "syntax error: \"[\" without \"]\"");
                return false;
        }
        for (rest = close + 1; rest < end && is_blank(*rest); rest++)
                ;
        if (rest < end && *rest != ';' && *rest != '#') {
                ctx_fail(c, c->lineno, "syntax error: text after \"]\"");
                return false;
        }
        nlen = (size_t)(close - p - 1);
        for (size_t i = 0; i < MLS_ARRAY_SIZE(sections); i++) {
                if (strlen(sections[i]) != nlen || memcmp(sections[i], p + 1, nlen) != 0)
                        continue;
                if (c->section_line[i]) {
                        ctx_fail(c, c->lineno, "duplicate section [%s] (first on line %u)",
                                 sections[i], c->section_line[i]);
                        return false;
                }
                c->section_line[i] = c->lineno;
                return true;
        }
        if (nlen >= sizeof(nm))
                nlen = sizeof(nm) - 1;
        memcpy(nm, p + 1, nlen);
        nm[nlen] = '\0';
        quote(q, nm);
        ctx_fail(c, c->lineno, "unknown section [%s]", q);
        return false;
}

/* libinih reader (fgets-like): hands out one line per call, after checking
 * it; returning NULL ends the parse (at EOF or on a refused line). */
static char *
next_line(char *str, int num, void *stream)
{
        struct parse_ctx *c = stream;
        const uint8_t *start, *nl;
        const char *p, *end;
        size_t len, max;

        if (c->err_line || c->pos >= c->len)
                return NULL;
        start = c->data + c->pos;
        nl = memchr(start, '\n', c->len - c->pos);
        len = nl ? (size_t)(nl - start) : c->len - c->pos;
        c->lineno++;
        c->pos += len + (nl ? 1 : 0);

        /* libinih needs room for "\r\n\0" on top of the line. */
        max = num > 3 ? (size_t)num - 3 : 0;
        if (memchr(start, '\0', len)) {
                ctx_fail(c, c->lineno, "NUL byte in line");
                return NULL;
        }
        if (len > max) {
                ctx_fail(c, c->lineno, "line too long (more than %zu bytes)", max);
                return NULL;
        }
        memcpy(str, start, len);
        str[len] = '\n';
        str[len + 1] = '\0';

        p = (const char *)start;
        end = p + len;
        if (c->lineno == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3; /* UTF-8 BOM, which libinih skips too */
        if (p < end && is_blank(*p)) {
                const char *q = p;

                while (q < end && is_blank(*q))
                        q++;
                if (q < end && *q != ';' && *q != '#') {
                        /* libinih would glue it to the previous value. */
                        ctx_fail(c, c->lineno,
                                 "indented line (continuation lines are not supported)");
                        return NULL;
                }
                return str;
        }
        if (p < end && *p == '[' && !check_section(c, p, end))
                return NULL;
        return str;
}

int
mkd_policy_parse(const char *name, const uint8_t *data, size_t len, struct mkd_policy *ret_policy,
                 char err[MKD_POLICY_ERR_MAX])
{
        _mls_free_ struct parse_ctx *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                snprintf(err, MKD_POLICY_ERR_MAX, "%s: out of memory", name);
                return MLS_E_NOMEM;
        }
        c->data = data;
        c->len = len;
        mkd_policy_defaults(&c->policy);
        if (len > MKD_POLICY_FILE_MAX) {
                snprintf(err, MKD_POLICY_ERR_MAX, "%s: file too large (more than %d bytes)", name,
                         MKD_POLICY_FILE_MAX);
                return MLS_E_BAD_CONFIG;
        }

        r = ini_parse_stream(next_line, c, on_key, c);
        if (r < 0) {
                snprintf(err, MKD_POLICY_ERR_MAX, "%s: out of memory", name);
                return MLS_E_NOMEM;
        }
        if (r > 0 && (c->err_line == 0 || (unsigned)r < c->err_line)) {
                /* A line libinih refused before anything of ours. */
                snprintf(err, MKD_POLICY_ERR_MAX,
                         "%s:%d: syntax error: expected \"[section]\" or \"key = value\"", name, r);
                return MLS_E_BAD_CONFIG;
        }
        if (c->err_line) {
                snprintf(err, MKD_POLICY_ERR_MAX, "%s:%u: %s", name, c->err_line, c->why);
                return MLS_E_BAD_CONFIG;
        }
        *ret_policy = c->policy;
        return 0;
}

int
mkd_policy_load(const char *path, struct mkd_policy *ret_policy, char err[MKD_POLICY_ERR_MAX])
{
        _mls_free_ uint8_t *buf = NULL;
        struct mkd_policy p;
        struct stat st;
        size_t have = 0;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT) {
                mkd_policy_defaults(ret_policy);
                return 0;
        }
        if (fd < 0) {
                snprintf(err, MKD_POLICY_ERR_MAX, "%s: %s", path, strerror(errno));
                return MLS_E_STORAGE;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, MKD_POLICY_ERR_MAX, "%s: not a regular file", path);
                close(fd);
                return MLS_E_BAD_CONFIG;
        }
        if (st.st_size > MKD_POLICY_FILE_MAX) {
                snprintf(err, MKD_POLICY_ERR_MAX, "%s: file too large (more than %d bytes)", path,
                         MKD_POLICY_FILE_MAX);
                close(fd);
                return MLS_E_BAD_CONFIG;
        }
        /* One byte more than the cap, to notice a file that grew. */
        buf = malloc(MKD_POLICY_FILE_MAX + 1);
        if (!buf) {
                close(fd);
                snprintf(err, MKD_POLICY_ERR_MAX, "%s: out of memory", path);
                return MLS_E_NOMEM;
        }
        for (;;) {
                ssize_t n = read(fd, buf + have, MKD_POLICY_FILE_MAX + 1 - have);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        snprintf(err, MKD_POLICY_ERR_MAX, "%s: %s", path, strerror(errno));
                        close(fd);
                        return MLS_E_STORAGE;
                }
                if (n == 0)
                        break;
                have += (size_t)n;
                if (have > MKD_POLICY_FILE_MAX)
                        break;
        }
        close(fd);
        r = mkd_policy_parse(path, buf, have, &p, err);
        if (r < 0)
                return r;
        *ret_policy = p;
        return 0;
}

/* ---- rendering ---- */

const char *
mkd_pcrs_format(enum mkd_pcr_bank bank, uint32_t mask, char out[MKD_PCRS_TEXT_MAX])
{
        size_t n;

        out[0] = '\0';
        if (bank == MKD_PCR_BANK_NONE || (size_t)bank >= MLS_ARRAY_SIZE(pcr_bank_names))
                return out;
        n = (size_t)snprintf(out, MKD_PCRS_TEXT_MAX, "%s:", pcr_bank_names[bank]);
        for (unsigned i = 0; i < MKD_POLICY_PCR_COUNT; i++) {
                if (!(mask & (UINT32_C(1) << i)))
                        continue;
                n += (size_t)snprintf(out + n, MKD_PCRS_TEXT_MAX - n, "%s%u",
                                      out[n - 1] == ':' ? "" : ",", i);
        }
        return out;
}

const char *
mkd_pcrs_text(enum mkd_pcr_bank bank, uint32_t mask, char out[MKD_PCRS_TEXT_MAX])
{
        if (!mkd_pcrs_format(bank, mask, out)[0])
                snprintf(out, MKD_PCRS_TEXT_MAX, "none");
        return out;
}

int
mkd_policy_foreach(const struct mkd_policy *p,
                   int (*visit)(void *ud, const struct mkd_policy_entry *e), void *ud)
{
        for (size_t i = 0; i < MLS_ARRAY_SIZE(keys); i++) {
                const struct key_def *k = &keys[i];
                struct mkd_policy_entry e = { .section = k->section, .key = k->key, .name = k->name,
                                              .type = MKD_POLICY_STRING };
                char pcrs[MKD_PCRS_TEXT_MAX];
                uint32_t v32;
                int r;

                switch (k->kind) {
                case K_SECCOMP:
                        e.str = mkd_seccomp_mode_name(p->seccomp);
                        break;
                case K_TPM_MODE:
                        e.str = mkd_tpm_mode_name(p->tpm_mode);
                        break;
                case K_TCTI:
                        e.str = p->tpm_tcti;
                        break;
                case K_PCRS:
                        mkd_pcrs_format(p->pcr_bank, p->pcr_mask, pcrs);
                        e.str = pcrs;
                        break;
                case K_EXPORT:
                        e.str = mkd_export_policy_name(p->export_secret);
                        break;
                case K_U32:
                        memcpy(&v32, (const uint8_t *)p + k->off, sizeof(v32));
                        e.type = MKD_POLICY_NUMBER;
                        e.num = v32;
                        break;
                case K_U64:
                        memcpy(&e.num, (const uint8_t *)p + k->off, sizeof(e.num));
                        e.type = MKD_POLICY_NUMBER;
                        break;
                }
                r = visit(ud, &e);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct render_ctx {
        struct mls_writer *w;
        const char *section;
};

static int
render_one(void *ud, const struct mkd_policy_entry *e)
{
        struct render_ctx *rc = ud;
        char line[MKD_POLICY_TCTI_MAX + 128];
        int n;

        if (!rc->section || strcmp(rc->section, e->section) != 0) {
                n = snprintf(line, sizeof(line), "%s[%s]\n", rc->section ? "\n" : "", e->section);
                MLS_TRY(mls_writer_raw(rc->w, (const uint8_t *)line, (size_t)n));
                rc->section = e->section;
        }
        if (e->type == MKD_POLICY_STRING)
                n = snprintf(line, sizeof(line), "%s = %s\n", e->key, e->str);
        else
                n = snprintf(line, sizeof(line), "%s = %llu\n", e->key, (unsigned long long)e->num);
        if (n < 0 || (size_t)n >= sizeof(line))
                return MLS_E_INTERNAL;
        return mls_writer_raw(rc->w, (const uint8_t *)line, (size_t)n);
}

int
mkd_policy_render_ini(const struct mkd_policy *p, char **ret_text)
{
        _mls_writer_ struct mls_writer w = { 0 };
        struct render_ctx rc = { .w = &w, .section = NULL };
        struct mls_bytes out = { 0 };

        mls_writer_init(&w);
        MLS_TRY(mkd_policy_foreach(p, render_one, &rc));
        MLS_TRY(mls_writer_u8(&w, 0));
        MLS_TRY(mls_writer_finish(&w, &out));
        *ret_text = (char *)out.data;
        return 0;
}
