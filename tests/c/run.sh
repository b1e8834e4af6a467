#!/usr/bin/env bash
# Builds and runs the C side of libvoucherify against the local stand-in:
#  - the header compiled alone as C99 and C++;
#  - the test programs tests/c/test_{capi,lifecycle,resilience,progress,sharing,observe,rate_limits}.c (with
#    tests/c/testlib.c) under valgrind (no errors, no definite or indirect
#    leaks), and the
#    samples bindings/c/{revoke_token,lifecycle}.c, partly under valgrind;
#  - then the test programs built a second time with AddressSanitizer and
#    UndefinedBehaviorSanitizer (leak detection on), run again.
#
#   tests/c/run.sh            (from anywhere; VF_SKIP_CARGO=1 skips cargo build)
#
# Every run gets its own stand-in, so runs do not disturb each other's
# request counts and up to VF_C_JOBS of them (default: the number of CPUs)
# run at once. Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/c
libdir=$root/target/debug

fail() { echo "tests/c/run.sh: $*" >&2; exit 1; }

# Indirect leaks count too: they are what a lost object's own allocations become.
valgrind=(valgrind --error-exitcode=99 --leak-check=full
          --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)

# From here on in both modes every check runs, so one report shows all failures.
failures=0
problem() { echo "tests/c/run.sh: FAILED: $*" >&2; failures=$((failures + 1)); }

# ---- samples mode: run under a stand-in by the main mode below ------------
if [ "${1:-}" = --samples ]; then
  token=$(python3 -c '
import json, os, urllib.request
req = urllib.request.Request(os.environ["VF_STANDIN_URL"] + "/_standin/mint?scope=api", method="POST")
print(json.load(urllib.request.urlopen(req))["access_token"])')
  export VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY
  export VOUCHERIFY_API_URL=$VF_STANDIN_URL
  unset VOUCHERIFY_CLUSTER

  # Expects exit status $2 and output containing $3 from: revoke_token ARGS...
  # $1 is "valgrind" or "native": valgrind costs seconds per run (mostly
  # loading the system's certificates), so only the runs that take new code
  # paths through the sample get it; test_capi covers the library's side.
  run_sample() {
    local how=$1 want=$2 text=$3 got=0 output
    local -a wrap=()
    shift 3
    [ "$how" = valgrind ] && wrap=("${valgrind[@]}" -q)
    output=$("${wrap[@]}" "$out/revoke_token" "$@" 2>&1) || got=$?
    printf '%s\n' "$output" | sed 's/^/    /'
    [ "$got" = "$want" ] || problem "revoke_token $* ($how) exited $got, expected $want"
    grep -qF -- "$text" <<<"$output" || problem "revoke_token $* did not print \"$text\""
  }
  echo "== sample revoke_token (under valgrind where it says so)"
  run_sample native 0 "revoked" "$token"
  run_sample native 3 "not found or already revoked" "$token"
  # A 500 is not retried, and prints every detail of an error: the most
  # code of the sample.
  run_sample valgrind 1 "VF_STATUS_SERVER_ERROR" fault-status-500
  # A 503 is retried with the sample's defaults: the message says so.
  run_sample native 1 "after 3 attempts" fault-status-503
  run_sample native 2 "usage"
  VOUCHERIFY_SECRET_KEY=wrong-secret run_sample native 1 "VF_STATUS_UNAUTHORIZED" "$token"

  echo "== sample lifecycle under valgrind"
  got=0
  output=$("${valgrind[@]}" -q "$out/lifecycle" 2>&1) || got=$?
  printf '%s\n' "$output" | sed 's/^/    /'
  [ "$got" = 0 ] || problem "lifecycle exited $got, expected 0"
  grep -qF "is not active" <<<"$output" || problem "lifecycle did not report the revoked token inactive"
  [ "$failures" -eq 0 ]
  exit
fi

# ---- main mode: build, then run everything --------------------------------
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

mkdir -p "$out/sanitized" "$out/logs"
rm -f "$out"/logs/*
# -Werror=unused-result: a status the code ignores (VF_NODISCARD) is an error.
cflags=(-std=c99 -Wall -Wextra -Werror -Werror=unused-result -pedantic -g)
link=(-Iinclude -L"$libdir" -lvoucherify "-Wl,-rpath,$libdir")
# Only the C code is instrumented; the Rust library is not, but its heap
# goes through the sanitizer's malloc, so its leaks and bad frees show too.
sanitize=(-fsanitize=address,undefined -fno-omit-frame-pointer)
tests=(test_capi test_lifecycle test_resilience test_progress test_sharing test_observe test_rate_limits)

echo "== header alone: C99, C++11, C++17"
# Included twice to prove the include guard works.
printf '#include "voucherify.h"\n#include "voucherify.h"\nint main(void) { return vf_version() == 0; }\n' >"$out/header_check.c"
cp "$out/header_check.c" "$out/header_check.cpp"
gcc "${cflags[@]}" -Iinclude -c "$out/header_check.c" -o "$out/header_check_c.o"
for std in c++11 c++17; do
  g++ -std=$std -Wall -Wextra -Werror -pedantic -Iinclude -c "$out/header_check.cpp" -o "$out/header_check_$std.o"
done

echo "== compiling the samples and the test programs (plain, and with sanitizers)"
gcc "${cflags[@]}" bindings/c/revoke_token.c -o "$out/revoke_token" "${link[@]}"
gcc "${cflags[@]}" bindings/c/lifecycle.c -o "$out/lifecycle" "${link[@]}"
for t in "${tests[@]}"; do
  gcc "${cflags[@]}" -pthread "tests/c/$t.c" tests/c/testlib.c -o "$out/$t" "${link[@]}"
  gcc "${cflags[@]}" "${sanitize[@]}" -pthread "tests/c/$t.c" tests/c/testlib.c \
    -o "$out/sanitized/$t" "${link[@]}"
done

# Runs are queued in this order and start as slots free up; their output is
# shown in the same order once all have ended.
max_jobs=${VF_C_JOBS:-$(nproc)}
began=$EPOCHREALTIME
names=()
run() { # run NAME HINT [stand-in options] -- COMMAND...
  local name=$1 hint=$2 log=$out/logs/${#names[@]}
  shift 2
  while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n || true; done
  names+=("$name|$hint")
  ( start=$EPOCHREALTIME rc=0
    scripts/with-standin "$@" >"$log.out" 2>&1 || rc=$?
    echo "$rc" >"$log.rc"
    echo "$start $EPOCHREALTIME" >"$log.time" ) &
}
vg_hint="1: a test failed, 99: valgrind found errors"
san_hint="1: a test failed, 134: a sanitizer found an error"

# abort_on_error makes any report fail the run. No suppressions are needed:
# what Rust keeps in globals stays reachable, which LSan does not report.
sanitizer_env=(env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
               UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1)

# The longest first, so that none is left running alone at the end; the
# runs with 3-second tokens mostly sleep, so they overlap busy ones.
run "samples under valgrind" "see above" -- bash "$root/tests/c/run.sh" --samples
# Refreshing before expiry needs tokens that expire within seconds.
run "test_lifecycle --short-lived under valgrind, tokens living 3 s" "$vg_hint" \
  --token-lifetime 3 -- "${valgrind[@]}" "$out/test_lifecycle" --short-lived
run "test_lifecycle --short-lived with ASan and UBSan, tokens living 3 s" "$san_hint" \
  --token-lifetime 3 -- "${sanitizer_env[@]}" "$out/sanitized/test_lifecycle" --short-lived
run "test_capi under valgrind" "$vg_hint" -- "${valgrind[@]}" "$out/test_capi"
run "test_lifecycle under valgrind" "$vg_hint" -- "${valgrind[@]}" "$out/test_lifecycle"
run "test_resilience under valgrind" "$vg_hint" -- "${valgrind[@]}" "$out/test_resilience"
run "test_progress under valgrind" "$vg_hint" -- "${valgrind[@]}" "$out/test_progress"
# -q: each forked child would print its own heap summary.
run "test_sharing under valgrind" "$vg_hint" -- "${valgrind[@]}" -q "$out/test_sharing"
run "test_observe under valgrind" "$vg_hint" -- "${valgrind[@]}" "$out/test_observe"
run "test_rate_limits under valgrind" "$vg_hint" -- "${valgrind[@]}" "$out/test_rate_limits"

for t in "${tests[@]}"; do
  run "$t with ASan and UBSan" "$san_hint" -- "${sanitizer_env[@]}" "$out/sanitized/$t"
done
# Sharing across fork() over TLS: the stand-in writes its CA for the client.
run "test_sharing --tls with ASan and UBSan" "$san_hint" \
  --tls --ca-out "$out/standin-ca.pem" -- "${sanitizer_env[@]}" "$out/sanitized/test_sharing" --tls "$out/standin-ca.pem"
wait

for i in "${!names[@]}"; do
  name=${names[$i]%%|*} hint=${names[$i]#*|}
  read -r start end <"$out/logs/$i.time" || start=0 end=0
  awk -v n="$name" -v s="$start" -v e="$end" -v b="$began" \
    'BEGIN { printf "== %s (%.1f s, started at %.1f s)\n", n, e - s, s - b }'
  cat "$out/logs/$i.out"
  rc=$(cat "$out/logs/$i.rc" 2>/dev/null || echo "no status")
  [ "$rc" = 0 ] || problem "$name exited $rc ($hint)"
done

if [ "$failures" -ne 0 ]; then
  echo "== C tests: $failures step(s) failed" >&2
  exit 1
fi
echo "== all C tests passed"
