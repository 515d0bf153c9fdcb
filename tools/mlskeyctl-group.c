/* SPDX-License-Identifier: Apache-2.0 */
/* mlskeyctl: group commands. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tools/mlskeyctl.h"

enum {
        OPT_GROUP_ID = CTL_OPT_FIRST,
        OPT_MAX_PAST_EPOCHS,
        OPT_HANDSHAKE,
        OPT_EXTERNAL_SENDER,
        OPT_REQUIRED_CAPS,
        OPT_MAX_PAST_GENERATIONS,
        OPT_MAX_FORWARD_DISTANCE,
        OPT_WELCOME,
        OPT_TREE,
        OPT_GROUP_INFO,
        OPT_PSK_ID,
        OPT_REMOVE_PRIOR_LEAF,
        OPT_COMMIT_OUT,
        OPT_WELCOME_OUT,
        OPT_AAD,
        OPT_AAD_FILE,
        OPT_HEX,
        OPT_NO_INLINE_TREE,
        OPT_INLINE_TREE,
        OPT_FORCE_PATH,
        OPT_MERGE,
        OPT_KEY_PACKAGE,
        OPT_LEAF,
        OPT_EPOCH,
        OPT_SUITE,
        OPT_EXTENSIONS,
        OPT_EXTERNAL_PUB,
        OPT_LABEL,
        OPT_CONTEXT,
        OPT_LENGTH,
        OPT_MAX_WAIT,
};

/* Every option any group command takes; each command's getopt table
 * decides which it accepts. */
struct gargs {
        char **pos; /* positional arguments (pointers into argv) */
        int npos;
        const char *in, *out, *commit_out, *welcome_out;
        const char *welcome, *tree, *group_info, *key_package, *extensions;
        const char *required_caps, *handshake, *label;
        uint8_t *group_id, *aad, *context;
        size_t group_id_len, aad_len, context_len;
        bool have_group_id, have_aad, have_context;
        const char *aad_file;
        struct mlskey_data *psk_ids;
        size_t n_psk_ids;
        const char **external_senders;
        size_t n_external_senders;
        bool have_max_past_epochs, have_max_past_generations, have_max_forward_distance;
        uint32_t max_past_epochs, max_past_generations, max_forward_distance;
        bool have_remove_prior_leaf, have_leaf, have_epoch, have_suite, have_length;
        uint32_t remove_prior_leaf, leaf, length;
        uint64_t epoch;
        uint16_t suite;
        bool hex, inline_tree_set, inline_tree, force_path, merge, external_pub, longfmt;
        int max_wait_ms; /* -1: forever */
};

static void
gargs_free(struct gargs *a)
{
        free(a->group_id);
        free(a->aad);
        free(a->context);
        for (size_t i = 0; i < a->n_psk_ids; i++)
                free((void *)a->psk_ids[i].data);
        free(a->psk_ids);
        free(a->external_senders);
}

static int
hex_arg(const struct ctl_command *cmd, const char *opt, const char *arg, uint8_t **ret,
        size_t *ret_len, bool *have)
{
        if (*have)
                return ctl_usage(cmd, "%s given twice", opt);
        if (ctl_hex_decode(arg, ret, ret_len) < 0)
                return ctl_usage(cmd, "%s: \"%s\" is not hex", opt, arg);
        *have = true;
        return CTL_CONTINUE;
}

static int
u32_arg(const struct ctl_command *cmd, const char *opt, const char *arg, uint32_t *ret,
        bool *have)
{
        if (ctl_parse_u32(arg, ret) < 0)
                return ctl_usage(cmd, "%s: \"%s\" is not a number 0..4294967295", opt, arg);
        *have = true;
        return CTL_CONTINUE;
}

static int
parse_one(struct ctl *ctl, const struct ctl_command *cmd, struct gargs *a, int c,
          const char *arg)
{
        switch (c) {
        case 'i':
                a->in = arg;
                return CTL_CONTINUE;
        case 'o':
                a->out = arg;
                return CTL_CONTINUE;
        case 'l':
                a->longfmt = true;
                return CTL_CONTINUE;
        case OPT_GROUP_ID:
                return hex_arg(cmd, "--group-id", arg, &a->group_id, &a->group_id_len,
                               &a->have_group_id);
        case OPT_AAD:
                if (a->aad_file)
                        return ctl_usage(cmd, "give --aad or --aad-file, not both");
                return hex_arg(cmd, "--aad", arg, &a->aad, &a->aad_len, &a->have_aad);
        case OPT_AAD_FILE:
                if (a->have_aad)
                        return ctl_usage(cmd, "give --aad or --aad-file, not both");
                a->aad_file = arg;
                return CTL_CONTINUE;
        case OPT_CONTEXT:
                return hex_arg(cmd, "--context", arg, &a->context, &a->context_len,
                               &a->have_context);
        case OPT_PSK_ID: {
                struct mlskey_data *v;
                uint8_t *id = NULL;
                size_t len = 0;

                if (ctl_hex_decode(arg, &id, &len) < 0 || len == 0) {
                        free(id);
                        return ctl_usage(cmd, "--psk-id: \"%s\" is not non-empty hex", arg);
                }
                v = realloc(a->psk_ids, (a->n_psk_ids + 1) * sizeof(*v));
                if (!v) {
                        free(id);
                        return ctl_fail_io("--psk-id", MLSKEY_ERROR_OUT_OF_MEMORY);
                }
                v[a->n_psk_ids].data = id;
                v[a->n_psk_ids].len = len;
                a->psk_ids = v;
                a->n_psk_ids++;
                return CTL_CONTINUE;
        }
        case OPT_EXTERNAL_SENDER: {
                const char **v = realloc(a->external_senders,
                                         (a->n_external_senders + 1) * sizeof(*v));

                if (!v)
                        return ctl_fail_io("--external-sender", MLSKEY_ERROR_OUT_OF_MEMORY);
                v[a->n_external_senders++] = arg;
                a->external_senders = v;
                return CTL_CONTINUE;
        }
        case OPT_MAX_PAST_EPOCHS:
                return u32_arg(cmd, "--max-past-epochs", arg, &a->max_past_epochs,
                               &a->have_max_past_epochs);
        case OPT_MAX_PAST_GENERATIONS:
                return u32_arg(cmd, "--max-past-generations", arg, &a->max_past_generations,
                               &a->have_max_past_generations);
        case OPT_MAX_FORWARD_DISTANCE:
                return u32_arg(cmd, "--max-forward-distance", arg, &a->max_forward_distance,
                               &a->have_max_forward_distance);
        case OPT_REMOVE_PRIOR_LEAF:
                return u32_arg(cmd, "--remove-prior-leaf", arg, &a->remove_prior_leaf,
                               &a->have_remove_prior_leaf);
        case OPT_LEAF:
                return u32_arg(cmd, "--leaf", arg, &a->leaf, &a->have_leaf);
        case OPT_LENGTH:
                return u32_arg(cmd, "--length", arg, &a->length, &a->have_length);
        case OPT_EPOCH:
                if (ctl_parse_u64(arg, UINT64_MAX, &a->epoch) < 0)
                        return ctl_usage(cmd, "--epoch: \"%s\" is not a number", arg);
                a->have_epoch = true;
                return CTL_CONTINUE;
        case OPT_SUITE:
                if (ctl_parse_u16(arg, &a->suite) < 0)
                        return ctl_usage(cmd, "--suite: \"%s\" is not a cipher suite number", arg);
                a->have_suite = true;
                return CTL_CONTINUE;
        case OPT_HANDSHAKE:
                if (strcmp(arg, "public") != 0 && strcmp(arg, "private") != 0)
                        return ctl_usage(cmd, "--handshake is \"public\" or \"private\"");
                a->handshake = arg;
                return CTL_CONTINUE;
        case OPT_MAX_WAIT:
                if (ctl_parse_seconds_ms(arg, INT32_MAX, &a->max_wait_ms) < 0)
                        return ctl_usage(cmd, "--max-wait: \"%s\" is not a number of seconds",
                                         arg);
                return CTL_CONTINUE;
        case OPT_REQUIRED_CAPS:
                a->required_caps = arg;
                return CTL_CONTINUE;
        case OPT_WELCOME:
                a->welcome = arg;
                return CTL_CONTINUE;
        case OPT_TREE:
                a->tree = arg;
                return CTL_CONTINUE;
        case OPT_GROUP_INFO:
                a->group_info = arg;
                return CTL_CONTINUE;
        case OPT_KEY_PACKAGE:
                a->key_package = arg;
                return CTL_CONTINUE;
        case OPT_EXTENSIONS:
                a->extensions = arg;
                return CTL_CONTINUE;
        case OPT_LABEL:
                a->label = arg;
                return CTL_CONTINUE;
        case OPT_COMMIT_OUT:
                a->commit_out = arg;
                return CTL_CONTINUE;
        case OPT_WELCOME_OUT:
                a->welcome_out = arg;
                return CTL_CONTINUE;
        case OPT_HEX:
                a->hex = true;
                return CTL_CONTINUE;
        case OPT_NO_INLINE_TREE:
        case OPT_INLINE_TREE:
                if (a->inline_tree_set)
                        return ctl_usage(cmd, "give --inline-tree or --no-inline-tree once");
                a->inline_tree_set = true;
                a->inline_tree = c == OPT_INLINE_TREE;
                return CTL_CONTINUE;
        case OPT_FORCE_PATH:
                a->force_path = true;
                return CTL_CONTINUE;
        case OPT_MERGE:
                a->merge = true;
                return CTL_CONTINUE;
        case OPT_EXTERNAL_PUB:
                a->external_pub = true;
                return CTL_CONTINUE;
        default:
                return ctl_common_option(ctl, cmd, c, arg);
        }
}

/* Parses argv with the command's table; CTL_CONTINUE or an exit status.
 * Positional arguments must number min..max (max -1: no limit). */
static int
parse(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv,
      const struct option *opts, int min, int max, struct gargs *a)
{
        int c, r;

        memset(a, 0, sizeof(*a));
        a->max_wait_ms = -1;
        optind = 0;
        while ((c = getopt_long(argc, argv, "hi:o:l", opts, NULL)) != -1) {
                /* getopt_long takes only the letters the table has. */
                if ((c == 'i' || c == 'o' || c == 'l')) {
                        bool known = false;

                        for (const struct option *o = opts; o->name; o++)
                                known = known || o->val == c;
                        if (!known)
                                return ctl_usage(cmd, "invalid option -- '%c'", c);
                }
                if ((r = parse_one(ctl, cmd, a, c, optarg)) != CTL_CONTINUE)
                        return r;
        }
        a->pos = argv + optind;
        a->npos = argc - optind;
        if (a->npos < min)
                return ctl_usage(cmd, "missing argument");
        if (max >= 0 && a->npos > max)
                return ctl_usage(cmd, "unexpected argument \"%s\"", a->pos[max]);
        return CTL_CONTINUE;
}

#define GOPT(name, has, val) { name, has, NULL, val }
#define O_IN GOPT("in", required_argument, 'i')
#define O_OUT GOPT("out", required_argument, 'o')
#define O_HEX GOPT("hex", no_argument, OPT_HEX)
#define O_COMMIT_OUT GOPT("commit-out", required_argument, OPT_COMMIT_OUT)
#define O_WELCOME_OUT GOPT("welcome-out", required_argument, OPT_WELCOME_OUT)
#define O_PSK_ID GOPT("psk-id", required_argument, OPT_PSK_ID)
#define O_FORCE_PATH GOPT("force-path", no_argument, OPT_FORCE_PATH)
#define O_MERGE GOPT("merge", no_argument, OPT_MERGE)
#define O_INLINE GOPT("inline-tree", no_argument, OPT_INLINE_TREE), \
                 GOPT("no-inline-tree", no_argument, OPT_NO_INLINE_TREE)
#define O_RETENTION                                                               \
        GOPT("max-past-epochs", required_argument, OPT_MAX_PAST_EPOCHS),          \
        GOPT("handshake", required_argument, OPT_HANDSHAKE),                      \
        GOPT("max-past-generations", required_argument, OPT_MAX_PAST_GENERATIONS), \
        GOPT("max-forward-distance", required_argument, OPT_MAX_FORWARD_DISTANCE)
#define O_END { NULL, 0, NULL, 0 }

/* Reads an input file for an option; 0 or exit status. */
static int
read_input(const char *path, uint8_t **ret, size_t *ret_len)
{
        int r = ctl_read_file(path, ret, ret_len);

        return r < 0 ? ctl_fail_io(path, r) : 0;
}

static int
write_output(const char *path, const struct mlskey_buf *b, bool hex)
{
        int r = ctl_write_file(path, b->data, b->len, hex, false);

        return r < 0 ? ctl_fail_io(path, r) : 0;
}

/* The group settings of CreateGroup, also taken by JoinGroup,
 * JoinByExternalCommit, ReInit and Branch. */
static void
retention_opts(const struct gargs *a, struct mlskey_opts *o)
{
        if (a->have_max_past_epochs)
                mlskey_opts_add_u32(o, MLSKEY_OPT_MAX_PAST_EPOCHS, a->max_past_epochs);
        if (a->handshake)
                mlskey_opts_add_string(o, MLSKEY_OPT_HANDSHAKE, a->handshake);
        if (a->have_max_past_generations)
                mlskey_opts_add_u32(o, MLSKEY_OPT_MAX_PAST_GENERATIONS, a->max_past_generations);
        if (a->have_max_forward_distance)
                mlskey_opts_add_u32(o, MLSKEY_OPT_MAX_FORWARD_DISTANCE, a->max_forward_distance);
}

/* The options of commits (Add, Remove, Update, Commit, ReInit, Branch). */
static int
commit_opts(const struct gargs *a, struct mlskey_opts **ret)
{
        struct mlskey_opts *o = NULL;
        int r;

        if ((r = mlskey_opts_new(&o)) < 0)
                return ctl_fail(r);
        if (a->inline_tree_set)
                mlskey_opts_add_bool(o, MLSKEY_OPT_INLINE_TREE, a->inline_tree);
        if (a->force_path)
                mlskey_opts_add_bool(o, MLSKEY_OPT_FORCE_PATH, true);
        if (a->n_psk_ids)
                mlskey_opts_add_bytes_array(o, MLSKEY_OPT_PSK_IDS, a->psk_ids, a->n_psk_ids);
        *ret = o;
        return 0;
}

/* Files of KeyPackages (MLSMessage each) into views; bufs to free. */
static int
read_key_packages(char **files, int n, struct mlskey_data **ret_items, uint8_t ***ret_bufs)
{
        struct mlskey_data *items = calloc((size_t)n + 1, sizeof(*items));
        uint8_t **bufs = calloc((size_t)n + 1, sizeof(*bufs));
        int stdin_used = 0;

        if (!items || !bufs) {
                free(items);
                free(bufs);
                return ctl_fail_io("KeyPackages", MLSKEY_ERROR_OUT_OF_MEMORY);
        }
        for (int i = 0; i < n; i++) {
                size_t len = 0;
                int status;

                if (strcmp(files[i], "-") == 0 && stdin_used++) {
                        fprintf(stderr, "mlskeyctl: stdin (\"-\") can be read once only\n");
                        status = CTL_EXIT_USAGE;
                } else {
                        status = read_input(files[i], &bufs[i], &len);
                }
                if (status != 0) {
                        for (int j = 0; j < i; j++)
                                free(bufs[j]);
                        free(bufs);
                        free(items);
                        return status;
                }
                items[i].data = bufs[i];
                items[i].len = len;
        }
        *ret_items = items;
        *ret_bufs = bufs;
        return 0;
}

static void
free_bufs(uint8_t **bufs, int n)
{
        if (!bufs)
                return;
        for (int i = 0; i < n; i++)
                free(bufs[i]);
        free(bufs);
}

/* After a commit was built: write it (and the Welcome), then merge if
 * asked. If the commit cannot be saved, the pending commit is cleared so
 * the group is not left waiting for a commit nobody can deliver. */
static int
finish_commit(struct ctl *ctl, const char *group, const struct gargs *a,
              const struct mlskey_buf *commit, const struct mlskey_buf *welcome)
{
        int status = write_output(a->commit_out, commit, a->hex);
        int r;

        if (status == 0 && welcome && welcome->len) {
                if (a->welcome_out)
                        status = write_output(a->welcome_out, welcome, a->hex);
                else
                        fprintf(stderr, "mlskeyctl: warning: the commit adds members but "
                                        "--welcome-out was not given: the Welcome is lost\n");
        }
        if (status != 0) {
                r = mlskey_group_clear_pending_commit(ctl->client, group);
                fprintf(stderr, "mlskeyctl: %s\n",
                        r < 0 ? "the pending commit could not be cleared"
                              : "the pending commit was cleared");
                return status;
        }
        if (a->merge && (r = mlskey_group_merge_pending_commit(ctl->client, group)) < 0)
                return ctl_fail(r);
        return CTL_EXIT_OK;
}

/* ---- group create ---- */

static int
cmd_group_create(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                GOPT("group-id", required_argument, OPT_GROUP_ID),
                GOPT("max-past-epochs", required_argument, OPT_MAX_PAST_EPOCHS),
                GOPT("handshake", required_argument, OPT_HANDSHAKE),
                GOPT("external-sender", required_argument, OPT_EXTERNAL_SENDER),
                GOPT("required-capabilities", required_argument, OPT_REQUIRED_CAPS),
                GOPT("max-past-generations", required_argument, OPT_MAX_PAST_GENERATIONS),
                GOPT("max-forward-distance", required_argument, OPT_MAX_FORWARD_DISTANCE),
                O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_data *senders = NULL;
        uint8_t **sender_bufs = NULL, *caps = NULL, random_id[16];
        size_t caps_len = 0;
        char *identity = NULL, *group = NULL;
        int r, status;

        if ((status = parse(ctl, cmd, argc, argv, opts, 1, 1, &a)) != CTL_CONTINUE) {
                gargs_free(&a);
                return status;
        }
        status = ctl_resolve_identity(ctl, a.pos[0], &identity);
        if (status == 0 && a.n_external_senders)
                status = read_key_packages((char **)a.external_senders, (int)a.n_external_senders,
                                           &senders, &sender_bufs);
        if (status == 0 && a.required_caps)
                status = read_input(a.required_caps, &caps, &caps_len);
        if (status == 0 && (r = mlskey_opts_new(&o)) < 0)
                status = ctl_fail(r);
        if (status == 0) {
                retention_opts(&a, o);
                if (a.n_external_senders)
                        mlskey_opts_add_bytes_array(o, MLSKEY_OPT_EXTERNAL_SENDERS, senders,
                                                    a.n_external_senders);
                if (a.required_caps)
                        mlskey_opts_add_bytes(o, MLSKEY_OPT_REQUIRED_CAPABILITIES, caps, caps_len);
        }
        /* Without --group-id: 16 random bytes (a group id is public, it
         * only has to be unique). */
        if (status == 0 && !a.have_group_id &&
            getrandom(random_id, sizeof(random_id), 0) != (ssize_t)sizeof(random_id))
                status = ctl_fail_io("getrandom", MLSKEY_ERROR_INTERNAL_ERROR);
        if (status == 0) {
                r = a.have_group_id
                            ? mlskey_identity_create_group(ctl->client, identity, a.group_id,
                                                           a.group_id_len, o, &group)
                            : mlskey_identity_create_group(ctl->client, identity, random_id,
                                                           sizeof(random_id), o, &group);
                if (r < 0)
                        status = ctl_fail(r);
                else
                        printf("%s\n", group);
        }
        mlskey_opts_free(o);
        free_bufs(sender_bufs, (int)a.n_external_senders);
        free(senders);
        free(caps);
        free(identity);
        free(group);
        gargs_free(&a);
        return status;
}

/* ---- group list / show / members / epoch ---- */

static int
cmd_group_list(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = { CTL_COMMON_OPTIONS, GOPT("long", no_argument, 'l'),
                                              O_END };
        struct gargs a;
        char **groups = NULL;
        size_t n = 0;
        int r, status;

        if ((status = parse(ctl, cmd, argc, argv, opts, 0, 0, &a)) != CTL_CONTINUE)
                return status;
        if ((status = ctl_connect(ctl)) != 0)
                return status;
        if ((r = mlskey_manager_list_groups(ctl->client, &groups, &n)) < 0)
                return ctl_fail(r);
        for (size_t i = 0; i < n; i++) {
                struct mlskey_group_props p = { 0 };
                char *gid;

                if (!a.longfmt) {
                        printf("%s\n", groups[i]);
                        continue;
                }
                if ((r = mlskey_group_get_all(ctl->client, groups[i], &p)) < 0) {
                        printf("%s (%s)\n", groups[i], mlskey_error_name(r));
                        continue;
                }
                gid = ctl_bytes_display(p.group_id.data, p.group_id.len);
                printf("%s group_id=%s epoch=%llu members=%zu identity=%s\n", groups[i],
                       gid ? gid : "?", (unsigned long long)p.epoch, p.members.n, p.identity);
                free(gid);
                mlskey_group_props_clear(&p);
        }
        mlskey_strv_free(groups);
        return CTL_EXIT_OK;
}

/* Parses "COMMAND GROUP" plus the table's options and resolves GROUP. */
static int
parse_group(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv,
            const struct option *opts, int min, int max, struct gargs *a, char **ret_group)
{
        int status = parse(ctl, cmd, argc, argv, opts, min, max, a);

        if (status != CTL_CONTINUE)
                return status;
        return ctl_resolve_group(ctl, a->pos[0], ret_group);
}

static const struct option only_common[] = { CTL_COMMON_OPTIONS, O_END };

static void
print_members(const struct mlskey_members *m, bool own, uint32_t own_leaf)
{
        for (size_t i = 0; i < m->n; i++) {
                const struct mlskey_member *x = &m->items[i];
                char *name = ctl_bytes_display(x->credential_identity.data,
                                               x->credential_identity.len);
                char *key = NULL;

                if (ctl_hex_encode(x->signature_public_key.data, x->signature_public_key.len,
                                   &key) < 0)
                        key = NULL;
                printf("%u %s %s%s\n", x->leaf, name ? name : "?", key ? key : "?",
                       own && x->leaf == own_leaf ? " (you)" : "");
                free(name);
                free(key);
        }
}

static int
cmd_group_show(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        struct gargs a;
        struct mlskey_group_props p = { 0 };
        char *group = NULL, *gid;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, only_common, 1, 1, &a, &group);
        if (status != 0 || !group) {
                gargs_free(&a);
                return status == CTL_CONTINUE ? 0 : status;
        }
        if ((r = mlskey_group_get_all(ctl->client, group, &p)) < 0) {
                free(group);
                gargs_free(&a);
                return ctl_fail(r);
        }
        gid = ctl_bytes_display(p.group_id.data, p.group_id.len);
        printf("path: %s\n", group);
        printf("group_id: %s\n", gid ? gid : "?");
        ctl_print_hex_line("group_id_hex", p.group_id.data, p.group_id.len);
        printf("identity: %s\n", p.identity);
        printf("epoch: %llu\n", (unsigned long long)p.epoch);
        printf("cipher_suite: %u\n", p.cipher_suite);
        printf("own_leaf: %u\n", p.own_leaf);
        printf("members: %zu\n", p.members.n);
        ctl_print_hex_line("epoch_authenticator", p.epoch_authenticator.data,
                           p.epoch_authenticator.len);
        printf("pending_commit: %s\n", p.has_pending_commit ? "true" : "false");
        free(gid);
        free(group);
        mlskey_group_props_clear(&p);
        gargs_free(&a);
        return CTL_EXIT_OK;
}

static int
cmd_group_members(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        struct gargs a;
        struct mlskey_group_props p = { 0 };
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, only_common, 1, 1, &a, &group);
        gargs_free(&a);
        if (status != 0 || !group)
                return status == CTL_CONTINUE ? 0 : status;
        r = mlskey_group_get_all(ctl->client, group, &p);
        free(group);
        if (r < 0)
                return ctl_fail(r);
        print_members(&p.members, true, p.own_leaf);
        mlskey_group_props_clear(&p);
        return CTL_EXIT_OK;
}

static int
print_epoch(struct ctl *ctl, const char *group)
{
        struct mlskey_group_props p = { 0 };
        int r;

        /* One GetAll: the epoch and its authenticator from the same state. */
        if ((r = mlskey_group_get_all(ctl->client, group, &p)) < 0)
                return ctl_fail(r);
        printf("epoch: %llu\n", (unsigned long long)p.epoch);
        ctl_print_hex_line("authenticator", p.epoch_authenticator.data,
                           p.epoch_authenticator.len);
        mlskey_group_props_clear(&p);
        return CTL_EXIT_OK;
}

static int
cmd_group_epoch(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        struct gargs a;
        char *group = NULL;
        int status;

        status = parse_group(ctl, cmd, argc, argv, only_common, 1, 1, &a, &group);
        gargs_free(&a);
        if (status != 0 || !group)
                return status == CTL_CONTINUE ? 0 : status;
        status = print_epoch(ctl, group);
        free(group);
        return status;
}

/* ---- joining ---- */

static int
cmd_group_join(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                GOPT("welcome", required_argument, OPT_WELCOME),
                GOPT("tree", required_argument, OPT_TREE),
                O_RETENTION,
                O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        uint8_t *welcome = NULL, *tree = NULL;
        size_t welcome_len = 0, tree_len = 0;
        char *identity = NULL, *group = NULL;
        int r, status;

        if ((status = parse(ctl, cmd, argc, argv, opts, 1, 1, &a)) != CTL_CONTINUE)
                return status;
        if (!a.welcome)
                return ctl_usage(cmd, "--welcome is required");
        status = read_input(a.welcome, &welcome, &welcome_len);
        if (status == 0 && a.tree)
                status = read_input(a.tree, &tree, &tree_len);
        if (status == 0)
                status = ctl_resolve_identity(ctl, a.pos[0], &identity);
        if (status == 0 && (r = mlskey_opts_new(&o)) < 0)
                status = ctl_fail(r);
        if (status == 0) {
                retention_opts(&a, o);
                r = mlskey_identity_join_group(ctl->client, identity, welcome, welcome_len, tree,
                                               tree_len, o, &group);
                if (r < 0)
                        status = ctl_fail(r);
                else
                        printf("%s\n", group);
        }
        mlskey_opts_free(o);
        free(welcome);
        free(tree);
        free(identity);
        free(group);
        return status;
}

static int
cmd_group_external_join(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                GOPT("group-info", required_argument, OPT_GROUP_INFO),
                GOPT("tree", required_argument, OPT_TREE),
                O_PSK_ID,
                GOPT("remove-prior-leaf", required_argument, OPT_REMOVE_PRIOR_LEAF),
                O_COMMIT_OUT,
                O_HEX,
                O_RETENTION,
                O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_buf commit = MLSKEY_BUF_INIT;
        uint8_t *gi = NULL, *tree = NULL;
        size_t gi_len = 0, tree_len = 0;
        char *identity = NULL, *group = NULL;
        int r, status;

        if ((status = parse(ctl, cmd, argc, argv, opts, 1, 1, &a)) != CTL_CONTINUE) {
                gargs_free(&a);
                return status;
        }
        if (!a.group_info || !a.commit_out) {
                gargs_free(&a);
                return ctl_usage(cmd, "--group-info and --commit-out are required");
        }
        status = read_input(a.group_info, &gi, &gi_len);
        if (status == 0 && a.tree)
                status = read_input(a.tree, &tree, &tree_len);
        if (status == 0)
                status = ctl_resolve_identity(ctl, a.pos[0], &identity);
        if (status == 0 && (r = mlskey_opts_new(&o)) < 0)
                status = ctl_fail(r);
        if (status == 0) {
                if (a.n_psk_ids)
                        mlskey_opts_add_bytes_array(o, MLSKEY_OPT_PSK_IDS, a.psk_ids, a.n_psk_ids);
                if (a.have_remove_prior_leaf)
                        mlskey_opts_add_u32(o, MLSKEY_OPT_REMOVE_PRIOR_LEAF, a.remove_prior_leaf);
                retention_opts(&a, o);
                r = mlskey_identity_join_by_external_commit(ctl->client, identity, gi, gi_len,
                                                            tree, tree_len, o, &group, &commit);
                if (r < 0)
                        status = ctl_fail(r);
        }
        if (status == 0) {
                /* The group exists now; the commit must reach the others. */
                status = write_output(a.commit_out, &commit, a.hex);
                printf("%s\n", group);
        }
        mlskey_buf_clear(&commit);
        mlskey_opts_free(o);
        free(gi);
        free(tree);
        free(identity);
        free(group);
        gargs_free(&a);
        return status;
}

/* ---- messages ---- */

static int
cmd_group_encrypt(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_IN, O_OUT, O_HEX,
                GOPT("aad", required_argument, OPT_AAD),
                GOPT("aad-file", required_argument, OPT_AAD_FILE),
                O_END,
        };
        struct gargs a;
        struct mlskey_buf msg = MLSKEY_BUF_INIT;
        uint8_t *pt = NULL, *aad_file = NULL;
        size_t pt_len = 0, aad_file_len = 0;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        if (status != 0 || !group) {
                gargs_free(&a);
                return status == CTL_CONTINUE ? 0 : status;
        }
        if (!a.out) {
                status = ctl_usage(cmd, "--out is required (\"-\" for stdout)");
        } else {
                status = read_input(a.in ? a.in : "-", &pt, &pt_len);
                if (status == 0 && a.aad_file)
                        status = read_input(a.aad_file, &aad_file, &aad_file_len);
        }
        if (status == 0) {
                r = a.aad_file ? mlskey_group_encrypt(ctl->client, group, pt, pt_len, aad_file,
                                                      aad_file_len, &msg)
                               : mlskey_group_encrypt(ctl->client, group, pt, pt_len, a.aad,
                                                      a.aad_len, &msg);
                status = r < 0 ? ctl_fail(r) : write_output(a.out, &msg, a.hex);
        }
        mlskey_buf_clear(&msg);
        if (pt) {
                explicit_bzero(pt, pt_len);
                free(pt);
        }
        free(aad_file);
        free(group);
        gargs_free(&a);
        return status;
}

static void
print_u32s(FILE *f, const char *label, const uint32_t *v, size_t n)
{
        fprintf(f, "%s:", label);
        for (size_t i = 0; i < n; i++)
                fprintf(f, " %u", v[i]);
        fputc('\n', f);
}

static int
cmd_group_process(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = { CTL_COMMON_OPTIONS, O_IN, O_OUT, O_HEX, O_END };
        static const char *const known[] = { "sender", "external_sender", "new_member", "epoch",
                                             "authenticated_data", "removed", "added",
                                             "removed_leaves" };
        struct gargs a;
        struct mlskey_process_result res = MLSKEY_PROCESS_RESULT_INIT;
        uint8_t *msg = NULL;
        size_t msg_len = 0;
        char *group = NULL;
        FILE *info;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        if (status != 0 || !group) {
                gargs_free(&a);
                return status == CTL_CONTINUE ? 0 : status;
        }
        status = read_input(a.in ? a.in : "-", &msg, &msg_len);
        if (status == 0 && (r = mlskey_group_process(ctl->client, group, msg, msg_len, &res)) < 0)
                status = ctl_fail(r);
        free(msg);
        free(group);
        if (status != 0) {
                gargs_free(&a);
                return status;
        }
        /* The content goes to --out; the description to stdout, or to
         * stderr when the content itself goes to stdout. */
        info = a.out && strcmp(a.out, "-") == 0 ? stderr : stdout;
        fprintf(info, "kind: %s\n", res.kind_name);
        if (res.has_sender)
                fprintf(info, "sender: %u\n", res.sender);
        if (res.has_external_sender)
                fprintf(info, "external_sender: %u\n", res.external_sender);
        if (mlskey_dict_get(&res.info, "new_member"))
                fprintf(info, "new_member: %s\n", res.new_member ? "true" : "false");
        if (res.has_epoch)
                fprintf(info, "epoch: %llu\n", (unsigned long long)res.epoch);
        if (mlskey_dict_get(&res.info, "authenticated_data")) {
                char *h = NULL;

                if (ctl_hex_encode(res.authenticated_data.data, res.authenticated_data.len, &h) == 0)
                        fprintf(info, "authenticated_data: %s\n", h);
                free(h);
        }
        if (mlskey_dict_get(&res.info, "removed"))
                fprintf(info, "removed: %s\n", res.removed ? "true" : "false");
        if (mlskey_dict_get(&res.info, "added"))
                print_u32s(info, "added", res.added, res.n_added);
        if (mlskey_dict_get(&res.info, "removed_leaves"))
                print_u32s(info, "removed_leaves", res.removed_leaves, res.n_removed_leaves);
        /* Keys this mlskeyctl does not know, as they came. */
        for (size_t i = 0; i < res.info.n; i++) {
                bool is_known = false;

                for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
                        is_known = is_known || strcmp(res.info.entries[i].key, known[k]) == 0;
                if (is_known || info != stdout)
                        continue;
                printf("%s: ", res.info.entries[i].key);
                ctl_print_value(&res.info.entries[i]);
                fputc('\n', stdout);
        }
        fprintf(info, "content_length: %zu\n", res.content.len);
        if (a.out) {
                struct mlskey_buf content = { res.content.data, res.content.len, NULL };

                fflush(info);
                status = write_output(a.out, &content, a.hex);
        } else if (res.content.len) {
                ctl_print_hex_line("content", res.content.data, res.content.len);
        }
        mlskey_process_result_clear(&res);
        gargs_free(&a);
        return status;
}

/* ---- commits ---- */

static int
cmd_group_add(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_COMMIT_OUT, O_WELCOME_OUT, O_INLINE, O_FORCE_PATH,
                O_PSK_ID, O_MERGE, O_HEX, O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_data *kps = NULL;
        struct mlskey_buf commit = MLSKEY_BUF_INIT, welcome = MLSKEY_BUF_INIT;
        uint8_t **bufs = NULL;
        char *group = NULL;
        int r, status, nkp = 0;

        if ((status = parse(ctl, cmd, argc, argv, opts, 2, -1, &a)) != CTL_CONTINUE) {
                gargs_free(&a);
                return status;
        }
        if (!a.commit_out || !a.welcome_out) {
                status = ctl_usage(cmd, "--commit-out and --welcome-out are required");
        } else {
                nkp = a.npos - 1;
                status = read_key_packages(a.pos + 1, nkp, &kps, &bufs);
        }
        if (status == 0)
                status = ctl_resolve_group(ctl, a.pos[0], &group);
        if (status == 0)
                status = commit_opts(&a, &o);
        if (status == 0) {
                r = mlskey_group_add(ctl->client, group, kps, (size_t)nkp, o, &commit, &welcome);
                status = r < 0 ? ctl_fail(r) : finish_commit(ctl, group, &a, &commit, &welcome);
        }
        mlskey_buf_clear(&commit);
        mlskey_buf_clear(&welcome);
        mlskey_opts_free(o);
        free_bufs(bufs, nkp);
        free(kps);
        free(group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

static int
cmd_group_remove(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_COMMIT_OUT, O_WELCOME_OUT, O_INLINE, O_FORCE_PATH,
                O_PSK_ID, O_MERGE, O_HEX, O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_buf commit = MLSKEY_BUF_INIT;
        uint32_t *leaves = NULL;
        size_t n = 0;
        char *group = NULL;
        int r, status;

        if ((status = parse(ctl, cmd, argc, argv, opts, 2, -1, &a)) != CTL_CONTINUE) {
                gargs_free(&a);
                return status;
        }
        if (!a.commit_out)
                status = ctl_usage(cmd, "--commit-out is required");
        for (int i = 1; status == CTL_CONTINUE && i < a.npos; i++) {
                uint32_t leaf;

                if (ctl_parse_u32(a.pos[i], &leaf) < 0)
                        status = ctl_usage(cmd, "\"%s\" is not a leaf index", a.pos[i]);
                else if ((r = ctl_u32_push(&leaves, &n, leaf)) < 0)
                        status = ctl_fail_io("leaves", r);
        }
        if (status == CTL_CONTINUE)
                status = ctl_resolve_group(ctl, a.pos[0], &group);
        if (status == 0)
                status = commit_opts(&a, &o);
        if (status == 0) {
                r = mlskey_group_remove(ctl->client, group, leaves, n, o, &commit);
                status = r < 0 ? ctl_fail(r) : finish_commit(ctl, group, &a, &commit, NULL);
        }
        mlskey_buf_clear(&commit);
        mlskey_opts_free(o);
        free(leaves);
        free(group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

static int
cmd_group_update(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_COMMIT_OUT, O_FORCE_PATH, O_PSK_ID, O_MERGE, O_HEX, O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_buf commit = MLSKEY_BUF_INIT;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        if (status == 0 && group && !a.commit_out)
                status = ctl_usage(cmd, "--commit-out is required");
        if (status == 0 && group)
                status = commit_opts(&a, &o);
        if (status == 0 && group) {
                r = mlskey_group_update(ctl->client, group, o, &commit);
                status = r < 0 ? ctl_fail(r) : finish_commit(ctl, group, &a, &commit, NULL);
        }
        mlskey_buf_clear(&commit);
        mlskey_opts_free(o);
        free(group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

static int
cmd_group_commit(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_COMMIT_OUT, O_WELCOME_OUT, O_INLINE, O_FORCE_PATH,
                O_PSK_ID, O_MERGE, O_HEX, O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_buf commit = MLSKEY_BUF_INIT, welcome = MLSKEY_BUF_INIT;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        if (status == 0 && group && !a.commit_out)
                status = ctl_usage(cmd, "--commit-out is required");
        if (status == 0 && group)
                status = commit_opts(&a, &o);
        if (status == 0 && group) {
                r = mlskey_group_commit(ctl->client, group, o, &commit, &welcome);
                status = r < 0 ? ctl_fail(r) : finish_commit(ctl, group, &a, &commit, &welcome);
        }
        mlskey_buf_clear(&commit);
        mlskey_buf_clear(&welcome);
        mlskey_opts_free(o);
        free(group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

/* merge, clear, delete: GROUP and a call without results. */
static int
simple(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv,
       int (*fn)(struct mlskey_client *, const char *))
{
        struct gargs a;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, only_common, 1, 1, &a, &group);
        gargs_free(&a);
        if (status != 0 || !group)
                return status == CTL_CONTINUE ? 0 : status;
        r = fn(ctl->client, group);
        free(group);
        return r < 0 ? ctl_fail(r) : CTL_EXIT_OK;
}

static int
cmd_group_merge(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return simple(ctl, cmd, argc, argv, mlskey_group_merge_pending_commit);
}

static int
cmd_group_clear(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return simple(ctl, cmd, argc, argv, mlskey_group_clear_pending_commit);
}

static int
cmd_group_delete(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return simple(ctl, cmd, argc, argv, mlskey_group_delete);
}

/* ---- proposals ---- */

static int
cmd_group_propose(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_OUT, O_HEX,
                GOPT("key-package", required_argument, OPT_KEY_PACKAGE),
                GOPT("leaf", required_argument, OPT_LEAF),
                O_PSK_ID,
                GOPT("group-id", required_argument, OPT_GROUP_ID),
                GOPT("epoch", required_argument, OPT_EPOCH),
                GOPT("suite", required_argument, OPT_SUITE),
                GOPT("extensions", required_argument, OPT_EXTENSIONS),
                O_END,
        };
        struct gargs a;
        struct mlskey_buf prop = MLSKEY_BUF_INIT;
        uint8_t *file = NULL;
        size_t file_len = 0;
        const char *type;
        char *group = NULL;
        int r = 0, status;

        status = parse(ctl, cmd, argc, argv, opts, 2, 2, &a);
        if (status != CTL_CONTINUE) {
                gargs_free(&a);
                return status;
        }
        type = a.pos[1];
        if (!a.out)
                status = ctl_usage(cmd, "--out is required (\"-\" for stdout)");
        else if (strcmp(type, "add") == 0 && !a.key_package)
                status = ctl_usage(cmd, "add needs --key-package FILE");
        else if (strcmp(type, "remove") == 0 && !a.have_leaf)
                status = ctl_usage(cmd, "remove needs --leaf N");
        else if (strcmp(type, "external-psk") == 0 && a.n_psk_ids != 1)
                status = ctl_usage(cmd, "external-psk needs one --psk-id HEX");
        else if (strcmp(type, "resumption-psk") == 0 && (!a.have_group_id || !a.have_epoch))
                status = ctl_usage(cmd, "resumption-psk needs --group-id HEX and --epoch N");
        else if (strcmp(type, "group-context-extensions") == 0 && !a.extensions)
                status = ctl_usage(cmd, "group-context-extensions needs --extensions FILE");
        else if (strcmp(type, "reinit") == 0 && (!a.have_group_id || !a.have_suite))
                status = ctl_usage(cmd, "reinit needs --group-id HEX and --suite N "
                                        "(and --extensions FILE if any)");
        else if (strcmp(type, "add") != 0 && strcmp(type, "remove") != 0 &&
                 strcmp(type, "update") != 0 && strcmp(type, "external-psk") != 0 &&
                 strcmp(type, "resumption-psk") != 0 &&
                 strcmp(type, "group-context-extensions") != 0 && strcmp(type, "reinit") != 0)
                status = ctl_usage(cmd, "unknown proposal type \"%s\"", type);
        if (status == CTL_CONTINUE && (a.key_package || a.extensions))
                status = read_input(a.key_package ? a.key_package : a.extensions, &file,
                                    &file_len);
        if (status == CTL_CONTINUE || status == 0)
                status = ctl_resolve_group(ctl, a.pos[0], &group);
        if (status == 0) {
                if (strcmp(type, "add") == 0)
                        r = mlskey_group_propose_add(ctl->client, group, file, file_len, &prop);
                else if (strcmp(type, "remove") == 0)
                        r = mlskey_group_propose_remove(ctl->client, group, a.leaf, &prop);
                else if (strcmp(type, "update") == 0)
                        r = mlskey_group_propose_update(ctl->client, group, &prop);
                else if (strcmp(type, "external-psk") == 0)
                        r = mlskey_group_propose_external_psk(ctl->client, group,
                                                              a.psk_ids[0].data, a.psk_ids[0].len,
                                                              &prop);
                else if (strcmp(type, "resumption-psk") == 0)
                        r = mlskey_group_propose_resumption_psk(ctl->client, group, a.group_id,
                                                                a.group_id_len, a.epoch, &prop);
                else if (strcmp(type, "group-context-extensions") == 0)
                        r = mlskey_group_propose_group_context_extensions(ctl->client, group,
                                                                          file, file_len, &prop);
                else
                        r = mlskey_group_propose_reinit(ctl->client, group, a.group_id,
                                                        a.group_id_len, a.suite, file, file_len,
                                                        &prop);
                status = r < 0 ? ctl_fail(r) : write_output(a.out, &prop, a.hex);
        }
        mlskey_buf_clear(&prop);
        free(file);
        free(group);
        gargs_free(&a);
        return status;
}

/* A group command whose result is one byte string written to --out
 * (required; "-" for stdout). */
static int
group_blob_cmd(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv,
               int (*fn)(struct mlskey_client *c, const char *group, struct mlskey_buf *ret))
{
        static const struct option opts[] = { CTL_COMMON_OPTIONS, O_OUT, O_HEX, O_END };
        struct gargs a;
        struct mlskey_buf out = MLSKEY_BUF_INIT;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        if (status == 0 && group && !a.out)
                status = ctl_usage(cmd, "--out is required (\"-\" for stdout)");
        if (status == 0 && group) {
                r = fn(ctl->client, group, &out);
                status = r < 0 ? ctl_fail(r) : write_output(a.out, &out, a.hex);
        }
        mlskey_buf_clear(&out);
        free(group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

static int
cmd_group_leave(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return group_blob_cmd(ctl, cmd, argc, argv, mlskey_group_leave);
}

/* ---- reinit, branch ---- */

static int
new_group_cmd(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv, bool branch)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_WELCOME_OUT, O_INLINE, O_FORCE_PATH, O_PSK_ID, O_HEX,
                GOPT("group-id", required_argument, OPT_GROUP_ID),
                O_RETENTION,
                O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_data *kps = NULL;
        struct mlskey_buf welcome = MLSKEY_BUF_INIT;
        uint8_t **bufs = NULL;
        char *group = NULL, *new_group = NULL;
        int r, status, nkp = 0;

        if ((status = parse(ctl, cmd, argc, argv, opts, 1, -1, &a)) != CTL_CONTINUE) {
                gargs_free(&a);
                return status;
        }
        if (!a.welcome_out)
                status = ctl_usage(cmd, "--welcome-out is required");
        if (status == CTL_CONTINUE && branch && !a.have_group_id)
                status = ctl_usage(cmd, "--group-id is required");
        if (status == CTL_CONTINUE && !branch && a.have_group_id)
                status = ctl_usage(cmd, "reinit takes the group id of the ReInit proposal");
        if (status == CTL_CONTINUE) {
                nkp = a.npos - 1;
                status = read_key_packages(a.pos + 1, nkp, &kps, &bufs);
        }
        if (status == 0)
                status = ctl_resolve_group(ctl, a.pos[0], &group);
        if (status == 0)
                status = commit_opts(&a, &o);
        if (status == 0) {
                retention_opts(&a, o);
                r = branch ? mlskey_group_branch(ctl->client, group, a.group_id, a.group_id_len,
                                                 kps, (size_t)nkp, o, &new_group, &welcome)
                           : mlskey_group_reinit(ctl->client, group, kps, (size_t)nkp, o,
                                                 &new_group, &welcome);
                if (r < 0) {
                        status = ctl_fail(r);
                } else {
                        status = write_output(a.welcome_out, &welcome, a.hex);
                        printf("%s\n", new_group);
                }
        }
        mlskey_buf_clear(&welcome);
        mlskey_opts_free(o);
        free_bufs(bufs, nkp);
        free(kps);
        free(group);
        free(new_group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

static int
cmd_group_reinit(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return new_group_cmd(ctl, cmd, argc, argv, false);
}

static int
cmd_group_branch(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return new_group_cmd(ctl, cmd, argc, argv, true);
}

/* ---- group info, tree, export ---- */

static int
cmd_group_info(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_OUT, O_HEX, O_INLINE,
                GOPT("external-pub", no_argument, OPT_EXTERNAL_PUB),
                O_END,
        };
        struct gargs a;
        struct mlskey_opts *o = NULL;
        struct mlskey_buf gi = MLSKEY_BUF_INIT;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        if (status == 0 && group && !a.out)
                status = ctl_usage(cmd, "--out is required (\"-\" for stdout)");
        if (status == 0 && group && (r = mlskey_opts_new(&o)) < 0)
                status = ctl_fail(r);
        if (status == 0 && group) {
                if (a.external_pub)
                        mlskey_opts_add_bool(o, MLSKEY_OPT_EXTERNAL_PUB, true);
                if (a.inline_tree_set)
                        mlskey_opts_add_bool(o, MLSKEY_OPT_INLINE_TREE, a.inline_tree);
                r = mlskey_group_group_info(ctl->client, group, o, &gi);
                status = r < 0 ? ctl_fail(r) : write_output(a.out, &gi, a.hex);
        }
        mlskey_buf_clear(&gi);
        mlskey_opts_free(o);
        free(group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

static int
cmd_group_tree(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        return group_blob_cmd(ctl, cmd, argc, argv, mlskey_group_ratchet_tree);
}

static int
cmd_group_export(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS, O_OUT,
                GOPT("label", required_argument, OPT_LABEL),
                GOPT("context", required_argument, OPT_CONTEXT),
                GOPT("length", required_argument, OPT_LENGTH),
                O_END,
        };
        struct gargs a;
        struct mlskey_secret *secret = NULL;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        if (status == 0 && group && (!a.label || !a.have_length))
                status = ctl_usage(cmd, "--label and --length are required");
        if (status == 0 && group) {
                r = mlskey_group_export_secret(ctl->client, group, a.label, a.context,
                                               a.context_len, a.length, &secret);
                if (r < 0) {
                        status = ctl_fail(r);
                } else {
                        /* A file of its own (0600), or hex on stdout. */
                        r = a.out ? ctl_write_file(a.out, secret->data, secret->len, false, true)
                                  : ctl_write_file("-", secret->data, secret->len, true, false);
                        if (r < 0)
                                status = ctl_fail_io(a.out ? a.out : "standard output", r);
                }
        }
        mlskey_secret_free(secret);
        free(group);
        gargs_free(&a);
        return status == CTL_CONTINUE ? 0 : status;
}

/* ---- group wait ---- */

static int
cmd_group_wait(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
        static const struct option opts[] = {
                CTL_COMMON_OPTIONS,
                GOPT("epoch", required_argument, OPT_EPOCH),
                GOPT("max-wait", required_argument, OPT_MAX_WAIT),
                O_END,
        };
        struct gargs a;
        struct mlskey_epoch_event ev = MLSKEY_EPOCH_EVENT_INIT;
        uint64_t epoch = 0;
        char *group = NULL;
        int r, status;

        status = parse_group(ctl, cmd, argc, argv, opts, 1, 1, &a, &group);
        gargs_free(&a);
        if (status != 0 || !group)
                return status == CTL_CONTINUE ? 0 : status;
        /* Subscribe first, then look: no change can slip in between. */
        r = mlskey_client_subscribe_epoch_changed(ctl->client, group, NULL, NULL, NULL);
        if (r == 0 && a.have_epoch)
                r = mlskey_group_get_epoch(ctl->client, group, &epoch);
        if (r < 0) {
                free(group);
                return ctl_fail(r);
        }
        if (a.have_epoch && epoch >= a.epoch) {
                status = print_epoch(ctl, group);
                free(group);
                return status;
        }
        for (;;) {
                r = mlskey_client_wait_epoch_changed(ctl->client, group, a.max_wait_ms, &ev);
                if (r < 0) {
                        free(group);
                        return ctl_fail(r);
                }
                if (!a.have_epoch || ev.epoch >= a.epoch)
                        break;
                mlskey_epoch_event_clear(&ev);
        }
        printf("epoch: %llu\n", (unsigned long long)ev.epoch);
        ctl_print_hex_line("authenticator", ev.epoch_authenticator.data,
                           ev.epoch_authenticator.len);
        mlskey_epoch_event_clear(&ev);
        free(group);
        return CTL_EXIT_OK;
}

/* ---- manuals ---- */

#define COMMIT_DESC                                                                        \
        "The commit becomes the group's pending commit: send it to the delivery\n"        \
        "service, then run \"mlskeyctl group merge GROUP\" once it was accepted (or\n"    \
        "\"group clear GROUP\" if it was refused). --merge merges at once, for\n"         \
        "applications without a delivery service that orders commits. If the\n"          \
        "commit cannot be written, the pending commit is cleared."
#define COMMIT_OPTS                                                                        \
        "  --commit-out FILE  write the commit (MLSMessage) here (\"-\": stdout)\n"         \
        "  --force-path       include an UpdatePath even when not required\n"           \
        "  --psk-id HEX       include this external or resumption PSK (repeatable)\n"   \
        "  --merge            merge the pending commit right after writing it\n"         \
        "  --hex              write hex text instead of bytes\n"
#define INLINE_OPTS                                                                        \
        "  --no-inline-tree   leave the ratchet tree out of the Welcome (default: in)\n"  \
        "  --inline-tree      put the ratchet tree in the Welcome\n"

#define RETENTION_HELP                                                                     \
        "  --handshake MODE, --max-past-epochs N, --max-past-generations N,\n"             \
        "  --max-forward-distance N   this member's settings, as for \"group create\"\n"

static const struct ctl_help help_group_create = {
        .synopsis = "group create IDENTITY [--group-id HEX] [--handshake public|private]\n"
                    "              [--max-past-epochs N] [--max-past-generations N]\n"
                    "              [--max-forward-distance N] [--external-sender FILE]...\n"
                    "              [--required-capabilities FILE]",
        .summary = "create a group with IDENTITY as its only member",
        .description =
                "Creates a one-member group (epoch 0) for IDENTITY and prints its object\n"
                "path. Without --group-id the group id is 16 random bytes.",
        .options =
                "  --group-id HEX              the group id\n"
                "  --handshake MODE            send proposals and commits as \"public\"\n"
                "                              (PublicMessage) or \"private\" messages\n"
                "  --max-past-epochs N         epochs whose keys are kept for late messages\n"
                "  --max-past-generations N    message keys kept per sender (out of order)\n"
                "  --max-forward-distance N    how far a message may skip ahead\n"
                "  --external-sender FILE      an ExternalSender struct (repeatable)\n"
                "  --required-capabilities FILE  a RequiredCapabilities extension body\n",
        .examples = "mlskeyctl group create alice\n"
                    "mlskeyctl group create alice --group-id 6368617421 --handshake private",
};

static const struct ctl_help help_group_list = {
        .synopsis = "group list [-l]",
        .summary = "list the groups visible to you",
        .description = "Prints the object path of every group of your identities and of those\n"
                       "shared with you; with -l also its group id, epoch and size.",
        .options = "  -l, --long         print group_id=, epoch=, members=, identity=\n",
        .examples = "mlskeyctl group list -l",
};

static const struct ctl_help help_group_show = {
        .synopsis = "group show GROUP",
        .summary = "show a group's properties",
        .description = "Prints every property of GROUP (one snapshot) as \"key: value\" lines:\n"
                       "group_id, identity, epoch, cipher_suite, own_leaf, members (a count),\n"
                       "epoch_authenticator, pending_commit.",
        .examples = "mlskeyctl group show 5eed",
};

static const struct ctl_help help_group_members = {
        .synopsis = "group members GROUP",
        .summary = "list a group's members",
        .description = "Prints one line per member: leaf index, credential identity (text, or\n"
                       "hex:... if not printable), signature public key (hex); your own leaf\n"
                       "is marked \"(you)\".",
        .examples = "mlskeyctl group members 5eed",
};

static const struct ctl_help help_group_epoch = {
        .synopsis = "group epoch GROUP",
        .summary = "show the epoch and the epoch authenticator",
        .description =
                "Prints \"epoch: N\" and \"authenticator: HEX\" from one snapshot. Members in\n"
                "the same epoch have the same authenticator (RFC 9420 section 8.7):\n"
                "compare it out of band to detect a split view of the group.",
        .examples = "mlskeyctl group epoch 5eed",
};

static const struct ctl_help help_group_join = {
        .synopsis = "group join IDENTITY --welcome FILE [--tree FILE]",
        .summary = "join a group from a Welcome",
        .description = "Joins the group a Welcome (MLSMessage) invites IDENTITY to and prints\n"
                       "the new group's object path. --tree is needed only when the Welcome\n"
                       "does not carry the ratchet tree.",
        .options = "  --welcome FILE     the Welcome (\"-\": stdin)\n"
                   "  --tree FILE        the ratchet tree (ratchet_tree extension body)\n"
                   RETENTION_HELP,
        .examples = "mlskeyctl group join bob --welcome w.bin",
};

static const struct ctl_help help_group_external_join = {
        .synopsis = "group external-join IDENTITY --group-info FILE [--tree FILE]\n"
                    "              [--psk-id HEX]... [--remove-prior-leaf N] --commit-out FILE",
        .summary = "join a group by external commit",
        .description =
                "Joins from a GroupInfo that carries external_pub (see \"group info\n"
                "--external-pub\"), prints the new group's object path and writes the\n"
                "external commit, which must be sent to the group.",
        .options = "  --group-info FILE        the GroupInfo (MLSMessage)\n"
                   "  --tree FILE              the ratchet tree, if not in the GroupInfo\n"
                   "  --psk-id HEX             a PSK to include (repeatable)\n"
                   "  --remove-prior-leaf N    resync: remove our old leaf N\n"
                   "  --commit-out FILE        write the commit here (\"-\": stdout)\n"
                   "  --hex                    write hex text instead of bytes\n"
                   RETENTION_HELP,
        .examples = "mlskeyctl group external-join carol --group-info gi.bin --commit-out c.bin",
};

static const struct ctl_help help_group_encrypt = {
        .synopsis = "group encrypt GROUP [--in FILE] [--aad HEX | --aad-file FILE] --out FILE [--hex]",
        .summary = "encrypt application data to a PrivateMessage",
        .description = "Encrypts the input as application data of GROUP and writes the\n"
                       "PrivateMessage (MLSMessage) to send. ProposalsPending means received\n"
                       "proposals must be committed first.",
        .options = "  -i, --in FILE      the plaintext (\"-\": stdin, the default)\n"
                   "  --aad HEX          authenticated data, sent in clear\n"
                   "  --aad-file FILE    authenticated data from a file\n"
                   "  -o, --out FILE     write the message here (\"-\": stdout)\n"
                   "  --hex              write hex text instead of bytes\n",
        .examples = "echo hello | mlskeyctl group encrypt 5eed --out ct.bin",
};

static const struct ctl_help help_group_process = {
        .synopsis = "group process GROUP [--in FILE] [--out FILE] [--hex]",
        .summary = "process a message for the group (decrypt, apply a commit)",
        .description =
                "Hands any MLSMessage for GROUP to the daemon, which validates it fully.\n"
                "Prints what it was as \"key: value\" lines: kind (application, proposal,\n"
                "commit), sender, epoch, authenticated_data, removed (true when the commit\n"
                "removed you), added, removed_leaves, content_length. The content (the\n"
                "plaintext of application data, the proposal) goes to --out, or is\n"
                "printed as \"content: HEX\". With \"--out -\" the lines go to stderr.",
        .options = "  -i, --in FILE      the message (\"-\": stdin, the default)\n"
                   "  -o, --out FILE     write the content here (\"-\": stdout)\n"
                   "  --hex              write the content as hex text\n",
        .examples = "mlskeyctl group process 5eed --in ct.bin --out msg.txt",
};

static const struct ctl_help help_group_add = {
        .synopsis = "group add GROUP KEYPACKAGE_FILE... --commit-out FILE --welcome-out FILE\n"
                    "              [--no-inline-tree] [--force-path] [--psk-id HEX]... [--merge]",
        .summary = "commit adding members (makes a commit and a Welcome)",
        .description = "Builds a commit that adds one member per KeyPackage file, and the\n"
                       "Welcome for the new members.\n" COMMIT_DESC,
        .options = COMMIT_OPTS "  --welcome-out FILE write the Welcome here\n" INLINE_OPTS,
        .examples = "mlskeyctl group add 5eed bob.kp --commit-out c.bin --welcome-out w.bin\n"
                    "mlskeyctl group merge 5eed",
};

static const struct ctl_help help_group_remove = {
        .synopsis = "group remove GROUP LEAF... --commit-out FILE [--force-path]\n"
                    "              [--psk-id HEX]... [--merge]",
        .summary = "commit removing members",
        .description = "Builds a commit that removes the members at the given leaf indexes\n"
                       "(see \"group members\").\n" COMMIT_DESC,
        .options = COMMIT_OPTS,
        .examples = "mlskeyctl group remove 5eed 1 --commit-out c.bin --merge",
};

static const struct ctl_help help_group_update = {
        .synopsis = "group update GROUP --commit-out FILE [--merge]",
        .summary = "commit a self-update (fresh keys: post-compromise security)",
        .description = "Builds a commit with a fresh UpdatePath of your own leaf.\n" COMMIT_DESC,
        .options = COMMIT_OPTS,
        .examples = "mlskeyctl group update 5eed --commit-out c.bin",
};

static const struct ctl_help help_group_commit = {
        .synopsis = "group commit GROUP --commit-out FILE [--welcome-out FILE]\n"
                    "              [--no-inline-tree] [--force-path] [--psk-id HEX]... [--merge]",
        .summary = "commit the proposals received or made since the last commit",
        .description = "Builds a commit of every cached proposal (see \"group propose\" and\n"
                       "\"group process\"); a Welcome is written when it adds members.\n"
                       COMMIT_DESC,
        .options = COMMIT_OPTS "  --welcome-out FILE write the Welcome here\n" INLINE_OPTS,
        .examples = "mlskeyctl group commit 5eed --commit-out c.bin --welcome-out w.bin",
};

static const struct ctl_help help_group_merge = {
        .synopsis = "group merge GROUP",
        .summary = "merge the pending commit (the delivery service accepted it)",
        .description = "Moves GROUP to the epoch of its pending commit. NoPendingCommit if there\n"
                       "is none.",
        .examples = "mlskeyctl group merge 5eed",
};

static const struct ctl_help help_group_clear = {
        .synopsis = "group clear GROUP",
        .summary = "discard the pending commit (the delivery service refused it)",
        .description = "Forgets GROUP's pending commit; the group stays in its epoch.",
        .examples = "mlskeyctl group clear 5eed",
};

static const struct ctl_help help_group_propose = {
        .synopsis = "group propose GROUP TYPE [ARGUMENTS] --out FILE [--hex]",
        .summary = "make a proposal to send (it is cached for your own commit too)",
        .description =
                "TYPE and its arguments:\n"
                "  add                       --key-package FILE\n"
                "  remove                    --leaf N\n"
                "  update\n"
                "  external-psk              --psk-id HEX\n"
                "  resumption-psk            --group-id HEX --epoch N\n"
                "  group-context-extensions  --extensions FILE (an extensions vector)\n"
                "  reinit                    --group-id HEX --suite N [--extensions FILE]\n"
                "Writes the proposal (MLSMessage).",
        .options = "  -o, --out FILE     write the proposal here (\"-\": stdout)\n"
                   "  --hex              write hex text instead of bytes\n",
        .examples = "mlskeyctl group propose 5eed remove --leaf 2 --out p.bin",
};

static const struct ctl_help help_group_leave = {
        .synopsis = "group leave GROUP --out FILE [--hex]",
        .summary = "make a proposal removing yourself (another member commits it)",
        .description = "Writes a Remove proposal for your own leaf; send it to the group.",
        .options = "  -o, --out FILE     write the proposal here (\"-\": stdout)\n"
                   "  --hex              write hex text instead of bytes\n",
        .examples = "mlskeyctl group leave 5eed --out leave.bin",
};

static const struct ctl_help help_group_reinit = {
        .synopsis = "group reinit GROUP [KEYPACKAGE_FILE...] --welcome-out FILE",
        .summary = "after a ReInit commit: create the new group",
        .description = "Creates the group a merged ReInit commit announced, with the members of\n"
                       "the KeyPackages (of the new suite), prints its object path and writes\n"
                       "the Welcome for them.",
        .options = "  --welcome-out FILE write the Welcome here (\"-\": stdout)\n" INLINE_OPTS
                   "  --hex              write hex text instead of bytes\n" RETENTION_HELP,
        .examples = "mlskeyctl group reinit 5eed bob2.kp --welcome-out w.bin",
};

static const struct ctl_help help_group_branch = {
        .synopsis = "group branch GROUP --group-id HEX [KEYPACKAGE_FILE...] --welcome-out FILE",
        .summary = "create a subgroup linked by a resumption PSK",
        .description = "Creates a new group (id HEX) of some of GROUP's members, linked to\n"
                       "GROUP's current epoch by a resumption PSK (RFC 9420 section 11.3);\n"
                       "prints its object path and writes the Welcome.",
        .options = "  --group-id HEX     the new group's id (required)\n"
                   "  --welcome-out FILE write the Welcome here (\"-\": stdout)\n" INLINE_OPTS
                   "  --hex              write hex text instead of bytes\n" RETENTION_HELP,
        .examples = "mlskeyctl group branch 5eed --group-id 0102 bob.kp --welcome-out w.bin",
};

static const struct ctl_help help_group_info = {
        .synopsis = "group info GROUP --out FILE [--external-pub] [--no-inline-tree] [--hex]",
        .summary = "write a signed GroupInfo",
        .description = "Writes a GroupInfo (MLSMessage) of the current epoch. With\n"
                       "--external-pub it carries the external_pub extension, so that others\n"
                       "can join by external commit (\"group external-join\").",
        .options = "  -o, --out FILE     write the GroupInfo here (\"-\": stdout)\n"
                   "  --external-pub     include external_pub\n"
                   "  --inline-tree      include the ratchet tree (a joiner needs the tree:\n"
                   "                     in the GroupInfo, or given with --tree)\n"
                   "  --no-inline-tree   leave the ratchet tree out\n"
                   "  --hex              write hex text instead of bytes\n",
        .examples = "mlskeyctl group info 5eed --external-pub --inline-tree --out gi.bin\n"
                    "mlskeyctl group external-join carol --group-info gi.bin --commit-out c.bin",
};

static const struct ctl_help help_group_tree = {
        .synopsis = "group tree GROUP --out FILE [--hex]",
        .summary = "write the ratchet tree (public part)",
        .description = "Writes the group's ratchet tree as a ratchet_tree extension body, for\n"
                       "joiners whose Welcome or GroupInfo does not carry it.",
        .options = "  -o, --out FILE     write the tree here (\"-\": stdout)\n"
                   "  --hex              write hex text instead of bytes\n",
        .examples = "mlskeyctl group tree 5eed --out tree.bin",
};

static const struct ctl_help help_group_export = {
        .synopsis = "group export GROUP --label LABEL [--context HEX] --length N [--out FILE]",
        .summary = "derive a secret with the MLS exporter (policy gated)",
        .description =
                "Derives MLS-Exporter(LABEL, context, N) of the current epoch (RFC 9420\n"
                "section 8.5). The administrator's policy decides who may (default: the\n"
                "identity's owner; PolicyDenied otherwise). Prints hex on stdout, or\n"
                "writes the bytes to FILE (created with mode 0600).",
        .options = "  --label LABEL      the exporter label (required)\n"
                   "  --context HEX      the context (default empty)\n"
                   "  --length N         bytes to derive (required)\n"
                   "  -o, --out FILE     write the bytes here instead of hex on stdout\n",
        .examples = "mlskeyctl group export 5eed --label \"srtp key\" --length 32 --out k.bin",
};

static const struct ctl_help help_group_delete = {
        .synopsis = "group delete GROUP",
        .summary = "forget a group (its state is erased in the daemon)",
        .description = "Deletes GROUP's state. Members are not told: leave first if they\n"
                       "should be.",
        .examples = "mlskeyctl group delete 5eed",
};

static const struct ctl_help help_group_wait = {
        .synopsis = "group wait GROUP [--epoch N] [--max-wait SEC]",
        .summary = "wait for the group's next epoch change (EpochChanged)",
        .description = "Waits until GROUP's epoch changes (or reaches N), then prints the new\n"
                       "epoch and its authenticator like \"group epoch\".",
        .options = "  --epoch N          wait until the epoch is at least N (returns at once\n"
                   "                     if it already is)\n"
                   "  --max-wait SEC     give up after SEC seconds (Timeout, exit 1)\n",
        .examples = "mlskeyctl group wait 5eed --epoch 3 --max-wait 10",
};

const struct ctl_command ctl_group_commands[] = {
        { "group", "create", cmd_group_create, &help_group_create },
        { "group", "list", cmd_group_list, &help_group_list },
        { "group", "show", cmd_group_show, &help_group_show },
        { "group", "members", cmd_group_members, &help_group_members },
        { "group", "epoch", cmd_group_epoch, &help_group_epoch },
        { "group", "join", cmd_group_join, &help_group_join },
        { "group", "external-join", cmd_group_external_join, &help_group_external_join },
        { "group", "encrypt", cmd_group_encrypt, &help_group_encrypt },
        { "group", "process", cmd_group_process, &help_group_process },
        { "group", "add", cmd_group_add, &help_group_add },
        { "group", "remove", cmd_group_remove, &help_group_remove },
        { "group", "update", cmd_group_update, &help_group_update },
        { "group", "commit", cmd_group_commit, &help_group_commit },
        { "group", "merge", cmd_group_merge, &help_group_merge },
        { "group", "clear", cmd_group_clear, &help_group_clear },
        { "group", "propose", cmd_group_propose, &help_group_propose },
        { "group", "leave", cmd_group_leave, &help_group_leave },
        { "group", "reinit", cmd_group_reinit, &help_group_reinit },
        { "group", "branch", cmd_group_branch, &help_group_branch },
        { "group", "info", cmd_group_info, &help_group_info },
        { "group", "tree", cmd_group_tree, &help_group_tree },
        { "group", "export", cmd_group_export, &help_group_export },
        { "group", "delete", cmd_group_delete, &help_group_delete },
        { "group", "wait", cmd_group_wait, &help_group_wait },
        { NULL, NULL, NULL, NULL },
};
