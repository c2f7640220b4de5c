"""Loading an inventory directory and checking it as a whole.

Every problem is collected, none stops the others from being found, and each is reported as
`file:line: message` so that an engineer can fix a whole pull request in one pass.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from inventory.schema import (
    AccessUnit,
    Credentials,
    Device,
    DeviceRole,
    InterfaceRole,
    Link,
    LinkKind,
    Model,
    Site,
    SnmpProfile,
    SnmpVersion,
    SshProfile,
    field_vocabulary,
)
from inventory.source import (
    MAX_FILE_BYTES,
    LineDict,
    LineList,
    Location,
    SourceError,
    load_yaml,
    location_of,
    schema_message,
    suggest,
)

M = TypeVar("M", bound=Model)

KNOWN_SECTIONS = ("sites", "devices", "links", "access_units", "credentials")


@dataclass(frozen=True, order=True)
class InventoryError:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class Located(Generic[M]):
    """A parsed inventory entry and the place it was written."""

    value: M
    location: Location
    raw: Any = field(repr=False, compare=False, default=None)

    def where(self, *path: str | int) -> Location:
        return location_of(self.raw, path, self.location)


@dataclass
class Inventory:
    """A whole inventory, parsed; `errors` is empty when it is fit to sync."""

    root: str
    files: list[str] = field(default_factory=list)
    sites: list[Located[Site]] = field(default_factory=list)
    devices: list[Located[Device]] = field(default_factory=list)
    links: list[Located[Link]] = field(default_factory=list)
    access_units: list[Located[AccessUnit]] = field(default_factory=list)
    snmp_profiles: list[Located[SnmpProfile]] = field(default_factory=list)
    ssh_profiles: list[Located[SshProfile]] = field(default_factory=list)
    errors: list[InventoryError] = field(default_factory=list)
    # Names of entries that exist in the files but failed their own checks: references to
    # them are not reported again as "unknown", which would only bury the real error.
    unparsed: dict[str, set[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, location: Location, message: str) -> None:
        self.errors.append(InventoryError(location, message))

    def summary(self, site: str | None = None) -> dict[str, Any]:
        """Counts an engineer checks at a glance (the same shape as the store's summary)."""
        sites = [s.value for s in self.sites if site is None or s.value.code == site]
        devices = [d.value for d in self.devices if site is None or d.value.site == site]
        names = {d.name for d in devices}
        links = [
            lk.value
            for lk in self.links
            if site is None or {lk.value.a.device, lk.value.b.device} & names
        ]
        units = [
            u.value
            for u in self.access_units
            if site is None or any(p.device in names for p in u.value.ports)
        ]
        member_links = sum(1 for u in units for p in u.ports if site is None or p.device in names)
        by_role = Counter(d.role.value for d in devices)
        return {
            "sites": len(sites),
            "rooms": sum(len(s.rooms) for s in sites),
            "racks": sum(len(r.racks) for s in sites for r in s.rooms),
            "devices": len(devices),
            "devices_by_role": {role.value: by_role.get(role.value, 0) for role in DeviceRole},
            "interfaces": sum(len(d.expanded_interfaces()) for d in devices),
            "links": len(links) + member_links,
            "trunk_links": sum(1 for lk in links if lk.kind is LinkKind.TRUNK),
            "member_links": member_links,
            "leased_circuits": sum(1 for lk in links if lk.circuit is not None),
            "access_units": len(units),
            "contacts": sum(len(u.contacts) for u in units),
        }


def _parse(
    inventory: Inventory, model: type[M], raw: Any, location: Location, what: str
) -> M | None:
    if not isinstance(raw, LineDict):
        inventory.error(location, f"{what}: expected a mapping of fields, got {_kind(raw)}")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            path = tuple(err["loc"])
            where = location_of(raw, path, location)
            if err["type"] == "missing":
                where = location_of(raw, path[:-1], location)
            inventory.error(where, f"{what}: {schema_message(err, field_vocabulary())}")
        return None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


def _label(raw: Any, index: int, key: str, singular: str) -> str:
    if isinstance(raw, dict) and isinstance(raw.get(key), str | int):
        return f"{singular} {raw[key]}"
    return f"{singular} #{index + 1}"


def inventory_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_inventory(path: Path, *, max_file_bytes: int = MAX_FILE_BYTES) -> Inventory:
    """Read and check an inventory file or directory; problems land in `.errors` (a file over
    ``max_file_bytes`` is one, and is not read)."""
    inventory = Inventory(root=str(path))
    if not path.exists():
        inventory.error(Location(str(path), 0), "no such file or directory")
        return inventory
    files = inventory_files(path)
    if not files:
        inventory.error(Location(str(path), 0), "no .yaml or .yml files in this directory")
        return inventory
    base = path if path.is_dir() else path.parent
    for file in files:
        shown = str(file.relative_to(base)) if path.is_dir() else str(file)
        shown = str(Path(path.name) / shown) if path.is_dir() else shown
        inventory.files.append(shown)
        _read_file(inventory, file, shown, max_file_bytes)
    _check_references(inventory)
    _check_not_empty(inventory)
    inventory.errors.sort()
    return inventory


def _check_not_empty(inventory: Inventory) -> None:
    """No sites or no devices is an error, not an empty exchange: synced, such an inventory
    would retire everything the store knows (a wrong path, a file emptied by a bad merge).
    Only said of an inventory with no other error: a file that failed to parse explains it."""
    if inventory.errors:
        return
    where = Location(inventory.files[0] if inventory.files else inventory.root, 1)
    for section, entries in (("sites", inventory.sites), ("devices", inventory.devices)):
        if not entries and not inventory.unparsed.get(section):
            inventory.error(
                where,
                f"the inventory defines no {section}: an exchange has at least one "
                "(is this the right path? an empty inventory would retire everything)",
            )


def _read_file(inventory: Inventory, file: Path, shown: str, max_bytes: int) -> None:
    try:
        document = load_yaml(file, shown, max_bytes=max_bytes)
    except SourceError as exc:
        inventory.error(exc.location, exc.message)
        return
    top = Location(shown, 1)
    if document is None:
        return  # an empty file is allowed: a site with nothing yet
    if not isinstance(document, LineDict):
        inventory.error(top, f"expected a mapping with sections {', '.join(KNOWN_SECTIONS)}")
        return
    for section, body in document.items():
        where = document.key_locations[section]
        if section not in KNOWN_SECTIONS:
            inventory.error(where, f"unknown section {section!r}{suggest(section, KNOWN_SECTIONS)}")
            continue
        if section == "credentials":
            creds = _parse(inventory, Credentials, body, where, "credentials")
            if creds is not None:
                for index, snmp in enumerate(creds.snmp):
                    inventory.snmp_profiles.append(_located(snmp, body, ("snmp", index), where))
                for index, ssh in enumerate(creds.ssh):
                    inventory.ssh_profiles.append(_located(ssh, body, ("ssh", index), where))
            continue
        if not isinstance(body, LineList):
            inventory.error(where, f"section {section!r} must be a list, got {_kind(body)}")
            continue
        specs: dict[str, tuple[type[Model], str, str]] = {
            "sites": (Site, "site", "code"),
            "devices": (Device, "device", "name"),
            "links": (Link, "link", "description"),
            "access_units": (AccessUnit, "access unit", "code"),
        }
        model, singular, key = specs[section]
        for index, raw in enumerate(body):
            loc = body.item_locations[index]
            parsed = _parse(inventory, model, raw, loc, _label(raw, index, key, singular))
            if parsed is not None:
                getattr(inventory, section).append(Located(parsed, loc, raw))
            elif isinstance(raw, dict) and isinstance(raw.get(key), str):
                inventory.unparsed.setdefault(section, set()).add(raw[key])


def _located(value: M, body: Any, path: tuple[str, int], fallback: Location) -> Located[M]:
    raw_list = body.get(path[0]) if isinstance(body, LineDict) else None
    raw = raw_list[path[1]] if isinstance(raw_list, LineList) else None
    return Located(value, location_of(body, path, fallback), raw)


def _known_platforms() -> set[str]:
    # netmiko's own table is the truth about which device_type strings exist.
    from netmiko.ssh_dispatcher import CLASS_MAPPER

    return set(CLASS_MAPPER)


def _check_references(inv: Inventory) -> None:
    # Sites, rooms, racks.
    sites: dict[str, Located[Site]] = {}
    racks: dict[tuple[str, str], str] = {}
    for site in inv.sites:
        code = site.value.code
        if code in sites:
            inv.error(
                site.where("code"),
                f"duplicate site code {code!r} (first defined at {sites[code].location})",
            )
            continue
        sites[code] = site
        rooms_seen: set[str] = set()
        for r_index, room in enumerate(site.value.rooms):
            if room.name in rooms_seen:
                inv.error(
                    site.where("rooms", r_index, "name"),
                    f"site {code}: duplicate room name {room.name!r}",
                )
            rooms_seen.add(room.name)
            for k_index, rack in enumerate(room.racks):
                if (code, rack.name) in racks:
                    inv.error(
                        site.where("rooms", r_index, "racks", k_index, "name"),
                        f"site {code}: duplicate rack name {rack.name!r} "
                        f"(also in room {racks[(code, rack.name)]!r})",
                    )
                racks[(code, rack.name)] = room.name

    snmp_names = _unique_profiles(inv, inv.snmp_profiles, "SNMP")
    ssh_names = _unique_profiles(inv, inv.ssh_profiles, "SSH")
    for profile in inv.snmp_profiles:
        p = profile.value
        if p.version is SnmpVersion.V3 and p.priv_protocol and not p.auth_protocol:
            inv.error(
                profile.where("priv_protocol"),
                f"SNMP profile {p.name}: privacy needs an auth_protocol too (authPriv)",
            )

    # Devices and their interfaces.
    devices: dict[str, Located[Device]] = {}
    ports: dict[str, dict[str, InterfaceRole]] = {}
    speeds: dict[tuple[str, str], int] = {}
    addresses: dict[tuple[str, int], str] = {}
    slots: dict[tuple[str, str, int], str] = {}
    platforms: set[str] | None = None
    for device in inv.devices:
        d = device.value
        if d.name in devices:
            inv.error(
                device.where("name"),
                f"duplicate device name {d.name!r} (first defined at {devices[d.name].location})",
            )
            continue
        devices[d.name] = device
        if d.site in inv.unparsed.get("sites", set()):
            pass
        elif d.site not in sites:
            inv.error(
                device.where("site"),
                f"device {d.name}: unknown site {d.site!r}{suggest(d.site, sites)}",
            )
        elif (d.site, d.rack) not in racks:
            site_racks = sorted(name for (code, name) in racks if code == d.site)
            inv.error(
                device.where("rack"),
                f"device {d.name}: unknown rack {d.rack!r} in site {d.site}"
                f"{suggest(d.rack, site_racks)}",
            )
        elif d.position is not None:
            slot = (d.site, d.rack, d.position)
            if slot in slots:
                inv.error(
                    device.where("position"),
                    f"device {d.name}: rack {d.rack} position {d.position} "
                    f"is already taken by {slots[slot]}",
                )
            slots[slot] = d.name
        endpoint = (d.management.address, d.management.snmp_port)
        if endpoint in addresses:
            inv.error(
                device.where("management", "address"),
                f"device {d.name}: management address {d.management.address} "
                f"(SNMP port {d.management.snmp_port}) is also used by {addresses[endpoint]}",
            )
        addresses[endpoint] = d.name
        if d.credentials.snmp is not None and d.credentials.snmp not in snmp_names:
            inv.error(
                device.where("credentials", "snmp"),
                f"device {d.name}: SNMP credential profile {d.credentials.snmp!r} is not defined"
                f"{suggest(d.credentials.snmp, snmp_names)}",
            )
        if d.credentials.ssh is not None and d.credentials.ssh not in ssh_names:
            inv.error(
                device.where("credentials", "ssh"),
                f"device {d.name}: SSH credential profile {d.credentials.ssh!r} is not defined"
                f"{suggest(d.credentials.ssh, ssh_names)}",
            )
        if d.platform is not None:
            platforms = platforms if platforms is not None else _known_platforms()
            if d.platform not in platforms:
                inv.error(
                    device.where("platform"),
                    f"device {d.name}: unknown platform {d.platform!r} (a netmiko device_type)"
                    f"{suggest(d.platform, platforms)}",
                )
        if d.credentials.ssh is not None and d.platform is None:
            inv.error(
                device.where("credentials", "ssh"),
                f"device {d.name}: an SSH profile needs a platform (netmiko device_type)",
            )
        names: dict[str, InterfaceRole] = {}
        for index, interface, name in d.expanded_interfaces():
            if name in names:
                inv.error(
                    device.where("interfaces", index, "name"),
                    f"device {d.name}: duplicate interface {name!r}",
                )
            names[name] = interface.role
            speeds[(d.name, name)] = interface.speed
        ports[d.name] = names

    # Every port serves at most one link or access unit.
    used: dict[tuple[str, str], str] = {}

    def check_endpoint(
        owner: Located[Any], path: tuple[str | int, ...], device: str, interface: str, what: str
    ) -> bool:
        where = owner.where(*path)
        if device in inv.unparsed.get("devices", set()) and device not in devices:
            return False
        if device not in devices:
            inv.error(where, f"{what}: unknown device {device!r}{suggest(device, devices)}")
            return False
        if interface not in ports.get(device, {}):
            inv.error(
                owner.where(*path[:-1], "interface") if path[-1] == "device" else where,
                f"{what}: device {device} has no interface {interface!r}"
                f"{suggest(interface, ports.get(device, {}))}",
            )
            return False
        key = (device, interface)
        if key in used:
            inv.error(
                owner.where(*path[:-1], "interface") if path[-1] == "device" else where,
                f"{what}: port {device} {interface} is already used by {used[key]}",
            )
            return False
        used[key] = what
        return True

    circuits: dict[str, Location] = {}
    for link in inv.links:
        lk = link.value
        what = f"link {lk.a.device} {lk.a.interface} — {lk.b.device} {lk.b.interface}"
        ok_a = check_endpoint(link, ("a", "device"), lk.a.device, lk.a.interface, what)
        ok_b = check_endpoint(link, ("b", "device"), lk.b.device, lk.b.interface, what)
        if lk.kind is LinkKind.MEMBER:
            inv.error(
                link.where("kind"),
                f"{what}: member links are declared under access_units.ports, not links",
            )
        if lk.a.device == lk.b.device:
            inv.error(link.where("b", "device"), f"{what}: both ends are on the same device")
        elif ok_a and ok_b:
            for end, ep in (("a", lk.a), ("b", lk.b)):
                role = ports[ep.device][ep.interface]
                if role not in (InterfaceRole.TRUNK, InterfaceRole.UPLINK):
                    inv.error(
                        link.where(end, "interface"),
                        f"{what}: {ep.device} {ep.interface} is a {role.value} port; "
                        "a trunk needs trunk or uplink ports",
                    )
            speed_a = speeds[(lk.a.device, lk.a.interface)]
            speed_b = speeds[(lk.b.device, lk.b.interface)]
            if speed_a != speed_b:
                inv.error(
                    link.where("b", "interface"),
                    f"{what}: speeds differ ({speed_a} Mb/s and {speed_b} Mb/s)",
                )
        if lk.circuit is not None:
            if lk.circuit.id in circuits:
                inv.error(
                    link.where("circuit", "id"),
                    f"{what}: circuit {lk.circuit.id!r} is also used at {circuits[lk.circuit.id]}",
                )
            circuits[lk.circuit.id] = link.where("circuit", "id")

    units: dict[str, Located[AccessUnit]] = {}
    for unit in inv.access_units:
        u = unit.value
        if u.code in units:
            inv.error(
                unit.where("code"),
                f"duplicate access unit code {u.code!r} "
                f"(first defined at {units[u.code].location})",
            )
            continue
        units[u.code] = unit
        what = f"access unit {u.code}"
        for index, port in enumerate(u.ports):
            path: tuple[str | int, ...] = ("ports", index, "device")
            if check_endpoint(unit, path, port.device, port.interface, what):
                role = ports[port.device][port.interface]
                if role is not InterfaceRole.MEMBER:
                    inv.error(
                        unit.where("ports", index, "interface"),
                        f"{what}: {port.device} {port.interface} is a {role.value} port; "
                        "members connect to member ports",
                    )
        seen: set[str] = set()
        for index, contact in enumerate(u.contacts):
            if contact.name in seen:
                inv.error(
                    unit.where("contacts", index, "name"),
                    f"{what}: duplicate contact {contact.name!r}",
                )
            seen.add(contact.name)
            if contact.phone is None and contact.email is None:
                inv.error(
                    unit.where("contacts", index),
                    f"{what}: contact {contact.name!r} needs a phone or an email",
                )
        if not any(c.role.value == "technical" for c in u.contacts):
            inv.error(
                unit.where("contacts"),
                f"{what}: no technical contact (the 1+N model needs one per access unit)",
            )


def _unique_profiles(
    inv: Inventory, profiles: list[Located[SnmpProfile]] | list[Located[SshProfile]], kind: str
) -> set[str]:
    names: dict[str, Location] = {}
    for profile in profiles:
        name = profile.value.name
        if name in names:
            inv.error(
                profile.where("name"),
                f"duplicate {kind} credential profile {name!r} (first defined at {names[name]})",
            )
        names[name] = profile.location
    return set(names)


def _pydantic_message(error: Any) -> str:
    """The inventory's wording of one pydantic error, for other YAML kinds that want it (the
    targets and SLA policy files): :func:`inventory.source.schema_message` with the
    inventory's field names."""
    return schema_message(error, field_vocabulary())
