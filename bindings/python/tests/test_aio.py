"""libvoucherify.aio: awaited calls run off the event loop, many at once on one client."""

from __future__ import annotations

import asyncio
import time
from typing import Any, List, Tuple

import pytest

import libvoucherify as vf
from conftest import StandIn
from libvoucherify import aio

GENERATE = "/v1/oauth/token"
REVOKE = "/v1/oauth/token/revoke"


def make_client(standin: StandIn, **kwargs: Any) -> aio.Client:
    kwargs.setdefault("timeout_ms", 5000)
    return aio.Client(standin.app_id, standin.secret_key, base_url=standin.url, **kwargs)


def test_fifty_concurrent_revokes_share_one_client(standin: StandIn) -> None:
    tokens = [standin.mint() for _ in range(50)]
    standin.reset()
    connections_before = standin.connection_count()

    async def main() -> List[None]:
        async with make_client(standin) as client:
            results = await asyncio.gather(*(client.revoke(t) for t in tokens))
            with pytest.raises(vf.TokenNotFoundError):
                await client.revoke(tokens[0])
        assert client.closed
        return results

    assert asyncio.run(main()) == [None] * 50
    assert standin.count(REVOKE) == 51
    # One client, one pool: at most one connection per worker thread.
    opened = standin.connection_count() - connections_before
    assert 1 <= opened <= 32, opened


def test_concurrent_calls_run_in_parallel(standin: StandIn) -> None:
    # Eight calls that each hang until the 1 s timeout end together, in about
    # 1 s, not 8 s one after another.
    async def main() -> Tuple[float, List[Any]]:
        async with make_client(standin, timeout_ms=1000, max_attempts=1) as client:
            start = time.monotonic()
            outcomes = await asyncio.gather(
                *(client.revoke("fault-hang") for _ in range(8)), return_exceptions=True
            )
            return time.monotonic() - start, outcomes

    elapsed, outcomes = asyncio.run(main())
    assert all(isinstance(o, vf.RequestTimeoutError) for o in outcomes), outcomes
    assert 0.9 <= elapsed < 3.0, elapsed


def test_the_event_loop_runs_while_a_call_hangs(standin: StandIn) -> None:
    period = 0.05

    async def main() -> Tuple[int, float]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(period)
                ticks += 1

        async with make_client(standin, timeout_ms=1500, max_attempts=1) as client:
            task = asyncio.create_task(ticker())
            start = time.monotonic()
            with pytest.raises(vf.RequestTimeoutError):
                await client.revoke("fault-hang")  # the stand-in never answers
            elapsed = time.monotonic() - start
            task.cancel()
        return ticks, elapsed

    ticks, elapsed = asyncio.run(main())
    assert 1.4 <= elapsed < 4.0, elapsed
    # A blocked loop would tick once or not at all; a free one about every period.
    assert elapsed / period / 2 <= ticks <= elapsed / period + 1, (ticks, elapsed)


def test_generate_introspect_revoke_many(standin: StandIn) -> None:
    async def main() -> None:
        async with make_client(standin) as client:
            token = await client.generate("api")
            assert token.scope == "api" and token.expires_in == 900
            seen = await client.introspect(token.access_token)
            assert seen is not None and seen.access_token == token.access_token
            results = await client.revoke_many([token.access_token, "never-issued"], parallelism=2)
            assert [r.status for r in results] == [vf.Status.OK, vf.Status.TOKEN_NOT_FOUND]
            assert await client.introspect(token.access_token) is None
            assert isinstance(client.rate_limit(), vf.RateLimit)
        with pytest.raises(vf.ClientClosedError):
            await client.revoke("x")

    asyncio.run(main())


def test_token_source_mints_once_for_concurrent_awaits(standin: StandIn) -> None:
    async def main() -> str:
        async with make_client(standin) as client:
            async with client.token_source("api") as source:
                tokens = await asyncio.gather(*(source.access_token() for _ in range(20)))
                assert len(set(tokens)) == 1
                assert await source.authorization() == "Bearer " + tokens[0]
                await source.refresh()
                assert await source.access_token() != tokens[0]
                current = await source.access_token()
            assert source.closed
            assert await client.introspect(current) is None  # revoked on close
            return current

    asyncio.run(main())
    assert standin.count(GENERATE) == 2
    assert standin.count(REVOKE) == 1


def test_source_outlives_its_client(standin: StandIn) -> None:
    async def main() -> None:
        client = make_client(standin)
        source = client.token_source("api", revoke_on_close=False)
        await client.aclose()
        assert (await source.authorization()).startswith("Bearer ")
        await source.aclose()

    asyncio.run(main())
    assert standin.count(GENERATE) == 1


def test_progress_and_counters_off_the_loop(standin: StandIn) -> None:
    standin.reset()
    seen: List[int] = []

    def progress(index: int, result: vf.RevokeResult) -> bool:
        seen.append(index)  # from the library's threads, not the loop's
        return len(seen) < 5

    async def main() -> None:
        async with make_client(standin) as client:
            tokens = [f"never-issued-{i}" for i in range(20)]
            results = await client.revoke_many(tokens, parallelism=2, progress=progress)
            assert 5 <= len(seen) <= 6 and all(results[i].not_found for i in seen)
            assert sum(r.status == vf.Status.CANCELLED for r in results) == 20 - len(seen)
            assert client.counters()["requests"] == len(seen)
            source = client.token_source("api")
            await source.access_token()
            assert source.counters()["mints"] == 1
            await source.aclose()

    asyncio.run(main())
