#!/usr/bin/env bash
# The shared library exports exactly the functions the header declares:
# none missing, none extra, nothing but vf_* functions, and the SONAME.
#   tests/install/symbols.sh [LIBRARY.so] [HEADER] [SONAME]
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=${1:-target/debug/libvoucherify.so}
header=${2:-include/voucherify.h}
soname=${3:-libvoucherify.so.0}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Declared: every identifier followed by "(" in the preprocessed header
# (comments gone), seen as C and as C++ (extern "C" block included).
for lang in c c++; do
  ${CC:-cc} -E -P -x "$lang" "$header" | tr '\n' ' ' | grep -oE '\bvf_[A-Za-z0-9_]+ *\(' | tr -d ' (' | sort -u >"$tmp/declared.$lang"
done
cmp -s "$tmp/declared.c" "$tmp/declared.c++" || { echo "FAIL: the header declares different functions to C and C++" >&2; diff "$tmp/declared.c" "$tmp/declared.c++" >&2; exit 1; }
[ -s "$tmp/declared.c" ] || { echo "FAIL: found no vf_* function in $header" >&2; exit 1; }

# Exported: the dynamic symbol table, defined symbols only (any version).
nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $3); print $2, $3 }' | sort -k2 -u >"$tmp/exported.typed"
awk '{ print $2 }' "$tmp/exported.typed" | sort -u >"$tmp/exported"

status=0
missing=$(comm -23 "$tmp/declared.c" "$tmp/exported")
extra=$(comm -13 "$tmp/declared.c" "$tmp/exported")
[ -z "$missing" ] || { echo "FAIL: declared in $header but not exported by $lib:" >&2; echo "$missing" | sed 's/^/  /' >&2; status=1; }
[ -z "$extra" ] || { echo "FAIL: exported by $lib but not declared in $header:" >&2; echo "$extra" | sed 's/^/  /' >&2; status=1; }
notfunc=$(awk '$1 != "T" { print "  " $2 " (nm type " $1 ")" }' "$tmp/exported.typed")
[ -z "$notfunc" ] || { echo "FAIL: exports that are not functions in .text:" >&2; echo "$notfunc" >&2; status=1; }
grep -q "Library soname: \[$soname\]" <<<"$(readelf -d "$lib")" || { echo "FAIL: $lib has no SONAME $soname" >&2; status=1; }
[ "$status" = 0 ] && echo "symbols: $lib exports exactly the $(wc -l <"$tmp/declared.c") functions of $header (SONAME $soname)"
exit "$status"
