"""Rebuild the complete answer of a streamed completion, so a streamed miss can fill the cache.

The inverse of :func:`routeiq_core.cache.entry.replay_frames`: chunks are folded per choice
(role, content, refusal, tool calls whose ``arguments`` arrive in pieces, ``finish_reason``) and the
usage chunk is kept, giving the ``chat.completion`` (or ``text_completion``) body a non-streamed call
would have returned.
"""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_core.guardrails.chat_text import decode_frame


class _Choice:
    __slots__ = ("content", "finish_reason", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role = "assistant"
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None

    def add_delta(self, delta: dict[str, Any]) -> None:
        if isinstance(delta.get("role"), str):
            self.role = delta["role"]
        if isinstance(delta.get("content"), str):
            self.content.append(delta["content"])
        if isinstance(delta.get("refusal"), str):
            self.refusal.append(delta["refusal"])
        for call in delta.get("tool_calls") or ():
            if isinstance(call, dict):
                self._add_call(call)

    def _add_call(self, call: dict[str, Any]) -> None:
        index = call.get("index", len(self.tool_calls))
        known = self.tool_calls.setdefault(index, {"function": {"arguments": ""}})
        for field in ("id", "type"):
            if call.get(field) is not None:
                known[field] = call[field]
        function = call.get("function")
        if isinstance(function, dict):
            if function.get("name") is not None:
                known["function"]["name"] = function["name"]
            known["function"]["arguments"] += function.get("arguments") or ""


class StreamAssembler:
    """Feeds on the SSE frames of one streamed completion; :meth:`body` gives the whole answer."""

    def __init__(self) -> None:
        self._base: dict[str, Any] = {}
        self._chat = True
        self._choices: dict[int, _Choice] = {}
        self._usage: Any = None
        self._failed = False

    def feed(self, frame: bytes) -> None:
        """Fold one frame in (``[DONE]``, comments and keep-alives are ignored)."""
        chunk = decode_frame(frame)
        if chunk is None:
            return
        if "error" in chunk:
            self._failed = True
            return
        if not self._base:
            self._base = {k: chunk[k] for k in ("id", "created", "model", "system_fingerprint") if k in chunk}
            self._chat = chunk.get("object") != "text_completion"
        if chunk.get("usage") is not None:
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            state = self._choices.setdefault(choice.get("index", 0), _Choice())
            if isinstance(choice.get("delta"), dict):
                state.add_delta(choice["delta"])
            if isinstance(choice.get("text"), str):
                state.content.append(choice["text"])
            if choice.get("finish_reason") is not None:
                state.finish_reason = choice["finish_reason"]

    @property
    def complete(self) -> bool:
        """Every choice finished and no error frame arrived (only then is the answer worth caching)."""
        return (
            bool(self._choices) and not self._failed and all(c.finish_reason for c in self._choices.values())
        )

    def body(self) -> bytes | None:
        """The non-streamed JSON body, or ``None`` when the stream is not :attr:`complete`."""
        if not self.complete:
            return None
        choices = [self._choice_json(i, c) for i, c in sorted(self._choices.items())]
        body = {
            **self._base,
            "object": "chat.completion" if self._chat else "text_completion",
            "choices": choices,
        }
        if self._usage is not None:
            body["usage"] = self._usage
        return msgspec.json.encode(body)

    def _choice_json(self, index: int, choice: _Choice) -> dict[str, Any]:
        text = "".join(choice.content)
        if not self._chat:
            return {"index": index, "text": text, "logprobs": None, "finish_reason": choice.finish_reason}
        message: dict[str, Any] = {"role": choice.role, "content": text or None}
        if choice.refusal:
            message["refusal"] = "".join(choice.refusal)
        if choice.tool_calls:
            message["tool_calls"] = [choice.tool_calls[i] for i in sorted(choice.tool_calls)]
        return {"index": index, "message": message, "logprobs": None, "finish_reason": choice.finish_reason}
