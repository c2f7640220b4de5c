"""Bringing the store in line with the inventory files.

`sync_inventory` compares what the files say with what the store holds, table by table,
matching rows on natural keys, and reports every row it adds, changes, retires or restores.
A row that disappeared from the files is retired, never deleted. A second sync of the same
files changes nothing. A dry run walks the same path inside a transaction and rolls it back,
so what it shows is exactly what a real run would do.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlmodel import Session, SQLModel, select

from inventory import models
from inventory.schema import DeviceRole, LinkKind
from inventory.timeutil import require_aware
from inventory.validate import Inventory

Row = TypeVar("Row", bound=models.Tracked)


class ChangeKind(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    RETIRED = "retired"
    RESTORED = "restored"


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    entity: str
    key: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.fields:
            return f"{self.kind.value:<8} {self.entity} {self.key}"
        diffs = ", ".join(f"{name}: {old!r} → {new!r}" for name, (old, new) in self.fields.items())
        return f"{self.kind.value:<8} {self.entity} {self.key} ({diffs})"


@dataclass
class SyncReport:
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    guard: str | None = None
    """Why a real run of this plan would stop (a dry run shows the plan all the same)."""

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind is kind)

    @property
    def changed_anything(self) -> bool:
        return bool(self.changes)

    def totals(self) -> dict[str, int]:
        return {kind.value: self.count(kind) for kind in ChangeKind}

    def by_entity(self) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = {}
        for change in self.changes:
            table.setdefault(change.entity, Counter())[change.kind.value] += 1
        return table


class InventoryInvalidError(ValueError):
    def __init__(self, inventory: Inventory) -> None:
        super().__init__(
            f"the inventory at {inventory.root} has {len(inventory.errors)} error(s); "
            "run `ixops inventory validate` to see them"
        )
        self.inventory = inventory


DEFAULT_MAX_RETIRE_SHARE = 0.10
"""A sync that would retire more than this share of the active rows stops (see RetireGuardError)."""


class RetireGuardError(ValueError):
    """A sync would retire more than the allowed share of what exists: most likely a wrong or
    half-written inventory, not a decommissioning. Nothing was written; ``report`` is the plan."""

    def __init__(self, report: SyncReport, active: int, share: float) -> None:
        retired = report.count(ChangeKind.RETIRED)
        super().__init__(
            f"the sync would retire {retired} of {active} active rows "
            f"({100 * retired / active:.0f} %), more than the {100 * share:.0f} % allowed; "
            "nothing was synced (check the inventory path, or give --allow-retire)"
        )
        self.report = report
        self.active = active
        self.share = share


class _Syncer:
    def __init__(self, session: Session, now: dt.datetime, report: SyncReport) -> None:
        self.session = session
        self.now = now
        self.report = report
        self.active_before = 0
        # id → natural key, per table, so that changed foreign keys read as names.
        self.labels: dict[str, dict[int, str]] = {}

    def table(
        self,
        model: type[Row],
        entity: str,
        desired: dict[str, dict[str, Any]],
        key_of: Callable[[Row], str],
    ) -> dict[str, Row]:
        existing = {key_of(row): row for row in self.session.exec(select(model)).all()}
        self.active_before += sum(1 for row in existing.values() if row.retired_at is None)
        result: dict[str, Row] = {}
        added: list[str] = []
        for key, values in desired.items():
            row = existing.get(key)
            if row is None:
                added.append(key)
                self.report.changes.append(Change(ChangeKind.ADDED, entity, key))
                continue
            else:
                diffs = {
                    name: (self._show(name, getattr(row, name)), self._show(name, new))
                    for name, new in values.items()
                    if getattr(row, name) != new
                }
                if row.retired_at is not None:
                    row.retired_at = None
                    row.updated_at = self.now
                    self.report.changes.append(Change(ChangeKind.RESTORED, entity, key, diffs))
                elif diffs:
                    self.report.changes.append(Change(ChangeKind.CHANGED, entity, key, diffs))
                if diffs:
                    for name, new in values.items():
                        setattr(row, name, new)
                    row.updated_at = self.now
                    self.session.add(row)
            result[key] = row
        for key, row in existing.items():
            if key not in desired and row.retired_at is None:
                row.retired_at = self.now
                row.updated_at = self.now
                self.session.add(row)
                self.report.changes.append(Change(ChangeKind.RETIRED, entity, key))
        if added:
            # One INSERT … RETURNING for all the new rows, with the model's defaults filled in
            # as model(**values) would: building and flushing them one ORM object at a time
            # made the first sync of a big exchange several times slower than its rows need.
            self.session.flush()
            rows = self.session.scalars(
                insert(model).returning(model, sort_by_parameter_order=True),
                [_with_defaults(model, desired[key], self.now) for key in added],
            ).all()
            result.update(zip(added, rows, strict=True))
            result = {key: result[key] for key in desired}
        self.labels[model.__name__] = {
            row_id: key
            for key, row in {**existing, **result}.items()
            if (row_id := getattr(row, "id", None)) is not None
        }
        return result

    def _show(self, name: str, value: Any) -> Any:
        owners = {
            "site_id": "Site",
            "room_id": "Room",
            "rack_id": "Rack",
            "device_id": "Device",
            "access_unit_id": "AccessUnit",
            "circuit_id": "Circuit",
            "a_interface_id": "Interface",
            "b_interface_id": "Interface",
        }
        if name in owners and isinstance(value, int):
            return self.labels.get(owners[name], {}).get(value, value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return value


def _with_defaults(
    model: type[SQLModel], values: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "id":
            continue
        if name in values:
            row[name] = values[name]
        elif not info.is_required():
            row[name] = info.get_default(call_default_factory=True)
    row["created_at"] = row["updated_at"] = now
    return row


def _id(row: models.Tracked) -> int:
    row_id = getattr(row, "id", None)
    if not isinstance(row_id, int):
        raise RuntimeError(f"{type(row).__name__} row has no id after flush")
    return row_id


def sync_inventory(
    *,
    session: Session,
    inventory: Inventory,
    now: dt.datetime,
    dry_run: bool = False,
    allow_retire: bool = False,
    max_retire_share: float = DEFAULT_MAX_RETIRE_SHARE,
) -> SyncReport:
    """Make the store match `inventory`; commit unless `dry_run` (then roll back).

    A sync that would retire more than ``max_retire_share`` of the store's active rows rolls
    back and raises RetireGuardError (with the plan) unless ``allow_retire``."""
    if not inventory.ok:
        raise InventoryInvalidError(inventory)
    now = require_aware(now, "sync time")
    report = SyncReport(dry_run=dry_run)
    s = _Syncer(session, now, report)
    try:
        _sync_all(s, inventory)
        retired = report.count(ChangeKind.RETIRED)
        if not allow_retire and s.active_before and retired > max_retire_share * s.active_before:
            session.rollback()
            guard = RetireGuardError(report, s.active_before, max_retire_share)
            if not dry_run:
                raise guard
            report.guard = str(guard)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def _sync_all(s: _Syncer, inv: Inventory) -> None:
    sites = s.table(
        models.Site,
        "site",
        {
            x.value.code: {
                "code": x.value.code,
                "name": x.value.name,
                "name_zh": x.value.name_zh,
                "kind": x.value.kind.value,
                "address": x.value.address,
                "timezone": x.value.timezone,
            }
            for x in inv.sites
        },
        lambda row: row.code,
    )
    site_code = {_id(row): code for code, row in sites.items()}
    site_code.update(s.labels["Site"])

    rooms = s.table(
        models.Room,
        "room",
        {
            f"{x.value.code}/{room.name}": {
                "site_id": _id(sites[x.value.code]),
                "name": room.name,
                "floor": room.floor,
            }
            for x in inv.sites
            for room in x.value.rooms
        },
        lambda row: f"{site_code[row.site_id]}/{row.name}",
    )
    racks = s.table(
        models.Rack,
        "rack",
        {
            f"{x.value.code}/{rack.name}": {
                "site_id": _id(sites[x.value.code]),
                "room_id": _id(rooms[f"{x.value.code}/{room.name}"]),
                "name": rack.name,
                "units": rack.units,
                "description": rack.description,
            }
            for x in inv.sites
            for room in x.value.rooms
            for rack in room.racks
        },
        lambda row: f"{site_code[row.site_id]}/{row.name}",
    )
    circuits = s.table(
        models.Circuit,
        "circuit",
        {
            lk.value.circuit.id: {
                "circuit_id": lk.value.circuit.id,
                "carrier": lk.value.circuit.carrier,
                "monthly_rent_cny": lk.value.circuit.monthly_rent_cny,
                "bandwidth_mbps": lk.value.circuit.bandwidth,
                "starts_on": lk.value.circuit.starts_on,
                "ends_on": lk.value.circuit.ends_on,
                "noc_name": lk.value.circuit.noc.name if lk.value.circuit.noc else None,
                "noc_phone": lk.value.circuit.noc.phone if lk.value.circuit.noc else None,
                "noc_email": lk.value.circuit.noc.email if lk.value.circuit.noc else None,
            }
            for lk in inv.links
            if lk.value.circuit is not None
        },
        lambda row: row.circuit_id,
    )
    units = s.table(
        models.AccessUnit,
        "access unit",
        {
            x.value.code: {
                "code": x.value.code,
                "name": x.value.name,
                "name_zh": x.value.name_zh,
                "asn": x.value.asn,
            }
            for x in inv.access_units
        },
        lambda row: row.code,
    )
    unit_code = dict(s.labels["AccessUnit"])
    s.table(
        models.Contact,
        "contact",
        {
            f"{x.value.code}/{c.name}": {
                "access_unit_id": _id(units[x.value.code]),
                "name": c.name,
                "role": c.role.value,
                "priority": c.priority,
                "phone": c.phone,
                "email": c.email,
                "wecom": c.wecom,
                "dingtalk": c.dingtalk,
            }
            for x in inv.access_units
            for c in x.value.contacts
        },
        lambda row: f"{unit_code[row.access_unit_id]}/{row.name}",
    )
    devices = s.table(
        models.Device,
        "device",
        {
            d.value.name: {
                "name": d.value.name,
                "site_id": _id(sites[d.value.site]),
                "rack_id": _id(racks[f"{d.value.site}/{d.value.rack}"]),
                "position": d.value.position,
                "role": d.value.role.value,
                "vendor": d.value.vendor,
                "model": d.value.model,
                "platform": d.value.platform,
                "serial": d.value.serial,
                "asset_tag": d.value.asset_tag,
                "maintenance_vendor": m.vendor if (m := d.value.maintenance) else None,
                "maintenance_contract": m.contract if m else None,
                "maintenance_expires": m.expires if m else None,
                "mgmt_address": d.value.management.address,
                "snmp_port": d.value.management.snmp_port,
                "ssh_port": d.value.management.ssh_port,
                "snmp_profile": d.value.credentials.snmp,
                "ssh_profile": d.value.credentials.ssh,
            }
            for d in inv.devices
        },
        lambda row: row.name,
    )
    device_name = dict(s.labels["Device"])
    interfaces = s.table(
        models.Interface,
        "interface",
        {
            f"{d.value.name}:{name}": {
                "device_id": _id(devices[d.value.name]),
                "name": name,
                "role": interface.role.value,
                "speed_mbps": interface.speed,
                "description": interface.description,
            }
            for d in inv.devices
            for _, interface, name in d.value.expanded_interfaces()
        },
        lambda row: f"{device_name[row.device_id]}:{row.name}",
    )

    links: dict[str, dict[str, Any]] = {}
    for lk in inv.links:
        a = f"{lk.value.a.device}:{lk.value.a.interface}"
        b = f"{lk.value.b.device}:{lk.value.b.interface}"
        first, second = sorted((a, b))
        links[f"{first}<->{second}"] = {
            "kind": LinkKind.TRUNK.value,
            "a_interface_id": _id(interfaces[first]),
            "b_interface_id": _id(interfaces[second]),
            "access_unit_id": None,
            "circuit_id": _id(circuits[lk.value.circuit.id]) if lk.value.circuit else None,
            "description": lk.value.description,
            "ipv4": None,
            "ipv6": None,
        }
    for x in inv.access_units:
        for port in x.value.ports:
            end = f"{port.device}:{port.interface}"
            links[f"{x.value.code}@{end}"] = {
                "kind": LinkKind.MEMBER.value,
                "a_interface_id": _id(interfaces[end]),
                "b_interface_id": None,
                "access_unit_id": _id(units[x.value.code]),
                "circuit_id": None,
                "description": f"{x.value.name} (AS{x.value.asn})",
                "ipv4": port.ipv4,
                "ipv6": port.ipv6,
            }
    s.table(
        models.Link,
        "link",
        {key: {"key": key, **values} for key, values in links.items()},
        lambda row: row.key,
    )


def store_site_codes(session: Session) -> list[str]:
    """Active site codes, main room first, then in the order they were added."""
    sites = [x for x in session.exec(select(models.Site)).all() if x.retired_at is None]
    sites.sort(key=lambda x: (x.kind != "main", x.id or 0))
    return [x.code for x in sites]


def store_summary(session: Session, site: str | None = None) -> dict[str, Any]:
    """The same counts as `Inventory.summary`, over the store's active (not retired) rows."""

    def active(model: type[Row]) -> list[Row]:
        rows = session.exec(select(model)).all()
        return [row for row in rows if row.retired_at is None]

    sites = [x for x in active(models.Site) if site is None or x.code == site]
    site_ids = {x.id for x in sites}
    rooms = [x for x in active(models.Room) if x.site_id in site_ids]
    racks = [x for x in active(models.Rack) if x.site_id in site_ids]
    devices = [x for x in active(models.Device) if x.site_id in site_ids]
    device_ids = {x.id for x in devices}
    interfaces = [x for x in active(models.Interface) if x.device_id in device_ids]
    local_ports = {x.id for x in interfaces}
    links = [
        x
        for x in active(models.Link)
        if x.a_interface_id in local_ports or x.b_interface_id in local_ports
    ]
    members = [x for x in links if x.kind == LinkKind.MEMBER.value]
    trunks = [x for x in links if x.kind == LinkKind.TRUNK.value]
    unit_ids = {x.access_unit_id for x in members}
    units = [x for x in active(models.AccessUnit) if site is None or x.id in unit_ids]
    counted_units = {x.id for x in units}
    by_role = Counter(x.role for x in devices)
    return {
        "sites": len(sites),
        "rooms": len(rooms),
        "racks": len(racks),
        "devices": len(devices),
        "devices_by_role": {role.value: by_role.get(role.value, 0) for role in DeviceRole},
        "interfaces": len(interfaces),
        "links": len(links),
        "trunk_links": len(trunks),
        "member_links": len(members),
        "leased_circuits": sum(1 for x in trunks if x.circuit_id is not None),
        "access_units": len(units),
        "contacts": sum(1 for x in active(models.Contact) if x.access_unit_id in counted_units),
    }
