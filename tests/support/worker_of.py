"""Which worker process of ``routeiq serve`` answered a request, read from the kernel (Linux ``/proc``).

The workers of one ``routeiq serve`` share its listening socket; whichever accepts a connection
holds the server side of it. While a connection is open, :func:`serving_worker` finds that socket's
inode in ``/proc/net/tcp`` (by the two ports) and the worker whose ``/proc/<pid>/fd`` holds it, so a
test can prove which worker served a request without any help from the gateway.
:class:`ExchangeLog` does that for every response of an ``httpx2`` client (the ``mcp`` SDK's HTTP
client) as a response hook, while the response is still unread and its connection open.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2


def children(pid: int) -> list[int]:
    """The ids of the processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def wait_for_workers(supervisor: int, count: int, timeout_s: float = 10) -> list[int]:
    """The ``count`` worker processes of ``supervisor`` once they are all up (``AssertionError`` if not)."""
    deadline = time.monotonic() + timeout_s
    workers = children(supervisor)
    while len(workers) != count and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = children(supervisor)
    assert len(workers) == count, f"expected {count} worker processes of {supervisor}, found {workers}"
    return workers


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
                if (local, remote) == (local_port, remote_port):
                    return fields[9]
    return None


def serving_worker(workers: list[int], server_port: int, client_port: int) -> int | None:
    """The worker holding the server side of the open connection ``client_port`` → ``server_port``."""
    target = f"socket:[{_socket_inode(server_port, client_port)}]"
    for pid in workers:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
    return None


@dataclass
class Served:
    """One HTTP exchange: the worker that answered it and what the request carried."""

    worker: int | None
    status: int
    session: str | None
    body: bytes


@dataclass
class ExchangeLog:
    """Records every response of an ``httpx2`` client with the worker that served it.

    Use ``event_hooks={"response": [log.record]}`` and no keep-alive, so every request opens a
    connection (and any worker may accept it).
    """

    workers: list[int]
    server_port: int
    exchanges: list[Served] = field(default_factory=list)

    async def record(self, response: httpx2.Response) -> None:
        """The response hook."""
        stream = response.extensions.get("network_stream")
        client_port = stream.get_extra_info("client_addr")[1] if stream is not None else None
        worker = serving_worker(self.workers, self.server_port, client_port) if client_port else None
        request = response.request
        body = request.content if request.method == "POST" else b""
        session = request.headers.get("mcp-session-id")
        self.exchanges.append(Served(worker, response.status_code, session, body))
