"""The quota use case: from a principal and a request to reserved amounts, and back at settlement.

Reserve before the call: the estimate is the prompt estimate plus ``max_tokens`` (or
``default_max_tokens``) and the cost of that many tokens at the model group's worst price. Settle
after it with the actual usage and cost: the difference is released (or, if the call used more than
estimated, added). A budget can therefore be exceeded only by what calls in flight use beyond their
estimates, which is nothing when ``max_tokens`` is set and the prompt estimate is an upper bound.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence

import anyio
import msgspec

from routeiq_core import metric_names as names
from routeiq_core.access.errors import (
    BudgetExceededError,
    QuotaDataError,
    QuotaExceededError,
    QuotaStoreError,
    QuotaUnavailableError,
)
from routeiq_core.access.principal import Principal
from routeiq_core.access.quota import QuotaItem, QuotaStore, Refusal, Reservation, Scope
from routeiq_core.access.quota_health import OutageMonitor, OutagePolicy
from routeiq_core.access.quota_limits import (
    Amounts,
    QuotaLimit,
    describe_limit,
    from_units,
    parse_limits,
    to_units,
)
from routeiq_core.access.spend import PriceBook
from routeiq_core.errors import ConfigurationError, InvalidRequestError
from routeiq_core.metrics import Metrics

logger = logging.getLogger("routeiq.quota")

_STORE_FAILURES = (QuotaStoreError, TimeoutError, OSError)


class QuotaConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits that do not live on keys, in the shorthand of :func:`parse_limits`.

    Attributes:
        global_limits: Limits on all traffic together, e.g. ``{"rpm": 10000}``.
        team_limits: Per team; the entry ``"*"`` applies to every team without its own.
        model_group_limits: Per model group; ``"*"`` applies to every group without its own.
        default_max_tokens: Output tokens assumed for a request that does not set ``max_tokens``.
        max_tokens_ceiling: The largest ``max_tokens`` a request may ask for (400 above it).
        on_outage: ``fail_open`` (admit unmetered) or ``fail_closed`` (503) while the store is down.
        timeout_s: Longest wait for the quota store per call.
    """

    global_limits: dict[str, float] = msgspec.field(default_factory=dict)
    team_limits: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    model_group_limits: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    default_max_tokens: int = 4096
    max_tokens_ceiling: int = 1_000_000
    on_outage: OutagePolicy = "fail_closed"
    timeout_s: float = 0.5


class QuotaTicket(msgspec.Struct, frozen=True, kw_only=True):
    """What :meth:`QuotaService.reserve` hands back, to pass to :meth:`QuotaService.settle`.

    ``reservation`` is None when no limit applied (then ``estimate`` is zero: nothing was reserved),
    or when the store was down under ``fail_open`` (then ``unmetered`` is true).
    """

    reservation: Reservation | None
    estimate: Amounts
    unmetered: bool = False


_NOTHING_RESERVED = QuotaTicket(reservation=None, estimate=Amounts(requests=0))


def _compile(
    table: Mapping[str, Mapping[str, float]], path: str, problems: list[str]
) -> dict[str, tuple[QuotaLimit, ...]]:
    compiled: dict[str, tuple[QuotaLimit, ...]] = {}
    for name, limits in table.items():
        try:
            compiled[name] = parse_limits(limits)
        except ValueError as exc:
            problems.append(f"{path}.{name}: {exc}")
    return compiled


class QuotaService:
    """Turns principals and requests into quota items, reserves them, settles them.

    Args:
        store: The shared counters.
        config: Team, model-group and global limits and the outage policy.
        monitor: Tracks store outages (share it with the :class:`QuotaHealthCheck`).
        prices: Worst-case prices per model group for the cost estimate.
        metrics: Where unmetered admissions and settle failures are counted.
        clock: Unix time.

    Raises:
        ConfigurationError: naming every invalid limit in ``config``.
    """

    def __init__(
        self,
        store: QuotaStore,
        config: QuotaConfig,
        *,
        monitor: OutageMonitor | None = None,
        prices: PriceBook | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        problems: list[str] = []
        self._global = _compile({"*": config.global_limits}, "quota.global_limits", problems).get("*", ())
        self._teams = _compile(config.team_limits, "quota.team_limits", problems)
        self._groups = _compile(config.model_group_limits, "quota.model_group_limits", problems)
        if problems:
            raise ConfigurationError(problems)
        self._store = store
        self._config = config
        self._monitor = monitor or OutageMonitor(config.on_outage, metrics)
        self._prices = prices or PriceBook()
        self._metrics = metrics
        self._clock = clock

    @property
    def monitor(self) -> OutageMonitor:
        """The outage monitor (for the health check)."""
        return self._monitor

    def estimate(self, model_group: str, prompt_tokens: int, max_tokens: int | None) -> Amounts:
        """The amounts reserved for a request before it runs."""
        output = max_tokens if max_tokens is not None else self._config.default_max_tokens
        cost = self._prices.estimate(model_group, prompt_tokens, output)
        return Amounts(
            requests=1, input_tokens=prompt_tokens, output_tokens=output, spend_units=to_units("spend", cost)
        )

    def items_for(
        self,
        principal: Principal,
        model_group: str,
        estimate: Amounts,
        team_limits: Sequence[QuotaLimit] = (),
    ) -> tuple[QuotaItem, ...]:
        """Every limit that applies, one item per counter (the tightest limit when several coincide)."""
        return self._items(self._scoped(principal, model_group, team_limits), estimate)

    def _scoped(
        self, principal: Principal, model_group: str, team_limits: Sequence[QuotaLimit]
    ) -> list[tuple[Scope, str, QuotaLimit]]:
        """Every (scope, id, limit) that applies to the request."""
        scoped: list[tuple[Scope, str, QuotaLimit]] = []
        if principal.kind == "virtual_key" and principal.key_id:
            scoped += [("key", principal.key_id, limit) for limit in principal.all_limits()]
        if principal.team is not None:
            configured = self._teams.get(principal.team, self._teams.get("*", ()))
            scoped += [("team", principal.team, limit) for limit in (*configured, *team_limits)]
        scoped += [
            ("model_group", model_group, lim)
            for lim in self._groups.get(model_group, self._groups.get("*", ()))
        ]
        scoped += [("global", "*", limit) for limit in self._global]
        return scoped

    def _items(
        self, scoped: Sequence[tuple[Scope, str, QuotaLimit]], estimate: Amounts
    ) -> tuple[QuotaItem, ...]:
        items: dict[str, QuotaItem] = {}
        for scope, scope_id, limit in scoped:
            item = QuotaItem(
                scope=scope,
                scope_id=scope_id,
                metric=limit.metric,
                window=limit.window,
                limit=to_units(limit.metric, limit.limit),
                amount=estimate.of(limit.metric),
            )
            known = items.get(item.counter_key)
            if known is None or item.limit < known.limit:
                items[item.counter_key] = item
        return tuple(items.values())

    async def reserve(
        self,
        principal: Principal,
        *,
        model_group: str,
        prompt_tokens: int,
        max_tokens: int | None = None,
        team_limits: Sequence[QuotaLimit] = (),
    ) -> QuotaTicket:
        """Reserve the request's estimate against every applicable limit, or refuse.

        ``team_limits`` are the caller's team record's limits (and budget), added to the configured ones.

        Raises:
            QuotaExceededError: 429 ``rate_limit_exceeded`` naming the limit, with ``Retry-After``.
            BudgetExceededError: 429 ``budget_exceeded`` when the refusing limit is a spend limit.
            QuotaUnavailableError: 503 when the store is down and the policy is ``fail_closed``.
            InvalidRequestError: 400 when ``max_tokens`` is above ``max_tokens_ceiling``.
        """
        ceiling = self._config.max_tokens_ceiling
        if max_tokens is not None and max_tokens > ceiling:
            raise InvalidRequestError(
                f"max_tokens is {max_tokens}; the most this gateway accepts is {ceiling}.", param="max_tokens"
            )
        scoped = self._scoped(principal, model_group, team_limits)
        if not scoped:  # no limit applies: nothing to estimate or reserve
            return _NOTHING_RESERVED
        estimate = self.estimate(model_group, prompt_tokens, max_tokens)
        items = self._items(scoped, estimate)
        if not self._monitor.should_try():
            return self._outage(estimate)
        try:
            with anyio.fail_after(self._config.timeout_s):
                result = await self._store.reserve(items, self._clock())
        except _STORE_FAILURES as exc:
            self._monitor.record_failure(exc)
            return self._outage(estimate)
        self._monitor.record_success()
        if isinstance(result, Refusal):
            error = refusal_error(result)
            self._refused("budget" if isinstance(error, BudgetExceededError) else "rate")
            raise error
        return QuotaTicket(reservation=result, estimate=estimate)

    def _refused(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.increment(names.QUOTA_REFUSALS, reason=reason)

    async def settle(
        self,
        ticket: QuotaTicket,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        requests: int = 1,
    ) -> None:
        """Replace the estimate by the actual usage.

        Never raises; safe to call from ``finally`` (shielded from cancellation, bounded by the store
        timeout) and more than once.
        """
        if ticket.reservation is None:
            return
        actual = Amounts(  # clamped: an upstream's usage report cannot overflow a shared counter
            requests=requests,
            input_tokens=to_units("input_tokens", prompt_tokens),
            output_tokens=to_units("output_tokens", completion_tokens),
            spend_units=to_units("spend", cost),
        )
        with anyio.CancelScope(shield=True):
            try:
                with anyio.fail_after(self._config.timeout_s):
                    await self._store.settle(ticket.reservation, actual, self._clock())
            except _STORE_FAILURES as exc:
                self._monitor.record_failure(exc)
                if self._metrics is not None:
                    self._metrics.increment(names.QUOTA_SETTLE_FAILURES)
                logger.debug("quota settle failed; the estimate stays counted: %r", exc)
            except QuotaDataError as exc:  # this settlement's amounts, not the store: no outage
                if self._metrics is not None:
                    self._metrics.increment(names.QUOTA_SETTLE_FAILURES)
                logger.warning("quota settle refused; the estimate stays counted: %s", exc.message)
            else:
                self._monitor.record_success()

    async def release(self, ticket: QuotaTicket) -> None:
        """Give back everything reserved (the call never reached an upstream)."""
        await self.settle(ticket, prompt_tokens=0, completion_tokens=0, cost=0.0, requests=0)

    def _outage(self, estimate: Amounts) -> QuotaTicket:
        if self._monitor.policy == "fail_closed":
            self._refused("unavailable")
            raise QuotaUnavailableError(
                "Quota limits cannot be checked right now (the quota backend is unreachable); retry shortly."
            )
        if self._metrics is not None:
            self._metrics.increment(names.QUOTA_UNMETERED_REQUESTS)
        return QuotaTicket(reservation=None, estimate=estimate, unmetered=True)


def refusal_error(refusal: Refusal) -> QuotaExceededError:
    """The 429 for a refusal: names the scope, metric, window, limit and usage; sets ``Retry-After``."""
    item = refusal.item
    limit = from_units(item.metric, item.limit)
    current = from_units(item.metric, refusal.current)
    needed = from_units(item.metric, item.amount)
    spend = item.metric == "spend"
    who = "all traffic" if item.scope == "global" else f"{item.scope.replace('_', ' ')} {item.scope_id!r}"
    rule = describe_limit(QuotaLimit(metric=item.metric, window=item.window, limit=limit))
    if item.amount > item.limit:
        tail = f"this request alone needs {needed:g}; lower max_tokens or ask for a higher limit."
    else:
        used = "spent" if spend else "used"
        tail = (
            f"{current:g} {used} in the last {item.window}, this request needs {needed:g}. "
            f"Retry after {max(1, math.ceil(refusal.retry_after_s))} s."
        )
    kind = BudgetExceededError if spend else QuotaExceededError
    return kind(
        f"{'Budget' if spend else 'Rate limit'} exceeded for {who}: the limit is {rule}; {tail}",
        scope=item.scope,
        scope_id=item.scope_id,
        metric=item.metric,
        window=item.window,
        limit=limit,
        current=current,
        retry_after_s=refusal.retry_after_s,
    )
