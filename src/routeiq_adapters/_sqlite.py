"""What the SQLite adapters share: switching a database file to WAL safely under concurrency."""

from __future__ import annotations

import sqlite3
import time


def enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Put the file in WAL mode, retrying while another connection holds it.

    Switching the journal mode does not go through SQLite's busy handler: a second process (or store)
    opening the same new file at the same moment gets "database is locked" at once. The switch is
    idempotent, so it is retried until ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
