"""The per-session guards of :func:`~routeiq_adapters.net.guarded_session` besides the resolver.

* :func:`url_guard` — a client middleware run for every request *and every redirect hop*: it checks
  the URL (scheme, userinfo, address literals, which aiohttp connects to without asking the resolver)
  and refuses proxies.
* :func:`guarded_socket_factory` — the last line: the connector creates every socket through it with
  the exact address it is about to connect to, which is checked once more. Nothing reaches a
  refused address even if a caller overrides the middlewares per request.
* :func:`redirect_refusal` — a trace hook that stops aiohttp from following a redirect when a
  caller forgot ``allow_redirects=False``.
"""

from __future__ import annotations

import errno
import socket
from ipaddress import ip_address
from types import SimpleNamespace

import aiohttp
from aiohttp import ClientHandlerType, ClientMiddlewareType, ClientRequest, ClientResponse
from yarl import URL

from routeiq_core.errors import UnsafeUpstreamError, UpstreamError
from routeiq_core.net import AddressPolicy

_SCHEMES = frozenset({"http", "https"})


def check_url(url: str | URL, policy: AddressPolicy) -> URL:
    """Check an outbound URL before it is used: the config-load check of a user- or config-named URL.

    The scheme must be ``http`` or ``https``, there must be a host and no userinfo, and a host that is
    an address literal (any spelling) must be allowed by ``policy``. Names are not resolved here:
    that happens, checked, on every connection.

    Args:
        url: The URL as configured.
        policy: What may be reached.

    Returns:
        The parsed URL.

    Raises:
        UnsafeUpstreamError: The URL is refused; the message names the host and why.
    """
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except (TypeError, ValueError):
        raise UnsafeUpstreamError(str(url)[:200], "it is not a valid URL") from None
    host = parsed.raw_host
    if not host:
        raise UnsafeUpstreamError(str(url)[:200], "the URL has no host")
    if parsed.scheme not in _SCHEMES:
        raise UnsafeUpstreamError(host, f"scheme {parsed.scheme!r} is not http or https")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise UnsafeUpstreamError(host, "credentials in the URL are not allowed; send them as headers")
    policy.check_host(host)
    return parsed


def url_guard(policy: AddressPolicy) -> ClientMiddlewareType:
    """A client middleware that refuses unsafe URLs and proxies (see :func:`check_url`).

    Args:
        policy: What may be reached.
    """

    async def guard(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        check_url(request.url, policy)
        if request.proxy is not None:
            raise UnsafeUpstreamError(request.url.raw_host or "", "requests through a proxy are not allowed")
        return await handler(request)

    return guard


def guarded_socket_factory(policy: AddressPolicy) -> aiohttp.SocketFactoryType:
    """A socket factory that checks the address each socket is about to connect to.

    A refusal is an ``OSError`` (``EACCES``), so aiohttp reports it as a failed connection
    (``aiohttp.ClientConnectorError``) naming the address — which only happens when the earlier
    guards were bypassed.

    Args:
        policy: What may be reached.
    """

    def create(addr_info: aiohttp.AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        try:
            reason = policy.refusal(ip_address(sockaddr[0]))
        except ValueError:
            reason = "not a numeric address"
        if reason is not None:
            raise PermissionError(errno.EACCES, f"SSRF guard refused to connect to {sockaddr[0]} ({reason})")
        return socket.socket(family=family, type=type_, proto=proto)

    return create


def redirect_refusal() -> aiohttp.TraceConfig:
    """A trace config under which following a redirect raises instead of connecting elsewhere.

    With ``allow_redirects=False`` the 3xx answer is simply returned; this only fires when aiohttp
    is about to follow one.
    """

    async def on_redirect(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestRedirectParams
    ) -> None:
        status = params.response.status
        params.response.close()
        raise UpstreamError(
            f"upstream {params.url.raw_host!r} answered {status} (a redirect), which is not followed; "
            "configure the URL it redirects to instead",
            code="upstream_redirect",
        )

    config = aiohttp.TraceConfig()
    config.on_request_redirect.append(on_redirect)
    return config
