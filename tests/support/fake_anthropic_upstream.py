"""A local Anthropic Messages upstream for tests (``POST /v1/messages``, JSON and the event stream).

The request's ``model`` picks the behaviour: any ordinary name answers :data:`TEXT`; ``tool-model``
calls ``get_weather`` until a ``tool_result`` comes back, then answers :data:`TOOL_ANSWER`;
``error-<status>`` fails with that status (Anthropic's error body); ``cut-stream`` drops the
connection after two events. Every answer carries a field no SDK models (``x_upstream``) so that a
test can see it survive the gateway.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.aiohttp_thread import ThreadedServer, sse

TEXT_PIECES = ("Hello", " from", " Claude")
TEXT = "".join(TEXT_PIECES)
TOOL_ANSWER = "It is sunny in Oslo."
TOOL_INPUT = {"city": "Oslo"}
USAGE = {
    "input_tokens": 11,
    "output_tokens": 7,
    "cache_read_input_tokens": 2,
    "cache_creation_input_tokens": 0,
}
"""What every answer reports: 13 prompt tokens (cached ones included), 7 completion tokens."""
EXTRA = {"kept": True}


class FakeAnthropicUpstream(ThreadedServer):
    """Speaks Anthropic's Messages API; :attr:`requests` holds every request (headers included)."""

    def build(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        return app

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        model = str(body.get("model", ""))
        if model.startswith("error-"):
            status = int(model.removeprefix("error-"))
            error = {"type": "error", "error": {"type": "api_error", "message": f"fake failure {status}"}}
            return web.json_response(error, status=status)
        blocks = _answer(model, body.get("messages") or [])
        message = _message(model, blocks)
        if not body.get("stream"):
            return web.json_response(message)
        return await sse(request, _events(message), cut_after=2 if model == "cut-stream" else None)


def _answer(model: str, messages: list[Any]) -> list[dict[str, Any]]:
    if model != "tool-model":
        return [{"type": "text", "text": TEXT}]
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, dict) else None
    answered = isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )
    if answered:
        return [{"type": "text", "text": TOOL_ANSWER}]
    return [{"type": "tool_use", "id": "toolu_fake1", "name": "get_weather", "input": TOOL_INPUT}]


def _message(model: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    stop = "tool_use" if blocks[0]["type"] == "tool_use" else "end_turn"
    return {
        "id": "msg_fake1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": dict(USAGE),
        "x_upstream": EXTRA,
    }


def _events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    start = {**message, "content": [], "stop_reason": None, "usage": {**USAGE, "output_tokens": 1}}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    events.append(("ping", {"type": "ping"}))
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            opened: dict[str, Any] = {"type": "text", "text": ""}
            deltas = (
                [{"type": "text_delta", "text": piece} for piece in TEXT_PIECES]
                if block["text"] == TEXT
                else [{"type": "text_delta", "text": block["text"]}]
            )
        else:
            opened = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": '{"city": "Oslo"}'}]
        events.append(
            ("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened})
        )
        events += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": 7}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events
