#!/usr/bin/env bash
# Checks the Python package the way users get it, each in a fresh venv of the
# system's own Python made by `make test-python-package` under VFPY_WORK:
#   venv-wheel     the manylinux wheel of `make wheel` (VFPY_WHEEL_DIR)
#   venv-sdist     the sdist of `make sdist`, built from source by pip (cargo)
#   venv-checkout  `pip install ./bindings/python`, built from source too
# From outside the checkout, with no LIBVOUCHERIFY_PATH, no LD_LIBRARY_PATH
# and no libvoucherify installed on the system, each must load the library
# inside the package and run the samples (sample.py, lifecycle_sample.py,
# copied elsewhere) against the stand-in. LIBVOUCHERIFY_PATH, when set,
# still wins.
set -euo pipefail
cd "$(dirname "$0")/../../.."
: "${VFPY_WORK:?}" "${VFPY_WHEEL_DIR:?}" "${VF_VERSION:?}" "${VF_SONAME:?}" "${VF_RELEASE_LIB:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
unset LIBVOUCHERIFY_PATH LD_LIBRARY_PATH PYTHONPATH

# No system library to fall back on: what loads is the package's own.
if /sbin/ldconfig -p | grep -q "libvoucherify"; then
  fail "a libvoucherify is installed on this system ($(/sbin/ldconfig -p | grep libvoucherify)); the test needs none"
fi

# The wheel: one file, tagged for any Python 3 and manylinux, carrying the library.
shopt -s nullglob
wheels=("$VFPY_WHEEL_DIR"/libvoucherify-"$VF_VERSION"-*.whl)
[ ${#wheels[@]} = 1 ] || fail "expected one wheel in $VFPY_WHEEL_DIR, found ${#wheels[@]}"
wheel=${wheels[0]}
[[ $(basename "$wheel") =~ ^libvoucherify-$VF_VERSION-py3-none-([a-z0-9_]+\.)*manylinux_2_[0-9]+_x86_64(\.[a-z0-9_]+)*\.whl$ ]] ||
  fail "$(basename "$wheel"): not tagged py3-none-manylinux_2_*"
echo "== $(basename "$wheel")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp bindings/python/sample.py bindings/python/lifecycle_sample.py "$work/"
repo=$PWD
cd "$work"   # not the checkout: only installed packages can be imported

for kind in wheel sdist checkout; do
  py=$VFPY_WORK/venv-$kind/bin/python
  echo "== the package from the $kind ($VFPY_WORK/venv-$kind)"
  # Installed, typed, no dependencies, the same version as the crate, and
  # the library inside the package under the name the loader looks for,
  # with the SONAME and nothing but the C runtime as dependencies.
  "$py" - "$VF_VERSION" "$VF_SONAME" <<'PY'
import importlib.metadata as md, pathlib, subprocess, sys
version, soname = sys.argv[1:]
dist = md.distribution("libvoucherify")
assert dist.version == version, (dist.version, version)
files = {str(f) for f in dist.files or []}
for needed in ("libvoucherify/__init__.py", "libvoucherify/__main__.py", "libvoucherify/py.typed",
               f"libvoucherify/{soname}"):
    assert needed in files, (needed, sorted(files))
assert dist.metadata["Requires-Python"] == ">=3.8", dist.metadata["Requires-Python"]
assert not dist.requires, dist.requires
lib = pathlib.Path(dist.locate_file(f"libvoucherify/{soname}"))
dynamic = subprocess.run(["readelf", "-d", str(lib)], check=True, capture_output=True, text=True).stdout
assert f"Library soname: [{soname}]" in dynamic, dynamic
needed = sorted(l.split("[")[1].rstrip("]") for l in dynamic.splitlines() if "(NEEDED)" in l)
allowed = {"libc.so.6", "libm.so.6", "libgcc_s.so.1", "libpthread.so.0", "libdl.so.2", "ld-linux-x86-64.so.2", "librt.so.1"}
assert set(needed) <= allowed, needed
print(f"  libvoucherify {dist.version}: {len(files)} files, {soname} inside (needs {', '.join(needed)}), no dependencies")
PY
  where=$("$py" -c "import libvoucherify, os; print(os.path.dirname(libvoucherify.__file__))")
  [[ $where == "$VFPY_WORK/venv-$kind/"* ]] || fail "$kind: imported $where, not the venv's package"
  got=$("$py" -c "import libvoucherify as v; print(v.library_path())")
  [ "$got" = "$(readlink -f "$where/$VF_SONAME")" ] || fail "$kind: loaded $got, not the package's $where/$VF_SONAME"
  echo "  loads $got"
  got=$(LIBVOUCHERIFY_PATH=$VF_RELEASE_LIB "$py" -c "import libvoucherify as v; print(v.library_path())")
  [ "$got" = "$(readlink -f "$VF_RELEASE_LIB")" ] || fail "$kind: LIBVOUCHERIFY_PATH set, but loaded $got"
  echo "  LIBVOUCHERIFY_PATH, when set, comes first"
  # The library is loaded at first use: a wrong one does not break the
  # import, and the first call names it.
  missing=$VFPY_WORK/no-such-dir/$VF_SONAME
  LIBVOUCHERIFY_PATH=$missing "$py" -c "import libvoucherify" || fail "$kind: the import needs the library"
  if out=$(LIBVOUCHERIFY_PATH=$missing "$py" -c "import libvoucherify; libvoucherify.version()" 2>&1); then
    fail "$kind: loaded a library from a LIBVOUCHERIFY_PATH that does not exist"
  fi
  grep -q "$missing" <<<"$out" || { echo "$out" >&2; fail "$kind: the error does not name LIBVOUCHERIFY_PATH"; }
  echo "  with a wrong LIBVOUCHERIFY_PATH: imports; the first call fails naming it"

  VFPY_PY=$py VFPY_KIND=$kind bash "$repo/scripts/with-standin" -- bash -c '
    set -euo pipefail
    export VOUCHERIFY_API_URL=$VF_STANDIN_URL VOUCHERIFY_APP_ID=$VF_STANDIN_APP_ID VOUCHERIFY_SECRET_KEY=$VF_STANDIN_SECRET_KEY
    fail() { echo "FAIL: $VFPY_KIND: $*" >&2; exit 1; }
    mint() { curl -sf -X POST "$VF_STANDIN_URL/_standin/mint" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"access_token\"])"; }
    # A fresh token is revoked (exit 0, "revoked"), then not found (exit 3).
    check() {
      local label=$1; shift
      local token out status=0; token=$(mint)
      out=$("$@" "$token") || status=$?
      [ "$status" = 0 ] && [ "$out" = revoked ] || fail "$label: exit $status, printed \"$out\" on a fresh token"
      status=0; out=$("$@" "$token") || status=$?
      [ "$status" = 3 ] || fail "$label: exit $status (\"$out\") on a revoked token, not 3"
      echo "  $label: revoked (exit 0), then not found (exit 3)"
    }
    check "sample.py" "$VFPY_PY" ./sample.py
    check "python -m libvoucherify revoke" "$VFPY_PY" -m libvoucherify revoke
    out=$("$VFPY_PY" ./lifecycle_sample.py) || { echo "$out" >&2; fail "lifecycle_sample.py failed"; }
    echo "  lifecycle_sample.py: exit 0 after $(wc -l <<<"$out") steps (mint, introspect, token source, revoke)"
  '
done
echo "installed.sh: the wheel, the sdist and the checkout each install a working package"
