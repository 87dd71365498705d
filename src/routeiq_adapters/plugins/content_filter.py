"""``content_filter``: category and keyword policies, with allow and deny lists per team."""

from __future__ import annotations

from typing import Any

import msgspec

from routeiq_adapters.plugins._common import GuardAction, decode_body, enforce
from routeiq_adapters.plugins.deps import PluginDeps
from routeiq_core.guardrails.chat_text import request_texts, response_texts
from routeiq_core.guardrails.content_filter import Category, ContentFilter, TeamPolicy
from routeiq_core.plugins.port import BasePlugin, Capability, FailureMode, PluginContext, PluginSpec

NAME = "content_filter"


class CategoryConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One category: whole-word keywords or phrases, and regular expressions (case-insensitive)."""

    name: str
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


class TeamConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A team's exceptions: ``allow`` category names or exact terms; ``deny`` extra terms."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


class ContentFilterConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``plugins.content_filter``.

    Attributes:
        categories: The categories every team is checked against.
        teams: Per-team allow and deny lists, by team name.
        action: ``block`` refuses (400); ``flag`` lets the text through, counted and logged.
        responses: Also check non-streamed answers.
    """

    categories: tuple[CategoryConfig, ...] = ()
    teams: dict[str, TeamConfig] = msgspec.field(default_factory=dict)
    action: GuardAction = "block"
    responses: bool = False


class ContentFilterPlugin(BasePlugin):
    """Checks request (and optionally answer) texts against the categories for the caller's team.

    Args:
        config: The plugin's settings.
        deps: The app's services (metrics).

    Raises:
        ValueError: A pattern does not compile, or a category name repeats.
    """

    def __init__(self, config: ContentFilterConfig, deps: PluginDeps) -> None:
        self.config = config
        self._deps = deps
        self._filter = ContentFilter(
            [Category(name=c.name, keywords=c.keywords, patterns=c.patterns) for c in config.categories],
            {team: TeamPolicy(allow=t.allow, deny=t.deny) for team, t in config.teams.items()},
        )
        caps = {Capability.REQUEST_READ}
        if config.responses:
            caps.add(Capability.RESPONSE_READ)
        self.spec = PluginSpec(
            name=NAME, version="1", capabilities=frozenset(caps), failure_mode=FailureMode.ABORT
        )

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | None:
        """Refuse (or flag) a request matching a category, with the team's (``ctx.team``) exceptions."""
        verdict = self._filter.check(request_texts(ctx.payload), team=ctx.team)
        enforce(
            verdict,
            guardrail=NAME,
            action=self.config.action,
            stage="request",
            ctx=ctx,
            metrics=self._deps.metrics,
        )
        return None

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """With ``responses``: refuse (or flag) a non-streamed answer matching a category."""
        answer = decode_body(body) if self.config.responses and body is not None else None
        if answer is not None:
            verdict = self._filter.check(response_texts(answer), team=ctx.team)
            enforce(
                verdict,
                guardrail=NAME,
                action=self.config.action,
                stage="response",
                ctx=ctx,
                metrics=self._deps.metrics,
            )
        return None
