"""LLDP cabling audit: what the devices see at the far end of each port against the inventory.

The inventory says where every cable goes. A trunk names both ends, so LLDP must show exactly
that device and port. A member port's far end is the member's own router, which the inventory
does not hold, so there it can only say "something is there" (and not one of our own devices).
Any other port should see nothing.

`CablingPlan.audit` is the pure comparison; `plan_from_store` builds the plan from the
inventory tables and `record_cabling` stores mismatches as `cabling_mismatch` link events (one
per mismatch as long as it lasts, and a `cabling_cleared` once the port is right again).

Names are compared the way people read them: interface names in napalm's canonical long form
(`Hu1/0/25` = `HundredGigE1/0/25` = `HundredGigabitEthernet1/0/25`), device names
case-insensitively and without a domain (`chj-acc1.example.net` = `chj-acc1`).

A far port matches on the LLDP port ID or the port description: a Linux route server (lldpd)
sends its MAC as port ID and its interface name (`eth3`) as description (napalm's EOS
recording). A far device matches on the system name or, when that names none of ours, on the
chassis ID that device was seen with elsewhere (`chassis_ids`, learnt from the round).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session, col, select

from collectors.models import EventKind, LinkEvent
from collectors.ssh import LldpNeighbor
from collectors.store import InventoryIndex, store_event
from inventory import models as inv
from inventory.timeutil import require_aware

SOURCE = "ssh"
MISMATCH = EventKind.CABLING_MISMATCH
CLEARED = EventKind.CABLING_CLEARED


class MismatchKind(StrEnum):
    MISSING_NEIGHBOR = "missing_neighbor"  # the inventory has a link here; LLDP sees nothing
    UNEXPECTED_NEIGHBOR = "unexpected_neighbor"  # no link in the inventory; LLDP sees one
    WRONG_DEVICE = "wrong_device"  # a trunk's far end is another device
    WRONG_PORT = "wrong_port"  # a trunk reaches the right device on the wrong port
    EXCHANGE_DEVICE_ON_MEMBER_PORT = "exchange_device_on_member_port"


class ExpectedKind(StrEnum):
    TRUNK = "trunk"
    MEMBER = "member"


def canonical_port(name: str) -> str:
    from napalm.base.helpers import canonical_interface_name

    return str(canonical_interface_name(name.strip()))


def normalise_chassis_id(value: str) -> str:
    """`2C:60:0C:AD:30:DE`, `2c60.0cad.30de` and `2c-60-0c-ad-30-de` are one chassis ID."""
    hexdigits = "".join(c for c in value.lower() if c in "0123456789abcdef")
    return hexdigits if len(hexdigits) == 12 else value.strip().lower()


def _short_device(name: str) -> str:
    return name.strip().lower().split(".")[0]


@dataclass(frozen=True)
class PortExpectation:
    device: str
    port: str
    kind: ExpectedKind
    link_key: str
    far_device: str | None = None
    far_port: str | None = None
    access_unit: str | None = None

    def describe(self) -> str:
        if self.kind is ExpectedKind.TRUNK:
            return f"{self.far_device} {self.far_port}"
        return f"member {self.access_unit or '?'} router"


@dataclass(frozen=True)
class CablingFinding:
    kind: MismatchKind
    device: str
    port: str
    expected: str
    observed: str
    link_key: str | None
    message: str
    # The trunk that belongs where the unexpected neighbour was seen, when there is one:
    # the tell-tale of a trunk patched into the wrong port.
    belongs_on: str | None = None

    @property
    def fingerprint(self) -> str:
        return f"{self.kind.value}|{self.observed}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind.value,
            "device": self.device,
            "port": self.port,
            "expected": self.expected,
            "observed": self.observed,
            "link": self.link_key,
            "belongs_on": self.belongs_on,
            "message": self.message,
        }


@dataclass(frozen=True)
class CablingPlan:
    """The inventory's cabling: expectations per (device, canonical port)."""

    devices: frozenset[str]
    expectations: Mapping[tuple[str, str], PortExpectation] = field(default_factory=dict)
    # Display names of inventory ports by (device, canonical port).
    port_names: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # Our devices by LLDP chassis ID (normalised MAC), as their neighbours saw them.
    chassis_ids: Mapping[str, str] = field(default_factory=dict)

    def _our_device(self, observed: str, chassis_id: str = "") -> str | None:
        short = _short_device(observed)
        for name in self.devices:
            if _short_device(name) == short:
                return name
        return self.chassis_ids.get(normalise_chassis_id(chassis_id)) if chassis_id else None

    def learn_chassis_ids(self, neighbors: Iterable[LldpNeighbor]) -> CablingPlan:
        """The plan, knowing the chassis IDs our devices were seen with by these neighbours."""
        known = dict(self.chassis_ids)
        for n in neighbors:
            ours = self._our_device(n.remote_device)
            if ours is not None and n.remote_chassis_id:
                known.setdefault(normalise_chassis_id(n.remote_chassis_id), ours)
        return CablingPlan(self.devices, self.expectations, self.port_names, known)

    def audit(
        self,
        device: str,
        neighbors: Iterable[LldpNeighbor],
        *,
        ports_up: Mapping[str, bool] | None = None,
    ) -> tuple[CablingFinding, ...]:
        """Every mismatch on one device's ports, sorted by port.

        `ports_up` (port name → operationally up), when known, spares ports that are down
        from "missing neighbour": a down link has no LLDP neighbour, and the link-down event
        already tells that story.
        """
        seen: dict[str, list[LldpNeighbor]] = {}
        for neighbor in neighbors:
            seen.setdefault(canonical_port(neighbor.local_port), []).append(neighbor)
        up = {canonical_port(k): v for k, v in (ports_up or {}).items()}
        findings: list[CablingFinding] = []
        own_ports = {port for (owner, port) in self.expectations if owner == device}
        for port in sorted(own_ports | set(seen)):
            expectation = self.expectations.get((device, port))
            display = self.port_names.get((device, port), port)
            observed = seen.get(port, [])
            if not observed:
                if expectation is not None and up.get(port, True):
                    findings.append(
                        CablingFinding(
                            kind=MismatchKind.MISSING_NEIGHBOR,
                            device=device,
                            port=display,
                            expected=expectation.describe(),
                            observed="nothing",
                            link_key=expectation.link_key,
                            message=f"{device} {display}: expected {expectation.describe()}, "
                            "LLDP sees no neighbour",
                        )
                    )
                continue
            for neighbor in observed:
                finding = self._compare(device, display, expectation, neighbor)
                if finding is not None:
                    findings.append(finding)
        return tuple(findings)

    def _compare(
        self,
        device: str,
        port: str,
        expectation: PortExpectation | None,
        neighbor: LldpNeighbor,
    ) -> CablingFinding | None:
        ours = self._our_device(neighbor.remote_device, neighbor.remote_chassis_id)
        far_port = canonical_port(neighbor.remote_port)
        far_description = canonical_port(neighbor.remote_port_description or neighbor.remote_port)
        observed = f"{neighbor.remote_device or neighbor.remote_chassis_id} {neighbor.remote_port}"
        if neighbor.remote_port_description and neighbor.remote_port_description != (
            neighbor.remote_port
        ):
            observed += f" ({neighbor.remote_port_description})"
        belongs_on: str | None = None
        if ours is not None:
            home = self.expectations.get((ours, far_port))
            if (
                home is not None
                and home.kind is ExpectedKind.TRUNK
                and home.far_device is not None
                and home.far_port is not None
                and home.far_device == device
                and canonical_port(home.far_port) != canonical_port(port)
            ):
                belongs_on = f"{device} {home.far_port}"
        hint = f"; that trunk belongs on {belongs_on}" if belongs_on else ""

        def found(kind: MismatchKind, expected: str, text: str) -> CablingFinding:
            return CablingFinding(
                kind=kind,
                device=device,
                port=port,
                expected=expected,
                observed=observed,
                link_key=expectation.link_key if expectation else None,
                message=f"{device} {port}: {text}{hint}",
                belongs_on=belongs_on,
            )

        if expectation is None:
            return found(
                MismatchKind.UNEXPECTED_NEIGHBOR,
                "nothing",
                f"no link in the inventory, LLDP sees {observed}",
            )
        if expectation.kind is ExpectedKind.MEMBER:
            if ours is None:
                return None
            return found(
                MismatchKind.EXCHANGE_DEVICE_ON_MEMBER_PORT,
                expectation.describe(),
                f"member port of {expectation.access_unit or '?'} sees our own {observed}",
            )
        expected = expectation.describe()
        far_device = expectation.far_device or ""
        if ours is None or _short_device(ours) != _short_device(far_device):
            return found(
                MismatchKind.WRONG_DEVICE, expected, f"expected {expected}, LLDP sees {observed}"
            )
        wanted_port = canonical_port(expectation.far_port or "")
        if wanted_port not in (far_port, far_description):
            return found(
                MismatchKind.WRONG_PORT, expected, f"expected {expected}, LLDP sees {observed}"
            )
        return None


# -- the store ------------------------------------------------------------------------------


def plan_from_store(session: Session) -> CablingPlan:
    """The cabling plan of the active inventory in the store."""
    devices = {
        d.id: d.name
        for d in session.exec(select(inv.Device).where(col(inv.Device.retired_at).is_(None)))
    }
    interfaces = {
        i.id: (devices[i.device_id], i.name)
        for i in session.exec(select(inv.Interface).where(col(inv.Interface.retired_at).is_(None)))
        if i.device_id in devices
    }
    units = {u.id: u.code for u in session.exec(select(inv.AccessUnit))}
    expectations: dict[tuple[str, str], PortExpectation] = {}
    for link in session.exec(select(inv.Link).where(col(inv.Link.retired_at).is_(None))):
        a = interfaces.get(link.a_interface_id)
        b = interfaces.get(link.b_interface_id) if link.b_interface_id is not None else None
        if a is None:
            continue
        if b is not None:
            for (here, port), (there, far) in ((a, b), (b, a)):
                expectations[(here, canonical_port(port))] = PortExpectation(
                    device=here,
                    port=port,
                    kind=ExpectedKind.TRUNK,
                    link_key=link.key,
                    far_device=there,
                    far_port=far,
                )
        else:
            unit = units.get(link.access_unit_id) if link.access_unit_id is not None else None
            expectations[(a[0], canonical_port(a[1]))] = PortExpectation(
                device=a[0],
                port=a[1],
                kind=ExpectedKind.MEMBER,
                link_key=link.key,
                access_unit=unit,
            )
    port_names = {(dev, canonical_port(name)): name for dev, name in interfaces.values()}
    return CablingPlan(
        devices=frozenset(devices.values()), expectations=expectations, port_names=port_names
    )


def _latest_cabling_events(session: Session, device_id: int) -> dict[str, LinkEvent]:
    rows = session.exec(
        select(LinkEvent)
        .where(LinkEvent.device_id == device_id, col(LinkEvent.kind).in_((MISMATCH, CLEARED)))
        .order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
    ).all()
    latest: dict[str, LinkEvent] = {}
    for row in rows:
        latest[row.event_key.split("|")[1]] = row
    return latest


def record_cabling(
    *,
    session: Session,
    index: InventoryIndex,
    device: str,
    findings: Iterable[CablingFinding],
    detected_at: dt.datetime,
    now: dt.datetime,
) -> list[LinkEvent]:
    """Store new mismatches of one audited device, and clear those now fixed.

    A mismatch already reported (same port, same kind, same far end) is not reported again.
    """
    detected_at, now = require_aware(detected_at), require_aware(now)
    ref = index.devices.get(device)
    if ref is None:
        return []
    latest = _latest_cabling_events(session, ref.id)
    events: list[LinkEvent] = []
    current: set[str] = set()
    for finding in findings:
        subject = f"interface:{device}:{finding.port}:cabling"
        current.add(subject)
        previous = latest.get(subject)
        if (
            previous is not None
            and previous.kind == MISMATCH
            and (previous.details or {}).get("fingerprint") == finding.fingerprint
        ):
            continue
        port = index.port(device, finding.port)
        row = store_event(
            session,
            kind=MISMATCH,
            subject=subject,
            detected_at=detected_at,
            now=now,
            source=SOURCE,
            device_id=ref.id,
            interface_id=port.interface_id if port else None,
            link_id=port.link_id if port else None,
            details={**finding.as_dict(), "fingerprint": finding.fingerprint},
        )
        if row is not None:
            events.append(row)
    for subject, previous in latest.items():
        if previous.kind != MISMATCH or subject in current:
            continue
        row = store_event(
            session,
            kind=CLEARED,
            subject=subject,
            detected_at=detected_at,
            now=now,
            source=SOURCE,
            device_id=ref.id,
            interface_id=previous.interface_id,
            link_id=previous.link_id,
            details={"cleared": (previous.details or {}).get("message")},
        )
        if row is not None:
            events.append(row)
    session.flush()
    return events
