"""The package around the binding: versions, the ABI check at import, where the library is found."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

import libvoucherify as vf
from libvoucherify import _capi, _loader
from conftest import BINDING_DIR, REPO_ROOT


def cargo_version() -> str:
    text = (REPO_ROOT / "Cargo.toml").read_text()
    package = re.search(r"^\[package\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert package, "no [package] in Cargo.toml"
    version = re.search(r'^version\s*=\s*"([^"]+)"', package.group(1), re.M)
    assert version, "no version in Cargo.toml's [package]"
    return version.group(1)


def pyproject_version() -> str:
    text = (BINDING_DIR / "pyproject.toml").read_text()
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        project = re.search(r"^\[project\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
        assert project
        found = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.M)
        assert found
        return found.group(1)
    return str(tomllib.loads(text)["project"]["version"])


def test_versions_are_equal() -> None:
    assert pyproject_version() == cargo_version() == vf.__version__


def test_abi_is_the_sonames() -> None:
    build_rs = (REPO_ROOT / "build.rs").read_text()
    abi = re.search(r"^const ABI_VERSION: u32 = (\d+);", build_rs, re.M)
    assert abi, "no ABI_VERSION in build.rs"
    assert _loader.ABI == int(abi.group(1))
    assert _loader.SONAME == f"libvoucherify.so.{_loader.ABI}"


def test_package_metadata() -> None:
    text = (BINDING_DIR / "pyproject.toml").read_text()
    assert re.search(r'^name = "libvoucherify"$', text, re.M)  # not the official "voucherify"
    assert 'requires-python = ">=3.8"' in text
    assert re.search(r"^dependencies = \[\]$", text, re.M)
    # The whole package directory goes into the wheel (installed.sh checks
    # py.typed is among the installed files).
    assert 'wheel.packages = ["libvoucherify"]' in text
    assert (BINDING_DIR / "libvoucherify" / "py.typed").is_file()


@pytest.mark.parametrize(
    "version,key",
    [("0.1.0", (0, 1)), ("0.1.17", (0, 1)), ("0.2.0", (0, 2)), ("1.4.2", (1,)),
     ("2.0.0-rc.1", (2,)), ("0.1.0+build.5", (0, 1))],
)
def test_compat_key(version: str, key: tuple) -> None:
    assert _loader.compat_key(version) == key


@pytest.mark.parametrize("version", ["", "0.1", "x.y.z", "0.1.0.0x", "1.-2.0", "٣.1.0"])
def test_compat_key_refuses_garbage(version: str) -> None:
    with pytest.raises(ValueError):
        _loader.compat_key(version)


@pytest.mark.parametrize("found", ["0.1.0", "0.1.9", "0.1.0-beta"])
def test_check_abi_accepts_compatible(found: str) -> None:
    _loader.check_abi(found, "/opt/x/libvoucherify.so.0", expected="0.1.0")


@pytest.mark.parametrize(
    "found,expected",
    [("0.2.0", "0.1.0"), ("0.0.9", "0.1.0"), ("1.1.0", "0.1.0"), ("2.0.0", "1.3.0"), ("0.9.0", "1.0.0")],
)
def test_check_abi_refuses_incompatible(found: str, expected: str) -> None:
    with pytest.raises(ImportError) as caught:
        _loader.check_abi(found, "/opt/x/libvoucherify.so.0", expected=expected)
    message = str(caught.value)
    # Names the file, the library's version and the binding's.
    assert "/opt/x/libvoucherify.so.0" in message
    assert repr(found) in message and expected in message
    assert "LIBVOUCHERIFY_PATH" in message


def test_check_abi_after_1_0_needs_only_the_major() -> None:
    _loader.check_abi("1.9.3", "/lib", expected="1.0.0")
    _loader.check_abi("1.0.0", "/lib", expected="1.7.0")


@pytest.mark.parametrize("found", [None, "", "banana", "0.1"])
def test_check_abi_refuses_unreadable(found: Optional[str]) -> None:
    with pytest.raises(ImportError, match=r"/lib/x\.so is version unreadable"):
        _loader.check_abi(found, "/lib/x.so", expected="0.1.0")


def test_check_abi_defaults_to_the_binding_version() -> None:
    _loader.check_abi(vf.__version__, "/lib")
    with pytest.raises(ImportError, match=re.escape(f"libvoucherify {vf.__version__}")):
        _loader.check_abi("99.0.0", "/lib")


def test_library_path_is_the_loaded_file() -> None:
    override = os.environ.get("LIBVOUCHERIFY_PATH")
    if override:
        assert vf.library_path() == os.path.realpath(override)
    assert os.path.isabs(vf.library_path()) and os.path.exists(vf.library_path())


# ---- loading, in a fresh interpreter ------------------------------------------

def real_library() -> Path:
    return Path(vf.library_path())


def run_python(code: str, cwd: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=30
    )


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBVOUCHERIFY_PATH", "LD_LIBRARY_PATH", "PYTHONPATH")}
    env.update(extra)
    return env


def package_copy(tmp_path: Path) -> Path:
    """The package copied outside the checkout (so no target/ build is in reach)."""
    dest = tmp_path / "site"
    shutil.copytree(BINDING_DIR / "libvoucherify", dest / "libvoucherify",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def fake_library(tmp_path: Path, version: Optional[str], name: str = "libfake.so",
                 version_text: Optional[str] = None) -> Path:
    """A shared library whose vf_version_number() says ``version`` and
    vf_version() ``version_text`` (default the same); neither if None."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the fake library")
    source = tmp_path / (name + ".c")
    if version:
        major, minor, patch = (int(part) for part in version.split("."))
        body = (f'const char *vf_version(void) {{ return "{version_text or version}"; }}\n'
                f"unsigned vf_version_number(void) {{ return {major * 10000 + minor * 100 + patch}; }}\n")
    else:
        body = "int vf_other(void) { return 0; }\n"
    source.write_text(body)
    out = tmp_path / name
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(source)], check=True)
    return out


def test_the_version_check_reads_the_number(tmp_path: Path) -> None:
    # vf_version() says a compatible version, vf_version_number() does not:
    # the number decides.
    fake = fake_library(tmp_path, "0.2.0", version_text=vf.__version__)
    done = run_python("import libvoucherify; libvoucherify.version()", BINDING_DIR,
                      clean_env(LIBVOUCHERIFY_PATH=str(fake)))
    assert done.returncode != 0
    assert f"{fake} is version '0.2.0'" in done.stderr


@pytest.mark.parametrize("number, text", [(100, "0.1.0"), (10203, "1.2.3"), (9999, "0.99.99"), (0, "0.0.0")])
def test_version_from_number(number: int, text: str) -> None:
    assert _loader.version_from_number(number) == text


def test_the_loaded_library_number_is_its_version() -> None:
    assert _loader.version_from_number(_capi.api.vf_version_number()) == vf.version()


def test_import_refuses_an_incompatible_library(tmp_path: Path) -> None:
    fake = fake_library(tmp_path, "0.2.0")
    done = run_python("import libvoucherify; libvoucherify.version()", BINDING_DIR,
                      clean_env(LIBVOUCHERIFY_PATH=str(fake)))
    assert done.returncode != 0
    assert "ImportError" in done.stderr
    assert f"{fake} is version '0.2.0'" in done.stderr
    assert f"libvoucherify {vf.__version__}, ABI {_loader.ABI}" in done.stderr


def test_import_refuses_a_library_that_is_not_libvoucherify(tmp_path: Path) -> None:
    fake = fake_library(tmp_path, None)
    done = run_python("import libvoucherify; libvoucherify.Client('a', 'b')", BINDING_DIR,
                      clean_env(LIBVOUCHERIFY_PATH=str(fake)))
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "not libvoucherify" in done.stderr


def test_library_shipped_in_the_package_comes_first(tmp_path: Path) -> None:
    site = package_copy(tmp_path)
    (site / "libvoucherify" / _loader.SONAME).symlink_to(real_library())
    done = run_python("import libvoucherify as v; print(v.library_path())", site, clean_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(real_library())


def assert_found_by_soname(tmp_path: Path, site: Path) -> None:
    """The package copy in ``site`` loads the real library by its SONAME,
    from a directory on ``LD_LIBRARY_PATH``."""
    libdir = tmp_path / "lib"
    libdir.mkdir()
    (libdir / _loader.SONAME).symlink_to(real_library())
    done = run_python("import libvoucherify as v; print(v.library_path())", site,
                      clean_env(LD_LIBRARY_PATH=str(libdir)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(real_library())


def test_installed_copy_finds_the_library_by_soname(tmp_path: Path) -> None:
    assert_found_by_soname(tmp_path, package_copy(tmp_path))


def test_an_incompatible_library_does_not_hide_a_compatible_one(tmp_path: Path) -> None:
    site = package_copy(tmp_path)
    fake_library(site / "libvoucherify", "0.99.0", name=_loader.SONAME)
    assert_found_by_soname(tmp_path, site)
    # Alone, the incompatible one is refused, and named.
    done = run_python("import libvoucherify; libvoucherify.version()", site, clean_env())
    assert done.returncode != 0
    assert "is version '0.99.0'" in done.stderr and "libvoucherify/" + _loader.SONAME in done.stderr


def test_main_module(tmp_path: Path) -> None:
    env = clean_env(LIBVOUCHERIFY_PATH=str(real_library()), PYTHONPATH=str(BINDING_DIR))
    usage = subprocess.run([sys.executable, "-m", "libvoucherify"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    shown = subprocess.run([sys.executable, "-m", "libvoucherify", "version"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    assert f"library {vf.version()} from {real_library()}" in shown.stdout
