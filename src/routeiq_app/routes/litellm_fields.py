"""LiteLLM's management fields read into RouteIQ's values: field checks, durations, budgets, limits.

LiteLLM budgets reset on a schedule (``budget_duration``) or never; RouteIQ budgets are sliding
windows of a minute, an hour, a day or 30 days, so ``budget_duration`` must name one of them and a
``max_budget`` without it (a lifetime budget) is refused rather than silently turned into a window.
``rpm_limit`` and ``tpm_limit`` are RouteIQ's ``rpm`` and ``tpm`` limits (requests and total tokens
per sliding minute).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time
from types import MappingProxyType
from typing import Any, Literal

from routeiq_core.access import Budget, QuotaLimit, Window
from routeiq_core.access.quota_limits import limit_problem
from routeiq_core.access.spend import LATEST_TIME
from routeiq_core.errors import InvalidRequestError

_UNIT_SECONDS: Mapping[str, int] = MappingProxyType(
    {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400, "mo": 30 * 86_400}
)
_DURATION = re.compile(r"^\s*(\d{1,9})\s*(mo|s|m|h|d|w)\s*$")
MAX_DURATION_S = 100 * 365 * 86_400
"""The longest ``duration`` a key may be given (100 years)."""

_WINDOW_OF_SECONDS: Mapping[int, Window] = MappingProxyType(
    {60: "minute", 3_600: "hour", 86_400: "day", 30 * 86_400: "month"}
)
BUDGET_DURATION_OF: Mapping[Window, str] = MappingProxyType(
    {"minute": "1m", "hour": "1h", "day": "1d", "month": "30d"}
)
"""How a RouteIQ budget window is written as a LiteLLM ``budget_duration``."""

RATE_FIELDS: tuple[tuple[str, Literal["requests", "total_tokens"]], ...] = (
    ("rpm_limit", "requests"),
    ("tpm_limit", "total_tokens"),
)
"""LiteLLM's per-minute limit fields and the RouteIQ metric each limits (in a sliding minute)."""

ALL_MODELS = "all-proxy-models"
"""LiteLLM's name for "every model"; RouteIQ writes that as no model list at all."""


def _shown(name: str) -> str:
    return repr(name if len(name) <= 64 else name[:61] + "...")


def asks_nothing(value: Any) -> bool:
    """Whether a field's value asks for nothing (null, false, 0 or empty): LiteLLM's own defaults."""
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    return isinstance(value, str | list | dict) and not value


def check_fields(body: Mapping[str, Any], accepted: Collection[str], unsupported: Mapping[str, str]) -> None:
    """Refuse a field RouteIQ does not know, or one it cannot honour that asks for something.

    Raises:
        InvalidRequestError: 400 naming the field, why it is refused and what is accepted.
    """
    for name, value in body.items():
        if name in accepted:
            continue
        reason = unsupported.get(name)
        if reason is None:
            raise InvalidRequestError(
                f"Unknown field {_shown(name)}. Fields accepted here: {', '.join(sorted(accepted))}.",
                param=name[:64],
                code="unknown_field",
            )
        if not asks_nothing(value):
            raise InvalidRequestError(
                f"{name} is not supported by RouteIQ: {reason}. Remove it (null is accepted and ignored).",
                param=name,
                code="unsupported_field",
            )


def text(body: Mapping[str, Any], field: str) -> str | None:
    """An optional string field (1 to 256 characters, not blank), or 400 naming it."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise InvalidRequestError(
            f"{field} must be a string of 1 to 256 characters, not blank, or null; got {_kind(value)}.",
            param=field,
        )
    return value


def models(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``models`` a key or team may use (empty, null or ``["all-proxy-models"]``: all of them)."""
    value = body.get("models")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(m, str) and m.strip() for m in value):
        raise InvalidRequestError(
            f"models must be a list of model names (strings), or null; got {_kind(value)}.", param="models"
        )
    if len(value) > 1000:
        raise InvalidRequestError("models may list at most 1000 names.", param="models")
    names = tuple(dict.fromkeys(m for m in value if m != ALL_MODELS))
    return () if ALL_MODELS in value else names


def metadata(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``metadata`` object (null is ``{}``), or 400."""
    value = body.get("metadata")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequestError(f"metadata must be a JSON object; got {_kind(value)}.", param="metadata")
    return value


def rate_limits(body: Mapping[str, Any], current: Sequence[QuotaLimit] = ()) -> tuple[QuotaLimit, ...]:
    """``current`` with the per-minute limits the body sets replaced (a null removes one).

    Raises:
        InvalidRequestError: 400 when ``rpm_limit`` or ``tpm_limit`` is not a whole number in range.
    """
    given = [(field, metric) for field, metric in RATE_FIELDS if field in body]
    kept = [
        lim
        for lim in current
        if not any(lim.metric == metric and lim.window == "minute" for _, metric in given)
    ]
    for field, metric in given:
        value = body[field]
        if value is None:
            continue
        if (problem := limit_problem(field, metric, value)) is not None:
            raise InvalidRequestError(problem + ".", param=field)
        kept.append(QuotaLimit(metric=metric, window="minute", limit=float(value)))
    return tuple(kept)


def rate_limit(limits: Sequence[QuotaLimit], metric: str) -> int | None:
    """The per-minute limit on ``metric`` among ``limits``, as LiteLLM shows it."""
    return next((int(lim.limit) for lim in limits if lim.metric == metric and lim.window == "minute"), None)


def budget_window(value: Any) -> Window:
    """The RouteIQ window a ``budget_duration`` names, or 400 listing the ones that exist."""
    seconds = duration_seconds(value, "budget_duration")
    window = _WINDOW_OF_SECONDS.get(seconds)
    if window is None:
        raise InvalidRequestError(
            f"budget_duration {value!r} has no RouteIQ equivalent: budgets are sliding windows of "
            "1m, 1h, 1d or 30d (also written 60s, 60m, 24h, 1mo).",
            param="budget_duration",
        )
    return window


def budget(body: Mapping[str, Any], current: Budget | None = None) -> Budget | None:
    """The budget ``max_budget`` and ``budget_duration`` ask for, on top of ``current``.

    A null ``max_budget`` removes the budget; ``budget_duration`` alone changes the window of the
    current one.

    Raises:
        InvalidRequestError: 400 for a lifetime budget (no window), a window without an amount, or an
            amount out of range.
    """
    has_amount, has_window = "max_budget" in body, body.get("budget_duration") is not None
    if not has_amount and not has_window:
        return current
    amount = body["max_budget"] if has_amount else (current.max_spend if current else None)
    if amount is None:
        if has_window:
            raise InvalidRequestError(
                "budget_duration needs a max_budget (there is no budget to apply it to).",
                param="budget_duration",
            )
        return None
    window = budget_window(body["budget_duration"]) if has_window else (current.window if current else None)
    if window is None:
        raise InvalidRequestError(
            "max_budget needs a budget_duration of 1m, 1h, 1d or 30d: RouteIQ budgets are sliding "
            "windows and there is no lifetime budget.",
            param="max_budget",
        )
    if (problem := limit_problem("max_budget", "spend", amount)) is not None:
        raise InvalidRequestError(problem + ".", param="max_budget")
    return Budget(max_spend=float(amount), window=window)


def duration_seconds(value: Any, field: str) -> int:
    """Seconds of a LiteLLM duration such as ``30s``, ``30m``, ``30h``, ``30d``, ``2w``, ``1mo`` (30 days)."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]] if match else 0
    if not 1 <= seconds <= MAX_DURATION_S:
        raise InvalidRequestError(
            f"{field} must be a duration such as '30s', '30m', '30h', '30d', '2w' or '1mo' (30 days), "
            f"from 1 second to 100 years; got {_kind(value)}.",
            param=field,
        )
    return seconds


def expiry(body: Mapping[str, Any], now: float) -> float | None:
    """When a key expires: ``duration`` from now, or the ISO 8601 time ``expires``; None never.

    Raises:
        InvalidRequestError: 400 when both are given or either is malformed.
    """
    duration, expires = body.get("duration"), body.get("expires")
    if duration is not None and expires is not None:
        raise InvalidRequestError("Send either duration or expires, not both.", param="duration")
    if duration is not None:
        return now + duration_seconds(duration, "duration")
    if expires is not None:
        return parse_time(expires, "expires")
    return None


def parse_time(value: Any, field: str, *, end_of_day: bool = False) -> float:
    """Unix time of an ISO 8601 date or date-time (UTC unless it says otherwise), or 400.

    A bare date is its first instant, or with ``end_of_day`` its last, so a date range is inclusive.
    """
    moment: datetime | None = None
    if isinstance(value, str) and len(value) <= 64:
        try:
            if len(value.strip()) == 10:
                day = date.fromisoformat(value.strip())
                moment = datetime.combine(day, time.max if end_of_day else time.min)
            else:
                moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        raise InvalidRequestError(
            f"{field} must be an ISO 8601 date or date-time such as '2026-01-31' or "
            f"'2026-01-31T12:00:00Z'; got {_kind(value)}.",
            param=field,
        )
    stamp = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    if not (math.isfinite(stamp) and 0 <= stamp <= LATEST_TIME):
        raise InvalidRequestError(f"{field} must be between 1970 and the year 3000.", param=field)
    return stamp


_FIRST_INSTANT, _LAST_INSTANT = -62_135_596_800.0, 253_402_300_799.0  # years 1 and 9999, in unix time


def iso(stamp: float | None) -> str | None:
    """A unix time as LiteLLM shows times (ISO 8601, UTC), None as None.

    A stored time beyond what a date-time can hold (``/admin/keys`` takes any number) shows as the
    first or last instant of the calendar.
    """
    if stamp is None or math.isnan(stamp):
        return None
    return datetime.fromtimestamp(min(max(stamp, _FIRST_INSTANT), _LAST_INSTANT), UTC).isoformat()


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 64 else value[:61] + "...")
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    return f"a JSON {'array' if isinstance(value, list) else 'object'}"
