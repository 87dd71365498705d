"""The access steps of a call: identify, policy, model group, team record, quota reserve."""

from __future__ import annotations

from cachetools import TTLCache

from routeiq_core.access.auth import Authenticator
from routeiq_core.access.errors import QuotaExceededError
from routeiq_core.access.policy import PolicyEngine, enforce
from routeiq_core.access.principal import Principal
from routeiq_core.access.quota_limits import QuotaLimit
from routeiq_core.access.quota_service import QuotaService, QuotaTicket
from routeiq_core.access.rbac import require_model
from routeiq_core.access.teams import Team, TeamStore
from routeiq_core.audit.trail import AuditTrail
from routeiq_core.calls.command import Credentials
from routeiq_core.catalog import ModelCatalog, matches
from routeiq_core.context import CallContext
from routeiq_core.errors import AuthenticationError, PermissionDeniedError


class CallAccess:
    """Who may make a call, which model group serves it, and what it reserves.

    Args:
        authenticator: Resolves presented keys.
        policy: The policy engine (skipped entirely when it has no rules and allows by default).
        quota: Reserves and settles limits.
        catalog: Resolves model names to groups.
        teams: Team records (deleted teams, team models, team limits); None: teams are labels only.
        team_cache_ttl_s: How long a team record is cached per worker.
        audit: Counts refused keys (per client address and reason) and quota and budget refusals
            (per reason, scope and model group) into the audit log's summaries; None counts nothing.
    """

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        policy: PolicyEngine,
        quota: QuotaService,
        catalog: ModelCatalog,
        teams: TeamStore | None = None,
        team_cache_ttl_s: float = 10.0,
        audit: AuditTrail | None = None,
    ) -> None:
        self._auth = authenticator
        self._policy = policy
        self._allow_all = not policy.rules and policy.default == "allow"
        self._quota = quota
        self._catalog = catalog
        self._teams = teams
        self._team_cache: TTLCache[str, Team | None] = TTLCache(maxsize=10_000, ttl=team_cache_ttl_s)
        self._audit = audit

    @property
    def quota(self) -> QuotaService:
        """The quota service (settlement gives back what :meth:`reserve` took)."""
        return self._quota

    async def identify(self, credentials: Credentials) -> Principal:
        """The caller (401 if nobody valid; an open gateway admits non-RouteIQ keys as anonymous)."""
        try:
            return await self._auth.identify(credentials.token)
        except AuthenticationError as exc:
            if self._audit is not None:
                self._audit.auth_failed(credentials.client_address, exc.code)
            raise

    def apply_policy(self, ctx: CallContext) -> None:
        """Enforce the policy on the call: 403 on a deny; a rewrite changes ``model``, tags add up."""
        if self._allow_all:  # no rules and an allow default: nothing to evaluate
            return
        decision = enforce(self._policy.evaluate(ctx))
        if decision.model:
            ctx.model = decision.model
        if decision.tags:
            ctx.tags = (*ctx.tags, *decision.tags)

    def resolve(self, ctx: CallContext) -> None:
        """Resolve ``model`` to its group, once (404 if unknown; 403 if the key may not use it)."""
        ctx.group = self._catalog.resolve(ctx.model)
        require_model(ctx.principal, ctx.group.name)

    async def reserve(self, ctx: CallContext) -> QuotaTicket:
        """Check the caller's team record, then reserve the call's estimate against every limit.

        A model a wildcard group serves reserves under the group's configured name (``openai/*``), so
        model group limits set on the pattern hold for all the names it serves together.

        Raises:
            PermissionDeniedError: 403 for a deleted team or a model the team may not use.
            QuotaExceededError / BudgetExceededError: 429 with Retry-After.
            QuotaUnavailableError: 503 when the quota store is down under ``fail_closed``.
        """
        team_limits = await self._team_limits(ctx.principal, ctx.model_group or ctx.model)
        group = ctx.configured_group or ctx.model
        try:
            return await self._quota.reserve(
                ctx.principal,
                model_group=group,
                prompt_tokens=ctx.estimated_prompt_tokens,
                max_tokens=ctx.max_tokens,
                team_limits=team_limits,
            )
        except QuotaExceededError as exc:
            if self._audit is not None:
                self._audit.refused(exc.code, exc.scope, group)
            raise

    async def _team_limits(self, principal: Principal, group: str) -> tuple[QuotaLimit, ...]:
        """The caller's team record: 403 if deleted or the model is not the team's; its limits and budget.

        Team records are cached per worker for ``team_cache_ttl_s``, like keys.
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
        if team.allowed_models and not any(matches(allowed, group) for allowed in team.allowed_models):
            raise PermissionDeniedError(
                f"The team {team.team_id!r} may not use the model {group!r}.",
                param="model",
                code="model_not_allowed",
            )
        return (*team.limits, *((team.budget.as_limit(),) if team.budget else ()))
