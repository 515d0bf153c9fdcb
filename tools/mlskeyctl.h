/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskeyctl: shared declarations of its source files. Commands are rows
 * {group, name, run, help}; each command file exports its table.
 *
 * Exit status: 0 success, 1 the daemon or the system refused (printed as
 * "mlskeyctl: <Name>: <sentence>"), 2 usage error.
 */
#ifndef MLSKEYCTL_H
#define MLSKEYCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client-lib/mlskey.h"
#include "tools/mlskeyctl-util.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2
/* From ctl_common_option: the option was a common one, go on parsing. */
#define CTL_CONTINUE (-1)

enum ctl_bus {
        CTL_BUS_DEFAULT, /* session bus, or $MLSKEYCTL_ADDRESS if set */
        CTL_BUS_SESSION,
        CTL_BUS_SYSTEM,
        CTL_BUS_ADDRESS,
};

struct ctl {
        enum ctl_bus bus;
        const char *address;
        int timeout_ms; /* 0: the library's default */
        struct mlskey_client *client; /* connected on first use */
};

/* A command's manual page. Multi-line strings; the formatter indents. */
struct ctl_help {
        const char *synopsis;    /* without "mlskeyctl " */
        const char *summary;     /* one line for the overview */
        const char *description;
        const char *options;     /* "  --x FILE    what\n" lines; NULL: none */
        const char *examples;
};

struct ctl_command {
        const char *group; /* "identity"; NULL for a top-level command */
        const char *name;  /* "create" */
        /* argv[0] is the command's last word; options follow anywhere. */
        int (*run)(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv);
        const struct ctl_help *help;
};

extern const struct ctl_command ctl_misc_commands[];
extern const struct ctl_command ctl_identity_commands[];
extern const struct ctl_command ctl_group_commands[];

/* Option values of the common options; command options use other values
 * (letters, or CTL_OPT_FIRST + n). */
enum {
        CTL_OPT_SYSTEM = 0x1000,
        CTL_OPT_SESSION,
        CTL_OPT_ADDRESS,
        CTL_OPT_TIMEOUT,
        CTL_OPT_FIRST = 0x1100,
};

/* Every command's getopt table starts with these. */
#define CTL_COMMON_OPTIONS                                       \
        { "help", no_argument, NULL, 'h' },                      \
        { "system", no_argument, NULL, CTL_OPT_SYSTEM },         \
        { "session", no_argument, NULL, CTL_OPT_SESSION },       \
        { "address", required_argument, NULL, CTL_OPT_ADDRESS }, \
        { "timeout", required_argument, NULL, CTL_OPT_TIMEOUT }

/* Handles a common option or getopt's '?'/':': CTL_CONTINUE, or an exit
 * status (0 after --help, 2 after a usage error). */
int ctl_common_option(struct ctl *ctl, const struct ctl_command *cmd, int opt,
                      const char *arg);

/* Prints "mlskeyctl: " + message and a hint at --help; returns 2. */
int ctl_usage(const struct ctl_command *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Prints "mlskeyctl: <Name>: <sentence>" for a library error r (from
 * mlskey_last_error()); returns 1. */
int ctl_fail(int r);
/* Prints "mlskeyctl: <what>: <strerror or error text>" for a helper's r
 * (INTERNAL_ERROR means errno); returns 1. */
int ctl_fail_io(const char *what, int r);

/* Connects on first use; 0 or an exit status (printed). */
int ctl_connect(struct ctl *ctl);

/* An identity or group named by object path, hex id (the path's last
 * element), hex credential identity / group id, or the text of a
 * credential identity / group id. *ret_path malloc'd. 0 or exit status. */
int ctl_resolve_identity(struct ctl *ctl, const char *arg, char **ret_path);
int ctl_resolve_group(struct ctl *ctl, const char *arg, char **ret_path);

/* Text for humans: printable bytes as they are, else "hex:<hex>". The
 * result is malloc'd (NULL when out of memory). */
char *ctl_bytes_display(const uint8_t *p, size_t len);
/* Prints "<label>: <hex>\n" (or "<label>: \n" for nothing). */
void ctl_print_hex_line(const char *label, const uint8_t *p, size_t len);
/* Prints a decoded dictionary value (no newline). */
void ctl_print_value(const struct mlskey_value *v);

/* The help formatter (mlskeyctl-help.c). */
void ctl_help_print(const struct ctl_command *cmd);
void ctl_help_overview(void);
/* The commands of one group ("identity"), one line each. */
void ctl_help_group(FILE *f, const char *group);
bool ctl_is_group(const char *word);
/* A top-level command named word, else the command "word name" (name
 * may be NULL); NULL if none. */
const struct ctl_command *ctl_command_find(const char *word, const char *name);

#endif
