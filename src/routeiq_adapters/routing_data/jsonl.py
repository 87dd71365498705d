"""Collected routing rows as JSON lines: ``<dir>/<router>.jsonl`` is a routing table as it stands.

Full rows (every candidate scored) go to ``<router>.jsonl``, which ``routeiq train --data`` and
``routeiq retrain`` read as any other table; off-policy rows (only the chosen model scored, with
its propensity) to ``<router>.offpolicy.jsonl``. Every worker appends under an exclusive ``flock``
with ``O_APPEND``, so lines never interleave; the files are written on a worker thread.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

import anyio
import msgspec

from routeiq_core.calls.exploration import DatasetRow

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ENCODER = msgspec.json.Encoder()


class JsonlRoutingDataset:
    """The JSON-lines adapter of the ``RoutingDataset`` port.

    Args:
        directory: Where the files live (created on first write).
    """

    def __init__(self, directory: str | Path) -> None:
        self._dir = Path(directory)

    def path(self, router: str, *, full: bool = True) -> Path:
        """The file of ``router``'s full (or off-policy) rows.

        Raises:
            ValueError: ``router`` is not a name a file may carry.
        """
        if not _SAFE.match(router):
            raise ValueError(f"router name {router!r} cannot name a dataset file")
        return self._dir / (f"{router}.jsonl" if full else f"{router}.offpolicy.jsonl")

    async def append(self, row: DatasetRow) -> None:
        """Append one row to its file."""
        line = _ENCODER.encode(row) + b"\n"
        await anyio.to_thread.run_sync(self._append, self.path(row.router, full=row.full), line)

    async def rows(self, router: str, *, full: bool) -> list[DatasetRow]:
        """Every row of ``router`` kept so far (full ones, or off-policy ones)."""
        path = self.path(router, full=full)
        try:
            data = await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError:
            return []
        decoder = msgspec.json.Decoder(DatasetRow)
        return [decoder.decode(line) for line in data.splitlines() if line.strip()]

    def _append(self, path: Path, line: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
        finally:
            os.close(fd)
