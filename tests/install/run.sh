#!/usr/bin/env bash
# Checks a staged `make install` the way users consume it, using nothing
# from the source tree but the sources of the consumers themselves:
#   - the installed file tree, SONAME, symlinks, exported symbols, header;
#   - the C sample built with `pkg-config --cflags --libs voucherify`, and
#     once statically with `pkg-config --static --libs` and libvoucherify.a;
#   - a CMake project using find_package(voucherify) (shared and static,
#     and the C++ wrapper through voucherify::voucherify_cpp);
# and runs each program against the local stand-in: it must revoke a fresh
# token ("revoked", exit 0), and a second revoke must find it gone (exit 3,
# which both programs keep for "not found"), and a 401 must exit 1.
# Run by `make test-install`, which sets VF_STAGE, VF_PREFIX, VF_LIBDIR,
# VF_VERSION, VF_SONAME, VF_REALNAME.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VF_STAGE:?}" "${VF_PREFIX:?}" "${VF_LIBDIR:?}" "${VF_VERSION:?}" "${VF_SONAME:?}" "${VF_REALNAME:?}"
out=build/install
rm -rf "$out"; mkdir -p "$out"
lib=$VF_STAGE$VF_LIBDIR
inc=$VF_STAGE$VF_PREFIX/include
fail() { echo "FAIL: $*" >&2; exit 1; }
unset LIBVOUCHERIFY_PATH LD_LIBRARY_PATH

echo "== installed tree"
expected=$(cat <<LIST | sort
$VF_PREFIX/include/voucherify.h
$VF_PREFIX/include/voucherify.hpp
$VF_LIBDIR/$VF_REALNAME
$VF_LIBDIR/$VF_SONAME -> $VF_REALNAME
$VF_LIBDIR/libvoucherify.so -> $VF_REALNAME
$VF_LIBDIR/libvoucherify.a
$VF_LIBDIR/pkgconfig/voucherify.pc
$VF_LIBDIR/cmake/voucherify/voucherifyConfig.cmake
$VF_LIBDIR/cmake/voucherify/voucherifyConfigVersion.cmake
$VF_PREFIX/bin/voucherify-token
$VF_PREFIX/share/man/man1/voucherify-token.1
$VF_PREFIX/share/bash-completion/completions/voucherify-token
$VF_PREFIX/share/zsh/vendor-completions/_voucherify-token
$VF_PREFIX/share/fish/vendor_completions.d/voucherify-token.fish
LIST
)
everything=$(cd "$VF_STAGE" && find . -not -type d | sed 's|^\.||' | while read -r f; do
  if [ -L "$VF_STAGE$f" ]; then echo "$f -> $(readlink "$VF_STAGE$f")"; else echo "$f"; fi; done | sort)
# Nothing else: no Python package either (the wheel is how Python users get it).
actual=$everything
[ "$expected" = "$actual" ] || { diff <(echo "$expected") <(echo "$actual") >&2; fail "installed files differ from the expected list"; }
echo "$everything" | sed 's/^/  /'
tests/install/symbols.sh "$lib/$VF_REALNAME" "$inc/voucherify.h" "$VF_SONAME"
tests/install/header.sh "$inc"
tests/install/cli.sh "$VF_STAGE" "$VF_PREFIX"

echo "== pkg-config"
export PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$VF_STAGE
[ "$(pkg-config --modversion voucherify)" = "$VF_VERSION" ] || fail "pkg-config --modversion is not $VF_VERSION"
cflags=$(pkg-config --cflags voucherify)
libs=$(pkg-config --libs voucherify)
static_libs=$(pkg-config --static --libs voucherify)
echo "  --cflags:        $cflags"
echo "  --libs:          $libs"
echo "  --static --libs: $static_libs"
cc -std=c99 -Wall -Wextra -Werror bindings/c/revoke_token.c $cflags $libs -o "$out/revoke_pkgconfig"
# Static: the same flags, with the archive instead of the shared library.
cc -std=c99 -Wall -Wextra -Werror bindings/c/revoke_token.c $cflags \
  ${static_libs/-lvoucherify/-l:libvoucherify.a} -o "$out/revoke_pkgconfig_static"
grep -q "Shared library: \[$VF_SONAME\]" <<<"$(readelf -d "$out/revoke_pkgconfig")" || fail "revoke_pkgconfig does not need $VF_SONAME"
if grep -q 'libvoucherify' <<<"$(readelf -d "$out/revoke_pkgconfig_static")"; then fail "revoke_pkgconfig_static needs a shared libvoucherify"; fi

echo "== CMake"
cmake -S tests/install/cmake -B "$out/cmake" -DCMAKE_PREFIX_PATH="$VF_STAGE$VF_PREFIX" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" -DCMAKE_CXX_FLAGS="-Wall -Wextra -pedantic -Werror" >"$out/cmake.log" 2>&1 || { cat "$out/cmake.log" >&2; fail "cmake configure"; }
grep -- '-- voucherify' "$out/cmake.log" | sed 's/^/  /'
grep -q -- "-- voucherify $VF_VERSION from $lib/cmake/voucherify" "$out/cmake.log" || fail "find_package found another voucherify"
cmake --build "$out/cmake" >>"$out/cmake.log" 2>&1 || { cat "$out/cmake.log" >&2; fail "cmake build"; }
grep -q "Shared library: \[$VF_SONAME\]" <<<"$(readelf -d "$out/cmake/revoke_shared")" || fail "revoke_shared does not need $VF_SONAME"
if grep -q 'libvoucherify' <<<"$(readelf -d "$out/cmake/revoke_static")"; then fail "revoke_static needs a shared libvoucherify"; fi
grep -q "Shared library: \[$VF_SONAME\]" <<<"$(readelf -d "$out/cmake/revoke_cpp")" || fail "revoke_cpp does not need $VF_SONAME"

echo "== against the stand-in"
export VF_TEST_LIB=$lib VF_TEST_OUT=$out
scripts/with-standin -- bash -c '
  set -euo pipefail
  export VOUCHERIFY_API_URL=$VF_STANDIN_URL VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY
  export LD_LIBRARY_PATH=$VF_TEST_LIB
  mint() { curl -sf -X POST "$VF_STANDIN_URL/_standin/mint" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"access_token\"])"; }
  for prog in revoke_pkgconfig revoke_pkgconfig_static cmake/revoke_shared cmake/revoke_static cmake/revoke_cpp; do
    bin=$VF_TEST_OUT/$prog
    # The shared ones must load the staged library, not a build tree copy.
    # ldd is read whole first: `ldd | grep -q` under pipefail fails at random
    # when grep stops reading early and ldd gets SIGPIPE.
    deps=$(ldd "$bin")
    if grep -q libvoucherify <<<"$deps"; then
      grep -q "libvoucherify.so.0 => $VF_TEST_LIB/libvoucherify.so.0 " <<<"$deps" || { echo "$deps" >&2; echo "FAIL: $prog loads another libvoucherify" >&2; exit 1; }
    fi
    token=$(mint)
    first=$("$bin" "$token") || { echo "FAIL: $prog exited $? on a fresh token" >&2; exit 1; }
    [ "$first" = revoked ] || { echo "FAIL: $prog printed \"$first\", not \"revoked\"" >&2; exit 1; }
    # Revoked for real: a second attempt finds it gone, and says so.
    code=0; second=$("$bin" "$token" 2>&1) || code=$?
    [ "$code" = 3 ] || { echo "FAIL: $prog exited $code, not 3 (not found), on a revoked token: $second" >&2; exit 1; }
    [[ "$second" = "not found"* ]] || { echo "FAIL: $prog printed \"$second\" for a revoked token" >&2; exit 1; }
    # Any other failure has its own code: wrong credentials (401) exit 1.
    code=0; VOUCHERIFY_SECRET_KEY=wrong-key "$bin" "$(mint)" >/dev/null 2>&1 || code=$?
    [ "$code" = 1 ] || { echo "FAIL: $prog exited $code, not 1, on a 401" >&2; exit 1; }
    echo "  $prog: revoked (exit 0), the second revoke found it gone (exit 3), a 401 exits 1"
  done
'
echo "run.sh: the staged install works for pkg-config (shared, static) and CMake (shared, static, C++) consumers"
