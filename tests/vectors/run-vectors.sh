#!/bin/bash
# Runs every working-group vector file through tools/mlskey-vectors.
# One line per file; fails if any case fails. Skipped cases (a runner or a
# suite not built yet) are reported with their reason on stderr.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
exec "$top_builddir/tools/mlskey-vectors" "$top_srcdir"/tests/vectors/*.json
