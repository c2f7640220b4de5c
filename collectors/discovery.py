"""What discovery decides and finds: port bindings, discovery problems, the device's identity.

Each `record_*` function writes in the caller's transaction (the caller commits), like
collectors.store. A problem is one `DiscoveryProblem` row per device, kind and port: opened
once (and logged once, by the collector that found it), kept up to date while it holds,
resolved when it no longer does and reopened if it returns. The read functions at the bottom
(`device_discovery`, `port_audit`) are what the console and `ixops audit ports` show.

Identity is stored per source (`snmp` from discovery, `ssh` from the SSH facts getter) through
one function, `record_device_identity`, which compares what the device says with the
inventory: a vendor, model or serial that contradicts it is a stored `identity_mismatch` event
(a wrong device at this address) and an open problem.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from collectors.models import DeviceIdentity, DiscoveryProblem, EventKind, LinkEvent, PortBinding
from collectors.ports import (
    DeviceInterface,
    PortProblemKind,
    match_ports,
    speed_mismatch,
)
from collectors.snmp import Discovery, SnmpIdentity
from inventory import models as inv
from inventory.timeutil import require_aware

log = logging.getLogger(__name__)

# Ports in service: a member, trunk or uplink port shut on the device is a problem to list.
IN_SERVICE_ROLES: Final = frozenset({"member", "trunk", "uplink"})
# An undeclared port is "carrying traffic" from this rate (in + out); background chatter (LLDP,
# STP, ARP) stays far below it. It is "quiet" again below a tenth of it.
UNDECLARED_TRAFFIC_BPS: Final = 1_000_000.0
# IANAifType of ports that carry members' traffic: ethernetCsmacd, fastEther, fastEtherFX,
# gigabitEthernet, ieee8023adLag. Virtual interfaces (VLAN, loopback, logical units) are not.
TRAFFIC_IF_TYPES: Final = frozenset({6, 62, 69, 117, 161})
IDENTITY_MISMATCH_EVENT: Final = EventKind.IDENTITY_MISMATCH

# sysObjectID enterprise number → the names a vendor goes by (the first one is shown).
VENDOR_BY_ENTERPRISE: Final[dict[int, tuple[str, ...]]] = {
    9: ("Cisco",),
    2636: ("Juniper",),
    30065: ("Arista",),
    2011: ("Huawei",),
    25506: ("H3C", "HPE", "Hewlett"),
    11: ("HP", "HPE", "Hewlett"),
    318: ("APC", "Schneider"),
    705: ("Eaton",),
    534: ("Eaton",),
    4881: ("Ruijie",),
    3902: ("ZTE",),
    6027: ("Dell", "Force10"),
    674: ("Dell",),
    12356: ("Fortinet",),
    25461: ("Palo Alto",),
    1588: ("Brocade",),
    1991: ("Brocade", "Foundry"),
    2620: ("Check Point",),
}


# -- identity (pure) --------------------------------------------------------------------------


def vendor_names(sys_object_id: str) -> tuple[str, ...]:
    """The names of the vendor a sysObjectID belongs to; () when it is not one we know."""
    parts = sys_object_id.strip(".").split(".")
    if len(parts) < 7 or parts[:6] != ["1", "3", "6", "1", "4", "1"]:
        return ()
    try:
        return VENDOR_BY_ENTERPRISE.get(int(parts[6]), ())
    except ValueError:
        return ()


_VERSION_PATTERNS: Final = (
    re.compile(r"\bJUNOS\s+([\w.\-]+)", re.IGNORECASE),
    re.compile(r"\bEOS version\s+([\w.\-]+)", re.IGNORECASE),
    re.compile(r"\bVersion\s+([\w.()\-]+)", re.IGNORECASE),
)


def os_version_of(sys_descr: str) -> str:
    """The software version a sysDescr names (Cisco, Juniper, Arista, Huawei, H3C), or ""."""
    for pattern in _VERSION_PATTERNS:
        found = pattern.search(sys_descr)
        if found:
            return found.group(1).rstrip(",.")
    return ""


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def identity_conflicts(
    *,
    inventory_vendor: str,
    inventory_model: str,
    inventory_serial: str,
    vendors: Sequence[str],
    model: str,
    serial: str,
    descriptions: Sequence[str] = (),
) -> list[str]:
    """What the device says that contradicts the inventory; [] when nothing does.

    Only what both sides state is compared: a device without ENTITY-MIB has no serial to
    contradict. Vendor: one of the device's vendor names appears in the inventory's. Model:
    one contains the other once case and punctuation are dropped (`WS-C3750G-12S-S` is a
    `WS-C3750G-12S`), or the inventory's model is named in one of the device's
    `descriptions` (a Juniper chassis' model column holds a part number, `710-030012`; its
    description says `Juniper MX960 …`). Serial: equal, ignoring case and spaces.
    """
    conflicts = []
    inv_vendor = _squash(inventory_vendor)
    if vendors and inv_vendor and not any(_squash(v) in inv_vendor for v in vendors):
        conflicts.append(f"vendor: inventory {inventory_vendor!r}, the device is {vendors[0]!r}")
    inv_model, dev_model = _squash(inventory_model), _squash(model)
    named = any(inv_model and inv_model in _squash(text) for text in descriptions)
    if (
        inv_model
        and dev_model
        and inv_model not in dev_model
        and dev_model not in inv_model
        and not named
    ):
        conflicts.append(f"model: inventory {inventory_model!r}, the device says {model!r}")
    inv_serial, dev_serial = _squash(inventory_serial), _squash(serial)
    if inv_serial and dev_serial and inv_serial != dev_serial:
        conflicts.append(f"serial: inventory {inventory_serial!r}, the device says {serial!r}")
    return conflicts


# -- problems ---------------------------------------------------------------------------------


def problem_key(device_id: int, kind: PortProblemKind, port: str) -> str:
    return f"{device_id}|{kind.value}|{port}"


def open_problem(
    session: Session,
    *,
    device_id: int,
    kind: PortProblemKind,
    port: str,
    detail: str,
    now: dt.datetime,
    interface_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    known: dict[str, DiscoveryProblem] | None = None,
) -> bool:
    """Open (or keep open) a problem; True when it is new or back after being resolved.
    ``known``: the device's problem rows by key, read by the caller (a new one is added)."""
    key = problem_key(device_id, kind, port)
    if known is not None:
        row = known.get(key)
    else:
        row = session.exec(
            select(DiscoveryProblem).where(DiscoveryProblem.problem_key == key)
        ).first()
    fresh = row is None or row.resolved_at is not None
    if row is None:
        row = DiscoveryProblem(
            problem_key=key,
            device_id=device_id,
            kind=kind.value,
            port=port,
            first_seen_at=now,
            last_seen_at=now,
        )
    elif row.resolved_at is not None:
        row.first_seen_at = now
        row.resolved_at = None
    row.interface_id = interface_id
    row.detail = detail
    row.data = dict(data) if data else None
    row.last_seen_at = now
    session.add(row)
    if known is not None:
        known[key] = row
    return fresh


def resolve_problems(
    session: Session,
    *,
    device_id: int,
    kinds: Iterable[PortProblemKind],
    now: dt.datetime,
    keep: Iterable[str] = (),
    ports: Iterable[str] | None = None,
    known: Mapping[str, DiscoveryProblem] | None = None,
) -> int:
    """Resolve the device's open problems of these kinds except the `keep` keys (and, when
    `ports` is given, only those of these ports); return how many. ``known``: as for
    :func:`open_problem`, every problem row of the device."""
    kept = set(keep)
    only = set(ports) if ports is not None else None
    values = {k.value for k in kinds}
    if known is not None:
        rows: Sequence[DiscoveryProblem] = [
            r for r in known.values() if r.kind in values and r.resolved_at is None
        ]
    else:
        rows = session.exec(
            select(DiscoveryProblem).where(
                DiscoveryProblem.device_id == device_id,
                col(DiscoveryProblem.kind).in_(sorted(values)),
                col(DiscoveryProblem.resolved_at).is_(None),
            )
        ).all()
    resolved = 0
    for row in rows:
        if row.problem_key in kept or (only is not None and row.port not in only):
            continue
        row.resolved_at = now
        session.add(row)
        resolved += 1
    return resolved


# -- identity ---------------------------------------------------------------------------------


def record_device_identity(
    session: Session,
    device: inv.Device,
    *,
    source: str,
    now: dt.datetime,
    vendor: str = "",
    model: str = "",
    serial: str = "",
    os_version: str = "",
    sys_name: str = "",
    sys_descr: str = "",
    sys_object_id: str = "",
    descriptions: Sequence[str] = (),
) -> list[LinkEvent]:
    """Store what `source` says the device is, and compare it with the inventory.

    `vendor` may be empty when `sys_object_id` names it. A contradiction is an open
    `identity_mismatch` problem of this source and, when it is new, an `identity_mismatch`
    event (returned); agreement resolves the problem.
    """
    from collectors.store import store_event  # store imports this module's users, not it

    now = require_aware(now)
    device_id = device.id
    if device_id is None:
        raise ValueError(f"device {device.name} has no id")
    vendors = (vendor,) if vendor else vendor_names(sys_object_id)
    row = session.exec(
        select(DeviceIdentity).where(
            DeviceIdentity.device_id == device_id, DeviceIdentity.source == source
        )
    ).first() or DeviceIdentity(device_id=device_id, source=source, observed_at=now)
    row.vendor = vendors[0] if vendors else vendor
    row.model = model
    row.serial = serial
    row.os_version = os_version
    row.sys_name = sys_name
    row.sys_descr = sys_descr
    row.sys_object_id = sys_object_id
    row.observed_at = now
    session.add(row)
    conflicts = identity_conflicts(
        inventory_vendor=device.vendor,
        inventory_model=device.model,
        inventory_serial=device.serial,
        vendors=vendors,
        model=model,
        serial=serial,
        descriptions=(*descriptions, sys_descr),
    )
    port = f"({source})"
    if not conflicts:
        resolve_problems(
            session,
            device_id=device_id,
            kinds=[PortProblemKind.IDENTITY_MISMATCH],
            now=now,
            ports=[port],
        )
        return []
    detail = "; ".join(conflicts)
    fresh = open_problem(
        session,
        device_id=device_id,
        kind=PortProblemKind.IDENTITY_MISMATCH,
        port=port,
        detail=detail,
        now=now,
        data={"source": source, "conflicts": conflicts},
    )
    if not fresh:
        return []
    log.warning("%s: wrong device at %s? %s (%s)", device.name, device.mgmt_address, detail, source)
    event = store_event(
        session,
        kind=IDENTITY_MISMATCH_EVENT,
        subject=f"device:{device.name}:identity:{source}",
        detected_at=now,
        now=now,
        source=source,
        device_id=device_id,
        details={
            "conflicts": conflicts,
            "vendor": row.vendor,
            "model": model,
            "serial": serial,
            "sys_name": sys_name,
        },
    )
    return [event] if event is not None else []


def record_snmp_identity(
    session: Session, device: inv.Device, identity: SnmpIdentity, *, now: dt.datetime
) -> list[LinkEvent]:
    """`record_device_identity` from what SNMP discovery read."""
    return record_device_identity(
        session,
        device,
        source="snmp",
        now=now,
        model=identity.chassis_model,
        serial=identity.chassis_serial,
        os_version=identity.software_rev or os_version_of(identity.sys_descr),
        sys_name=identity.sys_name,
        sys_descr=identity.sys_descr,
        sys_object_id=identity.sys_object_id,
        descriptions=(identity.chassis_descr,),
    )


# -- discovery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredPort:
    """A declared port as discovery needs it (collectors.store.PortRef has these fields)."""

    interface_id: int
    name: str
    speed_mbps: int
    role: str


@dataclass
class DiscoveryOutcome:
    bindings: dict[int, int] = field(default_factory=dict)  # ifIndex → interface id
    new_problems: list[str] = field(default_factory=list)
    events: list[LinkEvent] = field(default_factory=list)


_DISCOVERY_KINDS: Final = (
    PortProblemKind.ABSENT,
    PortProblemKind.AMBIGUOUS,
    PortProblemKind.SPEED_MISMATCH,
)


def record_discovery(
    session: Session,
    *,
    device: inv.Device,
    declared: Sequence[DeclaredPort],
    discovery: Discovery,
    now: dt.datetime,
    oper_up: Iterable[int] | None = None,
) -> DiscoveryOutcome:
    """Bind the declared ports to the device's interfaces, store how, and the problems found.

    Replaces the device's bindings; resolves absent/ambiguous/speed problems that no longer
    hold; logs each new problem once. The identity discovery read is recorded too. Speeds are
    judged only on the ports in `oper_up` (ifIndexes; all when None): a port that is down
    reports whatever its transceiver defaults to (a real Catalyst says 10M).
    """
    now = require_aware(now)
    device_id = device.id
    if device_id is None:
        raise ValueError(f"device {device.name} has no id")
    infos = {info.if_index: info for info in discovery.interfaces}
    up = set(oper_up) if oper_up is not None else set(infos)
    matching = match_ports(
        [p.name for p in declared],
        [DeviceInterface(i.if_index, i.if_name, i.descr) for i in discovery.interfaces],
    )
    by_name = {p.name: p for p in declared}
    # The old bindings deleted and the new ones inserted in one statement each, and the
    # device's problems read once: a first round discovers every device (49,000 ports at
    # 1,000 devices), where a row and a look-up per port cost more than the walk.
    session.execute(delete(PortBinding).where(col(PortBinding.device_id) == device_id))
    with session.no_autoflush:
        known = {
            row.problem_key: row
            for row in session.exec(
                select(DiscoveryProblem).where(DiscoveryProblem.device_id == device_id)
            )
        }
    bindings: list[dict[str, Any]] = []
    outcome = DiscoveryOutcome()
    keep: list[str] = []

    def problem(port: DeclaredPort, kind: PortProblemKind, detail: str, **data: Any) -> None:
        keep.append(problem_key(device_id, kind, port.name))
        if open_problem(
            session,
            device_id=device_id,
            kind=kind,
            port=port.name,
            detail=detail,
            now=now,
            interface_id=port.interface_id,
            data=data or None,
            known=known,
        ):
            text = f"{device.name} {port.name}: {kind.value.replace('_', ' ')}: {detail}"
            outcome.new_problems.append(text)
            log.warning("%s", text)

    for name, match in matching.matches.items():
        port = by_name[name]
        info = infos[match.if_index]
        measured = info.speed_bps
        bindings.append(
            {
                "interface_id": port.interface_id,
                "device_id": device_id,
                "if_index": match.if_index,
                "matched_by": match.matched_by.value,
                "if_name": info.if_name,
                "if_descr": info.descr,
                "speed_mbps": measured // 1_000_000 if measured is not None else None,
                "counter_bits": info.counter_bits,
                "discovered_at": now,
            }
        )
        outcome.bindings[match.if_index] = port.interface_id
        if match.if_index not in up:  # not judged now: an earlier judgement stands
            keep.append(problem_key(device_id, PortProblemKind.SPEED_MISMATCH, port.name))
            continue
        mismatch = speed_mismatch(port.speed_mbps, measured)
        if mismatch is not None:
            problem(
                port,
                PortProblemKind.SPEED_MISMATCH,
                mismatch,
                declared_mbps=port.speed_mbps,
                measured_mbps=(measured or 0) // 1_000_000,
            )
    for mismatch_ in matching.problems:
        problem(
            by_name[mismatch_.declared],
            mismatch_.kind,
            mismatch_.detail,
            candidates=list(mismatch_.candidates),
        )
    if bindings:
        session.execute(insert(PortBinding), bindings)
    resolve_problems(
        session, device_id=device_id, kinds=_DISCOVERY_KINDS, now=now, keep=keep, known=known
    )
    if discovery.identity is not None:
        outcome.events.extend(record_snmp_identity(session, device, discovery.identity, now=now))
    session.flush()
    return outcome


# -- reads for the console and the audit ------------------------------------------------------


@dataclass(frozen=True)
class ProblemView:
    device: str
    site: str
    port: str
    kind: str
    detail: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "device": self.device,
            "site": self.site,
            "port": self.port,
            "problem": self.kind,
            "detail": self.detail,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
        }


@dataclass(frozen=True)
class BindingView:
    port: str
    if_index: int
    matched_by: str
    if_name: str
    if_descr: str
    speed_mbps: int | None
    counter_bits: int


@dataclass(frozen=True)
class IdentityView:
    source: str
    vendor: str
    model: str
    serial: str
    os_version: str
    sys_name: str
    sys_descr: str
    sys_object_id: str
    observed_at: dt.datetime


@dataclass(frozen=True)
class DeviceDiscoveryView:
    device: str
    bindings: tuple[BindingView, ...]
    problems: tuple[ProblemView, ...]
    identities: tuple[IdentityView, ...]

    def summary(self) -> str:
        """One line for the console: how the ports matched and what is wrong."""
        if not self.bindings and not self.problems:
            return "not discovered yet"
        ways: dict[str, int] = {}
        for binding in self.bindings:
            ways[binding.matched_by] = ways.get(binding.matched_by, 0) + 1
        matched = ", ".join(f"{n} by {how}" for how, n in sorted(ways.items()))
        text = f"{len(self.bindings)} ports matched ({matched})" if self.bindings else "0 matched"
        if self.problems:
            kinds: dict[str, int] = {}
            for p in self.problems:
                kinds[p.kind] = kinds.get(p.kind, 0) + 1
            text += "; problems: " + ", ".join(
                f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(kinds.items())
            )
        return text


def _problem_views(session: Session, device_ids: Sequence[int] | None) -> list[ProblemView]:
    query = select(DiscoveryProblem, inv.Device, inv.Site).where(
        col(DiscoveryProblem.resolved_at).is_(None),
        DiscoveryProblem.device_id == inv.Device.id,
        inv.Device.site_id == inv.Site.id,
        col(inv.Device.retired_at).is_(None),
    )
    if device_ids is not None:
        query = query.where(col(DiscoveryProblem.device_id).in_(device_ids))
    views = [
        ProblemView(
            device=device.name,
            site=site.code,
            port=problem.port,
            kind=problem.kind,
            detail=problem.detail,
            first_seen_at=problem.first_seen_at,
            last_seen_at=problem.last_seen_at,
        )
        for problem, device, site in session.exec(query)
    ]
    return sorted(views, key=lambda v: (v.site, v.device, v.kind, v.port))


def device_discovery(session: Session, device_name: str) -> DeviceDiscoveryView | None:
    """What discovery decided about one device: bindings, open problems, identities."""
    device = session.exec(select(inv.Device).where(inv.Device.name == device_name)).first()
    if device is None or device.id is None:
        return None
    names = {
        i.id: i.name
        for i in session.exec(select(inv.Interface).where(inv.Interface.device_id == device.id))
    }
    bindings = tuple(
        sorted(
            (
                BindingView(
                    port=names.get(b.interface_id, str(b.interface_id)),
                    if_index=b.if_index,
                    matched_by=b.matched_by,
                    if_name=b.if_name,
                    if_descr=b.if_descr,
                    speed_mbps=b.speed_mbps,
                    counter_bits=b.counter_bits,
                )
                for b in session.exec(select(PortBinding).where(PortBinding.device_id == device.id))
            ),
            key=lambda b: b.if_index,
        )
    )
    identities = tuple(
        IdentityView(
            source=i.source,
            vendor=i.vendor,
            model=i.model,
            serial=i.serial,
            os_version=i.os_version,
            sys_name=i.sys_name,
            sys_descr=i.sys_descr,
            sys_object_id=i.sys_object_id,
            observed_at=i.observed_at,
        )
        for i in session.exec(
            select(DeviceIdentity)
            .where(DeviceIdentity.device_id == device.id)
            .order_by(col(DeviceIdentity.source))
        )
    )
    return DeviceDiscoveryView(
        device=device.name,
        bindings=bindings,
        problems=tuple(_problem_views(session, [device.id])),
        identities=identities,
    )


def port_audit(session: Session, *, site: str | None = None) -> list[ProblemView]:
    """Every open discovery problem (of one site's devices when `site` is a site code).

    Raises `LookupError` naming the site when there is no such site.
    """
    device_ids: list[int] | None = None
    if site is not None:
        found = session.exec(select(inv.Site).where(inv.Site.code == site)).first()
        if found is None:
            raise LookupError(f"no site with code {site!r}")
        device_ids = [
            d.id
            for d in session.exec(select(inv.Device).where(inv.Device.site_id == found.id))
            if d.id is not None
        ]
    return _problem_views(session, device_ids)


__all__ = [
    "IDENTITY_MISMATCH_EVENT",
    "IN_SERVICE_ROLES",
    "TRAFFIC_IF_TYPES",
    "UNDECLARED_TRAFFIC_BPS",
    "DeclaredPort",
    "DeviceDiscoveryView",
    "DiscoveryOutcome",
    "ProblemView",
    "device_discovery",
    "identity_conflicts",
    "open_problem",
    "os_version_of",
    "port_audit",
    "problem_key",
    "record_device_identity",
    "record_discovery",
    "record_snmp_identity",
    "resolve_problems",
    "vendor_names",
]
