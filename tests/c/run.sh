#!/usr/bin/env bash
# Builds and runs the C side of libvoucherify: the header compiled alone as
# C99 and C++, the test programs tests/c/test_capi.c and
# tests/c/test_lifecycle.c and the samples bindings/c/revoke_token.c and
# bindings/c/lifecycle.c, all under valgrind against the local stand-in.
#
#   tests/c/run.sh            (from anywhere; VF_SKIP_CARGO=1 skips cargo build)
#
# Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/c
libdir=$root/target/debug

fail() { echo "tests/c/run.sh: $*" >&2; exit 1; }

valgrind=(valgrind --error-exitcode=99 --leak-check=full
          --errors-for-leak-kinds=definite --show-leak-kinds=definite)

# Step 1 builds, then runs this same script again under the stand-in (which
# sets VF_STANDIN_*) with --under-standin for step 2.
if [ "${1:-}" != --under-standin ]; then
  # A fresh machine may lack the tools: say which, rather than fail obscurely.
  for tool in gcc g++ valgrind python3; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (needed for the C tests)"
  done

  if [ "${VF_SKIP_CARGO:-0}" != 1 ]; then
    command -v cargo >/dev/null || fail "cargo is not installed (or set VF_SKIP_CARGO=1)"
    cargo build --lib
    cargo build -p vf-standin
  fi
  [ -f "$libdir/libvoucherify.so" ] || fail "$libdir/libvoucherify.so is missing: run cargo build --lib"
  [ -x "$libdir/vf-standin" ] || fail "$libdir/vf-standin is missing: run cargo build -p vf-standin"
  # The library's SONAME is libvoucherify.so.0, which is what the loader looks for.
  [ -e "$libdir/libvoucherify.so.0" ] || ln -sf libvoucherify.so "$libdir/libvoucherify.so.0"

  mkdir -p "$out"
  cflags=(-std=c99 -Wall -Wextra -Werror -pedantic -g)
  link=(-Iinclude -L"$libdir" -lvoucherify "-Wl,-rpath,$libdir")

  echo "== header alone: C99, C++11, C++17"
  # Included twice to prove the include guard works.
  printf '#include "voucherify.h"\n#include "voucherify.h"\nint main(void) { return vf_version() == 0; }\n' >"$out/header_check.c"
  cp "$out/header_check.c" "$out/header_check.cpp"
  gcc "${cflags[@]}" -Iinclude -c "$out/header_check.c" -o "$out/header_check_c.o"
  for std in c++11 c++17; do
    g++ -std=$std -Wall -Wextra -Werror -pedantic -Iinclude -c "$out/header_check.cpp" -o "$out/header_check_$std.o"
  done

  echo "== compiling the samples and the test programs"
  gcc "${cflags[@]}" bindings/c/revoke_token.c -o "$out/revoke_token" "${link[@]}"
  gcc "${cflags[@]}" bindings/c/lifecycle.c -o "$out/lifecycle" "${link[@]}"
  gcc "${cflags[@]}" -pthread tests/c/test_capi.c -o "$out/test_capi" "${link[@]}"
  gcc "${cflags[@]}" -pthread tests/c/test_lifecycle.c -o "$out/test_lifecycle" "${link[@]}"

  exec scripts/with-standin -- bash "$root/tests/c/run.sh" --under-standin
fi

# From here on every step runs, so one report shows all failures.
failures=0
problem() { echo "tests/c/run.sh: FAILED: $*" >&2; failures=$((failures + 1)); }

echo "== test_capi under valgrind"
"${valgrind[@]}" "$out/test_capi" || problem "test_capi exited $? (1: a test failed, 99: valgrind found errors)"

echo "== test_lifecycle under valgrind"
"${valgrind[@]}" "$out/test_lifecycle" || problem "test_lifecycle exited $? (1: a test failed, 99: valgrind found errors)"

# Refreshing before expiry needs tokens that expire within seconds: a second
# stand-in, whose own VF_STANDIN_URL the test sees.
echo "== test_lifecycle --short-lived under valgrind, tokens living 3 s"
scripts/with-standin --token-lifetime 3 -- "${valgrind[@]}" "$out/test_lifecycle" --short-lived ||
  problem "test_lifecycle --short-lived exited $? (1: a test failed, 99: valgrind found errors)"

echo "== sample revoke_token under valgrind"
token=$(python3 -c '
import json, os, urllib.request
req = urllib.request.Request(os.environ["VF_STANDIN_URL"] + "/_standin/mint?scope=api", method="POST")
print(json.load(urllib.request.urlopen(req))["access_token"])')
export VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY
export VOUCHERIFY_API_URL=$VF_STANDIN_URL
unset VOUCHERIFY_CLUSTER

# Expects exit status $1 and output containing $2 from: revoke_token ARGS...
run_sample() {
  local want=$1 text=$2 got=0 output
  shift 2
  output=$("${valgrind[@]}" -q "$out/revoke_token" "$@" 2>&1) || got=$?
  printf '%s\n' "$output" | sed 's/^/    /'
  [ "$got" = "$want" ] || problem "revoke_token $* exited $got, expected $want"
  grep -qF -- "$text" <<<"$output" || problem "revoke_token $* did not print \"$text\""
}
run_sample 0 "revoked" "$token"
run_sample 3 "not found or already revoked" "$token"
run_sample 1 "VF_STATUS_SERVER_ERROR" fault-status-503
run_sample 2 "usage"
VOUCHERIFY_SECRET_KEY=wrong-secret run_sample 1 "VF_STATUS_UNAUTHORIZED" "$token"

echo "== sample lifecycle under valgrind"
got=0
output=$("${valgrind[@]}" -q "$out/lifecycle" 2>&1) || got=$?
printf '%s\n' "$output" | sed 's/^/    /'
[ "$got" = 0 ] || problem "lifecycle exited $got, expected 0"
grep -qF "is not active" <<<"$output" || problem "lifecycle did not report the revoked token inactive"

if [ "$failures" -ne 0 ]; then
  echo "== C tests: $failures step(s) failed" >&2
  exit 1
fi
echo "== all C tests passed"
