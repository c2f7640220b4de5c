"""Every package's tables, imported so that one SQLModel metadata holds them all."""

from __future__ import annotations

from collectors import models as collectors_models
from inventory import accounts as inventory_accounts
from inventory import models as inventory_models
from runbooks import models as runbooks_models
from targets import models as targets_models
from tickets import models as tickets_models

__all__ = [
    "collectors_models",
    "inventory_accounts",
    "inventory_models",
    "runbooks_models",
    "targets_models",
    "tickets_models",
]
