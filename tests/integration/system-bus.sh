#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The system-bus deployment of mlskeyd, with real parts only: a private
# dbus-daemon configured like the system bus (type system, EXTERNAL auth,
# the default policy of /usr/share/dbus-1/system.conf: nobody owns a name
# or sends a method call unless a hole is punched) plus the project's own
# policy/org.mlskeyd.Daemon1.conf from the source tree, this build's
# mlskeyd running as the system user "mlskeyd", and mlskeyctl run as three
# unprivileged callers (setpriv):
#   1. a caller that is not "mlskeyd" cannot own org.mlskeyd.Daemon1
#      (neither with the daemon binary nor with a bare RequestName);
#   2. the daemon, as user "mlskeyd", owns it;
#   3. A creates an identity, shares it with B, creates a group;
#   4. B sees and uses them (show, list, encrypt, create a group) but may
#      not delete, share or unshare the identity (AccessDenied);
#   5. C sees nothing: NotFound, the same answer as for a made-up id, for
#      reads and for owner-only calls alike, and nothing in C's lists;
#   6. A unshares B: B now gets NotFound too; A deletes the identity.
# Needs root (to create the users and switch to them): otherwise exit 77.
# The system users mlskeyd, mkdtest-a, mkdtest-b, mkdtest-c are created
# with useradd --system when missing and are left in place (like daemon.sh's
# mkd-itest): removing them could pull them from under a concurrent run of
# this test in another build directory. Exit 77 = skip, 99 = error.
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
bin="$top_builddir/mlskeyd"
ctl="$top_builddir/tools/mlskeyctl"
policy="$top_srcdir/policy/org.mlskeyd.Daemon1.conf"
name=org.mlskeyd.Daemon1

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (creates system users and runs as them)"
        exit 77
fi
for t in dbus-daemon dbus-send setpriv useradd; do
        command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x "$bin" ] && [ -x "$ctl" ] && [ -r "$policy" ] || { echo "missing $bin, $ctl or $policy"; exit 99; }

# Sanitizer builds: see daemon.sh (LeakSanitizer and the broker's filter).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

for u in mlskeyd mkdtest-a mkdtest-b mkdtest-c; do
        id "$u" >/dev/null 2>&1 && continue
        # A concurrent run may create it first: check again after a failure.
        useradd --system --no-create-home --shell /usr/sbin/nologin "$u" 2>/dev/null ||
                id "$u" >/dev/null 2>&1 || { echo "useradd $u failed"; exit 99; }
done
uid_a=$(id -u mkdtest-a) uid_b=$(id -u mkdtest-b) uid_c=$(id -u mkdtest-c)

. "$(dirname "$0")/lib.sh"
itest_tmp mkd-sysbus

fail=0
pass() { echo "PASS: $*"; }
bad() {
        echo "FAIL: $*"
        fail=$((fail + 1))
}

# ---- the bus: system.conf's type, auth and default policy, our policy ----
cat > "$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$tmp/system_bus_socket</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus" />
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <include>$policy</include>
</busconfig>
CONF
dbus-daemon --config-file="$tmp/bus.conf" --nofork --print-address=3 3>"$tmp/bus.addr" \
        >"$tmp/bus.log" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/bus.addr" ] && break; sleep 0.05; done
[ -s "$tmp/bus.addr" ] || { echo "dbus-daemon did not start"; cat "$tmp/bus.log"; exit 99; }
chmod 666 "$tmp/system_bus_socket"
addr=$(head -n1 "$tmp/bus.addr")

# as USER CMD...: run CMD as USER (its uid and gid only), no root env.
as() {
        local u=$1
        shift
        setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups \
                env HOME=/nonexistent ASAN_OPTIONS="$ASAN_OPTIONS" "$@"
}
# ctl USER ARGS...: mlskeyctl on our bus as USER; stdout to $out, stderr
# to $err (both files), returns its exit status.
out=$tmp/ctl.out err=$tmp/ctl.err
ctl() {
        local u=$1
        shift
        as "$u" "$ctl" --address "$addr" "$@" >"$out" 2>"$err"
}
# expect_ok WHAT USER ARGS...
expect_ok() {
        local what=$1
        shift
        if ctl "$@"; then
                pass "$what"
                return 0
        fi
        bad "$what (exit $?: $(cat "$err"))"
        return 1
}
# expect_err WHAT ERRNAME USER ARGS...: refused with org.mlskeyd.Error.ERRNAME
expect_err() {
        local what=$1 e=$2 rc=0
        shift 2
        ctl "$@" || rc=$?
        if [ "$rc" -eq 1 ] && grep -q "^mlskeyctl: $e: " "$err"; then
                pass "$what ($e)"
                return 0
        fi
        bad "$what (expected $e, got exit $rc: $(cat "$out" "$err"))"
        return 1
}
owner_uid() { # the uid owning $name, empty if none
        dbus-send --bus="$addr" --print-reply=literal --dest=org.freedesktop.DBus \
                /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixUser \
                string:"$name" 2>/dev/null | awk '{ print $2 }'
}

# ---- 1. only user mlskeyd may own the name ----
install -d -o mkdtest-c -g "$(id -g mkdtest-c)" -m 0700 "$tmp/c-state"
rc=0
as mkdtest-c timeout 10 "$bin" --system --bus-address "$addr" --state-dir "$tmp/c-state" \
        --foreground >"$tmp/c-daemon.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q "cannot own $name" "$tmp/c-daemon.log" && [ -z "$(owner_uid)" ]; then
        pass "own-refused (mlskeyd as mkdtest-c: exit $rc)"
else
        bad "own-refused (mlskeyd as mkdtest-c: exit $rc)"
        cat "$tmp/c-daemon.log"
fi
for u in mkdtest-c root; do
        rc=0
        as "$u" dbus-send --bus="$addr" --print-reply --dest=org.freedesktop.DBus \
                /org/freedesktop/DBus org.freedesktop.DBus.RequestName string:"$name" uint32:4 \
                >"$tmp/request.log" 2>&1 || rc=$?
        if [ "$rc" -ne 0 ] && grep -q "org.freedesktop.DBus.Error.AccessDenied" "$tmp/request.log"; then
                pass "own-refused (RequestName as $u: AccessDenied)"
        else
                bad "own-refused (RequestName as $u: exit $rc)"
                cat "$tmp/request.log"
        fi
done

# ---- 2. the daemon as user mlskeyd owns it ----
install -d -o mlskeyd -g "$(id -g mlskeyd)" -m 0700 "$tmp/state"
as mlskeyd "$bin" --system --bus-address "$addr" --state-dir "$tmp/state" --foreground \
        >"$tmp/mlskeyd.log" 2>&1 </dev/null &
dpid=$!
pids+=($dpid)
for _ in $(seq 200); do
        [ -n "$(owner_uid)" ] && break
        kill -0 "$dpid" 2>/dev/null || break
        sleep 0.05
done
if [ "$(owner_uid)" = "$(id -u mlskeyd)" ]; then
        pass "own (mlskeyd as user mlskeyd owns $name)"
else
        bad "own (owner uid '$(owner_uid)')"
        cat "$tmp/mlskeyd.log"
        exit 1
fi

# ---- 3. A: an identity shared with B, a group ----
expect_ok "A: identity create" mkdtest-a identity create --suite 1 --name alice@sysbus || exit 1
ident=$(head -n1 "$out")
iid=${ident##*/}
expect_ok "A: identity share --uid B" mkdtest-a identity share "$iid" --uid "$uid_b" || exit 1
grep -qw "$uid_b" "$out" || bad "A: share does not list uid $uid_b: $(cat "$out")"
expect_ok "A: group create" mkdtest-a group create "$iid" || exit 1
group=$(head -n1 "$out")
gid=${group##*/}
# A made-up id of the same shape: flip every hex digit of the real ones.
fake_iid=$(echo "$iid" | tr '0-9a-f' 'fedcba9876543210')
fake_gid=$(echo "$gid" | tr '0-9a-f' 'fedcba9876543210')

# ---- 4. B: visible and usable, but not the owner's rights ----
expect_ok "B: identity show" mkdtest-b identity show "$iid" &&
        { grep -q "owner: $uid_a" "$out" || bad "B: identity show owner: $(cat "$out")"; }
expect_ok "B: identity list" mkdtest-b identity list &&
        { grep -qx "$ident" "$out" || bad "B: identity list lacks $ident: $(cat "$out")"; }
expect_ok "B: group list" mkdtest-b group list &&
        { grep -qx "$group" "$out" || bad "B: group list lacks $group: $(cat "$out")"; }
expect_ok "B: group show" mkdtest-b group show "$gid"
if echo hello | ctl mkdtest-b group encrypt "$gid" --out - && [ -s "$out" ]; then
        pass "B: group encrypt ($(stat -c %s "$out") bytes)"
else
        bad "B: group encrypt ($(cat "$err"))"
fi
expect_ok "B: group create with A's identity" mkdtest-b group create "$iid" && b_group=$(head -n1 "$out")
expect_err "B: identity delete" AccessDenied mkdtest-b identity delete "$iid"
expect_err "B: identity share" AccessDenied mkdtest-b identity share "$iid" --uid "$uid_c"
expect_err "B: identity unshare" AccessDenied mkdtest-b identity unshare "$iid" --uid "$uid_b"
expect_ok "A: identity show after B's attempts" mkdtest-a identity show "$iid" &&
        { grep -q "shared_uids: .*$uid_b" "$out" && ! grep -q "shared_uids: .*$uid_c" "$out" ||
                bad "A: the access changed: $(cat "$out")"; }

# ---- 5. C: invisible, the same NotFound as a made-up id ----
# same_notfound WHO WHAT ARGS-with-@ID@ REAL FAKE: the answer for the real
# id equals the one for the fake id (with the id itself masked).
same_notfound() {
        local who=$1 what=$2 real=$3 fake=$4 e1 e2
        shift 4
        expect_err "$what (made-up id)" NotFound "$who" "${@//@ID@/$fake}" || return
        e2=$(sed "s/$fake/ID/g" "$err")
        expect_err "$what" NotFound "$who" "${@//@ID@/$real}" || return
        e1=$(sed "s/$real/ID/g" "$err")
        [ "$e1" = "$e2" ] || bad "$what: the answer differs from a made-up id's: '$e1' vs '$e2'"
}
same_notfound mkdtest-c "C: identity show" "$iid" "$fake_iid" identity show @ID@
same_notfound mkdtest-c "C: identity delete" "$iid" "$fake_iid" identity delete @ID@
same_notfound mkdtest-c "C: identity share" "$iid" "$fake_iid" identity share @ID@ --uid "$uid_c"
same_notfound mkdtest-c "C: group create" "$iid" "$fake_iid" group create @ID@
same_notfound mkdtest-c "C: group show" "$gid" "$fake_gid" group show @ID@
same_notfound mkdtest-c "C: group delete" "$gid" "$fake_gid" group delete @ID@
if ctl mkdtest-c identity list && ! grep -q "$iid" "$out" &&
        ctl mkdtest-c group list && ! grep -q "$gid" "$out"; then
        pass "C: lists do not show A's identity and group"
else
        bad "C: lists ($(cat "$out" "$err"))"
fi

# ---- 6. A revokes B ----
expect_ok "A: identity unshare --uid B" mkdtest-a identity unshare "$iid" --uid "$uid_b" &&
        { ! grep -qw "$uid_b" "$out" || bad "A: unshare still lists $uid_b: $(cat "$out")"; }
same_notfound mkdtest-b "B (revoked): identity show" "$iid" "$fake_iid" identity show @ID@
same_notfound mkdtest-b "B (revoked): group show" "$gid" "$fake_gid" group show @ID@
same_notfound mkdtest-b "B (revoked): identity delete" "$iid" "$fake_iid" identity delete @ID@
if [ -n "${b_group:-}" ]; then
        b_gid=${b_group##*/}
        expect_err "B (revoked): group show of its group with A's identity" NotFound \
                mkdtest-b group show "$b_gid"
fi
if ctl mkdtest-b identity list && ! grep -q "$iid" "$out" &&
        ctl mkdtest-b group list && ! grep -q "$gid" "$out"; then
        pass "B (revoked): lists do not show A's identity and group"
else
        bad "B (revoked): lists ($(cat "$out" "$err"))"
fi
# The owner keeps every right: share with B again, then delete.
expect_ok "A: identity share --uid B again" mkdtest-a identity share "$iid" --uid "$uid_b"
expect_ok "B: identity show (shared again)" mkdtest-b identity show "$iid"
expect_ok "A: identity delete" mkdtest-a identity delete "$iid"
expect_err "A: identity show after delete" NotFound mkdtest-a identity show "$iid"
expect_err "B: group show after delete" NotFound mkdtest-b group show "$gid"

# Everything the daemon stored belongs to user mlskeyd.
if [ -z "$(find "$tmp/state" ! -user mlskeyd)" ]; then
        pass "state directory owned by mlskeyd"
else
        bad "state files not owned by mlskeyd: $(find "$tmp/state" ! -user mlskeyd)"
fi
# Sanitizer builds: a report by the daemon fails the test.
if grep -qE "runtime error|Sanitizer" "$tmp/mlskeyd.log" "$tmp/c-daemon.log"; then
        bad "a sanitizer report in a daemon log"
        cat "$tmp/c-daemon.log"
fi
# The daemon is still the one we started (no crash on the way).
kill -0 "$dpid" 2>/dev/null && [ "$(owner_uid)" = "$(id -u mlskeyd)" ] ||
        bad "the daemon is gone ($(tail -n 20 "$tmp/mlskeyd.log"))"
if [ "$fail" -ne 0 ]; then
        echo "---- mlskeyd log"
        tail -n 40 "$tmp/mlskeyd.log"
        exit 1
fi
exit 0
