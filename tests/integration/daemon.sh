#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration tests of mlskeyd (tests/integration/mkd-itest.c): two private
# dbus-daemons (config files written here), the real daemon binary, a second
# uid for the access tests (created with useradd when run as root; without
# root that one test is skipped, and says so). Exit 77 = skip, 99 = error.
set -u
: "${top_builddir:?}"
bin="$top_builddir/mlskeyd"
itest="$top_builddir/tests/integration/mkd-itest"
for t in dbus-daemon setpriv; do
        command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x "$bin" ] && [ -x "$itest" ] || { echo "missing $bin or $itest"; exit 99; }

. "$(dirname "$0")/lib.sh"
itest_tmp mkd-itest

export MKD_BIN="$bin" MKD_TMP="$tmp"
start_bus a
start_bus b
MKD_BUS_A=$(head -n1 "$tmp/a.addr")
MKD_BUS_B=$(head -n1 "$tmp/b.addr")
export MKD_BUS_A MKD_BUS_B
# Sanitizer builds: LeakSanitizer stops the world with ptrace, which the
# broker's filter forbids (the broker would hang at exit): no leak check
# here (last setting wins). The unit tests check leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

fail=0 skip=0
run() {
        local start=$SECONDS rc=0
        "$itest" "$@" || rc=$?
        if [ "$rc" -eq 0 ]; then
                echo "PASS: $1 ($((SECONDS - start)) s)"
        elif [ "$rc" -eq 77 ]; then
                # test ops absent (configure --enable-test-ops)
                echo "SKIP: $1"
                skip=1
        else
                echo "FAIL: $1"
                for f in "$tmp"/"$1"-*.log; do
                        [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; }
                done
                fail=$((fail + 1))
        fi
}

# tests/integration/test-ops.sh runs only the tests that need a daemon
# built with --enable-test-ops (each exits 77 without the ops).
if [ -n "${MKD_ITEST_ONLY:-}" ]; then
        for t in $MKD_ITEST_ONLY; do run "$t"; done
        [ "$fail" -eq 0 ] || exit 1
        [ "$skip" -eq 0 ] || exit 77
        exit 0
fi

run converse
run introspect
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null; then
        user=mkd-itest
        id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user" \
                || { echo "useradd failed"; exit 99; }
        run acl "$(id -u "$user")" "$(id -g "$user")"
else
        echo "SKIP: acl (needs root to create a second uid)"
        skip=1
fi
run extras
run crash
run engine-kill
run tamper

# A bad line in the policy refuses the start, naming file and line.
printf '[retention]\nmax_past_epochs = lots\n' > "$tmp/bad.conf"
if "$bin" --session --bus-address "$MKD_BUS_A" --state-dir "$tmp/bad-state" \
        --config "$tmp/bad.conf" 2>"$tmp/bad.log"; then
        echo "FAIL: config (a bad policy was accepted)"; fail=$((fail + 1))
elif ! grep -q "bad.conf:2:" "$tmp/bad.log"; then
        echo "FAIL: config (no file:line in the refusal)"; cat "$tmp/bad.log"; fail=$((fail + 1))
else
        echo "PASS: config"
fi

# mlskeyctl tpm works on a state folder: a bus address without one, or a
# D-Bus timeout, is a usage error (exit 2), not silently the session's.
ctl="$top_builddir/tools/mlskeyctl"
if "$ctl" --address "$MKD_BUS_A" tpm status >/dev/null 2>"$tmp/ctl.err"; [ $? -ne 2 ] ||
        ! grep -q "works on a state folder" "$tmp/ctl.err"; then
        echo "FAIL: ctl-tpm-usage (--address)"; cat "$tmp/ctl.err"; fail=$((fail + 1))
elif "$ctl" --timeout 5 tpm status >/dev/null 2>"$tmp/ctl.err"; [ $? -ne 2 ] ||
        ! grep -q "timeout does not apply" "$tmp/ctl.err"; then
        echo "FAIL: ctl-tpm-usage (--timeout)"; cat "$tmp/ctl.err"; fail=$((fail + 1))
else
        echo "PASS: ctl-tpm-usage"
fi

[ "$fail" -eq 0 ] || exit 1
[ "$skip" -eq 0 ] || exit 77
exit 0
