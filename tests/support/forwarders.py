"""A test double of the native forwarder port: scripted per deployment, recording what it was sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.native import NativeRequest
from routeiq_core.providers import ProviderReply, Usage

NATIVE_EVENTS = (b'event: start\ndata: {"usage": {"in": 4}}\n\n', b'event: delta\ndata: {"t": "x"}\n\n')
"""What a scripted native stream sends, in two chunks (then an end event carrying the output usage)."""
NATIVE_END = b'event: end\ndata: {"usage": {"out": 6}}\n\n'


class _Counts(msgspec.Struct):
    usage: dict[str, int] = msgspec.field(default_factory=dict)


class ScriptedForwarder:
    """Answers per deployment id from a script: an UpstreamError to raise, ``cut`` (a stream breaks), or ok.

    Its protocol's usage, in these tests: ``{"usage": {"in": n}}`` and ``{"usage": {"out": n}}``.
    """

    def __init__(self, script: dict[str, list[Any]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    def _next(self, deployment: Deployment, request: NativeRequest, headers: Mapping[str, str] | None) -> Any:
        self.calls.append(deployment.id)
        self.bodies.append(request.body_for(deployment.id, deployment.upstream_model))
        self.headers.append({**request.headers, **(headers or {})})
        queue = self.script.get(deployment.id, [])
        return queue.pop(0) if queue else "ok"

    async def forward(
        self,
        deployment: Deployment,
        request: NativeRequest,
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        outcome = self._next(deployment, request, headers)
        if isinstance(outcome, Exception):
            raise outcome
        body = msgspec.json.encode({"native": True, "served_by": deployment.id})
        return ProviderReply(body=body, usage=Usage(prompt_tokens=4, completion_tokens=6, total_tokens=10))

    async def forward_stream(
        self,
        deployment: Deployment,
        request: NativeRequest,
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        outcome = self._next(deployment, request, headers)
        if isinstance(outcome, Exception):
            raise outcome
        for chunk in NATIVE_EVENTS:
            yield chunk
        if outcome == "cut":
            raise UpstreamError("connection dropped", status_code=502, retryable=True)
        yield NATIVE_END

    def stream_usage(self, chunk: bytes) -> Usage | None:
        data = b"".join(line[6:] for line in chunk.split(b"\n") if line.startswith(b"data: "))
        counts = msgspec.json.decode(data, type=_Counts).usage
        prompt, completion = counts.get("in", 0), counts.get("out", 0)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)

    async def aclose(self) -> None:
        pass
