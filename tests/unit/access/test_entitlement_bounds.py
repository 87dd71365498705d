"""Limits and budgets are bounded where they enter (400 with the range) and clamped where stored."""

from __future__ import annotations

import math

import anyio
import pytest

from routeiq_core.access import (
    Budget,
    KeyHasher,
    KeyPatch,
    KeyService,
    NewKey,
    Principal,
    QuotaLimit,
    parse_limits,
)
from routeiq_core.access.quota_limits import MAX_AMOUNT, MAX_SPEND_LIMIT, SPEND_SCALE, to_units
from routeiq_core.errors import InvalidRequestError
from tests.support.stores import DictKeyStore


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"rpm": 0.5}, "whole number"),
        ({"tpm": 1e30}, "from 0 to 9,007,199,254,740,992"),
        ({"rpm": -1}, "from 0"),
        ({"rpm": math.inf}, "from 0"),
        ({"rpm": math.nan}, "from 0"),
        ({"spend_per_month": 1e300}, "from 0 to 9,007,199"),
        ({"spend_per_day": -5}, "from 0"),
        ({"rpm": True}, "whole number"),
    ],
)
def test_limits_out_of_range_are_refused_with_the_range(table: dict[str, float], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_limits(table)


def test_limits_in_range_are_kept() -> None:
    (rpm, spend) = parse_limits({"rpm": 50, "spend_per_month": 12.5})
    assert (rpm.limit, spend.limit) == (50, 12.5)
    assert parse_limits({"tpm": MAX_AMOUNT})[0].limit == MAX_AMOUNT


def test_store_units_never_overflow_whatever_the_value() -> None:
    assert to_units("spend", 1e300) == MAX_SPEND_LIMIT * SPEND_SCALE <= MAX_AMOUNT
    assert to_units("total_tokens", math.inf) == MAX_AMOUNT
    assert to_units("requests", math.nan) == 0
    assert to_units("spend", -5) == 0
    assert to_units("output_tokens", 10**40) == MAX_AMOUNT


def test_a_stored_out_of_range_budget_is_clamped_rather_than_failing_every_call() -> None:
    assert Budget(max_spend=-5).as_limit().limit == 0  # nothing may be spent
    assert Budget(max_spend=1e300).as_limit().limit == MAX_SPEND_LIMIT
    assert Budget(max_spend=math.nan).as_limit().limit == 0


@pytest.mark.parametrize("bad", [-5.0, 1e300, math.inf])
def test_keys_refuse_budgets_out_of_range_at_issue_and_patch(bad: float) -> None:
    keys = KeyService(DictKeyStore(), KeyHasher("server-secret-0123456789"))

    async def main() -> None:
        with pytest.raises(InvalidRequestError) as issued:
            await keys.issue(Principal.admin(), NewKey(budget=Budget(max_spend=bad)))
        assert issued.value.param == "budget"
        assert "from 0 to 9,007,199" in issued.value.message
        key = await keys.issue(Principal.admin(), NewKey())
        with pytest.raises(InvalidRequestError):
            await keys.update(Principal.admin(), key.record.key_id, KeyPatch(budget=Budget(max_spend=bad)))
        huge = (QuotaLimit(metric="requests", window="minute", limit=1e30),)
        with pytest.raises(InvalidRequestError):
            await keys.update(Principal.admin(), key.record.key_id, KeyPatch(limits=huge))

    anyio.run(main)


def test_a_gateway_that_cannot_enforce_limits_refuses_to_issue_them() -> None:
    from routeiq_core.access import NewTeam, TeamService
    from tests.support.stores import DictKeyStore as _Keys

    reason = "2 workers count quotas in memory each"
    keys = KeyService(_Keys(), KeyHasher("server-secret-0123456789"), limits_unavailable=reason)

    async def main() -> None:
        with pytest.raises(InvalidRequestError) as info:
            await keys.issue(Principal.admin(), NewKey(limits=parse_limits({"rpm": 5})))
        assert (info.value.code, info.value.param) == ("limits_unavailable", "limits")
        assert reason in info.value.message
        with pytest.raises(InvalidRequestError):
            await keys.issue(Principal.admin(), NewKey(budget=Budget(max_spend=5)))
        assert (await keys.issue(Principal.admin(), NewKey())).record.limits == ()  # no limits: fine
        teams = TeamService(_TeamStore(), limits_unavailable=reason)
        with pytest.raises(InvalidRequestError):
            await teams.create(Principal.admin(), NewTeam(team_id="t1", limits=parse_limits({"tpm": 9})))

    anyio.run(main)


class _TeamStore:
    async def get(self, team_id: str) -> None:
        return None
