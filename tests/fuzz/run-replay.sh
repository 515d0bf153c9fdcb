#!/bin/bash
# Replays every fuzz target's seed corpus (tests/fuzz/corpus/<target>/)
# through its replay binary (tests/fuzz/replay_<target>). Every replay
# binary must have a non-empty corpus.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
n=0
for bin in "$top_builddir"/tests/fuzz/replay_*; do
        [ -x "$bin" ] || continue
        t=${bin##*/replay_}
        corpus="$top_srcdir/tests/fuzz/corpus/$t"
        if [ ! -d "$corpus" ]; then
                echo "missing corpus folder $corpus for $t" >&2
                exit 1
        fi
        "$bin" "$corpus"
        n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no replay binaries found" >&2; exit 1; }
echo "fuzz replay: $n targets, 0 failed"
