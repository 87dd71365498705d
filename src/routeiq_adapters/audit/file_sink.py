"""The external checkpoint copy as a file: every signed checkpoint appended, each after an empty line."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import anyio.to_thread


class FileCheckpointSink:
    """The file adapter of the ``CheckpointSink`` port (``audit.checkpoint_copy_path``).

    Each note is appended, then an empty line, in one ``write`` under an exclusive ``flock``, so the
    workers of a node sharing the file never interleave. Ship the file somewhere the gateway cannot
    rewrite (a log shipper, a WORM bucket): ``routeiq audit verify --checkpoint FILE`` checks the log
    against it. :func:`routeiq_core.audit.split_notes` reads it back.

    Args:
        path: The file (created, mode 0644, if missing; its folder must exist).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileCheckpointSink({str(self.path)!r})"

    async def publish(self, note: str) -> None:
        """Append ``note`` and an empty line."""
        await anyio.to_thread.run_sync(self._append, (note + "\n").encode())

    def _append(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
        finally:
            os.close(fd)
