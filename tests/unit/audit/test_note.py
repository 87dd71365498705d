"""C2SP signed notes and checkpoints, Ed25519 keys, rotation: against Go's sumdb/note vectors."""

from __future__ import annotations

import base64

import pytest

from routeiq_adapters.audit import Ed25519CheckpointSigner, Ed25519NoteVerifier
from routeiq_core.audit import (
    Checkpoint,
    NoteError,
    format_vkey,
    key_hash,
    open_note,
    parse_checkpoint,
    parse_note,
    parse_vkey,
    sign_note,
    split_notes,
)

# golang.org/x/mod/sumdb/note's documented example: an independent implementation of the format.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "example.com/audit"


def test_signing_reproduces_go_sumdb_note_byte_for_byte() -> None:
    signer = Ed25519CheckpointSigner.from_text(GO_SKEY, "ignored")
    assert signer.name == "PeterNeumann"
    assert signer.verifier_key == GO_VKEY
    assert signer.signing_key_text() == GO_SKEY
    assert sign_note(GO_TEXT, signer) == GO_NOTE


def test_opening_go_sumdb_notes() -> None:
    verifier = Ed25519NoteVerifier.from_text(GO_VKEY, "ignored")
    assert verifier.key_hash.hex() == "c74f20a3"
    assert open_note(GO_NOTE, [verifier]) == GO_TEXT
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [verifier])


def test_key_hash_and_vkey_follow_the_signed_note_spec() -> None:
    name, public = parse_vkey(GO_VKEY)
    assert key_hash(name, public).hex() == "c74f20a3"
    assert format_vkey(name, public) == GO_VKEY
    for bad in (
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "a+b",
        "x y+c74f20a3+AA==",
    ):
        with pytest.raises(NoteError):
            parse_vkey(bad)


def test_a_checkpoint_is_three_lines() -> None:
    checkpoint = Checkpoint(origin=ORIGIN, size=20852163, root=bytes(range(32)))
    text = checkpoint.text()
    assert text == f"{ORIGIN}\n20852163\n{base64.b64encode(bytes(range(32))).decode()}\n"
    assert parse_checkpoint(text) == checkpoint
    assert parse_checkpoint(text + "extension line\n") == checkpoint
    for bad in (
        text[:-1],
        f"{ORIGIN}\n012\n{base64.b64encode(bytes(32)).decode()}\n",
        f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n",
        f"{ORIGIN}\n1\n",
        f"{ORIGIN}\n\n1\n{base64.b64encode(bytes(32)).decode()}\n",
    ):
        with pytest.raises(NoteError):
            parse_checkpoint(bad)


def test_signed_checkpoints_verify_with_the_current_or_a_rotated_key_only() -> None:
    old, new, stranger = (Ed25519CheckpointSigner.generate(ORIGIN) for _ in range(3))
    text = Checkpoint(origin=ORIGIN, size=3, root=bytes(32)).text()
    by_old, by_new = sign_note(text, old), sign_note(text, new)
    rotated = [new.verifier, Ed25519NoteVerifier.from_text(old.verifier_key, ORIGIN)]
    assert open_note(by_old, rotated) == text
    assert open_note(by_new, rotated) == text
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(by_old, [new.verifier])
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(sign_note(text, stranger), rotated)
    forged = by_new.replace("\n3\n", "\n4\n")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, rotated)
    cosigned = by_new + by_old.split("\n\n")[1]  # a second signature line; either key opens it
    assert open_note(cosigned, [old.verifier]) == text
    assert len(parse_note(cosigned)[1]) == 2


def test_bare_base64_keys_are_named_after_the_origin() -> None:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    seed = base64.b64decode(signer.signing_key_text().split("+", 4)[4])[1:]
    bare = Ed25519CheckpointSigner.from_text(base64.b64encode(seed).decode(), ORIGIN)
    assert bare.verifier_key == signer.verifier_key
    public = base64.b64encode(signer.verifier.public_key).decode()
    assert Ed25519NoteVerifier.from_text(public, ORIGIN).key_hash == signer.key_hash
    with pytest.raises(ValueError, match="not valid base64"):
        Ed25519CheckpointSigner.from_text("not a key", ORIGIN)
    with pytest.raises(ValueError, match="cannot be a key name"):
        Ed25519CheckpointSigner.generate("has space")


def test_malformed_notes_are_refused() -> None:
    for bad in (
        "no signatures\n",
        "text\n\nnot a signature\n",
        "text\n\n\u2014 name !!!\n",
        "\n\n\u2014 a AAAAAAA=\n",
    ):
        with pytest.raises(NoteError):
            parse_note(bad)
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    for bad_text in ("no newline", "two\n\nparagraphs\n", "control \x01\n"):
        with pytest.raises(NoteError):
            sign_note(bad_text, signer)


def test_a_file_of_notes_splits_back_into_them() -> None:
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    notes = [sign_note(Checkpoint(origin=ORIGIN, size=n, root=bytes(32)).text(), signer) for n in range(3)]
    assert split_notes("".join(note + "\n" for note in notes)) == notes
    assert split_notes("") == []
    with pytest.raises(NoteError):
        split_notes(notes[0] + "\n" + "dangling text\n")
