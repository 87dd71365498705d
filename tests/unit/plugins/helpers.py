"""Request contexts, OpenAI bodies and SSE frames for calling plugin hooks directly."""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_core.access import Principal
from routeiq_core.calls import account
from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.context import CallContext, RouteDecision
from routeiq_core.providers import Operation, Usage


def chat(text: str, *, system: str | None = None, **params: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    return {"model": "chat", "messages": [*messages, {"role": "user", "content": text}], **params}


def make_ctx(
    payload: dict[str, Any],
    *,
    stream: bool = False,
    team: str | None = None,
    key_id: str | None = None,
    model_group: str | None = "chat",
    operation: Operation = Operation.CHAT,
    deployment: Deployment | None = None,
    usage: Usage | None = None,
) -> CallContext:
    """A call's context as plugins see it; with a deployment and usage, served and priced."""
    kind = "virtual_key" if key_id else "anonymous"
    ctx = CallContext(
        request_id="req-1",
        operation=operation,
        surface="openai",
        payload=payload,
        stream=stream,
        principal=Principal(kind=kind, role="member", key_id=key_id, team=team),
        group=ModelGroup(name=model_group, deployments=(deployment,) if deployment else ())
        if model_group
        else None,
        deployment=deployment,
        usage=usage,
    )
    if deployment is not None:
        ctx.route = RouteDecision(
            model_group=deployment.model_group, deployment_id=deployment.id, strategy="test", attempts=1
        )
        if usage is not None:
            account(ctx, usage, produced=0)
    return ctx


def completion(text: str, *, usage: dict[str, int] | None = None, finish: str = "stop") -> bytes:
    body: dict[str, Any] = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "chat-upstream",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return msgspec.json.encode(body)


def frame(
    content: str | None = None, *, finish: str | None = None, index: int = 0, role: bool = False
) -> bytes:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    chunk = {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "chat-upstream",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + msgspec.json.encode(chunk) + b"\n\n"


def usage_frame(prompt: int, completion: int) -> bytes:
    chunk = {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "chat-upstream",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }
    return b"data: " + msgspec.json.encode(chunk) + b"\n\n"


def streamed_text(frames: list[bytes]) -> dict[int, str]:
    """The text each choice received, from SSE frames (several frames per chunk allowed)."""
    texts: dict[int, str] = {}
    for chunk in frames:
        for event in chunk.split(b"\n\n"):
            if not event.startswith(b"data: ") or event == b"data: [DONE]":
                continue
            for choice in msgspec.json.decode(event[6:])["choices"]:
                piece = choice.get("delta", {}).get("content") or choice.get("text") or ""
                texts[choice["index"]] = texts.get(choice["index"], "") + piece
    return texts
