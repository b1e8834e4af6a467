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
``LIBVOUCHERIFY_PATH`` (a file path; if set, it is the only candidate), the
library bundled inside this package (``libvoucherify/libvoucherify.so.0``),
the repository's own build when this is a checkout (``target/debug`` then
``target/release``), the installed library by its SONAME
``libvoucherify.so.0``, then ``ctypes.util.find_library``.

The library is loaded at first use, not at import (``__version__`` and
``python -m libvoucherify --help`` need none); a library that cannot be
found raises ImportError then, naming what was tried. The loaded library's
version (``vf_version_number()``) must be compatible with this binding: same major version
(for 0.x: same major.minor, since pre-1.0 minor releases may break the
ABI). Otherwise ImportError says which file was loaded and both versions.
:func:`library_path` tells which file was loaded.

``libvoucherify.aio`` has the asyncio client; a token source plugs into
requests and httpx as ``auth=source.requests_auth()`` / ``source.httpx_auth()``.
"""

from ._client import (
    Client,
    RevokeResult,
    TlsRoots,
    Token,
    TokenSource,
    library_path,
    version,
)
from ._errors import (
    ERRORS_BY_STATUS,
    BadRequestError,
    CallCancelledError,
    ClientClosedError,
    ClosedError,
    ConnectionFailedError,
    ForbiddenError,
    InternalError,
    InvalidArgumentError,
    InvalidUtf8Error,
    NullArgumentError,
    PanicError,
    QuotaExceededError,
    RateLimit,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    Status,
    TlsError,
    TokenNotFoundError,
    TokenSourceClosedError,
    UnauthorizedError,
    UnexpectedResponseError,
    VoucherifyError,
    status_name,
)
from ._version import __version__  # noqa: F401 (re-exported)

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
    "QuotaExceededError",
    "RateLimitedError",
    "ServerError",
    "UnexpectedResponseError",
    "RequestTimeoutError",
    "ConnectionFailedError",
    "TlsError",
    "PanicError",
    "InternalError",
    "CallCancelledError",
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
