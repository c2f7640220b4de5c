"""ixops: the application shell (CLI, settings, database, wiring, the simulated lab)."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # importlib.metadata costs tens of milliseconds at start-up: read only when asked for.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("ixops")
        except PackageNotFoundError:  # running from a source tree without installing
            return "0.0.0+source"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
