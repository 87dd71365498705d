"""The access steps of every LLM route: auth → RBAC → policy → quota reserve, and settle after.

One object, built by the container, so the hot route calls two methods and nothing else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from cachetools import TTLCache

from routeiq_app.asgi_types import Scope
from routeiq_core.access import (
    KEY_PREFIX,
    Authenticator,
    PolicyEngine,
    Principal,
    QuotaLimit,
    QuotaService,
    QuotaTicket,
    RequestFacts,
    Team,
    TeamStore,
    bearer_token,
    client_ip,
    enforce,
    require,
    require_model,
)
from routeiq_core.access.auth import IPNetwork
from routeiq_core.access.spend import SpendLedger, SpendRecord
from routeiq_core.catalog import ModelCatalog
from routeiq_core.errors import PermissionDeniedError
from routeiq_core.gateway import RouteDecision
from routeiq_core.providers import Usage

if TYPE_CHECKING:
    from routeiq_app.model_routing import Routed

logger = logging.getLogger("routeiq.access")


class Admission(msgspec.Struct, kw_only=True):
    """A request that passed the gate: who, which model group, extra tags, and its reservation."""

    principal: Principal
    model: str
    model_group: str
    tags: tuple[str, ...] = ()
    ticket: QuotaTicket | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()


def _headers(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())]


class AccessGate:
    """Admits or refuses LLM calls and settles what they used."""

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        policy: PolicyEngine,
        quota: QuotaService,
        spend: SpendLedger,
        catalog: ModelCatalog,
        trusted_proxies: tuple[IPNetwork, ...],
        teams: TeamStore | None = None,
        team_cache_ttl_s: float = 10.0,
    ) -> None:
        self._auth = authenticator
        self._policy = policy
        self._allow_all = not policy.rules and policy.default == "allow"
        self._quota = quota
        self._spend = spend
        self._catalog = catalog
        self._trusted = trusted_proxies
        self._teams = teams
        self._team_cache: TTLCache[str, Team | None] = TTLCache(maxsize=10_000, ttl=team_cache_ttl_s)

    async def principal(self, scope: Scope) -> Principal:
        """Who is calling (401 if nobody valid).

        An open gateway (no master key) admits any key that is not a RouteIQ virtual key, as the
        anonymous caller, so OpenAI clients that insist on some key work; a RouteIQ key is still
        checked (a revoked one is refused), so its limits apply.
        """
        authorization = next((v for k, v in _headers(scope) if k.lower() == "authorization"), None)
        token = bearer_token(authorization)
        if self._auth.open and (token is None or not token.startswith(KEY_PREFIX)):
            return await self._auth.authenticate(None)
        return await self._auth.authenticate(token)

    def facts(self, scope: Scope, principal: Principal, payload: dict[str, Any]) -> RequestFacts:
        """What the policy engine sees of a request."""
        client = scope.get("client")
        max_tokens = payload.get("max_tokens") or payload.get("max_completion_tokens")
        return RequestFacts(
            principal=principal,
            route=scope["path"],
            method=scope["method"],
            model=payload.get("model") if isinstance(payload.get("model"), str) else None,
            max_tokens=max_tokens if isinstance(max_tokens, int) else None,
            stream=bool(payload.get("stream")),
            tools=bool(payload.get("tools") or payload.get("functions")),
            source_ip=client_ip(_headers(scope), client[0] if client else None, self._trusted),
        )

    async def admit(
        self,
        scope: Scope,
        payload: dict[str, Any],
        prompt_tokens: int,
        choose: Callable[[], Awaitable[Routed]] | None = None,
    ) -> Admission:
        """Authenticate, check the permission and the model, apply the policy, reserve the quota.

        ``choose`` (for a routed model name such as ``auto``) runs once the caller is known and
        replaces ``payload["model"]`` with the model group a trained router picked.

        Raises:
            AuthenticationError: 401. PermissionDeniedError: 403 (role, model, or a policy deny).
            QuotaExceededError / BudgetExceededError: 429 with Retry-After. QuotaUnavailableError: 503.
            NotFoundError: 404 for an unknown model.
        """
        principal = await self.principal(scope)
        require(principal, "llm.call")
        routed_headers: tuple[tuple[bytes, bytes], ...] = ()
        if choose is not None:
            routed = await choose()
            payload["model"] = routed.model_group
            routed_headers = routed.headers
        tags: tuple[str, ...] = ()
        if self._allow_all:  # no rules and an allow default: nothing to evaluate
            model = str(payload.get("model"))
        else:
            decision = enforce(self._policy.evaluate(self.facts(scope, principal, payload)))
            model, tags = decision.model or str(payload.get("model")), decision.tags
        group = self._catalog.resolve(model).name
        require_model(principal, group)
        team_limits = await self._team_limits(principal, group)
        max_tokens = payload.get("max_tokens") or payload.get("max_completion_tokens")
        ticket = await self._quota.reserve(
            principal,
            model_group=group,
            prompt_tokens=prompt_tokens,
            max_tokens=max_tokens if isinstance(max_tokens, int) else None,
            team_limits=team_limits,
        )
        return Admission(
            principal=principal,
            model=model,
            model_group=group,
            tags=tags,
            ticket=ticket,
            headers=routed_headers,
        )

    async def _team_limits(self, principal: Principal, group: str) -> tuple[QuotaLimit, ...]:
        """The caller's team record: 403 if deleted or the model is not the team's; its limits and budget.

        Team records are cached per worker for ``keys.cache_ttl_s``, like keys.
        """
        if self._teams is None or principal.team is None:
            return ()
        if principal.team in self._team_cache:
            team = self._team_cache[principal.team]
        else:
            team = self._team_cache[principal.team] = await self._teams.get(principal.team)
        if team is None:
            return ()
        if team.deleted_at is not None:
            raise PermissionDeniedError(f"The team {team.team_id!r} was deleted.", code="team_deleted")
        if team.allowed_models and group not in team.allowed_models:
            raise PermissionDeniedError(
                f"The team {team.team_id!r} may not use the model {group!r}.",
                param="model",
                code="model_not_allowed",
            )
        return (*team.limits, *((team.budget.as_limit(),) if team.budget else ()))

    async def settle(self, admission: Admission, route: RouteDecision | None, usage: Usage | None) -> None:
        """Replace the reservation by what the call used, and record its spend. Never raises."""
        try:
            await self._settle(admission, route, usage)
        except Exception:  # accounting must never fail a response that was already sent
            logger.exception("settling a request failed")

    async def _settle(self, admission: Admission, route: RouteDecision | None, usage: Usage | None) -> None:
        ticket = admission.ticket
        if route is None:  # never reached an upstream
            if ticket is not None:
                await self._quota.release(ticket)
            return
        deployment = self._catalog.deployment(route.deployment_id)
        if usage is None:  # the stream was cut before the upstream reported usage: keep the estimate
            return
        cost = deployment.cost(usage.prompt_tokens, usage.completion_tokens) if deployment else 0.0
        if ticket is not None:
            await self._quota.settle(
                ticket,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cost=cost,
            )
        principal = admission.principal
        await self._spend.record(
            SpendRecord(
                at=time.time(),
                model_group=route.model_group,
                cost=cost,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                key_id=principal.key_id,
                team=principal.team,
                deployment_id=route.deployment_id,
            )
        )
