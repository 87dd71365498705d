"""Test doubles of the store ports: a dict key store that counts its lookups."""

from __future__ import annotations

import msgspec

from routeiq_core.access import KeyPage, KeyPatch, VirtualKey


class DictKeyStore:
    """A KeyStore over a dict, recording how often each method ran."""

    def __init__(self) -> None:
        self.by_id: dict[str, VirtualKey] = {}
        self.lookups = 0
        self.fail_with: Exception | None = None

    async def ensure_schema(self) -> None:
        return None

    async def create(self, key: VirtualKey) -> None:
        if key.key_id in self.by_id or any(k.key_hash == key.key_hash for k in self.by_id.values()):
            raise ValueError("duplicate")
        self.by_id[key.key_id] = key

    async def get(self, key_id: str) -> VirtualKey | None:
        return self.by_id.get(key_id)

    async def get_by_hash(self, key_hash: str) -> VirtualKey | None:
        self.lookups += 1
        if self.fail_with is not None:
            raise self.fail_with
        return next((k for k in self.by_id.values() if k.key_hash == key_hash), None)

    async def list_keys(
        self, *, team: str | None = None, user: str | None = None, limit: int = 100, after: str | None = None
    ) -> KeyPage:
        keys = sorted(
            (
                k
                for k in self.by_id.values()
                if (team is None or k.team == team)
                and (user is None or k.user == user)
                and (after is None or k.key_id > after)
            ),
            key=lambda k: k.key_id,
        )
        page = tuple(keys[:limit])
        return KeyPage(items=page, next_cursor=page[-1].key_id if len(keys) > limit else None)

    async def update(self, key_id: str, patch: KeyPatch, now: float) -> VirtualKey | None:
        key = self.by_id.get(key_id)
        if key is None:
            return None
        key = msgspec.structs.replace(key, **patch.changes(), updated_at=now)
        self.by_id[key_id] = key
        return key

    async def rotate(self, key_id: str, key_hash: str, hint: str, now: float) -> VirtualKey | None:
        key = self.by_id.get(key_id)
        if key is None or key.revoked_at is not None:
            return None
        key = msgspec.structs.replace(key, key_hash=key_hash, hint=hint, updated_at=now)
        self.by_id[key_id] = key
        return key

    async def revoke(self, key_id: str, now: float) -> VirtualKey | None:
        key = self.by_id.get(key_id)
        if key is None:
            return None
        key = msgspec.structs.replace(key, revoked_at=key.revoked_at or now, updated_at=now)
        self.by_id[key_id] = key
        return key

    async def close(self) -> None:
        return None
