"""The new-ticket form. A contact picks one of their own unit's ports (only those are offered);
the center may name any device and port, a room, an access unit, or nothing. The service checks
it all again: the form only spares people choices they cannot make."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from inventory.accounts import AccountError, PermissionDenied
from inventory.places import SiteInfo
from inventory.sessions import StoreError
from tickets.choices import DeviceChoice, PortChoice
from tickets.models import Severity, TicketCategory
from tickets.service import TicketError
from tui.context import Context
from tui.screens.base import PollingScreen
from tui.screens.ticket import open_ticket
from tui.store import NewTicketRequest
from tui.widgets.footer import KeyFooter

# What an access unit's contact reports; the others come from collectors and inspections.
_CONTACT_CATEGORIES = (
    TicketCategory.LINK_DOWN,
    TicketCategory.FLAPPING,
    TicketCategory.OPTICAL,
    TicketCategory.THRESHOLD,
    TicketCategory.REQUEST,
    TicketCategory.OTHER,
)


@dataclass(frozen=True)
class FormData:
    ports: list[PortChoice]
    devices: list[DeviceChoice]
    sites: list[SiteInfo]
    units: list[str]


class NewTicketScreen(PollingScreen[FormData]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit", id="new.submit"),
        Binding("escape", "cancel", "Cancel", id="new.cancel"),
    ]

    class Opened(Message):
        def __init__(self, number: str) -> None:
            super().__init__()
            self.number = number

    class Refused(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    SHOWS_FRESHNESS = False

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, ctx.labels("screen.new"))
        self.form: FormData | None = None

    def compose(self) -> ComposeResult:
        lab = self.ctx.labels
        me = self.ctx.me
        yield from self.compose_top()
        with VerticalScroll(id="form"):
            yield Static(
                lab("new.hint_contact" if me.is_contact else "new.hint_center"), classes="hint"
            )
            yield Label(lab("new.title"))
            yield Input(id="title", max_length=200)
            yield Label(lab("new.body"))
            yield Input(id="body")
            categories = _CONTACT_CATEGORIES if me.is_contact else tuple(TicketCategory)
            with Horizontal(classes="pair"):
                yield Label(lab("new.category"))
                yield Label(lab("new.severity"))
            with Horizontal(classes="pair"):
                yield Select(
                    [(lab.category(c), c.value) for c in categories],
                    value=TicketCategory.LINK_DOWN.value,
                    allow_blank=False,
                    prompt=lab("new.category"),
                    id="category",
                )
                yield Select(
                    [(lab.severity(s), s.value) for s in Severity],
                    value=Severity.MINOR.value,
                    allow_blank=False,
                    prompt=lab("new.severity"),
                    id="severity",
                )
            yield Label(lab("new.port") if me.is_contact else lab("new.device"))
            yield Select[str]([], id="device", prompt=lab("new.none"))
            if not me.is_contact:
                yield Label(lab("new.interface"))
                yield Select[str]([], id="interface", prompt=lab("new.none"))
                with Horizontal(classes="pair"):
                    yield Label(lab("new.unit"))
                    yield Label(lab("new.site"))
                with Horizontal(classes="pair"):
                    yield Select[str]([], id="unit", prompt=lab("new.unit"))
                    yield Select[str]([], id="site", prompt=lab("new.site"))
            with Horizontal(classes="buttons"):
                yield Button(lab("new.submit"), variant="primary", id="submit")
                yield Button(lab("new.cancel"), id="cancel")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    # The pick lists are loaded once, in a worker; the form needs no refresh after that.
    def _arm(self) -> None:
        return

    def load(self, now: dt.datetime) -> FormData:
        store, me = self.ctx.store, self.ctx.me
        if me.is_contact:
            return FormData(store.ports(me, now=now), [], [], [])
        choices = store.choices(me, now=now)
        return FormData([], store.devices(me, now=now), choices.sites, choices.units)

    def show(self, data: FormData) -> None:
        if self.form is not None:
            return
        self.form = data
        device = self.query_one("#device", Select)
        if self.ctx.me.is_contact:
            device.set_options([(p.label, f"{p.device}\t{p.interface}") for p in data.ports])
            if data.ports:
                first = data.ports[0]
                device.value = f"{first.device}\t{first.interface}"
            return
        device.set_options([(f"{d.site}  {d.name}  ({d.role})", d.name) for d in data.devices])
        self.query_one("#unit", Select).set_options([(u, u) for u in data.units])
        self.query_one("#site", Select).set_options(
            [(f"{s.code}  {s.name}", s.code) for s in data.sites]
        )

    @on(Select.Changed, "#device")
    def _device_changed(self, event: Select.Changed) -> None:
        if self.ctx.me.is_contact or self.form is None:
            return
        chosen = next((d for d in self.form.devices if d.name == event.value), None)
        interfaces = self.query_one("#interface", Select)
        interfaces.set_options([(i, i) for i in chosen.interfaces] if chosen else [])

    @staticmethod
    def _picked(select: Select[str]) -> str | None:
        value = select.value
        return value if isinstance(value, str) else None

    def _request(self) -> NewTicketRequest:
        title = self.query_one("#title", Input).value
        body = self.query_one("#body", Input).value
        # Both drop-downs have no blank entry; the fallbacks are the service's defaults.
        category = TicketCategory(
            self._picked(self.query_one("#category", Select)) or TicketCategory.OTHER
        )
        severity = Severity(self._picked(self.query_one("#severity", Select)) or Severity.MINOR)
        device_value = self._picked(self.query_one("#device", Select))
        if self.ctx.me.is_contact:
            device, interface = device_value.split("\t") if device_value else (None, None)
            return NewTicketRequest(
                title, body, category, severity, device=device, interface=interface
            )
        return NewTicketRequest(
            title,
            body,
            category,
            severity,
            device=device_value,
            interface=self._picked(self.query_one("#interface", Select)),
            unit=self._picked(self.query_one("#unit", Select)),
            site=None if device_value else self._picked(self.query_one("#site", Select)),
        )

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        self._submit(self._request())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exclusive=True, group="new-ticket")
    def _submit(self, request: NewTicketRequest) -> None:
        try:
            number = self.ctx.store.open_ticket(self.ctx.me, request, now=self.ctx.clock())
        except (PermissionDenied, TicketError, AccountError) as exc:
            self.post_message(self.Refused(str(exc)))
        except StoreError as exc:
            self.post_message(self.Refused(str(getattr(exc, "orig", None) or exc)))
        else:
            self.post_message(self.Opened(number))

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        self.notify(self.ctx.labels("new.opened", number=message.number))
        open_ticket(self.app, self.ctx, message.number, switch=True)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.notify(
            message.reason, title=self.ctx.labels("action.failed"), severity="error", markup=False
        )
