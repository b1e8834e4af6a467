#!/usr/bin/env bash
# Builds the C++ wrapper's test and sample against the build tree
# (target/debug, include/) as C++11, C++17 and C++20 with -Wall -Wextra
# -pedantic -Werror, then runs them under valgrind against the stand-in.
#   tests/install/cpp.sh   (make test-cpp builds the library and the stand-in first)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/cpp
libdir=$root/target/debug
mkdir -p "$out"
[ -f "$libdir/libvoucherify.so" ] || { echo "run cargo build --lib first" >&2; exit 1; }
[ -e "$libdir/libvoucherify.so.0" ] || ln -sf libvoucherify.so "$libdir/libvoucherify.so.0"

flags=(-Wall -Wextra -pedantic -Werror -Wold-style-cast -g -Iinclude -Ibindings/cpp)
link=(-L"$libdir" -lvoucherify -Wl,-rpath,"$libdir")
for std in c++11 c++17 c++20; do
  ${CXX:-g++} -std="$std" "${flags[@]}" tests/install/cpp_test.cpp -o "$out/cpp_test_$std" "${link[@]}"
done
${CXX:-g++} -std=c++11 "${flags[@]}" bindings/cpp/sample.cpp -o "$out/sample" "${link[@]}"

valgrind=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
          --show-leak-kinds=definite,indirect)
export VF_CPP_OUT=$out
scripts/with-standin -- bash -c '
  set -euo pipefail
  "$@" "$VF_CPP_OUT/cpp_test_c++11"
  "$@" "$VF_CPP_OUT/cpp_test_c++17"
  "$@" "$VF_CPP_OUT/cpp_test_c++20"
  VOUCHERIFY_API_URL=$VF_STANDIN_URL VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY \
    "$@" "$VF_CPP_OUT/sample"
' vg "${valgrind[@]}"
echo "cpp.sh: the C++ wrapper test (C++11, C++17, C++20) and sample passed under valgrind"
