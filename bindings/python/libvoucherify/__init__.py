"""Python binding for libvoucherify: revoke Voucherify OAuth 2.0 tokens.

A thin ctypes layer over the library's C API (include/voucherify.h)::

    import libvoucherify

    with libvoucherify.Client("my-app-id", "my-secret-key") as client:
        try:
            client.revoke(token)
        except libvoucherify.TokenNotFoundError:
            pass  # unknown, expired or already revoked: nothing left to do

The library is found through, in order: the environment variable
``LIBVOUCHERIFY_PATH`` (a file path; if set, it is the only candidate), the
repository's own build (``target/debug`` then ``target/release``), the
installed ``libvoucherify.so.0``, then ``ctypes.util.find_library``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import os
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional, Type, Union

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
    "ClientClosedError",
    "ERRORS_BY_STATUS",
    "Client",
    "version",
    "status_name",
]


# ---- loading the library -----------------------------------------------------

def _load_library() -> ctypes.CDLL:
    tried: List[str] = []

    override = os.environ.get("LIBVOUCHERIFY_PATH")
    if override:
        # An explicit choice must not silently fall back to another build.
        try:
            return ctypes.CDLL(override)
        except OSError as e:
            raise ImportError(
                f"libvoucherify: cannot load LIBVOUCHERIFY_PATH={override!r}: {e}"
            ) from e

    repo_root = Path(__file__).resolve().parents[3]
    candidates: List[str] = [
        str(repo_root / "target" / profile / "libvoucherify.so")
        for profile in ("debug", "release")
    ]
    candidates.append("libvoucherify.so.0")
    found = ctypes.util.find_library("voucherify")
    if found:
        candidates.append(found)

    for candidate in candidates:
        if os.sep in candidate and not os.path.exists(candidate):
            tried.append(f"{candidate} (no such file)")
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as e:
            tried.append(f"{candidate} ({e})")
    if not found:
        tried.append("ctypes.util.find_library('voucherify') (nothing found)")
    raise ImportError(
        "libvoucherify: cannot find the library; set LIBVOUCHERIFY_PATH to the "
        "path of libvoucherify.so. Tried:\n  " + "\n  ".join(tried)
    )


class _Config(ctypes.Structure):
    """Opaque vf_config."""


class _Client(ctypes.Structure):
    """Opaque vf_client."""


class _Error(ctypes.Structure):
    """Opaque vf_error."""


_ConfigP = ctypes.POINTER(_Config)
_ClientP = ctypes.POINTER(_Client)
_ErrorP = ctypes.POINTER(_Error)
_ErrorOut = ctypes.POINTER(_ErrorP)
_c_status = ctypes.c_int  # vf_status is a C enum: int-sized
_c_str = ctypes.c_char_p

_lib = _load_library()

# (name, restype, argtypes) for every function in voucherify.h. Pointer
# returns must be declared: the default int restype truncates them.
_SIGNATURES = [
    ("vf_version", _c_str, []),
    ("vf_status_str", _c_str, [ctypes.c_int]),
    ("vf_error_status", _c_status, [_ErrorP]),
    ("vf_error_message", _c_str, [_ErrorP]),
    ("vf_error_http_status", ctypes.c_int, [_ErrorP]),
    ("vf_error_key", _c_str, [_ErrorP]),
    ("vf_error_api_message", _c_str, [_ErrorP]),
    ("vf_error_details", _c_str, [_ErrorP]),
    ("vf_error_request_id", _c_str, [_ErrorP]),
    ("vf_error_free", None, [_ErrorP]),
    ("vf_config_new", _ConfigP, []),
    ("vf_config_free", None, [_ConfigP]),
    ("vf_config_set_app_id", _c_status, [_ConfigP, _c_str, _ErrorOut]),
    ("vf_config_set_secret_key", _c_status, [_ConfigP, _c_str, _ErrorOut]),
    ("vf_config_set_cluster", _c_status, [_ConfigP, _c_str, _ErrorOut]),
    ("vf_config_set_base_url", _c_status, [_ConfigP, _c_str, _ErrorOut]),
    ("vf_config_set_allow_insecure_http", _c_status, [_ConfigP, ctypes.c_bool, _ErrorOut]),
    ("vf_config_set_connect_timeout_ms", _c_status, [_ConfigP, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_timeout_ms", _c_status, [_ConfigP, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_channel", _c_status, [_ConfigP, _c_str, _ErrorOut]),
    ("vf_config_set_user_agent_suffix", _c_status, [_ConfigP, _c_str, _ErrorOut]),
    ("vf_config_load_env", _c_status, [_ConfigP, _ErrorOut]),
    ("vf_client_new", _c_status, [_ConfigP, ctypes.POINTER(_ClientP), _ErrorOut]),
    ("vf_client_free", None, [_ClientP]),
    ("vf_revoke_token", _c_status, [_ClientP, _c_str, _ErrorOut]),
]

for _name, _restype, _argtypes in _SIGNATURES:
    _func = getattr(_lib, _name)
    _func.restype = _restype
    _func.argtypes = _argtypes
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


class VoucherifyError(Exception):
    """A failed libvoucherify call, with the details of its ``vf_error``.

    Attributes: ``status`` (a :class:`Status`, or a plain int this binding
    does not know), ``message`` (one line, fit for a log), ``http_status``
    (None when there was no answer), and from Voucherify's JSON error body,
    each None when absent: ``key``, ``api_message``, ``details`` and
    ``request_id`` (what Voucherify support asks for). Never holds the secret
    key or a token.
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

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={_status_label(self.status)}, "
            f"http_status={self.http_status!r}, key={self.key!r}, "
            f"request_id={self.request_id!r})"
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


class ClientClosedError(ValueError):
    """The client was used after close(), like I/O on a closed file."""


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


def _to_status(value: int) -> Union[Status, int]:
    try:
        return Status(value)
    except ValueError:
        return value  # appended by a newer library than this binding


def _status_label(status: Union[Status, int]) -> str:
    return f"Status.{status.name}" if isinstance(status, Status) else str(status)


def _decode(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else value.decode("utf-8", errors="replace")


def _error_from(status: int, err: "ctypes._Pointer[_Error]") -> VoucherifyError:
    """Copies a vf_error into an exception and frees it."""
    try:
        if not err:
            message = f"libvoucherify call failed: {status_name(status)}"
            http_status: Optional[int] = None
            fields: Dict[str, Optional[str]] = {}
        else:
            message = _decode(_lib.vf_error_message(err)) or status_name(status)
            http_status = _lib.vf_error_http_status(err) or None
            fields = {
                "key": _decode(_lib.vf_error_key(err)),
                "api_message": _decode(_lib.vf_error_api_message(err)),
                "details": _decode(_lib.vf_error_details(err)),
                "request_id": _decode(_lib.vf_error_request_id(err)),
            }
    finally:
        _lib.vf_error_free(err)  # NULL is accepted
    known = _to_status(status)
    cls = ERRORS_BY_STATUS.get(known, VoucherifyError) if isinstance(known, Status) else VoucherifyError
    return cls(message, status=status, http_status=http_status, **fields)


def _call(func: Callable[..., int], *args: object) -> None:
    """Calls a fallible C function (err_out last) and raises on failure."""
    err = _ErrorP()
    status = func(*args, ctypes.byref(err))
    if status != Status.OK:
        raise _error_from(status, err)


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
    if b"\0" in data:
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
    raw: bytes = _lib.vf_version()
    return raw.decode("ascii")


def status_name(status: int) -> str:
    """The C name of a status, such as ``"VF_STATUS_TIMEOUT"``."""
    if not -(2**31) <= int(status) < 2**31:
        status = -1  # outside C int: unknown to the library too
    raw: bytes = _lib.vf_status_str(int(status))
    return raw.decode("ascii")


class Client:
    """A Voucherify client holding credentials and a pool of connections.

    Arguments given explicitly override what ``from_env=True`` reads from
    ``VOUCHERIFY_APP_ID``, ``VOUCHERIFY_SECRET_KEY`` and ``VOUCHERIFY_API_URL``
    or ``VOUCHERIFY_CLUSTER``. ``cluster`` and ``base_url`` are exclusive;
    the default is the ``api`` cluster. Timeouts are in milliseconds.

    Thread safety: one client may be shared by any number of threads, and
    should be, so they share its connections. ctypes releases the GIL while
    the library works, so calls really run in parallel. ``close()`` waits
    for calls in progress to finish before freeing the client.

    Use it as a context manager, or call :meth:`close`; a forgotten client
    is freed when garbage-collected.
    """

    _handle: "Optional[ctypes._Pointer[_Client]]" = None  # set last in __init__; __del__ may see it unset

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
    ) -> None:
        if cluster is not None and base_url is not None:
            raise _invalid("configuration", "give cluster or base_url, not both")
        # Kept so __del__ works at interpreter shutdown, when globals may be gone.
        self._free = _lib.vf_client_free
        self._cond = threading.Condition()
        self._active_calls = 0

        config = _lib.vf_config_new()
        if not config:
            raise MemoryError("vf_config_new failed")
        try:
            if from_env:
                _call(_lib.vf_config_load_env, config)
            strings = [
                (_lib.vf_config_set_app_id, "app_id", app_id),
                (_lib.vf_config_set_secret_key, "secret_key", secret_key),
                (_lib.vf_config_set_cluster, "cluster", cluster),
                (_lib.vf_config_set_base_url, "base_url", base_url),
                (_lib.vf_config_set_channel, "channel", channel),
                (_lib.vf_config_set_user_agent_suffix, "user_agent_suffix", user_agent_suffix),
            ]
            for setter, what, value in strings:
                if value is not None:
                    _call(setter, config, _to_c_string(what, value))
            if allow_insecure_http:
                _call(_lib.vf_config_set_allow_insecure_http, config, True)
            if timeout_ms is not None:
                _call(_lib.vf_config_set_timeout_ms, config, _to_uint32("timeout_ms", timeout_ms))
            if connect_timeout_ms is not None:
                _call(
                    _lib.vf_config_set_connect_timeout_ms,
                    config,
                    _to_uint32("connect_timeout_ms", connect_timeout_ms),
                )
            handle = _ClientP()
            _call(_lib.vf_client_new, config, ctypes.byref(handle))
        finally:
            _lib.vf_config_free(config)  # the client keeps its own copy
        self._handle = handle

    def revoke(self, access_token: Union[str, bytes]) -> None:
        """Revokes an access token.

        Raises :class:`TokenNotFoundError` if Voucherify answers 404 (the token
        is unknown, expired or already revoked: often nothing to do), another
        :class:`VoucherifyError` subclass on any other failure, and
        :class:`InvalidArgumentError` without sending anything for an empty
        token or one with a control character. ``bytes`` are passed as-is.
        """
        token = _to_c_string("access token", access_token, allow_bytes=True)
        handle = self._begin_call()
        try:
            _call(_lib.vf_revoke_token, handle, token)
        finally:
            self._end_call()

    def close(self) -> None:
        """Frees the client after calls in progress end. Idempotent."""
        with self._cond:
            handle, self._handle = self._handle, None
            while self._active_calls:
                self._cond.wait()
        if handle:
            self._free(handle)

    @property
    def closed(self) -> bool:
        return not self._handle

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # No call can be running: it would hold a reference to self.
        handle, self._handle = self._handle, None
        if handle:
            self._free(handle)

    def __repr__(self) -> str:
        # Deliberately shows no credentials and no configuration.
        state = "closed" if self.closed else "open"
        return f"<libvoucherify.Client {state} at {id(self):#x}>"

    def _begin_call(self) -> "ctypes._Pointer[_Client]":
        with self._cond:
            if not self._handle:
                raise ClientClosedError("operation on a closed libvoucherify.Client")
            self._active_calls += 1
            return self._handle

    def _end_call(self) -> None:
        with self._cond:
            self._active_calls -= 1
            if not self._active_calls:
                self._cond.notify_all()
