"""The floor: the least a Python gateway can do — decode JSON, set the model, forward, return.

A raw ASGI app served by the same server as RouteIQ (granian), with one pooled aiohttp session.
Streaming is passed through chunk by chunk. Upstream from FLOOR_UPSTREAM (base URL ending in /v1).
Run: granian --interface asgi --port P benchmarks.floor_proxy:app
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
import msgspec


class Floor:
    """The minimal proxy."""

    def __init__(self) -> None:
        self.url = os.environ.get("FLOOR_UPSTREAM", "http://127.0.0.1:9/v1") + "/chat/completions"
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.session:
                        await self.session.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["method"] == "GET":  # readiness probe
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        payload = msgspec.json.decode(body)
        payload["model"] = "bench"
        assert self.session is not None
        async with self.session.post(self.url, data=msgspec.json.encode(payload)) as upstream:
            headers = [(b"content-type", upstream.headers.get("content-type", "application/json").encode())]
            await send({"type": "http.response.start", "status": upstream.status, "headers": headers})
            if payload.get("stream"):
                async for chunk in upstream.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send({"type": "http.response.body", "body": await upstream.read(), "more_body": False})


app = Floor()
