# SPDX-License-Identifier: Apache-2.0
# Shared by scripts/test and scripts/demo: install what is missing, then
# configure and build out of tree. Sourced, not run.

MKD_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MKD_JOBS=$(nproc 2>/dev/null || echo 2)

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages of scripts/deps.txt that are missing.
# As root: apt-get update once, then apt-get install -y. Otherwise: names
# the command to run and stops.
mkd_install_deps() {
        local missing=() p
        while read -r p; do
                case "$p" in ''|'#'*) continue ;; esac
                if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
                        missing+=("$p")
                fi
        done < "$MKD_TOP/scripts/deps.txt"
        [ ${#missing[@]} -eq 0 ] && return 0
        if [ "$(id -u)" -ne 0 ]; then
                die "missing Debian packages: ${missing[*]}
run as root: apt-get update && apt-get install -y ${missing[*]}"
        fi
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q || die "apt-get update failed"
        apt-get install -y -q --no-install-recommends "${missing[@]}" || die "apt-get install failed"
}

# mkd_build DIR [configure args...]: autogen when needed, configure DIR
# when its arguments changed, then make.
mkd_build() {
        local dir="$1"; shift
        local want="$*"
        if [ ! -x "$MKD_TOP/configure" ] || [ "$MKD_TOP/configure.ac" -nt "$MKD_TOP/configure" ]; then
                say "generating configure"
                (cd "$MKD_TOP" && ./autogen.sh) || die "autogen.sh failed"
        fi
        mkdir -p "$dir"
        if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.mkd-configure-args" 2>/dev/null)" != "$want" ]; then
                say "configuring $dir: $want"
                (cd "$dir" && "$MKD_TOP/configure" "$@") > "$dir.configure.log" 2>&1 \
                        || { tail -n 30 "$dir.configure.log"; die "configure failed (log: $dir.configure.log)"; }
                printf '%s' "$want" > "$dir/.mkd-configure-args"
        fi
        say "building in $dir"
        make -C "$dir" -j"$MKD_JOBS" >"$dir.make.log" 2>&1 \
                || { tail -n 40 "$dir.make.log"; die "build failed (log: $dir.make.log)"; }
}

cat_trs() {
        find "$1" -name '*.trs' -exec cat {} + 2>/dev/null || true
}

# Counts the automake test results (.trs files) under DIR into
# MKD_PASS/MKD_FAIL/MKD_SKIP.
mkd_count_results() {
        local dir="$1"
        MKD_PASS=$(cat_trs "$dir" | grep -c '^:test-result: PASS' || true)
        MKD_FAIL=$(cat_trs "$dir" | grep -cE '^:test-result: (FAIL|ERROR|XPASS)' || true)
        MKD_SKIP=$(cat_trs "$dir" | grep -c '^:test-result: SKIP' || true)
}
