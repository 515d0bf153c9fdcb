/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskey-bench: subcommands and the timing helpers they share.
 *
 * Each subcommand is `int bench_<name>(int argc, char **argv)` in its own
 * file tools/bench/<name>.c (argv[0] is the subcommand name), declared weak
 * in tools/mlskey-bench.c: a subcommand whose file is not linked in says
 * "not built". It returns the process exit status (0 ok, 2 usage error,
 * 1 failure).
 *
 * A benchmark prints figures; it never asserts timings. Report the MEDIAN
 * of many individually timed repetitions (CLOCK_MONOTONIC), one line per
 * measurement, e.g. "suite 1 sign: median 0.021 ms (n=2000)".
 */
#ifndef MLS_BENCH_H
#define MLS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

int bench_crypto(int argc, char **argv);
int bench_frame(int argc, char **argv);
int bench_group(int argc, char **argv);
int bench_dbus(int argc, char **argv);

/* tools/bench/floor.c: forks the architecture's floor (a D-Bus "broker"
 * owning BENCH_FLOOR_NAME, an "engine" and an Ed25519 "vault" behind
 * socketpairs) on the bus at addr; returns the broker's pid (the others die
 * with it), -1 on error. Methods Ping() -> (), Hops(ay) -> ay and
 * Sign(ay) -> ay. busy_poll_us: the broker polls for the engine's answer
 * without sleeping for up to that long, as mlskeyd's [performance]
 * busy_poll does (0: it sleeps in read). */
#define BENCH_FLOOR_NAME "org.mlskeyd.BenchFloor"
#define BENCH_FLOOR_PATH "/org/mlskeyd/BenchFloor"
#define BENCH_FLOOR_IFACE "org.mlskeyd.BenchFloor"
#include <sys/types.h>
pid_t bench_floor_start(const char *addr, unsigned busy_poll_us);

struct mls_suite;
/* The per-suite driver shared by subcommands that time one suite at a time
 * ("crypto", "frame"): parses [--suite S] [--iterations N], allocates the
 * sample buffer and calls one(s, iterations, samples) for every suite (or
 * the one asked for). Returns the exit status. */
int bench_run_per_suite(const char *name, int argc, char **argv, size_t default_iterations,
                        int (*one)(const struct mls_suite *s, size_t iterations,
                                   uint64_t *samples));

/* Monotonic time in nanoseconds. */
static inline uint64_t
bench_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int
bench_cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* Sorts v[0..n) in place and returns the median in nanoseconds (the mean
 * of the two middle values for even n). n must be > 0. */
static inline double
bench_median_ns(uint64_t *v, size_t n)
{
        qsort(v, n, sizeof(*v), bench_cmp_u64);
        if (n % 2)
                return (double)v[n / 2];
        return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

/* Parses a positive decimal count; 0 on error. */
static inline size_t
bench_parse_count(const char *s)
{
        char *end;
        unsigned long long v;

        if (!s || *s < '0' || *s > '9')
                return 0;
        v = strtoull(s, &end, 10);
        if (*end || v == 0 || v > 100000000ull)
                return 0;
        return (size_t)v;
}

#endif
