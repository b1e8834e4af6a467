"""The objects: Client, TokenSource, and what their calls return."""

from __future__ import annotations

import ctypes
import enum
import logging
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Type, TypeVar, Union

from . import _auth, _capi
from ._capi import Handle as _Handle
from ._capi import api as _api
from ._capi import c_status as _c_status
from ._capi import c_str as _c_str
from ._errors import (
    ClientClosedError,
    ClosedError,
    InvalidArgumentError,
    RateLimit,
    Status,
    TokenSourceClosedError,
    VoucherifyError,
    _call,
    _decode,
    _error_from,
    _error_read,
    _invalid,
    _optional,
    _to_status,
)


# The library's log records go to this logger; its levels, from the C
# vf_log_level values (1 error .. 5 trace; trace is below DEBUG).
LOGGER = logging.getLogger("libvoucherify")
TRACE = 5
_PY_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG, 5: TRACE}


def _on_log_record(_user_data: Any, level: int, message: bytes) -> None:
    py_level = _PY_LEVELS.get(level, logging.DEBUG)
    if LOGGER.isEnabledFor(py_level):
        LOGGER.log(py_level, "%s", message.decode("utf-8", "replace"))


# One C callback for every client, alive as long as the module.
_LOG_CALLBACK = _capi.LogCallback(_on_log_record)


def _library_log_level() -> Optional[int]:
    """The least important C level the logger wants now, or None: then no
    callback is set, and the library formats no record at all."""
    for c_level in (5, 4, 3, 2, 1):
        if LOGGER.isEnabledFor(_PY_LEVELS[c_level]):
            return c_level
    return None


class TlsRoots(enum.IntEnum):
    """Mirror of the C ``vf_tls_roots`` enum: which certificates TLS servers must chain to."""

    SYSTEM = 0  # the operating system's store (the library's default)
    MOZILLA = 1  # Mozilla's list built into the library, for hosts without a store


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


def version() -> str:
    """The loaded library's version, such as ``"0.1.0"``."""
    raw: bytes = _api.vf_version()
    return raw.decode("ascii")


def library_path() -> str:
    """The file the library was loaded from (resolved through symlinks)."""
    return _capi.library_path()


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


def _progress_adapter(
    progress: Callable[[int, RevokeResult], Optional[bool]],
    local_errors: Mapping[int, InvalidArgumentError],
    raised: List[BaseException],
) -> Callable[[Any, int, int, Optional[int]], int]:
    """The C progress callback around ``progress``: returns 1 (stop) when it
    returns False or raises; the exception is kept in ``raised``."""

    def adapter(_user_data: Any, index: int, status: int, err: Optional[int]) -> int:
        try:
            error: Optional[VoucherifyError] = local_errors.get(index)
            if error is not None:
                status = error.status
            elif status != Status.OK:
                error = _error_read(status, err)  # borrowed for this call
            return int(progress(index, RevokeResult(_to_status(status), error)) is False)
        except BaseException as e:  # noqa: B036 -- handed to the calling thread
            raised.append(e)
            return 1

    return adapter


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
    a call runs: ``close()`` takes the handle away, then waits until no call
    borrows it before freeing it. Each call is one entry of the set
    ``_calls`` (see :class:`_Borrow` for why a set and not a count).
    """

    _handle: Optional[int] = None  # set last; __del__ may see it unset
    _closed_error: Type[ClosedError] = ClosedError

    def _init_owned(self, free: Callable[..., None]) -> None:
        # Kept on self so __del__ works at interpreter shutdown, when globals may be gone.
        self._free = free
        self._forget_calls()
        _live_objects.add(self)

    def _forget_calls(self) -> None:
        self._calls: "set[_CallEntry]" = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when a call ends after close

    def close(self) -> None:
        """Frees the object after calls in progress end. Idempotent."""
        with self._lock:
            handle, self._handle = self._handle, None
            while self._calls:
                # The timeout matters only for a call that ended without its
                # __exit__ (see _Borrow): nothing wakes this thread then.
                self._idle.wait(0.05)
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
        # No call can be running: its _Borrow would hold a reference to self.
        handle, self._handle = self._handle, None
        if handle:
            self._free(handle)

    def __repr__(self) -> str:
        # Deliberately shows no credentials, tokens or configuration.
        state = "closed" if self.closed else "open"
        return f"<libvoucherify.{type(self).__name__} {state} at {id(self):#x}>"


# After os.fork() the child has only the forking thread: calls that other
# threads had in progress (and any lock they held) will never end there, so
# every object forgets them, or close() would wait forever.
_live_objects: "weakref.WeakSet[_Owned]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for owned in list(_live_objects):
        owned._forget_calls()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _CallEntry(weakref.ref):
    """A weak reference hashed by identity: it can leave a set after its
    referent died, even if it was never hashed before (weakref.ref's own
    hash needs the referent alive)."""

    __slots__ = ()
    __hash__ = object.__hash__
    __eq__ = object.__eq__


class _Borrow:
    """``with _Borrow(owner) as handle:`` -- one call's use of an owner's handle.

    Raises the owner's closed error if it is closed. While the block runs,
    an entry for this call sits in ``owner._calls``, and ``close()`` waits
    for that set to empty. The entry is a weak reference that removes itself
    when this object dies: a call that ends without ``__exit__`` running
    (an exception such as KeyboardInterrupt landing between two bytecodes
    of the with statement) still leaves the set, so ``close()`` can never
    wait forever for a call that has ended. Adding and removing are single
    C calls on a set, so no bytecode can fall between a check and its change.
    """

    __slots__ = ("_owner", "_entry", "__weakref__")

    def __init__(self, owner: _Owned) -> None:
        self._owner = owner

    def __enter__(self) -> int:
        owner = self._owner
        calls = owner._calls
        self._entry = entry = _CallEntry(self, calls.discard)
        try:
            calls.add(entry)
            # Read after the add: close() clears the handle, then waits for
            # the set, so a handle seen here stays valid until the call ends.
            handle = owner._handle
            if not handle:
                raise owner._closed_error(f"operation on a closed libvoucherify.{type(owner).__name__}")
            return handle
        except BaseException:
            self.__exit__()  # the with statement calls __exit__ only if this returns
            raise

    def __exit__(self, *exc_info: object) -> None:
        owner = self._owner
        owner._calls.discard(self._entry)
        if not owner._handle:  # closed meanwhile: close() may be waiting
            with owner._lock:
                owner._idle.notify_all()


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

    Logging: the library's records (requests, answers with Voucherify's
    request id, retries, rate-limit pauses, connections, tokens minted) go
    to ``logging.getLogger("libvoucherify")`` at ERROR, WARNING, INFO, DEBUG
    and TRACE (5), so ``logging.basicConfig(level=logging.DEBUG)`` shows
    them. The logger's level is read when the client is made: if it is
    enabled for nothing then, the library formats and passes up nothing.
    Records never hold the secret key, an access token or a proxy password.

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
            settings = [
                (_api.vf_config_set_app_id, "app_id", app_id, _to_c_string),
                (_api.vf_config_set_secret_key, "secret_key", secret_key, _to_c_string),
                (_api.vf_config_set_cluster, "cluster", cluster, _to_c_string),
                (_api.vf_config_set_base_url, "base_url", base_url, _to_c_string),
                (_api.vf_config_set_channel, "channel", channel, _to_c_string),
                (_api.vf_config_set_user_agent_suffix, "user_agent_suffix", user_agent_suffix, _to_c_string),
                (_api.vf_config_set_proxy, "proxy", proxy, _to_c_string),
                (_api.vf_config_set_timeout_ms, "timeout_ms", timeout_ms, _to_uint32),
                (_api.vf_config_set_connect_timeout_ms, "connect_timeout_ms", connect_timeout_ms, _to_uint32),
                (_api.vf_config_set_max_attempts, "max_attempts", max_attempts, _to_uint32),
                (_api.vf_config_set_retry_base_delay_ms, "retry_base_delay_ms", retry_base_delay_ms, _to_uint32),
            ]
            for setter, name, value, to_c in settings:
                if value is not None:
                    _call(setter, config, to_c(name, value))
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
            log_level = _library_log_level()
            if log_level is not None:
                _call(_api.vf_config_set_log_callback, config, _LOG_CALLBACK, None, log_level)
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
        # _call() inlined, raising after the block: the hot path of the binding.
        err = _Handle()
        with _Borrow(self) as handle:
            status = _api.vf_revoke_token(handle, token, ctypes.byref(err))
        if status:  # anything but VF_STATUS_OK (0)
            raise _error_from(status, err.value)

    def rate_limit(self) -> RateLimit:
        """Voucherify's ``X-Rate-Limit-*`` headers from the latest answer this
        client received (from any thread); fields are None until an answer
        carried them."""
        values = [ctypes.c_int64(-1) for _ in range(3)]
        limit_type = ctypes.c_void_p()
        with _Borrow(self) as handle:
            _call(_api.vf_client_rate_limit, handle, *(ctypes.byref(v) for v in values))
            _call(_api.vf_client_rate_limit_type, handle, ctypes.byref(limit_type))
        kind = _take_owned_string(limit_type) if limit_type.value else None
        return RateLimit(*(_optional(v.value) for v in values), limit_type=kind)

    def paused_until(self) -> Optional[float]:
        """Until when the rate limit pauses this client, in Unix seconds
        (``time.time()``'s clock), or None when calls go out at once.

        After a 429 with ``Retry-After``, or an answer with
        ``X-Rate-Limit-Remaining: 0``, nothing is sent by any thread using
        the client until then; a call whose timeout ends first raises
        :class:`RateLimitedError` (or :class:`QuotaExceededError`) at once.
        """
        unix_ms = ctypes.c_int64(-1)
        with _Borrow(self) as handle:
            _call(_api.vf_client_paused_until, handle, ctypes.byref(unix_ms))
        return None if unix_ms.value < 0 else unix_ms.value / 1000.0

    def counters(self) -> Dict[str, int]:
        """What this client has done so far, from any thread: ``calls``,
        ``requests`` (retries included), ``retries``, ``answers_2xx`` /
        ``_4xx`` / ``_5xx`` / ``_other``, ``rate_limited`` (429s),
        ``paused_ms`` (waits the server asked for), ``timeouts``,
        ``connection_failures``, ``tls_failures``, ``connections_opened``."""
        counters = _capi.Counters()
        counters.size = ctypes.sizeof(counters)
        with _Borrow(self) as handle:
            _call(_api.vf_client_counters, handle, ctypes.byref(counters))
        return {name: getattr(counters, name) for name, _ in _capi.Counters._fields_ if name != "size"}

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
        with _Borrow(self) as handle:
            _call(_api.vf_generate_token, handle, scope_c, ctypes.byref(out))
        return _token_from(out.value)

    def introspect(self, access_token: Union[str, bytes]) -> Optional[Token]:
        """Returns the token's details if it is active, else None.

        An unknown, expired or revoked token is a normal answer (None), not
        an exception; exceptions mean the question could not be answered.
        """
        token = _to_c_string("access token", access_token, allow_bytes=True)
        active = ctypes.c_bool(False)
        out = _Handle()
        with _Borrow(self) as handle:
            _call(_api.vf_introspect_token, handle, token, ctypes.byref(active), ctypes.byref(out))
        if not out.value:  # the library gives details only for an active token
            return None
        details = _token_from(out.value)  # copies and frees it, whatever active says
        return details if active.value else None

    def revoke_many(
        self,
        tokens: Sequence[Union[str, bytes]],
        parallelism: int = 0,
        progress: Optional[Callable[[int, RevokeResult], Optional[bool]]] = None,
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

        ``progress(index, result)``, if given, is called as each token
        finishes, in the order they finish, from the library's worker
        threads (never two at once). Returning ``False`` stops the
        operation: no further token is sent, those in flight (at most
        ``parallelism - 1``) finish and are reported, and tokens never sent
        get ``Status.CANCELLED`` and no call. An exception raised by
        ``progress`` stops it the same way and is raised here once the
        tokens in flight have finished.
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
        raised: List[BaseException] = []
        with _Borrow(self) as handle:
            # count 0 still goes to C: it checks the client and parallelism.
            if progress is None:
                _call(_api.vf_revoke_tokens, handle, c_tokens, count, parallelism, statuses, errors)
            else:
                c_progress = _capi.RevokeProgress(_progress_adapter(progress, local_errors, raised))
                _call(
                    _api.vf_revoke_tokens_with_progress,
                    handle, c_tokens, count, parallelism, c_progress, None, statuses, errors,
                )
        if raised:
            for err in errors:
                _api.vf_error_free(err)
            raise raised[0]

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
        with _Borrow(client) as client_handle:
            _call(_api.vf_token_source_new, client_handle, scope_c, ctypes.byref(source))
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
        with _Borrow(self) as handle:
            _call(_api.vf_token_source_refresh, handle)

    def refresh_rejected(self, rejected_token: str) -> str:
        """A valid token other than ``rejected_token`` (which got a 401): the
        current one if another thread already replaced it, else a new one, so
        that many threads meeting one 401 mint one token. Do not log it."""
        rejected = _to_c_string("rejected token", rejected_token)
        return self._owned_string(_api.vf_token_source_refresh_rejected, rejected)

    def counters(self) -> Dict[str, Optional[int]]:
        """What this source has done so far, from any thread: ``mints`` (the
        first token and every renewal), ``renewals``, ``mint_failures``,
        ``renewal_failures`` (of those, the ones replacing a token), and
        ``expires_in_s``: whole seconds the cached token has left (0 once it
        expired), None while no token is cached."""
        counters = _capi.SourceCounters()
        counters.size = ctypes.sizeof(counters)
        with _Borrow(self) as handle:
            _call(_api.vf_token_source_counters, handle, ctypes.byref(counters))
        values: Dict[str, Optional[int]] = {
            name: getattr(counters, name) for name, _ in _capi.SourceCounters._fields_ if name != "size"
        }
        if counters.expires_in_s < 0:
            values["expires_in_s"] = None
        return values

    def requests_auth(self) -> Any:
        """An ``auth=`` for requests: ``session.get(url, auth=source.requests_auth())``.

        Sends ``Authorization: Bearer <token>``; after a 401 it refreshes the
        token (once for a burst of 401s on the same token) and sends the
        request once more. Needs ``requests``, imported only here.
        """
        return _auth.requests_auth(self)

    def httpx_auth(self) -> Any:
        """An ``auth=`` for httpx (``httpx.Client`` or ``httpx.AsyncClient``),
        as :meth:`requests_auth` does for requests; with ``AsyncClient`` the
        source's calls run off the event loop. Needs ``httpx``, imported only here.
        """
        return _auth.httpx_auth(self)

    def _owned_string(self, func: Callable[..., int], *args: object) -> str:
        out = ctypes.c_void_p()
        with _Borrow(self) as handle:
            _call(func, handle, *args, ctypes.byref(out))
        return _take_owned_string(out)
