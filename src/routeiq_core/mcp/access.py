"""Who may see and call which upstream tool: config filters, key and team allow-lists, policy rules.

One function decides, and both listing and calling ask it, so a tool hidden from a caller's
``tools/list`` cannot be called by that caller either (its call answers exactly like a missing tool).

Tools are named ``server/tool`` for the patterns (shell-style globs: ``github/*``, ``*/search``):

- a server's config ``tools: {allow, deny}`` (globs on the upstream's own tool name);
- the key's ``metadata.allowed_tools`` and the team's ``metadata.allowed_tools`` (lists of globs on
  ``server/tool``; absent or empty: every tool);
- policy rules with ``surfaces: [mcp]`` and ``operations: [tool_call]``, whose ``models`` globs
  match ``server/tool`` (the first matching rule decides, as for model calls).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

import msgspec

from routeiq_core.access.policy import PolicyEngine
from routeiq_core.access.principal import Principal
from routeiq_core.operations import TOOL_CALL
from routeiq_core.surfaces import MCP_SURFACE

__all__ = ["ALLOWED_TOOLS", "McpFacts", "ToolAccess", "ToolFilter", "tool_patterns"]

ALLOWED_TOOLS = "allowed_tools"
"""The metadata entry of a key or team that lists the ``server/tool`` patterns it may use."""


class ToolFilter(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A server's tool filter from config: globs on the upstream's own tool names.

    Attributes:
        allow: Only these tools are exposed (empty: all).
        deny: These tools are never exposed (deny wins over allow).
    """

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

    def permits(self, tool: str) -> bool:
        """Whether the filter lets ``tool`` through."""
        if any(fnmatchcase(tool, pattern) for pattern in self.deny):
            return False
        return not self.allow or any(fnmatchcase(tool, pattern) for pattern in self.allow)


def tool_patterns(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``allowed_tools`` patterns in a key's or team's metadata (a string counts as one pattern).

    A value that is neither a string nor a list of strings allows nothing (``("",)`` matches no tool),
    so a mistyped entry fails closed.
    """
    value = metadata.get(ALLOWED_TOOLS)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return ("",)


class McpFacts(msgspec.Struct, frozen=True, kw_only=True):
    """A tool call as the policy engine sees it: ``model`` is ``server/tool``.

    Implements :class:`routeiq_core.access.RequestFacts`. A tool call generates no tokens and
    carries no tool definitions, so ``max_tokens`` is 0 and ``tools`` false: a rule on long answers
    or on requests with tools does not catch it.
    """

    principal: Principal
    model: str
    source_ip: str | None = None
    received_at: float = 0.0
    operation: str = TOOL_CALL
    surface: str = MCP_SURFACE
    max_tokens: int | None = 0
    stream: bool = False
    tools: bool = False

    @property
    def at(self) -> dt.datetime:
        """When the call arrived, timezone-aware (UTC)."""
        return dt.datetime.fromtimestamp(self.received_at, dt.UTC)


class ToolAccess:
    """Decides whether a caller may see (and so call) one upstream tool.

    Args:
        filters: Each server's config filter (a server without one exposes every tool).
        policy: The policy engine (skipped when it has no rules and allows by default).
        clock: Unix time, for policy time windows.
    """

    def __init__(
        self,
        filters: Mapping[str, ToolFilter],
        policy: PolicyEngine,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._filters = dict(filters)
        self._policy = policy
        self._policy_free = not policy.rules and policy.default == "allow"
        self._clock = clock

    def permits(
        self,
        principal: Principal,
        server: str,
        tool: str,
        *,
        team_patterns: Sequence[str] = (),
        source_ip: str | None = None,
    ) -> bool:
        """Whether ``principal`` may see and call ``tool`` of ``server``."""
        config = self._filters.get(server)
        if config is not None and not config.permits(tool):
            return False
        qualified = f"{server}/{tool}"
        for patterns in (tool_patterns(principal.metadata), team_patterns):
            if patterns and not any(fnmatchcase(qualified, pattern) for pattern in patterns):
                return False
        if self._policy_free:
            return True
        facts = McpFacts(principal=principal, model=qualified, source_ip=source_ip, received_at=self._clock())
        return self._policy.evaluate(facts).allowed
