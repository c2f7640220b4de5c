"""What the console's screens share: the context, translated bindings, and the poll loop.

A :class:`PollingScreen` loads its data in a worker thread (``@work(thread=True,
exclusive=True)``) and hears back only through messages. The next poll is armed when the last
one has reported, so polls never overlap, and a slow or locked store slows the refresh, never the
keys (dolphie's pattern). A poll requested while one runs (a filter changed, an action done)
supersedes it: the older result is dropped by its generation number when it arrives.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.events import ScreenResume, ScreenSuspend
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from inventory.textsafe import visible
from inventory.timeutil import to_local
from tui.bindings import localize
from tui.context import Context

T = TypeVar("T")


class IxScreen(Screen[None]):
    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        localize(self, ctx.labels)


class TopBar(Static):
    """One line: where you are, who you are, how fresh the data is."""

    def __init__(self, ctx: Context, screen_title: str) -> None:
        super().__init__("", markup=False)
        self.ctx = ctx
        self.screen_title = screen_title
        self.status = ctx.labels("queue.loading")
        self.banner = ctx.banner

    def on_mount(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def set_status(self, status: str) -> None:
        self.status = status
        self.redraw()

    def set_banner(self, banner: str) -> None:
        if banner != self.banner:
            self.banner = banner
            self.redraw()

    def redraw(self) -> None:
        who = ""
        if self.ctx.user is not None:
            user = self.ctx.user
            unit = f" · {user.unit}" if user.unit else ""
            who = f"{user.name} ({self.ctx.labels.role(user.role.value)}{unit})"
        parts = ["ixops", self.screen_title, who, self.status]
        # Narrow terminals get narrow separators: the line (its +08:00 included) stays one line.
        separator = " │ " if 0 < self.size.width < 100 else "  │  "
        line = Text(visible(separator.join(p for p in parts if p), one_line=True))
        if self.banner:
            # Nobody may believe a blind exchange is healthy: said on every screen, in red
            # (collector names are data: their control characters shown, never markup).
            line.append("\n")
            line.append(f" {visible(self.banner, one_line=True)} ", style="bold white on red")
        self.update(line)


class PollingScreen(IxScreen, Generic[T]):
    class Polled(Message):
        def __init__(
            self, generation: int, data: object, at: dt.datetime, banner: str = ""
        ) -> None:
            super().__init__()
            self.generation = generation
            self.data = data
            self.at = at
            self.banner = banner

    class PollFailed(Message):
        def __init__(self, generation: int, reason: str, at: dt.datetime) -> None:
            super().__init__()
            self.generation = generation
            self.reason = reason
            self.at = at

    # Whether the top bar says when the data was last read (not for a form's pick lists).
    SHOWS_FRESHNESS: ClassVar[bool] = True

    def __init__(self, ctx: Context, screen_title: str) -> None:
        super().__init__(ctx)
        self.top_bar = TopBar(ctx, screen_title)
        if not self.SHOWS_FRESHNESS:
            self.top_bar.status = ""
        self._generation = 0
        self._timer: Timer | None = None
        self._suspended = False
        self._failing_since: dt.datetime | None = None
        self._poll_started = time.monotonic()
        self.loaded = False
        # Read just before the screen is shown again (TicketScreen.switch_to): its resume arms
        # the next poll instead of reading once more.
        self._read_ahead = False

    def compose_top(self) -> ComposeResult:
        yield self.top_bar

    # -- what a subclass provides

    def load(self, now: dt.datetime) -> T:
        """Runs in a worker thread: read the store through the Store, return plain values."""
        raise NotImplementedError

    def show(self, data: T) -> None:
        """Runs on the event loop with what :meth:`load` returned."""
        raise NotImplementedError

    def tick(self) -> None:
        """Once a second: redraw what depends on the clock (countdowns); no store access."""

    # -- the loop

    def on_mount(self) -> None:
        self.poll_now()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.loaded and self.is_current:
            self.tick()

    def poll_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._generation += 1
        self._poll(self._generation)

    @work(thread=True, exclusive=True, group="poll")
    def _poll(self, generation: int) -> None:
        self._poll_started = time.monotonic()
        now = self.ctx.clock()
        try:
            data = self.load(now)
        except Exception as exc:  # noqa: BLE001 - any store failure is shown and retried, never fatal
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.post_message(self.PollFailed(generation, reason, now))
            return
        self.post_message(self.Polled(generation, data, now, self._shared_banner(now)))

    def _shared_banner(self, now: dt.datetime) -> str:
        """The banner as last read by any screen, read again once it is a refresh old."""
        ctx = self.ctx
        read_at = ctx.banner_read_at
        if read_at is None or time.monotonic() - read_at >= ctx.refresh_s:
            ctx.banner = self._banner(now)
            ctx.banner_read_at = time.monotonic()
        return ctx.banner

    def _banner(self, now: dt.datetime) -> str:
        """The not-watched banner's text, or "" (read in the poll's worker thread)."""
        try:
            watch = self.ctx.store.watch(self.ctx.me, now=now)
        except Exception:  # noqa: BLE001 - the screen's own poll reports store failures
            return ""
        lab = self.ctx.labels
        parts = []
        if watch.silent:
            parts.append(lab("watch.silent", names=", ".join(watch.silent)))
        elif watch.silent_count:
            parts.append(lab("watch.silent_count", n=watch.silent_count))
        if watch.unknown:
            parts.append(lab("watch.unknown", n=watch.unknown))
        return " · ".join(parts)

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        if message.generation != self._generation:
            return
        self._failing_since = None
        self.loaded = True
        self.show(message.data)  # type: ignore[arg-type]  # what load() returned, as T
        if not self.ctx.started:
            # The console has started: what it has built by now (the modules, the database
            # layer's mappers and statement caches, the app, this screen: 160,000 objects and
            # more) lives as long as it does. Frozen out of the cycle collector's sight, its
            # full collections — every few keys, and 100-300 ms each at 2,000 devices — scan
            # only what was made since (tui.app unfreezes it when the console stops).
            self.ctx.started = True
            self.call_after_refresh(gc.freeze)
        self.top_bar.set_banner(message.banner)
        if self.SHOWS_FRESHNESS:
            self.top_bar.set_status(self.ctx.labels("queue.updated", at=_clock_time(message.at)))
        self._arm()

    @on(PollFailed)
    def _poll_failed(self, message: PollFailed) -> None:
        if message.generation != self._generation:
            return
        if self._failing_since is None:
            self._failing_since = message.at
        self.top_bar.set_status(
            self.ctx.labels(
                "queue.stale", at=_clock_time(self._failing_since), reason=message.reason
            )
        )
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._suspended:
            # A store so big or busy that a poll takes longer than the interval is polled at
            # most a third of the time, so the worker never starves the keys of the GIL.
            took_s = time.monotonic() - self._poll_started
            self._timer = self.set_timer(max(self.ctx.refresh_s, 2 * took_s), self.poll_now)

    def on_screen_suspend(self, _event: ScreenSuspend) -> None:
        # A screen under another one stops polling; it catches up the moment it is back.
        self._suspended = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_screen_resume(self, _event: ScreenResume) -> None:
        was_suspended = self._suspended
        self._suspended = False
        if self._read_ahead:
            self._read_ahead = False
            self._arm()
        elif was_suspended:
            self.poll_now()


def _clock_time(at: dt.datetime) -> str:
    return to_local(at).strftime("%H:%M:%S")
