"""The distribution version, read from the installed package metadata (declared once in pyproject.toml).

``importlib.metadata`` costs tens of milliseconds to import, so the version is resolved on first
access (``routeiq_core.__version__`` goes through the package's module ``__getattr__``).
"""

import functools


@functools.cache
def read_version() -> str:
    """The installed ``routeiq`` version, or ``0+unknown`` in a never-installed source tree."""
    from importlib import metadata  # deferred: see the module docstring

    try:
        return metadata.version("routeiq")
    except metadata.PackageNotFoundError:
        return "0+unknown"
