/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The broker (DESIGN.md section 2): the process the service manager
 * starts. It owns org.mlskeyd.Daemon1 on the bus, identifies and checks
 * every caller, validates arguments, forwards requests to the engine,
 * makes the engine's sealed writes durable in the state directory before
 * it answers, and restarts its children (engine and vault) when they die.
 * It never holds a secret of its own.
 */
#ifndef MKD_BROKER_H
#define MKD_BROKER_H

#include "mls/common.h"
#include "daemon/policy.h"

enum mkd_bus_kind {
        MKD_BUS_SESSION,
        MKD_BUS_SYSTEM,
};

struct mkd_broker_options {
        enum mkd_bus_kind bus;
        const char *bus_address; /* NULL: the bus of `bus` */
        const char *state_dir;   /* NULL: the default of `bus` */
        const char *config;      /* NULL: MKD_POLICY_PATH */
        int log_level;           /* enum mkd_log_level */
};

/* Runs the daemon until SIGTERM/SIGINT or the loss of the bus. Returns the
 * process exit status. */
int mkd_broker_main(const struct mkd_broker_options *opt);

/* The default state directory of a bus kind (the session one in buf,
 * whose parents it creates); NULL when HOME is not set. */
const char *mkd_default_state_dir(enum mkd_bus_kind bus, char *buf, size_t len);

#endif
