"""The SSRF guard over real sockets: local aiohttp servers on 127.0.0.x and resolvers the test controls.

The allowed server listens on 127.0.0.2 (allow-listed as 127.0.0.2/32 where a test allows it); an
"internal" server listens on 127.0.0.1 on the same port, never allow-listed: nothing a test does
may ever reach it, whatever the URL, the DNS answers or the redirects.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import aiohttp
import anyio
import pytest
from aiohttp import web

from routeiq_adapters.net import GuardedHttp, guarded_session
from routeiq_core.errors import UnsafeUpstreamError, UpstreamError
from routeiq_core.net import AddressPolicy

pytestmark = pytest.mark.anyio

ALLOWED = AddressPolicy.from_cidrs(["127.0.0.2/32"])


@dataclass
class Server:
    """One listening aiohttp app; ``hits`` records ``(path, local address)`` of every request.

    ``/redirect`` answers 302 to ``redirect_to``; ``/hang`` never answers; ``/dribble`` sends a
    byte every 0.1 s for 5 s.
    """

    host: str
    port: int
    redirect_to: str = ""
    hits: list[tuple[str, str]] = field(default_factory=list)

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


class ScriptedResolver:
    """Answers lookups from a script (the last entry repeats) and counts them."""

    def __init__(self, *answers: list[str] | BaseException, delay_s: float = 0.0) -> None:
        self.answers = answers
        self.delay_s = delay_s
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        await anyio.sleep(self.delay_s)
        answer = self.answers[min(len(self.lookups), len(self.answers)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def _app(server: Server) -> web.Application:
    async def record(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        server.hits.append((request.path, request.transport.get_extra_info("sockname")[0]))
        if request.path == "/redirect":
            raise web.HTTPFound(server.redirect_to)
        if request.path == "/hang":
            await anyio.sleep(math.inf)
        if request.path == "/dribble":
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(50):
                await response.write(b"x")
                await anyio.sleep(0.1)
            return response
        return web.Response(text=f"hello from {server.host}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    return app


@asynccontextmanager
async def serving(host: str, port: int = 0) -> AsyncIterator[Server]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = Server(host, sock.getsockname()[1])
    runner = web.AppRunner(_app(server), shutdown_timeout=0.1)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture(autouse=True, scope="module")
def _second_loopback_address() -> None:
    """127.0.0.2 must be bindable (Linux: all of 127/8 is loopback; macOS needs an alias)."""
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the SSRF guard tests need 127.0.0.2 in CI: {exc}")
        pytest.skip(f"cannot bind 127.0.0.2 ({exc}); on macOS: sudo ifconfig lo0 alias 127.0.0.2")


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Server, Server]]:
    """The allowed server on 127.0.0.2 and the internal one on 127.0.0.1, on the same port."""
    async with serving("127.0.0.2") as allowed, serving("127.0.0.1", allowed.port) as internal:
        yield allowed, internal


async def test_a_name_resolving_to_loopback_is_refused(servers: tuple[Server, Server]) -> None:
    _, internal = servers
    resolver = ScriptedResolver(["127.0.0.1"])
    async with guarded_session(AddressPolicy(), resolver=resolver) as session:
        with pytest.raises(UnsafeUpstreamError, match=r"'upstream\.test': it resolves to a loopback address"):
            await session.get(internal.url(host="upstream.test"))
    assert resolver.lookups == ["upstream.test"]
    assert internal.hits == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f.1",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "localhost",
    ],
)
async def test_literal_spellings_and_localhost_are_refused(servers: tuple[Server, Server], host: str) -> None:
    _, internal = servers
    async with guarded_session(AddressPolicy()) as session:  # the system resolver, for "localhost"
        with pytest.raises(UnsafeUpstreamError, match="loopback"):
            await session.get(internal.url(host=host))
    assert internal.hits == []


async def test_the_allow_list_admits_an_internal_upstream(servers: tuple[Server, Server]) -> None:
    allowed, internal = servers
    resolver = ScriptedResolver(["127.0.0.2"])
    async with guarded_session(ALLOWED, resolver=resolver) as session:
        for url in (allowed.url("/literal"), allowed.url("/named", host="mcp.internal")):
            async with session.get(url) as response:
                assert await response.text() == "hello from 127.0.0.2"
        with pytest.raises(UnsafeUpstreamError):
            await session.get(internal.url())  # 127.0.0.1 is still refused
    assert allowed.hits == [("/literal", "127.0.0.2"), ("/named", "127.0.0.2")]
    assert internal.hits == []


async def test_the_system_resolver_path_admits_an_allow_listed_localhost(
    servers: tuple[Server, Server],
) -> None:
    _, internal = servers
    policy = AddressPolicy.from_cidrs(["127.0.0.0/8", "::1/128"])
    url = internal.url("/via-getaddrinfo", host="localhost")
    async with guarded_session(policy) as session, session.get(url) as response:
        assert await response.text() == "hello from 127.0.0.1"
    assert internal.hits == [("/via-getaddrinfo", "127.0.0.1")]


async def test_dns_rebinding_cannot_move_a_connection(servers: tuple[Server, Server]) -> None:
    """First answer allowed (127.0.0.2), every later one forbidden (127.0.0.1, same port).

    Each connection goes to what was checked: a guard that checked one answer and let the connection
    resolve again would reach 127.0.0.1 (or fail on the made-up name), and so would a resolver that
    handed aiohttp the name back instead of the checked address. Within the DNS cache TTL, new
    connections reuse the checked answer; once it expires, the rebound answer is checked, not trusted.
    """
    allowed, internal = servers
    close = {"Connection": "close"}  # no keep-alive: every request needs a new connection
    resolver = ScriptedResolver(["127.0.0.2"], ["127.0.0.1"])
    async with guarded_session(ALLOWED, resolver=resolver, dns_cache_ttl_s=60) as session:
        for path in ("/cached-1", "/cached-2"):
            async with session.get(allowed.url(path, host="rebind.test"), headers=close) as response:
                assert response.status == 200
    assert resolver.lookups == ["rebind.test"]

    resolver = ScriptedResolver(["127.0.0.2"], ["127.0.0.1"])
    async with guarded_session(ALLOWED, resolver=resolver, dns_cache_ttl_s=0) as session:
        async with session.get(allowed.url("/fresh", host="rebind.test"), headers=close) as response:
            assert response.status == 200
        with pytest.raises(UnsafeUpstreamError, match="resolves to a loopback address"):
            await session.get(allowed.url("/rebound", host="rebind.test"), headers=close)
    assert resolver.lookups == ["rebind.test", "rebind.test"]
    assert allowed.hits == [("/cached-1", "127.0.0.2"), ("/cached-2", "127.0.0.2"), ("/fresh", "127.0.0.2")]
    assert internal.hits == []


async def test_the_socket_check_holds_when_a_caller_drops_the_url_guard(
    servers: tuple[Server, Server],
) -> None:
    _, internal = servers
    async with guarded_session(AddressPolicy()) as session:
        with pytest.raises(
            aiohttp.ClientConnectorError, match=r"SSRF guard refused to connect to 127\.0\.0\.1 \(loopback\)"
        ):
            await session.get(internal.url(), middlewares=())
    assert internal.hits == []


@pytest.mark.parametrize("target", ["internal", "allowed"])
async def test_redirects_are_never_followed(servers: tuple[Server, Server], target: str) -> None:
    """Not to a refused address, and not even to an allowed one: a 3xx is an answer, not a hop."""
    allowed, internal = servers
    allowed.redirect_to = (internal if target == "internal" else allowed).url("/landed")
    async with guarded_session(ALLOWED) as session:
        async with GuardedHttp(session).request("GET", allowed.url("/redirect")) as answer:
            assert answer.status == 302  # returned as is
            assert answer.headers["Location"] == allowed.redirect_to
        with pytest.raises(UpstreamError, match=r"answered 302 \(a redirect\), which is not followed") as e:
            await session.get(allowed.url("/redirect"))  # the bare session, allow_redirects left on
        assert e.value.code == "upstream_redirect"
    assert [path for path, _ in allowed.hits] == ["/redirect", "/redirect"]
    assert internal.hits == []


async def test_a_failed_lookup_fails_closed_with_a_clear_error(servers: tuple[Server, Server]) -> None:
    allowed, _ = servers
    unknown = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    async with guarded_session(ALLOWED, resolver=ScriptedResolver(unknown)) as session:
        with pytest.raises(
            UpstreamError, match=r"DNS lookup of 'gone\.test' failed: Name or service not known"
        ):
            await session.get(allowed.url(host="gone.test"))
    async with guarded_session(ALLOWED) as session:  # the system resolver: .invalid never resolves
        with pytest.raises(UpstreamError, match=r"DNS lookup of 'nothing\.invalid' failed") as failed:
            await session.get(allowed.url(host="nothing.invalid"))
    assert failed.value.code == "dns_error"
    assert allowed.hits == []


async def test_a_hanging_lookup_is_cut_at_its_deadline(servers: tuple[Server, Server]) -> None:
    allowed, _ = servers
    resolver = ScriptedResolver(["127.0.0.2"], delay_s=math.inf)
    started = time.monotonic()
    async with guarded_session(ALLOWED, resolver=resolver, dns_timeout_s=0.2) as session:
        with pytest.raises(UpstreamError, match=r"DNS lookup of 'slow.test' timed out after 0\.2s"):
            await session.get(allowed.url(host="slow.test"))
    assert time.monotonic() - started < 2.0
    assert allowed.hits == []


async def test_a_silent_upstream_is_cut_by_the_read_timeout(servers: tuple[Server, Server]) -> None:
    allowed, _ = servers
    started = time.monotonic()
    async with guarded_session(ALLOWED, read_timeout_s=0.2) as session:
        with pytest.raises(TimeoutError):
            await session.get(allowed.url("/hang"))
    assert time.monotonic() - started < 2.0


async def test_a_dribbling_upstream_is_cut_by_the_request_deadline(servers: tuple[Server, Server]) -> None:
    allowed, _ = servers
    started = time.monotonic()
    async with guarded_session(ALLOWED, read_timeout_s=None) as session:
        with pytest.raises(TimeoutError):
            async with GuardedHttp(session, timeout_s=0.5).request("GET", allowed.url("/dribble")) as answer:
                await answer.read()
    assert 0.4 < time.monotonic() - started < 2.0


async def test_an_unanswered_connect_is_cut_by_the_connect_timeout() -> None:
    """A listener whose accept queue is full drops further SYNs, so the connect hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.2", port))
            fillers.append(filler)
        await anyio.sleep(0.1)
        started = time.monotonic()
        async with guarded_session(ALLOWED, connect_timeout_s=0.3) as session:
            with pytest.raises(aiohttp.ConnectionTimeoutError):
                await session.get(f"http://127.0.0.2:{port}/")
        assert time.monotonic() - started < 2.0
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_proxies_from_the_environment_are_ignored(
    servers: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed, internal = servers
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, internal.url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with guarded_session(ALLOWED) as session:
        assert session.trust_env is False
        async with session.get(allowed.url("/direct")) as response:
            assert await response.text() == "hello from 127.0.0.2"
    assert allowed.hits == [("/direct", "127.0.0.2")]
    assert internal.hits == []


async def test_a_proxy_per_request_is_refused(servers: tuple[Server, Server]) -> None:
    allowed, _ = servers
    async with guarded_session(ALLOWED) as session:
        with pytest.raises(UnsafeUpstreamError, match="proxy"):
            await session.get(allowed.url(), proxy=allowed.url())
        http = GuardedHttp(session)
        for option in ({"allow_redirects": True}, {"proxy": allowed.url()}, {"middlewares": ()}):
            with pytest.raises(TypeError, match="does not accept"):
                async with http.request("GET", allowed.url(), **option):
                    pass
    assert allowed.hits == []


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://[::1]:9/", UnsafeUpstreamError),
        ("http://[fe80::1%25lo]:9/", UnsafeUpstreamError),
        ("http://[::ffff:7f00:1]:9/", UnsafeUpstreamError),
        ("ftp://127.0.0.2:9/", aiohttp.NonHttpUrlClientError),
    ],
)
async def test_other_refused_urls_never_reach_the_resolver(url: str, error: type[Exception]) -> None:
    resolver = ScriptedResolver(["127.0.0.2"])
    async with guarded_session(ALLOWED, resolver=resolver) as session:
        with pytest.raises(error):
            await session.get(url)
    assert resolver.lookups == []
