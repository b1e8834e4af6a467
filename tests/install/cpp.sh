#!/usr/bin/env bash
# Tests of the C++ wrapper (bindings/cpp/voucherify.hpp) against the build
# tree (target/debug, include/):
#   - every function of the C header is called by the wrapper;
#   - the compile-must-fail probes (cpp_must_not_compile.cpp) fail, each
#     for its expected reason, and the file compiles without them;
#   - the test and the sample build as C++11, C++17 and C++20 with -Wall
#     -Wextra -pedantic -Werror, and run under valgrind against the
#     stand-in; the TLS settings are tested against the stand-in serving
#     HTTPS from its own CA, natively (valgrind reports false positives in
#     ring's assembly).
#   tests/install/cpp.sh   (make test-cpp builds the library and the stand-in first)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/cpp
libdir=$root/target/debug
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$out"; mkdir -p "$out"
[ -f "$libdir/libvoucherify.so" ] || { echo "run cargo build --lib first" >&2; exit 1; }
[ -e "$libdir/libvoucherify.so.0" ] || ln -sf libvoucherify.so "$libdir/libvoucherify.so.0"
# GCC's diagnostics in plain ASCII quotes, for the probes' patterns.
export LC_ALL=C

echo "== every function of include/voucherify.h is called by the wrapper"
# Declarations start at column 0 with their return type; the wrapper's calls
# are the undefined symbols of an object that emits all its inline code.
declared=$(grep -oE '^[A-Za-z_][A-Za-z0-9_ *]*\bvf_[a-z0-9_]+\(' include/voucherify.h | grep -oE 'vf_[a-z0-9_]+\($' | tr -d '(' | sort -u)
grep -qx vf_revoke_token <<<"$declared" && grep -qx vf_token_source_free <<<"$declared" || fail "no declarations found in include/voucherify.h"
echo '#include "voucherify.hpp"' | g++ -std=c++11 -fkeep-inline-functions -Iinclude -Ibindings/cpp -x c++ -c - -o "$out/coverage.o"
called=$(nm -u "$out/coverage.o" | grep -oE '\bvf_[a-z0-9_]+$' | sort -u)
# Reported at the end, so that the other checks still run meanwhile.
missing=$(comm -23 <(echo "$declared") <(echo "$called"))
[ -n "$missing" ] && echo "  NOT called: $(echo $missing)" || echo "  all $(wc -l <<<"$declared") functions"

echo "== compile-must-fail probes"
probes=tests/install/cpp_must_not_compile.cpp
probe_flags=(-Wall -Wextra -pedantic -Werror -Iinclude -Ibindings/cpp -fsyntax-only)
count=0
for std in c++11 c++20; do
  g++ -std="$std" "${probe_flags[@]}" "$probes" || fail "$probes ($std) does not compile without a probe"
  while IFS=: read -r line rest; do
    name=$(sed -E 's/^#ifdef PROBE_([a-z_]+) .*/\1/' <<<"$rest")
    expect=$(sed -E 's|^.* // expect: ||' <<<"$rest")
    if diag=$(g++ -std="$std" "${probe_flags[@]}" -DPROBE_"$name" "$probes" 2>&1); then
      fail "probe $name ($std) compiled"
    fi
    first=$(grep -m1 ': error: ' <<<"$diag" || true)
    grep -qE "^$probes:$((line + 1)):[0-9]+: error: $expect" <<<"$first" || {
      echo "$diag" >&2; fail "probe $name ($std) failed, but not at line $((line + 1)) with: $expect"; }
    count=$((count + 1))
  done < <(grep -n '^#ifdef PROBE_' "$probes")
done
[ "$count" -ge 18 ] || fail "only $count probe runs: is $probes intact?"
echo "  $((count / 2)) probes, each failing as expected with C++11 and C++20"

echo "== the test and the sample"
flags=(-Wall -Wextra -pedantic -Werror -Wold-style-cast -g -Iinclude -Ibindings/cpp)
link=(-L"$libdir" -lvoucherify -Wl,-rpath,"$libdir")
for std in c++11 c++17 c++20; do
  ${CXX:-g++} -std="$std" "${flags[@]}" tests/install/cpp_test.cpp -o "$out/cpp_test_$std" "${link[@]}"
done
${CXX:-g++} -std=c++11 "${flags[@]}" bindings/cpp/sample.cpp -o "$out/sample" "${link[@]}"

valgrind=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
          --show-leak-kinds=definite,indirect)
# A rate limit the test can check the headers against, never reached.
export VF_CPP_OUT=$out VF_TLS_CA_FILE=$out/standin-ca.pem VF_STANDIN_RATE_LIMIT=5000 VF_STANDIN_RATE_WINDOW=3600
scripts/with-standin --tls --ca-out "$VF_TLS_CA_FILE" -- bash -c '
  export VF_TLS_STANDIN_URL=$VF_STANDIN_URL
  exec scripts/with-standin --rate-limit "$VF_STANDIN_RATE_LIMIT/$VF_STANDIN_RATE_WINDOW" -- bash -c '\''
    set -euo pipefail
    "$@" "$VF_CPP_OUT/cpp_test_c++11"
    "$@" "$VF_CPP_OUT/cpp_test_c++17"
    "$@" "$VF_CPP_OUT/cpp_test_c++20"
    for std in c++11 c++17 c++20; do "$VF_CPP_OUT/cpp_test_$std" --tls; done
    VOUCHERIFY_API_URL=$VF_STANDIN_URL VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY \
      "$@" "$VF_CPP_OUT/sample"
    # Config::add_header reached the wire: each build sent its __cplusplus.
    curl -sf "$VF_STANDIN_URL/_standin/requests" > "$VF_CPP_OUT/requests.json"
    python3 - "$VF_CPP_OUT/requests.json" <<PY
import json, sys
sent = {value for r in json.load(open(sys.argv[1])) if r["path"].startswith("/v1/")
        for name, value in r["headers"] if name.lower() == "x-cpp-test"}
expected = {"201103", "201703", "202002"}
assert sent == expected, f"X-Cpp-Test values sent: {sorted(sent)}, expected {sorted(expected)}"
PY
  '\'' vg "$@"
' vg "${valgrind[@]}"
[ -z "$missing" ] || fail "the C++ wrapper does not call: $(echo $missing)"
echo "cpp.sh: the C++ wrapper covers the C API, its probes fail as expected, and its test (C++11, C++17, C++20) and sample passed under valgrind"
