"""A token source as the ``auth=`` of requests and httpx (imported only when asked for).

Each request gets ``Authorization: Bearer <token>`` from the source. On a
401 the request is sent once more with a new token: the source is refreshed
unless another request already replaced the token that was refused (so a
burst of 401s on one expired token mints one new token, not one each).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Generator

if TYPE_CHECKING:  # pragma: no cover
    from ._client import TokenSource


class _Renewer:
    """The token to send, and the one to retry with after a 401."""

    def __init__(self, source: "TokenSource") -> None:
        self.source = source

    def token(self) -> str:
        return self.source.access_token()

    def after_401(self, refused: str) -> str:
        return self.source.refresh_rejected(refused)


def requests_auth(source: "TokenSource") -> Any:
    return _requests_class()(_Renewer(source))


def httpx_auth(source: "TokenSource") -> Any:
    return _httpx_class()(_Renewer(source))


@functools.lru_cache(maxsize=None)
def _requests_class() -> type:
    import requests.auth

    class BearerAuth(requests.auth.AuthBase):
        """requests' auth hook: the header, and one retry after a 401."""

        def __init__(self, renewer: _Renewer) -> None:
            self._renewer = renewer

        def __call__(self, request: Any) -> Any:
            token = self._renewer.token()
            request.headers["Authorization"] = f"Bearer {token}"
            body_at = _position(request.body)
            request.register_hook("response", lambda r, **kw: self._retry_401(r, token, body_at, **kw))
            return request

        def _retry_401(self, response: Any, token: str, body_at: Any, **kwargs: Any) -> Any:
            if response.status_code != 401 or getattr(response.request, "_vf_retried", False):
                return response
            if body_at is not None:  # a file body was read once: rewind it
                response.request.body.seek(body_at)
            response.content  # read it, so that the connection can be reused
            response.close()
            retry = response.request.copy()
            retry._vf_retried = True  # once only, whatever the second answer
            retry.headers["Authorization"] = f"Bearer {self._renewer.after_401(token)}"
            second = response.connection.send(retry, **kwargs)
            second.history.append(response)
            second.request = retry
            return second

    return BearerAuth


def _position(body: Any) -> Any:
    try:
        return body.tell() if hasattr(body, "seek") else None
    except OSError:
        return None


@functools.lru_cache(maxsize=None)
def _httpx_class() -> type:
    import httpx

    class BearerAuth(httpx.Auth):
        """httpx's auth flow: the header, and one retry after a 401.

        With an ``httpx.AsyncClient`` the source's calls (which may mint a
        token) run in a worker thread, off the event loop.
        """

        requires_request_body = True  # a retried request resends its body

        def __init__(self, renewer: _Renewer) -> None:
            self._renewer = renewer

        def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
            token = self._renewer.token()
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code == 401:
                request.headers["Authorization"] = f"Bearer {self._renewer.after_401(token)}"
                yield request

        async def async_auth_flow(self, request: Any) -> Any:
            import asyncio

            await request.aread()  # what the default async flow does first
            loop = asyncio.get_running_loop()
            token = await loop.run_in_executor(None, self._renewer.token)
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code == 401:
                renewed = await loop.run_in_executor(None, self._renewer.after_401, token)
                request.headers["Authorization"] = f"Bearer {renewed}"
                yield request

    return BearerAuth
