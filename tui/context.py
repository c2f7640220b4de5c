"""What every screen shares: the store, the clock, the labels, who is logged in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.i18n import Labels
from tui.store import Store, UserInfo

if TYPE_CHECKING:
    from tui.screens.ticket import TicketScreen

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
    # The not-watched banner is the same on every screen: read by whichever screen polls when
    # the last reading is older than a refresh interval, and shared (a screen just opened shows
    # it at once instead of reading every device's state again). Monotonic seconds.
    banner: str = ""
    banner_read_at: float | None = None
    # The ticket screen kept between tickets (tui.screens.ticket.open_ticket).
    ticket_screen: TicketScreen | None = None
    # Whether a screen has shown its first data (the console has started: tui.app).
    started: bool = False

    @property
    def me(self) -> UserInfo:
        """The logged-in user; screens past the login screen exist only once there is one."""
        if self.user is None:
            raise RuntimeError("no user is logged in")
        return self.user
