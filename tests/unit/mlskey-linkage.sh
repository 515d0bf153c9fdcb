#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The structural proof that libmlskey never sees keys (DESIGN.md section 3):
# libmlskey.so links libdbus-1 and libc only. Fails if libsodium, libcrypto,
# libssl or anything of the engine (libmls, libmkd) is a direct dependency
# (readelf -d NEEDED) or is loaded at all (ldd, recursively); and if the
# exported symbols differ from the functions mlskey.h declares.
set -eu -o pipefail
: "${top_builddir:?}" "${top_srcdir:?}"

lib="$top_builddir/.libs/libmlskey.so"
header="$top_srcdir/client-lib/mlskey.h"
fail=0

if [ ! -e "$lib" ]; then
        echo "$lib is missing (it is built by make)" >&2
        exit 1
fi
for tool in readelf ldd nm; do
        command -v "$tool" >/dev/null || { echo "$tool not found (binutils, libc-bin)" >&2; exit 1; }
done

forbidden='libsodium|libcrypto|libssl|libmls|libmkd|libseccomp|libtss2'

# Direct dependencies: libdbus-1, libc (with ld.so, for thread-local
# storage), and what the build itself adds
# (the sanitizer runtimes, libpthread/libm/libgcc_s on older toolchains).
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED: ${needed//$'\n'/ }"
for n in $needed; do
        case "$n" in
        libdbus-1.so.*|libc.so.*|ld-linux*.so.*|libpthread.so.*) ;;
        libasan.so.*|libubsan.so.*|libm.so.*|libgcc_s.so.*|libstdc++.so.*|libdl.so.*|librt.so.*) ;;
        *) echo "FAIL: unexpected direct dependency $n" >&2; fail=1 ;;
        esac
done
echo "$needed" | grep -q '^libdbus-1\.so' || { echo "FAIL: libdbus-1 is not a dependency" >&2; fail=1; }

# Everything the loader would map, recursively.
loaded=$(ldd "$lib")
if echo "$loaded" | grep -Eq "$forbidden"; then
        echo "FAIL: a crypto or engine library is loaded with libmlskey:" >&2
        echo "$loaded" | grep -E "$forbidden" >&2
        fail=1
fi
if echo "$loaded" | grep -q 'not found'; then
        echo "FAIL: unresolved dependencies:" >&2
        echo "$loaded" | grep 'not found' >&2
        fail=1
fi

# Undefined symbols must not name crypto primitives either (a static
# archive would not show up as NEEDED).
if nm -D --undefined-only "$lib" | grep -Eiq ' (sodium_|crypto_|EVP_|OPENSSL_|mls_)'; then
        echo "FAIL: libmlskey refers to crypto or engine symbols:" >&2
        nm -D --undefined-only "$lib" | grep -Ei ' (sodium_|crypto_|EVP_|OPENSSL_|mls_)' >&2
        fail=1
fi
if nm -D --defined-only "$lib" | grep -Eiq ' T (sodium_|crypto_|EVP_|mls_)'; then
        echo "FAIL: libmlskey contains crypto or engine code" >&2
        fail=1
fi

# Exported functions == the functions of mlskey.h (and all versioned).
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)
declared=$(grep -oE '\bmlskey_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
if [ "$exported" != "$declared" ]; then
        echo "FAIL: exported symbols differ from mlskey.h (< exported, > declared):" >&2
        diff <(echo "$exported") <(echo "$declared") >&2 || true
        fail=1
fi
if nm -D --defined-only "$lib" | awk '$2 == "T"' | grep -v '@@LIBMLSKEY_' | grep -q .; then
        echo "FAIL: unversioned exports:" >&2
        nm -D --defined-only "$lib" | awk '$2 == "T"' | grep -v '@@LIBMLSKEY_' >&2
        fail=1
fi
# Every function stays in the version node that introduced it (a symbol
# never moves between nodes: that would break binaries linked earlier).
sym="$top_srcdir/client-lib/libmlskey.sym"
want=$(awk '/^LIBMLSKEY_[0-9.]+ *\{/ { node = $1 } /^ +mlskey_[a-z0-9_]+;/ { gsub(/[ ;]/, ""); print $0 "@@" node }' "$sym" | sort)
have=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
if [ "$want" != "$have" ]; then
        echo "FAIL: exports and their version nodes differ from $sym (< script, > library):" >&2
        diff <(echo "$want") <(echo "$have") >&2 || true
        fail=1
fi
echo "exported: $(echo "$exported" | wc -l) functions in $(echo "$want" | sed 's/.*@@//' | sort -u | wc -l) version nodes"
exit $fail
