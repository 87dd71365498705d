"""What the use case reads of a provider's answer about a file or batch, and the records it makes."""

from __future__ import annotations

import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.errors import UpstreamError
from routeiq_core.provider_objects.records import MAX_SNAPSHOT_BYTES, ObjectKind, OwnedObject, owner_of


class AnsweredObject(msgspec.Struct):
    """What the gateway reads of a provider object as answered (the rest passes through)."""

    id: str
    status: str | None = None
    purpose: str | None = None
    endpoint: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None


_ANSWERED = msgspec.json.Decoder(AnsweredObject)


def read_answer(body: bytes, what: str, deployment_id: str) -> AnsweredObject:
    """The id and status of an answered object.

    Raises:
        UpstreamError: 502 when the answer is not an object with an id.
    """
    try:
        return _ANSWERED.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise UpstreamError(
            f"Deployment {deployment_id!r} answered a {what} call without an object id: {body[:120]!r}",
            status_code=502,
            deployment_id=deployment_id or None,
        ) from None


def snapshot(body: bytes, object_id: str, kind: ObjectKind) -> bytes:
    """The object kept for lists: as answered, or its id alone when it is unusually large."""
    if len(body) <= MAX_SNAPSHOT_BYTES:
        return body
    return msgspec.json.encode({"id": object_id, "object": kind})


def created_record(
    kind: ObjectKind,
    body: bytes,
    found: AnsweredObject,
    *,
    principal: Principal,
    deployment_id: str,
    model: str,
    created_at: float,
    purpose: str,
    status: str,
) -> OwnedObject:
    """The record of an object ``principal`` just created on ``deployment_id`` (answered ``body``)."""
    return OwnedObject(
        kind=kind,
        id=found.id,
        owner=owner_of(principal),
        team=principal.team,
        deployment_id=deployment_id,
        model=model,
        created_at=created_at,
        purpose=purpose,
        status=status,
        body=snapshot(body, found.id, kind),
    )


def output_record(batch: OwnedObject, file_id: str, created_at: float) -> OwnedObject:
    """The record of a batch's output or error file: its owner's, on its deployment."""
    body = {"id": file_id, "object": "file", "purpose": "batch_output", "created_at": int(created_at)}
    return OwnedObject(
        kind="file",
        id=file_id,
        owner=batch.owner,
        team=batch.team,
        deployment_id=batch.deployment_id,
        model=batch.model,
        created_at=created_at,
        purpose="batch_output",
        status="processed",
        body=msgspec.json.encode(body),
    )
