/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskeyctl: every operation of mlskeyd from a shell. This file: the main
 * loop, common options, error reporting, name resolution, and the
 * top-level commands (status, policy, tpm, monitor, help).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/mlskeyctl.h"

/* ---- reporting ---- */

int
ctl_usage(const struct ctl_command *cmd, const char *fmt, ...)
{
        va_list ap;

        fputs("mlskeyctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (cmd && cmd->group)
                fprintf(stderr, "Try 'mlskeyctl %s %s --help'.\n", cmd->group, cmd->name);
        else if (cmd)
                fprintf(stderr, "Try 'mlskeyctl %s --help'.\n", cmd->name);
        else
                fputs("Try 'mlskeyctl --help'.\n", stderr);
        return CTL_EXIT_USAGE;
}

int
ctl_fail(int r)
{
        const struct mlskey_error_info *e = mlskey_last_error();
        const char *name = mlskey_error_name(r);
        const char *msg = e->code == r && e->message[0] ? e->message : mlskey_error_text(r);

        /* The daemon's own name when the library does not know it; the
         * bus's full name for other bus errors. */
        if (e->code == r && e->name[0] &&
            (r == MLSKEY_ERROR_UNKNOWN || r == MLSKEY_ERROR_DBUS)) {
                name = e->name;
                if (strncmp(name, MLSKEY_ERROR_PREFIX, strlen(MLSKEY_ERROR_PREFIX)) == 0)
                        name += strlen(MLSKEY_ERROR_PREFIX);
        }
        fprintf(stderr, "mlskeyctl: %s: %s\n", name ? name : "Unknown", msg ? msg : "error");
        return CTL_EXIT_FAIL;
}

int
ctl_fail_io(const char *what, int r)
{
        if (r == MLSKEY_ERROR_INTERNAL_ERROR)
                fprintf(stderr, "mlskeyctl: %s: %s\n", what, strerror(errno));
        else if (r == MLSKEY_ERROR_TOO_LARGE)
                fprintf(stderr, "mlskeyctl: %s: larger than %u bytes\n", what, CTL_MAX_INPUT);
        else
                fprintf(stderr, "mlskeyctl: %s: %s\n", what, mlskey_error_text(r));
        return CTL_EXIT_FAIL;
}

/* ---- common options and the connection ---- */

int
ctl_common_option(struct ctl *ctl, const struct ctl_command *cmd, int opt, const char *arg)
{
        switch (opt) {
        case 'h':
                ctl_help_print(cmd);
                return CTL_EXIT_OK;
        case CTL_OPT_SYSTEM:
                ctl->bus = CTL_BUS_SYSTEM;
                return CTL_CONTINUE;
        case CTL_OPT_SESSION:
                ctl->bus = CTL_BUS_SESSION;
                return CTL_CONTINUE;
        case CTL_OPT_ADDRESS:
                if (!*arg)
                        return ctl_usage(cmd, "--address needs a D-Bus address");
                ctl->bus = CTL_BUS_ADDRESS;
                ctl->address = arg;
                return CTL_CONTINUE;
        case CTL_OPT_TIMEOUT:
                if (ctl_parse_seconds_ms(arg, 24 * 3600 * 1000, &ctl->timeout_ms) < 0)
                        return ctl_usage(cmd, "--timeout: \"%s\" is not a number of seconds "
                                              "(0.001 to 86400)", arg);
                return CTL_CONTINUE;
        case ':':
        case '?':
                /* getopt printed what was wrong. */
                return ctl_usage(cmd, "invalid usage");
        default:
                return ctl_usage(cmd, "unexpected option");
        }
}

int
ctl_connect(struct ctl *ctl)
{
        const char *env = getenv("MLSKEYCTL_ADDRESS");
        int r;

        if (ctl->client)
                return 0;
        switch (ctl->bus) {
        case CTL_BUS_ADDRESS:
                r = mlskey_client_new_address(ctl->address, &ctl->client);
                break;
        case CTL_BUS_SYSTEM:
                r = mlskey_client_new(MLSKEY_BUS_SYSTEM, &ctl->client);
                break;
        case CTL_BUS_SESSION:
                r = mlskey_client_new(MLSKEY_BUS_SESSION, &ctl->client);
                break;
        case CTL_BUS_DEFAULT:
        default:
                if (env && *env)
                        r = mlskey_client_new_address(env, &ctl->client);
                else
                        r = mlskey_client_new(MLSKEY_BUS_SESSION, &ctl->client);
                break;
        }
        if (r < 0)
                return ctl_fail(r);
        if (ctl->timeout_ms > 0) {
                r = mlskey_client_set_timeout(ctl->client, ctl->timeout_ms);
                if (r < 0)
                        return ctl_fail(r);
        }
        return 0;
}

/* ---- display ---- */

char *
ctl_bytes_display(const uint8_t *p, size_t len)
{
        char *s = NULL, *h = NULL;

        if (ctl_is_printable(p, len)) {
                s = malloc(len + 1);
                if (s) {
                        memcpy(s, p, len);
                        s[len] = '\0';
                }
                return s;
        }
        if (ctl_hex_encode(p, len, &h) < 0)
                return NULL;
        if (asprintf(&s, "hex:%s", h) < 0)
                s = NULL;
        free(h);
        return s;
}

void
ctl_print_hex_line(const char *label, const uint8_t *p, size_t len)
{
        char *h = NULL;

        if (ctl_hex_encode(p, len, &h) < 0) {
                printf("%s: (out of memory)\n", label);
                return;
        }
        printf("%s: %s\n", label, h);
        free(h);
}

static void
print_hex(const uint8_t *p, size_t len)
{
        char *h = NULL;

        if (ctl_hex_encode(p, len, &h) == 0)
                fputs(h, stdout);
        free(h);
}

void
ctl_print_value(const struct mlskey_value *v)
{
        switch (v->type) {
        case MLSKEY_VALUE_BOOL:
                fputs(v->v.b ? "true" : "false", stdout);
                break;
        case MLSKEY_VALUE_BYTE:
                printf("%u", v->v.y);
                break;
        case MLSKEY_VALUE_INT16:
                printf("%d", v->v.n);
                break;
        case MLSKEY_VALUE_UINT16:
                printf("%u", v->v.q);
                break;
        case MLSKEY_VALUE_INT32:
                printf("%d", v->v.i);
                break;
        case MLSKEY_VALUE_UINT32:
                printf("%u", v->v.u);
                break;
        case MLSKEY_VALUE_INT64:
                printf("%lld", (long long)v->v.x);
                break;
        case MLSKEY_VALUE_UINT64:
                printf("%llu", (unsigned long long)v->v.t);
                break;
        case MLSKEY_VALUE_DOUBLE:
                printf("%g", v->v.d);
                break;
        case MLSKEY_VALUE_STRING:
                fputs(v->v.s, stdout);
                break;
        case MLSKEY_VALUE_BYTES:
                print_hex(v->v.bytes.data, v->v.bytes.len);
                break;
        case MLSKEY_VALUE_UINT16_ARRAY:
                for (size_t i = 0; i < v->v.aq.n; i++)
                        printf("%s%u", i ? " " : "", v->v.aq.v[i]);
                break;
        case MLSKEY_VALUE_UINT32_ARRAY:
                for (size_t i = 0; i < v->v.au.n; i++)
                        printf("%s%u", i ? " " : "", v->v.au.v[i]);
                break;
        case MLSKEY_VALUE_UINT64_ARRAY:
                for (size_t i = 0; i < v->v.at.n; i++)
                        printf("%s%llu", i ? " " : "", (unsigned long long)v->v.at.v[i]);
                break;
        case MLSKEY_VALUE_STRING_ARRAY:
                for (size_t i = 0; i < v->v.as.n; i++)
                        printf("%s%s", i ? " " : "", v->v.as.v[i]);
                break;
        case MLSKEY_VALUE_BYTES_ARRAY:
                for (size_t i = 0; i < v->v.aay.n; i++) {
                        if (i)
                                fputc(' ', stdout);
                        print_hex(v->v.aay.v[i].data, v->v.aay.v[i].len);
                }
                break;
        case MLSKEY_VALUE_DICT:
                fputc('{', stdout);
                for (size_t i = 0; i < v->v.dict.n; i++) {
                        printf("%s%s: ", i ? ", " : "", v->v.dict.entries[i].key);
                        ctl_print_value(&v->v.dict.entries[i]);
                }
                fputc('}', stdout);
                break;
        case MLSKEY_VALUE_OTHER:
        default:
                printf("(a value of type %s)", v->signature);
                break;
        }
}

/* ---- name resolution ---- */

static bool
strv_has(char **v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

/* Fetches the id bytes (credential identity or group id) of path. */
typedef int (*get_id_fn)(struct mlskey_client *c, const char *path, struct mlskey_buf *ret);

static int
resolve(struct ctl *ctl, const char *arg, const char *kind, const char *prefix,
        int (*list)(struct mlskey_client *, char ***, size_t *), get_id_fn get_id,
        char **ret_path)
{
        char **paths = NULL, *candidate = NULL, *match = NULL;
        uint8_t *idhex = NULL;
        size_t n = 0, idhex_len = 0, nmatch = 0;
        int r, status = 0;

        /* Connected in every case: the caller goes on to use the client. */
        if ((status = ctl_connect(ctl)) != 0)
                return status;
        if (ctl_is_object_path(arg)) {
                if (!(*ret_path = strdup(arg)))
                        return ctl_fail_io(arg, MLSKEY_ERROR_OUT_OF_MEMORY);
                return 0;
        }
        r = list(ctl->client, &paths, &n);
        if (r < 0)
                return ctl_fail(r);
        /* 1. the hex id of the object path */
        if (ctl_is_hex(arg)) {
                if (ctl_path_from_hex(prefix, arg, &candidate) < 0) {
                        mlskey_strv_free(paths);
                        return ctl_fail_io(arg, MLSKEY_ERROR_OUT_OF_MEMORY);
                }
                if (strv_has(paths, candidate)) {
                        mlskey_strv_free(paths);
                        *ret_path = candidate;
                        return 0;
                }
                free(candidate);
                if (ctl_hex_decode(arg, &idhex, &idhex_len) < 0)
                        idhex = NULL;
        }
        /* 2. the id bytes, given as hex or as text */
        for (size_t i = 0; i < n; i++) {
                struct mlskey_buf id = MLSKEY_BUF_INIT;
                bool hit;

                r = get_id(ctl->client, paths[i], &id);
                if (r == MLSKEY_ERROR_NOT_FOUND || r == MLSKEY_ERROR_ACCESS_DENIED)
                        continue; /* gone or hidden meanwhile */
                if (r < 0) {
                        status = ctl_fail(r);
                        break;
                }
                hit = (idhex && id.len == idhex_len && memcmp(id.data, idhex, id.len) == 0) ||
                      (id.len == strlen(arg) && memcmp(id.data, arg, id.len) == 0);
                mlskey_buf_clear(&id);
                if (hit) {
                        nmatch++;
                        if (!match)
                                match = paths[i];
                }
        }
        free(idhex);
        if (status == 0 && nmatch == 0) {
                fprintf(stderr, "mlskeyctl: NotFound: no %s named \"%s\" is visible to you\n",
                        kind, arg);
                status = CTL_EXIT_FAIL;
        } else if (status == 0 && nmatch > 1) {
                fprintf(stderr, "mlskeyctl: %zu %ss are named \"%s\": give the object path\n",
                        nmatch, kind, arg);
                status = CTL_EXIT_FAIL;
        } else if (status == 0 && !(*ret_path = strdup(match))) {
                status = ctl_fail_io(arg, MLSKEY_ERROR_OUT_OF_MEMORY);
        }
        mlskey_strv_free(paths);
        return status;
}

int
ctl_resolve_identity(struct ctl *ctl, const char *arg, char **ret_path)
{
        return resolve(ctl, arg, "identity", MLSKEY_IDENTITY_PATH_PREFIX,
                       mlskey_manager_list_identities, mlskey_identity_get_credential_identity,
                       ret_path);
}

int
ctl_resolve_group(struct ctl *ctl, const char *arg, char **ret_path)
{
        return resolve(ctl, arg, "group", MLSKEY_GROUP_PATH_PREFIX, mlskey_manager_list_groups,
                       mlskey_group_get_group_id, ret_path);
}

/* ---- top-level commands ---- */

static const struct option no_options[] = { CTL_COMMON_OPTIONS, { NULL, 0, NULL, 0 } };

/* Parses a command that takes no options of its own; *ret_first is the
 * index of the first positional argument. */
static int
parse_plain(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv,
            int *ret_first)
{
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", no_options, NULL)) != -1) {
                int r = ctl_common_option(ctl, cmd, c, optarg);

                if (r != CTL_CONTINUE)
                        return r;
        }
        *ret_first = optind;
        return CTL_CONTINUE;
}

static const char *
bus_description(const struct ctl *ctl)
{
        const char *env = getenv("MLSKEYCTL_ADDRESS");

        switch (ctl->bus) {
        case CTL_BUS_SYSTEM:
                return "system";
        case CTL_BUS_SESSION:
                return "session";
        case CTL_BUS_ADDRESS:
                return ctl->address;
        case CTL_BUS_DEFAULT:
        default:
                return env && *env ? env : "session";
        }
}

static int
cmd_status(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        char *version = NULL, **ids = NULL, **groups = NULL;
        uint16_t *suites = NULL;
        size_t n_suites = 0, n_ids = 0, n_groups = 0;
        int first, r;

        if ((r = parse_plain(ctl, cmd, argc, argv, &first)) != CTL_CONTINUE)
                return r;
        if (first != argc)
                return ctl_usage(cmd, "status takes no arguments");
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        if ((r = mlskey_manager_get_version(ctl->client, &version)) < 0 ||
            (r = mlskey_manager_get_supported_cipher_suites(ctl->client, &suites, &n_suites)) < 0 ||
            (r = mlskey_manager_list_identities(ctl->client, &ids, &n_ids)) < 0 ||
            (r = mlskey_manager_list_groups(ctl->client, &groups, &n_groups)) < 0) {
                free(version);
                free(suites);
                mlskey_strv_free(ids);
                return ctl_fail(r);
        }
        printf("daemon: mlskeyd %s\n", version);
        printf("bus: %s\n", bus_description(ctl));
        printf("cipher_suites:");
        for (size_t i = 0; i < n_suites; i++)
                printf(" %u", suites[i]);
        printf("\nidentities: %zu\n", n_ids);
        for (size_t i = 0; i < n_ids; i++) {
                struct mlskey_identity_props p = { 0 };
                char *name;

                r = mlskey_identity_get_all(ctl->client, ids[i], &p);
                if (r < 0) {
                        printf("  %s (%s)\n", ids[i], mlskey_error_name(r));
                        continue;
                }
                name = ctl_bytes_display(p.credential_identity.data, p.credential_identity.len);
                printf("  %s name=%s suite=%u owner=%u%s\n", ids[i], name ? name : "?",
                       p.cipher_suite, p.owner, p.tpm_bound ? " tpm" : "");
                free(name);
                mlskey_identity_props_clear(&p);
        }
        printf("groups: %zu\n", n_groups);
        for (size_t i = 0; i < n_groups; i++) {
                struct mlskey_group_props p = { 0 };

                r = mlskey_group_get_all(ctl->client, groups[i], &p);
                if (r < 0) {
                        printf("  %s (%s)\n", groups[i], mlskey_error_name(r));
                        continue;
                }
                printf("  %s epoch=%llu members=%zu leaf=%u%s\n", groups[i],
                       (unsigned long long)p.epoch, p.members.n, p.own_leaf,
                       p.has_pending_commit ? " pending-commit" : "");
                mlskey_group_props_clear(&p);
        }
        free(version);
        free(suites);
        mlskey_strv_free(ids);
        mlskey_strv_free(groups);
        return CTL_EXIT_OK;
}

static int
cmd_policy_show(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        struct mlskey_dict d = MLSKEY_DICT_INIT;
        int first, r;

        if ((r = parse_plain(ctl, cmd, argc, argv, &first)) != CTL_CONTINUE)
                return r;
        if (first != argc)
                return ctl_usage(cmd, "policy show takes no arguments");
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        if ((r = mlskey_manager_get_policy(ctl->client, &d)) < 0)
                return ctl_fail(r);
        for (size_t i = 0; i < d.n; i++) {
                printf("%s = ", d.entries[i].key);
                ctl_print_value(&d.entries[i]);
                fputc('\n', stdout);
        }
        mlskey_dict_clear(&d);
        return CTL_EXIT_OK;
}

/*
 * tpm status | enroll | unenroll | recover: the storage key's
 * administration runs in mlskeyd itself (`mlskeyd --tpm-admin`, in this
 * process, never through the daemon: the recovery key must not cross
 * D-Bus), found as $MLSKEYD or the installed binary.
 */
static int
cmd_tpm(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        enum { O_STATE = CTL_OPT_FIRST, O_CONFIG, O_RECOVERY };
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "state-dir", required_argument, NULL, O_STATE },
                { "config", required_argument, NULL, O_CONFIG },
                { "recovery-key", required_argument, NULL, O_RECOVERY },
                { NULL, 0, NULL, 0 },
        };
        const char *state = NULL, *config = NULL, *recovery = NULL;
        const char *bin = getenv("MLSKEYD");
        char *av[16];
        int c, n = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                int r;

                switch (c) {
                case O_STATE:
                        state = optarg;
                        break;
                case O_CONFIG:
                        config = optarg;
                        break;
                case O_RECOVERY:
                        recovery = optarg;
                        break;
                default:
                        if ((r = ctl_common_option(ctl, cmd, c, optarg)) != CTL_CONTINUE)
                                return r;
                }
        }
        if (optind != argc)
                return ctl_usage(cmd, "tpm %s takes no arguments", cmd->name);
        if (recovery && strcmp(cmd->name, "unenroll") != 0 && strcmp(cmd->name, "recover") != 0)
                return ctl_usage(cmd, "--recovery-key is for unenroll and recover");
        if (!recovery && strcmp(cmd->name, "recover") == 0)
                return ctl_usage(cmd, "tpm recover needs --recovery-key FILE");
        /* No bus here: --system/--session only choose the default state
         * folder, which an address does not name. */
        if (ctl->bus == CTL_BUS_ADDRESS && !state)
                return ctl_usage(cmd, "tpm %s works on a state folder, not a bus: give "
                                      "--state-dir (or --system/--session instead of --address)",
                                 cmd->name);
        if (ctl->timeout_ms)
                return ctl_usage(cmd, "tpm %s makes no D-Bus call: --timeout does not apply",
                                 cmd->name);
        if (!bin || !*bin)
                bin = MKD_BINDIR "/mlskeyd";
        av[n++] = (char *)"mlskeyd";
        av[n++] = ctl->bus == CTL_BUS_SYSTEM ? (char *)"--system" : (char *)"--session";
        if (state) {
                av[n++] = (char *)"--state-dir";
                av[n++] = (char *)state;
        }
        if (config) {
                av[n++] = (char *)"--config";
                av[n++] = (char *)config;
        }
        av[n++] = (char *)"--tpm-admin";
        av[n++] = (char *)cmd->name;
        if (recovery) {
                av[n++] = (char *)"--recovery-key";
                av[n++] = (char *)recovery;
        }
        av[n] = NULL;
        fflush(stdout);
        execv(bin, av);
        fprintf(stderr, "mlskeyctl: cannot run %s: %s\n", bin, strerror(errno));
        return CTL_EXIT_FAIL;
}

static volatile sig_atomic_t monitor_stop;

static void
on_stop(int sig)
{
        (void)sig;
        monitor_stop = 1;
}

static void
print_event(struct mlskey_client *c, const struct mlskey_epoch_event *ev, void *userdata)
{
        (void)c;
        (void)userdata;
        printf("%s epoch=%llu authenticator=", ev->group, (unsigned long long)ev->epoch);
        print_hex(ev->epoch_authenticator.data, ev->epoch_authenticator.len);
        fputc('\n', stdout);
        fflush(stdout);
}

struct monitor {
        const char *commit_dir; /* --commit-dir, or NULL */
        bool failed;            /* a commit could not be written: exit 1 */
};

/*
 * Writes a self-update's commit to path through a hidden temporary file in
 * the same directory (tmp) renamed into place, so that a script watching
 * the directory never reads a partial commit. errno is kept for an I/O
 * error (INTERNAL_ERROR).
 */
static int
write_commit(const char *path, const char *tmp, const struct mlskey_data *commit)
{
        int r = ctl_write_file(tmp, commit->data, commit->len, false, false);
        int e;

        if (r == 0 && rename(tmp, path) < 0)
                r = MLSKEY_ERROR_INTERNAL_ERROR;
        if (r < 0) {
                e = errno;
                (void)unlink(tmp);
                errno = e;
        }
        return r;
}

static void
print_self_update(struct mlskey_client *c, const struct mlskey_self_update_event *ev,
                  void *userdata)
{
        struct monitor *m = userdata;

        (void)c;
        if (m->commit_dir) {
                /* The hex id is the last element of the object path, which
                 * holds only [A-Za-z0-9_]: no '/' and no "..". */
                const char *id = ctl_path_basename(ev->group);
                unsigned long long epoch = (unsigned long long)ev->epoch;
                char *path = NULL, *tmp = NULL;
                int r = MLSKEY_ERROR_OUT_OF_MEMORY;

                if (asprintf(&path, "%s/%s-%llu.commit", m->commit_dir, id, epoch) < 0)
                        path = NULL;
                else if (asprintf(&tmp, "%s/.%s-%llu.commit.tmp", m->commit_dir, id, epoch) < 0)
                        tmp = NULL;
                else
                        r = write_commit(path, tmp, &ev->commit);
                if (r < 0) {
                        /* No line for a commit that is not there (a script
                         * would look for the file): stop with status 1. */
                        ctl_fail_io(path ? path : m->commit_dir, r);
                        m->failed = true;
                        monitor_stop = 1;
                }
                free(path);
                free(tmp);
                if (r < 0)
                        return;
        }
        printf("%s self-update epoch=%llu commit=%zu\n", ev->group,
               (unsigned long long)ev->epoch, ev->commit.len);
        fflush(stdout);
}

static int
cmd_monitor(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        enum { OPT_COMMIT_DIR = CTL_OPT_FIRST };
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "count", required_argument, NULL, 'n' },
                { "commit-dir", required_argument, NULL, OPT_COMMIT_DIR },
                { NULL, 0, NULL, 0 },
        };
        struct monitor mon = { NULL, false };
        struct sigaction sa;
        struct stat st;
        char *group = NULL;
        uint64_t count = 0, seen = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hn:", opts, NULL)) != -1) {
                if (c == 'n') {
                        if (ctl_parse_u64(optarg, UINT32_MAX, &count) < 0 || count == 0)
                                return ctl_usage(cmd, "--count: \"%s\" is not a positive number",
                                                 optarg);
                        continue;
                }
                if (c == OPT_COMMIT_DIR) {
                        mon.commit_dir = optarg;
                        continue;
                }
                if ((r = ctl_common_option(ctl, cmd, c, optarg)) != CTL_CONTINUE)
                        return r;
        }
        if (argc - optind > 1)
                return ctl_usage(cmd, "monitor takes at most one GROUP");
        /* Checked before subscribing: a missing directory is a usage error
         * now, not a lost commit later. */
        if (mon.commit_dir && (stat(mon.commit_dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
                               access(mon.commit_dir, W_OK | X_OK) < 0))
                return ctl_usage(cmd, "--commit-dir: \"%s\" is not a writable directory",
                                 mon.commit_dir);
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        if (optind < argc && (r = ctl_resolve_group(ctl, argv[optind], &group)) != 0)
                return r;
        r = mlskey_client_subscribe_epoch_changed(ctl->client, group, print_event, NULL, NULL);
        if (r >= 0)
                r = mlskey_client_subscribe_self_update(ctl->client, group, print_self_update,
                                                        &mon, NULL);
        free(group);
        if (r < 0)
                return ctl_fail(r);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* Tell a script that the subscriptions are in place. */
        fprintf(stderr,
                "mlskeyctl: monitoring EpochChanged and SelfUpdateReady (Ctrl-C to stop)\n");
        while (!monitor_stop && (count == 0 || seen < count)) {
                /* Short waits so that a signal ends the loop promptly. */
                r = mlskey_client_dispatch(ctl->client, 250);
                if (r < 0)
                        return ctl_fail(r);
                seen += (uint64_t)r;
        }
        return mon.failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

static int
cmd_help(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        const struct ctl_command *target;

        (void)ctl;
        if (argc <= 1) {
                ctl_help_overview();
                return CTL_EXIT_OK;
        }
        target = ctl_command_find(argv[1], argc > 2 ? argv[2] : NULL);
        if (!target)
                return ctl_usage(cmd, "no command \"%s%s%s\"", argv[1], argc > 2 ? " " : "",
                                 argc > 2 ? argv[2] : "");
        ctl_help_print(target);
        return CTL_EXIT_OK;
}

static const struct ctl_help help_status = {
        .synopsis = "status [--system | --session | --address ADDR]",
        .summary = "show the daemon's version, suites, and your identities and groups",
        .description =
                "Prints the daemon's version (the Version property), the cipher suites it\n"
                "supports, then every identity and group visible to you: yours and those\n"
                "shared with you. Output lines are \"key: value\"; identities and groups\n"
                "follow, indented, one per line, as \"PATH key=value ...\".",
        .examples = "mlskeyctl status\nmlskeyctl --system status",
};

static const struct ctl_help help_policy_show = {
        .synopsis = "policy show",
        .summary = "show the effective policy of the daemon",
        .description =
                "Prints the policy in force (GetPolicy): the administrator's\n"
                "/etc/mlskeyd/mlskeyd.conf over the built-in defaults, one\n"
                "\"section.key = value\" per line.",
        .examples = "mlskeyctl --system policy show",
};

#define TPM_ADMIN_OPTIONS                                                                  \
        "  --state-dir DIR    the daemon's state directory (default: that of\n"               \
        "                     --system, /var/lib/mlskeyd, or of the session)\n"               \
        "  --config FILE      the policy ([tpm] mode, tcti, pcrs; default\n"                 \
        "                     /etc/mlskeyd/mlskeyd.conf)\n"

static const struct ctl_help help_tpm_status = {
        .synopsis = "tpm status [--state-dir DIR] [--config FILE]",
        .summary = "show where the storage key is kept (key file or TPM) and the TPM policy",
        .description =
                "Prints \"key: value\" lines: mode, tcti and pcrs of the policy's [tpm]\n"
                "section; storage-key (tpm-sealed, key-file or none); sealed-to-pcrs (the\n"
                "PCRs the sealed key is bound to); recovery-key (enrolled or none);\n"
                "daemon (running or stopped); tpm (available, or why not). Reads the state\n"
                "directory; works while the daemon runs (then it does not probe the TPM).\n"
                "Runs mlskeyd --tpm-admin ($MLSKEYD, else the installed mlskeyd).",
        .options = TPM_ADMIN_OPTIONS,
        .examples = "sudo mlskeyctl --system tpm status",
};

static const struct ctl_help help_tpm_enroll = {
        .synopsis = "tpm enroll [--state-dir DIR] [--config FILE]",
        .summary = "seal the storage key to the TPM and print a new recovery key (daemon stopped)",
        .description =
                "Moves the storage key from its key file into a TPM-sealed object (bound to\n"
                "the policy's [tpm] pcrs, if any), or re-seals an already sealed key to the\n"
                "current policy and PCR values. Writes a new recovery blob and prints the\n"
                "recovery key (64 hex digits) on stdout ONCE: keep it offline. The key\n"
                "itself does not change, so no state is lost. Stop the daemon first; set\n"
                "[tpm] mode = prefer or require before starting it again.",
        .options = TPM_ADMIN_OPTIONS,
        .examples = "sudo systemctl stop mlskeyd\n"
                    "sudo mlskeyctl --system tpm enroll > /root/mlskeyd-recovery.key\n"
                    "sudo systemctl start mlskeyd",
};

static const struct ctl_help help_tpm_unenroll = {
        .synopsis = "tpm unenroll [--state-dir DIR] [--config FILE] [--recovery-key FILE]",
        .summary = "move the storage key from the TPM back to a key file (daemon stopped)",
        .description =
                "Unseals the storage key with the TPM (or opens the recovery blob with\n"
                "--recovery-key) and writes it to the 0600 key file; removes the sealed\n"
                "key and the recovery blob. Set [tpm] mode = off or prefer afterwards.",
        .options = TPM_ADMIN_OPTIONS
                "  --recovery-key FILE  the recovery key instead of the TPM (\"-\": stdin)\n",
        .examples = "sudo mlskeyctl --system tpm unenroll",
};

static const struct ctl_help help_tpm_recover = {
        .synopsis = "tpm recover --recovery-key FILE [--state-dir DIR] [--config FILE]",
        .summary = "re-seal the storage key after the PCRs changed (daemon stopped)",
        .description =
                "When the daemon refuses to start because the PCRs the key is sealed to\n"
                "changed (a firmware or boot loader update), this opens the recovery blob\n"
                "with the recovery key that `tpm enroll` printed and seals the key again\n"
                "to the current PCR values.",
        .options = TPM_ADMIN_OPTIONS
                "  --recovery-key FILE  the file holding the recovery key (\"-\": stdin)\n",
        .examples = "sudo mlskeyctl --system tpm recover --recovery-key /root/mlskeyd-recovery.key",
};

static const struct ctl_help help_monitor = {
        .synopsis = "monitor [GROUP] [--count N] [--commit-dir DIR]",
        .summary = "print EpochChanged and SelfUpdateReady signals as they arrive",
        .description =
                "Subscribes to the signals of GROUP, or of every group you can see, and\n"
                "prints one line per signal:\n"
                "  EpochChanged:    \"PATH epoch=N authenticator=HEX\"\n"
                "  SelfUpdateReady: \"PATH self-update epoch=N commit=LEN\"\n"
                "A self-update is an Update commit the daemon made by itself (the policy's\n"
                "[update] interval) and left pending in epoch N (LEN bytes). Deliver it to\n"
                "your delivery service, then run \"mlskeyctl group merge GROUP\" once it is\n"
                "accepted, or \"mlskeyctl group clear GROUP\" if it is refused. The daemon\n"
                "sends the commit only once: with --commit-dir, each one is written to\n"
                "DIR/HEXID-N.commit (HEXID: the last element of PATH) before its line is\n"
                "printed, so a script reading the lines finds the file complete. If it\n"
                "cannot be written, no line is printed and the command exits with 1.\n"
                "Runs until interrupted (SIGINT, SIGTERM) or until N signals (of both\n"
                "kinds) were printed.",
        .options = "  -n, --count N      stop after N signals\n"
                   "  --commit-dir DIR   write each self-update's commit to\n"
                   "                     DIR/HEXID-EPOCH.commit (DIR must exist)\n",
        .examples = "mlskeyctl monitor\n"
                    "mlskeyctl monitor 5eed --count 1\n"
                    "mlskeyctl monitor --commit-dir /run/app/commits |\n"
                    "  while read -r path kind epoch len; do\n"
                    "    [ \"$kind\" = self-update ] || continue\n"
                    "    id=${path##*/} e=${epoch#epoch=}\n"
                    "    if deliver /run/app/commits/$id-$e.commit; then\n"
                    "      mlskeyctl group merge \"$id\"\n"
                    "    else\n"
                    "      mlskeyctl group clear \"$id\"\n"
                    "    fi\n"
                    "  done",
};

static const struct ctl_help help_help = {
        .synopsis = "help [COMMAND [SUBCOMMAND]]",
        .summary = "show the overview, or a command's manual",
        .description = "Without arguments, lists every command; with one, prints its manual\n"
                       "(the same as COMMAND --help).",
        .examples = "mlskeyctl help group add",
};

const struct ctl_command ctl_misc_commands[] = {
        { NULL, "status", cmd_status, &help_status },
        { "policy", "show", cmd_policy_show, &help_policy_show },
        { "tpm", "status", cmd_tpm, &help_tpm_status },
        { "tpm", "enroll", cmd_tpm, &help_tpm_enroll },
        { "tpm", "unenroll", cmd_tpm, &help_tpm_unenroll },
        { "tpm", "recover", cmd_tpm, &help_tpm_recover },
        { NULL, "monitor", cmd_monitor, &help_monitor },
        { NULL, "help", cmd_help, &help_help },
        { NULL, NULL, NULL, NULL },
};

/* ---- main ---- */

static const struct ctl_help help_main = {
        .synopsis = "[--system | --session | --address ADDR] [--timeout SEC] COMMAND ...",
        .summary = "control mlskeyd, the MLS key-management daemon",
};
static const struct ctl_command main_command = { NULL, "mlskeyctl", NULL, &help_main };

int
main(int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        struct ctl ctl = { .bus = CTL_BUS_DEFAULT };
        const struct ctl_command *cmd;
        int c, r, skip;

        /* Options before the command; '+' stops at the command word. */
        while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
                if (c == 'h') {
                        ctl_help_overview();
                        return CTL_EXIT_OK;
                }
                if (c == 'V') {
                        printf("mlskeyctl %s\n", PACKAGE_VERSION);
                        return CTL_EXIT_OK;
                }
                if ((r = ctl_common_option(&ctl, &main_command, c, optarg)) != CTL_CONTINUE)
                        return r;
        }
        if (optind >= argc)
                return ctl_usage(NULL, "no command given");
        cmd = ctl_command_find(argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL);
        if (!cmd && ctl_is_group(argv[optind])) {
                const char *next = optind + 1 < argc ? argv[optind + 1] : NULL;

                if (next && (strcmp(next, "--help") == 0 || strcmp(next, "-h") == 0)) {
                        ctl_help_group(stdout, argv[optind]);
                        return CTL_EXIT_OK;
                }
                if (next)
                        ctl_usage(NULL, "unknown command \"%s %s\"", argv[optind], next);
                else
                        ctl_usage(NULL, "\"%s\" needs a subcommand", argv[optind]);
                ctl_help_group(stderr, argv[optind]);
                return CTL_EXIT_USAGE;
        }
        if (!cmd)
                return ctl_usage(NULL, "unknown command \"%s\"", argv[optind]);
        skip = cmd->group ? optind + 1 : optind;
        r = cmd->run(&ctl, cmd, argc - skip, argv + skip);
        fflush(stdout);
        mlskey_client_free(ctl.client);
        if (ferror(stdout) && r == CTL_EXIT_OK) {
                fprintf(stderr, "mlskeyctl: standard output: %s\n", strerror(errno));
                return CTL_EXIT_FAIL;
        }
        return r;
}
