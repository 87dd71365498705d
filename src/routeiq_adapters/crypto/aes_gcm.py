"""AES-256-GCM sealing (the ``cryptography`` package): the :class:`~routeiq_core.mcp.Sealer` port."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["AesGcmSealer"]

_NONCE = 12
_MAX_TOKEN = 8192
"""Longest token :meth:`AesGcmSealer.open` looks at (a session holds a few ids: far less)."""


class AesGcmSealer:
    """Seals blobs as ``base64url(nonce || ciphertext || tag)`` under a key derived from a secret.

    The purpose is the associated data, so a token sealed for one purpose never opens for another.

    Args:
        secret: The shared secret (any length; its SHA-256 under a fixed label is the AES key).
    """

    __slots__ = ("_aead",)

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        if not raw:
            raise ValueError("the sealing secret is empty")
        self._aead = AESGCM(hashlib.sha256(b"routeiq-seal-v1\x00" + raw).digest())

    def __repr__(self) -> str:
        return "AesGcmSealer(key=<hidden>)"

    def seal(self, data: bytes, *, purpose: bytes) -> str:
        """Encrypt and authenticate ``data`` for ``purpose``."""
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, data, purpose)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, token: str, *, purpose: bytes) -> bytes | None:
        """The data in ``token``, or None when it was not sealed by this key for ``purpose``."""
        if not token or len(token) > _MAX_TOKEN or not token.isascii():
            return None
        try:
            sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(sealed) <= _NONCE + 16:
            return None
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], purpose)
        except InvalidTag:
            return None
