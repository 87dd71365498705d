"""``routeiq routers list|publish|promote|rollback|history``: router versions in the registry.

The registry is the one ``routing.registry`` configures (``--config``), or a directory (``--registry``).
Gateways serving a routed name with ``registry_name`` pick a promotion up within
``routing.registry.poll_interval_s``, on every worker, with no reload.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import msgspec

from routeiq_adapters.artifacts import FilesystemArtifactRegistry
from routeiq_app.registry_setup import artifact_registry
from routeiq_app.settings.loader import load_settings_with_notices
from routeiq_app.settings.schema import CONFIG_ENV
from routeiq_core import __version__
from routeiq_core.errors import ConfigurationError, NotFoundError, RouteIQError
from routeiq_core.routing.learned.artifact_registry import (
    ArtifactRegistry,
    Canary,
    DataSource,
    Lineage,
    rollback,
)

EXIT_FAILED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``routers ...`` to the ``routeiq`` command."""
    routers = subparsers.add_parser("routers", help="list, publish, promote and roll back router versions")
    commands = routers.add_subparsers(title="routers commands", required=True)

    def command(
        name: str, help_text: str, run: Callable[[argparse.Namespace, ArtifactRegistry], Awaitable[Any]]
    ) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_text)
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--config", help=f"YAML settings file (default: ${CONFIG_ENV}): its routing.registry"
        )
        where.add_argument("--registry", metavar="DIR", help="a registry directory (the filesystem backend)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.set_defaults(run=lambda args: _run(args, run))
        return parser

    listing = command("list", "names, or the versions of one name with the promoted one marked", _list)
    listing.add_argument("name", nargs="?", help="a registry name")
    publish = command("publish", "store an artifact directory as the next version of a name", _publish)
    publish.add_argument("name")
    publish.add_argument("artifact", type=Path, help="a directory saved by `routeiq train`")
    publish.add_argument("--report", type=Path, help="its evaluation report (JSON)")
    publish.add_argument(
        "--data", type=Path, action="append", default=[], help="a training table (repeatable)"
    )
    publish.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a training parameter"
    )
    publish.add_argument("--parent", type=int, help="the version it was retrained from")
    promote = command("promote", "serve a version (gateways follow within their poll interval)", _promote)
    promote.add_argument("name")
    promote.add_argument("version", type=int)
    promote.add_argument("--reason", default="", help="why (kept in the history)")
    back = command("rollback", "serve again the version promoted before the current one", _rollback)
    back.add_argument("name")
    back.add_argument("--reason", default="rollback")
    history = command("history", "every promotion of a name", _history)
    history.add_argument("name")
    canary = command("canary", "put a version on trial beside the promoted one (or --stop a trial)", _canary)
    canary.add_argument("name")
    canary.add_argument("version", type=int, nargs="?", help="the candidate (omit with --stop)")
    canary.add_argument("--share", type=float, default=0.1, help="share of calls the candidate answers")
    canary.add_argument("--min-samples", type=int, default=30, help="scored calls per arm before deciding")
    canary.add_argument(
        "--max-samples", type=int, default=5_000, help="undecided after this: keep the incumbent"
    )
    canary.add_argument("--margin", type=float, default=0.02, help="quality the candidate may lose and pass")
    canary.add_argument("--alpha", type=float, default=0.05, help="error rate of the sequential test")
    canary.add_argument(
        "--cost-tolerance", type=float, default=0.1, help="how much dearer per call it may be"
    )
    canary.add_argument("--stop", action="store_true", help="end the running trial (the promoted one serves)")


def _run(
    args: argparse.Namespace, run: Callable[[argparse.Namespace, ArtifactRegistry], Awaitable[Any]]
) -> int:
    registry = _registry(args)
    try:
        result = anyio.run(run, args, registry)
    except ConfigurationError:
        raise
    except RouteIQError as exc:  # no such version, a tampered artifact, the bucket unreachable
        print(f"routeiq: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(msgspec.json.encode(result).decode())
    else:
        print(_text(result))
    return 0


def _registry(args: argparse.Namespace) -> ArtifactRegistry:
    if args.registry:
        return FilesystemArtifactRegistry(args.registry)
    settings, notices = load_settings_with_notices(args.config)
    for notice in notices:
        print(f"routeiq: notice: {notice}", file=sys.stderr)
    return artifact_registry(settings.routing.registry)


async def _list(args: argparse.Namespace, registry: ArtifactRegistry) -> Any:
    if args.name is None:
        return await registry.names()
    promoted = await registry.promoted(args.name)
    return {
        "name": args.name,
        "promoted": promoted.version if promoted is not None else None,
        "versions": await registry.versions(args.name),
    }


async def _publish(args: argparse.Namespace, registry: ArtifactRegistry) -> Any:
    report = None
    if args.report is not None:
        try:
            report = msgspec.json.decode(args.report.read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            raise ConfigurationError([f"--report: cannot read {args.report}: {exc}"]) from None
    lineage = Lineage(
        data=tuple(data_source(path) for path in args.data),
        code_version=__version__,
        parameters=dict(_param(text) for text in args.param),
        parent=args.parent,
    )
    return await registry.publish(args.name, args.artifact, report=report, lineage=lineage)


async def _promote(args: argparse.Namespace, registry: ArtifactRegistry) -> Any:
    return await registry.promote(args.name, args.version, by=_who(), reason=args.reason)


async def _rollback(args: argparse.Namespace, registry: ArtifactRegistry) -> Any:
    return await rollback(registry, args.name, by=_who(), reason=args.reason)


async def _history(args: argparse.Namespace, registry: ArtifactRegistry) -> Any:
    return await registry.history(args.name)


async def _canary(args: argparse.Namespace, registry: ArtifactRegistry) -> Any:
    running = await registry.canary(args.name)
    if args.stop:
        if running is None or not await registry.end_canary(args.name, running.candidate):
            raise NotFoundError(f"{args.name!r} has no canary running.", code="no_canary")
        return running
    promoted = await registry.promoted(args.name)
    problems = []
    if args.version is None:
        problems.append("give the candidate version (or --stop)")
    if promoted is None:
        problems.append(f"{args.name!r} has no promoted version to compare with: promote one first")
    elif args.version == promoted.version:
        problems.append(f"version {args.version} is already the promoted one")
    if not (0 < args.share < 1 and 0 < args.alpha < 1 and args.margin >= 0 and args.cost_tolerance >= 0):
        problems.append("--share and --alpha must be between 0 and 1, --margin and --cost-tolerance >= 0")
    if not 1 <= args.min_samples <= args.max_samples:
        problems.append("--min-samples must be at least 1 and at most --max-samples")
    if problems or promoted is None:
        raise ConfigurationError(problems)
    trial = Canary(
        name=args.name,
        candidate=args.version,
        incumbent=promoted.version,
        share=args.share,
        started_at=time.time(),
        by=_who(),
        min_samples=args.min_samples,
        max_samples=args.max_samples,
        margin=args.margin,
        alpha=args.alpha,
        cost_tolerance=args.cost_tolerance,
    )
    await registry.start_canary(trial)
    return trial


def data_source(path: Path) -> DataSource:
    """A table's lineage entry: its path, SHA-256 and row count (its non-empty lines)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError([f"--data: cannot read {path}: {exc}"]) from None
    return DataSource(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        rows=sum(1 for line in data.split(b"\n") if line.strip()),
    )


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigurationError([f"--param {text!r}: expected KEY=VALUE"])
    try:
        return key, msgspec.json.decode(value)
    except msgspec.DecodeError:
        return key, value


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def _text(result: Any) -> str:
    data = msgspec.to_builtins(result)
    if isinstance(data, list) and all(isinstance(item, str) for item in data):
        return "\n".join(data) or "(no routers in the registry)"
    if isinstance(data, dict) and "versions" in data:
        lines = [f"{data['name']}: promoted {data['promoted'] if data['promoted'] is not None else '-'}"]
        for v in data["versions"]:
            mark = "*" if v["version"] == data["promoted"] else " "
            lines.append(
                f" {mark} v{v['version']}  digest {v['digest'][:12]}  report {v.get('report') or '-'}"
            )
        return "\n".join(lines)
    if isinstance(data, list):
        return "\n".join(f"v{p['version']} (was {p['previous']}) by {p['by']}: {p['reason']}" for p in data)
    if isinstance(data, dict) and "previous" in data:
        return f"{data['name']}: now v{data['version']} (was {data['previous']})"
    if isinstance(data, dict) and "candidate" in data:
        share, incumbent = data["share"], data["incumbent"]
        return f"{data['name']}: canary v{data['candidate']} on {share:.0%} of calls (vs v{incumbent})"
    return f"{data['name']}: published v{data['version']} (digest {data['digest'][:12]})"
