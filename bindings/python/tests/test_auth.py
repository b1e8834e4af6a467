"""The token source as ``auth=`` for requests and httpx, against the stand-in's /v1/protected."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator, List

import httpx
import pytest
import requests

import libvoucherify as vf
from conftest import BINDING_DIR, StandIn

GENERATE = "/v1/oauth/token"
PROTECTED = "/v1/protected"


def authorizations(standin: StandIn) -> List[str]:
    """The Authorization header of each request to /v1/protected, in order."""
    seen = []
    for request in standin.requests():
        if request["path"] == PROTECTED:
            headers: Dict[str, str] = {name.lower(): value for name, value in request["headers"]}
            seen.append(headers.get("authorization", ""))
    return seen


@pytest.fixture
def source(client: vf.Client) -> Iterator[vf.TokenSource]:
    with client.token_source("api", revoke_on_close=False) as s:
        yield s


def revoke_behind_its_back(client: vf.Client, source: vf.TokenSource) -> str:
    token = source.access_token()
    client.revoke(token)
    return token


# ---- requests -----------------------------------------------------------------------

def test_requests_sends_the_bearer_token(standin: StandIn, source: vf.TokenSource) -> None:
    with requests.Session() as session:
        answer = session.get(standin.url + PROTECTED, auth=source.requests_auth(), timeout=5)
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert authorizations(standin) == [source.authorization()]
    # Without the auth, the same endpoint refuses: the 200 came from the token.
    assert requests.get(standin.url + PROTECTED, timeout=5).status_code == 401


def test_requests_refreshes_once_after_a_401(standin: StandIn, client: vf.Client, source: vf.TokenSource) -> None:
    old = revoke_behind_its_back(client, source)
    standin.reset()
    body = io.BytesIO(b"payload=1")  # a file body must be sent whole again
    with requests.Session() as session:
        answer = session.post(standin.url + PROTECTED, data=body, auth=source.requests_auth(), timeout=5)
    assert answer.status_code == 200
    assert [r.status_code for r in answer.history] == [401]
    new = source.access_token()
    assert new != old
    assert authorizations(standin) == [f"Bearer {old}", f"Bearer {new}"]
    assert standin.count(GENERATE) == 1
    bodies = [r["body"] for r in standin.requests() if r["path"] == PROTECTED]
    assert bodies == ["payload=1", "payload=1"]


def test_requests_retries_only_once(short_lived_standin: StandIn, standin: StandIn, source: vf.TokenSource) -> None:
    # Another stand-in knows none of this source's tokens: 401 every time.
    other = short_lived_standin
    other.reset()
    answer = requests.get(other.url + PROTECTED, auth=source.requests_auth(), timeout=5)
    assert answer.status_code == 401
    assert len(authorizations(other)) == 2  # the request and one retry
    assert standin.count(GENERATE) == 2  # the first token and one refresh


def test_a_burst_of_401s_on_one_token_refreshes_once(
    standin: StandIn, client: vf.Client, source: vf.TokenSource
) -> None:
    revoke_behind_its_back(client, source)
    standin.reset()
    auth = source.requests_auth()

    def get(_: int) -> int:
        with requests.Session() as session:
            return session.get(standin.url + PROTECTED, auth=auth, timeout=5).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(get, range(8))) == [200] * 8
    assert standin.count(GENERATE) == 1


# ---- httpx --------------------------------------------------------------------------

def test_httpx_sends_the_bearer_token_and_refreshes_after_a_401(
    standin: StandIn, client: vf.Client, source: vf.TokenSource
) -> None:
    with httpx.Client(auth=source.httpx_auth(), timeout=5) as http:
        assert http.get(standin.url + PROTECTED).status_code == 200
        old = revoke_behind_its_back(client, source)
        standin.reset()
        answer = http.post(standin.url + PROTECTED, content=b"payload=2")
    assert answer.status_code == 200
    assert [r.status_code for r in answer.history] == [401]
    new = source.access_token()
    assert authorizations(standin) == [f"Bearer {old}", f"Bearer {new}"]
    assert [r["body"] for r in standin.requests() if r["path"] == PROTECTED] == ["payload=2"] * 2
    assert standin.count(GENERATE) == 1


def test_httpx_retries_only_once(short_lived_standin: StandIn, source: vf.TokenSource) -> None:
    other = short_lived_standin
    other.reset()
    with httpx.Client(auth=source.httpx_auth(), timeout=5) as http:
        assert http.get(other.url + PROTECTED).status_code == 401
    assert len(authorizations(other)) == 2


def test_httpx_async_client(standin: StandIn, client: vf.Client, source: vf.TokenSource) -> None:
    old = revoke_behind_its_back(client, source)
    standin.reset()

    async def main() -> List[int]:
        async with httpx.AsyncClient(auth=source.httpx_auth(), timeout=5) as http:
            answers = await asyncio.gather(*(http.get(standin.url + PROTECTED) for _ in range(5)))
        return [a.status_code for a in answers]

    assert asyncio.run(main()) == [200] * 5
    assert source.access_token() != old
    assert standin.count(GENERATE) == 1


def test_aio_source_gives_the_httpx_auth(standin: StandIn) -> None:
    from libvoucherify import aio

    async def main() -> int:
        async with aio.Client(standin.app_id, standin.secret_key, base_url=standin.url) as client:
            async with client.token_source("api") as source:
                async with httpx.AsyncClient(auth=source.httpx_auth(), timeout=5) as http:
                    return (await http.get(standin.url + PROTECTED)).status_code

    assert asyncio.run(main()) == 200


# ---- no hard dependency -------------------------------------------------------------

def test_neither_package_is_imported_until_asked_for() -> None:
    code = (
        "import sys, libvoucherify, libvoucherify.aio\n"
        "source = libvoucherify.Client('a', 'b').token_source('api')\n"
        "assert 'requests' not in sys.modules and 'httpx' not in sys.modules, 'imported'\n"
        "source.requests_auth()\n"
        "assert 'requests' in sys.modules and 'httpx' not in sys.modules\n"
        "source.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=BINDING_DIR, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
