"""A FakeUpstream that also calls tools: OpenAI-compatible tool calls, streamed and not.

A chat request with ``tools`` whose last message is not a ``tool`` message is answered with one call
of the first tool (arguments :data:`TOOL_ARGUMENTS`; streamed in three fragments); once the tool's
result is in the conversation, with a text that quotes it (:func:`final_text`). Every other request
behaves as in :class:`~tests.support.fake_upstream.FakeUpstream`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support.fake_upstream import USAGE, FakeUpstream

TOOL_ARGUMENTS = {"city": "Oslo", "unit": "celsius"}
CALL_ID = "call_weather_1"


def final_text(result: str) -> str:
    """The answer once the tool said ``result``."""
    return f"It is {result} in Oslo."


class ToolUpstream(FakeUpstream):
    """An OpenAI-compatible server for tests whose models call the tools they are given."""

    async def _completion(self, request: web.Request) -> web.StreamResponse:
        peek = await request.json()  # aiohttp keeps the body: the recording below reads it again
        if not isinstance(peek, dict) or not peek.get("tools"):
            return await super()._completion(request)
        body = await self._record(request)
        messages = body.get("messages") or [{}]
        last = messages[-1]
        tool = body["tools"][0]["function"]["name"]
        head = {"id": "chatcmpl-tools", "created": 1_700_000_000, "model": body.get("model", "")}
        if last.get("role") == "tool":
            message: dict[str, Any] = {"role": "assistant", "content": final_text(str(last.get("content")))}
            finish = "stop"
        else:
            arguments = json.dumps(TOOL_ARGUMENTS)
            call = {"id": CALL_ID, "type": "function", "function": {"name": tool, "arguments": arguments}}
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            finish = "tool_calls"
        if not body.get("stream"):
            choice = {"index": 0, "message": message, "finish_reason": finish}
            return web.json_response(
                {**head, "object": "chat.completion", "choices": [choice], "usage": dict(USAGE)}
            )
        return await self._stream_message(request, head, message, finish)

    async def _stream_message(
        self, request: web.Request, head: dict[str, Any], message: dict[str, Any], finish: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        head = {**head, "object": "chat.completion.chunk"}
        deltas: list[dict[str, Any]] = []
        if message.get("content"):
            text = message["content"]
            deltas += [{"role": "assistant", "content": text[:5]}, {"content": text[5:]}]
        for index, call in enumerate(message.get("tool_calls") or ()):
            arguments = call["function"]["arguments"]
            third = len(arguments) // 3
            pieces = [arguments[:third], arguments[third : 2 * third], arguments[2 * third :]]
            first = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            deltas.append({"role": "assistant", "tool_calls": [first]})
            deltas += [{"tool_calls": [{"index": index, "function": {"arguments": p}}]} for p in pieces]
        frames = [{**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        frames.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        frames.append({**head, "choices": [], "usage": dict(USAGE)})
        for frame in frames:
            await response.write(b"data: " + json.dumps(frame).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
