"""Test plugins, loaded by dotted path from the config (``tests.support.plugins:Recorder``)."""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.errors import InvalidRequestError, RouteIQError
from routeiq_core.plugins import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec

ALL = frozenset(Capability)


class Recorder(BasePlugin):
    """Records every hook it sees; optionally upper-cases the answer's content (response.modify)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.calls: list[str] = []
        self.shout = bool(config.get("shout"))
        self.spec = PluginSpec(
            name=config.get("name", "recorder"),
            depends_on=tuple(config.get("depends_on", ())),
            capabilities=frozenset(Capability(c) for c in config.get("capabilities", [c.value for c in ALL])),
        )

    async def on_startup(self) -> None:
        self.calls.append("on_startup")

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | None:
        self.calls.append("before_request")
        ctx.response_headers[f"x-seen-by-{self.spec.name}"] = "1"
        if self.shout:
            return {**ctx.payload, "user": "rewritten"}
        return None

    async def before_call(self, ctx: PluginContext, deployment: Deployment) -> None:
        self.calls.append(f"before_call:{deployment.id}")

    async def on_stream_chunk(self, ctx: PluginContext, chunk: bytes) -> bytes:
        self.calls.append("on_stream_chunk")
        return chunk.upper() if self.shout else chunk

    async def on_stream_end(self, ctx: PluginContext) -> list[bytes]:
        self.calls.append("on_stream_end")
        return []

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        self.calls.append("after_response")
        if self.shout and body is not None:
            data = msgspec.json.decode(body)
            data["choices"][0]["message"]["content"] = data["choices"][0]["message"]["content"].upper()
            return msgspec.json.encode(data)
        return None

    async def on_error(self, ctx: PluginContext, error: RouteIQError) -> None:
        self.calls.append(f"on_error:{error.code}")


class Broken(BasePlugin):
    """Fails in before_request with the configured failure mode."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.spec = PluginSpec(
            name=config.get("name", "broken"),
            failure_mode=FailureMode(config.get("mode", "continue")),
            quarantine_after=int(config.get("quarantine_after", 2)),
        )
        self.attempts = 0

    async def before_request(self, ctx: PluginContext) -> None:
        self.attempts += 1
        raise RuntimeError("plugin bug")


class Refuser(BasePlugin):
    """A guardrail that refuses every request on purpose."""

    spec = PluginSpec(name="refuser")

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    async def before_request(self, ctx: PluginContext) -> None:
        raise InvalidRequestError("blocked by refuser (category: test)", code="content_policy_violation")
