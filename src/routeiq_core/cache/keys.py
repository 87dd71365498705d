"""Exact-cache keys: a SHA-256 of the normalised request, scoped to one tenant.

The key covers the model group, the operation, the prompt (``messages`` / ``prompt`` / ``input``)
and every parameter that can change the answer (``temperature``, ``top_p``, ``max_tokens``, ``n``,
``stop``, ``tools``, ``response_format``, ``seed``, ... and any parameter it does not know, to be
safe). It ignores what only changes the delivery or the bookkeeping: :data:`IGNORED_PARAMS`.
Tenants never share entries: the tenant scope is part of the key and of the store's namespace.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import quote

import msgspec

from routeiq_core.providers import Operation

IGNORED_PARAMS = frozenset(
    {
        "model",
        "user",
        "stream",
        "stream_options",
        "metadata",
        "store",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
    }
)
"""Request fields that never change the answer's content."""

_FLOAT_PARAMS = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})
_SCOPE = re.compile(r"^[A-Za-z0-9_.~%-]{1,128}$")
_KEY_VERSION = 1
ANONYMOUS_SCOPE = "anonymous"


def check_scope(scope: str) -> str:
    """Return ``scope`` if it is a valid tenant scope (as :func:`tenant_scope` makes), else raise.

    Raises:
        ValueError: The scope is empty, longer than 128 characters, or has characters other than
            letters, digits and ``_ . ~ % -`` (``:`` and glob characters would break store keys).
    """
    if not _SCOPE.match(scope):
        raise ValueError(f"invalid cache scope {scope!r}: use tenant_scope() to build one")
    return scope


def _label(value: str) -> str:
    escaped = quote(value, safe="")
    return escaped if len(escaped) <= 100 else "h" + hashlib.sha256(value.encode()).hexdigest()[:40]


def tenant_scope(*, team: str | None, key_id: str | None, per: Literal["team", "key"] = "team") -> str:
    """The scope a caller's entries live in: its team (``per="team"``, when it has one) or its key.

    Callers with neither share :data:`ANONYMOUS_SCOPE` (only when authentication is off).
    """
    if per == "team" and team:
        return "team-" + _label(team)
    if key_id:
        return "key-" + _label(key_id)
    return ANONYMOUS_SCOPE


def _normal_value(name: str, value: Any) -> Any:
    if name in _FLOAT_PARAMS and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if name == "stop" and isinstance(value, str):
        return [value]
    return value


def normalized_request(
    model_group: str, operation: Operation, payload: Mapping[str, Any], *, ignore: Iterable[str] = ()
) -> dict[str, Any]:
    """The part of a request that decides its answer (ignored fields dropped, numbers normalised)."""
    skip = IGNORED_PARAMS | frozenset(ignore)
    request = {k: _normal_value(k, v) for k, v in payload.items() if k not in skip and v is not None}
    return {"v": _KEY_VERSION, "operation": operation.value, "model_group": model_group, "request": request}


def cache_key(
    scope: str,
    model_group: str,
    operation: Operation,
    payload: Mapping[str, Any],
    *,
    ignore: Iterable[str] = (),
) -> str:
    """Hex SHA-256 of the canonical JSON (sorted keys) of the scope and the normalised request."""
    document = {
        "scope": check_scope(scope),
        **normalized_request(model_group, operation, payload, ignore=ignore),
    }
    return hashlib.sha256(msgspec.json.encode(document, order="sorted")).hexdigest()


def params_fingerprint(payload: Mapping[str, Any], *, ignore: Iterable[str] = ()) -> str:
    """Short hash of a request's answer-relevant parameters, prompt excluded (a semantic-cache variant)."""
    skip = IGNORED_PARAMS | {"messages", "prompt", "input"} | frozenset(ignore)
    params = {k: _normal_value(k, v) for k, v in payload.items() if k not in skip and v is not None}
    return hashlib.sha256(msgspec.json.encode(params, order="sorted")).hexdigest()[:16]
