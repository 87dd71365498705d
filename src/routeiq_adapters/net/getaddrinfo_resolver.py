"""The system resolver (``getaddrinfo`` in a worker thread) as the core's :class:`Resolver` port."""

from __future__ import annotations

import socket

import anyio


class GetaddrinfoResolver:
    """Resolves through the operating system (``/etc/hosts``, then DNS), off the event loop.

    It does no checking and no timing: :func:`routeiq_core.net.resolve_checked` does both.
    """

    async def resolve(self, host: str, port: int) -> list[str]:
        """Every TCP address ``host`` resolves to.

        Args:
            host: A DNS name.
            port: The port that will be connected to.

        Raises:
            socket.gaierror: The name does not resolve.
        """
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [str(info[4][0]) for info in infos]
