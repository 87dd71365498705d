"""Ed25519 (``cryptography``) signing and verifying of audit checkpoints, and the key texts.

A signing key is written as ``PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 || 32-byte seed)>``
(the form Go's ``golang.org/x/mod/sumdb/note`` uses) or as the bare base64 seed (then the name is
the log's origin). A verifier key is the note vkey ``<name>+<hex key hash>+<base64(0x01 || key)>``
or the bare base64 public key.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from routeiq_core.audit import format_vkey, is_key_name, key_hash, parse_vkey
from routeiq_core.audit.note import ED25519

SKEY_PREFIX = "PRIVATE+KEY+"
_BARE_KEY_CHARS = 44
"""Length of the base64 of 32 bytes: a bare key; anything else is read as a vkey."""


class Ed25519NoteVerifier:
    """The ``NoteVerifier`` of one Ed25519 public key.

    Args:
        name: The key name (the log's origin, normally).
        public_key: The 32-byte public key.
    """

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_key_name(name):
            raise ValueError(f"{name!r} cannot be a key name (no spaces, no '+')")
        self._key = Ed25519PublicKey.from_public_bytes(public_key)
        self._name = name
        self._hash = key_hash(name, public_key)
        self.public_key = public_key

    def __repr__(self) -> str:
        return f"Ed25519NoteVerifier({format_vkey(self._name, self.public_key)!r})"

    @classmethod
    def from_text(cls, text: str, default_name: str) -> Ed25519NoteVerifier:
        """A verifier from a vkey, or from a bare base64 public key named ``default_name``."""
        text = text.strip()
        if len(text) != _BARE_KEY_CHARS:
            return cls(*parse_vkey(text))
        raw = _b64(text, "verifier key")
        if len(raw) != 32:
            raise ValueError("a verifier key is a vkey (<name>+<hash>+<base64>) or a base64 32-byte key")
        return cls(default_name, raw)

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key hash."""
        return self._hash

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Ed25519CheckpointSigner:
    """The ``CheckpointSigner`` of one Ed25519 private key.

    Args:
        name: The key name of the signature lines (the log's origin, normally).
        private_key: The key.
    """

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not is_key_name(name):
            raise ValueError(f"{name!r} cannot be a key name (no spaces, no '+')")
        self._name = name
        self._key = private_key
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._verifier = Ed25519NoteVerifier(name, public)

    def __repr__(self) -> str:
        return f"Ed25519CheckpointSigner({self.verifier_key!r})"

    @classmethod
    def generate(cls, name: str) -> Ed25519CheckpointSigner:
        """A signer with a new random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_text(cls, text: str, default_name: str) -> Ed25519CheckpointSigner:
        """A signer from a ``PRIVATE+KEY+...`` text, or from a bare base64 seed named ``default_name``."""
        text = text.strip()
        if text.startswith(SKEY_PREFIX):
            parts = text[len(SKEY_PREFIX) :].split("+", 2)
            if len(parts) != 3:
                raise ValueError("a signing key is PRIVATE+KEY+<name>+<hash>+<base64>")
            name, hash_hex, encoded = parts
            raw = _b64(encoded, "signing key")
            if len(raw) != 33 or raw[0] != ED25519:
                raise ValueError("the signing key is not an Ed25519 key")
            signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
            if signer.key_hash.hex() != hash_hex:
                raise ValueError("the signing key's hash does not match its name and key")
            return signer
        raw = _b64(text, "signing key")
        if len(raw) != 32:
            raise ValueError("a signing key is PRIVATE+KEY+... or a base64 32-byte Ed25519 seed")
        return cls(default_name, Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key hash."""
        return self._verifier.key_hash

    @property
    def verifier_key(self) -> str:
        """The vkey of this key (public)."""
        return format_vkey(self._name, self._verifier.public_key)

    @property
    def verifier(self) -> Ed25519NoteVerifier:
        """The verifier of this key's signatures."""
        return self._verifier

    def signing_key_text(self) -> str:
        """The private key as ``PRIVATE+KEY+<name>+<hash>+<base64>`` (a secret: store it as one)."""
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(bytes([ED25519]) + seed).decode()
        return f"{SKEY_PREFIX}{self._name}+{self.key_hash.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message``."""
        return self._key.sign(message)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {what} is not valid base64") from None
