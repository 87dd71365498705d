"""Test doubles of the provider port: a client scripted per deployment, and a scripted chat model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import msgspec

from routeiq_core.catalog import Deployment, ModelCatalog, ModelGroup
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation, ProviderReply, Usage
from routeiq_core.sse import data_frame


class ScriptedClient:
    """Answers per deployment id from a script: an UpstreamError to raise, or 'ok'."""

    def __init__(self, script: dict[str, list[Any]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[str] = []
        self.payloads: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.closed_streams = 0

    def _next(self, deployment: Deployment) -> Any:
        self.calls.append(deployment.id)
        queue = self.script.get(deployment.id, [])
        return queue.pop(0) if queue else "ok"

    async def send(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        self.payloads.append(payload)
        self.headers.append(dict(headers or {}))
        outcome = self._next(deployment)
        if isinstance(outcome, Exception):
            raise outcome
        usage = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
        body = msgspec.json.encode({"id": "x", "model": payload["model"], "served_by": deployment.id})
        return ProviderReply(body=body, usage=usage)

    async def stream(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        self.payloads.append(payload)
        self.headers.append(dict(headers or {}))
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


def deployment(name: str, n: int | None = None, **kw: Any) -> Deployment:
    """A mock deployment ``name`` (or ``name-n``) of group ``name``, serving upstream model ``<id>-model``."""
    ident = name if n is None else f"{name}-{n}"
    return Deployment(
        id=ident,
        model_group=kw.pop("model_group", name),
        adapter="mock",
        upstream_model=kw.pop("upstream_model", f"{ident}-model"),
        **kw,
    )


def catalog(*groups: ModelGroup) -> ModelCatalog:
    """A catalog of these groups."""
    return ModelCatalog(groups)


def failure(status: int, retry_after: float | None = None, code: str | None = None) -> UpstreamError:
    """What an upstream answering ``status`` raises (429 and 5xx are retryable)."""
    return UpstreamError(
        f"upstream said {status}",
        status_code=status,
        retryable=status == 429 or status >= 500,
        retry_after_s=retry_after,
        code=code,
    )


class ScriptedChat:
    """A chat model answering each call with the next scripted text (or raising it); guards never stream."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.payloads: list[dict[str, Any]] = []
        self.timeouts: list[float] = []

    async def send(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderReply:
        assert operation is Operation.CHAT
        self.payloads.append(payload)
        self.timeouts.append(timeout_s)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        message = {"role": "assistant", "content": answer}
        body = {
            "id": "cmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "chat-upstream",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }
        return ProviderReply(body=msgspec.json.encode(body))

    def stream(
        self,
        deployment: Deployment,
        operation: Operation,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[bytes]:
        raise NotImplementedError("guards and judges never stream")

    async def aclose(self) -> None:
        pass
