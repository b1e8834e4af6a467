"""Tests of the ctypes binding against the real library and the local stand-in."""

from __future__ import annotations

import ctypes
import gc
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Tuple, Type

import pytest

import libvoucherify as vf
from libvoucherify import _capi
from conftest import APP_ID, BINDING_DIR, REPO_ROOT, SECRET_KEY, StandIn

REVOKE_PATH = "/v1/oauth/token/revoke"


def make_client(standin: StandIn, **kwargs: object) -> vf.Client:
    kwargs.setdefault("timeout_ms", 5000)
    return vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, **kwargs)  # type: ignore[arg-type]


def headers_of(request: Dict[str, Any]) -> Dict[str, str]:
    return {name.lower(): value for name, value in request["headers"]}


# ---- the module itself -------------------------------------------------------

# The ctypes type each C type of the header must have in _capi.SIGNATURES.
# Opaque handles travel as c_void_p (see _capi), owned strings out as void**.
def ctypes_of(c_type: str) -> Any:
    c_type = " ".join(c_type.replace("*", " * ").split())
    strings = {
        "const char *": ctypes.c_char_p,  # borrowed: ctypes copies it into bytes
        "char *": ctypes.c_void_p,  # owned: the pointer is kept for vf_string_free
        "char * *": ctypes.POINTER(ctypes.c_void_p),
        "const char * const *": ctypes.POINTER(ctypes.c_char_p),
    }
    if c_type in strings:
        return strings[c_type]
    c_type = re.sub(r"\bconst\b ?", "", c_type).strip()
    handle = r"vf_(config|client|error|token|token_source)"
    scalars = {
        "void": None, "bool": ctypes.c_bool, "int": ctypes.c_int, "uint32_t": ctypes.c_uint32,
        "int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t,
        "vf_status": ctypes.c_int, "void *": ctypes.c_void_p, "vf_revoke_progress": _capi.RevokeProgress,
        "vf_log_callback": _capi.LogCallback, "vf_counters": _capi.Counters,
        "vf_source_counters": _capi.SourceCounters,
    }
    if c_type in scalars:
        return scalars[c_type]
    if re.fullmatch(handle + r" \*", c_type):
        return ctypes.c_void_p
    if re.fullmatch(handle + r" \* \*", c_type):
        return ctypes.POINTER(ctypes.c_void_p)
    if c_type.endswith(" *") and c_type[:-2] in scalars:  # an out-pointer or array of values
        return ctypes.POINTER(scalars[c_type[:-2]])
    raise AssertionError(f"no ctypes mapping for the C type {c_type!r}")


def header_functions() -> Dict[str, Tuple[str, List[str]]]:
    """Every function of voucherify.h: name -> (return type, parameter types)."""
    header = (REPO_ROOT / "include" / "voucherify.h").read_text()
    header = re.sub(r"/\*.*?\*/|//[^\n]*", "", header, flags=re.S)
    header = re.sub(r"^#.*$", "", header, flags=re.M)
    functions = {}
    for ret, name, params in re.findall(r"([\w\s\*]+?)\b(vf_\w+)\(([^)]*)\);", header):
        ret = re.sub(r"\b[A-Z][A-Z0-9_]*\b", "", ret)  # attribute macros (VF_NODISCARD ...)
        types = [] if params.strip() in ("", "void") else [
            re.sub(r"\s*\b\w+$", "", p.strip()) for p in params.split(",")  # drop the name
        ]
        functions[name] = (ret.strip(), types)
    return functions


def test_header_and_ctypes_table_agree() -> None:
    functions = header_functions()
    assert len(functions) > 50  # the parser found the header's functions
    declared = {name: (restype, argtypes) for name, restype, argtypes in _capi.SIGNATURES}
    assert set(functions) == set(declared), (
        f"only in the header: {sorted(set(functions) - set(declared))}, "
        f"only in the binding: {sorted(set(declared) - set(functions))}"
    )
    for name, (ret, params) in functions.items():
        restype, argtypes = declared[name]
        assert restype == ctypes_of(ret), f"{name} returns {ret}, declared {restype}"
        assert len(argtypes) == len(params), f"{name} takes {len(params)} arguments, declared {len(argtypes)}"
        for i, (c_type, declared_type) in enumerate(zip(params, argtypes)):
            assert declared_type == ctypes_of(c_type), f"{name} argument {i + 1}: {c_type}, declared {declared_type}"
        func = getattr(_capi.api, name)
        assert (func.restype, func.argtypes) == (restype, argtypes), name


def test_the_progress_callback_type_matches_its_typedef() -> None:
    header = (REPO_ROOT / "include" / "voucherify.h").read_text()
    typedef = re.search(r"typedef (\w+) \(\*vf_revoke_progress\)\(([^)]*)\);", header)
    assert typedef, "no vf_revoke_progress typedef in the header"
    params = [re.sub(r"\s*\b\w+$", "", p.strip()) for p in typedef.group(2).split(",")]
    callback = _capi.RevokeProgress
    assert callback._restype_ == ctypes_of(typedef.group(1))
    assert list(callback._argtypes_) == [ctypes_of(p) for p in params]


def test_the_log_callback_and_counters_match_the_header() -> None:
    header = (REPO_ROOT / "include" / "voucherify.h").read_text()
    typedef = re.search(r"typedef (\w+) \(\*vf_log_callback\)\(([^)]*)\);", header)
    assert typedef, "no vf_log_callback typedef in the header"
    params = [re.sub(r"\s*\b\w+$", "", p.strip()) for p in typedef.group(2).split(",")]
    assert _capi.LogCallback._restype_ == ctypes_of(typedef.group(1))
    assert list(_capi.LogCallback._argtypes_) == [ctypes_of(p) for p in params]
    for c_name, mirror in (("vf_counters", _capi.Counters), ("vf_source_counters", _capi.SourceCounters)):
        code = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
        struct = re.search(r"typedef struct \{([^}]*)\} " + c_name + ";", code)
        assert struct, f"no {c_name} struct in the header"
        fields = re.findall(r"(\w+) (\w+);", struct.group(1))
        assert [(name, ctypes_of(c_type)) for c_type, name in fields] == [
            (name, c_type) for name, c_type in mirror._fields_  # type: ignore[attr-defined]
        ]


def test_the_table_check_catches_a_wrong_type() -> None:
    # The comparison above really compares types: a const char* is not an int.
    assert ctypes_of("const char *") is not ctypes_of("int")
    assert ctypes_of("vf_error **") == ctypes.POINTER(ctypes.c_void_p)
    assert ctypes_of("int64_t *") == ctypes.POINTER(ctypes.c_int64)
    assert ctypes_of("const char *const *") == ctypes.POINTER(ctypes.c_char_p)
    assert ctypes_of("vf_status *") == ctypes.POINTER(ctypes.c_int)
    assert ctypes_of("uint32_t") != ctypes_of("int64_t")


def test_only_in_memory_accessors_and_environment_readers_hold_the_gil() -> None:
    # Anything that may send a request or wait must release the GIL, or every
    # other thread stops while it runs; reading or freeing a vf_error or
    # vf_token (and static strings) keeps it, to save the release/re-take,
    # and so do the two functions that read the process environment, so that
    # another thread's os.environ[...] = ... cannot rewrite it under them.
    def holds_gil(name: str) -> bool:
        return bool(getattr(_capi.api, name)._flags_ & ctypes._FUNCFLAG_PYTHONAPI)  # type: ignore[attr-defined]

    holding = {name for name, _, _ in _capi.SIGNATURES if holds_gil(name)}
    accessors = {
        name for name, _, _ in _capi.SIGNATURES
        if name.startswith(("vf_error_", "vf_token_")) and not name.startswith("vf_token_source_")
    }
    assert holding == accessors | {"vf_version", "vf_version_number", "vf_status_str", "vf_string_free",
                                   "vf_config_load_env", "vf_client_new"}
    for name in ("vf_revoke_token", "vf_revoke_tokens", "vf_generate_token", "vf_client_free",
                 "vf_token_source_free", "vf_token_source_access_token"):
        assert not holds_gil(name), name


def test_no_python_thread_runs_while_a_client_is_built() -> None:
    # vf_client_new reads the environment (proxies, SSL_CERT_FILE) and loads
    # the system's roots, which takes long enough to see: while it runs with
    # the GIL held, another thread's os.environ[...] = ... cannot run, so a
    # thread ticking as fast as it can shows one long gap, as long as the
    # call. (With the GIL released it would tick every few milliseconds.)
    ticks: List[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            os.environ["VF_TEST_TICK"] = str(len(ticks))

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        time.sleep(0.05)
        config = _capi.api.vf_config_new()
        _capi.api.vf_config_set_app_id(config, b"app", None)
        _capi.api.vf_config_set_secret_key(config, b"secret", None)
        handle = _capi.Handle()
        start = time.monotonic()
        assert _capi.api.vf_client_new(config, ctypes.byref(handle), None) == 0
        took = time.monotonic() - start
        _capi.api.vf_config_free(config)
        _capi.api.vf_client_free(handle)
        time.sleep(0.05)
    finally:
        stop.set()
        ticker.join()
        os.environ.pop("VF_TEST_TICK", None)
    during = [t for t in ticks if start - 0.01 <= t <= start + took + 0.01]
    longest_gap = max((b - a for a, b in zip(ticks, ticks[1:]) if a <= start + took and b >= start), default=0.0)
    assert took > 0.005, f"vf_client_new took only {took:.4f} s: too short to see"
    # Half, not all of it: the ticker may hold the GIL for one switch
    # interval (5 ms, more on a busy machine) after `start` was read.
    assert longest_gap >= 0.5 * took, (longest_gap, took, len(during))


def test_version_matches_header() -> None:
    header = (REPO_ROOT / "include" / "voucherify.h").read_text()
    assert f'#define VF_VERSION "{vf.version()}"' in header


def test_load_errors_name_what_was_tried(tmp_path: "os.PathLike[str]") -> None:
    env = dict(os.environ, LIBVOUCHERIFY_PATH=str(tmp_path) + "/missing.so")
    done = subprocess.run(
        [sys.executable, "-c", "import libvoucherify; libvoucherify.version()"],
        cwd=BINDING_DIR, env=env, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "missing.so" in done.stderr


def test_what_needs_no_library_works_without_one(tmp_path: "os.PathLike[str]") -> None:
    # The library is loaded at first use: importing, the version and --help
    # need none; the first call that does raises the loader's ImportError,
    # and so does the next one (nothing half-loaded is left behind).
    env = dict(os.environ, LIBVOUCHERIFY_PATH=str(tmp_path) + "/nowhere.so")
    code = (
        "import libvoucherify as v, libvoucherify.aio\n"
        "print(v.__version__, v.Status.TIMEOUT.name, v.TlsRoots.MOZILLA.value)\n"
        "for call in (lambda: v.Client('app', 'secret'), v.version, v.library_path,\n"
        "             lambda: v.status_name(11)):\n"
        "    for _ in range(2):\n"
        "        try:\n"
        "            call()\n"
        "        except ImportError as e:\n"
        "            print('ImportError:', str(e).splitlines()[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=BINDING_DIR, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{vf.__version__} TIMEOUT 1"
    assert len(lines) == 9 and all("cannot load LIBVOUCHERIFY_PATH=" in line and "nowhere.so" in line
                                   for line in lines[1:]), lines
    helped = subprocess.run([sys.executable, "-m", "libvoucherify", "--help"], cwd=BINDING_DIR, env=env,
                            capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0 and "usage:" in helped.stdout, helped.stderr


def test_loads_repo_build_without_override() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LIBVOUCHERIFY_PATH"}
    done = subprocess.run(
        [sys.executable, "-c", "import libvoucherify; print(libvoucherify.version())"],
        cwd=BINDING_DIR, env=env, capture_output=True, text=True, timeout=30,
    )
    assert (done.returncode, done.stdout.strip()) == (0, vf.version()), done.stderr


def test_status_enum_mirrors_library() -> None:
    header = (REPO_ROOT / "include" / "voucherify.h").read_text()
    in_header = {name: int(value) for name, value in re.findall(r"\bVF_STATUS_(\w+) = (\d+),", header)}
    assert {s.name: s.value for s in vf.Status} == in_header
    assert [s.value for s in vf.Status] == list(range(len(in_header)))
    for status in vf.Status:
        assert vf.status_name(status) == f"VF_STATUS_{status.name}"
    assert vf.status_name(len(in_header)) == "VF_STATUS_UNKNOWN"
    assert vf.status_name(-1) == "VF_STATUS_UNKNOWN"
    assert vf.status_name(2**40) == "VF_STATUS_UNKNOWN"
    assert set(vf.ERRORS_BY_STATUS) == set(vf.Status) - {vf.Status.OK}


def test_exception_hierarchy() -> None:
    assert issubclass(vf.InvalidArgumentError, ValueError)
    assert issubclass(vf.InvalidUtf8Error, vf.InvalidArgumentError)
    assert issubclass(vf.NullArgumentError, vf.InvalidArgumentError)
    assert issubclass(vf.RequestTimeoutError, TimeoutError)
    assert issubclass(vf.ConnectionFailedError, ConnectionError)
    for cls in vf.ERRORS_BY_STATUS.values():
        assert issubclass(cls, vf.VoucherifyError)
    e = vf.RequestTimeoutError("took too long", status=vf.Status.TIMEOUT)
    assert str(e) == "took too long" and e.status is vf.Status.TIMEOUT and e.http_status is None


# ---- revoke outcomes -----------------------------------------------------------

def test_revoke_then_not_found(standin: StandIn, client: vf.Client) -> None:
    token = standin.mint()
    client.revoke(token)  # returns None on success
    with pytest.raises(vf.TokenNotFoundError) as info:
        client.revoke(token)
    assert info.value.status == vf.Status.TOKEN_NOT_FOUND
    assert info.value.http_status == 404


def test_revoke_accepts_bytes(standin: StandIn, client: vf.Client) -> None:
    client.revoke(standin.mint().encode())


def test_wrong_secret_is_unauthorized(standin: StandIn) -> None:
    wrong_secret = "wrong-secret-0123456789"
    with vf.Client(standin.app_id, wrong_secret, base_url=standin.url) as client:
        with pytest.raises(vf.UnauthorizedError) as info:
            client.revoke(standin.mint())
    e = info.value
    assert e.status == vf.Status.UNAUTHORIZED
    assert e.http_status == 401
    assert e.key == "unauthorized"
    assert e.request_id is not None and e.request_id.startswith("v-")
    assert e.api_message == "Unauthorized"
    assert e.details
    assert e.request_id in e.message
    for text in (str(e), repr(e), str(vars(e))):
        assert wrong_secret not in text
        assert SECRET_KEY not in text


@pytest.mark.parametrize(
    "code, cls, key",
    [
        (400, vf.BadRequestError, "bad_request"),
        (401, vf.UnauthorizedError, "unauthorized"),
        (403, vf.ForbiddenError, "missing_required_permission"),
        (429, vf.RateLimitedError, "too_many_requests"),
        (500, vf.ServerError, "internal_error"),
        (502, vf.ServerError, "bad_gateway"),
        (418, vf.UnexpectedResponseError, "error"),
    ],
)
def test_fault_status(standin: StandIn, code: int, cls: Type[vf.VoucherifyError], key: str) -> None:
    # One attempt: 429 and 502 would otherwise be retried (and backed off).
    with make_client(standin, max_attempts=1) as client, pytest.raises(cls) as info:
        client.revoke(f"fault-status-{code}")
    e = info.value
    assert type(e) is cls
    assert e.http_status == code
    assert e.key == key
    assert e.details == "Fault requested by the test."
    assert e.request_id is not None and e.request_id.startswith("v-")
    assert e.attempts == 1


def test_fault_status_404(client: vf.Client) -> None:
    # The library reads revoke's 404 body when there is one (the live API
    # may send none): its fields come through, as the C test asserts too.
    with pytest.raises(vf.TokenNotFoundError) as info:
        client.revoke("fault-status-404")
    e = info.value
    assert e.http_status == 404
    assert e.key == "not_found"
    assert e.details == "Fault requested by the test."
    assert e.request_id is not None and e.request_id.startswith("v-")


def test_string_code_is_parsed_leniently(standin: StandIn) -> None:
    with make_client(standin, max_attempts=1) as client, pytest.raises(vf.RateLimitedError) as info:
        client.revoke("fault-status-429-stringcode")
    assert info.value.http_status == 429
    assert info.value.key == "too_many_requests"
    assert info.value.request_id is not None and info.value.request_id.startswith("v-")


@pytest.mark.parametrize("variant", ["html", "empty", "badjson", "binary"])
@pytest.mark.parametrize(
    "code, cls", [(503, vf.ServerError), (403, vf.ForbiddenError), (418, vf.UnexpectedResponseError)]
)
def test_unusual_error_bodies(
    standin: StandIn, variant: str, code: int, cls: Type[vf.VoucherifyError]
) -> None:
    with make_client(standin, max_attempts=1) as client, pytest.raises(cls) as info:
        client.revoke(f"fault-status-{code}-{variant}")
    e = info.value
    assert type(e) is cls
    assert e.http_status == code
    assert e.request_id is None
    assert e.key is None
    assert e.message


def test_timeout(standin: StandIn) -> None:
    with make_client(standin, timeout_ms=300) as client:
        start = time.monotonic()
        with pytest.raises(vf.RequestTimeoutError) as info:
            client.revoke("fault-hang")
        elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 2.0, elapsed
    assert isinstance(info.value, TimeoutError)
    assert info.value.status == vf.Status.TIMEOUT
    assert info.value.http_status is None


def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with vf.Client(APP_ID, SECRET_KEY, base_url=f"http://127.0.0.1:{port}", timeout_ms=5000) as client:
        with pytest.raises(vf.ConnectionFailedError) as info:
            client.revoke("some-token")
    assert isinstance(info.value, ConnectionError)
    assert info.value.status == vf.Status.CONNECTION_FAILED
    assert info.value.http_status is None


def test_connection_closed_without_answer(client: vf.Client) -> None:
    with pytest.raises(vf.ConnectionFailedError) as info:
        client.revoke("fault-close")
    assert info.value.http_status is None


def test_base_url_with_trailing_slash(standin: StandIn) -> None:
    with vf.Client(APP_ID, SECRET_KEY, base_url=standin.url + "/") as client:
        client.revoke(standin.mint())
    assert [r["path"] for r in standin.requests()] == [REVOKE_PATH]


def test_redirect_is_not_followed(standin: StandIn, client: vf.Client) -> None:
    with pytest.raises(vf.UnexpectedResponseError) as info:
        client.revoke("fault-redirect")
    assert info.value.http_status == 307
    assert [r["path"] for r in standin.requests()] == [REVOKE_PATH]


# ---- invalid input: refused before anything is sent ------------------------------

@pytest.mark.parametrize(
    "token, cls, status",
    [
        ("", vf.InvalidArgumentError, vf.Status.INVALID_ARGUMENT),
        ("abc\ndef", vf.InvalidArgumentError, vf.Status.INVALID_ARGUMENT),
        ("abc\0def", vf.InvalidArgumentError, vf.Status.INVALID_ARGUMENT),
        (b"abc\0def", vf.InvalidArgumentError, vf.Status.INVALID_ARGUMENT),
        (b"\xff", vf.InvalidUtf8Error, vf.Status.INVALID_UTF8),
        ("\ud800", vf.InvalidUtf8Error, vf.Status.INVALID_UTF8),
    ],
)
def test_invalid_token_sends_nothing(
    standin: StandIn, client: vf.Client, token: object, cls: Type[vf.VoucherifyError], status: vf.Status
) -> None:
    before = standin.request_count()
    with pytest.raises(cls) as info:
        client.revoke(token)  # type: ignore[arg-type]
    assert info.value.status == status
    assert isinstance(info.value, ValueError)
    assert standin.request_count() == before


def test_token_of_wrong_type(client: vf.Client) -> None:
    with pytest.raises(TypeError):
        client.revoke(12345)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cluster": "nowhere"},
        {"base_url": "http://example.com"},
        {"base_url": "not a url"},
        {"base_url": "https://user:pw@example.com"},
        {"cluster": "api", "base_url": "https://api.voucherify.io"},
        {"timeout_ms": 0},
        {"timeout_ms": -1},
        {"timeout_ms": 2**32},
        {"connect_timeout_ms": 0},
        {"channel": "bad\nchannel"},
        {"user_agent_suffix": "a\0b"},
    ],
)
def test_invalid_configuration(kwargs: Dict[str, object]) -> None:
    with pytest.raises(vf.InvalidArgumentError) as info:
        vf.Client(APP_ID, SECRET_KEY, **kwargs)  # type: ignore[arg-type]
    assert SECRET_KEY not in str(info.value)


def test_missing_credentials() -> None:
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(APP_ID)
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(secret_key=SECRET_KEY)
    with pytest.raises(vf.InvalidArgumentError) as info:
        vf.Client(APP_ID, "secret with spaces")
    assert "secret with spaces" not in str(info.value)


def test_insecure_http_when_allowed() -> None:
    # Builds only: nothing is sent by vf_client_new.
    vf.Client(APP_ID, SECRET_KEY, base_url="http://example.com", allow_insecure_http=True).close()
    vf.Client(APP_ID, SECRET_KEY, cluster="us1.api").close()


# ---- the wire ------------------------------------------------------------------

def test_request_on_the_wire(standin: StandIn) -> None:
    token = "a+b&c=d e%f/g\u00e9"
    with make_client(standin, channel="pytest-channel", user_agent_suffix="pytest-suite/1.0") as client:
        with pytest.raises(vf.TokenNotFoundError):
            client.revoke(token)
    [request] = standin.requests()
    assert request["method"] == "POST"
    assert request["path"] == REVOKE_PATH
    headers = headers_of(request)
    assert headers["x-app-id"] == APP_ID
    assert headers["x-app-token"] == SECRET_KEY
    assert headers["content-type"].split(";")[0].strip() == "application/x-www-form-urlencoded"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith(f"libvoucherify/{vf.version()}")
    assert headers["user-agent"].endswith("pytest-suite/1.0")
    assert headers["x-voucherify-channel"] == "pytest-channel"
    body = request["body"]
    assert body.isascii() and body.startswith("access_token=")
    assert urllib.parse.parse_qs(body, strict_parsing=True) == {"access_token": [token]}


def test_no_channel_header_by_default(standin: StandIn, client: vf.Client) -> None:
    client.revoke(standin.mint())
    headers = headers_of(standin.requests()[-1])
    assert "x-voucherify-channel" not in headers
    assert headers["user-agent"].startswith(f"libvoucherify/{vf.version()}")


# ---- lifetime --------------------------------------------------------------------

def test_repr_hides_secrets(standin: StandIn) -> None:
    client = make_client(standin)
    assert SECRET_KEY not in repr(client) and "open" in repr(client)
    client.close()
    assert SECRET_KEY not in repr(client) and "closed" in repr(client)


def test_with_closes_and_use_after_close_raises(standin: StandIn) -> None:
    with make_client(standin) as client:
        assert not client.closed
    assert client.closed
    with pytest.raises(vf.ClientClosedError):
        client.revoke(standin.mint())
    with pytest.raises(ValueError):
        client.revoke("x")
    client.close()  # idempotent
    client.__del__()  # and safe after close
    del client
    gc.collect()


class KeepAliveServer:
    """A loopback HTTP server that answers 404 on a kept-alive connection and
    reports when the client closes it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed_by_client = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request or not request.endswith(b"never-issued"):
                request += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            while conn.recv(4096):
                pass
        self.closed_by_client.set()


def test_forgotten_client_is_freed_by_gc() -> None:
    # Freeing the client drops its pooled connection: the server sees it close.
    server = KeepAliveServer()
    client = vf.Client(APP_ID, SECRET_KEY, base_url=server.url, allow_insecure_http=True, timeout_ms=5000)
    with pytest.raises(vf.TokenNotFoundError):
        client.revoke("never-issued")
    assert not server.closed_by_client.wait(0.3)  # kept alive while the client lives
    client.cycle = client  # type: ignore[attr-defined]  # only the cycle collector frees it
    del client
    gc.collect()
    assert server.closed_by_client.wait(5), "the forgotten client's connection stayed open"


def test_client_alive_at_interpreter_exit() -> None:
    code = "import libvoucherify as v; c = v.Client('a', 'b'); c.cycle = c"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BINDING_DIR, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_threads_share_one_client(standin: StandIn, client: vf.Client) -> None:
    tokens = [standin.mint() for _ in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(client.revoke, tokens))
    assert results == [None] * 200
    revokes = [r for r in standin.requests() if r["path"] == REVOKE_PATH]
    assert len(revokes) == 200
    with pytest.raises(vf.TokenNotFoundError):
        client.revoke(tokens[0])


def test_close_waits_for_calls_in_progress(standin: StandIn) -> None:
    client = make_client(standin, timeout_ms=300)
    with ThreadPoolExecutor(max_workers=2) as pool:
        hanging = [pool.submit(client.revoke, "fault-hang") for _ in range(2)]
        time.sleep(0.05)
        client.close()  # must not free the client under the running calls
        assert all(call.done() for call in hanging)  # it returned only after they ended
        for call in hanging:
            with pytest.raises(vf.RequestTimeoutError):
                call.result()
    assert client.closed


def interrupt_at(opcode: int, call: Callable[[], object]) -> bool:
    """Runs ``call`` raising KeyboardInterrupt before its ``opcode``-th bytecode
    inside the package (as Ctrl-C would land); True if it was interrupted."""
    package_dir = os.path.dirname(vf.__file__) + os.sep
    seen = 0

    def tracer(frame: Any, event: str, arg: object) -> Any:
        nonlocal seen
        if not frame.f_code.co_filename.startswith(package_dir):
            return None
        frame.f_trace_opcodes = True
        if event == "opcode":
            seen += 1
            if seen == opcode + 1:  # one interrupt, as one Ctrl-C
                raise KeyboardInterrupt
        return tracer

    sys.settrace(tracer)
    try:
        call()
    except KeyboardInterrupt:
        return True
    except vf.VoucherifyError:
        pass
    finally:
        sys.settrace(None)
    return False


def test_an_interrupt_anywhere_in_a_call_leaves_close_working(standin: StandIn) -> None:
    # A call is counted while it runs so that close() waits for it; an
    # exception landing just after the count went up must not leave it up,
    # or close() waits forever. Tried at every bytecode of the binding that
    # a revoke runs, in turn (a 404: the error path included).
    for opcode in range(10_000):
        client = make_client(standin)
        interrupted = interrupt_at(opcode, lambda: client.revoke("never-issued"))
        closer = threading.Thread(target=client.close, daemon=True)
        closer.start()
        closer.join(timeout=5)
        assert not closer.is_alive(), f"close() hangs after an interrupt at bytecode {opcode}"
        if not interrupted:
            break
    assert 50 < opcode < 10_000, opcode  # the whole call was covered, and it ended


# ---- configuration from the environment ---------------------------------------------

@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("VOUCHERIFY_APP_ID", "VOUCHERIFY_SECRET_KEY", "VOUCHERIFY_API_URL", "VOUCHERIFY_CLUSTER"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_from_env(standin: StandIn, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VOUCHERIFY_APP_ID", standin.app_id)
    clean_env.setenv("VOUCHERIFY_SECRET_KEY", standin.secret_key)
    clean_env.setenv("VOUCHERIFY_API_URL", standin.url)
    with vf.Client(from_env=True) as client:
        client.revoke(standin.mint())
    assert headers_of(standin.requests()[-1])["x-app-id"] == standin.app_id


def test_explicit_arguments_override_env(standin: StandIn, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VOUCHERIFY_APP_ID", standin.app_id)
    clean_env.setenv("VOUCHERIFY_SECRET_KEY", "wrong-secret-from-env")
    clean_env.setenv("VOUCHERIFY_CLUSTER", "us1.api")
    with vf.Client(secret_key=standin.secret_key, base_url=standin.url, from_env=True) as client:
        client.revoke(standin.mint())


def test_from_env_invalid_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VOUCHERIFY_CLUSTER", "nowhere")
    with pytest.raises(vf.InvalidArgumentError) as info:
        vf.Client(APP_ID, SECRET_KEY, from_env=True)
    assert "VOUCHERIFY_CLUSTER" in str(info.value)


def test_from_env_without_credentials(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(from_env=True)


# ---- sample.py --------------------------------------------------------------------

def run_sample(standin: StandIn, *args: str, secret_key: str = SECRET_KEY) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("VOUCHERIFY_CLUSTER", None)
    env.update(
        VOUCHERIFY_APP_ID=standin.app_id,
        VOUCHERIFY_SECRET_KEY=secret_key,
        VOUCHERIFY_API_URL=standin.url,
    )
    return subprocess.run(
        [sys.executable, str(BINDING_DIR / "sample.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_sample(standin: StandIn) -> None:
    token = standin.mint()
    done = run_sample(standin, token)
    assert (done.returncode, done.stdout.strip()) == (0, "revoked"), done.stderr
    done = run_sample(standin, token)
    assert (done.returncode, done.stdout.strip()) == (3, "not found or already revoked")
    assert run_sample(standin).returncode == 2
    done = run_sample(standin, standin.mint(), secret_key="wrong-secret")
    assert done.returncode == 1
    assert "VF_STATUS_UNAUTHORIZED" in done.stderr and "401" in done.stderr
    assert "unauthorized" in done.stderr and "v-" in done.stderr
    assert "wrong-secret" not in done.stderr
