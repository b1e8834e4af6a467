"""The C API as ctypes sees it: one signature per function of voucherify.h.

``api.vf_revoke_token(...)`` calls the library, loading it at first use
(see ``_loader``). A test compares this table with the header: names,
argument counts and types.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, List, Optional, Tuple

from . import _loader

# Handles (vf_config, vf_client, vf_error, vf_token, vf_token_source) are
# opaque: they travel as plain addresses, c_void_p, which reads back as an
# int (or None for NULL). ctypes converts those much faster than typed
# POINTER(Structure) arguments, and revoke() pays for each argument per call.
Handle = ctypes.c_void_p
HandleOut = ctypes.POINTER(ctypes.c_void_p)  # vf_xxx **out, vf_error **err_out
c_status = ctypes.c_int  # vf_status is a C enum: int-sized
c_str = ctypes.c_char_p
# Owned strings (char **out) are read as void*: c_char_p would copy them into
# bytes and lose the pointer that vf_string_free needs.
OwnedStrOut = ctypes.POINTER(ctypes.c_void_p)
_ErrorOut = HandleOut
_i64_out = ctypes.POINTER(ctypes.c_int64)
# vf_revoke_progress: int (*)(void *user_data, size_t index, vf_status, const vf_error *)
RevokeProgress = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, c_status, Handle)
# vf_log_callback: void (*)(void *user_data, int level, const char *message)
LogCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


class Counters(ctypes.Structure):
    """vf_counters: ``size`` first (set it before the call), then the counts."""

    _fields_ = [("size", ctypes.c_size_t)] + [
        (name, ctypes.c_uint64)
        for name in (
            "calls", "requests", "retries", "answers_2xx", "answers_4xx", "answers_5xx",
            "answers_other", "rate_limited", "paused_ms", "timeouts", "connection_failures",
            "tls_failures", "connections_opened",
        )
    ]


class SourceCounters(ctypes.Structure):
    """vf_source_counters: ``size`` first, then a token source's counts."""

    _fields_ = [("size", ctypes.c_size_t)] + [
        (name, ctypes.c_uint64) for name in ("mints", "renewals", "mint_failures", "renewal_failures")
    ] + [("expires_in_s", ctypes.c_int64)]

def _readers(restype: Any, *names: str) -> List[Tuple[str, Any, List[Any]]]:
    """Rows for infallible accessors: one handle in, ``restype`` out."""
    return [(name, restype, [Handle]) for name in names]


# (name, restype, argtypes) for every function in voucherify.h. Pointer
# returns must be declared: the default int restype truncates them.
SIGNATURES: List[Tuple[str, Any, List[Any]]] = [
    ("vf_version", c_str, []),
    ("vf_version_number", ctypes.c_uint32, []),
    ("vf_status_str", c_str, [ctypes.c_int]),
    *_readers(c_status, "vf_error_status"),
    *_readers(ctypes.c_int, "vf_error_http_status"),
    *_readers(ctypes.c_uint32, "vf_error_attempts"),
    *_readers(
        c_str,
        "vf_error_message",
        "vf_error_key",
        "vf_error_api_message",
        "vf_error_details",
        "vf_error_request_id",
        "vf_error_rate_limit_type",
    ),
    *_readers(
        ctypes.c_int64,
        "vf_error_retry_after_s",
        "vf_error_rate_limit_limit",
        "vf_error_rate_limit_remaining",
        "vf_error_rate_limit_retry_at",
    ),
    ("vf_error_free", None, [Handle]),
    ("vf_config_new", Handle, []),
    ("vf_config_free", None, [Handle]),
    ("vf_config_set_app_id", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_set_secret_key", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_set_cluster", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_set_base_url", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_set_allow_insecure_http", c_status, [Handle, ctypes.c_bool, _ErrorOut]),
    ("vf_config_set_connect_timeout_ms", c_status, [Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_timeout_ms", c_status, [Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_channel", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_set_user_agent_suffix", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_load_env", c_status, [Handle, _ErrorOut]),
    ("vf_config_set_max_attempts", c_status, [Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_retry_base_delay_ms", c_status, [Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_config_set_proxy", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_set_proxy_from_env", c_status, [Handle, ctypes.c_bool, _ErrorOut]),
    ("vf_config_set_tls_roots", c_status, [Handle, ctypes.c_int, _ErrorOut]),
    ("vf_config_set_ca_file", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_config_add_header", c_status, [Handle, c_str, c_str, _ErrorOut]),
    ("vf_config_set_log_callback", c_status, [Handle, LogCallback, ctypes.c_void_p, ctypes.c_int, _ErrorOut]),
    ("vf_client_new", c_status, [Handle, HandleOut, _ErrorOut]),
    ("vf_client_free", None, [Handle]),
    ("vf_revoke_token", c_status, [Handle, c_str, _ErrorOut]),
    ("vf_client_rate_limit", c_status, [Handle, _i64_out, _i64_out, _i64_out, _ErrorOut]),
    ("vf_client_rate_limit_type", c_status, [Handle, OwnedStrOut, _ErrorOut]),
    ("vf_client_paused_until", c_status, [Handle, _i64_out, _ErrorOut]),
    ("vf_generate_token", c_status, [Handle, c_str, HandleOut, _ErrorOut]),
    (
        "vf_introspect_token",
        c_status,
        [Handle, c_str, ctypes.POINTER(ctypes.c_bool), HandleOut, _ErrorOut],
    ),
    (
        "vf_revoke_tokens",
        c_status,
        [
            Handle,
            ctypes.POINTER(c_str),
            ctypes.c_size_t,
            ctypes.c_uint32,
            ctypes.POINTER(c_status),
            HandleOut,
            _ErrorOut,
        ],
    ),
    (
        "vf_revoke_tokens_with_progress",
        c_status,
        [
            Handle,
            ctypes.POINTER(c_str),
            ctypes.c_size_t,
            ctypes.c_uint32,
            RevokeProgress,
            ctypes.c_void_p,
            ctypes.POINTER(c_status),
            HandleOut,
            _ErrorOut,
        ],
    ),
    ("vf_client_cancel", c_status, [Handle, _ErrorOut]),
    ("vf_client_counters", c_status, [Handle, ctypes.POINTER(Counters), _ErrorOut]),
    *_readers(c_str, "vf_token_access_token", "vf_token_client_id", "vf_token_scope", "vf_token_type"),
    *_readers(ctypes.c_int64, "vf_token_expires_at", "vf_token_expires_in"),
    ("vf_token_free", None, [Handle]),
    ("vf_string_free", None, [ctypes.c_void_p]),
    ("vf_token_source_new", c_status, [Handle, c_str, HandleOut, _ErrorOut]),
    ("vf_token_source_set_refresh_margin_ms", c_status, [Handle, ctypes.c_uint32, _ErrorOut]),
    ("vf_token_source_set_revoke_on_free", c_status, [Handle, ctypes.c_bool, _ErrorOut]),
    ("vf_token_source_access_token", c_status, [Handle, OwnedStrOut, _ErrorOut]),
    ("vf_token_source_authorization", c_status, [Handle, OwnedStrOut, _ErrorOut]),
    ("vf_token_source_refresh", c_status, [Handle, _ErrorOut]),
    ("vf_token_source_refresh_rejected", c_status, [Handle, c_str, OwnedStrOut, _ErrorOut]),
    ("vf_token_source_counters", c_status, [Handle, ctypes.POINTER(SourceCounters), _ErrorOut]),
    ("vf_token_source_free", None, [Handle]),
]

# Functions called with the GIL held (through a PyDLL view of the same
# library); everything else releases it (CDLL) so that other threads run
# while the library does I/O or waits.
#  - Reading or freeing a vf_error or vf_token, and the static strings: in
#    memory, never blocking, and cheaper than releasing and re-taking the GIL
#    (a failed call reads a dozen of them).
#  - vf_config_load_env and vf_client_new: they read the process environment
#    (VOUCHERIFY_*, proxies, SSL_CERT_FILE), which another thread's
#    os.environ[...] = ... rewrites under the GIL; holding it keeps them apart.
HOLD_GIL = {
    name
    for name, _, _ in SIGNATURES
    if name.startswith(("vf_error_", "vf_token_")) and not name.startswith("vf_token_source_")
} | {"vf_version", "vf_version_number", "vf_status_str", "vf_string_free", "vf_config_load_env", "vf_client_new"}


class _Api:
    """The configured functions, by name, loaded at first use.

    After the first load every function is a plain instance attribute, so
    ``api.vf_revoke_token`` costs a dict lookup (``__getattr__`` runs only
    for names not found that way); a CDLL's own lookup costs several times
    more, on every C call.
    """

    _lock = threading.Lock()
    path: Optional[str] = None  # the loaded file, once loaded

    def _load(self) -> None:
        with self._lock:
            if self.path is not None:
                return
            lib, path = _loader.load_library()
            holding_gil = ctypes.PyDLL(path, handle=lib._handle)
            for name, restype, argtypes in SIGNATURES:
                func = getattr(holding_gil if name in HOLD_GIL else lib, name)
                func.restype = restype
                func.argtypes = argtypes
                setattr(self, name, func)
            self.path = path

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("vf_") or self.path is not None:
            raise AttributeError(name)
        self._load()
        return getattr(self, name)


api = _Api()


def library_path() -> str:
    """The loaded library's file, loading it if needed."""
    if api.path is None:
        api._load()
    assert api.path is not None
    return api.path
