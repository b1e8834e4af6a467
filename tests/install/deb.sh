#!/usr/bin/env bash
# Checks the Debian packages from `make deb` the way a user of them would:
# unpacks libvoucherify0 and libvoucherify-dev into a throwaway root
# (dpkg-deb -x, no root privileges, the machine's /usr untouched), checks
# their file lists and relations, then builds the C sample with nothing but
# `pkg-config --cflags --libs voucherify` from that root and runs it against
# the local stand-in: it must revoke a fresh token ("revoked", exit 0).
# Run by `make test-deb`, which sets VF_DEB_DIR, VF_DEBROOT, VF_VERSION,
# VF_SONAME, VF_REALNAME.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VF_DEB_DIR:?}" "${VF_DEBROOT:?}" "${VF_VERSION:?}" "${VF_SONAME:?}" "${VF_REALNAME:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
unset LIBVOUCHERIFY_PATH LD_LIBRARY_PATH
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
runtime=$VF_DEB_DIR/libvoucherify0_${VF_VERSION}_$arch.deb
dev=$VF_DEB_DIR/libvoucherify-dev_${VF_VERSION}_$arch.deb
[ -f "$runtime" ] && [ -f "$dev" ] || fail "no $runtime or $dev: run make deb"
out=build/debtest
rm -rf "$VF_DEBROOT" "$out"; mkdir -p "$VF_DEBROOT" "$out"

# The files of a package (what dpkg would install), symlinks with targets.
contents() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +\./, ""); print }' | sort; }
expect() {  # package, expected list
  local actual; actual=$(contents "$1")
  [ "$2" = "$actual" ] || { diff <(echo "$2") <(echo "$actual") >&2; fail "$(basename "$1"): files differ from the expected list"; }
  echo "$actual" | sed 's/^/  /'
}
echo "== libvoucherify0"
expect "$runtime" "$(sort <<LIST
/usr/lib/$ma/$VF_REALNAME
/usr/lib/$ma/$VF_SONAME -> $VF_REALNAME
/usr/share/doc/libvoucherify0/changelog.gz
/usr/share/doc/libvoucherify0/copyright
LIST
)"
echo "== libvoucherify-dev"
expect "$dev" "$(sort <<LIST
/usr/include/voucherify.h
/usr/include/voucherify.hpp
/usr/lib/$ma/libvoucherify.so -> $VF_REALNAME
/usr/lib/$ma/libvoucherify.a
/usr/lib/$ma/pkgconfig/voucherify.pc
/usr/lib/$ma/cmake/voucherify/voucherifyConfig.cmake
/usr/lib/$ma/cmake/voucherify/voucherifyConfigVersion.cmake
/usr/share/doc/libvoucherify-dev/changelog.gz
/usr/share/doc/libvoucherify-dev/copyright
LIST
)"

echo "== package relations"
deps=$(dpkg-deb -f "$dev" Depends)
echo "  libvoucherify-dev Depends: $deps"
grep -q "libvoucherify0 (= $VF_VERSION)" <<<"$deps" || fail "libvoucherify-dev does not depend on libvoucherify0 (= $VF_VERSION)"
echo "  libvoucherify0 Depends: $(dpkg-deb -f "$runtime" Depends)"
shlibs=$(dpkg-deb -I "$runtime" shlibs)
echo "  libvoucherify0 shlibs: $shlibs"
[ "$shlibs" = "libvoucherify ${VF_SONAME##*.so.} libvoucherify0 (>= $VF_VERSION)" ] || fail "unexpected shlibs file"

# The symbols file: every function of the header, and nothing else, at a version.
symbols=$(dpkg-deb -I "$runtime" symbols)
[ "$(head -n 1 <<<"$symbols")" = "$VF_SONAME libvoucherify0 #MINVER#" ] || fail "unexpected symbols header: $(head -n 1 <<<"$symbols")"
listed=$(sed -n 's/^ \(vf_[A-Za-z0-9_]*\)@Base [0-9][0-9.~+a-z-]*$/\1/p' <<<"$symbols" | sort)
declared=$(cc -E -P -x c include/voucherify.h | tr '\n' ' ' | grep -oE '\bvf_[A-Za-z0-9_]+ *\(' | tr -d ' (' | sort -u)
[ "$listed" = "$declared" ] || { diff <(echo "$declared") <(echo "$listed") >&2; fail "the symbols file and the header's functions differ"; }
echo "  libvoucherify0 symbols: the $(wc -l <<<"$listed") functions of the header"

# The source package: the crates vendored, so that it builds offline.
dsc=$VF_DEB_DIR/source/libvoucherify_$VF_VERSION.dsc
[ -f "$dsc" ] || fail "no source package $dsc"
tarball=$VF_DEB_DIR/source/$(awk '/^Files:/ { f = 1; next } f && NF == 3 { print $3; exit }' "$dsc")
vendored=$(tar tf "$tarball" | grep -c '^libvoucherify-[^/]*/vendor/[^/]*/Cargo.toml$' || true)
locked=$(grep -c '^source = "registry+' Cargo.lock)
[ "$vendored" = "$locked" ] || fail "$tarball vendors $vendored crates, Cargo.lock has $locked from crates.io"
echo "  source package: $(basename "$tarball"), $vendored crates vendored ($(du -h "$tarball" | cut -f1))"

for deb in "$runtime" "$dev"; do dpkg-deb -x "$deb" "$VF_DEBROOT"; done
lib=$VF_DEBROOT/usr/lib/$ma
grep -q "Library soname: \[$VF_SONAME\]" <<<"$(readelf -d "$lib/$VF_REALNAME")" || fail "$VF_REALNAME lacks SONAME $VF_SONAME"

echo "== pkg-config from the unpacked packages"
export PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$VF_DEBROOT
[ "$(pkg-config --modversion voucherify)" = "$VF_VERSION" ] || fail "pkg-config --modversion is not $VF_VERSION"
cflags=$(pkg-config --cflags voucherify)
libs=$(pkg-config --libs voucherify)
echo "  --cflags: $cflags"
echo "  --libs:   $libs"
cc -std=c99 -Wall -Wextra -Werror bindings/c/revoke_token.c $cflags $libs -o "$out/revoke_deb"
grep -q "Shared library: \[$VF_SONAME\]" <<<"$(readelf -d "$out/revoke_deb")" || fail "revoke_deb does not need $VF_SONAME"
# The C++ wrapper comes with the C header: the same flags build its consumer.
c++ -std=c++11 -Wall -Wextra -pedantic -Werror tests/install/cmake/main.cpp $cflags $libs -o "$out/revoke_deb_cpp"

echo "== against the stand-in"
export VF_TEST_LIB=$lib VF_TEST_BIN=$out/revoke_deb
scripts/with-standin -- bash -c '
  set -euo pipefail
  export VOUCHERIFY_API_URL=$VF_STANDIN_URL VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY
  export LD_LIBRARY_PATH=$VF_TEST_LIB
  grep -q "libvoucherify.so.0 => $VF_TEST_LIB/libvoucherify.so.0 " <<<"$(ldd "$VF_TEST_BIN")" \
    || { ldd "$VF_TEST_BIN" >&2; echo "FAIL: revoke_deb does not load the packaged library" >&2; exit 1; }
  token=$(curl -sf -X POST "$VF_STANDIN_URL/_standin/mint" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"access_token\"])")
  result=$("$VF_TEST_BIN" "$token") || { echo "FAIL: revoke_deb exited $? on a fresh token" >&2; exit 1; }
  [ "$result" = revoked ] || { echo "FAIL: revoke_deb printed \"$result\", not \"revoked\"" >&2; exit 1; }
  echo "  revoke_deb: exit 0, \"$result\""
'
echo "== voucherify-token (a package of its own: the tool links the library in)"
tool=$VF_DEB_DIR/voucherify-token_${VF_VERSION}_$arch.deb
[ -f "$tool" ] || fail "no $tool"
toolroot=build/debtool
rm -rf "$toolroot"; dpkg-deb -x "$tool" "$toolroot"
tests/install/cli.sh "$toolroot" /usr
tool_deps=$(dpkg-deb -f "$tool" Depends)
echo "  voucherify-token Depends: $tool_deps"
! grep -q libvoucherify <<<"$tool_deps" || fail "voucherify-token depends on the library package"
echo "deb.sh: libvoucherify0 and libvoucherify-dev install the expected files and build a working pkg-config consumer"
