"""``routeiq audit verify`` (check a whole audit log offline) and ``routeiq audit keygen``.

``verify`` reads the log straight from its database (the gateway need not run), recomputes every
entry hash, chain link, sequence number and Merkle root, checks every stored checkpoint's signature
with the current or a rotated key, and the log against an external checkpoint copy. Exit status: 0
verified, 1 a check failed (``--json``: ``{"ok": false, "index": <first failing seq>, "reason": ...}``),
2 configuration problems (no such file, no trusted key, a bad key).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio
import msgspec

from routeiq_adapters.audit import (
    Ed25519CheckpointSigner,
    Ed25519NoteVerifier,
    PostgresAuditStore,
    SQLiteAuditStore,
)
from routeiq_app.access_setup import sqlite_path
from routeiq_app.audit_setup import audit_origin, audit_store, trusted_verifiers
from routeiq_app.settings.loader import load_settings_with_notices
from routeiq_app.settings.schema import CONFIG_ENV
from routeiq_core.audit import AuditStore, NoteError, VerifyResult, split_notes, verify_log
from routeiq_core.errors import ConfigurationError, RouteIQError

EXIT_FAILED = 1
DEFAULT_ORIGIN = "routeiq/audit"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit verify`` and ``audit keygen`` to the ``routeiq`` command."""
    audit = subparsers.add_parser("audit", help="verify the audit log, make checkpoint signing keys")
    commands = audit.add_subparsers(title="audit commands", required=True)
    verify = commands.add_parser(
        "verify",
        help="check every hash, link, sequence number, Merkle root and checkpoint signature",
        description="Verify the audit log offline: 0 verified, 1 a check failed (the first failing "
        "index is reported), 2 configuration problems.",
    )
    where = verify.add_mutually_exclusive_group()
    where.add_argument(
        "--config", help=f"YAML settings file (default: ${CONFIG_ENV}): its audit log and keys"
    )
    where.add_argument(
        "--sqlite", metavar="PATH", help="an audit SQLite file (its .key beside it is trusted)"
    )
    where.add_argument("--postgres", metavar="DSN", help="a PostgreSQL database holding the audit tables")
    verify.add_argument("--schema", default="public", help="PostgreSQL schema (with --postgres)")
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="an external copy of the checkpoints (default: audit.checkpoint_copy_path, when it exists)",
    )
    verify.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="VKEY",
        help="also trust this verifier key (repeatable; e.g. a rotated key)",
    )
    verify.add_argument("--origin", default=None, help="the key name of bare base64 --key values")
    verify.add_argument("--json", action="store_true", help="print the result as one JSON object")
    verify.set_defaults(run=verify_command)
    keygen = commands.add_parser("keygen", help="print a new Ed25519 checkpoint signing key and its vkey")
    keygen.add_argument("--origin", default=None, help="the key name (default: the configured origin)")
    keygen.add_argument("--config", help=f"YAML settings file (default: ${CONFIG_ENV})")
    keygen.add_argument("--json", action="store_true", help="print one JSON object")
    keygen.set_defaults(run=keygen_command)


def _source(args: argparse.Namespace) -> tuple[AuditStore, list[Ed25519NoteVerifier], Path | None]:
    """The store to verify, the keys to trust, the external copy: from the flags or the settings."""
    origin = args.origin or DEFAULT_ORIGIN
    try:
        extra = [Ed25519NoteVerifier.from_text(text, origin) for text in args.key]
    except ValueError as exc:
        raise ConfigurationError([f"--key: {exc}"]) from None
    external = Path(args.checkpoint) if args.checkpoint else None
    if args.sqlite:
        path = Path(args.sqlite)
        if not path.is_file():
            raise ConfigurationError([f"--sqlite: no such file: {path}"])
        key_file = path.with_suffix(".key")
        if key_file.is_file():
            extra.insert(0, Ed25519CheckpointSigner.from_text(key_file.read_text(), origin).verifier)
        return SQLiteAuditStore(path), extra, external
    if args.postgres:
        return PostgresAuditStore(args.postgres, schema=args.schema), extra, external
    settings, notices = load_settings_with_notices(args.config)
    for notice in notices:
        print(f"routeiq: notice: {notice}", file=sys.stderr)
    try:
        store = audit_store(settings)
        verifiers = trusted_verifiers(settings) + extra
    except ValueError as exc:
        raise ConfigurationError([str(exc)]) from None
    if store is None:
        raise ConfigurationError(["audit.enabled is false: there is no audit log to verify"])
    if isinstance(store, SQLiteAuditStore):
        path = Path(sqlite_path(settings, "audit"))
        if not path.is_file():
            raise ConfigurationError([f"no audit log at {path} (keys.sqlite_path, audit.backend)"])
    copy = settings.audit.checkpoint_copy_path
    if external is None and copy and Path(copy).is_file():
        external = Path(copy)
    return store, verifiers, external


def verify_command(args: argparse.Namespace) -> int:
    """``routeiq audit verify``."""
    store, verifiers, external = _source(args)
    if not verifiers:
        raise ConfigurationError(
            ["no trusted checkpoint key: pass --key VKEY (`routeiq audit keygen` prints one) or --config"]
        )
    notes: list[str] = []
    if external is not None:
        try:
            notes = split_notes(external.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError([f"--checkpoint: cannot read {external}: {exc}"]) from None
        except NoteError as exc:
            return _report(args, VerifyResult(ok=False, size=0, root="", reason=f"{external}: {exc}"))
    try:
        result: VerifyResult = anyio.run(_verify, store, verifiers, notes)
    except RouteIQError as exc:
        print(f"routeiq: cannot read the audit log: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    return _report(args, result)


async def _verify(store: AuditStore, verifiers: list[Ed25519NoteVerifier], notes: list[str]) -> VerifyResult:
    try:
        return await verify_log(store, verifiers, notes)
    finally:
        await store.close()


def _report(args: argparse.Namespace, result: VerifyResult) -> int:
    if args.json:
        print(msgspec.json.encode(result).decode())
    elif result.ok:
        print(
            f"OK: {result.size} entries, {result.checkpoints} stored and {result.external_checkpoints} "
            f"external checkpoint(s) verified; root {result.root}"
        )
    else:
        where = "" if result.index is None else f" at index {result.index}"
        print(f"FAILED{where}: {result.reason}")
    return 0 if result.ok else EXIT_FAILED


def keygen_command(args: argparse.Namespace) -> int:
    """``routeiq audit keygen``: a new key; the private half goes in ``audit.signing_key`` (a secret)."""
    name = args.origin
    if name is None:
        settings, _ = load_settings_with_notices(args.config)
        name = audit_origin(settings)
    try:
        signer = Ed25519CheckpointSigner.generate(name)
    except ValueError as exc:
        raise ConfigurationError([f"--origin: {exc}"]) from None
    if args.json:
        out = {"signing_key": signer.signing_key_text(), "verify_key": signer.verifier_key}
        print(msgspec.json.encode(out).decode())
    else:
        print(f"signing_key: {signer.signing_key_text()}")
        print(f"verify_key: {signer.verifier_key}")
    print(
        "routeiq: keep signing_key secret (audit.signing_key: os.environ/ROUTEIQ_AUDIT_SIGNING_KEY); "
        "after a rotation, list the old verify_key in audit.verify_keys",
        file=sys.stderr,
    )
    return 0
