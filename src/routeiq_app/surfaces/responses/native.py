"""The Responses surface's side of native forwarding: the bodies out, the answer back and stored.

A ``/v1/responses`` call carries, beside its chat translation, the client's body for deployments
that speak the Responses API. Continuing a conversation (``previous_response_id``) it carries two:

- the body as sent, naming the previous response: forwarded only to the deployment that served
  that response natively (its upstream holds the conversation under that very id);
- the body with the conversation spelled out (the stored history and the new turn as ``input``,
  no ``previous_response_id``): for every other deployment that speaks Responses, since their
  upstream has never seen the conversation.

A natively served answer reaches the client as the upstream wrote it (its own response id
included), and is stored under that id with the deployment that served it, so that ``GET
/v1/responses/{id}``, ``input_items`` and later turns work through the gateway in either mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import msgspec

from routeiq_app.surfaces.responses.answers import FunctionCall, OutputItem, OutputMessage
from routeiq_app.surfaces.responses.wire import InputItem
from routeiq_core.errors import UpstreamError
from routeiq_core.native import NativeProtocol, NativeRequest
from routeiq_core.responses import MAX_RESPONSE_ID_CHARS, StoredResponse
from routeiq_core.sse import named_frame

_FINAL = (b"event: response.completed", b"event: response.incomplete")
"""The events whose response is stored (a failed response is not continued)."""
UNFORWARDED = frozenset({"conversation"})
"""Upstream-account state a client must not name (an OpenAI conversation object)."""
_ITEM_FIELDS_DROPPED = ("id", "status")
"""Fields of stored items left out when the history is spelled out for another upstream."""


class _Head(msgspec.Struct):
    """What the surface reads of a native response: its id."""

    id: str = ""


class _Final(msgspec.Struct):
    """A final stream event: the whole response, kept as its raw JSON."""

    response: msgspec.Raw = msgspec.Raw(b"")


class _Output(msgspec.Struct):
    """A native response's output items, each as it is (types the translation has no place for too)."""

    output: list[dict[str, Any]] = msgspec.field(default_factory=list)


_HEAD = msgspec.json.Decoder(_Head)
_FINAL_EVENT = msgspec.json.Decoder(_Final)
_OUTPUT = msgspec.json.Decoder(_Output)

SaveNative = Callable[[str, bytes], Awaitable[None]]
"""Stores a natively served response: its id and its JSON."""


def native_request(
    body: dict[str, Any], previous: StoredResponse | None, conversation: Sequence[InputItem]
) -> NativeRequest:
    """The client's body as forwarded to deployments that speak Responses.

    Fields that name state held in the upstream account (:data:`UNFORWARDED`) are left out: the
    account is shared by every key, and a conversation is continued through the gateway's store.

    Args:
        body: The request as the client sent it.
        previous: The stored previous turn, when the request continues one.
        conversation: The whole conversation so far, the new turn's items last.
    """
    if any(name in body for name in UNFORWARDED):
        body = {k: v for k, v in body.items() if k not in UNFORWARDED}
    if previous is None:
        return NativeRequest(protocol=NativeProtocol.RESPONSES, body=body)
    spelled_out = {k: v for k, v in body.items() if k != "previous_response_id"}
    spelled_out["input"] = [_unstored(item) for item in msgspec.to_builtins(list(conversation))]
    return NativeRequest(
        protocol=NativeProtocol.RESPONSES,
        body=spelled_out,
        continued_on=previous.native_deployment,
        continuation=body if previous.native_deployment is not None else None,
    )


def _unstored(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _ITEM_FIELDS_DROPPED}


def response_id(body: bytes) -> str:
    """The id of a native response; empty when it has none usable (too long, not printable ASCII)."""
    try:
        found = _HEAD.decode(body).id
    except msgspec.DecodeError:
        return ""
    usable = len(found) <= MAX_RESPONSE_ID_CHARS and found.isascii() and found.isprintable()
    return found if usable else ""


def native_output(response: bytes) -> list[OutputItem]:
    """The message and function call items of a stored native response (other kinds are left out).

    A message keeps its ``output_text`` parts; reasoning, hosted tool calls and the like have no
    place in the conversation as the translation spells it out.
    """
    try:
        raw_items = _OUTPUT.decode(response).output
    except msgspec.DecodeError:
        return []
    items: list[OutputItem] = []
    for raw in raw_items:
        kind = raw.get("type")
        try:
            if kind == "message":
                parts = raw.get("content")
                texts = [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
                content = [
                    {"type": "output_text", "text": p.get("text")}
                    for p in texts
                    if p.get("type") == "output_text"
                ]
                items.append(msgspec.convert({**raw, "content": content}, OutputMessage))
            elif kind == "function_call":
                items.append(msgspec.convert(raw, FunctionCall))
        except msgspec.ValidationError:
            continue
    return items


async def native_events(
    frames: AsyncIterator[bytes], save: SaveNative, *, store: bool
) -> AsyncIterator[bytes]:
    """A forwarded stream's events as the upstream wrote them.

    The final response is stored (when ``store``) before the event announcing it reaches the
    client; a failure mid-way ends the stream with an ``error`` event.
    """
    sequence = 0
    try:
        async for chunk in frames:
            if store and any(name in chunk for name in _FINAL):
                await _store_final(chunk, save)
            sequence += chunk.count(b"\n\n")
            yield chunk
    except UpstreamError as exc:
        error = {
            "type": "error",
            "code": exc.code or "server_error",
            "message": exc.message,
            "param": exc.param,
            "sequence_number": sequence,
        }
        yield named_frame("error", msgspec.json.encode(error))


async def _store_final(chunk: bytes, save: SaveNative) -> None:
    for event in chunk.split(b"\n\n"):
        if not event.startswith(_FINAL):
            continue
        data = b"".join(line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:"))
        try:
            response = bytes(_FINAL_EVENT.decode(data).response)
        except msgspec.DecodeError:
            return
        found = response_id(response)
        if found:
            await save(found, response)
