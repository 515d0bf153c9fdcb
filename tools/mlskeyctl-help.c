/* SPDX-License-Identifier: Apache-2.0 */
/* mlskeyctl: the command tables' lookup and the manual-page formatter. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tools/mlskeyctl.h"

static const struct ctl_command *const tables[] = {
        ctl_misc_commands,
        ctl_identity_commands,
        ctl_group_commands,
};

const struct ctl_command *
ctl_command_find(const char *word, const char *name)
{
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct ctl_command *c = tables[t]; c->name; c++)
                        if (!c->group && strcmp(c->name, word) == 0)
                                return c;
        if (!name)
                return NULL;
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct ctl_command *c = tables[t]; c->name; c++)
                        if (c->group && strcmp(c->group, word) == 0 && strcmp(c->name, name) == 0)
                                return c;
        return NULL;
}

bool
ctl_is_group(const char *word)
{
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct ctl_command *c = tables[t]; c->name; c++)
                        if (c->group && strcmp(c->group, word) == 0)
                                return true;
        return false;
}

/* Prints text with every line indented by indent spaces. */
static void
indented(FILE *f, const char *text, int indent)
{
        const char *p = text;

        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);

                if (n)
                        fprintf(f, "%*s%.*s\n", indent, "", (int)n, p);
                else
                        fputc('\n', f);
                p += n + (nl ? 1 : 0);
        }
}

static void
command_name(FILE *f, const struct ctl_command *c)
{
        if (c->group)
                fprintf(f, "%s %s", c->group, c->name);
        else
                fputs(c->name, f);
}

static const char common_options[] =
        "  --system           talk to the daemon on the system bus (shared identities)\n"
        "  --session          talk to the daemon on the session bus (the default)\n"
        "  --address ADDR     talk to the daemon on the bus at this D-Bus address\n"
        "  --timeout SEC      give up a call after SEC seconds (default 25)\n"
        "  -h, --help         show this manual\n";

static const char exit_status[] =
        "0  success\n"
        "1  the daemon refused (printed as \"mlskeyctl: <Name>: <sentence>\", where\n"
        "   Name is the D-Bus error org.mlskeyd.Error.<Name>), or the bus or a file\n"
        "   failed\n"
        "2  usage error (unknown command or option, missing or malformed argument)\n";

void
ctl_help_print(const struct ctl_command *cmd)
{
        const struct ctl_help *h = cmd->help;

        printf("NAME\n    mlskeyctl ");
        command_name(stdout, cmd);
        printf(" - %s\n\nSYNOPSIS\n    mlskeyctl %s\n", h->summary, h->synopsis);
        if (h->description) {
                printf("\nDESCRIPTION\n");
                indented(stdout, h->description, 4);
        }
        printf("\nOPTIONS\n");
        if (h->options)
                indented(stdout, h->options, 2);
        printf("  Common options (before or after the command):\n");
        indented(stdout, common_options, 2);
        printf("\nEXIT STATUS\n");
        indented(stdout, exit_status, 4);
        if (h->examples) {
                printf("\nEXAMPLES\n");
                indented(stdout, h->examples, 4);
        }
        printf("\nSEE ALSO\n    mlskeyctl(1), libmlskey(3), mlskeyd(8)\n");
}

void
ctl_help_group(FILE *f, const char *group)
{
        fprintf(f, "Commands of \"%s\":\n", group);
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct ctl_command *c = tables[t]; c->name; c++)
                        if (c->group && strcmp(c->group, group) == 0)
                                fprintf(f, "  %s %-22s %s\n", c->group, c->name, c->help->summary);
}

void
ctl_help_overview(void)
{
        printf("Usage: mlskeyctl [--system | --session | --address ADDR] [--timeout SEC]\n"
               "                 COMMAND [ARGUMENTS] [OPTIONS]\n\n"
               "Controls mlskeyd, the MLS (RFC 9420) key-management daemon, over D-Bus.\n"
               "Identities and groups are named by object path, by hex id (the last element\n"
               "of the path), or by their credential identity / group id (as text or hex).\n"
               "Binary inputs and outputs are files; \"-\" means stdin or stdout.\n\n"
               "Commands:\n");
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct ctl_command *c = tables[t]; c->name; c++) {
                        char name[64];

                        snprintf(name, sizeof(name), "%s%s%s", c->group ? c->group : "",
                                 c->group ? " " : "", c->name);
                        printf("  %-26s %s\n", name, c->help->summary);
                }
        printf("\nCommon options:\n%s", common_options);
        printf("  -V, --version      print the version of mlskeyctl\n");
        printf("\nExit status:\n");
        indented(stdout, exit_status, 2);
        printf("\n\"mlskeyctl COMMAND --help\" shows a command's manual; man mlskeyctl(1).\n");
}
