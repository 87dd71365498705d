"""What every HTTP surface reads the same way: credentials, the client's address, routing hints.

The core gets a :class:`~routeiq_core.calls.Credentials` (a key and a client address) and
:class:`~routeiq_core.calls.RoutingHints`; parsing ``Authorization: Bearer`` (or LiteLLM's
``x-litellm-api-key``, Anthropic's ``x-api-key``), ``X-Forwarded-For`` and RouteIQ's
``x-routeiq-*`` headers happens here, in one pass over the request's headers. The call's
outcome goes back out as ``x-routeiq-*`` response headers (:func:`result_headers`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from routeiq_app.asgi_types import Scope
from routeiq_core.calls import Credentials, RoutingHints
from routeiq_core.context import CallContext

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
RawHeaders = Iterable[tuple[bytes, bytes]]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def presented_key(
    authorization: str | None, litellm_key: str | None, api_key: str | None = None
) -> str | None:
    """The key a request presents: Bearer ``Authorization``, else ``x-litellm-api-key``, else ``x-api-key``.

    LiteLLM clients send ``x-litellm-api-key: sk-...`` (some with a ``Bearer`` prefix, accepted too);
    Anthropic clients send ``x-api-key: sk-...``. Any other ``Authorization`` scheme is not a key, so
    the other headers are used then.
    """
    token = bearer_token(authorization)
    other = litellm_key or api_key
    if token is not None or not other:
        return token
    value = other.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def parse_networks(texts: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) of trusted proxies.

    Raises:
        ValueError: naming every entry that is not an address or network.
    """
    networks: list[IPNetwork] = []
    problems: list[str] = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_ip(forwarded: Sequence[str], peer: str | None, trusted_proxies: Sequence[IPNetwork]) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy.

    ``forwarded`` are the request's ``X-Forwarded-For`` values (repeated headers in order). They are
    honoured only when the direct peer is inside ``trusted_proxies``; the hops are then walked from
    the right, skipping trusted proxies, and the first other address is the client. Entries a client
    prepended itself are never reached, so spoofing them gains nothing.
    """
    if peer is None:
        return None
    current = _address(peer)
    if current is None or not _trusted(current, trusted_proxies):
        return str(current) if current is not None else peer
    hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage from an untrusted hop: stop at the last proxy we trust
        current = address
        if not _trusted(address, trusted_proxies):
            break
    return str(current)


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)


class HttpRequestReader:
    """Reads a request's credentials and routing hints from its headers, in one pass.

    Args:
        trusted_proxies: Peers whose ``X-Forwarded-For`` is believed.
    """

    def __init__(self, trusted_proxies: Sequence[IPNetwork] = ()) -> None:
        self._trusted = tuple(trusted_proxies)

    def credentials(self, scope: Scope) -> Credentials:
        """The presented key (see :func:`presented_key`) and the client's address (see :func:`client_ip`)."""
        return self.read(scope)[0]

    def read(self, scope: Scope) -> tuple[Credentials, RoutingHints]:
        """Credentials, and the hints of ``x-routeiq-tags``, ``-conversation-id``, ``-cost-weight``."""
        authorization: str | None = None
        litellm_key: str | None = None
        api_key: str | None = None
        forwarded: list[str] = []
        tags: tuple[str, ...] = ()
        conversation: str | None = None
        cost_weight: str | None = None
        for raw_name, raw_value in scope.get("headers", ()):
            name = raw_name.lower()
            if name == b"authorization":
                authorization = raw_value.decode("latin-1")
            elif name == b"x-litellm-api-key":
                litellm_key = raw_value.decode("latin-1")
            elif name == b"x-api-key":
                api_key = raw_value.decode("latin-1")
            elif name == b"x-forwarded-for":
                forwarded.append(raw_value.decode("latin-1"))
            elif name == b"x-routeiq-tags":
                tags = tuple(t.strip() for t in raw_value.decode("latin-1").split(",") if t.strip())
            elif name == b"x-routeiq-conversation-id":
                conversation = raw_value.decode("latin-1") or None
            elif name == b"x-routeiq-cost-weight":
                cost_weight = raw_value.decode("latin-1")
        client = scope.get("client")
        peer = client[0] if client else None
        address = client_ip(forwarded, peer, self._trusted) if forwarded else peer
        token = presented_key(authorization, litellm_key, api_key)
        credentials = Credentials(token=token, client_address=address)
        return credentials, RoutingHints(tags=tags, conversation_id=conversation, cost_weight=cost_weight)


def _header(name: bytes, value: str) -> tuple[bytes, bytes]:
    return name, value.encode("latin-1", "replace")


def result_headers(ctx: CallContext, *, with_cost: bool) -> list[tuple[bytes, bytes]]:
    """The ``x-routeiq-*`` headers of a call's outcome, then the headers plugins added.

    Where it went (model group, deployment, strategy, attempts), what a routed name chose and why,
    and — when the answer is complete, so its usage is known — what it cost.
    """
    headers: list[tuple[bytes, bytes]] = []
    route = ctx.route
    if route is not None:
        headers += (
            _header(b"x-routeiq-model-group", route.model_group),
            _header(b"x-routeiq-deployment", route.deployment_id),
            _header(b"x-routeiq-strategy", route.strategy),
            (b"x-routeiq-attempts", str(route.attempts).encode()),
        )
        if with_cost:
            headers.append((b"x-routeiq-cost", f"{ctx.cost:.10g}".encode()))
    routed = ctx.routed
    if routed is not None:
        headers += (
            _header(b"x-routeiq-router", routed.router),
            _header(b"x-routeiq-router-choice", routed.model_group),
            _header(b"x-routeiq-router-reason", routed.reason),
        )
    headers += (_header(k.lower().encode("latin-1", "replace"), v) for k, v in ctx.response_headers.items())
    return headers
