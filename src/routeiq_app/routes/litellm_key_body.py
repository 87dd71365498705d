"""LiteLLM ``/key/*`` bodies onto RouteIQ's key service, and RouteIQ keys shown the way LiteLLM shows them.

Accepted fields: ``models``, ``max_budget``, ``budget_duration``, ``rpm_limit``, ``tpm_limit``,
``team_id``, ``user_id``, ``key_alias``, ``metadata``, ``duration``, ``expires`` (``key`` names the key
to change). LiteLLM fields RouteIQ cannot honour (:data:`UNSUPPORTED_KEY_FIELDS`) are refused with a
400 naming them when they ask for something, and ignored when null, false, 0 or empty (LiteLLM's
defaults, which some clients always send). Any other field is a 400.

What LiteLLM calls ``token`` (its hash of the key, used as an id) is RouteIQ's public key id
(``key_...``); ``key_name`` is the key's hint (``sk-riq-...abcd``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_app.routes import litellm_fields as fields
from routeiq_app.routes.admin_body import limit_table
from routeiq_core.access import KEY_PREFIX, KeyHasher, KeyPatch, KeyStore, NewKey, VirtualKey
from routeiq_core.access.keys import MAX_KEY_LENGTH
from routeiq_core.errors import InvalidRequestError, NotFoundError

KEY_FIELDS = frozenset(
    {
        "models",
        "max_budget",
        "budget_duration",
        "rpm_limit",
        "tpm_limit",
        "team_id",
        "user_id",
        "key_alias",
        "metadata",
        "duration",
        "expires",
    }
)
UNSUPPORTED_KEY_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "key": "RouteIQ generates every secret itself, a chosen key value cannot be set",
        "new_key": "RouteIQ generates every secret itself, a chosen key value cannot be set",
        "new_master_key": "the master key is set in the configuration (security.master_key)",
        "spend": "spend is recorded by the gateway and cannot be set",
        "max_parallel_requests": "RouteIQ limits requests per minute (rpm_limit), not concurrent requests",
        "soft_budget": "there are no soft-budget alerts; max_budget is enforced",
        "model_max_budget": "budgets apply to the whole key, not per model",
        "model_rpm_limit": "limits apply to the whole key, not per model",
        "model_tpm_limit": "limits apply to the whole key, not per model",
        "rpm_limit_type": "rpm_limit is always enforced",
        "tpm_limit_type": "tpm_limit is always enforced",
        "aliases": "model aliases are set in the config (model_list), not per key",
        "config": "per-key configuration overrides do not exist",
        "permissions": "what a key may do comes from its role (set it with POST /admin/keys)",
        "allowed_routes": "what a key may do comes from its role (set it with POST /admin/keys)",
        "allowed_cache_controls": "cache controls are not restricted per key",
        "guardrails": "guardrails are configured as plugins, not per key",
        "enforced_params": "request parameters are not enforced per key (use the policy engine)",
        "tags": "keys carry no tags (put labels in metadata)",
        "blocked": "a key is blocked by revoking it (POST /key/delete)",
        "organization_id": "RouteIQ has no organizations (use team_id)",
        "budget_id": "budgets are set on the key itself (max_budget)",
        "object_permission": "MCP and agent permissions come from the key's role",
        "send_invite_email": "RouteIQ sends no e-mail",
        "temp_budget_increase": "budgets have no temporary increases",
        "temp_budget_expiry": "budgets have no temporary increases",
        "key_type": "what a key may do comes from its role (set it with POST /admin/keys)",
        "auto_rotate": "keys are rotated on request (POST /key/regenerate)",
        "rotation_interval": "keys are rotated on request (POST /key/regenerate)",
    }
)
MAX_KEYS_PER_REQUEST = 100
"""The most keys one ``/key/delete`` names."""


class LiteLLMKey(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A key shaped like LiteLLM's key objects, with only what RouteIQ has (``key`` right after issue)."""

    token: str
    key_name: str
    key_alias: str | None
    user_id: str | None
    team_id: str | None
    models: list[str]
    max_budget: float | None
    budget_duration: str | None
    rpm_limit: int | None
    tpm_limit: int | None
    metadata: dict[str, Any]
    expires: str | None
    created_at: str | None
    updated_at: str | None
    status: str
    role: str
    limits: dict[str, float]
    key: str | None = None


def key_view(record: VirtualKey, now: float, secret: str | None = None) -> LiteLLMKey:
    """A stored key as LiteLLM shows it; ``limits`` lists every RouteIQ limit (also those LiteLLM lacks)."""
    return LiteLLMKey(
        token=record.key_id,
        key_name=record.hint,
        key_alias=record.alias,
        user_id=record.user,
        team_id=record.team,
        models=list(record.allowed_models),
        max_budget=record.budget.max_spend if record.budget else None,
        budget_duration=fields.BUDGET_DURATION_OF[record.budget.window] if record.budget else None,
        rpm_limit=fields.rate_limit(record.limits, "requests"),
        tpm_limit=fields.rate_limit(record.limits, "total_tokens"),
        metadata=dict(record.metadata),
        expires=fields.iso(record.expires_at),
        created_at=fields.iso(record.created_at),
        updated_at=fields.iso(record.updated_at),
        status=record.status(now),
        role=record.role,
        limits=limit_table(record.limits),
        key=secret,
    )


def check_key_fields(body: Mapping[str, Any]) -> None:
    """400 for a field of a key body RouteIQ does not know or cannot honour (see the module docstring)."""
    fields.check_fields(body, KEY_FIELDS, UNSUPPORTED_KEY_FIELDS)


def new_key(body: Mapping[str, Any], now: float) -> NewKey:
    """What ``/key/generate`` asks to issue (a member key; ``/admin/keys`` issues other roles)."""
    check_key_fields(body)
    return NewKey(
        alias=fields.text(body, "key_alias"),
        user=fields.text(body, "user_id"),
        team=fields.text(body, "team_id"),
        allowed_models=fields.models(body),
        limits=fields.rate_limits(body),
        budget=fields.budget(body),
        expires_at=fields.expiry(body, now),
        metadata=fields.metadata(body),
    )


def key_patch(body: Mapping[str, Any], current: VirtualKey, now: float) -> KeyPatch:
    """The change a ``/key/update`` body asks for (without its ``key``), merged onto ``current``.

    ``rpm_limit``/``tpm_limit`` replace only their own limit; ``duration`` sets a new expiry from now,
    ``expires: null`` removes it. ``user_id`` and ``team_id`` cannot change (400 unless unchanged).
    Check the body with :func:`check_key_fields` first.
    """
    for field, value in (("user_id", current.user), ("team_id", current.team)):
        if field in body and fields.text(body, field) != value:
            raise InvalidRequestError(
                f"{field} of a key cannot be changed; issue a new key with POST /key/generate.", param=field
            )
    changes: dict[str, Any] = {}
    if "key_alias" in body:
        changes["alias"] = fields.text(body, "key_alias")
    if "models" in body:
        changes["allowed_models"] = fields.models(body)
    if "metadata" in body:
        changes["metadata"] = fields.metadata(body)
    if any(field in body for field, _ in fields.RATE_FIELDS):
        changes["limits"] = fields.rate_limits(body, current.limits)
    if "max_budget" in body or body.get("budget_duration") is not None:
        changes["budget"] = fields.budget(body, current.budget)
    if body.get("duration") is not None or "expires" in body:
        changes["expires_at"] = fields.expiry(body, now)
    return KeyPatch(**changes)


def split_key(body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``key`` a ``/key/update`` or ``/key/regenerate`` body names, and the rest of the body."""
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InvalidRequestError(
            "key is required: the key to change (sk-riq-...) or its token (key_...).", param="key"
        )
    return key, {name: value for name, value in body.items() if name != "key"}


def key_list(body: Mapping[str, Any]) -> list[str]:
    """The ``keys`` of a ``/key/delete`` body (``key_aliases`` is not supported), or 400."""
    extra = sorted(set(body) - {"keys", "key_aliases"})
    if extra:
        raise InvalidRequestError(f"Unknown field {extra[0][:64]!r}; send {{'keys': [...]}}.", param="keys")
    if not fields.asks_nothing(body.get("key_aliases")):
        raise InvalidRequestError(
            "key_aliases is not supported by RouteIQ (aliases are not unique); list the keys or their "
            "tokens in keys.",
            param="key_aliases",
        )
    keys = body.get("keys")
    if (
        not isinstance(keys, list)
        or not 1 <= len(keys) <= MAX_KEYS_PER_REQUEST
        or not all(isinstance(k, str) and k.strip() for k in keys)
    ):
        raise InvalidRequestError(
            f"keys must list 1 to {MAX_KEYS_PER_REQUEST} keys (sk-riq-...) or tokens (key_...).", param="keys"
        )
    return keys


async def key_id_of(named: str, store: KeyStore, hasher: KeyHasher, field: str = "key") -> str:
    """The id of the key a LiteLLM client names: its token (``key_...``) or the secret itself.

    Raises:
        NotFoundError: 404 when it is neither a RouteIQ key id nor the secret of a stored key (the
            secret is never repeated in the message).
    """
    named = named.strip()
    if named.startswith("key_") and len(named) <= 64:
        return named
    if named.startswith(KEY_PREFIX) and len(named) <= MAX_KEY_LENGTH:
        record = await store.get_by_hash(hasher.hash(named))
        if record is not None:
            return record.key_id
    raise NotFoundError(
        f"No RouteIQ virtual key matches the {field} given; pass a key (sk-riq-...) or its token (key_...).",
        param=field,
        code="key_not_found",
    )
