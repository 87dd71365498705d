"""The effective settings with secrets redacted, and their stable hash (``config_hash``).

Two workers, or two nodes, that loaded the same configuration report the same hash; a change to any
setting that is not a secret changes it. Secrets (fields named like keys, tokens, passwords, DSNs,
and credentials inside URLs) are replaced by ``<redacted>`` before hashing, so the hash cannot be
used to guess one; changing only a secret therefore leaves the hash as it was.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec

from routeiq_app.settings.loader import is_secret
from routeiq_app.settings.model import Settings

REDACTED = "<redacted>"
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")
_SECRET_HEADERS = frozenset({"authorization", "proxy_authorization", "cookie"})


def redacted_settings(settings: Settings) -> dict[str, Any]:
    """The settings as plain data, every secret value replaced by ``<redacted>`` (None stays None)."""
    tree: dict[str, Any] = _redact(msgspec.to_builtins(settings), ())
    return tree


def config_hash(settings: Settings) -> str:
    """``sha256:<hex>`` of the redacted settings in canonical JSON (keys sorted)."""
    body = msgspec.json.encode(redacted_settings(settings), order="sorted")
    return f"sha256:{hashlib.sha256(body).hexdigest()}"


def _secret_name(name: str) -> bool:
    normal = name.lower().replace("-", "_")
    return is_secret((normal,)) or normal in _SECRET_HEADERS


def _redact(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {str(k): _redact(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v, path) for v in value]
    if value is None or not path:
        return value
    if _secret_name(path[-1]) and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, str) and "://" in value:
        return _URL_USERINFO.sub(f"{REDACTED}@", value)
    return value
