"""hotline: signed, hash-chained lines between rival militaries."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``hotline.__version__``: the installed distribution's version, read from its
    metadata on first use (pyproject.toml holds the one number)."""
    if name != "__version__":
        raise AttributeError(f"module 'hotline' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("hotline")
    except PackageNotFoundError:  # a source tree on sys.path, never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
