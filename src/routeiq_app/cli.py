"""The ``routeiq`` command: serve, config validate/docs/import-litellm, migrate, audit, --version."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from routeiq_app import cli_audit, cli_migrate, cli_retrain, cli_routers, cli_routing, serving
from routeiq_app.catalog_builder import build_catalog
from routeiq_app.docs_pages import BLOCKS, with_block
from routeiq_app.serving import per_worker_notes
from routeiq_app.settings import Settings
from routeiq_app.settings.docs import render_reference
from routeiq_app.settings.litellm_import import import_litellm
from routeiq_app.settings.loader import load_settings_with_notices
from routeiq_app.settings.schema import CONFIG_ENV, METRICS_DIR_ENV, env_name
from routeiq_app.startup_checks import startup_problems
from routeiq_core import __version__
from routeiq_core.errors import ConfigurationError

EXIT_CONFIG = 2
DEFAULT_DOCS = "docs/configuration.md"
DEFAULT_DOCS_DIR = "docs"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``routeiq`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        status: int = args.run(args)
    except ConfigurationError as exc:
        for problem in exc.problems:
            print(f"routeiq: {problem}", file=sys.stderr)
        print(f"routeiq: {len(exc.problems)} configuration problem(s); nothing was started", file=sys.stderr)
        return EXIT_CONFIG
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="routeiq", description="RouteIQ AI gateway")
    parser.add_argument("--version", action="version", version=f"routeiq {__version__}")
    sub = parser.add_subparsers(title="commands")

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help=f"YAML settings file (default: ${CONFIG_ENV})")
    serve.add_argument("--host", help="bind address (server.host)")
    serve.add_argument("--port", help="port (server.port)")
    serve.add_argument("--workers", help="worker processes (server.workers)")
    serve.set_defaults(run=_serve)

    config = sub.add_parser("config", help="check or document the settings")
    config_sub = config.add_subparsers(title="config commands", required=True)
    validate = config_sub.add_parser("validate", help="validate a config file plus the environment")
    validate.add_argument("path", nargs="?", help=f"YAML file (default: ${CONFIG_ENV})")
    validate.set_defaults(run=_validate)
    docs = config_sub.add_parser("docs", help="write the configuration reference")
    docs.add_argument("--output", default=DEFAULT_DOCS, help=f"file to write (default: {DEFAULT_DOCS})")
    docs.add_argument(
        "--docs-dir",
        default=DEFAULT_DOCS_DIR,
        help=f"folder of the pages with generated tables: {', '.join(sorted({b[0] for b in BLOCKS}))} "
        f"(default: {DEFAULT_DOCS_DIR})",
    )
    docs.add_argument("--check", action="store_true", help="exit 1 if a page is out of date")
    docs.set_defaults(run=_docs)
    converter = config_sub.add_parser(
        "import-litellm", help="write the native RouteIQ config equivalent to a LiteLLM proxy config"
    )
    converter.add_argument("path", help="the LiteLLM config.yaml")
    converter.add_argument("-o", "--output", help="file to write (default: standard output)")
    converter.set_defaults(run=_import_litellm)
    cli_routing.register(sub)
    cli_migrate.register(sub)
    cli_audit.register(sub)
    cli_routers.register(sub)
    cli_retrain.register(sub)
    return parser


def _loaded(config_path: str | None = None) -> Settings:
    """Load the settings, telling the operator once which LiteLLM keys were ignored and why."""
    settings, notices = load_settings_with_notices(config_path)
    for notice in notices:
        print(f"routeiq: notice: {notice}", file=sys.stderr)
    return settings


def _validate(args: argparse.Namespace) -> int:
    settings = _loaded(args.path)
    catalog = build_catalog(settings, args.path or os.environ.get(CONFIG_ENV))
    problems = startup_problems(settings)
    if problems:
        raise ConfigurationError(problems)
    source = args.path or os.environ.get(CONFIG_ENV) or "defaults"
    groups = ", ".join(catalog.names()) or "none"
    print(f"OK: {source} with the ROUTEIQ_* environment is a valid configuration (model groups: {groups})")
    return 0


def _docs(args: argparse.Namespace) -> int:
    pages = {Path(args.output): render_reference()}
    for page, name, render in BLOCKS:
        target = Path(args.docs_dir) / page
        try:
            text = pages[target] if target in pages else target.read_text(encoding="utf-8")
            pages[target] = with_block(text, name, render())
        except (OSError, ValueError) as exc:
            print(f"{target}: {exc}", file=sys.stderr)
            return 1
    for target, text in pages.items():
        if args.check:
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            if current != text:
                print(f"{target} is out of date: run `routeiq config docs`", file=sys.stderr)
                return 1
            print(f"{target} is up to date")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    return 0


def _import_litellm(args: argparse.Namespace) -> int:
    text, notices = import_litellm(args.path)
    for notice in notices:
        print(f"routeiq: notice: {notice}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    # Flags become environment overrides so that every worker process loads the same settings.
    overrides = {
        ("server", "host"): args.host,
        ("server", "port"): args.port,
        ("server", "workers"): args.workers,
    }
    for path, value in overrides.items():
        if value is not None:
            os.environ[env_name(path)] = str(value)
    if args.config:
        os.environ[CONFIG_ENV] = str(Path(args.config).resolve())
    settings = _loaded()
    build_catalog(settings, os.environ.get(CONFIG_ENV))
    problems = startup_problems(
        settings, {"host": args.host is not None, "workers": args.workers is not None}
    )
    if problems:
        raise ConfigurationError(problems)
    # The workers publish their metrics here, so that any of them answers /metrics for the node.
    folder = tempfile.mkdtemp(prefix="routeiq-metrics-")
    os.environ[METRICS_DIR_ENV] = folder
    try:
        _run_server(settings)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _run_server(settings: Settings) -> None:
    if settings.security.master_key is None:
        print(
            f"routeiq: WARNING: no master key set; the gateway is OPEN to anyone who can reach "
            f"{settings.server.host}:{settings.server.port}",
            file=sys.stderr,
        )
    for note in per_worker_notes(settings):
        print(f"routeiq: note: {note}", file=sys.stderr)
    serving.run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
