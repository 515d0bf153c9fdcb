# SPDX-License-Identifier: Apache-2.0
# Sourced by the integration scripts (daemon.sh, system-bus.sh, tpm.sh).

# itest_tmp PREFIX: a private work folder in $tmp (mode 755: the test
# users of system-bus.sh reach their sockets in it). At exit the processes
# whose pids the script added to $pids are killed and waited for, and the
# folder is removed unless MKD_KEEP_TMP is set.
itest_tmp() {
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 99
        chmod 755 "$tmp"
        pids=()
        trap itest_cleanup EXIT
}

itest_cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        [ -n "${MKD_KEEP_TMP:-}" ] || rm -rf "$tmp"
}

# start_bus NAME: a private session-type dbus-daemon on $tmp/NAME.socket
# (anyone may connect, own names and eavesdrop: the tests record traffic);
# its address in $tmp/NAME.addr, its log in $tmp/NAME.bus.log.
start_bus() {
        cat > "$tmp/$1.bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$tmp/$1.socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
        dbus-daemon --config-file="$tmp/$1.bus.conf" --nofork --print-address=3 \
                3>"$tmp/$1.addr" >"$tmp/$1.bus.log" 2>&1 </dev/null &
        pids+=($!)
        for _ in $(seq 100); do [ -s "$tmp/$1.addr" ] && break; sleep 0.05; done
        [ -s "$tmp/$1.addr" ] || { echo "dbus-daemon did not start"; exit 99; }
        chmod 666 "$tmp/$1.socket"
}
