"""The MCP gateway's domain: the upstream port, naming, access, aggregation and the call use case."""

from routeiq_core.mcp.access import ALLOWED_TOOLS, McpFacts, ToolAccess, ToolFilter, tool_patterns
from routeiq_core.mcp.catalog import LIST_METHODS, Listing, ListKind, UpstreamCatalog, UpstreamOutcome
from routeiq_core.mcp.guard import GuardedUpstream
from routeiq_core.mcp.handshake import Handshake, Opened, union_capabilities
from routeiq_core.mcp.ledger import CallLedger, ToolCallFacts
from routeiq_core.mcp.naming import (
    MAX_NAME_LENGTH,
    NameMap,
    exposed_name,
    exposed_uri,
    server_of,
    slug_problem,
    split_uri,
)
from routeiq_core.mcp.service import Caller, Forward, McpService, UnknownNameError
from routeiq_core.mcp.sessions import (
    LegacySession,
    LocalRevocations,
    RelayedId,
    Revocations,
    Sealer,
    SessionBook,
)
from routeiq_core.mcp.upstream import (
    CURRENT_ERA,
    LEGACY_ERA,
    McpUpstream,
    OnUpstreamMessage,
    UpstreamCall,
    UpstreamReply,
    UpstreamSession,
    UpstreamState,
    UpstreamStatus,
)

__all__ = [
    "ALLOWED_TOOLS",
    "CURRENT_ERA",
    "LEGACY_ERA",
    "LIST_METHODS",
    "MAX_NAME_LENGTH",
    "CallLedger",
    "Caller",
    "Forward",
    "GuardedUpstream",
    "Handshake",
    "LegacySession",
    "ListKind",
    "Listing",
    "LocalRevocations",
    "McpFacts",
    "McpService",
    "McpUpstream",
    "NameMap",
    "OnUpstreamMessage",
    "Opened",
    "RelayedId",
    "Revocations",
    "Sealer",
    "SessionBook",
    "ToolAccess",
    "ToolCallFacts",
    "ToolFilter",
    "UnknownNameError",
    "UpstreamCall",
    "UpstreamCatalog",
    "UpstreamOutcome",
    "UpstreamReply",
    "UpstreamSession",
    "UpstreamState",
    "UpstreamStatus",
    "exposed_name",
    "exposed_uri",
    "server_of",
    "slug_problem",
    "split_uri",
    "tool_patterns",
    "union_capabilities",
]
