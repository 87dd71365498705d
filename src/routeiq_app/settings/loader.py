"""Load settings: defaults < YAML file < ``OTEL_*`` < ``ROUTEIQ_SECTION__FIELD`` environment.

A LiteLLM proxy config loads unchanged: its sections are translated first
(:mod:`routeiq_app.settings.litellm`), its ``environment_variables`` join the environment, and every
``os.environ/NAME`` string anywhere in the tree is resolved. Every problem is collected before
failing, each naming the variable or YAML path, what was expected and what was given (never a
secret); :class:`routeiq_core.ConfigurationError` carries the whole list.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any

import msgspec
import yaml

from routeiq_app.settings import schema
from routeiq_app.settings.litellm import REFERENCE, config_environment, translate
from routeiq_app.settings.model import Settings
from routeiq_app.settings.schema import Path
from routeiq_core.errors import ConfigurationError

SECRET_PREFIX = REFERENCE
MAX_CONFIG_NODES = 1_000_000


class _Source(msgspec.Struct, frozen=True):
    """Where one raw value came from, to name it in an error."""

    label: str
    from_env: bool


class _Raw:
    """The merged raw tree with the origin of every value in it."""

    def __init__(self, config_file: str | None) -> None:
        self.tree: dict[str, Any] = {}
        self.sources: dict[Path, _Source] = {}
        self.config_file = config_file
        self.problems: list[str] = []
        self.notices: list[str] = []
        self.resolved: dict[Path, str] = {}  # paths whose value came from os.environ/NAME: NAME
        self.missing: set[Path] = set()  # paths naming a variable that is not set (reported once)

    def source(self, path: Path) -> _Source:
        found = self.sources.get(path)
        if found is not None:
            return found
        where = f"{self.config_file}: " if self.config_file else ""
        return _Source(where + schema.dotted(path), from_env=False)

    def set(self, path: Path, value: Any, source: _Source) -> None:
        node = self.tree
        for part in path[:-1]:
            child = node.get(str(part))
            if not isinstance(child, dict):
                child = node[str(part)] = {}
            node = child
        node[str(path[-1])] = value
        self.sources[path] = source

    def shown(self, path: Path, value: Any) -> str:
        """``value`` at ``path`` as a message may show it (a resolved reference shows its variable)."""
        name = self.resolved.get(path)
        return f"<from {name}>" if name is not None else shown_value(path, value)


def load_settings(config_path: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build validated :class:`Settings` (see :func:`load_settings_with_notices`)."""
    return load_settings_with_notices(config_path, environ)[0]


def load_settings_with_notices(
    config_path: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Settings, list[str]]:
    """Build validated :class:`Settings`, with the notices of the LiteLLM keys that were ignored.

    Args:
        config_path: YAML file to read; when None, ``ROUTEIQ_CONFIG`` from ``environ`` (if set).
        environ: The environment to read (defaults to ``os.environ``, which then also receives the
            config's ``environment_variables``, as LiteLLM sets them, for the libraries that read it).

    Raises:
        ConfigurationError: listing every problem found.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    path = config_path or env.get(schema.CONFIG_ENV) or None
    raw = _Raw(path)
    if path:
        _read_yaml(raw, path)
        env = _with_config_environment(raw, env, export=environ is None)
        _resolve_references(raw, raw.tree, (), env)
        _translate_litellm(raw)
    _apply_otel(raw, env)
    _apply_env(raw, env)
    _resolve_references(raw, raw.tree, (), env)  # references given in ROUTEIQ_* variables
    settings = _build(Settings, raw.tree, (), raw, env)
    if raw.problems:
        raise ConfigurationError(raw.problems)
    assert isinstance(settings, Settings)
    return settings, raw.notices


def _with_config_environment(raw: _Raw, env: Mapping[str, str], *, export: bool) -> Mapping[str, str]:
    """The environment with the config's ``environment_variables`` set (they win, as in LiteLLM)."""
    problems: list[str] = []
    variables = config_environment(raw.tree, problems)
    raw.problems += [f"{raw.config_file}: {problem}" for problem in problems]
    if not variables:
        return env
    if export:
        os.environ.update(variables)
    return {**env, **variables}


def _translate_litellm(raw: _Raw) -> None:
    """Turn the LiteLLM sections of the file into RouteIQ's settings."""
    translation = translate(raw.tree)
    where = f"{raw.config_file}: "
    raw.problems += [where + problem for problem in translation.problems]
    raw.notices += [where + notice for notice in translation.notices]
    for target, origin in translation.origins.items():
        raw.sources[target] = _Source(where + origin, from_env=False)
        name = raw.resolved.get(tuple(origin.split(".")))
        if name is not None:  # a resolved value moved: still shown as its variable
            raw.resolved[target] = name


def _resolve_references(raw: _Raw, node: Any, path: Path, env: Mapping[str, str]) -> None:
    """Replace every ``os.environ/NAME`` string in the tree (a dict or list) by the variable's value."""
    items: list[tuple[Any, Any]] = list(node.items() if isinstance(node, dict) else enumerate(node))
    for key, value in items:
        at = (*path, key if isinstance(key, int) else str(key))
        if isinstance(value, dict | list):
            _resolve_references(raw, value, at, env)
        elif isinstance(value, str) and value.startswith(SECRET_PREFIX):
            name = value[len(SECRET_PREFIX) :]
            if at in raw.missing:
                continue
            if name not in env:
                raw.missing.add(at)
                raw.problems.append(
                    f"{raw.source(at).label}={value!r}: environment variable {name} is not set"
                )
                continue
            node[key] = env[name]
            raw.resolved[at] = name


def _read_yaml(raw: _Raw, path: str) -> None:
    raw.tree = read_config_tree(path, raw.problems)


def read_config_tree(path: str, problems: list[str]) -> dict[str, Any]:
    """The YAML config file as a tree (empty, with the reason in ``problems``, if unusable)."""
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{path}: cannot read the config file ({exc.strerror or exc})")
        return {}
    try:
        data = _unshared(yaml.safe_load(text), [MAX_CONFIG_NODES])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}")
        return {}
    except (RecursionError, _TooLarge):
        problems.append(f"{path}: too large or nested too deeply (at most {MAX_CONFIG_NODES} values)")
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: the top level must be a mapping of sections, got {type(data).__name__}")
        return {}
    return data


class _TooLarge(Exception):
    pass


def _unshared(node: Any, budget: list[int]) -> Any:
    """A copy in which no two places share a node (YAML aliases do), within ``budget`` nodes.

    The config is rewritten and resolved in place; a shared node would be changed for all of its
    places at once, and an alias bomb would multiply the work.
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, dict):
        return {key: _unshared(value, budget) for key, value in node.items()}
    if isinstance(node, list):
        return [_unshared(value, budget) for value in node]
    return node


def _apply_otel(raw: _Raw, env: Mapping[str, str]) -> None:
    for var, path in schema.OTEL_ENV_MAP:
        if var in env:
            raw.set(path, env[var], _Source(f"{var}", from_env=True))


def _apply_env(raw: _Raw, env: Mapping[str, str]) -> None:
    known = {schema.env_name(path): path for path, _ in schema.iter_leaves(Settings)}
    for var in sorted(env):
        if not var.startswith(schema.ENV_PREFIX) or var in schema.INTERNAL_ENV:
            continue
        path = known.get(var)
        if path is None:
            suggestion = _did_you_mean_env(var, [*known, schema.CONFIG_ENV])
            raw.problems.append(f"{var}: unknown setting{suggestion}")
            continue
        raw.set(path, env[var], _Source(var, from_env=True))


def _did_you_mean_env(var: str, known: list[str]) -> str:
    strip = len(schema.ENV_PREFIX)
    by_suffix = {name[strip:]: name for name in known}
    hint = difflib.get_close_matches(var[strip:], list(by_suffix), n=1, cutoff=0.75)
    return f"; did you mean {by_suffix[hint[0]]}?" if hint else "; see docs/configuration.md"


def _build(cls: type[msgspec.Struct], data: Any, path: Path, raw: _Raw, env: Mapping[str, str]) -> Any:
    """Validate ``data`` against section ``cls`` field by field, recording every problem."""
    if not isinstance(data, dict):
        src = raw.source(path)
        raw.problems.append(f"{src.label}={raw.shown(path, data)}: expected {schema.expected(cls)}")
        return None
    infos = {info.name: info for info in schema.fields(cls)}
    collect_into: str | None = getattr(cls, "__collect_unknown__", None)
    replaced: dict[str, str] = getattr(cls, "__replaced_keys__", {})
    collected: dict[str, Any] = {}
    for key in data:
        if key not in infos and collect_into is not None:
            collected[str(key)] = data[key]
        elif key in replaced:
            raw.problems.append(f"{raw.source((*path, str(key))).label}: no longer a key: {replaced[key]}")
        elif key not in infos:
            hint = difflib.get_close_matches(str(key), list(infos), n=1, cutoff=0.6)
            label = raw.source((*path, str(key))).label
            suggestion = f"; did you mean {schema.dotted((*path, hint[0]))}?" if hint else ""
            valid = ", ".join(infos)
            raw.problems.append(f"{label}: unknown key{suggestion} (valid keys here: {valid})")
    values: dict[str, Any] = {}
    for name, info in infos.items():
        if name not in data:
            if info.required:
                where = raw.source((*path, name)).label
                raw.problems.append(f"{where}: missing required key (expected {schema.expected(info.type)})")
            continue
        values[name] = _build_field(info.type, data[name], (*path, name), raw, env)
    if collect_into is not None and collected:
        values[collect_into] = {**values.get(collect_into, {}), **collected}
    if raw.problems:
        return None
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        where = raw.config_file or "settings"
        raw.problems.append(f"{where}: {schema.dotted(path) or 'settings'}: {exc}")
        return None


def _build_field(tp: Any, value: Any, path: Path, raw: _Raw, env: Mapping[str, str]) -> Any:
    sub = schema.section_type(tp)
    if sub is not None:
        return _build(sub, value, path, raw, env)
    item = schema.list_item_section(tp)
    if item is not None and isinstance(value, list):
        built = [_build(item, v, (*path, i), raw, env) for i, v in enumerate(value)]
        return tuple(built) if typing.get_origin(schema.strip(tp)) is tuple else built
    return _convert_leaf(tp, value, path, raw, env)


_SECRET_NAME = re.compile(r"(^|_)(key|secret|password|passwd|token|dsn|credentials?)(_|$)")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]*@")


def is_secret(path: Path) -> bool:
    """Whether the setting at ``path`` holds a secret (its value is never shown in a message)."""
    name = str(path[-1]).lower() if path else ""
    return bool(_SECRET_NAME.search(name)) and not name.endswith(("_ids", "_id_header"))


def shown_value(path: Path, value: Any) -> str:
    """``value`` as a message may show it: secrets redacted, credentials cut out of URLs.

    An ``os.environ/NAME`` reference is shown as it is: it names the variable, not the secret.
    """
    if isinstance(value, str) and value.startswith(SECRET_PREFIX):
        return repr(value)
    if is_secret(path):
        return "<redacted>"
    text = repr(value)
    return _URL_CREDENTIALS.sub("<redacted>@", text) if "://" in text else text


def _convert_leaf(tp: Any, value: Any, path: Path, raw: _Raw, env: Mapping[str, str]) -> Any:
    src = raw.source(path)
    shown = f"{src.label}={raw.shown(path, value)}"
    if src.from_env and isinstance(value, str):
        value = _parse_env_value(tp, value)
    try:
        return msgspec.convert(value, tp, strict=False)
    except msgspec.ValidationError:
        raw.problems.append(f"{shown}: expected {schema.expected(tp)}")
        return None


def _parse_env_value(tp: Any, value: str) -> Any:
    """Environment values are strings: lists may be JSON or comma-separated; empty means none."""
    stripped = value.strip()
    if stripped == "" and schema.is_optional(tp):
        return None
    if stripped and stripped[0] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return value
    if schema.is_list(tp):
        return [part.strip() for part in stripped.split(",") if part.strip()]
    return value
