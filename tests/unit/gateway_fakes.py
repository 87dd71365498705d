"""Test doubles for the gateway: a scripted provider client and a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from routeiq_core.catalog import Deployment, ModelCatalog, ModelGroup
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation, ProviderReply, Usage
from routeiq_core.sse import data_frame


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedClient:
    """Answers per deployment id from a script: an UpstreamError to raise, or 'ok'."""

    def __init__(self, script: dict[str, list[Any]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[str] = []
        self.payloads: list[dict[str, Any]] = []
        self.closed_streams = 0

    def _next(self, deployment: Deployment) -> Any:
        self.calls.append(deployment.id)
        queue = self.script.get(deployment.id, [])
        return queue.pop(0) if queue else "ok"

    async def send(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any], *, timeout_s: float
    ) -> ProviderReply:
        self.payloads.append(payload)
        outcome = self._next(deployment)
        if isinstance(outcome, Exception):
            raise outcome
        usage = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
        body = msgspec.json.encode({"id": "x", "model": payload["model"], "served_by": deployment.id})
        return ProviderReply(body=body, usage=usage)

    async def stream(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any], *, timeout_s: float
    ) -> AsyncIterator[bytes]:
        self.payloads.append(payload)
        outcome = self._next(deployment)
        try:
            if isinstance(outcome, Exception):
                raise outcome
            for word in ("a", "b", "c"):
                if outcome == "cut" and word == "c":
                    raise UpstreamError("connection dropped", status_code=502, retryable=True)
                yield data_frame(msgspec.json.encode({"choices": [{"delta": {"content": word}}]}))
            usage = {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
            yield data_frame(msgspec.json.encode({"choices": [], "usage": usage}))
        finally:
            self.closed_streams += 1

    async def aclose(self) -> None:
        pass


def deployment(group: str, n: int, **kw: Any) -> Deployment:
    return Deployment(
        id=f"{group}-{n}", model_group=group, adapter="mock", upstream_model=f"up-{group}-{n}", **kw
    )


def catalog(*groups: ModelGroup) -> ModelCatalog:
    return ModelCatalog(groups)


def failure(status: int, retry_after: float | None = None, code: str | None = None) -> UpstreamError:
    return UpstreamError(
        f"upstream said {status}",
        status_code=status,
        retryable=status == 429 or status >= 500,
        retry_after_s=retry_after,
        code=code,
    )
