"""What ``serve`` refuses to start with, checked by ``config validate`` too (exit 2, every problem).

Beyond the settings' own validation: an open gateway on a public address, a weak master key off
loopback, and several workers counting quotas each on their own while limits exist somewhere.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

import anyio

from routeiq_app.access_setup import key_store, team_store
from routeiq_app.audit_setup import audit_problems
from routeiq_app.otel_setup import otel_problems
from routeiq_app.settings import Settings
from routeiq_app.settings.schema import env_name

MIN_MASTER_KEY_LENGTH = 16
"""Shortest master key accepted on a non-loopback address."""


def startup_problems(settings: Settings, flags: Mapping[str, bool] | None = None) -> list[str]:
    """Every reason not to serve ``settings``.

    Args:
        settings: The validated settings.
        flags: Which ``serve`` flags were given (``host``, ``workers``), so messages name the flag.
    """
    given = flags or {}
    problems = [bind_problem(settings, host_flag=given.get("host", False))]
    problems.append(worker_state_problem(settings, workers_flag=given.get("workers", False)))
    problems += otel_problems(settings, os.environ)
    problems += audit_problems(settings)
    return [p for p in problems if p]


def _host_name(host_flag: bool) -> str:
    return "--host" if host_flag else env_name(("server", "host"))


def bind_problem(settings: Settings, *, host_flag: bool = False) -> str | None:
    """Off loopback: refuse an open gateway (unless allowed) and a master key too weak to guess at."""
    host = settings.server.host
    if is_loopback(host):
        return None
    master = settings.security.master_key
    where = f"{_host_name(host_flag)}={host!r}"
    if master is None:
        if settings.security.allow_open_non_loopback:
            return None
        return (
            f"{where}: binding a non-loopback address without a master key would expose the gateway "
            f"to anyone; set {env_name(('security', 'master_key'))} or, to accept the risk, "
            f"{env_name(('security', 'allow_open_non_loopback'))}=true"
        )
    if len(master) < MIN_MASTER_KEY_LENGTH or len(set(master)) < 4:
        return (
            f"{where}: the master key ({env_name(('security', 'master_key'))}) is too weak for a "
            f"non-loopback address: use at least {MIN_MASTER_KEY_LENGTH} random characters "
            "(for example `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return None


def worker_state_problem(settings: Settings, *, workers_flag: bool = False) -> str | None:
    """Several workers with in-memory quotas would each admit every limit: refuse when limits exist.

    Limits exist when the config sets some (global, team, model group) or a stored key or team has
    limits or a budget. Without any, in-memory quotas count nothing and several workers are fine.
    """
    workers = settings.server.workers
    if workers <= 1 or settings.quota.backend != "memory":
        return None
    found = _configured_limits(settings) or anyio.run(_stored_limits, settings)
    if found is None:
        return None
    name = "--workers" if workers_flag else env_name(("server", "workers"))
    return (
        f"{name}={workers} with {env_name(('quota', 'backend'))}='memory' and {found}: each worker "
        f"would count quotas on its own and admit {workers}x every limit; set "
        f"{env_name(('quota', 'backend'))}=redis (and quota.redis_url), or run one worker"
    )


def limits_unavailable(settings: Settings) -> str | None:
    """Why limits cannot be enforced exactly by this deployment (None when they can).

    With several workers counting quotas in memory each would admit every limit: then the admin API
    refuses keys and teams with limits or budgets (``serve`` refused to start if any existed).
    """
    workers = settings.server.workers
    if workers <= 1 or settings.quota.backend != "memory":
        return None
    return (
        f"{workers} workers count quotas in memory each (quota.backend: memory); set quota.backend: redis "
        "to enforce limits exactly"
    )


def _configured_limits(settings: Settings) -> str | None:
    quota = settings.quota
    for name, table in (
        ("quota.global_limits", quota.global_limits),
        ("quota.team_limits", quota.team_limits),
        ("quota.model_group_limits", quota.model_group_limits),
    ):
        if table:
            return f"limits in {name}"
    return None


async def _stored_limits(settings: Settings) -> str | None:
    """The first stored key or team with limits or a budget, named (pages through both stores)."""
    keys, teams = key_store(settings), team_store(settings)
    try:
        after: str | None = None
        while True:
            page = await keys.list_keys(limit=1000, after=after)
            for key in page.items:
                if key.revoked_at is None and (key.limits or key.budget):
                    return f"the key {key.key_id!r} has limits"
            if page.next_cursor is None:
                break
            after = page.next_cursor
        after = None
        while True:
            team_page = await teams.list_teams(limit=1000, after=after)
            for team in team_page.items:
                if team.limits or team.budget:
                    return f"the team {team.team_id!r} has limits"
            if team_page.next_cursor is None:
                return None
            after = team_page.next_cursor
    finally:
        await keys.close()
        await teams.close()


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
