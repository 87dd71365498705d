"""The native forwarder port: how the gateway sends a client's own protocol to an upstream as is.

See :mod:`routeiq_core.native` for when it does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Protocol

from routeiq_core.catalog import Deployment
from routeiq_core.native import NativeRequest
from routeiq_core.providers import ProviderReply, Usage

__all__ = ["NativeForwarder", "merge_usage"]


class NativeForwarder(Protocol):
    """Port to the upstreams of one native protocol: forwards bodies and relays answers as they are.

    Adapters raise :class:`routeiq_core.errors.UpstreamError`s, as provider clients do.
    """

    async def forward(
        self,
        deployment: Deployment,
        request: NativeRequest,
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        """Make one non-streaming call; the reply's body is the upstream's answer, byte for byte.

        The body sent is ``request.body_for(deployment.id, <the deployment's model>)``, with the
        request's headers and ``headers`` (the W3C trace context) added to the deployment's own.
        """
        ...

    def forward_stream(
        self,
        deployment: Deployment,
        request: NativeRequest,
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream one call (as :meth:`forward` sends it): chunks of complete SSE events, as written upstream.

        An error event raises an ``UpstreamError`` (before the first chunk, the gateway fails over).
        ``timeout_s`` bounds the wait for the first event and for each later one; closing the
        iterator early cancels the upstream request.
        """
        ...

    def stream_usage(self, chunk: bytes) -> Usage | None:
        """The usage the events of ``chunk`` report, if any (possibly partial: see :func:`merge_usage`)."""
        ...

    async def aclose(self) -> None:
        """Release pooled connections."""
        ...


def merge_usage(earlier: Usage | None, later: Usage) -> Usage:
    """A stream's usage so far and a later report: each count the later one has, else the earlier's.

    Native streams report usage in pieces (Anthropic: the input tokens first, the output tokens at
    the end, cumulative).
    """
    if earlier is None:
        return later
    prompt = later.prompt_tokens or earlier.prompt_tokens
    completion = later.completion_tokens or earlier.completion_tokens
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
