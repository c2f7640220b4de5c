"""Where ixops keeps its data and how it finds its database, secrets and inventory.

Read once from the environment at the edge (the CLI) and passed down as a value; nothing
below the application shell reads the environment for itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

import inventory
import targets

EXAMPLE_INVENTORY = Path(inventory.__file__).parent / "examples" / "shanghai-ix"
# The example exchange's performance-target tables (a directory of targets-YYYY.yaml files);
# the same path as targets.document's, without importing the document model (pydantic).
EXAMPLE_TARGETS = Path(targets.__file__).parent / "examples" / "shanghai-ix"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    secrets_file: Path
    inventory_path: Path
    lang: str = "en"
    targets_path: Path = EXAMPLE_TARGETS
    # SLA policies (calendars, budgets, pause states); None: the built-in set.
    sla_policies_path: Path | None = None
    max_file_mb: float = 10.0
    """The largest inventory, checklist or runbook file read (IXOPS_MAX_FILE_MB)."""

    @property
    def default_database_url(self) -> str:
        return f"sqlite:///{self.home / 'ixops.db'}"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 2**20)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("IXOPS_HOME") or platformdirs.user_data_dir("ixops")).expanduser()
        url = env.get("IXOPS_DATABASE_URL") or f"sqlite:///{home / 'ixops.db'}"
        secrets = Path(env.get("IXOPS_SECRETS_FILE") or home / "secrets.yaml").expanduser()
        inventory_path = Path(env.get("IXOPS_INVENTORY") or EXAMPLE_INVENTORY).expanduser()
        lang = env.get("IXOPS_LANG", "en")
        max_mb = env.get("IXOPS_MAX_FILE_MB", "10")
        try:
            max_file_mb = float(max_mb)
        except ValueError:
            raise ValueError(f"IXOPS_MAX_FILE_MB={max_mb!r} is not a number of megabytes") from None
        if not max_file_mb > 0:
            raise ValueError(f"IXOPS_MAX_FILE_MB={max_mb!r} must be more than 0")
        return cls(
            home=home,
            database_url=url,
            secrets_file=secrets,
            inventory_path=inventory_path,
            lang=lang if lang in ("en", "zh") else "en",
            targets_path=Path(env.get("IXOPS_TARGETS") or EXAMPLE_TARGETS).expanduser(),
            sla_policies_path=_sla_policies(env, home),
            max_file_mb=max_file_mb,
        )

    def ensure_home(self) -> Path:
        """IXOPS_HOME, created owner-only (0700) if it does not exist yet."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.home

    def redacted_database_url(self) -> str:
        """The URL as it may be shown: any password replaced."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


def _sla_policies(env: Mapping[str, str], home: Path) -> Path | None:
    if env.get("IXOPS_SLA_POLICIES"):
        return Path(env["IXOPS_SLA_POLICIES"]).expanduser()
    default = home / "sla-policies.yaml"
    return default if default.exists() else None
