"""Relaying a provider's SSE frames to the client: first-frame failover, usage, error frames."""

from __future__ import annotations

import logging
import types
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import anyio

from routeiq_core.errors import UpstreamError, UpstreamTimeoutError
from routeiq_core.forwarders import merge_usage
from routeiq_core.providers import Usage
from routeiq_core.sse import DONE, error_frame, frame_usage

logger = logging.getLogger("routeiq.gateway")


async def open_first_frame(
    frames: AsyncIterator[bytes], timeout_s: float, deployment_id: str
) -> bytes | None:
    """Wait for a stream's first frame (None if it ended empty); close it on any failure.

    A failure here is still invisible to the client, so the gateway may try another deployment.
    """
    try:
        with anyio.fail_after(timeout_s):
            return await anext(frames)
    except StopAsyncIteration:
        return None
    except TimeoutError:
        await close_quietly(frames)
        raise UpstreamTimeoutError(
            f"Deployment {deployment_id!r} sent no stream data within {timeout_s:g}s",
            deployment_id=deployment_id,
        ) from None
    except BaseException:
        await close_quietly(frames)
        raise


async def relay(
    frames: AsyncIterator[bytes],
    first: bytes | None,
    *,
    client_wants_usage: bool,
    on_failure: Callable[[UpstreamError], None],
    on_usage: Callable[[Usage], None],
    on_events: Callable[[int], None],
    on_end: Callable[[], None],
) -> AsyncIterator[bytes]:
    """Yield the client's frames (chunks of one or more): the first, the rest as they come, then ``[DONE]``.

    The gateway always asks upstreams for usage; a usage-only frame is accounted and dropped unless
    the client asked for it (``stream_options.include_usage``). ``on_events`` hears how many SSE
    events each chunk passed on (a cut stream's usage is estimated from them). A failure after the
    first frame ends the stream with an SSE error frame, never silently. Closing this iterator
    closes the upstream stream, which cancels the upstream request.
    """
    usage: Usage | None = None
    try:
        pending = first
        while pending is not None:
            if b'"usage"' in pending:
                pending, found = _take_usage(pending, keep_usage_only=client_wants_usage)
                usage = found or usage
            if pending:
                on_events(pending.count(b"\n\n"))
                yield pending
            pending = await anext(frames, None)
    except UpstreamError as exc:
        on_failure(exc)
        yield error_frame(exc)
        return
    except Exception as exc:
        logger.exception("stream relay failed")
        error = UpstreamError(f"The upstream stream failed: {type(exc).__name__}", status_code=502)
        on_failure(error)
        yield error_frame(error)
        return
    finally:
        await close_quietly(frames)
        if usage is not None:
            on_usage(usage)
        on_end()
    yield DONE


async def relay_native(
    frames: AsyncIterator[bytes],
    first: bytes | None,
    read_usage: Callable[[bytes], Usage | None],
    on_failure: Callable[[UpstreamError], None],
    on_usage: Callable[[Usage], None],
    on_events: Callable[[int], None],
    *,
    on_end: Callable[[], None],
) -> AsyncIterator[bytes]:
    """Yield a natively forwarded stream's chunks as they come, byte for byte: no ``[DONE]`` added.

    ``read_usage`` (the protocol's forwarder's) reads the usage of the chunks that mention it; the
    pieces are merged (:func:`~routeiq_core.forwarders.merge_usage`) and accounted at the end. A
    failure after the first chunk is heard by ``on_failure`` and then raised from the iteration, as
    an :class:`UpstreamError`: the surface ends the stream with its own protocol's error event.
    """
    usage: Usage | None = None
    try:
        pending = first
        while pending is not None:
            if b'"usage"' in pending and (found := read_usage(pending)) is not None:
                usage = merge_usage(usage, found)
            if pending:
                on_events(pending.count(b"\n\n"))
                yield pending
            pending = await anext(frames, None)
    except UpstreamError as exc:
        on_failure(exc)
        raise
    except Exception as exc:
        logger.exception("native stream relay failed")
        error = UpstreamError(f"The upstream stream failed: {type(exc).__name__}", status_code=502)
        on_failure(error)
        raise error from exc
    finally:
        await close_quietly(frames)
        if usage is not None:
            on_usage(usage)
        on_end()


async def relay_bytes(
    chunks: AsyncIterator[bytes],
    first: bytes | None,
    *,
    on_failure: Callable[[UpstreamError], None],
    on_end: Callable[[], None],
) -> AsyncIterator[bytes]:
    """Yield a byte stream's chunks (speech audio) as they come: no SSE, so no ``[DONE]``, no error frame.

    A failure after the first chunk ends the answer short; ``on_failure`` hears it (the breaker and
    the stream-failure counter count it), and it is logged. Closing this iterator closes the upstream.
    """
    try:
        pending = first
        while pending is not None:
            if pending:
                yield pending
            pending = await anext(chunks, None)
    except UpstreamError as exc:
        on_failure(exc)
    except Exception as exc:
        logger.exception("byte stream relay failed")
        on_failure(UpstreamError(f"The upstream stream failed: {type(exc).__name__}", status_code=502))
    finally:
        await close_quietly(chunks)
        on_end()


def _take_usage(chunk: bytes, *, keep_usage_only: bool) -> tuple[bytes, Usage | None]:
    """Read the usage out of a chunk of frames; drop a usage-only frame unless the client wants it."""
    usage = None
    kept = []
    for event in chunk.split(b"\n\n"):
        if not event.strip():
            continue
        frame = event + b"\n\n"
        found, usage_only = frame_usage(frame)
        if found is not None:
            usage = found
        if not (usage_only and found is not None and not keep_usage_only):
            kept.append(frame)
    return b"".join(kept), usage


async def close_quietly(frames: AsyncIterator[bytes]) -> None:
    """Close an async iterator if it can be closed, shielded from cancellation.

    An async generator that already ran to its end (its frame is gone) needs nothing: the common
    case costs no cancel scope. Iterators without ``aclose`` have nothing to close.
    """
    if isinstance(frames, types.AsyncGeneratorType):
        if frames.ag_frame is None:
            return
        with anyio.CancelScope(shield=True):
            await frames.aclose()
    elif isinstance(frames, AsyncGenerator):
        with anyio.CancelScope(shield=True):
            await frames.aclose()
