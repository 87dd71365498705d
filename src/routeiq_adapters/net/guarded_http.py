"""The SSRF-guarded HTTP client every user- or config-named outbound URL goes through.

Build one session per upstream pool with :func:`guarded_session` (inside the event loop; the
container owns it as a resource and closes it)::

    policy = AddressPolicy.from_cidrs(settings.mcp.allow_private_networks)
    check_url(url, policy)                       # at config load: scheme, userinfo, literal hosts
    session = guarded_session(policy, connect_timeout_s=5.0, read_timeout_s=30.0)
    http = GuardedHttp(session, timeout_s=30.0)  # forces allow_redirects=False and a deadline
    async with http.request("POST", url, json=body) as response: ...

What the session guarantees, whatever the caller passes:

* every host is resolved once by :class:`~routeiq_adapters.net.GuardedResolver`, every answer is
  checked, and the connection is made to exactly those checked addresses (the pin: aiohttp does no
  second lookup); address literals in any spelling are checked without a lookup;
* each socket is checked again, with the address it connects to, as it is created;
* DNS failures and timeouts refuse the connection (``UpstreamError``, code ``dns_error``);
* no proxy: ``trust_env`` is off (no ``HTTP_PROXY``/``.netrc``) and a per-request ``proxy`` is refused;
* a redirect is never followed: with ``allow_redirects=False`` (what :class:`GuardedHttp` always
  passes) the 3xx answer is returned as is; if a caller of the bare session forgets it, following
  raises ``UpstreamError`` (code ``upstream_redirect``) instead.

Refusals raise :class:`~routeiq_core.errors.UnsafeUpstreamError` (502, naming the host and the
reason, never the resolved address). Callers of the bare session must not pass ``middlewares=``
(it replaces the URL guard; the socket check still holds).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from yarl import URL

from routeiq_adapters.net._guards import check_url, guarded_socket_factory, redirect_refusal, url_guard
from routeiq_adapters.net.guarded_resolver import GuardedResolver
from routeiq_core.net import DNS_TIMEOUT_S, AddressPolicy, Resolver

_CALLER_MAY_NOT_SET = frozenset({"allow_redirects", "max_redirects", "proxy", "proxy_auth", "middlewares"})


def guarded_session(
    policy: AddressPolicy,
    *,
    resolver: Resolver | None = None,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float | None = 30.0,
    dns_timeout_s: float = DNS_TIMEOUT_S,
    dns_cache_ttl_s: int = 10,
    limit: int = 100,
    limit_per_host: int = 0,
    headers: Mapping[str, str] | None = None,
) -> aiohttp.ClientSession:
    """An aiohttp session whose every connection goes through the SSRF guard.

    Must be called inside the running event loop; the caller owns the session and closes it.

    Args:
        policy: What may be reached (public addresses plus allow-listed private networks).
        resolver: The lookup behind the guard (default: the system resolver). Tests pass their own.
        connect_timeout_s: Deadline to get a connection (pool wait, lookup and TCP/TLS connect).
        read_timeout_s: Longest silence while reading an answer (``None``: no limit, for long streams).
        dns_timeout_s: Deadline of each lookup.
        dns_cache_ttl_s: How long checked addresses are reused before the host is resolved (and
            checked) again; ``0`` resolves for every new connection.
        limit: Most connections open at once.
        limit_per_host: Most connections open at once to one host (``0``: only ``limit``).
        headers: Headers sent with every request.
    """
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(policy, base=resolver, timeout_s=dns_timeout_s),
        use_dns_cache=dns_cache_ttl_s > 0,
        ttl_dns_cache=dns_cache_ttl_s or None,
        limit=limit,
        limit_per_host=limit_per_host,
        socket_factory=guarded_socket_factory(policy),
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=read_timeout_s),
        trust_env=False,
        middlewares=(url_guard(policy),),
        trace_configs=[redirect_refusal()],
    )


class GuardedHttp:
    """Requests through a guarded session with redirects off and a deadline always set.

    Args:
        session: A session from :func:`guarded_session` (not closed here; its owner closes it).
        timeout_s: Deadline of a whole :meth:`request`, body read included.
    """

    def __init__(self, session: aiohttp.ClientSession, *, timeout_s: float = 30.0) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    @asynccontextmanager
    async def request(
        self, method: str, url: str | URL, **kwargs: Any
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send one request and yield the answer; a 3xx answer is yielded as is, never followed.

        Args:
            method: HTTP method.
            url: The target URL.
            **kwargs: ``aiohttp.ClientSession.request`` options (``json``, ``data``, ``headers``,
                ``timeout`` to override the deadline, ...); redirect, proxy and middleware options
                are refused.

        Raises:
            TypeError: A redirect, proxy or middleware option was passed.
            UnsafeUpstreamError: The URL or an address it resolves to is refused.
        """
        kwargs.setdefault("timeout", self._timeout)
        async with self._send(method, url, kwargs) as response:
            yield response

    @asynccontextmanager
    async def stream(
        self, method: str, url: str | URL, **kwargs: Any
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Like :meth:`request` for long answers (SSE), without the overall deadline.

        The session's connect deadline and longest silence between reads still bound it.
        """
        async with self._send(method, url, kwargs) as response:
            yield response

    @asynccontextmanager
    async def _send(
        self, method: str, url: str | URL, kwargs: dict[str, Any]
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        refused = sorted(_CALLER_MAY_NOT_SET & kwargs.keys())
        if refused:
            raise TypeError(
                f"GuardedHttp does not accept {', '.join(refused)}: redirects and proxies stay off"
            )
        async with self._session.request(method, url, allow_redirects=False, **kwargs) as response:
            yield response


__all__ = ["GuardedHttp", "check_url", "guarded_session"]
