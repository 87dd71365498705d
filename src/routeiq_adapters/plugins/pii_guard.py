"""``pii_guard``: redact or block personal data and secrets in requests and, optionally, answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from routeiq_adapters.plugins._common import Stage, decode_body, enforce, split_frames
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core.guardrails.chat_text import decode_frame, map_request_text, map_response_text
from routeiq_core.guardrails.pii import Finding, PiiKind, StreamRedactor, redact
from routeiq_core.guardrails.verdict import Verdict
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec
from routeiq_core.sse import json_frame

NAME = "pii_guard"


class PiiGuardConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.pii_guard``.

    Attributes:
        action: ``redact`` replaces each entity with ``[REDACTED:<KIND>]``; ``block`` refuses (400).
        kinds: Entity kinds to look for (``EMAIL``, ``PHONE``, ``CREDIT_CARD``, ``IBAN``,
            ``IP_ADDRESS``, ``SECRET``; default all).
        responses: Also check the answers.
        streams: With ``responses``, also check streamed answers (entities split across chunks
            included; text is held back at most until an entity can no longer grow).
    """

    action: Literal["block", "redact"] = "redact"
    kinds: tuple[PiiKind, ...] = tuple(PiiKind)
    responses: bool = False
    streams: bool = True


class _StreamState:
    """Per-request stream state: one redactor per choice, and the fields of the last chunk."""

    __slots__ = ("base", "chat", "redactors")

    def __init__(self) -> None:
        self.redactors: dict[int, StreamRedactor] = {}
        self.base: dict[str, Any] = {}
        self.chat = True


def _verdict(kinds: Sequence[PiiKind]) -> Verdict:
    return Verdict(flagged=bool(kinds), categories=tuple(dict.fromkeys(k.value for k in kinds)))


class PiiGuardPlugin(BasePlugin):
    """Finds e-mails, phones, cards, IBANs, IPs and secrets; redacts them or blocks the request.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics).
    """

    def __init__(self, config: PiiGuardConfig, deps: PluginDeps) -> None:
        self.config = config
        self._deps = deps
        self._kinds = frozenset(config.kinds)
        self._streams = config.responses and config.streams
        caps = {Capability.REQUEST_READ}
        if config.action == "redact":
            caps.add(Capability.REQUEST_MODIFY)
        if config.responses:
            caps.add(Capability.RESPONSE_READ)
        if config.responses and (config.action == "redact" or config.streams):
            caps.add(Capability.RESPONSE_MODIFY)  # streams hold text back even when blocking
        self.spec = PluginSpec(
            name=NAME, version="1", capabilities=frozenset(caps), failure_mode=FailureMode.ABORT
        )

    def _report(self, ctx: PluginContext, kinds: Sequence[PiiKind], stage: Stage) -> None:
        if kinds:
            enforce(
                _verdict(kinds),
                guardrail=NAME,
                action=self.config.action,
                stage=stage,
                ctx=ctx,
                metrics=self._deps.metrics,
            )

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | None:
        """Block, or return the payload with every entity redacted (None when there is none)."""
        found: list[PiiKind] = []

        def scrub(text: str) -> str:
            redacted, findings = redact(text, self._kinds)
            found.extend(f.kind for f in findings)
            return redacted

        payload = map_request_text(ctx.payload, scrub)
        self._report(ctx, found, "request")
        return payload if found else None

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """With ``responses``: block, or return the body with every entity redacted."""
        if not self.config.responses or body is None:
            return None
        answer = decode_body(body)
        if answer is None:
            return None
        found: list[PiiKind] = []

        def scrub(text: str) -> str:
            redacted, findings = redact(text, self._kinds)
            found.extend(f.kind for f in findings)
            return redacted

        redacted_answer = map_response_text(answer, scrub)
        self._report(ctx, found, "response")
        return msgspec.json.encode(redacted_answer) if found else None

    async def on_stream_chunk(self, ctx: PluginContext, chunk: bytes) -> bytes:
        """Redact each choice's text as it streams, holding back what could still become an entity."""
        if not self._streams:
            return chunk
        state = self._state(ctx)
        frames = split_frames(chunk)
        out = [self._frame(ctx, state, frame) for frame in frames]
        return chunk if out == frames else b"".join(out)

    async def on_stream_end(self, ctx: PluginContext) -> list[bytes]:
        """Flush the text still held back for choices that never sent a ``finish_reason``."""
        state = ctx.scratch(NAME).get("stream")
        if not isinstance(state, _StreamState):
            return []
        frames = []
        for index, redactor in sorted(state.redactors.items()):
            text = self._drain(ctx, redactor, "", finished=True)
            if text:
                frames.append(json_frame({**state.base, "choices": [self._text_choice(state, index, text)]}))
        state.redactors.clear()
        return frames

    def _state(self, ctx: PluginContext) -> _StreamState:
        scratch = ctx.scratch(NAME)
        state = scratch.get("stream")
        if not isinstance(state, _StreamState):
            state = scratch["stream"] = _StreamState()
        return state

    def _frame(self, ctx: PluginContext, state: _StreamState, frame: bytes) -> bytes:
        chunk = decode_frame(frame)
        choices = chunk.get("choices") if chunk is not None else None
        if chunk is None or not isinstance(choices, list) or not choices:
            return frame
        state.base = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
        state.chat = chunk.get("object") != "text_completion"
        mapped = [self._choice(ctx, state, c) for c in choices]
        if all(new is old for new, old in zip(mapped, choices, strict=True)):
            return frame
        return json_frame({**chunk, "choices": mapped})

    def _choice(self, ctx: PluginContext, state: _StreamState, choice: Any) -> Any:
        if not isinstance(choice, dict):
            return choice
        index = choice.get("index", 0)
        index = index if isinstance(index, int) else 0
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else None
        finished = choice.get("finish_reason") is not None
        if isinstance(choice.get("text"), str):
            field, text = "text", choice["text"]
        elif delta is not None and isinstance(delta.get("content"), str):
            field, text = "content", delta["content"]
        elif finished and index in state.redactors:
            field, text = "content", ""
        else:
            return choice
        redactor = state.redactors.get(index)
        if redactor is None:
            redactor = state.redactors[index] = StreamRedactor(self._kinds)
        out = self._drain(ctx, redactor, text, finished=finished)
        if finished:
            del state.redactors[index]
        if field == "text":
            return {**choice, "text": out}
        if not out and "content" not in (delta or {}):
            return choice
        return {**choice, "delta": {**(delta or {}), "content": out}}

    def _drain(self, ctx: PluginContext, redactor: StreamRedactor, text: str, *, finished: bool) -> str:
        seen = len(redactor.findings)
        out = redactor.feed(text)
        if finished:
            out += redactor.flush()
        new: list[Finding] = redactor.findings[seen:]
        self._report(ctx, [f.kind for f in new], "response")
        return out

    @staticmethod
    def _text_choice(state: _StreamState, index: int, text: str) -> dict[str, Any]:
        if state.chat:
            return {"index": index, "delta": {"content": text}, "finish_reason": None}
        return {"index": index, "text": text, "finish_reason": None}
