"""The operations console: the App and its factory.

:func:`make_app` is the one way to build it, for the CLI and the tests alike (posting's
``make_posting()``): it takes a session factory on the store, who is acting (or nobody: log in
first), a clock and a language, so tests can freeze time and run on any store.

Navigation: the queue is the home screen; ``2`` shows the overview above it, ``3`` the exchange
browser, ``4`` the room inspections, and ``1`` goes back; Enter opens a ticket; ``?`` shows
every key; ``ctrl+p`` the command palette.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from inventory.sessions import SessionFactory
from runbooks.run import SshAccess
from tui.bindings import load_keymap, localize, screen_judged
from tui.context import Clock, Context
from tui.i18n import Labels, parse_lang
from tui.screens.base import IxScreen, PollingScreen
from tui.screens.confirm import ConfirmPrompt
from tui.screens.down import DownScreen
from tui.screens.exchange import ExchangeScreen, ExchangeTree
from tui.screens.graph import GraphScreen
from tui.screens.help import HelpScreen
from tui.screens.inspection import InspectionsScreen, WalkthroughScreen
from tui.screens.login import LoginScreen
from tui.screens.new_ticket import NewTicketScreen
from tui.screens.overview import OverviewScreen
from tui.screens.prompts import QueueFilter
from tui.screens.queue import QueueScreen
from tui.screens.targets import TargetsScreen
from tui.screens.ticket import TicketScreen, open_ticket
from tui.store import Store, UserInfo

_GLOBAL_ACTIONS = frozenset({"quit", "help", "go", "refresh"})
_SCREENS: dict[str, type[IxScreen]] = {
    "queue": QueueScreen,
    "overview": OverviewScreen,
    "exchange": ExchangeScreen,
    "inspections": InspectionsScreen,
    "targets": TargetsScreen,
    "down": DownScreen,
}


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The screens' keys, drawn as one "2 3 4 5 6 Screens" when the footer is too narrow for all.
_SCREEN_KEYS = Binding.Group("Screens")


class IxopsApp(App[None]):
    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark,f1", "help", "Help", key_display="?", id="app.help"),
        Binding("1", "go('queue')", "Queue", id="app.queue", group=_SCREEN_KEYS),
        Binding("2", "go('overview')", "Overview", id="app.overview", group=_SCREEN_KEYS),
        Binding("3", "go('exchange')", "Exchange", id="app.exchange", group=_SCREEN_KEYS),
        Binding("4", "go('inspections')", "Inspect", id="app.inspections", group=_SCREEN_KEYS),
        Binding("5", "go('targets')", "Targets", id="app.targets", group=_SCREEN_KEYS),
        Binding("6", "go('down')", "Down now", id="app.down", group=_SCREEN_KEYS),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="app.refresh"),
    ]

    def __init__(self, ctx: Context, *, keymap_problem: str | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.keymap_problem = keymap_problem
        self.title = ctx.labels("app.title")
        localize(self, ctx.labels)

    def on_mount(self) -> None:
        if self.ctx.keymap:
            self.set_keymap(self.ctx.keymap)
        if self.keymap_problem:
            self.notify(
                self.ctx.labels(
                    "help.keymap_bad", path=self.ctx.keymap_path, reason=self.keymap_problem
                ),
                severity="warning",
                markup=False,
            )
        if self.ctx.user is not None:
            self.push_screen(QueueScreen(self.ctx))
        else:
            self.push_screen(LoginScreen(self.ctx), self._logged_in)

    def on_unmount(self) -> None:
        # Frozen once the console had started (tui.screens.base, PollingScreen._polled): given
        # back to the collector when it stops, so what of it is garbage by then is collected.
        gc.unfreeze()

    def _logged_in(self, user: UserInfo | None) -> None:
        if user is None:
            self.exit()
            return
        self.ctx.user = user
        self.notify(
            self.ctx.labels("login.welcome", user=user.name, role=self.ctx.labels.role(user.role))
        )
        self.push_screen(QueueScreen(self.ctx))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Judged for the current screen, or for one whose footer is drawn before it is shown.
        screen = screen_judged(self.screen)
        # A dialog keeps the keyboard: no quitting or jumping away from half-typed input.
        if isinstance(screen, ModalScreen) and action in _GLOBAL_ACTIONS:
            return False
        if action == "go":
            # No footer space spent on going where you already are.
            here = _SCREENS.get(str(parameters[0]) if parameters else "", QueueScreen)
            return not isinstance(screen, here)
        return True

    # -- navigation

    def _logged_in_yet(self) -> bool:
        return self.ctx.user is not None

    def action_go(self, name: str) -> None:
        if not self._logged_in_yet():
            return
        target = _SCREENS.get(name, QueueScreen)
        for screen in reversed(self.screen_stack):
            if isinstance(screen, target):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(target(self.ctx))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        lab = self.ctx.labels
        sections = [
            (lab("help.global"), IxopsApp.BINDINGS),
            (lab("screen.queue"), QueueScreen.BINDINGS),
            (lab("screen.ticket"), TicketScreen.BINDINGS),
            (lab("screen.overview"), OverviewScreen.BINDINGS),
            (lab("screen.exchange"), [*ExchangeScreen.BINDINGS, *ExchangeTree.BINDINGS]),
            (lab("screen.new"), NewTicketScreen.BINDINGS),
            (lab("screen.inspections"), InspectionsScreen.BINDINGS),
            (lab("screen.targets"), TargetsScreen.BINDINGS),
            (lab("screen.walkthrough"), [*WalkthroughScreen.BINDINGS, *ConfirmPrompt.BINDINGS]),
            (lab("screen.graph"), GraphScreen.BINDINGS),
            (lab("screen.down"), DownScreen.BINDINGS),
        ]
        self.push_screen(HelpScreen(self.ctx, sections))

    def action_refresh(self) -> None:
        screen = self.screen
        if isinstance(screen, PollingScreen | WalkthroughScreen):
            screen.poll_now()

    def _queue(self) -> QueueScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                return screen
        return None

    def _filter_queue(self, chosen: QueueFilter) -> None:
        self.action_go("queue")
        queue = self._queue()
        if queue is not None:
            queue.set_filter(chosen)

    def _open(self, number: str) -> None:
        open_ticket(self, self.ctx, number)

    def _new(self) -> None:
        self.push_screen(NewTicketScreen(self.ctx))

    def _plan(self) -> None:
        self.action_go("queue")
        queue = self._queue()
        if queue is not None:
            queue.action_plan()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not self._logged_in_yet():
            return
        lab = self.ctx.labels
        # Each entry says what it does (and its key), in the user's language.
        for key, run in (
            ("queue", lambda: self.action_go("queue")),
            ("overview", lambda: self.action_go("overview")),
            ("exchange", lambda: self.action_go("exchange")),
            ("inspections", lambda: self.action_go("inspections")),
            ("targets", lambda: self.action_go("targets")),
            ("down", lambda: self.action_go("down")),
            ("new", self._new),
            ("help", self.action_help),
            ("refresh", self.action_refresh),
        ):
            yield SystemCommand(lab(f"cmd.{key}"), lab(f"cmd.{key}.help"), run)
        if self.ctx.me.is_center:
            yield SystemCommand(lab("cmd.plan"), lab("cmd.plan.help"), self._plan)
        exchange = screen if isinstance(screen, ExchangeScreen) else None
        if exchange is not None:
            for device_id, node in exchange.device_nodes.items():
                if node.data is None:
                    continue
                yield SystemCommand(
                    lab("cmd.device", name=node.data.name),
                    lab.role(node.data.role),
                    lambda device_id=device_id: exchange.open_device(device_id),
                    discover=False,
                )
        queue = self._queue()
        if queue is None:
            return
        yield SystemCommand(lab("cmd.clear"), lab("cmd.clear.help"), queue.action_clear)
        if queue.choices is not None:
            for site in queue.choices.sites:
                chosen = QueueFilter(site=site.code)
                yield SystemCommand(
                    lab("cmd.filter_site", code=site.code),
                    site.name,
                    lambda chosen=chosen: self._filter_queue(chosen),
                    discover=False,
                )
        for row in queue.page.rows if queue.page is not None else []:
            number = row.number
            yield SystemCommand(
                lab("cmd.open", number=number),
                row.ticket.title,
                lambda number=number: self._open(number),
                discover=False,
            )


def make_app(
    *,
    sessions: SessionFactory,
    user_name: str | None = None,
    clock: Clock = system_clock,
    lang: str = "en",
    refresh_s: float = 2.0,
    keymap_path: Path | None = None,
    ssh_access: SshAccess | None = None,
    targets_path: Path | None = None,
) -> IxopsApp:
    """The console on the store that ``sessions`` opens sessions on (the console names no
    database library: the CLI passes ``ixops.cliapp.App.session``, the demo and the tests
    ``inventory.sessions.session_factory``). With ``user_name`` it starts logged in as that
    account (the CLI decides when that is allowed); without, it asks for a name and password. With
    ``ssh_access`` an engineer runs a runbook's commands from a ticket (``x``); without, the
    ticket shows them only. Raises
    ``inventory.accounts.UnknownUserError`` for an unknown ``user_name``."""
    labels = Labels(parse_lang(lang))
    keymap, problem = load_keymap(keymap_path)
    store = (
        Store(sessions, ssh_access=ssh_access)
        if targets_path is None
        else Store(sessions, ssh_access=ssh_access, targets_path=targets_path)
    )
    ctx = Context(
        store=store,
        clock=clock,
        labels=labels,
        refresh_s=refresh_s,
        keymap=keymap,
        keymap_path=keymap_path,
    )
    if user_name is not None:
        ctx.user = store.user_named(user_name)
    return IxopsApp(ctx, keymap_problem=problem)
