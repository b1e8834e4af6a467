"""Fixtures: the local Voucherify stand-in (target/debug/vf-standin) and clients for it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

BINDING_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BINDING_DIR.parents[1]
sys.path.insert(0, str(BINDING_DIR))

import libvoucherify  # noqa: E402

APP_ID = "pytest-app-id"
SECRET_KEY = "pytest-secret-key-7f3a9c"


class StandIn:
    """A running stand-in and its control endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.app_id = APP_ID
        self.secret_key = SECRET_KEY

    def _control(self, method: str, path: str, data: Optional[bytes] = None) -> Any:
        if method == "POST" and data is None:
            data = b""
        request = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
        return json.loads(body) if body else None

    def mint(self) -> str:
        return self._control("POST", "/_standin/mint?scope=api")["access_token"]

    def requests(self) -> List[Dict[str, Any]]:
        return self._control("GET", "/_standin/requests")

    def paths(self) -> List[str]:
        return [r["path"] for r in self.requests()]

    def count(self, path: str) -> int:
        """Requests seen for exactly this path since the last reset."""
        return self.paths().count(path)

    def push_faults(self, faults: List[Dict[str, Any]]) -> None:
        """Scripts the answers to the next /v1/oauth/* requests."""
        self._control("POST", "/_standin/faults", json.dumps(faults).encode())

    def request_count(self) -> int:
        return self._control("GET", "/_standin/stats")["requests"]

    def connection_count(self) -> int:
        """Connections accepted since the stand-in started."""
        return self._control("GET", "/_standin/stats")["connections"]

    def stats(self) -> Dict[str, int]:
        """requests, connections, refused_by_limit (429s and 402s of the stand-in's own limits)..."""
        return self._control("GET", "/_standin/stats")

    def set_behaviour(self, behaviour: Dict[str, Any]) -> None:
        """Makes the stand-in behave like the live API (rate_limit, cycle_calls...)
        until the next reset; see the stand-in's Behaviour."""
        self._control("POST", "/_standin/behaviour", json.dumps(behaviour).encode())

    def reset(self) -> None:
        self._control("POST", "/_standin/reset")


@contextmanager
def running_standin(*extra_args: str) -> Iterator[StandIn]:
    """Starts a stand-in (with extra command-line arguments) for the block."""
    binary = os.environ.get("VF_STANDIN_BIN") or str(REPO_ROOT / "target" / "debug" / "vf-standin")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} not found: run `cargo build -p vf-standin` or set VF_STANDIN_BIN")
    # stdin stays open: --exit-on-stdin-eof stops the stand-in even if pytest is killed.
    proc = subprocess.Popen(
        [binary, "--app-id", APP_ID, "--secret-key", SECRET_KEY, "--exit-on-stdin-eof", *extra_args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline().decode() if ready else ""
        if not line.startswith("VF_STANDIN_URL="):
            pytest.fail(f"the stand-in did not report its URL (got {line!r})")
        yield StandIn(line.strip().split("=", 1)[1])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()


@pytest.fixture(scope="session")
def standin_session() -> Iterator[StandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture(scope="session")
def short_lived_standin() -> Iterator[StandIn]:
    """A second stand-in whose tokens live 3 s, for renewal tests."""
    with running_standin("--token-lifetime", "3") as s:
        yield s


@pytest.fixture
def standin(standin_session: StandIn) -> StandIn:
    """The stand-in with an empty request log."""
    standin_session.reset()
    return standin_session


@pytest.fixture
def client(standin: StandIn) -> Iterator[libvoucherify.Client]:
    with libvoucherify.Client(
        standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=5000
    ) as c:
        yield c
