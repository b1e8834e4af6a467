"""Statuses and exceptions: the C ``vf_status`` enum, and one exception class per failure."""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Type, Union

from ._capi import Handle as _Handle
from ._capi import api as _api


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
    CANCELLED = 16
    QUOTA_EXCEEDED = 17


@dataclass(frozen=True)
class RateLimit:
    """Voucherify's ``X-Rate-Limit-*`` headers; each field None when absent.

    ``limit``: calls allowed per period; ``remaining``: calls left in this
    period; ``retry_at``: when calls are allowed again, in Unix seconds;
    ``limit_type``: which limit they report (``X-Rate-Limit-Type``), such as
    ``"api_calls"`` or ``"api_calls_cycle"`` (the billing cycle's quota).
    """

    limit: Optional[int] = None
    remaining: Optional[int] = None
    retry_at: Optional[int] = None
    limit_type: Optional[str] = None


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


class QuotaExceededError(VoucherifyError):
    """The project's quota is spent: Voucherify answered 402, or 429 for the
    billing cycle's quota or an ended plan (VF_STATUS_QUOTA_EXCEEDED). No
    retry or wait within a call clears it, so none is made."""


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


class CallCancelledError(VoucherifyError):
    """The call was stopped before it finished: a bulk revoke was stopped
    before this token was sent, or the client was cancelled while the call
    waited to retry (VF_STATUS_CANCELLED). Not asyncio's CancelledError,
    hence the longer name."""


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
    Status.CANCELLED: CallCancelledError,
    Status.QUOTA_EXCEEDED: QuotaExceededError,
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
    try:
        return _error_read(status, err)
    finally:
        if err:
            _api.vf_error_free(err)


def _error_read(status: int, err: Optional[int]) -> VoucherifyError:
    """Copies a vf_error (an address, or None for NULL) into an exception,
    leaving it to its owner (a borrowed one, in a progress callback)."""
    # A status is an int; Status members hash and compare like theirs.
    cls: Type[VoucherifyError] = ERRORS_BY_STATUS.get(status, VoucherifyError)  # type: ignore[call-overload]
    if not err:
        return cls(f"libvoucherify call failed: {status_name(status)}", status=status)
    api = _api
    message = _decode(api.vf_error_message(err)) or status_name(status)
    limit = api.vf_error_rate_limit_limit(err)
    remaining = api.vf_error_rate_limit_remaining(err)
    retry_at = api.vf_error_rate_limit_retry_at(err)
    limit_type = _decode(api.vf_error_rate_limit_type(err))
    rate_limit = None
    if limit >= 0 or remaining >= 0 or retry_at >= 0 or limit_type is not None:
        rate_limit = RateLimit(_optional(limit), _optional(remaining), _optional(retry_at), limit_type)
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


def _call(func: Callable[..., int], *args: object) -> None:
    """Calls a fallible C function (err_out last) and raises on failure."""
    err = _Handle()
    status = func(*args, ctypes.byref(err))
    if status:  # anything but VF_STATUS_OK (0)
        raise _error_from(status, err.value)


def _invalid(what: str, why: str, status: Status = Status.INVALID_ARGUMENT) -> InvalidArgumentError:
    cls = InvalidUtf8Error if status == Status.INVALID_UTF8 else InvalidArgumentError
    return cls(f"invalid {what}: {why}", status=status)


def status_name(status: int) -> str:
    """The C name of a status, such as ``"VF_STATUS_TIMEOUT"``."""
    if not -(2**31) <= int(status) < 2**31:
        status = -1  # outside C int: unknown to the library too
    raw: bytes = _api.vf_status_str(int(status))
    return raw.decode("ascii")
