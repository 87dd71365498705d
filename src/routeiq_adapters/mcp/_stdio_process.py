"""The child process of a stdio MCP upstream: its environment, its stderr, and how it is stopped."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping

import anyio
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream

__all__ = ["child_env", "pump_stderr", "terminate"]

logger = logging.getLogger("routeiq.mcp")

_SAFE_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TEMP",
    "TMP",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "SYSTEMROOT",
)
_STDERR_LINE = 8 * 1024


def child_env(env: Mapping[str, str] | None, *, inherit: bool) -> dict[str, str]:
    """The environment of the child.

    Without ``inherit`` only a few harmless variables (``PATH``, ``HOME``, locale, temp dirs) pass
    from the gateway's own environment, so the gateway's secrets do not reach an upstream's process;
    the configured ``env`` is added on top.
    """
    base = dict(os.environ) if inherit else {k: os.environ[k] for k in _SAFE_ENV if k in os.environ}
    base.update(env or {})
    return base


async def pump_stderr(stream: ByteReceiveStream, upstream: str) -> None:
    """Log every line the child writes to stderr (long lines in pieces) to the ``routeiq.mcp`` logger."""
    buffered = BufferedByteReceiveStream(stream)
    while True:
        try:
            line = await buffered.receive_until(b"\n", _STDERR_LINE)
        except anyio.DelimiterNotFound:
            line = await buffered.receive(_STDERR_LINE)
        except (
            anyio.EndOfStream,
            anyio.IncompleteRead,
            anyio.ClosedResourceError,
            anyio.BrokenResourceError,
        ):
            tail = buffered.buffer
            if tail:
                _log_line(upstream, tail)
            return
        _log_line(upstream, line)


def _log_line(upstream: str, line: bytes) -> None:
    text = line.decode("utf-8", "replace").rstrip("\r\n")
    if text:
        logger.info("MCP upstream %r stderr: %s", upstream, text)


async def terminate(process: Process, grace_s: float) -> None:
    """Stop the child: close its stdin, then SIGTERM, then SIGKILL, each after ``grace_s`` (shielded)."""
    with anyio.CancelScope(shield=True):
        if process.stdin is not None:
            with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await process.stdin.aclose()
        if await _exited_within(process, grace_s / 2):
            await process.aclose()
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        if not await _exited_within(process, grace_s):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await process.aclose()


async def _exited_within(process: Process, seconds: float) -> bool:
    with anyio.move_on_after(seconds):
        await process.wait()
        return True
    return False
