"""The mock's JSON-schema instance generator: valid instances, clear refusals, bounded work."""

from __future__ import annotations

import time
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_adapters.providers.mock_schema import MAX_ITEMS, SchemaError, instance

VALIDATOR = jsonschema.Draft202012Validator

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}

SCHEMAS: list[dict[str, Any]] = [
    WEATHER,
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 3, "maximum": 9},
        "minItems": 4,
        "uniqueItems": True,
    },
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "number", "multipleOf": 0.1, "minimum": 0.25},
    {"type": "integer", "multipleOf": 7, "minimum": 100, "maximum": 120},
    {"type": "integer", "minimum": -5, "exclusiveMaximum": -2},
    {"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]},
    {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string", "minLength": 3}}, "required": ["a"]},
            {"properties": {"b": {"type": "boolean"}, "a": {"maxLength": 5}}, "required": ["b"]},
        ]
    },
    {"type": "string", "pattern": r"^[A-Z]{2}-\d{3}$"},
    {"type": "string", "pattern": r"^(foo|bar)+baz$", "minLength": 9},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
    {"type": "array", "contains": {"type": "integer", "minimum": 10}, "items": {"type": "integer"}},
    {"type": "string", "minLength": 10, "maxLength": 12},
    {"type": "string", "maxLength": 3},
    {"type": "object", "minProperties": 3, "additionalProperties": {"type": "integer"}},
    {"type": "object", "required": ["x-1"], "patternProperties": {"^x-": {"type": "boolean"}}},
    {"type": ["null", "integer"], "minimum": 2},
    {"const": {"fixed": [1, 2]}},
    {"type": "string", "examples": ["an example"], "default": "ignored"},
    {"type": "integer", "default": 42},
    {"type": "integer", "default": "not an integer"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "uuid"},
    {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
                "required": ["value", "children", "parent"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/Node",
    },
    {
        "definitions": {"Id": {"type": "string", "pattern": "^id_"}},
        "properties": {"id": {"$ref": "#/definitions/Id"}},
        "required": ["id"],
    },
    True,
    {},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_generated_instances_are_valid(schema: Any) -> None:
    value = instance(schema, text="What's the weather in Paris?")
    VALIDATOR(schema).validate(value)
    assert instance(schema, text="What's the weather in Paris?") == value  # deterministic


def test_strings_come_from_the_users_message_where_it_makes_sense() -> None:
    value = instance(WEATHER, text="What's the weather in Paris this week?")
    assert value == {"city": "Paris", "unit": "celsius", "days": 1}
    search = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    assert instance(search, text="cheap  flights to Rome") == {"query": "cheap flights to Rome"}
    timezone = {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}
    assert instance(timezone) == {"timezone": "UTC"}


def test_a_pydantic_model_schema_gives_an_instance_the_model_accepts() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Step(pydantic.BaseModel):
        explanation: str
        output: float

    class Answer(pydantic.BaseModel):
        steps: list[Step]
        final_answer: str
        confidence: float | None = None

    schema = Answer.model_json_schema()
    value = instance(schema)
    VALIDATOR(schema).validate(value)
    Answer.model_validate(value)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (False, "admits no value"),
        ({"type": "array", "minItems": 100_000}, f"more than the mock generates ({MAX_ITEMS})"),
        ({"type": "integer", "minimum": 5, "maximum": 4}, "no integer"),
        ({"type": "number", "minimum": 1, "exclusiveMaximum": 1}, "no number"),
        ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "no multiple of 10"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength 5"),
        ({"type": "string", "pattern": "(unclosed"}, "pattern"),
        ({"$ref": "#/$defs/A", "$defs": {"A": {"$ref": "#/$defs/A"}}}, "a cycle?"),
        ({"$ref": "https://example.com/schema.json"}, "only local"),
        ({"$ref": "#/$defs/missing"}, "points at nothing"),
        ({"type": "object", "required": ["x"], "properties": {"x": {"$ref": "#"}}}, "deeper than"),
        ({"type": "array", "items": {"enum": [1, 2]}, "minItems": 3, "uniqueItems": True}, "distinct"),
        ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "types"),
        ({"type": "object", "required": ["a"], "additionalProperties": False}, "additionalProperties"),
        ({"type": "uuid"}, "unknown type"),
        ({"enum": []}, "enum"),
        ({"type": "integer", "minimum": "1"}, "finite number"),
        ({"type": "string", "minLength": -1}, "non-negative integer"),
    ],
)
def test_unsatisfiable_or_malformed_schemas_are_refused_clearly(schema: Any, message: str) -> None:
    with pytest.raises(
        SchemaError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
    ):
        instance(schema)


def _deep(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


@pytest.mark.parametrize(
    "schema",
    [
        _deep(5_000),
        {
            "type": "array",
            "minItems": 64,
            "items": {"type": "array", "minItems": 64, "items": {"type": "array", "minItems": 64}},
        },
        {"type": "array", "minItems": 60, "items": {"type": "string", "minLength": 4_000}},
        {"allOf": [{"allOf": [{"allOf": [{"type": "string"}] * 50}] * 50}] * 50},
    ],
    ids=["deep", "wide", "long-strings", "allof-fanout"],
)
def test_hostile_schemas_stop_quickly(schema: dict[str, Any]) -> None:
    started = time.perf_counter()
    try:
        value = instance(schema)
    except SchemaError:
        pass
    else:
        VALIDATOR(schema).validate(value)
    assert time.perf_counter() - started < 5  # generous: a blow-up would take minutes or all memory


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^(x+x+)+y$", "minLength": 4_096},  # catastrophic backtracking
        {"type": "string", "pattern": "^(?=z)(x+x+)+y$"},
        {"type": "string", "pattern": "(?:){4000000000}"},  # the engine would step 4e9 times
        {"type": "string", "pattern": "(((a{256}){256}){256})"},  # 16M characters
        {"type": "string", "pattern": "a" * 5_000},
        {
            "type": "object",
            "required": ["x" * 40],
            "patternProperties": {"^(x+x+)+y$": {}},
            "additionalProperties": False,
        },
    ],
    ids=[
        "nested-quantifiers",
        "lookahead",
        "huge-count",
        "huge-string",
        "long-pattern",
        "pattern-properties",
    ],
)
def test_hostile_patterns_are_refused_without_running_away(schema: dict[str, Any]) -> None:
    started = time.perf_counter()
    with pytest.raises(SchemaError):
        instance(schema)
    assert time.perf_counter() - started < 2


def test_patterns_are_generated_to_the_required_length() -> None:
    for schema in (
        {"type": "string", "pattern": "^[a-z]+$", "minLength": 100, "maxLength": 100},
        {"type": "string", "pattern": r"^[A-Z]{2}-\d+$", "minLength": 50, "maxLength": 60},
        {"type": "string", "pattern": r"^\d{5}(-\d{4})?$", "minLength": 6},
        {"type": "string", "pattern": r"(?i)^abc$"},
        {"type": "string", "pattern": r"\bfoo\b"},
    ):
        VALIDATOR(schema).validate(instance(schema))
    long_example = {"type": "string", "pattern": "^(x+x+)+y$", "examples": ["x" * 40 + "y"]}
    assert instance(long_example) == "xxy"  # the example is too long to check cheaply: generated instead


SCALAR = st.one_of(
    st.builds(
        lambda low, span: {"type": "integer", "minimum": low, "maximum": low + span},
        st.integers(-1000, 1000),
        st.integers(0, 50),
    ),
    st.builds(
        lambda low, span: {"type": "number", "exclusiveMinimum": low, "exclusiveMaximum": low + span},
        st.floats(-100, 100),
        st.floats(0.01, 10),
    ),
    st.builds(
        lambda low, extra: {"type": "string", "minLength": low, "maxLength": low + extra},
        st.integers(0, 20),
        st.integers(0, 20),
    ),
    st.builds(
        lambda values: {"enum": values}, st.lists(st.integers() | st.text(max_size=5), min_size=1, max_size=4)
    ),
    st.sampled_from([{"type": "boolean"}, {"type": "null"}, {"type": "string", "format": "email"}, {}]),
)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    objects = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=4), children, max_size=4).flatmap(
        lambda props: st.builds(
            lambda required, closed: {
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": not closed,
            },
            st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
            st.booleans(),
        )
    )
    arrays = st.builds(
        lambda items, low, extra: {"type": "array", "items": items, "minItems": low, "maxItems": low + extra},
        children,
        st.integers(0, 3),
        st.integers(0, 3),
    )
    unions = st.lists(children, min_size=1, max_size=3).map(lambda branches: {"anyOf": branches})
    return objects | arrays | unions


@settings(max_examples=200, deadline=None)
@given(st.recursive(SCALAR, _extend, max_leaves=12))
def test_any_simple_schema_gets_a_valid_instance(schema: dict[str, Any]) -> None:
    VALIDATOR(schema).validate(instance(schema, text="Book a table in Rome"))
