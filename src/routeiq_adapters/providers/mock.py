"""A built-in provider that needs no network: deterministic answers, latency and failures on demand.

Behaviour comes from the deployment's ``params["mock"]`` (see :class:`MockBehaviour`), so the demo
config and the tests exercise the real gateway path without credentials.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.errors import UpstreamError
from routeiq_core.gateway.types import estimate_prompt_tokens
from routeiq_core.providers import Operation, ProviderReply, Usage
from routeiq_core.sse import data_frame


class MockBehaviour(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a mock deployment answers.

    Attributes:
        content: The reply text (streamed word by word).
        echo: Reply with the last user message instead of ``content``.
        prompt_tokens: Reported prompt tokens (None: estimated from the request).
        completion_tokens: Reported completion tokens (None: the number of words streamed).
        latency_ms: Delay before a non-streaming answer.
        ttft_ms: Delay before the first streamed chunk.
        inter_token_ms: Delay between streamed chunks.
        error_rate: Share of calls (0..1) that fail with ``error_status``.
        error_status: Status of injected failures (429 and 5xx are retryable).
        embedding_dim: Length of returned embedding vectors.
        seed: Seed of the error-injection sequence (deterministic per deployment).
    """

    content: str = "This is a mock response from RouteIQ."
    echo: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float = 0.0
    ttft_ms: float = 0.0
    inter_token_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    embedding_dim: int = 8
    seed: int = 0


class MockProvider:
    """The ``mock`` adapter of the provider port."""

    def __init__(self) -> None:
        self._rngs: dict[str, random.Random] = {}
        self.calls = 0

    async def send(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any], *, timeout_s: float
    ) -> ProviderReply:
        """Answer after ``latency_ms`` (bounded by ``timeout_s``, like a real upstream)."""
        behaviour = self._behaviour(deployment)
        self._maybe_fail(deployment, behaviour)
        await self._wait(behaviour.latency_ms, timeout_s, deployment)
        if operation is Operation.EMBEDDINGS:
            return _embeddings(deployment, payload, behaviour)
        text = self._text(payload, behaviour)
        usage = _usage(operation, payload, behaviour, len(text.split()))
        if operation is Operation.CHAT:
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        else:
            choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
        body = _envelope(operation, payload, chunk=False) | {
            "choices": [choice],
            "usage": msgspec.to_builtins(usage),
        }
        return ProviderReply(body=msgspec.json.encode(body), usage=usage)

    async def stream(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any], *, timeout_s: float
    ) -> AsyncIterator[bytes]:
        """Stream the reply word by word with the configured delays."""
        behaviour = self._behaviour(deployment)
        self._maybe_fail(deployment, behaviour)
        await self._wait(behaviour.ttft_ms, timeout_s, deployment)
        words = self._text(payload, behaviour).split(" ")
        head = _envelope(operation, payload, chunk=True)
        for i, word in enumerate(words):
            if i:
                await anyio.sleep(behaviour.inter_token_ms / 1000)
            piece = word if i == 0 else " " + word
            yield data_frame(
                msgspec.json.encode(head | {"choices": [_delta(operation, piece, i == 0, None)]})
            )
        yield data_frame(msgspec.json.encode(head | {"choices": [_delta(operation, "", False, "stop")]}))
        options = payload.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            usage = _usage(operation, payload, behaviour, len(words))
            yield data_frame(msgspec.json.encode(head | {"choices": [], "usage": msgspec.to_builtins(usage)}))

    async def aclose(self) -> None:
        """Nothing to release."""

    def _behaviour(self, deployment: Deployment) -> MockBehaviour:
        self.calls += 1
        raw = deployment.params.get("mock")
        return raw if isinstance(raw, MockBehaviour) else MockBehaviour()

    def _maybe_fail(self, deployment: Deployment, behaviour: MockBehaviour) -> None:
        if behaviour.error_rate <= 0:
            return
        rng = self._rngs.get(deployment.id)
        if rng is None:
            rng = self._rngs[deployment.id] = random.Random(behaviour.seed)
        if rng.random() < behaviour.error_rate:
            status = behaviour.error_status
            raise UpstreamError(
                f"mock deployment {deployment.id!r} injected a {status} failure",
                status_code=status,
                retryable=status == 429 or status >= 500,
                deployment_id=deployment.id,
            )

    @staticmethod
    async def _wait(ms: float, timeout_s: float, deployment: Deployment) -> None:
        if ms <= 0:
            return
        if ms / 1000 > timeout_s:
            await anyio.sleep(timeout_s)
            raise UpstreamError(
                f"mock deployment {deployment.id!r} timed out after {timeout_s:g}s",
                status_code=408,
                retryable=True,
                deployment_id=deployment.id,
                error_type="timeout_error",
                code="timeout",
            )
        await anyio.sleep(ms / 1000)

    @staticmethod
    def _text(payload: dict[str, Any], behaviour: MockBehaviour) -> str:
        if behaviour.echo:
            messages = payload.get("messages")
            if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
                content = messages[-1].get("content")
                if isinstance(content, str) and content:
                    return content
            prompt = payload.get("prompt")
            if isinstance(prompt, str) and prompt:
                return prompt
        return behaviour.content


def _envelope(operation: Operation, payload: dict[str, Any], *, chunk: bool) -> dict[str, Any]:
    if operation is Operation.CHAT:
        kind = "chat.completion.chunk" if chunk else "chat.completion"
        prefix = "chatcmpl-"
    else:
        kind, prefix = "text_completion", "cmpl-"
    return {
        "id": prefix + uuid.uuid4().hex,
        "object": kind,
        "created": int(time.time()),
        "model": payload["model"],
    }


def _delta(operation: Operation, text: str, first: bool, finish: str | None) -> dict[str, Any]:
    if operation is Operation.CHAT:
        delta: dict[str, Any] = {"content": text} if text or not finish else {}
        if first:
            delta["role"] = "assistant"
        return {"index": 0, "delta": delta, "finish_reason": finish}
    return {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}


def _usage(operation: Operation, payload: dict[str, Any], behaviour: MockBehaviour, words: int) -> Usage:
    prompt = behaviour.prompt_tokens
    if prompt is None:
        prompt = max(1, estimate_prompt_tokens(operation, payload))
    completion = behaviour.completion_tokens if behaviour.completion_tokens is not None else words
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _embeddings(deployment: Deployment, payload: dict[str, Any], behaviour: MockBehaviour) -> ProviderReply:
    raw = payload.get("input")
    inputs = raw if isinstance(raw, list) else [raw]
    data = []
    for i, item in enumerate(inputs):
        rng = random.Random(f"{deployment.id}:{item}")  # same text, same vector
        data.append(
            {
                "object": "embedding",
                "index": i,
                "embedding": [rng.uniform(-1, 1) for _ in range(behaviour.embedding_dim)],
            }
        )
    prompt = behaviour.prompt_tokens or max(1, estimate_prompt_tokens(Operation.EMBEDDINGS, payload))
    usage = Usage(prompt_tokens=prompt, completion_tokens=0, total_tokens=prompt)
    body = {
        "object": "list",
        "data": data,
        "model": payload["model"],
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
    }
    return ProviderReply(body=msgspec.json.encode(body), usage=usage)
