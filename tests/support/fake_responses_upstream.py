"""A local Responses-native upstream for tests (``POST /v1/responses``, JSON and the typed events).

It keeps the responses it made, so a request naming one as ``previous_response_id`` continues it
(an unknown one is a 400, as OpenAI answers). The answer's text says what the upstream saw:
``Hello from Responses (<n> input items, previous <id or none>)``. ``error-<status>`` models fail
with that status; ``cut-stream`` drops the connection after two events. Every response carries a
field no SDK models (``x_upstream``).
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from tests.support.aiohttp_thread import ThreadedServer, sse

USAGE = {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}
EXTRA = {"kept": True}


class FakeResponsesUpstream(ThreadedServer):
    """Speaks the Responses API at ``{base_url}/responses``; :attr:`requests` holds every request."""

    def __init__(self) -> None:
        super().__init__()
        self.made: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return self.origin + "/v1"

    def build(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/responses", self._create)
        return app

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        model = str(body.get("model", ""))
        if model.startswith("error-"):
            status = int(model.removeprefix("error-"))
            return web.json_response(
                {"error": {"message": f"fake failure {status}", "type": "server_error"}}, status=status
            )
        previous = body.get("previous_response_id")
        if previous is not None and previous not in self.made:
            error = {
                "message": f"Previous response with id '{previous}' not found.",
                "type": "invalid_request_error",
            }
            return web.json_response({"error": error}, status=400)
        items = body.get("input")
        count = len(items) if isinstance(items, list) else 1
        response = _response(
            f"resp_up{next(self._ids)}",
            model,
            f"Hello from Responses ({count} input items, previous {previous or 'none'})",
        )
        if body.get("store", True):
            self.made[response["id"]] = response
        if not body.get("stream"):
            return web.json_response(response)
        return await sse(request, _events(response), cut_after=2 if model == "cut-stream" else None)


def _response(response_id: str, model: str, text: str) -> dict[str, Any]:
    message = {
        "id": f"msg_{response_id}",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    reasoning = {
        "id": f"rs_{response_id}",
        "type": "reasoning",
        "summary": [],
    }  # an item translation cannot hold
    return {
        "id": response_id,
        "object": "response",
        "created_at": 1_700_000_000,
        "status": "completed",
        "model": model,
        "output": [reasoning, message],
        "usage": dict(USAGE),
        "x_upstream": EXTRA,
    }


def _events(response: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    shell = {**response, "status": "in_progress", "output": [], "usage": None}
    message = response["output"][1]
    text = message["content"][0]["text"]
    at = {"output_index": 0, "content_index": 0, "item_id": message["id"]}
    empty = {"type": "output_text", "text": "", "annotations": []}
    names = [
        ("response.created", {"response": shell}),
        ("response.in_progress", {"response": shell}),
        (
            "response.output_item.added",
            {"output_index": 0, "item": {**message, "status": "in_progress", "content": []}},
        ),
        ("response.content_part.added", {**at, "part": empty}),
        ("response.output_text.delta", {**at, "delta": text}),
        ("response.output_text.done", {**at, "text": text}),
        ("response.content_part.done", {**at, "part": message["content"][0]}),
        ("response.output_item.done", {"output_index": 0, "item": message}),
        ("response.completed", {"response": response}),
    ]
    return [(name, {"type": name, "sequence_number": i, **data}) for i, (name, data) in enumerate(names)]
