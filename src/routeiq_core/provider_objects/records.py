"""Files and batches that live with a provider: who owns each, where it lives, and the store port.

A file uploaded through the gateway (``POST /v1/files``) is kept by the deployment that received it,
and a batch runs on the deployment holding its input file. The gateway keeps one record per object:
its owner (the virtual key that created it, and its team), the deployment and model group it lives
on, and the object as last answered (for lists). A key sees, reads, deletes and cancels only its own
objects; another key's id answers exactly like a missing one. Admins see every object.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.errors import ServiceUnavailableError

ObjectKind = Literal["file", "batch"]
"""What kind of provider object a record is."""
MAX_OBJECT_ID_CHARS = 128
"""Longest object id a store is asked for (OpenAI's are about 30 characters)."""
MAX_SNAPSHOT_BYTES = 64 * 1024
"""Largest object (as answered, JSON) kept for lists; a larger one is kept as its id alone."""
MAX_PAGE = 100
"""Most records one list call returns (OpenAI's ``limit`` bound for batches)."""


class ObjectStoreError(ServiceUnavailableError):
    """The ownership store failed (database unreachable, say): 503."""

    default_code = "object_store_unavailable"


class OwnedObject(msgspec.Struct, frozen=True, kw_only=True):
    """The gateway's record of one file or batch living with a provider.

    Attributes:
        kind: ``file`` or ``batch``.
        id: The provider's id (``file-...``, ``batch_...``).
        owner: The virtual key that created it; None for the master key or an open gateway's caller.
        team: The owner's team.
        deployment_id: The deployment holding it (every later call about it goes there).
        model: The model name it was routed by (resolves to the deployment's group).
        created_at: Unix time the gateway recorded it (lists are newest first by it).
        purpose: A file's ``purpose``; a batch's ``endpoint``.
        status: The status as last answered (a batch's ``in_progress``, ``completed``, ...).
        body: The object as last answered (JSON).
    """

    kind: ObjectKind
    id: str
    owner: str | None
    team: str | None
    deployment_id: str
    model: str
    created_at: float
    purpose: str
    status: str
    body: bytes


def owner_of(principal: Principal) -> str | None:
    """The owner recorded for objects ``principal`` creates (its key id)."""
    return principal.key_id


def sees_everything(principal: Principal) -> bool:
    """Whether ``principal`` sees every key's objects (the master key, an admin key, an open gateway)."""
    return principal.kind == "admin" or principal.role == "admin"


def may_access(principal: Principal, record: OwnedObject) -> bool:
    """Whether ``principal`` may read, delete or cancel ``record``: its creator, or an admin.

    Records of the master key or an open gateway's caller (no key id) are theirs and the admins'; a
    virtual key (always with an id) never matches them.
    """
    return sees_everything(principal) or record.owner == principal.key_id


class ObjectOwnershipStore(Protocol):
    """Where the records of provider objects live, shared by every worker (and node)."""

    async def ensure_schema(self) -> None:
        """Create or migrate the store's tables (nothing for a store without any)."""
        ...

    async def put(self, record: OwnedObject) -> None:
        """Store ``record``, replacing the one of its kind and id.

        Raises:
            ObjectStoreError: the store failed.
        """
        ...

    async def get(self, kind: ObjectKind, object_id: str) -> OwnedObject | None:
        """The record of ``kind`` with ``object_id``; None when there is none.

        Raises:
            ObjectStoreError: the store failed.
        """
        ...

    async def update(self, kind: ObjectKind, object_id: str, *, status: str, body: bytes) -> bool:
        """Refresh the status and snapshot of an existing record; whether there was one.

        Raises:
            ObjectStoreError: the store failed.
        """
        ...

    async def delete(self, kind: ObjectKind, object_id: str) -> bool:
        """Delete the record; whether there was one.

        Raises:
            ObjectStoreError: the store failed.
        """
        ...

    async def list(
        self,
        kind: ObjectKind,
        *,
        owner: str | None,
        everyone: bool = False,
        before: tuple[float, str] | None = None,
        limit: int = 20,
        purpose: str | None = None,
    ) -> list[OwnedObject]:
        """Records of ``kind``, newest first (by ``created_at``, then id, both descending).

        Args:
            kind: Files or batches.
            owner: Only this owner's records (None: the records without an owner).
            everyone: Every owner's records (``owner`` is then ignored).
            before: Only records older than this ``(created_at, id)`` (a page's last record).
            limit: Most records returned.
            purpose: Only records with this purpose.

        Raises:
            ObjectStoreError: the store failed.
        """
        ...

    async def close(self) -> None:
        """Release the store's connections (a later call reopens them)."""
        ...
