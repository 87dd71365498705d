"""What a quota limits: metrics, windows, limits and the amounts a request uses.

Amounts are integers everywhere below the service (a Lua script in Redis and the in-memory store must
agree to the unit): requests and tokens count themselves, spend counts nano price units
(``SPEND_SCALE`` per price unit), so budgets add up exactly instead of drifting like floats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal, cast, get_args

import msgspec

from routeiq_core.errors import InvalidRequestError

Metric = Literal["requests", "input_tokens", "output_tokens", "total_tokens", "spend"]
Window = Literal["minute", "hour", "day", "month"]
METRICS: tuple[Metric, ...] = get_args(Metric)
WINDOWS: tuple[Window, ...] = get_args(Window)

SPEND_SCALE = 1_000_000_000
"""Integer spend units per price unit (nano): one token at $0.01 per million tokens is 10 units."""

MAX_AMOUNT = 2**53
"""The largest limit or amount a quota store holds, in store units: exact as a double (Redis's Lua
compares amounts as doubles) and far from int64 overflow however many are added."""

MAX_COUNT_LIMIT = MAX_AMOUNT
"""The largest request or token limit (9,007,199,254,740,992)."""

MAX_SPEND_LIMIT = MAX_AMOUNT // SPEND_SCALE
"""The largest spend limit or budget in price units (9,007,199; normally USD)."""


class WindowSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A sliding window cut into buckets; the bucket length is the counting granularity."""

    name: Window
    seconds: int
    bucket_s: int

    @property
    def buckets(self) -> int:
        """How many whole buckets make the window."""
        return self.seconds // self.bucket_s


WINDOW_SPECS: Mapping[Window, WindowSpec] = MappingProxyType(
    {
        "minute": WindowSpec(name="minute", seconds=60, bucket_s=1),
        "hour": WindowSpec(name="hour", seconds=3_600, bucket_s=60),
        "day": WindowSpec(name="day", seconds=86_400, bucket_s=900),
        "month": WindowSpec(name="month", seconds=30 * 86_400, bucket_s=6 * 3_600),
    }
)


class QuotaLimit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """At most ``limit`` of ``metric`` in any sliding ``window`` (spend in price units)."""

    metric: Metric
    window: Window
    limit: float

    def __post_init__(self) -> None:
        if self.limit < 0 or math.isnan(self.limit):
            raise ValueError(f"limit must be >= 0, got {self.limit}")


class Budget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A spend limit: at most ``max_spend`` price units in any sliding ``window``."""

    max_spend: float
    window: Window = "month"

    def as_limit(self) -> QuotaLimit:
        """The budget as a spend :class:`QuotaLimit` (a stored value out of range is clamped into it)."""
        return QuotaLimit(metric="spend", window=self.window, limit=_clamp(self.max_spend, MAX_SPEND_LIMIT))


class Amounts(msgspec.Struct, frozen=True, kw_only=True):
    """What one request uses (or is estimated to use); spend in integer units (see ``SPEND_SCALE``)."""

    requests: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    spend_units: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def of(self, metric: Metric) -> int:
        """The amount of ``metric``."""
        if metric == "total_tokens":
            return self.total_tokens
        if metric == "spend":
            return self.spend_units
        value: int = getattr(self, metric)
        return value


def to_units(metric: Metric, value: float) -> int:
    """A limit or amount in the integer unit stored by quota stores (spend rounds up).

    Clamped into ``[0, MAX_AMOUNT]`` (NaN counts as 0), so no stored or reported value can
    overflow a counter or poison another key's limits.
    """
    if metric == "spend":
        return math.ceil(_clamp(value, MAX_SPEND_LIMIT) * SPEND_SCALE)
    return math.floor(_clamp(value, MAX_COUNT_LIMIT))


def _clamp(value: float, top: float) -> float:
    return 0.0 if not value > 0 else min(float(value), top)  # `not value > 0` also catches NaN


def limit_problem(name: str, metric: Metric, value: object) -> str | None:
    """Why ``value`` cannot be a limit on ``metric`` (None when it can).

    Spend limits are numbers in ``[0, MAX_SPEND_LIMIT]``; request and token limits whole numbers in
    ``[0, MAX_COUNT_LIMIT]``.
    """
    spend = metric == "spend"
    top = MAX_SPEND_LIMIT if spend else MAX_COUNT_LIMIT
    kind = "a number" if spend else "a whole number"
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and 0 <= value <= top
        and (spend or float(value).is_integer())
    )
    return None if ok else f"{name} must be {kind} from 0 to {top:,}, got {value!r}"


def check_entitlements(
    limits: Sequence[QuotaLimit], budget: Budget | None, unavailable: str | None = None
) -> None:
    """Refuse limits or a budget a quota store cannot hold exactly, or two limits on one counter.

    ``unavailable`` says why this deployment cannot enforce limits at all (several workers counting
    in memory, say): then any limit or budget is refused.

    Raises:
        InvalidRequestError: 400 naming the field and the allowed range (or why limits are refused).
    """
    if unavailable is not None and (limits or budget is not None):
        raise InvalidRequestError(
            f"Limits and budgets cannot be set on this gateway: {unavailable}.",
            param="budget" if budget is not None and not limits else "limits",
            code="limits_unavailable",
        )
    for limit in limits:
        name = f"limit '{limit.metric}_per_{limit.window}'"
        if (problem := limit_problem(name, limit.metric, limit.limit)) is not None:
            raise InvalidRequestError(problem + ".", param="limits")
    windows = [(limit.metric, limit.window) for limit in limits]
    if len(set(windows)) != len(windows):
        raise InvalidRequestError(
            "limits has two entries for the same metric and window; keep one.", param="limits"
        )
    if budget is not None and (problem := limit_problem("budget.max_spend", "spend", budget.max_spend)):
        raise InvalidRequestError(problem + ".", param="budget")


def from_units(metric: Metric, units: int) -> float:
    """The inverse of :func:`to_units` for reports and error messages."""
    return units / SPEND_SCALE if metric == "spend" else float(units)


_SHORTHAND: Mapping[str, tuple[Metric, Window]] = MappingProxyType(
    {
        "rpm": ("requests", "minute"),
        "rph": ("requests", "hour"),
        "rpd": ("requests", "day"),
        "tpm": ("total_tokens", "minute"),
        "tph": ("total_tokens", "hour"),
        "tpd": ("total_tokens", "day"),
    }
)
_LONG_FORM = re.compile(r"^(?P<metric>[a-z_]+?)_per_(?P<window>minute|hour|day|month)$")


def parse_limits(table: Mapping[str, float]) -> tuple[QuotaLimit, ...]:
    """Limits from a config/API mapping such as ``{"rpm": 50, "spend_per_month": 20}``.

    Keys are ``rpm``/``rph``/``rpd`` (requests), ``tpm``/``tph``/``tpd`` (total tokens) or
    ``<metric>_per_<window>`` with a metric of ``requests``, ``input_tokens``, ``output_tokens``,
    ``total_tokens``, ``spend`` and a window of ``minute``, ``hour``, ``day``, ``month``. Values: see
    :func:`limit_problem`.

    Raises:
        ValueError: naming every unknown key or bad value.
    """
    limits: list[QuotaLimit] = []
    problems: list[str] = []
    for name, value in table.items():
        parsed = _parse_name(name)
        if parsed is None:
            problems.append(f"unknown limit {name!r} (use rpm, tpm, ... or <metric>_per_<window>)")
        elif (problem := limit_problem(f"limit {name!r}", parsed[0], value)) is not None:
            problems.append(problem)
        else:
            limits.append(QuotaLimit(metric=parsed[0], window=parsed[1], limit=float(value)))
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(limits)


def _parse_name(name: str) -> tuple[Metric, Window] | None:
    if name in _SHORTHAND:
        return _SHORTHAND[name]
    match = _LONG_FORM.match(name)
    if match is None:
        return None
    metric, window = match["metric"], match["window"]
    if metric not in METRICS:
        return None
    return cast(Metric, metric), cast(Window, window)


def describe_limit(limit: QuotaLimit) -> str:
    """``50 requests per minute``, ``a spend of 20 per month``."""
    if limit.metric == "spend":
        return f"a spend of {limit.limit:.6g} per {limit.window}"
    return f"{limit.limit:g} {limit.metric.replace('_', ' ')} per {limit.window}"
