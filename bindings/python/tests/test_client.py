"""Tests of the ctypes binding against the real library and the local stand-in."""

from __future__ import annotations

import gc
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Type

import pytest

import libvoucherify as vf
from conftest import APP_ID, BINDING_DIR, REPO_ROOT, SECRET_KEY, StandIn

REVOKE_PATH = "/v1/oauth/token/revoke"


def make_client(standin: StandIn, **kwargs: object) -> vf.Client:
    kwargs.setdefault("timeout_ms", 5000)
    return vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, **kwargs)  # type: ignore[arg-type]


def headers_of(request: Dict[str, Any]) -> Dict[str, str]:
    return {name.lower(): value for name, value in request["headers"]}


# ---- the module itself -------------------------------------------------------

def test_every_header_function_is_declared() -> None:
    header = (REPO_ROOT / "include" / "voucherify.h").read_text()
    names = set(re.findall(r"\b(vf_\w+)\(", header))
    declared = {name for name, _, _ in vf._SIGNATURES}
    assert names <= declared, f"not declared in the binding: {sorted(names - declared)}"
    for name in names:
        assert getattr(vf._api, name).argtypes is not None, name
    # Functions returning pointers must not keep ctypes' default int.
    for name in ("vf_version", "vf_status_str", "vf_error_message", "vf_config_new"):
        assert getattr(vf._api, name).restype is not vf.ctypes.c_int, name


def test_only_in_memory_accessors_hold_the_gil() -> None:
    # Anything that may send a request or wait must release the GIL, or every
    # other thread stops while it runs; only reading or freeing a vf_error or
    # vf_token (and static strings) keeps it, to save the release/re-take.
    def holds_gil(name: str) -> bool:
        return bool(getattr(vf._api, name)._flags_ & vf.ctypes._FUNCFLAG_PYTHONAPI)

    holding = {name for name, _, _ in vf._SIGNATURES if holds_gil(name)}
    accessors = {
        name for name, _, _ in vf._SIGNATURES
        if name.startswith(("vf_error_", "vf_token_")) and not name.startswith("vf_token_source_")
    }
    assert holding == accessors | {"vf_version", "vf_status_str", "vf_string_free"}
    for name in ("vf_revoke_token", "vf_revoke_tokens", "vf_generate_token", "vf_client_free",
                 "vf_token_source_free", "vf_token_source_access_token", "vf_client_new"):
        assert not holds_gil(name), name


def test_version_matches_header() -> None:
    header = (REPO_ROOT / "include" / "voucherify.h").read_text()
    assert f'#define VF_VERSION "{vf.version()}"' in header


def test_load_errors_name_what_was_tried(tmp_path: "os.PathLike[str]") -> None:
    env = dict(os.environ, LIBVOUCHERIFY_PATH=str(tmp_path) + "/missing.so")
    done = subprocess.run(
        [sys.executable, "-c", "import libvoucherify"],
        cwd=BINDING_DIR, env=env, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "missing.so" in done.stderr


def test_loads_repo_build_without_override() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LIBVOUCHERIFY_PATH"}
    done = subprocess.run(
        [sys.executable, "-c", "import libvoucherify; print(libvoucherify.version())"],
        cwd=BINDING_DIR, env=env, capture_output=True, text=True, timeout=30,
    )
    assert (done.returncode, done.stdout.strip()) == (0, vf.version()), done.stderr


def test_status_enum_mirrors_library() -> None:
    assert [s.value for s in vf.Status] == list(range(16))
    for status in vf.Status:
        assert vf.status_name(status) == f"VF_STATUS_{status.name}"
    assert vf.status_name(16) == "VF_STATUS_UNKNOWN"
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
    # The library reports revoke's 404 without reading its body (the live API
    # sends none), so key and request_id stay None even when a body exists.
    with pytest.raises(vf.TokenNotFoundError) as info:
        client.revoke("fault-status-404")
    assert info.value.http_status == 404


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


def test_forgotten_client_is_freed_by_gc(standin: StandIn) -> None:
    for _ in range(20):
        make_client(standin)
    gc.collect()


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
