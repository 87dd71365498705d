"""Feedback in process memory: a bounded ring of the latest records (one worker, lost on restart)."""

from __future__ import annotations

from collections import deque

from routeiq_core.feedback import FeedbackQuery, FeedbackRecord


class InMemoryFeedbackStore:
    """The in-process adapter of the ``FeedbackStore`` port (the last ``max_records`` records).

    Args:
        max_records: How many records the ring holds (the oldest fall off).
    """

    def __init__(self, *, max_records: int = 100_000) -> None:
        self._records: deque[FeedbackRecord] = deque(maxlen=max_records)

    async def add(self, record: FeedbackRecord) -> None:
        """Keep one record."""
        self._records.append(record)

    async def query(self, query: FeedbackQuery) -> list[FeedbackRecord]:
        """The records ``query`` selects, newest first."""
        found = [record for record in self._records if query.accepts(record)]
        found.sort(key=lambda record: record.at, reverse=True)
        return found[: query.limit]

    async def close(self) -> None:
        """Nothing to close."""
