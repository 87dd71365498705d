"""The client span of each upstream attempt, with the GenAI semantic conventions' attributes.

Nothing here runs when tracing is off: the gateway asks for a span only when its tracer is enabled,
and answers are parsed for their id, model and finish reasons only when the span records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import msgspec

from routeiq_core import span_names as attr
from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.gateway.streaming import close_quietly
from routeiq_core.gateway.telemetry import OPERATION_NAMES
from routeiq_core.providers import Usage
from routeiq_core.tracing import AttributeValue, Span, SpanKind, Tracer


class _Choice(msgspec.Struct):
    finish_reason: str | None = None


class _Answer(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    choices: list[_Choice] = msgspec.field(default_factory=list)


_ANSWER = msgspec.json.Decoder(_Answer)
_FINISH = b'"finish_reason"'
_NUMBERS = (
    (attr.REQUEST_TEMPERATURE, "temperature"),
    (attr.REQUEST_TOP_P, "top_p"),
    (attr.REQUEST_FREQUENCY_PENALTY, "frequency_penalty"),
    (attr.REQUEST_PRESENCE_PENALTY, "presence_penalty"),
)


def start_attempt(
    tracer: Tracer,
    request: CallContext,
    d: Deployment,
    *,
    model_group: str,
    strategy: str,
    attempt: int,
    fallback: bool,
    capture_content: bool,
) -> Span:
    """Open the client span of one attempt on ``d``, child of the call's span."""
    operation = OPERATION_NAMES.get(request.operation, str(request.operation))
    attributes: dict[str, AttributeValue] = {
        attr.OPERATION_NAME: operation,
        attr.REQUEST_MODEL: d.upstream_model,
        attr.MODEL_GROUP: model_group,
        attr.DEPLOYMENT: d.id,
        attr.STRATEGY: strategy,
        attr.ATTEMPT: attempt,
        attr.FALLBACK: fallback,
        attr.STREAM: request.stream,
    }
    attributes.update(_deployment_attributes(d.attributes))
    attributes.update(request_attributes(request.payload, request.max_tokens))
    if capture_content and "messages" in request.payload:
        attributes[attr.INPUT_MESSAGES] = msgspec.json.encode(request.payload["messages"]).decode()
    return tracer.start(
        f"{operation} {d.upstream_model}", kind=SpanKind.CLIENT, parent=request.span, attributes=attributes
    )


def request_attributes(payload: Mapping[str, Any], max_tokens: int | None) -> dict[str, AttributeValue]:
    """The ``gen_ai.request.*`` attributes the payload sets (values of the wrong type are left out)."""
    found: dict[str, AttributeValue] = {}
    for key, field in _NUMBERS:
        value = payload.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[key] = float(value)
    if max_tokens is not None:
        found[attr.REQUEST_MAX_TOKENS] = max_tokens
    seed, n, stop = payload.get("seed"), payload.get("n"), payload.get("stop")
    if type(seed) is int:
        found[attr.REQUEST_SEED] = seed
    if type(n) is int and n != 1:
        found[attr.REQUEST_CHOICE_COUNT] = n
    if isinstance(stop, str):
        found[attr.REQUEST_STOP_SEQUENCES] = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        found[attr.REQUEST_STOP_SEQUENCES] = tuple(stop)
    return found


def _deployment_attributes(attributes: Mapping[str, str]) -> dict[str, AttributeValue]:
    """``gen_ai.provider.name`` and ``server.*`` of the deployment (the port as an int)."""
    found: dict[str, AttributeValue] = {}
    for key in (attr.PROVIDER_NAME, attr.SERVER_ADDRESS):
        value = attributes.get(key)
        if value is not None:
            found[key] = value
    port = attributes.get(attr.SERVER_PORT)
    if port is not None and port.isdigit():
        found[attr.SERVER_PORT] = int(port)
    return found


def end_answered(span: Span, body: bytes, usage: Usage | None, *, capture_content: bool) -> None:
    """Set what a complete answer says (id, model, finish reasons, usage) and end the span."""
    if span.recording:
        try:
            answer = _ANSWER.decode(body)
        except msgspec.DecodeError:  # not the OpenAI shape: nothing more to say
            answer = _Answer()
        _set_answer(span, answer)
        if usage is not None:
            set_usage(span, usage)
        if capture_content:
            choices = msgspec.json.decode(body).get("choices") if answer.choices else None
            if choices is not None:
                span.set_attribute(attr.OUTPUT_MESSAGES, msgspec.json.encode(choices).decode())
    span.end()


def set_usage(span: Span, usage: Usage) -> None:
    """The ``gen_ai.usage.*`` attributes."""
    span.set_attributes(
        {attr.USAGE_INPUT_TOKENS: usage.prompt_tokens, attr.USAGE_OUTPUT_TOKENS: usage.completion_tokens}
    )


def _set_answer(span: Span, answer: _Answer) -> None:
    found: dict[str, AttributeValue] = {}
    if answer.id is not None:
        found[attr.RESPONSE_ID] = answer.id
    if answer.model is not None:
        found[attr.RESPONSE_MODEL] = answer.model
    reasons = tuple(c.finish_reason for c in answer.choices if c.finish_reason is not None)
    if reasons:
        found[attr.RESPONSE_FINISH_REASONS] = reasons
    span.set_attributes(found)


async def watch_stream(span: Span, first: bytes | None, frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Relay ``frames`` unchanged, noting the answer's id, model and finish reasons on ``span``.

    ``first`` is the stream's first chunk, already read (and relayed by the caller): it is noted
    too. Closing this iterator closes ``frames`` (the upstream request is cancelled as without it).
    """
    reasons: list[str] = []
    named = False
    if first is not None:
        named = _note(span, first, reasons, named)
    try:
        async for chunk in frames:
            if not named or _FINISH in chunk:
                named = _note(span, chunk, reasons, named)
            yield chunk
    finally:
        await close_quietly(frames)
        if reasons:
            span.set_attribute(attr.RESPONSE_FINISH_REASONS, tuple(reasons))


def _note(span: Span, chunk: bytes, reasons: list[str], named: bool) -> bool:
    """Note a chunk's finish reasons (and, once, the answer's id and model); True once named."""
    for event in chunk.split(b"\n\n"):
        answer = _event_answer(event)
        if answer is None:
            continue
        if not named:
            named = True
            _set_answer(span, _Answer(id=answer.id, model=answer.model))
        reasons.extend(c.finish_reason for c in answer.choices if c.finish_reason is not None)
    return named


def _event_answer(event: bytes) -> _Answer | None:
    data = event.strip()
    if not data.startswith(b"data:"):
        return None
    try:
        return _ANSWER.decode(data[5:])
    except msgspec.DecodeError:
        return None
