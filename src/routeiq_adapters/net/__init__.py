"""The SSRF guard over aiohttp: sessions whose connections only reach checked addresses.

See :mod:`routeiq_adapters.net.guarded_http` for what a :func:`guarded_session` guarantees and
``docs/ssrf.md`` for the policy.
"""

from routeiq_adapters.net.getaddrinfo_resolver import GetaddrinfoResolver
from routeiq_adapters.net.guarded_http import GuardedHttp, check_url, guarded_session
from routeiq_adapters.net.guarded_resolver import GuardedResolver

__all__ = ["GetaddrinfoResolver", "GuardedHttp", "GuardedResolver", "check_url", "guarded_session"]
