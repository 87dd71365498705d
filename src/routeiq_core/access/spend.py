"""Spend: worst-case prices for estimates, and the ``SpendLedger`` port that reports what calls cost.

Prices are per million tokens in the deployment's price unit (normally USD), priced by the one
formula in :func:`routeiq_core.catalog.token_cost`. The cost of a finished call uses the deployment
that served it (computed once, at settlement); the *estimate* reserved before the call uses the
most expensive deployment of the model group, because the router has not picked one yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from types import MappingProxyType
from typing import Protocol

import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.catalog import ModelCatalog, Price
from routeiq_core.errors import InvalidRequestError, ServiceUnavailableError

__all__ = [
    "BufferedSpendLedger",
    "Price",
    "PriceBook",
    "SpendFilter",
    "SpendLedger",
    "SpendLedgerError",
    "SpendRecord",
    "SpendReport",
    "SpendTotals",
    "spend_filter_for",
]


class PriceBook:
    """The worst-case price of each model group, for cost estimates before routing (immutable)."""

    __slots__ = ("_prices",)

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self._prices: Mapping[str, Price] = MappingProxyType(dict(prices or {}))

    @classmethod
    def from_catalog(cls, catalog: ModelCatalog) -> PriceBook:
        """The highest input and output prices among each group's deployments (aliases included)."""
        prices: dict[str, Price] = {}
        for group in catalog.groups:
            price = Price(
                input_per_mtok=max((d.input_price_per_mtok for d in group.deployments), default=0.0),
                output_per_mtok=max((d.output_price_per_mtok for d in group.deployments), default=0.0),
            )
            for name in (group.name, *group.aliases):
                prices[name] = price
        return cls(prices)

    def price(self, model_group: str) -> Price:
        """The group's worst-case price (zero for an unknown group)."""
        return self._prices.get(model_group, Price())

    def estimate(self, model_group: str, prompt_tokens: int, completion_tokens: int) -> float:
        """The most this many tokens can cost in ``model_group``."""
        return self.price(model_group).cost(prompt_tokens, completion_tokens)


class SpendRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One finished call's spend."""

    at: float
    model_group: str
    cost: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    key_id: str | None = None
    team: str | None = None
    deployment_id: str | None = None


class SpendFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which records a report covers; unset fields match everything; times are unix seconds."""

    key_id: str | None = None
    team: str | None = None
    model_group: str | None = None
    since: float | None = None
    until: float | None = None

    def accepts(self, key_id: str | None, team: str | None, model_group: str) -> bool:
        """Whether a record with these attributes is covered (time checked separately)."""
        return (
            (self.key_id is None or key_id == self.key_id)
            and (self.team is None or team == self.team)
            and (self.model_group is None or model_group == self.model_group)
        )


LATEST_TIME = 32_503_680_000.0
"""The latest time a report may name (the year 3000, in unix seconds)."""


def spend_filter_for(
    reader: Principal,
    *,
    key_id: str | None = None,
    team: str | None = None,
    model_group: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> SpendFilter:
    """The filter a reader may use: its bounds checked, its scope confined to what it may see.

    An admin sees every key and team. A team-scoped reader (``team_admin``, ``viewer``, ``member``)
    sees its own team; one without a team sees only its own key's spend.

    Raises:
        InvalidRequestError: 400 when ``since`` or ``until`` is not a time from 0 to the year 3000,
            or ``since`` is after ``until``.
    """
    for name, value in (("since", since), ("until", until)):
        if value is not None and not (math.isfinite(value) and 0 <= value <= LATEST_TIME):
            raise InvalidRequestError(
                f"{name} must be a unix time from 0 to {LATEST_TIME:.0f} (the year 3000), got {value!r}.",
                param=name,
            )
    if since is not None and until is not None and since > until:
        raise InvalidRequestError(f"since ({since}) is after until ({until}).", param="since")
    if reader.role != "admin":
        team = reader.team
        if team is None:
            key_id = reader.key_id or ""  # no team: only the reader's own key (nothing without one)
    return SpendFilter(key_id=key_id, team=team, model_group=model_group, since=since, until=until)


class SpendTotals(msgspec.Struct, kw_only=True):
    """Accumulated spend of a group of records."""

    requests: int = 0
    cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, requests: int, cost: float, prompt_tokens: int, completion_tokens: int) -> None:
        """Fold more usage in."""
        self.requests += requests
        self.cost += cost
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens


class SpendReport(msgspec.Struct, kw_only=True):
    """Totals of the records a filter covers, overall and per key, team and model group.

    Records without a key or team are reported under ``"-"``.
    """

    filter: SpendFilter
    total: SpendTotals
    by_key: dict[str, SpendTotals]
    by_team: dict[str, SpendTotals]
    by_model_group: dict[str, SpendTotals]


class SpendLedgerError(ServiceUnavailableError):
    """A spend ledger could not read its database for a report (503); recording never raises it."""

    default_code = "spend_ledger_unavailable"


class SpendLedger(Protocol):
    """Where spend accumulates (in memory per process; a database adapter for several workers)."""

    async def record(self, entry: SpendRecord) -> None:
        """Add one finished call.

        Called as a call settles, possibly after its client went away (a cancelled task): it must
        not wait on I/O — buffer, and write in the background (see :class:`BufferedSpendLedger`).
        """
        ...

    async def report(self, spend_filter: SpendFilter) -> SpendReport:
        """Totals of the records ``spend_filter`` covers."""
        ...


class BufferedSpendLedger(SpendLedger, Protocol):
    """A ledger shared by workers through a database, written in batches from a per-process buffer.

    ``record`` only folds into the buffer; a background flush writes it every second or so, and
    ``report`` flushes this process's buffer first, so a report is exact for the calling worker and
    includes what the other workers have flushed. A failed flush keeps the buffer for the next one.
    """

    async def ensure_schema(self) -> None:
        """Open the database and create or migrate the schema (also done on first use)."""
        ...

    async def flush(self) -> bool:
        """Write the buffer in one batch; False (buffer kept, nothing raised) when the database failed."""
        ...

    def flushing(self) -> AbstractAsyncContextManager[None]:
        """Flush in the background for as long as the context is open."""
        ...

    async def close(self) -> None:
        """Flush what is buffered, then close the database (a later call reopens it)."""
        ...
