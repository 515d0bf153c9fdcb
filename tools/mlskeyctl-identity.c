/* SPDX-License-Identifier: Apache-2.0 */
/* mlskeyctl: identity and keypackage commands. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/mlskeyctl.h"

enum {
        OPT_SUITE = CTL_OPT_FIRST,
        OPT_NAME,
        OPT_NAME_HEX,
        OPT_LABEL,
        OPT_TPM,
        OPT_UID,
        OPT_GID,
        OPT_REPLACE,
        OPT_PSK_ID,
        OPT_COUNT,
        OPT_LIFETIME,
        OPT_LAST_RESORT,
        OPT_HEX,
        OPT_LONG,
};

/* ---- identity create ---- */

static int
cmd_identity_create(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "suite", required_argument, NULL, OPT_SUITE },
                { "name", required_argument, NULL, OPT_NAME },
                { "name-hex", required_argument, NULL, OPT_NAME_HEX },
                { "label", required_argument, NULL, OPT_LABEL },
                { "tpm", no_argument, NULL, OPT_TPM },
                { NULL, 0, NULL, 0 },
        };
        struct mlskey_opts *o = NULL;
        const char *name_arg = NULL, *name_hex = NULL, *label = NULL, *suite_arg = NULL;
        uint8_t *name = NULL;
        size_t name_len = 0;
        bool tpm = false;
        uint16_t suite = 0;
        char *path = NULL;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_SUITE:
                        suite_arg = optarg;
                        break;
                case OPT_NAME:
                        name_arg = optarg;
                        break;
                case OPT_NAME_HEX:
                        name_hex = optarg;
                        break;
                case OPT_LABEL:
                        label = optarg;
                        break;
                case OPT_TPM:
                        tpm = true;
                        break;
                default:
                        if ((r = ctl_common_option(ctl, cmd, c, optarg)) != CTL_CONTINUE)
                                return r;
                        break;
                }
        }
        if (optind != argc)
                return ctl_usage(cmd, "unexpected argument \"%s\"", argv[optind]);
        if (!suite_arg)
                return ctl_usage(cmd, "--suite is required");
        if (ctl_parse_u16(suite_arg, &suite) < 0)
                return ctl_usage(cmd, "--suite: \"%s\" is not a cipher suite number", suite_arg);
        if (!name_arg == !name_hex)
                return ctl_usage(cmd, "give one of --name and --name-hex");
        if (name_arg && !*name_arg)
                return ctl_usage(cmd, "--name is empty");
        if (name_hex && (ctl_hex_decode(name_hex, &name, &name_len) < 0 || name_len == 0)) {
                free(name);
                return ctl_usage(cmd, "--name-hex: \"%s\" is not non-empty hex", name_hex);
        }
        if ((r = ctl_connect(ctl)) != 0 || (r = mlskey_opts_new(&o)) < 0) {
                free(name);
                return r < 0 ? ctl_fail(r) : r;
        }
        if (tpm)
                mlskey_opts_add_bool(o, MLSKEY_OPT_TPM, true);
        if (label)
                mlskey_opts_add_string(o, MLSKEY_OPT_LABEL, label);
        if (name_arg)
                r = mlskey_manager_create_identity(ctl->client, (const uint8_t *)name_arg,
                                                   strlen(name_arg), suite, o, &path);
        else
                r = mlskey_manager_create_identity(ctl->client, name, name_len, suite, o, &path);
        mlskey_opts_free(o);
        free(name);
        if (r < 0)
                return ctl_fail(r);
        printf("%s\n", path);
        free(path);
        return CTL_EXIT_OK;
}

/* ---- identity list ---- */

static int
cmd_identity_list(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "long", no_argument, NULL, 'l' },
                { NULL, 0, NULL, 0 },
        };
        bool longfmt = false;
        char **ids = NULL;
        size_t n = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hl", opts, NULL)) != -1) {
                if (c == 'l') {
                        longfmt = true;
                        continue;
                }
                if ((r = ctl_common_option(ctl, cmd, c, optarg)) != CTL_CONTINUE)
                        return r;
        }
        if (optind != argc)
                return ctl_usage(cmd, "unexpected argument \"%s\"", argv[optind]);
        if ((r = ctl_connect(ctl)) != 0)
                return r;
        if ((r = mlskey_manager_list_identities(ctl->client, &ids, &n)) < 0)
                return ctl_fail(r);
        for (size_t i = 0; i < n; i++) {
                struct mlskey_identity_props p = { 0 };
                char *name;

                if (!longfmt) {
                        printf("%s\n", ids[i]);
                        continue;
                }
                r = mlskey_identity_get_all(ctl->client, ids[i], &p);
                if (r < 0) {
                        printf("%s (%s)\n", ids[i], mlskey_error_name(r));
                        continue;
                }
                name = ctl_bytes_display(p.credential_identity.data, p.credential_identity.len);
                printf("%s name=%s suite=%u owner=%u%s\n", ids[i], name ? name : "?",
                       p.cipher_suite, p.owner, p.tpm_bound ? " tpm" : "");
                free(name);
                mlskey_identity_props_clear(&p);
        }
        mlskey_strv_free(ids);
        return CTL_EXIT_OK;
}

/* Parses "COMMAND IDENTITY" with only common options; *ret_path resolved. */
static int
parse_one_identity(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv,
                   char **ret_path)
{
        static const struct option opts[] = { CTL_COMMON_OPTIONS, { NULL, 0, NULL, 0 } };
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
                if ((r = ctl_common_option(ctl, cmd, c, optarg)) != CTL_CONTINUE)
                        return r;
        if (argc - optind != 1)
                return ctl_usage(cmd, "give one IDENTITY");
        return ctl_resolve_identity(ctl, argv[optind], ret_path);
}

/* ---- identity show ---- */

static void
print_ids(const char *label, const uint32_t *v, size_t n)
{
        printf("%s:", label);
        for (size_t i = 0; i < n; i++)
                printf(" %u", v[i]);
        fputc('\n', stdout);
}

static int
cmd_identity_show(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        struct mlskey_identity_props p = { 0 };
        char *path = NULL, *name;
        int r;

        if ((r = parse_one_identity(ctl, cmd, argc, argv, &path)) != 0 || !path)
                return r;
        r = mlskey_identity_get_all(ctl->client, path, &p);
        if (r < 0) {
                free(path);
                return ctl_fail(r);
        }
        name = ctl_bytes_display(p.credential_identity.data, p.credential_identity.len);
        printf("path: %s\n", path);
        printf("name: %s\n", name ? name : "?");
        ctl_print_hex_line("credential_identity", p.credential_identity.data,
                           p.credential_identity.len);
        ctl_print_hex_line("signature_public_key", p.signature_public_key.data,
                           p.signature_public_key.len);
        printf("cipher_suite: %u\n", p.cipher_suite);
        printf("owner: %u\n", p.owner);
        print_ids("shared_uids", p.access_uids, p.n_access_uids);
        print_ids("shared_gids", p.access_gids, p.n_access_gids);
        printf("tpm_bound: %s\n", p.tpm_bound ? "true" : "false");
        free(name);
        free(path);
        mlskey_identity_props_clear(&p);
        return CTL_EXIT_OK;
}

/* ---- identity share / unshare ---- */

static bool
has_id(const uint32_t *v, size_t n, uint32_t x)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == x)
                        return true;
        return false;
}

/* new = (replace ? {} : old) + add, or old - add when removing. */
static int
merge_ids(const uint32_t *old, size_t n_old, const uint32_t *arg, size_t n_arg, bool replace,
          bool remove, uint32_t **ret, size_t *ret_n)
{
        uint32_t *out = NULL;
        size_t n = 0;
        int r;

        if (!replace)
                for (size_t i = 0; i < n_old; i++) {
                        if (remove && has_id(arg, n_arg, old[i]))
                                continue;
                        if (!has_id(out, n, old[i]) && (r = ctl_u32_push(&out, &n, old[i])) < 0)
                                goto fail;
                }
        if (!remove)
                for (size_t i = 0; i < n_arg; i++)
                        if (!has_id(out, n, arg[i]) && (r = ctl_u32_push(&out, &n, arg[i])) < 0)
                                goto fail;
        *ret = out;
        *ret_n = n;
        return 0;
fail:
        free(out);
        return r;
}

static int
share(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv, bool remove)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "uid", required_argument, NULL, OPT_UID },
                { "gid", required_argument, NULL, OPT_GID },
                { "replace", no_argument, NULL, OPT_REPLACE },
                { NULL, 0, NULL, 0 },
        };
        uint32_t *uids = NULL, *gids = NULL, *new_uids = NULL, *new_gids = NULL;
        size_t n_uids = 0, n_gids = 0, n_new_uids = 0, n_new_gids = 0;
        struct mlskey_identity_props p = { 0 };
        bool replace = false;
        char *path = NULL;
        int c, r, status = CTL_EXIT_OK;

        optind = 0;
        while (status == CTL_EXIT_OK && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                uint32_t v;

                switch (c) {
                case OPT_UID:
                case OPT_GID:
                        if (ctl_parse_u32(optarg, &v) < 0) {
                                status = ctl_usage(cmd, "\"%s\" is not a numeric %s", optarg,
                                                   c == OPT_UID ? "uid" : "gid");
                                break;
                        }
                        r = c == OPT_UID ? ctl_u32_push(&uids, &n_uids, v)
                                         : ctl_u32_push(&gids, &n_gids, v);
                        if (r < 0)
                                status = ctl_fail_io("--uid/--gid", r);
                        break;
                case OPT_REPLACE:
                        if (remove)
                                status = ctl_usage(cmd, "unshare has no --replace");
                        replace = true;
                        break;
                default:
                        r = ctl_common_option(ctl, cmd, c, optarg);
                        if (r != CTL_CONTINUE) {
                                free(uids);
                                free(gids);
                                return r;
                        }
                        break;
                }
        }
        if (status == CTL_EXIT_OK && argc - optind != 1)
                status = ctl_usage(cmd, "give one IDENTITY");
        if (status == CTL_EXIT_OK && !replace && n_uids + n_gids == 0)
                status = ctl_usage(cmd, "give at least one --uid or --gid%s",
                                   remove ? "" : " (or --replace to share with nobody)");
        if (status == CTL_EXIT_OK)
                status = ctl_resolve_identity(ctl, argv[optind], &path);
        if (status == CTL_EXIT_OK && (r = mlskey_identity_get_all(ctl->client, path, &p)) < 0)
                status = ctl_fail(r);
        if (status == CTL_EXIT_OK &&
            ((r = merge_ids(p.access_uids, p.n_access_uids, uids, n_uids, replace, remove,
                            &new_uids, &n_new_uids)) < 0 ||
             (r = merge_ids(p.access_gids, p.n_access_gids, gids, n_gids, replace, remove,
                            &new_gids, &n_new_gids)) < 0))
                status = ctl_fail_io("access list", r);
        if (status == CTL_EXIT_OK &&
            (r = mlskey_identity_set_access(ctl->client, path, new_uids, n_new_uids, new_gids,
                                            n_new_gids)) < 0)
                status = ctl_fail(r);
        if (status == CTL_EXIT_OK) {
                print_ids("shared_uids", new_uids, n_new_uids);
                print_ids("shared_gids", new_gids, n_new_gids);
        }
        mlskey_identity_props_clear(&p);
        free(uids);
        free(gids);
        free(new_uids);
        free(new_gids);
        free(path);
        return status;
}

static int
cmd_identity_share(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return share(ctl, cmd, argc, argv, false);
}

static int
cmd_identity_unshare(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return share(ctl, cmd, argc, argv, true);
}

/* ---- identity delete ---- */

static int
cmd_identity_delete(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        char *path = NULL;
        int r;

        if ((r = parse_one_identity(ctl, cmd, argc, argv, &path)) != 0 || !path)
                return r;
        r = mlskey_identity_delete(ctl->client, path);
        free(path);
        return r < 0 ? ctl_fail(r) : CTL_EXIT_OK;
}

/* ---- identity store-psk ---- */

static int
cmd_identity_store_psk(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "psk-id", required_argument, NULL, OPT_PSK_ID },
                { "in", required_argument, NULL, 'i' },
                { NULL, 0, NULL, 0 },
        };
        const char *psk_id_hex = NULL, *in = "-";
        uint8_t *psk_id = NULL, *psk = NULL;
        size_t psk_id_len = 0, psk_len = 0;
        char *path = NULL;
        int c, r, status = CTL_EXIT_OK;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hi:", opts, NULL)) != -1) {
                if (c == OPT_PSK_ID) {
                        psk_id_hex = optarg;
                } else if (c == 'i') {
                        in = optarg;
                } else if ((r = ctl_common_option(ctl, cmd, c, optarg)) != CTL_CONTINUE) {
                        return r;
                }
        }
        if (argc - optind != 1)
                return ctl_usage(cmd, "give one IDENTITY");
        if (!psk_id_hex)
                return ctl_usage(cmd, "--psk-id is required");
        if (ctl_hex_decode(psk_id_hex, &psk_id, &psk_id_len) < 0 || psk_id_len == 0) {
                free(psk_id);
                return ctl_usage(cmd, "--psk-id: \"%s\" is not non-empty hex", psk_id_hex);
        }
        if ((r = ctl_read_file(in, &psk, &psk_len)) < 0)
                status = ctl_fail_io(in, r);
        if (status == CTL_EXIT_OK)
                status = ctl_resolve_identity(ctl, argv[optind], &path);
        if (status == CTL_EXIT_OK &&
            (r = mlskey_identity_store_external_psk(ctl->client, path, psk_id, psk_id_len, psk,
                                                    psk_len)) < 0)
                status = ctl_fail(r);
        if (psk) {
                explicit_bzero(psk, psk_len);
                free(psk);
        }
        free(psk_id);
        free(path);
        return status;
}

/* ---- keypackage generate ---- */

static int
cmd_keypackage_generate(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                { "count", required_argument, NULL, 'n' },
                { "lifetime", required_argument, NULL, OPT_LIFETIME },
                { "last-resort", no_argument, NULL, OPT_LAST_RESORT },
                { "out", required_argument, NULL, 'o' },
                { "hex", no_argument, NULL, OPT_HEX },
                { NULL, 0, NULL, 0 },
        };
        struct mlskey_buf_list kps = MLSKEY_BUF_LIST_INIT;
        struct mlskey_opts *o = NULL;
        const char *out = NULL;
        uint64_t lifetime = 0;
        uint32_t count = 1;
        bool have_lifetime = false, last_resort = false, hex = false;
        char *path = NULL;
        int c, r, status = CTL_EXIT_OK;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hn:o:", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        if (ctl_parse_u32(optarg, &count) < 0 || count == 0 || count > 10000)
                                return ctl_usage(cmd, "--count: \"%s\" is not 1..10000", optarg);
                        break;
                case OPT_LIFETIME:
                        if (ctl_parse_u64(optarg, UINT64_MAX, &lifetime) < 0)
                                return ctl_usage(cmd, "--lifetime: \"%s\" is not a number of "
                                                      "seconds", optarg);
                        have_lifetime = true;
                        break;
                case OPT_LAST_RESORT:
                        last_resort = true;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case OPT_HEX:
                        hex = true;
                        break;
                default:
                        if ((r = ctl_common_option(ctl, cmd, c, optarg)) != CTL_CONTINUE)
                                return r;
                        break;
                }
        }
        if (argc - optind != 1)
                return ctl_usage(cmd, "give one IDENTITY");
        if (!out)
                return ctl_usage(cmd, "--out is required (\"-\" for stdout)");
        if ((status = ctl_resolve_identity(ctl, argv[optind], &path)) != 0)
                return status;
        if ((r = mlskey_opts_new(&o)) < 0) {
                free(path);
                return ctl_fail(r);
        }
        if (have_lifetime)
                mlskey_opts_add_u64(o, MLSKEY_OPT_LIFETIME, lifetime);
        if (last_resort)
                mlskey_opts_add_bool(o, MLSKEY_OPT_LAST_RESORT, true);
        r = mlskey_identity_generate_key_packages(ctl->client, path, count, o, &kps);
        mlskey_opts_free(o);
        free(path);
        if (r < 0)
                return ctl_fail(r);
        if (kps.n != count)
                fprintf(stderr, "mlskeyctl: warning: asked for %u KeyPackages, got %zu\n", count,
                        kps.n);
        /* One KeyPackage: FILE. Several: FILE.1 ... FILE.N, or all of them
         * to stdout (MLSMessages are self-delimiting; hex: one per line). */
        for (size_t i = 0; i < kps.n && status == CTL_EXIT_OK; i++) {
                char *name = NULL;

                if (kps.n == 1 || strcmp(out, "-") == 0)
                        name = strdup(out);
                else if (asprintf(&name, "%s.%zu", out, i + 1) < 0)
                        name = NULL;
                if (!name) {
                        status = ctl_fail_io(out, MLSKEY_ERROR_OUT_OF_MEMORY);
                        break;
                }
                r = ctl_write_file(name, kps.items[i].data, kps.items[i].len, hex, false);
                if (r < 0)
                        status = ctl_fail_io(name, r);
                else if (kps.n > 1 && strcmp(out, "-") != 0)
                        fprintf(stderr, "%s\n", name);
                free(name);
        }
        mlskey_buf_list_clear(&kps);
        return status;
}

/* ---- manuals ---- */

static const struct ctl_help help_identity_create = {
        .synopsis = "identity create --suite N (--name NAME | --name-hex HEX) [--label TEXT] [--tpm]",
        .summary = "create an identity (its signature key never leaves the daemon)",
        .description =
                "Asks the daemon to create an identity for cipher suite N (RFC 9420 section\n"
                "17.1: 1 = MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, 2 = P-256, 3 =\n"
                "X25519/ChaCha20Poly1305, ...; \"mlskeyctl status\" lists what the daemon\n"
                "supports). Its signature key pair is generated inside the daemon; NAME is\n"
                "the identity of its BasicCredential, e.g. alice@example.org.\n"
                "Prints the new identity's object path.",
        .options =
                "  --suite N          cipher suite number (required)\n"
                "  --name NAME        credential identity as text\n"
                "  --name-hex HEX     credential identity as hex bytes\n"
                "  --label TEXT       a label for humans (option \"label\")\n"
                "  --tpm              keep the signature key inside the TPM (suite 2 only)\n",
        .examples =
                "mlskeyctl identity create --suite 1 --name alice\n"
                "mlskeyctl --system identity create --suite 2 --name backup@host --tpm",
};

static const struct ctl_help help_identity_list = {
        .synopsis = "identity list [-l]",
        .summary = "list the identities visible to you",
        .description = "Prints the object path of every identity you own or that is shared\n"
                       "with you, one per line; with -l also its name, suite and owner.",
        .options = "  -l, --long         print name=, suite=, owner= after each path\n",
        .examples = "mlskeyctl identity list -l",
};

static const struct ctl_help help_identity_show = {
        .synopsis = "identity show IDENTITY",
        .summary = "show an identity's properties",
        .description =
                "Prints every property of IDENTITY (one snapshot) as \"key: value\" lines:\n"
                "name, credential_identity and signature_public_key (hex), cipher_suite,\n"
                "owner (uid), shared_uids, shared_gids, tpm_bound.",
        .examples = "mlskeyctl identity show alice",
};

static const struct ctl_help help_identity_share = {
        .synopsis = "identity share IDENTITY [--uid N]... [--gid N]... [--replace]",
        .summary = "let other users or groups use an identity (owner only)",
        .description =
                "Adds the given uids and gids to those who may use IDENTITY and its groups\n"
                "(they can never delete it or change who may use it). With --replace the\n"
                "lists become exactly the given ones (none: shared with nobody). Prints\n"
                "the resulting lists. Only the owner may do this (AccessDenied).",
        .options =
                "  --uid N            a user id (repeatable)\n"
                "  --gid N            a group id (repeatable)\n"
                "  --replace          replace the lists instead of adding to them\n",
        .examples =
                "mlskeyctl --system identity share backup@host --uid 998 --gid 120\n"
                "mlskeyctl --system identity share backup@host --replace",
};

static const struct ctl_help help_identity_unshare = {
        .synopsis = "identity unshare IDENTITY [--uid N]... [--gid N]...",
        .summary = "stop sharing an identity with users or groups (owner only)",
        .description = "Removes the given uids and gids from those who may use IDENTITY.\n"
                       "Prints the resulting lists.",
        .options = "  --uid N            a user id (repeatable)\n"
                   "  --gid N            a group id (repeatable)\n",
        .examples = "mlskeyctl --system identity unshare backup@host --uid 998",
};

static const struct ctl_help help_identity_delete = {
        .synopsis = "identity delete IDENTITY",
        .summary = "delete an identity, its KeyPackages and its groups (owner only)",
        .description = "Deletes IDENTITY in the daemon, with its unused KeyPackages and every\n"
                       "group it is a member of. There is no undo.",
        .examples = "mlskeyctl identity delete alice",
};

static const struct ctl_help help_identity_store_psk = {
        .synopsis = "identity store-psk IDENTITY --psk-id HEX [--in FILE]",
        .summary = "store an external pre-shared key for an identity",
        .description =
                "Hands the daemon an external PSK (RFC 9420 section 8.4) that you received\n"
                "out of band, under the id HEX; proposals and commits can then name it\n"
                "(--psk-id). The key is read from FILE (default: stdin), never from the\n"
                "command line.",
        .options = "  --psk-id HEX       the PSK's id (required)\n"
                   "  -i, --in FILE      read the key from FILE (\"-\": stdin, the default)\n",
        .examples = "mlskeyctl identity store-psk alice --psk-id 01020304 --in psk.bin",
};

static const struct ctl_help help_keypackage_generate = {
        .synopsis = "keypackage generate IDENTITY [--count N] [--lifetime SEC] [--last-resort]\n"
                    "              --out FILE [--hex]",
        .summary = "generate KeyPackages to publish",
        .description =
                "Generates N KeyPackages (MLSMessage each) for IDENTITY; their private keys\n"
                "stay inside the daemon. One KeyPackage is written to FILE; several to\n"
                "FILE.1 ... FILE.N (their names are printed on stderr), or all of them to\n"
                "stdout for \"--out -\".",
        .options =
                "  -n, --count N      how many (default 1, at most 10000)\n"
                "  --lifetime SEC     validity from now, in seconds (default: the policy's)\n"
                "  --last-resort      mark them last resort (RFC 9420 section 16.8)\n"
                "  -o, --out FILE     where to write (\"-\": stdout)\n"
                "  --hex              write hex text (one line each) instead of bytes\n",
        .examples =
                "mlskeyctl keypackage generate bob --out bob.kp\n"
                "mlskeyctl keypackage generate bob --count 10 --out kp   # kp.1 ... kp.10",
};

const struct ctl_command ctl_identity_commands[] = {
        { "identity", "create", cmd_identity_create, &help_identity_create },
        { "identity", "list", cmd_identity_list, &help_identity_list },
        { "identity", "show", cmd_identity_show, &help_identity_show },
        { "identity", "share", cmd_identity_share, &help_identity_share },
        { "identity", "unshare", cmd_identity_unshare, &help_identity_unshare },
        { "identity", "delete", cmd_identity_delete, &help_identity_delete },
        { "identity", "store-psk", cmd_identity_store_psk, &help_identity_store_psk },
        { "keypackage", "generate", cmd_keypackage_generate, &help_keypackage_generate },
        { NULL, NULL, NULL, NULL },
};
