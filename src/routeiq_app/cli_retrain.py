"""``routeiq retrain``: train a routed name's next router from the data its gateway collected.

Reads the full rows exploration kept for the routed name (``routing.exploration.dataset_dir``), adds
any ``--seed`` tables (the same model names), trains with ``routeiq train``'s machinery, and
publishes the artifact as the next version of the name's ``registry_name`` with its lineage (every
table's hash and rows, the parameters, the promoted version it was retrained from). ``--canary``
then puts it on trial beside the promoted version; without it, promote it yourself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import anyio

from routeiq_adapters.routing_data import JsonlRoutingDataset
from routeiq_app import cli_routers, cli_routing
from routeiq_app.registry_setup import artifact_registry
from routeiq_app.settings import Settings
from routeiq_app.settings.loader import load_settings_with_notices
from routeiq_app.settings.schema import CONFIG_ENV
from routeiq_core import __version__
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing.learned.artifact_registry import (
    ArtifactRegistry,
    ArtifactVersion,
    Canary,
    DataSource,
    Lineage,
)

MIN_ROWS = 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``retrain`` to the ``routeiq`` command."""
    retrain = subparsers.add_parser(
        "retrain", help="train a routed name's next router from the collected data, and publish it"
    )
    retrain.add_argument("routed", help="the routed name (routing.routers[].name) with a registry_name")
    retrain.add_argument("--config", help=f"YAML settings file (default: ${CONFIG_ENV})")
    retrain.add_argument("--seed", type=Path, action="append", default=[], help="also train on this table")
    retrain.add_argument("--strategy", default="knn", help="a router kind, or auto (default knn)")
    retrain.add_argument("--min-rows", type=int, default=MIN_ROWS, help="refuse to train on fewer rows")
    retrain.add_argument(
        "--canary", type=float, metavar="SHARE", help="start a canary on this share of calls"
    )
    retrain.add_argument("--seed-value", type=int, default=0, help="training seed")
    retrain.set_defaults(run=retrain_command)


def retrain_command(args: argparse.Namespace) -> int:
    """``routeiq retrain``."""
    settings, notices = load_settings_with_notices(args.config)
    for notice in notices:
        print(f"routeiq: notice: {notice}", file=sys.stderr)
    name = _registry_name(settings, args.routed)
    dataset = JsonlRoutingDataset(settings.routing.exploration.dataset_dir)
    collected = dataset.path(args.routed)
    tables = [path for path in (collected, *args.seed) if path.is_file()]
    sources = [cli_routers.data_source(path) for path in tables]  # each table read (and hashed) once
    rows = sum(source.rows for source in sources)
    if rows < args.min_rows:
        raise ConfigurationError(
            [f"{rows} rows to train on ({collected}, --seed); need {args.min_rows}: explore longer"]
        )
    registry = artifact_registry(settings.routing.registry)
    with tempfile.TemporaryDirectory(prefix="routeiq-retrain-") as work:
        combined = Path(work) / "table.jsonl"
        with combined.open("wb") as out:
            for path in tables:
                out.write(path.read_bytes().rstrip(b"\n") + b"\n")
        artifact = Path(work) / "router"
        trained = _train(combined, artifact, args.strategy, args.seed_value)
        if trained != 0:
            return trained
        version = anyio.run(_publish, registry, name, artifact, sources, rows, args)
    print(f"{name}: published v{version.version} from {rows} rows ({', '.join(map(str, tables))})")
    if args.canary is not None:
        print(f"{name}: canary v{version.version} on {args.canary:.0%} of calls")
    return 0


async def _publish(
    registry: ArtifactRegistry,
    name: str,
    artifact: Path,
    sources: list[DataSource],
    rows: int,
    args: argparse.Namespace,
) -> ArtifactVersion:
    promoted = await registry.promoted(name)
    lineage = Lineage(
        data=tuple(sources),
        code_version=__version__,
        parameters={"strategy": args.strategy, "seed": args.seed_value, "rows": rows},
        parent=promoted.version if promoted is not None else None,
    )
    report = {"rows": rows, "tables": [source.path for source in sources], "strategy": args.strategy}
    version = await registry.publish(name, artifact, report=report, lineage=lineage)
    if args.canary is not None:
        if promoted is None:
            raise ConfigurationError(
                [f"{name!r} has nothing promoted: promote v{version.version} instead of a canary"]
            )
        await registry.start_canary(
            Canary(
                name=name,
                candidate=version.version,
                incumbent=promoted.version,
                share=args.canary,
                started_at=time.time(),
                by="retrain",
            )
        )
    return version


def _train(table: Path, out: Path, strategy: str, seed: int) -> int:
    """``routeiq train`` on ``table`` (its own parser, so every train option keeps its meaning)."""
    parser = argparse.ArgumentParser(prog="routeiq")
    cli_routing.register(parser.add_subparsers())
    argv = ["train", "--data", str(table), "--out", str(out), "--strategy", strategy, "--seed", str(seed)]
    args = parser.parse_args([*argv, "--quiet"])
    status: int = args.run(args)
    return status


def _registry_name(settings: Settings, routed: str) -> str:
    entry = next((r for r in settings.routing.routers if r.name == routed), None)
    if entry is None or entry.registry_name is None:
        raise ConfigurationError(
            [f"routing.routers: no routed name {routed!r} with a registry_name (retrain publishes there)"]
        )
    return entry.registry_name
