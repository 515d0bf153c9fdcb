#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration tests that need the daemon's test-only ops (configure
# --enable-test-ops; both builds of scripts/test have them): the same
# private buses as daemon.sh, only these tests. make check lists this
# script only in a build with the ops; run by hand against a daemon
# without them, each test says so and the script exits 77.
#   forbidden-syscall  the engine's seccomp filter kills it (SIGSYS), the
#                      broker restarts it, nothing is lost
#   secret-scan        no secret the engine held crosses either bus
#   self-update        [update] interval: SelfUpdateReady, delivered and
#                      merged; the clock survives a restart (needs the
#                      test-only MKD_TEST_UPDATE_INTERVAL_MS override)
#   storage-failure    a batch of writes that cannot be stored (injected)
#                      is never acknowledged; after the restart every
#                      message decrypts exactly once
export MKD_ITEST_ONLY="forbidden-syscall secret-scan self-update storage-failure"
exec bash "$(dirname "$0")/daemon.sh"
