"""Authentication: from a presented key to a :class:`Principal`.

Identity comes from the key alone (surfaces read it from ``Authorization: Bearer`` or LiteLLM's
``x-litellm-api-key``). Headers such as
``x-user-id`` or ``x-team-id`` and keys in query strings are never used: anyone can send them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable

import anyio

from routeiq_core.access.errors import KeyStoreError
from routeiq_core.access.keys import KEY_PREFIX, MAX_KEY_LENGTH, KeyHasher, KeyStore
from routeiq_core.access.principal import Principal
from routeiq_core.errors import AuthenticationError, RouteIQError

logger = logging.getLogger("routeiq.auth")


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


class Authenticator:
    """Resolves bearer keys: the master key is the admin; other keys are looked up by keyed hash.

    The master key is compared in constant time (digests of equal length, ``hmac.compare_digest``).
    A virtual key is looked up by its HMAC, so the database never sees the secret, and the hash found
    is compared in constant time again. Errors never echo the key; logs name only the key id.

    Args:
        store: Where virtual keys live (normally a :class:`CachedKeyStore`).
        hasher: The keyed hash the store's hashes were made with.
        master_key: The admin key; None disables it.
        anonymous: The principal of requests without a key (an open gateway); None requires a key.
        clock: Unix time, to check expiry.
        timeout_s: Longest wait for the store before failing with 503.
    """

    def __init__(
        self,
        *,
        store: KeyStore,
        hasher: KeyHasher,
        master_key: str | None = None,
        anonymous: Principal | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 2.0,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._master_digest = _digest(master_key) if master_key else None
        self._anonymous = anonymous
        self._clock = clock
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"Authenticator(master_key={'<set>' if self._master_digest else None}, open={self.open})"

    @property
    def open(self) -> bool:
        """Whether requests without a key are admitted (as the anonymous principal)."""
        return self._anonymous is not None

    async def identify(self, token: str | None) -> Principal:
        """The principal of a key as presented, with the open gateway's leniency.

        An open gateway (no master key) admits any key that is not a RouteIQ virtual key as the
        anonymous caller, so OpenAI clients that insist on some key work; a RouteIQ key is still
        checked (a revoked one is refused), so its limits apply. Otherwise see :meth:`authenticate`.
        """
        if self._anonymous is not None and (token is None or not token.startswith(KEY_PREFIX)):
            return self._anonymous
        return await self.authenticate(token)

    async def authenticate(self, token: str | None) -> Principal:
        """The principal a bearer token stands for.

        Raises:
            AuthenticationError: 401 when the key is missing, unknown, revoked or expired.
            KeyStoreError: 503 when the key store cannot answer in time.
        """
        if not token:
            if self._anonymous is not None:
                return self._anonymous
            raise AuthenticationError(
                "Missing API key: send a RouteIQ virtual key or the master key.", code="missing_api_key"
            )
        if self._master_digest is not None and hmac.compare_digest(_digest(token), self._master_digest):
            return Principal.admin()
        if not token.startswith(KEY_PREFIX) or len(token) > MAX_KEY_LENGTH:
            logger.info("authentication refused: not a RouteIQ key", extra={"reason": "format"})
            raise AuthenticationError("Invalid API key.")
        return await self._virtual_key(token)

    async def _virtual_key(self, token: str) -> Principal:
        key_hash = self._hasher.hash(token)
        try:
            with anyio.fail_after(self._timeout_s):
                record = await self._store.get_by_hash(key_hash)
        except RouteIQError:
            raise
        except Exception as exc:  # any driver failure: refuse, never admit
            logger.warning("key store unavailable during authentication: %r", exc)
            raise KeyStoreError("The key store is unavailable; try again shortly.") from exc
        if record is None or not hmac.compare_digest(record.key_hash.encode(), key_hash.encode()):
            logger.info("authentication refused: unknown key", extra={"reason": "unknown"})
            raise AuthenticationError("Invalid API key.")
        status = record.status(self._clock())
        if status != "active":
            logger.info(
                "authentication refused: key %s is %s",
                record.key_id,
                status,
                extra={"key_id": record.key_id, "reason": status},
            )
            raise AuthenticationError(f"This API key is {status}.", code=f"key_{status}")
        return record.principal()
