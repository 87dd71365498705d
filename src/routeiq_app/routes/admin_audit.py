"""``/admin/audit``: read the audit log and its latest signed checkpoint (``audit.log.read``)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from routeiq_adapters.audit import Ed25519NoteVerifier
from routeiq_app.audit_setup import audit_origin, trusted_verifiers
from routeiq_app.settings import Settings
from routeiq_core.access import Principal
from routeiq_core.audit import (
    MAX_PAGE,
    AuditEntry,
    AuditQuery,
    AuditTrail,
    NoteError,
    StoredCheckpoint,
    VerifyResult,
    split_notes,
)
from routeiq_core.audit.note import parse_checkpoint, parse_note


class AuditEntryView(msgspec.Struct, kw_only=True):
    """One entry: its place in the chain and the event (None if its bytes no longer decode)."""

    seq: int
    prev_hash: str
    entry_hash: str
    event: dict[str, Any] | None


class CheckpointView(msgspec.Struct, kw_only=True):
    """A signed checkpoint: the size and root it vouches for, when it was made, the signed note."""

    size: int
    root: str | None
    at: float
    note: str


class AuditPage(msgspec.Struct, kw_only=True):
    """One page of the log in ``seq`` order; pass ``next_from`` as ``from`` for the next."""

    entries: list[AuditEntryView]
    next_from: int | None
    checkpoint: CheckpointView | None


def entry_view(entry: AuditEntry) -> AuditEntryView:
    """The API view of a stored entry."""
    try:
        body = msgspec.json.decode(entry.body)
        event = body.get("event") if isinstance(body, dict) else None
    except msgspec.DecodeError:
        event = None
    return AuditEntryView(
        seq=entry.seq,
        prev_hash=entry.prev_hash,
        entry_hash=entry.entry_hash,
        event=event if isinstance(event, dict) else None,
    )


def checkpoint_view(checkpoint: StoredCheckpoint) -> CheckpointView:
    """The API view of a stored checkpoint."""
    try:
        root: str | None = base64.b64encode(parse_checkpoint(parse_note(checkpoint.note)[0]).root).decode()
    except NoteError:
        root = None
    return CheckpointView(size=checkpoint.size, root=root, at=checkpoint.at, note=checkpoint.note)


@get("/admin/audit", summary="Audit log entries, in order, and the latest checkpoint", tags=["admin"])
async def audit_log(
    principal: NamedDependency[Principal],
    audit_trail: NamedDependency[AuditTrail],
    start: Annotated[int, QueryParameter(name="from", ge=0, description="The first seq.")] = 0,
    limit: FromQuery[int] = 100,
    action: FromQuery[str | None] = None,
    actor: FromQuery[str | None] = None,
    since: FromQuery[float | None] = None,
    until: FromQuery[float | None] = None,
) -> AuditPage:
    """Filter by ``action`` (``key.*`` for a prefix), ``actor`` and unix-time bounds; 1-1000 a page."""
    query = AuditQuery(start=start, limit=limit, action=action, actor=actor, since=since, until=until)
    entries, latest = await audit_trail.read(principal, query)
    return AuditPage(
        entries=[entry_view(e) for e in entries],
        next_from=entries[-1].seq + 1 if len(entries) == limit and limit <= MAX_PAGE else None,
        checkpoint=None if latest is None else checkpoint_view(latest),
    )


@get(
    "/admin/audit/checkpoint",
    summary="The latest signed checkpoint (C2SP signed note)",
    tags=["admin"],
    media_type="text/plain; charset=utf-8",
)
async def audit_checkpoint(
    principal: NamedDependency[Principal], audit_trail: NamedDependency[AuditTrail]
) -> Response[str]:
    """The note as text: origin, size, base64 root, an empty line, the signature lines."""
    latest = await audit_trail.latest_checkpoint(principal)
    return Response(content=latest.note, media_type="text/plain; charset=utf-8")


def _copy_notes(path: str | None) -> list[str]:
    """The notes of the external checkpoint copy (``audit.checkpoint_copy_path``), if it exists."""
    if not path or not Path(path).expanduser().is_file():
        return []
    return split_notes(Path(path).expanduser().read_text(encoding="utf-8"))


@get("/admin/audit/verify", summary="Verify the whole audit log (as `routeiq audit verify`)", tags=["admin"])
async def audit_verify(
    principal: NamedDependency[Principal],
    audit_trail: NamedDependency[AuditTrail],
    settings: NamedDependency[Settings],
) -> VerifyResult:
    """Every hash, link, sequence number, Merkle root and checkpoint signature, checked.

    With the keys the gateway trusts (its signing key and ``audit.verify_keys``) and the external
    checkpoint copy (``audit.checkpoint_copy_path``), like ``routeiq audit verify --config``.
    ``ok`` false names the first failing entry (``index``) and the ``reason``; 404 when the log is off.
    """
    verifiers = trusted_verifiers(settings)
    if audit_trail.checkpoints is not None:
        origin = audit_origin(settings)
        verifiers.insert(0, Ed25519NoteVerifier.from_text(audit_trail.checkpoints.verifier_key, origin))
    try:
        notes = await anyio.to_thread.run_sync(_copy_notes, settings.audit.checkpoint_copy_path)
    except (OSError, NoteError) as exc:
        copy = settings.audit.checkpoint_copy_path
        return VerifyResult(ok=False, size=0, root="", reason=f"the checkpoint copy {copy}: {exc}")
    return await audit_trail.verify(principal, verifiers, notes)


audit_routes = (audit_log, audit_checkpoint, audit_verify)
