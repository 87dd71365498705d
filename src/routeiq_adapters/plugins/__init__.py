"""The built-in plugins: guardrails, cost tracking, evaluation and caching on the request path.

Each plugin is a thin layer over :mod:`routeiq_core.guardrails` and :mod:`routeiq_core.cache`;
:func:`build_plugin` builds one by name from its ``plugins.<name>`` settings section.
"""

from routeiq_adapters.plugins.bedrock_guardrails import BedrockGuardrailsPlugin, BedrockGuardrailsPluginConfig
from routeiq_adapters.plugins.content_filter import (
    CategoryConfig,
    ContentFilterConfig,
    ContentFilterPlugin,
    TeamConfig,
)
from routeiq_adapters.plugins.cost_tracker import CostTrackerConfig, CostTrackerPlugin
from routeiq_adapters.plugins.deps import Feedback, PluginDeps, ProviderLookup
from routeiq_adapters.plugins.evaluator import EvaluatorConfig, EvaluatorPlugin
from routeiq_adapters.plugins.exact_cache import ExactCacheConfig, ExactCachePlugin
from routeiq_adapters.plugins.llamaguard import LlamaGuardPlugin, LlamaGuardPluginConfig
from routeiq_adapters.plugins.pii_guard import PiiGuardConfig, PiiGuardPlugin
from routeiq_adapters.plugins.prompt_injection_guard import (
    PromptInjectionGuardConfig,
    PromptInjectionGuardPlugin,
)
from routeiq_adapters.plugins.registry import BUILTIN_PLUGINS, build_plugin
from routeiq_adapters.plugins.semantic_cache import SemanticCacheConfig, SemanticCachePlugin

__all__ = [
    "BUILTIN_PLUGINS",
    "BedrockGuardrailsPlugin",
    "BedrockGuardrailsPluginConfig",
    "CategoryConfig",
    "ContentFilterConfig",
    "ContentFilterPlugin",
    "CostTrackerConfig",
    "CostTrackerPlugin",
    "EvaluatorConfig",
    "EvaluatorPlugin",
    "ExactCacheConfig",
    "ExactCachePlugin",
    "Feedback",
    "LlamaGuardPlugin",
    "LlamaGuardPluginConfig",
    "PiiGuardConfig",
    "PiiGuardPlugin",
    "PluginDeps",
    "PromptInjectionGuardConfig",
    "PromptInjectionGuardPlugin",
    "ProviderLookup",
    "SemanticCacheConfig",
    "SemanticCachePlugin",
    "TeamConfig",
    "build_plugin",
]
