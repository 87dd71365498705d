"""Request bodies as JSON objects: one decoder for every route, with a clear 400 for anything else.

Bounded on purpose: a body nested deeper than :data:`MAX_JSON_DEPTH` levels is refused before any
code walks it (msgspec itself, the token estimate, guardrails and the upstream encoder all recurse).
The check costs nothing for ordinary bodies: with at most ``MAX_JSON_DEPTH`` brackets in all (a byte
count), no nesting can be deeper; only bodies with more are walked (iteratively).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from routeiq_core.errors import InvalidRequestError

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have (JSON schemas need about 20)."""

ObjectDecoder = msgspec.json.Decoder[dict[str, Any]]
_ANY_OBJECT: ObjectDecoder = msgspec.json.Decoder(dict[str, Any])
_LONE_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])")


def decode_json_object(
    body: bytes, decoder: ObjectDecoder = _ANY_OBJECT, *, empty_ok: bool = False
) -> dict[str, Any]:
    """Decode a JSON object body, or raise a 400 that says what is wrong and where.

    Args:
        body: The raw body.
        decoder: A decoder of ``dict[str, Any]`` (reused across requests).
        empty_ok: An empty body is ``{}`` (admin PATCH/POST bodies) rather than an error.

    Raises:
        InvalidRequestError: empty, not JSON, not an object, out-of-range numbers, lone surrogate
            escapes, invalid UTF-8, or nested deeper than :data:`MAX_JSON_DEPTH`.
    """
    if not body or body.isspace():
        if empty_ok:
            return {}
        raise InvalidRequestError("The request body is empty; send a JSON object.", code="invalid_json")
    try:
        value = decoder.decode(body)
    except RecursionError:
        raise _too_deep() from None
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from None
    except msgspec.DecodeError as exc:
        raise _malformed(body, exc) from None
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise _too_deep()
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels deep (no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _too_deep() -> InvalidRequestError:
    return InvalidRequestError(
        f"The request body is nested more than {MAX_JSON_DEPTH} levels deep; flatten it.",
        code="invalid_json",
    )


def _invalid(exc: msgspec.ValidationError) -> InvalidRequestError:
    message = str(exc)
    if message.startswith("Expected `object`"):
        return InvalidRequestError(
            f"The request body must be a JSON object ({message.removeprefix('Expected `object`, ')}).",
            code="invalid_json",
        )
    where = message.partition(" - at `")[2].rstrip("`").replace("$[...]", "a value")
    reason = message.partition(" - at `")[0]
    return InvalidRequestError(
        f"The request body is not usable JSON: {reason}" + (f" (at {where})" if where else "") + ".",
        code="invalid_json",
    )


def _malformed(body: bytes, exc: msgspec.DecodeError) -> InvalidRequestError:
    reason = str(exc)
    if reason == "Input data was truncated" and _LONE_SURROGATE.search(body):
        reason = "a string holds an unpaired UTF-16 surrogate escape (such as \\ud800), which is not text"
    elif reason == "Input data was truncated":
        reason = "it ends before the JSON value does (truncated)"
    return InvalidRequestError(f"The request body is not valid JSON: {reason}.", code="invalid_json")


def validate(payload: dict[str, Any], wire_type: type[Any]) -> Any:
    """Check ``payload`` against a wire Struct; a 400 naming the field on failure."""
    try:
        return msgspec.convert(payload, wire_type)
    except RecursionError:
        raise _too_deep() from None
    except msgspec.ValidationError as exc:
        message = str(exc)
        param = None
        if " - at `$." in message:
            message, _, where = message.partition(" - at `$.")
            param = where.rstrip("`")
        elif "missing required field" in message:
            param = message.rsplit("`", 2)[-2] if message.count("`") >= 2 else None
        text = f"Invalid request: {message}" + (f" (field '{param}')" if param else "")
        raise InvalidRequestError(text, param=param) from None
