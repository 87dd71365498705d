r"""C2SP signed notes and transparency log checkpoints (``c2sp.org/signed-note``, ``/tlog-checkpoint``).

A checkpoint is the note text ``<origin>\n<tree size>\n<base64 root hash>\n``. A signed note is the
text, an empty line, then one line per signature: ``— <key name> <base64(key hash || signature)>``
(an em dash, U+2014, and a space first). The 4-byte key hash names the key:
``SHA-256(key name || 0x0A || 0x01 || Ed25519 public key)[:4]``. A verifier key (vkey) is
``<name>+<hex key hash>+<base64(0x01 || public key)>``. Base64 is standard, with padding.

Only the text formats live here; signing and verifying are the :class:`CheckpointSigner` and
:class:`NoteVerifier` ports (the Ed25519 adapter implements both).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from typing import Protocol

import msgspec

from routeiq_core.audit.merkle import HASH_SIZE

ED25519 = 0x01
"""The signature type byte of Ed25519 in key hashes and vkeys."""
SIGNATURE_PREFIX = "\u2014 "
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$")


class NoteError(ValueError):
    """A note, checkpoint or key text is malformed, or no trusted signature verifies."""


class CheckpointSigner(Protocol):
    """Signs note texts under one key name (normally the log's origin)."""

    @property
    def name(self) -> str:
        """The key name of the signature lines."""
        ...

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key hash of the signature lines."""
        ...

    @property
    def verifier_key(self) -> str:
        """The vkey that verifies this signer's notes (public: safe to print and share)."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The signature of ``message`` (the note text)."""
        ...


class NoteVerifier(Protocol):
    """Checks the signatures of one key."""

    @property
    def name(self) -> str:
        """The key name."""
        ...

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key hash."""
        ...

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``message``."""
        ...


class NoteSignature(msgspec.Struct, frozen=True, kw_only=True):
    """One signature line of a note."""

    name: str
    key_hash: bytes
    signature: bytes


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A tree head: the log's origin, its size, and the Merkle root at that size."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The checkpoint note text (three lines, each ending in a newline)."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def is_key_name(name: str) -> bool:
    """Whether ``name`` can be a note key name: not empty, no whitespace, no ``+``."""
    return bool(name) and name.isprintable() and "+" not in name and not any(c.isspace() for c in name)


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte hash naming an Ed25519 key in signature lines."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def format_vkey(name: str, public_key: bytes) -> str:
    """The verifier key text of an Ed25519 public key."""
    encoded = base64.b64encode(bytes([ED25519]) + public_key).decode()
    return f"{name}+{key_hash(name, public_key).hex()}+{encoded}"


def parse_vkey(vkey: str) -> tuple[str, bytes]:
    """The name and Ed25519 public key of a verifier key (its key hash checked)."""
    name, hash_hex, encoded = _three_parts(vkey.strip(), "verifier key")
    raw = _b64(encoded, "verifier key")
    if len(raw) != 33 or raw[0] != ED25519:
        raise NoteError("verifier key: not an Ed25519 key (type byte 0x01 and 32 bytes)")
    public_key = raw[1:]
    if hash_hex != key_hash(name, public_key).hex():
        raise NoteError(f"verifier key {name!r}: its key hash does not match its name and key")
    return name, public_key


def _three_parts(text: str, what: str) -> tuple[str, str, str]:
    parts = text.split("+", 2)
    if len(parts) != 3 or not is_key_name(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise NoteError(f"{what}: expected <name>+<8 hex digits>+<base64>")
    return parts[0], parts[1], parts[2]


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what}: bad base64 ({exc})") from None


def sign_note(text: str, signer: CheckpointSigner) -> str:
    """The signed note of ``text`` (which must end in a newline and hold no empty line)."""
    _check_text(text)
    signature = signer.sign(text.encode())
    line = base64.b64encode(signer.key_hash + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {line}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise NoteError("note text must be non-empty lines, each ending in a newline")
    if any(not line.isprintable() for line in text[:-1].split("\n")):
        raise NoteError("note text must not hold control characters")


def parse_note(note: str) -> tuple[str, tuple[NoteSignature, ...]]:
    """The text and signature lines of a signed note."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("signed note: expected the text, an empty line, then signature lines")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    _check_text(text)
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signed note: a signature line starts with '\u2014 ', not {line[:12]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = _b64(encoded, "signature line")
        if not is_key_name(name) or len(raw) < 5:
            raise NoteError(f"signed note: malformed signature line for {name!r}")
        signatures.append(NoteSignature(name=name, key_hash=raw[:4], signature=raw[4:]))
    return text, tuple(signatures)


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> str:
    """The text of ``note`` once a trusted key's signature on it verifies.

    Lines of unknown keys are ignored (a note may carry cosignatures); a line of a trusted key that
    does not verify is an error, and so is a note no trusted key signed.
    """
    text, signatures = parse_note(note)
    trusted = {(v.name, v.key_hash): v for v in verifiers}
    verified = False
    for line in signatures:
        verifier = trusted.get((line.name, line.key_hash))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), line.signature):
            raise NoteError(f"the signature of key {line.name!r} ({line.key_hash.hex()}) does not verify")
        verified = True
    if not verified:
        names = ", ".join(f"{s.name}+{s.key_hash.hex()}" for s in signatures)
        raise NoteError(f"signed by no trusted key (signatures: {names or 'none'})")
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """The tree head of a checkpoint note text (extension lines after the third are ignored)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("checkpoint: expected origin, size and root lines, each ending in a newline")
    origin, size, encoded = lines[0], lines[1], lines[2]
    if not _DECIMAL.match(size) or int(size) >= 2**63:
        raise NoteError(f"checkpoint: the size {size!r} is not a decimal number")
    root = _b64(encoded, "checkpoint root")
    if len(root) != HASH_SIZE:
        raise NoteError(f"checkpoint: the root is {len(root)} bytes, not {HASH_SIZE}")
    return Checkpoint(origin=origin, size=int(size), root=root)


def split_notes(text: str) -> list[str]:
    """The signed notes of a file holding several, each followed by an empty line (as the sink writes)."""
    blocks = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    if len(blocks) % 2:
        raise NoteError("checkpoint file: a note without its signature lines (or an empty line inside one)")
    return [f"{blocks[i]}\n\n{blocks[i + 1].rstrip(chr(10))}\n" for i in range(0, len(blocks), 2)]
