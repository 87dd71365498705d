"""Reading admin API bodies: JSON objects, typed fields and limit shorthands, each 400 on error."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from litestar import Request

from routeiq_app.json_body import decode_json_object
from routeiq_core.access import QuotaLimit, parse_limits
from routeiq_core.errors import InvalidRequestError

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
    """The limit shorthands of a body (``rpm``, ``<metric>_per_<window>``): fields not in ``other_fields``."""
    try:
        return parse_limits({k: v for k, v in body.items() if k not in other_fields})
    except ValueError as exc:
        raise InvalidRequestError(f"Invalid limits: {exc}", param="limits") from None


def patch_changes(
    body: dict[str, Any], fields: Iterable[PatchField], other_fields: frozenset[str]
) -> dict[str, Any]:
    """The record changes a PATCH body asks for: limit shorthands replace the limits, fields convert."""
    changes: dict[str, Any] = {}
    if any(k not in other_fields for k in body):
        changes["limits"] = limits_of(body, other_fields)
    for field, name, tp in fields:
        if field in body:
            changes[name] = convert(body[field], tp, field)
    return changes
