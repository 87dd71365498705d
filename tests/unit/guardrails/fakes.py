"""A provider client that answers every chat call with a scripted text and records the payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.providers import Operation, ProviderReply


class ScriptedChat:
    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.payloads: list[dict[str, Any]] = []
        self.timeouts: list[float] = []

    async def send(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any], *, timeout_s: float
    ) -> ProviderReply:
        assert operation is Operation.CHAT
        self.payloads.append(payload)
        self.timeouts.append(timeout_s)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        body = {"object": "chat.completion", "choices": [{"index": 0, "message": {"content": answer}}]}
        return ProviderReply(body=msgspec.json.encode(body))

    async def stream(
        self, deployment: Deployment, operation: Operation, payload: dict[str, Any], *, timeout_s: float
    ) -> AsyncIterator[bytes]:
        raise NotImplementedError
        yield b""

    async def aclose(self) -> None:
        pass


def deployment(name: str = "guard") -> Deployment:
    return Deployment(id=name, model_group=name, adapter="mock", upstream_model=f"{name}-model")
