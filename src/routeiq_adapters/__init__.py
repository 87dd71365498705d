"""RouteIQ adapters: implementations of the core's ports over real technologies.

One module per (technology, port). Heavy imports happen inside the adapter that needs them.
"""

__all__: list[str] = []
