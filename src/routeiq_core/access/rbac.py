"""Role-based access control: roles grant dotted permissions, with wildcards.

A permission is a dotted name such as ``keys.write`` or ``mcp.tools.call``. A grant is a pattern of
the same shape where a ``*`` segment matches any one segment and a trailing ``*`` matches one or more
remaining segments: ``*`` grants everything, ``keys.*`` every key permission, ``*.read`` every
read permission of a top-level area.

Authentication failures are 401 (:class:`AuthenticationError`, raised by the authenticator); a known
principal lacking a permission, a team or a model is 403 (:class:`PermissionDeniedError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from routeiq_core.access.principal import Principal, Role
from routeiq_core.errors import PermissionDeniedError

ROLE_PERMISSIONS: Mapping[Role, frozenset[str]] = MappingProxyType(
    {
        "admin": frozenset({"*"}),
        "team_admin": frozenset(
            {
                "keys.*",
                "teams.read",
                "models.read",
                "spend.read",
                "requests.read",
                "policy.explain",
                "llm.call",
                "mcp.tools.*",
                "a2a.agents.read",
                "a2a.agents.call",
            }
        ),
        "member": frozenset(
            {
                "models.read",
                "llm.call",
                "requests.read",
                "mcp.tools.list",
                "mcp.tools.call",
                "a2a.agents.call",
            }
        ),
        "viewer": frozenset({"*.read", "mcp.tools.list"}),
        "auditor": frozenset({"audit.log.read"}),
    }
)
"""Default grants. ``teams.read``, ``keys.*`` and ``spend.read`` of a team admin are confined to its
team by :func:`can_manage`, ``requests.read`` by ``request_query_for`` (a member: its own key's calls);
admins alone hold ``config.reload``, ``teams.write``, ``a2a.agents.write``. ``audit.log.read`` has
three segments, so a viewer's ``*.read`` does not reach it: only admins and auditors read the audit
log (of every team)."""

ROLE_RANK: Mapping[Role, int] = MappingProxyType(
    {"viewer": 0, "member": 1, "team_admin": 2, "auditor": 3, "admin": 3}
)
"""Nobody issues a role ranked above its own. The auditor ranks with the admin because it reads every
team's audit log, so only admins issue auditor keys (an auditor, without ``keys.write``, issues none)."""


def grant_matches(grant: str, permission: str) -> bool:
    """Whether the pattern ``grant`` covers ``permission`` (see the module docstring)."""
    if grant == "*" or grant == permission:
        return True
    pattern, parts = grant.split("."), permission.split(".")
    for index, segment in enumerate(pattern):
        last = index == len(pattern) - 1
        if last and segment == "*":
            return len(parts) > index
        if index >= len(parts) or (segment != "*" and segment != parts[index]):
            return False
    return len(pattern) == len(parts)


def has_permission(
    principal: Principal, permission: str, table: Mapping[Role, Iterable[str]] = ROLE_PERMISSIONS
) -> bool:
    """Whether ``principal``'s role grants ``permission``."""
    return any(grant_matches(grant, permission) for grant in table.get(principal.role, ()))


def require(
    principal: Principal, permission: str, table: Mapping[Role, Iterable[str]] = ROLE_PERMISSIONS
) -> None:
    """Raise 403 unless ``principal`` holds ``permission``."""
    if not has_permission(principal, permission, table):
        raise PermissionDeniedError(
            f"The {principal.role!r} role of {principal.label!r} lacks the permission {permission!r}. "
            "Ask an admin for a key with a role that grants it.",
            code="permission_denied",
        )


def can_manage(principal: Principal, team: str | None) -> bool:
    """Whether ``principal`` may act on objects of ``team`` (None: objects of no team).

    Admins manage everything; anyone else only their own team, and never team-less objects.
    """
    if principal.role == "admin":
        return True
    return team is not None and principal.team == team


def require_team(principal: Principal, team: str | None) -> None:
    """Raise 403 unless ``principal`` may act on objects of ``team``."""
    if not can_manage(principal, team):
        target = f"team {team!r}" if team is not None else "objects of no team"
        raise PermissionDeniedError(
            f"{principal.label!r} may only manage its own team ({principal.team!r}), not {target}.",
            code="team_forbidden",
        )


def can_grant(principal: Principal, role: Role) -> bool:
    """Whether ``principal`` may issue a key with ``role`` (never a role above its own)."""
    return ROLE_RANK[role] <= ROLE_RANK[principal.role]


def require_model(principal: Principal, model_group: str) -> None:
    """Raise 403 unless the principal's key may call ``model_group``."""
    if not principal.allows_model(model_group):
        raise PermissionDeniedError(
            f"This key may not use the model {model_group!r}; "
            f"allowed: {', '.join(principal.allowed_models)}.",
            param="model",
            code="model_not_allowed",
        )
