"""The provider port: how the gateway talks to an upstream, whatever its technology."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.operations import Operation, UploadedFile

__all__ = ["Operation", "ProviderClient", "ProviderReply", "UploadedFile", "Usage", "WarmsUp"]


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts of one call, as OpenAI reports them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ProviderReply(msgspec.Struct, frozen=True, kw_only=True):
    """A complete (non-streamed) upstream answer, already in OpenAI JSON."""

    body: bytes
    usage: Usage | None = None


class ProviderClient(Protocol):
    """Port to one kind of upstream. Adapters raise :class:`routeiq_core.errors.UpstreamError`s.

    ``payload`` is the client's OpenAI-shaped request with ``model`` already set to the deployment's
    upstream model; fields the gateway does not model are passed through untouched. A transcription's
    ``file`` is an :class:`~routeiq_core.operations.UploadedFile` (adapters send it as a form upload).
    """

    async def send(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        """Make one non-streaming call, bounded by ``timeout_s``.

        ``headers`` are extra request headers for the upstream (the W3C trace context); adapters
        that speak HTTP send them, others may ignore them.
        """
        ...

    def stream(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        r"""Stream one call as chunks of one or more complete SSE frames (``data: {...}\\n\\n``).

        ``[DONE]`` is excluded. All frames of one upstream read may come as one chunk, which the
        gateway forwards with one write. For an operation of
        :data:`~routeiq_core.operations.BYTE_STREAMS` (speech), the chunks are the answer's raw
        bytes instead (audio in the request's ``response_format``).

        ``timeout_s`` bounds the wait for the first frame and for each later one; ``headers`` as
        for :meth:`send`. Closing the
        iterator early (client gone) must cancel the upstream request.
        """
        ...

    async def aclose(self) -> None:
        """Release pooled connections."""
        ...


@runtime_checkable
class WarmsUp(Protocol):
    """A provider client that can open its connection pools before the first request."""

    async def open(self, deployments: Sequence[Deployment]) -> None:
        """Warm connections to the deployments this client serves (bounded; failures only logged)."""
        ...
