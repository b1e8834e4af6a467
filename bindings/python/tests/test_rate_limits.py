"""Rate limits and quotas through the binding: one pause shared by every
thread of a client, quotas never retried, a bulk revoke paced by the limit."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List

import pytest

import libvoucherify as vf
from conftest import StandIn

REVOKE = "/v1/oauth/token/revoke"


def make_client(standin: StandIn, timeout_ms: int = 10_000) -> vf.Client:
    return vf.Client(
        standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=timeout_ms, retry_base_delay_ms=10
    )


def answer(status: int, headers: Dict[str, str] = {}) -> Dict[str, Any]:
    return {"respond": {"status": status, "headers": headers, "body": ""}}


def wait_for_pause(client: vf.Client) -> float:
    deadline = time.monotonic() + 2
    while (until := client.paused_until()) is None:
        assert time.monotonic() < deadline, "the client was never paused"
        time.sleep(0.001)
    return until


@pytest.mark.parametrize(
    "fault",
    [answer(402), answer(429, {"Retry-After": "1", "X-Rate-Limit-Type": "api_calls_cycle"})],
    ids=["402", "429-cycle"],
)
def test_a_spent_quota_is_its_own_error_and_never_retried(standin: StandIn, fault: Dict[str, Any]) -> None:
    standin.push_faults([fault])
    with make_client(standin) as client, pytest.raises(vf.QuotaExceededError) as info:
        client.revoke(standin.mint())
    assert info.value.status == vf.Status.QUOTA_EXCEEDED
    assert info.value.attempts == 1
    assert standin.count(REVOKE) == 1


def test_the_limit_type_is_on_errors_and_on_the_client(standin: StandIn) -> None:
    with make_client(standin) as client:
        client.revoke(standin.mint())
        assert client.rate_limit().limit_type == "api_calls"  # the stand-in's own limit
        standin.push_faults([answer(429, {"Retry-After": "30", "X-Rate-Limit-Type": "bulk_api_calls"})])
        with pytest.raises(vf.RateLimitedError) as info:
            client.revoke(standin.mint())
        assert info.value.rate_limit is not None
        assert info.value.rate_limit.limit_type == "bulk_api_calls"
        assert client.rate_limit().limit_type == "bulk_api_calls"


def test_one_429_pauses_every_thread_of_the_client(standin: StandIn) -> None:
    tokens = [standin.mint() for _ in range(6)]
    standin.push_faults([answer(429, {"Retry-After": "1"})])
    finished: List[float] = []
    with make_client(standin) as client:
        started = time.time()

        def revoke(token: str) -> None:
            client.revoke(token)
            finished.append(time.time())

        threads = [threading.Thread(target=revoke, args=(tokens[0],))]
        threads[0].start()
        until = wait_for_pause(client)
        assert started + 0.9 < until < started + 2.1, until - started
        threads += [threading.Thread(target=revoke, args=(t,)) for t in tokens[1:]]
        for t in threads[1:]:
            t.start()
        time.sleep(0.1)  # requests already on the wire land
        sent = standin.count(REVOKE)
        time.sleep(max(0.0, until - time.time() - 0.15))
        assert standin.count(REVOKE) == sent == 1, "a request went out during the pause"
        for t in threads:
            t.join(10)
        assert client.paused_until() is None
    assert len(finished) == len(tokens)
    assert min(finished) >= until - 0.05, "a call finished before the pause ended"
    assert standin.count(REVOKE) == len(tokens) + 1  # one 429, then each token once


def test_a_call_whose_timeout_ends_within_the_pause_fails_at_once(standin: StandIn) -> None:
    standin.push_faults([answer(429, {"Retry-After": "3"})])
    with make_client(standin, timeout_ms=500) as client:
        with pytest.raises(vf.RateLimitedError):
            client.revoke(standin.mint())
        assert client.paused_until() is not None
        started = time.monotonic()
        with pytest.raises(vf.RateLimitedError) as info:
            client.revoke(standin.mint())
        assert time.monotonic() - started < 0.1
    assert (info.value.attempts, info.value.http_status) == (0, None)
    assert standin.count(REVOKE) == 1, "the second call sent nothing"


def test_a_bulk_revoke_is_paced_by_the_limit(standin: StandIn) -> None:
    calls, window, count = 10, 2, 25
    tokens = [standin.mint() for _ in range(count)]
    standin.set_behaviour({"rate_limit": {"calls": calls, "window_secs": window}})
    with make_client(standin, timeout_ms=30_000) as client:
        started = time.time()
        results = client.revoke_many(tokens, parallelism=4)
        took = time.time() - started
    assert [r.ok for r in results] == [True] * count, [r.error for r in results if not r.ok]
    # Windows are aligned on Unix time; the last call may go at the start of
    # the window that holds it.
    first_window_end = (started // window + 1) * window
    allowance = first_window_end + window * ((count - 1) // calls - 1) - started
    windows = (count - 1) // calls + 1
    refused = standin.stats()["refused_by_limit"]
    print(f"paced bulk revoke: {took:.2f} s against an allowance of {allowance:.2f} s, {refused} 429s")
    assert refused <= windows
    assert allowance <= took <= allowance * 1.10 + 0.05
