#!/usr/bin/env bash
# Checks the installed Python package the way users consume it, from
# outside the checkout (nothing of bindings/python on sys.path):
#   - pip-installed into the venv VFPY_VENV, loading the staged C library
#     (VFPY_STAGE, from `make install PREFIX=/usr`) by its SONAME
#     (LD_LIBRARY_PATH) and by LIBVOUCHERIFY_PATH;
#   - make-installed (install-python) under VFPY_STAGE, found via PYTHONPATH;
# each runs the package's sample (sample.py, copied elsewhere) or
# `python -m libvoucherify revoke` against the stand-in: a fresh token is
# "revoked" (exit 0), a second revoke finds it gone (exit 3).
# Run by `make test-python-package`.
set -euo pipefail
cd "$(dirname "$0")/../../.."
: "${VFPY_VENV:?}" "${VFPY_STAGE:?}" "${VFPY_PREFIX:?}" "${VFPY_LIBDIR:?}" "${VF_VERSION:?}" "${VF_SONAME:?}" "${PYTHON:=python3}"
fail() { echo "FAIL: $*" >&2; exit 1; }
unset LIBVOUCHERIFY_PATH LD_LIBRARY_PATH PYTHONPATH

lib=$VFPY_STAGE$VFPY_LIBDIR
[ -f "$lib/$VF_SONAME" ] || fail "$lib/$VF_SONAME: not installed"
staged_lib=$(readlink -f "$lib/$VF_SONAME")
site=$(cd "$VFPY_STAGE$VFPY_PREFIX" && ls -d lib/python3*/*-packages | head -n 1)
[ -n "$site" ] || fail "install-python put no site-packages under $VFPY_STAGE$VFPY_PREFIX"
site=$VFPY_STAGE$VFPY_PREFIX/$site
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp bindings/python/sample.py "$work/sample.py"
cd "$work"   # not the checkout: only installed packages can be imported

echo "== the pip-installed package ($VFPY_VENV)"
py=$VFPY_VENV/bin/python
# Installed, typed, and the same version as the crate.
"$py" - "$VF_VERSION" <<'PY'
import importlib.metadata as md, pathlib, sys
dist = md.distribution("libvoucherify")
assert dist.version == sys.argv[1], (dist.version, sys.argv[1])
files = {str(f) for f in dist.files or []}
assert "libvoucherify/py.typed" in files, sorted(files)
assert "libvoucherify/__init__.py" in files and "libvoucherify/__main__.py" in files, sorted(files)
assert dist.metadata["Requires-Python"] == ">=3.8", dist.metadata["Requires-Python"]
assert not dist.requires, dist.requires
print(f"  libvoucherify {dist.version}: {len(files)} files, py.typed included, no dependencies")
PY
# Without any library in reach the import works (the library is loaded at
# first use), and the first call fails saying what it tried.
"$py" -c "import libvoucherify" || fail "the import needs the library"
if out=$("$py" -c "import libvoucherify; libvoucherify.version()" 2>&1); then fail "loaded with no library installed"; fi
grep -q "cannot find the library" <<<"$out" || { echo "$out" >&2; fail "unclear error without a library"; }
echo "  without a library: imports; the first call raises ImportError naming what was tried"

export VFPY_PY=$py VFPY_LIB=$lib VFPY_STAGED_LIB=$staged_lib VFPY_SITE=$site PYTHON
bash "$OLDPWD/scripts/with-standin" -- bash -c '
  set -euo pipefail
  export VOUCHERIFY_API_URL=$VF_STANDIN_URL VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY
  mint() { curl -sf -X POST "$VF_STANDIN_URL/_standin/mint" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"access_token\"])"; }
  fail() { echo "FAIL: $*" >&2; exit 1; }
  # check LABEL COMMAND...: revokes a fresh token (0, "revoked"), then again (3).
  check() {
    local label=$1; shift
    local token; token=$(mint)
    local out status=0
    out=$("$@" "$token") || status=$?
    [ "$status" = 0 ] && [ "$out" = revoked ] || fail "$label: exit $status, printed \"$out\" on a fresh token"
    status=0; out=$("$@" "$token") || status=$?
    [ "$status" = 3 ] || fail "$label: exit $status (\"$out\") on a revoked token, not 3"
    echo "  $label: revoked (exit 0), then not found (exit 3)"
  }
  # which LABEL PY: the library file the package loads must be the staged one.
  which_lib() {
    local got; got=$("$2" -c "import libvoucherify as v; print(v.library_path())")
    [ "$got" = "$VFPY_STAGED_LIB" ] || fail "$1 loaded $got, not $VFPY_STAGED_LIB"
  }

  # By the SONAME, as on a machine where make install put it in the linker path.
  (
    export LD_LIBRARY_PATH=$VFPY_LIB
    which_lib "venv, by SONAME" "$VFPY_PY"
    check "venv, by SONAME: sample.py" "$VFPY_PY" ./sample.py
    check "venv, by SONAME: python -m libvoucherify revoke" "$VFPY_PY" -m libvoucherify revoke
  )
  # By the environment override.
  (
    export LIBVOUCHERIFY_PATH=$VFPY_LIB/libvoucherify.so.0
    which_lib "venv, LIBVOUCHERIFY_PATH" "$VFPY_PY"
    check "venv, LIBVOUCHERIFY_PATH: python -m libvoucherify revoke" "$VFPY_PY" -m libvoucherify revoke
    "$VFPY_PY" -m libvoucherify version | sed "s/^/  /"
  )
  # The package make install-python staged, with the Python that installed it.
  (
    export PYTHONPATH=$VFPY_SITE LD_LIBRARY_PATH=$VFPY_LIB
    where=$("$PYTHON" -c "import libvoucherify, os; print(os.path.dirname(libvoucherify.__file__))")
    [ "$where" = "$VFPY_SITE/libvoucherify" ] || fail "imported $where, not the staged package"
    which_lib "make install-python" "$PYTHON"
    check "make install-python: sample.py" "$PYTHON" ./sample.py
  )
'
echo "installed.sh: the installed Python package works from pip and from make install-python"
