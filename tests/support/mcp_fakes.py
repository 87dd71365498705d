"""MCP test helpers: a scripted in-memory upstream, and the gateway app served on a real socket.

- :class:`FakeUpstream` implements :class:`routeiq_core.mcp.McpUpstream` from a script: its tools,
  resources and prompts, an optional delay or failure per method, and a record of every call.
- :func:`serve_gateway(config, env)` runs ``create_app`` under uvicorn on 127.0.0.1 in a thread and
  yields its base URL (the lifespan runs, so the MCP upstreams are opened as in production).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import uvicorn
from dependency_injector import providers

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.quota.memory import InMemoryQuotaStore
from routeiq_adapters.request_log import InMemoryRequestLog
from routeiq_adapters.spend.memory import InMemorySpendLedger
from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from routeiq_core.access import (
    Authenticator,
    KeyHasher,
    KeyService,
    PolicyEngine,
    Principal,
    QuotaService,
)
from routeiq_core.access.key_service import NewKey
from routeiq_core.access.quota_limits import parse_limits
from routeiq_core.access.quota_service import QuotaConfig
from routeiq_core.calls import CallAccess, Credentials
from routeiq_core.catalog import ModelCatalog
from routeiq_core.errors import UpstreamError, UpstreamTimeoutError
from routeiq_core.mcp import (
    Caller,
    CallLedger,
    GuardedUpstream,
    McpService,
    OnUpstreamMessage,
    ToolAccess,
    ToolFilter,
    UpstreamCall,
    UpstreamCatalog,
    UpstreamReply,
    UpstreamSession,
    UpstreamStatus,
)
from routeiq_core.resilience import BreakerConfig, BreakerRegistry
from tests.support.clocks import ManualClock
from tests.support.stores import DictKeyStore


class FakeUpstream:
    """An in-memory upstream answering from ``lists`` (``{"tools": [...], ...}``).

    Args:
        name: Its slug.
        lists: Items per list kind.
        delay_s: Seconds each request waits before answering (per method; ``"*"`` for all).
        fail: Methods that raise :class:`UpstreamError` (``"*"`` for all).
        capabilities: What its sessions advertise.
    """

    def __init__(
        self,
        name: str,
        lists: Mapping[str, list[dict[str, Any]]] | None = None,
        *,
        delay_s: Mapping[str, float] | None = None,
        fail: tuple[str, ...] = (),
        capabilities: Mapping[str, Any] | None = None,
    ) -> None:
        self._name = name
        self.lists = {k: list(v) for k, v in (lists or {}).items()}
        self.delay_s = dict(delay_s or {})
        self.fail = fail
        self.capabilities = dict(capabilities or {"tools": {}})
        self.calls: list[UpstreamCall] = []
        self.closed: list[str] = []
        self.replies: list[tuple[bytes, str | None]] = []
        self.progress: list[bytes] = []
        """Messages sent to ``on_message`` before answering a ``tools/call``."""

    @property
    def name(self) -> str:
        return self._name

    def status(self) -> UpstreamStatus:
        return UpstreamStatus(name=self._name, transport="http", state="up", era="2026-07-28")

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def open_session(
        self, *, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
    ) -> UpstreamSession:
        await self._behave("initialize")
        return UpstreamSession(
            session_id=f"{self._name}-session", protocol_version="2025-11-25", capabilities=self.capabilities
        )

    async def _behave(self, method: str) -> None:
        delay = self.delay_s.get(method, self.delay_s.get("*", 0.0))
        if delay:
            await anyio.sleep(delay)
        if method in self.fail or "*" in self.fail:
            if delay:
                raise UpstreamTimeoutError(f"{self._name} timed out", deployment_id=self._name)
            raise UpstreamError(f"{self._name} is down", status_code=502, deployment_id=self._name)

    async def request(self, call: UpstreamCall, on_message: OnUpstreamMessage | None = None) -> UpstreamReply:
        self.calls.append(call)
        await self._behave(call.method)
        kind = {
            "tools/list": "tools",
            "resources/list": "resources",
            "resources/templates/list": "resourceTemplates",
            "prompts/list": "prompts",
        }.get(call.method)
        if kind is not None:
            return UpstreamReply(result=msgspec.Raw(msgspec.json.encode({kind: self.lists.get(kind, [])})))
        params = call.params or {}
        if call.method == "tools/call":
            names = [tool["name"] for tool in self.lists.get("tools", [])]
            if params.get("name") not in names:
                return UpstreamReply(error={"code": -32602, "message": f"Unknown tool: {params.get('name')}"})
            if on_message is not None:
                for message in self.progress:
                    await on_message(message)
            text = (
                f"{self._name}:{params['name']}:{msgspec.json.encode(params.get('arguments', {})).decode()}"
            )
            result = {"content": [{"type": "text", "text": text}], "x-vendor": {"kept": True}}
            return UpstreamReply(result=msgspec.Raw(msgspec.json.encode(result)))
        if call.method == "resources/read":
            return UpstreamReply(
                result=msgspec.Raw(
                    msgspec.json.encode({"contents": [{"uri": params["uri"], "text": "hello"}]})
                )
            )
        return UpstreamReply(result=msgspec.Raw(msgspec.json.encode({"echo": call.method, "params": params})))

    async def notify(self, method: str, params: dict[str, Any] | None, *, session: str | None = None) -> None:
        return None

    async def reply(self, message: bytes, *, session: str | None = None) -> None:
        self.replies.append((message, session))

    async def close_session(self, session: str) -> None:
        self.closed.append(session)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_gateway(config: str, env: Mapping[str, str], tmp_path: Path) -> Iterator[str]:
    """Serve the gateway configured by ``config`` (YAML) and ``env``; yields ``http://127.0.0.1:<port>``."""
    path = tmp_path / "gateway.yaml"
    path.write_text(config)
    container = Container()
    container.settings.override(providers.Object(load_settings(str(path), dict(env))))
    app = create_app(container)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class ServiceRig:
    """An :class:`McpService` over fake upstreams, with a key store to issue keys from.

    Args:
        upstreams: The upstreams, in config order.
        policy: The ``policy`` section (mapping form).
        filters: Each server's config tool filter.
        single: Single-upstream mode.
        list_timeout_s: Each upstream's deadline for its lists.
    """

    def __init__(
        self,
        *upstreams: FakeUpstream,
        policy: Mapping[str, Any] | None = None,
        filters: Mapping[str, ToolFilter] | None = None,
        single: bool = False,
        list_timeout_s: float = 1.0,
    ) -> None:
        self.keys, self.hasher = DictKeyStore(), KeyHasher("server-secret-0123456789")
        self.metrics = InMemoryMetrics()
        self.spend = InMemorySpendLedger()
        self.requests = InMemoryRequestLog()
        self.clock = ManualClock()
        engine = PolicyEngine.from_config(policy or {})
        self.quota = QuotaService(InMemoryQuotaStore(), QuotaConfig(), clock=self.clock)
        access = CallAccess(
            authenticator=Authenticator(store=self.keys, hasher=self.hasher, master_key=MASTER),
            policy=engine,
            quota=self.quota,
            catalog=ModelCatalog([]),
        )
        breakers = BreakerRegistry(BreakerConfig(failure_threshold=2, cooldown_s=30), self.clock)
        self.guarded = {u.name: GuardedUpstream(u, breakers.get(u.name), 8) for u in upstreams}
        self.service = McpService(
            access=access,
            upstreams=self.guarded,
            catalog=UpstreamCatalog(self.guarded, timeout_s=list_timeout_s),
            tools=ToolAccess(filters or {}, engine, clock=self.clock),
            ledger=CallLedger(
                quota=self.quota, metrics=self.metrics, spend=self.spend, request_log=self.requests
            ),
            single_upstream=single,
        )

    async def caller(self, *, rpm: float | None = None, **metadata: Any) -> Caller:
        """A caller with a new member key (``metadata`` on it; an ``rpm`` limit if given)."""
        limits = parse_limits({"rpm": rpm}) if rpm is not None else ()
        issued = await KeyService(self.keys, self.hasher).issue(
            Principal.admin(), NewKey(metadata=metadata, limits=limits)
        )
        return await self.service.caller(Credentials(token=issued.key, client_address="10.0.0.1"))


MASTER = "sk-master-for-mcp-tests"
