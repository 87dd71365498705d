"""Access control: identity (keys, authentication), RBAC, the policy engine, quotas and spend.

Everything here is pure: the stores are ports (``KeyStore``, ``QuotaStore``, ``SpendLedger``) whose
adapters live in :mod:`routeiq_adapters`.
"""

from routeiq_core.access.auth import Authenticator
from routeiq_core.access.errors import (
    BudgetExceededError,
    KeyStoreError,
    QuotaDataError,
    QuotaExceededError,
    QuotaStoreError,
    QuotaUnavailableError,
)
from routeiq_core.access.key_cache import CachedKeyStore
from routeiq_core.access.key_service import KeyService, NewKey
from routeiq_core.access.keys import (
    KEY_PREFIX,
    IssuedKey,
    KeyHasher,
    KeyPage,
    KeyPatch,
    KeyStore,
    VirtualKey,
    generate_key,
)
from routeiq_core.access.policy import PolicyEngine, enforce
from routeiq_core.access.policy_rules import (
    Decision,
    Explanation,
    PolicyConfig,
    PolicyMatch,
    PolicyRule,
    RequestFacts,
    RuleTrace,
    TimeWindow,
    TokenRange,
)
from routeiq_core.access.principal import ROLES, Principal, Role
from routeiq_core.access.quota import QuotaItem, QuotaStore, Refusal, Reservation, ReservedItem, scope_key
from routeiq_core.access.quota_health import OutageMonitor, OutagePolicy, QuotaHealthCheck
from routeiq_core.access.quota_limits import (
    SPEND_SCALE,
    WINDOW_SPECS,
    Amounts,
    Budget,
    Metric,
    QuotaLimit,
    Window,
    parse_limits,
)
from routeiq_core.access.quota_service import QuotaConfig, QuotaService, QuotaTicket, refusal_error
from routeiq_core.access.quota_window import SlidingCounter, bucket_of
from routeiq_core.access.rbac import (
    ROLE_PERMISSIONS,
    can_grant,
    can_manage,
    has_permission,
    require,
    require_model,
    require_team,
)
from routeiq_core.access.spend import (
    BufferedSpendLedger,
    Price,
    PriceBook,
    SpendFilter,
    SpendLedger,
    SpendLedgerError,
    SpendRecord,
    SpendReport,
    SpendTotals,
)
from routeiq_core.access.teams import (
    NewTeam,
    Team,
    TeamPage,
    TeamPatch,
    TeamService,
    TeamStore,
    TeamStoreError,
)

__all__ = [
    "KEY_PREFIX",
    "ROLES",
    "ROLE_PERMISSIONS",
    "SPEND_SCALE",
    "WINDOW_SPECS",
    "Amounts",
    "Authenticator",
    "Budget",
    "BudgetExceededError",
    "BufferedSpendLedger",
    "CachedKeyStore",
    "Decision",
    "Explanation",
    "IssuedKey",
    "KeyHasher",
    "KeyPage",
    "KeyPatch",
    "KeyService",
    "KeyStore",
    "KeyStoreError",
    "Metric",
    "NewKey",
    "NewTeam",
    "OutageMonitor",
    "OutagePolicy",
    "PolicyConfig",
    "PolicyEngine",
    "PolicyMatch",
    "PolicyRule",
    "Price",
    "PriceBook",
    "Principal",
    "QuotaConfig",
    "QuotaDataError",
    "QuotaExceededError",
    "QuotaHealthCheck",
    "QuotaItem",
    "QuotaLimit",
    "QuotaService",
    "QuotaStore",
    "QuotaStoreError",
    "QuotaTicket",
    "QuotaUnavailableError",
    "Refusal",
    "RequestFacts",
    "Reservation",
    "ReservedItem",
    "Role",
    "RuleTrace",
    "SlidingCounter",
    "SpendFilter",
    "SpendLedger",
    "SpendLedgerError",
    "SpendRecord",
    "SpendReport",
    "SpendTotals",
    "Team",
    "TeamPage",
    "TeamPatch",
    "TeamService",
    "TeamStore",
    "TeamStoreError",
    "TimeWindow",
    "TokenRange",
    "VirtualKey",
    "Window",
    "bucket_of",
    "can_grant",
    "can_manage",
    "enforce",
    "generate_key",
    "has_permission",
    "parse_limits",
    "refusal_error",
    "require",
    "require_model",
    "require_team",
    "scope_key",
]
