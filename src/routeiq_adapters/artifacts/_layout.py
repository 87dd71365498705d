"""What the registry adapters share: the key layout, the version records and their encoding.

Under a root (a directory, or a bucket prefix)::

    <name>/versions/000001/artifact/...    the artifact's files, as ``routeiq train`` wrote them
    <name>/versions/000001/version.json    its ArtifactVersion, written last (the commit mark)
    <name>/promoted.json                   the current Promotion
    <name>/promotions/...                  every Promotion (a JSON-lines file, or one object each)
    <name>/canary.json                     the running Canary, if any

A version without ``version.json`` is incomplete (a publisher died) and is not listed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from routeiq_core.routing.learned.artifact import MANIFEST, verify_artifact
from routeiq_core.routing.learned.artifact_registry import (
    ArtifactVersion,
    Canary,
    Lineage,
    Promotion,
    check_name,
)

VERSIONS = "versions"
ARTIFACT = "artifact"
VERSION_FILE = "version.json"
PROMOTED_FILE = "promoted.json"
PROMOTIONS = "promotions"
CANARY_FILE = "canary.json"


def version_dir(version: int) -> str:
    """The zero-padded folder of a version (sorts as numbers do)."""
    return f"{version:06d}"


def parse_version(text: str) -> int | None:
    """The version of a folder name (None for anything else)."""
    return int(text) if len(text) == 6 and text.isdigit() else None


def artifact_files(artifact: Path) -> tuple[str, list[str]]:
    """Verify ``artifact``; its manifest digest and every file's relative path (manifest last)."""
    check = verify_artifact(artifact)
    digest = hashlib.sha256((artifact / MANIFEST).read_bytes()).hexdigest()
    return digest, [*sorted(check.files), MANIFEST]


def new_version(
    name: str, version: int, digest: str, report: Mapping[str, Any] | None, lineage: Lineage
) -> ArtifactVersion:
    """The record of a version being published now."""
    return ArtifactVersion(
        name=check_name(name),
        version=version,
        created_at=time.time(),
        digest=digest,
        report=report,
        lineage=lineage,
    )


def encode(value: ArtifactVersion | Promotion | Canary) -> bytes:
    """JSON of a record."""
    return msgspec.json.encode(value)


def decode_version(data: bytes) -> ArtifactVersion:
    """A version record."""
    return msgspec.json.decode(data, type=ArtifactVersion)


def decode_promotion(data: bytes) -> Promotion:
    """A promotion record."""
    return msgspec.json.decode(data, type=Promotion)


def decode_canary(data: bytes) -> Canary:
    """A canary record."""
    return msgspec.json.decode(data, type=Canary)


def fetched_matches(directory: Path, digest: str) -> bool:
    """Whether a fetched copy is complete, unmodified and the version's (its manifest's digest)."""
    try:
        verify_artifact(directory)
        return hashlib.sha256((directory / MANIFEST).read_bytes()).hexdigest() == digest
    except Exception:
        return False
