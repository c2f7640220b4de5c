"""`ixops demo`: the whole example exchange, live, with a scripted first minute.

A fresh SQLite store in the demo's data directory; the example inventory synced; random lab
credentials; three accounts (an admin, an engineer and one access unit's contact); the lab
(every device as SNMP agent and SSH CLI on 127.0.x.y) with its traps going to the collector;
the collector polling every few seconds; and a story:

- t+10 s  a member port goes down — a ticket opens with its 4-hour response countdown;
- t+25 s  an inter-room trunk flaps — one flapping ticket, not a dozen;
- t+40 s  the access unit's contact logs an issue of their own.

The backend runs on its own asyncio loop in a thread, so the console (Textual, its own loop)
stays responsive; both share the store, as separate processes would.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from inventory.accounts import Role, acting_user, add_user, count_users, map_os_user
from inventory.credentials import CredentialStore
from inventory.sync import sync_inventory
from inventory.validate import Inventory
from ixlab.build import lab_from_inventory
from ixlab.runner import Lab
from ixops.cli_lab import lab_secrets, write_lab_secrets
from ixops.collect import Collector
from tickets.models import Severity, TicketCategory
from tickets.service import open_ticket

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class StoryStep:
    at_s: float
    text: str


@dataclass
class DemoAccounts:
    admin: str = "admin"
    engineer: str = "engineer"
    contact: str = ""
    password: str = field(default_factory=lambda: secrets.token_urlsafe(9))


def story_for(inventory: Inventory) -> tuple[tuple[str, str], tuple[str, str], str]:
    """The member port, the trunk and the access unit the story uses."""
    member: tuple[str, str] | None = None
    unit_code = ""
    for unit in inventory.access_units:
        for port in unit.value.ports:
            if "-acc" in port.device and member is None:
                member = (port.device, port.interface)
                unit_code = unit.value.code
    trunk: tuple[str, str] | None = None
    for link in inventory.links:
        if link.value.circuit is not None:
            trunk = (link.value.b.device, link.value.b.interface)
            break
    if member is None or trunk is None:
        raise ValueError("the demo needs an access unit on an access switch and a leased trunk")
    return member, trunk, unit_code


def prepare(
    *,
    engine: Engine,
    inventory: Inventory,
    secrets_file: Path,
    now: dt.datetime,
    os_user: str | None = None,
) -> DemoAccounts:
    """Sync the inventory, write lab credentials and create the demo's accounts; the OS user
    running the demo (``os_user``) is mapped to all three, so `--as` works in its sandbox."""
    accounts = DemoAccounts()
    _, _, unit_code = story_for(inventory)
    accounts.contact = f"{unit_code}-noc"
    write_lab_secrets(inventory, secrets_file)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=now)
        if count_users(session) == 0:
            admin = add_user(
                session=session,
                actor=None,
                name=accounts.admin,
                role=Role.ADMIN,
                password=accounts.password,
                now=now,
                bootstrap_os_user=os_user,
            )
            add_user(
                session=session,
                actor=admin,
                name=accounts.engineer,
                role=Role.ENGINEER,
                password=accounts.password,
                now=now,
            )
            add_user(
                session=session,
                actor=admin,
                name=accounts.contact,
                role=Role.CONTACT,
                password=accounts.password,
                unit_code=unit_code,
                now=now,
            )
            if os_user is not None:
                for name in (accounts.engineer, accounts.contact):
                    map_os_user(session=session, actor=admin, os_user=os_user, name=name, now=now)
    return accounts


class DemoBackend:
    """The lab, the collector and the story on one asyncio loop (in a thread of its own)."""

    def __init__(
        self,
        *,
        engine: Engine,
        inventory: Inventory,
        credentials: CredentialStore,
        accounts: DemoAccounts,
        clock: Clock,
        trap_port: int = 1162,
        interval_s: float = 5.0,
        say: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.engine = engine
        self.inventory = inventory
        self.credentials = credentials
        self.accounts = accounts
        self.clock = clock
        self.trap_port = trap_port
        self.interval_s = interval_s
        self.say = say
        self.member, self.trunk, self.unit_code = story_for(inventory)
        self.state = lab_from_inventory(inventory)
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.story_done = threading.Event()

    async def run(self, *, pace: float = 1.0) -> None:
        """Run until `stop()`; `pace` scales the story's timing (tests run it faster)."""
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        lab = Lab(
            self.state,
            lab_secrets(self.inventory, self.credentials),
            trap_receivers=[("127.0.0.1", self.trap_port)],
        )
        collector = Collector(
            engine=self.engine,
            inventory=self.inventory,
            credentials=self.credentials,
            clock=self.clock,
            interval_s=self.interval_s,
            timeout_s=1.0,
            trap_port=self.trap_port,
        )
        await lab.start()
        try:
            baseline = asyncio.Event()
            polling = asyncio.create_task(collector.run(on_round=lambda _r: baseline.set()))
            # The story starts once the collector knows the exchange as it is: a port that
            # goes down before its first poll would look like it was always down.
            waiting = asyncio.create_task(baseline.wait())
            await asyncio.wait({polling, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if polling.done():
                waiting.cancel()
                polling.result()  # the collector could not start: raise why
            story = asyncio.create_task(self.story(pace))
            self.ready.set()
            await self._stop.wait()
            for task in (story, polling):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await lab.stop()

    async def story(self, pace: float = 1.0) -> None:
        device, port = self.member
        await asyncio.sleep(10 * pace)
        self.state.set_port(device, port, up=False)
        self.say(f"story: {device} {port} lost its link (access unit {self.unit_code})")
        await asyncio.sleep(15 * pace)
        t_device, t_port = self.trunk
        for _ in range(6):
            self.state.set_port(t_device, t_port, up=False)
            await asyncio.sleep(0.5 * pace)
            self.state.set_port(t_device, t_port, up=True)
            await asyncio.sleep(0.5 * pace)
        self.say(f"story: trunk {t_device} {t_port} flapped 6 times")
        await asyncio.sleep(10 * pace)
        await asyncio.to_thread(self._contact_logs_an_issue)
        self.say(f"story: {self.accounts.contact} logged an issue")
        self.story_done.set()

    def _contact_logs_an_issue(self) -> None:
        device, _ = self.member
        with Session(self.engine) as session:
            contact = acting_user(session, self.accounts.contact)
            ports = [
                p.interface
                for u in self.inventory.access_units
                if u.value.code == self.unit_code
                for p in u.value.ports
            ]
            open_ticket(
                session=session,
                user=contact,
                title="Packet loss towards the route servers since 14:00",
                body=(
                    "Our BGP sessions to both route servers reset twice. "
                    "我们与路由服务器的BGP会话重置了两次。"
                ),
                category=TicketCategory.REQUEST,
                severity=Severity.MINOR,
                interface=ports[-1] if ports else None,
                device=device,
                unit=self.unit_code,
                now=self.clock(),
            )

    # -- running beside the console ------------------------------------------------------------

    def start_in_thread(self, pace: float = 1.0) -> None:
        def target() -> None:
            try:
                asyncio.run(self.run(pace=pace))
            except BaseException as exc:  # noqa: BLE001 - reported to the console's thread
                self.error = exc
                self.ready.set()

        self._thread = threading.Thread(target=target, name="ixops-demo-backend", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)
