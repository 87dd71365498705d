"""Stored responses of the Responses API: the record, who may see it, and the store port.

A response created with ``store: true`` is kept for ``ttl_s`` so that a later request naming it as
``previous_response_id`` continues the conversation on any worker or node, and so that its owner can
read it back, list its input items or delete it. The record holds the conversation's items and the
response object as the client saw them (encoded JSON, opaque to the store), and for a response a
deployment served natively, which one (it holds the conversation too).
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.errors import ServiceUnavailableError

MAX_RESPONSE_ID_CHARS = 128
"""Longest response id a store is asked for (the gateway's own are 37 characters)."""


class ResponseStoreError(ServiceUnavailableError):
    """The response store failed (database unreachable, say): 503."""

    default_code = "response_store_unavailable"


class StoredResponse(msgspec.Struct, frozen=True, kw_only=True):
    """One stored response.

    Attributes:
        id: The response's id (``resp_...``).
        owner: The virtual key that created it; None for the master key or an open gateway.
        created_at: Unix time it was created.
        expires_at: Unix time after which it is gone (reads treat it as deleted).
        conversation_id: The first response of its conversation: the affinity key every turn shares.
        items: The conversation's input items up to and including this turn's (a JSON array).
        response: The response object as answered (JSON): the gateway's, or the upstream's own when
            it was served natively.
        native_deployment: The deployment that served it natively, under the upstream's own id (a
            later turn on that deployment names it as ``previous_response_id``); None: the gateway
            translated it.
    """

    id: str
    owner: str | None
    created_at: float
    expires_at: float
    conversation_id: str
    items: bytes
    response: bytes
    native_deployment: str | None = None


def owner_of(principal: Principal) -> str | None:
    """The owner recorded for responses ``principal`` creates (its key id)."""
    return principal.key_id


def may_access(principal: Principal, record: StoredResponse) -> bool:
    """Whether ``principal`` may read, continue or delete ``record``: its creator, or an admin."""
    if principal.kind == "admin" or principal.role == "admin":
        return True
    return record.owner is not None and record.owner == principal.key_id


class ResponseStore(Protocol):
    """Where stored responses live, shared by every worker (and node) that serves the conversation."""

    async def ensure_schema(self) -> None:
        """Create or migrate the store's tables (nothing for a store without any)."""
        ...

    async def put(self, record: StoredResponse) -> None:
        """Store ``record`` (replacing one with its id).

        Raises:
            ResponseStoreError: the store failed.
        """
        ...

    async def get(self, response_id: str, now: float) -> StoredResponse | None:
        """The record with ``response_id``; None when there is none or it expired before ``now``.

        Raises:
            ResponseStoreError: the store failed.
        """
        ...

    async def delete(self, response_id: str) -> bool:
        """Delete the record; whether there was one.

        Raises:
            ResponseStoreError: the store failed.
        """
        ...

    async def prune(self, now: float) -> int:
        """Delete the records that expired before ``now``; how many there were."""
        ...

    async def close(self) -> None:
        """Release the store's connections (a later call reopens them)."""
        ...
