"""What every screen shares: the store, the clock, the labels, who is logged in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui.i18n import Labels
from tui.store import Store, UserInfo

Clock = Callable[[], dt.datetime]


@dataclass
class Context:
    store: Store
    clock: Clock
    labels: Labels
    refresh_s: float = 2.0
    keymap: dict[str, str] = field(default_factory=dict)
    keymap_path: Path | None = None
    user: UserInfo | None = None

    @property
    def me(self) -> UserInfo:
        """The logged-in user; screens past the login screen exist only once there is one."""
        if self.user is None:
            raise RuntimeError("no user is logged in")
        return self.user
