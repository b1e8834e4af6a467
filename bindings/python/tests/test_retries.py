"""Retries, rate limits and the transport options (proxy, TLS roots, extra headers)."""

from __future__ import annotations

import base64
import socket
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import libvoucherify as vf
from conftest import APP_ID, SECRET_KEY, StandIn

REVOKE = "/v1/oauth/token/revoke"
PROXY_PASSWORD = "proxy-pw-5e1b"


def make_client(standin: StandIn, **kwargs: Any) -> vf.Client:
    kwargs.setdefault("timeout_ms", 5000)
    kwargs.setdefault("retry_base_delay_ms", 10)  # keeps backoff short in tests
    return vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, **kwargs)


def answer(status: int, headers: Dict[str, str] = {}) -> Dict[str, Any]:
    return {"respond": {"status": status, "headers": headers, "body": ""}}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- retries -------------------------------------------------------------------

def test_retries_until_success(standin: StandIn) -> None:
    standin.push_faults([answer(503), answer(503)])
    with make_client(standin, retry_base_delay_ms=None) as client:  # the library's defaults
        client.revoke(standin.mint())
    assert standin.count(REVOKE) == 3


def test_one_attempt_sends_one_request(standin: StandIn) -> None:
    standin.push_faults([answer(503)])
    with make_client(standin, max_attempts=1) as client, pytest.raises(vf.ServerError) as info:
        client.revoke(standin.mint())
    assert info.value.attempts == 1
    assert info.value.http_status == 503
    assert standin.count(REVOKE) == 1


def test_gives_up_after_default_attempts(standin: StandIn) -> None:
    standin.push_faults([answer(503)] * 4)
    with make_client(standin) as client, pytest.raises(vf.ServerError) as info:
        client.revoke(standin.mint())
    assert info.value.attempts == 3
    assert standin.count(REVOKE) == 3
    assert info.value.rate_limit is None  # scripted answers carry no rate-limit header
    assert info.value.retry_after is None


def test_retry_after_beyond_timeout_fails_at_once(standin: StandIn) -> None:
    headers = {"Retry-After": "30", "X-Rate-Limit-Limit": "100", "X-Rate-Limit-Remaining": "0"}
    standin.push_faults([answer(429, headers)])
    with make_client(standin, timeout_ms=800) as client:
        start = time.monotonic()
        with pytest.raises(vf.RateLimitedError) as info:
            client.revoke(standin.mint())
        elapsed = time.monotonic() - start
    e = info.value
    # Waiting 30 s cannot fit in 800 ms: no point sleeping until the timeout.
    assert elapsed < 0.5, elapsed
    assert e.retry_after == 30
    assert e.rate_limit == vf.RateLimit(limit=100, remaining=0, retry_at=None)
    assert e.attempts == 1


def test_error_before_sending_counts_no_attempt(standin: StandIn) -> None:
    with make_client(standin) as client, pytest.raises(vf.InvalidArgumentError) as info:
        client.revoke("")
    assert (info.value.attempts, info.value.retry_after, info.value.rate_limit) == (0, None, None)


def test_invalid_retry_settings() -> None:
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(APP_ID, SECRET_KEY, max_attempts=0)
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(APP_ID, SECRET_KEY, retry_base_delay_ms=2**32)
    with pytest.raises(TypeError):
        vf.Client(APP_ID, SECRET_KEY, max_attempts="3")  # type: ignore[arg-type]


# ---- rate limit ------------------------------------------------------------------

def test_client_rate_limit(standin: StandIn) -> None:
    with make_client(standin) as client:
        assert client.rate_limit() == vf.RateLimit(None, None, None)  # no answer yet
        client.revoke(standin.mint())
        first = client.rate_limit()
        client.revoke(standin.mint())
        second = client.rate_limit()
    assert first.limit is not None and first.limit > 0
    assert first.remaining is not None and second.remaining is not None
    assert second.remaining < first.remaining
    assert first.retry_at is not None and first.retry_at > time.time() - 5
    with pytest.raises(vf.ClientClosedError):
        client.rate_limit()


# ---- extra headers ------------------------------------------------------------------

def test_extra_header_is_sent(standin: StandIn) -> None:
    with make_client(standin, headers={"X-Trace-Id": "trace-42"}) as client:
        client.revoke(standin.mint())
    [request] = standin.requests()
    assert ["x-trace-id", "trace-42"] in [list(h) for h in request["headers"]]


@pytest.mark.parametrize(
    "headers", [{"X-App-Token": "x"}, {"x-app-id": "x"}, {"bad name": "x"}, {"X-A": "v\n"}, {"X-A": "a\0b"}]
)
def test_refused_headers(headers: Dict[str, str]) -> None:
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(APP_ID, SECRET_KEY, headers=headers)


# ---- proxy ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "url",
    [
        f"ftp://user:{PROXY_PASSWORD}@proxy.example:3128",
        f"socks5://user:{PROXY_PASSWORD}@127.0.0.1:1080",
        f"http://user:{PROXY_PASSWORD}@",
        f"not a url {PROXY_PASSWORD}",
    ],
)
def test_invalid_proxy_hides_password(url: str) -> None:
    with pytest.raises(vf.InvalidArgumentError) as info:
        vf.Client(APP_ID, SECRET_KEY, proxy=url)
    for text in (str(info.value), repr(info.value), str(vars(info.value))):
        assert PROXY_PASSWORD not in text


def test_unreachable_proxy_hides_password(standin: StandIn) -> None:
    proxy = f"http://user:{PROXY_PASSWORD}@127.0.0.1:{closed_port()}"
    with make_client(standin, proxy=proxy, max_attempts=1, allow_insecure_http=True) as client:
        assert PROXY_PASSWORD not in repr(client)
        with pytest.raises(vf.ConnectionFailedError) as info:
            client.revoke("some-token")
    for text in (str(info.value), repr(info.value), str(vars(info.value))):
        assert PROXY_PASSWORD not in text
    assert standin.requests() == []  # went to the proxy, not straight to the stand-in


@pytest.fixture
def connect_proxy() -> Iterator[List[Any]]:
    """A one-connection CONNECT proxy on 127.0.0.1:<port>; yields [port, request head]."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: List[Any] = [server.getsockname()[1]]

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        conn, _ = server.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        seen.append(head)
        host, port = head.split()[1].decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()
        pipe(conn, upstream)

    threading.Thread(target=serve, daemon=True).start()
    yield seen
    server.close()


def test_requests_go_through_the_proxy(standin: StandIn, connect_proxy: List[Any]) -> None:
    proxy = f"http://user:{PROXY_PASSWORD}@127.0.0.1:{connect_proxy[0]}"
    with make_client(standin, proxy=proxy, allow_insecure_http=True) as client:
        client.revoke(standin.mint())
    head = connect_proxy[1].decode()
    assert head.startswith("CONNECT 127.0.0.1:")
    credentials = base64.b64encode(f"user:{PROXY_PASSWORD}".encode()).decode()
    assert f"proxy-authorization: basic {credentials}".lower() in head.lower()
    assert standin.count(REVOKE) == 1


def test_plain_http_through_a_proxy_needs_the_explicit_allow(standin: StandIn) -> None:
    # Even to loopback: through a proxy the secret key would cross the network in clear.
    proxy = f"http://user:{PROXY_PASSWORD}@127.0.0.1:{closed_port()}"
    with pytest.raises(vf.InvalidArgumentError, match="through a proxy") as info:
        make_client(standin, proxy=proxy)
    assert PROXY_PASSWORD not in str(info.value)
    assert standin.requests() == []


def test_proxy_and_proxy_from_env_are_exclusive() -> None:
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(APP_ID, SECRET_KEY, proxy="http://127.0.0.1:3128", proxy_from_env=True)


def test_proxy_from_env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        for variant in (name, name.lower()):
            monkeypatch.delenv(variant, raising=False)
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    # HTTP_PROXY in capitals is never read ("httpoxy"): the call goes direct.
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    with make_client(standin, proxy_from_env=True, max_attempts=1) as client:
        with pytest.raises(vf.TokenNotFoundError):
            client.revoke("some-token")
    monkeypatch.setenv("http_proxy", dead_proxy)
    with pytest.raises(vf.InvalidArgumentError, match="through a proxy"):
        make_client(standin, proxy_from_env=True, max_attempts=1)
    with make_client(standin, proxy_from_env=True, max_attempts=1, allow_insecure_http=True) as client:
        with pytest.raises(vf.ConnectionFailedError):
            client.revoke("some-token")
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    monkeypatch.delenv("http_proxy")
    with pytest.raises(vf.InvalidArgumentError, match="ALL_PROXY"):
        make_client(standin, proxy_from_env=True, allow_insecure_http=True)


# ---- TLS roots and CA file ---------------------------------------------------------------

def test_tls_roots() -> None:
    assert [r.value for r in vf.TlsRoots] == [0, 1]
    for roots in (vf.TlsRoots.MOZILLA, vf.TlsRoots.SYSTEM, 1):
        vf.Client(APP_ID, SECRET_KEY, tls_roots=roots).close()  # type: ignore[arg-type]
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(APP_ID, SECRET_KEY, tls_roots=2)  # type: ignore[arg-type]


def test_missing_ca_file(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.pem", str(tmp_path / "missing.pem")):
        with pytest.raises(vf.InvalidArgumentError):
            vf.Client(APP_ID, SECRET_KEY, ca_file=path)


def test_ca_file_without_certificate(tmp_path: Path) -> None:
    path = tmp_path / "empty.pem"
    path.write_text("not a certificate\n")
    with pytest.raises(vf.InvalidArgumentError):
        vf.Client(APP_ID, SECRET_KEY, ca_file=path)
