"""One client or token source shared by threads, and by processes after fork()."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Tuple

import pytest

import libvoucherify as vf
from conftest import StandIn

GENERATE = "/v1/oauth/token"
REVOKE = "/v1/oauth/token/revoke"
TIMEOUT_MS = 500


def test_a_hanging_mint_is_shared_by_six_threads(standin: StandIn) -> None:
    with vf.Client(
        standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=TIMEOUT_MS, max_attempts=1
    ) as client, client.token_source("api", revoke_on_close=False) as source:
        standin.push_faults(["hang"])
        barrier = threading.Barrier(6)

        def ask(_: int) -> Tuple[str, float]:
            barrier.wait()  # all six ask at the same moment
            began = time.monotonic()
            try:
                source.access_token()
                outcome = "token"
            except vf.RequestTimeoutError:
                outcome = "timeout"
            return outcome, (time.monotonic() - began) * 1000

        with ThreadPoolExecutor(max_workers=6) as pool:
            outcomes = list(pool.map(ask, range(6)))
    assert [o for o, _ in outcomes] == ["timeout"] * 6
    slowest = max(ms for _, ms in outcomes)
    print(f"slowest of 6 callers: {slowest:.0f} ms against a timeout of {TIMEOUT_MS} ms")
    assert TIMEOUT_MS - 10 <= slowest < TIMEOUT_MS + 700
    assert standin.count(GENERATE) == 1


def test_refreshes_after_one_401_mint_one_token(standin: StandIn, client: vf.Client) -> None:
    with client.token_source("api") as source:
        rejected = source.access_token()
        barrier = threading.Barrier(8)

        def refresh(_: int) -> str:
            barrier.wait()
            return source.refresh_rejected(rejected)

        with ThreadPoolExecutor(max_workers=8) as pool:
            tokens = set(pool.map(refresh, range(8)))
        assert len(tokens) == 1 and rejected not in tokens
        assert source.refresh_rejected(rejected) in tokens  # a late one: no mint
        assert standin.count(GENERATE) == 2
        with pytest.raises(TypeError):
            source.refresh_rejected(None)  # type: ignore[arg-type]


# ---- fork ---------------------------------------------------------------------------

# What the pool's workers inherit: set in the parent before the pool forks.
_client: vf.Client
_source: vf.TokenSource


def _revoke_in_worker(token: str) -> str:
    try:
        _client.revoke(token)
        return "revoked"
    except vf.TokenNotFoundError:
        return "not found"


def _token_in_worker(_: int) -> str:
    return _source.access_token()


def test_a_fork_pool_uses_a_client_made_and_used_before_the_fork(standin: StandIn) -> None:
    global _client, _source
    context = multiprocessing.get_context("fork")
    with vf.Client(standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=5000) as client:
        _client = client
        with client.token_source("api") as source:
            _source = source
            parents_token = source.access_token()  # minted, and the pool holds a connection
            live = [standin.mint() for _ in range(40)]
            unknown = [f"unknown-{i}" for i in range(40)]
            tokens = [t for pair in zip(live, unknown) for t in pair]
            standin.reset()
            with context.Pool(4) as pool:
                # The parent revokes on the same client while the workers do.
                pending = pool.map_async(_revoke_in_worker, tokens, chunksize=1)
                mine = [_revoke_in_worker(standin.mint() if i % 2 == 0 else "unknown") for i in range(20)]
                outcomes = pending.get(timeout=60)
                workers_tokens = set(pool.map(_token_in_worker, range(8), chunksize=1))
            assert mine == ["revoked", "not found"] * 10
            assert outcomes == ["revoked", "not found"] * 40
            # The workers used the parent's token without minting or revoking it.
            assert workers_tokens == {parents_token}
            assert standin.count(GENERATE) == 0
            assert client.introspect(parents_token) is not None
        assert standin.count(REVOKE) == 80 + 20 + 1  # the last: the source's close, in the parent


def test_a_fork_while_another_thread_is_minting_does_not_block_the_child(standin: StandIn) -> None:
    with vf.Client(
        standin.app_id, standin.secret_key, base_url=standin.url, timeout_ms=4000, max_attempts=1
    ) as client, client.token_source("api") as source:
        client.revoke_many(["warm-up"])
        standin.reset()
        standin.push_faults(["hang"])
        minting = threading.Thread(target=lambda: pytest.raises(vf.RequestTimeoutError, source.access_token))
        minting.start()
        time.sleep(0.3)  # the thread is waiting for the hanging answer
        child = os.fork()
        if child == 0:
            # The child has no minting thread: it mints its own, then closes
            # the source (which must not wait for the parent's call) and exits.
            code = 1
            try:
                source.access_token()
                source.close()
                client.close()
                code = 0
            finally:
                os._exit(code)
        began = time.monotonic()
        while time.monotonic() - began < 3:  # before the parent's mint times out
            done, status = os.waitpid(child, os.WNOHANG)
            if done:
                break
            time.sleep(0.01)
        else:
            os.kill(child, 9)
            os.waitpid(child, 0)
            pytest.fail("the child hung")
        minting.join()
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
