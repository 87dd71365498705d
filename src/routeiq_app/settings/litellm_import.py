"""``routeiq config import-litellm``: a LiteLLM proxy config rewritten as a native RouteIQ config.

The same translation the loader applies (:func:`routeiq_app.settings.litellm.translate`), written
out. ``os.environ/NAME`` references stay references (no secret is read or written), and
``environment_variables`` becomes a list of names to set in the environment, because RouteIQ's
native config has no such section.
"""

from __future__ import annotations

from typing import Any

import yaml

from routeiq_app.settings.litellm import translate
from routeiq_app.settings.loader import read_config_tree
from routeiq_core.errors import ConfigurationError

_ORDER = ("server", "model_list", "routing", "resilience", "security", "keys", "quota", "policy", "plugins")


def import_litellm(path: str) -> tuple[str, list[str]]:
    """The native config equivalent to the LiteLLM config at ``path``, and the notices.

    Raises:
        ConfigurationError: the file is unreadable, or uses keys RouteIQ refuses.
    """
    problems: list[str] = []
    tree = read_config_tree(path, problems)
    if problems:
        raise ConfigurationError(problems)
    translation = translate(tree)
    if translation.problems:
        raise ConfigurationError([f"{path}: {problem}" for problem in translation.problems])
    ordered: dict[str, Any] = {key: tree.pop(key) for key in _ORDER if key in tree}
    ordered.update(tree)
    header = [f"# RouteIQ config converted from {path} by `routeiq config import-litellm`."]
    if translation.environment:
        names = ", ".join(sorted(translation.environment))
        header.append(f"# Set in the environment (were LiteLLM's environment_variables): {names}")
    header += [f"# {notice}".replace("\n", " ") for notice in translation.notices]
    body = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return "\n".join(header) + "\n" + body, translation.notices
