"""Every package's tables, imported so that one SQLModel metadata holds them all."""

from __future__ import annotations

from inventory import models as inventory_models

__all__ = ["inventory_models"]
