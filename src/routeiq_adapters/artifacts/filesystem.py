"""Router versions in a directory: the registry's embedded default (one machine, or a shared volume)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio

from routeiq_adapters.artifacts._layout import (
    ARTIFACT,
    CANARY_FILE,
    PROMOTED_FILE,
    PROMOTIONS,
    VERSION_FILE,
    VERSIONS,
    artifact_files,
    decode_canary,
    decode_promotion,
    decode_version,
    encode,
    new_version,
    parse_version,
    version_dir,
)
from routeiq_core.errors import NotFoundError
from routeiq_core.routing.learned.artifact_registry import (
    ArtifactVersion,
    Canary,
    Lineage,
    Promotion,
    RegistryError,
    check_name,
)

_LOCK = ".lock"


class FilesystemArtifactRegistry:
    """The directory adapter of the ``ArtifactRegistry`` port.

    Version numbers are claimed with an exclusive ``mkdir`` and promotions written under an ``flock``,
    so publishers and promoters on one machine (or one POSIX shared volume) never collide; records are
    written aside and renamed into place. :meth:`fetch` returns the stored directory itself (it is
    already local; loading verifies it again).

    Args:
        root: The registry directory (created on first write).
    """

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root)

    def __repr__(self) -> str:
        return f"FilesystemArtifactRegistry({str(self._root)!r})"

    async def publish(
        self, name: str, artifact: Path, *, report: Mapping[str, Any] | None, lineage: Lineage
    ) -> ArtifactVersion:
        """Copy the verified ``artifact`` in as the next version of ``name``."""
        return await anyio.to_thread.run_sync(
            self._publish, check_name(name), Path(artifact), report, lineage
        )

    async def names(self) -> list[str]:
        """Every name with a version."""
        return await anyio.to_thread.run_sync(self._names)

    async def versions(self, name: str) -> list[ArtifactVersion]:
        """The complete versions of ``name``, oldest first."""
        return await anyio.to_thread.run_sync(self._versions, check_name(name))

    async def fetch(self, name: str, version: int, into: Path) -> Path:
        """The stored artifact directory of a version (``into`` is not needed: it is local)."""
        folder = self._root / check_name(name) / VERSIONS / version_dir(version)
        if not (folder / VERSION_FILE).is_file():
            raise NotFoundError(f"{name!r} has no version {version}.", code="router_version_not_found")
        return folder / ARTIFACT

    async def promoted(self, name: str) -> Promotion | None:
        """The current promotion of ``name``."""
        path = self._root / check_name(name) / PROMOTED_FILE
        return await anyio.to_thread.run_sync(self._read_promotion, path)

    async def promote(self, name: str, version: int, *, by: str, reason: str) -> Promotion:
        """Point ``name`` at an existing version, recording the promotion."""
        return await anyio.to_thread.run_sync(self._promote, check_name(name), version, by, reason)

    async def history(self, name: str) -> list[Promotion]:
        """Every promotion of ``name``, oldest first."""
        path = self._root / check_name(name) / PROMOTIONS / "history.jsonl"
        return await anyio.to_thread.run_sync(self._history, path)

    async def start_canary(self, canary: Canary) -> None:
        """Put a version on trial (it must exist)."""
        await anyio.to_thread.run_sync(self._start_canary, canary)

    async def canary(self, name: str) -> Canary | None:
        """The running canary of ``name``."""
        path = self._root / check_name(name) / CANARY_FILE
        try:
            data = await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError:
            return None
        return decode_canary(data)

    async def end_canary(self, name: str, candidate: int) -> bool:
        """End the canary of ``candidate`` under the name's lock (exactly one caller gets True)."""
        return await anyio.to_thread.run_sync(self._end_canary, check_name(name), candidate)

    def _start_canary(self, canary: Canary) -> None:
        name = check_name(canary.name)
        if not (self._root / name / VERSIONS / version_dir(canary.candidate) / VERSION_FILE).is_file():
            raise NotFoundError(
                f"{name!r} has no version {canary.candidate}.", code="router_version_not_found"
            )
        with self._locked(name):
            _write_atomically(self._root / name / CANARY_FILE, encode(canary))

    def _end_canary(self, name: str, candidate: int) -> bool:
        path = self._root / name / CANARY_FILE
        with self._locked(name):
            try:
                running = decode_canary(path.read_bytes())
            except FileNotFoundError:
                return False
            if running.candidate != candidate:
                return False
            path.unlink()
            return True

    def _publish(
        self, name: str, artifact: Path, report: Mapping[str, Any] | None, lineage: Lineage
    ) -> ArtifactVersion:
        digest, files = artifact_files(artifact)
        versions = self._root / name / VERSIONS
        try:
            versions.mkdir(parents=True, exist_ok=True)
            number = (
                max((v for v in map(parse_version, os.listdir(versions)) if v is not None), default=0) + 1
            )
            while True:  # claim the next number: mkdir is atomic, so two publishers never share one
                try:
                    (versions / version_dir(number)).mkdir()
                    break
                except FileExistsError:
                    number += 1
            folder = versions / version_dir(number)
            staging = folder / ".staging"
            for relative in files:
                (staging / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(artifact / relative, staging / relative)
            staging.rename(folder / ARTIFACT)
            record = new_version(name, number, digest, report, lineage)
            _write_atomically(folder / VERSION_FILE, encode(record))
        except OSError as exc:
            raise RegistryError(f"router registry {self._root}: publishing {name!r} failed: {exc}") from exc
        return record

    def _names(self) -> list[str]:
        if not self._root.is_dir():
            return []
        return sorted(
            p.name for p in self._root.iterdir() if (p / VERSIONS).is_dir() and self._versions(p.name)
        )

    def _versions(self, name: str) -> list[ArtifactVersion]:
        versions = self._root / name / VERSIONS
        if not versions.is_dir():
            return []
        found = []
        for entry in sorted(os.listdir(versions)):
            record = versions / entry / VERSION_FILE
            if parse_version(entry) is not None and record.is_file():
                found.append(decode_version(record.read_bytes()))
        return found

    def _promote(self, name: str, version: int, by: str, reason: str) -> Promotion:
        if not (self._root / name / VERSIONS / version_dir(version) / VERSION_FILE).is_file():
            raise NotFoundError(f"{name!r} has no version {version}.", code="router_version_not_found")
        with self._locked(name):
            current = self._read_promotion(self._root / name / PROMOTED_FILE)
            promotion = Promotion(
                name=name,
                version=version,
                previous=current.version if current is not None else None,
                at=time.time(),
                by=by,
                reason=reason,
            )
            history = self._root / name / PROMOTIONS
            history.mkdir(exist_ok=True)
            with (history / "history.jsonl").open("ab") as handle:
                handle.write(encode(promotion) + b"\n")
            _write_atomically(self._root / name / PROMOTED_FILE, encode(promotion))
        return promotion

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        (self._root / name).mkdir(parents=True, exist_ok=True)
        with (self._root / name / _LOCK).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _read_promotion(path: Path) -> Promotion | None:
        try:
            return decode_promotion(path.read_bytes())
        except FileNotFoundError:
            return None

    @staticmethod
    def _history(path: Path) -> list[Promotion]:
        try:
            lines = path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        return [decode_promotion(line) for line in lines if line.strip()]


def _write_atomically(path: Path, data: bytes) -> None:
    """Write aside, then rename over ``path`` (readers see the old file or the new one, whole)."""
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise
