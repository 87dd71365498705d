"""Wildcard patterns in allowed models (keys and teams), and quotas of wildcard model groups."""

from __future__ import annotations

from typing import Any

import pytest

from routeiq_adapters.quota import InMemoryQuotaStore
from routeiq_core.access import (
    Authenticator,
    KeyHasher,
    PolicyEngine,
    PriceBook,
    Principal,
    QuotaConfig,
    QuotaExceededError,
    QuotaService,
)
from routeiq_core.access.rbac import require_model
from routeiq_core.access.teams import Team
from routeiq_core.calls import CallAccess
from routeiq_core.catalog import Deployment, ModelCatalog, ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import PermissionDeniedError
from tests.support.clocks import ManualClock
from tests.support.stores import DictKeyStore

pytestmark = pytest.mark.anyio


def key(*allowed: str, team: str | None = None) -> Principal:
    return Principal(kind="virtual_key", role="member", key_id="k1", team=team, allowed_models=allowed)


@pytest.mark.parametrize(
    ("allowed", "model", "expected"),
    [
        (("openai/*",), "openai/gpt-4o", True),
        (("openai/*",), "anthropic/claude", False),
        (("*",), "anything", True),
        (("anthropic/*", "openai/gpt-4o"), "openai/gpt-4o", True),
        (("anthropic/*", "openai/gpt-4o"), "openai/gpt-4o-mini", False),
        ((), "whatever", True),  # no list: every model
    ],
)
def test_key_allowed_models_take_patterns(allowed: tuple[str, ...], model: str, expected: bool) -> None:
    assert key(*allowed).allows_model(model) is expected


def test_require_model_names_the_requested_model() -> None:
    with pytest.raises(PermissionDeniedError) as info:
        require_model(key("openai/*"), "anthropic/claude")
    assert "'anthropic/claude'" in info.value.message


class OneTeam:
    """A team store holding one team (only ``get`` is used by the call's access steps)."""

    def __init__(self, team: Team) -> None:
        self.team = team

    async def get(self, team_id: str) -> Team | None:
        return self.team if team_id == self.team.team_id else None


CATALOG = ModelCatalog(
    [
        ModelGroup(
            name="openai/*",
            deployments=(Deployment(id="o", model_group="openai/*", adapter="openai", upstream_model="*"),),
        ),
        ModelGroup(
            name="anthropic/*",
            deployments=(
                Deployment(
                    id="a", model_group="anthropic/*", adapter="litellm", upstream_model="anthropic/*"
                ),
            ),
        ),
    ]
)


def access(**quota: Any) -> CallAccess:
    return CallAccess(
        authenticator=Authenticator(store=DictKeyStore(), hasher=KeyHasher("server-secret-0123456789")),
        policy=PolicyEngine.from_config({}),
        quota=QuotaService(
            InMemoryQuotaStore(),
            QuotaConfig(**quota),
            prices=PriceBook.from_catalog(CATALOG),
            clock=ManualClock(),
        ),
        catalog=CATALOG,
        teams=OneTeam(Team(team_id="t1", allowed_models=("openai/*",))),  # type: ignore[arg-type]
    )


def context(principal: Principal, model: str) -> CallContext:
    return CallContext(principal=principal, model=model, payload={"model": model}, max_tokens=10)


async def test_a_key_pattern_admits_the_models_its_group_serves() -> None:
    steps = access()
    ctx = context(key("openai/*"), "openai/gpt-4o")
    steps.resolve(ctx)
    assert ctx.group is not None
    assert ctx.group.name == "openai/gpt-4o"
    with pytest.raises(PermissionDeniedError):
        steps.resolve(context(key("openai/*"), "anthropic/claude"))


async def test_team_allowed_models_take_patterns() -> None:
    steps = access()
    allowed = context(key(team="t1"), "openai/gpt-4o")
    steps.resolve(allowed)
    await steps.reserve(allowed)
    refused = context(key(team="t1"), "anthropic/claude")
    steps.resolve(refused)
    with pytest.raises(PermissionDeniedError) as info:
        await steps.reserve(refused)
    assert "'anthropic/claude'" in info.value.message


async def test_model_group_limits_on_a_pattern_hold_for_all_its_models_together() -> None:
    steps = access(model_group_limits={"openai/*": {"rpm": 2}})
    for model in ("openai/gpt-4o", "openai/gpt-4o-mini"):
        ctx = context(key(), model)
        steps.resolve(ctx)
        await steps.reserve(ctx)
    third = context(key(), "openai/o3")
    steps.resolve(third)
    with pytest.raises(QuotaExceededError):
        await steps.reserve(third)
    other = context(key(), "anthropic/claude")  # another group: its own (absent) limits
    steps.resolve(other)
    await steps.reserve(other)
