/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-bench <subcommand> [options]
 *
 * Prints performance figures (medians of many repetitions); it checks
 * nothing about them. Subcommands live in tools/bench/<name>.c as
 * `int bench_<name>(int argc, char **argv)` and are weak references here,
 * so one that is not linked in yet reports "not built".
 *
 *   crypto   per cipher suite: sign, verify, HPKE seal/open,
 *            DeriveKeyPair, 1 KiB AEAD seal
 *   frame    per cipher suite: PrivateMessage protect/unprotect of a signed
 *            1 KiB application message, PublicMessage of a proposal
 *   group    group operations (commit, add, process)
 *   dbus     round trips through the daemon's D-Bus API
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "mls/crypto.h"
#include "tools/bench/bench.h"

#define MLS_BENCH_NCMDS(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*bench_fn)(int argc, char **argv);

#define BENCH_DECLARE(fn) extern __typeof__(fn) fn __attribute__((weak))
BENCH_DECLARE(bench_crypto);
BENCH_DECLARE(bench_frame);
BENCH_DECLARE(bench_group);
BENCH_DECLARE(bench_dbus);

struct bench_cmd {
        const char *name;
        bench_fn fn;
        const char *what;
};

static void
usage(FILE *f, const struct bench_cmd *cmds, size_t n)
{
        fprintf(f, "usage: mlskey-bench <subcommand> [options]\n"
                   "       mlskey-bench <subcommand> --help\n\nsubcommands:\n");
        for (size_t i = 0; i < n; i++)
                fprintf(f, "  %-8s %s%s\n", cmds[i].name, cmds[i].what,
                        cmds[i].fn ? "" : " (not built)");
}

int
main(int argc, char **argv)
{
        /* Built at run time: weak symbols are not constant expressions
         * everywhere. */
        const struct bench_cmd cmds[] = {
                { "crypto", bench_crypto, "cipher-suite primitives, HPKE, DeriveKeyPair" },
                { "frame", bench_frame, "message protection (PrivateMessage, PublicMessage)" },
                { "group", bench_group, "MLS group operations" },
                { "dbus", bench_dbus, "daemon round trips over D-Bus" },
        };

        if (argc < 2) {
                usage(stderr, cmds, MLS_BENCH_NCMDS(cmds));
                return 2;
        }
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                usage(stdout, cmds, MLS_BENCH_NCMDS(cmds));
                return 0;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "mlskey-bench: sodium_init failed\n");
                return 1;
        }
        for (size_t i = 0; i < MLS_BENCH_NCMDS(cmds); i++) {
                if (strcmp(argv[1], cmds[i].name) != 0)
                        continue;
                if (!cmds[i].fn) {
                        fprintf(stderr, "mlskey-bench: subcommand '%s' not built\n",
                                cmds[i].name);
                        return 2;
                }
                return cmds[i].fn(argc - 1, argv + 1);
        }
        fprintf(stderr, "mlskey-bench: unknown subcommand '%s'\n", argv[1]);
        usage(stderr, cmds, MLS_BENCH_NCMDS(cmds));
        return 2;
}

static void
per_suite_usage(FILE *f, const char *name, size_t default_iterations)
{
        fprintf(f, "usage: mlskey-bench %s [--suite S] [--iterations N]\n"
                   "  --suite S        only cipher suite S (1-7); default all\n"
                   "  --iterations N   timed repetitions per operation (default %zu)\n",
                name, default_iterations);
}

int
bench_run_per_suite(const char *name, int argc, char **argv, size_t default_iterations,
                    int (*one)(const struct mls_suite *s, size_t iterations, uint64_t *samples))
{
        size_t iterations = default_iterations, n_ids;
        const uint16_t *ids = mls_suite_ids(&n_ids);
        const struct mls_suite *only = NULL;
        uint64_t *samples;
        int rc = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        per_suite_usage(stdout, name, default_iterations);
                        return 0;
                } else if (strcmp(argv[i], "--suite") == 0 && i + 1 < argc) {
                        size_t id = bench_parse_count(argv[++i]);

                        only = id <= UINT16_MAX ? mls_suite_get((uint16_t)id) : NULL;
                        if (!only) {
                                fprintf(stderr, "mlskey-bench %s: unknown suite '%s'\n", name,
                                        argv[i]);
                                return 2;
                        }
                } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
                        iterations = bench_parse_count(argv[++i]);
                        if (!iterations) {
                                fprintf(stderr, "mlskey-bench %s: bad iteration count\n", name);
                                return 2;
                        }
                } else {
                        per_suite_usage(stderr, name, default_iterations);
                        return 2;
                }
        }
        samples = calloc(iterations, sizeof(*samples));
        if (!samples) {
                fprintf(stderr, "mlskey-bench: out of memory\n");
                return 1;
        }
        for (size_t i = 0; i < n_ids && rc == 0; i++) {
                const struct mls_suite *s = mls_suite_get(ids[i]);

                if (only && s != only)
                        continue;
                rc = one(s, iterations, samples);
        }
        free(samples);
        return rc;
}
