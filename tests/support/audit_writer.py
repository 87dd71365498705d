"""A worker process appending to a shared audit store: ``python -m tests.support.audit_writer ...``.

Arguments: ``sqlite PATH`` or ``postgres DSN SCHEMA``, then how many appends and a tag naming this
writer. Each append (one or two events) runs in one of several concurrent tasks, so one process
contends with itself as well as with the other writers.
"""

from __future__ import annotations

import sys

import anyio

from routeiq_adapters.audit import PostgresAuditStore, SQLiteAuditStore
from routeiq_core.audit import AuditEvent, AuditStore

TASKS = 5


async def write(store: AuditStore, appends: int, tag: str) -> None:
    async def task(worker: int) -> None:
        for n in range(worker, appends, TASKS):
            events = [
                AuditEvent(at=float(n), action="test.write", actor=tag, target=f"{tag}-{n}-{i}")
                for i in range(1 + n % 2)
            ]
            await store.append(events)

    try:
        async with anyio.create_task_group() as tg:
            for worker in range(TASKS):
                tg.start_soon(task, worker)
    finally:
        await store.close()


def main(argv: list[str]) -> None:
    if argv[0] == "sqlite":
        store: AuditStore = SQLiteAuditStore(argv[1], busy_timeout_s=30)
        rest = argv[2:]
    else:
        store = PostgresAuditStore(argv[1], schema=argv[2], timeout_s=30)
        rest = argv[3:]
    anyio.run(write, store, int(rest[0]), rest[1])


if __name__ == "__main__":
    main(sys.argv[1:])
