"""revoke_many(progress=...): one call per finished token, from the library's
threads, and a stop (False or an exception) that sends nothing more than the
requests already in flight."""

from __future__ import annotations

import threading
from typing import List, Tuple

import pytest

import libvoucherify as vf
from conftest import StandIn

REVOKE = "/v1/oauth/token/revoke"


def make_client(standin: StandIn) -> vf.Client:
    return vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=5000)


def test_progress_is_called_once_per_token_of_a_thousand(standin: StandIn) -> None:
    tokens = [standin.mint() for _ in range(10)] + [f"never-issued-{i}" for i in range(990)]
    standin.reset()
    calls: List[Tuple[int, vf.RevokeResult]] = []
    threads = set()

    def progress(index: int, result: vf.RevokeResult) -> None:
        calls.append((index, result))
        threads.add(threading.get_ident())

    with make_client(standin) as client:
        results = client.revoke_many(tokens, parallelism=8, progress=progress)
    assert sorted(i for i, _ in calls) == list(range(1000))
    for index, result in calls:
        assert result.status == results[index].status
    assert [r.ok for r in results] == [True] * 10 + [False] * 990
    assert all(r.not_found and isinstance(r.error, vf.TokenNotFoundError) for r in results[10:])
    assert threading.get_ident() not in threads, "called from the library's worker threads"
    assert standin.count(REVOKE) == 1000


@pytest.mark.parametrize("parallelism", [1, 4])
def test_returning_false_at_the_hundredth_stops_the_rest(standin: StandIn, parallelism: int) -> None:
    tokens = [f"never-issued-{i}" for i in range(1000)]
    standin.reset()
    seen = []

    def progress(index: int, result: vf.RevokeResult) -> bool:
        seen.append(index)
        return len(seen) < 100

    with make_client(standin) as client:
        results = client.revoke_many(tokens, parallelism=parallelism, progress=progress)
    sent = standin.count(REVOKE)
    assert 100 <= sent <= 100 + parallelism - 1, sent
    assert len(seen) == sent, "every request sent is reported, none after the stop"
    cancelled = [r for r in results if r.status == vf.Status.CANCELLED]
    assert len(cancelled) == 1000 - sent
    assert all(isinstance(r.error, vf.VoucherifyError) and r.error.attempts == 0 for r in cancelled)
    assert all(r.not_found for i, r in enumerate(results) if i in seen)


def test_an_exception_in_progress_stops_and_is_raised(standin: StandIn) -> None:
    standin.reset()

    def progress(index: int, result: vf.RevokeResult) -> None:
        raise KeyError(f"stop at {index}")

    with make_client(standin) as client:
        with pytest.raises(KeyError, match="stop at"):
            client.revoke_many([f"never-issued-{i}" for i in range(50)], parallelism=2, progress=progress)
        assert standin.count(REVOKE) <= 2
        # The client is still usable afterwards.
        assert client.revoke_many(["never-issued"], progress=lambda i, r: None)[0].not_found


def test_entries_refused_here_are_reported_with_their_own_error(standin: StandIn) -> None:
    standin.reset()
    reported = {}

    def progress(index: int, result: vf.RevokeResult) -> None:
        reported[index] = result

    with make_client(standin) as client:
        results = client.revoke_many(["a\0b", b"\xff", "never-issued"], progress=progress)
    assert {i: r.status for i, r in reported.items()} == {i: r.status for i, r in enumerate(results)}
    assert [r.status for r in results] == [
        vf.Status.INVALID_ARGUMENT,
        vf.Status.INVALID_UTF8,
        vf.Status.TOKEN_NOT_FOUND,
    ]
    assert isinstance(reported[0].error, vf.InvalidArgumentError)
    assert standin.count(REVOKE) == 1
