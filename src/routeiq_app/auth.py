"""Bearer-key authentication (the master key for now; virtual keys build on this)."""

from __future__ import annotations

import hmac

from routeiq_app.asgi_types import Scope
from routeiq_core.errors import AuthenticationError


class MasterKeyAuth:
    """Admits requests carrying ``Authorization: Bearer <master key>``; everyone when no key is set."""

    def __init__(self, master_key: str | None) -> None:
        self._key = master_key.encode() if master_key else None

    @property
    def open(self) -> bool:
        """Whether the gateway runs without authentication."""
        return self._key is None

    def check(self, scope: Scope) -> None:
        """Raise 401 unless the request presents the master key."""
        if self._key is None:
            return
        presented = bearer_token(scope)
        if presented is None:
            raise AuthenticationError(
                "Missing API key: send 'Authorization: Bearer <key>'.", code="missing_api_key"
            )
        if not hmac.compare_digest(presented, self._key):
            raise AuthenticationError("Invalid API key.")


def bearer_token(scope: Scope) -> bytes | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            return token.strip() if scheme.lower() == b"bearer" and token.strip() else None
    return None
