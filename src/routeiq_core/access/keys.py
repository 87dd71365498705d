"""Virtual keys: generation, keyed hashing, the stored record and the ``KeyStore`` port.

A key's secret (``sk-riq-...``) is shown once, when it is issued or rotated. Stores keep only
``HMAC-SHA-256(server secret, key)``: a leaked table cannot be replayed, and without the server secret
it cannot even be brute-forced offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import msgspec

from routeiq_core.access.principal import Principal, Role
from routeiq_core.access.quota_limits import Budget, QuotaLimit

KEY_PREFIX = "sk-riq-"
MAX_KEY_LENGTH = 128
KeyStatus = Literal["active", "expired", "revoked"]


def generate_key() -> str:
    """A new secret: ``sk-riq-`` and 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    """A public, non-secret key id (safe for logs, URLs and error messages)."""
    return "key_" + secrets.token_hex(8)


def key_hint(key: str) -> str:
    """What may be shown of a secret after creation: its prefix and last four characters."""
    return f"{KEY_PREFIX}...{key[-4:]}"


class KeyHasher:
    """Keyed hashing of virtual keys (HMAC-SHA-256 with a server secret).

    Args:
        secret: Server-side secret, at least 16 characters. Changing it invalidates every key.
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(raw) < 16:
            raise ValueError("the key hashing secret must be at least 16 characters long")
        self._secret = raw

    def __repr__(self) -> str:
        return "KeyHasher(secret=<hidden>)"

    def hash(self, key: str) -> str:
        """The hex digest stored for ``key``."""
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def matches(self, key: str, key_hash: str) -> bool:
        """Constant-time check that ``key`` hashes to ``key_hash``."""
        return hmac.compare_digest(self.hash(key).encode(), key_hash.encode())


class VirtualKey(msgspec.Struct, frozen=True, kw_only=True):
    """A stored virtual key: its hash and entitlements, never the secret."""

    key_id: str
    key_hash: str
    hint: str
    role: Role = "member"
    alias: str | None = None
    user: str | None = None
    team: str | None = None
    allowed_models: tuple[str, ...] = ()
    limits: tuple[QuotaLimit, ...] = ()
    budget: Budget | None = None
    expires_at: float | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0
    revoked_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"VirtualKey(key_id={self.key_id!r}, hint={self.hint!r}, team={self.team!r}, role={self.role!r})"
        )

    def status(self, now: float) -> KeyStatus:
        """``revoked``, ``expired`` or ``active`` at unix time ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def principal(self) -> Principal:
        """The principal a request authenticated with this key acts as."""
        return Principal(
            kind="virtual_key",
            role=self.role,
            key_id=self.key_id,
            user=self.user,
            team=self.team,
            allowed_models=self.allowed_models,
            limits=self.limits,
            budget=self.budget,
            expires_at=self.expires_at,
            metadata=self.metadata,
        )


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key just created or rotated: ``key`` is the secret, returned to the caller this once."""

    key: str
    record: VirtualKey

    def __repr__(self) -> str:
        return f"IssuedKey(key=<hidden>, record={self.record!r})"

    __str__ = __repr__


class KeyPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A change of a key's entitlements; fields left ``UNSET`` keep their value."""

    limits: tuple[QuotaLimit, ...] | msgspec.UnsetType = msgspec.UNSET
    budget: Budget | msgspec.UnsetType | None = msgspec.UNSET
    allowed_models: tuple[str, ...] | msgspec.UnsetType = msgspec.UNSET
    expires_at: float | msgspec.UnsetType | None = msgspec.UNSET
    metadata: Mapping[str, Any] | msgspec.UnsetType = msgspec.UNSET
    alias: str | msgspec.UnsetType | None = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        """The fields that are set, by name."""
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not msgspec.UNSET
        }


class KeyPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a key listing; pass ``next_cursor`` as ``after`` to get the next."""

    items: tuple[VirtualKey, ...]
    next_cursor: str | None = None


class KeyStore(Protocol):
    """Where virtual keys live (SQLite embedded, PostgreSQL for several nodes).

    Stores see hashes only. Mutations return the new record, or None when the key does not exist
    (rotate also when it is revoked). Every call is bounded by the adapter's timeout.
    """

    async def ensure_schema(self) -> None:
        """Create or migrate the schema (idempotent, safe to run from many processes at once)."""
        ...

    async def create(self, key: VirtualKey) -> None:
        """Store a new key; raises ``ValueError`` if its id or hash already exists."""
        ...

    async def get(self, key_id: str) -> VirtualKey | None:
        """The key with this public id, revoked and expired ones included."""
        ...

    async def get_by_hash(self, key_hash: str) -> VirtualKey | None:
        """The key whose secret hashes to ``key_hash`` (the authentication lookup)."""
        ...

    async def list_keys(
        self, *, team: str | None = None, user: str | None = None, limit: int = 100, after: str | None = None
    ) -> KeyPage:
        """Keys ordered by id, optionally of one team and/or user, ``limit`` at a time after a cursor."""
        ...

    async def update(self, key_id: str, patch: KeyPatch, now: float) -> VirtualKey | None:
        """Apply ``patch`` atomically."""
        ...

    async def rotate(self, key_id: str, key_hash: str, hint: str, now: float) -> VirtualKey | None:
        """Replace the hash of an unrevoked key: the old secret stops working at once."""
        ...

    async def revoke(self, key_id: str, now: float) -> VirtualKey | None:
        """Mark the key revoked (kept for audit and spend reports); idempotent."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
