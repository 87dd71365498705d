"""Category and keyword policies, with per-team allow and deny lists.

A category is a named list of keywords (whole words or phrases, case-insensitive, any run of
whitespace between the words of a phrase) and regular expressions (case-insensitive). A team's
policy may *allow* entries: a category name switches that category off for the team, any other
entry exempts that exact term. It may *deny* extra terms, reported under the category
:data:`DENIED_TERM`. Decisions name the category, never the matched text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

import msgspec

from routeiq_core.guardrails.verdict import PASSED, Verdict

DENIED_TERM = "denied_term"
"""The category reported for a team's own deny-list terms."""


class Category(msgspec.Struct, frozen=True, kw_only=True):
    """A named content category.

    Attributes:
        name: Reported when the category matches (``violence``, ``competitors``, ...).
        keywords: Words or phrases matched on word boundaries, case-insensitively.
        patterns: Regular expressions, matched case-insensitively.
    """

    name: str
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


class TeamPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """A team's exceptions to the categories.

    Attributes:
        allow: Category names switched off for the team, or exact terms exempted.
        deny: Extra terms blocked for the team (reported as :data:`DENIED_TERM`).
    """

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


def _keyword_regex(keywords: Iterable[str]) -> str | None:
    words = sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in words)
    return rf"(?<!\w)(?:{alternatives})(?!\w)"


def _compile(category: Category) -> re.Pattern[str] | None:
    parts = [p for p in (_keyword_regex(category.keywords), *category.patterns) if p]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None


def _normal(term: str) -> str:
    return " ".join(term.lower().split())


class _TeamMatcher(NamedTuple):
    rules: tuple[tuple[str, re.Pattern[str]], ...]
    exempt: frozenset[str]


class ContentFilter:
    """Checks texts against the categories, applying each team's allow and deny lists.

    Args:
        categories: The categories every team is checked against.
        teams: Per-team exceptions, by team name.

    Raises:
        ValueError: A regular expression does not compile, or a category name repeats.
    """

    def __init__(self, categories: Iterable[Category], teams: Mapping[str, TeamPolicy] | None = None) -> None:
        self._categories = tuple(categories)
        names = [c.name for c in self._categories]
        if len(set(names)) != len(names):
            raise ValueError("content filter category names must be unique")
        try:
            self._compiled = tuple((c.name, p) for c in self._categories if (p := _compile(c)) is not None)
        except re.error as exc:
            raise ValueError(f"content filter pattern does not compile: {exc}") from exc
        self._teams = MappingProxyType(dict(teams or {}))
        self._default = _TeamMatcher(self._compiled, frozenset())
        self._matchers: dict[str, _TeamMatcher] = {}

    def _matcher(self, team: str | None) -> _TeamMatcher:
        policy = self._teams.get(team) if team is not None else None
        if policy is None or team is None:
            return self._default
        matcher = self._matchers.get(team)
        if matcher is None:
            allowed = {_normal(a) for a in policy.allow}
            rules = [(name, p) for name, p in self._compiled if _normal(name) not in allowed]
            deny = _keyword_regex(policy.deny)
            if deny is not None:
                rules.insert(0, (DENIED_TERM, re.compile(deny, re.IGNORECASE)))
            matcher = _TeamMatcher(tuple(rules), frozenset(allowed))
            self._matchers[team] = matcher
        return matcher

    def check(self, texts: Iterable[str], team: str | None = None) -> Verdict:
        """The categories that match any of ``texts`` for ``team`` (deny-list terms first)."""
        matcher = self._matcher(team)
        found: list[str] = []
        for text in texts:
            for name, pattern in matcher.rules:
                if name in found:
                    continue
                if any(_normal(m.group()) not in matcher.exempt for m in pattern.finditer(text)):
                    found.append(name)
        return Verdict(flagged=True, categories=tuple(found)) if found else PASSED
