"""A valid instance of a JSON schema, generated deterministically and within fixed bounds.

The mock provider answers ``response_format: json_schema`` with it and fills tool-call arguments
from each function's ``parameters``. Covered: ``type`` (and lists of types), ``const``, ``enum``,
``examples``/``default`` (when they fit), ``$ref`` to ``#/...`` (``$defs``, ``definitions``),
``allOf`` (merged), ``anyOf``/``oneOf`` (the first branch that is not ``null``), objects (required
properties, ``minProperties``), arrays (``items``, ``prefixItems``, ``minItems``, ``contains``,
``uniqueItems``), strings (lengths, ``format``, ``pattern``), numbers (bounds, exclusive bounds,
``multipleOf``). ``not``, ``if``/``then``/``else`` and dependencies are not looked at.

A schema that admits no value, or needs more than the limits below, raises :class:`SchemaError`
with a message that says which part is the problem.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from routeiq_adapters.providers import mock_numbers, mock_regex, mock_strings
from routeiq_adapters.providers.mock_numbers import is_number as _is_number

MAX_DEPTH = 24
"""Deepest nesting (each object and array is a level)."""
SHALLOW_DEPTH = 6
"""From this depth on arrays get only the items they must have and ``anyOf`` prefers ``null``, so
recursive schemas (trees, linked lists) end."""
MAX_ITEMS = 64
"""Most items one array, or properties one object, is generated with."""
MAX_VALUES = 4_000
"""Most values one instance may hold in all."""
MAX_STRING = 4_096
"""Longest string generated (``minLength`` above it is refused)."""
MAX_CHARS = 200_000
"""Most characters of strings one instance may hold in all."""

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_NUMERIC_BOUNDS = (
    ("minimum", operator.ge),
    ("maximum", operator.le),
    ("exclusiveMinimum", operator.gt),
    ("exclusiveMaximum", operator.lt),
)
_JSON_TYPES: Mapping[str, tuple[type, ...]] = MappingProxyType(
    {
        "string": (str,),
        "integer": (int,),
        "number": (int, float),
        "boolean": (bool,),
        "object": (dict,),
        "array": (list,),
        "null": (type(None),),
    }
)


class SchemaError(ValueError):
    """The schema admits no value the generator can produce (the message says where and why)."""


def instance(schema: Any, *, text: str = "", name: str = "") -> Any:
    """A value valid against ``schema``.

    Args:
        schema: A JSON schema (a mapping or a boolean).
        text: The user's message: query-, place- and name-like string properties are taken from it.
        name: What the value is called (the top-level property name, for hints and messages).

    Raises:
        SchemaError: The schema is unsatisfiable, malformed, or over the generator's limits.
    """
    return _Generator(schema, text).value(schema, name or "value", 0, 0)


class _Generator:
    def __init__(self, root: Any, text: str) -> None:
        self.root = root
        self.text = text
        self.values = 0
        self.chars = 0

    def value(self, schema: Any, path: str, depth: int, variant: int) -> Any:
        if depth > MAX_DEPTH:
            raise SchemaError(f"{path}: the schema nests deeper than {MAX_DEPTH} levels")
        self.values += 1
        if self.values > MAX_VALUES:
            raise SchemaError(f"{path}: the schema needs more than {MAX_VALUES} values")
        schema = self._flatten(_as_dict(schema, path), path, depth)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if enum is not None:
            if not isinstance(enum, list) or not enum:
                raise SchemaError(f"{path}: `enum` must be a non-empty array (with a value allOf allows)")
            return enum[variant % len(enum)]
        given = _given(schema, variant)
        if given is not None:
            return given[0]
        return self._typed(schema, _type_of(schema, path), path, depth, variant)

    def _typed(self, schema: dict[str, Any], kind: str, path: str, depth: int, variant: int) -> Any:
        if kind == "object":
            return self._object(schema, path, depth, variant)
        if kind == "array":
            return self._array(schema, path, depth, variant)
        if kind == "string":
            return self._string(schema, path, variant)
        if kind in ("integer", "number"):
            try:
                return mock_numbers.number(schema, variant, integer=kind == "integer")
            except ValueError as exc:
                raise SchemaError(f"{path}: {exc}") from None
        if kind == "boolean":
            return variant % 2 == 0
        return None

    def _flatten(self, schema: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        """Resolve ``$ref``, merge ``allOf`` and pick an ``anyOf``/``oneOf`` branch into one schema."""
        if depth > MAX_DEPTH:
            raise SchemaError(f"{path}: the schema nests deeper than {MAX_DEPTH} levels")
        for _ in range(MAX_DEPTH):
            if "$ref" in schema:
                rest = {k: v for k, v in schema.items() if k not in ("$ref", "$defs", "definitions")}
                schema = _merge(self._resolve(schema["$ref"], path), rest, path)
            elif "allOf" in schema:
                parts = schema["allOf"]
                if not isinstance(parts, list):
                    raise SchemaError(f"{path}: `allOf` must be an array")
                merged = {k: v for k, v in schema.items() if k != "allOf"}
                for part in parts:
                    merged = _merge(merged, self._flatten(_as_dict(part, path), path, depth + 1), path)
                schema = merged
            elif "anyOf" in schema or "oneOf" in schema:
                key = "anyOf" if "anyOf" in schema else "oneOf"
                branches = schema[key]
                if not isinstance(branches, list) or not branches:
                    raise SchemaError(f"{path}: `{key}` must be a non-empty array")
                usable = [b for b in branches if b is not False] or branches
                shallow = depth >= SHALLOW_DEPTH
                chosen = next((b for b in usable if _is_null(b) == shallow), usable[0])
                rest = {k: v for k, v in schema.items() if k != key}
                schema = _merge(rest, _as_dict(chosen, path), path)
            else:
                return schema
        raise SchemaError(f"{path}: a `$ref`/`allOf`/`anyOf` chain longer than {MAX_DEPTH} (a cycle?)")

    def _resolve(self, ref: Any, path: str) -> dict[str, Any]:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaError(f"{path}: only local `$ref`s (`#/...`) are supported, not {ref!r}")
        target = self.root
        for token in (t for t in ref[1:].split("/") if t):
            key = unquote(token).replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and key in target:
                target = target[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                raise SchemaError(f"{path}: `$ref` {ref!r} points at nothing")
        return _as_dict(target, path)

    def _object(self, schema: dict[str, Any], path: str, depth: int, variant: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = schema.get("required") or []
        patterns = schema.get("patternProperties") or {}
        if not all(isinstance(x, dict) for x in (properties, patterns)) or not isinstance(required, list):
            raise SchemaError(f"{path}: `properties` must be an object and `required` an array")
        extra = schema.get("additionalProperties", True)
        want = _int_keyword(schema, "minProperties", path) or 0
        most = _int_keyword(schema, "maxProperties", path)
        keys = list(dict.fromkeys(str(k) for k in required))
        keys += [k for k in properties if k not in keys][: max(0, want - len(keys))]
        if extra is not False:
            keys += [f"property_{i}" for i in range(max(0, want - len(keys)))]
        if len(keys) > MAX_ITEMS:
            raise SchemaError(f"{path}: needs {len(keys)} properties, more than the mock's {MAX_ITEMS}")
        if len(keys) < want or (most is not None and len(keys) > most):
            raise SchemaError(f"{path}: cannot satisfy minProperties/maxProperties with these properties")
        result = {}
        for key in keys:
            sub = properties.get(key)
            if sub is None:
                sub = _pattern_schema(patterns, key)
            if sub is None:
                if extra is False:
                    raise SchemaError(f"{path}: {key!r} is required but additionalProperties is false")
                sub = extra if isinstance(extra, dict) else True
            result[key] = self.value(sub, f"{path}.{key}", depth + 1, variant)
        return result

    def _array(self, schema: dict[str, Any], path: str, depth: int, variant: int) -> list[Any]:
        items = schema.get("items", True)
        if "prefixItems" in schema:
            prefix, rest = schema["prefixItems"], items
        elif isinstance(items, list):  # draft 4-2019: tuple validation
            prefix, rest = items, schema.get("additionalItems", True)
        else:
            prefix, rest = [], items
        if not isinstance(prefix, list):
            raise SchemaError(f"{path}: `prefixItems` must be an array")
        low = _int_keyword(schema, "minItems", path) or 0
        high = _int_keyword(schema, "maxItems", path)
        if low > MAX_ITEMS:
            raise SchemaError(f"{path}: minItems {low} is more than the mock generates ({MAX_ITEMS})")
        contains = schema.get("contains")
        matches = (_int_keyword(schema, "minContains", path) or 0) if "minContains" in schema else 1
        matches = min(matches, MAX_ITEMS) if contains is not None else 0
        shallow = depth >= SHALLOW_DEPTH
        count = max(low, matches) if shallow else max(low, matches, len(prefix), 1)
        count = min(count, high) if high is not None else count
        if rest is False and count > len(prefix):
            count = max(low, matches, len(prefix) if not shallow else 0)
            if count > len(prefix):
                raise SchemaError(f"{path}: needs {count} items but allows only {len(prefix)}")
        if count < max(low, matches):
            raise SchemaError(f"{path}: minItems/minContains ask for more items than maxItems allows")
        out = []
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else rest
            if i < matches:
                sub = {"allOf": [sub, contains]}
            out.append(self.value(sub, f"{path}[{i}]", depth + 1, variant + i))
        if schema.get("uniqueItems") is True and len({_canonical(v) for v in out}) < len(out):
            raise SchemaError(f"{path}: cannot generate {count} distinct items (uniqueItems)")
        return out

    def _string(self, schema: dict[str, Any], path: str, variant: int) -> str:
        low = _int_keyword(schema, "minLength", path) or 0
        high = _int_keyword(schema, "maxLength", path)
        if low > MAX_STRING or (high is not None and high < low):
            raise SchemaError(f"{path}: cannot generate a string of minLength {low}, maxLength {high}")
        pattern, fmt = schema.get("pattern"), schema.get("format")
        if isinstance(pattern, str):
            found = mock_regex.matching(pattern, low, high)
            if found is None:
                raise SchemaError(
                    f"{path}: cannot generate a string matching the pattern {pattern!r}; "
                    "give the property an `examples` value"
                )
            text = found
        else:
            name = path.rsplit(".", 1)[-1].split("[", 1)[0]
            formatted = mock_strings.formatted(fmt, variant) if isinstance(fmt, str) else None
            base = formatted or mock_strings.hint(name, self.text) or "example"
            suffix = f"-{variant + 1}" if variant and formatted is None else ""
            text = base + suffix + "x" * max(0, low - len(base) - len(suffix))
            if high is not None and len(text) > high:
                keep = high - len(suffix)
                text = base[:keep] + suffix if keep > 0 else text[:high]
        self.chars += len(text)
        if self.chars > MAX_CHARS:
            raise SchemaError(f"{path}: the schema needs more than {MAX_CHARS} characters of strings")
        return text


def _given(schema: dict[str, Any], variant: int) -> tuple[Any] | None:
    """The schema's own example (or, for the first variant, its default) when it suits the schema."""
    examples = schema.get("examples")
    if isinstance(examples, list) and examples and _fits(examples[variant % len(examples)], schema):
        return (examples[variant % len(examples)],)
    if variant == 0 and "default" in schema and _fits(schema["default"], schema):
        return (schema["default"],)
    return None


def _pattern_schema(patterns: dict[str, Any], key: str) -> Any:
    """The ``patternProperties`` schema for ``key`` (a key too long to check cheaply matches none)."""
    return next((sub for pattern, sub in patterns.items() if mock_regex.search(pattern, key)), None)


def _merge(a: dict[str, Any], b: dict[str, Any], path: str) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(value, dict) and isinstance(out[key], dict):
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            out[key] = props
        elif key == "required" and isinstance(value, list) and isinstance(out[key], list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type":
            left = set(out[key]) if isinstance(out[key], list) else {out[key]}
            right = set(value) if isinstance(value, list) else {value}
            both = left & right or ({"integer"} if {"integer", "number"} <= left | right else set())
            if not both:
                raise SchemaError(f"{path}: `allOf` asks for types {sorted(map(str, left | right))} at once")
            out[key] = sorted(map(str, both))
        elif key in _LOWER and _is_number(value) and _is_number(out[key]):
            out[key] = max(out[key], value)
        elif key in _UPPER and _is_number(value) and _is_number(out[key]):
            out[key] = min(out[key], value)
        elif key == "enum" and isinstance(value, list) and isinstance(out[key], list):
            out[key] = [v for v in out[key] if v in value]
        else:
            out[key] = value
    return out


def _type_of(schema: dict[str, Any], path: str) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k in _JSON_TYPES]
        if not kinds:
            raise SchemaError(f"{path}: `type` lists no JSON type")
        return next((k for k in kinds if k != "null"), "null")
    if isinstance(kind, str):
        if kind not in _JSON_TYPES:
            raise SchemaError(f"{path}: unknown type {kind!r}")
        return kind
    if kind is not None:
        raise SchemaError(f"{path}: `type` must be a string or an array of strings")
    if any(k in schema for k in ("properties", "required", "additionalProperties", "minProperties")):
        return "object"
    if any(k in schema for k in ("items", "prefixItems", "minItems", "contains")):
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return "string"


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """A light check that a given example or default suits the schema (type, bounds, lengths)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if kinds:
        allowed = tuple(t for k in kinds for t in _JSON_TYPES.get(k, ()))
        if not isinstance(value, allowed) or (isinstance(value, bool) and "boolean" not in kinds):
            return False
        if isinstance(value, float) and kinds == ["integer"] and not value.is_integer():
            return False
    if isinstance(value, str):
        low, high, pattern = schema.get("minLength", 0), schema.get("maxLength"), schema.get("pattern")
        if isinstance(pattern, str) and mock_regex.search(pattern, value) is not True:
            return False
        return _is_number(low) and len(value) >= low and (not _is_number(high) or len(value) <= high)
    if _is_number(value):
        for key, holds in _NUMERIC_BOUNDS:
            bound = schema.get(key)
            if _is_number(bound) and not holds(value, bound):
                return False
        return "multipleOf" not in schema
    return isinstance(value, bool | type(None)) or not any(
        k in schema for k in ("properties", "required", "items", "minItems", "prefixItems", "pattern")
    )


def _int_keyword(schema: dict[str, Any], key: str, path: str) -> int | None:
    value = schema.get(key)
    if value is None:
        return None
    if not _is_number(value) or value < 0 or not float(value).is_integer():
        raise SchemaError(f"{path}: `{key}` must be a non-negative integer")
    return int(value)


def _as_dict(schema: Any, path: str) -> dict[str, Any]:
    if schema is True:
        return {}
    if schema is False:
        raise SchemaError(f"{path}: the schema `false` admits no value")
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: a schema must be an object or a boolean")
    return schema


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and (schema.get("type") == "null" or schema.get("const", 0) is None)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
