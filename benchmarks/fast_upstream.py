"""A minimal, fast OpenAI-compatible upstream for benchmarks (aiohttp, fixed answers).

Run: python benchmarks/fast_upstream.py PORT
"""

from __future__ import annotations

import sys

import msgspec
from aiohttp import web

CHAT = msgspec.json.encode(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
)
HEAD = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "bench"}
CHUNK = (
    b"data: "
    + msgspec.json.encode(HEAD | {"choices": [{"index": 0, "delta": {"content": "tok "}}]})
    + b"\n\n"
)
USAGE = (
    b"data: "
    + msgspec.json.encode(
        HEAD | {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 8, "total_tokens": 13}}
    )
    + b"\n\n"
)


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    if not body.get("stream"):
        return web.Response(body=CHAT, content_type="application/json")
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    await response.write(CHUNK * 8 + USAGE + b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
