"""Python binding for libvoucherify: mint, inspect and revoke Voucherify OAuth 2.0 tokens.

A thin ctypes layer over the library's C API (include/voucherify.h)::

    import libvoucherify

    with libvoucherify.Client("my-app-id", "my-secret-key") as client:
        try:
            client.revoke(token)
        except libvoucherify.TokenNotFoundError:
            pass  # unknown, expired or already revoked: nothing left to do

        # A token source mints once, reuses the token and renews it in time.
        with client.token_source("api") as source:
            headers = {"Authorization": source.authorization()}

The library is found through, in order: the environment variable
``LIBVOUCHERIFY_PATH`` (a file path; if set, it is the only candidate), a
library shipped inside this package (``libvoucherify/libvoucherify.so.0``, next
to this module: the wheel carries it),
the repository's own build when this is a checkout (``target/debug`` then
``target/release``), the installed library by its SONAME
``libvoucherify.so.0``, then ``ctypes.util.find_library``.

At import the loaded library's ``vf_version()`` must be compatible with this
binding: same major version (for 0.x: same major.minor, since pre-1.0 minor
releases may break the ABI). Otherwise ImportError says which file was
loaded and both versions. :func:`library_path` tells which file was loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import os
import threading
import types
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

# The binding's version: equal to Cargo.toml's and pyproject.toml's (a test
# keeps the three equal). The library it loads must be compatible with it.
__version__ = "0.1.0"

# The ABI (the SONAME number, build.rs's ABI_VERSION) this binding was
# written for: the library is looked up as libvoucherify.so.<_ABI>.
_ABI = 0

__all__ = [
    "Status",
    "VoucherifyError",
    "InvalidArgumentError",
    "NullArgumentError",
    "InvalidUtf8Error",
    "TokenNotFoundError",
    "BadRequestError",
    "UnauthorizedError",
    "ForbiddenError",
    "RateLimitedError",
    "ServerError",
    "UnexpectedResponseError",
    "RequestTimeoutError",
    "ConnectionFailedError",
    "TlsError",
    "PanicError",
    "InternalError",
    "ClosedError",
    "ClientClosedError",
    "TokenSourceClosedError",
    "ERRORS_BY_STATUS",
    "Token",
    "RevokeResult",
    "RateLimit",
    "TlsRoots",
    "Client",
    "TokenSource",
    "version",
    "library_path",
    "status_name",
]


# ---- loading the library -----------------------------------------------------

_SONAME = f"libvoucherify.so.{_ABI}"


def _compat_key(version: str) -> Tuple[int, ...]:
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


def _check_abi(found: Optional[str], path: str, expected: Optional[str] = None) -> None:
    """Raises ImportError unless library version ``found`` suits this binding.

    ``path`` is the loaded file, named in the message; ``expected`` defaults
    to this binding's version.
    """
    expected = __version__ if expected is None else expected
    want = _compat_key(expected)
    need = ".".join(map(str, want)) + (".x" if len(want) == 2 else ".x.y")
    try:
        if found is None:
            raise ValueError("vf_version() returned NULL")
        ok = _compat_key(found) == want
        shown = repr(found)
    except ValueError as e:
        ok, shown = False, f"unreadable ({e})"
    if not ok:
        raise ImportError(
            f"libvoucherify: {path} is version {shown}, but this Python binding "
            f"(libvoucherify {expected}, ABI {_ABI}) needs a {need} library; install "
            f"a matching libvoucherify ({_SONAME}), or point LIBVOUCHERIFY_PATH at one"
        )


def _loaded_file(lib: ctypes.CDLL, symbol: str = "vf_version") -> str:
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


def _open_checked(candidate: str) -> "Tuple[ctypes.CDLL, str]":
    """Opens one candidate and checks its version; OSError if it cannot be
    opened, ImportError if it is not a compatible libvoucherify."""
    lib = ctypes.CDLL(candidate)
    try:
        get_version = lib.vf_version
    except AttributeError:
        raise ImportError(
            f"libvoucherify: {candidate} has no vf_version(): not libvoucherify"
        ) from None
    get_version.restype = ctypes.c_char_p
    get_version.argtypes = []
    path = _loaded_file(lib)
    raw = get_version()
    _check_abi(None if raw is None else raw.decode("ascii", "replace"), path)
    return lib, path


def _candidates() -> List[str]:
    here = Path(__file__).resolve().parent
    candidates = [str(here / _SONAME)]  # shipped inside the wheel, next to this file
    # A checkout (bindings/python/libvoucherify): the repository's own build.
    repo_root = here.parents[2]
    if here.parent.name == "python" and here.parent.parent.name == "bindings" and (
        repo_root / "Cargo.toml"
    ).is_file():
        candidates += [
            str(repo_root / "target" / profile / "libvoucherify.so")
            for profile in ("debug", "release")
        ]
    candidates.append(_SONAME)
    return candidates


def _load_library() -> "Tuple[ctypes.CDLL, str]":
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
    candidates = _candidates()
    found = ctypes.util.find_library("voucherify")
    if found:
        candidates.append(found)
    for candidate in candidates:
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
        f"({_SONAME}) or set LIBVOUCHERIFY_PATH to the path of libvoucherify.so. "
        "Tried:\n  " + "\n  ".join(tried)
    )


# Handles (vf_config, vf_client, vf_error, vf_token, vf_token_source) are
# opaque: they travel as plain addresses, c_void_p, which reads back as an
# int (or None for NULL). ctypes converts those much faster than typed
# POINTER(Structure) arguments, and revoke() pays for each argument per call.
_Handle = ctypes.c_void_p
_HandleOut = ctypes.POINTER(ctypes.c_void_p)  # vf_xxx **out, vf_error **err_out
_ErrorOut = _HandleOut
_c_status = ctypes.c_int  # vf_status is a C enum: int-sized
_c_str = ctypes.c_char_p
# Owned strings (char **out) are read as void*: c_char_p would copy them into
# bytes and lose the pointer that vf_string_free needs.
_OwnedStrOut = ctypes.POINTER(ctypes.c_void_p)

_lib, _lib_path = _load_library()

# (name, restype, argtypes) for every function in voucherify.h. Pointer
# returns must be declared: the default int restype truncates them.
_SIGNATURES = [
    ("vf_version", _c_str, []),
    ("vf_status_str", _c_str, [ctypes.c_int]),
    ("vf_error_status", _c_status, [_Handle]),
    ("vf_error_message", _c_str, [_Handle]),
    ("vf_error_http_status", ctypes.c_int, [_Handle]),
    ("vf_error_key", _c_str, [_Handle]),
    ("vf_error_api_message", _c_str, [_Handle]),
    ("vf_error_details", _c_str, [_Handle]),
    ("vf_error_request_id", _c_str, [_Handle]),
    ("vf_error_attempts", ctypes.c_uint32, [_Handle]),
    ("vf_error_retry_after_s", ctypes.c_int64, [_Handle]),
    ("vf_error_rate_limit_limit", ctypes.c_int64, [_Handle]),
    ("vf_error_rate_limit_remaining", ctypes.c_int64, [_Handle]),
    ("vf_error_rate_limit_retry_at", ctypes.c_int64, [_Handle]),
    ("vf_error_free", None, [_Handle]),
    ("vf_config_new", _Handle, []),
    ("vf_config_free", None, [_Handle]),
    ("vf_config_set_app_id", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_set_secret_key", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_set_cluster", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_set_base_url", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_set_allow_insecure_http", _c_status, [_Handle, ctypes.c_bool, _ErrorOut]),
    ("vf_config_set_connect_timeout_ms", _c_status, [_Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_timeout_ms", _c_status, [_Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_channel", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_set_user_agent_suffix", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_load_env", _c_status, [_Handle, _ErrorOut]),
    ("vf_config_set_max_attempts", _c_status, [_Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_retry_base_delay_ms", _c_status, [_Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_proxy", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_set_proxy_from_env", _c_status, [_Handle, ctypes.c_bool, _ErrorOut]),
    ("vf_config_set_tls_roots", _c_status, [_Handle, ctypes.c_int, _ErrorOut]),
    ("vf_config_set_ca_file", _c_status, [_Handle, _c_str, _ErrorOut]),
    ("vf_config_add_header", _c_status, [_Handle, _c_str, _c_str, _ErrorOut]),
    ("vf_client_new", _c_status, [_Handle, _HandleOut, _ErrorOut]),
    ("vf_client_free", None, [_Handle]),
    ("vf_revoke_token", _c_status, [_Handle, _c_str, _ErrorOut]),
    (
        "vf_client_rate_limit",
        _c_status,
        [_Handle, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64),
         ctypes.POINTER(ctypes.c_int64), _ErrorOut],
    ),
    ("vf_generate_token", _c_status, [_Handle, _c_str, _HandleOut, _ErrorOut]),
    (
        "vf_introspect_token",
        _c_status,
        [_Handle, _c_str, ctypes.POINTER(ctypes.c_bool), _HandleOut, _ErrorOut],
    ),
    (
        "vf_revoke_tokens",
        _c_status,
        [
            _Handle,
            ctypes.POINTER(_c_str),
            ctypes.c_size_t,
            ctypes.c_uint32,
            ctypes.POINTER(_c_status),
            _HandleOut,
            _ErrorOut,
        ],
    ),
    ("vf_token_access_token", _c_str, [_Handle]),
    ("vf_token_client_id", _c_str, [_Handle]),
    ("vf_token_scope", _c_str, [_Handle]),
    ("vf_token_type", _c_str, [_Handle]),
    ("vf_token_expires_at", ctypes.c_int64, [_Handle]),
    ("vf_token_expires_in", ctypes.c_int64, [_Handle]),
    ("vf_token_free", None, [_Handle]),
    ("vf_string_free", None, [ctypes.c_void_p]),
    ("vf_token_source_new", _c_status, [_Handle, _c_str, _HandleOut, _ErrorOut]),
    ("vf_token_source_set_refresh_margin_ms", _c_status, [_Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_token_source_set_revoke_on_free", _c_status, [_Handle, ctypes.c_bool, _ErrorOut]),
    ("vf_token_source_access_token", _c_status, [_Handle, _OwnedStrOut, _ErrorOut]),
    ("vf_token_source_authorization", _c_status, [_Handle, _OwnedStrOut, _ErrorOut]),
    ("vf_token_source_refresh", _c_status, [_Handle, _ErrorOut]),
    ("vf_token_source_refresh_rejected", _c_status, [_Handle, _c_str, _OwnedStrOut, _ErrorOut]),
    ("vf_token_source_free", None, [_Handle]),
]

# Functions that only read or free an object in memory, never blocking:
# called with the GIL held (through a PyDLL view of the same library), since
# releasing and re-taking it costs more than they do. A failed call reads a
# dozen of them. Everything else releases the GIL (CDLL) so that other
# threads run while the library does I/O or waits.
_HOLD_GIL = {
    name
    for name, _, _ in _SIGNATURES
    if name.startswith(("vf_error_", "vf_token_")) and not name.startswith("vf_token_source_")
} | {"vf_version", "vf_status_str", "vf_string_free"}
_lib_holding_gil = ctypes.PyDLL(_lib_path, handle=_lib._handle)

# The configured functions, by name: _api.vf_revoke_token(...). A plain
# namespace, since looking a name up on a CDLL goes through its __getattr__
# hook and costs several times more, for every C call.
_api = types.SimpleNamespace()
for _name, _restype, _argtypes in _SIGNATURES:
    _func = getattr(_lib_holding_gil if _name in _HOLD_GIL else _lib, _name)
    _func.restype = _restype
    _func.argtypes = _argtypes
    setattr(_api, _name, _func)
del _name, _restype, _argtypes, _func


# ---- statuses and exceptions -------------------------------------------------

class Status(enum.IntEnum):
    """Mirror of the C ``vf_status`` enum (the numbers are part of the ABI)."""

    OK = 0
    NULL_ARGUMENT = 1
    INVALID_ARGUMENT = 2
    INVALID_UTF8 = 3
    TOKEN_NOT_FOUND = 4
    BAD_REQUEST = 5
    UNAUTHORIZED = 6
    FORBIDDEN = 7
    RATE_LIMITED = 8
    SERVER_ERROR = 9
    UNEXPECTED_RESPONSE = 10
    TIMEOUT = 11
    CONNECTION_FAILED = 12
    TLS_ERROR = 13
    PANIC = 14
    INTERNAL = 15


class TlsRoots(enum.IntEnum):
    """Mirror of the C ``vf_tls_roots`` enum: which certificates TLS servers must chain to."""

    SYSTEM = 0  # the operating system's store (the library's default)
    MOZILLA = 1  # Mozilla's list built into the library, for hosts without a store


@dataclass(frozen=True)
class RateLimit:
    """Voucherify's ``X-Rate-Limit-*`` headers; each field None when absent.

    ``limit``: calls allowed per period; ``remaining``: calls left in this
    period; ``retry_at``: when calls are allowed again, in Unix seconds.
    """

    limit: Optional[int] = None
    remaining: Optional[int] = None
    retry_at: Optional[int] = None


def _optional(value: int) -> Optional[int]:
    return None if value < 0 else value  # the C API says -1 for "absent"


class VoucherifyError(Exception):
    """A failed libvoucherify call, with the details of its ``vf_error``.

    Attributes: ``status`` (a :class:`Status`, or a plain int this binding
    does not know), ``message`` (one line, fit for a log), ``http_status``
    (None when there was no answer), and from Voucherify's JSON error body,
    each None when absent: ``key``, ``api_message``, ``details`` and
    ``request_id`` (what Voucherify support asks for). ``attempts`` is how
    many requests the call sent, retries included (0 if nothing was sent);
    ``retry_after`` the last answer's ``Retry-After`` in seconds (how long to
    back off) and ``rate_limit`` its ``X-Rate-Limit-*`` headers, each None
    when absent. Never holds the secret key, a token or a proxy URL.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = Status.INTERNAL,
        http_status: Optional[int] = None,
        key: Optional[str] = None,
        api_message: Optional[str] = None,
        details: Optional[str] = None,
        request_id: Optional[str] = None,
        attempts: int = 0,
        retry_after: Optional[int] = None,
        rate_limit: Optional[RateLimit] = None,
    ) -> None:
        # Only the message goes to the base class: OSError-derived subclasses
        # would otherwise read the arguments as (errno, strerror, ...).
        super().__init__(message)
        self.status: Union[Status, int] = _to_status(status)
        self.message: str = message
        self.http_status: Optional[int] = http_status
        self.key: Optional[str] = key
        self.api_message: Optional[str] = api_message
        self.details: Optional[str] = details
        self.request_id: Optional[str] = request_id
        self.attempts: int = attempts
        self.retry_after: Optional[int] = retry_after
        self.rate_limit: Optional[RateLimit] = rate_limit

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={_status_label(self.status)}, "
            f"http_status={self.http_status!r}, key={self.key!r}, "
            f"request_id={self.request_id!r}, attempts={self.attempts!r})"
        )

    def report(self) -> str:
        """The message and every detail, one per line: what to log."""
        return (
            f"error: {self.message}\n"
            f"  status:      {status_name(int(self.status))}\n"
            f"  http status: {self.http_status}\n"
            f"  key:         {self.key}\n"
            f"  request_id:  {self.request_id}"
        )


class InvalidArgumentError(VoucherifyError, ValueError):
    """An argument was refused before anything was sent (VF_STATUS_INVALID_ARGUMENT)."""


class NullArgumentError(InvalidArgumentError):
    """VF_STATUS_NULL_ARGUMENT: should not happen from Python; kept for completeness."""


class InvalidUtf8Error(InvalidArgumentError):
    """A string argument was not valid UTF-8 (VF_STATUS_INVALID_UTF8)."""


class TokenNotFoundError(VoucherifyError):
    """Revoke answered 404: the token is unknown, expired or already revoked."""


class BadRequestError(VoucherifyError):
    """Voucherify answered 400."""


class UnauthorizedError(VoucherifyError):
    """Voucherify answered 401: wrong application id or secret key."""


class ForbiddenError(VoucherifyError):
    """Voucherify answered 403: missing permission or IP address not allowed."""


class RateLimitedError(VoucherifyError):
    """Voucherify answered 429: the rate limit is exhausted for now."""


class ServerError(VoucherifyError):
    """Voucherify or a gateway in front of it answered 5xx."""


class UnexpectedResponseError(VoucherifyError):
    """Any other HTTP status (redirects are never followed), or an unreadable answer."""


class RequestTimeoutError(VoucherifyError, TimeoutError):
    """The connect timeout or the total timeout expired."""


class ConnectionFailedError(VoucherifyError, ConnectionError):
    """The host could not be resolved, or the connection was refused, reset or closed."""


class TlsError(VoucherifyError):
    """The TLS handshake failed, for example an unverifiable certificate."""


class PanicError(VoucherifyError):
    """A bug inside libvoucherify was caught before it reached the caller."""


class InternalError(VoucherifyError):
    """An internal failure that is none of the above."""


class ClosedError(ValueError):
    """An object was used after close(), like I/O on a closed file."""


class ClientClosedError(ClosedError):
    """A :class:`Client` was used after close()."""


class TokenSourceClosedError(ClosedError):
    """A :class:`TokenSource` was used after close()."""


ERRORS_BY_STATUS: Dict[Status, Type[VoucherifyError]] = {
    Status.NULL_ARGUMENT: NullArgumentError,
    Status.INVALID_ARGUMENT: InvalidArgumentError,
    Status.INVALID_UTF8: InvalidUtf8Error,
    Status.TOKEN_NOT_FOUND: TokenNotFoundError,
    Status.BAD_REQUEST: BadRequestError,
    Status.UNAUTHORIZED: UnauthorizedError,
    Status.FORBIDDEN: ForbiddenError,
    Status.RATE_LIMITED: RateLimitedError,
    Status.SERVER_ERROR: ServerError,
    Status.UNEXPECTED_RESPONSE: UnexpectedResponseError,
    Status.TIMEOUT: RequestTimeoutError,
    Status.CONNECTION_FAILED: ConnectionFailedError,
    Status.TLS_ERROR: TlsError,
    Status.PANIC: PanicError,
    Status.INTERNAL: InternalError,
}


_STATUS_BY_VALUE: Dict[int, Status] = {int(s): s for s in Status}


def _to_status(value: int) -> Union[Status, int]:
    # A dict lookup: Status(value) costs several times more, on every failure.
    return _STATUS_BY_VALUE.get(value, value)  # unknown: from a newer library


def _status_label(status: Union[Status, int]) -> str:
    return f"Status.{status.name}" if isinstance(status, Status) else str(status)


def _decode(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else value.decode("utf-8", errors="replace")


def _error_from(status: int, err: Optional[int]) -> VoucherifyError:
    """Copies a vf_error (an address, or None for NULL) into an exception and frees it."""
    # A status is an int; Status members hash and compare like theirs.
    cls: Type[VoucherifyError] = ERRORS_BY_STATUS.get(status, VoucherifyError)  # type: ignore[call-overload]
    if not err:
        return cls(f"libvoucherify call failed: {status_name(status)}", status=status)
    api = _api
    try:
        message = _decode(api.vf_error_message(err)) or status_name(status)
        limit = api.vf_error_rate_limit_limit(err)
        remaining = api.vf_error_rate_limit_remaining(err)
        retry_at = api.vf_error_rate_limit_retry_at(err)
        rate_limit = None
        if limit >= 0 or remaining >= 0 or retry_at >= 0:
            rate_limit = RateLimit(_optional(limit), _optional(remaining), _optional(retry_at))
        return cls(
            message,
            status=status,
            http_status=api.vf_error_http_status(err) or None,
            key=_decode(api.vf_error_key(err)),
            api_message=_decode(api.vf_error_api_message(err)),
            details=_decode(api.vf_error_details(err)),
            request_id=_decode(api.vf_error_request_id(err)),
            attempts=api.vf_error_attempts(err),
            retry_after=_optional(api.vf_error_retry_after_s(err)),
            rate_limit=rate_limit,
        )
    finally:
        api.vf_error_free(err)


def _call(func: Callable[..., int], *args: object) -> None:
    """Calls a fallible C function (err_out last) and raises on failure."""
    err = _Handle()
    status = func(*args, ctypes.byref(err))
    if status:  # anything but VF_STATUS_OK (0)
        raise _error_from(status, err.value)


def _invalid(what: str, why: str, status: Status = Status.INVALID_ARGUMENT) -> InvalidArgumentError:
    cls = InvalidUtf8Error if status == Status.INVALID_UTF8 else InvalidArgumentError
    return cls(f"invalid {what}: {why}", status=status)


def _to_c_string(what: str, value: Union[str, bytes], allow_bytes: bool = False) -> bytes:
    """Encodes an argument for C. The message never includes the value: it may be secret."""
    if isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid(what, "not encodable as UTF-8", Status.INVALID_UTF8) from None
    elif allow_bytes and isinstance(value, (bytes, bytearray)):
        data = bytes(value)  # as-is: the C layer checks UTF-8
    else:
        expected = "str or bytes" if allow_bytes else "str"
        raise TypeError(f"{what} must be {expected}, not {type(value).__name__}")
    # C strings end at the first NUL: ctypes would silently send a shorter value.
    # (Searched as the int 0: `b"\0" in data` first tries the bytes as an int
    # and pays for a raised and cleared TypeError on every call.)
    if 0 in data:
        raise _invalid(what, "contains a NUL character")
    return data


def _to_uint32(what: str, value: int) -> int:
    # ctypes.c_uint32 wraps out-of-range values silently; check them here.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be int, not {type(value).__name__}")
    if not 0 <= value <= 0xFFFF_FFFF:
        raise _invalid(what, f"{value} is out of range")
    return value


# ---- public API --------------------------------------------------------------

def version() -> str:
    """The loaded library's version, such as ``"0.1.0"``."""
    raw: bytes = _api.vf_version()
    return raw.decode("ascii")


def library_path() -> str:
    """The file the library was loaded from (resolved through symlinks)."""
    return _lib_path


def status_name(status: int) -> str:
    """The C name of a status, such as ``"VF_STATUS_TIMEOUT"``."""
    if not -(2**31) <= int(status) < 2**31:
        status = -1  # outside C int: unknown to the library too
    raw: bytes = _api.vf_status_str(int(status))
    return raw.decode("ascii")


@dataclass(frozen=True)
class Token:
    """An access token and what Voucherify said about it.

    ``access_token`` is a secret: it is left out of ``repr()`` so that
    logging a token object does not leak it. ``expires_at`` is Unix seconds
    by Voucherify's clock; ``expires_in`` the seconds it had left when
    Voucherify answered (900 for a new token), which does not depend on the
    two clocks agreeing.
    """

    access_token: str = field(repr=False)
    client_id: str
    scope: str
    token_type: str
    expires_at: int
    expires_in: int


@dataclass(frozen=True)
class RevokeResult:
    """The outcome of one token in :meth:`Client.revoke_many`.

    ``status`` is ``Status.OK`` or the failure's status; ``error`` is the
    exception that :meth:`Client.revoke` would have raised for that token
    (a :class:`TokenNotFoundError` for a 404), or None when revoked.
    """

    status: Union[Status, int]
    error: Optional[VoucherifyError] = None

    @property
    def ok(self) -> bool:
        """True if Voucherify revoked the token."""
        return self.status == Status.OK

    @property
    def not_found(self) -> bool:
        """True if the token was unknown, expired or already revoked (404)."""
        return self.status == Status.TOKEN_NOT_FOUND


def _token_from(ptr: Optional[int]) -> Token:
    """Copies a vf_token (an address) into a Token and frees it."""
    try:
        return Token(
            access_token=_decode(_api.vf_token_access_token(ptr)) or "",
            client_id=_decode(_api.vf_token_client_id(ptr)) or "",
            scope=_decode(_api.vf_token_scope(ptr)) or "",
            token_type=_decode(_api.vf_token_type(ptr)) or "",
            expires_at=_api.vf_token_expires_at(ptr),
            expires_in=_api.vf_token_expires_in(ptr),
        )
    finally:
        _api.vf_token_free(ptr)


def _scope_string(scope: Union[str, Sequence[str]]) -> bytes:
    # OAuth scopes are space-separated; commas are left for Voucherify to refuse.
    if not isinstance(scope, str):
        parts = list(scope)
        for part in parts:
            if not isinstance(part, str):
                raise TypeError(f"scope items must be str, not {type(part).__name__}")
        scope = " ".join(parts)
    return _to_c_string("scope", scope)


def _take_owned_string(ptr: ctypes.c_void_p) -> str:
    """Copies a string the library returned as owned, then frees it."""
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        _api.vf_string_free(ptr)


_Self = TypeVar("_Self", bound="_Owned")


class _Owned:
    """A C handle that calls borrow and ``close()`` frees once they end.

    ctypes releases the GIL during calls, so another thread may close while
    a call runs: ``close()`` takes the handle away, then waits for the count
    of running calls to drop to zero before freeing it. The count is kept
    under a plain lock (cheap, taken twice per call); the last call to end
    wakes the closer only when there is one, i.e. when the handle is gone.
    """

    _handle: Optional[int] = None  # set last; __del__ may see it unset
    _closed_error: Type[ClosedError] = ClosedError

    def _init_owned(self, free: Callable[..., None]) -> None:
        # Kept on self so __del__ works at interpreter shutdown, when globals may be gone.
        self._free = free
        self._reset_call_count()
        _live_objects.add(self)

    def _reset_call_count(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when the count drops to 0
        self._active_calls = 0

    def close(self) -> None:
        """Frees the object after calls in progress end. Idempotent."""
        with self._lock:
            handle, self._handle = self._handle, None
            while self._active_calls:
                self._idle.wait()
        if handle:
            self._free(handle)

    @property
    def closed(self) -> bool:
        return not self._handle

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # No call can be running: it would hold a reference to self.
        handle, self._handle = self._handle, None
        if handle:
            self._free(handle)

    def __repr__(self) -> str:
        # Deliberately shows no credentials, tokens or configuration.
        state = "closed" if self.closed else "open"
        return f"<libvoucherify.{type(self).__name__} {state} at {id(self):#x}>"

    def _begin_call(self) -> int:
        with self._lock:
            handle = self._handle
            if not handle:
                raise self._closed_error(f"operation on a closed libvoucherify.{type(self).__name__}")
            self._active_calls += 1
            return handle

    def _end_call(self) -> None:
        with self._lock:
            self._active_calls -= 1
            if not self._active_calls and not self._handle:
                self._idle.notify_all()  # close() is waiting


# After os.fork() the child has only the forking thread: calls that other
# threads had in progress (and any lock they held) will never end there, so
# every object's count starts again from zero, or close() would wait forever.
_live_objects: "weakref.WeakSet[_Owned]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for owned in list(_live_objects):
        owned._reset_call_count()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Client(_Owned):
    """A Voucherify client holding credentials and a pool of connections.

    Arguments given explicitly override what ``from_env=True`` reads from
    ``VOUCHERIFY_APP_ID``, ``VOUCHERIFY_SECRET_KEY`` and ``VOUCHERIFY_API_URL``
    or ``VOUCHERIFY_CLUSTER``. ``cluster`` and ``base_url`` are exclusive;
    the default is the ``api`` cluster. Timeouts are in milliseconds.

    Failed calls are retried by default: ``max_attempts`` requests at most
    (default 3; 1 turns retries off) for refused or reset connections,
    timeouts before any answer and answers 429, 502, 503 and 504, with
    backoff starting from up to ``retry_base_delay_ms`` (default 200) or the
    wait the server asks for, never past ``timeout_ms``.

    ``proxy`` is an ``http://[user:password@]host:port`` URL, or with
    ``proxy_from_env=True`` it is read from ``HTTPS_PROXY`` and friends
    (honouring ``NO_PROXY``); without either no proxy is used. The URL never
    appears in messages or ``repr()``. ``tls_roots`` picks the trusted roots
    (:class:`TlsRoots`; the system store by default) and ``ca_file`` adds a
    PEM file of extra ones. ``headers`` are added to every request; the
    credential headers and those the library sets itself cannot be replaced.

    Thread safety: one client may be shared by any number of threads, and
    should be, so they share its connections. ctypes releases the GIL while
    the library works, so calls really run in parallel. ``close()`` waits
    for calls in progress to finish before freeing the client.

    Use it as a context manager, or call :meth:`close`; a forgotten client
    is freed when garbage-collected.
    """

    _closed_error = ClientClosedError

    def __init__(
        self,
        app_id: Optional[str] = None,
        secret_key: Optional[str] = None,
        *,
        cluster: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout_ms: Optional[int] = None,
        connect_timeout_ms: Optional[int] = None,
        channel: Optional[str] = None,
        user_agent_suffix: Optional[str] = None,
        allow_insecure_http: bool = False,
        from_env: bool = False,
        max_attempts: Optional[int] = None,
        retry_base_delay_ms: Optional[int] = None,
        proxy: Optional[str] = None,
        proxy_from_env: bool = False,
        tls_roots: Optional[TlsRoots] = None,
        ca_file: Union[str, "os.PathLike[str]", None] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        if cluster is not None and base_url is not None:
            raise _invalid("configuration", "give cluster or base_url, not both")
        # The library would silently let the environment win: refuse the ambiguity.
        if proxy is not None and proxy_from_env:
            raise _invalid("configuration", "give proxy or proxy_from_env, not both")
        if tls_roots is not None:
            try:
                tls_roots = TlsRoots(tls_roots)
            except ValueError:
                raise _invalid("tls_roots", f"{tls_roots!r} is not a TlsRoots value") from None
        self._init_owned(_api.vf_client_free)

        config = _api.vf_config_new()
        if not config:
            raise MemoryError("vf_config_new failed")
        try:
            if from_env:
                _call(_api.vf_config_load_env, config)
            strings = [
                (_api.vf_config_set_app_id, "app_id", app_id),
                (_api.vf_config_set_secret_key, "secret_key", secret_key),
                (_api.vf_config_set_cluster, "cluster", cluster),
                (_api.vf_config_set_base_url, "base_url", base_url),
                (_api.vf_config_set_channel, "channel", channel),
                (_api.vf_config_set_user_agent_suffix, "user_agent_suffix", user_agent_suffix),
                (_api.vf_config_set_proxy, "proxy", proxy),
            ]
            for setter, what, value in strings:
                if value is not None:
                    _call(setter, config, _to_c_string(what, value))
            if ca_file is not None:
                path = os.fspath(ca_file)  # bytes paths pass as-is; C checks UTF-8
                _call(_api.vf_config_set_ca_file, config, _to_c_string("ca_file", path, allow_bytes=True))
            for name, value in (headers or {}).items():
                _call(
                    _api.vf_config_add_header,
                    config,
                    _to_c_string("header name", name),
                    _to_c_string("header value", value),
                )
            if proxy_from_env:
                _call(_api.vf_config_set_proxy_from_env, config, True)
            if tls_roots is not None:
                _call(_api.vf_config_set_tls_roots, config, int(tls_roots))
            if allow_insecure_http:
                _call(_api.vf_config_set_allow_insecure_http, config, True)
            numbers = (
                (_api.vf_config_set_timeout_ms, "timeout_ms", timeout_ms),
                (_api.vf_config_set_connect_timeout_ms, "connect_timeout_ms", connect_timeout_ms),
                (_api.vf_config_set_max_attempts, "max_attempts", max_attempts),
                (_api.vf_config_set_retry_base_delay_ms, "retry_base_delay_ms", retry_base_delay_ms),
            )
            for setter, name, number in numbers:
                if number is not None:
                    _call(setter, config, _to_uint32(name, number))
            handle = _Handle()
            _call(_api.vf_client_new, config, ctypes.byref(handle))
        finally:
            _api.vf_config_free(config)  # the client keeps its own copy
        self._handle = handle.value

    def revoke(self, access_token: Union[str, bytes]) -> None:
        """Revokes an access token.

        Raises :class:`TokenNotFoundError` if Voucherify answers 404 (the token
        is unknown, expired or already revoked: often nothing to do), another
        :class:`VoucherifyError` subclass on any other failure, and
        :class:`InvalidArgumentError` without sending anything for an empty
        token or one with a control character. ``bytes`` are passed as-is.
        """
        token = _to_c_string("access token", access_token, allow_bytes=True)
        # _call() inlined, raising after the finally: the hot path of the binding.
        err = _Handle()
        handle = self._begin_call()
        try:
            status = _api.vf_revoke_token(handle, token, ctypes.byref(err))
        finally:
            self._end_call()
        if status:  # anything but VF_STATUS_OK (0)
            raise _error_from(status, err.value)

    def rate_limit(self) -> RateLimit:
        """Voucherify's ``X-Rate-Limit-*`` headers from the latest answer this
        client received (from any thread); fields are None until an answer
        carried them."""
        values = [ctypes.c_int64(-1) for _ in range(3)]
        handle = self._begin_call()
        try:
            _call(_api.vf_client_rate_limit, handle, *(ctypes.byref(v) for v in values))
        finally:
            self._end_call()
        return RateLimit(*(_optional(v.value) for v in values))

    def generate(self, scope: Union[str, Sequence[str]]) -> Token:
        """Mints a new access token for ``scope``.

        ``scope`` is a space-separated string such as ``"api"`` or a
        sequence such as ``["vouchers", "campaigns"]``, joined with spaces.
        Scopes are not checked here: Voucherify refuses unknown ones (and
        comma-separated lists) with :class:`BadRequestError`, key
        ``invalid_scope``. Tokens live 900 s and a project may hold at most
        1000 live ones: prefer a :meth:`token_source`, which reuses them.
        """
        scope_c = _scope_string(scope)
        out = _Handle()
        handle = self._begin_call()
        try:
            _call(_api.vf_generate_token, handle, scope_c, ctypes.byref(out))
        finally:
            self._end_call()
        return _token_from(out.value)

    def introspect(self, access_token: Union[str, bytes]) -> Optional[Token]:
        """Returns the token's details if it is active, else None.

        An unknown, expired or revoked token is a normal answer (None), not
        an exception; exceptions mean the question could not be answered.
        """
        token = _to_c_string("access token", access_token, allow_bytes=True)
        active = ctypes.c_bool(False)
        out = _Handle()
        handle = self._begin_call()
        try:
            _call(_api.vf_introspect_token, handle, token, ctypes.byref(active), ctypes.byref(out))
        finally:
            self._end_call()
        if not out.value:  # the library gives details only for an active token
            return None
        details = _token_from(out.value)  # copies and frees it, whatever active says
        return details if active.value else None

    def revoke_many(
        self, tokens: Sequence[Union[str, bytes]], parallelism: int = 0
    ) -> List[RevokeResult]:
        """Revokes many tokens, ``parallelism`` requests at a time.

        ``parallelism`` 0 means the library's default (4); larger values
        than 32 are capped at 32.
        Returns one :class:`RevokeResult` per token, in input order, whatever
        the outcomes: a failure for one token is reported in its result, not
        raised. Invalid entries (empty, control or NUL characters, not UTF-8)
        get ``INVALID_ARGUMENT`` or ``INVALID_UTF8`` and are not sent.
        Raises only for a non-str/bytes entry (TypeError), a bad
        ``parallelism`` or a closed client.
        """
        parallelism = _to_uint32("parallelism", parallelism)
        count = len(tokens)
        encoded: List[Optional[bytes]] = []
        # Entries C cannot even receive (a NUL would silently cut them) are
        # judged here and sent to C as NULL; their outcome is overwritten below.
        local_errors: Dict[int, InvalidArgumentError] = {}
        for i, token in enumerate(tokens):
            try:
                encoded.append(_to_c_string("access token", token, allow_bytes=True))
            except InvalidArgumentError as e:
                encoded.append(None)
                local_errors[i] = e
        c_tokens = (_c_str * count)(*encoded)
        statuses = (_c_status * count)()
        errors = (_Handle * count)()  # zero-filled: NULL until written
        handle = self._begin_call()
        try:
            # count 0 still goes to C: it checks the client and parallelism.
            _call(_api.vf_revoke_tokens, handle, c_tokens, count, parallelism, statuses, errors)
        finally:
            self._end_call()

        results: List[RevokeResult] = []
        for i in range(count):
            status = statuses[i]
            error: Optional[VoucherifyError] = None
            if status == Status.OK:
                _api.vf_error_free(errors[i])  # NULL by contract; freed to be safe
            else:
                error = _error_from(status, errors[i])  # frees it
            if i in local_errors:
                error = local_errors[i]
                status = error.status
            results.append(RevokeResult(_to_status(status), error))
        return results

    def token_source(
        self,
        scope: Union[str, Sequence[str]],
        *,
        refresh_margin_s: float = 60,
        revoke_on_close: bool = True,
    ) -> "TokenSource":
        """A :class:`TokenSource` on this client; see there for the arguments."""
        return TokenSource(
            self, scope, refresh_margin_s=refresh_margin_s, revoke_on_close=revoke_on_close
        )


class TokenSource(_Owned):
    """Hands out a valid access token: mints once, caches, renews in time.

    The token is replaced ``refresh_margin_s`` seconds before it expires
    (the library never uses more than half a token's lifetime). When many
    threads need a new token, one request is sent and they share its
    answer, a failure included; while the current token is still valid it
    is handed out at once to all but the one thread renewing it, and also
    when the renewal fails. For a second after a failed mint, calls get that
    failure (or the still-valid token) without a request.

    After ``os.fork()`` (multiprocessing's fork start method, pre-fork
    servers) a child may keep using the source and its cached token; only
    the process that minted a token revokes it on ``close()``.

    ``close()`` (or leaving a ``with`` block) revokes the token this source
    minted unless ``revoke_on_close=False``: restarts then do not pile up
    live tokens toward the project's limit of 1000. That is one request,
    bounded by the client's timeout, and its failure is ignored. A source
    forgotten without ``close()`` is freed, and its token revoked, when
    garbage-collected.

    The source keeps the client's connection pool alive, so the
    :class:`Client` may be closed first. It may be shared by any number of
    threads; ``close()`` waits for calls in progress.
    """

    _closed_error = TokenSourceClosedError

    def __init__(
        self,
        client: Client,
        scope: Union[str, Sequence[str]],
        *,
        refresh_margin_s: float = 60,
        revoke_on_close: bool = True,
    ) -> None:
        scope_c = _scope_string(scope)
        if isinstance(refresh_margin_s, bool) or not isinstance(refresh_margin_s, (int, float)):
            raise TypeError(f"refresh_margin_s must be a number, not {type(refresh_margin_s).__name__}")
        if not 0 <= refresh_margin_s * 1000 <= 0xFFFF_FFFF:  # also refuses NaN
            raise _invalid("refresh_margin_s", f"{refresh_margin_s} is out of range")
        margin_ms = round(refresh_margin_s * 1000)
        self._init_owned(_api.vf_token_source_free)

        source = _Handle()
        client_handle = client._begin_call()
        try:
            _call(_api.vf_token_source_new, client_handle, scope_c, ctypes.byref(source))
        finally:
            client._end_call()
        try:
            # The setters must run before the source is shared: here, still private.
            _call(_api.vf_token_source_set_refresh_margin_ms, source, margin_ms)
            _call(_api.vf_token_source_set_revoke_on_free, source, bool(revoke_on_close))
        except BaseException:
            _api.vf_token_source_free(source)  # has minted nothing: no request
            raise
        self._handle = source.value

    def access_token(self) -> str:
        """A valid access token, minted or renewed if needed. Do not log it."""
        return self._owned_string(_api.vf_token_source_access_token)

    def authorization(self) -> str:
        """The ``Authorization`` header value: ``"Bearer <token>"``."""
        return self._owned_string(_api.vf_token_source_authorization)

    def refresh(self) -> None:
        """Mints a new token now, or joins a mint in flight: call it when a
        request with the current one got 401. Prefer :meth:`refresh_rejected`."""
        handle = self._begin_call()
        try:
            _call(_api.vf_token_source_refresh, handle)
        finally:
            self._end_call()

    def refresh_rejected(self, rejected_token: str) -> str:
        """A valid token other than ``rejected_token`` (which got a 401): the
        current one if another thread already replaced it, else a new one, so
        that many threads meeting one 401 mint one token. Do not log it."""
        rejected = _to_c_string("rejected token", rejected_token, allow_bytes=False)
        out = ctypes.c_void_p()
        handle = self._begin_call()
        try:
            _call(_api.vf_token_source_refresh_rejected, handle, rejected, ctypes.byref(out))
        finally:
            self._end_call()
        return _take_owned_string(out)

    def _owned_string(self, func: Callable[..., int]) -> str:
        out = ctypes.c_void_p()
        handle = self._begin_call()
        try:
            _call(func, handle, ctypes.byref(out))
        finally:
            self._end_call()
        return _take_owned_string(out)
