"""Request bodies: one JSON object decoder with a bounded depth and messages that say what is wrong."""

from __future__ import annotations

import msgspec
import pytest

from routeiq_app.json_body import MAX_JSON_DEPTH, decode_json_object, validate
from routeiq_app.surfaces.openai.wire import ChatCompletionRequest
from routeiq_core.errors import InvalidRequestError


def nested(depth: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    """A body whose deepest value is ``depth`` levels down (the object itself is level 1)."""
    return b'{"a":' + opener * (depth - 1) + closer * (depth - 1) + b"}"


def message(body: bytes) -> str:
    with pytest.raises(InvalidRequestError) as info:
        decode_json_object(body)
    assert info.value.status_code == 400
    assert info.value.code == "invalid_json"
    return info.value.message


def test_nesting_up_to_the_limit_is_fine_and_beyond_it_is_a_400_at_any_depth() -> None:
    assert decode_json_object(nested(MAX_JSON_DEPTH))["a"] is not None
    for depth in (MAX_JSON_DEPTH + 1, 500, 999, 1000, 5000, 100_000):
        assert f"more than {MAX_JSON_DEPTH} levels" in message(nested(depth))
    deep_objects = b'{"a":' + b'{"b":' * 200 + b"1" + b"}" * 200 + b"}"
    assert "levels" in message(deep_objects)


def test_many_brackets_that_do_not_nest_are_fine() -> None:
    wide = msgspec.json.encode(
        {"tools": [{"function": {"parameters": {"type": "object"}}} for _ in range(300)]}
    )
    assert len(decode_json_object(wide)["tools"]) == 300


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"[1, 2]", "must be a JSON object (got `array`)"),
        (b'"text"', "must be a JSON object (got `str`)"),
        (b'{"a": 1e999999}', "Number out of range"),
        (b'{"a": "\\ud800"}', "unpaired UTF-16 surrogate"),
        (b'{"a": "\xff"}', "Invalid UTF-8"),
        (b'{"a": 1', "truncated"),
        (b'{"a": 1} tail', "trailing characters"),
    ],
)
def test_every_malformed_body_says_what_is_wrong(body: bytes, says: str) -> None:
    assert says in message(body)


def test_a_valid_surrogate_pair_is_text() -> None:
    assert decode_json_object(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_admin_bodies_may_be_empty() -> None:
    assert decode_json_object(b"", empty_ok=True) == {}


def test_validation_names_the_field() -> None:
    with pytest.raises(InvalidRequestError) as info:
        validate({"model": "m", "messages": [{"role": 5}]}, ChatCompletionRequest)
    assert info.value.param == "messages[0].role"
