"""The gateway over wildcard model groups: substituted upstream models, bounded labels, 404s."""

from __future__ import annotations

import anyio
import pytest

from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import UpstreamError
from routeiq_core.providers import Operation
from routeiq_core.resilience import BreakerState
from tests.support.gateways import make
from tests.support.providers import deployment, failure


def req(model: str) -> CallContext:
    return CallContext(
        operation=Operation.CHAT, model=model, payload={"model": model, "messages": [{"role": "user"}]}
    )


def wildcard_group(name: str = "w/*", n: int = 2) -> ModelGroup:
    ds = tuple(deployment("w", i, model_group=name, upstream_model="up/*") for i in range(n))
    return ModelGroup(name=name, deployments=ds)


def test_the_upstream_gets_the_substituted_model_under_the_configured_id() -> None:
    gw, client, metrics, _, _ = make([wildcard_group()])
    response = anyio.run(gw.complete, req("w/model-x"))
    assert client.payloads[0]["model"] == "up/model-x"
    assert response.route.deployment_id == "w-0"
    assert response.route.model_group == "w/*"  # metrics and spend count the configured group
    assert metrics.counter("routeiq_prompt_tokens", model_group="w/*", deployment="w-0") == 10


def test_a_404_from_a_wildcard_deployment_goes_to_the_client_and_spares_the_breaker() -> None:
    gw, client, metrics, _, breakers = make(
        [wildcard_group(), ModelGroup(name="spare", deployments=(deployment("spare"),), fallbacks=())],
        {"w-0": [failure(404, code="model_not_found")] * 3},
        threshold=1,
    )
    for _ in range(3):  # one client's bogus names, again and again
        with pytest.raises(UpstreamError) as info:
            anyio.run(gw.complete, req("w/no-such-model"))
        assert (info.value.status_code, info.value.code) == (404, "model_not_found")
    assert client.calls == ["w-0"] * 3  # no failover to w-1
    assert breakers.get("w-0").state is BreakerState.CLOSED
    assert breakers.get("w-0").consecutive_failures == 0
    assert metrics.counter("routeiq_upstream_failures") == 0
    assert anyio.run(gw.complete, req("w/real-model")).route.deployment_id == "w-0"  # others still served


def test_401_on_a_wildcard_deployment_is_still_a_deployment_fault() -> None:
    gw, client, _, _, breakers = make([wildcard_group()], {"w-0": [failure(401)]}, threshold=1)
    response = anyio.run(gw.complete, req("w/model-x"))
    assert client.calls == ["w-0", "w-1"]
    assert response.route.deployment_id == "w-1"
    assert breakers.get("w-0").state is BreakerState.OPEN


def test_a_fixed_upstream_of_a_wildcard_group_treats_404_as_misconfiguration() -> None:
    ds = (deployment("f", 0, upstream_model="fixed"), deployment("f", 1, upstream_model="fixed"))
    gw, client, _, _, breakers = make([ModelGroup(name="f/*", deployments=ds)], {"f-0": [failure(404)]})
    response = anyio.run(gw.complete, req("f/anything"))
    assert client.payloads[-1]["model"] == "fixed"
    assert (client.calls, response.route.deployment_id) == (["f-0", "f-1"], "f-1")
    assert breakers.get("f-0").consecutive_failures == 1


def test_a_404_on_an_ordinary_deployment_still_fails_over() -> None:
    ds = (deployment("g", 0), deployment("g", 1))
    gw, client, _, _, breakers = make([ModelGroup(name="g", deployments=ds)], {"g-0": [failure(404)]})
    response = anyio.run(gw.complete, req("g"))
    assert (client.calls, response.route.deployment_id) == (["g-0", "g-1"], "g-1")
    assert breakers.get("g-0").consecutive_failures == 1


def test_a_fallback_may_name_a_model_a_wildcard_group_serves() -> None:
    primary = ModelGroup(name="g", deployments=(deployment("g", 0),), fallbacks=("w/backup-model",))
    gw, client, metrics, _, _ = make([primary, wildcard_group(n=1)], {"g-0": [failure(500)] * 3})
    response = anyio.run(gw.complete, req("g"))
    assert response.route.deployment_id == "w-0"
    assert client.payloads[-1]["model"] == "up/backup-model"
    assert metrics.counter("routeiq_fallbacks", from_group="g", to_group="w/*") == 1
