"""``/admin/policy/explain`` (dry-run the policy) and ``/admin/spend`` (spend report)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from routeiq_app.json_body import decode_json_object
from routeiq_app.surfaces.http import HttpRequestReader
from routeiq_core.access import Explanation, PolicyEngine, Principal, require
from routeiq_core.access.spend import SpendLedger, SpendReport, spend_filter_for
from routeiq_core.calls import CallAccess, CallRequest, Credentials, describe_call
from routeiq_core.errors import InvalidRequestError
from routeiq_core.providers import Operation


class ExplainRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A call to dry-run: its body, its operation and surface, and optionally a key to act as."""

    body: dict[str, Any]
    operation: Operation = Operation.CHAT
    surface: str = "openai"
    as_key: str | None = None


@post("/admin/policy/explain", summary="Dry-run the policy for a request", tags=["admin"], status_code=200)
async def explain_policy(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    policy_engine: NamedDependency[PolicyEngine],
    call_access: NamedDependency[CallAccess],
    http_reader: NamedDependency[HttpRequestReader],
) -> Explanation:
    """Which rule matches and why, for every rule in order; nothing is sent anywhere."""
    require(principal, "policy.explain")
    body = decode_json_object(await request.body())
    try:
        ask = msgspec.convert(body, ExplainRequest)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"Invalid explain request: {exc}") from None
    credentials = http_reader.credentials(request.scope)  # type: ignore[arg-type]
    subject = principal
    if ask.as_key is not None:
        subject = await call_access.identify(Credentials(token=ask.as_key))
    call = CallRequest(payload=ask.body, stream=bool(ask.body.get("stream")))
    context = describe_call(
        call,
        operation=ask.operation,
        principal=subject,
        surface=ask.surface,
        received_at=time.time(),
        source_ip=credentials.client_address,
    )
    return policy_engine.explain(context)


@get("/admin/spend", summary="Spend per key, team and model group", tags=["admin"])
async def spend_report(
    principal: NamedDependency[Principal],
    spend_ledger: NamedDependency[Any],
    key_id: FromQuery[str | None] = None,
    team: FromQuery[str | None] = None,
    model_group: FromQuery[str | None] = None,
    since: FromQuery[float | None] = None,
    until: FromQuery[float | None] = None,
) -> SpendReport:
    """Totals over the filter (unix-time bounds); team-scoped readers see their own team (or key) only."""
    return await spend_report_for(
        principal, spend_ledger, key_id=key_id, team=team, model_group=model_group, since=since, until=until
    )


async def spend_report_for(
    principal: Principal,
    spend_ledger: Any,
    *,
    key_id: str | None = None,
    team: str | None = None,
    model_group: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> SpendReport:
    """The spend report ``principal`` may read (``spend.read``, confined by :func:`spend_filter_for`)."""
    require(principal, "spend.read")
    ledger: SpendLedger = spend_ledger  # the port (a Protocol cannot be a Litestar dependency type)
    scope = spend_filter_for(
        principal, key_id=key_id, team=team, model_group=model_group, since=since, until=until
    )
    return await ledger.report(scope)


access_routes = (explain_policy, spend_report)
