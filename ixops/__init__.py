"""ixops: the application shell (CLI, settings, database, wiring, the simulated lab)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ixops")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"
