"""The policy engine: ordered rules over the principal and the request, first match wins.

Rules come from config (see :class:`PolicyConfig`) and are compiled once; an engine never changes
after it is built, so a hot reload builds a new engine and swaps the reference in one assignment,
and requests in flight finish with the engine they started with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import msgspec

from routeiq_core.access.policy_match import Condition, compile_match
from routeiq_core.access.policy_rules import (
    Check,
    Decision,
    Effect,
    Explanation,
    PolicyConfig,
    PolicyRule,
    RequestFacts,
    RuleTrace,
)
from routeiq_core.errors import ConfigurationError, PermissionDeniedError


class _CompiledRule(NamedTuple):
    position: int
    name: str
    rule: PolicyRule
    conditions: tuple[Condition, ...]


class PolicyEngine:
    """Evaluates requests against ordered rules; immutable once built.

    Args:
        rules: The rules, in order.
        default: The decision when no rule matches.

    Raises:
        ConfigurationError: listing every invalid rule (bad CIDR, hours, duplicate names, ...).
    """

    __slots__ = ("_default", "_rules")
    _rules: tuple[_CompiledRule, ...]
    _default: Effect

    def __init__(self, rules: Sequence[PolicyRule] = (), default: Effect = "allow") -> None:
        problems: list[str] = []
        compiled: list[_CompiledRule] = []
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            path = f"policy.rules[{index}]"
            name = rule.name or f"rule-{index}"
            if name in seen:
                problems.append(f"{path}.name: {name!r} is used by an earlier rule")
            seen.add(name)
            if rule.action == "deny" and (rule.rewrite_model or rule.tags or rule.cost_preference):
                problems.append(f"{path}: a deny rule cannot also rewrite the model, set tags or cost")
            conditions = compile_match(rule.match, f"{path}.match", problems)
            compiled.append(_CompiledRule(position=index, name=name, rule=rule, conditions=conditions))
        if problems:
            raise ConfigurationError(problems)
        object.__setattr__(self, "_rules", tuple(compiled))
        object.__setattr__(self, "_default", default)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a PolicyEngine is immutable; build a new one (cannot set {name!r})")

    @classmethod
    def from_config(cls, config: PolicyConfig | Mapping[str, Any]) -> PolicyEngine:
        """Build an engine from a :class:`PolicyConfig` or its mapping form (YAML ``policy:`` section)."""
        if not isinstance(config, PolicyConfig):
            try:
                config = msgspec.convert(config, PolicyConfig)
            except msgspec.ValidationError as exc:
                raise ConfigurationError([f"policy: {exc}"]) from exc
        return cls(config.rules, config.default)

    @property
    def default(self) -> Effect:
        """The decision when no rule matches."""
        return self._default

    @property
    def rules(self) -> tuple[PolicyRule, ...]:
        """The rules, in order."""
        return tuple(c.rule for c in self._rules)

    def evaluate(self, facts: RequestFacts) -> Decision:
        """The decision of the first rule that matches ``facts``, else the default."""
        for compiled in self._rules:
            if all(condition(facts).passed for condition in compiled.conditions):
                return _decide(compiled, facts)
        return self._default_decision(facts)

    def explain(self, facts: RequestFacts) -> Explanation:
        """Dry-run ``facts``: the decision and every rule's conditions with the reason for each."""
        traces: list[RuleTrace] = []
        decision: Decision | None = None
        for compiled in self._rules:
            checks = tuple(condition(facts) for condition in compiled.conditions) or (
                Check(condition="always", passed=True, detail="the rule has no conditions"),
            )
            matched = all(check.passed for check in checks)
            decisive = matched and decision is None
            if decisive:
                decision = _decide(compiled, facts)
            traces.append(
                RuleTrace(
                    index=compiled.position,
                    name=compiled.name,
                    action=compiled.rule.action,
                    matched=matched,
                    decisive=decisive,
                    checks=checks,
                )
            )
        return Explanation(
            decision=decision or self._default_decision(facts), default=self._default, rules=tuple(traces)
        )

    def _default_decision(self, facts: RequestFacts) -> Decision:
        return Decision(
            allowed=self._default == "allow",
            reason=f"no rule matched; the default is {self._default}",
            model=facts.model,
        )


def _decide(compiled: _CompiledRule, facts: RequestFacts) -> Decision:
    rule = compiled.rule
    if rule.action == "deny":
        return Decision(
            allowed=False,
            rule=compiled.name,
            reason=rule.reason or f"denied by policy rule {compiled.name!r}",
            model=facts.model,
        )
    return Decision(
        allowed=True,
        rule=compiled.name,
        reason=rule.reason,
        model=rule.rewrite_model or facts.model,
        tags=rule.tags,
        cost_preference=rule.cost_preference,
    )


def enforce(decision: Decision) -> Decision:
    """Return an allowing decision; raise 403 (``policy_denied``) with the rule and reason otherwise."""
    if decision.allowed:
        return decision
    where = f"policy rule {decision.rule!r}" if decision.rule else "the default policy"
    raise PermissionDeniedError(f"Request denied by {where}: {decision.reason}", code="policy_denied")
