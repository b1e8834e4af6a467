"""Generate, introspect, bulk revoke and the token source, against the stand-in."""

from __future__ import annotations

import dataclasses
import gc
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List

import pytest

import libvoucherify as vf
from conftest import BINDING_DIR, StandIn

GENERATE = "/v1/oauth/token"
INTROSPECT = "/v1/oauth/introspect"
REVOKE = "/v1/oauth/token/revoke"


def make_client(standin: StandIn) -> vf.Client:
    return vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=5000)


def form(body: str) -> dict:
    return urllib.parse.parse_qs(body, keep_blank_values=True)


# ---- generate and introspect ------------------------------------------------------

@pytest.mark.parametrize("scope", [["api", "vouchers"], ("api", "vouchers"), "api vouchers"])
def test_generate(standin: StandIn, client: vf.Client, scope: object) -> None:
    before = time.time()
    token = client.generate(scope)  # type: ignore[arg-type]
    assert token.scope == "api vouchers"
    assert token.token_type == "Bearer"
    assert token.expires_in == 900
    assert token.client_id.startswith("cl_")
    assert token.expires_at >= before + 899
    assert len(token.access_token) > 20
    [request] = standin.requests()
    assert request["path"] == GENERATE
    assert form(request["body"])["scope"] == ["api vouchers"]


@pytest.mark.parametrize("scope", ["vouchers,campaigns", ["vouchers,campaigns"]])
def test_commas_pass_through_and_are_refused(standin: StandIn, client: vf.Client, scope: object) -> None:
    with pytest.raises(vf.BadRequestError) as info:
        client.generate(scope)  # type: ignore[arg-type]
    assert info.value.http_status == 400
    assert info.value.key == "invalid_scope"
    assert form(standin.requests()[0]["body"])["scope"] == ["vouchers,campaigns"]


def test_generate_refuses_bad_scopes_locally(standin: StandIn, client: vf.Client) -> None:
    bad_scopes: List[object] = ["", [], "api\0x"]
    for scope in bad_scopes:
        with pytest.raises(vf.InvalidArgumentError):
            client.generate(scope)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.generate(["api", 1])  # type: ignore[list-item]
    assert standin.requests() == []


def test_generate_server_error(standin: StandIn, client: vf.Client) -> None:
    # 500, not 503: the library may retry 429/502/503/504 and then succeed.
    standin.push_faults([{"respond": {"status": 500, "body": ""}}])
    with pytest.raises(vf.ServerError) as info:
        client.generate("api")
    assert info.value.http_status == 500


def test_introspect_active_then_inactive_after_revoke(standin: StandIn, client: vf.Client) -> None:
    token = client.generate("api")
    seen = client.introspect(token.access_token)
    assert seen is not None
    assert (seen.access_token, seen.scope, seen.client_id) == (token.access_token, "api", token.client_id)
    client.revoke(token.access_token)
    assert client.introspect(token.access_token) is None
    assert client.introspect(b"never-issued") is None
    with pytest.raises(vf.InvalidArgumentError):
        client.introspect("")
    assert standin.paths() == [GENERATE, INTROSPECT, REVOKE, INTROSPECT, INTROSPECT]


def test_token_repr_hides_access_token(client: vf.Client) -> None:
    token = client.generate("api")
    for text in (repr(token), str(token)):
        assert token.access_token not in text
        assert token.client_id in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.scope = "other"  # type: ignore[misc]


# ---- revoke_many --------------------------------------------------------------------

@pytest.mark.parametrize("parallelism", [1, 8])
def test_revoke_many_outcomes_in_order(standin: StandIn, client: vf.Client, parallelism: int) -> None:
    tokens: List[object] = [standin.mint() for _ in range(30)]
    tokens.insert(5, "never-issued")
    tokens.insert(17, "")
    standin.reset()

    results = client.revoke_many(tokens, parallelism=parallelism)  # type: ignore[arg-type]

    assert len(results) == 32
    for i, result in enumerate(results):
        if i == 5:
            assert result.not_found and not result.ok
            assert isinstance(result.error, vf.TokenNotFoundError)
        elif i == 17:
            assert result.status == vf.Status.INVALID_ARGUMENT and not result.ok
            assert isinstance(result.error, vf.InvalidArgumentError)
        else:
            assert result.ok and result.status is vf.Status.OK and result.error is None, (i, result)
    sent = [form(r["body"])["access_token"][0] for r in standin.requests()]
    assert standin.paths() == [REVOKE] * 31  # none for the empty token
    assert sorted(sent) == sorted(t for t in tokens if t)  # type: ignore[type-var]


def test_revoke_many_failures_and_local_checks(standin: StandIn, client: vf.Client) -> None:
    # 403, not 429: the library may retry 429 (its count of requests would vary).
    results = client.revoke_many(["fault-status-403", "a\0b", b"\xff", "x\ny", b"never-issued"])
    assert [r.status for r in results] == [
        vf.Status.FORBIDDEN,
        vf.Status.INVALID_ARGUMENT,
        vf.Status.INVALID_UTF8,
        vf.Status.INVALID_ARGUMENT,
        vf.Status.TOKEN_NOT_FOUND,
    ]
    forbidden = results[0].error
    assert isinstance(forbidden, vf.ForbiddenError)
    assert forbidden.key == "missing_required_permission" and forbidden.http_status == 403
    assert forbidden.request_id is not None
    assert isinstance(results[2].error, vf.InvalidUtf8Error)
    assert standin.count(REVOKE) == 2  # only the two sendable tokens

    assert client.revoke_many([]) == []
    with pytest.raises(TypeError):
        client.revoke_many(["ok", 42])  # type: ignore[list-item]
    with pytest.raises(vf.InvalidArgumentError):
        client.revoke_many(["x"], parallelism=-1)
    client.close()
    with pytest.raises(vf.ClientClosedError):
        client.revoke_many(["x"])


# ---- token source ---------------------------------------------------------------------

@pytest.fixture
def source(client: vf.Client) -> Iterator[vf.TokenSource]:
    with client.token_source("api") as s:
        yield s


def test_source_mints_once_for_many_calls(standin: StandIn, source: vf.TokenSource) -> None:
    assert standin.requests() == []  # creating it mints nothing
    tokens = {source.access_token() for _ in range(20)}
    assert len(tokens) == 1
    assert source.authorization() == "Bearer " + tokens.pop()
    assert standin.count(GENERATE) == 1


def test_source_shared_by_threads_mints_once(standin: StandIn, source: vf.TokenSource) -> None:
    barrier = threading.Barrier(16)

    def fetch() -> str:
        barrier.wait()  # all 16 ask at the same moment
        return source.access_token()

    with ThreadPoolExecutor(max_workers=16) as pool:
        tokens = list(pool.map(lambda _: fetch(), range(16)))
    assert len(set(tokens)) == 1
    assert standin.count(GENERATE) == 1


def test_source_refresh_gives_new_token(standin: StandIn, client: vf.Client, source: vf.TokenSource) -> None:
    first = source.access_token()
    source.refresh()
    second = source.access_token()
    assert second != first
    assert standin.count(GENERATE) == 2
    assert client.introspect(second) is not None


def test_failed_refresh_keeps_current_token(standin: StandIn, source: vf.TokenSource) -> None:
    first = source.access_token()
    standin.push_faults([{"respond": {"status": 500, "body": ""}}])  # never retried
    with pytest.raises(vf.ServerError):
        source.refresh()
    assert source.access_token() == first


def test_source_renews_before_expiry(short_lived_standin: StandIn) -> None:
    short_lived_standin.reset()
    with make_client(short_lived_standin) as client, client.token_source(
        "api", refresh_margin_s=1
    ) as source:
        first = source.access_token()
        assert source.access_token() == first
        time.sleep(2.2)  # 3 s lifetime - 1 s margin: due after 2 s
        assert source.access_token() != first
    assert short_lived_standin.count(GENERATE) == 2


def test_close_revokes_by_default(standin: StandIn, client: vf.Client) -> None:
    with client.token_source("api") as source:
        token = source.access_token()
    assert source.closed
    assert standin.count(REVOKE) == 1
    assert client.introspect(token) is None


def test_close_without_revoke_keeps_token(standin: StandIn, client: vf.Client) -> None:
    source = vf.TokenSource(client, ["api"], revoke_on_close=False)
    token = source.access_token()
    source.close()
    assert standin.count(REVOKE) == 0
    assert client.introspect(token) is not None


def test_source_outlives_its_client(standin: StandIn) -> None:
    # The header: a source "keeps the client's connection pool alive, so the
    # client may be freed first".
    client = make_client(standin)
    source = client.token_source("api")
    client.close()
    first = source.access_token()
    source.refresh()
    current = source.access_token()
    source.close()  # still able to revoke: revokes the token it holds now
    with make_client(standin) as other:
        assert other.introspect(current) is None
        assert other.introspect(first) is not None  # refresh does not revoke the old one
    assert standin.paths() == [GENERATE, GENERATE, REVOKE, INTROSPECT, INTROSPECT]


def test_source_after_close_and_gc(standin: StandIn, client: vf.Client) -> None:
    source = client.token_source("api")
    assert "open" in repr(source)
    token = source.access_token()
    assert token not in repr(source)
    source.close()
    source.close()  # idempotent
    with pytest.raises(vf.TokenSourceClosedError):
        source.access_token()
    with pytest.raises(ValueError):
        source.authorization()
    source.__del__()  # safe after close

    # A forgotten source is freed, and its token revoked, by the GC.
    forgotten = client.token_source("api")
    lost = forgotten.access_token()
    forgotten.cycle = forgotten  # type: ignore[attr-defined]
    del forgotten
    gc.collect()
    assert client.introspect(lost) is None

    client.close()
    with pytest.raises(vf.ClientClosedError):
        client.token_source("api")


def test_source_argument_checks(client: vf.Client) -> None:
    with pytest.raises(vf.InvalidArgumentError):
        client.token_source("")
    for margin in (-1, float("nan"), 2.0**40):
        with pytest.raises(vf.InvalidArgumentError):
            client.token_source("api", refresh_margin_s=margin)
    with pytest.raises(TypeError):
        client.token_source("api", refresh_margin_s="60")  # type: ignore[arg-type]


# ---- lifecycle_sample.py ----------------------------------------------------------------

def test_lifecycle_sample(standin: StandIn) -> None:
    env = dict(os.environ)
    env.pop("VOUCHERIFY_CLUSTER", None)
    env.update(
        VOUCHERIFY_APP_ID=standin.app_id,
        VOUCHERIFY_SECRET_KEY=standin.secret_key,
        VOUCHERIFY_API_URL=standin.url,
    )
    done = subprocess.run(
        [sys.executable, str(BINDING_DIR / "lifecycle_sample.py")],
        env=env, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(" ")[0] for line in lines] == ["1.", "2.", "3.", "4.", "5."]
    assert lines[1].endswith("active") and lines[4].endswith("inactive")
    # Every token the stand-in saw stays out of the output.
    seen = [form(r["body"]).get("access_token", [""])[0] for r in standin.requests()]
    assert any(seen)
    for token in filter(None, seen):
        assert token not in done.stdout + done.stderr

    env["VOUCHERIFY_SECRET_KEY"] = "wrong-secret"
    failed = subprocess.run(
        [sys.executable, str(BINDING_DIR / "lifecycle_sample.py")],
        env=env, capture_output=True, text=True, timeout=30,
    )
    assert failed.returncode == 1 and "VF_STATUS_UNAUTHORIZED" in failed.stderr
