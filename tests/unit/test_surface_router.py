"""The surfaces' router: call paths to their handlers, the rest to Litestar, errors as OpenAI bodies."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import pytest

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_app.asgi_io import ClientDisconnected
from routeiq_app.asgi_types import Message, Receive, Scope, Send
from routeiq_app.surfaces.router import SurfaceRouter, surface_of
from routeiq_core.errors import NotFoundError


async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"fallback"})


def raising(exc: BaseException) -> Any:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        raise exc

    return handler


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"handled"})


def call(router: SurfaceRouter, path: str) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": [], "state": {"request_id": "rid-1"}}
    anyio.run(router, scope, receive, send)
    return sent


def test_call_paths_go_to_their_handler_with_or_without_a_trailing_slash() -> None:
    router = SurfaceRouter(fallback, {"/v1/chat/completions": ok}, InMemoryMetrics())
    assert call(router, "/v1/chat/completions")[1]["body"] == b"handled"
    assert call(router, "/v1/chat/completions/")[1]["body"] == b"handled"
    assert call(router, "/v1/chat")[1]["body"] == b"fallback"
    assert call(router, "/")[1]["body"] == b"fallback"


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NotFoundError("no such model", param="model", code="model_not_found"), 404, "model_not_found"),
        (ClientDisconnected(), 400, "unreadable_body"),
        (RuntimeError("a bug"), 500, "internal_error"),
    ],
)
def test_errors_become_openai_bodies(exc: BaseException, status: int, code: str) -> None:
    start, body = call(SurfaceRouter(fallback, {"/x": raising(exc)}, InMemoryMetrics()), "/x")
    assert start["status"] == status
    error = msgspec.json.decode(body["body"])["error"]
    assert error["code"] == code
    assert "Traceback" not in error["message"]
    if status == 500:
        assert "rid-1" in error["message"]


def test_an_error_after_the_response_started_sends_nothing_more() -> None:
    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("late")

    sent = call(SurfaceRouter(fallback, {"/x": half}, InMemoryMetrics()), "/x")
    assert [m["type"] for m in sent] == ["http.response.start"]


@pytest.mark.parametrize(
    ("path", "surface"),
    [
        ("/v1/responses/resp_1", "responses"),
        ("/v1/responses/resp_1/input_items", "responses"),
        ("/v1/messages/batches", "anthropic"),
        ("/v1/models", "openai"),
        ("/admin/keys", "admin"),
        ("/ui/app.js", "ui"),
        ("/whatever/" + "x" * 500, "other"),
    ],
)
def test_other_paths_are_counted_under_a_bounded_surface_name(path: str, surface: str) -> None:
    assert surface_of(path) == surface
