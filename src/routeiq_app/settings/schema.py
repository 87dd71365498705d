"""Reflection over the settings Structs: field paths, env var names and human descriptions of types."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

import msgspec
import msgspec.inspect as mi

ENV_PREFIX = "ROUTEIQ_"
ENV_SEPARATOR = "__"
CONFIG_ENV = "ROUTEIQ_CONFIG"
# Set by `routeiq serve` for its worker processes (the pid to signal for a reload); not a setting.
SUPERVISOR_ENV = "ROUTEIQ_SUPERVISOR_PID"
METRICS_DIR_ENV = "ROUTEIQ_METRICS_DIR"  # where `serve`'s workers publish their metrics for /metrics
INTERNAL_ENV = frozenset({CONFIG_ENV, SUPERVISOR_ENV, METRICS_DIR_ENV})
# Standard OpenTelemetry variables we honour, and the setting each one fills.
OTEL_ENV_MAP: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("OTEL_SERVICE_NAME", ("observability", "service_name")),
    ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", ("observability", "capture_content")),
)

Path = tuple[str | int, ...]


def env_name(path: Path) -> str:
    """The environment variable that sets the field at ``path`` (``ROUTEIQ_SERVER__PORT``)."""
    return ENV_PREFIX + ENV_SEPARATOR.join(str(p).upper() for p in path)


def dotted(path: Path) -> str:
    """The YAML path of a field: ``server.port``, ``model_list[0].model_name``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def strip(tp: Any) -> Any:
    """Remove ``Annotated`` wrappers."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def section_type(tp: Any) -> type[msgspec.Struct] | None:
    """The Struct class if ``tp`` is a (possibly annotated) settings section, else None."""
    tp = strip(tp)
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) else None


def list_item_section(tp: Any) -> type[msgspec.Struct] | None:
    """The Struct class if ``tp`` is ``list[SomeSection]`` or ``tuple[SomeSection, ...]``, else None."""
    tp = strip(tp)
    args = typing.get_args(tp)
    if typing.get_origin(tp) is list or (
        typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is ...
    ):
        return section_type(args[0])
    return None


def is_list(tp: Any) -> bool:
    """Whether ``tp`` (or its non-None member) is a ``list[...]``."""
    tp = strip(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return any(is_list(t) for t in typing.get_args(tp) if t is not type(None))
    return typing.get_origin(tp) is list


def is_optional(tp: Any) -> bool:
    """Whether ``None`` is a valid value of ``tp``."""
    tp = strip(tp)
    origin = typing.get_origin(tp)
    return (origin is typing.Union or origin is types.UnionType) and type(None) in typing.get_args(tp)


def fields(cls: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """The fields of a settings Struct."""
    return msgspec.structs.fields(cls)


def iter_leaves(
    cls: type[msgspec.Struct], prefix: Path = ()
) -> Iterator[tuple[Path, msgspec.structs.FieldInfo]]:
    """Every settable field below ``cls`` (sections are walked; lists of sections are leaves)."""
    for info in fields(cls):
        path = (*prefix, info.name)
        sub = section_type(info.type)
        if sub is not None:
            yield from iter_leaves(sub, path)
        else:
            yield path, info


def description(info: msgspec.structs.FieldInfo) -> str:
    """The ``Meta(description=...)`` of a field, or an empty string."""
    found = ""
    tp = info.type
    while typing.get_origin(tp) is typing.Annotated:
        for meta in typing.get_args(tp)[1:]:
            if isinstance(meta, msgspec.Meta) and meta.description:
                found = found or meta.description
        tp = typing.get_args(tp)[0]
    return found


def expected(tp: Any) -> str:
    """Say in words what values ``tp`` accepts: ``an integer between 1 and 65535``."""
    return _describe(mi.type_info(tp))


def _describe(t: mi.Type) -> str:
    if isinstance(t, mi.Metadata):
        return _describe(t.type)
    if isinstance(t, mi.IntType):
        return _describe_int(t)
    if isinstance(t, mi.FloatType):
        return "a positive number" if t.gt == 0 or (t.ge is not None and t.ge > 0) else "a number"
    if isinstance(t, mi.BoolType):
        return "a boolean (true or false)"
    if isinstance(t, mi.StrType):
        return "a string"
    if isinstance(t, mi.LiteralType):
        return "one of " + ", ".join(repr(v) for v in t.values)
    if isinstance(t, mi.ListType | mi.VarTupleType):
        return f"a list of {_plural(t.item_type)}"
    if isinstance(t, mi.DictType):
        return "a mapping"
    if isinstance(t, mi.StructType):
        return "a mapping of settings"
    if isinstance(t, mi.UnionType):
        parts = [_describe(x) for x in t.types if not isinstance(x, mi.NoneType)]
        nullable = any(isinstance(x, mi.NoneType) for x in t.types)
        return " or ".join(parts) + (" (or empty for none)" if nullable else "")
    return "a valid value"


def _describe_int(t: mi.IntType) -> str:
    low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else None)
    high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else None)
    if low is not None and high is not None:
        return f"an integer between {low} and {high}"
    if low == 1:
        return "a positive integer"
    if low == 0:
        return "a non-negative integer"
    if low is not None:
        return f"an integer >= {low}"
    return "an integer"


def _plural(t: mi.Type) -> str:
    if isinstance(t, mi.Metadata):
        return _plural(t.type)
    names = {
        mi.StrType: "strings",
        mi.IntType: "integers",
        mi.FloatType: "numbers",
        mi.StructType: "mappings",
    }
    return names.get(type(t), "values")
