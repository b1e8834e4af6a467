"""Finding and loading the C library, and checking that its version suits this binding.

The library is found through, in order: the environment variable
``LIBVOUCHERIFY_PATH`` (a file path; if set, it is the only candidate), the
library bundled inside this package (``libvoucherify/libvoucherify.so.0``,
put there by the wheel), the repository's own build when this is a checkout
(``target/debug`` then ``target/release``), the installed library by its
SONAME ``libvoucherify.so.0``, then ``ctypes.util.find_library``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List, Optional, Tuple

from ._version import __version__ as VERSION

# The ABI (the SONAME number, build.rs's ABI_VERSION) this binding was
# written for: the library is looked up as libvoucherify.so.<ABI>.
ABI = 0
SONAME = f"libvoucherify.so.{ABI}"

PACKAGE_DIR = Path(__file__).resolve().parent


def compat_key(version: str) -> Tuple[int, ...]:
    """The part of a version that must match: (major,), or (0, minor) before 1.0.

    Raises ValueError for anything but MAJOR.MINOR.PATCH (a pre-release or
    build suffix after the patch number is allowed).
    """
    parts = version.split(".", 2)
    if len(parts) != 3:
        raise ValueError(f"not MAJOR.MINOR.PATCH: {version!r}")
    patch = parts[2]
    for sep in ("-", "+"):
        patch = patch.split(sep, 1)[0]
    numbers = [parts[0], parts[1], patch]
    if not all(n.isascii() and n.isdigit() for n in numbers):
        raise ValueError(f"not MAJOR.MINOR.PATCH: {version!r}")
    major, minor = int(numbers[0]), int(numbers[1])
    return (major,) if major > 0 else (0, minor)


def check_abi(found: Optional[str], path: str, expected: Optional[str] = None) -> None:
    """Raises ImportError unless library version ``found`` suits this binding.

    ``found`` is the library's version as text (from vf_version_number());
    ``path`` is the loaded file, named in the message; ``expected`` defaults
    to this binding's version.
    """
    expected = VERSION if expected is None else expected
    want = compat_key(expected)
    need = ".".join(map(str, want)) + (".x" if len(want) == 2 else ".x.y")
    try:
        if found is None:
            raise ValueError("no version")
        ok = compat_key(found) == want
        shown = repr(found)
    except ValueError as e:
        ok, shown = False, f"unreadable ({e})"
    if not ok:
        raise ImportError(
            f"libvoucherify: {path} is version {shown}, but this Python binding "
            f"(libvoucherify {expected}, ABI {ABI}) needs a {need} library; install "
            f"a matching libvoucherify ({SONAME}), or point LIBVOUCHERIFY_PATH at one"
        )


def loaded_file(lib: ctypes.CDLL, symbol: str) -> str:
    """The file a library was loaded from (dladdr), or the name it was opened by."""

    class _DlInfo(ctypes.Structure):
        _fields_ = [
            ("dli_fname", ctypes.c_char_p),
            ("dli_fbase", ctypes.c_void_p),
            ("dli_sname", ctypes.c_char_p),
            ("dli_saddr", ctypes.c_void_p),
        ]

    name = str(lib._name)
    try:
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        address = ctypes.cast(getattr(lib, symbol), ctypes.c_void_p)
        if dladdr(address, ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (AttributeError, OSError, ValueError):
        pass
    return name


def version_from_number(number: int) -> str:
    """MAJOR.MINOR.PATCH from vf_version_number()'s major * 10000 + minor * 100 + patch."""
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def _open_checked(candidate: str) -> Tuple[ctypes.CDLL, str]:
    """Opens one candidate and checks its version; OSError if it cannot be
    opened, ImportError if it is not a compatible libvoucherify."""
    lib = ctypes.CDLL(candidate)
    try:
        get_number = lib.vf_version_number
    except AttributeError:
        raise ImportError(
            f"libvoucherify: {candidate} has no vf_version_number(): not libvoucherify "
            f"{VERSION} or a compatible later version"
        ) from None
    get_number.restype = ctypes.c_uint32
    get_number.argtypes = []
    path = loaded_file(lib, "vf_version_number")
    check_abi(version_from_number(get_number()), path)
    return lib, path


def candidates() -> List[str]:
    """Where to look when LIBVOUCHERIFY_PATH is not set, in order."""
    found = [str(PACKAGE_DIR / SONAME)]  # bundled by the wheel
    # A checkout (bindings/python/libvoucherify): the repository's own build.
    repo_root = PACKAGE_DIR.parents[2]
    if PACKAGE_DIR.parent.name == "python" and PACKAGE_DIR.parent.parent.name == "bindings" and (
        repo_root / "Cargo.toml"
    ).is_file():
        found += [
            str(repo_root / "target" / profile / "libvoucherify.so")
            for profile in ("debug", "release")
        ]
    found.append(SONAME)
    return found


def load_library() -> Tuple[ctypes.CDLL, str]:
    """The loaded library and its file; ImportError naming what was tried."""
    override = os.environ.get("LIBVOUCHERIFY_PATH")
    if override:
        # An explicit choice must not silently fall back to another build.
        try:
            return _open_checked(override)
        except OSError as e:
            raise ImportError(
                f"libvoucherify: cannot load LIBVOUCHERIFY_PATH={override!r}: {e}"
            ) from e

    tried: List[str] = []
    mismatches: List[str] = []
    to_try = candidates()
    found = ctypes.util.find_library("voucherify")
    if found:
        to_try.append(found)
    for candidate in to_try:
        if os.sep in candidate and not os.path.exists(candidate):
            tried.append(f"{candidate} (no such file)")
            continue
        try:
            return _open_checked(candidate)
        except OSError as e:
            tried.append(f"{candidate} ({e})")
        except ImportError as e:
            # A wrong version here must not hide a right one further down.
            tried.append(f"{candidate} (incompatible)")
            mismatches.append(str(e))
    if not found:
        tried.append("ctypes.util.find_library('voucherify') (nothing found)")
    if mismatches:
        raise ImportError("\n".join(mismatches) + "\nTried:\n  " + "\n  ".join(tried))
    raise ImportError(
        "libvoucherify: cannot find the library; install libvoucherify "
        f"({SONAME}) or set LIBVOUCHERIFY_PATH to the path of libvoucherify.so. "
        "Tried:\n  " + "\n  ".join(tried)
    )
