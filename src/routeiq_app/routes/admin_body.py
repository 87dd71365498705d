"""Reading admin API bodies: JSON objects, typed fields and limit shorthands, each 400 on error."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from litestar import Request

from routeiq_app.json_body import decode_json_object
from routeiq_core.access import QuotaLimit, parse_limits
from routeiq_core.errors import InvalidRequestError

LIMITS_FIELD = "limits"
"""The body field holding every limit at once (``{}`` clears them)."""

# (body field, record field, type) of the fields a PATCH may change besides limits
PatchField = tuple[str, str, Any]


async def body_of(request: Request) -> dict[str, Any]:  # type: ignore[type-arg]
    """The JSON object body of an admin request (an empty body is ``{}``), or 400."""
    return decode_json_object(await request.body(), empty_ok=True)


def convert(value: Any, tp: Any, field: str) -> Any:
    """Convert one body field, or 400 naming it."""
    try:
        return msgspec.convert(value, tp)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"Invalid {field}: {exc}", param=field) from None


def limit_table(limits: Sequence[QuotaLimit]) -> dict[str, float]:
    """Limits as the admin API shows them: ``{"<metric>_per_<window>": limit}``."""
    return {f"{lim.metric}_per_{lim.window}": lim.limit for lim in limits}


def limits_of(body: dict[str, Any], other_fields: frozenset[str]) -> tuple[QuotaLimit, ...]:
    """The limits of a body: a ``limits`` object, or the shorthands (``rpm``, ``<metric>_per_<window>``).

    ``{"limits": {"requests_per_minute": 60}}`` names every limit (``{}``: none), in the shape the
    API shows them; the shorthands are the body's fields not in ``other_fields``. Not both at once.
    """
    shorthands = {k: v for k, v in body.items() if k not in other_fields and k != LIMITS_FIELD}
    table: Any = shorthands
    if LIMITS_FIELD in body:
        table = body[LIMITS_FIELD]
        if not isinstance(table, dict):
            raise InvalidRequestError(
                'limits must be an object such as {"rpm": 60} ({} for none).', param="limits"
            )
        if shorthands:
            raise InvalidRequestError(
                f"Give limits either in 'limits' or as top-level fields ({', '.join(sorted(shorthands))}), "
                "not both.",
                param="limits",
            )
    try:
        return parse_limits(table)
    except ValueError as exc:
        raise InvalidRequestError(f"Invalid limits: {exc}", param="limits") from None


def patch_changes(
    body: dict[str, Any], fields: Iterable[PatchField], other_fields: frozenset[str]
) -> dict[str, Any]:
    """The record changes a PATCH body asks for: ``limits`` or shorthands replace the limits."""
    changes: dict[str, Any] = {}
    if any(k not in other_fields for k in body):
        changes["limits"] = limits_of(body, other_fields)
    for field, name, tp in fields:
        if field in body:
            changes[name] = convert(body[field], tp, field)
    return changes
