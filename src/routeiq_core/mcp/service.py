"""The MCP gateway's use case: who calls, what they may see and call, and the call itself.

A tool call takes the same path as a model call: authenticate (the virtual key) → RBAC
(``mcp.tools.call``) → the tool's visibility (config filter, key and team allow-lists, policy) →
quota (the key's, team's and global limits, under the model group ``mcp:{server}``: one request,
no tokens) → the upstream, behind its breaker and concurrency limit → settlement (the quota and the
spend ledger record the call, with no tokens and no cost) and the ``routeiq_mcp_calls`` counter.
The client's credentials never reach an upstream; upstream credentials come from config.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import msgspec
from cachetools import TTLCache

from routeiq_core.access.principal import Principal
from routeiq_core.access.rbac import require
from routeiq_core.access.teams import TeamStore
from routeiq_core.calls.access import CallAccess
from routeiq_core.calls.command import Credentials
from routeiq_core.errors import NotFoundError, UpstreamError
from routeiq_core.mcp.access import ToolAccess, tool_patterns
from routeiq_core.mcp.catalog import Listing, ListKind, UpstreamCatalog
from routeiq_core.mcp.guard import GuardedUpstream
from routeiq_core.mcp.ledger import CallLedger, ToolCallFacts
from routeiq_core.mcp.meta import for_upstream
from routeiq_core.mcp.naming import NameMap, exposed_uri, server_of, split_uri
from routeiq_core.mcp.upstream import OnUpstreamMessage, UpstreamCall, UpstreamReply

__all__ = ["Caller", "Forward", "McpService", "UnknownNameError"]

_decode_object = msgspec.json.Decoder(dict[str, Any])


class UnknownNameError(NotFoundError):
    """No tool, prompt or resource by that name, or none this caller may see (they answer alike)."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"Unknown {kind}: {name}", code=f"unknown_{kind}")
        self.kind = kind
        self.name = name


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated MCP client.

    Attributes:
        principal: Who it is.
        source_ip: Its address (policy CIDR rules).
        team_patterns: Its team's ``metadata.allowed_tools`` (empty: any).
        request_id: The surface's id of the request (the request log shows it).
    """

    principal: Principal
    source_ip: str | None = None
    team_patterns: tuple[str, ...] = ()
    request_id: str | None = None


class Forward(msgspec.Struct, frozen=True, kw_only=True):
    """What a request forwarded upstream needs besides its params.

    Attributes:
        headers: The client's ``Mcp-Param-*`` headers, for an HTTP upstream.
        sessions: A legacy client's upstream session per server.
        on_message: Where the upstream's notifications and requests go while it runs (server, raw).
        on_session: Told (server, new session) when an upstream forgot the legacy client's session
            and the adapter opened another.
        client_capabilities: A legacy client's capabilities (from its session), for current-era
            upstreams (see :func:`routeiq_core.mcp.meta.for_upstream`).
    """

    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    sessions: Mapping[str, str] = msgspec.field(default_factory=dict)
    on_message: Callable[[str, bytes], Awaitable[None]] | None = None
    on_session: Callable[[str, str], None] | None = None
    client_capabilities: Mapping[str, Any] | None = None


class McpService:
    """Lists and calls the upstreams' tools, resources and prompts for authenticated callers.

    Args:
        access: Authenticates keys (and counts refusals) as for model calls.
        upstreams: The upstreams by slug, in config order.
        catalog: Their cached lists.
        tools: Decides which tools a caller sees and calls.
        ledger: Reserves each tool call against the limits and records how it ended.
        teams: Team records, for the team's ``allowed_tools``; None: teams are labels only.
        single_upstream: Expose the one upstream's names without prefixes.
        team_cache_ttl_s: How long a team record is cached per worker.
    """

    def __init__(
        self,
        *,
        access: CallAccess,
        upstreams: Mapping[str, GuardedUpstream],
        catalog: UpstreamCatalog,
        tools: ToolAccess,
        ledger: CallLedger,
        teams: TeamStore | None = None,
        single_upstream: bool = False,
        team_cache_ttl_s: float = 10.0,
    ) -> None:
        self._access = access
        self._upstreams = dict(upstreams)
        self.catalog = catalog
        self._tools = tools
        self._ledger = ledger
        self._teams = teams
        self._single = next(iter(self._upstreams)) if single_upstream and len(self._upstreams) == 1 else None
        self._name_maps: dict[tuple[str, ListKind], tuple[tuple[dict[str, Any], ...], NameMap]] = {}
        self._team_cache: TTLCache[str, tuple[str, ...]] = TTLCache(maxsize=10_000, ttl=team_cache_ttl_s)

    @property
    def upstreams(self) -> Mapping[str, GuardedUpstream]:
        """The upstreams by slug."""
        return self._upstreams

    @property
    def prefixed(self) -> bool:
        """Whether exposed names carry their server's slug (False in single-upstream mode)."""
        return self._single is None

    async def caller(self, credentials: Credentials, request_id: str | None = None) -> Caller:
        """Authenticate (401 when nobody valid) and load the caller's team allow-list."""
        principal = await self._access.identify(credentials)
        patterns: tuple[str, ...] = ()
        team = principal.team
        if team is not None and self._teams is not None:
            if team not in self._team_cache:
                record = await self._teams.get(team)
                self._team_cache[team] = tool_patterns(record.metadata) if record is not None else ()
            patterns = self._team_cache[team]
        return Caller(
            principal=principal,
            source_ip=credentials.client_address,
            team_patterns=patterns,
            request_id=request_id,
        )

    def _visible(self, caller: Caller, server: str, tool: str) -> bool:
        return self._tools.permits(
            caller.principal, server, tool, team_patterns=caller.team_patterns, source_ip=caller.source_ip
        )

    async def list(self, caller: Caller, kind: ListKind) -> Listing:
        """The items of ``kind`` this caller may see, under their exposed names.

        403 without the ``mcp.tools.list`` permission; each upstream's outcome is in ``outcomes``.
        """
        require(caller.principal, "mcp.tools.list")
        listing = await self.catalog.list(kind)
        if kind in ("tools", "prompts"):
            names_map = NameMap(
                (
                    (server, item["name"])
                    for server, item in listing.items
                    if isinstance(item.get("name"), str)
                ),
                prefixed=self.prefixed,
            )
            shown = []
            for server, item in listing.items:
                name = item.get("name")
                exposed = names_map.exposed(server, name) if isinstance(name, str) else None
                if exposed is None or (kind == "tools" and not self._visible(caller, server, str(name))):
                    continue
                shown.append((server, {**item, "name": exposed}))
            return Listing(items=tuple(shown), outcomes=listing.outcomes)
        field = "uri" if kind == "resources" else "uriTemplate"
        renamed = tuple(
            (server, {**item, field: exposed_uri(server, item[field], prefixed=self.prefixed)})
            for server, item in listing.items
            if isinstance(item.get(field), str)
        )
        return Listing(items=renamed, outcomes=listing.outcomes)

    async def _resolve(self, kind: ListKind, exposed: str) -> tuple[str, str]:
        """The (server, upstream name) of an exposed tool or prompt name (404 when none)."""
        label = kind.removesuffix("s")
        server = self._single or server_of(exposed, self._upstreams)
        if server is None:
            raise UnknownNameError(label, exposed)
        items = self.catalog.cached(server, kind)
        if items is None:
            items = await self.catalog.items(server, kind)
        # One map per upstream list: rebuilt only when the catalog fetched the list again.
        built = self._name_maps.get((server, kind))
        if built is None or built[0] is not items:
            entries = ((server, item["name"]) for item in items if isinstance(item.get("name"), str))
            built = self._name_maps[(server, kind)] = (items, NameMap(entries, prefixed=self.prefixed))
        found = built[1].resolve(exposed)
        if found is None:
            raise UnknownNameError(label, exposed)
        return found

    async def call_tool(self, caller: Caller, params: dict[str, Any], forward: Forward) -> UpstreamReply:
        """Call a tool for ``caller``.

        Raises:
            PermissionDeniedError: 403 without the ``mcp.tools.call`` permission.
            UnknownNameError: a tool that does not exist or that this caller may not see (alike).
            QuotaExceededError: 429 over a limit.
            UpstreamError: the upstream failed (unreachable, timed out, breaker open).
        """
        require(caller.principal, "mcp.tools.call")
        exposed = params.get("name")
        if not isinstance(exposed, str):
            raise UnknownNameError("tool", str(exposed))
        server, tool = await self._resolve("tools", exposed)
        if not self._visible(caller, server, tool):
            raise UnknownNameError("tool", exposed)
        facts = await self._ledger.admit(
            ToolCallFacts(
                principal=caller.principal,
                server=server,
                tool=tool,
                request_id=caller.request_id,
                source_ip=caller.source_ip,
            )
        )
        reply: UpstreamReply | None = None
        error: BaseException | None = None
        try:
            reply = await self._forward(server, "tools/call", {**params, "name": tool}, forward)
        except BaseException as exc:
            error = exc
            raise
        finally:
            await self._ledger.ended(facts, reply, error)
        return reply

    async def get_prompt(self, caller: Caller, params: dict[str, Any], forward: Forward) -> UpstreamReply:
        """Get a prompt (403 without ``mcp.tools.call``; 404 for an unknown one)."""
        require(caller.principal, "mcp.tools.call")
        exposed = params.get("name")
        if not isinstance(exposed, str):
            raise UnknownNameError("prompt", str(exposed))
        server, prompt = await self._resolve("prompts", exposed)
        return await self._forward(server, "prompts/get", {**params, "name": prompt}, forward)

    async def read_resource(self, caller: Caller, params: dict[str, Any], forward: Forward) -> UpstreamReply:
        """Read a resource; the contents' URIs come back exposed (404 for a URI no server owns)."""
        require(caller.principal, "mcp.tools.call")
        uri = params.get("uri")
        found = split_uri(uri, self._upstreams, single=self._single) if isinstance(uri, str) else None
        if found is None:
            raise UnknownNameError("resource", str(uri))
        server, upstream_uri = found
        reply = await self._forward(server, "resources/read", {**params, "uri": upstream_uri}, forward)
        if reply.result is None or not self.prefixed:
            return reply
        result = _decode_object.decode(reply.result)
        contents = result.get("contents")
        if isinstance(contents, list):
            result["contents"] = [
                {**item, "uri": exposed_uri(server, item["uri"])}
                if isinstance(item, dict) and isinstance(item.get("uri"), str)
                else item
                for item in contents
            ]
        return UpstreamReply(result=msgspec.Raw(msgspec.json.encode(result)), session=reply.session)

    async def subscription(
        self, caller: Caller, method: str, params: dict[str, Any], forward: Forward
    ) -> UpstreamReply:
        """``resources/subscribe`` or ``resources/unsubscribe``, to the resource's server."""
        require(caller.principal, "mcp.tools.call")
        uri = params.get("uri")
        found = split_uri(uri, self._upstreams, single=self._single) if isinstance(uri, str) else None
        if found is None:
            raise UnknownNameError("resource", str(uri))
        server, upstream_uri = found
        return await self._forward(server, method, {**params, "uri": upstream_uri}, forward)

    async def set_log_level(self, caller: Caller, params: dict[str, Any], forward: Forward) -> None:
        """``logging/setLevel`` on every upstream (fail-open: one that refuses or fails is skipped)."""
        require(caller.principal, "mcp.tools.list")

        async def one(server: str) -> None:
            with contextlib.suppress(UpstreamError):
                await self._forward(server, "logging/setLevel", params, forward)

        async with anyio.create_task_group() as group:
            for server in self._upstreams:
                group.start_soon(one, server)

    async def complete(self, caller: Caller, params: dict[str, Any], forward: Forward) -> UpstreamReply:
        """``completion/complete`` for a prompt's or a resource template's argument."""
        require(caller.principal, "mcp.tools.call")
        ref = params.get("ref")
        if not isinstance(ref, dict):
            raise UnknownNameError("reference", str(ref))
        if ref.get("type") == "ref/prompt" and isinstance(ref.get("name"), str):
            server, name = await self._resolve("prompts", ref["name"])
            upstream_ref = {**ref, "name": name}
        else:
            uri = ref.get("uri")
            found = split_uri(uri, self._upstreams, single=self._single) if isinstance(uri, str) else None
            if found is None:
                raise UnknownNameError("reference", str(uri))
            server, upstream_uri = found
            upstream_ref = {**ref, "uri": upstream_uri}
        return await self._forward(server, "completion/complete", {**params, "ref": upstream_ref}, forward)

    async def _forward(
        self, server: str, method: str, params: dict[str, Any], forward: Forward
    ) -> UpstreamReply:
        relay = forward.on_message
        on_message: OnUpstreamMessage | None = None
        if relay is not None:

            async def on_message(raw: bytes) -> None:
                await relay(server, raw)

        upstream = self._upstreams[server]
        shaped = for_upstream(params, upstream.upstream.status().era, forward.client_capabilities)
        call = UpstreamCall(
            method=method, params=shaped, session=forward.sessions.get(server), headers=forward.headers
        )
        reply = await upstream.request(call, on_message)
        if reply.session is not None and reply.session != call.session and forward.on_session is not None:
            forward.on_session(server, reply.session)
        return reply

    def upstream(self, server: str) -> GuardedUpstream:
        """One upstream by slug (404 when it is not configured, or no longer)."""
        found = self._upstreams.get(server)
        if found is None:
            raise NotFoundError(f"No MCP server {server!r} is configured.")
        return found
