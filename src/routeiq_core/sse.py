"""Server-sent-event frames as the OpenAI streaming API writes them: the one frame writer.

Providers, plugins, caches and guards all frame with :func:`data_frame` / :func:`json_frame`; the
module imports nothing heavier than msgspec, so any of them can use it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_core.errors import RouteIQError
from routeiq_core.providers import Usage

DONE = b"data: [DONE]\n\n"
_DATA = b"data: "


class _UsageChunk(msgspec.Struct):
    usage: Usage | None = None
    choices: list[Any] = msgspec.field(default_factory=list)


def data_frame(payload: bytes) -> bytes:
    """Wrap encoded JSON as one SSE frame."""
    return _DATA + payload + b"\n\n"


def named_frame(name: str, payload: bytes) -> bytes:
    """Wrap encoded JSON as one SSE frame of event type ``name`` (``event: <name>`` then ``data``)."""
    return b"event: " + name.encode() + b"\n" + _DATA + payload + b"\n\n"


def json_frame(obj: Any) -> bytes:
    """Encode ``obj`` as JSON in one SSE frame."""
    return _DATA + msgspec.json.encode(obj) + b"\n\n"


def error_frame(error: RouteIQError) -> bytes:
    """The frame that ends a stream that failed after its first byte (the OpenAI SDK raises on it)."""
    body = {
        "error": {
            "message": error.message,
            "type": error.error_type,
            "param": error.param,
            "code": error.code,
        }
    }
    return json_frame(body)


def frame_usage(frame: bytes) -> tuple[Usage | None, bool]:
    """The usage a frame reports, and whether the frame carries nothing else (no choices).

    Only frames that mention ``"usage"`` with a value are decoded, so the common case costs a search.
    """
    if b'"usage"' not in frame or b'"usage":null' in frame or b'"usage": null' in frame:
        return None, False
    start = frame.find(_DATA)
    if start < 0:
        return None, False
    try:
        chunk = msgspec.json.decode(frame[start + len(_DATA) :].strip(), type=_UsageChunk)
    except msgspec.DecodeError:
        return None, False
    return chunk.usage, not chunk.choices
