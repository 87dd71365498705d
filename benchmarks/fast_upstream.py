"""A minimal, fast OpenAI-compatible upstream for benchmarks (aiohttp, fixed answers).

Run: python benchmarks/fast_upstream.py PORT [--latency-ms 0] [--chunks 8] [--content-bytes 16]
"""

from __future__ import annotations

import argparse
import asyncio

import msgspec
from aiohttp import web

HEAD = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "bench"}


def build(content_bytes: int, chunks: int) -> tuple[bytes, bytes]:
    text = ("x" * content_bytes) or "ok"
    chat = msgspec.json.encode(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": "bench",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": chunks, "total_tokens": 5 + chunks},
        }
    )
    chunk = b"data: " + msgspec.json.encode(HEAD | {"choices": [{"index": 0, "delta": {"content": "tok "}}]})
    usage = {"prompt_tokens": 5, "completion_tokens": chunks, "total_tokens": 5 + chunks}
    tail = b"data: " + msgspec.json.encode(HEAD | {"choices": [], "usage": usage}) + b"\n\n"
    return chat, (chunk + b"\n\n") * chunks + tail + b"data: [DONE]\n\n"


def app(latency_ms: float, chunks: int, content_bytes: int) -> web.Application:
    chat_body, stream_body = build(content_bytes, chunks)

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if not body.get("stream"):
            return web.Response(body=chat_body, content_type="application/json")
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(stream_body)
        await response.write_eof()
        return response

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application(client_max_size=8 * 1024 * 1024)
    application.router.add_post("/v1/chat/completions", chat)
    application.router.add_post("/chat/completions", chat)
    application.router.add_get("/health", health)
    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--content-bytes", type=int, default=16)
    args = parser.parse_args()
    web.run_app(
        app(args.latency_ms, args.chunks, args.content_bytes),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
