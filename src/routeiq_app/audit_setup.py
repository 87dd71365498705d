"""Building the audit log from the settings, for the container and ``routeiq audit``."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from routeiq_adapters.audit import (
    Ed25519CheckpointSigner,
    Ed25519NoteVerifier,
    FileCheckpointSink,
    InMemoryAuditStore,
    PostgresAuditStore,
    SQLiteAuditStore,
)
from routeiq_app.access_setup import IN_MEMORY, sqlite_path
from routeiq_app.settings import Settings
from routeiq_app.settings.schema import CONFIG_ENV
from routeiq_core.audit import SYSTEM_ACTOR, AuditEvent, AuditStore, AuditTrail, Checkpointer

logger = logging.getLogger("routeiq.audit")
_NOT_IN_NAMES = re.compile(r"[\s+]+")


def audit_backend(settings: Settings) -> str:
    """``sqlite``, ``postgres`` or ``memory``: ``audit.backend``, with ``auto`` following ``keys.backend``."""
    backend = settings.audit.backend
    return settings.keys.backend if backend == "auto" else backend


def audit_origin(settings: Settings) -> str:
    """The checkpoints' origin line (and signing key name): ``audit.origin`` or ``<service>/audit``."""
    if settings.audit.origin:
        return settings.audit.origin
    service = _NOT_IN_NAMES.sub("-", settings.observability.service_name).strip("-") or "routeiq"
    return f"{service}/audit"


def audit_store(settings: Settings) -> AuditStore | None:
    """The configured audit store (not yet opened); None when ``audit.enabled`` is false."""
    if not settings.audit.enabled:
        return None
    backend = audit_backend(settings)
    if backend == "memory":
        return InMemoryAuditStore()
    keys = settings.keys
    if backend == "postgres":
        if not keys.postgres_dsn:
            raise ValueError("audit.backend is postgres but keys.postgres_dsn is not set")
        return PostgresAuditStore(
            keys.postgres_dsn, schema=keys.postgres_schema, timeout_s=settings.audit.timeout_s
        )
    return SQLiteAuditStore(sqlite_path(settings, "audit"), busy_timeout_s=settings.audit.timeout_s)


def dev_key_path(settings: Settings) -> Path | None:
    """Where a development signing key lives without ``audit.signing_key``: beside the SQLite file.

    None for logs that do not persist (``memory``, ``:memory:``).
    """
    if audit_backend(settings) == "memory" or settings.keys.sqlite_path == IN_MEMORY:
        return None
    return Path(sqlite_path(settings, "audit")).with_suffix(".key")


def load_signing_key(value: str, origin: str) -> Ed25519CheckpointSigner:
    """The signer of ``audit.signing_key``: the key itself, or the path of a file holding it."""
    text = value.strip()
    try:
        return Ed25519CheckpointSigner.from_text(text, origin)
    except ValueError as exc:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(
                f"audit.signing_key is neither a signing key nor a readable file: {exc}"
            ) from None
    return Ed25519CheckpointSigner.from_text(path.read_text(encoding="utf-8"), origin)


def checkpoint_signer(settings: Settings) -> Ed25519CheckpointSigner:
    """The configured signing key; without one, a development key (generated once, with a warning)."""
    origin = audit_origin(settings)
    if settings.audit.signing_key:
        return load_signing_key(settings.audit.signing_key, origin)
    path = dev_key_path(settings)
    if path is None:
        logger.warning(
            "audit.signing_key is not set: checkpoints are signed with a key that dies with the process"
        )
        return Ed25519CheckpointSigner.generate(origin)
    signer = _dev_key(path, origin)
    logger.warning(
        "audit.signing_key is not set: checkpoints are signed with the development key in %s "
        "(verifier key %s); set audit.signing_key (`routeiq audit keygen`) in production",
        path,
        signer.verifier_key,
    )
    return signer


def _dev_key(path: Path, origin: str) -> Ed25519CheckpointSigner:
    """The key in ``path``, created (0600) if missing; workers racing to create it all get the same one."""
    if path.exists():
        return Ed25519CheckpointSigner.from_text(path.read_text(encoding="utf-8"), origin)
    signer = Ed25519CheckpointSigner.generate(origin)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (signer.signing_key_text() + "\n").encode())
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)  # atomic: the first worker's complete file wins, never a half-written one
    except FileExistsError:
        signer = Ed25519CheckpointSigner.from_text(path.read_text(encoding="utf-8"), origin)
    finally:
        temporary.unlink()
    return signer


def trusted_verifiers(
    settings: Settings, signer: Ed25519CheckpointSigner | None = None
) -> list[Ed25519NoteVerifier]:
    """The keys checkpoints may be signed with: the signing key's and ``audit.verify_keys``.

    Without ``signer``, the signing key is read from the settings (or the development key file, if it
    exists; none is generated).
    """
    origin = audit_origin(settings)
    verifiers = [Ed25519NoteVerifier.from_text(text, origin) for text in settings.audit.verify_keys]
    if signer is None and settings.audit.signing_key:
        signer = load_signing_key(settings.audit.signing_key, origin)
    elif signer is None and (path := dev_key_path(settings)) is not None and path.exists():
        signer = Ed25519CheckpointSigner.from_text(path.read_text(encoding="utf-8"), origin)
    if signer is not None:
        verifiers.insert(0, signer.verifier)
    return verifiers


def audit_problems(settings: Settings) -> list[str]:
    """Why the audit settings cannot work (checked before ``serve`` starts any worker)."""
    audit = settings.audit
    if not audit.enabled:
        return []
    problems = []
    if audit_backend(settings) == "postgres" and not settings.keys.postgres_dsn:
        problems.append("audit.backend is postgres but keys.postgres_dsn is not set")
    if audit.signing_key:
        try:
            load_signing_key(audit.signing_key, audit_origin(settings))
        except (ValueError, OSError) as exc:
            problems.append(_without(str(exc), audit.signing_key))
    for n, text in enumerate(audit.verify_keys):
        try:
            Ed25519NoteVerifier.from_text(text, audit_origin(settings))
        except ValueError as exc:
            problems.append(f"audit.verify_keys[{n}]: {exc}")
    copy = audit.checkpoint_copy_path
    if copy and not Path(copy).expanduser().parent.is_dir():
        problems.append(f"audit.checkpoint_copy_path: the folder of {copy!r} does not exist")
    return problems


def _without(message: str, secret: str) -> str:
    return message.replace(secret, "<redacted>")


def audit_trail(settings: Settings, store: AuditStore | None) -> AuditTrail:
    """The audit trail over ``store`` (a no-op trail without one)."""
    if store is None:
        return AuditTrail.off()
    audit = settings.audit
    sink = FileCheckpointSink(audit.checkpoint_copy_path) if audit.checkpoint_copy_path else None
    checkpoints = Checkpointer(
        store,
        checkpoint_signer(settings),
        origin=audit_origin(settings),
        sink=sink,
        every_entries=audit.checkpoint_every_entries,
        interval_s=audit.checkpoint_interval_s,
    )
    return AuditTrail(
        store,
        checkpoints,
        aggregate_window_s=audit.aggregate_window_s,
        max_groups=audit.aggregate_max_groups,
        timeout_s=audit.timeout_s,
    )


async def run_audit_trail(
    trail: AuditTrail, store: AuditStore | None, settings: Settings
) -> AsyncIterator[AuditTrail]:
    """Container Resource: migrate, record this worker's start, checkpoint and summarise in the background.

    At shutdown the last summaries and a final checkpoint are written before the store closes.
    """
    if store is None or trail.checkpoints is None:
        yield trail
        return
    await store.ensure_schema()
    await trail.record(
        AuditEvent(
            at=time.time(),
            action="config.load",
            actor=SYSTEM_ACTOR,
            details={
                "pid": os.getpid(),
                "config_file": os.environ.get(CONFIG_ENV),
                "model_list": len(settings.model_list),
                "policy_rules": len(settings.policy.rules),
                "checkpoint_key": trail.checkpoints.verifier_key,
            },
        )
    )
    stop = anyio.Event()
    task = asyncio.create_task(trail.run(stop))
    try:
        yield trail
    finally:
        stop.set()
        await task
        await store.close()
