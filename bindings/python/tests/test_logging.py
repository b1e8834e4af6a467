"""The library's records reach Python's logging, at the right levels, only
when wanted and never with a secret; the counters match the stand-in."""

import logging
from typing import Iterator, List

import pytest

import libvoucherify as vf
from conftest import StandIn


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected() -> Iterator[Collect]:
    logger = logging.getLogger("libvoucherify")
    handler = Collect()
    logger.addHandler(handler)
    before = logger.level
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(before)


def make_client(standin: StandIn) -> vf.Client:
    return vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=5000)


def test_records_reach_the_logger_at_their_levels(standin: StandIn, collected: Collect) -> None:
    logging.getLogger("libvoucherify").setLevel(logging.DEBUG)
    token = standin.mint()
    standin.push_faults([{"respond": {"status": 503, "body": ""}}])
    with make_client(standin) as client:
        client.revoke(token)
        client.generate("api")
        counters = client.counters()
    seen = [(r.levelno, r.getMessage()) for r in collected.records]
    assert (logging.DEBUG, "POST /v1/oauth/token/revoke: sending, attempt 1 of 3") in seen
    assert any(level == logging.WARNING and "retry scheduled in" in text for level, text in seen), seen
    assert any(level == logging.DEBUG and "HTTP 204 in" in text for level, text in seen), seen
    assert any(level == logging.INFO and text.startswith("token minted") for level, text in seen), seen
    assert all(r.name == "libvoucherify" for r in collected.records)
    assert counters["requests"] == 3 and counters["retries"] == 1 and counters["calls"] == 2
    assert counters["answers_5xx"] == 1 and counters["answers_2xx"] == 2
    for _, text in seen:
        assert standin.secret_key not in text and token not in text


def test_nothing_is_passed_up_when_the_logger_is_not_enabled(standin: StandIn, collected: Collect) -> None:
    logging.getLogger("libvoucherify").setLevel(logging.WARNING)
    with make_client(standin) as client:
        client.revoke(standin.mint())
    assert collected.records == []
    logging.getLogger("libvoucherify").setLevel(logging.CRITICAL)
    standin.push_faults([{"respond": {"status": 503, "body": ""}}])
    with make_client(standin) as client:
        client.revoke(standin.mint())
    assert collected.records == []


def test_basic_config_at_debug_shows_them_with_no_other_call(standin: StandIn) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import logging, sys, libvoucherify as vf\n"
        "logging.basicConfig(level=logging.DEBUG)\n"
        f"c = vf.Client({standin.app_id!r}, {standin.secret_key!r}, base_url={standin.url!r})\n"
        "try:\n    c.revoke('unknown-token-123')\nexcept vf.TokenNotFoundError:\n    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(vf.__file__).resolve().parent.parent)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    assert "DEBUG:libvoucherify:POST /v1/oauth/token/revoke: HTTP 404 in" in run.stderr, run.stderr


def test_a_token_source_tells_and_counts_its_mints(standin: StandIn, collected: Collect) -> None:
    logging.getLogger("libvoucherify").setLevel(logging.INFO)
    client = vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, max_attempts=1)
    with client, client.token_source("api") as source:
        assert source.counters() == {
            "mints": 0, "renewals": 0, "mint_failures": 0, "renewal_failures": 0, "expires_in_s": None,
        }
        first = source.access_token()
        second = source.refresh_rejected(first)
        standin.push_faults([{"respond": {"status": 503, "body": ""}}])
        with pytest.raises(vf.ServerError):
            source.refresh()
        counters = source.counters()
    assert {k: v for k, v in counters.items() if k != "expires_in_s"} == {
        "mints": 2, "renewals": 1, "mint_failures": 1, "renewal_failures": 1,
    }
    assert counters["expires_in_s"] is not None and 898 <= counters["expires_in_s"] <= 900
    seen = [(r.levelno, r.getMessage()) for r in collected.records]
    expected = [
        (logging.INFO, 'token source "api": first token minted, expires in 900 s'),
        (logging.INFO, 'token source "api": token renewed with '),
        (logging.ERROR, 'token source "api": renewal failed, no valid token to give: '),
        (logging.INFO, 'token source "api": token revoked on free'),
    ]
    for level, start in expected:
        assert any(lv == level and text.startswith(start) for lv, text in seen), (start, seen)
    for _, text in seen:
        assert standin.secret_key not in text and first not in text and second not in text
