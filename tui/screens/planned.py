"""Declaring planned work: device (or one of its ports), start, end, reason; the dialog shows
the access units the window cuts off before anything is declared, and declaring it notifies
their contacts. The service checks the role and everything else again (tickets.planned)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from inventory.accounts import AccountError, PermissionDenied
from inventory.sessions import StoreError
from inventory.timeutil import SHANGHAI
from tickets.choices import DeviceChoice
from tickets.planned import Impact, PlannedWork
from tickets.service import TicketError
from tui.bindings import localize
from tui.context import Context
from tui.i18n import Labels
from tui.store import PlannedRequest

_WHOLE = "__whole__"
_FORMAT = "%Y-%m-%d %H:%M"


def parse_local(text: str) -> dt.datetime | None:
    """``2026-11-28 02:00`` (or ``…T02:00``), Shanghai wall-clock time, as UTC; None if not."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(dt.UTC)


def impact_text(labels_: Labels, impact: Impact, *, zh: bool) -> Text:
    """The units a window cuts off and those that only lose a port, one per line (names are
    the inventory's text: assembled, never markup)."""
    out = Text()
    for key, units in (
        ("plan.cut_off", impact.cut_off),
        ("plan.loses_a_port", impact.loses_a_port),
    ):
        out.append(labels_(key), style="bold")
        out.append("\n")
        if not units:
            out.append("  " + labels_("plan.nobody") + "\n")
        for unit in units:
            name = unit.name_zh if zh and unit.name_zh else unit.name
            out.append(f"  {unit.code}  {name}  AS{unit.asn}\n")
    out.rstrip()
    return out


class PlannedWorkPrompt(ModalScreen[PlannedWork | None]):
    """Check first (who is cut off), then declare and notify; Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel"),
        Binding("ctrl+s", "next", "Check / declare", id="plan.next"),
    ]

    class Loaded(Message):
        def __init__(self, devices: list[DeviceChoice]) -> None:
            super().__init__()
            self.devices = devices

    class Checked(Message):
        def __init__(self, request: PlannedRequest, impact: Impact) -> None:
            super().__init__()
            self.request = request
            self.impact = impact

    class Declared(Message):
        def __init__(self, work: PlannedWork) -> None:
            super().__init__()
            self.work = work

    class Refused(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, ctx: Context, *, start: dt.datetime | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.labels = ctx.labels
        self.devices: list[DeviceChoice] = []
        self.checked: PlannedRequest | None = None
        now = start or ctx.clock()
        # A start two hours ahead, on the hour, as a sensible first guess to edit.
        begin = (
            (now + dt.timedelta(hours=2))
            .astimezone(SHANGHAI)
            .replace(minute=0, second=0, microsecond=0)
        )
        self.default_start = begin.strftime(_FORMAT)
        self.default_end = (begin + dt.timedelta(hours=2)).strftime(_FORMAT)
        localize(self, ctx.labels)

    def compose(self) -> ComposeResult:
        lab = self.labels
        with VerticalScroll(classes="dialog planned"):
            yield Label(lab("plan.title"), classes="dialog-title")
            yield Label(lab("plan.device"))
            yield Select[str]([], id="device", prompt=lab("plan.device"), compact=True)
            yield Label(lab("plan.port"))
            yield Select[str](
                [(lab("plan.whole"), _WHOLE)],
                value=_WHOLE,
                allow_blank=False,
                id="port",
                compact=True,
            )
            with Horizontal(classes="pair"):
                yield Label(lab("plan.start"))
                yield Label(lab("plan.end"))
            with Horizontal(classes="pair"):
                yield Input(self.default_start, id="start", compact=True)
                yield Input(self.default_end, id="end", compact=True)
            yield Label(lab("plan.reason"))
            yield Input(id="reason", max_length=500, compact=True)
            yield Static("", id="impact", markup=False)
            yield Label("", id="problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(lab("plan.check"), variant="primary", id="check", compact=True)
                yield Button(
                    lab("plan.declare"),
                    variant="warning",
                    id="declare",
                    disabled=True,
                    compact=True,
                )
                yield Button(lab("prompt.cancel"), id="cancel", compact=True)
        # The modal's own keys at the bottom, not those of the screen beneath it.
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#device", Select).focus()
        self._load()

    @work(thread=True, exclusive=True, group="plan-load")
    def _load(self) -> None:
        self.post_message(self.Loaded(self.ctx.store.devices(self.ctx.me, now=self.ctx.clock())))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.devices = message.devices
        self.query_one("#device", Select).set_options(
            [(f"{d.site}  {d.name}  ({d.role})", d.name) for d in message.devices]
        )

    @on(Select.Changed, "#device")
    def _device_changed(self, event: Select.Changed) -> None:
        chosen = next((d for d in self.devices if d.name == event.value), None)
        ports = self.query_one("#port", Select)
        ports.set_options(
            [
                (self.labels("plan.whole"), _WHOLE),
                *((i, i) for i in (chosen.interfaces if chosen else ())),
            ]
        )
        ports.value = _WHOLE
        self._changed()

    @on(Select.Changed, "#port")
    @on(Input.Changed)
    def _changed(self) -> None:
        # Whatever changes after a check needs a new check before it can be declared.
        if self.checked is not None:
            self.checked = None
            self.query_one("#impact", Static).update("")
            self.query_one("#declare", Button).disabled = True

    def _problem(self, text: str) -> None:
        self.query_one("#problem", Label).update(text)

    def _request(self) -> PlannedRequest | None:
        device = self.query_one("#device", Select).value
        port = self.query_one("#port", Select).value
        if not isinstance(device, str):
            self._problem(self.labels("plan.need_device"))
            return None
        start = parse_local(self.query_one("#start", Input).value)
        end = parse_local(self.query_one("#end", Input).value)
        if start is None or end is None:
            self._problem(self.labels("plan.bad_time"))
            return None
        if end <= start:
            self._problem(self.labels("plan.end_first"))
            return None
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self._problem(self.labels("plan.need_reason"))
            return None
        self._problem("")
        return PlannedRequest(
            device=device,
            interface=port if isinstance(port, str) and port != _WHOLE else None,
            starts_at=start,
            ends_at=end,
            reason=reason,
        )

    def action_next(self) -> None:
        if self.checked is None:
            self._check_pressed()
        else:
            self._declare_pressed()

    @on(Button.Pressed, "#check")
    def _check_pressed(self) -> None:
        request = self._request()
        if request is not None:
            self._check(request)

    @work(thread=True, exclusive=True, group="plan-check")
    def _check(self, request: PlannedRequest) -> None:
        try:
            impact = self.ctx.store.maintenance_impact(self.ctx.me, request, now=self.ctx.clock())
        except (PermissionDenied, TicketError, AccountError) as exc:
            self.post_message(self.Refused(str(exc)))
        else:
            self.post_message(self.Checked(request, impact))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        self.checked = message.request
        self.query_one("#impact", Static).update(
            impact_text(self.labels, message.impact, zh=self.labels.lang == "zh")
        )
        declare = self.query_one("#declare", Button)
        declare.disabled = False
        declare.focus()
        # The units and the button that declares: on the screen, whatever its height.
        box = self.query_one(VerticalScroll)
        self.call_after_refresh(box.scroll_end, animate=False)

    @on(Button.Pressed, "#declare")
    def _declare_pressed(self) -> None:
        if self.checked is not None:
            self._declare(self.checked)

    @work(thread=True, exclusive=True, group="plan-declare")
    def _declare(self, request: PlannedRequest) -> None:
        try:
            done = self.ctx.store.declare_planned_work(self.ctx.me, request, now=self.ctx.clock())
        except (PermissionDenied, TicketError, AccountError) as exc:
            self.post_message(self.Refused(str(exc)))
        except StoreError as exc:
            self.post_message(self.Refused(str(getattr(exc, "orig", None) or exc)))
        else:
            self.post_message(self.Declared(done))

    @on(Declared)
    def _declared(self, message: Declared) -> None:
        self.dismiss(message.work)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._problem(message.reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
