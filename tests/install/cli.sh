#!/usr/bin/env bash
# Checks an installed voucherify-token under ROOT/PREFIX (a staged `make
# install` or an unpacked .deb): the binary runs on its own (it links the
# library's Rust core in, so needs no libvoucherify.so), the man page is a
# man page, and each shell's completion script names the tool's options.
#   tests/install/cli.sh ROOT PREFIX
set -euo pipefail
root=$1 prefix=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
bin=$root$prefix/bin/voucherify-token
echo "== voucherify-token in $root$prefix"
version=$("$bin" --version) || fail "$bin --version exited $?"
echo "  $version"
deps=$(ldd "$bin")
! grep -q libvoucherify <<<"$deps" || fail "$bin needs libvoucherify.so"
man=$(find "$root$prefix/share/man/man1" -name 'voucherify-token.1*')
[ -n "$man" ] || fail "no man page"
case $man in *.gz) page=$(zcat "$man") ;; *) page=$(cat "$man") ;; esac
grep -q '^\.TH voucherify-token' <<<"$page" || fail "$man is not a man page"
grep -q 'remaining\\-to' <<<"$page" || fail "$man lacks the revoke options"
for f in bash-completion/completions/voucherify-token zsh/vendor-completions/_voucherify-token \
         fish/vendor_completions.d/voucherify-token.fish; do
  grep -q -- 'remaining-to' "$root$prefix/share/$f" || fail "$f does not complete the revoke options"
done
echo "  runs without libvoucherify.so; man page and bash, zsh, fish completions installed"
