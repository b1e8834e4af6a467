"""asyncio: a :class:`Client` and :class:`TokenSource` whose calls are awaited.

Each call runs in a worker thread of the client's own pool, off the event
loop: the library releases the GIL while it works, so the loop keeps
running, and many concurrent awaits share one client (its connections and
rate-limit state) and run in parallel, up to ``max_workers`` at once; the
others wait their turn in the pool::

    import asyncio
    from libvoucherify import aio

    async def main():
        async with aio.Client("my-app-id", "my-secret-key") as client:
            await asyncio.gather(*(client.revoke(t) for t in tokens))
            async with client.token_source("api") as source:
                headers = {"Authorization": await source.authorization()}

Cancelling an await stops the waiting, not the call: a request already sent
runs to its end (bounded by the client's ``timeout_ms``) in its thread.
Building the client (``vf_client_new``) is quick and local, so the
constructor is a plain call; closing waits for calls in progress, so it is
awaited. Everything else is as in :class:`libvoucherify.Client`.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar, Union

from . import _client
from ._client import RevokeResult, Token
from ._errors import RateLimit

__all__ = ["Client", "TokenSource"]

_T = TypeVar("_T")
_Self = TypeVar("_Self", bound="_OffLoop")


class _OffLoop:
    """The asyncio face of a blocking object, ``sync``: runs its calls in a
    thread pool and awaits them, and closes it as ``async with`` ends."""

    sync: Any

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool

    async def _run(self, func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    @property
    def closed(self) -> bool:
        return bool(self.sync.closed)

    async def aclose(self) -> None:
        await self._run(self.sync.close)

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<libvoucherify.aio.{type(self).__name__} {state} at {id(self):#x}>"


class Client(_OffLoop):
    """An asyncio face of :class:`libvoucherify.Client`; takes the same arguments,
    plus ``max_workers``: how many calls run at once (default 32)."""

    def __init__(self, *args: Any, max_workers: int = 32, **kwargs: Any) -> None:
        self.sync = _client.Client(*args, **kwargs)  # the blocking client underneath
        super().__init__(ThreadPoolExecutor(max_workers, thread_name_prefix="libvoucherify"))

    async def revoke(self, access_token: Union[str, bytes]) -> None:
        """See :meth:`libvoucherify.Client.revoke`."""
        await self._run(self.sync.revoke, access_token)

    async def generate(self, scope: Union[str, Sequence[str]]) -> Token:
        """See :meth:`libvoucherify.Client.generate`."""
        return await self._run(self.sync.generate, scope)

    async def introspect(self, access_token: Union[str, bytes]) -> Optional[Token]:
        """See :meth:`libvoucherify.Client.introspect`."""
        return await self._run(self.sync.introspect, access_token)

    async def revoke_many(
        self,
        tokens: Sequence[Union[str, bytes]],
        parallelism: int = 0,
        progress: Optional[Callable[[int, RevokeResult], Optional[bool]]] = None,
    ) -> List[RevokeResult]:
        """See :meth:`libvoucherify.Client.revoke_many` (one worker thread
        waits; the library runs ``parallelism`` requests itself). ``progress``
        is called from the library's threads, not the event loop's: use
        ``loop.call_soon_threadsafe`` to reach the loop from it."""
        return await self._run(self.sync.revoke_many, tokens, parallelism, progress)

    def rate_limit(self) -> RateLimit:
        """See :meth:`libvoucherify.Client.rate_limit` (in memory: not awaited)."""
        return self.sync.rate_limit()

    def paused_until(self) -> Optional[float]:
        """See :meth:`libvoucherify.Client.paused_until` (in memory: not awaited)."""
        return self.sync.paused_until()

    def counters(self) -> Dict[str, int]:
        """See :meth:`libvoucherify.Client.counters` (in memory: not awaited)."""
        return self.sync.counters()

    def token_source(self, scope: Union[str, Sequence[str]], **kwargs: Any) -> "TokenSource":
        """An asyncio :class:`TokenSource` on this client, sharing its threads."""
        return TokenSource(self.sync.token_source(scope, **kwargs), self._pool)

    async def aclose(self) -> None:
        """Frees the client once calls in progress end. Its idle threads end
        when the last of it and its sources is garbage-collected (a source
        may outlive its client, as in the blocking API)."""
        await super().aclose()


class TokenSource(_OffLoop):
    """An asyncio face of :class:`libvoucherify.TokenSource`, made by
    :meth:`Client.token_source`. Its ``close()`` revokes the token (unless
    ``revoke_on_close=False``): one request, so it is awaited."""

    def __init__(self, source: _client.TokenSource, pool: ThreadPoolExecutor) -> None:
        self.sync = source  # the blocking source underneath
        super().__init__(pool)

    async def access_token(self) -> str:
        """See :meth:`libvoucherify.TokenSource.access_token`."""
        return await self._run(self.sync.access_token)

    async def authorization(self) -> str:
        """See :meth:`libvoucherify.TokenSource.authorization`."""
        return await self._run(self.sync.authorization)

    async def refresh(self) -> None:
        """See :meth:`libvoucherify.TokenSource.refresh`."""
        await self._run(self.sync.refresh)

    def counters(self) -> Dict[str, Optional[int]]:
        """See :meth:`libvoucherify.TokenSource.counters` (in memory: not awaited)."""
        return self.sync.counters()

    def httpx_auth(self) -> Any:
        """The ``auth=`` for an ``httpx.AsyncClient`` (see
        :meth:`libvoucherify.TokenSource.httpx_auth`)."""
        return self.sync.httpx_auth()

    async def aclose(self) -> None:
        """Revokes the token (unless told not to) and frees the source."""
        await super().aclose()
