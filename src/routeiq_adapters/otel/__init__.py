"""OpenTelemetry adapters: the tracing and metrics ports on the OTel SDK (the ``otel`` extra).

Nothing here is imported unless tracing or OTel metrics are on; import the modules directly.
"""

__all__: list[str] = []
